//! Coinbase's book-sync rules on the shared [`SyncCore`].
//!
//! - `sequence_num` is one counter per connection across every channel
//!   (the session checks it before anything else in each frame, see
//!   [`SeqCheck`]); a jump means messages were lost, and since it does not
//!   say whose, every book of the connection starts over ([`gap_all`]).
//! - An `l2_data` `snapshot` event replaces the book, whatever the state.
//!   It is the whole book (tens of thousands of levels a side): the book
//!   keeps its best `book_capacity` levels a side and drops the rest
//!   (counted as truncated); levels deeper than what the book holds are
//!   dropped by later updates too, so the top of the book stays exact.
//! - An `update` event sets levels (`new_quantity` 0 removes); before the
//!   first snapshot it is [`DiffOutcome::Waiting`].
//!
//! [`SyncCore`]: crate::venue::SyncCore

use super::msg::L2Kind;
use crate::book::Level;
use crate::ring::{EventBatch, Publish};
use crate::types::{InstrumentId, Nanos, ResyncReason};
use crate::venue::{DiffOutcome, GapPolicy, InstrumentBook, SnapshotOutcome};

/// The connection's `sequence_num` continuity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeqCheck {
    /// The number the next frame must carry; `None` before the first frame
    /// of a connection.
    next: Option<u64>,
}

impl SeqCheck {
    /// A new connection: the first frame starts the count.
    pub fn reset(&mut self) {
        self.next = None;
    }

    /// Notes `seq`; `Some((expected, got))` when it is not the next one.
    #[inline]
    pub fn check(&mut self, seq: u64) -> Option<(u64, u64)> {
        let expected = self.next;
        self.next = Some(seq.wrapping_add(1));
        match expected {
            Some(e) if e != seq => Some((e, seq)),
            _ => None,
        }
    }

    /// The number the next frame must carry.
    pub fn expected(&self) -> Option<u64> {
        self.next
    }
}

/// Applies one `l2_data` event to `st`, staging its events in `batch`.
#[allow(clippy::too_many_arguments)] // the event's parts as the session has them
pub fn apply_event(
    st: &mut InstrumentBook,
    kind: L2Kind,
    bids: &[Level],
    asks: &[Level],
    seq: u64,
    exch_ns: Nanos,
    now: Nanos,
    batch: &mut EventBatch,
) -> DiffOutcome {
    match kind {
        L2Kind::Snapshot => {
            match st
                .sync
                .load_snapshot(seq, bids, asks, &mut st.book, batch, now)
            {
                SnapshotOutcome::Synced => {
                    st.stale_since = None;
                    DiffOutcome::Applied
                }
                SnapshotOutcome::BadSnapshot(e) => DiffOutcome::BadUpdate(e),
                _ => DiffOutcome::Stale,
            }
        }
        L2Kind::Update => {
            if !st.sync.is_synced() {
                return DiffOutcome::Waiting;
            }
            let stamp = st.sync.stamp(seq, exch_ns, now);
            st.sync
                .apply_update(stamp, seq, bids, asks, &mut st.book, batch, false)
        }
    }
}

/// A `sequence_num` jump: every book of `ids` gets `Gap` (`a` = expected,
/// `b` = got) and `Resync`, is cleared, and wants a snapshot (a snapshot
/// awaited may have been among the lost messages: it is asked for again).
/// Under [`GapPolicy::Continue`] (replay) the book is cleared too: replay
/// carries on from the product's next snapshot.
#[allow(clippy::too_many_arguments)] // the connection's books and where events go
pub fn gap_all<P: Publish>(
    ids: &[InstrumentId],
    books: &mut [InstrumentBook],
    expected: u64,
    got: u64,
    exch_ns: Nanos,
    now: Nanos,
    batch: &mut EventBatch,
    out: &mut P,
) {
    for id in ids {
        let Some(st) = books.get_mut(id.index()) else {
            continue;
        };
        batch.clear();
        if st.sync.snapshot_in_flight() {
            st.sync.snapshot_failed();
        }
        let stamp = st.sync.stamp(got, exch_ns, now);
        st.sync.gap(expected, got, stamp, &mut st.book, batch);
        if st.sync.policy() == GapPolicy::Continue {
            st.sync
                .start_over(ResyncReason::Gap, stamp, &mut st.book, batch);
        }
        st.stale_since = None;
        out.publish(batch, st.state(now), now);
    }
}
