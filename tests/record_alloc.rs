//! The recording hook costs the feed thread no allocation: with a
//! recorder attached, over ws://, the feed thread makes no new allocation
//! in steady state (every frame is copied into the hand-over ring's
//! preallocated memory), and the writer thread keeps up without losing a
//! record. The counting allocator is `feed_alloc`'s, shared with `engine_alloc.rs`.

mod feed_alloc;
mod live;

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
    let s = feed_alloc::steady(&handle, &mut m, 30_000, 60_000);
    let c = handle.stop().counters;
    let written = writer.join().expect("writer");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!((c.gaps, c.resyncs, c.reconnects), (0, 0, 0), "{c:?}");
    assert!(s.messages >= 60_000, "{s:?}");
    assert_eq!(
        s.allocs, 0,
        "new allocations on the feed thread while recording: {s:?}"
    );
    assert!(s.grows <= 4, "the read buffer kept growing: {s:?}");
    assert_eq!(written.tap.lost, 0, "the writer kept up");
    assert!(
        written.records >= c.messages,
        "{} < {}",
        written.records,
        c.messages
    );
}
