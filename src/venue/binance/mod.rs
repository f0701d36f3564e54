//! Binance spot and USD-M futures market data.

pub mod consts;
mod decode;
mod fast;
pub mod feed;
pub mod msg;
pub mod sync;

pub use decode::{BinanceDecoder, DEFAULT_MAX_FRAME, DEFAULT_MAX_LEVELS};
pub use feed::{BinanceFeed, FeedStats, FrameKind, InstrumentBook, SnapshotFailure, books_for};
pub use msg::{BinanceMsg, BookTicker, DepthSnapshot, DepthUpdate, SnapshotReply, TradeMsg};
pub use sync::{BookSync, Dialect, DiffOutcome, GapPolicy, SnapshotOutcome, SyncLimits};
// Venue-agnostic since they moved; re-exported where they were.
pub use crate::venue::{DecodeStats, SyncStats};
