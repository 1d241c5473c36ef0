//! Arbitrary bytes -> the default path (`validate_bytes`: fast path, borrowed tree, error
//! collector) and the reference path (serde_json + `jsonschema`) give the same verdict and the
//! same violations (keyword and instance path). When the bytes are a JSON object, the same
//! event with its top-level members rotated is judged too (member order must not matter).
//!
//! Seeds: every fixture event, compact and pretty (`make fuzz` writes them). A finding is copied
//! to `corpus/fuzz/differential/` by `make fuzz`, where `make test` replays it
//! (`contracts-core`'s `fuzz_findings_replay`).
#![no_main]

use contracts_core::validate::Detail;
use contracts_core::{Registry, Verdict};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut registry =
            Registry::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../specs")))
                .expect("the repository's specs load");
        registry.set_fast_path(true);
        registry
    })
}

fn keys(v: &Verdict) -> (contracts_core::Status, Vec<(&str, &str)>) {
    (
        v.status,
        v.violations.iter().map(|x| (x.keyword.as_str(), x.instance_path.as_str())).collect(),
    )
}

fn agree(bytes: &[u8]) {
    let registry = registry();
    let default = registry.validate_bytes(bytes);
    let reference = registry.validate_bytes_reference(bytes, Detail::All);
    assert_eq!(
        keys(&default),
        keys(&reference),
        "default and reference disagree on {:?}",
        String::from_utf8_lossy(bytes)
    );
}

fuzz_target!(|data: &[u8]| {
    agree(data);
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(data) {
        if map.len() > 1 {
            let turn = data.iter().fold(0usize, |h, &b| h.wrapping_mul(31).wrapping_add(usize::from(b)))
                % map.len();
            let mut members: Vec<_> = map.into_iter().collect();
            members.rotate_left(turn.max(1));
            let rotated = serde_json::Value::Object(members.into_iter().collect());
            if let Ok(bytes) = serde_json::to_vec(&rotated) {
                agree(&bytes);
            }
        }
    }
});
