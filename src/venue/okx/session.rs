//! One OKX public WebSocket connection, sans-IO: text frames and `now` in;
//! book events out through [`Publish`], control messages out through
//! [`OkxSession::poll_transmit`].

use std::fmt::Write as _;

use super::consts::{OPS_PER_HOUR, PING_IDLE};
use super::decode::OkxDecoder;
use super::msg::OkxMsg;
use super::sync::OkxBookSync;
use crate::ring::{EventBatch, Publish, snapshot_events};
use crate::types::{Bbo, Event, InstrumentId, Nanos, Registry, Stamp, Trade, Venue};
use crate::venue::instrument::{publish_bbo, report_undecodable};
use crate::venue::scan::sniff::sniff_string;
use crate::venue::symbols::{CachedSymbols, SymbolCache};
use crate::venue::{
    Channel, DecodeError, DecodeStats, FeedStats, FrameKind, InstrumentBook, SessionPlan,
};

const NS_PER_SEC: Nanos = 1_000_000_000;
const HOUR: Nanos = 3_600 * NS_PER_SEC;
/// OKX's limit of args in one subscribe request (the Profile's).
const MAX_ARGS: usize = 30;

/// Where an instrument's depth resubscription is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resub {
    /// Nothing to do.
    Idle,
    /// A snapshot is wanted: unsubscribe `books` next.
    Unsubscribe,
    /// Unsubscribed: subscribe `books` again (the venue then sends a snapshot).
    Subscribe,
}

/// One OKX connection.
///
/// Call order: [`new`](Self::new) → (the engine connects to
/// [`url`](Self::url)) → [`handle_open`](Self::handle_open) → then, in any
/// order, [`handle_text`](Self::handle_text) for each text frame (and
/// [`handle_undecodable`](Self::handle_undecodable) after one it refused),
/// [`poll_transmit`](Self::poll_transmit) and
/// [`poll_timeout`](Self::poll_timeout) whenever the engine loops →
/// [`handle_closed`](Self::handle_closed) when the socket dies (then
/// `handle_open` again on the next connection). Time is always passed in.
///
/// Control messages (subscribe, unsubscribe, `ping`) are paced to one per
/// `1 / control_per_sec` seconds; subscribe and unsubscribe also to OKX's
/// 480 an hour per connection (each message counts as one).
#[derive(Debug)]
pub struct OkxSession {
    url: String,
    ids: Vec<InstrumentId>,
    symbols: Vec<String>,
    /// OKX channel names subscribed for every instrument.
    channels: Vec<&'static str>,
    /// Whether `books` is among them.
    depth: bool,
    /// Args per subscribe message (1..=30).
    per_message: usize,
    decoder: OkxDecoder,
    /// Instruments of recently seen `instId`s (hints, confirmed against the registry).
    symbol_cache: SymbolCache,
    batch: EventBatch,
    /// Per instrument of the plan, in plan order.
    syncs: Vec<OkxBookSync>,
    resub: Vec<Resub>,
    /// `InstrumentId::index()` → plan position (`u32::MAX`: not ours).
    slot: Vec<u32>,
    stats: FeedStats,
    open: bool,
    /// The next (instrument, channel) arg of the initial subscription.
    next_arg: usize,
    /// Spacing of control messages, ns.
    interval: Nanos,
    /// No control message before this.
    next_control: Nanos,
    /// Send times of the last subscribe/unsubscribe messages (a ring of
    /// [`OPS_PER_HOUR`]), for the hourly limit.
    ops: Vec<Nanos>,
    ops_head: usize,
    last_rx: Nanos,
    ping_sent: bool,
}

impl OkxSession {
    /// A session for `plan`. Allocates everything now.
    pub fn new(plan: &SessionPlan) -> OkxSession {
        let channels: Vec<&'static str> = plan
            .channels
            .iter()
            .filter_map(|c| match c {
                Channel::Depth => Some("books"),
                Channel::BookTicker => Some("bbo-tbt"),
                Channel::Trade => Some("trades"),
                Channel::AggTrade => None,
            })
            .collect();
        let depth = channels.contains(&"books");
        let ids: Vec<InstrumentId> = plan.instruments.iter().map(|i| i.id).collect();
        let max_index = ids.iter().map(|i| i.index() + 1).max().unwrap_or(0);
        let mut slot = vec![u32::MAX; max_index];
        for (pos, id) in ids.iter().enumerate() {
            slot[id.index()] = pos as u32;
        }
        let capacity = plan.book_capacity.max(1);
        let max_levels = super::DEFAULT_MAX_LEVELS;
        let batch =
            EventBatch::with_capacity((3 * 2 * max_levels).max(snapshot_events(2 * capacity)) + 8);
        let per_sec = Nanos::from(plan.control_per_sec.max(1));
        OkxSession {
            url: plan.ws_url.clone(),
            symbols: plan.instruments.iter().map(|i| i.symbol.clone()).collect(),
            syncs: ids.iter().map(|_| OkxBookSync::new(capacity)).collect(),
            resub: vec![Resub::Idle; ids.len()],
            ids,
            channels,
            depth,
            per_message: plan.streams_per_subscribe.clamp(1, MAX_ARGS),
            decoder: OkxDecoder::with_limits(plan.max_frame, max_levels),
            batch,
            slot,
            stats: FeedStats::default(),
            symbol_cache: SymbolCache::default(),
            open: false,
            next_arg: 0,
            interval: NS_PER_SEC.div_ceil(per_sec),
            next_control: 0,
            ops: vec![0; OPS_PER_HOUR as usize],
            ops_head: 0,
            last_rx: 0,
            ping_sent: false,
        }
    }

    /// The WebSocket URL to connect to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The instruments this connection carries.
    pub fn instruments(&self) -> &[InstrumentId] {
        &self.ids
    }

    /// Counters.
    pub fn stats(&self) -> FeedStats {
        self.stats
    }

    /// Fast-path vs tape-path counts.
    pub fn decode_stats(&self) -> DecodeStats {
        self.decoder.stats()
    }

    /// OKX's state of the instrument `id` (its spellings, last `seqId`).
    pub fn book_sync(&self, id: InstrumentId) -> Option<&OkxBookSync> {
        self.position(id).map(|p| &self.syncs[p])
    }

    fn position(&self, id: InstrumentId) -> Option<usize> {
        match self.slot.get(id.index()) {
            Some(&p) if p != u32::MAX => Some(p as usize),
            _ => None,
        }
    }

    /// The socket is open: queue the subscription. A snapshot still
    /// awaited from a dead connection will not come: it is forgotten (the
    /// subscription about to go out brings a new one).
    pub fn handle_open(&mut self, now: Nanos, books: &mut [InstrumentBook]) {
        for id in &self.ids {
            if let Some(st) = books.get_mut(id.index()) {
                if st.sync.snapshot_in_flight() {
                    st.sync.snapshot_failed();
                }
            }
        }
        self.open = true;
        self.next_arg = 0;
        self.resub.fill(Resub::Idle);
        self.next_control = now;
        self.last_rx = now;
        self.ping_sent = false;
    }

    /// The socket is gone: forget queued transmits and subscription state.
    pub fn handle_closed(&mut self, _now: Nanos) {
        self.open = false;
        self.next_arg = 0;
        self.resub.fill(Resub::Idle);
        for s in &mut self.syncs {
            s.reset();
        }
    }

    /// The per-message path: decode → sync → book → staged events →
    /// `out.publish`. Allocates nothing.
    #[inline]
    pub fn handle_text<P: Publish>(
        &mut self,
        frame: &[u8],
        now: Nanos,
        registry: &Registry,
        books: &mut [InstrumentBook],
        out: &mut P,
    ) -> Result<FrameKind, DecodeError> {
        self.stats.frames += 1;
        self.last_rx = now;
        self.ping_sent = false;
        let symbols = CachedSymbols::new(registry, Venue::Okx, &self.symbol_cache);
        let msg = match self.decoder.decode(frame, &symbols) {
            Ok(m) => m,
            Err(e) => {
                self.stats.decode_errors += 1;
                return Err(e);
            }
        };
        let batch = &mut self.batch;
        batch.clear();
        let book_of = |id: InstrumentId, slot: &[u32]| match slot.get(id.index()) {
            Some(&p) if p != u32::MAX => Some(p as usize),
            _ => None,
        };
        Ok(match msg {
            OkxMsg::Book(m) => {
                let id = m.scaling.instrument;
                let (Some(pos), Some(st)) = (book_of(id, &self.slot), books.get_mut(id.index()))
                else {
                    return Ok(FrameKind::Ignored);
                };
                let outcome = self.syncs[pos].handle_book(st, &m, now, batch);
                st.note_update(outcome, now);
                if !batch.is_empty() {
                    out.publish(batch, st.state(now), now);
                }
                FrameKind::Depth(id, outcome)
            }
            OkxMsg::Bbo(b) => {
                // One side empty: no quote to pass on.
                let (Some(bid), Some(ask)) = (b.bid, b.ask) else {
                    return Ok(FrameKind::Ignored);
                };
                let stamp = Stamp {
                    venue: Venue::Okx,
                    instrument: b.scaling.instrument,
                    seq: b.seq_id.map_or(0, |s| s.max(0) as u64),
                    exch_ns: b.ts_ms.saturating_mul(1_000_000),
                    recv_ns: now,
                };
                let bbo = Bbo {
                    bid_price: bid.price,
                    bid_qty: bid.qty,
                    ask_price: ask.price,
                    ask_qty: ask.qty,
                };
                // A crossed quote is reported, not passed on.
                publish_bbo(&mut self.stats, batch, books, stamp, bbo, out)
            }
            OkxMsg::Trades(trades) => {
                let Some(first) = trades.first() else {
                    return Ok(FrameKind::Ignored);
                };
                let id = first.scaling.instrument;
                let Some(st) = books.get_mut(id.index()) else {
                    return Ok(FrameKind::Ignored);
                };
                st.last_msg_ns = now;
                for t in trades {
                    let stamp = Stamp {
                        venue: Venue::Okx,
                        instrument: id,
                        seq: t.trade_id,
                        exch_ns: t.ts_ms.saturating_mul(1_000_000),
                        recv_ns: now,
                    };
                    let trade = Trade {
                        price: t.price,
                        qty: t.qty,
                        aggressor: t.aggressor,
                        trade_id: t.trade_id,
                        aggregated: false,
                        first_trade_id: t.trade_id as i64,
                        last_trade_id: t.trade_id as i64,
                    };
                    batch.clear();
                    batch.push(Event::trade(stamp, trade));
                    out.publish(batch, st.state(now), now);
                }
                FrameKind::Trade(id)
            }
            OkxMsg::Subscribed(_) | OkxMsg::Unsubscribed(_) => FrameKind::SubscribeResult(None),
            OkxMsg::VenueError { code, .. } => {
                self.stats.venue_errors += 1;
                FrameKind::VenueError(code)
            }
            OkxMsg::Notice { .. } => FrameKind::ServerShutdown,
            OkxMsg::Pong => FrameKind::Pong,
            OkxMsg::Unhandled { .. } | OkxMsg::UnknownSymbol { .. } => FrameKind::Ignored,
        })
    }

    /// After [`handle_text`](Self::handle_text) refused `frame`: a
    /// `DecodeError` status for the instrument it names (if any; `a` = the
    /// decode errors so far), and under [`GapPolicy::Resync`] a resync of
    /// that synced book when the frame was a `books` one (an update was lost).
    #[cold]
    #[inline(never)]
    pub fn handle_undecodable<P: Publish>(
        &mut self,
        frame: &[u8],
        now: Nanos,
        registry: &Registry,
        books: &mut [InstrumentBook],
        out: &mut P,
    ) {
        let Some(symbol) = sniff_string(frame, b"\"instId\":\"") else {
            return;
        };
        let Some(inst) = registry.lookup(Venue::Okx, symbol) else {
            return;
        };
        let (Some(pos), Some(st)) = (self.position(inst.id), books.get_mut(inst.id.index())) else {
            return;
        };
        let is_book = sniff_string(frame, b"\"channel\":\"") == Some(b"books");
        let errors = self.stats.decode_errors;
        if report_undecodable(st, errors, is_book, now, &mut self.batch, out) {
            self.syncs[pos].reset();
        }
    }

    /// The next text to send, written into `buf` (cleared first): the
    /// subscription in chunks, then an unsubscribe + subscribe of `books`
    /// for each instrument whose book wants a snapshot, then `ping` when
    /// nothing was received for [`PING_IDLE`]. False: nothing to send now.
    pub fn poll_transmit(
        &mut self,
        now: Nanos,
        books: &mut [InstrumentBook],
        buf: &mut String,
    ) -> bool {
        if !self.open || now < self.next_control {
            return false;
        }
        let total = self.ids.len() * self.channels.len();
        if self.next_arg < total {
            if !self.op_allowed(now) {
                return false;
            }
            let end = (self.next_arg + self.per_message).min(total);
            buf.clear();
            buf.push_str(r#"{"op":"subscribe","args":["#);
            for k in self.next_arg..end {
                let (pos, ch) = (k / self.channels.len(), k % self.channels.len());
                if k > self.next_arg {
                    buf.push(',');
                }
                self.push_arg(buf, self.channels[ch], pos);
                if self.channels[ch] == "books" {
                    // This subscribe brings a snapshot: it is in flight
                    // (and timed by the engine, should the venue refuse).
                    if let Some(st) = books.get_mut(self.ids[pos].index()) {
                        st.sync.request_snapshot();
                        st.sync.take_snapshot_request();
                    }
                }
            }
            buf.push_str("]}");
            self.next_arg = end;
            self.sent_op(now);
            return true;
        }
        if self.depth {
            for pos in 0..self.ids.len() {
                if self.resub[pos] == Resub::Idle {
                    let wants = books
                        .get_mut(self.ids[pos].index())
                        .is_some_and(|st| st.sync.take_snapshot_request());
                    if wants {
                        self.resub[pos] = Resub::Unsubscribe;
                    }
                }
            }
            if let Some(pos) = self.resub.iter().position(|r| *r != Resub::Idle) {
                if !self.op_allowed(now) {
                    return false;
                }
                let op = match self.resub[pos] {
                    Resub::Unsubscribe => {
                        self.resub[pos] = Resub::Subscribe;
                        "unsubscribe"
                    }
                    _ => {
                        self.resub[pos] = Resub::Idle;
                        "subscribe"
                    }
                };
                buf.clear();
                let _ = write!(buf, r#"{{"op":"{op}","args":["#);
                self.push_arg(buf, "books", pos);
                buf.push_str("]}");
                self.sent_op(now);
                return true;
            }
        }
        if !self.ping_sent && now.saturating_sub(self.last_rx) >= PING_IDLE.as_nanos() as Nanos {
            buf.clear();
            buf.push_str("ping");
            self.ping_sent = true;
            self.next_control = now + self.interval;
            return true;
        }
        false
    }

    /// The next time [`poll_transmit`](Self::poll_transmit) may have
    /// something: the next control slot while anything is queued, else when
    /// a ping falls due. (A book that starts wanting a snapshot is seen at
    /// the next call whatever this says.)
    pub fn poll_timeout(&self, _now: Nanos) -> Option<Nanos> {
        if !self.open {
            return None;
        }
        let queued = self.next_arg < self.ids.len() * self.channels.len()
            || self.resub.iter().any(|r| *r != Resub::Idle);
        if queued {
            return Some(self.next_control.max(self.op_free_at()));
        }
        if self.ping_sent {
            return None;
        }
        Some((self.last_rx + PING_IDLE.as_nanos() as Nanos).max(self.next_control))
    }

    fn push_arg(&self, buf: &mut String, channel: &str, pos: usize) {
        buf.push_str(r#"{"channel":""#);
        buf.push_str(channel);
        buf.push_str(r#"","instId":""#);
        buf.push_str(&self.symbols[pos]);
        buf.push_str(r#""}"#);
    }

    /// When the hourly window has room for one more op.
    fn op_free_at(&self) -> Nanos {
        // The oldest of the last OPS_PER_HOUR sends (0 while fewer were sent).
        let oldest = self.ops[self.ops_head];
        if oldest == 0 { 0 } else { oldest + HOUR }
    }

    fn op_allowed(&self, now: Nanos) -> bool {
        now >= self.op_free_at()
    }

    fn sent_op(&mut self, now: Nanos) {
        // Time 0 marks an unused slot; an op at 0 counts from 1 ns.
        self.ops[self.ops_head] = now.max(1);
        self.ops_head = (self.ops_head + 1) % self.ops.len();
        self.next_control = now + self.interval;
    }
}
