//! Binance spot and USD-M futures market data.

pub mod consts;
mod decode;
mod fast;
pub mod feed;
pub mod msg;

pub use decode::{BinanceDecoder, DEFAULT_MAX_FRAME, DEFAULT_MAX_LEVELS, DecodeStats};
pub use feed::{BookSync, Dialect, DiffOutcome, GapPolicy, SnapshotOutcome, SyncLimits, SyncStats};
pub use msg::{BinanceMsg, BookTicker, DepthSnapshot, DepthUpdate, SnapshotReply, TradeMsg};
