//! One side's top 25 levels as checksum text, kept in rank order as the
//! book changes, so a checksum only copies fixed-size slots.
//!
//! The ranking (which levels are the top, in which order, kept as the book
//! changes) is [`TopRanks`]'s, shared with Kraken; each rank's slot here
//! holds its level's `px:sz:` text.

use super::checksum::{Spell, put_number};
use super::consts::CHECKSUM_LEVELS;
use crate::book::{Ladder, Level};
use crate::types::{Price, Qty, Side};
use crate::venue::top_ranks::TopRanks;

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

/// One side's ranked top levels and their texts.
#[derive(Debug)]
pub(super) struct TopSide {
    ranks: TopRanks<CHECKSUM_LEVELS>,
    /// Text per slot.
    texts: [Text; CHECKSUM_LEVELS],
    /// Per slot, written only for a text that does not fit.
    long: [Long; CHECKSUM_LEVELS],
}

impl TopSide {
    pub(super) fn new(side: Side) -> TopSide {
        TopSide {
            ranks: TopRanks::new(side),
            texts: [Text {
                bytes: [0; SLOT_TEXT],
                len: 0,
            }; CHECKSUM_LEVELS],
            long: [Long::default(); CHECKSUM_LEVELS],
        }
    }

    /// Levels ranked.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.ranks.len()
    }

    /// Nothing ranked, and the side is empty (a cleared book).
    pub(super) fn clear(&mut self) {
        self.ranks.clear();
    }

    /// The book set `level` (non-zero) with `spell`.
    #[inline]
    pub(super) fn set(&mut self, level: Level, spell: Spell, ps: u8, qs: u8) {
        if let Some(slot) = self.ranks.set(level.price) {
            render(
                &mut self.texts[slot],
                &mut self.long[slot],
                level,
                spell,
                ps,
                qs,
            );
        }
    }

    /// The book no longer holds `price`.
    #[inline]
    pub(super) fn remove(&mut self, price: Price) {
        self.ranks.remove(price);
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
        let (texts, long) = (&mut self.texts, &mut self.long);
        self.ranks.refill(book, |slot, level| {
            let s = spell(level.price).ok_or(level.price)?;
            render(&mut texts[slot], &mut long[slot], level, s, ps, qs);
            Ok(())
        })
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
        self.ranks.reset();
        self.refill(book, spell, ps, qs)
    }

    /// Writes rank `r`'s `px:sz:` at `out[at..]` (which has room for the
    /// longest level plus a slot), returning the end.
    #[inline(always)]
    pub(super) fn put(&self, r: usize, out: &mut [u8], at: usize, ps: u8, qs: u8) -> usize {
        let slot = self.ranks.slot(r);
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
        debug_assert_eq!(self.ranks.price_at(r), level.price);
        let end = put_number(out, at, level.price.0, ps, long.spell.px);
        out[end] = b':';
        let end = put_number(out, end + 1, level.qty.0, qs, long.spell.sz);
        out[end] = b':';
        end + 1
    }
}

/// Writes `level`'s `px:sz:` into a slot's text, or marks it long.
#[inline]
fn render(text: &mut Text, long: &mut Long, level: Level, spell: Spell, ps: u8, qs: u8) {
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
        *long = Long {
            price: level.price.0,
            qty: level.qty.0,
            spell,
        };
    }
}
