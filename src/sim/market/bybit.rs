//! Bybit v5's wire format for the generated market, spot and linear:
//! `orderbook.{depth}.{symbol}` snapshots and deltas (`u` one more per
//! delta, `seq` the cross sequence, `ts`, `cts`), the `orderbook.1` BBO
//! snapshot, linear `tickers` (a full snapshot, then deltas of the fields
//! that move), and `publicTrade`. Spot writes `ts` before `type` and trims
//! numbers (`"65140"`, `"0.000678"`); linear writes `type` first and keeps
//! the instrument's decimals (`"65114.20"`), as the captures show.

use super::number::{push_fixed, push_trimmed};
use super::{MarketSim, push_u64};
use crate::types::{Side, Venue};

impl MarketSim {
    fn bybit_linear(&self) -> bool {
        self.cfg.venue == Venue::BybitLinear
    }

    /// A price or size the way this Bybit market spells it.
    fn bybit_number(&self, out: &mut Vec<u8>, mantissa: i64, price: bool) {
        let scale = if price {
            self.cfg.price_scale
        } else {
            self.cfg.qty_scale
        };
        if self.bybit_linear() {
            push_fixed(out, mantissa, scale, 0);
        } else {
            push_trimmed(out, mantissa, scale, 0);
        }
    }

    /// `{"topic":"<topic>","ts":..,"type":"<kind>"` (spot) or with `type`
    /// first (linear), ending before `,"data":`.
    fn bybit_head(&self, out: &mut Vec<u8>, topic: &[u8], kind: &str) {
        out.extend_from_slice(b"{\"topic\":\"");
        out.extend_from_slice(topic);
        if self.bybit_linear() {
            out.extend_from_slice(b"\",\"type\":\"");
            out.extend_from_slice(kind.as_bytes());
            out.extend_from_slice(b"\",\"ts\":");
            push_u64(out, self.time_ms);
        } else {
            out.extend_from_slice(b"\",\"ts\":");
            push_u64(out, self.time_ms);
            out.extend_from_slice(b",\"type\":\"");
            out.extend_from_slice(kind.as_bytes());
            out.push(b'"');
        }
    }

    /// `orderbook.{depth}.{symbol}`.
    fn bybit_book_topic(&self, depth: usize) -> Vec<u8> {
        let mut t = b"orderbook.".to_vec();
        push_u64(&mut t, depth as u64);
        t.push(b'.');
        t.extend_from_slice(self.cfg.symbol.as_bytes());
        t
    }

    /// One order-book message: `levels` per side, best first.
    fn bybit_book(
        &self,
        out: &mut Vec<u8>,
        depth: usize,
        kind: &str,
        bids: &[(i64, i64)],
        asks: &[(i64, i64)],
    ) {
        out.clear();
        self.bybit_head(out, &self.bybit_book_topic(depth), kind);
        out.extend_from_slice(b",\"data\":{\"s\":\"");
        out.extend_from_slice(self.cfg.symbol.as_bytes());
        for (key, levels) in [(b"\",\"b\":[", bids), (b"],\"a\":[", asks)] {
            out.extend_from_slice(key);
            for (n, &(p, q)) in levels.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"[\"");
                self.bybit_number(out, p, true);
                out.extend_from_slice(b"\",\"");
                self.bybit_number(out, q, false);
                out.extend_from_slice(b"\"]");
            }
        }
        out.extend_from_slice(b"],\"u\":");
        push_u64(out, self.seq);
        out.extend_from_slice(b",\"seq\":");
        push_u64(out, self.id);
        out.extend_from_slice(b"},\"cts\":");
        push_u64(out, self.time_ms.saturating_sub(3));
        out.push(b'}');
    }

    /// Makes `changes_per_diff` changes as one event (`u` one more than
    /// the last) and writes it as one `orderbook.{depths[i]}` delta into
    /// `out[i]`: each carries what changed in the best `depths[i]` levels
    /// (a level pushed out of them is deleted with `"0"`).
    pub fn bybit_deltas(&mut self, depths: &[usize], out: &mut [Vec<u8>]) {
        for _ in 0..self.cfg.changes_per_diff.max(1) {
            self.change();
        }
        let event = self.close_event();
        self.advance_seq(1);
        let (mut bids, mut asks) = (Vec::new(), Vec::new());
        for (&depth, frame) in depths.iter().zip(out.iter_mut()) {
            self.view_changes(Side::Bid, depth, &mut bids);
            self.view_changes(Side::Ask, depth, &mut asks);
            self.bybit_book(frame, depth, "delta", &bids, &asks);
        }
        self.finish_event(event);
    }

    /// Writes the best `depth` levels a side as an `orderbook.{depth}`
    /// snapshot (`u` the last delta's) into `out` (cleared first).
    pub fn bybit_snapshot(&self, depth: usize, out: &mut Vec<u8>) {
        let bids: Vec<_> = self.best(Side::Bid, depth).collect();
        let asks: Vec<_> = self.best(Side::Ask, depth).collect();
        self.bybit_book(out, depth, "snapshot", &bids, &asks);
    }

    /// Writes a delta per depth (into `out[i]`) whose one bid sits 10 ticks
    /// above the best ask. It takes the next `u`, so the chain continues,
    /// but the true book does not change: a client that applies it holds a
    /// crossed book until it resubscribes.
    pub fn bybit_crossed(&mut self, depths: &[usize], out: &mut [Vec<u8>]) {
        let Some(crossed) = self.crossed_event() else {
            return;
        };
        self.advance_seq(1);
        self.time_ms += 1;
        for (&depth, frame) in depths.iter().zip(out.iter_mut()) {
            self.bybit_book(frame, depth, "delta", &[(crossed.bid, 1)], &[]);
        }
    }

    /// Writes the best bid and ask as an `orderbook.1` snapshot.
    pub fn bybit_bbo(&self, out: &mut Vec<u8>) {
        self.bybit_snapshot(1, out);
    }

    /// Writes a linear `tickers` message: a `snapshot` with the ticker's
    /// fields, or a `delta` with the best bid and ask only (the fields that
    /// moved, as Bybit sends them).
    pub fn bybit_ticker(&self, snapshot: bool, out: &mut Vec<u8>) {
        out.clear();
        let Some(((bp, bq), (ap, aq))) = self.top() else {
            return;
        };
        let mut topic = b"tickers.".to_vec();
        topic.extend_from_slice(self.cfg.symbol.as_bytes());
        out.extend_from_slice(b"{\"topic\":\"");
        out.extend_from_slice(&topic);
        out.extend_from_slice(if snapshot {
            b"\",\"type\":\"snapshot\",\"data\":{\"symbol\":\"".as_slice()
        } else {
            b"\",\"type\":\"delta\",\"data\":{\"symbol\":\"".as_slice()
        });
        out.extend_from_slice(self.cfg.symbol.as_bytes());
        out.push(b'"');
        if snapshot {
            for key in [
                &b",\"lastPrice\":\""[..],
                b",\"markPrice\":\"",
                b",\"indexPrice\":\"",
            ] {
                out.extend_from_slice(key);
                self.bybit_number(out, bp.0, true);
                out.push(b'"');
            }
            out.extend_from_slice(b",\"tickDirection\":\"ZeroPlusTick\"");
        }
        for (key, v, price) in [
            (&b",\"bid1Price\":\""[..], bp.0, true),
            (b",\"bid1Size\":\"", bq.0, false),
            (b",\"ask1Price\":\"", ap.0, true),
            (b",\"ask1Size\":\"", aq.0, false),
        ] {
            out.extend_from_slice(key);
            self.bybit_number(out, v, price);
            out.push(b'"');
        }
        out.extend_from_slice(b"},\"cs\":");
        push_u64(out, self.id);
        out.extend_from_slice(b",\"ts\":");
        push_u64(out, self.time_ms);
        out.push(b'}');
    }

    /// Writes a `publicTrade` message with one trade at the touch.
    pub fn bybit_trade(&mut self, out: &mut Vec<u8>) {
        out.clear();
        let Some(t) = self.next_trade() else {
            return;
        };
        let mut topic = b"publicTrade.".to_vec();
        topic.extend_from_slice(self.cfg.symbol.as_bytes());
        self.bybit_head(out, &topic, "snapshot");
        let side: &[u8] = if t.buyer_maker { b"Sell" } else { b"Buy" };
        let linear = self.bybit_linear();
        out.extend_from_slice(b",\"data\":[{");
        if linear {
            out.extend_from_slice(b"\"T\":");
            push_u64(out, t.time_ms);
            out.extend_from_slice(b",\"s\":\"");
            out.extend_from_slice(self.cfg.symbol.as_bytes());
            out.extend_from_slice(b"\",\"S\":\"");
            out.extend_from_slice(side);
            out.extend_from_slice(b"\",\"v\":\"");
            self.bybit_number(out, t.qty, false);
            out.extend_from_slice(b"\",\"p\":\"");
            self.bybit_number(out, t.price, true);
            out.extend_from_slice(b"\",\"L\":\"ZeroPlusTick\",\"i\":\"");
            // A UUID-shaped id, as linear trades carry.
            let hex = format!("{:012x}", t.id);
            out.extend_from_slice(b"00000000-0000-5000-8000-");
            out.extend_from_slice(hex.as_bytes());
            out.extend_from_slice(b"\",\"BT\":false,\"RPI\":false,\"seq\":");
            push_u64(out, self.id);
        } else {
            out.extend_from_slice(b"\"i\":\"");
            push_u64(out, 2_290_000_000_000_000_000 + t.id);
            out.extend_from_slice(b"\",\"T\":");
            push_u64(out, t.time_ms);
            out.extend_from_slice(b",\"p\":\"");
            self.bybit_number(out, t.price, true);
            out.extend_from_slice(b"\",\"v\":\"");
            self.bybit_number(out, t.qty, false);
            out.extend_from_slice(b"\",\"S\":\"");
            out.extend_from_slice(side);
            out.extend_from_slice(b"\",\"seq\":");
            push_u64(out, self.id);
            out.extend_from_slice(b",\"s\":\"");
            out.extend_from_slice(self.cfg.symbol.as_bytes());
            out.extend_from_slice(b"\",\"BT\":false,\"RPI\":false");
        }
        out.extend_from_slice(b"}]}");
    }
}
