//! The Binance order-book sync state machine, one per instrument. Sans-IO:
//! diffs, snapshots and `now` come in; book updates, staged events and
//! "fetch a snapshot" requests come out.
//!
//! Call order: [`BookSync::request_snapshot`] once the stream is subscribed;
//! then for every frame [`BookSync::handle_diff`]; whenever
//! [`BookSync::take_snapshot_request`] says so, fetch the REST snapshot and
//! feed it to [`BookSync::handle_snapshot`] (or [`BookSync::snapshot_failed`]).
//!
//! The rules, as Binance documents them (spot and USD-M futures differ):
//!
//! | step | spot | USD-M futures |
//! |---|---|---|
//! | before the snapshot | buffer diffs | buffer diffs |
//! | snapshot too old, fetch again | `lastUpdateId + 1 < U` of the first buffered diff | `lastUpdateId < U` |
//! | drop buffered / early diffs | `u <= lastUpdateId` | `u < lastUpdateId` |
//! | first applied diff | `U <= lastUpdateId + 1 <= u` | `U <= lastUpdateId <= u` |
//! | every later diff | gap if `U > id + 1`, or if `u < id` (see below) | gap unless `pu == previous u` |
//!
//! (Spot's documented re-fetch test is `lastUpdateId < U`; a snapshot with
//! `lastUpdateId == U - 1` bridges by the documented update rule, so it is
//! used rather than thrown away. Binance documents "ignore if `u < id`" for
//! every later diff; once live, a spot stream on one connection never goes
//! back, so such a diff can only mean the book's id ran ahead of the stream
//! — a lying `u` or a snapshot from the future — and ignoring it would
//! freeze the book for good: it is a gap. While bridging, diffs older than
//! the snapshot are ignored as documented; a snapshot far ahead of the
//! stream then receives only stale diffs, which the engine's per-instrument
//! staleness timeout turns into a `Stale` resync, because stale diffs do not
//! count as activity.)
//!
//! On a gap the book is discarded, a `Gap` and a `Resync` status are staged,
//! and the machine starts over from buffering (or, with
//! [`GapPolicy::Continue`], used by `tickwire replay`, the gap is reported
//! and the diff applied on top of the book as it is).

use std::collections::VecDeque;

use super::msg::{DepthSnapshot, DepthUpdate};
use crate::book::{Applied, BookApply, BookError, BookRead, Level};
use crate::ring::{EventBatch, stage_snapshot};
use crate::types::{Event, InstrumentId, Nanos, ResyncReason, Side, Stamp, StatusCode, Venue};
use crate::venue::SyncStats;

/// Which of Binance's rule sets applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Spot: `U == previous u + 1` chaining.
    Spot,
    /// USD-M futures: `pu == previous u` chaining.
    UsdM,
}

impl Dialect {
    /// The dialect of a Binance venue (spot's rules for any other).
    pub const fn of(venue: Venue) -> Dialect {
        match venue {
            Venue::BinanceUsdm => Dialect::UsdM,
            _ => Dialect::Spot,
        }
    }
}

/// What to do when the sequence breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GapPolicy {
    /// Discard the book and rebuild it from a new snapshot (the engine).
    Resync,
    /// Report the gap and keep applying (offline replay, which has no second snapshot).
    Continue,
}

/// Limits of the pre-snapshot buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncLimits {
    /// Diffs kept while waiting for a snapshot (oldest dropped first).
    pub buffer_diffs: usize,
    /// Levels kept while waiting for a snapshot.
    pub buffer_levels: usize,
}

impl Default for SyncLimits {
    fn default() -> Self {
        SyncLimits {
            buffer_diffs: 512,
            buffer_levels: 16_384,
        }
    }
}

/// What a diff did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffOutcome {
    /// Applied; its events are staged.
    Applied,
    /// Kept until the snapshot arrives.
    Buffered,
    /// Already covered by the book; ignored.
    Stale,
    /// The sequence broke. Under [`GapPolicy::Resync`] the book was discarded.
    Gap {
        /// The id the rules required.
        expected: u64,
        /// The id received (`U`, or `pu` on futures).
        got: u64,
    },
    /// A level could not be applied (off-tick, out of range); the book was discarded.
    BadUpdate(BookError),
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
    /// A level of the snapshot could not be stored; another one was requested.
    BadSnapshot(BookError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Waiting for a snapshot; diffs are buffered.
    Buffering,
    /// No snapshot will come (replay without one): the next diff is applied
    /// as it is and starts the chain.
    Unanchored,
    /// The book holds snapshot `last_id`; no diff has bridged it yet.
    Bridging { last_id: u64 },
    /// Synced: the book reflects every update up to `last_id`.
    Live { last_id: u64 },
}

/// Header of a diff, live or buffered.
#[derive(Clone, Copy, Debug)]
struct Header {
    first_id: u64,
    final_id: u64,
    prev_final_id: Option<u64>,
    exch_ns: Nanos,
    recv_ns: Nanos,
    bids: u32,
    asks: u32,
}

/// The sync state machine of one Binance instrument.
#[derive(Debug)]
pub struct BookSync {
    venue: Venue,
    dialect: Dialect,
    instrument: InstrumentId,
    policy: GapPolicy,
    state: State,
    /// A snapshot should be requested.
    want_snapshot: bool,
    /// A snapshot request is out (no second one is sent meanwhile).
    in_flight: bool,
    /// A diff was buffered since the book was last reset or synced (even if
    /// the buffer later dropped it): there is something to start over from.
    buffered_since_reset: bool,
    diffs: VecDeque<Header>,
    levels: VecDeque<Level>,
    limits: SyncLimits,
    stats: SyncStats,
}

impl BookSync {
    /// A machine for `instrument` on `venue`, initially waiting for a snapshot.
    pub fn new(
        venue: Venue,
        instrument: InstrumentId,
        policy: GapPolicy,
        limits: SyncLimits,
    ) -> BookSync {
        BookSync {
            venue,
            dialect: Dialect::of(venue),
            instrument,
            policy,
            state: State::Buffering,
            want_snapshot: false,
            in_flight: false,
            buffered_since_reset: false,
            diffs: VecDeque::with_capacity(limits.buffer_diffs),
            levels: VecDeque::with_capacity(limits.buffer_levels),
            limits,
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

    /// True when the machine holds something a reset would discard: a
    /// synced book, or diffs buffered since the last reset. A book that
    /// never synced and buffered nothing (a connection attempt that failed)
    /// has nothing to start over from.
    pub fn holds_anything(&self) -> bool {
        self.is_synced() || self.buffered_since_reset
    }

    /// True once a snapshot has been loaded and the book is usable.
    pub fn is_synced(&self) -> bool {
        matches!(self.state, State::Bridging { .. } | State::Live { .. })
    }

    /// Starts without a snapshot: the first diff is applied as it comes and
    /// the chain is checked from there on. For replaying a capture that has
    /// no snapshot; the book then holds only the levels the diffs touched.
    pub fn start_without_snapshot(&mut self) {
        self.state = State::Unanchored;
        self.want_snapshot = false;
    }

    /// The book's update id, when synced.
    pub fn last_id(&self) -> Option<u64> {
        match self.state {
            State::Buffering | State::Unanchored => None,
            State::Bridging { last_id } | State::Live { last_id } => Some(last_id),
        }
    }

    /// Asks for a snapshot (deduplicated: at most one is in flight).
    pub fn request_snapshot(&mut self) {
        if matches!(self.state, State::Buffering) && !self.in_flight {
            self.want_snapshot = true;
        }
    }

    /// True once per needed snapshot: the caller must now fetch it.
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

    /// The snapshot request failed; another will be requested.
    pub fn snapshot_failed(&mut self) {
        self.in_flight = false;
        if matches!(self.state, State::Buffering) {
            self.want_snapshot = true;
        }
    }

    fn stamp(&self, seq: u64, exch_ns: Nanos, recv_ns: Nanos) -> Stamp {
        Stamp {
            venue: self.venue,
            instrument: self.instrument,
            seq,
            exch_ns,
            recv_ns,
        }
    }

    /// Discards the book and starts over (reconnect, stale feed, crossed
    /// book, bad data). Stages a `Resync` status and requests a snapshot.
    pub fn resync(
        &mut self,
        reason: ResyncReason,
        book: &mut impl BookApply,
        batch: &mut EventBatch,
        now: Nanos,
    ) {
        self.diffs.clear();
        self.levels.clear();
        let stamp = self.stamp(0, 0, now);
        self.start_over(reason, stamp, book, batch);
    }

    /// The one "start over": the book is discarded, a snapshot wanted, and
    /// a `Resync` status staged. What stays buffered is the caller's choice.
    /// Only a book that was usable counts as a resync: discarding the
    /// buffer of one that never synced (a connection attempt that failed)
    /// is not one, and counting it would inflate `resyncs` during an outage.
    fn start_over(
        &mut self,
        reason: ResyncReason,
        stamp: Stamp,
        book: &mut impl BookApply,
        batch: &mut EventBatch,
    ) {
        if self.is_synced() {
            self.stats.resyncs += 1;
        }
        book.clear();
        self.state = State::Buffering;
        // What the caller keeps buffered (diffs after a gap) is still there.
        self.buffered_since_reset = !self.diffs.is_empty();
        self.want_snapshot = !self.in_flight;
        batch.push(Event::status(
            stamp,
            StatusCode::Resync,
            reason as i64,
            0,
            true,
        ));
    }

    /// Handles one diff. Its events (if applied) are staged in `batch`, the
    /// last one flagged end-of-batch.
    #[inline]
    pub fn handle_diff<B: BookApply + BookRead>(
        &mut self,
        d: &DepthUpdate<'_>,
        book: &mut B,
        batch: &mut EventBatch,
        recv_ns: Nanos,
    ) -> DiffOutcome {
        self.handle_diff_checked(d, book, batch, recv_ns, false)
    }

    /// [`handle_diff`](Self::handle_diff) for a caller that knows whether
    /// `book.validate` accepts every level of `d` (`validated`); then the
    /// all-or-nothing check before applying is skipped.
    #[inline]
    pub(crate) fn handle_diff_checked<B: BookApply + BookRead>(
        &mut self,
        d: &DepthUpdate<'_>,
        book: &mut B,
        batch: &mut EventBatch,
        recv_ns: Nanos,
        validated: bool,
    ) -> DiffOutcome {
        let h = Header {
            first_id: d.first_id,
            final_id: d.final_id,
            prev_final_id: d.prev_final_id,
            exch_ns: d.exch_ns(),
            recv_ns,
            bids: d.bids.len() as u32,
            asks: d.asks.len() as u32,
        };
        if self.state == State::Buffering {
            self.buffer(h, d.bids.iter().chain(d.asks));
            // Binance: open the stream, then fetch the snapshot.
            self.request_snapshot();
            return DiffOutcome::Buffered;
        }
        let outcome = self.step(
            &h,
            d.bids.iter().copied(),
            d.asks.iter().copied(),
            book,
            Some(batch),
            validated,
        );
        if let DiffOutcome::Gap { .. } = outcome {
            if self.policy == GapPolicy::Resync {
                // The diff that broke the chain may follow the next snapshot.
                self.buffer(h, d.bids.iter().chain(d.asks));
            }
        }
        outcome
    }

    /// Handles a REST snapshot. On success the book holds the snapshot plus
    /// every bridging buffered diff, and one full snapshot of it is staged.
    pub fn handle_snapshot<B: BookApply + BookRead>(
        &mut self,
        snap: &DepthSnapshot<'_>,
        book: &mut B,
        batch: &mut EventBatch,
        now: Nanos,
    ) -> SnapshotOutcome {
        self.in_flight = false;
        if self.state != State::Buffering {
            return SnapshotOutcome::Ignored;
        }
        let last = snap.last_update_id;
        if let Some(first) = self.diffs.front() {
            let too_old = match self.dialect {
                Dialect::Spot => last.saturating_add(1) < first.first_id,
                Dialect::UsdM => last < first.first_id,
            };
            if too_old {
                self.stats.snapshot_retries += 1;
                self.want_snapshot = true;
                return SnapshotOutcome::TooOld;
            }
        }
        book.clear();
        for (side, levels) in [(Side::Bid, snap.bids), (Side::Ask, snap.asks)] {
            for (i, l) in levels.iter().enumerate() {
                match book.apply(side, l.price, l.qty) {
                    Ok(a) => self.stats.truncated += u64::from(a.truncated()),
                    Err(e) => {
                        book.clear();
                        self.want_snapshot = true;
                        return SnapshotOutcome::BadSnapshot(e.at(side, i));
                    }
                }
            }
        }
        self.stats.snapshots += 1;
        self.state = State::Bridging { last_id: last };
        // Replay what was buffered, without staging per-diff events: the
        // snapshot staged below already shows their result.
        let mut replayed = 0;
        let mut outcome = SnapshotOutcome::Synced;
        let mut offset = 0usize;
        for i in 0..self.diffs.len() {
            let h = self.diffs[i];
            let n = (h.bids + h.asks) as usize;
            let (bids, asks) = (h.bids as usize, h.asks as usize);
            let levels = std::mem::take(&mut self.levels);
            let r = self.step(
                &h,
                levels.range(offset..offset + bids).copied(),
                levels.range(offset + bids..offset + bids + asks).copied(),
                book,
                None,
                false,
            );
            self.levels = levels;
            match r {
                DiffOutcome::Gap { expected, got } => {
                    let stamp = self.stamp(h.final_id, h.exch_ns, h.recv_ns);
                    batch.push(Event::status(
                        stamp,
                        StatusCode::Gap,
                        expected as i64,
                        got as i64,
                        false,
                    ));
                    if self.policy == GapPolicy::Resync {
                        // Keep the diffs from the breaking one on; start over.
                        self.diffs.drain(..i);
                        self.levels.drain(..offset);
                        self.start_over(ResyncReason::Gap, stamp, book, batch);
                        return SnapshotOutcome::Gap { expected, got };
                    }
                    outcome = SnapshotOutcome::Gap { expected, got };
                }
                DiffOutcome::BadUpdate(e) => {
                    // Nothing of this snapshot was published; consumers
                    // still hear that the book starts over.
                    self.diffs.clear();
                    self.levels.clear();
                    let stamp = self.stamp(h.final_id, h.exch_ns, h.recv_ns);
                    self.start_over(ResyncReason::BadUpdate, stamp, book, batch);
                    return SnapshotOutcome::BadSnapshot(e);
                }
                _ => {}
            }
            replayed += 1;
            offset += n;
        }
        debug_assert_eq!(replayed, self.diffs.len());
        self.diffs.clear();
        self.levels.clear();
        self.buffered_since_reset = false;
        let stamp = self.stamp(self.last_id().unwrap_or(last), 0, now);
        stage_snapshot(book, stamp, batch);
        outcome
    }

    /// Keeps a diff until the snapshot arrives, dropping the oldest when full.
    fn buffer<'l>(&mut self, h: Header, levels: impl Iterator<Item = &'l Level>) {
        self.buffered_since_reset = true;
        let n = (h.bids + h.asks) as usize;
        if n > self.limits.buffer_levels || self.limits.buffer_diffs == 0 {
            // Cannot keep it: keep nothing older either. The snapshot check
            // against the next buffered diff decides whether to fetch again.
            self.stats.buffer_dropped += self.diffs.len() as u64 + 1;
            self.diffs.clear();
            self.levels.clear();
            return;
        }
        while self.diffs.len() >= self.limits.buffer_diffs
            || self.levels.len() + n > self.limits.buffer_levels
        {
            let Some(old) = self.diffs.pop_front() else {
                break;
            };
            self.levels.drain(..(old.bids + old.asks) as usize);
            self.stats.buffer_dropped += 1;
        }
        self.diffs.push_back(h);
        self.levels.extend(levels.copied());
    }

    /// Applies the sequence rules to one diff. Stages events when `batch`
    /// is given; `validated` as in [`BookSync::handle_diff_checked`].
    #[inline]
    fn step<B: BookApply + BookRead>(
        &mut self,
        h: &Header,
        bids: impl Iterator<Item = Level> + Clone,
        asks: impl Iterator<Item = Level> + Clone,
        book: &mut B,
        mut batch: Option<&mut EventBatch>,
        validated: bool,
    ) -> DiffOutcome {
        let (last_id, bridging) = match self.state {
            State::Buffering => return DiffOutcome::Buffered,
            State::Unanchored => {
                let stamp = self.stamp(h.final_id, h.exch_ns, h.recv_ns);
                if let Err(e) = self.apply_levels(stamp, bids, asks, book, batch, validated) {
                    return DiffOutcome::BadUpdate(e);
                }
                self.stats.applied += 1;
                self.state = State::Live {
                    last_id: h.final_id,
                };
                return DiffOutcome::Applied;
            }
            State::Bridging { last_id } => (last_id, true),
            State::Live { last_id } => (last_id, false),
        };
        let verdict = match (self.dialect, bridging) {
            (Dialect::Spot, true) if h.final_id <= last_id => Err(None),
            // Live, a spot stream only moves forward: a diff that ends
            // before the book's id means the book's id ran ahead of the
            // stream (a lying `u`, a snapshot from the future). Ignoring it
            // as documented for the bridge would freeze the book for good.
            (Dialect::Spot, false) if h.final_id < last_id => {
                Err(Some((last_id.saturating_add(1), h.first_id)))
            }
            (Dialect::Spot, _) if h.first_id > last_id.saturating_add(1) => {
                Err(Some((last_id.saturating_add(1), h.first_id)))
            }
            (Dialect::UsdM, true) if h.final_id < last_id => Err(None),
            (Dialect::UsdM, true) if h.first_id > last_id => Err(Some((last_id, h.first_id))),
            (Dialect::UsdM, false) if h.prev_final_id != Some(last_id) => {
                Err(Some((last_id, h.prev_final_id.unwrap_or(0))))
            }
            _ => Ok(()),
        };
        let stamp = self.stamp(h.final_id, h.exch_ns, h.recv_ns);
        match verdict {
            Err(None) => {
                self.stats.stale += 1;
                return DiffOutcome::Stale;
            }
            Err(Some((expected, got))) => {
                self.stats.gaps += 1;
                if let Some(b) = batch.as_deref_mut() {
                    b.push(Event::status(
                        stamp,
                        StatusCode::Gap,
                        expected as i64,
                        got as i64,
                        false,
                    ));
                }
                if self.policy == GapPolicy::Resync {
                    // Without a batch the caller (snapshot replay) starts over itself.
                    if let Some(b) = batch {
                        self.resync(ResyncReason::Gap, book, b, h.recv_ns);
                    }
                    return DiffOutcome::Gap { expected, got };
                }
                // GapPolicy::Continue: report, then apply on top.
                let r = self.apply_levels(stamp, bids, asks, book, batch.as_deref_mut(), validated);
                // The Gap status ends the batch when the diff staged nothing
                // after it (refused, or every level already as it was).
                if let Some(b) = batch {
                    b.end_batch();
                }
                // The chain moves on either way: the diff was received, and
                // a refused one has been reported.
                self.state = State::Live {
                    last_id: h.final_id,
                };
                if let Err(e) = r {
                    return DiffOutcome::BadUpdate(e);
                }
                self.stats.applied += 1;
                return DiffOutcome::Gap { expected, got };
            }
            Ok(()) => {}
        }
        if let Err(e) = self.apply_levels(stamp, bids, asks, book, batch.as_deref_mut(), validated)
        {
            match (self.policy, batch) {
                // The engine cannot apply it: the book would drift, so rebuild it.
                (GapPolicy::Resync, Some(b)) => {
                    self.resync(ResyncReason::BadUpdate, book, b, h.recv_ns)
                }
                // Replay has no second snapshot: the refused diff is reported
                // (untouched book, all or nothing) and the chain moves past it.
                (GapPolicy::Continue, _) => {
                    self.state = State::Live {
                        last_id: h.final_id,
                    }
                }
                (GapPolicy::Resync, None) => {}
            }
            return DiffOutcome::BadUpdate(e);
        }
        self.stats.applied += 1;
        self.state = State::Live {
            last_id: h.final_id,
        };
        DiffOutcome::Applied
    }

    /// Applies a diff's levels, all or nothing: every level is validated
    /// first, unless the caller knows they pass (`validated`).
    #[inline]
    fn apply_levels<B: BookApply>(
        &mut self,
        stamp: Stamp,
        bids: impl Iterator<Item = Level> + Clone,
        asks: impl Iterator<Item = Level> + Clone,
        book: &mut B,
        batch: Option<&mut EventBatch>,
        validated: bool,
    ) -> Result<(), BookError> {
        debug_assert!(
            !validated
                || bids
                    .clone()
                    .chain(asks.clone())
                    .all(|l| book.validate(l.price, l.qty).is_ok()),
            "a diff claimed valid has an invalid level"
        );
        if !validated {
            // Two plain loops per pass: a chained iterator costs a branch per level.
            for (i, l) in bids.clone().enumerate() {
                book.validate(l.price, l.qty)
                    .map_err(|e| e.at(Side::Bid, i))?;
            }
            for (i, l) in asks.clone().enumerate() {
                book.validate(l.price, l.qty)
                    .map_err(|e| e.at(Side::Ask, i))?;
            }
        }
        let Some(b) = batch else {
            // Snapshot replay: no events, only the truncation count.
            for (i, l) in bids.enumerate() {
                let applied = book
                    .apply(Side::Bid, l.price, l.qty)
                    .map_err(|e| e.at(Side::Bid, i))?;
                self.stats.truncated += u64::from(applied.truncated());
            }
            for (i, l) in asks.enumerate() {
                let applied = book
                    .apply(Side::Ask, l.price, l.qty)
                    .map_err(|e| e.at(Side::Ask, i))?;
                self.stats.truncated += u64::from(applied.truncated());
            }
            return Ok(());
        };
        let start = b.len();
        for l in bids {
            self.stage_level(stamp, Side::Bid, l, book, b)?;
        }
        for l in asks {
            self.stage_level(stamp, Side::Ask, l, book, b)?;
        }
        if b.len() > start {
            b.end_batch();
        }
        Ok(())
    }

    /// Applies one level and stages its event.
    #[inline(always)]
    fn stage_level<B: BookApply>(
        &mut self,
        stamp: Stamp,
        side: Side,
        l: Level,
        book: &mut B,
        b: &mut EventBatch,
    ) -> Result<(), BookError> {
        let applied = book.apply(side, l.price, l.qty)?;
        if applied.truncated() {
            self.stage_truncated(stamp, side, l, applied, b);
        } else {
            // Set and Removed are events, Absent is not: a data-dependent
            // choice, so the event is written either way and kept or not.
            let event = Event::level(stamp, side, l.price, l.qty, 0);
            b.push_if(event, applied != Applied::Absent);
        }
        Ok(())
    }

    /// The book is at capacity: an eviction or a dropped level.
    #[cold]
    #[inline(never)]
    fn stage_truncated(
        &mut self,
        stamp: Stamp,
        side: Side,
        l: Level,
        applied: Applied,
        b: &mut EventBatch,
    ) {
        self.stats.truncated += 1;
        match applied {
            Applied::Evicted(p) => {
                b.push(Event::level(stamp, side, p, crate::types::Qty(0), 0));
                b.push(Event::level(stamp, side, l.price, l.qty, 0));
                b.push(Event::status(
                    stamp,
                    StatusCode::CapacityTruncated,
                    p.0,
                    0,
                    false,
                ));
            }
            Applied::Dropped => b.push(Event::status(
                stamp,
                StatusCode::CapacityTruncated,
                l.price.0,
                0,
                false,
            )),
            Applied::Set | Applied::Removed | Applied::Absent => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::{BookSpec, Ladder};
    use crate::types::{Price, Qty, Scaling};

    fn diff<'a>(first_id: u64, final_id: u64, bids: &'a [Level]) -> DepthUpdate<'a> {
        DepthUpdate {
            scaling: Scaling {
                instrument: InstrumentId(0),
                price: crate::types::Scale::BINANCE_WIRE,
                qty: crate::types::Scale::BINANCE_WIRE,
                negative_prices: false,
            },
            event_ms: 1,
            transact_ms: None,
            first_id,
            final_id,
            prev_final_id: None,
            bids,
            asks: &[],
        }
    }

    /// Regression: under `GapPolicy::Continue`, a gapped diff that staged no
    /// level left its `Gap` status without the end-of-batch flag.
    #[test]
    fn a_continued_gap_that_changes_nothing_ends_its_batch() {
        let mut sync = BookSync::new(
            Venue::BinanceSpot,
            InstrumentId(0),
            GapPolicy::Continue,
            SyncLimits::default(),
        );
        sync.start_without_snapshot();
        let mut book = Ladder::new(BookSpec::new(1));
        let mut batch = EventBatch::with_capacity(16);
        let held = [Level {
            price: Price(100),
            qty: Qty(5),
        }];
        assert_eq!(
            sync.handle_diff(&diff(1, 2, &held), &mut book, &mut batch, 0),
            DiffOutcome::Applied
        );
        batch.clear();
        let absent = [Level {
            price: Price(90),
            qty: Qty(0),
        }];
        let outcome = sync.handle_diff(&diff(5, 6, &absent), &mut book, &mut batch, 0);
        assert_eq!(
            outcome,
            DiffOutcome::Gap {
                expected: 3,
                got: 5
            }
        );
        let last = batch.events().last().copied().expect("the gap is staged");
        assert_eq!(last.status_code(), Some(StatusCode::Gap));
        assert!(last.end_of_batch());
    }
}
