//! `--format sarif` of each command: gather its findings, write one SARIF log, give the outcome.

use super::findings::{self, Places};
use super::sarif::SarifReport;
use crate::error::CliError;
use crate::exit::Outcome;
use contracts_core::Registry;
use contracts_core::check::Report;
use contracts_core::input::{Events, InputError};
use contracts_core::runner::coverage::{REQUIRED_KINDS, TypeCoverage};
use contracts_core::runner::fuzz::FuzzReport;
use contracts_core::runner::producer::ProducerEvent;
use contracts_core::{Status, Verdict};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// The repository root a `--specs DIR` sits in (its parent; `.` for a bare `specs`).
fn root_of(specs: &Path) -> PathBuf {
    match specs.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `contracts validate --format sarif FILE...`: every violation of every event, at the event's
/// line, with the violated schema keyword's line as its related location. Judged serially: the
/// log is one document, written once at the end, so there is no stream to keep in order.
pub(crate) fn validate(
    registry: &Registry,
    specs: &Path,
    files: &[PathBuf],
    out: &mut dyn Write,
) -> Result<Outcome, CliError> {
    let places = Places::new(&root_of(specs), specs, Some(registry));
    let mut sarif = SarifReport::new("validate");
    let mut bad = false;
    for file in files {
        let name = file.display().to_string();
        let reader: Box<dyn BufRead> = if name == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            let f = std::fs::File::open(file).map_err(|e| CliError::io(&name, e))?;
            Box::new(std::io::BufReader::with_capacity(1 << 16, f))
        };
        let mut events = Events::new(reader);
        loop {
            let item = match events.next_item() {
                Ok(Some(item)) => item,
                Ok(None) => break,
                Err(InputError::Io(e)) => return Err(CliError::io(&name, e)),
                Err(e) => return Err(CliError::Input(format!("{name}: {e}"))),
            };
            let verdict = match &item.bytes {
                Ok(bytes) => registry.validate_bytes(bytes),
                Err(why) => Verdict::unreadable(why.clone()),
            };
            if verdict.status != Status::Valid {
                bad = true;
                for f in findings::event(&name, item.line, item.index, &verdict, &places) {
                    sarif.push(f);
                }
            }
        }
    }
    sarif.write(out)?;
    Ok(Outcome::violated_if(bad))
}

/// `contracts check --format sarif`.
pub(crate) fn check(root: &Path, report: &Report, out: &mut dyn Write) -> Result<(), CliError> {
    let specs = root.join("specs");
    let registry = Registry::load(&specs).ok();
    let places = Places::new(root, &specs, registry.as_ref());
    let mut sarif = SarifReport::new("check");
    for f in findings::check(report, &places) {
        sarif.push(f);
    }
    sarif.write(out)
}

/// `contracts coverage --format sarif`: required items no valid fixture covers.
pub(crate) fn coverage(
    registry: &Registry,
    specs: &Path,
    report: &[TypeCoverage],
    require: bool,
    out: &mut dyn Write,
) -> Result<Outcome, CliError> {
    let places = Places::new(&root_of(specs), specs, Some(registry));
    let mut sarif = SarifReport::new("coverage");
    for f in findings::coverage(report, &places, require) {
        sarif.push(f);
    }
    sarif.write(out)?;
    let gaps = report
        .iter()
        .any(|t| !t.missing_of(&REQUIRED_KINDS).is_empty());
    Ok(Outcome::violated_if(require && gaps))
}

/// `fuzz-consumer` / `fuzz-processor --format sarif`; `reproduce` holds each failure's lines.
pub(crate) fn fuzz(
    command: &str,
    report: &FuzzReport,
    reproduce: &[Vec<String>],
    specs: &Path,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let registry = Registry::load(specs).ok();
    let places = Places::new(&root_of(specs), specs, registry.as_ref());
    let mut sarif = SarifReport::new(command);
    for f in findings::fuzz(command, report, reproduce, &places) {
        sarif.push(f);
    }
    sarif.write(out)
}

/// What `check-producer --format sarif` keeps of the stream: every invalid event's findings.
pub(crate) struct ProducerFindings<'a> {
    places: Places<'a>,
    sarif: SarifReport,
}

impl<'a> ProducerFindings<'a> {
    /// An empty collection for events judged against `registry` loaded from `specs`.
    pub(crate) fn new(registry: &'a Registry, specs: &Path) -> Self {
        ProducerFindings {
            places: Places::new(&root_of(specs), specs, Some(registry)),
            sarif: SarifReport::new("check-producer"),
        }
    }

    /// Take in one runner event.
    pub(crate) fn apply(&mut self, e: &ProducerEvent) {
        let ProducerEvent::Seen { origin, verdict } = e else {
            return;
        };
        if verdict.status == Status::Valid {
            return;
        }
        let located = findings::origin_location(origin);
        for (mut f, v) in findings::event(origin, 0, None, verdict, &self.places)
            .into_iter()
            .zip(&verdict.violations)
        {
            // A `--cmd` or `--listen` origin names no file: the broken contract is the place.
            f.location = Some(
                located
                    .clone()
                    .unwrap_or_else(|| self.places.contract_of(verdict, v)),
            );
            f.message = format!("{origin}: {}", f.message);
            self.sarif.push(f);
        }
    }

    /// Write the log.
    pub(crate) fn write(&self, out: &mut dyn Write) -> Result<(), CliError> {
        self.sarif.write(out)
    }
}
