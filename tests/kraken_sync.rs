//! Kraken's book rules through `KrakenSession`, on hand-made frames whose
//! checksums the reference model computes from the texts: truncation after
//! the whole message, a level leaving and re-entering scope, deleting an
//! absent level, qty 0, excess decimals refused, a bad checksum (mismatch,
//! resync, resubscribe, never the wrong book), a refused subscription; and
//! a property test against the model.

mod kraken_util;

use kraken_util::{Model, Rig, book_side, levels_of};
use proptest::prelude::*;
use tickwire::types::{EventKind, NumError, Side, StatusCode};
use tickwire::venue::{DiffOutcome, FrameKind, GapPolicy, What};

type Lv<'a> = &'a [(&'a str, &'a str)];

fn owned(l: Lv<'_>) -> Vec<(String, String)> {
    l.iter()
        .map(|(p, q)| ((*p).to_owned(), (*q).to_owned()))
        .collect()
}

fn json(l: Lv<'_>) -> String {
    let parts: Vec<String> = l
        .iter()
        .map(|(p, q)| format!(r#"{{"price":{p},"qty":{q}}}"#))
        .collect();
    format!("[{}]", parts.join(","))
}

/// A `book` frame for `symbol` with `checksum`.
fn frame(kind: &str, symbol: &str, bids: Lv<'_>, asks: Lv<'_>, checksum: u32) -> String {
    format!(
        r#"{{"channel":"book","type":"{kind}","data":[{{"symbol":"{symbol}","bids":{},"asks":{},"checksum":{checksum},"timestamp":"2026-08-16T23:37:05.723653Z"}}]}}"#,
        json(bids),
        json(asks)
    )
}

/// Applies `bids`/`asks` to the model and returns the frame with the
/// model's (the venue's) checksum.
fn step(model: &mut Model, kind: &str, symbol: &str, bids: Lv<'_>, asks: Lv<'_>) -> String {
    model.apply(kind == "snapshot", &owned(bids), &owned(asks));
    frame(kind, symbol, bids, asks, model.checksum())
}

fn btc(depth: u32) -> (Rig, Model) {
    let rig = Rig::new(
        &[
            ("BTC/USD", "0.1", "0.00000001"),
            ("ETH/USD", "0.01", "0.00000001"),
        ],
        depth,
        GapPolicy::Resync,
    );
    (rig, Model::new(depth as usize, 1, 8))
}

fn assert_same(rig: &Rig, model: &Model) {
    for side in [Side::Bid, Side::Ask] {
        assert_eq!(
            book_side(&rig.books[0].book, side),
            model.side(side),
            "{side:?}"
        );
    }
}

const SNAP_BIDS: Lv<'static> = &[
    ("100.0", "1.00000000"),
    ("99.0", "2.00000000"),
    ("98.0", "3.00000000"),
];
const SNAP_ASKS: Lv<'static> = &[
    ("101.0", "1.50000000"),
    ("102.0", "2.50000000"),
    ("103.0", "3.50000000"),
];

fn synced(depth: u32) -> (Rig, Model) {
    let (mut rig, mut model) = btc(depth);
    let f = step(&mut model, "snapshot", "BTC/USD", SNAP_BIDS, SNAP_ASKS);
    let id = rig.books[0].id;
    assert_eq!(
        rig.text(&f, 1),
        Ok(FrameKind::Depth(id, DiffOutcome::Applied))
    );
    rig.out.clear();
    (rig, model)
}

#[test]
fn an_update_before_the_snapshot_waits() {
    let (mut rig, mut model) = btc(3);
    let f = step(
        &mut model,
        "update",
        "BTC/USD",
        &[("97.0", "1.00000000")],
        &[],
    );
    let id = rig.books[0].id;
    assert_eq!(
        rig.text(&f, 1),
        Ok(FrameKind::Depth(id, DiffOutcome::Waiting))
    );
    assert!(rig.out.is_empty());
}

#[test]
fn each_side_is_cut_to_the_depth_after_the_whole_message() {
    let (mut rig, mut model) = synced(3);
    // A better bid pushes 98 out; a new ask deeper than the depth is cut.
    let f = step(
        &mut model,
        "update",
        "BTC/USD",
        &[("100.5", "1.00000000")],
        &[("104.0", "1.00000000")],
    );
    rig.text(&f, 2).unwrap();
    assert_same(&rig, &model);
    assert_eq!(book_side(&rig.books[0].book, Side::Bid).len(), 3);
    assert_eq!(
        book_side(&rig.books[0].book, Side::Bid)[2],
        (990, 200_000_000)
    );
    // The consumer is told about the cut level, and the batch ends once.
    let removed: Vec<_> = rig
        .out
        .iter()
        .filter(|e| e.kind() == Some(EventKind::Level))
        .collect();
    assert_eq!(
        removed.len(),
        4,
        "bid set, 98 cut, ask set, 104 cut: {removed:?}"
    );
    let ends = rig.out.iter().filter(|e| e.end_of_batch()).count();
    assert_eq!(ends, 1);
    assert!(rig.out.last().unwrap().end_of_batch());
}

#[test]
fn a_level_that_leaves_scope_and_comes_back_in_one_message_is_kept() {
    let (mut rig, mut model) = synced(3);
    // Insert a better bid (98 would be 4th) and delete 100 in the same
    // message: 98 is back in the top 3. Evicting while applying loses it.
    let f = step(
        &mut model,
        "update",
        "BTC/USD",
        &[("100.5", "1.00000000"), ("100.0", "0")],
        &[],
    );
    let id = rig.books[0].id;
    assert_eq!(
        rig.text(&f, 2),
        Ok(FrameKind::Depth(id, DiffOutcome::Applied))
    );
    assert_same(&rig, &model);
    assert_eq!(
        book_side(&rig.books[0].book, Side::Bid),
        vec![(1005, 100_000_000), (990, 200_000_000), (980, 300_000_000)]
    );
}

#[test]
fn deleting_an_absent_level_and_qty_zero_spellings() {
    let (mut rig, mut model) = synced(3);
    let f = step(
        &mut model,
        "update",
        "BTC/USD",
        &[("50.0", "0.00000000")],
        &[("102.0", "0")],
    );
    let id = rig.books[0].id;
    assert_eq!(
        rig.text(&f, 2),
        Ok(FrameKind::Depth(id, DiffOutcome::Applied))
    );
    assert_same(&rig, &model);
    assert_eq!(book_side(&rig.books[0].book, Side::Ask).len(), 2);
}

#[test]
fn excess_decimals_are_refused_and_the_book_resyncs() {
    let (mut rig, model) = synced(3);
    let f = frame(
        "update",
        "BTC/USD",
        &[("100.05", "1.00000000")],
        &[],
        model.checksum(),
    );
    let e = rig.text(&f, 2).unwrap_err();
    assert_eq!(e.what, What::Number(NumError::TooManyDecimals { scale: 1 }));
    assert_eq!(
        e.to_string(),
        "kraken: bad number (more than 1 significant decimal places) at `bids[0][0]`"
    );
    // A quantity too: lot 0.00000001.
    let f = frame("update", "BTC/USD", &[("100.0", "0.000000001")], &[], 0);
    assert_eq!(
        rig.text(&f, 2).unwrap_err().what,
        What::Number(NumError::TooManyDecimals { scale: 8 })
    );
    // The engine's next call: a DecodeError status, then a resync.
    let (reg, books, out) = (&rig.reg, &mut rig.books, &mut rig.out);
    rig.session
        .handle_undecodable(f.as_bytes(), 3, reg, books, out);
    let codes: Vec<_> = rig.out.iter().filter_map(|e| e.status_code()).collect();
    assert_eq!(codes, vec![StatusCode::DecodeError, StatusCode::Resync]);
    assert!(!rig.books[0].sync.is_synced());
    assert_eq!(rig.books[1].sync.stats().resyncs, 0, "ETH/USD untouched");
}

#[test]
fn a_bad_checksum_resyncs_that_book_only_and_publishes_nothing_wrong() {
    let (mut rig, mut model) = synced(3);
    let good = model.checksum();
    let f = frame(
        "update",
        "BTC/USD",
        &[("99.5", "1.00000000")],
        &[],
        good ^ 1,
    );
    let id = rig.books[0].id;
    let kind = rig.text(&f, 2).unwrap();
    assert!(matches!(kind, FrameKind::Depth(i, DiffOutcome::ChecksumMismatch { .. }) if i == id));
    // Only statuses: ChecksumMismatch then Resync; no level of the update.
    let codes: Vec<_> = rig.out.iter().map(|e| e.status_code()).collect();
    assert_eq!(
        codes,
        vec![Some(StatusCode::ChecksumMismatch), Some(StatusCode::Resync)]
    );
    assert_eq!(rig.books[0].sync.stats().checksum_mismatches, 1);
    assert!(rig.books[0].book.best_bid_is_none());
    // The session resubscribes that book: unsubscribe, then subscribe.
    let mut buf = String::new();
    let mut now = 10_000_000_000;
    let mut sent = Vec::new();
    rig.session.handle_open(0, &mut rig.books);
    // Drain the initial subscription first (3 channels, one chunk each).
    for _ in 0..20 {
        if rig.session.poll_transmit(now, &mut rig.books, &mut buf) {
            sent.push(buf.clone());
        }
        now += 1_000_000_000;
    }
    // handle_open restarted the subscription, which carries the snapshot
    // request; force the resubscribe path by a second mismatch after a new
    // snapshot.
    assert!(sent[0].starts_with(r#"{"method":"subscribe","params":{"channel":"book""#));
    let snap = step(&mut model, "snapshot", "BTC/USD", SNAP_BIDS, SNAP_ASKS);
    rig.text(&snap, now).unwrap();
    assert!(rig.books[0].sync.is_synced());
    assert_same(&rig, &model);
    let bad = frame("update", "BTC/USD", &[("99.5", "1.00000000")], &[], 7);
    rig.text(&bad, now).unwrap();
    sent.clear();
    for _ in 0..5 {
        if rig.session.poll_transmit(now, &mut rig.books, &mut buf) {
            sent.push(buf.clone());
        }
        now += 1_000_000_000;
    }
    assert_eq!(
        sent[..2],
        [
            r#"{"method":"unsubscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":3}}"#.to_owned(),
            r#"{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":3,"snapshot":true}}"#.to_owned(),
        ]
    );
    assert_eq!(rig.books[1].sync.stats().checksum_mismatches, 0);
}

#[test]
fn a_refused_subscription_is_a_venue_error() {
    let (mut rig, _) = btc(10);
    let refusal = r#"{"error":"Subscription depth not supported","method":"subscribe","success":false,"symbol":"BTC/USD","time_in":"2026-08-16T23:37:04.849274Z","time_out":"2026-08-16T23:37:04.849309Z"}"#;
    assert_eq!(rig.text(refusal, 1), Ok(FrameKind::VenueError(0)));
    assert_eq!(rig.session.stats().venue_errors, 1);
    let ack = r#"{"method":"subscribe","result":{"channel":"book","depth":10,"snapshot":true,"symbol":"BTC/USD"},"success":true,"time_in":"2026-08-16T23:37:04.849274Z","time_out":"2026-08-16T23:37:04.849309Z"}"#;
    assert_eq!(rig.text(ack, 2), Ok(FrameKind::SubscribeResult(None)));
}

#[test]
fn one_frame_may_carry_several_symbols() {
    let (mut rig, _) = btc(3);
    let f = r#"{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[{"price":100.0,"qty":1.00000000}],"asks":[],"checksum":0,"timestamp":"2026-08-16T23:37:05Z"},{"symbol":"ETH/USD","bids":[],"asks":[{"price":2.01,"qty":1.00000000}],"checksum":0,"timestamp":"2026-08-16T23:37:05Z"}]}"#;
    // Both checksums are wrong (0): each book is refused on its own.
    rig.text(f, 1).unwrap();
    assert_eq!(rig.books[0].sync.stats().checksum_mismatches, 1);
    assert_eq!(rig.books[1].sync.stats().checksum_mismatches, 1);
    let mut m0 = Model::new(3, 1, 8);
    m0.apply(true, &levels_of(r#"{"price":100.0,"qty":1.00000000}"#), &[]);
    let mut m1 = Model::new(3, 2, 8);
    m1.apply(true, &[], &levels_of(r#"{"price":2.01,"qty":1.00000000}"#));
    let f = f
        .replacen(
            "\"checksum\":0",
            &format!("\"checksum\":{}", m0.checksum()),
            1,
        )
        .replacen(
            "\"checksum\":0",
            &format!("\"checksum\":{}", m1.checksum()),
            1,
        );
    rig.text(&f, 2).unwrap();
    assert!(rig.books[0].sync.is_synced() && rig.books[1].sync.is_synced());
    assert_eq!(
        book_side(&rig.books[1].book, Side::Ask),
        vec![(201, 100_000_000)]
    );
}

trait BestBid {
    fn best_bid_is_none(&self) -> bool;
}

impl BestBid for tickwire::book::Ladder {
    fn best_bid_is_none(&self) -> bool {
        use tickwire::book::BookRead;
        self.best_bid().is_none() && self.best_ask().is_none()
    }
}

fn refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

/// One level as (price units at tick 0.1, qty units at 8 decimals).
fn text_of(price: u32, qty: u32) -> (String, String) {
    (
        format!("{}.{}", price / 10, price % 10),
        format!("{}.{:08}", qty / 100_000_000, qty % 100_000_000),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    /// Random snapshots and updates: the session's book and checksum are
    /// the model's after every message, and every message applies.
    #[test]
    fn the_session_follows_the_model(
        depth in prop::sample::select(vec![10u32, 25]),
        snapshot in prop::collection::vec((0u32..200, 1u32..1_000_000), 0..40),
        updates in prop::collection::vec(
            prop::collection::vec((any::<bool>(), 0u32..200, 0u32..1_000_000), 0..12),
            1..30,
        ),
    ) {
        let (mut rig, mut model) = btc(depth);
        // Bids below 100.0, asks from 100.1: never crossed.
        let split = |levels: Vec<(bool, u32, u32)>| {
            let (mut bids, mut asks) = (Vec::new(), Vec::new());
            for (bid, p, q) in levels {
                if bid { bids.push(text_of(800 + p, q)) } else { asks.push(text_of(1_001 + p, q)) }
            }
            (bids, asks)
        };
        let (bids, asks) = split(snapshot.iter().enumerate().map(|(i, &(p, q))| (i % 2 == 0, p, q)).collect());
        let f = step(&mut model, "snapshot", "BTC/USD", &refs(&bids), &refs(&asks));
        let id = rig.books[0].id;
        prop_assert_eq!(rig.text(&f, 1), Ok(FrameKind::Depth(id, DiffOutcome::Applied)));
        for (n, u) in updates.into_iter().enumerate() {
            let (bids, asks) = split(u);
            let f = step(&mut model, "update", "BTC/USD", &refs(&bids), &refs(&asks));
            prop_assert_eq!(rig.text(&f, n as u64 + 2), Ok(FrameKind::Depth(id, DiffOutcome::Applied)));
            for side in [Side::Bid, Side::Ask] {
                prop_assert_eq!(book_side(&rig.books[0].book, side), model.side(side));
            }
            prop_assert_eq!(tickwire::venue::kraken::checksum(&rig.books[0].book), model.checksum());
        }
    }
}
