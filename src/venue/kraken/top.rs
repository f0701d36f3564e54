//! The checksum's text kept from message to message: each side's top 10
//! levels in rank order, each with its rendered digits, updated as the
//! message's levels are applied, so that a checksum copies 20 fixed-size
//! slots and runs one CRC32 pass.
//!
//! The ranking (which levels are the top, in which order, kept as a
//! message's levels are applied) is [`TopRanks`]'s, shared with OKX; each
//! rank's slot here holds its level's text: the price digits then the
//! quantity digits.
//!
//! The sync calls [`TopTexts::track`] per side after the message's levels
//! are applied (before the cut to depth), then [`TopTexts::settle`] after
//! the cut. A side that may have reached the book's capacity during the
//! message (levels evicted or dropped), a depth below 10 (the cut removes
//! ranked levels), a snapshot and anything [`TopTexts::invalidate`]d are
//! ranked from scratch at `settle`. No CRC is cached: every checksum
//! hashes the 20 levels' text.

use super::consts::CHECKSUM_LEVELS;
use crate::book::{BookRead, Ladder, Level};
use crate::types::Side;
use crate::venue::scan::render::put_uint;
use crate::venue::top_ranks::TopRanks;

/// Ranks (and slots) a side.
const N: usize = CHECKSUM_LEVELS;
/// Bytes of one slot: a level's digits (two `i64`s: at most 38) plus the
/// renderer's whole-word overshoot.
const SLOT_BYTES: usize = 64;
/// Bytes copied per level into the checksum text (covers the 38 digits).
const COPY: usize = 40;
/// The checksum text: 20 levels and one copy's overshoot.
const TEXT: usize = 2 * N * COPY + COPY;

/// One side's kept ranks and their texts.
#[derive(Debug, Clone)]
struct TopSide {
    ranks: TopRanks<N>,
    /// Digits per slot (price then quantity), `len[s]` of them in use.
    text: [[u8; SLOT_BYTES]; N],
    /// Digits in use per slot.
    len: [u8; N],
    /// The ranks may not follow the book: rank from scratch at `settle`.
    stale: bool,
}

impl TopSide {
    fn new(side: Side) -> TopSide {
        TopSide {
            ranks: TopRanks::new(side),
            text: [[0; SLOT_BYTES]; N],
            len: [0; N],
            stale: true,
        }
    }

    /// The book now holds `level` (quantity above zero).
    #[inline]
    fn set(&mut self, level: Level) {
        if let Some(slot) = self.ranks.set(level.price) {
            render(&mut self.text[slot], &mut self.len[slot], level);
        }
    }

    /// Ranks the book's next levels until 10 or the side ends.
    #[inline]
    fn refill(&mut self, book: &Ladder) {
        let (text, len) = (&mut self.text, &mut self.len);
        let Ok(()) = self.ranks.refill(book, |slot, level| {
            render(&mut text[slot], &mut len[slot], level);
            Ok::<(), std::convert::Infallible>(())
        });
    }

    /// Ranks the book's top levels from scratch.
    fn rebuild(&mut self, book: &Ladder) {
        self.ranks.reset();
        self.stale = false;
        self.refill(book);
    }

    /// Appends the ranks' digits at `out[at..]` (room for a whole copy
    /// past each); returns the end.
    #[inline(always)]
    fn put(&self, out: &mut [u8; TEXT], mut at: usize) -> usize {
        for &s in self.ranks.slots() {
            let s = usize::from(s);
            out[at..at + COPY].copy_from_slice(&self.text[s][..COPY]);
            at += usize::from(self.len[s]);
        }
        at
    }
}

/// Writes the digits of `level`'s price then quantity into a slot.
#[inline]
fn render(text: &mut [u8; SLOT_BYTES], len: &mut u8, level: Level) {
    // A held level's values are positive; each has at most 19 digits,
    // so both fit with the renderer's room (`19 + 24 < SLOT_BYTES`).
    let end = put_uint(text, 0, level.price.0.max(0) as u64);
    let end = put_uint(text, end, level.qty.0.max(0) as u64);
    *len = end.min(COPY) as u8;
}

/// Both sides' kept top-10 texts and the checksum over them. Sized once
/// (about 2 kB); nothing allocates per message.
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
            asks: TopSide::new(Side::Ask),
            bids: TopSide::new(Side::Bid),
            buf: Box::new([0; TEXT]),
        }
    }

    fn side_mut(&mut self, side: Side) -> &mut TopSide {
        match side {
            Side::Ask => &mut self.asks,
            Side::Bid => &mut self.bids,
        }
    }

    /// The kept ranks may no longer follow the book (a snapshot, a
    /// message not applied, a book started over): both sides are ranked
    /// from scratch at the next [`settle`](Self::settle).
    #[inline]
    pub fn invalidate(&mut self) {
        self.asks.stale = true;
        self.bids.stale = true;
    }

    /// `levels` of `side` were just applied to `book`, in this order (all
    /// of them: a message is applied all or nothing), and the cut to depth
    /// has not happened yet. Levels inside the top are placed, rendered or
    /// taken out; a side that may have reached the book's capacity is left
    /// for `settle` to rank from scratch.
    #[inline]
    pub fn track(&mut self, book: &Ladder, side: Side, levels: &[Level]) {
        // The side never reached capacity during the message when even
        // undoing all of its levels' removals leaves room: then the book
        // kept every non-zero level and evicted nothing.
        let room = book.depth(side) + levels.len() < book.capacity();
        let top = self.side_mut(side);
        if top.stale || !room {
            top.stale = true;
            return;
        }
        for &l in levels {
            if l.qty.0 == 0 {
                top.ranks.remove(l.price);
            } else {
                top.set(l);
            }
        }
    }

    /// After the cut of each side to the subscribed `depth`: ranks the
    /// levels that came into the top (from below the last ranked one), or
    /// a side from scratch when it is stale or the cut reached the top.
    #[inline]
    pub fn settle(&mut self, book: &Ladder, depth: usize) {
        for top in [&mut self.asks, &mut self.bids] {
            if top.stale || depth < N {
                top.rebuild(book);
            } else {
                top.refill(book);
            }
        }
    }

    /// Ranks both sides of `book` from scratch (every level rendered).
    pub fn update(&mut self, book: &Ladder) {
        self.asks.rebuild(book);
        self.bids.rebuild(book);
    }

    /// The CRC32 of the kept text: asks best first, then bids. Equal to
    /// [`checksum`](super::checksum) of the book the ranks follow.
    #[inline]
    pub fn crc(&mut self) -> u32 {
        let end = self.asks.put(&mut self.buf, 0);
        let end = self.bids.put(&mut self.buf, end);
        crc32fast::hash(&self.buf[..end])
    }

    /// [`update`](Self::update) then [`crc`](Self::crc): Kraken's checksum
    /// of `book`, every level rendered.
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
        for &s in top.ranks.slots() {
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
        top.settle(&book, 10);
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
            let level = Level {
                price: Price(price),
                qty: Qty(qty),
            };
            book.apply(side, level.price, level.qty).unwrap();
            top.track(&book, side, &[level]);
            top.settle(&book, 1_000);
            assert_eq!(top.crc(), checksum(&book), "step {step}");
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
        // The best of each side goes: every rank moves up, the 11th level
        // comes in from below.
        let gone = |p| Level {
            price: Price(p),
            qty: Qty(0),
        };
        book.apply(Side::Bid, Price(100), Qty(0)).unwrap();
        book.apply(Side::Ask, Price(101), Qty(0)).unwrap();
        top.track(&book, Side::Bid, &[gone(100)]);
        top.track(&book, Side::Ask, &[gone(101)]);
        top.settle(&book, 25);
        let bids: String = (1..11).map(|i| format!("{}{}", 100 - i, 1 + i)).collect();
        let asks: String = (1..11).map(|i| format!("{}2", 101 + i)).collect();
        assert_eq!(top.side_text(Side::Bid), bids.as_bytes());
        assert_eq!(top.side_text(Side::Ask), asks.as_bytes());
        assert_eq!(top.crc(), checksum(&book));
    }
}
