//! The publishing side's I/O: [`PublisherCore`] on two Aeron exclusive
//! publications, either stepped from the caller's own loop
//! ([`InlinePublisher`]) or on a thread of its own ([`Publisher`]). Both run
//! the same turn: drain the consumer ring, publish, flush, service.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusteron_client::{Aeron, AeronExclusivePublication, AeronOfferError};

use super::aeron::{SETUP_TIMEOUT, connect, cstring};
use super::publisher::{PublisherCore, PublisherStats, Refused, Sink};
use super::{BridgeError, Idle, PublisherConfig, snapshot_stream_id};
use crate::consumer::Consumer;
use crate::types::{Event, InstrumentId, Registry, Stamp, StatusCode, Venue};

/// An exclusive publication as a [`Sink`].
struct PubSink(AeronExclusivePublication);

/// Offers made again at once after an `AdminAction` (a term rotation: the
/// message did not fit the term's end, which was padded; it fits the next).
const ADMIN_RETRIES: u32 = 4;

impl Sink for PubSink {
    #[inline]
    fn offer(&mut self, msg: &[u8]) -> Result<(), Refused> {
        for _ in 0..ADMIN_RETRIES {
            match self.0.offer(msg) {
                Ok(_) => return Ok(()),
                Err(AeronOfferError::AdminAction) => {}
                Err(AeronOfferError::NotConnected) => return Err(Refused::NotConnected),
                Err(AeronOfferError::BackPressured) => return Err(Refused::BackPressure),
                Err(_) => return Err(Refused::Closed),
            }
        }
        Err(Refused::BackPressure)
    }

    #[inline]
    fn connected(&self) -> bool {
        self.0.is_connected()
    }
}

fn add_publication(
    aeron: &Aeron,
    channel: &str,
    stream_id: i32,
) -> Result<AeronExclusivePublication, BridgeError> {
    Ok(aeron
        .async_add_exclusive_publication(&cstring(channel)?, stream_id)?
        .poll_blocking(SETUP_TIMEOUT)?)
}

/// Events popped from the ring per turn (one chunk, preallocated).
const CHUNK: usize = 1024;

/// A publisher stepped from the caller's loop: for a thread that already
/// spins (a strategy's, a consumer's) and has room for the bridge, so the
/// bridge costs no core of its own. [`Publisher`] runs the same turn on a
/// thread of its own.
pub struct InlinePublisher {
    core: PublisherCore,
    consumer: Consumer,
    chunk: Vec<Event>,
    started: Instant,
    main: PubSink,
    snap: PubSink,
    // Dropped after the publications it owns.
    _aeron: Aeron,
}

impl std::fmt::Debug for InlinePublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InlinePublisher")
            .field("stats", &self.core.stats())
            .finish_non_exhaustive()
    }
}

impl InlinePublisher {
    /// Connects to the driver in `dir` and adds the main and snapshot
    /// publications of `cfg` (its `core` and `idle` are not used: the
    /// caller's thread runs it). Events come from `consumer`, whose
    /// instruments are `registry`'s, with books of `book_capacity` levels.
    pub fn connect(
        dir: &str,
        consumer: Consumer,
        registry: Arc<Registry>,
        book_capacity: usize,
        cfg: &PublisherConfig,
    ) -> Result<InlinePublisher, BridgeError> {
        let aeron = connect(dir)?;
        let main = add_publication(&aeron, &cfg.channel, cfg.stream_id)?;
        let snap = add_publication(&aeron, &cfg.channel, snapshot_stream_id(cfg.stream_id))?;
        let interval = u64::try_from(cfg.snapshot_interval.as_nanos()).unwrap_or(u64::MAX);
        Ok(InlinePublisher {
            core: PublisherCore::new(registry, book_capacity, interval),
            consumer,
            chunk: vec![Event::status(blank_stamp(), StatusCode::Probe, 0, 0, false); CHUNK],
            started: Instant::now(),
            main: PubSink(main),
            snap: PubSink(snap),
            _aeron: aeron,
        })
    }

    /// One turn: publishes what the ring holds (up to one chunk), then
    /// repairs and periodic snapshots when due. Returns the events popped;
    /// never blocks.
    #[inline]
    pub fn step(&mut self) -> usize {
        let n = self.consumer.drain_into(&mut self.chunk);
        for e in &self.chunk[..n] {
            self.core.handle(e, &mut self.main);
        }
        self.core.flush(&mut self.main);
        let now = u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.core.service(now, &mut self.main, &mut self.snap);
        n
    }

    /// Counters so far.
    pub fn stats(&self) -> PublisherStats {
        self.core.stats()
    }

    /// True while a subscriber is connected to the main stream (until
    /// then every event is dropped, counted, and repaired afterwards).
    pub fn is_connected(&self) -> bool {
        self.main.connected()
    }
}

/// Counters of a running publisher, readable from any thread.
#[derive(Debug, Default)]
pub struct LivePublisherStats {
    /// Events published on the main stream.
    pub events: AtomicU64,
    /// Events not published (see [`PublisherStats::dropped`]).
    pub dropped: AtomicU64,
    /// Repairs published.
    pub repairs: AtomicU64,
    /// Snapshots published on the snapshot stream.
    pub snapshots: AtomicU64,
}

impl LivePublisherStats {
    fn store(&self, s: &PublisherStats) {
        self.events.store(s.events, Ordering::Relaxed);
        self.dropped.store(s.dropped, Ordering::Relaxed);
        self.repairs.store(s.repairs, Ordering::Relaxed);
        self.snapshots.store(s.snapshots, Ordering::Relaxed);
    }
}

/// The engine consumer that publishes on Aeron, on its own thread.
#[derive(Debug)]
pub struct Publisher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<PublisherStats>>,
    live: Arc<LivePublisherStats>,
}

impl Publisher {
    /// Starts the publisher thread: it connects to the driver in `dir`,
    /// adds the main and snapshot publications, then pops `consumer`'s
    /// ring until stopped, waiting as `cfg.idle` says when it is empty.
    /// Returns once the publications exist.
    pub fn spawn(
        dir: &str,
        consumer: Consumer,
        registry: Arc<Registry>,
        book_capacity: usize,
        cfg: &PublisherConfig,
    ) -> Result<Publisher, BridgeError> {
        let stop = Arc::new(AtomicBool::new(false));
        let live = Arc::new(LivePublisherStats::default());
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let dir = dir.to_owned();
        let cfg = cfg.clone();
        let (stop2, live2) = (stop.clone(), live.clone());
        let thread = std::thread::Builder::new()
            .name("tickwire-bridge".into())
            .spawn(move || {
                crate::sys::pin_current_thread(cfg.core, "bridge publisher");
                let inline =
                    InlinePublisher::connect(&dir, consumer, registry, book_capacity, &cfg);
                let mut inline = match inline {
                    Ok(p) => {
                        let _ = ready_tx.send(Ok(()));
                        p
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return PublisherStats::default();
                    }
                };
                run(&mut inline, cfg.idle, &stop2, &live2)
            })?;
        match ready_rx.recv_timeout(SETUP_TIMEOUT * 2) {
            Ok(Ok(())) => Ok(Publisher {
                stop,
                thread: Some(thread),
                live,
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                stop.store(true, Ordering::Relaxed);
                Err(BridgeError::Setup("publisher set-up timed out".into()))
            }
        }
    }

    /// Live counters.
    pub fn live(&self) -> &Arc<LivePublisherStats> {
        &self.live
    }

    /// Stops the thread (after it sends what its ring holds) and returns
    /// its final counters.
    pub fn stop(mut self) -> PublisherStats {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Empty turns spent spinning, then yielding, before [`Idle::Backoff`]
/// sleeps.
const BACKOFF_SPINS: u32 = 20_000;
const BACKOFF_YIELDS: u32 = 20_000;
/// [`Idle::Backoff`]'s sleep once spinning and yielding found nothing.
const BACKOFF_SLEEP: Duration = Duration::from_micros(50);

fn run(
    p: &mut InlinePublisher,
    idle: Idle,
    stop: &AtomicBool,
    live: &LivePublisherStats,
) -> PublisherStats {
    let mut empty: u32 = 0;
    loop {
        let stopping = stop.load(Ordering::Relaxed);
        if p.step() > 0 {
            empty = 0;
            continue;
        }
        let s = p.stats();
        live.store(&s);
        if stopping {
            return s;
        }
        empty = empty.saturating_add(1);
        match idle {
            Idle::Spin => std::hint::spin_loop(),
            Idle::Yield => std::thread::yield_now(),
            Idle::Backoff if empty < BACKOFF_SPINS => std::hint::spin_loop(),
            Idle::Backoff if empty < BACKOFF_SPINS + BACKOFF_YIELDS => std::thread::yield_now(),
            Idle::Backoff => std::thread::sleep(BACKOFF_SLEEP),
        }
    }
}

fn blank_stamp() -> Stamp {
    Stamp {
        venue: Venue::BinanceSpot,
        instrument: InstrumentId(0),
        seq: 0,
        exch_ns: 0,
        recv_ns: 0,
    }
}
