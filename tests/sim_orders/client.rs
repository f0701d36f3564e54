//! The test-side client of `tests/sim_orders.rs`: starts a simulator with
//! two accounts on a manual clock, connects over ws:// or wss://, builds and
//! signs requests itself (the documented payload, HMAC-SHA256 hex, Ed25519
//! base64), and checks reply shapes against the documented examples.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine as _;
use ed25519_dalek::{Signer, SigningKey};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use tickwire::sim::{SimAccount, SimConfig, SimVenue, TrueBook};
use tickwire::types::{ManualClock, Price, Venue};
use tungstenite::{Message, WebSocket};

/// 2026-01-01 00:00:05 UTC, in ms.
pub(crate) const T0_MS: u64 = 1_767_225_605_000;
pub(crate) const HMAC_KEY: &str = "hmacKey0001";
pub(crate) const SECRET: &str = "simSecretForTests";
pub(crate) const ED_KEY: &str = "edKey0001";

pub(crate) trait Io: Read + Write + Send {}
impl<T: Read + Write + Send> Io for T {}

pub(crate) fn ed_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

pub(crate) struct Sim {
    pub(crate) sim: SimVenue,
    pub(crate) clock: ManualClock,
}

impl Sim {
    pub(crate) fn start(venue: Venue, tls: bool) -> Sim {
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

    pub(crate) fn now_ms(&self) -> u64 {
        use tickwire::types::Clock;
        self.clock.now() / 1_000_000
    }

    /// Returns once the market thread has handled every command sent
    /// before (faults included): it answers them in order.
    pub(crate) fn sync(&self) {
        let _ = self.book();
    }

    pub(crate) fn book(&self) -> TrueBook {
        self.sim.true_book("BTCUSDT").expect("true book")
    }

    pub(crate) fn stats(&self) -> (u64, u64) {
        let o = &self.sim.stats().orders;
        (
            o.breaches.load(Ordering::Relaxed),
            o.duplicates.load(Ordering::Relaxed),
        )
    }

    pub(crate) fn io(&self) -> Box<dyn Io> {
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

    pub(crate) fn connect(&self, path: &str) -> Client {
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
    pub(crate) fn rest(&self, method: &str, target: &str, api_key: &str) -> (u16, Value) {
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

pub(crate) struct Client {
    pub(crate) ws: WebSocket<Box<dyn Io>>,
    next_id: u64,
    /// User-data events read while waiting for a reply.
    pub(crate) events: Vec<Value>,
}

/// The documented payload: every param but `signature`, sorted, `k=v&...`.
pub(crate) fn payload(params: &Map<String, Value>) -> String {
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

pub(crate) fn hmac_hex(secret: &str, payload: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(payload.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn signed_hmac(mut params: Value, ts: u64, key: &str, secret: &str) -> Value {
    params["apiKey"] = key.into();
    params["timestamp"] = ts.into();
    let sig = hmac_hex(secret, &payload(params.as_object().unwrap()));
    params["signature"] = sig.into();
    params
}

pub(crate) fn signed_ed(mut params: Value, ts: u64) -> Value {
    params["apiKey"] = ED_KEY.into();
    params["timestamp"] = ts.into();
    let sig = ed_key().sign(payload(params.as_object().unwrap()).as_bytes());
    params["signature"] = base64::engine::general_purpose::STANDARD
        .encode(sig.to_bytes())
        .into();
    params
}

impl Client {
    pub(crate) fn send(&mut self, method: &str, params: Value) -> u64 {
        self.next_id += 1;
        let req = json!({"id": self.next_id, "method": method, "params": params});
        self.ws.send(Message::text(req.to_string())).expect("send");
        self.next_id
    }

    /// The next frame as JSON (bounded by the socket's 5-s read timeout).
    pub(crate) fn frame(&mut self) -> Value {
        loop {
            match self.ws.read().expect("read") {
                Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
                _ => continue,
            }
        }
    }

    /// The reply to request `id`; events read meanwhile are kept.
    pub(crate) fn reply(&mut self, id: u64) -> Value {
        for _ in 0..10_000 {
            let v = self.frame();
            if v.get("id") == Some(&json!(id)) {
                return v;
            }
            self.events.push(v);
        }
        panic!("no reply to {id}");
    }

    pub(crate) fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params);
        self.reply(id)
    }

    /// The next user-data event (unwrapped).
    pub(crate) fn event(&mut self) -> Value {
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

pub(crate) fn err_code(reply: &Value) -> i64 {
    reply["error"]["code"].as_i64().unwrap_or(0)
}

pub(crate) fn px(p: Price) -> String {
    format!("{}.{:02}", p.0 / 100, p.0 % 100)
}

pub(crate) fn qty(q: i64) -> String {
    format!("{}.{:05}", q / 100_000, q % 100_000)
}

/// A spot session over HMAC with user data subscribed.
pub(crate) fn hmac_session(s: &Sim) -> Client {
    let mut c = s.connect("/ws-api/v3");
    let r = c.call(
        "userDataStream.subscribe.signature",
        signed_hmac(json!({}), s.now_ms(), HMAC_KEY, SECRET),
    );
    assert_eq!(r["status"], 200, "{r}");
    assert!(r["result"]["subscriptionId"].as_u64().is_some());
    c
}

pub(crate) fn limit(side: &str, tif: &str, price: &str, q: &str) -> Value {
    json!({"symbol": "BTCUSDT", "side": side, "type": "LIMIT", "timeInForce": tif,
           "price": price, "quantity": q})
}

/// Every field of the documented example is in `ours`, with the same JSON
/// type (a `null` in the example admits anything).
pub(crate) fn assert_shape(example: &Value, ours: &Value, at: &str) {
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

pub(crate) fn fixture(path: &str) -> Value {
    let full = format!(
        "{}/tests/fixtures/shape_only/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&full).expect("fixture")).expect("json")
}
