//! The benchmark corpus: golden fixtures varied with a seeded RNG, judged by the registry.
//!
//! Invariants: the same seed and variant count give the same bytes; every event in `valid` got a
//! valid verdict and every event in `invalid` an invalid one from the registry it was built with;
//! every candidate dropped for not getting its intended verdict is counted in `discarded`.

use crate::rng::Rng;
use contracts_core::{Registry, Status};
use serde_json::{Map, Value};

/// One event of the corpus, serialised the way a producer publishes it (compact JSON).
#[derive(Debug, Clone)]
pub struct Event {
    /// Its `event_type`.
    pub event_type: String,
    /// The `x-family` of its contract (`"unknown"` when none).
    pub family: String,
    /// Compact JSON bytes.
    pub bytes: Vec<u8>,
}

/// Valid and invalid events over every event type that has a valid golden fixture.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    /// Events the registry judges valid, types interleaved in a seeded order.
    pub valid: Vec<Event>,
    /// Events the registry judges invalid: aimed mutations of valid ones plus the invalid fixtures.
    pub invalid: Vec<Event>,
    /// Candidates dropped because the registry did not give them their intended verdict.
    pub discarded: usize,
}

/// The mutation kinds used for invalid events, each aimed at one keyword family.
const MUTATIONS: [Mutation; 6] = [
    Mutation::DropMember,
    Mutation::WrongType,
    Mutation::BadFormat,
    Mutation::Persistence,
    Mutation::ExtraMember,
    Mutation::BadPattern,
];

/// Tries per invalid event before a valid variant is given up (each try is counted when dropped).
const MUTATION_TRIES: usize = 8;

/// One aimed change that should make a valid event invalid.
#[derive(Debug, Clone, Copy)]
pub enum Mutation {
    /// Remove one member of the payload (`required`, unless it was optional).
    DropMember,
    /// Replace one string leaf by a number (`type`).
    WrongType,
    /// An impossible `timestamp` (`format: date-time`).
    BadFormat,
    /// Add `received_at` to the payload (the `persistence_metadata` rule).
    Persistence,
    /// Add an unknown member to the payload (`additionalProperties`).
    ExtraMember,
    /// A malformed `event_id` (`pattern` / `format: uuid`).
    BadPattern,
}

impl Corpus {
    /// Build the corpus: `variants` valid variants of every valid fixture, each with one invalid
    /// mutant, from `seed`. Panics only if the fixtures directory is unreadable (a bench setup bug).
    ///
    /// # Panics
    /// When `fixtures/events` cannot be loaded.
    #[must_use]
    pub fn build(registry: &Registry, seed: u64, variants: usize) -> Corpus {
        let fixtures = contracts_core::fixtures::load_dir(&crate::root().join("fixtures/events"))
            .expect("the golden fixtures load (they are replayed by make test)");
        let mut rng = Rng::new(seed);
        let mut corpus = Corpus::default();
        for file in &fixtures {
            let fixture = &file.fixture;
            if !fixture.valid {
                let verdict = registry.validate_value(&fixture.event);
                if verdict.status == Status::Invalid {
                    corpus.invalid.push(event_of(registry, &fixture.event));
                } else {
                    corpus.discarded += 1;
                }
                continue;
            }
            for _ in 0..variants {
                let mut event = fixture.event.clone();
                fresh_ids(&mut event, &mut rng);
                if !registry.validate_value(&event).is_valid() {
                    corpus.discarded += 1;
                    continue;
                }
                for _ in 0..MUTATION_TRIES {
                    let mut mutant = event.clone();
                    mutate(&mut mutant, MUTATIONS[rng.below(MUTATIONS.len())], &mut rng);
                    if registry.validate_value(&mutant).status == Status::Invalid {
                        corpus.invalid.push(event_of(registry, &mutant));
                        break;
                    }
                    corpus.discarded += 1;
                }
                corpus.valid.push(event_of(registry, &event));
            }
        }
        shuffle(&mut corpus.valid, &mut rng);
        shuffle(&mut corpus.invalid, &mut rng);
        corpus
    }

    /// A realistic stream: valid events with one invalid event in every `every` (seeded positions).
    #[must_use]
    pub fn mix(&self, every: usize, seed: u64) -> Vec<&Event> {
        let mut rng = Rng::new(seed);
        let mut out = Vec::with_capacity(self.valid.len() + self.valid.len() / every.max(1));
        let mut bad = self.invalid.iter().cycle();
        for event in &self.valid {
            out.push(event);
            if rng.below(every.max(1)) == 0
                && let Some(e) = bad.next()
            {
                out.push(e);
            }
        }
        out
    }

    /// The families present among valid events, sorted.
    #[must_use]
    pub fn families(&self) -> Vec<String> {
        let mut f: Vec<String> = self.valid.iter().map(|e| e.family.clone()).collect();
        f.sort();
        f.dedup();
        f
    }

    /// Total bytes of `events`.
    #[must_use]
    pub fn bytes_of<'a>(events: impl IntoIterator<Item = &'a Event>) -> u64 {
        events.into_iter().map(|e| e.bytes.len() as u64).sum()
    }
}

fn event_of(registry: &Registry, event: &Value) -> Event {
    let event_type = event
        .get("event_type")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_owned();
    let family = event
        .get("schema_version")
        .and_then(Value::as_str)
        .and_then(contracts_core::validate::schema_major)
        .and_then(|major| registry.contract(&event_type, major))
        .map_or_else(|| "unknown".to_owned(), |c| short_family(&c.family));
    Event {
        event_type,
        family,
        bytes: serde_json::to_vec(event).expect("a Value always serialises"),
    }
}

/// `"Agent enrollment & mTLS identity lifecycle"` -> `"agent-enrollment-mtls-identity-lifecycle"`,
/// a benchmark id criterion can use as a directory name.
fn short_family(family: &str) -> String {
    let mut out = String::new();
    for word in family
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&word.to_ascii_lowercase());
    }
    out
}

fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i + 1));
    }
}

/// Whether `s` is a hyphenated UUID (8-4-4-4-12 hex).
fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Give every UUID a fresh random value of the same version and variant, so that no two variants
/// share bytes (a validator caching on input would otherwise look faster than it is).
pub fn fresh_ids(value: &mut Value, rng: &mut Rng) {
    match value {
        Value::String(s) if is_uuid(s) => {
            let hex = b"0123456789abcdef";
            let mut bytes = s.clone().into_bytes();
            for (i, c) in bytes.iter_mut().enumerate() {
                // Keep the hyphens, the version nibble (14) and the variant nibble (19).
                if matches!(i, 8 | 13 | 14 | 18 | 19 | 23) {
                    continue;
                }
                *c = hex[rng.below(16)];
            }
            *s = String::from_utf8(bytes).expect("hex digits and hyphens are ASCII");
        }
        Value::Array(items) => items.iter_mut().for_each(|v| fresh_ids(v, rng)),
        Value::Object(map) => map.values_mut().for_each(|v| fresh_ids(v, rng)),
        _ => {}
    }
}

/// Apply `kind` to `event` (a valid event of any type).
pub fn mutate(event: &mut Value, kind: Mutation, rng: &mut Rng) {
    let Some(top) = event.as_object_mut() else {
        return;
    };
    match kind {
        Mutation::DropMember => {
            if let Some(payload) = top.get_mut("payload").and_then(Value::as_object_mut) {
                remove_random(payload, rng);
            }
        }
        Mutation::WrongType => {
            let mut leaves = Vec::new();
            string_leaves(event, &mut String::new(), &mut leaves);
            if !leaves.is_empty() {
                let at = leaves.swap_remove(rng.below(leaves.len()));
                if let Some(v) = event.pointer_mut(&at) {
                    *v = Value::from(42);
                }
            }
        }
        Mutation::BadFormat => {
            top.insert("timestamp".into(), "2025-02-30T25:61:00Z".into());
        }
        Mutation::Persistence => {
            if let Some(payload) = top.get_mut("payload").and_then(Value::as_object_mut) {
                payload.insert("received_at".into(), "2025-11-06T08:02:11.204Z".into());
            }
        }
        Mutation::ExtraMember => {
            if let Some(payload) = top.get_mut("payload").and_then(Value::as_object_mut) {
                payload.insert("x_unexpected".into(), Value::Bool(true));
            }
        }
        Mutation::BadPattern => {
            top.insert("event_id".into(), "not-a-uuid".into());
        }
    }
}

fn remove_random(map: &mut Map<String, Value>, rng: &mut Rng) {
    if map.is_empty() {
        return;
    }
    let key = map.keys().nth(rng.below(map.len())).cloned();
    if let Some(k) = key {
        map.shift_remove(&k);
    }
}

fn string_leaves(value: &Value, path: &mut String, out: &mut Vec<String>) {
    match value {
        Value::String(_) => out.push(path.clone()),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let len = path.len();
                path.push('/');
                path.push_str(&i.to_string());
                string_leaves(v, path, out);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                let len = path.len();
                path.push('/');
                path.push_str(&contracts_core::registry::escape_pointer(k));
                string_leaves(v, path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_and_verdicts_as_intended() {
        let registry = crate::registry().expect("specs load");
        let a = Corpus::build(&registry, crate::SEED, 1);
        let b = Corpus::build(&registry, crate::SEED, 1);
        assert!(a.valid.len() > 100, "one variant per valid fixture");
        assert!(a.invalid.len() > 100);
        assert!(
            a.valid
                .iter()
                .zip(&b.valid)
                .all(|(x, y)| x.bytes == y.bytes)
        );
        assert!(
            a.valid
                .iter()
                .all(|e| registry.validate_bytes(&e.bytes).is_valid())
        );
        assert!(
            a.invalid
                .iter()
                .all(|e| !registry.validate_bytes(&e.bytes).is_valid())
        );
    }

    #[test]
    fn uuid_shape() {
        assert!(is_uuid("019a582f-fc84-73d1-891a-683d78e8aaf7"));
        assert!(!is_uuid("019a582f-fc84-73d1-891a-683d78e8aaf"));
    }
}
