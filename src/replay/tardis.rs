//! A recording's book changes as tardis.dev `incremental_book_L2` CSV:
//! `exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount`,
//! one row per level change the engine published, in order. Timestamps are
//! µs since the UNIX epoch (`timestamp` the venue's time, the local receive
//! time when the venue gives none); prices and amounts are the exact
//! decimal text; amount 0 deletes the level; snapshot rows have
//! `is_snapshot` true. As tardis.dev readers do, a consumer resets its book
//! when a snapshot row follows a non-snapshot row.
//!
//! That rule cannot express a snapshot that directly follows another one
//! (a resync before any update was applied), nor an empty snapshot: the
//! reader would merge the two books, or keep the old one. So the rows track
//! the reader's book, and in those two cases first delete every level it
//! holds (non-snapshot rows with amount 0), at the new snapshot's time.

use std::collections::BTreeSet;
use std::io::Write;

use crate::book::BookRead;
use crate::ring::{BookState, EventBatch, Publish};
use crate::types::{Body, Instrument, Nanos, Price, Side, StatusCode, Venue};

/// The CSV header line.
pub const HEADER: &str = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount";

/// tardis.dev's exchange id for `symbol` on `venue` (the venue's
/// [`Profile::tardis_exchange`](crate::venue::profile::Profile::tardis_exchange)).
pub fn exchange_id(venue: Venue, symbol: &str) -> &'static str {
    (crate::venue::profile(venue).tardis_exchange)(symbol)
}

/// Writes the rows of one instrument's level events (a [`Publish`] target
/// for [`RecordingReplay`](super::recording::RecordingReplay)).
#[derive(Debug)]
pub struct TardisRows<W: Write> {
    out: W,
    inst: Instrument,
    exchange: &'static str,
    /// Engine clock → wall clock.
    offset: Nanos,
    /// Rows written.
    pub rows: u64,
    /// The first write error (writing stops there).
    pub error: Option<std::io::Error>,
    /// The levels a reader of the rows so far holds.
    held: BTreeSet<(bool, i64)>,
    /// The last row written was a snapshot row.
    last_snapshot: bool,
    /// Snapshot rows written since the last `SnapshotBegin`.
    snapshot_rows: u64,
}

impl<W: Write> TardisRows<W> {
    /// Rows of `inst` to `out`; `offset` turns engine times into wall times
    /// ([`RecordingReplay::wall_time`](super::recording::RecordingReplay::wall_time)'s).
    pub fn new(out: W, inst: Instrument, offset: Nanos) -> TardisRows<W> {
        TardisRows {
            out,
            exchange: exchange_id(inst.venue, inst.symbol.as_str()),
            inst,
            offset,
            rows: 0,
            error: None,
            held: BTreeSet::new(),
            last_snapshot: false,
            snapshot_rows: 0,
        }
    }

    /// Writes the header line.
    pub fn header(&mut self) {
        if let Err(e) = writeln!(self.out, "{HEADER}") {
            self.error.get_or_insert(e);
        }
    }

    /// Flushes and hands the writer back.
    pub fn finish(mut self) -> Result<W, std::io::Error> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> TardisRows<W> {
    /// One row; `(exch_us, local_us)` its timestamps.
    fn row(&mut self, t: (u64, u64), snapshot: bool, side: Side, price: Price, qty: i64) {
        let name = match side {
            Side::Bid => "bid",
            Side::Ask => "ask",
        };
        let key = (side == Side::Bid, price.0);
        if snapshot && !self.last_snapshot {
            // The reader resets here.
            self.held.clear();
        }
        if qty == 0 {
            self.held.remove(&key);
        } else {
            self.held.insert(key);
        }
        self.last_snapshot = snapshot;
        let r = writeln!(
            self.out,
            "{},{},{},{},{snapshot},{name},{},{}",
            self.exchange,
            self.inst.symbol.as_str(),
            t.0,
            t.1,
            price.at(self.inst.price_scale),
            crate::types::Qty(qty).at(self.inst.qty_scale),
        );
        match r {
            Ok(()) => self.rows += 1,
            Err(e) => self.error = Some(e),
        }
    }

    /// Deletes every level the reader holds (non-snapshot rows).
    fn clear_reader(&mut self, t: (u64, u64)) {
        let held: Vec<(bool, i64)> = std::mem::take(&mut self.held).into_iter().collect();
        for (bid, price) in held {
            let side = if bid { Side::Bid } else { Side::Ask };
            self.row(t, false, side, Price(price), 0);
        }
    }
}

impl<W: Write> Publish for TardisRows<W> {
    fn publish<B: BookRead>(&mut self, batch: &EventBatch, _: BookState<'_, B>, _: Nanos) {
        for e in batch.events() {
            if self.error.is_some() {
                return;
            }
            if e.instrument != self.inst.id {
                continue;
            }
            let local_us = e.recv_ns.saturating_add(self.offset) / 1_000;
            let exch_us = if e.exch_ns > 0 {
                e.exch_ns / 1_000
            } else {
                local_us
            };
            let t = (exch_us, local_us);
            match e.body() {
                Body::Level(l) => {
                    if l.snapshot {
                        self.snapshot_rows += 1;
                    }
                    self.row(t, l.snapshot, l.side, l.price, l.qty.0);
                }
                Body::Status(st) if st.code == StatusCode::SnapshotBegin => {
                    self.snapshot_rows = 0;
                    if self.last_snapshot {
                        self.clear_reader(t);
                    }
                }
                // An empty snapshot: no row would make the reader reset.
                Body::Status(st)
                    if st.code == StatusCode::SnapshotEnd && self.snapshot_rows == 0 =>
                {
                    self.clear_reader(t);
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::Ladder;
    use crate::types::{Event, FLAG_SNAPSHOT, InstrumentId, Qty, Registry, Stamp};

    fn stamp(id: InstrumentId, t: u64) -> Stamp {
        Stamp {
            venue: Venue::BinanceSpot,
            instrument: id,
            seq: 0,
            exch_ns: 0,
            recv_ns: t * 1_000,
        }
    }

    /// A snapshot message: begin, levels `(bid, price, qty)`, end.
    fn snapshot(id: InstrumentId, t: u64, levels: &[(bool, i64, i64)]) -> EventBatch {
        let mut b = EventBatch::with_capacity(16);
        let s = stamp(id, t);
        b.push(Event::status(s, StatusCode::SnapshotBegin, 0, 0, false));
        for &(bid, p, q) in levels {
            let side = if bid { Side::Bid } else { Side::Ask };
            b.push(Event::level(s, side, Price(p), Qty(q), FLAG_SNAPSHOT));
        }
        let n = levels.len() as i64;
        b.push(Event::status(s, StatusCode::SnapshotEnd, n, 0, true));
        b
    }

    fn rows(batches: &[EventBatch]) -> Vec<String> {
        let mut reg = Registry::new();
        let id = reg
            .add(Venue::BinanceSpot, "BTCUSDT", "0.01", "0.001")
            .unwrap();
        let mut out = TardisRows::new(Vec::new(), *reg.get(id), 0);
        let book = Ladder::new(crate::book::BookSpec::new(1));
        for b in batches {
            out.publish(b, BookState::Live(&book, stamp(id, 0)), 0);
        }
        let text = String::from_utf8(out.finish().unwrap()).unwrap();
        text.lines()
            .map(|l| l.splitn(5, ',').nth(4).unwrap().to_owned())
            .collect()
    }

    #[test]
    fn every_venue_has_its_tardis_exchange_id() {
        let ids: Vec<&str> = Venue::ALL
            .iter()
            .map(|&v| exchange_id(v, "BTC-USDT"))
            .collect();
        assert_eq!(
            ids,
            [
                "binance",
                "binance-futures",
                "bybit-spot",
                "bybit",
                "okex",
                "coinbase",
                "kraken"
            ]
        );
        assert_eq!(exchange_id(Venue::Okx, "BTC-USDT-SWAP"), "okex-swap");
        assert_eq!(exchange_id(Venue::Okx, "BTC-USD-251226"), "okex-futures");
    }

    #[test]
    fn a_snapshot_after_a_snapshot_first_deletes_what_the_reader_holds() {
        let id = InstrumentId(0);
        let got = rows(&[
            snapshot(id, 1, &[(true, 100, 5), (false, 101, 7)]),
            snapshot(id, 2, &[(true, 99, 1)]),
        ]);
        assert_eq!(
            got,
            [
                "true,bid,1,0.005",
                "true,ask,1.01,0.007",
                // Without these the reader would merge both snapshots.
                "false,ask,1.01,0",
                "false,bid,1,0",
                "true,bid,0.99,0.001",
            ]
        );
    }

    #[test]
    fn an_empty_snapshot_deletes_and_a_snapshot_after_updates_needs_nothing() {
        let id = InstrumentId(0);
        let mut update = EventBatch::with_capacity(4);
        update.push(Event::level(stamp(id, 2), Side::Bid, Price(100), Qty(0), 0));
        let got = rows(&[
            snapshot(id, 1, &[(true, 100, 5), (true, 98, 2)]),
            update,
            snapshot(id, 3, &[(true, 97, 3)]),
            snapshot(id, 4, &[]),
        ]);
        assert_eq!(
            got,
            [
                "true,bid,1,0.005",
                "true,bid,0.98,0.002",
                "false,bid,1,0",
                // A snapshot row after an update: the reader resets itself.
                "true,bid,0.97,0.003",
                // The empty snapshot clears the reader's book.
                "false,bid,0.97,0",
            ]
        );
    }
}
