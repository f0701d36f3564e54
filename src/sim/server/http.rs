//! HTTP on the loopback venue: the acceptor, and the per-connection
//! handshake thread that reads one request head (httparse), then either
//! upgrades it to a WebSocket (tungstenite) and hands the client to the market
//! thread, or answers it as a REST request and closes.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::time::{Duration, Instant};

use tungstenite::WebSocket;
use tungstenite::protocol::{Role, WebSocketConfig};

use super::dialect::{Dialect, Refusal, RestRequest};
use super::market_thread::Client;
use super::tls::SimStream;
use super::{Command, CommandBox, RestFaults, SimStats};
use crate::sim::Product;
use crate::sim::orders::{Conn, ConnKind, RestCall, Stream};
use crate::socket::TlsStream;

impl Stream for SimStream {
    fn shutdown(&self) {
        let _ = self.tcp().shutdown(Shutdown::Both);
    }
}

/// The order desk's WebSocket paths: spot and USD-M APIs, and USD-M
/// user-data streams (`/ws/<listenKey>`; market streams always hold `@`).
fn order_conn_kind(route: &str) -> Option<ConnKind> {
    match route {
        "/ws-api/v3" => Some(ConnKind::Api(Product::Spot)),
        "/ws-fapi/v1" => Some(ConnKind::Api(Product::Usdm)),
        _ => route
            .strip_prefix("/ws/")
            .filter(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric()))
            .map(|k| ConnKind::UserStream(k.to_owned())),
    }
}

/// Accepts connections until `stop`, one handshake thread each.
pub(super) fn accept_loop(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    dialect: Dialect,
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
                            handle_connection(sock, tls, dialect, &tx, &stats, &rest_faults)
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

/// The body of a 404: the same on every venue, since no venue is asked.
pub(super) const NOT_FOUND: &str = "{\"msg\":\"not found\"}";

/// One connection's handshake: TLS (if on), one request head, then a
/// WebSocket upgrade handed to the market thread, or one REST answer.
fn handle_connection(
    sock: TcpStream,
    tls: Option<Arc<rustls::ServerConfig>>,
    dialect: Dialect,
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
        return refuse(&mut stream, dialect, Refusal::Malformed);
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
    let (route, query) = path.split_once('?').unwrap_or((path.as_str(), ""));
    // Binance's order endpoints are served next to its market data.
    let orders = matches!(dialect, Dialect::Binance(_));
    let order_kind = if orders && upgrade {
        order_conn_kind(route)
    } else {
        None
    };
    if let Some(kind) = order_kind {
        let key = header("sec-websocket-key").unwrap_or_default();
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        write!(
            stream,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        )?;
        stream.flush()?;
        stream.tcp().set_nonblocking(true)?;
        let leftover = buf[head_len..].to_vec();
        let boxed: Box<dyn Stream> = Box::new(stream);
        let ws = WebSocket::from_partially_read(boxed, leftover, Role::Server, None);
        stats.connections.fetch_add(1, Ordering::Relaxed);
        let conn = Conn::new(ws, kind, query);
        let _ = tx.send(CommandBox(Command::OrderClient(Box::new(conn))));
        return Ok(());
    }
    if orders && crate::sim::orders::is_order_path(route) {
        let (reply, rx) = mpsc::channel();
        let call = RestCall {
            method: req.method.unwrap_or("GET").to_owned(),
            path: route.to_owned(),
            query: query.to_owned(),
            api_key: header("x-mbx-apikey"),
        };
        let _ = tx.send(CommandBox(Command::OrderRest { call, reply }));
        return match rx.recv_timeout(Duration::from_secs(5)) {
            Ok(a) => {
                let retry = a.retry_after_s.map(|s| s.to_string());
                let headers: Vec<(&str, &str)> = retry
                    .as_deref()
                    .map(|r| ("Retry-After", r))
                    .into_iter()
                    .collect();
                respond(&mut stream, a.status, &a.body, &headers)
            }
            Err(_) => refuse(&mut stream, dialect, Refusal::Timeout),
        };
    }
    if upgrade {
        let Some(session) = dialect.accept(&path) else {
            return respond(&mut stream, 404, NOT_FOUND, &[]);
        };
        let key = header("sec-websocket-key").unwrap_or_default();
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
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
            session,
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
    let Some(request) = dialect.rest(route, query) else {
        return respond(&mut stream, 404, NOT_FOUND, &[]);
    };
    if take_one(&rest_faults.rate_limit) {
        stats.refused.fetch_add(1, Ordering::Relaxed);
        return refuse(&mut stream, dialect, Refusal::RateLimited);
    }
    if take_one(&rest_faults.refuse) {
        stats.refused.fetch_add(1, Ordering::Relaxed);
        return refuse(&mut stream, dialect, Refusal::Unavailable);
    }
    match request {
        RestRequest::Snapshot { symbol, limit } => {
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
                Ok(None) => refuse(&mut stream, dialect, Refusal::UnknownSymbol),
                Err(_) => refuse(&mut stream, dialect, Refusal::Timeout),
            }
        }
    }
}

/// Takes one from a fault budget; false when it is spent.
fn take_one(counter: &AtomicU64) -> bool {
    counter
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
}

/// Answers a refused request: the status and headers are HTTP's, the body
/// is the venue's.
fn refuse(stream: &mut SimStream, dialect: Dialect, why: Refusal) -> io::Result<()> {
    let (status, headers): (u16, &[(&str, &str)]) = match why {
        Refusal::Malformed | Refusal::UnknownSymbol => (400, &[]),
        Refusal::RateLimited => (429, &[("Retry-After", "1")]),
        Refusal::Unavailable => (503, &[]),
        Refusal::Timeout => (504, &[]),
    };
    respond(stream, status, dialect.refusal(why), headers)
}

/// Writes one response and closes the connection.
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
