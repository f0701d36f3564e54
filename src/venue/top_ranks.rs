//! The ranking half of a checksum's kept top levels (Kraken's top 10 a
//! side, OKX's top 25): one side's best `N` prices in rank order, each
//! pointing at a slot whose text the venue's module keeps, updated as the
//! book changes so a checksum only copies slots in rank order.
//!
//! Invariant (`cut`): the ranks hold exactly the book's levels whose key is
//! at least `cut`, best first (key: the price for bids, `!price` for asks,
//! so larger is better on both sides). A level a message sets or removes at
//! or above `cut` is placed or taken out at once ([`TopRanks::set`],
//! [`TopRanks::remove`]: a binary search over at most `N` keys and a shift
//! of one-byte slot indices); one below `cut` cannot be in the top and is
//! ignored. That stays true through both, so after a message the ranks are
//! the book's best `n` and any missing ones are the book's next levels
//! ([`TopRanks::refill`], found below the last ranked level without walking
//! the ranked ones). `cut == i64::MIN`: the ranks hold the whole side.

use crate::book::{Ladder, Level};
use crate::types::{Price, Side};

/// One side's ranked top `N` (`N` at most 256: slots are bytes).
#[derive(Debug, Clone)]
pub(crate) struct TopRanks<const N: usize> {
    side: Side,
    /// Ranks in use (at most `N`).
    n: usize,
    /// Keys of ranks `0..n`, best (largest) first.
    keys: [i64; N],
    /// `order[r]`: the slot of rank `r` for `r < n`; `order[n..]` are the
    /// free slots (always a permutation of the slots).
    order: [u8; N],
    /// Every held level with a key `>= cut` is ranked.
    cut: i64,
}

impl<const N: usize> TopRanks<N> {
    /// Nothing ranked, the side empty.
    pub(crate) fn new(side: Side) -> Self {
        const { assert!(N <= 256, "slots are bytes") };
        TopRanks {
            side,
            n: 0,
            keys: [0; N],
            order: std::array::from_fn(|i| i as u8),
            cut: i64::MIN,
        }
    }

    /// Levels ranked.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.n
    }

    /// The slots of the ranks, best first.
    #[inline(always)]
    pub(crate) fn slots(&self) -> &[u8] {
        &self.order[..self.n]
    }

    /// The slot of rank `r` (`r < len()`).
    #[inline(always)]
    pub(crate) fn slot(&self, r: usize) -> usize {
        usize::from(self.order[r])
    }

    /// The price of rank `r` (`r < len()`).
    #[inline(always)]
    pub(crate) fn price_at(&self, r: usize) -> Price {
        self.price(self.keys[r])
    }

    /// Nothing ranked, and the side is empty (a cleared book).
    pub(crate) fn clear(&mut self) {
        self.n = 0;
        self.cut = i64::MIN;
    }

    /// Nothing ranked, and the side unknown: the next
    /// [`refill`](Self::refill) ranks the book's top from scratch.
    pub(crate) fn reset(&mut self) {
        self.n = 0;
        // Any key but `i64::MIN`: refill stops only at that.
        self.cut = i64::MAX;
    }

    #[inline(always)]
    fn key(&self, price: Price) -> i64 {
        match self.side {
            Side::Bid => price.0,
            Side::Ask => !price.0,
        }
    }

    #[inline(always)]
    fn price(&self, key: i64) -> Price {
        Price(match self.side {
            Side::Bid => key,
            Side::Ask => !key,
        })
    }

    /// The book now holds a level at `price` (quantity above zero): the
    /// slot whose text is to be (re)written for it, or `None` when it is
    /// outside the top.
    #[inline]
    pub(crate) fn set(&mut self, price: Price) -> Option<usize> {
        let key = self.key(price);
        if key < self.cut {
            return None;
        }
        let n = self.n;
        let at = self.keys[..n].partition_point(|&k| k > key);
        if at < n && self.keys[at] == key {
            return Some(usize::from(self.order[at]));
        }
        if at == N {
            // Worse than `N` ranked levels: the top now ends at the last.
            self.cut = self.keys[N - 1];
            return None;
        }
        // The slot of rank `n` (free, or the one about to fall out).
        let last = n.min(N - 1);
        let slot = self.order[last];
        self.keys.copy_within(at..last, at + 1);
        self.order.copy_within(at..last, at + 1);
        self.keys[at] = key;
        self.order[at] = slot;
        if n == N {
            self.cut = self.keys[N - 1];
        } else {
            self.n = n + 1;
        }
        Some(usize::from(slot))
    }

    /// The book no longer holds `price`.
    #[inline]
    pub(crate) fn remove(&mut self, price: Price) {
        let key = self.key(price);
        if key < self.cut {
            return;
        }
        let n = self.n;
        let at = self.keys[..n].partition_point(|&k| k > key);
        if at < n && self.keys[at] == key {
            let slot = self.order[at];
            self.keys.copy_within(at + 1..n, at);
            self.order.copy_within(at + 1..n, at);
            self.order[n - 1] = slot;
            self.n = n - 1;
        }
    }

    /// Ranks the book's next levels until `N` or the side ends: the levels
    /// below the last ranked one. `render(slot, level)` writes each one's
    /// text into its slot before it is ranked; an error stops the refill
    /// with that level unranked.
    #[inline]
    pub(crate) fn refill<E>(
        &mut self,
        book: &Ladder,
        mut render: impl FnMut(usize, Level) -> Result<(), E>,
    ) -> Result<(), E> {
        if self.n == N || self.cut == i64::MIN {
            return Ok(());
        }
        let next = match self.n {
            0 => book.iter(self.side),
            n => book.iter_below(self.side, self.price(self.keys[n - 1])),
        };
        for level in next.take(N - self.n) {
            render(usize::from(self.order[self.n]), level)?;
            self.keys[self.n] = self.key(level.price);
            self.n += 1;
        }
        self.cut = if self.n == N {
            self.keys[N - 1]
        } else {
            i64::MIN
        };
        Ok(())
    }
}
