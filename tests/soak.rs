//! Faults in a row, each followed by full convergence to the venue's book.
//!
//! The default run injects nine (every kind once); set
//! `TICKWIRE_SOAK_FAULTS=1000` for the long soak:
//! `TICKWIRE_SOAK_FAULTS=1000 cargo test --release --test soak -- --nocapture`.

mod live;

use std::time::{Duration, Instant};

use tickwire::sim::Fault;
use tickwire::types::Venue;

#[test]
fn every_fault_in_a_row_ends_in_convergence() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let faults: usize = std::env::var("TICKWIRE_SOAK_FAULTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(9);
    let mut cfg = tickwire::sim::SimConfig::new(Venue::BinanceSpot, &live::SYMBOLS);
    cfg.rate = 3_000;
    // Pings keep a paused market's connection alive, as Binance's do (the
    // answering pongs count against the 5 messages/s limit: stay under it).
    cfg.ping_interval = Duration::from_millis(300);
    let sim = tickwire::sim::SimVenue::start(cfg).expect("sim");
    let mut config = live::config_for(&sim, Venue::BinanceSpot);
    config.engine.stale_timeout_ms = 1_000;
    config.engine.instrument_stale_ms = 2_000;
    // Faults come faster than any venue would produce them: no storm guard here.
    config.engine.restart_limit = 1_000_000;
    let (handle, mut m) = live::start(config);
    assert!(
        m.until(Duration::from_secs(20), |m| m.all_consistent()),
        "never synced"
    );
    let started = Instant::now();
    for i in 0..faults {
        let fault = match i % 9 {
            0 => Fault::Disconnect,
            1 => Fault::Gap(Some("BTCUSDT".into())),
            2 => Fault::Malformed,
            3 => Fault::Stall(Duration::from_millis(1_500)),
            4 => Fault::RefuseSnapshots(2),
            5 => Fault::Quiet("ETHUSDT".into(), Duration::from_millis(2_500)),
            6 => Fault::Crossed("ETHUSDT".into()),
            7 => Fault::RateLimit(1),
            _ => Fault::SlowDown {
                factor: 10,
                duration: Duration::from_millis(200),
            },
        };
        if matches!(fault, Fault::RefuseSnapshots(_) | Fault::RateLimit(_)) {
            // Only bites when a snapshot is requested: force one with a gap.
            sim.inject(fault.clone());
            sim.inject(Fault::Gap(None));
        } else {
            sim.inject(fault.clone());
        }
        sim.set_rate(3_000);
        // Let the fault play out, then pause the market and compare.
        let settle = match fault {
            Fault::Quiet(..) => 2_600,
            Fault::Stall(_) => 1_600,
            _ => 300,
        };
        m.until(Duration::from_millis(settle), |_| false);
        assert!(
            live::converges(&sim, &mut m, Duration::from_secs(30)),
            "fault #{i} ({fault:?}): no convergence: {:?}",
            handle.counters()
        );
    }
    let c = handle.stop().counters;
    println!(
        "{faults} faults in {:.1} s: {c:?}",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(c.venue_down, 0);
    // The faults did bite: every crossed diff was caught.
    assert!(c.crossed as usize >= faults / 9, "{c:?}");
}
