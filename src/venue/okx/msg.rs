//! OKX v5 public wire messages, borrowed from the decoder's buffers.
//!
//! Both decoders (the simd-json tape walk and the template fast path) turn
//! every value through the converters here ([`level`], [`ts_ms`],
//! [`checksum`], ...), so they cannot disagree about what a value means.

use crate::book::Level;
use crate::types::{Aggressor, NumError, Price, Qty, Scale, Scaling, Venue, parse_decimal};
use crate::venue::{DecodeError, JsonType, Location, What};

use super::checksum::{Spell, spelling};

/// A decoded OKX frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OkxMsg<'a> {
    /// `books`: a snapshot or an update of the 400-level book.
    Book(BookMsg<'a>),
    /// `bbo-tbt`: best bid and offer, tick by tick.
    Bbo(BboMsg),
    /// `trades`: one or more trades, in the frame's order.
    Trades(&'a [TradeMsg]),
    /// `{"event":"subscribe","arg":{..}}`: one subscription confirmed.
    Subscribed(Subscription<'a>),
    /// `{"event":"unsubscribe","arg":{..}}`: one subscription ended.
    Unsubscribed(Subscription<'a>),
    /// `{"event":"error","code":"60018","msg":".."}`: a request was refused.
    VenueError {
        /// The venue's code (sent as a string of digits).
        code: i64,
        /// The venue's message (empty when absent).
        msg: &'a str,
    },
    /// `{"event":"notice",..}`: e.g. the connection will close for a
    /// service upgrade (code 64008): reconnect.
    Notice {
        /// The venue's code.
        code: i64,
        /// The venue's message.
        msg: &'a str,
    },
    /// The text `pong` (not JSON): the answer to our text `ping`.
    Pong,
    /// A valid OKX frame of a channel tickwire does not consume (`tickers`
    /// among them: its best bid/offer is not tick by tick, `bbo-tbt` is the
    /// BBO source), or an event without market data (`login`,
    /// `channel-conn-count`).
    Unhandled {
        /// The channel, or the event.
        channel: &'a str,
    },
    /// Market data for an `instId` that is not subscribed (ignored).
    UnknownSymbol {
        /// The `instId` as sent.
        symbol: &'a str,
    },
}

/// `books` `action`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// The whole book: replaces what is held.
    Snapshot,
    /// Changed levels; size `"0"` deletes.
    Update,
}

/// One `books` message (its `data` holds exactly one element; a frame with
/// more or fewer is refused: OKX never sends one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookMsg<'a> {
    /// Instrument and scales (from `arg.instId`).
    pub scaling: Scaling,
    /// Snapshot or update.
    pub action: Action,
    /// `ts`: ms.
    pub ts_ms: u64,
    /// `checksum`: `None` when absent; OKX sends 0 when it computed none.
    pub checksum: Option<i32>,
    /// `seqId` (absent in frames before 2023).
    pub seq_id: Option<i64>,
    /// `prevSeqId` (-1 on a snapshot).
    pub prev_seq_id: Option<i64>,
    /// `bids`, best first.
    pub bids: &'a [Level],
    /// `asks`, best first.
    pub asks: &'a [Level],
    /// How each bid was spelled (same order as `bids`).
    pub bid_spells: &'a [Spell],
    /// How each ask was spelled.
    pub ask_spells: &'a [Spell],
}

/// `bbo-tbt`: the top of the book (a side may be empty).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BboMsg {
    /// Instrument and scales.
    pub scaling: Scaling,
    /// `ts`: ms.
    pub ts_ms: u64,
    /// `seqId`, when sent.
    pub seq_id: Option<i64>,
    /// Best bid.
    pub bid: Option<Level>,
    /// Best ask.
    pub ask: Option<Level>,
}

/// One trade of a `trades` frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradeMsg {
    /// Instrument and scales.
    pub scaling: Scaling,
    /// `tradeId` (a string of digits on the wire).
    pub trade_id: u64,
    /// `px`.
    pub price: Price,
    /// `sz` (above zero).
    pub qty: Qty,
    /// `side`: the taker's side.
    pub aggressor: Aggressor,
    /// `ts`: ms.
    pub ts_ms: u64,
}

/// The `arg` of a subscribe or unsubscribe ack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subscription<'a> {
    /// `channel`.
    pub channel: &'a str,
    /// `instId`, when the channel has one.
    pub inst_id: Option<&'a str>,
}

/// The channels tickwire consumes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Chan {
    Books,
    Bbo,
    Trades,
}

impl Chan {
    pub(crate) fn of(name: &[u8]) -> Option<Chan> {
        match name {
            b"books" => Some(Chan::Books),
            b"bbo-tbt" => Some(Chan::Bbo),
            b"trades" => Some(Chan::Trades),
            _ => None,
        }
    }
}

/// An error at a plain field.
#[cold]
pub(crate) fn err(what: What, key: &'static str) -> DecodeError {
    DecodeError {
        venue: Venue::Okx,
        what,
        at: Location::field(key),
    }
}

/// An error at element `part` of level `index` of `key`.
#[cold]
pub(crate) fn level_err(
    what: What,
    key: &'static str,
    index: usize,
    part: Option<u8>,
) -> DecodeError {
    DecodeError {
        venue: Venue::Okx,
        what,
        at: Location::Field {
            key,
            level: Some(u32::try_from(index).unwrap_or(u32::MAX)),
            part,
        },
    }
}

/// `[px, sz, "0", numOrders]` of side `key` (`"asks"`/`"bids"`), level
/// `index`: the level and its spelling. Price above zero unless the
/// instrument allows otherwise; size unsigned; both plain decimals.
#[inline]
pub(crate) fn level(
    px: &[u8],
    sz: &[u8],
    scaling: Scaling,
    key: &'static str,
    index: usize,
) -> Result<(Level, Spell), DecodeError> {
    let number = |e: NumError, part| level_err(What::Number(e), key, index, Some(part));
    let price =
        parse_decimal(px, scaling.price, scaling.negative_prices).map_err(|e| number(e, 0))?;
    if price <= 0 && !scaling.negative_prices {
        return Err(level_err(What::NotPositive, key, index, Some(0)));
    }
    let qty = parse_decimal(sz, scaling.qty, false).map_err(|e| number(e, 1))?;
    let spell = Spell {
        px: spelling(px).map_err(|e| number(e, 0))?,
        sz: spelling(sz).map_err(|e| number(e, 1))?,
    };
    let level = Level {
        price: Price(price),
        qty: Qty(qty),
    };
    Ok((level, spell))
}

/// Scale 0: integers.
const UNITS: Scale = match Scale::new(0) {
    Some(s) => s,
    None => panic!("scale 0 exists"),
};

/// A millisecond timestamp or id sent as a string of digits.
#[inline]
pub(crate) fn digits(s: &[u8], key: &'static str) -> Result<u64, DecodeError> {
    let v = parse_decimal(s, UNITS, false).map_err(|e| err(What::Number(e), key))?;
    // Unsigned parse: never negative.
    Ok(v as u64)
}

/// `ts`.
#[inline]
pub(crate) fn ts_ms(s: &[u8]) -> Result<u64, DecodeError> {
    digits(s, "ts")
}

/// `checksum`: a signed 32-bit integer.
#[inline]
pub(crate) fn checksum(v: i64) -> Result<i32, DecodeError> {
    i32::try_from(v).map_err(|_| err(What::Expected(JsonType::Integer), "checksum"))
}

/// A trade's `px`, `sz` and `side`.
pub(crate) fn trade_values(
    px: &[u8],
    sz: &[u8],
    side: &[u8],
    scaling: Scaling,
) -> Result<(Price, Qty, Aggressor), DecodeError> {
    let price = parse_decimal(px, scaling.price, scaling.negative_prices)
        .map_err(|e| err(What::Number(e), "px"))?;
    if price <= 0 && !scaling.negative_prices {
        return Err(err(What::NotPositive, "px"));
    }
    let qty = parse_decimal(sz, scaling.qty, false).map_err(|e| err(What::Number(e), "sz"))?;
    if qty == 0 {
        return Err(err(What::NotPositive, "sz"));
    }
    let aggressor = match side {
        b"buy" => Aggressor::Buy,
        b"sell" => Aggressor::Sell,
        _ => return Err(err(What::UnknownMessage, "side")),
    };
    Ok((Price(price), Qty(qty), aggressor))
}

/// An error event's `code`: digits in a string (or a JSON integer).
pub(crate) fn code_text(s: &[u8]) -> Result<i64, DecodeError> {
    parse_decimal(s, UNITS, true).map_err(|e| err(What::Number(e), "code"))
}
