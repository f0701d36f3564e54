//! A `BTreeMap` book: obviously correct, used as the model in property tests.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use super::{Applied, BookApply, BookError, BookRead, Level, tick_index};
use crate::types::{Price, Qty, Side};

/// Unbounded reference book (allocates; tests only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefBook {
    tick: i64,
    bids: BTreeMap<Reverse<i64>, i64>,
    asks: BTreeMap<i64, i64>,
}

impl RefBook {
    /// An empty book with price increment `tick` (mantissa).
    pub fn new(tick: i64) -> RefBook {
        RefBook {
            tick: tick.max(1),
            ..RefBook::default()
        }
    }
}

impl BookRead for RefBook {
    fn best_bid(&self) -> Option<Level> {
        self.bids.iter().next().map(|(p, q)| Level {
            price: Price(p.0),
            qty: Qty(*q),
        })
    }

    fn best_ask(&self) -> Option<Level> {
        self.asks.iter().next().map(|(p, q)| Level {
            price: Price(*p),
            qty: Qty(*q),
        })
    }

    fn depth(&self, side: Side) -> usize {
        match side {
            Side::Bid => self.bids.len(),
            Side::Ask => self.asks.len(),
        }
    }

    fn levels(&self, side: Side) -> impl Iterator<Item = Level> + '_ {
        let bids = self.bids.iter().map(|(p, q)| Level {
            price: Price(p.0),
            qty: Qty(*q),
        });
        let asks = self.asks.iter().map(|(p, q)| Level {
            price: Price(*p),
            qty: Qty(*q),
        });
        let (b, a) = match side {
            Side::Bid => (Some(bids), None),
            Side::Ask => (None, Some(asks)),
        };
        b.into_iter().flatten().chain(a.into_iter().flatten())
    }
}

impl BookApply for RefBook {
    fn apply(&mut self, side: Side, price: Price, qty: Qty) -> Result<Applied, BookError> {
        if qty.0 < 0 {
            return Err(BookError::NegativeQty {
                qty: qty.0,
                at: super::LevelAt::default(),
            });
        }
        tick_index(price, self.tick)?;
        let p = price.0;
        let existed = match (side, qty.0) {
            (Side::Bid, 0) => self.bids.remove(&Reverse(p)).is_some(),
            (Side::Ask, 0) => self.asks.remove(&p).is_some(),
            (Side::Bid, q) => self.bids.insert(Reverse(p), q).is_some(),
            (Side::Ask, q) => self.asks.insert(p, q).is_some(),
        };
        Ok(match (qty.0, existed) {
            (0, true) => Applied::Removed,
            (0, false) => Applied::Absent,
            _ => Applied::Set,
        })
    }

    fn tick(&self) -> i64 {
        self.tick
    }

    fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }
}
