//! contracts-bench: the fixed-seed event corpus every benchmark, the callgrind counter and the ajv
//! side-by-side share, so that each number is measured on the same bytes.
//!
//! The corpus is made by the harness itself, never committed: the golden fixtures under
//! `fixtures/events/` are varied with a seeded RNG (fresh identifiers), each variant is kept only
//! when the registry judges it as intended, and invalid events are made by aimed mutations of
//! valid ones. The fixtures, not `contracts_gen::Generator`, are its source.
//!
//! ```no_run
//! use contracts_bench::{Corpus, root};
//! let registry = contracts_core::Registry::load(&root().join("specs"))?;
//! let corpus = Corpus::build(&registry, contracts_bench::SEED, 8);
//! assert!(!corpus.valid.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

pub mod cell;
pub mod corpus;
pub mod rng;

pub use corpus::{Corpus, Event};
pub use rng::Rng;

/// The one seed of every benchmark corpus: same seed, same bytes, same instruction counts.
pub const SEED: u64 = 0x0C0A_7AC7_5EED_2026;

/// The workspace root (where `specs/` and `fixtures/` live), from this crate's manifest path.
#[must_use]
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(
            || std::path::PathBuf::from("."),
            std::path::Path::to_path_buf,
        )
}

/// Load the registry of this workspace's `specs/`.
///
/// # Errors
/// Whatever [`contracts_core::Registry::load`] reports.
pub fn registry() -> Result<contracts_core::Registry, contracts_core::RegistryError> {
    contracts_core::Registry::load(&root().join("specs"))
}
