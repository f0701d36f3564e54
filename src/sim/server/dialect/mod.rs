//! What the simulated venue says, one dialect per venue.
//!
//! The rest of the server is venue-agnostic: the HTTP layer reads requests
//! and writes responses, the market thread paces, fans frames out and injects
//! faults. Whenever the wording matters they ask the [`Dialect`]:
//!
//! | question                                   | asked by      | call                        |
//! |--------------------------------------------|---------------|-----------------------------|
//! | is this WebSocket path ours, what does it subscribe? | HTTP | [`Dialect::accept`] → [`Session`] |
//! | is this REST path ours, what does it ask?  | HTTP          | [`Dialect::rest`]           |
//! | how is a refusal worded?                   | HTTP          | [`Dialect::refusal`]        |
//! | the REST snapshot body                     | market thread | [`Dialect::rest_snapshot`]  |
//! | the frames (and topics) for a book event   | market thread | [`Dialect::write`]          |
//! | the snapshot frame a new subscriber gets   | market thread | [`Dialect::ws_snapshot`]    |
//! | a malformed / crossed frame for the faults | market thread | [`Dialect::malformed`], [`Dialect::crossed`] |
//! | the server's keep-alive                    | market thread | [`Dialect::ping`]           |
//! | does this client want this topic?          | market thread | [`Session::wants`]          |
//! | the frame as this client receives it       | market thread | [`Session::frame`]          |
//! | a client's text message (subscribe, ping)  | market thread | [`Session::handle_text`]    |
//!
//! A [`Dialect`] is shared by every connection; a [`Session`] is one
//! connection's state (its subscriptions, and whatever else a venue keeps per
//! connection). Adding a venue is one new file here, one arm in each enum and
//! one in [`Dialect::for_venue`]; nothing else in the server changes for
//! venues that fit the seam below.
//!
//! # How the other venues fit
//! * **Snapshot over the WebSocket** (Bybit, OKX, Kraken, Coinbase send a
//!   full book as the first frame after subscribing): such a dialect answers
//!   [`Dialect::rest`] with `None` for depth (so the HTTP layer 404s it), and
//!   its session's [`Session::handle_text`] puts the topics that need a
//!   snapshot frame into [`Replies::snapshots`] next to the ack; the market
//!   thread then writes each with [`Dialect::ws_snapshot`] (the analogue of
//!   [`Dialect::rest_snapshot`]) to that client only, right after the ack
//!   and before any later diff of that symbol (Bybit, OKX).
//! * **Depth-limited views** (Bybit `orderbook.50` / `.200` / `.1000`):
//!   one book event becomes one frame per view, so [`Dialect::write`] fills
//!   [`Frames`], a list of (topic, frame) pairs.
//! * **Checksums** (OKX): [`Dialect::write`] is told to spoil the next one
//!   for the `BadChecksum` fault; [`Dialect::checksums`] says whether the
//!   venue has any.
//! * **Per-connection sequences** (Coinbase's `sequence_num` counts every
//!   message of one connection): the counter lives in the venue's session,
//!   and [`Session::frame`] — called once per client per frame, with
//!   `&mut self` — stamps it into that client's copy.
//! * **Client pings** (Bybit `{"op":"ping"}`, OKX text `ping`, Kraken
//!   `{"method":"ping"}`): they arrive as text, so [`Session::handle_text`]
//!   answers them with the venue's pong, like a subscribe with its ack. They
//!   count towards the per-second control-message limit like any text.
//! * **No server pings** (Bybit, OKX): [`Dialect::ping`] returns `None` and
//!   the market thread neither pings nor times out missing pongs; a venue
//!   with text heartbeats (Kraken) returns a text message instead.
//! * **Topics** are whatever the venue subscribes by (`btcusdt@depth`,
//!   `orderbook.50.BTCUSDT`, `books:BTC-USDT`); the market thread only passes
//!   the string [`Dialect::write`] produced to [`Session::wants`].
//!
//! The frame bytes come from the market model's encoder for the venue
//! (`sim/market/binance.rs`, `bybit.rs`, `okx.rs`, reached through [`MarketSim`]'s public writers,
//! which the benchmarks and tests use without the `sim` feature); a dialect
//! picks which to write and owns everything around them. A new venue adds
//! its encoder there (a sibling of `binance.rs` over the same model steps)
//! and its dialect here.

mod binance;
mod bybit;
mod coinbase;
mod kraken;
mod okx;

use tungstenite::Message;

use crate::sim::market::MarketSim;
use crate::types::Venue;

/// What the market generated, venue-neutral.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// A depth diff (changes to the book).
    Depth,
    /// A top-of-book update.
    BookTicker,
    /// A trade at the touch.
    Trade,
}

/// A REST request a dialect recognised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum RestRequest {
    /// A depth snapshot of `symbol` (upper case), `limit` levels a side.
    Snapshot {
        /// Upper-case symbol (may be unknown to the market).
        symbol: String,
        /// Levels a side.
        limit: usize,
    },
}

/// Why a REST request is refused; the HTTP layer picks the status, the
/// dialect words the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// The request head did not parse (400).
    Malformed,
    /// Too many requests (429, with `Retry-After`).
    RateLimited,
    /// The venue is unavailable (503).
    Unavailable,
    /// The symbol is not listed (400).
    UnknownSymbol,
    /// The market thread did not answer in time (504).
    Timeout,
}

/// The (topic, frame) pairs one write produced, in order; the buffers
/// are reused from write to write.
#[derive(Debug, Default)]
pub(super) struct Frames {
    /// Topic and frame bytes; only the first `len` are current.
    slots: Vec<(String, Vec<u8>)>,
    /// How many slots the last write filled.
    len: usize,
}

impl Frames {
    /// Forgets the last write's frames.
    pub(super) fn clear(&mut self) {
        self.len = 0;
    }

    /// A cleared topic and frame buffer for the next frame.
    pub(super) fn next(&mut self) -> (&mut String, &mut Vec<u8>) {
        if self.slots.len() == self.len {
            self.slots
                .push((String::with_capacity(64), Vec::with_capacity(1 << 16)));
        }
        let (topic, frame) = &mut self.slots[self.len];
        self.len += 1;
        topic.clear();
        frame.clear();
        (topic, frame)
    }

    /// The current frames, in the order written.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.slots[..self.len]
            .iter()
            .map(|(t, f)| (t.as_str(), f.as_slice()))
    }
}

/// What a session answers to one client message.
#[derive(Debug, Default)]
pub(super) struct Replies {
    /// Text messages to send, in order (acks, refusals, pongs).
    pub(super) texts: Vec<String>,
    /// `(symbol, topic)` pairs whose snapshot frame the client gets next,
    /// after the texts.
    pub(super) snapshots: Vec<(String, String)>,
}

/// The venue the simulator speaks. See the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dialect {
    /// Binance spot or USD-M.
    Binance(binance::Binance),
    /// Bybit v5 spot or linear.
    Bybit(bybit::Bybit),
    /// OKX v5 public.
    Okx(okx::Okx),
    /// Coinbase Advanced Trade.
    Coinbase(coinbase::Coinbase),
    /// Kraken WebSocket v2 public.
    Kraken(kraken::Kraken),
}

impl Dialect {
    /// The dialect of `venue` (`None`: the simulator does not speak it).
    pub(super) fn for_venue(venue: Venue) -> Option<Dialect> {
        match venue {
            Venue::BinanceSpot | Venue::BinanceUsdm => {
                Some(Dialect::Binance(binance::Binance::new(venue)))
            }
            Venue::BybitSpot | Venue::BybitLinear => Some(Dialect::Bybit(bybit::Bybit::new(venue))),
            Venue::Okx => Some(Dialect::Okx(okx::Okx)),
            Venue::Coinbase => Some(Dialect::Coinbase(coinbase::Coinbase)),
            Venue::Kraken => Some(Dialect::Kraken(kraken::Kraken)),
        }
    }

    /// The path of the WebSocket endpoint a client connects to (appended
    /// to the base URL in a config); empty for Binance, whose paths carry
    /// the streams.
    pub(super) fn ws_path(&self) -> &'static str {
        match self {
            Dialect::Binance(_) => "",
            Dialect::Bybit(d) => d.ws_path(),
            Dialect::Okx(_) => okx::WS_PATH,
            Dialect::Coinbase(_) => coinbase::WS_PATH,
            Dialect::Kraken(_) => kraken::WS_PATH,
        }
    }

    /// A session for a WebSocket upgrade to `path` (with its query), or
    /// `None` if the venue has no WebSocket there.
    pub(super) fn accept(&self, path: &str) -> Option<Session> {
        match self {
            Dialect::Binance(d) => d.accept(path).map(Session::Binance),
            Dialect::Bybit(d) => d.accept(path).map(Session::Bybit),
            Dialect::Okx(d) => d.accept(path).map(Session::Okx),
            Dialect::Coinbase(d) => d.accept(path).map(Session::Coinbase),
            Dialect::Kraken(d) => d.accept(path).map(Session::Kraken),
        }
    }

    /// What a REST request to `route` with `query` (no `?`) asks for, or
    /// `None` if the venue has no such endpoint.
    pub(super) fn rest(&self, route: &str, query: &str) -> Option<RestRequest> {
        match self {
            Dialect::Binance(d) => d.rest(route, query),
            // Books come over the WebSocket; no REST depth to serve.
            Dialect::Bybit(_) | Dialect::Okx(_) | Dialect::Coinbase(_) | Dialect::Kraken(_) => None,
        }
    }

    /// The JSON body of a refused REST request.
    pub(super) fn refusal(&self, why: Refusal) -> &'static str {
        match self {
            Dialect::Binance(_) => binance::refusal(why),
            Dialect::Bybit(_) => bybit::refusal(why),
            Dialect::Okx(_) => okx::refusal(why),
            Dialect::Coinbase(_) => coinbase::refusal(why),
            Dialect::Kraken(_) => kraken::refusal(why),
        }
    }

    /// Writes the REST depth snapshot body (top `limit` levels a side) into
    /// `out` (cleared first).
    pub(super) fn rest_snapshot(&self, book: &mut MarketSim, limit: usize, out: &mut Vec<u8>) {
        match self {
            Dialect::Binance(_) => book.snapshot(limit, out),
            Dialect::Bybit(_) | Dialect::Okx(_) | Dialect::Coinbase(_) | Dialect::Kraken(_) => {
                out.clear()
            }
        }
    }

    /// Writes the snapshot frame a client that just subscribed to `topic`
    /// gets into `out` (cleared first); false if the topic has none.
    pub(super) fn ws_snapshot(&self, book: &MarketSim, topic: &str, out: &mut Vec<u8>) -> bool {
        out.clear();
        match self {
            Dialect::Binance(_) => false,
            Dialect::Bybit(d) => d.ws_snapshot(book, topic, out),
            Dialect::Okx(_) => okx::ws_snapshot(book, topic, out),
            Dialect::Coinbase(_) => coinbase::ws_snapshot(book, topic, out),
            Dialect::Kraken(_) => kraken::ws_snapshot(book, topic, out),
        }
    }

    /// Generates one `kind` event on `book` and writes its frames into
    /// `frames` (cleared first). `bad_checksum`: the book frame's checksum
    /// is wrong (venues with checksums only).
    pub(super) fn write(
        &self,
        book: &mut MarketSim,
        kind: Kind,
        bad_checksum: bool,
        frames: &mut Frames,
    ) {
        frames.clear();
        match self {
            Dialect::Binance(d) => {
                let (topic, frame) = frames.next();
                d.write(book, kind, frame, topic)
            }
            Dialect::Bybit(d) => d.write(book, kind, frames),
            Dialect::Okx(_) => okx::write(book, kind, bad_checksum, frames),
            Dialect::Coinbase(_) => coinbase::write(book, kind, frames),
            Dialect::Kraken(_) => kraken::write(book, kind, bad_checksum, frames),
        }
    }

    /// Writes a truncated (unparseable) depth frame for `book`'s symbol
    /// (one per depth topic).
    pub(super) fn malformed(&self, book: &MarketSim, frames: &mut Frames) {
        frames.clear();
        match self {
            Dialect::Binance(_) => {
                let (topic, frame) = frames.next();
                binance::malformed(book, frame, topic)
            }
            Dialect::Bybit(_) => bybit::malformed(book, frames),
            Dialect::Okx(_) => okx::malformed(book, frames),
            Dialect::Coinbase(_) => coinbase::malformed(book, frames),
            Dialect::Kraken(_) => kraken::malformed(book, frames),
        }
    }

    /// Writes a diff whose bid crosses the best ask (see
    /// [`MarketSim::crossed_diff`]).
    pub(super) fn crossed(&self, book: &mut MarketSim, frames: &mut Frames) {
        frames.clear();
        match self {
            Dialect::Binance(_) => {
                let (topic, frame) = frames.next();
                binance::crossed(book, frame, topic)
            }
            Dialect::Bybit(_) => bybit::crossed(book, frames),
            Dialect::Okx(_) => okx::crossed(book, frames),
            Dialect::Kraken(_) => kraken::crossed(book, frames),
            Dialect::Coinbase(_) => coinbase::crossed(book, frames),
        }
    }

    /// Writes a valid depth frame of at least `bytes` bytes that changes
    /// nothing (venues whose frames can be that large: Coinbase); nothing
    /// for the others.
    pub(super) fn oversized(&self, book: &MarketSim, bytes: usize, frames: &mut Frames) {
        frames.clear();
        if let Dialect::Coinbase(_) = self {
            coinbase::oversized(book, bytes, frames);
        }
    }

    /// Whether the venue's book frames carry a checksum.
    pub(super) fn checksums(&self) -> bool {
        matches!(self, Dialect::Okx(_) | Dialect::Kraken(_))
    }

    /// The venue's sequence of `book`'s last event: Binance's update id,
    /// Bybit's `u`, OKX's `seqId`.
    pub(super) fn last_update_id(&self, book: &MarketSim) -> u64 {
        match self {
            Dialect::Binance(_) => book.last_update_id(),
            Dialect::Bybit(_) | Dialect::Okx(_) | Dialect::Coinbase(_) | Dialect::Kraken(_) => {
                book.book_seq()
            }
        }
    }

    /// The server's keep-alive, sent every ping interval; a client that
    /// does not answer it with a pong is closed after the pong timeout.
    /// `None`: this venue does not ping.
    pub(super) fn ping(&self) -> Option<Message> {
        match self {
            Dialect::Binance(_) => Some(binance::ping()),
            // Clients ping these venues, not the other way round.
            Dialect::Bybit(_) | Dialect::Okx(_) | Dialect::Coinbase(_) | Dialect::Kraken(_) => None,
        }
    }
}

/// One WebSocket connection's venue state. See the [module docs](self).
#[derive(Debug)]
pub(super) enum Session {
    /// A Binance connection.
    Binance(binance::Session),
    /// A Bybit connection.
    Bybit(bybit::Session),
    /// An OKX connection.
    Okx(okx::Session),
    /// A Coinbase connection.
    Coinbase(coinbase::Session),
    /// A Kraken connection.
    Kraken(kraken::Session),
}

impl Session {
    /// Whether this client receives frames of `topic`.
    pub(super) fn wants(&self, topic: &str) -> bool {
        match self {
            Session::Binance(s) => s.wants(topic),
            Session::Bybit(s) => s.wants(topic),
            Session::Okx(s) => s.wants(topic),
            Session::Coinbase(s) => s.wants(topic),
            Session::Kraken(s) => s.wants(topic),
        }
    }

    /// `frame` as this client receives it.
    pub(super) fn frame(&mut self, frame: &[u8]) -> Message {
        match self {
            Session::Binance(s) => s.frame(frame),
            Session::Coinbase(s) => s.frame(frame),
            Session::Bybit(_) | Session::Okx(_) | Session::Kraken(_) => {
                Message::text(String::from_utf8_lossy(frame).into_owned())
            }
        }
    }

    /// A frame of `topic` was generated but lost on the way (the `Gap`
    /// fault): a venue that numbers its connection's frames uses a number up.
    pub(super) fn lost(&mut self, topic: &str) {
        if let Session::Coinbase(s) = self {
            s.lost(topic);
        }
    }

    /// Handles a client's text message; `listed` are the symbols the venue
    /// lists. The answers go into `replies` (cleared first).
    pub(super) fn handle_text(&mut self, text: &str, listed: &[String], replies: &mut Replies) {
        replies.texts.clear();
        replies.snapshots.clear();
        match self {
            Session::Binance(s) => replies.texts.extend(s.handle_text(text)),
            Session::Bybit(s) => s.handle_text(text, listed, replies),
            Session::Okx(s) => s.handle_text(text, listed, replies),
            Session::Coinbase(s) => s.handle_text(text, listed, replies),
            Session::Kraken(s) => s.handle_text(text, listed, replies),
        }
    }
}
