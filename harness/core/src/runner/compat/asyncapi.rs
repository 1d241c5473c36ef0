//! The AsyncAPI side of a catalogue comparison: messages added or removed, channels added,
//! removed or moved to another address.
//!
//! These are facts about two documents, not inferences: a message present only in the old
//! document leaves its stored events without a contract (breaks backward, as a removed schema
//! file does); one present only in the new document is unknown to old readers (breaks forward);
//! a channel whose `address` changed loses subscribers in both directions.
#![deny(clippy::wildcard_enum_match_arm)]

use super::CompatError;
use super::schemas::git;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Where the AsyncAPI document sits in a specs tree.
pub const ASYNCAPI_PATH: &str = "events/asyncapi.yaml";

/// One difference between two AsyncAPI documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ApiChange {
    /// `components.messages.<name>` only in the new document.
    MessageAdded {
        /// The message key.
        name: String,
    },
    /// `components.messages.<name>` only in the old document.
    MessageRemoved {
        /// The message key.
        name: String,
    },
    /// `channels.<name>` only in the new document.
    ChannelAdded {
        /// The channel key.
        name: String,
    },
    /// `channels.<name>` only in the old document.
    ChannelRemoved {
        /// The channel key.
        name: String,
    },
    /// `channels.<name>.address` differs.
    ChannelAddressChanged {
        /// The channel key.
        name: String,
        /// The old address.
        old: String,
        /// The new address.
        new: String,
    },
}

impl ApiChange {
    /// Whether this change breaks `direction` (`true` for backward, `false` for forward).
    #[must_use]
    pub fn breaks(&self, backward: bool) -> bool {
        match self {
            ApiChange::MessageRemoved { .. } | ApiChange::ChannelRemoved { .. } => backward,
            ApiChange::MessageAdded { .. } | ApiChange::ChannelAdded { .. } => !backward,
            ApiChange::ChannelAddressChanged { .. } => true,
        }
    }

    /// One line for people.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            ApiChange::MessageAdded { name } => format!("message {name} added"),
            ApiChange::MessageRemoved { name } => format!("message {name} removed"),
            ApiChange::ChannelAdded { name } => format!("channel {name} added"),
            ApiChange::ChannelRemoved { name } => format!("channel {name} removed"),
            ApiChange::ChannelAddressChanged { name, old, new } => {
                format!("channel {name} address changed from {old} to {new}")
            }
        }
    }
}

/// The AsyncAPI document of the specs tree `dir`, when it has one.
///
/// # Errors
/// An unreadable file, or YAML that does not parse (with its line and column).
pub fn from_dir(dir: &Path) -> Result<Option<Value>, CompatError> {
    let path = dir.join(ASYNCAPI_PATH);
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|source| CompatError::Io {
        path: path.clone(),
        source,
    })?;
    parse(&text, &path.display().to_string()).map(Some)
}

/// The AsyncAPI document of the specs tree `dir` (relative to `repo`) at revision `rev`, when
/// that revision has one.
///
/// # Errors
/// YAML that does not parse.
pub fn from_git(repo: &Path, rev: &str, dir: &str) -> Result<Option<Value>, CompatError> {
    let dir = dir.trim_end_matches('/');
    let file = if dir.is_empty() || dir == "." {
        ASYNCAPI_PATH.to_owned()
    } else {
        format!("{dir}/{ASYNCAPI_PATH}")
    };
    let spec = format!("{rev}:{file}");
    // Absent at that revision is not an error: older trees had no AsyncAPI document.
    let Ok(text) = git(repo, &["show", &spec]) else {
        return Ok(None);
    };
    parse(&text, &spec).map(Some)
}

fn parse(text: &str, origin: &str) -> Result<Value, CompatError> {
    serde_norway::from_str(text).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        CompatError::Parse {
            origin: origin.to_owned(),
            line,
            column,
            message: e.to_string(),
        }
    })
}

/// Every message and channel difference from `old` to `new`, in a stable order.
#[must_use]
pub fn diff(old: &Value, new: &Value) -> Vec<ApiChange> {
    let keys = |v: &Value, ptr: &str| -> BTreeMap<String, Value> {
        v.pointer(ptr)
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    let (om, nm) = (
        keys(old, "/components/messages"),
        keys(new, "/components/messages"),
    );
    out.extend(
        om.keys()
            .filter(|k| !nm.contains_key(*k))
            .map(|name| ApiChange::MessageRemoved { name: name.clone() }),
    );
    out.extend(
        nm.keys()
            .filter(|k| !om.contains_key(*k))
            .map(|name| ApiChange::MessageAdded { name: name.clone() }),
    );
    let (oc, nc) = (keys(old, "/channels"), keys(new, "/channels"));
    for (name, o) in &oc {
        match nc.get(name) {
            None => out.push(ApiChange::ChannelRemoved { name: name.clone() }),
            Some(n) => {
                let addr = |v: &Value| {
                    v.get("address")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                if addr(o) != addr(n) {
                    out.push(ApiChange::ChannelAddressChanged {
                        name: name.clone(),
                        old: addr(o),
                        new: addr(n),
                    });
                }
            }
        }
    }
    out.extend(
        nc.keys()
            .filter(|k| !oc.contains_key(*k))
            .map(|name| ApiChange::ChannelAdded { name: name.clone() }),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_and_channels_are_diffed() {
        let old = json!({
            "channels": {"a": {"address": "x.a"}, "b": {"address": "x.b"}},
            "components": {"messages": {"m1": {}, "m2": {}}}
        });
        let new = json!({
            "channels": {"a": {"address": "x.a2"}, "c": {"address": "x.c"}},
            "components": {"messages": {"m2": {}, "m3": {}}}
        });
        let d = diff(&old, &new);
        assert_eq!(
            d,
            vec![
                ApiChange::MessageRemoved { name: "m1".into() },
                ApiChange::MessageAdded { name: "m3".into() },
                ApiChange::ChannelAddressChanged {
                    name: "a".into(),
                    old: "x.a".into(),
                    new: "x.a2".into()
                },
                ApiChange::ChannelRemoved { name: "b".into() },
                ApiChange::ChannelAdded { name: "c".into() },
            ]
        );
        assert!(d[0].breaks(true) && !d[0].breaks(false));
        assert!(d[2].breaks(true) && d[2].breaks(false));
        assert!(diff(&old, &old).is_empty());
    }
}
