//! The Coinbase session on injected time: the subscription one channel per
//! message and paced; the per-connection `sequence_num` (a jump — in any
//! channel, a heartbeat's included — resyncs every book, tells each
//! consumer which instrument, and resubscribes `level2`); a snapshot
//! mid-stream replaces the book; an oversized frame is a `DecodeError` and
//! resyncs the product it names only; an error frame is a `VenueError`; a
//! book whose far-level pool runs dry is a `BadUpdate`, a counted resync and
//! an empty book until the next snapshot; and a property test of the books
//! against a `BTreeMap` model.

use std::collections::BTreeMap;

use proptest::prelude::*;
use tickwire::book::{BookError, BookRead, BookSpec, Ladder, Level, LevelAt};
use tickwire::types::{Body, Event, InstrumentId, ManualClock, Price, Qty, Registry, Side};
use tickwire::types::{Clock, StatusCode, Venue};
use tickwire::venue::coinbase::CoinbaseSession;
use tickwire::venue::{
    Channel, DecodeError, DiffOutcome, FrameKind, GapPolicy, InstrumentBook, PlannedInstrument,
    SessionPlan, What, books_for,
};

fn registry() -> Registry {
    let mut reg = Registry::new();
    reg.add(Venue::Coinbase, "BTC-USD", "0.01", "0.00000001")
        .unwrap();
    reg.add(Venue::Coinbase, "ETH-USD", "0.01", "0.00000001")
        .unwrap();
    reg
}

fn plan(reg: &Registry, capacity: usize, per_sec: u32, max_frame: usize) -> SessionPlan {
    SessionPlan {
        venue: Venue::Coinbase,
        ws_url: "wss://advanced-trade-ws.coinbase.com".to_owned(),
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
        depth: 5_000,
        url_streams: None,
        streams_per_subscribe: 100,
        control_per_sec: per_sec,
        book_capacity: capacity,
        max_frame,
    }
}

struct Rig {
    reg: Registry,
    session: CoinbaseSession,
    books: Vec<InstrumentBook>,
    events: Vec<Event>,
}

impl Rig {
    fn new(max_frame: usize) -> Rig {
        let reg = registry();
        let session = CoinbaseSession::new(&plan(&reg, 1_000, 2, max_frame));
        let books = books_for(&reg, 1_000, GapPolicy::Resync);
        Rig {
            reg,
            session,
            books,
            events: Vec::new(),
        }
    }

    fn feed(&mut self, frame: &str, now: u64) -> Result<FrameKind, DecodeError> {
        let got = self.session.handle_text(
            frame.as_bytes(),
            now,
            &self.reg,
            &mut self.books,
            &mut self.events,
        );
        if got.is_err() {
            self.session.handle_undecodable(
                frame.as_bytes(),
                now,
                &self.reg,
                &mut self.books,
                &mut self.events,
            );
        }
        got
    }

    fn id(&self, symbol: &str) -> InstrumentId {
        self.reg
            .lookup(Venue::Coinbase, symbol.as_bytes())
            .unwrap()
            .id
    }

    fn book(&self, symbol: &str) -> &InstrumentBook {
        &self.books[self.id(symbol).index()]
    }

    /// Opens the connection and sends the whole subscription.
    fn open(&mut self) {
        self.session.handle_open(0, &mut self.books);
        let mut out = String::new();
        let mut t = 0;
        for _ in 0..4 {
            assert!(self.session.poll_transmit(t, &mut self.books, &mut out));
            t += 500_000_000;
        }
        assert!(!self.session.poll_transmit(t, &mut self.books, &mut out));
    }
}

const TS: &str = "2026-08-09T21:05:48.618125631Z";

fn l2(seq: u64, kind: &str, product: &str, levels: &[(&str, &str, &str)]) -> String {
    let updates: Vec<String> = levels
        .iter()
        .map(|(side, px, q)| {
            format!(
                r#"{{"side":"{side}","event_time":"2026-08-09T21:05:48.35161Z","price_level":"{px}","new_quantity":"{q}"}}"#
            )
        })
        .collect();
    format!(
        r#"{{"channel":"l2_data","client_id":"","timestamp":"{TS}","sequence_num":{seq},"events":[{{"type":"{kind}","product_id":"{product}","updates":[{}]}}]}}"#,
        updates.join(",")
    )
}

fn heartbeat(seq: u64) -> String {
    format!(
        r#"{{"channel":"heartbeats","client_id":"","timestamp":"{TS}","sequence_num":{seq},"events":[{{"current_time":"2026-08-09 21:05:48.854840045 +0000 UTC m=+41691.260485341","heartbeat_counter":{seq}}}]}}"#
    )
}

/// (instrument, status code, a, b) of every status event.
fn statuses(events: &[Event]) -> Vec<(u32, StatusCode, i64, i64)> {
    events
        .iter()
        .filter_map(|e| match e.body() {
            Body::Status(s) => Some((e.stamp().unwrap().instrument.0, s.code, s.a, s.b)),
            _ => None,
        })
        .collect()
}

fn px(p: i64) -> Price {
    Price(p)
}

#[test]
fn subscribes_one_channel_per_message_paced_heartbeats_included() {
    let reg = registry();
    let clock = ManualClock::new(1_000);
    let mut session = CoinbaseSession::new(&plan(&reg, 100, 2, 1 << 20));
    let mut books = books_for(&reg, 100, GapPolicy::Resync);
    let mut out = String::new();
    assert!(
        !session.poll_transmit(clock.now(), &mut books, &mut out),
        "not open"
    );
    session.handle_open(clock.now(), &mut books);
    let mut sent = Vec::new();
    for _ in 0..40 {
        if session.poll_transmit(clock.now(), &mut books, &mut out) {
            sent.push((clock.now(), out.clone()));
        }
        clock.advance(50_000_000);
    }
    let texts: Vec<&str> = sent.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(
        texts,
        [
            r#"{"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channel":"level2"}"#,
            r#"{"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channel":"ticker"}"#,
            r#"{"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channel":"market_trades"}"#,
            r#"{"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channel":"heartbeats"}"#,
        ]
    );
    // Two a second: 500 ms apart.
    let times: Vec<u64> = sent.iter().map(|(t, _)| *t).collect();
    assert_eq!(times, [1_000, 500_001_000, 1_000_001_000, 1_500_001_000]);
    // Subscribing level2 asked for both snapshots.
    assert!(books.iter().all(|b| b.sync.snapshot_in_flight()));
    assert_eq!(session.poll_timeout(clock.now()), None);
}

#[test]
fn a_jump_in_any_channel_resyncs_every_book_and_resubscribes_level2() {
    let mut rig = Rig::new(1 << 20);
    rig.open();
    let t = 10_000_000_000;
    rig.feed(
        &l2(
            0,
            "snapshot",
            "BTC-USD",
            &[("bid", "100.5", "1"), ("offer", "101", "2")],
        ),
        t,
    )
    .unwrap();
    rig.feed(
        &l2(
            1,
            "snapshot",
            "ETH-USD",
            &[("bid", "10", "1"), ("offer", "11", "2")],
        ),
        t,
    )
    .unwrap();
    rig.feed(&heartbeat(2), t).unwrap();
    assert!(rig.book("BTC-USD").sync.is_synced() && rig.book("ETH-USD").sync.is_synced());
    rig.events.clear();
    // Frames 3 and 4 are lost; 5 is a heartbeat, which says nothing of books.
    let kind = rig.feed(&heartbeat(5), t).unwrap();
    let (btc, eth) = (rig.id("BTC-USD"), rig.id("ETH-USD"));
    assert_eq!(
        kind,
        FrameKind::Depth(
            btc,
            DiffOutcome::Gap {
                expected: 3,
                got: 5
            }
        )
    );
    let resync = tickwire::types::ResyncReason::Gap as i64;
    assert_eq!(
        statuses(&rig.events),
        [
            (btc.0, StatusCode::Gap, 3, 5),
            (btc.0, StatusCode::Resync, resync, 0),
            (eth.0, StatusCode::Gap, 3, 5),
            (eth.0, StatusCode::Resync, resync, 0),
        ]
    );
    for s in ["BTC-USD", "ETH-USD"] {
        assert!(!rig.book(s).sync.is_synced(), "{s}");
        assert_eq!(rig.book(s).book.depth(Side::Bid), 0, "{s}");
    }
    // Updates before the new snapshots are dropped.
    assert_eq!(
        rig.feed(&l2(6, "update", "BTC-USD", &[("bid", "100", "1")]), t),
        Ok(FrameKind::Depth(btc, DiffOutcome::Waiting))
    );
    let mut out = String::new();
    assert!(rig.session.poll_transmit(t, &mut rig.books, &mut out));
    assert_eq!(
        out,
        r#"{"type":"unsubscribe","product_ids":["BTC-USD","ETH-USD"],"channel":"level2"}"#
    );
    assert!(
        !rig.session.poll_transmit(t + 1, &mut rig.books, &mut out),
        "paced"
    );
    assert_eq!(rig.session.poll_timeout(t), Some(t + 500_000_000));
    assert!(
        rig.session
            .poll_transmit(t + 500_000_000, &mut rig.books, &mut out)
    );
    assert_eq!(
        out,
        r#"{"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channel":"level2"}"#
    );
    assert!(
        !rig.session
            .poll_transmit(t + 2_000_000_000, &mut rig.books, &mut out)
    );
    // The fresh snapshot makes a good book again.
    rig.feed(&l2(7, "snapshot", "BTC-USD", &[("bid", "99", "3")]), t)
        .unwrap();
    let book = &rig.book("BTC-USD").book;
    assert_eq!(
        book.best_bid(),
        Some(Level {
            price: px(9_900),
            qty: Qty(300_000_000)
        })
    );
    assert!(rig.book("BTC-USD").sync.is_synced());
}

#[test]
fn a_snapshot_mid_stream_replaces_the_book() {
    let mut rig = Rig::new(1 << 20);
    rig.open();
    rig.feed(
        &l2(
            0,
            "snapshot",
            "BTC-USD",
            &[
                ("bid", "100", "1"),
                ("bid", "99", "1"),
                ("offer", "101", "2"),
            ],
        ),
        1,
    )
    .unwrap();
    rig.feed(
        &l2(
            1,
            "update",
            "BTC-USD",
            &[("bid", "99", "0"), ("offer", "102", "4")],
        ),
        2,
    )
    .unwrap();
    let book = &rig.book("BTC-USD").book;
    assert_eq!(book.depth(Side::Bid), 1);
    assert_eq!(book.depth(Side::Ask), 2);
    rig.feed(
        &l2(
            2,
            "snapshot",
            "BTC-USD",
            &[("bid", "90", "5"), ("offer", "95", "6")],
        ),
        3,
    )
    .unwrap();
    let book = &rig.book("BTC-USD").book;
    let bids: Vec<Level> = book.levels(Side::Bid).collect();
    let asks: Vec<Level> = book.levels(Side::Ask).collect();
    assert_eq!(
        bids,
        [Level {
            price: px(9_000),
            qty: Qty(500_000_000)
        }]
    );
    assert_eq!(
        asks,
        [Level {
            price: px(9_500),
            qty: Qty(600_000_000)
        }]
    );
}

#[test]
fn an_oversized_frame_is_a_decode_error_and_resyncs_its_product_only() {
    let mut rig = Rig::new(64 << 10);
    rig.open();
    rig.feed(&l2(0, "snapshot", "BTC-USD", &[("bid", "100", "1")]), 1)
        .unwrap();
    rig.feed(&l2(1, "snapshot", "ETH-USD", &[("bid", "10", "1")]), 1)
        .unwrap();
    rig.events.clear();
    let levels: Vec<(String, String)> = (0..1_000)
        .map(|i| (format!("{}", 90 + i % 9), "1".to_owned()))
        .collect();
    let levels: Vec<(&str, &str, &str)> = levels
        .iter()
        .map(|(p, q)| ("bid", p.as_str(), q.as_str()))
        .collect();
    let big = l2(2, "snapshot", "BTC-USD", &levels);
    assert!(big.len() > 64 << 10);
    let got = rig.feed(&big, 2);
    assert_eq!(
        got.err().map(|e| e.what),
        Some(What::TooLarge { max: 64 << 10 })
    );
    let btc = rig.id("BTC-USD");
    let reason = tickwire::types::ResyncReason::BadUpdate as i64;
    assert_eq!(
        statuses(&rig.events),
        [
            (btc.0, StatusCode::DecodeError, 1, 0),
            (btc.0, StatusCode::Resync, reason, 0),
        ]
    );
    assert!(!rig.book("BTC-USD").sync.is_synced());
    assert!(rig.book("ETH-USD").sync.is_synced());
    // Its sequence_num still counted: the next frame is no gap.
    assert_eq!(rig.feed(&heartbeat(3), 3), Ok(FrameKind::Ignored));
    let mut out = String::new();
    assert!(
        rig.session
            .poll_transmit(10_000_000_000, &mut rig.books, &mut out)
    );
    assert_eq!(
        out,
        r#"{"type":"unsubscribe","product_ids":["BTC-USD"],"channel":"level2"}"#
    );
}

#[test]
fn a_dry_far_pool_is_a_bad_update_a_counted_resync_and_a_new_snapshot() {
    let mut rig = Rig::new(1 << 20);
    rig.open();
    let btc = rig.id("BTC-USD");
    // A book whose far lists have one block (64 levels) each: 65 far bids
    // need a second block, which a real book always has (its pool is sized
    // for its capacity) and this one has not.
    let spec = BookSpec::new(1).with_capacity(1_000).with_window(64);
    rig.books[btc.index()].book = Ladder::with_far_blocks(spec, 1);
    let far: Vec<String> = (0..64).map(|i| format!("1{i:02}.00")).collect();
    let mut levels: Vec<(&str, &str, &str)> = vec![("bid", "1000", "1"), ("offer", "1001", "1")];
    levels.extend(far.iter().map(|p| ("bid", p.as_str(), "2")));
    rig.feed(&l2(0, "snapshot", "BTC-USD", &levels), 1).unwrap();
    assert_eq!(rig.book("BTC-USD").book.depth(Side::Bid), 65);
    rig.events.clear();
    // One more far bid splits the full block: there is no block for it.
    let got = rig.feed(&l2(1, "update", "BTC-USD", &[("bid", "200", "3")]), 2);
    assert_eq!(
        got,
        Ok(FrameKind::Depth(
            btc,
            DiffOutcome::BadUpdate(BookError::PoolExhausted {
                at: LevelAt::default()
            })
        ))
    );
    let reason = tickwire::types::ResyncReason::BadUpdate as i64;
    assert_eq!(
        statuses(&rig.events),
        [(btc.0, StatusCode::Resync, reason, 0)]
    );
    let st = rig.book("BTC-USD");
    assert_eq!(st.sync.stats().resyncs, 1);
    assert!(!st.sync.is_synced());
    // Never a wrong book: nothing is held until the next snapshot.
    assert_eq!(st.book.depth(Side::Bid) + st.book.depth(Side::Ask), 0);
    assert_eq!(st.book.best_bid(), None);
    let mut out = String::new();
    assert!(
        rig.session
            .poll_transmit(10_000_000_000, &mut rig.books, &mut out)
    );
    assert_eq!(
        out,
        r#"{"type":"unsubscribe","product_ids":["BTC-USD"],"channel":"level2"}"#
    );
    // A snapshot that fits the pool makes a good book again.
    rig.feed(
        &l2(
            2,
            "snapshot",
            "BTC-USD",
            &[("bid", "999", "1"), ("bid", "100", "1")],
        ),
        3,
    )
    .unwrap();
    let st = rig.book("BTC-USD");
    assert!(st.sync.is_synced());
    assert_eq!(st.book.depth(Side::Bid), 2);
    assert_eq!(st.book.best_bid().map(|l| l.price), Some(px(99_900)));
}

#[test]
fn an_error_frame_is_a_venue_error() {
    let mut rig = Rig::new(1 << 20);
    rig.open();
    let kind = rig.feed(r#"{"type":"error","message":"failure to subscribe"}"#, 1);
    assert_eq!(kind, Ok(FrameKind::VenueError(0)));
    assert_eq!(rig.session.stats().venue_errors, 1);
    // It carries no sequence_num: the count goes on.
    rig.feed(&heartbeat(0), 2).unwrap();
    assert_eq!(rig.feed(&heartbeat(1), 3), Ok(FrameKind::Ignored));
}

/// One generated step: a snapshot or an update of one side's levels.
#[derive(Clone, Debug)]
struct Step {
    snapshot: bool,
    levels: Vec<(bool, u16, u16)>,
}

fn step() -> impl Strategy<Value = Step> {
    (
        prop::bool::weighted(0.1),
        prop::collection::vec((any::<bool>(), 1u16..200, 0u16..5), 0..30),
    )
        .prop_map(|(snapshot, levels)| Step { snapshot, levels })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn books_follow_a_reference_model(steps in prop::collection::vec(step(), 1..40)) {
        let mut rig = Rig::new(1 << 20);
        rig.open();
        let mut model: [BTreeMap<i64, i64>; 2] = [BTreeMap::new(), BTreeMap::new()];
        let mut synced = false;
        for (seq, s) in steps.iter().enumerate() {
            // Bids below 100.00, offers at or above it: never crossed.
            let levels: Vec<(&str, String, String)> = s.levels.iter().map(|&(bid, p, q)| {
                let price = if bid { 10_000 - i64::from(p) } else { 10_000 + i64::from(p) };
                let side = if bid { "bid" } else { "offer" };
                (side, format!("{}.{:02}", price / 100, price % 100), format!("{q}"))
            }).collect();
            let refs: Vec<(&str, &str, &str)> = levels.iter().map(|(a, b, c)| (*a, b.as_str(), c.as_str())).collect();
            let kind = if s.snapshot { "snapshot" } else { "update" };
            rig.feed(&l2(seq as u64, kind, "ETH-USD", &refs), seq as u64).unwrap();
            if s.snapshot {
                model = [BTreeMap::new(), BTreeMap::new()];
                synced = true;
            }
            if synced {
                for &(bid, p, q) in &s.levels {
                    let price = if bid { 10_000 - i64::from(p) } else { 10_000 + i64::from(p) };
                    let side = &mut model[usize::from(!bid)];
                    if q == 0 { side.remove(&price); } else { side.insert(price, i64::from(q) * 100_000_000); }
                }
            }
        }
        let st = rig.book("ETH-USD");
        prop_assert_eq!(st.sync.is_synced(), synced);
        let bids: Vec<(i64, i64)> = st.book.levels(Side::Bid).map(|l| (l.price.0, l.qty.0)).collect();
        let asks: Vec<(i64, i64)> = st.book.levels(Side::Ask).map(|l| (l.price.0, l.qty.0)).collect();
        let mbids: Vec<(i64, i64)> = model[0].iter().rev().map(|(p, q)| (*p, *q)).collect();
        let masks: Vec<(i64, i64)> = model[1].iter().map(|(p, q)| (*p, *q)).collect();
        prop_assert_eq!(bids, mbids);
        prop_assert_eq!(asks, masks);
    }
}
