//! Bybit v5 spot and linear market data.

pub mod consts;
mod decode;
mod fast;
pub mod msg;
mod tape;

pub use decode::{BybitDecoder, DEFAULT_MAX_FRAME, DEFAULT_MAX_LEVELS};
pub use msg::{BookMsg, BybitMsg, BybitTrade, Kind, TickerField, TickerMsg, TopOfBook, TradesMsg};
