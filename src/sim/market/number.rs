//! Decimal spellings the newer venues use, for their encoders: Bybit
//! linear's fixed decimals (`"65114.20"`), Bybit spot's and OKX's trimmed
//! ones (`"65140"`, `"0.0132"`), and OKX's occasional trailing zeros.

use super::push_u64;
use crate::types::Scale;

/// Appends a non-negative `mantissa` at `scale` with exactly the scale's
/// decimals (`4300001` at scale 2 → `43000.01`), then `extra_zeros` more
/// zeros when the result has a fraction.
pub(super) fn push_fixed(out: &mut Vec<u8>, mantissa: i64, scale: Scale, extra_zeros: usize) {
    let decimals = u32::from(scale.decimals());
    let m = mantissa.unsigned_abs();
    if mantissa < 0 {
        out.push(b'-');
    }
    let one = 10u64.pow(decimals);
    push_u64(out, m / one);
    if decimals == 0 {
        return;
    }
    out.push(b'.');
    let mut frac = m % one;
    let start = out.len();
    out.resize(start + decimals as usize, b'0');
    for i in (0..decimals as usize).rev() {
        out[start + i] = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    out.resize(out.len() + extra_zeros, b'0');
}

/// Appends a non-negative `mantissa` at `scale` with no trailing zeros and
/// no bare point (`4300000` at scale 2 → `43000`, `50` at scale 5 →
/// `0.0005`), then `extra_zeros` zeros (with a point if needed) — how OKX
/// sometimes spells a size (`"1.50000"`).
pub(super) fn push_trimmed(out: &mut Vec<u8>, mantissa: i64, scale: Scale, extra_zeros: usize) {
    let start = out.len();
    push_fixed(out, mantissa, scale, 0);
    if scale.decimals() > 0 {
        while out.last() == Some(&b'0') {
            out.pop();
        }
        if out.last() == Some(&b'.') {
            out.pop();
        }
    }
    if extra_zeros > 0 {
        if !out[start..].contains(&b'.') {
            out.push(b'.');
        }
        out.resize(out.len() + extra_zeros, b'0');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl Fn(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn spellings() {
        let two = Scale::new(2).unwrap();
        let five = Scale::new(5).unwrap();
        assert_eq!(text(|o| push_fixed(o, 4_300_001, two, 0)), "43000.01");
        assert_eq!(text(|o| push_fixed(o, 50_000, five, 0)), "0.50000");
        assert_eq!(text(|o| push_trimmed(o, 4_300_000, two, 0)), "43000");
        assert_eq!(text(|o| push_trimmed(o, 4_300_010, two, 0)), "43000.1");
        assert_eq!(text(|o| push_trimmed(o, 50, five, 0)), "0.0005");
        assert_eq!(text(|o| push_trimmed(o, 150_000, five, 3)), "1.5000");
        assert_eq!(text(|o| push_trimmed(o, 200_000, five, 2)), "2.00");
        assert_eq!(text(|o| push_fixed(o, 7, Scale::new(0).unwrap(), 0)), "7");
    }
}
