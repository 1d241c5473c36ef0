//! Generated event streams from the rule data: a reference model of one family's rules that turns
//! abstract steps into valid events, and mutants each aimed at one rule.
//!
//! The model is the referee of the stream properties, so it shares no code with the engine: it
//! keeps its own state per rule (state-machine states, counters, open pairs, nameable targets) and
//! builds each event to satisfy every rule by construction. A step is `(tenant, driver, key slot,
//! pick, entropy)`: the driver is one of the family's state machines (or, without one, a pairing
//! rule read as `absent -A-> open -B-> closed`), the pick one of the transitions the key's state
//! allows. The event starts as a schema-valid instance from the event generators and gets its
//! keys, match values, counters, pair keys and required references written in; an instance the
//! schema then rejects (or whose random fields would open a pair the step did not plan) is
//! discarded and re-drawn, up to [`ATTEMPTS`], and every discard is counted. A step with no
//! allowed transition is skipped, so any list of steps renders a valid stream: what
//! `proptest-state-machine` needs to shrink a failing stream by dropping steps.

use super::rules::{Kind, Pointers, RuleSet, Selector};
use crate::events::EventGenerators;
use crate::registry::Registry;
use contracts_gen::RngSource;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Re-draws of one step's base event before the step is skipped.
pub const ATTEMPTS: u64 = 12;
/// Tenants every generated stream interleaves.
pub const TENANTS: usize = 2;
/// The first timestamp of every generated stream (ms since the epoch: 2025-11-06T10:00:00Z).
const EPOCH_MS: i64 = 1_762_423_200_000;

/// One abstract step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Which tenant (mod [`TENANTS`]).
    pub tenant: u8,
    /// Which driver rule (mod the family's drivers).
    pub driver: u8,
    /// Which key of that tenant and driver (mod the model's key count).
    pub slot: u8,
    /// Which allowed transition (mod their number).
    pub pick: u16,
    /// Entropy for the base event.
    pub entropy: u32,
}

/// What the model reads of a rule.
#[derive(Debug, Clone)]
enum Driver {
    /// A state machine rule (index into the family's rules).
    Machine(usize),
    /// A pairing rule read as a machine.
    Pairing(usize),
}

/// Everything the model needs, built once per family.
#[derive(Debug)]
pub struct Family<'a> {
    registry: &'a Registry,
    generators: &'a EventGenerators,
    /// The rules of this family and of the envelope file, flattened: `(id, kind)`.
    rules: Vec<(String, Kind)>,
    drivers: Vec<Driver>,
    /// The family's name.
    pub name: String,
    /// The rule file's stem (`ticket`, `browser-ssh`).
    pub stem: String,
    /// Keys per tenant and driver.
    pub keys: u8,
    seed: u64,
}

/// A family's rule file stem from its path (`events/rules/ticket.rules.json` -> `ticket`).
#[must_use]
pub fn stem(rel_path: &str) -> String {
    let name = rel_path.rsplit('/').next().unwrap_or(rel_path);
    name.strip_suffix(super::rules::RULES_SUFFIX)
        .unwrap_or(name)
        .to_owned()
}

impl<'a> Family<'a> {
    /// The model of the family whose rule file is `stem`, or `None` when there is no such file.
    #[must_use]
    pub fn new(
        registry: &'a Registry,
        generators: &'a EventGenerators,
        rules: &RuleSet,
        family_stem: &str,
        keys: u8,
        seed: u64,
    ) -> Option<Self> {
        let file = rules
            .files
            .iter()
            .find(|f| stem(&f.rel_path) == family_stem)?;
        let mut all: Vec<(String, Kind)> = file
            .file
            .rules
            .iter()
            .map(|r| (r.id.clone(), r.kind.clone()))
            .collect();
        // Every rule of every file judges the stream, so the model honours them all.
        for f in &rules.files {
            if f.rel_path != file.rel_path {
                all.extend(f.file.rules.iter().map(|r| (r.id.clone(), r.kind.clone())));
            }
        }
        let own = file.file.rules.len();
        let drivers: Vec<Driver> = (0..own)
            .filter_map(|i| match &all[i].1 {
                Kind::StateMachine { .. } => Some(Driver::Machine(i)),
                Kind::Pairing { a, b, .. }
                    if a.iter()
                        .chain(b)
                        .all(|s| s.key.as_ref().is_some_and(payload_keys)) =>
                {
                    Some(Driver::Pairing(i))
                }
                _ => None,
            })
            .collect();
        Some(Family {
            registry,
            generators,
            rules: all,
            drivers,
            name: file.file.family.clone(),
            stem: family_stem.to_owned(),
            keys: keys.max(1),
            seed,
        })
    }

    /// Whether the model can drive this family (it has a state machine, or a pairing keyed by
    /// payload fields).
    #[must_use]
    pub fn drivable(&self) -> bool {
        !self.drivers.is_empty()
    }

    /// The number of drivers.
    #[must_use]
    pub fn drivers(&self) -> usize {
        self.drivers.len()
    }

    /// A fresh model state.
    #[must_use]
    pub fn start(&self) -> Model {
        Model::default()
    }

    /// Rule ids of the family's own file, then the others.
    #[must_use]
    pub fn rule_ids(&self) -> Vec<&str> {
        self.rules.iter().map(|(id, _)| id.as_str()).collect()
    }
}

fn payload_keys(k: &Pointers) -> bool {
    k.list().iter().all(|p| p.starts_with("/payload/"))
}

/// The model's state: the events so far and what every rule knows of them.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// The stream so far.
    pub events: Vec<Value>,
    /// Each event's tenant index and timestamp (ms).
    pub meta: Vec<(usize, i64)>,
    machine: HashMap<(usize, String), u16>,
    counters: HashMap<(usize, String), CounterState>,
    /// Open pairs: `(rule, scoped key)` -> the A event.
    open: HashMap<(usize, String), Value>,
    closed: HashSet<(usize, String)>,
    /// Nameable targets of the rules whose references must resolve: scoped keys.
    targets: HashMap<usize, std::collections::BTreeSet<String>>,
    unique: HashSet<(usize, String)>,
    /// How many lifecycles each `(driver, tenant, slot)` has finished.
    epochs: HashMap<(usize, usize, u8), u64>,
    clock: i64,
    minted: u64,
    /// Base events discarded and re-drawn.
    pub discarded: u64,
    /// Steps skipped (no allowed transition, or no valid event within [`ATTEMPTS`]).
    pub skipped: u64,
}

#[derive(Debug, Clone, Default)]
struct CounterState {
    last: Option<i64>,
    count: i64,
    ended: bool,
}

fn tenant_id(t: usize) -> String {
    format!("5e100000-0000-4000-8000-{:012x}", t + 1)
}

fn scoped(tenant: &str, key: &str) -> String {
    format!("{tenant}/{key}")
}

/// A v4-shaped UUID from a number (lowercase, RFC 9562 variant).
fn uuid_of(n: u64, salt: u64) -> String {
    let x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt;
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (x >> 32) as u32,
        (x >> 16) & 0xffff,
        x & 0xfff,
        (n >> 4) & 0xfff,
        n & 0xffff_ffff_ffff
    )
}

fn ts_string(ms: i64) -> String {
    use chrono::{Datelike, Timelike};
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(String::new, |t| {
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

fn set(event: &mut Value, pointer: &str, value: Value) -> bool {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return false;
    };
    let target = if parent.is_empty() {
        Some(&mut *event)
    } else {
        event.pointer_mut(parent)
    };
    match target {
        Some(Value::Object(map)) => {
            map.insert(last.replace("~1", "/").replace("~0", "~"), value);
            true
        }
        _ => false,
    }
}

fn reads(sel: &Selector, event: &Value) -> bool {
    let ty = event
        .get("event_type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    (sel.event_type == "*" || sel.event_type == ty)
        && sel.when.iter().all(|(p, v)| {
            let got = event.pointer(p);
            match v {
                Value::Array(items) => got.is_some_and(|g| items.contains(g)),
                other => got == Some(other),
            }
        })
}

fn keys_at(event: &Value, pointer: &str) -> Vec<String> {
    match event.pointer(pointer) {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// The accepted value of a `match` entry to write: the first, or one drawn by `pick`.
fn accepted(v: &Value, pick: u64) -> Value {
    match v {
        Value::Array(items) if !items.is_empty() => {
            items[usize::try_from(pick).unwrap_or(0) % items.len()].clone()
        }
        other => other.clone(),
    }
}

impl Family<'_> {
    fn machine_parts(&self, rule: usize) -> Option<MachineView<'_>> {
        match &self.rules[rule].1 {
            Kind::StateMachine {
                events,
                states,
                initial,
                transitions,
                ..
            } => Some(MachineView {
                events,
                states,
                initial,
                transitions: transitions
                    .iter()
                    .map(|t| {
                        (
                            t.on.clone(),
                            t.from.clone(),
                            t.to.clone(),
                            t.when.clone(),
                            t.via.clone(),
                        )
                    })
                    .collect(),
            }),
            Kind::Pairing { a, b, .. } => Some(MachineView {
                events: &[],
                states: &[],
                initial: "absent",
                transitions: a
                    .iter()
                    .map(|s| {
                        (
                            vec![s.event_type.clone()],
                            vec!["absent".to_owned()],
                            Some("open".to_owned()),
                            s.when.clone(),
                            None,
                        )
                    })
                    .chain(b.iter().map(|s| {
                        (
                            vec![s.event_type.clone()],
                            vec!["open".to_owned()],
                            Some("closed".to_owned()),
                            s.when.clone(),
                            None,
                        )
                    }))
                    .collect(),
            }),
            _ => None,
        }
    }

    fn machine_key_pointer(&self, rule: usize, ty: &str, via: Option<&str>) -> Option<String> {
        let sels: Vec<&Selector> = match &self.rules[rule].1 {
            Kind::StateMachine { events, .. } => events.iter().collect(),
            Kind::Pairing { a, b, .. } => a.iter().chain(b).collect(),
            _ => Vec::new(),
        };
        let sel = sels.into_iter().find(|s| s.event_type == ty)?;
        let list = sel.key.as_ref()?.list();
        via.map_or_else(
            || list.first().map(|p| (*p).to_owned()),
            |v| list.iter().find(|p| **p == v).map(|p| (*p).to_owned()),
        )
    }

    fn state_index(&self, rule: usize, name: &str) -> u16 {
        match &self.rules[rule].1 {
            Kind::StateMachine { states, .. } => states
                .iter()
                .position(|s| s == name)
                .and_then(|i| u16::try_from(i).ok())
                .unwrap_or(0),
            _ => match name {
                "absent" => 0,
                "open" => 1,
                _ => 2,
            },
        }
    }

    fn state_name(&self, rule: usize, index: u16) -> String {
        match &self.rules[rule].1 {
            Kind::StateMachine { states, .. } => {
                states.get(usize::from(index)).cloned().unwrap_or_default()
            }
            _ => ["absent", "open", "closed"][usize::from(index).min(2)].to_owned(),
        }
    }

    /// The key of a `(driver, tenant, slot)` in its `epoch`-th lifecycle.
    fn slot_key(&self, (driver, tenant, slot): (usize, usize, u8), epoch: u64) -> String {
        let n = (self.seed << 40)
            ^ (epoch << 20)
            ^ ((tenant as u64) << 16)
            ^ ((driver as u64) << 8)
            ^ u64::from(slot);
        uuid_of(n, 0x5EED_0000_0000_0000)
    }

    /// Apply one step: append its event to `m`, or skip it.
    pub fn step(&self, m: &mut Model, step: Step) {
        if self.drivers.is_empty() {
            m.skipped += 1;
            return;
        }
        let tenant = usize::from(step.tenant) % TENANTS;
        let driver_index = usize::from(step.driver) % self.drivers.len();
        let rule = match self.drivers[driver_index] {
            Driver::Machine(r) | Driver::Pairing(r) => r,
        };
        let slot = (driver_index, tenant, step.slot % self.keys);
        let tenant_s = tenant_id(tenant);
        let Some(view) = self.machine_parts(rule) else {
            m.skipped += 1;
            return;
        };
        let options_for = |m: &Model, key: &str| -> Vec<(usize, String)> {
            let sk = (rule, scoped(&tenant_s, key));
            let state_name = match self.drivers[driver_index] {
                Driver::Machine(_) => m
                    .machine
                    .get(&sk)
                    .map_or_else(|| view.initial.to_owned(), |s| self.state_name(rule, *s)),
                Driver::Pairing(_) if m.open.contains_key(&sk) => "open".to_owned(),
                Driver::Pairing(_) if m.closed.contains(&sk) => "closed".to_owned(),
                Driver::Pairing(_) => "absent".to_owned(),
            };
            view.transitions
                .iter()
                .enumerate()
                .filter(|(_, t)| t.1.contains(&state_name))
                .flat_map(|(i, t)| t.0.iter().map(move |ty| (i, ty.clone())))
                .filter(|(_, ty)| ty != "*")
                .collect()
        };
        let mut key = self.slot_key(slot, m.epochs.get(&slot).copied().unwrap_or(0));
        let mut options = options_for(m, &key);
        if options.is_empty() {
            // The key's lifecycle is over: the slot moves on to a new key.
            let epoch = m.epochs.entry(slot).or_insert(0);
            *epoch += 1;
            key = self.slot_key(slot, *epoch);
            options = options_for(m, &key);
        }
        if options.is_empty() {
            m.skipped += 1;
            return;
        }
        let (ti, ty) = options[usize::from(step.pick) % options.len()].clone();
        let ty = ty.as_str();
        let (_, _, _, when, via) = &view.transitions[ti];
        let (minted, clock) = (m.minted, m.clock);
        for attempt in 0..ATTEMPTS {
            if self
                .render(
                    m,
                    rule,
                    tenant,
                    &key,
                    ty,
                    when,
                    via.as_deref(),
                    step,
                    attempt,
                )
                .is_some()
            {
                return;
            }
            (m.minted, m.clock) = (minted, clock);
            m.discarded += 1;
        }
        m.skipped += 1;
    }

    #[allow(clippy::too_many_arguments)]
    fn render(
        &self,
        m: &mut Model,
        driver_rule: usize,
        tenant: usize,
        key: &str,
        ty: &str,
        when: &BTreeMap<String, Value>,
        via: Option<&str>,
        step: Step,
        attempt: u64,
    ) -> Option<()> {
        let generator = self.generators.get(ty, 1)?;
        let entropy =
            (u64::from(step.entropy) << 8) ^ attempt ^ (self.seed << 40) ^ (m.minted << 16);
        let mut src = RngSource::new(entropy);
        let mut ev = generator.valid(&mut src).ok()?;
        let tenant_s = tenant_id(tenant);
        m.minted += 1;
        m.clock = m.clock.max(EPOCH_MS) + 1000 + i64::from(step.entropy % 2000);
        let event_id = uuid_of(m.minted, self.seed.wrapping_mul(31) ^ 0x0E0E);
        set(&mut ev, "/event_id", Value::String(event_id.clone()));
        set(&mut ev, "/tenant_id", Value::String(tenant_s.clone()));
        set(&mut ev, "/timestamp", Value::String(ts_string(m.clock)));
        set(
            &mut ev,
            "/correlation_id",
            Value::String(uuid_of(m.minted, 0xC0FF_EE00)),
        );
        set(&mut ev, "/causation_id", Value::Null);
        // The driver's key and the transition's values.
        let pointer = self.machine_key_pointer(driver_rule, ty, via)?;
        let key_value = if ev.pointer(&pointer).is_some_and(Value::is_array) {
            Value::Array(vec![Value::String(key.to_owned())])
        } else {
            Value::String(key.to_owned())
        };
        if !set(&mut ev, &pointer, key_value) {
            return None;
        }
        for (p, v) in when {
            set(&mut ev, p, accepted(v, u64::from(step.entropy) >> 3));
        }
        // Other state machines reading this event: their keys must be in a state that allows it.
        let own_pointer = pointer.clone();
        for r in 0..self.rules.len() {
            let Kind::StateMachine { events, .. } = &self.rules[r].1 else {
                continue;
            };
            for sel in events.iter().filter(|s| reads(s, &ev)).collect::<Vec<_>>() {
                for p in sel.key.as_ref().map(Pointers::list).unwrap_or_default() {
                    if r == driver_rule && p == own_pointer {
                        continue;
                    }
                    for k in keys_at(&ev, p) {
                        if self.machine_allows(m, r, &tenant_s, &k, &ev, p).is_some() {
                            continue;
                        }
                        // Re-key to a live key of this tenant whose state allows the event.
                        let candidates: Vec<String> = m
                            .machine
                            .keys()
                            .filter(|(rr, sk)| *rr == r && sk.starts_with(&format!("{tenant_s}/")))
                            .map(|(_, sk)| sk[tenant_s.len() + 1..].to_owned())
                            .collect();
                        let mut sorted = candidates;
                        sorted.sort();
                        let found = sorted.into_iter().find(|c| {
                            let mut probe = ev.clone();
                            set(&mut probe, p, Value::String(c.clone()));
                            self.machine_allows(m, r, &tenant_s, c, &probe, p).is_some()
                        });
                        let c = found?;
                        if ev.pointer(p).is_some_and(Value::is_array) {
                            set(&mut ev, p, Value::Array(vec![Value::String(c)]));
                        } else {
                            set(&mut ev, p, Value::String(c));
                        }
                    }
                }
            }
        }
        // Required references: name an earlier target of this tenant.
        for r in 0..self.rules.len() {
            let Kind::Reference { from, resolve, .. } = &self.rules[r].1 else {
                continue;
            };
            if *resolve != super::rules::Resolve::Required {
                continue;
            }
            for sel in from.iter().filter(|s| reads(s, &ev)).collect::<Vec<_>>() {
                let Some(p) = &sel.reference else { continue };
                let targets = m.targets.get(&r)?;
                let prefix = format!("{tenant_s}/");
                let name = targets.iter().rev().find(|k| k.starts_with(&prefix))?;
                set(&mut ev, p, Value::String(name[prefix.len()..].to_owned()));
            }
        }
        // Pairs: a B names an open A; an A opens only where none is open.
        for r in 0..self.rules.len() {
            let Kind::Pairing { a, b, .. } = &self.rules[r].1 else {
                continue;
            };
            for sel in b.iter().filter(|s| reads(s, &ev)).collect::<Vec<_>>() {
                let p = sel.key.as_ref()?.list().first().map(|s| (*s).to_owned())?;
                if p == "/causation_id" {
                    // The open A of this tenant (and of this driver key when it has one).
                    let mut open: Vec<(&(usize, String), &Value)> = m
                        .open
                        .iter()
                        .filter(|((rr, sk), _)| *rr == r && sk.starts_with(&format!("{tenant_s}/")))
                        .collect();
                    open.sort_by(|x, y| x.0.cmp(y.0));
                    let (_, a_event) = open.into_iter().find(|(_, a_event)| {
                        a_event.pointer(&own_pointer).and_then(Value::as_str) == Some(key)
                    })?;
                    let a_id = a_event.get("event_id").cloned()?;
                    set(&mut ev, "/causation_id", a_id);
                } else {
                    let ks = keys_at(&ev, &p);
                    if ks
                        .iter()
                        .any(|k| !m.open.contains_key(&(r, scoped(&tenant_s, k))))
                    {
                        return None;
                    }
                }
            }
            for sel in a.iter().filter(|s| reads(s, &ev)).collect::<Vec<_>>() {
                let p = sel.key.as_ref()?.list().first().map(|s| (*s).to_owned())?;
                for k in keys_at(&ev, &p) {
                    let sk = scoped(&tenant_s, &k);
                    if m.open.contains_key(&(r, sk.clone())) || m.closed.contains(&(r, sk)) {
                        return None;
                    }
                }
            }
        }
        // Counters: the next value, the running total.
        for r in 0..self.rules.len() {
            let Kind::Counter {
                events,
                start,
                progression,
            } = &self.rules[r].1
            else {
                continue;
            };
            for sel in events.iter().filter(|s| reads(s, &ev)).collect::<Vec<_>>() {
                let p = sel.key.as_ref()?.list().first().map(|s| (*s).to_owned())?;
                for k in keys_at(&ev, &p) {
                    let st = m
                        .counters
                        .get(&(r, scoped(&tenant_s, &k)))
                        .cloned()
                        .unwrap_or_default();
                    if st.ended {
                        continue;
                    }
                    if let Some(vp) = &sel.value {
                        let next = match (st.last, progression) {
                            (Some(v), super::rules::Progression::Contiguous) => v + 1,
                            (Some(v), super::rules::Progression::Increasing) => {
                                v + 1 + i64::from(step.entropy % 3)
                            }
                            (None, _) => start.unwrap_or(1),
                        };
                        set(&mut ev, vp, Value::from(next));
                    }
                    if let Some(tp) = &sel.total {
                        set(&mut ev, tp, Value::from(st.count));
                    }
                }
            }
        }
        if !self.registry.validate_value(&ev).is_valid() {
            return None;
        }
        // The event as built must be acceptable to every rule; a random field can still make it
        // open a pair twice or name nothing (checked above) — commit its effects now.
        self.commit(m, ev, tenant)
    }

    /// Which transition of machine `r` the event takes for key `k` (read at `p`), if any.
    fn machine_allows(
        &self,
        m: &Model,
        r: usize,
        tenant: &str,
        k: &str,
        ev: &Value,
        p: &str,
    ) -> Option<Option<u16>> {
        let Kind::StateMachine {
            initial,
            transitions,
            states,
            ..
        } = &self.rules[r].1
        else {
            return None;
        };
        let ty = ev.get("event_type").and_then(Value::as_str)?;
        let state = m
            .machine
            .get(&(r, scoped(tenant, k)))
            .copied()
            .unwrap_or_else(|| self.state_index(r, initial));
        let name = states.get(usize::from(state))?;
        transitions
            .iter()
            .find(|t| {
                t.on.iter().any(|o| o == ty)
                    && t.from.iter().any(|f| f == name)
                    && t.via.as_deref().is_none_or(|v| v == p)
                    && t.when.iter().all(|(wp, wv)| match wv {
                        Value::Array(items) => ev.pointer(wp).is_some_and(|g| items.contains(g)),
                        other => ev.pointer(wp) == Some(other),
                    })
            })
            .map(|t| t.to.as_deref().map(|to| self.state_index(r, to)))
    }

    fn commit(&self, m: &mut Model, ev: Value, tenant: usize) -> Option<()> {
        self.admissible(m, &ev, tenant)?;
        let tenant_s = tenant_id(tenant);
        let mut machine_updates = Vec::new();
        for r in 0..self.rules.len() {
            match &self.rules[r].1 {
                Kind::StateMachine {
                    events, initial, ..
                } => {
                    for sel in events.iter().filter(|s| reads(s, &ev)).collect::<Vec<_>>() {
                        for p in sel.key.as_ref().map(Pointers::list).unwrap_or_default() {
                            for k in keys_at(&ev, p) {
                                let sk = scoped(&tenant_s, &k);
                                match self.machine_allows(m, r, &tenant_s, &k, &ev, p)? {
                                    Some(to) => machine_updates.push(((r, sk), to)),
                                    None if !m.machine.contains_key(&(r, sk.clone())) => {
                                        machine_updates
                                            .push(((r, sk), self.state_index(r, initial)));
                                    }
                                    None => {}
                                }
                            }
                        }
                    }
                }
                Kind::Pairing { a, b, .. } => {
                    for sel in b.iter().filter(|s| reads(s, &ev)).collect::<Vec<_>>() {
                        for p in sel.key.as_ref().map(Pointers::list).unwrap_or_default() {
                            for k in keys_at(&ev, p) {
                                let sk = scoped(&tenant_s, &k);
                                m.open.remove(&(r, sk.clone()));
                                m.closed.insert((r, sk));
                            }
                        }
                    }
                    for sel in a.iter().filter(|s| reads(s, &ev)).collect::<Vec<_>>() {
                        for p in sel.key.as_ref().map(Pointers::list).unwrap_or_default() {
                            for k in keys_at(&ev, p) {
                                m.open.insert((r, scoped(&tenant_s, &k)), ev.clone());
                            }
                        }
                    }
                }
                Kind::Counter { events, .. } => {
                    for sel in events.iter().filter(|s| reads(s, &ev)).collect::<Vec<_>>() {
                        for p in sel.key.as_ref().map(Pointers::list).unwrap_or_default() {
                            for k in keys_at(&ev, p) {
                                let st = m.counters.entry((r, scoped(&tenant_s, &k))).or_default();
                                if st.ended {
                                    continue;
                                }
                                if let Some(vp) = &sel.value {
                                    st.last = ev.pointer(vp).and_then(Value::as_i64);
                                }
                                if sel.total.is_none() {
                                    st.count += 1;
                                }
                                st.ended = sel.last || sel.total.is_some();
                            }
                        }
                    }
                }
                Kind::Reference { to, resolve, .. } => {
                    if *resolve != super::rules::Resolve::Required {
                        continue;
                    }
                    for sel in to.iter().filter(|s| reads(s, &ev)).collect::<Vec<_>>() {
                        for p in sel.key.as_ref().map(Pointers::list).unwrap_or_default() {
                            for k in keys_at(&ev, p) {
                                m.targets
                                    .entry(r)
                                    .or_default()
                                    .insert(scoped(&tenant_s, &k));
                            }
                        }
                    }
                }
                Kind::Unique {
                    events,
                    global,
                    byte_identical_redelivery,
                } => {
                    if *byte_identical_redelivery {
                        continue; // event_ids are minted fresh
                    }
                    for sel in events.iter().filter(|s| reads(s, &ev)).collect::<Vec<_>>() {
                        for p in sel.key.as_ref().map(Pointers::list).unwrap_or_default() {
                            for k in keys_at(&ev, p) {
                                let sk = if *global { k } else { scoped(&tenant_s, &k) };
                                m.unique.insert((r, sk));
                            }
                        }
                    }
                }
            }
        }
        for (k, v) in machine_updates {
            m.machine.insert(k, v);
        }
        m.meta.push((tenant, m.clock));
        m.events.push(ev);
        Some(())
    }

    /// Whether every rule accepts `ev` next, by the model's own reading of the rules.
    fn admissible(&self, m: &Model, ev: &Value, tenant: usize) -> Option<()> {
        let tenant_s = tenant_id(tenant);
        for r in 0..self.rules.len() {
            match &self.rules[r].1 {
                Kind::StateMachine { events, .. } => {
                    for sel in events.iter().filter(|s| reads(s, ev)) {
                        for p in sel.key.as_ref().map(Pointers::list).unwrap_or_default() {
                            for k in keys_at(ev, p) {
                                self.machine_allows(m, r, &tenant_s, &k, ev, p)?;
                            }
                        }
                    }
                }
                Kind::Pairing { a, b, .. } => {
                    for sel in b.iter().filter(|s| reads(s, ev)) {
                        for p in sel.key.as_ref().map(Pointers::list).unwrap_or_default() {
                            for k in keys_at(ev, p) {
                                if !m.open.contains_key(&(r, scoped(&tenant_s, &k))) {
                                    return None;
                                }
                            }
                        }
                    }
                    for sel in a.iter().filter(|s| reads(s, ev)) {
                        for p in sel.key.as_ref().map(Pointers::list).unwrap_or_default() {
                            for k in keys_at(ev, p) {
                                let sk = scoped(&tenant_s, &k);
                                if m.open.contains_key(&(r, sk.clone()))
                                    || m.closed.contains(&(r, sk))
                                {
                                    return None;
                                }
                            }
                        }
                    }
                }
                Kind::Unique {
                    events,
                    global,
                    byte_identical_redelivery,
                } if !*byte_identical_redelivery => {
                    for sel in events.iter().filter(|s| reads(s, ev)) {
                        for p in sel.key.as_ref().map(Pointers::list).unwrap_or_default() {
                            for k in keys_at(ev, p) {
                                let sk = if *global { k } else { scoped(&tenant_s, &k) };
                                if m.unique.contains(&(r, sk)) {
                                    return None;
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        Some(())
    }
}

struct MachineView<'r> {
    #[allow(dead_code)]
    events: &'r [Selector],
    #[allow(dead_code)]
    states: &'r [String],
    initial: &'r str,
    #[allow(clippy::type_complexity)]
    transitions: Vec<(
        Vec<String>,
        Vec<String>,
        Option<String>,
        BTreeMap<String, Value>,
        Option<String>,
    )>,
}

/// The steps of a seeded stream of `length` steps (the CLI's `gen-stream`).
#[must_use]
pub fn seeded_steps(seed: u64, length: usize) -> Vec<Step> {
    let mut src = RngSource::new(seed);
    let mut draw = |max: u64| contracts_gen::Source::draw(&mut src, max);
    (0..length)
        .map(|_| Step {
            tenant: u8::try_from(draw(255)).unwrap_or(0),
            driver: u8::try_from(draw(255)).unwrap_or(0),
            slot: u8::try_from(draw(255)).unwrap_or(0),
            pick: u16::try_from(draw(u64::from(u16::MAX))).unwrap_or(0),
            entropy: u32::try_from(draw(u64::from(u32::MAX))).unwrap_or(0),
        })
        .collect()
}

/// One family's line of the fixed-seed property run in docs/streams.md.
#[derive(Debug, Clone, Default)]
pub struct FamilyResult {
    /// The family.
    pub family: String,
    /// Valid sequences generated.
    pub sequences: usize,
    /// Events in them.
    pub events: usize,
    /// Of which `check-stream` found no violation in.
    pub valid_passed: usize,
    /// Mutants made.
    pub mutants: usize,
    /// Of which violated exactly their aimed rule.
    pub mutants_exact: usize,
    /// Mutants per aimed rule id.
    pub aimed: BTreeMap<String, usize>,
}

impl Family<'_> {
    /// Every rule the model honours: the family's, then every other file's.
    pub(crate) fn all_rules(&self) -> &[(String, Kind)] {
        &self.rules
    }

    pub(crate) fn rule_index(&self, id: &str) -> usize {
        self.rules
            .iter()
            .position(|(r, _)| r == id)
            .unwrap_or(usize::MAX)
    }

    /// Whether `event` is schema-valid.
    pub(crate) fn valid(&self, event: &Value) -> bool {
        self.registry.validate_value(event).is_valid()
    }

    /// Whether machine `r` would accept `ev` for key `k` (read at `p`) after the whole stream.
    pub(crate) fn allowed_at_end(
        &self,
        m: &Model,
        r: usize,
        tenant: usize,
        k: &str,
        ev: &Value,
        p: &str,
    ) -> bool {
        self.machine_allows(m, r, &tenant_id(tenant), k, ev, p)
            .is_some()
    }
}

impl Model {
    /// Whether counter `r`'s key `k` of `tenant` has ended.
    pub(crate) fn counter_ended(&self, r: usize, tenant: usize, k: &str) -> bool {
        self.counters
            .get(&(r, scoped(&tenant_id(tenant), k)))
            .is_some_and(|c| c.ended)
    }

    /// The state of machine `r`'s key `k` of `tenant` after the whole stream.
    pub(crate) fn machine_state(
        &self,
        family: &Family<'_>,
        r: usize,
        tenant: usize,
        k: &str,
    ) -> Option<String> {
        self.machine
            .get(&(r, scoped(&tenant_id(tenant), k)))
            .map(|s| family.state_name(r, *s))
    }
}

/// The parameters of the docs run: seed, streams per family, steps per stream, keys per tenant.
/// Small, so `contracts check` can redo the run to check docs/streams.md for drift in seconds.
pub const DOCS_RUN: (u64, usize, usize, u8) = (0, 3, 32, 3);

/// The docs/streams.md text: the rules and the [`DOCS_RUN`] property results.
#[must_use]
pub fn docs_markdown(registry: &Registry, generators: &EventGenerators, rules: &RuleSet) -> String {
    let (seed, cases, length, keys) = DOCS_RUN;
    let results = self_check(registry, generators, rules, seed, cases, length, keys);
    super::docs::streams_markdown(rules, &results)
}

/// The fixed-seed property run behind docs/streams.md: per drivable family, `cases` valid
/// streams of `length` steps over `keys` keys per tenant, each judged by the engine, and every
/// mutant of each, which must violate exactly its aimed rule.
#[must_use]
pub fn self_check(
    registry: &Registry,
    generators: &EventGenerators,
    rules: &RuleSet,
    seed: u64,
    cases: usize,
    length: usize,
    keys: u8,
) -> Vec<FamilyResult> {
    use super::fixtures::outcome_of_events;
    let mut out = Vec::new();
    for f in &rules.files {
        let family_stem = stem(&f.rel_path);
        let Some(family) = Family::new(registry, generators, rules, &family_stem, keys, seed)
        else {
            continue;
        };
        let mut r = FamilyResult {
            family: family.name.clone(),
            ..FamilyResult::default()
        };
        if family.drivable() {
            for case in 0..cases {
                let steps = seeded_steps(seed ^ stem_hash(&family_stem) ^ (case as u64), length);
                let mut model = family.start();
                for s in steps {
                    family.step(&mut model, s);
                }
                r.sequences += 1;
                r.events += model.events.len();
                if outcome_of_events(registry, rules, &model.events)
                    .violations
                    .is_empty()
                {
                    r.valid_passed += 1;
                }
                for m in family.mutants(&model) {
                    r.mutants += 1;
                    let got = outcome_of_events(registry, rules, &m.events).violations;
                    if got.len() == 1 && got.contains(&m.aimed) {
                        r.mutants_exact += 1;
                    }
                    *r.aimed.entry(m.aimed).or_default() += 1;
                }
            }
        }
        out.push(r);
    }
    out
}

/// A stable number per family name (FNV-1a), so each family gets its own streams from one seed.
#[must_use]
pub fn stem_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
