//! Heap allocations on the feed thread in steady state, counted by a global
//! allocator that attributes each allocation to the thread making it.
//!
//! Over ws:// the feed thread makes no new allocation in steady state. Two
//! costs are measured and bounded here rather than hidden:
//! * tungstenite's read buffer (a `BytesMut`) doubles when its reuse
//!   heuristic cannot move unread bytes to the front: a handful of
//!   reallocations until it covers the largest burst, not one per message;
//! * over wss://, rustls (0.23) copies each received TLS record into a fresh
//!   buffer: one allocation per record.

mod feed_alloc;
mod live;

use tickwire::types::Venue;

/// The counter is per process: one engine at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Feed-thread allocations over 100,000 messages after warm-up.
fn steady_allocations(tls: bool) -> feed_alloc::Steady {
    let _serial = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // A rate a debug build keeps up with: no backlog, so bursts stay bounded.
    let sim = live::sim(Venue::BinanceSpot, tls, 25_000);
    let (handle, mut m) = live::start(live::config_for(&sim, Venue::BinanceSpot));
    let s = feed_alloc::steady(&handle, &mut m, 40_000, 100_000);
    let c = handle.stop().counters;
    assert_eq!(
        (c.gaps, c.resyncs, c.reconnects, c.decode_errors),
        (0, 0, 0, 0),
        "steady state only: {c:?}"
    );
    s
}

#[test]
fn plain_websocket_feed_thread_allocates_nothing_per_message() {
    let s = steady_allocations(false);
    println!("ws://: {s:?}");
    assert!(s.messages >= 100_000);
    assert_eq!(s.allocs, 0, "new allocations on the feed thread: {s:?}");
    // Geometric growth of the read buffer: a few doublings at most, never per message.
    assert!(s.grows <= 4, "the read buffer kept growing: {s:?}");
}

#[test]
fn tls_feed_thread_allocates_only_rustls_record_buffers() {
    let s = steady_allocations(true);
    println!("wss://: {s:?} (rustls plaintext buffers, one per TLS record)");
    // rustls's own buffers also grow now and then; together, less than one per message.
    assert!(
        s.allocs + s.grows <= s.messages,
        "more than one allocation per message: {s:?}"
    );
}
