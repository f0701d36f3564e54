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
//! | the frame (and its topic) for a book event | market thread | [`Dialect::write`]          |
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
//!   its session's [`Session::handle_text`] grows a list of the symbols that
//!   need a snapshot frame next to the ack; the market thread then writes one
//!   with a `Dialect::ws_snapshot` (the analogue of
//!   [`Dialect::rest_snapshot`]) to that client only, before any diff of
//!   that symbol. Binance has no such frame, so the hook is not built yet.
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
//! (`sim/market/binance.rs`, reached through [`MarketSim`]'s public writers,
//! which the benchmarks and tests use without the `sim` feature); a dialect
//! picks which to write and owns everything around them. A new venue adds
//! its encoder there (a sibling of `binance.rs` over the same model steps)
//! and its dialect here.

mod binance;

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

/// The venue the simulator speaks. See the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dialect {
    /// Binance spot or USD-M.
    Binance(binance::Binance),
}

impl Dialect {
    /// The dialect of `venue` (`None`: the simulator does not speak it).
    pub(super) fn for_venue(venue: Venue) -> Option<Dialect> {
        match venue {
            Venue::BinanceSpot | Venue::BinanceUsdm => {
                Some(Dialect::Binance(binance::Binance::new(venue)))
            }
            _ => None,
        }
    }

    /// A session for a WebSocket upgrade to `path` (with its query), or
    /// `None` if the venue has no WebSocket there.
    pub(super) fn accept(&self, path: &str) -> Option<Session> {
        match self {
            Dialect::Binance(d) => d.accept(path).map(Session::Binance),
        }
    }

    /// What a REST request to `route` with `query` (no `?`) asks for, or
    /// `None` if the venue has no such endpoint.
    pub(super) fn rest(&self, route: &str, query: &str) -> Option<RestRequest> {
        match self {
            Dialect::Binance(d) => d.rest(route, query),
        }
    }

    /// The JSON body of a refused REST request.
    pub(super) fn refusal(&self, why: Refusal) -> &'static str {
        match self {
            Dialect::Binance(_) => binance::refusal(why),
        }
    }

    /// Writes the REST depth snapshot body (top `limit` levels a side) into
    /// `out` (cleared first).
    pub(super) fn rest_snapshot(&self, book: &mut MarketSim, limit: usize, out: &mut Vec<u8>) {
        match self {
            Dialect::Binance(_) => book.snapshot(limit, out),
        }
    }

    /// Generates one `kind` event on `book` and writes its frame into `frame`
    /// and its topic into `topic` (both cleared first).
    pub(super) fn write(
        &self,
        book: &mut MarketSim,
        kind: Kind,
        frame: &mut Vec<u8>,
        topic: &mut String,
    ) {
        match self {
            Dialect::Binance(d) => d.write(book, kind, frame, topic),
        }
    }

    /// Writes a truncated (unparseable) depth frame for `book`'s symbol.
    pub(super) fn malformed(&self, book: &MarketSim, frame: &mut Vec<u8>, topic: &mut String) {
        match self {
            Dialect::Binance(_) => binance::malformed(book, frame, topic),
        }
    }

    /// Writes a diff whose bid crosses the best ask (see
    /// [`MarketSim::crossed_diff`]).
    pub(super) fn crossed(&self, book: &mut MarketSim, frame: &mut Vec<u8>, topic: &mut String) {
        match self {
            Dialect::Binance(_) => binance::crossed(book, frame, topic),
        }
    }

    /// The server's keep-alive, sent every ping interval; a client that
    /// does not answer it with a pong is closed after the pong timeout.
    /// `None`: this venue does not ping.
    pub(super) fn ping(&self) -> Option<Message> {
        match self {
            Dialect::Binance(_) => Some(binance::ping()),
        }
    }
}

/// One WebSocket connection's venue state. See the [module docs](self).
#[derive(Debug)]
pub(super) enum Session {
    /// A Binance connection.
    Binance(binance::Session),
}

impl Session {
    /// Whether this client receives frames of `topic`.
    pub(super) fn wants(&self, topic: &str) -> bool {
        match self {
            Session::Binance(s) => s.wants(topic),
        }
    }

    /// `frame` as this client receives it.
    pub(super) fn frame(&mut self, frame: &[u8]) -> Message {
        match self {
            Session::Binance(s) => s.frame(frame),
        }
    }

    /// Handles a client's text message; returns the reply to send, if any.
    pub(super) fn handle_text(&mut self, text: &str) -> Option<String> {
        match self {
            Session::Binance(s) => s.handle_text(text),
        }
    }
}
