//! example-consumer: validates each event and accepts it only if valid (docs/protocols.md §1).
//!
//! `--bug received-at`: drops broker metadata members (`received_at`, `offset`, ... catalogue
//! §2.3) from the envelope before validating, so it accepts events that carry them.
//! `--bug long-string`: crashes on any string longer than 100 characters.
//! `--bug hang`: never answers.
//! `--http 127.0.0.1:0` serves HTTP instead of stdio.

use contracts_core::validate::is_persistence_field;
use contracts_examples::{Answer, Flags, serve};
use serde_json::Value;

/// Strings longer than this crash the `long-string` consumer (a fixed-size buffer, say).
const LONG: usize = 100;

fn longest_string(v: &Value) -> usize {
    match v {
        Value::String(s) => s.chars().count(),
        Value::Array(a) => a.iter().map(longest_string).max().unwrap_or(0),
        Value::Object(o) => o.values().map(longest_string).max().unwrap_or(0),
        _ => 0,
    }
}

fn main() -> std::process::ExitCode {
    let result = Flags::parse().and_then(|flags| {
        let registry = flags.registry()?;
        let bug = flags.bug().to_owned();
        serve(&flags, |bytes| {
            let Ok(mut event) = serde_json::from_slice::<Value>(bytes) else {
                return Answer::reject("not JSON");
            };
            match bug.as_str() {
                "received-at" => {
                    if let Some(o) = event.as_object_mut() {
                        o.retain(|k, _| !is_persistence_field(k));
                    }
                }
                "long-string" => {
                    assert!(longest_string(&event) <= LONG, "string buffer overflow");
                }
                "hang" => loop {
                    std::thread::park();
                },
                _ => {}
            }
            let verdict = registry.validate_value(&event);
            match verdict.violations.first() {
                None => Answer::accept(),
                Some(v) => Answer::reject(&format!("{} at {}", v.keyword, v.instance_path)),
            }
        })
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            #[allow(clippy::print_stderr)] // an example program's one diagnostic
            {
                eprintln!("example-consumer: {e}");
            }
            std::process::ExitCode::from(2)
        }
    }
}
