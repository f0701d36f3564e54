//! A recording's book changes as tardis.dev `incremental_book_L2` CSV:
//! `exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount`,
//! one row per level change the engine published, in order. Timestamps are
//! µs since the UNIX epoch (`timestamp` the venue's time, the local receive
//! time when the venue gives none); prices and amounts are the exact
//! decimal text; amount 0 deletes the level; snapshot rows have
//! `is_snapshot` true. As tardis.dev readers do, a consumer resets its book
//! when a snapshot row follows a non-snapshot row.

use std::io::Write;

use crate::book::BookRead;
use crate::ring::{BookState, EventBatch, Publish};
use crate::types::{Body, Instrument, Nanos, Side, Venue};

/// The CSV header line.
pub const HEADER: &str = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount";

/// tardis.dev's exchange id for `venue` (OKX by instrument type: `okex`
/// spot, `okex-swap`, `okex-futures`).
pub fn exchange_id(venue: Venue, symbol: &str) -> &'static str {
    match venue {
        Venue::BinanceSpot => "binance",
        Venue::BinanceUsdm => "binance-futures",
        Venue::BybitSpot => "bybit-spot",
        Venue::BybitLinear => "bybit",
        Venue::Okx if symbol.ends_with("-SWAP") => "okex-swap",
        Venue::Okx
            if symbol
                .rsplit('-')
                .next()
                .is_some_and(|s| s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit())) =>
        {
            "okex-futures"
        }
        Venue::Okx => "okex",
        Venue::Coinbase => "coinbase",
        Venue::Kraken => "kraken",
    }
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

impl<W: Write> Publish for TardisRows<W> {
    fn publish<B: BookRead>(&mut self, batch: &EventBatch, _: BookState<'_, B>, _: Nanos) {
        if self.error.is_some() {
            return;
        }
        for e in batch.events() {
            if e.instrument != self.inst.id {
                continue;
            }
            let Body::Level(l) = e.body() else {
                continue;
            };
            let local_us = e.recv_ns.saturating_add(self.offset) / 1_000;
            let exch_us = if e.exch_ns > 0 {
                e.exch_ns / 1_000
            } else {
                local_us
            };
            let side = match l.side {
                Side::Bid => "bid",
                Side::Ask => "ask",
            };
            let r = writeln!(
                self.out,
                "{},{},{exch_us},{local_us},{},{side},{},{}",
                self.exchange,
                self.inst.symbol.as_str(),
                l.snapshot,
                l.price.at(self.inst.price_scale),
                l.qty.at(self.inst.qty_scale),
            );
            if let Err(err) = r {
                self.error = Some(err);
                return;
            }
            self.rows += 1;
        }
    }
}
