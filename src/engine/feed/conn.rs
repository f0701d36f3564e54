//! The feed loop's connection lifecycle: a connection opened, failed or
//! down, a (re)connect started, and the status events each instrument on
//! it gets.

use std::net::SocketAddr;

use mio::{Interest, Token};

use super::FeedLoop;
use crate::engine::supervisor::SessionState;
use crate::engine::worker::Job;
use crate::types::{Nanos, StatusCode};
use crate::venue::publish_status;

impl FeedLoop {
    pub(super) fn on_open(&mut self, idx: usize, now: Nanos) {
        let conn = &mut self.conns[idx];
        let (state, reconnect) = conn.supervisor.opened(now);
        conn.binaries = 0;
        if let Some(ws) = conn.link.ws.as_mut() {
            if let Some(t) = ws.transport_mut() {
                // Only readability matters now; writes are flushed as they are made.
                let _ = self.poll.registry().reregister(
                    t.tcp_mut(),
                    Token(idx),
                    Interest::READABLE | Interest::WRITABLE,
                );
            }
        }
        tracing::info!(conn = idx, url = %conn.protocol.url(), reconnect, "connection open");
        self.count_open();
        if reconnect {
            self.counters.reconnects.incr();
            self.status_all(idx, StatusCode::Reconnected, 0, now);
        }
        self.session_changed(idx, state, now, "open");
        if self.rec.is_some() {
            let url = self.conns[idx].protocol.url().to_owned();
            self.rec_conn(idx, crate::record::Kind::Connect, url.as_bytes(), now);
        }
        self.conns[idx].protocol.handle_open(now, &mut self.books);
        self.scan_snapshots = true;
    }

    /// Publishes one status event for every instrument of a connection.
    pub(super) fn status_all(&mut self, idx: usize, code: StatusCode, a: i64, now: Nanos) {
        let FeedLoop {
            conns,
            books,
            out,
            batch,
            ..
        } = self;
        for &inst in conns[idx].protocol.instruments() {
            publish_status(&books[inst.index()], code, a, idx as i64, now, batch, out);
        }
    }

    pub(super) fn session_changed(
        &mut self,
        idx: usize,
        state: SessionState,
        now: Nanos,
        why: &str,
    ) {
        let venue = self.cfg.venues[self.conns[idx].venue].venue;
        tracing::info!(conn = idx, %venue, state = state.name(), reason = why, "session state");
        self.status_all(idx, StatusCode::Session, state as i64, now);
    }

    /// Tears a connection down, resyncs its books, and schedules a restart
    /// (or puts the venue down when it restarts too often).
    pub(super) fn fail(&mut self, idx: usize, now: Nanos, reason: &str, planned: bool) {
        let conn = &mut self.conns[idx];
        // The WebSocket may already report closed; the session knows it was up.
        let was_open = matches!(
            conn.supervisor.state(),
            SessionState::Syncing | SessionState::Live | SessionState::Stale
        );
        conn.link.close(self.poll.registry());
        conn.shutdown_announced = false;
        if planned {
            tracing::info!(conn = idx, reason, "reconnecting (planned)");
        } else {
            tracing::warn!(conn = idx, reason, "connection failed");
            self.counters.failures.incr();
            // Failure path only: keep the last few distinct reasons for the report.
            if !self.errors.iter().any(|e| e == reason) {
                if self.errors.len() == 16 {
                    self.errors.remove(0);
                }
                self.errors.push(reason.to_owned());
            }
        }
        if was_open {
            self.status_all(idx, StatusCode::Disconnected, 0, now);
        }
        self.rec_conn(idx, crate::record::Kind::Disconnect, reason.as_bytes(), now);
        // No ghost levels: the venue's session resets what the dead
        // connection fed (see `Session::handle_closed`).
        let FeedLoop {
            conns,
            books,
            out,
            batch,
            ..
        } = self;
        conns[idx].protocol.handle_closed(now, books, batch, out);
        self.count_open();
        let state = self.conns[idx].supervisor.failed(now, planned);
        let retry = self.conns[idx].supervisor.next_deadline();
        self.next_tick = self.next_tick.min(retry);
        self.session_changed(idx, state, now, reason);
        if state == SessionState::Down {
            self.connection_down(idx, now);
        }
    }

    /// A connection exceeded the restart intensity and is down for the
    /// cool-down: `VenueDown` for its instruments, a counter, one log line.
    pub(super) fn connection_down(&mut self, idx: usize, now: Nanos) {
        let venue = self.cfg.venues[self.conns[idx].venue].venue;
        tracing::error!(
            conn = idx,
            %venue,
            restarts = self.cfg.engine.restart_limit,
            window_ms = self.cfg.engine.restart_window_ms,
            cooldown_ms = self.cfg.engine.down_cooldown_ms,
            "restart intensity exceeded: connection down"
        );
        self.counters.venue_down.incr();
        self.status_all(idx, StatusCode::VenueDown, 0, now);
    }

    pub(super) fn start_connect(&mut self, idx: usize, now: Nanos) {
        let state = self.conns[idx].supervisor.connecting(now);
        self.session_changed(idx, state, now, "connecting");
        let conn = &mut self.conns[idx];
        match conn.link.address() {
            Some(addr) => self.connect_transport(idx, addr, now),
            None => {
                conn.link.resolving = true;
                if !self.worker.submit(Job::Resolve { conn: idx }) {
                    self.fail(idx, now, "helper queue full", false);
                }
            }
        }
    }

    pub(super) fn connect_transport(&mut self, idx: usize, addr: SocketAddr, now: Nanos) {
        let conn = &mut self.conns[idx];
        let url = conn.protocol.url();
        if let Err(e) = conn
            .link
            .connect(addr, url, self.poll.registry(), Token(idx))
        {
            self.fail(idx, now, &e, false);
        }
    }
}
