//! One Coinbase Advanced Trade connection, sans-IO: text frames and `now`
//! in; book events out through [`Publish`], subscribe texts out through
//! [`CoinbaseSession::poll_transmit`].

use super::decode::CoinbaseDecoder;
use super::msg::CoinbaseMsg;
use super::sync::{SeqCheck, apply_event, gap_all};
use crate::ring::{EventBatch, Publish, snapshot_events};
use crate::types::{Bbo, Event, InstrumentId, Nanos, Registry, Stamp};
use crate::types::{Trade, Venue};
use crate::venue::instrument::{publish_bbo, report_undecodable};
use crate::venue::scan::sniff::sniff_string;
use crate::venue::symbols::{CachedSymbols, SymbolCache};
use crate::venue::{
    Channel, DecodeError, DecodeStats, DiffOutcome, FeedStats, FrameKind, InstrumentBook,
    SessionPlan,
};

const NS_PER_SEC: Nanos = 1_000_000_000;
/// How far into a refused frame its `sequence_num` and `product_id` are
/// looked for (both come before the levels).
const SNIFF_BYTES: usize = 4096;

/// Where the resubscription of the books that want a snapshot is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resub {
    /// Nothing to do.
    Idle,
    /// Unsubscribe `level2` for the marked products next.
    Unsubscribe,
    /// Subscribe `level2` for them again (the venue then sends snapshots).
    Subscribe,
}

/// One Coinbase connection.
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
/// Subscribes one channel per message (`level2`, `market_trades`, `ticker`
/// as configured, and always `heartbeats`, so quiet channels are not cut),
/// one message per `1 / control_per_sec` seconds. Every frame's
/// `sequence_num` is checked first; a jump resyncs every book (unsubscribe
/// + subscribe `level2` for their products).
#[derive(Debug)]
pub struct CoinbaseSession {
    url: String,
    ids: Vec<InstrumentId>,
    symbols: Vec<String>,
    /// Coinbase channel names subscribed, one message each.
    channels: Vec<&'static str>,
    /// Whether `level2` is among them.
    depth: bool,
    decoder: CoinbaseDecoder,
    symbol_cache: SymbolCache,
    batch: EventBatch,
    seq: SeqCheck,
    /// Per plan position: in the resubscription under way.
    marked: Vec<bool>,
    resub: Resub,
    /// `InstrumentId::index()` → plan position (`u32::MAX`: not ours).
    slot: Vec<u32>,
    stats: FeedStats,
    open: bool,
    /// The next channel of the initial subscription.
    next_channel: usize,
    /// Spacing of control messages, ns.
    interval: Nanos,
    /// No control message before this.
    next_control: Nanos,
}

impl CoinbaseSession {
    /// A session for `plan`. Allocates everything now, the decoder's
    /// buffers for frames of `plan.max_frame` bytes among it.
    pub fn new(plan: &SessionPlan) -> CoinbaseSession {
        let mut channels: Vec<&'static str> = plan
            .channels
            .iter()
            .filter_map(|c| match c {
                Channel::Depth => Some("level2"),
                Channel::BookTicker => Some("ticker"),
                Channel::Trade => Some("market_trades"),
                Channel::AggTrade => None,
            })
            .collect();
        channels.push("heartbeats");
        let depth = channels.contains(&"level2");
        let ids: Vec<InstrumentId> = plan.instruments.iter().map(|i| i.id).collect();
        let max_index = ids.iter().map(|i| i.index() + 1).max().unwrap_or(0);
        let mut slot = vec![u32::MAX; max_index];
        for (pos, id) in ids.iter().enumerate() {
            slot[id.index()] = pos as u32;
        }
        let capacity = plan.book_capacity.max(1);
        // An update frame stages up to three events a level (evictions);
        // a snapshot stages the whole book.
        let update_levels = 4_096;
        let batch =
            EventBatch::with_capacity((3 * update_levels).max(snapshot_events(2 * capacity)) + 8);
        let per_sec = Nanos::from(plan.control_per_sec.max(1));
        CoinbaseSession {
            url: plan.ws_url.clone(),
            symbols: plan.instruments.iter().map(|i| i.symbol.clone()).collect(),
            marked: vec![false; ids.len()],
            ids,
            channels,
            depth,
            decoder: CoinbaseDecoder::new(plan.max_frame),
            symbol_cache: SymbolCache::default(),
            batch,
            seq: SeqCheck::default(),
            resub: Resub::Idle,
            slot,
            stats: FeedStats::default(),
            open: false,
            next_channel: 0,
            interval: NS_PER_SEC.div_ceil(per_sec),
            next_control: 0,
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

    /// The `sequence_num` the next frame must carry.
    pub fn expected_seq(&self) -> Option<u64> {
        self.seq.expected()
    }

    fn position(&self, id: InstrumentId) -> Option<usize> {
        match self.slot.get(id.index()) {
            Some(&p) if p != u32::MAX => Some(p as usize),
            _ => None,
        }
    }

    /// The socket is open: queue the subscription; the count of
    /// `sequence_num` starts again. A snapshot awaited from a dead
    /// connection will not come: it is forgotten (the subscription about
    /// to go out brings a new one).
    pub fn handle_open(&mut self, now: Nanos, books: &mut [InstrumentBook]) {
        for id in &self.ids {
            if let Some(st) = books.get_mut(id.index()) {
                if st.sync.snapshot_in_flight() {
                    st.sync.snapshot_failed();
                }
            }
        }
        self.open = true;
        self.next_channel = 0;
        self.resub = Resub::Idle;
        self.marked.fill(false);
        self.seq.reset();
        self.next_control = now;
    }

    /// The socket is gone: forget queued transmits and the sequence.
    pub fn handle_closed(&mut self, _now: Nanos) {
        self.open = false;
        self.next_channel = 0;
        self.resub = Resub::Idle;
        self.marked.fill(false);
        self.seq.reset();
    }

    /// The per-message path: decode → `sequence_num` → sync → book →
    /// staged events → `out.publish`. Allocates nothing.
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
        let symbols = CachedSymbols::new(registry, Venue::Coinbase, &self.symbol_cache);
        let f = match self.decoder.decode(frame, &symbols) {
            Ok(f) => f,
            Err(e) => {
                self.stats.decode_errors += 1;
                return Err(e);
            }
        };
        let batch = &mut self.batch;
        let mut gap = None;
        if let Some(s) = f.seq {
            if let Some((expected, got)) = self.seq.check(s) {
                gap_all(&self.ids, books, expected, got, f.ts_ns, now, batch, out);
                gap = Some(DiffOutcome::Gap { expected, got });
            }
        }
        let seq = f.seq.unwrap_or(0);
        let slot = &self.slot;
        let ours = |id: InstrumentId| matches!(slot.get(id.index()), Some(&p) if p != u32::MAX);
        let kind = match f.msg {
            CoinbaseMsg::L2(m) => {
                let mut kind = FrameKind::Ignored;
                for e in m.events {
                    let Some(scaling) = e.scaling else { continue };
                    let id = scaling.instrument;
                    let (true, Some(st)) = (ours(id), books.get_mut(id.index())) else {
                        continue;
                    };
                    batch.clear();
                    let (bids, asks) = (m.bids_of(e), m.asks_of(e));
                    let outcome = apply_event(st, e.kind, bids, asks, seq, f.ts_ns, now, batch);
                    st.note_update(outcome, now);
                    if !batch.is_empty() {
                        out.publish(batch, st.state(now), now);
                    }
                    // The first outcome that is not plain progress is the frame's.
                    if matches!(
                        kind,
                        FrameKind::Ignored | FrameKind::Depth(_, DiffOutcome::Applied)
                    ) {
                        kind = FrameKind::Depth(id, outcome);
                    }
                }
                kind
            }
            CoinbaseMsg::Tickers(tickers) => {
                let mut kind = FrameKind::Ignored;
                for t in tickers {
                    let id = t.scaling.instrument;
                    if !ours(id) {
                        continue;
                    }
                    let stamp = Stamp {
                        venue: Venue::Coinbase,
                        instrument: id,
                        seq,
                        exch_ns: f.ts_ns,
                        recv_ns: now,
                    };
                    let bbo = Bbo {
                        bid_price: t.bid.price,
                        bid_qty: t.bid.qty,
                        ask_price: t.ask.price,
                        ask_qty: t.ask.qty,
                    };
                    batch.clear();
                    kind = publish_bbo(&mut self.stats, batch, books, stamp, bbo, out);
                }
                kind
            }
            CoinbaseMsg::Trades(trades) => {
                let mut kind = FrameKind::Ignored;
                for t in trades.iter().filter(|t| t.live) {
                    let id = t.scaling.instrument;
                    let (true, Some(st)) = (ours(id), books.get_mut(id.index())) else {
                        continue;
                    };
                    st.last_msg_ns = now;
                    let stamp = Stamp {
                        venue: Venue::Coinbase,
                        instrument: id,
                        seq: t.trade_id,
                        exch_ns: t.time_ns,
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
                    kind = FrameKind::Trade(id);
                }
                kind
            }
            CoinbaseMsg::Subscriptions => FrameKind::SubscribeResult(None),
            CoinbaseMsg::Error { .. } => {
                self.stats.venue_errors += 1;
                // Coinbase sends no numeric code.
                FrameKind::VenueError(0)
            }
            CoinbaseMsg::Heartbeat { .. } | CoinbaseMsg::Unhandled { .. } => FrameKind::Ignored,
        };
        Ok(match (gap, self.ids.first()) {
            (Some(g), Some(&first)) => FrameKind::Depth(first, g),
            _ => kind,
        })
    }

    /// After [`handle_text`](Self::handle_text) refused `frame`: its
    /// `sequence_num`, when it can be read from the frame's start, still
    /// counts (a jump resyncs every book); a `DecodeError` status for the
    /// product it names (`a` = the decode errors so far), and under
    /// [`GapPolicy::Resync`] a resync of that book when the frame was an
    /// `l2_data` one (an update was lost) — an oversized snapshot included.
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
        let head = &frame[..frame.len().min(SNIFF_BYTES)];
        if let Some(s) = sniff_uint(head, b"\"sequence_num\":") {
            if let Some((expected, got)) = self.seq.check(s) {
                gap_all(
                    &self.ids,
                    books,
                    expected,
                    got,
                    0,
                    now,
                    &mut self.batch,
                    out,
                );
            }
        }
        let Some(symbol) = sniff_string(head, b"\"product_id\":\"") else {
            return;
        };
        let Some(inst) = registry.lookup(Venue::Coinbase, symbol) else {
            return;
        };
        let (Some(_), Some(st)) = (self.position(inst.id), books.get_mut(inst.id.index())) else {
            return;
        };
        let is_book = sniff_string(head, b"\"channel\":\"") == Some(b"l2_data");
        let errors = self.stats.decode_errors;
        report_undecodable(st, errors, is_book, now, &mut self.batch, out);
    }

    /// The next text to send, written into `buf` (cleared first): the
    /// subscription, one channel per message, then an unsubscribe and a
    /// subscribe of `level2` for the products whose books want a snapshot.
    /// False: nothing to send now.
    pub fn poll_transmit(
        &mut self,
        now: Nanos,
        books: &mut [InstrumentBook],
        buf: &mut String,
    ) -> bool {
        if !self.open || now < self.next_control {
            return false;
        }
        if self.next_channel < self.channels.len() {
            let channel = self.channels[self.next_channel];
            self.next_channel += 1;
            if channel == "level2" {
                // This subscribe brings the snapshots a resync wants.
                for id in &self.ids {
                    if let Some(st) = books.get_mut(id.index()) {
                        // In flight from now on: a gap before it arrives asks again.
                        st.sync.request_snapshot();
                        st.sync.take_snapshot_request();
                    }
                }
            }
            self.write(buf, "subscribe", channel, &[]);
            self.next_control = now + self.interval;
            return true;
        }
        if !self.depth {
            return false;
        }
        if self.resub == Resub::Idle {
            for (pos, id) in self.ids.iter().enumerate() {
                let wants = books
                    .get_mut(id.index())
                    .is_some_and(|st| st.sync.take_snapshot_request());
                self.marked[pos] = wants;
            }
            if self.marked.contains(&true) {
                self.resub = Resub::Unsubscribe;
            }
        }
        let op = match self.resub {
            Resub::Idle => return false,
            Resub::Unsubscribe => {
                self.resub = Resub::Subscribe;
                "unsubscribe"
            }
            Resub::Subscribe => {
                self.resub = Resub::Idle;
                "subscribe"
            }
        };
        let marked = std::mem::take(&mut self.marked);
        self.write(buf, op, "level2", &marked);
        self.marked = marked;
        if self.resub == Resub::Idle {
            self.marked.fill(false);
        }
        self.next_control = now + self.interval;
        true
    }

    /// The next time [`poll_transmit`](Self::poll_transmit) may have
    /// something: the next control slot while anything is queued. (A book
    /// that starts wanting a snapshot is seen at the next call whatever
    /// this says.)
    pub fn poll_timeout(&self, _now: Nanos) -> Option<Nanos> {
        if !self.open {
            return None;
        }
        let queued = self.next_channel < self.channels.len() || self.resub != Resub::Idle;
        queued.then_some(self.next_control)
    }

    /// `{"type":op,"product_ids":[..],"channel":channel}` for the products
    /// marked in `only` (every product when `only` is empty).
    fn write(&self, buf: &mut String, op: &str, channel: &str, only: &[bool]) {
        buf.clear();
        buf.push_str(r#"{"type":""#);
        buf.push_str(op);
        buf.push_str(r#"","product_ids":["#);
        let mut first = true;
        for (pos, s) in self.symbols.iter().enumerate() {
            if !only.is_empty() && !only[pos] {
                continue;
            }
            if !first {
                buf.push(',');
            }
            first = false;
            buf.push('"');
            buf.push_str(s);
            buf.push('"');
        }
        buf.push_str(r#"],"channel":""#);
        buf.push_str(channel);
        buf.push_str(r#""}"#);
    }
}

/// The unsigned integer after `key` (error path only).
fn sniff_uint(frame: &[u8], key: &[u8]) -> Option<u64> {
    let at = frame.windows(key.len()).position(|w| w == key)? + key.len();
    let digits = frame[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || digits > 19 {
        return None;
    }
    std::str::from_utf8(&frame[at..at + digits])
        .ok()?
        .parse()
        .ok()
}
