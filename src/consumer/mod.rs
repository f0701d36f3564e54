//! The subscriber side: a [`Consumer`] (the ring's subscriber end, built by
//! [`crate::ring::FanOut::add_consumer`]) polls its ring in the strategy's
//! hot loop; a [`BookMirror`] rebuilds every instrument's book from the
//! events.

pub use crate::ring::Consumer;

use crate::book::{BookApply, BookRead, BookSpec, Ladder};
use crate::types::{Body, Event, InstrumentId, StatusCode};

/// Rebuilds books from events: one [`Ladder`] per instrument, indexed by id.
#[derive(Debug)]
pub struct BookMirror {
    books: Vec<MirrorBook>,
}

#[derive(Debug)]
struct MirrorBook {
    book: Ladder,
    /// False between a resync / snapshot begin and the end of the next batch.
    consistent: bool,
    /// Venue sequence of the last applied batch.
    seq: u64,
}

impl BookMirror {
    /// A mirror with one book per spec, instrument ids `0..specs.len()`.
    pub fn new(specs: impl IntoIterator<Item = BookSpec>) -> BookMirror {
        let books = specs
            .into_iter()
            .map(|spec| MirrorBook {
                book: Ladder::new(spec),
                consistent: false,
                seq: 0,
            })
            .collect();
        BookMirror { books }
    }

    /// Applies one event. Events for unknown instruments are ignored.
    #[inline]
    pub fn apply(&mut self, e: &Event) {
        let Some(m) = self.books.get_mut(e.instrument.index()) else {
            return;
        };
        match e.body() {
            Body::Level(l) => {
                // A level the engine held always fits a mirror of the same capacity.
                let _ = m.book.apply(l.side, l.price, l.qty);
                if l.end_of_batch {
                    m.consistent = true;
                    m.seq = e.seq;
                }
            }
            Body::Status(s) => match s.code {
                StatusCode::SnapshotBegin | StatusCode::Resync => {
                    m.book.clear();
                    m.consistent = false;
                }
                StatusCode::SnapshotEnd => {
                    m.consistent = true;
                    m.seq = e.seq;
                }
                _ => {}
            },
            Body::Bbo(_) | Body::Trade(_) | Body::Invalid => {}
        }
    }

    /// The book of an instrument.
    pub fn book(&self, id: InstrumentId) -> Option<&Ladder> {
        self.books.get(id.index()).map(|m| &m.book)
    }

    /// True when the instrument's book is at a batch boundary after a snapshot.
    pub fn is_consistent(&self, id: InstrumentId) -> bool {
        self.books.get(id.index()).is_some_and(|m| m.consistent)
    }

    /// Venue sequence of the last complete batch applied.
    pub fn seq(&self, id: InstrumentId) -> Option<u64> {
        self.books.get(id.index()).map(|m| m.seq)
    }

    /// Best bid and ask prices of an instrument, if both sides are non-empty.
    pub fn top(&self, id: InstrumentId) -> Option<(crate::book::Level, crate::book::Level)> {
        let b = self.book(id)?;
        Some((b.best_bid()?, b.best_ask()?))
    }
}
