//! The Aeron bridge (cargo feature `aeron`): the engine's normalised events
//! to other processes and hosts, over Aeron IPC, UDP unicast or multicast.
//!
//! ```text
//! feed thread → ring → Publisher thread → Aeron (stream N: events,
//!                                                stream N+1: catalog + snapshots)
//!                                     → Subscriber::poll → BookMirror / strategy
//! ```
//!
//! * **Publisher** ([`Publisher`]): an engine consumer like any other, on its
//!   own thread. Each book message (up to its end-of-batch event) is one
//!   Aeron message of 64-byte records with a per-stream sequence number
//!   ([`wire`]). A message the publication refuses (back-pressure, nobody
//!   connected) follows the slow-consumer rule: counted, its instruments
//!   marked, and once the publication accepts again `Dropped`, `Resync` and
//!   a full snapshot are sent. The feed thread never touches the network.
//! * **Subscriber** ([`Subscriber`]): polls the subscription and yields the
//!   events a local ring would. A sequence gap yields `Dropped` + `Resync`;
//!   a lost image yields `Disconnected`.
//! * **Late joiners and loss**: every `snapshot_interval` the publisher
//!   sends its catalog (ids, symbols, scales) and a full snapshot of every
//!   synced book on the second stream (`stream_id + 1`), each tagged with
//!   the main stream's sequence it is as of. A subscriber that starts,
//!   restarts or sees a gap waits for the next one; subscribers that are in
//!   sync ignore them. No request path: it works the same over multicast,
//!   and no subscriber's recovery is visible to another.
//! * **Media driver** ([`MediaDriver`]): embedded in the process by default;
//!   an external one when a directory with a running driver is named.
//!
//! After warm-up neither side allocates per event.

mod aeron;
pub mod publisher;
mod publishing;
pub mod subscriber;
pub mod wire;

use std::time::Duration;

pub use aeron::{MediaDriver, QUIET_READS, Subscriber, connect};
pub use publisher::{PublisherCore, PublisherStats};
pub use publishing::{InlinePublisher, LivePublisherStats, Publisher};
pub use subscriber::{SubscriberCore, SubscriberStats};

/// The default main stream id.
pub const DEFAULT_STREAM_ID: i32 = 1001;

/// The stream that carries catalogs and snapshots for main stream `id`.
pub const fn snapshot_stream_id(id: i32) -> i32 {
    id.wrapping_add(1)
}

/// Where and how the publisher publishes.
#[derive(Clone, Debug)]
pub struct PublisherConfig {
    /// Aeron channel, e.g. `aeron:ipc` or `aeron:udp?endpoint=127.0.0.1:40456`.
    pub channel: String,
    /// Main stream id (snapshots go on `stream_id + 1`).
    pub stream_id: i32,
    /// How often the catalog and full snapshots go out.
    pub snapshot_interval: Duration,
    /// Core to pin the publisher thread to.
    pub core: Option<usize>,
    /// How the publisher thread waits on an empty ring.
    pub idle: Idle,
}

/// How a bridge thread (the publisher's, an embedded media driver's) waits
/// when it has nothing to do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Idle {
    /// Busy-spin: the lowest latency, for a thread with a core of its own.
    Spin,
    /// Give the core away (`sched_yield`) on every empty turn: a few µs of
    /// latency while sharing cores with other busy threads, which a
    /// spinning thread would hold off for a scheduler time slice.
    Yield,
    /// Spin, then yield, then sleep (the publisher: 20,000 empty turns
    /// each, then 50 µs sleeps; the driver: Aeron's backoff, parking up to
    /// 1 ms). Little CPU when the stream is quiet; the first event after a
    /// quiet spell waits out the sleep.
    #[default]
    Backoff,
}

impl std::str::FromStr for Idle {
    type Err = String;

    fn from_str(s: &str) -> Result<Idle, String> {
        match s {
            "spin" => Ok(Idle::Spin),
            "yield" => Ok(Idle::Yield),
            "backoff" => Ok(Idle::Backoff),
            _ => Err(format!(
                "unknown idle strategy {s:?} (spin, yield or backoff)"
            )),
        }
    }
}

impl PublisherConfig {
    /// Defaults for `channel`: stream 1001, snapshots every 250 ms,
    /// unpinned, backing off when idle.
    pub fn new(channel: &str) -> PublisherConfig {
        PublisherConfig {
            channel: channel.to_owned(),
            stream_id: DEFAULT_STREAM_ID,
            snapshot_interval: Duration::from_millis(250),
            core: None,
            idle: Idle::Backoff,
        }
    }
}

/// Set-up failures of the bridge.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    /// The Aeron client or driver refused.
    #[error("aeron: {0}")]
    Aeron(String),
    /// A bad argument or a step that did not complete.
    #[error("bridge set-up: {0}")]
    Setup(String),
    /// Starting a thread.
    #[error("bridge thread: {0}")]
    Io(#[from] std::io::Error),
}

impl From<rusteron_client::AeronCError> for BridgeError {
    fn from(e: rusteron_client::AeronCError) -> BridgeError {
        BridgeError::Aeron(e.to_string())
    }
}

impl From<rusteron_media_driver::AeronCError> for BridgeError {
    fn from(e: rusteron_media_driver::AeronCError) -> BridgeError {
        BridgeError::Aeron(e.to_string())
    }
}
