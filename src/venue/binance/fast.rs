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
use crate::types::{Price, Qty, ResolveSymbol, Scale, Scaling, Venue, parse_decimal_prefix};

/// The pieces of a depth message the template read; levels went to the buffers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DepthHeader {
    pub(crate) scaling: Scaling,
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

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

#[inline(always)]
fn load8(b: &[u8], at: usize) -> Option<u64> {
    let bytes: [u8; 8] = b.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

/// Top bit set in every byte that is not an ASCII digit (see `num.rs`).
#[inline(always)]
fn nondigits(chunk: u64) -> u64 {
    (chunk.wrapping_add(0x4646_4646_4646_4646) | chunk.wrapping_sub(0x3030_3030_3030_3030))
        & 0x8080_8080_8080_8080
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

/// Value of the 8 digit bytes of `chunk` (byte 0 most significant).
#[inline(always)]
fn value8(chunk: u64) -> u64 {
    let v = chunk.wrapping_sub(0x3030_3030_3030_3030);
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let v = ((v & 0x0000_00FF_0000_00FF).wrapping_mul(0x000F_4240_0000_0064))
        .wrapping_add(((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(0x0000_2710_0000_0001));
    v >> 32
}

/// Value of the first `n` (0..=8) digit bytes of `chunk`. Branch-free: the
/// digits move to the top and '0's fill in below (each shift is split in
/// two so that shifting by 64 is never asked for).
#[inline(always)]
fn value_n(chunk: u64, n: usize) -> u64 {
    let up = 4 * (8 - n) as u32;
    let down = 4 * n as u32;
    value8(((chunk << up) << up) | ((0x3030_3030_3030_3030u64 >> down) >> down))
}

const POW10: [u64; 19] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    100_000_000_000,
    1_000_000_000_000,
    10_000_000_000_000,
    100_000_000_000_000,
    1_000_000_000_000_000,
    10_000_000_000_000_000,
    100_000_000_000_000_000,
    1_000_000_000_000_000_000,
];

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

    /// A JSON unsigned integer (no sign, leading zero, fraction or exponent),
    /// eight digits at a time.
    #[inline(always)]
    fn uint(&mut self) -> Option<u64> {
        let start = self.i;
        let mut v: u64 = 0;
        loop {
            let Some(chunk) = load8(self.b, self.i) else {
                return self.uint_tail(start, v);
            };
            let n = (nondigits(chunk).trailing_zeros() / 8) as usize;
            if n > 0 {
                v = v.checked_mul(POW10[n])?.checked_add(value_n(chunk, n))?;
                self.i += n;
            }
            if n < 8 {
                break;
            }
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

    /// The end of an integer within the last eight bytes of the input.
    #[cold]
    fn uint_tail(&mut self, start: usize, mut v: u64) -> Option<u64> {
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

    /// `"<decimal>"` at `scale`. Binance writes eight decimals; that form is
    /// parsed with two 8-byte loads, anything else with the general parser.
    #[inline(always)]
    fn decimal(&mut self, scale: Scale, signed: bool) -> Option<i64> {
        self.eat(b'"')?;
        let at = self.i;
        if let Some((v, used)) = wire8(self.b, at, scale) {
            if self.b.get(at + used) == Some(&b'"') {
                self.i = at + used + 1;
                return Some(v as i64);
            }
        }
        let (v, used) = decimal_general(self.b.get(at..)?, scale, signed)?;
        self.i = at + used;
        self.eat(b'"')?;
        Some(v)
    }

    /// `[["p","q"],...]` into `out`. Not inlined: one copy serves both sides.
    #[inline(never)]
    fn levels(&mut self, scaling: Scaling, out: &mut Vec<Level>, max: usize) -> Option<()> {
        self.eat(b'[')?;
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            let (price, qty) = match level_wire8(self.b, self.i, scaling) {
                Some((price, qty, used)) => {
                    self.i += used;
                    (price, qty)
                }
                None => {
                    self.eat(b'[')?;
                    let price = self.decimal(scaling.price, true)?;
                    self.eat(b',')?;
                    let qty = self.decimal(scaling.qty, false)?;
                    self.eat(b']')?;
                    (price, qty)
                }
            };
            if out.len() == max {
                return None;
            }
            out.push(Level {
                price: Price(price),
                qty: Qty(qty),
            });
            match *self.b.get(self.i)? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

/// Bytes one level can span in its eight-decimal form, with the byte after it.
const LEVEL_WINDOW: usize = 48;

/// `["<wire8>","<wire8>"]` at `at` with nothing else to check: the common
/// spot level, read from one fixed window so the bounds are checked once.
#[inline(always)]
fn level_wire8(b: &[u8], at: usize, scaling: Scaling) -> Option<(i64, i64, usize)> {
    let w: &[u8; LEVEL_WINDOW] = b.get(at..at + LEVEL_WINDOW)?.try_into().ok()?;
    if w[0] != b'[' || w[1] != b'"' {
        return None;
    }
    let (price, p_len) = wire8(w, 2, scaling.price)?;
    // `","` after the price (whose eight decimals end at 2 + p_len).
    let q_at = 2 + p_len + 3;
    if w.get(2 + p_len..q_at)? != b"\",\"" {
        return None;
    }
    let (qty, q_len) = wire8(w, q_at, scaling.qty)?;
    let end = q_at + q_len;
    if w.get(end..end + 2)? != b"\"]" {
        return None;
    }
    Some((price as i64, qty as i64, end + 2))
}

/// Any other decimal form (fewer decimals, futures' `"7.5040"`, signs).
#[cold]
#[inline(never)]
fn decimal_general(text: &[u8], scale: Scale, signed: bool) -> Option<(i64, usize)> {
    parse_decimal_prefix(text, scale, signed).ok()
}

/// `digits.dddddddd` (1–7 integer digits, then eight decimals) at `at`, as
/// an unsigned mantissa at `scale`; `None` for any other form or a value with
/// significant digits past the scale. The caller must check that the byte
/// after the eight decimals is not a digit.
#[inline(always)]
fn wire8(b: &[u8], at: usize, scale: Scale) -> Option<(u64, usize)> {
    let lo = load8(b, at)?;
    let n = (nondigits(lo).trailing_zeros() / 8) as usize;
    // n == 8 would mean no dot in the first 8 bytes.
    if n == 0 || n == 8 || (lo >> (8 * n)) as u8 != b'.' {
        return None;
    }
    // The caller checks that the byte after the eight decimals ends the number.
    let frac = load8(b, at + n + 1)?;
    if nondigits(frac) != 0 {
        return None;
    }
    let s = usize::from(scale.decimals());
    let keep = s.min(8);
    if keep < 8 {
        // Decimals past the scale must be zeros.
        let tail = frac >> (8 * keep);
        if tail != 0x3030_3030_3030_3030u64 >> (8 * keep) {
            return None;
        }
    }
    let digits = if n + 1 + keep <= 8 {
        // Integer and kept decimals are all in the first 8 bytes: drop the
        // dot (shift the bytes after it down by one) and convert once.
        let below = (1u64 << (8 * n)) - 1;
        value_n((lo & below) | ((lo >> 8) & !below), n + keep)
    } else {
        value_n(lo, n).checked_mul(POW10[keep])? + value_n(frac, keep)
    };
    let v = digits.checked_mul(POW10[s - keep])?;
    (v <= i64::MAX as u64).then_some((v, n + 9))
}

/// Recognises a whole stream frame. `None` means "use the tape path"; the
/// level buffers may then hold partial output and must be cleared.
#[inline]
pub(crate) fn scan<R: ResolveSymbol>(
    frame: &[u8],
    venue: Venue,
    symbols: &R,
    bids: &mut Vec<Level>,
    asks: &mut Vec<Level>,
    max_levels: usize,
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
        Fast::Depth(depth(&mut c, venue, symbols, bids, asks, max_levels)?)
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
    bids: &mut Vec<Level>,
    asks: &mut Vec<Level>,
    max_levels: usize,
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
    c.lit(b",\"U\":")?;
    let first_id = c.uint()?;
    c.lit(b",\"u\":")?;
    let final_id = c.uint()?;
    let prev_final_id = if c.peek_lit(b",\"pu\":") {
        c.i += 6;
        Some(c.uint()?)
    } else if venue == Venue::BinanceUsdm {
        return None;
    } else {
        None
    };
    c.lit(b",\"b\":")?;
    c.levels(scaling, bids, max_levels)?;
    c.lit(b",\"a\":")?;
    c.levels(scaling, asks, max_levels)?;
    c.eat(b'}')?;
    Some(DepthHeader {
        scaling,
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
    let update_id = c.uint()?;
    c.lit(b",\"s\":")?;
    let scaling = symbols.resolve(c.string()?)?;
    c.lit(b",\"b\":")?;
    let bid_price = Price(c.decimal(scaling.price, true)?);
    c.lit(b",\"B\":")?;
    let bid_qty = Qty(c.decimal(scaling.qty, false)?);
    c.lit(b",\"a\":")?;
    let ask_price = Price(c.decimal(scaling.price, true)?);
    c.lit(b",\"A\":")?;
    let ask_qty = Qty(c.decimal(scaling.qty, false)?);
    let (mut transact_ms, mut event_ms) = (None, None);
    if futures {
        c.lit(b",\"T\":")?;
        transact_ms = Some(c.uint()?);
        c.lit(b",\"E\":")?;
        event_ms = Some(c.uint()?);
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
    let id_key: &[u8] = if aggregated { b",\"a\":" } else { b",\"t\":" };
    let mut id = None;
    if c.peek_lit(id_key) {
        c.i += 5;
        id = Some(c.uint()?);
    }
    c.lit(b",\"s\":")?;
    let scaling = symbols.resolve(c.string()?)?;
    if id.is_none() {
        c.lit(id_key)?;
        id = Some(c.uint()?);
    }
    let id = id?;
    c.lit(b",\"p\":")?;
    let price = Price(c.decimal(scaling.price, true)?);
    c.lit(b",\"q\":")?;
    let qty = Qty(c.decimal(scaling.qty, false)?);
    let (first_id, last_id) = if aggregated {
        c.lit(b",\"f\":")?;
        let f = c.uint()?;
        c.lit(b",\"l\":")?;
        (f, c.uint()?)
    } else {
        (id, id)
    };
    c.lit(b",\"T\":")?;
    let trade_ms = c.uint()?;
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
    bids: &mut Vec<Level>,
    asks: &mut Vec<Level>,
    max_levels: usize,
) -> Option<SnapshotHeader> {
    let mut c = Cursor { b: body, i: 0 };
    c.lit(b"{\"lastUpdateId\":")?;
    let last_update_id = c.uint()?;
    let (mut event_ms, mut transact_ms) = (None, None);
    if c.peek_lit(b",\"E\":") {
        c.i += 5;
        event_ms = Some(c.uint()?);
        c.lit(b",\"T\":")?;
        transact_ms = Some(c.uint()?);
    }
    c.lit(b",\"bids\":")?;
    c.levels(scaling, bids, max_levels)?;
    c.lit(b",\"asks\":")?;
    c.levels(scaling, asks, max_levels)?;
    c.eat(b'}')?;
    (c.i == body.len()).then_some(SnapshotHeader {
        last_update_id,
        event_ms,
        transact_ms,
    })
}
