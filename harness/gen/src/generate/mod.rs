//! Valid instances by construction: the interpreter that walks the IR, drawing from a `Source`.
//!
//! Invariants:
//! - a conjunction of nodes (`allOf`, `$ref`, the chosen `anyOf`/`oneOf`/`if` branch) is expanded
//!   into one flat set before a type is chosen, so keywords of every part constrain the value
//!   (`applicator.rs`); what cannot be constructed becomes a filter, checked by the oracle;
//! - every candidate that fails a filter is counted, and the caller's top-level check against the
//!   root validator is what makes an emitted value valid;
//! - effort is bounded (`EFFORT_LIMIT`), so a contradictory schema fails instead of hanging.
#![deny(clippy::wildcard_enum_match_arm)]

mod applicator;
pub(crate) mod array;
pub(crate) mod format;
mod number;
mod object;
pub(crate) mod regex;
mod string;

use crate::ir::{Ir, Keywords, Node, NodeId, ty};
use crate::oracle::Oracle;
use crate::source::{Reroll, Source};
use serde_json::Value;

pub(crate) use applicator::Flat;
pub(crate) use array::Salted;
pub(crate) use number::py_multiple_ok;

/// Beyond this nesting, containers take their minimal shape (no optional members), so required
/// recursion still terminates while optional recursion stops.
pub(crate) const SOFT_DEPTH: usize = 5;
/// Beyond this nesting a branch is abandoned: only a schema whose every value is that deep gets here.
const HARD_DEPTH: usize = 48;
/// Calls to `gen` per top-level attempt: a contradictory schema fails after this much work.
const EFFORT_LIMIT: u64 = 20_000;
/// Re-draws of one value whose filters (`not`, a `oneOf` sibling, an `if` not taken) reject it.
const LOCAL_RETRIES: usize = 3;

/// The state of one top-level generation attempt.
pub(crate) struct Gen<'a> {
    pub(crate) ir: &'a Ir,
    pub(crate) oracle: &'a Oracle,
    pub(crate) effort: u64,
    pub(crate) discarded: u64,
}

/// Why a branch could not be built (the attempt is retried or abandoned, never emitted).
#[derive(Debug)]
pub(crate) struct Dead;

impl<'a> Gen<'a> {
    pub(crate) fn new(ir: &'a Ir, oracle: &'a Oracle) -> Self {
        Self {
            ir,
            oracle,
            effort: 0,
            discarded: 0,
        }
    }

    pub(crate) fn kw(&self, id: NodeId) -> Option<&'a Keywords> {
        match self.ir.nodes.get(id) {
            Some(Node::Schema(k)) => Some(k),
            Some(Node::Bool(_)) | None => None,
        }
    }

    pub(crate) fn is_false(&self, id: NodeId) -> bool {
        matches!(self.ir.nodes.get(id), Some(Node::Bool(false)))
    }

    /// A value valid for every node of `conj` and meeting `filters` (node, must-validate).
    pub(crate) fn build(
        &mut self,
        conj: &[NodeId],
        filters: &[(NodeId, bool)],
        src: &mut dyn Source,
        depth: usize,
    ) -> Result<Value, Dead> {
        if depth > HARD_DEPTH {
            return Err(Dead);
        }
        for retry in 0..LOCAL_RETRIES {
            self.effort += 1;
            if self.effort > EFFORT_LIMIT {
                return Err(Dead);
            }
            // A re-draw: new choices even from an exhausted source (see `Reroll`).
            let src = &mut Reroll::new(src, retry as u64, self.effort);
            let mut flat = Flat::default();
            flat.filters.extend_from_slice(filters);
            for &id in conj {
                self.expand(id, &mut flat, src);
            }
            self.settle_dependencies(&mut flat, src);
            if flat.dead {
                return Err(Dead);
            }
            let Ok(v) = self.gen_flat(&flat, src, depth) else {
                continue;
            };
            if self.passes(&flat, &v) {
                return Ok(v);
            }
            self.discarded += 1;
        }
        Err(Dead)
    }

    fn passes(&self, flat: &Flat, v: &Value) -> bool {
        flat.filters
            .iter()
            .all(|&(id, want)| self.oracle.node_valid(id, v).is_none_or(|got| got == want))
    }

    fn node_ok(&self, id: NodeId, v: &Value) -> bool {
        self.oracle.node_valid(id, v).unwrap_or(true)
    }

    fn gen_flat(&mut self, flat: &Flat, src: &mut dyn Source, depth: usize) -> Result<Value, Dead> {
        // Listed values first: `const`/`enum` members that every part accepts.
        let listed: Option<Vec<Value>> = flat.nodes.iter().find_map(|&id| {
            let k = self.kw(id)?;
            k.const_
                .as_ref()
                .map(|c| vec![c.clone()])
                .or_else(|| k.enum_.clone())
        });
        if let Some(candidates) = listed {
            let ok: Vec<Value> = candidates
                .into_iter()
                .filter(|c| {
                    type_bits(c) & flat.types != 0
                        && flat.nodes.iter().all(|&id| self.node_ok(id, c))
                })
                .collect();
            if ok.is_empty() {
                return Err(Dead);
            }
            return Ok(ok[src.choose(ok.len())].clone());
        }
        let order = [
            ty::NULL,
            ty::BOOLEAN,
            ty::INTEGER,
            ty::FRACTION,
            ty::STRING,
            ty::ARRAY,
            ty::OBJECT,
        ];
        let mut allowed: Vec<u8> = order.into_iter().filter(|t| flat.types & t != 0).collect();
        if depth >= SOFT_DEPTH && allowed.iter().any(|t| *t & (ty::ARRAY | ty::OBJECT) == 0) {
            allowed.retain(|t| *t & (ty::ARRAY | ty::OBJECT) == 0);
        }
        if allowed.is_empty() {
            return Err(Dead);
        }
        let hinted: Vec<u8> = allowed
            .iter()
            .copied()
            .filter(|t| flat.hints & t != 0)
            .collect();
        let pool = if !hinted.is_empty() && !src.ratio(1, 5) {
            hinted
        } else {
            allowed
        };
        let t = pool[src.choose(pool.len())];
        match t {
            ty::NULL => Ok(Value::Null),
            ty::BOOLEAN => Ok(Value::Bool(src.ratio(1, 2))),
            ty::INTEGER => self.gen_number(flat, src, true),
            ty::FRACTION => self.gen_number(flat, src, false),
            ty::STRING => self.gen_string(flat, src).map(Value::String),
            ty::ARRAY => self.gen_array(flat, src, depth),
            _ => self.gen_object(flat, src, depth),
        }
    }
}

/// The type bits of a JSON value (an integral float counts as an integer, as in the specs).
pub(crate) fn type_bits(v: &Value) -> u8 {
    match v {
        Value::Null => ty::NULL,
        Value::Bool(_) => ty::BOOLEAN,
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0) {
                ty::INTEGER
            } else {
                ty::FRACTION
            }
        }
        Value::String(_) => ty::STRING,
        Value::Array(_) => ty::ARRAY,
        Value::Object(_) => ty::OBJECT,
    }
}
