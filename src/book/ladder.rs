//! The production book layout: a tick-indexed circular window per side with a
//! sorted, blocked overflow (`far::FarList`) for levels far from the best price.
//!
//! Each side works on *keys* where a larger key is a better price (bids:
//! `price / tick`, asks: `-price / tick`), so one [`Half`] serves both.
//!
//! Invariants of a `Half` (checked by `debug_assert`s and the property tests):
//! * the window covers keys `[lo, lo + width)`; key `k` lives in slot
//!   `k & (width - 1)`; a slot's quantity is 0 exactly when its bit is clear;
//! * every far level has a key `< lo` (far levels are worse than the window);
//! * a non-empty side always holds its best level in the window, and `best`
//!   is the highest key held;
//! * nothing is ever held at a key `>= lo + width`.
//!
//! Should a far list's block pool run dry (it is sized so that it cannot;
//! see `far`), the update fails with [`BookError::PoolExhausted`] and that
//! side is cleared: never a wrong book; the caller resyncs.

use super::far::{FarCursor, FarList, Find, PoolExhausted, Spot};
use super::{Applied, BookApply, BookError, BookRead, BookSpec, Level, LevelAt, tick_index};
use crate::types::{Price, Qty, Side};

mod window;

/// Tick-window order book with fixed capacity. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct Ladder {
    tick: i64,
    bids: Half,
    asks: Half,
}

impl Ladder {
    /// A book for `spec`: allocates everything it will ever use now.
    pub fn new(spec: BookSpec) -> Ladder {
        let capacity = spec.capacity.max(1);
        Ladder::with_far(spec, || FarList::new(capacity))
    }

    /// A book for `spec` whose far lists get pools of `blocks` blocks of 64
    /// levels each, whatever the capacity: for tests of a pool that runs
    /// dry ([`BookError::PoolExhausted`]).
    #[doc(hidden)]
    pub fn with_far_blocks(spec: BookSpec, blocks: usize) -> Ladder {
        Ladder::with_far(spec, || FarList::with_blocks(blocks))
    }

    fn with_far(spec: BookSpec, far: impl Fn() -> FarList) -> Ladder {
        let width = spec.window.max(64).next_power_of_two();
        let capacity = spec.capacity.max(1);
        Ladder {
            tick: spec.tick.max(1),
            bids: Half::new(width, capacity, far()),
            asks: Half::new(width, capacity, far()),
        }
    }

    /// Width of the tick window, in ticks (a power of two).
    pub fn window(&self) -> usize {
        self.bids.width as usize
    }

    /// Maximum levels per side.
    pub fn capacity(&self) -> usize {
        self.bids.capacity
    }

    #[inline]
    fn half(&self, side: Side) -> &Half {
        match side {
            Side::Bid => &self.bids,
            Side::Ask => &self.asks,
        }
    }

    #[inline]
    fn to_key(&self, side: Side, price: Price) -> Result<i64, BookError> {
        let ti = tick_index(price, self.tick)?;
        Ok(match side {
            Side::Bid => ti,
            Side::Ask => -ti,
        })
    }

    #[inline]
    fn to_price(tick: i64, side: Side, key: i64) -> Price {
        match side {
            Side::Bid => Price(key * tick),
            Side::Ask => Price(-key * tick),
        }
    }

    /// Quantity held at `price` (0 when absent or off-tick).
    pub fn qty_at(&self, side: Side, price: Price) -> Qty {
        match self.to_key(side, price) {
            Ok(k) => Qty(self.half(side).get(k)),
            Err(_) => Qty(0),
        }
    }

    /// Levels of one side, best first, without boxing.
    pub fn iter(&self, side: Side) -> LadderIter<'_> {
        let half = self.half(side);
        LadderIter {
            half,
            side,
            tick: self.tick,
            cursor: if half.in_window > 0 {
                Some(half.best)
            } else {
                None
            },
            far: half.far.cursor_back(),
        }
    }

    /// Levels of one side strictly worse than `price`, best first, without
    /// walking the better ones (`price` need not be held; off the tick
    /// grid: none).
    pub fn iter_below(&self, side: Side, price: Price) -> LadderIter<'_> {
        let half = self.half(side);
        let (cursor, far) = match self.to_key(side, price) {
            Ok(key) => (
                (half.in_window > 0 && key > half.lo).then(|| (key - 1).min(half.best)),
                half.far.cursor_below(key),
            ),
            Err(_) => (None, half.far.cursor_below(i64::MIN)),
        };
        LadderIter {
            half,
            side,
            tick: self.tick,
            cursor,
            far,
        }
    }

    /// Checks every internal invariant; used by tests.
    #[doc(hidden)]
    pub fn check_invariants(&self) {
        self.bids.check();
        self.asks.check();
    }
}

impl BookRead for Ladder {
    #[inline]
    fn best_bid(&self) -> Option<Level> {
        self.bids.best_level().map(|(k, q)| Level {
            price: Ladder::to_price(self.tick, Side::Bid, k),
            qty: Qty(q),
        })
    }

    #[inline]
    fn best_ask(&self) -> Option<Level> {
        self.asks.best_level().map(|(k, q)| Level {
            price: Ladder::to_price(self.tick, Side::Ask, k),
            qty: Qty(q),
        })
    }

    fn depth(&self, side: Side) -> usize {
        self.half(side).len()
    }

    fn levels(&self, side: Side) -> impl Iterator<Item = Level> + '_ {
        self.iter(side)
    }
}

impl BookApply for Ladder {
    // Always inlined: the caller's match on the outcome folds into the
    // branch-free window write instead of going through memory.
    #[inline(always)]
    fn apply(&mut self, side: Side, price: Price, qty: Qty) -> Result<Applied, BookError> {
        if qty.0 < 0 {
            return Err(BookError::NegativeQty {
                qty: qty.0,
                at: super::LevelAt::default(),
            });
        }
        let key = self.to_key(side, price)?;
        let half = match side {
            Side::Bid => &mut self.bids,
            Side::Ask => &mut self.asks,
        };
        match half.set(key, qty.0) {
            Ok(Applied::Evicted(k)) => Ok(Applied::Evicted(Ladder::to_price(self.tick, side, k.0))),
            Ok(other) => Ok(other),
            Err(PoolExhausted) => Err(BookError::PoolExhausted {
                at: LevelAt::default(),
            }),
        }
    }

    fn tick(&self) -> i64 {
        self.tick
    }

    fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }
}

/// Best-first iterator over one side of a [`Ladder`].
#[derive(Debug)]
pub struct LadderIter<'a> {
    half: &'a Half,
    side: Side,
    tick: i64,
    /// Next window key to look at (inclusive), `None` once the window is done.
    cursor: Option<i64>,
    /// Far levels not yet yielded (they are yielded from the back).
    far: FarCursor,
}

impl Iterator for LadderIter<'_> {
    type Item = Level;

    #[inline]
    fn next(&mut self) -> Option<Level> {
        if let Some(from) = self.cursor {
            match self.half.highest_set(from, self.half.lo) {
                Some(k) => {
                    self.cursor = if k > self.half.lo { Some(k - 1) } else { None };
                    let q = self.half.slots[self.half.slot(k)];
                    return Some(Level {
                        price: Ladder::to_price(self.tick, self.side, k),
                        qty: Qty(q),
                    });
                }
                None => self.cursor = None,
            }
        }
        let (k, q) = self.half.far.next_back(&mut self.far)?;
        Some(Level {
            price: Ladder::to_price(self.tick, self.side, k),
            qty: Qty(q),
        })
    }
}

/// One side of the ladder, keyed so that larger is better.
#[derive(Debug, Clone)]
struct Half {
    /// Quantity per window slot; 0 = empty. Length `width`.
    slots: Box<[i64]>,
    /// One occupancy bit per slot.
    bits: Box<[u64]>,
    /// Window width (power of two).
    width: i64,
    /// Lowest key of the window. Only meaningful while the side is non-empty.
    lo: i64,
    /// Levels held in the window.
    in_window: usize,
    /// Levels below the window, ascending by key (best far level at the back).
    /// Pre-sized to `capacity`; it never grows past it.
    far: FarList,
    /// Highest key held; valid while `in_window > 0`.
    best: i64,
    /// Maximum levels held (window + far).
    capacity: usize,
}

impl Half {
    fn new(width: usize, capacity: usize, far: FarList) -> Half {
        Half {
            slots: vec![0; width].into_boxed_slice(),
            bits: vec![0; width / 64].into_boxed_slice(),
            width: width as i64,
            lo: 0,
            in_window: 0,
            far,
            best: 0,
            capacity,
        }
    }

    #[inline]
    fn len(&self) -> usize {
        self.in_window + self.far.len()
    }

    #[inline]
    fn slot(&self, key: i64) -> usize {
        (key & (self.width - 1)) as usize
    }

    /// Headroom above the best price when the window is placed.
    #[inline]
    fn margin(&self) -> i64 {
        self.width / 4
    }

    #[inline]
    fn in_window(&self, key: i64) -> bool {
        self.len() > 0 && key >= self.lo && key < self.lo + self.width
    }

    #[inline]
    fn best_level(&self) -> Option<(i64, i64)> {
        if self.in_window == 0 {
            return None;
        }
        Some((self.best, self.slots[self.slot(self.best)]))
    }

    fn get(&self, key: i64) -> i64 {
        if self.in_window(key) {
            self.slots[self.slot(key)]
        } else if self.len() > 0 && key < self.lo {
            self.far.get(key).unwrap_or(0)
        } else {
            0
        }
    }

    #[inline]
    fn set_bit(&mut self, slot: usize) {
        self.bits[slot >> 6] |= 1u64 << (slot & 63);
    }

    #[inline]
    fn clear_bit(&mut self, slot: usize) {
        self.bits[slot >> 6] &= !(1u64 << (slot & 63));
    }

    /// Sets `key` to `qty` (0 removes). Inside the window this is a slot
    /// write with branch-free bookkeeping: whether a level is inserted,
    /// updated or removed depends on the data, so branching on it would
    /// mispredict often. Always inlined (the caller's match on the outcome
    /// then folds into it); everything else is out of line in `set_slow`.
    #[inline(always)]
    fn set(&mut self, key: i64, qty: i64) -> Result<Applied, PoolExhausted> {
        // Every field read once, before any store: the stores go through
        // pointers the compiler cannot tell apart from `self`, so reads
        // after them would be reloads.
        let (lo, best, in_window) = (self.lo, self.best, self.in_window);
        let room = self.capacity.wrapping_sub(in_window + self.far.len()) as u64;
        // One unsigned compare covers `lo <= key < lo + width`.
        let in_range = (key.wrapping_sub(lo) as u64) < self.width as u64;
        // `slots.len() == width`: masking with the slice's own length lets
        // the compiler see the index is in bounds.
        let s = (key as usize) & self.slots.len().wrapping_sub(1);
        if in_range & (in_window > 0) {
            let old = self.slots[s];
            let (had, has) = (old != 0, qty != 0);
            // A new level (`old == 0`, `qty != 0`) with no room left may
            // evict. Written as one compare of an integer: LLVM splits a
            // chain of `&&` or `&` into branches, and the ones on `old` and
            // `qty` are data-dependent (they would mispredict).
            if (room | old as u64 | u64::from(!has)) != 0 {
                self.slots[s] = qty;
                let (word, bit) = (s >> 6, 1u64 << (s & 63));
                if let Some(w) = self.bits.get_mut(word) {
                    *w = (*w & !bit) | (bit & 0u64.wrapping_sub(u64::from(has)));
                }
                self.in_window = in_window + usize::from(has) - usize::from(had);
                let new_best = if has & (key > best) { key } else { best };
                self.best = new_best;
                // The best level was removed: `key == best && old != 0 &&
                // qty == 0` as one compare of an integer, so it stays a
                // single rarely-taken branch.
                if ((key ^ new_best) | qty | i64::from(old == 0)) == 0 {
                    self.after_best_removed();
                }
                return Ok(if has {
                    Applied::Set
                } else if had {
                    Applied::Removed
                } else {
                    Applied::Absent
                });
            }
        }
        self.set_slow(key, qty)
    }

    /// Outside the window, the first level of an empty side, or a new level
    /// at capacity. On [`PoolExhausted`] the side has been cleared.
    #[cold]
    #[inline(never)]
    fn set_slow(&mut self, key: i64, qty: i64) -> Result<Applied, PoolExhausted> {
        if qty == 0 {
            return Ok(self.remove(key));
        }
        if self.len() > 0 && key < self.lo {
            return self.set_far(key, qty);
        }
        // Existing level: overwrite in place.
        if self.in_window(key) {
            let s = self.slot(key);
            if self.slots[s] != 0 {
                self.slots[s] = qty;
                return Ok(Applied::Set);
            }
        }
        // New level.
        let mut outcome = Applied::Set;
        if self.len() >= self.capacity {
            let worst = self.worst();
            if key < worst {
                return Ok(Applied::Dropped);
            }
            self.remove(worst);
            // Carries the evicted *key*; `Ladder::apply` turns it into a price.
            outcome = Applied::Evicted(Price(worst));
        }
        if let Err(e) = self.insert_new(key, qty) {
            self.clear();
            return Err(e);
        }
        Ok(outcome)
    }

    /// A level below the window of a non-empty side: one search of the far
    /// list, then an update in place, an insert (evicting the worst level
    /// at capacity) or a drop.
    #[inline]
    fn set_far(&mut self, key: i64, qty: i64) -> Result<Applied, PoolExhausted> {
        let at = match self.far.find(key) {
            Find::Held(at) => {
                self.far.set_at(at, qty);
                return Ok(Applied::Set);
            }
            Find::Vacant(at) => at,
        };
        if self.len() < self.capacity {
            self.far_insert(at, key, qty)?;
            return Ok(Applied::Set);
        }
        // Full. `key` is below the window, so the worst level is the far
        // list's first (with no far level, every held one is above `key`).
        match self.far.first() {
            Some(worst) if worst < key => {
                // Inserted before the worst leaves, so `at` is still valid
                // (the pool has room for one level over the capacity).
                self.far_insert(at, key, qty)?;
                self.far.pop_first();
                Ok(Applied::Evicted(Price(worst)))
            }
            _ => Ok(Applied::Dropped),
        }
    }

    /// Inserts into the far list at a vacant spot; clears the side when the
    /// pool is dry.
    #[inline]
    fn far_insert(&mut self, at: Spot, key: i64, qty: i64) -> Result<(), PoolExhausted> {
        let r = self.far.insert_at(at, key, qty);
        if r.is_err() {
            self.clear();
        }
        r
    }

    /// Inserts a key known to be absent, with room for it. On
    /// [`PoolExhausted`] levels may have moved: the caller clears the side.
    #[inline]
    fn insert_new(&mut self, key: i64, qty: i64) -> Result<(), PoolExhausted> {
        if self.len() == 0 {
            // Every slot is clear when the side is empty.
            self.lo = key - (self.width - self.margin());
        } else if key >= self.lo + self.width {
            self.recenter_up(key - (self.width - self.margin()))?;
        }
        if key >= self.lo {
            let s = self.slot(key);
            debug_assert_eq!(self.slots[s], 0);
            self.slots[s] = qty;
            self.set_bit(s);
            if self.in_window == 0 || key > self.best {
                self.best = key;
            }
            self.in_window += 1;
        } else {
            // Below the window, hence below the best: the best is unchanged.
            self.far.insert(key, qty)?;
        }
        Ok(())
    }

    #[inline]
    fn remove(&mut self, key: i64) -> Applied {
        if self.len() == 0 || key >= self.lo + self.width {
            return Applied::Absent;
        }
        if key < self.lo {
            return if self.far.remove(key) {
                Applied::Removed
            } else {
                Applied::Absent
            };
        }
        let s = self.slot(key);
        if self.slots[s] == 0 {
            return Applied::Absent;
        }
        self.slots[s] = 0;
        self.clear_bit(s);
        self.in_window -= 1;
        if key == self.best {
            self.after_best_removed();
        }
        Applied::Removed
    }

    /// Finds the new best after the best level went away, and keeps the best
    /// inside the window (pulling far levels in when the window runs dry).
    #[cold]
    fn after_best_removed(&mut self) {
        if self.in_window > 0 {
            // Found: in_window > 0 means a set bit exists in [lo, best).
            self.best = self.highest_set(self.best - 1, self.lo).unwrap_or(self.lo);
            if self.best - self.lo < self.width / 8 && !self.far.is_empty() {
                self.recenter_down(self.best - (self.width - self.margin()));
            }
        } else if let Some((top, _)) = self.far.last() {
            self.recenter_down(top - (self.width - self.margin()));
            self.best = top;
        }
    }

    /// The worst key held. Requires a non-empty side.
    fn worst(&self) -> i64 {
        match self.far.first() {
            Some(k) => k,
            None => self
                .lowest_set(self.lo, self.lo + self.width - 1)
                .unwrap_or(self.best),
        }
    }

    fn clear(&mut self) {
        if self.in_window > 0 {
            self.slots.fill(0);
            self.bits.fill(0);
        }
        self.in_window = 0;
        self.far.clear();
    }

    fn check(&self) {
        let set_bits: usize = self.bits.iter().map(|w| w.count_ones() as usize).sum();
        assert_eq!(set_bits, self.in_window, "bitmap count");
        for (s, &q) in self.slots.iter().enumerate() {
            let bit = self.bits[s >> 6] >> (s & 63) & 1 == 1;
            assert_eq!(q != 0, bit, "slot {s} qty {q} vs bit");
            assert!(q >= 0);
        }
        self.far.check();
        assert!(self.len() <= self.capacity, "capacity");
        if self.len() > 0 {
            assert!(self.in_window > 0, "best must be in the window");
            assert!(
                self.far.iter().all(|(k, q)| k < self.lo && q > 0),
                "far below window"
            );
            let top = self.highest_set(self.lo + self.width - 1, self.lo);
            assert_eq!(top, Some(self.best), "best is the highest key");
        }
    }
}
