//! OKX bench bodies for `decode_apply`: tickwire's per-message path
//! (`OkxSession::handle_text`) on the real `books` capture against the
//! typical connector (serde_json into `String`s, `f64`, a `BTreeMap` book),
//! and the checksum alone (from the kept top-25 texts, and rendered from
//! scratch). `okx_trade`: the three `trades` captures (74 frames, one trade
//! each) through the same session against serde_json into owned trades
//! with `f64` price and size.
//!
//! Ours does more than the baseline: after each frame it verifies the
//! venue's checksum over the top 25 levels a side and stages the level
//! events (the baseline does neither).
#![allow(
    clippy::float_arithmetic,
    reason = "the baseline is the float approach tickwire replaces"
)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use serde::Deserialize;
use tickwire::book::BookRead;
use tickwire::ring::Discard;
use tickwire::types::{InstrumentId, Registry, Side, Venue};
use tickwire::venue::okx::{BookSpelling, OkxSession};
use tickwire::venue::{
    Channel, GapPolicy, InstrumentBook, PlannedInstrument, SessionPlan, books_for,
};

use crate::common::{Px, timed_cycle};

/// The capture's BTC-USDT `books` stream: a 400-level snapshot, then 97
/// updates of ~25 levels.
fn frames() -> Vec<Vec<u8>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/okx/ws_books_BTC-USDT.jsonl"
    );
    std::fs::read_to_string(path)
        .expect("fixture")
        .lines()
        .map(|l| l.as_bytes().to_vec())
        .collect()
}

fn registry() -> Registry {
    let mut r = Registry::new();
    r.add(Venue::Okx, "BTC-USDT", "0.1", "0.00000001")
        .expect("registry");
    r
}

/// The engine's per-message path: `OkxSession::handle_text` (decode, sync
/// with the checksum verified, book, staged events) into a `Discard`.
struct Ours {
    registry: Registry,
    session: OkxSession,
    books: Vec<InstrumentBook>,
    out: Discard,
    buf: Vec<u8>,
}

impl Ours {
    fn new() -> Ours {
        Ours::with(registry())
    }

    /// A session for every instrument of `registry`.
    fn with(registry: Registry) -> Ours {
        let capacity = 1_000;
        let plan = SessionPlan {
            venue: Venue::Okx,
            ws_url: String::new(),
            rest_url: String::new(),
            instruments: registry
                .iter()
                .map(|i| PlannedInstrument {
                    id: i.id,
                    symbol: i.symbol.as_str().to_owned(),
                })
                .collect(),
            channels: vec![Channel::Depth, Channel::Trade],
            depth_interval_ms: 100,
            depth: 400,
            url_streams: None,
            streams_per_subscribe: 30,
            control_per_sec: 2,
            book_capacity: capacity,
            max_frame: tickwire::venue::profile(Venue::Okx).max_frame_bytes,
        };
        Ours {
            books: books_for(&registry, capacity, GapPolicy::Resync),
            session: OkxSession::new(&plan),
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

/// `books` the way typical connectors read it: owned strings.
#[derive(Deserialize)]
struct BaseFrame {
    action: String,
    data: Vec<BaseBook>,
}

#[derive(Deserialize)]
struct BaseBook {
    asks: Vec<Vec<String>>,
    bids: Vec<Vec<String>>,
    #[allow(dead_code, reason = "read as connectors do")]
    ts: String,
    #[allow(dead_code, reason = "read as connectors do")]
    checksum: i64,
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
        if f.action == "snapshot" {
            self.bids.clear();
            self.asks.clear();
        }
        for book in &f.data {
            for (side, levels) in [(&mut self.bids, &book.bids), (&mut self.asks, &book.asks)] {
                for l in levels {
                    let (Ok(p), Ok(q)) = (l[0].parse::<f64>(), l[1].parse::<f64>()) else {
                        continue;
                    };
                    if q == 0.0 {
                        side.remove(&Px(p));
                    } else {
                        side.insert(Px(p), q);
                    }
                }
            }
        }
        black_box((self.bids.last_key_value(), self.asks.first_key_value()));
    }
}

/// Times `iters` updates, cycling; the snapshot is re-applied at each wrap,
/// outside the timed region.
fn cycle(
    iters: u64,
    frames: &[Vec<u8>],
    pos: &mut usize,
    mut f: impl FnMut(&[u8]),
    mut snapshot: impl FnMut(),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        if *pos == 0 {
            snapshot();
            *pos = 1;
        }
        let run = left.min((frames.len() - *pos) as u64) as usize;
        let start = Instant::now();
        for frame in &frames[*pos..*pos + run] {
            f(frame);
        }
        total += start.elapsed();
        left -= run as u64;
        *pos = (*pos + run) % frames.len();
    }
    total
}

/// `tickwire/okx_book`, `baseline/okx_book` and `tickwire/okx_checksum`.
pub(crate) fn run(c: &mut Criterion) {
    let frames = frames();
    let mut g = c.benchmark_group("decode_apply");
    let ours = RefCell::new(Ours::new());
    let mut pos = 0;
    g.bench_function("tickwire/okx_book", |b| {
        b.iter_custom(|iters| {
            cycle(
                iters,
                &frames,
                &mut pos,
                |f| ours.borrow_mut().on_frame(f),
                || ours.borrow_mut().on_frame(&frames[0]),
            )
        })
    });
    assert_eq!(
        ours.borrow().mismatches(),
        0,
        "every checksum of the capture matches"
    );
    let base = RefCell::new(Baseline::default());
    let mut pos = 0;
    g.bench_function("baseline/okx_book", |b| {
        b.iter_custom(|iters| {
            cycle(
                iters,
                &frames,
                &mut pos,
                |f| base.borrow_mut().on_frame(black_box(f)),
                || base.borrow_mut().on_frame(&frames[0]),
            )
        })
    });
    // The checksum alone, on the snapshot's book: 25 + 25 levels.
    let mut ours = Ours::new();
    ours.on_frame(&frames[0]);
    let (price, qty) = {
        let i = ours.registry.iter().next().expect("instrument");
        (i.price_scale, i.qty_scale)
    };
    // A copy of the book's spellings the bench may own (the session's are
    // its own): the same levels, the same spellings.
    let book = &ours.books[0].book;
    let held = ours
        .session
        .book_sync(InstrumentId(0))
        .expect("planned")
        .spelling();
    let mut spelling = BookSpelling::new(1_000);
    for side in [Side::Bid, Side::Ask] {
        for level in book.levels(side) {
            let spell = held.get(side, level.price).expect("spelled");
            spelling.set(side, level, spell);
        }
        spelling.rerank(side, book, price, qty);
    }
    assert_eq!(
        spelling.checksum(price, qty),
        spelling.peek_checksum(book, price, qty),
        "the kept texts are the book's"
    );
    // The cold variant: every level of the top 25 + 25 found in the book,
    // its spelling looked up and its text rendered now.
    g.bench_function("tickwire/okx_checksum_render", |b| {
        b.iter(|| black_box(spelling.peek_checksum(black_box(book), price, qty)))
    });
    // What each `books` message pays: the kept top-25 texts of each side
    // (kept in step by the sync as levels change) interleaved into one
    // buffer and hashed.
    g.bench_function("tickwire/okx_checksum", |b| {
        b.iter(|| black_box(black_box(&mut spelling).checksum(price, qty)))
    });
    g.finish();
}

/// `trades` the way typical connectors read it: owned strings.
#[derive(Deserialize)]
struct TradeFrame {
    arg: TradeArg,
    data: Vec<TradeItem>,
}

#[derive(Deserialize)]
struct TradeArg {
    channel: String,
    #[serde(rename = "instId")]
    inst_id: String,
}

#[derive(Deserialize)]
struct TradeItem {
    #[serde(rename = "instId")]
    inst_id: String,
    #[serde(rename = "tradeId")]
    trade_id: String,
    px: String,
    sz: String,
    side: String,
    ts: String,
}

/// The baseline's view of the trades: the last price and size per symbol.
#[derive(Default)]
struct BaseTrades {
    last: std::collections::HashMap<String, (f64, f64)>,
}

impl BaseTrades {
    fn on_frame(&mut self, frame: &[u8]) {
        let Ok(f) = serde_json::from_slice::<TradeFrame>(frame) else {
            return;
        };
        black_box((&f.arg.channel, &f.arg.inst_id));
        for t in &f.data {
            let px: f64 = t.px.parse().unwrap_or(0.0);
            let sz: f64 = t.sz.parse().unwrap_or(0.0);
            let id: u64 = t.trade_id.parse().unwrap_or(0);
            let ts: u64 = t.ts.parse().unwrap_or(0);
            black_box((id, ts, &t.side));
            self.last.insert(t.inst_id.clone(), (px, sz));
        }
    }
}

/// Registers `tickwire/okx_trade` and `baseline/okx_trade`.
pub(crate) fn trades(c: &mut Criterion) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/okx");
    let mut frames = Vec::new();
    for symbol in ["BTC-USDT", "UNI-USD-SWAP", "BTC-USD-220527"] {
        let text =
            std::fs::read_to_string(format!("{dir}/ws_trades_{symbol}.jsonl")).expect("fixture");
        frames.extend(text.lines().map(|l| l.as_bytes().to_vec()));
    }
    let mut r = Registry::new();
    for (symbol, tick, lot) in [
        ("BTC-USDT", "0.1", "0.00000001"),
        ("UNI-USD-SWAP", "0.001", "1"),
        ("BTC-USD-220527", "0.1", "1"),
    ] {
        r.add(Venue::Okx, symbol, tick, lot).expect("registry");
    }
    let mut g = c.benchmark_group("decode_apply");
    let mut ours = Ours::with(r);
    let mut pos = 0;
    g.bench_function("tickwire/okx_trade", |b| {
        b.iter_custom(|iters| timed_cycle(iters, &frames, &mut pos, |f| ours.on_frame(f), || {}))
    });
    // Every frame decoded, and by the template.
    let d = ours.session.decode_stats();
    assert_eq!(d.fallback, 0, "okx_trade: {d:?}");
    // (A `cargo bench` filter may have skipped the bench: nothing decoded.)
    assert!(d.fast > 0 || ours.session.stats().frames == 0, "{d:?}");
    let mut base = BaseTrades::default();
    let mut buf = Vec::with_capacity(1 << 16);
    let mut pos = 0;
    g.bench_function("baseline/okx_trade", |b| {
        b.iter_custom(|iters| {
            timed_cycle(
                iters,
                &frames,
                &mut pos,
                |f| {
                    buf.clear();
                    buf.extend_from_slice(f);
                    base.on_frame(black_box(&buf));
                },
                || {},
            )
        })
    });
    g.finish();
}
