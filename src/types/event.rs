//! The one event record that travels through the rings.
//!
//! [`Event`] is `#[repr(C)]`, `Copy`, pointer-free and exactly 64 bytes (one
//! cache line). Every event carries venue, instrument, venue sequence,
//! exchange time and local receive time; the body (level delta, best
//! bid/offer, trade or status) is read through [`Event::body`].

use super::instrument::{InstrumentId, Venue};
use super::num::{Price, Qty};

/// Nanoseconds. Receive times are on the engine's monotonic clock
/// ([`crate::types::Clock`]); exchange times are Unix epoch nanoseconds.
pub type Nanos = u64;

/// Book side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Side {
    /// Bids (buy orders).
    Bid = 0,
    /// Asks / offers (sell orders).
    Ask = 1,
}

/// Which side took liquidity in a trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Aggressor {
    /// The buyer crossed the spread (Binance `m: false`).
    Buy = 0,
    /// The seller crossed the spread (Binance `m: true`).
    Sell = 1,
}

/// What a status event reports. Every gap, drop, resync, reconnect and stale
/// feed becomes one of these (and a counter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum StatusCode {
    /// A full book follows as level events; clear the instrument's book now.
    SnapshotBegin = 1,
    /// The snapshot is complete; the book is consistent (end of batch).
    /// `a` = levels in the snapshot.
    SnapshotEnd = 2,
    /// A sequence gap: `a` = the id expected, `b` = the id received. On
    /// spot also a diff that ends before a live book's id (the book's id ran
    /// ahead of the stream). A `Resync` follows.
    Gap = 3,
    /// The instrument's book was discarded and is being rebuilt.
    /// `a` = a [`ResyncReason`] code.
    Resync = 4,
    /// The connection carrying this instrument was lost; `b` = the
    /// connection's index.
    Disconnected = 5,
    /// The connection is back (a snapshot follows once synced); `b` = the
    /// connection's index.
    Reconnected = 6,
    /// No progress for this instrument within the staleness timeout (no
    /// diff applied, trade or BBO), or only diffs older than its book for
    /// that long. `a` = milliseconds since the last progress. A `Resync`
    /// follows.
    Stale = 7,
    /// A connection hit the restart intensity limit: it is down (no retry)
    /// for `down_cooldown_ms` (0: until the engine is restarted); sent for
    /// each instrument it carries, `b` = the connection's index.
    VenueDown = 8,
    /// This consumer's ring overflowed: `a` = events dropped so far (total).
    /// A resync and full snapshot follow.
    Dropped = 9,
    /// A frame for this instrument could not be decoded and was dropped;
    /// `a` = the venue's decode errors so far. A lost diff also resyncs a
    /// synced book.
    DecodeError = 10,
    /// The book crossed (best bid ≥ best ask) after a diff or a snapshot: a
    /// resync follows (`a`, `b` = 0). Or a BBO was crossed: it was dropped,
    /// `a` = its bid, `b` = its ask (mantissas).
    Crossed = 11,
    /// A level was dropped because the book is at capacity; `a` = price mantissa.
    CapacityTruncated = 12,
    /// The venue sent a checksum that does not match the book: `a` = the
    /// venue's checksum, `b` = the book's (both as signed 32-bit values). A
    /// `Resync` follows; the wrong book is never published.
    ChecksumMismatch = 13,
    /// A supervised session changed state: `a` = a
    /// [`crate::engine::SessionState`] code, `b` = the connection's index.
    Session = 14,
    /// The venue replied with an error: `a` = the venue's code, `b` = the
    /// connection's index.
    VenueError = 15,
    /// Diagnostic, only when latency probing is on: follows a batch;
    /// `a` = when it was decoded and applied, `b` = when it was pushed to the
    /// rings (engine clock, ns). Not about the book.
    Probe = 16,
    /// A REST snapshot request failed and will be retried after a backoff:
    /// `a` = a [`SnapshotFailReason`] code, `b` = the HTTP status (0 when
    /// there was no response) or the venue's error code.
    SnapshotFailed = 17,
    /// The connection received something it does not carry (a binary
    /// WebSocket frame): `a` = how many so far on that connection, `b` = the
    /// connection's index. Sent the first time per connection opening;
    /// every one is counted.
    Unsupported = 18,
}

impl StatusCode {
    /// Decodes the byte stored in an event.
    pub const fn from_u8(v: u8) -> Option<StatusCode> {
        Some(match v {
            1 => StatusCode::SnapshotBegin,
            2 => StatusCode::SnapshotEnd,
            3 => StatusCode::Gap,
            4 => StatusCode::Resync,
            5 => StatusCode::Disconnected,
            6 => StatusCode::Reconnected,
            7 => StatusCode::Stale,
            8 => StatusCode::VenueDown,
            9 => StatusCode::Dropped,
            10 => StatusCode::DecodeError,
            11 => StatusCode::Crossed,
            12 => StatusCode::CapacityTruncated,
            13 => StatusCode::ChecksumMismatch,
            14 => StatusCode::Session,
            15 => StatusCode::VenueError,
            16 => StatusCode::Probe,
            17 => StatusCode::SnapshotFailed,
            18 => StatusCode::Unsupported,
            _ => return None,
        })
    }

    /// Short lower-case name for logs and JSON.
    pub const fn name(self) -> &'static str {
        match self {
            StatusCode::SnapshotBegin => "snapshot_begin",
            StatusCode::SnapshotEnd => "snapshot_end",
            StatusCode::Gap => "gap",
            StatusCode::Resync => "resync",
            StatusCode::Disconnected => "disconnected",
            StatusCode::Reconnected => "reconnected",
            StatusCode::Stale => "stale",
            StatusCode::VenueDown => "venue_down",
            StatusCode::Dropped => "dropped",
            StatusCode::DecodeError => "decode_error",
            StatusCode::Crossed => "crossed",
            StatusCode::CapacityTruncated => "capacity_truncated",
            StatusCode::ChecksumMismatch => "checksum_mismatch",
            StatusCode::Session => "session",
            StatusCode::VenueError => "venue_error",
            StatusCode::Probe => "probe",
            StatusCode::SnapshotFailed => "snapshot_failed",
            StatusCode::Unsupported => "unsupported",
        }
    }
}

/// Why a book was resynced (the `a` field of a [`StatusCode::Resync`] event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ResyncReason {
    /// A sequence gap.
    Gap = 1,
    /// This consumer dropped events; it gets a fresh snapshot.
    ConsumerOverflow = 2,
    /// The connection was re-established.
    Reconnect = 3,
    /// The instrument went stale.
    Stale = 4,
    /// The book crossed.
    Crossed = 5,
    /// A frame could not be applied (decode error, off-tick price).
    BadUpdate = 6,
    /// The venue said the snapshot could not be had, or the snapshot was bad.
    SnapshotFailed = 7,
    /// The book's checksum did not match the venue's (a `ChecksumMismatch`
    /// status precedes it).
    ChecksumMismatch = 8,
    /// The venue sent a full book mid-stream (a service restart: Bybit's
    /// `u == 1` or a later `snapshot`); the book was replaced by it.
    VenueReset = 9,
}

impl ResyncReason {
    /// Decodes the value stored in an event.
    pub const fn from_i64(v: i64) -> Option<ResyncReason> {
        Some(match v {
            1 => ResyncReason::Gap,
            2 => ResyncReason::ConsumerOverflow,
            3 => ResyncReason::Reconnect,
            4 => ResyncReason::Stale,
            5 => ResyncReason::Crossed,
            6 => ResyncReason::BadUpdate,
            7 => ResyncReason::SnapshotFailed,
            8 => ResyncReason::ChecksumMismatch,
            9 => ResyncReason::VenueReset,
            _ => return None,
        })
    }
}

/// Why a snapshot request failed (the `a` field of a
/// [`StatusCode::SnapshotFailed`] event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum SnapshotFailReason {
    /// No HTTP response: connect, TLS, timeout, too many redirects.
    Transport = 1,
    /// The venue answered with a non-success HTTP status (`b` holds it).
    Http = 2,
    /// The venue rate-limited the request (HTTP 429 or 418).
    RateLimited = 3,
    /// The body is not a snapshot (empty, invalid JSON, a venue error).
    BadBody = 4,
    /// The snapshot is older than the buffered diffs.
    TooOld = 5,
    /// The book refused a level of the snapshot (off the tick grid, out of
    /// range, crossed).
    Refused = 6,
    /// A venue whose snapshots come on the stream sent none within the
    /// engine's `stream_snapshot_timeout_ms` of the subscribe (refused or
    /// lost); `b` is the wait in ms.
    NoSnapshot = 7,
}

impl SnapshotFailReason {
    /// Decodes the value stored in an event.
    pub const fn from_i64(v: i64) -> Option<SnapshotFailReason> {
        Some(match v {
            1 => SnapshotFailReason::Transport,
            2 => SnapshotFailReason::Http,
            3 => SnapshotFailReason::RateLimited,
            4 => SnapshotFailReason::BadBody,
            5 => SnapshotFailReason::TooOld,
            6 => SnapshotFailReason::Refused,
            7 => SnapshotFailReason::NoSnapshot,
            _ => return None,
        })
    }

    /// Lower-case name for logs and JSON.
    pub const fn name(self) -> &'static str {
        match self {
            SnapshotFailReason::Transport => "transport",
            SnapshotFailReason::Http => "http",
            SnapshotFailReason::RateLimited => "rate_limited",
            SnapshotFailReason::BadBody => "bad_body",
            SnapshotFailReason::TooOld => "too_old",
            SnapshotFailReason::Refused => "refused",
            SnapshotFailReason::NoSnapshot => "no_snapshot",
        }
    }
}

/// Event kinds (the `kind` byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum EventKind {
    /// A book level changed.
    Level = 1,
    /// Best bid and offer from the venue's ticker.
    Bbo = 2,
    /// A trade.
    Trade = 3,
    /// Something about the feed, not the market.
    Status = 4,
}

/// Flag: the book is consistent after this event (last of a venue message).
pub const FLAG_END_OF_BATCH: u8 = 1;
/// Flag: this level event is part of a snapshot.
pub const FLAG_SNAPSHOT: u8 = 2;
/// Flag (trades): the venue aggregates several fills into this trade.
pub const FLAG_AGGREGATED: u8 = 4;

/// One 64-byte, cache-line sized market-data event.
///
/// Field layout (bytes): `recv_ns` 0, `exch_ns` 8, `seq` 16, `instrument` 24,
/// `venue` 28, `kind` 29, `flags` 30, `code` 31, then four 8-byte payload
/// words whose meaning depends on the kind. Read them through [`Event::body`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(64))]
pub struct Event {
    /// Local receive time of the venue frame that produced this event
    /// (monotonic ns), or the time the engine generated it.
    pub recv_ns: Nanos,
    /// Exchange event time (Unix epoch ns), 0 when the venue gives none.
    pub exch_ns: Nanos,
    /// Venue sequence: the book update id for levels and BBOs, the trade id
    /// for trades, the book id for snapshot status events.
    pub seq: u64,
    /// Instrument (dense id).
    pub instrument: InstrumentId,
    venue: u8,
    kind: u8,
    flags: u8,
    /// Side for levels, aggressor for trades, [`StatusCode`] for status.
    code: u8,
    a: i64,
    b: i64,
    c: i64,
    d: i64,
}

const _: () = assert!(std::mem::size_of::<Event>() == 64);
const _: () = assert!(std::mem::align_of::<Event>() == 64);

/// Header fields shared by every event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// Venue.
    pub venue: Venue,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Venue sequence.
    pub seq: u64,
    /// Exchange time (Unix ns).
    pub exch_ns: Nanos,
    /// Local receive time (monotonic ns).
    pub recv_ns: Nanos,
}

/// A level delta: the new absolute quantity at a price (0 = delete).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelUpdate {
    /// Side.
    pub side: Side,
    /// Price mantissa.
    pub price: Price,
    /// New quantity mantissa (0 removes the level).
    pub qty: Qty,
    /// Last event of a venue message: the book is consistent after it.
    pub end_of_batch: bool,
    /// Part of a snapshot (between `SnapshotBegin` and `SnapshotEnd`).
    pub snapshot: bool,
}

/// Best bid and offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bbo {
    /// Best bid price.
    pub bid_price: Price,
    /// Quantity at the best bid.
    pub bid_qty: Qty,
    /// Best ask price.
    pub ask_price: Price,
    /// Quantity at the best ask.
    pub ask_qty: Qty,
}

/// A trade print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trade {
    /// Price mantissa.
    pub price: Price,
    /// Quantity mantissa.
    pub qty: Qty,
    /// Which side crossed the spread.
    pub aggressor: Aggressor,
    /// Venue trade id (the aggregate id for aggregated trades).
    pub trade_id: u64,
    /// Set for aggregated trades (Binance `aggTrade`).
    pub aggregated: bool,
    /// First underlying trade id (aggregated trades), else the trade id.
    pub first_trade_id: i64,
    /// Last underlying trade id (aggregated trades), else the trade id.
    pub last_trade_id: i64,
}

/// A status report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    /// What happened.
    pub code: StatusCode,
    /// First detail word (see [`StatusCode`]).
    pub a: i64,
    /// Second detail word.
    pub b: i64,
    /// True when the book is consistent after this event.
    pub end_of_batch: bool,
}

/// Typed view of an event's payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// Book level delta.
    Level(LevelUpdate),
    /// Best bid / offer.
    Bbo(Bbo),
    /// Trade.
    Trade(Trade),
    /// Status.
    Status(Status),
    /// A byte pattern no constructor produces.
    Invalid,
}

impl Event {
    #[inline]
    const fn with(stamp: Stamp, kind: EventKind, flags: u8, code: u8, words: [i64; 4]) -> Event {
        Event {
            recv_ns: stamp.recv_ns,
            exch_ns: stamp.exch_ns,
            seq: stamp.seq,
            instrument: stamp.instrument,
            venue: stamp.venue as u8,
            kind: kind as u8,
            flags,
            code,
            a: words[0],
            b: words[1],
            c: words[2],
            d: words[3],
        }
    }

    /// The event's 64 bytes in the documented field layout, integers
    /// little-endian: what a transport (the Aeron bridge) puts on the wire.
    #[inline]
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[0..8].copy_from_slice(&self.recv_ns.to_le_bytes());
        out[8..16].copy_from_slice(&self.exch_ns.to_le_bytes());
        out[16..24].copy_from_slice(&self.seq.to_le_bytes());
        out[24..28].copy_from_slice(&self.instrument.0.to_le_bytes());
        out[28] = self.venue;
        out[29] = self.kind;
        out[30] = self.flags;
        out[31] = self.code;
        for (i, w) in [self.a, self.b, self.c, self.d].into_iter().enumerate() {
            out[32 + 8 * i..40 + 8 * i].copy_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// The event [`Event::to_bytes`] wrote. Any bytes give an event: an
    /// unknown venue, kind or code reads as `None` / [`Body::Invalid`].
    #[inline]
    pub fn from_bytes(b: &[u8; 64]) -> Event {
        let u64_at = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[i..i + 8]);
            u64::from_le_bytes(w)
        };
        let mut inst = [0u8; 4];
        inst.copy_from_slice(&b[24..28]);
        Event {
            recv_ns: u64_at(0),
            exch_ns: u64_at(8),
            seq: u64_at(16),
            instrument: InstrumentId(u32::from_le_bytes(inst)),
            venue: b[28],
            kind: b[29],
            flags: b[30],
            code: b[31],
            a: u64_at(32) as i64,
            b: u64_at(40) as i64,
            c: u64_at(48) as i64,
            d: u64_at(56) as i64,
        }
    }

    /// A level delta.
    #[inline]
    pub const fn level(stamp: Stamp, side: Side, price: Price, qty: Qty, flags: u8) -> Event {
        Event::with(
            stamp,
            EventKind::Level,
            flags,
            side as u8,
            [price.0, qty.0, 0, 0],
        )
    }

    /// A best bid/offer.
    #[inline]
    pub const fn bbo(stamp: Stamp, bbo: Bbo) -> Event {
        let words = [
            bbo.bid_price.0,
            bbo.bid_qty.0,
            bbo.ask_price.0,
            bbo.ask_qty.0,
        ];
        Event::with(stamp, EventKind::Bbo, FLAG_END_OF_BATCH, 0, words)
    }

    /// A trade. `stamp.seq` should be the trade id.
    #[inline]
    pub const fn trade(stamp: Stamp, t: Trade) -> Event {
        let flags = FLAG_END_OF_BATCH | if t.aggregated { FLAG_AGGREGATED } else { 0 };
        let words = [t.price.0, t.qty.0, t.first_trade_id, t.last_trade_id];
        Event::with(stamp, EventKind::Trade, flags, t.aggressor as u8, words)
    }

    /// A status event with two detail words.
    #[inline]
    pub const fn status(
        stamp: Stamp,
        code: StatusCode,
        a: i64,
        b: i64,
        end_of_batch: bool,
    ) -> Event {
        let flags = if end_of_batch { FLAG_END_OF_BATCH } else { 0 };
        Event::with(stamp, EventKind::Status, flags, code as u8, [a, b, 0, 0])
    }

    /// The venue, if the byte is valid.
    #[inline]
    pub const fn venue(&self) -> Option<Venue> {
        Venue::from_u8(self.venue)
    }

    /// Header fields.
    #[inline]
    pub fn stamp(&self) -> Option<Stamp> {
        Some(Stamp {
            venue: self.venue()?,
            instrument: self.instrument,
            seq: self.seq,
            exch_ns: self.exch_ns,
            recv_ns: self.recv_ns,
        })
    }

    /// The kind byte, if valid.
    #[inline]
    pub const fn kind(&self) -> Option<EventKind> {
        match self.kind {
            1 => Some(EventKind::Level),
            2 => Some(EventKind::Bbo),
            3 => Some(EventKind::Trade),
            4 => Some(EventKind::Status),
            _ => None,
        }
    }

    /// Raw flag bits (`FLAG_*`).
    #[inline]
    pub const fn flags(&self) -> u8 {
        self.flags
    }

    /// True when the book is consistent after this event.
    #[inline]
    pub const fn end_of_batch(&self) -> bool {
        self.flags & FLAG_END_OF_BATCH != 0
    }

    /// Returns a copy with the end-of-batch flag set or cleared.
    #[inline]
    pub const fn with_end_of_batch(mut self, on: bool) -> Event {
        if on {
            self.flags |= FLAG_END_OF_BATCH;
        } else {
            self.flags &= !FLAG_END_OF_BATCH;
        }
        self
    }

    /// The status code, when this is a status event.
    #[inline]
    pub const fn status_code(&self) -> Option<StatusCode> {
        if self.kind == EventKind::Status as u8 {
            StatusCode::from_u8(self.code)
        } else {
            None
        }
    }

    /// Typed view of the payload.
    #[inline]
    pub fn body(&self) -> Body {
        let eob = self.end_of_batch();
        match self.kind() {
            Some(EventKind::Level) => {
                let side = match self.code {
                    0 => Side::Bid,
                    1 => Side::Ask,
                    _ => return Body::Invalid,
                };
                Body::Level(LevelUpdate {
                    side,
                    price: Price(self.a),
                    qty: Qty(self.b),
                    end_of_batch: eob,
                    snapshot: self.flags & FLAG_SNAPSHOT != 0,
                })
            }
            Some(EventKind::Bbo) => Body::Bbo(Bbo {
                bid_price: Price(self.a),
                bid_qty: Qty(self.b),
                ask_price: Price(self.c),
                ask_qty: Qty(self.d),
            }),
            Some(EventKind::Trade) => {
                let aggressor = match self.code {
                    0 => Aggressor::Buy,
                    1 => Aggressor::Sell,
                    _ => return Body::Invalid,
                };
                Body::Trade(Trade {
                    price: Price(self.a),
                    qty: Qty(self.b),
                    aggressor,
                    trade_id: self.seq,
                    aggregated: self.flags & FLAG_AGGREGATED != 0,
                    first_trade_id: self.c,
                    last_trade_id: self.d,
                })
            }
            Some(EventKind::Status) => match StatusCode::from_u8(self.code) {
                Some(code) => Body::Status(Status {
                    code,
                    a: self.a,
                    b: self.b,
                    end_of_batch: eob,
                }),
                None => Body::Invalid,
            },
            None => Body::Invalid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp() -> Stamp {
        Stamp {
            venue: Venue::BinanceSpot,
            instrument: InstrumentId(7),
            seq: 42,
            exch_ns: 1,
            recv_ns: 2,
        }
    }

    #[test]
    fn bodies_round_trip() {
        let e = Event::level(
            stamp(),
            Side::Ask,
            Price(10),
            Qty(3),
            FLAG_END_OF_BATCH | FLAG_SNAPSHOT,
        );
        assert_eq!(
            e.body(),
            Body::Level(LevelUpdate {
                side: Side::Ask,
                price: Price(10),
                qty: Qty(3),
                end_of_batch: true,
                snapshot: true
            })
        );
        assert_eq!(e.stamp(), Some(stamp()));
        let bbo = Bbo {
            bid_price: Price(1),
            bid_qty: Qty(2),
            ask_price: Price(3),
            ask_qty: Qty(4),
        };
        assert_eq!(Event::bbo(stamp(), bbo).body(), Body::Bbo(bbo));
        let t = Trade {
            price: Price(5),
            qty: Qty(6),
            aggressor: Aggressor::Sell,
            trade_id: 42,
            aggregated: true,
            first_trade_id: 40,
            last_trade_id: 41,
        };
        assert_eq!(Event::trade(stamp(), t).body(), Body::Trade(t));
        let s = Event::status(stamp(), StatusCode::Gap, 5, 9, false);
        assert_eq!(
            s.body(),
            Body::Status(Status {
                code: StatusCode::Gap,
                a: 5,
                b: 9,
                end_of_batch: false
            })
        );
        assert_eq!(s.status_code(), Some(StatusCode::Gap));
        assert!(s.with_end_of_batch(true).end_of_batch());
        for code in 1..=16u8 {
            let c = StatusCode::from_u8(code).unwrap();
            assert_eq!(c as u8, code);
        }
    }
}
