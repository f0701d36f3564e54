//! Which instruments share a connection: a venue's symbols in configuration
//! order, all streams of a symbol on one connection, a new connection when
//! the next symbol's streams would pass the venue's streams-per-connection
//! limit. The result is one venue-neutral [`SessionPlan`] per connection;
//! the venue's session turns it into its URL and subscribe messages.

use crate::config::{EngineConfig, VenueConfig};
use crate::types::Registry;
use crate::venue::{PlannedInstrument, SessionPlan};

/// The connections of every configured venue, venue by venue.
pub fn plan_connections(cfg: &EngineConfig, registry: &Registry) -> Vec<SessionPlan> {
    cfg.venues
        .iter()
        .flat_map(|v| plan_venue(v, registry, cfg.engine.book_capacity))
        .collect()
}

/// The connections of one venue.
pub fn plan_venue(v: &VenueConfig, registry: &Registry, book_capacity: usize) -> Vec<SessionPlan> {
    let per_symbol = v.channels.len().max(1);
    let symbols_per_conn = (v.max_streams_per_connection / per_symbol).max(1);
    let instruments: Vec<PlannedInstrument> = v
        .symbols
        .iter()
        .filter_map(|s| {
            let inst = registry.lookup(v.venue, s.symbol.as_bytes())?;
            Some(PlannedInstrument {
                id: inst.id,
                symbol: s.symbol.clone(),
            })
        })
        .collect();
    instruments
        .chunks(symbols_per_conn)
        .map(|chunk| SessionPlan {
            venue: v.venue,
            ws_url: v.ws.base.clone(),
            rest_url: v.rest.base.clone(),
            instruments: chunk.to_vec(),
            channels: v.channels.clone(),
            depth_interval_ms: v.depth_interval_ms,
            depth: v.snapshot_limit,
            url_streams: v.url_streams,
            streams_per_subscribe: v.streams_per_subscribe,
            control_per_sec: v.control_messages_per_sec,
            book_capacity,
            max_frame: v.max_frame_bytes,
        })
        .collect()
}

#[cfg(all(test, feature = "toml-config"))]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn symbols_are_spread_without_splitting_their_streams() {
        let cfg = Config::from_toml_str(
            r#"
            [[venue]]
            name = "binance-spot"
            max_streams_per_connection = 7
            symbols = ["AAA", "BBB", "CCC", "DDD", "EEE"]
            [[venue]]
            name = "okx"
            channels = ["depth"]
            symbols = ["BTC-USDT"]
            "#,
        )
        .unwrap()
        .validate()
        .unwrap();
        let plans = plan_connections(&cfg, &cfg.registry());
        let sizes: Vec<usize> = plans.iter().map(|p| p.instruments.len()).collect();
        // Three streams a symbol, at most seven a connection: two symbols each.
        assert_eq!(sizes, [2, 2, 1, 1]);
        assert_eq!(plans[2].instruments[0].symbol, "EEE");
        assert_eq!(plans[3].venue, crate::types::Venue::Okx);
        assert_eq!(plans[3].depth, 400);
        assert_eq!(plans[3].ws_url, "wss://ws.okx.com:8443/ws/v5/public");
    }
}
