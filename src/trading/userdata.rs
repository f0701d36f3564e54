//! USD-M's user-data stream: the second connection of the order-entry
//! thread, on the same mio loop and with the same [`Link`] and
//! [`Supervisor`] as the trading connection, plus the REST helper
//! ([`RestPort`]) that gets its listen key, cancels all and arms the
//! dead-man switch.
//!
//! Order on every (re)connect of the trading connection: log on → a listen
//! key (`POST`, on the helper) → `/ws/<listenKey>` open → the gate queries
//! open orders when the stream had been up before (events may have been
//! missed) and every order in doubt → new orders are accepted. A stream
//! that drops alone stops new orders (`not_ready`) until it is back and
//! reconciled; requests already accepted go on over the trading connection.
//!
//! `ORDER_TRADE_UPDATE` events go through the same decoder and the same
//! [`Gate::handle_update`] as the replies; the order table de-duplicates
//! them against the replies by cumulative quantity and trade id (the venue
//! order id names the order), so a fill seen on both channels counts once.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use mio::{Registry, Token};

use super::TradingStats;
use super::rest::{RestDone, RestJob, RestPort};
use crate::engine::link::Link;
use crate::engine::supervisor::{Due, Supervisor, SupervisorTimers};
use crate::orders::{Gate, MAX_REPLY_LIMITS, ReplyMeta};
use crate::types::{InstrumentId, Nanos};
use crate::venue::binance::orders::{Decoder, Inbound};

/// The user-data connection's mio token (the trading connection is 0).
pub(crate) const USER_TOKEN: Token = Token(1);

/// Where the user-data stream is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Not wanted (the trading connection is not logged on).
    Idle,
    /// A listen key was asked for.
    WaitKey,
    /// Backing off before asking again.
    Retry,
    /// TCP / TLS / WebSocket handshake.
    Handshake,
    /// Events flow.
    Open,
}

/// What a turn of the user-data stream changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UserEvent {
    /// Nothing new.
    None,
    /// The stream is open: orders may be accepted (after reconciliation).
    Opened,
    /// The stream was lost: refuse new orders until it is back.
    Lost,
}

/// The user-data stream and the REST helper.
pub(crate) struct UserData {
    link: Link,
    sup: Supervisor,
    rest: RestPort,
    /// `ws[s]://host[:port]/ws/`.
    base: String,
    /// `base` + the listen key (rebuilt per connect, off the order path).
    url: String,
    addr: SocketAddr,
    step: Step,
    instruments: Vec<InstrumentId>,
}

impl UserData {
    /// A stream to `base` (ending in `/ws/`) at `addr`; idle until
    /// [`UserData::start`].
    pub(crate) fn new(
        link: Link,
        timers: SupervisorTimers,
        rest: RestPort,
        base: String,
        addr: SocketAddr,
        instruments: Vec<InstrumentId>,
        now: Nanos,
    ) -> UserData {
        UserData {
            link,
            sup: Supervisor::new(timers, now ^ 0x5eed, now),
            rest,
            url: String::with_capacity(base.len() + 128),
            base,
            addr,
            step: Step::Idle,
            instruments,
        }
    }

    /// (Re)starts: a fresh listen key, then the stream.
    pub(crate) fn start(&mut self, registry: &Registry, now: Nanos, offset_ns: i64) {
        self.link.close(registry);
        self.rest.set_offset(offset_ns);
        self.ask_key(now);
    }

    /// The trading connection is down: close the stream too.
    pub(crate) fn stop(&mut self, registry: &Registry) {
        self.link.close(registry);
        self.step = Step::Idle;
    }

    fn ask_key(&mut self, now: Nanos) {
        if self.rest.push(RestJob::ListenKey) {
            self.step = Step::WaitKey;
        } else {
            self.sup.failed(now, false);
            self.step = Step::Retry;
        }
    }

    /// Cancel-all over REST for the gate's request `req`; `false` when the
    /// helper's ring is full.
    pub(crate) fn cancel_all(&mut self, req: u64, instrument: InstrumentId) -> bool {
        self.rest.push(RestJob::CancelAll { req, instrument })
    }

    /// Arms (`ms > 0`) or disarms (0) the venue's dead-man switch
    /// (`countdownCancelAll`) on every instrument.
    pub(crate) fn dead_man(&mut self, ms: u32) {
        for i in 0..self.instruments.len() {
            let instrument = self.instruments[i];
            self.rest.push(RestJob::Countdown { instrument, ms });
        }
    }

    /// When the stream's supervisor next has something due.
    pub(crate) fn next_deadline(&self) -> Nanos {
        match self.step {
            Step::Retry | Step::Handshake | Step::Open => self.sup.next_deadline(),
            Step::Idle | Step::WaitKey => Nanos::MAX,
        }
    }

    fn fail(&mut self, registry: &Registry, now: Nanos, why: &str, planned: bool) -> UserEvent {
        let was_open = self.step == Step::Open;
        self.link.close(registry);
        let state = self.sup.failed(now, planned);
        self.step = Step::Retry;
        tracing::info!(reason = why, state = state.name(), "user-data stream down");
        if was_open {
            UserEvent::Lost
        } else {
            UserEvent::None
        }
    }

    fn connect(&mut self, registry: &Registry, now: Nanos, key: &str) -> UserEvent {
        self.url.clear();
        self.url.push_str(&self.base);
        self.url.push_str(key);
        self.sup.connecting(now);
        match self
            .link
            .connect(self.addr, &self.url, registry, USER_TOKEN)
        {
            Ok(()) => {
                self.step = Step::Handshake;
                UserEvent::None
            }
            Err(e) => {
                tracing::warn!(error = %e, "user-data stream: connect failed");
                self.fail(registry, now, "connect failed", false)
            }
        }
    }

    /// One loop turn: REST answers, timers, handshake, events.
    pub(crate) fn turn(
        &mut self,
        registry: &Registry,
        now: Nanos,
        dec: &Decoder,
        gate: &mut Gate,
        stats: &TradingStats,
    ) -> UserEvent {
        let mut out = UserEvent::None;
        while let Some(done) = self.rest.pop() {
            let ev = self.answer(registry, now, done, gate, stats);
            if ev != UserEvent::None {
                out = ev;
            }
        }
        if self.step != Step::Idle {
            match self.sup.check(now) {
                Some(Due::Connect) if self.step == Step::Retry => self.ask_key(now),
                Some(Due::ConnectTimeout | Due::Stale) => {
                    out = self.fail(registry, now, "timeout", false);
                }
                Some(Due::Rotate) => out = self.fail(registry, now, "rotation", true),
                _ => {}
            }
        }
        if self.step == Step::Handshake
            && let Some(ws) = self.link.ws.as_mut()
        {
            match ws.drive_handshake() {
                Ok(true) => {
                    self.sup.opened(now);
                    self.sup.synced(now);
                    self.step = Step::Open;
                    tracing::info!("user-data stream open");
                    out = UserEvent::Opened;
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "user-data stream: handshake failed");
                    out = self.fail(registry, now, "handshake failed", false);
                }
            }
        }
        if self.step == Step::Open && self.read(now, dec, gate, stats) {
            out = self.fail(registry, now, "closed", false);
        }
        out
    }

    /// Reads every waiting event; `true` when the stream ended or the
    /// listen key expired.
    fn read(&mut self, now: Nanos, dec: &Decoder, gate: &mut Gate, stats: &TradingStats) -> bool {
        let UserData { link, sup, .. } = self;
        let Some(ws) = link.ws.as_mut() else {
            return true;
        };
        let mut expired = false;
        let result = ws.read_available(|frame| {
            sup.frame(now);
            stats.frames.fetch_add(1, Ordering::Relaxed);
            match dec.decode(frame) {
                Ok(Inbound::Update(v)) => gate.handle_update(&v, now),
                Ok(_) => {
                    if contains(frame, b"\"listenKeyExpired\"") {
                        expired = true;
                        return false;
                    }
                }
                Err(_) => {
                    if contains(frame, b"\"listenKeyExpired\"") {
                        expired = true;
                        return false;
                    }
                    stats.decode_errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            true
        });
        let _ = ws.flush();
        expired || result.is_err()
    }

    fn answer(
        &mut self,
        registry: &Registry,
        now: Nanos,
        done: RestDone,
        gate: &mut Gate,
        stats: &TradingStats,
    ) -> UserEvent {
        match done {
            RestDone::ListenKey(Ok(key)) if self.step == Step::WaitKey => {
                self.connect(registry, now, key.as_str())
            }
            RestDone::ListenKey(Ok(_)) => UserEvent::None,
            RestDone::ListenKey(Err(_)) => {
                if self.step == Step::WaitKey {
                    self.sup.failed(now, false);
                    self.step = Step::Retry;
                }
                UserEvent::None
            }
            RestDone::KeyLost if self.step != Step::Idle => {
                self.fail(registry, now, "listen key lost", true)
            }
            RestDone::KeyLost => UserEvent::None,
            RestDone::CancelAll {
                req,
                reply,
                status,
                retry_after,
            } => {
                let meta = ReplyMeta {
                    status,
                    retry_after,
                    limits: [None; MAX_REPLY_LIMITS],
                };
                gate.handle_reply(req, &reply, &meta, now);
                UserEvent::None
            }
            RestDone::Countdown { ms, status, .. } => {
                if status == 200 && ms > 0 {
                    stats.dead_man_armed.fetch_add(1, Ordering::Relaxed);
                }
                UserEvent::None
            }
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
