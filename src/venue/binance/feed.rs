//! The per-message path for Binance, sans-IO: frame bytes and `now` in;
//! decode → sync → book → staged events → [`Publish`] out. The engine's feed
//! thread, `replay`, the benchmarks and the zero-allocation test all run
//! exactly this.

use std::cell::Cell;

use super::decode::BinanceDecoder;
use super::msg::{BinanceMsg, SnapshotReply};
use super::sync::{BookSync, DiffOutcome, GapPolicy, SnapshotOutcome, SyncLimits};
use crate::book::{BookApply, BookRead, BookSpec, Ladder};
use crate::ring::{BookState, EventBatch, Publish, snapshot_events};
use crate::types::{
    Aggressor, Bbo, Event, InstrumentId, Nanos, Registry, ResolveSymbol, ResyncReason, Scaling,
    Stamp, StatusCode, Trade, Venue,
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
    /// Receive time of the last message for this instrument that moved it
    /// on (an applied or buffered diff, a trade, a BBO); a diff ignored as
    /// stale does not count. The engine resyncs an instrument quiet for
    /// longer than its staleness timeout.
    pub last_msg_ns: Nanos,
    /// Receive time of the first of an unbroken run of diffs ignored as
    /// stale (`None` once a diff is applied again). A run longer than the
    /// staleness timeout means the book's id is ahead of the stream (a
    /// snapshot from the future) and the book is frozen: the engine resyncs
    /// it, whatever trades and BBOs keep arriving meanwhile.
    pub stale_since: Option<Nanos>,
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
            stale_since: None,
        }
    }

    /// The stamp of an event the engine makes about this book at `now`
    /// (a status, a repair snapshot): the book's id, no exchange time.
    #[inline]
    pub fn stamp(&self, now: Nanos) -> Stamp {
        Stamp {
            venue: self.venue,
            instrument: self.id,
            seq: self.sync.last_id().unwrap_or(0),
            exch_ns: 0,
            recv_ns: now,
        }
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
}

/// What a frame was, for the caller's bookkeeping (supervision, counters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// A diff for an instrument.
    Depth(InstrumentId, DiffOutcome),
    /// A best bid/offer.
    Bbo(InstrumentId),
    /// A best bid/offer whose bid is at or above its ask: dropped, and a
    /// `Crossed` status (`a` = bid, `b` = ask mantissas) published instead.
    CrossedBbo(InstrumentId),
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
    /// Books found crossed after a diff or snapshot (each resynced), and
    /// crossed BBOs (each dropped).
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
    /// Symbols resolved by earlier frames (hints only: see [`SymbolCache`]).
    symbols: SymbolCache,
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
        let symbols = CachedSymbols {
            registry,
            venue,
            cache: &self.symbols,
        };
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
                // Why no validation pass is needed then: a price in
                // 1..10^15 and a quantity in 0..10^15 are always on a tick
                // of 1 and in range.
                let validated = bounded && st.book.tick() == 1;
                let outcome =
                    st.sync
                        .handle_diff_checked(&d, &mut st.book, batch, recv_ns, validated);
                if outcome == DiffOutcome::Stale {
                    st.stale_since.get_or_insert(recv_ns);
                } else {
                    st.last_msg_ns = recv_ns;
                    st.stale_since = None;
                }
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
                if t.bid_price >= t.ask_price {
                    // The venue's own top of book is crossed: not passed on
                    // as a quote a strategy could act on, but reported.
                    self.stats.crossed += 1;
                    let synced = st.sync.is_synced();
                    batch.push(Event::status(
                        stamp,
                        StatusCode::Crossed,
                        t.bid_price.0,
                        t.ask_price.0,
                        synced,
                    ));
                    out.publish(batch, st.state(recv_ns), recv_ns);
                    return Ok(FrameKind::CrossedBbo(id));
                }
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

    /// Call after [`handle_frame`](Self::handle_frame) refused `frame`. If
    /// it names a known instrument, consumers get a `DecodeError` status
    /// (`a` = this feed's decode errors so far), and since a lost diff
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
        let mut outcome = st
            .sync
            .handle_snapshot(&snap, &mut st.book, &mut self.batch, now);
        if outcome == SnapshotOutcome::Synced {
            // A new book: stale diffs before it say nothing about it.
            st.stale_since = None;
        }
        // A crossed snapshot (or buffered diffs that cross it) is as wrong as
        // a crossed diff: consumers never see it (its staged levels are
        // dropped); they get `Crossed` and `Resync`, and another is fetched.
        if outcome == SnapshotOutcome::Synced
            && st.sync.policy() == GapPolicy::Resync
            && st.book.is_crossed()
        {
            self.stats.crossed += 1;
            self.batch.clear();
            let stamp = st.stamp(now);
            self.batch
                .push(Event::status(stamp, StatusCode::Crossed, 0, 0, false));
            st.sync
                .resync(ResyncReason::Crossed, &mut st.book, &mut self.batch, now);
            outcome = SnapshotOutcome::BadSnapshot(crate::book::BookError::Crossed);
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
        self.batch.clear();
        st.sync.resync(reason, &mut st.book, &mut self.batch, now);
        // A run of stale diffs was about the book that is gone.
        st.stale_since = None;
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
        let stamp = st.stamp(now);
        // A status that is not about the book keeps the book's consistency.
        self.batch
            .push(Event::status(stamp, code, a, b, st.sync.is_synced()));
        out.publish(&self.batch, st.state(now), now);
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

/// A symbol's bytes as two words and a length: equal keys mean equal
/// symbols (for up to 16 bytes the two words cover every byte, overlapping
/// when shorter), and a key costs two loads instead of a byte loop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct SymbolKey {
    head: u64,
    tail: u64,
    len: u8,
}

impl SymbolKey {
    /// The key of `symbol`; `None` above 16 bytes (those are looked up every time).
    #[inline]
    fn of(symbol: &[u8]) -> Option<SymbolKey> {
        let (head, tail) = if let (Some(h), Some(t)) = (symbol.first_chunk(), symbol.last_chunk()) {
            if symbol.len() > 16 {
                return None;
            }
            (u64::from_le_bytes(*h), u64::from_le_bytes(*t))
        } else if let (Some(h), Some(t)) = (symbol.first_chunk(), symbol.last_chunk()) {
            let word = |w: &[u8; 4]| u64::from(u32::from_le_bytes(*w));
            (word(h), word(t))
        } else {
            let packed = symbol
                .iter()
                .enumerate()
                .fold(0u64, |w, (i, &b)| w | u64::from(b) << (8 * i));
            (packed, 0)
        };
        Some(SymbolKey {
            head,
            tail,
            len: symbol.len() as u8,
        })
    }

    /// A slot of [`SymbolCache`].
    #[inline]
    fn slot(self) -> usize {
        let h = (self.head ^ self.tail.rotate_left(29) ^ u64::from(self.len))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (h >> 60) as usize
    }
}

/// Instrument ids of recently seen symbols, direct-mapped by [`SymbolKey`].
///
/// Only a hint: a hit is confirmed against the registry passed with the
/// frame (same venue, exactly the same symbol bytes) before it is used, so
/// a stale entry, or a different registry, can only cost a full lookup,
/// never a wrong instrument. Confirmed hits give what `Registry::lookup`
/// gives: symbols are unique per venue up to ASCII case, and an exact match
/// is such a match.
#[derive(Debug, Default)]
struct SymbolCache {
    slots: [Cell<Option<(SymbolKey, InstrumentId)>>; 16],
}

/// A [`Registry`]'s symbols for one venue, through a [`SymbolCache`].
struct CachedSymbols<'a> {
    registry: &'a Registry,
    venue: Venue,
    cache: &'a SymbolCache,
}

impl ResolveSymbol for CachedSymbols<'_> {
    #[inline]
    fn resolve(&self, symbol: &[u8]) -> Option<Scaling> {
        let Some(key) = SymbolKey::of(symbol) else {
            return self.registry.venue(self.venue).resolve(symbol);
        };
        let slot = &self.cache.slots[key.slot()];
        if let Some((k, id)) = slot.get() {
            if k == key && id.index() < self.registry.len() {
                let inst = self.registry.get(id);
                if inst.venue == self.venue && SymbolKey::of(inst.symbol.as_bytes()) == Some(key) {
                    return Some(inst.scaling());
                }
            }
        }
        let inst = self.registry.lookup(self.venue, symbol)?;
        slot.set(Some((key, inst.id)));
        Some(inst.scaling())
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

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Equal keys exactly when the symbols are equal, at every length a key covers.
        #[test]
        fn symbol_keys_identify_symbols(a in "[AB]{0,16}", b in "[AB]{0,16}") {
            let (ka, kb) = (SymbolKey::of(a.as_bytes()), SymbolKey::of(b.as_bytes()));
            proptest::prop_assert!(ka.is_some() && kb.is_some());
            proptest::prop_assert_eq!(ka == kb, a == b);
        }
    }

    #[test]
    fn long_symbols_have_no_key() {
        assert_eq!(SymbolKey::of(b"ABCDEFGHIJKLMNOPQ"), None);
    }

    #[test]
    fn cached_symbols_agree_with_the_registry_they_are_given() {
        let (spot, usdm) = (Venue::BinanceSpot, Venue::BinanceUsdm);
        let mut a = Registry::new();
        a.add(spot, "BTCUSDT", "0.01", "0.00001").unwrap();
        a.add(spot, "ETHUSDT", "0.01", "0.0001").unwrap();
        a.add(spot, "ABCDEFGHIJKLMNOPQRS", "1", "1").unwrap();
        let mut b = Registry::new();
        b.add(spot, "ETHUSDT", "0.1", "0.001").unwrap();
        b.add(usdm, "BTCUSDT", "0.1", "0.001").unwrap();
        b.add(spot, "BTCUSDT", "0.1", "0.001").unwrap();
        let cache = SymbolCache::default();
        let through = |registry: &Registry, venue: Venue, symbol: &[u8]| {
            let cached = CachedSymbols {
                registry,
                venue,
                cache: &cache,
            };
            let got = cached.resolve(symbol);
            assert_eq!(got, registry.venue(venue).resolve(symbol), "{symbol:?}");
            got
        };
        for _ in 0..2 {
            for registry in [&a, &b] {
                for venue in [spot, usdm] {
                    for symbol in [
                        &b"BTCUSDT"[..],
                        b"btcusdt",
                        b"ETHUSDT",
                        b"XRPUSDT",
                        b"ABCDEFGHIJKLMNOPQRS",
                        b"",
                    ] {
                        through(registry, venue, symbol);
                    }
                }
            }
        }
        // A hit from registry `a` is not trusted for registry `b`.
        assert_eq!(through(&a, spot, b"BTCUSDT").unwrap().instrument.0, 0);
        assert_eq!(through(&b, spot, b"BTCUSDT").unwrap().instrument.0, 2);
    }
}
