//! `KrakenSession`'s transmit side on a `ManualClock`: the subscription
//! (one message per channel and chunk of symbols, the depth, the BBO
//! trigger), pacing to `control_per_sec`, `ping` after silence (heartbeats
//! count as traffic), `pong`, resubscribing one book, and a reconnect.

mod kraken_util;

use kraken_util::{Rig, plan};
use tickwire::types::{Clock, ManualClock, Registry, ResyncReason, Venue};
use tickwire::venue::kraken::KrakenSession;
use tickwire::venue::{FrameKind, GapPolicy, books_for, publish_resync};

const SEC: u64 = 1_000_000_000;

fn drain(rig: &mut Rig, clock: &ManualClock, step: u64, max: usize) -> Vec<(u64, String)> {
    let mut sent = Vec::new();
    let mut buf = String::new();
    for _ in 0..max {
        let now = clock.now();
        if rig.session.poll_transmit(now, &mut rig.books, &mut buf) {
            sent.push((now, buf.clone()));
        }
        clock.advance(step);
    }
    sent
}

#[test]
fn subscribes_each_channel_in_paced_chunks() {
    let mut reg = Registry::new();
    for s in ["BTC/USD", "ETH/USD", "SOL/USD"] {
        reg.add(Venue::Kraken, s, "0.01", "0.00000001").unwrap();
    }
    let plan = plan(&reg, 25, 2, 2);
    let books = books_for(&reg, plan.book_capacity, GapPolicy::Resync);
    let mut rig = Rig {
        session: KrakenSession::new(&plan),
        reg,
        books,
        out: Vec::new(),
    };
    let clock = ManualClock::new(SEC);
    rig.session.handle_open(clock.now(), &mut rig.books);
    // Every 100 ms for 5 s: at most 2 messages a second go out.
    let sent = drain(&mut rig, &clock, SEC / 10, 50);
    let texts: Vec<&str> = sent.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        texts,
        [
            r#"{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD","ETH/USD"],"depth":25,"snapshot":true}}"#,
            r#"{"method":"subscribe","params":{"channel":"book","symbol":["SOL/USD"],"depth":25,"snapshot":true}}"#,
            r#"{"method":"subscribe","params":{"channel":"ticker","symbol":["BTC/USD","ETH/USD"],"event_trigger":"bbo","snapshot":true}}"#,
            r#"{"method":"subscribe","params":{"channel":"ticker","symbol":["SOL/USD"],"event_trigger":"bbo","snapshot":true}}"#,
            r#"{"method":"subscribe","params":{"channel":"trade","symbol":["BTC/USD","ETH/USD"],"snapshot":false}}"#,
            r#"{"method":"subscribe","params":{"channel":"trade","symbol":["SOL/USD"],"snapshot":false}}"#,
        ]
    );
    for w in sent.windows(2) {
        assert!(w[1].0 - w[0].0 >= SEC / 2, "paced: {:?}", (w[0].0, w[1].0));
    }
    // Nothing more queued: next is the ping, 10 s after the last traffic
    // (the open at 1 s; nothing was received since).
    let now = clock.now();
    assert_eq!(rig.session.poll_timeout(now), Some(11 * SEC));
}

#[test]
fn pings_after_silence_and_heartbeats_count_as_traffic() {
    let mut rig = Rig::new(&[("BTC/USD", "0.1", "0.00000001")], 10, GapPolicy::Resync);
    let clock = ManualClock::new(SEC);
    rig.session.handle_open(clock.now(), &mut rig.books);
    let subs = drain(&mut rig, &clock, SEC, 3);
    assert_eq!(subs.len(), 3);
    // Heartbeats each second for 20 s: no ping.
    let mut buf = String::new();
    for _ in 0..20 {
        clock.advance(SEC);
        assert_eq!(
            rig.text(r#"{"channel":"heartbeat"}"#, clock.now()),
            Ok(FrameKind::Ignored)
        );
        assert!(
            !rig.session
                .poll_transmit(clock.now(), &mut rig.books, &mut buf)
        );
    }
    // Then silence: the ping falls due 10 s after the last frame.
    let last = clock.now();
    assert_eq!(rig.session.poll_timeout(last), Some(last + 10 * SEC));
    clock.advance(10 * SEC - 1);
    assert!(
        !rig.session
            .poll_transmit(clock.now(), &mut rig.books, &mut buf)
    );
    clock.advance(1);
    assert!(
        rig.session
            .poll_transmit(clock.now(), &mut rig.books, &mut buf)
    );
    assert_eq!(buf, r#"{"method":"ping","req_id":1}"#);
    // One ping per silence.
    clock.advance(30 * SEC);
    assert!(
        !rig.session
            .poll_transmit(clock.now(), &mut rig.books, &mut buf)
    );
    let pong = r#"{"method":"pong","req_id":1,"time_in":"2023-09-25T09:05:00.123456Z","time_out":"2023-09-25T09:05:00.123500Z"}"#;
    assert_eq!(rig.text(pong, clock.now()), Ok(FrameKind::Pong));
    clock.advance(10 * SEC);
    assert!(
        rig.session
            .poll_transmit(clock.now(), &mut rig.books, &mut buf)
    );
    assert_eq!(buf, r#"{"method":"ping","req_id":2}"#);
}

#[test]
fn a_resync_resubscribes_that_book_and_a_reconnect_subscribes_again() {
    let mut rig = Rig::new(
        &[
            ("BTC/USD", "0.1", "0.00000001"),
            ("ETH/USD", "0.01", "0.00000001"),
        ],
        10,
        GapPolicy::Resync,
    );
    let clock = ManualClock::new(SEC);
    rig.session.handle_open(clock.now(), &mut rig.books);
    assert_eq!(drain(&mut rig, &clock, SEC, 4).len(), 3);
    // The snapshot the subscribe asked for arrives (empty book, checksum of nothing).
    let empty = crc32fast::hash(b"");
    for s in ["BTC/USD", "ETH/USD"] {
        let f = format!(
            r#"{{"channel":"book","type":"snapshot","data":[{{"symbol":"{s}","bids":[],"asks":[],"checksum":{empty},"timestamp":"2026-08-16T23:37:05Z"}}]}}"#
        );
        rig.text(&f, clock.now()).unwrap();
    }
    assert!(rig.books.iter().all(|b| b.sync.is_synced()));
    // The engine resyncs ETH/USD (say, stale): unsubscribe + subscribe, paced.
    let mut batch = tickwire::ring::EventBatch::with_capacity(16);
    publish_resync(
        &mut rig.books[1],
        ResyncReason::Stale,
        clock.now(),
        &mut batch,
        &mut rig.out,
    );
    let sent = drain(&mut rig, &clock, SEC / 10, 30);
    let texts: Vec<&str> = sent.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        texts,
        [
            r#"{"method":"unsubscribe","params":{"channel":"book","symbol":["ETH/USD"],"depth":10}}"#,
            r#"{"method":"subscribe","params":{"channel":"book","symbol":["ETH/USD"],"depth":10,"snapshot":true}}"#,
        ]
    );
    assert!(sent[1].0 - sent[0].0 >= SEC / 5);
    // A reconnect: the whole subscription again.
    rig.session.handle_closed(clock.now());
    let mut buf = String::new();
    assert!(
        !rig.session
            .poll_transmit(clock.now(), &mut rig.books, &mut buf)
    );
    rig.session.handle_open(clock.now(), &mut rig.books);
    assert_eq!(drain(&mut rig, &clock, SEC, 5).len(), 3);
}
