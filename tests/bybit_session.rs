//! `BybitSession`'s outbound side on a `ManualClock`: subscribe chunking
//! and topics, pacing, ping cadence, resubscribe of a book that wants a
//! snapshot, forgetting everything on close; and the control replies.

mod bybit;

use bybit::registry;
use bybit::session_util::plan;
use tickwire::types::{Clock, ManualClock, Registry, ResyncReason, Venue};
use tickwire::venue::bybit::BybitSession;
use tickwire::venue::{Channel, FrameKind, GapPolicy, InstrumentBook, books_for};

const SEC: u64 = 1_000_000_000;
const ALL: [Channel; 3] = [Channel::Depth, Channel::BookTicker, Channel::Trade];

/// A registry of `n` spot symbols `S0USDT`, `S1USDT`, ...
fn many(n: usize) -> (Registry, Vec<String>) {
    let mut reg = Registry::new();
    let names: Vec<String> = (0..n).map(|i| format!("S{i}USDT")).collect();
    for s in &names {
        reg.add(Venue::BybitSpot, s, "0.01", "0.001")
            .expect("instrument");
    }
    (reg, names)
}

/// Everything `poll_transmit` gives at `now`, up to 100 messages.
fn drain(s: &mut BybitSession, now: u64, books: &mut [InstrumentBook]) -> Vec<String> {
    let mut buf = String::new();
    let mut out = Vec::new();
    for _ in 0..100 {
        if !s.poll_transmit(now, books, &mut buf) {
            break;
        }
        out.push(buf.clone());
    }
    out
}

#[test]
fn subscribes_go_out_in_chunks_paced_evenly() {
    let (reg, names) = many(12);
    let symbols: Vec<&str> = names.iter().map(String::as_str).collect();
    // 36 topics, 10 a message, 4 messages a second.
    let mut s = BybitSession::new(&plan(Venue::BybitSpot, &reg, &symbols, &ALL, 10, 4, 100));
    let mut books = books_for(&reg, 100, GapPolicy::Resync);
    let clock = ManualClock::new(5 * SEC);
    assert_eq!(s.poll_timeout(0), None);
    assert!(
        drain(&mut s, clock.now(), &mut books).is_empty(),
        "nothing before open"
    );
    s.handle_open(clock.now(), &mut books);
    let mut sent = Vec::new();
    // 250 ms apart: one message per slot, none between.
    for step in 0..8 {
        let got = drain(&mut s, clock.now(), &mut books);
        assert!(got.len() <= 1, "step {step}: {got:?}");
        if step % 2 == 0 && step < 8 {
            assert_eq!(got.len(), 1, "step {step}");
        }
        sent.extend(got);
        clock.advance(SEC / 8);
    }
    assert_eq!(sent.len(), 4);
    assert_eq!(
        sent[0],
        concat!(
            r#"{"op":"subscribe","args":["orderbook.50.S0USDT","orderbook.1.S0USDT","publicTrade.S0USDT","#,
            r#""orderbook.50.S1USDT","orderbook.1.S1USDT","publicTrade.S1USDT","#,
            r#""orderbook.50.S2USDT","orderbook.1.S2USDT","publicTrade.S2USDT","#,
            r#""orderbook.50.S3USDT"],"req_id":"1"}"#
        )
    );
    let args = |m: &str| m.matches("USDT\"").count();
    assert_eq!(
        sent.iter().map(|m| args(m)).collect::<Vec<_>>(),
        vec![10, 10, 10, 6]
    );
    assert!(
        sent[3].ends_with(r#""publicTrade.S11USDT"],"req_id":"4"}"#),
        "{}",
        sent[3]
    );
    // Each instrument's snapshot is now in flight: no resubscribe is asked for.
    assert!(books.iter().all(|b| b.sync.snapshot_in_flight()));
    assert!(drain(&mut s, clock.now() + 10 * SEC, &mut books).is_empty());

    // A plan asking for more than spot's 10 args a request still gets 10.
    let mut s = BybitSession::new(&plan(Venue::BybitSpot, &reg, &symbols, &ALL, 50, 100, 100));
    s.handle_open(0, &mut books);
    let sent = drain(&mut s, 0, &mut books);
    let sent2 = drain(&mut s, SEC, &mut books);
    assert_eq!((sent.len(), sent2.len()), (1, 1));
    assert_eq!(sent[0].matches("USDT\"").count(), 10);
}

#[test]
fn linear_book_ticker_is_the_tickers_topic() {
    let reg = registry();
    let mut s = BybitSession::new(&plan(
        Venue::BybitLinear,
        &reg,
        &["BTCUSDT", "ETHUSDT"],
        &ALL,
        50,
        5,
        100,
    ));
    let mut books = books_for(&reg, 100, GapPolicy::Resync);
    s.handle_open(0, &mut books);
    assert_eq!(
        drain(&mut s, 0, &mut books),
        vec![concat!(
            r#"{"op":"subscribe","args":["orderbook.50.BTCUSDT","tickers.BTCUSDT","publicTrade.BTCUSDT","#,
            r#""orderbook.50.ETHUSDT","tickers.ETHUSDT","publicTrade.ETHUSDT"],"req_id":"1"}"#
        )]
    );
    assert_eq!(s.url(), "wss://stream.bybit.com/v5/public/linear");
    assert_eq!(s.instruments().len(), 2);
}

#[test]
fn pings_every_twenty_seconds_and_poll_timeout_says_when() {
    let reg = registry();
    let mut s = BybitSession::new(&plan(
        Venue::BybitLinear,
        &reg,
        &["BTCUSDT"],
        &[Channel::Depth],
        10,
        2,
        100,
    ));
    let mut books = books_for(&reg, 100, GapPolicy::Resync);
    let clock = ManualClock::new(SEC);
    s.handle_open(clock.now(), &mut books);
    assert_eq!(s.poll_timeout(0), Some(SEC));
    assert_eq!(drain(&mut s, clock.now(), &mut books).len(), 1);
    assert_eq!(s.poll_timeout(0), Some(21 * SEC));
    clock.advance(20 * SEC - 1);
    assert!(drain(&mut s, clock.now(), &mut books).is_empty());
    clock.advance(1);
    assert_eq!(
        drain(&mut s, clock.now(), &mut books),
        vec![r#"{"req_id":"2","op":"ping"}"#]
    );
    assert_eq!(s.poll_timeout(0), Some(41 * SEC));
    clock.advance(20 * SEC);
    assert_eq!(
        drain(&mut s, clock.now(), &mut books),
        vec![r#"{"req_id":"3","op":"ping"}"#]
    );
    let pong = br#"{"success":true,"ret_msg":"pong","conn_id":"x","op":"ping"}"#;
    let kind = s.handle_text(pong, clock.now(), &reg, &mut books, &mut Vec::new());
    assert_eq!(kind, Ok(FrameKind::Pong));
}

#[test]
fn a_book_that_wants_a_snapshot_is_resubscribed_paced_once() {
    let reg = registry();
    let mut s = BybitSession::new(&plan(
        Venue::BybitLinear,
        &reg,
        &["BTCUSDT", "ETHUSDT"],
        &ALL,
        10,
        2,
        100,
    ));
    let mut books = books_for(&reg, 100, GapPolicy::Resync);
    let clock = ManualClock::new(0);
    s.handle_open(clock.now(), &mut books);
    assert_eq!(drain(&mut s, clock.now(), &mut books).len(), 1);
    // ETHUSDT's snapshot arrives; then the engine resyncs it (say, stale).
    let snap = r#"{"topic":"orderbook.50.ETHUSDT","type":"snapshot","ts":1,"data":{"s":"ETHUSDT","b":[["1922.50","1"]],"a":[["1922.51","1"]],"u":9,"seq":1},"cts":1}"#;
    let mut events = Vec::new();
    s.handle_text(snap.as_bytes(), clock.now(), &reg, &mut books, &mut events)
        .expect("snapshot");
    assert!(books[1].sync.is_synced());
    let st = &mut books[1];
    let mut batch = tickwire::ring::EventBatch::with_capacity(8);
    st.sync
        .resync(ResyncReason::Stale, &mut st.book, &mut batch, clock.now());
    clock.advance(SEC / 2);
    let first = drain(&mut s, clock.now(), &mut books);
    assert_eq!(
        first,
        vec![r#"{"op":"unsubscribe","args":["orderbook.50.ETHUSDT"],"req_id":"2"}"#]
    );
    assert!(
        drain(&mut s, clock.now() + SEC / 2 - 1, &mut books).is_empty(),
        "paced"
    );
    clock.advance(SEC / 2);
    let second = drain(&mut s, clock.now(), &mut books);
    assert_eq!(
        second,
        vec![r#"{"op":"subscribe","args":["orderbook.50.ETHUSDT"],"req_id":"3"}"#]
    );
    // Wanted once: nothing more until the snapshot comes.
    clock.advance(5 * SEC);
    assert!(drain(&mut s, clock.now(), &mut books).is_empty());
    assert!(books[1].sync.snapshot_in_flight());
}

#[test]
fn closing_forgets_everything_and_reopening_subscribes_again() {
    let reg = registry();
    let mut s = BybitSession::new(&plan(
        Venue::BybitLinear,
        &reg,
        &["BTCUSDT"],
        &ALL,
        2,
        10,
        100,
    ));
    let mut books = books_for(&reg, 100, GapPolicy::Resync);
    s.handle_open(0, &mut books);
    assert_eq!(drain(&mut s, 0, &mut books).len(), 1);
    s.handle_closed(SEC);
    assert_eq!(s.poll_timeout(0), None);
    assert!(drain(&mut s, 2 * SEC, &mut books).is_empty());
    s.handle_open(3 * SEC, &mut books);
    let mut sent = drain(&mut s, 3 * SEC, &mut books);
    sent.extend(drain(&mut s, 3 * SEC + SEC / 10, &mut books));
    assert_eq!(
        sent,
        vec![
            r#"{"op":"subscribe","args":["orderbook.50.BTCUSDT","tickers.BTCUSDT"],"req_id":"2"}"#,
            r#"{"op":"subscribe","args":["publicTrade.BTCUSDT"],"req_id":"3"}"#,
        ]
    );
}

#[test]
fn acks_refusals_and_unconsumed_topics() {
    let reg = registry();
    let mut s = BybitSession::new(&plan(
        Venue::BybitSpot,
        &reg,
        &["BTCUSDT"],
        &ALL,
        10,
        5,
        100,
    ));
    let mut books = books_for(&reg, 100, GapPolicy::Resync);
    let mut events = Vec::new();
    let mut handle =
        |frame: &str| s.handle_text(frame.as_bytes(), 1, &reg, &mut books, &mut events);
    let ack = r#"{"success":true,"ret_msg":"subscribe","conn_id":"x","op":"subscribe"}"#;
    assert_eq!(handle(ack), Ok(FrameKind::SubscribeResult(None)));
    let ours = r#"{"success":true,"ret_msg":"","conn_id":"x","req_id":"7","op":"subscribe"}"#;
    assert_eq!(handle(ours), Ok(FrameKind::SubscribeResult(Some(7))));
    let refused = r#"{"success":false,"ret_msg":"Invalid topic: invalid.topic.BTCUSDT","conn_id":"x","op":"subscribe"}"#;
    assert_eq!(handle(refused), Ok(FrameKind::VenueError(0)));
    let kline = r#"{"type":"snapshot","topic":"kline.1.BTCUSDT","data":[],"ts":1}"#;
    assert_eq!(handle(kline), Ok(FrameKind::Ignored));
    assert!(handle("{\"op\":").is_err());
    assert!(events.is_empty());
    let stats = s.stats();
    assert_eq!(
        (stats.frames, stats.venue_errors, stats.decode_errors),
        (5, 1, 1)
    );
}

#[test]
fn an_undecodable_book_frame_resyncs_its_book() {
    let reg = registry();
    let mut s = BybitSession::new(&plan(
        Venue::BybitLinear,
        &reg,
        &["BTCUSDT"],
        &ALL,
        10,
        5,
        100,
    ));
    let mut books = books_for(&reg, 100, GapPolicy::Resync);
    let mut events = Vec::new();
    let snap = r#"{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,"data":{"s":"BTCUSDT","b":[["100.0","1"]],"a":[],"u":9,"seq":1},"cts":1}"#;
    s.handle_text(snap.as_bytes(), 1, &reg, &mut books, &mut events)
        .expect("snapshot");
    let bad = br#"{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[["100.05","1"]],"a":[],"u":10,"seq":2},"cts":1}"#;
    assert!(
        s.handle_text(bad, 2, &reg, &mut books, &mut events)
            .is_err()
    );
    events.clear();
    s.handle_undecodable(bad, 2, &reg, &mut books, &mut events);
    let codes: Vec<_> = events.iter().filter_map(|e| e.status_code()).collect();
    use tickwire::types::StatusCode;
    assert_eq!(codes, vec![StatusCode::DecodeError, StatusCode::Resync]);
    assert!(!books[0].sync.is_synced());
}

#[test]
#[should_panic(expected = "characters of topics")]
fn a_plan_over_the_args_budget_is_refused() {
    let (reg, names) = many(400);
    let symbols: Vec<&str> = names.iter().map(String::as_str).collect();
    // 1,200 topics of about 18 characters: over 21,000.
    let _ = BybitSession::new(&plan(Venue::BybitSpot, &reg, &symbols, &ALL, 10, 5, 10));
}

#[test]
fn the_venue_session_runs_bybit_across_a_reconnect() {
    use tickwire::ring::EventBatch;
    use tickwire::types::{Body, StatusCode};
    use tickwire::venue::Session;
    assert!(Session::supports(Venue::BybitSpot) && Session::supports(Venue::BybitLinear));
    let reg = registry();
    let p = plan(Venue::BybitLinear, &reg, &["BTCUSDT"], &ALL, 10, 5, 100);
    let mut s = Session::new(&p).expect("a Bybit session");
    let mut books = books_for(&reg, 100, GapPolicy::Resync);
    let (mut buf, mut events) = (String::new(), Vec::new());
    let mut batch = EventBatch::with_capacity(64);
    s.handle_open(0, &mut books);
    assert!(s.poll_transmit(0, &mut books, &mut buf));
    assert!(books[0].sync.snapshot_in_flight());
    // The connection dies before the snapshot comes; the next one asks again.
    s.handle_closed(SEC, &mut books, &mut batch, &mut events);
    s.handle_open(2 * SEC, &mut books);
    assert!(s.poll_transmit(2 * SEC, &mut books, &mut buf));
    assert!(buf.contains("orderbook.50.BTCUSDT"), "{buf}");
    let snap = r#"{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,"data":{"s":"BTCUSDT","b":[["100.0","1"]],"a":[["100.1","1"]],"u":9,"seq":1},"cts":1}"#;
    let gap = r#"{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[],"a":[],"u":11,"seq":2},"cts":1}"#;
    let mut handle = |s: &mut Session, f: &str, books: &mut Vec<_>| {
        s.handle_text(f.as_bytes(), 3 * SEC, &reg, books, &mut events)
    };
    assert!(matches!(
        handle(&mut s, snap, &mut books),
        Ok(FrameKind::Depth(..))
    ));
    assert!(!books[0].sync.snapshot_in_flight());
    assert!(matches!(
        handle(&mut s, gap, &mut books),
        Ok(FrameKind::Depth(..))
    ));
    // The gap's resubscribe, not a REST fetch.
    assert_eq!(s.poll_fetch(&mut books, |_| true), None);
    assert_eq!(
        (s.snapshot_url(books[0].id), s.snapshot_weight()),
        (None, 0)
    );
    assert!(s.poll_transmit(4 * SEC, &mut books, &mut buf));
    assert!(
        buf.starts_with(r#"{"op":"unsubscribe","args":["orderbook.50.BTCUSDT"]"#),
        "{buf}"
    );
    // Synced again, then the socket dies: consumers hear of it.
    assert!(s.poll_transmit(5 * SEC, &mut books, &mut buf));
    let snap = snap.replace("\"u\":9", "\"u\":30");
    assert!(matches!(
        handle(&mut s, &snap, &mut books),
        Ok(FrameKind::Depth(..))
    ));
    let mut events = Vec::new();
    s.handle_closed(6 * SEC, &mut books, &mut batch, &mut events);
    let last = events.last().map(tickwire::types::Event::body);
    assert!(
        matches!(last, Some(Body::Status(st)) if st.code == StatusCode::Resync && st.a == ResyncReason::Reconnect as i64),
        "{last:?}"
    );
    assert_eq!((s.stats().frames, s.decode_stats().fast), (3, 3));
}

#[test]
fn a_lost_snapshot_is_asked_for_again() {
    let reg = registry();
    let mut s = BybitSession::new(&plan(
        Venue::BybitLinear,
        &reg,
        &["BTCUSDT"],
        &[Channel::Depth],
        10,
        5,
        100,
    ));
    let mut books = books_for(&reg, 100, GapPolicy::Resync);
    let mut events = Vec::new();
    s.handle_open(0, &mut books);
    assert_eq!(drain(&mut s, 0, &mut books).len(), 1);
    // The snapshot arrives broken.
    let bad = br#"{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,"data":{"s":"BTCUSDT","b":[["100.05","1"]],"a":[],"u":9,"seq":1},"cts":1}"#;
    assert!(
        s.handle_text(bad, SEC, &reg, &mut books, &mut events)
            .is_err()
    );
    s.handle_undecodable(bad, SEC, &reg, &mut books, &mut events);
    let sent = drain(&mut s, 2 * SEC, &mut books);
    assert_eq!(
        sent,
        vec![r#"{"op":"unsubscribe","args":["orderbook.50.BTCUSDT"],"req_id":"2"}"#]
    );
    assert_eq!(
        drain(&mut s, 3 * SEC, &mut books),
        vec![r#"{"op":"subscribe","args":["orderbook.50.BTCUSDT"],"req_id":"3"}"#]
    );
    // Deltas meanwhile are dropped and ask for nothing more.
    let delta = br#"{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[],"a":[],"u":10,"seq":2},"cts":1}"#;
    let kind = s.handle_text(delta, 4 * SEC, &reg, &mut books, &mut events);
    assert_eq!(
        kind,
        Ok(FrameKind::Depth(
            books[0].id,
            tickwire::venue::DiffOutcome::Waiting
        ))
    );
    assert!(drain(&mut s, 5 * SEC, &mut books).is_empty());
    // Had nothing been on its way, the delta would have asked for a snapshot.
    books[0].sync.snapshot_failed();
    let _ = books[0].sync.take_snapshot_request();
    books[0].sync.snapshot_answered();
    let kind = s.handle_text(delta, 6 * SEC, &reg, &mut books, &mut events);
    assert!(matches!(kind, Ok(FrameKind::Depth(..))));
    let sent = drain(&mut s, 7 * SEC, &mut books);
    assert_eq!(
        sent,
        vec![r#"{"op":"unsubscribe","args":["orderbook.50.BTCUSDT"],"req_id":"4"}"#]
    );
}
