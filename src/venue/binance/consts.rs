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
