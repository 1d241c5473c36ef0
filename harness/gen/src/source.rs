//! The choice interface every generator draws from, and its three entropy sources.
//!
//! Invariant: a choice of `0` is always the simplest option (shortest length, first branch,
//! lowest value), so a source that answers `0` once exhausted makes generation terminate on the
//! minimal instance, and shrinking a choice sequence towards zeros shrinks the instance
//! (the design Hypothesis uses; see `docs/generation.md`).
//!
//! Invariant: a finite source that has run out repeats itself (every answer `0`), so a re-draw
//! after a rejected candidate goes through [`Reroll`], which answers an exhausted source's draws
//! from a stream derived from the retry instead: the first try of every construct is the minimal
//! one, and a retry is never a copy of the candidate it replaces. A live source (`RngSource`, or a
//! `ChoiceSource` with choices left) passes through `Reroll` untouched.

/// A stream of bounded choices. One interpreter (the generator) reads any of them.
pub trait Source {
    /// A choice in `0..=max`; `0` is the simplest answer.
    fn draw(&mut self, max: u64) -> u64;

    /// Has a finite source run out, so that every further answer is `0`? (An endless source:
    /// never.)
    fn exhausted(&self) -> bool {
        false
    }

    /// An integer in `lo..=hi` (`lo` when `hi < lo`), `lo` being the simplest.
    fn int_in_range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            lo + self.draw(hi - lo)
        }
    }

    /// An index into `n` options (`n >= 1`); 0 is the simplest.
    fn choose(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        usize::try_from(self.draw((n - 1) as u64)).unwrap_or(0)
    }

    /// True with probability `num/den`; the simplest answer is `false`.
    fn ratio(&mut self, num: u64, den: u64) -> bool {
        den > 0 && self.draw(den - 1) >= den - num.min(den)
    }

    /// A length in `min..=max`, biased to short: long lengths are reachable but rare.
    fn len(&mut self, min: u64, max: u64) -> u64 {
        if max <= min {
            return min;
        }
        let span = max - min;
        // Two draws: a small window most of the time, the full span sometimes.
        let window = if self.ratio(1, 8) {
            span
        } else {
            span.min(SHORT_WINDOW)
        };
        min + self.draw(window)
    }

    /// A float in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let x = self.draw((1 << 53) - 1) as f64;
        x / (1u64 << 53) as f64
    }
}

/// Most lengths fall within this many of their minimum: enough variety, and instances stay small
/// enough to read in a failing test's report.
const SHORT_WINDOW: u64 = 6;

/// A seeded SplitMix64 stream: the CLI's source. Same seed, same choices, on every platform.
#[derive(Debug, Clone)]
pub struct RngSource {
    state: u64,
}

impl RngSource {
    /// A source seeded with `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            state: seed ^ 0x9E37_79B9_7F4A_7C15,
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Source for RngSource {
    fn draw(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let r = self.next_u64();
        if max == u64::MAX { r } else { r % (max + 1) }
    }
}

/// Re-draw number `retry` at some place (`site`, any number that tells places apart): a live
/// source is read as is; once it is exhausted, the answers come from a SplitMix stream seeded by
/// `(retry, site)`, so the re-draw differs from the all-zeros candidate it replaces. Retry `0` (the
/// first try) is always the source itself. Deterministic: the same sequence, the same value.
pub(crate) struct Reroll<'s> {
    inner: &'s mut dyn Source,
    tail: Option<RngSource>,
}

impl<'s> Reroll<'s> {
    pub(crate) fn new(inner: &'s mut dyn Source, retry: u64, site: u64) -> Self {
        let tail = (retry > 0).then(|| {
            RngSource::new(
                retry.wrapping_mul(0xD6E8_FEB8_6659_FD93).rotate_left(29)
                    ^ site.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            )
        });
        Self { inner, tail }
    }
}

impl Source for Reroll<'_> {
    fn draw(&mut self, max: u64) -> u64 {
        match &mut self.tail {
            Some(t) if self.inner.exhausted() => t.draw(max),
            _ => self.inner.draw(max),
        }
    }

    fn exhausted(&self) -> bool {
        // Its own stream never ends (a nested re-draw continues it); without one, it is the inner.
        self.tail.is_none() && self.inner.exhausted()
    }
}

/// Replays a recorded choice sequence, then answers `0`: proptest draws and shrinks the sequence.
#[derive(Debug, Clone)]
pub struct ChoiceSource<'a> {
    choices: &'a [u64],
    pos: usize,
}

impl<'a> ChoiceSource<'a> {
    /// A source reading `choices` in order.
    #[must_use]
    pub fn new(choices: &'a [u64]) -> Self {
        Self { choices, pos: 0 }
    }
}

impl Source for ChoiceSource<'_> {
    fn draw(&mut self, max: u64) -> u64 {
        let Some(c) = self.choices.get(self.pos) else {
            return 0;
        };
        self.pos += 1;
        if max == u64::MAX { *c } else { c % (max + 1) }
    }

    fn exhausted(&self) -> bool {
        self.pos >= self.choices.len()
    }
}

/// Reads choices from fuzzer bytes (`cargo fuzz`); an exhausted buffer answers `0`.
#[derive(Debug)]
pub struct UnstructuredSource<'a, 'b> {
    u: &'b mut arbitrary::Unstructured<'a>,
}

impl<'a, 'b> UnstructuredSource<'a, 'b> {
    /// A source over `u`.
    pub fn new(u: &'b mut arbitrary::Unstructured<'a>) -> Self {
        Self { u }
    }
}

impl Source for UnstructuredSource<'_, '_> {
    fn draw(&mut self, max: u64) -> u64 {
        self.u.int_in_range(0..=max).unwrap_or(0)
    }

    fn exhausted(&self) -> bool {
        self.u.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_choices() {
        let mut a = RngSource::new(7);
        let mut b = RngSource::new(7);
        for max in [1, 5, 100, u64::MAX] {
            assert_eq!(a.draw(max), b.draw(max));
        }
    }

    #[test]
    fn exhausted_choice_source_is_minimal() {
        let mut s = ChoiceSource::new(&[]);
        assert_eq!(s.len(3, 10), 3);
        assert!(!s.ratio(1, 2));
    }

    #[test]
    fn reroll_is_transparent_for_live_sources_and_fresh_for_exhausted_ones() {
        let mut a = RngSource::new(5);
        let mut b = RngSource::new(5);
        let mut r = Reroll::new(&mut b, 3, 9);
        for max in [1, 7, 1000, u64::MAX] {
            assert_eq!(a.draw(max), r.draw(max));
        }
        let choices = [4u64];
        let mut c = ChoiceSource::new(&choices);
        let mut first = Reroll::new(&mut c, 0, 9);
        assert_eq!(first.draw(10), 4);
        assert_eq!(
            first.draw(10),
            0,
            "the first try of an exhausted source is minimal"
        );
        let mut again = Reroll::new(&mut c, 1, 9);
        assert!(!again.exhausted());
        let drawn: Vec<u64> = (0..8).map(|_| again.draw(1000)).collect();
        assert!(
            drawn.iter().any(|&d| d != 0),
            "a retry is not the zeros again"
        );
    }
}
