//! The reusable scanner: what every venue's template fast path reads JSON
//! with (moving here from `binance/fast.rs`).

mod number;

pub(crate) use number::{Wire8, decimal_general, id, positive, uint15};
