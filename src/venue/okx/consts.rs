//! OKX v5 public market-data endpoints and limits (see `venues.md` §4 in
//! the design notes; OKX's documentation was not readable there, so the
//! limits below are the conservative reading of secondary sources).

use std::time::Duration;

use crate::types::Venue;
use crate::venue::profile::{Channel, Profile, SnapshotLimits, SnapshotSource};

/// Public WebSocket (every instrument type).
pub const PUBLIC_WS: &str = "wss://ws.okx.com:8443/ws/v5/public";
/// REST base (not needed for books: snapshots come on the stream).
pub const REST: &str = "https://www.okx.com";
/// Send a text `ping` when nothing was received for this long (the server
/// closes a connection silent for 30 s).
pub const PING_IDLE: Duration = Duration::from_secs(20);
/// Subscribe, unsubscribe and login requests one connection may send per hour.
pub const OPS_PER_HOUR: u32 = 480;
/// Levels a side of the `books` channel.
pub const BOOKS_DEPTH: u32 = 400;
/// Levels a side the checksum covers.
pub const CHECKSUM_LEVELS: usize = 25;

/// OKX, for the configuration front-end.
pub const PROFILE: Profile = Profile {
    venue: Venue::Okx,
    ws_url: PUBLIC_WS,
    rest_url: REST,
    snapshots: SnapshotSource::Stream,
    symbol_punctuation: b"-",
    symbol_alphabet: "ASCII letters, digits and `-` (instId: BTC-USDT, BTC-USDT-SWAP)",
    example_symbols: &["BTC-USDT", "ETH-USDT", "SOL-USDT"],
    channels: &[Channel::Depth, Channel::BookTicker, Channel::Trade],
    default_channels: &[Channel::Depth, Channel::BookTicker, Channel::Trade],
    depth_intervals: &[100],
    snapshot_limits: SnapshotLimits::OneOf(&[BOOKS_DEPTH]),
    default_snapshot_limit: BOOKS_DEPTH,
    // Fewer than 30 depth channels a connection is recommended.
    max_streams_per_connection: 90,
    url_streams: false,
    max_streams_per_subscribe: 30,
    // Connect: 3 requests a second per IP; text messages are also bounded
    // by OPS_PER_HOUR, which the session enforces.
    max_messages_per_sec: 3,
    rest_weight_per_min: 0,
    max_connection_age: Duration::from_secs(24 * 3600),
    reconnect_before_cut: Duration::from_secs(15 * 60),
    max_frame_bytes: super::DEFAULT_MAX_FRAME,
    book_window: crate::book::DEFAULT_WINDOW,
    tardis_exchange,
    default_tick_size: "0.00000001",
    default_lot_size: "0.00000001",
};

/// tardis.dev's exchange id by instrument type: `okex-swap` for perpetual
/// swaps (`BTC-USDT-SWAP`), `okex-futures` for dated futures
/// (`BTC-USD-251226`), `okex` for spot.
fn tardis_exchange(symbol: &str) -> &'static str {
    let dated = symbol
        .rsplit('-')
        .next()
        .is_some_and(|s| s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()));
    if symbol.ends_with("-SWAP") {
        "okex-swap"
    } else if dated {
        "okex-futures"
    } else {
        "okex"
    }
}
