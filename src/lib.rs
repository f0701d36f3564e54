//! tickwire: exact, sequenced, normalised market data at the lowest latency
//! software can reach.
//!
//! ```text
//! socket → frame → venue (decode + sync) → book → ring → consumer      (feed thread)
//! ```
#![forbid(unsafe_code)]

// Exact prices and quantities, instruments, time, the 64-byte event.
pub mod types;
// Venue protocol code: sans-IO decoders and sync state machines.
pub mod venue;
// Order books: the tick-window ladder, a sorted alternative and a reference model.
pub mod book;
// Publisher side of the rings: batches, fan-out, slow-consumer repair.
pub mod ring;
// Subscriber side: polling and book mirrors.
pub mod consumer;
// Offline replay of captured frames through the engine's own code.
pub mod replay;
// The simulated venue: generated markets (and, with the `sim` feature, the loopback server).
pub mod sim;
