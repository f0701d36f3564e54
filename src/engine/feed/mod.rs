//! The feed thread: a thin mio loop joining each connection's three parts —
//! its [`Link`] (the socket's lifecycle), its venue [`Session`] (the
//! protocol, sans-IO) and its [`Supervisor`] (backoff, intensity, staleness,
//! rotation, sans-IO) — to the books and the fan-out.
//!
//! Per readiness event: read every complete frame, stamp its receive time,
//! and run the venue session's per-message path (decode → sync → book →
//! rings). Then the loop sleeps until the earliest deadline any part
//! reports (`next_deadline`: a supervisor's timer, a session's
//! `poll_timeout`, a snapshot retry, an instrument's staleness, the
//! counters) and does what is due (`tick`): timers, paced texts, REST
//! snapshot requests through the weight limiter, consumer repair.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mio::{Events, Poll, Token, Waker};

use super::limits::TokenBucket;
use super::link::Link;
use super::plan::plan_connections;
use super::snapshots::SnapshotRetry;
use super::supervisor::{SessionState, Supervisor, SupervisorTimers};
use super::worker::{Worker, WorkerTables};
use super::{EngineCounters, EngineReport, InstrumentReport};
use crate::book::BookRead;
use crate::config::EngineConfig;
use crate::ring::{BookState, EventBatch, FanOut, Publish};
use crate::types::{Clock, Event, MonotonicClock, Nanos, Registry, Stamp, StatusCode};
use crate::venue::{
    DiffOutcome, FrameKind, GapPolicy, InstrumentBook, Session, books_for, publish_status,
};

mod books;
mod conn;
mod record;
mod timers;

const WAKER: Token = Token(usize::MAX);
/// How often the loop services slow consumers and retries what a budget
/// held back, while there is such work; otherwise it sleeps until the next
/// deadline.
const TICK: Nanos = 2_000_000;
/// The longest the loop sleeps with nothing due (a safety net: every timer
/// reports its deadline).
const MAX_SLEEP: Nanos = 100_000_000;
/// How often counters are refreshed from the books.
const COUNTER_REFRESH: Nanos = 100_000_000;
/// Log lines about failed snapshots, at most (a burst of as many).
const SNAPSHOT_LOGS_PER_SEC: u64 = 10;

/// Where events go: the fan-out, plus a latency probe after each batch when on.
struct Out {
    fanout: FanOut,
    probe: bool,
    clock: MonotonicClock,
}

impl Publish for Out {
    #[inline]
    fn publish<B: BookRead>(&mut self, batch: &EventBatch, state: BookState<'_, B>, now: Nanos) {
        if !self.probe {
            self.fanout.publish(batch, state, now);
            return;
        }
        let decoded = self.clock.now();
        let stamp = match &state {
            BookState::Live(_, s) | BookState::Resyncing(s) => *s,
        };
        self.fanout.publish(batch, state, now);
        let pushed = self.clock.now();
        let probe = Stamp {
            recv_ns: now,
            ..stamp
        };
        self.fanout.push_diagnostic(Event::status(
            probe,
            StatusCode::Probe,
            decoded as i64,
            pushed as i64,
            false,
        ));
    }
}

/// Per venue: its REST budget.
struct VenueState {
    rest: TokenBucket,
}

/// One WebSocket connection: its venue's protocol session and its supervision.
struct Conn {
    venue: usize,
    /// The venue's protocol (URL, subscriptions, the per-message path).
    protocol: Session,
    /// Supervision: backoff, intensity, staleness, rotation.
    supervisor: Supervisor,
    /// The socket's lifecycle.
    link: Link,
    /// The venue announced a shutdown: reconnect (planned).
    shutdown_announced: bool,
    /// Binary frames received since the connection opened (the first one is
    /// reported with an `Unsupported` status).
    binaries: u64,
}

impl Conn {
    fn is_open(&self) -> bool {
        self.link.is_open()
    }
}

pub(super) struct FeedLoop {
    cfg: Arc<EngineConfig>,
    registry: Arc<Registry>,
    clock: MonotonicClock,
    counters: Arc<EngineCounters>,
    stop: Arc<AtomicBool>,
    poll: Poll,
    events: Events,
    waker: Arc<Waker>,
    conns: Vec<Conn>,
    venues: Vec<VenueState>,
    books: Vec<InstrumentBook>,
    inst_conn: Vec<usize>,
    inst_venue: Vec<usize>,
    out: Out,
    /// Staging for the events the loop itself makes (statuses, resyncs).
    batch: EventBatch,
    /// A control message on its way out.
    text: String,
    worker: Worker,
    next_tick: Nanos,
    next_refresh: Nanos,
    scan_snapshots: bool,
    /// Per-instrument snapshot backoff: every request passes through it.
    retry: SnapshotRetry,
    /// When an instrument waiting in `retry` may ask again (MAX: none).
    snapshot_wake: Nanos,
    /// When an instrument may next be found stale (MAX: none can be).
    stale_wake: Nanos,
    /// When a snapshot awaited on a stream is next due or released (MAX:
    /// none awaited; a sent subscribe brings it to now).
    stream_wake: Nanos,
    /// Rate of log lines about failed snapshots.
    snapshot_log: TokenBucket,
    /// Failed-snapshot log lines left out since the last one written.
    snapshot_logs_suppressed: u64,
    /// Log lines about bad frames are rate limited: at most one per second.
    next_error_log: Nanos,
    /// The most recent distinct connection errors (for the report).
    errors: Vec<String>,
    /// The recording hand-over, when recording (see `record.rs`).
    rec: Option<crate::record::RecordTap>,
}

impl FeedLoop {
    pub(super) fn new(
        cfg: Arc<EngineConfig>,
        registry: Arc<Registry>,
        fanout: FanOut,
        clock: MonotonicClock,
        counters: Arc<EngineCounters>,
        stop: Arc<AtomicBool>,
        probe: bool,
    ) -> Result<FeedLoop, super::EngineError> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let now = clock.now();
        let e = &cfg.engine;
        let ms = |v: u64| v.saturating_mul(1_000_000);
        let mut venues = Vec::new();
        let mut agents = Vec::new();
        let mut tls_configs = Vec::new();
        for v in &cfg.venues {
            tls_configs.push(if v.ws.tls {
                Some(crate::socket::client_config(
                    v.ca_pem.as_deref().unwrap_or(&[]),
                )?)
            } else {
                None
            });
            agents.push(super::worker::agent(
                v.ca_pem.as_deref(),
                Duration::from_millis(e.connect_timeout_ms.max(10_000)),
            ));
            let weight = u64::from(v.rest_weight_per_minute);
            venues.push(VenueState {
                // Capacity one minute's budget, refilled continuously.
                rest: TokenBucket::new(weight, (weight / 60).max(1), now),
            });
        }
        let mut conns: Vec<Conn> = Vec::new();
        let mut inst_conn = vec![usize::MAX; registry.len()];
        let mut inst_venue = vec![usize::MAX; registry.len()];
        let mut snapshot_urls = vec![String::new(); registry.len()];
        for plan in plan_connections(&cfg, &registry) {
            let vi = cfg
                .venues
                .iter()
                .position(|v| v.venue == plan.venue)
                .unwrap_or(0);
            let v = &cfg.venues[vi];
            let protocol =
                Session::new(&plan).ok_or(super::EngineError::Unsupported(plan.venue))?;
            let idx = conns.len();
            for &inst in protocol.instruments() {
                inst_conn[inst.index()] = idx;
                inst_venue[inst.index()] = vi;
                if let Some(url) = protocol.snapshot_url(inst) {
                    url.clone_into(&mut snapshot_urls[inst.index()]);
                }
            }
            let timers = SupervisorTimers {
                connect_timeout: ms(e.connect_timeout_ms),
                stale_timeout: ms(e.stale_timeout_ms),
                max_age: v.max_connection_age.as_nanos() as Nanos,
                backoff_initial: ms(e.backoff_initial_ms),
                backoff_max: ms(e.backoff_max_ms),
                restart_limit: e.restart_limit,
                restart_window: ms(e.restart_window_ms),
                down_cooldown: ms(e.down_cooldown_ms),
            };
            conns.push(Conn {
                venue: vi,
                protocol,
                supervisor: Supervisor::new(timers, 0x9E37 ^ idx as u64, now),
                link: Link::new(&v.ws, tls_configs[vi].clone(), e.max_message_bytes),
                shutdown_announced: false,
                binaries: 0,
            });
        }
        let books = books_for(&registry, e.book_capacity, GapPolicy::Resync);
        let registry_len = registry.len();
        let retry = SnapshotRetry::new(
            registry_len,
            ms(e.backoff_initial_ms),
            ms(e.backoff_max_ms),
            0x5EED ^ now,
        );
        let hosts = conns.iter().map(|c| c.link.host_port()).collect();
        let worker = Worker::spawn(
            WorkerTables {
                snapshot_urls,
                hosts,
                agents,
            },
            waker.clone(),
        )?;
        Ok(FeedLoop {
            events: Events::with_capacity(256),
            out: Out {
                fanout,
                probe,
                clock: clock.clone(),
            },
            batch: EventBatch::with_capacity(16),
            text: String::with_capacity(4096),
            cfg,
            registry,
            clock,
            counters,
            stop,
            poll,
            waker,
            conns,
            venues,
            books,
            inst_conn,
            inst_venue,
            worker,
            next_tick: now,
            next_refresh: now,
            scan_snapshots: false,
            retry,
            snapshot_wake: Nanos::MAX,
            stale_wake: now,
            stream_wake: Nanos::MAX,
            snapshot_log: TokenBucket::new(SNAPSHOT_LOGS_PER_SEC, SNAPSHOT_LOGS_PER_SEC, now),
            snapshot_logs_suppressed: 0,
            next_error_log: 0,
            errors: Vec::new(),
            rec: None,
        })
    }

    pub(super) fn waker(&self) -> Arc<Waker> {
        self.waker.clone()
    }

    pub(super) fn run(&mut self) {
        crate::sys::pin_current_thread(self.cfg.engine.feed_core, "feed");
        tracing::info!(
            connections = self.conns.len(),
            instruments = self.books.len(),
            "feed thread started"
        );
        let busy = self.cfg.engine.busy_poll;
        while !self.stop.load(Ordering::Relaxed) {
            let now = self.clock.now();
            let timeout = if busy {
                Duration::ZERO
            } else {
                Duration::from_nanos(self.next_tick.saturating_sub(now).min(TICK))
            };
            if let Err(e) = self.poll.poll(&mut self.events, Some(timeout)) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    tracing::error!(error = %e, "poll failed; feed thread stops");
                    break;
                }
            }
            let events = std::mem::replace(&mut self.events, Events::with_capacity(0));
            for ev in events.iter() {
                if ev.token() != WAKER {
                    self.on_ready(ev.token().0);
                }
            }
            self.events = events;
            self.drain_worker();
            let now = self.clock.now();
            if self.scan_snapshots {
                self.next_tick = now;
            }
            if now >= self.next_tick {
                self.tick(now);
            }
        }
        self.close_all();
        tracing::info!("feed thread stopped");
    }

    pub(super) fn into_report(mut self) -> EngineReport {
        self.refresh_counters();
        self.worker.shutdown();
        EngineReport {
            counters: self.counters.snapshot(),
            instruments: self
                .books
                .iter()
                .map(|b| InstrumentReport {
                    symbol: self.registry.get(b.id).symbol.to_string(),
                    sync: b.sync.stats(),
                    synced: b.sync.is_synced(),
                })
                .collect(),
            errors: std::mem::take(&mut self.errors),
            decode: self.conns.iter().fold(
                Default::default(),
                |acc: crate::venue::DecodeStats, c| {
                    let s = c.protocol.decode_stats();
                    crate::venue::DecodeStats {
                        fast: acc.fast + s.fast,
                        fallback: acc.fallback + s.fallback,
                    }
                },
            ),
        }
    }

    /// A connection's socket is ready: handshake, then read every frame.
    fn on_ready(&mut self, idx: usize) {
        let now = self.clock.now();
        let Some(conn) = self.conns.get_mut(idx) else {
            return;
        };
        let Some(ws) = conn.link.ws.as_mut() else {
            return;
        };
        if !ws.is_open() {
            match ws.drive_handshake() {
                Ok(true) => self.on_open(idx, now),
                Ok(false) => return,
                Err(e) => return self.fail(idx, now, &e.to_string(), false),
            }
        }
        let FeedLoop {
            conns,
            books,
            out,
            batch,
            counters,
            registry,
            clock,
            scan_snapshots,
            next_error_log,
            rec,
            cfg,
            ..
        } = self;
        let rec_venue = cfg.venues[conns[idx].venue].venue;
        let Conn {
            link,
            supervisor,
            protocol,
            shutdown_announced,
            binaries,
            ..
        } = &mut conns[idx];
        let Some(ws) = link.ws.as_mut() else {
            return;
        };
        let mut shutdown = false;
        let read = ws.read_available(|text| {
            let recv = clock.now();
            supervisor.frame(recv);
            counters.messages.incr();
            if let Some(r) = rec.as_mut() {
                r.record(record::frame_header(rec_venue, idx, recv), text);
            }
            match protocol.handle_text(text, recv, registry, books, out) {
                Ok(FrameKind::Depth(_, outcome)) => match outcome {
                    DiffOutcome::Applied | DiffOutcome::Stale | DiffOutcome::Waiting => {}
                    DiffOutcome::Buffered => *scan_snapshots = true,
                    DiffOutcome::Gap { .. } => {
                        counters.gaps.incr();
                        *scan_snapshots = true;
                    }
                    DiffOutcome::ChecksumMismatch { .. } => *scan_snapshots = true,
                    DiffOutcome::BadUpdate(e) => {
                        *scan_snapshots = true;
                        if recv >= *next_error_log {
                            *next_error_log = recv + 1_000_000_000;
                            tracing::warn!(error = %e, "update refused by the book; instrument resynced");
                        }
                    }
                },
                Ok(FrameKind::ServerShutdown) => shutdown = true,
                Ok(FrameKind::VenueError(code)) => {
                    // A reply to this connection's requests: every instrument
                    // it carries hears of it. Not a market-data path.
                    counters.venue_errors.incr();
                    for &i in protocol.instruments() {
                        publish_status(
                            &books[i.index()],
                            StatusCode::VenueError,
                            code,
                            idx as i64,
                            recv,
                            batch,
                            out,
                        );
                    }
                    if recv >= *next_error_log {
                        *next_error_log = recv + 1_000_000_000;
                        tracing::warn!(conn = idx, code, "venue error reply (further errors this second are only counted)");
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    counters.decode_errors.incr();
                    protocol.handle_undecodable(text, recv, registry, books, out);
                    // A lost diff may have resynced its book.
                    *scan_snapshots = true;
                    if recv >= *next_error_log {
                        *next_error_log = recv + 1_000_000_000;
                        tracing::warn!(error = %e, "frame dropped: cannot decode (further errors this second are only counted)");
                    }
                }
            }
            true
        });
        if shutdown {
            *shutdown_announced = true;
        }
        match read {
            Ok(pass) => {
                // Pings and pongs prove the connection alive too (a quiet
                // market is not a dead socket); per-instrument staleness
                // still needs data.
                if pass.pings + pass.pongs > 0 {
                    supervisor.frame(clock.now());
                }
                if pass.binaries > 0 {
                    let first = *binaries == 0;
                    *binaries += u64::from(pass.binaries);
                    counters.unsupported_frames.add(u64::from(pass.binaries));
                    if first {
                        tracing::warn!(
                            conn = idx,
                            count = *binaries,
                            "binary WebSocket frames received and dropped (reported once per connection, every one counted)"
                        );
                        let count = *binaries as i64;
                        self.status_all(idx, StatusCode::Unsupported, count, now);
                    }
                }
            }
            Err(e) => return self.fail(idx, now, &e.to_string(), false),
        }
        self.after_frames(idx, now);
    }

    /// What the frames just read asked for is due now, not at the next
    /// timer: a resubscribe or ping the session wants to send, a shutdown
    /// the venue announced, the Live state once every book synced.
    fn after_frames(&mut self, idx: usize, now: Nanos) {
        let conn = &self.conns[idx];
        if conn.shutdown_announced {
            self.next_tick = now;
        }
        if let Some(t) = conn.protocol.poll_timeout(now) {
            self.next_tick = self.next_tick.min(t);
        }
        if self.out.fanout.has_dirty() {
            self.next_tick = self.next_tick.min(now.saturating_add(TICK));
        }
        if conn.supervisor.state() == SessionState::Syncing {
            self.check_synced(idx, now);
        }
    }

    fn refresh_counters(&mut self) {
        let (mut resyncs, mut crossed) = (0, 0);
        let mut snapshots = 0;
        for b in &self.books {
            let stats = b.sync.stats();
            resyncs += stats.resyncs;
            crossed += stats.crossed;
            snapshots += stats.snapshots;
        }
        // Every venue's snapshots, by REST or on the stream.
        self.counters.snapshots.set(snapshots);
        for c in &self.conns {
            crossed += c.protocol.stats().crossed;
        }
        self.counters.resyncs.set(resyncs);
        self.counters.crossed.set(crossed);
        self.counters.drops.set(self.out.fanout.dropped());
    }

    fn count_open(&self) {
        let open = self.conns.iter().filter(|c| c.is_open()).count();
        self.counters.open_connections.set(open as u64);
    }

    fn close_all(&mut self) {
        for conn in &mut self.conns {
            conn.link.close(self.poll.registry());
        }
        self.counters.open_connections.set(0);
    }
}
