//! Binance's wire format for the generated market: combined-stream
//! `depthUpdate`, `bookTicker`, `trade` / `aggTrade` frames and the REST
//! depth snapshot body, spot and USD-M. The model (the parent module) decides
//! what happens; this file only writes it down the way Binance does.

use super::MarketSim;
use crate::types::{Scale, Side, Venue};

/// Eight decimals: how Binance writes every price and quantity.
const WIRE_DECIMALS: u8 = 8;

impl MarketSim {
    fn usdm(&self) -> bool {
        self.cfg.venue == Venue::BinanceUsdm
    }

    /// Makes `changes_per_diff` changes and writes them as one
    /// combined-stream `depthUpdate` frame into `out` (cleared first).
    pub fn depth_update(&mut self, out: &mut Vec<u8>) {
        for _ in 0..self.cfg.changes_per_diff.max(1) {
            self.change();
        }
        self.flush_diff(out);
    }

    /// Writes the pending event as a diff frame (empty if nothing is pending).
    pub fn flush_diff(&mut self, out: &mut Vec<u8>) {
        out.clear();
        let event = self.close_event();
        let usdm = self.usdm();
        out.extend_from_slice(b"{\"stream\":\"");
        out.extend_from_slice(self.stream.as_bytes());
        out.extend_from_slice(b"@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":");
        push_u64(out, self.time_ms);
        if usdm {
            out.extend_from_slice(b",\"T\":");
            push_u64(out, self.time_ms.saturating_sub(1));
        }
        out.extend_from_slice(b",\"s\":\"");
        out.extend_from_slice(self.cfg.symbol.as_bytes());
        out.extend_from_slice(b"\",\"U\":");
        push_u64(out, event.first);
        out.extend_from_slice(b",\"u\":");
        push_u64(out, event.last);
        if usdm {
            out.extend_from_slice(b",\"pu\":");
            push_u64(out, event.prev);
        }
        for (side, key) in [(Side::Bid, b"\"b\""), (Side::Ask, b"\"a\"")] {
            out.push(b',');
            out.extend_from_slice(key);
            out.extend_from_slice(b":[");
            for (n, (price, qty)) in self.event_levels(side).enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                self.push_level(out, price, qty);
            }
            out.push(b']');
        }
        out.extend_from_slice(b"}}");
        self.finish_event(event);
    }

    /// Appends `["<price>","<qty>"]` in Binance's wire format.
    fn push_level(&self, out: &mut Vec<u8>, price: i64, qty: i64) {
        out.extend_from_slice(b"[\"");
        push_decimal(out, price, self.cfg.price_scale);
        out.extend_from_slice(b"\",\"");
        push_decimal(out, qty, self.cfg.qty_scale);
        out.extend_from_slice(b"\"]");
    }

    /// Writes a bogus diff whose bid sits above the best ask. Its ids
    /// continue the chain (`U` right after the last diff sent, `u` past every
    /// pending change, so a client synced from a recent snapshot applies it
    /// too), but neither the true book nor the id counter changes: the next
    /// real diff overlaps it, and a client that resyncs converges again.
    pub fn crossed_diff(&mut self, out: &mut Vec<u8>) {
        out.clear();
        let Some(crossed) = self.crossed_event() else {
            return;
        };
        out.extend_from_slice(b"{\"stream\":\"");
        out.extend_from_slice(self.stream.as_bytes());
        out.extend_from_slice(b"@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":");
        push_u64(out, self.time_ms);
        out.extend_from_slice(b",\"s\":\"");
        out.extend_from_slice(self.cfg.symbol.as_bytes());
        out.extend_from_slice(b"\",\"U\":");
        push_u64(out, crossed.ids.first);
        out.extend_from_slice(b",\"u\":");
        push_u64(out, crossed.ids.last);
        if self.usdm() {
            out.extend_from_slice(b",\"pu\":");
            push_u64(out, crossed.ids.prev);
        }
        out.extend_from_slice(b",\"b\":[");
        self.push_level(out, crossed.bid, 1);
        out.extend_from_slice(b"],\"a\":[]}}");
    }

    /// Writes a `bookTicker` frame for the current top of book.
    pub fn book_ticker(&mut self, out: &mut Vec<u8>) {
        out.clear();
        let Some(((bp, bq), (ap, aq))) = self.top() else {
            return;
        };
        let usdm = self.usdm();
        out.extend_from_slice(b"{\"stream\":\"");
        out.extend_from_slice(self.stream.as_bytes());
        out.extend_from_slice(b"@bookTicker\",\"data\":{");
        if usdm {
            out.extend_from_slice(b"\"e\":\"bookTicker\",");
        }
        out.extend_from_slice(b"\"u\":");
        push_u64(out, self.id);
        out.extend_from_slice(b",\"s\":\"");
        out.extend_from_slice(self.cfg.symbol.as_bytes());
        for (key, v, scale) in [
            (b"\",\"b\":\"", bp.0, self.cfg.price_scale),
            (b"\",\"B\":\"", bq.0, self.cfg.qty_scale),
            (b"\",\"a\":\"", ap.0, self.cfg.price_scale),
            (b"\",\"A\":\"", aq.0, self.cfg.qty_scale),
        ] {
            out.extend_from_slice(key);
            push_decimal(out, v, scale);
        }
        out.push(b'"');
        if usdm {
            out.extend_from_slice(b",\"T\":");
            push_u64(out, self.time_ms);
            out.extend_from_slice(b",\"E\":");
            push_u64(out, self.time_ms);
        }
        out.extend_from_slice(b"}}");
    }

    /// Writes a trade at the touch: `trade` on spot, `aggTrade` on USD-M.
    pub fn trade(&mut self, out: &mut Vec<u8>) {
        out.clear();
        let Some(t) = self.next_trade() else {
            return;
        };
        let usdm = self.usdm();
        out.extend_from_slice(b"{\"stream\":\"");
        out.extend_from_slice(self.stream.as_bytes());
        if usdm {
            out.extend_from_slice(b"@aggTrade\",\"data\":{\"e\":\"aggTrade\",\"E\":");
        } else {
            out.extend_from_slice(b"@trade\",\"data\":{\"e\":\"trade\",\"E\":");
        }
        push_u64(out, t.time_ms);
        out.extend_from_slice(b",\"s\":\"");
        out.extend_from_slice(self.cfg.symbol.as_bytes());
        out.extend_from_slice(if usdm { b"\",\"a\":" } else { b"\",\"t\":" });
        push_u64(out, t.id);
        out.extend_from_slice(b",\"p\":\"");
        push_decimal(out, t.price, self.cfg.price_scale);
        out.extend_from_slice(b"\",\"q\":\"");
        push_decimal(out, t.qty, self.cfg.qty_scale);
        out.push(b'"');
        if usdm {
            out.extend_from_slice(b",\"f\":");
            push_u64(out, t.id * 3);
            out.extend_from_slice(b",\"l\":");
            push_u64(out, t.id * 3 + 2);
        }
        out.extend_from_slice(b",\"T\":");
        push_u64(out, t.time_ms);
        out.extend_from_slice(if t.buyer_maker {
            b",\"m\":true"
        } else {
            b",\"m\":false"
        });
        if !usdm {
            out.extend_from_slice(b",\"M\":true");
        }
        out.extend_from_slice(b"}}");
    }

    /// Writes a REST depth snapshot body (top `limit` levels a side). Some
    /// changes of the next event happen first, so `lastUpdateId` lies inside
    /// that event's `[U, u]` as on the real venue.
    pub fn snapshot(&mut self, limit: usize, out: &mut Vec<u8>) {
        out.clear();
        self.enter_event();
        out.extend_from_slice(b"{\"lastUpdateId\":");
        push_u64(out, self.id);
        if self.usdm() {
            out.extend_from_slice(b",\"E\":");
            push_u64(out, self.time_ms);
            out.extend_from_slice(b",\"T\":");
            push_u64(out, self.time_ms);
        }
        for (key, side) in [
            (&b",\"bids\":["[..], Side::Bid),
            (&b",\"asks\":["[..], Side::Ask),
        ] {
            out.extend_from_slice(key);
            for (n, (price, qty)) in self.best(side, limit).enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                self.push_level(out, price, qty);
            }
            out.push(b']');
        }
        out.push(b'}');
    }
}

/// Appends `v` in decimal.
pub fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends a non-negative mantissa at `scale` the way Binance writes it:
/// always eight decimals (`"43000.01000000"`).
pub fn push_decimal(out: &mut Vec<u8>, mantissa: i64, scale: Scale) {
    let s = u32::from(scale.decimals().min(WIRE_DECIMALS));
    let one = 10u64.pow(s);
    let m = mantissa.unsigned_abs();
    if mantissa < 0 {
        out.push(b'-');
    }
    push_u64(out, m / one);
    out.push(b'.');
    let frac = m % one;
    let mut digits = [b'0'; WIRE_DECIMALS as usize];
    let mut f = frac;
    for i in (0..s as usize).rev() {
        digits[i] = b'0' + (f % 10) as u8;
        f /= 10;
    }
    out.extend_from_slice(&digits);
}
