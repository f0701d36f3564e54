//! No sequence of valid-looking frames leaves a book frozen while it reports
//! itself synced.
//!
//! A model venue keeps the true book of one spot instrument and writes
//! honest diffs. For a while an adversary interferes — diffs dropped, a
//! correctly chained diff whose `u` jumps far ahead, an old diff sent
//! again, an id beyond `i64`, a snapshot from the future — then the venue
//! is honest again. The feed runs exactly as on the engine's thread
//! (`BinanceFrames` → `BookSync` → `Ladder`, `GapPolicy::Resync`), snapshots
//! are served one frame after they are asked for, and the engine's
//! per-instrument staleness rule is applied on virtual time (an unbroken
//! run of stale diffs for longer than the timeout resyncs). The property:
//! once the venue has been honest for a while, the book is synced and
//! equals the venue's book, level for level.

mod util;

use std::collections::BTreeMap;

use proptest::prelude::*;
use tickwire::book::BookSpec;
use tickwire::types::{Event, Nanos, Registry, ResyncReason, Side, StatusCode, Venue};
use tickwire::venue::binance::{BinanceFrames, GapPolicy, InstrumentBook};
use util::{depth_json, side_levels, snapshot_json};

const SYMBOL: &str = "BTCUSDT";
const VENUE: Venue = Venue::BinanceSpot;
/// The staleness timeout, in frames (one frame per time unit).
const STALE_AFTER: Nanos = 20;
/// Honest frames at the end: enough for a stale run to time out and the
/// book to be rebuilt after it.
const HONEST_TAIL: usize = 3 * STALE_AFTER as usize;

/// What happens at one step of the adversarial phase.
#[derive(Clone, Debug)]
enum Step {
    /// An honest diff.
    Honest(Vec<Change>),
    /// The venue moves on, but the frame never arrives.
    Lost(Vec<Change>),
    /// Chains (`U == id + 1`) but claims `u` far ahead; its levels are lies too.
    AheadOfStream(u64, Vec<Change>),
    /// An earlier honest frame, again.
    Resent(usize),
    /// A diff whose `u` is beyond `i64::MAX`.
    IdOutOfRange,
    /// The next snapshot answered claims an id this far ahead.
    FutureSnapshot(u64),
}

/// One level change: side, price (1..=40 bids, 61..=100 asks), quantity.
type Change = (Side, u32, u32);

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (1u32..=40, 0u32..5).prop_map(|(p, q)| (Side::Bid, p, q)),
        (61u32..=100, 0u32..5).prop_map(|(p, q)| (Side::Ask, p, q)),
    ]
}

fn changes() -> impl Strategy<Value = Vec<Change>> {
    prop::collection::vec(change(), 1..4)
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => changes().prop_map(Step::Honest),
        2 => changes().prop_map(Step::Lost),
        2 => (1u64..1 << 40, changes()).prop_map(|(k, c)| Step::AheadOfStream(k, c)),
        2 => (0usize..64).prop_map(Step::Resent),
        1 => Just(Step::IdOutOfRange),
        1 => (1u64..1 << 40).prop_map(Step::FutureSnapshot),
    ]
}

/// The venue: the true book and its update id.
#[derive(Default)]
struct Model {
    book: [BTreeMap<u32, u32>; 2],
    id: u64,
    /// Honest frames written so far (for resends).
    sent: Vec<String>,
}

impl Model {
    /// Applies `changes` as the next update and returns its frame.
    fn diff(&mut self, changes: &[Change]) -> String {
        let first = self.id + 1;
        self.id += changes.len() as u64;
        for &(side, p, q) in changes {
            let side_book = &mut self.book[side as usize];
            if q == 0 {
                side_book.remove(&p);
            } else {
                side_book.insert(p, q);
            }
        }
        let frame = frame(first, self.id, changes);
        self.sent.push(frame.clone());
        frame
    }

    fn snapshot(&self, claimed_id: u64) -> String {
        let side = |s: Side| -> Vec<(String, String)> {
            self.book[s as usize]
                .iter()
                .map(|(p, q)| (p.to_string(), q.to_string()))
                .collect()
        };
        let (bids, asks) = (side(Side::Bid), side(Side::Ask));
        snapshot_json(VENUE, claimed_id, &pairs(&bids), &pairs(&asks))
    }

    fn levels(&self, side: Side) -> Vec<(i64, i64)> {
        let mut v: Vec<(i64, i64)> = self.book[side as usize]
            .iter()
            .map(|(&p, &q)| (i64::from(p), i64::from(q)))
            .collect();
        if side == Side::Bid {
            v.reverse();
        }
        v
    }
}

fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(p, q)| (p.as_str(), q.as_str())).collect()
}

fn frame(first: u64, last: u64, changes: &[Change]) -> String {
    let side = |s: Side| -> Vec<(String, String)> {
        changes
            .iter()
            .filter(|c| c.0 == s)
            .map(|&(_, p, q)| (p.to_string(), q.to_string()))
            .collect()
    };
    let (bids, asks) = (side(Side::Bid), side(Side::Ask));
    depth_json(
        VENUE,
        SYMBOL,
        first,
        last,
        None,
        &pairs(&bids),
        &pairs(&asks),
    )
}

/// The feed side, as the engine runs it.
struct Engine {
    reg: Registry,
    books: Vec<InstrumentBook>,
    feed: BinanceFrames,
    out: Vec<Event>,
    /// A snapshot was asked for at this time; it is served one frame later.
    asked: Option<Nanos>,
    /// The next snapshot served claims this much ahead.
    future: Option<u64>,
    now: Nanos,
}

impl Engine {
    fn new() -> Engine {
        let mut reg = Registry::new();
        let id = reg.add(VENUE, SYMBOL, "1", "1").expect("instrument");
        let books = vec![InstrumentBook::new(
            VENUE,
            id,
            BookSpec::new(1).with_capacity(64),
            GapPolicy::Resync,
        )];
        Engine {
            reg,
            books,
            feed: BinanceFrames::new(VENUE, 64),
            out: Vec::new(),
            asked: None,
            future: None,
            now: 0,
        }
    }

    /// One time unit: a frame (if any), then what the engine's loop does.
    fn step(&mut self, frame: Option<&str>, venue: &Model) {
        self.now += 1;
        if let Some(f) = frame {
            // A refused frame is counted and dropped, as on the feed thread.
            let _ = self.feed.handle_frame(
                f.as_bytes(),
                self.now,
                &self.reg,
                &mut self.books,
                &mut self.out,
            );
        }
        let st = &mut self.books[0];
        // The engine's staleness rule for a run of stale diffs.
        if st
            .stale_since
            .is_some_and(|t| self.now.saturating_sub(t) > STALE_AFTER)
        {
            self.feed
                .status(st, StatusCode::Stale, 0, 0, self.now, &mut self.out);
            self.feed
                .resync(st, ResyncReason::Stale, self.now, &mut self.out);
            st.stale_since = None;
        }
        if let Some(at) = self.asked {
            if at < self.now {
                self.asked = None;
                let claimed = venue.id + self.future.take().unwrap_or(0);
                let body = venue.snapshot(claimed);
                let _ = self.feed.handle_snapshot(
                    body.as_bytes(),
                    self.now,
                    &self.reg,
                    st,
                    &mut self.out,
                );
            }
        } else if st.sync.take_snapshot_request() {
            self.asked = Some(self.now);
        }
        self.out.clear();
    }
}

fn run(steps: &[Step], tail: &[Vec<Change>]) -> Result<(), TestCaseError> {
    let mut venue = Model::default();
    let mut engine = Engine::new();
    for s in steps {
        match s {
            Step::Honest(c) => {
                let f = venue.diff(c);
                engine.step(Some(&f), &venue);
            }
            Step::Lost(c) => {
                venue.diff(c);
                engine.step(None, &venue);
            }
            Step::AheadOfStream(k, c) => {
                let f = frame(venue.id + 1, venue.id + k, c);
                engine.step(Some(&f), &venue);
            }
            Step::Resent(i) => {
                let f = venue.sent.get(*i % venue.sent.len().max(1)).cloned();
                engine.step(f.as_deref(), &venue);
            }
            Step::IdOutOfRange => {
                let f = frame(venue.id + 1, u64::MAX, &[(Side::Bid, 1, 1)]);
                engine.step(Some(&f), &venue);
            }
            Step::FutureSnapshot(k) => {
                engine.future = Some(*k);
                engine.step(None, &venue);
            }
        }
    }
    for c in tail {
        let f = venue.diff(c);
        engine.step(Some(&f), &venue);
    }
    let st = &engine.books[0];
    prop_assert!(st.sync.is_synced(), "not synced after {steps:?}");
    prop_assert_eq!(side_levels(&st.book, Side::Bid), venue.levels(Side::Bid));
    prop_assert_eq!(side_levels(&st.book, Side::Ask), venue.levels(Side::Ask));
    Ok(())
}

proptest! {
    #![proptest_config(util::proptest_config(256))]

    #[test]
    fn an_honest_stretch_always_brings_the_book_back(
        steps in prop::collection::vec(step(), 0..40),
        tail in prop::collection::vec(changes(), HONEST_TAIL..HONEST_TAIL + 10),
    ) {
        run(&steps, &tail)?;
    }
}

/// The two regressions the property was written for, as plain cases.
#[test]
fn a_lying_u_and_a_future_snapshot_do_not_freeze_the_book() {
    let honest = |n: usize| -> Vec<Vec<Change>> {
        (0..n as u32)
            .map(|i| {
                vec![
                    (Side::Bid, i % 40 + 1, i % 4 + 1),
                    (Side::Ask, 61 + i % 40, 2),
                ]
            })
            .collect()
    };
    let mut steps = vec![Step::Honest(vec![(Side::Bid, 3, 1)]); 3];
    steps.push(Step::AheadOfStream(1 << 40, vec![(Side::Bid, 4, 4)]));
    run(&steps, &honest(HONEST_TAIL)).expect("a lying u");
    let steps = vec![
        Step::FutureSnapshot(1_000_000),
        Step::Honest(vec![(Side::Bid, 3, 1)]),
    ];
    run(&steps, &honest(HONEST_TAIL)).expect("a future snapshot");
}
