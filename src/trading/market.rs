//! Reference prices for the price band, read from the feed engine's events.
//!
//! The order-entry thread owns one engine [`Consumer`] (a lock-free SPSC
//! ring, like any strategy's) and mirrors the books of the instruments it
//! trades. After each drain, every instrument whose book is consistent and
//! two-sided gets the mid of its best bid and ask as the risk checker's
//! reference price, converted from the feed's price scale to the order
//! path's. While a book is resyncing, the last known reference stays: a
//! band around a price a few hundred milliseconds old is still a band,
//! and no reference at all would let any price through.
//!
//! Per drain nothing allocates: the mirror's ladders and the id map are
//! built when the feed is attached.

use crate::book::{BookRead, BookSpec};
use crate::consumer::{BookMirror, Consumer};
use crate::orders::Risk;
use crate::types::{Event, InstrumentId, Price, Registry, Scale, Venue};

/// How many feed events one drain handles at most (the rest wait for the
/// next turn, so a burst of market data never delays an order long).
const DRAIN_BUDGET: usize = 4096;

/// One traded instrument's place in the feed.
#[derive(Clone, Copy, Debug)]
struct Link {
    /// The order path's id.
    trading: InstrumentId,
    /// The feed's price scale → the order path's.
    from: Scale,
    to: Scale,
}

/// The feed side of the order-entry thread.
#[derive(Debug)]
pub(crate) struct MarketFeed {
    consumer: Consumer,
    mirror: BookMirror,
    /// By feed instrument index.
    links: Vec<Option<Link>>,
    /// Feed instruments touched since the last update of the references.
    touched: Vec<bool>,
}

impl MarketFeed {
    /// Maps every instrument of `trading` on `venue` to the feed's instrument
    /// of the same symbol; `capacity` is the feed's book capacity. `None`
    /// when the feed carries none of them.
    pub(crate) fn new(
        consumer: Consumer,
        feed: &Registry,
        capacity: usize,
        trading: &Registry,
        venue: Venue,
    ) -> Option<MarketFeed> {
        let links: Vec<Option<Link>> = feed
            .iter()
            .map(|f| {
                if f.venue != venue {
                    return None;
                }
                let t = trading.lookup(venue, f.symbol.as_bytes())?;
                Some(Link {
                    trading: t.id,
                    from: f.price_scale,
                    to: t.price_scale,
                })
            })
            .collect();
        if links.iter().all(Option::is_none) {
            return None;
        }
        let mirror = BookMirror::new(
            feed.iter()
                .map(|f| BookSpec::new(f.tick).with_capacity(capacity)),
        );
        Some(MarketFeed {
            consumer,
            mirror,
            touched: vec![false; links.len()],
            links,
        })
    }

    /// Drains what the feed published since the last call and updates the
    /// reference prices of the instruments it touched. Returns the events
    /// handled and the references set.
    pub(crate) fn poll(&mut self, risk: &mut Risk) -> (usize, usize) {
        let mut n = 0;
        while n < DRAIN_BUDGET {
            let Some(e) = self.consumer.poll() else {
                break;
            };
            self.apply(&e);
            n += 1;
        }
        let mut set = 0;
        if n == 0 {
            return (0, 0);
        }
        for i in 0..self.touched.len() {
            if !std::mem::take(&mut self.touched[i]) {
                continue;
            }
            let Some(link) = self.links[i] else {
                continue;
            };
            let id = InstrumentId(i as u32);
            if !self.mirror.is_consistent(id) {
                continue;
            }
            if let Some(mid) = self.mirror.book(id).and_then(mid) {
                if let Some(p) = rescale(mid, link.from, link.to) {
                    risk.set_reference(link.trading, p);
                    set += 1;
                }
            }
        }
        (n, set)
    }

    fn apply(&mut self, e: &Event) {
        let i = e.instrument.index();
        if self.links.get(i).copied().flatten().is_none() {
            return;
        }
        self.mirror.apply(e);
        self.touched[i] = true;
    }
}

/// The mid of a two-sided book (rounded down to the feed's price grid).
fn mid(book: &impl BookRead) -> Option<i64> {
    let (bid, ask) = (book.best_bid()?, book.best_ask()?);
    let sum = i128::from(bid.price.0) + i128::from(ask.price.0);
    i64::try_from(sum.div_euclid(2)).ok()
}

/// `mantissa` at scale `from` as a price at scale `to` (truncated when
/// `to` is coarser); `None` if it does not fit.
fn rescale(mantissa: i64, from: Scale, to: Scale) -> Option<Price> {
    let (f, t) = (u32::from(from.decimals()), u32::from(to.decimals()));
    let m = i128::from(mantissa);
    let v = if t >= f {
        m.checked_mul(10i128.checked_pow(t - f)?)?
    } else {
        m / 10i128.checked_pow(f - t)?
    };
    i64::try_from(v).ok().map(Price)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(d: u8) -> Scale {
        Scale::new(d).unwrap()
    }

    #[test]
    fn prices_move_between_scales_exactly_or_truncated() {
        assert_eq!(
            rescale(4_300_001, s(2), s(8)),
            Some(Price(4_300_001_000_000))
        );
        assert_eq!(rescale(430_000_123, s(4), s(2)), Some(Price(4_300_001)));
        assert_eq!(rescale(5, s(0), s(0)), Some(Price(5)));
        assert_eq!(rescale(i64::MAX, s(0), s(8)), None);
    }
}
