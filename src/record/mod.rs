//! Recording what the venues sent: every text frame with its receive time,
//! every REST snapshot body, and every connection event, in arrival order,
//! to compressed files that replay through the engine's own code.
//!
//! ```text
//! feed thread ──RecordTap──▶ byte ring ──RecordDrain──▶ Writer thread ──▶ DIR/<venue>/<period>-<seq>.jsonl.zst
//! ```
//!
//! The feed thread only copies each record into the preallocated ring
//! ([`RecordTap`]); the encoding, compression and file handling happen on
//! the writer thread (`record` feature, which brings zstd). Each line of a
//! file is one JSON record ([`format`]):
//! `{"recv_ns":…,"venue":"…","conn":…,"kind":"frame|rest|connect|disconnect|subscribe|status","data":"…"}`.

pub mod format;
pub mod rotate;
pub mod tap;

#[cfg(feature = "record")]
pub mod read;
#[cfg(feature = "record")]
pub mod writer;

pub use format::{Kind, RecordRef, encode_line, escape_json};
pub use rotate::{FileKey, Placement, RotatePolicy, Rotation};
pub use tap::{NO_INSTRUMENT, RecordDrain, RecordTap, TapHeader, TapStats, record_channel};
