//! Arbitrary bytes as a Kraken v2 WebSocket frame: decoding must not
//! panic, and the template fast path must give exactly what the reference
//! walk gives.

#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use tickwire::types::{Registry, Venue};
use tickwire::venue::kraken::KrakenDecoder;

const MAX_FRAME: usize = 1 << 16;
const MAX_LEVELS: usize = 1_024;

struct State {
    registry: Registry,
    fast: KrakenDecoder,
    reference: KrakenDecoder,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new({
        let mut registry = Registry::new();
        for (symbol, tick, lot) in [
            ("BTC/USD", "0.1", "0.00000001"),
            ("MINA/GBP", "0.0001", "0.00000001"),
        ] {
            registry
                .add(Venue::Kraken, symbol, tick, lot)
                .expect("valid instrument");
        }
        let mut reference = KrakenDecoder::with_limits(MAX_FRAME, MAX_LEVELS);
        reference.set_fast_path(false);
        State {
            registry,
            fast: KrakenDecoder::with_limits(MAX_FRAME, MAX_LEVELS),
            reference,
        }
    });
}

fuzz_target!(|data: &[u8]| {
    STATE.with(|state| {
        let state = &mut *state.borrow_mut();
        let symbols = state.registry.venue(Venue::Kraken);
        let a = format!("{:?}", state.fast.decode(data, &symbols));
        let b = format!("{:?}", state.reference.decode(data, &symbols));
        assert_eq!(a, b, "fast path vs reference walk");
    });
});
