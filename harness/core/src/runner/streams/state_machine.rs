//! State machine per key: each event for a key must take an allowed transition from the key's
//! current state (catalogue R5: order per message key; the lifecycle paragraphs of §7).
//!
//! Memory: one small state per live key. A key in a terminal state that allows nothing more is
//! finished: it is dropped, and only a tombstone (its terminal event) stays for `--window`, so an
//! event after it still names the terminal event it conflicts with.

use super::Check;
use super::rules::Transition;
use super::select::{
    EventRef, Finding, FindingStatus, Seen, Sel, compile_when, matches_when, scoped, time_at,
};
use super::window::Expiring;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

struct Step {
    on: Vec<String>,
    from: Vec<u16>,
    to: Option<u16>,
    when: Vec<(String, Vec<Value>)>,
    via: Option<String>,
}

struct KeyState {
    state: u16,
    last: EventRef,
}

pub(crate) struct StateMachine {
    id: Arc<str>,
    sels: Vec<Sel>,
    states: Vec<String>,
    initial: u16,
    terminal: Vec<bool>,
    /// Terminal states from which no transition leaves: a key there is finished.
    finished: Vec<bool>,
    steps: Vec<Step>,
    keys: HashMap<String, KeyState>,
    tombstones: Expiring<EventRef>,
    window_ms: i64,
}

impl StateMachine {
    pub(crate) fn new(
        id: Arc<str>,
        sels: Vec<Sel>,
        states: &[String],
        initial: &str,
        terminal: &[String],
        transitions: &[Transition],
        window_ms: i64,
    ) -> Self {
        let index = |s: &str| {
            u16::try_from(states.iter().position(|x| x == s).unwrap_or(0)).unwrap_or(u16::MAX)
        };
        let steps: Vec<Step> = transitions
            .iter()
            .map(|t| Step {
                on: t.on.clone(),
                from: t.from.iter().map(|s| index(s)).collect(),
                to: t.to.as_deref().map(index),
                when: compile_when(&t.when),
                via: t.via.clone(),
            })
            .collect();
        let terminal: Vec<bool> = states.iter().map(|s| terminal.contains(s)).collect();
        let finished = (0..states.len())
            .map(|i| {
                terminal[i]
                    && !steps
                        .iter()
                        .any(|s| s.from.iter().any(|f| usize::from(*f) == i))
            })
            .collect();
        StateMachine {
            id,
            sels,
            states: states.to_vec(),
            initial: index(initial),
            terminal,
            finished,
            steps,
            keys: HashMap::new(),
            tombstones: Expiring::default(),
            window_ms,
        }
    }

    fn state_name(&self, s: u16) -> &str {
        self.states.get(usize::from(s)).map_or("?", String::as_str)
    }

    fn allowed_from(&self, state: u16) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .steps
            .iter()
            .filter(|s| s.from.contains(&state))
            .flat_map(|s| s.on.iter().map(String::as_str))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

impl Check for StateMachine {
    fn observe(&mut self, ev: &Seen<'_>, out: &mut Vec<Finding>) {
        for si in 0..self.sels.len() {
            if !self.sels[si].reads(ev) {
                continue;
            }
            for (ki, key) in self.sels[si].keys_of(ev) {
                let via = &self.sels[si].keys[ki];
                let scoped_key = scoped(ev.tenant, &key);
                let (state, last) = match self.keys.get(&scoped_key) {
                    Some(k) => (k.state, Some(k.last.clone())),
                    None => (self.initial, None),
                };
                if let Some(end) = self.tombstones.get(&scoped_key) {
                    let happened = self.sels[si]
                        .time
                        .as_deref()
                        .and_then(|p| time_at(ev.value, p))
                        .unwrap_or(ev.at.ts);
                    if happened < end.ts {
                        continue; // happened before the key ended; delivered late across channels
                    }
                    out.push(Finding {
                        rule: Arc::clone(&self.id),
                        status: FindingStatus::Violation,
                        at: ev.at.clone(),
                        earlier: Some(end.clone()),
                        key: Some(key),
                        message: format!(
                            "{} after the key's lifecycle ended (terminal event {} at line {})",
                            ev.event_type, end.event_id, end.line
                        ),
                    });
                    continue;
                }
                let step = self.steps.iter().find(|s| {
                    s.on.iter().any(|t| t == ev.event_type)
                        && s.from.contains(&state)
                        && s.via.as_deref().is_none_or(|v| v == via)
                        && matches_when(&s.when, ev.value)
                });
                let Some(step) = step else {
                    let allowed = self.allowed_from(state);
                    let message = if last.is_none() {
                        format!(
                            "{} cannot start the key's lifecycle; its first event must be one of: {}",
                            ev.event_type,
                            allowed.join(", ")
                        )
                    } else if self.terminal[usize::from(state)] {
                        format!(
                            "{} after terminal state `{}`; only {} may follow",
                            ev.event_type,
                            self.state_name(state),
                            if allowed.is_empty() {
                                "nothing".to_owned()
                            } else {
                                allowed.join(", ")
                            }
                        )
                    } else {
                        let values = if allowed.contains(&ev.event_type) {
                            " with these field values"
                        } else {
                            ""
                        };
                        format!(
                            "{}{values} is not allowed in state `{}`; allowed: {}",
                            ev.event_type,
                            self.state_name(state),
                            allowed.join(", ")
                        )
                    };
                    out.push(Finding {
                        rule: Arc::clone(&self.id),
                        status: FindingStatus::Violation,
                        at: ev.at.clone(),
                        earlier: last,
                        key: Some(key),
                        message,
                    });
                    continue;
                };
                let next = step.to.unwrap_or(state);
                if self.finished[usize::from(next)] {
                    self.keys.remove(&scoped_key);
                    let deadline = ev.at.ts.saturating_add(self.window_ms);
                    self.tombstones.insert(scoped_key, ev.at.clone(), deadline);
                } else {
                    self.keys.insert(
                        scoped_key,
                        KeyState {
                            state: next,
                            last: ev.at.clone(),
                        },
                    );
                }
            }
        }
    }

    fn advance(&mut self, now: i64, _out: &mut Vec<Finding>) {
        self.tombstones.expire(now, |_, _| {});
    }

    fn live(&self) -> usize {
        self.keys.len() + self.tombstones.len()
    }
}
