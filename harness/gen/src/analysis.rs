//! Static facts about the compiled schema: which nodes can have a value at all, and how deep a
//! value must nest.
//!
//! Invariants: the analysis over-approximates satisfiability. A node is called empty only when
//! it is proven to admit no value (a `false`, a type set that is empty, bounds that cross, or a
//! value that must contain a value of an empty node). So `Empty` is a proof, and anything the
//! analysis cannot decide stays possible (the generator then searches and, at worst, gives up).
//! This is the productivity check of a context-free grammar: the least fixpoint of "some value
//! can be built from finitely many values of possible nodes". A `$ref` cycle whose every
//! path requires going around again never becomes possible, and `explain` names that cycle.
#![deny(clippy::wildcard_enum_match_arm)]

use crate::generate::type_bits;
use crate::ir::{Ir, Keywords, Node, NodeId, ty};

/// What the analysis knows about every node.
#[derive(Debug, Clone)]
pub(crate) struct Facts {
    /// `Some(rank)` for a possible node: the fixpoint round that first found a value for it, an
    /// upper bound of the schema edges a minimal value crosses. `None`: proven empty.
    rank: Vec<Option<usize>>,
}

/// Rounds of the fixpoint: each round finds the nodes whose minimal value is one schema edge
/// deeper, so this bounds the nesting the analysis follows. Past it the nodes still undecided are
/// taken as possible (undecided is never called empty).
const MAX_ROUNDS: usize = 4096;

impl Facts {
    pub(crate) fn of(ir: &Ir) -> Self {
        let n = ir.nodes.len();
        let mut rank: Vec<Option<usize>> = vec![None; n];
        let mut round = 0;
        loop {
            // Jacobi rounds (read the previous round only), so a rank is a true edge depth.
            let found: Vec<NodeId> = (0..n)
                .filter(|&id| rank[id].is_none() && possible(ir, id, &rank))
                .collect();
            if found.is_empty() {
                break;
            }
            for id in found {
                rank[id] = Some(round);
            }
            round += 1;
            if round >= MAX_ROUNDS {
                for r in rank.iter_mut().filter(|r| r.is_none()) {
                    *r = Some(round);
                }
                break;
            }
        }
        Self { rank }
    }

    /// Is node `id` proven to admit no value?
    pub(crate) fn empty(&self, id: NodeId) -> bool {
        self.rank.get(id).is_some_and(Option::is_none)
    }

    /// An upper bound of the schema edges a minimal value of `id` crosses (0 when empty).
    pub(crate) fn depth(&self, id: NodeId) -> usize {
        self.rank.get(id).copied().flatten().unwrap_or(0)
    }

    /// Why node `root` admits no value: the chain of subschemas (by URI) that leads to a
    /// contradiction, or around a cycle. `None` when `root` is not proven empty.
    pub(crate) fn explain(&self, ir: &Ir, root: NodeId) -> Option<String> {
        if !self.empty(root) {
            return None;
        }
        let mut path: Vec<(NodeId, &'static str)> = Vec::new();
        let mut id = root;
        loop {
            if let Some(start) = path.iter().position(|&(p, _)| p == id) {
                let mut names: Vec<String> = path[start..]
                    .iter()
                    .map(|&(p, kw)| format!("{} ({kw})", short_uri(ir, p)))
                    .collect();
                names.push(short_uri(ir, id));
                return Some(format!(
                    "`$ref` cycle with no base case: {}",
                    names.join(" -> ")
                ));
            }
            match blocker(ir, id, &self.rank) {
                Some((next, kw)) => {
                    path.push((id, kw));
                    id = next;
                }
                None => {
                    let why = local_contradiction(ir, id)
                        .unwrap_or("no type admits a value under its keywords");
                    let mut chain: Vec<String> = path
                        .iter()
                        .map(|&(p, kw)| format!("{} ({kw})", short_uri(ir, p)))
                        .collect();
                    chain.push(short_uri(ir, id));
                    return Some(format!("{why}, at {}", chain.join(" -> ")));
                }
            }
        }
    }
}

/// A node's URI, as a bare fragment (`#/properties/a`) when it lies in the root document.
fn short_uri(ir: &Ir, id: NodeId) -> String {
    let uri = ir.uris.get(id).map_or("?", String::as_str);
    let root_doc = ir
        .uris
        .get(ir.root)
        .and_then(|r| r.split('#').next())
        .unwrap_or("");
    match uri.split_once('#') {
        Some((doc, frag)) if doc == root_doc => format!("#{frag}"),
        _ => uri.to_owned(),
    }
}

fn kw(ir: &Ir, id: NodeId) -> Option<&Keywords> {
    match ir.nodes.get(id) {
        Some(Node::Schema(k)) => Some(k),
        Some(Node::Bool(_)) | None => None,
    }
}

fn is_possible(rank: &[Option<usize>], id: NodeId) -> bool {
    rank.get(id).is_some_and(Option::is_some)
}

/// Can node `id` have a value, given the nodes already known possible?
fn possible(ir: &Ir, id: NodeId, rank: &[Option<usize>]) -> bool {
    match ir.nodes.get(id) {
        None | Some(Node::Bool(true)) => true,
        Some(Node::Bool(false)) => false,
        Some(Node::Schema(k)) => {
            !not_everything(ir, k) && blocker_of(k, rank).is_none() && !all_types_blocked(k, rank)
        }
    }
}

/// A child that every value of `k` must also satisfy and that is not (yet) possible.
fn blocker_of(k: &Keywords, rank: &[Option<usize>]) -> Option<(NodeId, &'static str)> {
    let ok = |id: NodeId| is_possible(rank, id);
    if let Some(&r) = k.refs.iter().find(|&&r| !ok(r)) {
        return Some((r, "$ref"));
    }
    if let Some(&a) = k.all_of.iter().find(|&&a| !ok(a)) {
        return Some((a, "allOf"));
    }
    if !k.any_of.is_empty() && !k.any_of.iter().any(|&a| ok(a)) {
        return Some((k.any_of[0], "anyOf"));
    }
    if !k.one_of.is_empty() && !k.one_of.iter().any(|&a| ok(a)) {
        return Some((k.one_of[0], "oneOf"));
    }
    if k.if_.is_some() {
        let then_ok = k.then_.is_none_or(ok);
        let else_ok = k.else_.is_none_or(ok);
        if !then_ok && !else_ok {
            return k.then_.map(|t| (t, "then"));
        }
    }
    None
}

/// The next node to follow when explaining why `id` is empty.
fn blocker(ir: &Ir, id: NodeId, rank: &[Option<usize>]) -> Option<(NodeId, &'static str)> {
    let k = kw(ir, id)?;
    if let Some(b) = blocker_of(k, rank) {
        return Some(b);
    }
    if local_contradiction(ir, id).is_some() {
        return None;
    }
    let types = k.types.unwrap_or(ty::ALL);
    // Only containers can be blocked by children: follow the first allowed one that is.
    TYPES
        .into_iter()
        .filter(|&t| types & t != 0 && type_local(k, t))
        .find_map(|t| child_blocker(k, t, rank))
}

const TYPES: [u8; 7] = [
    ty::NULL,
    ty::BOOLEAN,
    ty::INTEGER,
    ty::FRACTION,
    ty::STRING,
    ty::ARRAY,
    ty::OBJECT,
];

/// Is every type `k` allows impossible (by its own bounds or by an impossible required child)?
fn all_types_blocked(k: &Keywords, rank: &[Option<usize>]) -> bool {
    let types = k.types.unwrap_or(ty::ALL);
    TYPES
        .into_iter()
        .filter(|t| types & t != 0)
        .all(|t| !type_local(k, t) || child_blocker(k, t, rank).is_some())
}

fn child_blocker(k: &Keywords, t: u8, rank: &[Option<usize>]) -> Option<(NodeId, &'static str)> {
    match t {
        ty::ARRAY => array_blocker(k, rank),
        ty::OBJECT => object_blocker(k, rank),
        _ => None,
    }
}

/// Can a value of type `t` meet the assertions of `k` itself (children aside)?
fn type_local(k: &Keywords, t: u8) -> bool {
    if k.const_.as_ref().is_some_and(|c| type_bits(c) & t == 0) {
        return false;
    }
    if k.enum_
        .as_ref()
        .is_some_and(|e| !e.iter().any(|v| type_bits(v) & t != 0))
    {
        return false;
    }
    match t {
        ty::INTEGER => {
            let (lo, hi) = int_range(k);
            lo <= hi
        }
        ty::FRACTION => {
            let lo = k
                .minimum
                .into_iter()
                .chain(k.exclusive_minimum)
                .fold(f64::NEG_INFINITY, f64::max);
            let hi = k
                .maximum
                .into_iter()
                .chain(k.exclusive_maximum)
                .fold(f64::INFINITY, f64::min);
            lo <= hi
        }
        ty::STRING => k.min_length.unwrap_or(0) <= k.max_length.unwrap_or(u64::MAX),
        ty::ARRAY => k.min_items.unwrap_or(0) <= k.max_items.unwrap_or(u64::MAX),
        ty::OBJECT => {
            let mut req: Vec<&String> = k.required.iter().collect();
            req.sort();
            req.dedup();
            let max = k.max_properties.unwrap_or(u64::MAX);
            req.len() as u64 <= max && k.min_properties.unwrap_or(0) <= max
        }
        _ => true,
    }
}

/// The integers `[lo, hi]` the bounds of `k` admit (as floats; `lo > hi` when none).
fn int_range(k: &Keywords) -> (f64, f64) {
    let mut lo = f64::NEG_INFINITY;
    let mut hi = f64::INFINITY;
    if let Some(m) = k.minimum {
        lo = lo.max(m.ceil());
    }
    if let Some(m) = k.exclusive_minimum {
        lo = lo.max(m.floor() + 1.0);
    }
    if let Some(m) = k.maximum {
        hi = hi.min(m.floor());
    }
    if let Some(m) = k.exclusive_maximum {
        hi = hi.min(m.ceil() - 1.0);
    }
    (lo, hi)
}

/// `not: true` (or `not: {}`): nothing passes.
fn not_everything(ir: &Ir, k: &Keywords) -> bool {
    match k.not.and_then(|n| ir.nodes.get(n)) {
        Some(Node::Bool(b)) => *b,
        Some(Node::Schema(nk)) => format!("{nk:?}") == format!("{:?}", Keywords::default()),
        None => false,
    }
}

/// A contradiction inside one schema object, whatever its children are.
fn local_contradiction(ir: &Ir, id: NodeId) -> Option<&'static str> {
    let k = kw(ir, id)?;
    if not_everything(ir, k) {
        return Some("`not` of a schema that accepts everything");
    }
    let types = k.types.unwrap_or(ty::ALL);
    if types == 0 {
        return Some("`type` admits nothing");
    }
    if TYPES
        .into_iter()
        .any(|t| types & t != 0 && type_local(k, t))
    {
        return None;
    }
    if k.const_.is_some() || k.enum_.is_some() {
        return Some("no `enum`/`const` member has an allowed type");
    }
    Some(
        "bounds that cross (`minimum`/`maximum`, `minLength`/`maxLength`, `minItems`/`maxItems`, \
         `required`/`minProperties`/`maxProperties`)",
    )
}

/// A required property whose schema (declared, or `additionalProperties` when no declaration or
/// pattern can apply) is not possible.
fn object_blocker(k: &Keywords, rank: &[Option<usize>]) -> Option<(NodeId, &'static str)> {
    if k.enum_.is_some() || k.const_.is_some() {
        return None;
    }
    for r in &k.required {
        if let Some((_, s)) = k.properties.iter().find(|(p, _)| p == r) {
            if !is_possible(rank, *s) {
                return Some((*s, "required property"));
            }
        } else if k.pattern_properties.is_empty() {
            if let Some(a) = k.additional_properties {
                if !is_possible(rank, a) {
                    return Some((a, "required property"));
                }
            }
        }
    }
    None
}

/// An item every array of `k` must hold (below `minItems`, or one `contains` match) that is not
/// possible.
fn array_blocker(k: &Keywords, rank: &[Option<usize>]) -> Option<(NodeId, &'static str)> {
    if k.enum_.is_some() || k.const_.is_some() {
        return None;
    }
    let min = k.min_items.unwrap_or(0);
    let prefix = k.prefix_items.len() as u64;
    for i in 0..min.min(prefix) {
        let p = k.prefix_items[usize::try_from(i).unwrap_or(usize::MAX)];
        if !is_possible(rank, p) {
            return Some((p, "prefixItems"));
        }
    }
    if min > prefix {
        if let Some(i) = k.items {
            if !is_possible(rank, i) {
                return Some((i, "items"));
            }
        }
    }
    if let Some(c) = k.contains {
        if k.min_contains.is_none_or(|m| m > 0) && !is_possible(rank, c) {
            return Some((c, "contains"));
        }
    }
    None
}
