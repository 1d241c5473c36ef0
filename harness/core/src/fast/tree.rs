//! The event as a tree that borrows its strings from the input bytes, validated by the
//! `jsonschema` crate's own validators through its `json` traits
//! (`jsonschema::options_for::<Borrowed>()`).
//!
//! This is how an event the fast path did not certify gets its verdict and error list:
//! a `serde_json::Value` allocates a `String` per string and hashes every member name into an
//! index map, a third of an invalid event's cost; this tree allocates one `Vec` per object and
//! array and nothing per string. The verdict stays the jsonschema crate's, and everything the tree
//! cannot read exactly as serde_json would is left to serde_json: [`Tree::read`] answers `None`
//! for a syntax error, a duplicate member name or nesting past the scanner's bound (the caller
//! then parses into a `Value`), strings with escapes are decoded by serde_json, and every
//! number other than a plain non-negative integer is read by serde_json.

use super::scan::{Fail, Number, Scanner, decode_escaped};
use jsonschema::JsonType;
use jsonschema::json::{Array, Json, Node, NodeIdentity, Object};
use jsonschema_value::LazyInstance;
use serde_json::Value;
use std::borrow::Cow;

/// The most members an object of the tree has; a larger one is left to serde_json (the error
/// collector numbers members in 16 bits).
pub(crate) const MAX_MEMBERS: usize = u16::MAX as usize - 1;

/// One JSON value; containers keep their raw bytes, from which an error's instance is built
/// only if someone asks for it.
#[derive(Debug, Default)]
pub(crate) enum Tree<'a> {
    #[default]
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(Cow<'a, str>),
    Array(Vec<Tree<'a>>, &'a [u8]),
    Object(Vec<(Cow<'a, str>, Tree<'a>)>, &'a [u8]),
}

impl<'a> Tree<'a> {
    /// The tree of `bytes` (one JSON document), or `None` when serde_json must read it.
    #[cfg(test)]
    pub(crate) fn parse(bytes: &'a [u8]) -> Option<Tree<'a>> {
        Self::read(bytes).map(|(tree, _)| tree)
    }

    /// The tree of `bytes` (one JSON document), or `None` when serde_json must read it; and whether some member at any depth has a persistence-metadata name
    /// (catalogue §2.3), noted while the names are read so that a clean event needs no walk.
    pub(crate) fn read(bytes: &'a [u8]) -> Option<(Tree<'a>, bool)> {
        // UTF-8 once for the whole event (outside strings JSON is ASCII), so that each string is
        // a slice of `text` rather than a `from_utf8` of its own.
        let text = std::str::from_utf8(bytes).ok()?;
        let mut r = Reader {
            s: Scanner::new(bytes),
            text,
            // Small enough to stay out of glibc's large-chunk path (a request of 1 KiB or more
            // consolidates its fast bins, per event); they grow for deeper events.
            members: Vec::with_capacity(12),
            items: Vec::with_capacity(8),
            persistence: false,
        };
        let tree = r.value().ok()?;
        r.s.ws();
        (r.s.pos == bytes.len()).then_some((tree, r.persistence))
    }
}

/// The scanner plus two scratch stacks: a container's children are gathered there and moved into
/// one exactly sized `Vec` when it closes (growing a `Vec` per container cost more than the
/// rest of the parse).
struct Reader<'a> {
    s: Scanner<'a>,
    text: &'a str,
    members: Vec<(Cow<'a, str>, Tree<'a>)>,
    items: Vec<Tree<'a>>,
    /// A member name was a persistence-metadata name.
    persistence: bool,
}

impl<'a> Reader<'a> {
    fn value(&mut self) -> Result<Tree<'a>, Fail> {
        let s = &mut self.s;
        s.ws();
        let start = s.pos;
        match s.peek() {
            Some(b'{') => {
                s.enter()?;
                let mark = self.members.len();
                if self.s.peek() == Some(b'}') {
                    self.s.pos += 1;
                } else {
                    loop {
                        self.s.ws();
                        let name = string(&mut self.s, self.text)?;
                        self.persistence |= crate::validate::is_persistence_field(&name);
                        self.s.ws();
                        self.s.expect(b':')?;
                        let v = self.value()?;
                        if self.members[mark..].iter().any(|(k, _)| *k == name) {
                            return Err(Fail::Unsure); // serde_json keeps the last: let it read it
                        }
                        self.members.push((name, v));
                        if self.s.next_or_close(b'}')? {
                            break;
                        }
                    }
                }
                self.s.leave();
                if self.members.len() - mark > MAX_MEMBERS {
                    return Err(Fail::Unsure);
                }
                let members = self.members.drain(mark..).collect();
                Ok(Tree::Object(members, self.raw(start)))
            }
            Some(b'[') => {
                s.enter()?;
                let mark = self.items.len();
                if self.s.peek() == Some(b']') {
                    self.s.pos += 1;
                } else {
                    loop {
                        let v = self.value()?;
                        self.items.push(v);
                        if self.s.next_or_close(b']')? {
                            break;
                        }
                    }
                }
                self.s.leave();
                let items = self.items.drain(mark..).collect();
                Ok(Tree::Array(items, self.raw(start)))
            }
            Some(b'"') => Ok(Tree::String(string(s, self.text)?)),
            Some(b't') => s.literal(b"true").map(|()| Tree::Bool(true)),
            Some(b'f') => s.literal(b"false").map(|()| Tree::Bool(false)),
            Some(b'n') => s.literal(b"null").map(|()| Tree::Null),
            Some(b'-' | b'0'..=b'9') => {
                let n = s.number()?;
                let token = s.b.get(start..s.pos).ok_or(Fail::Unsure)?;
                match n {
                    Number::Int(v) if token.first() != Some(&b'-') => u64::try_from(v)
                        .map(|v| Tree::Number(v.into()))
                        .map_err(|_| Fail::Unsure),
                    _ => serde_json::from_slice(token)
                        .map(Tree::Number)
                        .map_err(|_| Fail::Unsure),
                }
            }
            _ => Err(Fail::Unsure),
        }
    }

    /// The bytes of the value that started at `start` and ends at the cursor.
    fn raw(&self, start: usize) -> &'a [u8] {
        self.s.b.get(start..self.s.pos).unwrap_or_default()
    }
}

/// A string at the cursor: borrowed when it has no escape, else decoded by serde_json.
fn string<'a>(s: &mut Scanner<'a>, text: &'a str) -> Result<Cow<'a, str>, Fail> {
    let start = s.pos;
    let (_, escaped) = s.raw_string()?;
    let quoted = text.get(start..s.pos).ok_or(Fail::Unsure)?;
    if escaped {
        decode_escaped(quoted.as_bytes()).map(Cow::Owned)
    } else {
        quoted
            .get(1..quoted.len() - 1)
            .map(Cow::Borrowed)
            .ok_or(Fail::Unsure)
    }
}

/// The `jsonschema` instance representation for [`Tree`].
pub(crate) struct Borrowed;

impl Json for Borrowed {
    type Node<'a> = &'a Tree<'a>;
    type PreparedKey = String;
    type StringBuffer = Tree<'static>;

    // As for serde_json's insertion-ordered map: lookups are linear scans of a few members.
    const KEYS_PER_LOOKUP: usize = 2;
    const ACYCLIC: bool = true;

    fn prepare_key(key: &str) -> String {
        key.to_owned()
    }

    fn with_string_node<T>(
        buffer: &mut Tree<'static>,
        string: &str,
        f: impl FnOnce(<Self as Json>::Node<'_>) -> T,
    ) -> T {
        *buffer = Tree::String(Cow::Owned(string.to_owned()));
        f(buffer)
    }
}

impl<'a> Node<'a, Borrowed> for &'a Tree<'a> {
    type Object = &'a [(Cow<'a, str>, Tree<'a>)];
    type Array = &'a [Tree<'a>];
    type Number = &'a serde_json::Number;

    fn as_object(&self) -> Option<Self::Object> {
        match self {
            Tree::Object(members, _) => Some(members.as_slice()),
            _ => None,
        }
    }

    fn as_array(&self) -> Option<Self::Array> {
        match self {
            Tree::Array(items, _) => Some(items.as_slice()),
            _ => None,
        }
    }

    fn as_string(&self) -> Option<Cow<'a, str>> {
        match self {
            Tree::String(s) => Some(Cow::Borrowed(s)),
            _ => None,
        }
    }

    fn as_number(&self) -> Option<&'a serde_json::Number> {
        match self {
            Tree::Number(n) => Some(n),
            _ => None,
        }
    }

    fn as_boolean(&self) -> Option<bool> {
        match self {
            Tree::Bool(b) => Some(*b),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, Tree::Null)
    }

    fn json_type(&self) -> JsonType {
        match self {
            Tree::Null => JsonType::Null,
            Tree::Bool(_) => JsonType::Boolean,
            Tree::Number(_) => JsonType::Number,
            Tree::String(_) => JsonType::String,
            Tree::Array(..) => JsonType::Array,
            Tree::Object(..) => JsonType::Object,
        }
    }

    /// `const` and `enum` against scalars without building a `Value` (the default would).
    fn equals_value(&self, expected: &Value) -> bool {
        match (self, expected) {
            (Tree::String(s), Value::String(e)) => s == e,
            (Tree::Bool(b), Value::Bool(e)) => b == e,
            (Tree::Null, Value::Null) => true,
            (Tree::Number(n), Value::Number(_)) => {
                jsonschema::json::cmp::equal(&Value::Number(n.clone()), expected)
            }
            (Tree::Array(..) | Tree::Object(..), Value::Array(_) | Value::Object(_)) => {
                jsonschema::json::cmp::equal(&self.to_value(), expected)
            }
            _ => false,
        }
    }

    fn to_value(&self) -> Cow<'a, Value> {
        Cow::Owned(match self {
            Tree::Null => Value::Null,
            Tree::Bool(b) => Value::Bool(*b),
            Tree::Number(n) => Value::Number(n.clone()),
            Tree::String(s) => Value::String(s.to_string()),
            Tree::Array(_, raw) | Tree::Object(_, raw) => reparse(raw, 0),
        })
    }

    /// Containers are rebuilt from their bytes only if an error's instance is read (the
    /// harness reads masked messages, so never on the hot path).
    fn lazy_value(&self) -> LazyInstance<'a> {
        match self {
            Tree::Array(_, raw) | Tree::Object(_, raw) => LazyInstance::Deferred {
                bytes: raw,
                tag: 0,
                make: reparse,
                cell: std::sync::OnceLock::new(),
            },
            _ => LazyInstance::Ready(self.to_value()),
        }
    }

    fn identity(&self) -> Option<NodeIdentity> {
        Some(NodeIdentity::new(
            std::ptr::from_ref::<Tree<'_>>(*self) as usize
        ))
    }
}

/// A container's bytes as a `Value` (they parsed once already, as part of the event).
fn reparse(raw: &[u8], _: u32) -> Value {
    serde_json::from_slice(raw).unwrap_or(Value::Null)
}

pub(crate) struct Members<'a>(std::slice::Iter<'a, (Cow<'a, str>, Tree<'a>)>);

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, &'a Tree<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k.as_ref(), v))
    }
}

impl<'a> Object<'a, Borrowed> for &'a [(Cow<'a, str>, Tree<'a>)] {
    type Node = &'a Tree<'a>;
    type MemberName = &'a str;
    type MembersIter = Members<'a>;

    fn len(&self) -> usize {
        <[_]>::len(self)
    }

    fn get(&self, key: &String) -> Option<&'a Tree<'a>> {
        self.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn members(&self) -> Members<'a> {
        Members(self.iter())
    }
}

impl<'a> Array<'a, Borrowed> for &'a [Tree<'a>] {
    type Node = &'a Tree<'a>;
    type ElementsIter = std::slice::Iter<'a, Tree<'a>>;

    fn len(&self) -> usize {
        <[_]>::len(self)
    }

    fn elements(&self) -> Self::ElementsIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::Tree;
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    /// The tree rebuilt member by member (not from its raw bytes, as `to_value` does).
    fn rebuilt(t: &Tree<'_>) -> Value {
        match t {
            Tree::Null => Value::Null,
            Tree::Bool(b) => Value::Bool(*b),
            Tree::Number(n) => Value::Number(n.clone()),
            Tree::String(s) => Value::String(s.to_string()),
            Tree::Array(items, _) => Value::Array(items.iter().map(rebuilt).collect()),
            Tree::Object(members, _) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.to_string(), rebuilt(v)))
                    .collect::<Map<String, Value>>(),
            ),
        }
    }

    /// Read the same as serde_json, number kinds included, or left to serde_json.
    fn same_as_serde(text: &str) -> Result<(), String> {
        let theirs = serde_json::from_str::<Value>(text);
        match (Tree::parse(text.as_bytes()), theirs) {
            (Some(tree), Ok(value)) => {
                let ours = rebuilt(&tree);
                // `Number`'s `==` compares kinds too: 1 (u64) is not 1.0 (f64), nor -1 (i64).
                if ours != value {
                    return Err(format!("{text}: tree {ours}, serde_json {value}"));
                }
                Ok(())
            }
            (Some(tree), Err(e)) => Err(format!("{text}: tree {tree:?}, serde_json error {e}")),
            (None, _) => Ok(()),
        }
    }

    #[test]
    fn edges_read_as_serde_json_reads_them() {
        let edges = [
            r#"{"a":1,"b":-1,"c":-0,"d":0,"e":1.0,"f":1e2,"g":-1.5E-3,"h":18446744073709551615}"#,
            r#"{"i":18446744073709551616,"j":-9223372036854775808,"k":-9223372036854775809}"#,
            r#"{"l":123456789012345678901234567890,"m":0.1,"n":5e-324,"o":1.7976931348623157e308}"#,
            r#"{"esc":"a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\ud83d\ude00","plain":"héllo 🦀"}"#,
            r#" [ true , false , null , [ ] , { } , "" ] "#,
            r#"{"nested":{"x":[{"y":[1,[2,[3]]]}]}}"#,
        ];
        for e in edges {
            same_as_serde(e).unwrap();
            assert!(Tree::parse(e.as_bytes()).is_some(), "{e}: read by the tree");
        }
        // Left to serde_json (its error message, or its last-member-wins rule).
        for e in [
            r#"{"a":1,"a":2}"#,
            r#"{"a":1e999}"#,
            r#"{"a":"\ud800"}"#,
            "{\"a\":\"\u{1}\"}",
            r#"{"a":01}"#,
            r#"{"a":1}x"#,
            r#"{"a":}"#,
            "[1,]",
            "",
        ] {
            assert!(
                Tree::parse(e.as_bytes()).is_none(),
                "{e}: left to serde_json"
            );
        }
        assert!(Tree::parse(b"[\"\xff\"]").is_none(), "invalid UTF-8");
    }

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_json_reads_as_serde_json_reads_it(v in json(), pretty in any::<bool>()) {
            let text = if pretty {
                serde_json::to_string_pretty(&v).unwrap()
            } else {
                serde_json::to_string(&v).unwrap()
            };
            prop_assert!(same_as_serde(&text).is_ok(), "{}", same_as_serde(&text).unwrap_err());
            prop_assert!(Tree::parse(text.as_bytes()).is_some(), "{text}: read by the tree");
        }
    }
}
