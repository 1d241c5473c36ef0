//! Arrays: a length inside every bound, `contains` members placed first, the rest per position.

use super::{Dead, Flat, Gen, SOFT_DEPTH};
use crate::ir::NodeId;
use crate::source::Source;
use serde_json::Value;

/// Re-draws of one element that duplicates an earlier one under `uniqueItems`.
const UNIQUE_TRIES: u64 = 8;
/// Arrays reach this many elements past their minimum when `maxItems` is open.
const EXTRA_ITEMS: u64 = 4;

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
            return Err(Dead);
        }
        let n = if depth >= SOFT_DEPTH {
            min
        } else {
            src.len(min, spec.max.min(min + EXTRA_ITEMS))
        };
        let n = usize::try_from(n).map_err(|_| Dead)?;
        // Which positions carry each `contains` (the first `min` of a random rotation).
        let mut extra: Vec<Vec<NodeId>> = vec![Vec::new(); n];
        let mut filters: Vec<Vec<(NodeId, bool)>> = vec![Vec::new(); n];
        for &(c, cmin, cmax) in &spec.contains {
            let start = if n > 0 { src.choose(n) } else { 0 };
            let cmin = usize::try_from(cmin).unwrap_or(usize::MAX);
            let take = cmin.max(usize::from(cmin > 0 && cmax.is_none() && src.ratio(1, 3)) * n);
            for j in 0..n {
                let pos = (start + j) % n;
                if j < take.min(n) {
                    extra[pos].push(c);
                } else if cmax.is_some() {
                    filters[pos].push((c, false));
                }
            }
        }
        let mut out: Vec<Value> = Vec::with_capacity(n);
        for i in 0..n {
            let mut conj = self.item_conj(&flat.nodes, i);
            conj.extend_from_slice(&extra[i]);
            let mut tries = 0;
            loop {
                // A retry shifts every choice, so even an exhausted source draws a new element.
                let mut salted = Salted {
                    inner: &mut *src,
                    salt: tries,
                };
                let v = self.build(&conj, &filters[i], &mut salted, depth + 1)?;
                if !spec.unique || !out.contains(&v) {
                    out.push(v);
                    break;
                }
                tries += 1;
                self.discarded += 1;
                if tries >= UNIQUE_TRIES {
                    return Err(Dead);
                }
            }
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
