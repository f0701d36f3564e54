//! Bytes → [`CoinbaseFrame`]: the template fast path first (`fast.rs`, the
//! `l2_data` frames), the simd-json tape walk (`tape.rs`) as fallback and
//! reference. Every buffer is owned by the decoder and sized at
//! construction for the largest frame it takes (`max_frame`): the padded
//! input, and level arrays that hold every update such a frame can carry
//! (a whole-book snapshot: ~46,000 levels in 5 MB for BTC-USD).

use super::fast;
use super::msg::{CoinbaseFrame, CoinbaseMsg, L2Event, L2Msg, TickerMsg, TradeMsg};
use super::tape::decode_tape;
use crate::book::Level;
use crate::types::{Nanos, Price, Qty, ResolveSymbol, Venue};
use crate::venue::scan::TapeScratch;
use crate::venue::{DecodeError, DecodeStats};

/// Default largest frame: 8 MiB (BTC-USD's whole-book snapshot is ~5 MB).
pub const DEFAULT_MAX_FRAME: usize = 8 << 20;
/// The shortest an `l2_data` update can be on the wire
/// (`{"side":"bid","event_time":"…Z","price_level":"1","new_quantity":"0"},`
/// with the shortest timestamp is over 90 bytes): a frame of `max_frame`
/// bytes carries at most `max_frame / MIN_UPDATE_BYTES` updates.
pub const MIN_UPDATE_BYTES: usize = 64;
/// Events (products) one `l2_data` frame may carry.
pub const MAX_EVENTS: usize = 256;
/// Trades one `market_trades` frame may carry (its snapshot sends ~50 a product).
pub const MAX_TRADES: usize = 4_096;
/// Tickers one `ticker` frame may carry.
pub const MAX_TICKERS: usize = 256;

/// The decoder's output storage, allocated up front and never grown.
#[derive(Debug)]
pub(crate) struct Bufs {
    pub(crate) bids: Box<[Level]>,
    pub(crate) n_bids: usize,
    pub(crate) asks: Box<[Level]>,
    pub(crate) n_asks: usize,
    /// Capacity [`MAX_EVENTS`].
    pub(crate) events: Vec<L2Event>,
    /// Capacity [`MAX_TRADES`].
    pub(crate) trades: Vec<TradeMsg>,
    /// Capacity [`MAX_TICKERS`].
    pub(crate) tickers: Vec<TickerMsg>,
}

impl Bufs {
    fn new(max_levels: usize) -> Bufs {
        let empty = Level {
            price: Price::ZERO,
            qty: Qty::ZERO,
        };
        Bufs {
            bids: vec![empty; max_levels].into_boxed_slice(),
            n_bids: 0,
            asks: vec![empty; max_levels].into_boxed_slice(),
            n_asks: 0,
            events: Vec::with_capacity(MAX_EVENTS),
            trades: Vec::with_capacity(MAX_TRADES),
            tickers: Vec::with_capacity(MAX_TICKERS),
        }
    }

    #[inline]
    pub(crate) fn clear(&mut self) {
        self.n_bids = 0;
        self.n_asks = 0;
        self.events.clear();
        self.trades.clear();
        self.tickers.clear();
    }

    /// Appends a level to the bids (`bid`) or the offers; `None` when full.
    #[inline(always)]
    pub(crate) fn push(&mut self, bid: bool, level: Level) -> Option<()> {
        let (buf, n) = if bid {
            (&mut self.bids, &mut self.n_bids)
        } else {
            (&mut self.asks, &mut self.n_asks)
        };
        *buf.get_mut(*n)? = level;
        *n += 1;
        Some(())
    }

    /// The levels a side holds.
    pub(crate) fn capacity(&self) -> usize {
        self.bids.len()
    }
}

/// A decoded frame before the buffers are lent out.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Walked<'a> {
    pub(crate) seq: Option<u64>,
    pub(crate) ts_ns: Nanos,
    pub(crate) body: Body<'a>,
}

/// What a walk produced.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Body<'a> {
    /// A message needing no buffer.
    Msg(CoinbaseMsg<'a>),
    /// `l2_data`: events and levels in the buffers.
    L2,
    /// `market_trades`: in the trade buffer.
    Trades,
    /// `ticker`: in the ticker buffer.
    Tickers,
}

/// Decodes Coinbase Advanced Trade frames. One per connection.
#[derive(Debug)]
pub struct CoinbaseDecoder {
    fast_path: bool,
    /// The tape path's parse state.
    scratch: TapeScratch,
    bufs: Bufs,
    stats: DecodeStats,
}

impl Default for CoinbaseDecoder {
    fn default() -> Self {
        CoinbaseDecoder::new(DEFAULT_MAX_FRAME)
    }
}

impl CoinbaseDecoder {
    /// A decoder for frames of up to `max_frame` bytes. Allocates all its
    /// buffers now (two level arrays of `max_frame / MIN_UPDATE_BYTES`).
    pub fn new(max_frame: usize) -> CoinbaseDecoder {
        CoinbaseDecoder {
            fast_path: true,
            scratch: TapeScratch::new(Venue::Coinbase, max_frame),
            bufs: Bufs::new((max_frame / MIN_UPDATE_BYTES).max(16)),
            stats: DecodeStats::default(),
        }
    }

    /// Turns the fast path off (every frame takes the tape path): for tests
    /// and benchmarks comparing the two.
    pub fn set_fast_path(&mut self, on: bool) {
        self.fast_path = on;
    }

    /// Fast-path vs tape-path counts.
    pub fn stats(&self) -> DecodeStats {
        self.stats
    }

    /// Decodes one WebSocket text frame. Products are resolved through
    /// `symbols`; events of others are kept (for their order) with no levels.
    #[inline]
    pub fn decode<'a, R: ResolveSymbol>(
        &'a mut self,
        frame: &'a [u8],
        symbols: &R,
    ) -> Result<CoinbaseFrame<'a>, DecodeError> {
        self.scratch.check_size(frame)?;
        let CoinbaseDecoder {
            fast_path,
            scratch,
            bufs,
            stats,
        } = self;
        bufs.clear();
        let hit = if *fast_path {
            fast::scan(frame, symbols, bufs)
        } else {
            None
        };
        let walked = match hit {
            Some(w) => {
                stats.fast += 1;
                w
            }
            None => {
                stats.fallback += 1;
                // The fast path may have left partial output.
                bufs.clear();
                decode_tape(frame, scratch, symbols, bufs)?
            }
        };
        let bufs: &'a Bufs = bufs;
        let msg = match walked.body {
            Body::Msg(m) => m,
            Body::L2 => CoinbaseMsg::L2(L2Msg {
                events: &bufs.events,
                bids: &bufs.bids[..bufs.n_bids],
                asks: &bufs.asks[..bufs.n_asks],
            }),
            Body::Trades => CoinbaseMsg::Trades(&bufs.trades),
            Body::Tickers => CoinbaseMsg::Tickers(&bufs.tickers),
        };
        Ok(CoinbaseFrame {
            seq: walked.seq,
            ts_ns: walked.ts_ns,
            msg,
        })
    }
}
