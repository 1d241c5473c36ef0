//! Stream contracts: rules across events (catalogue §2.4 R2-R7 and the lifecycle paragraphs of
//! §7), kept as data in `specs/events/rules/*.rules.json` and applied to event streams in one pass.
//!
//! A key is a field value, not a channel: a rule reads events of any types (an `agent_id` revoked
//! on the agent channel and then seen in an asset heartbeat), and every key is scoped by
//! `tenant_id`. Five rule kinds, one file each: [`state_machine`], [`counter`], [`reference`],
//! [`pairing`], [`unique`]. Memory is bounded by the live keys plus what `--window` keeps
//! (finished keys' tombstones, nameable events, re-delivery digests); nothing grows with the
//! length of the stream alone.
//!
//! ```no_run
//! use contracts_core::runner::streams::{self, run::{Input, Options}};
//! let registry = contracts_core::Registry::load(std::path::Path::new("specs"))?;
//! let rules = streams::rules::load_checked(&registry)?;
//! let input = Input { name: "s.jsonl".into(), reader: Box::new(std::io::BufReader::new(std::fs::File::open("s.jsonl")?)) };
//! let opts = Options { window_ms: streams::run::DEFAULT_WINDOW_MS, merge: false };
//! let summary = streams::run::run(&registry, &rules, vec![input], opts, &mut |_| Ok(()))?;
//! assert_eq!(summary.events, summary.ok + summary.violated + summary.duplicate + summary.invalid + summary.unreadable);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod counter;
pub mod docs;
mod engine;
pub mod fixtures;
pub mod generate;
pub mod mutate;
mod pairing;
mod reference;
pub mod rules;
pub mod run;
pub mod select;
mod state_machine;
mod unique;
mod window;

pub use engine::{Engine, Outcome};
pub use select::{EventRef, Finding, FindingStatus, Seen};

/// One rule kind's checker, fed the events its rule reads.
pub(crate) trait Check {
    /// Judge one event; push findings at it (or at the earlier event it completes).
    fn observe(&mut self, ev: &select::Seen<'_>, out: &mut Vec<select::Finding>);
    /// The stream's clock moved to `now`: drop expired state, report missed deadlines.
    fn advance(&mut self, now: i64, out: &mut Vec<select::Finding>) {
        let _ = (now, out);
    }
    /// The stream ended: report what is still awaited as pending.
    fn finish(&mut self, out: &mut Vec<select::Finding>) {
        let _ = out;
    }
    /// Keys and window entries held.
    fn live(&self) -> usize;
}
