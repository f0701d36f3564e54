//! Binance's dialect, spot and USD-M: combined (`/stream?streams=a/b`) and
//! raw (`/ws/<stream>`) WebSocket endpoints, `SUBSCRIBE` / `UNSUBSCRIBE` /
//! `LIST_SUBSCRIPTIONS` control messages, the REST depth endpoint, protocol
//! pings, and Binance's error bodies. The frames themselves come from
//! [`MarketSim`], which writes Binance's wire format.

use std::collections::HashSet;

use tungstenite::Message;

use super::{Kind, Refusal, RestRequest};
use crate::sim::market::MarketSim;
use crate::types::Venue;

/// Binance spot or USD-M.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::sim::server) struct Binance {
    /// USD-M futures: `/fapi/v1/depth`, `aggTrade` instead of `trade`.
    usdm: bool,
}

impl Binance {
    pub(super) fn new(venue: Venue) -> Binance {
        Binance {
            usdm: venue == Venue::BinanceUsdm,
        }
    }

    /// `/stream?streams=a/b/c` (combined) or `/ws/<stream>` and `/ws` (raw).
    pub(super) fn accept(&self, path: &str) -> Option<Session> {
        if let Some(rest) = path.strip_prefix("/stream") {
            let query = rest.strip_prefix('?').unwrap_or("");
            let streams = param(query, "streams")
                .map(|v| {
                    v.split('/')
                        .filter(|s| !s.is_empty())
                        .map(str::to_ascii_lowercase)
                        .collect()
                })
                .unwrap_or_default();
            return Some(Session {
                streams,
                raw: false,
            });
        }
        let mut streams = HashSet::new();
        if let Some(stream) = path.strip_prefix("/ws/") {
            streams.insert(stream.to_ascii_lowercase());
        } else if path != "/ws" {
            return None;
        }
        Some(Session { streams, raw: true })
    }

    /// `GET /api/v3/depth` (spot) or `/fapi/v1/depth` (USD-M) with `symbol`
    /// and `limit` (default 100, clamped to 1..=5000).
    pub(super) fn rest(&self, route: &str, query: &str) -> Option<RestRequest> {
        let depth_path = if self.usdm {
            "/fapi/v1/depth"
        } else {
            "/api/v3/depth"
        };
        if route != depth_path {
            return None;
        }
        let symbol = param(query, "symbol")
            .unwrap_or_default()
            .to_ascii_uppercase();
        let limit = param(query, "limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(100usize)
            .clamp(1, 5000);
        Some(RestRequest::Snapshot { symbol, limit })
    }

    /// One event of `kind`; the topic is the stream-name prefix its
    /// subscribers use (`btcusdt@depth` also reaches `btcusdt@depth@100ms`).
    pub(super) fn write(
        &self,
        book: &mut MarketSim,
        kind: Kind,
        frame: &mut Vec<u8>,
        topic: &mut String,
    ) {
        let stream = match kind {
            Kind::Depth => {
                book.depth_update(frame);
                "depth"
            }
            Kind::BookTicker => {
                book.book_ticker(frame);
                "bookticker"
            }
            Kind::Trade => {
                book.trade(frame);
                if self.usdm { "aggtrade" } else { "trade" }
            }
        };
        set_topic(topic, book, stream);
    }
}

/// A depth frame cut off after `"U":`.
pub(super) fn malformed(book: &MarketSim, frame: &mut Vec<u8>, topic: &mut String) {
    set_topic(topic, book, "depth@100ms");
    frame.clear();
    frame.extend_from_slice(b"{\"stream\":\"");
    frame.extend_from_slice(topic.as_bytes());
    frame.extend_from_slice(b"\",\"data\":{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"");
    frame.extend_from_slice(book.config().symbol.as_bytes());
    frame.extend_from_slice(b"\",\"U\":");
}

/// A diff whose bid crosses the best ask.
pub(super) fn crossed(book: &mut MarketSim, frame: &mut Vec<u8>, topic: &mut String) {
    book.crossed_diff(frame);
    set_topic(topic, book, "depth");
}

/// A protocol ping; Binance expects the pong to echo its payload.
pub(super) fn ping() -> Message {
    Message::Ping(b"tickwire-sim".to_vec().into())
}

/// Binance's error bodies.
pub(super) fn refusal(why: Refusal) -> &'static str {
    match why {
        Refusal::Malformed => "{\"code\":-1100,\"msg\":\"Malformed request.\"}",
        Refusal::RateLimited => "{\"code\":-1003,\"msg\":\"Too many requests.\"}",
        Refusal::Unavailable => {
            "{\"code\":-1001,\"msg\":\"Internal error; unable to process your request. Please try again.\"}"
        }
        Refusal::UnknownSymbol => "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}",
        Refusal::Timeout => {
            "{\"code\":-1007,\"msg\":\"Timeout waiting for response from backend server.\"}"
        }
    }
}

/// `<lower-case symbol>@<stream>`.
fn set_topic(topic: &mut String, book: &MarketSim, stream: &str) {
    topic.clear();
    topic.extend(book.config().symbol.chars().map(|c| c.to_ascii_lowercase()));
    topic.push('@');
    topic.push_str(stream);
}

/// The value of `name` in a query string.
fn param<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// One Binance WebSocket connection.
#[derive(Debug)]
pub(in crate::sim::server) struct Session {
    /// Lower-case stream names.
    streams: HashSet<String>,
    /// Raw `/ws/<stream>` connection: frames go without the envelope.
    raw: bool,
}

impl Session {
    /// Subscribed to a stream that starts with `topic` (ASCII case-insensitive).
    pub(super) fn wants(&self, topic: &str) -> bool {
        let topic = topic.as_bytes();
        self.streams.iter().any(|s| {
            s.len() >= topic.len() && s.as_bytes()[..topic.len()].eq_ignore_ascii_case(topic)
        })
    }

    /// Combined-stream frames as they are; raw connections get the `data`
    /// object only.
    pub(super) fn frame(&mut self, frame: &[u8]) -> Message {
        let payload = if self.raw {
            unwrap_envelope(frame)
        } else {
            frame
        };
        Message::text(String::from_utf8_lossy(payload).into_owned())
    }

    /// Answers `SUBSCRIBE` / `UNSUBSCRIBE` / `LIST_SUBSCRIPTIONS` like
    /// Binance; anything else gets Binance's error.
    pub(super) fn handle_text(&mut self, text: &str) -> Option<String> {
        let v: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(_) => return Some("{\"code\":3,\"msg\":\"Invalid JSON\",\"id\":null}".to_owned()),
        };
        let id = v.get("id").cloned().unwrap_or(serde_json::Value::Null);
        let params: Vec<String> = v
            .get("params")
            .and_then(|p| p.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_ascii_lowercase))
                    .collect()
            })
            .unwrap_or_default();
        match v.get("method").and_then(|m| m.as_str()) {
            Some("SUBSCRIBE") => {
                self.streams.extend(params);
                Some(format!("{{\"result\":null,\"id\":{id}}}"))
            }
            Some("UNSUBSCRIBE") => {
                for p in &params {
                    self.streams.remove(p);
                }
                Some(format!("{{\"result\":null,\"id\":{id}}}"))
            }
            Some("LIST_SUBSCRIPTIONS") => {
                let list: Vec<String> = self.streams.iter().map(|s| format!("\"{s}\"")).collect();
                Some(format!("{{\"result\":[{}],\"id\":{id}}}", list.join(",")))
            }
            _ => Some(format!(
                "{{\"code\":2,\"msg\":\"Invalid request: unknown method\",\"id\":{id}}}"
            )),
        }
    }
}

/// The `data` object of a combined-stream frame.
fn unwrap_envelope(frame: &[u8]) -> &[u8] {
    const KEY: &[u8] = b"\"data\":";
    match frame.windows(KEY.len()).position(|w| w == KEY) {
        Some(at) if frame.ends_with(b"}") => &frame[at + KEY.len()..frame.len() - 1],
        _ => frame,
    }
}
