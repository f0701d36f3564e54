//! Supervision of one venue connection, Erlang style, sans-IO: the feed
//! loop reports what happened (opened, synced, a frame, a failure) with the
//! time, and asks [`Supervisor::check`] what is due. Every state change is
//! returned to the caller, which publishes it as a status event and logs one
//! structured line.
//!
//! ```text
//!  Connecting ──open──► Syncing ──all books synced──► Live
//!      ▲  │                 │                           │
//!      │  └─timeout/error───┴──────error / close────────┤
//!      │                    └──────no frame (stale)─────┤
//!      │                                                ▼
//!      └──────── backoff (exponential, jitter) ◄── BackingOff
//!                                                       │ too many restarts
//!                                                       ▼
//!                                                     Down ──cool-down──► Connecting
//! ```
//!
//! # Restart intensity
//!
//! Intensity is about one session flapping, so it is counted per
//! connection, not per venue: a connection that fails more than
//! `restart_limit` times within `restart_window` (planned reconnects do not
//! count) goes `Down` for `down_cooldown`, and the feed loop sends
//! `VenueDown` for its instruments. One network blip that drops every
//! connection of a venue at once is one failure for each of them: each backs
//! off (exponential, ±25% jitter, seeded per connection so they spread out)
//! and reconnects; only a genuine storm puts a connection down. After a
//! cool-down the history is forgotten.

use super::limits::{Backoff, RestartIntensity};
use crate::types::Nanos;

/// Where a supervised connection is. The value is the `a` field of
/// [`crate::types::StatusCode::Session`] events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum SessionState {
    /// Resolving, TCP/TLS connecting, WebSocket handshake.
    Connecting = 1,
    /// Open; books are being synced from snapshots.
    Syncing = 2,
    /// Every book on the connection is synced.
    Live = 3,
    /// No frame within the staleness timeout; about to restart.
    Stale = 4,
    /// Waiting before the next attempt.
    BackingOff = 5,
    /// Restarting too often: given up until the cool-down ends.
    Down = 6,
}

impl SessionState {
    /// Lower-case name for logs.
    pub const fn name(self) -> &'static str {
        match self {
            SessionState::Connecting => "connecting",
            SessionState::Syncing => "syncing",
            SessionState::Live => "live",
            SessionState::Stale => "stale",
            SessionState::BackingOff => "backing_off",
            SessionState::Down => "down",
        }
    }

    /// Decodes the `a` field of a session status event.
    pub const fn from_i64(v: i64) -> Option<SessionState> {
        Some(match v {
            1 => SessionState::Connecting,
            2 => SessionState::Syncing,
            3 => SessionState::Live,
            4 => SessionState::Stale,
            5 => SessionState::BackingOff,
            6 => SessionState::Down,
            _ => return None,
        })
    }
}

/// Timing policy of a session.
#[derive(Clone, Copy, Debug)]
pub struct SupervisorTimers {
    /// The handshake must finish within this.
    pub connect_timeout: Nanos,
    /// An open connection with no frame for this long is stale.
    pub stale_timeout: Nanos,
    /// Planned reconnect after this long (the venue's lifetime cap).
    pub max_age: Nanos,
    /// First backoff delay.
    pub backoff_initial: Nanos,
    /// Longest backoff delay.
    pub backoff_max: Nanos,
    /// More unplanned failures than this within `restart_window`: `Down`.
    pub restart_limit: u32,
    /// The window of the restart intensity.
    pub restart_window: Nanos,
    /// How long `Down` lasts (0: until the engine is restarted).
    pub down_cooldown: Nanos,
}

/// Something [`Supervisor::check`] found due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    /// The handshake took too long: fail the attempt.
    ConnectTimeout,
    /// No frame for too long: the connection is stale (state is now `Stale`).
    Stale,
    /// The connection reached its planned age: reconnect (not a failure).
    Rotate,
    /// The wait is over: connect.
    Connect,
}

/// One supervised connection.
#[derive(Debug)]
pub struct Supervisor {
    state: SessionState,
    since: Nanos,
    timers: SupervisorTimers,
    backoff: Backoff,
    /// Unplanned failures of this connection in the recent window.
    intensity: RestartIntensity,
    /// When the current wait ends (BackingOff, Down).
    retry_at: Nanos,
    opened_at: Nanos,
    /// Receive time of the last frame. Written per frame.
    last_frame: Nanos,
    /// The connection has been open before (the next open is a reconnect).
    was_open: bool,
}

impl Supervisor {
    /// A session that should connect at once.
    pub fn new(timers: SupervisorTimers, seed: u64, now: Nanos) -> Supervisor {
        Supervisor {
            state: SessionState::BackingOff,
            since: now,
            timers,
            backoff: Backoff::new(timers.backoff_initial, timers.backoff_max, seed),
            intensity: RestartIntensity::new(timers.restart_limit, timers.restart_window),
            retry_at: now,
            opened_at: 0,
            last_frame: 0,
            was_open: false,
        }
    }

    /// The current state.
    pub fn state(&self) -> SessionState {
        self.state
    }

    /// Time of the last state change.
    pub fn since(&self) -> Nanos {
        self.since
    }

    fn set(&mut self, state: SessionState, now: Nanos) -> SessionState {
        self.state = state;
        self.since = now;
        state
    }

    /// A connection attempt starts.
    pub fn connecting(&mut self, now: Nanos) -> SessionState {
        self.set(SessionState::Connecting, now)
    }

    /// The WebSocket is open. Returns the new state and whether this is a reconnect.
    pub fn opened(&mut self, now: Nanos) -> (SessionState, bool) {
        self.opened_at = now;
        self.last_frame = now;
        let reconnect = self.was_open;
        self.was_open = true;
        (self.set(SessionState::Syncing, now), reconnect)
    }

    /// Every book on the connection is synced.
    pub fn synced(&mut self, now: Nanos) -> Option<SessionState> {
        if self.state != SessionState::Syncing {
            return None;
        }
        self.backoff.reset();
        Some(self.set(SessionState::Live, now))
    }

    /// A book on the connection went back to syncing (gap, resync).
    pub fn unsynced(&mut self, now: Nanos) -> Option<SessionState> {
        (self.state == SessionState::Live).then(|| self.set(SessionState::Syncing, now))
    }

    /// A frame arrived. On the per-message path: one store.
    #[inline]
    pub fn frame(&mut self, now: Nanos) {
        self.last_frame = now;
    }

    /// The connection failed or was closed. A planned close (rotation,
    /// server shutdown) reconnects at once; otherwise back off, or go `Down`
    /// for the cool-down when this connection exceeded the restart intensity.
    pub fn failed(&mut self, now: Nanos, planned: bool) -> SessionState {
        if planned {
            self.retry_at = now;
            return self.set(SessionState::BackingOff, now);
        }
        if !self.intensity.record(now) {
            return self.down(now, self.timers.down_cooldown);
        }
        self.retry_at = now.saturating_add(self.backoff.next_delay());
        self.set(SessionState::BackingOff, now)
    }

    /// Stay down for `cooldown` (0 = until the engine is restarted); the
    /// restart history is forgotten.
    pub fn down(&mut self, now: Nanos, cooldown: Nanos) -> SessionState {
        self.intensity.clear();
        self.retry_at = if cooldown == 0 {
            Nanos::MAX
        } else {
            now.saturating_add(cooldown)
        };
        self.set(SessionState::Down, now)
    }

    /// When [`check`](Self::check) may next find something due: the
    /// caller sleeps until then (or until a socket is ready).
    pub fn next_deadline(&self) -> Nanos {
        match self.state {
            SessionState::Connecting => self
                .since
                .saturating_add(self.timers.connect_timeout)
                .saturating_add(1),
            SessionState::Syncing | SessionState::Live => {
                let stale = self
                    .last_frame
                    .saturating_add(self.timers.stale_timeout)
                    .saturating_add(1);
                let rotate = self
                    .opened_at
                    .saturating_add(self.timers.max_age)
                    .saturating_add(1);
                stale.min(rotate)
            }
            SessionState::BackingOff | SessionState::Down => self.retry_at,
            SessionState::Stale => self.since,
        }
    }

    /// What is due at `now`, if anything.
    pub fn check(&mut self, now: Nanos) -> Option<Due> {
        match self.state {
            SessionState::Connecting
                if now.saturating_sub(self.since) > self.timers.connect_timeout =>
            {
                Some(Due::ConnectTimeout)
            }
            SessionState::Syncing | SessionState::Live => {
                if now.saturating_sub(self.last_frame) > self.timers.stale_timeout {
                    self.set(SessionState::Stale, now);
                    Some(Due::Stale)
                } else if now.saturating_sub(self.opened_at) > self.timers.max_age {
                    Some(Due::Rotate)
                } else {
                    None
                }
            }
            SessionState::BackingOff | SessionState::Down if now >= self.retry_at => {
                Some(Due::Connect)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Clock, ManualClock};

    const MS: Nanos = 1_000_000;

    fn timers() -> SupervisorTimers {
        SupervisorTimers {
            connect_timeout: 1000 * MS,
            stale_timeout: 500 * MS,
            max_age: 60_000 * MS,
            backoff_initial: 100 * MS,
            backoff_max: 1000 * MS,
            restart_limit: 5,
            restart_window: 10_000 * MS,
            down_cooldown: 60_000 * MS,
        }
    }

    /// A session that is open and live at `now`.
    fn live(seed: u64, now: Nanos) -> Supervisor {
        let mut s = Supervisor::new(timers(), seed, now);
        s.connecting(now);
        s.opened(now);
        s.synced(now);
        s
    }

    /// The feed loop's way of driving a supervisor: sleep (here: move a
    /// `ManualClock`) to the next deadline, then ask what is due. Nothing is
    /// due a nanosecond before it, and something is at it.
    fn sleep_to_deadline(s: &mut Supervisor, clock: &ManualClock) -> Option<Due> {
        let t = s.next_deadline();
        clock.set(t.max(clock.now()));
        if t > 0 {
            assert_eq!(s.check(t - 1), None, "due before its deadline");
        }
        s.check(clock.now())
    }

    #[test]
    fn a_loop_sleeping_to_each_deadline_supervises_a_stalling_connection() {
        let clock = ManualClock::new(0);
        let mut s = Supervisor::new(timers(), 3, clock.now());
        assert_eq!(sleep_to_deadline(&mut s, &clock), Some(Due::Connect));
        s.connecting(clock.now());
        clock.advance(5 * MS);
        s.opened(clock.now());
        s.synced(clock.now());
        // Frames keep it alive: the deadline moves with them.
        for _ in 0..10 {
            clock.advance(100 * MS);
            s.frame(clock.now());
            assert_eq!(s.next_deadline(), clock.now() + 500 * MS + 1);
        }
        // Then nothing: stale exactly after the timeout.
        let quiet_from = clock.now();
        assert_eq!(sleep_to_deadline(&mut s, &clock), Some(Due::Stale));
        assert_eq!(clock.now(), quiet_from + 500 * MS + 1);
        assert_eq!(s.failed(clock.now(), false), SessionState::BackingOff);
        // Backs off (100 ms ± 25%), then connects again.
        let failed_at = clock.now();
        assert_eq!(sleep_to_deadline(&mut s, &clock), Some(Due::Connect));
        let waited = clock.now() - failed_at;
        assert!((75 * MS..=125 * MS).contains(&waited), "{waited}");
        s.connecting(clock.now());
        assert_eq!(sleep_to_deadline(&mut s, &clock), Some(Due::ConnectTimeout));
    }

    #[test]
    fn one_blip_on_every_connection_backs_off_without_going_down() {
        // Six connections of one venue dropped by the same blip.
        let mut sessions: Vec<Supervisor> = (0..6).map(|i| live(i, 0)).collect();
        let states: Vec<_> = sessions.iter_mut().map(|s| s.failed(MS, false)).collect();
        assert!(
            states.iter().all(|&s| s == SessionState::BackingOff),
            "{states:?}"
        );
        // Each retries after its own jittered backoff (75..=125 ms).
        for s in &mut sessions {
            assert_eq!(s.check(70 * MS), None);
            assert_eq!(s.check(130 * MS), Some(Due::Connect));
        }
    }

    #[test]
    fn a_connection_flapping_beyond_the_limit_goes_down_for_the_cooldown() {
        let mut s = live(1, 0);
        let mut now = 0;
        for i in 0..5 {
            now += 1000 * MS;
            assert_eq!(
                s.failed(now, false),
                SessionState::BackingOff,
                "failure {i}"
            );
            s.connecting(now);
            s.opened(now);
        }
        now += 1000 * MS;
        assert_eq!(s.failed(now, false), SessionState::Down);
        assert_eq!(s.check(now + 59_999 * MS), None);
        assert_eq!(s.check(now + 60_000 * MS), Some(Due::Connect));
        // After the cool-down the history starts over.
        now += 60_000 * MS;
        s.connecting(now);
        assert_eq!(s.failed(now, false), SessionState::BackingOff);
    }

    #[test]
    fn failures_spread_beyond_the_window_and_planned_closes_never_go_down() {
        let mut s = live(2, 0);
        for i in 1..=20 {
            let now = i * 3000 * MS;
            assert_eq!(
                s.failed(now, false),
                SessionState::BackingOff,
                "failure {i}"
            );
            assert_eq!(s.failed(now, true), SessionState::BackingOff, "planned {i}");
        }
    }

    #[test]
    fn a_zero_cooldown_stays_down() {
        let mut t = timers();
        t.restart_limit = 0;
        t.down_cooldown = 0;
        let mut s = Supervisor::new(t, 3, 0);
        assert_eq!(s.failed(MS, false), SessionState::Down);
        assert_eq!(s.check(Nanos::MAX - 1), None);
    }

    #[test]
    fn lifecycle_with_staleness_backoff_and_rotation() {
        let mut s = Supervisor::new(timers(), 1, 0);
        assert_eq!(s.check(0), Some(Due::Connect));
        s.connecting(0);
        assert_eq!(s.check(500 * MS), None);
        assert_eq!(s.check(1001 * MS), Some(Due::ConnectTimeout));
        assert_eq!(s.failed(1001 * MS, false), SessionState::BackingOff);
        assert_eq!(s.check(1001 * MS), None);
        assert_eq!(s.check(1200 * MS), Some(Due::Connect));
        s.connecting(1200 * MS);
        assert_eq!(s.opened(1300 * MS), (SessionState::Syncing, false));
        assert_eq!(s.synced(1300 * MS), Some(SessionState::Live));
        s.frame(1700 * MS);
        assert_eq!(s.check(2100 * MS), None);
        assert_eq!(s.check(2300 * MS), Some(Due::Stale));
        assert_eq!(s.state(), SessionState::Stale);
        s.failed(2300 * MS, false);
        s.connecting(3000 * MS);
        assert!(s.opened(3000 * MS).1, "second open is a reconnect");
        s.frame(63_000 * MS);
        assert_eq!(s.check(63_001 * MS), Some(Due::Rotate));
        s.failed(63_001 * MS, true);
        assert_eq!(s.check(63_001 * MS), Some(Due::Connect), "planned: no wait");
        s.down(70_000 * MS, 5000 * MS);
        assert_eq!(s.check(74_000 * MS), None);
        assert_eq!(s.check(75_000 * MS), Some(Due::Connect));
    }
}
