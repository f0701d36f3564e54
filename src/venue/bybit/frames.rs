//! The per-message path of a [`BybitSession`]: frame bytes and `now` in;
//! decode → sync → book → staged events → [`Publish`] out. No allocation,
//! no lock, no log line.

use super::msg::{BybitMsg, Kind, TickerField, TickerMsg, Topic, topic};
use super::session::BybitSession;
use super::sync::handle_book;
use crate::ring::Publish;
use crate::types::{Bbo, Event, Nanos, Price, Qty, Registry, Stamp, Trade};
use crate::venue::instrument::{publish_bbo, report_undecodable};
use crate::venue::scan::sniff::sniff_string;
use crate::venue::symbols::CachedSymbols;
use crate::venue::{DecodeError, DiffOutcome, FrameKind, InstrumentBook};

/// A linear ticker's best bid/offer, merged from a snapshot and the deltas
/// after it (a delta carries only the fields that changed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Quote {
    bid_price: Option<Price>,
    bid_qty: Option<Qty>,
    ask_price: Option<Price>,
    ask_qty: Option<Qty>,
}

impl Quote {
    /// Merges `t`; true when it carried any best bid/offer field.
    fn merge(&mut self, t: &TickerMsg) -> bool {
        fn field<T>(slot: &mut Option<T>, f: TickerField<T>, snapshot: bool) -> bool {
            match f {
                TickerField::Value(v) => *slot = Some(v),
                TickerField::Empty => *slot = None,
                TickerField::Absent if snapshot => *slot = None,
                TickerField::Absent => return false,
            }
            true
        }
        let snapshot = t.kind == Kind::Snapshot;
        let a = field(&mut self.bid_price, t.bid_price, snapshot);
        let b = field(&mut self.bid_qty, t.bid_qty, snapshot);
        let c = field(&mut self.ask_price, t.ask_price, snapshot);
        let d = field(&mut self.ask_qty, t.ask_qty, snapshot);
        a | b | c | d
    }

    /// The whole quote, once every field is known.
    fn bbo(&self) -> Option<Bbo> {
        Some(Bbo {
            bid_price: self.bid_price?,
            bid_qty: self.bid_qty?,
            ask_price: self.ask_price?,
            ask_qty: self.ask_qty?,
        })
    }
}

impl BybitSession {
    /// Handles one text frame received at `now`: decode → sync → book →
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
        let venue = self.venue;
        let symbols = CachedSymbols::new(registry, venue, &self.symbols);
        let msg = match self.decoder.decode(frame, &symbols) {
            Ok(m) => m,
            Err(e) => {
                // Reported for the instrument off this path: `handle_undecodable`.
                self.stats.decode_errors += 1;
                return Err(e);
            }
        };
        let batch = &mut self.batch;
        batch.clear();
        Ok(match msg {
            BybitMsg::Book(m) => {
                let id = m.scaling.instrument;
                let Some(st) = books.get_mut(id.index()) else {
                    return Ok(FrameKind::Ignored);
                };
                let outcome = handle_book(&mut st.sync, &m, &mut st.book, batch, now);
                if m.replaces_book() && outcome == DiffOutcome::Applied {
                    // A new book: stale deltas before it say nothing about it.
                    st.stale_since = None;
                }
                st.note_update(outcome, now);
                if !batch.is_empty() {
                    out.publish(batch, st.state(now), now);
                }
                FrameKind::Depth(id, outcome)
            }
            BybitMsg::TopOfBook(t) => {
                let id = t.scaling.instrument;
                let (Some(bid), Some(ask)) = (t.bid, t.ask) else {
                    return Ok(FrameKind::Ignored);
                };
                let stamp = Stamp {
                    venue,
                    instrument: id,
                    seq: t.update_id,
                    exch_ns: t.cts_ms.unwrap_or(t.ts_ms).saturating_mul(1_000_000),
                    recv_ns: now,
                };
                let bbo = Bbo {
                    bid_price: bid.price,
                    bid_qty: bid.qty,
                    ask_price: ask.price,
                    ask_qty: ask.qty,
                };
                publish_bbo(&mut self.stats, batch, books, stamp, bbo, out)
            }
            BybitMsg::Ticker(t) => {
                let id = t.scaling.instrument;
                let Some(quote) = self.quotes.get_mut(id.index()) else {
                    return Ok(FrameKind::Ignored);
                };
                if !quote.merge(&t) {
                    return Ok(FrameKind::Ignored);
                }
                let Some(bbo) = quote.bbo() else {
                    return Ok(FrameKind::Ignored);
                };
                let stamp = Stamp {
                    venue,
                    instrument: id,
                    seq: t.cs.unwrap_or(0),
                    exch_ns: t.ts_ms.saturating_mul(1_000_000),
                    recv_ns: now,
                };
                publish_bbo(&mut self.stats, batch, books, stamp, bbo, out)
            }
            BybitMsg::Trades(t) => {
                let id = t.scaling.instrument;
                let Some(st) = books.get_mut(id.index()) else {
                    return Ok(FrameKind::Ignored);
                };
                st.last_msg_ns = now;
                for x in t.trades {
                    let stamp = Stamp {
                        venue,
                        instrument: id,
                        seq: x.id,
                        exch_ns: x.trade_ms.saturating_mul(1_000_000),
                        recv_ns: now,
                    };
                    let trade = Trade {
                        price: x.price,
                        qty: x.qty,
                        aggressor: x.aggressor,
                        trade_id: x.id,
                        aggregated: false,
                        first_trade_id: x.id as i64,
                        last_trade_id: x.id as i64,
                    };
                    batch.push(Event::trade(stamp, trade));
                }
                if batch.is_empty() {
                    return Ok(FrameKind::Ignored);
                }
                out.publish(batch, st.state(now), now);
                FrameKind::Trade(id)
            }
            BybitMsg::SubscribeResult { req_id } => FrameKind::SubscribeResult(req_id),
            BybitMsg::Refused { .. } => {
                self.stats.venue_errors += 1;
                FrameKind::VenueError(0)
            }
            BybitMsg::Pong => FrameKind::Pong,
            BybitMsg::Unhandled { .. } | BybitMsg::UnknownSymbol { .. } => FrameKind::Ignored,
        })
    }

    /// Call after [`handle_text`](Self::handle_text) refused `frame`. If its
    /// topic names a known instrument, consumers get a `DecodeError` status
    /// (`a` = this session's decode errors so far); if it was a book message,
    /// the book missed an update, so under [`GapPolicy::Resync`] a synced
    /// book is rebuilt at once (resubscribed) rather than at the next delta;
    /// a book still awaiting its snapshot asks for it again (that frame may
    /// have been the snapshot).
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
        let Some((symbol, is_book)) = frame_target(frame) else {
            return;
        };
        let Some(inst) = registry.lookup(self.venue, symbol) else {
            return;
        };
        let Some(st) = books.get_mut(inst.id.index()) else {
            return;
        };
        let errors = self.stats.decode_errors;
        report_undecodable(st, errors, is_book, now, &mut self.batch, out);
    }
}

/// The symbol of a frame that did not decode, from its topic, and whether
/// it was a book message (error path only: a plain scan, the frame may be
/// malformed anywhere else).
fn frame_target(frame: &[u8]) -> Option<(&[u8], bool)> {
    match topic(sniff_string(frame, b"\"topic\":\"")?) {
        Topic::Book { depth, symbol } => Some((symbol, depth > 1)),
        Topic::Trade { symbol } | Topic::Ticker { symbol } => Some((symbol, false)),
        Topic::Unhandled | Topic::Unknown => None,
    }
}
