//! contracts-core: the OneProtect contract registry, the validation hot path, and the runners
//! that replay fixtures and check the catalogue's consistency.
//!
//! Layers, each using only those before it: `registry` -> `validate` -> `input` -> `fixtures`
//! -> `check` / `docs`.
//!
//! ```no_run
//! use contracts_core::Registry;
//! let registry = Registry::load(std::path::Path::new("specs"))?; // build once, at start-up
//! let verdict = registry.validate_bytes(b"{}");                  // per event, before publishing
//! for v in &verdict.violations {
//!     eprintln!("{} at {}: {}", v.keyword, v.instance_path, v.message);
//! }
//! # Ok::<(), contracts_core::RegistryError>(())
//! ```
#![warn(missing_docs)]

pub mod check;
mod collect;
pub mod docs;
pub mod error;
pub mod events;
pub mod fast;
pub mod fixtures;
pub mod input;
mod parse;
pub mod registry;
pub mod runner;
pub mod validate;

pub use error::RegistryError;
pub use registry::Registry;
pub use validate::{Status, Verdict, Violation};
