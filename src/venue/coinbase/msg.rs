//! Coinbase Advanced Trade wire messages, borrowed from the decoder's
//! buffers.
//!
//! Every frame but an error carries the envelope
//! `{"channel", "client_id"?, "timestamp", "sequence_num", "events":[..]}`;
//! `sequence_num` is one counter per connection across every channel. Both
//! decoders (the template fast path and the simd-json tape walk) turn every
//! value through the converters here, so they cannot disagree.

use super::time::rfc3339_ns;
use crate::book::Level;
use crate::types::{Aggressor, Nanos, NumError, Price, Qty, Scale, Scaling, Venue, parse_decimal};
use crate::venue::{DecodeError, Location, What};

/// A decoded Coinbase frame: its envelope and what it carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoinbaseFrame<'a> {
    /// `sequence_num`: `None` only for error frames, which have no envelope.
    pub seq: Option<u64>,
    /// `timestamp`, ns since the epoch (0 for error frames).
    pub ts_ns: Nanos,
    /// The content.
    pub msg: CoinbaseMsg<'a>,
}

/// What a frame carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoinbaseMsg<'a> {
    /// `l2_data`: book snapshots and updates, one event per product, in order.
    L2(L2Msg<'a>),
    /// `market_trades`: trades (of subscribed products), in order.
    Trades(&'a [TradeMsg]),
    /// `ticker` (or `ticker_batch`): best bid/offer per product, in order.
    Tickers(&'a [TickerMsg]),
    /// `subscriptions`: the channels now subscribed (an ack).
    Subscriptions,
    /// `heartbeats`: `heartbeat_counter`.
    Heartbeat {
        /// The venue's counter.
        counter: u64,
    },
    /// `{"type":"error","message":..}`: a request was refused.
    Error {
        /// The venue's message (empty when absent).
        message: &'a str,
    },
    /// A channel tickwire does not consume (`candles`, `status`, ...).
    Unhandled {
        /// The channel.
        channel: &'a str,
    },
}

/// Snapshot or update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L2Kind {
    /// The whole book: replaces what is held.
    Snapshot,
    /// Changed levels; `new_quantity` `"0"` removes.
    Update,
}

/// One `l2_data` event: which product, and where its levels are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct L2Event {
    /// The product's instrument and scales; `None`: not subscribed (its
    /// levels were not read).
    pub scaling: Option<Scaling>,
    /// Snapshot or update.
    pub kind: L2Kind,
    /// The bids are `bids[bid_range.0..bid_range.1]` of the message.
    pub bid_range: (u32, u32),
    /// The offers are `asks[ask_range.0..ask_range.1]` of the message.
    pub ask_range: (u32, u32),
}

/// The events of an `l2_data` frame and their levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct L2Msg<'a> {
    /// The events, in frame order.
    pub events: &'a [L2Event],
    /// Every event's bids, in wire order.
    pub bids: &'a [Level],
    /// Every event's offers, in wire order.
    pub asks: &'a [Level],
}

impl<'a> L2Msg<'a> {
    /// The bids of `e`.
    pub fn bids_of(&self, e: &L2Event) -> &'a [Level] {
        self.bids
            .get(e.bid_range.0 as usize..e.bid_range.1 as usize)
            .unwrap_or(&[])
    }

    /// The offers of `e`.
    pub fn asks_of(&self, e: &L2Event) -> &'a [Level] {
        self.asks
            .get(e.ask_range.0 as usize..e.ask_range.1 as usize)
            .unwrap_or(&[])
    }
}

/// One trade of `market_trades`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradeMsg {
    /// Instrument and scales.
    pub scaling: Scaling,
    /// `trade_id` (digits in a string).
    pub trade_id: u64,
    /// `price`.
    pub price: Price,
    /// `size` (above zero).
    pub qty: Qty,
    /// `side`: the taker's side (`BUY` / `SELL`).
    pub aggressor: Aggressor,
    /// `time`, ns.
    pub time_ns: Nanos,
    /// False for the trades of a `snapshot` event (the recent trades sent
    /// on subscribing, already past), true for those of an `update`.
    pub live: bool,
}

/// One ticker's best bid and offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TickerMsg {
    /// Instrument and scales.
    pub scaling: Scaling,
    /// `best_bid`, `best_bid_quantity`.
    pub bid: Level,
    /// `best_ask`, `best_ask_quantity`.
    pub ask: Level,
}

/// The channels the decoder tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Chan {
    L2,
    Trades,
    Ticker,
    Subscriptions,
    Heartbeats,
    /// A channel Coinbase documents that tickwire does not consume.
    Other,
}

impl Chan {
    /// The channel of a `channel` value; `None`: not a Coinbase channel.
    pub(crate) fn of(name: &[u8]) -> Option<Chan> {
        Some(match name {
            b"l2_data" => Chan::L2,
            b"market_trades" => Chan::Trades,
            b"ticker" | b"ticker_batch" => Chan::Ticker,
            b"subscriptions" => Chan::Subscriptions,
            b"heartbeats" => Chan::Heartbeats,
            b"candles" | b"status" | b"user" | b"futures_balance_summary" => Chan::Other,
            _ => return None,
        })
    }
}

/// An error at a plain field.
#[cold]
pub(crate) fn err(what: What, key: &'static str) -> DecodeError {
    DecodeError {
        venue: Venue::Coinbase,
        what,
        at: Location::field(key),
    }
}

/// An error at the top level.
#[cold]
pub(crate) fn root_err(what: What) -> DecodeError {
    DecodeError {
        venue: Venue::Coinbase,
        what,
        at: Location::Root,
    }
}

/// An error at element `part` (0 price, 1 quantity) of update `index`.
#[cold]
pub(crate) fn update_err(what: What, index: usize, part: Option<u8>) -> DecodeError {
    DecodeError {
        venue: Venue::Coinbase,
        what,
        at: Location::Field {
            key: "updates",
            level: Some(u32::try_from(index).unwrap_or(u32::MAX)),
            part,
        },
    }
}

/// A timestamp field.
#[inline]
pub(crate) fn time(s: &[u8], key: &'static str) -> Result<Nanos, DecodeError> {
    rfc3339_ns(s).ok_or_else(|| err(What::UnknownMessage, key))
}

/// Scale 0: integers.
const UNITS: Scale = match Scale::new(0) {
    Some(s) => s,
    None => panic!("scale 0 exists"),
};

/// An id sent as a string of digits.
#[inline]
pub(crate) fn digits(s: &[u8], key: &'static str) -> Result<u64, DecodeError> {
    let v = parse_decimal(s, UNITS, false).map_err(|e| err(What::Number(e), key))?;
    Ok(v as u64)
}

/// A price above zero (unless the instrument allows otherwise).
#[inline]
pub(crate) fn price(s: &[u8], scaling: Scaling) -> Result<i64, NumError> {
    parse_decimal(s, scaling.price, scaling.negative_prices)
}

/// One update's `price_level` and `new_quantity`, update `index`.
#[inline]
pub(crate) fn level(
    px: &[u8],
    qty: &[u8],
    scaling: Scaling,
    index: usize,
) -> Result<Level, DecodeError> {
    let p = price(px, scaling).map_err(|e| update_err(What::Number(e), index, Some(0)))?;
    if p <= 0 && !scaling.negative_prices {
        return Err(update_err(What::NotPositive, index, Some(0)));
    }
    let q = parse_decimal(qty, scaling.qty, false)
        .map_err(|e| update_err(What::Number(e), index, Some(1)))?;
    Ok(Level {
        price: Price(p),
        qty: Qty(q),
    })
}

/// `side` of an update: true for `bid`, false for `offer`.
#[inline]
pub(crate) fn side(s: &[u8], index: usize) -> Result<bool, DecodeError> {
    match s {
        b"bid" => Ok(true),
        b"offer" => Ok(false),
        _ => Err(update_err(What::UnknownMessage, index, None)),
    }
}

/// A trade's `price`, `size` and `side`.
pub(crate) fn trade_values(
    px: &[u8],
    sz: &[u8],
    side: &[u8],
    scaling: Scaling,
) -> Result<(Price, Qty, Aggressor), DecodeError> {
    let p = price(px, scaling).map_err(|e| err(What::Number(e), "price"))?;
    if p <= 0 && !scaling.negative_prices {
        return Err(err(What::NotPositive, "price"));
    }
    let q = parse_decimal(sz, scaling.qty, false).map_err(|e| err(What::Number(e), "size"))?;
    if q == 0 {
        return Err(err(What::NotPositive, "size"));
    }
    let aggressor = match side {
        b"BUY" => Aggressor::Buy,
        b"SELL" => Aggressor::Sell,
        _ => return Err(err(What::UnknownMessage, "side")),
    };
    Ok((Price(p), Qty(q), aggressor))
}

/// A ticker's best bid or offer (`key` names the price field).
pub(crate) fn quote(
    px: &[u8],
    qty: &[u8],
    scaling: Scaling,
    key: &'static str,
    qty_key: &'static str,
) -> Result<Level, DecodeError> {
    let p = price(px, scaling).map_err(|e| err(What::Number(e), key))?;
    if p <= 0 && !scaling.negative_prices {
        return Err(err(What::NotPositive, key));
    }
    let q = parse_decimal(qty, scaling.qty, false).map_err(|e| err(What::Number(e), qty_key))?;
    Ok(Level {
        price: Price(p),
        qty: Qty(q),
    })
}
