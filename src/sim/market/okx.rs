//! OKX v5's wire format for the generated market: the `books` channel
//! (400 levels a side; a `snapshot` with `prevSeqId` -1, then `update`s
//! whose `prevSeqId` is the last `seqId`, `seqId` jumping by varying
//! amounts, and the CRC32 `checksum` of the top 25 levels), `bbo-tbt` and
//! `trades`. Prices are trimmed (`"30244"`); a size is sometimes written
//! with trailing zeros (`"1.50000"`), the same way every time that level
//! is written, so only a client that checksums the wire text passes.

use super::number::push_trimmed;
use super::{MarketSim, push_u64};
use crate::types::Side;

/// Levels a side of the `books` channel.
pub(super) const BOOKS_DEPTH: usize = 400;
/// Levels a side the checksum covers.
const CHECKSUM_LEVELS: usize = 25;

impl MarketSim {
    /// Trailing zeros this level's size is written with (mostly none); a
    /// function of the level, so every frame spells it alike.
    fn okx_extra_zeros(price: i64, qty: i64) -> usize {
        let h = (price as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(qty as u64)
            .wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let h = h >> 40;
        if h % 4 == 0 {
            1 + (h / 4 % 4) as usize
        } else {
            0
        }
    }

    fn okx_price(&self, out: &mut Vec<u8>, price: i64) {
        push_trimmed(out, price, self.cfg.price_scale, 0);
    }

    fn okx_size(&self, out: &mut Vec<u8>, price: i64, qty: i64) {
        let extra = if qty == 0 {
            0
        } else {
            Self::okx_extra_zeros(price, qty)
        };
        push_trimmed(out, qty, self.cfg.qty_scale, extra);
    }

    /// `{"arg":{"channel":"<channel>","instId":"<symbol>"}`.
    fn okx_arg(&self, out: &mut Vec<u8>, channel: &str) {
        out.extend_from_slice(b"{\"arg\":{\"channel\":\"");
        out.extend_from_slice(channel.as_bytes());
        out.extend_from_slice(b"\",\"instId\":\"");
        out.extend_from_slice(self.cfg.symbol.as_bytes());
        out.extend_from_slice(b"\"}");
    }

    /// `"asks":[..],"bids":[..]` with `[px, sz, "0", numOrders]` levels.
    fn okx_levels(&self, out: &mut Vec<u8>, asks: &[(i64, i64)], bids: &[(i64, i64)]) {
        for (key, levels) in [(&b"\"asks\":["[..], asks), (b"],\"bids\":[", bids)] {
            out.extend_from_slice(key);
            for (n, &(p, q)) in levels.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"[\"");
                self.okx_price(out, p);
                out.extend_from_slice(b"\",\"");
                self.okx_size(out, p, q);
                out.extend_from_slice(b"\",\"0\",\"");
                let orders = if q == 0 { 0 } else { 1 + q.unsigned_abs() % 7 };
                push_u64(out, orders);
                out.extend_from_slice(b"\"]");
            }
        }
        out.push(b']');
    }

    /// The checksum of the top 25 levels a side, as this market spells
    /// them, with `extra_bid` (a bogus level) merged into the bids.
    fn okx_book_checksum(&self, extra_bid: Option<(i64, i64)>) -> i32 {
        let mut bids: Vec<(i64, i64)> = extra_bid.into_iter().collect();
        bids.extend(self.best(Side::Bid, CHECKSUM_LEVELS));
        bids.truncate(CHECKSUM_LEVELS);
        let asks: Vec<(i64, i64)> = self.best(Side::Ask, CHECKSUM_LEVELS).collect();
        let mut text = Vec::with_capacity(64 * CHECKSUM_LEVELS);
        for i in 0..CHECKSUM_LEVELS {
            for &(p, q) in [bids.get(i), asks.get(i)].into_iter().flatten() {
                if !text.is_empty() {
                    text.push(b':');
                }
                self.okx_price(&mut text, p);
                text.push(b':');
                self.okx_size(&mut text, p, q);
            }
        }
        crc32fast::hash(&text) as i32
    }

    /// One `books` message: `"data":[{asks, bids, ts, checksum, prevSeqId, seqId}]`.
    fn okx_book(
        &self,
        out: &mut Vec<u8>,
        action: &str,
        asks: &[(i64, i64)],
        bids: &[(i64, i64)],
        checksum: i32,
        prev: Option<u64>,
    ) {
        out.clear();
        self.okx_arg(out, "books");
        out.extend_from_slice(b",\"action\":\"");
        out.extend_from_slice(action.as_bytes());
        out.extend_from_slice(b"\",\"data\":[{");
        self.okx_levels(out, asks, bids);
        out.extend_from_slice(b",\"ts\":\"");
        push_u64(out, self.time_ms);
        out.extend_from_slice(b"\",\"checksum\":");
        out.extend_from_slice(checksum.to_string().as_bytes());
        out.extend_from_slice(b",\"prevSeqId\":");
        match prev {
            Some(p) => push_u64(out, p),
            None => out.extend_from_slice(b"-1"),
        }
        out.extend_from_slice(b",\"seqId\":");
        push_u64(out, self.seq);
        out.extend_from_slice(b"}]}");
    }

    /// Makes `changes_per_diff` changes as one event and writes it as a
    /// `books` update (what changed in the best 400 levels; `seqId` jumps
    /// by 1 to 5, `prevSeqId` is the last `seqId`). With `bad_checksum`
    /// the checksum is wrong while the levels are right.
    pub fn okx_update(&mut self, bad_checksum: bool, out: &mut Vec<u8>) {
        for _ in 0..self.cfg.changes_per_diff.max(1) {
            self.change();
        }
        let event = self.close_event();
        let step = 1 + self.rng.below(5);
        let (prev, _) = self.advance_seq(step);
        let (mut bids, mut asks) = (Vec::new(), Vec::new());
        self.view_changes(Side::Bid, BOOKS_DEPTH, &mut bids);
        self.view_changes(Side::Ask, BOOKS_DEPTH, &mut asks);
        let mut checksum = self.okx_book_checksum(None);
        if bad_checksum {
            checksum = checksum.wrapping_add(1);
            if checksum == 0 {
                // 0 reads as "no checksum"; a bad one must be non-zero.
                checksum = 1;
            }
        }
        self.okx_book(out, "update", &asks, &bids, checksum, Some(prev));
        self.finish_event(event);
    }

    /// Writes the best 400 levels a side as a `books` snapshot
    /// (`prevSeqId` -1, `seqId` the last update's).
    pub fn okx_snapshot(&self, out: &mut Vec<u8>) {
        let bids: Vec<_> = self.best(Side::Bid, BOOKS_DEPTH).collect();
        let asks: Vec<_> = self.best(Side::Ask, BOOKS_DEPTH).collect();
        let checksum = self.okx_book_checksum(None);
        self.okx_book(out, "snapshot", &asks, &bids, checksum, None);
    }

    /// Writes an update whose one bid sits 10 ticks above the best ask;
    /// it chains (`prevSeqId` is the last `seqId`) and its checksum is of
    /// the book with that bid, but the true book does not change.
    pub fn okx_crossed(&mut self, out: &mut Vec<u8>) {
        out.clear();
        let Some(crossed) = self.crossed_event() else {
            return;
        };
        let (prev, _) = self.advance_seq(1);
        self.time_ms += 1;
        let level = (crossed.bid, 1);
        let checksum = self.okx_book_checksum(Some(level));
        self.okx_book(out, "update", &[], &[level], checksum, Some(prev));
    }

    /// Writes a `bbo-tbt` message: the best bid and ask, with `seqId`.
    pub fn okx_bbo(&self, out: &mut Vec<u8>) {
        out.clear();
        let Some(((bp, bq), (ap, aq))) = self.top() else {
            return;
        };
        self.okx_arg(out, "bbo-tbt");
        out.extend_from_slice(b",\"data\":[{");
        self.okx_levels(out, &[(ap.0, aq.0)], &[(bp.0, bq.0)]);
        out.extend_from_slice(b",\"ts\":\"");
        push_u64(out, self.time_ms);
        out.extend_from_slice(b"\",\"seqId\":");
        push_u64(out, self.seq);
        out.extend_from_slice(b"}]}");
    }

    /// Writes a `trades` message with one trade at the touch.
    pub fn okx_trade(&mut self, out: &mut Vec<u8>) {
        out.clear();
        let Some(t) = self.next_trade() else {
            return;
        };
        self.okx_arg(out, "trades");
        out.extend_from_slice(b",\"data\":[{\"instId\":\"");
        out.extend_from_slice(self.cfg.symbol.as_bytes());
        out.extend_from_slice(b"\",\"tradeId\":\"");
        push_u64(out, t.id);
        out.extend_from_slice(b"\",\"px\":\"");
        self.okx_price(out, t.price);
        out.extend_from_slice(b"\",\"sz\":\"");
        push_trimmed(out, t.qty, self.cfg.qty_scale, 0);
        out.extend_from_slice(if t.buyer_maker {
            b"\",\"side\":\"sell\",\"ts\":\""
        } else {
            b"\",\"side\":\"buy\",\"ts\":\"".as_slice()
        });
        push_u64(out, t.time_ms);
        out.extend_from_slice(b"\"}]}");
    }
}
