//! Bytes → [`KrakenMsg`]: the template fast path first (`fast.rs`), the
//! order-independent reference walk (`tape.rs`) as fallback. Every buffer
//! is owned by the decoder and sized at construction; decoding allocates
//! nothing.

use super::fast;
use super::msg::{BboMsg, BookEntry, BookMsg, KrakenMsg, TradeMsg};
use super::tape::{Out, Walked, decode_general};
use crate::book::Level;
use crate::types::{ResolveSymbol, Venue};
use crate::venue::{DecodeError, DecodeStats, Location, What};

/// Default largest frame: 1 MiB (a 1000-level snapshot is ~70 kB).
pub const DEFAULT_MAX_FRAME: usize = 1 << 20;
/// Default levels a side one frame may carry (all its symbols together;
/// the deepest snapshot has 1000).
pub const DEFAULT_MAX_LEVELS: usize = 2_048;
/// Symbols one `book` or `ticker` frame may carry.
pub const MAX_ENTRIES: usize = 64;
/// Trades one `trade` frame may carry.
pub const MAX_TRADES: usize = 256;

/// Decodes Kraken WebSocket v2 frames. One per feed thread.
#[derive(Debug)]
pub struct KrakenDecoder {
    max_frame: usize,
    fast_path: bool,
    bids: Vec<Level>,
    asks: Vec<Level>,
    entries: Vec<BookEntry>,
    trades: Vec<TradeMsg>,
    bbos: Vec<BboMsg>,
    stats: DecodeStats,
}

impl Default for KrakenDecoder {
    fn default() -> Self {
        KrakenDecoder::new()
    }
}

impl KrakenDecoder {
    /// A decoder with the default limits.
    pub fn new() -> KrakenDecoder {
        KrakenDecoder::with_limits(DEFAULT_MAX_FRAME, DEFAULT_MAX_LEVELS)
    }

    /// A decoder for frames up to `max_frame` bytes and `max_levels` levels
    /// a side. Allocates all its buffers now.
    pub fn with_limits(max_frame: usize, max_levels: usize) -> KrakenDecoder {
        KrakenDecoder {
            max_frame,
            fast_path: true,
            bids: Vec::with_capacity(max_levels),
            asks: Vec::with_capacity(max_levels),
            entries: Vec::with_capacity(MAX_ENTRIES),
            trades: Vec::with_capacity(MAX_TRADES),
            bbos: Vec::with_capacity(MAX_ENTRIES),
            stats: DecodeStats::default(),
        }
    }

    /// Turns the fast path off (every frame takes the reference walk): for
    /// tests and benchmarks comparing the two.
    pub fn set_fast_path(&mut self, on: bool) {
        self.fast_path = on;
    }

    /// Fast-path vs reference-walk counts.
    pub fn stats(&self) -> DecodeStats {
        self.stats
    }

    /// Decodes one WebSocket text frame. Symbols resolve through
    /// `symbols`; data only for others comes back as
    /// [`KrakenMsg::UnknownSymbol`].
    #[inline]
    pub fn decode<'a, R: ResolveSymbol>(
        &'a mut self,
        frame: &'a [u8],
        symbols: &R,
    ) -> Result<KrakenMsg<'a>, DecodeError> {
        let what = if frame.is_empty() {
            Some(What::Empty)
        } else if frame.len() > self.max_frame {
            Some(What::TooLarge {
                max: u32::try_from(self.max_frame).unwrap_or(u32::MAX),
            })
        } else {
            None
        };
        if let Some(what) = what {
            return Err(DecodeError {
                venue: Venue::Kraken,
                what,
                at: Location::Root,
            });
        }
        let KrakenDecoder {
            fast_path,
            bids,
            asks,
            entries,
            trades,
            bbos,
            stats,
            ..
        } = self;
        let mut out = Out {
            bids,
            asks,
            entries,
            trades,
            bbos,
        };
        out.clear();
        let hit = if *fast_path {
            fast::scan(frame, symbols, &mut out)
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
                out.clear();
                decode_general(frame, symbols, &mut out)?
            }
        };
        let Out {
            bids,
            asks,
            entries,
            trades,
            bbos,
        } = out;
        // The buffers are lent out for the message's lifetime.
        let bids: &'a Vec<Level> = bids;
        let asks: &'a Vec<Level> = asks;
        let entries: &'a Vec<BookEntry> = entries;
        let trades: &'a Vec<TradeMsg> = trades;
        let bbos: &'a Vec<BboMsg> = bbos;
        Ok(match walked {
            Walked::Msg(m) => m,
            Walked::Book(kind) => KrakenMsg::Book(BookMsg {
                kind,
                entries,
                bids,
                asks,
            }),
            Walked::Bbo => KrakenMsg::Bbo(bbos),
            Walked::Trades => KrakenMsg::Trades(trades),
        })
    }
}
