//! The fast path: a template for the `l2_data` frames Coinbase sends.
//!
//! Coinbase writes `{"channel":"l2_data","client_id":..?,"timestamp":..,
//! "sequence_num":N,"events":[{"type":..,"product_id":..,"updates":[{"side":..,
//! "event_time":..,"price_level":..,"new_quantity":..},..]},..]}` with the
//! keys in that order. Every value is read by the shared scan readers or
//! the converters of [`super::msg`], so for any frame it accepts the fast
//! path gives exactly what the tape path gives; on any deviation (another
//! order, whitespace, escapes, an unsubscribed product, a value the readers
//! refuse) it answers `None` and the simd-json tape path decides.

use super::decode::{Body, Bufs, Walked};
use super::msg::{self, L2Event, L2Kind};
use crate::book::Level;
use crate::types::{Price, Qty, ResolveSymbol};
use crate::venue::scan::Cursor;

/// Reads an `l2_data` frame into `bufs`; `None` hands the frame to the
/// tape path (the buffers may then hold partial output).
#[inline]
pub(crate) fn scan<'a, R: ResolveSymbol>(
    frame: &'a [u8],
    symbols: &R,
    bufs: &mut Bufs,
) -> Option<Walked<'a>> {
    let mut c = Cursor::new(frame);
    c.lit(b"{\"channel\":\"l2_data\",")?;
    if c.peek_lit(b"\"client_id\":") {
        c.lit(b"\"client_id\":")?;
        c.string()?;
        c.eat(b',')?;
    }
    c.lit(b"\"timestamp\":")?;
    let ts_ns = msg::time(c.string()?, "timestamp").ok()?;
    c.lit(b",\"sequence_num\":")?;
    let seq = c.uint()?;
    c.lit(b",\"events\":[")?;
    // The last `event_time` read and found valid: a frame's updates
    // usually share one, and the same bytes need no second reading.
    let mut last_time: &[u8] = b"";
    if c.eat(b']').is_none() {
        loop {
            event(&mut c, symbols, bufs, &mut last_time)?;
            if c.eat(b',').is_none() {
                c.eat(b']')?;
                break;
            }
        }
    }
    c.eat(b'}')?;
    if !c.at_end() {
        return None;
    }
    Some(Walked {
        seq: Some(seq),
        ts_ns,
        body: Body::L2,
    })
}

/// One event `{"type":..,"product_id":..,"updates":[..]}`.
#[inline]
fn event<'a, R: ResolveSymbol>(
    c: &mut Cursor<'a>,
    symbols: &R,
    bufs: &mut Bufs,
    last_time: &mut &'a [u8],
) -> Option<()> {
    c.lit(b"{\"type\":")?;
    let kind = match c.string()? {
        b"snapshot" => L2Kind::Snapshot,
        b"update" => L2Kind::Update,
        _ => return None,
    };
    c.lit(b",\"product_id\":")?;
    let scaling = symbols.resolve(c.string()?)?;
    if scaling.negative_prices {
        return None;
    }
    let (b0, a0) = (bufs.n_bids, bufs.n_asks);
    c.lit(b",\"updates\":[")?;
    if c.eat(b']').is_none() {
        loop {
            c.lit(b"{\"side\":\"")?;
            let bid = if c.peek_lit(b"bid\"") {
                c.skip(4);
                true
            } else {
                c.lit(b"offer\"")?;
                false
            };
            c.lit(b",\"event_time\":")?;
            let time = c.string()?;
            if time != *last_time {
                msg::time(time, "event_time").ok()?;
                *last_time = time;
            }
            c.lit(b",\"price_level\":")?;
            let price = c.decimal(None, scaling.price, false)?;
            if price <= 0 {
                return None;
            }
            c.lit(b",\"new_quantity\":")?;
            let qty = c.decimal(None, scaling.qty, false)?;
            c.eat(b'}')?;
            bufs.push(
                bid,
                Level {
                    price: Price(price),
                    qty: Qty(qty),
                },
            )?;
            if c.eat(b',').is_none() {
                c.eat(b']')?;
                break;
            }
        }
    }
    c.eat(b'}')?;
    if bufs.events.len() == bufs.events.capacity() {
        return None;
    }
    bufs.events.push(L2Event {
        scaling: Some(scaling),
        kind,
        bid_range: (b0 as u32, bufs.n_bids as u32),
        ask_range: (a0 as u32, bufs.n_asks as u32),
    });
    Some(())
}
