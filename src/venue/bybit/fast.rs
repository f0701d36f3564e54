//! The fast path: templates for the usual `orderbook.{depth}.{symbol}`
//! snapshot and delta frames (`orderbook.1` included: the top of book),
//! `publicTrade.{symbol}` and linear `tickers.{symbol}`.
//!
//! Bybit writes a book message's keys in one of two orders (see the
//! fixtures): linear (and the history dumps) `topic, type, ts, data, cts`,
//! spot `topic, ts, type, data, cts`; `data` is `s, b, a, u, seq` in both.
//! Trades come as `topic, type, ts, data` (linear) or `topic, ts, type,
//! data` (spot), each trade's keys in any order; linear tickers as `topic,
//! type, data, cs, ts`, the keys of `data` in any order. Each is matched as
//! a template, values parsed in the same pass with the venue-neutral
//! readers of [`crate::venue::scan`] or the tape path's own converters. On
//! any other envelope order, whitespace, escape, repeated key, unknown
//! symbol, a member value that is not a plain scalar, or a value out of
//! range the template answers `None` and the caller runs the simd-json tape
//! path, the reference: the fast path never reports an error of its own, so
//! for every frame it takes it gives exactly what the tape path gives
//! (tested on every fixture frame and on generated ones).

use super::msg::{
    BybitMsg, BybitTrade, Kind, TickerField, TickerMsg, TopOfBook, Topic, topic, trade_id,
};
use super::tape::{BookHead, Head};
use crate::book::Level;
use crate::types::{Aggressor, Price, Qty, ResolveSymbol, Scaling, Venue};
use crate::venue::scan::{Cursor, LevelBuf, PriceShape, id};

/// Recognises a whole book, trade or linear ticker frame. `None` means
/// "use the tape path"; the buffers may then hold partial output and must
/// be cleared.
#[inline]
pub(crate) fn scan<'a, R: ResolveSymbol>(
    frame: &[u8],
    venue: Venue,
    symbols: &R,
    bids: &mut LevelBuf,
    asks: &mut LevelBuf,
    trades: &mut Vec<BybitTrade>,
    shape: &mut PriceShape,
) -> Option<Head<'a>> {
    let mut c = Cursor::new(frame);
    c.lit(b"{\"topic\":")?;
    match topic(c.string()?) {
        Topic::Book { depth, symbol } => {
            let scaling = symbols.resolve(symbol)?;
            book(&mut c, scaling, depth, bids, asks, shape)
        }
        Topic::Trade { symbol } => public_trades(&mut c, symbols.resolve(symbol)?, trades),
        // Spot tickers carry no best bid/offer: the tape path reports them.
        Topic::Ticker { symbol } if venue != Venue::BybitSpot => {
            ticker(&mut c, symbols.resolve(symbol)?)
        }
        _ => None,
    }
}

/// The rest of a book frame, after its topic.
#[inline]
fn book<'a>(
    c: &mut Cursor<'_>,
    scaling: Scaling,
    depth: u32,
    bids: &mut LevelBuf,
    asks: &mut LevelBuf,
    shape: &mut PriceShape,
) -> Option<Head<'a>> {
    let (kind, ts_ms);
    if c.peek_lit(b",\"type\":\"") {
        c.skip(9);
        kind = book_kind(c)?;
        c.lit(b",\"ts\":")?;
        ts_ms = c.uint()?;
    } else {
        c.lit(b",\"ts\":")?;
        ts_ms = c.uint()?;
        c.lit(b",\"type\":\"")?;
        kind = book_kind(c)?;
    }
    c.lit(b",\"data\":{\"s\":")?;
    c.string()?;
    c.lit(b",\"b\":")?;
    c.levels(scaling, bids, shape)?;
    c.lit(b",\"a\":")?;
    c.levels(scaling, asks, shape)?;
    let update_id = id(c.keyed_uint(b",\"u\":")?)?;
    c.lit(b",\"seq\":")?;
    let seq = id(c.uint()?)?;
    c.lit(b"},\"cts\":")?;
    let cts_ms = c.uint()?;
    c.eat(b'}')?;
    if !c.at_end() {
        return None;
    }
    if depth == 1 {
        // The tape path refuses more than one level a side here.
        let (b, a) = (bids.as_slice(), asks.as_slice());
        if b.len() > 1 || a.len() > 1 {
            return None;
        }
        let top = |l: &[Level]| l.first().copied().filter(|l| l.qty.0 != 0);
        return Some(Head::Done(BybitMsg::TopOfBook(TopOfBook {
            scaling,
            update_id,
            seq: Some(seq),
            ts_ms,
            cts_ms: Some(cts_ms),
            bid: top(b),
            ask: top(a),
        })));
    }
    Some(Head::Book(BookHead {
        scaling,
        depth,
        kind,
        update_id,
        seq: Some(seq),
        ts_ms,
        cts_ms: Some(cts_ms),
    }))
}

/// `snapshot"` or `delta"` (the opening quote already read).
#[inline(always)]
fn book_kind(c: &mut Cursor<'_>) -> Option<Kind> {
    if c.peek_lit(b"delta\"") {
        c.skip(6);
        Some(Kind::Delta)
    } else if c.peek_lit(b"snapshot\"") {
        c.skip(9);
        Some(Kind::Snapshot)
    } else {
        None
    }
}

/// A member value the templates do not read: a string, a boolean or an
/// unsigned integer (anything else: the tape path).
#[inline]
fn skip_scalar(c: &mut Cursor<'_>) -> Option<()> {
    if c.peek_lit(b"\"") {
        c.string().map(drop)
    } else if c.boolean().is_some() {
        Some(())
    } else {
        c.uint().map(drop)
    }
}

/// A price as the tape path reads it; zero and negative ones go there.
#[inline]
fn price(text: &[u8], scaling: Scaling) -> Option<Price> {
    Price::parse(text, scaling.price).ok().filter(|p| p.0 > 0)
}

/// The rest of a `publicTrade` frame: `ts` and `type` (either order; the
/// type is not read, as on the tape path), then the trades.
#[inline]
fn public_trades<'a>(
    c: &mut Cursor<'_>,
    scaling: Scaling,
    out: &mut Vec<BybitTrade>,
) -> Option<Head<'a>> {
    let ts_ms;
    if c.peek_lit(b",\"type\":") {
        c.skip(8);
        c.string()?;
        c.lit(b",\"ts\":")?;
        ts_ms = c.uint()?;
    } else {
        c.lit(b",\"ts\":")?;
        ts_ms = c.uint()?;
        c.lit(b",\"type\":")?;
        c.string()?;
    }
    c.lit(b",\"data\":[")?;
    if c.eat(b']').is_none() {
        loop {
            // More than the buffer holds: the tape path reports it.
            if out.len() == out.capacity() {
                return None;
            }
            out.push(trade(c, scaling)?);
            if c.eat(b',').is_none() {
                c.eat(b']')?;
                break;
            }
        }
    }
    c.eat(b'}')?;
    c.at_end().then_some(Head::Trades(scaling, ts_ms))
}

/// One trade object, its keys in any order.
#[inline]
fn trade(c: &mut Cursor<'_>, scaling: Scaling) -> Option<BybitTrade> {
    c.eat(b'{')?;
    let mut t = BybitTrade {
        id: 0,
        price: Price::ZERO,
        qty: Qty::ZERO,
        aggressor: Aggressor::Buy,
        trade_ms: 0,
        seq: None,
    };
    let mut seen = 0u8;
    loop {
        let key = c.string()?;
        c.eat(b':')?;
        let bit = match key {
            b"T" => {
                t.trade_ms = c.uint()?;
                1
            }
            b"S" => {
                t.aggressor = match c.string()? {
                    b"Buy" => Aggressor::Buy,
                    b"Sell" => Aggressor::Sell,
                    _ => return None,
                };
                2
            }
            b"v" => {
                t.qty = Qty::parse(c.string()?, scaling.qty).ok()?;
                4
            }
            b"p" => {
                t.price = price(c.string()?, scaling)?;
                8
            }
            b"i" => {
                t.id = trade_id(c.string()?).ok()?;
                16
            }
            b"seq" => {
                t.seq = Some(id(c.uint()?)?);
                32
            }
            _ => {
                skip_scalar(c)?;
                0
            }
        };
        if seen & bit != 0 {
            return None;
        }
        seen |= bit;
        if c.eat(b',').is_none() {
            break;
        }
    }
    c.eat(b'}')?;
    (seen & 31 == 31 && t.qty.0 != 0).then_some(t)
}

/// The rest of a linear `tickers` frame: `type`, `data` (its keys in any
/// order), `cs`, `ts`.
#[inline]
fn ticker<'a>(c: &mut Cursor<'_>, scaling: Scaling) -> Option<Head<'a>> {
    c.lit(b",\"type\":\"")?;
    let kind = book_kind(c)?;
    c.lit(b",\"data\":{")?;
    let mut m = TickerMsg {
        scaling,
        kind,
        cs: None,
        ts_ms: 0,
        bid_price: TickerField::Absent,
        bid_qty: TickerField::Absent,
        ask_price: TickerField::Absent,
        ask_qty: TickerField::Absent,
    };
    let mut seen = 0u8;
    if c.eat(b'}').is_none() {
        loop {
            let key = c.string()?;
            c.eat(b':')?;
            let bit = match key {
                b"bid1Price" => {
                    m.bid_price = field(c, |s| price(s, scaling))?;
                    1
                }
                b"bid1Size" => {
                    m.bid_qty = field(c, |s| Qty::parse(s, scaling.qty).ok())?;
                    2
                }
                b"ask1Price" => {
                    m.ask_price = field(c, |s| price(s, scaling))?;
                    4
                }
                b"ask1Size" => {
                    m.ask_qty = field(c, |s| Qty::parse(s, scaling.qty).ok())?;
                    8
                }
                _ => {
                    skip_scalar(c)?;
                    0
                }
            };
            if seen & bit != 0 {
                return None;
            }
            seen |= bit;
            if c.eat(b',').is_none() {
                c.eat(b'}')?;
                break;
            }
        }
    }
    c.lit(b",\"cs\":")?;
    m.cs = Some(id(c.uint()?)?);
    c.lit(b",\"ts\":")?;
    m.ts_ms = c.uint()?;
    c.eat(b'}')?;
    c.at_end().then_some(Head::Done(BybitMsg::Ticker(m)))
}

/// A ticker field's string: `""` is [`TickerField::Empty`], anything else
/// goes through `parse`.
#[inline]
fn field<T>(c: &mut Cursor<'_>, parse: impl Fn(&[u8]) -> Option<T>) -> Option<TickerField<T>> {
    match c.string()? {
        b"" => Some(TickerField::Empty),
        s => parse(s).map(TickerField::Value),
    }
}
