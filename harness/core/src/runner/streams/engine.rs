//! The rule engine: every rule of a [`RuleSet`] compiled into its kind's checker, fed one
//! schema-valid event at a time.
//!
//! Order per event: the re-delivery rules first (R2): a byte-identical repeat of an `event_id` is
//! a duplicate that consumers drop, so no other rule sees it. Then every rule that reads the
//! event's type. The stream's clock is the latest `timestamp` seen; state older than the window
//! leaves as the clock moves (see [`super::window`]).

use super::Check;
use super::counter::Counter;
use super::pairing::Pairing;
use super::reference::Reference;
use super::rules::{Kind, RuleSet};
use super::select::{Finding, Seen, Sel};
use super::state_machine::StateMachine;
use super::unique::{Repeat, Unique};
use std::collections::HashMap;
use std::sync::Arc;

/// How often (stream milliseconds) expired state is swept.
const SWEEP_MS: i64 = 1000;

enum Compiled {
    Unique(Unique),
    Other(Box<dyn Check + Send>),
}

struct Entry {
    /// Event types the rule reads; empty with `any` set means every type.
    types: Vec<String>,
    any: bool,
    redelivery: bool,
    check: Compiled,
}

/// What the engine made of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Judged by every rule that reads it (findings, if any, were pushed).
    Judged,
    /// A byte-identical re-delivery: dropped, as a consumer drops it.
    Duplicate,
}

/// Every rule, ready to judge one stream.
pub struct Engine {
    entries: Vec<Entry>,
    by_type: HashMap<String, Vec<usize>>,
    now: i64,
    swept: i64,
    peak_live: usize,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("rules", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Compile `rules`; `window_ms` bounds how long finished state is kept and is the default
    /// pairing window.
    #[must_use]
    pub fn new(rules: &RuleSet, window_ms: i64) -> Self {
        let mut entries = Vec::new();
        for (_, rule) in rules.rules() {
            let id: Arc<str> = Arc::from(rule.id.as_str());
            let sels =
                |list: &[super::rules::Selector]| list.iter().map(Sel::new).collect::<Vec<_>>();
            let selectors = rule.kind.selectors();
            let any = selectors.iter().any(|s| s.event_type == "*");
            let mut types: Vec<String> = selectors.iter().map(|s| s.event_type.clone()).collect();
            types.sort();
            types.dedup();
            let (check, redelivery) = match &rule.kind {
                Kind::StateMachine {
                    events,
                    states,
                    initial,
                    terminal,
                    transitions,
                } => (
                    Compiled::Other(Box::new(StateMachine::new(
                        id,
                        sels(events),
                        states,
                        initial,
                        terminal,
                        transitions,
                        window_ms,
                    ))),
                    false,
                ),
                Kind::Counter {
                    events,
                    start,
                    progression,
                } => (
                    Compiled::Other(Box::new(Counter::new(
                        id,
                        sels(events),
                        *start,
                        *progression,
                        window_ms,
                    ))),
                    false,
                ),
                Kind::Reference {
                    from,
                    to,
                    same_tenant,
                    not_later_skew_seconds,
                    resolve,
                } => (
                    Compiled::Other(Box::new(Reference::new(
                        id,
                        sels(from),
                        sels(to),
                        *same_tenant,
                        *not_later_skew_seconds,
                        *resolve,
                        window_ms,
                    ))),
                    false,
                ),
                Kind::Pairing {
                    a,
                    b,
                    within_seconds,
                } => {
                    let within = within_seconds.map_or(window_ms, |s| i64::from(s) * 1000);
                    (
                        Compiled::Other(Box::new(Pairing::new(id, sels(a), sels(b), within))),
                        false,
                    )
                }
                Kind::Unique {
                    events,
                    byte_identical_redelivery,
                    global,
                } => (
                    Compiled::Unique(Unique::new(
                        id,
                        sels(events),
                        *byte_identical_redelivery,
                        *global,
                        window_ms,
                    )),
                    *byte_identical_redelivery,
                ),
            };
            entries.push(Entry {
                types,
                any,
                redelivery,
                check,
            });
        }
        Engine {
            entries,
            by_type: HashMap::new(),
            now: i64::MIN,
            swept: i64::MIN,
            peak_live: 0,
        }
    }

    fn rules_for(&mut self, event_type: &str) -> &[usize] {
        if !self.by_type.contains_key(event_type) {
            let mut list: Vec<usize> = (0..self.entries.len())
                .filter(|&i| {
                    let e = &self.entries[i];
                    e.any || e.types.iter().any(|t| t == event_type)
                })
                .collect();
            // Re-delivery rules first.
            list.sort_by_key(|&i| !self.entries[i].redelivery);
            self.by_type.insert(event_type.to_owned(), list);
        }
        self.by_type.get(event_type).map_or(&[], Vec::as_slice)
    }

    /// Judge one schema-valid event; findings go to `out`, including those of earlier events
    /// whose deadline this event's timestamp passed.
    pub fn observe(&mut self, ev: &Seen<'_>, out: &mut Vec<Finding>) -> Outcome {
        if ev.at.ts > self.now {
            self.now = ev.at.ts;
        }
        let mut late = Vec::new();
        if self.now.saturating_sub(self.swept) >= SWEEP_MS {
            self.swept = self.now;
            for e in &mut self.entries {
                match &mut e.check {
                    Compiled::Unique(u) => u.advance(self.now, &mut late),
                    Compiled::Other(c) => c.advance(self.now, &mut late),
                }
            }
            let live = self.live();
            self.peak_live = self.peak_live.max(live);
        }
        out.extend(late);
        let rules: Vec<usize> = self.rules_for(ev.event_type).to_vec();
        for i in rules {
            let entry = &mut self.entries[i];
            match &mut entry.check {
                Compiled::Unique(u) => match u.judge(ev, out) {
                    // Consumers de-duplicate on event_id (R2): a repeat reaches no other rule,
                    // whether it is a faithful re-delivery or a conflicting one (reported).
                    Repeat::Redelivery if entry.redelivery => return Outcome::Duplicate,
                    Repeat::Conflict if entry.redelivery => return Outcome::Judged,
                    Repeat::New | Repeat::Redelivery | Repeat::Conflict => {}
                },
                Compiled::Other(c) => c.observe(ev, out),
            }
        }
        Outcome::Judged
    }

    /// The stream ended: what is still awaited becomes `pending`.
    pub fn finish(&mut self, out: &mut Vec<Finding>) {
        for e in &mut self.entries {
            if let Compiled::Other(c) = &mut e.check {
                c.finish(out);
            }
        }
    }

    /// Keys (and window entries) held right now, over every rule.
    #[must_use]
    pub fn live(&self) -> usize {
        self.entries
            .iter()
            .map(|e| match &e.check {
                Compiled::Unique(u) => u.live(),
                Compiled::Other(c) => c.live(),
            })
            .sum()
    }

    /// The most keys held at any sweep.
    #[must_use]
    pub fn peak_live(&self) -> usize {
        self.peak_live.max(self.live())
    }
}
