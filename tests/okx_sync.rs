//! OKX book sync through `OkxSession`: the real capture replays to the
//! right books with every checksum valid; hand-made sequences exercise each
//! rule (mid-stream snapshot, heartbeat, seqId going backwards, a broken
//! chain, checksums absent, zero or wrong, capacity truncation); a property
//! test against a `BTreeMap` model; and the session's transmit side on
//! injected time.

use std::collections::BTreeMap;

use tickwire::book::{BookRead, Level};
use tickwire::types::{
    Event, EventKind, InstrumentId, Price, Qty, Registry, Side, StatusCode, Venue,
};
use tickwire::venue::okx::{OkxDecoder, OkxMsg, OkxSession};
use tickwire::venue::{
    Channel, DiffOutcome, FrameKind, GapPolicy, InstrumentBook, PlannedInstrument, SessionPlan,
    books_for,
};

fn registry() -> Registry {
    let mut reg = Registry::new();
    reg.add(Venue::Okx, "BTC-USDT", "0.1", "0.00000001")
        .unwrap();
    reg.add(Venue::Okx, "UNI-USD-SWAP", "0.001", "1").unwrap();
    reg.add(Venue::Okx, "BTC-USD-220527", "0.1", "1").unwrap();
    reg
}

fn plan(reg: &Registry, capacity: usize, per_subscribe: usize, per_sec: u32) -> SessionPlan {
    SessionPlan {
        venue: Venue::Okx,
        ws_url: "wss://ws.okx.com:8443/ws/v5/public".to_owned(),
        rest_url: String::new(),
        instruments: reg
            .iter()
            .map(|i| PlannedInstrument {
                id: i.id,
                symbol: i.symbol.as_str().to_owned(),
            })
            .collect(),
        channels: vec![Channel::Depth, Channel::BookTicker, Channel::Trade],
        depth_interval_ms: 100,
        depth: 400,
        url_streams: None,
        streams_per_subscribe: per_subscribe,
        control_per_sec: per_sec,
        book_capacity: capacity,
        max_frame: tickwire::venue::okx::DEFAULT_MAX_FRAME,
    }
}

struct Rig {
    reg: Registry,
    session: OkxSession,
    books: Vec<InstrumentBook>,
    events: Vec<Event>,
}

impl Rig {
    fn new(capacity: usize) -> Rig {
        let reg = registry();
        let session = OkxSession::new(&plan(&reg, capacity, 30, 2));
        let books = books_for(&reg, capacity, GapPolicy::Resync);
        Rig {
            reg,
            session,
            books,
            events: Vec::new(),
        }
    }

    fn feed(&mut self, frame: &str, now: u64) -> FrameKind {
        self.session
            .handle_text(
                frame.as_bytes(),
                now,
                &self.reg,
                &mut self.books,
                &mut self.events,
            )
            .unwrap()
    }

    fn book(&self) -> &InstrumentBook {
        &self.books[0]
    }

    fn side(&self, side: Side) -> Vec<(i64, i64)> {
        self.book()
            .book
            .levels(side)
            .map(|l| (l.price.0, l.qty.0))
            .collect()
    }
}

fn fixture(name: &str) -> Vec<String> {
    let path = format!("{}/tests/fixtures/okx/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The venue's checksum of a book given as wire strings, best first.
fn okx_sum(bids: &[(&str, &str)], asks: &[(&str, &str)]) -> i32 {
    let mut parts = Vec::new();
    for i in 0..25 {
        for side in [bids, asks] {
            if let Some((p, q)) = side.get(i) {
                parts.push(format!("{p}:{q}"));
            }
        }
    }
    crc32fast::hash(parts.join(":").as_bytes()) as i32
}

/// A BTC-USDT `books` frame.
fn frame(
    action: &str,
    bids: &[(&str, &str)],
    asks: &[(&str, &str)],
    checksum: Option<i32>,
    seq: Option<(i64, i64)>,
) -> String {
    let lv = |s: &[(&str, &str)]| {
        s.iter()
            .map(|(p, q)| format!(r#"["{p}","{q}","0","1"]"#))
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut data = format!(
        r#""asks":[{}],"bids":[{}],"ts":"1652459225381""#,
        lv(asks),
        lv(bids)
    );
    if let Some(c) = checksum {
        data += &format!(r#","checksum":{c}"#);
    }
    if let Some((prev, id)) = seq {
        data += &format!(r#","prevSeqId":{prev},"seqId":{id}"#);
    }
    format!(
        r#"{{"arg":{{"channel":"books","instId":"BTC-USDT"}},"action":"{action}","data":[{{{data}}}]}}"#
    )
}

#[test]
fn the_capture_replays_to_the_right_books_with_every_checksum_valid() {
    // Room beyond the venue's 400: the model below keeps every level.
    let mut rig = Rig::new(1_000);
    let frames = fixture("ws_public_all_frames_2022-05-13.jsonl");
    // An independent model: the decoded levels into BTreeMaps.
    let mut model: Vec<[BTreeMap<i64, i64>; 2]> = vec![Default::default(); 3];
    let mut dec = OkxDecoder::new();
    let mut depth = 0;
    for (i, f) in frames.iter().enumerate() {
        if let OkxMsg::Book(m) = dec
            .decode(f.as_bytes(), &rig.reg.venue(Venue::Okx))
            .unwrap()
        {
            let sides = &mut model[m.scaling.instrument.index()];
            if m.action == tickwire::venue::okx::Action::Snapshot {
                sides.iter_mut().for_each(BTreeMap::clear);
            }
            for (s, levels) in [(0, m.bids), (1, m.asks)] {
                for l in levels {
                    match l.qty.0 {
                        0 => sides[s].remove(&l.price.0),
                        q => sides[s].insert(l.price.0, q),
                    };
                }
            }
        }
        match rig.feed(f, 1_000 + i as u64) {
            FrameKind::Depth(_, outcome) => {
                assert_eq!(outcome, DiffOutcome::Applied, "frame {i}");
                depth += 1;
            }
            FrameKind::Trade(_) | FrameKind::SubscribeResult(None) | FrameKind::Ignored => {}
            other => panic!("frame {i}: {other:?}"),
        }
    }
    assert_eq!(depth, 290);
    for (st, want) in rig.books.iter().zip(&model) {
        let s = st.sync.stats();
        assert_eq!(
            (s.snapshots, s.checksum_mismatches, s.checksums_skipped),
            (1, 0, 0)
        );
        assert!(st.sync.is_synced());
        let bids: Vec<_> = st
            .book
            .levels(Side::Bid)
            .map(|l| (l.price.0, l.qty.0))
            .collect();
        let asks: Vec<_> = st
            .book
            .levels(Side::Ask)
            .map(|l| (l.price.0, l.qty.0))
            .collect();
        let want_bids: Vec<_> = want[0].iter().rev().map(|(p, q)| (*p, *q)).collect();
        let want_asks: Vec<_> = want[1].iter().map(|(p, q)| (*p, *q)).collect();
        assert_eq!(bids, want_bids);
        assert_eq!(asks, want_asks);
    }
    let applied: Vec<u64> = rig.books.iter().map(|b| b.sync.stats().applied).collect();
    assert_eq!(applied, [97, 92, 98]);
    // The last BTC-USDT frame's book by hand: best bid and ask.
    let btc = &rig.books[0].book;
    assert!(btc.best_bid().unwrap().price < btc.best_ask().unwrap().price);
}

#[test]
fn a_mid_stream_snapshot_replaces_the_book() {
    let mut rig = Rig::new(50);
    let a = [("10.5", "1")];
    let b = [("11", "2")];
    rig.feed(&frame("snapshot", &a, &b, Some(okx_sum(&a, &b)), None), 1);
    let b2 = [("11", "2"), ("12", "0.50")];
    rig.feed(
        &frame(
            "update",
            &[],
            &[("12", "0.50")],
            Some(okx_sum(&a, &b2)),
            None,
        ),
        2,
    );
    let (bids, asks) = ([("9", "3")], [("9.5", "4")]);
    let k = rig.feed(
        &frame("snapshot", &bids, &asks, Some(okx_sum(&bids, &asks)), None),
        3,
    );
    assert_eq!(k, FrameKind::Depth(InstrumentId(0), DiffOutcome::Applied));
    assert_eq!(rig.side(Side::Bid), [(90, 300_000_000)]);
    assert_eq!(rig.side(Side::Ask), [(95, 400_000_000)]);
    assert_eq!(rig.book().sync.stats().snapshots, 2);
}

#[test]
fn heartbeat_and_backward_seq_ids_that_chain() {
    let mut rig = Rig::new(50);
    let (b, a) = ([("10", "1")], [("11", "1")]);
    let sum = okx_sum(&b, &a);
    rig.feed(&frame("snapshot", &b, &a, Some(sum), Some((-1, 100))), 1);
    // seqId == prevSeqId: a heartbeat, nothing changes.
    let k = rig.feed(&frame("update", &[], &[], Some(sum), Some((100, 100))), 2);
    assert_eq!(k, FrameKind::Depth(InstrumentId(0), DiffOutcome::Stale));
    assert_eq!(rig.book().sync.stats().stale, 1);
    // seqId goes back (maintenance) but prevSeqId chains: applied.
    let b2 = [("10", "2")];
    let k = rig.feed(
        &frame("update", &b2, &[], Some(okx_sum(&b2, &a)), Some((100, 50))),
        3,
    );
    assert_eq!(k, FrameKind::Depth(InstrumentId(0), DiffOutcome::Applied));
    let k = rig.feed(
        &frame(
            "update",
            &[("10", "0")],
            &[],
            Some(okx_sum(&[], &a)),
            Some((50, 60)),
        ),
        4,
    );
    assert_eq!(k, FrameKind::Depth(InstrumentId(0), DiffOutcome::Applied));
    assert_eq!(
        rig.session.book_sync(InstrumentId(0)).unwrap().last_seq(),
        Some(60)
    );
    assert_eq!(rig.book().sync.last_id(), Some(60));
    assert_eq!(rig.side(Side::Bid), []);
}

fn statuses(events: &[Event]) -> Vec<StatusCode> {
    events.iter().filter_map(Event::status_code).collect()
}

#[test]
fn a_broken_chain_is_a_gap_then_a_resubscribe_then_a_good_book() {
    let mut rig = Rig::new(50);
    rig.session.handle_open(0, &mut rig.books);
    let mut out = String::new();
    let mut t = 0;
    // Drain the initial subscription (9 args in one message).
    assert!(rig.session.poll_transmit(t, &mut rig.books, &mut out));
    assert!(
        out.starts_with(r#"{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}"#)
    );
    let (b, a) = ([("10", "1")], [("11", "1")]);
    rig.feed(
        &frame("snapshot", &b, &a, Some(okx_sum(&b, &a)), Some((-1, 100))),
        1,
    );
    rig.events.clear();
    let k = rig.feed(
        &frame("update", &[("10", "5")], &[], None, Some((99, 101))),
        2,
    );
    assert_eq!(
        k,
        FrameKind::Depth(
            InstrumentId(0),
            DiffOutcome::Gap {
                expected: 100,
                got: 99
            }
        )
    );
    assert_eq!(statuses(&rig.events), [StatusCode::Gap, StatusCode::Resync]);
    assert!(!rig.book().sync.is_synced());
    assert_eq!(rig.side(Side::Bid), []);
    // The session unsubscribes and resubscribes that instrument's books.
    let mut sent = Vec::new();
    for _ in 0..4 {
        t += 500_000_000;
        if rig.session.poll_transmit(t, &mut rig.books, &mut out) {
            sent.push(out.clone());
        }
    }
    let arg = r#""args":[{"channel":"books","instId":"BTC-USDT"}]}"#;
    assert_eq!(
        sent,
        [
            format!(r#"{{"op":"unsubscribe",{arg}"#),
            format!(r#"{{"op":"subscribe",{arg}"#)
        ]
    );
    let (b, a) = ([("10", "7")], [("11", "1")]);
    let k = rig.feed(
        &frame("snapshot", &b, &a, Some(okx_sum(&b, &a)), Some((-1, 500))),
        3,
    );
    assert_eq!(k, FrameKind::Depth(InstrumentId(0), DiffOutcome::Applied));
    assert_eq!(rig.side(Side::Bid), [(100, 700_000_000)]);
    let k = rig.feed(
        &frame(
            "update",
            &[],
            &[("11", "0.2")],
            Some(okx_sum(&b, &[("11", "0.2")])),
            Some((500, 501)),
        ),
        4,
    );
    assert_eq!(k, FrameKind::Depth(InstrumentId(0), DiffOutcome::Applied));
    assert_eq!(rig.book().sync.stats().gaps, 1);
}

#[test]
fn absent_or_zero_checksums_are_skipped_and_counted() {
    let mut rig = Rig::new(50);
    let (b, a) = ([("10", "1")], [("11", "1")]);
    rig.feed(&frame("snapshot", &b, &a, None, None), 1);
    let k = rig.feed(&frame("update", &[("10.1", "1")], &[], Some(0), None), 2);
    assert_eq!(k, FrameKind::Depth(InstrumentId(0), DiffOutcome::Applied));
    assert_eq!(rig.book().sync.stats().checksums_skipped, 2);
    assert_eq!(
        rig.side(Side::Bid),
        [(101, 100_000_000), (100, 100_000_000)]
    );
}

#[test]
fn a_bad_checksum_publishes_nothing_of_the_wrong_book() {
    let mut rig = Rig::new(50);
    rig.session.handle_open(0, &mut rig.books);
    let mut out = String::new();
    assert!(rig.session.poll_transmit(0, &mut rig.books, &mut out));
    let (b, a) = ([("10", "1")], [("11", "1")]);
    rig.feed(&frame("snapshot", &b, &a, Some(okx_sum(&b, &a)), None), 1);
    rig.events.clear();
    // "1.0" spelled where the venue spelled "1": same value, other sum.
    let wrong = okx_sum(&[("10.2", "1.0"), ("10", "1")], &a);
    let k = rig.feed(
        &frame("update", &[("10.2", "1")], &[], Some(wrong), None),
        2,
    );
    let DiffOutcome::ChecksumMismatch { venue, book } = (match k {
        FrameKind::Depth(_, o) => o,
        other => panic!("{other:?}"),
    }) else {
        panic!("{k:?}");
    };
    assert_eq!(venue, i64::from(wrong));
    assert_eq!(book, i64::from(okx_sum(&[("10.2", "1"), ("10", "1")], &a)));
    // Only the statuses went out: no level event of the update.
    assert!(
        rig.events
            .iter()
            .all(|e| e.kind() == Some(EventKind::Status))
    );
    assert_eq!(
        statuses(&rig.events),
        [StatusCode::ChecksumMismatch, StatusCode::Resync]
    );
    assert!(!rig.book().sync.is_synced());
    assert_eq!(rig.book().sync.stats().checksum_mismatches, 1);
    assert!(
        rig.session
            .poll_transmit(1_000_000_000, &mut rig.books, &mut out)
    );
    assert!(out.starts_with(r#"{"op":"unsubscribe""#));
    // Updates before the next snapshot wait.
    let k = rig.feed(&frame("update", &[("10", "1")], &[], None, None), 3);
    assert_eq!(k, FrameKind::Depth(InstrumentId(0), DiffOutcome::Waiting));
}

#[test]
fn capacity_truncation_keeps_the_checksum_of_the_levels_kept() {
    let mut rig = Rig::new(3);
    let bids = [
        ("10.5", "1"),
        ("10.4", "2.0"),
        ("10.3", "3"),
        ("10.2", "4"),
        ("10.1", "5"),
    ];
    let a = [("11", "1")];
    // The venue's sum covers 5 bids; ours holds 3: no checksum sent here.
    rig.feed(&frame("snapshot", &bids, &a, Some(0), None), 1);
    let ours = |rig: &Rig| {
        let st = rig.book();
        let sync = rig.session.book_sync(st.id).unwrap();
        (
            sync.spelling().len(Side::Bid),
            sync.spelling()
                .peek_checksum(
                    &st.book,
                    tickwire::types::Scale::new(1).unwrap(),
                    tickwire::types::Scale::new(8).unwrap(),
                )
                .unwrap(),
        )
    };
    assert_eq!(ours(&rig), (3, okx_sum(&bids[..3], &a)));
    // Deleting the best leaves two (the venue's 4th is not known here).
    rig.feed(&frame("update", &[("10.5", "0")], &[], None, None), 2);
    assert_eq!(ours(&rig), (2, okx_sum(&bids[1..3], &a)));
    // Two better bids: the worst kept one is evicted, its spelling too.
    let b2 = [("10.7", "0.70"), ("10.6", "6")];
    rig.feed(&frame("update", &b2, &[], None, None), 3);
    assert_eq!(ours(&rig), (3, okx_sum(&[b2[0], b2[1], bids[1]], &a)));
    assert!(rig.book().sync.stats().truncated > 0);
}

/// Generated snapshots and updates on a small price grid with varied
/// spellings, each with the checksum the model computes: every message
/// applies, and the book equals the model's.
mod model {
    use super::*;
    use proptest::prelude::*;

    fn spelled(v: u32, extra: u8) -> String {
        let s = format!("{}.{}", v / 10, v % 10);
        match extra {
            0 if v % 10 == 0 => (v / 10).to_string(),
            0 | 1 => s,
            _ => format!("{s}0"),
        }
    }

    fn level() -> impl Strategy<Value = (bool, u32, u32, u8, u8)> {
        // side, price tick (0..40), size (0 deletes in updates), spellings
        (any::<bool>(), 0u32..40, 0u32..30, 0u8..3, 0u8..3)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn session_book_equals_the_model(
            msgs in proptest::collection::vec((any::<bool>(), proptest::collection::vec(level(), 0..12)), 1..25)
        ) {
            let mut rig = Rig::new(100);
            // price -> (size mantissa, price text, size text); bids < 100, asks >= 100.
            let mut model: [BTreeMap<u32, (i64, String, String)>; 2] = Default::default();
            let mut synced = false;
            for (i, (snapshot, levels)) in msgs.iter().enumerate() {
                let snapshot = *snapshot || i == 0;
                if snapshot {
                    model.iter_mut().for_each(BTreeMap::clear);
                }
                let mut sides: [Vec<(String, String)>; 2] = Default::default();
                let mut seen = std::collections::BTreeSet::new();
                for &(ask, tick, size, ps, ss) in levels {
                    let price = if ask { 1000 + tick } else { 999 - tick };
                    if !seen.insert(price) || (snapshot && size == 0) {
                        continue;
                    }
                    let (pt, st) = (spelled(price, ps), spelled(size, ss));
                    let s = usize::from(ask);
                    sides[s].push((pt.clone(), st.clone()));
                    if size == 0 {
                        model[s].remove(&price);
                    } else {
                        model[s].insert(price, (i64::from(size) * 10_000_000, pt, st));
                    }
                }
                let text = |s: usize, rev: bool| -> Vec<(String, String)> {
                    let v: Vec<_> = model[s].values().map(|(_, p, q)| (p.clone(), q.clone())).collect();
                    if rev { v.into_iter().rev().collect() } else { v }
                };
                let (mb, ma) = (text(0, true), text(1, false));
                fn r(v: &[(String, String)]) -> Vec<(&str, &str)> {
                    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
                }
                let sum = okx_sum(&r(&mb), &r(&ma));
                let f = frame(if snapshot { "snapshot" } else { "update" }, &r(&sides[0]), &r(&sides[1]), Some(sum), None);
                let k = rig.feed(&f, i as u64);
                synced |= snapshot;
                prop_assert_eq!(k, FrameKind::Depth(InstrumentId(0), DiffOutcome::Applied), "{}", f);
                let want_bids: Vec<_> = model[0].iter().rev().map(|(p, (q, _, _))| (i64::from(*p), *q)).collect();
                let want_asks: Vec<_> = model[1].iter().map(|(p, (q, _, _))| (i64::from(*p), *q)).collect();
                prop_assert_eq!(rig.side(Side::Bid), want_bids);
                prop_assert_eq!(rig.side(Side::Ask), want_asks);
            }
            prop_assert!(synced);
            prop_assert_eq!(rig.book().sync.stats().checksum_mismatches, 0);
        }
    }
}

#[test]
fn level_helper_is_exact() {
    // The frame helper's numbers become these mantissas.
    let l = Level {
        price: Price(105),
        qty: Qty(100_000_000),
    };
    let mut rig = Rig::new(10);
    rig.feed(&frame("snapshot", &[("10.5", "1")], &[], None, None), 1);
    assert_eq!(rig.book().book.best_bid(), Some(l));
}
