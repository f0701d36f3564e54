//! Applying a message's levels to a book: all or nothing, one event per
//! level that changed the book, capacity truncation reported.

use super::SyncCore;
use crate::book::{Applied, BookApply, BookError, Level};
use crate::ring::EventBatch;
use crate::types::{Event, Qty, Side, Stamp, StatusCode};

impl SyncCore {
    /// Applies levels and stages their events, all or nothing: every level
    /// is validated first, unless the caller knows they pass (`validated`).
    /// The last staged event ends the batch.
    #[inline]
    pub(super) fn apply_staged<B: BookApply>(
        &mut self,
        stamp: Stamp,
        bids: &[Level],
        asks: &[Level],
        book: &mut B,
        batch: &mut EventBatch,
        validated: bool,
    ) -> Result<(), BookError> {
        debug_assert!(
            !validated
                || bids
                    .iter()
                    .chain(asks)
                    .all(|l| book.validate(l.price, l.qty).is_ok()),
            "levels claimed valid include an invalid one"
        );
        if !validated {
            validate(bids, asks, book)?;
        }
        let start = batch.len();
        for &l in bids {
            self.stage_level(stamp, Side::Bid, l, book, batch)?;
        }
        for &l in asks {
            self.stage_level(stamp, Side::Ask, l, book, batch)?;
        }
        if batch.len() > start {
            batch.end_batch();
        }
        Ok(())
    }

    /// Applies levels without staging events (a snapshot, or updates
    /// replayed into one), all or nothing; counts truncation only.
    pub(crate) fn apply_unstaged<B: BookApply>(
        &mut self,
        bids: &[Level],
        asks: &[Level],
        book: &mut B,
    ) -> Result<(), BookError> {
        validate(bids, asks, book)?;
        for (side, levels) in [(Side::Bid, bids), (Side::Ask, asks)] {
            for (i, l) in levels.iter().enumerate() {
                let applied = book
                    .apply(side, l.price, l.qty)
                    .map_err(|e| e.at(side, i))?;
                self.stats.truncated += u64::from(applied.truncated());
            }
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
                b.push(Event::level(stamp, side, p, Qty(0), 0));
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

/// Every level passes the book's checks (tick, range, sign), or the first
/// that does not is named. Two plain loops: a chained iterator costs a
/// branch per level.
#[inline]
fn validate<B: BookApply>(bids: &[Level], asks: &[Level], book: &B) -> Result<(), BookError> {
    for (i, l) in bids.iter().enumerate() {
        book.validate(l.price, l.qty)
            .map_err(|e| e.at(Side::Bid, i))?;
    }
    for (i, l) in asks.iter().enumerate() {
        book.validate(l.price, l.qty)
            .map_err(|e| e.at(Side::Ask, i))?;
    }
    Ok(())
}
