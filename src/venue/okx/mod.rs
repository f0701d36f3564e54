//! OKX v5 market data (spot, swaps, futures: one public endpoint).
//!
//! `msg.rs` (borrowed wire types), `decode.rs` (the decoder: template fast
//! path, simd-json tape path as reference), `fast.rs` (the template),
//! `checksum.rs` (the `books` CRC32 over the venue's own spellings, with
//! `table.rs` and `top.rs` keeping them),
//! `sync.rs` (OKX's rules on the shared sync core), `session.rs` (one
//! connection, sans-IO) and `consts.rs` (endpoints, limits).

pub mod checksum;
pub mod consts;
mod decode;
mod fast;
mod msg;
mod session;
mod sync;
mod table;
mod tape;
mod top;

pub use checksum::{BookSpelling, Spell, SpellError, spelling};
pub use decode::{DEFAULT_MAX_FRAME, DEFAULT_MAX_LEVELS, MAX_TRADES, OkxDecoder};
pub use msg::{Action, BboMsg, BookMsg, OkxMsg, Subscription, TradeMsg};
pub use session::OkxSession;
pub use sync::OkxBookSync;
