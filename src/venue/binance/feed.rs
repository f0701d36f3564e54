//! The per-message path for Binance, sans-IO: frame bytes and `now` in;
//! decode → sync → book → staged events → [`Publish`] out. The engine's feed
//! thread, `replay`, the benchmarks and the zero-allocation test all run
//! exactly this.

use super::decode::BinanceDecoder;
use super::msg::{BinanceMsg, SnapshotReply};
use super::sync::{BookSync, DiffOutcome, GapPolicy, SnapshotOutcome, SyncLimits};
use crate::book::{BookRead, BookSpec, Ladder};
use crate::ring::{BookState, EventBatch, Publish, snapshot_events};
use crate::types::{
    Aggressor, Bbo, Event, InstrumentId, Nanos, Registry, ResyncReason, Stamp, StatusCode, Trade,
    Venue,
};
use crate::venue::DecodeError;

/// The book of one instrument and everything that keeps it in sync.
#[derive(Debug)]
pub struct InstrumentBook {
    /// Venue of the instrument.
    pub venue: Venue,
    /// Dense id.
    pub id: InstrumentId,
    /// The sync state machine.
    pub sync: BookSync,
    /// The book.
    pub book: Ladder,
    /// Receive time of the last message for this instrument (staleness).
    pub last_msg_ns: Nanos,
}

impl InstrumentBook {
    /// A book and sync machine for `id`, whose prices step by `spec.tick`.
    pub fn new(
        venue: Venue,
        id: InstrumentId,
        spec: BookSpec,
        policy: GapPolicy,
        limits: SyncLimits,
    ) -> Self {
        InstrumentBook {
            venue,
            id,
            sync: BookSync::new(venue, id, policy, limits),
            book: Ladder::new(spec),
            last_msg_ns: 0,
        }
    }

    /// The state to hand the fan-out: the book if synced.
    #[inline]
    pub fn state(&self, now: Nanos) -> BookState<'_, Ladder> {
        let stamp = Stamp {
            venue: self.venue,
            instrument: self.id,
            seq: self.sync.last_id().unwrap_or(0),
            exch_ns: 0,
            recv_ns: now,
        };
        if self.sync.is_synced() {
            BookState::Live(&self.book, stamp)
        } else {
            BookState::Resyncing(stamp)
        }
    }
}

/// What a frame was, for the caller's bookkeeping (supervision, counters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// A diff for an instrument.
    Depth(InstrumentId, DiffOutcome),
    /// A best bid/offer.
    Bbo(InstrumentId),
    /// A trade.
    Trade(InstrumentId),
    /// A subscription reply.
    SubscribeResult(Option<i64>),
    /// The venue reported an error.
    VenueError(i64),
    /// The server is shutting this connection down.
    ServerShutdown,
    /// Nothing for us (unsubscribed symbol, unconsumed event).
    Ignored,
}

/// Counters of the per-message path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeedStats {
    /// Frames handled.
    pub frames: u64,
    /// Frames that failed to decode.
    pub decode_errors: u64,
    /// Books found crossed after a diff (each resynced).
    pub crossed: u64,
    /// Venue error replies.
    pub venue_errors: u64,
}

/// Decoder and staging buffer for one venue on one thread. Instrument books
/// live outside (indexed by [`InstrumentId`]) so several connections share them.
#[derive(Debug)]
pub struct BinanceFeed {
    decoder: BinanceDecoder,
    batch: EventBatch,
    stats: FeedStats,
}

impl BinanceFeed {
    /// A handler for `venue` whose books hold up to `book_capacity` levels a side.
    pub fn new(venue: Venue, book_capacity: usize) -> BinanceFeed {
        let max_levels = super::DEFAULT_MAX_LEVELS;
        // A diff can stage up to three events per level (eviction) plus statuses;
        // a snapshot stages the whole book.
        let batch = EventBatch::with_capacity(
            (3 * 2 * max_levels).max(snapshot_events(2 * book_capacity)) + 8,
        );
        BinanceFeed {
            decoder: BinanceDecoder::new(venue),
            batch,
            stats: FeedStats::default(),
        }
    }

    /// Counters.
    pub fn stats(&self) -> FeedStats {
        self.stats
    }

    /// The decoder (its fast/fallback counts).
    pub fn decoder(&self) -> &BinanceDecoder {
        &self.decoder
    }

    /// Handles one text frame received at `recv_ns`.
    #[inline]
    pub fn handle_frame<P: Publish>(
        &mut self,
        frame: &[u8],
        recv_ns: Nanos,
        registry: &Registry,
        books: &mut [InstrumentBook],
        out: &mut P,
    ) -> Result<FrameKind, DecodeError> {
        self.stats.frames += 1;
        let venue = self.decoder.venue();
        let msg = match self.decoder.decode(frame, &registry.venue(venue)) {
            Ok(m) => m,
            Err(e) => {
                self.stats.decode_errors += 1;
                return Err(e);
            }
        };
        let batch = &mut self.batch;
        batch.clear();
        Ok(match msg {
            BinanceMsg::Depth(d) => {
                let id = d.scaling.instrument;
                let Some(st) = books.get_mut(id.index()) else {
                    return Ok(FrameKind::Ignored);
                };
                st.last_msg_ns = recv_ns;
                let outcome = st.sync.handle_diff(&d, &mut st.book, batch, recv_ns);
                if outcome == DiffOutcome::Applied
                    && st.sync.policy() == GapPolicy::Resync
                    && st.book.is_crossed()
                {
                    self.stats.crossed += 1;
                    let stamp = Stamp {
                        venue,
                        instrument: id,
                        seq: d.final_id,
                        exch_ns: d.exch_ns(),
                        recv_ns,
                    };
                    batch.push(Event::status(stamp, StatusCode::Crossed, 0, 0, false));
                    st.sync
                        .resync(ResyncReason::Crossed, &mut st.book, batch, recv_ns);
                }
                if !batch.is_empty() {
                    out.publish(batch, st.state(recv_ns), recv_ns);
                }
                FrameKind::Depth(id, outcome)
            }
            BinanceMsg::BookTicker(t) => {
                let id = t.scaling.instrument;
                let Some(st) = books.get_mut(id.index()) else {
                    return Ok(FrameKind::Ignored);
                };
                st.last_msg_ns = recv_ns;
                let exch_ns = t
                    .transact_ms
                    .or(t.event_ms)
                    .unwrap_or(0)
                    .saturating_mul(1_000_000);
                let stamp = Stamp {
                    venue,
                    instrument: id,
                    seq: t.update_id,
                    exch_ns,
                    recv_ns,
                };
                let bbo = Bbo {
                    bid_price: t.bid_price,
                    bid_qty: t.bid_qty,
                    ask_price: t.ask_price,
                    ask_qty: t.ask_qty,
                };
                batch.push(Event::bbo(stamp, bbo));
                out.publish(batch, st.state(recv_ns), recv_ns);
                FrameKind::Bbo(id)
            }
            BinanceMsg::Trade(t) => {
                let id = t.scaling.instrument;
                let Some(st) = books.get_mut(id.index()) else {
                    return Ok(FrameKind::Ignored);
                };
                st.last_msg_ns = recv_ns;
                let stamp = Stamp {
                    venue,
                    instrument: id,
                    seq: t.id,
                    exch_ns: t.trade_ms.saturating_mul(1_000_000),
                    recv_ns,
                };
                let trade = Trade {
                    price: t.price,
                    qty: t.qty,
                    aggressor: if t.buyer_is_maker {
                        Aggressor::Sell
                    } else {
                        Aggressor::Buy
                    },
                    trade_id: t.id,
                    aggregated: t.aggregated,
                    first_trade_id: t.first_id as i64,
                    last_trade_id: t.last_id as i64,
                };
                batch.push(Event::trade(stamp, trade));
                out.publish(batch, st.state(recv_ns), recv_ns);
                FrameKind::Trade(id)
            }
            BinanceMsg::SubscribeResult { id } => FrameKind::SubscribeResult(id),
            BinanceMsg::VenueError { code, .. } => {
                self.stats.venue_errors += 1;
                FrameKind::VenueError(code)
            }
            BinanceMsg::ServerShutdown { .. } => FrameKind::ServerShutdown,
            BinanceMsg::Unhandled { .. } | BinanceMsg::UnknownSymbol { .. } => FrameKind::Ignored,
        })
    }

    /// Handles a REST snapshot body for `st`'s instrument.
    pub fn handle_snapshot<P: Publish>(
        &mut self,
        body: &[u8],
        now: Nanos,
        registry: &Registry,
        st: &mut InstrumentBook,
        out: &mut P,
    ) -> Result<SnapshotOutcome, SnapshotFailure> {
        let scaling = registry.get(st.id).scaling();
        let reply = match self.decoder.decode_snapshot(body, scaling) {
            Ok(r) => r,
            Err(e) => {
                st.sync.snapshot_failed();
                return Err(SnapshotFailure::Decode(e));
            }
        };
        let snap = match reply {
            SnapshotReply::Book(s) => s,
            SnapshotReply::VenueError { code, .. } => {
                st.sync.snapshot_failed();
                return Err(SnapshotFailure::Venue(code));
            }
        };
        self.batch.clear();
        let outcome = st
            .sync
            .handle_snapshot(&snap, &mut st.book, &mut self.batch, now);
        if !self.batch.is_empty() {
            out.publish(&self.batch, st.state(now), now);
        }
        Ok(outcome)
    }

    /// Discards `st`'s book (reconnect, staleness, ...) and tells consumers.
    pub fn resync<P: Publish>(
        &mut self,
        st: &mut InstrumentBook,
        reason: ResyncReason,
        now: Nanos,
        out: &mut P,
    ) {
        self.batch.clear();
        st.sync.resync(reason, &mut st.book, &mut self.batch, now);
        out.publish(&self.batch, st.state(now), now);
    }

    /// Publishes one status event for `st`'s instrument.
    pub fn status<P: Publish>(
        &mut self,
        st: &InstrumentBook,
        code: StatusCode,
        a: i64,
        b: i64,
        now: Nanos,
        out: &mut P,
    ) {
        self.batch.clear();
        let stamp = Stamp {
            venue: st.venue,
            instrument: st.id,
            seq: st.sync.last_id().unwrap_or(0),
            exch_ns: 0,
            recv_ns: now,
        };
        // A status that is not about the book keeps the book's consistency.
        self.batch
            .push(Event::status(stamp, code, a, b, st.sync.is_synced()));
        out.publish(&self.batch, st.state(now), now);
    }
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

/// The books of every instrument in `registry`, with default limits, each
/// ticking at its instrument's tick.
pub fn books_for(registry: &Registry, capacity: usize, policy: GapPolicy) -> Vec<InstrumentBook> {
    registry
        .iter()
        .map(|i| {
            let spec = BookSpec::new(i.tick).with_capacity(capacity);
            InstrumentBook::new(i.venue, i.id, spec, policy, SyncLimits::default())
        })
        .collect()
}
