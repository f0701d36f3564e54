//! Bybit v5's dialect, spot and linear: the `/v5/public/spot` and
//! `/v5/public/linear` WebSockets, `subscribe` / `unsubscribe` with Bybit's
//! acks and refusals (spot takes at most 10 args a request), the client's
//! `{"op":"ping"}` answered, no REST depth and no server pings. A depth
//! subscriber gets a snapshot of its view first, then deltas; the frames
//! come from [`MarketSim`]'s Bybit writers.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{Frames, Kind, Refusal, Replies};
use crate::sim::market::MarketSim;
use crate::types::Venue;

/// Depth views a book event is written for (`orderbook.1` is the BBO,
/// written on top-of-book events).
const DEPTHS: [usize; 3] = [50, 200, 1000];
/// Args a spot subscribe request may carry.
const SPOT_MAX_ARGS: usize = 10;
/// Characters of `args` one public connection may subscribe in total.
const MAX_ARGS_CHARS: usize = 21_000;

/// Bybit spot or linear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::sim::server) struct Bybit {
    /// Linear contracts (`tickers` with bid/ask, fixed decimals).
    linear: bool,
}

impl Bybit {
    pub(super) fn new(venue: Venue) -> Bybit {
        Bybit {
            linear: venue == Venue::BybitLinear,
        }
    }

    pub(super) fn ws_path(&self) -> &'static str {
        if self.linear {
            "/v5/public/linear"
        } else {
            "/v5/public/spot"
        }
    }

    /// The public endpoint (any query is ignored), nothing else.
    pub(super) fn accept(&self, path: &str) -> Option<Session> {
        let route = path.split_once('?').map_or(path, |(r, _)| r);
        if route != self.ws_path() {
            return None;
        }
        static CONNECTIONS: AtomicU64 = AtomicU64::new(1);
        let n = CONNECTIONS.fetch_add(1, Ordering::Relaxed);
        Some(Session {
            linear: self.linear,
            topics: HashSet::new(),
            conn_id: format!(
                "tickwiresim{n:08}-{}",
                if self.linear { "lin" } else { "spt" }
            ),
        })
    }

    /// One event of `kind`: a delta per depth view, the BBO (and linear's
    /// ticker delta), or a trade.
    pub(super) fn write(&self, book: &mut MarketSim, kind: Kind, frames: &mut Frames) {
        match kind {
            Kind::Depth => depth_frames(book, frames, MarketSim::bybit_deltas),
            Kind::BookTicker => {
                let (topic, frame) = frames.next();
                book.bybit_bbo(frame);
                set_topic(topic, "orderbook.1.", book);
                if self.linear {
                    let (topic, frame) = frames.next();
                    book.bybit_ticker(false, frame);
                    set_topic(topic, "tickers.", book);
                }
            }
            Kind::Trade => {
                let (topic, frame) = frames.next();
                book.bybit_trade(frame);
                set_topic(topic, "publicTrade.", book);
            }
        }
    }

    /// The snapshot of an `orderbook.{depth}` view, or linear's full ticker.
    pub(super) fn ws_snapshot(&self, book: &MarketSim, topic: &str, out: &mut Vec<u8>) -> bool {
        match parse_topic(topic) {
            Some(Topic::Book(depth, _)) => book.bybit_snapshot(depth, out),
            Some(Topic::Tickers(_)) if self.linear => book.bybit_ticker(true, out),
            _ => return false,
        }
        !out.is_empty()
    }
}

/// Writes one frame per depth view with `writer`, topics to match.
fn depth_frames(
    book: &mut MarketSim,
    frames: &mut Frames,
    writer: fn(&mut MarketSim, &[usize], &mut [Vec<u8>]),
) {
    let mut bufs: [Vec<u8>; DEPTHS.len()] = Default::default();
    writer(book, &DEPTHS, &mut bufs);
    for (depth, buf) in DEPTHS.iter().zip(bufs) {
        let (topic, frame) = frames.next();
        *frame = buf;
        set_topic(topic, &format!("orderbook.{depth}."), book);
    }
}

/// A depth delta cut off inside its bids, for every depth view.
pub(super) fn malformed(book: &MarketSim, frames: &mut Frames) {
    for depth in DEPTHS {
        let (topic, frame) = frames.next();
        set_topic(topic, &format!("orderbook.{depth}."), book);
        frame.extend_from_slice(b"{\"topic\":\"");
        frame.extend_from_slice(topic.as_bytes());
        frame.extend_from_slice(b"\",\"type\":\"delta\",\"ts\":1,\"data\":{\"s\":\"");
        frame.extend_from_slice(book.config().symbol.as_bytes());
        frame.extend_from_slice(b"\",\"b\":[[\"1");
    }
}

/// A delta per depth view whose bid crosses the best ask.
pub(super) fn crossed(book: &mut MarketSim, frames: &mut Frames) {
    depth_frames(book, frames, MarketSim::bybit_crossed);
}

/// Bybit's error bodies (`retCode` / `retMsg`).
pub(super) fn refusal(why: Refusal) -> &'static str {
    match why {
        Refusal::Malformed => "{\"retCode\":10001,\"retMsg\":\"params error\"}",
        Refusal::RateLimited => "{\"retCode\":10006,\"retMsg\":\"Too many visits!\"}",
        Refusal::Unavailable => "{\"retCode\":10016,\"retMsg\":\"Server error.\"}",
        Refusal::UnknownSymbol => "{\"retCode\":10001,\"retMsg\":\"Not supported symbols\"}",
        Refusal::Timeout => "{\"retCode\":10000,\"retMsg\":\"Server Timeout\"}",
    }
}

/// `<prefix><SYMBOL>`.
fn set_topic(topic: &mut String, prefix: &str, book: &MarketSim) {
    topic.clear();
    topic.push_str(prefix);
    topic.push_str(&book.config().symbol);
}

/// A topic the simulator publishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Topic<'t> {
    /// `orderbook.{depth}.{symbol}` (depth 1 is the BBO).
    Book(usize, &'t str),
    /// `publicTrade.{symbol}`.
    Trade(&'t str),
    /// `tickers.{symbol}`.
    Tickers(&'t str),
}

impl<'t> Topic<'t> {
    fn symbol(self) -> &'t str {
        match self {
            Topic::Book(_, s) | Topic::Trade(s) | Topic::Tickers(s) => s,
        }
    }
}

fn parse_topic(topic: &str) -> Option<Topic<'_>> {
    if let Some(rest) = topic.strip_prefix("orderbook.") {
        let (depth, symbol) = rest.split_once('.')?;
        let depth = depth
            .parse()
            .ok()
            .filter(|d| *d == 1 || DEPTHS.contains(d))?;
        return Some(Topic::Book(depth, symbol));
    }
    if let Some(symbol) = topic.strip_prefix("publicTrade.") {
        return Some(Topic::Trade(symbol));
    }
    topic.strip_prefix("tickers.").map(Topic::Tickers)
}

/// One Bybit WebSocket connection.
#[derive(Debug)]
pub(in crate::sim::server) struct Session {
    /// Linear: acks carry `req_id`, pongs are `op:"pong"`.
    linear: bool,
    /// Subscribed topics, exactly as the client wrote them.
    topics: HashSet<String>,
    /// This connection's `conn_id`.
    conn_id: String,
}

impl Session {
    pub(super) fn wants(&self, topic: &str) -> bool {
        self.topics.contains(topic)
    }

    /// `subscribe`, `unsubscribe` and `ping`, answered as Bybit does.
    pub(super) fn handle_text(&mut self, text: &str, listed: &[String], replies: &mut Replies) {
        let v: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        let req_id = v.get("req_id").and_then(|r| match r {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        let op = v.get("op").and_then(|o| o.as_str()).unwrap_or("");
        let args: Vec<String> = v
            .get("args")
            .and_then(|a| a.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let reply = match op {
            "ping" => self.pong(req_id.as_deref()),
            "subscribe" => match self.refuse_subscribe(&args, listed) {
                Some(why) => self.ack(op, req_id.as_deref(), false, &why),
                None => {
                    for topic in args {
                        if let Some(t) = parse_topic(&topic)
                            && matches!(t, Topic::Book(..) | Topic::Tickers(_))
                        {
                            replies
                                .snapshots
                                .push((t.symbol().to_owned(), topic.clone()));
                        }
                        self.topics.insert(topic);
                    }
                    let msg = if self.linear { "" } else { "subscribe" };
                    self.ack(op, req_id.as_deref(), true, msg)
                }
            },
            "unsubscribe" => {
                for topic in &args {
                    self.topics.remove(topic);
                }
                let msg = if self.linear { "" } else { "unsubscribe" };
                self.ack(op, req_id.as_deref(), true, msg)
            }
            _ => self.ack(
                op,
                req_id.as_deref(),
                false,
                &format!("error:unknown op:{op}"),
            ),
        };
        replies.texts.push(reply);
    }

    /// Why a subscribe request is refused, if it is.
    fn refuse_subscribe(&self, args: &[String], listed: &[String]) -> Option<String> {
        if args.is_empty() {
            return Some("error:args is empty".to_owned());
        }
        if !self.linear && args.len() > SPOT_MAX_ARGS {
            return Some(format!(
                "error:args count exceeds the limit of {SPOT_MAX_ARGS} per request"
            ));
        }
        let chars: usize = self.topics.iter().chain(args).map(String::len).sum();
        if chars > MAX_ARGS_CHARS {
            return Some(format!(
                "error:args exceed {MAX_ARGS_CHARS} characters on this connection"
            ));
        }
        for topic in args {
            let Some(t) =
                parse_topic(topic).filter(|t| self.linear || !matches!(t, Topic::Tickers(_)))
            else {
                return Some(format!("Invalid topic: {topic}"));
            };
            if !listed.iter().any(|s| s == t.symbol()) {
                return Some(format!("Invalid symbol :[{topic}]"));
            }
            if self.topics.contains(topic) {
                return Some(format!("error:already subscribed,topic:{topic}"));
            }
        }
        None
    }

    /// An ack or refusal: linear carries `req_id` always, spot only when
    /// the request had one.
    fn ack(&self, op: &str, req_id: Option<&str>, success: bool, msg: &str) -> String {
        let req = match (req_id, self.linear) {
            (Some(id), _) => format!(",\"req_id\":{}", json_str(id)),
            (None, true) => ",\"req_id\":\"\"".to_owned(),
            (None, false) => String::new(),
        };
        format!(
            "{{\"success\":{success},\"ret_msg\":{},\"conn_id\":\"{}\"{req},\"op\":{}}}",
            json_str(msg),
            self.conn_id,
            json_str(op)
        )
    }

    /// Linear: `{"req_id","op":"pong","args":[ms],"conn_id"}`; spot: an
    /// ack of `op:"ping"` whose `ret_msg` is `pong`.
    fn pong(&self, req_id: Option<&str>) -> String {
        if self.linear {
            let ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            format!(
                "{{\"req_id\":{},\"op\":\"pong\",\"args\":[\"{ms}\"],\"conn_id\":\"{}\"}}",
                json_str(req_id.unwrap_or("")),
                self.conn_id
            )
        } else {
            self.ack("ping", req_id, true, "pong")
        }
    }
}

/// `s` as a JSON string literal.
fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscribe(s: &mut Session, args: &[String]) -> String {
        let mut r = Replies::default();
        let args: Vec<String> = args.iter().map(|a| format!("\"{a}\"")).collect();
        let req = format!("{{\"op\":\"subscribe\",\"args\":[{}]}}", args.join(","));
        s.handle_text(&req, &["BTCUSDT".to_owned()], &mut r);
        r.texts.remove(0)
    }

    #[test]
    fn subscriptions_are_capped_at_21000_characters_a_connection() {
        let mut s = Bybit::new(Venue::BybitLinear)
            .accept("/v5/public/linear")
            .expect("session");
        let topic = "orderbook.1000.BTCUSDT".to_owned();
        assert!(subscribe(&mut s, std::slice::from_ref(&topic)).contains("\"success\":true"));
        // An already subscribed topic is refused.
        let again = subscribe(&mut s, std::slice::from_ref(&topic));
        assert!(again.contains("already subscribed"), "{again}");
        // One listed symbol cannot reach the budget with real topics, so the
        // set is filled directly; the next subscribe is then refused.
        for i in 0..MAX_ARGS_CHARS / topic.len() {
            s.topics.insert(format!("{topic}{i:04}"));
        }
        let over = subscribe(&mut s, &["publicTrade.BTCUSDT".to_owned()]);
        assert!(
            over.contains("\"success\":false") && over.contains("21000"),
            "{over}"
        );
    }

    #[test]
    fn spot_takes_ten_args_at_most_and_answers_pings_with_its_ack() {
        let d = Bybit::new(Venue::BybitSpot);
        assert!(d.accept("/v5/public/linear").is_none());
        let mut s = d.accept("/v5/public/spot").expect("session");
        let eleven: Vec<String> = (0..11).map(|_| "publicTrade.BTCUSDT".to_owned()).collect();
        let r = subscribe(&mut s, &eleven);
        assert!(r.contains("limit of 10"), "{r}");
        let mut replies = Replies::default();
        s.handle_text(r#"{"op":"ping"}"#, &[], &mut replies);
        let pong = &replies.texts[0];
        assert!(
            pong.starts_with(r#"{"success":true,"ret_msg":"pong","conn_id":""#),
            "{pong}"
        );
        assert!(pong.ends_with(r#","op":"ping"}"#), "{pong}");
    }
}
