//! The range of every number in the configuration, and the memory a valid
//! configuration implies.
//!
//! Each bound says where it comes from: a venue's documented limit (see
//! `venues.md` in the design notes and each venue's
//! [`Profile`](crate::venue::Profile)) or
//! what one machine can hold. Checks run on plain integers, with no
//! arithmetic that could overflow before the bound is known to hold, so no
//! value of any key can make validation panic.

use std::mem::size_of;

use super::{ConfigError, EngineSection, VenueSection, invalid};
use crate::types::{Event, Venue};
use crate::venue::profile;

/// Most events per consumer ring: 2^24 events of 64 bytes is 1 GiB per
/// consumer, and holds a snapshot of the largest book (2 × 1,000,000 levels).
pub const MAX_RING_SIZE: usize = 1 << 24;
/// Most levels per side of a book. A ladder preallocates this much per side,
/// and the venue sends at most 5,000 levels in a snapshot: a million is far
/// past anything a diff stream can fill.
pub const MAX_BOOK_CAPACITY: usize = 1_000_000;
/// Smallest WebSocket message limit (a handshake or a small book must fit).
pub const MIN_MESSAGE_BYTES: usize = 4096;
/// Largest WebSocket message limit: 64 MiB, more than ten times the largest
/// single frame documented for any venue we know (Coinbase's ~5 MB full-book
/// snapshot). Each connection may buffer one message this large.
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;
/// Longest duration of any `*_ms` key: one day. A timer of a day is already
/// "never" for a market-data session, and `ms × 1_000_000` stays far inside
/// `u64` nanoseconds.
pub const MAX_DURATION_MS: u64 = 86_400_000;
/// Most restarts within `restart_window_ms`. The restart history holds
/// `restart_limit + 1` timestamps (8 bytes each): at most 8 MB. A million is
/// "no storm guard" in practice (tests that inject faults use it).
pub const MAX_RESTART_LIMIT: u32 = 1_000_000;
/// Most entries of `engine.consumer_cores`: `CPU_SETSIZE` on Linux. Each entry
/// must also be a distinct core of the machine.
pub const MAX_CONSUMER_CORES: usize = 1024;
/// Shortest planned connection age: reconnecting more often than once a
/// minute per connection spends Binance's 300 connection attempts per
/// 5 minutes per IP for nothing.
pub const MIN_CONNECTION_AGE_S: u64 = 60;
/// Most symbols of one venue. Binance lists about 3,000 spot and 900 USD-M
/// symbols; 4,096 symbols × 3 streams is 12 connections of 1,024 streams.
pub const MAX_SYMBOLS_PER_VENUE: usize = 4096;
/// Most memory the rings and books of a configuration may take: 8 GiB.
pub const MEMORY_BUDGET_BYTES: u64 = 8 << 30;
/// Bytes of one book level as held by a ladder (price and quantity, i64 each).
pub const LEVEL_BYTES: u64 = 16;

/// Bytes of one ring slot.
const EVENT_BYTES: u64 = size_of::<Event>() as u64;

/// Checks every number of `[engine]` against its range.
pub(super) fn check_engine(e: &EngineSection) -> Result<(), ConfigError> {
    for (key, v, min) in [
        ("engine.connect_timeout_ms", e.connect_timeout_ms, 1),
        ("engine.stale_timeout_ms", e.stale_timeout_ms, 1),
        ("engine.instrument_stale_ms", e.instrument_stale_ms, 0),
        (
            "engine.stream_snapshot_timeout_ms",
            e.stream_snapshot_timeout_ms,
            1,
        ),
        ("engine.backoff_initial_ms", e.backoff_initial_ms, 1),
        ("engine.backoff_max_ms", e.backoff_max_ms, 1),
        ("engine.restart_window_ms", e.restart_window_ms, 1),
        ("engine.down_cooldown_ms", e.down_cooldown_ms, 0),
    ] {
        in_range(key, v, min, MAX_DURATION_MS, "ms (at most a day)")?;
    }
    if e.backoff_max_ms < e.backoff_initial_ms {
        return Err(invalid(
            "engine.backoff_max_ms",
            "must be at least engine.backoff_initial_ms",
        ));
    }
    in_range(
        "engine.restart_limit",
        u64::from(e.restart_limit),
        1,
        u64::from(MAX_RESTART_LIMIT),
        "restarts",
    )?;
    in_range(
        "engine.book_capacity",
        e.book_capacity as u64,
        1,
        MAX_BOOK_CAPACITY as u64,
        "levels",
    )?;
    let snapshot = crate::ring::snapshot_events(2 * e.book_capacity);
    if e.ring_size < snapshot {
        return Err(invalid(
            "engine.ring_size",
            format!(
                "must hold a full book snapshot: at least {snapshot} events for book_capacity {}",
                e.book_capacity
            ),
        ));
    }
    in_range(
        "engine.ring_size",
        e.ring_size as u64,
        snapshot as u64,
        MAX_RING_SIZE as u64,
        "events (1 GiB per consumer)",
    )?;
    in_range(
        "engine.max_message_bytes",
        e.max_message_bytes as u64,
        MIN_MESSAGE_BYTES as u64,
        MAX_MESSAGE_BYTES as u64,
        "bytes",
    )?;
    if e.consumer_cores.len() > MAX_CONSUMER_CORES {
        return Err(invalid(
            "engine.consumer_cores",
            format!(
                "{} entries: at most {MAX_CONSUMER_CORES}, one distinct core each",
                e.consumer_cores.len()
            ),
        ));
    }
    Ok(())
}

/// An instrument is not stale before a second diff could have arrived:
/// `engine.instrument_stale_ms` (when on) must be longer than the venue's
/// depth interval, or every instrument would be resynced (a REST snapshot
/// each) between two diffs.
pub(super) fn check_staleness(
    e: &EngineSection,
    i: usize,
    depth_interval_ms: u32,
) -> Result<(), ConfigError> {
    if e.instrument_stale_ms != 0 && e.instrument_stale_ms <= u64::from(depth_interval_ms) {
        return Err(invalid(
            "engine.instrument_stale_ms",
            format!(
                "{} ms: must be 0 (off) or longer than venue[{i}].depth_interval_ms ({depth_interval_ms} ms)",
                e.instrument_stale_ms
            ),
        ));
    }
    Ok(())
}

/// A venue that streams a book of a subscribed depth needs a book that
/// holds all of it: a shorter one drops the deepest levels, which the venue
/// later moves up as the top is eaten — a book that differs from the
/// venue's (and, on OKX, fails its checksum and resyncs again and again).
pub(super) fn check_depth_fits(
    e: &EngineSection,
    i: usize,
    v: &super::VenueConfig,
) -> Result<(), ConfigError> {
    let streamed = profile(v.venue).snapshots == crate::venue::profile::SnapshotSource::Stream;
    if streamed && e.book_capacity < v.snapshot_limit as usize {
        return Err(invalid(
            "engine.book_capacity",
            format!(
                "{} levels a side cannot hold the {} levels venue[{i}] ({}) streams \
                 (its snapshot_limit)",
                e.book_capacity, v.snapshot_limit, v.venue
            ),
        ));
    }
    Ok(())
}

/// A venue's configured `max_frame_bytes`: at least
/// [`MIN_FRAME_BYTES`], at most what the engine's WebSocket layer accepts.
pub(super) fn check_frame_size(
    e: &EngineSection,
    i: usize,
    v: &super::VenueConfig,
) -> Result<(), ConfigError> {
    let max = e.max_message_bytes;
    if !(MIN_FRAME_BYTES..=max).contains(&v.max_frame_bytes) {
        return Err(invalid(
            format!("venue[{i}].max_frame_bytes"),
            format!(
                "{} bytes: must be {MIN_FRAME_BYTES}..={max} (64 KiB up to \
                 engine.max_message_bytes){}",
                v.max_frame_bytes,
                if v.max_frame_bytes > max {
                    format!(
                        "; {} sends frames this large: raise engine.max_message_bytes",
                        v.venue
                    )
                } else {
                    String::new()
                }
            ),
        ));
    }
    Ok(())
}

/// The smallest `max_frame_bytes` a venue may be given.
pub(super) const MIN_FRAME_BYTES: usize = 64 << 10;

/// The values a venue section resolves to (defaults filled in from the
/// venue's [`Profile`](crate::venue::Profile)).
#[derive(Clone, Copy, Debug)]
pub(super) struct VenueRates {
    /// Book update speed.
    pub(super) depth_interval_ms: u32,
    /// Snapshot depth.
    pub(super) snapshot_limit: u32,
    /// Streams per connection.
    pub(super) max_streams_per_connection: usize,
    /// Streams per subscribe message.
    pub(super) streams_per_subscribe: usize,
    /// Planned reconnect age, seconds.
    pub(super) max_connection_age_s: u64,
    /// Control messages per second per connection.
    pub(super) control_messages_per_sec: u32,
    /// REST weight per minute for snapshots (0: the venue needs no REST).
    pub(super) rest_weight_per_minute: u32,
}

/// Checks every number of one `[[venue]]` against its range and the venue's
/// documented limits.
pub(super) fn check_venue(
    i: usize,
    venue: Venue,
    v: &VenueSection,
) -> Result<VenueRates, ConfigError> {
    let key = |k: &str| format!("venue[{i}].{k}");
    let p = profile(venue);
    let depth_interval_ms = v.depth_interval_ms.unwrap_or(p.depth_intervals[0]);
    if !p.depth_intervals.contains(&depth_interval_ms) {
        return Err(invalid(
            key("depth_interval_ms"),
            format!("must be one of {:?} for {venue}", p.depth_intervals),
        ));
    }
    let snapshot_limit = v.snapshot_limit.unwrap_or(p.default_snapshot_limit);
    if !p.snapshot_limits.allows(snapshot_limit) {
        return Err(invalid(
            key("snapshot_limit"),
            format!("must be {} for {venue}", p.snapshot_limits),
        ));
    }
    let max_streams = p.max_streams_per_connection;
    let max_streams_per_connection = v.max_streams_per_connection.unwrap_or(max_streams);
    if !(1..=max_streams).contains(&max_streams_per_connection) {
        return Err(invalid(
            key("max_streams_per_connection"),
            format!("must be 1..={max_streams} (the venue's limit)"),
        ));
    }
    if v.url_streams.is_some() && !p.url_streams {
        return Err(invalid(
            key("url_streams"),
            format!("{venue} takes no streams in its URL: every stream is subscribed by message"),
        ));
    }
    if v.url_streams
        .is_some_and(|n| n > max_streams_per_connection)
    {
        return Err(invalid(
            key("url_streams"),
            format!("must be 0..={max_streams_per_connection} (max_streams_per_connection)"),
        ));
    }
    let msg_limit = p.max_messages_per_sec;
    let control = v.control_messages_per_sec.unwrap_or(msg_limit - 1);
    if control == 0 || control >= msg_limit {
        return Err(invalid(
            key("control_messages_per_sec"),
            format!(
                "must be 1..={} (strictly under the venue's limit of {msg_limit})",
                msg_limit - 1
            ),
        ));
    }
    let weight_limit = p.rest_weight_per_min;
    let weight = match v.rest_weight_per_minute {
        Some(_) if weight_limit == 0 => {
            return Err(invalid(
                key("rest_weight_per_minute"),
                format!("{venue} sends its snapshots on the stream: there is no REST budget"),
            ));
        }
        Some(w) => w,
        None => weight_limit / 2,
    };
    if weight_limit > 0 && (weight == 0 || weight > weight_limit) {
        return Err(invalid(
            key("rest_weight_per_minute"),
            format!("must be 1..={weight_limit}"),
        ));
    }
    let max_age = p.max_connection_age.as_secs();
    let max_connection_age_s = v
        .max_connection_age_s
        .unwrap_or(p.default_connection_age().as_secs());
    if !(MIN_CONNECTION_AGE_S..=max_age).contains(&max_connection_age_s) {
        return Err(invalid(
            key("max_connection_age_s"),
            format!(
                "must be {MIN_CONNECTION_AGE_S}..={max_age} ({venue} cuts connections at \
                 {} h; reconnecting more than once a minute wastes connection attempts)",
                max_age / 3600
            ),
        ));
    }
    let per_subscribe = p.max_streams_per_subscribe;
    let streams_per_subscribe = v.streams_per_subscribe.unwrap_or(per_subscribe.min(100));
    if !(1..=per_subscribe).contains(&streams_per_subscribe) {
        return Err(invalid(
            key("streams_per_subscribe"),
            format!("must be 1..={per_subscribe}"),
        ));
    }
    let symbols = v.symbols.len().saturating_add(v.symbol_specs.len());
    if symbols > MAX_SYMBOLS_PER_VENUE {
        return Err(invalid(
            key("symbols"),
            format!(
                "{symbols} symbols (symbols and [[venue.symbol]] together): \
                 at most {MAX_SYMBOLS_PER_VENUE} per venue"
            ),
        ));
    }
    Ok(VenueRates {
        depth_interval_ms,
        snapshot_limit,
        max_streams_per_connection,
        streams_per_subscribe,
        max_connection_age_s,
        control_messages_per_sec: control,
        rest_weight_per_minute: weight,
    })
}

/// The dominant allocations a configuration implies, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// `ring_size × consumers × 64`.
    pub rings: u64,
    /// `book_capacity × 2 sides × 16 bytes × instruments × (1 + consumers)`:
    /// the feed's book and one mirror per consumer.
    pub books: u64,
}

impl MemoryEstimate {
    /// The estimate for rings of `ring_size` events, `consumers` consumers,
    /// and `instruments` books of `book_capacity` levels a side. Saturates
    /// instead of overflowing.
    pub fn new(
        ring_size: usize,
        consumers: usize,
        book_capacity: usize,
        instruments: usize,
    ) -> MemoryEstimate {
        let rings = (ring_size as u64)
            .saturating_mul(consumers as u64)
            .saturating_mul(EVENT_BYTES);
        let books = (book_capacity as u64)
            .saturating_mul(2 * LEVEL_BYTES)
            .saturating_mul(instruments as u64)
            .saturating_mul((consumers as u64).saturating_add(1));
        MemoryEstimate { rings, books }
    }

    /// Both parts together.
    pub fn total(&self) -> u64 {
        self.rings.saturating_add(self.books)
    }

    /// `Ok` within [`MEMORY_BUDGET_BYTES`]; otherwise an error naming the key
    /// of the larger part.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.total() <= MEMORY_BUDGET_BYTES {
            return Ok(());
        }
        let key = if self.rings >= self.books {
            "engine.ring_size"
        } else {
            "engine.book_capacity"
        };
        Err(invalid(
            key,
            format!(
                "the rings ({}) and books ({}) would take {}, over the budget of {}",
                gib(self.rings),
                gib(self.books),
                gib(self.total()),
                gib(MEMORY_BUDGET_BYTES)
            ),
        ))
    }
}

/// `bytes` as GiB with one decimal, in integers.
fn gib(bytes: u64) -> String {
    let tenths = bytes / ((1 << 30) / 10);
    format!("{}.{} GiB", tenths / 10, tenths % 10)
}

/// `Ok` when `min <= v <= max`; otherwise an error naming `key`.
fn in_range(key: &str, v: u64, min: u64, max: u64, unit: &str) -> Result<(), ConfigError> {
    if (min..=max).contains(&v) {
        Ok(())
    } else {
        Err(invalid(
            key,
            format!("{v} is out of range: must be {min}..={max} {unit}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_larger_part_is_named() {
        let rings = MemoryEstimate::new(MAX_RING_SIZE, 9, 5_000, 1);
        let Err(ConfigError::Invalid { key, message }) = rings.check() else {
            panic!("9 GiB of rings accepted");
        };
        assert_eq!(key, "engine.ring_size");
        assert!(message.contains("9.0 GiB"), "{message}");
        let books = MemoryEstimate::new(1 << 21, 1, MAX_BOOK_CAPACITY, 300);
        let Err(ConfigError::Invalid { key, .. }) = books.check() else {
            panic!("19 GB of books accepted");
        };
        assert_eq!(key, "engine.book_capacity");
        assert!(MemoryEstimate::new(1 << 16, 1, 5_000, 100).check().is_ok());
    }

    #[test]
    fn the_estimate_saturates() {
        let m = MemoryEstimate::new(usize::MAX, usize::MAX, usize::MAX, usize::MAX);
        assert_eq!(m.total(), u64::MAX);
        assert!(m.check().is_err());
    }
}
