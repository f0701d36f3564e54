//! The recording hook costs the feed thread no allocation: with a
//! recorder attached, over ws://, the feed thread makes no new allocation
//! in steady state (every frame is copied into the hand-over ring's
//! preallocated memory), and the writer thread keeps up without losing a
//! record. The counting allocator is the one of `engine_alloc.rs`.

mod live;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tickwire::types::Venue;

struct Counting;

/// New allocations made by the feed thread.
static FEED_ALLOCS: AtomicU64 = AtomicU64::new(0);
/// Growths of existing buffers (reallocations) by the feed thread.
static FEED_GROWS: AtomicU64 = AtomicU64::new(0);

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
            FEED_GROWS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn recording_adds_no_allocation_on_the_feed_thread() {
    use tickwire::engine::Engine;
    use tickwire::engine::recording::{RecordOptions, attach};
    let dir = std::env::temp_dir().join(format!("tickwire-rec-alloc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // A rate a debug build keeps up with.
    let sim = live::sim(Venue::BinanceSpot, false, 20_000);
    let config = live::config_for(&sim, Venue::BinanceSpot)
        .validate()
        .expect("valid");
    let capacity = config.engine.book_capacity;
    let mut engine = Engine::new(config).expect("engine");
    let consumer = engine.add_consumer();
    let registry = engine.registry();
    let writer = attach(&mut engine, &RecordOptions::new(&dir))
        .spawn()
        .expect("writer");
    let handle = engine.spawn().expect("spawn");
    let mut m = live::Mirror::new(consumer, registry, capacity);
    assert!(
        m.until(Duration::from_secs(20), |m| m.all_consistent()),
        "never synced"
    );
    let n = handle.counters().messages;
    assert!(
        m.until(Duration::from_secs(20), |_| handle.counters().messages
            >= n + 30_000),
        "too few messages"
    );
    let (a0, g0, n0) = (
        FEED_ALLOCS.load(Ordering::Relaxed),
        FEED_GROWS.load(Ordering::Relaxed),
        handle.counters().messages,
    );
    assert!(
        m.until(Duration::from_secs(30), |_| handle.counters().messages
            >= n0 + 60_000),
        "too few messages"
    );
    let (a1, g1) = (
        FEED_ALLOCS.load(Ordering::Relaxed),
        FEED_GROWS.load(Ordering::Relaxed),
    );
    let c = handle.stop().counters;
    let written = writer.join().expect("writer");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!((c.gaps, c.resyncs, c.reconnects), (0, 0, 0), "{c:?}");
    assert_eq!(
        a1 - a0,
        0,
        "new allocations on the feed thread while recording"
    );
    assert!(g1 - g0 <= 4, "the read buffer kept growing: {}", g1 - g0);
    assert_eq!(written.tap.lost, 0, "the writer kept up");
    assert!(
        written.records >= c.messages,
        "{} < {}",
        written.records,
        c.messages
    );
}
