//! The simd-json tape path: the reference decoder. Every frame the fast
//! path does not take is parsed onto the reused tape and walked into a
//! [`super::CoinbaseFrame`] (levels, trades and tickers into the decoder's
//! buffers), reporting every error with its `What` and `Location`. Keys are
//! found by name, in any order.

use simd_json::{Node, StaticNode};

use super::decode::{Body, Bufs, Walked};
use super::msg::{self, Chan, CoinbaseMsg, L2Event, L2Kind, TickerMsg, TradeMsg, err, update_err};
use crate::types::{ResolveSymbol, Venue};
use crate::venue::scan::{TapeScratch, tape_error};
use crate::venue::{DecodeError, JsonType, What};

/// The simd-json tape path: every frame the fast path does not take.
#[inline(never)]
pub(super) fn decode_tape<'a, R: ResolveSymbol>(
    frame: &[u8],
    scratch: &'a mut TapeScratch,
    symbols: &R,
    bufs: &mut Bufs,
) -> Result<Walked<'a>, DecodeError> {
    scratch
        .parse(frame, |nodes| walk(nodes, symbols, bufs))
        .map_err(|e| tape_error(Venue::Coinbase, frame, e.error(), e.index()))?
}

/// Nodes a value spans on the tape, itself included.
#[inline]
fn span(node: &Node<'_>) -> usize {
    match node {
        Node::Object { count, .. } | Node::Array { count, .. } => count + 1,
        _ => 1,
    }
}

/// The node index of member `key` of the object at `at` (the last one
/// when repeated).
fn find(nodes: &[Node<'_>], at: usize, key: &str) -> Option<usize> {
    let Some(&Node::Object { len, .. }) = nodes.get(at) else {
        return None;
    };
    let mut i = at + 1;
    let mut hit = None;
    for _ in 0..len {
        let (Some(&Node::String(k)), Some(value)) = (nodes.get(i), nodes.get(i + 1)) else {
            return hit;
        };
        if k == key {
            hit = Some(i + 1);
        }
        i += 1 + span(value);
    }
    hit
}

/// Calls `f(n, node_index)` for each element of the array at `at`.
fn elements(
    nodes: &[Node<'_>],
    at: usize,
    mut f: impl FnMut(usize, usize) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    let Some(&Node::Array { len, .. }) = nodes.get(at) else {
        return Ok(());
    };
    let mut i = at + 1;
    for n in 0..len {
        let Some(node) = nodes.get(i) else {
            return Ok(());
        };
        f(n, i)?;
        i += span(node);
    }
    Ok(())
}

/// The string member `key` of the object at `at`, required.
fn string<'a>(nodes: &[Node<'a>], at: usize, key: &'static str) -> Result<&'a str, DecodeError> {
    match find(nodes, at, key).and_then(|i| nodes.get(i)) {
        None => Err(err(What::Missing, key)),
        Some(Node::String(s)) => Ok(s),
        Some(_) => Err(err(What::Expected(JsonType::String), key)),
    }
}

/// The unsigned integer member `key` of the object at `at`, required.
fn uint(nodes: &[Node<'_>], at: usize, key: &'static str) -> Result<u64, DecodeError> {
    match find(nodes, at, key).and_then(|i| nodes.get(i)) {
        None => Err(err(What::Missing, key)),
        Some(Node::Static(StaticNode::U64(v))) => Ok(*v),
        Some(Node::Static(StaticNode::I64(v))) if *v >= 0 => Ok(*v as u64),
        Some(_) => Err(err(What::Expected(JsonType::UnsignedInteger), key)),
    }
}

/// The array member `key` of the object at `at`, required: its index and length.
fn array(nodes: &[Node<'_>], at: usize, key: &'static str) -> Result<(usize, usize), DecodeError> {
    let i = find(nodes, at, key).ok_or_else(|| err(What::Missing, key))?;
    match nodes.get(i) {
        Some(&Node::Array { len, .. }) => Ok((i, len)),
        _ => Err(err(What::Expected(JsonType::Array), key)),
    }
}

/// The object at `at`, or an error naming `key`.
fn object(nodes: &[Node<'_>], at: usize, key: &'static str) -> Result<(), DecodeError> {
    match nodes.get(at) {
        Some(Node::Object { .. }) => Ok(()),
        _ => Err(err(What::Expected(JsonType::Object), key)),
    }
}

fn walk<'a, R: ResolveSymbol>(
    nodes: &[Node<'a>],
    symbols: &R,
    bufs: &mut Bufs,
) -> Result<Walked<'a>, DecodeError> {
    if !matches!(nodes.first(), Some(Node::Object { .. })) {
        return Err(msg::root_err(What::UnknownMessage));
    }
    if find(nodes, 0, "channel").is_none() {
        // `{"type":"error","message":".."}` has no envelope.
        return match find(nodes, 0, "type").and_then(|i| nodes.get(i)) {
            Some(Node::String("error")) => {
                let message = match find(nodes, 0, "message") {
                    None => "",
                    Some(_) => string(nodes, 0, "message")?,
                };
                Ok(Walked {
                    seq: None,
                    ts_ns: 0,
                    body: Body::Msg(CoinbaseMsg::Error { message }),
                })
            }
            _ => Err(msg::root_err(What::UnknownMessage)),
        };
    }
    let channel = string(nodes, 0, "channel")?;
    let chan = Chan::of(channel.as_bytes()).ok_or_else(|| err(What::UnknownMessage, "channel"))?;
    let seq = uint(nodes, 0, "sequence_num")?;
    let ts_ns = msg::time(string(nodes, 0, "timestamp")?.as_bytes(), "timestamp")?;
    let (events_at, _) = array(nodes, 0, "events")?;
    let body = match chan {
        Chan::L2 => {
            elements(nodes, events_at, |_, at| l2_event(nodes, at, symbols, bufs))?;
            Body::L2
        }
        Chan::Trades => {
            elements(nodes, events_at, |_, at| {
                object(nodes, at, "events")?;
                let live = match string(nodes, at, "type")? {
                    "snapshot" => false,
                    "update" => true,
                    _ => return Err(err(What::UnknownMessage, "type")),
                };
                let (trades_at, _) = array(nodes, at, "trades")?;
                elements(nodes, trades_at, |_, t| {
                    trade(nodes, t, live, symbols, bufs)
                })
            })?;
            Body::Trades
        }
        Chan::Ticker => {
            elements(nodes, events_at, |_, at| {
                object(nodes, at, "events")?;
                let (tickers_at, _) = array(nodes, at, "tickers")?;
                elements(nodes, tickers_at, |_, t| ticker(nodes, t, symbols, bufs))
            })?;
            Body::Tickers
        }
        Chan::Subscriptions => Body::Msg(CoinbaseMsg::Subscriptions),
        Chan::Heartbeats => {
            let first = events_at + 1;
            if !matches!(nodes.get(events_at), Some(Node::Array { len: 1.., .. })) {
                return Err(err(What::Missing, "heartbeat_counter"));
            }
            object(nodes, first, "events")?;
            let counter = uint(nodes, first, "heartbeat_counter")?;
            Body::Msg(CoinbaseMsg::Heartbeat { counter })
        }
        Chan::Other => Body::Msg(CoinbaseMsg::Unhandled { channel }),
    };
    Ok(Walked {
        seq: Some(seq),
        ts_ns,
        body,
    })
}

/// One `l2_data` event into the buffers.
fn l2_event<R: ResolveSymbol>(
    nodes: &[Node<'_>],
    at: usize,
    symbols: &R,
    bufs: &mut Bufs,
) -> Result<(), DecodeError> {
    object(nodes, at, "events")?;
    let kind = match string(nodes, at, "type")? {
        "snapshot" => L2Kind::Snapshot,
        "update" => L2Kind::Update,
        _ => return Err(err(What::UnknownMessage, "type")),
    };
    let product = string(nodes, at, "product_id")?;
    let (updates_at, len) = array(nodes, at, "updates")?;
    let scaling = symbols.resolve(product.as_bytes());
    let (b0, a0) = (bufs.n_bids, bufs.n_asks);
    if let Some(scaling) = scaling {
        let room = bufs.capacity();
        if len > room {
            let max = u32::try_from(room).unwrap_or(u32::MAX);
            return Err(err(What::TooManyLevels { max }, "updates"));
        }
        elements(nodes, updates_at, |index, u| {
            if !matches!(nodes.get(u), Some(Node::Object { .. })) {
                return Err(update_err(What::Expected(JsonType::Object), index, None));
            }
            let bid = msg::side(string(nodes, u, "side")?.as_bytes(), index)?;
            msg::time(string(nodes, u, "event_time")?.as_bytes(), "event_time")?;
            let px = string(nodes, u, "price_level")?;
            let qty = string(nodes, u, "new_quantity")?;
            let level = msg::level(px.as_bytes(), qty.as_bytes(), scaling, index)?;
            bufs.push(bid, level).ok_or_else(|| {
                let max = u32::try_from(room).unwrap_or(u32::MAX);
                err(What::TooManyLevels { max }, "updates")
            })
        })?;
    }
    if bufs.events.len() == bufs.events.capacity() {
        let max = u32::try_from(bufs.events.capacity()).unwrap_or(u32::MAX);
        return Err(err(What::TooManyLevels { max }, "events"));
    }
    bufs.events.push(L2Event {
        scaling,
        kind,
        bid_range: (b0 as u32, bufs.n_bids as u32),
        ask_range: (a0 as u32, bufs.n_asks as u32),
    });
    Ok(())
}

/// One trade of `market_trades` into the buffer (unsubscribed products skipped).
fn trade<R: ResolveSymbol>(
    nodes: &[Node<'_>],
    at: usize,
    live: bool,
    symbols: &R,
    bufs: &mut Bufs,
) -> Result<(), DecodeError> {
    object(nodes, at, "trades")?;
    let product = string(nodes, at, "product_id")?;
    let Some(scaling) = symbols.resolve(product.as_bytes()) else {
        return Ok(());
    };
    let trade_id = msg::digits(string(nodes, at, "trade_id")?.as_bytes(), "trade_id")?;
    let (price, qty, aggressor) = msg::trade_values(
        string(nodes, at, "price")?.as_bytes(),
        string(nodes, at, "size")?.as_bytes(),
        string(nodes, at, "side")?.as_bytes(),
        scaling,
    )?;
    let time_ns = msg::time(string(nodes, at, "time")?.as_bytes(), "time")?;
    if bufs.trades.len() == bufs.trades.capacity() {
        let max = u32::try_from(bufs.trades.capacity()).unwrap_or(u32::MAX);
        return Err(err(What::TooManyLevels { max }, "trades"));
    }
    bufs.trades.push(TradeMsg {
        scaling,
        trade_id,
        price,
        qty,
        aggressor,
        time_ns,
        live,
    });
    Ok(())
}

/// One ticker into the buffer (unsubscribed products skipped).
fn ticker<R: ResolveSymbol>(
    nodes: &[Node<'_>],
    at: usize,
    symbols: &R,
    bufs: &mut Bufs,
) -> Result<(), DecodeError> {
    object(nodes, at, "tickers")?;
    let product = string(nodes, at, "product_id")?;
    let Some(scaling) = symbols.resolve(product.as_bytes()) else {
        return Ok(());
    };
    let field = |k: &'static str| string(nodes, at, k).map(str::as_bytes);
    let bid = msg::quote(
        field("best_bid")?,
        field("best_bid_quantity")?,
        scaling,
        "best_bid",
        "best_bid_quantity",
    )?;
    let ask = msg::quote(
        field("best_ask")?,
        field("best_ask_quantity")?,
        scaling,
        "best_ask",
        "best_ask_quantity",
    )?;
    if bufs.tickers.len() == bufs.tickers.capacity() {
        let max = u32::try_from(bufs.tickers.capacity()).unwrap_or(u32::MAX);
        return Err(err(What::TooManyLevels { max }, "tickers"));
    }
    bufs.tickers.push(TickerMsg { scaling, bid, ask });
    Ok(())
}
