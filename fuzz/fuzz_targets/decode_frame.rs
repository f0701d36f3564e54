//! Arbitrary bytes as a Binance WebSocket frame: decoding must not panic,
//! and the template fast path must give exactly what the simd-json tape
//! path gives (both the same error, or the same message).

#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use tickwire::types::{Registry, Venue};
use tickwire::venue::binance::BinanceDecoder;

/// Largest frame tried; larger inputs must come back as `TooLarge`.
const MAX_FRAME: usize = 1 << 16;
/// Levels per side.
const MAX_LEVELS: usize = 1_024;

/// Decoders (fast path on, off) per venue, and the symbols they resolve.
struct State {
    registry: Registry,
    spot: [BinanceDecoder; 2],
    usdm: [BinanceDecoder; 2],
}

impl State {
    fn new() -> State {
        let mut registry = Registry::new();
        for venue in [Venue::BinanceSpot, Venue::BinanceUsdm] {
            // Scales 8/8, 2/5 and 3/0: wire precision, BTCUSDT-like, SUSHIUSDT-like.
            for (symbol, tick, lot) in [
                ("NKNUSDT", "0.00000001", "0.00000001"),
                ("BTCUSDT", "0.01", "0.00001"),
                ("SUSHIUSDT", "0.001", "1"),
            ] {
                registry
                    .add(venue, symbol, tick, lot)
                    .expect("valid instrument");
            }
        }
        let pair = |venue| {
            let fast = BinanceDecoder::with_limits(venue, MAX_FRAME, MAX_LEVELS);
            let mut tape = BinanceDecoder::with_limits(venue, MAX_FRAME, MAX_LEVELS);
            tape.set_fast_path(false);
            [fast, tape]
        };
        State {
            registry,
            spot: pair(Venue::BinanceSpot),
            usdm: pair(Venue::BinanceUsdm),
        }
    }
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::new());
}

fuzz_target!(|data: &[u8]| {
    STATE.with(|state| {
        let state = &mut *state.borrow_mut();
        for (venue, [fast, tape]) in [
            (Venue::BinanceSpot, &mut state.spot),
            (Venue::BinanceUsdm, &mut state.usdm),
        ] {
            let symbols = state.registry.venue(venue);
            let a = format!("{:?}", fast.decode(data, &symbols));
            let b = format!("{:?}", tape.decode(data, &symbols));
            assert_eq!(a, b, "fast path vs tape path ({venue})");
        }
    });
});
