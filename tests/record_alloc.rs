//! The recording hook costs the feed thread no allocation: with a
//! recorder attached, over ws://, the feed thread makes no new allocation
//! in steady state (every frame is copied into the hand-over ring's
//! preallocated memory), and the writer thread keeps up without losing a
//! record. The counting allocator is `feed_alloc`'s, shared with `engine_alloc.rs`.

mod feed_alloc;
mod live;

use std::time::Duration;

use tickwire::types::Venue;

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
        feed_alloc::feed_counts().0,
        feed_alloc::feed_counts().1,
        handle.counters().messages,
    );
    assert!(
        m.until(Duration::from_secs(30), |_| handle.counters().messages
            >= n0 + 60_000),
        "too few messages"
    );
    let (a1, g1) = (feed_alloc::feed_counts().0, feed_alloc::feed_counts().1);
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
