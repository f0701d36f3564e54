//! The feed loop's timers: what is due (`tick`), when the loop must wake
//! next (`next_deadline`), and when a connection's books are all synced.

use super::{COUNTER_REFRESH, FeedLoop, MAX_SLEEP, TICK, record};
use crate::engine::supervisor::{Due, SessionState};
use crate::types::Nanos;

impl FeedLoop {
    pub(super) fn tick(&mut self, now: Nanos) {
        for idx in 0..self.conns.len() {
            match self.conns[idx].supervisor.check(now) {
                Some(Due::Connect) => self.start_connect(idx, now),
                Some(Due::ConnectTimeout) => self.fail(idx, now, "connect timeout", false),
                Some(Due::Stale) => {
                    self.session_changed(
                        idx,
                        SessionState::Stale,
                        now,
                        "no frame within the timeout",
                    );
                    self.fail(idx, now, "stale: no frame within the timeout", false);
                }
                Some(Due::Rotate) => self.fail(idx, now, "connection age limit", true),
                None => {}
            }
            let conn = &mut self.conns[idx];
            if conn.shutdown_announced {
                self.fail(idx, now, "venue announced a server shutdown", true);
                continue;
            }
            if let Some(ws) = conn.link.ws.as_mut().filter(|w| w.is_open()) {
                // Paced by the session: a few at most per tick.
                let mut sent = 0;
                let mut failed = None;
                while sent < 8
                    && conn
                        .protocol
                        .poll_transmit(now, &mut self.books, &mut self.text)
                {
                    sent += 1;
                    if let Some(r) = self.rec.as_mut() {
                        let h = record::conn_header(
                            self.cfg.venues[conn.venue].venue,
                            idx,
                            crate::record::Kind::Subscribe,
                            now,
                        );
                        r.record(h, self.text.as_bytes());
                    }
                    if let Err(e) = ws.send_text(&self.text) {
                        failed = Some(e.to_string());
                        break;
                    }
                }
                if sent > 0 {
                    // A subscribe may have asked for a snapshot: start its clock.
                    self.stream_wake = now;
                }
                if let Some(e) = failed {
                    self.fail(idx, now, &e, false);
                    continue;
                }
                if ws.wants_write() {
                    if let Err(e) = ws.flush() {
                        self.fail(idx, now, &e.to_string(), false);
                        continue;
                    }
                }
            }
            self.check_synced(idx, now);
        }
        if now >= self.stale_wake {
            self.check_instrument_staleness(now);
        }
        if now >= self.stream_wake {
            self.check_stream_snapshots(now);
        }
        if self.scan_snapshots || now >= self.snapshot_wake {
            self.request_snapshots(now);
        }
        if self.out.fanout.has_dirty() {
            let books = &self.books;
            self.out
                .fanout
                .service(now, |inst| books.get(inst.index()).map(|b| b.state(now)));
        }
        if now >= self.next_refresh {
            self.refresh_counters();
            self.next_refresh = now + COUNTER_REFRESH;
        }
        self.next_tick = self.next_deadline(now);
    }

    /// The earliest time anything is due: a supervisor's timer, a session's
    /// next message, a snapshot retry, an instrument's staleness, the
    /// counters; every `TICK` while slow consumers wait for repair or a
    /// budget held a snapshot request back.
    pub(super) fn next_deadline(&self, now: Nanos) -> Nanos {
        let mut next = now
            .saturating_add(MAX_SLEEP)
            .min(self.next_refresh)
            .min(self.snapshot_wake)
            .min(self.stale_wake)
            .min(self.stream_wake);
        for c in &self.conns {
            next = next.min(c.supervisor.next_deadline());
            if c.is_open() {
                if let Some(t) = c.protocol.poll_timeout(now) {
                    next = next.min(t);
                }
            }
        }
        if self.scan_snapshots || self.out.fanout.has_dirty() {
            next = next.min(now.saturating_add(TICK));
        }
        next.max(now)
    }

    pub(super) fn check_synced(&mut self, idx: usize, now: Nanos) {
        let conn = &self.conns[idx];
        let state = conn.supervisor.state();
        if !matches!(state, SessionState::Syncing | SessionState::Live) {
            return;
        }
        let all = conn
            .protocol
            .instruments()
            .iter()
            .all(|i| self.books[i.index()].sync.is_synced());
        let change = if all {
            self.conns[idx].supervisor.synced(now)
        } else {
            self.conns[idx].supervisor.unsynced(now)
        };
        if let Some(state) = change {
            self.session_changed(
                idx,
                state,
                now,
                if all {
                    "all books synced"
                } else {
                    "a book is resyncing"
                },
            );
        }
    }
}
