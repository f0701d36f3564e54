//! `tickwire bridge`: the engine with an Aeron publisher as its consumer —
//! every normalised event goes out on an Aeron channel (stream N), with the
//! catalog and full snapshots for late joiners on stream N + 1.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tickwire::bridge::{
    Idle, MediaDriver, Publisher, PublisherConfig, Subscriber, snapshot_stream_id,
};
use tickwire::engine::Engine;

use crate::Failure;

/// Aeron flags shared by `bridge` and `listen`.
#[derive(Debug, clap::Args)]
pub(crate) struct AeronArgs {
    /// Aeron channel: `aeron:ipc`, `aeron:udp?endpoint=HOST:PORT`, or a multicast one.
    #[arg(long)]
    pub(crate) channel: String,
    /// Main stream id (catalog and snapshots go on the next one).
    #[arg(long, default_value_t = tickwire::bridge::DEFAULT_STREAM_ID,
          value_parser = clap::value_parser!(i32).range(1..i64::from(i32::MAX)))]
    pub(crate) stream_id: i32,
    /// Media driver directory: a driver already running there is used
    /// (external); otherwise one is embedded in this process in it, for
    /// others to share (default: an embedded driver in a fresh directory).
    #[arg(long)]
    pub(crate) aeron_dir: Option<PathBuf>,
    /// How the busy threads wait when idle (an embedded driver's, the
    /// publisher's, the listener's): `spin` (a core each), `yield` (sharing
    /// cores with other busy threads), `backoff` (little CPU when quiet).
    #[arg(long, default_value = "backoff")]
    pub(crate) idle: Idle,
}

/// Arguments of `tickwire bridge`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    source: crate::source::Source,
    #[command(flatten)]
    aeron: AeronArgs,
    /// Milliseconds between full snapshots on the snapshot stream.
    #[arg(long, default_value_t = 250, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    snapshot_ms: u64,
    /// Stop after this many seconds, at most a year (default: until SIGINT or SIGTERM).
    #[arg(long, value_parser = crate::limits::seconds())]
    seconds: Option<u64>,
}

pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    crate::live::init_tracing("warn");
    let stop = crate::signals::install()?;
    let config = args.source.engine_config()?;
    let capacity = config.engine.book_capacity;
    let core = config.engine.consumer_cores.first().copied();
    let mut engine = Engine::new(config).map_err(|e| e.to_string())?;
    let consumer = engine.add_consumer();
    let registry = engine.registry();
    let driver = MediaDriver::start_with(args.aeron.aeron_dir.as_deref(), args.aeron.idle)
        .map_err(|e| e.to_string())?;
    let cfg = PublisherConfig {
        stream_id: args.aeron.stream_id,
        snapshot_interval: Duration::from_millis(args.snapshot_ms),
        core,
        idle: args.aeron.idle,
        ..PublisherConfig::new(&args.aeron.channel)
    };
    let publisher = Publisher::spawn(driver.dir(), consumer, registry.clone(), capacity, &cfg)
        .map_err(|e| e.to_string())?;
    let handle = engine.spawn().map_err(|e| e.to_string())?;
    eprintln!(
        "tickwire bridge: {} instruments on {} stream {} (snapshots on stream {}), {} media driver in {}",
        registry.len(),
        cfg.channel,
        cfg.stream_id,
        snapshot_stream_id(cfg.stream_id),
        if driver.is_embedded() {
            "embedded"
        } else {
            "external"
        },
        driver.dir()
    );
    let limit = args.seconds.map(Duration::from_secs);
    let started = Instant::now();
    while !stop.requested() && limit.is_none_or(|l| started.elapsed() < l) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let report = handle.stop();
    let stats = publisher.stop();
    eprintln!(
        "tickwire bridge: {} events in {} messages, {} dropped, {} repairs, {} snapshots ({} bytes); engine: {} messages, {} resyncs",
        stats.events,
        stats.messages,
        stats.dropped,
        stats.repairs,
        stats.snapshots,
        stats.snapshot_bytes,
        report.counters.messages,
        report.counters.resyncs
    );
    drop(driver);
    Ok(())
}

/// `demo --bridge`: the engine's consumer goes through the bridge (Aeron IPC,
/// embedded driver) and a subscriber thread relays what it receives into a
/// local ring, whose consumer the demo reads as usual — so the report's
/// `pushed_to_popped` and `total` include the Aeron hop.
pub(crate) struct Relay {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    publisher: Option<Publisher>,
    driver: Option<MediaDriver>,
}

impl Relay {
    /// Starts the bridge for `consumer`; returns the relayed consumer.
    pub(crate) fn start(
        consumer: tickwire::consumer::Consumer,
        registry: std::sync::Arc<tickwire::types::Registry>,
        capacity: usize,
        ring_size: usize,
        core: Option<usize>,
    ) -> Result<(tickwire::consumer::Consumer, Relay), String> {
        use std::sync::atomic::{AtomicBool, Ordering};
        let driver = MediaDriver::start(None).map_err(|e| e.to_string())?;
        let mut cfg = PublisherConfig::new("aeron:ipc");
        cfg.core = core;
        let publisher = Publisher::spawn(driver.dir(), consumer, registry.clone(), capacity, &cfg)
            .map_err(|e| e.to_string())?;
        let mut fanout = tickwire::ring::FanOut::new(registry.len(), 2 * capacity);
        let relayed = fanout.add_consumer(ring_size);
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let (dir, flag) = (driver.dir().to_owned(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("tickwire-relay".into())
            .spawn(move || {
                tickwire::sys::pin_current_thread(core, "bridge subscriber");
                let Ok(mut sub) = Subscriber::connect(&dir, "aeron:ipc", cfg.stream_id) else {
                    return;
                };
                let mut batch = tickwire::ring::EventBatch::with_capacity(1);
                while !flag.load(Ordering::Relaxed) {
                    match sub.poll() {
                        Some(e) => {
                            batch.clear();
                            batch.push(e);
                            let Some(stamp) = e.stamp() else { continue };
                            let state =
                                tickwire::ring::BookState::<tickwire::book::Ladder>::Resyncing(
                                    stamp,
                                );
                            fanout.publish(&batch, state, e.recv_ns);
                        }
                        None => std::hint::spin_loop(),
                    }
                }
            })
            .map_err(|e| e.to_string())?;
        Ok((
            relayed,
            Relay {
                stop,
                thread: Some(thread),
                publisher: Some(publisher),
                driver: Some(driver),
            },
        ))
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        drop(self.publisher.take());
        drop(self.driver.take());
    }
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay").finish_non_exhaustive()
    }
}
