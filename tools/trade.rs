//! `tickwire trade`: order commands on standard input (one JSON object a
//! line), one JSON line per execution report on standard output, flushed
//! as written. The secret comes from a file (one trailing newline is not
//! part of it) and is never printed or logged.
//!
//! Instruments: a symbol listed under `[[risk.instrument]]` in `--config`
//! gets that tick and lot: a price or quantity with more decimals than
//! they have is an `error: line N:` (never rounded), and one with the
//! right decimals but off the grid is rejected locally (`off_grid`). Any
//! other symbol is registered at 8 decimals for price and quantity (the
//! most Binance accepts on the wire) and the venue checks its own grid.
//! Risk limits are wide by default (no per-order cap, ±50% band, 100,000
//! open orders, no per-strategy rate) so a burst is limited by the venue's
//! rate limits only; `[risk]` in `--config` and the `--max-*` flags narrow
//! them (a flag never widens what the file set).
//!
//! Besides the contracted ops, `{"op":"replace","symbol":…,"client_id":…,
//! "price":…,"qty":…}` replaces an order of this session: on spot a
//! cancel-replace (`order.cancelReplace`; the replacement gets a fresh
//! client id, reported with its own `ack`, the old order `canceled`); on
//! USD-M an amend in place (`order.modify`; same client id, a second `ack`
//! with the new price and quantity, or a `cancel_reject` leaving the order
//! as it was).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tickwire::orders::{
    Cancel, CancelReplace, ClientId, ExecReport, NewOrder, OrderType, ReportKind, Request,
    SessionStatus, TimeInForce,
};
use tickwire::trading::{KeyMaterial, OrderEntry, TradingConfig};
use tickwire::types::{InstrumentId, Price, Qty, Registry, Scale, Side, Venue};
use tickwire::venue::binance::orders::{Market, write_fixed};

use crate::Failure;

#[path = "trade_risk.rs"]
mod risk;
use risk::risk_config;

/// Symbols known without `--symbols`.
const DEFAULT_SYMBOLS: &str = "BTCUSDT,ETHUSDT,BNBUSDT,SOLUSDT,XRPUSDT,ADAUSDT,DOGEUSDT,LTCUSDT";
const STEP: &str = "0.00000001";

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// binance-spot or binance-usdm.
    #[arg(long)]
    venue: String,
    /// The WebSocket API URL (ws:// or wss://, with its path).
    #[arg(long)]
    ws_url: String,
    /// The REST base URL (USD-M: listen key, cancel-all, dead-man switch;
    /// default: the WebSocket URL's host and port).
    #[arg(long)]
    rest_url: Option<String>,
    /// USD-M user-data stream base, the listen key is appended (default:
    /// the WebSocket URL's host and port + `/ws/`).
    #[arg(long)]
    user_ws_url: Option<String>,
    /// A TOML file whose `[risk]` section sets the risk limits and the
    /// instruments' tick and lot (other sections are ignored).
    #[arg(long)]
    config: Option<std::path::PathBuf>,
    /// Largest quantity per order (narrows `risk.max_qty`).
    #[arg(long, allow_hyphen_values = true)]
    max_qty: Option<String>,
    /// Largest notional per order, quote units (narrows `risk.max_notional`).
    #[arg(long, allow_hyphen_values = true)]
    max_notional: Option<String>,
    /// Price band around the reference price, bps (narrows `risk.price_band_bps`).
    #[arg(long)]
    price_band_bps: Option<u32>,
    /// Most open orders per instrument (narrows `risk.max_open_orders`).
    #[arg(long)]
    max_open_orders: Option<u32>,
    /// Most new orders per second (narrows `risk.max_orders_per_sec`).
    #[arg(long)]
    max_orders_per_sec: Option<u32>,
    /// Extra CA certificate (PEM) to trust.
    #[arg(long)]
    ca_file: Option<std::path::PathBuf>,
    /// Environment variable holding the API key.
    #[arg(long)]
    api_key_env: String,
    /// File holding the secret (HMAC secret, or Ed25519 private key PEM).
    #[arg(long)]
    secret_file: std::path::PathBuf,
    /// hmac or ed25519.
    #[arg(long, default_value = "hmac")]
    key_type: String,
    /// Stop after this many seconds.
    #[arg(long)]
    seconds: Option<u64>,
    /// Symbols to trade besides the common ones (comma-separated).
    #[arg(long, value_delimiter = ',')]
    symbols: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Command {
    op: String,
    symbol: String,
    side: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    tif: Option<String>,
    price: Option<String>,
    qty: Option<String>,
    client_id: Option<String>,
}

fn decimal(m: i64, scale: Scale) -> String {
    let mut buf = [0u8; 24];
    let n = write_fixed(m, scale, &mut buf);
    let s = std::str::from_utf8(&buf[..n]).unwrap_or("0");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    };
    s.to_owned()
}

struct Ctx {
    venue: Venue,
    market: Market,
    registry: Registry,
}

impl Ctx {
    fn instrument(&self, symbol: &str) -> Result<InstrumentId, String> {
        self.registry
            .lookup(self.venue, symbol.to_ascii_uppercase().as_bytes())
            .map(|i| i.id)
            .ok_or_else(|| format!("unknown symbol {symbol:?} (add it with --symbols)"))
    }

    fn scales(&self, id: InstrumentId) -> (Scale, Scale) {
        let i = self.registry.get(id);
        (i.price_scale, i.qty_scale)
    }

    fn parse(
        &self,
        line: &str,
        ids: &mut tickwire::orders::ClientIdGen,
        orders: &HashMap<ClientId, NewOrder>,
    ) -> Result<Request, String> {
        let c: Command = serde_json::from_str(line).map_err(|e| e.to_string())?;
        let instrument = self.instrument(&c.symbol)?;
        let (price_scale, qty_scale) = self.scales(instrument);
        match c.op.as_str() {
            "new" => {
                let side = match c.side.as_deref() {
                    Some("buy") => Side::Bid,
                    Some("sell") => Side::Ask,
                    _ => return Err("side must be buy or sell".into()),
                };
                let kind = match c.kind.as_deref() {
                    Some("limit") => OrderType::Limit,
                    Some("market") => OrderType::Market,
                    _ => return Err("type must be limit or market".into()),
                };
                let tif = match c.tif.as_deref() {
                    Some("gtc") | None => TimeInForce::Gtc,
                    Some("ioc") => TimeInForce::Ioc,
                    Some("fok") => TimeInForce::Fok,
                    Some("post_only") => TimeInForce::PostOnly,
                    Some(t) => return Err(format!("tif {t:?} is not gtc, ioc, fok or post_only")),
                };
                let qty = Qty::parse(
                    c.qty.as_deref().ok_or("qty is missing")?.as_bytes(),
                    qty_scale,
                )
                .map_err(|e| format!("qty: {e}"))?;
                let price = match (kind, c.price.as_deref()) {
                    (OrderType::Limit, Some(p)) => Price::parse(p.as_bytes(), price_scale)
                        .map_err(|e| format!("price: {e}"))?,
                    (OrderType::Limit, None) => return Err("price is missing".into()),
                    (OrderType::Market, _) => Price::ZERO,
                };
                if kind == OrderType::Market && tif == TimeInForce::PostOnly {
                    return Err("a market order cannot be post_only".into());
                }
                Ok(Request::New(NewOrder {
                    client_id: ids.mint(),
                    instrument,
                    side,
                    kind,
                    tif,
                    price,
                    qty,
                }))
            }
            "cancel" => {
                let id = c.client_id.ok_or("client_id is missing")?;
                let client_id = ClientId::new(id.as_bytes()).ok_or("client_id is not valid")?;
                Ok(Request::Cancel(Cancel {
                    client_id,
                    instrument,
                }))
            }
            "cancel_all" => Ok(Request::CancelAll(instrument)),
            "replace" => {
                let id = c.client_id.ok_or("client_id is missing")?;
                let cancel = ClientId::new(id.as_bytes()).ok_or("client_id is not valid")?;
                let old = orders
                    .get(&cancel)
                    .filter(|o| o.instrument == instrument)
                    .ok_or_else(|| {
                        format!("client_id {id:?} is no {} order of this session", c.symbol)
                    })?;
                let price = Price::parse(
                    c.price.as_deref().ok_or("price is missing")?.as_bytes(),
                    price_scale,
                )
                .map_err(|e| format!("price: {e}"))?;
                let qty = Qty::parse(
                    c.qty.as_deref().ok_or("qty is missing")?.as_bytes(),
                    qty_scale,
                )
                .map_err(|e| format!("qty: {e}"))?;
                if old.kind != OrderType::Limit {
                    return Err("only a limit order can be replaced".into());
                }
                let client_id = match self.market {
                    Market::Usdm => cancel,
                    Market::Spot => ids.mint(),
                };
                Ok(Request::CancelReplace(CancelReplace {
                    cancel,
                    new: NewOrder {
                        client_id,
                        price,
                        qty,
                        ..*old
                    },
                }))
            }
            op => Err(format!(
                "op {op:?} is not new, cancel, cancel_all or replace"
            )),
        }
    }

    fn json(&self, r: &ExecReport) -> String {
        let mut m = serde_json::Map::new();
        m.insert("type".into(), r.kind.name().into());
        if r.kind == ReportKind::Status {
            if let Some(s) = r.status {
                m.insert("status".into(), status_name(s).into());
            }
            if r.venue_code != 0 {
                m.insert("venue_code".into(), r.venue_code.into());
                m.insert("reason".into(), r.text.as_str().into());
            }
            m.insert("ts_ns".into(), r.ts.into());
            return serde_json::Value::Object(m).to_string();
        }
        if !r.client_id.is_empty() {
            m.insert("client_id".into(), r.client_id.as_str().into());
        }
        if r.venue_order_id != 0 {
            m.insert("venue_order_id".into(), r.venue_order_id.into());
        }
        if r.instrument.index() < self.registry.len() {
            let i = self.registry.get(r.instrument);
            m.insert("symbol".into(), i.symbol.as_str().into());
        }
        let (ps, qs) = if r.instrument.index() < self.registry.len() {
            self.scales(r.instrument)
        } else {
            (Scale::BINANCE_WIRE, Scale::BINANCE_WIRE)
        };
        if !r.client_id.is_empty() && r.qty != Qty::ZERO {
            let side = if r.side == Side::Bid { "buy" } else { "sell" };
            m.insert("side".into(), side.into());
            if r.price != Price::ZERO {
                m.insert("price".into(), decimal(r.price.0, ps).into());
            }
            m.insert("qty".into(), decimal(r.qty.0, qs).into());
            m.insert("filled_qty".into(), decimal(r.filled_qty.0, qs).into());
        }
        if r.last_qty != Qty::ZERO {
            if r.last_price != Price::ZERO {
                m.insert("last_price".into(), decimal(r.last_price.0, ps).into());
            }
            m.insert("last_qty".into(), decimal(r.last_qty.0, qs).into());
        }
        if let Some(reason) = r.reason {
            m.insert("reason".into(), reason.name().into());
        }
        if r.venue_code != 0 {
            m.insert("venue_code".into(), r.venue_code.into());
        }
        m.insert("ts_ns".into(), r.ts.into());
        serde_json::Value::Object(m).to_string()
    }
}

fn status_name(s: SessionStatus) -> &'static str {
    match s {
        SessionStatus::Ready => "ready",
        SessionStatus::NotReady => "not_ready",
        SessionStatus::BreakerOpen => "breaker_open",
        SessionStatus::BreakerHalfOpen => "breaker_half_open",
        SessionStatus::BreakerClosed => "breaker_closed",
        SessionStatus::RateLimited => "rate_limited",
        SessionStatus::Banned => "banned",
        SessionStatus::KillSwitchOn => "kill_switch_on",
        SessionStatus::KillSwitchOff => "kill_switch_off",
    }
}

fn read_secret(path: &std::path::Path) -> Result<String, String> {
    let mut s = std::fs::read_to_string(path)
        .map_err(|e| format!("--secret-file {}: {e}", path.display()))?;
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    if s.is_empty() {
        return Err(format!("--secret-file {}: empty", path.display()));
    }
    Ok(s)
}

pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    let (venue, market) = match args.venue.as_str() {
        "binance-spot" => (Venue::BinanceSpot, Market::Spot),
        "binance-usdm" => (Venue::BinanceUsdm, Market::Usdm),
        v => return Err(format!("--venue {v:?}: must be binance-spot or binance-usdm").into()),
    };
    let api_key = std::env::var(&args.api_key_env)
        .map_err(|_| format!("--api-key-env {}: not set", args.api_key_env))?;
    let secret = read_secret(&args.secret_file)?;
    let key = match args.key_type.as_str() {
        "hmac" => KeyMaterial::Hmac(secret.into_bytes()),
        "ed25519" => KeyMaterial::Ed25519Pem(secret),
        k => return Err(format!("--key-type {k:?}: must be hmac or ed25519").into()),
    };
    let risk = risk_config(args)?;
    let mut registry = Registry::new();
    let mut seen = HashSet::new();
    for (i, r) in risk.instruments.iter().enumerate() {
        seen.insert(r.symbol.clone());
        registry
            .add(venue, &r.symbol, &r.tick_size, &r.lot_size)
            .map_err(|e| format!("--config: risk.instrument[{i}]: {e}"))?;
    }
    for s in DEFAULT_SYMBOLS
        .split(',')
        .map(str::to_owned)
        .chain(args.symbols.iter().cloned())
    {
        let s = s.trim().to_ascii_uppercase();
        if !s.is_empty() && seen.insert(s.clone()) {
            registry
                .add(venue, &s, STEP, STEP)
                .map_err(|e| format!("--symbols {s}: {e}"))?;
        }
    }
    let mut cfg = TradingConfig::new(market, &args.ws_url, &api_key, key, registry.clone());
    cfg.rest_url = args.rest_url.clone();
    cfg.user_ws_url = args.user_ws_url.clone();
    cfg.ca_file = args.ca_file.clone();
    cfg.apply_risk(&risk);
    let mut oe = OrderEntry::new(cfg);
    let mut strat = oe.add_strategy().map_err(|e| e.to_string())?;
    let handle = oe.spawn().map_err(|e| e.to_string())?;
    let ctx = Ctx {
        venue,
        market,
        registry,
    };
    let mut track = Track::default();

    let (tx, rx) = mpsc::channel::<Option<(usize, String)>>();
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        for (n, line) in stdin.lock().lines().enumerate() {
            match line {
                Ok(l) => {
                    if tx.send(Some((n + 1, l))).is_err() {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = tx.send(None);
    });

    let deadline = args
        .seconds
        .map(|s| Instant::now() + Duration::from_secs(s));
    let started = Instant::now();
    let mut out = std::io::stdout().lock();
    let mut eof = false;
    // A session that is neither ready nor refused holds commands back.
    let mut settled = false;
    let mut held: Vec<(usize, String)> = Vec::new();
    let mut open: HashMap<ClientId, InstrumentId> = HashMap::new();
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let mut idle = true;
        while let Ok(r) = strat.reports.pop() {
            idle = false;
            if r.kind == ReportKind::Status
                && (r.status == Some(SessionStatus::Ready) || r.venue_code != 0)
            {
                settled = true;
            }
            let id = r.client_id;
            match r.kind {
                ReportKind::Ack | ReportKind::PartialFill => {
                    track.pending.remove(&id);
                    track.replaces.remove(&id);
                    open.insert(id, r.instrument);
                }
                ReportKind::InDoubt => {
                    track.pending.insert(id);
                }
                ReportKind::Reject
                | ReportKind::Fill
                | ReportKind::Canceled
                | ReportKind::Expired => {
                    track.pending.remove(&id);
                    open.remove(&id);
                    track.cancels.remove(&id);
                    track.replaces.remove(&id);
                }
                ReportKind::CancelReject => {
                    track.cancels.remove(&id);
                    track.replaces.remove(&id);
                    if id.is_empty() {
                        track.cancel_alls.retain(|i| *i != r.instrument);
                    }
                }
                ReportKind::Status => {}
            }
            writeln!(out, "{}", ctx.json(&r)).map_err(Failure::Output)?;
            out.flush().map_err(Failure::Output)?;
        }
        track.cancel_alls.retain(|i| open.values().any(|o| o == i));
        if !settled && started.elapsed() > Duration::from_secs(15) {
            settled = true;
        }
        if settled {
            for (n, line) in held.drain(..) {
                submit(&ctx, &mut strat, n, &line, &mut track);
            }
        }
        match rx.try_recv() {
            Ok(Some((n, line))) => {
                idle = false;
                if line.trim().is_empty() {
                    // Blank lines are skipped silently.
                    continue;
                }
                if settled {
                    submit(&ctx, &mut strat, n, &line, &mut track);
                } else {
                    held.push((n, line));
                }
            }
            Ok(None) | Err(mpsc::TryRecvError::Disconnected) => eof = true,
            Err(mpsc::TryRecvError::Empty) => {}
        }
        if eof && held.is_empty() && track.quiet() {
            break;
        }
        if idle {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    handle.stop();
    Ok(())
}

/// What `run` tracks to know when nothing is pending any more.
#[derive(Default)]
struct Track {
    /// Orders without a first outcome, or in doubt.
    pending: HashSet<ClientId>,
    cancels: HashSet<ClientId>,
    cancel_alls: Vec<InstrumentId>,
    /// Every order placed, for `replace`.
    orders: HashMap<ClientId, NewOrder>,
    /// USD-M amends awaiting their answer.
    replaces: HashSet<ClientId>,
}

impl Track {
    /// Nothing awaits an answer from the venue.
    fn quiet(&self) -> bool {
        self.pending.is_empty()
            && self.cancels.is_empty()
            && self.cancel_alls.is_empty()
            && self.replaces.is_empty()
    }
}

fn submit(
    ctx: &Ctx,
    strat: &mut tickwire::trading::StrategyHandle,
    n: usize,
    line: &str,
    t: &mut Track,
) {
    match ctx.parse(line, &mut strat.ids, &t.orders) {
        Ok(req) => {
            match req {
                Request::New(o) => {
                    t.pending.insert(o.client_id);
                    t.orders.insert(o.client_id, o);
                }
                Request::Cancel(c) => {
                    t.cancels.insert(c.client_id);
                }
                Request::CancelAll(i) => t.cancel_alls.push(i),
                Request::CancelReplace(cr) if cr.new.client_id == cr.cancel => {
                    t.replaces.insert(cr.cancel);
                }
                Request::CancelReplace(cr) => {
                    t.pending.insert(cr.new.client_id);
                    t.orders.insert(cr.new.client_id, cr.new);
                }
            }
            if strat.requests.push(req).is_err() {
                eprintln!("error: line {n}: the request ring is full");
            }
        }
        Err(e) => eprintln!("error: line {n}: {e}"),
    }
}
