//! The OKX session's transmit side on injected time (a `ManualClock`, no
//! wall clock): the subscription chunked and paced, a text `ping` after 20
//! idle seconds, `pong` and error frames, reconnects, and at most 480
//! subscribe/unsubscribe messages an hour.

use tickwire::types::{Registry, Venue};
use tickwire::venue::okx::OkxSession;
use tickwire::venue::{
    Channel, FrameKind, GapPolicy, InstrumentBook, PlannedInstrument, SessionPlan, books_for,
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
fn subscribe_is_chunked_and_paced_then_pings_when_idle() {
    let reg = registry();
    let clock = tickwire::types::ManualClock::new(1_000);
    use tickwire::types::Clock;
    let mut session = OkxSession::new(&plan(&reg, 50, 4, 2));
    let mut books = books_for(&reg, 50, GapPolicy::Resync);
    let mut out = String::new();
    assert!(
        !session.poll_transmit(clock.now(), &mut books, &mut out),
        "not open yet"
    );
    session.handle_open(clock.now(), &mut books);
    assert!(session.poll_transmit(clock.now(), &mut books, &mut out));
    assert_eq!(out.matches(r#""channel""#).count(), 4);
    assert!(out.contains(r#"{"channel":"books","instId":"BTC-USDT"},{"channel":"bbo-tbt","instId":"BTC-USDT"},{"channel":"trades","instId":"BTC-USDT"},{"channel":"books","instId":"UNI-USD-SWAP"}"#));
    // 2 a second: the next one is due in 0.5 s, not before.
    assert!(!session.poll_transmit(clock.now(), &mut books, &mut out));
    assert_eq!(session.poll_timeout(0), Some(1_000 + 500_000_000));
    clock.advance(499_999_999);
    assert!(!session.poll_transmit(clock.now(), &mut books, &mut out));
    clock.advance(1);
    assert!(session.poll_transmit(clock.now(), &mut books, &mut out));
    assert_eq!(out.matches(r#""channel""#).count(), 4);
    clock.advance(500_000_000);
    assert!(session.poll_transmit(clock.now(), &mut books, &mut out));
    assert_eq!(
        out,
        r#"{"op":"subscribe","args":[{"channel":"trades","instId":"BTC-USD-220527"}]}"#
    );
    clock.advance(500_000_000);
    assert!(!session.poll_transmit(clock.now(), &mut books, &mut out));
    // Nothing received for 20 s since the last frame: a text ping, once.
    let last_rx = clock.now();
    session
        .handle_text(b"pong", last_rx, &reg, &mut books, &mut Vec::new())
        .unwrap();
    assert_eq!(session.poll_timeout(0), Some(last_rx + 20_000_000_000));
    clock.advance(19_999_999_999);
    assert!(!session.poll_transmit(clock.now(), &mut books, &mut out));
    clock.advance(1);
    assert!(session.poll_transmit(clock.now(), &mut books, &mut out));
    assert_eq!(out, "ping");
    clock.advance(1_000_000_000);
    assert!(!session.poll_transmit(clock.now(), &mut books, &mut out));
    let k = session.handle_text(b"pong", clock.now(), &reg, &mut books, &mut Vec::new());
    assert_eq!(k, Ok(FrameKind::Pong));
    let err = br#"{"event":"error","code":"60018","msg":"Wrong URL or channel"}"#;
    let k = session.handle_text(err, clock.now(), &reg, &mut books, &mut Vec::new());
    assert_eq!(k, Ok(FrameKind::VenueError(60018)));
    assert_eq!(session.stats().venue_errors, 1);
    // A closed connection sends nothing; reopened, it subscribes again.
    session.handle_closed(clock.now());
    assert!(!session.poll_transmit(clock.now() + 10, &mut books, &mut out));
    session.handle_open(clock.now() + 10, &mut books);
    assert!(session.poll_transmit(clock.now() + 10, &mut books, &mut out));
    assert!(out.starts_with(r#"{"op":"subscribe""#));
}

/// What the engine does to a book it starts over (a stale feed, say).
fn resync(st: &mut InstrumentBook, now: u64) {
    let mut batch = tickwire::ring::EventBatch::with_capacity(8);
    st.sync.resync(
        tickwire::types::ResyncReason::Gap,
        &mut st.book,
        &mut batch,
        now,
    );
}

#[test]
fn at_most_480_subscribe_ops_an_hour() {
    let mut reg = Registry::new();
    reg.add(Venue::Okx, "BTC-USDT", "0.1", "0.00000001")
        .unwrap();
    let mut p = plan(&reg, 50, 30, 1_000);
    p.channels = vec![Channel::Depth];
    let mut session = OkxSession::new(&p);
    let mut books = books_for(&reg, 50, GapPolicy::Resync);
    let mut out = String::new();
    let mut t = 1_000u64;
    session.handle_open(t, &mut books);
    assert!(session.poll_transmit(t, &mut books, &mut out));
    let snap = frame("snapshot", &[("10", "1")], &[("11", "1")], None, None);
    let mut ops = 1;
    // 239 resync cycles of unsubscribe + subscribe: 479 more ops, 480 in all.
    for _ in 0..239 {
        session
            .handle_text(snap.as_bytes(), t, &reg, &mut books, &mut Vec::new())
            .unwrap();
        resync(&mut books[0], t);
        for _ in 0..2 {
            t += 1_000_000;
            assert!(session.poll_transmit(t, &mut books, &mut out), "op {ops}");
            ops += 1;
        }
    }
    assert_eq!(ops, 479);
    session
        .handle_text(snap.as_bytes(), t, &reg, &mut books, &mut Vec::new())
        .unwrap();
    resync(&mut books[0], t);
    t += 1_000_000;
    assert!(session.poll_transmit(t, &mut books, &mut out));
    assert!(out.starts_with(r#"{"op":"unsubscribe""#));
    // The 481st waits until the first is an hour old.
    t += 1_000_000;
    assert!(!session.poll_transmit(t, &mut books, &mut out));
    assert_eq!(session.poll_timeout(0), Some(1_000 + 3_600_000_000_000));
    assert!(!session.poll_transmit(1_000 + 3_600_000_000_000 - 1, &mut books, &mut out));
    assert!(session.poll_transmit(1_000 + 3_600_000_000_000, &mut books, &mut out));
    assert!(out.starts_with(r#"{"op":"subscribe""#));
}
