//! Setting up USD-M's second connection at start-up: where the user-data
//! stream and the REST endpoints are (from the config, else derived from
//! the WebSocket API URL), the helper thread and its own copy of the key.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::rest::{RestConfig, RestPort};
use super::thread::endpoint;
use super::userdata::UserData;
use super::{KeyMaterial, TradingConfig, TradingError};
use crate::config::Endpoint;
use crate::engine::link::Link;
use crate::engine::supervisor::SupervisorTimers;
use crate::types::Nanos;
use crate::venue::binance::orders::Signer;

/// `ws[s]://host[:port]`.
fn origin(ep: &Endpoint, ws: bool) -> String {
    let scheme = match (ws, ep.tls) {
        (true, true) => "wss",
        (true, false) => "ws",
        (false, true) => "https",
        (false, false) => "http",
    };
    format!("{scheme}://{}:{}", ep.host, ep.port)
}

/// The signer the helper thread uses (its own copy).
pub(super) fn signer(key: &KeyMaterial) -> Result<Signer, TradingError> {
    match key {
        KeyMaterial::Hmac(s) => Signer::hmac(s).map_err(|e| TradingError::Key(e.to_string())),
        KeyMaterial::Ed25519Pem(p) => {
            Signer::ed25519_pem(p).map_err(|e| TradingError::Key(e.to_string()))
        }
        KeyMaterial::Ed25519Raw(b) => Ok(Signer::ed25519_bytes(b)),
    }
}

/// USD-M's user-data stream and REST helper for `cfg`. The stream goes to
/// the trading connection's address unless `user_ws_url` names another
/// host (resolved here, once).
pub(super) fn user_data(
    cfg: &TradingConfig,
    ws: &Endpoint,
    ws_addr: SocketAddr,
    tls: Option<Arc<rustls::ClientConfig>>,
    timers: SupervisorTimers,
    now: Nanos,
) -> Result<UserData, TradingError> {
    let base = match &cfg.user_ws_url {
        Some(u) if u.ends_with('/') => u.clone(),
        Some(u) => format!("{u}/"),
        None => format!("{}/ws/", origin(ws, true)),
    };
    let user_ep = endpoint(&base)?;
    let addr = if (user_ep.host.as_str(), user_ep.port) == (ws.host.as_str(), ws.port) {
        ws_addr
    } else {
        super::thread::resolve(&user_ep)?
    };
    let user_tls = if user_ep.tls {
        match tls {
            Some(t) => Some(t),
            None => Some(
                crate::socket::client_config(&ca(cfg)?.unwrap_or_default())
                    .map_err(|e| TradingError::Tls(e.to_string()))?,
            ),
        }
    } else {
        None
    };
    let rest_base = cfg
        .rest_url
        .clone()
        .unwrap_or_else(|| origin(ws, false))
        .trim_end_matches('/')
        .to_owned();
    let symbols = {
        let mut v = Vec::new();
        for i in cfg.registry.iter() {
            let n = i.id.index();
            if v.len() <= n {
                v.resize(n + 1, String::new());
            }
            v[n] = i.symbol.as_str().to_owned();
        }
        v
    };
    let instruments = cfg.registry.iter().map(|i| i.id).collect();
    let timeout = Duration::from_nanos(
        cfg.orders
            .request_timeout
            .clamp(1_000_000_000, 30_000_000_000),
    );
    let rest = RestPort::spawn(RestConfig {
        base: rest_base,
        api_key: cfg.api_key.clone(),
        signer: signer(&cfg.key)?,
        symbols,
        recv_window_ms: cfg.recv_window_ms,
        ca: ca(cfg)?,
        timeout,
        keepalive: Duration::from_secs(30 * 60),
    })?;
    Ok(UserData::new(
        Link::new(&user_ep, user_tls, 1 << 20),
        timers,
        rest,
        base,
        addr,
        instruments,
        now,
    ))
}

fn ca(
    cfg: &TradingConfig,
) -> Result<Option<Vec<rustls::pki_types::CertificateDer<'static>>>, TradingError> {
    cfg.ca_file
        .as_ref()
        .map(|p| crate::socket::load_ca_file(p).map_err(|e| TradingError::Tls(e.to_string())))
        .transpose()
}
