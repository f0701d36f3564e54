//! Order books behind read/apply traits.
//!
//! * [`Ladder`] — the production book: per side a tick-indexed circular window
//!   around the best price (O(1) update, bitmap scan for the next best) plus a
//!   sorted overflow for far levels. Capacity fixed at construction, no
//!   allocation on update.
//! * [`SortedBook`] — sorted arrays with the best level at the end: the
//!   alternative layout, kept for the benchmark that chose [`Ladder`].
//! * [`RefBook`] — a `BTreeMap` reference model for tests.
//!
//! Quantities are absolute: applying `qty == 0` removes the level, and
//! removing a level the book does not hold is normal (not an error).
//!
//! **At capacity** (a side already holds `capacity` levels and a new price
//! arrives): if the new level is worse than every held level it is not
//! stored ([`Applied::Dropped`]); otherwise the worst held level is evicted
//! ([`Applied::Evicted`]). Either way the book stays exact for its best
//! `capacity` levels, only the deepest tail is truncated, and the caller
//! counts it (the engine emits [`crate::types::StatusCode::CapacityTruncated`]).

pub mod derived;
mod ladder;
mod reference;
mod sorted;

pub use ladder::{Ladder, LadderIter};
pub use reference::RefBook;
pub use sorted::SortedBook;

use crate::types::{Price, Qty, Side};

/// Default levels per side: the deepest Binance REST snapshot is 5,000.
pub const DEFAULT_CAPACITY: usize = 5_000;
/// Default width of the ladder's tick window (ticks per side).
pub const DEFAULT_WINDOW: usize = 4_096;
/// Keys (price / tick) must stay within ±2^62 so window arithmetic cannot overflow.
pub const MAX_KEY: i64 = 1 << 62;

/// One price level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Level {
    /// Price mantissa.
    pub price: Price,
    /// Quantity mantissa (> 0 for a held level).
    pub qty: Qty,
}

/// Construction parameters shared by the book layouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookSpec {
    /// Price increment as a mantissa (≥ 1). Prices must be multiples of it.
    pub tick: i64,
    /// Maximum levels held per side.
    pub capacity: usize,
    /// Ladder window width in ticks (rounded up to a power of two, ≥ 64).
    pub window: usize,
}

impl BookSpec {
    /// A spec with the default capacity and window for `tick`.
    pub const fn new(tick: i64) -> BookSpec {
        BookSpec {
            tick,
            capacity: DEFAULT_CAPACITY,
            window: DEFAULT_WINDOW,
        }
    }

    /// The same spec with another capacity.
    pub const fn with_capacity(mut self, capacity: usize) -> BookSpec {
        self.capacity = capacity;
        self
    }

    /// The same spec with another window width.
    pub const fn with_window(mut self, window: usize) -> BookSpec {
        self.window = window;
        self
    }
}

/// What an update did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// A level was inserted or its quantity changed.
    Set,
    /// A level was removed.
    Removed,
    /// A removal for a level the book does not hold (normal).
    Absent,
    /// Inserted, and the worst level (this price) was evicted for room.
    Evicted(Price),
    /// Not stored: the side is full and this level is worse than all held ones.
    Dropped,
}

impl Applied {
    /// True when the capacity limit truncated the book.
    pub const fn truncated(self) -> bool {
        matches!(self, Applied::Evicted(_) | Applied::Dropped)
    }
}

/// Why an update was refused. The book is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BookError {
    /// The price (mantissa) is not a multiple of the book's tick size.
    #[error("price mantissa {0} is not a multiple of the tick size")]
    OffTick(i64),
    /// The price is beyond ±2^62 ticks.
    #[error("price {0} is out of the supported range")]
    OutOfRange(i64),
    /// A negative quantity.
    #[error("negative quantity {0}")]
    NegativeQty(i64),
    /// The book is crossed (best bid at or above best ask) after a snapshot.
    #[error("the book is crossed")]
    Crossed,
}

/// Reading a book.
pub trait BookRead {
    /// Best (highest) bid.
    fn best_bid(&self) -> Option<Level>;
    /// Best (lowest) ask.
    fn best_ask(&self) -> Option<Level>;
    /// Number of levels on a side.
    fn depth(&self, side: Side) -> usize;
    /// Levels of a side, best first.
    fn levels(&self, side: Side) -> impl Iterator<Item = Level> + '_;

    /// Best level of a side.
    fn best(&self, side: Side) -> Option<Level> {
        match side {
            Side::Bid => self.best_bid(),
            Side::Ask => self.best_ask(),
        }
    }

    /// True when best bid ≥ best ask.
    fn is_crossed(&self) -> bool {
        match (self.best_bid(), self.best_ask()) {
            (Some(b), Some(a)) => b.price >= a.price,
            _ => false,
        }
    }
}

/// Changing a book.
pub trait BookApply {
    /// Sets the quantity at `price` (0 removes).
    fn apply(&mut self, side: Side, price: Price, qty: Qty) -> Result<Applied, BookError>;
    /// Checks that `apply` would accept the level, without changing anything,
    /// so a message can be validated whole before any of it is applied.
    fn validate(&self, price: Price, qty: Qty) -> Result<(), BookError> {
        if qty.0 < 0 {
            return Err(BookError::NegativeQty(qty.0));
        }
        tick_index(price, self.tick()).map(|_| ())
    }
    /// The price increment (mantissa) the book enforces.
    fn tick(&self) -> i64;
    /// Removes every level. No deallocation.
    fn clear(&mut self);
}

/// Maps a price to its tick index; shared by the layouts.
#[inline]
pub(crate) fn tick_index(price: Price, tick: i64) -> Result<i64, BookError> {
    let p = price.0;
    let key = if tick == 1 {
        p
    } else {
        if p.rem_euclid(tick) != 0 {
            return Err(BookError::OffTick(p));
        }
        p.div_euclid(tick)
    };
    if !(-MAX_KEY..=MAX_KEY).contains(&key) {
        return Err(BookError::OutOfRange(p));
    }
    Ok(key)
}

/// Two books hold exactly the same levels on both sides.
pub fn same_levels(a: &impl BookRead, b: &impl BookRead) -> bool {
    [Side::Bid, Side::Ask]
        .into_iter()
        .all(|side| a.depth(side) == b.depth(side) && a.levels(side).eq(b.levels(side)))
}

#[cfg(test)]
mod tests;
