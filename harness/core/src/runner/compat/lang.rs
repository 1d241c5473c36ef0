//! String languages: is there a string in one conjunction of string constraints that is in none
//! of several others? Decided on the product of dense DFAs (`regex-automata`).
//!
//! Every `pattern` is compiled from its translation to the `regex` dialect (the reference's
//! own, `jsonschema_regex::to_rust_regex`) as the language of strings it matches somewhere
//! (`(?s:.*)(?:p)(?s:.*)`, matched whole); a literal set is the alternation of its escaped
//! members; `minLength`/`maxLength` are a code-point counter carried in the product state (a
//! UTF-8 lead byte counts one). The product is explored breadth-first from the start, so a
//! witness is a shortest string; exhausting it without a witness is the proof. The left side
//! always includes `(?s:.*)`, which accepts only valid UTF-8, so every witness is a string.
//!
//! `format` is not a regular language here; the caller decides what to do with it.
#![deny(clippy::wildcard_enum_match_arm)]

use super::normal::{Str, StrC};
use regex_automata::dfa::{Automaton, dense};
use regex_automata::util::{primitives::StateID, syntax};
use regex_automata::{Anchored, Input, MatchKind};
use std::collections::{HashMap, VecDeque};

/// Product states explored before the procedure gives up (`undecided`, naming `pattern`): a
/// few patterns of ordinary size need hundreds; the bound keeps a hostile one from taking
/// seconds on the 2-core CI machine.
const MAX_STATES: usize = 100_000;
/// Bytes one compiled DFA may take: patterns in event schemas need kilobytes.
const DFA_BYTES: usize = 8 << 20;

/// What the product exploration concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Diff {
    /// No string of the left side is in none of the right sides: inclusion holds.
    Empty {
        /// Product states explored.
        states: usize,
    },
    /// A string of the left side in none of the right sides.
    Witness(String),
    /// The keyword that could not be decided.
    Unknown(String),
}

struct Machine {
    dfa: dense::DFA<Vec<u32>>,
    start: StateID,
}

/// One side: its DFAs with polarity and its length ranges with polarity.
#[derive(Clone)]
struct Side {
    dfas: Vec<(usize, bool)>,
    lens: Vec<((u64, Option<u64>), bool)>,
}

/// Compiles each distinct regex once and remembers every answer: one comparison asks about the
/// same member schemas many times (every event type shares `common.schema.json`).
#[derive(Default)]
pub(crate) struct Langs {
    machines: Vec<Machine>,
    index: HashMap<String, usize>,
    answers: HashMap<String, Diff>,
}

impl Langs {
    fn add(&mut self, regex: &str) -> Result<usize, String> {
        if let Some(i) = self.index.get(regex) {
            return Ok(*i);
        }
        let dfa = dense::Builder::new()
            .configure(
                dense::Config::new()
                    .match_kind(MatchKind::All)
                    .start_kind(regex_automata::dfa::StartKind::Anchored)
                    .dfa_size_limit(Some(DFA_BYTES))
                    .determinize_size_limit(Some(DFA_BYTES)),
            )
            .syntax(syntax::Config::new().unicode(true).utf8(true))
            .build(regex)
            .map_err(|_| "pattern".to_owned())?;
        let start = dfa
            .start_state_forward(&Input::new("").anchored(Anchored::Yes))
            .map_err(|_| "pattern".to_owned())?;
        self.machines.push(Machine { dfa, start });
        self.index.insert(regex.to_owned(), self.machines.len() - 1);
        Ok(self.machines.len() - 1)
    }

    fn side(&mut self, s: &Str, base: bool) -> Result<Side, String> {
        let mut side = Side {
            dfas: Vec::new(),
            lens: Vec::new(),
        };
        if base {
            side.dfas.push((self.add("(?s:.*)")?, true));
        }
        for (c, pos) in &s.cons {
            match c {
                StrC::Pattern { rust, .. } => {
                    side.dfas
                        .push((self.add(&format!("(?s:.*)(?:{rust})(?s:.*)"))?, *pos));
                }
                StrC::Lits(l) => {
                    let alt: Vec<String> = l.iter().map(|x| regex::escape(x)).collect();
                    side.dfas
                        .push((self.add(&format!("^(?:{})$", alt.join("|")))?, *pos));
                }
                StrC::Len { min, max } => side.lens.push(((*min, *max), *pos)),
                StrC::Format(_) => {}
            }
        }
        Ok(side)
    }
}

/// Bytes in the order witnesses prefer them: letters, digits, other printable ASCII, then the
/// rest, so a shortest witness reads well (`aaaa`, not NULs).
fn byte_order() -> impl Iterator<Item = u8> {
    (b'a'..=b'z')
        .chain(b'A'..=b'Z')
        .chain(b'0'..=b'9')
        .chain((b' '..=b'~').filter(|b| !b.is_ascii_alphanumeric()))
        .chain(0x80..=0xFF)
        .chain((0x00..b' ').chain([0x7F]))
}

fn accepts(m: &[&Machine], side: &Side, states: &[StateID], len: u64, cap: u64) -> bool {
    side.dfas.iter().all(|(i, pos)| {
        let d = &m[*i].dfa;
        d.is_match_state(d.next_eoi_state(states[*i])) == *pos
    }) && side.lens.iter().all(|((min, max), pos)| {
        // `len == cap` stands for every length >= cap, all above every finite bound.
        let inside = len >= *min && max.is_none_or(|mx| len <= mx && len < cap);
        inside == *pos
    })
}

impl Langs {
    /// A string meeting every constraint of `a` and, for each of `bs`, failing one of its
    /// constraints; or the proof that there is none. Formats are ignored on both sides (the
    /// caller removes or accounts for them).
    pub(crate) fn difference(&mut self, a: &Str, bs: &[&Str]) -> Diff {
        let key = format!("{a:?}{bs:?}");
        if let Some(d) = self.answers.get(&key) {
            return d.clone();
        }
        let d = self.run(a, bs).unwrap_or_else(Diff::Unknown);
        self.answers.insert(key, d.clone());
        d
    }

    #[allow(clippy::too_many_lines)]
    fn run(&mut self, a: &Str, bs: &[&Str]) -> Result<Diff, String> {
        let sa = self.side(a, true)?;
        let sbs = bs
            .iter()
            .map(|b| self.side(b, false))
            .collect::<Result<Vec<_>, _>>()?;
        // The machines this question uses, renumbered 0.. for the product state.
        let mut used: Vec<usize> = Vec::new();
        for (i, _) in std::iter::once(&sa)
            .chain(sbs.iter())
            .flat_map(|s| s.dfas.iter())
        {
            if !used.contains(i) {
                used.push(*i);
            }
        }
        let local = |s: &Side| Side {
            dfas: s
                .dfas
                .iter()
                .map(|(i, pos)| (used.iter().position(|u| u == i).unwrap_or(0), *pos))
                .collect(),
            lens: s.lens.clone(),
        };
        let (sa, sbs): (Side, Vec<Side>) = (local(&sa), sbs.iter().map(local).collect());
        let m: Vec<&Machine> = used.iter().map(|i| &self.machines[*i]).collect();
        explore(&m, &sa, &sbs)
    }
}

/// Breadth-first over the product of `m` (plus the length counter) for a state where `sa`
/// accepts and no side of `sbs` does.
fn explore(m: &[&Machine], sa: &Side, sbs: &[Side]) -> Result<Diff, String> {
    let cap = std::iter::once(sa)
        .chain(sbs.iter())
        .flat_map(|s| s.lens.iter())
        .flat_map(|((min, max), _)| [Some(*min), *max])
        .flatten()
        .max()
        .map_or(0, |x| x.saturating_add(1));
    // One representative byte per class of the joint partition (and per UTF-8 role, since the
    // counter reads it).
    let mut reps: Vec<u8> = Vec::new();
    let mut seen: HashMap<(Vec<u8>, bool), ()> = HashMap::new();
    for b in byte_order() {
        let sig: Vec<u8> = m.iter().map(|x| x.dfa.byte_classes().get(b)).collect();
        if seen.insert((sig, b & 0xC0 == 0x80), ()).is_none() {
            reps.push(b);
        }
    }
    let start: Vec<StateID> = m.iter().map(|x| x.start).collect();
    let a_max = sa
        .lens
        .iter()
        .filter(|(_, pos)| *pos)
        .filter_map(|((_, max), _)| *max)
        .min();
    let mut index: HashMap<(Vec<StateID>, u64), usize> = HashMap::new();
    let mut parent: Vec<(usize, u8)> = Vec::new();
    let mut queue = VecDeque::new();
    index.insert((start.clone(), 0), 0);
    parent.push((usize::MAX, 0));
    queue.push_back((start, 0u64, 0usize));
    while let Some((states, len, id)) = queue.pop_front() {
        if accepts(m, sa, &states, len, cap)
            && !sbs.iter().any(|sb| accepts(m, sb, &states, len, cap))
        {
            let mut bytes = Vec::new();
            let mut at = id;
            while parent[at].0 != usize::MAX {
                bytes.push(parent[at].1);
                at = parent[at].0;
            }
            bytes.reverse();
            return String::from_utf8(bytes)
                .map(Diff::Witness)
                .map_err(|_| "pattern".to_owned());
        }
        for &b in &reps {
            let next: Vec<StateID> = m
                .iter()
                .zip(&states)
                .map(|(x, s)| x.dfa.next_state(*s, b))
                .collect();
            // A positive left DFA that is dead can never accept again.
            if sa
                .dfas
                .iter()
                .any(|(i, pos)| *pos && m[*i].dfa.is_dead_state(next[*i]))
            {
                continue;
            }
            let nlen = if b & 0xC0 == 0x80 {
                len
            } else {
                (len + 1).min(cap)
            };
            if a_max.is_some_and(|mx| nlen > mx) {
                continue;
            }
            let key = (next, nlen);
            if index.contains_key(&key) {
                continue;
            }
            if parent.len() >= MAX_STATES {
                return Err("pattern".to_owned());
            }
            let nid = parent.len();
            parent.push((id, b));
            index.insert(key.clone(), nid);
            queue.push_back((key.0, nlen, nid));
        }
    }
    Ok(Diff::Empty {
        states: parent.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn pat(p: &str) -> Str {
        Str {
            cons: vec![(
                StrC::Pattern {
                    source: p.into(),
                    rust: jsonschema_regex::to_rust_regex(p)
                        .expect("translates")
                        .into_owned(),
                },
                true,
            )],
        }
    }

    #[rstest]
    // Every [a-c] word is an [a-z] word; not the converse.
    #[case("^[a-c]+$", "^[a-z]+$", true)]
    #[case("^[a-z]+$", "^[a-c]+$", false)]
    // Search semantics: an unanchored pattern only needs to occur.
    #[case("^abc", "b", true)]
    #[case("b", "^abc", false)]
    // ECMA \d is ASCII only, as the reference translates it.
    #[case("^\\d{2}$", "^[0-9]+$", true)]
    fn pattern_inclusion(#[case] a: &str, #[case] b: &str, #[case] holds: bool) {
        let d = Langs::default().difference(&pat(a), &[&pat(b)]);
        match d {
            Diff::Empty { .. } => assert!(holds, "{a} ⊆ {b} claimed"),
            Diff::Witness(w) => {
                assert!(!holds, "{a} ⊄ {b}: {w:?}");
                let (ra, rb) = (
                    regex::Regex::new(&jsonschema_regex::to_rust_regex(a).expect("a")).expect("a"),
                    regex::Regex::new(&jsonschema_regex::to_rust_regex(b).expect("b")).expect("b"),
                );
                assert!(ra.is_match(&w) && !rb.is_match(&w), "{w:?}");
            }
            Diff::Unknown(k) => panic!("unknown {k}"),
        }
    }

    #[test]
    fn lengths_fold_into_the_product() {
        let a = Str {
            cons: vec![
                (
                    StrC::Len {
                        min: 0,
                        max: Some(5),
                    },
                    true,
                ),
                (pat("^x+$").cons[0].0.clone(), true),
            ],
        };
        let b = Str {
            cons: vec![(
                StrC::Len {
                    min: 0,
                    max: Some(3),
                },
                true,
            )],
        };
        assert_eq!(
            Langs::default().difference(&a, &[&b]),
            Diff::Witness("xxxx".into())
        );
    }
}
