//! `tickwire run --config FILE`: the engine against the configured venues,
//! with the live view and, at the end (`--seconds`, SIGINT or SIGTERM), the
//! final report.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tickwire::config::Config;
use tickwire::engine::Engine;

use crate::Failure;
use crate::live::{self, ConsumerThread};
use crate::out::Out;

/// Arguments of `tickwire run`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The TOML configuration.
    #[arg(long)]
    config: PathBuf,
    /// Stop after this many seconds, at most a year (default: until SIGINT or SIGTERM).
    #[arg(long, value_parser = crate::limits::seconds())]
    seconds: Option<u64>,
    /// Print the final report as one JSON object (the live view goes to stderr).
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    live::init_tracing("info");
    let stop = crate::signals::install()?;
    let out = Out::new();
    let config = Config::load(&args.config)
        .and_then(|c| c.validate())
        .map_err(|e| e.to_string())?;
    let capacity = config.engine.book_capacity;
    let consumer_core = config.engine.consumer_cores.first().copied();
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
        Duration::from_secs(1),
    )
    .map_err(|e| e.to_string())?;
    let limit = args.seconds.map(Duration::from_secs);
    let json = args.json;
    let elapsed = live::watch(
        Instant::now(),
        &registry,
        || handle.counters(),
        &consumer,
        |t| stop.requested() || out.failed() || limit.is_some_and(|l| t >= l),
        |line| {
            if json {
                eprintln!("{line}")
            } else {
                out.line(format_args!("{line}"))
            }
        },
    );
    let report = handle.stop();
    let (latency, _) = consumer.stop();
    live::print_report(&out, json, elapsed.as_secs_f64(), &report, &latency);
    out.finish()
}
