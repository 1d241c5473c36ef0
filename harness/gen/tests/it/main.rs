//! Integration tests of contracts-gen: guarantees per keyword, determinism, the suite replay.

mod choices;
mod determinism;
mod hostile;
mod keywords;
mod suite;

use serde_json::Value;

/// The referee of every guarantee: `boon`, a draft 2020-12 / draft 7 validator written
/// independently of `jsonschema` (which the generator filters with), with formats asserted.
pub(crate) struct Referee {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

/// Where the referee registers the schema under test (no document lives there; nothing is
/// fetched: boon only loads `file:` URLs by default, and these schemas name none).
const REFEREE_URL: &str = "http://referee.invalid/schema.json";

impl Referee {
    /// Does the referee accept `v`?
    pub(crate) fn is_valid(&self, v: &Value) -> bool {
        self.schemas.validate(v, self.index).is_ok()
    }

    /// The referee's errors for `v`, for failure messages.
    pub(crate) fn why(&self, v: &Value) -> String {
        let Err(err) = self.schemas.validate(v, self.index) else {
            return "the referee accepts it".into();
        };
        let mut leaves = Vec::new();
        let mut stack = vec![&err];
        while let Some(e) = stack.pop() {
            if e.causes.is_empty() {
                leaves.push(format!(
                    "{:?} at {:?} ({})",
                    e.kind.keyword_path().map_or("false", |k| k.keyword),
                    e.instance_location.to_string(),
                    e.schema_url
                ));
            }
            stack.extend(e.causes.iter());
        }
        format!("the referee says: {}", leaves.join("; "))
    }
}

/// A referee for `schema`, or why boon cannot compile it.
pub(crate) fn try_referee(schema: &Value, draft7: bool) -> Result<Referee, String> {
    let mut compiler = boon::Compiler::new();
    compiler.set_default_draft(if draft7 {
        boon::Draft::V7
    } else {
        boon::Draft::V2020_12
    });
    compiler.enable_format_assertions();
    compiler
        .add_resource(REFEREE_URL, schema.clone())
        .map_err(|e| e.to_string())?;
    let mut schemas = boon::Schemas::new();
    let index = compiler
        .compile(REFEREE_URL, &mut schemas)
        .map_err(|e| format!("{e:#}"))?;
    Ok(Referee { schemas, index })
}

/// A referee for a schema the test knows boon compiles.
pub(crate) fn referee(schema: &Value, draft7: bool) -> Referee {
    try_referee(schema, draft7).expect("test schemas compile")
}

/// Keywords whose failure the validators may report at a member of the aimed location (the
/// member's own subschema fails) rather than at the location itself.
const REPORTED_AT_MEMBERS: &[&str] = &[
    "falseSchema",
    "additionalProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "items",
    "additionalItems",
    "prefixItems",
    "properties",
    "patternProperties",
    "propertyNames",
    "dependentSchemas",
    "dependencies",
    "then",
    "else",
];

/// How boon may spell the keyword `jsonschema` reported.
fn spellings(keyword: &str) -> &'static [&'static str] {
    match keyword {
        "additionalProperties" => &["additionalProperties", "additionalProperty"],
        "required" | "dependentRequired" | "dependencies" => {
            &["required", "dependentRequired", "dependencies"]
        }
        "items" | "additionalItems" | "prefixItems" => &["items", "additionalItems", "prefixItems"],
        "minContains" | "maxContains" | "contains" => &["contains", "minContains", "maxContains"],
        _ => &[],
    }
}

/// Keywords boon checks first and stops at (`validator.rs`, `Validator::validate`): when one of
/// them fails at a location, boon reports nothing else there.
const GATES: &[&str] = &["type", "const", "enum"];

/// Schema locations whose errors boon 0.6 reports at an index counted from the end of the
/// prefix (`[null, [""], [], null]` against three `prefixItems` and `items: false` is reported
/// at `/0`, not `/3`): for them only the array is compared.
const REST_OF_ARRAY: &[&str] = &["/items", "/additionalItems", "/unevaluatedItems"];

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

/// Does the referee reject `value` for `keyword` at `path`: an error whose keyword location
/// names the keyword, at the path (or below it, for keywords checked on members); or a gate
/// keyword failing there, which hides the rest from boon's report.
pub(crate) fn rejected_for(r: &Referee, value: &Value, keyword: &str, path: &str) -> bool {
    let Err(err) = r.schemas.validate(value, r.index) else {
        return false;
    };
    let names: Vec<&str> = match spellings(keyword) {
        [] => vec![keyword],
        s => s.to_vec(),
    };
    let below = REPORTED_AT_MEMBERS.contains(&keyword);
    let mut stack = vec![&err];
    while let Some(e) = stack.pop() {
        stack.extend(e.causes.iter());
        let at = e.instance_location.to_string();
        let rest_of_array = REST_OF_ARRAY.iter().any(|s| e.schema_url.ends_with(s));
        let here = at == path
            || (below && at.starts_with(&format!("{path}/")))
            || (rest_of_array && !at.is_empty() && parent(&at) == parent(path));
        if !here {
            continue;
        }
        let kw = e.kind.keyword_path().map(|k| k.keyword);
        if kw.is_some_and(|k| GATES.contains(&k)) && at == path {
            return true;
        }
        if keyword == "falseSchema" && matches!(e.kind, boon::ErrorKind::FalseSchema) {
            return true;
        }
        let location = match kw {
            Some(k) => format!("{}/{k}", e.schema_url),
            None => e.schema_url.to_owned(),
        };
        if names
            .iter()
            .any(|n| location.ends_with(&format!("/{n}")) || location.contains(&format!("/{n}/")))
        {
            return true;
        }
    }
    false
}
