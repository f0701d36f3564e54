//! Kraken WebSocket v2's dialect: the `/v2` WebSocket, `subscribe` /
//! `unsubscribe` with one ack per symbol (`success: true`) or a refusal
//! (`success: false` and an `error`: an unsupported depth, an unknown pair
//! or channel), the client's `{"method":"ping"}` answered with `pong`, no
//! REST depth and no server pings. A `book` subscriber gets a snapshot of
//! its depth first, then updates; the frames come from [`MarketSim`]'s
//! Kraken writers.

use std::collections::HashSet;

use super::{Frames, Kind, Refusal, Replies};
use crate::sim::market::{KRAKEN_DEPTHS, MarketSim};

/// The public WebSocket's path.
pub(super) const WS_PATH: &str = "/v2";
/// A fixed `time_in` / `time_out` (the simulator's replies need no clock).
const TIMES: &str =
    r#""time_in":"2026-08-16T23:37:04.849274Z","time_out":"2026-08-16T23:37:04.849309Z""#;

/// Kraken v2 public.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::sim::server) struct Kraken;

impl Kraken {
    /// The public endpoint (any query is ignored), nothing else.
    pub(super) fn accept(&self, path: &str) -> Option<Session> {
        let route = path.split_once('?').map_or(path, |(r, _)| r);
        (route == WS_PATH).then(|| Session {
            subs: HashSet::new(),
        })
    }
}

/// Writes one frame per depth with `writer`; topics `book.<depth>:<symbol>`.
fn book_frames(
    book: &mut MarketSim,
    frames: &mut Frames,
    writer: impl FnOnce(&mut MarketSim, &[usize], &mut [Vec<u8>]),
) {
    let mut bufs: [Vec<u8>; KRAKEN_DEPTHS.len()] = Default::default();
    writer(book, &KRAKEN_DEPTHS, &mut bufs);
    for (depth, buf) in KRAKEN_DEPTHS.iter().zip(bufs) {
        let (topic, frame) = frames.next();
        *frame = buf;
        set_topic(topic, &format!("book.{depth}"), book);
    }
}

/// One event of `kind`: an update per depth, the ticker, or a trade.
pub(super) fn write(book: &mut MarketSim, kind: Kind, bad_checksum: bool, frames: &mut Frames) {
    match kind {
        Kind::Depth => book_frames(book, frames, |b, d, o| b.kraken_updates(d, bad_checksum, o)),
        Kind::BookTicker => {
            let (topic, frame) = frames.next();
            book.kraken_ticker(frame);
            set_topic(topic, "ticker", book);
        }
        Kind::Trade => {
            let (topic, frame) = frames.next();
            book.kraken_trade(frame);
            set_topic(topic, "trade", book);
        }
    }
}

/// The snapshot of a `book.<depth>` topic; other channels have none sent.
pub(super) fn ws_snapshot(book: &MarketSim, topic: &str, out: &mut Vec<u8>) -> bool {
    let Some(depth) = topic
        .split_once(':')
        .and_then(|(c, _)| c.strip_prefix("book."))
        .and_then(|d| d.parse::<usize>().ok())
    else {
        return false;
    };
    book.kraken_snapshot(depth, out);
    !out.is_empty()
}

/// A `book` update cut off inside its bids, for every depth.
pub(super) fn malformed(book: &MarketSim, frames: &mut Frames) {
    for depth in KRAKEN_DEPTHS {
        let (topic, frame) = frames.next();
        set_topic(topic, &format!("book.{depth}"), book);
        frame.extend_from_slice(
            b"{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"symbol\":\"",
        );
        frame.extend_from_slice(book.config().symbol.as_bytes());
        frame.extend_from_slice(b"\",\"bids\":[{\"price\":1");
    }
}

/// An update per depth whose bid crosses the best ask.
pub(super) fn crossed(book: &mut MarketSim, frames: &mut Frames) {
    book_frames(book, frames, MarketSim::kraken_crossed);
}

/// Kraken's REST error bodies (no REST book is served; for completeness).
pub(super) fn refusal(why: Refusal) -> &'static str {
    match why {
        Refusal::Malformed => "{\"error\":[\"EGeneral:Invalid arguments\"]}",
        Refusal::RateLimited => "{\"error\":[\"EAPI:Rate limit exceeded\"]}",
        Refusal::Unavailable => "{\"error\":[\"EService:Unavailable\"]}",
        Refusal::UnknownSymbol => "{\"error\":[\"EQuery:Unknown asset pair\"]}",
        Refusal::Timeout => "{\"error\":[\"EService:Timeout\"]}",
    }
}

/// `<channel>:<symbol>`.
fn set_topic(topic: &mut String, channel: &str, book: &MarketSim) {
    topic.clear();
    topic.push_str(channel);
    topic.push(':');
    topic.push_str(&book.config().symbol);
}

/// One Kraken WebSocket connection.
#[derive(Debug)]
pub(in crate::sim::server) struct Session {
    /// Subscriptions as `book.<depth>:<symbol>`, `ticker:<symbol>`,
    /// `trade:<symbol>`.
    subs: HashSet<String>,
}

impl Session {
    pub(super) fn wants(&self, topic: &str) -> bool {
        self.subs.contains(topic)
    }

    /// `ping`, and `subscribe` / `unsubscribe` with one reply per symbol.
    pub(super) fn handle_text(&mut self, text: &str, listed: &[String], replies: &mut Replies) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
            replies.texts.push(format!(
                "{{\"error\":\"EGeneral:Invalid arguments\",\"success\":false,{TIMES}}}"
            ));
            return;
        };
        let method = v.get("method").and_then(|m| m.as_str()).unwrap_or("");
        let req_id = v.get("req_id").and_then(serde_json::Value::as_u64);
        let req = req_id.map_or(String::new(), |r| format!(",\"req_id\":{r}"));
        if method == "ping" {
            replies
                .texts
                .push(format!("{{\"method\":\"pong\"{req},{TIMES}}}"));
            return;
        }
        if method != "subscribe" && method != "unsubscribe" {
            replies.texts.push(format!(
                "{{\"error\":\"Method not found\",\"method\":{},\"success\":false{req},{TIMES}}}",
                serde_json::Value::String(method.to_owned())
            ));
            return;
        }
        let params = v.get("params");
        let channel = params
            .and_then(|p| p.get("channel"))
            .and_then(|c| c.as_str())
            .unwrap_or("");
        let depth = params
            .and_then(|p| p.get("depth"))
            .and_then(serde_json::Value::as_u64);
        let symbols: Vec<&str> = params
            .and_then(|p| p.get("symbol"))
            .and_then(|s| s.as_array())
            .map(|a| a.iter().filter_map(|s| s.as_str()).collect())
            .unwrap_or_default();
        let refuse = |replies: &mut Replies, error: &str, symbol: &str| {
            replies.texts.push(format!(
                "{{\"error\":{},\"method\":\"{method}\",\"success\":false,\"symbol\":{}{req},{TIMES}}}",
                serde_json::Value::String(error.to_owned()),
                serde_json::Value::String(symbol.to_owned())
            ));
        };
        let depth = depth.unwrap_or(10) as usize;
        for symbol in symbols {
            if !listed.iter().any(|s| s == symbol) {
                refuse(
                    replies,
                    &format!("Currency pair not supported {symbol}"),
                    symbol,
                );
                continue;
            }
            let (topic, result) = match channel {
                "book" if KRAKEN_DEPTHS.contains(&depth) => (
                    format!("book.{depth}:{symbol}"),
                    format!(
                        "{{\"channel\":\"book\",\"depth\":{depth},\"snapshot\":true,\"symbol\":\"{symbol}\"}}"
                    ),
                ),
                "book" => {
                    refuse(replies, "Subscription depth not supported", symbol);
                    continue;
                }
                "ticker" | "trade" => (
                    format!("{channel}:{symbol}"),
                    format!("{{\"channel\":\"{channel}\",\"symbol\":\"{symbol}\"}}"),
                ),
                _ => {
                    refuse(replies, "Channel not found", symbol);
                    continue;
                }
            };
            if method == "subscribe" {
                if !self.subs.insert(topic.clone()) {
                    refuse(replies, "Already subscribed", symbol);
                    continue;
                }
                if channel == "book" {
                    replies.snapshots.push((symbol.to_owned(), topic));
                }
            } else if !self.subs.remove(&topic) {
                refuse(replies, "Subscription Not Found", symbol);
                continue;
            }
            replies.texts.push(format!(
                "{{\"method\":\"{method}\",\"result\":{result},\"success\":true{req},{TIMES}}}"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed() -> Vec<String> {
        vec!["BTC/USD".to_owned()]
    }

    #[test]
    fn acks_refusals_snapshots_and_pong() {
        let mut s = Kraken.accept("/v2").expect("the public path");
        assert!(Kraken.accept("/v1").is_none());
        let mut r = Replies::default();
        s.handle_text(
            r#"{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD","X/Y"],"depth":25,"snapshot":true}}"#,
            &listed(),
            &mut r,
        );
        assert_eq!(r.texts.len(), 2);
        assert!(
            r.texts[0]
                .starts_with(r#"{"method":"subscribe","result":{"channel":"book","depth":25"#),
            "{}",
            r.texts[0]
        );
        assert!(
            r.texts[1].starts_with(
                r#"{"error":"Currency pair not supported X/Y","method":"subscribe","success":false"#
            ),
            "{}",
            r.texts[1]
        );
        assert_eq!(
            r.snapshots,
            [("BTC/USD".to_owned(), "book.25:BTC/USD".to_owned())]
        );
        assert!(s.wants("book.25:BTC/USD") && !s.wants("book.10:BTC/USD"));
        r = Replies::default();
        s.handle_text(
            r#"{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":15}}"#,
            &listed(),
            &mut r,
        );
        assert!(r.texts[0].starts_with(r#"{"error":"Subscription depth not supported","method":"subscribe","success":false,"symbol":"BTC/USD""#));
        r = Replies::default();
        s.handle_text(r#"{"method":"unsubscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":25}}"#, &listed(), &mut r);
        assert!(r.texts[0].contains(r#""success":true"#) && !s.wants("book.25:BTC/USD"));
        r = Replies::default();
        s.handle_text(r#"{"method":"ping","req_id":7}"#, &listed(), &mut r);
        assert!(r.texts[0].starts_with(r#"{"method":"pong","req_id":7,"#));
    }
}
