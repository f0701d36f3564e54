//! Kraken bench bodies for `decode_apply`: tickwire's per-message path
//! (`KrakenSession::handle_text`) on the real BTC/USD depth-10 capture
//! against the typical connector (serde_json into owned structs, numbers as
//! `f64`, `String` symbol and timestamp, a `BTreeMap` book cut to the
//! depth), and the checksum alone.
//!
//! Ours does more than the baseline: it reads every number exactly at the
//! pair's precision, verifies the venue's CRC32 after each frame and
//! stages the level events (the baseline does none of that).
#![allow(
    clippy::float_arithmetic,
    reason = "the baseline is the float approach tickwire replaces"
)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::Criterion;
use serde::Deserialize;
use tickwire::ring::Discard;
use tickwire::types::{Registry, Venue};
use tickwire::venue::kraken::{KrakenSession, TopTexts, checksum};
use tickwire::venue::{
    Channel, GapPolicy, InstrumentBook, PlannedInstrument, SessionPlan, books_for,
};

use crate::common::{Px, timed_cycle};

const DEPTH: usize = 10;

/// The capture's book frames: the snapshot, then 53 updates (the text of
/// each recorded `"frame"`, byte for byte).
fn frames() -> (Vec<u8>, Vec<Vec<u8>>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/kraken/kraken_v2_book_BTCUSD_d10_depthcharge_20260816_prefix.ndjson"
    );
    let text = std::fs::read_to_string(path).expect("fixture");
    let mut books = text.lines().filter_map(|l| {
        let at = l.find("\"frame\": {\"channel\":\"book\"")? + 9;
        Some(l.as_bytes()[at..l.rfind('}')?].to_vec())
    });
    let snapshot = books.next().expect("snapshot");
    (snapshot, books.collect())
}

/// The engine's per-message path into a `Discard`.
struct Ours {
    registry: Registry,
    session: KrakenSession,
    books: Vec<InstrumentBook>,
    out: Discard,
    buf: Vec<u8>,
}

impl Ours {
    fn new() -> Ours {
        let mut registry = Registry::new();
        registry
            .add(Venue::Kraken, "BTC/USD", "0.1", "0.00000001")
            .expect("registry");
        let capacity = 1_000;
        let plan = SessionPlan {
            venue: Venue::Kraken,
            ws_url: String::new(),
            rest_url: String::new(),
            instruments: registry
                .iter()
                .map(|i| PlannedInstrument {
                    id: i.id,
                    symbol: i.symbol.as_str().to_owned(),
                })
                .collect(),
            channels: vec![Channel::Depth],
            depth_interval_ms: 0,
            depth: DEPTH as u32,
            url_streams: None,
            streams_per_subscribe: 50,
            control_per_sec: 5,
            book_capacity: capacity,
            max_frame: tickwire::venue::profile(Venue::Kraken).max_frame_bytes,
        };
        Ours {
            books: books_for(&registry, capacity, GapPolicy::Resync),
            session: KrakenSession::new(&plan),
            registry,
            out: Discard::default(),
            buf: Vec::with_capacity(1 << 16),
        }
    }

    #[inline]
    fn on_frame(&mut self, frame: &[u8]) {
        self.buf.clear();
        self.buf.extend_from_slice(frame);
        let r =
            self.session
                .handle_text(&self.buf, 1, &self.registry, &mut self.books, &mut self.out);
        black_box(r.ok());
    }

    fn mismatches(&self) -> u64 {
        self.books[0].sync.stats().checksum_mismatches
    }
}

/// `book` the way typical connectors read it.
#[derive(Deserialize)]
struct BaseFrame {
    #[allow(dead_code, reason = "read as connectors do")]
    channel: String,
    #[serde(rename = "type")]
    kind: String,
    data: Vec<BaseBook>,
}

#[derive(Deserialize)]
struct BaseBook {
    #[allow(dead_code, reason = "read as connectors do")]
    symbol: String,
    bids: Vec<BaseLevel>,
    asks: Vec<BaseLevel>,
    #[allow(dead_code, reason = "read as connectors do")]
    checksum: u64,
    #[allow(dead_code, reason = "read as connectors do")]
    timestamp: String,
}

#[derive(Deserialize)]
struct BaseLevel {
    price: f64,
    qty: f64,
}

#[derive(Default)]
struct Baseline {
    bids: BTreeMap<Px, f64>,
    asks: BTreeMap<Px, f64>,
}

impl Baseline {
    fn on_frame(&mut self, frame: &[u8]) {
        let Ok(f) = serde_json::from_slice::<BaseFrame>(frame) else {
            return;
        };
        if f.kind == "snapshot" {
            self.bids.clear();
            self.asks.clear();
        }
        for book in &f.data {
            for (side, levels) in [(&mut self.bids, &book.bids), (&mut self.asks, &book.asks)] {
                for l in levels {
                    if l.qty == 0.0 {
                        side.remove(&Px(l.price));
                    } else {
                        side.insert(Px(l.price), l.qty);
                    }
                }
            }
        }
        // The venue's rule: cut each side to the subscribed depth.
        while self.bids.len() > DEPTH {
            self.bids.pop_first();
        }
        while self.asks.len() > DEPTH {
            self.asks.pop_last();
        }
        black_box((self.bids.last_key_value(), self.asks.first_key_value()));
    }
}

/// `tickwire/kraken_book`, `baseline/kraken_book` (the 53 updates, the
/// snapshot re-applied untimed at each wrap), `tickwire/kraken_checksum`
/// and `tickwire/kraken_checksum_render`.
pub(crate) fn run(c: &mut Criterion) {
    let (snapshot, updates) = frames();
    let mut g = c.benchmark_group("decode_apply");
    let ours = RefCell::new(Ours::new());
    ours.borrow_mut().on_frame(&snapshot);
    let mut pos = 0;
    g.bench_function("tickwire/kraken_book", |b| {
        b.iter_custom(|iters| {
            timed_cycle(
                iters,
                &updates,
                &mut pos,
                |f| ours.borrow_mut().on_frame(f),
                || ours.borrow_mut().on_frame(&snapshot),
            )
        })
    });
    assert_eq!(
        ours.borrow().mismatches(),
        0,
        "every checksum of the capture matches"
    );
    let base = RefCell::new(Baseline::default());
    base.borrow_mut().on_frame(&snapshot);
    let mut pos = 0;
    g.bench_function("baseline/kraken_book", |b| {
        b.iter_custom(|iters| {
            timed_cycle(
                iters,
                &updates,
                &mut pos,
                |f| base.borrow_mut().on_frame(black_box(f)),
                || base.borrow_mut().on_frame(&snapshot),
            )
        })
    });
    // The checksum alone, on the snapshot's book: 10 + 10 levels.
    let mut ours = Ours::new();
    ours.on_frame(&snapshot);
    let book = &ours.books[0].book;
    // What each `book` message pays for the check itself: the top 10
    // levels' digits a side, kept in step by the sync as levels are applied
    // (that upkeep is in `kraken_book`), copied into one buffer in rank
    // order and hashed: the CRC over all 20 levels' text, every call.
    let mut texts = TopTexts::new();
    texts.update(book);
    assert_eq!(texts.crc(), checksum(book), "the kept texts are the book's");
    g.bench_function("tickwire/kraken_checksum", |b| {
        b.iter(|| black_box(black_box(&mut texts).crc()))
    });
    // Every level rendered again (the uncached reference).
    g.bench_function("tickwire/kraken_checksum_render", |b| {
        b.iter(|| black_box(checksum(black_box(book))))
    });
    g.finish();
}
