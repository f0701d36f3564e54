//! What the end-to-end benches share: the simulated venue and an engine on
//! it with latency probes, the measuring consumer, the cores and the flags.
#![allow(dead_code, reason = "each bench uses part of this module")]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tickwire::config::{Config, EngineSection};
use tickwire::consumer::Consumer;
use tickwire::engine::Engine;
use tickwire::metrics::{LatencyRecorder, LatencyReport};
use tickwire::sim::{SimConfig, SimVenue};
use tickwire::types::{Clock, Event, MonotonicClock, Venue};

/// The symbols the simulated venue streams.
pub(crate) const SYMBOLS: [&str; 3] = ["BTCUSDT", "ETHUSDT", "SOLUSDT"];

/// The simulated Binance spot venue at `rate` msgs/s, its market thread
/// pinned to `core` when given.
pub(crate) fn sim(rate: u32, core: Option<usize>) -> SimVenue {
    let mut cfg = SimConfig::new(Venue::BinanceSpot, &SYMBOLS);
    cfg.rate = rate;
    cfg.core = core;
    SimVenue::start(cfg).expect("simulator")
}

/// An engine on `sim` with its latency probes on, the feed thread pinned
/// to `feed_core` when given.
pub(crate) fn probed_engine(sim: &SimVenue, feed_core: Option<usize>) -> Engine {
    let config = Config {
        engine: EngineSection {
            feed_core,
            ..EngineSection::default()
        },
        venues: vec![sim.venue_section().expect("simulator config")],
        risk: Default::default(),
    }
    .validate()
    .expect("config");
    let mut engine = Engine::new(config).expect("engine");
    engine.set_latency_probe(true);
    engine
}

/// The first two cores this process may use (feed, consumer), as far as
/// there are any.
pub(crate) fn bench_cores() -> (Option<usize>, Option<usize>) {
    match tickwire::sys::init_core_list() {
        [a, b, ..] => (Some(*a), Some(*b)),
        [a] => (Some(*a), None),
        [] => (None, None),
    }
}

/// The number after flag `name` on the command line, or `default`.
pub(crate) fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A consumer thread (pinned to `core` when given): calls `pop` in a spin,
/// records every stage from the probes once `record_after` has passed, and
/// returns its report once `stop` is set and `pop` finds nothing.
pub(crate) fn consumer(
    mut pop: impl FnMut(&mut dyn FnMut(&Event)) -> usize + Send + 'static,
    clock: MonotonicClock,
    core: Option<usize>,
    stop: Arc<AtomicBool>,
    record_after: Duration,
) -> JoinHandle<LatencyReport> {
    std::thread::spawn(move || {
        tickwire::sys::pin_current_thread(core, "bench consumer");
        let mut rec = LatencyRecorder::new();
        rec.set_recording(false);
        let start = Instant::now();
        loop {
            let now = clock.now();
            let n = pop(&mut |e| rec.on_event(e, now));
            if n == 0 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                std::hint::spin_loop();
            }
            if start.elapsed() >= record_after {
                rec.set_recording(true);
            }
        }
        rec.report()
    })
}

/// [`consumer`] on an engine's consumer ring, recording after one second.
pub(crate) fn latency_consumer(
    mut c: Consumer,
    clock: MonotonicClock,
    core: Option<usize>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<LatencyReport> {
    consumer(
        move |f| c.drain(|e| f(e)),
        clock,
        core,
        stop,
        Duration::from_secs(1),
    )
}
