//! Binance's order-book sync rules, one [`Bridge`] per instrument on top of
//! the shared [`SyncCore`]: the pre-snapshot buffer and the rules that bridge
//! a REST snapshot to the diff stream. Sans-IO: diffs, snapshots and `now`
//! come in; book updates, staged events and "fetch a snapshot" requests come
//! out (through the core).
//!
//! Call order: [`SyncCore::request_snapshot`] once the stream is subscribed;
//! then for every frame [`Bridge::handle_diff`]; whenever
//! [`SyncCore::take_snapshot_request`] says so, fetch the REST snapshot and
//! feed it to [`Bridge::handle_snapshot`] (or [`SyncCore::snapshot_failed`]).
//! [`BookSync`] pairs the two for one instrument on its own.
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
//! and the machine starts over from buffering, keeping the diff that broke
//! the chain (it may follow the next snapshot). With [`GapPolicy::Continue`],
//! used by `tickwire replay`, the gap is reported and the diff applied on
//! top of the book as it is.

use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};

use super::msg::{DepthSnapshot, DepthUpdate};
use crate::book::{BookApply, BookRead, Level};
use crate::ring::EventBatch;
use crate::types::{InstrumentId, Nanos, ResyncReason, Venue};
pub use crate::venue::sync::{DiffOutcome, GapPolicy, SnapshotOutcome, SyncCore};

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

impl Header {
    fn of(d: &DepthUpdate<'_>, recv_ns: Nanos) -> Header {
        Header {
            first_id: d.first_id,
            final_id: d.final_id,
            prev_final_id: d.prev_final_id,
            exch_ns: d.exch_ns(),
            recv_ns,
            bids: d.bids.len() as u32,
            asks: d.asks.len() as u32,
        }
    }
}

/// What the rules make of a diff against a synced book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Apply,
    Stale,
    Gap { expected: u64, got: u64 },
}

/// Binance's per-instrument rules: the diffs buffered until the REST
/// snapshot, and how a snapshot is bridged to them. The book's state is in
/// the [`SyncCore`] passed to every call.
#[derive(Debug)]
pub struct Bridge {
    dialect: Dialect,
    diffs: VecDeque<Header>,
    /// The buffered diffs' levels, in order: each diff's bids, then its asks.
    levels: Vec<Level>,
    limits: SyncLimits,
}

impl Bridge {
    /// The rules of `venue`, with an empty buffer of `limits`.
    pub fn new(venue: Venue, limits: SyncLimits) -> Bridge {
        Bridge {
            dialect: Dialect::of(venue),
            diffs: VecDeque::with_capacity(limits.buffer_diffs),
            levels: Vec::with_capacity(limits.buffer_levels),
            limits,
        }
    }

    /// Forgets every buffered diff (the connection they came on is gone).
    pub fn clear(&mut self) {
        self.diffs.clear();
        self.levels.clear();
    }

    /// Discards the book and the buffer, and starts over (see [`SyncCore::resync`]).
    pub fn resync<B: BookApply>(
        &mut self,
        core: &mut SyncCore,
        reason: ResyncReason,
        book: &mut B,
        batch: &mut EventBatch,
        now: Nanos,
    ) {
        self.clear();
        core.resync(reason, book, batch, now);
    }

    /// Handles one diff. Its events (if applied) are staged in `batch`, the
    /// last one flagged end-of-batch. `validated`: the caller knows that
    /// `book.validate` accepts every level of `d`, so the all-or-nothing
    /// check before applying is skipped.
    #[inline]
    pub fn handle_diff<B: BookApply + BookRead>(
        &mut self,
        core: &mut SyncCore,
        d: &DepthUpdate<'_>,
        book: &mut B,
        batch: &mut EventBatch,
        recv_ns: Nanos,
        validated: bool,
    ) -> DiffOutcome {
        let h = Header::of(d, recv_ns);
        if core.is_waiting() {
            self.buffer(core, h, d.bids, d.asks);
            // Binance: open the stream, then fetch the snapshot.
            core.request_snapshot();
            return DiffOutcome::Buffered;
        }
        let stamp = core.stamp(h.final_id, h.exch_ns, recv_ns);
        let Some(last_id) = core.last_id() else {
            // Unanchored (replay without a snapshot): the first diff starts the chain.
            return core.apply_update(stamp, h.final_id, d.bids, d.asks, book, batch, validated);
        };
        match self.verdict(&h, last_id, core.is_bridging()) {
            Verdict::Apply => {
                core.apply_update(stamp, h.final_id, d.bids, d.asks, book, batch, validated)
            }
            Verdict::Stale => core.stale(),
            Verdict::Gap { expected, got } => {
                let gap = core.gap(expected, got, stamp, book, batch);
                if core.policy() == GapPolicy::Resync {
                    // The diff that broke the chain may follow the next snapshot.
                    self.clear();
                    self.buffer(core, h, d.bids, d.asks);
                    return gap;
                }
                // GapPolicy::Continue: reported; now applied on top. The Gap
                // status ends the batch when the diff staged nothing after it.
                let applied =
                    core.apply_update(stamp, h.final_id, d.bids, d.asks, book, batch, validated);
                batch.end_batch();
                match applied {
                    DiffOutcome::BadUpdate(e) => DiffOutcome::BadUpdate(e),
                    _ => gap,
                }
            }
        }
    }

    /// Handles a REST snapshot. On success the book holds the snapshot plus
    /// every bridging buffered diff, and one full snapshot of it is staged.
    pub fn handle_snapshot<B: BookApply + BookRead>(
        &mut self,
        core: &mut SyncCore,
        snap: &DepthSnapshot<'_>,
        book: &mut B,
        batch: &mut EventBatch,
        now: Nanos,
    ) -> SnapshotOutcome {
        if !core.is_waiting() {
            core.snapshot_answered();
            return SnapshotOutcome::Ignored;
        }
        let last = snap.last_update_id;
        if let Some(first) = self.diffs.front() {
            let too_old = match self.dialect {
                Dialect::Spot => last.saturating_add(1) < first.first_id,
                Dialect::UsdM => last < first.first_id,
            };
            if too_old {
                core.stats_mut().snapshot_retries += 1;
                core.snapshot_failed();
                return SnapshotOutcome::TooOld;
            }
        }
        if let Err(e) = core.load_levels(last, snap.bids, snap.asks, book) {
            return SnapshotOutcome::BadSnapshot(e);
        }
        // Replay what was buffered, without staging per-diff events: the
        // snapshot staged at the end already shows their result.
        let mut outcome = SnapshotOutcome::Synced;
        let mut offset = 0usize;
        for i in 0..self.diffs.len() {
            let h = self.diffs[i];
            let (nb, na) = (h.bids as usize, h.asks as usize);
            let stamp = core.stamp(h.final_id, h.exch_ns, h.recv_ns);
            let last_id = core.last_id().unwrap_or(last);
            match self.verdict(&h, last_id, core.is_bridging()) {
                Verdict::Stale => {
                    core.stale();
                    offset += nb + na;
                    continue;
                }
                Verdict::Gap { expected, got } => {
                    core.gap(expected, got, stamp, book, batch);
                    if core.policy() == GapPolicy::Resync {
                        // Keep the diffs from the breaking one on; the core started over.
                        self.diffs.drain(..i);
                        self.levels.drain(..offset);
                        core.note_buffered();
                        return SnapshotOutcome::Gap { expected, got };
                    }
                    outcome = SnapshotOutcome::Gap { expected, got };
                }
                Verdict::Apply => {}
            }
            let bids = &self.levels[offset..offset + nb];
            let asks = &self.levels[offset + nb..offset + nb + na];
            if let Err(e) = core.apply_unstaged(bids, asks, book) {
                // Nothing of this snapshot was published; consumers still
                // hear that the book starts over.
                self.clear();
                core.start_over(ResyncReason::BadUpdate, stamp, book, batch);
                return SnapshotOutcome::BadSnapshot(e);
            }
            core.stats_mut().applied += 1;
            core.advance(h.final_id);
            offset += nb + na;
        }
        self.clear();
        match core.publish_snapshot(book, batch, now) {
            SnapshotOutcome::Synced => outcome,
            refused => refused,
        }
    }

    /// The rules for a diff against a book at `last_id` (`bridging`: only
    /// the snapshot is in it so far).
    #[inline]
    fn verdict(&self, h: &Header, last_id: u64, bridging: bool) -> Verdict {
        let gap = |expected: u64, got: u64| Verdict::Gap { expected, got };
        match (self.dialect, bridging) {
            (Dialect::Spot, true) if h.final_id <= last_id => Verdict::Stale,
            // Live, a spot stream only moves forward: a diff that ends
            // before the book's id means the book's id ran ahead of the
            // stream (a lying `u`, a snapshot from the future). Ignoring it
            // as documented for the bridge would freeze the book for good.
            (Dialect::Spot, false) if h.final_id < last_id => {
                gap(last_id.saturating_add(1), h.first_id)
            }
            (Dialect::Spot, _) if h.first_id > last_id.saturating_add(1) => {
                gap(last_id.saturating_add(1), h.first_id)
            }
            (Dialect::UsdM, true) if h.final_id < last_id => Verdict::Stale,
            (Dialect::UsdM, true) if h.first_id > last_id => gap(last_id, h.first_id),
            (Dialect::UsdM, false) if h.prev_final_id != Some(last_id) => {
                gap(last_id, h.prev_final_id.unwrap_or(0))
            }
            _ => Verdict::Apply,
        }
    }

    /// Keeps a diff until the snapshot arrives, dropping the oldest when full.
    fn buffer(&mut self, core: &mut SyncCore, h: Header, bids: &[Level], asks: &[Level]) {
        core.note_buffered();
        let n = (h.bids + h.asks) as usize;
        if n > self.limits.buffer_levels || self.limits.buffer_diffs == 0 {
            // Cannot keep it: keep nothing older either. The snapshot check
            // against the next buffered diff decides whether to fetch again.
            core.stats_mut().buffer_dropped += self.diffs.len() as u64 + 1;
            self.clear();
            return;
        }
        let mut dropped = 0;
        let mut drop_levels = 0;
        while self.diffs.len() >= self.limits.buffer_diffs
            || self.levels.len() - drop_levels + n > self.limits.buffer_levels
        {
            let Some(old) = self.diffs.pop_front() else {
                break;
            };
            drop_levels += (old.bids + old.asks) as usize;
            dropped += 1;
        }
        if drop_levels > 0 {
            self.levels.drain(..drop_levels);
        }
        core.stats_mut().buffer_dropped += dropped;
        self.diffs.push_back(h);
        self.levels.extend_from_slice(bids);
        self.levels.extend_from_slice(asks);
    }
}

/// One Binance instrument's sync on its own: the shared core and
/// Binance's bridge, paired (tests, the simulator's self-check, tools that
/// follow one book). Derefs to the core for its state and counters.
#[derive(Debug)]
pub struct BookSync {
    core: SyncCore,
    bridge: Bridge,
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
            core: SyncCore::new(venue, instrument, policy),
            bridge: Bridge::new(venue, limits),
        }
    }

    /// See [`Bridge::handle_diff`].
    pub fn handle_diff<B: BookApply + BookRead>(
        &mut self,
        d: &DepthUpdate<'_>,
        book: &mut B,
        batch: &mut EventBatch,
        recv_ns: Nanos,
    ) -> DiffOutcome {
        self.bridge
            .handle_diff(&mut self.core, d, book, batch, recv_ns, false)
    }

    /// See [`Bridge::handle_snapshot`].
    pub fn handle_snapshot<B: BookApply + BookRead>(
        &mut self,
        snap: &DepthSnapshot<'_>,
        book: &mut B,
        batch: &mut EventBatch,
        now: Nanos,
    ) -> SnapshotOutcome {
        self.bridge
            .handle_snapshot(&mut self.core, snap, book, batch, now)
    }

    /// See [`Bridge::resync`].
    pub fn resync<B: BookApply>(
        &mut self,
        reason: ResyncReason,
        book: &mut B,
        batch: &mut EventBatch,
        now: Nanos,
    ) {
        self.bridge.resync(&mut self.core, reason, book, batch, now);
    }
}

impl Deref for BookSync {
    type Target = SyncCore;
    fn deref(&self) -> &SyncCore {
        &self.core
    }
}

impl DerefMut for BookSync {
    fn deref_mut(&mut self) -> &mut SyncCore {
        &mut self.core
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::{BookSpec, Ladder};
    use crate::types::{Price, Qty, Scaling, StatusCode};

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
