//! The simulated venue over real loopback sockets: what the HTTP layer
//! answers (404 for unknown paths, refusals worded by the venue) and what a
//! client sees through the dialect seam (stream paths, subscriptions, the
//! frame each client receives). Every wait is bounded by a deadline.
#![cfg(feature = "sim")]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tickwire::sim::{Fault, SimConfig, SimVenue};
use tickwire::types::Venue;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// How long any single expectation may take.
const DEADLINE: Duration = Duration::from_secs(10);

fn start(venue: Venue) -> SimVenue {
    let mut cfg = SimConfig::new(venue, &["BTCUSDT", "ETHUSDT"]);
    cfg.rate = 1_000;
    SimVenue::start(cfg).expect("simulator starts")
}

/// An HTTP/1.1 response: status, head (lower-cased), body.
struct Response {
    status: u16,
    head: String,
    body: String,
}

/// Sends `request` as is and reads until the server closes.
fn exchange(sim: &SimVenue, request: &str) -> Response {
    let mut sock = TcpStream::connect(sim.addr()).expect("connect");
    sock.set_read_timeout(Some(DEADLINE)).expect("timeout");
    sock.write_all(request.as_bytes()).expect("write");
    let mut text = String::new();
    sock.read_to_string(&mut text).expect("read until close");
    let (head, body) = text.split_once("\r\n\r\n").expect("a full response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let response = Response {
        status,
        head: head.to_ascii_lowercase(),
        body: body.to_owned(),
    };
    let length = format!("content-length: {}", response.body.len());
    assert!(
        response.head.lines().any(|l| l == length),
        "content-length matches the body: {}",
        response.head
    );
    response
}

fn get(sim: &SimVenue, path: &str) -> Response {
    exchange(
        sim,
        &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n"),
    )
}

#[test]
fn unknown_rest_path_is_a_short_404() {
    for (venue, foreign_depth) in [
        (Venue::BinanceSpot, "/fapi/v1/depth?symbol=BTCUSDT"),
        (Venue::BinanceUsdm, "/api/v3/depth?symbol=BTCUSDT"),
    ] {
        let sim = start(venue);
        for path in [
            "/",
            "/api/v3/ticker/bookTicker?symbol=BTCUSDT",
            "/api/v3/depthx?symbol=BTCUSDT",
            "/nope",
            foreign_depth,
        ] {
            let r = get(&sim, path);
            assert_eq!(r.status, 404, "{venue} {path}: {}", r.body);
            assert!(r.head.starts_with("http/1.1 404 not found"), "{}", r.head);
            assert!(
                !r.body.is_empty() && r.body.len() <= 64,
                "{venue} {path}: a short body, got {:?}",
                r.body
            );
            assert!(!r.body.contains("lastUpdateId"), "{venue} {path}");
            // Venue-neutral: the HTTP layer answers, no venue error code.
            assert!(!r.body.contains("\"code\""), "{venue} {path}: {}", r.body);
        }
        assert_eq!(
            sim.stats()
                .snapshots
                .load(std::sync::atomic::Ordering::Relaxed),
            0,
            "{venue}: no snapshot served for an unknown path"
        );
    }
}

#[test]
fn depth_endpoint_and_refusals_are_the_venues() {
    for (venue, depth) in [
        (Venue::BinanceSpot, "/api/v3/depth"),
        (Venue::BinanceUsdm, "/fapi/v1/depth"),
    ] {
        let sim = start(venue);
        let r = get(&sim, &format!("{depth}?symbol=btcusdt&limit=5"));
        assert_eq!(r.status, 200, "{venue}: {}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
        assert!(v["lastUpdateId"].as_u64().is_some(), "{venue}: {}", r.body);
        assert_eq!(v["bids"].as_array().map(Vec::len), Some(5), "{venue}");
        assert_eq!(v["asks"].as_array().map(Vec::len), Some(5), "{venue}");

        let r = get(&sim, &format!("{depth}?symbol=NOPEUSDT"));
        assert_eq!(r.status, 400, "{venue}");
        assert!(r.body.contains("-1121"), "{venue}: {}", r.body);

        // An unknown path is answered before any fault budget is spent.
        sim.inject(Fault::RateLimit(1));
        assert_eq!(get(&sim, "/nope").status, 404, "{venue}");
        let r = get(&sim, &format!("{depth}?symbol=BTCUSDT"));
        assert_eq!(r.status, 429, "{venue}");
        assert!(r.head.contains("retry-after: 1"), "{venue}: {}", r.head);
        assert!(r.body.contains("-1003"), "{venue}: {}", r.body);

        sim.inject(Fault::RefuseSnapshots(1));
        let r = get(&sim, &format!("{depth}?symbol=BTCUSDT"));
        assert_eq!(r.status, 503, "{venue}");
        assert!(r.body.contains("-1001"), "{venue}: {}", r.body);
        assert_eq!(get(&sim, &format!("{depth}?symbol=BTCUSDT")).status, 200);

        let r = exchange(&sim, "NOT HTTP AT ALL\r\n\r\n");
        assert_eq!(r.status, 400, "{venue}");
        assert!(r.body.contains("-1100"), "{venue}: {}", r.body);
    }
}

#[test]
fn unknown_websocket_path_is_a_404() {
    let sim = start(Venue::BinanceSpot);
    let r = exchange(
        &sim,
        "GET /v5/public/spot HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n",
    );
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.body.len() <= 64, "{:?}", r.body);
}

type Ws = WebSocket<MaybeTlsStream<TcpStream>>;

fn connect(sim: &SimVenue, path: &str) -> Ws {
    let sock = TcpStream::connect(sim.addr()).expect("connect");
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let url = format!("{}{path}", sim.ws_url());
    let (ws, _) = tungstenite::client::client(url.as_str(), MaybeTlsStream::Plain(sock))
        .expect("websocket handshake");
    ws
}

/// Reads text messages until `want` accepts one; panics at the deadline.
/// Every text message read is passed to `seen` first.
fn read_until(
    ws: &mut Ws,
    mut seen: impl FnMut(&str),
    mut want: impl FnMut(&str) -> bool,
) -> String {
    let end = Instant::now() + DEADLINE;
    while Instant::now() < end {
        match ws.read() {
            Ok(Message::Text(t)) => {
                seen(t.as_str());
                if want(t.as_str()) {
                    return t.as_str().to_owned();
                }
            }
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("websocket read: {e}"),
        }
    }
    panic!("no wanted message within {DEADLINE:?}");
}

#[test]
fn combined_stream_frames_carry_the_envelope() {
    let sim = start(Venue::BinanceSpot);
    let mut ws = connect(
        &sim,
        "/stream?streams=btcusdt@depth@100ms/ethusdt@bookTicker",
    );
    let mut kinds = (0, 0);
    let check = |t: &str| {
        let v: serde_json::Value = serde_json::from_str(t).expect("json frame");
        let stream = v["stream"].as_str().expect("an envelope");
        assert!(
            stream == "btcusdt@depth@100ms" || stream == "ethusdt@bookTicker",
            "unsubscribed stream {stream}"
        );
        assert!(v["data"].is_object(), "{t}");
    };
    read_until(&mut ws, check, |t| {
        if t.contains("\"depthUpdate\"") {
            kinds.0 += 1;
        } else {
            kinds.1 += 1;
        }
        kinds.0 > 0 && kinds.1 > 0
    });
}

#[test]
fn raw_stream_frames_are_bare_and_subscriptions_are_acked() {
    for (venue, trade, event) in [
        (Venue::BinanceSpot, "ethusdt@trade", "\"e\":\"trade\""),
        (Venue::BinanceUsdm, "ethusdt@aggTrade", "\"e\":\"aggTrade\""),
    ] {
        let sim = start(venue);
        let mut ws = connect(&sim, "/ws");
        ws.send(Message::text(format!(
            "{{\"method\":\"SUBSCRIBE\",\"params\":[\"{trade}\"],\"id\":7}}"
        )))
        .expect("send");
        read_until(&mut ws, |_| {}, |t| t == "{\"result\":null,\"id\":7}");
        let frame = read_until(&mut ws, |_| {}, |t| t.contains(event));
        assert!(
            frame.starts_with("{\"e\":"),
            "{venue}: bare data, got {frame}"
        );
        assert!(frame.contains("\"s\":\"ETHUSDT\""), "{venue}: {frame}");

        ws.send(Message::text(
            "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":8}",
        ))
        .expect("send");
        read_until(
            &mut ws,
            |_| {},
            |t| {
                t == format!(
                    "{{\"result\":[\"{}\"],\"id\":8}}",
                    trade.to_ascii_lowercase()
                )
            },
        );

        ws.send(Message::text("not json")).expect("send");
        read_until(&mut ws, |_| {}, |t| t.contains("\"code\":3"));
    }
}
