//! Numbers rendered as decimal text, right to left, straight into a
//! caller's buffer: what a checksum over the venue's number text needs
//! (OKX's spellings, Kraken's digits at the pair's precision). No
//! allocation, no formatting machinery, no spelling table for a fixed
//! precision.

/// Longest number text: a sign and 64 bytes (the parser's limit).
pub(crate) const NUMBER_CAP: usize = 65;

/// Two-digit ASCII pairs, `00` to `99`.
const PAIRS: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    t
};

/// Writes `mantissa` at `scale` with exactly `decimals` decimals at
/// `out[at..]`, returning the end. Digits past `decimals` must be zero (they
/// are for a level read from text with that many decimals). Writes at most
/// [`NUMBER_CAP`] bytes (a wider spelling, impossible for a parsed level,
/// is cut to fit). Digits go straight to their place, right to left, two at
/// a time: no intermediate copy.
#[inline]
pub(crate) fn put_number(
    out: &mut [u8],
    at: usize,
    mantissa: i64,
    scale: u8,
    decimals: u8,
) -> usize {
    let scale = usize::from(scale).min(18);
    let decimals = usize::from(decimals).min(NUMBER_CAP - 22);
    let kept = decimals.min(scale);
    let mut v = drop_zeros(mantissa.unsigned_abs(), scale - kept);
    let digits = v
        .checked_ilog10()
        .map_or(1, |l| l as usize + 1)
        .max(kept + 1);
    let sign = usize::from(mantissa < 0);
    let int_len = digits - kept;
    let end = at + sign + int_len + if decimals > 0 { 1 + decimals } else { 0 };
    if end > out.len() {
        return at;
    }
    if mantissa < 0 {
        out[at] = b'-';
    }
    // Right to left: the padding zeros, the kept decimals, the dot, the integer.
    let mut w = end;
    let pad = decimals - kept;
    out[w - pad..w].fill(b'0');
    w -= pad;
    w = put_digits(out, w, kept, &mut v);
    if decimals > 0 {
        w -= 1;
        out[w] = b'.';
    }
    put_digits(out, w, int_len, &mut v);
    end
}

/// `v / 10^n` by a constant divisor per arm (a multiply, not a `div`).
#[inline(always)]
fn drop_zeros(v: u64, n: usize) -> u64 {
    match n {
        0 => v,
        1 => v / 10,
        2 => v / 100,
        3 => v / 1_000,
        4 => v / 10_000,
        5 => v / 100_000,
        6 => v / 1_000_000,
        7 => v / 10_000_000,
        8 => v / 100_000_000,
        n => v / crate::types::swar::POW10[n.min(18)],
    }
}

/// The low `n` digits of `v` ending at `out[end]` (exclusive), taken off
/// `v`; returns where they start.
#[inline(always)]
fn put_digits(out: &mut [u8], end: usize, mut n: usize, v: &mut u64) -> usize {
    let mut w = end;
    while n >= 2 {
        let pair = PAIRS[(*v % 100) as usize];
        out[w - 2] = pair[0];
        out[w - 1] = pair[1];
        *v /= 100;
        w -= 2;
        n -= 2;
    }
    if n == 1 {
        out[w - 1] = b'0' + (*v % 10) as u8;
        *v /= 10;
        w -= 1;
    }
    w
}

/// `v`'s decimal digits (no sign, no point, no leading zero) at
/// `out[at..]`; returns the end, or `at` (nothing written) when they do
/// not fit. What a checksum over the digits of a fixed-precision number
/// needs (Kraken's): that text is the mantissa's digits.
///
/// Below 10^16, with 16 bytes of room past the digits, eight digits at a
/// time ([`eight_digits`]) with whole-word stores (the bytes past the end
/// are scratch the next number overwrites); otherwise two at a time.
#[inline(always)]
pub(crate) fn put_uint(out: &mut [u8], at: usize, v: u64) -> usize {
    const E8: u64 = 100_000_000;
    if v < E8 * E8 && out.len() >= at + 24 {
        let (hi, lo) = (v / E8, v % E8);
        if hi == 0 {
            return put_word(out, at, eight_digits(lo as u32));
        }
        let end = put_word(out, at, eight_digits(hi as u32));
        out[end..end + 8].copy_from_slice(&(eight_digits(lo as u32) | ZEROS).to_le_bytes());
        return end + 8;
    }
    put_uint_pairs(out, at, v)
}

/// ASCII `0` in every byte.
const ZEROS: u64 = 0x3030_3030_3030_3030;

/// The eight decimal digits of `x` (below 10^8) as bytes 0..=9, the most
/// significant first in memory order (little-endian), by splitting into
/// halves, quarters and digits in parallel lanes: three multiplies.
#[inline(always)]
fn eight_digits(x: u32) -> u64 {
    let (hi, lo) = (x / 10_000, x % 10_000);
    // Lanes of 32 bits: the first four digits, then the last four.
    let v = u64::from(hi) | (u64::from(lo) << 32);
    // Each 32-bit lane (below 10^4) into two 16-bit lanes below 100.
    let q = ((v * 5_243) >> 19) & 0x0000_007F_0000_007F;
    let v = q | ((v - q * 100) << 16);
    // Each 16-bit lane (below 100) into two bytes below 10.
    let t = ((v * 103) >> 10) & 0x000F_000F_000F_000F;
    t | ((v - t * 10) << 8)
}

/// Writes `digits` (from [`eight_digits`]) without its leading zeros at
/// `out[at..]` as one eight-byte store; returns the end. `out` has room for
/// the eight bytes.
#[inline(always)]
fn put_word(out: &mut [u8], at: usize, digits: u64) -> usize {
    // Leading zero digits are the low zero bytes; a zero keeps one digit.
    let zeros = (digits.trailing_zeros() / 8).min(7) as usize;
    let word = (digits | ZEROS) >> (8 * zeros);
    out[at..at + 8].copy_from_slice(&word.to_le_bytes());
    at + 8 - zeros
}

/// [`put_uint`] two digits at a time, right to left, writing only the
/// digits.
fn put_uint_pairs(out: &mut [u8], at: usize, mut v: u64) -> usize {
    let len = v.checked_ilog10().map_or(1, |l| l as usize + 1);
    let Some(dst) = out.get_mut(at..at + len) else {
        return at;
    };
    let mut i = len;
    while i >= 2 {
        let pair = PAIRS[(v % 100) as usize];
        dst[i - 2] = pair[0];
        dst[i - 1] = pair[1];
        v /= 100;
        i -= 2;
    }
    if i == 1 {
        dst[0] = b'0' + (v % 10) as u8;
    }
    at + len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uints_render_as_their_digits() {
        let mut out = [0u8; 64];
        let mut values = vec![0u64, 7, 10, 99, 100, 628_025, 5_100, u64::MAX];
        for p in 0..20u32 {
            let e = 10u64.pow(p);
            values.extend([e - 1, e, e + 1, e.saturating_mul(7) / 3]);
        }
        for v in values {
            let end = put_uint(&mut out, 3, v);
            assert_eq!(&out[3..end], v.to_string().as_bytes(), "{v}");
            // Without the room for whole words: the pairs.
            let mut tight = [0u8; 23];
            let end = put_uint(&mut tight, 3, v);
            assert_eq!(&tight[3..end], v.to_string().as_bytes(), "{v}");
        }
        let mut small = [0u8; 4];
        assert_eq!(
            put_uint(&mut small, 1, 12_345),
            1,
            "does not fit: nothing written"
        );
        assert_eq!(small, [0; 4]);
    }
    proptest::proptest! {
        /// Any value renders as its digits, both ways.
        #[test]
        fn put_uint_is_to_string(v in proptest::prelude::any::<u64>(), small in 0u64..100_000_000) {
            let mut out = [0u8; 64];
            for x in [v, small, v % 10_000_000_000_000_000] {
                let end = put_uint(&mut out, 5, x);
                let want = x.to_string();
                proptest::prop_assert_eq!(&out[5..end], want.as_bytes());
            }
        }
    }
}
