//! The bridge's publisher and subscriber state machines, without Aeron:
//! messages go through in-memory sinks, so loss, back-pressure and late
//! joining are exact and deterministic.

mod bridge_util;

use bridge_util::{CAPACITY, Feed, VecSink, mirror, registry, same_books};
use tickwire::bridge::publisher::Refused;
use tickwire::bridge::{PublisherCore, SubscriberCore};
use tickwire::consumer::BookMirror;
use tickwire::types::{Event, StatusCode};

const INTERVAL: u64 = 1_000;

/// Feeds `batches` batches through the publisher, then flushes and services.
fn publish(
    feed: &mut Feed,
    p: &mut PublisherCore,
    main: &mut VecSink,
    snap: &mut VecSink,
    batches: usize,
    now: &mut u64,
) {
    for _ in 0..batches {
        for e in feed.batch() {
            p.handle(&e, main);
        }
        p.flush(main);
        *now += 10;
        p.service(*now, main, snap);
    }
}

/// Hands messages to the subscriber (snapshot stream first, as the
/// Aeron subscriber polls) and applies what it yields; returns the statuses.
fn deliver(
    s: &mut SubscriberCore,
    m: &mut BookMirror,
    main: &mut VecSink,
    snap: &mut VecSink,
) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    let mut take = |e: Event, m: &mut BookMirror| {
        if let Some(c) = e.status_code() {
            statuses.push(c);
        }
        m.apply(&e);
    };
    for msg in snap.messages.drain(..) {
        s.on_snapshot(&msg);
        while let Some(e) = s.pop() {
            take(e, m);
        }
    }
    for msg in main.messages.drain(..) {
        s.on_main(&msg);
        while let Some(e) = s.pop() {
            take(e, m);
        }
    }
    statuses
}

#[test]
fn a_subscriber_from_the_start_sees_every_event_in_order() {
    let reg = registry();
    let mut p = PublisherCore::new(reg.clone(), CAPACITY, INTERVAL);
    let (mut main, mut snap) = (VecSink::default(), VecSink::default());
    // The catalog goes out first (no book is synced yet: no snapshot).
    p.service(0, &mut main, &mut snap);
    assert_eq!(snap.messages.len(), 1);
    let mut feed = Feed::new(1, reg.len());
    let mut sent = Vec::new();
    for _ in 0..500 {
        for e in feed.batch() {
            sent.push(e);
            p.handle(&e, &mut main);
        }
    }
    p.flush(&mut main);
    // Each book message is one Aeron message.
    assert_eq!(p.stats().messages, 500);
    assert_eq!(p.stats().events, sent.len() as u64);
    let mut s = SubscriberCore::new();
    s.on_snapshot(&snap.messages[0]);
    assert_eq!(s.registry().unwrap().len(), 2);
    assert_eq!(s.book_capacity(), Some(CAPACITY));
    let mut got = Vec::new();
    for msg in &main.messages {
        s.on_main(msg);
        while let Some(e) = s.pop() {
            got.push(e);
        }
    }
    // From sequence 1 the stream holds the engine's own snapshots: exactly
    // the ring's events, in order, and no bridge snapshot is awaited.
    assert_eq!(got, sent);
    assert!(s.all_synced());
    assert_eq!(s.stats().gaps, 0);
    let mut remote = mirror(&reg);
    got.iter().for_each(|e| remote.apply(e));
    assert!(same_books(&reg, p.mirror(), &remote));
}

#[test]
fn a_late_joiner_converges_from_the_snapshot_stream() {
    let reg = registry();
    let mut p = PublisherCore::new(reg.clone(), CAPACITY, INTERVAL);
    let (mut main, mut snap) = (VecSink::default(), VecSink::default());
    let mut feed = Feed::new(2, reg.len());
    let mut now = 0;
    publish(&mut feed, &mut p, &mut main, &mut snap, 300, &mut now);
    // Joins now: everything so far is gone.
    main.messages.clear();
    snap.messages.clear();
    let mut s = SubscriberCore::new();
    let mut remote = mirror(&reg);
    let mut statuses = Vec::new();
    for _ in 0..20 {
        publish(&mut feed, &mut p, &mut main, &mut snap, 50, &mut now);
        statuses.extend(deliver(&mut s, &mut remote, &mut main, &mut snap));
    }
    assert!(s.all_synced(), "{:?}", s.stats());
    assert!(same_books(&reg, p.mirror(), &remote));
    assert!(statuses.contains(&StatusCode::SnapshotBegin));
    assert!(s.stats().discarded > 0);
}

#[test]
fn back_pressure_drops_marks_and_repairs_with_a_snapshot() {
    let reg = registry();
    let mut p = PublisherCore::new(reg.clone(), CAPACITY, INTERVAL);
    let (mut main, mut snap) = (VecSink::default(), VecSink::default());
    let mut feed = Feed::new(3, reg.len());
    let mut now = 0;
    let mut s = SubscriberCore::new();
    let mut remote = mirror(&reg);
    publish(&mut feed, &mut p, &mut main, &mut snap, 200, &mut now);
    deliver(&mut s, &mut remote, &mut main, &mut snap);
    publish(&mut feed, &mut p, &mut main, &mut snap, 200, &mut now);
    deliver(&mut s, &mut remote, &mut main, &mut snap);
    assert!(s.all_synced());
    assert!(same_books(&reg, p.mirror(), &remote));
    // The publication pushes back: messages are dropped and counted.
    main.refuse = Some(Refused::BackPressure);
    publish(&mut feed, &mut p, &mut main, &mut snap, 100, &mut now);
    assert!(p.stats().dropped > 0);
    assert_eq!(p.dirty(), 2);
    let before = p.stats().repairs;
    // It accepts again: Dropped, Resync and a snapshot per instrument.
    main.refuse = None;
    publish(&mut feed, &mut p, &mut main, &mut snap, 1, &mut now);
    assert_eq!(p.dirty(), 0);
    assert_eq!(p.stats().repairs, before + 2);
    snap.messages.clear();
    let statuses = deliver(&mut s, &mut remote, &mut main, &mut snap);
    let count = |c| statuses.iter().filter(|s| **s == c).count();
    assert_eq!(count(StatusCode::Dropped), 2);
    assert_eq!(count(StatusCode::Resync), 2);
    assert_eq!(count(StatusCode::SnapshotBegin), 2);
    assert_eq!(s.stats().gaps, 0, "a repair is not a gap");
    assert!(same_books(&reg, p.mirror(), &remote));
}

#[test]
fn a_lost_message_is_a_gap_then_a_resync_then_convergence() {
    let reg = registry();
    let mut p = PublisherCore::new(reg.clone(), CAPACITY, INTERVAL);
    let (mut main, mut snap) = (VecSink::default(), VecSink::default());
    let mut feed = Feed::new(4, reg.len());
    let mut now = 0;
    let mut s = SubscriberCore::new();
    let mut remote = mirror(&reg);
    publish(&mut feed, &mut p, &mut main, &mut snap, 300, &mut now);
    deliver(&mut s, &mut remote, &mut main, &mut snap);
    publish(&mut feed, &mut p, &mut main, &mut snap, 10, &mut now);
    deliver(&mut s, &mut remote, &mut main, &mut snap);
    assert!(s.all_synced());
    publish(&mut feed, &mut p, &mut main, &mut snap, 10, &mut now);
    // One main-stream message lost in transit.
    main.messages.remove(3);
    snap.messages.clear();
    let statuses = deliver(&mut s, &mut remote, &mut main, &mut snap);
    assert_eq!(s.stats().gaps, 1);
    assert!(s.stats().lost > 0);
    assert!(statuses.contains(&StatusCode::Dropped) && statuses.contains(&StatusCode::Resync));
    assert!(!s.all_synced());
    for _ in 0..5 {
        publish(&mut feed, &mut p, &mut main, &mut snap, 150, &mut now);
        deliver(&mut s, &mut remote, &mut main, &mut snap);
    }
    assert!(s.all_synced());
    assert!(same_books(&reg, p.mirror(), &remote));
}

#[test]
fn a_snapshot_older_than_a_discarded_event_is_not_applied() {
    let reg = registry();
    let mut p = PublisherCore::new(reg.clone(), CAPACITY, INTERVAL);
    let (mut main, mut snap) = (VecSink::default(), VecSink::default());
    let mut feed = Feed::new(5, reg.len());
    let mut now = 0;
    publish(&mut feed, &mut p, &mut main, &mut snap, 120, &mut now);
    let mut s = SubscriberCore::new();
    // The catalog and snapshots arrive only after the main stream moved on.
    let old_snaps: Vec<Vec<u8>> = snap.messages.drain(..).collect();
    s.on_snapshot(&old_snaps[0]);
    // It also missed the stream's start.
    main.messages.drain(..).skip(5).for_each(|m| s.on_main(&m));
    while s.pop().is_some() {}
    let stale_before = s.stats().stale_snapshots;
    for m in &old_snaps[1..] {
        s.on_snapshot(m);
    }
    assert!(s.stats().stale_snapshots > stale_before);
    assert!(!s.all_synced());
}

#[test]
fn malformed_messages_are_counted_not_applied() {
    let mut s = SubscriberCore::new();
    s.on_main(b"short");
    s.on_main(&[0u8; 80]);
    s.on_snapshot(&[7u8; 16]);
    assert_eq!(s.stats().bad_messages, 3);
    assert!(s.pop().is_none());
    assert!(s.registry().is_none());
}
