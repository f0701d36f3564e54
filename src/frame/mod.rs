//! WebSocket framing over a [`Transport`], with tungstenite doing the
//! handshake and the framing, driven by readiness.
//!
//! The client moves through TCP connect → (TLS +) HTTP upgrade → open. Every
//! step returns on `WouldBlock` and resumes on the next readiness event.
//! Pings are answered by tungstenite (the pong is queued and goes out with
//! the next flush); a close frame is answered and reported as closed.
//!
//! Text frames reach the caller as `&[u8]` borrowed from tungstenite's read
//! buffer: the bytes are copied once, from the socket (or from rustls'
//! plaintext) into that buffer, and decoded in place from there.
//!
//! Outgoing text goes through one reused buffer ([`OutBuf`]): the caller's
//! bytes are copied into it, split off and handed to tungstenite as a shared
//! `Bytes` payload; tungstenite copies the frame into its write buffer and
//! drops the payload, which makes the split-off part unique again, so the
//! next message reclaims the same allocation. After the first message no
//! send allocates (`send_reuses_one_buffer` below checks the address).

use std::io;

use bytes::BytesMut;
use tungstenite::handshake::client::ClientHandshake;
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, Utf8Bytes, WebSocket};

use crate::socket::Transport;

/// Read buffer size. tungstenite zero-fills the free part of its buffer (up
/// to this much) on every socket read, so it is kept modest.
const READ_BUFFER: usize = 16 << 10;

/// Initial size of the reused outgoing-message buffer (a signed order
/// request is well under 1 KiB; larger messages grow it once).
const OUT_BUFFER: usize = 4 << 10;

/// Where a connection is.
#[derive(Debug)]
enum State {
    /// The TCP connect is in progress.
    Connecting(Transport),
    /// TLS and the HTTP upgrade are in progress.
    Handshaking(MidHandshake<ClientHandshake<Transport>>),
    /// Frames flow.
    Open(WebSocket<Transport>),
    /// Closed or failed; only the socket's deregistration is left.
    Closed,
}

/// One WebSocket client connection.
#[derive(Debug)]
pub struct WsClient {
    url: String,
    max_message: usize,
    state: State,
    /// Reused for every outgoing text message.
    out: OutBuf,
}

/// The reused outgoing-message buffer. Invariant: between sends it holds no
/// bytes; the last payload split off it is either already dropped by
/// tungstenite (then `reserve` reclaims the allocation) or still queued
/// (then `reserve` allocates a fresh one, never touching the queued bytes).
#[derive(Debug)]
struct OutBuf(BytesMut);

impl OutBuf {
    fn new() -> OutBuf {
        OutBuf(BytesMut::with_capacity(OUT_BUFFER))
    }

    /// `text` as a tungstenite payload backed by this buffer; `None` when it
    /// is not UTF-8.
    fn payload(&mut self, text: &[u8]) -> Option<Utf8Bytes> {
        self.0.reserve(text.len());
        self.0.extend_from_slice(text);
        Utf8Bytes::try_from(self.0.split().freeze()).ok()
    }
}

/// What a read pass saw besides text frames.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadPass {
    /// Text frames handed to the callback.
    pub texts: u32,
    /// Binary frames, dropped unread (no venue of ours sends them); the
    /// engine counts them and reports the first per connection.
    pub binaries: u32,
    /// Pings answered.
    pub pings: u32,
    /// Pongs received.
    pub pongs: u32,
}

/// Why a connection ended.
#[derive(Debug, thiserror::Error)]
pub enum WsError {
    /// The TCP connect failed.
    #[error("connect: {0}")]
    Connect(io::Error),
    /// The HTTP upgrade (or TLS underneath it) failed.
    #[error("handshake: {0}")]
    Handshake(tungstenite::Error),
    /// The peer closed the connection (close frame or end of stream).
    #[error("closed by the peer{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Closed {
        /// The close frame's reason, if any.
        reason: Option<String>,
    },
    /// A protocol or I/O error on an open connection.
    #[error("{0}")]
    Io(tungstenite::Error),
    /// A frame larger than the configured maximum.
    #[error("message larger than {0} bytes")]
    TooLarge(usize),
    /// A text message to send was not UTF-8 (nothing was sent).
    #[error("text message is not UTF-8")]
    NotUtf8,
}

fn is_would_block(e: &tungstenite::Error) -> bool {
    matches!(e, tungstenite::Error::Io(io) if io.kind() == io::ErrorKind::WouldBlock)
}

impl WsClient {
    /// A client for `url` over a transport whose TCP connect has started.
    /// `max_message` bounds a single message (frames above it end the connection).
    pub fn new(url: &str, transport: Transport, max_message: usize) -> WsClient {
        WsClient {
            url: url.to_owned(),
            max_message,
            state: State::Connecting(transport),
            out: OutBuf::new(),
        }
    }

    fn config(&self) -> WebSocketConfig {
        let mut c = WebSocketConfig::default();
        c.read_buffer_size = READ_BUFFER;
        c.max_message_size = Some(self.max_message);
        c.max_frame_size = Some(self.max_message);
        c
    }

    /// True once frames flow.
    pub fn is_open(&self) -> bool {
        matches!(self.state, State::Open(_))
    }

    /// The transport, for (re)registering with the poller; `None` once closed.
    pub fn transport_mut(&mut self) -> Option<&mut Transport> {
        match &mut self.state {
            State::Connecting(t) => Some(t),
            State::Handshaking(m) => Some(m.get_mut().get_mut()),
            State::Open(ws) => Some(ws.get_mut()),
            State::Closed => None,
        }
    }

    /// True when bytes are waiting for writable readiness.
    pub fn wants_write(&self) -> bool {
        match &self.state {
            State::Connecting(_) => true,
            State::Handshaking(m) => m.get_ref().get_ref().wants_write(),
            State::Open(ws) => ws.get_ref().wants_write(),
            State::Closed => false,
        }
    }

    /// Advances the connect and handshake; `Ok(true)` once open.
    pub fn drive_handshake(&mut self) -> Result<bool, WsError> {
        loop {
            match std::mem::replace(&mut self.state, State::Closed) {
                State::Connecting(t) => match t.connect_finished() {
                    Ok(true) => {
                        let config = self.config();
                        match tungstenite::client::client_with_config(
                            self.url.as_str(),
                            t,
                            Some(config),
                        ) {
                            Ok((ws, _)) => self.state = State::Open(ws),
                            Err(HandshakeError::Interrupted(mid)) => {
                                self.state = State::Handshaking(mid);
                                return Ok(false);
                            }
                            Err(HandshakeError::Failure(e)) => return Err(WsError::Handshake(e)),
                        }
                    }
                    Ok(false) => {
                        self.state = State::Connecting(t);
                        return Ok(false);
                    }
                    Err(e) => return Err(WsError::Connect(e)),
                },
                State::Handshaking(mid) => match mid.handshake() {
                    Ok((ws, _)) => self.state = State::Open(ws),
                    Err(HandshakeError::Interrupted(mid)) => {
                        self.state = State::Handshaking(mid);
                        return Ok(false);
                    }
                    Err(HandshakeError::Failure(e)) => return Err(WsError::Handshake(e)),
                },
                State::Open(ws) => {
                    self.state = State::Open(ws);
                    return Ok(true);
                }
                State::Closed => return Err(WsError::Closed { reason: None }),
            }
        }
    }

    /// Reads every complete message now available, handing text frames to
    /// `on_text` (and stopping early when it returns `false`). Answers pings.
    #[inline]
    pub fn read_available(
        &mut self,
        mut on_text: impl FnMut(&[u8]) -> bool,
    ) -> Result<ReadPass, WsError> {
        let State::Open(ws) = &mut self.state else {
            return Ok(ReadPass::default());
        };
        let mut pass = ReadPass::default();
        loop {
            match ws.read() {
                Ok(Message::Text(text)) => {
                    pass.texts += 1;
                    if !on_text(text.as_bytes()) {
                        break;
                    }
                }
                Ok(Message::Binary(_)) => pass.binaries += 1,
                Ok(Message::Ping(_)) => pass.pings += 1,
                Ok(Message::Pong(_)) => pass.pongs += 1,
                Ok(Message::Frame(_)) => {}
                Ok(Message::Close(frame)) => {
                    // tungstenite queued the reply; push it out, then report.
                    let _ = ws.flush();
                    let reason = frame.map(|f| format!("{} {}", u16::from(f.code), f.reason));
                    self.state = State::Closed;
                    return Err(WsError::Closed { reason });
                }
                Err(e) if is_would_block(&e) => break,
                Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                    self.state = State::Closed;
                    return Err(WsError::Closed { reason: None });
                }
                Err(tungstenite::Error::Capacity(_)) => {
                    self.state = State::Closed;
                    return Err(WsError::TooLarge(self.max_message));
                }
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    self.state = State::Closed;
                    return Err(WsError::Closed { reason: None });
                }
                Err(e) => {
                    self.state = State::Closed;
                    return Err(WsError::Io(e));
                }
            }
        }
        // Pongs (and anything else queued) go out now if the socket takes them.
        self.flush()?;
        Ok(pass)
    }

    /// Queues a text message and tries to send it (no allocation after the
    /// first message: the bytes go through one reused buffer).
    pub fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        self.send_utf8(text.as_bytes())
    }

    /// [`send_text`](Self::send_text) for bytes not yet known to be UTF-8
    /// (checked once, here); [`WsError::NotUtf8`] when they are not, and
    /// nothing is sent.
    pub fn send_utf8(&mut self, text: &[u8]) -> Result<(), WsError> {
        if !self.is_open() {
            return Err(WsError::Closed { reason: None });
        }
        match self.out.payload(text) {
            Some(p) => self.send(Message::Text(p)),
            None => Err(WsError::NotUtf8),
        }
    }

    /// Queues a ping.
    pub fn send_ping(&mut self) -> Result<(), WsError> {
        self.send(Message::Ping(Default::default()))
    }

    fn send(&mut self, msg: Message) -> Result<(), WsError> {
        let State::Open(ws) = &mut self.state else {
            return Err(WsError::Closed { reason: None });
        };
        match ws.write(msg) {
            Ok(()) => {}
            Err(e) if is_would_block(&e) => {}
            Err(e) => return Err(WsError::Io(e)),
        }
        self.flush()
    }

    /// Sends queued bytes; `WouldBlock` just leaves them for writable readiness.
    pub fn flush(&mut self) -> Result<(), WsError> {
        let State::Open(ws) = &mut self.state else {
            return Ok(());
        };
        match ws.flush() {
            Ok(()) => Ok(()),
            Err(e) if is_would_block(&e) => Ok(()),
            Err(e) => Err(WsError::Io(e)),
        }
    }

    /// Starts a clean close (best effort) and marks the connection closed.
    pub fn close(&mut self) {
        if let State::Open(ws) = &mut self.state {
            let _ = ws.close(None);
            let _ = ws.flush();
        }
        self.state = State::Closed;
    }

    /// Deregisters the socket (in whatever state) and drops the connection.
    pub fn shutdown(&mut self, registry: &mio::Registry) {
        if let Some(t) = self.transport_mut() {
            let _ = registry.deregister(t.tcp_mut());
        }
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use std::io::{self, Read, Write};

    use tungstenite::protocol::Role;

    use super::*;

    /// A stream that takes every write and has nothing to read.
    struct Sink(Vec<u8>);

    impl Read for Sink {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::ErrorKind::WouldBlock.into())
        }
    }

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn send_reuses_one_buffer() {
        let mut ws = WebSocket::from_raw_socket(Sink(Vec::new()), Role::Client, None);
        let mut out = OutBuf::new();
        let mut first = None;
        for i in 0..200u32 {
            let text = format!("{{\"id\":{i},\"method\":\"order.place\"}}");
            let p = out.payload(text.as_bytes()).expect("utf-8");
            let at = p.as_str().as_ptr() as usize;
            assert_eq!(p.as_str(), text);
            ws.write(Message::Text(p)).unwrap();
            ws.flush().unwrap();
            // Every payload starts inside the one allocation made up front.
            let base = *first.get_or_insert(at);
            assert!(
                at >= base && at < base + OUT_BUFFER,
                "message {i} went to a new buffer"
            );
        }
        // The frames really went out, masked (client role): header + payload.
        assert!(ws.get_ref().0.len() > 200 * 30);
    }

    #[test]
    fn a_payload_still_held_never_gets_overwritten() {
        let mut out = OutBuf::new();
        let held = out.payload(b"first").unwrap();
        let next = out.payload(b"second").unwrap();
        assert_eq!((held.as_str(), next.as_str()), ("first", "second"));
        assert!(out.payload(&[0xff, 0xfe]).is_none());
    }
}
