//! One Kraken v2 public WebSocket connection, sans-IO: text frames and
//! `now` in; book events out through [`Publish`], control messages out
//! through [`KrakenSession::poll_transmit`].

use std::fmt::Write as _;

use super::consts::PING_IDLE;
use super::decode::KrakenDecoder;
use super::msg::KrakenMsg;
use super::sync::KrakenBookSync;
use crate::ring::{EventBatch, Publish, snapshot_events};
use crate::types::{Bbo, Event, InstrumentId, Nanos, Registry, Stamp, Trade, Venue};
use crate::venue::instrument::{publish_bbo, report_undecodable};
use crate::venue::scan::sniff::sniff_string;
use crate::venue::symbols::{CachedSymbols, SymbolCache};
use crate::venue::{
    Channel, DecodeError, DecodeStats, FeedStats, FrameKind, InstrumentBook, SessionPlan,
};

const NS_PER_SEC: Nanos = 1_000_000_000;

/// A channel subscribed for every instrument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chan {
    /// `book` at the subscribed depth.
    Book,
    /// `ticker` with `event_trigger: "bbo"`: a message on every change of
    /// the best bid or offer (the BBO source; a second `book` subscription
    /// of depth 1 for the same pair is not possible on one connection).
    Bbo,
    /// `trade`.
    Trade,
}

/// Where an instrument's book resubscription is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resub {
    /// Nothing to do.
    Idle,
    /// A snapshot is wanted: unsubscribe `book` next.
    Unsubscribe,
    /// Unsubscribed: subscribe `book` again (the venue then sends a snapshot).
    Subscribe,
}

/// One Kraken connection.
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
/// Control messages (subscribe, unsubscribe, ping) go out one per
/// `1 / control_per_sec` seconds. Every received frame counts as liveness
/// (Kraken's ~1 Hz heartbeats included, which also keep quiet books from
/// looking stale); after [`PING_IDLE`] of silence a `ping` goes out.
#[derive(Debug)]
pub struct KrakenSession {
    url: String,
    ids: Vec<InstrumentId>,
    symbols: Vec<String>,
    channels: Vec<Chan>,
    depth: u32,
    /// Symbols per subscribe message.
    per_message: usize,
    decoder: KrakenDecoder,
    symbol_cache: SymbolCache,
    batch: EventBatch,
    /// Per instrument of the plan, in plan order.
    syncs: Vec<KrakenBookSync>,
    resub: Vec<Resub>,
    /// `InstrumentId::index()` → plan position (`u32::MAX`: not ours).
    slot: Vec<u32>,
    stats: FeedStats,
    open: bool,
    /// The next message of the initial subscription (channel-major, then
    /// chunks of `per_message` symbols).
    next_sub: usize,
    /// Spacing of control messages, ns.
    interval: Nanos,
    /// No control message before this.
    next_control: Nanos,
    last_rx: Nanos,
    ping_sent: bool,
    /// `req_id` of the next ping.
    ping_id: u64,
    /// The last `connection_id` the venue announced.
    connection_id: Option<u64>,
}

impl KrakenSession {
    /// A session for `plan`. Allocates everything now.
    pub fn new(plan: &SessionPlan) -> KrakenSession {
        let channels: Vec<Chan> = plan
            .channels
            .iter()
            .filter_map(|c| match c {
                Channel::Depth => Some(Chan::Book),
                Channel::BookTicker => Some(Chan::Bbo),
                Channel::Trade => Some(Chan::Trade),
                Channel::AggTrade => None,
            })
            .collect();
        let ids: Vec<InstrumentId> = plan.instruments.iter().map(|i| i.id).collect();
        let max_index = ids.iter().map(|i| i.index() + 1).max().unwrap_or(0);
        let mut slot = vec![u32::MAX; max_index];
        for (pos, id) in ids.iter().enumerate() {
            slot[id.index()] = pos as u32;
        }
        let capacity = plan.book_capacity.max(1);
        let max_levels = super::DEFAULT_MAX_LEVELS;
        // An update's level events, as many removals by the cut, statuses.
        let batch =
            EventBatch::with_capacity((3 * 2 * max_levels).max(snapshot_events(2 * capacity)) + 8);
        let per_sec = Nanos::from(plan.control_per_sec.max(1));
        KrakenSession {
            url: plan.ws_url.clone(),
            symbols: plan.instruments.iter().map(|i| i.symbol.clone()).collect(),
            syncs: ids
                .iter()
                .map(|_| KrakenBookSync::new(plan.depth))
                .collect(),
            resub: vec![Resub::Idle; ids.len()],
            ids,
            channels,
            depth: plan.depth,
            per_message: plan.streams_per_subscribe.max(1),
            decoder: KrakenDecoder::with_limits(plan.max_frame, super::DEFAULT_MAX_LEVELS),
            symbol_cache: SymbolCache::default(),
            batch,
            slot,
            stats: FeedStats::default(),
            open: false,
            next_sub: 0,
            interval: NS_PER_SEC.div_ceil(per_sec),
            next_control: 0,
            last_rx: 0,
            ping_sent: false,
            ping_id: 1,
            connection_id: None,
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

    /// Fast-path vs reference-walk counts.
    pub fn decode_stats(&self) -> DecodeStats {
        self.decoder.stats()
    }

    /// The `connection_id` of the venue's last `status` frame.
    pub fn connection_id(&self) -> Option<u64> {
        self.connection_id
    }

    fn position(&self, id: InstrumentId) -> Option<usize> {
        match self.slot.get(id.index()) {
            Some(&p) if p != u32::MAX => Some(p as usize),
            _ => None,
        }
    }

    fn chunks(&self) -> usize {
        self.ids.len().div_ceil(self.per_message)
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
        self.next_sub = 0;
        self.resub.fill(Resub::Idle);
        self.next_control = now;
        self.last_rx = now;
        self.ping_sent = false;
    }

    /// The socket is gone: forget queued transmits and subscription state.
    pub fn handle_closed(&mut self, _now: Nanos) {
        self.open = false;
        self.next_sub = 0;
        self.resub.fill(Resub::Idle);
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
        let symbols = CachedSymbols::new(registry, Venue::Kraken, &self.symbol_cache);
        let msg = match self.decoder.decode(frame, &symbols) {
            Ok(m) => m,
            Err(e) => {
                self.stats.decode_errors += 1;
                return Err(e);
            }
        };
        let batch = &mut self.batch;
        let slot = &self.slot;
        let book_of = |id: InstrumentId| match slot.get(id.index()) {
            Some(&p) if p != u32::MAX => Some(p as usize),
            _ => None,
        };
        Ok(match msg {
            KrakenMsg::Book(m) => {
                let mut kind = FrameKind::Ignored;
                for view in m.entries() {
                    let id = view.scaling.instrument;
                    let (Some(pos), Some(st)) = (book_of(id), books.get_mut(id.index())) else {
                        continue;
                    };
                    batch.clear();
                    let outcome = self.syncs[pos].handle_book(st, &view, now, batch);
                    st.note_update(outcome, now);
                    if !batch.is_empty() {
                        out.publish(batch, st.state(now), now);
                    }
                    kind = FrameKind::Depth(id, outcome);
                }
                kind
            }
            KrakenMsg::Bbo(quotes) => {
                let mut kind = FrameKind::Ignored;
                for q in quotes {
                    let stamp = Stamp {
                        venue: Venue::Kraken,
                        instrument: q.scaling.instrument,
                        seq: 0,
                        exch_ns: q.exch_ns,
                        recv_ns: now,
                    };
                    let bbo = Bbo {
                        bid_price: q.bid.price,
                        bid_qty: q.bid.qty,
                        ask_price: q.ask.price,
                        ask_qty: q.ask.qty,
                    };
                    batch.clear();
                    // A crossed quote is reported, not passed on.
                    kind = publish_bbo(&mut self.stats, batch, books, stamp, bbo, out);
                }
                kind
            }
            KrakenMsg::Trades(trades) => {
                let mut kind = FrameKind::Ignored;
                for t in trades {
                    let id = t.scaling.instrument;
                    let Some(st) = books.get_mut(id.index()) else {
                        continue;
                    };
                    st.last_msg_ns = now;
                    let stamp = Stamp {
                        venue: Venue::Kraken,
                        instrument: id,
                        seq: t.trade_id,
                        exch_ns: t.exch_ns,
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
            KrakenMsg::Heartbeat => {
                // The subscriptions are alive: a quiet book is not a stale one.
                for id in &self.ids {
                    if let Some(st) = books.get_mut(id.index()) {
                        if st.sync.is_synced() && st.stale_since.is_none() {
                            st.last_msg_ns = now;
                        }
                    }
                }
                FrameKind::Ignored
            }
            KrakenMsg::Status { connection_id, .. } => {
                self.connection_id = Some(connection_id);
                FrameKind::Ignored
            }
            KrakenMsg::Ack { .. } => FrameKind::SubscribeResult(None),
            KrakenMsg::Refused { error, symbol } => {
                self.stats.venue_errors += 1;
                refused(error, symbol);
                FrameKind::VenueError(0)
            }
            KrakenMsg::Pong => FrameKind::Pong,
            KrakenMsg::Unhandled | KrakenMsg::UnknownSymbol => FrameKind::Ignored,
        })
    }

    /// After [`handle_text`](Self::handle_text) refused `frame`: a
    /// `DecodeError` status for the instrument it names (if any; `a` = the
    /// decode errors so far), and under [`GapPolicy::Resync`] a resync of
    /// that synced book when the frame was a `book` one (an update was
    /// lost, or a number did not fit the pair's precision).
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
        let Some(symbol) = sniff_string(frame, b"\"symbol\":\"") else {
            return;
        };
        let Some(inst) = registry.lookup(Venue::Kraken, symbol) else {
            return;
        };
        let (Some(_), Some(st)) = (self.position(inst.id), books.get_mut(inst.id.index())) else {
            return;
        };
        let is_book = sniff_string(frame, b"\"channel\":\"") == Some(b"book");
        let errors = self.stats.decode_errors;
        report_undecodable(st, errors, is_book, now, &mut self.batch, out);
    }

    /// The next text to send, written into `buf` (cleared first): the
    /// subscription (one message per channel and chunk of symbols), then an
    /// unsubscribe + subscribe of `book` for each instrument whose book
    /// wants a snapshot, then a `ping` when nothing was received for
    /// [`PING_IDLE`]. False: nothing to send now.
    pub fn poll_transmit(
        &mut self,
        now: Nanos,
        books: &mut [InstrumentBook],
        buf: &mut String,
    ) -> bool {
        if !self.open || now < self.next_control {
            return false;
        }
        let chunks = self.chunks();
        if self.next_sub < self.channels.len() * chunks {
            let (ch, chunk) = (
                self.channels[self.next_sub / chunks],
                self.next_sub % chunks,
            );
            let start = chunk * self.per_message;
            let end = (start + self.per_message).min(self.ids.len());
            self.request(buf, "subscribe", ch, start..end);
            if ch == Chan::Book {
                // This subscribe brings snapshots: they are in flight (and
                // timed by the engine, should the venue refuse).
                for id in &self.ids[start..end] {
                    if let Some(st) = books.get_mut(id.index()) {
                        st.sync.request_snapshot();
                        st.sync.take_snapshot_request();
                    }
                }
            }
            self.next_sub += 1;
            self.next_control = now + self.interval;
            return true;
        }
        if self.channels.contains(&Chan::Book) {
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
                let method = if self.resub[pos] == Resub::Unsubscribe {
                    self.resub[pos] = Resub::Subscribe;
                    "unsubscribe"
                } else {
                    self.resub[pos] = Resub::Idle;
                    "subscribe"
                };
                self.request(buf, method, Chan::Book, pos..pos + 1);
                self.next_control = now + self.interval;
                return true;
            }
        }
        if !self.ping_sent && now.saturating_sub(self.last_rx) >= PING_IDLE.as_nanos() as Nanos {
            buf.clear();
            let _ = write!(buf, r#"{{"method":"ping","req_id":{}}}"#, self.ping_id);
            self.ping_id += 1;
            self.ping_sent = true;
            self.next_control = now + self.interval;
            return true;
        }
        false
    }

    /// The next time [`poll_transmit`](Self::poll_transmit) may have
    /// something: the next control slot while anything is queued, else when
    /// a ping falls due.
    pub fn poll_timeout(&self, _now: Nanos) -> Option<Nanos> {
        if !self.open {
            return None;
        }
        let queued = self.next_sub < self.channels.len() * self.chunks()
            || self.resub.iter().any(|r| *r != Resub::Idle);
        if queued {
            return Some(self.next_control);
        }
        if self.ping_sent {
            return None;
        }
        Some((self.last_rx + PING_IDLE.as_nanos() as Nanos).max(self.next_control))
    }

    /// `{"method":..,"params":{"channel":..,"symbol":[..],..}}` for the
    /// instruments at plan positions `range`.
    fn request(&self, buf: &mut String, method: &str, ch: Chan, range: std::ops::Range<usize>) {
        buf.clear();
        buf.push_str(r#"{"method":""#);
        buf.push_str(method);
        buf.push_str(r#"","params":{"channel":""#);
        buf.push_str(match ch {
            Chan::Book => "book",
            Chan::Bbo => "ticker",
            Chan::Trade => "trade",
        });
        buf.push_str(r#"","symbol":["#);
        for (k, pos) in range.enumerate() {
            if k > 0 {
                buf.push(',');
            }
            buf.push('"');
            buf.push_str(&self.symbols[pos]);
            buf.push('"');
        }
        buf.push(']');
        let subscribe = method == "subscribe";
        match ch {
            Chan::Book => {
                let _ = write!(buf, r#","depth":{}"#, self.depth);
                if subscribe {
                    buf.push_str(r#","snapshot":true"#);
                }
            }
            Chan::Bbo if subscribe => buf.push_str(r#","event_trigger":"bbo","snapshot":true"#),
            Chan::Trade if subscribe => buf.push_str(r#","snapshot":false"#),
            _ => {}
        }
        buf.push_str("}}");
    }
}

/// A refused request, logged with the venue's words (a reply to our own
/// request, never market data: not on the per-frame path).
#[cold]
#[inline(never)]
fn refused(error: &str, symbol: Option<&str>) {
    tracing::warn!(
        venue = "kraken",
        symbol = symbol.unwrap_or(""),
        "request refused by the venue: {error}"
    );
}
