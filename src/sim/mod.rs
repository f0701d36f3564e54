//! The simulated venue: a random-walk market that speaks Binance's dialect.
//!
//! [`market`] generates frames deterministically (pure, no I/O); it feeds the
//! benchmarks and tests as well as the loopback server.

pub mod market;
#[cfg(feature = "sim")]
mod server;

pub use crate::types::Rng;
pub use market::{MarketConfig, MarketSim};
#[cfg(feature = "sim")]
pub use server::{Fault, Mix, SimConfig, SimError, SimStats, SimVenue, TrueBook};
