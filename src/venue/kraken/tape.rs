//! The reference decode: any key order, any whitespace, every error named.
//! The template fast path (`fast.rs`) must agree with it on every frame it
//! accepts.
//!
//! Not simd-json's tape, unlike the other venues: it turns bare numbers
//! into `f64` and keeps no text, and Kraken's prices and quantities must be
//! read from their text. The walk is [`Json`]'s, over the frame's bytes.
//! Fields whose meaning depends on another (levels need the symbol's
//! scales) are found first and read once that one is known, so key order
//! never matters.

use super::json::{Json, expected};
use super::msg::{
    BboMsg, BookEntry, BookKind, KrakenMsg, TradeMsg, aggressor, checksum, err, level, timestamp,
    trade_values, uint,
};
use crate::book::Level;
use crate::types::{ResolveSymbol, Scaling, Venue};
use crate::venue::{DecodeError, JsonType, Location, What};

/// Where the walk writes what does not fit in the returned message.
#[derive(Debug)]
pub(crate) struct Out<'o> {
    pub(crate) bids: &'o mut Vec<Level>,
    pub(crate) asks: &'o mut Vec<Level>,
    pub(crate) entries: &'o mut Vec<BookEntry>,
    pub(crate) trades: &'o mut Vec<TradeMsg>,
    pub(crate) bbos: &'o mut Vec<BboMsg>,
}

impl Out<'_> {
    /// Empties every buffer (capacity kept).
    pub(crate) fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
        self.entries.clear();
        self.trades.clear();
        self.bbos.clear();
    }
}

/// What a walk produced before the buffers are lent out.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Walked<'a> {
    /// A message needing no buffer.
    Msg(KrakenMsg<'a>),
    /// A `book` frame: entries and levels in the buffers.
    Book(BookKind),
    /// `ticker`: in the BBO buffer.
    Bbo,
    /// `trade`: in the trade buffer.
    Trades,
}

/// The top-level fields, found in any order.
#[derive(Default)]
struct Top<'a> {
    channel: Option<&'a [u8]>,
    kind: Option<&'a [u8]>,
    method: Option<&'a [u8]>,
    success: Option<bool>,
    error: Option<&'a [u8]>,
    symbol: Option<&'a [u8]>,
    result_symbol: Option<&'a [u8]>,
    result_channel: Option<&'a [u8]>,
    /// Byte offset of `data`'s value.
    data: Option<usize>,
}

/// Decodes one frame by the reference walk.
pub(crate) fn decode_general<'a, R: ResolveSymbol>(
    frame: &'a [u8],
    symbols: &R,
    out: &mut Out<'_>,
) -> Result<Walked<'a>, DecodeError> {
    if let Err(e) = std::str::from_utf8(frame) {
        return Err(DecodeError {
            venue: Venue::Kraken,
            what: What::NotUtf8,
            at: Location::Byte(u32::try_from(e.valid_up_to()).unwrap_or(u32::MAX)),
        });
    }
    let mut j = Json::new(frame);
    if j.peek() != Some(b'{') {
        j.skip()?;
        j.end()?;
        return Err(DecodeError {
            venue: Venue::Kraken,
            what: What::Expected(JsonType::Object),
            at: Location::Root,
        });
    }
    let mut top = Top::default();
    j.object(|j, key| {
        match key {
            b"channel" => top.channel = Some(j.str_of("channel")?),
            b"type" => top.kind = Some(j.str_of("type")?),
            b"method" => top.method = Some(j.str_of("method")?),
            b"success" => top.success = Some(j.boolean("success")?),
            b"error" => top.error = Some(j.str_of("error")?),
            b"symbol" => top.symbol = Some(j.str_of("symbol")?),
            b"result" if j.peek() == Some(b'{') => j.object(|j, key| {
                match key {
                    b"channel" => top.result_channel = Some(j.str_of("channel")?),
                    b"symbol" => top.result_symbol = Some(j.str_of("symbol")?),
                    _ => j.skip()?,
                }
                Ok(())
            })?,
            b"data" => {
                top.data = Some(j.pos());
                j.skip()?;
            }
            _ => j.skip()?,
        }
        Ok(())
    })?;
    j.end()?;
    if let Some(method) = top.method {
        return Ok(Walked::Msg(answer(method, &top)?));
    }
    let Some(channel) = top.channel else {
        return Err(err(What::Missing, "channel"));
    };
    let data = || top.data.ok_or(err(What::Missing, "data"));
    match channel {
        b"heartbeat" => Ok(Walked::Msg(KrakenMsg::Heartbeat)),
        b"status" => status(frame, data()?),
        b"book" => {
            let kind = match top.kind {
                Some(b"snapshot") => BookKind::Snapshot,
                Some(b"update") => BookKind::Update,
                Some(_) => return Err(err(What::UnknownMessage, "type")),
                None => return Err(err(What::Missing, "type")),
            };
            each(frame, data()?, |j| book_entry(frame, j, symbols, out))?;
            if out.entries.is_empty() {
                return Ok(Walked::Msg(KrakenMsg::UnknownSymbol));
            }
            Ok(Walked::Book(kind))
        }
        b"ticker" => {
            each(frame, data()?, |j| ticker(j, symbols, out))?;
            if out.bbos.is_empty() {
                return Ok(Walked::Msg(KrakenMsg::UnknownSymbol));
            }
            Ok(Walked::Bbo)
        }
        b"trade" => {
            each(frame, data()?, |j| trade(j, symbols, out))?;
            if out.trades.is_empty() {
                return Ok(Walked::Msg(KrakenMsg::UnknownSymbol));
            }
            Ok(Walked::Trades)
        }
        _ => Ok(Walked::Msg(KrakenMsg::Unhandled)),
    }
}

/// A reply to a request (`method` present).
fn answer<'a>(method: &'a [u8], top: &Top<'a>) -> Result<KrakenMsg<'a>, DecodeError> {
    let text = |b: &'a [u8]| std::str::from_utf8(b).unwrap_or("");
    if method == b"pong" {
        return Ok(KrakenMsg::Pong);
    }
    let sub = method == b"subscribe" || method == b"unsubscribe";
    match top.success {
        Some(false) => Ok(KrakenMsg::Refused {
            error: top.error.map_or("", text),
            symbol: top.symbol.or(top.result_symbol).map(text),
        }),
        Some(true) if sub => Ok(KrakenMsg::Ack {
            unsubscribe: method == b"unsubscribe",
            channel: top.result_channel.map_or("", text),
        }),
        None if sub => Err(err(What::Missing, "success")),
        _ => Ok(KrakenMsg::Unhandled),
    }
}

/// Calls `f` on each element of the array at `at` (which must be one).
fn each<'a>(
    frame: &'a [u8],
    at: usize,
    mut f: impl FnMut(&mut Json<'a>) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    let mut j = Json::at(frame, at);
    if j.peek() != Some(b'[') {
        return Err(expected(JsonType::Array, "data"));
    }
    j.array(|j, _| {
        if j.peek() != Some(b'{') {
            return Err(expected(JsonType::Object, "data"));
        }
        f(j)
    })
}

fn status<'a>(frame: &'a [u8], at: usize) -> Result<Walked<'a>, DecodeError> {
    let mut id = None;
    let mut online = None;
    each(frame, at, |j| {
        j.object(|j, key| {
            match key {
                b"connection_id" => id = Some(uint(j.num_of("connection_id")?, "connection_id")?),
                b"system" => online = Some(j.str_of("system")? == b"online"),
                _ => j.skip()?,
            }
            Ok(())
        })
    })?;
    Ok(Walked::Msg(KrakenMsg::Status {
        connection_id: id.ok_or(err(What::Missing, "connection_id"))?,
        online: online.ok_or(err(What::Missing, "system"))?,
    }))
}

/// One element of a `book` frame's `data`.
fn book_entry<'a, R: ResolveSymbol>(
    frame: &'a [u8],
    j: &mut Json<'a>,
    symbols: &R,
    out: &mut Out<'_>,
) -> Result<(), DecodeError> {
    let (mut symbol, mut bids, mut asks, mut sum, mut ts) = (None, None, None, None, None);
    j.object(|j, key| {
        match key {
            b"symbol" => symbol = Some(j.str_of("symbol")?),
            b"bids" => {
                bids = Some(j.pos());
                j.skip()?;
            }
            b"asks" => {
                asks = Some(j.pos());
                j.skip()?;
            }
            b"checksum" => sum = Some(checksum(j.num_of("checksum")?)?),
            b"timestamp" => ts = Some(j.str_of("timestamp")?),
            _ => j.skip()?,
        }
        Ok(())
    })?;
    let symbol = symbol.ok_or(err(What::Missing, "symbol"))?;
    let bids = bids.ok_or(err(What::Missing, "bids"))?;
    let asks = asks.ok_or(err(What::Missing, "asks"))?;
    let checksum = sum.ok_or(err(What::Missing, "checksum"))?;
    let exch_ns = ts.map_or(Ok(0), timestamp)?;
    let Some(scaling) = symbols.resolve(symbol) else {
        return Ok(());
    };
    if out.entries.len() == out.entries.capacity() {
        return Err(err(
            What::TooManyLevels {
                max: cap(out.entries),
            },
            "data",
        ));
    }
    let b = side(frame, bids, scaling, "bids", out.bids)?;
    let a = side(frame, asks, scaling, "asks", out.asks)?;
    out.entries.push(BookEntry {
        scaling,
        checksum,
        exch_ns,
        bids: b,
        asks: a,
    });
    Ok(())
}

fn cap<T>(v: &[T]) -> u32 {
    u32::try_from(v.len()).unwrap_or(u32::MAX)
}

/// The `[{"price":..,"qty":..},..]` at `at` appended to `buf` (never grown
/// past its capacity); returns the range it took.
fn side(
    frame: &[u8],
    at: usize,
    scaling: Scaling,
    key: &'static str,
    buf: &mut Vec<Level>,
) -> Result<(u32, u32), DecodeError> {
    let start = buf.len();
    let mut j = Json::at(frame, at);
    if j.peek() != Some(b'[') {
        return Err(expected(JsonType::Array, key));
    }
    j.array(|j, index| {
        if j.peek() != Some(b'{') {
            return Err(expected(JsonType::Object, key));
        }
        let (mut px, mut qty) = (None, None);
        j.object(|j, k| {
            match k {
                b"price" => px = Some(j.num_of("price")?),
                b"qty" => qty = Some(j.num_of("qty")?),
                _ => j.skip()?,
            }
            Ok(())
        })?;
        let px = px.ok_or(err(What::Missing, "price"))?;
        let qty = qty.ok_or(err(What::Missing, "qty"))?;
        let l = level(px, qty, scaling, key, index)?;
        if buf.len() == buf.capacity() {
            return Err(err(
                What::TooManyLevels {
                    max: u32::try_from(buf.capacity()).unwrap_or(u32::MAX),
                },
                key,
            ));
        }
        buf.push(l);
        Ok(())
    })?;
    let range = (start as u32, buf.len() as u32);
    Ok(range)
}

/// One element of a `ticker` frame.
fn ticker<'a, R: ResolveSymbol>(
    j: &mut Json<'a>,
    symbols: &R,
    out: &mut Out<'_>,
) -> Result<(), DecodeError> {
    let (mut symbol, mut bid, mut bid_qty, mut ask, mut ask_qty, mut ts) =
        (None, None, None, None, None, None);
    j.object(|j, key| {
        match key {
            b"symbol" => symbol = Some(j.str_of("symbol")?),
            b"bid" => bid = Some(j.num_of("bid")?),
            b"bid_qty" => bid_qty = Some(j.num_of("bid_qty")?),
            b"ask" => ask = Some(j.num_of("ask")?),
            b"ask_qty" => ask_qty = Some(j.num_of("ask_qty")?),
            b"timestamp" => ts = Some(j.str_of("timestamp")?),
            _ => j.skip()?,
        }
        Ok(())
    })?;
    let symbol = symbol.ok_or(err(What::Missing, "symbol"))?;
    let need = |v: Option<&'a [u8]>, k| v.ok_or(err(What::Missing, k));
    let (bid, bid_qty) = (need(bid, "bid")?, need(bid_qty, "bid_qty")?);
    let (ask, ask_qty) = (need(ask, "ask")?, need(ask_qty, "ask_qty")?);
    let exch_ns = ts.map_or(Ok(0), timestamp)?;
    let Some(scaling) = symbols.resolve(symbol) else {
        return Ok(());
    };
    let bid = level(bid, bid_qty, scaling, "bid", 0)?;
    let ask = level(ask, ask_qty, scaling, "ask", 0)?;
    if out.bbos.len() == out.bbos.capacity() {
        return Err(err(What::TooManyLevels { max: cap(out.bbos) }, "data"));
    }
    out.bbos.push(BboMsg {
        scaling,
        bid,
        ask,
        exch_ns,
    });
    Ok(())
}

/// One element of a `trade` frame.
fn trade<'a, R: ResolveSymbol>(
    j: &mut Json<'a>,
    symbols: &R,
    out: &mut Out<'_>,
) -> Result<(), DecodeError> {
    let (mut symbol, mut side, mut px, mut qty, mut id, mut ts) =
        (None, None, None, None, None, None);
    j.object(|j, key| {
        match key {
            b"symbol" => symbol = Some(j.str_of("symbol")?),
            b"side" => side = Some(j.str_of("side")?),
            b"price" => px = Some(j.num_of("price")?),
            b"qty" => qty = Some(j.num_of("qty")?),
            b"trade_id" => id = Some(uint(j.num_of("trade_id")?, "trade_id")?),
            b"timestamp" => ts = Some(j.str_of("timestamp")?),
            _ => j.skip()?,
        }
        Ok(())
    })?;
    let symbol = symbol.ok_or(err(What::Missing, "symbol"))?;
    let side = aggressor(side.ok_or(err(What::Missing, "side"))?)?;
    let px = px.ok_or(err(What::Missing, "price"))?;
    let qty = qty.ok_or(err(What::Missing, "qty"))?;
    let trade_id = id.ok_or(err(What::Missing, "trade_id"))?;
    if trade_id > i64::MAX as u64 {
        return Err(err(What::IdOutOfRange, "trade_id"));
    }
    let exch_ns = ts.map_or(Ok(0), timestamp)?;
    let Some(scaling) = symbols.resolve(symbol) else {
        return Ok(());
    };
    let (price, qty) = trade_values(px, qty, scaling)?;
    if out.trades.len() == out.trades.capacity() {
        return Err(err(
            What::TooManyLevels {
                max: cap(out.trades),
            },
            "data",
        ));
    }
    out.trades.push(TradeMsg {
        scaling,
        trade_id,
        price,
        qty,
        aggressor: side,
        exch_ns,
    });
    Ok(())
}
