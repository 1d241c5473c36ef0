//! The reference parse of one event: serde_json's reader building a `serde_json::Value`, plus
//! the member names it would silently overwrite.
//!
//! serde_json keeps the last of two members with the same name; a consumer's parser may keep the
//! first. A gate judging one of the two values would certify an event another reader sees
//! differently, so every repeated name is reported (RFC 7493 §2.3) with the RFC 6901 pointer of
//! the member. The value built is exactly `serde_json::from_slice::<Value>`'s (same reader, same
//! recursion limit, same number handling, insertion order with the last value kept at the first
//! position), so verdicts on inputs without repeats are unchanged.

use serde::de::{DeserializeSeed, Deserializer as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// A member whose name already appeared in its object: `(pointer, name)`.
pub(crate) type Duplicate = (String, String);

/// `bytes` as serde_json reads them, with every repeated member name.
///
/// # Errors
/// serde_json's error for input that is not one JSON document.
pub(crate) fn parse(bytes: &[u8]) -> Result<(Value, Vec<Duplicate>), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut walk = Walk {
        path: String::new(),
        duplicates: Vec::new(),
    };
    let value = (&mut de).deserialize_any(Build { walk: &mut walk })?;
    de.end()?;
    Ok((value, walk.duplicates))
}

/// RFC 6901 escaping of one reference token.
#[must_use]
pub fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Why `bytes` are not JSON, for an unreadable verdict: serde_json's message, naming a UTF-8
/// byte order mark when that is the first thing the reader met (RFC 8259 §8.1: a JSON text
/// must not begin with one).
pub(crate) fn describe(bytes: &[u8], e: &serde_json::Error) -> String {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        return "not valid JSON: starts with a UTF-8 byte order mark (EF BB BF); JSON text must not begin with one (RFC 8259 §8.1)".into();
    }
    format!("not valid JSON: {e}")
}

struct Walk {
    /// Pointer of the value being read.
    path: String,
    duplicates: Vec<Duplicate>,
}

struct Build<'w> {
    walk: &'w mut Walk,
}

impl<'de> DeserializeSeed<'de> for Build<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<Value, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Build<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        let len = self.walk.path.len();
        loop {
            use fmt::Write as _;
            let _ = write!(self.walk.path, "/{}", items.len());
            let item = seq.next_element_seed(Build {
                walk: &mut *self.walk,
            })?;
            self.walk.path.truncate(len);
            match item {
                Some(v) => items.push(v),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        let len = self.walk.path.len();
        while let Some(name) = map.next_key::<String>()? {
            self.walk.path.push('/');
            self.walk.path.push_str(&escape_pointer(&name));
            let value = map.next_value_seed(Build {
                walk: &mut *self.walk,
            })?;
            if members.contains_key(&name) {
                self.walk
                    .duplicates
                    .push((self.walk.path.clone(), name.clone()));
            }
            self.walk.path.truncate(len);
            members.insert(name, value);
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::flat(r#"{"a":1,"b":2,"a":3}"#, &["/a"])]
    #[case::nested_in_the_overwritten(r#"{"q":{"r":1,"r":2},"q":{}}"#, &["/q/r", "/q"])]
    #[case::in_an_array(r#"[{"x":1},{"x":1,"x":2}]"#, &["/1/x"])]
    #[case::escaped_name(r#"{"a/b":1,"a\/b":2}"#, &["/a~1b"])]
    #[case::three_times(r#"{"t":1,"t":2,"t":3}"#, &["/t", "/t"])]
    #[case::none(r#"{"a":{"a":1},"b":[{"a":1},{"a":1}]}"#, &[])]
    fn repeated_names_are_found_at_their_pointer(#[case] text: &str, #[case] want: &[&str]) {
        let (value, dups) = parse(text.as_bytes()).expect("parses");
        let got: Vec<&str> = dups.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(got, want);
        // The value is serde_json's own, last member wins.
        let theirs: Value = serde_json::from_str(text).expect("parses");
        assert_eq!(value, theirs);
        assert_eq!(
            serde_json::to_string(&value).expect("json"),
            serde_json::to_string(&theirs).expect("json")
        );
    }

    #[rstest]
    #[case::trailing("{} x")]
    #[case::bom("\u{feff}{}")]
    #[case::nul("{\"a\":1}\0")]
    #[case::deep(&"[".repeat(200))]
    fn errors_are_serde_json_errors(#[case] text: &str) {
        let ours = parse(text.as_bytes()).expect_err("refused");
        let theirs = serde_json::from_slice::<Value>(text.as_bytes()).expect_err("refused");
        assert_eq!(ours.to_string(), theirs.to_string());
    }

    #[test]
    fn a_byte_order_mark_is_named() {
        let e = parse(b"\xEF\xBB\xBF{}").expect_err("refused");
        assert!(describe(b"\xEF\xBB\xBF{}", &e).contains("byte order mark"));
    }
}
