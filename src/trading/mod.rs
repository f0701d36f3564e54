//! The order-entry thread: the IO half of [`crate::orders`]. One thread
//! (pinned when a core is given) owns the trading connection, its mio
//! loop and the [`Gate`]; strategies talk to it through rtrb rings only.
//!
//! ```text
//! strategy ─Request─► ring ─► Gate::submit ─► poll_send ─► sign+encode ─► socket
//! strategy ◄─ExecReport─ ring ◄─ poll_report ◄─ handle_reply/update ◄─ decode ◄─ socket
//! ```
//!
//! The connection is opened at start-up (not on the first order) and
//! supervised by the feed's [`Supervisor`](crate::engine::supervisor) with
//! the feed's [`Link`](crate::engine::link). On every (re)connect: logon
//! (Ed25519 `session.logon`), user data, then [`Gate::set_ready`]; after a
//! reconnect the gate queries every open and every unresolved order before
//! it accepts new ones. A dropped connection calls
//! [`Gate::handle_disconnect`].
//!
//! User data: spot subscribes on the trading connection. USD-M has none
//! there: a helper thread (`tickwire-rest`, the only place with HTTP) gets
//! a listen key (`POST /fapi/v1/listenKey`, again on every reconnect, kept
//! alive with `PUT` every 30 min) and the order thread opens
//! `/ws/<listenKey>` as a second connection on its own mio loop, with its
//! own `Link` and `Supervisor`. Its `ORDER_TRADE_UPDATE` events go through
//! the same decoder and gate as the replies (de-duplicated by cumulative
//! quantity and trade id). While that stream is down, new orders are
//! refused with `not_ready`; when it is back, open orders are queried.
//!
//! USD-M REST, on the helper thread: cancel-all (`DELETE
//! /fapi/v1/allOpenOrders`, its answer fed to the gate as the request's
//! reply; the stream then reports each cancel) and the dead-man switch
//! (`countdownCancelAll`, see [`TradingHandle::kill`]). The order thread
//! hands work over and takes answers through rtrb rings: no lock, no
//! blocking call on it.
//!
//! Cancel-replace: spot `order.cancelReplace` (the replacement has a fresh
//! client id); USD-M `order.modify`, an amend in place that keeps the
//! client id (see [`Gate::set_amend_in_place`]).
//!
//! Reports reach the strategy whose client-id prefix names the order;
//! session status reports reach every strategy and become one log line
//! each. A full report ring drops the report, counts it and marks the
//! strategy ([`TradingStats::reports_dropped`]); the thread never blocks.

mod latency;
mod market;
mod requests;
mod rest;
mod setup;
mod thread;
mod userdata;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;

use crate::orders::{BreakerConfig, ClientIdGen, ExecReport, OrdersConfig, RiskLimits};
use crate::types::{MonotonicClock, Nanos, Registry};
use crate::venue::binance::orders::{Market, Signer};

pub use latency::{OrderLatency, TradingReport};
pub use requests::{Requests, Stamped};
pub use thread::utc_now;

/// How the order-entry thread waits for work (strategy pushes, replies).
///
/// The default ([`TradingConfig::new`]) is [`WaitPolicy::Sleep`] with a
/// 50 µs spin: the thread is not pinned by default and may share a core,
/// so it must not burn it, and the strategy's push wakes it, so a request
/// costs one wake-up (an `eventfd` write and a scheduler hop, tens of µs)
/// rather than the whole idle sleep. On a machine with a core to spare, set
/// [`TradingConfig::core`] and [`WaitPolicy::Spin`]: push → wire is then
/// a few µs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitPolicy {
    /// Never sleep: poll the socket without a timeout and the rings in a
    /// tight loop. For a thread pinned to a core of its own (the usual
    /// low-latency set-up); uses that core fully.
    Spin,
    /// Keep spinning for `spin` ns after the last activity, then sleep in
    /// the poller up to [`TradingConfig::idle_poll`] or the next deadline;
    /// a strategy push wakes it at once. Low CPU when idle.
    Sleep {
        /// Busy-poll budget after activity (ns); 0 sleeps at once.
        spin: Nanos,
    },
}

/// Secret key material and its type.
#[derive(Clone)]
pub enum KeyMaterial {
    /// An HMAC-SHA256 secret (the bytes of the secret text).
    Hmac(Vec<u8>),
    /// An Ed25519 private key, PKCS#8 PEM.
    Ed25519Pem(String),
    /// An Ed25519 private key, its 32 raw bytes.
    Ed25519Raw([u8; 32]),
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.write_str(match self {
            KeyMaterial::Hmac(_) => "Hmac(<redacted>)",
            KeyMaterial::Ed25519Pem(_) | KeyMaterial::Ed25519Raw(_) => "Ed25519(<redacted>)",
        })
    }
}

/// Everything the order-entry thread needs.
#[derive(Clone, Debug)]
pub struct TradingConfig {
    /// Spot or USD-M.
    pub market: Market,
    /// The WebSocket API URL (`wss://host[:port]/ws-api/v3`, full path).
    pub ws_url: String,
    /// The REST base URL (USD-M: listen key, cancel-all, dead-man switch);
    /// `None`: `http[s]://` + the WebSocket URL's host and port.
    pub rest_url: Option<String>,
    /// USD-M user-data stream base, to which the listen key is appended
    /// (`wss://fstream.binance.com/ws/` live); `None`: the WebSocket URL's
    /// scheme, host and port + `/ws/`.
    pub user_ws_url: Option<String>,
    /// USD-M dead-man switch: the kill switch arms `countdownCancelAll`
    /// with this countdown (ms) on every instrument, and its reset disarms
    /// it (0 = never arm).
    pub dead_man_ms: u32,
    /// USD-M: how often the listen key is kept alive (`PUT`), ns. Binance
    /// closes a key after 60 min without one; default 30 min.
    pub listen_key_keepalive: Nanos,
    /// Extra CA certificates (PEM file) to trust for wss://.
    pub ca_file: Option<std::path::PathBuf>,
    /// The API key.
    pub api_key: String,
    /// The secret.
    pub key: KeyMaterial,
    /// The instruments (scales, symbols).
    pub registry: Registry,
    /// Risk limits applied to every instrument of the registry.
    pub risk: RiskLimits,
    /// Most open orders in total.
    pub max_open_total: u32,
    /// Most new orders per second per strategy (0 = no cap).
    pub max_orders_per_sec: u32,
    /// Per-instrument limits that replace `risk` (by instrument index).
    pub risk_per_instrument: Vec<(crate::types::InstrumentId, RiskLimits)>,
    /// Order table sizes and timeouts.
    pub orders: OrdersConfig,
    /// Circuit breaker.
    pub breaker: BreakerConfig,
    /// `recvWindow` sent with each request (ms).
    pub recv_window_ms: u32,
    /// Core to pin the thread to.
    pub core: Option<usize>,
    /// How long the loop sleeps in the poller when idle (ns) under
    /// [`WaitPolicy::Sleep`]. 0 = spin.
    pub idle_poll: Nanos,
    /// Spin or sleep when idle (see [`WaitPolicy`] for the default).
    pub wait: WaitPolicy,
    /// Reconnect backoff: first and longest delay (ns).
    pub backoff: (Nanos, Nanos),
    /// Capacity of each strategy's request and report rings.
    pub ring: usize,
}

impl TradingConfig {
    /// A config with wide risk limits and the default timeouts.
    pub fn new(
        market: Market,
        ws_url: &str,
        api_key: &str,
        key: KeyMaterial,
        registry: Registry,
    ) -> TradingConfig {
        TradingConfig {
            market,
            ws_url: ws_url.to_owned(),
            rest_url: None,
            user_ws_url: None,
            dead_man_ms: 10_000,
            listen_key_keepalive: 30 * 60 * 1_000_000_000,
            ca_file: None,
            api_key: api_key.to_owned(),
            key,
            registry,
            risk: RiskLimits {
                max_open: 100_000,
                ..RiskLimits::default()
            },
            max_open_total: 100_000,
            max_orders_per_sec: 0,
            risk_per_instrument: Vec::new(),
            orders: OrdersConfig {
                capacity: 32_768,
                ..OrdersConfig::default()
            },
            breaker: BreakerConfig::default(),
            recv_window_ms: 5_000,
            core: None,
            idle_poll: 200_000,
            wait: WaitPolicy::Sleep { spin: 50_000 },
            backoff: (100_000_000, 5_000_000_000),
            ring: 16_384,
        }
    }
}

/// Why the order-entry thread could not start.
#[derive(Debug, thiserror::Error)]
pub enum TradingError {
    /// The URL is not `ws://` / `wss://host[:port]/path`.
    #[error("bad ws url: {0}")]
    Url(String),
    /// The host did not resolve.
    #[error("cannot resolve {0}")]
    Resolve(String),
    /// The CA file or TLS setup failed.
    #[error("tls: {0}")]
    Tls(String),
    /// The key material is unusable (the message never contains it).
    #[error("key: {0}")]
    Key(String),
    /// The API key is not alphanumeric or too long.
    #[error("api key is not valid (alphanumeric, 1..=128 bytes)")]
    ApiKey,
    /// Too many strategies (at most 16).
    #[error("at most 16 strategies")]
    Strategies,
    /// The thread or poller could not start.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// What a strategy holds: its two rings and its id generator.
pub struct StrategyHandle {
    /// Push requests here (each stamped with its push time).
    pub requests: Requests,
    /// Execution reports (and session status) arrive here.
    pub reports: rtrb::Consumer<ExecReport>,
    /// Mints this strategy's client ids.
    pub ids: ClientIdGen,
}

/// The thread's end of one strategy.
pub(crate) struct StrategyEnd {
    pub(crate) requests: rtrb::Consumer<Stamped>,
    pub(crate) reports: rtrb::Producer<ExecReport>,
    /// `<prefix>-`, to route reports by client id.
    pub(crate) prefix: [u8; 24],
    pub(crate) prefix_len: usize,
}

/// Counters the order-entry thread publishes.
#[derive(Debug, Default)]
pub struct TradingStats {
    /// Requests taken from strategy rings.
    pub requests: AtomicU64,
    /// Requests written to the socket.
    pub written: AtomicU64,
    /// Requests the venue codec cannot express (and the REST helper could
    /// not take): left to time out in the gate.
    pub unencodable: AtomicU64,
    /// Requests handed to the REST helper (USD-M cancel-all).
    pub rest_requests: AtomicU64,
    /// Dead-man switch arms the venue confirmed (USD-M `countdownCancelAll`).
    pub dead_man_armed: AtomicU64,
    /// 1 while the USD-M user-data stream is open.
    pub user_data: AtomicU64,
    /// Inbound frames decoded.
    pub frames: AtomicU64,
    /// Frames that did not decode.
    pub decode_errors: AtomicU64,
    /// Reports dropped because a strategy's ring was full.
    pub reports_dropped: AtomicU64,
    /// Connections opened (1 + reconnects).
    pub connects: AtomicU64,
    /// 1 while the session is ready for orders.
    pub ready: AtomicU64,
    /// Feed events read for reference prices (see
    /// [`OrderEntry::set_market_data`]).
    pub market_events: AtomicU64,
    /// Reference prices set from the feed.
    pub references: AtomicU64,
    /// Set by [`TradingHandle::reset_latency`], cleared by the thread once
    /// its histograms are empty again.
    pub(crate) reset_latency: AtomicBool,
}

impl std::fmt::Debug for StrategyHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StrategyHandle")
            .field("ids", &self.ids)
            .finish_non_exhaustive()
    }
}

/// Builds the order-entry thread.
pub struct OrderEntry {
    cfg: TradingConfig,
    market: Option<market::MarketFeed>,
    strategies: Vec<StrategyEnd>,
    start_ms: u64,
    clock: MonotonicClock,
    wake: Arc<requests::Wake>,
}

impl std::fmt::Debug for OrderEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderEntry")
            .field("cfg", &self.cfg)
            .field("strategies", &self.strategies.len())
            .finish()
    }
}

impl OrderEntry {
    /// A builder for `cfg`.
    pub fn new(cfg: TradingConfig) -> OrderEntry {
        OrderEntry {
            cfg,
            market: None,
            strategies: Vec::new(),
            start_ms: utc_now() / 1_000_000,
            clock: MonotonicClock::new(),
            wake: Arc::default(),
        }
    }

    /// Adds a strategy: its rings and its client-id generator.
    pub fn add_strategy(&mut self) -> Result<StrategyHandle, TradingError> {
        let n = self.strategies.len();
        if n >= 16 {
            return Err(TradingError::Strategies);
        }
        let (req_tx, req_rx) = rtrb::RingBuffer::new(self.cfg.ring);
        let (rep_tx, rep_rx) = rtrb::RingBuffer::new(self.cfg.ring);
        let ids = ClientIdGen::session_prefix(self.start_ms, n as u8);
        // The prefix is what the generator puts before its counter.
        let mut probe = ids;
        let id = probe.mint();
        let bytes = id.as_bytes();
        let dash = bytes.iter().rposition(|&b| b == b'-').unwrap_or(0);
        let mut prefix = [0u8; 24];
        let len = (dash + 1).min(24);
        prefix[..len].copy_from_slice(&bytes[..len]);
        self.strategies.push(StrategyEnd {
            requests: req_rx,
            reports: rep_tx,
            prefix,
            prefix_len: len,
        });
        Ok(StrategyHandle {
            requests: Requests::new(req_tx, self.clock.clone(), self.wake.clone()),
            reports: rep_rx,
            ids,
        })
    }

    /// Gives the order-entry thread its own consumer of the feed engine
    /// (from [`Engine::add_consumer`](crate::engine::Engine::add_consumer),
    /// before the engine is spawned), so that the price band is checked
    /// against the current mid of each traded instrument's book. The
    /// thread drains the ring lock-free each turn and mirrors the books of
    /// the instruments it trades; `feed` is the engine's registry and
    /// `capacity` its book capacity. Returns false (and keeps no consumer)
    /// when the feed carries none of the traded symbols on this market's
    /// venue. Without a feed the band applies only where a reference price
    /// was set otherwise.
    pub fn set_market_data(
        &mut self,
        consumer: crate::consumer::Consumer,
        feed: &Registry,
        capacity: usize,
    ) -> bool {
        let venue = match self.cfg.market {
            Market::Spot => crate::types::Venue::BinanceSpot,
            Market::Usdm => crate::types::Venue::BinanceUsdm,
        };
        self.market = market::MarketFeed::new(consumer, feed, capacity, &self.cfg.registry, venue);
        self.market.is_some()
    }

    /// Starts the thread; the connection opens at once.
    pub fn spawn(self) -> Result<TradingHandle, TradingError> {
        let signer = match &self.cfg.key {
            KeyMaterial::Hmac(s) => Signer::hmac(s).map_err(|e| TradingError::Key(e.to_string())),
            KeyMaterial::Ed25519Pem(p) => {
                Signer::ed25519_pem(p).map_err(|e| TradingError::Key(e.to_string()))
            }
            KeyMaterial::Ed25519Raw(b) => Ok(Signer::ed25519_bytes(b)),
        }?;
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(TradingStats::default());
        let kill = Arc::new(AtomicU64::new(0));
        let mut looper = thread::Loop::new(
            self.cfg,
            signer,
            self.strategies,
            stop.clone(),
            stats.clone(),
            kill.clone(),
            self.clock,
            self.wake,
        )?;
        if let Some(m) = self.market {
            looper.set_market(m);
        }
        let core = looper.core();
        let join = std::thread::Builder::new()
            .name("tickwire-orders".into())
            .spawn(move || {
                if let Some(c) = core {
                    let _ = core_affinity::set_for_current(core_affinity::CoreId { id: c });
                }
                looper.run()
            })?;
        Ok(TradingHandle {
            stop,
            stats,
            kill,
            join: Some(join),
        })
    }
}

/// Controls a running order-entry thread.
pub struct TradingHandle {
    stop: Arc<AtomicBool>,
    stats: Arc<TradingStats>,
    /// Kill-switch commands: odd = on, even = off (a counter).
    kill: Arc<AtomicU64>,
    join: Option<JoinHandle<TradingReport>>,
}

impl std::fmt::Debug for TradingHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TradingHandle")
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl TradingHandle {
    /// The thread's counters.
    pub fn stats(&self) -> &TradingStats {
        &self.stats
    }

    /// Turns the kill switch on: cancel everything, refuse new orders. On
    /// USD-M it also arms the venue's dead-man switch
    /// (`countdownCancelAll` with [`TradingConfig::dead_man_ms`] on every
    /// instrument): should this process die before its cancel-alls land,
    /// the venue cancels the orders when the countdown runs out. Nothing
    /// renews it while the kill switch is on; [`TradingHandle::reset_kill`]
    /// disarms it (`countdownTime=0`).
    pub fn kill(&self) {
        self.kill.store(1, Ordering::Release);
    }

    /// Empties the latency histograms (after a warm-up, say); the thread
    /// does it on its next turn, without allocating.
    pub fn reset_latency(&self) {
        self.stats.reset_latency.store(true, Ordering::Release);
    }

    /// Resets the kill switch.
    pub fn reset_kill(&self) {
        self.kill.store(2, Ordering::Release);
    }

    /// Stops the thread, waits for it and returns its report (order
    /// latency histograms).
    pub fn stop(mut self) -> TradingReport {
        self.halt()
    }

    fn halt(&mut self) -> TradingReport {
        self.stop.store(true, Ordering::Release);
        match self.join.take() {
            Some(j) => j.join().unwrap_or_default(),
            None => TradingReport::default(),
        }
    }
}

impl Drop for TradingHandle {
    fn drop(&mut self) {
        let _ = self.halt();
    }
}
