//! Every size, count, rate and duration has an upper bound (and a lower one
//! where 0 or 1 means nothing), and the error names the key.

use super::{accepted, base, refused};
use tickwire::config::Config;

const DAY_MS: u64 = 86_400_000;

/// Applies `set` to a fresh base and expects `key` in the error.
#[track_caller]
fn refuses(key: &str, set: impl Fn(&mut Config)) -> String {
    let mut c = base();
    set(&mut c);
    refused(&c, key)
}

#[test]
fn ring_size_has_an_upper_bound() {
    for v in [1usize << 62, 1 << 40, usize::MAX, (1 << 24) + 1] {
        refuses("engine.ring_size", |c| c.engine.ring_size = v);
    }
    let mut c = base();
    c.engine.ring_size = 1 << 24;
    accepted(&c);
}

#[test]
fn book_capacity_is_bounded_both_ways() {
    for v in [0, 1_000_001, usize::MAX] {
        refuses("engine.book_capacity", |c| c.engine.book_capacity = v);
    }
}

#[test]
fn max_message_bytes_has_an_upper_bound() {
    for v in [(64 << 20) + 1, usize::MAX] {
        refuses("engine.max_message_bytes", |c| {
            c.engine.max_message_bytes = v
        });
    }
    let mut c = base();
    c.engine.max_message_bytes = 64 << 20;
    accepted(&c);
}

#[test]
fn every_duration_is_at_most_a_day() {
    type Set = fn(&mut Config, u64);
    let fields: [(&str, Set); 8] = [
        ("engine.connect_timeout_ms", |c, v| {
            c.engine.connect_timeout_ms = v
        }),
        ("engine.stale_timeout_ms", |c, v| {
            c.engine.stale_timeout_ms = v
        }),
        ("engine.instrument_stale_ms", |c, v| {
            c.engine.instrument_stale_ms = v
        }),
        ("engine.backoff_initial_ms", |c, v| {
            c.engine.backoff_initial_ms = v;
            c.engine.backoff_max_ms = v;
        }),
        ("engine.backoff_max_ms", |c, v| c.engine.backoff_max_ms = v),
        ("engine.restart_window_ms", |c, v| {
            c.engine.restart_window_ms = v
        }),
        ("engine.down_cooldown_ms", |c, v| {
            c.engine.down_cooldown_ms = v
        }),
        ("venue[0].max_connection_age_s", |c, v| {
            c.venues[0].max_connection_age_s = Some(v / 1000);
        }),
    ];
    for (key, set) in fields {
        for v in [DAY_MS + 1000, u64::MAX / 2, u64::MAX] {
            refuses(key, |c| set(c, v));
        }
        let mut c = base();
        set(&mut c, DAY_MS);
        accepted(&c);
    }
}

#[test]
fn restart_limit_is_bounded_both_ways() {
    for v in [0, 1_000_001, u32::MAX] {
        refuses("engine.restart_limit", |c| c.engine.restart_limit = v);
    }
    let mut c = base();
    c.engine.restart_limit = 1_000_000;
    accepted(&c);
}

#[test]
fn consumer_cores_has_a_length_bound() {
    refuses("engine.consumer_cores", |c| {
        c.engine.consumer_cores = vec![0; 5000]
    });
}

#[test]
fn venue_rates_and_counts_are_bounded() {
    refuses("venue[0].snapshot_limit", |c| {
        c.venues[0].snapshot_limit = Some(5001)
    });
    refuses("venue[0].snapshot_limit", |c| {
        c.venues[0].snapshot_limit = Some(u32::MAX)
    });
    refuses("venue[0].depth_interval_ms", |c| {
        c.venues[0].depth_interval_ms = Some(u32::MAX)
    });
    refuses("venue[0].max_streams_per_connection", |c| {
        c.venues[0].max_streams_per_connection = Some(usize::MAX);
    });
    refuses("venue[0].streams_per_subscribe", |c| {
        c.venues[0].streams_per_subscribe = Some(usize::MAX);
    });
    refuses("venue[0].control_messages_per_sec", |c| {
        c.venues[0].control_messages_per_sec = Some(u32::MAX);
    });
    refuses("venue[0].rest_weight_per_minute", |c| {
        c.venues[0].rest_weight_per_minute = Some(u32::MAX);
    });
}

#[test]
fn url_streams_is_at_most_the_streams_of_a_connection() {
    for v in [1025, usize::MAX] {
        refuses("venue[0].url_streams", |c| {
            c.venues[0].url_streams = Some(v)
        });
    }
    let mut c = base();
    c.venues[0].url_streams = Some(0);
    accepted(&c);
}

#[test]
fn a_connection_age_under_a_minute_is_refused() {
    // Reconnecting every second would burn Binance's 300 connection attempts
    // per 5 minutes.
    for v in [0, 1, 59] {
        refuses("venue[0].max_connection_age_s", |c| {
            c.venues[0].max_connection_age_s = Some(v)
        });
    }
}

#[test]
fn the_number_of_symbols_is_bounded() {
    let many: Vec<String> = (0..4097).map(|i| format!("S{i}")).collect();
    refuses("venue[0].symbols", |c| c.venues[0].symbols = many.clone());
}

#[test]
fn a_symbol_longer_than_the_inline_capacity_is_refused() {
    let long = "A".repeat(tickwire::types::SYMBOL_CAP + 1);
    refuses("venue[0].symbols[0]", |c| {
        c.venues[0].symbols = vec![long.clone()]
    });
}

#[test]
fn memory_implied_by_books_is_budgeted() {
    // 300 books of a million levels a side, in the feed and in one mirror:
    // ~19 GB, over the 8 GiB budget, though each value alone is in range.
    let many: Vec<String> = (0..300).map(|i| format!("S{i}")).collect();
    let msg = refuses("engine.book_capacity", |c| {
        c.engine.book_capacity = 1_000_000;
        c.engine.ring_size = 1 << 21;
        c.venues[0].symbols = many.clone();
    });
    assert!(msg.contains("GiB"), "{msg}");
}

#[test]
fn instrument_staleness_is_longer_than_the_depth_interval() {
    // Shorter, every instrument would be resynced between two diffs, each
    // resync a REST snapshot.
    let msg = refuses("engine.instrument_stale_ms", |c| {
        c.venues[0].depth_interval_ms = Some(1000);
        c.engine.instrument_stale_ms = 1000;
    });
    assert!(msg.contains("venue[0].depth_interval_ms"), "{msg}");
    let mut c = base();
    c.venues[0].depth_interval_ms = Some(1000);
    c.engine.instrument_stale_ms = 1001;
    accepted(&c);
    c.engine.instrument_stale_ms = 0;
    accepted(&c);
}

#[test]
fn a_streamed_book_must_fit_the_book_capacity() {
    let mut c = base();
    c.venues[0] = tickwire::config::VenueSection::new(tickwire::types::Venue::Okx);
    c.venues[0].symbols = vec!["BTC-USDT".into()];
    c.engine.book_capacity = 399;
    c.engine.ring_size = 4096;
    let msg = c.validate().expect_err("399 < 400").to_string();
    assert!(
        msg.contains("`engine.book_capacity`") && msg.contains("400"),
        "{msg}"
    );
    c.engine.book_capacity = 400;
    accepted(&c);
}
