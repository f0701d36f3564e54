//! What every venue's per-message path shares: an instrument's book with
//! its sync state, what a frame turned out to be, the per-connection
//! counters, and the plan of one connection.

use super::binance::sync::{Bridge, SyncLimits};
use super::sync::{DiffOutcome, GapPolicy, SyncCore};
use super::{Channel, DecodeError};
use crate::book::{BookSpec, Ladder};
use crate::ring::{BookState, EventBatch, Publish};
use crate::types::{
    Bbo, Event, InstrumentId, Nanos, Registry, ResyncReason, Stamp, StatusCode, Venue,
};

/// The venue's own per-instrument sync state, beyond the shared core.
#[derive(Debug)]
pub enum Rules {
    /// The venue keeps nothing more (its snapshots come on the stream).
    Core,
    /// Binance: the diffs buffered until the REST snapshot.
    Binance(Box<Bridge>),
}

impl Rules {
    /// The state `venue` needs per instrument.
    pub fn for_venue(venue: Venue) -> Rules {
        match venue {
            Venue::BinanceSpot | Venue::BinanceUsdm => {
                Rules::Binance(Box::new(Bridge::new(venue, SyncLimits::default())))
            }
            _ => Rules::Core,
        }
    }

    /// Forgets whatever was buffered (the connection it came on is gone).
    pub fn clear(&mut self) {
        match self {
            Rules::Core => {}
            Rules::Binance(b) => b.clear(),
        }
    }
}

/// The book of one instrument and everything that keeps it in sync.
#[derive(Debug)]
pub struct InstrumentBook {
    /// Venue of the instrument.
    pub venue: Venue,
    /// Dense id.
    pub id: InstrumentId,
    /// The sync state every venue shares.
    pub sync: SyncCore,
    /// The venue's own sync state.
    pub rules: Rules,
    /// The book.
    pub book: Ladder,
    /// Receive time of the last message for this instrument that moved it
    /// on (an applied or buffered update, a trade, a BBO); an update ignored
    /// as stale does not count. The engine resyncs an instrument quiet for
    /// longer than its staleness timeout.
    pub last_msg_ns: Nanos,
    /// Receive time of the first of an unbroken run of updates ignored as
    /// stale (`None` once one is applied again). A run longer than the
    /// staleness timeout means the book's id is ahead of the stream (a
    /// snapshot from the future) and the book is frozen: the engine resyncs
    /// it, whatever trades and BBOs keep arriving meanwhile.
    pub stale_since: Option<Nanos>,
}

impl InstrumentBook {
    /// A book and sync state for `id`, whose prices step by `spec.tick`.
    pub fn new(venue: Venue, id: InstrumentId, spec: BookSpec, policy: GapPolicy) -> Self {
        InstrumentBook {
            venue,
            id,
            sync: SyncCore::new(venue, id, policy),
            rules: Rules::for_venue(venue),
            book: Ladder::new(spec),
            last_msg_ns: 0,
            stale_since: None,
        }
    }

    /// The stamp of an event the engine makes about this book at `now`
    /// (a status, a repair snapshot): the book's id, no exchange time.
    #[inline]
    pub fn stamp(&self, now: Nanos) -> Stamp {
        self.sync.stamp(self.sync.last_id().unwrap_or(0), 0, now)
    }

    /// The state to hand the fan-out: the book if synced.
    #[inline]
    pub fn state(&self, now: Nanos) -> BookState<'_, Ladder> {
        let stamp = self.stamp(now);
        if self.sync.is_synced() {
            BookState::Live(&self.book, stamp)
        } else {
            BookState::Resyncing(stamp)
        }
    }

    /// Notes the outcome of an update received at `recv_ns` for the
    /// staleness checks: a stale one starts (or continues) a stale run,
    /// anything else is progress.
    #[inline]
    pub fn note_update(&mut self, outcome: DiffOutcome, recv_ns: Nanos) {
        if outcome == DiffOutcome::Stale {
            self.stale_since.get_or_insert(recv_ns);
        } else {
            self.last_msg_ns = recv_ns;
            self.stale_since = None;
        }
    }
}

/// The books of every instrument in `registry`, each ticking at its
/// instrument's tick and holding up to `capacity` levels a side.
pub fn books_for(registry: &Registry, capacity: usize, policy: GapPolicy) -> Vec<InstrumentBook> {
    registry
        .iter()
        .map(|i| {
            let spec = BookSpec::new(i.tick)
                .with_capacity(capacity)
                .with_window(super::profile(i.venue).book_window);
            InstrumentBook::new(i.venue, i.id, spec, policy)
        })
        .collect()
}

/// What a frame was, for the caller's bookkeeping (supervision, counters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// A book update (or a snapshot on the stream) for an instrument.
    Depth(InstrumentId, DiffOutcome),
    /// A best bid/offer.
    Bbo(InstrumentId),
    /// A best bid/offer whose bid is at or above its ask: dropped, and a
    /// `Crossed` status (`a` = bid, `b` = ask mantissas) published instead.
    CrossedBbo(InstrumentId),
    /// A trade (or several in one frame).
    Trade(InstrumentId),
    /// A subscription reply.
    SubscribeResult(Option<i64>),
    /// The venue reported an error (its code; 0 when it sends none).
    VenueError(i64),
    /// The server is shutting this connection down.
    ServerShutdown,
    /// The venue's answer to a client ping.
    Pong,
    /// Nothing for us (unsubscribed symbol, unconsumed event).
    Ignored,
}

/// Counters of one connection's per-message path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeedStats {
    /// Frames handled.
    pub frames: u64,
    /// Frames that failed to decode.
    pub decode_errors: u64,
    /// Crossed BBOs (each dropped).
    pub crossed: u64,
    /// Venue error replies.
    pub venue_errors: u64,
}

/// Why a snapshot body was not used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotFailure {
    /// The body did not decode.
    #[error("{0}")]
    Decode(DecodeError),
    /// The venue answered with an error code.
    #[error("venue error code {0}")]
    Venue(i64),
}

/// What one connection carries, venue-neutral: built by the engine (and
/// replay) from the configuration, handed to the venue's session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionPlan {
    /// The venue.
    pub venue: Venue,
    /// The venue's WebSocket URL from the configuration (a venue whose URL
    /// names its streams builds on it).
    pub ws_url: String,
    /// REST base URL from the configuration (venues that fetch snapshots).
    pub rest_url: String,
    /// The instruments: id and the venue's symbol, upper case.
    pub instruments: Vec<PlannedInstrument>,
    /// Channels subscribed for every instrument.
    pub channels: Vec<Channel>,
    /// Book update speed in ms (a venue that offers several).
    pub depth_interval_ms: u32,
    /// Levels a side of the snapshot: a REST limit, or the subscribed depth.
    pub depth: u32,
    /// Streams named in the URL at most (`None`: as many as fit; venues
    /// whose URLs name streams).
    pub url_streams: Option<usize>,
    /// Topics per subscribe message (within the venue's limit).
    pub streams_per_subscribe: usize,
    /// Client text messages per second, strictly under the venue's limit.
    pub control_per_sec: u32,
    /// Levels a side of each book.
    pub book_capacity: usize,
    /// The largest text frame the decoder takes, in bytes (its buffers are
    /// allocated for it when the session is built).
    pub max_frame: usize,
}

/// One instrument of a [`SessionPlan`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedInstrument {
    /// Its dense id.
    pub id: InstrumentId,
    /// The venue's symbol, upper case.
    pub symbol: String,
}

/// Publishes one status event for `st`'s instrument. A status that is not
/// about the book keeps the book's consistency.
pub fn publish_status<P: Publish>(
    st: &InstrumentBook,
    code: StatusCode,
    a: i64,
    b: i64,
    now: Nanos,
    batch: &mut EventBatch,
    out: &mut P,
) {
    batch.clear();
    batch.push(Event::status(
        st.stamp(now),
        code,
        a,
        b,
        st.sync.is_synced(),
    ));
    out.publish(batch, st.state(now), now);
}

/// Discards `st`'s book and whatever its venue buffered (reconnect, a stale
/// feed, ...) and tells consumers.
pub fn publish_resync<P: Publish>(
    st: &mut InstrumentBook,
    reason: ResyncReason,
    now: Nanos,
    batch: &mut EventBatch,
    out: &mut P,
) {
    batch.clear();
    st.rules.clear();
    st.sync.resync(reason, &mut st.book, batch, now);
    // A run of stale updates was about the book that is gone.
    st.stale_since = None;
    out.publish(batch, st.state(now), now);
}

/// What every venue does after its decoder refused a frame that names
/// `st`'s instrument: a `DecodeError` status (`a` = the connection's decode
/// errors so far); then, when the frame was a book message, an awaited
/// snapshot is asked for again (the refused frame may have been it) and,
/// under [`GapPolicy::Resync`], a synced book starts over (an update was
/// lost). True when it started over: the venue then forgets whatever it
/// keeps about that book.
#[cold]
pub(crate) fn report_undecodable<P: Publish>(
    st: &mut InstrumentBook,
    decode_errors: u64,
    is_book: bool,
    now: Nanos,
    batch: &mut EventBatch,
    out: &mut P,
) -> bool {
    let errors = i64::try_from(decode_errors).unwrap_or(i64::MAX);
    batch.clear();
    batch.push(Event::status(
        st.stamp(now),
        StatusCode::DecodeError,
        errors,
        0,
        st.sync.is_synced(),
    ));
    out.publish(batch, st.state(now), now);
    if !is_book {
        return false;
    }
    if st.sync.snapshot_in_flight() {
        st.sync.snapshot_failed();
    }
    if st.sync.policy() != GapPolicy::Resync || !st.sync.is_synced() {
        return false;
    }
    batch.clear();
    st.sync
        .resync(ResyncReason::BadUpdate, &mut st.book, batch, now);
    st.stale_since = None;
    out.publish(batch, st.state(now), now);
    true
}

/// Every book of `instruments` that holds something starts over because
/// its connection is gone; see [`Session::handle_closed`](super::Session::handle_closed).
pub(crate) fn reset_books<P: Publish>(
    instruments: &[InstrumentId],
    books: &mut [InstrumentBook],
    now: Nanos,
    batch: &mut EventBatch,
    out: &mut P,
) {
    for &i in instruments {
        let Some(st) = books.get_mut(i.index()) else {
            continue;
        };
        if st.sync.holds_anything() {
            publish_resync(st, ResyncReason::Reconnect, now, batch, out);
        } else {
            st.rules.clear();
        }
    }
}

/// Stages and publishes a best bid/offer, or a `Crossed` status (`a` = bid,
/// `b` = ask) instead when the venue's own quote is crossed.
pub(crate) fn publish_bbo<P: Publish>(
    stats: &mut FeedStats,
    batch: &mut EventBatch,
    books: &mut [InstrumentBook],
    stamp: Stamp,
    bbo: Bbo,
    out: &mut P,
) -> FrameKind {
    let id = stamp.instrument;
    let Some(st) = books.get_mut(id.index()) else {
        return FrameKind::Ignored;
    };
    st.last_msg_ns = stamp.recv_ns;
    let now = stamp.recv_ns;
    if bbo.bid_price >= bbo.ask_price {
        stats.crossed += 1;
        let (bid, ask) = (bbo.bid_price.0, bbo.ask_price.0);
        batch.push(Event::status(
            stamp,
            StatusCode::Crossed,
            bid,
            ask,
            st.sync.is_synced(),
        ));
        out.publish(batch, st.state(now), now);
        return FrameKind::CrossedBbo(id);
    }
    batch.push(Event::bbo(stamp, bbo));
    out.publish(batch, st.state(now), now);
    FrameKind::Bbo(id)
}
