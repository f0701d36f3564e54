//! One WebSocket connection's protocol, whatever the venue: the engine and
//! replay hold a [`Session`] and never name a venue. Each arm is the
//! venue's own session type, so the per-frame call is one predictable
//! branch into monomorphic code (no trait object on the hot path).

use super::binance::BinanceSession;
use super::bybit::BybitSession;
use super::coinbase::CoinbaseSession;
use super::instrument::reset_books;
use super::kraken::KrakenSession;
use super::okx::OkxSession;
use super::{
    DecodeError, DecodeStats, FeedStats, FrameKind, InstrumentBook, SessionPlan, SnapshotFailure,
    SnapshotOutcome,
};
use crate::ring::{EventBatch, Publish};
use crate::types::{InstrumentId, Nanos, Registry, Venue};

/// One connection's protocol state, whatever the venue.
///
/// Call order (the same for every venue): [`Session::new`] from the
/// connection's [`SessionPlan`]; connect to [`Session::url`]; once the
/// WebSocket is open, [`Session::handle_open`]; then, in any order,
/// [`Session::handle_text`] for every text frame (after a refusal,
/// [`Session::handle_undecodable`]), [`Session::poll_transmit`] until it has
/// nothing (subscribe, resubscribe, ping texts, paced by the venue's
/// limits), [`Session::poll_fetch`] for the REST snapshots a venue needs and
/// [`Session::handle_fetched`] with each body, and [`Session::poll_timeout`]
/// for when to come back; when the socket dies, [`Session::handle_closed`],
/// then `handle_open` again on the next connection. Time is always passed in.
#[derive(Debug)]
pub enum Session {
    /// Binance spot or USD-M.
    Binance(Box<BinanceSession>),
    /// Bybit spot or linear.
    Bybit(Box<BybitSession>),
    /// OKX (every instrument type on one public endpoint).
    Okx(Box<OkxSession>),
    /// Coinbase Advanced Trade.
    Coinbase(Box<CoinbaseSession>),
    /// Kraken WebSocket v2 spot.
    Kraken(Box<KrakenSession>),
}

impl Session {
    /// Whether tickwire has a session for `venue`.
    pub fn supports(venue: Venue) -> bool {
        matches!(
            venue,
            Venue::BinanceSpot
                | Venue::BinanceUsdm
                | Venue::BybitSpot
                | Venue::BybitLinear
                | Venue::Okx
                | Venue::Coinbase
                | Venue::Kraken
        )
    }

    /// The session of `plan`'s venue (`None`: tickwire has none for it).
    pub fn new(plan: &SessionPlan) -> Option<Session> {
        Some(match plan.venue {
            Venue::BinanceSpot | Venue::BinanceUsdm => {
                Session::Binance(Box::new(BinanceSession::new(plan)))
            }
            Venue::BybitSpot | Venue::BybitLinear => {
                Session::Bybit(Box::new(BybitSession::new(plan)))
            }
            Venue::Okx => Session::Okx(Box::new(OkxSession::new(plan))),
            Venue::Coinbase => Session::Coinbase(Box::new(CoinbaseSession::new(plan))),
            Venue::Kraken => Session::Kraken(Box::new(KrakenSession::new(plan))),
        })
    }

    /// The URL to connect to.
    pub fn url(&self) -> &str {
        match self {
            Session::Binance(s) => s.url(),
            Session::Bybit(s) => s.url(),
            Session::Okx(s) => s.url(),
            Session::Coinbase(s) => s.url(),
            Session::Kraken(s) => s.url(),
        }
    }

    /// The instruments this connection carries.
    pub fn instruments(&self) -> &[InstrumentId] {
        match self {
            Session::Binance(s) => s.instruments(),
            Session::Bybit(s) => s.instruments(),
            Session::Okx(s) => s.instruments(),
            Session::Coinbase(s) => s.instruments(),
            Session::Kraken(s) => s.instruments(),
        }
    }

    /// The WebSocket is open.
    pub fn handle_open(&mut self, now: Nanos, books: &mut [InstrumentBook]) {
        match self {
            Session::Binance(s) => s.handle_open(now, books),
            Session::Bybit(s) => s.handle_open(now, books),
            Session::Okx(s) => s.handle_open(now, books),
            Session::Coinbase(s) => s.handle_open(now, books),
            Session::Kraken(s) => s.handle_open(now, books),
        }
    }

    /// One text frame: decode → sync → book → staged events → `out`.
    #[inline]
    pub fn handle_text<P: Publish>(
        &mut self,
        frame: &[u8],
        now: Nanos,
        registry: &Registry,
        books: &mut [InstrumentBook],
        out: &mut P,
    ) -> Result<FrameKind, DecodeError> {
        match self {
            Session::Binance(s) => s.handle_text(frame, now, registry, books, out),
            Session::Bybit(s) => s.handle_text(frame, now, registry, books, out),
            Session::Okx(s) => s.handle_text(frame, now, registry, books, out),
            Session::Coinbase(s) => s.handle_text(frame, now, registry, books, out),
            Session::Kraken(s) => s.handle_text(frame, now, registry, books, out),
        }
    }

    /// After [`handle_text`](Self::handle_text) refused `frame`: a
    /// `DecodeError` status for the instrument it names, and a resync of
    /// that book if it may have lost an update.
    #[cold]
    pub fn handle_undecodable<P: Publish>(
        &mut self,
        frame: &[u8],
        now: Nanos,
        registry: &Registry,
        books: &mut [InstrumentBook],
        out: &mut P,
    ) {
        match self {
            Session::Binance(s) => s.handle_undecodable(frame, now, registry, books, out),
            Session::Bybit(s) => s.handle_undecodable(frame, now, registry, books, out),
            Session::Okx(s) => s.handle_undecodable(frame, now, registry, books, out),
            Session::Coinbase(s) => s.handle_undecodable(frame, now, registry, books, out),
            Session::Kraken(s) => s.handle_undecodable(frame, now, registry, books, out),
        }
    }

    /// A REST snapshot body for `st`'s instrument.
    pub fn handle_fetched<P: Publish>(
        &mut self,
        body: &[u8],
        now: Nanos,
        registry: &Registry,
        st: &mut InstrumentBook,
        out: &mut P,
    ) -> Result<SnapshotOutcome, SnapshotFailure> {
        match self {
            Session::Binance(s) => s.handle_fetched(body, now, registry, st, out),
            // Bybit's, OKX's and Kraken's snapshots come on the stream: nothing is fetched.
            Session::Bybit(_) => Ok(SnapshotOutcome::Ignored),
            Session::Okx(_) => Ok(SnapshotOutcome::Ignored),
            Session::Coinbase(_) => Ok(SnapshotOutcome::Ignored),
            Session::Kraken(_) => Ok(SnapshotOutcome::Ignored),
        }
    }

    /// The socket is gone. Every book of the connection that holds
    /// something starts over (`Resync`, reason `Reconnect`), and what was
    /// buffered from the dead connection is dropped with it: no ghost
    /// levels, no stale diffs bridging a later snapshot. A book that never
    /// synced and holds nothing is left alone (a failed attempt is not a
    /// resync).
    pub fn handle_closed<P: Publish>(
        &mut self,
        now: Nanos,
        books: &mut [InstrumentBook],
        batch: &mut EventBatch,
        out: &mut P,
    ) {
        match self {
            Session::Binance(s) => s.handle_closed(now),
            Session::Bybit(s) => s.handle_closed(now),
            Session::Okx(s) => s.handle_closed(now),
            Session::Coinbase(s) => s.handle_closed(now),
            Session::Kraken(s) => s.handle_closed(now),
        }
        reset_books(self.instruments(), books, now, batch, out);
    }

    /// The next text to send now, written into `buf` (cleared first).
    pub fn poll_transmit(
        &mut self,
        now: Nanos,
        books: &mut [InstrumentBook],
        buf: &mut String,
    ) -> bool {
        match self {
            Session::Binance(s) => s.poll_transmit(now, buf),
            Session::Bybit(s) => s.poll_transmit(now, books, buf),
            Session::Okx(s) => s.poll_transmit(now, books, buf),
            Session::Coinbase(s) => s.poll_transmit(now, books, buf),
            Session::Kraken(s) => s.poll_transmit(now, books, buf),
        }
    }

    /// The next instrument whose book wants a REST snapshot that `may`
    /// allows now; it is marked in flight. `None` for venues whose
    /// snapshots come on the stream.
    pub fn poll_fetch(
        &mut self,
        books: &mut [InstrumentBook],
        may: impl FnMut(InstrumentId) -> bool,
    ) -> Option<InstrumentId> {
        match self {
            Session::Binance(s) => s.poll_fetch(books, may),
            Session::Bybit(_) => None,
            Session::Okx(_) => None,
            Session::Coinbase(_) => None,
            Session::Kraken(_) => None,
        }
    }

    /// When [`poll_transmit`](Self::poll_transmit) may next have something.
    pub fn poll_timeout(&self, now: Nanos) -> Option<Nanos> {
        match self {
            Session::Binance(s) => s.poll_timeout(now),
            Session::Bybit(s) => s.poll_timeout(now),
            Session::Okx(s) => s.poll_timeout(now),
            Session::Coinbase(s) => s.poll_timeout(now),
            Session::Kraken(s) => s.poll_timeout(now),
        }
    }

    /// The REST snapshot URL of `inst`, for venues that fetch snapshots.
    pub fn snapshot_url(&self, inst: InstrumentId) -> Option<&str> {
        match self {
            Session::Binance(s) => s.snapshot_url(inst),
            Session::Bybit(_) => None,
            Session::Okx(_) => None,
            Session::Coinbase(_) => None,
            Session::Kraken(_) => None,
        }
    }

    /// REST weight of one snapshot request (0: none are made).
    pub fn snapshot_weight(&self) -> u32 {
        match self {
            Session::Binance(s) => s.snapshot_weight(),
            Session::Bybit(_) => 0,
            Session::Okx(_) => 0,
            Session::Coinbase(_) => 0,
            Session::Kraken(_) => 0,
        }
    }

    /// Counters of the per-message path.
    pub fn stats(&self) -> FeedStats {
        match self {
            Session::Binance(s) => s.frames().stats(),
            Session::Bybit(s) => s.stats(),
            Session::Okx(s) => s.stats(),
            Session::Coinbase(s) => s.stats(),
            Session::Kraken(s) => s.stats(),
        }
    }

    /// Which decoder handled the frames.
    pub fn decode_stats(&self) -> DecodeStats {
        match self {
            Session::Binance(s) => s.frames().decoder().stats(),
            Session::Bybit(s) => s.decode_stats(),
            Session::Okx(s) => s.decode_stats(),
            Session::Coinbase(s) => s.decode_stats(),
            Session::Kraken(s) => s.decode_stats(),
        }
    }
}
