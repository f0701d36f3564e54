//! The snapshot retry policy of the live engine against the project's
//! simulator on loopback: refused snapshots and an unreachable REST
//! endpoint back off per instrument and report every failure. (The hostile
//! venue in `tests/hostile.rs` covers the other failure kinds, blips, and
//! frames the engine must report.) Every wait is bounded by a deadline.

mod live;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use live::{config_for, start};
use tickwire::sim::{Fault, SimConfig, SimVenue};
use tickwire::types::{SnapshotFailReason, StatusCode, Venue};

const LIMIT: Duration = Duration::from_secs(20);

/// A loopback port with nothing listening on it.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Item 7: refused snapshots are retried with an exponential backoff per
/// instrument (not in a burst), each failure is a `SnapshotFailed` status,
/// and the books sync once the venue serves snapshots again.
#[test]
fn refused_snapshots_back_off_and_report_each_failure() {
    let mut cfg = SimConfig::new(Venue::BinanceSpot, &live::SYMBOLS);
    cfg.rate = 1_000;
    let sim = SimVenue::start(cfg).expect("simulator starts");
    sim.inject(Fault::RefuseSnapshots(10));
    let mut config = config_for(&sim, Venue::BinanceSpot);
    config.engine.backoff_initial_ms = 50;
    config.engine.backoff_max_ms = 400;
    let started = Instant::now();
    let (handle, mut m) = start(config);
    // 10 refusals shared by two instruments: 5 each, at ~50+100+200+400 ms
    // backoffs, so syncing takes well over half a second.
    assert!(
        m.until(LIMIT, |m| m.all_consistent()),
        "never synced: {:?}",
        handle.counters()
    );
    let took = started.elapsed();
    assert_eq!(
        sim.stats()
            .refused
            .load(std::sync::atomic::Ordering::Relaxed),
        10
    );
    assert!(
        took >= Duration::from_millis(500),
        "10 refusals retried in a burst: synced after {took:?}"
    );
    let failed: Vec<_> = m
        .statuses
        .iter()
        .filter(|s| s.1 == StatusCode::SnapshotFailed)
        .collect();
    assert_eq!(failed.len(), 10, "{:?}", m.statuses);
    assert!(
        failed
            .iter()
            .all(|s| s.2 == SnapshotFailReason::Http as i64),
        "{failed:?}"
    );
    let c = handle.stop().counters;
    assert_eq!(c.snapshot_failures, 10, "{c:?}");
}

/// Item 7: a REST endpoint that does not answer is retried with backoff:
/// over one second, a handful of attempts per instrument, not hundreds.
#[test]
fn an_unreachable_rest_endpoint_is_retried_at_a_bounded_rate() {
    let sim = live::sim(Venue::BinanceSpot, false, 1_000);
    let mut config = config_for(&sim, Venue::BinanceSpot);
    config.venues[0].rest_url = Some(format!("http://127.0.0.1:{}", closed_port()));
    config.engine.backoff_initial_ms = 100;
    config.engine.backoff_max_ms = 1_000;
    let (handle, mut m) = start(config);
    assert!(
        m.until(LIMIT, |m| m.seen(StatusCode::SnapshotFailed) >= 2),
        "no failure reported: {:?}",
        handle.counters()
    );
    let first = Instant::now();
    // Drain for a bounded second.
    m.until(Duration::from_secs(1), |_| false);
    let window = first.elapsed();
    let c = handle.stop().counters;
    // Backoffs of ~100, 200, 400, 800 ms: at most 5 attempts per instrument
    // in the first 1.1 s (±25% jitter), 2 instruments.
    assert!(
        c.snapshot_failures <= 12,
        "{} failures in {window:?}: {c:?}",
        c.snapshot_failures
    );
    assert_eq!(
        m.seen(StatusCode::SnapshotFailed) as u64,
        c.snapshot_failures,
        "{:?}",
        m.statuses
    );
    assert!(
        m.statuses
            .iter()
            .filter(|s| s.1 == StatusCode::SnapshotFailed)
            .all(|s| s.2 == SnapshotFailReason::Transport as i64),
        "{:?}",
        m.statuses
    );
}
