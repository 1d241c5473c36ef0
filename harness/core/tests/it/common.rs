//! What the integration tests share: the repository root and one registry with its generators.

use contracts_core::Registry;
use contracts_core::events::EventGenerators;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The repository root (canonical when it can be).
pub(crate) fn root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The repository's registry, fast path on whatever `CONTRACTS_FAST_PATH` says (the default the
/// tests check), and a generator per contract; built once per test binary.
pub(crate) fn setup() -> &'static (Registry, EventGenerators) {
    static SETUP: OnceLock<(Registry, EventGenerators)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let mut registry = Registry::load(&root().join("specs")).expect("specs load");
        registry.set_fast_path(true);
        let generators = EventGenerators::new(&registry)
            .unwrap_or_else(|(t, e)| panic!("no generator for {t}: {e}"));
        (registry, generators)
    })
}

/// Proptest cases per property: `PROPTEST_CASES` when set, else `default`.
pub(crate) fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}
