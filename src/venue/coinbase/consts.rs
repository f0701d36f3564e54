//! Coinbase Advanced Trade market-data endpoints and limits (`venues.md`
//! §5a in the design notes).

use std::time::Duration;

use crate::types::Venue;
use crate::venue::profile::{Channel, Profile, SnapshotLimits, SnapshotSource};

/// Market-data WebSocket.
pub const PUBLIC_WS: &str = "wss://advanced-trade-ws.coinbase.com";
/// REST base (not needed for books: snapshots come on the stream).
pub const REST: &str = "https://api.coinbase.com";
/// Levels a side kept of the whole-book snapshot unless configured
/// (`snapshot_limit`; the book's capacity must hold it).
pub const DEFAULT_KEPT_LEVELS: u32 = 5_000;

/// Width of the books' tick window: 16,384 ticks (128 kB a side). The
/// stream is the whole book, and half of the captured BTC-USD updates land
/// within 12,288 ticks of the best price (against 18% within the default
/// window's 3,072): those are array writes instead of far-list searches.
pub const BOOK_WINDOW: usize = 16_384;

/// Coinbase, for the configuration front-end.
pub const PROFILE: Profile = Profile {
    default_tick_size: "0.00000001",
    default_lot_size: "0.00000001",
    venue: Venue::Coinbase,
    ws_url: PUBLIC_WS,
    rest_url: REST,
    snapshots: SnapshotSource::Stream,
    symbol_punctuation: b"-",
    symbol_alphabet: "ASCII letters, digits and `-` (product ids: BTC-USD)",
    example_symbols: &["BTC-USD", "ETH-USD", "SOL-USD"],
    channels: &[Channel::Depth, Channel::BookTicker, Channel::Trade],
    default_channels: &[Channel::Depth, Channel::BookTicker, Channel::Trade],
    // `level2` streams every change as it happens.
    depth_intervals: &[0],
    // The snapshot is always the whole book; this is how many levels a
    // side the book keeps of it (the best ones).
    snapshot_limits: SnapshotLimits::Range(1, 1_000_000),
    default_snapshot_limit: DEFAULT_KEPT_LEVELS,
    max_streams_per_connection: 300,
    url_streams: false,
    max_streams_per_subscribe: 100,
    // Unauthenticated clients: 8 messages a second per IP (Coinbase's
    // WebSocket rate limits page; not restated in venues.md).
    max_messages_per_sec: 8,
    rest_weight_per_min: 0,
    max_connection_age: Duration::from_secs(24 * 3600),
    reconnect_before_cut: Duration::from_secs(15 * 60),
    max_frame_bytes: super::DEFAULT_MAX_FRAME,
    book_window: BOOK_WINDOW,
    tardis_exchange: |_| "coinbase",
};
