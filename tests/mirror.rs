//! Slow consumers: `FanOut` with a ring too small for the traffic (but big
//! enough for one snapshot of the book), bursts of generated frames through
//! `BinanceFrames::handle_frame`, a consumer that drains only sometimes into a
//! `BookMirror`. Whatever is dropped, once the consumer catches up its mirror
//! equals the engine's book, and every drop was counted and announced.

mod util;

use std::cell::RefCell;
use std::rc::Rc;

use proptest::prelude::*;
use tickwire::book::{BookRead, same_levels};
use tickwire::consumer::{BookMirror, Consumer};
use tickwire::ring::{BookState, EventBatch, FanOut, Publish, snapshot_events};
use tickwire::sim::{MarketConfig, MarketSim};
use tickwire::types::{
    Body, Event, InstrumentId, Registry, ResyncReason, Stamp, StatusCode, Venue,
};
use tickwire::venue::binance::{
    BinanceFrames, DiffOutcome, FrameKind, GapPolicy, InstrumentBook, SnapshotOutcome, books_for,
};

/// Every batch the engine published, in order.
type Log = Rc<RefCell<Vec<Vec<Event>>>>;

/// Forwards to the fan-out, counting the events offered and logging each batch.
struct Counted<'a> {
    fan: &'a mut FanOut,
    events: usize,
    log: &'a Log,
}

impl Publish for Counted<'_> {
    fn publish<B: BookRead>(&mut self, batch: &EventBatch, state: BookState<'_, B>, now: u64) {
        // Every batch the feed publishes ends at a consistent point.
        if let Some(last) = batch.events().last() {
            assert!(
                last.end_of_batch(),
                "batch without an end: {:?}",
                batch.events()
            );
        }
        self.events += batch.len();
        self.log.borrow_mut().push(batch.events().to_vec());
        self.fan.publish(batch, state, now);
    }
}

/// What a consumer saw, checked as it arrives: the stream must be whole
/// engine batches in order, where batches may go missing only right before
/// a repair (`Dropped`, `Resync`, then the book's snapshot).
#[derive(Debug)]
struct Seen {
    log: Log,
    /// Events since the last end of batch.
    chunk: Vec<Event>,
    /// Index in the log of the next batch expected.
    cursor: usize,
    /// The previous chunk was a repair.
    after_repair: bool,
    events: usize,
    dropped_status: usize,
    overflow_resyncs: usize,
    /// The `a` word of the last `Dropped` status (total dropped so far).
    last_dropped_total: i64,
}

impl Seen {
    fn new(log: &Log) -> Seen {
        Seen {
            log: log.clone(),
            chunk: Vec::new(),
            cursor: 0,
            after_repair: false,
            events: 0,
            dropped_status: 0,
            overflow_resyncs: 0,
            last_dropped_total: 0,
        }
    }

    /// Checks a complete chunk (ending with an end-of-batch event).
    fn check_chunk(&mut self) {
        let chunk = std::mem::take(&mut self.chunk);
        let status = |e: &Event| match e.body() {
            Body::Status(s) => Some((s.code, s.a)),
            _ => None,
        };
        if status(&chunk[0]).is_some_and(|s| s.0 == StatusCode::Dropped) {
            let overflow = ResyncReason::ConsumerOverflow as i64;
            assert_eq!(status(&chunk[1]), Some((StatusCode::Resync, overflow)));
            if chunk.len() > 2 {
                // The engine's book: begin, every level, end with the count.
                let levels = chunk.len() - 4;
                assert_eq!(
                    status(&chunk[2]).map(|s| s.0),
                    Some(StatusCode::SnapshotBegin)
                );
                assert_eq!(
                    status(&chunk[chunk.len() - 1]),
                    Some((StatusCode::SnapshotEnd, levels as i64))
                );
                let all_levels = chunk[3..chunk.len() - 1]
                    .iter()
                    .all(|e| matches!(e.body(), Body::Level(l) if l.snapshot));
                assert!(all_levels, "{chunk:?}");
            }
            self.after_repair = true;
            return;
        }
        let log = self.log.borrow();
        let found = (self.cursor..log.len()).find(|&i| log[i] == chunk);
        let Some(i) = found else {
            panic!("not a whole engine batch, or out of order: {chunk:?}");
        };
        assert!(
            i == self.cursor || self.after_repair,
            "batches {}..{i} lost without a repair",
            self.cursor
        );
        self.cursor = i + 1;
        self.after_repair = false;
    }
}

/// Applies one event to the mirror, recording and checking what matters.
fn record(e: &Event, mirror: &mut BookMirror, seen: &mut Seen) {
    seen.events += 1;
    if let Body::Status(s) = e.body() {
        match s.code {
            StatusCode::Dropped => {
                assert!(s.a >= seen.last_dropped_total, "drop totals only grow");
                assert!(s.a > 0);
                seen.dropped_status += 1;
                seen.last_dropped_total = s.a;
            }
            StatusCode::Resync if s.a == ResyncReason::ConsumerOverflow as i64 => {
                seen.overflow_resyncs += 1;
            }
            _ => {}
        }
    }
    mirror.apply(e);
    seen.chunk.push(*e);
    if e.end_of_batch() {
        seen.check_chunk();
    }
}

/// Drains everything into the mirror.
fn drain(consumer: &mut Consumer, mirror: &mut BookMirror, seen: &mut Seen) -> usize {
    consumer.drain(|e| record(e, mirror, seen))
}

/// Largest number of levels the generated book can hold per side.
fn max_side_levels(cfg: &MarketConfig) -> usize {
    cfg.depth + cfg.depth / 10 + 1
}

/// A small market: few levels, so a snapshot fits a small ring.
fn small_market(venue: Venue, seed: u64) -> MarketConfig {
    let mut cfg = MarketConfig::btcusdt(venue, seed);
    cfg.depth = 40;
    cfg.changes_per_diff = 6;
    cfg.mean_distance = 6;
    cfg
}

/// Engine side: registry, books, feed, fan-out, market.
struct Engine {
    reg: Registry,
    books: Vec<InstrumentBook>,
    feed: BinanceFrames,
    fan: FanOut,
    sim: MarketSim,
    frame: Vec<u8>,
    now: u64,
    sent: usize,
    log: Log,
}

const ID: InstrumentId = InstrumentId(0);

impl Engine {
    fn new(cfg: MarketConfig) -> Engine {
        let mut reg = Registry::new();
        let id = reg
            .add(cfg.venue, &cfg.symbol, "0.01", "0.00001")
            .expect("instrument");
        assert_eq!(id, ID);
        let books = books_for(&reg, 256, GapPolicy::Resync);
        Engine {
            feed: BinanceFrames::new(cfg.venue, 256),
            fan: FanOut::new(1, 512),
            sim: MarketSim::new(cfg),
            reg,
            books,
            frame: Vec::new(),
            now: 1,
            sent: 0,
            log: Log::default(),
        }
    }

    /// Two diffs buffered, then the snapshot: the book is synced and its
    /// snapshot published.
    fn sync(&mut self) {
        for _ in 0..2 {
            self.sim.depth_update(&mut self.frame);
            self.frame_in();
        }
        let mut body = Vec::new();
        self.sim.snapshot(5_000, &mut body);
        let mut out = Counted {
            fan: &mut self.fan,
            events: 0,
            log: &self.log,
        };
        let outcome =
            self.feed
                .handle_snapshot(&body, self.now, &self.reg, &mut self.books[0], &mut out);
        assert_eq!(outcome, Ok(SnapshotOutcome::Synced));
        self.sent += out.events;
    }

    /// Handles the frame in `self.frame`.
    fn frame_in(&mut self) -> FrameKind {
        self.now += 1_000;
        let mut out = Counted {
            fan: &mut self.fan,
            events: 0,
            log: &self.log,
        };
        let kind = self
            .feed
            .handle_frame(&self.frame, self.now, &self.reg, &mut self.books, &mut out)
            .expect("generated frames decode");
        self.sent += out.events;
        kind
    }

    /// The `n`-th frame of a burst: mostly diffs, some tickers and trades.
    fn next_frame(&mut self, n: usize) {
        match n % 9 {
            4 => self.sim.book_ticker(&mut self.frame),
            7 => self.sim.trade(&mut self.frame),
            _ => self.sim.depth_update(&mut self.frame),
        }
        let kind = self.frame_in();
        if let FrameKind::Depth(_, outcome) = kind {
            assert_eq!(outcome, DiffOutcome::Applied);
        }
    }

    fn service(&mut self) {
        let now = self.now;
        let books = &self.books;
        self.fan
            .service(now, |id| books.get(id.index()).map(|b| b.state(now)));
    }

    fn book(&self) -> &tickwire::book::Ladder {
        &self.books[0].book
    }
}

/// How the consumer behaves after a burst.
#[derive(Clone, Copy, Debug)]
enum Drain {
    /// Reads nothing.
    None,
    /// Reads up to this many events.
    Partial(usize),
    /// Reads everything.
    Full,
}

fn drain_mode() -> impl Strategy<Value = Drain> {
    prop_oneof![
        2 => Just(Drain::None),
        1 => (1usize..40).prop_map(Drain::Partial),
        2 => Just(Drain::Full),
    ]
}

/// Runs bursts with one consumer whose ring holds one snapshot plus `slack`.
/// Returns whether an overflow was forced.
fn run(venue: Venue, seed: u64, slack: usize, bursts: &[(usize, Drain)]) -> bool {
    let cfg = small_market(venue, seed);
    let ring = snapshot_events(2 * max_side_levels(&cfg)) + slack;
    let mut engine = Engine::new(cfg);
    let mut consumer = engine.fan.add_consumer(ring);
    let specs = [tickwire::book::BookSpec::new(1)];
    let mut mirror = BookMirror::new(specs);
    let mut seen = Seen::new(&engine.log);
    engine.sync();

    // Events offered since the ring was last empty, minus those read since:
    // above the ring's capacity, something must have been dropped.
    let (mut offered, mut read) = (engine.sent, 0usize);
    let mut forced_overflow = false;
    let placeholder = Event::status(
        Stamp {
            venue,
            instrument: ID,
            seq: 0,
            exch_ns: 0,
            recv_ns: 0,
        },
        StatusCode::Stale,
        0,
        0,
        false,
    );
    let mut buf = [placeholder; 40];
    let mut frames = 0;
    for &(len, mode) in bursts {
        for _ in 0..len {
            let before = engine.sent;
            engine.next_frame(frames);
            frames += 1;
            offered += engine.sent - before;
            forced_overflow |= offered.saturating_sub(read) > ring;
        }
        match mode {
            Drain::None => {}
            Drain::Partial(n) => {
                let got = consumer.drain_into(&mut buf[..n]);
                for e in &buf[..got] {
                    record(e, &mut mirror, &mut seen);
                }
                read += got;
            }
            Drain::Full => {
                drain(&mut consumer, &mut mirror, &mut seen);
                (offered, read) = (0, 0);
                if !engine.fan.has_dirty() {
                    // Caught up and nothing owed: the mirror is the book.
                    assert!(same_levels(mirror.book(ID).unwrap(), engine.book()));
                    assert!(mirror.is_consistent(ID));
                }
            }
        }
        engine.service();
    }
    drain(&mut consumer, &mut mirror, &mut seen);
    engine.service();
    drain(&mut consumer, &mut mirror, &mut seen);

    assert!(!engine.fan.has_dirty(), "repaired once there is room");
    assert_eq!(consumer.pending(), 0);
    assert!(seen.chunk.is_empty(), "ends at a batch boundary");
    let (mine, theirs) = (mirror.book(ID).unwrap(), engine.book());
    assert!(
        same_levels(mine, theirs),
        "mirror {:?}\nengine {:?}",
        util::side_levels(mine, tickwire::types::Side::Bid),
        util::side_levels(theirs, tickwire::types::Side::Bid)
    );
    assert!(mirror.is_consistent(ID));
    assert_eq!(mirror.top(ID), theirs.best_bid().zip(theirs.best_ask()));
    assert_eq!(engine.fan.dropped(), consumer.dropped());
    if forced_overflow {
        assert!(consumer.dropped() > 0, "an overflow was forced");
    }
    if consumer.dropped() > 0 {
        assert!(seen.dropped_status > 0, "drops are announced");
        assert!(seen.overflow_resyncs > 0, "and followed by a resync");
        assert!(consumer.resyncs() > 0);
        assert_eq!(consumer.resyncs() as usize, seen.overflow_resyncs);
        assert!(seen.last_dropped_total as u64 <= consumer.dropped());
    } else {
        assert_eq!(seen.dropped_status + seen.overflow_resyncs, 0);
    }
    forced_overflow
}

proptest! {
    #![proptest_config(util::proptest_config(40))]

    #[test]
    fn mirror_converges_after_drops(
        spot in any::<bool>(),
        seed in any::<u64>(),
        slack in 0usize..48,
        bursts in prop::collection::vec((1usize..30, drain_mode()), 1..24),
    ) {
        let venue = if spot { Venue::BinanceSpot } else { Venue::BinanceUsdm };
        run(venue, seed, slack, &bursts);
    }
}

#[test]
fn a_burst_bigger_than_the_ring_drops_and_converges() {
    for venue in [Venue::BinanceSpot, Venue::BinanceUsdm] {
        // 60 frames unread, then a full read; twice.
        let bursts = [(60, Drain::Full), (60, Drain::None), (5, Drain::Full)];
        assert!(run(venue, 5, 0, &bursts), "{venue}: designed to overflow");
    }
}

#[test]
fn a_fast_consumer_is_not_hurt_by_a_slow_one() {
    let cfg = small_market(Venue::BinanceSpot, 9);
    let small = snapshot_events(2 * max_side_levels(&cfg));
    let mut engine = Engine::new(cfg);
    let mut fast = engine.fan.add_consumer(4_096);
    let mut slow = engine.fan.add_consumer(small);
    let spec = tickwire::book::BookSpec::new(1);
    let (mut fast_mirror, mut slow_mirror) = (BookMirror::new([spec]), BookMirror::new([spec]));
    let (mut fast_seen, mut slow_seen) = (Seen::new(&engine.log), Seen::new(&engine.log));
    engine.sync();
    for n in 0..600 {
        engine.next_frame(n);
        drain(&mut fast, &mut fast_mirror, &mut fast_seen);
        if n % 50 == 49 {
            drain(&mut slow, &mut slow_mirror, &mut slow_seen);
            engine.service();
        }
        assert!(
            same_levels(fast_mirror.book(ID).unwrap(), engine.book()),
            "frame {n}"
        );
    }
    drain(&mut slow, &mut slow_mirror, &mut slow_seen);
    engine.service();
    drain(&mut slow, &mut slow_mirror, &mut slow_seen);
    assert_eq!(fast.dropped(), 0);
    assert_eq!(fast_seen.dropped_status, 0);
    // The fast consumer got every batch, whole and in order.
    assert_eq!(fast_seen.cursor, engine.log.borrow().len());
    assert!(fast_seen.chunk.is_empty() && slow_seen.chunk.is_empty());
    assert!(slow.dropped() > 0);
    assert!(slow_seen.dropped_status > 0 && slow_seen.overflow_resyncs > 0);
    assert_eq!(engine.fan.dropped(), slow.dropped());
    assert!(same_levels(slow_mirror.book(ID).unwrap(), engine.book()));
    assert!(slow_mirror.is_consistent(ID) && fast_mirror.is_consistent(ID));
}
