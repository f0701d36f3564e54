//! The subscriber end of a consumer's ring. The ring module builds both
//! ends ([`super::FanOut::add_consumer`]), as rtrb does; `crate::consumer`
//! re-exports this end next to the book mirror.

use std::sync::Arc;

use super::ConsumerStats;
use crate::types::Event;

/// One consumer's end of its SPSC ring. Lives on the strategy thread.
#[derive(Debug)]
pub struct Consumer {
    rx: rtrb::Consumer<Event>,
    stats: Arc<ConsumerStats>,
}

impl Consumer {
    pub(crate) fn new(rx: rtrb::Consumer<Event>, stats: Arc<ConsumerStats>) -> Consumer {
        Consumer { rx, stats }
    }

    /// The next event, if any. Never blocks.
    #[inline]
    pub fn poll(&mut self) -> Option<Event> {
        self.rx.pop().ok()
    }

    /// Hands every available event to `f`, in order; returns how many.
    /// Reads in chunks, so this is the fastest way to empty the ring.
    #[inline]
    pub fn drain(&mut self, mut f: impl FnMut(&Event)) -> usize {
        let n = self.rx.slots();
        if n == 0 {
            return 0;
        }
        let Ok(chunk) = self.rx.read_chunk(n) else {
            return 0;
        };
        let (a, b) = chunk.as_slices();
        a.iter().chain(b).for_each(&mut f);
        chunk.commit_all();
        n
    }

    /// Copies up to `out.len()` events into `out`; returns how many.
    #[inline]
    pub fn drain_into(&mut self, out: &mut [Event]) -> usize {
        let (popped, _) = self.rx.pop_partial_slice(out);
        popped.len()
    }

    /// Events waiting in the ring.
    pub fn pending(&self) -> usize {
        self.rx.slots()
    }

    /// True once the producer is gone (the engine stopped) — events still
    /// in the ring can be drained.
    pub fn is_closed(&self) -> bool {
        self.rx.is_abandoned()
    }

    /// Events this consumer lost to a full ring (total, across instruments).
    pub fn dropped(&self) -> u64 {
        self.stats.dropped()
    }

    /// Repair snapshots this consumer received after drops.
    pub fn resyncs(&self) -> u64 {
        self.stats.resyncs()
    }
}
