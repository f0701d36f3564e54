//! Heap allocations on the feed thread in steady state, counted by a global
//! allocator that attributes each allocation to the thread making it.
//!
//! Over ws:// the per-message path allocates nothing. Over wss://, rustls
//! (0.23) copies each received TLS record into a fresh buffer; that cost is
//! measured and bounded here, not hidden.

mod live;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tickwire::types::Venue;

struct Counting;

static FEED_ALLOCS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// 0 unknown, 1 feed thread, 2 other thread, 3 being classified.
    static ROLE: Cell<u8> = const { Cell::new(0) };
}

fn on_feed_thread() -> bool {
    ROLE.with(|r| match r.get() {
        1 => true,
        2 | 3 => false,
        _ => {
            // Looking the name up may allocate: mark the thread as being
            // classified so that nested allocations are not counted.
            r.set(3);
            let feed = std::thread::current().name() == Some("tickwire-feed");
            r.set(if feed { 1 } else { 2 });
            feed
        }
    })
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// bookkeeping only touches an atomic and a const-initialised thread local.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if on_feed_thread() {
            FEED_ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if on_feed_thread() {
            FEED_ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The counter is per process: one engine at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Feed-thread allocations per message over a steady stretch.
fn steady_allocations(tls: bool) -> (u64, u64) {
    let _serial = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let sim = live::sim(Venue::BinanceSpot, tls, 50_000);
    let (handle, mut m) = live::start(live::config_for(&sim, Venue::BinanceSpot));
    assert!(
        m.until(Duration::from_secs(20), |m| m.all_consistent()),
        "never synced"
    );
    // Warm-up: buffers (tungstenite's read buffer among them) reach their steady sizes.
    let target = handle.counters().messages + 60_000;
    assert!(
        m.until(Duration::from_secs(20), |_| handle.counters().messages
            >= target)
    );
    let (a0, n0) = (
        FEED_ALLOCS.load(Ordering::Relaxed),
        handle.counters().messages,
    );
    let target = n0 + 100_000;
    assert!(
        m.until(Duration::from_secs(30), |_| handle.counters().messages
            >= target),
        "too few messages"
    );
    let (a1, n1) = (
        FEED_ALLOCS.load(Ordering::Relaxed),
        handle.counters().messages,
    );
    let c = handle.stop().counters;
    assert_eq!(
        (c.gaps, c.resyncs, c.reconnects, c.decode_errors),
        (0, 0, 0, 0),
        "steady state only: {c:?}"
    );
    (a1 - a0, n1 - n0)
}

#[test]
fn plain_websocket_feed_thread_allocates_nothing_per_message() {
    let (allocs, messages) = steady_allocations(false);
    assert!(messages >= 100_000);
    assert_eq!(
        allocs, 0,
        "{allocs} allocations on the feed thread over {messages} messages"
    );
}

#[test]
fn tls_feed_thread_allocates_only_rustls_record_buffers() {
    let (allocs, messages) = steady_allocations(true);
    println!(
        "wss://: {allocs} feed-thread allocations over {messages} messages (rustls plaintext buffers)"
    );
    assert!(
        allocs <= messages,
        "more than one allocation per message: {allocs} over {messages}"
    );
}
