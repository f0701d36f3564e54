//! `tickwire demo`: the simulated venue in-process on loopback, the engine on
//! its pinned thread, one consumer thread; a live view every second and a
//! per-stage latency report at the end.

use std::time::{Duration, Instant};

use tickwire::config::{Config, EngineSection, VenueSection};
use tickwire::engine::Engine;
use tickwire::sim::{SimConfig, SimVenue};
use tickwire::types::Venue;

use crate::Failure;
use crate::live::{self, ConsumerThread};
use crate::out::Out;

/// Arguments of `tickwire demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// How long to run (at most a year; SIGINT or SIGTERM stop it earlier).
    #[arg(long, default_value_t = 10, value_parser = crate::limits::seconds())]
    seconds: u64,
    /// Messages per second the simulated venue sends (depth diffs, bookTickers, trades), 1..=2000000.
    #[arg(long, default_value_t = 100_000, value_parser = crate::limits::rate())]
    rate: u32,
    /// Print the final report as one JSON object (the live view goes to stderr).
    #[arg(long)]
    json: bool,
    /// Use wss:// and https:// with the simulator's generated certificate.
    #[arg(long)]
    tls: bool,
    /// Symbols to simulate.
    #[arg(long, value_delimiter = ',', default_value = "BTCUSDT,ETHUSDT,SOLUSDT")]
    symbols: Vec<String>,
}

pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    live::init_tracing("warn");
    let stop = crate::signals::install()?;
    // The simulator would take any symbols: check them as the engine will,
    // before anything starts, and name the flag.
    Config {
        engine: EngineSection::default(),
        venues: vec![VenueSection {
            symbols: args.symbols.clone(),
            ..VenueSection::new(Venue::BinanceSpot)
        }],
    }
    .validate()
    .map_err(crate::tap::flag_error)?;
    let out = Out::new();
    let cores = tickwire::sys::init_core_list().to_vec();
    // Feed and simulator share the first core (the feed sleeps in epoll
    // between bursts); the consumer spins alone on the second.
    let (feed_core, consumer_core) = match cores.as_slice() {
        [a, b, ..] => (Some(*a), Some(*b)),
        [a] => (Some(*a), None),
        [] => (None, None),
    };
    // Every thread spawned from here on inherits this affinity, so the
    // simulator and the helpers stay off the consumer's core.
    tickwire::sys::pin_current_thread(feed_core, "demo main");
    let symbols: Vec<&str> = args.symbols.iter().map(String::as_str).collect();
    let mut sim_cfg = SimConfig::new(Venue::BinanceSpot, &symbols);
    sim_cfg.rate = args.rate;
    sim_cfg.tls = args.tls;
    sim_cfg.core = feed_core;
    let sim = SimVenue::start(sim_cfg).map_err(|e| e.to_string())?;
    let config = Config {
        engine: EngineSection {
            feed_core,
            consumer_cores: consumer_core.into_iter().collect(),
            ..EngineSection::default()
        },
        venues: vec![sim.venue_section().map_err(|e| e.to_string())?],
    }
    .validate()
    .map_err(|e| e.to_string())?;
    let capacity = config.engine.book_capacity;
    let mut engine = Engine::new(config).map_err(|e| e.to_string())?;
    engine.set_latency_probe(true);
    let consumer = engine.add_consumer();
    let registry = engine.registry();
    let clock = engine.clock();
    let handle = engine.spawn().map_err(|e| e.to_string())?;
    let consumer = ConsumerThread::spawn(
        consumer,
        registry.clone(),
        capacity,
        clock,
        consumer_core,
        Duration::from_millis(500),
    )
    .map_err(|e| e.to_string())?;
    let say = |line: &str| {
        if args.json {
            eprintln!("{line}");
        } else {
            out.line(format_args!("{line}"));
        }
    };
    say(&format!(
        "tickwire demo: {} msg/s from the simulated venue at {} for {} s (feed core {}, consumer core {})",
        live::group(u64::from(args.rate)),
        sim.ws_url(),
        args.seconds,
        feed_core.map_or("-".into(), |c| c.to_string()),
        consumer_core.map_or("-".into(), |c| c.to_string()),
    ));
    let started = Instant::now();
    let limit = Duration::from_secs(args.seconds);
    let elapsed = live::watch(
        started,
        &registry,
        || handle.counters(),
        &consumer,
        |t| t >= limit || stop.requested() || out.failed(),
        say,
    );
    let report = handle.stop();
    let (latency, _) = consumer.stop();
    drop(sim);
    live::print_report(&out, args.json, elapsed.as_secs_f64(), &report, &latency);
    out.finish()
}
