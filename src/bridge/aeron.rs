//! The I/O around the sans-IO cores: the media driver, the Aeron client,
//! the publisher thread and the polling [`Subscriber`].

use std::ffi::CString;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusteron_client::{
    Aeron, AeronContext, AeronExclusivePublication, AeronFragmentClosureAssembler, AeronHeader,
    AeronImage, AeronOfferError, AeronSubscription, Handler,
};
use rusteron_media_driver::testing::EmbeddedDriver;

use super::publisher::{PublisherCore, PublisherStats, Refused, Sink};
use super::subscriber::{SubscriberCore, SubscriberStats};
use super::{BridgeError, PublisherConfig, snapshot_stream_id};
use crate::consumer::Consumer;
use crate::types::{Event, Registry};

/// How long set-up steps (driver start, adding a publication) may take.
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

/// The diagnostic logger `aeron_is_driver_active` insists on calling.
extern "C" fn quiet(_: *const std::ffi::c_char) {}

/// True when a media driver is alive in `dir` (heartbeat within 5 s: a
/// busy machine can starve a live driver's thread for a second).
fn driver_active(dir: &std::ffi::CStr) -> bool {
    Aeron::is_driver_active(dir, 5_000, Some(quiet))
}

fn cstring(text: &str) -> Result<CString, BridgeError> {
    CString::new(text).map_err(|_| BridgeError::Setup(format!("contains a NUL byte: {text:?}")))
}

/// The Aeron media driver the bridge talks through: one embedded in this
/// process (started here, stopped on drop), or an external one.
pub struct MediaDriver {
    embedded: Option<EmbeddedDriver>,
    dir: String,
}

impl std::fmt::Debug for MediaDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaDriver")
            .field("dir", &self.dir)
            .field("embedded", &self.embedded.is_some())
            .finish()
    }
}

impl MediaDriver {
    /// With `dir`: the driver already running there (external), or else
    /// one embedded in this process in that directory, so another process
    /// can share it (`aeron:ipc` needs one driver). Without: an embedded
    /// driver in a fresh directory under the default (`/dev/shm`).
    pub fn start(dir: Option<&Path>) -> Result<MediaDriver, BridgeError> {
        let cdir = match dir {
            Some(d) => Some(cstring(&d.to_string_lossy())?),
            None => None,
        };
        if let Some(c) = &cdir
            && driver_active(c)
        {
            return Ok(MediaDriver {
                embedded: None,
                dir: c.to_string_lossy().into_owned(),
            });
        }
        let embedded = EmbeddedDriver::launch_with(|ctx| {
            if let Some(c) = &cdir {
                ctx.set_dir(c)?;
            }
            // One driver thread: the machine's cores belong to the feed.
            ctx.set_threading_mode(
                rusteron_media_driver::bindings::aeron_threading_mode_enum::AERON_THREADING_MODE_SHARED,
            )?;
            ctx.set_term_buffer_sparse_file(false)?;
            Ok(())
        })?;
        let dir = embedded.dir().to_owned();
        let c = cstring(&dir)?;
        let deadline = Instant::now() + SETUP_TIMEOUT;
        while !driver_active(&c) {
            if Instant::now() > deadline {
                return Err(BridgeError::Setup(format!(
                    "media driver did not start in {dir}"
                )));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(MediaDriver {
            embedded: Some(embedded),
            dir,
        })
    }

    /// The driver's directory (clients connect there).
    pub fn dir(&self) -> &str {
        &self.dir
    }

    /// True when this process runs the driver.
    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }
}

/// A started Aeron client on the driver in `dir`.
pub fn connect(dir: &str) -> Result<Aeron, BridgeError> {
    let ctx = AeronContext::new()?;
    ctx.set_dir(&cstring(dir)?)?;
    ctx.set_error_handler(Some(|code: i32, msg: &str| {
        tracing::warn!(code, msg, "aeron client error");
    }))?;
    let aeron = Aeron::new(&ctx)?;
    aeron.start()?;
    Ok(aeron)
}

/// An exclusive publication as a [`Sink`].
struct PubSink(AeronExclusivePublication);

impl Sink for PubSink {
    #[inline]
    fn offer(&mut self, msg: &[u8]) -> Result<(), Refused> {
        match self.0.offer(msg) {
            Ok(_) => Ok(()),
            Err(AeronOfferError::NotConnected) => Err(Refused::NotConnected),
            Err(AeronOfferError::BackPressured | AeronOfferError::AdminAction) => {
                Err(Refused::BackPressure)
            }
            Err(_) => Err(Refused::Closed),
        }
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
    /// ring until stopped. Returns once the publications exist.
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
                let setup = (|| {
                    let aeron = connect(&dir)?;
                    let main = add_publication(&aeron, &cfg.channel, cfg.stream_id)?;
                    let snap =
                        add_publication(&aeron, &cfg.channel, snapshot_stream_id(cfg.stream_id))?;
                    Ok::<_, BridgeError>((aeron, PubSink(main), PubSink(snap)))
                })();
                let (aeron, mut main, mut snap) = match setup {
                    Ok(s) => {
                        let _ = ready_tx.send(Ok(()));
                        s
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return PublisherStats::default();
                    }
                };
                let interval = u64::try_from(cfg.snapshot_interval.as_nanos()).unwrap_or(u64::MAX);
                let mut core = PublisherCore::new(registry, book_capacity, interval);
                let stats = run(&mut core, consumer, &mut main, &mut snap, &stop2, &live2);
                drop((main, snap, aeron));
                stats
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

/// Events popped from the ring per turn (one chunk, preallocated).
const CHUNK: usize = 1024;

fn run(
    core: &mut PublisherCore,
    mut consumer: Consumer,
    main: &mut PubSink,
    snap: &mut PubSink,
    stop: &AtomicBool,
    live: &LivePublisherStats,
) -> PublisherStats {
    let mut chunk =
        vec![Event::status(blank_stamp(), crate::types::StatusCode::Probe, 0, 0, false); CHUNK];
    let started = Instant::now();
    let mut idle: u32 = 0;
    loop {
        let stopping = stop.load(Ordering::Relaxed);
        let n = consumer.drain_into(&mut chunk);
        for e in &chunk[..n] {
            core.handle(e, main);
        }
        core.flush(main);
        let now = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        core.service(now, main, snap);
        if n == 0 {
            let s = core.stats();
            live.events.store(s.events, Ordering::Relaxed);
            live.dropped.store(s.dropped, Ordering::Relaxed);
            live.repairs.store(s.repairs, Ordering::Relaxed);
            live.snapshots.store(s.snapshots, Ordering::Relaxed);
            if stopping {
                return s;
            }
            idle = idle.saturating_add(1);
            if idle < 20_000 {
                std::hint::spin_loop();
            } else if idle < 40_000 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(50));
            }
        } else {
            idle = 0;
        }
    }
}

fn blank_stamp() -> crate::types::Stamp {
    crate::types::Stamp {
        venue: crate::types::Venue::BinanceSpot,
        instrument: crate::types::InstrumentId(0),
        seq: 0,
        exch_ns: 0,
        recv_ns: 0,
    }
}

/// Receives a bridge's events on another host (or process): polls the
/// main and snapshot streams and yields exactly the events a local
/// consumer ring would, so a [`crate::consumer::BookMirror`] works unchanged.
pub struct Subscriber {
    core: SubscriberCore,
    main: AeronSubscription,
    snap: AeronSubscription,
    main_asm: AeronFragmentClosureAssembler,
    snap_asm: AeronFragmentClosureAssembler,
    unavailable: Arc<AtomicU64>,
    seen_unavailable: u64,
    _aeron: Aeron,
}

impl std::fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber")
            .field("stats", &self.core.stats())
            .finish_non_exhaustive()
    }
}

/// Fragments of the snapshot stream read per poll.
const SNAPSHOT_FRAGMENTS: usize = 256;

fn on_main(core: &mut SubscriberCore, msg: &[u8], _: AeronHeader) {
    core.on_main(msg);
}

fn on_snapshot(core: &mut SubscriberCore, msg: &[u8], _: AeronHeader) {
    core.on_snapshot(msg);
}

impl Subscriber {
    /// Subscribes to `channel` (stream `stream_id` and its snapshot stream)
    /// through the driver in `dir`.
    pub fn connect(dir: &str, channel: &str, stream_id: i32) -> Result<Subscriber, BridgeError> {
        let aeron = connect(dir)?;
        let unavailable = Arc::new(AtomicU64::new(0));
        let count = unavailable.clone();
        let on_unavailable = Handler::new(move |_: AeronSubscription, _: AeronImage| {
            count.fetch_add(1, Ordering::Relaxed);
        });
        let on_available = Handler::new(|_: AeronSubscription, _: AeronImage| {});
        let c = cstring(channel)?;
        let main = aeron
            .async_add_subscription(&c, stream_id, Some(&on_available), Some(&on_unavailable))?
            .poll_blocking(SETUP_TIMEOUT)?;
        let snap = aeron
            .async_add_subscription(
                &c,
                snapshot_stream_id(stream_id),
                Some(&on_available),
                Some(&on_available),
            )?
            .poll_blocking(SETUP_TIMEOUT)?;
        Ok(Subscriber {
            core: SubscriberCore::new(),
            main,
            snap,
            main_asm: AeronFragmentClosureAssembler::new()?,
            snap_asm: AeronFragmentClosureAssembler::new()?,
            unavailable,
            seen_unavailable: 0,
            _aeron: aeron,
        })
    }

    /// The next event, if any. Never blocks; call in the strategy's loop.
    #[inline]
    pub fn poll(&mut self) -> Option<Event> {
        if let Some(e) = self.core.pop() {
            return Some(e);
        }
        let lost = self.unavailable.load(Ordering::Relaxed);
        if lost != self.seen_unavailable {
            self.seen_unavailable = lost;
            self.core.on_unavailable();
        }
        // While a book awaits its snapshot, a snapshot being received is
        // read to its end before the main stream moves on: the main stream
        // must not overtake it (its events would make it stale).
        let awaiting = !self.core.all_synced();
        let fragments = self
            .snap_asm
            .poll(&self.snap, &mut self.core, on_snapshot, SNAPSHOT_FRAGMENTS)
            .unwrap_or(0);
        if !self.core.has_staged() && (fragments == 0 || !awaiting) {
            let _ = self.main_asm.poll(&self.main, &mut self.core, on_main, 1);
        }
        self.core.pop()
    }

    /// The publisher's instruments, once its catalog has arrived.
    pub fn registry(&self) -> Option<&Arc<Registry>> {
        self.core.registry()
    }

    /// Book capacity the publisher announced, once known.
    pub fn book_capacity(&self) -> Option<usize> {
        self.core.book_capacity()
    }

    /// True when every instrument has had its snapshot.
    pub fn all_synced(&self) -> bool {
        self.core.all_synced()
    }

    /// True while the main stream has a publisher connected.
    pub fn is_connected(&self) -> bool {
        self.main.is_connected()
    }

    /// Counters so far.
    pub fn stats(&self) -> SubscriberStats {
        self.core.stats()
    }
}
