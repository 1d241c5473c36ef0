//! example-ticketer: a processor (docs/protocols.md §2) that turns each `alert.created` into a
//! `ticket.created` in the same tenant, chained to the alert; other valid events emit nothing,
//! invalid ones are rejected.
//!
//! `--bug drop-causation`: the ticket's causation_id is null (it forgets which alert caused it).
//! `--bug leak-tenant`: critical alerts are escalated to the operations tenant: a ticket with
//! another tenant's id, a cross-tenant leak.

use contracts_examples::{Answer, Flags, OPS_TENANT, serve, ticket_for};
use serde_json::Value;

fn main() -> std::process::ExitCode {
    let result = Flags::parse().and_then(|flags| {
        let registry = flags.registry()?;
        let bug = flags.bug().to_owned();
        let mut seq = 0u64;
        serve(&flags, |bytes| {
            let Ok(event) = serde_json::from_slice::<Value>(bytes) else {
                return Answer::reject("not JSON");
            };
            let verdict = registry.validate_value(&event);
            if let Some(v) = verdict.violations.first() {
                return Answer::reject(&format!("{} at {}", v.keyword, v.instance_path));
            }
            if event["event_type"] != "alert.created" {
                return Answer::emitted(&[]);
            }
            seq += 1;
            let mut ticket = ticket_for(&event, seq);
            match bug.as_str() {
                "drop-causation" => ticket["causation_id"] = Value::Null,
                "leak-tenant" if event["payload"]["severity"] == "critical" => {
                    ticket["tenant_id"] = OPS_TENANT.into();
                }
                _ => {}
            }
            Answer::emitted(&[ticket])
        })
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            #[allow(clippy::print_stderr)] // an example program's one diagnostic
            {
                eprintln!("example-ticketer: {e}");
            }
            std::process::ExitCode::from(2)
        }
    }
}
