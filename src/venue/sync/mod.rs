//! The book-sync core every venue shares, one [`SyncCore`] per instrument.
//! Sans-IO: levels, sequence ids and `now` come in; book updates and staged
//! events come out.
//!
//! A venue's sync code decides what a message *means* under its rules —
//! which id it must chain on, when a snapshot replaces the book, whether a
//! checksum is due — and then calls the core to *do* it:
//!
//! | the venue's rules say            | the core call             | what consumers get                     |
//! |----------------------------------|---------------------------|----------------------------------------|
//! | a full book                      | [`SyncCore::load_snapshot`] | `SnapshotBegin`, levels, `SnapshotEnd` |
//! | an update that chains            | [`SyncCore::apply_update`]  | level events, all or none              |
//! | an update already in the book    | [`SyncCore::stale`]         | nothing                                |
//! | an update that does not chain    | [`SyncCore::gap`]           | `Gap`, then `Resync`                   |
//! | the book's checksum is not theirs | [`SyncCore::checksum_mismatch`] | `ChecksumMismatch`, then `Resync` |
//! | start over (reconnect, stale, …) | [`SyncCore::resync`]        | `Resync`                               |
//!
//! The core owns what every venue shares: the state (waiting for a
//! snapshot, synced at an id, or replaying without one), the "a snapshot is
//! wanted" flag with at most one request in flight (a REST fetch for
//! Binance, a resubscribe for venues that snapshot on the stream), applying a
//! message all or nothing, crossed-book and capacity handling, the one
//! "start over", and the counters. What a snapshot request *is* stays with
//! the venue's session.
//!
//! Under [`GapPolicy::Resync`] (the engine) a broken chain, a refused level
//! or a crossed book discards the book and wants a snapshot; a wrong book is
//! never published. Under [`GapPolicy::Continue`] (offline replay, which has
//! no second snapshot) a gap is reported and the update applied on top.

mod apply;
mod truncate;

use crate::book::{BookApply, BookError, BookRead, Level};
use crate::ring::{EventBatch, stage_snapshot};
use crate::types::{Event, InstrumentId, Nanos, ResyncReason, Stamp, StatusCode, Venue};
use crate::venue::SyncStats;

/// What to do when the sequence breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GapPolicy {
    /// Discard the book and rebuild it from a new snapshot (the engine).
    Resync,
    /// Report the gap and keep applying (offline replay, which has no second snapshot).
    Continue,
}

/// What an update did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffOutcome {
    /// Applied; its events are staged.
    Applied,
    /// Kept until the snapshot arrives (venues whose snapshots come by REST).
    Buffered,
    /// Already covered by the book, or a heartbeat that changes nothing; ignored.
    Stale,
    /// No book yet and none to buffer for (the snapshot comes on the
    /// stream): dropped.
    Waiting,
    /// The sequence broke. Under [`GapPolicy::Resync`] the book was discarded.
    Gap {
        /// The id the rules required.
        expected: u64,
        /// The id received.
        got: u64,
    },
    /// A level could not be applied (off-tick, out of range), or the update
    /// crossed the book; under [`GapPolicy::Resync`] the book was discarded.
    BadUpdate(BookError),
    /// The book's checksum after the update was not the venue's; the book
    /// was discarded (under either policy) and nothing of the update published.
    ChecksumMismatch {
        /// The venue's checksum.
        venue: i64,
        /// The book's.
        book: i64,
    },
}

/// What a snapshot did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotOutcome {
    /// The book is synced; a full snapshot is staged.
    Synced,
    /// Older than the buffered diffs; another one was requested.
    TooOld,
    /// Not waiting for one (a late duplicate); ignored.
    Ignored,
    /// Buffered diffs did not bridge; see the staged `Gap`.
    Gap {
        /// The id the rules required.
        expected: u64,
        /// The id received.
        got: u64,
    },
    /// A level of the snapshot could not be stored, or the book it makes is
    /// crossed; another one was requested.
    BadSnapshot(BookError),
}

/// Where an instrument's book is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// No book: waiting for a snapshot.
    Waiting,
    /// No snapshot will come (replay without one): the next update is
    /// applied as it is and starts the chain.
    Unanchored,
    /// The book reflects every update up to `last_id`. `bridged` is false
    /// while only the snapshot is in it (venues that bridge a REST snapshot
    /// to the stream apply looser rules to the first update).
    Synced { last_id: u64, bridged: bool },
}

/// The sync state of one instrument that every venue shares. See the
/// [module docs](self) for which call does what.
#[derive(Debug)]
pub struct SyncCore {
    venue: Venue,
    instrument: InstrumentId,
    policy: GapPolicy,
    phase: Phase,
    /// A snapshot should be requested.
    want_snapshot: bool,
    /// A snapshot request is out (no second one is sent meanwhile).
    in_flight: bool,
    /// The venue's code buffered something since the book was last reset or
    /// synced (even if it was dropped since): there is something to start
    /// over from.
    buffered_since_reset: bool,
    stats: SyncStats,
}

impl SyncCore {
    /// The core of `instrument` on `venue`, waiting for a snapshot.
    pub fn new(venue: Venue, instrument: InstrumentId, policy: GapPolicy) -> SyncCore {
        SyncCore {
            venue,
            instrument,
            policy,
            phase: Phase::Waiting,
            want_snapshot: false,
            in_flight: false,
            buffered_since_reset: false,
            stats: SyncStats::default(),
        }
    }

    /// What happens on a gap.
    pub fn policy(&self) -> GapPolicy {
        self.policy
    }

    /// Counters.
    pub fn stats(&self) -> SyncStats {
        self.stats
    }

    /// Counters, for the venue's rules to count what only they can see
    /// (snapshot retries, buffer drops).
    pub fn stats_mut(&mut self) -> &mut SyncStats {
        &mut self.stats
    }

    /// True once a snapshot has been loaded and the book is usable.
    #[inline]
    pub fn is_synced(&self) -> bool {
        matches!(self.phase, Phase::Synced { .. })
    }

    /// True while no snapshot has been loaded since the last reset.
    #[inline]
    pub fn is_waiting(&self) -> bool {
        self.phase == Phase::Waiting
    }

    /// True while the book holds a snapshot that no update has bridged yet.
    #[inline]
    pub fn is_bridging(&self) -> bool {
        matches!(self.phase, Phase::Synced { bridged: false, .. })
    }

    /// True when starting without a snapshot and no update came yet.
    #[inline]
    pub fn is_unanchored(&self) -> bool {
        self.phase == Phase::Unanchored
    }

    /// The book's sequence id, when synced.
    #[inline]
    pub fn last_id(&self) -> Option<u64> {
        match self.phase {
            Phase::Synced { last_id, .. } => Some(last_id),
            Phase::Waiting | Phase::Unanchored => None,
        }
    }

    /// True when the core holds something a reset would discard: a synced
    /// book, or updates buffered since the last reset. A book that never
    /// synced and buffered nothing (a connection attempt that failed) has
    /// nothing to start over from.
    pub fn holds_anything(&self) -> bool {
        self.is_synced() || self.buffered_since_reset
    }

    /// The venue's code buffered an update for after the snapshot.
    #[inline]
    pub fn note_buffered(&mut self) {
        self.buffered_since_reset = true;
    }

    /// Starts without a snapshot: the first update is applied as it comes
    /// and the chain is checked from there on. For replaying a capture that
    /// has no snapshot; the book then holds only the levels updates touched.
    pub fn start_without_snapshot(&mut self) {
        self.phase = Phase::Unanchored;
        self.want_snapshot = false;
    }

    /// The stamp of an event about this instrument.
    #[inline]
    pub fn stamp(&self, seq: u64, exch_ns: Nanos, recv_ns: Nanos) -> Stamp {
        Stamp {
            venue: self.venue,
            instrument: self.instrument,
            seq,
            exch_ns,
            recv_ns,
        }
    }

    /// Asks for a snapshot (deduplicated: at most one is in flight).
    pub fn request_snapshot(&mut self) {
        if self.phase == Phase::Waiting && !self.in_flight {
            self.want_snapshot = true;
        }
    }

    /// True once per needed snapshot: the caller must now get it.
    pub fn take_snapshot_request(&mut self) -> bool {
        if self.want_snapshot && !self.in_flight {
            self.want_snapshot = false;
            self.in_flight = true;
            true
        } else {
            false
        }
    }

    /// True while a snapshot request is out.
    pub fn snapshot_in_flight(&self) -> bool {
        self.in_flight
    }

    /// The snapshot request failed (or its answer was unusable): another
    /// one is wanted while the book is still waiting.
    pub fn snapshot_failed(&mut self) {
        self.in_flight = false;
        if self.phase == Phase::Waiting {
            self.want_snapshot = true;
        }
    }

    /// A snapshot arrived (used or not): the request is answered.
    pub fn snapshot_answered(&mut self) {
        self.in_flight = false;
        self.want_snapshot = false;
    }

    /// Replaces the book by a full snapshot at `last_id`, all or nothing,
    /// and stages it (`SnapshotBegin`, levels, `SnapshotEnd`). A refused
    /// level, or a book that comes out crossed under
    /// [`GapPolicy::Resync`], leaves no book: another snapshot is wanted and
    /// nothing of this one is staged.
    pub fn load_snapshot<B: BookApply + BookRead>(
        &mut self,
        last_id: u64,
        bids: &[Level],
        asks: &[Level],
        book: &mut B,
        batch: &mut EventBatch,
        now: Nanos,
    ) -> SnapshotOutcome {
        if let Err(e) = self.load_levels(last_id, bids, asks, book) {
            return SnapshotOutcome::BadSnapshot(e);
        }
        self.publish_snapshot(book, batch, now)
    }

    /// The book without staging: cleared, then every level of a snapshot
    /// (all or nothing; a refused level leaves the book empty and wants
    /// another snapshot). Synced at `last_id`, not yet bridged. Counts the
    /// snapshot. For venues that apply buffered updates before publishing;
    /// finish with [`publish_snapshot`](Self::publish_snapshot).
    pub fn load_levels<B: BookApply>(
        &mut self,
        last_id: u64,
        bids: &[Level],
        asks: &[Level],
        book: &mut B,
    ) -> Result<(), BookError> {
        self.snapshot_answered();
        book.clear();
        if let Err(e) = self.apply_unstaged(bids, asks, book) {
            book.clear();
            self.phase = Phase::Waiting;
            self.want_snapshot = true;
            return Err(e);
        }
        self.stats.snapshots += 1;
        self.phase = Phase::Synced {
            last_id,
            bridged: false,
        };
        Ok(())
    }

    /// Stages the whole book as a snapshot, unless it is crossed under
    /// [`GapPolicy::Resync`]: then consumers get `Crossed` and `Resync`
    /// instead, and another snapshot is wanted.
    pub fn publish_snapshot<B: BookApply + BookRead>(
        &mut self,
        book: &mut B,
        batch: &mut EventBatch,
        now: Nanos,
    ) -> SnapshotOutcome {
        self.buffered_since_reset = false;
        let stamp = self.stamp(self.last_id().unwrap_or(0), 0, now);
        if self.policy == GapPolicy::Resync && book.is_crossed() {
            self.stats.crossed += 1;
            batch.push(Event::status(stamp, StatusCode::Crossed, 0, 0, false));
            self.start_over(ResyncReason::Crossed, stamp, book, batch);
            return SnapshotOutcome::BadSnapshot(BookError::Crossed);
        }
        stage_snapshot(book, stamp, batch);
        SnapshotOutcome::Synced
    }

    /// Applies one update at `last_id`, all or nothing (every level checked
    /// first unless the caller knows they pass: `validated`), staging its
    /// level events with the last one ending the batch. The chain moves to
    /// `last_id`. A refused level: under [`GapPolicy::Resync`] the book
    /// starts over (`Resync`, reason `BadUpdate`); under
    /// [`GapPolicy::Continue`] the book is untouched and the chain moves past
    /// the update (unless the error [changed the book](BookError::changed_book):
    /// then it starts over as under `Resync`). A book left crossed under [`GapPolicy::Resync`]: `Crossed`
    /// and a start over.
    #[inline]
    #[allow(clippy::too_many_arguments)] // the levels, the book and the batch, as the call site has them
    pub fn apply_update<B: BookApply + BookRead>(
        &mut self,
        stamp: Stamp,
        last_id: u64,
        bids: &[Level],
        asks: &[Level],
        book: &mut B,
        batch: &mut EventBatch,
        validated: bool,
    ) -> DiffOutcome {
        if let Err(e) = self.apply_staged(stamp, bids, asks, book, batch, validated) {
            match self.policy {
                GapPolicy::Resync => {
                    self.start_over(ResyncReason::BadUpdate, stamp, book, batch);
                }
                // The book changed (a side cleared): it must start over too.
                GapPolicy::Continue if e.changed_book() => {
                    self.start_over(ResyncReason::BadUpdate, stamp, book, batch);
                }
                GapPolicy::Continue => self.advance(last_id),
            }
            return DiffOutcome::BadUpdate(e);
        }
        self.stats.applied += 1;
        self.advance(last_id);
        if self.policy == GapPolicy::Resync && book.is_crossed() {
            return self.crossed(stamp, book, batch);
        }
        DiffOutcome::Applied
    }

    /// The book crossed after an update: reported and started over.
    #[cold]
    #[inline(never)]
    fn crossed<B: BookApply>(
        &mut self,
        stamp: Stamp,
        book: &mut B,
        batch: &mut EventBatch,
    ) -> DiffOutcome {
        self.stats.crossed += 1;
        batch.push(Event::status(stamp, StatusCode::Crossed, 0, 0, false));
        self.start_over(ResyncReason::Crossed, stamp, book, batch);
        DiffOutcome::BadUpdate(BookError::Crossed)
    }

    /// The chain is at `last_id` and bridged (also ends an unanchored start).
    #[inline]
    pub fn advance(&mut self, last_id: u64) {
        self.phase = Phase::Synced {
            last_id,
            bridged: true,
        };
    }

    /// An update that does not chain: a `Gap` status (`a` = the id the rules
    /// required, `b` = the id received), counted. Under
    /// [`GapPolicy::Resync`] the book starts over (`Resync`, a snapshot
    /// wanted); under [`GapPolicy::Continue`] the caller applies the update
    /// on top with [`apply_update`](Self::apply_update).
    pub fn gap<B: BookApply>(
        &mut self,
        expected: u64,
        got: u64,
        stamp: Stamp,
        book: &mut B,
        batch: &mut EventBatch,
    ) -> DiffOutcome {
        self.stats.gaps += 1;
        batch.push(Event::status(
            stamp,
            StatusCode::Gap,
            expected as i64,
            got as i64,
            false,
        ));
        if self.policy == GapPolicy::Resync {
            self.start_over(ResyncReason::Gap, stamp, book, batch);
        }
        DiffOutcome::Gap { expected, got }
    }

    /// An update already in the book (or a heartbeat): counted, ignored.
    #[inline]
    pub fn stale(&mut self) -> DiffOutcome {
        self.stats.stale += 1;
        DiffOutcome::Stale
    }

    /// The book's checksum after an update differs from the venue's. What
    /// `batch` staged for the update is discarded, so no consumer sees the
    /// wrong book; a `ChecksumMismatch` status (`a` = the venue's, `b` = the
    /// book's) and a `Resync` are staged, and the book starts over under
    /// either policy (replay carries on from the next snapshot it reads).
    pub fn checksum_mismatch<B: BookApply>(
        &mut self,
        venue_sum: i64,
        book_sum: i64,
        stamp: Stamp,
        book: &mut B,
        batch: &mut EventBatch,
    ) -> DiffOutcome {
        self.stats.checksum_mismatches += 1;
        batch.clear();
        batch.push(Event::status(
            stamp,
            StatusCode::ChecksumMismatch,
            venue_sum,
            book_sum,
            false,
        ));
        self.start_over(ResyncReason::ChecksumMismatch, stamp, book, batch);
        DiffOutcome::ChecksumMismatch {
            venue: venue_sum,
            book: book_sum,
        }
    }

    /// A message came without a checksum (absent, or 0: none computed).
    #[inline]
    pub fn checksum_skipped(&mut self) {
        self.stats.checksums_skipped += 1;
    }

    /// Discards the book and starts over (reconnect, stale feed, crossed
    /// book, bad data): stages a `Resync` status and wants a snapshot.
    pub fn resync<B: BookApply>(
        &mut self,
        reason: ResyncReason,
        book: &mut B,
        batch: &mut EventBatch,
        now: Nanos,
    ) {
        let stamp = self.stamp(0, 0, now);
        self.start_over(reason, stamp, book, batch);
    }

    /// The one "start over": the book is discarded, a snapshot wanted, and
    /// a `Resync` status staged. Only a book that was usable counts as a
    /// resync: discarding the buffer of one that never synced (a connection
    /// attempt that failed) is not one, and counting it would inflate
    /// `resyncs` during an outage.
    pub fn start_over<B: BookApply>(
        &mut self,
        reason: ResyncReason,
        stamp: Stamp,
        book: &mut B,
        batch: &mut EventBatch,
    ) {
        if self.is_synced() {
            self.stats.resyncs += 1;
        }
        book.clear();
        self.phase = Phase::Waiting;
        self.buffered_since_reset = false;
        self.want_snapshot = !self.in_flight;
        batch.push(Event::status(
            stamp,
            StatusCode::Resync,
            reason as i64,
            0,
            true,
        ));
    }
}

#[cfg(test)]
mod tests;
