//! Venue rate limits on a manual clock: fixed windows aligned to UTC,
//! the unfilled-order count, weight, re-sync from replies, 429 and 418.

use tickwire::orders::ratelimit::{Costs, LimitKind, LimitReport, Pause, RateLimits, WindowLimit};
use tickwire::orders::{RejectReason, RequestKind};
use tickwire::types::{Clock, ManualClock, Nanos};

const S: Nanos = 1_000_000_000;
const DAY: Nanos = 86_400 * S;
/// 2025-12-01T00:00:00Z.
const MIDNIGHT: Nanos = 1_764_547_200 * S;

const COSTS: Costs = Costs {
    new: 1,
    cancel: 1,
    cancel_replace: 1,
    cancel_all: 1,
    query: 4,
};

fn spot_like(orders_10s: u32, orders_day: u32, weight_min: u32) -> RateLimits {
    RateLimits::new(
        &[
            WindowLimit::new(LimitKind::Orders, 10 * S, orders_10s),
            WindowLimit::new(LimitKind::Orders, DAY, orders_day),
            WindowLimit::new(LimitKind::Weight, 60 * S, weight_min),
        ],
        COSTS,
    )
}

#[test]
fn ten_second_windows_start_at_multiples_of_ten_seconds() {
    // 7 s into a window: only 3 s of it left, then a fresh window.
    let clock = ManualClock::new(MIDNIGHT + 7 * S);
    let mut l = spot_like(50, 160_000, 6000);
    for _ in 0..50 {
        assert_eq!(l.try_new_order(clock.now()), Ok(()));
    }
    assert_eq!(l.try_new_order(clock.now()), Err(RejectReason::RateLimit));
    clock.advance(3 * S - 1); // :09.999999999, same window
    assert_eq!(l.try_new_order(clock.now()), Err(RejectReason::RateLimit));
    clock.advance(1); // :10 exactly: a new window, not 10 s after the first order
    assert_eq!(l.try_new_order(clock.now()), Ok(()));
    assert_eq!(l.refused, 2);
}

#[test]
fn the_day_window_resets_at_midnight_utc() {
    let clock = ManualClock::new(MIDNIGHT - 5 * S);
    let mut l = spot_like(1_000, 3, 6000);
    for _ in 0..3 {
        assert_eq!(l.try_new_order(clock.now()), Ok(()));
    }
    assert_eq!(l.try_new_order(clock.now()), Err(RejectReason::RateLimit));
    clock.advance(5 * S);
    assert_eq!(l.try_new_order(clock.now()), Ok(()), "a new UTC day");
}

#[test]
fn a_filled_order_leaves_the_unfilled_count_of_its_window_only() {
    let clock = ManualClock::new(MIDNIGHT);
    let mut l = spot_like(2, 100, 6000);
    let first = clock.now();
    assert_eq!(l.try_new_order(first), Ok(()));
    assert_eq!(l.try_new_order(first), Ok(()));
    assert_eq!(l.try_new_order(first), Err(RejectReason::RateLimit));
    l.on_fill(first, clock.now());
    assert_eq!(l.try_new_order(clock.now()), Ok(()), "the fill freed one");
    assert_eq!(l.try_new_order(clock.now()), Err(RejectReason::RateLimit));
    // A fill of an order counted in an earlier window frees nothing now.
    clock.advance(10 * S);
    assert_eq!(l.try_new_order(clock.now()), Ok(()));
    assert_eq!(l.try_new_order(clock.now()), Ok(()));
    l.on_fill(first, clock.now());
    assert_eq!(l.try_new_order(clock.now()), Err(RejectReason::RateLimit));
}

#[test]
fn weight_is_shared_by_every_request_kind_and_queries_wait_for_the_next_window() {
    let clock = ManualClock::new(MIDNIGHT + 30 * S);
    let mut l = spot_like(1_000, 100_000, 10);
    assert_eq!(l.try_new_order(clock.now()), Ok(())); // 1
    assert!(l.try_request(RequestKind::Query, clock.now())); // 5
    assert!(l.try_request(RequestKind::Query, clock.now())); // 9
    assert!(!l.try_request(RequestKind::Query, clock.now()), "13 > 10");
    assert_eq!(
        l.ready_at(RequestKind::Query, clock.now()),
        MIDNIGHT + 60 * S
    );
    assert!(l.try_request(RequestKind::Cancel, clock.now())); // 10
    assert_eq!(l.try_new_order(clock.now()), Err(RejectReason::RateLimit));
    clock.set(MIDNIGHT + 60 * S);
    assert!(l.try_request(RequestKind::Query, clock.now()));
}

#[test]
fn replies_resync_the_count_and_the_limit() {
    let clock = ManualClock::new(MIDNIGHT + S);
    let mut l = spot_like(50, 160_000, 6000);
    assert_eq!(l.try_new_order(clock.now()), Ok(()));
    let sent = clock.now();
    clock.advance(S / 10);
    // Another session of the account used 47: only 2 left for us.
    let r = LimitReport {
        kind: LimitKind::Orders,
        interval: 10 * S,
        limit: 50,
        count: 48,
    };
    l.resync(&r, sent, clock.now());
    assert_eq!(l.try_new_order(clock.now()), Ok(()));
    assert_eq!(l.try_new_order(clock.now()), Ok(()));
    assert_eq!(l.try_new_order(clock.now()), Err(RejectReason::RateLimit));
    // A report about an earlier window does not touch this one's count.
    clock.set(MIDNIGHT + 10 * S);
    let stale = LimitReport { count: 50, ..r };
    l.resync(&stale, sent, clock.now());
    assert_eq!(l.try_new_order(clock.now()), Ok(()));
    // A lower count never lowers ours (ours includes unanswered requests).
    let low = LimitReport { count: 0, ..r };
    l.resync(&low, clock.now(), clock.now());
    assert_eq!(l.limits()[0].count, 1);
    // The venue's limit replaces ours; an unknown limit is learned.
    let per_min = LimitReport {
        kind: LimitKind::Orders,
        interval: 60 * S,
        limit: 1,
        count: 1,
    };
    l.resync(&per_min, clock.now(), clock.now());
    assert_eq!(l.limits().len(), 4);
    assert_eq!(l.try_new_order(clock.now()), Err(RejectReason::RateLimit));
}

#[test]
fn retry_after_pauses_everything_and_a_ban_says_so() {
    let clock = ManualClock::new(MIDNIGHT);
    let mut l = spot_like(50, 160_000, 6000);
    l.pause_until(MIDNIGHT + 2 * S);
    assert_eq!(l.try_new_order(clock.now()), Err(RejectReason::RateLimit));
    assert!(!l.try_request(RequestKind::Cancel, clock.now()));
    assert_eq!(
        l.ready_at(RequestKind::Cancel, clock.now()),
        MIDNIGHT + 2 * S
    );
    clock.advance(2 * S);
    assert_eq!(l.try_new_order(clock.now()), Ok(()));
    l.ban_until(MIDNIGHT + 120 * S);
    assert_eq!(
        l.paused(clock.now()),
        Some(Pause::Banned(MIDNIGHT + 120 * S))
    );
    assert_eq!(l.try_new_order(clock.now()), Err(RejectReason::Banned));
    l.pause_until(MIDNIGHT + 3 * S);
    assert_eq!(
        l.paused(clock.now()),
        Some(Pause::Banned(MIDNIGHT + 120 * S)),
        "a shorter 429 does not lift a ban"
    );
    clock.set(MIDNIGHT + 120 * S);
    assert_eq!(l.try_new_order(clock.now()), Ok(()));
}

#[test]
fn a_refused_order_takes_nothing() {
    let clock = ManualClock::new(MIDNIGHT);
    let mut l = spot_like(50, 160_000, 3);
    for _ in 0..3 {
        assert_eq!(l.try_new_order(clock.now()), Ok(()));
    }
    assert_eq!(l.try_new_order(clock.now()), Err(RejectReason::RateLimit));
    let counts: Vec<u32> = l.limits().iter().map(|w| w.count).collect();
    assert_eq!(counts, [3, 3, 3]);
}
