//! The loopback venue: a venue's WebSocket streams and REST depth endpoint
//! on one port of 127.0.0.1, over plain TCP or TLS.
//!
//! Threads: an acceptor; one short-lived thread per new connection for the
//! TLS and HTTP handshake (a REST request is answered there); and the market
//! thread, which owns the [`MarketSim`](super::MarketSim)s (the true books),
//! paces messages at the configured rate, writes them to every subscribed
//! client, reads client control messages, sends pings, and applies faults.
//! Nothing here is on a hot path of the engine; it favours clarity over
//! speed, but keeps up with a few hundred thousand messages a second.
//!
//! Files, by responsibility:
//! * this file — the public face: [`SimConfig`], [`Fault`], [`SimVenue`]
//!   (start, inject, stop) and the commands it sends the market thread;
//! * `tls.rs` — the generated CA and server certificate, the plain-or-TLS
//!   server stream;
//! * `http.rs` — acceptor and handshake: request parsing, the WebSocket
//!   upgrade, REST answers and refusals; a path the venue does not serve is
//!   a 404 with a short venue-neutral body;
//! * `market_thread.rs` — pacing, fan-out to clients, pings, faults;
//! * `dialect/` — everything a venue words its own way, one file per venue
//!   behind the `Dialect` enum (`binance.rs` spot and USD-M, `bybit.rs`
//!   spot and linear, `okx.rs`); the files above name no venue. `dialect/mod.rs` documents the seam and how
//!   Bybit, OKX, Coinbase and Kraken fit it.
//!
//! Binance's order endpoints (`/ws-api/v3`, `/ws-fapi/v1`, `/ws/<listenKey>`,
//! `/fapi/v1/listenKey`, `/fapi/v1/allOpenOrders`) are routed by `http.rs`
//! to the order desk (`sim/orders/`), which the market thread owns next to
//! the true books it matches against.

mod dialect;
mod http;
mod market_thread;
mod tls;

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use self::http::accept_loop;
use self::market_thread::{Client, Market};
use self::tls::server_tls;
use crate::sim::orders::{Conn, OrderFault, OrderStats, RestAnswer, RestCall, SimAccount};
use crate::types::{ManualClock, Price, Qty, Venue};

/// How the simulated venue behaves.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The venue whose dialect the simulator speaks (paths, stream names,
    /// frames, acks, error bodies).
    pub venue: Venue,
    /// Symbols, upper case.
    pub symbols: Vec<String>,
    /// Messages per second across all symbols and streams.
    pub rate: u32,
    /// Relative weights of depth diffs, top-of-book messages (Binance
    /// bookTicker, Bybit orderbook.1 / tickers, OKX bbo-tbt) and trades.
    pub mix: Mix,
    /// Book changes per diff (≈ levels per depth frame).
    pub changes_per_diff: usize,
    /// Serve wss:// and https:// with a generated certificate.
    pub tls: bool,
    /// Seed of the random walk.
    pub seed: u64,
    /// Server ping interval (Binance spot: 20 s; Bybit and OKX send none).
    pub ping_interval: Duration,
    /// Close a client that has not answered a ping for this long (Binance: 60 s).
    pub pong_timeout: Duration,
    /// Close a client that sends more control messages than this in one second
    /// (default: the venue's published limit, Binance spot 5). 0 disables the check.
    pub max_client_messages_per_sec: u32,
    /// Port on 127.0.0.1 (0: any free port).
    pub port: u16,
    /// Pin the market thread to this core.
    pub core: Option<usize>,
    /// Accounts allowed to trade on the order endpoints (Binance spot
    /// `/ws-api/v3`, USD-M `/ws-fapi/v1`); none by default.
    pub accounts: Vec<SimAccount>,
    /// The venue's wall clock in ns since the Unix epoch, for the order
    /// endpoints' timestamp checks and rate-limit windows (default: the
    /// system clock).
    pub clock: Option<ManualClock>,
}

/// Relative weights of the message kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mix {
    /// Depth diffs.
    pub depth: u32,
    /// bookTicker.
    pub book_ticker: u32,
    /// Trades (`trade` on spot, `aggTrade` on USD-M).
    pub trade: u32,
}

impl Default for Mix {
    fn default() -> Self {
        Mix {
            depth: 20,
            book_ticker: 50,
            trade: 30,
        }
    }
}

impl SimConfig {
    /// Defaults: 1,000 msgs/s, the default mix, 10 changes per diff, plain TCP.
    pub fn new(venue: Venue, symbols: &[&str]) -> SimConfig {
        SimConfig {
            venue,
            symbols: symbols.iter().map(|s| s.to_ascii_uppercase()).collect(),
            rate: 1_000,
            mix: Mix::default(),
            changes_per_diff: 10,
            tls: false,
            seed: 42,
            ping_interval: Duration::from_secs(20),
            pong_timeout: Duration::from_secs(60),
            // The venue's own published limit (Binance 5, Bybit 10, ...).
            max_client_messages_per_sec: crate::venue::profile(venue).max_messages_per_sec,
            port: 0,
            core: None,
            accounts: Vec::new(),
            clock: None,
        }
    }

    /// Tick and lot size of every simulated instrument (decimal text).
    pub const TICK: &'static str = "0.01";
    /// See [`SimConfig::TICK`].
    pub const LOT: &'static str = "0.00001";
}

/// Things that go wrong, on command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Drop every client connection without a close frame.
    Disconnect,
    /// Skip one diff (its update ids are never sent) for one symbol, or all.
    Gap(Option<String>),
    /// Send one malformed frame to every client.
    Malformed,
    /// Send nothing (no data, no pings) for this long; sockets stay open.
    Stall(Duration),
    /// Answer the next N depth snapshot requests with HTTP 503.
    RefuseSnapshots(u32),
    /// Answer the next N REST requests with HTTP 429 and `Retry-After: 1`.
    RateLimit(u32),
    /// Send nothing for one symbol for this long (its book keeps moving);
    /// the other symbols and the connection stay live.
    Quiet(String, Duration),
    /// Send one bogus diff for a symbol whose bid crosses the best ask (its
    /// ids continue the chain but the venue's book does not change).
    Crossed(String),
    /// The next book frame of one symbol, or of all, carries a wrong
    /// checksum while its levels move the book on correctly (OKX). Venues
    /// without checksums ignore it; see [`SimVenue::sends_checksums`].
    BadChecksum(Option<String>),
    /// A fault of the order endpoints.
    Orders(OrderFault),
    /// Send one valid depth frame of at least `bytes` bytes that changes
    /// nothing, for one symbol or all (Coinbase, whose whole-book frames
    /// run to megabytes; other venues send nothing).
    Oversized {
        /// The symbol (`None`: every symbol).
        symbol: Option<String>,
        /// The frame's least size.
        bytes: usize,
    },
    /// Divide the message rate by `factor` for `duration`.
    SlowDown {
        /// Divisor of the rate.
        factor: u32,
        /// How long.
        duration: Duration,
    },
}

/// The venue's own view of a book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrueBook {
    /// Bids, best first.
    pub bids: Vec<(Price, Qty)>,
    /// Asks, best first.
    pub asks: Vec<(Price, Qty)>,
    /// The venue's sequence of the last event: Binance's update id,
    /// Bybit's `u`, OKX's `seqId`.
    pub last_update_id: u64,
}

/// Counters.
#[derive(Debug, Default)]
pub struct SimStats {
    /// Messages generated.
    pub messages: AtomicU64,
    /// Client connections accepted (WebSocket).
    pub connections: AtomicU64,
    /// Snapshots served.
    pub snapshots: AtomicU64,
    /// REST requests refused (503/429).
    pub refused: AtomicU64,
    /// Clients closed for breaking a limit (messages per second, pong timeout).
    pub kicked: AtomicU64,
    /// Currently connected clients.
    pub clients: AtomicU64,
    /// The order endpoints' counters (breaches, duplicates, ...).
    pub orders: Arc<OrderStats>,
}

enum Command {
    Fault(Fault),
    Client(Box<Client>),
    Snapshot {
        symbol: String,
        limit: usize,
        reply: Sender<Option<Vec<u8>>>,
    },
    Truth {
        symbol: String,
        reply: Sender<Option<TrueBook>>,
    },
    Rate(u32),
    /// A trading connection for the order desk.
    OrderClient(Box<Conn>),
    /// A REST order request.
    OrderRest {
        call: RestCall,
        reply: Sender<RestAnswer>,
    },
    /// Another participant trades a symbol at a price.
    TradeThrough {
        symbol: String,
        price: i64,
    },
}

/// A running simulated venue. Dropping it stops its threads.
#[derive(Debug)]
pub struct SimVenue {
    addr: SocketAddr,
    tls: bool,
    venue: Venue,
    /// The WebSocket endpoint's path (empty for Binance).
    ws_path: &'static str,
    /// The venue's book frames carry checksums.
    checksums: bool,
    symbols: Vec<String>,
    ca_pem: Option<String>,
    /// The CA written to a file, once asked for (removed on drop).
    ca_path: Mutex<Option<std::path::PathBuf>>,
    ctl: Mutex<Sender<CommandBox>>,
    stop: Arc<AtomicBool>,
    stats: Arc<SimStats>,
    rest_faults: Arc<RestFaults>,
    threads: Vec<JoinHandle<()>>,
}

/// `Command` is not `Debug` (it holds sockets); this wrapper is.
struct CommandBox(Command);

impl std::fmt::Debug for CommandBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Command")
    }
}

/// REST faults are decided in the handshake threads.
#[derive(Debug, Default)]
struct RestFaults {
    refuse: AtomicU64,
    rate_limit: AtomicU64,
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Binding or spawning failed.
    #[error("simulator: {0}")]
    Io(#[from] io::Error),
    /// Generating or loading the certificate failed.
    #[error("simulator certificate: {0}")]
    Certificate(String),
    /// The simulator has no dialect for this venue.
    #[error("simulator: no dialect for {0}")]
    Unsupported(Venue),
}

impl SimVenue {
    /// Binds 127.0.0.1 on a free port and starts the threads.
    pub fn start(cfg: SimConfig) -> Result<SimVenue, SimError> {
        let dialect =
            dialect::Dialect::for_venue(cfg.venue).ok_or(SimError::Unsupported(cfg.venue))?;
        let listener = TcpListener::bind(("127.0.0.1", cfg.port))?;
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let (tls_config, ca_pem) = if cfg.tls {
            let (config, ca) = server_tls().map_err(SimError::Certificate)?;
            (Some(config), Some(ca))
        } else {
            (None, None)
        };
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(SimStats::default());
        let rest_faults = Arc::new(RestFaults::default());
        let (tx, rx) = mpsc::channel::<CommandBox>();
        let mut threads = Vec::new();
        {
            let (stop, stats, cfg) = (stop.clone(), stats.clone(), cfg.clone());
            threads.push(
                std::thread::Builder::new()
                    .name("sim-market".into())
                    .spawn(move || {
                        Market::new(cfg, dialect, rx, stop, stats).run();
                    })?,
            );
        }
        {
            let (stop, stats, tx, rest_faults) =
                (stop.clone(), stats.clone(), tx.clone(), rest_faults.clone());
            threads.push(
                std::thread::Builder::new()
                    .name("sim-accept".into())
                    .spawn(move || {
                        accept_loop(listener, tls_config, dialect, tx, stop, stats, rest_faults);
                    })?,
            );
        }
        Ok(SimVenue {
            addr,
            tls: cfg.tls,
            venue: cfg.venue,
            ws_path: dialect.ws_path(),
            checksums: dialect.checksums(),
            symbols: cfg.symbols.clone(),
            ca_pem,
            ca_path: Mutex::new(None),
            ctl: Mutex::new(tx),
            stop,
            stats,
            rest_faults,
            threads,
        })
    }

    fn send(&self, cmd: Command) {
        if let Ok(tx) = self.ctl.lock() {
            let _ = tx.send(CommandBox(cmd));
        }
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The venue the simulator speaks.
    pub fn venue(&self) -> Venue {
        self.venue
    }

    /// Whether the venue's book frames carry a checksum, so that
    /// [`Fault::BadChecksum`] has something to spoil.
    pub fn sends_checksums(&self) -> bool {
        self.checksums
    }

    /// The path of the venue's WebSocket endpoint (`/v5/public/spot`,
    /// `/ws/v5/public`); empty for Binance, whose paths name the streams.
    pub fn ws_path(&self) -> &'static str {
        self.ws_path
    }

    /// `ws://127.0.0.1:<port>` (or `wss://`).
    pub fn ws_url(&self) -> String {
        format!("{}://{}", if self.tls { "wss" } else { "ws" }, self.addr)
    }

    /// The spot WebSocket API: `ws://127.0.0.1:<port>/ws-api/v3` (or `wss://`).
    pub fn ws_api_url(&self) -> String {
        format!("{}/ws-api/v3", self.ws_url())
    }

    /// The USD-M WebSocket API: `ws://127.0.0.1:<port>/ws-fapi/v1` (or `wss://`).
    pub fn ws_fapi_url(&self) -> String {
        format!("{}/ws-fapi/v1", self.ws_url())
    }

    /// Another participant trades `symbol` at `price`: every resting
    /// simulated order at or better than it fills completely at its own
    /// price (resting orders also fill when the book's touch moves through
    /// them).
    pub fn trade_through(&self, symbol: &str, price: Price) {
        self.send(Command::TradeThrough {
            symbol: symbol.to_ascii_uppercase(),
            price: price.0,
        });
    }

    /// `http://127.0.0.1:<port>` (or `https://`).
    pub fn rest_url(&self) -> String {
        format!(
            "{}://{}",
            if self.tls { "https" } else { "http" },
            self.addr
        )
    }

    /// The CA certificate (PEM) that signed the server certificate, when TLS is on.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The CA certificate written to a temporary file (once), for
    /// configurations that name a CA file; `None` without TLS.
    pub fn ca_file(&self) -> Result<Option<std::path::PathBuf>, SimError> {
        let Some(pem) = &self.ca_pem else {
            return Ok(None);
        };
        let mut slot = self
            .ca_path
            .lock()
            .map_err(|_| SimError::Certificate("CA file lock poisoned".into()))?;
        if let Some(path) = slot.as_ref() {
            return Ok(Some(path.clone()));
        }
        let path = std::env::temp_dir().join(format!(
            "tickwire-sim-ca-{}-{}.pem",
            std::process::id(),
            self.addr.port()
        ));
        std::fs::write(&path, pem)?;
        *slot = Some(path.clone());
        Ok(Some(path))
    }

    /// A `[[venue]]` section pointing at this simulator: its endpoints
    /// (the WebSocket URL with the venue's path, Binance's bare), its CA,
    /// and its symbols with their exact tick and lot sizes.
    pub fn venue_section(&self) -> Result<crate::config::VenueSection, SimError> {
        let mut section = crate::config::VenueSection::new(self.venue);
        section.ws_url = Some(format!("{}{}", self.ws_url(), self.ws_path));
        section.rest_url = Some(self.rest_url());
        section.ca_file = self.ca_file()?;
        section.symbol_specs = self
            .symbols
            .iter()
            .map(|s| crate::config::SymbolSection {
                symbol: s.clone(),
                tick_size: SimConfig::TICK.to_owned(),
                lot_size: SimConfig::LOT.to_owned(),
            })
            .collect();
        Ok(section)
    }

    /// Injects a fault.
    pub fn inject(&self, fault: Fault) {
        match fault {
            Fault::RefuseSnapshots(n) => {
                self.rest_faults
                    .refuse
                    .fetch_add(u64::from(n), Ordering::Relaxed);
            }
            Fault::RateLimit(n) => {
                self.rest_faults
                    .rate_limit
                    .fetch_add(u64::from(n), Ordering::Relaxed);
            }
            other => self.send(Command::Fault(other)),
        }
    }

    /// Changes the message rate (0 pauses the market: the books stop moving).
    pub fn set_rate(&self, msgs_per_sec: u32) {
        self.send(Command::Rate(msgs_per_sec));
    }

    /// The venue's book for `symbol`, read from the market thread.
    pub fn true_book(&self, symbol: &str) -> Option<TrueBook> {
        let (reply, rx) = mpsc::channel();
        self.send(Command::Truth {
            symbol: symbol.to_ascii_uppercase(),
            reply,
        });
        rx.recv_timeout(Duration::from_secs(5)).ok().flatten()
    }

    /// Counters.
    pub fn stats(&self) -> &SimStats {
        &self.stats
    }

    /// Stops every thread and waits for them.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        if let Some(path) = self.ca_path.get_mut().ok().and_then(Option::take) {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Drop for SimVenue {
    fn drop(&mut self) {
        self.shutdown();
    }
}
