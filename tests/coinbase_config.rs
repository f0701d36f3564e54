//! Coinbase in the configuration: its whole-book frames need the
//! venue-neutral `max_frame_bytes` (default the venue's 8 MiB; at least
//! 64 KiB, at most `engine.max_message_bytes`), which the plan hands each
//! connection's session as `max_frame`.

use tickwire::config::{Config, ConfigError, EngineSection, VenueSection};
use tickwire::engine::plan::plan_connections;
use tickwire::types::Venue;

fn coinbase() -> Config {
    let mut venue = VenueSection::new(Venue::Coinbase);
    venue.ws_url = Some("ws://127.0.0.1:9000".to_owned());
    venue.symbols = vec!["BTC-USD".to_owned(), "ETH-USD".to_owned()];
    Config {
        engine: EngineSection::default(),
        venues: vec![venue],
        risk: Default::default(),
    }
}

fn refused(config: &Config) -> String {
    match config.validate() {
        Err(ConfigError::Invalid { key, message }) => {
            assert_eq!(key, "venue[0].max_frame_bytes", "{message}");
            message
        }
        other => panic!("expected max_frame_bytes refused: {other:?}"),
    }
}

#[test]
fn the_default_is_the_venues_and_reaches_the_session_plan() {
    let cfg = coinbase().validate().expect("valid");
    assert_eq!(cfg.venues[0].max_frame_bytes, 8 << 20);
    let mut registry = tickwire::types::Registry::new();
    for s in ["BTC-USD", "ETH-USD"] {
        registry
            .add(Venue::Coinbase, s, "0.00000001", "0.00000001")
            .unwrap();
    }
    let plans = plan_connections(&cfg, &registry);
    assert_eq!(plans.len(), 1);
    assert_eq!(plans[0].max_frame, 8 << 20);
    assert_eq!(plans[0].instruments.len(), 2);
}

#[test]
fn a_smaller_engine_message_limit_caps_the_default() {
    let mut c = coinbase();
    c.engine.max_message_bytes = 4 << 20;
    assert_eq!(
        c.validate().expect("valid").venues[0].max_frame_bytes,
        4 << 20
    );
}

#[test]
fn a_configured_limit_is_checked_against_both_bounds() {
    let mut c = coinbase();
    c.venues[0].max_frame_bytes = Some(1 << 20);
    assert_eq!(
        c.validate().expect("valid").venues[0].max_frame_bytes,
        1 << 20
    );
    c.venues[0].max_frame_bytes = Some(1_000);
    let m = refused(&c);
    assert!(m.contains("65536..=16777216"), "{m}");
    c.venues[0].max_frame_bytes = Some(32 << 20);
    let m = refused(&c);
    assert!(m.contains("raise engine.max_message_bytes"), "{m}");
}
