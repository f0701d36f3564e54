//! A wss:// client of the simulated venue for the per-venue tests: rustls
//! trusting the simulator's CA under tungstenite, reads bounded by a
//! deadline, and a client-side book keyed by price mantissa.

#![allow(dead_code, reason = "each test file uses part of this module")]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls_pki_types::ServerName;
use tickwire::sim::{Mix, SimConfig, SimVenue};
use tickwire::socket::{client_config, parse_ca_pem};
use tickwire::types::{Price, Qty, Venue};
use tungstenite::{Message, WebSocket};

/// How long any single expectation may take.
pub(crate) const DEADLINE: Duration = Duration::from_secs(15);

/// A TLS WebSocket to the simulator.
pub(crate) type Ws = WebSocket<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>;

/// A TLS simulator of `venue` for `symbols`, mostly book events.
pub(crate) fn start(venue: Venue, symbols: &[&str]) -> SimVenue {
    let mut cfg = SimConfig::new(venue, symbols);
    cfg.tls = true;
    cfg.rate = 400;
    cfg.mix = Mix {
        depth: 60,
        book_ticker: 20,
        trade: 20,
    };
    cfg.max_client_messages_per_sec = 20;
    SimVenue::start(cfg).expect("simulator starts")
}

/// Connects over TLS (trusting only the simulator's CA) to `path`.
pub(crate) fn connect(sim: &SimVenue, path: &str) -> Ws {
    let sock = TcpStream::connect(sim.addr()).expect("connect");
    sock.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let cas = parse_ca_pem(sim.ca_pem().expect("tls on").as_bytes()).expect("ca");
    let config: Arc<rustls::ClientConfig> = client_config(&cas).expect("tls config");
    let name = ServerName::try_from("localhost").expect("name");
    let conn = rustls::ClientConnection::new(config, name).expect("tls client");
    let stream = rustls::StreamOwned::new(conn, sock);
    let url = format!("{}{path}", sim.ws_url());
    assert!(url.starts_with("wss://"), "{url}");
    let (ws, _) = tungstenite::client::client(url.as_str(), stream).expect("handshake");
    ws.get_ref()
        .sock
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    ws
}

/// Sends a text message.
pub(crate) fn send(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).expect("send");
}

/// The next text message; panics at the deadline.
pub(crate) fn next_text(ws: &mut Ws) -> String {
    let end = Instant::now() + DEADLINE;
    while Instant::now() < end {
        match ws.read() {
            Ok(Message::Text(t)) => return t.as_str().to_owned(),
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("websocket read: {e}"),
        }
    }
    panic!("no message within {DEADLINE:?}");
}

/// Reads until a message `want` accepts (at most `max` messages); returns it.
pub(crate) fn read_until(ws: &mut Ws, max: usize, mut want: impl FnMut(&str) -> bool) -> String {
    for _ in 0..max {
        let t = next_text(ws);
        if want(&t) {
            return t;
        }
    }
    panic!("no wanted message in {max} messages");
}

/// Sends `request` as a plain HTTP/1.1 request over TLS; returns the status.
pub(crate) fn http_status(sim: &SimVenue, path: &str) -> u16 {
    let sock = TcpStream::connect(sim.addr()).expect("connect");
    sock.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let cas = parse_ca_pem(sim.ca_pem().expect("tls on").as_bytes()).expect("ca");
    let config = client_config(&cas).expect("tls config");
    let name = ServerName::try_from("localhost").expect("name");
    let conn = rustls::ClientConnection::new(config, name).expect("tls client");
    let mut stream = rustls::StreamOwned::new(conn, sock);
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").expect("write");
    let mut text = Vec::new();
    // The server closes after answering; an unclean TLS close still leaves the text.
    let _ = stream.read_to_end(&mut text);
    let text = String::from_utf8_lossy(&text);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"))
}

/// A decimal string as a mantissa at `decimals`; extra decimals must be 0.
pub(crate) fn mantissa(text: &str, decimals: usize) -> i64 {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let (kept, extra) = frac.split_at(frac.len().min(decimals));
    assert!(extra.bytes().all(|b| b == b'0'), "{text}");
    format!("{int}{kept:0<decimals$}")
        .parse()
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Price decimals of the simulator's instruments (tick 0.01).
pub(crate) const PRICE_DECIMALS: usize = 2;
/// Size decimals of the simulator's instruments (lot 0.00001).
pub(crate) const QTY_DECIMALS: usize = 5;

/// A client's book rebuilt from the wire: price → quantity mantissas.
#[derive(Debug, Default)]
pub(crate) struct Book {
    /// Bids.
    pub(crate) bids: BTreeMap<i64, i64>,
    /// Asks.
    pub(crate) asks: BTreeMap<i64, i64>,
}

impl Book {
    /// Applies `[price, size, ..]` levels (size 0 deletes) to one side.
    pub(crate) fn apply(&mut self, bids: bool, levels: &serde_json::Value) {
        let side = if bids { &mut self.bids } else { &mut self.asks };
        for l in levels.as_array().expect("levels") {
            let p = mantissa(l[0].as_str().expect("price"), PRICE_DECIMALS);
            let q = mantissa(l[1].as_str().expect("size"), QTY_DECIMALS);
            if q == 0 {
                side.remove(&p);
            } else {
                side.insert(p, q);
            }
        }
    }

    /// Asserts it holds exactly the best `depth` levels a side of `truth`.
    pub(crate) fn assert_top_of(&self, bids: &[(Price, Qty)], asks: &[(Price, Qty)], depth: usize) {
        let ours = |m: &BTreeMap<i64, i64>, rev: bool| -> Vec<(i64, i64)> {
            let v: Vec<_> = m.iter().map(|(&p, &q)| (p, q)).collect();
            if rev {
                v.into_iter().rev().collect()
            } else {
                v
            }
        };
        let theirs = |l: &[(Price, Qty)]| -> Vec<(i64, i64)> {
            l.iter().take(depth).map(|(p, q)| (p.0, q.0)).collect()
        };
        assert!(!self.bids.is_empty() && !self.asks.is_empty());
        assert_eq!(ours(&self.bids, true), theirs(bids), "bids");
        assert_eq!(ours(&self.asks, false), theirs(asks), "asks");
    }
}
