//! `Unstructured` -> a generated event of some event type is always valid by `contracts validate`'s path.
#![no_main]

use contracts_core::Registry;
use contracts_core::events::EventGenerators;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn setup() -> &'static (Registry, EventGenerators) {
    static SETUP: OnceLock<(Registry, EventGenerators)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let registry =
            Registry::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../specs")))
                .expect("the repository's specs load");
        let generators = EventGenerators::new(&registry).expect("every event type has a generator");
        (registry, generators)
    })
}

fuzz_target!(|data: &[u8]| {
    let (registry, generators) = setup();
    let mut u = arbitrary::Unstructured::new(data);
    let all = generators.all();
    let Ok(i) = u.choose_index(all.len()) else { return };
    let generator = &all[i];
    let mut source = contracts_gen::UnstructuredSource::new(&mut u);
    if let Ok(event) = generator.valid(&mut source) {
        let verdict = registry.validate_value(&event);
        assert!(
            verdict.is_valid(),
            "generated {} event rejected: {:?}\n{event}",
            generator.event_type(),
            verdict.violations
        );
    }
});
