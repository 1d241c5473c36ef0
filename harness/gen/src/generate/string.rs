//! Strings: a `format` value, else a match of the first `pattern`, else free text; lengths in
//! code points.

use super::{Dead, Flat, Gen, MAX_CONSTRUCT, format, regex};
use crate::source::{Reroll, Source};

/// Draws of one string before its branch is abandoned.
const STRING_TRIES: usize = 12;
/// Tells string re-draws from `build` re-draws at the same effort count (see `Reroll`).
const STRING_SITE: u64 = 1 << 40;
/// Free text reaches this many code points past `minLength` when `maxLength` is open.
const FREE_EXTRA: u64 = 10;

const ALPHABET: &[char] = &[
    'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'k', 'm', 'n', 'o', 'p', 'r', 's', 't', 'u', 'x',
    'z', 'A', 'Q', 'Z', '0', '1', '7', '9', '-', '_', ' ', 'é', 'ß', '中', '😀',
];

pub(crate) struct StrSpec {
    pub(crate) min: u64,
    pub(crate) max: u64,
    pub(crate) patterns: Vec<String>,
    pub(crate) formats: Vec<String>,
}

impl Gen<'_> {
    pub(crate) fn str_spec(&self, flat: &Flat) -> StrSpec {
        let mut s = StrSpec {
            min: 0,
            max: u64::MAX,
            patterns: Vec::new(),
            formats: Vec::new(),
        };
        for &id in &flat.nodes {
            let Some(k) = self.kw(id) else { continue };
            if let Some(m) = k.min_length {
                s.min = s.min.max(m);
            }
            if let Some(m) = k.max_length {
                s.max = s.max.min(m);
            }
            if let Some(p) = &k.pattern {
                s.patterns.push(p.clone());
            }
            if let Some(f) = &k.format {
                s.formats.push(f.clone());
            }
        }
        s
    }

    pub(crate) fn gen_string(&mut self, flat: &Flat, src: &mut dyn Source) -> Result<String, Dead> {
        let spec = self.str_spec(flat);
        if spec.min > spec.max {
            return self.dead("`minLength`/`maxLength`");
        }
        if spec.min > MAX_CONSTRUCT {
            return self.dead(format!(
                "`minLength` {} (beyond the construction limit of {MAX_CONSTRUCT} code points)",
                spec.min
            ));
        }
        let hir = spec.patterns.first().and_then(|p| regex::parse(p));
        let alternate = hir.is_some() && !spec.formats.is_empty();
        for attempt in 0..STRING_TRIES {
            // The first try of each construction reads the source as is (minimal when exhausted).
            let retry = if alternate { attempt / 2 } else { attempt };
            let src = &mut Reroll::new(src, retry as u64, self.effort ^ STRING_SITE);
            // With both a format and a pattern, alternate: either may be the one that fits both.
            let formatted = if hir.is_none() || attempt % 2 == 0 {
                spec.formats.iter().find_map(|f| format::valid(f, src))
            } else {
                None
            };
            let s = if let Some(v) = formatted {
                v
            } else if let Some(h) = &hir {
                let mut out = String::new();
                regex::generate_at_least(h, src, &mut out, spec.min);
                out
            } else {
                free_text(src, spec.min, spec.max)
            };
            if self.string_ok(&spec, &s) {
                return Ok(s);
            }
            self.discarded += 1;
        }
        let culprit = if hir.is_some() {
            "`pattern`"
        } else if !spec.formats.is_empty() {
            "`format`"
        } else {
            "`minLength`/`maxLength`"
        };
        self.dead(culprit)
    }

    pub(crate) fn string_ok(&self, spec: &StrSpec, s: &str) -> bool {
        let n = s.chars().count() as u64;
        n >= spec.min
            && n <= spec.max
            && spec
                .patterns
                .iter()
                .all(|p| self.oracle.pattern_matches(p, s).unwrap_or(true))
            && spec
                .formats
                .iter()
                .all(|f| self.oracle.format_ok(f, s).unwrap_or(true))
    }
}

pub(crate) fn free_text(src: &mut dyn Source, min: u64, max: u64) -> String {
    let n = src.len(min, max.min(min.saturating_add(FREE_EXTRA)));
    (0..n)
        .map(|_| {
            // Mostly lowercase ASCII; the rest of the alphabet now and then.
            if src.ratio(1, 4) {
                ALPHABET[src.choose(ALPHABET.len())]
            } else {
                ALPHABET[src.choose(20)]
            }
        })
        .collect()
}
