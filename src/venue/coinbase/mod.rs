//! Coinbase Advanced Trade market data (`l2_data`, `market_trades`,
//! `ticker`, `heartbeats` on one public endpoint).
//!
//! `msg.rs` (borrowed wire types), `decode.rs` (the decoder: template fast
//! path, simd-json tape path as reference, buffers sized for whole-book
//! snapshots), `fast.rs` (the template), `tape.rs` (the reference walk),
//! `time.rs` (RFC 3339 to ns), `sync.rs` (the per-connection
//! `sequence_num` and the book rules on the shared sync core),
//! `session.rs` (one connection, sans-IO) and `consts.rs` (endpoints,
//! limits).

pub mod consts;
mod decode;
mod fast;
mod msg;
mod session;
pub mod sync;
mod tape;
pub mod time;

pub use decode::{
    CoinbaseDecoder, DEFAULT_MAX_FRAME, MAX_EVENTS, MAX_TICKERS, MAX_TRADES, MIN_UPDATE_BYTES,
};
pub use msg::{CoinbaseFrame, CoinbaseMsg, L2Event, L2Kind, L2Msg, TickerMsg, TradeMsg};
pub use session::CoinbaseSession;
