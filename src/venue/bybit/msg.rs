//! Bybit v5 public wire messages, borrowed from the decoder's buffers.
//!
//! Both decoders (the simd-json tape walk and the fast path) produce the
//! same [`BybitMsg`]; the pieces they share (what a topic names, how a trade
//! id becomes a number) live here so the two cannot disagree.

use crate::book::Level;
use crate::types::{Aggressor, NumError, Price, Qty, Scaling};

/// A decoded Bybit frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BybitMsg<'a> {
    /// `orderbook.{depth}.{symbol}` with a depth above 1: a snapshot or a delta.
    Book(BookMsg<'a>),
    /// `orderbook.1.{symbol}`: the top of the book, always a whole snapshot.
    TopOfBook(TopOfBook),
    /// Linear `tickers.{symbol}`: a full snapshot or a delta of changed fields.
    Ticker(TickerMsg),
    /// `publicTrade.{symbol}`: one or more trades.
    Trades(TradesMsg<'a>),
    /// A successful `subscribe` / `unsubscribe` acknowledgement.
    SubscribeResult {
        /// Our `req_id`, when the venue echoed a numeric one (spot echoes none).
        req_id: Option<i64>,
    },
    /// A refused request (`"success":false`); the reason is in `ret_msg`.
    Refused {
        /// Our `req_id`, when echoed and numeric.
        req_id: Option<i64>,
        /// `ret_msg`: the venue's reason.
        msg: &'a str,
    },
    /// The answer to a client `{"op":"ping"}`: `{"op":"pong",..}` or
    /// `{"success":true,"ret_msg":"pong","op":"ping",..}`.
    Pong,
    /// A valid topic tickwire does not consume (klines, spot tickers, ...).
    Unhandled {
        /// The topic as sent.
        topic: &'a str,
    },
    /// A market-data message for a symbol that is not subscribed.
    UnknownSymbol {
        /// The symbol as sent in the topic.
        symbol: &'a str,
    },
}

/// `type` of a book or ticker message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A whole book (or ticker): replaces what was there.
    Snapshot,
    /// Changes since the previous message.
    Delta,
}

/// An `orderbook.{depth}.{symbol}` message. Quantities are absolute; `"0"` deletes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookMsg<'a> {
    /// Instrument and scales (from the topic's symbol).
    pub scaling: Scaling,
    /// The depth in the topic (50, 200, 500, 1000 ...).
    pub depth: u32,
    /// `type`.
    pub kind: Kind,
    /// `data.u`: the update id; `1` means the venue restarted the book.
    pub update_id: u64,
    /// `data.seq`: the cross sequence (comparable across depths), when sent.
    pub seq: Option<u64>,
    /// `ts`: when the system produced the message, ms.
    pub ts_ms: u64,
    /// `cts`: the matching engine's time, ms, when sent.
    pub cts_ms: Option<u64>,
    /// `data.b`: bid levels.
    pub bids: &'a [Level],
    /// `data.a`: ask levels.
    pub asks: &'a [Level],
}

impl BookMsg<'_> {
    /// Exchange time in Unix ns: the matching engine's time when given, else `ts`.
    pub fn exch_ns(&self) -> u64 {
        self.cts_ms.unwrap_or(self.ts_ms).saturating_mul(1_000_000)
    }

    /// Whether this message replaces the whole book: a snapshot, or any
    /// message with `u == 1` (the venue's reset after a service restart).
    pub fn replaces_book(&self) -> bool {
        self.kind == Kind::Snapshot || self.update_id == 1
    }
}

/// `orderbook.1.{symbol}`: best bid and offer; a side is `None` when empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TopOfBook {
    /// Instrument and scales.
    pub scaling: Scaling,
    /// `data.u`.
    pub update_id: u64,
    /// `data.seq`, when sent.
    pub seq: Option<u64>,
    /// `ts`, ms.
    pub ts_ms: u64,
    /// `cts`, ms, when sent.
    pub cts_ms: Option<u64>,
    /// The best bid (a quantity of zero is reported as `None`).
    pub bid: Option<Level>,
    /// The best ask (likewise).
    pub ask: Option<Level>,
}

/// One ticker field: linear deltas carry only the fields that changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TickerField<T> {
    /// Not in the message: unchanged (delta) or unknown (snapshot).
    Absent,
    /// Sent as `""`: the venue has no value (no bid, pre-listing).
    Empty,
    /// A value.
    Value(T),
}

/// Linear `tickers.{symbol}`: the best-bid/offer fields only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TickerMsg {
    /// Instrument and scales.
    pub scaling: Scaling,
    /// `type`.
    pub kind: Kind,
    /// `cs`: the cross sequence, when sent.
    pub cs: Option<u64>,
    /// `ts`, ms.
    pub ts_ms: u64,
    /// `bid1Price`.
    pub bid_price: TickerField<Price>,
    /// `bid1Size`.
    pub bid_qty: TickerField<Qty>,
    /// `ask1Price`.
    pub ask_price: TickerField<Price>,
    /// `ask1Size`.
    pub ask_qty: TickerField<Qty>,
}

/// `publicTrade.{symbol}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradesMsg<'a> {
    /// Instrument and scales (from the topic).
    pub scaling: Scaling,
    /// `ts`, ms.
    pub ts_ms: u64,
    /// The trades, in the order sent.
    pub trades: &'a [BybitTrade],
}

/// One trade of a `publicTrade` message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BybitTrade {
    /// `i` as a number: spot's decimal id as is; linear's UUID folded to 63
    /// bits (its high 64 bits XOR its low 64 bits, top bit cleared).
    pub id: u64,
    /// `p`.
    pub price: Price,
    /// `v`.
    pub qty: Qty,
    /// `S`: the taker's side (`Buy`: the buyer crossed the spread).
    pub aggressor: Aggressor,
    /// `T`: trade time, ms.
    pub trade_ms: u64,
    /// `seq`: the cross sequence, when sent.
    pub seq: Option<u64>,
}

/// What a topic names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Topic<'a> {
    /// `orderbook.{depth}.{symbol}`.
    Book { depth: u32, symbol: &'a [u8] },
    /// `publicTrade.{symbol}`.
    Trade { symbol: &'a [u8] },
    /// `tickers.{symbol}`.
    Ticker { symbol: &'a [u8] },
    /// A topic Bybit publishes that tickwire does not consume.
    Unhandled,
    /// Not a Bybit public topic.
    Unknown,
}

/// Public topics tickwire recognises but does not consume.
const UNHANDLED_TOPICS: &[&[u8]] = &[
    b"kline",
    b"allLiquidation",
    b"liquidation",
    b"tickers_lt",
    b"kline_lt",
    b"lt",
    b"insurance",
    b"priceLimit",
    b"adlAlert",
];

/// Splits a topic. The depth is 1 to 4 digits without a leading zero; the
/// symbol is everything after the last separator and must not be empty.
pub(crate) fn topic(t: &[u8]) -> Topic<'_> {
    let Some(dot) = t.iter().position(|&b| b == b'.') else {
        return Topic::Unknown;
    };
    let (head, rest) = (&t[..dot], &t[dot + 1..]);
    match head {
        b"orderbook" => {
            let Some(dot) = rest.iter().position(|&b| b == b'.') else {
                return Topic::Unknown;
            };
            let (depth, symbol) = (&rest[..dot], &rest[dot + 1..]);
            if depth == b"rpi" {
                return Topic::Unhandled;
            }
            match parse_depth(depth) {
                Some(depth) if !symbol.is_empty() => Topic::Book { depth, symbol },
                _ => Topic::Unknown,
            }
        }
        b"publicTrade" if !rest.is_empty() => Topic::Trade { symbol: rest },
        b"tickers" if !rest.is_empty() => Topic::Ticker { symbol: rest },
        _ if UNHANDLED_TOPICS.contains(&head) => Topic::Unhandled,
        _ => Topic::Unknown,
    }
}

fn parse_depth(d: &[u8]) -> Option<u32> {
    if d.is_empty() || d.len() > 4 || d[0] == b'0' || !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(d.iter().fold(0, |v, &b| v * 10 + u32::from(b - b'0')))
}

/// Maps Bybit's trade id `i` to a number, exactly and without state:
///
/// - spot sends a decimal string (`"2290000001189048101"`): its value,
///   which must be at most `i64::MAX` (`Err(None)` otherwise: out of range);
/// - linear sends a UUID (`"a9188a0a-82bc-50de-be60-03eedbe3cdd7"`): its 128
///   bits folded (high half XOR low half) to 63 bits. Distinct trades get
///   distinct ids except with probability ~2^-63 per pair; the same trade
///   always gets the same id, so a replay reproduces it.
///
/// Anything else is `Err(Some(e))`: not a trade id Bybit sends.
pub(crate) fn trade_id(i: &[u8]) -> Result<u64, Option<NumError>> {
    if i.is_empty() {
        return Err(Some(NumError::Empty));
    }
    if i.iter().all(u8::is_ascii_digit) {
        if i.len() > 1 && i[0] == b'0' {
            return Err(Some(NumError::InvalidChar { at: 0, byte: b'0' }));
        }
        let mut v: u64 = 0;
        for &b in i {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
                .ok_or(None)?;
        }
        return if v <= i64::MAX as u64 {
            Ok(v)
        } else {
            Err(None)
        };
    }
    if i.len() != 36 {
        return Err(Some(NumError::TooLong));
    }
    let mut bits: u128 = 0;
    for (at, &b) in i.iter().enumerate() {
        let dash = matches!(at, 8 | 13 | 18 | 23);
        let bad = || {
            Some(NumError::InvalidChar {
                at: at as u8,
                byte: b,
            })
        };
        if dash {
            if b != b'-' {
                return Err(bad());
            }
            continue;
        }
        let nibble = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return Err(bad()),
        };
        bits = bits << 4 | u128::from(nibble);
    }
    Ok(((bits >> 64) as u64 ^ bits as u64) & i64::MAX as u64)
}

/// Whether an `op` / `ret_msg` pair is a pong: `{"op":"pong",..}` (the
/// shape private streams and some public hosts use) or `{"success":true,
/// "ret_msg":"pong","op":"ping",..}` (the public spot and linear answer).
pub(crate) fn is_pong(op: Option<&[u8]>, ret_msg: Option<&[u8]>) -> bool {
    op == Some(b"pong") || (matches!(op, None | Some(b"ping")) && ret_msg == Some(b"pong"))
}

/// A `req_id` as we send it (a decimal number); `None` for any other.
pub(crate) fn req_id(r: Option<&[u8]>) -> Option<i64> {
    let r = r?;
    if r.is_empty() || r.len() > 18 || !r.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(r.iter().fold(0, |v, &b| v * 10 + i64::from(b - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_split() {
        assert_eq!(
            topic(b"orderbook.200.BTCUSDT"),
            Topic::Book {
                depth: 200,
                symbol: b"BTCUSDT"
            }
        );
        assert_eq!(
            topic(b"orderbook.1.BTCUSDT-26DEC25"),
            Topic::Book {
                depth: 1,
                symbol: b"BTCUSDT-26DEC25"
            }
        );
        assert_eq!(topic(b"orderbook.020.BTCUSDT"), Topic::Unknown);
        assert_eq!(topic(b"orderbook.200."), Topic::Unknown);
        assert_eq!(topic(b"orderbook.rpi.BTCUSDT"), Topic::Unhandled);
        assert_eq!(
            topic(b"publicTrade.ETHUSDT"),
            Topic::Trade { symbol: b"ETHUSDT" }
        );
        assert_eq!(
            topic(b"tickers.ETHUSDT"),
            Topic::Ticker { symbol: b"ETHUSDT" }
        );
        assert_eq!(topic(b"kline.1.BTCUSDT"), Topic::Unhandled);
        assert_eq!(topic(b"nonsense.BTCUSDT"), Topic::Unknown);
        assert_eq!(topic(b"orderbook"), Topic::Unknown);
    }

    #[test]
    fn trade_ids() {
        assert_eq!(
            trade_id(b"2290000001189048101"),
            Ok(2_290_000_001_189_048_101)
        );
        assert_eq!(trade_id(b"9223372036854775808"), Err(None));
        assert_eq!(trade_id(b"99999999999999999999999"), Err(None));
        // a9188a0a82bc50de ^ be6003eedbe3cdd7, top bit cleared.
        let want = (0xa918_8a0a_82bc_50de_u64 ^ 0xbe60_03ee_dbe3_cdd7) & (i64::MAX as u64);
        assert_eq!(trade_id(b"a9188a0a-82bc-50de-be60-03eedbe3cdd7"), Ok(want));
        assert_eq!(trade_id(b"A9188A0A-82BC-50DE-BE60-03EEDBE3CDD7"), Ok(want));
        assert!(matches!(
            trade_id(b"a9188a0a-82bc-50de-be60-03eedbe3cddz"),
            Err(Some(_))
        ));
        assert!(matches!(
            trade_id(b"a9188a0a_82bc-50de-be60-03eedbe3cdd7"),
            Err(Some(_))
        ));
        assert_eq!(trade_id(b""), Err(Some(NumError::Empty)));
        assert!(matches!(trade_id(b"012"), Err(Some(_))));
    }

    #[test]
    fn pongs_and_req_ids() {
        assert!(is_pong(Some(b"pong"), None));
        assert!(is_pong(Some(b"ping"), Some(b"pong")));
        assert!(is_pong(None, Some(b"pong")));
        assert!(!is_pong(Some(b"subscribe"), Some(b"pong")));
        assert!(!is_pong(Some(b"ping"), Some(b"")));
        assert_eq!(req_id(Some(b"17")), Some(17));
        assert_eq!(req_id(Some(b"")), None);
        assert_eq!(req_id(Some(b"sub-1")), None);
        assert_eq!(req_id(None), None);
    }
}
