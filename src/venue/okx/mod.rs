//! OKX v5 market data (spot, swaps, futures: one public endpoint).
//!
//! `msg.rs` (borrowed wire types), `decode.rs` (the decoder: template fast
//! path, simd-json tape path as reference), `fast.rs` (the template),
//! `checksum.rs` (the `books` CRC32 over the venue's own spellings) and
//! `consts.rs` (endpoints, limits).

pub mod checksum;
pub mod consts;
mod decode;
mod fast;
mod msg;

pub use checksum::{BookSpelling, Spell, SpellError, spelling};
pub use decode::{DEFAULT_MAX_FRAME, DEFAULT_MAX_LEVELS, MAX_TRADES, OkxDecoder};
pub use msg::{Action, BboMsg, BookMsg, OkxMsg, Subscription, TradeMsg};
