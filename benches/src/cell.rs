//! The measured cells, shared by the criterion benches, the callgrind counter (`ir-count`) and
//! `bench-track`, so that a name means the same work on the same bytes everywhere.
//!
//! `parse/*` is the floor: serde_json bytes to `Value` (and its drop) on exactly the bytes the
//! `verdict/*` cell of the same corpus judges.

use crate::corpus::Corpus;
use contracts_core::Registry;
use contracts_core::validate::Detail;
use std::hint::black_box;

/// Valid variants per valid fixture: 186 fixtures x 8 = ~1,500 events of 400-2,000 bytes, enough
/// to mix every type through the caches, small enough for one callgrind pass in seconds.
pub const VARIANTS: usize = 8;
/// One invalid event in every `MIX_EVERY` of the realistic mix.
pub const MIX_EVERY: usize = 20;

/// Every cell, in report order. `parse/X` is the floor of `verdict/X`.
pub const CELLS: [&str; 7] = [
    "parse/valid",
    "verdict/valid",
    "parse/invalid",
    "verdict/invalid-first",
    "verdict/invalid-all",
    "parse/mix",
    "verdict/mix",
];

/// Fast-path cells, on the same corpus: `fast/X` is the fast path alone (`FastPath::check`),
/// `reference/X` forces the reference path (serde_json `Value` + jsonschema), `verdict/X` is the
/// public `validate_bytes` (fast path first, reference for anything not certainly valid).
pub const FAST_CELLS: [&str; 6] = [
    "parse/valid",
    "fast/valid",
    "verdict/valid",
    "reference/valid",
    "verdict/mix",
    "reference/mix",
];

/// The registry plus the corpus as byte slices, per cell.
pub struct Workload<'a> {
    registry: &'a Registry,
    valid: Vec<&'a [u8]>,
    invalid: Vec<&'a [u8]>,
    mix: Vec<&'a [u8]>,
    slow: u64,
}

impl<'a> Workload<'a> {
    /// Slice `corpus` for the cells. `CONTRACTS_BENCH_SLOW=N` adds about `N` instructions of
    /// pointless work to every verdict: the deliberately slowed validator that shows
    /// `make bench-compare` failing (docs/performance.md).
    #[must_use]
    pub fn new(registry: &'a Registry, corpus: &'a Corpus) -> Self {
        let slow = std::env::var("CONTRACTS_BENCH_SLOW")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Workload {
            registry,
            valid: corpus.valid.iter().map(|e| e.bytes.as_slice()).collect(),
            invalid: corpus.invalid.iter().map(|e| e.bytes.as_slice()).collect(),
            mix: corpus
                .mix(MIX_EVERY, crate::SEED)
                .into_iter()
                .map(|e| e.bytes.as_slice())
                .collect(),
            slow,
        }
    }

    /// The events `cell` runs over (`None` for an unknown cell name).
    #[must_use]
    pub fn events(&self, cell: &str) -> Option<&[&'a [u8]]> {
        match cell.rsplit('/').next()? {
            "valid" => Some(&self.valid),
            "invalid" | "invalid-first" | "invalid-all" => Some(&self.invalid),
            "mix" => Some(&self.mix),
            _ => None,
        }
    }

    /// Run `cell` once over its events; returns the number of events processed.
    #[must_use]
    pub fn pass(&self, cell: &str) -> usize {
        let Some(events) = self.events(cell) else {
            return 0;
        };
        let detail = if cell.ends_with("-first") {
            Detail::First
        } else {
            Detail::All
        };
        if cell.starts_with("parse/") {
            for bytes in events {
                black_box(serde_json::from_slice::<serde_json::Value>(black_box(bytes)).is_ok());
            }
        } else if cell.starts_with("fast/") {
            let fast = self.registry.fast_path();
            for bytes in events {
                black_box(fast.check(black_box(bytes)));
            }
        } else if cell.starts_with("reference/") {
            for bytes in events {
                black_box(
                    self.registry
                        .validate_bytes_reference(black_box(bytes), detail),
                );
            }
        } else {
            for bytes in events {
                black_box(self.registry.validate_bytes_with(black_box(bytes), detail));
                if self.slow > 0 {
                    busy(self.slow);
                }
            }
        }
        events.len()
    }
}

/// About `n` instructions that the optimiser cannot remove.
#[inline(never)]
fn busy(n: u64) {
    let mut acc = 0u64;
    for i in 0..n / 4 {
        acc = black_box(acc.wrapping_add(i));
    }
    black_box(acc);
}
