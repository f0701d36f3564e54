//! OKX v5's dialect: the `/ws/v5/public` WebSocket, `subscribe` /
//! `unsubscribe` with one ack per arg and error `60018` for an unknown
//! channel or instrument, the client's text `ping` answered with `pong`,
//! no REST depth and no server pings. A `books` subscriber gets a snapshot
//! first, then updates; the frames come from [`MarketSim`]'s OKX writers.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{Frames, Kind, Refusal, Replies};
use crate::sim::market::MarketSim;

/// The public WebSocket's path.
pub(super) const WS_PATH: &str = "/ws/v5/public";
/// Channels the simulator publishes.
const CHANNELS: [&str; 3] = ["books", "bbo-tbt", "trades"];
/// Subscribe and unsubscribe requests one connection may send an hour.
const OPS_PER_HOUR: u32 = 480;
/// The window of [`OPS_PER_HOUR`].
const HOUR: Duration = Duration::from_secs(3600);

/// OKX v5 public.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::sim::server) struct Okx;

impl Okx {
    /// The public endpoint (any query is ignored), nothing else.
    pub(super) fn accept(&self, path: &str) -> Option<Session> {
        let route = path.split_once('?').map_or(path, |(r, _)| r);
        if route != WS_PATH {
            return None;
        }
        static CONNECTIONS: AtomicU64 = AtomicU64::new(1);
        let n = CONNECTIONS.fetch_add(1, Ordering::Relaxed);
        Some(Session {
            ops: 0,
            ops_since: Instant::now(),
            subs: HashSet::new(),
            conn_id: format!("{:08x}", 0x5100_0000 + n),
        })
    }
}

/// One event of `kind` as its channel's message; topics are
/// `<channel>:<instId>`.
pub(super) fn write(book: &mut MarketSim, kind: Kind, bad_checksum: bool, frames: &mut Frames) {
    let (topic, frame) = frames.next();
    let channel = match kind {
        Kind::Depth => {
            book.okx_update(bad_checksum, frame);
            "books"
        }
        Kind::BookTicker => {
            book.okx_bbo(frame);
            "bbo-tbt"
        }
        Kind::Trade => {
            book.okx_trade(frame);
            "trades"
        }
    };
    set_topic(topic, channel, book);
}

/// The `books` snapshot; other channels have none.
pub(super) fn ws_snapshot(book: &MarketSim, topic: &str, out: &mut Vec<u8>) -> bool {
    if topic.split_once(':').map(|(c, _)| c) != Some("books") {
        return false;
    }
    book.okx_snapshot(out);
    !out.is_empty()
}

/// A `books` update cut off inside its asks.
pub(super) fn malformed(book: &MarketSim, frames: &mut Frames) {
    let (topic, frame) = frames.next();
    set_topic(topic, "books", book);
    frame.extend_from_slice(b"{\"arg\":{\"channel\":\"books\",\"instId\":\"");
    frame.extend_from_slice(book.config().symbol.as_bytes());
    frame.extend_from_slice(b"\"},\"action\":\"update\",\"data\":[{\"asks\":[[\"1");
}

/// An update whose bid crosses the best ask.
pub(super) fn crossed(book: &mut MarketSim, frames: &mut Frames) {
    let (topic, frame) = frames.next();
    book.okx_crossed(frame);
    set_topic(topic, "books", book);
}

/// OKX's error bodies (`code` / `msg` / `data`).
pub(super) fn refusal(why: Refusal) -> &'static str {
    match why {
        Refusal::Malformed => "{\"code\":\"50014\",\"msg\":\"Parameter error\",\"data\":[]}",
        Refusal::RateLimited => "{\"code\":\"50011\",\"msg\":\"Too Many Requests\",\"data\":[]}",
        Refusal::Unavailable => {
            "{\"code\":\"50001\",\"msg\":\"Service temporarily unavailable\",\"data\":[]}"
        }
        Refusal::UnknownSymbol => {
            "{\"code\":\"51001\",\"msg\":\"Instrument ID does not exist\",\"data\":[]}"
        }
        Refusal::Timeout => "{\"code\":\"50004\",\"msg\":\"Endpoint request timeout\",\"data\":[]}",
    }
}

/// `<channel>:<instId>`.
fn set_topic(topic: &mut String, channel: &str, book: &MarketSim) {
    topic.clear();
    topic.push_str(channel);
    topic.push(':');
    topic.push_str(&book.config().symbol);
}

/// One OKX WebSocket connection.
#[derive(Debug)]
pub(in crate::sim::server) struct Session {
    /// Subscribe / unsubscribe requests since `ops_since`.
    ops: u32,
    /// Start of the current hour of `ops`.
    ops_since: Instant,
    /// Subscriptions as `<channel>:<instId>`.
    subs: HashSet<String>,
    /// This connection's `connId`.
    conn_id: String,
}

impl Session {
    pub(super) fn wants(&self, topic: &str) -> bool {
        self.subs.contains(topic)
    }

    /// Text `ping`, and `subscribe` / `unsubscribe` with one reply per arg.
    pub(super) fn handle_text(&mut self, text: &str, listed: &[String], replies: &mut Replies) {
        if text == "ping" {
            replies.texts.push("pong".to_owned());
            return;
        }
        let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
            replies
                .texts
                .push(self.error("60012", &format!("Illegal request: {}", json_escape(text))));
            return;
        };
        let op = v.get("op").and_then(|o| o.as_str()).unwrap_or("");
        let args = v.get("args").and_then(|a| a.as_array());
        let (Some(args), true) = (args, op == "subscribe" || op == "unsubscribe") else {
            replies
                .texts
                .push(self.error("60012", &format!("Illegal request: {}", json_escape(text))));
            return;
        };
        if self.ops_since.elapsed() >= HOUR {
            self.ops = 0;
            self.ops_since = Instant::now();
        }
        self.ops += 1;
        if self.ops > OPS_PER_HOUR {
            // The code is OKX's "too frequent" one as secondary sources
            // give it (unverified).
            replies.texts.push(self.error(
                "60014",
                &format!("Requests too frequent: more than {OPS_PER_HOUR} subscribe or unsubscribe requests in an hour."),
            ));
            return;
        }
        for arg in args {
            let channel = arg.get("channel").and_then(|c| c.as_str()).unwrap_or("");
            let inst = arg.get("instId").and_then(|c| c.as_str()).unwrap_or("");
            if !CHANNELS.contains(&channel) || !listed.iter().any(|s| s == inst) {
                replies.texts.push(self.error(
                    "60018",
                    &format!(
                        "Wrong URL or channel:{},instId:{} doesn't exist. Please use the correct URL, channel and parameters referring to API document.",
                        json_escape(channel),
                        json_escape(inst)
                    ),
                ));
                continue;
            }
            let topic = format!("{channel}:{inst}");
            replies.texts.push(format!(
                "{{\"event\":\"{op}\",\"arg\":{{\"channel\":\"{channel}\",\"instId\":\"{inst}\"}},\"connId\":\"{}\"}}",
                self.conn_id
            ));
            if op == "subscribe" {
                if channel == "books" {
                    replies.snapshots.push((inst.to_owned(), topic.clone()));
                }
                self.subs.insert(topic);
            } else {
                self.subs.remove(&topic);
            }
        }
    }

    fn error(&self, code: &str, msg: &str) -> String {
        format!(
            "{{\"event\":\"error\",\"code\":\"{code}\",\"msg\":\"{msg}\",\"connId\":\"{}\"}}",
            self.conn_id
        )
    }
}

/// `s` escaped for a JSON string's inside.
fn json_escape(s: &str) -> String {
    let quoted = serde_json::Value::String(s.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed() -> Vec<String> {
        vec!["BTC-USDT".to_owned()]
    }

    #[test]
    fn one_ack_or_error_per_arg_and_a_snapshot_for_books() {
        let mut s = Okx.accept("/ws/v5/public?x=1").expect("the public path");
        assert!(Okx.accept("/ws/v5/private").is_none());
        let mut r = Replies::default();
        s.handle_text(
            r#"{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"},{"channel":"books","instId":"X-Y"}]}"#,
            &listed(),
            &mut r,
        );
        assert_eq!(r.texts.len(), 2);
        assert!(
            r.texts[0].starts_with(
                r#"{"event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"}"#
            )
        );
        assert!(
            r.texts[1].starts_with(r#"{"event":"error","code":"60018""#),
            "{}",
            r.texts[1]
        );
        assert_eq!(
            r.snapshots,
            [("BTC-USDT".to_owned(), "books:BTC-USDT".to_owned())]
        );
        assert!(s.wants("books:BTC-USDT") && !s.wants("books:X-Y"));
    }

    #[test]
    fn the_481st_request_in_an_hour_is_refused() {
        let mut s = Okx.accept(WS_PATH).expect("session");
        let mut r = Replies::default();
        let arg = r#"{"op":"unsubscribe","args":[{"channel":"trades","instId":"BTC-USDT"}]}"#;
        for _ in 0..OPS_PER_HOUR {
            r.texts.clear();
            s.handle_text(arg, &listed(), &mut r);
            assert!(
                r.texts[0].starts_with(r#"{"event":"unsubscribe""#),
                "{}",
                r.texts[0]
            );
        }
        r.texts.clear();
        s.handle_text(arg, &listed(), &mut r);
        assert!(r.texts[0].contains(r#""code":"60014""#), "{}", r.texts[0]);
        r.texts.clear();
        s.handle_text("ping", &listed(), &mut r);
        assert_eq!(r.texts, ["pong"]);
    }
}
