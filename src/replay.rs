//! Offline replay of captured frames through the very code the engine runs
//! ([`BinanceFeed`]: decoder → sync state machine → book). The
//! `tickwire replay` command is a thin wrapper; tests use this directly.
//!
//! Replay has one snapshot at most, so a sequence gap cannot be repaired: it
//! is reported ([`LineOutcome::Gap`]) and the diff is applied on top of the
//! book as it is ([`GapPolicy::Continue`]).

use crate::book::{BookRead, BookSpec, Ladder, Level};
use crate::ring::Discard;
use crate::types::{InstrumentId, Nanos, Registry, RegistryError, Venue};
use crate::venue::DecodeError;
use crate::venue::binance::{
    BinanceFeed, DiffOutcome, FrameKind, GapPolicy, InstrumentBook, SnapshotFailure,
    SnapshotOutcome, SyncStats,
};

/// The longest line replay reads: a capture holds one WebSocket frame per
/// line, and no frame can be longer than the engine accepts (the default
/// `engine.max_message_bytes`, 16 MiB; Binance's frames are far smaller).
/// A longer line is an error and is skipped without being held whole.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// The largest REST snapshot body replay reads (16 MiB: Binance's deepest
/// snapshot, 5000 levels a side, is a few hundred kilobytes).
pub const MAX_SNAPSHOT_BYTES: usize = 16 << 20;

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
    /// An update before any snapshot (of a venue that sends its snapshots
    /// on the stream) was dropped.
    Waiting,
    /// The book's checksum after the line was not the venue's: the book was
    /// discarded, and replay carries on from the next snapshot in the input.
    ChecksumMismatch {
        /// The venue's checksum.
        venue: i64,
        /// The book's.
        book: i64,
    },
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
    feed: BinanceFeed,
    books: Vec<InstrumentBook>,
    has_snapshot: bool,
    started: bool,
}

impl Replay {
    /// Sets up the registry, decoder, sync machine and book.
    pub fn new(spec: &ReplaySpec) -> Result<Replay, RegistryError> {
        let mut registry = Registry::new();
        let instrument = registry.add(spec.venue, &spec.symbol, &spec.tick_size, &spec.lot_size)?;
        let tick = registry.get(instrument).tick;
        let book_spec = BookSpec::new(tick).with_capacity(spec.capacity);
        let book = InstrumentBook::new(spec.venue, instrument, book_spec, GapPolicy::Continue);
        Ok(Replay {
            registry,
            instrument,
            feed: BinanceFeed::new(spec.venue, spec.capacity),
            books: vec![book],
            has_snapshot: false,
            started: false,
        })
    }

    /// Loads the REST snapshot body. Call before the first line.
    pub fn load_snapshot(&mut self, body: &[u8]) -> Result<SnapshotOutcome, SnapshotFailure> {
        let st = &mut self.books[self.instrument.index()];
        let outcome =
            self.feed
                .handle_snapshot(body, 0, &self.registry, st, &mut Discard::default())?;
        self.has_snapshot = true;
        Ok(outcome)
    }

    /// Handles one captured frame (a line of the capture), as the engine
    /// handles a frame from the socket.
    pub fn handle_line(&mut self, line: &[u8], recv_ns: Nanos) -> LineOutcome {
        if line.iter().all(u8::is_ascii_whitespace) {
            return LineOutcome::Skipped;
        }
        if !self.started {
            self.started = true;
            if !self.has_snapshot {
                self.books[self.instrument.index()]
                    .sync
                    .start_without_snapshot();
            }
        }
        let kind = self.feed.handle_frame(
            line,
            recv_ns,
            &self.registry,
            &mut self.books,
            &mut Discard::default(),
        );
        match kind {
            Err(e) => LineOutcome::Malformed(e),
            Ok(FrameKind::Depth(_, outcome)) => match outcome {
                DiffOutcome::Applied => LineOutcome::Applied,
                DiffOutcome::Stale | DiffOutcome::Buffered => LineOutcome::Stale,
                DiffOutcome::Waiting => LineOutcome::Waiting,
                DiffOutcome::ChecksumMismatch { venue, book } => {
                    LineOutcome::ChecksumMismatch { venue, book }
                }
                DiffOutcome::Gap { expected, got } => LineOutcome::Gap { expected, got },
                DiffOutcome::BadUpdate(e) => LineOutcome::BadUpdate(e),
            },
            Ok(FrameKind::Bbo(_) | FrameKind::CrossedBbo(_) | FrameKind::Trade(_)) => {
                LineOutcome::Market
            }
            Ok(FrameKind::VenueError(code)) => LineOutcome::VenueError { code },
            Ok(
                FrameKind::SubscribeResult(_)
                | FrameKind::ServerShutdown
                | FrameKind::Pong
                | FrameKind::Ignored,
            ) => LineOutcome::Skipped,
        }
    }

    /// The rebuilt book.
    pub fn book(&self) -> &Ladder {
        &self.books[self.instrument.index()].book
    }

    /// The instrument (price and quantity scales for printing).
    pub fn instrument(&self) -> &crate::types::Instrument {
        self.registry.get(self.instrument)
    }

    /// Sync counters.
    pub fn sync_stats(&self) -> SyncStats {
        self.books[self.instrument.index()].sync.stats()
    }

    /// The best bid and best ask when the book is crossed (bid at or above ask).
    pub fn crossed(&self) -> Option<(Level, Level)> {
        let book = self.book();
        match (book.best_bid(), book.best_ask()) {
            (Some(bid), Some(ask)) if bid.price >= ask.price => Some((bid, ask)),
            _ => None,
        }
    }

    /// The book's update id.
    pub fn last_id(&self) -> Option<u64> {
        self.books[self.instrument.index()].sync.last_id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_limit_is_the_engines_default_frame_limit() {
        assert_eq!(
            MAX_LINE_BYTES,
            crate::config::EngineSection::default().max_message_bytes
        );
    }
}
