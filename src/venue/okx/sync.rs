//! OKX's book-sync rules on the shared [`SyncCore`].
//!
//! - `action: "snapshot"` replaces the book, whatever the state (after a
//!   resync it is the awaited one: OKX sends one on every subscribe).
//! - `action: "update"` before the first snapshot: [`DiffOutcome::Waiting`].
//! - An update chains when `prevSeqId` equals the last `seqId` (when both
//!   are known; frames without them, as before 2023, chain on nothing and
//!   rely on the checksum). `seqId` may jump, and may go backwards after
//!   maintenance, as long as `prevSeqId` chains. `seqId == prevSeqId` is a
//!   heartbeat on an idle book: [`DiffOutcome::Stale`]. A break:
//!   [`SyncCore::gap`].
//! - After every applied message the checksum is verified when sent and
//!   non-zero ([`SyncCore::checksum_mismatch`] on a difference, which
//!   discards what the message staged); absent or 0 is counted as skipped.
//!
//! The book keeps mantissas only; the [`BookSpelling`] kept here beside it
//! holds each level's wire spelling for the checksum, in step with the book:
//! set or removed with each level, pruned of levels the book evicted at
//! capacity, cleared whenever the book is; and each side's top 25 as text,
//! updated with the levels that fall inside it.

use super::checksum::BookSpelling;
use super::msg::{Action, BookMsg};
use crate::book::{BookRead, Ladder};
use crate::ring::EventBatch;
use crate::types::{Nanos, Side, Stamp};
use crate::venue::{DiffOutcome, GapPolicy, InstrumentBook, SnapshotOutcome};

/// OKX's per-instrument state beyond the core: the spellings and the last
/// `seqId`.
#[derive(Debug)]
pub struct OkxBookSync {
    spelling: BookSpelling,
    /// The `seqId` of the last message in the book; `None` before one or
    /// when the venue sends none.
    last_seq: Option<i64>,
}

impl OkxBookSync {
    /// State for a book of `capacity` levels a side. Allocates now.
    pub fn new(capacity: usize) -> OkxBookSync {
        OkxBookSync {
            spelling: BookSpelling::new(capacity),
            last_seq: None,
        }
    }

    /// The spellings of the held levels.
    pub fn spelling(&self) -> &BookSpelling {
        &self.spelling
    }

    /// The last `seqId` applied.
    pub fn last_seq(&self) -> Option<i64> {
        self.last_seq
    }

    /// The book was discarded: forget its spellings and sequence.
    pub fn reset(&mut self) {
        self.spelling.clear();
        self.last_seq = None;
    }

    /// Applies one `books` message to `st` under OKX's rules, staging its
    /// events in `batch` (nothing of a message whose checksum fails).
    pub fn handle_book(
        &mut self,
        st: &mut InstrumentBook,
        m: &BookMsg<'_>,
        now: Nanos,
        batch: &mut EventBatch,
    ) -> DiffOutcome {
        let exch_ns = m.ts_ms.saturating_mul(1_000_000);
        match m.action {
            Action::Snapshot => {
                let seq = m.seq_id.map_or(0, seq_u64);
                self.reset();
                match st
                    .sync
                    .load_snapshot(seq, m.bids, m.asks, &mut st.book, batch, now)
                {
                    SnapshotOutcome::Synced => {}
                    SnapshotOutcome::BadSnapshot(e) => return DiffOutcome::BadUpdate(e),
                    _ => return DiffOutcome::Stale,
                }
                st.stale_since = None;
                self.last_seq = m.seq_id;
                self.track(&st.book, m);
                let stamp = st.sync.stamp(seq, exch_ns, now);
                self.verify(st, m, stamp, batch)
            }
            Action::Update => {
                if !st.sync.is_synced() {
                    return DiffOutcome::Waiting;
                }
                let last_id = m.seq_id.map(seq_u64).or(st.sync.last_id()).unwrap_or(0);
                let stamp = st.sync.stamp(last_id, exch_ns, now);
                let mut outcome = DiffOutcome::Applied;
                if let (Some(prev), Some(last)) = (m.prev_seq_id, self.last_seq) {
                    if prev != last {
                        outcome =
                            st.sync
                                .gap(seq_u64(last), seq_u64(prev), stamp, &mut st.book, batch);
                        if st.sync.policy() == GapPolicy::Resync {
                            self.reset();
                            return outcome;
                        }
                    } else if m.seq_id == Some(prev) {
                        return st.sync.stale();
                    }
                }
                let applied = st.sync.apply_update(
                    stamp,
                    last_id,
                    m.bids,
                    m.asks,
                    &mut st.book,
                    batch,
                    false,
                );
                if applied != DiffOutcome::Applied {
                    if !st.sync.is_synced() {
                        self.reset();
                    }
                    return applied;
                }
                if m.seq_id.is_some() {
                    self.last_seq = m.seq_id;
                }
                self.track(&st.book, m);
                match self.verify(st, m, stamp, batch) {
                    DiffOutcome::Applied => outcome,
                    other => other,
                }
            }
        }
    }

    /// Brings the spellings and the kept top-25 texts in step with the
    /// book after `m` was applied. Per level: the table, and the top when
    /// the level falls inside it (a binary search over 25 keys; a render
    /// for a level inside). Per side: the top filled back from the book
    /// where levels left it. A snapshot, or a message during which the
    /// side may have reached capacity (levels evicted or dropped), renders
    /// the side's top from scratch instead.
    fn track(&mut self, book: &Ladder, m: &BookMsg<'_>) {
        let (ps, qs) = (m.scaling.price, m.scaling.qty);
        let fresh = m.action == Action::Snapshot;
        for (side, levels, spells) in [
            (Side::Bid, m.bids, m.bid_spells),
            (Side::Ask, m.asks, m.ask_spells),
        ] {
            // The side never reached capacity during the message when even
            // undoing all of its levels' removals leaves room: then every
            // non-zero level was kept, and the book need not be asked.
            let kept = book.depth(side) + levels.len() < book.capacity();
            let ranked = kept && !fresh;
            for (level, spell) in levels.iter().zip(spells) {
                // A level the book did not keep (capacity) has no spelling.
                if level.qty.0 == 0 || (!kept && book.qty_at(side, level.price).0 == 0) {
                    self.spelling.remove(side, level.price);
                    if ranked {
                        self.spelling.unrank(side, level.price);
                    }
                    continue;
                }
                if !self.spelling.set(side, *level, *spell) {
                    // Full: drop what the book evicted, then try again.
                    self.spelling.prune(side, |p| book.qty_at(side, p).0 != 0);
                    self.spelling.set(side, *level, *spell);
                }
                if ranked {
                    self.spelling.rank(side, *level, *spell, ps, qs);
                }
            }
            if self.spelling.len(side) > book.depth(side) {
                self.spelling.prune(side, |p| book.qty_at(side, p).0 != 0);
            }
            if ranked {
                self.spelling.settle(side, book, ps, qs);
            } else {
                self.spelling.rerank(side, book, ps, qs);
            }
        }
    }

    /// The checksum check after an applied message.
    fn verify(
        &mut self,
        st: &mut InstrumentBook,
        m: &BookMsg<'_>,
        stamp: Stamp,
        batch: &mut EventBatch,
    ) -> DiffOutcome {
        let venue = match m.checksum {
            None | Some(0) => {
                st.sync.checksum_skipped();
                return DiffOutcome::Applied;
            }
            Some(v) => v,
        };
        // A level without a spelling cannot happen while the table follows
        // the book; if it did, the book cannot be vouched for: a mismatch.
        let ours = self
            .spelling
            .checksum(m.scaling.price, m.scaling.qty)
            .unwrap_or(venue.wrapping_add(1));
        if ours == venue {
            return DiffOutcome::Applied;
        }
        self.reset();
        st.sync.checksum_mismatch(
            i64::from(venue),
            i64::from(ours),
            stamp,
            &mut st.book,
            batch,
        )
    }
}

/// A sequence id as the core's `u64` (OKX's are never negative except the
/// snapshot's `prevSeqId` of -1, which is not used as an id).
#[inline]
fn seq_u64(v: i64) -> u64 {
    v.max(0) as u64
}
