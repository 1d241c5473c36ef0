//! Applicators: the flat conjunction a value must satisfy, and the branch choices that build it.

use super::{Filter, Gen};
use crate::ir::{Node, NodeId, ty};
use crate::source::Source;

/// A conjunction of schema nodes, flattened through `$ref`, `allOf` and the chosen branches.
#[derive(Debug, Clone)]
pub(crate) struct Flat {
    /// Schema objects whose keywords the value must meet (order = expansion order).
    pub(crate) nodes: Vec<NodeId>,
    /// (node, expected verdict) checked by the oracle after construction.
    pub(crate) filters: Vec<Filter>,
    /// Allowed types: the intersection of every `type`, minus `not: {type}`.
    pub(crate) types: u8,
    /// Types whose keywords appear: preferred when the schema leaves the type open.
    pub(crate) hints: u8,
    /// Properties this branch requires (from dependencies taken).
    pub(crate) required: Vec<String>,
    /// Properties this branch must not have (dependencies not taken).
    pub(crate) forbidden: Vec<String>,
    /// Dependencies to decide once the whole conjunction is known: (key, required names, schema).
    pending: Vec<(String, Vec<String>, Option<NodeId>)>,
    /// A `false` was reached: no value.
    pub(crate) dead: bool,
}

impl Default for Flat {
    fn default() -> Self {
        Self {
            nodes: Vec::new(),
            filters: Vec::new(),
            types: ty::ALL,
            hints: 0,
            required: Vec::new(),
            forbidden: Vec::new(),
            pending: Vec::new(),
            dead: false,
        }
    }
}

impl Gen<'_> {
    /// Add node `id` to `flat`, choosing branches from `src`.
    pub(crate) fn expand(&mut self, id: NodeId, flat: &mut Flat, src: &mut dyn Source) {
        if flat.dead || flat.nodes.contains(&id) {
            return;
        }
        let k = match self.ir.nodes.get(id) {
            Some(Node::Bool(true)) | None => return,
            Some(Node::Bool(false)) => {
                flat.dead = true;
                return;
            }
            Some(Node::Schema(k)) => k,
        };
        flat.nodes.push(id);
        if let Some(t) = k.types {
            flat.types &= t;
        }
        flat.hints |= hints(k);
        for &r in &k.refs {
            self.expand(r, flat, src);
        }
        for &a in &k.all_of {
            self.expand(a, flat, src);
        }
        if !k.any_of.is_empty() {
            let i = src.choose(k.any_of.len());
            self.expand(k.any_of[i], flat, src);
        }
        if !k.one_of.is_empty() {
            let i = src.choose(k.one_of.len());
            for (j, &b) in k.one_of.iter().enumerate() {
                if j != i {
                    flat.filters.push((b, false, "`oneOf`"));
                }
            }
            self.expand(k.one_of[i], flat, src);
        }
        if let Some(n) = k.not {
            match self.ir.nodes.get(n) {
                Some(Node::Bool(true)) => flat.dead = true,
                Some(Node::Bool(false)) | None => {}
                Some(Node::Schema(nk)) => {
                    // `not: {type: T}` alone narrows the type set by construction.
                    if is_only_type(nk) {
                        flat.types &= !nk.types.unwrap_or(0);
                    } else {
                        flat.filters.push((n, false, "`not`"));
                    }
                }
            }
        }
        if let Some(i) = k.if_ {
            if src.choose(2) == 0 {
                self.expand(i, flat, src);
                if let Some(t) = k.then_ {
                    self.expand(t, flat, src);
                }
            } else {
                flat.filters.push((i, false, "`if`"));
                if let Some(e) = k.else_ {
                    self.expand(e, flat, src);
                }
            }
        }
        for (key, names) in &k.dependent_required {
            flat.pending.push((key.clone(), names.clone(), None));
        }
        for (key, s) in &k.dependent_schemas {
            flat.pending.push((key.clone(), Vec::new(), Some(*s)));
        }
    }

    /// Decide each dependency: take it (require its key and what it brings) or forbid its key.
    pub(crate) fn settle_dependencies(&mut self, flat: &mut Flat, src: &mut dyn Source) {
        let mut rounds = 0;
        while let Some((key, names, schema)) = flat.pending.pop() {
            rounds += 1;
            if rounds > 256 || flat.dead {
                break;
            }
            let required_anyway = flat.required.contains(&key)
                || flat
                    .nodes
                    .iter()
                    .any(|&id| self.kw(id).is_some_and(|k| k.required.contains(&key)));
            if required_anyway || (!flat.forbidden.contains(&key) && src.choose(2) == 1) {
                flat.required.push(key);
                flat.required.extend(names);
                if let Some(s) = schema {
                    // Only objects are constrained: the dependency applies when the key is present.
                    let before = flat.types;
                    self.expand(s, flat, src);
                    if flat.dead && before & !ty::OBJECT != 0 {
                        flat.dead = false;
                        flat.types = before & !ty::OBJECT;
                    }
                }
            } else {
                flat.forbidden.push(key);
            }
        }
    }
}

fn is_only_type(k: &crate::ir::Keywords) -> bool {
    let mut only = k.clone();
    only.types = None;
    k.types.is_some() && format!("{only:?}") == format!("{:?}", crate::ir::Keywords::default())
}

fn hints(k: &crate::ir::Keywords) -> u8 {
    let mut h = 0;
    if k.minimum.is_some()
        || k.maximum.is_some()
        || k.exclusive_minimum.is_some()
        || k.exclusive_maximum.is_some()
        || k.multiple_of.is_some()
    {
        h |= ty::INTEGER | ty::FRACTION;
    }
    if k.min_length.is_some() || k.max_length.is_some() || k.pattern.is_some() || k.format.is_some()
    {
        h |= ty::STRING;
    }
    if !k.prefix_items.is_empty()
        || k.items.is_some()
        || k.contains.is_some()
        || k.min_items.is_some()
        || k.max_items.is_some()
        || k.unique_items
        || k.unevaluated_items.is_some()
    {
        h |= ty::ARRAY;
    }
    if !k.properties.is_empty()
        || !k.pattern_properties.is_empty()
        || k.additional_properties.is_some()
        || k.property_names.is_some()
        || !k.required.is_empty()
        || k.min_properties.is_some()
        || k.max_properties.is_some()
        || !k.dependent_required.is_empty()
        || !k.dependent_schemas.is_empty()
        || k.unevaluated_properties.is_some()
    {
        h |= ty::OBJECT;
    }
    h
}
