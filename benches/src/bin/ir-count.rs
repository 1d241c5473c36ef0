//! One pass of one bench cell over the fixed corpus, made to run under
//! `valgrind --tool=callgrind --toggle-collect='*measured_pass*'`, so that only the pass is
//! counted (registry build and corpus construction are not). `bench-track` drives it.
//!
//! Usage: `ir-count CELL` (a name from `contracts_bench::cell::CELLS`). Prints one JSON line:
//! `{"cell": ..., "events": N, "ns_per_event": T}` (the time is meaningless under valgrind).

use contracts_bench::cell::{CELLS, FAST_CELLS, VARIANTS, Workload};
use contracts_bench::{Corpus, SEED};
use std::io::Write;
use std::process::ExitCode;

/// `--features mimalloc` swaps the allocator, to measure whether the CLI should (docs/performance.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let Some(cell) = std::env::args()
        .nth(1)
        .filter(|c| CELLS.contains(&c.as_str()) || FAST_CELLS.contains(&c.as_str()))
    else {
        let _ = writeln!(
            std::io::stderr(),
            "usage: ir-count CELL   (one of {})",
            CELLS
                .iter()
                .chain(FAST_CELLS.iter().filter(|c| !CELLS.contains(c)))
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        );
        return ExitCode::from(2);
    };
    let registry = match contracts_bench::registry() {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "ir-count: cannot load specs: {e}");
            return ExitCode::from(2);
        }
    };
    let corpus = Corpus::build(&registry, SEED, VARIANTS);
    let work = Workload::new(&registry, &corpus);
    // Warm-up pass, not counted: the regex engines' lazy DFAs fill their caches on first use,
    // and steady state is what a producer's long-lived process sees.
    let _ = work.pass(&cell);
    let start = std::time::Instant::now();
    let events = measured_pass(&work, &cell);
    let ns = start.elapsed().as_nanos() / events.max(1) as u128;
    let _ = writeln!(
        std::io::stdout(),
        "{}",
        serde_json::json!({"cell": cell, "events": events, "ns_per_event": ns})
    );
    ExitCode::SUCCESS
}

/// The counted region: callgrind's `--toggle-collect` matches this name.
#[inline(never)]
fn measured_pass(work: &Workload<'_>, cell: &str) -> usize {
    work.pass(cell)
}
