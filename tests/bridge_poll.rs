//! `Subscriber::poll` over Aeron IPC: `None` means nothing is left to read.
//! Messages that yield no event (here: every one, since no catalog has
//! arrived, so all are discarded) are read past within one drain, so a
//! caller that polls until `None` and then sleeps does not fall behind.

mod bridge_util;

use std::time::{Duration, Instant};

use bridge_util::{CAPACITY, Feed, blank_stamp, registry};
use tickwire::book::Ladder;
use tickwire::bridge::{InlinePublisher, MediaDriver, PublisherConfig, Subscriber};
use tickwire::ring::{BookState, EventBatch, FanOut};

#[test]
fn one_drain_until_none_reads_every_message_waiting() {
    let reg = registry();
    let dir = format!("/dev/shm/tickwire-test-{}-poll", std::process::id());
    let driver = MediaDriver::start(Some(std::path::Path::new(&dir))).expect("driver");
    let mut fanout = FanOut::new(reg.len(), 2 * CAPACITY);
    let consumer = fanout.add_consumer(1 << 14);
    let mut cfg = PublisherConfig::new("aeron:ipc");
    cfg.stream_id = 3501;
    // The catalog goes out at the first turn (nobody is connected yet, so
    // it is skipped) and then not for an hour: every event is discarded.
    cfg.snapshot_interval = Duration::from_secs(3600);
    let mut publisher =
        InlinePublisher::connect(driver.dir(), consumer, reg.clone(), CAPACITY, &cfg)
            .expect("publisher");
    publisher.step();
    let mut sub = Subscriber::connect(driver.dir(), "aeron:ipc", 3501).expect("subscriber");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !publisher.is_connected() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(publisher.is_connected(), "the subscriber connects");
    let stamp = blank_stamp();
    let mut feed = Feed::new(5, reg.len());
    let mut batch = EventBatch::with_capacity(4 * CAPACITY);
    for _ in 0..200 {
        batch.clear();
        for e in feed.batch() {
            batch.push(e);
        }
        fanout.publish(&batch, BookState::<Ladder>::Resyncing(stamp), 0);
        publisher.step();
    }
    let published = publisher.stats();
    assert!(published.messages >= 200, "{published:?}");
    // One drain.
    let mut yielded = 0;
    while sub.poll().is_some() {
        yielded += 1;
    }
    let s = sub.stats();
    assert_eq!(yielded, 0, "no catalog, no event");
    assert_eq!(s.discarded, published.events, "{s:?} {published:?}");
    drop(sub);
    drop(publisher);
    drop(driver);
    let _ = std::fs::remove_dir_all(&dir);
}
