//! The strategy's end of its request ring: every request is stamped with
//! the push time (for the push → wire latency) and, when the order-entry
//! thread sleeps in its poller ([`WaitPolicy::Sleep`](super::WaitPolicy)),
//! the push wakes it, so a request never waits out the idle sleep.
//!
//! The wake-up is the classic two-flag handshake: the thread sets
//! `sleeping`, fences, then looks at the rings once more before it sleeps;
//! the strategy pushes, fences, then looks at `sleeping`. One of the two
//! always sees the other, so no push is left waiting. While the thread
//! spins, a push costs one fence and one load more than a bare ring push.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering, fence};

use crate::orders::Request;
use crate::types::{Clock, MonotonicClock, Nanos};

/// A request with the moment the strategy pushed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamped {
    /// The request.
    pub req: Request,
    /// Push time on the order-entry clock ([`Requests::clock`]), ns.
    pub pushed: Nanos,
}

/// Whether the order-entry thread sleeps, and how to wake it.
#[derive(Debug, Default)]
pub(crate) struct Wake {
    /// Written by the order-entry thread: true from just before it checks
    /// the rings a last time until its poller returns.
    pub(crate) sleeping: AtomicBool,
    /// Set once, when the thread's poller exists.
    pub(crate) waker: OnceLock<mio::Waker>,
}

impl Wake {
    /// After a push: wakes the thread if it may be asleep.
    #[inline]
    fn after_push(&self) {
        fence(Ordering::SeqCst);
        if self.sleeping.load(Ordering::Relaxed)
            && let Some(w) = self.waker.get()
        {
            // A failed wake leaves the request for the next idle tick.
            let _ = w.wake();
        }
    }
}

/// Where a strategy pushes its requests.
pub struct Requests {
    tx: rtrb::Producer<Stamped>,
    clock: MonotonicClock,
    wake: std::sync::Arc<Wake>,
}

impl std::fmt::Debug for Requests {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Requests")
            .field("slots", &self.tx.slots())
            .finish_non_exhaustive()
    }
}

impl Requests {
    pub(crate) fn new(
        tx: rtrb::Producer<Stamped>,
        clock: MonotonicClock,
        wake: std::sync::Arc<Wake>,
    ) -> Requests {
        Requests { tx, clock, wake }
    }

    /// Pushes `req`, stamped now; a full ring hands it back.
    #[inline]
    pub fn push(&mut self, req: Request) -> Result<(), rtrb::PushError<Request>> {
        let pushed = self.clock.now();
        self.push_stamped(req, pushed)
    }

    /// Pushes `req` with a push stamp taken earlier on [`Self::clock`].
    #[inline]
    pub fn push_stamped(
        &mut self,
        req: Request,
        pushed: Nanos,
    ) -> Result<(), rtrb::PushError<Request>> {
        match self.tx.push(Stamped { req, pushed }) {
            Ok(()) => {
                self.wake.after_push();
                Ok(())
            }
            Err(rtrb::PushError::Full(s)) => Err(rtrb::PushError::Full(s.req)),
        }
    }

    /// Free slots in the ring.
    pub fn slots(&self) -> usize {
        self.tx.slots()
    }

    /// The clock push stamps are taken on (shared with the order-entry thread).
    pub fn clock(&self) -> &MonotonicClock {
        &self.clock
    }
}
