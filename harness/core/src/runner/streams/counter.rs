//! Counter per key: a payload integer starts at a fixed value and progresses contiguously (SSH
//! `sequence`, delivery `attempt`, compliance `version`) or strictly increases (`heartbeat.sequence`);
//! a `total` field equals the number of counted events (`command_count`, `assets_updated`).
//!
//! A key ends at an event marked `last`; a tombstone then stays for `--window` so later events of
//! that key are left to the lifecycle rule that owns "nothing after the end" instead of being
//! judged twice as a restarted counter.

use super::Check;
use super::rules::Progression;
use super::select::{EventRef, Finding, FindingStatus, Seen, Sel, int_at, scoped};
use super::window::Expiring;
use std::collections::HashMap;
use std::sync::Arc;

struct KeyState {
    last_value: Option<i64>,
    count: i64,
    last: EventRef,
}

pub(crate) struct Counter {
    id: Arc<str>,
    sels: Vec<Sel>,
    start: Option<i64>,
    progression: Progression,
    keys: HashMap<String, KeyState>,
    ended: Expiring<()>,
    window_ms: i64,
}

impl Counter {
    pub(crate) fn new(
        id: Arc<str>,
        sels: Vec<Sel>,
        start: Option<i64>,
        progression: Progression,
        window_ms: i64,
    ) -> Self {
        Counter {
            id,
            sels,
            start,
            progression,
            keys: HashMap::new(),
            ended: Expiring::default(),
            window_ms,
        }
    }

    fn violation(
        &self,
        ev: &Seen<'_>,
        earlier: Option<EventRef>,
        key: &str,
        message: String,
    ) -> Finding {
        Finding {
            rule: Arc::clone(&self.id),
            status: FindingStatus::Violation,
            at: ev.at.clone(),
            earlier,
            key: Some(key.to_owned()),
            message,
        }
    }
}

impl Check for Counter {
    fn observe(&mut self, ev: &Seen<'_>, out: &mut Vec<Finding>) {
        for si in 0..self.sels.len() {
            let sel = &self.sels[si];
            if !sel.reads(ev) {
                continue;
            }
            let (value_ptr, total_ptr, last_flag) =
                (sel.value.clone(), sel.total.clone(), sel.last);
            for (_, key) in sel.keys_of(ev) {
                let scoped_key = scoped(ev.tenant, &key);
                if self.ended.get(&scoped_key).is_some() {
                    continue;
                }
                let mut state = self.keys.remove(&scoped_key).unwrap_or(KeyState {
                    last_value: None,
                    count: 0,
                    last: ev.at.clone(),
                });
                let earlier =
                    (state.count > 0 || state.last_value.is_some()).then(|| state.last.clone());
                if let Some(p) = &value_ptr {
                    if let Some(v) = int_at(ev.value, p) {
                        let expected = match (state.last_value, self.progression) {
                            (Some(prev), Progression::Contiguous) => Some(prev + 1),
                            (None, _) => self.start,
                            (Some(_), Progression::Increasing) => None,
                        };
                        match (expected, state.last_value) {
                            (Some(want), _) if v != want => {
                                let what = if state.last_value.is_some_and(|prev| v <= prev) {
                                    "repeats or goes back"
                                } else {
                                    "skips"
                                };
                                out.push(self.violation(
                                    ev,
                                    earlier.clone(),
                                    &key,
                                    format!(
                                        "{} {p} is {v}, expected {want}: the counter {what}",
                                        ev.event_type
                                    ),
                                ));
                            }
                            (None, Some(prev)) if v <= prev => out.push(self.violation(
                                ev,
                                earlier.clone(),
                                &key,
                                format!(
                                    "{} {p} is {v}, not above the previous {prev}",
                                    ev.event_type
                                ),
                            )),
                            _ => {}
                        }
                        // Resynchronise on the value seen, so one gap is one violation.
                        state.last_value = Some(v);
                    }
                }
                if let Some(p) = &total_ptr {
                    if let Some(t) = int_at(ev.value, p) {
                        if t != state.count {
                            out.push(self.violation(
                                ev,
                                earlier.clone(),
                                &key,
                                format!(
                                    "{} {p} is {t}, but {} counted events came before it",
                                    ev.event_type, state.count
                                ),
                            ));
                        }
                    }
                } else {
                    state.count += 1;
                }
                state.last = ev.at.clone();
                if last_flag || total_ptr.is_some() {
                    let deadline = ev.at.ts.saturating_add(self.window_ms);
                    self.ended.insert(scoped_key, (), deadline);
                } else {
                    self.keys.insert(scoped_key, state);
                }
            }
        }
    }

    fn advance(&mut self, now: i64, _out: &mut Vec<Finding>) {
        self.ended.expire(now, |_, ()| {});
    }

    fn live(&self) -> usize {
        self.keys.len() + self.ended.len()
    }
}
