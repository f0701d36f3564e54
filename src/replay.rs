//! Offline replay of captured frames through the very code the engine runs
//! (the venue's [`Session`]: decoder → sync → book). The `tickwire replay`
//! command is a thin wrapper; tests use this directly.
//!
//! Replay cannot ask for another snapshot, so a sequence gap cannot be
//! repaired: it is reported ([`LineOutcome::Gap`]) and the update applied on
//! top of the book as it is ([`GapPolicy::Continue`]). A checksum mismatch
//! discards the book; replay carries on from the next snapshot in the input
//! (venues that send snapshots on the stream).

#[cfg(feature = "record")]
pub mod recording;
pub mod tardis;

use crate::book::{BookRead, BookSpec, Ladder, Level};
use crate::ring::Discard;
use crate::types::{InstrumentId, Nanos, Registry, RegistryError, Venue};
use crate::venue::profile::SnapshotSource;
use crate::venue::{
    DecodeError, DiffOutcome, FrameKind, GapPolicy, InstrumentBook, PlannedInstrument, Session,
    SessionPlan, SnapshotFailure, SnapshotOutcome, SyncStats, profile,
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
    /// Tick size as decimal text (8 decimals when unsure: `0.00000001`).
    pub tick_size: String,
    /// Lot size as decimal text.
    pub lot_size: String,
    /// Book capacity per side.
    pub capacity: usize,
    /// The subscribed depth, for venues that stream a book of a fixed
    /// depth and expect the client to cut it there (Kraken); ignored by
    /// the others.
    pub depth: u32,
}

impl ReplaySpec {
    /// A spec with the venue's default tick and lot sizes (its
    /// [`Profile`](crate::venue::Profile)'s), its default depth and the
    /// default capacity.
    pub fn new(venue: Venue, symbol: &str) -> ReplaySpec {
        let p = profile(venue);
        ReplaySpec {
            venue,
            symbol: symbol.to_owned(),
            tick_size: p.default_tick_size.to_owned(),
            lot_size: p.default_lot_size.to_owned(),
            capacity: crate::book::DEFAULT_CAPACITY,
            depth: p.default_snapshot_limit,
        }
    }
}

/// What a line did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineOutcome {
    /// A diff was applied to the book.
    Applied,
    /// A full book on the stream replaced the book.
    Snapshot,
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

/// Why a replay cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The symbol, tick or lot size is not valid.
    #[error("{0}")]
    Registry(#[from] RegistryError),
    /// tickwire has no session for the venue.
    #[error("replay does not support {0}")]
    Unsupported(Venue),
    /// A REST snapshot was given for a venue whose snapshots come on the stream.
    #[error("{0} sends its snapshots on the stream: there is no REST snapshot to load")]
    NoRestSnapshots(Venue),
}

/// Why a REST snapshot could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ReplayLoadError {
    /// The replay cannot take one.
    #[error("{0}")]
    Setup(ReplayError),
    /// The body is not a usable snapshot.
    #[error("{0}")]
    Snapshot(SnapshotFailure),
}

/// Replay state for one symbol.
#[derive(Debug)]
pub struct Replay {
    registry: Registry,
    instrument: InstrumentId,
    session: Session,
    books: Vec<InstrumentBook>,
    has_snapshot: bool,
    started: bool,
}

impl Replay {
    /// Sets up the registry, the venue's session and the book.
    pub fn new(spec: &ReplaySpec) -> Result<Replay, ReplayError> {
        let mut registry = Registry::new();
        let instrument = registry.add(spec.venue, &spec.symbol, &spec.tick_size, &spec.lot_size)?;
        let tick = registry.get(instrument).tick;
        let book_spec = BookSpec::new(tick).with_capacity(spec.capacity);
        let book = InstrumentBook::new(spec.venue, instrument, book_spec, GapPolicy::Continue);
        let p = profile(spec.venue);
        let plan = SessionPlan {
            venue: spec.venue,
            ws_url: p.ws_url.to_owned(),
            rest_url: p.rest_url.to_owned(),
            instruments: vec![PlannedInstrument {
                id: instrument,
                symbol: registry.get(instrument).symbol.to_string(),
            }],
            channels: p.default_channels.to_vec(),
            depth_interval_ms: p.depth_intervals[0],
            depth: spec.depth,
            url_streams: None,
            streams_per_subscribe: 1,
            control_per_sec: 1,
            book_capacity: spec.capacity,
            max_frame: p.max_frame_bytes,
        };
        let session = Session::new(&plan).ok_or(ReplayError::Unsupported(spec.venue))?;
        Ok(Replay {
            registry,
            instrument,
            session,
            books: vec![book],
            has_snapshot: false,
            started: false,
        })
    }

    /// Whether the venue's snapshots come by REST (and so can be loaded
    /// with [`load_snapshot`](Self::load_snapshot)).
    pub fn takes_rest_snapshots(&self) -> bool {
        profile(self.instrument().venue).snapshots == SnapshotSource::Rest
    }

    /// Loads a REST snapshot body. Call before the first line.
    pub fn load_snapshot(&mut self, body: &[u8]) -> Result<SnapshotOutcome, ReplayLoadError> {
        if !self.takes_rest_snapshots() {
            return Err(ReplayLoadError::Setup(ReplayError::NoRestSnapshots(
                self.instrument().venue,
            )));
        }
        let st = &mut self.books[self.instrument.index()];
        st.sync.request_snapshot();
        st.sync.take_snapshot_request();
        let outcome = self
            .session
            .handle_fetched(body, 0, &self.registry, st, &mut Discard::default())
            .map_err(ReplayLoadError::Snapshot)?;
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
            // A venue that snapshots by REST, replayed without one, starts
            // from the first diff; one that snapshots on the stream waits
            // for it.
            if !self.has_snapshot && self.takes_rest_snapshots() {
                self.books[self.instrument.index()]
                    .sync
                    .start_without_snapshot();
            }
        }
        let snapshots = self.sync_stats().snapshots;
        let kind = self.session.handle_text(
            line,
            recv_ns,
            &self.registry,
            &mut self.books,
            &mut Discard::default(),
        );
        let snapshot = self.sync_stats().snapshots > snapshots;
        match kind {
            Err(e) => LineOutcome::Malformed(e),
            Ok(FrameKind::Depth(_, outcome)) => match outcome {
                DiffOutcome::Applied if snapshot => LineOutcome::Snapshot,
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
