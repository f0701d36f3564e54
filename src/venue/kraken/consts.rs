//! Kraken WebSocket v2 (spot) public endpoints and limits (`venues.md` §6).

use std::time::Duration;

use crate::types::Venue;
use crate::venue::profile::{Channel, Profile, SnapshotLimits, SnapshotSource};

/// Public WebSocket v2.
pub const PUBLIC_WS: &str = "wss://ws.kraken.com/v2";
/// REST base (not needed for books: snapshots come on the stream).
pub const REST: &str = "https://api.kraken.com";
/// The book depths a `book` subscription may ask for; any other is refused
/// with `success: false`.
pub const BOOK_DEPTHS: &[u32] = &[10, 25, 100, 500, 1000];
/// Levels a side the checksum covers.
pub const CHECKSUM_LEVELS: usize = 10;
/// Send `{"method":"ping"}` when nothing was received for this long.
/// Subscribed connections get a heartbeat about every second, so silence
/// this long means trouble; idle connections are dropped after about a
/// minute without traffic.
pub const PING_IDLE: Duration = Duration::from_secs(10);
/// Client messages per second tickwire allows itself: Kraken publishes no
/// fixed number (the limit is dynamic, answered by an "Exceeded msg rate"
/// error), so this stays low.
pub const MAX_MESSAGES_PER_SEC: u32 = 5;

/// Kraken spot, for the configuration front-end.
pub const PROFILE: Profile = Profile {
    max_frame_bytes: super::DEFAULT_MAX_FRAME,
    book_window: crate::book::DEFAULT_WINDOW,
    tardis_exchange: |_| "kraken",
    venue: Venue::Kraken,
    ws_url: PUBLIC_WS,
    rest_url: REST,
    snapshots: SnapshotSource::Stream,
    symbol_punctuation: b"/",
    symbol_alphabet: "ASCII letters, digits and `/` (v2 pairs: BTC/USD, MINA/GBP)",
    example_symbols: &["BTC/USD", "ETH/USD", "SOL/USD"],
    channels: &[Channel::Depth, Channel::BookTicker, Channel::Trade],
    default_channels: &[Channel::Depth, Channel::BookTicker, Channel::Trade],
    // Books stream as the venue changes them: no interval to choose.
    depth_intervals: &[0],
    snapshot_limits: SnapshotLimits::OneOf(BOOK_DEPTHS),
    default_snapshot_limit: 10,
    max_streams_per_connection: 300,
    url_streams: false,
    // Symbols named in one subscribe message.
    max_streams_per_subscribe: 50,
    max_messages_per_sec: MAX_MESSAGES_PER_SEC,
    rest_weight_per_min: 0,
    // No documented cut; rotate daily anyway.
    max_connection_age: Duration::from_secs(24 * 3600),
    reconnect_before_cut: Duration::from_secs(15 * 60),
    // BTC/USD's precision.
    default_tick_size: "0.1",
    default_lot_size: "0.00000001",
};
