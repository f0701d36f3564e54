//! Bytes → [`BybitMsg`]: the fast path for book, trade and linear ticker
//! frames first, the simd-json tape walk for everything else and as the
//! reference. All
//! buffers are owned by the decoder and sized at construction; decoding
//! allocates nothing after the first frames (simd-json's internal buffers
//! size themselves to the largest frame seen, once).

use super::fast;
use super::msg::{BybitMsg, BybitTrade};
use super::tape::{Out, walk};
use crate::types::{ResolveSymbol, Venue};
use crate::venue::scan::{LevelBuf, PriceShape, TapeScratch, tape_error};
use crate::venue::{DecodeError, DecodeStats};

/// Default largest frame: 4 MiB (a 1,000-level snapshot is ~50 kB).
pub const DEFAULT_MAX_FRAME: usize = 4 << 20;
/// Default maximum levels per side (and trades) in one message; Bybit's
/// deepest public book is 1,000 levels.
pub const DEFAULT_MAX_LEVELS: usize = 2_048;

/// Decodes Bybit v5 public frames (spot or linear). One per feed thread.
#[derive(Debug)]
pub struct BybitDecoder {
    venue: Venue,
    max_levels: usize,
    fast_path: bool,
    /// The tape path's parse state.
    scratch: TapeScratch,
    bids: LevelBuf,
    asks: LevelBuf,
    /// Trades of one `publicTrade` message; capacity `max_levels`, never grown.
    trades: Vec<BybitTrade>,
    /// The fast path's guess at the next price's length (a hint only).
    shape: PriceShape,
    stats: DecodeStats,
}

impl BybitDecoder {
    /// A decoder for `venue` (`BybitSpot` or `BybitLinear`) with the default limits.
    pub fn new(venue: Venue) -> BybitDecoder {
        BybitDecoder::with_limits(venue, DEFAULT_MAX_FRAME, DEFAULT_MAX_LEVELS)
    }

    /// A decoder accepting frames up to `max_frame` bytes and `max_levels`
    /// levels per side (and trades per message). Allocates all its buffers now.
    pub fn with_limits(venue: Venue, max_frame: usize, max_levels: usize) -> BybitDecoder {
        BybitDecoder {
            venue,
            max_levels,
            fast_path: true,
            scratch: TapeScratch::new(venue, max_frame),
            bids: LevelBuf::new(max_levels),
            asks: LevelBuf::new(max_levels),
            trades: Vec::with_capacity(max_levels),
            shape: PriceShape::default(),
            stats: DecodeStats::default(),
        }
    }

    /// Turns the fast path off (every frame takes the simd-json path). For
    /// tests and benchmarks that compare the two.
    pub fn set_fast_path(&mut self, on: bool) {
        self.fast_path = on;
    }

    /// The venue this decoder speaks.
    pub fn venue(&self) -> Venue {
        self.venue
    }

    /// Fast-path vs tape-path counts.
    pub fn stats(&self) -> DecodeStats {
        self.stats
    }

    /// Decodes one WebSocket text frame. Symbols (from the topic) are
    /// resolved through `symbols`; messages for other symbols come back as
    /// [`BybitMsg::UnknownSymbol`] without their levels parsed.
    #[inline]
    pub fn decode<'a, R: ResolveSymbol>(
        &'a mut self,
        frame: &'a [u8],
        symbols: &R,
    ) -> Result<BybitMsg<'a>, DecodeError> {
        self.scratch.check_size(frame)?;
        self.bids.clear();
        self.asks.clear();
        self.trades.clear();
        if self.fast_path {
            let (bids, asks, trades, shape) = (
                &mut self.bids,
                &mut self.asks,
                &mut self.trades,
                &mut self.shape,
            );
            if let Some(h) = fast::scan(frame, self.venue, symbols, bids, asks, trades, shape) {
                self.stats.fast += 1;
                return Ok(h.finish(self.bids.as_slice(), self.asks.as_slice(), &self.trades));
            }
        }
        self.decode_tape(frame, symbols)
    }

    /// The simd-json tape path: every frame the fast path does not take.
    #[inline(never)]
    fn decode_tape<'a, R: ResolveSymbol>(
        &'a mut self,
        frame: &'a [u8],
        symbols: &R,
    ) -> Result<BybitMsg<'a>, DecodeError> {
        let venue = self.venue;
        let BybitDecoder {
            scratch,
            bids,
            asks,
            trades,
            stats,
            max_levels,
            ..
        } = self;
        // The fast path may have left partial output.
        bids.clear();
        asks.clear();
        trades.clear();
        stats.fallback += 1;
        let out = Out {
            bids,
            asks,
            trades,
            max_levels: *max_levels,
        };
        let head = scratch
            .parse(frame, |nodes| walk(venue, nodes, symbols, out))
            .map_err(|e| tape_error(venue, frame, e.error(), e.index()))??;
        let (bids, asks, trades): (&'a LevelBuf, &'a LevelBuf, &'a Vec<BybitTrade>) =
            (bids, asks, trades);
        Ok(head.finish(bids.as_slice(), asks.as_slice(), trades))
    }
}
