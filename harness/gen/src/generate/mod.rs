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
use std::borrow::Cow;
use std::time::Instant;

pub(crate) use applicator::Flat;
pub(crate) use array::Salted;
pub(crate) use number::py_multiple_ok;

/// Beyond this nesting, containers take their minimal shape (no optional members), so required
/// recursion still terminates while optional recursion stops.
pub(crate) const SOFT_DEPTH: usize = 5;
/// Beyond this nesting a branch is abandoned, unless the schema's minimal value is itself deeper
/// (`Facts::depth`, then that depth plus this margin): recursion that could stop but keeps
/// choosing to go on is cut here.
pub(crate) const HARD_DEPTH: usize = 48;
/// The deepest nesting ever built, whatever the schema asks: the interpreter recurses per level,
/// and a thread's stack (2 MiB for test threads) must hold it in a debug build.
pub(crate) const MAX_DEPTH: usize = 256;
/// Calls to `build` per top-level attempt: a contradictory schema fails after this much work.
/// Containers whose minimum asks for more members raise it by that many (`allowance`).
const EFFORT_LIMIT: u64 = 20_000;
/// The longest string, array or object built (members or code points): a `minLength` or
/// `minItems` beyond it gets "gave up", not an allocation failure. 2^24 keeps one value under a
/// few hundred MiB.
pub(crate) const MAX_CONSTRUCT: u64 = 1 << 24;
/// The deadline is read every this many `build` calls (reading the clock costs ~20 ns).
const CLOCK_EVERY: u64 = 64;
/// Re-draws of one value whose filters (`not`, a `oneOf` sibling, an `if` not taken) reject it.
const LOCAL_RETRIES: usize = 3;

/// The state of one top-level generation attempt.
pub(crate) struct Gen<'a> {
    pub(crate) ir: &'a Ir,
    pub(crate) oracle: &'a Oracle,
    pub(crate) effort: u64,
    pub(crate) discarded: u64,
    /// Extra effort granted by containers whose minimum demands many members.
    pub(crate) allowance: u64,
    /// Nesting beyond which a branch is abandoned.
    pub(crate) hard_depth: usize,
    /// Stop building once this instant has passed (`--max-time`).
    pub(crate) deadline: Option<Instant>,
    /// The keyword (or budget) behind the last dead branch, for "gave up" messages.
    pub(crate) fault: Option<Cow<'static, str>>,
    /// The deadline passed during this attempt.
    pub(crate) out_of_time: bool,
}

/// A check construction cannot guarantee: (node, the verdict it must give, the keyword behind it).
pub(crate) type Filter = (NodeId, bool, &'static str);

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
            allowance: 0,
            hard_depth: HARD_DEPTH,
            deadline: None,
            fault: None,
            out_of_time: false,
        }
    }

    /// Abandon this branch because of `why` (a keyword in backquotes, or a budget).
    pub(crate) fn dead<T>(&mut self, why: impl Into<Cow<'static, str>>) -> Result<T, Dead> {
        self.fault = Some(why.into());
        Err(Dead)
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

    /// A value valid for every node of `conj` and meeting `filters`.
    pub(crate) fn build(
        &mut self,
        conj: &[NodeId],
        filters: &[Filter],
        src: &mut dyn Source,
        depth: usize,
    ) -> Result<Value, Dead> {
        if depth > self.hard_depth {
            return self.dead(format!("nesting deeper than {} levels", self.hard_depth));
        }
        let mut last_filter = None;
        for retry in 0..LOCAL_RETRIES {
            self.effort += 1;
            if self.effort > EFFORT_LIMIT.saturating_add(self.allowance) {
                return self.dead(format!(
                    "the effort budget ({} steps)",
                    EFFORT_LIMIT.saturating_add(self.allowance)
                ));
            }
            if self.out_of_time
                || (self.effort % CLOCK_EVERY == 0
                    && self.deadline.is_some_and(|d| Instant::now() >= d))
            {
                self.out_of_time = true;
                return self.dead("the time budget");
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
                return self.dead("`false` (or `not: true`)");
            }
            let Ok(v) = self.gen_flat(&flat, src, depth) else {
                continue;
            };
            match self.failed_filter(&flat, &v) {
                None => return Ok(v),
                Some(kw) => last_filter = Some(kw),
            }
            self.discarded += 1;
        }
        match last_filter {
            Some(kw) => self.dead(kw),
            None => Err(Dead),
        }
    }

    /// The keyword of the first filter `v` fails, if any.
    fn failed_filter(&self, flat: &Flat, v: &Value) -> Option<&'static str> {
        flat.filters
            .iter()
            .find(|f| self.oracle.node_valid(f.0, v).is_some_and(|got| got != f.1))
            .map(|f| f.2)
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
                return self.dead("`enum`/`const`");
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
            return self.dead("`type`");
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
