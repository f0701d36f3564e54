//! What the configuration front-end needs to know about a venue, as data:
//! its endpoints, which symbols and channels it lists, and the limits it
//! publishes. Each venue folder defines its own [`Profile`] in its
//! `consts.rs`; [`profile`] is the one place that picks it, so the config
//! code validates every venue by the same rules and names none.

use std::time::Duration;

use crate::types::Venue;

/// A stream type of a symbol, in the venue-neutral words config files use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// The order book (diffs or deltas, and snapshots where the venue sends them).
    Depth,
    /// Best bid/offer (Binance `bookTicker`, Bybit `orderbook.1` or linear
    /// `tickers`, OKX `bbo-tbt`).
    BookTicker,
    /// Every trade.
    Trade,
    /// Aggregated trades (Binance).
    AggTrade,
}

impl Channel {
    /// The name used in config files.
    pub const fn name(self) -> &'static str {
        match self {
            Channel::Depth => "depth",
            Channel::BookTicker => "bookTicker",
            Channel::Trade => "trade",
            Channel::AggTrade => "aggTrade",
        }
    }

    /// Parses [`Channel::name`].
    pub fn parse(s: &str) -> Option<Channel> {
        [
            Channel::Depth,
            Channel::BookTicker,
            Channel::Trade,
            Channel::AggTrade,
        ]
        .into_iter()
        .find(|c| c.name() == s)
    }
}

/// Where a venue's book snapshots come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotSource {
    /// A REST request, while the stream's diffs are buffered (Binance).
    Rest,
    /// The stream itself: the first message after subscribing is the full
    /// book, and resubscribing asks for another (Bybit, OKX, Kraken, Coinbase).
    Stream,
}

/// A venue's endpoints, vocabulary and published limits.
#[derive(Clone, Copy, Debug)]
pub struct Profile {
    /// The venue.
    pub venue: Venue,
    /// Production market-data WebSocket base URL.
    pub ws_url: &'static str,
    /// Production REST base URL.
    pub rest_url: &'static str,
    /// Where snapshots come from.
    pub snapshots: SnapshotSource,
    /// Bytes a symbol may contain besides ASCII letters and digits (it
    /// must start with one of those).
    pub symbol_punctuation: &'static [u8],
    /// The symbol alphabet in words, for errors.
    pub symbol_alphabet: &'static str,
    /// A few of the venue's symbols, as the venue writes them (demos, docs).
    pub example_symbols: &'static [&'static str],
    /// Channels the venue publishes.
    pub channels: &'static [Channel],
    /// Channels subscribed when the config lists none.
    pub default_channels: &'static [Channel],
    /// Book update speeds the venue offers, in ms (the first is the default).
    pub depth_intervals: &'static [u32],
    /// Snapshot depths (levels a side) the venue offers: every value from
    /// the first to the second for a REST limit, or exactly the listed
    /// values for a subscribed depth.
    pub snapshot_limits: SnapshotLimits,
    /// Snapshot depth used when the config gives none.
    pub default_snapshot_limit: u32,
    /// Streams (topics) one connection may carry.
    pub max_streams_per_connection: usize,
    /// Whether streams can be named in the connection URL (else every
    /// stream is subscribed by message).
    pub url_streams: bool,
    /// Streams one subscribe message may name.
    pub max_streams_per_subscribe: usize,
    /// Client text messages per second per connection the venue allows
    /// (tickwire stays strictly under it).
    pub max_messages_per_sec: u32,
    /// REST weight per minute (0: the venue's books need no REST).
    pub rest_weight_per_min: u32,
    /// The venue cuts connections after this long (planned reconnects
    /// happen `reconnect_before_cut` earlier).
    pub max_connection_age: Duration,
    /// How long before `max_connection_age` to reconnect.
    pub reconnect_before_cut: Duration,
    /// The largest text frame the venue sends, in bytes: what the decoder's
    /// buffers are sized for at start-up unless the config's
    /// `max_frame_bytes` says otherwise.
    pub max_frame_bytes: usize,
    /// Price tick size (decimal text) of a symbol the config or replay
    /// gives none for.
    pub default_tick_size: &'static str,
    /// Quantity lot size (decimal text) of a symbol the config or replay
    /// gives none for.
    pub default_lot_size: &'static str,
    /// Width in ticks of the books' tick window (`BookSpec::window`): the
    /// levels this near the best price are one array write each, the
    /// others go to the sorted far list. Wider suits venues whose updates
    /// land deep in the book; each tick costs 8 bytes a side.
    pub book_window: usize,
    /// tardis.dev's exchange id for a symbol of this venue (the `exchange`
    /// column of `tickwire export --format tardis-incremental-l2`).
    pub tardis_exchange: fn(&str) -> &'static str,
}

/// See [`Profile::snapshot_limits`].
#[derive(Clone, Copy, Debug)]
pub enum SnapshotLimits {
    /// Any value in `min..=max`.
    Range(u32, u32),
    /// One of these.
    OneOf(&'static [u32]),
}

impl SnapshotLimits {
    /// Whether `n` is allowed.
    pub fn allows(&self, n: u32) -> bool {
        match *self {
            SnapshotLimits::Range(lo, hi) => (lo..=hi).contains(&n),
            SnapshotLimits::OneOf(list) => list.contains(&n),
        }
    }
}

impl std::fmt::Display for SnapshotLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SnapshotLimits::Range(lo, hi) => write!(f, "{lo}..={hi}"),
            SnapshotLimits::OneOf(list) => write!(f, "one of {list:?}"),
        }
    }
}

impl Profile {
    /// Whether `b` may appear in one of this venue's symbols.
    pub fn symbol_byte(&self, b: u8) -> bool {
        b.is_ascii_alphanumeric() || self.symbol_punctuation.contains(&b)
    }

    /// The planned connection age before the venue's cut.
    pub fn default_connection_age(&self) -> Duration {
        self.max_connection_age
            .saturating_sub(self.reconnect_before_cut)
    }
}

/// The profile of `venue`.
pub fn profile(venue: Venue) -> &'static Profile {
    match venue {
        Venue::BinanceSpot => &super::binance::consts::SPOT,
        Venue::BinanceUsdm => &super::binance::consts::USDM,
        Venue::BybitSpot => &super::bybit::consts::SPOT,
        Venue::BybitLinear => &super::bybit::consts::LINEAR,
        Venue::Okx => &super::okx::consts::PROFILE,
        Venue::Coinbase => &super::coinbase::consts::PROFILE,
        Venue::Kraken => &super::kraken::consts::PROFILE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_is_its_venues_and_consistent() {
        for v in Venue::ALL {
            let p = profile(v);
            assert_eq!(p.venue, v);
            assert!(!p.depth_intervals.is_empty(), "{v}");
            assert!(p.snapshot_limits.allows(p.default_snapshot_limit), "{v}");
            assert!(p.default_channels.contains(&Channel::Depth), "{v}");
            assert!(
                p.default_channels.iter().all(|c| p.channels.contains(c)),
                "{v}"
            );
            assert!(
                p.max_messages_per_sec >= 2,
                "{v}: no room strictly under the limit"
            );
            assert!(p.max_connection_age > p.reconnect_before_cut, "{v}");
            assert!(p.max_frame_bytes >= 64 << 10, "{v}");
            assert!(
                p.book_window.is_power_of_two() && p.book_window >= 64,
                "{v}"
            );
            assert_eq!(
                p.rest_weight_per_min > 0,
                p.snapshots == SnapshotSource::Rest,
                "{v}"
            );
        }
    }

    #[test]
    fn channel_names_round_trip() {
        for c in [
            Channel::Depth,
            Channel::BookTicker,
            Channel::Trade,
            Channel::AggTrade,
        ] {
            assert_eq!(Channel::parse(c.name()), Some(c));
        }
        assert_eq!(Channel::parse("books"), None);
    }
}
