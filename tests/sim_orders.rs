//! The simulated venue's order endpoints (Binance spot `/ws-api/v3`, USD-M
//! `/ws-fapi/v1`) over real loopback sockets, ws:// and wss://, with a small
//! client written here that builds and signs its own requests (HMAC-SHA256
//! and Ed25519). The market is paused (rate 0) so the true book is fixed and
//! fills can be checked against it exactly; the venue's clock is a manual
//! clock, so timestamps and rate-limit windows are exact.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use base64::Engine as _;
use ed25519_dalek::{Signer, SigningKey};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use tickwire::sim::{Fault, OrderFault, SimAccount, SimConfig, SimVenue, TrueBook};
use tickwire::types::{ManualClock, Price, Venue};
use tungstenite::{Message, WebSocket};

/// 2026-01-01 00:00:05 UTC, in ms.
const T0_MS: u64 = 1_767_225_605_000;
const HMAC_KEY: &str = "hmacKey0001";
const SECRET: &str = "simSecretForTests";
const ED_KEY: &str = "edKey0001";

trait Io: Read + Write + Send {}
impl<T: Read + Write + Send> Io for T {}

fn ed_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

struct Sim {
    sim: SimVenue,
    clock: ManualClock,
}

impl Sim {
    fn start(venue: Venue, tls: bool) -> Sim {
        let clock = ManualClock::new(T0_MS * 1_000_000);
        let mut cfg = SimConfig::new(venue, &["BTCUSDT"]);
        cfg.rate = 0;
        cfg.tls = tls;
        cfg.clock = Some(clock.clone());
        cfg.accounts = vec![
            SimAccount::hmac(HMAC_KEY, SECRET),
            SimAccount::ed25519(ED_KEY, ed_key().verifying_key().to_bytes()),
        ];
        Sim {
            sim: SimVenue::start(cfg).expect("sim starts"),
            clock,
        }
    }

    fn now_ms(&self) -> u64 {
        use tickwire::types::Clock;
        self.clock.now() / 1_000_000
    }

    fn book(&self) -> TrueBook {
        self.sim.true_book("BTCUSDT").expect("true book")
    }

    fn stats(&self) -> (u64, u64) {
        let o = &self.sim.stats().orders;
        (
            o.breaches.load(Ordering::Relaxed),
            o.duplicates.load(Ordering::Relaxed),
        )
    }

    fn io(&self) -> Box<dyn Io> {
        let sock = TcpStream::connect(self.sim.addr()).expect("connect");
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        match self.sim.ca_pem() {
            None => Box::new(sock),
            Some(pem) => {
                let ca = tickwire::socket::parse_ca_pem(pem.as_bytes()).unwrap();
                let config = tickwire::socket::client_config(&ca).unwrap();
                let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
                let conn = rustls::ClientConnection::new(config, name).unwrap();
                Box::new(rustls::StreamOwned::new(conn, sock))
            }
        }
    }

    fn connect(&self, path: &str) -> Client {
        let scheme = if self.sim.ca_pem().is_some() {
            "wss"
        } else {
            "ws"
        };
        let url = format!("{scheme}://localhost:{}{path}", self.sim.addr().port());
        let (ws, _) = tungstenite::client::client(url.as_str(), self.io()).expect("handshake");
        Client {
            ws,
            next_id: 0,
            events: Vec::new(),
        }
    }

    /// One REST request; (status, body).
    fn rest(&self, method: &str, target: &str, api_key: &str) -> (u16, Value) {
        let mut io = self.io();
        write!(
            io,
            "{method} {target} HTTP/1.1\r\nHost: localhost\r\nX-MBX-APIKEY: {api_key}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        io.flush().unwrap();
        let mut raw = Vec::new();
        let _ = io.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status: u16 = text[9..12].parse().unwrap();
        let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
        (status, serde_json::from_str(body).unwrap())
    }
}

struct Client {
    ws: WebSocket<Box<dyn Io>>,
    next_id: u64,
    /// User-data events read while waiting for a reply.
    events: Vec<Value>,
}

/// The documented payload: every param but `signature`, sorted, `k=v&...`.
fn payload(params: &Map<String, Value>) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| *k != "signature")
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), v)
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn hmac_hex(secret: &str, payload: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(payload.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn signed_hmac(mut params: Value, ts: u64, key: &str, secret: &str) -> Value {
    params["apiKey"] = key.into();
    params["timestamp"] = ts.into();
    let sig = hmac_hex(secret, &payload(params.as_object().unwrap()));
    params["signature"] = sig.into();
    params
}

fn signed_ed(mut params: Value, ts: u64) -> Value {
    params["apiKey"] = ED_KEY.into();
    params["timestamp"] = ts.into();
    let sig = ed_key().sign(payload(params.as_object().unwrap()).as_bytes());
    params["signature"] = base64::engine::general_purpose::STANDARD
        .encode(sig.to_bytes())
        .into();
    params
}

impl Client {
    fn send(&mut self, method: &str, params: Value) -> u64 {
        self.next_id += 1;
        let req = json!({"id": self.next_id, "method": method, "params": params});
        self.ws.send(Message::text(req.to_string())).expect("send");
        self.next_id
    }

    /// The next frame as JSON (bounded by the socket's 5-s read timeout).
    fn frame(&mut self) -> Value {
        loop {
            match self.ws.read().expect("read") {
                Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
                _ => continue,
            }
        }
    }

    /// The reply to request `id`; events read meanwhile are kept.
    fn reply(&mut self, id: u64) -> Value {
        for _ in 0..10_000 {
            let v = self.frame();
            if v.get("id") == Some(&json!(id)) {
                return v;
            }
            self.events.push(v);
        }
        panic!("no reply to {id}");
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params);
        self.reply(id)
    }

    /// The next user-data event (unwrapped).
    fn event(&mut self) -> Value {
        let v = if self.events.is_empty() {
            self.frame()
        } else {
            self.events.remove(0)
        };
        match v.get("event") {
            Some(e) => e.clone(),
            None => v,
        }
    }
}

fn err_code(reply: &Value) -> i64 {
    reply["error"]["code"].as_i64().unwrap_or(0)
}

fn px(p: Price) -> String {
    format!("{}.{:02}", p.0 / 100, p.0 % 100)
}

fn qty(q: i64) -> String {
    format!("{}.{:05}", q / 100_000, q % 100_000)
}

/// A spot session over HMAC with user data subscribed.
fn hmac_session(s: &Sim) -> Client {
    let mut c = s.connect("/ws-api/v3");
    let r = c.call(
        "userDataStream.subscribe.signature",
        signed_hmac(json!({}), s.now_ms(), HMAC_KEY, SECRET),
    );
    assert_eq!(r["status"], 200, "{r}");
    assert!(r["result"]["subscriptionId"].as_u64().is_some());
    c
}

fn limit(side: &str, tif: &str, price: &str, q: &str) -> Value {
    json!({"symbol": "BTCUSDT", "side": side, "type": "LIMIT", "timeInForce": tif,
           "price": price, "quantity": q})
}

#[test]
fn hmac_limit_order_fills_against_the_true_book_then_rests_and_cancels() {
    let s = Sim::start(Venue::BinanceSpot, false);
    let book = s.book();
    let (a1, q1) = book.asks[0];
    let mut c = hmac_session(&s);
    // Buy at the best ask, 3 lots more than it shows: fills q1 at a1, rests 3 lots.
    let want = q1.0 + 3;
    let r = c.call(
        "v3/order.place",
        signed_hmac(
            limit("BUY", "GTC", &px(a1), &qty(want)),
            s.now_ms(),
            HMAC_KEY,
            SECRET,
        ),
    );
    assert_eq!(r["status"], 200, "{r}");
    let res = &r["result"];
    assert_eq!(res["status"], "PARTIALLY_FILLED");
    assert_eq!(res["executedQty"], qty(q1.0));
    assert_eq!(res["origQty"], qty(want));
    assert_eq!(res["fills"][0]["price"], px(a1));
    assert_eq!(res["fills"][0]["qty"], qty(q1.0));
    assert_eq!(res["fills"].as_array().unwrap().len(), 1);
    let limits = r["rateLimits"].as_array().unwrap();
    assert_eq!(limits[0]["rateLimitType"], "REQUEST_WEIGHT");
    // A partly filled order is off the unfilled-order count.
    assert_eq!(limits[1]["count"], 0, "{r}");
    let order_id = res["orderId"].as_u64().unwrap();
    let cid = res["clientOrderId"].as_str().unwrap().to_owned();
    let e = c.event();
    assert_eq!(
        (e["e"].as_str(), e["x"].as_str(), e["X"].as_str()),
        (Some("executionReport"), Some("NEW"), Some("NEW"))
    );
    assert_eq!(e["i"], order_id);
    assert_eq!(e["c"], cid.as_str());
    let e = c.event();
    assert_eq!(
        (e["x"].as_str(), e["X"].as_str()),
        (Some("TRADE"), Some("PARTIALLY_FILLED"))
    );
    assert_eq!(
        (e["L"].as_str(), e["l"].as_str(), e["z"].as_str()),
        (
            Some(px(a1).as_str()),
            Some(qty(q1.0).as_str()),
            Some(qty(q1.0).as_str())
        )
    );
    assert_eq!(e["m"], false);
    assert!(e["t"].as_i64().unwrap() > 0);
    // Status, then cancel by client id.
    let r = c.call(
        "order.status",
        signed_hmac(
            json!({"symbol": "BTCUSDT", "orderId": order_id}),
            s.now_ms(),
            HMAC_KEY,
            SECRET,
        ),
    );
    assert_eq!(r["result"]["status"], "PARTIALLY_FILLED", "{r}");
    assert_eq!(
        r["rateLimits"][0]["count"],
        2 + 2 + 1 + 4,
        "connect 2, subscribe 2, place 1, status 4"
    );
    let r = c.call(
        "order.cancel",
        signed_hmac(
            json!({"symbol": "BTCUSDT", "origClientOrderId": cid}),
            s.now_ms(),
            HMAC_KEY,
            SECRET,
        ),
    );
    assert_eq!(r["result"]["status"], "CANCELED", "{r}");
    assert_eq!(r["result"]["executedQty"], qty(q1.0));
    let e = c.event();
    assert_eq!(
        (e["x"].as_str(), e["X"].as_str(), e["C"].as_str()),
        (Some("CANCELED"), Some("CANCELED"), Some(cid.as_str()))
    );
    // Cancelling again: unknown order.
    let r = c.call(
        "order.cancel",
        signed_hmac(
            json!({"symbol": "BTCUSDT", "orderId": order_id}),
            s.now_ms(),
            HMAC_KEY,
            SECRET,
        ),
    );
    assert_eq!((r["status"].as_u64(), err_code(&r)), (Some(400), -2011));
    let r = c.call(
        "order.status",
        signed_hmac(
            json!({"symbol": "BTCUSDT", "orderId": 1}),
            s.now_ms(),
            HMAC_KEY,
            SECRET,
        ),
    );
    assert_eq!(err_code(&r), -2013);
}

#[test]
fn ed25519_logon_then_ioc_fok_post_only_and_market_semantics() {
    let s = Sim::start(Venue::BinanceSpot, true);
    let book = s.book();
    let (a1, q1) = book.asks[0];
    let (a2, q2) = book.asks[1];
    let (b1, _) = book.bids[0];
    let mut c = s.connect("/ws-api/v3");
    let r = c.call("session.logon", signed_ed(json!({}), s.now_ms()));
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(r["result"]["apiKey"], ED_KEY);
    let r = c.call("userDataStream.subscribe", json!({}));
    assert_eq!(r["status"], 200, "{r}");
    let ts = |s: &Sim| json!(s.now_ms());
    // IOC through two levels for more than both: fills both at their prices, expires the rest.
    let mut p = limit("BUY", "IOC", &px(a2), &qty(q1.0 + q2.0 + 5));
    p["timestamp"] = ts(&s);
    let r = c.call("order.place", p);
    assert_eq!(r["result"]["status"], "EXPIRED", "{r}");
    assert_eq!(r["result"]["executedQty"], qty(q1.0 + q2.0));
    let fills = r["result"]["fills"].as_array().unwrap();
    assert_eq!(
        (fills[0]["price"].as_str(), fills[1]["price"].as_str()),
        (Some(px(a1).as_str()), Some(px(a2).as_str()))
    );
    let quote = i128::from(a1.0) * i128::from(q1.0) + i128::from(a2.0) * i128::from(q2.0);
    assert_eq!(
        r["result"]["cummulativeQuoteQty"],
        format!("{}.{:07}", quote / 10_000_000, quote % 10_000_000)
    );
    let kinds: Vec<String> = (0..4)
        .map(|_| c.event()["x"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["NEW", "TRADE", "TRADE", "EXPIRED"]);
    // FOK that the book cannot fill: expires untouched.
    let mut p = limit("BUY", "FOK", &px(a1), &qty(q1.0 + 1));
    p["timestamp"] = ts(&s);
    let r = c.call("order.place", p);
    assert_eq!(
        (
            r["result"]["status"].as_str(),
            r["result"]["executedQty"].as_str()
        ),
        (Some("EXPIRED"), Some("0.00000"))
    );
    let kinds: Vec<String> = (0..2)
        .map(|_| c.event()["x"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["NEW", "EXPIRED"]);
    // FOK that it can: fills fully.
    let mut p = limit("BUY", "FOK", &px(a1), &qty(q1.0));
    p["timestamp"] = ts(&s);
    let r = c.call("order.place", p);
    assert_eq!(
        (
            r["result"]["status"].as_str(),
            r["result"]["executedQty"].as_str()
        ),
        (Some("FILLED"), Some(qty(q1.0).as_str()))
    );
    let kinds: Vec<String> = (0..2)
        .map(|_| c.event()["X"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["NEW", "FILLED"]);
    // Post-only that would take: -2010, no event; one that would not: rests.
    let mut p = json!({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT_MAKER", "price": px(a1), "quantity": "0.00100"});
    p["timestamp"] = ts(&s);
    let r = c.call("order.place", p);
    assert_eq!(
        (r["status"].as_u64(), err_code(&r)),
        (Some(400), -2010),
        "{r}"
    );
    let mut p = json!({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT_MAKER", "price": px(b1), "quantity": "0.00100"});
    p["timestamp"] = ts(&s);
    let r = c.call("order.place", p);
    assert_eq!(r["result"]["status"], "NEW", "{r}");
    assert_eq!(c.event()["w"], true);
    // Market sell of exactly the best bid's size: fills at the best bid.
    let (b1, bq1) = book.bids[0];
    let mut p =
        json!({"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": qty(bq1.0)});
    p["timestamp"] = ts(&s);
    let r = c.call("order.place", p);
    assert_eq!(r["result"]["status"], "FILLED", "{r}");
    assert_eq!(r["result"]["fills"][0]["price"], px(b1));
}

#[test]
fn every_authentication_error_is_the_venues_reply() {
    let s = Sim::start(Venue::BinanceSpot, false);
    let mut c = s.connect("/ws-api/v3");
    let order = || limit("BUY", "GTC", "1.00", "0.00100");
    let now = s.now_ms();
    let r = c.call(
        "order.place",
        signed_hmac(order(), now, "noSuchKey", SECRET),
    );
    assert_eq!((r["status"].as_u64(), err_code(&r)), (Some(401), -2015));
    let r = c.call("order.place", signed_hmac(order(), now, "bad key!", SECRET));
    assert_eq!(err_code(&r), -2014);
    let r = c.call(
        "order.place",
        signed_hmac(order(), now, HMAC_KEY, "wrongSecret"),
    );
    assert_eq!((r["status"].as_u64(), err_code(&r)), (Some(400), -1022));
    let r = c.call(
        "order.place",
        signed_hmac(order(), now - 5_001, HMAC_KEY, SECRET),
    );
    assert_eq!(err_code(&r), -1021);
    assert!(r["error"]["msg"].as_str().unwrap().contains("recvWindow"));
    let r = c.call(
        "order.place",
        signed_hmac(order(), now + 1_000, HMAC_KEY, SECRET),
    );
    assert_eq!(err_code(&r), -1021);
    let mut p = order();
    p["recvWindow"] = 10_000.into();
    let r = c.call("order.place", signed_hmac(p, now - 9_000, HMAC_KEY, SECRET));
    assert_eq!(r["status"], 200, "a wider recvWindow admits it: {r}");
    let mut p = order();
    p["recvWindow"] = 60_001.into();
    let r = c.call("order.place", signed_hmac(p, now, HMAC_KEY, SECRET));
    assert_eq!(err_code(&r), -1131);
    // A tampered parameter after signing.
    let mut p = signed_hmac(order(), now, HMAC_KEY, SECRET);
    p["quantity"] = "0.00200".into();
    assert_eq!(err_code(&c.call("order.place", p)), -1022);
    // Ed25519 with a signature of another key.
    let mut p = signed_ed(order(), now);
    let other = SigningKey::from_bytes(&[9u8; 32]).sign(payload(p.as_object().unwrap()).as_bytes());
    p["signature"] = base64::engine::general_purpose::STANDARD
        .encode(other.to_bytes())
        .into();
    assert_eq!(err_code(&c.call("order.place", p)), -1022);
    // No key and no logon; logon with an HMAC key; user data before logon.
    let mut p = order();
    p["timestamp"] = now.into();
    assert_eq!(err_code(&c.call("order.place", p)), -1102);
    let r = c.call(
        "session.logon",
        signed_hmac(json!({}), now, HMAC_KEY, SECRET),
    );
    assert_eq!(r["status"], 400, "{r}");
    assert_eq!(c.call("userDataStream.subscribe", json!({}))["status"], 401);
    assert_eq!(s.sim.stats().orders.placed.load(Ordering::Relaxed), 1);
}

#[test]
fn a_burst_over_fifty_orders_in_one_window_is_429_then_418_and_counted() {
    let s = Sim::start(Venue::BinanceSpot, false);
    // 00:00:09.000: the 10-s window ends at 00:00:10.000.
    s.clock.advance(4_000 * 1_000_000);
    let window_end = (s.now_ms() / 10_000 + 1) * 10_000;
    let mut c = s.connect("/ws-api/v3");
    for i in 0..50 {
        let r = c.call(
            "order.place",
            signed_hmac(
                limit("BUY", "GTC", "1.00", "0.00100"),
                s.now_ms(),
                HMAC_KEY,
                SECRET,
            ),
        );
        assert_eq!(r["status"], 200, "order {i}: {r}");
        assert_eq!(r["rateLimits"][1]["count"], i + 1);
    }
    let r = c.call(
        "order.place",
        signed_hmac(
            limit("BUY", "GTC", "1.00", "0.00100"),
            s.now_ms(),
            HMAC_KEY,
            SECRET,
        ),
    );
    assert_eq!(
        (r["status"].as_u64(), err_code(&r)),
        (Some(429), -1015),
        "{r}"
    );
    assert_eq!(r["error"]["data"]["retryAfter"], window_end);
    assert_eq!(s.stats().0, 1);
    // Continuing before retryAfter: 418, banned for two minutes.
    let r = c.call(
        "order.status",
        signed_hmac(
            json!({"symbol": "BTCUSDT", "orderId": 1}),
            s.now_ms(),
            HMAC_KEY,
            SECRET,
        ),
    );
    assert_eq!(
        (r["status"].as_u64(), err_code(&r)),
        (Some(418), -1003),
        "{r}"
    );
    let banned_until = r["error"]["data"]["retryAfter"].as_u64().unwrap();
    assert_eq!(banned_until, s.now_ms() + 120_000);
    assert_eq!(s.stats().0, 2);
    // Still banned after the window turns.
    s.clock.advance(2_000 * 1_000_000);
    let r = c.call(
        "order.place",
        signed_hmac(
            limit("BUY", "GTC", "1.00", "0.00100"),
            s.now_ms(),
            HMAC_KEY,
            SECRET,
        ),
    );
    assert_eq!(r["status"], 418);
    assert_eq!(s.stats().0, 3);
    // After the ban: accepted, in a fresh 10-s window; the day still counts 50.
    s.clock.set(banned_until * 1_000_000);
    let r = c.call(
        "order.place",
        signed_hmac(
            limit("BUY", "GTC", "1.00", "0.00100"),
            s.now_ms(),
            HMAC_KEY,
            SECRET,
        ),
    );
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(
        (
            r["rateLimits"][1]["count"].as_u64(),
            r["rateLimits"][2]["count"].as_u64()
        ),
        (Some(1), Some(51))
    );
    assert_eq!(s.stats(), (3, 0));
}

#[test]
fn ten_second_windows_start_on_the_clock_not_on_the_first_order() {
    let s = Sim::start(Venue::BinanceSpot, false);
    // 00:00:09.990: 50 orders, then 10 ms later a new window admits 50 more.
    s.clock.advance(4_990 * 1_000_000);
    let mut c = s.connect("/ws-api/v3");
    for _ in 0..50 {
        let r = c.call(
            "order.place",
            signed_hmac(
                limit("SELL", "GTC", "99999.00", "0.00100"),
                s.now_ms(),
                HMAC_KEY,
                SECRET,
            ),
        );
        assert_eq!(r["status"], 200, "{r}");
    }
    s.clock.advance(10 * 1_000_000);
    for i in 0..50 {
        let r = c.call(
            "order.place",
            signed_hmac(
                limit("SELL", "GTC", "99999.00", "0.00100"),
                s.now_ms(),
                HMAC_KEY,
                SECRET,
            ),
        );
        assert_eq!(r["status"], 200, "{r}");
        assert_eq!(r["rateLimits"][1]["count"], i + 1);
    }
    assert_eq!(s.stats(), (0, 0));
}

#[test]
fn a_client_id_is_refused_while_open_and_reaccepted_after_a_fill_both_counted() {
    let s = Sim::start(Venue::BinanceSpot, false);
    let (a1, q1) = s.book().asks[0];
    let mut c = s.connect("/ws-api/v3");
    let mut p = limit("BUY", "GTC", "1.00", "0.00100");
    p["newClientOrderId"] = "dup-1".into();
    assert_eq!(
        c.call(
            "order.place",
            signed_hmac(p.clone(), s.now_ms(), HMAC_KEY, SECRET)
        )["status"],
        200
    );
    let r = c.call("order.place", signed_hmac(p, s.now_ms(), HMAC_KEY, SECRET));
    assert_eq!(
        (err_code(&r), r["error"]["msg"].as_str()),
        (-2010, Some("Duplicate order sent."))
    );
    assert_eq!(s.stats(), (0, 1));
    // An IOC that fills, then the same id again: accepted, and the sim counts the re-send.
    let mut p = limit("BUY", "IOC", &px(a1), &qty(q1.0));
    p["newClientOrderId"] = "dup-2".into();
    assert_eq!(
        c.call(
            "order.place",
            signed_hmac(p.clone(), s.now_ms(), HMAC_KEY, SECRET)
        )["result"]["status"],
        "FILLED"
    );
    assert_eq!(
        c.call("order.place", signed_hmac(p, s.now_ms(), HMAC_KEY, SECRET))["result"]["status"],
        "FILLED"
    );
    assert_eq!(s.stats(), (0, 2));
}

#[test]
fn cancel_replace_cancel_all_and_a_trade_through_resting_orders() {
    let s = Sim::start(Venue::BinanceSpot, false);
    let mut c = hmac_session(&s);
    let sig = |p: Value, s: &Sim| signed_hmac(p, s.now_ms(), HMAC_KEY, SECRET);
    let r = c.call(
        "order.place",
        sig(limit("BUY", "GTC", "100.00", "0.01000"), &s),
    );
    let id = r["result"]["orderId"].as_u64().unwrap();
    let mut p = limit("BUY", "GTC", "101.00", "0.02000");
    p["cancelReplaceMode"] = "STOP_ON_FAILURE".into();
    p["cancelOrderId"] = id.into();
    let r = c.call("order.cancelReplace", sig(p.clone(), &s));
    assert_eq!(r["result"]["cancelResult"], "SUCCESS", "{r}");
    assert_eq!(r["result"]["cancelResponse"]["status"], "CANCELED");
    assert_eq!(r["result"]["newOrderResponse"]["price"], "101.00");
    // The same again: the cancel fails, the new order is not attempted.
    let r = c.call("order.cancelReplace", sig(p, &s));
    assert_eq!(
        (r["status"].as_u64(), err_code(&r)),
        (Some(400), -2022),
        "{r}"
    );
    assert_eq!(r["error"]["data"]["newOrderResult"], "NOT_ATTEMPTED");
    // Another order at 102; a trade at 101.50 fills only the one at 102, at 102.
    c.call(
        "order.place",
        sig(limit("BUY", "GTC", "102.00", "0.03000"), &s),
    );
    c.events.clear();
    s.sim.trade_through("BTCUSDT", Price(10_150));
    let mut fills = Vec::new();
    for _ in 0..20 {
        let e = c.event();
        if e["x"] == "TRADE" {
            fills.push((
                e["L"].as_str().unwrap().to_owned(),
                e["l"].as_str().unwrap().to_owned(),
                e["m"].clone(),
            ));
            break;
        }
    }
    assert_eq!(
        fills,
        vec![("102.00".to_owned(), "0.03000".to_owned(), json!(true))]
    );
    let r = c.call(
        "openOrders.cancelAll",
        sig(json!({"symbol": "BTCUSDT"}), &s),
    );
    let all = r["result"].as_array().unwrap();
    assert_eq!(all.len(), 1, "{r}");
    assert_eq!(all[0]["price"], "101.00");
}

#[test]
fn order_faults_drop_unknown_outcome_late_fill_and_delay() {
    let s = Sim::start(Venue::BinanceSpot, false);
    let mut c = hmac_session(&s);
    let sig = |p: Value, s: &Sim| signed_hmac(p, s.now_ms(), HMAC_KEY, SECRET);
    // Dropped reply: no reply, but the order exists and its NEW event comes.
    s.sim.inject(Fault::Orders(OrderFault::DropReply));
    std::thread::sleep(Duration::from_millis(20));
    let mut p = limit("BUY", "GTC", "100.00", "0.01000");
    p["newClientOrderId"] = "drop-1".into();
    c.send("order.place", sig(p, &s));
    let e = c.event();
    assert_eq!(
        (e["x"].as_str(), e["c"].as_str()),
        (Some("NEW"), Some("drop-1"))
    );
    let r = c.call(
        "order.status",
        sig(
            json!({"symbol": "BTCUSDT", "origClientOrderId": "drop-1"}),
            &s,
        ),
    );
    assert_eq!(r["result"]["status"], "NEW", "{r}");
    assert!(
        c.events.iter().all(|v| v.get("id").is_none()),
        "no reply to the dropped request"
    );
    // -1007 with and without the order.
    for placed in [true, false] {
        s.sim
            .inject(Fault::Orders(OrderFault::UnknownOutcome { placed }));
        std::thread::sleep(Duration::from_millis(20));
        let cid = format!("unk-{placed}");
        let mut p = limit("BUY", "GTC", "100.00", "0.01000");
        p["newClientOrderId"] = cid.as_str().into();
        let r = c.call("order.place", sig(p, &s));
        assert_eq!(
            (r["status"].as_u64(), err_code(&r)),
            (Some(408), -1007),
            "{r}"
        );
        let r = c.call(
            "order.status",
            sig(json!({"symbol": "BTCUSDT", "origClientOrderId": cid}), &s),
        );
        assert_eq!(r["status"], if placed { 200 } else { 400 }, "{r}");
    }
    // Late fill: the cancel reply carries the fill; TRADE then CANCELED come after it.
    c.events.clear();
    s.sim.inject(Fault::Orders(OrderFault::LateFill));
    std::thread::sleep(Duration::from_millis(20));
    let r = c.call(
        "order.cancel",
        sig(
            json!({"symbol": "BTCUSDT", "origClientOrderId": "drop-1"}),
            &s,
        ),
    );
    assert_eq!(
        (
            r["result"]["status"].as_str(),
            r["result"]["executedQty"].as_str()
        ),
        (Some("CANCELED"), Some("0.00500")),
        "{r}"
    );
    let e = c.event();
    assert_eq!(
        (e["x"].as_str(), e["l"].as_str(), e["L"].as_str()),
        (Some("TRADE"), Some("0.00500"), Some("100.00"))
    );
    let e = c.event();
    assert_eq!(
        (e["x"].as_str(), e["z"].as_str()),
        (Some("CANCELED"), Some("0.00500"))
    );
    // Delayed replies: the event arrives before the reply.
    s.sim.inject(Fault::Orders(OrderFault::DelayReplies(
        Duration::from_millis(300),
    )));
    std::thread::sleep(Duration::from_millis(20));
    let id = c.send(
        "order.place",
        sig(limit("BUY", "GTC", "100.00", "0.01000"), &s),
    );
    let first = c.frame();
    assert_eq!(first["event"]["x"], "NEW", "event first: {first}");
    assert_eq!(c.reply(id)["status"], 200);
}

#[test]
fn usdm_over_tls_listen_key_gtx_modify_disconnect_mid_order_and_rest_cancel_all() {
    let s = Sim::start(Venue::BinanceUsdm, true);
    let book = s.book();
    let (a1, _) = book.asks[0];
    let (status, body) = s.rest("POST", "/fapi/v1/listenKey", HMAC_KEY);
    assert_eq!(status, 200, "{body}");
    let key = body["listenKey"].as_str().unwrap().to_owned();
    assert_eq!(s.rest("POST", "/fapi/v1/listenKey", "unknownKey").0, 401);
    let mut user = s.connect(&format!("/ws/{key}"));
    let mut c = s.connect("/ws-fapi/v1");
    let sig = |p: Value, s: &Sim| signed_hmac(p, s.now_ms(), HMAC_KEY, SECRET);
    // GTX that would take: expired.
    let r = c.call(
        "order.place",
        sig(limit("BUY", "GTX", &px(a1), "0.01000"), &s),
    );
    assert_eq!(r["result"]["status"], "EXPIRED", "{r}");
    let e = user.event();
    assert_eq!(
        (e["e"].as_str(), e["o"]["x"].as_str()),
        (Some("ORDER_TRADE_UPDATE"), Some("NEW"))
    );
    assert_eq!(user.event()["o"]["X"], "EXPIRED");
    // A resting order, modified, then a duplicate client id.
    let mut p = limit("BUY", "GTC", "100.00", "0.01000");
    p["newClientOrderId"] = "fut.1".into();
    let r = c.call("order.place", sig(p.clone(), &s));
    assert_eq!(r["result"]["status"], "NEW", "{r}");
    assert_eq!(r["rateLimits"][1]["limit"], 300);
    let r = c.call("order.place", sig(p, &s));
    assert_eq!(err_code(&r), -4116);
    let r = c.call("order.modify", sig(json!({"symbol": "BTCUSDT", "origClientOrderId": "fut.1", "side": "BUY", "price": "101.00", "quantity": "0.02000"}), &s));
    assert_eq!(
        (
            r["result"]["price"].as_str(),
            r["result"]["origQty"].as_str()
        ),
        (Some("101.00"), Some("0.02000")),
        "{r}"
    );
    assert_eq!(user.event()["o"]["x"], "NEW");
    assert_eq!(user.event()["o"]["x"], "AMENDMENT");
    // Disconnect mid-order: the order exists, its event reaches the user stream, the API connection drops.
    s.sim.inject(Fault::Orders(OrderFault::DisconnectMidOrder));
    std::thread::sleep(Duration::from_millis(20));
    let mut p = limit("BUY", "GTC", "99.00", "0.01000");
    p["newClientOrderId"] = "fut.2".into();
    c.send("order.place", sig(p, &s));
    let e = user.event();
    assert_eq!(
        (e["o"]["x"].as_str(), e["o"]["c"].as_str()),
        (Some("NEW"), Some("fut.2"))
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut closed = false;
    while Instant::now() < deadline {
        match c.ws.read() {
            Ok(Message::Text(t)) => panic!("no reply expected: {t}"),
            Ok(_) => continue,
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    assert!(closed);
    let mut c = s.connect("/ws-fapi/v1");
    let r = c.call(
        "order.status",
        sig(
            json!({"symbol": "BTCUSDT", "origClientOrderId": "fut.2"}),
            &s,
        ),
    );
    assert_eq!(r["result"]["status"], "NEW", "{r}");
    // REST cancel-all, signed over the query string as sent.
    let q = format!("symbol=BTCUSDT&timestamp={}", s.now_ms());
    let target = format!(
        "/fapi/v1/allOpenOrders?{q}&signature={}",
        hmac_hex("wrong", &q)
    );
    assert_eq!(s.rest("DELETE", &target, HMAC_KEY).1["code"], -1022);
    let target = format!(
        "/fapi/v1/allOpenOrders?{q}&signature={}",
        hmac_hex(SECRET, &q)
    );
    let (status, body) = s.rest("DELETE", &target, HMAC_KEY);
    assert_eq!((status, body["code"].as_i64()), (200, Some(200)), "{body}");
    let mut canceled = Vec::new();
    for _ in 0..2 {
        let e = user.event();
        canceled.push(e["o"]["c"].as_str().unwrap().to_owned());
        assert_eq!(e["o"]["X"], "CANCELED");
    }
    canceled.sort();
    assert_eq!(canceled, ["fut.1", "fut.2"]);
}

/// Every field of the documented example is in `ours`, with the same JSON
/// type (a `null` in the example admits anything).
fn assert_shape(example: &Value, ours: &Value, at: &str) {
    let Some(fields) = example.as_object() else {
        return;
    };
    for (k, v) in fields {
        let o = ours
            .get(k)
            .unwrap_or_else(|| panic!("{at}: missing {k:?} in {ours}"));
        let same = match (v, o) {
            (Value::Null, _) => true,
            (Value::String(_), Value::String(_)) | (Value::Bool(_), Value::Bool(_)) => true,
            (Value::Number(_), Value::Number(_)) => true,
            (Value::Object(_), Value::Object(_)) => {
                assert_shape(v, o, &format!("{at}.{k}"));
                true
            }
            (Value::Array(a), Value::Array(b)) => {
                if let (Some(x), Some(y)) = (a.first(), b.first()) {
                    assert_shape(x, y, &format!("{at}.{k}[0]"));
                }
                true
            }
            _ => false,
        };
        assert!(same, "{at}: {k:?} is {o}, the example has {v}");
    }
}

fn fixture(path: &str) -> Value {
    let full = format!(
        "{}/tests/fixtures/shape_only/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&full).expect("fixture")).expect("json")
}

#[test]
fn replies_and_events_carry_every_documented_field() {
    let s = Sim::start(Venue::BinanceSpot, false);
    let (a1, q1) = s.book().asks[0];
    let mut c = hmac_session(&s);
    let sig = |p: Value, s: &Sim| signed_hmac(p, s.now_ms(), HMAC_KEY, SECRET);
    let r = c.call(
        "order.place",
        sig(limit("BUY", "GTC", &px(a1), &qty(q1.0 + 1)), &s),
    );
    assert_shape(
        &fixture("binance/new_order_full_response.json"),
        &r["result"],
        "place",
    );
    assert!(!r["result"]["fills"].as_array().unwrap().is_empty());
    assert_shape(
        &fixture("binance/execution_report_new.json"),
        &c.event(),
        "NEW",
    );
    assert_shape(
        &fixture("binance/execution_report_trade.json"),
        &c.event(),
        "TRADE",
    );
    let id = r["result"]["orderId"].clone();
    let r = c.call(
        "order.cancel",
        sig(json!({"symbol": "BTCUSDT", "orderId": id}), &s),
    );
    assert_shape(
        &fixture("binance/cancel_order_response.json"),
        &r["result"],
        "cancel",
    );

    let s = Sim::start(Venue::BinanceUsdm, false);
    let (a1, q1) = s.book().asks[0];
    let key = s.rest("POST", "/fapi/v1/listenKey", HMAC_KEY).1["listenKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut user = s.connect(&format!("/ws/{key}"));
    let mut c = s.connect("/ws-fapi/v1");
    let r = c.call(
        "order.place",
        sig(limit("BUY", "GTC", &px(a1), &qty(q1.0 + 1)), &s),
    );
    assert_shape(
        &fixture("binance_futures/order_response.json"),
        &r["result"],
        "usdm place",
    );
    assert_eq!(user.event()["o"]["x"], "NEW");
    assert_shape(
        &fixture("binance_futures/order_update_trade.json"),
        &user.event(),
        "usdm TRADE",
    );
}

/// `tickwire sim` prints the order URLs, takes accounts from files, applies
/// an order fault typed on stdin, and prints the `orders` counters.
#[test]
fn tickwire_sim_serves_orders_with_stdin_faults_and_an_orders_line() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let secret_file = dir.join("sim_orders_secret.txt");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tickwire"))
        .args([
            "sim",
            "--venue",
            "binance-spot",
            "--symbols",
            "BTCUSDT",
            "--rate",
            "1",
        ])
        .arg("--hmac-account")
        .arg(format!("{HMAC_KEY}={}", secret_file.display()))
        .args(["--seconds", "60"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sim");
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let wait_for = |prefix: &str| -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
                if l.starts_with(prefix) {
                    return l;
                }
            }
        }
        panic!("no line starting with {prefix:?}");
    };
    let url = wait_for("ws_api_url ")["ws_api_url ".len()..].to_owned();
    assert!(url.ends_with("/ws-api/v3"), "{url}");
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "dropreply").unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let (mut ws, _) = tungstenite::connect(url.as_str()).expect("connect");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    // Dropped: no reply; the next one is answered.
    for id in 1..=2 {
        let p = signed_hmac(
            limit("BUY", "GTC", "1.00", "0.00100"),
            now_ms,
            HMAC_KEY,
            SECRET,
        );
        let req = json!({"id": id, "method": "order.place", "params": p});
        ws.send(Message::text(req.to_string())).unwrap();
    }
    if let tungstenite::stream::MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    }
    let reply: Value = match ws.read().expect("reply") {
        Message::Text(t) => serde_json::from_str(t.as_str()).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        (reply["id"].as_u64(), reply["status"].as_u64()),
        (Some(2), Some(200)),
        "{reply}"
    );
    writeln!(stdin, "orders").unwrap();
    stdin.flush().unwrap();
    let line = wait_for("orders: ");
    assert!(line.contains("2 requests, 2 placed"), "{line}");
    assert!(
        line.contains("0 breaches, 0 duplicates, 1 dropped replies"),
        "{line}"
    );
    writeln!(stdin, "quit").unwrap();
    drop(stdin);
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if child.try_wait().unwrap().is_none() {
        let _ = child.kill();
        panic!("sim did not quit");
    }
}
