//! Stream mutants: a valid generated stream changed in one place so that exactly one rule is
//! broken. Each operator picks its site so that no other rule can notice: a site whose other
//! readers would also object is passed over, and an operator without a site makes no mutant.
//!
//! | operator | aimed at | change |
//! |---|---|---|
//! | `duplicate_changed_byte` | `unique` with re-delivery (R2) | the event again, one byte of `source` changed |
//! | `cross_tenant_causation` | reference, same tenant (R3/R7) | `causation_id` names an event of the other tenant |
//! | `cause_later_than_effect` | reference, not later (R3) | `causation_id` names a later event, > 2 s after |
//! | `counter_gap` | counter (contiguous) | one value one higher |
//! | `counter_repeat` | counter (increasing) | one value equal to the previous |
//! | `swap` | counter | two consecutive counted events of one key change places |
//! | `drop` | counter (contiguous) | a middle counted event removed |
//! | `illegal_transition` | state machine | an event of a finished key again, after its terminal event |
//! | `second_b` | pairing | the closing event of a pair again |

use super::generate::{Family, Model};
use super::rules::{Kind, Pointers, Progression, Resolve, Selector};
use serde_json::Value;

/// A mutation operator on one counter rule.
type CounterOp<'f> =
    fn(&Family<'f>, &[Value], &[Selector], Progression, &str) -> Option<Vec<Value>>;

/// One mutated stream.
#[derive(Debug, Clone)]
pub struct StreamMutant {
    /// The operator's name.
    pub operator: &'static str,
    /// The rule it must violate, alone.
    pub aimed: String,
    /// The stream.
    pub events: Vec<Value>,
}

fn event_type(e: &Value) -> &str {
    e.get("event_type")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn text<'v>(e: &'v Value, p: &str) -> Option<&'v str> {
    e.pointer(p).and_then(Value::as_str)
}

fn reads(sel: &Selector, event: &Value) -> bool {
    (sel.event_type == "*" || sel.event_type == event_type(event))
        && sel.when.iter().all(|(p, v)| match v {
            Value::Array(items) => event.pointer(p).is_some_and(|g| items.contains(g)),
            other => event.pointer(p) == Some(other),
        })
}

fn key_strings(e: &Value, sel: &Selector) -> Vec<String> {
    let mut out = Vec::new();
    for p in sel.key.as_ref().map(Pointers::list).unwrap_or_default() {
        match e.pointer(p) {
            Some(Value::String(s)) => out.push(s.clone()),
            Some(Value::Array(items)) => {
                out.extend(items.iter().filter_map(Value::as_str).map(str::to_owned))
            }
            _ => {}
        }
    }
    out
}

fn is_global(kind: &Kind) -> bool {
    kind.selectors().iter().all(|s| s.event_type == "*")
}

fn reads_causation(kind: &Kind, e: &Value) -> bool {
    kind.selectors().into_iter().any(|s| {
        reads(s, e)
            && (s.reference.as_deref() == Some("/causation_id")
                || s.key
                    .as_ref()
                    .is_some_and(|k| k.list().contains(&"/causation_id")))
    })
}

/// A copy of `e` as a new event: fresh `event_id`, timestamp `ts`, its `time` pointers too.
fn fresh_copy(e: &Value, n: usize, ts: &str, time_pointers: &[String]) -> Value {
    let mut c = e.clone();
    if let Some(map) = c.as_object_mut() {
        map.insert(
            "event_id".into(),
            Value::String(format!("0e0e0e0e-0000-4000-8000-{n:012x}")),
        );
        map.insert("timestamp".into(), Value::String(ts.to_owned()));
    }
    for p in time_pointers {
        if let Some(v) = c.pointer_mut(p) {
            *v = Value::String(ts.to_owned());
        }
    }
    c
}

fn ms(e: &Value) -> i64 {
    text(e, "/timestamp")
        .and_then(super::select::millis)
        .unwrap_or(0)
}

fn ts_after(events: &[Value], plus_ms: i64) -> String {
    let last = events.iter().map(ms).max().unwrap_or(0) + plus_ms;
    chrono::DateTime::from_timestamp_millis(last).map_or_else(String::new, |t| {
        use chrono::{Datelike, Timelike};
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.timestamp_subsec_millis()
        )
    })
}

impl Family<'_> {
    /// Every mutant the operators find a site for in `model`'s stream, one per operator and
    /// aimed rule, in a fixed order.
    #[must_use]
    pub fn mutants(&self, model: &Model) -> Vec<StreamMutant> {
        let events = &model.events;
        let mut out = Vec::new();
        if events.is_empty() {
            return out;
        }
        let rules = self.all_rules();
        for (id, kind) in rules {
            match kind {
                Kind::Unique {
                    byte_identical_redelivery: true,
                    ..
                } => {
                    if let Some(m) = self.duplicate_changed_byte(events) {
                        out.push(StreamMutant {
                            operator: "duplicate_changed_byte",
                            aimed: id.clone(),
                            events: m,
                        });
                    }
                }
                Kind::Reference {
                    from,
                    same_tenant,
                    not_later_skew_seconds,
                    resolve: Resolve::IfPresent,
                    ..
                } if from
                    .iter()
                    .any(|s| s.reference.as_deref() == Some("/causation_id"))
                    && is_global(kind) =>
                {
                    if *same_tenant {
                        if let Some(m) = self.cross_tenant_causation(model) {
                            out.push(StreamMutant {
                                operator: "cross_tenant_causation",
                                aimed: id.clone(),
                                events: m,
                            });
                        }
                    } else if let Some(skew) = not_later_skew_seconds {
                        if let Some(m) = self.cause_later(model, i64::from(*skew) * 1000) {
                            out.push(StreamMutant {
                                operator: "cause_later_than_effect",
                                aimed: id.clone(),
                                events: m,
                            });
                        }
                    }
                }
                Kind::Counter {
                    events: sels,
                    progression,
                    ..
                } => {
                    let ops: [(&'static str, CounterOp<'_>); 3] = [
                        ("counter_gap", Self::counter_gap),
                        ("swap", Self::swap),
                        ("drop", Self::drop_counted),
                    ];
                    for (name, op) in ops {
                        if let Some(m) = op(self, events, sels, *progression, id) {
                            let name = if name == "counter_gap"
                                && *progression == Progression::Increasing
                            {
                                "counter_repeat"
                            } else {
                                name
                            };
                            out.push(StreamMutant {
                                operator: name,
                                aimed: id.clone(),
                                events: m,
                            });
                        }
                    }
                }
                Kind::StateMachine { .. } => {
                    if let Some(m) = self.illegal_transition(model, id) {
                        out.push(StreamMutant {
                            operator: "illegal_transition",
                            aimed: id.clone(),
                            events: m,
                        });
                    }
                }
                Kind::Pairing { b, .. } => {
                    if let Some(m) = self.second_b(model, b, id) {
                        out.push(StreamMutant {
                            operator: "second_b",
                            aimed: id.clone(),
                            events: m,
                        });
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Whether a copy of `e` appended at the end would leave every rule but `aimed` (and the
    /// envelope rules, which see a fresh event) silent.
    fn quiet_copy(&self, model: &Model, e: &Value, aimed: &str, tenant: usize) -> bool {
        for (id, kind) in self.all_rules() {
            if id == aimed || is_global(kind) {
                continue;
            }
            match kind {
                Kind::Reference { .. } => {}
                Kind::Counter { events, .. } => {
                    for s in events.iter().filter(|s| reads(s, e)) {
                        for k in key_strings(e, s) {
                            if !model.counter_ended(self.rule_index(id), tenant, &k) {
                                return false;
                            }
                        }
                    }
                }
                other => {
                    if other
                        .selectors()
                        .into_iter()
                        .any(|s| reads(s, e) && !key_strings(e, s).is_empty())
                    {
                        return false;
                    }
                }
            }
        }
        true
    }

    fn duplicate_changed_byte(&self, events: &[Value]) -> Option<Vec<Value>> {
        let i = events.len() / 2;
        let mut copy = events[i].clone();
        let source = text(&copy, "/source")?.to_owned();
        let last = source.chars().last()?;
        let changed = format!(
            "{}{}",
            &source[..source.len() - last.len_utf8()],
            if last == 'a' { 'b' } else { 'a' }
        );
        copy.as_object_mut()?
            .insert("source".into(), Value::String(changed));
        if !self.valid(&copy) {
            return None;
        }
        let mut out = events.to_vec();
        out.insert(i + 1, copy);
        Some(out)
    }

    fn effect_site(&self, model: &Model) -> Vec<usize> {
        (0..model.events.len())
            .filter(|&j| {
                !self
                    .all_rules()
                    .iter()
                    .any(|(_, k)| !is_global(k) && reads_causation(k, &model.events[j]))
            })
            .collect()
    }

    fn cross_tenant_causation(&self, model: &Model) -> Option<Vec<Value>> {
        for j in self.effect_site(model) {
            let tj = model.meta[j].0;
            if let Some(i) = (0..j).rev().find(|&i| model.meta[i].0 != tj) {
                let mut out = model.events.clone();
                let cause = out[i].get("event_id").cloned()?;
                out[j].as_object_mut()?.insert("causation_id".into(), cause);
                return Some(out);
            }
        }
        None
    }

    fn cause_later(&self, model: &Model, skew_ms: i64) -> Option<Vec<Value>> {
        for j in self.effect_site(model) {
            let (tj, at) = model.meta[j];
            if let Some(i) = (j + 1..model.events.len())
                .find(|&i| model.meta[i].0 == tj && model.meta[i].1 > at + skew_ms)
            {
                let mut out = model.events.clone();
                let cause = out[i].get("event_id").cloned()?;
                out[j].as_object_mut()?.insert("causation_id".into(), cause);
                return Some(out);
            }
        }
        None
    }

    /// The counted events with a value, per tenant and key, in stream order.
    fn counted(events: &[Value], sels: &[Selector]) -> Vec<Vec<(usize, String)>> {
        let mut by_key: std::collections::BTreeMap<(String, String), Vec<(usize, String)>> =
            Default::default();
        for (i, e) in events.iter().enumerate() {
            for s in sels
                .iter()
                .filter(|s| reads(s, e) && s.value.is_some() && s.total.is_none())
            {
                for k in key_strings(e, s) {
                    let tenant = text(e, "/tenant_id").unwrap_or_default().to_owned();
                    by_key
                        .entry((tenant, k))
                        .or_default()
                        .push((i, s.value.clone().unwrap_or_default()));
                }
            }
        }
        by_key.into_values().collect()
    }

    fn counter_gap(
        &self,
        events: &[Value],
        sels: &[Selector],
        progression: Progression,
        _id: &str,
    ) -> Option<Vec<Value>> {
        for list in Self::counted(events, sels) {
            for w in list.windows(2) {
                let (i, p) = &w[1];
                let prev = events[w[0].0].pointer(&w[0].1).and_then(Value::as_i64)?;
                let v = events[*i].pointer(p).and_then(Value::as_i64)?;
                let new = match progression {
                    Progression::Contiguous => v + 1,
                    Progression::Increasing => prev,
                };
                let mut out = events.to_vec();
                *out[*i].pointer_mut(p)? = Value::from(new);
                if self.valid(&out[*i]) {
                    return Some(out);
                }
            }
        }
        None
    }

    fn swap(
        &self,
        events: &[Value],
        sels: &[Selector],
        _p: Progression,
        _id: &str,
    ) -> Option<Vec<Value>> {
        for list in Self::counted(events, sels) {
            for w in list.windows(2) {
                let (x, y) = (w[0].0, w[1].0);
                if event_type(&events[x]) != event_type(&events[y]) {
                    continue;
                }
                let vx = events[x].pointer(&w[0].1).and_then(Value::as_i64);
                let vy = events[y].pointer(&w[1].1).and_then(Value::as_i64);
                if vx == vy
                    || self.names_or_is_named(events, x)
                    || self.names_or_is_named(events, y)
                {
                    continue;
                }
                let mut out = events.to_vec();
                out.swap(x, y);
                return Some(out);
            }
        }
        None
    }

    fn drop_counted(
        &self,
        events: &[Value],
        sels: &[Selector],
        progression: Progression,
        _id: &str,
    ) -> Option<Vec<Value>> {
        if progression != Progression::Contiguous {
            return None;
        }
        for list in Self::counted(events, sels) {
            // A middle one, whose previous counted event has the same type (so no lifecycle step
            // is lost), named by no other event.
            for w in list.windows(3) {
                let (prev, mid) = (w[0].0, w[1].0);
                if event_type(&events[prev]) != event_type(&events[mid]) {
                    continue;
                }
                if self.names_or_is_named(events, mid) {
                    continue;
                }
                let mut out = events.to_vec();
                out.remove(mid);
                return Some(out);
            }
        }
        None
    }

    /// Whether moving or removing event `i` could change a reference: another event names it, or
    /// it must name an earlier event (a required reference of a non-envelope rule).
    fn names_or_is_named(&self, events: &[Value], i: usize) -> bool {
        let Some(id) = text(&events[i], "/event_id") else {
            return true;
        };
        let named = events
            .iter()
            .enumerate()
            .any(|(k, e)| k != i && e.to_string().contains(id));
        let names = self.all_rules().iter().any(|(_, kind)| match kind {
            Kind::Reference {
                from,
                resolve: Resolve::Required,
                ..
            } => from.iter().any(|s| reads(s, &events[i])),
            _ => false,
        });
        named || names
    }

    fn illegal_transition(&self, model: &Model, id: &str) -> Option<Vec<Value>> {
        let r = self.rule_index(id);
        let (
            _,
            Kind::StateMachine {
                events: sels,
                terminal,
                ..
            },
        ) = &self.all_rules()[r]
        else {
            return None;
        };
        for (i, e) in model.events.iter().enumerate() {
            let tenant = model.meta[i].0;
            for s in sels.iter().filter(|s| reads(s, e)) {
                for p in s.key.as_ref().map(Pointers::list).unwrap_or_default() {
                    let Some(k) = text(e, p) else { continue };
                    let Some(state) = model.machine_state(self, r, tenant, k) else {
                        continue;
                    };
                    if !terminal.contains(&state) {
                        continue;
                    }
                    let times: Vec<String> = s.time.iter().cloned().collect();
                    let copy = fresh_copy(e, i + 1, &ts_after(&model.events, 1000), &times);
                    if self.allowed_at_end(model, r, tenant, k, &copy, p)
                        || !self.quiet_copy(model, &copy, id, tenant)
                    {
                        continue;
                    }
                    let mut out = model.events.clone();
                    out.push(copy);
                    return Some(out);
                }
            }
        }
        None
    }

    fn second_b(&self, model: &Model, b: &[Selector], id: &str) -> Option<Vec<Value>> {
        for (i, e) in model.events.iter().enumerate().rev() {
            if !b.iter().any(|s| reads(s, e)) {
                continue;
            }
            let copy = fresh_copy(e, i + 1, &ts_after(&model.events, 1000), &[]);
            if !self.quiet_copy(model, &copy, id, model.meta[i].0) {
                continue;
            }
            let mut out = model.events.clone();
            out.push(copy);
            return Some(out);
        }
        None
    }
}
