//! Schema documents to compare: a specs directory, one file and what it references, or either of
//! those read from a git revision of this repository.
//!
//! Invariants: nothing is fetched from the network; every document is registered under a virtual
//! base (`file:///specs/` for a specs tree, as in `registry`, `file:///schema/` otherwise), so the
//! same file gets the same URI whether it comes from disk or from git; a relative `$ref` resolves
//! against the referring file's path, and one that leaves the set is unresolved, never read.

use super::CompatError;
use crate::registry::normalize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

/// Base URI of a specs tree (the same as the registry's, so pointers read the same).
pub const SPECS_BASE: &str = crate::registry::BASE_URI;
/// Base URI of documents that are not a specs tree (two loose files).
pub const LOOSE_BASE: &str = "file:///schema/";
/// Transitive `$ref` files followed from one loose file: a loose schema that needs more is
/// not a single schema any more, and the bound keeps a stray `$ref` from walking a whole disk.
const MAX_LOOSE_DOCS: usize = 256;

/// A set of schema documents under one virtual base URI.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaSet {
    base: String,
    origin: String,
    docs: BTreeMap<String, Value>,
    specs_tree: bool,
}

/// One schema of a set: the document a comparison starts from.
#[derive(Debug, Clone)]
pub struct Subject {
    /// The documents it may reference.
    pub set: Arc<SchemaSet>,
    /// Its path relative to the set's root.
    pub entry: String,
}

impl SchemaSet {
    /// Every `*.schema.json` under `<dir>/events` (a specs tree), or else every `*.json` under
    /// `dir`.
    ///
    /// # Errors
    /// An unreadable directory or file, a file that is not JSON, or a directory with no schema.
    pub fn from_dir(dir: &Path) -> Result<Self, CompatError> {
        let specs_tree = dir.join("events").is_dir();
        let (scan, suffix) = if specs_tree {
            (dir.join("events"), ".schema.json")
        } else {
            (dir.to_path_buf(), ".json")
        };
        let mut files = Vec::new();
        collect(&scan, suffix, &mut files)?;
        files.sort();
        let mut docs = BTreeMap::new();
        for path in files {
            let rel = crate::registry::rel_to(dir, &path);
            let text = std::fs::read_to_string(&path).map_err(|source| CompatError::Io {
                path: path.clone(),
                source,
            })?;
            docs.insert(rel, parse(&text, &path.display().to_string())?);
        }
        if docs.is_empty() {
            return Err(CompatError::Usage(format!(
                "{}: no schema files found",
                dir.display()
            )));
        }
        Ok(Self {
            base: if specs_tree { SPECS_BASE } else { LOOSE_BASE }.to_owned(),
            origin: dir.display().to_string(),
            docs,
            specs_tree,
        })
    }

    /// One schema file plus every file it references (transitively), read from disk relative to
    /// the file; the file's own name is the entry.
    ///
    /// # Errors
    /// An unreadable or non-JSON file.
    pub fn from_file(path: &Path) -> Result<Subject, CompatError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| CompatError::Usage(format!("{}: not a file", path.display())))?;
        // Climb one level per leading `../` the closure needs, so siblings of parents resolve.
        let read = |rel: &str| -> Result<Option<String>, CompatError> {
            let p = dir.join(rel);
            if !p.is_file() {
                return Ok(None);
            }
            std::fs::read_to_string(&p)
                .map(Some)
                .map_err(|source| CompatError::Io { path: p, source })
        };
        load_closure(&name, &path.display().to_string(), read)
    }

    /// Every `*.schema.json` (or `*.json`, when `dir` is not a specs tree) of `dir` at git
    /// revision `rev`; `dir` is relative to the repository root `repo`.
    ///
    /// # Errors
    /// `git` missing or failing, an unknown revision, a directory absent at that revision.
    pub fn from_git_dir(repo: &Path, rev: &str, dir: &str) -> Result<Self, CompatError> {
        let commit = resolve_rev(repo, rev)?;
        let dir = dir.trim_end_matches('/');
        let prefix = if dir.is_empty() || dir == "." {
            String::new()
        } else {
            format!("{dir}/")
        };
        let listing = git(
            repo,
            &["ls-tree", "-r", "--name-only", &commit, "--", &prefix],
        )?;
        let all: Vec<&str> = listing.lines().collect();
        let specs_tree = all
            .iter()
            .any(|p| p.starts_with(&format!("{prefix}events/")));
        let wanted: Vec<&str> = all
            .into_iter()
            .filter(|p| {
                if specs_tree {
                    p.starts_with(&format!("{prefix}events/")) && p.ends_with(".schema.json")
                } else {
                    p.ends_with(".json")
                }
            })
            .collect();
        if wanted.is_empty() {
            return Err(CompatError::Usage(format!(
                "{rev}:{dir}: no schema files at that revision"
            )));
        }
        let blobs = cat_files(repo, &commit, &wanted)?;
        let mut docs = BTreeMap::new();
        for (path, text) in wanted.iter().zip(blobs) {
            let Some(text) = text else { continue };
            let rel = path.strip_prefix(&prefix).unwrap_or(path).to_owned();
            docs.insert(rel, parse(&text, &format!("{rev}:{path}"))?);
        }
        Ok(Self {
            base: if specs_tree { SPECS_BASE } else { LOOSE_BASE }.to_owned(),
            origin: format!("{rev}:{dir}"),
            docs,
            specs_tree,
        })
    }

    /// One schema file at git revision `rev` plus what it references; `file` is relative to the
    /// repository root.
    ///
    /// # Errors
    /// As [`SchemaSet::from_git_dir`], or when the file is absent at that revision.
    pub fn from_git_file(repo: &Path, rev: &str, file: &str) -> Result<Subject, CompatError> {
        let commit = resolve_rev(repo, rev)?;
        let (dir, name) = file.rsplit_once('/').unwrap_or(("", file));
        let read = |rel: &str| -> Result<Option<String>, CompatError> {
            let Some(joined) = normalize(&if dir.is_empty() {
                rel.to_owned()
            } else {
                format!("{dir}/{rel}")
            }) else {
                return Ok(None);
            };
            Ok(cat_files(repo, &commit, &[joined.as_str()])?
                .into_iter()
                .next()
                .flatten())
        };
        load_closure(name, &format!("{rev}:{file}"), read)
    }

    /// A set built from documents already in memory (tests, and callers that hold schemas).
    #[must_use]
    pub fn from_memory(
        base: &str,
        origin: &str,
        docs: impl IntoIterator<Item = (String, Value)>,
    ) -> Self {
        let docs: BTreeMap<String, Value> = docs.into_iter().collect();
        let types = format!("{}/", crate::registry::TYPES_DIR);
        let specs_tree = base == SPECS_BASE && docs.keys().any(|k| k.starts_with(&types));
        Self {
            base: base.to_owned(),
            origin: origin.to_owned(),
            docs,
            specs_tree,
        }
    }

    /// The virtual base URI.
    #[must_use]
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Where the documents came from, for messages.
    #[must_use]
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Every document by path relative to the set's root.
    #[must_use]
    pub fn docs(&self) -> &BTreeMap<String, Value> {
        &self.docs
    }

    /// The document at `rel`.
    #[must_use]
    pub fn doc(&self, rel: &str) -> Option<&Value> {
        self.docs.get(rel)
    }

    /// The URI a document is registered under. Loose files that climb (`../common.json`) sit
    /// under one `_/` level per climb, so every URI stays below the virtual root.
    #[must_use]
    pub fn uri(&self, rel: &str) -> String {
        let up = self
            .docs
            .keys()
            .map(|k| k.split('/').take_while(|s| *s == "..").count())
            .max()
            .unwrap_or(0);
        if up == 0 {
            return format!("{}{rel}", self.base);
        }
        let path =
            normalize(&format!("{}{rel}", "_/".repeat(up))).unwrap_or_else(|| rel.to_owned());
        format!("{}{path}", self.base)
    }

    /// The documents compared one by one: the event-type schemas of a specs tree, else all.
    #[must_use]
    pub fn subjects(&self) -> Vec<String> {
        let types = format!("{}/", crate::registry::TYPES_DIR);
        self.docs
            .keys()
            .filter(|k| !self.specs_tree || k.starts_with(&types))
            .cloned()
            .collect()
    }

    /// Resolve `reference` found in document `from`: the target document and the JSON pointer in
    /// it (`""` for the root). `None` when it names no document of the set or no member.
    #[must_use]
    pub fn resolve(&self, from: &str, reference: &str) -> Option<(String, String)> {
        let (target, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let doc = if target.is_empty() {
            from.to_owned()
        } else if let Some(rest) = target.strip_prefix(&self.base) {
            normalize(rest)?
        } else if target.contains(':') {
            return None; // another scheme: never fetched
        } else {
            let dir = from.rsplit_once('/').map_or("", |(d, _)| d);
            normalize_keep_up(&if dir.is_empty() {
                target.to_owned()
            } else {
                format!("{dir}/{target}")
            })
        };
        let value = self.docs.get(&doc)?;
        let pointer = if fragment.is_empty() || fragment.starts_with('/') {
            contracts_gen::percent_decode(fragment)
        } else {
            find_anchor(value, fragment, "")?
        };
        value.pointer(&pointer)?;
        Some((doc, pointer))
    }
}

impl Subject {
    /// The entry document (a `true` schema when absent, which cannot happen for a built subject).
    #[must_use]
    pub fn value(&self) -> &Value {
        self.set.doc(&self.entry).unwrap_or(&Value::Bool(true))
    }

    /// The entry's URI.
    #[must_use]
    pub fn uri(&self) -> String {
        self.set.uri(&self.entry)
    }

    /// The entry and every document it references, transitively: what decides its meaning.
    #[must_use]
    pub fn closure(&self) -> BTreeMap<&str, &Value> {
        let mut seen = BTreeMap::new();
        let mut todo = vec![self.entry.clone()];
        while let Some(rel) = todo.pop() {
            let Some((key, value)) = self.set.docs.get_key_value(&rel) else {
                continue;
            };
            if seen.insert(key.as_str(), value).is_some() {
                continue;
            }
            for r in refs(value) {
                if let Some((doc, _)) = self.set.resolve(&rel, &r) {
                    todo.push(doc);
                }
            }
        }
        seen
    }
}

fn load_closure(
    entry: &str,
    origin: &str,
    read: impl Fn(&str) -> Result<Option<String>, CompatError>,
) -> Result<Subject, CompatError> {
    let mut docs = BTreeMap::new();
    let text =
        read(entry)?.ok_or_else(|| CompatError::Usage(format!("{origin}: no such schema file")))?;
    docs.insert(entry.to_owned(), parse(&text, origin)?);
    let mut todo: Vec<String> = vec![entry.to_owned()];
    let mut tried = BTreeSet::new();
    while let Some(rel) = todo.pop() {
        let targets: Vec<String> = docs.get(&rel).map(refs).unwrap_or_default();
        for r in targets {
            let (target, _) = r.split_once('#').unwrap_or((&r, ""));
            if target.is_empty() || target.contains(':') {
                continue;
            }
            let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
            let joined = if dir.is_empty() {
                target.to_owned()
            } else {
                format!("{dir}/{target}")
            };
            // Loose files may climb (`../common.schema.json`): keep the `..` in the key so the
            // entry stays at the root of the set.
            let key = normalize_keep_up(&joined);
            if docs.len() >= MAX_LOOSE_DOCS || !tried.insert(key.clone()) {
                continue;
            }
            if let Some(text) = read(&key)? {
                docs.insert(key.clone(), parse(&text, &key)?);
                todo.push(key);
            }
        }
    }
    Ok(Subject {
        set: Arc::new(SchemaSet {
            base: LOOSE_BASE.to_owned(),
            origin: origin.to_owned(),
            docs,
            specs_tree: false,
        }),
        entry: entry.to_owned(),
    })
}

fn parse(text: &str, origin: &str) -> Result<Value, CompatError> {
    serde_json::from_str(text).map_err(|e| CompatError::Parse {
        origin: origin.to_owned(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

fn collect(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>) -> Result<(), CompatError> {
    let io = |source| CompatError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            collect(&path, suffix, out)?;
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(suffix))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Every `$ref` string in a document.
pub(crate) fn refs(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    if k == "$ref" {
                        if let Some(s) = child.as_str() {
                            out.push(s.to_owned());
                        }
                    }
                    stack.push(child);
                }
            }
            Value::Array(items) => stack.extend(items),
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
        }
    }
    out
}

/// Like [`normalize`], but a path climbing above the root keeps its leading `..` segments.
fn normalize_keep_up(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

fn find_anchor(value: &Value, anchor: &str, at: &str) -> Option<String> {
    match value {
        Value::Object(map) => {
            if map.get("$anchor").and_then(Value::as_str) == Some(anchor) {
                return Some(at.to_owned());
            }
            map.iter().find_map(|(k, v)| {
                find_anchor(
                    v,
                    anchor,
                    &format!("{at}/{}", crate::registry::escape_pointer(k)),
                )
            })
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_anchor(v, anchor, &format!("{at}/{i}"))),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => None,
    }
}

/// `git -C repo ARGS`, stdout on success.
pub(crate) fn git(repo: &Path, args: &[&str]) -> Result<String, CompatError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| CompatError::Git {
            args: args.join(" "),
            message: format!("cannot run git: {e}"),
        })?;
    if !out.status.success() {
        return Err(CompatError::Git {
            args: args.join(" "),
            message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The commit a revision names.
fn resolve_rev(repo: &Path, rev: &str) -> Result<String, CompatError> {
    if rev.starts_with('-') {
        return Err(CompatError::Usage(format!("{rev}: not a revision")));
    }
    Ok(git(
        repo,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .map_err(|_| CompatError::Git {
        args: format!("rev-parse {rev}"),
        message: "not a file, a directory or a revision of this repository".into(),
    })?
    .trim()
    .to_owned())
}

/// The repository root containing `dir`.
///
/// # Errors
/// `git` missing or `dir` outside a repository.
pub fn repo_root(dir: &Path) -> Result<PathBuf, CompatError> {
    Ok(PathBuf::from(
        git(dir, &["rev-parse", "--show-toplevel"])?.trim(),
    ))
}

/// The contents of `paths` at `commit`, one `git cat-file --batch` process for all of them;
/// `None` for a path absent at that commit.
fn cat_files(
    repo: &Path,
    commit: &str,
    paths: &[&str],
) -> Result<Vec<Option<String>>, CompatError> {
    let fail = |message: String| CompatError::Git {
        args: "cat-file --batch".into(),
        message,
    };
    let mut child = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| fail(format!("cannot run git: {e}")))?;
    let input: String = paths.iter().map(|p| format!("{commit}:{p}\n")).collect();
    let mut stdin = child.stdin.take().ok_or_else(|| fail("no stdin".into()))?;
    // Write from a thread: git answers while it reads, so a large answer must not wait for us.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut raw = Vec::new();
    child
        .stdout
        .take()
        .ok_or_else(|| fail("no stdout".into()))?
        .read_to_end(&mut raw)
        .map_err(|e| fail(e.to_string()))?;
    let _ = writer.join();
    let _ = child.wait();
    let mut out = Vec::with_capacity(paths.len());
    let mut at = 0;
    for _ in paths {
        let nl = raw[at..]
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| fail("truncated answer".into()))?;
        let header = String::from_utf8_lossy(&raw[at..at + nl]).into_owned();
        at += nl + 1;
        let mut fields = header.split(' ');
        let (_, kind, size) = (fields.next(), fields.next(), fields.next());
        match (kind, size.and_then(|s| s.parse::<usize>().ok())) {
            (Some("blob"), Some(size)) => {
                let end = at + size;
                let body = raw
                    .get(at..end)
                    .ok_or_else(|| fail("truncated blob".into()))?;
                out.push(Some(String::from_utf8_lossy(body).into_owned()));
                at = end + 1;
            }
            _ => out.push(None),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::parent("a/../b.json", "b.json")]
    #[case::climbs("../common.json", "../common.json")]
    #[case::climbs_twice("x/../../y/z.json", "../y/z.json")]
    fn loose_paths_keep_their_climb(#[case] path: &str, #[case] want: &str) {
        assert_eq!(normalize_keep_up(path), want);
    }

    #[test]
    fn refs_resolve_against_the_referring_file() {
        let set = SchemaSet {
            base: SPECS_BASE.into(),
            origin: "test".into(),
            docs: [
                (
                    "events/common.schema.json".to_owned(),
                    serde_json::json!({"$defs": {"u": {"type": "string"}}}),
                ),
                (
                    "events/types/x.v1.schema.json".to_owned(),
                    serde_json::json!({"$ref": "../common.schema.json#/$defs/u"}),
                ),
            ]
            .into_iter()
            .collect(),
            specs_tree: true,
        };
        assert_eq!(
            set.resolve(
                "events/types/x.v1.schema.json",
                "../common.schema.json#/$defs/u"
            ),
            Some(("events/common.schema.json".into(), "/$defs/u".into()))
        );
        assert_eq!(
            set.resolve("events/types/x.v1.schema.json", "https://x/y.json"),
            None
        );
    }
}
