//! The decision procedure: does every value of one normal-form node belong to another?
//!
//! `incl(a, b)` answers [`Incl::Holds`] (a proof: every atom of `a` is included in the atoms
//! of `b` of its type, by the per-type rules below), [`Incl::Fails`] (candidate values of `a`
//! outside `b`, each re-checked here on the normal form and later by the reference validator)
//! or [`Incl::Unknown`] naming the keyword it could not decide.
//!
//! - numbers: interval containment with lattice implication (`multipleOf` m is implied by m'
//!   when m' is an integer multiple of an integer m, or equal), else a union of plain
//!   intervals swept for gaps; counterexamples are probed at and around every bound;
//! - strings: regular-language inclusion on the DFA product (`lang`), `format` kept only where
//!   both sides assert the same one;
//! - arrays: counts, every position (`prefixItems`, then `items`), `uniqueItems`, `contains`;
//! - objects: `required`, every named member, the members no one names (`patternProperties`,
//!   `additionalProperties`), `propertyNames`, `min/maxProperties`, `dependentRequired`.
//!
//! Recursion is co-inductive: a pair met again while it is being decided is assumed to hold
//! (the greatest fixed point, sound for the finite JSON values schemas accept); a result that
//! used such an assumption is not memoised, so no later answer rests on an unchecked guess.
#![deny(clippy::wildcard_enum_match_arm)]

use super::lang::{self, Diff};
use super::normal::{Arena, Arr, Atom, Id, Node, Num, Obj, Str, StrC, Ty, is_int, is_multiple};
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Nesting depth of witnesses built for one candidate: deeper schemas are recursive, and any
/// finite member will do.
const WITNESS_DEPTH: usize = 12;
/// Proof steps kept for the report: the first ones say how; the rest repeat them.
const MAX_STEPS: usize = 12;

/// The answer for one pair of nodes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Incl {
    Holds,
    /// Candidate values of the left node outside the right one, and the keyword to blame if
    /// none of them survives the check.
    Fails(Vec<Value>, String),
    Unknown(String),
}

/// The outcome of [`Decider::decide`] for a whole schema pair.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decision {
    /// Inclusion proved; the steps say how.
    Proved(Vec<String>),
    /// Candidate counterexamples (checked against the normal form; the caller confirms each
    /// with the reference before printing it), and the keyword behind them.
    Refuted(Vec<Value>, String),
    /// Neither: the keyword that could not be decided.
    Unknown(String),
}

/// Inclusion over one arena.
pub(crate) struct Decider<'a> {
    arena: &'a mut Arena,
    assumed: HashSet<(Id, Id)>,
    memo: HashMap<(Id, Id), Incl>,
    hits: usize,
    steps: Vec<String>,
    regexes: HashMap<String, Option<regex::Regex>>,
    formats: HashMap<String, Option<jsonschema::Validator>>,
    langs: lang::Langs,
    string: Id,
}

impl<'a> Decider<'a> {
    pub(crate) fn new(arena: &'a mut Arena) -> Self {
        let string = arena.strings();
        Self {
            arena,
            assumed: HashSet::new(),
            memo: HashMap::new(),
            hits: 0,
            steps: Vec::new(),
            regexes: HashMap::new(),
            formats: HashMap::new(),
            langs: lang::Langs::default(),
            string,
        }
    }

    /// Decide `L(a) ⊆ L(b)`.
    pub(crate) fn decide(&mut self, a: Id, b: Id) -> Decision {
        self.steps.clear();
        match self.incl(a, b) {
            Incl::Holds => Decision::Proved(std::mem::take(&mut self.steps)),
            Incl::Fails(c, k) => Decision::Refuted(c, k),
            Incl::Unknown(k) => Decision::Unknown(k),
        }
    }

    fn step(&mut self, s: String) {
        if self.steps.len() < MAX_STEPS && !self.steps.contains(&s) {
            self.steps.push(s);
        }
    }

    fn is_empty(&self, id: Id) -> bool {
        self.arena.is_empty(id)
    }

    pub(crate) fn incl(&mut self, a: Id, b: Id) -> Incl {
        if a == b || self.arena.is_full(b) || self.is_empty(a) {
            return Incl::Holds;
        }
        if self.assumed.contains(&(a, b)) {
            self.hits += 1;
            self.step("a recursive pair assumed included (co-induction)".into());
            return Incl::Holds;
        }
        if let Some(r) = self.memo.get(&(a, b)) {
            return r.clone();
        }
        let (na, nb) = (self.arena.node(a).clone(), self.arena.node(b).clone());
        let (xs, ys) = match (na, nb) {
            (Node::Unknown(k), _) | (_, Node::Unknown(k)) => return Incl::Unknown(k),
            (Node::Pending, _) | (_, Node::Pending) => return Incl::Unknown("$ref".into()),
            (Node::Atoms(x), Node::Atoms(y)) => (x, y),
        };
        let hits = self.hits;
        self.assumed.insert((a, b));
        let mut fails: Vec<Value> = Vec::new();
        let mut blame: Option<String> = None;
        let mut unknown: Option<String> = None;
        for x in &xs {
            let same: Vec<&Atom> = ys.iter().filter(|y| y.ty() == x.ty()).collect();
            match self.atom_in(x, &same) {
                Incl::Holds => {}
                Incl::Fails(c, k) => {
                    fails.extend(c);
                    blame.get_or_insert(k);
                }
                Incl::Unknown(k) => {
                    unknown.get_or_insert(k);
                }
            }
        }
        self.assumed.remove(&(a, b));
        // A candidate counts only if the normal form itself agrees: in `a`, not in `b`.
        let confirmed: Vec<Value> = fails
            .into_iter()
            .filter(|v| self.member(a, v, 0) == Some(true) && self.member(b, v, 0) == Some(false))
            .take(8)
            .collect();
        let r = if !confirmed.is_empty() {
            Incl::Fails(confirmed, blame.unwrap_or_default())
        } else if let Some(k) = unknown.or(blame) {
            Incl::Unknown(k)
        } else {
            Incl::Holds
        };
        if !matches!(r, Incl::Holds) || self.hits == hits {
            self.memo.insert((a, b), r.clone());
        }
        r
    }

    fn atom_in(&mut self, x: &Atom, ys: &[&Atom]) -> Incl {
        if let Some(Atom::Opaque(_, k)) = ys.iter().find(|y| matches!(y, Atom::Opaque(..))) {
            return Incl::Unknown(k.clone());
        }
        match x {
            Atom::Opaque(_, k) => Incl::Unknown(k.clone()),
            Atom::Null => {
                if ys.is_empty() {
                    Incl::Fails(vec![Value::Null], "type".into())
                } else {
                    Incl::Holds
                }
            }
            Atom::Bool(b) => {
                if ys.iter().any(|y| **y == Atom::Bool(*b)) {
                    Incl::Holds
                } else {
                    Incl::Fails(vec![Value::Bool(*b)], "type".into())
                }
            }
            Atom::Num(n) => {
                let ys: Vec<&Num> = ys
                    .iter()
                    .filter_map(|y| match y {
                        Atom::Num(m) => Some(m),
                        Atom::Null
                        | Atom::Bool(_)
                        | Atom::Str(_)
                        | Atom::Arr(_)
                        | Atom::Obj(_)
                        | Atom::Opaque(..) => None,
                    })
                    .collect();
                self.num_in(n, &ys)
            }
            Atom::Str(s) => {
                let ys: Vec<&Str> = ys
                    .iter()
                    .filter_map(|y| match y {
                        Atom::Str(m) => Some(m),
                        Atom::Null
                        | Atom::Bool(_)
                        | Atom::Num(_)
                        | Atom::Arr(_)
                        | Atom::Obj(_)
                        | Atom::Opaque(..) => None,
                    })
                    .collect();
                self.str_in(s, &ys)
            }
            Atom::Arr(_) | Atom::Obj(_) => {
                if ys.is_empty() {
                    let w = self.witness_atom(x, 0);
                    return Incl::Fails(w.into_iter().collect(), "type".into());
                }
                let mut fails = Vec::new();
                let mut blame = None;
                let mut unknown = None;
                for y in ys {
                    let r = match (x, y) {
                        (Atom::Arr(p), Atom::Arr(q)) => self.arr_in(p, q),
                        (Atom::Obj(p), Atom::Obj(q)) => self.obj_in(p, q),
                        _ => Incl::Unknown("type".into()),
                    };
                    match r {
                        Incl::Holds => return Incl::Holds,
                        Incl::Fails(c, k) => {
                            fails.extend(c);
                            blame.get_or_insert(k);
                        }
                        Incl::Unknown(k) => {
                            unknown.get_or_insert(k);
                        }
                    }
                }
                // Several right atoms: a value outside one may be inside another; the caller's
                // membership check sorts the candidates, and with none left it is undecided.
                if fails.is_empty() {
                    Incl::Unknown(unknown.or(blame).unwrap_or_else(|| "anyOf".into()))
                } else {
                    let k = blame.unwrap_or_default();
                    Incl::Fails(fails, if ys.len() > 1 { "anyOf".into() } else { k })
                }
            }
        }
    }

    // ---- numbers ----

    fn num_in(&mut self, x: &Num, ys: &[&Num]) -> Incl {
        if ys.iter().any(|y| num_sub(x, y)) {
            self.step(format!("number {} ⊆ {}", show_num(x), show_num(ys[0])));
            return Incl::Holds;
        }
        let cands = num_candidates(x, ys);
        if let Some(c) = cands
            .into_iter()
            .find(|c| x.contains(*c) && !ys.iter().any(|y| y.contains(*c)))
        {
            return Incl::Fails(vec![num_value(c)], num_blame(c, ys));
        }
        // A union of plain intervals (or of integer intervals, when the left is integral): sweep
        // for a gap.
        let plain = |n: &Num| n.mult.is_empty() && n.not_mult.is_empty();
        let int_only = |n: &Num| n.mult.iter().all(|m| *m == 1.0) && n.not_mult.is_empty();
        let sweepable = if x.integral() {
            ys.iter().all(|y| int_only(y))
        } else {
            plain(x) && ys.iter().all(|y| plain(y))
        };
        if sweepable && covered(x, ys) {
            self.step(format!("number {} ⊆ a union of intervals", show_num(x)));
            return Incl::Holds;
        }
        Incl::Unknown("multipleOf".into())
    }

    // ---- strings ----

    fn str_in(&mut self, x: &Str, ys: &[&Str]) -> Incl {
        let fmt = |s: &Str| -> Vec<(StrC, bool)> {
            s.cons
                .iter()
                .filter(|(c, _)| matches!(c, StrC::Format(_)))
                .cloned()
                .collect()
        };
        let xf = fmt(x);
        let strip = |s: &Str| Str {
            cons: s
                .cons
                .iter()
                .filter(|c| !matches!(c.0, StrC::Format(_)))
                .cloned()
                .collect(),
        };
        // A right atom keeps its proof power only when every format it asserts is one the
        // left asserts too (then it holds for every left value); others are left out of the
        // proof (an under-approximation, still sound) and named if nothing is decided.
        let mut dropped = false;
        let kept: Vec<Str> = ys
            .iter()
            .filter(|y| {
                let ok = fmt(y).iter().all(|f| xf.contains(f));
                dropped |= !ok;
                ok
            })
            .map(|y| strip(y))
            .collect();
        // Every constraint of some right atom is one of the left's: included on its face.
        if ys.iter().any(|y| y.cons.iter().all(|c| x.cons.contains(c))) {
            self.step("string constraints ⊆ (the same constraints)".into());
            return Incl::Holds;
        }
        let refs: Vec<&Str> = kept.iter().collect();
        let blame = if ys.is_empty() {
            "type".to_owned()
        } else if dropped || !xf.is_empty() {
            "format".to_owned()
        } else if x
            .cons
            .iter()
            .chain(ys.iter().flat_map(|y| y.cons.iter()))
            .any(|c| matches!(c.0, StrC::Pattern { .. }))
        {
            "pattern".to_owned()
        } else if x
            .cons
            .iter()
            .chain(ys.iter().flat_map(|y| y.cons.iter()))
            .any(|c| matches!(c.0, StrC::Len { .. }))
        {
            "maxLength".to_owned()
        } else {
            "enum".to_owned()
        };
        match self.langs.difference(&strip(x), &refs) {
            Diff::Empty { states } => {
                self.step(format!(
                    "string language ⊆ (DFA product, {states} states, no witness)"
                ));
                Incl::Holds
            }
            Diff::Witness(w) => {
                let mut c = vec![Value::String(w)];
                // A format the left asserts: its canonical samples are candidates too.
                for (f, pos) in &xf {
                    if let (StrC::Format(f), true) = (f, pos) {
                        c.extend(format_samples(f).iter().map(|s| Value::String((*s).into())));
                    }
                }
                Incl::Fails(c, blame)
            }
            Diff::Unknown(k) => Incl::Unknown(k),
        }
    }

    // ---- arrays ----

    fn arr_in(&mut self, x: &Arr, y: &Arr) -> Incl {
        let mut xmax = x.max;
        for i in 0..=x.prefix.len() {
            if self.is_empty(x.item(i)) {
                let i = i as u64;
                xmax = Some(xmax.map_or(i, |m| m.min(i)));
                break;
            }
        }
        if xmax.is_some_and(|m| x.min > m) {
            return Incl::Holds;
        }
        let mut acc = Acc::default();
        if x.min < y.min {
            let len = usize::try_from(x.min).unwrap_or(usize::MAX);
            acc.fail(self.arr_witness(x, len, None), "minItems");
        }
        if let Some(ymax) = y.max {
            if xmax.is_none_or(|m| m > ymax) {
                let len = usize::try_from(ymax.saturating_add(1).max(x.min)).unwrap_or(usize::MAX);
                acc.fail(self.arr_witness(x, len, None), "maxItems");
            }
        }
        if y.unique && !x.unique && xmax.is_none_or(|m| m >= 2) {
            let both = self.arena.intersect(x.item(0), x.item(1));
            if let Some(w) = self.witness(both, 1) {
                let len = usize::try_from(x.min.max(2)).unwrap_or(usize::MAX);
                let mut a = self.arr_witness(x, len, None);
                if let Some(Value::Array(items)) = &mut a {
                    items[0] = w.clone();
                    items[1] = w;
                }
                acc.fail(a, "uniqueItems");
            } else {
                acc.unknown("uniqueItems");
            }
        }
        let n = x.prefix.len().max(y.prefix.len());
        for i in 0..=n {
            if xmax.is_some_and(|m| i as u64 >= m) {
                break;
            }
            match self.incl(x.item(i), y.item(i)) {
                Incl::Holds => {}
                Incl::Fails(c, k) => {
                    let len = usize::try_from(x.min).unwrap_or(usize::MAX).max(i + 1);
                    for v in c {
                        acc.fail(self.arr_witness(x, len, Some((i, v))), &k);
                    }
                }
                Incl::Unknown(k) => acc.unknown(&k),
            }
        }
        for (cy, ymin, ymax) in &y.contains {
            if ymax.is_some() {
                acc.unknown("maxContains");
                continue;
            }
            if *ymin == 0 {
                continue;
            }
            let by_contains = x
                .contains
                .iter()
                .any(|(cx, xmin, _)| *xmin >= *ymin && self.incl(*cx, *cy) == Incl::Holds);
            let by_items = x.min >= *ymin
                && (0..=x.prefix.len()).all(|i| self.incl(x.item(i), *cy) == Incl::Holds);
            if by_contains || by_items {
                continue;
            }
            let not_c = self.arena.complement(*cy);
            let len = usize::try_from(x.min).unwrap_or(usize::MAX);
            let mut items = Vec::new();
            for i in 0..len.min(64) {
                let s = self.arena.intersect(x.item(i), not_c);
                match self.witness(s, 1) {
                    Some(w) => items.push(w),
                    None => break,
                }
            }
            if items.len() == len {
                acc.fail(Some(Value::Array(items)), "contains");
            } else {
                acc.unknown("contains");
            }
        }
        acc.finish(|| "array".into())
    }

    /// An array of `x` of `len` items (one of them given), else `None`.
    fn arr_witness(&mut self, x: &Arr, len: usize, at: Option<(usize, Value)>) -> Option<Value> {
        if len > 256 {
            return None;
        }
        let mut items = Vec::with_capacity(len);
        for i in 0..len {
            if let Some((j, v)) = &at {
                if *j == i {
                    items.push(v.clone());
                    continue;
                }
            }
            items.push(self.witness(x.item(i), 1)?);
        }
        // `contains`: the first items satisfy it where they can.
        for (c, min, _) in &x.contains {
            let n = usize::try_from(*min).unwrap_or(usize::MAX).min(len);
            for (i, item) in items.iter_mut().enumerate().take(n) {
                if at.as_ref().is_some_and(|(j, _)| *j == i) {
                    continue;
                }
                let s = self.arena.intersect(x.item(i), *c);
                *item = self.witness(s, 1)?;
            }
        }
        Some(Value::Array(items))
    }

    // ---- objects ----

    fn obj_in(&mut self, x: &Obj, y: &Obj) -> Incl {
        let mut acc = Acc::default();
        for r in y.required.difference(&x.required) {
            let c = self.obj_with(x, None, Some(r));
            acc.fail(c, "required");
        }
        let named: BTreeSet<String> = x
            .props
            .keys()
            .chain(y.props.keys())
            .chain(x.required.iter())
            .chain(y.required.iter())
            .chain(y.dep_req.keys())
            .cloned()
            .collect();
        for k in &named {
            let (Some(mx), Some(my)) = (self.arena.member(x, k), self.arena.member(y, k)) else {
                acc.unknown("patternProperties");
                continue;
            };
            if self.is_empty(mx) {
                continue;
            }
            match self.incl(mx, my) {
                Incl::Holds => {}
                Incl::Fails(c, kw) => {
                    // A member the target does not admit at all is blamed on where it is shut.
                    let kw = match (self.is_empty(my), y.props.contains_key(k)) {
                        (true, true) => "properties".to_owned(),
                        (true, false) => "additionalProperties".to_owned(),
                        (false, _) => kw,
                    };
                    for v in c {
                        let c = self.obj_with(x, Some((k, Some(v))), None);
                        acc.fail(c, &kw);
                    }
                }
                Incl::Unknown(kw) => acc.unknown(&kw),
            }
        }
        self.others_in(x, y, &named, &mut acc);
        if let Some(yn) = y.names {
            let yn = self.arena.intersect(yn, self.string);
            let closed = self.is_empty(x.additional) && x.patterns.is_empty();
            if closed {
                for k in x.props.keys() {
                    let mx = x.props[k];
                    if self.is_empty(mx) {
                        continue;
                    }
                    if self.member(yn, &Value::String(k.clone()), 0) != Some(true) {
                        let w = self.witness(mx, 1);
                        let c = self.obj_with(x, Some((k, w)), None);
                        acc.fail(c, "propertyNames");
                    }
                }
            } else {
                let xn = match x.names {
                    Some(n) => self.arena.intersect(n, self.string),
                    None => self.string,
                };
                match self.incl(xn, yn) {
                    Incl::Holds => {}
                    Incl::Fails(c, _) => {
                        for key in c.iter().filter_map(Value::as_str) {
                            let w = self.arena.member(x, key).and_then(|m| self.witness(m, 1));
                            let c = self.obj_with(x, Some((key, w)), None);
                            acc.fail(c, "propertyNames");
                        }
                    }
                    Incl::Unknown(k) => acc.unknown(&k),
                }
            }
        }
        if y.min > x.min && (x.required.len() as u64) < y.min {
            let w = self.obj_witness(x, 1).map(Value::Object);
            acc.fail(w, "minProperties");
        }
        if let Some(ymax) = y.max {
            let closed = self.is_empty(x.additional) && x.patterns.is_empty();
            let bounded =
                x.max.is_some_and(|m| m <= ymax) || (closed && x.props.len() as u64 <= ymax);
            if !bounded {
                let mut c = None;
                if let Some(mut o) = self.obj_witness(x, 1) {
                    let keys: Vec<String> = x.props.keys().cloned().collect();
                    for k in keys {
                        if o.len() as u64 > ymax {
                            break;
                        }
                        if !o.contains_key(&k) {
                            if let Some(w) = self.witness(x.props[&k], 1) {
                                o.insert(k, w);
                            }
                        }
                    }
                    let mut i = 0;
                    while o.len() as u64 <= ymax && i < 64 {
                        let key = format!("extra_{i}");
                        if let Some(m) = self.arena.member(x, &key) {
                            if let Some(w) = self.witness(m, 1) {
                                o.insert(key, w);
                            }
                        }
                        i += 1;
                    }
                    c = Some(Value::Object(o));
                }
                acc.fail(c, "maxProperties");
            }
        }
        for (k, deps) in &y.dep_req {
            let Some(mk) = self.arena.member(x, k) else {
                acc.unknown("dependentRequired");
                continue;
            };
            if self.is_empty(mk) {
                continue;
            }
            for d in deps {
                let implied = x.required.contains(d)
                    || x.dep_req.get(k).is_some_and(|xd| xd.contains(d))
                    || d == k;
                if implied {
                    continue;
                }
                let w = self.witness(mk, 1);
                let c = self.obj_with(x, Some((k, w)), Some(d));
                acc.fail(c, "dependentRequired");
            }
        }
        acc.finish(|| "object".into())
    }

    /// Members no side names: `patternProperties` and `additionalProperties`.
    fn others_in(&mut self, x: &Obj, y: &Obj, named: &BTreeSet<String>, acc: &mut Acc) {
        if self.is_empty(x.additional) && x.patterns.is_empty() {
            return;
        }
        if self.arena.is_full(y.additional) && y.patterns.is_empty() {
            return;
        }
        let same_patterns = x.patterns.iter().map(|p| &p.0).collect::<Vec<_>>()
            == y.patterns.iter().map(|p| &p.0).collect::<Vec<_>>();
        if same_patterns {
            for (p, q) in x.patterns.iter().zip(&y.patterns) {
                match self.incl(p.2, q.2) {
                    Incl::Holds => {}
                    Incl::Fails(..) | Incl::Unknown(_) => acc.unknown("patternProperties"),
                }
            }
            match self.incl(x.additional, y.additional) {
                Incl::Holds => {}
                Incl::Fails(c, _) if y.patterns.is_empty() && x.patterns.is_empty() => {
                    // A fresh member name carries the value: one no side names and the
                    // left's `propertyNames` admits.
                    let names = x.names;
                    let key = ["a", "b", "x", "zz"]
                        .into_iter()
                        .map(str::to_owned)
                        .chain((0..8).map(|i| format!("extra_{i}")))
                        .find(|k| {
                            !named.contains(k)
                                && names.is_none_or(|n| {
                                    self.member(n, &Value::String(k.clone()), 0) == Some(true)
                                })
                        })
                        .unwrap_or_default();
                    for v in c {
                        let c = self.obj_with(x, Some((&key, Some(v))), None);
                        acc.fail(c, "additionalProperties");
                    }
                }
                Incl::Fails(..) => acc.unknown("additionalProperties"),
                Incl::Unknown(k) => acc.unknown(&k),
            }
            return;
        }
        // Different pattern sets: every left schema a member may get must fit every right one.
        let lefts: Vec<Id> = x
            .patterns
            .iter()
            .map(|p| p.2)
            .chain((!self.is_empty(x.additional)).then_some(x.additional))
            .collect();
        let rights: Vec<Id> = y
            .patterns
            .iter()
            .map(|p| p.2)
            .chain([y.additional])
            .collect();
        for l in &lefts {
            for r in &rights {
                if self.incl(*l, *r) != Incl::Holds {
                    acc.unknown("patternProperties");
                    return;
                }
            }
        }
    }

    /// A minimal object of `x` with member `set` (its value must exist) and without `unset`;
    /// `None` when either cannot be built, which the caller records as undecided.
    fn obj_with(
        &mut self,
        x: &Obj,
        set: Option<(&str, Option<Value>)>,
        unset: Option<&str>,
    ) -> Option<Value> {
        let mut o = self.obj_witness(x, 1)?;
        if let Some((k, v)) = set {
            o.insert(k.to_owned(), v?);
        }
        if let Some(k) = unset {
            o.remove(k);
        }
        Some(Value::Object(o))
    }

    /// A minimal object of `x`: its required members (and what they require) with witnesses.
    fn obj_witness(&mut self, x: &Obj, depth: usize) -> Option<Map<String, Value>> {
        let mut o = Map::new();
        let mut todo: Vec<String> = x.required.iter().cloned().collect();
        while let Some(k) = todo.pop() {
            if o.contains_key(&k) {
                continue;
            }
            let m = self.arena.member(x, &k)?;
            o.insert(k.clone(), self.witness(m, depth + 1)?);
            if let Some(d) = x.dep_req.get(&k) {
                todo.extend(d.iter().cloned());
            }
        }
        while (o.len() as u64) < x.min {
            let key = format!("extra_{}", o.len());
            let m = self.arena.member(x, &key)?;
            o.insert(key, self.witness(m, depth + 1)?);
        }
        Some(o)
    }

    // ---- witnesses and membership ----

    /// Some value of `id`, when one is easy to build.
    pub(crate) fn witness(&mut self, id: Id, depth: usize) -> Option<Value> {
        if depth > WITNESS_DEPTH {
            return None;
        }
        let Node::Atoms(atoms) = self.arena.node(id).clone() else {
            return None;
        };
        atoms.iter().find_map(|a| {
            let w = self.witness_atom(a, depth)?;
            (self.member(id, &w, 0) == Some(true)).then_some(w)
        })
    }

    fn witness_atom(&mut self, a: &Atom, depth: usize) -> Option<Value> {
        match a {
            Atom::Null => Some(Value::Null),
            Atom::Bool(b) => Some(Value::Bool(*b)),
            Atom::Opaque(..) => None,
            Atom::Num(n) => num_candidates(n, &[])
                .into_iter()
                .find(|c| n.contains(*c))
                .map(num_value),
            Atom::Str(s) => {
                // Samples of an asserted format first, then the shortest string of the
                // languages with formats set aside; the first that is a member wins.
                let mut cands: Vec<String> = Vec::new();
                for (c, pos) in &s.cons {
                    if let (StrC::Format(f), true) = (c, pos) {
                        cands.extend(format_samples(f).iter().map(|x| (*x).to_owned()));
                    }
                }
                let plain = Str {
                    cons: s
                        .cons
                        .iter()
                        .filter(|c| !matches!(c.0, StrC::Format(_)))
                        .cloned()
                        .collect(),
                };
                if let Diff::Witness(w) = self.langs.difference(&plain, &[]) {
                    cands.push(w);
                }
                cands
                    .into_iter()
                    .find(|c| self.str_member(s, c) == Some(true))
                    .map(Value::String)
            }
            Atom::Arr(x) => {
                let len = usize::try_from(x.min).unwrap_or(usize::MAX);
                let x = x.clone();
                self.arr_witness(&x, len, None)
            }
            Atom::Obj(x) => {
                let x = x.clone();
                self.obj_witness(&x, depth).map(Value::Object)
            }
        }
    }

    /// Whether `v` is in `id`, read on the normal form; `None` where it cannot say.
    pub(crate) fn member(&mut self, id: Id, v: &Value, depth: usize) -> Option<bool> {
        if depth > 64 {
            return None;
        }
        let Node::Atoms(atoms) = self.arena.node(id).clone() else {
            return None;
        };
        let mut unsure = false;
        for a in atoms.iter().filter(|a| a.ty() == Ty::of(v)) {
            match self.member_atom(a, v, depth) {
                Some(true) => return Some(true),
                Some(false) => {}
                None => unsure = true,
            }
        }
        if unsure { None } else { Some(false) }
    }

    fn member_atom(&mut self, a: &Atom, v: &Value, depth: usize) -> Option<bool> {
        match (a, v) {
            (Atom::Opaque(..), _) => None,
            (Atom::Null, Value::Null) => Some(true),
            (Atom::Bool(b), Value::Bool(c)) => Some(b == c),
            (Atom::Num(n), Value::Number(x)) => Some(n.contains(x.as_f64()?)),
            (Atom::Str(s), Value::String(x)) => self.str_member(s, x),
            (Atom::Arr(a), Value::Array(items)) => {
                let len = items.len() as u64;
                if len < a.min || a.max.is_some_and(|m| len > m) {
                    return Some(false);
                }
                if a.unique {
                    for (i, p) in items.iter().enumerate() {
                        if items[..i].iter().any(|q| json_eq(p, q)) {
                            return Some(false);
                        }
                    }
                }
                for (i, item) in items.iter().enumerate() {
                    if !self.member(a.item(i), item, depth + 1)? {
                        return Some(false);
                    }
                }
                for (c, min, max) in &a.contains {
                    let mut n = 0u64;
                    for item in items {
                        if self.member(*c, item, depth + 1)? {
                            n += 1;
                        }
                    }
                    if n < *min || max.is_some_and(|m| n > m) {
                        return Some(false);
                    }
                }
                Some(true)
            }
            (Atom::Obj(o), Value::Object(m)) => {
                let len = m.len() as u64;
                if len < o.min || o.max.is_some_and(|x| len > x) {
                    return Some(false);
                }
                if o.required.iter().any(|r| !m.contains_key(r)) {
                    return Some(false);
                }
                for (k, deps) in &o.dep_req {
                    if m.contains_key(k) && deps.iter().any(|d| !m.contains_key(d)) {
                        return Some(false);
                    }
                }
                for (k, x) in m {
                    if let Some(n) = o.names {
                        if !self.member(n, &Value::String(k.clone()), depth + 1)? {
                            return Some(false);
                        }
                    }
                    let s = self.arena.member(o, k)?;
                    if !self.member(s, x, depth + 1)? {
                        return Some(false);
                    }
                }
                Some(true)
            }
            (
                Atom::Null
                | Atom::Bool(_)
                | Atom::Num(_)
                | Atom::Str(_)
                | Atom::Arr(_)
                | Atom::Obj(_),
                _,
            ) => Some(false),
        }
    }

    fn str_member(&mut self, s: &Str, x: &str) -> Option<bool> {
        for (c, pos) in &s.cons {
            let hit = match c {
                StrC::Pattern { rust, .. } => self
                    .regexes
                    .entry(rust.clone())
                    .or_insert_with(|| regex::Regex::new(rust).ok())
                    .as_ref()?
                    .is_match(x),
                StrC::Lits(l) => l.contains(x),
                StrC::Len { min, max } => {
                    let n = x.chars().count() as u64;
                    n >= *min && max.is_none_or(|m| n <= m)
                }
                StrC::Format(f) => self
                    .formats
                    .entry(f.clone())
                    .or_insert_with(|| {
                        jsonschema::options()
                            .should_validate_formats(true)
                            .with_email_options(
                                jsonschema::EmailOptions::default().without_display_text(),
                            )
                            .build(&json!({"format": f}))
                            .ok()
                    })
                    .as_ref()?
                    .is_valid(&Value::String(x.to_owned())),
            };
            if hit != *pos {
                return Some(false);
            }
        }
        Some(true)
    }
}

/// Failures and unknowns of one compound comparison.
#[derive(Default)]
struct Acc {
    fails: Vec<Value>,
    blame: Option<String>,
    unknown: Option<String>,
}

impl Acc {
    fn fail(&mut self, v: Option<Value>, keyword: &str) {
        match v {
            Some(v) => {
                self.fails.push(v);
                self.blame.get_or_insert_with(|| keyword.to_owned());
            }
            None => self.unknown(keyword),
        }
    }

    fn unknown(&mut self, keyword: &str) {
        self.unknown.get_or_insert_with(|| keyword.to_owned());
    }

    fn finish(self, default: impl FnOnce() -> String) -> Incl {
        if !self.fails.is_empty() {
            Incl::Fails(self.fails, self.blame.unwrap_or_else(default))
        } else if let Some(k) = self.unknown {
            Incl::Unknown(k)
        } else {
            Incl::Holds
        }
    }
}

/// JSON equality as JSON Schema reads it: `1` equals `1.0`.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Every value of `x` is in `y`, constraint by constraint.
fn num_sub(x: &Num, y: &Num) -> bool {
    let lo_ok = match (y.lo, x.lo) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some((yl, yi)), Some((xl, xi))) => yl < xl || (yl == xl && (yi || !xi)),
    };
    let hi_ok = match (y.hi, x.hi) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some((yh, yi)), Some((xh, xi))) => yh > xh || (yh == xh && (yi || !xi)),
    };
    let point = matches!((x.lo, x.hi), (Some((l, true)), Some((h, true))) if l == h);
    let int_lattices = [x, y]
        .iter()
        .flat_map(|n| n.mult.iter().chain(&n.not_mult))
        .all(|m| is_int(*m));
    if point && int_lattices {
        // One value: decide it outright (integer lattices are exact in f64).
        return x.lo.is_some_and(|(l, _)| x.contains(l) && y.contains(l))
            || !x.contains(x.lo.map_or(0.0, |b| b.0));
    }
    let mult_ok = y.mult.iter().all(|m| {
        x.mult
            .iter()
            .any(|n| n == m || (is_int(*n) && is_int(*m) && *m != 0.0 && n % m == 0.0))
    });
    let not_ok = y.not_mult.iter().all(|m| {
        x.not_mult
            .iter()
            .any(|n| n == m || (is_int(*n) && is_int(*m) && *n != 0.0 && m % n == 0.0))
    });
    lo_ok && hi_ok && mult_ok && not_ok
}

/// Values at, around and between every bound of both sides, on the left's lattice.
fn num_candidates(x: &Num, ys: &[&Num]) -> Vec<f64> {
    let mut points: Vec<f64> = vec![0.0, 1.0, -1.0, 0.5, 1e6, -1e6];
    for n in std::iter::once(x).chain(ys.iter().copied()) {
        for b in [n.lo, n.hi].into_iter().flatten() {
            points.push(b.0);
        }
        points.extend(n.not_mult.iter().copied());
        points.extend(n.mult.iter().copied());
    }
    let mut out = Vec::new();
    let lattice = x.mult.iter().copied().reduce(|a, b| {
        if is_int(a) && is_int(b) {
            lcm(a, b)
        } else {
            a.max(b)
        }
    });
    for p in points {
        for d in [0.0, 1.0, -1.0, 0.5, -0.5, 0.25, 2.0, -2.0, 0.1] {
            out.push(p + d);
        }
        if let Some(m) = lattice {
            let base = (p / m).floor() * m;
            for k in -2..=2 {
                out.push(base + f64::from(k) * m);
            }
        }
    }
    // Between consecutive bounds.
    let mut sorted: Vec<f64> = out.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    sorted.dedup();
    let mids: Vec<f64> = sorted.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect();
    sorted.extend(mids);
    sorted
}

fn gcd(a: f64, b: f64) -> f64 {
    let (mut a, mut b) = (a.abs(), b.abs());
    while b != 0.0 {
        (a, b) = (b, a % b);
    }
    a
}

fn lcm(a: f64, b: f64) -> f64 {
    if a == 0.0 || b == 0.0 {
        return 0.0;
    }
    (a / gcd(a, b) * b).abs()
}

/// Whether the union of plain intervals `ys` covers `x`'s interval (on integers when `x` is
/// integral): a sweep from `x`'s lower bound that stops at the first gap.
fn covered(x: &Num, ys: &[&Num]) -> bool {
    let lo_of = |n: &Num| n.lo.unwrap_or((f64::NEG_INFINITY, true));
    let hi_of = |n: &Num| n.hi.unwrap_or((f64::INFINITY, true));
    let (xl, xh) = (lo_of(x), hi_of(x));
    if x.integral() {
        // Closed integer intervals: `reach` is the last integer covered so far.
        let close = |y: &Num| {
            let (l, li) = lo_of(y);
            let (h, hi) = hi_of(y);
            let l = if l.is_finite() && !li && l.fract() == 0.0 {
                l + 1.0
            } else {
                l.ceil()
            };
            let h = if h.is_finite() && !hi && h.fract() == 0.0 {
                h - 1.0
            } else {
                h.floor()
            };
            (l, h)
        };
        let mut ivs: Vec<(f64, f64)> = ys.iter().map(|y| close(y)).collect();
        ivs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut reach = xl.0 - 1.0;
        for (l, h) in ivs {
            if l <= reach + 1.0 || l == f64::NEG_INFINITY {
                reach = reach.max(h);
            } else if l <= xh.0 {
                return false;
            }
        }
        return reach >= xh.0;
    }
    // Reals: `reach` is the frontier; its flag says whether the frontier point itself is
    // covered. Nothing of `x` is covered at the start.
    let mut ivs: Vec<((f64, bool), (f64, bool))> =
        ys.iter().map(|y| (lo_of(y), hi_of(y))).collect();
    ivs.sort_by(|a, b| a.0.0.total_cmp(&b.0.0).then(b.0.1.cmp(&a.0.1)));
    let mut reach = (xl.0, !xl.1);
    for (l, h) in ivs {
        let joins = l.0 < reach.0 || (l.0 == reach.0 && (l.1 || reach.1));
        if !joins {
            // A gap at the frontier, unless the frontier is already past `x`.
            break;
        }
        if h.0 > reach.0 || (h.0 == reach.0 && h.1) {
            reach = h;
        }
    }
    reach.0 > xh.0 || (reach.0 == xh.0 && (reach.1 || !xh.1))
}

fn num_value(x: f64) -> Value {
    #[allow(clippy::cast_possible_truncation)]
    if is_int(x) && x.abs() < 9.0e15 {
        return json!(x as i64);
    }
    json!(x)
}

/// The keyword of the first right atom that rejects `c` (`type` when there is none, or when
/// `c` fails an integer lattice).
fn num_blame(c: f64, ys: &[&Num]) -> String {
    let Some(y) = ys.first() else {
        return "type".into();
    };
    if y.lo
        .is_some_and(|(l, incl)| if incl { c < l } else { c <= l })
    {
        return "minimum".into();
    }
    if y.hi
        .is_some_and(|(h, incl)| if incl { c > h } else { c >= h })
    {
        return "maximum".into();
    }
    if y.mult.iter().any(|m| !is_multiple(c, *m) && *m != 1.0) {
        return "multipleOf".into();
    }
    "type".into()
}

fn show_num(n: &Num) -> String {
    let lo = n.lo.map_or("(-inf".to_owned(), |(v, i)| {
        format!("{}{v}", if i { "[" } else { "(" })
    });
    let hi = n.hi.map_or("+inf)".to_owned(), |(v, i)| {
        format!("{v}{}", if i { "]" } else { ")" })
    });
    let mut s = format!("{lo}, {hi}");
    for m in &n.mult {
        s.push_str(&format!(" ∩ {m}ℤ"));
    }
    s
}

/// Canonical members of common formats, tried where a format decides a witness.
fn format_samples(f: &str) -> &'static [&'static str] {
    match f {
        "date" => &["2024-01-31"],
        "date-time" => &["2024-01-31T12:00:00Z"],
        "time" => &["12:00:00Z"],
        "email" | "idn-email" => &["a@example.com"],
        "uuid" => &["123e4567-e89b-12d3-a456-426614174000"],
        "uri" | "iri" => &["https://example.com/a"],
        "uri-reference" | "iri-reference" => &["/a", "https://example.com/a"],
        "ipv4" => &["192.0.2.1"],
        "ipv6" => &["2001:db8::1"],
        "hostname" | "idn-hostname" => &["example.com"],
        "duration" => &["P1D"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn num(lo: Option<(f64, bool)>, hi: Option<(f64, bool)>, int: bool) -> Num {
        Num {
            lo,
            hi,
            mult: if int { vec![1.0] } else { Vec::new() },
            not_mult: Vec::new(),
        }
    }

    #[rstest]
    // [0, 10] is [0, 5] ∪ [5, 10].
    #[case(num(Some((0.0, true)), Some((10.0, true)), false), vec![num(Some((0.0, true)), Some((5.0, true)), false), num(Some((5.0, true)), Some((10.0, true)), false)], true)]
    // A gap between 4 and 5 on the reals...
    #[case(num(Some((0.0, true)), Some((10.0, true)), false), vec![num(Some((0.0, true)), Some((4.0, true)), false), num(Some((5.0, true)), Some((10.0, true)), false)], false)]
    // ...is no gap on the integers.
    #[case(num(Some((0.0, true)), Some((10.0, true)), true), vec![num(Some((0.0, true)), Some((4.0, true)), false), num(Some((5.0, true)), Some((10.0, true)), false)], true)]
    // An interval below the left one covers nothing of it.
    #[case(num(Some((5.0, true)), Some((5.0, true)), false), vec![num(Some((0.0, true)), Some((1.0, true)), false)], false)]
    // Open ends meeting at a point leave the point out.
    #[case(num(None, None, false), vec![num(None, Some((0.0, false)), false), num(Some((0.0, false)), None, false)], false)]
    #[case(num(None, None, false), vec![num(None, Some((0.0, true)), false), num(Some((0.0, false)), None, false)], true)]
    fn unions_of_intervals_are_swept(#[case] x: Num, #[case] ys: Vec<Num>, #[case] want: bool) {
        let refs: Vec<&Num> = ys.iter().collect();
        assert_eq!(covered(&x, &refs), want);
    }

    #[rstest]
    // Integer bounds are closed: exclusiveMinimum 0 is minimum 1 (after normalisation).
    #[case(num(Some((1.0, true)), None, true), num(Some((0.0, false)), None, false), true)]
    // multipleOf 4 implies multipleOf 2, not the converse.
    #[case(Num { mult: vec![4.0], ..Num::any() }, Num { mult: vec![2.0], ..Num::any() }, true)]
    #[case(Num { mult: vec![2.0], ..Num::any() }, Num { mult: vec![4.0], ..Num::any() }, false)]
    // Non-integer lattices only when equal.
    #[case(Num { mult: vec![0.3], ..Num::any() }, Num { mult: vec![0.1], ..Num::any() }, false)]
    #[case(Num { mult: vec![0.1], ..Num::any() }, Num { mult: vec![0.1], ..Num::any() }, true)]
    fn lattices_and_bounds_imply(#[case] x: Num, #[case] y: Num, #[case] want: bool) {
        assert_eq!(num_sub(&x, &y), want);
    }
}
