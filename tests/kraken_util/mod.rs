//! Helpers of the Kraken tests: the captures' frames unwrapped, a session
//! rig, and a reference model of Kraken's book rules written from the
//! venue's description (BTreeMaps of wire texts, checksum over the texts),
//! independent of the library's mantissas.

#![allow(dead_code, reason = "each test file uses its own part")]

use std::collections::BTreeMap;
use std::path::PathBuf;

use tickwire::book::BookRead;
use tickwire::types::{Event, Nanos, Registry, Side, Venue};
use tickwire::venue::kraken::KrakenSession;
use tickwire::venue::{
    Channel, GapPolicy, InstrumentBook, PlannedInstrument, SessionPlan, books_for,
};

/// BTC/USD depth 10.
pub(crate) const BTC: &str = "kraken_v2_book_BTCUSD_d10_depthcharge_20260816_prefix.ndjson";
/// MINA/GBP depth 25.
pub(crate) const MINA: &str = "kraken_v2_book_MINAGBP_d25_depthcharge_20260816.ndjson";

/// The received frames of a capture, as the venue sent them: the text of
/// each `"frame"` value, byte for byte (never re-serialised: numbers keep
/// their spelling).
pub(crate) fn frames(name: &str) -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kraken")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("fixture");
    let mut out = Vec::new();
    for line in text.lines() {
        if !line.starts_with("{\"rx_ns\"") || line.contains("\"dir\": \"tx\"") {
            continue;
        }
        let key = "\"frame\": ";
        let at = line.find(key).expect("frame key") + key.len();
        let end = line.rfind('}').expect("closing brace");
        out.push(line[at..end].to_owned());
    }
    out
}

/// Levels of a side list in a frame's text: `(price text, qty text)`.
pub(crate) fn levels_of(list: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = list;
    while let Some(p) = rest.find("\"price\":") {
        rest = &rest[p + 8..];
        let pe = rest.find([',', '}']).unwrap();
        let price = rest[..pe].trim().to_owned();
        let q = rest.find("\"qty\":").unwrap();
        rest = &rest[q + 6..];
        let qe = rest.find([',', '}']).unwrap();
        out.push((price, rest[..qe].trim().to_owned()));
        rest = &rest[qe..];
    }
    out
}

/// The text of the `key` list of a book frame (`"bids":[ ... ]`).
pub(crate) fn list<'a>(frame: &'a str, key: &str) -> &'a str {
    let k = format!("\"{key}\":[");
    let at = frame.find(&k).unwrap() + k.len();
    let end = frame[at..].find(']').unwrap();
    &frame[at..at + end]
}

/// A decimal text as units of 10^-scale.
pub(crate) fn units(text: &str, scale: u32) -> i128 {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    assert!(frac.len() <= scale as usize, "{text} at scale {scale}");
    let mut v: i128 = int.parse().unwrap();
    for i in 0..scale as usize {
        v = v * 10 + frac.as_bytes().get(i).map_or(0, |b| i128::from(b - b'0'));
    }
    v
}

/// Kraken's rules as the docs say them, on texts.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub(crate) depth: usize,
    pub(crate) price_scale: u32,
    pub(crate) qty_scale: u32,
    /// price units → (price text, qty text)
    pub(crate) bids: BTreeMap<i128, (String, String)>,
    pub(crate) asks: BTreeMap<i128, (String, String)>,
}

impl Model {
    pub(crate) fn new(depth: usize, price_scale: u32, qty_scale: u32) -> Model {
        Model {
            depth,
            price_scale,
            qty_scale,
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
        }
    }

    /// Applies one message's levels (snapshot: replace), then truncates.
    pub(crate) fn apply(
        &mut self,
        snapshot: bool,
        bids: &[(String, String)],
        asks: &[(String, String)],
    ) {
        if snapshot {
            self.bids.clear();
            self.asks.clear();
        }
        for (map, levels) in [(&mut self.bids, bids), (&mut self.asks, asks)] {
            for (p, q) in levels {
                let key = units(p, self.price_scale);
                if units(q, self.qty_scale) == 0 {
                    map.remove(&key);
                } else {
                    map.insert(key, (p.clone(), q.clone()));
                }
            }
        }
        while self.bids.len() > self.depth {
            let k = *self.bids.keys().next().unwrap();
            self.bids.remove(&k);
        }
        while self.asks.len() > self.depth {
            let k = *self.asks.keys().next_back().unwrap();
            self.asks.remove(&k);
        }
    }

    /// The checksum as the venue describes it: texts, `.` removed, leading
    /// zeros stripped, top 10 asks low→high then bids high→low.
    pub(crate) fn checksum(&self) -> u32 {
        let strip = |t: &str| {
            let s: String = t.chars().filter(|&c| c != '.').collect();
            s.trim_start_matches('0').to_owned()
        };
        let mut text = String::new();
        for (p, q) in self.asks.values().take(10) {
            text += &strip(p);
            text += &strip(q);
        }
        for (p, q) in self.bids.values().rev().take(10) {
            text += &strip(p);
            text += &strip(q);
        }
        crc32fast::hash(text.as_bytes())
    }

    /// The model's side as (price units, qty units), best first.
    pub(crate) fn side(&self, side: Side) -> Vec<(i64, i64)> {
        let conv =
            |(k, (_, q)): (&i128, &(String, String))| (*k as i64, units(q, self.qty_scale) as i64);
        match side {
            Side::Bid => self.bids.iter().rev().map(conv).collect(),
            Side::Ask => self.asks.iter().map(conv).collect(),
        }
    }
}

/// The book's side as (price, qty) mantissas, best first.
pub(crate) fn book_side(book: &impl BookRead, side: Side) -> Vec<(i64, i64)> {
    book.levels(side).map(|l| (l.price.0, l.qty.0)).collect()
}

/// A session with its registry and books.
#[derive(Debug)]
pub(crate) struct Rig {
    pub(crate) reg: Registry,
    pub(crate) session: KrakenSession,
    pub(crate) books: Vec<InstrumentBook>,
    pub(crate) out: Vec<Event>,
}

/// A plan for every instrument of `reg`.
pub(crate) fn plan(reg: &Registry, depth: u32, per_subscribe: usize, per_sec: u32) -> SessionPlan {
    SessionPlan {
        max_frame: tickwire::venue::profile(tickwire::types::Venue::Kraken).max_frame_bytes,
        venue: Venue::Kraken,
        ws_url: "wss://ws.kraken.com/v2".to_owned(),
        rest_url: String::new(),
        instruments: reg
            .iter()
            .map(|i| PlannedInstrument {
                id: i.id,
                symbol: i.symbol.as_str().to_owned(),
            })
            .collect(),
        channels: vec![Channel::Depth, Channel::BookTicker, Channel::Trade],
        depth_interval_ms: 0,
        depth,
        url_streams: None,
        streams_per_subscribe: per_subscribe,
        control_per_sec: per_sec,
        book_capacity: 1_000 + depth as usize,
    }
}

impl Rig {
    /// `pairs` as (symbol, tick, lot), books subscribed at `depth`.
    pub(crate) fn new(pairs: &[(&str, &str, &str)], depth: u32, policy: GapPolicy) -> Rig {
        let mut reg = Registry::new();
        for (s, t, l) in pairs {
            reg.add(Venue::Kraken, s, t, l).unwrap();
        }
        let plan = plan(&reg, depth, 50, 5);
        let books = books_for(&reg, plan.book_capacity, policy);
        Rig {
            session: KrakenSession::new(&plan),
            reg,
            books,
            out: Vec::new(),
        }
    }

    pub(crate) fn text(
        &mut self,
        frame: &str,
        now: Nanos,
    ) -> Result<tickwire::venue::FrameKind, tickwire::venue::DecodeError> {
        self.session.handle_text(
            frame.as_bytes(),
            now,
            &self.reg,
            &mut self.books,
            &mut self.out,
        )
    }
}
