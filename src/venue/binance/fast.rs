//! The fast path: templates for the exact frames Binance sends.
//!
//! Binance writes each stream's keys in a fixed order (see the fixtures), so
//! each message type is matched as a template — literal key bytes, then the
//! value parsed in the same pass (decimals eight digits at a time). On any
//! deviation (another key order, whitespace, escapes, an unknown symbol, a
//! value out of range) the template answers `None` and the caller runs the
//! simd-json tape path, which is the reference: the fast path never reports
//! an error of its own, so for every frame it accepts it must give exactly
//! what the tape path gives (property-tested and fuzzed against it).

use super::msg::{BinanceMsg, BookTicker, DepthUpdate, TradeMsg};
use crate::book::Level;
use crate::types::swar::{ZEROS, load8, nondigits};
use crate::types::{Price, Qty, ResolveSymbol, Scale, Scaling, Venue};
use crate::venue::scan::{Wire8, decimal_general, id, positive, uint15};

/// The pieces of a depth message the template read; levels went to the buffers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DepthHeader {
    pub(crate) scaling: Scaling,
    /// Every level was read in the eight-decimal form ([`Wire8`]), so every
    /// price is in `1..10^15` and every quantity in `0..10^15`.
    pub(crate) bounded: bool,
    pub(crate) event_ms: u64,
    pub(crate) transact_ms: Option<u64>,
    pub(crate) first_id: u64,
    pub(crate) final_id: u64,
    pub(crate) prev_final_id: Option<u64>,
}

impl DepthHeader {
    pub(crate) fn with_levels<'a>(self, bids: &'a [Level], asks: &'a [Level]) -> DepthUpdate<'a> {
        DepthUpdate {
            scaling: self.scaling,
            event_ms: self.event_ms,
            transact_ms: self.transact_ms,
            first_id: self.first_id,
            final_id: self.final_id,
            prev_final_id: self.prev_final_id,
            bids,
            asks,
        }
    }
}

/// What a template recognised.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Fast {
    /// A depth diff (levels are in the decoder's buffers).
    Depth(DepthHeader),
    /// Any other complete message.
    Other(BinanceMsg<'static>),
}

/// A REST snapshot header (levels are in the buffers).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SnapshotHeader {
    pub(crate) last_update_id: u64,
    pub(crate) event_ms: Option<u64>,
    pub(crate) transact_ms: Option<u64>,
}

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

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

/// Top bit set in every byte that is `"`, `\\`, a control byte or non-ASCII.
#[inline(always)]
fn special_bytes(chunk: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    // Bytes below 0x20: subtracting 0x20 wraps them past 0x80 (unless the
    // byte already had the top bit, which is flagged anyway).
    let control = chunk.wrapping_sub(0x2020_2020_2020_2020) & !chunk & HIGH;
    has_zero(chunk ^ 0x2222_2222_2222_2222)
        | has_zero(chunk ^ 0x5C5C_5C5C_5C5C_5C5C)
        | control
        | (chunk & HIGH)
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

/// Bytes of a `,"x":` key with the longest value read from a window: an
/// eight-decimal number with a 7-digit integer part and its quotes (23), or
/// a 15-digit integer and the two 8-byte loads that read it (21).
const FIELD_WINDOW: usize = 24;

impl<'a> Cursor<'a> {
    #[inline(always)]
    fn eat(&mut self, c: u8) -> Option<()> {
        if *self.b.get(self.i)? == c {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    #[inline(always)]
    fn lit(&mut self, s: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + s.len())? == s {
            self.i += s.len();
            Some(())
        } else {
            None
        }
    }

    #[inline(always)]
    fn peek_lit(&self, s: &[u8]) -> bool {
        self.b.get(self.i..self.i + s.len()) == Some(s)
    }

    /// String content up to the closing quote; no escapes, controls or
    /// non-ASCII. Eight bytes at a time where eight are readable.
    #[inline(always)]
    fn string(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let start = self.i;
        while let Some(chunk) = load8(self.b, self.i) {
            let stop = special_bytes(chunk);
            if stop != 0 {
                self.i += (stop.trailing_zeros() / 8) as usize;
                break;
            }
            self.i += 8;
        }
        loop {
            let c = *self.b.get(self.i)?;
            if c == b'"' {
                self.i += 1;
                return Some(&self.b[start..self.i - 1]);
            }
            if c == b'\\' || !(0x20..0x80).contains(&c) {
                return None;
            }
            self.i += 1;
        }
    }

    /// A JSON unsigned integer (no sign, leading zero, fraction or exponent).
    /// Up to 15 digits are read with two 8-byte loads and no loop; anything
    /// else (longer, near the input's end, or not an integer) takes the
    /// byte loop, which decides.
    #[inline(always)]
    fn uint(&mut self) -> Option<u64> {
        match uint15(self.b, self.i) {
            Some((v, n)) => {
                self.i += n;
                Some(v)
            }
            None => self.uint_slow(),
        }
    }

    /// `key` (`,"x":`) then an unsigned integer. Read from one fixed window
    /// when the input has room for it: every offset in it is then provably
    /// in bounds, so the checks go; otherwise the checked way.
    #[inline(always)]
    fn keyed_uint(&mut self, key: &[u8; 5]) -> Option<u64> {
        if let Some(w) = self.window() {
            if w[..5] == *key {
                if let Some((v, n)) = uint15(w, 5) {
                    self.i += 5 + n;
                    return Some(v);
                }
            }
        }
        self.lit(key)?;
        self.uint()
    }

    /// `key` (`,"x":`) then `"<decimal>"`, as [`Cursor::keyed_uint`].
    #[inline(always)]
    fn keyed_decimal(
        &mut self,
        key: &[u8; 5],
        w: Option<Wire8>,
        scale: Scale,
        signed: bool,
    ) -> Option<i64> {
        if let (Some(r), Some(win)) = (w, self.window()) {
            if win[..5] == *key && win[5] == b'"' {
                if let Some((v, end)) = r.number(win, 6) {
                    if win[end] == b'"' {
                        self.i += end + 1;
                        return Some(v);
                    }
                }
            }
        }
        self.lit(key)?;
        self.decimal(w, scale, signed)
    }

    /// The next [`FIELD_WINDOW`] bytes, if there are that many.
    #[inline(always)]
    fn window(&self) -> Option<&'a [u8; FIELD_WINDOW]> {
        self.b.get(self.i..)?.first_chunk()
    }

    /// An integer of 16 or more digits, near the end of the input, or not
    /// an integer at all: the byte loop with overflow checks.
    #[cold]
    fn uint_slow(&mut self) -> Option<u64> {
        let start = self.i;
        let mut v: u64 = 0;
        while let Some(&c) = self.b.get(self.i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            v = v.checked_mul(10)?.checked_add(u64::from(d))?;
            self.i += 1;
        }
        let len = self.i - start;
        if len == 0
            || (len > 1 && self.b[start] == b'0')
            || matches!(self.b.get(self.i), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        Some(v)
    }

    #[inline(always)]
    fn boolean(&mut self) -> Option<bool> {
        if self.peek_lit(b"true") {
            self.i += 4;
            Some(true)
        } else if self.peek_lit(b"false") {
            self.i += 5;
            Some(false)
        } else {
            None
        }
    }

    /// `"<decimal>"` at `scale`, read by `w` when given. Binance writes
    /// eight decimals; that form is read by [`Wire8::number`], anything else
    /// by the general parser.
    #[inline(always)]
    fn decimal(&mut self, w: Option<Wire8>, scale: Scale, signed: bool) -> Option<i64> {
        self.eat(b'"')?;
        let at = self.i;
        if let Some((v, end)) = w.and_then(|w| w.number(self.b, at)) {
            if self.b.get(end) == Some(&b'"') {
                self.i = end + 1;
                return Some(v);
            }
        }
        let (v, used) = decimal_general(self.b.get(at..)?, scale, signed)?;
        self.i = at + used;
        self.eat(b'"')?;
        Some(v)
    }

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
    fn levels(
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

/// Recognises a whole stream frame. `None` means "use the tape path"; the
/// level buffers may then hold partial output and must be cleared.
#[inline]
pub(crate) fn scan<R: ResolveSymbol>(
    frame: &[u8],
    venue: Venue,
    symbols: &R,
    bids: &mut LevelBuf,
    asks: &mut LevelBuf,
    shape: &mut PriceShape,
) -> Option<Fast> {
    let mut c = Cursor { b: frame, i: 0 };
    let wrapped = c.peek_lit(b"{\"stream\":\"");
    if wrapped {
        c.i = 10;
        c.string()?;
        c.lit(b",\"data\":")?;
    }
    let out = if c.peek_lit(b"{\"e\":\"depthUpdate\",\"E\":") {
        c.i += 23;
        Fast::Depth(depth(&mut c, venue, symbols, bids, asks, shape)?)
    } else if c.peek_lit(b"{\"u\":") {
        c.i += 5;
        Fast::Other(BinanceMsg::BookTicker(book_ticker(&mut c, symbols, false)?))
    } else if c.peek_lit(b"{\"e\":\"bookTicker\",\"u\":") {
        c.i += 22;
        Fast::Other(BinanceMsg::BookTicker(book_ticker(&mut c, symbols, true)?))
    } else if c.peek_lit(b"{\"e\":\"trade\",\"E\":") {
        c.i += 17;
        Fast::Other(BinanceMsg::Trade(trade(&mut c, symbols, false)?))
    } else if c.peek_lit(b"{\"e\":\"aggTrade\",\"E\":") {
        c.i += 20;
        Fast::Other(BinanceMsg::Trade(trade(&mut c, symbols, true)?))
    } else {
        return None;
    };
    if wrapped {
        c.eat(b'}')?;
    }
    (c.i == frame.len()).then_some(out)
}

/// After `{"e":"depthUpdate","E":`.
#[inline(always)]
fn depth<R: ResolveSymbol>(
    c: &mut Cursor<'_>,
    venue: Venue,
    symbols: &R,
    bids: &mut LevelBuf,
    asks: &mut LevelBuf,
    shape: &mut PriceShape,
) -> Option<DepthHeader> {
    let event_ms = c.uint()?;
    let transact_ms = if c.peek_lit(b",\"T\":") {
        c.i += 5;
        Some(c.uint()?)
    } else {
        None
    };
    c.lit(b",\"s\":")?;
    let scaling = symbols.resolve(c.string()?)?;
    let first_id = id(c.keyed_uint(b",\"U\":")?)?;
    let final_id = id(c.keyed_uint(b",\"u\":")?)?;
    let prev_final_id = if c.peek_lit(b",\"pu\":") {
        c.i += 6;
        Some(id(c.uint()?)?)
    } else if venue == Venue::BinanceUsdm {
        return None;
    } else {
        None
    };
    c.lit(b",\"b\":")?;
    let bounded = c.levels(scaling, bids, shape)?;
    c.lit(b",\"a\":")?;
    let bounded = c.levels(scaling, asks, shape)? & bounded;
    c.eat(b'}')?;
    Some(DepthHeader {
        scaling,
        bounded,
        event_ms,
        transact_ms,
        first_id,
        final_id,
        prev_final_id,
    })
}

/// After `{"u":` (spot) or `{"e":"bookTicker","u":` (futures).
#[inline(always)]
fn book_ticker<R: ResolveSymbol>(
    c: &mut Cursor<'_>,
    symbols: &R,
    futures: bool,
) -> Option<BookTicker> {
    let update_id = id(c.uint()?)?;
    c.lit(b",\"s\":")?;
    let scaling = symbols.resolve(c.string()?)?;
    let (price, qty) = (Wire8::new(scaling.price), Wire8::new(scaling.qty));
    let bid_price = Price(positive(c.keyed_decimal(
        b",\"b\":",
        price,
        scaling.price,
        false,
    )?)?);
    let bid_qty = Qty(c.keyed_decimal(b",\"B\":", qty, scaling.qty, false)?);
    let ask_price = Price(positive(c.keyed_decimal(
        b",\"a\":",
        price,
        scaling.price,
        false,
    )?)?);
    let ask_qty = Qty(c.keyed_decimal(b",\"A\":", qty, scaling.qty, false)?);
    let (mut transact_ms, mut event_ms) = (None, None);
    if futures {
        transact_ms = Some(c.keyed_uint(b",\"T\":")?);
        event_ms = Some(c.keyed_uint(b",\"E\":")?);
    }
    c.eat(b'}')?;
    Some(BookTicker {
        scaling,
        update_id,
        bid_price,
        bid_qty,
        ask_price,
        ask_qty,
        event_ms,
        transact_ms,
    })
}

/// After `{"e":"trade","E":` or `{"e":"aggTrade","E":`. Spot writes the
/// symbol before the id, futures the aggregate id first.
#[inline(always)]
fn trade<R: ResolveSymbol>(c: &mut Cursor<'_>, symbols: &R, aggregated: bool) -> Option<TradeMsg> {
    let event_ms = c.uint()?;
    let id_key: &[u8; 5] = if aggregated { b",\"a\":" } else { b",\"t\":" };
    let mut id = None;
    if c.peek_lit(id_key) {
        c.i += 5;
        id = Some(c.uint()?);
    }
    c.lit(b",\"s\":")?;
    let scaling = symbols.resolve(c.string()?)?;
    if id.is_none() {
        id = Some(c.keyed_uint(id_key)?);
    }
    let id = self::id(id?)?;
    let (p, q) = (scaling.price, scaling.qty);
    let price = Price(positive(c.keyed_decimal(
        b",\"p\":",
        Wire8::new(p),
        p,
        false,
    )?)?);
    let qty = Qty(positive(c.keyed_decimal(
        b",\"q\":",
        Wire8::new(q),
        q,
        false,
    )?)?);
    let (first_id, last_id) = if aggregated {
        let f = self::id(c.keyed_uint(b",\"f\":")?)?;
        (f, self::id(c.keyed_uint(b",\"l\":")?)?)
    } else {
        (id, id)
    };
    let trade_ms = c.keyed_uint(b",\"T\":")?;
    c.lit(b",\"m\":")?;
    let buyer_is_maker = c.boolean()?;
    if c.peek_lit(b",\"M\":") {
        c.i += 5;
        c.boolean()?;
    }
    c.eat(b'}')?;
    Some(TradeMsg {
        scaling,
        aggregated,
        id,
        price,
        qty,
        buyer_is_maker,
        trade_ms,
        event_ms,
        first_id,
        last_id,
    })
}

/// A REST depth body: `{"lastUpdateId":N[,"E":N,"T":N],"bids":[..],"asks":[..]}`.
#[inline]
pub(crate) fn scan_snapshot(
    body: &[u8],
    scaling: Scaling,
    bids: &mut LevelBuf,
    asks: &mut LevelBuf,
) -> Option<SnapshotHeader> {
    let mut c = Cursor { b: body, i: 0 };
    c.lit(b"{\"lastUpdateId\":")?;
    let last_update_id = id(c.uint()?)?;
    let (mut event_ms, mut transact_ms) = (None, None);
    if c.peek_lit(b",\"E\":") {
        c.i += 5;
        event_ms = Some(c.uint()?);
        c.lit(b",\"T\":")?;
        transact_ms = Some(c.uint()?);
    }
    let mut shape = PriceShape::default();
    c.lit(b",\"bids\":")?;
    c.levels(scaling, bids, &mut shape)?;
    c.lit(b",\"asks\":")?;
    c.levels(scaling, asks, &mut shape)?;
    c.eat(b'}')?;
    (c.i == body.len()).then_some(SnapshotHeader {
        last_update_id,
        event_ms,
        transact_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{MarketConfig, MarketSim};
    use crate::types::{Registry, parse_decimal_prefix};
    use crate::venue::binance::BinanceDecoder;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

    /// Decodes `frame` with and without the fast path and requires the same
    /// answer; returns whether the fast path took it.
    fn same_both_ways(venue: Venue, registry: &Registry, frame: &[u8]) -> bool {
        let mut fast = BinanceDecoder::new(venue);
        let mut tape = BinanceDecoder::new(venue);
        tape.set_fast_path(false);
        let symbols = registry.venue(venue);
        let a = fast.decode_bounded(frame, &symbols);
        if let Ok((BinanceMsg::Depth(d), true)) = a {
            // What `bounded` promises the sync machine.
            let range = 0..1_000_000_000_000_000;
            assert!(
                d.bids
                    .iter()
                    .chain(d.asks)
                    .all(|l| { range.contains(&l.price.0) && range.contains(&l.qty.0) })
            );
        }
        let a = a.map(|(msg, _)| msg);
        let b = tape.decode(frame, &symbols);
        assert_eq!(a, b, "{}", String::from_utf8_lossy(frame));
        fast.stats().fast == 1
    }

    fn same_snapshot(venue: Venue, scaling: Scaling, body: &[u8]) -> bool {
        let mut fast = BinanceDecoder::new(venue);
        let mut tape = BinanceDecoder::new(venue);
        tape.set_fast_path(false);
        assert_eq!(
            fast.decode_snapshot(body, scaling),
            tape.decode_snapshot(body, scaling)
        );
        fast.stats().fast == 1
    }

    /// The four symbols of a fixture directory, registered at `tick`/`lot`.
    fn fixture_registry(venue: Venue, symbols: &[&str], tick: &str, lot: &str) -> Registry {
        let mut r = Registry::new();
        for s in symbols {
            r.add(venue, s, tick, lot).unwrap();
        }
        r
    }

    const SPOT: [&str; 4] = ["NKNUSDT", "BLZETH", "LRCBTC", "RUNEEUR"];
    const USDM: [&str; 4] = ["SUSHIUSDT", "AKROUSDT", "CTKUSDT", "KEEPUSDT"];

    /// Tick/lot pairs whose scales span too few decimals (the tape path's
    /// errors), the wire's eight, and more than `Wire8` reads.
    const INCREMENTS: [(&str, &str); 6] = [
        ("0.00000001", "0.00000001"),
        ("0.01", "0.00001"),
        ("1", "1"),
        ("0.0000000001", "0.00000000001"),
        ("0.000000000001", "0.0000000000001"),
        ("0.0001", "0.001"),
    ];

    #[test]
    fn fixtures_decode_the_same_both_ways() {
        for (venue, dir, symbols) in [
            (Venue::BinanceSpot, "binance", SPOT),
            (Venue::BinanceUsdm, "binance_futures", USDM),
        ] {
            for (tick, lot) in INCREMENTS {
                let registry = fixture_registry(venue, &symbols, tick, lot);
                let mut fast = 0;
                let text = std::fs::read_to_string(format!(
                    "{FIXTURES}/{dir}/ws_combined_all_frames.jsonl"
                ))
                .unwrap();
                for line in text.lines() {
                    fast += usize::from(same_both_ways(venue, &registry, line.as_bytes()));
                }
                if tick == "0.00000001" {
                    // Every depth, ticker and trade frame is a template's.
                    assert!(fast * 10 > text.lines().count() * 7, "{dir}: {fast}");
                }
                for (i, s) in symbols.iter().enumerate() {
                    let body =
                        std::fs::read(format!("{FIXTURES}/{dir}/rest_depth_snapshot_{s}.json"))
                            .unwrap();
                    let scaling = registry.get(crate::types::InstrumentId(i as u32)).scaling();
                    same_snapshot(venue, scaling, &body);
                }
            }
        }
    }

    #[test]
    fn generated_frames_decode_the_same_both_ways() {
        for venue in [Venue::BinanceSpot, Venue::BinanceUsdm] {
            for (tick, lot) in INCREMENTS {
                let mut registry = Registry::new();
                registry.add(venue, "BTCUSDT", tick, lot).unwrap();
                let mut sim = MarketSim::new(MarketConfig::btcusdt(venue, 11));
                let mut frame = Vec::new();
                let mut fast = 0;
                for i in 0..300 {
                    match i % 3 {
                        0 => sim.depth_update(&mut frame),
                        1 => sim.book_ticker(&mut frame),
                        _ => sim.trade(&mut frame),
                    }
                    fast += usize::from(same_both_ways(venue, &registry, &frame));
                }
                if tick == "0.01" {
                    assert_eq!(fast, 300, "{venue}");
                }
                sim.snapshot(1000, &mut frame);
                same_snapshot(
                    venue,
                    registry.get(crate::types::InstrumentId(0)).scaling(),
                    &frame,
                );
            }
        }
    }

    /// One decoder reused across frames whose prices change length within a
    /// side, between sides and between frames: the price-length guess the
    /// decoder carries must never change an answer.
    #[test]
    fn price_length_guesses_never_change_answers() {
        let venue = Venue::BinanceSpot;
        let mut registry = Registry::new();
        registry.add(venue, "BTCUSDT", "0.01", "0.00001").unwrap();
        let symbols = registry.venue(venue);
        let mut fast = BinanceDecoder::new(venue);
        let mut tape = BinanceDecoder::new(venue);
        tape.set_fast_path(false);
        let mut rng = crate::sim::Rng::new(3);
        let mut taken = 0;
        for frame_no in 0..400u64 {
            let side = |rng: &mut crate::sim::Rng| {
                let levels: Vec<String> = (0..rng.below(6))
                    .map(|_| {
                        let digits = 1 + rng.below(7) as u32;
                        let int = rng.below(10u64.pow(digits));
                        let qty_int = rng.below(100_000);
                        // Mostly the wire form; now and then a short one.
                        let frac = if rng.chance(1, 20) { "5" } else { "01000000" };
                        format!("[\"{int}.{frac}\",\"{qty_int}.00500000\"]")
                    })
                    .collect();
                levels.join(",")
            };
            let (b, a) = (side(&mut rng), side(&mut rng));
            let frame = format!(
                "{{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"BTCUSDT\",\"U\":{frame_no},\
                 \"u\":{frame_no},\"b\":[{b}],\"a\":[{a}]}}"
            );
            let got = fast.decode(frame.as_bytes(), &symbols);
            assert_eq!(got, tape.decode(frame.as_bytes(), &symbols), "{frame}");
            taken += usize::from(got.is_ok());
        }
        assert_eq!(fast.stats().fast, 400);
        assert!(taken > 300);
    }

    /// Regression: the fast path took number strings over 64 bytes, which
    /// the tape path refuses (`NumError::TooLong`).
    #[test]
    fn numbers_over_64_bytes_are_refused_as_the_tape_path_does() {
        let mut registry = Registry::new();
        registry
            .add(Venue::BinanceSpot, "NKNUSDT", "0.00000001", "0.00000001")
            .unwrap();
        for text in [
            format!("{}1", "0".repeat(70)),
            format!("1.{}", "0".repeat(70)),
            format!("{}1", "0".repeat(63)),
        ] {
            for frame in [
                format!(
                    r#"{{"e":"depthUpdate","E":1,"s":"NKNUSDT","U":1,"u":2,"b":[["{text}","1.00000000"]],"a":[]}}"#
                ),
                format!(r#"{{"u":1,"s":"NKNUSDT","b":"{text}","B":"1","a":"1","A":"1"}}"#),
            ] {
                same_both_ways(Venue::BinanceSpot, &registry, frame.as_bytes());
            }
        }
    }

    /// The byte loop every fast integer must agree with: JSON's unsigned form.
    fn uint_reference(text: &[u8]) -> Option<(u64, usize)> {
        let n = text.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 || (n > 1 && text[0] == b'0') || matches!(text.get(n), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        let v = std::str::from_utf8(&text[..n]).ok()?.parse().ok()?;
        Some((v, n))
    }

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

        /// The integer reader agrees with the reference on any input.
        #[test]
        fn uint_agrees_with_reference(text in "[0-9]{0,22}[0-9.eE,}x]{0,20}") {
            let mut c = Cursor { b: text.as_bytes(), i: 0 };
            let got = c.uint().map(|v| (v, c.i));
            proptest::prop_assert_eq!(got, uint_reference(text.as_bytes()));
        }

        /// Any byte changed anywhere in a frame: the fast path either gives
        /// up or gives exactly the tape path's answer.
        #[test]
        fn mutated_frames_decode_the_same_both_ways(
            seed in 0u64..64,
            kind in 0usize..3,
            edits in proptest::collection::vec((0usize..1000, 0usize..20), 1..4),
            usdm: bool,
        ) {
            let venue = if usdm { Venue::BinanceUsdm } else { Venue::BinanceSpot };
            let mut registry = Registry::new();
            registry.add(venue, "BTCUSDT", "0.01", "0.00001").unwrap();
            let mut sim = MarketSim::new(MarketConfig::btcusdt(venue, seed));
            let mut frame = Vec::new();
            match kind {
                0 => sim.depth_update(&mut frame),
                1 => sim.book_ticker(&mut frame),
                _ => sim.trade(&mut frame),
            }
            const BYTES: &[u8; 20] = b"0159.\",]}[-e +\\xA\x7f\x00\t";
            for (at, byte) in edits {
                let at = at % frame.len();
                frame[at] = BYTES[byte];
            }
            same_both_ways(venue, &registry, &frame);
        }
    }
}
