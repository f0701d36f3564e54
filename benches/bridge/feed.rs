//! The feed thread with and without the bridge: the engine against the
//! simulator at 100,000 msgs/s, a spinning consumer measuring every stage,
//! and, in the bridge run, a second consumer published over Aeron IPC by a
//! `Publisher` thread (yielding when idle) to a subscriber thread that
//! stands in for another host (it drains every 1 ms).
//! The feed thread's own stages (socket readable → decoded → pushed) are
//! what the bridge must leave unchanged: it only pushes into one more ring.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tickwire::bridge::{Idle, MediaDriver, Publisher, PublisherConfig, Subscriber};
use tickwire::metrics::LatencyReport;

use crate::measure::{latency_consumer, probed_engine, sim};

const RATE: u32 = 100_000;

/// What the bridge carried in a run.
struct Carried {
    published: u64,
    dropped: u64,
    received: u64,
    /// Discarded by the subscriber while it awaited its first snapshot.
    discarded: u64,
}

/// One run of `seconds`; the bridge on or off.
fn run(seconds: u64, bridge: bool) -> (u64, LatencyReport, Option<Carried>) {
    let sim = sim(RATE, None);
    let mut engine = probed_engine(&sim, None);
    let capacity = engine.config().engine.book_capacity;
    let c = engine.add_consumer();
    let stop = Arc::new(AtomicBool::new(false));
    let received = Arc::new(AtomicU64::new(0));
    let discarded = Arc::new(AtomicU64::new(0));
    let mut bridge_parts = None;
    if bridge {
        let driver = MediaDriver::start(None).expect("driver");
        let mut pc = PublisherConfig::new("aeron:ipc");
        pc.stream_id = 4401;
        pc.idle = Idle::Yield;
        let publisher = Publisher::spawn(
            driver.dir(),
            engine.add_consumer(),
            engine.registry(),
            capacity,
            &pc,
        )
        .expect("publisher");
        let sub_stop = Arc::new(AtomicBool::new(false));
        let (dir, stop2, got) = (driver.dir().to_owned(), sub_stop.clone(), received.clone());
        let skipped = discarded.clone();
        let sub = std::thread::spawn(move || {
            let mut sub = Subscriber::connect(&dir, "aeron:ipc", 4401).expect("subscriber");
            let mut n = 0u64;
            loop {
                // Set once the publisher has sent everything: one last drain.
                let last = stop2.load(Ordering::Relaxed);
                let mut any = false;
                while sub.poll().is_some() {
                    n += 1;
                    any = true;
                }
                if last {
                    break;
                }
                if !any {
                    // It stands in for another host: it drains what is
                    // there every 1 ms and takes no core from this one.
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            got.store(n, Ordering::Relaxed);
            skipped.store(sub.stats().discarded, Ordering::Relaxed);
        });
        bridge_parts = Some((driver, publisher, sub, sub_stop));
    }
    let clock = engine.clock();
    let handle = engine.spawn().expect("spawn");
    let t = latency_consumer(c, clock, None, stop.clone());
    std::thread::sleep(Duration::from_secs(seconds));
    let report = handle.stop();
    stop.store(true, Ordering::Relaxed);
    let latency = t.join().expect("consumer");
    let carried = bridge_parts.map(|(driver, publisher, sub, sub_stop)| {
        let s = publisher.stop();
        sub_stop.store(true, Ordering::Relaxed);
        let _ = sub.join();
        drop(driver);
        Carried {
            published: s.events,
            dropped: s.dropped,
            received: received.load(Ordering::Relaxed),
            discarded: discarded.load(Ordering::Relaxed),
        }
    });
    drop(sim);
    (report.counters.messages, latency, carried)
}

/// Without, with, and again without the bridge, in one run.
pub(crate) fn feed_thread(seconds: u64) {
    println!(
        "feed thread at {RATE} msgs/s ({seconds} s a run; stages in ns, p50 / p99): readable->decoded, decoded->pushed, total to the consumer"
    );
    for (name, bridge) in [
        ("without the bridge", false),
        ("with the bridge", true),
        ("without (again)", false),
    ] {
        let (messages, l, carried) = run(seconds, bridge);
        let [dec, push, _, total] = l.stages;
        println!(
            "  {name:<20} {messages:>9} msgs  {:>5} / {:<6} {:>4} / {:<5} {:>5} / {:<6}",
            dec.p50, dec.p99, push.p50, push.p99, total.p50, total.p99
        );
        if let Some(c) = carried {
            println!(
                "  {:<20} published {}, dropped {}; received {}, discarded awaiting the first snapshot {}",
                "", c.published, c.dropped, c.received, c.discarded
            );
        }
    }
}
