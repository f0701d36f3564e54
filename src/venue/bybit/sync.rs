//! Bybit's book-sync rules on the shared [`SyncCore`].
//!
//! Bybit sends its snapshots on the stream: after subscribing, one
//! `snapshot`, then `delta`s whose `u` goes up by exactly one. So:
//!
//! - a `snapshot` (the first after subscribing, or any later one), or any
//!   message with `u == 1` (the venue's reset after a service restart),
//!   replaces the whole book. Replacing a live book mid-stream first stages
//!   a `Resync` (reason [`ResyncReason::VenueReset`]) so consumers know the
//!   book they hold was thrown away, then the new snapshot;
//! - a `delta` must carry `u == previous u + 1`: a lower or equal `u` is
//!   already in the book (stale); a higher one is a gap (under
//!   [`GapPolicy::Resync`](crate::venue::GapPolicy) the book starts over and
//!   a snapshot is wanted, which the session gets by resubscribing);
//! - a `delta` before any snapshot is dropped (`Waiting`): the snapshot comes
//!   on the stream. If none is on its way (it was lost), one is requested.
//!   Replaying without one ([`SyncCore::start_without_snapshot`]), the first
//!   delta starts the chain.
//!
//! `orderbook.1` is a best bid/offer, not a book: it never comes here.

use super::msg::BookMsg;
use crate::book::{BookApply, BookRead};
use crate::ring::EventBatch;
use crate::types::{Nanos, ResyncReason};
use crate::venue::{DiffOutcome, SnapshotOutcome, SyncCore};

/// Applies one book message to `book` under Bybit's rules, staging its
/// events in `batch`. `now` is the receive time.
#[inline]
pub fn handle_book<B: BookApply + BookRead>(
    core: &mut SyncCore,
    msg: &BookMsg<'_>,
    book: &mut B,
    batch: &mut EventBatch,
    now: Nanos,
) -> DiffOutcome {
    if msg.replaces_book() {
        return replace(core, msg, book, batch, now);
    }
    let stamp = core.stamp(msg.update_id, msg.exch_ns(), now);
    let u = msg.update_id;
    match core.last_id() {
        Some(last) if u == last.wrapping_add(1) => {
            core.apply_update(stamp, u, msg.bids, msg.asks, book, batch, false)
        }
        Some(last) if u <= last => core.stale(),
        Some(last) => {
            let gap = core.gap(last + 1, u, stamp, book, batch);
            if core.is_synced() {
                // Continue: reported, and applied on top.
                core.apply_update(stamp, u, msg.bids, msg.asks, book, batch, false);
            }
            gap
        }
        None if core.is_unanchored() => {
            core.apply_update(stamp, u, msg.bids, msg.asks, book, batch, false)
        }
        None => {
            // Deltas flow but no snapshot is on its way (it was lost): ask
            // for one; the session resubscribes.
            if !core.snapshot_in_flight() {
                core.request_snapshot();
            }
            DiffOutcome::Waiting
        }
    }
}

/// A snapshot or `u == 1`: the whole book is replaced.
#[cold]
fn replace<B: BookApply + BookRead>(
    core: &mut SyncCore,
    msg: &BookMsg<'_>,
    book: &mut B,
    batch: &mut EventBatch,
    now: Nanos,
) -> DiffOutcome {
    if core.is_synced() {
        core.resync(ResyncReason::VenueReset, book, batch, now);
    }
    match core.load_snapshot(msg.update_id, msg.bids, msg.asks, book, batch, now) {
        SnapshotOutcome::Synced => DiffOutcome::Applied,
        SnapshotOutcome::BadSnapshot(e) => DiffOutcome::BadUpdate(e),
        SnapshotOutcome::Gap { expected, got } => DiffOutcome::Gap { expected, got },
        SnapshotOutcome::TooOld | SnapshotOutcome::Ignored => DiffOutcome::Stale,
    }
}
