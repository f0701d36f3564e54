//! The subscribing side, sans-IO: [`SubscriberCore`] turns bridge messages
//! back into the event sequence a local ring would deliver. The Aeron
//! wrapper that polls the two streams is `super::Subscriber`.
//!
//! Per message it is handed ([`SubscriberCore::on_main`],
//! [`SubscriberCore::on_snapshot`]), it stages events that
//! [`SubscriberCore::pop`] then yields one by one.
//!
//! Recovery: every instrument starts *awaiting* a snapshot. Its main-stream
//! events are discarded (the last discarded sequence remembered) until a
//! snapshot from the snapshot stream that is as of that sequence or later
//! arrives; the snapshot is yielded (`SnapshotBegin`, levels, `SnapshotEnd`)
//! and main-stream events up to its as-of sequence are skipped. A main
//! message whose first sequence is not the one expected (a gap, a restarted
//! publisher) yields `Dropped` and `Resync` for every live instrument and
//! puts them all back to awaiting; a lost image yields `Disconnected`.

use std::sync::Arc;

use crate::types::{Event, InstrumentId, Registry, ResyncReason, Stamp, StatusCode};

use super::publisher::max_message_events;
use super::wire::{self, Kind};

/// Counters of a subscriber.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SubscriberStats {
    /// Main-stream discontinuities (a first sequence not the one expected,
    /// after the stream had started).
    pub gaps: u64,
    /// Main-stream events known lost (sum of the gaps' sizes).
    pub lost: u64,
    /// Snapshots applied from the snapshot stream.
    pub snapshots: u64,
    /// Main-stream events discarded while their instrument awaited a snapshot.
    pub discarded: u64,
    /// Snapshots ignored (not awaited, or older than an event discarded).
    pub stale_snapshots: u64,
    /// Messages refused (bad header, length, kind or catalog).
    pub bad_messages: u64,
    /// Images lost (publisher gone or timed out).
    pub disconnects: u64,
}

/// The subscriber's state machine.
#[derive(Debug, Default)]
pub struct SubscriberCore {
    /// Staged output; capacity reserved when the catalog arrives.
    out: Vec<Event>,
    pos: usize,
    registry: Option<Arc<Registry>>,
    max_events: usize,
    /// Next main-stream sequence expected (`None` before the first message
    /// and after a lost image).
    expected: Option<u64>,
    awaiting: Vec<bool>,
    last_discarded: Vec<u64>,
    skip_upto: Vec<u64>,
    /// Last sequence discarded before the catalog arrived.
    floor: u64,
    stats: SubscriberStats,
}

impl SubscriberCore {
    /// A subscriber that has seen nothing yet.
    pub fn new() -> SubscriberCore {
        SubscriberCore {
            out: Vec::with_capacity(1024),
            ..SubscriberCore::default()
        }
    }

    /// The publisher's instruments, once its catalog has arrived.
    pub fn registry(&self) -> Option<&Arc<Registry>> {
        self.registry.as_ref()
    }

    /// Book capacity (levels a side) the publisher announced, once known.
    pub fn book_capacity(&self) -> Option<usize> {
        self.registry.as_ref().map(|_| (self.max_events - 8) / 2)
    }

    /// Counters so far.
    pub fn stats(&self) -> SubscriberStats {
        self.stats
    }

    /// True when no instrument awaits a snapshot (and the catalog is known).
    pub fn all_synced(&self) -> bool {
        self.registry.is_some() && !self.awaiting.iter().any(|a| *a)
    }

    /// The next staged event.
    #[inline]
    pub fn pop(&mut self) -> Option<Event> {
        let e = self.out.get(self.pos).copied();
        if e.is_some() {
            self.pos += 1;
        } else if self.pos != 0 {
            self.out.clear();
            self.pos = 0;
        }
        e
    }

    /// True when staged events remain.
    #[inline]
    pub fn has_staged(&self) -> bool {
        self.pos < self.out.len()
    }

    /// A message from the main stream.
    #[inline]
    pub fn on_main(&mut self, msg: &[u8]) {
        let Ok((h, body)) = wire::read_message(msg) else {
            self.stats.bad_messages += 1;
            return;
        };
        let count = h.count as usize;
        if h.kind != Kind::Events || h.seq == 0 {
            self.stats.bad_messages += 1;
            return;
        }
        if self.registry.is_some() && count > self.max_events {
            // Cannot be staged without allocating: lost, as a gap.
            self.stats.bad_messages += 1;
            return;
        }
        if self.expected != Some(h.seq) {
            self.discontinuity(h.seq);
        }
        self.expected = Some(h.seq + count as u64);
        let Some(reg) = &self.registry else {
            self.floor = h.seq + count as u64 - 1;
            self.stats.discarded += count as u64;
            return;
        };
        let n = reg.len();
        for k in 0..count {
            let e = wire::event_at(body, k);
            let seq = h.seq + k as u64;
            let i = e.instrument.index();
            if i >= n {
                self.stats.bad_messages += 1;
                continue;
            }
            if self.awaiting[i] {
                self.last_discarded[i] = seq;
                self.stats.discarded += 1;
                continue;
            }
            if seq <= self.skip_upto[i] {
                continue;
            }
            self.out.push(e);
        }
    }

    /// The main stream did not continue where it was: a gap, or a new
    /// publisher. A stream that starts at sequence 1 carries everything
    /// its publisher sends (the engine's own snapshots), so no bridge
    /// snapshot is awaited; otherwise every instrument awaits one.
    #[cold]
    fn discontinuity(&mut self, first: u64) {
        if let Some(expected) = self.expected {
            self.stats.gaps += 1;
            self.stats.lost += first.saturating_sub(expected);
        }
        let Some(reg) = self.registry.clone() else {
            return;
        };
        let fresh = first == 1;
        for inst in reg.iter() {
            let i = inst.id.index();
            self.last_discarded[i] = first - 1;
            self.skip_upto[i] = 0;
            if !self.awaiting[i] {
                let stamp = stamp(inst.venue, inst.id);
                let reason = if fresh {
                    ResyncReason::Reconnect
                } else {
                    let lost = self.stats.lost as i64;
                    self.out
                        .push(Event::status(stamp, StatusCode::Dropped, lost, 0, false));
                    ResyncReason::Gap
                };
                self.out.push(Event::status(
                    stamp,
                    StatusCode::Resync,
                    reason as i64,
                    0,
                    true,
                ));
            }
            self.awaiting[i] = !fresh;
        }
    }

    /// A message from the snapshot stream (catalog or book snapshot).
    pub fn on_snapshot(&mut self, msg: &[u8]) {
        let Ok((h, body)) = wire::read_message(msg) else {
            self.stats.bad_messages += 1;
            return;
        };
        match h.kind {
            Kind::Catalog => self.on_catalog(h.count as usize, h.seq, body),
            Kind::Snapshot => self.on_book(h.count as usize, h.seq, body),
            Kind::Events => self.stats.bad_messages += 1,
        }
    }

    #[cold]
    fn on_catalog(&mut self, count: usize, capacity: u64, body: &[u8]) {
        if self.registry.is_some() {
            return;
        }
        let Ok(reg) = wire::read_catalog(body, count) else {
            self.stats.bad_messages += 1;
            return;
        };
        let capacity = usize::try_from(capacity).unwrap_or(usize::MAX).min(1 << 20);
        self.max_events = max_message_events(capacity).max(count);
        self.awaiting = vec![true; count];
        self.last_discarded = vec![self.floor; count];
        self.skip_upto = vec![0; count];
        // Room for two full snapshots and a status per instrument for each
        // of gap and disconnect.
        self.out
            .reserve((2 * self.max_events + 4 * count).saturating_sub(self.out.len()));
        self.registry = Some(Arc::new(reg));
    }

    fn on_book(&mut self, count: usize, as_of: u64, body: &[u8]) {
        let Some(reg) = &self.registry else {
            return;
        };
        if count < 2 || count > self.max_events {
            self.stats.bad_messages += 1;
            return;
        }
        let first = wire::event_at(body, 0);
        let last = wire::event_at(body, count - 1);
        let i = first.instrument.index();
        let framed = first.status_code() == Some(StatusCode::SnapshotBegin)
            && last.status_code() == Some(StatusCode::SnapshotEnd)
            && last.instrument == first.instrument
            && i < reg.len();
        if !framed {
            self.stats.bad_messages += 1;
            return;
        }
        if !self.awaiting[i] || self.last_discarded[i] > as_of {
            self.stats.stale_snapshots += 1;
            return;
        }
        if self.out.len() + count > self.out.capacity() {
            // No room without allocating: the next round's snapshot will do.
            self.stats.stale_snapshots += 1;
            return;
        }
        for k in 0..count {
            let e = wire::event_at(body, k);
            if e.instrument.index() == i {
                self.out.push(e);
            }
        }
        self.awaiting[i] = false;
        self.skip_upto[i] = as_of;
        self.stats.snapshots += 1;
    }

    /// The main stream's image went away: `Disconnected` for every
    /// instrument; the next message starts a new stream (with resyncs).
    #[cold]
    pub fn on_unavailable(&mut self) {
        self.stats.disconnects += 1;
        self.expected = None;
        let Some(reg) = &self.registry else {
            return;
        };
        for inst in reg.iter() {
            let stamp = stamp(inst.venue, inst.id);
            self.out
                .push(Event::status(stamp, StatusCode::Disconnected, 0, 0, false));
        }
    }
}

fn stamp(venue: crate::types::Venue, instrument: InstrumentId) -> Stamp {
    Stamp {
        venue,
        instrument,
        seq: 0,
        exch_ns: 0,
        recv_ns: 0,
    }
}
