//! No value of any numeric key makes `validate()` panic, and whatever it
//! accepts is within the documented bounds.

use super::base;
use proptest::prelude::*;
use tickwire::config::Config;

/// Values that find edges: anything, small, powers of two and their
/// neighbours, the bounds of a day in ms, and the maximum.
fn num() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        0u64..=2_000,
        (0u32..64).prop_map(|s| 1u64 << s),
        (1u32..64).prop_map(|s| (1u64 << s) - 1),
        (0u32..63).prop_map(|s| (1u64 << s) + 1),
        86_399_990u64..=86_400_010,
        Just(u64::MAX),
    ]
}

/// Sets numeric key `i` of the base to `v` (truncated to the key's type;
/// `as` keeps every value of the narrower type reachable).
fn set(c: &mut Config, i: usize, v: u64) {
    let e = &mut c.engine;
    let s = &mut c.venues[0];
    match i {
        0 => e.ring_size = v as usize,
        1 => e.book_capacity = v as usize,
        2 => e.connect_timeout_ms = v,
        3 => e.stale_timeout_ms = v,
        4 => e.instrument_stale_ms = v,
        5 => e.backoff_initial_ms = v,
        6 => e.backoff_max_ms = v,
        7 => e.restart_limit = v as u32,
        8 => e.restart_window_ms = v,
        9 => e.down_cooldown_ms = v,
        10 => e.max_message_bytes = v as usize,
        11 => e.feed_core = Some(v as usize),
        12 => e.consumer_cores = vec![v as usize],
        13 => s.depth_interval_ms = Some(v as u32),
        14 => s.snapshot_limit = Some(v as u32),
        15 => s.max_streams_per_connection = Some(v as usize),
        16 => s.control_messages_per_sec = Some(v as u32),
        17 => s.rest_weight_per_minute = Some(v as u32),
        18 => s.max_connection_age_s = Some(v),
        19 => s.url_streams = Some(v as usize),
        _ => s.streams_per_subscribe = Some(v as usize),
    }
}

const KEYS: usize = 21;
const DAY_MS: u64 = 86_400_000;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Any values for any subset of the numeric keys: an answer, never a panic.
    #[test]
    fn no_numeric_value_panics(values in proptest::collection::vec((0..KEYS, num()), 1..8)) {
        let mut c = base();
        for &(i, v) in &values {
            set(&mut c, i, v);
        }
        if let Ok(ok) = c.validate() {
            let e = &ok.engine;
            prop_assert!(e.ring_size <= 1 << 24);
            prop_assert!((1..=1_000_000).contains(&e.book_capacity));
            prop_assert!(e.max_message_bytes <= 64 << 20);
            prop_assert!((1..=1_000_000).contains(&e.restart_limit));
            for ms in [
                e.connect_timeout_ms,
                e.stale_timeout_ms,
                e.instrument_stale_ms,
                e.backoff_initial_ms,
                e.backoff_max_ms,
                e.restart_window_ms,
                e.down_cooldown_ms,
            ] {
                prop_assert!(ms <= DAY_MS);
            }
            let rings = e.ring_size as u64 * e.consumer_cores.len().max(1) as u64 * 64;
            let books = e.book_capacity as u64 * 32 * 2;
            prop_assert!(rings + books <= 8 << 30);
        }
    }

    /// Each key alone, over every value the strategy finds.
    #[test]
    fn each_key_alone(i in 0..KEYS, v in num()) {
        let mut c = base();
        set(&mut c, i, v);
        let _ = c.validate();
    }
}
