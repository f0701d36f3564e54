//! Exact decimal prices and quantities.
//!
//! Exchanges send prices and quantities as decimal text (`"43000.01000000"`).
//! tickwire stores them as `i64` mantissas at the instrument's decimal
//! [`Scale`]: with a scale of 2, `"43000.01"` is the mantissa `4300001`.
//! Parsing reads the wire bytes directly, digit by digit, and never touches a
//! float; formatting writes the exact decimal back, trailing zeros trimmed.
//!
//! Binary fixed-point ([`Ratio`], from the `fixed` crate) is used only for
//! *derived* values that are not exchange decimals to begin with: mid price,
//! microprice, imbalance. See [`crate::book::derived`].

use std::fmt;

use super::swar::{POW10, load8, nondigits};

/// `Ratio` is the binary fixed-point type for derived, non-exchange values
/// (imbalance in `[-1, 1]`, weights). 32 integer bits, 32 fractional bits.
pub type Ratio = fixed::types::I32F32;

/// Number of decimal places of a mantissa: `0..=MAX_SCALE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scale(u8);

/// The largest supported scale. `10^18` still fits an `i64`.
pub const MAX_SCALE: u8 = 18;

impl Scale {
    /// Eight decimals: what Binance writes on the wire.
    pub const BINANCE_WIRE: Scale = Scale(8);

    /// A scale of `decimals` places; `None` above [`MAX_SCALE`].
    pub const fn new(decimals: u8) -> Option<Scale> {
        if decimals <= MAX_SCALE {
            Some(Scale(decimals))
        } else {
            None
        }
    }

    /// Number of decimal places.
    pub const fn decimals(self) -> u8 {
        self.0
    }

    /// `10^decimals`: the mantissa of `1` at this scale.
    pub const fn one(self) -> i64 {
        POW10[self.0 as usize] as i64
    }
}

/// Why a decimal string was rejected. Small and `Copy`: this is a hot-path error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NumError {
    /// The string was empty.
    #[error("empty number")]
    Empty,
    /// A byte that is not a digit, or a `.` in the wrong place.
    #[error("unexpected character {byte:#04x} at position {at}")]
    InvalidChar {
        /// Offset of the byte within the number text.
        at: u8,
        /// The offending byte.
        byte: u8,
    },
    /// More significant fractional digits than the scale allows
    /// (trailing zeros are fine: `"1.2300"` fits a scale of 2).
    #[error("more than {scale} significant decimal places")]
    TooManyDecimals {
        /// The scale the value had to fit.
        scale: u8,
    },
    /// The value does not fit an `i64` mantissa at this scale.
    #[error("value out of range at this scale")]
    Overflow,
    /// A `-` or `+` where the value must be unsigned.
    #[error("sign not allowed")]
    SignNotAllowed,
    /// The number text is longer than any supported value (over 64 bytes).
    #[error("number text too long")]
    TooLong,
}

/// Parses decimal text into a mantissa at `scale`.
///
/// Accepts `digits[.digits]`, with a leading `-` only when `signed`.
/// Rejects exponents, `+`, a lone `.`, and `1.` / `.5` forms. Fractional
/// trailing zeros never count against the scale and never overflow, so
/// `"1000000000000.00000000"` parses at scale 0.
#[inline]
pub fn parse_decimal(text: &[u8], scale: Scale, signed: bool) -> Result<i64, NumError> {
    if text.len() > 64 {
        return Err(NumError::TooLong);
    }
    let (value, used) = parse_decimal_prefix(text, scale, signed)?;
    match text.get(used) {
        None => Ok(value),
        Some(&byte) => Err(NumError::InvalidChar {
            at: used as u8,
            byte,
        }),
    }
}

/// Parses the longest decimal at the start of `text` and returns it with the
/// number of bytes it used. The caller checks what follows (a closing quote
/// in a JSON string, say), which is how the decoders parse in one pass.
#[inline]
pub(crate) fn parse_decimal_prefix(
    text: &[u8],
    scale: Scale,
    signed: bool,
) -> Result<(i64, usize), NumError> {
    match parse_swar(text, scale, signed) {
        Some(done) => Ok(done),
        None => parse_bytewise(text, scale, signed),
    }
}

/// How many of the 8 bytes, from the lowest, are ASCII digits.
#[inline(always)]
fn leading_digits(chunk: u64) -> usize {
    (nondigits(chunk).trailing_zeros() / 8) as usize
}

/// The value of the first `n` (1..=8) digit bytes of `chunk`.
#[inline(always)]
fn digits_value(chunk: u64, n: usize) -> u64 {
    debug_assert!((1..=8).contains(&n));
    // Move the n digits to the top and fill below with '0' (leading zeros).
    let aligned = if n == 8 {
        chunk
    } else {
        (chunk << (8 * (8 - n))) | (0x3030_3030_3030_3030u64 >> (8 * n))
    };
    // Eight digits at once: pairs, then quads, then the whole (byte 0 is the
    // most significant digit).
    let v = aligned.wrapping_sub(0x3030_3030_3030_3030);
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let v = ((v & 0x0000_00FF_0000_00FF).wrapping_mul(0x000F_4240_0000_0064))
        .wrapping_add(((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(0x0000_2710_0000_0001));
    v >> 32
}

/// The common case, eight digits at a time: at most 16 integer digits, at
/// most 8 fractional ones, 8 readable bytes at each part. Returns `None` for
/// anything else (including every error), which the byte loop then handles;
/// when it returns a value, the byte loop would return the same.
#[inline(always)]
fn parse_swar(text: &[u8], scale: Scale, signed: bool) -> Option<(i64, usize)> {
    let (negative, start) = match *text.first()? {
        b'-' if signed => (true, 1),
        b'0'..=b'9' => (false, 0),
        _ => return None,
    };
    let chunk = load8(text, start)?;
    let mut n_int = leading_digits(chunk);
    if n_int == 0 {
        return None;
    }
    let mut int = digits_value(chunk, n_int);
    if n_int == 8 {
        let next = load8(text, start + 8)?;
        let more = leading_digits(next);
        if more == 8 {
            return None;
        }
        if more > 0 {
            int = int * POW10[more] + digits_value(next, more);
            n_int += more;
        }
    }
    let mut end = start + n_int;
    let mut frac = 0u64;
    let mut significant = 0usize;
    if text.get(end) == Some(&b'.') {
        let chunk = load8(text, end + 1)?;
        let n_frac = leading_digits(chunk);
        if n_frac == 8 && text.get(end + 9).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        if n_frac > 0 {
            significant = n_frac.min(usize::from(scale.0));
            // Digits past the scale must all be '0'.
            let tail_bits = 8 * (n_frac - significant);
            if tail_bits > 0 {
                let tail = (chunk >> (8 * significant)) & (u64::MAX >> (64 - tail_bits));
                if tail != 0x3030_3030_3030_3030 & (u64::MAX >> (64 - tail_bits)) {
                    return None;
                }
            }
            if significant > 0 {
                frac = digits_value(chunk, significant);
            }
            end += 1 + n_frac;
        }
    }
    let one = POW10[usize::from(scale.0)];
    let up = POW10[usize::from(scale.0) - significant];
    let value = int.checked_mul(one)?.checked_add(frac * up)?;
    let value = i64::try_from(value).ok()?;
    Some((if negative { -value } else { value }, end))
}

/// The reference parser, one byte at a time; every error comes from here.
#[cold]
fn parse_bytewise(text: &[u8], scale: Scale, signed: bool) -> Result<(i64, usize), NumError> {
    let (negative, mut i) = match text.first() {
        None => return Err(NumError::Empty),
        Some(b'-') if signed => (true, 1),
        Some(b'-' | b'+') => return Err(NumError::SignNotAllowed),
        Some(_) => (false, 0),
    };
    let int_start = i;
    let mut mantissa: u64 = 0;
    while let Some(&b) = text.get(i) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        mantissa = mantissa
            .checked_mul(10)
            .and_then(|m| m.checked_add(u64::from(d)))
            .ok_or(NumError::Overflow)?;
        i += 1;
    }
    if i == int_start {
        return Err(match text.get(i) {
            Some(&byte) => NumError::InvalidChar {
                at: i.min(255) as u8,
                byte,
            },
            None => NumError::Empty,
        });
    }
    // Significant fractional digits folded into the mantissa so far.
    let mut frac_digits: u32 = 0;
    let has_fraction =
        text.get(i) == Some(&b'.') && text.get(i + 1).is_some_and(u8::is_ascii_digit);
    if has_fraction {
        i += 1;
        // Fractional zeros seen but not yet folded in: trailing zeros never are.
        let mut pending_zeros: u32 = 0;
        while let Some(&b) = text.get(i) {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            if d == 0 {
                pending_zeros += 1;
            } else {
                let shift = pending_zeros + 1;
                frac_digits += shift;
                if frac_digits > u32::from(scale.0) {
                    return Err(NumError::TooManyDecimals { scale: scale.0 });
                }
                // frac_digits <= 18 here, so the shift indexes POW10.
                mantissa = mantissa
                    .checked_mul(POW10[shift as usize])
                    .and_then(|m| m.checked_add(u64::from(d)))
                    .ok_or(NumError::Overflow)?;
                pending_zeros = 0;
            }
            i += 1;
        }
    }
    let up = u32::from(scale.0) - frac_digits;
    let scaled = mantissa
        .checked_mul(POW10[up as usize])
        .ok_or(NumError::Overflow)?;
    let value = if negative {
        // Keep the range symmetric: -(i64::MAX + 1) is refused.
        -(i64::try_from(scaled).map_err(|_| NumError::Overflow)?)
    } else {
        i64::try_from(scaled).map_err(|_| NumError::Overflow)?
    };
    Ok((value, i))
}

/// Writes `mantissa` at `scale` as exact decimal text into `out`, trailing
/// fractional zeros (and a bare `.`) trimmed: `4300001` at scale 2 is
/// `"43000.01"`, `1000` at scale 2 is `"10"`. Returns the written prefix.
pub fn format_decimal(mantissa: i64, scale: Scale, out: &mut [u8; 24]) -> &str {
    let mut digits = [0u8; 20];
    let mut n = mantissa.unsigned_abs();
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        n /= 10;
        len += 1;
        if n == 0 {
            break;
        }
    }
    let decimals = usize::from(scale.0);
    // Make sure there is at least one integer digit.
    while len <= decimals {
        digits[len] = b'0';
        len += 1;
    }
    // digits[..decimals] are the fractional digits, least significant first.
    let mut first_kept = 0;
    while first_kept < decimals && digits[first_kept] == b'0' {
        first_kept += 1;
    }
    let mut w = 0;
    if mantissa < 0 {
        out[w] = b'-';
        w += 1;
    }
    for i in (decimals..len).rev() {
        out[w] = digits[i];
        w += 1;
    }
    if first_kept < decimals {
        out[w] = b'.';
        w += 1;
        for i in (first_kept..decimals).rev() {
            out[w] = digits[i];
            w += 1;
        }
    }
    // Only ASCII digits, '-' and '.' were written.
    std::str::from_utf8(&out[..w]).unwrap_or("")
}

/// A mantissa paired with its scale, for display. `Display` writes the exact
/// decimal with trailing zeros trimmed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decimal {
    /// The integer mantissa.
    pub mantissa: i64,
    /// Its number of decimal places.
    pub scale: Scale,
}

impl Decimal {
    /// Parses decimal text, taking as scale the number of significant
    /// fractional digits (`"0.0100"` is mantissa 1 at scale 2). Used for tick
    /// and lot sizes given by users.
    pub fn parse_exact(text: &str) -> Result<Decimal, NumError> {
        let bytes = text.as_bytes();
        let decimals = match bytes.iter().position(|&b| b == b'.') {
            Some(dot) => {
                let frac = &bytes[dot + 1..];
                let significant =
                    frac.len() - frac.iter().rev().take_while(|&&b| b == b'0').count();
                u8::try_from(significant).map_err(|_| NumError::TooLong)?
            }
            None => 0,
        };
        let scale = Scale::new(decimals).ok_or(NumError::TooManyDecimals { scale: MAX_SCALE })?;
        let mantissa = parse_decimal(bytes, scale, true)?;
        Ok(Decimal { mantissa, scale })
    }

    /// The same value at a (finer or equal) `scale`; `None` if it would lose
    /// digits or overflow.
    pub fn rescale(self, scale: Scale) -> Option<i64> {
        let up = scale.0.checked_sub(self.scale.0)?;
        self.mantissa.checked_mul(POW10[usize::from(up)] as i64)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 24];
        f.pad(format_decimal(self.mantissa, self.scale, &mut buf))
    }
}

macro_rules! mantissa_type {
    ($(#[$doc:meta])* $name:ident, $signed:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// Zero.
            pub const ZERO: $name = $name(0);

            /// Parses wire text at `scale`. See [`parse_decimal`].
            #[inline]
            pub fn parse(text: &[u8], scale: Scale) -> Result<$name, NumError> {
                parse_decimal(text, scale, $signed).map($name)
            }

            /// The raw mantissa.
            #[inline]
            pub const fn mantissa(self) -> i64 {
                self.0
            }

            /// Pairs the mantissa with its scale for display.
            pub const fn at(self, scale: Scale) -> Decimal {
                Decimal { mantissa: self.0, scale }
            }
        }
    };
}

mantissa_type!(
    /// A price: an `i64` mantissa at the instrument's price scale. Never a float.
    Price,
    true
);
mantissa_type!(
    /// A quantity: an `i64` mantissa at the instrument's quantity scale. Zero in
    /// a level update means "delete the level". Quantities are unsigned on the wire.
    Qty,
    false
);

#[cfg(test)]
mod tests {
    use super::*;

    fn s(d: u8) -> Scale {
        Scale::new(d).unwrap()
    }

    #[test]
    fn parses_binance_wire_values() {
        assert_eq!(Price::parse(b"0.35130000", s(8)), Ok(Price(35_130_000)));
        assert_eq!(Price::parse(b"43000.01000000", s(2)), Ok(Price(4_300_001)));
        assert_eq!(Qty::parse(b"6195.00000000", s(0)), Ok(Qty(6195)));
        assert_eq!(Qty::parse(b"0.00000000", s(8)), Ok(Qty(0)));
        assert_eq!(Qty::parse(b"813", s(3)), Ok(Qty(813_000)));
        assert_eq!(
            Qty::parse(b"1000000000000.00000000", s(0)),
            Ok(Qty(1_000_000_000_000))
        );
        assert_eq!(Price::parse(b"007.50", s(2)), Ok(Price(750)));
    }

    #[test]
    fn rejects_what_it_must() {
        assert_eq!(Price::parse(b"", s(8)), Err(NumError::Empty));
        assert_eq!(
            Price::parse(b"1.234", s(2)),
            Err(NumError::TooManyDecimals { scale: 2 })
        );
        assert_eq!(
            Price::parse(b"0.001", s(2)),
            Err(NumError::TooManyDecimals { scale: 2 })
        );
        assert_eq!(Qty::parse(b"-1", s(2)), Err(NumError::SignNotAllowed));
        assert_eq!(Price::parse(b"+1", s(2)), Err(NumError::SignNotAllowed));
        assert_eq!(
            Price::parse(b"1e5", s(2)),
            Err(NumError::InvalidChar { at: 1, byte: b'e' })
        );
        assert_eq!(
            Price::parse(b"1.", s(2)),
            Err(NumError::InvalidChar { at: 1, byte: b'.' })
        );
        assert_eq!(
            Price::parse(b".5", s(2)),
            Err(NumError::InvalidChar { at: 0, byte: b'.' })
        );
        assert_eq!(
            Price::parse(b"1.2.3", s(2)),
            Err(NumError::InvalidChar { at: 3, byte: b'.' })
        );
        assert_eq!(Price::parse(b"-", s(2)), Err(NumError::Empty));
        assert_eq!(
            Price::parse(b"12 ", s(2)),
            Err(NumError::InvalidChar { at: 2, byte: b' ' })
        );
        assert_eq!(
            Price::parse(b"92233720368.54775808", s(8)),
            Err(NumError::Overflow)
        );
        assert_eq!(
            Price::parse(b"99999999999999999999999", s(0)),
            Err(NumError::Overflow)
        );
        assert_eq!(
            Price::parse(b"92233720368.54775807", s(8)),
            Ok(Price(i64::MAX))
        );
        assert_eq!(Price::parse(b"-5.5", s(1)), Ok(Price(-55)));
        assert_eq!(Price::parse(&[b'1'; 65], s(0)), Err(NumError::TooLong));
    }

    #[test]
    fn formats_exactly() {
        let mut buf = [0u8; 24];
        assert_eq!(format_decimal(4_300_001, s(2), &mut buf), "43000.01");
        assert_eq!(format_decimal(1000, s(2), &mut buf), "10");
        assert_eq!(format_decimal(5, s(3), &mut buf), "0.005");
        assert_eq!(format_decimal(0, s(8), &mut buf), "0");
        assert_eq!(format_decimal(-55, s(1), &mut buf), "-5.5");
        assert_eq!(
            format_decimal(i64::MAX, s(18), &mut buf),
            "9.223372036854775807"
        );
        assert_eq!(
            format_decimal(i64::MIN, s(0), &mut buf),
            "-9223372036854775808"
        );
        assert_eq!(
            Decimal {
                mantissa: 35_130_000,
                scale: s(8)
            }
            .to_string(),
            "0.3513"
        );
    }

    proptest::proptest! {
        /// The eight-at-a-time parser agrees with the byte loop whenever it answers.
        #[test]
        fn swar_agrees_with_bytewise(
            text in "-?[0-9]{0,18}(\\.[0-9]{0,12})?[\",\\]x]{0,9}",
            scale in 0u8..=18,
            signed: bool,
        ) {
            let scale = Scale::new(scale).unwrap();
            let bytes = text.as_bytes();
            if let Some(fast) = parse_swar(bytes, scale, signed) {
                proptest::prop_assert_eq!(Ok(fast), parse_bytewise(bytes, scale, signed));
            }
        }

        /// Formatting then parsing gives the mantissa back.
        #[test]
        fn format_parse_round_trip(m in proptest::num::i64::ANY, scale in 0u8..=18) {
            let scale = Scale::new(scale).unwrap();
            let mut buf = [0u8; 24];
            let text = format_decimal(m, scale, &mut buf).to_owned();
            let parsed = parse_decimal(text.as_bytes(), scale, true);
            if m == i64::MIN {
                proptest::prop_assert_eq!(parsed, Err(NumError::Overflow));
            } else {
                proptest::prop_assert_eq!(parsed, Ok(m));
            }
        }
    }

    #[test]
    fn swar_handles_the_wire_forms() {
        for (text, scale) in [
            ("42999.97000000\"", 8),
            ("0.10420000\"]", 8),
            ("12345678.5\"xxxxxx", 8),
            ("123456789012345.1\"xxxxxxx", 2),
        ] {
            let fast = parse_swar(text.as_bytes(), s(scale), true);
            assert!(fast.is_some(), "{text}");
            assert_eq!(
                Ok(fast.unwrap()),
                parse_bytewise(text.as_bytes(), s(scale), true),
                "{text}"
            );
        }
        // 1.2e23 at scale 8 overflows: the byte loop reports it.
        assert_eq!(parse_swar(b"1234567890123456.1\"xxxxxxx", s(8), true), None);
        assert_eq!(parse_swar(b"0.00100000\"xx", s(2), false), None);
        assert_eq!(parse_swar(b"0.10000000\"xx", s(2), false), Some((10, 10)));
    }

    #[test]
    fn exact_tick_sizes() {
        assert_eq!(
            Decimal::parse_exact("0.01"),
            Ok(Decimal {
                mantissa: 1,
                scale: s(2)
            })
        );
        assert_eq!(
            Decimal::parse_exact("0.0500"),
            Ok(Decimal {
                mantissa: 5,
                scale: s(2)
            })
        );
        assert_eq!(
            Decimal::parse_exact("10"),
            Ok(Decimal {
                mantissa: 10,
                scale: s(0)
            })
        );
        assert_eq!(
            Decimal::parse_exact("0.00000001"),
            Ok(Decimal {
                mantissa: 1,
                scale: s(8)
            })
        );
        assert_eq!(
            Decimal {
                mantissa: 5,
                scale: s(2)
            }
            .rescale(s(8)),
            Some(5_000_000)
        );
        assert_eq!(
            Decimal {
                mantissa: 5,
                scale: s(2)
            }
            .rescale(s(1)),
            None
        );
    }
}
