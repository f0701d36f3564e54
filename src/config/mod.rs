//! Configuration: a TOML file (or the same structure built in code) →
//! validated [`EngineConfig`]. Every error names the key it is about.
//!
//! ```toml
//! [engine]
//! feed_core = 0              # pin the feed thread (omit: unpinned, with a warning)
//! consumer_cores = [1]       # cores for consumer threads (used by the CLI)
//! ring_size = 65536          # events per consumer ring
//! book_capacity = 5000       # levels per side
//! stale_timeout_ms = 10000   # no frame on a connection for this long: restart it
//! instrument_stale_ms = 60000  # no message for an instrument: resync it (0 = off)
//!
//! [[venue]]
//! name = "binance-spot"      # binance-usdm, bybit-spot, bybit-linear, okx
//! ws_url = "wss://stream.binance.com:9443"     # every endpoint can be overridden
//! rest_url = "https://api.binance.com"
//! channels = ["depth", "bookTicker", "trade"]
//! symbols = ["BTCUSDT"]      # Binance wire precision (8 decimals) for tick and lot
//! [[venue.symbol]]           # or with exact tick and lot sizes
//! symbol = "ETHUSDT"
//! tick_size = "0.01"
//! lot_size = "0.0001"
//! ```

mod bounds;
mod cores;
mod endpoint;
mod risk;
mod symbols;

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::types::{Registry, Venue};
use crate::venue::profile;

pub use endpoint::Endpoint;
pub use risk::{
    DEFAULT_BAND_BPS, DEFAULT_MAX_OPEN, RiskConfig, RiskFile, RiskInstrument,
    RiskInstrumentSection, RiskSection, limit_at,
};
use symbols::check_symbol;

pub use bounds::{
    LEVEL_BYTES, MAX_BOOK_CAPACITY, MAX_CONSUMER_CORES, MAX_DURATION_MS, MAX_MESSAGE_BYTES,
    MAX_RESTART_LIMIT, MAX_RING_SIZE, MAX_SYMBOLS_PER_VENUE, MEMORY_BUDGET_BYTES,
    MIN_CONNECTION_AGE_S, MIN_MESSAGE_BYTES, MemoryEstimate,
};

/// The file as written (before validation).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Engine-wide settings.
    #[serde(default)]
    pub engine: EngineSection,
    /// Venues to connect to.
    #[serde(rename = "venue", default)]
    pub venues: Vec<VenueSection>,
    /// `[risk]`: the order-entry limits `tickwire trade --config` reads.
    /// The feed engine does not use them, but one file can serve both, so
    /// the section is accepted and checked here too.
    #[serde(default)]
    pub risk: RiskSection,
}

/// `[engine]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineSection {
    /// Core for the feed thread.
    pub feed_core: Option<usize>,
    /// Cores for consumer threads (the CLI pins its consumer to the first).
    pub consumer_cores: Vec<usize>,
    /// Events per consumer ring. Must hold a full book snapshot.
    pub ring_size: usize,
    /// Levels per side per book.
    pub book_capacity: usize,
    /// TCP + TLS + WebSocket handshake must finish within this.
    pub connect_timeout_ms: u64,
    /// A connection that delivers no frame for this long is restarted.
    pub stale_timeout_ms: u64,
    /// An instrument with no message for this long is resynced (0 = off;
    /// otherwise longer than every venue's `depth_interval_ms`).
    pub instrument_stale_ms: u64,
    /// A venue whose snapshots come on the stream must send the book within
    /// this of a subscribe; otherwise it counts as a failed snapshot and the
    /// instrument resubscribes after its backoff.
    pub stream_snapshot_timeout_ms: u64,
    /// First restart delay.
    pub backoff_initial_ms: u64,
    /// Longest restart delay.
    pub backoff_max_ms: u64,
    /// Restarts of one connection allowed within `restart_window_ms` before
    /// that connection is marked down.
    pub restart_limit: u32,
    /// See `restart_limit`.
    pub restart_window_ms: u64,
    /// How long a connection stays down before trying again (0 = until
    /// the engine is restarted).
    pub down_cooldown_ms: u64,
    /// Largest WebSocket message accepted.
    pub max_message_bytes: usize,
    /// Spin on the socket instead of sleeping in epoll (needs `feed_core`:
    /// a core of its own).
    pub busy_poll: bool,
}

impl Default for EngineSection {
    fn default() -> Self {
        EngineSection {
            feed_core: None,
            consumer_cores: Vec::new(),
            ring_size: 1 << 16,
            book_capacity: crate::book::DEFAULT_CAPACITY,
            connect_timeout_ms: 10_000,
            stale_timeout_ms: 30_000,
            instrument_stale_ms: 60_000,
            stream_snapshot_timeout_ms: 10_000,
            backoff_initial_ms: 250,
            backoff_max_ms: 30_000,
            restart_limit: 5,
            restart_window_ms: 10_000,
            down_cooldown_ms: 60_000,
            max_message_bytes: 16 << 20,
            busy_poll: false,
        }
    }
}

/// `[[venue]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueSection {
    /// The venue: `binance-spot`, `binance-usdm`, `bybit-spot`, `bybit-linear` or `okx`.
    pub name: String,
    /// WebSocket base URL (the venue's production endpoint when absent).
    #[serde(default)]
    pub ws_url: Option<String>,
    /// REST base URL (the venue's production endpoint when absent).
    #[serde(default)]
    pub rest_url: Option<String>,
    /// PEM file of a CA to trust for this venue, in addition to the webpki roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Streams per symbol: `depth`, `bookTicker`, `trade`, `aggTrade`, as
    /// the venue publishes them (default: the venue profile's).
    #[serde(default)]
    pub channels: Option<Vec<String>>,
    /// Book update speed in ms, one the venue offers (Binance spot 100 or
    /// 1000; USD-M 0, 100, 250 or 500; default: the venue's first).
    #[serde(default)]
    pub depth_interval_ms: Option<u32>,
    /// Levels a side of a snapshot: the REST limit (Binance, 1–5000,
    /// default 1000) or the subscribed depth (Bybit 50/200/1000, default 200;
    /// OKX 400).
    #[serde(default)]
    pub snapshot_limit: Option<u32>,
    /// Streams per connection (at most the venue's limit, the default).
    #[serde(default)]
    pub max_streams_per_connection: Option<usize>,
    /// Control messages (subscribe) per second per connection; kept strictly
    /// under the venue's limit (default: one under it).
    #[serde(default)]
    pub control_messages_per_sec: Option<u32>,
    /// REST weight budget per minute for snapshots (default: half the
    /// venue's limit). Only for venues whose snapshots come by REST.
    #[serde(default)]
    pub rest_weight_per_minute: Option<u32>,
    /// Reconnect a connection after this long (default: 15 minutes before
    /// the venue's cut, or a day).
    #[serde(default)]
    pub max_connection_age_s: Option<u64>,
    /// Streams named in the connection URL; the others are subscribed with
    /// paced subscribe messages (default: as many as fit ~1,800
    /// characters). Only for venues whose URLs name streams (Binance).
    #[serde(default)]
    pub url_streams: Option<usize>,
    /// Streams per subscribe message (at most the venue's limit; default
    /// that limit, at most 100).
    #[serde(default)]
    pub streams_per_subscribe: Option<usize>,
    /// The largest text frame the venue's decoder takes, in bytes: its
    /// buffers are allocated for it at start-up (default: the venue's, e.g.
    /// 8 MiB for Coinbase's whole-book snapshots; at least 64 KiB, at most
    /// `engine.max_message_bytes`).
    #[serde(default)]
    pub max_frame_bytes: Option<usize>,
    /// Symbols at 8-decimal precision (tick and lot `0.00000001`).
    #[serde(default)]
    pub symbols: Vec<String>,
    /// Symbols with exact tick and lot sizes.
    #[serde(default, rename = "symbol")]
    pub symbol_specs: Vec<SymbolSection>,
}

impl VenueSection {
    /// A venue with every optional key at its default (no symbols yet):
    /// what a `[[venue]]` table with only `name` means.
    pub fn new(venue: Venue) -> VenueSection {
        VenueSection {
            name: venue.name().to_owned(),
            ws_url: None,
            rest_url: None,
            ca_file: None,
            channels: None,
            depth_interval_ms: None,
            snapshot_limit: None,
            max_streams_per_connection: None,
            control_messages_per_sec: None,
            rest_weight_per_minute: None,
            max_connection_age_s: None,
            url_streams: None,
            streams_per_subscribe: None,
            max_frame_bytes: None,
            symbols: Vec::new(),
            symbol_specs: Vec::new(),
        }
    }
}

/// `[[venue.symbol]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymbolSection {
    /// The venue's symbol.
    pub symbol: String,
    /// Price increment (decimal text; empty: the venue profile's default).
    #[serde(default)]
    pub tick_size: String,
    /// Quantity increment (decimal text; empty: the venue profile's default).
    #[serde(default)]
    pub lot_size: String,
}

/// `text`, or `default` when it is empty.
fn or_default(text: &str, default: &str) -> String {
    if text.is_empty() { default } else { text }.to_owned()
}

/// A configuration problem, naming the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed, or a key is unknown or of the wrong type.
    #[error("config: {0}")]
    Parse(String),
    /// A value is out of range or inconsistent.
    #[error("config: `{key}`: {message}")]
    Invalid {
        /// The key, e.g. `venue[0].symbol[2].tick_size`.
        key: String,
        /// What is wrong.
        message: String,
    },
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

pub use crate::venue::Channel;

/// One venue, validated.
#[derive(Clone, Debug)]
pub struct VenueConfig {
    /// Which venue.
    pub venue: Venue,
    /// WebSocket endpoint.
    pub ws: Endpoint,
    /// REST endpoint.
    pub rest: Endpoint,
    /// Extra CA certificates (PEM) trusted for this venue.
    pub ca_pem: Option<Vec<rustls::pki_types::CertificateDer<'static>>>,
    /// Streams per symbol.
    pub channels: Vec<Channel>,
    /// Depth stream speed.
    pub depth_interval_ms: u32,
    /// REST snapshot depth.
    pub snapshot_limit: u32,
    /// Streams per connection.
    pub max_streams_per_connection: usize,
    /// Control messages per second per connection.
    pub control_messages_per_sec: u32,
    /// REST weight per minute for snapshots.
    pub rest_weight_per_minute: u32,
    /// Planned reconnect age.
    pub max_connection_age: Duration,
    /// Most streams named in a connection URL (`None`: by URL length).
    pub url_streams: Option<usize>,
    /// Streams per SUBSCRIBE message.
    pub streams_per_subscribe: usize,
    /// The largest text frame the decoder takes, bytes.
    pub max_frame_bytes: usize,
    /// The instruments, in configuration order.
    pub symbols: Vec<SymbolConfig>,
}

/// One validated instrument of a venue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolConfig {
    /// The venue's symbol, upper case.
    pub symbol: String,
    /// Price increment (decimal text).
    pub tick_size: String,
    /// Quantity increment (decimal text).
    pub lot_size: String,
}

/// The validated configuration the engine runs on.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Engine-wide settings (as given; all checked).
    pub engine: EngineSection,
    /// Venues.
    pub venues: Vec<VenueConfig>,
}

impl EngineConfig {
    /// Every instrument of every venue, dense ids in configuration order.
    pub fn registry(&self) -> Registry {
        let mut r = Registry::new();
        for v in &self.venues {
            for s in &v.symbols {
                // Validation already registered each of these once.
                let _ = r.add(v.venue, &s.symbol, &s.tick_size, &s.lot_size);
            }
        }
        r
    }

    /// Shorthand for a duration field in ms.
    pub fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }
}

impl Config {
    /// Parses TOML text.
    #[cfg(feature = "toml-config")]
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))
    }

    /// Reads and parses a TOML file.
    #[cfg(feature = "toml-config")]
    pub fn load(path: &std::path::Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::from_toml_str(&text)
    }

    /// Checks every value; the error names the first bad key.
    ///
    /// Core ids are checked against the process's cores as first read by
    /// [`crate::sys::init_core_list`]: call that (or this) from the main
    /// thread before pinning any thread, since a pinned thread sees only its
    /// own core.
    pub fn validate(&self) -> Result<EngineConfig, ConfigError> {
        let e = &self.engine;
        if self.venues.is_empty() {
            return Err(invalid("venue", "at least one [[venue]] is required"));
        }
        bounds::check_engine(e)?;
        self.risk.validate()?;
        cores::check_cores(e, crate::sys::init_core_list())?;
        let mut registry = Registry::new();
        let mut venues = Vec::new();
        for (i, v) in self.venues.iter().enumerate() {
            if let Some(j) = self.venues[..i].iter().position(|w| w.name == v.name) {
                return Err(invalid(
                    format!("venue[{i}].name"),
                    format!(
                        "{:?} is already venue[{j}]: list all its symbols under one [[venue]] \
                         (the venue's connection and REST weight limits are per IP)",
                        v.name
                    ),
                ));
            }
            let mut venue = validate_venue(i, v, &mut registry)?;
            bounds::check_staleness(e, i, venue.depth_interval_ms)?;
            bounds::check_depth_fits(e, i, &venue)?;
            if v.max_frame_bytes.is_some() {
                bounds::check_frame_size(e, i, &venue)?;
            } else {
                // No frame larger than the WebSocket layer accepts can arrive.
                venue.max_frame_bytes = venue.max_frame_bytes.min(e.max_message_bytes);
            }
            venues.push(venue);
        }
        let consumers = e.consumer_cores.len().max(1);
        MemoryEstimate::new(e.ring_size, consumers, e.book_capacity, registry.len()).check()?;
        Ok(EngineConfig {
            engine: e.clone(),
            venues,
        })
    }
}

fn validate_venue(
    i: usize,
    v: &VenueSection,
    registry: &mut Registry,
) -> Result<VenueConfig, ConfigError> {
    let key = |k: &str| format!("venue[{i}].{k}");
    let venue = Venue::from_name(&v.name).ok_or_else(|| {
        let known: Vec<&str> = Venue::ALL.iter().map(|v| v.name()).collect();
        invalid(
            key("name"),
            format!("unknown venue {:?}; known: {}", v.name, known.join(", ")),
        )
    })?;
    let p = profile(venue);
    let (ws_default, rest_default) = (p.ws_url, p.rest_url);
    let ws = Endpoint::parse(
        &key("ws_url"),
        v.ws_url.as_deref().unwrap_or(ws_default),
        ["ws", "wss"],
    )?;
    let rest = Endpoint::parse(
        &key("rest_url"),
        v.rest_url.as_deref().unwrap_or(rest_default),
        ["http", "https"],
    )?;
    let ca_pem = match &v.ca_file {
        None => None,
        Some(path) => Some(
            crate::socket::load_ca_file(path)
                .map_err(|e| invalid(key("ca_file"), e.to_string()))?,
        ),
    };
    let channels = match &v.channels {
        None => p.default_channels.to_vec(),
        Some(list) => {
            let mut out = Vec::new();
            for (j, c) in list.iter().enumerate() {
                let ch = Channel::parse(c)
                    .filter(|ch| p.channels.contains(ch))
                    .ok_or_else(|| {
                        let known: Vec<&str> = p.channels.iter().map(|c| c.name()).collect();
                        invalid(
                            key(&format!("channels[{j}]")),
                            format!("{venue} has no channel {c:?}; use {}", known.join(", ")),
                        )
                    })?;
                if out.contains(&ch) {
                    return Err(invalid(
                        key(&format!("channels[{j}]")),
                        format!("{c:?} is listed twice"),
                    ));
                }
                out.push(ch);
            }
            if !out.contains(&Channel::Depth) {
                return Err(invalid(
                    key("channels"),
                    "must include \"depth\" (books are built from it)",
                ));
            }
            out
        }
    };
    let rates = bounds::check_venue(i, venue, v)?;
    let mut symbols = Vec::new();
    for (j, s) in v.symbols.iter().enumerate() {
        symbols.push((
            key(&format!("symbols[{j}]")),
            s.clone(),
            p.default_tick_size.to_owned(),
            p.default_lot_size.to_owned(),
        ));
    }
    for (j, s) in v.symbol_specs.iter().enumerate() {
        symbols.push((
            key(&format!("symbol[{j}]")),
            s.symbol.clone(),
            or_default(&s.tick_size, p.default_tick_size),
            or_default(&s.lot_size, p.default_lot_size),
        ));
    }
    if symbols.is_empty() {
        return Err(invalid(key("symbols"), "no symbols configured"));
    }
    let mut out = Vec::new();
    for (k, sym, tick, lot) in symbols {
        check_symbol(&k, venue, &sym)?;
        if let Err(e) = registry.add(venue, &sym, &tick, &lot) {
            let field = match &e {
                crate::types::RegistryError::BadIncrement { what: "tick", .. } => {
                    format!("{k}.tick_size")
                }
                crate::types::RegistryError::BadIncrement { .. } => format!("{k}.lot_size"),
                _ => k,
            };
            return Err(invalid(field, e.to_string()));
        }
        out.push(SymbolConfig {
            symbol: sym.to_ascii_uppercase(),
            tick_size: tick,
            lot_size: lot,
        });
    }
    Ok(VenueConfig {
        venue,
        ws,
        rest,
        ca_pem,
        channels,
        depth_interval_ms: rates.depth_interval_ms,
        snapshot_limit: rates.snapshot_limit,
        max_streams_per_connection: rates.max_streams_per_connection,
        control_messages_per_sec: rates.control_messages_per_sec,
        rest_weight_per_minute: rates.rest_weight_per_minute,
        max_connection_age: Duration::from_secs(rates.max_connection_age_s),
        url_streams: v.url_streams,
        streams_per_subscribe: rates.streams_per_subscribe,
        max_frame_bytes: v.max_frame_bytes.unwrap_or(p.max_frame_bytes),
        symbols: out,
    })
}

#[cfg(all(test, feature = "toml-config"))]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match Config::from_toml_str(text).and_then(|c| c.validate()) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_full_config_validates() {
        let c = Config::from_toml_str(
            r#"
            [engine]
            feed_core = 0
            ring_size = 20000
            [[venue]]
            name = "binance-spot"
            ws_url = "ws://127.0.0.1:9000"
            rest_url = "http://127.0.0.1:9000/"
            symbols = ["btcusdt"]
            [[venue.symbol]]
            symbol = "ETHUSDT"
            tick_size = "0.01"
            lot_size = "0.0001"
            "#,
        )
        .unwrap()
        .validate()
        .unwrap();
        let v = &c.venues[0];
        assert_eq!(v.ws.port, 9000);
        assert!(!v.ws.tls);
        assert_eq!(v.rest.base, "http://127.0.0.1:9000");
        assert_eq!(v.symbols[0].symbol, "BTCUSDT");
        assert_eq!(v.snapshot_limit, 1000);
        assert_eq!(v.control_messages_per_sec, 4);
        assert_eq!(c.registry().len(), 2);
    }

    #[test]
    fn new_matches_a_table_with_only_a_name() {
        let parsed = Config::from_toml_str("[[venue]]\nname = \"binance-usdm\"").unwrap();
        assert_eq!(
            format!("{:?}", parsed.venues[0]),
            format!("{:?}", VenueSection::new(Venue::BinanceUsdm))
        );
    }

    #[test]
    fn errors_name_the_key() {
        assert!(err("[[venue]]\nname = \"deribit\"\nsymbols=[\"A\"]").contains("`venue[0].name`"));
        assert!(err("[engine]\nbogus = 1").contains("bogus"));
        assert!(
            err("[engine]\nring_size = 10\n[[venue]]\nname=\"binance-spot\"\nsymbols=[\"A\"]")
                .contains("`engine.ring_size`")
        );
        let e = err(
            "[[venue]]\nname=\"binance-spot\"\n[[venue.symbol]]\nsymbol=\"A\"\ntick_size=\"abc\"",
        );
        assert!(e.contains("`venue[0].symbol[0].tick_size`"), "{e}");
        assert!(
            err("[[venue]]\nname=\"binance-spot\"\nws_url=\"http://x\"\nsymbols=[\"A\"]")
                .contains("`venue[0].ws_url`")
        );
        assert!(
            err(
                "[[venue]]\nname=\"binance-usdm\"\nchannels=[\"depth\",\"trade\"]\nsymbols=[\"A\"]"
            )
            .contains("channels[1]")
        );
        assert!(
            err("[[venue]]\nname=\"binance-spot\"\ncontrol_messages_per_sec=5\nsymbols=[\"A\"]")
                .contains("strictly under")
        );
        assert!(
            err("[[venue]]\nname=\"binance-spot\"\nca_file=\"/nonexistent.pem\"\nsymbols=[\"A\"]")
                .contains("`venue[0].ca_file`")
        );
        assert!(
            err("[[venue]]\nname=\"binance-spot\"\nsymbols=[\"A\", \"a\"]")
                .contains("already registered")
        );
        assert!(err("").contains("at least one"));
        assert!(err("[engine\n").contains("config"));
    }
}
