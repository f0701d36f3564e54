//! Helpers of the bridge tests: a generated event stream for a few books,
//! in-memory sinks, and a mirror that compares to the publisher's.

#![allow(dead_code)]

use std::sync::Arc;

use tickwire::book::{BookSpec, same_levels};
use tickwire::bridge::publisher::{Refused, Sink};
use tickwire::consumer::BookMirror;
use tickwire::types::{
    Event, FLAG_SNAPSHOT, InstrumentId, Price, Qty, Registry, Rng, Side, Stamp, StatusCode, Venue,
};

/// Two Binance instruments, tick 0.01, lot 0.001.
pub(crate) fn registry() -> Arc<Registry> {
    let mut r = Registry::new();
    r.add(Venue::BinanceSpot, "BTCUSDT", "0.01", "0.001")
        .unwrap();
    r.add(Venue::BinanceSpot, "ETHUSDT", "0.01", "0.001")
        .unwrap();
    Arc::new(r)
}

/// The stamp of the `Resyncing` state the tests publish their batches
/// with (the fan-out needs one; its fields do not matter here).
pub(crate) fn blank_stamp() -> Stamp {
    Stamp {
        venue: Venue::BinanceSpot,
        instrument: InstrumentId(0),
        seq: 0,
        exch_ns: 0,
        recv_ns: 0,
    }
}

/// Book capacity (levels a side) used by the tests.
pub(crate) const CAPACITY: usize = 256;

/// A deterministic stream of engine batches: a snapshot per instrument,
/// then diffs of 1..=4 levels, each batch ending with an end-of-batch event.
pub(crate) struct Feed {
    rng: Rng,
    seq: u64,
    started: Vec<bool>,
}

impl Feed {
    /// A feed for `n` instruments.
    pub(crate) fn new(seed: u64, n: usize) -> Feed {
        Feed {
            rng: Rng::new(seed),
            seq: 0,
            started: vec![false; n],
        }
    }

    fn stamp(&self, i: usize) -> Stamp {
        Stamp {
            venue: Venue::BinanceSpot,
            instrument: InstrumentId(i as u32),
            seq: self.seq,
            exch_ns: 1,
            recv_ns: 2,
        }
    }

    /// The next batch (for a random instrument).
    pub(crate) fn batch(&mut self) -> Vec<Event> {
        let i = self.rng.below(self.started.len() as u64) as usize;
        self.seq += 1;
        let stamp = self.stamp(i);
        let mut out = Vec::new();
        if !self.started[i] {
            self.started[i] = true;
            out.push(Event::status(stamp, StatusCode::SnapshotBegin, 0, 0, false));
            for k in 0..20 {
                out.push(Event::level(
                    stamp,
                    Side::Bid,
                    Price(10_000 - k),
                    Qty(5),
                    FLAG_SNAPSHOT,
                ));
                out.push(Event::level(
                    stamp,
                    Side::Ask,
                    Price(10_001 + k),
                    Qty(5),
                    FLAG_SNAPSHOT,
                ));
            }
            out.push(Event::status(stamp, StatusCode::SnapshotEnd, 40, 0, true));
            return out;
        }
        let n = 1 + self.rng.below(4);
        for _ in 0..n {
            let side = if self.rng.chance(1, 2) {
                Side::Bid
            } else {
                Side::Ask
            };
            let price = match side {
                Side::Bid => 10_000 - self.rng.range(0, 30),
                Side::Ask => 10_001 + self.rng.range(0, 30),
            };
            let qty = if self.rng.chance(1, 4) {
                0
            } else {
                self.rng.range(1, 100)
            };
            out.push(Event::level(stamp, side, Price(price), Qty(qty), 0));
        }
        if let Some(last) = out.last_mut() {
            *last = last.with_end_of_batch(true);
        }
        out
    }
}

/// A sink that keeps the messages it takes and refuses while `refuse` is set.
#[derive(Default)]
pub(crate) struct VecSink {
    pub(crate) messages: Vec<Vec<u8>>,
    pub(crate) refuse: Option<Refused>,
    pub(crate) disconnected: bool,
}

impl Sink for VecSink {
    fn offer(&mut self, msg: &[u8]) -> Result<(), Refused> {
        if let Some(r) = self.refuse {
            return Err(r);
        }
        self.messages.push(msg.to_vec());
        Ok(())
    }

    fn connected(&self) -> bool {
        !self.disconnected
    }
}

/// A book mirror sized like the publisher's.
pub(crate) fn mirror(reg: &Registry) -> BookMirror {
    BookMirror::new(
        reg.iter()
            .map(|i| BookSpec::new(i.tick).with_capacity(CAPACITY)),
    )
}

/// True when every book of `a` equals `b`'s and both are consistent.
pub(crate) fn same_books(reg: &Registry, a: &BookMirror, b: &BookMirror) -> bool {
    reg.iter().all(|i| {
        a.is_consistent(i.id)
            && b.is_consistent(i.id)
            && same_levels(a.book(i.id).unwrap(), b.book(i.id).unwrap())
    })
}
