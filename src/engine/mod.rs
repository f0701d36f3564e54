//! The live engine: the only place that joins I/O to the sans-IO venue code.
//!
//! One pinned feed thread runs a mio loop that owns every connection, the
//! venue decoders, the sync state machines, the books and the fan-out. Per
//! message it reads a frame, stamps its receive time, decodes it, syncs and
//! applies it, and pushes the events to every consumer's ring — no
//! allocation, lock or log line on that path. A helper thread does the
//! blocking work (DNS, REST snapshots) and hands results back through a ring.
//!
//! ```no_run
//! use tickwire::config::Config;
//! use tickwire::engine::Engine;
//!
//! let config = Config::from_toml_str(r#"
//!     [[venue]]
//!     name = "binance-spot"
//!     symbols = ["BTCUSDT"]
//! "#)?.validate()?;
//! let mut engine = Engine::new(config)?;
//! let mut consumer = engine.add_consumer();
//! let handle = engine.spawn()?;
//! // A strategy thread:
//! for _ in 0..1_000_000 {
//!     while let Some(event) = consumer.poll() {
//!         // event.body(), event.instrument, event.recv_ns ...
//!     }
//! }
//! let report = handle.stop();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod feed;
pub(crate) mod link;
/// Rate limits, backoff and restart intensity (they live in `types`: the
/// venue sessions pace their messages with them too).
pub use crate::types::limits;
pub mod plan;
pub mod recording;
pub mod snapshots;
pub mod supervisor;
pub(crate) mod worker;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;

pub use supervisor::SessionState;

use crate::config::EngineConfig;
use crate::consumer::Consumer;
use crate::ring::FanOut;
use crate::types::{MonotonicClock, Registry};

/// A counter with a single writer (the feed thread): increments are a plain
/// load and store (no locked instruction); readers see it within a moment.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one (single writer only).
    #[inline]
    pub fn incr(&self) {
        self.0.store(
            self.0.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
    }

    /// Adds `n` (single writer only).
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.store(
            self.0.load(Ordering::Relaxed).wrapping_add(n),
            Ordering::Relaxed,
        );
    }

    /// Sets the value (single writer only).
    #[inline]
    pub fn set(&self, v: u64) {
        self.0.store(v, Ordering::Relaxed);
    }

    /// The current value.
    #[inline]
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Live counters of a running engine, readable from any thread.
#[derive(Debug, Default)]
pub struct EngineCounters {
    /// Text frames received.
    pub messages: Counter,
    /// Frames that failed to decode.
    pub decode_errors: Counter,
    /// Sequence gaps detected.
    pub gaps: Counter,
    /// Books discarded and rebuilt (all reasons).
    pub resyncs: Counter,
    /// Connections re-established after a failure.
    pub reconnects: Counter,
    /// Connection failures (errors, closes, stale connections, timeouts).
    pub failures: Counter,
    /// Snapshots applied, by REST or on the stream (refreshed every 100 ms).
    pub snapshots: Counter,
    /// Snapshot requests that failed: no response, an HTTP error, a rate
    /// limit, a body that is not a snapshot, a snapshot older than the
    /// buffered diffs, or one the book refused. Each is a `SnapshotFailed`
    /// status for the instrument and a backoff before it asks again.
    pub snapshot_failures: Counter,
    /// Instruments found stale (no message within the timeout).
    pub stale: Counter,
    /// Crossed books detected.
    pub crossed: Counter,
    /// Times a connection was put down by the restart intensity limit
    /// (more than `restart_limit` failures of that one connection within
    /// `restart_window_ms`); each is a `VenueDown` status for its instruments.
    pub venue_down: Counter,
    /// Events dropped across consumers (ring full).
    pub drops: Counter,
    /// Connections currently open.
    pub open_connections: Counter,
    /// Venue error replies (each also a `VenueError` status).
    pub venue_errors: Counter,
    /// Frames of a kind the connection does not carry (binary WebSocket
    /// frames), counted and dropped; the first per connection is an
    /// `Unsupported` status.
    pub unsupported_frames: Counter,
}

/// A copy of the counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CountersSnapshot {
    /// See [`EngineCounters`].
    pub messages: u64,
    /// See [`EngineCounters`].
    pub decode_errors: u64,
    /// See [`EngineCounters`].
    pub gaps: u64,
    /// See [`EngineCounters`].
    pub resyncs: u64,
    /// See [`EngineCounters`].
    pub reconnects: u64,
    /// See [`EngineCounters`].
    pub failures: u64,
    /// See [`EngineCounters`].
    pub snapshots: u64,
    /// See [`EngineCounters`].
    pub snapshot_failures: u64,
    /// See [`EngineCounters`].
    pub stale: u64,
    /// See [`EngineCounters`].
    pub crossed: u64,
    /// See [`EngineCounters`].
    pub venue_down: u64,
    /// See [`EngineCounters`].
    pub drops: u64,
    /// See [`EngineCounters`].
    pub open_connections: u64,
    /// See [`EngineCounters`].
    pub venue_errors: u64,
    /// See [`EngineCounters`].
    pub unsupported_frames: u64,
}

impl EngineCounters {
    /// Reads every counter.
    pub fn snapshot(&self) -> CountersSnapshot {
        CountersSnapshot {
            messages: self.messages.get(),
            decode_errors: self.decode_errors.get(),
            gaps: self.gaps.get(),
            resyncs: self.resyncs.get(),
            reconnects: self.reconnects.get(),
            failures: self.failures.get(),
            snapshots: self.snapshots.get(),
            snapshot_failures: self.snapshot_failures.get(),
            stale: self.stale.get(),
            crossed: self.crossed.get(),
            venue_down: self.venue_down.get(),
            drops: self.drops.get(),
            open_connections: self.open_connections.get(),
            venue_errors: self.venue_errors.get(),
            unsupported_frames: self.unsupported_frames.get(),
        }
    }
}

/// Problems starting the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// TLS configuration.
    #[error("{0}")]
    Tls(#[from] crate::socket::TlsSetupError),
    /// Creating the poller or a thread.
    #[error("engine start: {0}")]
    Io(#[from] std::io::Error),
    /// The live engine does not speak this venue yet.
    #[error("the live engine does not support {0} yet")]
    Unsupported(crate::types::Venue),
}

/// An engine being set up: add consumers, then [`Engine::spawn`].
#[derive(Debug)]
pub struct Engine {
    config: Arc<EngineConfig>,
    registry: Arc<Registry>,
    fanout: FanOut,
    clock: MonotonicClock,
    counters: Arc<EngineCounters>,
    latency_probe: bool,
    recorder: Option<crate::record::RecordTap>,
}

impl Engine {
    /// An engine for a validated configuration.
    pub fn new(config: EngineConfig) -> Result<Engine, EngineError> {
        if let Some(v) = config
            .venues
            .iter()
            .find(|v| !crate::venue::Session::supports(v.venue))
        {
            return Err(EngineError::Unsupported(v.venue));
        }
        let registry = Arc::new(config.registry());
        let capacity = config.engine.book_capacity;
        let fanout = FanOut::new(registry.len(), 2 * capacity);
        Ok(Engine {
            config: Arc::new(config),
            registry,
            fanout,
            clock: MonotonicClock::new(),
            counters: Arc::new(EngineCounters::default()),
            latency_probe: false,
            recorder: None,
        })
    }

    /// A new consumer with a ring of `engine.ring_size` events.
    pub fn add_consumer(&mut self) -> Consumer {
        self.fanout.add_consumer(self.config.engine.ring_size)
    }

    /// Adds a diagnostic `Probe` status after every batch, carrying the times
    /// the batch was decoded and pushed (for per-stage latency reports).
    pub fn set_latency_probe(&mut self, on: bool) {
        self.latency_probe = on;
    }

    /// Hands every received frame, REST body and connection event to
    /// `tap` (see [`crate::record`]); off unless set.
    pub fn set_recorder(&mut self, tap: crate::record::RecordTap) {
        self.recorder = Some(tap);
    }

    /// The instruments (ids in events index into it).
    pub fn registry(&self) -> Arc<Registry> {
        self.registry.clone()
    }

    /// The clock the engine stamps receive times with; clones share its origin.
    pub fn clock(&self) -> MonotonicClock {
        self.clock.clone()
    }

    /// Live counters.
    pub fn counters(&self) -> Arc<EngineCounters> {
        self.counters.clone()
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Starts the feed thread (pinned to `engine.feed_core` when set).
    pub fn spawn(self) -> Result<EngineHandle, EngineError> {
        let stop = Arc::new(AtomicBool::new(false));
        let counters = self.counters.clone();
        let registry = self.registry.clone();
        let clock = self.clock.clone();
        crate::sys::init_core_list();
        let mut feed = feed::FeedLoop::new(
            self.config,
            self.registry,
            self.fanout,
            self.clock,
            self.counters,
            stop.clone(),
            self.latency_probe,
        )?;
        if let Some(tap) = self.recorder {
            feed.set_recorder(tap);
        }
        let waker = feed.waker();
        let thread = std::thread::Builder::new()
            .name("tickwire-feed".into())
            .spawn(move || {
                feed.run();
                feed.into_report()
            })?;
        Ok(EngineHandle {
            stop,
            waker,
            thread: Some(thread),
            counters,
            registry,
            clock,
        })
    }
}

/// What the feed thread reports when it stops.
#[derive(Clone, Debug, Default)]
pub struct EngineReport {
    /// Final counters.
    pub counters: CountersSnapshot,
    /// Per instrument, in registry order.
    pub instruments: Vec<InstrumentReport>,
    /// Frames decoded by the fast path vs the simd-json path.
    pub decode: crate::venue::DecodeStats,
    /// The last distinct reasons connections failed (most recent last).
    pub errors: Vec<String>,
}

/// One instrument in an [`EngineReport`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstrumentReport {
    /// The venue's symbol.
    pub symbol: String,
    /// Its book sync counters.
    pub sync: crate::venue::SyncStats,
    /// Its book was synced when the engine stopped.
    pub synced: bool,
}

/// A running engine.
#[derive(Debug)]
pub struct EngineHandle {
    stop: Arc<AtomicBool>,
    waker: Arc<mio::Waker>,
    thread: Option<JoinHandle<EngineReport>>,
    counters: Arc<EngineCounters>,
    registry: Arc<Registry>,
    clock: MonotonicClock,
}

impl EngineHandle {
    /// Live counters.
    pub fn counters(&self) -> CountersSnapshot {
        self.counters.snapshot()
    }

    /// The instruments.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The engine's clock.
    pub fn clock(&self) -> &MonotonicClock {
        &self.clock
    }

    /// True while the feed thread runs.
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stops the feed thread (connections are closed) and returns its report.
    ///
    /// Prompt whatever the helper thread is doing: a REST snapshot or DNS
    /// lookup in flight is not waited for beyond a short grace (100 ms); that
    /// thread is detached and ends with its request.
    pub fn stop(mut self) -> EngineReport {
        self.shutdown()
    }

    fn shutdown(&mut self) -> EngineReport {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.waker.wake();
        match self.thread.take() {
            Some(t) => t.join().unwrap_or_default(),
            None => EngineReport::default(),
        }
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.shutdown();
        }
    }
}
