//! What the HTML report shows, gathered from the gate, coverage, fuzz and compat outputs and the
//! benchmark history, before any HTML is written (so the model is testable on its own).

use contracts_core::Registry;
use contracts_core::check::{self, Layout, Report};
use contracts_core::fixtures;
use contracts_core::runner::coverage::{self, Coverage, ItemKind, TypeCoverage};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The coverage kinds, in heat-map column order.
pub(crate) const KINDS: [ItemKind; 6] = [
    ItemKind::EnumValue,
    ItemKind::Branch,
    ItemKind::Then,
    ItemKind::Else,
    ItemKind::Present,
    ItemKind::Absent,
];

/// Everything on the page.
#[derive(Debug, Default)]
pub(crate) struct ReportData {
    /// True when every check passed and no fuzz run failed.
    pub(crate) passed: bool,
    /// One line under the verdict.
    pub(crate) headline: String,
    /// Key figures (label, value).
    pub(crate) figures: Vec<(String, String)>,
    /// Reasons a pass means less than it seems.
    pub(crate) warnings: Vec<String>,
    pub(crate) failures: Vec<FailureView>,
    /// Column titles of the heat map.
    pub(crate) kinds: Vec<String>,
    pub(crate) coverage: Vec<CoverageRow>,
    pub(crate) compat: Vec<CompatRow>,
    pub(crate) bench: Vec<BenchSeries>,
    /// What the benchmark plot's values are.
    pub(crate) bench_metric: String,
    /// Commits of the benchmark history, oldest first (the plot's x axis).
    pub(crate) bench_commits: Vec<String>,
    /// The inputs the page was built from.
    pub(crate) sources: Vec<String>,
}

/// One failure, with everything needed to reproduce it.
#[derive(Debug, Clone)]
pub(crate) struct FailureView {
    /// `check`, `fuzz-consumer`, ...
    pub(crate) source: String,
    /// The violated rule (check name, fuzz finding kind).
    pub(crate) rule: String,
    /// What failed (an event type, a file).
    pub(crate) subject: String,
    pub(crate) message: String,
    /// The minimal event, pretty-printed, when there is one.
    pub(crate) event: Option<String>,
    pub(crate) seed: Option<u64>,
    /// Commands that reproduce it.
    pub(crate) replay: Vec<String>,
}

/// Coverage of one event type: per kind, `(covered, total)`, `None` where it has no such item.
#[derive(Debug, Clone)]
pub(crate) struct CoverageRow {
    pub(crate) event_type: String,
    pub(crate) major: u64,
    pub(crate) cells: Vec<Option<(usize, usize)>>,
    /// The uncovered items, for the cell tooltips, per kind.
    pub(crate) missing: Vec<Vec<String>>,
}

/// One schema in a compat comparison.
#[derive(Debug, Clone)]
pub(crate) struct CompatRow {
    pub(crate) schema: String,
    /// `compatible`, `incompatible`, `undecided`, `added`, `removed`, `failed`.
    pub(crate) verdict: String,
    pub(crate) detail: String,
}

/// A benchmark cell's values, one per commit of the history (`None` where it was not measured).
#[derive(Debug, Clone)]
pub(crate) struct BenchSeries {
    pub(crate) name: String,
    pub(crate) values: Vec<Option<f64>>,
}

/// The inputs of a report.
#[derive(Debug, Default)]
pub(crate) struct Inputs {
    /// JSON Lines written by `fuzz-consumer`/`fuzz-processor --format json`.
    pub(crate) fuzz: Vec<PathBuf>,
    /// JSON Lines written by `compat --format json`.
    pub(crate) compat: Vec<PathBuf>,
    /// `bench-track` summaries (files, or directories of `*.json`), one point per commit.
    pub(crate) bench: Vec<PathBuf>,
}

/// Gather the page for the repository at `root` from the gate's `report` and `inputs`.
///
/// # Errors
/// An input file that cannot be read or is not what it should be, named with its line.
pub(crate) fn gather(root: &Path, report: &Report, inputs: &Inputs) -> Result<ReportData, String> {
    let mut data = ReportData {
        kinds: KINDS
            .iter()
            .map(|k| super::findings::kind_str(*k))
            .collect(),
        ..ReportData::default()
    };
    gate(root, report, &mut data);
    let layout = Layout::at(root);
    match Registry::load(&layout.specs) {
        Ok(registry) => coverage_rows(&registry, &layout, &mut data),
        Err(_) => data
            .warnings
            .push("coverage not measured: the schemas do not load (see the failures)".into()),
    }
    for path in &inputs.fuzz {
        fuzz_run(path, &mut data)?;
    }
    for path in &inputs.compat {
        compat_run(path, &mut data)?;
    }
    bench_history(&inputs.bench, &mut data)?;
    finish(&mut data);
    Ok(data)
}

/// The verdict and its line, once everything is on the page.
fn finish(data: &mut ReportData) {
    data.passed = data.failures.is_empty();
    let failed = data.failures.len();
    data.headline = if data.passed {
        format!(
            "every check passed{}",
            if data.warnings.is_empty() {
                String::new()
            } else {
                format!(", with {} warning(s) below", data.warnings.len())
            }
        )
    } else {
        format!("{failed} failure(s): each is listed below with the command that reproduces it")
    };
}

fn gate(root: &Path, report: &Report, data: &mut ReportData) {
    data.sources
        .push(format!("contracts check --root {}", root.display()));
    data.figures = vec![
        ("check cases".into(), report.cases.len().to_string()),
        ("failed".into(), report.failed().count().to_string()),
        ("event types".into(), report.event_types.to_string()),
        ("schemas".into(), report.schemas.to_string()),
        (
            "fixtures".into(),
            format!(
                "{} ({} valid, {} invalid)",
                report.fixtures, report.valid_fixtures, report.invalid_fixtures
            ),
        ),
        ("corpus files".into(), report.corpus.to_string()),
    ];
    if report.baseline.is_none() {
        data.warnings.push(
            "versioning was not checked: no baseline revision, so an incompatible schema change would pass".into(),
        );
    }
    if report.fixtures == 0 {
        data.warnings
            .push("no golden fixtures were replayed: the schemas were never exercised".into());
    }
    if report.corpus == 0 {
        data.warnings
            .push("the regression corpus is empty: no past counterexample was replayed".into());
    }
    for case in report.failed() {
        for f in &case.failures {
            let replay = match case.check {
                "replay" => f
                    .split(": ")
                    .next()
                    .map(|file| {
                        vec![format!(
                            "contracts replay {}",
                            file.trim_start_matches("./")
                        )]
                    })
                    .unwrap_or_default(),
                _ => vec![format!("contracts check --root {}", root.display())],
            };
            data.failures.push(FailureView {
                source: "check".into(),
                rule: case.check.to_owned(),
                subject: case.subject.clone(),
                message: f.clone(),
                event: replay_event(root, case.check, f),
                seed: None,
                replay,
            });
        }
    }
}

/// The event of a failed fixture, pretty-printed (its minimal event is the fixture itself).
fn replay_event(root: &Path, check: &str, failure: &str) -> Option<String> {
    if check != "replay" {
        return None;
    }
    let file = failure.split(": ").next()?;
    let path = if Path::new(file).is_absolute() {
        PathBuf::from(file)
    } else {
        root.join(file)
    };
    let fixture = fixtures::load_file(&path).ok()?;
    serde_json::to_string_pretty(&fixture.event).ok()
}

fn coverage_rows(registry: &Registry, layout: &Layout, data: &mut ReportData) {
    let Ok(files) = fixtures::load_dir(&layout.fixtures) else {
        return;
    };
    let events: Vec<Value> = files
        .into_iter()
        .filter(|f| f.fixture.valid)
        .map(|f| f.fixture.event)
        .collect();
    let Ok(cov) = Coverage::new(registry) else {
        return;
    };
    let by_type = coverage::by_type(&cov, registry, &events);
    let mut uncovered = 0;
    let mut items = 0;
    for t in &by_type {
        data.coverage.push(row(t));
        uncovered += t.missing().count();
        items += t.items.len();
    }
    let exempted =
        coverage::load_exemptions(&layout.fixtures.with_file_name("coverage-exemptions.json"))
            .map_or(0, |e| e.len());
    if exempted > 0 {
        data.warnings.push(format!(
            "{exempted} enum values, branches or if-directions are exempted from coverage (fixtures/coverage-exemptions.json says why): no fixture proves them"
        ));
    }
    data.figures.push((
        "schema items covered".into(),
        format!("{} of {items}", items - uncovered),
    ));
}

fn row(t: &TypeCoverage) -> CoverageRow {
    let mut cells = Vec::new();
    let mut missing = Vec::new();
    for kind in KINDS {
        let total = t.items.iter().filter(|i| i.kind == kind).count();
        let covered = t.covered.iter().filter(|i| i.kind == kind).count();
        cells.push((total > 0).then_some((covered, total)));
        missing.push(
            t.missing()
                .filter(|i| i.kind == kind)
                .map(|i| {
                    if i.detail.is_empty() {
                        i.path.clone()
                    } else {
                        format!("{} {}", i.path, i.detail)
                    }
                })
                .collect(),
        );
    }
    CoverageRow {
        event_type: t.event_type.clone(),
        major: t.major,
        cells,
        missing,
    }
}

/// JSON Lines records of `path`, each `(line, record)`.
fn json_lines(path: &Path) -> Result<Vec<(usize, Value)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map(|v| (i + 1, v))
                .map_err(|e| format!("{}:{}: not a JSON record: {e}", path.display(), i + 1))
        })
        .collect()
}

fn fuzz_run(path: &Path, data: &mut ReportData) -> Result<(), String> {
    let records = json_lines(path)?;
    fuzz_records(&records, &path.display().to_string(), data)
}

/// A fuzz run's records (as `--format json` writes them), from `origin`, onto the page.
fn fuzz_records(
    records: &[(usize, Value)],
    origin: &str,
    data: &mut ReportData,
) -> Result<(), String> {
    let summary = records
        .iter()
        .find(|(_, r)| r["type"] == "summary")
        .map(|(_, r)| &r["data"])
        .ok_or_else(|| {
            format!(
                "{origin}: no summary record: not the output of a fuzz command with --format json"
            )
        })?;
    let command = summary["command"].as_str().unwrap_or("fuzz").to_owned();
    let program = summary["program"].as_str().unwrap_or("").to_owned();
    data.sources.push(format!("{command} {program} ({origin})"));
    let seed = summary["seed"].as_u64();
    let cases = summary["cases"].as_u64().unwrap_or(0);
    data.figures
        .push((format!("{command} cases"), cases.to_string()));
    if cases == 0 {
        data.warnings
            .push(format!("{command} {program}: no case was sent"));
    }
    match summary["stop"].as_str() {
        Some("completed") | None => {}
        Some(other) => data.warnings.push(format!(
            "{command} {program}: stopped early ({}), so fewer cases ran than planned",
            other.replace('_', " ")
        )),
    }
    if let Some(skipped) = summary["skipped_types"]
        .as_object()
        .filter(|m| !m.is_empty())
    {
        data.warnings.push(format!(
            "{command} {program}: {} event type(s) were never drawn: {}",
            skipped.len(),
            skipped.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    if let Some(fixed) = summary["fixture_types"]
        .as_object()
        .filter(|m| !m.is_empty())
    {
        data.warnings.push(format!(
            "{command} {program}: {} event type(s) were drawn only from golden fixtures, not generated",
            fixed.len()
        ));
    }
    for (_, r) in records.iter().filter(|(_, r)| r["type"] == "failure") {
        let f = &r["data"];
        data.failures.push(FailureView {
            source: command.clone(),
            rule: f["kind"].as_str().unwrap_or("failure").to_owned(),
            subject: f["event_type"].as_str().unwrap_or("").to_owned(),
            message: f["finding"]["detail"].as_str().unwrap_or("").to_owned(),
            event: serde_json::to_string_pretty(&f["event"]).ok(),
            seed,
            replay: f["reproduce"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|l| l.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    Ok(())
}

fn compat_run(path: &Path, data: &mut ReportData) -> Result<(), String> {
    let records = json_lines(path)?;
    compat_records(&records, &path.display().to_string(), data)
}

/// A compat run's records (as `--format json` writes them), from `origin`, onto the page.
/// Record types this page does not know are skipped: a newer compat may add some.
fn compat_records(
    records: &[(usize, Value)],
    origin: &str,
    data: &mut ReportData,
) -> Result<(), String> {
    if !records.iter().any(|(_, r)| r["type"] == "summary") {
        return Err(format!(
            "{origin}: no summary record: not the output of `contracts compat --format json`"
        ));
    }
    data.sources.push(format!("contracts compat ({origin})"));
    for (_, r) in records {
        let d = &r["data"];
        let kind = r["type"].as_str().unwrap_or("");
        let schema = ["name", "schema", "subject", "file", "new"]
            .iter()
            .find_map(|k| d[*k].as_str())
            .unwrap_or("?")
            .to_owned();
        match kind {
            "schema" => {
                let verdicts: Vec<&str> = d["directions"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|x| x["verdict"].as_str()).collect())
                    .unwrap_or_default();
                let verdict = d["verdict"].as_str().map_or_else(
                    || {
                        if verdicts.iter().any(|v| v.contains("ncompatible")) {
                            "incompatible".to_owned()
                        } else if verdicts.iter().any(|v| v.contains("ndecided")) {
                            "undecided".to_owned()
                        } else {
                            "compatible".to_owned()
                        }
                    },
                    str::to_owned,
                );
                let detail = serde_json::to_string(&d["directions"]).unwrap_or_default();
                data.compat.push(CompatRow {
                    schema,
                    verdict,
                    detail,
                });
            }
            "added" | "removed" => data.compat.push(CompatRow {
                schema,
                verdict: kind.to_owned(),
                detail: if d["breaks"] == true {
                    "breaks compatibility".into()
                } else {
                    String::new()
                },
            }),
            "summary" if d["compatible"] == false => {
                data.failures.push(FailureView {
                    source: "compat".into(),
                    rule: "compat".into(),
                    subject: origin.to_owned(),
                    message: format!(
                        "{} incompatible, {} undecided",
                        d["incompatible"], d["undecided"]
                    ),
                    event: None,
                    seed: d["seed"].as_u64(),
                    replay: d["reproduce"]
                        .as_str()
                        .map(str::to_owned)
                        .into_iter()
                        .collect(),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// The `bench-track` summaries under `paths`, one point per commit in file-modification order
/// (a later file of the same commit replaces the earlier point).
fn bench_history(paths: &[PathBuf], data: &mut ReportData) -> Result<(), String> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let entries = std::fs::read_dir(p).map_err(|e| format!("{}: {e}", p.display()))?;
            for e in entries.flatten() {
                if e.path().extension().is_some_and(|x| x == "json") {
                    files.push(e.path());
                }
            }
        } else {
            files.push(p.clone());
        }
    }
    files.sort_by_key(|f| {
        (
            std::fs::metadata(f).and_then(|m| m.modified()).ok(),
            f.clone(),
        )
    });
    let mut by_commit: Vec<(String, BTreeMap<String, f64>)> = Vec::new();
    let mut metric = None;
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}:{}: not JSON: {e}", f.display(), e.line()))?;
        let (Some(commit), Some(benches)) = (v["commit"].as_str(), v["benches"].as_array()) else {
            continue; // not a bench-track summary (criterion keeps other JSON beside it)
        };
        let mut values = BTreeMap::new();
        for b in benches {
            let Some(name) = b["bench"].as_str() else {
                continue;
            };
            let value = b["instructions_per_event"]
                .as_f64()
                .map(|x| (x, "instructions per event (callgrind)"))
                .or_else(|| {
                    b["median_ns_per_event"]
                        .as_f64()
                        .map(|x| (x, "median ns per event (criterion)"))
                });
            if let Some((x, m)) = value {
                metric.get_or_insert(m);
                values.insert(name.to_owned(), x);
            }
        }
        by_commit.retain(|(c, _)| c != commit);
        by_commit.push((commit.to_owned(), values));
        data.sources
            .push(format!("bench-track summary {}", f.display()));
    }
    let mut names: Vec<String> = by_commit
        .iter()
        .flat_map(|(_, v)| v.keys().cloned())
        .collect();
    names.sort();
    names.dedup();
    data.bench = names
        .into_iter()
        .map(|name| BenchSeries {
            values: by_commit
                .iter()
                .map(|(_, v)| v.get(&name).copied())
                .collect(),
            name,
        })
        .collect();
    data.bench_commits = by_commit.into_iter().map(|(c, _)| c).collect();
    data.bench_metric = metric.unwrap_or("").to_owned();
    Ok(())
}

/// Gather and write `dir/index.html` for the gate run `report` under `root`.
///
/// # Errors
/// An unreadable input, or a directory that cannot be written.
pub(crate) fn write(
    root: &Path,
    report: &Report,
    inputs: &Inputs,
    dir: &Path,
) -> Result<ReportData, String> {
    let data = gather(root, report, inputs)?;
    write_page(&data, dir)?;
    Ok(data)
}

/// Write `dir/index.html` for one fuzz run: its verdict, warnings and failures (`reproduce` holds
/// each failure's replay lines, as the run printed them).
///
/// # Errors
/// A directory that cannot be written.
pub(crate) fn write_fuzz(
    command: &str,
    report: &contracts_core::runner::fuzz::FuzzReport,
    reproduce: &[Vec<String>],
    dir: &Path,
) -> Result<ReportData, String> {
    let mut records = Vec::new();
    for (f, lines) in report.failures.iter().zip(reproduce) {
        let mut v = serde_json::to_value(f).map_err(|e| e.to_string())?;
        if let Some(o) = v.as_object_mut() {
            o.insert("kind".into(), f.finding.kind.as_str().into());
            o.insert("reproduce".into(), lines.clone().into());
        }
        records.push((0, serde_json::json!({"type": "failure", "data": v})));
    }
    let summary = serde_json::json!({"type": "summary", "data": {
        "command": command,
        "program": report.program,
        "seed": report.seed,
        "cases": report.cases,
        "stop": report.stop,
        "skipped_types": report.skipped_types,
        "fixture_types": report.fixture_types,
    }});
    records.push((0, summary));
    let mut data = ReportData {
        kinds: KINDS
            .iter()
            .map(|k| super::findings::kind_str(*k))
            .collect(),
        ..ReportData::default()
    };
    fuzz_records(&records, "this run", &mut data)?;
    data.warnings
        .push("coverage and the conformance gate are not part of a fuzz run's report".into());
    finish(&mut data);
    write_page(&data, dir)?;
    Ok(data)
}

fn write_page(data: &ReportData, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join("index.html");
    std::fs::write(&path, super::html::render(data)).map_err(|e| format!("{}: {e}", path.display()))
}

/// Run the gate under `root` (what `contracts report` does before gathering).
pub(crate) fn run_gate(root: &Path) -> Report {
    check::run(&Layout::at(root))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn records(values: Vec<Value>) -> Vec<(usize, Value)> {
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i + 1, v))
            .collect()
    }

    /// A compat run with one incompatible schema, one removed and one unknown record: a row per
    /// schema, a failure with the reproduce line, the unknown record skipped.
    #[test]
    fn compat_records_become_rows_and_a_failure() {
        let mut data = ReportData::default();
        compat_records(
            &records(vec![
                json!({"type": "schema", "data": {"name": "alert.created.v1.schema.json",
                    "directions": [{"direction": "backward", "verdict": "incompatible"}]}}),
                json!({"type": "removed", "data": {"name": "old.v1.schema.json", "breaks": true}}),
                json!({"type": "something_new", "data": {}}),
                json!({"type": "summary", "data": {"compatible": false, "incompatible": 2,
                    "undecided": 0, "seed": 5, "reproduce": "contracts compat --old a --new b --seed 5"}}),
            ]),
            "compat.jsonl",
            &mut data,
        )
        .expect("a compat run");
        let rows: Vec<(&str, &str)> = data
            .compat
            .iter()
            .map(|c| (c.schema.as_str(), c.verdict.as_str()))
            .collect();
        assert_eq!(
            rows,
            [
                ("alert.created.v1.schema.json", "incompatible"),
                ("old.v1.schema.json", "removed")
            ]
        );
        assert_eq!(data.failures.len(), 1);
        assert_eq!(
            data.failures[0].replay,
            ["contracts compat --old a --new b --seed 5"]
        );
        assert_eq!(data.failures[0].seed, Some(5));
    }

    #[test]
    fn a_file_without_a_summary_is_refused_by_name() {
        let mut data = ReportData::default();
        let err = compat_records(
            &records(vec![json!({"type": "schema", "data": {}})]),
            "x.jsonl",
            &mut data,
        )
        .expect_err("no summary");
        assert!(err.starts_with("x.jsonl: no summary record"), "{err}");
        let err = fuzz_records(&records(vec![]), "f.jsonl", &mut data).expect_err("no summary");
        assert!(err.starts_with("f.jsonl: no summary record"), "{err}");
    }
}
