//! `tickwire bridge`: the engine with an Aeron publisher as its consumer —
//! every normalised event goes out on an Aeron channel (stream N), with the
//! catalog and full snapshots for late joiners on stream N + 1.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tickwire::bridge::{
    Idle, InlinePublisher, MediaDriver, Publisher, PublisherConfig, Subscriber, snapshot_stream_id,
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
/// embedded driver) and comes back out of a subscriber into a local ring,
/// whose consumer the demo reads as usual — so the report's
/// `pushed_to_popped` and `total` include the Aeron hop. One relay thread
/// steps the publisher ([`InlinePublisher`]) and polls the subscriber: the
/// hop through Aeron's log buffer is the same, and the demo's two cores are
/// not asked for two more spinning threads.
pub(crate) struct Relay {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<RelayStats>>,
    driver: Option<MediaDriver>,
}

/// What went through the relay.
#[derive(Debug, Default)]
struct RelayStats {
    publisher: tickwire::bridge::PublisherStats,
    subscriber: tickwire::bridge::SubscriberStats,
    relayed: u64,
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
        let cfg = PublisherConfig::new("aeron:ipc");
        let mut fanout = tickwire::ring::FanOut::new(registry.len(), 2 * capacity);
        let relayed = fanout.add_consumer(ring_size);
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let (dir, flag) = (driver.dir().to_owned(), stop.clone());
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("tickwire-relay".into())
            .spawn(move || {
                tickwire::sys::pin_current_thread(core, "bridge relay");
                let ends = InlinePublisher::connect(&dir, consumer, registry, capacity, &cfg)
                    .and_then(|p| Ok((p, Subscriber::connect(&dir, &cfg.channel, cfg.stream_id)?)));
                let ends = ends.and_then(|(p, s)| {
                    // The engine starts once this is ready: its first
                    // events must find the subscriber connected.
                    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                    while !p.is_connected() {
                        if std::time::Instant::now() > deadline {
                            return Err(tickwire::bridge::BridgeError::Setup(
                                "the relay's subscriber did not connect".into(),
                            ));
                        }
                        std::thread::sleep(std::time::Duration::from_millis(1));
                    }
                    Ok((p, s))
                });
                let (mut publisher, mut sub) = match ends {
                    Ok(ends) => {
                        let _ = ready_tx.send(Ok(()));
                        ends
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return RelayStats::default();
                    }
                };
                let mut batch = tickwire::ring::EventBatch::with_capacity(1);
                let mut relayed = 0u64;
                // After the stop, what is still on its way is relayed until
                // nothing has moved for a while (bounded).
                let mut quiet = 0u32;
                let mut stopped: Option<std::time::Instant> = None;
                loop {
                    if stopped.is_none() && flag.load(Ordering::Relaxed) {
                        stopped = Some(std::time::Instant::now());
                    }
                    if stopped.is_some_and(|t| {
                        quiet > 10_000 || t.elapsed() > std::time::Duration::from_secs(1)
                    }) {
                        break;
                    }
                    let mut moved = publisher.step();
                    while let Some(e) = sub.poll() {
                        moved += 1;
                        let Some(stamp) = e.stamp() else { continue };
                        relayed += 1;
                        batch.clear();
                        batch.push(e);
                        let state =
                            tickwire::ring::BookState::<tickwire::book::Ladder>::Resyncing(stamp);
                        fanout.publish(&batch, state, e.recv_ns);
                    }
                    if moved == 0 {
                        quiet += 1;
                        // The demo's simulator, feed and consumer threads
                        // share the cores: give way rather than spin.
                        std::thread::yield_now();
                    } else {
                        quiet = 0;
                    }
                }
                RelayStats {
                    publisher: publisher.stats(),
                    subscriber: sub.stats(),
                    relayed,
                }
            })
            .map_err(|e| e.to_string())?;
        let relay = Relay {
            stop,
            thread: Some(thread),
            driver: Some(driver),
        };
        match ready_rx.recv_timeout(std::time::Duration::from_secs(30)) {
            Ok(Ok(())) => Ok((relayed, relay)),
            Ok(Err(e)) => Err(format!("bridge relay: {e}")),
            Err(_) => Err("bridge relay: set-up timed out".into()),
        }
    }
}

impl Relay {
    /// Stops the relay; its counters for the demo's report: JSON member
    /// `"bridge"` and a text line.
    pub(crate) fn finish(mut self) -> crate::live::ReportExtra {
        let s = self.halt();
        let (p, r) = (s.publisher, s.subscriber);
        crate::live::ReportExtra {
            json: format!(
                "\"bridge\":{{\"channel\":\"aeron:ipc\",\"published\":{},\"dropped\":{},\"repairs\":{},\"relayed\":{},\"gaps\":{},\"snapshots\":{}}}",
                p.events, p.dropped, p.repairs, s.relayed, r.gaps, r.snapshots
            ),
            text: format!(
                "bridge (aeron:ipc): {} events published, {} dropped, {} repairs; {} relayed, {} gaps, {} snapshots\n",
                p.events, p.dropped, p.repairs, s.relayed, r.gaps, r.snapshots
            ),
        }
    }

    fn halt(&mut self) -> RelayStats {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let stats = self
            .thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default();
        drop(self.driver.take());
        stats
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.halt();
    }
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay").finish_non_exhaustive()
    }
}
