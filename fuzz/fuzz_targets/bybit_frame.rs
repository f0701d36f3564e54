//! Arbitrary bytes as a Bybit v5 WebSocket frame (spot and linear):
//! decoding must not panic, and the template fast path must give exactly
//! what the simd-json tape path gives.

#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use tickwire::types::{Registry, Venue};
use tickwire::venue::bybit::BybitDecoder;

const MAX_FRAME: usize = 1 << 16;
const MAX_LEVELS: usize = 1_024;
const VENUES: [Venue; 2] = [Venue::BybitSpot, Venue::BybitLinear];

struct State {
    registry: Registry,
    /// Per venue: fast path on, off.
    decoders: Vec<[BybitDecoder; 2]>,
}

impl State {
    fn new() -> State {
        let mut registry = Registry::new();
        for venue in VENUES {
            for (symbol, tick, lot) in [
                ("BTCUSDT", "0.01", "0.000001"),
                ("XRPUSDT", "0.0001", "1"),
            ] {
                registry
                    .add(venue, symbol, tick, lot)
                    .expect("valid instrument");
            }
        }
        let decoders = VENUES
            .iter()
            .map(|&venue| {
                let fast = BybitDecoder::with_limits(venue, MAX_FRAME, MAX_LEVELS);
                let mut tape = BybitDecoder::with_limits(venue, MAX_FRAME, MAX_LEVELS);
                tape.set_fast_path(false);
                [fast, tape]
            })
            .collect();
        State { registry, decoders }
    }
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::new());
}

fuzz_target!(|data: &[u8]| {
    STATE.with(|state| {
        let state = &mut *state.borrow_mut();
        for (venue, [fast, tape]) in VENUES.into_iter().zip(state.decoders.iter_mut()) {
            let symbols = state.registry.venue(venue);
            let a = format!("{:?}", fast.decode(data, &symbols));
            let b = format!("{:?}", tape.decode(data, &symbols));
            assert_eq!(a, b, "fast path vs tape path ({venue})");
        }
    });
});
