//! The publishing side, sans-IO: [`PublisherCore`] takes the events a
//! consumer ring delivers and turns them into bridge messages on two
//! [`Sink`]s (the main stream and the snapshot stream). The Aeron thread
//! around it lives in `super::aeron`.
//!
//! Call order per loop turn: [`PublisherCore::handle`] for every event
//! popped, [`PublisherCore::flush`], then [`PublisherCore::service`].
//!
//! The slow-consumer rule, as on a local ring: a message the main sink
//! refuses (back-pressure, no subscriber connected) is dropped whole and
//! counted, and its instruments are marked; their events are not sent
//! until a repair — `Dropped`, `Resync` and a full snapshot of the book —
//! is accepted. The core keeps a [`BookMirror`] of every book (fed by the
//! same events) to take those snapshots, so the feed thread is never asked.

use crate::book::{BookRead, BookSpec};
use crate::consumer::BookMirror;
use crate::types::{
    Event, FLAG_SNAPSHOT, InstrumentId, Nanos, Registry, ResyncReason, Side, Stamp, StatusCode,
};

use super::wire::{self, HEADER_LEN, Header, Kind, RECORD_LEN};

/// Why a sink did not take a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The receivers are behind (flow control) or the driver is busy.
    BackPressure,
    /// No subscriber is connected.
    NotConnected,
    /// The publication is closed for good.
    Closed,
}

/// Where messages go: an Aeron publication, or a test double.
pub trait Sink {
    /// Offers one whole message; never blocks.
    fn offer(&mut self, msg: &[u8]) -> Result<(), Refused>;
    /// True when at least one subscriber is connected.
    fn connected(&self) -> bool;
}

/// Counters of a publisher (read with [`PublisherCore::stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PublisherStats {
    /// Events published on the main stream.
    pub events: u64,
    /// Messages published on the main stream.
    pub messages: u64,
    /// Events not published (refused messages, and events of marked
    /// instruments while they await their repair).
    pub dropped: u64,
    /// Repairs (`Dropped`, `Resync`, snapshot) published.
    pub repairs: u64,
    /// Book snapshots published on the snapshot stream.
    pub snapshots: u64,
    /// Bytes published on the snapshot stream (catalogs and snapshots).
    pub snapshot_bytes: u64,
}

/// Events the largest message can hold for books of `capacity` levels a
/// side: a full snapshot with the statuses around it.
pub const fn max_message_events(capacity: usize) -> usize {
    2 * capacity + 8
}

/// The publisher's state machine (no I/O, no clock: `now` is passed in).
#[derive(Debug)]
pub struct PublisherCore {
    registry: std::sync::Arc<Registry>,
    mirror: BookMirror,
    /// Message being staged: header then `staged` records. Sized once.
    buf: Vec<u8>,
    staged: usize,
    max_events: usize,
    /// Instruments with an event in the staged message (dedup by `in_batch`).
    batch_insts: Vec<u32>,
    in_batch: Vec<bool>,
    /// Instruments awaiting a repair on the main stream.
    dirty: Vec<bool>,
    dirty_count: usize,
    /// Sequence of the next event on the main stream (starts at 1).
    next_seq: u64,
    capacity: usize,
    snapshot_interval: Nanos,
    next_snapshot_at: Nanos,
    stats: PublisherStats,
}

impl PublisherCore {
    /// A publisher for `registry`'s instruments with books of `capacity`
    /// levels a side; full snapshots go out every `snapshot_interval` ns.
    pub fn new(
        registry: std::sync::Arc<Registry>,
        capacity: usize,
        snapshot_interval: Nanos,
    ) -> PublisherCore {
        let n = registry.len();
        let mirror = BookMirror::new(
            registry
                .iter()
                .map(|i| BookSpec::new(i.tick).with_capacity(capacity)),
        );
        let max_events = max_message_events(capacity).max(n);
        PublisherCore {
            registry,
            mirror,
            buf: vec![0u8; HEADER_LEN + max_events * RECORD_LEN],
            staged: 0,
            max_events,
            batch_insts: Vec::with_capacity(n),
            in_batch: vec![false; n],
            dirty: vec![false; n],
            dirty_count: 0,
            next_seq: 1,
            capacity,
            snapshot_interval,
            next_snapshot_at: 0,
            stats: PublisherStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> PublisherStats {
        self.stats
    }

    /// The publisher's copy of the books.
    pub fn mirror(&self) -> &BookMirror {
        &self.mirror
    }

    /// Sequence the next main-stream event will carry.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Instruments awaiting a repair.
    pub fn dirty(&self) -> usize {
        self.dirty_count
    }

    /// Takes one event from the ring; a message is sent at each end of
    /// batch (one book message) or when the staging buffer is full.
    #[inline]
    pub fn handle(&mut self, e: &Event, main: &mut impl Sink) {
        self.mirror.apply(e);
        let i = e.instrument.index();
        if i >= self.dirty.len() {
            return;
        }
        if self.dirty[i] {
            self.stats.dropped += 1;
            return;
        }
        wire::put_event(&mut self.buf, self.staged, e);
        self.staged += 1;
        if !self.in_batch[i] {
            self.in_batch[i] = true;
            self.batch_insts.push(i as u32);
        }
        if e.end_of_batch() || self.staged == self.max_events {
            self.flush(main);
        }
    }

    /// Sends what is staged (call when the ring is empty).
    #[inline]
    pub fn flush(&mut self, main: &mut impl Sink) {
        if self.staged == 0 {
            return;
        }
        let n = self.staged;
        wire::write_header(
            &mut self.buf,
            Header {
                kind: Kind::Events,
                count: n as u32,
                seq: self.next_seq,
            },
        );
        let ok = main.offer(&self.buf[..HEADER_LEN + n * RECORD_LEN]).is_ok();
        if ok {
            self.next_seq += n as u64;
            self.stats.events += n as u64;
            self.stats.messages += 1;
        } else {
            self.stats.dropped += n as u64;
        }
        for k in 0..self.batch_insts.len() {
            let i = self.batch_insts[k] as usize;
            self.in_batch[i] = false;
            if !ok && !self.dirty[i] {
                self.dirty[i] = true;
                self.dirty_count += 1;
            }
        }
        self.batch_insts.clear();
        self.staged = 0;
    }

    /// Repairs marked instruments once the main sink takes messages again,
    /// and publishes the catalog and every synced book on the snapshot
    /// sink every `snapshot_interval`.
    pub fn service(&mut self, now: Nanos, main: &mut impl Sink, snap: &mut impl Sink) {
        if self.dirty_count > 0 && main.connected() {
            self.repair(now, main);
        }
        if now >= self.next_snapshot_at {
            self.next_snapshot_at = now.saturating_add(self.snapshot_interval);
            if snap.connected() {
                self.publish_snapshots(now, snap);
            }
        }
    }

    #[cold]
    fn repair(&mut self, now: Nanos, main: &mut impl Sink) {
        debug_assert_eq!(self.staged, 0, "flush before service");
        for i in 0..self.dirty.len() {
            if !self.dirty[i] {
                continue;
            }
            let inst = InstrumentId(i as u32);
            let stamp = self.stamp(inst, now);
            let live = self.mirror.is_consistent(inst);
            let mut n = 0;
            let dropped = self.stats.dropped as i64;
            self.put(
                &mut n,
                Event::status(stamp, StatusCode::Dropped, dropped, 0, false),
            );
            let reason = ResyncReason::ConsumerOverflow as i64;
            self.put(
                &mut n,
                Event::status(stamp, StatusCode::Resync, reason, 0, !live),
            );
            if live {
                self.put_book(&mut n, inst, stamp);
            }
            wire::write_header(
                &mut self.buf,
                Header {
                    kind: Kind::Events,
                    count: n as u32,
                    seq: self.next_seq,
                },
            );
            if main
                .offer(&self.buf[..HEADER_LEN + n * RECORD_LEN])
                .is_err()
            {
                return;
            }
            self.next_seq += n as u64;
            self.stats.events += n as u64;
            self.stats.messages += 1;
            self.stats.repairs += 1;
            self.dirty[i] = false;
            self.dirty_count -= 1;
        }
    }

    #[cold]
    fn publish_snapshots(&mut self, now: Nanos, snap: &mut impl Sink) {
        let n = self.registry.len();
        for inst in self.registry.iter() {
            wire::put_catalog_entry(&mut self.buf, inst.id.index(), inst);
        }
        wire::write_header(
            &mut self.buf,
            Header {
                kind: Kind::Catalog,
                count: n as u32,
                seq: self.capacity as u64,
            },
        );
        let len = HEADER_LEN + n * RECORD_LEN;
        if snap.offer(&self.buf[..len]).is_err() {
            return;
        }
        self.stats.snapshot_bytes += len as u64;
        let as_of = self.next_seq - 1;
        for i in 0..n {
            let inst = InstrumentId(i as u32);
            if !self.mirror.is_consistent(inst) {
                continue;
            }
            let stamp = self.stamp(inst, now);
            let mut k = 0;
            self.put_book(&mut k, inst, stamp);
            wire::write_header(
                &mut self.buf,
                Header {
                    kind: Kind::Snapshot,
                    count: k as u32,
                    seq: as_of,
                },
            );
            let len = HEADER_LEN + k * RECORD_LEN;
            if snap.offer(&self.buf[..len]).is_err() {
                return;
            }
            self.stats.snapshots += 1;
            self.stats.snapshot_bytes += len as u64;
        }
    }

    fn stamp(&self, inst: InstrumentId, now: Nanos) -> Stamp {
        Stamp {
            venue: self.registry.get(inst).venue,
            instrument: inst,
            seq: self.mirror.seq(inst).unwrap_or(0),
            exch_ns: 0,
            recv_ns: now,
        }
    }

    #[inline]
    fn put(&mut self, n: &mut usize, e: Event) {
        if *n < self.max_events {
            wire::put_event(&mut self.buf, *n, &e);
            *n += 1;
        }
    }

    /// `SnapshotBegin`, the levels (bids then asks, best first), `SnapshotEnd`.
    fn put_book(&mut self, n: &mut usize, inst: InstrumentId, stamp: Stamp) {
        self.put(
            n,
            Event::status(stamp, StatusCode::SnapshotBegin, 0, 0, false),
        );
        let Some(book) = self.mirror.book(inst) else {
            return;
        };
        let mut levels = 0i64;
        for side in [Side::Bid, Side::Ask] {
            for l in book.levels(side) {
                let e = Event::level(stamp, side, l.price, l.qty, FLAG_SNAPSHOT);
                let at = *n;
                if at + 1 < self.max_events {
                    wire::put_event(&mut self.buf, at, &e);
                    *n += 1;
                    levels += 1;
                }
            }
        }
        self.put(
            n,
            Event::status(stamp, StatusCode::SnapshotEnd, levels, 0, true),
        );
    }
}
