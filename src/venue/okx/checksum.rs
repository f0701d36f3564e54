//! OKX's order-book checksum and the wire spellings it needs.
//!
//! After each `books` message OKX sends a CRC32 (IEEE, as zlib) of the top
//! 25 bids and 25 asks, best first, interleaved as
//! `bid1Px:bid1Sz:ask1Px:ask1Sz:bid2Px:...` (a side with fewer levels
//! contributes none), read as a signed 32-bit integer. The text is the
//! venue's own spelling: `"0.10"` and `"0.1"` give different sums.
//!
//! The book keeps mantissas only, so each held level's spelling is kept
//! beside it in a [`BookSpelling`]: per side, a fixed-capacity open-addressing
//! table keyed by price holding the price's and the size's decimal counts
//! ([`Spell`]). A plain decimal (`-?(0|[1-9][0-9]*)(\.[0-9]+)?`) is fully
//! given by its mantissa and its decimal count, so the text is re-rendered
//! exactly; any other form (leading zeros, exponents) is refused by the
//! decoder ([`spelling`]). Each side's top 25 are also kept rendered, in
//! rank order, as the book changes (`top.rs`): a checksum copies 50
//! fixed-size slots and runs one CRC, with no walk of the book and no table
//! look-up. Nothing here allocates after construction.

use crate::book::{BookRead, Ladder, Level};
use crate::types::{NumError, Price, Scale, Side};

use super::consts::CHECKSUM_LEVELS;
use super::table::SideTable;
use super::top::{SLOT_TEXT, TopSide};
pub(super) use crate::venue::scan::render::{NUMBER_CAP, put_number};

/// How a level was written on the wire: the decimal counts of its price and
/// of its size (`"30243.50"` has 2). With the mantissas, enough to write the
/// text again byte for byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Spell {
    /// Decimals of the price text.
    pub px: u8,
    /// Decimals of the size text.
    pub sz: u8,
}

/// The decimal count of `text` if it is a plain decimal that renders back
/// to itself from its mantissa (`-?(0|[1-9][0-9]*)(\.[0-9]+)?`); otherwise
/// the offending byte as [`NumError::InvalidChar`]. The caller has already
/// parsed `text` (so it is at most 64 bytes of digits, one dot and a sign).
#[inline]
pub fn spelling(text: &[u8]) -> Result<u8, NumError> {
    let unsigned = text.strip_prefix(b"-").unwrap_or(text);
    let sign = text.len() - unsigned.len();
    // `-0.00` would render as `0.00`: a signed zero is not plain.
    if sign == 1 && unsigned.iter().all(|&c| c == b'0' || c == b'.') {
        return Err(NumError::InvalidChar { at: 0, byte: b'-' });
    }
    // A leading zero only before the dot (or alone).
    if unsigned.len() > 1 && unsigned[0] == b'0' && unsigned[1] != b'.' {
        return Err(NumError::InvalidChar {
            at: sign as u8,
            byte: b'0',
        });
    }
    let decimals = match unsigned.iter().position(|&c| c == b'.') {
        Some(dot) => unsigned.len() - dot - 1,
        None => 0,
    };
    // At most 64 bytes were parsed, so this fits.
    Ok(decimals as u8)
}

/// Why a checksum could not be computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpellError {
    /// A level in the top 25 has no known spelling (the table fell out of
    /// step with the book): treat as a checksum mismatch.
    Unspelled {
        /// The side.
        side: Side,
        /// The level's price mantissa.
        price: i64,
    },
    /// The spelling table is full (more levels than it was sized for).
    Full,
}

/// The wire spellings of one instrument's book, kept in step with it: every
/// held level's [`Spell`] (a table per side), and each side's top 25 as
/// `px:sz:` text in rank order ([`TopSide`]), so that
/// [`checksum`](Self::checksum) only interleaves two arrays of fixed-size
/// slots and hashes them.
///
/// Call order per message: [`set`](Self::set) / [`remove`](Self::remove)
/// each level the book set or removed (with [`rank`](Self::rank) /
/// [`unrank`](Self::unrank) for the top), then [`settle`](Self::settle) each
/// side, then [`checksum`](Self::checksum). After a snapshot or a message
/// that may have evicted levels at capacity, [`rerank`](Self::rerank)
/// replaces the per-level ranking.
#[derive(Debug)]
pub struct BookSpelling {
    bids: SideTable,
    asks: SideTable,
    /// The top 25 of bids, then of asks.
    top: [TopSide; 2],
    /// Set when a top level had no spelling (the table fell out of step
    /// with the book); cleared with the book. While set, checksums fail.
    fault: Option<SpellError>,
    /// Where [`checksum`](Self::checksum) writes the text it hashes:
    /// [`KEPT_CAP`] bytes, allocated once (50 levels of the longest
    /// spelling, with room for one fixed-size slot copy past the end).
    text: Box<[u8; KEPT_CAP]>,
}

impl BookSpelling {
    /// Room for `capacity` levels a side (the book's capacity). Allocates now.
    pub fn new(capacity: usize) -> BookSpelling {
        BookSpelling {
            bids: SideTable::new(capacity),
            asks: SideTable::new(capacity),
            top: [TopSide::new(Side::Bid), TopSide::new(Side::Ask)],
            fault: None,
            text: Box::new([0; KEPT_CAP]),
        }
    }

    fn side(&self, side: Side) -> &SideTable {
        match side {
            Side::Bid => &self.bids,
            Side::Ask => &self.asks,
        }
    }

    fn side_mut(&mut self, side: Side) -> &mut SideTable {
        match side {
            Side::Bid => &mut self.bids,
            Side::Ask => &mut self.asks,
        }
    }

    #[inline(always)]
    fn top_mut(&mut self, side: Side) -> &mut TopSide {
        &mut self.top[usize::from(side == Side::Ask)]
    }

    /// Forgets everything (a snapshot replaces the book, a resync clears it).
    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
        self.top.iter_mut().for_each(TopSide::clear);
        self.fault = None;
    }

    /// Levels known on `side`.
    pub fn len(&self, side: Side) -> usize {
        self.side(side).len
    }

    /// Levels of `side` kept as top-25 text.
    pub fn ranked(&self, side: Side) -> usize {
        self.top[usize::from(side == Side::Ask)].len()
    }

    /// Whether no level is known on either side.
    pub fn is_empty(&self) -> bool {
        self.bids.len == 0 && self.asks.len == 0
    }

    /// The spelling held for `price` on `side`.
    pub fn get(&self, side: Side, price: Price) -> Option<Spell> {
        self.side(side).get(price.0)
    }

    /// Sets the spelling of `level` on `side` (the table only: the top
    /// follows through [`rank`](Self::rank) or [`rerank`](Self::rerank));
    /// false when the table is full.
    #[inline]
    pub fn set(&mut self, side: Side, level: Level, spell: Spell) -> bool {
        self.side_mut(side).set(level.price.0, spell)
    }

    /// Forgets `price` on `side` (the table only, as [`set`](Self::set)).
    #[inline]
    pub fn remove(&mut self, side: Side, price: Price) {
        self.side_mut(side).remove(price.0);
    }

    /// Forgets every price of `side` that `held` says the book no longer
    /// holds (levels evicted at capacity). Walks the whole table: call it
    /// only when the table holds more levels than the book.
    #[cold]
    pub fn prune(&mut self, side: Side, held: impl Fn(Price) -> bool) {
        self.side_mut(side).prune(|p| held(Price(p)));
    }

    /// The book set `level` (non-zero) on `side`, spelled `spell`: placed
    /// among the kept top 25 texts when it belongs there. A message's
    /// levels in the message's order, no level evicted meanwhile; then
    /// [`settle`](Self::settle).
    #[inline]
    pub fn rank(&mut self, side: Side, level: Level, spell: Spell, price: Scale, qty: Scale) {
        let (ps, qs) = (price.decimals(), qty.decimals());
        self.top_mut(side).set(level, spell, ps, qs);
    }

    /// The book removed `price` on `side`: out of the kept top 25 if there.
    #[inline]
    pub fn unrank(&mut self, side: Side, price: Price) {
        self.top_mut(side).remove(price);
    }

    /// After a message's levels were [`rank`](Self::rank)ed: fills `side`'s
    /// top 25 back from `book` where levels left it (each new one's text
    /// rendered from its spelling in the table).
    #[inline]
    pub fn settle(&mut self, side: Side, book: &Ladder, price: Scale, qty: Scale) {
        let (ps, qs) = (price.decimals(), qty.decimals());
        let i = usize::from(side == Side::Ask);
        let table = match side {
            Side::Bid => &self.bids,
            Side::Ask => &self.asks,
        };
        if let Err(p) = self.top[i].refill(book, |p| table.get(p.0), ps, qs) {
            self.fault = Some(SpellError::Unspelled { side, price: p.0 });
        }
    }

    /// Renders `side`'s top 25 from `book` and the table, from scratch.
    #[cold]
    pub fn rerank(&mut self, side: Side, book: &Ladder, price: Scale, qty: Scale) {
        let (ps, qs) = (price.decimals(), qty.decimals());
        let i = usize::from(side == Side::Ask);
        let table = match side {
            Side::Bid => &self.bids,
            Side::Ask => &self.asks,
        };
        if let Err(p) = self.top[i].rebuild(book, |p| table.get(p.0), ps, qs) {
            self.fault = Some(SpellError::Unspelled { side, price: p.0 });
        }
    }

    /// The checksum of the kept top 25 levels a side as OKX computes it
    /// (the scales render a level too long for its slot). The texts are
    /// copied interleaved into the kept buffer and hashed at once
    /// (crc32fast's folding path wants long inputs).
    #[inline]
    pub fn checksum(&mut self, price: Scale, qty: Scale) -> Result<i32, SpellError> {
        let BookSpelling {
            top, fault, text, ..
        } = self;
        top_crc(top, *fault, &mut text[..], price, qty)
    }

    /// [`checksum`](Self::checksum) into a buffer of its own: for looking
    /// at a book without changing anything.
    pub fn kept_checksum(&self, price: Scale, qty: Scale) -> Result<i32, SpellError> {
        let mut text = [0; KEPT_CAP];
        top_crc(&self.top, self.fault, &mut text, price, qty)
    }

    /// The checksum of `book`'s top 25 levels a side rendered now from the
    /// table's spellings (the reference for the kept texts: nothing kept
    /// is used).
    pub fn peek_checksum(
        &self,
        book: &impl BookRead,
        price_scale: Scale,
        qty_scale: Scale,
    ) -> Result<i32, SpellError> {
        let (ps, qs) = (price_scale.decimals(), qty_scale.decimals());
        interleaved(book, |side, level, text, at| {
            let spell = self
                .side(side)
                .get(level.price.0)
                .ok_or(SpellError::Unspelled {
                    side,
                    price: level.price.0,
                })?;
            let end = put_number(text, at, level.price.0, ps, spell.px);
            text[end] = b':';
            Ok(put_number(text, end + 1, level.qty.0, qs, spell.sz))
        })
    }
}

/// CRC32 of the kept texts interleaved, bid first, written into `text`
/// (at least [`KEPT_CAP`] bytes).
#[inline(always)]
fn top_crc(
    top: &[TopSide; 2],
    fault: Option<SpellError>,
    text: &mut [u8],
    price: Scale,
    qty: Scale,
) -> Result<i32, SpellError> {
    if let Some(e) = fault {
        return Err(e);
    }
    let (ps, qs) = (price.decimals(), qty.decimals());
    let [bids, asks] = top;
    let (nb, na) = (bids.len(), asks.len());
    let mut at = 0;
    for r in 0..nb.min(na) {
        at = bids.put(r, text, at, ps, qs);
        at = asks.put(r, text, at, ps, qs);
    }
    for r in na..nb {
        at = bids.put(r, text, at, ps, qs);
    }
    for r in nb..na {
        at = asks.put(r, text, at, ps, qs);
    }
    // Without the last ':'.
    Ok(crc32fast::hash(&text[..at.saturating_sub(1)]) as i32)
}

/// CRC32 of `bid1:ask1:bid2:ask2:...` over the top 25 levels a side, each
/// level's `px:sz` written by `put(side, level, text, at)` (returning the end).
#[inline]
fn interleaved(
    book: &impl BookRead,
    mut put: impl FnMut(Side, Level, &mut [u8; TEXT_CAP], usize) -> Result<usize, SpellError>,
) -> Result<i32, SpellError> {
    let mut text = [0u8; TEXT_CAP];
    let mut at = 0;
    let mut crc = crc32fast::Hasher::new();
    let mut bids = book.levels(Side::Bid);
    let mut asks = book.levels(Side::Ask);
    for _ in 0..CHECKSUM_LEVELS {
        let (bid, ask) = (bids.next(), asks.next());
        if bid.is_none() && ask.is_none() {
            break;
        }
        // Room for one more level a side, or hash what is there.
        if at + LEVEL_TEXT > TEXT_CAP {
            crc.update(&text[..at]);
            at = 0;
        }
        for (side, level) in [(Side::Bid, bid), (Side::Ask, ask)] {
            let Some(level) = level else { continue };
            at = put(side, level, &mut text, at)?;
            text[at] = b':';
            at += 1;
        }
    }
    // Without the last ':'.
    crc.update(&text[..at.saturating_sub(1)]);
    Ok(crc.finalize() as i32)
}

/// Text of one level a side: four numbers and their separators.
const LEVEL_TEXT: usize = 4 * (NUMBER_CAP + 1);
/// The render buffer: hashed in chunks when full (usually once, at the end:
/// the captures' 25 + 25 levels take ~1 kB).
const TEXT_CAP: usize = 2048;
/// [`BookSpelling`]'s kept buffer, which never fills: 50 levels of at most
/// `2 * NUMBER_CAP + 2` bytes each, plus a slot copy's overshoot.
const KEPT_CAP: usize = 8192;
const _: () = assert!(2 * CHECKSUM_LEVELS * (2 * NUMBER_CAP + 2) + SLOT_TEXT <= KEPT_CAP);

#[cfg(test)]
mod tests {
    use super::*;

    fn render(m: i64, scale: u8, dec: u8) -> String {
        let mut out = [0u8; TEXT_CAP];
        let end = put_number(&mut out, 0, m, scale, dec);
        String::from_utf8(out[..end].to_vec()).unwrap()
    }

    #[test]
    fn renders_the_wire_text() {
        assert_eq!(render(302435, 1, 1), "30243.5");
        assert_eq!(render(3024350, 2, 2), "30243.50");
        assert_eq!(render(302435, 1, 3), "30243.500");
        assert_eq!(render(10, 2, 1), "0.1");
        assert_eq!(render(10, 2, 2), "0.10");
        assert_eq!(render(5, 8, 8), "0.00000005");
        assert_eq!(render(0, 8, 0), "0");
        assert_eq!(render(3024400, 2, 0), "30244");
        assert_eq!(render(-15, 1, 1), "-1.5");
        assert_eq!(render(i64::MAX, 0, 0), "9223372036854775807");
        assert_eq!(render(i64::MAX, 18, 18), "9.223372036854775807");
    }

    #[test]
    fn spelling_counts_decimals_and_refuses_other_forms() {
        assert_eq!(spelling(b"30243.5"), Ok(1));
        assert_eq!(spelling(b"0.10"), Ok(2));
        assert_eq!(spelling(b"30244"), Ok(0));
        assert_eq!(spelling(b"0"), Ok(0));
        assert_eq!(spelling(b"-0.5"), Ok(1));
        assert_eq!(
            spelling(b"01.5"),
            Err(NumError::InvalidChar { at: 0, byte: b'0' })
        );
        assert_eq!(
            spelling(b"-0.00"),
            Err(NumError::InvalidChar { at: 0, byte: b'-' })
        );
        assert_eq!(
            spelling(b"-05"),
            Err(NumError::InvalidChar { at: 1, byte: b'0' })
        );
    }

    proptest::proptest! {
        /// Any plain decimal renders back to its own text.
        #[test]
        fn render_round_trips(text in "-?(0|[1-9][0-9]{0,9})(\\.[0-9]{1,7})?", scale in 7u8..=8) {
            let s = Scale::new(scale).unwrap();
            let m = crate::types::parse_decimal(text.as_bytes(), s, true).unwrap();
            match spelling(text.as_bytes()) {
                Ok(dec) => proptest::prop_assert_eq!(render(m, scale, dec), text),
                // Only a signed zero is refused.
                Err(_) => proptest::prop_assert_eq!(m, 0),
            }
        }
    }
}
