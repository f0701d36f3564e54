//! Bybit v5 spot and linear market data: the decoder ([`BybitDecoder`]),
//! the book-sync rules ([`sync`]) and the per-connection session
//! ([`BybitSession`]).

pub mod consts;
mod decode;
mod fast;
mod frames;
pub mod msg;
mod session;
pub mod sync;
mod tape;

pub use decode::{BybitDecoder, DEFAULT_MAX_FRAME, DEFAULT_MAX_LEVELS};
pub use msg::{BookMsg, BybitMsg, BybitTrade, Kind, TickerField, TickerMsg, TopOfBook, TradesMsg};
pub use session::BybitSession;
