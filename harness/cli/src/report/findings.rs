//! Each command's results as SARIF [`Finding`]s, each pointing at the file and line it is about.
//!
//! Where a result's text names its own place (`specs/x.json:12: ...`, `/properties/a has no
//! description`, `fixtures/events/t/f.json: ...`), that place wins; otherwise the subject's file
//! (an event type's schema, the AsyncAPI document) is the location.

use super::sarif::{Finding, Level, Loc};
use super::spans;
use contracts_core::Registry;
use contracts_core::check::{Case, Report};
use contracts_core::runner::coverage::{ItemKind, REQUIRED_KINDS, TypeCoverage};
use contracts_core::runner::fuzz::{Failure, FuzzReport};
use contracts_core::{Verdict, Violation};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Local `$ref`s followed when looking a location up in a schema: enough for a payload that
/// refers to `$defs` which refer to `$defs`, and a stop for a reference cycle.
const MAX_REF_HOPS: usize = 8;

/// Files a finding can point into: the repository root, and the loaded schemas when they load.
pub(crate) struct Places<'a> {
    root: PathBuf,
    specs: PathBuf,
    registry: Option<&'a Registry>,
}

impl<'a> Places<'a> {
    /// Places under `root` (holding `specs/`), with the schemas of `registry` when there is one.
    pub(crate) fn new(root: &Path, specs: &Path, registry: Option<&'a Registry>) -> Self {
        Places {
            root: root.to_path_buf(),
            specs: specs.to_path_buf(),
            registry,
        }
    }

    /// `specs/<rel>` at the line of `pointer` in it (the text the registry loaded).
    pub(crate) fn schema_pointer(&self, rel: &str, pointer: &str) -> Loc {
        let path = self.specs.join(rel);
        match self.registry.and_then(|r| r.docs().get(rel)) {
            Some(doc) => Loc::pointer(path, &doc.text, pointer),
            None => match std::fs::read_to_string(&path) {
                Ok(text) => Loc::pointer(path, &text, pointer),
                Err(_) => Loc::file(path),
            },
        }
    }

    /// The schema file of `event_type` (its newest MAJOR), at the schema location of
    /// `instance_path` when one spells it, else at its top.
    pub(crate) fn event_schema(&self, event_type: &str, instance_path: &str) -> Option<Loc> {
        let c = self
            .registry?
            .contracts()
            .into_iter()
            .filter(|c| c.event_type == event_type)
            .max_by_key(|c| c.major)?;
        let pointer = schema_pointer_of(&c.schema, instance_path).unwrap_or_default();
        Some(self.schema_pointer(&c.rel_path, &pointer))
    }

    /// The schema location a violation names (`events/types/x.json#/$defs/...`), described.
    fn violated_keyword(&self, v: &Violation) -> Option<Loc> {
        let (file, pointer) = v.schema_path.split_once('#')?;
        Some(
            self.schema_pointer(file, pointer)
                .described(format!("the `{}` keyword the event breaks", v.keyword)),
        )
    }

    /// Where the contract a violation breaks lives, for events that come from no file (stdin, a
    /// program's stdout, an HTTP body): the violated keyword, else the event type's schema at
    /// the instance path, else the envelope schema.
    pub(crate) fn contract_of(&self, verdict: &Verdict, v: &Violation) -> Loc {
        self.violated_keyword(v)
            .or_else(|| {
                verdict
                    .event_type
                    .as_deref()
                    .and_then(|t| self.event_schema(t, &v.instance_path))
            })
            .unwrap_or_else(|| self.schema_pointer(contracts_core::registry::ENVELOPE_FILE, ""))
    }

    fn under_root(&self, p: &str) -> Option<PathBuf> {
        let path = Path::new(p);
        let full = if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.root.join(path)
        };
        full.is_file().then_some(full)
    }
}

/// Findings of `contracts check`: one per failure line of every failed case.
pub(crate) fn check(report: &Report, places: &Places<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for case in report.failed() {
        for failure in &case.failures {
            let location = locate_check(case, failure, places);
            out.push(Finding {
                rule_id: format!("check/{}", case.check),
                level: Level::Error,
                message: format!("{}: {failure}", case.subject),
                location: Some(location),
                related: Vec::new(),
                identity: format!("{}\u{0}{}", case.subject, strip_lines(failure)),
            });
        }
    }
    out
}

/// A failure's text without `:<digits>` line numbers, so its fingerprint survives edits above it.
fn strip_lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == ':' {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
        }
    }
    out
}

fn locate_check(case: &Case, failure: &str, places: &Places<'_>) -> Loc {
    // `path:LINE:COL: ...` or `path: ...` at the start (registry errors, replay failures).
    let head = failure.split(": ").next().unwrap_or("");
    let mut parts = head.split(':');
    if let Some(file) = parts.next().and_then(|f| places.under_root(f)) {
        let line = parts.next().and_then(|l| l.trim().parse::<usize>().ok());
        let column = parts.next().and_then(|c| c.trim().parse::<usize>().ok());
        return match line {
            Some(l) => Loc::at(file, l, column.unwrap_or(1)),
            None => fixture_violation_line(&file, failure).unwrap_or_else(|| Loc::file(file)),
        };
    }
    // A schema lint: the subject is the file and the text starts with the pointer.
    if failure.starts_with('/') {
        if let Some(rel) = case.subject.strip_prefix("specs/") {
            let pointer = failure.split(' ').next().unwrap_or("");
            let pointer = if pointer == "/" { "" } else { pointer };
            return places.schema_pointer(rel, pointer);
        }
    }
    // A subject that is a file.
    if let Some(file) = places.under_root(&case.subject) {
        return Loc::file(file);
    }
    if case.check.starts_with("asyncapi") {
        return Loc::file(places.specs.join(contracts_core::check::ASYNCAPI_FILE));
    }
    if case.check == "docs" {
        return Loc::file(places.root.join("docs/events.md"));
    }
    if case.check == "coverage" {
        // `no valid fixture covers <kind> at <instance path> <detail>`
        let path = failure
            .split(" at ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or("");
        if let Some(loc) = places.event_schema(&case.subject, path) {
            return loc;
        }
    }
    if case.check == "fixtures" {
        let dir = places.root.join("fixtures/events").join(&case.subject);
        if dir.is_dir() {
            return Loc::file(dir);
        }
    }
    places
        .event_schema(&case.subject, "")
        .unwrap_or_else(|| Loc::file(&places.specs))
}

/// In a fixture file, the line of the first instance path a replay failure quotes
/// (`... at /payload/x ...`), looked up under the fixture's `event` member.
fn fixture_violation_line(file: &Path, failure: &str) -> Option<Loc> {
    let text = std::fs::read_to_string(file).ok()?;
    let path = failure
        .split_whitespace()
        .map(|w| w.trim_matches(['"', ',', ')', '(', ';', ':']))
        .find(|w| w.starts_with('/') && w.len() > 1)?;
    let (line, col) = spans::pointer_line(&text, &format!("/event{path}"))
        .or_else(|| spans::pointer_line(&text, "/event"))?;
    Some(Loc::at(file, line, col))
}

/// Findings for one judged event of `file` at `line` (and array `index`).
pub(crate) fn event(
    file: &str,
    line: u64,
    index: Option<usize>,
    verdict: &Verdict,
    places: &Places<'_>,
) -> Vec<Finding> {
    let line = usize::try_from(line).unwrap_or(usize::MAX);
    let position = match index {
        Some(i) => format!("{file}:{line}[{i}]"),
        None => format!("{file}:{line}"),
    };
    let what = match (&verdict.event_type, &verdict.event_id) {
        (Some(t), Some(id)) => format!("{t} {id}"),
        (Some(t), None) => t.clone(),
        _ => "event".to_owned(),
    };
    verdict
        .violations
        .iter()
        .map(|v| {
            let at = if v.instance_path.is_empty() {
                "/"
            } else {
                &v.instance_path
            };
            Finding {
                rule_id: format!("event/{}", v.keyword),
                level: Level::Error,
                message: format!("{what} at {at}: {}", v.message),
                location: Some(if file == "-" {
                    places.contract_of(verdict, v)
                } else {
                    Loc::at(file, line, 1)
                }),
                related: places.violated_keyword(v).into_iter().collect(),
                identity: format!("{position}\u{0}{}\u{0}{}", v.instance_path, v.schema_path),
            }
        })
        .collect()
}

/// An origin of `check-producer` (`file:line`, `file:line[i]`, `POST #n`, `stdout:line`) as a
/// location, when it names a file.
pub(crate) fn origin_location(origin: &str) -> Option<Loc> {
    let (file, rest) = origin.rsplit_once(':')?;
    let line: usize = rest.split('[').next()?.parse().ok()?;
    Path::new(file).is_file().then(|| Loc::at(file, line, 1))
}

/// Findings of `coverage`: every required item (enum value, branch, if-direction) no valid
/// fixture exercises, at the schema line of its location; an error when `--require` is given.
pub(crate) fn coverage(
    report: &[TypeCoverage],
    places: &Places<'_>,
    require: bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for t in report {
        for item in t.missing_of(&REQUIRED_KINDS) {
            let kind = kind_str(item.kind);
            let detail = if item.detail.is_empty() {
                String::new()
            } else {
                format!(" {}", item.detail)
            };
            let location = places
                .registry
                .and_then(|r| r.contract(&t.event_type, t.major))
                .map(|c| {
                    let pointer = schema_pointer_of(&c.schema, &item.path).unwrap_or_default();
                    places.schema_pointer(&c.rel_path, &pointer)
                });
            out.push(Finding {
                rule_id: format!("coverage/{kind}"),
                level: if require {
                    Level::Error
                } else {
                    Level::Warning
                },
                message: format!(
                    "{} v{}: no valid fixture covers {} at {}{detail}",
                    t.event_type,
                    t.major,
                    kind.replace('_', " "),
                    item.path
                ),
                location,
                related: Vec::new(),
                identity: format!("{}\u{0}{}\u{0}{}", t.event_type, item.path, item.detail),
            });
        }
    }
    out
}

/// An item kind's JSON spelling (`enum_value`, `branch`, ...).
pub(crate) fn kind_str(kind: ItemKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "item".to_owned())
}

/// The schema pointer of an instance-shaped path (`/payload/asset/device_type`, `[]` for array
/// items): the first chain of `properties`/`items` that spells it, through applicators and
/// local `$ref`s.
pub(crate) fn schema_pointer_of(schema: &Value, path: &str) -> Option<String> {
    let names: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    walk(schema, schema, String::new(), &names, 0)
}

fn walk(root: &Value, node: &Value, at: String, names: &[&str], hops: usize) -> Option<String> {
    let Some((first, rest)) = names.split_first() else {
        return Some(at);
    };
    let Value::Object(map) = node else {
        return None;
    };
    if *first == "[]" {
        if let Some(items) = map.get("items") {
            if let Some(p) = walk(root, items, format!("{at}/items"), rest, hops) {
                return Some(p);
            }
        }
    } else if let Some(sub) = map.get("properties").and_then(|p| p.get(*first)) {
        let here = format!(
            "{at}/properties/{}",
            first.replace('~', "~0").replace('/', "~1")
        );
        if let Some(p) = walk(root, sub, here, rest, hops) {
            return Some(p);
        }
    }
    if let Some(target) = map.get("$ref").and_then(Value::as_str) {
        if let Some(local) = target.strip_prefix('#') {
            if hops < MAX_REF_HOPS {
                if let Some(sub) = root.pointer(local) {
                    if let Some(p) = walk(root, sub, local.to_owned(), names, hops + 1) {
                        return Some(p);
                    }
                }
            }
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(subs)) = map.get(key) {
            for (i, sub) in subs.iter().enumerate() {
                if let Some(p) = walk(root, sub, format!("{at}/{key}/{i}"), names, hops) {
                    return Some(p);
                }
            }
        }
    }
    for key in ["then", "else"] {
        if let Some(sub) = map.get(key) {
            if let Some(p) = walk(root, sub, format!("{at}/{key}"), names, hops) {
                return Some(p);
            }
        }
    }
    None
}

/// Findings of the fuzz commands: one per distinct failure, at its kept fixture file when it
/// was saved, with the minimal event and the lines that reproduce it.
pub(crate) fn fuzz(
    command: &str,
    report: &FuzzReport,
    reproduce: &[Vec<String>],
    places: &Places<'_>,
) -> Vec<Finding> {
    report
        .failures
        .iter()
        .zip(reproduce)
        .map(|(f, repro): (&Failure, &Vec<String>)| Finding {
            rule_id: format!("fuzz/{}", f.finding.kind.as_str()),
            level: Level::Error,
            message: format!(
                "{command} {}: {} on {} (case {}, seed {})\n{}\nminimal event: {}\nreproduce with:\n  {}",
                report.program,
                f.finding.kind.as_str(),
                f.event_type,
                f.case_index,
                report.seed,
                f.finding.detail,
                f.event,
                repro.join("\n  ")
            ),
            // Not kept (--no-corpus): the contract the program broke, in its schema file.
            location: f
                .corpus_file
                .as_deref()
                .map(Loc::file)
                .or_else(|| places.event_schema(&f.event_type, "")),
            related: Vec::new(),
            identity: format!(
                "{}\u{0}{}\u{0}{}",
                report.program,
                f.event_type,
                f.aim.as_ref().map_or(String::new(), |a| format!("{} {}", a.keyword, a.instance_path))
            ),
        })
        .collect()
}

/// A compat finding: `rule` broken by the change from `old` to `new`, located on the new side
/// with the old side as a related location: the builder for `contracts compat --format sarif`.
pub(crate) fn compat(rule: &str, message: &str, new: Loc, old: Loc, pointer: &str) -> Finding {
    Finding {
        rule_id: format!("compat/{rule}"),
        level: Level::Error,
        message: message.to_owned(),
        identity: format!("{}\u{0}{pointer}", old.uri),
        location: Some(new),
        related: vec![old.described("the old side of the change")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    // line numbers go, the rest stays
    #[case("specs/a.json:12:3: bad", "specs/a.json::: bad")]
    #[case("no numbers: here", "no numbers: here")]
    fn fingerprint_identity_drops_line_numbers(#[case] s: &str, #[case] want: &str) {
        assert_eq!(strip_lines(s), want);
    }

    /// A compat change is located on the new side and names the old side as related location.
    #[test]
    fn compat_findings_carry_the_other_side() {
        let f = compat(
            "removed_property",
            "payload.x removed",
            Loc::at("new/a.json", 4, 5),
            Loc::at("old/a.json", 7, 5),
            "/properties/x",
        );
        let mut report = super::super::sarif::SarifReport::new("compat");
        report.push(f);
        let log = serde_json::to_value(report.to_sarif()).expect("serialises");
        let r = &log["runs"][0]["results"][0];
        assert_eq!(r["ruleId"], "compat/removed_property");
        assert_eq!(
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            4
        );
        let old = &r["relatedLocations"][0];
        assert_eq!(
            old["physicalLocation"]["artifactLocation"]["uri"],
            "old/a.json"
        );
        assert_eq!(old["physicalLocation"]["region"]["startLine"], 7);
        assert_eq!(old["message"]["text"], "the old side of the change");
    }

    #[test]
    fn instance_paths_map_to_schema_pointers_through_refs_and_applicators() {
        let schema = serde_json::json!({
            "allOf": [{"$ref": "#/$defs/envelope"}],
            "properties": {"payload": {"$ref": "#/$defs/payload"}},
            "$defs": {
                "envelope": {"properties": {"tenant_id": {"type": "string"}}},
                "payload": {"properties": {"list": {"items": {"oneOf": [
                    {"properties": {"kind": {"enum": ["a"]}}}
                ]}}}}
            }
        });
        assert_eq!(
            schema_pointer_of(&schema, "/payload/list/[]/kind").as_deref(),
            Some("/$defs/payload/properties/list/items/oneOf/0/properties/kind")
        );
        assert_eq!(
            schema_pointer_of(&schema, "/tenant_id").as_deref(),
            Some("/$defs/envelope/properties/tenant_id")
        );
        assert_eq!(schema_pointer_of(&schema, "/nope"), None);
    }
}
