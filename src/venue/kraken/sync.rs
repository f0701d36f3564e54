//! Kraken's book-sync rules on the shared [`SyncCore`](crate::venue::SyncCore).
//!
//! Kraken numbers nothing: the checksum is the only gap detector.
//!
//! - A `snapshot` replaces the book, whatever the state (after a resync it
//!   is the awaited one: Kraken sends one on every subscribe).
//! - An `update` before the first snapshot: [`DiffOutcome::Waiting`].
//! - An `update` applies every level (qty 0 removes; removing an absent
//!   level is normal), all or nothing, and *then* each side is cut to the
//!   subscribed depth: Kraken sends no delete for a level pushed out of
//!   range. Cutting after the whole message, not while applying it, keeps a
//!   level that leaves scope and comes back within one message (the book's
//!   capacity must exceed the depth by the levels of one message).
//! - The top 10 levels' text is kept in step as each message's levels are
//!   applied ([`TopTexts`]: placed by a binary search over 10 prices,
//!   filled back from below after the cut), so the check renders only the
//!   levels that changed inside the top.
//! - After every snapshot and update the CRC32 of the top 10 asks and bids
//!   must be the venue's; a difference is [`SyncCore::checksum_mismatch`]
//!   (`ChecksumMismatch`, `Resync`, nothing of the message published) and
//!   the session resubscribes that book for a new snapshot.
//!
//! [`SyncCore::checksum_mismatch`]: crate::venue::SyncCore::checksum_mismatch

use super::msg::{BookKind, BookView};
use super::top::TopTexts;
use crate::ring::EventBatch;
use crate::types::{Nanos, Side, Stamp};
use crate::venue::{DiffOutcome, InstrumentBook, SnapshotOutcome};

/// Kraken's per-instrument state beyond the core: the subscribed depth and
/// a message count (Kraken sends no ids; events carry this one).
#[derive(Debug)]
pub struct KrakenBookSync {
    depth: usize,
    messages: u64,
    /// The top 10 levels' digits, kept for the checksum.
    texts: TopTexts,
}

impl KrakenBookSync {
    /// State for a book subscribed at `depth` levels a side. Allocates now.
    pub fn new(depth: u32) -> KrakenBookSync {
        KrakenBookSync {
            depth: depth.max(1) as usize,
            messages: 0,
            texts: TopTexts::new(),
        }
    }

    /// The subscribed depth.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Applies one symbol's part of a `book` frame to `st` under Kraken's
    /// rules, staging its events in `batch` (nothing of a message whose
    /// checksum fails).
    pub fn handle_book(
        &mut self,
        st: &mut InstrumentBook,
        m: &BookView<'_>,
        now: Nanos,
        batch: &mut EventBatch,
    ) -> DiffOutcome {
        match m.kind {
            BookKind::Snapshot => {
                // A new book: its top is ranked from scratch at the check.
                self.texts.invalidate();
                self.messages += 1;
                let seq = self.messages;
                if let Err(e) = st.sync.load_levels(seq, m.bids, m.asks, &mut st.book) {
                    return DiffOutcome::BadUpdate(e);
                }
                st.sync
                    .truncate_unstaged(Side::Bid, self.depth, &mut st.book);
                st.sync
                    .truncate_unstaged(Side::Ask, self.depth, &mut st.book);
                match st.sync.publish_snapshot(&mut st.book, batch, now) {
                    SnapshotOutcome::Synced => {}
                    SnapshotOutcome::BadSnapshot(e) => return DiffOutcome::BadUpdate(e),
                    _ => return DiffOutcome::Stale,
                }
                st.stale_since = None;
                let stamp = st.sync.stamp(seq, m.exch_ns, now);
                self.verify(st, m.checksum, stamp, batch)
            }
            BookKind::Update => {
                if !st.sync.is_synced() {
                    return DiffOutcome::Waiting;
                }
                self.messages += 1;
                let seq = self.messages;
                let stamp = st.sync.stamp(seq, m.exch_ns, now);
                let applied =
                    st.sync
                        .apply_update(stamp, seq, m.bids, m.asks, &mut st.book, batch, false);
                if applied != DiffOutcome::Applied {
                    // Not applied, or the book started over.
                    self.texts.invalidate();
                    return applied;
                }
                self.texts.track(&st.book, Side::Bid, m.bids);
                self.texts.track(&st.book, Side::Ask, m.asks);
                for side in [Side::Bid, Side::Ask] {
                    st.sync
                        .truncate_staged(side, self.depth, stamp, &mut st.book, batch);
                }
                self.verify(st, m.checksum, stamp, batch)
            }
        }
    }

    /// The checksum check after an applied message.
    #[inline]
    fn verify(
        &mut self,
        st: &mut InstrumentBook,
        venue: u32,
        stamp: Stamp,
        batch: &mut EventBatch,
    ) -> DiffOutcome {
        self.texts.settle(&st.book, self.depth);
        let ours = self.texts.crc();
        if ours == venue {
            return DiffOutcome::Applied;
        }
        // The book starts over.
        self.texts.invalidate();
        st.sync.checksum_mismatch(
            i64::from(venue),
            i64::from(ours),
            stamp,
            &mut st.book,
            batch,
        )
    }
}
