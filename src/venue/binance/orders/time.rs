//! The venue's clock as seen from here: requests are timestamped with the
//! venue's time at the moment they are written, so the offset between the
//! local UTC clock and the venue's is tracked from replies that carry
//! `serverTime` (`session.logon`, `time`, 429 data).

use crate::types::Nanos;

/// Tracks `venue time − local time` from (send, receive, server) samples,
/// keeping the sample with the shortest round trip (the tightest bound).
#[derive(Clone, Copy, Debug, Default)]
pub struct ServerClock {
    offset_ns: i64,
    best_rtt: Option<Nanos>,
}

impl ServerClock {
    /// No sample yet: offset zero.
    pub fn new() -> ServerClock {
        ServerClock::default()
    }

    /// A reply written by the venue at `server_ms`, for a request sent at
    /// local UTC `sent` and received at `received` (ns).
    pub fn observe(&mut self, sent: Nanos, received: Nanos, server_ms: u64) {
        let rtt = received.saturating_sub(sent);
        if self.best_rtt.is_some_and(|b| rtt > b) {
            return;
        }
        self.best_rtt = Some(rtt);
        let mid = sent + rtt / 2;
        let server = server_ms.saturating_mul(1_000_000);
        self.offset_ns = (i128::from(server) - i128::from(mid)) as i64;
    }

    /// Forgets the samples (after a reconnect, routes change).
    pub fn reset_rtt(&mut self) {
        self.best_rtt = None;
    }

    /// The venue's time for local UTC `local` (ns).
    #[inline]
    pub fn venue_now(&self, local: Nanos) -> Nanos {
        local.saturating_add_signed(self.offset_ns)
    }

    /// The current offset (ns, venue − local).
    pub fn offset_ns(&self) -> i64 {
        self.offset_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_tightest_sample() {
        let mut c = ServerClock::new();
        let ms = 1_000_000;
        // Venue 250 ms ahead; 10 ms round trip.
        c.observe(1_000 * ms, 1_010 * ms, 1_255);
        assert_eq!(c.offset_ns(), 250 * ms as i64);
        assert_eq!(c.venue_now(2_000 * ms), 2_250 * ms);
        // A slower sample (100 ms) is ignored, a faster one replaces it.
        c.observe(3_000 * ms, 3_100 * ms, 3_000);
        assert_eq!(c.offset_ns(), 250 * ms as i64);
        c.observe(4_000 * ms, 4_002 * ms, 4_201);
        assert_eq!(c.offset_ns(), 200 * ms as i64);
    }
}
