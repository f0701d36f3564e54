//! Coinbase Advanced Trade's dialect: the WebSocket at the root, `subscribe` /
//! `unsubscribe` one channel per message for a list of `product_ids`,
//! answered with a `subscriptions` frame of everything now subscribed, or
//! with `{"type":"error","message":..}` for an unknown channel or product
//! (the whole message is refused). A `level2` subscriber gets the whole
//! book as an `l2_data` snapshot first, then updates. Every frame a
//! connection receives (acks included, errors not) carries that
//! connection's own `sequence_num`, +1 a frame: the session writes it over
//! the encoder's [`SEQ_MARK`]. A frame the venue loses (the `Gap` fault)
//! still uses up a number, so the client sees the jump. No REST depth and
//! no server pings; frames come from [`MarketSim`]'s Coinbase writers.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use tungstenite::Message;

use super::{Frames, Kind, Refusal, Replies};
use crate::sim::market::{COINBASE_SEQ_MARK as SEQ_MARK, MarketSim, push_rfc3339};

/// The WebSocket's path: none, as in `wss://advanced-trade-ws.coinbase.com`
/// (a client asks for `/`).
pub(super) const WS_PATH: &str = "";
/// Channels the simulator accepts; the last two send nothing.
const CHANNELS: [&str; 5] = ["level2", "ticker", "market_trades", "heartbeats", "candles"];

/// Coinbase Advanced Trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::sim::server) struct Coinbase;

impl Coinbase {
    /// The endpoint at `/` (any query is ignored), nothing else.
    pub(super) fn accept(&self, path: &str) -> Option<Session> {
        let route = path.split_once('?').map_or(path, |(r, _)| r);
        if route != "/" && route != WS_PATH {
            return None;
        }
        Some(Session {
            subs: BTreeMap::new(),
            next_seq: 0,
        })
    }
}

/// One event of `kind` as its channel's frame; topics are
/// `<channel>:<product>` with the subscribe channel's name (`level2`).
pub(super) fn write(book: &mut MarketSim, kind: Kind, frames: &mut Frames) {
    let (topic, frame) = frames.next();
    let channel = match kind {
        Kind::Depth => {
            book.coinbase_update(frame);
            "level2"
        }
        Kind::BookTicker => {
            book.coinbase_ticker(frame);
            "ticker"
        }
        Kind::Trade => {
            book.coinbase_trade(frame);
            "market_trades"
        }
    };
    set_topic(topic, channel, book);
}

/// The `level2` snapshot (the whole book); other channels have none.
pub(super) fn ws_snapshot(book: &MarketSim, topic: &str, out: &mut Vec<u8>) -> bool {
    if topic.split_once(':').map(|(c, _)| c) != Some("level2") {
        return false;
    }
    book.coinbase_snapshot(out);
    !out.is_empty()
}

/// An `l2_data` update cut off inside its first level (its envelope, and so
/// its `sequence_num` and `product_id`, intact).
pub(super) fn malformed(book: &MarketSim, frames: &mut Frames) {
    let (topic, frame) = frames.next();
    set_topic(topic, "level2", book);
    frame.extend_from_slice(b"{\"channel\":\"l2_data\",\"client_id\":\"\",\"timestamp\":\"");
    push_rfc3339(frame, 1_700_000_000_000_000_000);
    frame.extend_from_slice(b"\",");
    frame.extend_from_slice(SEQ_MARK);
    frame.extend_from_slice(b"\"events\":[{\"type\":\"update\",\"product_id\":\"");
    frame.extend_from_slice(book.config().symbol.as_bytes());
    frame.extend_from_slice(b"\",\"updates\":[{\"side\":\"bid\",\"price_level\":\"1");
}

/// An update whose bid crosses the best ask.
pub(super) fn crossed(book: &mut MarketSim, frames: &mut Frames) {
    let (topic, frame) = frames.next();
    book.coinbase_crossed(frame);
    set_topic(topic, "level2", book);
}

/// A valid `l2_data` update of at least `bytes` bytes that changes nothing.
pub(super) fn oversized(book: &MarketSim, bytes: usize, frames: &mut Frames) {
    let (topic, frame) = frames.next();
    book.coinbase_oversized(bytes, frame);
    set_topic(topic, "level2", book);
}

/// Coinbase's REST error bodies (`error` / `message`); no REST depth is served.
pub(super) fn refusal(why: Refusal) -> &'static str {
    match why {
        Refusal::Malformed => "{\"error\":\"INVALID_ARGUMENT\",\"message\":\"bad request\"}",
        Refusal::RateLimited => {
            "{\"error\":\"RESOURCE_EXHAUSTED\",\"message\":\"Too many requests\"}"
        }
        Refusal::Unavailable => "{\"error\":\"UNAVAILABLE\",\"message\":\"service unavailable\"}",
        Refusal::UnknownSymbol => "{\"error\":\"NOT_FOUND\",\"message\":\"product not found\"}",
        Refusal::Timeout => "{\"error\":\"DEADLINE_EXCEEDED\",\"message\":\"timeout\"}",
    }
}

/// `<channel>:<product>`.
fn set_topic(topic: &mut String, channel: &str, book: &MarketSim) {
    topic.clear();
    topic.push_str(channel);
    topic.push(':');
    topic.push_str(&book.config().symbol);
}

/// One Coinbase WebSocket connection.
#[derive(Debug)]
pub(in crate::sim::server) struct Session {
    /// Subscribed products per channel.
    subs: BTreeMap<String, Vec<String>>,
    /// The `sequence_num` of this connection's next frame.
    next_seq: u64,
}

impl Session {
    pub(super) fn wants(&self, topic: &str) -> bool {
        let Some((channel, product)) = topic.split_once(':') else {
            return false;
        };
        self.subs
            .get(channel)
            .is_some_and(|p| p.iter().any(|s| s == product))
    }

    /// `frame` with this connection's `sequence_num` written in.
    pub(super) fn frame(&mut self, frame: &[u8]) -> Message {
        let text = String::from_utf8_lossy(frame);
        let Some(at) = text.find(std::str::from_utf8(SEQ_MARK).unwrap_or("\u{0}")) else {
            return Message::text(text.into_owned());
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        let mut out = String::with_capacity(text.len() + 20);
        out.push_str(&text[..at]);
        out.push_str(&format!("\"sequence_num\":{seq},"));
        out.push_str(&text[at + SEQ_MARK.len()..]);
        Message::text(out)
    }

    /// A frame of `topic` was lost on the way: if this client would have
    /// had it, its number is used up.
    pub(super) fn lost(&mut self, topic: &str) {
        if self.wants(topic) {
            self.next_seq += 1;
        }
    }

    /// `subscribe` / `unsubscribe` of one channel for `product_ids`.
    pub(super) fn handle_text(&mut self, text: &str, listed: &[String], replies: &mut Replies) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
            replies.texts.push(error("malformed request"));
            return;
        };
        let op = v.get("type").and_then(|o| o.as_str()).unwrap_or("");
        let channel = v.get("channel").and_then(|c| c.as_str()).unwrap_or("");
        let products: Vec<&str> = v
            .get("product_ids")
            .and_then(|p| p.as_array())
            .map(|a| a.iter().filter_map(|p| p.as_str()).collect())
            .unwrap_or_default();
        if op != "subscribe" && op != "unsubscribe" {
            replies.texts.push(error("unknown message type"));
            return;
        }
        if !CHANNELS.contains(&channel) {
            replies.texts.push(error(&format!(
                "failure to subscribe: unknown channel {channel:?}"
            )));
            return;
        }
        if let Some(p) = products.iter().find(|p| !listed.iter().any(|s| s == *p)) {
            replies.texts.push(error(&format!(
                "failure to subscribe: unknown product_id {p:?}"
            )));
            return;
        }
        let subs = self.subs.entry(channel.to_owned()).or_default();
        for p in &products {
            let known = subs.iter().any(|s| s == p);
            if op == "subscribe" && !known {
                subs.push((*p).to_owned());
                if channel == "level2" {
                    replies
                        .snapshots
                        .push(((*p).to_owned(), format!("level2:{p}")));
                }
            } else if op == "unsubscribe" {
                subs.retain(|s| s != p);
            }
        }
        let ack = self.subscriptions();
        replies.texts.push(ack);
    }

    /// The `subscriptions` frame: every channel's products, numbered.
    fn subscriptions(&mut self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let mut ts = Vec::new();
        push_rfc3339(&mut ts, now);
        let mut body = String::new();
        for (channel, products) in &self.subs {
            if products.is_empty() {
                continue;
            }
            if !body.is_empty() {
                body.push(',');
            }
            let list: Vec<String> = products.iter().map(|p| format!("{p:?}")).collect();
            body.push_str(&format!("{channel:?}:[{}]", list.join(",")));
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        format!(
            "{{\"channel\":\"subscriptions\",\"client_id\":\"\",\"timestamp\":\"{}\",\"sequence_num\":{seq},\"events\":[{{\"subscriptions\":{{{body}}}}}]}}",
            String::from_utf8_lossy(&ts)
        )
    }
}

/// An error frame (no envelope, no `sequence_num`).
fn error(message: &str) -> String {
    let quoted = serde_json::Value::String(message.to_owned()).to_string();
    format!("{{\"type\":\"error\",\"message\":{quoted}}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed() -> Vec<String> {
        vec!["BTC-USD".to_owned(), "ETH-USD".to_owned()]
    }

    #[test]
    fn an_ack_numbers_the_connection_and_level2_wants_a_snapshot() {
        let mut s = Coinbase.accept("/").expect("the root path");
        assert!(Coinbase.accept("/ws").is_none());
        let mut r = Replies::default();
        s.handle_text(
            r#"{"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"}"#,
            &listed(),
            &mut r,
        );
        assert_eq!(r.texts.len(), 1);
        assert!(
            r.texts[0].contains(r#""sequence_num":0,"#),
            "{}",
            r.texts[0]
        );
        assert!(r.texts[0].ends_with(r#""events":[{"subscriptions":{"level2":["BTC-USD"]}}]}"#));
        assert_eq!(
            r.snapshots,
            [("BTC-USD".to_owned(), "level2:BTC-USD".to_owned())]
        );
        assert!(s.wants("level2:BTC-USD") && !s.wants("level2:ETH-USD"));
        let Message::Text(t) = s.frame(br#"{"channel":"l2_data","sequence_num":0,"events":[]}"#)
        else {
            panic!("text")
        };
        assert_eq!(
            t.as_str(),
            r#"{"channel":"l2_data","sequence_num":1,"events":[]}"#
        );
        s.lost("level2:BTC-USD");
        s.lost("level2:ETH-USD");
        let Message::Text(t) = s.frame(br#"{"channel":"l2_data","sequence_num":0,"events":[]}"#)
        else {
            panic!("text")
        };
        assert!(
            t.as_str().contains(r#""sequence_num":3,"#),
            "{}",
            t.as_str()
        );
    }

    #[test]
    fn an_unknown_product_or_channel_refuses_the_message() {
        let mut s = Coinbase.accept("/").expect("session");
        let mut r = Replies::default();
        s.handle_text(
            r#"{"type":"subscribe","product_ids":["BTC-USD","DOGE-XYZ"],"channel":"level2"}"#,
            &listed(),
            &mut r,
        );
        assert_eq!(r.texts.len(), 1);
        assert!(r.texts[0].starts_with(r#"{"type":"error","message":"failure to subscribe"#));
        assert!(r.snapshots.is_empty() && !s.wants("level2:BTC-USD"));
        r.texts.clear();
        s.handle_text(
            r#"{"type":"subscribe","product_ids":["BTC-USD"],"channel":"level3"}"#,
            &listed(),
            &mut r,
        );
        assert!(r.texts[0].contains("unknown channel"), "{}", r.texts[0]);
    }
}
