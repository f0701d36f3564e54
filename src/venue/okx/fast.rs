//! The fast path: a template for the `books`, `bbo-tbt` and `trades`
//! frames OKX sends.
//!
//! OKX writes `{"arg":{"channel":..,"instId":..},"action":..,"data":[{..}]}`
//! (`trades` without `action`) with the envelope's keys in that order; the
//! keys inside `data[0]` (`asks`, `bids`, `ts`, `checksum`, `prevSeqId`,
//! `seqId`) and inside each trade (`tradeId`, `px`, `sz`, `side`, `ts`, and
//! string members not read, such as `instId` and `count`) are read in any
//! order. Every value goes through the same converters as the tape path
//! ([`super::msg`]), so for any frame it accepts the fast path gives exactly
//! what the tape path gives; on any deviation (another envelope order,
//! whitespace, escapes, an unknown key or symbol, a value the converters
//! refuse) it answers `None` and the simd-json tape path decides.

use super::checksum::Spell;
use super::decode::{BookHead, SideBuf, Walked};
use super::msg::{self, Action, Chan, TradeMsg};
use crate::book::Level;
use crate::types::{Price, Qty};
use crate::types::{ResolveSymbol, Scaling};
use crate::venue::scan::Cursor;

/// Reads a `books` or `bbo-tbt` frame into `bids` / `asks`, a `trades`
/// frame into `out`; `None` hands the frame to the tape path (the buffers
/// may then hold partial output).
#[inline]
pub(crate) fn scan<'a, R: ResolveSymbol>(
    frame: &'a [u8],
    symbols: &R,
    bids: &mut SideBuf,
    asks: &mut SideBuf,
    out: &mut Vec<TradeMsg>,
) -> Option<Walked<'a>> {
    let mut c = Cursor::new(frame);
    c.lit(b"{\"arg\":{\"channel\":")?;
    let chan = Chan::of(c.string()?)?;
    c.lit(b",\"instId\":")?;
    let scaling = symbols.resolve(c.string()?)?;
    c.eat(b'}')?;
    if chan == Chan::Trades {
        return trades(&mut c, scaling, out);
    }
    let books = chan == Chan::Books;
    let action = if books {
        c.lit(b",\"action\":")?;
        match c.string()? {
            b"snapshot" => Some(Action::Snapshot),
            b"update" => Some(Action::Update),
            _ => return None,
        }
    } else {
        None
    };
    c.lit(b",\"data\":[{")?;
    let max = if books { usize::MAX } else { 1 };
    let mut item = Item::default();
    loop {
        let key = c.string()?;
        c.eat(b':')?;
        let bit = match key {
            b"asks" => {
                levels(&mut c, scaling, asks, max)?;
                1
            }
            b"bids" => {
                levels(&mut c, scaling, bids, max)?;
                2
            }
            b"ts" => {
                item.ts_ms = msg::ts_ms(c.string()?).ok()?;
                4
            }
            b"checksum" if books => {
                item.checksum = Some(msg::checksum(int(&mut c)?).ok()?);
                8
            }
            b"prevSeqId" if books => {
                item.prev_seq_id = Some(int(&mut c)?);
                16
            }
            b"seqId" => {
                item.seq_id = Some(int(&mut c)?);
                32
            }
            _ => return None,
        };
        if item.seen & bit != 0 {
            return None;
        }
        item.seen |= bit;
        if c.eat(b',').is_none() {
            break;
        }
    }
    c.lit(b"}]}")?;
    if !c.at_end() || item.seen & 7 != 7 {
        return None;
    }
    Some(match action {
        Some(action) => Walked::Book(BookHead {
            scaling,
            action,
            ts_ms: item.ts_ms,
            checksum: item.checksum,
            seq_id: item.seq_id,
            prev_seq_id: item.prev_seq_id,
        }),
        None => Walked::Bbo {
            scaling,
            ts_ms: item.ts_ms,
            seq_id: item.seq_id,
        },
    })
}

/// The members of `data[0]` read so far.
#[derive(Default)]
struct Item {
    /// One bit per key seen (a repeated key goes to the tape path).
    seen: u8,
    ts_ms: u64,
    checksum: Option<i32>,
    seq_id: Option<i64>,
    prev_seq_id: Option<i64>,
}

/// A JSON integer that fits `i64` (`-0` and `i64::MIN` go to the tape path).
#[inline]
fn int(c: &mut Cursor<'_>) -> Option<i64> {
    let negative = c.eat(b'-').is_some();
    let v = i64::try_from(c.uint()?).ok()?;
    match (negative, v) {
        (false, v) => Some(v),
        (true, 0) => None,
        (true, v) => Some(-v),
    }
}

/// `[[px, sz, "0", numOrders], ...]` (2 to 4 strings a level) into `buf`.
#[inline]
fn levels(c: &mut Cursor<'_>, scaling: Scaling, buf: &mut SideBuf, max: usize) -> Option<()> {
    c.eat(b'[')?;
    if c.eat(b']').is_some() {
        return Some(());
    }
    let mut index = 0;
    loop {
        c.eat(b'[')?;
        let (price, px) = c.spelled_decimal(scaling.price)?;
        c.eat(b',')?;
        let (qty, sz) = c.spelled_decimal(scaling.qty)?;
        // The usual tail, `,"0","<count>"]` (the deprecated field and the
        // order count), read in one look; any other, string by string.
        if c.peek_lit(b",\"0\",\"") {
            c.lit(b",\"0\",\"")?;
            c.uint()?;
            c.lit(b"\"]")?;
        } else {
            let mut parts = 2;
            while c.eat(b',').is_some() {
                c.string()?;
                parts += 1;
                if parts > 4 {
                    return None;
                }
            }
            c.eat(b']')?;
        }
        if index >= max {
            return None;
        }
        // Zero and negative prices: the tape path accepts or reports them.
        if price <= 0 {
            return None;
        }
        let level = Level {
            price: Price(price),
            qty: Qty(qty),
        };
        buf.push(level, Spell { px, sz })?;
        index += 1;
        if c.eat(b',').is_none() {
            return c.eat(b']');
        }
    }
}

/// `,"data":[{..},..]}` of a `trades` frame into `out`.
#[inline]
fn trades<'a>(c: &mut Cursor<'_>, scaling: Scaling, out: &mut Vec<TradeMsg>) -> Option<Walked<'a>> {
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
    c.at_end().then_some(Walked::Trades)
}

/// One trade object, its keys in any order; every member is a string (any
/// other value: the tape path). The values go through the tape path's
/// converters.
#[inline]
fn trade(c: &mut Cursor<'_>, scaling: Scaling) -> Option<TradeMsg> {
    c.eat(b'{')?;
    let mut v: [Option<&[u8]>; 5] = [None; 5];
    loop {
        let key = c.string()?;
        c.eat(b':')?;
        let value = c.string()?;
        let slot = match key {
            b"tradeId" => 0,
            b"px" => 1,
            b"sz" => 2,
            b"side" => 3,
            b"ts" => 4,
            _ => 5,
        };
        if let Some(s) = v.get_mut(slot) {
            // A repeated key: the tape path decides which counts.
            if s.replace(value).is_some() {
                return None;
            }
        }
        if c.eat(b',').is_none() {
            break;
        }
    }
    c.eat(b'}')?;
    let [id, px, sz, side, ts] = v;
    let (price, qty, aggressor) = msg::trade_values(px?, sz?, side?, scaling).ok()?;
    Some(TradeMsg {
        scaling,
        trade_id: msg::digits(id?, "tradeId").ok()?,
        price,
        qty,
        aggressor,
        ts_ms: msg::ts_ms(ts?).ok()?,
    })
}
