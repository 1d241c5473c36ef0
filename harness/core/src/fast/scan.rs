//! The validating scanner: walks the bytes of one JSON value against a compiled [`Node`], never
//! building a value. `Err(Fail::Invalid)` is said only when the value certainly breaks the schema
//! (it is used inside `anyOf`, `if` and `not`); anything the scanner is not sure of (bad JSON, a
//! duplicate member, an escaped key, a number it cannot compare exactly, a persistence member) is
//! `Err(Fail::Unsure)`, and the caller then asks the reference validator.

use super::compile::{
    ANY, Lit, Node, NodeId, Num, PROBES, Plan, T_ARR, T_BOOL, T_INT, T_NULL, T_NUM, T_OBJ, T_STR,
    key_tag_at,
};
use crate::validate::is_persistence_name;
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
    /// The input. Strings are kept as bytes; UTF-8 is checked only for a string that has a
    /// non-ASCII byte (outside strings any such byte is a syntax error anyway).
    pub(crate) b: &'a [u8],
    pub(crate) pos: usize,
    depth: u32,
    /// Whether the last string read had ASCII bytes only (then its length in characters is
    /// its length in bytes).
    ascii: bool,
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `w` that ends a run of plain string bytes: `"`, `\\` or a
/// control character. The lowest set bit is exact (borrows only run upward from a match).
#[inline]
fn string_stops(w: u64) -> u64 {
    let q = w ^ (LO * u64::from(b'"'));
    let e = w ^ (LO * u64::from(b'\\'));
    ((q.wrapping_sub(LO) & !q) | (e.wrapping_sub(LO) & !e) | (w.wrapping_sub(LO * 0x20) & !w)) & HI
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
            ascii: true,
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

    /// After a member or an item: `true` past the closing `close`, `false` past a comma.
    #[inline]
    pub(crate) fn next_or_close(&mut self, close: u8) -> Result<bool, Fail> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(false)
            }
            Some(c) if c == close => {
                self.pos += 1;
                Ok(true)
            }
            _ => unsure(),
        }
    }

    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    #[inline]
    pub(crate) fn expect(&mut self, c: u8) -> Res {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            unsure()
        }
    }

    /// A string starting at `"`: its raw contents (between the quotes) and whether it has escapes.
    /// Refuses control characters as serde_json does. Eight bytes at a time between stops; a
    /// non-ASCII byte is a stop too, so that [`Scanner::ascii`] can say the string had none.
    pub(crate) fn raw_string(&mut self) -> Result<(&'a [u8], bool), Fail> {
        self.expect(b'"')?;
        let b = self.b;
        let start = self.pos;
        let mut i = start;
        let mut escaped = false;
        let mut ascii = true;
        loop {
            while let Some(word) = b.get(i..).and_then(<[u8]>::first_chunk::<8>) {
                let w = u64::from_le_bytes(*word);
                let stops = string_stops(w) | (w & HI);
                if stops != 0 {
                    i += (stops.trailing_zeros() / 8) as usize;
                    break;
                }
                i += 8;
            }
            let Some(&c) = b.get(i) else {
                return unsure();
            };
            match c {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                0..=0x1f => return unsure(),
                0x80.. => {
                    ascii = false;
                    i += 1;
                }
                _ => i += 1,
            }
        }
        let raw = b.get(start..i).ok_or(Fail::Unsure)?;
        if !ascii && std::str::from_utf8(raw).is_err() {
            return unsure(); // serde_json refuses invalid UTF-8
        }
        self.pos = i + 1;
        self.ascii = ascii;
        Ok((raw, escaped))
    }

    /// A string value as UTF-8 bytes, escapes decoded.
    fn string(&mut self) -> Result<Cow<'a, [u8]>, Fail> {
        let start = self.pos;
        let (raw, escaped) = self.raw_string()?;
        if escaped {
            let quoted = self.b.get(start..self.pos).ok_or(Fail::Unsure)?;
            decode_escaped(quoted).map(|s| Cow::Owned(s.into_bytes()))
        } else {
            Ok(Cow::Borrowed(raw))
        }
    }

    pub(crate) fn literal(&mut self, word: &[u8]) -> Res {
        if self.b.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(())
        } else {
            unsure()
        }
    }

    /// A number, as serde_json would read it: an integer (when it has no fraction or exponent and
    /// fits i64/u64) or a finite f64.
    pub(crate) fn number(&mut self) -> Result<Number, Fail> {
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
        let raw = b.get(start..i).ok_or(Fail::Unsure)?;
        if !float {
            let digits = raw.strip_prefix(b"-").unwrap_or(raw);
            if digits.len() <= 18 {
                // At most 18 digits: fits i64 exactly, no overflow possible.
                let mut v: i128 = 0;
                for d in digits {
                    v = v * 10 + i128::from(d - b'0');
                }
                return Ok(Number::Int(if digits.len() == raw.len() { v } else { -v }));
            }
        }
        // Rare from here on: long integers and every float, parsed from text.
        let text = std::str::from_utf8(raw).map_err(|_| Fail::Unsure)?;
        if !float {
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

    pub(crate) fn check(&mut self, nodes: &[Node], id: NodeId) -> Res {
        let n = &nodes[id as usize];
        if n.never {
            return Err(Fail::Invalid);
        }
        self.ws();
        let start = self.pos;
        // Where the value ends, once a complete validating scan of it has succeeded.
        let mut end = None;
        if let Some(plan) = &n.plan {
            if self.peek() == Some(b'{') && n.types & T_OBJ != 0 && n.enums.is_empty() {
                // Scan the object once, keeping the positions of the members the plan reads.
                let depth = self.depth;
                let mut seen = Seen::default();
                let r = self.object_with(nodes, n, &mut seen);
                self.depth = depth;
                r?;
                let end = self.pos;
                self.depth += 1;
                let r = self.project(nodes, plan, &seen);
                self.depth = depth;
                r?;
                self.pos = end;
                return Ok(());
            }
        }
        if !n.only_applicators {
            let depth = self.depth;
            let r = self.base(nodes, n);
            self.depth = depth;
            r?;
            end = Some(self.pos);
        }
        if n.has_applicators() {
            self.applicators(nodes, n, start, &mut end)?;
        }
        match end {
            Some(e) => self.pos = e,
            None => {
                // No branch scanned the whole value (e.g. only `not`s, all refuted): the value's
                // syntax is still to be checked before anything is said of it.
                self.pos = start;
                self.check(nodes, ANY)?;
            }
        }
        Ok(())
    }

    /// `anyOf`, `if`/`then`/`else` and `not` of `n`, each re-reading the value from `start`.
    /// `end` is set by the first sub-check that read the whole value successfully.
    fn applicators(
        &mut self,
        nodes: &[Node],
        n: &Node,
        start: usize,
        end: &mut Option<usize>,
    ) -> Res {
        self.combine(&n.any_of, &n.ifs, &n.nots, |s, &b| {
            s.pos = start;
            s.check(nodes, b)?;
            end.get_or_insert(s.pos);
            Ok(())
        })
    }

    /// How `anyOf`, `if`/`then`/`else` and `not` combine their branches' answers, whatever judges
    /// a branch (a re-read of the value, or a [`Plan`] on kept members). "Unsure" in a branch
    /// makes the whole unsure unless another `anyOf` branch certainly holds.
    fn combine<B>(
        &mut self,
        any_of: &[Vec<B>],
        ifs: &[(B, Option<B>, Option<B>)],
        nots: &[B],
        mut judge: impl FnMut(&mut Self, &B) -> Res,
    ) -> Res {
        for branches in any_of {
            let mut outcome = Err(Fail::Invalid);
            for b in branches {
                match judge(self, b) {
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
        for (cond, then, els) in ifs {
            let next = match judge(self, cond) {
                Ok(()) => then,
                Err(Fail::Invalid) => els,
                Err(Fail::Unsure) => return unsure(),
            };
            if let Some(next) = next {
                judge(self, next)?;
            }
        }
        for not in nots {
            match judge(self, not) {
                Ok(()) => return Err(Fail::Invalid),
                Err(Fail::Invalid) => {}
                Err(Fail::Unsure) => return unsure(),
            }
        }
        Ok(())
    }

    /// A [`Plan`] judged on the members of the object just scanned (`seen`): each planned
    /// member present is read again from its kept position, nothing else is.
    fn project(&mut self, nodes: &[Node], plan: &Plan, seen: &Seen<'a>) -> Res {
        if plan.refuse || seen.declared & plan.required != plan.required {
            return Err(Fail::Invalid);
        }
        for &(bit, rank, id) in &plan.members {
            if seen.declared & (1 << bit) != 0 {
                self.pos = seen.at[rank];
                self.check(nodes, id)?;
            }
        }
        self.combine(&plan.any_of, &plan.ifs, &plan.nots, |s, p| {
            s.project(nodes, p, seen)
        })
    }

    /// The top-level object of an event, in one pass: members are checked against the event
    /// type's node as soon as `event_type` and `schema_version` have been read; members before
    /// that are scanned as any JSON value, remembered, and checked (re-read) once `pick` has chosen
    /// the node.
    pub(crate) fn root(
        &mut self,
        nodes: &[Node],
        pick: impl Fn(&str, &str) -> Option<NodeId>,
    ) -> Result<Top<'a>, Fail> {
        let text = |v: &'a [u8]| std::str::from_utf8(v).map_err(|_| Fail::Unsure);
        self.ws();
        let start = self.pos;
        self.expect(b'{')?;
        self.depth += 1;
        let mut top = Top::default();
        let mut root: Option<&Node> = None;
        // (name, where its value starts, where it ends): a deferred member is scanned in full
        // (any JSON value) when met, and its re-read against the node must end at the same byte,
        // so no byte between a value and the next `,` goes unchecked.
        let mut deferred: [(Key<'a>, usize, usize); 16] = [(Key::At(0), 0, 0); 16];
        let mut waiting = 0;
        let mut seen = Seen::default();
        let mut next = 0usize;
        let mut count = 0u64;
        self.ws();
        if self.peek() == Some(b'}') {
            return unsure();
        }
        loop {
            self.ws();
            let key = match root {
                Some(n) => self.key(n, next)?,
                None => match self.raw_string()? {
                    (name, false) => Key::Raw(name),
                    (_, true) => return unsure(),
                },
            };
            let name: &[u8] = match (key, root) {
                (Key::Raw(name), _) => name,
                (Key::At(i), Some(n)) => n.props[i].0.as_bytes(),
                (Key::At(_), None) => return unsure(),
            };
            self.ws();
            self.expect(b':')?;
            self.ws();
            let at = self.pos;
            let slot = match name {
                b"event_type" => Some(&mut top.event_type),
                b"schema_version" => Some(&mut top.schema_version),
                b"event_id" => Some(&mut top.event_id),
                b"causation_id" => Some(&mut top.causation_id),
                _ => None,
            };
            if let Some(slot) = slot {
                if self.peek() == Some(b'"') {
                    let (v, escaped) = self.raw_string()?;
                    if escaped || slot.is_some() {
                        return unsure();
                    }
                    *slot = Some(text(v)?);
                    self.pos = at;
                }
            }
            if let Some(n) = root {
                self.member(nodes, n, key, &mut seen, &mut next)?;
            } else {
                let Some(d) = deferred.get_mut(waiting) else {
                    return unsure();
                };
                self.check(nodes, ANY)?;
                *d = (key, at, self.pos);
                waiting += 1;
                if let (Some(t), Some(v)) = (top.event_type, top.schema_version) {
                    let n = &nodes[pick(t, v).ok_or(Fail::Unsure)? as usize];
                    if n.never || n.types & T_OBJ == 0 || !n.enums.is_empty() {
                        return unsure();
                    }
                    let resume = self.pos;
                    for &(k, p, e) in &deferred[..waiting] {
                        self.pos = p;
                        self.member(nodes, n, k, &mut seen, &mut next)?;
                        if self.pos != e {
                            return unsure();
                        }
                    }
                    self.pos = resume;
                    root = Some(n);
                }
            }
            count += 1;
            if self.next_or_close(b'}')? {
                break;
            }
        }
        self.depth -= 1;
        let n = root.ok_or(Fail::Unsure)?;
        finish_object(n, seen.declared, count)?;
        if let Some(plan) = &n.plan {
            let end = self.pos;
            self.project(nodes, plan, &seen)?;
            self.pos = end;
        } else if n.has_applicators() {
            let mut end = Some(self.pos);
            self.applicators(nodes, n, start, &mut end)?;
            self.pos = end.unwrap_or(self.pos);
        }
        Ok(top)
    }

    /// One member of an object node `n`, the cursor on its value.
    /// Persistence metadata (`received_at`, …) anywhere is for the reference path to name: a
    /// declared name is flagged in `n.persistence` when compiled, any other name checked here.
    #[inline]
    fn member(
        &mut self,
        nodes: &[Node],
        n: &Node,
        key: Key<'a>,
        seen: &mut Seen<'a>,
        next: &mut usize,
    ) -> Res {
        let found = match key {
            Key::At(i) => Some(i),
            Key::Raw(name) => self.lookup(n, name, *next),
        };
        match found {
            Some(i) => {
                *next = i + 1;
                let bit = 1 << i;
                if (seen.declared | n.persistence) & bit != 0 {
                    return unsure(); // duplicate member: serde_json keeps the last, not decided here
                }
                seen.declared |= bit;
                if n.probe & bit != 0 {
                    seen.at[(n.probe & (bit - 1)).count_ones() as usize] = self.pos;
                }
                self.check(nodes, n.props[i].1)
            }
            None => {
                let Key::Raw(name) = key else {
                    return unsure();
                };
                if is_persistence_name(name) {
                    return unsure();
                }
                if n.closed {
                    return Err(Fail::Invalid);
                }
                // A duplicate undeclared name: serde_json keeps the last value, and an earlier
                // one judged here could flip a `not` or an `if` inside a branch.
                if seen.extra.contains(&name) || seen.extra.len() == 16 {
                    return unsure();
                }
                seen.extra.push(name);
                self.check(nodes, n.additional.unwrap_or(ANY))
            }
        }
    }

    /// The index of `name` (a slice of the input) in `n`'s property table, trying `next` first:
    /// members usually come in schema order.
    fn lookup(&self, n: &Node, name: &[u8], next: usize) -> Option<usize> {
        let start = (name.as_ptr() as usize).wrapping_sub(self.b.as_ptr() as usize);
        let tag = key_tag_at(self.b, start, name.len());
        let is = |i: usize| n.tags[i] == tag && (tag.0 <= 16 || n.props[i].0.as_bytes() == name);
        if next < n.tags.len() && is(next) {
            Some(next)
        } else {
            (0..n.tags.len()).find(|&i| is(i))
        }
    }

    /// The member name at the cursor, up to its closing quote: the expected `next` name of `n`
    /// compared in place when the table's names need no escaping (equal raw bytes are then the
    /// same name), else read and left for [`Scanner::lookup`].
    #[inline]
    fn key(&mut self, n: &Node, next: usize) -> Result<Key<'a>, Fail> {
        if n.plain_names {
            if let Some((name, _)) = n.props.get(next) {
                let name = name.as_bytes();
                let p = self.pos + 1;
                // The closing quote first: one byte rules out most wrong lengths before a memcmp.
                if self.peek() == Some(b'"')
                    && self.b.get(p + name.len()) == Some(&b'"')
                    && self.b.get(p..p + name.len()) == Some(name)
                {
                    self.pos = p + name.len() + 1;
                    return Ok(Key::At(next));
                }
            }
        }
        let (name, escaped) = self.raw_string()?;
        if escaped {
            return unsure();
        }
        Ok(Key::Raw(name))
    }

    /// A string value compared in place with what the schema expects (a UUID, or one of the
    /// enum's plain literals): `true` and the cursor past it when it is certainly valid; `false`
    /// and the cursor unmoved otherwise (the caller then reads it the general way).
    #[inline]
    fn direct_string(&mut self, n: &Node) -> bool {
        let p = self.pos + 1;
        if n.uuid_only {
            if self.b.get(p + 36) == Some(&b'"') && self.b.get(p..p + 36).is_some_and(is_uuid) {
                self.pos = p + 37;
                return true;
            }
        } else if n.plain_enum {
            if let Some(list) = n.enums.first() {
                for lit in list {
                    if let Lit::Str(l) = lit {
                        let l = l.as_bytes();
                        if self.b.get(p + l.len()) == Some(&b'"')
                            && self.b.get(p..p + l.len()) == Some(l)
                        {
                            self.pos = p + l.len() + 1;
                            return true;
                        }
                    }
                }
            }
        }
        false
    }

    fn base(&mut self, nodes: &[Node], n: &Node) -> Res {
        match self.peek() {
            Some(b'{') => {
                // Every compiled enum literal is a scalar, so an enum refuses objects and arrays.
                if n.types & T_OBJ == 0 || !n.enums.is_empty() {
                    return Err(Fail::Invalid);
                }
                self.object(nodes, n)
            }
            Some(b'[') => {
                if n.types & T_ARR == 0 || !n.enums.is_empty() {
                    return Err(Fail::Invalid);
                }
                self.array(nodes, n)
            }
            Some(b'"') => {
                if n.types & T_STR == 0 {
                    return Err(Fail::Invalid);
                }
                if (n.uuid_only || n.plain_enum) && self.direct_string(n) {
                    return Ok(());
                }
                let s = self.string()?;
                if !n.string_checks {
                    return Ok(());
                }
                // Decoded escapes may be non-ASCII whatever the raw bytes were.
                let ascii = self.ascii && matches!(s, Cow::Borrowed(_));
                check_string(n, &s, ascii)
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

    /// Past the opening bracket of an object or array, one level deeper (bounded).
    #[inline]
    pub(crate) fn enter(&mut self) -> Res {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return unsure();
        }
        self.pos += 1;
        self.ws();
        Ok(())
    }

    /// Back out of an object or array [`Scanner::enter`]ed.
    #[inline]
    pub(crate) fn leave(&mut self) {
        self.depth -= 1;
    }

    fn object(&mut self, nodes: &[Node], n: &Node) -> Res {
        let mut seen = Seen::default();
        self.object_with(nodes, n, &mut seen)
    }

    fn object_with(&mut self, nodes: &[Node], n: &Node, seen: &mut Seen<'a>) -> Res {
        self.enter()?;
        let mut next = 0usize;
        let mut count = 0u64;
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                self.ws();
                let key = self.key(n, next)?;
                self.ws();
                self.expect(b':')?;
                self.member(nodes, n, key, seen, &mut next)?;
                count += 1;
                if self.next_or_close(b'}')? {
                    break;
                }
            }
        }
        self.depth -= 1;
        finish_object(n, seen.declared, count)
    }

    fn array(&mut self, nodes: &[Node], n: &Node) -> Res {
        self.enter()?;
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
                if self.next_or_close(b']')? {
                    break;
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

/// Member names met so far in one object: declared ones as bits, up to 16 undeclared ones (more: unsure).
#[derive(Default)]
struct Seen<'a> {
    declared: u64,
    /// Where the value of each probed member (`Node::probe`) starts, by rank.
    at: [usize; PROBES],
    extra: Vec<&'a [u8]>,
}

/// A member name: its index in the node's property table, or its raw bytes.
#[derive(Clone, Copy)]
enum Key<'a> {
    At(usize),
    Raw(&'a [u8]),
}

/// The top-level members dispatch and R3 need (strings without escapes).
#[derive(Default)]
pub(crate) struct Top<'a> {
    pub(crate) event_type: Option<&'a str>,
    pub(crate) schema_version: Option<&'a str>,
    pub(crate) event_id: Option<&'a str>,
    pub(crate) causation_id: Option<&'a str>,
}

/// `required` and the member counts of an object node, after its members.
fn finish_object(n: &Node, seen: u64, count: u64) -> Res {
    if seen & n.required != n.required {
        return Err(Fail::Invalid);
    }
    if n.min_props.is_some_and(|m| count < m) || n.max_props.is_some_and(|m| count > m) {
        return Err(Fail::Invalid);
    }
    Ok(())
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Number {
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

/// `s` is valid UTF-8 (checked by [`Scanner::raw_string`] unless ASCII, or decoded).
fn check_string(n: &Node, s: &[u8], ascii: bool) -> Res {
    if n.min_len.is_some() || n.max_len.is_some() {
        // An ASCII string has as many characters as bytes; other UTF-8 strings of b bytes have
        // between ceil(b/4) and b characters: count them only when those bounds do not decide.
        let bytes = s.len() as u64;
        let decided = n.max_len.is_none_or(|m| bytes <= m)
            && n.min_len.is_none_or(|m| bytes.div_ceil(4) >= m);
        if !decided {
            let len = if ascii {
                bytes
            } else {
                // characters = bytes that are not UTF-8 continuation bytes
                s.iter().filter(|&&c| (c as i8) >= -0x40).count() as u64
            };
            if n.min_len.is_some_and(|m| len < m) || n.max_len.is_some_and(|m| len > m) {
                return Err(Fail::Invalid);
            }
        }
    }
    for list in &n.enums {
        if !list
            .iter()
            .any(|l| matches!(l, Lit::Str(x) if x.as_bytes() == s))
        {
            return Err(Fail::Invalid);
        }
    }
    if n.uuid && !is_uuid(s) {
        return Err(Fail::Invalid);
    }
    if n.timestamp && !is_timestamp(s, n.timestamp_day) {
        return Err(Fail::Invalid);
    }
    if n.version.is_some_and(|major| !is_version(s, major)) {
        return Err(Fail::Invalid);
    }
    for r in &n.patterns {
        if !r.is_match(s) {
            return Err(Fail::Invalid);
        }
    }
    if !n.formats.is_empty() {
        let s = std::str::from_utf8(s).map_err(|_| Fail::Unsure)?;
        let ok = FORMAT_ARG.with_borrow_mut(|arg| {
            // One reused `Value::String` per thread: the format validators take a `&Value`, and
            // filling a kept buffer costs a copy, not an allocation per string.
            if let serde_json::Value::String(buf) = arg {
                buf.clear();
                buf.push_str(s);
            } else {
                *arg = serde_json::Value::String(s.to_owned());
            }
            n.formats.iter().all(|f| f.validator.is_valid(arg))
        });
        if !ok {
            return Err(Fail::Invalid);
        }
    }
    Ok(())
}

thread_local! {
    static FORMAT_ARG: std::cell::RefCell<serde_json::Value> =
        const { std::cell::RefCell::new(serde_json::Value::Null) };
}

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

/// `x` against a schema bound, exactly, as the `jsonschema` crate compares (`num-cmp`: an
/// integer and a float are compared by value, never through a rounding `as f64`, so 2^53 + 1 is
/// above the bound 2^53.0).
fn compare(x: Number, bound: Num) -> Result<std::cmp::Ordering, Fail> {
    match (x, bound) {
        (Number::Int(a), Num::I(b)) => Ok(a.cmp(&b)),
        (Number::Int(a), Num::F(b)) => int_cmp_float(a, b),
        (Number::Float(a), Num::I(b)) => int_cmp_float(b, a).map(std::cmp::Ordering::reverse),
        (Number::Float(a), Num::F(b)) => a.partial_cmp(&b).ok_or(Fail::Unsure),
    }
}

/// `a` against `b` by exact value: both sides of `b`'s integer part are compared as integers,
/// then its fraction breaks a tie.
pub(crate) fn int_cmp_float(a: i128, b: f64) -> Result<std::cmp::Ordering, Fail> {
    use std::cmp::Ordering;
    /// 2^127: every finite f64 below it in magnitude truncates to an `i128` exactly.
    const LIMIT: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;
    if b.is_nan() {
        return unsure();
    }
    if b >= LIMIT {
        return Ok(Ordering::Less);
    }
    if b < -LIMIT {
        return Ok(Ordering::Greater);
    }
    let whole = b.trunc();
    // In range and integral (checked above): the conversion is exact.
    #[allow(clippy::cast_possible_truncation)]
    let w = whole as i128;
    Ok(match a.cmp(&w) {
        // Equal integer parts: `b` above its integer part means `a` below `b`.
        Ordering::Equal => whole.partial_cmp(&b).ok_or(Fail::Unsure)?,
        o => o,
    })
}

/// A JSON string with escapes (its bytes, quotes included), decoded by serde_json itself: every
/// escape, surrogate pair and refusal is then the reference parser's. Rare on the hot path.
pub(crate) fn decode_escaped(quoted: &[u8]) -> Result<String, Fail> {
    serde_json::from_slice(quoted).map_err(|_| Fail::Unsure)
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

/// Lowercase hex digits.
const HEX: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = matches!(c as u8, b'0'..=b'9' | b'a'..=b'f');
        c += 1;
    }
    t
};

/// `^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$` without the regex
/// engine (the test `uuid_matcher_agrees_with_the_regex` keeps the two equal). Branch-free over
/// the characters: random hex digits would defeat a branch predictor.
pub(crate) fn is_uuid(b: &[u8]) -> bool {
    let Some(b) = b.first_chunk::<36>().filter(|_| b.len() == 36) else {
        return false;
    };
    let hex = b.iter().enumerate().fold(true, |ok, (i, &c)| {
        ok & (HEX[c as usize] | matches!(i, 8 | 13 | 18 | 23))
    });
    hex & (b[8] == b'-')
        & (b[13] == b'-')
        & (b[18] == b'-')
        & (b[23] == b'-')
        & matches!(b[14], b'1'..=b'8')
        & matches!(b[19], b'8' | b'9' | b'a' | b'b')
}

/// `^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?Z$`
/// without the regex engine, and with `day` also the `date-time` format of the jsonschema crate,
/// which on a string of that shape only asks that the day exist in its month (leap years by the
/// Gregorian rule; the pattern already rules out second 60 and offsets). The test
/// `timestamp_matcher_agrees_with_the_pattern_and_the_format` keeps all three equal.
pub(crate) fn is_timestamp(b: &[u8], day: bool) -> bool {
    let n = b.len();
    if !(n == 20 || (22..=30).contains(&n)) {
        return false;
    }
    let d = |i: usize| u32::from(b[i].wrapping_sub(b'0'));
    let two = |i: usize| d(i) * 10 + d(i + 1);
    let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
        .iter()
        .fold(true, |ok, &i| ok & (d(i) <= 9));
    let fraction = n == 20 || (b[19] == b'.' && b[20..n - 1].iter().all(u8::is_ascii_digit));
    let (month, dd) = (two(5), two(8));
    let shape = digits
        & fraction
        & (b[4] == b'-')
        & (b[7] == b'-')
        & (b[10] == b'T')
        & (b[13] == b':')
        & (b[16] == b':')
        & (b[n - 1] == b'Z')
        & (1..=12).contains(&month)
        & (1..=31).contains(&dd)
        & (two(11) <= 23)
        & (two(14) <= 59)
        & (two(17) <= 59);
    if !shape || !day {
        return shape;
    }
    let year = two(0) * 100 + two(2);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let last = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    dd <= last
}

/// `^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`, and with `major` also `^N\.(0|[1-9][0-9]*)$` for that N,
/// without the regex engine (the test `version_matcher_agrees_with_the_regexes` keeps them equal).
pub(crate) fn is_version(b: &[u8], major: Option<u64>) -> bool {
    let Some(dot) = b.iter().position(|&c| c == b'.') else {
        return false;
    };
    let number = |p: &[u8]| {
        !p.is_empty() && p.iter().all(u8::is_ascii_digit) && (p.len() == 1 || p[0] != b'0')
    };
    let (m, minor) = (&b[..dot], &b[dot + 1..]);
    number(m)
        && number(minor)
        && major.is_none_or(|want| {
            std::str::from_utf8(m)
                .ok()
                .and_then(|t| t.parse::<u64>().ok())
                == Some(want)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every one-byte edit of `base`: each byte replaced by, and each position given, each byte
    /// of `alphabet`; each byte removed.
    fn edits(base: &[u8], alphabet: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for i in 0..=base.len() {
            for &c in alphabet {
                let mut v = base.to_vec();
                v.insert(i, c);
                out.push(v);
                if i < base.len() {
                    let mut v = base.to_vec();
                    v[i] = c;
                    out.push(v);
                }
            }
            if i < base.len() {
                let mut v = base.to_vec();
                v.remove(i);
                out.push(v);
            }
        }
        out
    }

    #[test]
    fn timestamp_matcher_agrees_with_the_pattern_and_the_format() {
        let re = regex::Regex::new(super::super::compile::TIMESTAMP).expect("regex");
        let format = crate::registry::validator_options()
            .build(&serde_json::json!({ "format": "date-time" }))
            .expect("format validator");
        let check = |s: &str| {
            let shape = re.is_match(s);
            let valid = shape && format.is_valid(&serde_json::Value::String(s.to_owned()));
            assert_eq!(is_timestamp(s.as_bytes(), false), shape, "shape of {s}");
            assert_eq!(is_timestamp(s.as_bytes(), true), valid, "date-time of {s}");
        };
        // Every month and day 00..=32 of years around every leap-year rule.
        let years = (0..=12)
            .chain(96..=104)
            .chain(1896..=1904)
            .chain(1996..=2032)
            .chain(2096..=2104)
            .chain(2396..=2404)
            .chain(9995..=9999);
        for y in years {
            for m in 0..=13 {
                for dd in 0..=32 {
                    check(&format!("{y:04}-{m:02}-{dd:02}T12:34:56Z"));
                }
            }
        }
        // Each character of a few timestamps replaced, dropped or doubled.
        let alphabet = b"0123456789-:.TtZz+ x";
        for base in [
            "2024-02-29T23:59:59Z",
            "2023-12-31T00:00:00.123456789Z",
            "2025-11-05T22:05:12.6Z",
        ] {
            for v in edits(base.as_bytes(), alphabet) {
                check(std::str::from_utf8(&v).expect("ascii"));
            }
        }
        for t in ["24", "23", "00"] {
            for ms in ["59", "60", "61", "00"] {
                check(&format!("2024-01-01T{t}:{ms}:{ms}Z"));
            }
        }
        check("2024-01-01T12:00:00.1234567890Z");
    }

    #[test]
    fn version_matcher_agrees_with_the_regexes() {
        use super::super::compile::VERSION;
        let any = regex::Regex::new(VERSION).expect("regex");
        let one = regex::Regex::new(r"^1\.(0|[1-9][0-9]*)$").expect("regex");
        let twelve = regex::Regex::new(r"^12\.(0|[1-9][0-9]*)$").expect("regex");
        let alphabet = ["0", "1", "2", "9", ".", "-", "a", " ", "é"];
        let mut strings = vec![String::new()];
        for _ in 0..5 {
            let mut next = Vec::new();
            for s in &strings {
                for c in alphabet {
                    next.push(format!("{s}{c}"));
                }
            }
            strings.extend(next);
        }
        strings.extend(
            ["12.0", "12.34", "012.1", "1.0\n", "18446744073709551617.1"].map(String::from),
        );
        for s in &strings {
            let b = s.as_bytes();
            assert_eq!(is_version(b, None), any.is_match(s), "{s:?}");
            assert_eq!(
                is_version(b, Some(1)),
                any.is_match(s) && one.is_match(s),
                "{s:?}"
            );
            assert_eq!(
                is_version(b, Some(12)),
                any.is_match(s) && twelve.is_match(s),
                "{s:?}"
            );
        }
    }

    #[test]
    fn uuid_matcher_agrees_with_the_regex() {
        let r = regex::Regex::new(super::super::compile::UUID).expect("regex");
        let base = b"0e236b5a-f872-4dc0-a2ea-1e6b8b07e756".to_vec();
        let alphabet = b"0123456789abcdefABCDEF-g\\n \xc3";
        assert!(is_uuid(&base) && r.is_match(std::str::from_utf8(&base).expect("utf8")));
        for v in edits(&base, alphabet) {
            if let Ok(s) = std::str::from_utf8(&v) {
                assert_eq!(is_uuid(&v), r.is_match(s), "{s}");
            }
        }
    }
}
