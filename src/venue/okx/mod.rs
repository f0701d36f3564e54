//! OKX v5 market data (spot, swaps, futures: one public endpoint).

pub mod consts;
