//! Eight-bytes-at-a-time helpers shared by the number parser and the
//! venues' fast-path scanners in `crate::venue::scan` ("SIMD within a
//! register", no `unsafe`).
//!
//! Everything here is arithmetic on one `u64` holding eight bytes, the
//! first byte in the lowest place: loading them, flagging the bytes that are
//! not digits, and turning digit bytes into a value. Knowledge of JSON
//! (quotes, dots, where a number ends) belongs to the scanners.

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

/// `'0'` in every byte.
pub(crate) const ZEROS: u64 = 0x3030_3030_3030_3030;

/// Top bit set in every byte of `d` (a chunk already `^ '0'`, so digits
/// are the byte values 0..=9) that is not a digit. Why it is exact: a digit
/// plus 0x76 stays below 0x80, anything from 10 to 0x7F reaches it, and a
/// byte of 0x80 or more is flagged by its own top bit; a carry out of a byte
/// only leaves a byte that is flagged already, so the lowest flag is the
/// first non-digit and no flag means eight digits.
#[inline(always)]
pub(crate) fn nondigit_values(d: u64) -> u64 {
    (d | d.wrapping_add(0x7676_7676_7676_7676)) & 0x8080_8080_8080_8080
}

/// Value of 8 digit *values* (0..=9 per byte, byte 0 most significant):
/// pairs, then quads, then the whole.
#[inline(always)]
pub(crate) fn value8d(v: u64) -> u64 {
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let v = ((v & 0x0000_00FF_0000_00FF).wrapping_mul(0x000F_4240_0000_0064))
        .wrapping_add(((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(0x0000_2710_0000_0001));
    v >> 32
}

/// Value of the leading digits of `d` (a chunk `^ '0'`, so digits are the
/// byte values 0..=9), given `tz`, the trailing zeros of its non-digit flags
/// (`8n + 7` for `n` digits, `7..=63`). Why no mask: shifting up by
/// `8 (8 - n)` bits pushes the bytes after the digits out while zeros
/// (digit 0) fill the most significant places. The shift is split so
/// `n == 0` (a shift by 64) gives 0 instead of overflowing.
#[inline(always)]
pub(crate) fn digits_right(d: u64, tz: u32) -> u64 {
    debug_assert!((7..=63).contains(&tz));
    value8d((d << (70 - tz)) << 1)
}
