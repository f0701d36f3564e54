//! The sans-IO core and the Binance codec in a closed loop with a model
//! venue written independently here (serde_json parsing, `hmac` signature
//! check, its own fixed-window ORDERS count with the unfilled semantics):
//! a burst of 10,000 new orders never makes the venue count a breach, every
//! order gets exactly one first outcome (ack or reject), and a wrong secret
//! is refused by the venue and reported with its code. No network: the
//! loopback simulator comes with the IO layer.

use std::collections::HashMap;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tickwire::orders::risk::Risk;
use tickwire::orders::{
    BreakerConfig, ClientIdGen, Gate, NewOrder, OrderType, OrdersConfig, RejectReason, ReportKind,
    Request, TimeInForce,
};
use tickwire::types::{InstrumentId, Nanos, Price, Qty, Registry, Side, Venue};
use tickwire::venue::binance::orders::{Decoder, Encoder, Inbound, Market, Signer, limits};

const MS: Nanos = 1_000_000;
const T0: Nanos = 1_764_547_200_000 * MS + 3_700 * MS; // mid-window start
const KEY: &str = "testkey123";
const SECRET: &[u8] = b"venue-secret";
const LIMIT_10S: u64 = 50;

/// The model venue: checks every request and counts like Binance.
struct ModelVenue {
    mac: Hmac<Sha256>,
    window: u64,
    count: u64,
    breaches: u64,
    accepted: HashMap<String, (u64, u64)>, // client id -> (order id, window counted in)
    next_id: u64,
}

impl ModelVenue {
    fn new(secret: &[u8]) -> ModelVenue {
        ModelVenue {
            mac: Hmac::<Sha256>::new_from_slice(secret).unwrap(),
            window: 0,
            count: 0,
            breaches: 0,
            accepted: HashMap::new(),
            next_id: 1,
        }
    }

    /// Answers one request at venue time `now`; may add a user-data event.
    fn handle(&mut self, req: &[u8], now: Nanos, fill: bool) -> Vec<String> {
        let v: serde_json::Value = serde_json::from_slice(req).unwrap();
        let id = v["id"].as_u64().unwrap();
        let params = v["params"].as_object().unwrap();
        let mut names: Vec<&String> = params.keys().filter(|k| *k != "signature").collect();
        names.sort();
        let payload: Vec<String> = names
            .iter()
            .map(|k| match &params[*k] {
                serde_json::Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect();
        let mut m = self.mac.clone();
        m.update(payload.join("&").as_bytes());
        let want: String = m
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if params["signature"].as_str() != Some(want.as_str()) {
            return vec![format!(
                r#"{{"id":{id},"status":400,"error":{{"code":-1022,"msg":"Signature for this request is not valid."}}}}"#
            )];
        }
        let ts = params["timestamp"].as_u64().unwrap();
        assert!(
            ts.abs_diff(now / MS) <= 5_000,
            "timestamp {ts} vs venue {}",
            now / MS
        );
        assert_eq!(v["method"], "order.place");
        let window = now / (10_000 * MS);
        if window != self.window {
            self.window = window;
            self.count = 0;
        }
        if self.count >= LIMIT_10S {
            self.breaches += 1;
        }
        self.count += 1;
        let cid = params["newClientOrderId"].as_str().unwrap().to_owned();
        assert!(!self.accepted.contains_key(&cid), "duplicate order {cid}");
        let oid = self.next_id;
        self.next_id += 1;
        self.accepted.insert(cid.clone(), (oid, window));
        let limits = format!(
            r#"[{{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":{LIMIT_10S},"count":{}}}]"#,
            self.count
        );
        let mut out = vec![format!(
            r#"{{"id":{id},"status":200,"result":{{"symbol":"BTCUSDT","orderId":{oid},"clientOrderId":"{cid}","executedQty":"0","status":"NEW"}},"rateLimits":{limits}}}"#
        )];
        if fill {
            // Filled at once: it leaves the unfilled count of its window.
            self.count -= 1;
            let q = params["quantity"].as_str().unwrap();
            out.push(format!(
                r#"{{"subscriptionId":0,"event":{{"e":"executionReport","s":"BTCUSDT","c":"{cid}","C":"","x":"TRADE","X":"FILLED","i":{oid},"l":"{q}","z":"{q}","L":"1.00","t":{oid},"r":"NONE"}}}}"#
            ));
        }
        out
    }
}

struct Loop {
    gate: Gate,
    enc: Encoder,
    dec: Decoder,
    venue: ModelVenue,
    now: Nanos,
    first: HashMap<String, ReportKind>,
    reasons: HashMap<RejectReason, u64>,
    venue_codes: Vec<i32>,
    fills: u64,
}

fn setup(secret: &[u8]) -> Loop {
    let mut reg = Registry::new();
    reg.add(Venue::BinanceSpot, "BTCUSDT", "0.01", "0.00001")
        .unwrap();
    let cfg = OrdersConfig {
        capacity: 16_384,
        ..OrdersConfig::default()
    };
    let mut risk = Risk::new(4, &reg);
    risk.set_max_open_total(20_000);
    risk.set_instrument(
        InstrumentId(0),
        tickwire::orders::RiskLimits {
            max_open: 20_000,
            ..Default::default()
        },
    );
    let mut gate = Gate::new(cfg, risk, limits(Market::Spot), BreakerConfig::default());
    gate.set_ready(T0);
    Loop {
        gate,
        enc: Encoder::new(Market::Spot, &reg, KEY, Signer::hmac(secret).unwrap(), 5000).unwrap(),
        dec: Decoder::new(Market::Spot, &reg),
        venue: ModelVenue::new(SECRET),
        now: T0,
        first: HashMap::new(),
        reasons: HashMap::new(),
        venue_codes: Vec::new(),
        fills: 0,
    }
}

impl Loop {
    fn pump(&mut self, n: &mut u64) {
        while let Some(send) = self.gate.poll_send(self.now) {
            let bytes = self.enc.write(&send, self.now).unwrap().to_vec();
            *n += 1;
            for frame in self.venue.handle(&bytes, self.now, *n % 3 == 0) {
                match self.dec.decode(frame.as_bytes()).unwrap() {
                    Inbound::Reply {
                        req, reply, meta, ..
                    } => self.gate.handle_reply(req, &reply, &meta, self.now),
                    Inbound::Update(v) => self.gate.handle_update(&v, self.now),
                    Inbound::Other => {}
                }
            }
        }
        while let Some(r) = self.gate.poll_report() {
            match r.kind {
                ReportKind::Ack | ReportKind::Reject => {
                    let prev = self.first.insert(r.client_id.as_str().to_owned(), r.kind);
                    assert!(prev.is_none(), "second first-outcome for {}", r.client_id);
                    if let Some(reason) = r.reason {
                        *self.reasons.entry(reason).or_default() += 1;
                    }
                    if r.venue_code != 0 {
                        self.venue_codes.push(r.venue_code);
                    }
                }
                ReportKind::Fill => self.fills += 1,
                ReportKind::Status => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}

fn order(ids: &mut ClientIdGen) -> NewOrder {
    NewOrder {
        client_id: ids.mint(),
        instrument: InstrumentId(0),
        side: Side::Bid,
        kind: OrderType::Limit,
        tif: TimeInForce::Gtc,
        price: Price(100),
        qty: Qty(1_000),
    }
}

#[test]
fn a_burst_of_10000_orders_never_breaches_and_each_gets_one_outcome() {
    let mut l = setup(SECRET);
    let mut ids = ClientIdGen::new("burst").unwrap();
    let mut written = 0;
    // 10,000 orders, 40 every 100 ms of venue time: 4,000 per 10 s window
    // offered against a limit of 50 unfilled.
    for _ in 0..250 {
        for _ in 0..40 {
            l.gate.submit(Request::New(order(&mut ids)), l.now);
        }
        l.pump(&mut written);
        l.now += 100 * MS;
    }
    assert_eq!(l.first.len(), 10_000, "every order has an outcome");
    assert_eq!(l.venue.breaches, 0, "the venue never counted a breach");
    let acked = l.first.values().filter(|k| **k == ReportKind::Ack).count() as u64;
    assert_eq!(acked, l.venue.accepted.len() as u64);
    assert_eq!(acked, written);
    assert_eq!(
        l.reasons
            .get(&RejectReason::RateLimit)
            .copied()
            .unwrap_or(0),
        10_000 - acked
    );
    assert!(l.venue_codes.is_empty());
    // 25 s from :03.7 touch three 10 s windows. Every third order fills at
    // once and leaves the unfilled count, so a window takes up to 75 orders
    // (50 unfilled): more than the bare limit, never more than allowed.
    assert!(
        (3 * LIMIT_10S..=3 * LIMIT_10S * 3 / 2).contains(&acked),
        "{acked}"
    );
    assert!(acked > 3 * LIMIT_10S + 50, "fills freed room: {acked}");
    assert_eq!(l.fills, acked / 3);
}

#[test]
fn a_wrong_secret_is_refused_by_the_venue_and_reported_with_its_code() {
    let mut l = setup(b"not-the-secret");
    let mut ids = ClientIdGen::new("bad").unwrap();
    l.gate.submit(Request::New(order(&mut ids)), l.now);
    let mut n = 0;
    l.pump(&mut n);
    assert_eq!(n, 1);
    assert_eq!(l.venue.accepted.len(), 0);
    assert_eq!(l.reasons.get(&RejectReason::Venue), Some(&1));
    assert_eq!(l.venue_codes, [-1022]);
}
