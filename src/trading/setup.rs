//! Setting up USD-M's second connection at start-up: where the user-data
//! stream and the REST endpoints are (from the config, else derived from
//! the WebSocket API URL), the helper thread and its own copy of the key.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use super::rest::{RestConfig, RestPort};
use super::userdata::UserData;
use super::{KeyMaterial, TradingConfig, TradingError};
use crate::config::{Endpoint, RiskConfig, limit_at};
use crate::engine::link::Link;
use crate::engine::supervisor::SupervisorTimers;
use crate::orders::RiskLimits;
use crate::types::Nanos;
use crate::types::Qty;
use crate::venue::binance::orders::Signer;

impl TradingConfig {
    /// Applies a validated `[risk]`: per-instrument caps (an instrument's
    /// own `max_qty` / `max_notional` first, else the section's), the price
    /// band, open-order caps and the per-strategy rate. Caps are converted
    /// to each instrument's scales exactly, or truncated when finer.
    pub fn apply_risk(&mut self, r: &RiskConfig) {
        self.max_open_total = r.max_open_total;
        self.max_orders_per_sec = r.max_orders_per_sec;
        self.risk = RiskLimits {
            band_bps: r.price_band_bps,
            max_open: r.max_open_orders,
            ..RiskLimits::default()
        };
        self.risk_per_instrument.clear();
        for i in self.registry.iter() {
            let own = r
                .instruments
                .iter()
                .find(|x| x.symbol.eq_ignore_ascii_case(i.symbol.as_str()));
            let qty_dec = u32::from(i.qty_scale.decimals());
            let px_dec = u32::from(i.price_scale.decimals());
            let max_qty = own
                .and_then(|x| x.max_qty)
                .or(r.max_qty)
                .map_or(i64::MAX, |d| {
                    i64::try_from(limit_at(d, qty_dec)).unwrap_or(i64::MAX)
                });
            let max_notional = own
                .and_then(|x| x.max_notional)
                .or(r.max_notional)
                .map_or(i128::MAX, |d| limit_at(d, qty_dec + px_dec));
            let limits = RiskLimits {
                max_qty: Qty(max_qty),
                max_notional,
                ..self.risk
            };
            self.risk_per_instrument.push((i.id, limits));
        }
    }
}

/// Splits `ws[s]://host[:port]/path` into an endpoint.
pub(super) fn endpoint(url: &str) -> Result<Endpoint, TradingError> {
    let bad = || TradingError::Url(url.to_owned());
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    let tls = match scheme {
        "ws" => false,
        "wss" => true,
        _ => return Err(bad()),
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad())?),
        None => (authority, if tls { 443 } else { 80 }),
    };
    if host.is_empty() || port == 0 {
        return Err(bad());
    }
    Ok(Endpoint {
        tls,
        host: host.to_owned(),
        port,
        base: url.to_owned(),
    })
}

/// The endpoint's address (DNS once, at start-up; IPv4 preferred).
pub(super) fn resolve(ep: &Endpoint) -> Result<SocketAddr, TradingError> {
    Ok(match ep.host.parse::<IpAddr>() {
        Ok(ip) => SocketAddr::new(ip, ep.port),
        Err(_) => {
            let all: Vec<SocketAddr> = (ep.host.as_str(), ep.port)
                .to_socket_addrs()
                .map_err(|e| TradingError::Resolve(format!("{}: {e}", ep.host)))?
                .collect();
            *all.iter()
                .find(|a| a.is_ipv4())
                .or(all.first())
                .ok_or_else(|| TradingError::Resolve(ep.host.clone()))?
        }
    })
}

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
        resolve(&user_ep)?
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
        keepalive: Duration::from_nanos(cfg.listen_key_keepalive.max(1_000_000)),
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
