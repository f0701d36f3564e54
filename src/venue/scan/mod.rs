//! The reusable scanner: what every venue's template fast path reads JSON
//! with.
//!
//! A venue's fast path matches the frames it knows as templates: literal
//! key bytes in the venue's order, each value parsed in the same pass. The
//! venue folder keeps only those templates (which keys, in which order,
//! into which message); the readers they are made of live here:
//!
//! - `cursor.rs`: [`Cursor`], a position in a frame, and its readers of
//!   literals, strings, unsigned integers, booleans and quoted decimals,
//!   plus `,"x":`-keyed fields read from one bounds-check-free window.
//! - `number.rs`: readers of one number at a fixed position — [`Wire8`]
//!   (the eight-decimal form, no loop), [`uint15`](number::uint15) (integers of up to 15
//!   digits, two loads), [`decimal_general`](number::decimal_general) (any other decimal, out of
//!   line) — and the acceptance rules [`id`] and [`positive`].
//! - `levels.rs`: `[["<price>","<qty>"],...]` arrays into a preallocated
//!   [`LevelBuf`], with the [`PriceShape`] guess that keeps the loop's
//!   loads independent of the previous level's length.
//!
//! - `tape.rs`: [`TapeScratch`], the simd-json parse state every decoder's
//!   reference path reuses (padded input, buffers, tape, size checks).
//!
//! The arithmetic on eight bytes in a `u64` that these build on is in
//! [`crate::types::swar`], shared with the decimal parser.
//!
//! # What every reader promises
//! - **Never an error of its own.** A reader answers `Some` with a value, or
//!   `None`, which means "not a form I read: let the tape path decide". The
//!   simd-json tape path is the reference; it reports every error. After a
//!   `None`, the cursor's position and any level buffer's contents are
//!   unspecified: the caller drops the cursor and clears the buffers.
//! - **Never a different answer.** Whatever a reader accepts, the tape path
//!   would accept and read to the same value: so a reader refuses what the
//!   tape path refuses (numbers over 64 bytes, too many decimals for the
//!   scale, leading zeros, ids above `i64::MAX`, more levels than the
//!   buffer holds) and anything it would read differently (escapes,
//!   whitespace). Each venue property-tests and fuzzes its fast path
//!   against its tape path; the readers' own property tests sit beside them.
//! - **Nothing allocates** and nothing logs: level storage is sized when
//!   the decoder is built.
//!
//! The readers cover what a fast path calls today (Binance's frames);
//! other shapes (levels with extra elements, bare-number levels) are for
//! the venue that needs them to add.

mod cursor;
mod levels;
mod number;
pub(crate) mod render;
pub(crate) mod sniff;
mod tape;

pub(crate) use cursor::Cursor;
pub(crate) use levels::{LevelBuf, PriceShape};
pub(crate) use number::{Wire8, id, positive};
pub(crate) use tape::{TapeScratch, tape_error};
