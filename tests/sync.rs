//! Binance's book-sync rules on hand-made edge cases, spot and USD-M: frames
//! are written as JSON text and go through `BinanceDecoder` + `BookSync`
//! (or the whole `BinanceFrames`), exactly as on the feed thread.
//!
//! | step | spot | USD-M |
//! |---|---|---|
//! | snapshot too old | `L + 1 < U` of the first buffered diff | `L < U` |
//! | dropped | `u <= L` | `u < L` |
//! | first applied | `U <= L + 1 <= u` | `U <= L <= u` |
//! | later | gap if `U > id + 1` or `u < id` | gap unless `pu == id` |

mod util;

use tickwire::book::{BookError, BookRead, BookSpec, Ladder, LevelAt};
use tickwire::ring::EventBatch;
use tickwire::types::{Body, Event, InstrumentId, Registry, ResyncReason, Side, StatusCode, Venue};
use tickwire::venue::binance::{
    BinanceDecoder, BinanceFrames, BinanceMsg, BookSync, DiffOutcome, FrameKind, GapPolicy,
    InstrumentBook, SnapshotOutcome, SnapshotReply, SyncLimits,
};
use util::{depth_json, side_levels, snapshot_json};

const SYMBOL: &str = "BTCUSDT";

/// Decoder, sync machine and book of one instrument (tick 0.01, lot 0.001
/// unless told otherwise), with the batch of the last call.
struct Harness {
    venue: Venue,
    reg: Registry,
    id: InstrumentId,
    dec: BinanceDecoder,
    sync: BookSync,
    book: Ladder,
    batch: EventBatch,
}

impl Harness {
    fn new(venue: Venue, policy: GapPolicy) -> Harness {
        Harness::with(venue, policy, "0.01", SyncLimits::default())
    }

    fn with(venue: Venue, policy: GapPolicy, tick: &str, limits: SyncLimits) -> Harness {
        let mut reg = Registry::new();
        let id = reg.add(venue, SYMBOL, tick, "0.001").expect("instrument");
        let tick = reg.get(id).tick;
        Harness {
            venue,
            id,
            dec: BinanceDecoder::new(venue),
            sync: BookSync::new(venue, id, policy, limits),
            book: Ladder::new(BookSpec::new(tick).with_window(64)),
            batch: EventBatch::with_capacity(1024),
            reg,
        }
    }

    /// Feeds one diff (`prev` is `pu`, ignored on spot).
    fn diff(
        &mut self,
        first: u64,
        last: u64,
        prev: u64,
        bids: &[(&str, &str)],
        asks: &[(&str, &str)],
    ) -> DiffOutcome {
        let frame = depth_json(self.venue, SYMBOL, first, last, Some(prev), bids, asks);
        self.batch.clear();
        let msg = self
            .dec
            .decode(frame.as_bytes(), &self.reg.venue(self.venue))
            .expect("frame decodes");
        let BinanceMsg::Depth(d) = msg else {
            panic!("not a depth frame: {msg:?}");
        };
        self.sync
            .handle_diff(&d, &mut self.book, &mut self.batch, 1_000)
    }

    fn snapshot(
        &mut self,
        last: u64,
        bids: &[(&str, &str)],
        asks: &[(&str, &str)],
    ) -> SnapshotOutcome {
        let body = snapshot_json(self.venue, last, bids, asks);
        self.batch.clear();
        let scaling = self.reg.get(self.id).scaling();
        let reply = self
            .dec
            .decode_snapshot(body.as_bytes(), scaling)
            .expect("snapshot decodes");
        let SnapshotReply::Book(s) = reply else {
            panic!("not a book: {reply:?}");
        };
        self.sync
            .handle_snapshot(&s, &mut self.book, &mut self.batch, 2_000)
    }

    fn bids(&self) -> Vec<(i64, i64)> {
        side_levels(&self.book, Side::Bid)
    }

    fn asks(&self) -> Vec<(i64, i64)> {
        side_levels(&self.book, Side::Ask)
    }

    fn statuses(&self) -> Vec<(StatusCode, i64, i64, bool)> {
        statuses(self.batch.events())
    }

    fn levels_staged(&self) -> Vec<(Side, i64, i64)> {
        level_events(self.batch.events())
    }
}

fn statuses(events: &[Event]) -> Vec<(StatusCode, i64, i64, bool)> {
    events
        .iter()
        .filter_map(|e| match e.body() {
            Body::Status(s) => Some((s.code, s.a, s.b, s.end_of_batch)),
            _ => None,
        })
        .collect()
}

fn level_events(events: &[Event]) -> Vec<(Side, i64, i64)> {
    events
        .iter()
        .filter_map(|e| match e.body() {
            Body::Level(l) => Some((l.side, l.price.0, l.qty.0)),
            _ => None,
        })
        .collect()
}

/// The book every test starts from: two bids, two asks.
const BIDS: [(&str, &str); 2] = [("100.00", "1.000"), ("99.50", "2.000")];
const ASKS: [(&str, &str); 2] = [("101.00", "3.000"), ("102.00", "4.000")];

/// A harness synced on snapshot `last` with [`BIDS`] / [`ASKS`] and no diff.
fn synced(venue: Venue, policy: GapPolicy, last: u64) -> Harness {
    let mut h = Harness::new(venue, policy);
    assert_eq!(h.snapshot(last, &BIDS, &ASKS), SnapshotOutcome::Synced);
    assert!(h.sync.is_synced());
    h
}

/// A harness synced on snapshot 100 and then live at `id` after one diff
/// that sets bid 98.00 to 5.
fn live(venue: Venue, policy: GapPolicy, id: u64) -> Harness {
    let mut h = synced(venue, policy, 100);
    assert_eq!(
        h.diff(95, id, 90, &[("98.00", "5.000")], &[]),
        DiffOutcome::Applied
    );
    assert_eq!(h.sync.last_id(), Some(id));
    h
}

// --------------------------------------------------------------------------
// Buffering before the snapshot.
// --------------------------------------------------------------------------

#[test]
fn spot_diffs_are_buffered_until_the_snapshot_then_bridged() {
    let mut h = Harness::new(Venue::BinanceSpot, GapPolicy::Resync);
    // Stale against L = 100: must never reach the book.
    assert_eq!(
        h.diff(95, 100, 0, &[("97.00", "7.000")], &[]),
        DiffOutcome::Buffered
    );
    // Straddles L + 1 = 101.
    assert_eq!(
        h.diff(101, 103, 0, &[("100.00", "0")], &[("101.00", "9.000")]),
        DiffOutcome::Buffered
    );
    assert_eq!(
        h.diff(104, 105, 0, &[("99.00", "6.000")], &[]),
        DiffOutcome::Buffered
    );
    assert!(h.batch.is_empty(), "nothing is published while buffering");
    assert_eq!(h.book.depth(Side::Bid) + h.book.depth(Side::Ask), 0);
    assert!(!h.sync.is_synced());
    assert_eq!(h.sync.last_id(), None);

    assert_eq!(h.snapshot(100, &BIDS, &ASKS), SnapshotOutcome::Synced);
    assert_eq!(h.sync.last_id(), Some(105));
    assert_eq!(h.bids(), vec![(9_950, 2_000), (9_900, 6_000)]);
    assert_eq!(h.asks(), vec![(10_100, 9_000), (10_200, 4_000)]);
    let stats = h.sync.stats();
    assert_eq!((stats.stale, stats.applied, stats.snapshots), (1, 2, 1));

    // One full snapshot of the bridged book, not per-diff events.
    let events = h.batch.events();
    assert_eq!(
        statuses(events),
        vec![
            (StatusCode::SnapshotBegin, 0, 0, false),
            (StatusCode::SnapshotEnd, 4, 0, true)
        ]
    );
    assert_eq!(
        level_events(events),
        vec![
            (Side::Bid, 9_950, 2_000),
            (Side::Bid, 9_900, 6_000),
            (Side::Ask, 10_100, 9_000),
            (Side::Ask, 10_200, 4_000),
        ]
    );
    assert!(
        events.iter().all(|e| e.seq == 105),
        "snapshot stamped with the book id"
    );
    assert!(
        events[1..5]
            .iter()
            .all(|e| matches!(e.body(), Body::Level(l) if l.snapshot))
    );
}

#[test]
fn usdm_diffs_are_buffered_until_the_snapshot_then_bridged() {
    let mut h = Harness::new(Venue::BinanceUsdm, GapPolicy::Resync);
    // u < L: dropped.
    assert_eq!(
        h.diff(90, 99, 80, &[("97.00", "7.000")], &[]),
        DiffOutcome::Buffered
    );
    // U <= L <= u with u == L: the bridging diff.
    assert_eq!(
        h.diff(99, 100, 99, &[("100.00", "0")], &[("101.00", "9.000")]),
        DiffOutcome::Buffered
    );
    // Ids skip; only `pu` chains.
    assert_eq!(
        h.diff(140, 150, 100, &[("99.00", "6.000")], &[]),
        DiffOutcome::Buffered
    );
    assert!(h.batch.is_empty());
    assert_eq!(h.snapshot(100, &BIDS, &ASKS), SnapshotOutcome::Synced);
    assert_eq!(h.sync.last_id(), Some(150));
    assert_eq!(h.bids(), vec![(9_950, 2_000), (9_900, 6_000)]);
    assert_eq!(h.asks(), vec![(10_100, 9_000), (10_200, 4_000)]);
    let stats = h.sync.stats();
    assert_eq!((stats.stale, stats.applied, stats.snapshots), (1, 2, 1));
}

#[test]
fn a_full_pre_snapshot_buffer_drops_its_oldest_diffs() {
    let limits = SyncLimits {
        buffer_diffs: 2,
        buffer_levels: 100,
    };
    let mut h = Harness::with(Venue::BinanceSpot, GapPolicy::Resync, "0.01", limits);
    assert_eq!(
        h.diff(101, 101, 0, &[("97.00", "7.000")], &[]),
        DiffOutcome::Buffered
    );
    assert_eq!(
        h.diff(102, 102, 0, &[("96.00", "7.000")], &[]),
        DiffOutcome::Buffered
    );
    assert_eq!(
        h.diff(103, 103, 0, &[("95.00", "7.000")], &[]),
        DiffOutcome::Buffered
    );
    assert_eq!(h.sync.stats().buffer_dropped, 1);
    // The first kept diff starts at 102: a snapshot at 100 no longer bridges.
    assert_eq!(h.snapshot(100, &BIDS, &ASKS), SnapshotOutcome::TooOld);
    assert_eq!(h.snapshot(101, &BIDS, &ASKS), SnapshotOutcome::Synced);
    assert_eq!(
        h.bids(),
        vec![
            (10_000, 1_000),
            (9_950, 2_000),
            (9_600, 7_000),
            (9_500, 7_000)
        ]
    );
}

// --------------------------------------------------------------------------
// Stale diffs and the first (bridging) diff.
// --------------------------------------------------------------------------

#[test]
fn spot_drops_diffs_up_to_the_snapshot_id() {
    let mut h = synced(Venue::BinanceSpot, GapPolicy::Resync, 100);
    for (first, last) in [(90, 99), (95, 100), (100, 100)] {
        assert_eq!(
            h.diff(first, last, 0, &[("100.00", "0")], &[]),
            DiffOutcome::Stale,
            "[{first}, {last}] against L = 100"
        );
        assert!(h.batch.is_empty());
    }
    assert_eq!(h.bids(), vec![(10_000, 1_000), (9_950, 2_000)]);
    assert_eq!(h.sync.stats().stale, 3);
    assert_eq!(h.sync.last_id(), Some(100));
}

#[test]
fn usdm_drops_diffs_below_the_snapshot_id_only() {
    let mut h = synced(Venue::BinanceUsdm, GapPolicy::Resync, 100);
    assert_eq!(
        h.diff(90, 99, 80, &[("100.00", "0")], &[]),
        DiffOutcome::Stale
    );
    assert_eq!(h.bids(), vec![(10_000, 1_000), (9_950, 2_000)]);
    // u == L still bridges on futures.
    assert_eq!(
        h.diff(95, 100, 94, &[("100.00", "0")], &[]),
        DiffOutcome::Applied
    );
    assert_eq!(h.bids(), vec![(9_950, 2_000)]);
}

#[test]
fn spot_first_diff_must_straddle_the_snapshot_id_plus_one() {
    for (first, last) in [(101, 101), (90, 110), (101, 150), (100, 101)] {
        let mut h = synced(Venue::BinanceSpot, GapPolicy::Resync, 100);
        assert_eq!(
            h.diff(first, last, 0, &[("98.00", "5.000")], &[]),
            DiffOutcome::Applied,
            "[{first}, {last}]"
        );
        assert_eq!(h.sync.last_id(), Some(last));
        assert_eq!(h.levels_staged(), vec![(Side::Bid, 9_800, 5_000)]);
        assert!(h.batch.events().last().unwrap().end_of_batch());
    }
    let mut h = synced(Venue::BinanceSpot, GapPolicy::Resync, 100);
    assert_eq!(
        h.diff(102, 105, 0, &[("98.00", "5.000")], &[]),
        DiffOutcome::Gap {
            expected: 101,
            got: 102
        }
    );
}

#[test]
fn usdm_first_diff_must_straddle_the_snapshot_id() {
    for (first, last) in [(100, 100), (90, 110), (100, 150), (50, 100)] {
        let mut h = synced(Venue::BinanceUsdm, GapPolicy::Resync, 100);
        assert_eq!(
            h.diff(first, last, 7, &[("98.00", "5.000")], &[]),
            DiffOutcome::Applied,
            "[{first}, {last}]"
        );
        assert_eq!(h.sync.last_id(), Some(last));
    }
    let mut h = synced(Venue::BinanceUsdm, GapPolicy::Resync, 100);
    assert_eq!(
        h.diff(101, 105, 100, &[("98.00", "5.000")], &[]),
        DiffOutcome::Gap {
            expected: 100,
            got: 101
        }
    );
}

#[test]
fn buffered_diffs_that_do_not_bridge_are_a_gap_at_snapshot_time() {
    // Spot: the diff after the stale one skips 101.
    let mut h = Harness::new(Venue::BinanceSpot, GapPolicy::Resync);
    h.diff(90, 100, 0, &[], &[]);
    h.diff(102, 103, 0, &[("98.00", "5.000")], &[]);
    assert_eq!(
        h.snapshot(100, &BIDS, &ASKS),
        SnapshotOutcome::Gap {
            expected: 101,
            got: 102
        }
    );
    assert_eq!(
        h.statuses(),
        vec![
            (StatusCode::Gap, 101, 102, false),
            (StatusCode::Resync, ResyncReason::Gap as i64, 0, true)
        ]
    );
    assert!(h.levels_staged().is_empty());
    assert!(!h.sync.is_synced());
    assert_eq!(h.book.depth(Side::Bid) + h.book.depth(Side::Ask), 0);
    assert!(h.sync.take_snapshot_request());
    // The breaking diff was kept: a snapshot it bridges syncs.
    assert_eq!(h.snapshot(102, &BIDS, &ASKS), SnapshotOutcome::Synced);
    assert_eq!(h.sync.last_id(), Some(103));
    assert_eq!(
        h.bids(),
        vec![(10_000, 1_000), (9_950, 2_000), (9_800, 5_000)]
    );

    // USD-M: the second buffered diff does not chain on the first.
    let mut h = Harness::new(Venue::BinanceUsdm, GapPolicy::Resync);
    h.diff(95, 105, 90, &[], &[]);
    h.diff(110, 120, 106, &[("98.00", "5.000")], &[]);
    assert_eq!(
        h.snapshot(100, &BIDS, &ASKS),
        SnapshotOutcome::Gap {
            expected: 105,
            got: 106
        }
    );
    assert!(!h.sync.is_synced());
}

// --------------------------------------------------------------------------
// Continuity once live.
// --------------------------------------------------------------------------

#[test]
fn spot_continuity_allows_overlap_and_reports_skips() {
    let mut h = live(Venue::BinanceSpot, GapPolicy::Resync, 105);
    // Overlap (U <= id < u) is applied.
    assert_eq!(
        h.diff(103, 108, 0, &[("98.00", "8.000")], &[]),
        DiffOutcome::Applied
    );
    assert_eq!(h.sync.last_id(), Some(108));
    // u == id is not "u < id": applied (absolute quantities make it idempotent).
    assert_eq!(
        h.diff(107, 108, 0, &[("98.00", "8.000")], &[]),
        DiffOutcome::Applied
    );
    // Exactly id + 1 chains.
    assert_eq!(
        h.diff(109, 109, 0, &[], &[("100.50", "1.000")]),
        DiffOutcome::Applied
    );
    assert_eq!(h.asks()[0], (10_050, 1_000));
    // U > id + 1 is a gap.
    assert_eq!(
        h.diff(111, 112, 0, &[], &[]),
        DiffOutcome::Gap {
            expected: 110,
            got: 111
        }
    );
    let stats = h.sync.stats();
    assert_eq!((stats.stale, stats.gaps), (0, 1));
}

/// Regression (hostile venue): one correctly chained diff with a huge `u`
/// made every later diff "stale" (`u < id`, ignored as documented for the
/// bridge), the book froze for good with the session live. Once live, a
/// spot stream never goes back: a diff that ends before the book's id is a
/// gap, and the book is rebuilt.
#[test]
fn spot_live_diff_behind_the_book_is_a_gap() {
    let mut h = live(Venue::BinanceSpot, GapPolicy::Resync, 105);
    // The lie: chains (U == id + 1) but jumps far ahead.
    assert_eq!(
        h.diff(106, 9_000_000_000, 0, &[("98.00", "6.000")], &[]),
        DiffOutcome::Applied
    );
    // The stream goes on from where it really is.
    assert_eq!(
        h.diff(107, 108, 0, &[("98.00", "7.000")], &[]),
        DiffOutcome::Gap {
            expected: 9_000_000_001,
            got: 107
        }
    );
    assert_eq!(
        h.statuses(),
        vec![
            (StatusCode::Gap, 9_000_000_001, 107, false),
            (StatusCode::Resync, ResyncReason::Gap as i64, 0, true)
        ]
    );
    assert!(!h.sync.is_synced());
    assert!(h.sync.take_snapshot_request());
    // While bridging, diffs older than the snapshot are still ignored as
    // documented (the stream may lag the REST snapshot).
    let mut h = synced(Venue::BinanceSpot, GapPolicy::Resync, 100);
    assert_eq!(h.diff(90, 95, 0, &[], &[]), DiffOutcome::Stale);
    assert!(h.sync.is_synced());
}

/// Regression (hostile venue): `resyncs` counted every failed connection
/// attempt of a book that had never synced. Discarding a book that held
/// nothing usable is not a resync.
#[test]
fn resyncs_count_only_books_that_were_synced() {
    let mut h = Harness::new(Venue::BinanceSpot, GapPolicy::Resync);
    for _ in 0..5 {
        h.batch.clear();
        h.sync
            .resync(ResyncReason::Reconnect, &mut h.book, &mut h.batch, 1);
    }
    assert_eq!(h.sync.stats().resyncs, 0);
    let mut h = synced(Venue::BinanceSpot, GapPolicy::Resync, 100);
    h.sync
        .resync(ResyncReason::Reconnect, &mut h.book, &mut h.batch, 1);
    h.sync
        .resync(ResyncReason::Reconnect, &mut h.book, &mut h.batch, 2);
    assert_eq!(h.sync.stats().resyncs, 1);
}

/// What a failed connection must reset: a synced book, or diffs buffered
/// since the last reset — including the diff that broke the chain, which
/// is kept for the next snapshot (it must not survive a reconnect).
#[test]
fn a_book_holds_something_once_synced_or_buffering() {
    let mut h = Harness::new(Venue::BinanceSpot, GapPolicy::Resync);
    assert!(!h.sync.holds_anything());
    assert_eq!(h.diff(101, 101, 0, &[], &[]), DiffOutcome::Buffered);
    assert!(h.sync.holds_anything());
    h.sync
        .resync(ResyncReason::Reconnect, &mut h.book, &mut h.batch, 1);
    assert!(!h.sync.holds_anything());
    let mut h = live(Venue::BinanceSpot, GapPolicy::Resync, 105);
    assert!(h.sync.holds_anything());
    assert!(matches!(
        h.diff(200, 201, 0, &[], &[]),
        DiffOutcome::Gap { .. }
    ));
    assert!(!h.sync.is_synced());
    assert!(h.sync.holds_anything(), "the gapped diff is buffered");
}

#[test]
fn usdm_chains_on_pu_and_lets_ids_skip() {
    let mut h = live(Venue::BinanceUsdm, GapPolicy::Resync, 104);
    assert_eq!(
        h.diff(200, 210, 104, &[("98.00", "0")], &[]),
        DiffOutcome::Applied,
        "ids skip, pu chains"
    );
    assert_eq!(h.sync.last_id(), Some(210));
    assert_eq!(
        h.diff(211, 220, 209, &[], &[]),
        DiffOutcome::Gap {
            expected: 210,
            got: 209
        }
    );
}

// --------------------------------------------------------------------------
// Snapshot requests.
// --------------------------------------------------------------------------

#[test]
fn snapshot_too_old_is_refused_and_fetched_again() {
    // (venue, refused L, accepted L) for a first buffered diff [200, 205].
    for (venue, too_old, fits) in [
        (Venue::BinanceSpot, 198, 199),
        (Venue::BinanceUsdm, 199, 200),
    ] {
        let mut h = Harness::new(venue, GapPolicy::Resync);
        h.diff(200, 205, 150, &[("98.00", "5.000")], &[]);
        assert!(h.sync.take_snapshot_request());
        assert_eq!(
            h.snapshot(too_old, &BIDS, &ASKS),
            SnapshotOutcome::TooOld,
            "{venue}"
        );
        assert!(h.batch.is_empty());
        assert_eq!(
            h.book.depth(Side::Bid),
            0,
            "{venue}: refused snapshot not loaded"
        );
        assert!(h.sync.take_snapshot_request(), "{venue}: fetched again");
        assert!(!h.sync.take_snapshot_request());
        assert_eq!(
            h.snapshot(fits, &BIDS, &ASKS),
            SnapshotOutcome::Synced,
            "{venue}"
        );
        assert_eq!(h.sync.last_id(), Some(205));
        assert_eq!(h.sync.stats().snapshot_retries, 1);
        assert_eq!(h.bids().last(), Some(&(9_800, 5_000)));
    }
}

#[test]
fn snapshot_requests_are_deduplicated_while_in_flight() {
    let mut h = Harness::new(Venue::BinanceSpot, GapPolicy::Resync);
    assert!(!h.sync.take_snapshot_request(), "nothing asked yet");
    h.diff(10, 11, 0, &[], &[]);
    assert!(h.sync.take_snapshot_request());
    assert!(h.sync.snapshot_in_flight());
    assert!(!h.sync.take_snapshot_request(), "once per request");
    h.diff(12, 13, 0, &[], &[]);
    h.sync.request_snapshot();
    assert!(!h.sync.take_snapshot_request(), "one in flight at a time");
    h.sync.snapshot_failed();
    assert!(!h.sync.snapshot_in_flight());
    assert!(
        h.sync.take_snapshot_request(),
        "a failed request is retried"
    );
    assert!(!h.sync.take_snapshot_request());
    assert_eq!(h.snapshot(11, &BIDS, &ASKS), SnapshotOutcome::Synced);
    assert!(!h.sync.snapshot_in_flight());
    h.sync.request_snapshot();
    assert!(
        !h.sync.take_snapshot_request(),
        "synced: no snapshot needed"
    );
    // A late duplicate is ignored.
    assert_eq!(h.snapshot(11, &[], &[]), SnapshotOutcome::Ignored);
    assert_eq!(h.sync.last_id(), Some(13));
    assert_eq!(h.bids().len(), 2);
}

// --------------------------------------------------------------------------
// Gap policies.
// --------------------------------------------------------------------------

#[test]
fn a_gap_under_resync_discards_the_book_and_syncs_again() {
    // (venue, gap diff [U, u, pu], next diff, snapshot id)
    for (venue, gap, next) in [
        (Venue::BinanceSpot, (110, 112, 0), (113, 115, 0)),
        (Venue::BinanceUsdm, (110, 112, 103), (113, 115, 112)),
    ] {
        let mut h = live(venue, GapPolicy::Resync, 105);
        let outcome = h.diff(gap.0, gap.1, gap.2, &[("97.00", "3.000")], &[]);
        let (expected, got) = match venue {
            Venue::BinanceSpot => (106, 110),
            _ => (105, 103),
        };
        assert_eq!(outcome, DiffOutcome::Gap { expected, got }, "{venue}");
        assert_eq!(
            h.statuses(),
            vec![
                (StatusCode::Gap, expected as i64, got as i64, false),
                (StatusCode::Resync, ResyncReason::Gap as i64, 0, true)
            ],
            "{venue}"
        );
        assert!(
            h.levels_staged().is_empty(),
            "{venue}: the gapped diff is not published"
        );
        assert_eq!(
            h.book.depth(Side::Bid) + h.book.depth(Side::Ask),
            0,
            "{venue}"
        );
        assert!(!h.sync.is_synced());
        assert!(h.sync.take_snapshot_request(), "{venue}");
        let stats = h.sync.stats();
        assert_eq!((stats.gaps, stats.resyncs), (1, 1), "{venue}");
        // Back to buffering.
        assert_eq!(
            h.diff(next.0, next.1, next.2, &[("96.00", "4.000")], &[]),
            DiffOutcome::Buffered
        );
        // The new snapshot bridges the gapped diff, which was kept.
        assert_eq!(
            h.snapshot(111, &BIDS, &ASKS),
            SnapshotOutcome::Synced,
            "{venue}"
        );
        assert_eq!(h.sync.last_id(), Some(115));
        assert_eq!(
            h.bids(),
            vec![
                (10_000, 1_000),
                (9_950, 2_000),
                (9_700, 3_000),
                (9_600, 4_000)
            ],
            "{venue}"
        );
    }
}

#[test]
fn a_gap_under_continue_is_reported_and_applied() {
    for (venue, gap, next) in [
        (Venue::BinanceSpot, (110, 112, 0), (113, 115, 0)),
        (Venue::BinanceUsdm, (110, 112, 103), (113, 115, 112)),
    ] {
        let mut h = live(venue, GapPolicy::Continue, 105);
        let outcome = h.diff(gap.0, gap.1, gap.2, &[("97.00", "3.000")], &[]);
        assert!(
            matches!(outcome, DiffOutcome::Gap { .. }),
            "{venue}: {outcome:?}"
        );
        assert_eq!(h.statuses().len(), 1);
        assert_eq!(h.statuses()[0].0, StatusCode::Gap);
        assert_eq!(h.levels_staged(), vec![(Side::Bid, 9_700, 3_000)]);
        assert!(h.batch.events().last().unwrap().end_of_batch());
        assert!(h.sync.is_synced());
        assert_eq!(h.sync.last_id(), Some(112));
        // The chain continues from the gapped diff.
        assert_eq!(
            h.diff(next.0, next.1, next.2, &[("96.00", "4.000")], &[]),
            DiffOutcome::Applied,
            "{venue}"
        );
        assert_eq!(
            h.bids(),
            vec![
                (10_000, 1_000),
                (9_950, 2_000),
                (9_800, 5_000),
                (9_700, 3_000),
                (9_600, 4_000)
            ]
        );
    }
}

#[test]
fn a_gap_under_continue_that_changes_nothing_still_ends_its_batch() {
    for venue in [Venue::BinanceSpot, Venue::BinanceUsdm] {
        let mut h = live(venue, GapPolicy::Continue, 105);
        // A gapped diff deleting a level the book does not hold.
        let outcome = h.diff(110, 112, 103, &[("42.00", "0")], &[]);
        assert!(
            matches!(outcome, DiffOutcome::Gap { .. }),
            "{venue}: {outcome:?}"
        );
        let events = h.batch.events();
        assert_eq!(statuses(events).len(), 1, "{venue}: the Gap status");
        let last = events.last().expect("the gap is published");
        assert!(last.end_of_batch(), "{venue}: {events:?}");
    }
}

// --------------------------------------------------------------------------
// Levels.
// --------------------------------------------------------------------------

#[test]
fn deleting_an_absent_level_is_not_an_error() {
    for venue in [Venue::BinanceSpot, Venue::BinanceUsdm] {
        let mut h = synced(venue, GapPolicy::Resync, 100);
        let outcome = h.diff(100, 101, 90, &[("42.00", "0.000")], &[("500.00", "0")]);
        assert_eq!(outcome, DiffOutcome::Applied, "{venue}");
        assert!(
            h.batch.is_empty(),
            "{venue}: nothing changed, nothing staged"
        );
        assert_eq!(h.bids(), vec![(10_000, 1_000), (9_950, 2_000)]);
        assert_eq!(h.asks(), vec![(10_100, 3_000), (10_200, 4_000)]);
        assert_eq!(h.sync.last_id(), Some(101));
    }
}

#[test]
fn an_off_tick_price_refuses_the_whole_diff() {
    for venue in [Venue::BinanceSpot, Venue::BinanceUsdm] {
        // Tick 0.05: mantissas at scale 2 must be multiples of 5.
        let mut h = Harness::with(venue, GapPolicy::Resync, "0.05", SyncLimits::default());
        assert_eq!(h.snapshot(100, &BIDS, &ASKS), SnapshotOutcome::Synced);
        // The first level is fine; the second is off the grid.
        let outcome = h.diff(
            100,
            101,
            90,
            &[("100.05", "9.000"), ("100.02", "1.000")],
            &[("101.00", "0")],
        );
        let refused = BookError::OffTick {
            price: 10_002,
            tick: 5,
            at: LevelAt {
                side: Some(Side::Bid),
                index: 1,
            },
        };
        assert_eq!(outcome, DiffOutcome::BadUpdate(refused), "{venue}");
        // Said with the field, the price and the tick as decimals.
        let scale = h.reg.get(h.id).price_scale;
        let qty_scale = h.reg.get(h.id).qty_scale;
        assert_eq!(
            refused.show(scale, qty_scale).to_string(),
            "bid level 1: price 100.02 is not on the tick grid (tick 0.05)"
        );
        // Nothing of the diff was applied or published; as documented on
        // `DiffOutcome::BadUpdate`, the book is then discarded and rebuilt.
        assert!(
            h.levels_staged().is_empty(),
            "{venue}: {:?}",
            h.levels_staged()
        );
        assert_eq!(
            h.statuses(),
            vec![(StatusCode::Resync, ResyncReason::BadUpdate as i64, 0, true)]
        );
        assert_eq!(
            h.book.qty_at(Side::Bid, tickwire::types::Price(10_005)).0,
            0
        );
        assert_eq!(h.book.depth(Side::Bid) + h.book.depth(Side::Ask), 0);
        assert!(!h.sync.is_synced());
        assert!(h.sync.take_snapshot_request());
    }
}

#[test]
fn an_off_tick_price_leaves_the_book_untouched_when_it_is_kept() {
    // Under `GapPolicy::Continue` a gapped diff is applied on top of the
    // book; if one of its levels is bad, none is, and the book is kept.
    for venue in [Venue::BinanceSpot, Venue::BinanceUsdm] {
        let mut h = Harness::with(venue, GapPolicy::Continue, "0.05", SyncLimits::default());
        assert_eq!(h.snapshot(100, &BIDS, &ASKS), SnapshotOutcome::Synced);
        let before = (h.bids(), h.asks());
        let outcome = h.diff(
            150,
            151,
            140,
            &[("100.05", "9.000"), ("99.50", "0")],
            &[("101.03", "1.000")],
        );
        assert_eq!(
            outcome,
            DiffOutcome::BadUpdate(BookError::OffTick {
                price: 10_103,
                tick: 5,
                at: LevelAt {
                    side: Some(Side::Ask),
                    index: 0
                }
            }),
            "{venue}"
        );
        assert_eq!((h.bids(), h.asks()), before, "{venue}");
        assert!(h.levels_staged().is_empty(), "{venue}");
    }
}

/// Regression: a buffered diff that the book refuses while it is replayed
/// onto a snapshot started over without a `Resync` status or the counter.
#[test]
fn a_refused_buffered_diff_starts_over_like_every_other_reset() {
    let mut h = Harness::with(
        Venue::BinanceSpot,
        GapPolicy::Resync,
        "0.05",
        SyncLimits::default(),
    );
    assert_eq!(
        h.diff(101, 101, 0, &[("100.02", "1.000")], &[]),
        DiffOutcome::Buffered
    );
    assert!(h.sync.take_snapshot_request());
    let outcome = h.snapshot(100, &[("100.00", "1.000")], &[("101.00", "1.000")]);
    assert!(
        matches!(
            outcome,
            SnapshotOutcome::BadSnapshot(BookError::OffTick { .. })
        ),
        "{outcome:?}"
    );
    assert_eq!(
        h.statuses(),
        vec![(StatusCode::Resync, ResyncReason::BadUpdate as i64, 0, true)]
    );
    assert!(h.levels_staged().is_empty());
    assert_eq!(h.sync.stats().resyncs, 1);
    assert!(!h.sync.is_synced());
    assert!(h.sync.take_snapshot_request());
}

#[test]
fn an_off_tick_snapshot_is_refused_and_fetched_again() {
    let mut h = Harness::with(
        Venue::BinanceSpot,
        GapPolicy::Resync,
        "0.05",
        SyncLimits::default(),
    );
    h.diff(101, 101, 0, &[], &[]);
    assert!(h.sync.take_snapshot_request());
    let outcome = h.snapshot(100, &[("100.00", "1.000"), ("99.99", "1.000")], &ASKS);
    assert_eq!(
        outcome,
        SnapshotOutcome::BadSnapshot(BookError::OffTick {
            price: 9_999,
            tick: 5,
            at: LevelAt {
                side: Some(Side::Bid),
                index: 1
            }
        })
    );
    assert!(h.batch.is_empty());
    assert_eq!(h.book.depth(Side::Bid) + h.book.depth(Side::Ask), 0);
    assert!(!h.sync.is_synced());
    assert!(h.sync.take_snapshot_request());
    assert_eq!(h.snapshot(100, &BIDS, &ASKS), SnapshotOutcome::Synced);
}

// --------------------------------------------------------------------------
// The whole per-message path: a crossed book.
// --------------------------------------------------------------------------

#[test]
fn a_crossed_book_is_reported_and_resynced_by_the_feed() {
    for venue in [Venue::BinanceSpot, Venue::BinanceUsdm] {
        let mut reg = Registry::new();
        let id = reg.add(venue, SYMBOL, "0.01", "0.001").unwrap();
        let mut books = vec![InstrumentBook::new(
            venue,
            id,
            BookSpec::new(1),
            GapPolicy::Resync,
        )];
        let mut feed = BinanceFrames::new(venue, 64);
        let mut out: Vec<Event> = Vec::new();
        let body = snapshot_json(venue, 100, &BIDS, &ASKS);
        let outcome = feed
            .handle_snapshot(body.as_bytes(), 5, &reg, &mut books[0], &mut out)
            .expect("snapshot");
        assert_eq!(outcome, SnapshotOutcome::Synced);
        out.clear();

        // A bid above the best ask: the book crosses.
        let frame = depth_json(
            venue,
            SYMBOL,
            100,
            101,
            Some(90),
            &[("101.50", "1.000")],
            &[],
        );
        let kind = feed
            .handle_frame(frame.as_bytes(), 7, &reg, &mut books, &mut out)
            .expect("frame");
        assert_eq!(
            kind,
            FrameKind::Depth(id, DiffOutcome::BadUpdate(BookError::Crossed)),
            "{venue}"
        );
        assert_eq!(level_events(&out), vec![(Side::Bid, 10_150, 1_000)]);
        assert_eq!(
            statuses(&out),
            vec![
                (StatusCode::Crossed, 0, 0, false),
                (StatusCode::Resync, ResyncReason::Crossed as i64, 0, true)
            ],
            "{venue}"
        );
        assert_eq!(feed.stats().crossed, 0, "crossed BBOs only");
        let st = &mut books[0];
        assert_eq!(st.sync.stats().crossed, 1);
        assert_eq!(st.book.depth(Side::Bid) + st.book.depth(Side::Ask), 0);
        assert!(!st.sync.is_synced());
        assert!(st.sync.take_snapshot_request());

        // A fresh snapshot syncs again.
        out.clear();
        let body = snapshot_json(venue, 120, &BIDS, &ASKS);
        let outcome = feed
            .handle_snapshot(body.as_bytes(), 9, &reg, &mut books[0], &mut out)
            .expect("snapshot");
        assert_eq!(outcome, SnapshotOutcome::Synced);
        assert!(!books[0].book.is_crossed());
        assert_eq!(
            statuses(&out).last(),
            Some(&(StatusCode::SnapshotEnd, 4, 0, true))
        );
    }
}

/// A feed with one synced book (snapshot 100, tick 0.01).
fn synced_feed(venue: Venue) -> (Registry, InstrumentId, Vec<InstrumentBook>, BinanceFrames) {
    let mut reg = Registry::new();
    let id = reg.add(venue, SYMBOL, "0.01", "0.001").unwrap();
    let mut books = vec![InstrumentBook::new(
        venue,
        id,
        BookSpec::new(1),
        GapPolicy::Resync,
    )];
    let mut feed = BinanceFrames::new(venue, 64);
    let body = snapshot_json(venue, 100, &BIDS, &ASKS);
    let outcome = feed
        .handle_snapshot(body.as_bytes(), 5, &reg, &mut books[0], &mut Vec::new())
        .expect("snapshot");
    assert_eq!(outcome, SnapshotOutcome::Synced);
    (reg, id, books, feed)
}

/// Regression (hostile venue): a crossed BBO from `bookTicker` went to the
/// consumers as a quote. It is dropped and reported as `Crossed` (`a` =
/// bid, `b` = ask mantissas); the book is not touched.
#[test]
fn a_crossed_bbo_is_reported_not_passed_on() {
    let (reg, id, mut books, mut feed) = synced_feed(Venue::BinanceSpot);
    let mut out: Vec<Event> = Vec::new();
    for (bid, ask) in [("101.00", "100.00"), ("100.00", "100.00")] {
        out.clear();
        let frame = format!(
            r#"{{"u":400900217,"s":"{SYMBOL}","b":"{bid}","B":"1.000","a":"{ask}","A":"2.000"}}"#
        );
        let kind = feed
            .handle_frame(frame.as_bytes(), 7, &reg, &mut books, &mut out)
            .expect("frame");
        assert_eq!(kind, FrameKind::CrossedBbo(id));
        let bid_m = (bid.replace('.', "")).parse::<i64>().unwrap();
        let ask_m = (ask.replace('.', "")).parse::<i64>().unwrap();
        assert_eq!(
            statuses(&out),
            vec![(StatusCode::Crossed, bid_m, ask_m, true)]
        );
        assert!(!out.iter().any(|e| matches!(e.body(), Body::Bbo(_))));
    }
    assert_eq!(feed.stats().crossed, 2);
    assert!(books[0].sync.is_synced());
    // A sane BBO passes.
    out.clear();
    let frame = format!(
        r#"{{"u":400900218,"s":"{SYMBOL}","b":"99.00","B":"1.000","a":"100.00","A":"2.000"}}"#
    );
    let kind = feed
        .handle_frame(frame.as_bytes(), 8, &reg, &mut books, &mut out)
        .expect("frame");
    assert_eq!(kind, FrameKind::Bbo(id));
}

/// Regression (hostile venue): a snapshot far ahead of the stream made
/// every diff stale, and each stale diff counted as activity, so the
/// instrument never looked stale. Stale diffs do not advance `last_msg_ns`;
/// `stale_since` marks the start of an unbroken run of them.
#[test]
fn stale_diffs_are_not_activity() {
    let (reg, _, mut books, mut feed) = synced_feed(Venue::BinanceSpot);
    let mut out: Vec<Event> = Vec::new();
    let mut send = |first: u64, last: u64, at: u64, books: &mut Vec<InstrumentBook>| {
        let frame = depth_json(
            Venue::BinanceSpot,
            SYMBOL,
            first,
            last,
            None,
            &[("98.00", "1.000")],
            &[],
        );
        match feed.handle_frame(frame.as_bytes(), at, &reg, books, &mut out) {
            Ok(FrameKind::Depth(_, outcome)) => outcome,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(send(90, 95, 10, &mut books), DiffOutcome::Stale);
    assert_eq!(send(96, 99, 20, &mut books), DiffOutcome::Stale);
    assert_eq!(books[0].stale_since, Some(10));
    assert_eq!(books[0].last_msg_ns, 0);
    assert_eq!(send(100, 101, 30, &mut books), DiffOutcome::Applied);
    assert_eq!(books[0].stale_since, None);
    assert_eq!(books[0].last_msg_ns, 30);
    // A run in progress is forgotten when the book is rebuilt: it was about
    // the book that is gone (else the new one would look frozen at once).
    let (reg, _, mut books, mut feed) = synced_feed(Venue::BinanceSpot);
    let frame = depth_json(Venue::BinanceSpot, SYMBOL, 90, 95, None, &[], &[]);
    let kind = feed.handle_frame(frame.as_bytes(), 40, &reg, &mut books, &mut out);
    assert_eq!(kind, Ok(FrameKind::Depth(books[0].id, DiffOutcome::Stale)));
    assert_eq!(books[0].stale_since, Some(40));
    feed.resync(&mut books[0], ResyncReason::Reconnect, 50, &mut out);
    assert_eq!(books[0].stale_since, None);
}

#[test]
fn a_crossed_snapshot_is_reported_and_fetched_again() {
    for venue in [Venue::BinanceSpot, Venue::BinanceUsdm] {
        let mut reg = Registry::new();
        let id = reg.add(venue, SYMBOL, "0.01", "0.001").unwrap();
        let mut book = InstrumentBook::new(venue, id, BookSpec::new(1), GapPolicy::Resync);
        let mut feed = BinanceFrames::new(venue, 64);
        let mut out: Vec<Event> = Vec::new();
        // The best bid (101.00) is above the best ask (100.50).
        let body = snapshot_json(venue, 100, &[("101.00", "1.000")], &[("100.50", "1.000")]);
        let outcome = feed
            .handle_snapshot(body.as_bytes(), 5, &reg, &mut book, &mut out)
            .expect("decodes");
        assert_eq!(
            outcome,
            SnapshotOutcome::BadSnapshot(BookError::Crossed),
            "{venue}"
        );
        // Consumers never see the crossed book (regression: its snapshot was
        // published before the Crossed status).
        let codes: Vec<StatusCode> = statuses(&out).iter().map(|s| s.0).collect();
        assert_eq!(codes, [StatusCode::Crossed, StatusCode::Resync], "{venue}");
        assert!(level_events(&out).is_empty(), "{venue}");
        assert_eq!(book.sync.stats().crossed, 1);
        assert!(!book.sync.is_synced());
        assert_eq!(book.book.depth(Side::Bid) + book.book.depth(Side::Ask), 0);
        assert!(
            book.sync.take_snapshot_request(),
            "another snapshot is wanted"
        );
    }
}

#[test]
fn the_feed_ignores_frames_for_unknown_books_and_symbols() {
    let venue = Venue::BinanceSpot;
    let mut reg = Registry::new();
    let id = reg.add(venue, SYMBOL, "0.01", "0.001").unwrap();
    let mut books = vec![InstrumentBook::new(
        venue,
        id,
        BookSpec::new(1),
        GapPolicy::Resync,
    )];
    let mut feed = BinanceFrames::new(venue, 64);
    let mut out: Vec<Event> = Vec::new();
    let other = depth_json(venue, "ETHUSDT", 1, 2, None, &[("1.00", "1")], &[]);
    let kind = feed.handle_frame(other.as_bytes(), 1, &reg, &mut books, &mut out);
    assert_eq!(kind, Ok(FrameKind::Ignored));
    assert!(out.is_empty());
    assert_eq!(books[0].book.depth(Side::Bid), 0);
    assert!(books[0].sync.stats() == Default::default());
}
