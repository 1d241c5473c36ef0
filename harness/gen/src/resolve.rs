//! One document plus the `$ref` targets it reaches, in a `jsonschema` `Registry`; never the network.
//!
//! Invariants: an `http(s)` reference is an error, a `file:` reference is read only when it lies
//! under `GenOptions::file_root`, and every other document must be preloaded.

use crate::{Draft, GenError, GenOptions};
use jsonschema::{Registry, Retrieve, Uri};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The base URI a root without `$id` and without `GenOptions::base_uri` gets.
pub(crate) const DEFAULT_BASE: &str = "urn:contracts-gen:root";

/// Reads `file:` URIs under one directory; refuses everything else.
struct FileRetriever {
    root: Option<PathBuf>,
}

impl Retrieve for FileRetriever {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let s = uri.as_str();
        let Some(path) = s.strip_prefix("file://") else {
            return Err(format!("refusing to fetch {s}: only files under --root are read").into());
        };
        let Some(root) = &self.root else {
            return Err(format!("refusing to read {s}: no file root was given").into());
        };
        let path = percent_decode(path.split('#').next().unwrap_or(path));
        let canon = Path::new(&path)
            .canonicalize()
            .map_err(|e| format!("{path}: {e}"))?;
        let root = root
            .canonicalize()
            .map_err(|e| format!("{}: {e}", root.display()))?;
        if !canon.starts_with(&root) {
            return Err(format!("{s} leaves the allowed root {}", root.display()).into());
        }
        let text = std::fs::read_to_string(&canon).map_err(|e| format!("{path}: {e}"))?;
        Ok(serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?)
    }
}

/// Decode RFC 3986 percent-escapes (`$ref` paths and JSON-pointer fragments are URI parts).
/// Works on bytes, so a `%` before a multi-byte character never splits it; a malformed escape
/// is kept as written.
#[must_use]
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                // Two hex digits make at most 0xff.
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'%'));
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The prepared documents: what the IR compiler and the oracle both read.
pub(crate) struct Documents {
    pub(crate) registry: Registry<'static>,
    pub(crate) base: String,
    pub(crate) draft: Draft,
}

pub(crate) fn draft_of(schema: &Value, default: Draft) -> Draft {
    match schema.get("$schema").and_then(Value::as_str) {
        Some(s) if s.contains("draft-07") || s.contains("draft-06") || s.contains("draft-04") => {
            Draft::Draft7
        }
        Some(s) if s.contains("2020-12") || s.contains("2019-09") => Draft::Draft202012,
        _ => default,
    }
}

pub(crate) fn load(schema: &Value, opts: &GenOptions) -> Result<Documents, GenError> {
    let draft = draft_of(schema, opts.default_draft);
    let base = opts
        .base_uri
        .clone()
        .unwrap_or_else(|| DEFAULT_BASE.to_owned());
    let mut builder = Registry::new()
        .draft(draft.to_jsonschema())
        .retriever(FileRetriever {
            root: opts.file_root.clone(),
        })
        .add(&base, schema.clone())
        .map_err(|e| GenError::Schema {
            why: format!("base uri {base}: {e}"),
        })?;
    for (uri, doc) in &opts.resources {
        builder = builder
            .add(uri, doc.clone())
            .map_err(|e| GenError::Schema {
                why: format!("resource {uri}: {e}"),
            })?;
    }
    let registry = builder.prepare().map_err(|e| GenError::Schema {
        why: format!("resolving references: {e}"),
    })?;
    Ok(Documents {
        registry,
        base,
        draft,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_keeps_plain_paths() {
        assert_eq!(percent_decode("/a/b%20c.json"), "/a/b c.json");
        assert_eq!(percent_decode("/a/b.json"), "/a/b.json");
        // A `%` before a multi-byte character used to slice through it and panic.
        assert_eq!(percent_decode("%aé"), "%aé");
        assert_eq!(percent_decode("%é%"), "%é%");
        assert_eq!(percent_decode("%7e%7E"), "~~");
    }
}
