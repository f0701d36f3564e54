//! Nothing allocates per event on either side of the bridge after warm-up:
//! a counting global allocator (all threads: the feed side in this test's
//! thread, the publisher (its own thread, or stepped inline here), and the
//! subscriber polled here) over Aeron IPC with an embedded driver. Aeron's
//! own threads are C and use malloc, which this allocator does not see; the
//! Rust side is what is checked.

mod bridge_util;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bridge_util::{CAPACITY, Feed, blank_stamp, mirror, registry, same_books};
use tickwire::book::Ladder;
use tickwire::bridge::{
    Idle, InlinePublisher, MediaDriver, Publisher, PublisherConfig, Subscriber,
};
use tickwire::consumer::BookMirror;
use tickwire::ring::{BookState, EventBatch, FanOut};
use tickwire::types::Event;

struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

fn note() {
    if COUNTING.load(Ordering::Relaxed) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged; counting has no effect on the memory handed out.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: `ptr` and `layout` come from this allocator (the caller's contract).
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// The feed side (this thread), the publisher when it is stepped here, and
/// the subscriber polled in step.
struct Rig {
    fanout: FanOut,
    inline: Option<InlinePublisher>,
    batch: EventBatch,
    sub: Subscriber,
    local: BookMirror,
    remote: BookMirror,
    received: u64,
}

impl Rig {
    /// Publishes each batch to the ring, then polls until the subscriber
    /// has been idle for a while (bounded).
    fn run(&mut self, batches: &[Vec<Event>]) {
        let stamp = blank_stamp();
        for b in batches {
            self.batch.clear();
            for e in b {
                self.batch.push(*e);
                self.local.apply(e);
            }
            self.fanout
                .publish(&self.batch, BookState::<Ladder>::Resyncing(stamp), 0);
            self.step();
            self.drain(300);
        }
    }

    /// Steps the inline publisher, if there is one.
    fn step(&mut self) {
        if let Some(p) = &mut self.inline {
            p.step();
        }
    }

    /// Polls until `idle` empty polls in a row; returns the events applied.
    fn drain(&mut self, idle: u32) -> u64 {
        let mut empty = 0;
        let mut got = 0;
        while empty < idle {
            self.step();
            match self.sub.poll() {
                Some(e) => {
                    self.remote.apply(&e);
                    got += 1;
                    empty = 0;
                }
                None => empty += 1,
            }
        }
        self.received += got;
        got
    }
}

/// The two ways to run the publisher, one after the other: the counter is
/// process-wide, so they must not overlap.
#[test]
fn neither_side_allocates_per_event_after_warm_up() {
    check(false, 3401);
    check(true, 3411);
}

/// Publishes 20,000 generated batches over IPC, counting allocations after
/// the first 5,000, with the publisher on its own thread or stepped here
/// (`inline`, with a yielding driver); then compares the books.
fn check(stepped_here: bool, stream_id: i32) {
    ALLOCATIONS.store(0, Ordering::SeqCst);
    let reg = registry();
    let dir = format!(
        "/dev/shm/tickwire-test-{}-alloc-{stream_id}",
        std::process::id()
    );
    let idle = if stepped_here {
        Idle::Yield
    } else {
        Idle::Backoff
    };
    let driver = MediaDriver::start_with(Some(std::path::Path::new(&dir)), idle).expect("driver");
    let mut fanout = FanOut::new(reg.len(), 2 * CAPACITY);
    let consumer = fanout.add_consumer(1 << 14);
    // 64 KiB terms: the stream rotates terms dozens of times, and a message
    // that meets a term's end must be offered again, not dropped.
    let channel = "aeron:ipc?term-length=65536";
    let mut cfg = PublisherConfig::new(channel);
    cfg.stream_id = stream_id;
    cfg.snapshot_interval = Duration::from_millis(20);
    let (publisher, inline) = if stepped_here {
        let p = InlinePublisher::connect(driver.dir(), consumer, reg.clone(), CAPACITY, &cfg)
            .expect("publisher");
        (None, Some(p))
    } else {
        let p = Publisher::spawn(driver.dir(), consumer, reg.clone(), CAPACITY, &cfg)
            .expect("publisher");
        (Some(p), None)
    };
    let sub = Subscriber::connect(driver.dir(), channel, stream_id).expect("subscriber");
    let mut feed = Feed::new(9, reg.len());
    let mut rig = Rig {
        fanout,
        inline,
        batch: EventBatch::with_capacity(4 * CAPACITY),
        sub,
        local: mirror(&reg),
        remote: mirror(&reg),
        received: 0,
    };
    // Batches generated up front: the generator allocates, the bridge must not.
    let batches: Vec<Vec<Event>> = (0..20_000).map(|_| feed.batch()).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    // Warm-up: the subscriber joins, gets the catalog and its snapshots.
    rig.run(&batches[..5_000]);
    let mut settle = 0;
    while !rig.sub.all_synced() && Instant::now() < deadline && settle < 1_000_000 {
        rig.drain(1);
        settle += 1;
    }
    assert!(rig.sub.all_synced(), "{:?}", rig.sub.stats());
    let before = rig.received;
    COUNTING.store(true, Ordering::SeqCst);
    rig.run(&batches[5_000..]);
    COUNTING.store(false, Ordering::SeqCst);
    let allocations = ALLOCATIONS.load(Ordering::SeqCst);
    // Drain what is still in flight (bounded), then compare the books.
    while Instant::now() < deadline && rig.drain(200_000) > 0 {}
    let received = rig.received;
    let stats = match (publisher, &rig.inline) {
        (Some(p), _) => p.stop(),
        (None, Some(p)) => p.stats(),
        (None, None) => unreachable!("one publisher or the other"),
    };
    assert!(
        received - before > 30_000,
        "events while counting: {}",
        received - before
    );
    assert_eq!(
        allocations, 0,
        "allocations while counting (inline: {stepped_here})"
    );
    assert_eq!(stats.dropped, 0, "{stats:?}");
    assert!(
        same_books(&reg, &rig.local, &rig.remote),
        "{:?}",
        rig.sub.stats()
    );
    drop(rig);
    drop(driver);
    let _ = std::fs::remove_dir_all(&dir);
}
