//! The simulated venue speaking Coinbase Advanced Trade over wss:// on
//! loopback: one channel per subscribe, a `subscriptions` ack, the whole
//! book as a snapshot before any update, every frame of the connection
//! numbered +1 (`sequence_num`, acks included), the rebuilt book equal to
//! the venue's; a `Gap` is one jump in that count, a fresh snapshot on
//! resubscribing; malformed and oversized frames keep the count; refusals
//! are error frames; and tickwire's decoder reads every generated frame
//! alike on both paths. Every loop is bounded by a message count or a
//! deadline.
#![cfg(feature = "sim")]

mod sim_client;

use serde_json::Value;
use sim_client::{Book, Ws, connect, next_text, send};
use tickwire::sim::{Fault, SimVenue};
use tickwire::types::{Registry, Venue};
use tickwire::venue::coinbase::CoinbaseDecoder;

const PATH: &str = "/";
const SYMBOLS: [&str; 2] = ["BTC-USD", "ETH-USD"];

fn subscribe(ws: &mut Ws, op: &str, channel: &str, products: &[&str]) {
    let ids: Vec<String> = products.iter().map(|p| format!("{p:?}")).collect();
    send(
        ws,
        &format!(
            r#"{{"type":"{op}","product_ids":[{}],"channel":"{channel}"}}"#,
            ids.join(",")
        ),
    );
}

/// A client reading one connection: checks the count, keeps BTC-USD's book.
struct Reader {
    ws: Ws,
    next_seq: u64,
    jumps: Vec<(u64, u64)>,
    book: Book,
    /// Frames that were not JSON (each still numbered).
    malformed: usize,
    /// The largest frame read.
    largest: usize,
    decoder: (CoinbaseDecoder, CoinbaseDecoder),
    reg: Registry,
}

impl Reader {
    fn new(sim: &SimVenue) -> Reader {
        let mut reg = Registry::new();
        for s in SYMBOLS {
            reg.add(Venue::Coinbase, s, "0.01", "0.00001").unwrap();
        }
        let mut tape = CoinbaseDecoder::new(1 << 20);
        tape.set_fast_path(false);
        Reader {
            ws: connect(sim, PATH),
            next_seq: 0,
            jumps: Vec::new(),
            book: Book::default(),
            malformed: 0,
            largest: 0,
            decoder: (CoinbaseDecoder::new(1 << 20), tape),
            reg,
        }
    }

    /// The next frame (its count checked); `None` for a frame that is not JSON.
    fn next(&mut self) -> (String, Option<Value>) {
        let t = next_text(&mut self.ws);
        self.largest = self.largest.max(t.len());
        let symbols = self.reg.venue(Venue::Coinbase);
        if t.len() < 1 << 20 {
            let a = format!("{:?}", self.decoder.0.decode(t.as_bytes(), &symbols));
            let b = format!("{:?}", self.decoder.1.decode(t.as_bytes(), &symbols));
            assert_eq!(a, b, "fast path == tape path on {t}");
        }
        // Errors carry no number; the others all do, JSON or not.
        let seq = t
            .split_once("\"sequence_num\":")
            .and_then(|(_, rest)| rest.split(',').next()?.parse::<u64>().ok());
        if let Some(s) = seq {
            if s != self.next_seq {
                self.jumps.push((self.next_seq, s));
            }
            self.next_seq = s + 1;
        } else {
            assert!(t.starts_with(r#"{"type":"error""#), "unnumbered: {t}");
        }
        let v = serde_json::from_str::<Value>(&t).ok();
        if v.is_none() {
            self.malformed += 1;
        }
        if let Some(v) = &v {
            if v["channel"] == "l2_data" {
                for e in v["events"].as_array().expect("events") {
                    if e["product_id"] != "BTC-USD" {
                        continue;
                    }
                    if e["type"] == "snapshot" {
                        self.book = Book::default();
                    }
                    for u in e["updates"].as_array().expect("updates") {
                        let level = serde_json::json!([[u["price_level"], u["new_quantity"]]]);
                        self.book.apply(u["side"] == "bid", &level);
                    }
                }
            }
        }
        (t, v)
    }

    /// Reads until a frame `want` accepts (at most `max` frames).
    fn until(
        &mut self,
        max: usize,
        mut want: impl FnMut(&str, &Option<Value>) -> bool,
    ) -> (String, Option<Value>) {
        for _ in 0..max {
            let (t, v) = self.next();
            if want(&t, &v) {
                return (t, v);
            }
        }
        panic!("no wanted frame in {max}");
    }

    /// Stops the market and reads everything sent before a `heartbeats`
    /// ack (frames of a connection arrive in order); then the book must
    /// be the venue's, level for level.
    fn settle_and_compare(&mut self, sim: &SimVenue) {
        sim.set_rate(0);
        subscribe(&mut self.ws, "subscribe", "heartbeats", &["BTC-USD"]);
        self.until(5_000, |_, v| {
            v.as_ref().is_some_and(|v| {
                v["channel"] == "subscriptions"
                    && !v["events"][0]["subscriptions"]["heartbeats"].is_null()
            })
        });
        let truth = sim.true_book("BTC-USD").expect("true book");
        self.book.assert_top_of(
            &truth.bids,
            &truth.asks,
            truth.bids.len().max(truth.asks.len()),
        );
        assert_eq!(self.book.bids.len(), truth.bids.len());
        assert_eq!(self.book.asks.len(), truth.asks.len());
    }
}

/// Subscribes BTC-USD `level2`: the ack, then the whole book. Returns the snapshot.
fn subscribe_level2(r: &mut Reader) -> Value {
    subscribe(&mut r.ws, "subscribe", "level2", &["BTC-USD"]);
    let (_, ack) = r.until(200, |t, _| t.contains(r#""channel":"subscriptions""#));
    let ack = ack.expect("JSON ack");
    assert_eq!(
        ack["events"][0]["subscriptions"]["level2"][0], "BTC-USD",
        "{ack}"
    );
    let (_, snap) = r.next();
    let snap = snap.expect("JSON snapshot");
    assert_eq!(
        snap["channel"], "l2_data",
        "the frame after the ack: {snap}"
    );
    assert_eq!(snap["events"][0]["type"], "snapshot");
    snap
}

#[test]
fn one_channel_per_subscribe_a_whole_book_snapshot_then_numbered_updates() {
    let sim = tickwire_sim(&SYMBOLS);
    let mut r = Reader::new(&sim);
    let snap = subscribe_level2(&mut r);
    let levels = snap["events"][0]["updates"]
        .as_array()
        .expect("updates")
        .len();
    assert!(levels >= 400, "the whole book: {levels} levels");
    subscribe(&mut r.ws, "subscribe", "ticker", &["BTC-USD"]);
    subscribe(&mut r.ws, "subscribe", "market_trades", &["BTC-USD"]);
    let (mut updates, mut tickers, mut trades) = (0, 0, 0);
    for _ in 0..300 {
        let (_, v) = r.next();
        let v = v.expect("JSON");
        match v["channel"].as_str() {
            Some("l2_data") => {
                assert_eq!(v["events"][0]["type"], "update");
                updates += 1;
            }
            Some("ticker") => {
                let t = &v["events"][0]["tickers"][0];
                assert!(
                    t["best_bid"].as_str().is_some() && t["best_ask_quantity"].as_str().is_some()
                );
                tickers += 1;
            }
            Some("market_trades") => {
                let t = &v["events"][0]["trades"][0];
                assert!(t["side"] == "BUY" || t["side"] == "SELL", "{t}");
                trades += 1;
            }
            Some("subscriptions") => {}
            other => panic!("unexpected channel {other:?}: {v}"),
        }
    }
    assert!(
        updates > 0 && tickers > 0 && trades > 0,
        "{updates} {tickers} {trades}"
    );
    assert!(r.jumps.is_empty(), "{:?}", r.jumps);
    r.settle_and_compare(&sim);
}

#[test]
fn a_gap_is_one_jump_of_the_count_and_resubscribing_gives_a_fresh_snapshot() {
    let sim = tickwire_sim(&SYMBOLS);
    let mut r = Reader::new(&sim);
    subscribe_level2(&mut r);
    sim.inject(Fault::Gap(Some("BTC-USD".into())));
    for _ in 0..2_000 {
        r.next();
        if !r.jumps.is_empty() {
            break;
        }
    }
    assert_eq!(r.jumps.len(), 1);
    let (expected, got) = r.jumps[0];
    assert_eq!(got, expected + 1, "one frame lost");
    for _ in 0..25 {
        r.next();
    }
    assert_eq!(r.jumps.len(), 1, "one jump only");
    subscribe(&mut r.ws, "unsubscribe", "level2", &["BTC-USD"]);
    r.until(2_000, |t, _| t.contains(r#""channel":"subscriptions""#));
    subscribe_level2(&mut r);
    r.settle_and_compare(&sim);
}

#[test]
fn malformed_and_oversized_frames_keep_the_count_and_the_book() {
    let sim = tickwire_sim(&SYMBOLS);
    let mut r = Reader::new(&sim);
    subscribe_level2(&mut r);
    sim.inject(Fault::Malformed);
    r.until(2_000, |_, v| v.is_none());
    sim.inject(Fault::Oversized {
        symbol: Some("BTC-USD".into()),
        bytes: 2 << 20,
    });
    let (t, v) = r.until(2_000, |t, _| t.len() > 2 << 20);
    let v = v.unwrap_or_else(|| panic!("valid JSON: {}", &t[..200]));
    assert_eq!(v["events"][0]["type"], "update");
    assert_eq!(v["events"][0]["product_id"], "BTC-USD");
    assert!(r.malformed >= 1 && r.largest > 2 << 20);
    assert!(r.jumps.is_empty(), "{:?}", r.jumps);
    r.settle_and_compare(&sim);
}

#[test]
fn an_unknown_product_or_channel_is_an_error_frame() {
    let sim = tickwire_sim(&SYMBOLS);
    let mut r = Reader::new(&sim);
    subscribe(&mut r.ws, "subscribe", "level2", &["BTC-USD", "DOGE-XYZ"]);
    let (t, _) = r.next();
    assert!(
        t.starts_with(r#"{"type":"error","message":"failure to subscribe"#),
        "{t}"
    );
    subscribe(&mut r.ws, "subscribe", "level3", &["BTC-USD"]);
    let (t, _) = r.next();
    assert!(t.contains("unknown channel"), "{t}");
    // Nothing was subscribed: the next numbered frame is the first ack.
    subscribe_level2(&mut r);
    assert_eq!(r.next_seq, 2);
}

/// A TLS simulator of Coinbase for `symbols`.
fn tickwire_sim(symbols: &[&str]) -> SimVenue {
    sim_client::start(Venue::Coinbase, symbols)
}
