//! Numbers: the intersection of every bound, then a multiple of every `multipleOf` inside it.
//!
//! Invariant: an emitted number also passes Python `jsonschema`'s `multipleOf`, which divides
//! floats (`instance / dB` must be integral when `dB` is a float), see [`py_multiple_ok`].

use super::{Dead, Flat, Gen};
use crate::source::{Reroll, Source};
use serde_json::{Number, Value};

/// Half-width of the window an unbounded side draws from.
const WINDOW: f64 = 1000.0;
/// Multiples tried before giving up on one number.
const MULTIPLE_TRIES: usize = 16;
/// Tells number re-draws from other re-draws at the same effort count (see `Reroll`).
const NUMBER_SITE: u64 = 2 << 40;
/// Largest magnitude written as a JSON integer (beyond it, f64 loses integers).
const EXACT_INT: f64 = 9_007_199_254_740_992.0;

/// Does `v` pass Python's `multipleOf` check for divisor `m` (`m_float`: written with a fraction)?
#[must_use]
pub(crate) fn py_multiple_ok(v: f64, m: f64, m_float: bool) -> bool {
    if m == 0.0 {
        return false;
    }
    if m_float || v.fract() != 0.0 {
        if m_float {
            let q = v / m;
            return q.is_finite() && q.trunc() == q;
        }
        return v % m == 0.0;
    }
    v % m == 0.0
}

pub(crate) struct Bounds {
    pub(crate) lo: f64,
    pub(crate) lo_excl: bool,
    pub(crate) hi: f64,
    pub(crate) hi_excl: bool,
    pub(crate) multiples: Vec<(f64, bool)>,
}

impl Bounds {
    pub(crate) fn admits(&self, v: f64) -> bool {
        let lo_ok = if self.lo_excl {
            v > self.lo
        } else {
            v >= self.lo
        };
        let hi_ok = if self.hi_excl {
            v < self.hi
        } else {
            v <= self.hi
        };
        lo_ok
            && hi_ok
            && self
                .multiples
                .iter()
                .all(|&(m, f)| py_multiple_ok(v, m, f) && rust_multiple_ok(v, m))
    }
}

fn rust_multiple_ok(v: f64, m: f64) -> bool {
    if v.fract() == 0.0 && m.fract() == 0.0 {
        return v % m == 0.0;
    }
    let q = v / m;
    q.is_finite() && (q - q.round()).abs() < f64::EPSILON * q.abs().max(1.0)
}

impl Gen<'_> {
    pub(crate) fn bounds(&self, flat: &Flat) -> Bounds {
        let mut b = Bounds {
            lo: f64::NEG_INFINITY,
            lo_excl: false,
            hi: f64::INFINITY,
            hi_excl: false,
            multiples: Vec::new(),
        };
        for &id in &flat.nodes {
            let Some(k) = self.kw(id) else { continue };
            if let Some(m) = k.minimum {
                if m > b.lo {
                    b.lo = m;
                    b.lo_excl = false;
                }
            }
            if let Some(m) = k.exclusive_minimum {
                if m >= b.lo {
                    b.lo = m;
                    b.lo_excl = true;
                }
            }
            if let Some(m) = k.maximum {
                if m < b.hi {
                    b.hi = m;
                    b.hi_excl = false;
                }
            }
            if let Some(m) = k.exclusive_maximum {
                if m <= b.hi {
                    b.hi = m;
                    b.hi_excl = true;
                }
            }
            if let Some(m) = k.multiple_of {
                b.multiples.push((m, k.multiple_of_float));
            }
        }
        b
    }

    pub(crate) fn gen_number(
        &mut self,
        flat: &Flat,
        src: &mut dyn Source,
        integer: bool,
    ) -> Result<Value, Dead> {
        let b = self.bounds(flat);
        let (lo, hi) = window(&b, src);
        if lo > hi {
            return self.dead("`minimum`/`maximum`");
        }
        for attempt in 0..MULTIPLE_TRIES {
            let src = &mut Reroll::new(src, attempt as u64, self.effort ^ NUMBER_SITE);
            let v = if let Some(&(m, _)) = b.multiples.first() {
                let m = m.abs();
                let klo = (lo / m).ceil();
                let khi = (hi / m).floor();
                if klo > khi {
                    return self.dead("`multipleOf`");
                }
                let k = pick_int(klo, khi, src);
                let v = k * m;
                // Round away float noise (0.1 * 3); the checks below decide.
                let r = round_sig(v);
                if b.admits(r) { r } else { v }
            } else if integer {
                let ilo = lo.ceil();
                let ihi = hi.floor();
                if ilo > ihi {
                    return self.dead("`minimum`/`maximum` (integer)");
                }
                pick_int(ilo, ihi, src)
            } else {
                let u = src.unit();
                let v = lo + (hi - lo) * u;
                let r = (v * 100.0).round() / 100.0;
                if b.admits(r) { r } else { v }
            };
            let v = if integer && attempt > 0 && v.fract() != 0.0 {
                v.round()
            } else {
                v
            };
            if b.admits(v) && (!integer || v.fract() == 0.0) {
                return Ok(to_json(v, integer));
            }
            self.discarded += 1;
        }
        self.dead(if b.multiples.is_empty() {
            "`minimum`/`maximum`"
        } else {
            "`multipleOf`"
        })
    }
}

fn round_sig(v: f64) -> f64 {
    let s = format!("{v:.12}");
    s.parse::<f64>().unwrap_or(v)
}

fn pick_int(lo: f64, hi: f64, src: &mut dyn Source) -> f64 {
    let span = hi - lo;
    if span <= 0.0 {
        return lo;
    }
    if span < 1e15 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let k = src.draw(span as u64);
        #[allow(clippy::cast_precision_loss)]
        return lo + k as f64;
    }
    (lo + span * src.unit()).floor().clamp(lo, hi)
}

/// The part of the admitted interval to draw from: around 0 when it is unbounded, near the bound
/// when one side is open.
fn window(b: &Bounds, src: &mut dyn Source) -> (f64, f64) {
    let mut lo = if b.lo_excl { next_up(b.lo) } else { b.lo };
    let mut hi = if b.hi_excl { next_down(b.hi) } else { b.hi };
    // Beyond 2^53 a bound read as f64 may sit past the exact integer it was written as: step inward.
    if lo.is_finite() && lo.abs() >= EXACT_INT {
        lo += lo.abs() * 1e-15;
    }
    if hi.is_finite() && hi.abs() >= EXACT_INT {
        hi -= hi.abs() * 1e-15;
    }
    let width = if src.ratio(1, 6) {
        WINDOW * 1000.0
    } else {
        WINDOW
    };
    match (lo.is_finite(), hi.is_finite()) {
        (true, true) => (lo, hi),
        (true, false) => (lo, lo + width),
        (false, true) => (hi - width, hi),
        (false, false) => {
            if src.ratio(1, 3) {
                (-width, 0.0)
            } else {
                (0.0, width)
            }
        }
    }
}

fn next_up(x: f64) -> f64 {
    x + tiny(x)
}

fn next_down(x: f64) -> f64 {
    x - tiny(x)
}

/// A step above float noise at magnitude `x`, small enough to stay inside tight intervals.
fn tiny(x: f64) -> f64 {
    (x.abs() * 1e-12).max(1e-9)
}

fn to_json(v: f64, integer: bool) -> Value {
    let _ = integer;
    if v.fract() == 0.0 && v.abs() < EXACT_INT {
        #[allow(clippy::cast_possible_truncation)]
        return Value::from(v as i64);
    }
    Number::from_f64(v).map_or(Value::Null, Value::Number)
}
