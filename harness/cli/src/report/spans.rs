//! Where a JSON pointer lands in a JSON text: a byte span, then a 1-based line and column.
//!
//! `serde_json` forgets positions once it has built a `Value`, and diagnostics and SARIF results
//! must name the line of a schema location. This scanner walks the text once along the pointer,
//! skipping every sibling without building it, so it costs one pass over the bytes before the
//! target. It trusts nothing: malformed text or a pointer that names nothing gives `None`.

use std::ops::Range;

/// Where a pointer's target sits in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PointerSpan {
    /// The member name with its quotes, when the target is an object member.
    pub(crate) key: Option<Range<usize>>,
    /// The value itself.
    pub(crate) value: Range<usize>,
}

impl PointerSpan {
    /// What a label should underline: the member name when there is one (one short line even
    /// for a large object), else the value.
    pub(crate) fn label(&self) -> Range<usize> {
        self.key.clone().unwrap_or_else(|| self.value.clone())
    }
}

/// The span of the value `pointer` (RFC 6901, with or without a leading `#`) names in `text`.
pub(crate) fn find(text: &str, pointer: &str) -> Option<PointerSpan> {
    let pointer = pointer.strip_prefix('#').unwrap_or(pointer);
    let tokens: Vec<String> = if pointer.is_empty() {
        Vec::new()
    } else {
        pointer
            .strip_prefix('/')?
            .split('/')
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect()
    };
    let mut s = Scanner {
        b: text.as_bytes(),
        i: 0,
    };
    s.ws();
    let mut key = None;
    for token in &tokens {
        match s.peek()? {
            b'{' => {
                s.i += 1;
                loop {
                    s.ws();
                    if s.peek()? == b'}' {
                        return None;
                    }
                    let k = s.string()?;
                    let name: String = serde_json::from_str(text.get(k.clone())?).ok()?;
                    s.ws();
                    s.eat(b':')?;
                    s.ws();
                    if &name == token {
                        key = Some(k);
                        break;
                    }
                    s.value()?;
                    s.ws();
                    if s.peek()? == b',' {
                        s.i += 1;
                    }
                }
            }
            b'[' => {
                let index: usize = token.parse().ok()?;
                s.i += 1;
                for _ in 0..index {
                    s.ws();
                    if s.peek()? == b']' {
                        return None;
                    }
                    s.value()?;
                    s.ws();
                    s.eat(b',')?;
                }
                s.ws();
                if s.peek()? == b']' {
                    return None;
                }
                key = None;
            }
            _ => return None,
        }
    }
    let start = s.i;
    s.value()?;
    Some(PointerSpan {
        key,
        value: start..s.i,
    })
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Byte offset of 1-based `line` and `column` (in characters) in `text`, when it lies inside.
pub(crate) fn offset_of(text: &str, line: usize, column: usize) -> Option<usize> {
    let start = if line <= 1 {
        0
    } else {
        text.match_indices('\n').nth(line - 2)?.0 + 1
    };
    let rest = text.get(start..)?;
    let in_line = rest.split('\n').next().unwrap_or("");
    let c = column.saturating_sub(1);
    match in_line.char_indices().nth(c) {
        Some((i, _)) => Some(start + i),
        // One past the end of the line: serde_json reports EOF errors there.
        None => Some(start + in_line.len().min(rest.len())),
    }
}

/// 1-based line and column where `pointer`'s label starts, when `pointer` names something.
pub(crate) fn pointer_line(text: &str, pointer: &str) -> Option<(usize, usize)> {
    find(text, pointer).map(|s| line_col(text, s.label().start))
}

/// Depth past which a value is not skipped but refused: the reader must not recurse without
/// bound on hostile input (the registry's own parser refuses much less deep nesting).
const MAX_DEPTH: usize = 512;

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// A string token with its quotes.
    fn string(&mut self) -> Option<Range<usize>> {
        let start = self.i;
        self.eat(b'"')?;
        loop {
            match self.peek()? {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    return Some(start..self.i);
                }
                _ => self.i += 1,
            }
        }
    }

    /// Skip one value of any kind, containers included, without recursion.
    fn value(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            self.ws();
            match self.peek()? {
                b'"' => {
                    self.string()?;
                }
                b'{' | b'[' => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return None;
                    }
                    self.i += 1;
                    continue;
                }
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    self.i += 1;
                }
                b',' | b':' if depth > 0 => {
                    self.i += 1;
                    continue;
                }
                _ => {
                    let start = self.i;
                    while matches!(self.peek(), Some(c) if !b",:]} \t\r\n".contains(&c)) {
                        self.i += 1;
                    }
                    if self.i == start {
                        return None;
                    }
                }
            }
            if depth == 0 {
                return Some(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const DOC: &str = r#"{
  "$defs": {
    "payload": {
      "properties": {
        "a/b": {"enum": ["x", "y"]},
        "tilde~": [1, {"deep": true}, "s,]"]
      }
    }
  },
  "required": ["q"]
}"#;

    #[rstest]
    // the whole document starts at its first byte
    #[case("", Some((1, 1)))]
    // a member is labelled at its name
    #[case("/$defs", Some((2, 3)))]
    // `~1` is `/` in a member name
    #[case("/$defs/payload/properties/a~1b", Some((5, 9)))]
    // `~0` is `~`, and `#` fragments are accepted
    #[case("#/$defs/payload/properties/tilde~0", Some((6, 9)))]
    // an array element is labelled at its value, after skipping a nested container
    #[case("/$defs/payload/properties/tilde~0/2", Some((6, 39)))]
    #[case("/required/0", Some((10, 16)))]
    // names and indexes that do not exist name nothing
    #[case("/$defs/nope", None)]
    #[case("/required/1", None)]
    #[case("/required/x", None)]
    #[case("$defs", None)]
    fn pointers_land_on_their_line_and_column(
        #[case] pointer: &str,
        #[case] expected: Option<(usize, usize)>,
    ) {
        assert_eq!(pointer_line(DOC, pointer), expected, "pointer {pointer:?}");
    }

    #[rstest]
    #[case(1, 1, Some(0))]
    #[case(2, 3, Some(4))]
    // past the end of a line: its end
    #[case(2, 99, Some(14))]
    #[case(99, 1, None)]
    fn line_and_column_map_back_to_offsets(
        #[case] line: usize,
        #[case] column: usize,
        #[case] want: Option<usize>,
    ) {
        assert_eq!(offset_of(DOC, line, column), want);
        if let Some(o) = want.filter(|_| column < 50) {
            assert_eq!(line_col(DOC, o), (line, column));
        }
    }

    #[test]
    fn value_span_covers_the_whole_value() {
        let s = find(DOC, "/$defs/payload/properties/a~1b").expect("found");
        assert_eq!(&DOC[s.value], r#"{"enum": ["x", "y"]}"#);
        assert_eq!(&DOC[s.key.expect("a member")], r#""a/b""#);
    }

    /// Every pointer into a real schema lands where serde_json's own value is: the span re-parses
    /// to the value `Value::pointer` gives.
    #[test]
    fn spans_agree_with_serde_json_on_a_real_schema() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../specs/events/oneprotect.event.schema.json"
        );
        let text = std::fs::read_to_string(path).expect("envelope schema");
        let value: serde_json::Value = serde_json::from_str(&text).expect("parses");
        let mut pointers = Vec::new();
        collect(&value, String::new(), &mut pointers);
        assert!(pointers.len() > 50, "a real schema has many locations");
        for p in pointers {
            let span = find(&text, &p).unwrap_or_else(|| panic!("{p} not found"));
            let got: serde_json::Value =
                serde_json::from_str(&text[span.value]).unwrap_or_else(|e| panic!("{p}: {e}"));
            assert_eq!(Some(&got), value.pointer(&p), "{p}");
        }
    }

    fn collect(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, c) in m {
                    collect(
                        c,
                        format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                        out,
                    );
                }
            }
            serde_json::Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    collect(c, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
        out.push(at);
    }

    #[test]
    fn malformed_text_names_nothing_and_does_not_hang() {
        for text in ["{", "{\"a\": [", "[[[[", "{\"a\" 1}", "\"unterminated", ""] {
            assert_eq!(find(text, "/a/0"), None, "{text:?}");
        }
        let deep = "[".repeat(100_000);
        assert_eq!(find(&deep, "/0"), None);
    }
}
