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
