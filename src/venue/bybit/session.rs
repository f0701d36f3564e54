//! One Bybit public WebSocket connection, sans-IO: what to send and when
//! (this file), and what a received frame does (`frames.rs`).

use std::fmt::Write as _;

use super::consts::{ARGS_CHARS_PER_CONNECTION, PING_INTERVAL, SPOT_ARGS_PER_SUBSCRIBE};
use super::decode::BybitDecoder;
use super::frames::Quote;
use crate::ring::{EventBatch, snapshot_events};
use crate::types::{InstrumentId, Nanos, Venue};
use crate::venue::symbols::SymbolCache;
use crate::venue::{Channel, DecodeStats, FeedStats, InstrumentBook, SessionPlan};

/// A resubscribe in progress (how the session gets a fresh snapshot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resub {
    /// Nothing pending.
    Idle,
    /// The unsubscribe went out; the subscribe is due next.
    SubscribeDue,
}

/// A Bybit v5 public connection (spot or linear), sans-IO: bytes and `now`
/// in; book events, and the text frames to send, out. It never owns a
/// socket or reads a clock.
///
/// Call order (as for every venue's session, see [`crate::venue::Session`]):
/// [`new`](Self::new) → (the engine connects to [`url`](Self::url)) →
/// [`handle_open`](Self::handle_open) → then, in any
/// order, [`handle_text`](Self::handle_text) for each text frame received
/// and [`poll_transmit`](Self::poll_transmit) /
/// [`poll_timeout`](Self::poll_timeout) whenever the engine loops →
/// [`handle_closed`](Self::handle_closed) when the socket dies (then
/// `handle_open` again on the next connection).
///
/// What it sends, paced at `control_per_sec` (evenly spaced, so never more
/// in any one-second window):
/// 1. after opening, the subscribe messages: `{"op":"subscribe","args":[..],
///    "req_id":"<n>"}`, at most `streams_per_subscribe` topics each (and
///    never more than spot's 10). Topics
///    per instrument: Depth → `orderbook.{depth}.{SYMBOL}`; BookTicker →
///    `orderbook.1.{SYMBOL}` on spot, `tickers.{SYMBOL}` on linear; Trade →
///    `publicTrade.{SYMBOL}`;
/// 2. for each book that wants a snapshot (a gap, a bad update, a resync by
///    the engine), an unsubscribe then a subscribe of its depth topic: Bybit
///    answers a new subscription with a snapshot;
/// 3. `{"req_id":"<n>","op":"ping"}` every 20 s.
#[derive(Debug)]
pub struct BybitSession {
    pub(super) venue: Venue,
    url: String,
    ids: Vec<InstrumentId>,
    /// Per instrument (as `ids`): its depth topic, if Depth is subscribed.
    depth_topics: Vec<Option<String>>,
    /// The subscribe messages' `args` contents (`"t1","t2"`), built at construction.
    chunks: Vec<String>,
    /// Per chunk: the instruments whose depth topic it carries.
    chunk_books: Vec<Vec<InstrumentId>>,
    /// Connected and not yet closed.
    open: bool,
    /// The next subscribe chunk to send after opening.
    next_chunk: usize,
    /// Per instrument (as `ids`): a resubscribe in progress.
    resub: Vec<Resub>,
    /// When the next ping is due.
    next_ping: Nanos,
    /// No control message before this (pacing).
    next_send: Nanos,
    /// Nanoseconds between two control messages: `1 s / control_per_sec`, rounded up.
    spacing: Nanos,
    /// The last `req_id` sent.
    req_id: u64,
    pub(super) decoder: BybitDecoder,
    pub(super) batch: EventBatch,
    pub(super) stats: FeedStats,
    /// Symbols resolved by earlier frames (hints only).
    pub(super) symbols: SymbolCache,
    /// Linear tickers merged per instrument (indexed by `InstrumentId`).
    pub(super) quotes: Vec<Quote>,
}

impl BybitSession {
    /// A session for `plan` (its venue is `BybitSpot` or `BybitLinear`).
    /// Allocates everything it will use now.
    ///
    /// # Panics
    /// If the plan's topics exceed Bybit's 21,000 characters of `args` per
    /// connection (a configuration error: the front-end limits streams per
    /// connection well below that).
    pub fn new(plan: &SessionPlan) -> Self {
        // Spot takes at most 10 args a request, whatever the plan says.
        let limit = match plan.venue {
            Venue::BybitSpot => SPOT_ARGS_PER_SUBSCRIBE,
            _ => usize::MAX,
        };
        let per_message = plan.streams_per_subscribe.clamp(1, limit);
        let mut topics: Vec<(InstrumentId, bool, String)> = Vec::new();
        let mut depth_topics = Vec::with_capacity(plan.instruments.len());
        for inst in &plan.instruments {
            let sym = inst.symbol.to_ascii_uppercase();
            let mut depth = None;
            for ch in &plan.channels {
                let topic = match (ch, plan.venue) {
                    (Channel::Depth, _) => format!("orderbook.{}.{sym}", plan.depth),
                    (Channel::BookTicker, Venue::BybitSpot) => format!("orderbook.1.{sym}"),
                    (Channel::BookTicker, _) => format!("tickers.{sym}"),
                    (Channel::Trade, _) => format!("publicTrade.{sym}"),
                    (Channel::AggTrade, _) => continue,
                };
                let is_depth = *ch == Channel::Depth;
                if is_depth {
                    depth = Some(topic.clone());
                }
                topics.push((inst.id, is_depth, topic));
            }
            depth_topics.push(depth);
        }
        let chars: usize = topics.iter().map(|(_, _, t)| t.len()).sum();
        assert!(
            chars <= ARGS_CHARS_PER_CONNECTION,
            "{chars} characters of topics on one Bybit connection (limit {ARGS_CHARS_PER_CONNECTION})"
        );
        let mut chunks = Vec::new();
        let mut chunk_books = Vec::new();
        for part in topics.chunks(per_message) {
            let args: Vec<String> = part.iter().map(|(_, _, t)| format!("\"{t}\"")).collect();
            chunks.push(args.join(","));
            chunk_books.push(part.iter().filter(|t| t.1).map(|t| t.0).collect());
        }
        let max_levels = super::DEFAULT_MAX_LEVELS;
        let batch = EventBatch::with_capacity(
            (3 * 2 * max_levels).max(snapshot_events(2 * plan.book_capacity) + 2) + 8,
        );
        let max_id = plan.instruments.iter().map(|i| i.id.index() + 1).max();
        let per_sec = Nanos::from(plan.control_per_sec.max(1));
        BybitSession {
            venue: plan.venue,
            url: plan.ws_url.clone(),
            ids: plan.instruments.iter().map(|i| i.id).collect(),
            resub: vec![Resub::Idle; depth_topics.len()],
            depth_topics,
            chunks,
            chunk_books,
            open: false,
            next_chunk: 0,
            next_ping: 0,
            next_send: 0,
            spacing: 1_000_000_000_u64.div_ceil(per_sec),
            req_id: 0,
            decoder: BybitDecoder::with_limits(
                plan.venue,
                plan.max_frame,
                super::DEFAULT_MAX_LEVELS,
            ),
            batch,
            stats: FeedStats::default(),
            symbols: SymbolCache::default(),
            quotes: vec![Quote::default(); max_id.unwrap_or(0)],
        }
    }

    /// The URL to connect to (the plan's, as is).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The instruments this connection carries.
    pub fn instruments(&self) -> &[InstrumentId] {
        &self.ids
    }

    /// The connection is up at `now`: the subscribe messages are due. A
    /// snapshot still awaited from a dead connection will not come: it is
    /// forgotten (the subscription about to go out asks for it again).
    pub fn handle_open(&mut self, now: Nanos, books: &mut [InstrumentBook]) {
        for id in &self.ids {
            if let Some(st) = books.get_mut(id.index()) {
                if st.sync.snapshot_in_flight() {
                    st.sync.snapshot_failed();
                }
            }
        }
        self.open = true;
        self.next_chunk = 0;
        self.resub.fill(Resub::Idle);
        self.next_send = now;
        self.next_ping = now.saturating_add(PING_INTERVAL.as_nanos() as Nanos);
    }

    /// The connection is gone: queued transmits and subscription state are
    /// forgotten (the engine resyncs the books).
    pub fn handle_closed(&mut self, _now: Nanos) {
        self.open = false;
        self.next_chunk = 0;
        self.resub.fill(Resub::Idle);
        self.quotes.fill(Quote::default());
    }

    /// The next text frame to send, written into `buf` (cleared first);
    /// `false` when there is nothing to send now. Subscribe messages first,
    /// then resubscribes of books that want a snapshot, then the ping when
    /// due; one message a call, paced.
    pub fn poll_transmit(
        &mut self,
        now: Nanos,
        books: &mut [InstrumentBook],
        buf: &mut String,
    ) -> bool {
        buf.clear();
        if !self.open || now < self.next_send {
            return false;
        }
        if self.next_chunk < self.chunks.len() {
            let i = self.next_chunk;
            self.next_chunk += 1;
            for id in &self.chunk_books[i] {
                if let Some(st) = books.get_mut(id.index()) {
                    // The subscription brings a snapshot: it is in flight.
                    st.sync.request_snapshot();
                    st.sync.take_snapshot_request();
                }
            }
            self.req_id += 1;
            let _ = write!(
                buf,
                "{{\"op\":\"subscribe\",\"args\":[{}],\"req_id\":\"{}\"}}",
                self.chunks[i], self.req_id
            );
            return self.sent(now);
        }
        if let Some(i) = self.resub.iter().position(|&r| r == Resub::SubscribeDue) {
            self.resub[i] = Resub::Idle;
            return self.resubscribe_half(i, "subscribe", now, buf);
        }
        for i in 0..self.ids.len() {
            let Some(st) = books.get_mut(self.ids[i].index()) else {
                continue;
            };
            if self.depth_topics[i].is_some() && st.sync.take_snapshot_request() {
                self.resub[i] = Resub::SubscribeDue;
                return self.resubscribe_half(i, "unsubscribe", now, buf);
            }
        }
        if now >= self.next_ping {
            self.next_ping = now.saturating_add(PING_INTERVAL.as_nanos() as Nanos);
            self.req_id += 1;
            let _ = write!(buf, "{{\"req_id\":\"{}\",\"op\":\"ping\"}}", self.req_id);
            return self.sent(now);
        }
        false
    }

    /// One half of a resubscribe of instrument `i`'s depth topic.
    fn resubscribe_half(&mut self, i: usize, op: &str, now: Nanos, buf: &mut String) -> bool {
        let Some(topic) = &self.depth_topics[i] else {
            return false;
        };
        self.req_id += 1;
        let _ = write!(
            buf,
            "{{\"op\":\"{op}\",\"args\":[\"{topic}\"],\"req_id\":\"{}\"}}",
            self.req_id
        );
        self.sent(now)
    }

    fn sent(&mut self, now: Nanos) -> bool {
        self.next_send = now.saturating_add(self.spacing);
        true
    }

    /// The next time [`poll_transmit`](Self::poll_transmit) may have
    /// something: the next paced slot while subscribes are queued, else the
    /// next ping. (A book that starts wanting a snapshot does so in
    /// [`handle_text`](Self::handle_text) or an engine resync, after which
    /// the engine polls anyway.) `None` while closed.
    pub fn poll_timeout(&self, _now: Nanos) -> Option<Nanos> {
        if !self.open {
            return None;
        }
        let queued =
            self.next_chunk < self.chunks.len() || self.resub.contains(&Resub::SubscribeDue);
        Some(if queued {
            self.next_send
        } else {
            self.next_ping.max(self.next_send)
        })
    }

    /// Counters of the per-message path.
    pub fn stats(&self) -> FeedStats {
        self.stats
    }

    /// Fast-path vs tape-path counts of the decoder.
    pub fn decode_stats(&self) -> DecodeStats {
        self.decoder.stats()
    }
}
