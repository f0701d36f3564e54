//! Binance endpoints and limits, from the venue's documentation
//! (see `venues.md` in the design notes).

use std::time::Duration;

/// Spot market-data WebSocket base (combined streams at `/stream?streams=`).
pub const SPOT_WS: &str = "wss://stream.binance.com:9443";
/// Spot REST base (depth snapshots at `/api/v3/depth`).
pub const SPOT_REST: &str = "https://api.binance.com";
/// Spot REST depth path.
pub const SPOT_DEPTH_PATH: &str = "/api/v3/depth";
/// USD-M futures market-data WebSocket base.
pub const USDM_WS: &str = "wss://fstream.binance.com";
/// USD-M futures REST base.
pub const USDM_REST: &str = "https://fapi.binance.com";
/// USD-M futures REST depth path.
pub const USDM_DEPTH_PATH: &str = "/fapi/v1/depth";

/// A connection is cut after 24 h; reconnect before that.
pub const MAX_CONNECTION_AGE: Duration = Duration::from_secs(24 * 3600);
/// Reconnect this long before the 24 h cut.
pub const RECONNECT_BEFORE_CUT: Duration = Duration::from_secs(15 * 60);
/// Streams per connection.
pub const MAX_STREAMS_PER_CONNECTION: usize = 1024;
/// Incoming control messages per second per connection (spot). Exceeding it
/// disconnects; tickwire stays strictly under.
pub const SPOT_MAX_MESSAGES_PER_SEC: u32 = 5;
/// The same limit on USD-M futures.
pub const USDM_MAX_MESSAGES_PER_SEC: u32 = 10;
/// Spot REST request weight per minute (documented default; the live value is in `exchangeInfo`).
pub const SPOT_REST_WEIGHT_PER_MIN: u32 = 6_000;
/// USD-M REST request weight per minute (documented default).
pub const USDM_REST_WEIGHT_PER_MIN: u32 = 2_400;
/// Deepest REST snapshot.
pub const MAX_SNAPSHOT_LIMIT: u32 = 5_000;

/// REST weight of `GET /api/v3/depth?limit=N` (spot).
pub const fn spot_depth_weight(limit: u32) -> u32 {
    match limit {
        0..=100 => 5,
        101..=500 => 25,
        501..=1000 => 50,
        _ => 250,
    }
}

/// REST weight of `GET /fapi/v1/depth?limit=N` (USD-M futures).
pub const fn usdm_depth_weight(limit: u32) -> u32 {
    match limit {
        0..=50 => 2,
        51..=100 => 5,
        101..=500 => 10,
        _ => 20,
    }
}

use crate::types::Venue;
use crate::venue::profile::{Channel, Profile, SnapshotLimits, SnapshotSource};

/// Binance spot, for the configuration front-end.
pub const SPOT: Profile = Profile {
    venue: Venue::BinanceSpot,
    ws_url: SPOT_WS,
    rest_url: SPOT_REST,
    snapshots: SnapshotSource::Rest,
    symbol_punctuation: b"",
    symbol_alphabet: "ASCII letters and digits",
    example_symbols: &["BTCUSDT", "ETHUSDT", "SOLUSDT"],
    channels: &[
        Channel::Depth,
        Channel::BookTicker,
        Channel::Trade,
        Channel::AggTrade,
    ],
    default_channels: &[Channel::Depth, Channel::BookTicker, Channel::Trade],
    depth_intervals: &[100, 1000],
    snapshot_limits: SnapshotLimits::Range(1, MAX_SNAPSHOT_LIMIT),
    default_snapshot_limit: 1000,
    max_streams_per_connection: MAX_STREAMS_PER_CONNECTION,
    url_streams: true,
    max_streams_per_subscribe: 200,
    max_messages_per_sec: SPOT_MAX_MESSAGES_PER_SEC,
    rest_weight_per_min: SPOT_REST_WEIGHT_PER_MIN,
    max_connection_age: MAX_CONNECTION_AGE,
    reconnect_before_cut: RECONNECT_BEFORE_CUT,
    max_frame_bytes: super::DEFAULT_MAX_FRAME,
    book_window: crate::book::DEFAULT_WINDOW,
    tardis_exchange: |_| "binance",
    default_tick_size: "0.00000001",
    default_lot_size: "0.00000001",
};

/// Binance USD-M futures, for the configuration front-end.
pub const USDM: Profile = Profile {
    venue: Venue::BinanceUsdm,
    ws_url: USDM_WS,
    rest_url: USDM_REST,
    symbol_punctuation: b"_",
    symbol_alphabet: "ASCII letters, digits and `_` (delivery contracts: BTCUSDT_261225)",
    channels: &[Channel::Depth, Channel::BookTicker, Channel::AggTrade],
    default_channels: &[Channel::Depth, Channel::BookTicker, Channel::AggTrade],
    depth_intervals: &[100, 0, 250, 500],
    max_messages_per_sec: USDM_MAX_MESSAGES_PER_SEC,
    rest_weight_per_min: USDM_REST_WEIGHT_PER_MIN,
    tardis_exchange: |_| "binance-futures",
    ..SPOT
};

/// REST weight of one depth snapshot of `limit` levels on `venue`.
pub const fn depth_weight(venue: Venue, limit: u32) -> u32 {
    match venue {
        Venue::BinanceUsdm => usdm_depth_weight(limit),
        _ => spot_depth_weight(limit),
    }
}

/// The REST depth path of `venue`.
pub const fn depth_path(venue: Venue) -> &'static str {
    match venue {
        Venue::BinanceUsdm => USDM_DEPTH_PATH,
        _ => SPOT_DEPTH_PATH,
    }
}
