//! The ladder's far levels: a sorted list of `(key, qty)` kept in fixed-size
//! blocks drawn from a pool allocated at construction.
//!
//! A flat sorted array makes every insert or remove a memmove of up to the
//! whole list (tens of kB for a 5,000-level side). Here the list is cut into
//! blocks of [`BLOCK`] entries, each sorted, chained in key order by a small
//! index (`order`, with each block's first key in `mins`). An operation
//! binary-searches `mins` (a few hundred `i64`s at most), then the block,
//! and moves at most one block's entries; a full block splits in two, a
//! block under half full borrows from or merges with a neighbour. Splits
//! and merges move `order`/`mins` entries (8–12 bytes per block), rare and
//! small next to the block move.
//!
//! Invariants (checked by [`FarList::check`] and the property tests):
//! * keys are strictly ascending along `order`, block by block;
//! * every block in `order` holds `1..=BLOCK` entries, and at least
//!   `MIN_FILL` unless it is the only block; so `order.len() <=
//!   capacity / MIN_FILL + 1` and the pool (`capacity / MIN_FILL + 2`
//!   blocks) never runs dry;
//! * `mins[p]` is the first key of block `order[p]`;
//! * a block is either in `order` or in `free`, never both.

/// Entries per block: 64 keys are 512 bytes, eight cache lines to search.
pub(super) const BLOCK: usize = 64;
/// Fewest entries a block holds when it is not the only one.
const MIN_FILL: usize = BLOCK / 2;

/// Sorted `(key, qty)` list with bounded-cost insert and remove. Ascending
/// by key; the best far level (highest key) is the last one.
#[derive(Debug, Clone)]
pub(super) struct FarList {
    /// Keys of block `b` in `[b * BLOCK, b * BLOCK + lens[b])`, ascending.
    keys: Box<[i64]>,
    /// Quantities, laid out as `keys`.
    qtys: Box<[i64]>,
    /// Entries held per block (`0..=BLOCK`; 0 only for free blocks).
    lens: Box<[usize]>,
    /// Blocks in use, in ascending key order. Capacity = pool size.
    order: Vec<u32>,
    /// `mins[p]` = first key of block `order[p]`; searched first.
    mins: Vec<i64>,
    /// Blocks not in use. Capacity = pool size.
    free: Vec<u32>,
    /// Entries held in total.
    len: usize,
}

/// Position of a best-first walk over a [`FarList`].
#[derive(Debug, Clone, Copy)]
pub(super) struct FarCursor {
    /// Blocks (in `order`) not yet finished; the current one is `pos - 1`.
    pos: usize,
    /// Entries of the current block not yet yielded.
    left: usize,
}

impl FarList {
    /// A list that can hold `capacity` entries without allocating again.
    pub(super) fn new(capacity: usize) -> FarList {
        let blocks = capacity.max(1) / MIN_FILL + 2;
        FarList {
            keys: vec![0; blocks * BLOCK].into_boxed_slice(),
            qtys: vec![0; blocks * BLOCK].into_boxed_slice(),
            lens: vec![0; blocks].into_boxed_slice(),
            order: Vec::with_capacity(blocks),
            mins: Vec::with_capacity(blocks),
            // Popped from the back: block 0 is handed out first.
            free: (0..blocks as u32).rev().collect(),
            len: 0,
        }
    }

    /// Entries held.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is held.
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Block `order[p]`'s first slot and entry count.
    #[inline]
    fn block(&self, p: usize) -> (usize, usize) {
        let b = self.order[p] as usize;
        (b * BLOCK, self.lens[b])
    }

    /// Where `key` is or would go: `(p, i, found)` for entry `i` of block
    /// `order[p]`. Requires a non-empty list.
    #[inline]
    fn locate(&self, key: i64) -> (usize, usize, bool) {
        let p = self.mins.partition_point(|&m| m <= key).saturating_sub(1);
        let (base, n) = self.block(p);
        let keys = &self.keys[base..base + n];
        let i = keys.partition_point(|&k| k < key);
        (p, i, i < n && keys[i] == key)
    }

    /// Quantity held at `key`.
    #[inline]
    pub(super) fn get(&self, key: i64) -> Option<i64> {
        if self.len == 0 {
            return None;
        }
        let (p, i, found) = self.locate(key);
        found.then(|| self.qtys[self.block(p).0 + i])
    }

    /// Overwrites the quantity of a held `key`; false when not held.
    #[inline]
    pub(super) fn set_existing(&mut self, key: i64, qty: i64) -> bool {
        if self.len == 0 {
            return false;
        }
        let (p, i, found) = self.locate(key);
        if found {
            let base = self.block(p).0;
            self.qtys[base + i] = qty;
        }
        found
    }

    /// Lowest key held (the worst far level).
    #[inline]
    pub(super) fn first(&self) -> Option<i64> {
        self.mins.first().copied()
    }

    /// Highest entry held (the best far level).
    #[inline]
    pub(super) fn last(&self) -> Option<(i64, i64)> {
        let p = self.order.len().checked_sub(1)?;
        let (base, n) = self.block(p);
        Some((self.keys[base + n - 1], self.qtys[base + n - 1]))
    }

    /// Inserts a key not held yet.
    #[inline]
    pub(super) fn insert(&mut self, key: i64, qty: i64) {
        if self.len == 0 {
            self.insert_first(key, qty);
            return;
        }
        let (p, i, found) = self.locate(key);
        debug_assert!(!found, "far insert of a held key {key}");
        self.insert_at(p, i, key, qty);
    }

    /// Appends a key higher than every held one.
    #[inline]
    pub(super) fn push_last(&mut self, key: i64, qty: i64) {
        match self.last() {
            None => self.insert_first(key, qty),
            Some((top, _)) => {
                debug_assert!(key > top, "far push_last {key} after {top}");
                let p = self.order.len() - 1;
                let n = self.block(p).1;
                self.insert_at(p, n, key, qty);
            }
        }
    }

    /// Removes `key`; false when not held.
    #[inline]
    pub(super) fn remove(&mut self, key: i64) -> bool {
        if self.len == 0 {
            return false;
        }
        let (p, i, found) = self.locate(key);
        if found {
            self.remove_at(p, i);
        }
        found
    }

    /// Removes and returns the highest entry.
    #[inline]
    pub(super) fn pop_last(&mut self) -> Option<(i64, i64)> {
        let top = self.last()?;
        let p = self.order.len() - 1;
        let n = self.block(p).1;
        self.remove_at(p, n - 1);
        Some(top)
    }

    /// Drops every entry; the blocks go back to the pool.
    pub(super) fn clear(&mut self) {
        for &b in &self.order {
            self.lens[b as usize] = 0;
        }
        self.free.append(&mut self.order);
        self.mins.clear();
        self.len = 0;
    }

    /// A block from the pool. The pool is sized so that it never runs dry
    /// (see the module invariants); running dry would be a bug here.
    #[inline]
    fn alloc(&mut self) -> usize {
        let b = self.free.pop();
        debug_assert!(b.is_some(), "far block pool exhausted");
        b.map_or(0, |b| b as usize)
    }

    fn insert_first(&mut self, key: i64, qty: i64) {
        let b = self.alloc();
        self.keys[b * BLOCK] = key;
        self.qtys[b * BLOCK] = qty;
        self.lens[b] = 1;
        self.order.push(b as u32);
        self.mins.push(key);
        self.len = 1;
    }

    /// Inserts at entry `i` of block `order[p]`, splitting it when full.
    fn insert_at(&mut self, mut p: usize, mut i: usize, key: i64, qty: i64) {
        let mut b = self.order[p] as usize;
        if self.lens[b] == BLOCK {
            // Split: the upper half moves to a fresh block after this one.
            let half = BLOCK / 2;
            let nb = self.alloc();
            let (from, to) = (b * BLOCK + half, nb * BLOCK);
            self.keys.copy_within(from..from + half, to);
            self.qtys.copy_within(from..from + half, to);
            self.lens[b] = half;
            self.lens[nb] = BLOCK - half;
            self.order.insert(p + 1, nb as u32);
            self.mins.insert(p + 1, self.keys[to]);
            if i > half {
                p += 1;
                i -= half;
                b = nb;
            }
        }
        let (base, n) = (b * BLOCK, self.lens[b]);
        self.keys.copy_within(base + i..base + n, base + i + 1);
        self.qtys.copy_within(base + i..base + n, base + i + 1);
        self.keys[base + i] = key;
        self.qtys[base + i] = qty;
        self.lens[b] = n + 1;
        if i == 0 {
            self.mins[p] = key;
        }
        self.len += 1;
    }

    /// Removes entry `i` of block `order[p]`, refilling the block from a
    /// neighbour when it falls under `MIN_FILL`.
    fn remove_at(&mut self, p: usize, i: usize) {
        let b = self.order[p] as usize;
        let (base, n) = (b * BLOCK, self.lens[b]);
        self.keys.copy_within(base + i + 1..base + n, base + i);
        self.qtys.copy_within(base + i + 1..base + n, base + i);
        self.lens[b] = n - 1;
        self.len -= 1;
        if n == 1 {
            // Only the sole block can empty (others hold >= MIN_FILL).
            self.order.remove(p);
            self.mins.remove(p);
            self.free.push(b as u32);
            return;
        }
        if i == 0 {
            self.mins[p] = self.keys[base];
        }
        if n - 1 < MIN_FILL && self.order.len() > 1 {
            self.refill(if p + 1 < self.order.len() { p } else { p - 1 });
        }
    }

    /// Restores `MIN_FILL` for blocks `order[p]` and `order[p + 1]`: merges
    /// them when they fit in one, else evens them out (each then holds at
    /// least `BLOCK / 2`, since together they hold more than `BLOCK`).
    fn refill(&mut self, p: usize) {
        let (l, r) = (self.order[p] as usize, self.order[p + 1] as usize);
        let (nl, nr) = (self.lens[l], self.lens[r]);
        let (lb, rb) = (l * BLOCK, r * BLOCK);
        if nl + nr <= BLOCK {
            self.keys.copy_within(rb..rb + nr, lb + nl);
            self.qtys.copy_within(rb..rb + nr, lb + nl);
            self.lens[l] = nl + nr;
            self.lens[r] = 0;
            self.order.remove(p + 1);
            self.mins.remove(p + 1);
            self.free.push(r as u32);
            return;
        }
        let want = (nl + nr) / 2;
        if nl < want {
            // The right block's first entries move to the left's end.
            let k = want - nl;
            self.keys.copy_within(rb..rb + k, lb + nl);
            self.qtys.copy_within(rb..rb + k, lb + nl);
            self.keys.copy_within(rb + k..rb + nr, rb);
            self.qtys.copy_within(rb + k..rb + nr, rb);
            self.lens[l] = want;
            self.lens[r] = nr - k;
        } else {
            // The left block's last entries move to the right's front.
            let k = nl - want;
            self.keys.copy_within(rb..rb + nr, rb + k);
            self.qtys.copy_within(rb..rb + nr, rb + k);
            self.keys.copy_within(lb + want..lb + nl, rb);
            self.qtys.copy_within(lb + want..lb + nl, rb);
            self.lens[l] = want;
            self.lens[r] = nr + k;
        }
        self.mins[p + 1] = self.keys[rb];
    }

    /// A cursor at the highest entry, for [`FarList::next_back`].
    #[inline]
    pub(super) fn cursor_back(&self) -> FarCursor {
        let pos = self.order.len();
        FarCursor {
            pos,
            left: pos.checked_sub(1).map_or(0, |p| self.block(p).1),
        }
    }

    /// A cursor at the highest entry strictly below `key`, for
    /// [`FarList::next_back`] (`key` need not be held).
    #[inline]
    pub(super) fn cursor_below(&self, key: i64) -> FarCursor {
        if self.len == 0 {
            return FarCursor { pos: 0, left: 0 };
        }
        let (p, i, _) = self.locate(key);
        FarCursor {
            pos: p + 1,
            left: i,
        }
    }

    /// The entry at `at`, moving it one entry down; `None` past the lowest.
    #[inline]
    pub(super) fn next_back(&self, at: &mut FarCursor) -> Option<(i64, i64)> {
        while at.left == 0 {
            if at.pos <= 1 {
                at.pos = 0;
                return None;
            }
            at.pos -= 1;
            at.left = self.block(at.pos - 1).1;
        }
        at.left -= 1;
        let base = self.block(at.pos - 1).0;
        Some((self.keys[base + at.left], self.qtys[base + at.left]))
    }

    /// Every entry, ascending by key.
    pub(super) fn iter(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        (0..self.order.len()).flat_map(move |p| {
            let (base, n) = self.block(p);
            (base..base + n).map(move |s| (self.keys[s], self.qtys[s]))
        })
    }

    /// Checks the module invariants; for tests.
    pub(super) fn check(&self) {
        let blocks = self.lens.len();
        assert_eq!(
            self.order.len() + self.free.len(),
            blocks,
            "pool accounting"
        );
        let mut seen = vec![false; blocks];
        for &b in self.order.iter().chain(&self.free) {
            assert!(!seen[b as usize], "block {b} listed twice");
            seen[b as usize] = true;
        }
        for &b in &self.free {
            assert_eq!(self.lens[b as usize], 0, "free block {b} holds entries");
        }
        assert_eq!(self.order.len(), self.mins.len(), "one min per block");
        let sole = self.order.len() == 1;
        for (p, &b) in self.order.iter().enumerate() {
            let n = self.lens[b as usize];
            assert!((1..=BLOCK).contains(&n), "block fill {n}");
            assert!(sole || n >= MIN_FILL, "block {p} under-filled: {n}");
            assert_eq!(
                self.mins[p],
                self.keys[b as usize * BLOCK],
                "min of block {p}"
            );
        }
        let held: Vec<(i64, i64)> = self.iter().collect();
        assert_eq!(held.len(), self.len, "entry count");
        assert!(held.windows(2).all(|w| w[0].0 < w[1].0), "far sorted");
        let mut back = Vec::with_capacity(held.len());
        let mut at = self.cursor_back();
        while let Some(e) = self.next_back(&mut at) {
            back.push(e);
        }
        back.reverse();
        assert_eq!(back, held, "best-first walk");
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{BLOCK, FarList};

    /// xorshift64*: deterministic, no dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: u64) -> i64 {
            (self.next() % n) as i64
        }
    }

    fn same(far: &FarList, model: &BTreeMap<i64, i64>) {
        far.check();
        let held: Vec<(i64, i64)> = far.iter().collect();
        let want: Vec<(i64, i64)> = model.iter().map(|(&k, &q)| (k, q)).collect();
        assert_eq!(held, want);
        assert_eq!(far.first(), model.keys().next().copied());
        assert_eq!(far.last(), model.iter().next_back().map(|(&k, &q)| (k, q)));
    }

    #[test]
    fn random_inserts_and_removes_match_a_btreemap() {
        let capacity = 3_000;
        let mut far = FarList::new(capacity);
        let mut model = BTreeMap::new();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        // Fill to capacity, drain to almost nothing, refill: splits, then
        // merges and borrows, then splits again, at every depth.
        for round in 0..3 {
            for step in 0..20_000 {
                let key = rng.below(50_000);
                let fill = if round == 1 { 2 } else { 8 };
                if rng.below(10) < fill && model.len() < capacity {
                    let qty = 1 + rng.below(1_000);
                    if far.set_existing(key, qty) {
                        assert!(model.insert(key, qty).is_some());
                    } else {
                        assert_eq!(far.get(key), None);
                        far.insert(key, qty);
                        assert!(model.insert(key, qty).is_none());
                    }
                } else {
                    assert_eq!(far.remove(key), model.remove(&key).is_some());
                }
                assert_eq!(far.get(key), model.get(&key).copied());
                assert_eq!(far.len(), model.len());
                if step % 997 == 0 {
                    same(&far, &model);
                }
            }
            same(&far, &model);
        }
    }

    #[test]
    fn push_and_pop_at_the_top_keep_blocks_filled() {
        let mut far = FarList::new(1_000);
        for k in 0..1_000 {
            far.push_last(k * 3, k + 1);
        }
        far.check();
        assert_eq!(far.len(), 1_000);
        // Appending splits the last block each time it fills: no block under half full.
        for k in (500..1_000).rev() {
            assert_eq!(far.pop_last(), Some((k * 3, k + 1)));
        }
        far.check();
        for k in 0..250 {
            assert!(far.remove(k * 3));
        }
        far.check();
        assert_eq!(far.first(), Some(750));
        assert_eq!(far.last(), Some((1_497, 500)));
        far.clear();
        far.check();
        assert!(far.is_empty());
        assert_eq!(far.pop_last(), None);
        far.insert(5, 1);
        assert_eq!(far.iter().collect::<Vec<_>>(), vec![(5, 1)]);
    }

    #[test]
    fn the_pool_is_enough_at_every_capacity() {
        // Worst case for the pool: every block at the minimum fill.
        for capacity in [1, 2, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 7] {
            let mut far = FarList::new(capacity);
            let mut rng = Rng(capacity as u64 + 1);
            for _ in 0..20 * capacity {
                let key = rng.below(4 * capacity as u64 + 4);
                if far.len() < capacity && far.get(key).is_none() {
                    far.insert(key, 1);
                } else {
                    far.remove(key);
                }
            }
            far.check();
        }
    }
}
