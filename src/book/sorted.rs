//! Sorted arrays with the best level at the end: the simple alternative
//! layout. Updates near the top move few elements; deep updates move many.
//! Kept so the layout benchmark can compare it with [`super::Ladder`].

use super::{Applied, BookApply, BookError, BookRead, BookSpec, Level, tick_index};
use crate::types::{Price, Qty, Side};

/// Sorted-array book with fixed capacity.
#[derive(Debug, Clone)]
pub struct SortedBook {
    tick: i64,
    capacity: usize,
    /// Bids ascending by price: best (highest) last.
    bids: Vec<(i64, i64)>,
    /// Asks descending by price: best (lowest) last.
    asks: Vec<(i64, i64)>,
}

impl SortedBook {
    /// A book for `spec` (the window setting is ignored).
    pub fn new(spec: BookSpec) -> SortedBook {
        let capacity = spec.capacity.max(1);
        SortedBook {
            tick: spec.tick.max(1),
            capacity,
            bids: Vec::with_capacity(capacity),
            asks: Vec::with_capacity(capacity),
        }
    }

    #[inline]
    fn find(levels: &[(i64, i64)], side: Side, price: i64) -> Result<usize, usize> {
        match side {
            Side::Bid => levels.binary_search_by(|e| e.0.cmp(&price)),
            Side::Ask => levels.binary_search_by(|e| price.cmp(&e.0)),
        }
    }
}

impl BookRead for SortedBook {
    fn best_bid(&self) -> Option<Level> {
        self.bids.last().map(|&(p, q)| Level {
            price: Price(p),
            qty: Qty(q),
        })
    }

    fn best_ask(&self) -> Option<Level> {
        self.asks.last().map(|&(p, q)| Level {
            price: Price(p),
            qty: Qty(q),
        })
    }

    fn depth(&self, side: Side) -> usize {
        match side {
            Side::Bid => self.bids.len(),
            Side::Ask => self.asks.len(),
        }
    }

    fn levels(&self, side: Side) -> impl Iterator<Item = Level> + '_ {
        let v = match side {
            Side::Bid => &self.bids,
            Side::Ask => &self.asks,
        };
        v.iter().rev().map(|&(p, q)| Level {
            price: Price(p),
            qty: Qty(q),
        })
    }
}

impl BookApply for SortedBook {
    #[inline]
    fn apply(&mut self, side: Side, price: Price, qty: Qty) -> Result<Applied, BookError> {
        if qty.0 < 0 {
            return Err(BookError::NegativeQty {
                qty: qty.0,
                at: super::LevelAt::default(),
            });
        }
        tick_index(price, self.tick)?;
        let levels = match side {
            Side::Bid => &mut self.bids,
            Side::Ask => &mut self.asks,
        };
        let p = price.0;
        match (SortedBook::find(levels, side, p), qty.0) {
            (Ok(i), 0) => {
                levels.remove(i);
                Ok(Applied::Removed)
            }
            (Err(_), 0) => Ok(Applied::Absent),
            (Ok(i), q) => {
                levels[i].1 = q;
                Ok(Applied::Set)
            }
            (Err(i), q) => {
                if levels.len() < self.capacity {
                    levels.insert(i, (p, q));
                    return Ok(Applied::Set);
                }
                // Full: the worst level is at index 0.
                if i == 0 {
                    return Ok(Applied::Dropped);
                }
                let (evicted, _) = levels.remove(0);
                levels.insert(i - 1, (p, q));
                Ok(Applied::Evicted(Price(evicted)))
            }
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
