//! The fuzz runners: drive a real consumer or processor with generated valid and mutated events,
//! hold each reply to the contract, shrink every distinct failure to a minimal event, keep it.
//!
//! Layers: `transport` (stdio child or HTTP) -> `judge` (the contract, one reply) -> `cases`
//! (proptest strategies over the generator) -> `run` (the loop and shrinking, emitting
//! [`RunEvent`]s) -> `corpus` (minimal events saved and replayed) -> `report` (every count).
//! The wire protocols are documented in `docs/protocols.md`.

pub mod cases;
pub mod corpus;
pub mod fixture_tree;
pub mod judge;
pub mod report;
pub mod run;
pub mod transport;

pub use corpus::{ProgramReplay, replay_program};
pub use judge::{Aim, Finding, Kind, Mode, Role};
pub use report::FuzzReport;
pub use run::{
    DEFAULT_MAX_SHRINK_STEPS, Failure, FuzzError, FuzzOptions, RunEvent, StopReason, run,
};
pub use transport::{HttpTransport, Reply, StdioTransport, Transport, TransportError};
