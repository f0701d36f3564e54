//! Kraken WebSocket v2 spot market data.
//!
//! `msg.rs` (borrowed wire types and the value converters), `json.rs` (the
//! byte walker that keeps numbers' text), `tape.rs` (the order-independent
//! reference decode), `fast.rs` (the template fast path), `decode.rs` (the
//! decoder and its buffers), `checksum.rs` (the CRC32 over the top 10
//! levels' digits, the reference), `top.rs` (those digits kept in rank
//! order from message to message), `sync.rs` (apply, truncate to the subscribed depth,
//! check), `session.rs` (one connection, sans-IO) and `consts.rs`
//! (endpoints, limits).

pub mod checksum;
pub mod consts;
mod decode;
mod fast;
mod json;
mod msg;
mod session;
mod sync;
mod tape;
mod top;

pub use checksum::checksum;
pub use decode::{DEFAULT_MAX_FRAME, DEFAULT_MAX_LEVELS, KrakenDecoder, MAX_ENTRIES, MAX_TRADES};
pub use msg::{BboMsg, BookKind, BookMsg, BookView, KrakenMsg, TradeMsg};
pub use session::KrakenSession;
pub use sync::KrakenBookSync;
pub use top::TopTexts;
