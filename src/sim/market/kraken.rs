//! Kraken WebSocket v2's wire format for the generated market, shaped as
//! the 2026 captures are: `book` snapshots and updates with bare-number
//! prices and quantities at the pair's precision (`62802.5`,
//! `0.00005100`), one frame per subscribed depth (the venue truncates
//! nothing for the client: a level pushed out of range gets no delete),
//! the CRC32 `checksum` of the top 10 asks then bids over the digits of
//! the wire text, an RFC 3339 `timestamp`; `ticker` (the BBO trigger) and
//! `trade`.

use super::number::push_fixed;
use super::{MarketSim, push_u64};
use crate::types::Side;

/// The depths a `book` subscription may ask for.
pub const KRAKEN_DEPTHS: [usize; 5] = [10, 25, 100, 500, 1000];
/// Levels a side the checksum covers.
const CHECKSUM_LEVELS: usize = 10;

impl MarketSim {
    /// A price or quantity as Kraken writes it: a bare number with exactly
    /// the scale's decimals.
    fn kraken_number(out: &mut Vec<u8>, mantissa: i64, scale: crate::types::Scale) {
        push_fixed(out, mantissa, scale, 0);
    }

    /// `[{"price":..,"qty":..},..]`.
    fn kraken_levels(&self, out: &mut Vec<u8>, levels: &[(i64, i64)]) {
        out.push(b'[');
        for (n, &(p, q)) in levels.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"price\":");
            Self::kraken_number(out, p, self.cfg.price_scale);
            out.extend_from_slice(b",\"qty\":");
            Self::kraken_number(out, q, self.cfg.qty_scale);
            out.push(b'}');
        }
        out.push(b']');
    }

    /// The checksum of the true book's top 10 asks and bids, with
    /// `extra_bid` merged in, from the wire text: each number as written,
    /// `.` dropped, leading zeros stripped.
    fn kraken_checksum(&self, extra_bid: Option<(i64, i64)>) -> u32 {
        let mut bids: Vec<(i64, i64)> = extra_bid.into_iter().collect();
        bids.extend(self.best(Side::Bid, CHECKSUM_LEVELS));
        bids.truncate(CHECKSUM_LEVELS);
        let asks: Vec<(i64, i64)> = self.best(Side::Ask, CHECKSUM_LEVELS).collect();
        let mut text = Vec::with_capacity(40 * CHECKSUM_LEVELS);
        let mut number = Vec::with_capacity(32);
        for (p, q) in asks.into_iter().chain(bids) {
            for (v, scale) in [(p, self.cfg.price_scale), (q, self.cfg.qty_scale)] {
                number.clear();
                Self::kraken_number(&mut number, v, scale);
                let digits = number.iter().copied().filter(|&b| b != b'.');
                text.extend(digits.skip_while(|&b| b == b'0'));
            }
        }
        crc32fast::hash(&text)
    }

    /// `"2026-08-16T23:37:05.723000Z"` for the market's clock.
    fn kraken_timestamp(&self, out: &mut Vec<u8>) {
        let ms = self.time_ms;
        let (secs, milli) = (ms / 1000, ms % 1000);
        let (days, rem) = (secs / 86_400, secs % 86_400);
        let (y, m, d) = civil(days as i64);
        let text = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}000Z",
            rem / 3600,
            rem / 60 % 60,
            rem % 60
        );
        out.extend_from_slice(text.as_bytes());
    }

    /// One `book` frame.
    fn kraken_book(
        &self,
        out: &mut Vec<u8>,
        kind: &str,
        bids: &[(i64, i64)],
        asks: &[(i64, i64)],
        checksum: u32,
    ) {
        out.clear();
        out.extend_from_slice(b"{\"channel\":\"book\",\"type\":\"");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(b"\",\"data\":[{\"symbol\":\"");
        out.extend_from_slice(self.cfg.symbol.as_bytes());
        out.extend_from_slice(b"\",\"bids\":");
        self.kraken_levels(out, bids);
        out.extend_from_slice(b",\"asks\":");
        self.kraken_levels(out, asks);
        out.extend_from_slice(b",\"checksum\":");
        push_u64(out, u64::from(checksum));
        out.extend_from_slice(b",\"timestamp\":\"");
        self.kraken_timestamp(out);
        out.extend_from_slice(b"\"}]}");
    }

    /// Makes `changes_per_diff` changes as one event and writes it as a
    /// `book` update for each depth of `depths` (into `out[i]`): what
    /// changed within that depth, without deletes for levels merely pushed
    /// past it. With `bad_checksum` the checksums are wrong while the
    /// levels are right.
    pub fn kraken_updates(&mut self, depths: &[usize], bad_checksum: bool, out: &mut [Vec<u8>]) {
        for _ in 0..self.cfg.changes_per_diff.max(1) {
            self.change();
        }
        let event = self.close_event();
        self.advance_seq(1);
        self.time_ms += 1;
        let mut checksum = self.kraken_checksum(None);
        if bad_checksum {
            checksum = checksum.wrapping_add(1);
        }
        let (mut bids, mut asks) = (Vec::new(), Vec::new());
        for (&depth, frame) in depths.iter().zip(out.iter_mut()) {
            self.kraken_view(Side::Bid, depth, &mut bids);
            self.kraken_view(Side::Ask, depth, &mut asks);
            self.kraken_book(frame, "update", &bids, &asks, checksum);
        }
        self.finish_event(event);
    }

    /// What the closed event changed in the best `depth` levels of `side`,
    /// as Kraken publishes it, into `out` (cleared first), best first: the
    /// touched levels in the new view (their quantity now), the touched
    /// levels of the old view that are gone (0), and untouched levels that
    /// entered the view because better ones went. No delete for a level
    /// merely pushed past the depth: the client cuts. Linear in the depth.
    fn kraken_view(&self, side: Side, depth: usize, out: &mut Vec<(i64, i64)>) {
        use std::collections::HashSet;
        out.clear();
        let touched: Vec<(i64, i64)> = self
            .touched
            .iter()
            .filter(|t| t.side == side)
            .map(|t| (t.price, t.before))
            .collect();
        let was_touched: HashSet<i64> = touched.iter().map(|&(p, _)| p).collect();
        // The old view: untouched levels as they are, touched ones that
        // existed, best first, cut at the depth.
        let better = |a: i64, b: i64| {
            if side == Side::Bid {
                b.cmp(&a)
            } else {
                a.cmp(&b)
            }
        };
        let mut old: Vec<i64> = touched
            .iter()
            .filter(|&&(_, before)| before != 0)
            .map(|&(p, _)| p)
            .collect();
        old.extend(
            self.best(side, depth + touched.len())
                .map(|(p, _)| p)
                .filter(|p| !was_touched.contains(p)),
        );
        old.sort_unstable_by(|&a, &b| better(a, b));
        old.truncate(depth);
        let old: HashSet<i64> = old.into_iter().collect();
        let mut kept = HashSet::with_capacity(depth);
        for (p, q) in self.best(side, depth) {
            kept.insert(p);
            if was_touched.contains(&p) || !old.contains(&p) {
                out.push((p, q));
            }
        }
        for &(p, before) in &touched {
            if before != 0 && old.contains(&p) && self.qty_at(side, p) == 0 && !kept.contains(&p) {
                out.push((p, 0));
            }
        }
        out.sort_unstable_by(|&(a, _), &(b, _)| better(a, b));
    }

    /// Writes the best `depth` levels a side as a `book` snapshot.
    pub fn kraken_snapshot(&self, depth: usize, out: &mut Vec<u8>) {
        let bids: Vec<_> = self.best(Side::Bid, depth).collect();
        let asks: Vec<_> = self.best(Side::Ask, depth).collect();
        let checksum = self.kraken_checksum(None);
        self.kraken_book(out, "snapshot", &bids, &asks, checksum);
    }

    /// Writes an update per depth whose one bid sits 10 ticks above the
    /// best ask, with the checksum of the book holding it; the true book
    /// does not change.
    pub fn kraken_crossed(&mut self, depths: &[usize], out: &mut [Vec<u8>]) {
        let Some(crossed) = self.crossed_event() else {
            for frame in out.iter_mut() {
                frame.clear();
            }
            return;
        };
        self.time_ms += 1;
        let level = (crossed.bid, 1);
        let checksum = self.kraken_checksum(Some(level));
        for frame in out.iter_mut().take(depths.len()) {
            self.kraken_book(frame, "update", &[level], &[], checksum);
        }
    }

    /// Writes a `ticker` message (subscribed with `event_trigger: "bbo"`).
    pub fn kraken_ticker(&self, out: &mut Vec<u8>) {
        out.clear();
        let Some(((bp, bq), (ap, aq))) = self.top() else {
            return;
        };
        let (ps, qs) = (self.cfg.price_scale, self.cfg.qty_scale);
        out.extend_from_slice(
            b"{\"channel\":\"ticker\",\"type\":\"update\",\"data\":[{\"symbol\":\"",
        );
        out.extend_from_slice(self.cfg.symbol.as_bytes());
        out.extend_from_slice(b"\",\"bid\":");
        Self::kraken_number(out, bp.0, ps);
        out.extend_from_slice(b",\"bid_qty\":");
        Self::kraken_number(out, bq.0, qs);
        out.extend_from_slice(b",\"ask\":");
        Self::kraken_number(out, ap.0, ps);
        out.extend_from_slice(b",\"ask_qty\":");
        Self::kraken_number(out, aq.0, qs);
        out.extend_from_slice(b",\"last\":");
        Self::kraken_number(out, ap.0, ps);
        // Statistics at their own precisions (never read as prices).
        out.extend_from_slice(
            b",\"volume\":1234.56789012,\"vwap\":43001.123456,\"change_pct\":0.16}]}",
        );
    }

    /// Writes a `trade` message with one trade at the touch.
    pub fn kraken_trade(&mut self, out: &mut Vec<u8>) {
        out.clear();
        let Some(t) = self.next_trade() else {
            return;
        };
        out.extend_from_slice(
            b"{\"channel\":\"trade\",\"type\":\"update\",\"data\":[{\"symbol\":\"",
        );
        out.extend_from_slice(self.cfg.symbol.as_bytes());
        out.extend_from_slice(if t.buyer_maker {
            b"\",\"side\":\"sell\",\"price\":"
        } else {
            b"\",\"side\":\"buy\",\"price\":".as_slice()
        });
        Self::kraken_number(out, t.price, self.cfg.price_scale);
        out.extend_from_slice(b",\"qty\":");
        Self::kraken_number(out, t.qty, self.cfg.qty_scale);
        out.extend_from_slice(b",\"ord_type\":\"market\",\"trade_id\":");
        push_u64(out, t.id);
        out.extend_from_slice(b",\"timestamp\":\"");
        self.kraken_timestamp(out);
        out.extend_from_slice(b"\"}]}");
    }
}

/// (year, month, day) of a day count since 1970-01-01.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::market::MarketConfig;
    use crate::types::{Registry, Venue};
    use crate::venue::kraken::KrakenDecoder;
    use crate::venue::kraken::KrakenMsg;

    #[test]
    fn dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(20_681), (2026, 8, 16));
    }

    #[test]
    fn frames_decode_and_rebuild_the_true_book_with_valid_checksums() {
        let mut cfg = MarketConfig::btcusdt(Venue::Kraken, 5);
        cfg.symbol = "BTC/USD".to_owned();
        let mut sim = MarketSim::new(cfg);
        sim.set_time_ms(1_786_923_425_723);
        let mut reg = Registry::new();
        reg.add(Venue::Kraken, "BTC/USD", "0.01", "0.00001")
            .unwrap();
        let mut books = crate::venue::books_for(&reg, 2_000, crate::venue::GapPolicy::Resync);
        let plan = crate::venue::SessionPlan {
            max_frame: crate::venue::profile(crate::types::Venue::Kraken).max_frame_bytes,
            venue: Venue::Kraken,
            ws_url: String::new(),
            rest_url: String::new(),
            instruments: vec![crate::venue::PlannedInstrument {
                id: books[0].id,
                symbol: "BTC/USD".to_owned(),
            }],
            channels: vec![crate::venue::Channel::Depth],
            depth_interval_ms: 0,
            depth: 25,
            url_streams: None,
            streams_per_subscribe: 1,
            control_per_sec: 1,
            book_capacity: 2_000,
        };
        let mut session = crate::venue::kraken::KrakenSession::new(&plan);
        let mut out = Vec::new();
        let mut frame = Vec::new();
        sim.kraken_snapshot(25, &mut frame);
        let mut sink: Vec<crate::types::Event> = Vec::new();
        session
            .handle_text(&frame, 1, &reg, &mut books, &mut sink)
            .unwrap();
        let mut frames = vec![Vec::new()];
        for n in 0..300 {
            sim.kraken_updates(&[25], false, &mut frames);
            let kind = session
                .handle_text(&frames[0], n + 2, &reg, &mut books, &mut sink)
                .unwrap();
            assert_eq!(
                kind,
                crate::venue::FrameKind::Depth(books[0].id, crate::venue::DiffOutcome::Applied),
                "{}",
                String::from_utf8_lossy(&frames[0])
            );
        }
        use crate::book::BookRead;
        for side in [Side::Bid, Side::Ask] {
            let ours: Vec<_> = books[0]
                .book
                .levels(side)
                .map(|l| (l.price, l.qty))
                .collect();
            let truth: Vec<_> = sim.levels(side).into_iter().take(25).collect();
            assert_eq!(ours, truth);
        }
        let mut d = KrakenDecoder::new();
        sim.kraken_ticker(&mut out);
        assert!(matches!(
            d.decode(&out, &reg.venue(Venue::Kraken)),
            Ok(KrakenMsg::Bbo([_]))
        ));
        sim.kraken_trade(&mut out);
        assert!(matches!(
            d.decode(&out, &reg.venue(Venue::Kraken)),
            Ok(KrakenMsg::Trades([_]))
        ));
        sim.kraken_updates(&[25], true, &mut frames);
        let kind = session
            .handle_text(&frames[0], 999, &reg, &mut books, &mut sink)
            .unwrap();
        assert!(matches!(
            kind,
            crate::venue::FrameKind::Depth(_, crate::venue::DiffOutcome::ChecksumMismatch { .. })
        ));
    }
}
