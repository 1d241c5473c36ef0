//! Verdicts on hostile bytes: each test replays one way the default path once certified what the
//! `jsonschema` reference rejects, and asserts the default path now gives the reference verdict.
//! The referee is `validate_bytes_reference` (serde_json + the `jsonschema` crate), never the
//! fast path's own idea of the input.

use crate::common::{root, setup};
use crate::scratch::{Specs, event};
use contracts_core::fixtures::load_dir;
use contracts_core::validate::Detail;
use contracts_core::{Registry, Status, Verdict};
use serde_json::{Value, json};

/// Both paths' verdicts on `bytes`, asserted equal in status and violation keywords/paths.
fn both(registry: &Registry, bytes: &[u8]) -> (Verdict, Verdict) {
    let default = registry.validate_bytes(bytes);
    let reference = registry.validate_bytes_reference(bytes, Detail::All);
    let keys = |v: &Verdict| -> Vec<(String, String)> {
        v.violations
            .iter()
            .map(|x| (x.keyword.clone(), x.instance_path.clone()))
            .collect()
    };
    assert_eq!(
        (default.status, keys(&default)),
        (reference.status, keys(&reference)),
        "default and reference disagree on {}",
        String::from_utf8_lossy(bytes)
    );
    (default, reference)
}

/// The valid fixtures' events, compact, members in the fixture's order.
fn valid_events() -> Vec<String> {
    let files = load_dir(&root().join("fixtures/events")).expect("fixtures load");
    files
        .iter()
        .filter(|f| f.fixture.valid)
        .map(|f| serde_json::to_string(&f.fixture.event).expect("json"))
        .collect()
}

/// `text` with `junk` written right after the value of top-level member `name`.
fn after_member(text: &str, name: &str, junk: &[u8]) -> Option<Vec<u8>> {
    let value: Value = serde_json::from_str(text).ok()?;
    let member = serde_json::to_string(value.get(name)?).ok()?;
    let needle = format!("\"{name}\":{member}");
    let at = text.find(&needle)? + needle.len();
    let mut out = text.as_bytes()[..at].to_vec();
    out.extend_from_slice(junk);
    out.extend_from_slice(&text.as_bytes()[at..]);
    Some(out)
}

/// Junk between a member's value and the next `,` was skipped unchecked when the member came
/// before `event_type` and `schema_version` were both known.
#[test]
fn junk_after_an_early_member_is_not_certified() {
    let (registry, _) = setup();
    let junks: [&[u8]; 5] = [
        b" !!not json!!",
        b"\0",
        b" \xff\xfe",
        b" \"received_at\":\"2025-11-09T03:12:45Z\"",
        b"}{",
    ];
    let mut checked = 0;
    for text in valid_events() {
        assert!(
            registry.validate_bytes(text.as_bytes()).is_valid(),
            "{text}"
        );
        for name in ["event_id", "event_type", "schema_version", "tenant_id"] {
            for junk in junks {
                let Some(bytes) = after_member(&text, name, junk) else {
                    continue;
                };
                let (default, _) = both(registry, &bytes);
                assert_ne!(
                    default.status,
                    Status::Valid,
                    "certified: {}",
                    String::from_utf8_lossy(&bytes)
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "{checked} edited events");
}

/// An integer compared with a float bound went through f64, where 2^53 + 1 rounds to 2^53.
#[test]
fn integer_against_a_float_bound_is_compared_exactly() {
    let specs = Specs::new();
    let big = json!({"type": "object", "properties": {
        "max": {"maximum": 9_007_199_254_740_992.0},
        "xmin": {"not": {"exclusiveMinimum": 9_007_199_254_740_992.0}},
        "cond": {"if": {"exclusiveMinimum": 9_007_199_254_740_992.0}, "then": false},
        "min": {"minimum": -9_007_199_254_740_992.0},
        "frac": {"maximum": 1e19, "minimum": 1.5},
        "huge": {"exclusiveMaximum": 1.8446744073709552e19}
    }});
    specs.event_type("scratch.number", big);
    let registry = specs.load().expect("scratch specs load");
    let cases = [
        (json!({"max": 9_007_199_254_740_993_u64}), false),
        (json!({"max": 9_007_199_254_740_992_u64}), true),
        (json!({"xmin": 9_007_199_254_740_993_u64}), false),
        (json!({"xmin": 9_007_199_254_740_992_u64}), true),
        (json!({"cond": 9_007_199_254_740_993_u64}), false),
        (json!({"cond": 9_007_199_254_740_992_u64}), true),
        (json!({"min": -9_007_199_254_740_993_i64}), false),
        (json!({"min": -9_007_199_254_740_992_i64}), true),
        (json!({"frac": 1}), false),
        (json!({"frac": 2}), true),
        (json!({"frac": 10_000_000_000_000_000_001_u64}), false),
        (json!({"frac": 9_999_999_999_999_999_999_u64}), true),
        (json!({"huge": u64::MAX}), true),
    ];
    for (payload, valid) in cases {
        let text = event("scratch.number", &payload);
        let (default, reference) = both(&registry, text.as_bytes());
        assert_eq!(reference.is_valid(), valid, "reference on {payload}");
        assert_eq!(default.is_valid(), valid, "default on {payload}");
    }
}

/// Duplicate member names were accepted, last one wins, on both paths: a consumer that keeps
/// the first value reads another tenant. RFC 7493 §2.3 forbids them.
#[test]
fn duplicate_members_are_refused_at_their_path() {
    let (registry, _) = setup();
    let text = &valid_events()[0];
    let tenant = "\"tenant_id\":\"00000000-0000-4000-8000-000000000000\",";
    let cases = [
        (
            text.replacen("\"tenant_id\":", &format!("{tenant}\"tenant_id\":"), 1),
            "/tenant_id",
        ),
        (
            text.replacen("\"event_id\":", "\"event_id\":\"x\",\"event_id\":", 1),
            "/event_id",
        ),
        (
            text.replacen("\"payload\":{", "\"payload\":{\"zz\":1,\"zz\":1,", 1),
            "/payload/zz",
        ),
        (
            text.replacen(
                "\"source\":",
                "\"source\":{\"a\":{\"b\":1,\"b\":2}},\"source\":",
                1,
            ),
            "/source",
        ),
    ];
    for (bytes, path) in &cases {
        for verdict in [
            registry.validate_bytes(bytes.as_bytes()),
            registry.validate_bytes_reference(bytes.as_bytes(), Detail::All),
            registry.validate_bytes_reference(bytes.as_bytes(), Detail::First),
        ] {
            assert_eq!(verdict.status, Status::Invalid, "{bytes}");
            assert!(
                verdict
                    .violations
                    .iter()
                    .any(|v| v.keyword == "duplicate_member" && v.instance_path == *path),
                "{bytes}: {:?}",
                verdict.violations
            );
        }
        both(registry, bytes.as_bytes());
    }
    // A duplicate nested in a duplicate: both named, each at its own path.
    let nested = text.replacen(
        "\"payload\":{",
        "\"payload\":{\"q\":{\"r\":1,\"r\":2},\"q\":{},",
        1,
    );
    let (default, _) = both(registry, nested.as_bytes());
    let paths: Vec<&str> = default
        .violations
        .iter()
        .filter(|v| v.keyword == "duplicate_member")
        .map(|v| v.instance_path.as_str())
        .collect();
    assert_eq!(paths, ["/payload/q", "/payload/q/r"]);
}

/// Only RFC 8259 white space (space, tab, LF, CR) may surround a JSON Lines event: a form feed
/// was trimmed and the line certified.
#[test]
fn form_feed_around_a_line_is_not_white_space() {
    use contracts_core::input::Events;
    let (registry, _) = setup();
    let text = &valid_events()[0];
    for input in [
        format!("\x0c{text}\n"),
        format!("{text}\x0c\n"),
        format!("{text}\x0b\n"),
        format!("\u{a0}{text}\n"),
    ] {
        let mut events = Events::new(input.as_bytes());
        let item = events.next_item().expect("reads").expect("one item");
        let verdict = match &item.bytes {
            Ok(bytes) => both(registry, bytes).0,
            Err(why) => Verdict::unreadable(why.clone()),
        };
        assert_ne!(verdict.status, Status::Valid, "{input:?}");
    }
    let plain = format!(" \t{text}\r\n");
    let mut events = Events::new(plain.as_bytes());
    let item = events.next_item().expect("reads").expect("one item");
    assert!(
        registry
            .validate_bytes(&item.bytes.expect("bytes"))
            .is_valid()
    );
}

/// Every input the fuzz targets kept under `corpus/fuzz/<target>/` (raw bytes, one per file):
/// the default path gives the reference verdict, and a rejection says why.
#[test]
fn fuzz_findings_replay() {
    let (registry, _) = setup();
    let dir = root().join("corpus/fuzz");
    let mut replayed = 0;
    for target in std::fs::read_dir(&dir).expect("corpus/fuzz") {
        let target = target.expect("entry").path();
        for file in std::fs::read_dir(&target).expect("target dir") {
            let file = file.expect("entry").path();
            let bytes = std::fs::read(&file).expect("read finding");
            let (default, _) = both(registry, &bytes);
            assert_eq!(
                default.is_valid(),
                default.violations.is_empty(),
                "{}",
                file.display()
            );
            replayed += 1;
        }
    }
    assert!(
        replayed >= 7,
        "{replayed} findings replayed from {}",
        dir.display()
    );
}

/// A small deterministic generator (xorshift64*), so that a soak is the same bytes every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
}

/// Bytes that change meaning in JSON, or break it.
const EDIT_BYTES: &[u8] = b"{}[]:,\"\\ \t\n\r\x0c\x0b\x00\xff\xc3\xa9-+.eE0179afnrtux/";

/// One edited event: one to four byte replacements, insertions or deletions of `base`, its
/// members rotated, or one member written twice.
fn edit(base: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut v = base.to_vec();
    match rng.below(8) {
        0 => {
            // Rotate the top-level members (member order must not matter).
            if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(base) {
                let mut members: Vec<_> = map.into_iter().collect();
                let len = members.len();
                let turn = 1 + rng.below(len.max(2) - 1);
                members.rotate_left(turn.min(len));
                v = serde_json::to_vec(&Value::Object(members.into_iter().collect()))
                    .expect("json");
            }
        }
        1 => {
            // A member written twice, at the top level.
            if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(base) {
                let (k, x) = map.iter().nth(rng.below(map.len())).expect("a member");
                let member = format!(",{}:{x}", Value::from(k.as_str()));
                let at = v.iter().rposition(|&c| c == b'}').unwrap_or(v.len());
                v.splice(at..at, member.bytes());
            }
        }
        n => {
            for _ in 0..=(n % 4) {
                let at = rng.below(v.len() + 1);
                let byte = EDIT_BYTES[rng.below(EDIT_BYTES.len())];
                match rng.below(3) {
                    0 if at < v.len() => v[at] = byte,
                    1 if at < v.len() => {
                        v.remove(at);
                    }
                    _ => v.insert(at, byte),
                }
            }
        }
    }
    v
}

/// Edit valid fixtures `events` times; every disagreement is saved under
/// `corpus/fuzz/differential/` (raw bytes, replayed by [`fuzz_findings_replay`]).
fn byte_edit_differential(events: u64, seed: u64) -> (u64, u64, Vec<String>) {
    let (registry, _) = setup();
    let bases: Vec<Vec<u8>> = valid_events()
        .into_iter()
        .flat_map(|t| {
            let pretty =
                serde_json::to_vec_pretty(&serde_json::from_str::<Value>(&t).expect("json"))
                    .expect("json");
            [t.into_bytes(), pretty]
        })
        .collect();
    let mut rng = Rng(seed | 1);
    let (mut n, mut valid) = (0, 0);
    let mut bad = Vec::new();
    while n < events {
        let base = &bases[rng.below(bases.len())];
        let bytes = edit(base, &mut rng);
        n += 1;
        let default = registry.validate_bytes(&bytes);
        let reference = registry.validate_bytes_reference(&bytes, Detail::All);
        valid += u64::from(reference.is_valid());
        let key = |v: &Verdict| {
            (
                v.status,
                v.violations
                    .iter()
                    .map(|x| (x.keyword.clone(), x.instance_path.clone()))
                    .collect::<Vec<_>>(),
            )
        };
        if key(&default) != key(&reference) {
            let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
            });
            let file = root().join(format!("corpus/fuzz/differential/soak-{hash:016x}"));
            std::fs::write(&file, &bytes).expect("save finding");
            bad.push(format!(
                "{}: default {:?}, reference {:?}",
                file.display(),
                key(&default),
                key(&reference)
            ));
        }
    }
    (n, valid, bad)
}

/// Byte edits of every valid fixture: the default path gives the reference verdict.
#[test]
fn byte_edits_of_fixtures_get_the_reference_verdict() {
    let (n, valid, bad) = byte_edit_differential(3_000, 0x00be_d175);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert!(valid > 0 && valid < n, "{valid} of {n} edited events valid");
}

/// The soak: `BYTE_EDIT_SOAK_EVENTS` edited events (default 1,000,000), `make soak`.
#[test]
#[ignore = "soak: run with --release --ignored"]
fn byte_edit_soak() {
    #![allow(clippy::print_stderr, reason = "the soak prints what it covered")]
    let target: u64 = std::env::var("BYTE_EDIT_SOAK_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let started = std::time::Instant::now();
    let (n, valid, bad) = byte_edit_differential(target, 0x50a4_b17e);
    eprintln!(
        "byte-edit soak: {n} edited events ({valid} valid by the reference), {} disagreements, {:.1} s",
        bad.len(),
        started.elapsed().as_secs_f64()
    );
    for b in bad.iter().take(20) {
        eprintln!("  {b}");
    }
    assert!(bad.is_empty());
}
