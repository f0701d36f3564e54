//! Book layouts on the same operation stream: tickwire's [`Ladder`] (tick
//! window + sorted far levels) against [`SortedBook`] (sorted arrays, best
//! at the end) and the [`RefBook`] `BTreeMap` baseline, in the same run and
//! through the same bench body.
//!
//! The stream is what the engine applies: the levels of `MarketSim` depth
//! frames, decoded by tickwire's own decoder, applied in order to a book
//! loaded from the market's REST snapshot. One iteration = one frame's
//! levels (about 22). Two markets:
//!
//! * `sim`: BTCUSDT-like, 500 levels a side, changes near the touch;
//! * `deep`: 5,000 levels a side and changes spread thousands of ticks
//!   deep, so many land outside the ladder's window (its far list) and in
//!   the middle of the sorted arrays;
//! * `whole`: Coinbase-like whole-book stream: a 12,000-level market, an
//!   8,000-level snapshot (the decoder's limit), books capped at the default
//!   5,000 levels (so the deep tail is evicted and dropped), and changes
//!   mostly thousands of ticks from the best, i.e. in the ladder's far list.
//!
//! `sim` and `deep` books are sized so nothing is ever truncated, and all
//! three must end in the same state (checked before timing). `whole` books
//! are capped; the ladder and the sorted book must agree, and the
//! `BTreeMap` baseline holds everything (the typical connector's book).

use std::cell::RefCell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use tickwire::book::{
    BookApply, BookRead, BookSpec, Ladder, Level, RefBook, SortedBook, same_levels,
};
use tickwire::sim::{MarketConfig, MarketSim};
use tickwire::types::{Registry, Side, Venue};
use tickwire::venue::binance::{BinanceDecoder, BinanceMsg, SnapshotReply};

mod common;

/// Frames per workload (the stream is replayed from the snapshot when it ends).
const FRAMES: usize = 2048;

/// One level update.
#[derive(Clone, Copy)]
struct Op {
    side: Side,
    level: Level,
}

/// A snapshot and the updates that follow it.
struct Stream {
    name: &'static str,
    snapshot: Vec<Op>,
    frames: Vec<Vec<Op>>,
    /// Levels a side the books hold: none is ever truncated unless `capped`.
    capacity: usize,
    /// Whether `capacity` truncates the book (the `whole` stream).
    capped: bool,
}

fn ops(bids: &[Level], asks: &[Level]) -> Vec<Op> {
    let side = |side, levels: &[Level]| {
        levels
            .iter()
            .map(move |&level| Op { side, level })
            .collect::<Vec<_>>()
    };
    let mut out = side(Side::Bid, bids);
    out.extend(side(Side::Ask, asks));
    out
}

/// Decodes `FRAMES` depth frames of `cfg`'s market after a snapshot.
fn stream(
    name: &'static str,
    cfg: MarketConfig,
    snapshot_levels: usize,
    cap: Option<usize>,
) -> Stream {
    let mut registry = Registry::new();
    let id = registry
        .add(Venue::BinanceSpot, "BTCUSDT", "0.01", "0.00001")
        .expect("registry");
    let mut sim = MarketSim::new(cfg);
    let mut decoder = BinanceDecoder::new(Venue::BinanceSpot);
    let mut body = Vec::new();
    sim.snapshot(snapshot_levels, &mut body);
    let snapshot = match decoder.decode_snapshot(&body, registry.get(id).scaling()) {
        Ok(SnapshotReply::Book(s)) => ops(s.bids, s.asks),
        other => panic!("snapshot: {other:?}"),
    };
    let symbols = registry.venue(Venue::BinanceSpot);
    let mut frame = Vec::new();
    let frames = (0..FRAMES)
        .map(|_| {
            sim.depth_update(&mut frame);
            match decoder.decode(&frame, &symbols) {
                Ok(BinanceMsg::Depth(d)) => ops(d.bids, d.asks),
                other => panic!("depth frame: {other:?}"),
            }
        })
        .collect();
    let mut s = Stream {
        name,
        snapshot,
        frames,
        capacity: 0,
        capped: cap.is_some(),
    };
    // The deepest a side gets over the run, with room to spare.
    let mut model = RefBook::new(1);
    apply_all(&mut model, &s.snapshot);
    let mut deepest = 0;
    for f in &s.frames {
        apply_all(&mut model, f);
        deepest = deepest
            .max(model.depth(Side::Bid))
            .max(model.depth(Side::Ask));
    }
    s.capacity = cap.unwrap_or(deepest + 64);
    s
}

#[inline]
fn apply_all(book: &mut impl BookApply, ops: &[Op]) {
    for op in ops {
        let applied = book.apply(op.side, op.level.price, op.level.qty);
        black_box(applied.ok());
    }
}

/// A book of layout `B` holding `s`'s snapshot.
fn loaded<B: BookApply>(mut book: B, s: &Stream) -> B {
    apply_all(&mut book, &s.snapshot);
    book
}

/// Times `iters` frames of `s` on `book`, restarting from `start` (outside
/// the timed region) when the stream runs out.
fn timed<B: BookApply + Clone>(
    iters: u64,
    s: &Stream,
    start: &B,
    book: &mut B,
    pos: &mut usize,
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let run = left.min((s.frames.len() - *pos) as u64) as usize;
        let t = Instant::now();
        for f in &s.frames[*pos..*pos + run] {
            apply_all(book, f);
        }
        total += t.elapsed();
        left -= run as u64;
        *pos += run;
        if *pos == s.frames.len() {
            *pos = 0;
            book.clone_from(start);
        }
    }
    total
}

/// The same bench body for every layout.
fn bench_layout<B: BookApply + Clone>(c: &mut Criterion, id: String, s: &Stream, start: B) {
    let book = RefCell::new(start.clone());
    let mut pos = 0;
    let mut g = c.benchmark_group("book");
    g.bench_function(id, |b| {
        b.iter_custom(|iters| timed(iters, s, &start, &mut book.borrow_mut(), &mut pos))
    });
    g.finish();
}

/// All three layouts must agree after the whole stream.
fn check_same_result(s: &Stream, ladder: &Ladder, sorted: &SortedBook, reference: &RefBook) {
    let (mut l, mut so, mut r) = (ladder.clone(), sorted.clone(), reference.clone());
    for f in &s.frames {
        apply_all(&mut l, f);
        apply_all(&mut so, f);
        apply_all(&mut r, f);
    }
    if s.capped {
        assert!(
            same_levels(&l, &so),
            "{}: ladder differs from the sorted book",
            s.name
        );
    } else {
        assert!(
            same_levels(&l, &r),
            "{}: ladder differs from the model",
            s.name
        );
        assert!(
            same_levels(&so, &r),
            "{}: sorted differs from the model",
            s.name
        );
    }
    let far = far_share(s, l.tick());
    let levels = r.depth(Side::Bid) + r.depth(Side::Ask);
    let ops: usize = s.frames.iter().map(Vec::len).sum();
    let tenths = ops * 10 / s.frames.len();
    println!(
        "book/{}: {} snapshot levels, {} frames, {}.{} levels a frame, {levels} levels at the end, {far}% of changes over 1,024 ticks from the best",
        s.name,
        s.snapshot.len(),
        s.frames.len(),
        tenths / 10,
        tenths % 10,
    );
}

/// Percentage of the stream's changes that land more than 1,024 ticks from
/// their side's best price (as held by a capped book like the benched ones).
fn far_share(s: &Stream, tick: i64) -> usize {
    let mut book = SortedBook::new(BookSpec::new(tick).with_capacity(s.capacity));
    apply_all(&mut book, &s.snapshot);
    let (mut far, mut all) = (0usize, 0usize);
    for f in &s.frames {
        for op in f {
            let best = match op.side {
                Side::Bid => book.best_bid(),
                Side::Ask => book.best_ask(),
            };
            if let Some(b) = best {
                all += 1;
                far += usize::from((op.level.price.0 - b.price.0).abs() > 1_024 * tick);
            }
            black_box(book.apply(op.side, op.level.price, op.level.qty).ok());
        }
    }
    far * 100 / all.max(1)
}

fn workloads() -> Vec<Stream> {
    let sim = MarketConfig::btcusdt(Venue::BinanceSpot, 0x5eed);
    let deep = MarketConfig {
        depth: 5_000,
        mean_distance: 1_500,
        ..MarketConfig::btcusdt(Venue::BinanceSpot, 0xdee9)
    };
    let whole = MarketConfig {
        depth: 12_000,
        mean_distance: 6_000,
        ..MarketConfig::btcusdt(Venue::BinanceSpot, 0xc0b5)
    };
    vec![
        stream("sim", sim, 1_000, None),
        stream("deep", deep, 5_000, None),
        stream(
            "whole",
            whole,
            8_000,
            Some(tickwire::book::DEFAULT_CAPACITY),
        ),
    ]
}

fn book(c: &mut Criterion) {
    for s in &workloads() {
        let spec = BookSpec::new(1).with_capacity(s.capacity);
        let ladder = loaded(Ladder::new(spec), s);
        let sorted = loaded(SortedBook::new(spec), s);
        let reference = loaded(RefBook::new(1), s);
        check_same_result(s, &ladder, &sorted, &reference);
        bench_layout(c, format!("tickwire/ladder_{}", s.name), s, ladder);
        bench_layout(c, format!("sorted/{}", s.name), s, sorted);
        bench_layout(c, format!("baseline/btreemap_{}", s.name), s, reference);
    }
}

criterion_group!(benches, book);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    let mut pairs = Vec::new();
    for name in ["sim", "deep", "whole"] {
        let ours = format!("tickwire/ladder_{name}");
        pairs.push((
            format!("{name}: sorted"),
            ours.clone(),
            format!("sorted/{name}"),
        ));
        pairs.push((
            format!("{name}: btreemap"),
            ours,
            format!("baseline/btreemap_{name}"),
        ));
    }
    let pairs: Vec<(&str, &str, &str)> = pairs
        .iter()
        .map(|(l, o, b)| (l.as_str(), o.as_str(), b.as_str()))
        .collect();
    common::report_ratio_pairs("book", &pairs);
}
