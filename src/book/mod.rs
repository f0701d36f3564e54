//! Order books behind read/apply traits.
//!
//! * [`Ladder`] — the production book: per side a tick-indexed circular window
//!   around the best price (O(1) update, bitmap scan for the next best) plus a
//!   sorted overflow for far levels in blocks of 64 (insert/remove move at
//!   most one block). Capacity fixed at construction, no allocation on update.
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
mod far;
mod ladder;
mod reference;
mod sorted;

pub use ladder::{Ladder, LadderIter};
pub use reference::RefBook;
pub use sorted::SortedBook;

use std::fmt;

use crate::types::{Price, Qty, Scale, Side};

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

/// Which level of a message an error is about: side and position in the
/// message's list for that side. The book does not know it; the sync
/// machine fills it in ([`BookError::at`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LevelAt {
    /// The side's list (`None` until the sync machine says).
    pub side: Option<Side>,
    /// Position in that list, from 0.
    pub index: u32,
}

impl fmt::Display for LevelAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.side {
            Some(Side::Bid) => write!(f, "bid level {}: ", self.index),
            Some(Side::Ask) => write!(f, "ask level {}: ", self.index),
            None => Ok(()),
        }
    }
}

/// Why an update was refused. The book is unchanged (except after
/// [`BookError::PoolExhausted`]). Prices and ticks are
/// mantissas; [`BookError::show`] prints them as decimals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BookError {
    /// The price is not a multiple of the book's tick size.
    #[error("{at}price {price} (mantissa) is not a multiple of the tick size {tick}")]
    OffTick {
        /// The price mantissa.
        price: i64,
        /// The tick mantissa.
        tick: i64,
        /// Which level of the message.
        at: LevelAt,
    },
    /// The price is beyond ±2^62 ticks.
    #[error("{at}price {price} (mantissa) is out of the supported range")]
    OutOfRange {
        /// The price mantissa.
        price: i64,
        /// Which level of the message.
        at: LevelAt,
    },
    /// A negative quantity.
    #[error("{at}negative quantity {qty} (mantissa)")]
    NegativeQty {
        /// The quantity mantissa.
        qty: i64,
        /// Which level of the message.
        at: LevelAt,
    },
    /// The book is crossed (best bid at or above best ask) after a snapshot.
    #[error("the book is crossed")]
    Crossed,
    /// The ladder's far-level block pool ran dry (it is sized so that it
    /// cannot: a bug). Unlike the other errors the book changed: the side
    /// was cleared, so the caller must resync it.
    #[error("{at}the book's far-level block pool is exhausted")]
    PoolExhausted {
        /// Which level of the message.
        at: LevelAt,
    },
}

impl BookError {
    /// The same error about level `index` of the `side` list of a message.
    #[must_use]
    pub fn at(self, side: Side, index: usize) -> BookError {
        let here = LevelAt {
            side: Some(side),
            index: u32::try_from(index).unwrap_or(u32::MAX),
        };
        match self {
            BookError::OffTick { price, tick, .. } => BookError::OffTick {
                price,
                tick,
                at: here,
            },
            BookError::OutOfRange { price, .. } => BookError::OutOfRange { price, at: here },
            BookError::NegativeQty { qty, .. } => BookError::NegativeQty { qty, at: here },
            BookError::Crossed => BookError::Crossed,
            BookError::PoolExhausted { .. } => BookError::PoolExhausted { at: here },
        }
    }

    /// True when the book changed despite the error (a side was cleared):
    /// the caller must resync it rather than skip the update.
    pub const fn changed_book(self) -> bool {
        matches!(self, BookError::PoolExhausted { .. })
    }

    /// The error with prices, ticks and quantities as decimals at the
    /// instrument's scales: `bid level 3: price 100.005 is not on the tick
    /// grid (tick 0.01)`. For error lines and logs (off the hot path).
    pub fn show(self, price_scale: Scale, qty_scale: Scale) -> impl fmt::Display {
        ShowBookError {
            error: self,
            price_scale,
            qty_scale,
        }
    }
}

/// [`BookError::show`].
struct ShowBookError {
    error: BookError,
    price_scale: Scale,
    qty_scale: Scale,
}

impl fmt::Display for ShowBookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let price = |m: i64| Price(m).at(self.price_scale);
        match self.error {
            BookError::OffTick { price: p, tick, at } => write!(
                f,
                "{at}price {} is not on the tick grid (tick {})",
                price(p),
                price(tick)
            ),
            BookError::OutOfRange { price: p, at } => {
                write!(f, "{at}price {} is out of the supported range", price(p))
            }
            BookError::NegativeQty { qty, at } => {
                write!(f, "{at}negative quantity {}", Qty(qty).at(self.qty_scale))
            }
            BookError::Crossed => f.write_str("the book is crossed"),
            BookError::PoolExhausted { at } => {
                write!(f, "{at}the book's far-level block pool is exhausted")
            }
        }
    }
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
            return Err(BookError::NegativeQty {
                qty: qty.0,
                at: LevelAt::default(),
            });
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
            return Err(BookError::OffTick {
                price: p,
                tick,
                at: LevelAt::default(),
            });
        }
        p.div_euclid(tick)
    };
    if !(-MAX_KEY..=MAX_KEY).contains(&key) {
        return Err(BookError::OutOfRange {
            price: p,
            at: LevelAt::default(),
        });
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
