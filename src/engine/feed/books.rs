//! The books' side of the feed loop: answers from the helper thread (DNS,
//! REST snapshots) and what they do to the books, the per-instrument
//! snapshot retry gate, and the per-instrument staleness check. Nothing
//! here is on the per-message path.

use std::time::Duration;

use super::FeedLoop;
use crate::engine::snapshots::Awaited;
use crate::engine::worker::{Done, FetchError, Job};
use crate::types::{Clock, InstrumentId, Nanos, ResyncReason, SnapshotFailReason, StatusCode};
use crate::venue::profile::SnapshotSource;
use crate::venue::{SnapshotFailure, SnapshotOutcome, profile, publish_resync, publish_status};

impl FeedLoop {
    pub(super) fn drain_worker(&mut self) {
        while let Some(done) = self.worker.poll() {
            let now = self.clock.now();
            match done {
                Done::Resolved { conn, result } => {
                    if !self.conns.get(conn).is_some_and(|c| c.link.resolving) {
                        continue;
                    }
                    match result {
                        Ok(addr) => self.connect_transport(conn, addr, now),
                        Err(e) => self.fail(conn, now, &format!("resolve: {e}"), false),
                    }
                }
                Done::Snapshot { instrument, result } => self.on_snapshot(instrument, result, now),
            }
        }
    }

    pub(super) fn on_snapshot(
        &mut self,
        inst: InstrumentId,
        result: Result<Vec<u8>, FetchError>,
        now: Nanos,
    ) {
        let i = inst.index();
        let conn_open = self.conns[self.inst_conn[i]].is_open();
        let body =
            match result {
                Ok(body) if conn_open => body,
                Ok(_) => {
                    // The connection dropped meanwhile; its reconnect asks again.
                    self.rec_book(inst, "fetch_failed", now);
                    self.books[i].sync.snapshot_failed();
                    return;
                }
                Err(e) => {
                    self.rec_book(inst, "fetch_failed", now);
                    self.books[i].sync.snapshot_failed();
                    if e.reason == SnapshotFailReason::RateLimited {
                        // The whole venue waits, as the venue asked.
                        let wait = e.retry_after.unwrap_or(Duration::from_secs(
                            if e.status == Some(418) { 120 } else { 10 },
                        ));
                        let vi = self.inst_venue[i];
                        self.venues[vi]
                            .rest
                            .pause_until(now + wait.as_nanos() as Nanos);
                    }
                    let status = e.status.map_or(0, i64::from);
                    self.snapshot_failed(inst, e.reason, status, &e.message, now);
                    return;
                }
            };
        self.rec_rest(inst, &body, now);
        let FeedLoop {
            conns,
            books,
            out,
            registry,
            counters,
            ..
        } = self;
        let protocol = &mut conns[self.inst_conn[i]].protocol;
        let failure = match protocol.handle_fetched(&body, now, registry, &mut books[i], out) {
            Ok(SnapshotOutcome::Synced) => {
                self.retry.synced(inst);
                None
            }
            Ok(SnapshotOutcome::Gap { .. }) => {
                // Reported by the sync (Gap status, resync); the next
                // request still waits its turn.
                counters.gaps.incr();
                self.retry.failed(inst, now);
                None
            }
            Ok(SnapshotOutcome::Ignored) => None,
            Ok(SnapshotOutcome::TooOld) => Some((
                SnapshotFailReason::TooOld,
                0,
                "snapshot older than the buffered diffs".to_owned(),
            )),
            Ok(SnapshotOutcome::BadSnapshot(e)) => Some((
                SnapshotFailReason::Refused,
                0,
                format!("snapshot refused by the book: {e}"),
            )),
            Err(e @ SnapshotFailure::Decode(_)) => Some((
                SnapshotFailReason::BadBody,
                0,
                format!("snapshot body unusable: {e}"),
            )),
            Err(e @ SnapshotFailure::Venue(code)) => Some((
                SnapshotFailReason::BadBody,
                code,
                format!("snapshot body unusable: {e}"),
            )),
        };
        if let Some((reason, b, message)) = failure {
            self.snapshot_failed(inst, reason, b, &message, now);
        }
        self.scan_snapshots = true;
    }

    /// A snapshot request of `inst` failed: a `SnapshotFailed` status
    /// (`a` = reason, `b` = HTTP status or venue code), the counter, a
    /// backoff before the instrument asks again, and a log line (at most
    /// `SNAPSHOT_LOGS_PER_SEC` a second; the rest are counted in the next).
    pub(super) fn snapshot_failed(
        &mut self,
        inst: InstrumentId,
        reason: SnapshotFailReason,
        b: i64,
        message: &str,
        now: Nanos,
    ) {
        let i = inst.index();
        self.counters.snapshot_failures.incr();
        let retry_ms = self.retry.failed(inst, now) / 1_000_000;
        let FeedLoop {
            books, out, batch, ..
        } = self;
        publish_status(
            &books[i],
            StatusCode::SnapshotFailed,
            reason as i64,
            b,
            now,
            batch,
            out,
        );
        if self.snapshot_log.try_take(1, now) {
            let symbol = self.registry.get(inst).symbol;
            let suppressed = std::mem::take(&mut self.snapshot_logs_suppressed);
            tracing::warn!(
                %symbol,
                reason = reason.name(),
                code = b,
                failures = self.retry.failures(inst),
                retry_ms,
                suppressed,
                error = message,
                "snapshot request failed"
            );
        } else {
            self.snapshot_logs_suppressed += 1;
        }
        self.scan_snapshots = true;
    }

    /// A synced instrument whose `last_msg_ns` (its last progress: a diff
    /// applied, a trade, a BBO) is older than `instrument_stale_ms`, or that
    /// has received only diffs older than its book for that long
    /// (`stale_since`), gets a `Stale` status and a resync. The snapshot
    /// that resync wants goes through
    /// [`SnapshotRetry`](crate::engine::snapshots::SnapshotRetry) like every
    /// other request.
    pub(super) fn check_instrument_staleness(&mut self, now: Nanos) {
        let limit = self
            .cfg
            .engine
            .instrument_stale_ms
            .saturating_mul(1_000_000);
        self.stale_wake = Nanos::MAX;
        if limit == 0 {
            return;
        }
        for i in 0..self.books.len() {
            let st = &self.books[i];
            let open = self.conns[self.inst_conn[i]].is_open();
            // The earliest this book can be found quiet or frozen; one not
            // synced yet is looked at again within a quarter of the limit.
            let due = if open && st.sync.is_synced() {
                let since = st.stale_since.unwrap_or(st.last_msg_ns).min(st.last_msg_ns);
                since.saturating_add(limit).saturating_add(1)
            } else {
                now.saturating_add(limit / 4)
            };
            self.stale_wake = self.stale_wake.min(due);
            // Quiet: nothing moved it on (stale diffs do not count). Frozen:
            // diffs keep coming, all older than the book (its id ran ahead of
            // the stream), however many trades and BBOs arrive meanwhile.
            let quiet = now.saturating_sub(st.last_msg_ns) > limit;
            let frozen = st
                .stale_since
                .is_some_and(|t| now.saturating_sub(t) > limit);
            if !open || !st.sync.is_synced() || !(quiet || frozen) {
                continue;
            }
            let since = if quiet {
                st.last_msg_ns
            } else {
                st.stale_since.unwrap_or(now)
            };
            let quiet_ms = now.saturating_sub(since) / 1_000_000;
            let symbol = self.registry.get(st.id).symbol;
            if frozen {
                tracing::warn!(%symbol, stale_ms = quiet_ms, "instrument receives only diffs older than its book: resyncing");
            } else {
                tracing::warn!(%symbol, quiet_ms, "instrument stale: resyncing");
            }
            self.counters.stale.incr();
            let id = st.id;
            self.rec_book(id, "stale", now);
            let FeedLoop {
                books, out, batch, ..
            } = self;
            let st = &mut books[i];
            publish_status(st, StatusCode::Stale, quiet_ms as i64, 0, now, batch, out);
            publish_resync(st, ResyncReason::Stale, now, batch, out);
            st.last_msg_ns = now;
            self.scan_snapshots = true;
        }
    }

    /// Books of venues whose snapshots come on the stream, with a subscribe
    /// out and no snapshot yet: past `stream_snapshot_timeout_ms` the wait
    /// is a failed snapshot (`SnapshotFailed`, reason `no_snapshot`, the
    /// counter, a log line, a backoff), and once the backoff has passed the
    /// book asks again (its session resubscribes). A refused or lost
    /// subscribe never leaves a book waiting for ever; see
    /// [`SnapshotRetry::awaited`](crate::engine::snapshots::SnapshotRetry::awaited).
    pub(super) fn check_stream_snapshots(&mut self, now: Nanos) {
        let timeout_ms = self.cfg.engine.stream_snapshot_timeout_ms;
        let timeout = timeout_ms.saturating_mul(1_000_000);
        self.stream_wake = Nanos::MAX;
        for i in 0..self.books.len() {
            let st = &self.books[i];
            if profile(st.venue).snapshots != SnapshotSource::Stream {
                continue;
            }
            let open = self.conns[self.inst_conn[i]].is_open();
            let in_flight = open && st.sync.snapshot_in_flight();
            let (inst, synced) = (st.id, st.sync.is_synced());
            match self.retry.awaited(inst, in_flight, synced, now, timeout) {
                None => {}
                Some(Awaited::Wait(t)) => self.stream_wake = self.stream_wake.min(t),
                Some(Awaited::Overdue) => {
                    self.snapshot_failed(
                        inst,
                        SnapshotFailReason::NoSnapshot,
                        timeout_ms as i64,
                        "no snapshot on the stream after subscribing (refused or lost)",
                        now,
                    );
                    let retry_at = self.retry.not_before(inst);
                    self.stream_wake = self.stream_wake.min(retry_at);
                }
                Some(Awaited::Release) => {
                    self.rec_book(inst, "release", now);
                    self.books[i].sync.snapshot_failed();
                }
            }
        }
    }

    /// Sends the REST snapshot requests the sessions want, once the
    /// instrument's retry time has come (see
    /// [`SnapshotRetry`](crate::engine::snapshots::SnapshotRetry)) and within
    /// its venue's REST weight budget; at most one in flight per instrument.
    pub(super) fn request_snapshots(&mut self, now: Nanos) {
        self.scan_snapshots = false;
        let FeedLoop {
            conns,
            venues,
            books,
            retry,
            worker,
            rec,
            cfg,
            inst_conn,
            registry,
            ..
        } = self;
        let mut again = false;
        for conn in conns.iter_mut().filter(|c| c.is_open()) {
            let weight = u64::from(conn.protocol.snapshot_weight());
            let venue = &mut venues[conn.venue];
            while let Some(inst) = conn
                .protocol
                .poll_fetch(books, |id| retry.may_request(id, now))
            {
                let job = Job::Snapshot {
                    instrument: inst,
                    venue: conn.venue,
                };
                let v = cfg.venues[conn.venue].venue;
                super::record::book_note(rec, v, inst_conn, registry, inst, "fetch", now);
                // Over budget or a full queue: keep wanting it; the next scan tries again.
                if !venue.rest.try_take(weight, now) || !worker.submit(job) {
                    super::record::book_note(
                        rec,
                        v,
                        inst_conn,
                        registry,
                        inst,
                        "fetch_failed",
                        now,
                    );
                    books[inst.index()].sync.snapshot_failed();
                    again = true;
                    break;
                }
            }
        }
        self.scan_snapshots = again;
        self.snapshot_wake = self.retry.next_due(now).unwrap_or(Nanos::MAX);
    }
}
