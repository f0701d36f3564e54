//! Binance spot and USD-M futures market data, and order entry over the
//! WebSocket API ([`orders`]).

pub mod consts;
mod decode;
mod fast;
pub mod frames;
pub mod msg;
pub mod orders;
pub mod session;
pub mod sync;

pub use decode::{BinanceDecoder, DEFAULT_MAX_FRAME, DEFAULT_MAX_LEVELS};
pub use frames::BinanceFrames;
pub use msg::{BinanceMsg, BookTicker, DepthSnapshot, DepthUpdate, SnapshotReply, TradeMsg};
pub use session::BinanceSession;
pub use sync::{BookSync, Bridge, Dialect, SyncLimits};
// Venue-agnostic since they moved; re-exported where they were.
pub use crate::venue::{
    DecodeStats, DiffOutcome, FeedStats, FrameKind, GapPolicy, InstrumentBook, SnapshotFailure,
    SnapshotOutcome, SyncStats, books_for,
};
