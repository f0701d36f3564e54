//! One WebSocket link's lifecycle, the I/O half of a connection: where it
//! goes (host, port, optional TLS), connecting TCP + TLS + the WebSocket
//! upgrade on a mio registry, and closing. Nothing here knows a venue or a
//! policy: the feed thread pairs a `Link` with a venue session and a
//! [`Supervisor`](super::supervisor::Supervisor); the order-entry thread can
//! pair one with an order session the same way.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use mio::{Interest, Registry, Token};

use crate::config::Endpoint;
use crate::frame::WsClient;
use crate::socket::Transport;

/// Where a link goes and, while it is up, its WebSocket.
pub(crate) struct Link {
    host: String,
    /// The host when it is an IP literal (no DNS needed).
    ip: Option<IpAddr>,
    port: u16,
    tls: Option<Arc<rustls::ClientConfig>>,
    max_message_bytes: usize,
    /// The socket, from the first connect attempt until closed.
    pub(crate) ws: Option<WsClient>,
    /// A DNS lookup for it is out.
    pub(crate) resolving: bool,
}

impl Link {
    /// A link to `endpoint`, TLS with `tls` when the endpoint says so.
    pub(crate) fn new(
        endpoint: &Endpoint,
        tls: Option<Arc<rustls::ClientConfig>>,
        max_message_bytes: usize,
    ) -> Link {
        Link {
            host: endpoint.host.clone(),
            ip: endpoint.host.parse().ok(),
            port: endpoint.port,
            tls,
            max_message_bytes,
            ws: None,
            resolving: false,
        }
    }

    /// Host and port (for DNS).
    pub(crate) fn host_port(&self) -> (String, u16) {
        (self.host.clone(), self.port)
    }

    /// The address to connect to, when no lookup is needed.
    pub(crate) fn address(&self) -> Option<SocketAddr> {
        self.ip.map(|ip| SocketAddr::new(ip, self.port))
    }

    /// The WebSocket upgrade completed and the link carries frames.
    pub(crate) fn is_open(&self) -> bool {
        self.ws.as_ref().is_some_and(WsClient::is_open)
    }

    /// Starts TCP (+ TLS) to `addr` and the WebSocket upgrade to `url`,
    /// registered with `registry` under `token`. The handshake goes on as
    /// the socket becomes ready (`WsClient::drive_handshake`).
    pub(crate) fn connect(
        &mut self,
        addr: SocketAddr,
        url: &str,
        registry: &Registry,
        token: Token,
    ) -> Result<(), String> {
        self.resolving = false;
        let tls = self.tls.clone().map(|c| (c, self.host.as_str()));
        let transport = Transport::connect(addr, tls).map_err(|e| e.to_string())?;
        let mut ws = WsClient::new(url, transport, self.max_message_bytes);
        if let Some(t) = ws.transport_mut() {
            registry
                .register(t.tcp_mut(), token, Interest::READABLE | Interest::WRITABLE)
                .map_err(|e| format!("register: {e}"))?;
        }
        self.ws = Some(ws);
        Ok(())
    }

    /// Closes the socket (if any) and forgets a pending lookup.
    pub(crate) fn close(&mut self, registry: &Registry) {
        if let Some(mut ws) = self.ws.take() {
            ws.shutdown(registry);
        }
        self.resolving = false;
    }
}
