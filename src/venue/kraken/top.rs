//! The checksum's text kept from message to message: each side's top 10
//! levels in rank order, each with its rendered digits, so that a checksum
//! copies 20 fixed-size slots and runs one CRC32 pass.
//!
//! Invariant (after [`TopTexts::update`]): rank `r < n` of a side holds
//! the book's `r`-th best level of that side, and the text of its slot is
//! that level's price digits then its quantity digits. `update` walks the
//! book's top 10 a side and compares it with the kept ranks: a level kept
//! at the same (price, quantity), at any rank, keeps its text (a level
//! that moved rank keeps its slot); only a new or changed level is
//! rendered. The comparison is with the book itself, not with a record of
//! what the message changed, so truncation, evictions at capacity, a
//! cleared book and a snapshot need nothing special. No CRC is cached:
//! every checksum hashes the 20 levels' text.

use super::consts::CHECKSUM_LEVELS;
use crate::book::{Ladder, Level};
use crate::types::Side;
use crate::venue::scan::render::put_uint;

/// Slots a side: the kept ranks' and as many for the levels a message
/// brings in, so a new text never overwrites one still to be reused.
const SLOTS: usize = 2 * CHECKSUM_LEVELS;
/// Bytes of one slot: a level's digits (two `i64`s: at most 38) plus the
/// renderer's whole-word overshoot.
const SLOT_BYTES: usize = 64;
/// Bytes copied per level into the checksum text (covers the 38 digits).
const COPY: usize = 40;
/// The checksum text: 20 levels and one copy's overshoot.
const TEXT: usize = 2 * CHECKSUM_LEVELS * COPY + COPY;

/// One side's kept ranks. See the [module docs](self).
#[derive(Debug, Clone)]
struct TopSide {
    /// Ranks in use (at most [`CHECKSUM_LEVELS`]).
    n: usize,
    /// Price mantissa per rank, best first.
    price: [i64; CHECKSUM_LEVELS],
    /// Quantity mantissa per rank (never 0 for a rank in use).
    qty: [i64; CHECKSUM_LEVELS],
    /// The slot holding each rank's text; distinct for ranks `0..n`.
    slot: [u8; CHECKSUM_LEVELS],
    /// Digits per slot (price then quantity), `len[s]` of them in use.
    text: [[u8; SLOT_BYTES]; SLOTS],
    /// Digits in use per slot.
    len: [u8; SLOTS],
}

impl TopSide {
    fn new() -> TopSide {
        TopSide {
            n: 0,
            price: [0; CHECKSUM_LEVELS],
            qty: [0; CHECKSUM_LEVELS],
            slot: std::array::from_fn(|i| i as u8),
            text: [[0; SLOT_BYTES]; SLOTS],
            len: [0; SLOTS],
        }
    }

    /// Brings the ranks in line with `levels` (the side's best first).
    #[inline]
    fn update(&mut self, levels: impl Iterator<Item = Level>) {
        let old_n = self.n;
        // Slots of the kept ranks: not free for new text this round.
        let mut busy: u32 = 0;
        for &s in &self.slot[..old_n] {
            busy |= 1 << s;
        }
        let (mut price, mut qty, mut slot) = (self.price, self.qty, self.slot);
        let mut n = 0;
        for (r, l) in levels.take(CHECKSUM_LEVELS).enumerate() {
            let (p, q) = (l.price.0, l.qty.0);
            n = r + 1;
            if r < old_n && self.price[r] == p && self.qty[r] == q {
                // Same level at the same rank: all three already in place.
                continue;
            }
            let found = (0..old_n).find(|&j| self.price[j] == p && self.qty[j] == q);
            let s = match found {
                Some(j) => self.slot[j],
                None => {
                    // At most 10 kept and 10 new: a free slot exists.
                    let s = (!busy).trailing_zeros().min(SLOTS as u32 - 1) as u8;
                    busy |= 1 << s;
                    self.render(usize::from(s), p, q);
                    s
                }
            };
            slot[r] = s;
            price[r] = p;
            qty[r] = q;
        }
        (self.price, self.qty, self.slot) = (price, qty, slot);
        self.n = n;
    }

    /// Writes the digits of `price` then `qty` into slot `s`.
    #[inline]
    fn render(&mut self, s: usize, price: i64, qty: i64) {
        let out = &mut self.text[s];
        // A held level's values are positive; each has at most 19 digits,
        // so both fit with the renderer's room (`19 + 24 < SLOT_BYTES`).
        let end = put_uint(out, 0, price.max(0) as u64);
        let end = put_uint(out, end, qty.max(0) as u64);
        self.len[s] = end.min(COPY) as u8;
    }

    /// Appends the ranks' digits at `out[at..]` (room for a whole copy
    /// past each); returns the end.
    #[inline(always)]
    fn put(&self, out: &mut [u8; TEXT], mut at: usize) -> usize {
        for &s in &self.slot[..self.n] {
            let s = usize::from(s);
            out[at..at + COPY].copy_from_slice(&self.text[s][..COPY]);
            at += usize::from(self.len[s]);
        }
        at
    }
}

/// Both sides' kept top-10 texts and the checksum over them. Sized once
/// (about 3 kB); nothing allocates per message.
#[derive(Debug, Clone)]
pub struct TopTexts {
    asks: TopSide,
    bids: TopSide,
    /// Scratch for the concatenated text (kept to skip zeroing it per call).
    buf: Box<[u8; TEXT]>,
}

impl Default for TopTexts {
    fn default() -> Self {
        TopTexts::new()
    }
}

impl TopTexts {
    /// Nothing kept. Allocates now.
    pub fn new() -> TopTexts {
        TopTexts {
            asks: TopSide::new(),
            bids: TopSide::new(),
            buf: Box::new([0; TEXT]),
        }
    }

    /// Brings the kept ranks in line with `book`'s top 10 a side,
    /// rendering only new or changed levels.
    #[inline]
    pub fn update(&mut self, book: &Ladder) {
        self.asks.update(book.iter(Side::Ask));
        self.bids.update(book.iter(Side::Bid));
    }

    /// The CRC32 of the kept text: asks best first, then bids. Equal to
    /// [`checksum`](super::checksum) of the book last passed to
    /// [`update`](Self::update).
    #[inline]
    pub fn crc(&mut self) -> u32 {
        let end = self.asks.put(&mut self.buf, 0);
        let end = self.bids.put(&mut self.buf, end);
        crc32fast::hash(&self.buf[..end])
    }

    /// [`update`](Self::update) then [`crc`](Self::crc): Kraken's checksum
    /// of `book`.
    #[inline]
    pub fn checksum(&mut self, book: &Ladder) -> u32 {
        self.update(book);
        self.crc()
    }

    /// The kept text of `side`'s ranks, concatenated (for tests).
    #[doc(hidden)]
    pub fn side_text(&self, side: Side) -> Vec<u8> {
        let top = match side {
            Side::Ask => &self.asks,
            Side::Bid => &self.bids,
        };
        let mut out = Vec::new();
        for &s in &top.slot[..top.n] {
            let s = usize::from(s);
            out.extend_from_slice(&top.text[s][..usize::from(top.len[s])]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::{BookApply, BookSpec};
    use crate::types::{Price, Qty};
    use crate::venue::kraken::checksum;

    #[test]
    fn agrees_with_the_reference_as_the_book_moves() {
        let mut book = Ladder::new(BookSpec::new(1).with_capacity(4_096));
        let mut top = TopTexts::new();
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
            assert_eq!(top.checksum(&book), checksum(&book), "step {step}");
        }
    }

    #[test]
    fn texts_are_each_sides_top_ten_digits() {
        let mut book = Ladder::new(BookSpec::new(1).with_capacity(64));
        let mut top = TopTexts::new();
        for i in 0..12 {
            book.apply(Side::Bid, Price(100 - i), Qty(1 + i)).unwrap();
            book.apply(Side::Ask, Price(101 + i), Qty(2)).unwrap();
        }
        top.update(&book);
        let bids: String = (0..10).map(|i| format!("{}{}", 100 - i, 1 + i)).collect();
        let asks: String = (0..10).map(|i| format!("{}2", 101 + i)).collect();
        assert_eq!(top.side_text(Side::Bid), bids.as_bytes());
        assert_eq!(top.side_text(Side::Ask), asks.as_bytes());
        // A better bid shifts every rank; the kept texts follow.
        book.apply(Side::Bid, Price(101), Qty(0)).unwrap();
        book.apply(Side::Ask, Price(101), Qty(0)).unwrap();
        book.apply(Side::Bid, Price(100), Qty(0)).unwrap();
        top.update(&book);
        let bids: String = (1..11).map(|i| format!("{}{}", 100 - i, 1 + i)).collect();
        let asks: String = (1..11).map(|i| format!("{}2", 101 + i)).collect();
        assert_eq!(top.side_text(Side::Bid), bids.as_bytes());
        assert_eq!(top.side_text(Side::Ask), asks.as_bytes());
    }
}
