//! Cutting a side back to a subscribed depth, for venues that stream a
//! book of a fixed depth and send no deletes for levels that fall out of
//! it (Kraken). Done after a whole message has been applied, never while
//! it is: a message can insert a better level and delete another, and a
//! level evicted midway could be one that is back in scope at its end.

use super::SyncCore;
use crate::book::{BookApply, BookRead};
use crate::ring::EventBatch;
use crate::types::{Event, Price, Qty, Side, Stamp};

/// Prices removed per pass over the kept levels (a stack buffer: the usual
/// message pushes out a level or two).
const CHUNK: usize = 32;

impl SyncCore {
    /// Removes every level of `side` beyond the best `depth`, staging a
    /// removal event for each (the consumers' books follow). Returns how
    /// many were removed. Allocates nothing.
    pub fn truncate_staged<B: BookApply + BookRead>(
        &mut self,
        side: Side,
        depth: usize,
        stamp: Stamp,
        book: &mut B,
        batch: &mut EventBatch,
    ) -> usize {
        let start = batch.len();
        if book.depth(side) > depth {
            batch.reopen_batch();
        }
        let removed = cut(side, depth, book, |p| {
            batch.push(Event::level(stamp, side, p, Qty(0), 0));
        });
        if batch.len() > start {
            batch.end_batch();
        }
        removed
    }

    /// As [`truncate_staged`](Self::truncate_staged), without events (a
    /// snapshot being loaded, staged whole afterwards).
    pub fn truncate_unstaged<B: BookApply + BookRead>(
        &mut self,
        side: Side,
        depth: usize,
        book: &mut B,
    ) -> usize {
        cut(side, depth, book, |_| {})
    }
}

fn cut<B: BookApply + BookRead>(
    side: Side,
    depth: usize,
    book: &mut B,
    mut removed: impl FnMut(Price),
) -> usize {
    let mut total = 0;
    while book.depth(side) > depth {
        let mut out = [Price(0); CHUNK];
        let mut n = 0;
        for (slot, l) in out.iter_mut().zip(book.levels(side).skip(depth)) {
            *slot = l.price;
            n += 1;
        }
        if n == 0 {
            break;
        }
        for &p in &out[..n] {
            // Held levels are on the tick grid: removal cannot fail.
            if book.apply(side, p, Qty(0)).is_ok() {
                removed(p);
                total += 1;
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::{BookSpec, Ladder};
    use crate::types::{InstrumentId, Venue};
    use crate::venue::GapPolicy;

    #[test]
    fn cuts_each_side_to_depth_and_reports_the_removals() {
        let mut core = SyncCore::new(Venue::Kraken, InstrumentId(0), GapPolicy::Resync);
        let mut book = Ladder::new(BookSpec::new(1).with_capacity(200));
        for i in 0..100 {
            book.apply(Side::Bid, Price(1_000 - i), Qty(1)).unwrap();
            book.apply(Side::Ask, Price(2_000 + i), Qty(1)).unwrap();
        }
        let mut batch = EventBatch::with_capacity(256);
        let stamp = core.stamp(0, 0, 0);
        assert_eq!(
            core.truncate_staged(Side::Bid, 10, stamp, &mut book, &mut batch),
            90
        );
        assert_eq!(batch.len(), 90);
        assert_eq!(book.depth(Side::Bid), 10);
        assert_eq!(book.levels(Side::Bid).last().unwrap().price, Price(991));
        assert_eq!(core.truncate_unstaged(Side::Ask, 25, &mut book), 75);
        assert_eq!(book.levels(Side::Ask).last().unwrap().price, Price(2_024));
        assert_eq!(core.truncate_unstaged(Side::Ask, 25, &mut book), 0);
    }
}
