//! One trading connection: a WebSocket API client (spot or USD-M) or a
//! USD-M user-data stream opened with a listen key, and its outbox (a
//! reply may be held back by the delay fault; events are not).

use std::io::{self, Read, Write};
use std::time::Instant;

use tungstenite::{Message, WebSocket};

use super::Product;

/// The byte stream under a trading connection (plain TCP or TLS); the
/// server implements it for its own stream type.
pub(in crate::sim) trait Stream: Read + Write + Send {
    /// Shuts the TCP connection down both ways.
    fn shutdown(&self);
}

/// A trading client's WebSocket.
pub(in crate::sim) type Ws = WebSocket<Box<dyn Stream>>;

/// What a connection is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(in crate::sim) enum ConnKind {
    /// `/ws-api/v3` (spot) or `/ws-fapi/v1` (USD-M).
    Api(Product),
    /// `/ws/<listenKey>` (USD-M user data).
    UserStream(String),
}

/// A connected trading client.
pub(in crate::sim) struct Conn {
    pub(super) ws: Ws,
    pub(super) kind: ConnKind,
    /// The account of a `session.logon`.
    pub(super) logon: Option<usize>,
    /// The account whose user data this connection receives, and the
    /// subscription id (spot), or the listen key's account (USD-M).
    pub(super) user_data: Option<(u64, usize)>,
    /// `returnRateLimits=false` in the URL.
    pub(super) rate_limits: bool,
    pub(super) connected_ms: u64,
    /// Text frames to write once due, in order.
    outbox: Vec<(Instant, String)>,
    pub(super) dead: bool,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").field("kind", &self.kind).finish()
    }
}

impl Conn {
    /// A connection accepted at `path` (query string included).
    pub(in crate::sim) fn new(ws: Ws, kind: ConnKind, query: &str) -> Conn {
        Conn {
            ws,
            kind,
            logon: None,
            user_data: None,
            rate_limits: !query
                .split('&')
                .any(|kv| kv.eq_ignore_ascii_case("returnRateLimits=false")),
            connected_ms: 0,
            outbox: Vec::new(),
            dead: false,
        }
    }

    /// Queues a text frame, written at `due` or later.
    pub(super) fn send(&mut self, due: Instant, text: String) {
        self.outbox.push((due, text));
    }

    /// Writes every due frame and flushes; marks the connection dead on a
    /// write error.
    pub(super) fn flush(&mut self, now: Instant) {
        if self.dead {
            return;
        }
        let mut i = 0;
        while i < self.outbox.len() {
            if self.outbox[i].0 <= now {
                let (_, text) = self.outbox.remove(i);
                match self.ws.write(Message::text(text)) {
                    Ok(()) => {}
                    Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => {
                        self.dead = true;
                        return;
                    }
                }
            } else {
                i += 1;
            }
        }
        match self.ws.flush() {
            Ok(()) => {}
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => self.dead = true,
        }
    }

    /// Reads one message: `Ok(Some(text))`, `Ok(None)` when nothing is
    /// waiting, `Err` when the connection is gone.
    pub(super) fn read(&mut self) -> Result<Option<String>, ()> {
        loop {
            match self.ws.read() {
                Ok(Message::Text(t)) => return Ok(Some(t.as_str().to_owned())),
                Ok(Message::Close(_)) => return Err(()),
                Ok(_) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Ok(None);
                }
                Err(_) => return Err(()),
            }
        }
    }

    /// Drops the TCP connection without a close frame.
    pub(super) fn kill(&mut self) {
        self.dead = true;
        self.ws.get_ref().shutdown();
    }
}
