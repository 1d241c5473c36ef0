//! The validating scanner: walks the bytes of one JSON value against a compiled [`Node`], never
//! building a value. `Err(Fail::Invalid)` is said only when the value certainly breaks the schema
//! (it is used inside `anyOf`, `if` and `not`); anything the scanner is not sure of (bad JSON, a
//! duplicate member, an escaped key, a number it cannot compare exactly, a persistence member) is
//! `Err(Fail::Unsure)`, and the caller then asks the reference validator.

use super::compile::{
    ANY, Lit, Node, NodeId, Num, T_ARR, T_BOOL, T_INT, T_NULL, T_NUM, T_OBJ, T_STR,
};
use crate::validate::is_persistence_field;
use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fail {
    Invalid,
    Unsure,
}

pub(crate) type Res = Result<(), Fail>;

/// serde_json refuses nesting deeper than 128; stay well below.
const MAX_DEPTH: u32 = 100;

pub(crate) struct Scanner<'a> {
    pub(crate) b: &'a [u8],
    pub(crate) pos: usize,
    depth: u32,
}

#[inline]
fn unsure<T>() -> Result<T, Fail> {
    Err(Fail::Unsure)
}

impl<'a> Scanner<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Self {
        Scanner {
            b,
            pos: 0,
            depth: 0,
        }
    }

    #[inline]
    pub(crate) fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.pos) {
            if matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    #[inline]
    fn expect(&mut self, c: u8) -> Res {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            unsure()
        }
    }

    /// A string starting at `"`: its raw contents (between the quotes) and whether it has escapes.
    /// Checks UTF-8 and control characters as serde_json does.
    pub(crate) fn raw_string(&mut self) -> Result<(&'a str, bool), Fail> {
        self.expect(b'"')?;
        let start = self.pos;
        let mut escaped = false;
        loop {
            let Some(&c) = self.b.get(self.pos) else {
                return unsure();
            };
            match c {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    self.pos += 2;
                }
                0..=0x1f => return unsure(),
                _ => self.pos += 1,
            }
        }
        let raw = self.b.get(start..self.pos).ok_or(Fail::Unsure)?;
        self.pos += 1;
        let s = std::str::from_utf8(raw).map_err(|_| Fail::Unsure)?;
        Ok((s, escaped))
    }

    fn string(&mut self) -> Result<Cow<'a, str>, Fail> {
        let (raw, escaped) = self.raw_string()?;
        if escaped {
            decode(raw).map(Cow::Owned)
        } else {
            Ok(Cow::Borrowed(raw))
        }
    }

    fn literal(&mut self, word: &[u8]) -> Res {
        if self.b.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(())
        } else {
            unsure()
        }
    }

    /// A number, as serde_json would read it: an integer (when it has no fraction or exponent and
    /// fits i64/u64) or a finite f64.
    fn number(&mut self) -> Result<Number, Fail> {
        let start = self.pos;
        let b = self.b;
        let mut i = self.pos;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            }
            _ => return unsure(),
        }
        let mut float = false;
        if b.get(i) == Some(&b'.') {
            float = true;
            i += 1;
            if !b.get(i).is_some_and(u8::is_ascii_digit) {
                return unsure();
            }
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            float = true;
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !b.get(i).is_some_and(u8::is_ascii_digit) {
                return unsure();
            }
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        self.pos = i;
        let text = std::str::from_utf8(&b[start..i]).map_err(|_| Fail::Unsure)?;
        if !float && text.len() <= 20 {
            if let Ok(v) = text.parse::<i128>() {
                if v >= i128::from(i64::MIN) && v <= i128::from(u64::MAX) {
                    return Ok(Number::Int(v));
                }
            }
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Number::Float(f)),
            _ => unsure(),
        }
    }

    /// Skip one value quickly (no validation beyond bracket and string structure); used only
    /// to find the envelope members before the full check.
    pub(crate) fn skim(&mut self) -> Res {
        self.ws();
        let mut depth = 0u32;
        loop {
            match self.peek() {
                None => return unsure(),
                Some(b'"') => {
                    self.raw_string()?;
                }
                Some(b'{' | b'[') => {
                    depth += 1;
                    self.pos += 1;
                }
                Some(b'}' | b']') => {
                    depth = depth.checked_sub(1).ok_or(Fail::Unsure)?;
                    self.pos += 1;
                }
                Some(_) => self.pos += 1,
            }
            if depth == 0 {
                // After a scalar, stop at the next structural byte.
                while let Some(c) = self.peek() {
                    if matches!(c, b',' | b'}' | b']') || depth > 0 {
                        break;
                    }
                    self.pos += 1;
                }
                return Ok(());
            }
        }
    }

    pub(crate) fn check(&mut self, nodes: &[Node], id: NodeId) -> Res {
        let n = &nodes[id as usize];
        if n.never {
            return Err(Fail::Invalid);
        }
        self.ws();
        let start = self.pos;
        let depth = self.depth;
        let r = self.base(nodes, n);
        self.depth = depth;
        r?;
        if n.has_applicators() {
            let end = self.pos;
            for branches in &n.any_of {
                let mut outcome = Err(Fail::Invalid);
                for &b in branches {
                    self.pos = start;
                    match self.check(nodes, b) {
                        Ok(()) => {
                            outcome = Ok(());
                            break;
                        }
                        Err(Fail::Unsure) => outcome = Err(Fail::Unsure),
                        Err(Fail::Invalid) => {}
                    }
                }
                outcome?;
            }
            for &(cond, then, els) in &n.ifs {
                self.pos = start;
                let next = match self.check(nodes, cond) {
                    Ok(()) => then,
                    Err(Fail::Invalid) => els,
                    Err(Fail::Unsure) => return unsure(),
                };
                if let Some(next) = next {
                    self.pos = start;
                    self.check(nodes, next)?;
                }
            }
            for &not in &n.nots {
                self.pos = start;
                match self.check(nodes, not) {
                    Ok(()) => return Err(Fail::Invalid),
                    Err(Fail::Invalid) => {}
                    Err(Fail::Unsure) => return unsure(),
                }
            }
            self.pos = end;
        }
        Ok(())
    }

    fn base(&mut self, nodes: &[Node], n: &Node) -> Res {
        match self.peek() {
            Some(b'{') => {
                if n.types & T_OBJ == 0 {
                    return Err(Fail::Invalid);
                }
                self.object(nodes, n)
            }
            Some(b'[') => {
                if n.types & T_ARR == 0 {
                    return Err(Fail::Invalid);
                }
                self.array(nodes, n)
            }
            Some(b'"') => {
                if n.types & T_STR == 0 {
                    return Err(Fail::Invalid);
                }
                let s = self.string()?;
                check_string(n, &s)
            }
            Some(b't' | b'f') => {
                let v = self.peek() == Some(b't');
                self.literal(if v { b"true" } else { b"false" })?;
                if n.types & T_BOOL == 0 {
                    return Err(Fail::Invalid);
                }
                check_enums(n, &Lit::Bool(v))
            }
            Some(b'n') => {
                self.literal(b"null")?;
                if n.types & T_NULL == 0 {
                    return Err(Fail::Invalid);
                }
                check_enums(n, &Lit::Null)
            }
            Some(b'-' | b'0'..=b'9') => {
                let x = self.number()?;
                check_number(n, x)
            }
            _ => unsure(),
        }
    }

    fn object(&mut self, nodes: &[Node], n: &Node) -> Res {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return unsure();
        }
        self.pos += 1;
        self.ws();
        let mut seen = 0u64;
        let mut count = 0u64;
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                self.ws();
                let (key, escaped) = self.raw_string()?;
                if escaped || is_persistence_field(key) {
                    return unsure();
                }
                self.ws();
                self.expect(b':')?;
                match n.props.iter().position(|(k, _)| k == key) {
                    Some(i) => {
                        if seen & (1 << i) != 0 {
                            return unsure();
                        }
                        seen |= 1 << i;
                        self.check(nodes, n.props[i].1)?;
                    }
                    None if n.closed => return Err(Fail::Invalid),
                    None => {
                        if n.min_props.is_some() || n.max_props.is_some() {
                            // duplicates of unknown names would change the count
                            return unsure();
                        }
                        self.check(nodes, n.additional.unwrap_or(ANY))?;
                    }
                }
                count += 1;
                self.ws();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b'}') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return unsure(),
                }
            }
        }
        self.depth -= 1;
        if seen & n.required != n.required {
            return Err(Fail::Invalid);
        }
        if n.min_props.is_some_and(|m| count < m) || n.max_props.is_some_and(|m| count > m) {
            return Err(Fail::Invalid);
        }
        Ok(())
    }

    fn array(&mut self, nodes: &[Node], n: &Node) -> Res {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return unsure();
        }
        self.pos += 1;
        self.ws();
        let mut count = 0u64;
        let mut spans: Vec<(usize, usize)> = Vec::new();
        if self.peek() == Some(b']') {
            self.pos += 1;
        } else {
            loop {
                self.ws();
                let start = self.pos;
                self.check(nodes, n.items.unwrap_or(ANY))?;
                if n.unique {
                    spans.push((start, self.pos));
                }
                count += 1;
                self.ws();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b']') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return unsure(),
                }
            }
        }
        self.depth -= 1;
        if n.min_items.is_some_and(|m| count < m) || n.max_items.is_some_and(|m| count > m) {
            return Err(Fail::Invalid);
        }
        if n.unique && spans.len() > 1 {
            // Equal raw text is equal JSON for strings without escapes and the literals; anything
            // else is parsed (rare: arrays of objects) and compared as JSON Schema compares.
            let simple = spans.iter().all(|&(s, e)| {
                let raw = &self.b[s..e];
                (raw.first() == Some(&b'"') && !raw.contains(&b'\\'))
                    || matches!(raw, b"true" | b"false" | b"null")
            });
            if simple {
                for (i, &(s, e)) in spans.iter().enumerate() {
                    for &(s2, e2) in &spans[..i] {
                        if self.b[s..e] == self.b[s2..e2] {
                            return Err(Fail::Invalid);
                        }
                    }
                }
            } else {
                let mut values = Vec::with_capacity(spans.len());
                for &(s, e) in &spans {
                    let v: serde_json::Value =
                        serde_json::from_slice(&self.b[s..e]).map_err(|_| Fail::Unsure)?;
                    values.push(v);
                }
                for (i, a) in values.iter().enumerate() {
                    for b in &values[..i] {
                        if json_eq(a, b)? {
                            return Err(Fail::Invalid);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
enum Number {
    Int(i128),
    Float(f64),
}

fn check_enums(n: &Node, lit: &Lit) -> Res {
    for list in &n.enums {
        if !list.contains(lit) {
            return Err(Fail::Invalid);
        }
    }
    Ok(())
}

fn check_string(n: &Node, s: &str) -> Res {
    if n.min_len.is_some() || n.max_len.is_some() {
        let len = s.chars().count() as u64;
        if n.min_len.is_some_and(|m| len < m) || n.max_len.is_some_and(|m| len > m) {
            return Err(Fail::Invalid);
        }
    }
    for list in &n.enums {
        if !list.iter().any(|l| matches!(l, Lit::Str(x) if x == s)) {
            return Err(Fail::Invalid);
        }
    }
    for r in &n.patterns {
        let ok = if r.as_str() == super::compile::UUID {
            is_uuid(s.as_bytes())
        } else {
            r.is_match(s)
        };
        if !ok {
            return Err(Fail::Invalid);
        }
    }
    for f in &n.formats {
        if !f
            .validator
            .is_valid(&serde_json::Value::String(s.to_owned()))
        {
            return Err(Fail::Invalid);
        }
    }
    Ok(())
}

/// Exactly representable in f64 (|x| <= 2^53).
const EXACT: f64 = 9_007_199_254_740_992.0;

fn check_number(n: &Node, x: Number) -> Res {
    match x {
        Number::Int(_) if n.types & T_INT == 0 => return Err(Fail::Invalid),
        Number::Float(_) if n.types & T_NUM == 0 => {
            // jsonschema counts 1.0 as an integer: not decided here.
            return if n.types & T_INT == 0 {
                Err(Fail::Invalid)
            } else {
                unsure()
            };
        }
        _ => {}
    }
    if !n.enums.is_empty() {
        match x {
            Number::Int(i) => check_enums(n, &Lit::Int(i))?,
            Number::Float(_) => return unsure(),
        }
    }
    for &(bound, exclusive) in &n.minimum {
        let ord = compare(x, bound)?;
        if ord.is_lt() || (exclusive && ord.is_eq()) {
            return Err(Fail::Invalid);
        }
    }
    for &(bound, exclusive) in &n.maximum {
        let ord = compare(x, bound)?;
        if ord.is_gt() || (exclusive && ord.is_eq()) {
            return Err(Fail::Invalid);
        }
    }
    Ok(())
}

fn compare(x: Number, bound: Num) -> Result<std::cmp::Ordering, Fail> {
    let as_f = |v: i128| {
        #[allow(clippy::cast_precision_loss)]
        let f = v as f64;
        if f.abs() <= EXACT { Ok(f) } else { unsure() }
    };
    let (a, b) = match (x, bound) {
        (Number::Int(a), Num::I(b)) => return Ok(a.cmp(&b)),
        (Number::Int(a), Num::F(b)) => (as_f(a)?, b),
        (Number::Float(a), Num::I(b)) => (a, as_f(b)?),
        (Number::Float(a), Num::F(b)) => (a, b),
    };
    if a.abs() > EXACT || b.abs() > EXACT {
        return unsure();
    }
    a.partial_cmp(&b).ok_or(Fail::Unsure)
}

/// Decode the contents of a string with escapes; lone surrogates are refused (as serde_json does).
fn decode(raw: &str) -> Result<String, Fail> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next().ok_or(Fail::Unsure)?;
        out.push(match e {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let hi = hex4(&mut chars)?;
                if (0xD800..0xDC00).contains(&hi) {
                    if chars.next() != Some('\\') || chars.next() != Some('u') {
                        return unsure();
                    }
                    let lo = hex4(&mut chars)?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return unsure();
                    }
                    let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    char::from_u32(c).ok_or(Fail::Unsure)?
                } else {
                    char::from_u32(hi).ok_or(Fail::Unsure)?
                }
            }
            _ => return unsure(),
        });
    }
    Ok(out)
}

fn hex4(chars: &mut std::str::Chars<'_>) -> Result<u32, Fail> {
    let mut v = 0;
    for _ in 0..4 {
        let d = chars
            .next()
            .and_then(|c| c.to_digit(16))
            .ok_or(Fail::Unsure)?;
        v = v * 16 + d;
    }
    Ok(v)
}

/// JSON Schema equality (numbers by value); `Unsure` for a non-integer number.
fn json_eq(a: &serde_json::Value, b: &serde_json::Value) -> Result<bool, Fail> {
    use serde_json::Value as V;
    let int = |n: &serde_json::Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .ok_or(Fail::Unsure)
    };
    Ok(match (a, b) {
        (V::Number(x), V::Number(y)) => int(x)? == int(y)?,
        (V::Number(x), _) | (_, V::Number(x)) => {
            int(x)?;
            false
        }
        (V::Array(x), V::Array(y)) => {
            if x.len() != y.len() {
                return Ok(false);
            }
            for (p, q) in x.iter().zip(y) {
                if !json_eq(p, q)? {
                    return Ok(false);
                }
            }
            true
        }
        (V::Object(x), V::Object(y)) => {
            if x.len() != y.len() {
                return Ok(false);
            }
            for (k, p) in x {
                match y.get(k) {
                    Some(q) if json_eq(p, q)? => {}
                    _ => return Ok(false),
                }
            }
            true
        }
        _ => a == b,
    })
}

/// `^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$` without the regex
/// engine (the test `uuid_matcher_agrees_with_the_regex` keeps the two equal).
pub(crate) fn is_uuid(b: &[u8]) -> bool {
    let hex = |c: &u8| matches!(c, b'0'..=b'9' | b'a'..=b'f');
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            14 => matches!(c, b'1'..=b'8'),
            19 => matches!(c, b'8' | b'9' | b'a' | b'b'),
            _ => hex(c),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_matcher_agrees_with_the_regex() {
        let r = regex::Regex::new(super::super::compile::UUID).expect("regex");
        let base = b"0e236b5a-f872-4dc0-a2ea-1e6b8b07e756".to_vec();
        let alphabet = b"0123456789abcdefABCDEF-g\\n \xc3";
        assert!(is_uuid(&base) && r.is_match(std::str::from_utf8(&base).expect("utf8")));
        for i in 0..=base.len() {
            for &c in alphabet {
                for op in 0..3 {
                    let mut v = base.clone();
                    match op {
                        0 if i < v.len() => v[i] = c,
                        1 => v.insert(i, c),
                        2 if i < v.len() => {
                            v.remove(i);
                        }
                        _ => continue,
                    }
                    if let Ok(s) = std::str::from_utf8(&v) {
                        assert_eq!(is_uuid(&v), r.is_match(s), "{s}");
                    }
                }
            }
        }
    }
}
