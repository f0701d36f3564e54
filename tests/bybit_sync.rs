//! Bybit book sync through `BybitSession::handle_text`: the captures replay
//! to the book an independent reference builds from the same frames; the
//! rules (mid-stream snapshot, `u == 1` reset, gaps, stale ids, capacity)
//! on hand-made frames; a property test against a `BTreeMap` model; tickers,
//! top of book and trades into the right events.

mod bybit;

use bybit::session_util::{Reference, Rig};
use bybit::{lines, registry};
use proptest::prelude::*;
use tickwire::book::{BookRead, Level};
use tickwire::types::{
    Aggressor, Body, Event, InstrumentId, Price, Qty, ResyncReason, Side, StatusCode, Venue,
};
use tickwire::venue::{DiffOutcome, FrameKind, GapPolicy};

/// Linear BTCUSDT's id in the test registry; price scale 1, quantity scale 3.
const BTC: InstrumentId = InstrumentId(0);

fn statuses(events: &[Event]) -> Vec<(StatusCode, i64, i64)> {
    events
        .iter()
        .filter_map(|e| match e.body() {
            Body::Status(s) => Some((s.code, s.a, s.b)),
            _ => None,
        })
        .collect()
}

fn best(rig: &Rig, id: InstrumentId) -> (Option<Level>, Option<Level>) {
    let b = &rig.books[id.index()].book;
    (b.best_bid(), b.best_ask())
}

fn lvl(price: i64, qty: i64) -> Level {
    Level {
        price: Price(price),
        qty: Qty(qty),
    }
}

#[test]
fn captures_replay_to_the_reference_book() {
    // (file, venue, symbol, price scale, quantity scale, best bid, best ask)
    let cases = [
        (
            "ws_linear_orderbook_200_BTCUSDT.jsonl",
            Venue::BybitLinear,
            "BTCUSDT",
            1,
            3,
            lvl(651_142, 5_974),
            lvl(651_143, 9_060),
        ),
        (
            "ws_linear_orderbook_200_ETHUSDT.jsonl",
            Venue::BybitLinear,
            "ETHUSDT",
            2,
            2,
            lvl(0, 0),
            lvl(0, 0),
        ),
        (
            "ws_spot_orderbook_200_BTCUSDT.jsonl",
            Venue::BybitSpot,
            "BTCUSDT",
            1,
            6,
            lvl(0, 0),
            lvl(0, 0),
        ),
        (
            "ws_spot_orderbook_200_ETHUSDT.jsonl",
            Venue::BybitSpot,
            "ETHUSDT",
            2,
            5,
            lvl(192_328, 942_925),
            lvl(192_329, 344_935),
        ),
        (
            "linear_orderbook500_XRPUSDT_2024-12-01_bybit_history.jsonl",
            Venue::BybitLinear,
            "XRPUSDT",
            4,
            0,
            lvl(19_537, 10_605),
            lvl(19_538, 6_702),
        ),
    ];
    for (file, venue, symbol, ps, qs, bid, ask) in cases {
        let mut rig = Rig::new(registry(), venue, &[symbol], 5_000, GapPolicy::Resync);
        let id = rig.reg.lookup(venue, symbol.as_bytes()).expect("symbol").id;
        let mut reference = Reference::default();
        let frames = lines(file);
        for (n, frame) in frames.iter().enumerate() {
            reference.apply(frame, ps, qs);
            let kind = rig.feed(frame, n as u64);
            assert_eq!(
                kind,
                FrameKind::Depth(id, DiffOutcome::Applied),
                "{file} frame {n}"
            );
            assert!(
                reference.same_as(&rig.books[id.index()].book),
                "{file} frame {n}"
            );
        }
        let st = &rig.books[id.index()];
        let s = st.sync.stats();
        assert_eq!(
            (s.snapshots, s.applied, s.gaps, s.resyncs, s.stale),
            (1, frames.len() as u64 - 1, 0, 0, 0),
            "{file}"
        );
        assert_eq!(st.sync.last_id(), reference.last_u);
        let depth = if symbol == "XRPUSDT" { 500 } else { 200 };
        assert_eq!(
            (st.book.depth(Side::Bid), st.book.depth(Side::Ask)),
            (depth, depth),
            "{file}"
        );
        if bid.price.0 != 0 {
            assert_eq!(best(&rig, id), (Some(bid), Some(ask)), "{file}");
        }
        // Every event batch the session published ends consistent.
        assert!(rig.events.last().is_some_and(Event::end_of_batch));
    }
}

/// A linear BTCUSDT book frame.
fn book(kind: &str, u: u64, bids: &[(&str, &str)], asks: &[(&str, &str)]) -> String {
    let side = |l: &[(&str, &str)]| {
        let v: Vec<String> = l
            .iter()
            .map(|(p, q)| format!("[\"{p}\",\"{q}\"]"))
            .collect();
        v.join(",")
    };
    format!(
        r#"{{"topic":"orderbook.50.BTCUSDT","type":"{kind}","ts":1786310818129,"data":{{"s":"BTCUSDT","b":[{}],"a":[{}],"u":{u},"seq":{}}},"cts":1786310818027}}"#,
        side(bids),
        side(asks),
        u + 1000
    )
}

fn synced_rig(policy: GapPolicy) -> Rig {
    let mut rig = Rig::new(registry(), Venue::BybitLinear, &["BTCUSDT"], 5_000, policy);
    let kind = rig.feed(
        &book(
            "snapshot",
            10,
            &[("100.0", "1"), ("99.9", "2")],
            &[("100.1", "3")],
        ),
        1,
    );
    assert_eq!(kind, FrameKind::Depth(BTC, DiffOutcome::Applied));
    rig.events.clear();
    rig
}

#[test]
fn deltas_before_the_first_snapshot_wait() {
    let mut rig = Rig::new(
        registry(),
        Venue::BybitLinear,
        &["BTCUSDT"],
        5_000,
        GapPolicy::Resync,
    );
    let kind = rig.feed(&book("delta", 9, &[("100.0", "1")], &[]), 1);
    assert_eq!(kind, FrameKind::Depth(BTC, DiffOutcome::Waiting));
    assert!(rig.events.is_empty());
    assert!(!rig.books[0].sync.is_synced());
}

#[test]
fn a_mid_stream_snapshot_replaces_the_book_after_a_venue_reset() {
    let mut rig = synced_rig(GapPolicy::Resync);
    rig.feed(&book("delta", 11, &[("99.8", "4")], &[]), 2);
    let kind = rig.feed(
        &book("snapshot", 500, &[("101.0", "7")], &[("101.5", "8")]),
        3,
    );
    assert_eq!(kind, FrameKind::Depth(BTC, DiffOutcome::Applied));
    let st = statuses(&rig.events);
    let reset = (StatusCode::Resync, ResyncReason::VenueReset as i64, 0);
    let at_reset = st
        .iter()
        .position(|s| *s == reset)
        .expect("a VenueReset resync");
    let begin = st
        .iter()
        .position(|s| s.0 == StatusCode::SnapshotBegin)
        .expect("a snapshot");
    assert!(at_reset < begin, "{st:?}");
    assert_eq!(
        best(&rig, BTC),
        (Some(lvl(1010, 7_000)), Some(lvl(1015, 8_000)))
    );
    assert_eq!(rig.books[0].book.depth(Side::Bid), 1);
    assert_eq!(rig.books[0].sync.last_id(), Some(500));
    let kind = rig.feed(&book("delta", 501, &[("101.0", "0")], &[]), 4);
    assert_eq!(kind, FrameKind::Depth(BTC, DiffOutcome::Applied));
    assert_eq!(best(&rig, BTC), (None, Some(lvl(1015, 8_000))));
    let s = rig.books[0].sync.stats();
    assert_eq!((s.snapshots, s.resyncs, s.applied), (2, 1, 2));
}

#[test]
fn u_of_one_is_a_reset_even_in_a_delta() {
    let mut rig = synced_rig(GapPolicy::Resync);
    let kind = rig.feed(&book("delta", 1, &[("98.0", "1.5")], &[("98.5", "2.5")]), 2);
    assert_eq!(kind, FrameKind::Depth(BTC, DiffOutcome::Applied));
    assert!(statuses(&rig.events).contains(&(
        StatusCode::Resync,
        ResyncReason::VenueReset as i64,
        0
    )));
    assert_eq!(
        best(&rig, BTC),
        (Some(lvl(980, 1_500)), Some(lvl(985, 2_500)))
    );
    assert_eq!(rig.books[0].book.depth(Side::Bid), 1);
    let kind = rig.feed(&book("delta", 2, &[("98.1", "1")], &[]), 3);
    assert_eq!(kind, FrameKind::Depth(BTC, DiffOutcome::Applied));
    assert_eq!(best(&rig, BTC).0, Some(lvl(981, 1_000)));
}

#[test]
fn a_skipped_u_is_a_gap_then_a_resubscribe_brings_the_book_back() {
    let mut rig = synced_rig(GapPolicy::Resync);
    rig.session.handle_open(0, &mut rig.books);
    let mut buf = String::new();
    let mut t = 0;
    // The subscribe message goes out first (the snapshot above stands in for its answer).
    assert!(rig.session.poll_transmit(t, &mut rig.books, &mut buf));
    assert!(buf.starts_with("{\"op\":\"subscribe\""), "{buf}");
    let kind = rig.feed(&book("delta", 13, &[("99.7", "1")], &[]), 2);
    assert_eq!(
        kind,
        FrameKind::Depth(
            BTC,
            DiffOutcome::Gap {
                expected: 11,
                got: 13
            }
        )
    );
    assert_eq!(
        statuses(&rig.events),
        vec![
            (StatusCode::Gap, 11, 13),
            (StatusCode::Resync, ResyncReason::Gap as i64, 0)
        ]
    );
    assert!(!rig.books[0].sync.is_synced());
    assert_eq!(best(&rig, BTC), (None, None));
    // Deltas meanwhile are dropped.
    assert_eq!(
        rig.feed(&book("delta", 14, &[], &[]), 3),
        FrameKind::Depth(BTC, DiffOutcome::Waiting)
    );
    let mut sent = Vec::new();
    for _ in 0..4 {
        t += 1_000_000_000;
        if rig.session.poll_transmit(t, &mut rig.books, &mut buf) {
            sent.push(buf.clone());
        }
    }
    assert_eq!(
        sent,
        vec![
            r#"{"op":"unsubscribe","args":["orderbook.50.BTCUSDT"],"req_id":"2"}"#.to_owned(),
            r#"{"op":"subscribe","args":["orderbook.50.BTCUSDT"],"req_id":"3"}"#.to_owned(),
        ]
    );
    rig.events.clear();
    let kind = rig.feed(
        &book("snapshot", 40, &[("100.5", "1")], &[("100.6", "1")]),
        4,
    );
    assert_eq!(kind, FrameKind::Depth(BTC, DiffOutcome::Applied));
    // Not a venue reset: the book was already gone.
    assert!(
        !statuses(&rig.events)
            .iter()
            .any(|s| s.0 == StatusCode::Resync)
    );
    assert_eq!(rig.books[0].sync.last_id(), Some(40));
    assert!(
        !rig.session
            .poll_transmit(t + 1_000_000_000, &mut rig.books, &mut buf)
    );
}

#[test]
fn under_continue_a_gap_is_reported_and_applied_on_top() {
    let mut rig = synced_rig(GapPolicy::Continue);
    let kind = rig.feed(&book("delta", 13, &[("99.7", "1")], &[]), 2);
    assert_eq!(
        kind,
        FrameKind::Depth(
            BTC,
            DiffOutcome::Gap {
                expected: 11,
                got: 13
            }
        )
    );
    assert_eq!(rig.books[0].sync.last_id(), Some(13));
    assert_eq!(rig.books[0].book.depth(Side::Bid), 3);
}

#[test]
fn duplicate_and_older_ids_are_stale() {
    let mut rig = synced_rig(GapPolicy::Resync);
    assert_eq!(
        rig.feed(&book("delta", 11, &[("99.8", "4")], &[]), 2),
        FrameKind::Depth(BTC, DiffOutcome::Applied)
    );
    assert_eq!(
        rig.feed(&book("delta", 11, &[("99.8", "9")], &[]), 3),
        FrameKind::Depth(BTC, DiffOutcome::Stale)
    );
    assert_eq!(
        rig.feed(&book("delta", 5, &[("99.6", "9")], &[]), 4),
        FrameKind::Depth(BTC, DiffOutcome::Stale)
    );
    let levels: Vec<Level> = rig.books[0].book.levels(Side::Bid).collect();
    assert_eq!(
        levels,
        vec![lvl(1000, 1_000), lvl(999, 2_000), lvl(998, 4_000)]
    );
    assert_eq!(rig.books[0].sync.stats().stale, 2);
    assert_eq!(rig.books[0].sync.last_id(), Some(11));
}

#[test]
fn a_book_at_capacity_keeps_the_best_levels_and_counts_the_rest() {
    let mut rig = Rig::new(
        registry(),
        Venue::BybitLinear,
        &["BTCUSDT"],
        3,
        GapPolicy::Resync,
    );
    let bids = [
        ("100.0", "1"),
        ("99.9", "1"),
        ("99.8", "1"),
        ("99.7", "1"),
        ("99.6", "1"),
    ];
    rig.feed(&book("snapshot", 10, &bids, &[("100.5", "1")]), 1);
    let levels: Vec<i64> = rig.books[0]
        .book
        .levels(Side::Bid)
        .map(|l| l.price.0)
        .collect();
    assert_eq!(levels, vec![1000, 999, 998]);
    assert_eq!(rig.books[0].sync.stats().truncated, 2);
    let kind = rig.feed(&book("delta", 11, &[("100.2", "1")], &[("100.6", "1")]), 2);
    assert_eq!(kind, FrameKind::Depth(BTC, DiffOutcome::Applied));
    let levels: Vec<i64> = rig.books[0]
        .book
        .levels(Side::Bid)
        .map(|l| l.price.0)
        .collect();
    assert_eq!(levels, vec![1002, 1000, 999]);
    assert!(rig.books[0].sync.stats().truncated >= 3);
}

#[test]
fn linear_tickers_merge_into_a_bbo_and_spot_tickers_are_ignored() {
    let mut rig = Rig::new(
        registry(),
        Venue::BybitLinear,
        &["BTCUSDT"],
        5_000,
        GapPolicy::Resync,
    );
    let frames = lines("ws_linear_tickers_BTCUSDT.jsonl");
    let bbos = |events: &[Event]| -> Vec<(i64, i64, i64, i64)> {
        events
            .iter()
            .filter_map(|e| match e.body() {
                Body::Bbo(b) => Some((b.bid_price.0, b.bid_qty.0, b.ask_price.0, b.ask_qty.0)),
                _ => None,
            })
            .collect()
    };
    // Snapshot: bid 65114.20 × 5.954, ask 65114.30 × 10.470.
    assert_eq!(rig.feed(&frames[0], 1), FrameKind::Bbo(BTC));
    // Delta: both sides.
    assert_eq!(rig.feed(&frames[1], 2), FrameKind::Bbo(BTC));
    // Delta: mark price and the ask only.
    assert_eq!(rig.feed(&frames[2], 3), FrameKind::Bbo(BTC));
    // Delta: the bid only.
    assert_eq!(rig.feed(&frames[3], 4), FrameKind::Bbo(BTC));
    assert_eq!(
        bbos(&rig.events),
        vec![
            (651_142, 5_954, 651_143, 10_470),
            (651_142, 6_054, 651_143, 10_486),
            (651_142, 6_054, 651_143, 10_488),
            (651_142, 6_124, 651_143, 10_488),
        ]
    );
    assert_eq!(rig.events[3].seq, 753_843_922_769);
    let quiet = r#"{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","markPrice":"65117.43"},"cs":1,"ts":2}"#;
    assert_eq!(rig.feed(quiet, 5), FrameKind::Ignored);
    let crossed = r#"{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","bid1Price":"65200.00"},"cs":2,"ts":3}"#;
    assert_eq!(rig.feed(crossed, 6), FrameKind::CrossedBbo(BTC));
    assert_eq!(
        statuses(&rig.events).last(),
        Some(&(StatusCode::Crossed, 652_000, 651_143))
    );

    let mut spot = Rig::new(
        registry(),
        Venue::BybitSpot,
        &["BTCUSDT"],
        5_000,
        GapPolicy::Resync,
    );
    for frame in lines("ws_spot_tickers_BTCUSDT.jsonl").iter().take(20) {
        assert_eq!(spot.feed(frame, 1), FrameKind::Ignored);
    }
    assert!(spot.events.is_empty());
}

#[test]
fn top_of_book_and_trades_become_events() {
    let mut rig = Rig::new(
        registry(),
        Venue::BybitSpot,
        &["ETHUSDT"],
        5_000,
        GapPolicy::Resync,
    );
    let eth = rig
        .reg
        .lookup(Venue::BybitSpot, b"ETHUSDT")
        .expect("eth")
        .id;
    let top = r#"{"topic":"orderbook.1.ETHUSDT","ts":1786310816618,"type":"snapshot","data":{"s":"ETHUSDT","b":[["1923.28","9.42925"]],"a":[["1923.29","3.44935"]],"u":5,"seq":6},"cts":1786310816600}"#;
    assert_eq!(rig.feed(top, 1), FrameKind::Bbo(eth));
    let Body::Bbo(b) = rig.events[0].body() else {
        panic!("not a bbo");
    };
    assert_eq!(
        (b.bid_price, b.bid_qty, b.ask_price, b.ask_qty),
        (Price(192_328), Qty(942_925), Price(192_329), Qty(344_935))
    );
    assert_eq!(
        (rig.events[0].seq, rig.events[0].exch_ns),
        (5, 1_786_310_816_600_000_000)
    );
    rig.events.clear();
    let frame = lines("ws_spot_publicTrade_ETHUSDT.jsonl")
        .into_iter()
        .find(|l| l.contains("2280000001739247420"))
        .expect("a two-trade frame");
    assert_eq!(rig.feed(&frame, 2), FrameKind::Trade(eth));
    let trades: Vec<_> = rig
        .events
        .iter()
        .filter_map(|e| match e.body() {
            Body::Trade(t) => Some((e.seq, t.trade_id, t.price.0, t.qty.0, t.aggressor)),
            _ => None,
        })
        .collect();
    assert_eq!(
        trades,
        vec![
            (
                2_280_000_001_739_247_420,
                2_280_000_001_739_247_420,
                192_329,
                80,
                Aggressor::Buy
            ),
            (
                2_280_000_001_739_247_421,
                2_280_000_001_739_247_421,
                192_329,
                32,
                Aggressor::Buy
            ),
        ]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random deltas after a snapshot: the book is always the model's.
    #[test]
    fn deltas_keep_the_book_equal_to_a_btreemap_model(
        steps in prop::collection::vec(
            (prop::collection::vec((0i64..60, 0i64..4), 0..8), prop::collection::vec((0i64..60, 0i64..4), 0..8)),
            1..40,
        ),
    ) {
        let mut rig = synced_rig(GapPolicy::Resync);
        let mut model = Reference::default();
        let snap = book("snapshot", 10, &[("100.0", "1"), ("99.9", "2")], &[("100.1", "3")]);
        model.apply(&snap, 1, 3);
        for (n, (bids, asks)) in steps.iter().enumerate() {
            // Bids at 94.0..99.9, asks at 100.1..106.0: never crossed.
            let b: Vec<(String, String)> = bids.iter().map(|&(p, q)| (format!("{}.{}", (940 + p) / 10, (940 + p) % 10), q.to_string())).collect();
            let a: Vec<(String, String)> = asks.iter().map(|&(p, q)| (format!("{}.{}", (1001 + p) / 10, (1001 + p) % 10), q.to_string())).collect();
            let b: Vec<(&str, &str)> = b.iter().map(|(p, q)| (p.as_str(), q.as_str())).collect();
            let a: Vec<(&str, &str)> = a.iter().map(|(p, q)| (p.as_str(), q.as_str())).collect();
            let frame = book("delta", 11 + n as u64, &b, &a);
            model.apply(&frame, 1, 3);
            prop_assert_eq!(rig.feed(&frame, 2 + n as u64), FrameKind::Depth(BTC, DiffOutcome::Applied));
            prop_assert!(model.same_as(&rig.books[0].book));
        }
    }
}
