//! Integration tests of contracts-gen: guarantees per keyword, determinism, the suite replay.

mod choices;
mod determinism;
mod hostile;
mod keywords;
mod suite;

use jsonschema::{EmailOptions, PatternOptions, Validator};
use serde_json::Value;

/// An independent validator with the oracle's options: what the guarantees are checked against.
pub(crate) fn referee(schema: &Value, draft7: bool) -> Validator {
    let draft = if draft7 {
        jsonschema::Draft::Draft7
    } else {
        jsonschema::Draft::Draft202012
    };
    jsonschema::options()
        .with_draft(draft)
        .should_validate_formats(true)
        .with_pattern_options(PatternOptions::regex())
        .with_email_options(EmailOptions::default().without_display_text())
        .build(schema)
        .expect("test schemas compile")
}

/// Does the referee reject `value` with `keyword` at `path`?
pub(crate) fn rejected_for(v: &Validator, value: &Value, keyword: &str, path: &str) -> bool {
    v.iter_errors(value)
        .any(|e| e.kind().keyword() == keyword && e.instance_path().as_str() == path)
}
