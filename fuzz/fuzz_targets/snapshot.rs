//! Arbitrary bytes as a REST depth snapshot body: `decode_snapshot` must
//! not panic, and the fast path must agree with the tape path, at several
//! instrument scales.

#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use tickwire::types::{Registry, Scaling, Venue};
use tickwire::venue::binance::BinanceDecoder;

/// Largest body tried (a 5,000-level snapshot is about 300 kB).
const MAX_BODY: usize = 1 << 20;
/// Levels per side.
const MAX_LEVELS: usize = 8_192;

/// Decoders (fast path on, off) per venue, and the scalings to try.
struct State {
    scalings: Vec<Scaling>,
    spot: [BinanceDecoder; 2],
    usdm: [BinanceDecoder; 2],
}

impl State {
    fn new() -> State {
        let mut registry = Registry::new();
        let scalings = [
            ("NKNUSDT", "0.00000001", "0.00000001"),
            ("BTCUSDT", "0.01", "0.00001"),
            ("SUSHIUSDT", "0.001", "1"),
        ]
        .into_iter()
        .map(|(symbol, tick, lot)| {
            let id = registry
                .add(Venue::BinanceSpot, symbol, tick, lot)
                .expect("valid instrument");
            registry.get(id).scaling()
        })
        .collect();
        let pair = |venue| {
            let fast = BinanceDecoder::with_limits(venue, MAX_BODY, MAX_LEVELS);
            let mut tape = BinanceDecoder::with_limits(venue, MAX_BODY, MAX_LEVELS);
            tape.set_fast_path(false);
            [fast, tape]
        };
        State {
            scalings,
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
        for [fast, tape] in [&mut state.spot, &mut state.usdm] {
            for &scaling in &state.scalings {
                let a = format!("{:?}", fast.decode_snapshot(data, scaling));
                let b = format!("{:?}", tape.decode_snapshot(data, scaling));
                assert_eq!(a, b, "fast path vs tape path at {scaling:?}");
            }
        }
    });
});
