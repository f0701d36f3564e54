//! Arbitrary bytes as an OKX v5 WebSocket frame: decoding must not panic,
//! and the template fast path must give exactly what the simd-json tape
//! path gives.

#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use tickwire::types::{Registry, Venue};
use tickwire::venue::okx::OkxDecoder;

const MAX_FRAME: usize = 1 << 16;
const MAX_LEVELS: usize = 1_024;

struct State {
    registry: Registry,
    fast: OkxDecoder,
    tape: OkxDecoder,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new({
        let mut registry = Registry::new();
        for (symbol, tick, lot) in [
            ("BTC-USDT", "0.1", "0.00000001"),
            ("BTC-USDT-SWAP", "0.1", "0.01"),
        ] {
            registry
                .add(Venue::Okx, symbol, tick, lot)
                .expect("valid instrument");
        }
        let mut tape = OkxDecoder::with_limits(MAX_FRAME, MAX_LEVELS);
        tape.set_fast_path(false);
        State {
            registry,
            fast: OkxDecoder::with_limits(MAX_FRAME, MAX_LEVELS),
            tape,
        }
    });
}

fuzz_target!(|data: &[u8]| {
    STATE.with(|state| {
        let state = &mut *state.borrow_mut();
        let symbols = state.registry.venue(Venue::Okx);
        let a = format!("{:?}", state.fast.decode(data, &symbols));
        let b = format!("{:?}", state.tape.decode(data, &symbols));
        assert_eq!(a, b, "fast path vs tape path");
    });
});
