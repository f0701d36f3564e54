//! Bytes → [`OkxMsg`]: the template fast path first (`fast.rs`), the
//! simd-json tape walk (`tape.rs`) as fallback and reference. Every buffer
//! is owned by the decoder and sized at construction; decoding allocates
//! nothing after the first frames (simd-json's internal buffers size
//! themselves to the largest frame seen).

use super::checksum::Spell;
use super::fast;
use super::msg::{Action, BboMsg, BookMsg, OkxMsg, TradeMsg};
use super::tape::{Out, decode_tape};
use crate::book::Level;
use crate::types::{Price, Qty, ResolveSymbol, Scaling, Venue};
use crate::venue::scan::TapeScratch;
use crate::venue::{DecodeError, DecodeStats};

/// Default largest frame: 1 MiB (a 400-level `books` snapshot is ~25 kB).
pub const DEFAULT_MAX_FRAME: usize = 1 << 20;
/// Default maximum levels per side in one message (`books` sends 400).
pub const DEFAULT_MAX_LEVELS: usize = 1_024;
/// Trades one `trades` frame may carry.
pub const MAX_TRADES: usize = 256;

/// One side's levels and their spellings, in storage allocated up front.
#[derive(Debug)]
pub(crate) struct SideBuf {
    levels: Box<[Level]>,
    spells: Box<[Spell]>,
    len: usize,
}

impl SideBuf {
    fn new(max: usize) -> SideBuf {
        let empty = Level {
            price: Price::ZERO,
            qty: Qty::ZERO,
        };
        SideBuf {
            levels: vec![empty; max].into_boxed_slice(),
            spells: vec![Spell::default(); max].into_boxed_slice(),
            len: 0,
        }
    }

    /// Appends a level; `None` when full.
    #[inline(always)]
    pub(crate) fn push(&mut self, level: Level, spell: Spell) -> Option<()> {
        *self.levels.get_mut(self.len)? = level;
        *self.spells.get_mut(self.len)? = spell;
        self.len += 1;
        Some(())
    }

    #[inline]
    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    pub(crate) fn capacity(&self) -> usize {
        self.levels.len()
    }

    pub(crate) fn levels(&self) -> &[Level] {
        &self.levels[..self.len]
    }

    pub(crate) fn spells(&self) -> &[Spell] {
        &self.spells[..self.len]
    }

    fn first(&self) -> Option<Level> {
        self.levels().first().copied()
    }
}

/// A `books` message without its levels (they are in the decoder's buffers).
#[derive(Clone, Copy, Debug)]
pub(crate) struct BookHead {
    pub(crate) scaling: Scaling,
    pub(crate) action: Action,
    pub(crate) ts_ms: u64,
    pub(crate) checksum: Option<i32>,
    pub(crate) seq_id: Option<i64>,
    pub(crate) prev_seq_id: Option<i64>,
}

/// What a decode walk produced before the buffers are lent out.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Walked<'a> {
    /// A message needing no buffer.
    Msg(OkxMsg<'a>),
    /// A `books` message; levels in the side buffers.
    Book(BookHead),
    /// A `bbo-tbt` message; levels in the side buffers.
    Bbo {
        scaling: Scaling,
        ts_ms: u64,
        seq_id: Option<i64>,
    },
    /// `trades`; in the trade buffer.
    Trades,
}

/// Decodes OKX v5 public frames. One per feed thread.
#[derive(Debug)]
pub struct OkxDecoder {
    max_levels: usize,
    fast_path: bool,
    /// The tape path's parse state.
    scratch: TapeScratch,
    bids: SideBuf,
    asks: SideBuf,
    /// Trades of one frame; capacity [`MAX_TRADES`], never grown.
    trades: Vec<TradeMsg>,
    stats: DecodeStats,
}

impl Default for OkxDecoder {
    fn default() -> Self {
        OkxDecoder::new()
    }
}

impl OkxDecoder {
    /// A decoder with the default limits.
    pub fn new() -> OkxDecoder {
        OkxDecoder::with_limits(DEFAULT_MAX_FRAME, DEFAULT_MAX_LEVELS)
    }

    /// A decoder accepting frames up to `max_frame` bytes and `max_levels`
    /// levels a side. Allocates all its buffers now.
    pub fn with_limits(max_frame: usize, max_levels: usize) -> OkxDecoder {
        OkxDecoder {
            max_levels,
            fast_path: true,
            scratch: TapeScratch::new(Venue::Okx, max_frame),
            bids: SideBuf::new(max_levels),
            asks: SideBuf::new(max_levels),
            trades: Vec::with_capacity(MAX_TRADES),
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

    /// Decodes one WebSocket text frame. `arg.instId` is resolved through
    /// `symbols`; frames for others come back as [`OkxMsg::UnknownSymbol`]
    /// with their levels unread.
    #[inline]
    pub fn decode<'a, R: ResolveSymbol>(
        &'a mut self,
        frame: &'a [u8],
        symbols: &R,
    ) -> Result<OkxMsg<'a>, DecodeError> {
        self.scratch.check_size(frame)?;
        let max_levels = self.max_levels;
        let OkxDecoder {
            fast_path,
            scratch,
            bids,
            asks,
            trades,
            stats,
            ..
        } = self;
        bids.clear();
        asks.clear();
        trades.clear();
        let walked = if frame == b"pong" {
            stats.fast += 1;
            Walked::Msg(OkxMsg::Pong)
        } else {
            let hit = if *fast_path {
                fast::scan(frame, symbols, bids, asks, trades)
            } else {
                None
            };
            match hit {
                Some(w) => {
                    stats.fast += 1;
                    w
                }
                None => {
                    stats.fallback += 1;
                    // The fast path may have left partial output.
                    bids.clear();
                    asks.clear();
                    trades.clear();
                    let mut out = Out {
                        bids: &mut *bids,
                        asks: &mut *asks,
                        trades: &mut *trades,
                        max_levels,
                    };
                    decode_tape(frame, scratch, symbols, &mut out)?
                }
            }
        };
        let (bids, asks, trades): (&'a SideBuf, &'a SideBuf, &'a Vec<TradeMsg>) =
            (bids, asks, trades);
        Ok(match walked {
            Walked::Msg(m) => m,
            Walked::Book(h) => OkxMsg::Book(BookMsg {
                scaling: h.scaling,
                action: h.action,
                ts_ms: h.ts_ms,
                checksum: h.checksum,
                seq_id: h.seq_id,
                prev_seq_id: h.prev_seq_id,
                bids: bids.levels(),
                asks: asks.levels(),
                bid_spells: bids.spells(),
                ask_spells: asks.spells(),
            }),
            Walked::Bbo {
                scaling,
                ts_ms,
                seq_id,
            } => OkxMsg::Bbo(BboMsg {
                scaling,
                ts_ms,
                seq_id,
                bid: bids.first(),
                ask: asks.first(),
            }),
            Walked::Trades => OkxMsg::Trades(trades.as_slice()),
        })
    }
}
