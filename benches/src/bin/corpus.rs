//! The fixed-seed corpus as files, for tools outside criterion: the ajv side-by-side
//! (`benches/peers/`) and the 1 GB `contracts validate` run of docs/performance.md.
//!
//! - `corpus dump KIND OUT [BYTES]`: KIND is `valid`, `invalid` or `mix`; with BYTES the corpus is
//!   repeated until the file reaches that size (e.g. `1G`), as JSON Lines.
//! - `corpus time FILE`: bytes-to-verdict on one thread over FILE's lines, median of 7 passes
//!   after one warm-up, printed as `{"ns_per_event": ..., "events": ...}`: the Rust side of the
//!   ajv comparison, measured the way the ajv script measures itself.

use contracts_bench::cell::{MIX_EVERY, VARIANTS};
use contracts_bench::{Corpus, SEED};
use std::io::{BufRead, Write};
use std::process::ExitCode;

/// `--features mimalloc` swaps the allocator, to measure whether the CLI should (docs/performance.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["dump", kind, out] => dump(kind, out, None),
        ["dump", kind, out, bytes] => parse_size(bytes).and_then(|b| dump(kind, out, Some(b))),
        ["time", file] => time(file),
        _ => Err("usage: corpus dump valid|invalid|mix OUT [BYTES] | corpus time FILE".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "corpus: {e}");
            ExitCode::from(2)
        }
    }
}

fn parse_size(s: &str) -> Result<u64, String> {
    let (digits, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => s.split_at(i),
        None => (s, ""),
    };
    let n: u64 = digits.parse().map_err(|_| format!("bad size {s}"))?;
    let mult = match unit {
        "" => 1,
        "K" | "k" => 1 << 10,
        "M" | "m" => 1 << 20,
        "G" | "g" => 1 << 30,
        _ => return Err(format!("bad size unit in {s}")),
    };
    Ok(n * mult)
}

fn dump(kind: &str, out: &str, bytes: Option<u64>) -> Result<(), String> {
    let registry = contracts_bench::registry().map_err(|e| e.to_string())?;
    let corpus = Corpus::build(&registry, SEED, VARIANTS);
    let events: Vec<&[u8]> = match kind {
        "valid" => corpus.valid.iter().map(|e| e.bytes.as_slice()).collect(),
        "invalid" => corpus.invalid.iter().map(|e| e.bytes.as_slice()).collect(),
        "mix" => corpus
            .mix(MIX_EVERY, SEED)
            .into_iter()
            .map(|e| e.bytes.as_slice())
            .collect(),
        _ => return Err(format!("unknown kind {kind}")),
    };
    let file = std::fs::File::create(out).map_err(|e| format!("{out}: {e}"))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut written = 0u64;
    loop {
        for e in &events {
            w.write_all(e)
                .and_then(|()| w.write_all(b"\n"))
                .map_err(|e| format!("{out}: {e}"))?;
            written += e.len() as u64 + 1;
        }
        if bytes.is_none_or(|b| written >= b) {
            break;
        }
    }
    w.flush().map_err(|e| format!("{out}: {e}"))
}

fn time(file: &str) -> Result<(), String> {
    let registry = contracts_bench::registry().map_err(|e| e.to_string())?;
    let f = std::fs::File::open(file).map_err(|e| format!("{file}: {e}"))?;
    let lines: Vec<Vec<u8>> = std::io::BufReader::new(f)
        .split(b'\n')
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{file}: {e}"))?;
    let pass = || {
        let start = std::time::Instant::now();
        let mut valid = 0usize;
        for l in &lines {
            valid += usize::from(registry.validate_bytes(std::hint::black_box(l)).is_valid());
        }
        (start.elapsed().as_nanos(), valid)
    };
    let _ = pass();
    let mut times: Vec<(u128, usize)> = (0..7).map(|_| pass()).collect();
    times.sort_unstable();
    let (median, valid) = times[times.len() / 2];
    let n = lines.len().max(1) as u128;
    let _ = writeln!(
        std::io::stdout(),
        "{}",
        serde_json::json!({"impl": "rust", "events": lines.len(), "valid": valid, "ns_per_event": median / n})
    );
    Ok(())
}
