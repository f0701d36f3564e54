//! One side's top 25 levels as checksum text, kept in rank order as the
//! book changes, so a checksum only copies fixed-size slots.
//!
//! Invariant ([`TopSide::cut`]): the ranks hold exactly the book's levels
//! whose key is at least `cut`, best first, each with its `px:sz:` text
//! (key: the price for bids, `!price` for asks, so larger is better on
//! both sides). A level the message sets or removes at or above `cut` is
//! placed or taken out at once (a binary search and a shift of one-byte
//! slot indices and the keys); one below `cut` cannot be in the top and is
//! ignored. Holding all levels down to `cut` stays true through both, so
//! after a message the ranks are the book's best `n` and the missing ones
//! are the book's next levels: [`TopSide::refill`]. `cut == i64::MIN`: the
//! ranks hold the whole side.

use super::checksum::{Spell, put_number};
use super::consts::CHECKSUM_LEVELS;
use crate::book::{Ladder, Level};
use crate::types::{Price, Qty, Side};

/// Bytes of `px:sz:` text a slot holds; a longer text is rendered when the
/// checksum is computed (from [`Long`]).
pub(super) const SLOT_TEXT: usize = 47;

/// One level's `px:sz:` text (the trailing `:` separates it from the next).
#[derive(Clone, Copy, Debug)]
struct Text {
    bytes: [u8; SLOT_TEXT],
    /// Bytes of `bytes` in use; 0: too long for the slot, see [`Long`].
    len: u8,
}

/// What a too-long level needs to be rendered at checksum time.
#[derive(Clone, Copy, Debug, Default)]
struct Long {
    price: i64,
    qty: i64,
    spell: Spell,
}

/// One side's top levels. See the [module docs](self).
#[derive(Debug)]
pub(super) struct TopSide {
    side: Side,
    /// Ranks in use, at most [`CHECKSUM_LEVELS`].
    n: usize,
    /// Keys of ranks `0..n`, best (largest) first.
    keys: [i64; CHECKSUM_LEVELS],
    /// `order[r]`: the slot of rank `r` for `r < n`; `order[n..]` are the
    /// free slots (the array is always a permutation of the slots).
    order: [u8; CHECKSUM_LEVELS],
    /// Text per slot.
    texts: [Text; CHECKSUM_LEVELS],
    /// Per slot, written only for a text that does not fit.
    long: [Long; CHECKSUM_LEVELS],
    /// Every held level with a key `>= cut` is ranked.
    cut: i64,
}

impl TopSide {
    pub(super) fn new(side: Side) -> TopSide {
        TopSide {
            side,
            n: 0,
            keys: [0; CHECKSUM_LEVELS],
            order: std::array::from_fn(|i| i as u8),
            texts: [Text {
                bytes: [0; SLOT_TEXT],
                len: 0,
            }; CHECKSUM_LEVELS],
            long: [Long::default(); CHECKSUM_LEVELS],
            cut: i64::MIN,
        }
    }

    /// Levels ranked.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.n
    }

    /// Nothing ranked, and the side is empty (a cleared book).
    pub(super) fn clear(&mut self) {
        self.n = 0;
        self.cut = i64::MIN;
    }

    #[inline(always)]
    fn key(&self, price: Price) -> i64 {
        match self.side {
            Side::Bid => price.0,
            Side::Ask => !price.0,
        }
    }

    #[inline(always)]
    fn price(&self, key: i64) -> i64 {
        match self.side {
            Side::Bid => key,
            Side::Ask => !key,
        }
    }

    /// The book set `level` (non-zero) with `spell`.
    #[inline]
    pub(super) fn set(&mut self, level: Level, spell: Spell, ps: u8, qs: u8) {
        let key = self.key(level.price);
        if key < self.cut {
            return;
        }
        let n = self.n;
        let at = self.keys[..n].partition_point(|&k| k > key);
        if at < n && self.keys[at] == key {
            let slot = usize::from(self.order[at]);
            self.render(slot, level, spell, ps, qs);
            return;
        }
        if at == CHECKSUM_LEVELS {
            // Worse than 25 ranked levels: the top now ends at the 25th.
            self.cut = self.keys[CHECKSUM_LEVELS - 1];
            return;
        }
        // The slot of rank `n` (free, or the 26th about to fall out).
        let last = n.min(CHECKSUM_LEVELS - 1);
        let slot = self.order[last];
        self.keys.copy_within(at..last, at + 1);
        self.order.copy_within(at..last, at + 1);
        self.keys[at] = key;
        self.order[at] = slot;
        if n == CHECKSUM_LEVELS {
            self.cut = self.keys[CHECKSUM_LEVELS - 1];
        } else {
            self.n = n + 1;
        }
        self.render(usize::from(slot), level, spell, ps, qs);
    }

    /// The book no longer holds `price`.
    #[inline]
    pub(super) fn remove(&mut self, price: Price) {
        let key = self.key(price);
        if key < self.cut {
            return;
        }
        let n = self.n;
        let at = self.keys[..n].partition_point(|&k| k > key);
        if at < n && self.keys[at] == key {
            let slot = self.order[at];
            self.keys.copy_within(at + 1..n, at);
            self.order.copy_within(at + 1..n, at);
            self.order[n - 1] = slot;
            self.n = n - 1;
        }
    }

    /// Ranks the book's next levels after a message, until 25 or the side
    /// ends: the levels below the last ranked one (found directly, not by
    /// walking the ranked ones). `spell` gives each one's spelling (`None`:
    /// not known, the table fell out of step: returned as the price).
    #[inline]
    pub(super) fn refill(
        &mut self,
        book: &Ladder,
        spell: impl Fn(Price) -> Option<Spell>,
        ps: u8,
        qs: u8,
    ) -> Result<(), Price> {
        if self.n == CHECKSUM_LEVELS || self.cut == i64::MIN {
            return Ok(());
        }
        let next = match self.n {
            0 => book.iter(self.side),
            n => book.iter_below(self.side, Price(self.price(self.keys[n - 1]))),
        };
        for level in next.take(CHECKSUM_LEVELS - self.n) {
            let s = spell(level.price).ok_or(level.price)?;
            let slot = self.order[self.n];
            self.keys[self.n] = self.key(level.price);
            self.n += 1;
            self.render(usize::from(slot), level, s, ps, qs);
        }
        self.cut = if self.n == CHECKSUM_LEVELS {
            self.keys[CHECKSUM_LEVELS - 1]
        } else {
            i64::MIN
        };
        Ok(())
    }

    /// Ranks the book's top levels from scratch (after a snapshot, or a
    /// message that may have evicted levels at capacity).
    pub(super) fn rebuild(
        &mut self,
        book: &Ladder,
        spell: impl Fn(Price) -> Option<Spell>,
        ps: u8,
        qs: u8,
    ) -> Result<(), Price> {
        self.n = 0;
        // Any key: refill only stops at `i64::MIN`.
        self.cut = i64::MAX;
        self.refill(book, spell, ps, qs)
    }

    /// Writes `level`'s `px:sz:` into `slot`, or marks it long.
    #[inline]
    fn render(&mut self, slot: usize, level: Level, spell: Spell, ps: u8, qs: u8) {
        let text = &mut self.texts[slot];
        let out = &mut text.bytes;
        // `put_number` writes nothing and returns its start when it does not fit.
        let end = put_number(out, 0, level.price.0, ps, spell.px);
        let fits = end > 0 && end < SLOT_TEXT;
        let end = if fits {
            out[end] = b':';
            put_number(out, end + 1, level.qty.0, qs, spell.sz)
        } else {
            0
        };
        if fits && end > 0 && end < SLOT_TEXT && out[end - 1] != b':' {
            out[end] = b':';
            text.len = (end + 1) as u8;
        } else {
            text.len = 0;
            self.long[slot] = Long {
                price: level.price.0,
                qty: level.qty.0,
                spell,
            };
        }
    }

    /// Writes rank `r`'s `px:sz:` at `out[at..]` (which has room for the
    /// longest level plus a slot), returning the end.
    #[inline(always)]
    pub(super) fn put(&self, r: usize, out: &mut [u8], at: usize, ps: u8, qs: u8) -> usize {
        let slot = usize::from(self.order[r]);
        let text = &self.texts[slot];
        if text.len > 0 {
            out[at..at + SLOT_TEXT].copy_from_slice(&text.bytes);
            return at + usize::from(text.len);
        }
        let long = self.long[slot];
        let level = Level {
            price: Price(long.price),
            qty: Qty(long.qty),
        };
        debug_assert_eq!(self.price(self.keys[r]), level.price.0);
        let end = put_number(out, at, level.price.0, ps, long.spell.px);
        out[end] = b':';
        let end = put_number(out, end + 1, level.qty.0, qs, long.spell.sz);
        out[end] = b':';
        end + 1
    }
}
