//! Eight-bytes-at-a-time helpers shared by the number parser and the
//! Binance fast path ("SIMD within a register", no `unsafe`).

/// `10^i` for `i` in `0..=18`.
pub(crate) const POW10: [u64; 19] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    100_000_000_000,
    1_000_000_000_000,
    10_000_000_000_000,
    100_000_000_000_000,
    1_000_000_000_000_000,
    10_000_000_000_000_000,
    100_000_000_000_000_000,
    1_000_000_000_000_000_000,
];

/// Loads 8 bytes at `at` (little-endian: `b[at]` is the lowest byte).
#[inline(always)]
pub(crate) fn load8(b: &[u8], at: usize) -> Option<u64> {
    let bytes: [u8; 8] = b.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

/// Top bit set in every byte of `chunk` that is not an ASCII digit.
///
/// A byte gets its top bit if it is below '0' (the subtraction wraps) or
/// above '9' (the addition reaches 0x80). Borrows and carries only travel
/// upward, so the *lowest* flagged byte is exactly the first non-digit.
#[inline(always)]
pub(crate) fn nondigits(chunk: u64) -> u64 {
    (chunk.wrapping_add(0x4646_4646_4646_4646) | chunk.wrapping_sub(0x3030_3030_3030_3030))
        & 0x8080_8080_8080_8080
}
