//! Driving the engine over inputs: JSON Lines read in order (one stream per input, or all inputs
//! merged by `timestamp`), each event validated as `contracts validate` does, then judged by the
//! rules. Every line gets exactly one [`EventVerdict`], so the summary's counts add up to the
//! lines read; findings follow the event they are about (or the event whose timestamp passed a
//! deadline), and `pending` findings come at the end of each stream.

use super::engine::{Engine, Outcome};
use super::rules::RuleSet;
use super::select::{EventRef, Finding, FindingStatus, Seen, millis};
use crate::input::{Events, InputError, Item};
use crate::registry::Registry;
use crate::validate::{Status, Violation};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::Arc;

/// One input: a name for reports and its reader.
pub struct Input {
    /// A path, or `-` for stdin.
    pub name: String,
    /// The bytes.
    pub reader: Box<dyn BufRead + Send>,
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// How to run.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Milliseconds finished state is kept, and the default pairing window.
    pub window_ms: i64,
    /// One stream of every input merged by `timestamp`, instead of one stream per input.
    pub merge: bool,
}

/// The default `--window`: an hour, long enough for every catalogue flow that pairs events
/// (a delivery's retries, an export, an SSH session's recording) and short enough that a stream of
/// millions of events keeps only the last hour's identities.
pub const DEFAULT_WINDOW_MS: i64 = 3_600_000;

/// What one line came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Schema-valid, and no rule finds fault with it.
    Ok,
    /// Schema-valid, and at least one rule violation is at this event.
    Violated,
    /// A byte-identical re-delivery of an event already seen (R2): dropped.
    Duplicate,
    /// Not schema-valid: not shown to the rules.
    Invalid,
    /// Not JSON: nothing could be checked.
    Unreadable,
}

/// The verdict on one line.
#[derive(Debug, Clone, Serialize)]
pub struct EventVerdict {
    /// The input.
    #[serde(serialize_with = "super::select::arc_str")]
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u64,
    /// `event_id`, when the event has a string one.
    pub event_id: Option<String>,
    /// `event_type`, when the event has a string one.
    pub event_type: Option<String>,
    /// What it came to.
    pub status: EventStatus,
    /// Schema violations (for `invalid` and `unreadable`).
    pub violations: Vec<Violation>,
}

/// What the run hands its reporter, in order.
#[derive(Debug)]
pub enum Record<'a> {
    /// One line's verdict.
    Event(&'a EventVerdict),
    /// One rule finding.
    Finding(&'a Finding),
}

/// Per-rule counts.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct RuleCount {
    /// Violations.
    pub violations: u64,
    /// Pending at the end of a stream.
    pub pending: u64,
}

/// Counts of a run. `ok + violated + duplicate + invalid + unreadable = events`.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Summary {
    /// Lines read.
    pub events: u64,
    /// Per status.
    pub ok: u64,
    /// Events with a rule violation at them.
    pub violated: u64,
    /// Re-deliveries.
    pub duplicate: u64,
    /// Schema-invalid events.
    pub invalid: u64,
    /// Unreadable lines.
    pub unreadable: u64,
    /// Rule violations (an event can have several; a missed deadline is one at its opening event).
    pub violations: u64,
    /// Findings that a finite stream could not decide.
    pub pending: u64,
    /// Findings per rule id (only rules with findings).
    pub by_rule: BTreeMap<String, RuleCount>,
    /// The most keys and window entries the rules held at once.
    pub peak_live: usize,
    /// Streams judged (inputs, or 1 with `--merge`).
    pub streams: usize,
}

impl Summary {
    fn count(&mut self, f: &Finding) {
        let c = self.by_rule.entry(f.rule.to_string()).or_default();
        match f.status {
            FindingStatus::Violation => {
                self.violations += 1;
                c.violations += 1;
            }
            FindingStatus::Pending => {
                self.pending += 1;
                c.pending += 1;
            }
        }
    }

    /// Whether any contract was broken (pending findings alone do not fail a stream).
    #[must_use]
    pub fn failed(&self) -> bool {
        self.violations + self.invalid + self.unreadable > 0
    }
}

/// Why a run stopped before the end.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// An input could not be read.
    #[error("{name}: {source}")]
    Input {
        /// The input.
        name: String,
        /// The cause.
        #[source]
        source: InputError,
    },
    /// The reporter could not write.
    #[error("cannot write the report")]
    Output(#[source] std::io::Error),
}

struct Head {
    item: Item,
    ts: i64,
}

struct Source {
    name: Arc<str>,
    index: u32,
    events: Events<Box<dyn BufRead + Send>>,
    head: Option<Head>,
    done: bool,
}

impl Source {
    fn fill(&mut self) -> Result<(), RunError> {
        if self.head.is_some() || self.done {
            return Ok(());
        }
        match self.events.next_item() {
            Ok(Some(item)) => {
                let ts = item.bytes.as_ref().ok().map_or(i64::MIN, |b| sort_time(b));
                self.head = Some(Head { item, ts });
            }
            Ok(None) | Err(InputError::Empty) => self.done = true,
            Err(source) => {
                return Err(RunError::Input {
                    name: self.name.to_string(),
                    source,
                });
            }
        }
        Ok(())
    }
}

/// The `timestamp` of an event's bytes for merging; an event without a readable one sorts first,
/// so it is reported at once rather than held.
fn sort_time(bytes: &[u8]) -> i64 {
    #[derive(serde::Deserialize)]
    struct Ts<'a> {
        #[serde(borrow)]
        timestamp: Option<&'a str>,
    }
    serde_json::from_slice::<Ts<'_>>(bytes)
        .ok()
        .and_then(|t| t.timestamp.and_then(millis))
        .unwrap_or(i64::MIN)
}

/// Judge `inputs` against `rules`, handing every verdict and finding to `sink` in order.
///
/// # Errors
/// An input that cannot be read, or a sink that cannot write. Broken contracts are not errors:
/// they are in the records and the [`Summary`].
pub fn run(
    registry: &Registry,
    rules: &RuleSet,
    inputs: Vec<Input>,
    opts: Options,
    sink: &mut dyn FnMut(Record<'_>) -> std::io::Result<()>,
) -> Result<Summary, RunError> {
    let mut sources: Vec<Source> = inputs
        .into_iter()
        .enumerate()
        .map(|(i, input)| Source {
            name: Arc::from(input.name.as_str()),
            index: u32::try_from(i).unwrap_or(u32::MAX),
            events: Events::new(input.reader),
            head: None,
            done: false,
        })
        .collect();
    let mut summary = Summary::default();
    if opts.merge {
        summary.streams = 1;
        let mut engine = Engine::new(rules, opts.window_ms);
        loop {
            for s in &mut sources {
                s.fill()?;
            }
            // Earliest timestamp first; ties keep input order (a stable merge).
            let next = sources
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.head.as_ref().map(|h| (h.ts, i)))
                .min();
            let Some((_, i)) = next else { break };
            let Some(head) = sources[i].head.take() else {
                break;
            };
            let (name, index) = (Arc::clone(&sources[i].name), sources[i].index);
            judge_item(
                registry,
                &mut engine,
                &name,
                index,
                head.item,
                &mut summary,
                sink,
            )?;
        }
        end_stream(&mut engine, &mut summary, sink)?;
    } else {
        for s in &mut sources {
            summary.streams += 1;
            let mut engine = Engine::new(rules, opts.window_ms);
            loop {
                s.fill()?;
                let Some(head) = s.head.take() else { break };
                judge_item(
                    registry,
                    &mut engine,
                    &s.name,
                    s.index,
                    head.item,
                    &mut summary,
                    sink,
                )?;
            }
            end_stream(&mut engine, &mut summary, sink)?;
        }
    }
    Ok(summary)
}

fn end_stream(
    engine: &mut Engine,
    summary: &mut Summary,
    sink: &mut dyn FnMut(Record<'_>) -> std::io::Result<()>,
) -> Result<(), RunError> {
    let mut left = Vec::new();
    engine.finish(&mut left);
    for f in &left {
        summary.count(f);
        sink(Record::Finding(f)).map_err(RunError::Output)?;
    }
    summary.peak_live = summary.peak_live.max(engine.peak_live());
    Ok(())
}

fn judge_item(
    registry: &Registry,
    engine: &mut Engine,
    name: &Arc<str>,
    index: u32,
    item: Item,
    summary: &mut Summary,
    sink: &mut dyn FnMut(Record<'_>) -> std::io::Result<()>,
) -> Result<(), RunError> {
    summary.events += 1;
    let mut verdict = EventVerdict {
        file: Arc::clone(name),
        line: item.line,
        event_id: None,
        event_type: None,
        status: EventStatus::Unreadable,
        violations: Vec::new(),
    };
    let bytes = match item.bytes {
        Ok(b) => b,
        Err(message) => {
            verdict.violations = crate::validate::Verdict::unreadable(message).violations;
            summary.unreadable += 1;
            return sink(Record::Event(&verdict)).map_err(RunError::Output);
        }
    };
    let v = registry.validate_bytes(&bytes);
    verdict.event_id.clone_from(&v.event_id);
    verdict.event_type.clone_from(&v.event_type);
    if v.status != Status::Valid {
        verdict.status = if v.status == Status::Invalid {
            summary.invalid += 1;
            EventStatus::Invalid
        } else {
            summary.unreadable += 1;
            EventStatus::Unreadable
        };
        verdict.violations = v.violations;
        return sink(Record::Event(&verdict)).map_err(RunError::Output);
    }
    let mut findings = Vec::new();
    let outcome = match serde_json::from_slice::<Value>(&bytes) {
        Ok(value) => {
            let text = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or_default();
            let (event_type, tenant, event_id) =
                (text("event_type"), text("tenant_id"), text("event_id"));
            let seen = Seen {
                value: &value,
                bytes: &bytes,
                at: EventRef {
                    input: index,
                    file: Arc::clone(name),
                    line: item.line,
                    event_id: event_id.into(),
                    ts: millis(text("timestamp")).unwrap_or(i64::MIN),
                },
                event_type,
                tenant,
            };
            engine.observe(&seen, &mut findings)
        }
        // Valid by the schema means it parsed; kept total in case the two parsers disagree.
        Err(_) => Outcome::Judged,
    };
    let here = |f: &&Finding| f.at.input == index && f.at.line == item.line;
    verdict.status = match outcome {
        Outcome::Duplicate => {
            summary.duplicate += 1;
            EventStatus::Duplicate
        }
        Outcome::Judged
            if findings
                .iter()
                .filter(here)
                .any(|f| f.status == FindingStatus::Violation) =>
        {
            summary.violated += 1;
            EventStatus::Violated
        }
        Outcome::Judged => {
            summary.ok += 1;
            EventStatus::Ok
        }
    };
    // Findings about earlier events (a deadline this event's clock passed) come first, then the
    // verdict on this event and its own findings.
    let (own, earlier): (Vec<&Finding>, Vec<&Finding>) = findings.iter().partition(here);
    for f in earlier {
        summary.count(f);
        sink(Record::Finding(f)).map_err(RunError::Output)?;
    }
    sink(Record::Event(&verdict)).map_err(RunError::Output)?;
    for f in own {
        summary.count(f);
        sink(Record::Finding(f)).map_err(RunError::Output)?;
    }
    Ok(())
}
