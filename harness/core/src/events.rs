//! Generated OneProtect events: the generic generator of `contracts-gen`, bound to each event
//! type of the registry, plus the event rules that JSON Schema cannot state.
//!
//! `contracts-gen` knows nothing of OneProtect: it makes instances valid for a schema. A valid
//! *event* must also pass the harness's named rules, and one of them can be broken by a
//! schema-valid instance: `causation_id == event_id` (R3, `self_causation`). Generated events
//! therefore get that rule repaired (a root event: `causation_id = null`, which the envelope always
//! allows), so "generated => accepted by `contracts validate`" holds by construction.

use crate::registry::{BASE_URI, Registry};
use crate::validate::PERSISTENCE_FIELDS;
use contracts_gen::{GenError, GenOptions, Generator, Mutant, Source};
use proptest::strategy::{BoxedStrategy, Strategy};
use serde_json::Value;
use std::sync::Arc;

/// The generator of one `(event_type, MAJOR)`.
#[derive(Debug, Clone)]
pub struct EventGenerator {
    event_type: String,
    major: u64,
    generator: Arc<Generator>,
}

/// One generator per contract of a registry, built once.
#[derive(Debug, Clone)]
pub struct EventGenerators {
    all: Vec<EventGenerator>,
}

impl EventGenerators {
    /// A generator for every contract.
    ///
    /// # Errors
    /// The first event type whose schema the generator cannot compile or satisfy.
    pub fn new(registry: &Registry) -> Result<Self, (String, GenError)> {
        let resources = registry.resources();
        let mut all = Vec::new();
        for c in registry.contracts() {
            let opts = GenOptions {
                base_uri: Some(format!("{BASE_URI}{}", c.rel_path)),
                resources: resources.clone(),
                ..GenOptions::default()
            };
            let generator =
                Generator::new(&c.schema, &opts).map_err(|e| (c.event_type.clone(), e))?;
            all.push(EventGenerator {
                event_type: c.event_type.clone(),
                major: c.major,
                generator: Arc::new(generator),
            });
        }
        Ok(EventGenerators { all })
    }

    /// Every generator, in the registry's order (event type, then MAJOR).
    #[must_use]
    pub fn all(&self) -> &[EventGenerator] {
        &self.all
    }

    /// The generator of `event_type` at `major`.
    #[must_use]
    pub fn get(&self, event_type: &str, major: u64) -> Option<&EventGenerator> {
        self.all
            .iter()
            .find(|g| g.event_type == event_type && g.major == major)
    }
}

impl EventGenerator {
    /// The event type.
    #[must_use]
    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    /// The MAJOR.
    #[must_use]
    pub fn major(&self) -> u64 {
        self.major
    }

    /// The underlying schema generator.
    #[must_use]
    pub fn generator(&self) -> &Arc<Generator> {
        &self.generator
    }

    /// A valid event.
    ///
    /// # Errors
    /// When the generator gives up (see [`GenError`]).
    pub fn valid(&self, src: &mut dyn Source) -> Result<Value, GenError> {
        let mut event = self.generator.generate(src)?;
        repair_rules(&mut event);
        Ok(event)
    }

    /// A mutant of `valid` aimed at one keyword and path, if the schema admits one there.
    ///
    /// # Errors
    /// When the generator gives up.
    pub fn mutant(&self, valid: &Value, src: &mut dyn Source) -> Result<Option<Mutant>, GenError> {
        self.generator.mutate(valid, src)
    }

    /// A proptest strategy of valid events that shrinks towards a minimal valid event.
    pub fn valid_strategy(&self) -> BoxedStrategy<Value> {
        contracts_gen::valid_strategy(Arc::clone(&self.generator))
            .prop_map(|mut e| {
                repair_rules(&mut e);
                e
            })
            .boxed()
    }

    /// A proptest strategy of mutants (each aimed at one keyword and path).
    pub fn mutant_strategy(&self) -> BoxedStrategy<Mutant> {
        contracts_gen::mutant_strategy(Arc::clone(&self.generator))
    }
}

/// Make a schema-valid event pass the named rules too: today only R3 (`self_causation`).
pub fn repair_rules(event: &mut Value) {
    let same = match (event.get("causation_id"), event.get("event_id")) {
        (Some(Value::String(c)), Some(Value::String(e))) => c == e,
        _ => false,
    };
    if same {
        if let Some(map) = event.as_object_mut() {
            map.insert("causation_id".into(), Value::Null);
        }
    }
}

/// Insert a persistence-metadata member (catalogue §2.3) into some object of `event`; returns the
/// JSON pointer of the inserted member. The object and the name are drawn from `src`.
pub fn inject_persistence_field(event: &mut Value, src: &mut dyn Source) -> String {
    let mut objects = Vec::new();
    collect_objects(event, String::new(), &mut objects);
    let at = objects
        .get(src.choose(objects.len()))
        .cloned()
        .unwrap_or_default();
    let name = PERSISTENCE_FIELDS[src.choose(PERSISTENCE_FIELDS.len())];
    let target = if at.is_empty() {
        Some(&mut *event)
    } else {
        event.pointer_mut(&at)
    };
    if let Some(Value::Object(map)) = target {
        map.insert(
            name.to_owned(),
            Value::String("2025-11-06T10:05:01.300Z".into()),
        );
    }
    format!("{at}/{name}")
}

fn collect_objects(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                collect_objects(
                    v,
                    format!("{at}/{}", crate::registry::escape_pointer(k)),
                    out,
                );
            }
            out.push(at);
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_objects(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}
