//! The publisher side of the rings: staging a venue message's events in an
//! [`EventBatch`], and fanning batches out to one rtrb SPSC ring per
//! consumer with [`FanOut`].
//!
//! The producer never waits. A batch is written to a consumer's ring whole or
//! not at all; when it does not fit, that consumer is marked dirty for the
//! instrument, the events are counted as dropped, and as soon as its ring has
//! room it receives `Dropped` and `Resync` status events followed by a full
//! snapshot of the engine's book (`SnapshotBegin`, levels, `SnapshotEnd`), so
//! its book mirror (`crate::consumer::BookMirror`) converges. A consumer's ring must be
//! able to hold a whole book snapshot: see [`snapshot_events`].

mod consumer;
mod diag;

pub use consumer::Consumer;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::book::BookRead;
use crate::types::{
    Event, FLAG_SNAPSHOT, InstrumentId, Nanos, ResyncReason, Side, Stamp, StatusCode,
};

/// Events of one venue message for one instrument, staged before fan-out.
/// Sized at construction; pushing past capacity drops the event and flags
/// the batch as overflowed (the fan-out then resyncs every consumer).
#[derive(Debug)]
pub struct EventBatch {
    /// Every slot is written at construction, so the pages are mapped before
    /// the first frame and a push is a plain store. Staged: `slots[..len]`.
    slots: Box<[Event]>,
    /// Events staged, `<= slots.len()`.
    len: usize,
    /// The instrument of a push that did not fit. Otherwise the instrument
    /// is read from the first staged event, so a push does no bookkeeping.
    overflow_instrument: Option<InstrumentId>,
    overflowed: bool,
}

/// What the unused slots of an [`EventBatch`] hold.
const BLANK: Event = Event::level(
    Stamp {
        venue: crate::types::Venue::BinanceSpot,
        instrument: InstrumentId(0),
        seq: 0,
        exch_ns: 0,
        recv_ns: 0,
    },
    Side::Bid,
    crate::types::Price(0),
    crate::types::Qty(0),
    0,
);

impl EventBatch {
    /// A batch holding up to `capacity` events.
    pub fn with_capacity(capacity: usize) -> EventBatch {
        EventBatch {
            slots: vec![BLANK; capacity].into_boxed_slice(),
            len: 0,
            overflow_instrument: None,
            overflowed: false,
        }
    }

    /// Empties the batch (keeps its allocation).
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
        self.overflow_instrument = None;
        self.overflowed = false;
    }

    /// Appends an event. Every event of a batch must be for one instrument.
    #[inline]
    pub fn push(&mut self, e: Event) {
        self.push_if(e, true);
    }

    /// Appends `e` only when `keep`. Why: the slot is written either way
    /// (the next push overwrites a dropped one), so a caller that decides
    /// per level whether an event is due pays no branch on that decision.
    #[inline(always)]
    pub(crate) fn push_if(&mut self, e: Event, keep: bool) {
        debug_assert!(
            !keep || self.instrument().is_none_or(|i| i == e.instrument),
            "one instrument per batch"
        );
        match self.slots.get_mut(self.len) {
            Some(slot) => {
                *slot = e;
                self.len += usize::from(keep);
            }
            None => self.overflow(e, keep),
        }
    }

    #[cold]
    fn overflow(&mut self, e: Event, keep: bool) {
        if keep {
            self.overflowed = true;
            self.overflow_instrument = self.overflow_instrument.or(Some(e.instrument));
        }
    }

    /// Marks the last event as the end of a consistent batch.
    #[inline]
    pub fn end_batch(&mut self) {
        if let Some(last) = self.slots[..self.len].last_mut() {
            *last = last.with_end_of_batch(true);
        }
    }

    /// Unmarks the last event as an end of batch: more of the same
    /// consistent change follows (a book truncated after its update).
    #[inline]
    pub(crate) fn reopen_batch(&mut self) {
        if let Some(last) = self.slots[..self.len].last_mut() {
            *last = last.with_end_of_batch(false);
        }
    }

    /// The staged events.
    #[inline]
    pub fn events(&self) -> &[Event] {
        &self.slots[..self.len]
    }

    /// Number of staged events.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is staged.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0 && !self.overflowed
    }

    /// True if events were dropped for lack of capacity.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// The instrument of the staged events.
    pub fn instrument(&self) -> Option<InstrumentId> {
        match self.events().first() {
            Some(e) => Some(e.instrument),
            None => self.overflow_instrument,
        }
    }

    /// Maximum events.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }
}

/// Events needed to send a book of `levels` total levels as a snapshot,
/// with the status events that precede it on a consumer resync.
pub const fn snapshot_events(levels: usize) -> usize {
    levels + 4
}

/// Stages `SnapshotBegin`, every level of `book` (bids then asks, best
/// first, flagged as snapshot) and `SnapshotEnd` (end of batch).
pub fn stage_snapshot(book: &impl BookRead, stamp: Stamp, batch: &mut EventBatch) {
    batch.push(Event::status(stamp, StatusCode::SnapshotBegin, 0, 0, false));
    for side in [Side::Bid, Side::Ask] {
        for l in book.levels(side) {
            batch.push(Event::level(stamp, side, l.price, l.qty, FLAG_SNAPSHOT));
        }
    }
    let levels = (book.depth(Side::Bid) + book.depth(Side::Ask)) as i64;
    batch.push(Event::status(
        stamp,
        StatusCode::SnapshotEnd,
        levels,
        0,
        true,
    ));
}

/// Counters of one consumer, shared with its [`Consumer`].
#[derive(Debug, Default)]
pub struct ConsumerStats {
    dropped: AtomicU64,
    resyncs: AtomicU64,
}

impl ConsumerStats {
    /// Events that did not fit in the ring (total).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Snapshots sent to repair this consumer after drops (total).
    pub fn resyncs(&self) -> u64 {
        self.resyncs.load(Ordering::Relaxed)
    }
}

/// The engine's view of an instrument's book when a consumer needs repair.
#[derive(Debug)]
pub enum BookState<'a, B> {
    /// The book is synced; send it.
    Live(&'a B, Stamp),
    /// The book is being rebuilt; the consumer will get the engine's own snapshot.
    Resyncing(Stamp),
}

#[derive(Debug)]
struct Slot {
    tx: rtrb::Producer<Event>,
    /// Instruments this consumer must be repaired for.
    dirty: Vec<bool>,
    dirty_count: usize,
    stats: Arc<ConsumerStats>,
}

/// Where a venue handler sends each message's staged events.
pub trait Publish {
    /// Delivers one instrument's batch; `state` is its book after the batch.
    fn publish<B: BookRead>(&mut self, batch: &EventBatch, state: BookState<'_, B>, now: Nanos);
}

impl Publish for FanOut {
    #[inline]
    fn publish<B: BookRead>(&mut self, batch: &EventBatch, state: BookState<'_, B>, now: Nanos) {
        FanOut::publish(self, batch, state, now);
    }
}

/// Collects every event (tests and tools; allocates).
impl Publish for Vec<Event> {
    fn publish<B: BookRead>(&mut self, batch: &EventBatch, _: BookState<'_, B>, _: Nanos) {
        self.extend_from_slice(batch.events());
    }
}

/// Discards events but keeps them observable to the optimiser (benchmarks).
#[derive(Debug, Default, Clone, Copy)]
pub struct Discard {
    /// Events seen.
    pub events: u64,
}

impl Publish for Discard {
    #[inline]
    fn publish<B: BookRead>(&mut self, batch: &EventBatch, _: BookState<'_, B>, _: Nanos) {
        self.events += batch.len() as u64;
    }
}

/// One producer, N consumers, one SPSC ring each. Owned by the feed thread.
#[derive(Debug)]
pub struct FanOut {
    slots: Vec<Slot>,
    instruments: usize,
    /// Staging for repair snapshots.
    scratch: EventBatch,
}

impl FanOut {
    /// A fan-out for `instruments` instruments whose snapshots hold at most
    /// `max_snapshot_levels` levels in total.
    pub fn new(instruments: usize, max_snapshot_levels: usize) -> FanOut {
        FanOut {
            slots: Vec::new(),
            instruments,
            scratch: EventBatch::with_capacity(snapshot_events(max_snapshot_levels)),
        }
    }

    /// Adds a consumer with a ring of `capacity` events (setup time).
    pub fn add_consumer(&mut self, capacity: usize) -> Consumer {
        let (tx, rx) = rtrb::RingBuffer::new(capacity);
        let stats = Arc::new(ConsumerStats::default());
        self.slots.push(Slot {
            tx,
            dirty: vec![false; self.instruments],
            dirty_count: 0,
            stats: stats.clone(),
        });
        Consumer::new(rx, stats)
    }

    /// Number of consumers.
    pub fn consumers(&self) -> usize {
        self.slots.len()
    }

    /// True if some consumer awaits a repair snapshot.
    pub fn has_dirty(&self) -> bool {
        self.slots.iter().any(|s| s.dirty_count > 0)
    }

    /// Total events dropped across consumers.
    pub fn dropped(&self) -> u64 {
        self.slots.iter().map(|s| s.stats.dropped()).sum()
    }

    /// Publishes one instrument's batch to every consumer. `state` is the
    /// instrument's book *after* the batch, used to repair dirty consumers.
    #[inline]
    pub fn publish<B: BookRead>(
        &mut self,
        batch: &EventBatch,
        state: BookState<'_, B>,
        now: Nanos,
    ) {
        let Some(inst) = batch.instrument() else {
            return;
        };
        let events = batch.events();
        for slot in &mut self.slots {
            // An id this fan-out was not sized for is delivered but cannot be
            // marked for repair (its drops are still counted).
            if slot.dirty.get(inst.index()).copied().unwrap_or(false) {
                slot.count_drop(events.len());
                repair(slot, inst, &state, &mut self.scratch, now);
                continue;
            }
            if batch.overflowed() || slot.tx.push_entire_slice(events).is_err() {
                slot.count_drop(events.len());
                slot.mark(inst);
                repair(slot, inst, &state, &mut self.scratch, now);
            }
        }
    }

    /// Repairs dirty consumers whose rings have room again. Call regularly
    /// (every loop turn): quiet instruments get no `publish` to do it.
    pub fn service<'b, B: BookRead + 'b>(
        &mut self,
        now: Nanos,
        mut state_of: impl FnMut(InstrumentId) -> Option<BookState<'b, B>>,
    ) {
        for slot in &mut self.slots {
            if slot.dirty_count == 0 {
                continue;
            }
            for i in 0..self.instruments {
                if slot.dirty[i] {
                    let inst = InstrumentId(i as u32);
                    match state_of(inst) {
                        Some(state) => repair(slot, inst, &state, &mut self.scratch, now),
                        None => slot.unmark(inst),
                    }
                }
            }
        }
    }
}

impl Slot {
    fn count_drop(&self, n: usize) {
        self.stats.dropped.fetch_add(n as u64, Ordering::Relaxed);
    }

    fn mark(&mut self, inst: InstrumentId) {
        if let Some(d @ false) = self.dirty.get_mut(inst.index()) {
            *d = true;
            self.dirty_count += 1;
        }
    }

    fn unmark(&mut self, inst: InstrumentId) {
        if let Some(d @ true) = self.dirty.get_mut(inst.index()) {
            *d = false;
            self.dirty_count -= 1;
        }
    }
}

/// Sends `Dropped` + `Resync` (+ the book snapshot when the book is live) if
/// it all fits now; otherwise leaves the consumer dirty.
#[cold]
fn repair<B: BookRead>(
    slot: &mut Slot,
    inst: InstrumentId,
    state: &BookState<'_, B>,
    scratch: &mut EventBatch,
    now: Nanos,
) {
    let stamp = match *state {
        BookState::Live(_, s) | BookState::Resyncing(s) => Stamp {
            recv_ns: now,
            instrument: inst,
            ..s
        },
    };
    let dropped = slot.stats.dropped() as i64;
    scratch.clear();
    let live = matches!(state, BookState::Live(..));
    scratch.push(Event::status(stamp, StatusCode::Dropped, dropped, 0, false));
    scratch.push(Event::status(
        stamp,
        StatusCode::Resync,
        ResyncReason::ConsumerOverflow as i64,
        0,
        !live,
    ));
    if let BookState::Live(book, _) = state {
        stage_snapshot(*book, stamp, scratch);
    }
    if scratch.overflowed() {
        // The snapshot cannot fit the staging buffer: nothing sensible to send.
        return;
    }
    if slot.tx.push_entire_slice(scratch.events()).is_ok() {
        slot.unmark(inst);
        slot.stats.resyncs.fetch_add(1, Ordering::Relaxed);
    }
}
