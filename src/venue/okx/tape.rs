//! The simd-json tape path: the reference decoder. Every frame the fast
//! path does not take is parsed onto the reused tape and walked into an
//! [`OkxMsg`] (levels into the decoder's buffers), reporting every error
//! with its `What` and `Location`.

use simd_json::{Node, StaticNode};

use super::decode::{BookHead, SideBuf, Walked};
use super::msg::{self, Action, Chan, OkxMsg, Subscription, TradeMsg, err, level_err};
use crate::types::{ResolveSymbol, Scaling, Venue};
use crate::venue::scan::{TapeScratch, tape_error};
use crate::venue::{DecodeError, JsonType, Location, What};

/// The decoder's output buffers, lent to the walk.
pub(super) struct Out<'b> {
    pub(super) bids: &'b mut SideBuf,
    pub(super) asks: &'b mut SideBuf,
    pub(super) trades: &'b mut Vec<TradeMsg>,
    pub(super) max_levels: usize,
}

/// The simd-json tape path: every frame the fast path does not take.
#[inline(never)]
pub(super) fn decode_tape<'a, R: ResolveSymbol>(
    frame: &[u8],
    scratch: &'a mut TapeScratch,
    symbols: &R,
    out: &mut Out<'_>,
) -> Result<Walked<'a>, DecodeError> {
    scratch
        .parse(frame, |nodes| walk(nodes, symbols, out))
        .map_err(|e| tape_error(Venue::Okx, frame, e.error(), e.index()))?
}

/// Nodes a value spans on the tape, itself included.
#[inline]
fn span(node: &Node<'_>) -> usize {
    match node {
        Node::Object { count, .. } | Node::Array { count, .. } => count + 1,
        _ => 1,
    }
}

/// Calls `f(key, value_index)` for each member of the object at `at`.
fn members<'a>(nodes: &[Node<'a>], at: usize, mut f: impl FnMut(&'a str, usize)) {
    let Some(&Node::Object { len, .. }) = nodes.get(at) else {
        return;
    };
    let mut i = at + 1;
    for _ in 0..len {
        let (Some(&Node::String(key)), Some(value)) = (nodes.get(i), nodes.get(i + 1)) else {
            return;
        };
        f(key, i + 1);
        i += 1 + span(value);
    }
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

/// Field access on the tape: the node index of each key the walk reads.
struct Obj {
    /// (key, node index) of the members, last one wins.
    found: [(&'static str, Option<usize>); 12],
}

const KEYS: [&str; 12] = [
    "event", "arg", "channel", "instId", "action", "data", "code", "msg", "asks", "bids", "ts",
    "checksum",
];
const KEYS2: [&str; 5] = ["seqId", "prevSeqId", "tradeId", "px", "sz"];

impl Obj {
    fn read(nodes: &[Node<'_>], at: usize) -> (Obj, [Option<usize>; 6]) {
        let mut found = KEYS.map(|k| (k, None));
        let mut more: [Option<usize>; 6] = [None; 6];
        members(nodes, at, |key, v| {
            if let Some(slot) = found.iter_mut().find(|(k, _)| *k == key) {
                slot.1 = Some(v);
            } else if let Some(i) = KEYS2.iter().position(|k| *k == key) {
                more[i] = Some(v);
            } else if key == "side" {
                more[5] = Some(v);
            }
        });
        (Obj { found }, more)
    }

    fn at(&self, key: &'static str) -> Option<usize> {
        self.found.iter().find(|(k, _)| *k == key).and_then(|s| s.1)
    }
}

/// The node at `at` of `key`, required.
fn node<'n, 'a>(
    nodes: &'n [Node<'a>],
    at: Option<usize>,
    key: &'static str,
) -> Result<&'n Node<'a>, DecodeError> {
    at.and_then(|i| nodes.get(i))
        .ok_or_else(|| err(What::Missing, key))
}

fn string<'a>(
    nodes: &[Node<'a>],
    at: Option<usize>,
    key: &'static str,
) -> Result<&'a str, DecodeError> {
    match node(nodes, at, key)? {
        Node::String(s) => Ok(s),
        _ => Err(err(What::Expected(JsonType::String), key)),
    }
}

/// An optional integer field: `None` when absent.
fn opt_int(
    nodes: &[Node<'_>],
    at: Option<usize>,
    key: &'static str,
) -> Result<Option<i64>, DecodeError> {
    let Some(n) = at.and_then(|i| nodes.get(i)) else {
        return Ok(None);
    };
    match *n {
        Node::Static(StaticNode::I64(v)) => Ok(Some(v)),
        Node::Static(StaticNode::U64(v)) => i64::try_from(v)
            .map(Some)
            .map_err(|_| err(What::IdOutOfRange, key)),
        _ => Err(err(What::Expected(JsonType::Integer), key)),
    }
}

fn walk<'a, R: ResolveSymbol>(
    nodes: &[Node<'a>],
    symbols: &R,
    out: &mut Out<'_>,
) -> Result<Walked<'a>, DecodeError> {
    if !matches!(nodes.first(), Some(Node::Object { .. })) {
        return Err(DecodeError {
            venue: Venue::Okx,
            what: What::UnknownMessage,
            at: Location::Root,
        });
    }
    let (root, _) = Obj::read(nodes, 0);
    if let Some(ev) = root.at("event") {
        return event(nodes, &root, string(nodes, Some(ev), "event")?).map(Walked::Msg);
    }
    let Some(arg_at) = root.at("arg") else {
        return Err(DecodeError {
            venue: Venue::Okx,
            what: if root.at("data").is_some() {
                What::Missing
            } else {
                What::UnknownMessage
            },
            at: if root.at("data").is_some() {
                Location::field("arg")
            } else {
                Location::Root
            },
        });
    };
    if !matches!(nodes[arg_at], Node::Object { .. }) {
        return Err(err(What::Expected(JsonType::Object), "arg"));
    }
    let (arg, _) = Obj::read(nodes, arg_at);
    let channel = string(nodes, arg.at("channel"), "channel")?;
    let Some(chan) = Chan::of(channel.as_bytes()) else {
        return Ok(Walked::Msg(OkxMsg::Unhandled { channel }));
    };
    let inst = string(nodes, arg.at("instId"), "instId")?;
    let Some(scaling) = symbols.resolve(inst.as_bytes()) else {
        return Ok(Walked::Msg(OkxMsg::UnknownSymbol { symbol: inst }));
    };
    let data_at = root.at("data").ok_or_else(|| err(What::Missing, "data"))?;
    let Node::Array { len: data_len, .. } = nodes[data_at] else {
        return Err(err(What::Expected(JsonType::Array), "data"));
    };
    match chan {
        Chan::Trades => {
            if data_len > out.trades.capacity() {
                let max = u32::try_from(out.trades.capacity()).unwrap_or(u32::MAX);
                return Err(err(What::TooManyLevels { max }, "data"));
            }
            elements(nodes, data_at, |_, at| {
                let t = trade(nodes, at, scaling)?;
                out.trades.push(t);
                Ok(())
            })?;
            Ok(Walked::Trades)
        }
        Chan::Books | Chan::Bbo => {
            let action = if chan == Chan::Books {
                Some(match string(nodes, root.at("action"), "action")? {
                    "snapshot" => Action::Snapshot,
                    "update" => Action::Update,
                    _ => return Err(err(What::UnknownMessage, "action")),
                })
            } else {
                None
            };
            if data_len != 1 {
                return Err(err(What::UnknownMessage, "data"));
            }
            let item_at = data_at + 1;
            if !matches!(nodes.get(item_at), Some(Node::Object { .. })) {
                return Err(err(What::Expected(JsonType::Object), "data"));
            }
            let (item, more) = Obj::read(nodes, item_at);
            let max = if chan == Chan::Bbo { 1 } else { out.max_levels };
            for (key, buf) in [("asks", &mut *out.asks), ("bids", &mut *out.bids)] {
                levels(nodes, item.at(key), key, scaling, buf, max)?;
            }
            let ts_ms = msg::ts_ms(string(nodes, item.at("ts"), "ts")?.as_bytes())?;
            let seq_id = opt_int(nodes, more[0], "seqId")?;
            match action {
                Some(action) => {
                    let checksum = opt_int(nodes, item.at("checksum"), "checksum")?
                        .map(msg::checksum)
                        .transpose()?;
                    Ok(Walked::Book(BookHead {
                        scaling,
                        action,
                        ts_ms,
                        checksum,
                        seq_id,
                        prev_seq_id: opt_int(nodes, more[1], "prevSeqId")?,
                    }))
                }
                None => Ok(Walked::Bbo {
                    scaling,
                    ts_ms,
                    seq_id,
                }),
            }
        }
    }
}

/// An `event` frame.
fn event<'a>(nodes: &[Node<'a>], root: &Obj, ev: &'a str) -> Result<OkxMsg<'a>, DecodeError> {
    match ev {
        "subscribe" | "unsubscribe" => {
            let arg_at = root.at("arg").ok_or_else(|| err(What::Missing, "arg"))?;
            if !matches!(nodes[arg_at], Node::Object { .. }) {
                return Err(err(What::Expected(JsonType::Object), "arg"));
            }
            let (arg, _) = Obj::read(nodes, arg_at);
            let sub = Subscription {
                channel: string(nodes, arg.at("channel"), "channel")?,
                inst_id: arg
                    .at("instId")
                    .map(|i| string(nodes, Some(i), "instId"))
                    .transpose()?,
            };
            Ok(if ev == "subscribe" {
                OkxMsg::Subscribed(sub)
            } else {
                OkxMsg::Unsubscribed(sub)
            })
        }
        "error" | "notice" => {
            let code = match node(nodes, root.at("code"), "code")? {
                Node::String(s) => msg::code_text(s.as_bytes())?,
                Node::Static(StaticNode::I64(v)) => *v,
                Node::Static(StaticNode::U64(v)) => {
                    i64::try_from(*v).map_err(|_| err(What::Expected(JsonType::Integer), "code"))?
                }
                _ => return Err(err(What::Expected(JsonType::String), "code")),
            };
            let text = match root.at("msg") {
                None => "",
                Some(i) => string(nodes, Some(i), "msg")?,
            };
            Ok(if ev == "error" {
                OkxMsg::VenueError { code, msg: text }
            } else {
                OkxMsg::Notice { code, msg: text }
            })
        }
        "login" | "channel-conn-count" | "channel-conn-count-error" => {
            Ok(OkxMsg::Unhandled { channel: ev })
        }
        _ => Err(err(What::UnknownMessage, "event")),
    }
}

/// One side's level list into `buf` (at most `max` levels).
fn levels(
    nodes: &[Node<'_>],
    at: Option<usize>,
    key: &'static str,
    scaling: Scaling,
    buf: &mut SideBuf,
    max: usize,
) -> Result<(), DecodeError> {
    let Node::Array { len, .. } = *node(nodes, at, key)? else {
        return Err(err(What::Expected(JsonType::Array), key));
    };
    let max = max.min(buf.capacity());
    if len > max {
        let max = u32::try_from(max).unwrap_or(u32::MAX);
        return Err(err(What::TooManyLevels { max }, key));
    }
    let Some(start) = at else { return Ok(()) };
    elements(nodes, start, |index, i| {
        let wrong = || level_err(What::Expected(JsonType::Level), key, index, None);
        let Node::Array { len: parts, count } = nodes[i] else {
            return Err(wrong());
        };
        // `[px, sz]` up to `[px, sz, "0", numOrders]`, all strings.
        if !(2..=4).contains(&parts) || count != parts {
            return Err(wrong());
        }
        let mut s: [&[u8]; 4] = [b""; 4];
        for (p, slot) in s.iter_mut().enumerate().take(parts) {
            match nodes.get(i + 1 + p) {
                Some(Node::String(t)) => *slot = t.as_bytes(),
                _ => return Err(wrong()),
            }
        }
        let (level, spell) = msg::level(s[0], s[1], scaling, key, index)?;
        buf.push(level, spell).ok_or_else(wrong)
    })
}

/// One element of a `trades` frame.
fn trade(nodes: &[Node<'_>], at: usize, scaling: Scaling) -> Result<TradeMsg, DecodeError> {
    if !matches!(nodes[at], Node::Object { .. }) {
        return Err(err(What::Expected(JsonType::Object), "data"));
    }
    let (item, more) = Obj::read(nodes, at);
    let id = string(nodes, more[2], "tradeId")?;
    let px = string(nodes, more[3], "px")?;
    let sz = string(nodes, more[4], "sz")?;
    let side = string(nodes, more[5], "side")?;
    let trade_id = msg::digits(id.as_bytes(), "tradeId")?;
    let (price, qty, aggressor) =
        msg::trade_values(px.as_bytes(), sz.as_bytes(), side.as_bytes(), scaling)?;
    let ts_ms = msg::ts_ms(string(nodes, item.at("ts"), "ts")?.as_bytes())?;
    Ok(TradeMsg {
        scaling,
        trade_id,
        price,
        qty,
        aggressor,
        ts_ms,
    })
}
