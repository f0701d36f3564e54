//! Price-level arrays: `[["<price>","<qty>"],...]` into a preallocated
//! [`LevelBuf`].
//!
//! [`Cursor::levels`] reads a whole array. Levels in the eight-decimal form
//! ([`Wire8`]) take the fast loop: each is read from a fixed 48-byte window
//! at offsets fixed by a [`PriceShape`] guess that the caller carries from
//! side to side and frame to frame; the guess is only checked, never
//! trusted, so a wrong one costs a re-measure and never changes an answer.
//! A level in any other form is read by the general parser, and the rest of
//! the array with it.
//!
//! Like every reader in [`crate::venue::scan`], these never report an
//! error: `None` means "let the tape path decide" (including a full buffer,
//! whose limit the tape path reports), and the buffer may then hold partial
//! output, which the caller clears.
//!
//! Only `[price, quantity]` pairs of strings are read; a level with more
//! elements, or bare numbers, is refused (`None`).

use super::cursor::Cursor;
use super::number::{Wire8, positive};
use crate::book::Level;
use crate::types::swar::{ZEROS, load8, nondigits};
use crate::types::{Price, Qty, Scaling};

/// One side's parsed levels, in storage for `max_levels` allocated at
/// construction: a push is a store plus the bounds check that doubles as the
/// level limit (a `Vec` would check its capacity and our limit separately).
#[derive(Debug)]
pub(crate) struct LevelBuf {
    slots: Box<[Level]>,
    len: usize,
}

impl LevelBuf {
    /// Room for `max` levels.
    pub(crate) fn new(max: usize) -> LevelBuf {
        let empty = Level {
            price: Price::ZERO,
            qty: Qty::ZERO,
        };
        LevelBuf {
            slots: vec![empty; max].into_boxed_slice(),
            len: 0,
        }
    }

    /// Appends `level`; `None` when the buffer is full.
    #[inline(always)]
    pub(crate) fn push(&mut self, level: Level) -> Option<()> {
        *self.slots.get_mut(self.len)? = level;
        self.len += 1;
        Some(())
    }

    /// Forgets every level.
    #[inline]
    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    /// The levels pushed since the last clear.
    #[inline]
    pub(crate) fn as_slice(&self) -> &[Level] {
        &self.slots[..self.len]
    }
}

/// A guess at the number of integer digits of the next level's price.
///
/// Why: where the quantity starts depends on the price's length, and where
/// the next level starts on the quantity's, so measuring every length puts
/// two load-to-tzcnt chains per level on the loop's critical path. Adjacent
/// levels' prices almost always have as many integer digits (in the
/// captures they never differ), so the price is read at offsets fixed by the
/// guess and the guess is only *checked*: the check is a predicted branch,
/// and the loads no longer wait for it. Quantities' lengths do vary (about
/// every other level in the captures), so they are measured.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PriceShape {
    /// Integer digits, 1..=7 (read through `& 7`, which lets the compiler
    /// prove the offsets stay inside a level's window).
    n: usize,
    /// `nondigits` flags of bytes 0..=n.
    flags: u64,
    /// The flag of byte n alone: bytes 0..n are digits, byte n is not.
    first_nondigit: u64,
}

impl Default for PriceShape {
    fn default() -> Self {
        PriceShape::new(1)
    }
}

impl PriceShape {
    fn new(n: usize) -> PriceShape {
        let n = n.clamp(1, 7);
        PriceShape {
            n,
            flags: 0x8080_8080_8080_8080 >> (8 * (7 - n)),
            first_nondigit: 0x80 << (8 * n),
        }
    }

    /// The price at `at` if it has this shape (see [`Wire8::number`]).
    #[inline(always)]
    fn read(&self, w: &Wire8, b: &[u8], at: usize) -> Option<(i64, usize)> {
        let lo = load8(b, at)?;
        let d = lo ^ ZEROS;
        let n = self.n & 7;
        let dot = (d >> (8 * n)) as u8 == b'.' ^ b'0';
        if !dot | (nondigits(lo) & self.flags != self.first_nondigit) {
            return None;
        }
        let frac_at = at + n + 1;
        let v = w.value(d, 8 * n as u32 + 7, load8(b, frac_at)?)?;
        Some((v, frac_at + 8))
    }
}

/// Bytes a level can span in the eight-decimal form, the byte after it, and
/// the slack the readers below load past it, rounded up: within a window of
/// this many bytes every offset is provably in bounds, so the compiler
/// drops the checks.
const LEVEL_WINDOW: usize = 48;

/// `["<wire8>","<wire8>"]` at the start of `w`, the price of shape
/// `shape`: the level and its length. Inlined into a fixed 48-byte window
/// (no bounds checks) and into the frame's last bytes (checked).
#[inline(always)]
fn level_wire8(w: &[u8], price: &Wire8, qty: &Wire8, shape: &PriceShape) -> Option<(Level, usize)> {
    if w.get(..2)? != b"[\"" {
        return None;
    }
    let (p, p_end) = shape.read(price, w, 2)?;
    level_rest(w, p, p_end, qty)
}

/// The rest of a level after its price: `","<wire8>"]`.
#[inline(always)]
fn level_rest(w: &[u8], p: i64, p_end: usize, qty: &Wire8) -> Option<(Level, usize)> {
    // `","` then the quantity's first byte.
    let sep = u32::from_le_bytes(*w.get(p_end..)?.first_chunk::<4>()?);
    if sep & 0x00FF_FFFF != u32::from_le_bytes(*b"\",\"\0") {
        return None;
    }
    let (q, q_end) = qty.number(w, p_end + 3)?;
    if w.get(q_end..q_end + 2)? != b"\"]" {
        return None;
    }
    // A zero price is read like any other in this form; the tape path
    // reports it, and `bounded` then promises prices of at least 1.
    if p == 0 {
        return None;
    }
    let level = Level {
        price: Price(p),
        qty: Qty(q),
    };
    Some((level, q_end + 2))
}

/// The guess for a level whose price did not have the guessed shape: the
/// price measured (`None` if it is not in the eight-decimal form). Only the
/// guess comes back, and the caller reads the level again with it, so the
/// usual path's result never goes through memory.
#[cold]
#[inline(never)]
fn price_shape(w: &[u8], price: &Wire8) -> Option<PriceShape> {
    if w.get(..2)? != b"[\"" {
        return None;
    }
    let (_, p_end) = price.number(w, 2)?;
    // `["` + n digits + `.` + 8 decimals.
    Some(PriceShape::new(p_end - 11))
}

impl Cursor<'_> {
    /// `["<decimal>","<decimal>"]` in any form the general parser reads.
    #[cold]
    #[inline(never)]
    fn level_general(&mut self, scaling: Scaling) -> Option<Level> {
        self.eat(b'[')?;
        let p = positive(self.decimal(None, scaling.price, false)?)?;
        self.eat(b',')?;
        let q = self.decimal(None, scaling.qty, false)?;
        self.eat(b']')?;
        Some(Level {
            price: Price(p),
            qty: Qty(q),
        })
    }

    /// `[["p","q"],...]` into `out`; true when every level was read by
    /// [`Wire8`]. `shape` is the price-length guess, carried from side to
    /// side and frame to frame. Not inlined: one copy serves both sides.
    #[inline(never)]
    pub(crate) fn levels(
        &mut self,
        scaling: Scaling,
        out: &mut LevelBuf,
        shape: &mut PriceShape,
    ) -> Option<bool> {
        self.eat(b'[')?;
        if self.eat(b']').is_some() {
            return Some(true);
        }
        let mut bounded = true;
        let mut readers = Wire8::new(scaling.price).zip(Wire8::new(scaling.qty));
        // Locals rather than `self.i`: the loop keeps them in registers.
        let b = self.b;
        let mut i = self.i;
        loop {
            let rest = b.get(i..)?;
            let fast = match &readers {
                Some((price, qty)) => match rest.first_chunk::<LEVEL_WINDOW>() {
                    Some(w) => match level_wire8(w, price, qty, shape) {
                        Some(hit) => Some(hit),
                        None => price_shape(w, price).and_then(|new| {
                            *shape = new;
                            level_wire8(w, price, qty, shape)
                        }),
                    },
                    None => match level_wire8(rest, price, qty, shape) {
                        Some(hit) => Some(hit),
                        None => price_shape(rest, price).and_then(|new| {
                            *shape = new;
                            level_wire8(rest, price, qty, shape)
                        }),
                    },
                },
                None => None,
            };
            let level = match fast {
                Some((level, used)) => {
                    i += used;
                    level
                }
                None => {
                    self.i = i;
                    let level = self.level_general(scaling)?;
                    i = self.i;
                    bounded = false;
                    // A message's numbers share one form: after one in
                    // another form (futures' `"7.5040"`), read the rest the
                    // general way without trying the wire form first.
                    readers = None;
                    level
                }
            };
            // Full: the tape path reports the limit.
            out.push(level)?;
            match *b.get(i)? {
                b',' => i += 1,
                b']' => {
                    self.i = i + 1;
                    return Some(bounded);
                }
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Scale, parse_decimal_prefix};

    proptest::proptest! {
        /// A price read at a guessed length agrees with the general parser
        /// whenever it answers, whatever the guess and the text (dotless
        /// digit runs included: the guess must not invent a dot).
        #[test]
        fn price_shape_agrees_with_parse_decimal(
            text in "[0-9]{0,12}(\\.[0-9]{0,10})?[\",x0-9.]{0,12}",
            scale in 0u8..=8,
            guess in 1usize..=7,
        ) {
            let scale = Scale::new(scale).unwrap();
            let bytes = text.as_bytes();
            let w = Wire8::new(scale).unwrap();
            if let Some((v, end)) = PriceShape::new(guess).read(&w, bytes, 0) {
                let general = parse_decimal_prefix(bytes, scale, true);
                if !bytes.get(end).is_some_and(u8::is_ascii_digit) {
                    proptest::prop_assert_eq!(general, Ok((v, end)));
                }
            }
        }
    }
}
