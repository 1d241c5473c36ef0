//! Scratch specs trees: the repository's envelope and common definitions plus event types whose
//! payload schemas a test writes, loaded into a [`Registry`] from a directory removed on drop.

use crate::common::root;
use contracts_core::{Registry, RegistryError};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A specs tree under the system temporary directory, removed on drop.
pub(crate) struct Specs {
    dir: PathBuf,
}

impl Specs {
    /// The repository's `events/oneprotect.event.schema.json` and `events/common.schema.json`.
    pub(crate) fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "contracts-scratch-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("events/types")).expect("scratch dir");
        for file in ["oneprotect.event.schema.json", "common.schema.json"] {
            std::fs::copy(
                root().join("specs/events").join(file),
                dir.join("events").join(file),
            )
            .expect("copy envelope");
        }
        Specs { dir }
    }

    /// The specs root.
    pub(crate) fn path(&self) -> &Path {
        &self.dir
    }

    /// Write `value` at `rel` (relative to the specs root).
    pub(crate) fn write(&self, rel: &str, value: &Value) -> &Self {
        let path = self.dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(&path, serde_json::to_vec_pretty(value).expect("json")).expect("write");
        self
    }

    /// Event type `event_type` at MAJOR 1 whose payload is `payload` (a schema, inlined in the
    /// type file's `$defs`, so that `#/$defs/...` inside it would not resolve: use
    /// [`Specs::write`] plus a `$ref` for schemas with their own root).
    pub(crate) fn event_type(&self, event_type: &str, payload: Value) -> &Self {
        self.write(
            &format!("events/types/{event_type}.v1.schema.json"),
            &type_schema(event_type, payload),
        )
    }

    /// Load the tree.
    pub(crate) fn load(&self) -> Result<Registry, RegistryError> {
        Registry::load(&self.dir)
    }
}

impl Drop for Specs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The event-type schema of `event_type` at MAJOR 1 with `payload` as its payload schema.
pub(crate) fn type_schema(event_type: &str, payload: Value) -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": event_type,
        "description": "A scratch event type of a test.",
        "x-family": "Scratch",
        "x-status": "implemented",
        "x-reference": [],
        "allOf": [{"$ref": "../oneprotect.event.schema.json"}],
        "properties": {
            "event_type": {"const": event_type},
            "schema_version": {"type": "string", "pattern": "^1\\.(0|[1-9][0-9]*)$"},
            "payload": payload
        }
    })
}

/// A valid envelope of `event_type` around `payload`, as compact text (members in this order).
pub(crate) fn event(event_type: &str, payload: &Value) -> String {
    let event = json!({
        "event_id": "0e236b5a-f872-4dc0-a2ea-1e6b8b07e756",
        "event_type": event_type,
        "schema_version": "1.0",
        "tenant_id": "7c0e3f52-2d4b-4f8e-9a61-5b3c8d2e1f90",
        "source": "/services/scratch",
        "timestamp": "2025-11-09T03:12:45.733Z",
        "correlation_id": "1e236b5a-f872-4dc0-a2ea-1e6b8b07e756",
        "causation_id": null,
        "payload": payload
    });
    serde_json::to_string(&event).expect("json")
}
