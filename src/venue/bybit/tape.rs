//! The reference decoder: the simd-json tape of a frame walked into a
//! [`Head`]. Key order does not matter here; every error is reported with
//! its [`What`] and [`Location`]. The fast path must agree with this on
//! every frame it takes.

use simd_json::{Node, StaticNode};

use super::msg::{
    BookMsg, BybitMsg, BybitTrade, Kind, TickerField, TickerMsg, TopOfBook, Topic, TradesMsg,
    is_pong, req_id, topic, trade_id,
};
use crate::book::Level;
use crate::types::{Aggressor, Price, Qty, ResolveSymbol, Scale, Scaling, Venue};
use crate::venue::scan::LevelBuf;
use crate::venue::{DecodeError, JsonType, Location, What};

/// A book message without its levels (they are in the decoder's buffers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BookHead {
    pub(crate) scaling: Scaling,
    pub(crate) depth: u32,
    pub(crate) kind: Kind,
    pub(crate) update_id: u64,
    pub(crate) seq: Option<u64>,
    pub(crate) ts_ms: u64,
    pub(crate) cts_ms: Option<u64>,
}

impl BookHead {
    pub(crate) fn with_levels<'a>(self, bids: &'a [Level], asks: &'a [Level]) -> BookMsg<'a> {
        BookMsg {
            scaling: self.scaling,
            depth: self.depth,
            kind: self.kind,
            update_id: self.update_id,
            seq: self.seq,
            ts_ms: self.ts_ms,
            cts_ms: self.cts_ms,
            bids,
            asks,
        }
    }
}

/// What a decoder recognised; levels and trades are in the decoder's buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Head<'a> {
    /// A book message (depth above 1).
    Book(BookHead),
    /// Trades: `(scaling, ts_ms)`.
    Trades(Scaling, u64),
    /// A message complete in itself.
    Done(BybitMsg<'a>),
}

impl<'a> Head<'a> {
    /// The message, with the buffers' contents.
    pub(crate) fn finish(
        self,
        bids: &'a [Level],
        asks: &'a [Level],
        trades: &'a [BybitTrade],
    ) -> BybitMsg<'a> {
        match self {
            Head::Book(h) => BybitMsg::Book(h.with_levels(bids, asks)),
            Head::Trades(scaling, ts_ms) => BybitMsg::Trades(TradesMsg {
                scaling,
                ts_ms,
                trades,
            }),
            Head::Done(msg) => msg,
        }
    }
}

/// Where the walk puts what it parses; sized by the decoder at construction.
#[derive(Debug)]
pub(crate) struct Out<'o> {
    pub(crate) bids: &'o mut LevelBuf,
    pub(crate) asks: &'o mut LevelBuf,
    pub(crate) trades: &'o mut Vec<BybitTrade>,
    pub(crate) max_levels: usize,
}

/// Reads fields of one tape, reporting errors for `venue`.
struct Walk<'n, 'a> {
    venue: Venue,
    nodes: &'n [Node<'a>],
}

/// Nodes a value spans on the tape, itself included.
fn span(node: &Node<'_>) -> usize {
    match node {
        Node::Object { count, .. } | Node::Array { count, .. } => count + 1,
        _ => 1,
    }
}

fn limit(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<'a> Walk<'_, 'a> {
    #[cold]
    fn err(&self, what: What, key: &'static str) -> DecodeError {
        DecodeError {
            venue: self.venue,
            what,
            at: Location::field(key),
        }
    }

    /// The value index of each of `keys` in the object at `at` (the last
    /// one when a key repeats).
    fn fields<const N: usize>(&self, at: usize, keys: [&str; N]) -> [Option<usize>; N] {
        let mut out = [None; N];
        let Some(&Node::Object { len, .. }) = self.nodes.get(at) else {
            return out;
        };
        let mut i = at + 1;
        for _ in 0..len {
            let (Some(&Node::String(key)), Some(value)) =
                (self.nodes.get(i), self.nodes.get(i + 1))
            else {
                break;
            };
            if let Some(k) = keys.iter().position(|&k| k == key) {
                out[k] = Some(i + 1);
            }
            i += 1 + span(value);
        }
        out
    }

    fn present(&self, v: Option<usize>, key: &'static str) -> Result<&Node<'a>, DecodeError> {
        v.map(|i| &self.nodes[i])
            .ok_or_else(|| self.err(What::Missing, key))
    }

    fn uint(&self, v: Option<usize>, key: &'static str) -> Result<u64, DecodeError> {
        match *self.present(v, key)? {
            Node::Static(StaticNode::U64(n)) => Ok(n),
            Node::Static(StaticNode::I64(n)) if n >= 0 => Ok(n as u64),
            _ => Err(self.err(What::Expected(JsonType::UnsignedInteger), key)),
        }
    }

    fn opt_uint(&self, v: Option<usize>, key: &'static str) -> Result<Option<u64>, DecodeError> {
        v.map(|_| self.uint(v, key)).transpose()
    }

    /// An update id or sequence: at most `i64::MAX`.
    fn id(&self, v: Option<usize>, key: &'static str) -> Result<u64, DecodeError> {
        let n = self.uint(v, key)?;
        if n > i64::MAX as u64 {
            return Err(self.err(What::IdOutOfRange, key));
        }
        Ok(n)
    }

    fn opt_id(&self, v: Option<usize>, key: &'static str) -> Result<Option<u64>, DecodeError> {
        v.map(|_| self.id(v, key)).transpose()
    }

    fn str(&self, v: Option<usize>, key: &'static str) -> Result<&'a str, DecodeError> {
        match *self.present(v, key)? {
            Node::String(s) => Ok(s),
            _ => Err(self.err(What::Expected(JsonType::String), key)),
        }
    }

    fn opt_str(&self, v: Option<usize>, key: &'static str) -> Result<Option<&'a str>, DecodeError> {
        v.map(|_| self.str(v, key)).transpose()
    }

    fn boolean(&self, v: Option<usize>, key: &'static str) -> Result<bool, DecodeError> {
        match *self.present(v, key)? {
            Node::Static(StaticNode::Bool(b)) => Ok(b),
            _ => Err(self.err(What::Expected(JsonType::Bool), key)),
        }
    }

    fn price(&self, text: &str, scaling: Scaling, key: &'static str) -> Result<Price, DecodeError> {
        let p = Price::parse(text.as_bytes(), scaling.price)
            .map_err(|e| self.err(What::Number(e), key))?;
        if p.0 <= 0 && !scaling.negative_prices {
            return Err(self.err(What::NotPositive, key));
        }
        Ok(p)
    }

    fn qty(&self, text: &str, scale: Scale, key: &'static str) -> Result<Qty, DecodeError> {
        Qty::parse(text.as_bytes(), scale).map_err(|e| self.err(What::Number(e), key))
    }

    fn kind(&self, v: Option<usize>) -> Result<Kind, DecodeError> {
        match self.str(v, "type")? {
            "snapshot" => Ok(Kind::Snapshot),
            "delta" => Ok(Kind::Delta),
            _ => Err(self.err(What::UnknownMessage, "type")),
        }
    }

    /// `[["p","q"],...]` at `v` into `out`.
    fn levels(
        &self,
        v: Option<usize>,
        key: &'static str,
        scaling: Scaling,
        out: &mut LevelBuf,
        max: usize,
    ) -> Result<(), DecodeError> {
        let Node::Array { len, .. } = *self.present(v, key)? else {
            return Err(self.err(What::Expected(JsonType::Array), key));
        };
        if len > max {
            return Err(self.err(What::TooManyLevels { max: limit(max) }, key));
        }
        let mut i = v.unwrap_or(0) + 1;
        for level in 0..len {
            let here = |part| Location::Field {
                key,
                level: Some(level as u32),
                part,
            };
            let at = |what, part| DecodeError {
                venue: self.venue,
                what,
                at: here(part),
            };
            let n = self.nodes;
            let (
                Some(Node::Array { len: 2, count: 2 }),
                Some(Node::String(p)),
                Some(Node::String(q)),
            ) = (n.get(i), n.get(i + 1), n.get(i + 2))
            else {
                return Err(at(What::Expected(JsonType::Level), None));
            };
            let price = Price::parse(p.as_bytes(), scaling.price)
                .map_err(|e| at(What::Number(e), Some(0)))?;
            if price.0 <= 0 && !scaling.negative_prices {
                return Err(at(What::NotPositive, Some(0)));
            }
            let qty =
                Qty::parse(q.as_bytes(), scaling.qty).map_err(|e| at(What::Number(e), Some(1)))?;
            out.push(Level { price, qty })
                .ok_or_else(|| at(What::TooManyLevels { max: limit(max) }, None))?;
            i += 3;
        }
        Ok(())
    }
}

/// Which message a market-data topic carries.
enum Want {
    Book(u32),
    Trades,
    Ticker,
}

/// Walks a parsed frame into a [`Head`].
pub(crate) fn walk<'a, R: ResolveSymbol>(
    venue: Venue,
    nodes: &[Node<'a>],
    symbols: &R,
    out: Out<'_>,
) -> Result<Head<'a>, DecodeError> {
    let w = Walk { venue, nodes };
    if !matches!(nodes.first(), Some(Node::Object { .. })) {
        return Err(DecodeError {
            venue,
            what: What::UnknownMessage,
            at: Location::Root,
        });
    }
    let [t, ty, ts, cts, cs, data, success, ret_msg, rid, op] = w.fields(
        0,
        [
            "topic", "type", "ts", "cts", "cs", "data", "success", "ret_msg", "req_id", "op",
        ],
    );
    let Some(t) = t else {
        return control(&w, op, success, ret_msg, rid);
    };
    let text = w.str(Some(t), "topic")?;
    let (symbol, what) = match topic(text.as_bytes()) {
        Topic::Unknown => return Err(w.err(What::UnknownMessage, "topic")),
        Topic::Unhandled => return Ok(Head::Done(BybitMsg::Unhandled { topic: text })),
        Topic::Ticker { .. } if venue == Venue::BybitSpot => {
            // Spot tickers carry no best bid/offer.
            return Ok(Head::Done(BybitMsg::Unhandled { topic: text }));
        }
        Topic::Book { symbol, depth } => (symbol, Want::Book(depth)),
        Topic::Trade { symbol } => (symbol, Want::Trades),
        Topic::Ticker { symbol } => (symbol, Want::Ticker),
    };
    let Some(scaling) = symbols.resolve(symbol) else {
        // The symbol is the topic's tail, so it is valid UTF-8.
        let symbol = &text[text.len() - symbol.len()..];
        return Ok(Head::Done(BybitMsg::UnknownSymbol { symbol }));
    };
    let ts_ms = w.uint(ts, "ts")?;
    match what {
        Want::Ticker => ticker(&w, scaling, ty, cs, ts_ms, data),
        Want::Book(depth) => book(&w, scaling, depth, ty, cts, ts_ms, data, out),
        Want::Trades => trades(&w, scaling, ts_ms, data, out),
    }
}

/// Frames without a topic: pongs and request acknowledgements.
fn control<'a>(
    w: &Walk<'_, 'a>,
    op: Option<usize>,
    success: Option<usize>,
    ret_msg: Option<usize>,
    rid: Option<usize>,
) -> Result<Head<'a>, DecodeError> {
    let op_text = w.opt_str(op, "op")?;
    let msg = w.opt_str(ret_msg, "ret_msg")?;
    if is_pong(op_text.map(str::as_bytes), msg.map(str::as_bytes)) {
        return Ok(Head::Done(BybitMsg::Pong));
    }
    let req_id = req_id(w.opt_str(rid, "req_id")?.map(str::as_bytes));
    match op_text {
        Some("subscribe" | "unsubscribe") => {
            if w.boolean(success, "success")? {
                Ok(Head::Done(BybitMsg::SubscribeResult { req_id }))
            } else {
                Ok(Head::Done(BybitMsg::Refused {
                    req_id,
                    msg: msg.unwrap_or(""),
                }))
            }
        }
        Some(_) => Err(w.err(What::UnknownMessage, "op")),
        None => Err(DecodeError {
            venue: w.venue,
            what: What::UnknownMessage,
            at: Location::Root,
        }),
    }
}

#[allow(clippy::too_many_arguments, reason = "the fields of one message")]
fn book<'a>(
    w: &Walk<'_, 'a>,
    scaling: Scaling,
    depth: u32,
    ty: Option<usize>,
    cts: Option<usize>,
    ts_ms: u64,
    data: Option<usize>,
    out: Out<'_>,
) -> Result<Head<'a>, DecodeError> {
    let kind = w.kind(ty)?;
    let cts_ms = w.opt_uint(cts, "cts")?;
    if !matches!(w.present(data, "data")?, Node::Object { .. }) {
        return Err(w.err(What::Expected(JsonType::Object), "data"));
    }
    let [b, a, u, seq] = w.fields(data.unwrap_or(0), ["b", "a", "u", "seq"]);
    let update_id = w.id(u, "u")?;
    let seq = w.opt_id(seq, "seq")?;
    let max = if depth == 1 { 1 } else { out.max_levels };
    w.levels(b, "b", scaling, out.bids, max)?;
    w.levels(a, "a", scaling, out.asks, max)?;
    if depth == 1 {
        let top = |l: &[Level]| l.first().copied().filter(|l| l.qty.0 != 0);
        return Ok(Head::Done(BybitMsg::TopOfBook(TopOfBook {
            scaling,
            update_id,
            seq,
            ts_ms,
            cts_ms,
            bid: top(out.bids.as_slice()),
            ask: top(out.asks.as_slice()),
        })));
    }
    Ok(Head::Book(BookHead {
        scaling,
        depth,
        kind,
        update_id,
        seq,
        ts_ms,
        cts_ms,
    }))
}

fn ticker<'a>(
    w: &Walk<'_, 'a>,
    scaling: Scaling,
    ty: Option<usize>,
    cs: Option<usize>,
    ts_ms: u64,
    data: Option<usize>,
) -> Result<Head<'a>, DecodeError> {
    let kind = w.kind(ty)?;
    let cs = w.opt_id(cs, "cs")?;
    if !matches!(w.present(data, "data")?, Node::Object { .. }) {
        return Err(w.err(What::Expected(JsonType::Object), "data"));
    }
    let [bp, bq, ap, aq] = w.fields(
        data.unwrap_or(0),
        ["bid1Price", "bid1Size", "ask1Price", "ask1Size"],
    );
    let field =
        |v: Option<usize>, key: &'static str| -> Result<TickerField<&'a str>, DecodeError> {
            Ok(match w.opt_str(v, key)? {
                None => TickerField::Absent,
                Some("") => TickerField::Empty,
                Some(s) => TickerField::Value(s),
            })
        };
    let price = |v, key| -> Result<TickerField<Price>, DecodeError> {
        Ok(match field(v, key)? {
            TickerField::Value(s) => TickerField::Value(w.price(s, scaling, key)?),
            TickerField::Absent => TickerField::Absent,
            TickerField::Empty => TickerField::Empty,
        })
    };
    let qty = |v, key| -> Result<TickerField<Qty>, DecodeError> {
        Ok(match field(v, key)? {
            TickerField::Value(s) => TickerField::Value(w.qty(s, scaling.qty, key)?),
            TickerField::Absent => TickerField::Absent,
            TickerField::Empty => TickerField::Empty,
        })
    };
    Ok(Head::Done(BybitMsg::Ticker(TickerMsg {
        scaling,
        kind,
        cs,
        ts_ms,
        bid_price: price(bp, "bid1Price")?,
        bid_qty: qty(bq, "bid1Size")?,
        ask_price: price(ap, "ask1Price")?,
        ask_qty: qty(aq, "ask1Size")?,
    })))
}

fn trades<'a>(
    w: &Walk<'_, 'a>,
    scaling: Scaling,
    ts_ms: u64,
    data: Option<usize>,
    out: Out<'_>,
) -> Result<Head<'a>, DecodeError> {
    let Node::Array { len, .. } = *w.present(data, "data")? else {
        return Err(w.err(What::Expected(JsonType::Array), "data"));
    };
    let max = out.trades.capacity();
    if len > max {
        return Err(w.err(What::TooManyLevels { max: limit(max) }, "data"));
    }
    let mut i = data.unwrap_or(0) + 1;
    for _ in 0..len {
        let node = &w.nodes[i];
        if !matches!(node, Node::Object { .. }) {
            return Err(w.err(What::Expected(JsonType::Object), "data"));
        }
        let [t, side, v, p, id, seq] = w.fields(i, ["T", "S", "v", "p", "i", "seq"]);
        let id_text = w.str(id, "i")?;
        let id = trade_id(id_text.as_bytes()).map_err(|e| match e {
            Some(e) => w.err(What::Number(e), "i"),
            None => w.err(What::IdOutOfRange, "i"),
        })?;
        let aggressor = match w.str(side, "S")? {
            "Buy" => Aggressor::Buy,
            "Sell" => Aggressor::Sell,
            _ => return Err(w.err(What::UnknownMessage, "S")),
        };
        let qty = w.qty(w.str(v, "v")?, scaling.qty, "v")?;
        if qty.0 == 0 {
            return Err(w.err(What::NotPositive, "v"));
        }
        let trade = BybitTrade {
            id,
            price: w.price(w.str(p, "p")?, scaling, "p")?,
            qty,
            aggressor,
            trade_ms: w.uint(t, "T")?,
            seq: w.opt_id(seq, "seq")?,
        };
        // `len <= capacity` was checked: this never grows the buffer.
        out.trades.push(trade);
        i += span(node);
    }
    Ok(Head::Trades(scaling, ts_ms))
}
