//! Offline replay of captured frames through the very code the engine runs:
//! decoder → sync state machine → book. The `tickwire replay` command is a
//! thin wrapper; tests and benchmarks use this directly.
//!
//! Replay has one snapshot at most, so a sequence gap cannot be repaired: it
//! is reported ([`LineOutcome::Gap`]) and the diff is applied on top of the
//! book as it is ([`GapPolicy::Continue`]).

use crate::book::{BookSpec, Ladder};
use crate::ring::EventBatch;
use crate::types::{InstrumentId, Nanos, Registry, RegistryError, Venue};
use crate::venue::DecodeError;
use crate::venue::binance::{
    BinanceDecoder, BinanceMsg, BookSync, DiffOutcome, GapPolicy, SnapshotOutcome, SnapshotReply, SyncLimits,
    SyncStats,
};

/// What one replay covers.
#[derive(Clone, Debug)]
pub struct ReplaySpec {
    /// The venue dialect.
    pub venue: Venue,
    /// The symbol to rebuild; other symbols' frames are skipped.
    pub symbol: String,
    /// Tick size as decimal text (Binance's wire precision when unsure: `0.00000001`).
    pub tick_size: String,
    /// Lot size as decimal text.
    pub lot_size: String,
    /// Book capacity per side.
    pub capacity: usize,
}

impl ReplaySpec {
    /// A spec with Binance's 8-decimal wire precision and the default capacity.
    pub fn new(venue: Venue, symbol: &str) -> ReplaySpec {
        ReplaySpec {
            venue,
            symbol: symbol.to_owned(),
            tick_size: "0.00000001".to_owned(),
            lot_size: "0.00000001".to_owned(),
            capacity: crate::book::DEFAULT_CAPACITY,
        }
    }
}

/// What a line did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineOutcome {
    /// A diff was applied to the book.
    Applied,
    /// A diff older than the book was ignored.
    Stale,
    /// A best bid/offer or trade for the symbol (decoded; the book is unchanged).
    Market,
    /// Another symbol, an unconsumed event type, an ack or a blank line.
    Skipped,
    /// A sequence gap; the diff was applied anyway.
    Gap {
        /// The id the rules required.
        expected: u64,
        /// The id received.
        got: u64,
    },
    /// The venue replied with an error message.
    VenueError {
        /// The venue's code.
        code: i64,
    },
    /// The line could not be decoded.
    Malformed(DecodeError),
    /// The line decoded but a level could not be applied (e.g. off the tick grid).
    BadUpdate(crate::book::BookError),
}

/// Replay state for one symbol.
#[derive(Debug)]
pub struct Replay {
    registry: Registry,
    instrument: InstrumentId,
    decoder: BinanceDecoder,
    sync: BookSync,
    book: Ladder,
    batch: EventBatch,
    has_snapshot: bool,
    started: bool,
}

impl Replay {
    /// Sets up the registry, decoder, sync machine and book.
    pub fn new(spec: &ReplaySpec) -> Result<Replay, RegistryError> {
        let mut registry = Registry::new();
        let instrument = registry.add(spec.venue, &spec.symbol, &spec.tick_size, &spec.lot_size)?;
        let tick = registry.get(instrument).tick;
        let book = Ladder::new(BookSpec::new(tick).with_capacity(spec.capacity));
        Ok(Replay {
            registry,
            instrument,
            decoder: BinanceDecoder::new(spec.venue),
            sync: BookSync::new(spec.venue, instrument, GapPolicy::Continue, SyncLimits::default()),
            book,
            batch: EventBatch::with_capacity(4 * crate::venue::binance::DEFAULT_MAX_LEVELS + 16),
            has_snapshot: false,
            started: false,
        })
    }

    /// Loads the REST snapshot body. Call before the first line.
    pub fn load_snapshot(&mut self, body: &[u8]) -> Result<SnapshotOutcome, SnapshotError> {
        let scaling = self.registry.get(self.instrument).scaling();
        let reply = self.decoder.decode_snapshot(body, scaling).map_err(SnapshotError::Decode)?;
        let snap = match reply {
            SnapshotReply::Book(snap) => snap,
            SnapshotReply::VenueError { code, .. } => return Err(SnapshotError::Venue(code)),
        };
        self.batch.clear();
        let outcome = self.sync.handle_snapshot(&snap, &mut self.book, &mut self.batch, 0);
        self.has_snapshot = true;
        Ok(outcome)
    }

    /// Feeds one captured frame.
    pub fn feed(&mut self, line: &[u8], recv_ns: Nanos) -> LineOutcome {
        if line.iter().all(u8::is_ascii_whitespace) {
            return LineOutcome::Skipped;
        }
        if !self.started {
            self.started = true;
            if !self.has_snapshot {
                self.sync.start_without_snapshot();
            }
        }
        let symbols = self.registry.venue(self.decoder.venue());
        let msg = match self.decoder.decode(line, &symbols) {
            Ok(m) => m,
            Err(e) => return LineOutcome::Malformed(e),
        };
        match msg {
            BinanceMsg::Depth(d) => {
                self.batch.clear();
                match self.sync.handle_diff(&d, &mut self.book, &mut self.batch, recv_ns) {
                    DiffOutcome::Applied => LineOutcome::Applied,
                    DiffOutcome::Stale | DiffOutcome::Buffered => LineOutcome::Stale,
                    DiffOutcome::Gap { expected, got } => LineOutcome::Gap { expected, got },
                    DiffOutcome::BadUpdate(e) => LineOutcome::BadUpdate(e),
                }
            }
            BinanceMsg::BookTicker(_) | BinanceMsg::Trade(_) => LineOutcome::Market,
            BinanceMsg::VenueError { code, .. } => LineOutcome::VenueError { code },
            BinanceMsg::SubscribeResult { .. }
            | BinanceMsg::ServerShutdown { .. }
            | BinanceMsg::Unhandled { .. }
            | BinanceMsg::UnknownSymbol { .. } => LineOutcome::Skipped,
        }
    }

    /// The rebuilt book.
    pub fn book(&self) -> &Ladder {
        &self.book
    }

    /// The instrument (price and quantity scales for printing).
    pub fn instrument(&self) -> &crate::types::Instrument {
        self.registry.get(self.instrument)
    }

    /// Sync counters.
    pub fn sync_stats(&self) -> SyncStats {
        self.sync.stats()
    }

    /// The book's update id.
    pub fn last_id(&self) -> Option<u64> {
        self.sync.last_id()
    }
}

/// Why a snapshot could not be loaded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SnapshotError {
    /// The body is not a depth snapshot.
    #[error("{0}")]
    Decode(DecodeError),
    /// The body is a venue error reply.
    #[error("the venue replied with error code {0}")]
    Venue(i64),
}
