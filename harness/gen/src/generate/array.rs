//! Arrays: a length inside every bound, `contains` members placed first, the rest per position.

use super::{Dead, Filter, Flat, Gen, MAX_CONSTRUCT, SOFT_DEPTH};
use crate::ir::NodeId;
use crate::source::Source;
use serde_json::Value;

/// Re-draws of one element that duplicates an earlier one under `uniqueItems`.
const UNIQUE_TRIES: u64 = 8;
/// Arrays reach this many elements past their minimum when `maxItems` is open.
const EXTRA_ITEMS: u64 = 4;
/// Elements built one by one; past them, positions under the same schemas (no `contains`
/// placement, no `uniqueItems`) repeat the built ones, so `minItems: 1000000` costs 64 builds.
const BUILT_ITEMS: usize = 64;

struct ArrSpec {
    min: u64,
    max: u64,
    unique: bool,
    /// (contains node, min, max)
    contains: Vec<(NodeId, u64, Option<u64>)>,
}

impl Gen<'_> {
    /// The nodes every element at `index` must satisfy.
    pub(crate) fn item_conj(&self, nodes: &[NodeId], index: usize) -> Vec<NodeId> {
        let mut conj = Vec::new();
        let mut evaluated = false;
        for &id in nodes {
            let Some(k) = self.kw(id) else { continue };
            if let Some(&p) = k.prefix_items.get(index) {
                conj.push(p);
                evaluated = true;
            } else if let Some(i) = k.items {
                conj.push(i);
                evaluated = true;
            }
        }
        if !evaluated {
            for &id in nodes {
                if let Some(u) = self.kw(id).and_then(|k| k.unevaluated_items) {
                    conj.push(u);
                }
            }
        }
        conj
    }

    fn arr_spec(&self, flat: &Flat) -> ArrSpec {
        let mut s = ArrSpec {
            min: 0,
            max: u64::MAX,
            unique: false,
            contains: Vec::new(),
        };
        for &id in &flat.nodes {
            let Some(k) = self.kw(id) else { continue };
            if let Some(m) = k.min_items {
                s.min = s.min.max(m);
            }
            if let Some(m) = k.max_items {
                s.max = s.max.min(m);
            }
            s.unique |= k.unique_items;
            if let Some(c) = k.contains {
                s.contains
                    .push((c, k.min_contains.unwrap_or(1), k.max_contains));
            }
            // `items: false` (or `additionalItems: false`) closes the array after its prefix.
            if let Some(i) = k.items {
                if self.is_false(i) {
                    s.max = s.max.min(k.prefix_items.len() as u64);
                }
            }
        }
        s
    }

    pub(crate) fn gen_array(
        &mut self,
        flat: &Flat,
        src: &mut dyn Source,
        depth: usize,
    ) -> Result<Value, Dead> {
        let spec = self.arr_spec(flat);
        let need = spec.contains.iter().map(|c| c.1).max().unwrap_or(0);
        let min = spec.min.max(need);
        if min > spec.max {
            return self.dead("`minItems`/`maxItems`");
        }
        if min > MAX_CONSTRUCT {
            return self.dead(format!(
                "`minItems` {min} (beyond the construction limit of {MAX_CONSTRUCT} items)"
            ));
        }
        let n = if depth >= SOFT_DEPTH {
            min
        } else {
            src.len(min, spec.max.min(min + EXTRA_ITEMS))
        };
        let n = usize::try_from(n).map_err(|_| Dead)?;
        // A long unique array is work the schema asks for, not a sign of a contradiction.
        if spec.unique {
            self.allowance = self
                .allowance
                .saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
        }
        // Which positions carry each `contains` (the first `min` of a random rotation).
        // Kept empty (not `n` empty lists) when nothing is placed: `n` may be in the millions.
        let placed = if spec.contains.is_empty() { 0 } else { n };
        let mut extra: Vec<Vec<NodeId>> = vec![Vec::new(); placed];
        let mut filters: Vec<Vec<Filter>> = vec![Vec::new(); placed];
        for &(c, cmin, cmax) in &spec.contains {
            let start = if n > 0 { src.choose(n) } else { 0 };
            let cmin = usize::try_from(cmin).unwrap_or(usize::MAX);
            let take = cmin.max(usize::from(cmin > 0 && cmax.is_none() && src.ratio(1, 3)) * n);
            for j in 0..n {
                let pos = (start + j) % n;
                if j < take.min(n) {
                    extra[pos].push(c);
                } else if cmax.is_some() {
                    filters[pos].push((c, false, "`maxContains`"));
                }
            }
        }
        let mut out: Vec<Value> = Vec::with_capacity(n);
        // Serialised members seen, for `uniqueItems` past the first few (a linear scan per
        // element would make long unique arrays quadratic).
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut prev_conj: Vec<NodeId> = Vec::new();
        // Where the current run of positions under the same schemas and no filter began.
        let mut run_start = 0;
        let no_filters: Vec<Filter> = Vec::new();
        for i in 0..n {
            let mut conj = self.item_conj(&flat.nodes, i);
            let filter = filters.get(i).unwrap_or(&no_filters);
            if let Some(e) = extra.get(i) {
                conj.extend_from_slice(e);
            }
            if conj != prev_conj || !filter.is_empty() {
                run_start = i;
            } else if !spec.unique && i - run_start >= BUILT_ITEMS {
                out.push(out[run_start + (i - run_start) % BUILT_ITEMS].clone());
                continue;
            }
            let mut tries = 0;
            loop {
                // A retry shifts every choice, so even an exhausted source draws a new element.
                let mut salted = Salted {
                    inner: &mut *src,
                    salt: tries,
                };
                let v = self.build(&conj, filter, &mut salted, depth + 1)?;
                let fresh = if !spec.unique {
                    true
                } else if out.len() < BUILT_ITEMS {
                    !out.contains(&v)
                } else {
                    if seen.is_empty() {
                        seen.extend(out.iter().map(Value::to_string));
                    }
                    !seen.contains(&v.to_string())
                };
                if fresh {
                    if spec.unique && out.len() >= BUILT_ITEMS {
                        seen.insert(v.to_string());
                    }
                    out.push(v);
                    break;
                }
                tries += 1;
                self.discarded += 1;
                if tries >= UNIQUE_TRIES {
                    return self.dead("`uniqueItems`");
                }
            }
            if !filter.is_empty() {
                // A filtered position never starts a run that later positions repeat.
                run_start = i + 1;
            }
            prev_conj = conj;
        }
        Ok(Value::Array(out))
    }
}

/// A source whose every answer is shifted by `salt`: the same choices, a different value.
pub(crate) struct Salted<'s> {
    pub(crate) inner: &'s mut dyn Source,
    pub(crate) salt: u64,
}

impl Source for Salted<'_> {
    fn draw(&mut self, max: u64) -> u64 {
        let d = self.inner.draw(max);
        if max == u64::MAX {
            d.wrapping_add(self.salt)
        } else {
            (d % (max + 1) + self.salt % (max + 1)) % (max + 1)
        }
    }

    fn exhausted(&self) -> bool {
        self.inner.exhausted()
    }
}
