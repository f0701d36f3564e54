//! decode + apply per frame: tickwire's per-message path (the engine's own
//! `BinanceFrames`) against the typical connector approach (serde_json into
//! owned structs with `String` prices, parsed to `f64`, applied to a
//! `BTreeMap`) on exactly the same frames, in the same run.
//!
//! One iteration = one frame, copied into the receive buffer first (as it
//! would be when it arrives) and then decoded and applied.

use std::cell::RefCell;
use std::hint::black_box;

use criterion::{Criterion, criterion_group};
use tickwire::book::DEFAULT_CAPACITY;
use tickwire::ring::Discard;
use tickwire::sim::{MarketConfig, MarketSim};
use tickwire::types::{Registry, ResyncReason, Venue};
use tickwire::venue::binance::{BinanceFrames, GapPolicy, InstrumentBook, books_for};

mod common;
use common::{BaselineBook, timed_cycle};
#[path = "common/bybit.rs"]
mod bybit;
#[path = "common/coinbase.rs"]
mod coinbase;
#[path = "common/kraken.rs"]
mod kraken;
#[path = "common/okx.rs"]
mod okx;

const FRAMES: usize = 2048;

struct Workload {
    snapshot: Vec<u8>,
    depth: Vec<Vec<u8>>,
    book_ticker: Vec<Vec<u8>>,
    trade: Vec<Vec<u8>>,
}

fn workload() -> Workload {
    let mut sim = MarketSim::new(MarketConfig::btcusdt(Venue::BinanceSpot, 0x5eed));
    let mut snapshot = Vec::new();
    sim.snapshot(1000, &mut snapshot);
    let mut generate = |f: &mut dyn FnMut(&mut MarketSim, &mut Vec<u8>)| {
        (0..FRAMES)
            .map(|_| {
                let mut out = Vec::new();
                f(&mut sim, &mut out);
                out
            })
            .collect::<Vec<_>>()
    };
    let depth = generate(&mut |s, o| s.depth_update(o));
    let book_ticker = generate(&mut |s, o| {
        s.depth_update(o);
        s.book_ticker(o)
    });
    let trade = generate(&mut |s, o| s.trade(o));
    Workload {
        snapshot,
        depth,
        book_ticker,
        trade,
    }
}

/// The engine's per-message path.
struct Ours {
    registry: Registry,
    feed: BinanceFrames,
    books: Vec<InstrumentBook>,
    snapshots: Vec<(usize, Vec<u8>)>,
    out: Discard,
    buf: Vec<u8>,
}

impl Ours {
    fn new(registry: Registry, snapshots: Vec<(usize, Vec<u8>)>) -> Ours {
        let books = books_for(&registry, DEFAULT_CAPACITY, GapPolicy::Resync);
        let venue = registry
            .iter()
            .next()
            .map_or(Venue::BinanceSpot, |i| i.venue);
        let feed = BinanceFrames::new(venue, 5000);
        let mut ours = Ours {
            registry,
            feed,
            books,
            snapshots,
            out: Discard::default(),
            buf: Vec::with_capacity(1 << 16),
        };
        ours.rewind();
        ours
    }

    /// Back to the captured snapshots: the frame cycle starts again.
    fn rewind(&mut self) {
        for (i, body) in &self.snapshots {
            let st = &mut self.books[*i];
            self.feed
                .resync(st, ResyncReason::Reconnect, 0, &mut self.out);
            self.feed
                .handle_snapshot(body, 0, &self.registry, st, &mut self.out)
                .expect("snapshot");
        }
    }

    #[inline]
    fn on_frame(&mut self, frame: &[u8]) {
        self.buf.clear();
        self.buf.extend_from_slice(frame);
        let r =
            self.feed
                .handle_frame(&self.buf, 1, &self.registry, &mut self.books, &mut self.out);
        black_box(r.ok());
    }

    fn report(&self, name: &str) {
        for b in &self.books {
            let s = b.sync.stats();
            println!(
                "  {name}: {} applied={} stale={} gaps={} resyncs={}",
                self.registry.get(b.id).symbol,
                s.applied,
                s.stale,
                s.gaps,
                s.resyncs - s.snapshots.saturating_sub(1).min(s.resyncs)
            );
        }
    }
}

fn run_pair(
    c: &mut Criterion,
    name: &str,
    frames: &[Vec<u8>],
    ours: &mut Ours,
    snapshot_for_baseline: &[u8],
) {
    let mut g = c.benchmark_group("decode_apply");
    let mut pos = 0;
    g.bench_function(format!("tickwire/{name}"), |b| {
        b.iter_custom(|iters| {
            let ours = RefCell::new(&mut *ours);
            timed_cycle(
                iters,
                frames,
                &mut pos,
                |f| ours.borrow_mut().on_frame(f),
                || ours.borrow_mut().rewind(),
            )
        })
    });
    ours.report(name);
    let base = RefCell::new(BaselineBook::with_snapshot(snapshot_for_baseline));
    let mut buf = Vec::with_capacity(1 << 16);
    let mut pos = 0;
    g.bench_function(format!("baseline/{name}"), |b| {
        b.iter_custom(|iters| {
            timed_cycle(
                iters,
                frames,
                &mut pos,
                |f| {
                    buf.clear();
                    buf.extend_from_slice(f);
                    base.borrow_mut().on_frame(black_box(&buf));
                },
                || *base.borrow_mut() = BaselineBook::with_snapshot(snapshot_for_baseline),
            )
        })
    });
    g.finish();
}

fn btc_registry() -> Registry {
    let mut r = Registry::new();
    r.add(Venue::BinanceSpot, "BTCUSDT", "0.01", "0.00001")
        .expect("registry");
    r
}

fn decode_apply(c: &mut Criterion) {
    let w = workload();
    let mut ours = Ours::new(btc_registry(), vec![(0, w.snapshot.clone())]);
    run_pair(c, "binance_depth", &w.depth, &mut ours, &w.snapshot);
    run_pair(
        c,
        "binance_book_ticker",
        &w.book_ticker,
        &mut ours,
        &w.snapshot,
    );
    run_pair(c, "binance_trade", &w.trade, &mut ours, &w.snapshot);

    // The real capture: every frame of the spot session (depth, bookTicker,
    // aggTrade, kline) for its four symbols, books synced from the captured
    // snapshots, at Binance's wire precision.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/binance");
    let frames: Vec<Vec<u8>> =
        std::fs::read_to_string(format!("{dir}/ws_combined_all_frames.jsonl"))
            .expect("fixture")
            .lines()
            .map(|l| l.as_bytes().to_vec())
            .collect();
    let mut reg = Registry::new();
    let mut snaps = Vec::new();
    for (i, sym) in ["NKNUSDT", "BLZETH", "LRCBTC", "RUNEEUR"]
        .into_iter()
        .enumerate()
    {
        reg.add(Venue::BinanceSpot, sym, "0.00000001", "0.00000001")
            .expect("registry");
        snaps.push((
            i,
            std::fs::read(format!("{dir}/rest_depth_snapshot_{sym}.json")).expect("snapshot"),
        ));
    }
    let first = snaps[0].1.clone();
    let mut real = Ours::new(reg, snaps);
    run_pair(c, "binance_real", &frames, &mut real, &first);
    bybit::bench(c);
    bybit::trades(c);
    okx::run(c);
    okx::trades(c);
    coinbase::run(c);
    kraken::run(c);
}

criterion_group!(benches, decode_apply);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    common::report_ratios(
        "decode_apply",
        &[
            "binance_depth",
            "binance_book_ticker",
            "binance_trade",
            "binance_real",
            "bybit_book",
            "bybit_trade",
            "okx_book",
            "okx_trade",
            "okx_checksum",
            "coinbase_book",
            "coinbase_snapshot_5mb",
            "kraken_book",
            "kraken_checksum",
            "kraken_checksum_render",
        ],
    );
}
