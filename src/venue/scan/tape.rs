//! The simd-json side every venue's decoder shares: a padded copy of the
//! frame (simd-json unescapes in place), its buffers and a tape reused from
//! frame to frame, the size checks, and how a parse failure is reported.

use simd_json::{Node, Tape};

use crate::types::Venue;
use crate::venue::{DecodeError, Location, What};

/// The reusable parse state of one decoder: allocated once, at `max_frame`.
pub(crate) struct TapeScratch {
    venue: Venue,
    max_frame: usize,
    /// Padded copy of the frame for simd-json.
    input: Vec<u8>,
    buffers: simd_json::Buffers,
    /// The tape, kept between frames so its allocation is reused.
    tape: Option<Tape<'static>>,
}

impl std::fmt::Debug for TapeScratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TapeScratch")
            .field("venue", &self.venue)
            .field("max_frame", &self.max_frame)
            .finish_non_exhaustive()
    }
}

impl TapeScratch {
    /// Parse state for frames of up to `max_frame` bytes of `venue`.
    pub(crate) fn new(venue: Venue, max_frame: usize) -> TapeScratch {
        TapeScratch {
            venue,
            max_frame,
            input: vec![0; max_frame + simd_json::INPUT_PADDING],
            buffers: simd_json::Buffers::new(max_frame.min(1 << 16)),
            tape: Some(Tape::null().reset()),
        }
    }

    /// An empty frame, or one over `max_frame`, is refused before any work.
    #[inline]
    pub(crate) fn check_size(&self, frame: &[u8]) -> Result<(), DecodeError> {
        let what = if frame.is_empty() {
            What::Empty
        } else if frame.len() > self.max_frame {
            What::TooLarge {
                max: u32::try_from(self.max_frame).unwrap_or(u32::MAX),
            }
        } else {
            return Ok(());
        };
        Err(DecodeError {
            venue: self.venue,
            what,
            at: Location::Root,
        })
    }

    /// Parses `frame` (already size-checked) into the reused tape and hands
    /// its nodes to `walk`, whose result may borrow the parsed strings. A
    /// frame simd-json refuses is the outer `Err`, for the venue to word
    /// (most use [`tape_error`]).
    pub(crate) fn parse<'a, T>(
        &'a mut self,
        frame: &[u8],
        walk: impl FnOnce(&[Node<'a>]) -> Result<T, DecodeError>,
    ) -> Result<Result<T, DecodeError>, simd_json::Error> {
        let n = frame.len();
        self.input[..n].copy_from_slice(frame);
        let input: &'a mut [u8] = &mut self.input;
        let mut tape: Tape<'a> = self.tape.take().unwrap_or_else(Tape::null).reset();
        let result = match simd_json::fill_tape_padded(input, n, &mut self.buffers, &mut tape) {
            Ok(()) => Ok(walk(&tape.0)),
            Err(e) => Err(e),
        };
        self.tape = Some(tape.reset());
        result
    }
}

/// What simd-json refused (error path only): invalid UTF-8 at the first bad
/// byte (simd-json validates in blocks and reports the block), anything
/// else as invalid JSON where simd-json stopped.
#[cold]
pub(crate) fn tape_error(
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
