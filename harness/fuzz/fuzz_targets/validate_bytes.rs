//! bytes -> parse -> validate never panics and always yields a verdict that explains itself.
#![no_main]

use contracts_core::{Registry, Status};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        Registry::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../specs")))
            .expect("the repository's specs load")
    })
}

fuzz_target!(|data: &[u8]| {
    let verdict = registry().validate_bytes(data);
    match verdict.status {
        Status::Valid => assert!(verdict.violations.is_empty(), "a valid verdict carries no violations"),
        Status::Invalid | Status::Unreadable => {
            assert!(!verdict.violations.is_empty(), "a rejection always says why")
        }
    }
});
