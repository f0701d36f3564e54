//! The simulated venue: a random-walk market that speaks Binance's dialect.
//!
//! [`market`] generates frames deterministically (pure, no I/O); it feeds the
//! benchmarks and tests as well as the loopback server.

pub mod market;
pub mod rng;

pub use market::{MarketConfig, MarketSim};
pub use rng::Rng;
