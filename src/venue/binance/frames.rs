//! The per-message path for Binance, sans-IO: frame bytes and `now` in;
//! decode → sync → book → staged events → [`Publish`] out. The engine's feed
//! thread, `replay`, the benchmarks and the zero-allocation test all run
//! exactly this.

use super::decode::BinanceDecoder;
use super::msg::{BinanceMsg, SnapshotReply};
use crate::book::BookApply;
use crate::ring::{EventBatch, Publish, snapshot_events};
use crate::types::{
    Aggressor, Bbo, Event, Nanos, Registry, ResyncReason, Stamp, StatusCode, Trade, Venue,
};
use crate::venue::instrument::publish_bbo;
use crate::venue::symbols::{CachedSymbols, SymbolCache};
use crate::venue::{
    DecodeError, FeedStats, FrameKind, GapPolicy, InstrumentBook, Rules, SnapshotFailure,
    SnapshotOutcome, publish_resync, publish_status,
};

/// Decoder and staging buffer of one Binance connection (see
/// [`BinanceSession`](super::BinanceSession)). Instrument books live outside,
/// indexed by [`InstrumentId`](crate::types::InstrumentId).
#[derive(Debug)]
pub struct BinanceFrames {
    decoder: BinanceDecoder,
    batch: EventBatch,
    stats: FeedStats,
    /// Symbols resolved by earlier frames (hints only: see [`SymbolCache`]).
    symbols: SymbolCache,
}

impl BinanceFrames {
    /// A handler for `venue` whose books hold up to `book_capacity` levels a side.
    pub fn new(venue: Venue, book_capacity: usize) -> BinanceFrames {
        BinanceFrames::with_max_frame(venue, book_capacity, super::DEFAULT_MAX_FRAME)
    }

    /// As [`new`](Self::new), for frames of up to `max_frame` bytes.
    pub fn with_max_frame(venue: Venue, book_capacity: usize, max_frame: usize) -> BinanceFrames {
        let max_levels = super::DEFAULT_MAX_LEVELS;
        // A diff can stage up to three events per level (eviction) plus statuses;
        // a snapshot stages the whole book.
        let batch = EventBatch::with_capacity(
            (3 * 2 * max_levels).max(snapshot_events(2 * book_capacity)) + 8,
        );
        BinanceFrames {
            decoder: BinanceDecoder::with_limits(venue, max_frame, max_levels),
            batch,
            stats: FeedStats::default(),
            symbols: SymbolCache::default(),
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
        let symbols = CachedSymbols::new(registry, venue, &self.symbols);
        let (msg, bounded) = match self.decoder.decode_bounded(frame, &symbols) {
            Ok(m) => m,
            Err(e) => {
                // The caller reports it for the instrument, off this path:
                // see `handle_undecodable`.
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
                let Rules::Binance(bridge) = &mut st.rules else {
                    return Ok(FrameKind::Ignored);
                };
                // Why no validation pass is needed then: a price in
                // 1..10^15 and a quantity in 0..10^15 are always on a tick
                // of 1 and in range.
                let validated = bounded && st.book.tick() == 1;
                let outcome =
                    bridge.handle_diff(&mut st.sync, &d, &mut st.book, batch, recv_ns, validated);
                st.note_update(outcome, recv_ns);
                if !batch.is_empty() {
                    out.publish(batch, st.state(recv_ns), recv_ns);
                }
                FrameKind::Depth(id, outcome)
            }
            BinanceMsg::BookTicker(t) => {
                let exch_ns = t
                    .transact_ms
                    .or(t.event_ms)
                    .unwrap_or(0)
                    .saturating_mul(1_000_000);
                let stamp = Stamp {
                    venue,
                    instrument: t.scaling.instrument,
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
                // The venue's own top of book may be crossed: then it is
                // not passed on as a quote a strategy could act on, but
                // reported.
                publish_bbo(&mut self.stats, batch, books, stamp, bbo, out)
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

    /// Call after [`handle_frame`](Self::handle_frame) refused `frame`. If
    /// it names a known instrument, consumers get a `DecodeError` status
    /// (`a` = this connection's decode errors so far), and since a lost diff
    /// means the book misses an update, under [`GapPolicy::Resync`] a
    /// synced book is rebuilt at once rather than at the next diff (which a
    /// quiet market may not send). Kept out of `handle_frame`, whose
    /// per-message code it would otherwise slow down (measured: +30 ns a
    /// trade).
    #[cold]
    #[inline(never)]
    pub fn handle_undecodable<P: Publish>(
        &mut self,
        frame: &[u8],
        recv_ns: Nanos,
        registry: &Registry,
        books: &mut [InstrumentBook],
        out: &mut P,
    ) {
        let Some((symbol, is_depth)) = frame_target(frame) else {
            return;
        };
        let venue = self.decoder.venue();
        let Some(inst) = registry.lookup(venue, symbol) else {
            return;
        };
        let Some(st) = books.get_mut(inst.id.index()) else {
            return;
        };
        let errors = i64::try_from(self.stats.decode_errors).unwrap_or(i64::MAX);
        self.status(st, StatusCode::DecodeError, errors, 0, recv_ns, out);
        if is_depth && st.sync.policy() == GapPolicy::Resync && st.sync.is_synced() {
            self.resync(st, ResyncReason::BadUpdate, recv_ns, out);
        }
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
        // A crossed snapshot (or buffered diffs that cross it) is as wrong as
        // a crossed diff: consumers never see it; they get `Crossed` and
        // `Resync` (staged by the core), and another is fetched.
        let outcome = match &mut st.rules {
            Rules::Binance(bridge) => {
                bridge.handle_snapshot(&mut st.sync, &snap, &mut st.book, &mut self.batch, now)
            }
            Rules::Core => SnapshotOutcome::Ignored,
        };
        if outcome == SnapshotOutcome::Synced {
            // A new book: stale diffs before it say nothing about it.
            st.stale_since = None;
        }
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
        publish_resync(st, reason, now, &mut self.batch, out);
    }

    /// Publishes one status event for `st`'s instrument.
    #[allow(clippy::too_many_arguments)] // the status's fields, as the engine has them
    pub fn status<P: Publish>(
        &mut self,
        st: &InstrumentBook,
        code: StatusCode,
        a: i64,
        b: i64,
        now: Nanos,
        out: &mut P,
    ) {
        publish_status(st, code, a, b, now, &mut self.batch, out);
    }
}

/// The symbol (`"s"`) of a frame that did not decode, and whether it is a
/// depth diff, found by a plain scan (error path only; the frame may be
/// malformed anywhere else).
fn frame_target(frame: &[u8]) -> Option<(&[u8], bool)> {
    const KEY: &[u8] = b"\"s\":\"";
    let at = frame.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let len = frame[at..].iter().position(|&b| b == b'"')?;
    let is_depth = frame
        .windows(b"depthUpdate".len())
        .any(|w| w == b"depthUpdate");
    Some((&frame[at..at + len], is_depth))
}
