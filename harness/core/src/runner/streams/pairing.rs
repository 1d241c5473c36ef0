//! Pairing: every A is followed by exactly one B with the same key within a window (export
//! request -> completion, SSH `ended` with a recording expected -> `recording_stored`, a failed
//! deprovisioning -> its `scim.provisioning.failed`).
//!
//! An A whose deadline the stream's clock has passed without its B is a violation; an A still open
//! when a finite stream ends is `pending`, reported apart from violations. A closed pair leaves a
//! tombstone for the window so a second B is named as such. Memory: open As and tombstones.

use super::Check;
use super::select::{EventRef, Finding, FindingStatus, Seen, Sel, scoped};
use super::window::Expiring;
use std::sync::Arc;

struct Open {
    at: EventRef,
    key: String,
}

pub(crate) struct Pairing {
    id: Arc<str>,
    a: Vec<Sel>,
    b: Vec<Sel>,
    within_ms: i64,
    open: Expiring<Open>,
    closed: Expiring<EventRef>,
}

impl Pairing {
    pub(crate) fn new(id: Arc<str>, a: Vec<Sel>, b: Vec<Sel>, within_ms: i64) -> Self {
        Pairing {
            id,
            a,
            b,
            within_ms,
            open: Expiring::default(),
            closed: Expiring::default(),
        }
    }

    fn finding(
        &self,
        status: FindingStatus,
        at: EventRef,
        earlier: Option<EventRef>,
        key: String,
        message: String,
    ) -> Finding {
        Finding {
            rule: Arc::clone(&self.id),
            status,
            at,
            earlier,
            key: Some(key),
            message,
        }
    }

    fn a_types(&self) -> String {
        self.a
            .iter()
            .map(|s| s.event_type.as_deref().unwrap_or("*"))
            .collect::<Vec<_>>()
            .join(" | ")
    }

    fn b_types(&self) -> String {
        self.b
            .iter()
            .map(|s| s.event_type.as_deref().unwrap_or("*"))
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

impl Check for Pairing {
    fn observe(&mut self, ev: &Seen<'_>, out: &mut Vec<Finding>) {
        let mut b_keys = Vec::new();
        for sel in self.b.iter().filter(|s| s.reads(ev)) {
            b_keys.extend(sel.keys_of(ev).into_iter().map(|(_, k)| k));
        }
        for key in b_keys {
            let scoped_key = scoped(ev.tenant, &key);
            if let Some(open) = self.open.remove(&scoped_key) {
                if ev.at.ts - open.at.ts > self.within_ms {
                    out.push(self.finding(
                        FindingStatus::Violation,
                        ev.at.clone(),
                        Some(open.at.clone()),
                        key,
                        format!(
                            "{} came {} ms after its {}, later than the {} ms allowed",
                            ev.event_type,
                            ev.at.ts - open.at.ts,
                            self.a_types(),
                            self.within_ms
                        ),
                    ));
                }
                let deadline = ev.at.ts.saturating_add(self.within_ms);
                self.closed.insert(scoped_key, ev.at.clone(), deadline);
            } else if let Some(first) = self.closed.get(&scoped_key) {
                let first = first.clone();
                out.push(self.finding(
                    FindingStatus::Violation,
                    ev.at.clone(),
                    Some(first),
                    key,
                    format!(
                        "a second {} for the same key: exactly one is allowed",
                        ev.event_type
                    ),
                ));
            } else {
                out.push(self.finding(
                    FindingStatus::Violation,
                    ev.at.clone(),
                    None,
                    key,
                    format!(
                        "{} without a preceding {} for the same key",
                        ev.event_type,
                        self.a_types()
                    ),
                ));
            }
        }
        let mut a_keys = Vec::new();
        for sel in self.a.iter().filter(|s| s.reads(ev)) {
            a_keys.extend(sel.keys_of(ev).into_iter().map(|(_, k)| k));
        }
        for key in a_keys {
            let scoped_key = scoped(ev.tenant, &key);
            if let Some(prev) = self.open.get(&scoped_key) {
                let prev = prev.at.clone();
                out.push(self.finding(
                    FindingStatus::Violation,
                    ev.at.clone(),
                    Some(prev),
                    key.clone(),
                    format!(
                        "a second {} for the same key while the first still awaits its {}",
                        ev.event_type,
                        self.b_types()
                    ),
                ));
            }
            let deadline = ev.at.ts.saturating_add(self.within_ms);
            self.open.insert(
                scoped_key,
                Open {
                    at: ev.at.clone(),
                    key,
                },
                deadline,
            );
        }
    }

    fn advance(&mut self, now: i64, out: &mut Vec<Finding>) {
        let mut expired = Vec::new();
        self.open.expire(now, |_, o| expired.push(o));
        for o in expired {
            let message = format!(
                "no {} within {} ms after this event (the stream has moved past the deadline)",
                self.b_types(),
                self.within_ms
            );
            out.push(self.finding(FindingStatus::Violation, o.at, None, o.key, message));
        }
        self.closed.expire(now, |_, _| {});
    }

    fn finish(&mut self, out: &mut Vec<Finding>) {
        let mut left: Vec<Open> = self.open.drain().map(|(_, o)| o).collect();
        left.sort_by_key(|x| (x.at.input, x.at.line));
        for o in left {
            let message = format!(
                "still awaits its {} (within {} ms) when the stream ends",
                self.b_types(),
                self.within_ms
            );
            out.push(self.finding(FindingStatus::Pending, o.at, None, o.key, message));
        }
    }

    fn live(&self) -> usize {
        self.open.len() + self.closed.len()
    }
}
