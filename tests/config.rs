//! Configuration validation: every bound and every refusal names its key.
//!
//! Configurations are built in code (the TOML layer only maps text onto the
//! same structs), so each test changes one field of a valid base.

#[path = "config/bounds.rs"]
mod bounds;
#[path = "config/cores.rs"]
mod cores;
#[path = "config/props.rs"]
mod props;
#[path = "config/risk.rs"]
mod risk;
#[path = "config/symbols.rs"]
mod symbols;
#[path = "config/urls.rs"]
mod urls;

use tickwire::config::{Config, ConfigError, EngineSection, VenueSection};
use tickwire::types::Venue;

/// A valid configuration: one spot venue on loopback with one symbol.
pub(crate) fn base() -> Config {
    let mut venue = VenueSection::new(Venue::BinanceSpot);
    venue.ws_url = Some("ws://127.0.0.1:9000".to_owned());
    venue.rest_url = Some("http://127.0.0.1:9000".to_owned());
    venue.symbols = vec!["BTCUSDT".to_owned()];
    Config {
        engine: EngineSection::default(),
        venues: vec![venue],
        risk: Default::default(),
    }
}

/// Asserts `config` is refused with an `Invalid` error naming `key`;
/// returns the message.
#[track_caller]
pub(crate) fn refused(config: &Config, key: &str) -> String {
    match config.validate() {
        Ok(_) => panic!("accepted, expected an error naming `{key}`"),
        Err(ConfigError::Invalid { key: k, message }) => {
            assert_eq!(k, key, "wrong key (message: {message})");
            message
        }
        Err(e) => panic!("expected an Invalid error naming `{key}`, got {e}"),
    }
}

/// Asserts `config` validates.
#[track_caller]
pub(crate) fn accepted(config: &Config) {
    if let Err(e) = config.validate() {
        panic!("refused: {e}");
    }
}

#[test]
fn the_base_configuration_is_valid() {
    accepted(&base());
}
