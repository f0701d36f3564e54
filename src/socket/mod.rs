//! TCP (mio) and TLS (rustls) glue: a non-blocking byte stream that the
//! WebSocket layer reads and writes.
//!
//! Readiness discipline: every call may return `WouldBlock`; the caller then
//! waits for the next readiness event. Reads flush pending TLS output first
//! (handshake messages, alerts) so the handshake advances from either
//! direction. [`Transport::wants_write`] tells the event loop when to ask for
//! writable readiness.
//!
//! Allocation note: rustls 0.23 copies each received TLS record's plaintext
//! into a fresh buffer (in both its buffered and unbuffered APIs), so a wss://
//! connection costs rustls one allocation per record. Plain ws:// and
//! everything after the socket layer allocate nothing per message.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::ops::DerefMut;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mio::net::TcpStream;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

/// A connected (or connecting) byte stream, plain or TLS.
#[derive(Debug)]
pub enum Transport {
    /// `ws://`: the socket itself.
    Plain(TcpStream),
    /// `wss://`: rustls over the socket.
    Tls(Box<TlsStream<rustls::ClientConnection, TcpStream>>),
}

/// A rustls connection (client or server) over a byte stream, as a
/// non-blocking `Read + Write`: plaintext in and out, TLS records on the socket.
#[derive(Debug)]
pub struct TlsStream<C, S> {
    conn: C,
    sock: S,
    /// The socket reported end of stream.
    eof: bool,
}

impl<C, S> TlsStream<C, S> {
    /// Wraps a rustls connection and its socket.
    pub fn new(conn: C, sock: S) -> TlsStream<C, S> {
        TlsStream {
            conn,
            sock,
            eof: false,
        }
    }

    /// The socket.
    pub fn sock(&self) -> &S {
        &self.sock
    }

    /// The socket, mutably.
    pub fn sock_mut(&mut self) -> &mut S {
        &mut self.sock
    }

    /// The rustls connection.
    pub fn conn(&self) -> &C {
        &self.conn
    }
}

impl Transport {
    /// Starts a non-blocking TCP connect to `addr` (TCP_NODELAY set).
    pub fn connect(
        addr: SocketAddr,
        tls: Option<(Arc<rustls::ClientConfig>, &str)>,
    ) -> Result<Transport, ConnectError> {
        let tcp = TcpStream::connect(addr).map_err(ConnectError::Io)?;
        crate::sys::tune_socket(&tcp).map_err(ConnectError::Io)?;
        Ok(match tls {
            None => Transport::Plain(tcp),
            Some((config, host)) => {
                let name = ServerName::try_from(host.to_owned())
                    .map_err(|_| ConnectError::BadHost(host.to_owned()))?;
                let tls = rustls::ClientConnection::new(config, name).map_err(ConnectError::Tls)?;
                Transport::Tls(Box::new(TlsStream::new(tls, tcp)))
            }
        })
    }

    /// The socket, for registering with mio.
    pub fn tcp_mut(&mut self) -> &mut TcpStream {
        match self {
            Transport::Plain(s) => s,
            Transport::Tls(t) => &mut t.sock,
        }
    }

    /// The socket.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Plain(s) => s,
            Transport::Tls(t) => &t.sock,
        }
    }

    /// True when TLS output is waiting for the socket to become writable.
    pub fn wants_write(&self) -> bool {
        match self {
            Transport::Plain(_) => false,
            Transport::Tls(t) => t.conn.wants_write(),
        }
    }

    /// Whether the TCP connect finished: `Ok(true)` connected, `Ok(false)`
    /// still in progress, `Err` refused or failed.
    pub fn connect_finished(&self) -> io::Result<bool> {
        let tcp = self.tcp();
        if let Some(e) = tcp.take_error()? {
            return Err(e);
        }
        match tcp.peer_addr() {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(e) => Err(e),
        }
    }
}

impl<C, S, D> TlsStream<C, S>
where
    C: DerefMut<Target = rustls::ConnectionCommon<D>>,
    S: Read + Write,
{
    /// True when TLS output waits for the socket.
    pub fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }

    /// Queues a TLS close_notify alert and tries to send it.
    pub fn send_close_notify(&mut self) {
        self.conn.send_close_notify();
        let _ = self.write_pending();
    }

    fn write_pending(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            if self.conn.write_tls(&mut self.sock)? == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
        }
        Ok(())
    }
}

impl<C, S, D> Read for TlsStream<C, S>
where
    C: DerefMut<Target = rustls::ConnectionCommon<D>>,
    S: Read + Write,
{
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            if self.eof {
                // rustls had nothing more to give after end of stream.
                return Ok(0);
            }
            // Handshake messages or alerts may be waiting to go out.
            match self.write_pending() {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            match self.conn.read_tls(&mut self.sock) {
                Ok(0) => self.eof = true,
                Ok(_) => {}
                Err(e) => return Err(e),
            }
            if let Err(e) = self.conn.process_new_packets() {
                // Try to tell the peer why (an alert), then fail with the reason.
                let _ = self.write_pending();
                return Err(io::Error::new(io::ErrorKind::InvalidData, TlsFailure(e)));
            }
        }
    }
}

impl<C, S, D> Write for TlsStream<C, S>
where
    C: DerefMut<Target = rustls::ConnectionCommon<D>>,
    S: Read + Write,
{
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.conn.writer().write(buf)?;
        match self.write_pending() {
            Ok(()) => Ok(n),
            // Accepted into rustls; it goes out on writable readiness.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(n),
            Err(e) => Err(e),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_pending()?;
        self.sock.flush()
    }
}

impl Read for Transport {
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.read(buf),
            Transport::Tls(t) => t.read(buf),
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.write(buf),
            Transport::Tls(t) => t.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Transport::Plain(s) => s.flush(),
            Transport::Tls(t) => t.flush(),
        }
    }
}

/// A TLS failure (certificate, protocol) carried inside an `io::Error`.
#[derive(Debug, thiserror::Error)]
#[error("TLS: {0}")]
pub struct TlsFailure(pub rustls::Error);

/// Why a connection could not even be started.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The socket call failed.
    #[error("connect: {0}")]
    Io(io::Error),
    /// The host is not a valid TLS server name.
    #[error("not a valid TLS server name: {0:?}")]
    BadHost(String),
    /// rustls refused the configuration.
    #[error("TLS setup: {0}")]
    Tls(rustls::Error),
}

/// Problems building the TLS configuration (setup time).
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// The extra CA file could not be read.
    #[error("CA file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The extra CA file has no usable PEM certificate.
    #[error("CA file {path}: {reason}")]
    BadCertificate {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A client configuration trusting the webpki (Mozilla) roots plus the
/// certificates of `extra_ca_pem` (e.g. a testnet's or the simulator's CA).
pub fn client_config(
    extra_ca_pem: &[CertificateDer<'static>],
) -> Result<Arc<rustls::ClientConfig>, TlsSetupError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in extra_ca_pem {
        roots.add(cert.clone())?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Reads every certificate of a PEM file, with errors that name the file.
pub fn load_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let bytes = std::fs::read(path).map_err(|source| TlsSetupError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_ca_pem(&bytes).map_err(|reason| TlsSetupError::BadCertificate {
        path: path.to_owned(),
        reason,
    })
}

/// Parses PEM certificates; at least one is required.
pub fn parse_ca_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("not valid PEM: {e}"))?;
    if certs.is_empty() {
        return Err("no CERTIFICATE section found".to_owned());
    }
    // Check each one parses as X.509 by adding it to a scratch store.
    let mut scratch = rustls::RootCertStore::empty();
    for (i, c) in certs.iter().enumerate() {
        scratch
            .add(c.clone())
            .map_err(|e| format!("certificate #{} is not usable: {e}", i + 1))?;
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_ca_material_is_reported_clearly() {
        assert!(
            parse_ca_pem(b"hello")
                .unwrap_err()
                .contains("no CERTIFICATE")
        );
        let junk = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let err = parse_ca_pem(junk).unwrap_err();
        assert!(err.contains("certificate #1"), "{err}");
        let missing = load_ca_file(Path::new("/nonexistent/ca.pem"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("/nonexistent/ca.pem"), "{missing}");
        assert!(client_config(&[]).is_ok());
    }
}
