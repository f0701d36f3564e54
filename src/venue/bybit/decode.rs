//! Bytes → [`BybitMsg`]: the fast path for book frames first, the
//! simd-json tape walk for everything else and as the reference. All
//! buffers are owned by the decoder and sized at construction; decoding
//! allocates nothing after the first frames (simd-json's internal buffers
//! size themselves to the largest frame seen, once).

use simd_json::Tape;

use super::fast;
use super::msg::{BybitMsg, BybitTrade};
use super::tape::{Out, walk};
use crate::types::{ResolveSymbol, Venue};
use crate::venue::scan::{LevelBuf, PriceShape};
use crate::venue::{DecodeError, DecodeStats, Location, What};

/// Default largest frame: 4 MiB (a 1,000-level snapshot is ~50 kB).
pub const DEFAULT_MAX_FRAME: usize = 4 << 20;
/// Default maximum levels per side (and trades) in one message; Bybit's
/// deepest public book is 1,000 levels.
pub const DEFAULT_MAX_LEVELS: usize = 2_048;

/// Decodes Bybit v5 public frames (spot or linear). One per feed thread.
#[derive(Debug)]
pub struct BybitDecoder {
    venue: Venue,
    max_frame: usize,
    max_levels: usize,
    fast_path: bool,
    /// Padded copy of the frame for the tape path (simd-json unescapes in place).
    input: Vec<u8>,
    buffers: DebugSkip<simd_json::Buffers>,
    /// The tape, kept between frames so its allocation is reused.
    tape: Option<Tape<'static>>,
    bids: LevelBuf,
    asks: LevelBuf,
    /// Trades of one `publicTrade` message; capacity `max_levels`, never grown.
    trades: Vec<BybitTrade>,
    /// The fast path's guess at the next price's length (a hint only).
    shape: PriceShape,
    stats: DecodeStats,
}

/// Wrapper giving a field a placeholder `Debug`.
struct DebugSkip<T>(T);

impl<T> std::fmt::Debug for DebugSkip<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("..")
    }
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
            max_frame,
            max_levels,
            fast_path: true,
            input: vec![0; max_frame + simd_json::INPUT_PADDING],
            buffers: DebugSkip(simd_json::Buffers::new(max_frame.min(1 << 16))),
            tape: Some(Tape::null().reset()),
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
        self.check_size(frame)?;
        self.bids.clear();
        self.asks.clear();
        self.trades.clear();
        if self.fast_path {
            let (bids, asks, shape) = (&mut self.bids, &mut self.asks, &mut self.shape);
            if let Some(h) = fast::scan(frame, symbols, bids, asks, shape) {
                self.stats.fast += 1;
                return Ok(BybitMsg::Book(
                    h.with_levels(self.bids.as_slice(), self.asks.as_slice()),
                ));
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
            input,
            buffers,
            tape: tape_slot,
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
        stats.fallback += 1;
        let n = frame.len();
        input[..n].copy_from_slice(frame);
        let input: &'a mut [u8] = input;
        let mut tape: Tape<'a> = tape_slot.take().unwrap_or_else(Tape::null).reset();
        let out = Out {
            bids,
            asks,
            trades,
            max_levels: *max_levels,
        };
        let head = match simd_json::fill_tape_padded(input, n, &mut buffers.0, &mut tape) {
            Ok(()) => walk(venue, &tape.0, symbols, out),
            Err(e) => Err(tape_error(venue, frame, e.error(), e.index())),
        };
        *tape_slot = Some(tape.reset());
        let head = head?;
        let (bids, asks, trades): (&'a LevelBuf, &'a LevelBuf, &'a Vec<BybitTrade>) =
            (bids, asks, trades);
        Ok(head.finish(bids.as_slice(), asks.as_slice(), trades))
    }

    fn check_size(&self, frame: &[u8]) -> Result<(), DecodeError> {
        if frame.is_empty() {
            return Err(DecodeError {
                venue: self.venue,
                what: What::Empty,
                at: Location::Root,
            });
        }
        if frame.len() > self.max_frame {
            let max = u32::try_from(self.max_frame).unwrap_or(u32::MAX);
            return Err(DecodeError {
                venue: self.venue,
                what: What::TooLarge { max },
                at: Location::Root,
            });
        }
        Ok(())
    }
}

/// What simd-json refused (error path only): invalid UTF-8 at the first
/// bad byte (simd-json validates in blocks and reports the block), anything
/// else as invalid JSON where simd-json stopped.
#[cold]
fn tape_error(
    venue: Venue,
    frame: &[u8],
    kind: &simd_json::ErrorType,
    index: usize,
) -> DecodeError {
    let byte = |i: usize| Location::Byte(u32::try_from(i).unwrap_or(u32::MAX));
    match kind {
        simd_json::ErrorType::InvalidUtf8 => {
            let at = std::str::from_utf8(frame)
                .err()
                .map_or(index, |e| e.valid_up_to());
            DecodeError {
                venue,
                what: What::NotUtf8,
                at: byte(at),
            }
        }
        _ => DecodeError {
            venue,
            what: What::InvalidJson,
            at: byte(index),
        },
    }
}
