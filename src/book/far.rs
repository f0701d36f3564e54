//! The ladder's far levels: a sorted list of `(key, qty)` entries kept in
//! fixed-size blocks drawn from a pool allocated at construction.
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
//! A key and its quantity sit side by side ([`Entry`]): the search ends on
//! the cache line that holds the quantity, and an insert or a remove is one
//! memmove, not one per array.
//!
//! The callers look a key up once ([`FarList::find`]) and act on the
//! [`Spot`] it returns (update, insert, remove), so an update of a far
//! level is one search.
//!
//! Invariants (checked by [`FarList::check`] and the property tests):
//! * keys are strictly ascending along `order`, block by block;
//! * every block in `order` holds `1..=BLOCK` entries, and at least
//!   `MIN_FILL` unless it is the only block; so `order.len() <=
//!   len / MIN_FILL + 1`, and the pool (`(capacity + 1) / MIN_FILL + 2`
//!   blocks) is enough for `capacity + 1` entries (the ladder inserts a new
//!   level before it evicts the worst one);
//! * `mins[p]` is the first key of block `order[p]`;
//! * a block is either in `order` or in `free`, never both.
//!
//! Should the pool still run dry (a sizing bug, or a pool made small on
//! purpose by [`FarList::with_blocks`]), an insert fails with
//! [`PoolExhausted`] and leaves the list as it was.

/// Entries per block: 64 entries are 1 kB, 16 cache lines.
pub(super) const BLOCK: usize = 64;
/// Fewest entries a block holds when it is not the only one.
const MIN_FILL: usize = BLOCK / 2;

/// One far level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Entry {
    key: i64,
    qty: i64,
}

/// The block pool ran dry; the list is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PoolExhausted;

/// A place in the list: entry `i` of block `order[p]` (for a vacant key,
/// where it would be inserted). Valid until the list next changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Spot {
    p: usize,
    i: usize,
}

/// What [`FarList::find`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Find {
    /// The key is held here.
    Held(Spot),
    /// The key is not held; it would go here.
    Vacant(Spot),
}

/// Sorted `(key, qty)` list with bounded-cost insert and remove. Ascending
/// by key; the best far level (highest key) is the last one.
#[derive(Debug, Clone)]
pub(super) struct FarList {
    /// Entries of block `b` in `[b * BLOCK, b * BLOCK + lens[b])`, ascending.
    entries: Box<[Entry]>,
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
    /// A list that can hold `capacity + 1` entries without allocating again.
    pub(super) fn new(capacity: usize) -> FarList {
        FarList::with_blocks((capacity.max(1) + 1) / MIN_FILL + 2)
    }

    /// A list with a pool of `blocks` blocks (at least one): tests use a
    /// small one to make inserts run out of blocks.
    pub(super) fn with_blocks(blocks: usize) -> FarList {
        let blocks = blocks.max(1);
        FarList {
            entries: vec![Entry::default(); blocks * BLOCK].into_boxed_slice(),
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

    /// Where `key` is held or would go. A key below every held one (an
    /// empty list included) is answered without a search.
    #[inline]
    pub(super) fn find(&self, key: i64) -> Find {
        match self.mins.first() {
            Some(&m) if m <= key => {}
            _ => return Find::Vacant(Spot { p: 0, i: 0 }),
        }
        // `mins[0] <= key`: at least one block starts at or below `key`.
        let p = self.mins.partition_point(|&m| m <= key) - 1;
        let (base, n) = self.block(p);
        let block = &self.entries[base..base + n];
        let i = block.partition_point(|e| e.key < key);
        let spot = Spot { p, i };
        match block.get(i) {
            Some(e) if e.key == key => Find::Held(spot),
            _ => Find::Vacant(spot),
        }
    }

    /// The entry at a held spot.
    #[inline]
    fn entry_mut(&mut self, at: Spot) -> &mut Entry {
        let base = self.block(at.p).0;
        &mut self.entries[base + at.i]
    }

    /// Quantity held at `key`.
    #[inline]
    pub(super) fn get(&self, key: i64) -> Option<i64> {
        match self.find(key) {
            Find::Held(at) => Some(self.entries[self.block(at.p).0 + at.i].qty),
            Find::Vacant(_) => None,
        }
    }

    /// Overwrites the quantity at a spot [`FarList::find`] found held.
    #[inline]
    pub(super) fn set_at(&mut self, at: Spot, qty: i64) {
        self.entry_mut(at).qty = qty;
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
        let e = self.entries[base + n - 1];
        Some((e.key, e.qty))
    }

    /// Inserts a key not held yet.
    #[inline]
    pub(super) fn insert(&mut self, key: i64, qty: i64) -> Result<(), PoolExhausted> {
        match self.find(key) {
            Find::Vacant(at) => self.insert_at(at, key, qty),
            Find::Held(at) => {
                debug_assert!(false, "far insert of a held key {key}");
                self.set_at(at, qty);
                Ok(())
            }
        }
    }

    /// Appends a key higher than every held one.
    #[inline]
    pub(super) fn push_last(&mut self, key: i64, qty: i64) -> Result<(), PoolExhausted> {
        let at = match self.order.len().checked_sub(1) {
            None => Spot { p: 0, i: 0 },
            Some(p) => {
                debug_assert!(self.last().is_some_and(|(top, _)| key > top));
                Spot {
                    p,
                    i: self.block(p).1,
                }
            }
        };
        self.insert_at(at, key, qty)
    }

    /// Removes `key`; false when not held.
    #[inline]
    pub(super) fn remove(&mut self, key: i64) -> bool {
        match self.find(key) {
            Find::Held(at) => {
                self.remove_at(at);
                true
            }
            Find::Vacant(_) => false,
        }
    }

    /// Removes and returns the highest entry.
    #[inline]
    pub(super) fn pop_last(&mut self) -> Option<(i64, i64)> {
        let top = self.last()?;
        let p = self.order.len() - 1;
        let n = self.block(p).1;
        self.remove_at(Spot { p, i: n - 1 });
        Some(top)
    }

    /// Removes and returns the lowest entry.
    #[inline]
    pub(super) fn pop_first(&mut self) -> Option<(i64, i64)> {
        if self.len == 0 {
            return None;
        }
        let e = self.entries[self.block(0).0];
        self.remove_at(Spot { p: 0, i: 0 });
        Some((e.key, e.qty))
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

    /// A block from the pool.
    #[inline]
    fn alloc(&mut self) -> Result<usize, PoolExhausted> {
        self.free.pop().map(|b| b as usize).ok_or(PoolExhausted)
    }

    /// Inserts at a vacant spot, splitting a full block. Fails, changing
    /// nothing, when a block is needed and the pool has none.
    pub(super) fn insert_at(&mut self, at: Spot, key: i64, qty: i64) -> Result<(), PoolExhausted> {
        let new = Entry { key, qty };
        if self.len == 0 {
            let b = self.alloc()?;
            self.entries[b * BLOCK] = new;
            self.lens[b] = 1;
            self.order.push(b as u32);
            self.mins.push(key);
            self.len = 1;
            return Ok(());
        }
        let Spot { mut p, mut i } = at;
        let mut b = self.order[p] as usize;
        if self.lens[b] == BLOCK {
            // Split: the upper half moves to a fresh block after this one.
            let half = BLOCK / 2;
            let nb = self.alloc()?;
            let (from, to) = (b * BLOCK + half, nb * BLOCK);
            self.entries.copy_within(from..from + half, to);
            self.lens[b] = half;
            self.lens[nb] = BLOCK - half;
            self.order.insert(p + 1, nb as u32);
            self.mins.insert(p + 1, self.entries[to].key);
            if i > half {
                p += 1;
                i -= half;
                b = nb;
            }
        }
        let (base, n) = (b * BLOCK, self.lens[b]);
        self.entries.copy_within(base + i..base + n, base + i + 1);
        self.entries[base + i] = new;
        self.lens[b] = n + 1;
        if i == 0 {
            self.mins[p] = key;
        }
        self.len += 1;
        Ok(())
    }

    /// Removes the entry at a held spot, refilling its block from a
    /// neighbour when it falls under `MIN_FILL`.
    pub(super) fn remove_at(&mut self, at: Spot) {
        let Spot { p, i } = at;
        let b = self.order[p] as usize;
        let (base, n) = (b * BLOCK, self.lens[b]);
        self.entries.copy_within(base + i + 1..base + n, base + i);
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
            self.mins[p] = self.entries[base].key;
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
            self.entries.copy_within(rb..rb + nr, lb + nl);
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
            self.entries.copy_within(rb..rb + k, lb + nl);
            self.entries.copy_within(rb + k..rb + nr, rb);
            self.lens[l] = want;
            self.lens[r] = nr - k;
        } else {
            // The left block's last entries move to the right's front.
            let k = nl - want;
            self.entries.copy_within(rb..rb + nr, rb + k);
            self.entries.copy_within(lb + want..lb + nl, rb);
            self.lens[l] = want;
            self.lens[r] = nr + k;
        }
        self.mins[p + 1] = self.entries[rb].key;
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
        let (Find::Held(at) | Find::Vacant(at)) = self.find(key);
        FarCursor {
            pos: at.p + 1,
            left: at.i,
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
        let e = self.entries[self.block(at.pos - 1).0 + at.left];
        Some((e.key, e.qty))
    }

    /// Every entry, ascending by key.
    pub(super) fn iter(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        (0..self.order.len()).flat_map(move |p| {
            let (base, n) = self.block(p);
            self.entries[base..base + n].iter().map(|e| (e.key, e.qty))
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
                self.entries[b as usize * BLOCK].key,
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
#[path = "far_tests.rs"]
mod tests;
