//! The example programs speak the stdio protocol (docs/protocols.md). This test also makes
//! `cargo test --workspace` build the example binaries, which the CLI's integration tests drive.

use std::io::Write;
use std::process::{Command, Stdio};

fn run(bin: &str, input: &str) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut child = Command::new(bin)
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn example");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn consumer_accepts_valid_and_rejects_invalid() {
    let alert = contracts_examples::alert(4).to_string();
    let out = run(
        env!("CARGO_BIN_EXE_example-consumer"),
        &format!("{alert}\n{{}}\n"),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "accept");
    assert!(lines[1].starts_with("reject "), "{out}");
}

#[test]
fn ticketer_emits_a_chained_ticket() {
    let alert = contracts_examples::alert(4);
    let out = run(
        env!("CARGO_BIN_EXE_example-ticketer"),
        &format!("{alert}\n"),
    );
    let emitted: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON array");
    assert_eq!(emitted[0]["causation_id"], alert["event_id"]);
    assert_eq!(emitted[0]["tenant_id"], alert["tenant_id"]);
}
