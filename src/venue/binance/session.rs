//! One Binance WebSocket connection, sans-IO: its URL and subscribe
//! messages, their pacing, the per-message path ([`BinanceFrames`]) and the
//! REST snapshots its books need.
//!
//! Call order: [`BinanceSession::new`]; connect to [`url`](BinanceSession::url);
//! once open, [`handle_open`](BinanceSession::handle_open); then, in any
//! order, [`handle_text`](BinanceSession::handle_text) for every text frame,
//! [`poll_transmit`](BinanceSession::poll_transmit) until it has nothing,
//! [`poll_fetch`](BinanceSession::poll_fetch) for the snapshots to fetch and
//! [`handle_fetched`](BinanceSession::handle_fetched) with each body; when
//! the socket dies, [`handle_closed`](BinanceSession::handle_closed), and
//! `handle_open` again on the next connection.

use super::consts;
use super::frames::BinanceFrames;
use crate::ring::Publish;
use crate::types::limits::TokenBucket;
use crate::types::{InstrumentId, Nanos, Registry};
use crate::venue::{
    Channel, DecodeError, FrameKind, InstrumentBook, SessionPlan, SnapshotFailure, SnapshotOutcome,
};

/// Characters of stream names put in the connection URL at most; the rest
/// are subscribed by message.
const URL_BUDGET: usize = 1800;

/// One Binance connection. See the [module docs](self).
#[derive(Debug)]
pub struct BinanceSession {
    frames: BinanceFrames,
    url: String,
    instruments: Vec<InstrumentId>,
    /// REST snapshot URL of each instrument, in `instruments` order.
    snapshot_urls: Vec<String>,
    snapshot_weight: u32,
    /// SUBSCRIBE messages for the streams that did not fit the URL.
    subscribes: Vec<String>,
    next_subscribe: usize,
    /// Capacity 1: control messages are spaced, never bursted.
    control: TokenBucket,
}

impl BinanceSession {
    /// The session of `plan` (a Binance venue).
    pub fn new(plan: &SessionPlan) -> BinanceSession {
        let mut url_streams: Vec<String> = Vec::new();
        let mut extra: Vec<String> = Vec::new();
        let url_limit = plan.url_streams.unwrap_or(usize::MAX);
        let mut url_len = 0;
        for inst in &plan.instruments {
            for s in streams_of(plan, &inst.symbol) {
                if url_len + s.len() < URL_BUDGET
                    && url_streams.len() < url_limit
                    && extra.is_empty()
                {
                    url_len += s.len() + 1;
                    url_streams.push(s);
                } else {
                    extra.push(s);
                }
            }
        }
        let subscribes = extra
            .chunks(plan.streams_per_subscribe.max(1))
            .enumerate()
            .map(|(n, chunk)| {
                let params: Vec<String> = chunk.iter().map(|s| format!("\"{s}\"")).collect();
                format!(
                    "{{\"method\":\"SUBSCRIBE\",\"params\":[{}],\"id\":{}}}",
                    params.join(","),
                    n + 1
                )
            })
            .collect();
        let path = consts::depth_path(plan.venue);
        BinanceSession {
            frames: BinanceFrames::with_max_frame(plan.venue, plan.book_capacity, plan.max_frame),
            url: format!("{}/stream?streams={}", plan.ws_url, url_streams.join("/")),
            instruments: plan.instruments.iter().map(|i| i.id).collect(),
            snapshot_urls: plan
                .instruments
                .iter()
                .map(|i| {
                    format!(
                        "{}{path}?symbol={}&limit={}",
                        plan.rest_url, i.symbol, plan.depth
                    )
                })
                .collect(),
            snapshot_weight: consts::depth_weight(plan.venue, plan.depth),
            subscribes,
            next_subscribe: 0,
            control: TokenBucket::new(1, u64::from(plan.control_per_sec.max(1)), 0),
        }
    }

    /// The URL to connect to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The instruments this connection carries.
    pub fn instruments(&self) -> &[InstrumentId] {
        &self.instruments
    }

    /// The per-message path (its counters, its decoder).
    pub fn frames(&self) -> &BinanceFrames {
        &self.frames
    }

    /// The REST snapshot URL of `inst` (one of this connection's).
    pub fn snapshot_url(&self, inst: InstrumentId) -> Option<&str> {
        let i = self.instruments.iter().position(|&x| x == inst)?;
        Some(&self.snapshot_urls[i])
    }

    /// REST weight of one snapshot request.
    pub fn snapshot_weight(&self) -> u32 {
        self.snapshot_weight
    }

    /// The connection is open: the streams beyond the URL get subscribed,
    /// and every book asks for its snapshot (Binance: the stream first,
    /// then the snapshot, while the diffs are buffered).
    pub fn handle_open(&mut self, _now: Nanos, books: &mut [InstrumentBook]) {
        self.next_subscribe = 0;
        for &i in &self.instruments {
            if let Some(st) = books.get_mut(i.index()) {
                st.sync.request_snapshot();
            }
        }
    }

    /// One text frame; see [`BinanceFrames::handle_frame`].
    #[inline]
    pub fn handle_text<P: Publish>(
        &mut self,
        frame: &[u8],
        now: Nanos,
        registry: &Registry,
        books: &mut [InstrumentBook],
        out: &mut P,
    ) -> Result<FrameKind, DecodeError> {
        self.frames.handle_frame(frame, now, registry, books, out)
    }

    /// A frame [`handle_text`](Self::handle_text) refused; see
    /// [`BinanceFrames::handle_undecodable`].
    pub fn handle_undecodable<P: Publish>(
        &mut self,
        frame: &[u8],
        now: Nanos,
        registry: &Registry,
        books: &mut [InstrumentBook],
        out: &mut P,
    ) {
        self.frames
            .handle_undecodable(frame, now, registry, books, out);
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
        self.frames.handle_snapshot(body, now, registry, st, out)
    }

    /// The socket is gone: what was queued for it is forgotten.
    pub fn handle_closed(&mut self, _now: Nanos) {
        self.next_subscribe = 0;
    }

    /// The next control message to send (paced), written into `buf`.
    pub fn poll_transmit(&mut self, now: Nanos, buf: &mut String) -> bool {
        if self.next_subscribe >= self.subscribes.len() || !self.control.try_take(1, now) {
            return false;
        }
        buf.clear();
        buf.push_str(&self.subscribes[self.next_subscribe]);
        self.next_subscribe += 1;
        true
    }

    /// The next instrument whose book wants a REST snapshot and that `may`
    /// allows now (the caller's per-instrument backoff); it is marked in
    /// flight. The caller fetches it (or calls `snapshot_failed` on its sync).
    pub fn poll_fetch(
        &mut self,
        books: &mut [InstrumentBook],
        mut may: impl FnMut(InstrumentId) -> bool,
    ) -> Option<InstrumentId> {
        self.instruments.iter().copied().find(|&i| {
            books
                .get_mut(i.index())
                .is_some_and(|st| may(i) && st.sync.take_snapshot_request())
        })
    }

    /// When [`poll_transmit`](Self::poll_transmit) may next have something.
    pub fn poll_timeout(&self, now: Nanos) -> Option<Nanos> {
        (self.next_subscribe < self.subscribes.len()).then(|| self.control.ready_at(1, now))
    }
}

/// The stream names of one symbol (`btcusdt@depth@100ms`).
fn streams_of(plan: &SessionPlan, symbol: &str) -> Vec<String> {
    let s = symbol.to_ascii_lowercase();
    plan.channels
        .iter()
        .map(|c| match c {
            Channel::Depth => {
                // The venue's default speed has no suffix.
                let default = match plan.venue {
                    crate::types::Venue::BinanceUsdm => 250,
                    _ => 1000,
                };
                if plan.depth_interval_ms == default {
                    format!("{s}@depth")
                } else {
                    format!("{s}@depth@{}ms", plan.depth_interval_ms)
                }
            }
            Channel::BookTicker => format!("{s}@bookTicker"),
            Channel::Trade => format!("{s}@trade"),
            Channel::AggTrade => format!("{s}@aggTrade"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Venue;
    use crate::venue::PlannedInstrument;

    fn plan(url_streams: Option<usize>) -> SessionPlan {
        SessionPlan {
            venue: Venue::BinanceSpot,
            ws_url: "ws://127.0.0.1:9000".into(),
            rest_url: "http://127.0.0.1:9000".into(),
            instruments: ["BTCUSDT", "ETHUSDT"]
                .iter()
                .enumerate()
                .map(|(i, s)| PlannedInstrument {
                    id: InstrumentId(i as u32),
                    symbol: (*s).into(),
                })
                .collect(),
            channels: vec![Channel::Depth, Channel::BookTicker, Channel::Trade],
            depth_interval_ms: 100,
            depth: 1000,
            url_streams,
            streams_per_subscribe: 2,
            control_per_sec: 4,
            book_capacity: 64,
            max_frame: super::super::DEFAULT_MAX_FRAME,
        }
    }

    #[test]
    fn streams_go_in_the_url_then_in_paced_subscribes() {
        let mut s = BinanceSession::new(&plan(Some(2)));
        assert_eq!(
            s.url(),
            "ws://127.0.0.1:9000/stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker"
        );
        assert_eq!(
            s.snapshot_url(InstrumentId(1)),
            Some("http://127.0.0.1:9000/api/v3/depth?symbol=ETHUSDT&limit=1000")
        );
        assert_eq!(s.snapshot_weight(), 50);
        let mut books =
            crate::venue::books_for(&Registry::new(), 64, crate::venue::GapPolicy::Resync);
        s.handle_open(0, &mut books);
        let mut buf = String::new();
        let second = 1_000_000_000;
        assert!(s.poll_transmit(second, &mut buf));
        assert_eq!(
            buf,
            r#"{"method":"SUBSCRIBE","params":["btcusdt@trade","ethusdt@depth@100ms"],"id":1}"#
        );
        assert!(
            !s.poll_transmit(second, &mut buf),
            "paced: one a quarter second"
        );
        let next = s.poll_timeout(second).expect("more to send");
        assert!(next > second && next <= second + second / 4 + 1, "{next}");
        assert!(s.poll_transmit(next, &mut buf));
        assert_eq!(
            buf,
            r#"{"method":"SUBSCRIBE","params":["ethusdt@bookTicker","ethusdt@trade"],"id":2}"#
        );
        assert_eq!(s.poll_timeout(next + second), None);
        assert!(!s.poll_transmit(next + second, &mut buf));
    }
}
