//! Strings that match an ECMA-262 `pattern`, built from the `regex-syntax` HIR of the pattern.
//!
//! Invariants: characters come from the printable ASCII part of a class when it has one (so Python
//! `re` and Rust `regex` agree on them, `\d`/`\w` being Unicode-aware in Python); look-around
//! assertions are zero-width and emit nothing; a pattern `regex-syntax` cannot parse yields `None`
//! and the caller falls back to free strings filtered by the oracle.

use crate::source::Source;
use regex_syntax::hir::{Class, Hir, HirKind};

/// An unbounded repetition (`*`, `+`, `{n,}`) repeats at most this many extra times.
const MAX_EXTRA_REPEAT: u64 = 5;

/// Parse `pattern`; `None` when it uses syntax outside what `regex-syntax` reads.
pub(crate) fn parse(pattern: &str) -> Option<Hir> {
    regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .ok()
}

/// A string matched by `hir` (ignoring anchors), drawn from `src`.
pub(crate) fn generate(hir: &Hir, src: &mut dyn Source, out: &mut String) {
    generate_at_least(hir, src, out, 0);
}

/// A string matched by `hir` (ignoring anchors), drawn from `src`, whose unbounded repetitions
/// go on until the string holds `want` code points (a `minLength` beside the `pattern`), when
/// the pattern allows it.
pub(crate) fn generate_at_least(hir: &Hir, src: &mut dyn Source, out: &mut String, want: u64) {
    let mut sink = Sink {
        out,
        chars: 0,
        want,
    };
    sink.chars = sink.out.chars().count() as u64;
    walk(hir, src, &mut sink);
}

/// The string being built and its length in code points (counted once, not per repetition).
struct Sink<'o> {
    out: &'o mut String,
    chars: u64,
    want: u64,
}

impl Sink<'_> {
    fn push(&mut self, c: char) {
        self.out.push(c);
        self.chars += 1;
    }
}

fn walk(hir: &Hir, src: &mut dyn Source, sink: &mut Sink<'_>) {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(lit) => {
            for c in String::from_utf8_lossy(&lit.0).chars() {
                sink.push(c);
            }
        }
        HirKind::Class(class) => {
            if let Some(c) = class_char(class, src) {
                sink.push(c);
            }
        }
        HirKind::Repetition(rep) => {
            let min = u64::from(rep.min);
            let max = rep.max.map_or(min + MAX_EXTRA_REPEAT, |m| {
                u64::from(m).min(min + MAX_EXTRA_REPEAT)
            });
            let n = src.int_in_range(min, max);
            for _ in 0..n {
                walk(&rep.sub, src, sink);
            }
            // Short of the wanted length: an open-ended repetition goes on (at most `want` more
            // times, so a sub-pattern that matches the empty string cannot spin).
            let limit = rep.max.map_or(u64::MAX, u64::from);
            let mut more = 0;
            while sink.chars < sink.want && n + more < limit && more < sink.want {
                let before = sink.chars;
                walk(&rep.sub, src, sink);
                more += 1;
                if sink.chars == before && more > 1 {
                    break;
                }
            }
        }
        HirKind::Capture(cap) => walk(&cap.sub, src, sink),
        HirKind::Concat(parts) => {
            for p in parts {
                walk(p, src, sink);
            }
        }
        HirKind::Alternation(alts) => {
            let i = src.choose(alts.len());
            if let Some(a) = alts.get(i) {
                walk(a, src, sink);
            }
        }
    }
}

fn class_char(class: &Class, src: &mut dyn Source) -> Option<char> {
    let ranges: Vec<(u32, u32)> = match class {
        Class::Unicode(u) => u
            .ranges()
            .iter()
            .map(|r| (u32::from(r.start()), u32::from(r.end())))
            .collect(),
        Class::Bytes(b) => b
            .ranges()
            .iter()
            .map(|r| (u32::from(r.start()), u32::from(r.end().min(0x7F))))
            .filter(|(s, e)| s <= e)
            .collect(),
    };
    if ranges.is_empty() {
        return None;
    }
    // Prefer printable ASCII; reach beyond it once in a while (code points count, not bytes).
    let ascii: Vec<(u32, u32)> = ranges
        .iter()
        .filter_map(|&(s, e)| {
            let (s, e) = (s.max(0x21), e.min(0x7E));
            (s <= e).then_some((s, e))
        })
        .collect();
    let pool = if !ascii.is_empty() && !src.ratio(1, 16) {
        &ascii
    } else {
        &ranges
    };
    let total: u64 = pool.iter().map(|&(s, e)| u64::from(e - s) + 1).sum();
    let mut k = src.draw(total.saturating_sub(1));
    for &(s, e) in pool {
        let size = u64::from(e - s) + 1;
        if k < size {
            let code = s + u32::try_from(k).ok()?;
            return char::from_u32(code).or_else(|| char::from_u32(s));
        }
        k -= size;
    }
    char::from_u32(pool[0].0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::RngSource;
    use rstest::rstest;

    #[rstest]
    #[case::digits("^[0-9]{3}-[a-z]+$")]
    #[case::alternation("^(foo|bar)baz?$")]
    #[case::unicode_class("^\\p{L}+$")]
    fn generated_strings_parse_back(#[case] pattern: &str) {
        let hir = parse(pattern).expect("test patterns parse");
        let mut src = RngSource::new(3);
        let mut s = String::new();
        generate(&hir, &mut src, &mut s);
        assert!(!s.is_empty() || pattern.is_empty());
    }
}
