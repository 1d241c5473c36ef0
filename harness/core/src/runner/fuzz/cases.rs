//! Cases: valid events and aimed mutants of one event type, as shrinkable proptest trees.
//!
//! Three sources, mixed by weight: the generator's valid events, its schema mutants (one keyword
//! broken at one path), and mutations only this catalogue knows (§2.3 persistence metadata,
//! §2.4 R3 self-causation, a MAJOR with no schema). The catalogue mutations are applied on top of
//! a generated valid event, so shrinking that event keeps the mutation: the minimal case for a
//! consumer that accepts `received_at` is a minimal valid event plus that one member.
//!
//! The registry is the referee: a case whose registry verdict disagrees with its label (a
//! "valid" event that breaks a named rule, a mutant the registry accepts) is discarded, counted,
//! and never sent.

use super::judge::Aim;
use crate::registry::{BASE_URI, Registry};
use crate::validate::PERSISTENCE_FIELDS;
use contracts_gen::{Draft, GenOptions, Generator, Mutant, mutant_strategy, valid_strategy};
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use serde_json::Value;
use std::sync::Arc;

/// Weights of the three sources. Valid events get the most: they are what every consumer must
/// handle, and the only way to find rejected-valid. Catalogue mutations are few in kind, so a
/// small weight still tries each of them many times in a 10,000-case run.
const WEIGHT_VALID: u32 = 5;
const WEIGHT_SCHEMA_MUTANT: u32 = 4;
const WEIGHT_CATALOGUE_MUTANT: u32 = 2;

/// One input for the program under test.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The event type it was generated for.
    pub event_type: String,
    /// The event.
    pub event: Value,
    /// `None` for a valid event; the mutation for an invalid one.
    pub aim: Option<Aim>,
}

impl Case {
    pub(super) fn valid(event_type: &str, event: Value) -> Self {
        Case {
            event_type: event_type.to_owned(),
            event,
            aim: None,
        }
    }

    fn mutant(event_type: &str, m: Mutant) -> Self {
        Case {
            event_type: event_type.to_owned(),
            event: m.value,
            aim: Some(Aim {
                keyword: m.keyword,
                instance_path: m.instance_path,
                class: m.class.as_str().to_owned(),
            }),
        }
    }

    /// Whether the registry's verdict agrees with the case's label.
    #[must_use]
    pub fn consistent(&self, registry: &Registry) -> bool {
        registry.validate_value(&self.event).is_valid() == self.aim.is_none()
    }
}

/// A mutation the generic generator cannot know: it comes from the catalogue's own rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CatalogueMutation {
    /// Add the `i`-th §2.3 persistence field, at the envelope (`false`) or in the payload.
    Persistence(usize, bool),
    /// `causation_id` := `event_id` (§2.4 R3).
    SelfCausation,
    /// `schema_version` with a MAJOR no schema exists for.
    UnknownMajor,
}

fn catalogue_mutation() -> impl Strategy<Value = CatalogueMutation> {
    // Persistence first: proptest shrinks a union towards its first arm, and `received_at`
    // (index 0) at the envelope (false) is the canonical case (catalogue §2.6 example 1).
    prop_oneof![
        (0..PERSISTENCE_FIELDS.len(), any::<bool>())
            .prop_map(|(i, nested)| CatalogueMutation::Persistence(i, nested)),
        Just(CatalogueMutation::SelfCausation),
        Just(CatalogueMutation::UnknownMajor),
    ]
}

/// Apply `m` to a valid event; `None` when it does not apply (no object payload).
fn apply(event_type: &str, mut event: Value, m: CatalogueMutation) -> Option<Case> {
    let (keyword, path, value) = match m {
        CatalogueMutation::Persistence(i, nested) => {
            let name = PERSISTENCE_FIELDS.get(i)?;
            // A plausible broker value: a timestamp for *_at, a number otherwise.
            let value = if name.ends_with("_at") {
                Value::from("2025-01-01T00:00:00Z")
            } else {
                Value::from(1)
            };
            let target = if nested {
                event.get_mut("payload")?.as_object_mut()?
            } else {
                event.as_object_mut()?
            };
            target.insert((*name).to_owned(), value);
            let path = if nested {
                format!("/payload/{name}")
            } else {
                format!("/{name}")
            };
            ("persistence_metadata", path, "persistence_field")
        }
        CatalogueMutation::SelfCausation => {
            let id = event.get("event_id")?.clone();
            event.as_object_mut()?.insert("causation_id".into(), id);
            (
                "self_causation",
                "/causation_id".to_owned(),
                "self_causation",
            )
        }
        CatalogueMutation::UnknownMajor => {
            event
                .as_object_mut()?
                .insert("schema_version".into(), Value::from("999.0"));
            (
                "unknown_schema_version",
                "/schema_version".to_owned(),
                "unknown_major",
            )
        }
    };
    Some(Case {
        event_type: event_type.to_owned(),
        event,
        aim: Some(Aim {
            keyword: keyword.to_owned(),
            instance_path: path,
            class: value.to_owned(),
        }),
    })
}

/// The generator of one event type's schema, reading `$ref`s from the registry's documents.
///
/// # Errors
/// The generator's message when the schema cannot be compiled or no valid event is found.
pub fn generator_for(registry: &Registry, event_type: &str) -> Result<Arc<Generator>, String> {
    let contract = registry
        .newest(event_type)
        .ok_or_else(|| format!("no schema for event type {event_type}"))?;
    let opts = GenOptions {
        default_draft: Draft::Draft202012,
        base_uri: Some(format!("{BASE_URI}{}", contract.rel_path)),
        file_root: None,
        resources: registry.resources(),
        max_time: None,
    };
    Generator::new(&contract.schema, &opts)
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

/// Where valid events of one type come from.
#[derive(Debug, Clone)]
pub enum Seeds {
    /// The generator of the type's schema (the normal case).
    Generator(Arc<Generator>),
    /// Golden fixtures of the type, for a schema the generator cannot draw from yet; shrinking
    /// removes members and items (see [`super::fixture_tree`]).
    Fixtures(Vec<Value>),
}

/// Every case of one event type: valid events, schema mutants and catalogue mutants.
/// `invalid` false leaves only the valid events (for a run that sends no invalid input).
pub fn case_strategy(seeds: &Seeds, event_type: &str, invalid: bool) -> BoxedStrategy<Case> {
    let generator = match seeds {
        Seeds::Generator(g) => g,
        Seeds::Fixtures(events) => {
            return super::fixture_tree::fixture_cases(events, event_type, invalid);
        }
    };
    let t = event_type.to_owned();
    let valid = {
        let t = t.clone();
        repaired(generator).prop_map(move |v| Case::valid(&t, v))
    };
    if !invalid {
        return valid.boxed();
    }
    let schema = {
        let t = t.clone();
        mutant_strategy(Arc::clone(generator)).prop_map(move |m| Case::mutant(&t, m))
    };
    let catalogue = catalogue_cases(repaired(generator), &t);
    prop_oneof![
        WEIGHT_VALID => valid,
        WEIGHT_SCHEMA_MUTANT => schema,
        WEIGHT_CATALOGUE_MUTANT => catalogue,
    ]
    .boxed()
}

/// Valid events with the named rules repaired (see [`crate::events::repair_rules`]).
fn repaired(generator: &Arc<Generator>) -> BoxedStrategy<Value> {
    valid_strategy(Arc::clone(generator))
        .prop_map(|mut e| {
            crate::events::repair_rules(&mut e);
            e
        })
        .boxed()
}

/// Catalogue mutations on top of valid events from `valid`.
pub(super) fn catalogue_cases(
    valid: BoxedStrategy<Value>,
    event_type: &str,
) -> BoxedStrategy<Case> {
    let t = event_type.to_owned();
    (valid, catalogue_mutation())
        .prop_filter_map("catalogue mutation does not apply", move |(v, m)| {
            apply(&t, v, m)
        })
        .boxed()
}

/// The weights, for the fixture source to mix the same way.
pub(super) const WEIGHTS: (u32, u32, u32) =
    (WEIGHT_VALID, WEIGHT_SCHEMA_MUTANT, WEIGHT_CATALOGUE_MUTANT);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_at_is_added_to_the_envelope() {
        let event = serde_json::json!({"event_id": "a", "payload": {}});
        let case = apply("x.y", event, CatalogueMutation::Persistence(0, false)).expect("applies");
        assert_eq!(case.event["received_at"], "2025-01-01T00:00:00Z");
        let aim = case.aim.expect("aimed");
        assert_eq!(
            (aim.keyword.as_str(), aim.instance_path.as_str()),
            ("persistence_metadata", "/received_at")
        );
    }

    #[test]
    fn self_causation_copies_the_event_id() {
        let event = serde_json::json!({"event_id": "a", "causation_id": null});
        let case = apply("x.y", event, CatalogueMutation::SelfCausation).expect("applies");
        assert_eq!(case.event["causation_id"], "a");
    }
}
