//! Kraken bench bodies for `decode_apply`: tickwire's per-message path
//! (`KrakenSession::handle_text`) on the real BTC/USD depth-10 capture
//! against the typical connector, and the checksum alone.
//!
//! Both sides do the venue's whole job per `book` frame: read it, apply
//! every level (qty 0 removes), cut each side to the subscribed depth, and
//! verify the frame's CRC32 over the top 10 asks and bids (every frame of
//! the capture must match; a mismatch would mean a resubscribe).
//!
//! - tickwire: the template decoder reads prices and quantities exactly
//!   at the pair's precision, resolves the symbol, parses the timestamp;
//!   the sync applies the levels to the `Ladder`, stages one event per
//!   change, cuts to depth, keeps the top 10 levels' digits in step
//!   (`TopTexts`) and hashes them; the staged batch goes to a `Discard`.
//! - baseline: what connectors written in the usual way do (e.g.
//!   cryptofeed's Kraken checksum over its book's number text, and the
//!   venue's own guide): serde_json into owned structs (`String` channel,
//!   type, symbol and timestamp; numbers as `f64`), a `BTreeMap<f64, f64>`
//!   book per side cut to the depth with `pop_first`/`pop_last`, then the
//!   checksum text built per frame: each of the top 10 + 10 levels' price
//!   and quantity formatted at the pair's precision (`format!("{:.1$}")`),
//!   the `.` removed and leading zeros trimmed, concatenated into a
//!   `String` and hashed with `crc32fast`. It publishes nothing.
//!
//! Ours also stages events the baseline does not produce.
//! `baseline/kraken_book_no_checksum` is the baseline without the check
//! (not a complete connector: it would keep a wrong book), to show what
//! the check costs it.
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

use crate::common::{Px, report_ratio_pairs, timed_cycle};

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
    checksum: u64,
    #[allow(dead_code, reason = "read as connectors do")]
    timestamp: String,
}

#[derive(Deserialize)]
struct BaseLevel {
    price: f64,
    qty: f64,
}

/// The pair's precision (BTC/USD), as a connector reads it from the
/// venue's instrument list at start-up.
const PRICE_DECIMALS: usize = 1;
const QTY_DECIMALS: usize = 8;

#[derive(Default)]
struct Baseline {
    bids: BTreeMap<Px, f64>,
    asks: BTreeMap<Px, f64>,
    /// Verify each frame's checksum (`false`: the venue's rule skipped,
    /// for `baseline/kraken_book_no_checksum` only).
    verify: bool,
    /// Frames whose checksum did not match (a connector resubscribes).
    mismatches: u64,
}

impl Baseline {
    fn new(verify: bool) -> Baseline {
        Baseline {
            verify,
            ..Baseline::default()
        }
    }

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
            // The venue's rule: cut each side to the subscribed depth.
            while self.bids.len() > DEPTH {
                self.bids.pop_first();
            }
            while self.asks.len() > DEPTH {
                self.asks.pop_last();
            }
            if self.verify && u64::from(self.checksum()) != book.checksum {
                self.mismatches += 1;
            }
        }
        black_box((self.bids.last_key_value(), self.asks.first_key_value()));
    }

    /// Kraken's CRC32 of the book, computed the usual way.
    fn checksum(&self) -> u32 {
        let mut text = String::new();
        let asks = self.asks.iter().take(10);
        let bids = self.bids.iter().rev().take(10);
        for (price, qty) in asks.chain(bids) {
            for number in [
                format!("{:.1$}", price.0, PRICE_DECIMALS),
                format!("{:.1$}", qty, QTY_DECIMALS),
            ] {
                let digits = number.replace('.', "");
                text.push_str(digits.trim_start_matches('0'));
            }
        }
        crc32fast::hash(text.as_bytes())
    }
}

/// `tickwire/kraken_book`, `baseline/kraken_book`,
/// `baseline/kraken_book_no_checksum` (the 53 updates, the snapshot
/// re-applied untimed at each wrap), `tickwire/kraken_checksum` and
/// `tickwire/kraken_checksum_render`.
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
    let base = RefCell::new(Baseline::new(true));
    base.borrow_mut().on_frame(&snapshot);
    assert_eq!(
        base.borrow().mismatches,
        0,
        "the baseline's checksum is right"
    );
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
    assert_eq!(
        base.borrow().mismatches,
        0,
        "every checksum of the capture matches the baseline's too"
    );
    // The same without the checksum (the rule skipped: not a complete
    // connector; shown so the check's share of the baseline is visible).
    let bare = RefCell::new(Baseline::new(false));
    bare.borrow_mut().on_frame(&snapshot);
    let mut pos = 0;
    g.bench_function("baseline/kraken_book_no_checksum", |b| {
        b.iter_custom(|iters| {
            timed_cycle(
                iters,
                &updates,
                &mut pos,
                |f| bare.borrow_mut().on_frame(black_box(f)),
                || bare.borrow_mut().on_frame(&snapshot),
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
    report_ratio_pairs(
        "decode_apply",
        &[(
            "kraken_book, baseline without its checksum",
            "tickwire/kraken_book",
            "baseline/kraken_book_no_checksum",
        )],
    );
}
