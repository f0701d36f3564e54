//! The per-message path allocates nothing: a counting global allocator
//! watches 100,000+ generated frames (depth diffs, bookTickers, trades) go
//! through `BinanceFrames::handle_frame` → `FanOut` → two consumers drained
//! into `BookMirror`s, after a warm-up that includes a snapshot load. One
//! consumer keeps up; the other reads rarely through a small ring, so the
//! overflow-repair path (drop, resync, snapshot) runs while counting too.

mod bybit;
mod kraken_util;
mod util;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use tickwire::book::{BookSpec, same_levels};
use tickwire::consumer::BookMirror;
use tickwire::ring::{FanOut, snapshot_events};
use tickwire::sim::{MarketConfig, MarketSim};
use tickwire::types::{InstrumentId, Registry, Venue};
use tickwire::venue::DiffOutcome;
use tickwire::venue::binance::{BinanceFrames, FrameKind, GapPolicy, SnapshotOutcome, books_for};

/// Counts allocations and reallocations made by threads that opted in.
struct CountingAlloc;

/// Allocations (and reallocations) seen while a thread was counting.
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Whether this thread's allocations are counted.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn note_allocation() {
    // `try_with`: the allocator can run while a thread's locals are torn down.
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees carry over; counting has no effect on
// the memory handed out.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: `ptr` and `layout` come from this allocator (the caller's contract).
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Allocations made by `f` on this thread.
fn allocations_in(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

#[test]
fn the_counter_sees_allocations() {
    // The instrument works: a boxed value and a growing vector are counted.
    let n = allocations_in(|| {
        let b = std::hint::black_box(Box::new(7u64));
        let mut v: Vec<u64> = Vec::with_capacity(1);
        v.extend_from_slice(&[1, 2, 3]);
        std::hint::black_box((b, v));
    });
    assert!(n >= 2, "{n}");
    assert_eq!(allocations_in(|| std::hint::black_box(())), 0);
}

/// Pre-generated frames in one buffer, so replaying them allocates nothing.
struct Frames {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Frames {
    fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    fn len(&self) -> usize {
        self.ends.len()
    }
}

/// `n` frames: 6 diffs, 2 bookTickers and 2 trades in every 10.
fn generate(sim: &mut MarketSim, n: usize) -> Frames {
    let mut frames = Frames {
        bytes: Vec::with_capacity(n * 320),
        ends: Vec::with_capacity(n),
    };
    let mut frame = Vec::new();
    for i in 0..n {
        match i % 10 {
            3 | 8 => sim.book_ticker(&mut frame),
            5 | 9 => sim.trade(&mut frame),
            _ => sim.depth_update(&mut frame),
        }
        frames.bytes.extend_from_slice(&frame);
        frames.ends.push(frames.bytes.len());
    }
    frames
}

fn run(venue: Venue, counted_frames: usize) {
    const ID: InstrumentId = InstrumentId(0);
    let mut cfg = MarketConfig::btcusdt(venue, 0x5eed);
    cfg.depth = 200;
    cfg.changes_per_diff = 10;
    let max_levels = 2 * (cfg.depth + cfg.depth / 10 + 1);
    let mut sim = MarketSim::new(cfg);

    // Everything is set up and generated before counting.
    let mut reg = Registry::new();
    reg.add(venue, "BTCUSDT", "0.01", "0.00001").unwrap();
    let mut books = books_for(&reg, 1_000, GapPolicy::Resync);
    let mut feed = BinanceFrames::new(venue, 1_000);
    let mut fan = FanOut::new(1, 2_000);
    let mut fast = fan.add_consumer(8_192);
    let mut slow = fan.add_consumer(snapshot_events(max_levels) + 16);
    let spec = BookSpec::new(1);
    let (mut fast_mirror, mut slow_mirror) = (BookMirror::new([spec]), BookMirror::new([spec]));

    let before = generate(&mut sim, 3);
    let mut snapshot = Vec::new();
    sim.snapshot(5_000, &mut snapshot);
    let warm_up = generate(&mut sim, 2_000);
    let counted = generate(&mut sim, counted_frames);

    // Warm-up: diffs buffered before the snapshot, the snapshot, then live
    // traffic (below).
    let mut now = 0;
    for i in 0..before.len() {
        let kind = feed.handle_frame(before.get(i), now, &reg, &mut books, &mut fan);
        assert!(matches!(kind, Ok(FrameKind::Depth(..))));
    }
    let outcome = feed.handle_snapshot(&snapshot, now, &reg, &mut books[0], &mut fan);
    assert_eq!(outcome, Ok(SnapshotOutcome::Synced));

    // One pass of the per-message path over `frames`.
    let mut pass = |frames: &Frames, now: &mut u64| {
        let mut drained = 0usize;
        for i in 0..frames.len() {
            *now += 1_000;
            let kind = feed.handle_frame(frames.get(i), *now, &reg, &mut books, &mut fan);
            assert!(
                matches!(
                    kind,
                    Ok(FrameKind::Depth(..) | FrameKind::Bbo(_) | FrameKind::Trade(_))
                ),
                "{kind:?}"
            );
            drained += fast.drain(|e| fast_mirror.apply(e));
            if i % 97 == 0 {
                slow.drain(|e| slow_mirror.apply(e));
                fan.service(*now, |id| books.get(id.index()).map(|b| b.state(*now)));
            }
        }
        drained
    };

    pass(&warm_up, &mut now);

    let mut drained = 0;
    let allocations = allocations_in(|| drained = pass(&counted, &mut now));
    assert_eq!(
        allocations, 0,
        "{venue}: allocations on the per-message path"
    );

    // The run did what it claims.
    assert!(drained >= counted.len(), "{venue}: {drained} events");
    assert_eq!(fast.dropped(), 0);
    assert!(slow.dropped() > 0, "{venue}: the slow consumer overflowed");
    slow.drain(|e| slow_mirror.apply(e));
    fan.service(now, |id| books.get(id.index()).map(|b| b.state(now)));
    slow.drain(|e| slow_mirror.apply(e));
    assert!(slow.resyncs() > 0);
    for mirror in [&fast_mirror, &slow_mirror] {
        assert!(
            same_levels(mirror.book(ID).unwrap(), &books[0].book),
            "{venue}"
        );
    }
    assert_eq!(feed.stats().decode_errors, 0);
    assert_eq!(
        feed.decoder().stats().fallback,
        0,
        "{venue}: every frame took the fast path"
    );
}

#[test]
fn spot_path_allocates_nothing_over_100k_frames() {
    run(Venue::BinanceSpot, 100_000);
}

#[test]
fn usdm_path_allocates_nothing_over_50k_frames() {
    run(Venue::BinanceUsdm, 50_000);
}

/// Every frame of the Bybit captures (books, tickers, trades, acks, klines)
/// through a warm `BybitSession` → `FanOut`, with its transmit side polled
/// (pings fall due): nothing allocates. The second pass replays the
/// snapshots mid-stream, so the venue-reset path runs while counting too.
#[test]
fn bybit_session_allocates_nothing_on_a_warm_session() {
    use tickwire::venue::bybit::BybitSession;
    use tickwire::venue::{Channel, PlannedInstrument, SessionPlan};
    for (venue, file) in [
        (Venue::BybitLinear, "ws_linear_all_frames_2026-08-09.jsonl"),
        (Venue::BybitSpot, "ws_spot_all_frames_2026-08-09.jsonl"),
    ] {
        let reg = bybit::registry();
        let text = bybit::lines(file);
        let frames = Frames {
            bytes: text.iter().flat_map(|l| l.bytes()).collect(),
            ends: text
                .iter()
                .scan(0, |end, l| {
                    *end += l.len();
                    Some(*end)
                })
                .collect(),
        };
        let instruments = reg
            .iter()
            .filter(|i| i.venue == venue)
            .map(|i| PlannedInstrument {
                id: i.id,
                symbol: i.symbol.to_string(),
            })
            .collect();
        let channels = vec![Channel::Depth, Channel::BookTicker, Channel::Trade];
        let plan = SessionPlan {
            venue,
            ws_url: String::new(),
            rest_url: String::new(),
            instruments,
            channels,
            depth_interval_ms: 100,
            depth: 200,
            url_streams: None,
            streams_per_subscribe: 10,
            control_per_sec: 5,
            book_capacity: 1_000,
            max_frame: tickwire::venue::profile(venue).max_frame_bytes,
        };
        let mut session = BybitSession::new(&plan);
        let mut books = books_for(&reg, 1_000, GapPolicy::Resync);
        let mut fan = FanOut::new(reg.len(), 2_000);
        let mut consumer = fan.add_consumer(1 << 16);
        let mut buf = String::with_capacity(4_096);
        session.handle_open(0, &mut books);
        let mut pass = |now: &mut u64| {
            let mut sent = 0;
            for i in 0..frames.len() {
                *now += 50_000_000;
                let kind = session.handle_text(frames.get(i), *now, &reg, &mut books, &mut fan);
                assert!(kind.is_ok(), "{kind:?}");
                sent += usize::from(session.poll_transmit(*now, &mut books, &mut buf));
                consumer.drain(|e| {
                    std::hint::black_box(e);
                });
            }
            sent
        };
        let mut now = 0;
        pass(&mut now);
        let mut sent = 0;
        let allocations = allocations_in(|| sent = pass(&mut now));
        assert_eq!(
            allocations, 0,
            "{venue}: allocations on the per-message path"
        );
        assert!(sent > 0, "{venue}: pings went out while counting");
        assert!(
            books.iter().any(|b| b.sync.stats().applied > 300),
            "{venue}"
        );
        assert_eq!(session.stats().decode_errors, 0);
    }
}

#[test]
fn okx_session_allocates_nothing_on_the_capture() {
    use tickwire::venue::okx::OkxSession;
    use tickwire::venue::{Channel, PlannedInstrument, SessionPlan};
    let mut reg = Registry::new();
    for (sym, tick, lot) in [
        ("BTC-USDT", "0.1", "0.00000001"),
        ("UNI-USD-SWAP", "0.001", "1"),
        ("BTC-USD-220527", "0.1", "1"),
    ] {
        reg.add(Venue::Okx, sym, tick, lot).unwrap();
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/okx");
    let text = std::fs::read_to_string(format!("{path}/ws_public_all_frames_2022-05-13.jsonl"));
    let mut frames = Frames {
        bytes: Vec::new(),
        ends: Vec::new(),
    };
    for line in text.unwrap().lines().chain(["pong"]) {
        frames.bytes.extend_from_slice(line.as_bytes());
        frames.ends.push(frames.bytes.len());
    }
    let instruments = reg.iter().map(|i| PlannedInstrument {
        id: i.id,
        symbol: i.symbol.as_str().to_owned(),
    });
    let mut session = OkxSession::new(&SessionPlan {
        venue: Venue::Okx,
        ws_url: String::new(),
        rest_url: String::new(),
        instruments: instruments.collect(),
        channels: vec![Channel::Depth, Channel::BookTicker, Channel::Trade],
        depth_interval_ms: 100,
        depth: 400,
        url_streams: None,
        streams_per_subscribe: 30,
        control_per_sec: 2,
        book_capacity: 1_000,
        max_frame: tickwire::venue::okx::DEFAULT_MAX_FRAME,
    });
    let mut books = books_for(&reg, 1_000, GapPolicy::Resync);
    let mut fan = FanOut::new(3, 2_000);
    let mut consumer = fan.add_consumer(1 << 14);
    let mut out = String::with_capacity(4_096);
    let mut now = 1;
    session.handle_open(now, &mut books);
    let mut pass = |now: &mut u64| {
        assert!(session.poll_transmit(*now, &mut books, &mut out));
        for i in 0..frames.len() {
            *now += 1_000_000;
            let kind = session.handle_text(frames.get(i), *now, &reg, &mut books, &mut fan);
            assert!(!matches!(
                kind,
                Err(_) | Ok(FrameKind::Depth(_, DiffOutcome::ChecksumMismatch { .. }))
            ));
            consumer.drain(|_| {});
        }
        session.handle_closed(*now);
        session.handle_open(*now, &mut books);
    };
    pass(&mut now);
    assert_eq!(
        allocations_in(|| (0..3).for_each(|_| pass(&mut now))),
        0,
        "okx: allocations on the per-message path"
    );
    // Four passes over the capture: every update applied, none refused.
    let applied: Vec<u64> = books.iter().map(|b| b.sync.stats().applied).collect();
    assert_eq!(applied, [4 * 97, 4 * 92, 4 * 98]);
}

/// The whole Coinbase connection of the capture (1,030 frames of every
/// channel, both whole-book snapshots — BTC-USD's is 5 MB in one frame —
/// included) through a `CoinbaseSession` → `FanOut`: after start-up, with
/// the decoder's buffers sized once for `max_frame` and only the small
/// frames seen before, nothing allocates, the snapshots' first sight
/// included; and again on a second connection.
#[test]
fn coinbase_path_allocates_nothing_whole_book_snapshots_included() {
    use std::io::Read;
    use tickwire::venue::{Channel, PlannedInstrument, SessionPlan};

    let mut reg = Registry::new();
    for sym in ["BTC-USD", "ETH-USD"] {
        reg.add(Venue::Coinbase, sym, "0.01", "0.00000001").unwrap();
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/coinbase/raw/cryptofeed_v3_COINBASE.jsonl.zst"
    );
    let mut text = String::new();
    zstd::Decoder::new(std::fs::File::open(path).unwrap())
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let (mut all, mut small) = (
        Frames {
            bytes: Vec::new(),
            ends: Vec::new(),
        },
        Frames {
            bytes: Vec::new(),
            ends: Vec::new(),
        },
    );
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["t"] != "recv" {
            continue;
        }
        let frame = v["data"].as_str().unwrap().as_bytes();
        all.bytes.extend_from_slice(frame);
        all.ends.push(all.bytes.len());
        if !frame.starts_with(br#"{"channel":"l2_data""#) {
            small.bytes.extend_from_slice(frame);
            small.ends.push(small.bytes.len());
        }
    }
    assert_eq!(all.len(), 1030);
    let biggest = (0..all.len()).map(|i| all.get(i).len()).max().unwrap();
    assert!(biggest > 5_000_000, "{biggest}");
    let instruments = reg.iter().map(|i| PlannedInstrument {
        id: i.id,
        symbol: i.symbol.as_str().to_owned(),
    });
    let mut session = tickwire::venue::coinbase::CoinbaseSession::new(&SessionPlan {
        venue: Venue::Coinbase,
        ws_url: String::new(),
        rest_url: String::new(),
        instruments: instruments.collect(),
        channels: vec![Channel::Depth, Channel::BookTicker, Channel::Trade],
        depth_interval_ms: 0,
        depth: 5_000,
        url_streams: None,
        streams_per_subscribe: 100,
        control_per_sec: 7,
        book_capacity: 5_000,
        max_frame: tickwire::venue::coinbase::DEFAULT_MAX_FRAME,
    });
    let mut books = books_for(&reg, 5_000, GapPolicy::Resync);
    let mut fan = FanOut::new(2, 2_000);
    let mut consumer = fan.add_consumer(1 << 15);
    let mut out = String::with_capacity(4_096);
    let mut now = 1;
    // One connection: open, every frame of `frames`, closed.
    let mut pass =
        |frames: &Frames, now: &mut u64, books: &mut Vec<tickwire::venue::InstrumentBook>| {
            session.handle_open(*now, books);
            for i in 0..frames.len() {
                *now += 1_000_000;
                while session.poll_transmit(*now, books, &mut out) {}
                let kind = session.handle_text(frames.get(i), *now, &reg, books, &mut fan);
                assert!(kind.is_ok(), "{kind:?}");
                consumer.drain(|_| {});
            }
            session.handle_closed(*now);
        };
    // Start-up: the small frames (tape path) once, on a first connection.
    pass(&small, &mut now, &mut books);
    // (Its frames skip the l2_data ones: `sequence_num` jumps there.)
    let warm_gaps: Vec<u64> = books.iter().map(|b| b.sync.stats().gaps).collect();
    assert_eq!(
        allocations_in(|| pass(&all, &mut now, &mut books)),
        0,
        "coinbase: allocations on the per-message path"
    );
    assert_eq!(
        allocations_in(|| pass(&all, &mut now, &mut books)),
        0,
        "coinbase: allocations on a second connection"
    );
    let decode = session.decode_stats();
    // Both passes: every update applied on top of its snapshot, no gap.
    for b in &books {
        let s = b.sync.stats();
        assert_eq!(s.snapshots, 2);
    }
    let gaps: Vec<u64> = books.iter().map(|b| b.sync.stats().gaps).collect();
    assert_eq!(gaps, warm_gaps);
    let applied: Vec<u64> = books.iter().map(|b| b.sync.stats().applied).collect();
    assert_eq!(applied, [2 * 399, 2 * 374]);
    // The l2_data frames all took the fast path; the others the tape.
    assert_eq!(decode.fast, 2 * 775);
    assert_eq!(decode.fallback, 3 * small.len() as u64);
}

#[test]
fn kraken_session_allocates_nothing_on_the_captures_and_generated_frames() {
    use tickwire::venue::kraken::KrakenSession;
    use tickwire::venue::{Channel, PlannedInstrument, SessionPlan};
    let mut reg = Registry::new();
    for (sym, tick, lot) in [
        ("BTC/USD", "0.1", "0.00000001"),
        ("MINA/GBP", "0.0001", "0.00000001"),
        ("ETH/USD", "0.01", "0.00001"),
    ] {
        reg.add(Venue::Kraken, sym, tick, lot).unwrap();
    }
    let mut frames = Frames {
        bytes: Vec::new(),
        ends: Vec::new(),
    };
    let mut push = |f: &[u8]| {
        frames.bytes.extend_from_slice(f);
        frames.ends.push(frames.bytes.len());
    };
    // One session subscribes one depth: MINA/GBP's capture (25) here.
    for name in [kraken_util::MINA] {
        for f in kraken_util::frames(name) {
            push(f.as_bytes());
        }
    }
    // Generated ETH/USD book updates (depth 25), tickers and trades, with
    // one bad checksum (resync: the next pass's subscribe brings a snapshot).
    let mut cfg = MarketConfig::btcusdt(Venue::Kraken, 11);
    cfg.symbol = "ETH/USD".to_owned();
    let mut sim = MarketSim::new(cfg);
    let mut buf = Vec::new();
    sim.kraken_snapshot(25, &mut buf);
    push(&buf);
    let mut views = vec![Vec::new()];
    for n in 0..2_000 {
        match n % 10 {
            0..=5 => {
                sim.kraken_updates(&[25], n == 1_995, &mut views);
                push(&views[0]);
            }
            6 | 7 => {
                sim.kraken_ticker(&mut buf);
                push(&buf);
            }
            _ => {
                sim.kraken_trade(&mut buf);
                push(&buf);
            }
        }
    }
    push(br#"{"method":"pong","req_id":1,"time_in":"2023-09-25T09:05:00.123456Z","time_out":"2023-09-25T09:05:00.123500Z"}"#);
    let instruments = reg.iter().map(|i| PlannedInstrument {
        id: i.id,
        symbol: i.symbol.as_str().to_owned(),
    });
    let plan = SessionPlan {
        venue: Venue::Kraken,
        ws_url: String::new(),
        rest_url: String::new(),
        instruments: instruments.collect(),
        channels: vec![Channel::Depth, Channel::BookTicker, Channel::Trade],
        depth_interval_ms: 0,
        depth: 25,
        url_streams: None,
        streams_per_subscribe: 50,
        control_per_sec: 5,
        book_capacity: 1_000,
        max_frame: tickwire::venue::profile(Venue::Kraken).max_frame_bytes,
    };
    let mut session = KrakenSession::new(&plan);
    let mut books = books_for(&reg, 1_000, GapPolicy::Resync);
    let mut fan = FanOut::new(3, 2_000);
    let mut consumer = fan.add_consumer(1 << 14);
    let mut out = String::with_capacity(4_096);
    let mut now = 1;
    session.handle_open(now, &mut books);
    let mut mismatches = 0;
    let mut pass = |now: &mut u64| {
        for _ in 0..5 {
            *now += 1_000_000_000;
            session.poll_transmit(*now, &mut books, &mut out);
        }
        for i in 0..frames.len() {
            *now += 1_000_000;
            let kind = session.handle_text(frames.get(i), *now, &reg, &mut books, &mut fan);
            match kind {
                Ok(FrameKind::Depth(_, DiffOutcome::ChecksumMismatch { .. })) => mismatches += 1,
                Ok(_) => {}
                Err(e) => panic!("{e}"),
            }
            consumer.drain(|_| {});
        }
        // The resubscribe and a ping after silence.
        for _ in 0..3 {
            *now += 11_000_000_000;
            session.poll_transmit(*now, &mut books, &mut out);
        }
        session.handle_closed(*now);
        session.handle_open(*now, &mut books);
    };
    pass(&mut now);
    assert_eq!(
        allocations_in(|| (0..3).for_each(|_| pass(&mut now))),
        0,
        "kraken: allocations on the per-message path"
    );
    // Four passes: the capture's 29 updates and the generated 1,200 (the
    // last one applied, then refused by its checksum) each time.
    let applied: Vec<u64> = books.iter().map(|b| b.sync.stats().applied).collect();
    assert_eq!(applied, [0, 4 * 29, 4 * 1_200]);
    assert_eq!(mismatches, 4);
    assert_eq!(session.stats().decode_errors, 0);
}
