//! The Bybit and OKX encoders against the model: a client that applies a
//! snapshot and then every delta holds the true book's best `depth` levels,
//! the sequences chain, and OKX's checksums are of the wire text.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{MarketConfig, MarketSim};
use crate::types::{Side, Venue};

/// `text` (a decimal) as a mantissa with `decimals` decimals; extra
/// decimals must be zeros.
fn mantissa(text: &str, decimals: usize) -> i64 {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let (kept, extra) = frac.split_at(frac.len().min(decimals));
    assert!(extra.bytes().all(|b| b == b'0'), "{text}");
    let digits = format!("{int}{kept:0<decimals$}");
    digits.parse().unwrap()
}

/// A client's book: price → quantity, per side.
#[derive(Default)]
struct Book {
    bids: BTreeMap<i64, i64>,
    asks: BTreeMap<i64, i64>,
}

impl Book {
    fn apply(&mut self, side: Side, levels: &Value) {
        let book = if side == Side::Bid {
            &mut self.bids
        } else {
            &mut self.asks
        };
        for l in levels.as_array().unwrap() {
            let p = mantissa(l[0].as_str().unwrap(), 2);
            let q = mantissa(l[1].as_str().unwrap(), 5);
            if q == 0 {
                book.remove(&p);
            } else {
                book.insert(p, q);
            }
        }
    }

    /// Equals the best `depth` levels a side of `sim`'s true book.
    fn assert_top(&self, sim: &MarketSim, depth: usize, what: &str) {
        let bids: Vec<_> = self.bids.iter().rev().map(|(&p, &q)| (p, q)).collect();
        let asks: Vec<_> = self.asks.iter().map(|(&p, &q)| (p, q)).collect();
        let truth = |side| -> Vec<(i64, i64)> { sim.best(side, depth).collect() };
        assert_eq!(bids, truth(Side::Bid), "{what}: bids");
        assert_eq!(asks, truth(Side::Ask), "{what}: asks");
    }
}

fn sim(venue: Venue) -> MarketSim {
    let mut cfg = MarketConfig::btcusdt(venue, 3);
    cfg.changes_per_diff = 12;
    MarketSim::new(cfg)
}

#[test]
fn bybit_views_rebuild_the_best_levels_and_u_chains() {
    let depths = [1usize, 50, 200, 1000];
    for venue in [Venue::BybitSpot, Venue::BybitLinear] {
        let mut sim = sim(venue);
        let mut books: Vec<Book> = Vec::new();
        let mut frame = Vec::new();
        let mut last_u = 0;
        for &d in &depths {
            sim.bybit_snapshot(d, &mut frame);
            let v: Value = serde_json::from_slice(&frame).unwrap();
            assert_eq!(v["type"], "snapshot");
            assert_eq!(v["topic"], format!("orderbook.{d}.BTCUSDT"));
            let mut b = Book::default();
            b.apply(Side::Bid, &v["data"]["b"]);
            b.apply(Side::Ask, &v["data"]["a"]);
            b.assert_top(&sim, d, "snapshot");
            last_u = v["data"]["u"].as_u64().unwrap();
            books.push(b);
        }
        let mut out = vec![Vec::new(); depths.len()];
        for n in 0..400 {
            sim.bybit_deltas(&depths, &mut out);
            for ((&d, b), f) in depths.iter().zip(&mut books).zip(&out) {
                let v: Value = serde_json::from_slice(f).unwrap();
                assert_eq!(v["type"], "delta", "{venue}");
                assert_eq!(
                    v["data"]["u"].as_u64(),
                    Some(last_u + 1),
                    "{venue} {d} #{n}"
                );
                b.apply(Side::Bid, &v["data"]["b"]);
                b.apply(Side::Ask, &v["data"]["a"]);
            }
            last_u += 1;
        }
        for (&d, b) in depths.iter().zip(&books) {
            b.assert_top(&sim, d, &format!("{venue} depth {d}"));
            assert_eq!(b.bids.len(), d.min(sim.bids.len()), "{venue} {d}");
        }
        assert_eq!(sim.book_seq(), last_u);
    }
}

#[test]
fn bybit_numbers_are_spelled_as_each_market_does() {
    let mut frame = Vec::new();
    let text = |sim: &MarketSim, frame: &mut Vec<u8>| {
        sim.bybit_snapshot(1, frame);
        String::from_utf8(frame.clone()).unwrap()
    };
    let spot = text(&sim(Venue::BybitSpot), &mut frame);
    assert!(
        spot.starts_with("{\"topic\":\"orderbook.1.BTCUSDT\",\"ts\":"),
        "{spot}"
    );
    let linear = text(&sim(Venue::BybitLinear), &mut frame);
    assert!(
        linear.starts_with("{\"topic\":\"orderbook.1.BTCUSDT\",\"type\":\"snapshot\""),
        "{linear}"
    );
    // Linear keeps two price and five size decimals; spot trims.
    let v: Value = serde_json::from_str(&linear).unwrap();
    let px = v["data"]["b"][0][0].as_str().unwrap();
    let sz = v["data"]["b"][0][1].as_str().unwrap();
    assert_eq!(px.split_once('.').unwrap().1.len(), 2, "{px}");
    assert_eq!(sz.split_once('.').unwrap().1.len(), 5, "{sz}");
}

/// OKX's checksum of a book, from the wire strings of its levels.
fn okx_checksum(bids: &[(String, String)], asks: &[(String, String)]) -> i32 {
    let mut parts = Vec::new();
    for i in 0..25 {
        for side in [bids, asks] {
            if let Some((p, s)) = side.get(i) {
                parts.push(format!("{p}:{s}"));
            }
        }
    }
    crc32fast::hash(parts.join(":").as_bytes()) as i32
}

#[test]
fn okx_updates_chain_rebuild_400_levels_and_checksum_the_wire_text() {
    // A book deeper than the 400 levels `books` publishes.
    let mut cfg = MarketConfig::btcusdt(Venue::Okx, 9);
    cfg.depth = 1200;
    cfg.changes_per_diff = 12;
    let mut sim = MarketSim::new(cfg);
    assert!(sim.bids.len() > 450 && sim.asks.len() > 450);
    let mut frame = Vec::new();
    sim.okx_snapshot(&mut frame);
    let v: Value = serde_json::from_slice(&frame).unwrap();
    assert_eq!(v["action"], "snapshot");
    assert_eq!(v["data"][0]["prevSeqId"], -1);
    // Levels keyed by price text, with their size text, as a client keeps them.
    let mut wire: [BTreeMap<i64, (String, String)>; 2] = Default::default();
    let apply = |d: &Value, wire: &mut [BTreeMap<i64, (String, String)>; 2]| {
        for (i, key) in ["bids", "asks"].iter().enumerate() {
            for l in d[key].as_array().unwrap() {
                let (p, s) = (l[0].as_str().unwrap(), l[1].as_str().unwrap());
                let price = mantissa(p, 2);
                if mantissa(s, 5) == 0 {
                    wire[i].remove(&price);
                } else {
                    wire[i].insert(price, (p.to_owned(), s.to_owned()));
                }
            }
        }
        let bids: Vec<_> = wire[0].values().rev().cloned().collect();
        let asks: Vec<_> = wire[1].values().cloned().collect();
        okx_checksum(&bids, &asks)
    };
    let sum = apply(&v["data"][0], &mut wire);
    assert_eq!(v["data"][0]["checksum"].as_i64(), Some(i64::from(sum)));
    let mut last = v["data"][0]["seqId"].as_u64().unwrap();
    let (mut jumps, mut padded, mut bad) = (0, 0, 0);
    for n in 0..300 {
        sim.okx_update(n == 150, &mut frame);
        let text = std::str::from_utf8(&frame).unwrap();
        let v: Value = serde_json::from_str(text).unwrap();
        let d = &v["data"][0];
        assert_eq!(d["prevSeqId"].as_u64(), Some(last), "#{n}");
        let seq = d["seqId"].as_u64().unwrap();
        assert!(seq > last, "#{n}");
        jumps += usize::from(seq > last + 1);
        last = seq;
        for key in ["bids", "asks"] {
            padded += d[key]
                .as_array()
                .unwrap()
                .iter()
                .filter(|l| {
                    l[1].as_str()
                        .is_some_and(|s| s.contains('.') && s.ends_with('0'))
                })
                .count();
        }
        let sum = apply(d, &mut wire);
        if d["checksum"].as_i64() != Some(i64::from(sum)) {
            bad += 1;
            assert_eq!(n, 150, "only the spoiled update mismatches");
        }
    }
    assert_eq!(bad, 1);
    assert!(jumps > 50, "seqId jumps by more than 1 often: {jumps}");
    assert!(padded > 0, "some sizes carry trailing zeros");
    let bids: Vec<_> = wire[0]
        .iter()
        .rev()
        .map(|(&p, (_, s))| (p, mantissa(s, 5)))
        .collect();
    let asks: Vec<_> = wire[1]
        .iter()
        .map(|(&p, (_, s))| (p, mantissa(s, 5)))
        .collect();
    assert_eq!(bids.len(), 400);
    assert_eq!(bids, sim.best(Side::Bid, 400).collect::<Vec<_>>());
    assert_eq!(asks, sim.best(Side::Ask, 400).collect::<Vec<_>>());
    assert_eq!(sim.book_seq(), last);
}
