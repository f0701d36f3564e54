//! A global allocator that counts the allocations made by the feed thread
//! (`tickwire-feed`), for the tests that prove the feed allocates nothing
//! per message (`engine_alloc.rs`, `record_alloc.rs`). Including this module
//! installs it for the whole test binary.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

/// New allocations made by the feed thread.
pub(crate) static FEED_ALLOCS: AtomicU64 = AtomicU64::new(0);
/// Growths of existing buffers (reallocations) by the feed thread.
pub(crate) static FEED_GROWS: AtomicU64 = AtomicU64::new(0);

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

/// (new allocations, growths) made by the feed thread so far.
pub(crate) fn feed_counts() -> (u64, u64) {
    (
        FEED_ALLOCS.load(Ordering::Relaxed),
        FEED_GROWS.load(Ordering::Relaxed),
    )
}

/// What the feed thread allocated over a steady stretch.
#[derive(Debug)]
pub(crate) struct Steady {
    /// New allocations.
    pub(crate) allocs: u64,
    /// Growths of existing buffers.
    pub(crate) grows: u64,
    /// Messages the engine received over the stretch.
    pub(crate) messages: u64,
}

/// Waits (bounded) until `m`'s books are synced, lets `warm_up` messages
/// through so buffers reach their working sizes, then counts the feed
/// thread's allocations over the next `count` messages.
pub(crate) fn steady(
    handle: &tickwire::engine::EngineHandle,
    m: &mut crate::live::Mirror,
    warm_up: u64,
    count: u64,
) -> Steady {
    use std::time::Duration;
    assert!(
        m.until(Duration::from_secs(20), |m| m.all_consistent()),
        "never synced"
    );
    let n = handle.counters().messages;
    assert!(
        m.until(Duration::from_secs(20), |_| handle.counters().messages
            >= n + warm_up),
        "too few messages"
    );
    let ((a0, g0), n0) = (feed_counts(), handle.counters().messages);
    assert!(
        m.until(Duration::from_secs(30), |_| handle.counters().messages
            >= n0 + count),
        "too few messages"
    );
    let ((a1, g1), n1) = (feed_counts(), handle.counters().messages);
    Steady {
        allocs: a1 - a0,
        grows: g1 - g0,
        messages: n1 - n0,
    }
}
