//! The `jsonschema` validator for the same documents: the referee for every emitted value.
//!
//! Invariants: the root validator and every sub-validator are built with the same options
//! (formats asserted, `PatternOptions::regex()`, e-mail without display text); a sub-validator
//! checks one IR node through a `{"$ref": "<node uri>"}` wrapper, so `$ref`s inside it resolve as
//! in the whole document.

use crate::ir::{Ir, NodeId};
use crate::resolve::Documents;
use crate::{Draft, GenError};
use jsonschema::{EmailOptions, PatternOptions, Validator};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The base URI of the one-node wrapper validators (no document is registered under it).
const NODE_BASE: &str = "urn:contracts-gen:node-oracle";

/// The validators for one schema.
pub(crate) struct Oracle {
    docs: Arc<Documents>,
    root: Validator,
    nodes: Vec<OnceLock<Option<Validator>>>,
    uris: Vec<String>,
    patterns: Mutex<HashMap<String, Option<Arc<Validator>>>>,
}

impl std::fmt::Debug for Oracle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oracle").finish_non_exhaustive()
    }
}

fn options(draft: Draft) -> jsonschema::ValidationOptions<'static> {
    jsonschema::options()
        .with_draft(draft.to_jsonschema())
        .should_validate_formats(true)
        .with_pattern_options(PatternOptions::regex())
        .with_email_options(EmailOptions::default().without_display_text())
}

impl Oracle {
    pub(crate) fn new(docs: Arc<Documents>, ir: &Ir, schema: &Value) -> Result<Self, GenError> {
        let root = options(docs.draft)
            .with_base_uri(docs.base.clone())
            .with_registry(&docs.registry)
            .build(schema)
            .map_err(|e| GenError::Schema {
                why: format!("the validator refuses the schema: {e}"),
            })?;
        Ok(Self {
            nodes: (0..ir.nodes.len()).map(|_| OnceLock::new()).collect(),
            uris: ir.uris.clone(),
            docs,
            root,
            patterns: Mutex::new(HashMap::new()),
        })
    }

    /// The root validator.
    pub(crate) fn root(&self) -> &Validator {
        &self.root
    }

    /// Is `v` valid for the whole schema?
    pub(crate) fn is_valid(&self, v: &Value) -> bool {
        self.root.is_valid(v)
    }

    /// Is `v` valid against node `id` alone? `None` when no validator could be built for it.
    pub(crate) fn node_valid(&self, id: NodeId, v: &Value) -> Option<bool> {
        let cell = self.nodes.get(id)?;
        let validator = cell.get_or_init(|| {
            let uri = self.uris.get(id)?;
            // The wrapper gets a base of its own: under the root's base it would shadow the root
            // document, and every node of that document (the root too) would not resolve.
            options(self.docs.draft)
                .with_base_uri(NODE_BASE.to_owned())
                .with_registry(&self.docs.registry)
                .build(&json!({ "$ref": uri }))
                .ok()
        });
        validator.as_ref().map(|val| val.is_valid(v))
    }

    /// Does `s` match the ECMA-262 `pattern` (as the validator reads it)? `None` if it cannot say.
    pub(crate) fn pattern_matches(&self, pattern: &str, s: &str) -> Option<bool> {
        self.keyword_ok("pattern", pattern, s)
    }

    /// Does `s` pass `format` (asserted, as the root validator checks it)? `None` if it cannot say.
    pub(crate) fn format_ok(&self, format: &str, s: &str) -> Option<bool> {
        self.keyword_ok("format", format, s)
    }

    fn keyword_ok(&self, keyword: &str, arg: &str, s: &str) -> Option<bool> {
        let validator = {
            let mut cache = self.patterns.lock().ok()?;
            cache
                .entry(format!("{keyword}\u{0}{arg}"))
                .or_insert_with(|| {
                    options(self.docs.draft)
                        .build(&json!({ keyword: arg }))
                        .ok()
                        .map(Arc::new)
                })
                .clone()
        }?;
        Some(validator.is_valid(&Value::String(s.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_node_of_the_root_document_gets_a_verdict() {
        for base in [None, Some("file:///x/types/t.json".to_owned())] {
            let schema = json!({"properties": {"a": {"const": 1}}});
            let opts = crate::GenOptions {
                base_uri: base,
                ..crate::GenOptions::default()
            };
            let docs = Arc::new(crate::resolve::load(&schema, &opts).expect("loads"));
            let ir = crate::ir::compile(&docs).expect("compiles");
            let o = Oracle::new(docs, &ir, &schema).expect("builds");
            let a = (0..ir.nodes.len())
                .find(|&id| ir.uris[id].ends_with("#/properties/a"))
                .expect("a node for /properties/a");
            assert_eq!(o.node_valid(a, &json!(1)), Some(true));
            assert_eq!(o.node_valid(a, &json!(2)), Some(false));
            assert_eq!(o.node_valid(ir.root, &json!({"a": 2})), Some(false));
        }
    }
}
