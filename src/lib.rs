//! tickwire: exact, sequenced, normalised market data at the lowest latency
//! software can reach.
//!
//! ```text
//! socket → frame → venue (decode + sync) → book → ring → consumer      (feed thread)
//! strategy → ring → orders (risk, limits, state) → venue codec → socket (order entry)
//! ```
#![forbid(unsafe_code)]

// Exact prices and quantities, instruments, time, the 64-byte event.
pub mod types;
// mio TCP + rustls: the non-blocking byte stream.
pub mod socket;
// WebSocket framing over that stream (tungstenite): handshake, ping/pong, close.
pub mod frame;
// Venue protocol code: sans-IO decoders and sync state machines.
pub mod venue;
// Order entry, sans-IO: requests, risk, rate limits, breaker, order states.
pub mod orders;
// Order books: the tick-window ladder, a sorted alternative and a reference model.
pub mod book;
// Publisher side of the rings: batches, fan-out, slow-consumer repair.
pub mod ring;
// Subscriber side: polling and book mirrors.
pub mod consumer;
// The Aeron bridge: events to other processes and hosts (feature `aeron`).
#[cfg(feature = "aeron")]
pub mod bridge;
// Order entry's IO: the pinned order-entry thread, its rings and connection.
pub mod trading;
// The live engine: the pinned mio loop, supervision, snapshots via a helper thread.
pub mod engine;
// TOML → validated configuration.
pub mod config;
// Per-stage latency histograms, recorded off the hot path.
pub mod metrics;
// Offline replay of captured frames through the engine's own code.
pub mod replay;
// Recording raw frames to rotated zstd files, and reading them back.
pub mod record;
// Platform knobs: pinning, socket options.
pub mod sys;
// The simulated venue: generated markets (and, with the `sim` feature, the loopback server).
pub mod sim;
