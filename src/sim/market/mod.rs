//! A random-walk market that writes venue frames (Binance, Bybit, OKX).
//!
//! The model keeps the true book. Every book change is one *update id*;
//! changes accumulate into a pending event that a diff-depth frame flushes
//! (`U` = first id of the event, `u` = last, levels = the absolute quantity of
//! every touched level). A REST snapshot is taken *inside* a pending event,
//! as on Binance, so its `lastUpdateId` falls within the next diff's `[U, u]`
//! and both venues' bridging rules can be exercised. On the USD-M dialect,
//! ids skip between events and `pu` chains them. Venues that number their
//! own book messages (Bybit `u`, OKX `seqId`) use the model's *book
//! sequence* ([`MarketSim::book_seq`]), advanced once per event they flush.
//!
//! Used by the simulated venue, the benchmarks and the tests: frames are
//! deterministic for a seed.
//!
//! This file is the model (the true book, update ids, events, trades); it
//! writes no frames. Each venue's encoding is a sibling file over the same
//! event steps (`close_event` / `event_levels` or `view_changes` /
//! `finish_event`, `next_trade`, `enter_event`, `best`, `advance_seq`):
//! * `binance.rs` — [`MarketSim::depth_update`], [`MarketSim::book_ticker`],
//!   [`MarketSim::trade`], [`MarketSim::snapshot`], [`MarketSim::crossed_diff`],
//!   spot or USD-M from [`MarketConfig::venue`];
//! * `bybit.rs` — [`MarketSim::bybit_deltas`] (one delta per depth-limited
//!   view), [`MarketSim::bybit_snapshot`], [`MarketSim::bybit_bbo`],
//!   [`MarketSim::bybit_ticker`], [`MarketSim::bybit_trade`],
//!   [`MarketSim::bybit_crossed`], spot or linear;
//! * `okx.rs` — [`MarketSim::okx_update`] (with the checksum),
//!   [`MarketSim::okx_snapshot`], [`MarketSim::okx_bbo`],
//!   [`MarketSim::okx_trade`], [`MarketSim::okx_crossed`];
//! * `coinbase.rs` — [`MarketSim::coinbase_update`] (every touched level),
//!   [`MarketSim::coinbase_snapshot`] (the whole book),
//!   [`MarketSim::coinbase_ticker`], [`MarketSim::coinbase_trade`],
//!   [`MarketSim::coinbase_crossed`], [`MarketSim::coinbase_oversized`];
//! * `kraken.rs` — [`MarketSim::kraken_updates`] (one per subscribed
//!   depth, with the checksum), [`MarketSim::kraken_snapshot`],
//!   [`MarketSim::kraken_ticker`], [`MarketSim::kraken_trade`],
//!   [`MarketSim::kraken_crossed`];
//! * `number.rs` — the decimal spellings Bybit and OKX use.
//!
//! A depth-limited view (Bybit `orderbook.50`, OKX `books`' 400 levels)
//! publishes what an event changed in the best `depth` levels, including
//! levels entering the view when a better one goes and leaving it
//! (quantity 0) when pushed past the edge (`view_changes`).

mod binance;
mod bybit;
mod coinbase;
mod kraken;
mod number;
mod okx;
#[cfg(test)]
mod wire_tests;

use std::collections::BTreeMap;

use crate::types::Rng;
use crate::types::{Price, Qty, Scale, Side, Venue};

pub use self::binance::{push_decimal, push_u64};
pub use self::coinbase::{SEQ_MARK as COINBASE_SEQ_MARK, push_rfc3339};
pub use self::kraken::KRAKEN_DEPTHS;

/// Shape of the generated market.
#[derive(Clone, Debug)]
pub struct MarketConfig {
    /// The venue whose frames are written (Binance spot or USD-M picks the
    /// Binance variant, Bybit spot or linear the Bybit one).
    pub venue: Venue,
    /// Symbol, upper case (`BTCUSDT`).
    pub symbol: String,
    /// Starting mid price as a mantissa at `price_scale`.
    pub mid: i64,
    /// Price scale; the tick is one unit of it.
    pub price_scale: Scale,
    /// Quantity scale; the lot is one unit of it.
    pub qty_scale: Scale,
    /// Target levels per side.
    pub depth: usize,
    /// Book changes per diff event (about the number of levels a frame carries).
    pub changes_per_diff: usize,
    /// Mean distance of a change from the touch, in ticks.
    pub mean_distance: u64,
    /// Seed.
    pub seed: u64,
}

impl MarketConfig {
    /// BTCUSDT-like: $43,000, tick 0.01, lot 0.00001, 500 levels a side,
    /// about 25 levels per diff.
    pub fn btcusdt(venue: Venue, seed: u64) -> MarketConfig {
        MarketConfig {
            venue,
            symbol: "BTCUSDT".to_owned(),
            mid: 4_300_000,
            price_scale: Scale::new(2).unwrap_or(Scale::BINANCE_WIRE),
            qty_scale: Scale::new(5).unwrap_or(Scale::BINANCE_WIRE),
            depth: 500,
            changes_per_diff: 27,
            mean_distance: 12,
            seed,
        }
    }
}

/// The generator. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct MarketSim {
    cfg: MarketConfig,
    rng: Rng,
    stream: String,
    bids: BTreeMap<i64, i64>,
    asks: BTreeMap<i64, i64>,
    mid: i64,
    /// Last update id applied to the true book.
    id: u64,
    /// First id of the pending event, if any change is pending.
    pending_first: Option<u64>,
    /// Levels touched by the pending event, with their quantity before it
    /// (0: the level did not exist).
    touched: Vec<Touched>,
    /// `u` of the last flushed diff (`pu` of the next).
    last_flushed: u64,
    trade_id: u64,
    time_ms: u64,
    /// The venue's own book sequence (Bybit `u`, OKX `seqId`), advanced
    /// once per flushed event by the encoders that write one; 0 before the
    /// first. Binance's frames use the update ids instead.
    seq: u64,
}

impl MarketSim {
    /// Builds the initial book (`depth` levels a side around the mid).
    pub fn new(cfg: MarketConfig) -> MarketSim {
        let mut sim = MarketSim {
            rng: Rng::new(cfg.seed),
            stream: cfg.symbol.to_ascii_lowercase(),
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            mid: cfg.mid,
            id: 1_000_000,
            pending_first: None,
            touched: Vec::with_capacity(4 * cfg.changes_per_diff + 16),
            last_flushed: 1_000_000,
            trade_id: 5_000_000,
            time_ms: 1_700_000_000_000,
            seq: 60_000_000,
            cfg,
        };
        for i in 0..sim.cfg.depth as i64 {
            let spread = 1 + i + sim.rng.range(0, i / 4);
            let q = sim.random_qty();
            sim.bids.insert(sim.mid - spread, q);
            let q = sim.random_qty();
            sim.asks.insert(sim.mid + spread, q);
        }
        sim
    }

    /// The configuration.
    pub fn config(&self) -> &MarketConfig {
        &self.cfg
    }

    /// Sets the exchange clock (ms) written into frames.
    pub fn set_time_ms(&mut self, ms: u64) {
        self.time_ms = ms;
    }

    /// The last update id applied to the true book.
    pub fn last_update_id(&self) -> u64 {
        self.id
    }

    /// The venue's book sequence of the last flushed event (Bybit `u`, OKX
    /// `seqId`); see the encoders.
    pub fn book_seq(&self) -> u64 {
        self.seq
    }

    /// The true book, best first.
    pub fn levels(&self, side: Side) -> Vec<(Price, Qty)> {
        match side {
            Side::Bid => self
                .bids
                .iter()
                .rev()
                .map(|(&p, &q)| (Price(p), Qty(q)))
                .collect(),
            Side::Ask => self
                .asks
                .iter()
                .map(|(&p, &q)| (Price(p), Qty(q)))
                .collect(),
        }
    }

    /// Best bid and ask of the true book.
    pub fn top(&self) -> Option<((Price, Qty), (Price, Qty))> {
        let (&bp, &bq) = self.bids.iter().next_back()?;
        let (&ap, &aq) = self.asks.iter().next()?;
        Some(((Price(bp), Qty(bq)), (Price(ap), Qty(aq))))
    }

    fn random_qty(&mut self) -> i64 {
        let lot = 1i64;
        // Mostly small, sometimes large: 0.00001 .. ~5 at scale 5.
        let base = self.rng.range(1, 50_000);
        if self.rng.chance(1, 8) {
            base * self.rng.range(2, 10) * lot
        } else {
            base * lot
        }
    }

    /// One book change: one update id.
    fn change(&mut self) {
        if self.pending_first.is_none() {
            if self.cfg.venue == Venue::BinanceUsdm {
                // Futures ids skip between events (other symbols share the counter).
                self.id += self.rng.below(20);
            }
            self.pending_first = Some(self.id + 1);
        }
        self.id += 1;
        // Occasionally the mid walks, pulling the touch with it.
        if self.rng.chance(1, 12) {
            let step = if self.rng.chance(1, 2) { 1 } else { -1 };
            self.mid += step;
            self.uncross();
        }
        let side = if self.rng.chance(1, 2) {
            Side::Bid
        } else {
            Side::Ask
        };
        let dist = 1 + self.rng.geometric(self.cfg.mean_distance) as i64;
        let price = match side {
            Side::Bid => self.mid - dist,
            Side::Ask => self.mid + dist,
        };
        let (book, len) = match side {
            Side::Bid => (&self.bids, self.bids.len()),
            Side::Ask => (&self.asks, self.asks.len()),
        };
        let exists = book.contains_key(&price);
        let deep = len > self.cfg.depth + self.cfg.depth / 10;
        if exists && (deep || self.rng.chance(1, 4)) {
            self.set(side, price, 0);
        } else {
            let q = self.random_qty();
            self.set(side, price, q);
        }
        if deep {
            // Trim the far end back toward the target depth.
            let far = match side {
                Side::Bid => self.bids.keys().next().copied(),
                Side::Ask => self.asks.keys().next_back().copied(),
            };
            if let Some(p) = far {
                self.set(side, p, 0);
            }
        }
    }

    /// Removes levels the mid walked over.
    fn uncross(&mut self) {
        while let Some((&p, _)) = self.asks.iter().next().filter(|(p, _)| **p <= self.mid) {
            self.set(Side::Ask, p, 0);
        }
        while let Some((&p, _)) = self
            .bids
            .iter()
            .next_back()
            .filter(|(p, _)| **p >= self.mid)
        {
            self.set(Side::Bid, p, 0);
        }
    }

    fn set(&mut self, side: Side, price: i64, qty: i64) {
        let book = match side {
            Side::Bid => &mut self.bids,
            Side::Ask => &mut self.asks,
        };
        if !self
            .touched
            .iter()
            .any(|t| t.side == side && t.price == price)
        {
            self.touched.push(Touched {
                side,
                price,
                before: book.get(&price).copied().unwrap_or(0),
            });
        }
        if qty == 0 {
            book.remove(&price);
        } else {
            book.insert(price, qty);
        }
    }

    /// Closes the pending event: its ids (`first` is the next id when
    /// nothing is pending), the exchange clock ticks, and the touched levels
    /// are sorted best first. Read them with [`Self::event_levels`], then
    /// call [`Self::finish_event`].
    fn close_event(&mut self) -> EventIds {
        let first = self.pending_first.take().unwrap_or(self.id + 1);
        let last = self.id.max(first);
        self.id = last;
        self.time_ms += 1;
        self.touched.sort_unstable_by_key(|t| {
            (
                t.side as u8,
                if t.side == Side::Bid {
                    -t.price
                } else {
                    t.price
                },
            )
        });
        EventIds {
            first,
            last,
            prev: self.last_flushed,
        }
    }

    /// The levels of `side` the closed event touched, best first, with their
    /// quantity now (0: removed).
    fn event_levels(&self, side: Side) -> impl Iterator<Item = (i64, i64)> + '_ {
        self.touched
            .iter()
            .filter(move |t| t.side == side)
            .map(move |t| (t.price, self.qty_at(side, t.price)))
    }

    /// The quantity at `price` now (0: no level).
    fn qty_at(&self, side: Side, price: i64) -> i64 {
        let q = match side {
            Side::Bid => self.bids.get(&price),
            Side::Ask => self.asks.get(&price),
        };
        q.copied().unwrap_or(0)
    }

    /// What the closed event changed in the best `depth` levels of `side`
    /// — the view a depth-limited stream publishes — written into `out`
    /// (cleared first) best first, with each level's quantity now (0: it
    /// left the view). A level enters the view when it is new or touched,
    /// or when a better one went away; it leaves it when removed or pushed
    /// past `depth`. Call between `close_event` and `finish_event`.
    fn view_changes(&self, side: Side, depth: usize, out: &mut Vec<(i64, i64)>) {
        out.clear();
        let better = |a: i64, b: i64| if side == Side::Bid { a > b } else { a < b };
        let touched = || self.touched.iter().filter(|t| t.side == side);
        let was_touched = |p: i64| touched().any(|t| t.price == p);
        // The view before the event: untouched levels as they are, touched
        // ones with their old quantity, merged best first.
        let mut old: Vec<i64> = touched()
            .filter(|t| t.before != 0)
            .map(|t| t.price)
            .collect();
        old.extend(
            self.best(side, depth + self.touched.len())
                .map(|(p, _)| p)
                .filter(|&p| !was_touched(p)),
        );
        old.sort_unstable_by(|&a, &b| {
            if better(a, b) {
                std::cmp::Ordering::Less
            } else if a == b {
                std::cmp::Ordering::Equal
            } else {
                std::cmp::Ordering::Greater
            }
        });
        old.truncate(depth);
        let new: Vec<(i64, i64)> = self.best(side, depth).collect();
        for &(p, q) in &new {
            if was_touched(p) || !old.contains(&p) {
                out.push((p, q));
            }
        }
        for &p in &old {
            if !new.iter().any(|&(np, _)| np == p) {
                out.push((p, 0));
            }
        }
        out.sort_unstable_by(|&(a, _), &(b, _)| {
            if better(a, b) {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Greater
            }
        });
    }

    /// Advances the venue's book sequence by `step` (at least 1); returns
    /// `(previous, new)`.
    fn advance_seq(&mut self, step: u64) -> (u64, u64) {
        let prev = self.seq;
        self.seq += step.max(1);
        (prev, self.seq)
    }

    /// Ends the closed event: it becomes the one the next event chains to.
    fn finish_event(&mut self, ids: EventIds) {
        self.touched.clear();
        self.last_flushed = ids.last;
    }

    /// A bogus event whose bid sits 10 ticks above the best ask, with ids
    /// that continue the chain; nothing in the model changes.
    fn crossed_event(&self) -> Option<Crossed> {
        let (_, (ask, _)) = self.top()?;
        Some(Crossed {
            ids: EventIds {
                first: self.last_flushed + 1,
                last: self.id + 1,
                prev: self.last_flushed,
            },
            bid: ask.0 + 10,
        })
    }

    /// A trade at the touch (the clock ticks); `None` on an empty side.
    fn next_trade(&mut self) -> Option<Trade> {
        let ((bp, _), (ap, _)) = self.top()?;
        let buyer_maker = self.rng.chance(1, 2);
        let price = if buyer_maker { bp } else { ap };
        let qty = self.random_qty();
        self.trade_id += 1;
        self.time_ms += 1;
        Some(Trade {
            id: self.trade_id,
            price: price.0,
            qty,
            buyer_maker,
            time_ms: self.time_ms,
        })
    }

    /// Makes some of the next event's changes, so that a snapshot taken now
    /// falls inside that event, as on a real venue.
    fn enter_event(&mut self) {
        let inside = 1 + self
            .rng
            .below(self.cfg.changes_per_diff.max(1) as u64 / 2 + 1)
            as usize;
        for _ in 0..inside {
            self.change();
        }
    }

    /// The best `limit` levels of `side`, best first.
    fn best(&self, side: Side, limit: usize) -> impl Iterator<Item = (i64, i64)> + '_ {
        let take = |want: Side| if side == want { limit } else { 0 };
        let bids = self.bids.iter().rev().take(take(Side::Bid));
        let asks = self.asks.iter().take(take(Side::Ask));
        bids.chain(asks).map(|(&p, &q)| (p, q))
    }
}

/// A level the pending event touched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Touched {
    /// Its side.
    side: Side,
    /// Its price mantissa.
    price: i64,
    /// Its quantity before the event (0: it did not exist).
    before: i64,
}

/// The ids of one diff event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct EventIds {
    /// First update id in the event.
    first: u64,
    /// Last update id in the event.
    last: u64,
    /// Last id of the previous event.
    prev: u64,
}

/// A bogus diff whose bid crosses the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Crossed {
    /// Its ids (continuing the chain).
    ids: EventIds,
    /// Its one bid, as a price mantissa above the best ask.
    bid: i64,
}

/// One generated trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Trade {
    /// Trade id.
    id: u64,
    /// Price mantissa (the touch).
    price: i64,
    /// Quantity mantissa.
    qty: i64,
    /// The buyer was the maker (a sell hit the bid).
    buyer_maker: bool,
    /// Exchange time, ms.
    time_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::{BookApply, BookRead, BookSpec, Ladder, same_levels};
    use crate::types::Registry;
    use crate::venue::binance::{
        BinanceDecoder, BinanceMsg, BookSync, GapPolicy, SnapshotReply, SyncLimits,
    };

    #[test]
    fn generated_frames_rebuild_the_true_book() {
        for venue in [Venue::BinanceSpot, Venue::BinanceUsdm] {
            let mut sim = MarketSim::new(MarketConfig::btcusdt(venue, 7));
            let mut reg = Registry::new();
            let id = reg.add(venue, "BTCUSDT", "0.01", "0.00001").unwrap();
            let mut dec = BinanceDecoder::new(venue);
            let mut book = Ladder::new(BookSpec::new(1));
            let mut sync = BookSync::new(venue, id, GapPolicy::Resync, SyncLimits::default());
            let mut batch = crate::ring::EventBatch::with_capacity(40_000);
            let mut frame = Vec::new();
            // Two diffs buffered before the snapshot, as on a live connection.
            for _ in 0..2 {
                sim.depth_update(&mut frame);
                let BinanceMsg::Depth(d) = dec.decode(&frame, &reg.venue(venue)).unwrap() else {
                    panic!()
                };
                sync.handle_diff(&d, &mut book, &mut batch, 0);
            }
            sim.snapshot(5000, &mut frame);
            let snap = frame.clone();
            let SnapshotReply::Book(s) = dec.decode_snapshot(&snap, reg.get(id).scaling()).unwrap()
            else {
                panic!()
            };
            let outcome = sync.handle_snapshot(&s, &mut book, &mut batch, 0);
            assert_eq!(
                outcome,
                crate::venue::binance::SnapshotOutcome::Synced,
                "{venue}"
            );
            for _ in 0..300 {
                sim.depth_update(&mut frame);
                let BinanceMsg::Depth(d) = dec.decode(&frame, &reg.venue(venue)).unwrap() else {
                    panic!()
                };
                batch.clear();
                let o = sync.handle_diff(&d, &mut book, &mut batch, 0);
                assert_eq!(o, crate::venue::binance::DiffOutcome::Applied, "{venue}");
            }
            let mut truth = crate::book::RefBook::new(1);
            for side in [Side::Bid, Side::Ask] {
                for (p, q) in sim.levels(side) {
                    truth.apply(side, p, q).unwrap();
                }
            }
            assert!(same_levels(&book, &truth), "{venue}");
            assert!(!book.is_crossed());
        }
    }

    #[test]
    fn frames_are_realistic_in_size() {
        let mut sim = MarketSim::new(MarketConfig::btcusdt(Venue::BinanceSpot, 1));
        let mut frame = Vec::new();
        let mut total = 0;
        for _ in 0..200 {
            sim.depth_update(&mut frame);
            total += frame.len();
        }
        let avg = total / 200;
        assert!(
            (650..1100).contains(&avg),
            "average depth frame {avg} bytes"
        );
        let mut out = Vec::new();
        push_decimal(&mut out, 4_300_001, Scale::new(2).unwrap());
        assert_eq!(out, b"43000.01000000");
    }
}
