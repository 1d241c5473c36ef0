//! Objects: required keys, some optional declared keys, extra keys where the schema leaves room.

use super::array::Salted;
use super::{Dead, Flat, Gen, MAX_CONSTRUCT, SOFT_DEPTH, string::free_text};
use crate::ir::{NodeId, ty};
use crate::source::{Reroll, Source};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// Extra (undeclared) keys added beyond what `minProperties` needs.
const MAX_EXTRA_KEYS: u64 = 2;
/// Draws of one extra key name before giving up on it.
const NAME_TRIES: u64 = 6;
/// Tells key-name re-draws from other re-draws at the same effort count (see `Reroll`).
const NAME_SITE: u64 = 3 << 40;
/// Members built one by one per member schema set (see `gen_object`).
const BUILT_MEMBERS: usize = 64;
/// Optional declared keys per object near the root (a third of it deeper down).
const MAX_OPTIONAL: u32 = 6;

impl Gen<'_> {
    /// The nodes the value of property `name` must satisfy, and whether some node evaluates it.
    pub(crate) fn prop_conj(&self, nodes: &[NodeId], name: &str) -> Vec<NodeId> {
        let mut conj = Vec::new();
        let mut evaluated = false;
        for &id in nodes {
            let Some(k) = self.kw(id) else { continue };
            let mut hit = false;
            for (p, s) in &k.properties {
                if p == name {
                    conj.push(*s);
                    hit = true;
                }
            }
            for (pat, s) in &k.pattern_properties {
                if self.oracle.pattern_matches(pat, name).unwrap_or(false) {
                    conj.push(*s);
                    hit = true;
                }
            }
            if !hit {
                if let Some(a) = k.additional_properties {
                    conj.push(a);
                    hit = true;
                }
            }
            evaluated |= hit;
        }
        if !evaluated {
            for &id in nodes {
                if let Some(u) = self.kw(id).and_then(|k| k.unevaluated_properties) {
                    conj.push(u);
                }
            }
        }
        conj
    }

    fn name_allowed(&self, flat: &Flat, name: &str) -> bool {
        if flat.forbidden.iter().any(|f| f == name) {
            return false;
        }
        let conj = self.prop_conj(&flat.nodes, name);
        if conj.iter().any(|&c| self.is_false(c)) {
            return false;
        }
        flat.nodes.iter().all(|&id| {
            self.kw(id)
                .and_then(|k| k.property_names)
                .is_none_or(|pn| self.node_ok(pn, &Value::String(name.to_owned())))
        })
    }

    #[allow(clippy::too_many_lines)]
    pub(crate) fn gen_object(
        &mut self,
        flat: &Flat,
        src: &mut dyn Source,
        depth: usize,
    ) -> Result<Value, Dead> {
        let mut min_p = 0u64;
        let mut max_p = u64::MAX;
        let mut required: Vec<String> = Vec::new();
        let mut declared: Vec<String> = Vec::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut names_nodes: Vec<NodeId> = Vec::new();
        let mut open = true;
        for &id in &flat.nodes {
            let Some(k) = self.kw(id) else { continue };
            if let Some(m) = k.min_properties {
                min_p = min_p.max(m);
            }
            if let Some(m) = k.max_properties {
                max_p = max_p.min(m);
            }
            for r in &k.required {
                if !required.contains(r) {
                    required.push(r.clone());
                }
            }
            for (p, _) in &k.properties {
                if !declared.contains(p) {
                    declared.push(p.clone());
                }
            }
            for (p, _) in &k.pattern_properties {
                patterns.push(p.clone());
            }
            if let Some(pn) = k.property_names {
                names_nodes.push(pn);
            }
            if k.additional_properties.is_some_and(|a| self.is_false(a))
                || k.unevaluated_properties.is_some_and(|a| self.is_false(a))
            {
                open = false;
            }
        }
        for r in &flat.required {
            if !required.contains(r) {
                required.push(r.clone());
            }
        }
        if min_p > MAX_CONSTRUCT {
            return self.dead(format!(
                "`minProperties` {min_p} (beyond the construction limit of {MAX_CONSTRUCT} members)"
            ));
        }
        let mut keys: Vec<String> = Vec::new();
        // The same keys as a set: `minProperties: 100000` must not compare every name with all.
        let mut taken: HashSet<String> = HashSet::new();
        for r in &required {
            if !self.name_allowed(flat, r) {
                return self.dead("`required`");
            }
            keys.push(r.clone());
            taken.insert(r.clone());
        }
        if keys.len() as u64 > max_p {
            return self.dead("`required`/`maxProperties`");
        }
        let shallow = depth < SOFT_DEPTH;
        // Optional keys per object: a few near the root, fewer deeper, so wide schemas (the
        // meta-schema has ~50 optional keys through allOf) do not grow exponentially.
        let mut optional_cap = if depth < 2 {
            MAX_OPTIONAL
        } else {
            MAX_OPTIONAL / 3
        };
        let rot = if declared.is_empty() {
            0
        } else {
            src.choose(declared.len())
        };
        declared.rotate_left(rot);
        for d in &declared {
            if taken.contains(d) || keys.len() as u64 >= max_p {
                continue;
            }
            let needed = (keys.len() as u64) < min_p;
            let want = needed || (shallow && optional_cap > 0 && src.ratio(1, 2));
            if want && self.name_allowed(flat, d) {
                keys.push(d.clone());
                taken.insert(d.clone());
                if !needed {
                    optional_cap = optional_cap.saturating_sub(1);
                }
            }
        }
        let extras = if shallow {
            src.int_in_range(0, MAX_EXTRA_KEYS)
        } else {
            0
        };
        let mut budget = extras + NAME_TRIES * (min_p.saturating_sub(keys.len() as u64) + 1);
        let mut added = 0;
        let mut tries = 0;
        while budget > 0
            && (keys.len() as u64) < max_p
            && ((keys.len() as u64) < min_p || added < extras)
        {
            budget -= 1;
            // A name already taken is re-drawn, even from an exhausted source (see `Reroll`).
            let src = &mut Reroll::new(src, tries, self.effort ^ NAME_SITE);
            tries += 1;
            let name = self.extra_name(&patterns, &names_nodes, open, src, depth);
            let Some(mut name) = name else { continue };
            if taken.contains(&name) && open && patterns.is_empty() && names_nodes.is_empty() {
                // Short free names collide often once thousands are needed: number them.
                name = format!("{name}{}", keys.len());
            }
            if !taken.contains(&name) && self.name_allowed(flat, &name) {
                taken.insert(name.clone());
                keys.push(name);
                added += 1;
            } else {
                self.discarded += 1;
            }
        }
        if (keys.len() as u64) < min_p {
            return self.dead("`minProperties`");
        }
        // Many members are work the schema asks for, not a sign of a contradiction.
        self.allowance = self.allowance.saturating_add(keys.len() as u64);
        let mut obj = Map::new();
        // Values built per member schema set; past `BUILT_MEMBERS` of one set, members repeat
        // them, so `minProperties: 100000` costs a few dozen builds, not a hundred thousand.
        let mut built: HashMap<Vec<NodeId>, Vec<Value>> = HashMap::new();
        for (i, key) in keys.into_iter().enumerate() {
            let conj = self.prop_conj(&flat.nodes, &key);
            let earlier = built.entry(conj).or_default();
            let v = if earlier.len() >= BUILT_MEMBERS {
                earlier[i % BUILT_MEMBERS].clone()
            } else {
                let conj = self.prop_conj(&flat.nodes, &key);
                let v = self.build(&conj, &[], src, depth + 1)?;
                built.entry(conj).or_default().push(v.clone());
                v
            };
            obj.insert(key, v);
        }
        Ok(Value::Object(obj))
    }

    /// A key name: from a `patternProperties` pattern, `propertyNames`, or free text when open.
    fn extra_name(
        &mut self,
        patterns: &[String],
        names_nodes: &[NodeId],
        open: bool,
        src: &mut dyn Source,
        depth: usize,
    ) -> Option<String> {
        let choice = src.choose(3);
        if !patterns.is_empty() && (choice == 0 || !open) {
            let p = &patterns[src.choose(patterns.len())];
            let hir = super::regex::parse(p)?;
            let mut s = String::new();
            super::regex::generate(&hir, src, &mut s);
            return Some(s);
        }
        if !names_nodes.is_empty() {
            let conj = names_nodes.to_vec();
            let mut salted = Salted {
                inner: src,
                salt: 1,
            };
            let mut flat = Flat::default();
            for &id in &conj {
                self.expand(id, &mut flat, &mut salted);
            }
            flat.types &= ty::STRING;
            if !flat.dead && flat.types != 0 {
                for _ in 0..3 {
                    if let Ok(Value::String(s)) = self.build(&conj, &[], &mut salted, depth + 1) {
                        return Some(s);
                    }
                }
            }
        }
        if !open {
            return None;
        }
        let mut s = free_text(src, 1, 8);
        s.retain(|c| c != ' ');
        (!s.is_empty()).then_some(s)
    }
}
