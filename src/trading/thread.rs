//! The order-entry thread's loop: one supervised trading connection
//! (the feed's `Link` + `Supervisor`), the venue codec and the gate.
//! Per order nothing here logs or locks; status changes log one line each.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering, fence};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mio::{Events, Poll, Token};

use super::latency::{Recorder, answers};
use super::market::MarketFeed;
use super::requests::Wake;
use super::setup::{endpoint, resolve};
use super::userdata::{UserData, UserEvent};
use super::{StrategyEnd, TradingConfig, TradingError, TradingReport, TradingStats, WaitPolicy};
use crate::engine::link::Link;
use crate::engine::supervisor::{Due, Supervisor, SupervisorTimers};
use crate::orders::{ExecReport, Gate, Reply, ReportKind, Risk, SessionStatus, VenueText};
use crate::types::{Clock, InstrumentId, MonotonicClock, Nanos};
use crate::venue::binance::orders::{
    Decoder, Encoder, Inbound, Market, ServerClock, Signer, limits,
};

/// UTC nanoseconds from the system clock (no allocation, no lock).
pub fn utc_now() -> Nanos {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as Nanos)
}

const TOKEN: Token = Token(0);
/// The strategies' wake-up (a push while the thread sleeps).
const WAKE: Token = Token(1);
/// Under a spin, the socket is read on a readiness event, and also every
/// this many turns (a safety net; reads stop at `WouldBlock`).
const READ_EVERY: u32 = 64;
/// Request ids of the thread's own requests (logon, subscribe): far above
/// the gate's, which count from 1.
const CTL_BASE: u64 = 1 << 62;
const MAX_MESSAGE: usize = 1 << 20;

/// Where the connection is in its start-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// No socket (backing off).
    Down,
    /// TCP / TLS / WebSocket handshake.
    Handshake,
    /// `session.logon` sent.
    Logon,
    /// User-data subscription sent.
    Subscribe,
    /// Ready for orders.
    Ready,
    /// The venue refused the credentials: stay connected, never ready.
    Refused,
}

/// The order-entry loop and everything it owns.
pub(crate) struct Loop {
    cfg: TradingConfig,
    gate: Gate,
    enc: Encoder,
    dec: Decoder,
    clock: ServerClock,
    link: Link,
    sup: Supervisor,
    poll: Poll,
    events: Events,
    addr: SocketAddr,
    phase: Phase,
    ctl_next: u64,
    ctl_sent_local: Nanos,
    ed25519: bool,
    strategies: Vec<StrategyEnd>,
    stop: Arc<AtomicBool>,
    stats: Arc<TradingStats>,
    kill: Arc<AtomicU64>,
    /// USD-M: the listen-key user-data stream and the REST helper.
    usdm: Option<UserData>,
    /// The feed engine's events: the price band's reference prices.
    market: Option<MarketFeed>,
    /// The clock push stamps are on (shared with the strategies).
    mono: MonotonicClock,
    wake: Arc<Wake>,
    latency: Recorder,
    /// Under `WaitPolicy::Sleep`: spin (zero-timeout polls) until this
    /// monotonic time, then sleep.
    spin_until: Nanos,
    /// When the current read pass started (monotonic): the decode stamp of
    /// the acks it carries.
    read_at: Nanos,
    /// Turns since the socket was last read.
    unread_turns: u32,
}

impl Loop {
    #[allow(
        clippy::too_many_arguments,
        reason = "the thread's shared handles, each from OrderEntry::spawn"
    )]
    pub(crate) fn new(
        cfg: TradingConfig,
        signer: Signer,
        strategies: Vec<StrategyEnd>,
        stop: Arc<AtomicBool>,
        stats: Arc<TradingStats>,
        kill: Arc<AtomicU64>,
        mono: MonotonicClock,
        wake: Arc<Wake>,
    ) -> Result<Loop, TradingError> {
        let ep = endpoint(&cfg.ws_url)?;
        let addr = resolve(&ep)?;
        let tls = if ep.tls {
            let extra = match &cfg.ca_file {
                Some(p) => {
                    crate::socket::load_ca_file(p).map_err(|e| TradingError::Tls(e.to_string()))?
                }
                None => Vec::new(),
            };
            Some(
                crate::socket::client_config(&extra)
                    .map_err(|e| TradingError::Tls(e.to_string()))?,
            )
        } else {
            None
        };
        let ed25519 = signer.is_ed25519();
        let enc = Encoder::new(
            cfg.market,
            &cfg.registry,
            &cfg.api_key,
            signer,
            cfg.recv_window_ms,
        )
        .map_err(|_| TradingError::ApiKey)?;
        let dec = Decoder::new(cfg.market, &cfg.registry);
        let instruments = cfg
            .registry
            .iter()
            .map(|i| i.id.index() + 1)
            .max()
            .unwrap_or(1);
        let mut risk = Risk::new(instruments, &cfg.registry);
        risk.set_max_open_total(cfg.max_open_total);
        for i in 0..instruments {
            risk.set_instrument(InstrumentId(i as u32), cfg.risk);
        }
        for &(id, limits) in &cfg.risk_per_instrument {
            risk.set_instrument(id, limits);
        }
        let orders = crate::orders::OrdersConfig {
            instruments: instruments.max(cfg.orders.instruments),
            recv_window: u64::from(cfg.recv_window_ms) * 1_000_000,
            ..cfg.orders
        };
        let mut gate = Gate::new(orders, risk, limits(cfg.market), cfg.breaker);
        gate.set_amend_in_place(cfg.market == Market::Usdm);
        gate.set_strategy_rate(cfg.max_orders_per_sec);
        let timers = SupervisorTimers {
            connect_timeout: 10_000_000_000,
            stale_timeout: Nanos::MAX / 4,
            // The WS API closes connections after 24 h: rotate before.
            max_age: 23 * 3_600 * 1_000_000_000,
            backoff_initial: cfg.backoff.0,
            backoff_max: cfg.backoff.1,
            restart_limit: 20,
            restart_window: 60_000_000_000,
            down_cooldown: 30_000_000_000,
        };
        let now = utc_now();
        let usdm = match cfg.market {
            Market::Usdm => Some(super::setup::user_data(
                &cfg,
                &ep,
                addr,
                tls.clone(),
                timers,
                now,
            )?),
            Market::Spot => None,
        };
        let poll = Poll::new()?;
        let _ = wake.waker.set(mio::Waker::new(poll.registry(), WAKE)?);
        Ok(Loop {
            usdm,
            market: None,
            link: Link::new(&ep, tls, MAX_MESSAGE),
            sup: Supervisor::new(timers, now, now),
            poll,
            events: Events::with_capacity(64),
            addr,
            phase: Phase::Down,
            ctl_next: CTL_BASE,
            ctl_sent_local: 0,
            ed25519,
            gate,
            enc,
            dec,
            clock: ServerClock::new(),
            strategies,
            stop,
            stats,
            kill,
            mono,
            wake,
            latency: Recorder::new(),
            spin_until: 0,
            read_at: 0,
            unread_turns: 0,
            cfg,
        })
    }

    /// Reads reference prices from `feed` from now on.
    pub(crate) fn set_market(&mut self, feed: MarketFeed) {
        self.market = Some(feed);
    }

    pub(crate) fn core(&self) -> Option<usize> {
        self.cfg.core
    }

    fn now(&self) -> Nanos {
        self.clock.venue_now(utc_now())
    }

    /// Runs until stopped; returns the latency it recorded.
    pub(crate) fn run(&mut self) -> TradingReport {
        while !self.stop.load(Ordering::Acquire) {
            self.turn();
        }
        self.link.close(self.poll.registry());
        TradingReport {
            latency: self.latency.latency.clone(),
        }
    }

    fn turn(&mut self) {
        let now = self.now();
        match self.sup.check(now) {
            Some(Due::Connect) => self.connect(now),
            Some(Due::ConnectTimeout | Due::Stale) => self.fail(now, "timeout"),
            Some(Due::Rotate) => self.fail(now, "rotation"),
            None => {}
        }
        if self.stats.reset_latency.load(Ordering::Relaxed)
            && self.stats.reset_latency.swap(false, Ordering::AcqRel)
        {
            self.latency.reset();
        }
        match self.kill.swap(0, Ordering::AcqRel) {
            1 => {
                self.gate.kill(now);
                if let Some(ud) = self.usdm.as_mut()
                    && self.cfg.dead_man_ms > 0
                {
                    ud.dead_man(self.cfg.dead_man_ms);
                }
            }
            2 => {
                self.gate.reset_kill(now);
                if let Some(ud) = self.usdm.as_mut()
                    && self.cfg.dead_man_ms > 0
                {
                    ud.dead_man(0);
                }
            }
            _ => {}
        }
        let wait = self.wait(now);
        let polled = self.poll.poll(&mut self.events, Some(wait));
        self.wake.sleeping.store(false, Ordering::Relaxed);
        if polled.is_err() {
            return;
        }
        let now = self.now();
        if self.phase == Phase::Handshake {
            self.handshake(now);
        }
        let readable = self.events.iter().any(|e| e.token() == TOKEN);
        self.unread_turns += 1;
        if self.link.is_open() && (readable || self.unread_turns >= READ_EVERY) {
            self.unread_turns = 0;
            self.read(now);
        }
        self.user_data(now);
        if let Some(m) = self.market.as_mut() {
            // Before the strategies' requests: their band is checked against
            // the freshest book.
            let (events, set) = m.poll(self.gate.risk_mut());
            if events > 0 {
                self.stats
                    .market_events
                    .fetch_add(events as u64, Ordering::Relaxed);
                self.stats
                    .references
                    .fetch_add(set as u64, Ordering::Relaxed);
            }
        }
        self.intake(now);
        if self.gate.poll_timeout().is_some_and(|t| t <= now) {
            self.gate.handle_timeouts(now);
        }
        if self.phase == Phase::Ready {
            self.write(None);
        }
        if let Some(ws) = self.link.ws.as_mut()
            && ws.flush().is_err()
        {
            self.fail(now, "write failed");
        }
        self.deliver();
    }

    /// How long the poller may wait: zero while spinning; otherwise up to
    /// the idle sleep or the next deadline, announced to the strategies
    /// (which then wake the thread on a push).
    fn wait(&self, now: Nanos) -> Duration {
        match self.cfg.wait {
            WaitPolicy::Spin => return Duration::ZERO,
            WaitPolicy::Sleep { .. } if self.cfg.idle_poll == 0 => return Duration::ZERO,
            WaitPolicy::Sleep { .. } => {
                if self.mono.now() < self.spin_until {
                    return Duration::ZERO;
                }
                self.wake.sleeping.store(true, Ordering::Relaxed);
                fence(Ordering::SeqCst);
                if self.strategies.iter().any(|s| !s.requests.is_empty()) {
                    self.wake.sleeping.store(false, Ordering::Relaxed);
                    return Duration::ZERO;
                }
            }
        }
        let mut until = now.saturating_add(self.cfg.idle_poll);
        until = until.min(self.sup.next_deadline());
        if let Some(t) = self.gate.poll_timeout() {
            until = until.min(t);
        }
        if let Some(ud) = &self.usdm {
            until = until.min(ud.next_deadline());
        }
        Duration::from_nanos(until.saturating_sub(now))
    }

    fn connect(&mut self, now: Nanos) {
        self.sup.connecting(now);
        self.stats.connects.fetch_add(1, Ordering::Relaxed);
        let url = self.cfg.ws_url.clone();
        match self
            .link
            .connect(self.addr, &url, self.poll.registry(), TOKEN)
        {
            Ok(()) => self.phase = Phase::Handshake,
            Err(e) => {
                tracing::warn!(error = %e, "trading connection: connect failed");
                self.fail(now, "connect failed");
            }
        }
    }

    fn fail(&mut self, now: Nanos, why: &str) {
        let was = self.phase;
        self.link.close(self.poll.registry());
        self.enc.set_logged_on(false);
        self.phase = Phase::Down;
        self.stats.ready.store(0, Ordering::Relaxed);
        if let Some(ud) = self.usdm.as_mut() {
            ud.stop(self.poll.registry());
            self.stats.user_data.store(0, Ordering::Relaxed);
        }
        if was == Phase::Ready {
            self.gate.handle_disconnect(now);
        }
        let state = self.sup.failed(now, false);
        tracing::info!(
            reason = why,
            state = state.name(),
            "trading connection down"
        );
    }

    fn handshake(&mut self, now: Nanos) {
        let Some(ws) = self.link.ws.as_mut() else {
            return;
        };
        match ws.drive_handshake() {
            Ok(true) => {
                self.sup.opened(now);
                tracing::info!(url = %self.cfg.ws_url, "trading connection open");
                self.after_open(now);
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(error = %e, "trading connection: handshake failed");
                self.fail(now, "handshake failed");
            }
        }
    }

    fn ctl_req(&mut self) -> u64 {
        self.ctl_next += 1;
        self.ctl_next
    }

    /// Logon (Ed25519), else subscribe, else ready.
    fn after_open(&mut self, now: Nanos) {
        if self.ed25519 {
            let req = self.ctl_req();
            self.phase = Phase::Logon;
            self.ctl_sent_local = utc_now();
            let r = self
                .enc
                .write_logon(req, now)
                .map(|b| send(&mut self.link, b));
            if !matches!(r, Ok(true)) {
                self.fail(now, "logon write failed");
            }
        } else {
            self.subscribe(now);
        }
    }

    fn subscribe(&mut self, now: Nanos) {
        if let Some(ud) = self.usdm.as_mut() {
            // USD-M: a listen key (REST, helper thread), then its stream;
            // `user_data` calls `ready` once the stream is open.
            self.phase = Phase::Subscribe;
            ud.start(self.poll.registry(), now, self.clock.offset_ns());
            return;
        }
        let req = self.ctl_req();
        self.phase = Phase::Subscribe;
        let r = self
            .enc
            .write_subscribe(req, now)
            .map(|b| send(&mut self.link, b));
        if !matches!(r, Ok(true)) {
            self.fail(now, "subscribe write failed");
        }
    }

    fn ready(&mut self, now: Nanos) {
        if self.usdm.is_none() {
            // Spot's user data rides on this connection: after a reconnect,
            // open orders are queried (their events may have been missed).
            self.gate.set_user_data(true, now);
        }
        self.phase = Phase::Ready;
        self.sup.synced(now);
        self.gate.set_ready(now);
        self.stats.ready.store(1, Ordering::Relaxed);
    }

    fn control_reply(&mut self, reply: &Reply, server_ms: Option<u64>, now: Nanos) {
        if let Some(ms) = server_ms {
            self.clock.observe(self.ctl_sent_local, utc_now(), ms);
        }
        let refused = match *reply {
            Reply::Refused { code, text }
            | Reply::NotFound { code, text }
            | Reply::Unknown { code, text } => Some((code, text)),
            Reply::Done | Reply::Order(_) => None,
        };
        match (self.phase, refused) {
            (Phase::Logon, None) => {
                self.enc.set_logged_on(true);
                self.subscribe(now);
            }
            (Phase::Subscribe, None) => self.ready(now),
            (Phase::Logon | Phase::Subscribe, Some((code, text))) => {
                self.refused(code, text, now);
            }
            _ => {}
        }
    }

    /// The venue refused the credentials: say so to every strategy and in
    /// one log line (the secret is never part of either).
    fn refused(&mut self, code: i32, text: VenueText, now: Nanos) {
        self.phase = Phase::Refused;
        tracing::warn!(
            venue_code = code,
            text = text.as_str(),
            "trading session refused by the venue (api key / secret / signature)"
        );
        let mut r = ExecReport::status(SessionStatus::NotReady, 0, now);
        r.venue_code = code;
        r.text = text;
        for s in &mut self.strategies {
            if s.reports.push(r).is_err() {
                self.stats.reports_dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn read(&mut self, now: Nanos) {
        self.read_at = self.mono.now();
        let Loop {
            link,
            dec,
            gate,
            stats,
            sup,
            ..
        } = self;
        let Some(ws) = link.ws.as_mut() else { return };
        let mut ctl: Option<(Reply, Option<u64>)> = None;
        let result = ws.read_available(|frame| {
            sup.frame(now);
            stats.frames.fetch_add(1, Ordering::Relaxed);
            match dec.decode(frame) {
                Ok(Inbound::Reply {
                    req,
                    reply,
                    meta,
                    also,
                    server_time_ms,
                }) => {
                    if req > CTL_BASE {
                        ctl = Some((reply, server_time_ms));
                        return false;
                    }
                    gate.handle_reply(req, &reply, &meta, now);
                    if let Some(a) = also {
                        gate.handle_update(&a, now);
                    }
                }
                Ok(Inbound::Update(v)) => gate.handle_update(&v, now),
                Ok(Inbound::Other) => {}
                Err(_) => {
                    stats.decode_errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            true
        });
        if result.as_ref().is_ok_and(|p| p.texts > 0) {
            self.busy();
        }
        if let Some((reply, ms)) = ctl {
            self.control_reply(&reply, ms, now);
        }
        if let Err(e) = result {
            tracing::info!(error = %e, "trading connection: read ended");
            self.fail(now, "closed");
        } else if ctl.is_some() && self.link.is_open() {
            // More frames may wait behind the control reply.
            self.read(now);
        }
    }

    /// Keeps spinning for the policy's budget after activity.
    fn busy(&mut self) {
        if let WaitPolicy::Sleep { spin } = self.cfg.wait {
            self.spin_until = self.mono.now().saturating_add(spin);
        }
    }

    /// Strategy requests → the gate, each written at once when the session
    /// is ready (its push stamp goes with it).
    fn intake(&mut self, now: Nanos) {
        let mut any = false;
        for i in 0..self.strategies.len() {
            while let Ok(s) = self.strategies[i].requests.pop() {
                any = true;
                self.stats.requests.fetch_add(1, Ordering::Relaxed);
                self.gate.submit_from(i, s.req, now);
                if self.phase == Phase::Ready {
                    self.write(Some((&s.req, s.pushed)));
                }
            }
        }
        if any {
            self.busy();
        }
    }

    /// Everything the gate lets out, each signed at the moment of writing;
    /// `pushed` is the request just submitted and its push stamp.
    fn write(&mut self, pushed: Option<(&crate::orders::Request, Nanos)>) {
        loop {
            let now = self.now();
            let Some(s) = self.gate.poll_send(now) else {
                return;
            };
            match self.enc.write(&s, now) {
                Ok(bytes) => {
                    let before = self.mono.now();
                    if !send(&mut self.link, bytes) {
                        self.fail(now, "write failed");
                        return;
                    }
                    let after = self.mono.now();
                    let stamp = pushed.and_then(|(r, t)| answers(r, &s).then_some(t));
                    self.latency.written(&s, stamp, before, after);
                    self.stats.written.fetch_add(1, Ordering::Relaxed);
                }
                // USD-M cancel-all goes over REST on the helper thread; its
                // answer comes back as the gate's evidence.
                Err(_) => {
                    let handed = match (s, self.usdm.as_mut()) {
                        (crate::orders::Send::CancelAll { req, instrument }, Some(ud)) => {
                            ud.cancel_all(req, instrument)
                        }
                        _ => false,
                    };
                    // Not expressible: times out in the gate and is reported.
                    let counter = if handed {
                        &self.stats.rest_requests
                    } else {
                        &self.stats.unencodable
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// USD-M: the user-data stream's turn (REST answers, events).
    fn user_data(&mut self, now: Nanos) {
        let Some(ud) = self.usdm.as_mut() else {
            return;
        };
        let ev = ud.turn(
            self.poll.registry(),
            now,
            &self.dec,
            &mut self.gate,
            &self.stats,
        );
        match ev {
            UserEvent::Opened => {
                self.stats.user_data.store(1, Ordering::Relaxed);
                self.gate.set_user_data(true, now);
                if self.phase == Phase::Subscribe {
                    self.ready(now);
                }
            }
            UserEvent::Lost => {
                self.stats.user_data.store(0, Ordering::Relaxed);
                self.gate.set_user_data(false, now);
            }
            UserEvent::None => {}
        }
    }

    /// Gate reports → strategy rings (status to all, one log line each).
    fn deliver(&mut self) {
        while let Some(r) = self.gate.poll_report() {
            let id = r.client_id.as_bytes();
            let to_all = r.kind == ReportKind::Status || id.is_empty();
            if r.kind == ReportKind::Ack {
                self.latency.acked(&r.client_id, self.read_at);
            }
            if r.kind == ReportKind::Status {
                tracing::info!(status = ?r.status, until = r.until, "trading session status");
            }
            for s in &mut self.strategies {
                if to_all || id.starts_with(&s.prefix[..s.prefix_len]) {
                    if s.reports.push(r).is_err() {
                        self.stats.reports_dropped.fetch_add(1, Ordering::Relaxed);
                    }
                    if !to_all {
                        break;
                    }
                }
            }
        }
    }
}

/// Sends one text frame; `false` when the connection failed.
fn send(link: &mut Link, bytes: &[u8]) -> bool {
    let Some(ws) = link.ws.as_mut() else {
        return false;
    };
    ws.send_utf8(bytes).is_ok()
}
