//! Kept counterexamples: each minimal event is saved in fixture form under
//! `corpus/consumers/<program>/`, and replayed against a program by `contracts replay --consumer`.
//!
//! Invariant: a saved file is a valid fixture for `contracts replay` too: its `valid` and
//! `violations` are the registry's verdict on the event, exactly, so the plain fixture replay of
//! `corpus/` keeps passing while the program replay checks the program.

use super::cases::Case;
use super::judge::{Aim, Finding, Mode, Role};
use super::run::{Failure, try_case};
use super::transport::{Transport, TransportError};
use crate::fixtures::{Expected, Fixture, FixtureFile};
use crate::registry::Registry;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// 64-bit FNV-1a: a stable, dependency-free name for a file from its content.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The fixture for `failure`'s minimal event, with the registry's exact verdict. `program` is the
/// command line that found it, less the seed (`contracts fuzz-consumer --cmd '...'`).
#[must_use]
pub fn fixture_for(registry: &Registry, failure: &Failure, program: &str, seed: u64) -> Fixture {
    let verdict = registry.validate_value(&failure.event);
    let violations: BTreeSet<Expected> = verdict
        .violations
        .iter()
        .map(|v| Expected {
            keyword: v.keyword.clone(),
            instance_path: v.instance_path.clone(),
        })
        .collect();
    let aimed = failure
        .aim
        .as_ref()
        .map(|a| {
            format!(
                " (mutation: {} at {})",
                a.keyword,
                if a.instance_path.is_empty() {
                    "/"
                } else {
                    &a.instance_path
                }
            )
        })
        .unwrap_or_default();
    Fixture {
        description: format!(
            "{}: {}{aimed}. Minimal event after {} shrinking steps.",
            failure.finding.kind.as_str(),
            failure.finding.detail.lines().next().unwrap_or(""),
            failure.shrink_steps
        ),
        origin: Some(format!(
            "{program} --seed {seed} (case {})",
            failure.case_index
        )),
        valid: verdict.is_valid(),
        violations: violations.into_iter().collect(),
        cross_event_rule: None,
        event: failure.event.clone(),
    }
}

/// Save `failure` under `dir` as `<kind>-<event_type>-<hash>.json`; the same event is the same file.
///
/// # Errors
/// The directory cannot be created or the file written.
pub fn save(
    registry: &Registry,
    dir: &Path,
    failure: &Failure,
    program: &str,
    seed: u64,
) -> std::io::Result<PathBuf> {
    let fixture = fixture_for(registry, failure, program, seed);
    let text = serde_json::to_string_pretty(&fixture).map_err(std::io::Error::other)? + "\n";
    let hash = fnv1a(failure.event.to_string().as_bytes());
    let path = dir.join(format!(
        "{}-{}-{:08x}.json",
        failure.finding.kind.as_str(),
        failure.event_type,
        hash >> 32
    ));
    std::fs::create_dir_all(dir)?;
    std::fs::write(&path, text)?;
    Ok(path)
}

/// One kept event replayed against a program.
#[derive(Debug)]
pub struct ProgramReplay<'a> {
    /// The fixture file.
    pub file: &'a FixtureFile,
    /// `None` when the program now honours the contract on it.
    pub finding: Option<Finding>,
}

/// Send every fixture's event to the program and judge the replies, the same way the fuzz run
/// did. A fixture declared invalid is aimed at its first declared violation.
///
/// # Errors
/// The program cannot be (re)started.
pub fn replay_program<'a>(
    registry: &Registry,
    transport: &mut dyn Transport,
    role: Role,
    mode: Mode,
    files: &'a [FixtureFile],
) -> Result<Vec<ProgramReplay<'a>>, TransportError> {
    let mut out = Vec::with_capacity(files.len());
    for file in files {
        let verdict = registry.validate_value(&file.fixture.event);
        let aim = if verdict.is_valid() {
            None
        } else {
            let first = file.fixture.violations.first();
            let v = verdict.violations.first();
            Some(Aim {
                keyword: first.map_or_else(
                    || v.map_or_else(String::new, |v| v.keyword.clone()),
                    |e| e.keyword.clone(),
                ),
                instance_path: first.map_or_else(
                    || v.map_or_else(String::new, |v| v.instance_path.clone()),
                    |e| e.instance_path.clone(),
                ),
                class: "corpus".into(),
            })
        };
        let case = Case {
            event_type: verdict.event_type.clone().unwrap_or_default(),
            event: file.fixture.event.clone(),
            aim,
        };
        let finding = try_case(registry, transport, role, mode, &case)?;
        out.push(ProgramReplay { file, finding });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn replay_holds_a_program_to_the_contract() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let registry = Registry::load(&root.join("specs")).expect("specs");
        let files = crate::fixtures::load_dir(&root.join("fixtures/events/alert.created"))
            .expect("fixtures");
        // A consumer that accepts everything: every valid fixture passes, every invalid one is
        // accepted-invalid.
        let mut t = super::super::StdioTransport::start(
            "sh -c 'while read l; do echo accept; done'",
            std::time::Duration::from_secs(5),
        )
        .expect("sh starts");
        let out = replay_program(&registry, &mut t, Role::Consumer, Mode::Strict, &files)
            .expect("replayed");
        for r in &out {
            let kind = r.finding.as_ref().map(|f| f.kind);
            let want = (!r.file.fixture.valid).then_some(super::super::Kind::AcceptedInvalid);
            assert_eq!(kind, want, "{}", r.file.path.display());
        }
    }

    #[test]
    fn fnv_is_stable() {
        // Pinned: corpus file names must not change between versions.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
