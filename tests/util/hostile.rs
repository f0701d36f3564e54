//! A hostile venue on loopback: a Binance-spot look-alike that a test scripts
//! to lie, stall and disconnect.
//!
//! Two listeners on 127.0.0.1 (port 0): `ws://` for the combined stream and
//! `http://` for the REST depth snapshot. One thread per listener and per
//! accepted connection. Scripts:
//!
//! - REST, per symbol: a queue of [`Rest`] answers, served in order; the last
//!   one is repeated forever. Unscripted symbols get [`good_snapshot`].
//! - WebSocket: frames sent to every new connection carrying a symbol
//!   ([`HostileVenue::on_open`]), frames pushed now ([`HostileVenue::send`]),
//!   closing every open connection at once ([`HostileVenue::blip`]), closing
//!   each connection right after its handshake ([`HostileVenue::close_on_open`]),
//!   going silent ([`HostileVenue::stall`]) and refusing TCP connections
//!   ([`HostileVenue::refuse_connections`]). Otherwise each connection sends
//!   a ping every [`PING_EVERY`], so a quiet market is not a dead socket.
//!
//! Every request and connection is recorded with its time, so tests assert
//! retry rates. Everything is bounded: all threads poll a stop flag at least
//! every [`POLL`] and end by themselves after [`LIFETIME`]; dropping the
//! venue stops and joins them.

use std::collections::{HashMap, VecDeque};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tungstenite::Message;

pub(crate) mod run;

/// How often every server thread looks at its stop flag.
pub(crate) const POLL: Duration = Duration::from_millis(10);
/// Pings on an open connection, unless stalled.
pub(crate) const PING_EVERY: Duration = Duration::from_millis(200);
/// No server thread outlives this, whatever the test does.
pub(crate) const LIFETIME: Duration = Duration::from_secs(60);
/// Largest HTTP request head read.
const MAX_HEAD: usize = 16 * 1024;

/// What the REST endpoint answers for a symbol.
#[derive(Clone, Debug)]
pub(crate) enum Rest {
    /// `200 OK` with this body.
    Body(String),
    /// This status with this body.
    Status(u16, String),
    /// `200 OK` with a body that is not JSON.
    InvalidJson,
    /// `200 OK` with an empty body.
    Empty,
    /// `302 Found` pointing at the same URL (a redirect loop).
    Redirect,
    /// `200 OK` with this body, one byte every `every`.
    Dribble {
        /// The body.
        body: String,
        /// Delay between bytes.
        every: Duration,
    },
}

/// A spot depth snapshot at tick 0.01 with one level per side.
pub(crate) fn good_snapshot(last_update_id: u64) -> String {
    format!(
        "{{\"lastUpdateId\":{last_update_id},\"bids\":[[\"100.00\",\"1.000\"]],\"asks\":[[\"100.10\",\"2.000\"]]}}"
    )
}

/// A WebSocket frame to send.
#[derive(Clone, Debug)]
pub(crate) enum Frame {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
}

/// One REST request as the server saw it.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    /// Path and query.
    pub(crate) target: String,
    /// The `symbol=` of the query (empty when absent).
    pub(crate) symbol: String,
    /// When its head was complete.
    pub(crate) at: Instant,
}

/// One open WebSocket connection.
#[derive(Debug)]
struct Conn {
    /// The request target (`/stream?streams=...`).
    target: String,
    outbox: Mutex<VecDeque<Frame>>,
    open: AtomicBool,
}

impl Conn {
    /// True when the connection's URL names a stream of `symbol`.
    fn carries(&self, symbol: &str) -> bool {
        let needle = format!("{}@", symbol.to_ascii_lowercase());
        self.target.contains(&needle)
    }
}

#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    rest: Mutex<HashMap<String, VecDeque<Rest>>>,
    requests: Mutex<Vec<Request>>,
    on_open: Mutex<Vec<(String, Frame)>>,
    conns: Mutex<Vec<Arc<Conn>>>,
    opens: Mutex<Vec<(String, Instant)>>,
    received: Mutex<Vec<String>>,
    close_on_open: AtomicBool,
    stalled: AtomicBool,
    refuse: AtomicBool,
    /// Bumped by [`HostileVenue::blip`]; connections opened before close.
    generation: AtomicU64,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// Locks, ignoring poisoning (a panicking test thread must not hide the first error).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    fn stopping(&self, born: Instant) -> bool {
        self.stop.load(Ordering::Relaxed) || born.elapsed() > LIFETIME
    }

    fn spawn(self: &Arc<Self>, name: &str, f: impl FnOnce(Arc<Shared>) + Send + 'static) {
        let me = self.clone();
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || f(me))
            .expect("hostile venue thread");
        lock(&self.threads).push(handle);
    }

    /// The next REST answer for `symbol`.
    fn next_rest(&self, symbol: &str) -> Rest {
        let mut scripts = lock(&self.rest);
        match scripts.get_mut(symbol) {
            Some(q) if q.len() > 1 => q.pop_front().unwrap_or(Rest::Empty),
            Some(q) => q.front().cloned().unwrap_or(Rest::Empty),
            None => Rest::Body(good_snapshot(100)),
        }
    }
}

/// The venue. Dropping it stops every thread.
#[derive(Debug)]
pub(crate) struct HostileVenue {
    ws_addr: SocketAddr,
    rest_addr: SocketAddr,
    shared: Arc<Shared>,
}

impl HostileVenue {
    /// Starts both listeners.
    pub(crate) fn start() -> HostileVenue {
        let ws = TcpListener::bind("127.0.0.1:0").expect("bind ws");
        let rest = TcpListener::bind("127.0.0.1:0").expect("bind rest");
        let ws_addr = ws.local_addr().expect("ws addr");
        let rest_addr = rest.local_addr().expect("rest addr");
        let shared = Arc::new(Shared::default());
        shared.spawn("hostile-ws-accept", move |s| {
            accept_loop(&s, ws, true, rest_addr)
        });
        shared.spawn("hostile-rest-accept", move |s| {
            accept_loop(&s, rest, false, rest_addr)
        });
        HostileVenue {
            ws_addr,
            rest_addr,
            shared,
        }
    }

    /// `ws://127.0.0.1:port`.
    pub(crate) fn ws_url(&self) -> String {
        format!("ws://{}", self.ws_addr)
    }

    /// `http://127.0.0.1:port`.
    pub(crate) fn rest_url(&self) -> String {
        format!("http://{}", self.rest_addr)
    }

    /// Scripts the REST answers for `symbol` (the last one repeats).
    pub(crate) fn set_rest(&self, symbol: &str, answers: Vec<Rest>) {
        lock(&self.shared.rest).insert(symbol.to_owned(), answers.into());
    }

    /// Sends `frame` on every new connection that carries `symbol`, right
    /// after the handshake.
    pub(crate) fn on_open(&self, symbol: &str, frame: Frame) {
        lock(&self.shared.on_open).push((symbol.to_owned(), frame));
    }

    /// Sends `frame` now on every open connection carrying `symbol`;
    /// returns on how many.
    pub(crate) fn send(&self, symbol: &str, frame: Frame) -> usize {
        let conns = lock(&self.shared.conns);
        let mut n = 0;
        for c in conns
            .iter()
            .filter(|c| c.open.load(Ordering::Relaxed) && c.carries(symbol))
        {
            lock(&c.outbox).push_back(frame.clone());
            n += 1;
        }
        n
    }

    /// Closes every open WebSocket connection at once (a network blip).
    pub(crate) fn blip(&self) {
        self.shared.generation.fetch_add(1, Ordering::Relaxed);
    }

    /// Closes each new connection right after its handshake (a storm).
    pub(crate) fn close_on_open(&self, on: bool) {
        self.shared.close_on_open.store(on, Ordering::Relaxed);
    }

    /// Stops all pings and frames (the connections stay open).
    pub(crate) fn stall(&self, on: bool) {
        self.shared.stalled.store(on, Ordering::Relaxed);
    }

    /// Closes new WebSocket TCP connections as soon as they are accepted.
    pub(crate) fn refuse_connections(&self, on: bool) {
        self.shared.refuse.store(on, Ordering::Relaxed);
    }

    /// Every REST request for `symbol` so far, in order.
    pub(crate) fn requests(&self, symbol: &str) -> Vec<Request> {
        lock(&self.shared.requests)
            .iter()
            .filter(|r| r.symbol == symbol)
            .cloned()
            .collect()
    }

    /// Every REST request so far.
    pub(crate) fn all_requests(&self) -> Vec<Request> {
        lock(&self.shared.requests).clone()
    }

    /// WebSocket handshakes completed so far: (target, when).
    pub(crate) fn opens(&self) -> Vec<(String, Instant)> {
        lock(&self.shared.opens).clone()
    }

    /// WebSocket connections open now.
    pub(crate) fn open_connections(&self) -> usize {
        lock(&self.shared.conns)
            .iter()
            .filter(|c| c.open.load(Ordering::Relaxed))
            .count()
    }

    /// Text frames the client sent (SUBSCRIBE messages and the like).
    pub(crate) fn received(&self) -> Vec<String> {
        lock(&self.shared.received).clone()
    }
}

impl Drop for HostileVenue {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        // Threads spawned while joining are joined too; each ends within POLL
        // (a dribble within one byte's delay, bounded by `POLL` slices).
        for _ in 0..1_000 {
            let Some(t) = lock(&self.shared.threads).pop() else {
                break;
            };
            let _ = t.join();
        }
    }
}

fn accept_loop(shared: &Arc<Shared>, listener: TcpListener, ws: bool, rest_addr: SocketAddr) {
    let born = Instant::now();
    listener
        .set_nonblocking(true)
        .expect("nonblocking listener");
    while !shared.stopping(born) {
        match listener.accept() {
            Ok((sock, _)) => {
                if ws && shared.refuse.load(Ordering::Relaxed) {
                    let _ = sock.shutdown(Shutdown::Both);
                    continue;
                }
                let _ = sock.set_nonblocking(false);
                let _ = sock.set_nodelay(true);
                if ws {
                    shared.spawn("hostile-ws", move |s| serve_ws(&s, sock));
                } else {
                    shared.spawn("hostile-rest", move |s| serve_rest(&s, sock, rest_addr));
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(POLL / 2),
            Err(_) => std::thread::sleep(POLL / 2),
        }
    }
}

/// Remembers the request target of a WebSocket handshake.
struct Target(Arc<Mutex<String>>);

impl tungstenite::handshake::server::Callback for Target {
    fn on_request(
        self,
        request: &tungstenite::handshake::server::Request,
        response: tungstenite::handshake::server::Response,
    ) -> Result<
        tungstenite::handshake::server::Response,
        tungstenite::handshake::server::ErrorResponse,
    > {
        *lock(&self.0) = request.uri().to_string();
        Ok(response)
    }
}

fn serve_ws(shared: &Arc<Shared>, sock: TcpStream) {
    let born = Instant::now();
    let _ = sock.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = sock.set_write_timeout(Some(Duration::from_secs(2)));
    let target = Arc::new(Mutex::new(String::new()));
    let Ok(mut ws) = tungstenite::accept_hdr(sock, Target(target.clone())) else {
        return;
    };
    let target = lock(&target).clone();
    lock(&shared.opens).push((target.clone(), Instant::now()));
    if shared.close_on_open.load(Ordering::Relaxed) {
        let _ = ws.get_ref().shutdown(Shutdown::Both);
        return;
    }
    let generation = shared.generation.load(Ordering::Relaxed);
    let conn = Arc::new(Conn {
        target,
        outbox: Mutex::new(VecDeque::new()),
        open: AtomicBool::new(true),
    });
    {
        let mut outbox = lock(&conn.outbox);
        for (symbol, frame) in lock(&shared.on_open).iter() {
            if conn.carries(symbol) {
                outbox.push_back(frame.clone());
            }
        }
    }
    lock(&shared.conns).push(conn.clone());
    let _ = ws.get_ref().set_read_timeout(Some(POLL));
    let mut next_ping = Instant::now() + PING_EVERY;
    while !shared.stopping(born) && shared.generation.load(Ordering::Relaxed) == generation {
        let stalled = shared.stalled.load(Ordering::Relaxed);
        if !stalled {
            let frames: Vec<Frame> = lock(&conn.outbox).drain(..).collect();
            for f in frames {
                let msg = match f {
                    Frame::Text(t) => Message::text(t),
                    Frame::Binary(b) => Message::binary(b),
                };
                if ws.send(msg).is_err() {
                    conn.open.store(false, Ordering::Relaxed);
                    return;
                }
            }
            if Instant::now() >= next_ping {
                next_ping = Instant::now() + PING_EVERY;
                if ws.send(Message::Ping(b"hostile".to_vec().into())).is_err() {
                    break;
                }
            }
        }
        match ws.read() {
            Ok(Message::Text(t)) => lock(&shared.received).push(t.to_string()),
            Ok(Message::Close(_)) => break,
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    conn.open.store(false, Ordering::Relaxed);
    let _ = ws.get_ref().shutdown(Shutdown::Both);
}

/// Reads one request head; `None` when the client went away or it is too big.
fn read_head(shared: &Shared, sock: &mut TcpStream, born: Instant) -> Option<String> {
    let _ = sock.set_read_timeout(Some(POLL));
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !shared.stopping(born) && buf.len() < MAX_HEAD {
        match sock.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(_) => return None,
        }
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(_)) => return req.path.map(str::to_owned),
            Ok(httparse::Status::Partial) => {}
            Err(_) => return None,
        }
    }
    None
}

/// The value of `key=` in the query of `target`.
fn query_value(target: &str, key: &str) -> String {
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default()
}

fn serve_rest(shared: &Arc<Shared>, mut sock: TcpStream, own: SocketAddr) {
    let born = Instant::now();
    let _ = sock.set_write_timeout(Some(Duration::from_secs(2)));
    let Some(target) = read_head(shared, &mut sock, born) else {
        return;
    };
    let symbol = query_value(&target, "symbol");
    lock(&shared.requests).push(Request {
        target: target.clone(),
        symbol: symbol.clone(),
        at: Instant::now(),
    });
    let head = |status: &str, len: usize, extra: &str| {
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len}\r\nConnection: close\r\n{extra}\r\n"
        )
    };
    let reply = match shared.next_rest(&symbol) {
        Rest::Body(b) => format!("{}{b}", head("200 OK", b.len(), "")),
        Rest::Status(code, b) => format!("{}{b}", head(&format!("{code} Hostile"), b.len(), "")),
        Rest::InvalidJson => {
            let b = "{\"lastUpdateId\":12,\"bids\":[[";
            format!("{}{b}", head("200 OK", b.len(), ""))
        }
        Rest::Empty => head("200 OK", 0, ""),
        Rest::Redirect => head(
            "302 Found",
            0,
            &format!("Location: http://{own}{target}\r\n"),
        ),
        Rest::Dribble { body, every } => {
            let h = head("200 OK", body.len(), "");
            if sock.write_all(h.as_bytes()).is_err() {
                return;
            }
            for byte in body.bytes() {
                let until = Instant::now() + every;
                while Instant::now() < until {
                    if shared.stopping(born) {
                        return;
                    }
                    // Pacing the dribble, not synchronising with the test.
                    std::thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
                }
                if sock.write_all(&[byte]).and_then(|()| sock.flush()).is_err() {
                    return;
                }
            }
            return;
        }
    };
    let _ = sock.write_all(reply.as_bytes());
    let _ = sock.flush();
    let _ = sock.shutdown(Shutdown::Write);
}
