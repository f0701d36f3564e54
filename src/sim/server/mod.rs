//! The loopback venue: Binance's WebSocket combined streams and REST depth
//! endpoint on one port, over plain TCP or TLS.
//!
//! Threads: an acceptor; one short-lived thread per new connection for the
//! TLS and HTTP handshake (a REST request is answered there); and the market
//! thread, which owns the [`MarketSim`]s (the true books), paces messages at
//! the configured rate, writes them to every subscribed client, reads client
//! control messages, sends pings, and applies faults. Nothing here is on a
//! hot path of the engine; it favours clarity over speed, but keeps up with
//! a few hundred thousand messages a second.

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::{Message, WebSocket};

mod tls;

use self::tls::{SimStream, server_tls};
use super::market::{MarketConfig, MarketSim};
use crate::socket::TlsStream;
use crate::types::Rng;
use crate::types::{Price, Qty, Side, Venue};

/// How the simulated venue behaves.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Binance dialect (spot or USD-M).
    pub venue: Venue,
    /// Symbols, upper case.
    pub symbols: Vec<String>,
    /// Messages per second across all symbols and streams.
    pub rate: u32,
    /// Relative weights of depth diffs, bookTickers and trades.
    pub mix: Mix,
    /// Book changes per diff (≈ levels per depth frame).
    pub changes_per_diff: usize,
    /// Serve wss:// and https:// with a generated certificate.
    pub tls: bool,
    /// Seed of the random walk.
    pub seed: u64,
    /// Server ping interval (Binance spot: 20 s).
    pub ping_interval: Duration,
    /// Close a client that has not answered a ping for this long (Binance: 60 s).
    pub pong_timeout: Duration,
    /// Close a client that sends more control messages than this in one second
    /// (Binance spot: 5). 0 disables the check.
    pub max_client_messages_per_sec: u32,
    /// Port on 127.0.0.1 (0: any free port).
    pub port: u16,
    /// Pin the market thread to this core.
    pub core: Option<usize>,
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
            max_client_messages_per_sec: 5,
            port: 0,
            core: None,
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
    /// Last update id applied.
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
}

/// A running simulated venue. Dropping it stops its threads.
#[derive(Debug)]
pub struct SimVenue {
    addr: SocketAddr,
    tls: bool,
    venue: Venue,
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
}

impl SimVenue {
    /// Binds 127.0.0.1 on a free port and starts the threads.
    pub fn start(cfg: SimConfig) -> Result<SimVenue, SimError> {
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
                        Market::new(cfg, rx, stop, stats).run();
                    })?,
            );
        }
        {
            let (stop, stats, tx, rest_faults) =
                (stop.clone(), stats.clone(), tx.clone(), rest_faults.clone());
            let venue = cfg.venue;
            threads.push(
                std::thread::Builder::new()
                    .name("sim-accept".into())
                    .spawn(move || {
                        accept_loop(listener, tls_config, venue, tx, stop, stats, rest_faults);
                    })?,
            );
        }
        Ok(SimVenue {
            addr,
            tls: cfg.tls,
            venue: cfg.venue,
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

    /// `ws://127.0.0.1:<port>` (or `wss://`).
    pub fn ws_url(&self) -> String {
        format!("{}://{}", if self.tls { "wss" } else { "ws" }, self.addr)
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

    /// A `[[venue]]` section pointing at this simulator: its endpoints, its
    /// CA, and its symbols with their exact tick and lot sizes.
    pub fn venue_section(&self) -> Result<crate::config::VenueSection, SimError> {
        let mut section = crate::config::VenueSection::new(self.venue);
        section.ws_url = Some(self.ws_url());
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

/// A connected WebSocket client and what it listens to.
struct Client {
    ws: WebSocket<SimStream>,
    /// Lower-case stream names.
    streams: HashSet<String>,
    /// Raw `/ws/<stream>` connection: frames go without the envelope.
    raw: bool,
    last_pong: Instant,
    ping_outstanding: bool,
    window_start: Instant,
    window_count: u32,
}

fn accept_loop(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    venue: Venue,
    tx: Sender<CommandBox>,
    stop: Arc<AtomicBool>,
    stats: Arc<SimStats>,
    rest_faults: Arc<RestFaults>,
) {
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((sock, _)) => {
                let (tls, tx, stats, rest_faults) =
                    (tls.clone(), tx.clone(), stats.clone(), rest_faults.clone());
                let spawned = std::thread::Builder::new().name("sim-conn".into()).spawn(
                    move || {
                        if let Err(e) =
                            handle_connection(sock, tls, venue, &tx, &stats, &rest_faults)
                        {
                            tracing::debug!(error = %e, "sim: connection ended during handshake");
                        }
                    },
                );
                if let Err(e) = spawned {
                    tracing::warn!(error = %e, "sim: cannot spawn a connection thread");
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(e) => {
                tracing::warn!(error = %e, "sim: accept failed");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// Reads an HTTP request head (at most 16 kB); returns the head's length.
fn read_head(stream: &mut SimStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return Ok(end + 4);
        }
        if buf.len() > 16 << 10 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too large",
            ));
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn handle_connection(
    sock: TcpStream,
    tls: Option<Arc<rustls::ServerConfig>>,
    venue: Venue,
    tx: &Sender<CommandBox>,
    stats: &SimStats,
    rest_faults: &RestFaults,
) -> io::Result<()> {
    sock.set_nonblocking(false)?;
    sock.set_read_timeout(Some(Duration::from_secs(5)))?;
    sock.set_nodelay(true)?;
    let mut stream = match tls {
        None => SimStream::Plain(sock),
        Some(config) => {
            let conn = rustls::ServerConnection::new(config).map_err(io::Error::other)?;
            SimStream::Tls(Box::new(TlsStream::new(conn, sock)))
        }
    };
    let mut buf = Vec::with_capacity(4096);
    let head_len = read_head(&mut stream, &mut buf)?;
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    if !matches!(
        req.parse(&buf[..head_len]),
        Ok(httparse::Status::Complete(_))
    ) {
        return respond(
            &mut stream,
            400,
            "{\"code\":-1100,\"msg\":\"Malformed request.\"}",
            &[],
        );
    }
    let path = req.path.unwrap_or("/").to_owned();
    let header = |name: &str| {
        req.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .and_then(|h| std::str::from_utf8(h.value).ok())
            .map(str::to_owned)
    };
    let upgrade = header("upgrade").is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if upgrade {
        let key = header("sec-websocket-key").unwrap_or_default();
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        let (streams, raw) = match parse_stream_path(&path) {
            Some(s) => s,
            None => {
                return respond(
                    &mut stream,
                    404,
                    "{\"code\":-1,\"msg\":\"unknown path\"}",
                    &[],
                );
            }
        };
        write!(
            stream,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        )?;
        stream.flush()?;
        stream.tcp().set_nonblocking(true)?;
        let mut config = WebSocketConfig::default();
        config.max_write_buffer_size = 64 << 20;
        let leftover = buf[head_len..].to_vec();
        let ws = WebSocket::from_partially_read(stream, leftover, Role::Server, Some(config));
        let now = Instant::now();
        let client = Client {
            ws,
            streams,
            raw,
            last_pong: now,
            ping_outstanding: false,
            window_start: now,
            window_count: 0,
        };
        stats.connections.fetch_add(1, Ordering::Relaxed);
        let _ = tx.send(CommandBox(Command::Client(Box::new(client))));
        return Ok(());
    }
    // REST.
    let (route, query) = path.split_once('?').unwrap_or((path.as_str(), ""));
    let depth_path = match venue {
        Venue::BinanceUsdm => "/fapi/v1/depth",
        _ => "/api/v3/depth",
    };
    if route != depth_path {
        return respond(
            &mut stream,
            404,
            "{\"code\":-1,\"msg\":\"unknown endpoint\"}",
            &[],
        );
    }
    if take_one(&rest_faults.rate_limit) {
        stats.refused.fetch_add(1, Ordering::Relaxed);
        return respond(
            &mut stream,
            429,
            "{\"code\":-1003,\"msg\":\"Too many requests.\"}",
            &[("Retry-After", "1")],
        );
    }
    if take_one(&rest_faults.refuse) {
        stats.refused.fetch_add(1, Ordering::Relaxed);
        return respond(
            &mut stream,
            503,
            "{\"code\":-1001,\"msg\":\"Internal error; unable to process your request. Please try again.\"}",
            &[],
        );
    }
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    };
    let symbol = param("symbol").unwrap_or_default().to_ascii_uppercase();
    let limit = param("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(100usize)
        .clamp(1, 5000);
    let (reply, rx) = mpsc::channel();
    let _ = tx.send(CommandBox(Command::Snapshot {
        symbol,
        limit,
        reply,
    }));
    match rx.recv_timeout(Duration::from_secs(5)) {
        Ok(Some(body)) => {
            stats.snapshots.fetch_add(1, Ordering::Relaxed);
            let body = String::from_utf8(body).unwrap_or_default();
            respond(&mut stream, 200, &body, &[])
        }
        Ok(None) => respond(
            &mut stream,
            400,
            "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}",
            &[],
        ),
        Err(_) => respond(
            &mut stream,
            504,
            "{\"code\":-1007,\"msg\":\"Timeout waiting for response from backend server.\"}",
            &[],
        ),
    }
}

fn take_one(counter: &AtomicU64) -> bool {
    counter
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
}

fn respond(
    stream: &mut SimStream,
    status: u16,
    body: &str,
    headers: &[(&str, &str)],
) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()?;
    if let SimStream::Tls(t) = stream {
        t.send_close_notify();
    }
    let _ = stream.flush();
    let _ = stream.tcp().shutdown(Shutdown::Write);
    Ok(())
}

/// `/stream?streams=a/b/c` (combined) or `/ws/<stream>` (raw).
fn parse_stream_path(path: &str) -> Option<(HashSet<String>, bool)> {
    if let Some(rest) = path.strip_prefix("/stream") {
        let query = rest.strip_prefix('?').unwrap_or("");
        let streams = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "streams")
            .map(|(_, v)| {
                v.split('/')
                    .filter(|s| !s.is_empty())
                    .map(str::to_ascii_lowercase)
                    .collect()
            })
            .unwrap_or_default();
        return Some((streams, false));
    }
    if let Some(stream) = path.strip_prefix("/ws/") {
        let mut set = HashSet::new();
        set.insert(stream.to_ascii_lowercase());
        return Some((set, true));
    }
    if path == "/ws" {
        return Some((HashSet::new(), true));
    }
    None
}

/// Message kinds the market generates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Depth,
    BookTicker,
    Trade,
}

struct Market {
    cfg: SimConfig,
    rx: Receiver<CommandBox>,
    stop: Arc<AtomicBool>,
    stats: Arc<SimStats>,
    books: Vec<MarketSim>,
    /// Lower-case symbols, for stream names.
    lower: Vec<String>,
    clients: Vec<Client>,
    rng: Rng,
    rate: u32,
    stall_until: Option<Instant>,
    /// Per symbol: send nothing until then.
    quiet_until: Vec<Option<Instant>>,
    slow: Option<(u32, Instant)>,
    gap_pending: Vec<bool>,
    frame: Vec<u8>,
    next_symbol: usize,
}

impl Market {
    fn new(
        cfg: SimConfig,
        rx: Receiver<CommandBox>,
        stop: Arc<AtomicBool>,
        stats: Arc<SimStats>,
    ) -> Market {
        let books = cfg
            .symbols
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut m =
                    MarketConfig::btcusdt(cfg.venue, cfg.seed.wrapping_add(i as u64 * 7919));
                m.symbol.clone_from(s);
                // Spread the instruments over different price levels.
                m.mid = 4_300_000 / (i as i64 + 1);
                m.changes_per_diff = cfg.changes_per_diff;
                MarketSim::new(m)
            })
            .collect();
        let n = cfg.symbols.len();
        Market {
            quiet_until: vec![None; n],
            lower: cfg.symbols.iter().map(|s| s.to_ascii_lowercase()).collect(),
            gap_pending: vec![false; cfg.symbols.len()],
            rng: Rng::new(cfg.seed ^ 0xA5A5),
            rate: cfg.rate,
            cfg,
            rx,
            stop,
            stats,
            books,
            clients: Vec::new(),
            stall_until: None,
            slow: None,
            frame: Vec::with_capacity(1 << 16),
            next_symbol: 0,
        }
    }

    fn run(mut self) {
        let mut origin = Instant::now();
        let mut sent: u64 = 0;
        let mut last_ping = Instant::now();
        while !self.stop.load(Ordering::Relaxed) {
            while let Ok(CommandBox(cmd)) = self.rx.try_recv() {
                if let Command::Rate(r) = cmd {
                    // Restart pacing from now at the new rate.
                    self.rate = r;
                    origin = Instant::now();
                    sent = 0;
                } else {
                    self.command(cmd);
                }
            }
            let now = Instant::now();
            let stalled = self.stall_until.is_some_and(|t| now < t);
            if !stalled {
                self.stall_until = None;
                let rate = match self.slow {
                    Some((factor, until)) if now < until => self.rate / factor.max(1),
                    Some(_) => {
                        self.slow = None;
                        origin = now;
                        sent = 0;
                        self.rate
                    }
                    None => self.rate,
                };
                let elapsed = now.duration_since(origin).as_nanos() as u64;
                let target = elapsed.saturating_mul(u64::from(rate)) / 1_000_000_000;
                // Never burst more than 10 ms worth after a pause.
                let cap = u64::from(rate / 100).max(1);
                if target.saturating_sub(sent) > cap {
                    sent = target - cap;
                }
                let due = target.saturating_sub(sent);
                for _ in 0..due {
                    self.emit_one();
                }
                sent += due;
                if now.duration_since(last_ping) >= self.cfg.ping_interval {
                    last_ping = now;
                    self.ping_clients(now);
                }
                self.flush_clients();
            }
            self.read_clients(now);
            std::thread::sleep(Duration::from_micros(100));
        }
        for c in &mut self.clients {
            let _ = c.ws.close(None);
            let _ = c.ws.flush();
        }
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Client(c) => {
                self.clients.push(*c);
                self.stats
                    .clients
                    .store(self.clients.len() as u64, Ordering::Relaxed);
            }
            Command::Snapshot {
                symbol,
                limit,
                reply,
            } => {
                let body = self.symbol_index(&symbol).map(|i| {
                    let mut out = Vec::new();
                    self.books[i].snapshot(limit, &mut out);
                    out
                });
                let _ = reply.send(body);
            }
            Command::Truth { symbol, reply } => {
                let truth = self.symbol_index(&symbol).map(|i| {
                    let b = &self.books[i];
                    TrueBook {
                        bids: b.levels(Side::Bid),
                        asks: b.levels(Side::Ask),
                        last_update_id: b.last_update_id(),
                    }
                });
                let _ = reply.send(truth);
            }
            Command::Rate(_) => {}
            Command::Fault(f) => self.fault(f),
        }
    }

    fn symbol_index(&self, symbol: &str) -> Option<usize> {
        self.cfg.symbols.iter().position(|s| s == symbol)
    }

    fn fault(&mut self, fault: Fault) {
        tracing::info!(?fault, "sim: injecting fault");
        match fault {
            Fault::Disconnect => {
                for c in self.clients.drain(..) {
                    let _ = c.ws.get_ref().tcp().shutdown(Shutdown::Both);
                }
                self.stats.clients.store(0, Ordering::Relaxed);
            }
            Fault::Gap(symbol) => {
                for (i, s) in self.cfg.symbols.iter().enumerate() {
                    if symbol
                        .as_deref()
                        .is_none_or(|want| want.eq_ignore_ascii_case(s))
                    {
                        self.gap_pending[i] = true;
                    }
                }
            }
            Fault::Malformed => {
                for i in 0..self.books.len() {
                    let text = format!(
                        "{{\"stream\":\"{}@depth@100ms\",\"data\":{{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"{}\",\"U\":",
                        self.lower[i], self.cfg.symbols[i]
                    );
                    let name = format!("{}@depth@100ms", self.lower[i]);
                    self.broadcast(&name, text.as_bytes());
                }
            }
            Fault::Stall(d) => self.stall_until = Some(Instant::now() + d),
            Fault::Quiet(symbol, d) => {
                if let Some(i) = self.symbol_index(&symbol.to_ascii_uppercase()) {
                    self.quiet_until[i] = Some(Instant::now() + d);
                }
            }
            Fault::Crossed(symbol) => {
                if let Some(i) = self.symbol_index(&symbol.to_ascii_uppercase()) {
                    let mut frame = Vec::new();
                    self.books[i].crossed_diff(&mut frame);
                    let name = format!("{}@depth", self.lower[i]);
                    self.broadcast(&name, &frame);
                }
            }
            Fault::SlowDown { factor, duration } => {
                self.slow = Some((factor, Instant::now() + duration))
            }
            Fault::RefuseSnapshots(_) | Fault::RateLimit(_) => {}
        }
    }

    fn pick_kind(&mut self) -> Kind {
        let m = self.cfg.mix;
        let total = u64::from(m.depth + m.book_ticker + m.trade).max(1);
        let r = self.rng.below(total) as u32;
        if r < m.depth {
            Kind::Depth
        } else if r < m.depth + m.book_ticker {
            Kind::BookTicker
        } else {
            Kind::Trade
        }
    }

    fn emit_one(&mut self) {
        if self.books.is_empty() {
            return;
        }
        let i = self.next_symbol;
        self.next_symbol = (self.next_symbol + 1) % self.books.len();
        let kind = self.pick_kind();
        let quiet = match self.quiet_until[i] {
            Some(t) if Instant::now() < t => true,
            Some(_) => {
                self.quiet_until[i] = None;
                false
            }
            None => false,
        };
        let mut frame = std::mem::take(&mut self.frame);
        let usdm = self.cfg.venue == Venue::BinanceUsdm;
        let stream = match kind {
            Kind::Depth => {
                self.books[i].depth_update(&mut frame);
                if quiet || std::mem::take(&mut self.gap_pending[i]) {
                    // Generated and applied to the true book, never sent.
                    self.frame = frame;
                    return;
                }
                format!("{}@depth", self.lower[i])
            }
            _ if quiet => {
                self.frame = frame;
                return;
            }
            Kind::BookTicker => {
                self.books[i].book_ticker(&mut frame);
                format!("{}@bookticker", self.lower[i])
            }
            Kind::Trade => {
                self.books[i].trade(&mut frame);
                format!(
                    "{}@{}",
                    self.lower[i],
                    if usdm { "aggtrade" } else { "trade" }
                )
            }
        };
        self.stats.messages.fetch_add(1, Ordering::Relaxed);
        self.broadcast(&stream, &frame);
        self.frame = frame;
    }

    /// Sends `frame` (combined-stream wrapped) to every client subscribed to a
    /// stream starting with `stream` (so `btcusdt@depth` matches
    /// `btcusdt@depth@100ms`). Comparisons are case-insensitive.
    fn broadcast(&mut self, stream: &str, frame: &[u8]) {
        let mut dead = Vec::new();
        for (idx, c) in self.clients.iter_mut().enumerate() {
            let wanted = c
                .streams
                .iter()
                .any(|s| s.len() >= stream.len() && s[..stream.len()].eq_ignore_ascii_case(stream));
            if !wanted {
                continue;
            }
            let payload = if c.raw { unwrap_envelope(frame) } else { frame };
            let text = String::from_utf8_lossy(payload).into_owned();
            match c.ws.write(Message::text(text)) {
                Ok(()) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => dead.push(idx),
            }
        }
        self.remove_clients(dead);
    }

    fn flush_clients(&mut self) {
        let mut dead = Vec::new();
        for (idx, c) in self.clients.iter_mut().enumerate() {
            match c.ws.flush() {
                Ok(()) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => dead.push(idx),
            }
        }
        self.remove_clients(dead);
    }

    fn ping_clients(&mut self, now: Instant) {
        let mut dead = Vec::new();
        for (idx, c) in self.clients.iter_mut().enumerate() {
            if c.ping_outstanding && now.duration_since(c.last_pong) > self.cfg.pong_timeout {
                self.stats.kicked.fetch_add(1, Ordering::Relaxed);
                dead.push(idx);
                continue;
            }
            if !c.ping_outstanding {
                c.ping_outstanding = true;
                c.last_pong = now;
            }
            let _ = c.ws.write(Message::Ping(b"tickwire-sim".to_vec().into()));
        }
        self.remove_clients(dead);
    }

    fn read_clients(&mut self, now: Instant) {
        let mut dead = Vec::new();
        let limit = self.cfg.max_client_messages_per_sec;
        for (idx, c) in self.clients.iter_mut().enumerate() {
            loop {
                match c.ws.read() {
                    Ok(msg) => {
                        if now.duration_since(c.window_start) >= Duration::from_secs(1) {
                            c.window_start = now;
                            c.window_count = 0;
                        }
                        if matches!(msg, Message::Text(_) | Message::Ping(_) | Message::Pong(_)) {
                            c.window_count += 1;
                        }
                        if limit > 0 && c.window_count > limit {
                            // Binance closes connections that send too much.
                            self.stats.kicked.fetch_add(1, Ordering::Relaxed);
                            dead.push(idx);
                            break;
                        }
                        match msg {
                            Message::Pong(_) => {
                                c.ping_outstanding = false;
                                c.last_pong = now;
                            }
                            Message::Text(t) => {
                                if let Some(reply) = control_reply(t.as_str(), &mut c.streams) {
                                    let _ = c.ws.write(Message::text(reply));
                                }
                            }
                            Message::Close(_) => {
                                dead.push(idx);
                                break;
                            }
                            _ => {}
                        }
                    }
                    Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                        break;
                    }
                    Err(_) => {
                        dead.push(idx);
                        break;
                    }
                }
            }
        }
        self.remove_clients(dead);
    }

    fn remove_clients(&mut self, mut dead: Vec<usize>) {
        if dead.is_empty() {
            return;
        }
        dead.sort_unstable();
        dead.dedup();
        for idx in dead.into_iter().rev() {
            let c = self.clients.swap_remove(idx);
            let _ = c.ws.get_ref().tcp().shutdown(Shutdown::Both);
        }
        self.stats
            .clients
            .store(self.clients.len() as u64, Ordering::Relaxed);
    }
}

/// The `data` object of a combined-stream frame.
fn unwrap_envelope(frame: &[u8]) -> &[u8] {
    const KEY: &[u8] = b"\"data\":";
    match frame.windows(KEY.len()).position(|w| w == KEY) {
        Some(at) if frame.ends_with(b"}") => &frame[at + KEY.len()..frame.len() - 1],
        _ => frame,
    }
}

/// Answers `SUBSCRIBE` / `UNSUBSCRIBE` / `LIST_SUBSCRIPTIONS` like Binance.
fn control_reply(text: &str, streams: &mut HashSet<String>) -> Option<String> {
    let v: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => return Some("{\"code\":3,\"msg\":\"Invalid JSON\",\"id\":null}".to_owned()),
    };
    let id = v.get("id").cloned().unwrap_or(serde_json::Value::Null);
    let params: Vec<String> = v
        .get("params")
        .and_then(|p| p.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_ascii_lowercase))
                .collect()
        })
        .unwrap_or_default();
    match v.get("method").and_then(|m| m.as_str()) {
        Some("SUBSCRIBE") => {
            streams.extend(params);
            Some(format!("{{\"result\":null,\"id\":{id}}}"))
        }
        Some("UNSUBSCRIBE") => {
            for p in &params {
                streams.remove(p);
            }
            Some(format!("{{\"result\":null,\"id\":{id}}}"))
        }
        Some("LIST_SUBSCRIPTIONS") => {
            let list: Vec<String> = streams.iter().map(|s| format!("\"{s}\"")).collect();
            Some(format!("{{\"result\":[{}],\"id\":{id}}}", list.join(",")))
        }
        _ => Some(format!(
            "{{\"code\":2,\"msg\":\"Invalid request: unknown method\",\"id\":{id}}}"
        )),
    }
}
