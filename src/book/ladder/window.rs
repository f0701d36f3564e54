//! Moving a ladder side's tick window and scanning its occupancy bitmap:
//! the `Half` methods that walk the window rather than touch one slot.

use super::Half;
use crate::book::far::PoolExhausted;

impl Half {
    /// Moves the window up to start at `new_lo > lo`, pushing the levels
    /// that leave it onto the far list. Cost is proportional to the
    /// distance moved and the levels moved, not to the window width. On
    /// [`PoolExhausted`] levels have moved: the caller clears the side.
    pub(super) fn recenter_up(&mut self, new_lo: i64) -> Result<(), PoolExhausted> {
        debug_assert!(new_lo > self.lo);
        // Keys [lo, new_lo) leave the window; they are above every far key.
        let end = new_lo.min(self.lo + self.width) - 1;
        let mut from = self.lo;
        while from <= end {
            let Some(k) = self.lowest_set(from, end) else {
                break;
            };
            let s = self.slot(k);
            self.far.push_last(k, self.slots[s])?;
            self.slots[s] = 0;
            self.clear_bit(s);
            self.in_window -= 1;
            from = k + 1;
        }
        self.lo = new_lo;
        Ok(())
    }

    /// Moves the window down to start at `new_lo < lo`, pulling the far
    /// levels it now covers into it (no block is needed).
    pub(super) fn recenter_down(&mut self, new_lo: i64) {
        debug_assert!(new_lo < self.lo);
        // Everything held is at or below the best, which stays below new_lo + width.
        debug_assert!(self.in_window == 0 || self.best < new_lo + self.width);
        while let Some((k, q)) = self.far.last() {
            if k < new_lo {
                break;
            }
            self.far.pop_last();
            let s = self.slot(k);
            self.slots[s] = q;
            self.set_bit(s);
            self.in_window += 1;
        }
        self.lo = new_lo;
    }

    /// Highest held window key in `[low, high]` (a span of at most `width`).
    #[inline]
    pub(super) fn highest_set(&self, high: i64, low: i64) -> Option<i64> {
        if high < low {
            return None;
        }
        let mut remaining = (high - low + 1).min(self.width) as usize;
        let mut key = high;
        while remaining > 0 {
            let s = self.slot(key);
            let bit = s & 63;
            let span = (bit + 1).min(remaining);
            let mask = (u64::MAX >> (63 - bit)) & (u64::MAX << (bit + 1 - span));
            let word = self.bits[s >> 6] & mask;
            if word != 0 {
                let top = 63 - word.leading_zeros() as usize;
                return Some(key - (bit - top) as i64);
            }
            key -= span as i64;
            remaining -= span;
        }
        None
    }

    /// Lowest held window key in `[low, high]` (a span of at most `width`).
    #[inline]
    pub(super) fn lowest_set(&self, low: i64, high: i64) -> Option<i64> {
        if high < low {
            return None;
        }
        let mut remaining = (high - low + 1).min(self.width) as usize;
        let mut key = low;
        while remaining > 0 {
            let s = self.slot(key);
            let bit = s & 63;
            let span = (64 - bit).min(remaining);
            let mask = (u64::MAX << bit) & (u64::MAX >> (64 - bit - span));
            let word = self.bits[s >> 6] & mask;
            if word != 0 {
                let low_bit = word.trailing_zeros() as usize;
                return Some(key + (low_bit - bit) as i64);
            }
            key += span as i64;
            remaining -= span;
        }
        None
    }
}
