//! The I/O around the sans-IO cores: the media driver, the Aeron client
//! and the polling [`Subscriber`] (the publisher's is `super::publishing`).

use std::ffi::CString;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rusteron_client::{
    Aeron, AeronContext, AeronFragmentClosureAssembler, AeronHeader, AeronImage, AeronSubscription,
    Handler,
};
use rusteron_media_driver::AeronIdleStrategyKind;
use rusteron_media_driver::testing::EmbeddedDriver;

use super::subscriber::{SubscriberCore, SubscriberStats};
use super::{BridgeError, Idle, snapshot_stream_id};
use crate::types::{Event, Registry};

/// How long set-up steps (driver start, adding a publication) may take.
pub(super) const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

/// The diagnostic logger `aeron_is_driver_active` insists on calling.
extern "C" fn quiet(_: *const std::ffi::c_char) {}

/// True when a media driver is alive in `dir` (heartbeat within 5 s: a
/// busy machine can starve a live driver's thread for a second).
fn driver_active(dir: &std::ffi::CStr) -> bool {
    Aeron::is_driver_active(dir, 5_000, Some(quiet))
}

pub(super) fn cstring(text: &str) -> Result<CString, BridgeError> {
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
    /// driver in a fresh directory under the default (`/dev/shm`). An
    /// embedded driver runs one thread that backs off when idle.
    pub fn start(dir: Option<&Path>) -> Result<MediaDriver, BridgeError> {
        MediaDriver::start_with(dir, Idle::Backoff)
    }

    /// As [`MediaDriver::start`], with the embedded driver's thread waiting
    /// as `idle` says. Over UDP the driver's thread sends and receives every
    /// message, so it is on the hop: [`Idle::Spin`] on a core of its own,
    /// [`Idle::Yield`] when it shares cores with other busy threads. Over
    /// IPC it is not on the hop, and [`Idle::Backoff`] costs nothing there.
    pub fn start_with(dir: Option<&Path>, idle: Idle) -> Result<MediaDriver, BridgeError> {
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
            ctx.set_shared_idle_strategy_kind(match idle {
                Idle::Spin => AeronIdleStrategyKind::BusySpin,
                Idle::Yield => AeronIdleStrategyKind::Yielding,
                Idle::Backoff => AeronIdleStrategyKind::Backoff,
            })?;
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

/// Rounds of reading that yield no event one [`Subscriber::poll`] call may
/// spend before it returns `None`: keeps each call bounded.
pub const QUIET_READS: usize = 4096;

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
    /// Messages that yield no event (discarded while a book awaits its
    /// snapshot, a catalog) are read past, up to [`QUIET_READS`] of them
    /// per call, so `None` means nothing is waiting (or that budget was
    /// spent: a late joiner's backlog is read over a few calls, each
    /// bounded). A caller that drains until `None` and then sleeps keeps up.
    #[inline]
    pub fn poll(&mut self) -> Option<Event> {
        for _ in 0..QUIET_READS {
            if let Some(e) = self.core.pop() {
                return Some(e);
            }
            let lost = self.unavailable.load(Ordering::Relaxed);
            if lost != self.seen_unavailable {
                self.seen_unavailable = lost;
                self.core.on_unavailable();
                continue;
            }
            // While a book awaits its snapshot, a snapshot being received
            // is read to its end before the main stream moves on: the main
            // stream must not overtake it (its events would make it stale).
            let awaiting = !self.core.all_synced();
            let snapshot = self
                .snap_asm
                .poll(&self.snap, &mut self.core, on_snapshot, SNAPSHOT_FRAGMENTS)
                .unwrap_or(0);
            let mut main = 0;
            if !self.core.has_staged() && (snapshot == 0 || !awaiting) {
                main = self
                    .main_asm
                    .poll(&self.main, &mut self.core, on_main, 1)
                    .unwrap_or(0);
            }
            if snapshot == 0 && main == 0 {
                break;
            }
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
