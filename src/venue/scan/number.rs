//! Number readers at a fixed position: no loop over the digits in the usual
//! case, and no error of their own.
//!
//! - [`Wire8`] reads the eight-decimal form (`43000.01000000`, as Binance
//!   writes every price and quantity) at one scale of at most eight
//!   decimals, with all scale-dependent work done once per message.
//! - [`uint15`] reads a JSON unsigned integer of at most 15 digits with two
//!   loads.
//! - [`decimal_general`] reads any other decimal, exactly as the tape path's
//!   parser would (out of line: the unusual case).
//! - [`id`] and [`positive`] are the acceptance rules every decoder shares
//!   for ids and prices.
//!
//! Each answers `None` both for "not my form" and for "the tape path would
//! refuse this": the caller then lets the tape path decide. Whenever one
//! answers `Some`, the value is the one `parse_decimal_prefix` (or, for
//! integers, JSON's unsigned form) gives; the property tests below check it.

use crate::types::swar::{POW10, ZEROS, digits_right, load8, nondigit_values, nondigits, value8d};
use crate::types::{Scale, parse_decimal_prefix};

/// Reads eight-decimal numbers (`"43000.01000000"`) at one scale of at most
/// eight decimals.
///
/// Everything that depends on the scale is computed here, once per message,
/// so reading a number is a fixed run of SWAR steps: no loop, and a single
/// length-dependent offset (where the decimals start).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Wire8 {
    /// The decimal bytes past the scale; they must all be `'0'`.
    tail_mask: u64,
    /// `71 - 8 * scale`: integer parts whose non-digit flag sits at or below
    /// this bit (`8n + 7 <= 71 - 8 * scale`, i.e. `n + scale <= 8`) share
    /// one 8-digit field with the kept decimals; the difference is how far
    /// up the integer digits move to end just before them.
    int_room: u32,
    /// The bytes of that field before the kept decimals.
    int_field: u64,
    /// Moves the decimals within the scale to the least significant end of
    /// a digit field: `64 - 8 * scale`, mod 64 (keeping 0 or 8 shifts nothing).
    keep_shift: u32,
    /// `10^scale`: the weight of the integer part.
    int_mul: u64,
}

impl Wire8 {
    /// The reader for `scale`; `None` above eight decimals (the general
    /// parser reads those).
    #[inline]
    pub(crate) fn new(scale: Scale) -> Option<Wire8> {
        let keep = u32::from(scale.decimals());
        if keep > 8 {
            return None;
        }
        let keep_mask = if keep == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * keep)) - 1
        };
        Some(Wire8 {
            tail_mask: !keep_mask,
            int_room: 71 - 8 * keep,
            // Unused at a scale of 8 (no integer part fits beside 8 decimals).
            int_field: u64::MAX.checked_shr(8 * keep).unwrap_or(0),
            keep_shift: (64 - 8 * keep) % 64,
            int_mul: POW10[keep as usize],
        })
    }

    /// `digits.dddddddd` at `at` — 1 to 7 integer digits, a dot, exactly
    /// eight decimals, none significant past the scale — as a mantissa, with
    /// the index just past the decimals. The caller checks that the byte
    /// there ends the number. `None` for any other form, which the general
    /// parser then reads (giving the same value for this form).
    #[inline(always)]
    pub(crate) fn number(&self, b: &[u8], at: usize) -> Option<(i64, usize)> {
        let lo = load8(b, at)?;
        // Bit 8n + 7 for a first non-digit at byte n, 64 for none. That
        // byte must be the '.', after at least one digit; with no non-digit
        // the shift below reads a digit, which is not a '.'. (The flags come
        // from the raw bytes: one step shorter than from `lo ^ '0'`, and
        // the next number's offset depends on them.)
        let tz = nondigits(lo).trailing_zeros();
        let d = lo ^ ZEROS;
        if tz == 7 || (d >> (tz - 7)) as u8 != b'.' ^ b'0' {
            return None;
        }
        // The decimals start at byte n + 1.
        let frac_at = at + (tz as usize >> 3) + 1;
        let v = self.value(d, tz, load8(b, frac_at)?)?;
        Some((v, frac_at + 8))
    }

    /// The mantissa of a number whose integer digits end at the '.' flagged
    /// by `tz` in `d` (its first 8 bytes `^ '0'`), with decimals `frac`;
    /// `None` unless those are 8 digits with zeros past the scale.
    #[inline(always)]
    pub(super) fn value(&self, d: u64, tz: u32, frac: u64) -> Option<i64> {
        let f = frac ^ ZEROS;
        if nondigit_values(f) | (f & self.tail_mask) != 0 {
            return None;
        }
        // The bytes past the scale are 0, so the shift alone aligns the kept ones.
        let kept = f << self.keep_shift;
        let v = if tz <= self.int_room {
            // Integer digits and kept decimals in one field, one conversion
            // (the dot and the decimals after the integer are masked off).
            value8d(((d << (self.int_room - tz)) & self.int_field) | kept)
        } else {
            // Below 10^7 * 10^8 + 10^8: no overflow.
            digits_right(d, tz) * self.int_mul + value8d(kept)
        };
        Some(v as i64)
    }
}

/// A JSON unsigned integer of at most 15 digits at `at`, read with two
/// loads: its value and length. `None` for anything else, including a
/// longer integer or one too close to the end of `b` for the loads.
#[inline(always)]
pub(crate) fn uint15(b: &[u8], at: usize) -> Option<(u64, usize)> {
    let lo = load8(b, at)?;
    let tz = nondigits(lo).trailing_zeros();
    let (v, n, stop) = if tz < 64 {
        let v = digits_right(lo ^ ZEROS, tz);
        (v, (tz / 8) as usize, (lo >> (tz - 7)) as u8)
    } else {
        let hi = load8(b, at + 8)?;
        let tz = nondigits(hi).trailing_zeros();
        if tz == 64 {
            return None;
        }
        let n = (tz / 8) as usize;
        // At most 15 digits: below 10^15, no overflow.
        let v = value8d(lo ^ ZEROS) * POW10[n] + digits_right(hi ^ ZEROS, tz);
        (v, 8 + n, (hi >> (tz - 7)) as u8)
    };
    if n == 0 || (n > 1 && lo as u8 == b'0') || matches!(stop, b'.' | b'e' | b'E') {
        return None;
    }
    Some((v, n))
}

/// A decimal whose text fits one 8-byte load — `digits[.digits]` with 1 to
/// 7 integer digits (`"65114.20"`, `"6.054"`, `"0.000678"`, `"6203"`), as
/// venues that trim their decimals write them — at `scale` (at most 10
/// decimals): its mantissa and the index just past it. The caller checks
/// that the byte there ends the number. `None` for any other form (longer,
/// signed, more significant decimals than the scale), which
/// [`decimal_general`] then reads; when this answers, that gives the same.
///
/// One load and one digit conversion: the dot is squeezed out so the kept
/// integer and fraction digits form one field, and fraction digits past the
/// scale must be zeros (checked with a mask, never divided away).
#[inline(always)]
pub(crate) fn short_decimal(b: &[u8], at: usize, scale: Scale) -> Option<(i64, usize)> {
    let scale = u32::from(scale.decimals());
    if scale > 10 {
        return None;
    }
    let lo = load8(b, at)?;
    let d = lo ^ ZEROS;
    let flags = nondigits(lo);
    // 8n + 7 for a first non-digit at byte n; 64 for eight digits.
    let tz = flags.trailing_zeros();
    if tz == 7 || tz == 64 {
        return None;
    }
    let n = tz / 8;
    if (d >> (8 * n)) as u8 != b'.' ^ b'0' {
        // An integer: below 10^7 * 10^10, no overflow.
        return Some((
            (digits_right(d, tz) * POW10[scale as usize]) as i64,
            at + n as usize,
        ));
    }
    if n == 7 {
        // No fraction digit in this load.
        return None;
    }
    // The number's end: the first non-digit once the dot reads as a '0'
    // (only the lowest flag is exact, so the flags are taken again), or
    // the load's end.
    let dotless = lo ^ (u64::from(b'.' ^ b'0') << (8 * n));
    let end = nondigits(dotless).trailing_zeros() / 8;
    let f = end - n - 1;
    if f == 0 {
        return None;
    }
    let keep = f.min(scale);
    // Fraction bytes past the scale must be '0' (zero after `^ '0'`).
    let below = |bytes: u32| u64::MAX.checked_shr(64 - 8 * bytes).unwrap_or(0);
    let tail = below(end) & !below(n + 1 + keep);
    if d & tail != 0 {
        return None;
    }
    // Integer bytes stay; the kept fraction bytes move down over the dot.
    let digits = n + keep;
    let merged = (d & below(n)) | ((d >> 8) & below(digits) & !below(n));
    let v = digits_right(merged, 8 * digits + 7) * POW10[(scale - keep) as usize];
    Some((v as i64, at + end as usize))
}

/// Any other decimal form (fewer decimals, futures' `"7.5040"`, signs): the
/// value and the bytes used, or `None` where the tape path reports an error.
#[cold]
#[inline(never)]
pub(crate) fn decimal_general(text: &[u8], scale: Scale, signed: bool) -> Option<(i64, usize)> {
    // The tape path parses the whole string with `parse_decimal`, which
    // refuses more than 64 bytes (`NumError::TooLong`): so must this.
    parse_decimal_prefix(text, scale, signed)
        .ok()
        .filter(|&(_, used)| used <= 64)
}

/// `10^n` for `n <= 18`.
#[inline(always)]
pub(crate) fn pow10(n: usize) -> u64 {
    POW10[n.min(18)]
}

/// An id the decoders accept: at most `i64::MAX` (the tape path reports a
/// larger one as [`crate::venue::What::IdOutOfRange`]).
#[inline(always)]
pub(crate) fn id(v: u64) -> Option<u64> {
    (v <= i64::MAX as u64).then_some(v)
}

/// A price or trade quantity the fast path takes: above zero. Zero and
/// negative prices (an instrument may allow them) go to the tape path, which
/// accepts or reports them.
#[inline(always)]
pub(crate) fn positive(v: i64) -> Option<i64> {
    (v > 0).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// `Wire8::number` agrees with the general parser whenever it answers.
        #[test]
        fn wire8_agrees_with_parse_decimal(
            text in "[0-9]{0,9}(\\.[0-9]{0,10})?[\",\\]x0-9.]{0,12}",
            scale in 0u8..=18,
            lead in 0usize..3,
        ) {
            let scale = Scale::new(scale).unwrap();
            let mut bytes = vec![b'"'; lead];
            bytes.extend_from_slice(text.as_bytes());
            let w = Wire8::new(scale);
            if let Some((v, end)) = w.and_then(|w| w.number(&bytes, lead)) {
                let general = parse_decimal_prefix(&bytes[lead..], scale, true);
                // The caller requires a non-digit after the eight decimals.
                if !bytes.get(end).is_some_and(u8::is_ascii_digit) {
                    proptest::prop_assert_eq!(general, Ok((v, end - lead)));
                }
            }
        }

        /// `short_decimal` agrees with the general parser whenever it answers.
        #[test]
        fn short_decimal_agrees_with_parse_decimal(
            text in "[0-9]{0,8}(\\.[0-9]{0,8})?[\",\\]x0-9.]{0,10}",
            scale in 0u8..=12,
            lead in 0usize..3,
        ) {
            let scale = Scale::new(scale).unwrap();
            let mut bytes = vec![b'"'; lead];
            bytes.extend_from_slice(text.as_bytes());
            if let Some((v, end)) = short_decimal(&bytes, lead, scale) {
                let general = parse_decimal_prefix(&bytes[lead..], scale, false);
                if !bytes.get(end).is_some_and(u8::is_ascii_digit) {
                    proptest::prop_assert_eq!(general, Ok((v, end - lead)));
                }
            }
        }

        /// Short numbers followed by a quote are always taken when the general parser takes them.
        #[test]
        fn short_decimal_takes_short_numbers(
            int in 0u64..10_000_000,
            frac in proptest::option::of("[0-9]{1,7}"),
            scale in 0u8..=10,
        ) {
            let text = match &frac {
                Some(f) => format!("{int}.{f}\"xxxxxxxx"),
                None => format!("{int}\"xxxxxxxx"),
            };
            let scale = Scale::new(scale).unwrap();
            let len = text.find('"').unwrap();
            let general = parse_decimal_prefix(text.as_bytes(), scale, false);
            let fast = short_decimal(text.as_bytes(), 0, scale);
            match general {
                Ok(g) if len <= 8 => proptest::prop_assert_eq!(fast, Some(g)),
                // Longer: the caller's end check refuses whatever it reads.
                Ok(_) => proptest::prop_assert!(
                    fast.is_none_or(|(_, end)| text.as_bytes()[end].is_ascii_digit())
                ),
                Err(_) => proptest::prop_assert!(
                    fast.is_none_or(|(_, end)| text.as_bytes()[end].is_ascii_digit())
                ),
            }
        }

        /// Wire-form numbers are always taken by `Wire8` at the scales it reads.
        #[test]
        fn wire8_takes_the_wire_form(
            int in 0u64..10_000_000,
            frac in 0u64..100_000_000,
            scale in 0u8..=8,
        ) {
            let text = format!("{int}.{frac:08}\"xxxxxxxx");
            let scale = Scale::new(scale).unwrap();
            let general = parse_decimal_prefix(text.as_bytes(), scale, false);
            let fast = Wire8::new(scale).and_then(|w| w.number(text.as_bytes(), 0));
            match general {
                Ok((v, used)) => proptest::prop_assert_eq!(fast, Some((v, used))),
                Err(_) => proptest::prop_assert!(
                    fast.is_none_or(|(_, end)| text.as_bytes()[end].is_ascii_digit())
                ),
            }
        }
    }
}
