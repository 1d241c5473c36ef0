//! Uniqueness: a key appears once. With `byte_identical_redelivery` (R2, `event_id`), a repeat is
//! a re-delivery when its bytes are identical (consumers de-duplicate it; the engine then shows it
//! to no other rule) and a violation when they differ. Memory: one digest per key for `--window`.

use super::Check;
use super::select::{EventRef, Finding, FindingStatus, Seen, Sel, scoped};
use super::window::Expiring;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

pub(crate) struct Unique {
    id: Arc<str>,
    sels: Vec<Sel>,
    redelivery: bool,
    global: bool,
    seen: Expiring<(u64, EventRef)>,
    window_ms: i64,
}

/// What a unique rule made of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeat {
    /// First time (or not read by this rule).
    New,
    /// A byte-identical re-delivery of an event already seen.
    Redelivery,
    /// A repeat of a key that must be unique (with other bytes, for R2): a violation.
    Conflict,
}

fn digest(bytes: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

impl Unique {
    pub(crate) fn new(
        id: Arc<str>,
        sels: Vec<Sel>,
        redelivery: bool,
        global: bool,
        window_ms: i64,
    ) -> Self {
        Unique {
            id,
            sels,
            redelivery,
            global,
            seen: Expiring::default(),
            window_ms,
        }
    }

    /// Judge `ev`; tell whether it is a re-delivery.
    pub(crate) fn judge(&mut self, ev: &Seen<'_>, out: &mut Vec<Finding>) -> Repeat {
        let mut repeat = Repeat::New;
        let mut keys = Vec::new();
        for sel in self.sels.iter().filter(|s| s.reads(ev)) {
            keys.extend(sel.keys_of(ev).into_iter().map(|(_, k)| k));
        }
        if keys.is_empty() {
            return repeat;
        }
        let d = if self.redelivery {
            digest(trim(ev.bytes))
        } else {
            0
        };
        for key in keys {
            let stored = if self.global {
                key.clone()
            } else {
                scoped(ev.tenant, &key)
            };
            if let Some((first_digest, first)) = self.seen.get(&stored) {
                if self.redelivery && *first_digest == d {
                    repeat = Repeat::Redelivery;
                    continue;
                }
                repeat = Repeat::Conflict;
                let message = if self.redelivery {
                    format!(
                        "{key} was delivered before with different bytes: a re-delivery must be byte-identical (R2)"
                    )
                } else {
                    format!(
                        "a second {} for {key}: exactly one is allowed",
                        ev.event_type
                    )
                };
                out.push(Finding {
                    rule: Arc::clone(&self.id),
                    status: FindingStatus::Violation,
                    at: ev.at.clone(),
                    earlier: Some(first.clone()),
                    key: Some(key),
                    message,
                });
                continue;
            }
            let deadline = ev.at.ts.saturating_add(self.window_ms);
            self.seen.insert(stored, (d, ev.at.clone()), deadline);
        }
        repeat
    }
}

/// The line without the white space around it (a re-delivery may differ in its line ending).
fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    bytes.get(start..end).unwrap_or_default()
}

impl Check for Unique {
    fn observe(&mut self, ev: &Seen<'_>, out: &mut Vec<Finding>) {
        let _ = self.judge(ev, out);
    }

    fn advance(&mut self, now: i64, _out: &mut Vec<Finding>) {
        self.seen.expire(now, |_, _| {});
    }

    fn live(&self) -> usize {
        self.seen.len()
    }
}
