//! The simulated venue: a random-walk market, and (with the `sim` feature) a
//! loopback server that speaks a venue's dialect over it.
//!
//! [`market`] generates frames deterministically (pure, no I/O; Binance's,
//! Bybit's and OKX's wire formats); it feeds the benchmarks and tests as well as the
//! loopback server. The server (`server/`) is split by responsibility — TLS,
//! HTTP, the market thread, and one dialect per venue; its module docs map it.
//! The order endpoints (`orders/`: Binance spot and USD-M WebSocket API,
//! signed, rate-limited, matching against the true books) run on the
//! server's market thread.

pub mod market;
#[cfg(feature = "sim")]
mod orders;
#[cfg(feature = "sim")]
mod server;

pub use crate::types::Rng;
pub use market::{MarketConfig, MarketSim};
#[cfg(feature = "sim")]
pub use orders::{OrderFault, OrderStats, Product, SimAccount, SimKey, parse_ed25519_public};
#[cfg(feature = "sim")]
pub use server::{Fault, Mix, SimConfig, SimError, SimStats, SimVenue, TrueBook};
