//! Venue protocol code: sans-IO decoders, sync rules and per-connection
//! sessions. Nothing here owns a socket or reads a clock: bytes and `now`
//! come in; book updates, staged events and outgoing texts go out.
//!
//! # The shape every venue shares
//!
//! * [`Session`] — one WebSocket connection's protocol, an enum with one arm
//!   per venue (monomorphic code behind one predictable branch). The engine
//!   and replay drive it by its `handle_*` / `poll_*` calls and never name a
//!   venue; its docs give the call order.
//! * [`SyncCore`] (in [`sync`]) — one instrument's sync state: waiting,
//!   synced at an id, the snapshot request in flight, all-or-nothing
//!   application, gap / checksum / crossed handling, the one "start over",
//!   the counters. A venue's `sync.rs` only decides what a message *means*
//!   under its rules and calls the core to *do* it.
//! * [`InstrumentBook`] — the core, the book ([`crate::book::Ladder`]) and,
//!   in [`Rules`], whatever per-instrument state the venue needs beyond the
//!   core (Binance's pre-snapshot buffer).
//! * [`Profile`] (in [`mod@profile`]) — the venue's endpoints, symbols,
//!   channels and published limits, as data for the config front-end.
//! * `scan/` — the JSON cursor and the number and price-level readers every
//!   venue's template fast path is built from (`None` hands a frame to the
//!   venue's simd-json tape path, the reference).
//!
//! # Adding a venue
//!
//! 1. A variant of [`crate::types::Venue`] (name, `from_name`, `from_u8`, `ALL`).
//! 2. A folder here with the same files as the others:
//!    * `consts.rs` — endpoints, limits, and its [`Profile`] (then one arm in
//!      [`profile()`](fn@profile));
//!    * `msg.rs` — the borrowed wire types;
//!    * `decode.rs` (+ `fast.rs`) — bytes → messages: a template fast path
//!      on `scan`, and the simd-json tape path as the reference, both
//!      preallocated, errors as [`DecodeError`] with what and where;
//!    * `sync.rs` — the venue's sequence rules (and checksum) on [`SyncCore`];
//!    * `session.rs` — the per-connection session: URL, subscribe texts and
//!      their pacing, pings, resubscribe (or REST fetch) for a snapshot, and
//!      the per-message path (decode → sync → book → staged events).
//! 3. One arm in each method of [`Session`] (and in [`Rules`] if the venue
//!    keeps per-instrument state beyond the core).
//! 4. A simulator dialect (`src/sim/server/dialect/`, its encoder in
//!    `src/sim/market/`), so `tickwire sim`/`demo` and the end-to-end tests
//!    speak it.
//! 5. Tests: the captured frames in `tests/fixtures/<venue>/` decode and
//!    replay to the right book; fast path == tape path; the malformed-input
//!    table; the sync rules' edge cases and a property test against the
//!    reference book; the session on a `ManualClock`; the venue in
//!    `tests/zero_alloc.rs` and `tests/venues_e2e.rs`; a
//!    `tickwire/<venue>_book` benchmark against its baseline.
//!
//! Nothing in `engine/`, `config/`, `replay.rs`, `tools/` or the simulator's
//! server changes.

pub mod binance;
pub mod bybit;
pub mod coinbase;
pub(crate) mod instrument;
pub mod kraken;
pub mod okx;
pub mod profile;
pub(crate) mod scan;
mod session;
mod stats;
pub(crate) mod symbols;
pub mod sync;
pub(crate) mod top_ranks;

pub use instrument::{
    FeedStats, FrameKind, InstrumentBook, PlannedInstrument, Rules, SessionPlan, SnapshotFailure,
    books_for, publish_resync, publish_status,
};
pub use profile::{Channel, Profile, profile};
pub use session::Session;
pub use stats::{DecodeStats, SyncStats};
pub use sync::{DiffOutcome, GapPolicy, SnapshotOutcome, SyncCore};

use std::fmt;

use crate::types::{NumError, Venue};

/// A frame (or REST body) that could not be decoded. Says which venue, what
/// was wrong and where; carries no heap data, so it is cheap on the hot path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{venue}: {what} at {at}")]
pub struct DecodeError {
    /// The venue whose dialect was being decoded.
    pub venue: Venue,
    /// What was wrong.
    pub what: What,
    /// Where.
    pub at: Location,
}

/// The kinds of decode failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    /// The frame was empty.
    Empty,
    /// The frame is larger than the decoder's buffer.
    TooLarge {
        /// The limit in bytes.
        max: u32,
    },
    /// The bytes are not valid JSON.
    InvalidJson,
    /// The bytes are not valid UTF-8.
    NotUtf8,
    /// A required field is absent.
    Missing,
    /// A field has the wrong JSON type.
    Expected(JsonType),
    /// A numeric string could not be converted.
    Number(NumError),
    /// Valid JSON with a shape or event type this venue never sends.
    UnknownMessage,
    /// More price levels than the decoder's per-side capacity.
    TooManyLevels {
        /// The capacity.
        max: u32,
    },
    /// A price of zero or below (unless the instrument allows them), or a
    /// trade quantity of zero.
    NotPositive,
    /// An update or trade id above `i64::MAX` (2^63 - 1), or beyond `u64`:
    /// no venue numbers that far, and events carry ids as signed values.
    IdOutOfRange,
}

impl fmt::Display for What {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            What::Empty => f.write_str("empty frame"),
            What::TooLarge { max } => write!(f, "frame larger than {max} bytes"),
            What::InvalidJson => f.write_str("invalid JSON"),
            What::NotUtf8 => f.write_str("invalid UTF-8"),
            What::Missing => f.write_str("missing field"),
            What::Expected(t) => write!(f, "expected {t}"),
            What::Number(e) => write!(f, "bad number ({e})"),
            What::UnknownMessage => f.write_str("unknown message"),
            What::TooManyLevels { max } => write!(f, "more than {max} levels"),
            What::NotPositive => f.write_str("value must be greater than zero"),
            What::IdOutOfRange => f.write_str("id out of range (above 2^63 - 1)"),
        }
    }
}

/// JSON value types, for [`What::Expected`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonType {
    /// A string.
    String,
    /// A non-negative integer that fits `u64`.
    UnsignedInteger,
    /// An integer.
    Integer,
    /// `true` or `false`.
    Bool,
    /// An array.
    Array,
    /// An object.
    Object,
    /// A `[price, quantity]` pair of strings.
    Level,
}

impl fmt::Display for JsonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JsonType::String => "a string",
            JsonType::UnsignedInteger => "an unsigned integer",
            JsonType::Integer => "an integer",
            JsonType::Bool => "a boolean",
            JsonType::Array => "an array",
            JsonType::Object => "an object",
            JsonType::Level => "a [price, quantity] pair of strings",
        })
    }
}

/// Where a decode error is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// A byte offset in the frame.
    Byte(u32),
    /// The top-level value.
    Root,
    /// A field, optionally an element of a level list: `b[3][0]` is
    /// `Field { key: "b", level: Some(3), part: Some(0) }`.
    Field {
        /// The field name.
        key: &'static str,
        /// Index in a level list.
        level: Option<u32>,
        /// 0 = price, 1 = quantity.
        part: Option<u8>,
    },
}

impl Location {
    /// A plain field.
    pub const fn field(key: &'static str) -> Location {
        Location::Field {
            key,
            level: None,
            part: None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Byte(b) => write!(f, "byte {b}"),
            Location::Root => f.write_str("top level"),
            Location::Field { key, level, part } => {
                write!(f, "`{key}")?;
                if let Some(l) = level {
                    write!(f, "[{l}]")?;
                }
                if let Some(p) = part {
                    write!(f, "[{p}]")?;
                }
                f.write_str("`")
            }
        }
    }
}
