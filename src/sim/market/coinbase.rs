//! Coinbase Advanced Trade's wire format for the generated market, in the
//! captures' key order and number spelling (trimmed decimals: `"1919.4"`,
//! `"1"`): `l2_data` (`snapshot` = the whole book, `update` = every level
//! the event touched, quantity `"0"` removes), `ticker` (best bid/offer) and
//! `market_trades`. Every frame carries `"sequence_num":0`: the count is
//! per connection, so the simulator's per-client session writes each
//! client's own number over it ([`SEQ_MARK`]).

use super::number::push_trimmed;
use super::{MarketSim, push_u64};
use crate::types::Side;

/// The envelope's `sequence_num` as the encoder writes it, for a
/// connection to overwrite with its own count.
pub const SEQ_MARK: &[u8] = b"\"sequence_num\":0,";

/// Appends `ns` since the epoch as RFC 3339 with nanoseconds
/// (`2026-08-09T21:05:48.228568804Z`), as Coinbase writes its timestamps.
pub fn push_rfc3339(out: &mut Vec<u8>, ns: u64) {
    let secs = ns / 1_000_000_000;
    let frac = ns % 1_000_000_000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let two = |out: &mut Vec<u8>, v: u64| {
        out.push(b'0' + (v / 10) as u8);
        out.push(b'0' + (v % 10) as u8);
    };
    push_u64(out, year.max(0) as u64);
    out.push(b'-');
    two(out, month as u64);
    out.push(b'-');
    two(out, day as u64);
    out.push(b'T');
    two(out, rem / 3_600);
    out.push(b':');
    two(out, rem / 60 % 60);
    out.push(b':');
    two(out, rem % 60);
    out.push(b'.');
    let start = out.len();
    out.resize(start + 9, b'0');
    let mut f = frac;
    for i in (0..9).rev() {
        out[start + i] = b'0' + (f % 10) as u8;
        f /= 10;
    }
    out.push(b'Z');
}

impl MarketSim {
    /// `{"channel":"<channel>","client_id":"","timestamp":"..","sequence_num":0,"events":[`.
    fn coinbase_envelope(&self, out: &mut Vec<u8>, channel: &str) {
        out.clear();
        out.extend_from_slice(b"{\"channel\":\"");
        out.extend_from_slice(channel.as_bytes());
        out.extend_from_slice(b"\",\"client_id\":\"\",\"timestamp\":\"");
        push_rfc3339(out, self.time_ms * 1_000_000 + 123_456);
        out.extend_from_slice(b"\",");
        out.extend_from_slice(SEQ_MARK);
        out.extend_from_slice(b"\"events\":[");
    }

    fn coinbase_price(&self, out: &mut Vec<u8>, price: i64) {
        push_trimmed(out, price, self.cfg.price_scale, 0);
    }

    fn coinbase_qty(&self, out: &mut Vec<u8>, qty: i64) {
        push_trimmed(out, qty, self.cfg.qty_scale, 0);
    }

    /// One `l2_data` event of `kind` with `bids` then `offers`.
    fn coinbase_l2(
        &self,
        out: &mut Vec<u8>,
        kind: &str,
        bids: &[(i64, i64)],
        offers: &[(i64, i64)],
    ) {
        self.coinbase_envelope(out, "l2_data");
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(b"\",\"product_id\":\"");
        out.extend_from_slice(self.cfg.symbol.as_bytes());
        out.extend_from_slice(b"\",\"updates\":[");
        let mut first = true;
        for (side, levels) in [(&b"bid"[..], bids), (b"offer", offers)] {
            for &(p, q) in levels {
                if !first {
                    out.push(b',');
                }
                first = false;
                out.extend_from_slice(b"{\"side\":\"");
                out.extend_from_slice(side);
                out.extend_from_slice(b"\",\"event_time\":\"");
                push_rfc3339(out, self.time_ms * 1_000_000);
                out.extend_from_slice(b"\",\"price_level\":\"");
                self.coinbase_price(out, p);
                out.extend_from_slice(b"\",\"new_quantity\":\"");
                self.coinbase_qty(out, q);
                out.extend_from_slice(b"\"}");
            }
        }
        out.extend_from_slice(b"]}]}");
    }

    /// Makes `changes_per_diff` changes as one event and writes it as an
    /// `l2_data` update: every level it touched, with its quantity now.
    pub fn coinbase_update(&mut self, out: &mut Vec<u8>) {
        for _ in 0..self.cfg.changes_per_diff.max(1) {
            self.change();
        }
        let event = self.close_event();
        let bids: Vec<(i64, i64)> = self.event_levels(Side::Bid).collect();
        let offers: Vec<(i64, i64)> = self.event_levels(Side::Ask).collect();
        self.advance_seq(1);
        self.coinbase_l2(out, "update", &bids, &offers);
        self.finish_event(event);
    }

    /// Writes the whole book as an `l2_data` snapshot.
    pub fn coinbase_snapshot(&self, out: &mut Vec<u8>) {
        let bids: Vec<(i64, i64)> = self.best(Side::Bid, usize::MAX).collect();
        let offers: Vec<(i64, i64)> = self.best(Side::Ask, usize::MAX).collect();
        self.coinbase_l2(out, "snapshot", &bids, &offers);
    }

    /// Writes an update whose one bid sits 10 ticks above the best ask; the
    /// true book does not change.
    pub fn coinbase_crossed(&mut self, out: &mut Vec<u8>) {
        out.clear();
        let Some(crossed) = self.crossed_event() else {
            return;
        };
        self.time_ms += 1;
        self.coinbase_l2(out, "update", &[(crossed.bid, 1)], &[]);
    }

    /// Writes a valid update of at least `bytes` bytes that changes
    /// nothing: the best bid set to its own quantity, again and again.
    pub fn coinbase_oversized(&self, bytes: usize, out: &mut Vec<u8>) {
        out.clear();
        let Some(((bp, bq), _)) = self.top() else {
            return;
        };
        let (mut one, mut two) = (Vec::new(), Vec::new());
        self.coinbase_l2(&mut one, "update", &[(bp.0, bq.0)], &[]);
        self.coinbase_l2(&mut two, "update", &[(bp.0, bq.0); 2], &[]);
        let level_bytes = (two.len() - one.len()).max(1);
        let n = bytes / level_bytes + 1;
        let bids = vec![(bp.0, bq.0); n];
        self.coinbase_l2(out, "update", &bids, &[]);
    }

    /// Writes a `ticker` frame: the best bid and offer with their quantities.
    pub fn coinbase_ticker(&self, out: &mut Vec<u8>) {
        out.clear();
        let Some(((bp, bq), (ap, aq))) = self.top() else {
            return;
        };
        self.coinbase_envelope(out, "ticker");
        out.extend_from_slice(
            b"{\"type\":\"update\",\"tickers\":[{\"type\":\"ticker\",\"product_id\":\"",
        );
        out.extend_from_slice(self.cfg.symbol.as_bytes());
        out.extend_from_slice(b"\",\"price\":\"");
        self.coinbase_price(out, bp.0);
        out.extend_from_slice(b"\",\"volume_24_h\":\"0\",\"low_24_h\":\"");
        self.coinbase_price(out, bp.0);
        out.extend_from_slice(b"\",\"high_24_h\":\"");
        self.coinbase_price(out, ap.0);
        out.extend_from_slice(b"\",\"price_percent_chg_24_h\":\"0\",\"best_bid\":\"");
        self.coinbase_price(out, bp.0);
        out.extend_from_slice(b"\",\"best_ask\":\"");
        self.coinbase_price(out, ap.0);
        out.extend_from_slice(b"\",\"best_bid_quantity\":\"");
        self.coinbase_qty(out, bq.0);
        out.extend_from_slice(b"\",\"best_ask_quantity\":\"");
        self.coinbase_qty(out, aq.0);
        out.extend_from_slice(b"\"}]}]}");
    }

    /// Writes a `market_trades` update with one trade at the touch.
    pub fn coinbase_trade(&mut self, out: &mut Vec<u8>) {
        out.clear();
        let Some(t) = self.next_trade() else {
            return;
        };
        self.coinbase_envelope(out, "market_trades");
        out.extend_from_slice(b"{\"type\":\"update\",\"trades\":[{\"product_id\":\"");
        out.extend_from_slice(self.cfg.symbol.as_bytes());
        out.extend_from_slice(b"\",\"trade_id\":\"");
        push_u64(out, t.id);
        out.extend_from_slice(b"\",\"price\":\"");
        self.coinbase_price(out, t.price);
        out.extend_from_slice(b"\",\"size\":\"");
        self.coinbase_qty(out, t.qty);
        out.extend_from_slice(b"\",\"time\":\"");
        push_rfc3339(out, t.time_ms * 1_000_000);
        // The taker's side: a sell hit the bid when the buyer was the maker.
        out.extend_from_slice(if t.buyer_maker {
            b"\",\"side\":\"SELL\"}]}]}"
        } else {
            b"\",\"side\":\"BUY\"}]}]}".as_slice()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::push_rfc3339;

    #[test]
    fn timestamps_are_written_as_coinbase_writes_them() {
        let mut out = Vec::new();
        push_rfc3339(&mut out, 1_786_309_548_228_568_804);
        assert_eq!(out, b"2026-08-09T21:05:48.228568804Z");
        out.clear();
        push_rfc3339(&mut out, 1_709_164_800_000_000_000 + 3_600_000_000_000);
        assert_eq!(out, b"2024-02-29T01:00:00.000000000Z");
    }
}
