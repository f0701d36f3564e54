//! The simulated venue speaking OKX v5 over wss:// on loopback: subscribe,
//! a `books` snapshot before any update, updates whose `prevSeqId` chains,
//! checksums verified by a CRC-32 written here (not the crate's), the
//! rebuilt book equal to the venue's, `BadChecksum` spoiling exactly one
//! frame, a gap that breaks the chain once, a fresh snapshot on
//! resubscribing, `ping` / `pong`, error 60018, and no REST depth. Every
//! loop is bounded by a message count or a deadline.
#![cfg(feature = "sim")]

mod sim_client;

use std::collections::BTreeMap;

use serde_json::Value;
use sim_client::{
    PRICE_DECIMALS, QTY_DECIMALS, Ws, connect, http_status, mantissa, next_text, read_until, send,
    start,
};
use tickwire::config::{Config, EngineSection};
use tickwire::sim::{Fault, SimVenue};
use tickwire::types::Venue;

const PATH: &str = "/ws/v5/public";
const SYMBOLS: [&str; 2] = ["BTC-USDT", "ETH-USDT"];
const BOOKS: &str = "{\"channel\":\"books\",\"instId\":\"BTC-USDT\"}";

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), bit by bit.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let lsb = crc & 1;
            crc >>= 1;
            if lsb == 1 {
                crc ^= 0xEDB8_8320;
            }
        }
    }
    !crc
}

#[test]
fn crc32_is_the_ieee_one() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32(b""), 0);
}

/// A client's book keeping each level's wire text, as a checksum needs.
#[derive(Default)]
struct WireBook {
    bids: BTreeMap<i64, (String, String)>,
    asks: BTreeMap<i64, (String, String)>,
}

impl WireBook {
    fn apply(&mut self, data: &Value) {
        for (key, side) in [("bids", &mut self.bids), ("asks", &mut self.asks)] {
            for l in data[key].as_array().expect("levels") {
                let (p, s) = (l[0].as_str().expect("px"), l[1].as_str().expect("sz"));
                assert_eq!(l[2], "0", "deprecated field");
                let price = mantissa(p, PRICE_DECIMALS);
                if mantissa(s, QTY_DECIMALS) == 0 {
                    side.remove(&price);
                } else {
                    side.insert(price, (p.to_owned(), s.to_owned()));
                }
            }
        }
    }

    /// `bidPx:bidSz:askPx:askSz:...` over the top 25, CRC-32 as i32.
    fn checksum(&self) -> i64 {
        let bids: Vec<_> = self.bids.values().rev().take(25).collect();
        let asks: Vec<_> = self.asks.values().take(25).collect();
        let mut parts = Vec::new();
        for i in 0..25 {
            for side in [&bids, &asks] {
                if let Some((p, s)) = side.get(i) {
                    parts.push(format!("{p}:{s}"));
                }
            }
        }
        i64::from(crc32(parts.join(":").as_bytes()) as i32)
    }

    fn assert_equals(&self, sim: &SimVenue) {
        let truth = sim.true_book("BTC-USDT").expect("true book");
        let ours = |m: &BTreeMap<i64, (String, String)>| -> Vec<(i64, i64)> {
            m.iter()
                .map(|(&p, (_, s))| (p, mantissa(s, QTY_DECIMALS)))
                .collect()
        };
        let mut bids = ours(&self.bids);
        bids.reverse();
        let top = |l: &[(tickwire::types::Price, tickwire::types::Qty)]| -> Vec<(i64, i64)> {
            l.iter().take(400).map(|(p, q)| (p.0, q.0)).collect()
        };
        assert_eq!(bids.len(), 400.min(truth.bids.len()));
        assert_eq!(bids, top(&truth.bids), "bids");
        assert_eq!(ours(&self.asks), top(&truth.asks), "asks");
    }
}

fn json(t: &str) -> Value {
    serde_json::from_str(t).unwrap_or_else(|e| panic!("{e}: {t}"))
}

/// The next `books` frame of BTC-USDT.
fn next_book(ws: &mut Ws) -> Value {
    json(&read_until(ws, 500, |t| {
        t.starts_with("{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"}")
    }))
}

/// Subscribes to BTC-USDT `books`: the ack, then the snapshot (no update
/// first), applied and checksummed. Returns its `seqId`.
fn subscribe_books(ws: &mut Ws, book: &mut WireBook) -> u64 {
    send(ws, &format!("{{\"op\":\"subscribe\",\"args\":[{BOOKS}]}}"));
    let ack = json(&read_until(ws, 200, |t| t.starts_with("{\"event\"")));
    assert_eq!(ack["event"], "subscribe", "{ack}");
    assert_eq!(ack["arg"]["instId"], "BTC-USDT");
    let snap = next_book(ws);
    assert_eq!(snap["action"], "snapshot", "the first books frame: {snap}");
    let d = &snap["data"][0];
    assert_eq!(d["prevSeqId"], -1);
    *book = WireBook::default();
    book.apply(d);
    // At most 400 levels a side (the simulated book holds fewer).
    assert!(
        (100..=400).contains(&book.bids.len()),
        "{}",
        book.bids.len()
    );
    assert_eq!(d["checksum"].as_i64(), Some(book.checksum()));
    d["seqId"].as_u64().expect("seqId")
}

/// Applies one update; returns (its seqId, whether it chained, whether its
/// checksum verified).
fn apply_update(book: &mut WireBook, frame: &Value, last: u64) -> (u64, bool, bool) {
    assert_eq!(frame["action"], "update", "{frame}");
    let d = &frame["data"][0];
    let seq = d["seqId"].as_u64().expect("seqId");
    let prev = d["prevSeqId"].as_u64().expect("prevSeqId");
    assert!(seq > prev, "seqId moves on: {d}");
    book.apply(d);
    (
        seq,
        prev == last,
        d["checksum"].as_i64() == Some(book.checksum()),
    )
}

/// Pauses the market and applies updates up to the venue's last `seqId`.
fn settle(sim: &SimVenue, ws: &mut Ws, book: &mut WireBook, mut seq: u64) {
    sim.set_rate(0);
    let target = sim.true_book("BTC-USDT").expect("true book").last_update_id;
    for _ in 0..1000 {
        if seq == target {
            break;
        }
        let (next, chained, ok) = apply_update(book, &next_book(ws), seq);
        assert!(chained && ok);
        seq = next;
    }
    assert_eq!(seq, target);
    book.assert_equals(sim);
}

#[test]
fn snapshot_then_chained_checksummed_updates_rebuild_the_true_book() {
    let sim = start(Venue::Okx, &SYMBOLS);
    let mut ws = connect(&sim, PATH);
    let mut book = WireBook::default();
    let mut seq = subscribe_books(&mut ws, &mut book);
    let (mut jumps, mut padded) = (0, 0);
    for _ in 0..60 {
        let frame = next_book(&mut ws);
        for key in ["bids", "asks"] {
            padded += frame["data"][0][key]
                .as_array()
                .expect("levels")
                .iter()
                .filter(|l| {
                    l[1].as_str()
                        .is_some_and(|s| s.contains('.') && s.ends_with('0'))
                })
                .count();
        }
        let (next, chained, ok) = apply_update(&mut book, &frame, seq);
        assert!(chained, "prevSeqId chains: {frame}");
        assert!(ok, "checksum verifies: {frame}");
        jumps += usize::from(next > seq + 1);
        seq = next;
    }
    assert!(jumps > 0, "seqId jumps by more than one at times");
    assert!(padded > 0, "some sizes carry trailing zeros");
    settle(&sim, &mut ws, &mut book, seq);
}

#[test]
fn bad_checksum_spoils_exactly_one_frame_and_the_book_moves_on() {
    let sim = start(Venue::Okx, &SYMBOLS);
    assert!(sim.sends_checksums());
    let mut ws = connect(&sim, PATH);
    let mut book = WireBook::default();
    let mut seq = subscribe_books(&mut ws, &mut book);
    sim.inject(Fault::BadChecksum(Some("BTC-USDT".into())));
    let (mut bad, mut after) = (0, 0);
    for _ in 0..400 {
        let (next, chained, ok) = apply_update(&mut book, &next_book(&mut ws), seq);
        assert!(chained);
        seq = next;
        bad += usize::from(!ok);
        if bad > 0 {
            after += 1;
            if after == 25 {
                break;
            }
        }
    }
    assert_eq!((bad, after), (1, 25));
    settle(&sim, &mut ws, &mut book, seq);
}

#[test]
fn a_gap_breaks_the_chain_once_and_resubscribing_gives_a_fresh_snapshot() {
    let sim = start(Venue::Okx, &SYMBOLS);
    let mut ws = connect(&sim, PATH);
    let mut book = WireBook::default();
    let mut seq = subscribe_books(&mut ws, &mut book);
    sim.inject(Fault::Gap(None));
    let (mut breaks, mut after) = (0, 0);
    for _ in 0..400 {
        let frame = next_book(&mut ws);
        let d = &frame["data"][0];
        if d["prevSeqId"].as_u64() != Some(seq) {
            breaks += 1;
            assert!(
                d["prevSeqId"].as_u64() > Some(seq),
                "the skipped update: {d}"
            );
        }
        seq = d["seqId"].as_u64().expect("seqId");
        if breaks > 0 {
            after += 1;
            if after == 25 {
                break;
            }
        }
    }
    assert_eq!((breaks, after), (1, 25));

    send(
        &mut ws,
        &format!("{{\"op\":\"unsubscribe\",\"args\":[{BOOKS}]}}"),
    );
    let ack = json(&read_until(&mut ws, 500, |t| t.starts_with("{\"event\"")));
    assert_eq!(ack["event"], "unsubscribe", "{ack}");
    let fresh = subscribe_books(&mut ws, &mut book);
    assert!(fresh >= seq, "a new snapshot ({fresh} after {seq})");
    settle(&sim, &mut ws, &mut book, fresh);
}

#[test]
fn ping_pong_refusals_and_no_rest_depth() {
    let sim = start(Venue::Okx, &SYMBOLS);
    let mut ws = connect(&sim, PATH);
    send(&mut ws, "ping");
    assert_eq!(next_text(&mut ws), "pong");

    send(
        &mut ws,
        "{\"op\":\"subscribe\",\"args\":[{\"channel\":\"books\",\"instId\":\"NOPE-USDT\"},{\"channel\":\"trades\",\"instId\":\"ETH-USDT\"},{\"channel\":\"candle1m\",\"instId\":\"ETH-USDT\"}]}",
    );
    let e = json(&next_text(&mut ws));
    assert_eq!(e["event"], "error", "{e}");
    assert_eq!(e["code"], "60018");
    assert!(e["msg"].as_str().unwrap().contains("NOPE-USDT"), "{e}");
    let ok = json(&next_text(&mut ws));
    assert_eq!(ok["event"], "subscribe", "{ok}");
    assert_eq!(ok["arg"]["channel"], "trades");
    let e = json(&next_text(&mut ws));
    assert_eq!(e["code"], "60018", "{e}");
    assert!(e["msg"].as_str().unwrap().contains("candle1m"), "{e}");
    let trade = json(&read_until(&mut ws, 500, |t| t.contains("\"trades\"")));
    assert_eq!(trade["data"][0]["instId"], "ETH-USDT");
    assert!(matches!(
        trade["data"][0]["side"].as_str(),
        Some("buy" | "sell")
    ));

    for rest in [
        "/api/v5/market/books?instId=BTC-USDT&sz=400",
        "/api/v3/depth?symbol=BTC-USDT",
    ] {
        assert_eq!(http_status(&sim, rest), 404, "{rest}");
    }
    let section = sim.venue_section().expect("section");
    let config = Config {
        engine: EngineSection::default(),
        venues: vec![section.clone()],
        risk: Default::default(),
    };
    config.validate().expect("the section is a valid config");
    assert_eq!(section.ws_url, Some(format!("{}{PATH}", sim.ws_url())));
}

#[test]
fn malformed_and_crossed_updates() {
    let sim = start(Venue::Okx, &SYMBOLS);
    let mut ws = connect(&sim, PATH);
    let mut book = WireBook::default();
    let seq = subscribe_books(&mut ws, &mut book);
    sim.inject(Fault::Malformed);
    // Updates before the malformed frame are applied as they come.
    let mut seq = seq;
    let mut bad = None;
    for _ in 0..500 {
        let t = next_text(&mut ws);
        if !t.starts_with("{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"}") {
            continue;
        }
        let Ok(frame) = serde_json::from_str::<Value>(&t) else {
            bad = Some(t);
            break;
        };
        let (next, chained, ok) = apply_update(&mut book, &frame, seq);
        assert!(chained && ok);
        seq = next;
    }
    let bad = bad.expect("a malformed frame within 500 messages");
    assert!(bad.contains("\"action\":\"update\""), "{bad}");
    // Updates after it still chain.
    for _ in 0..5 {
        let (next, chained, ok) = apply_update(&mut book, &next_book(&mut ws), seq);
        assert!(chained && ok);
        seq = next;
    }
    sim.inject(Fault::Crossed("BTC-USDT".into()));
    for _ in 0..200 {
        let frame = next_book(&mut ws);
        let (next, chained, ok) = apply_update(&mut book, &frame, seq);
        assert!(
            chained && ok,
            "the crossed update chains and checksums: {frame}"
        );
        seq = next;
        let best_bid = book.bids.keys().next_back().copied();
        let best_ask = book.asks.keys().next().copied();
        if best_bid >= best_ask {
            assert_eq!(frame["data"][0]["bids"].as_array().map(Vec::len), Some(1));
            return;
        }
    }
    panic!("no crossed update within 200 updates");
}
