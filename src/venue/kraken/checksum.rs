//! Kraken's book checksum: CRC32 (IEEE) over the top 10 asks (best first)
//! then the top 10 bids (best first), each level's price then quantity
//! written at the pair's precision with the `.` and the leading zeros
//! removed, no separators.
//!
//! At a fixed precision that text is the mantissa's digits: `62802.5` at
//! one decimal is the mantissa 628025, `0.00005100` at eight is 5100. So
//! the book's mantissas are rendered as plain integers (the shared
//! right-to-left digit renderer) into a stack buffer and hashed once: no
//! spelling is kept, and the book's scales must be the pair's precision
//! (the instrument's tick and lot decimals), which the decoder enforces by
//! refusing any number with more decimals.

use super::consts::CHECKSUM_LEVELS;
use crate::book::Ladder;
use crate::types::Side;
use crate::venue::scan::render::put_uint;

/// Digits of one mantissa at most (`i64::MAX` has 19).
const DIGITS: usize = 19;
/// The text of 10 + 10 levels, two numbers each, and the room the
/// renderer's whole-word stores need past the last digit.
const TEXT: usize = 2 * CHECKSUM_LEVELS * 2 * DIGITS + 24;

/// The checksum of `book` as Kraken computes it.
#[inline]
pub fn checksum(book: &Ladder) -> u32 {
    let mut text = [0u8; TEXT];
    let mut end = 0;
    for side in [Side::Ask, Side::Bid] {
        for l in book.iter(side).take(CHECKSUM_LEVELS) {
            end = digits(&mut text, end, l.price.0);
            end = digits(&mut text, end, l.qty.0);
        }
    }
    crc32fast::hash(&text[..end])
}

/// Room one level's text takes in the output: its digits (at most 38) and
/// a whole fixed-size copy's overshoot.
const LEVEL_COPY: usize = 40;
/// Slots of a [`LevelTexts`] cache a side (a power of two).
const SLOTS: usize = 64;

/// One level's rendered digits.
#[derive(Clone, Copy, Debug)]
struct Slot {
    price: i64,
    /// 0: empty (a held level never has quantity 0).
    qty: i64,
    len: u8,
    text: [u8; 64],
}

const EMPTY: Slot = Slot {
    price: 0,
    qty: 0,
    len: 0,
    text: [0; 64],
};

/// The digits of recently checksummed levels, so that a message that
/// changes a few of the top 10 re-renders only those: a direct-mapped
/// cache per side keyed by price, an entry valid only for the exact
/// (price, quantity) it was rendered from (a stale or colliding one is
/// rendered again, never used). Sized once; [`checksum`] is the uncached
/// reference it must agree with.
#[derive(Debug)]
pub struct LevelTexts {
    slots: Box<[[Slot; SLOTS]; 2]>,
}

impl Default for LevelTexts {
    fn default() -> Self {
        LevelTexts::new()
    }
}

impl LevelTexts {
    /// An empty cache. Allocates now (about 10 kB).
    pub fn new() -> LevelTexts {
        LevelTexts {
            slots: Box::new([[EMPTY; SLOTS]; 2]),
        }
    }

    /// The checksum of `book` as Kraken computes it ([`checksum`]'s value).
    #[inline]
    pub fn checksum(&mut self, book: &Ladder) -> u32 {
        let mut text = [0u8; 2 * CHECKSUM_LEVELS * LEVEL_COPY + LEVEL_COPY];
        let mut end = 0;
        for (s, side) in [Side::Ask, Side::Bid].into_iter().enumerate() {
            let slots = &mut self.slots[s];
            for l in book.iter(side).take(CHECKSUM_LEVELS) {
                let h = (l.price.0 as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58;
                let slot = &mut slots[h as usize & (SLOTS - 1)];
                if slot.price != l.price.0 || slot.qty != l.qty.0 {
                    let n = digits(&mut slot.text, 0, l.price.0);
                    let n = digits(&mut slot.text, n, l.qty.0);
                    slot.price = l.price.0;
                    slot.qty = l.qty.0;
                    slot.len = n as u8;
                }
                let len = usize::from(slot.len).min(LEVEL_COPY);
                text[end..end + LEVEL_COPY].copy_from_slice(&slot.text[..LEVEL_COPY]);
                end += len;
            }
        }
        crc32fast::hash(&text[..end])
    }
}

/// `v`'s decimal digits at `out[at..]` (a level's values are never
/// negative); returns the end.
#[inline(always)]
fn digits(out: &mut [u8], at: usize, v: i64) -> usize {
    put_uint(out, at, v.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::{BookApply, BookSpec};
    use crate::types::{Price, Qty};

    #[test]
    fn the_cache_agrees_with_the_reference_as_the_book_moves() {
        let mut book = Ladder::new(BookSpec::new(1).with_capacity(4_096));
        let mut texts = LevelTexts::new();
        let mut rng = 0x1234_5678_u64;
        for step in 0..3_000 {
            rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let bid = rng >> 40 & 1 == 0;
            let off = (rng >> 20) as i64 % 40;
            let qty = if rng >> 50 & 3 == 0 {
                0
            } else {
                (rng >> 8) as i64 % 1_000_000_000_000
            };
            let (side, price) = if bid {
                (Side::Bid, 10_000 - off)
            } else {
                (Side::Ask, 10_001 + off)
            };
            book.apply(side, Price(price), Qty(qty)).unwrap();
            assert_eq!(texts.checksum(&book), checksum(&book), "step {step}");
        }
    }

    #[test]
    fn renders_mantissas_as_the_venues_digits() {
        let mut out = [0u8; 64];
        let end = digits(&mut out, 0, 628_025);
        let end = digits(&mut out, end, 5_100);
        assert_eq!(&out[..end], b"6280255100");
    }

    #[test]
    fn asks_come_first_best_first_and_only_ten() {
        let mut book = Ladder::new(BookSpec::new(1).with_capacity(64));
        for i in 0..12 {
            book.apply(Side::Bid, Price(100 - i), Qty(1 + i)).unwrap();
            book.apply(Side::Ask, Price(101 + i), Qty(2)).unwrap();
        }
        let mut text = String::new();
        for i in 0..10 {
            text += &format!("{}2", 101 + i);
        }
        for i in 0..10 {
            text += &format!("{}{}", 100 - i, 1 + i);
        }
        assert_eq!(checksum(&book), crc32fast::hash(text.as_bytes()));
    }
}
