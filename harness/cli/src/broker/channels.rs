//! The AsyncAPI channel map: which subject (channel `address`) carries each event type.
//!
//! Read from `specs/events/asyncapi.yaml`: every channel lists its messages by `$ref` to
//! `#/components/messages/<key>`, and each component message's `name` is the `event_type` it
//! carries. `contracts check` already holds the document to one channel per event type (T4), so a
//! type listed on two channels here is an error, not a choice.

use crate::error::CliError;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// `event_type` -> subject, from one AsyncAPI document.
#[derive(Debug, Clone, Default)]
pub(crate) struct Channels {
    by_type: HashMap<String, String>,
}

impl Channels {
    /// Read the channel map of the AsyncAPI document at `path`.
    ///
    /// # Errors
    /// An unreadable or non-YAML file, or a channel, message or name that is not where AsyncAPI
    /// 3.0 puts it; the message names the file and the JSON path.
    pub(crate) fn load(path: &Path) -> Result<Self, CliError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| CliError::io(&name, e))?;
        let doc: Value = serde_norway::from_str(&text)
            .map_err(|e| CliError::Input(format!("{name}: not YAML: {e}")))?;
        Self::from_doc(&doc).map_err(|e| CliError::Input(format!("{name}: {e}")))
    }

    fn from_doc(doc: &Value) -> Result<Self, String> {
        let channels = doc
            .get("channels")
            .and_then(Value::as_object)
            .ok_or("/channels: missing or not an object")?;
        let mut by_type: HashMap<String, String> = HashMap::new();
        for (ch, channel) in channels {
            let address = channel
                .get("address")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("/channels/{ch}/address: missing or not a string"))?;
            let messages = channel
                .get("messages")
                .and_then(Value::as_object)
                .ok_or_else(|| format!("/channels/{ch}/messages: missing or not an object"))?;
            for (m, msg) in messages {
                let at = format!("/channels/{ch}/messages/{m}/$ref");
                let key = msg
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("#/components/messages/"))
                    .ok_or_else(|| format!("{at}: not a #/components/messages/ reference"))?;
                let event_type = doc
                    .pointer(&format!("/components/messages/{key}/name"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("/components/messages/{key}/name: missing ({at})"))?;
                if let Some(other) = by_type.insert(event_type.to_owned(), address.to_owned()) {
                    if other != address {
                        return Err(format!(
                            "{at}: event type {event_type} is on two channels ({other}, {address})"
                        ));
                    }
                }
            }
        }
        Ok(Channels { by_type })
    }

    /// The subject of `event_type`'s channel, when the document lists the type.
    pub(crate) fn subject(&self, event_type: &str) -> Option<&str> {
        self.by_type.get(event_type).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(yaml: &str) -> Value {
        serde_norway::from_str(yaml).expect("test YAML")
    }

    #[test]
    fn the_repository_asyncapi_maps_every_event_type() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs");
        let channels = Channels::load(&root.join("events/asyncapi.yaml")).expect("asyncapi loads");
        let registry = contracts_core::Registry::load(&root).expect("specs load");
        for c in registry.contracts() {
            let subject = channels.subject(&c.event_type);
            assert!(
                subject.is_some_and(|s| s.starts_with("oneprotect.events.")),
                "{} has subject {subject:?}",
                c.event_type
            );
        }
        assert_eq!(
            channels.subject("asset.discovered"),
            Some("oneprotect.events.asset")
        );
    }

    #[test]
    fn a_type_on_two_channels_is_an_error_naming_the_path() {
        let err = Channels::from_doc(&doc(r"
channels:
  a: {address: x.a, messages: {m: {$ref: '#/components/messages/m'}}}
  b: {address: x.b, messages: {m: {$ref: '#/components/messages/m'}}}
components: {messages: {m: {name: t.one}}}
"))
        .expect_err("two channels");
        assert!(err.contains("/channels/b/messages/m/$ref"), "{err}");
        assert!(err.contains("t.one"), "{err}");
    }

    #[test]
    fn a_dangling_message_reference_is_an_error_naming_the_path() {
        let err = Channels::from_doc(&doc(r"
channels:
  a: {address: x.a, messages: {m: {$ref: '#/components/messages/gone'}}}
components: {messages: {}}
"))
        .expect_err("dangling");
        assert!(err.contains("/components/messages/gone/name"), "{err}");
    }
}
