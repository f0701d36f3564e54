//! Bybit v5 public market-data endpoints and limits, from the venue's
//! documentation (see `venues.md` §3 in the design notes).

use std::time::Duration;

use crate::types::Venue;
use crate::venue::profile::{Channel, Profile, SnapshotLimits, SnapshotSource};

/// Spot public WebSocket.
pub const SPOT_WS: &str = "wss://stream.bybit.com/v5/public/spot";
/// Linear (USDT/USDC perpetuals and futures) public WebSocket.
pub const LINEAR_WS: &str = "wss://stream.bybit.com/v5/public/linear";
/// REST base (not needed for books: snapshots come on the stream).
pub const REST: &str = "https://api.bybit.com";
/// Args a spot subscribe request may carry.
pub const SPOT_ARGS_PER_SUBSCRIBE: usize = 10;
/// Characters of `args` one public connection may subscribe in total.
pub const ARGS_CHARS_PER_CONNECTION: usize = 21_000;
/// The client should ping this often (`{"op":"ping"}`); the server cuts a
/// connection with neither pings nor data after 10 minutes.
pub const PING_INTERVAL: Duration = Duration::from_secs(20);
/// Order-book depths a public `orderbook.{depth}.{symbol}` topic offers.
pub const BOOK_DEPTHS: &[u32] = &[1, 50, 200, 1000];

/// Bybit spot, for the configuration front-end.
pub const SPOT: Profile = Profile {
    venue: Venue::BybitSpot,
    ws_url: SPOT_WS,
    rest_url: REST,
    snapshots: SnapshotSource::Stream,
    symbol_punctuation: b"",
    symbol_alphabet: "ASCII letters and digits",
    example_symbols: &["BTCUSDT", "ETHUSDT", "SOLUSDT"],
    channels: &[Channel::Depth, Channel::BookTicker, Channel::Trade],
    default_channels: &[Channel::Depth, Channel::BookTicker, Channel::Trade],
    // orderbook.200 pushes every 100 ms (50: 20 ms, 1000: 200 ms).
    depth_intervals: &[100, 20, 200],
    snapshot_limits: SnapshotLimits::OneOf(&[50, 200, 1000]),
    default_snapshot_limit: 200,
    // ~21 characters a topic within 21,000 characters of args.
    max_streams_per_connection: 500,
    url_streams: false,
    max_streams_per_subscribe: SPOT_ARGS_PER_SUBSCRIBE,
    // Not published for public streams; tickwire keeps well under it.
    max_messages_per_sec: 10,
    rest_weight_per_min: 0,
    // No documented cut while pinging; rotate daily anyway.
    max_connection_age: Duration::from_secs(24 * 3600),
    reconnect_before_cut: Duration::from_secs(15 * 60),
    max_frame_bytes: super::DEFAULT_MAX_FRAME,
    book_window: crate::book::DEFAULT_WINDOW,
    tardis_exchange: |_| "bybit-spot",
    default_tick_size: "0.00000001",
    default_lot_size: "0.00000001",
};

/// Bybit linear contracts, for the configuration front-end.
pub const LINEAR: Profile = Profile {
    venue: Venue::BybitLinear,
    ws_url: LINEAR_WS,
    // Dated futures: BTCUSDT-26DEC25.
    symbol_punctuation: b"-",
    symbol_alphabet: "ASCII letters, digits and `-` (dated futures: BTCUSDT-26DEC25)",
    tardis_exchange: |_| "bybit",
    ..SPOT
};
