//! `tickwire run --config FILE`: the engine against the configured venues,
//! with the live view and, on Ctrl-C, the final report.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tickwire::config::Config;
use tickwire::engine::Engine;

use crate::live::{self, ConsumerThread};

/// Arguments of `tickwire run`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The TOML configuration.
    #[arg(long)]
    config: PathBuf,
    /// Stop after this many seconds (default: until Ctrl-C).
    #[arg(long)]
    seconds: Option<u64>,
    /// Print the final report as one JSON object (the live view goes to stderr).
    #[arg(long)]
    json: bool,
}

/// Sets a flag on Ctrl-C (once per process).
pub(crate) fn interrupt_flag() -> Result<Arc<AtomicBool>, String> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    ctrlc::set_handler(move || f.store(true, Ordering::Relaxed))
        .map_err(|e| format!("installing the Ctrl-C handler: {e}"))?;
    Ok(flag)
}

pub(crate) fn run(args: &Args) -> Result<(), String> {
    live::init_tracing("info");
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
    let interrupted = interrupt_flag()?;
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
        |t| interrupted.load(Ordering::Relaxed) || limit.is_some_and(|l| t >= l),
        |line| {
            if json {
                eprintln!("{line}")
            } else {
                println!("{line}")
            }
        },
    );
    let report = handle.stop();
    let (latency, _) = consumer.stop();
    live::print_report(json, elapsed.as_secs_f64(), &report, &latency);
    Ok(())
}
