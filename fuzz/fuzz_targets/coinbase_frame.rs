//! Arbitrary bytes as a Coinbase Advanced Trade WebSocket frame: decoding
//! must not panic, and the template fast path must give exactly what the
//! simd-json tape path gives.

#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use tickwire::types::{Registry, Venue};
use tickwire::venue::coinbase::CoinbaseDecoder;

const MAX_FRAME: usize = 1 << 16;

struct State {
    registry: Registry,
    fast: CoinbaseDecoder,
    tape: CoinbaseDecoder,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new({
        let mut registry = Registry::new();
        for (symbol, tick, lot) in [
            ("BTC-USD", "0.01", "0.00000001"),
            ("ETH-USD", "0.01", "0.00000001"),
        ] {
            registry
                .add(Venue::Coinbase, symbol, tick, lot)
                .expect("valid instrument");
        }
        let mut tape = CoinbaseDecoder::new(MAX_FRAME);
        tape.set_fast_path(false);
        State {
            registry,
            fast: CoinbaseDecoder::new(MAX_FRAME),
            tape,
        }
    });
}

fuzz_target!(|data: &[u8]| {
    STATE.with(|state| {
        let state = &mut *state.borrow_mut();
        let symbols = state.registry.venue(Venue::Coinbase);
        let a = format!("{:?}", state.fast.decode(data, &symbols));
        let b = format!("{:?}", state.tape.decode(data, &symbols));
        assert_eq!(a, b, "fast path vs tape path");
    });
});
