//! Reference integrity: a field (`causation_id`, `ticket_event_id`, `origin.event_id`) names
//! another event by its key; the named event must be of the same tenant (R7) and not later than
//! the naming one beyond a clock skew (R3).
//!
//! A stream may deliver the cause after the effect (order holds only per message key, R5), so a
//! reference not yet resolved waits for `--window`: if the named event arrives within it, it is
//! judged then. With `resolve: required` the named event must come earlier in the stream.
//! Memory: the events that can be named, and the waiting references, both for `--window`.

use super::Check;
use super::rules::Resolve;
use super::select::{EventRef, Finding, FindingStatus, Seen, Sel, scoped, strings_at};
use super::window::Expiring;
use std::sync::Arc;

struct Target {
    tenant: Box<str>,
    at: EventRef,
}

struct Waiting {
    tenant: Box<str>,
    at: EventRef,
}

pub(crate) struct Reference {
    id: Arc<str>,
    from: Vec<Sel>,
    to: Vec<Sel>,
    same_tenant: bool,
    skew_ms: Option<i64>,
    resolve: Resolve,
    targets: Expiring<Target>,
    waiting: Expiring<Vec<Waiting>>,
    window_ms: i64,
}

impl Reference {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        id: Arc<str>,
        from: Vec<Sel>,
        to: Vec<Sel>,
        same_tenant: bool,
        skew_seconds: Option<u32>,
        resolve: Resolve,
        window_ms: i64,
    ) -> Self {
        Reference {
            id,
            from,
            to,
            same_tenant,
            skew_ms: skew_seconds.map(|s| i64::from(s) * 1000),
            resolve,
            targets: Expiring::default(),
            waiting: Expiring::default(),
            window_ms,
        }
    }

    /// What is wrong with `effect` naming `cause`, if anything.
    fn judge(
        &self,
        effect_tenant: &str,
        effect: &EventRef,
        cause_tenant: &str,
        cause: &EventRef,
    ) -> Option<String> {
        if self.same_tenant && effect_tenant != cause_tenant {
            return Some(format!(
                "event {} names event {} of another tenant (R7: causation and references never cross tenants)",
                effect.event_id, cause.event_id
            ));
        }
        if let Some(skew) = self.skew_ms {
            if cause.ts > effect.ts.saturating_add(skew) {
                return Some(format!(
                    "event {} names event {} whose timestamp is {} ms later (more than the {} ms skew allowed)",
                    effect.event_id,
                    cause.event_id,
                    cause.ts - effect.ts,
                    skew
                ));
            }
        }
        None
    }

    fn finding(&self, at: EventRef, earlier: EventRef, key: String, message: String) -> Finding {
        Finding {
            rule: Arc::clone(&self.id),
            status: FindingStatus::Violation,
            at,
            earlier: Some(earlier),
            key: Some(key),
            message,
        }
    }

    /// Keys are global: a reference may name an event of another tenant, which is the point.
    fn key_of(&self, tenant: &str, value: &str) -> String {
        if self.same_tenant {
            value.to_owned()
        } else {
            scoped(tenant, value)
        }
    }
}

impl Check for Reference {
    fn observe(&mut self, ev: &Seen<'_>, out: &mut Vec<Finding>) {
        // The naming side first: an event cannot name itself (that is `self_causation`, judged
        // per event), so registering it as a target afterwards changes nothing for it.
        for sel in &self.from {
            if !sel.reads(ev) {
                continue;
            }
            let Some(p) = &sel.reference else { continue };
            let mut names = Vec::new();
            strings_at(ev.value, p, |s| names.push(s.to_owned()));
            for name in names {
                let key = self.key_of(ev.tenant, &name);
                match self.targets.get(&key) {
                    Some(t) => {
                        if let Some(why) = self.judge(ev.tenant, &ev.at, &t.tenant, &t.at) {
                            out.push(self.finding(ev.at.clone(), t.at.clone(), name, why));
                        }
                    }
                    None if self.resolve == Resolve::Required => out.push(Finding {
                        rule: Arc::clone(&self.id),
                        status: FindingStatus::Violation,
                        at: ev.at.clone(),
                        earlier: None,
                        key: Some(name.clone()),
                        message: format!(
                            "{} {p} names {name}, which no earlier event of the kinds this rule allows has",
                            ev.event_type
                        ),
                    }),
                    None => {
                        let deadline = ev.at.ts.saturating_add(self.window_ms);
                        let waiting = Waiting {
                            tenant: ev.tenant.into(),
                            at: ev.at.clone(),
                        };
                        if let Some(list) = self.waiting.get_mut(&key) {
                            list.push(waiting);
                        } else {
                            self.waiting.insert(key, vec![waiting], deadline);
                        }
                    }
                }
            }
        }
        for sel in &self.to {
            if !sel.reads(ev) {
                continue;
            }
            for (_, value) in sel.keys_of(ev) {
                let key = self.key_of(ev.tenant, &value);
                if let Some(list) = self.waiting.remove(&key) {
                    for w in list {
                        if let Some(why) = self.judge(&w.tenant, &w.at, ev.tenant, &ev.at) {
                            // Reported at the named event (read now), pointing back at the
                            // earlier event that named it.
                            out.push(self.finding(ev.at.clone(), w.at, value.clone(), why));
                        }
                    }
                }
                let deadline = ev.at.ts.saturating_add(self.window_ms);
                self.targets.insert(
                    key,
                    Target {
                        tenant: ev.tenant.into(),
                        at: ev.at.clone(),
                    },
                    deadline,
                );
            }
        }
    }

    fn advance(&mut self, now: i64, _out: &mut Vec<Finding>) {
        self.targets.expire(now, |_, _| {});
        self.waiting.expire(now, |_, _| {});
    }

    fn live(&self) -> usize {
        self.targets.len() + self.waiting.len()
    }
}
