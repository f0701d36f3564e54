//! [`Cursor`]: a position in a frame and the readers that advance it.
//!
//! A template reads a frame front to back: literal key bytes
//! ([`Cursor::lit`], [`Cursor::peek_lit`]), then the value in the same pass
//! ([`Cursor::string`], [`Cursor::uint`], [`Cursor::decimal`],
//! [`Cursor::boolean`]), or both at once from a fixed window
//! ([`Cursor::keyed_uint`], [`Cursor::keyed_decimal`]). Each reader either
//! takes exactly the bytes of its value and moves past them, or answers
//! `None`; after a `None` the position is unspecified and the caller gives
//! the frame to the tape path.
//!
//! The readers accept a strict subset of JSON: no whitespace, strings
//! without escapes, control bytes or non-ASCII, unsigned integers in JSON's
//! form. A reader never accepts a value the tape path would read
//! differently or refuse.

use super::number::{Wire8, decimal_general, pow10, short_decimal, uint15};
use crate::types::Scale;
use crate::types::swar::{ZEROS, digits_right, load8, nondigits, value8d};

/// A read position in `b`. Every reader answers `None` rather than an
/// error: the fast path's answer is "this template" or "ask the tape path".
#[derive(Debug)]
pub(crate) struct Cursor<'a> {
    /// The whole frame.
    pub(super) b: &'a [u8],
    /// The next byte to read; at most `b.len()` after a successful read.
    pub(super) i: usize,
}

/// Top bit set in every byte that is `"`, `\\`, a control byte or non-ASCII.
#[inline(always)]
fn special_bytes(chunk: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    // Bytes below 0x20: subtracting 0x20 wraps them past 0x80 (unless the
    // byte already had the top bit, which is flagged anyway).
    let control = chunk.wrapping_sub(0x2020_2020_2020_2020) & !chunk & HIGH;
    has_zero(chunk ^ 0x2222_2222_2222_2222)
        | has_zero(chunk ^ 0x5C5C_5C5C_5C5C_5C5C)
        | control
        | (chunk & HIGH)
}

/// Bytes of a `,"x":` key with the longest value read from a window: an
/// eight-decimal number with a 7-digit integer part and its quotes (23), or
/// a 15-digit integer and the two 8-byte loads that read it (21).
const FIELD_WINDOW: usize = 24;

impl<'a> Cursor<'a> {
    /// A cursor at the start of `b`.
    #[inline(always)]
    pub(crate) fn new(b: &'a [u8]) -> Cursor<'a> {
        Cursor { b, i: 0 }
    }

    /// Moves `n` bytes on without looking at them: for bytes just matched
    /// by [`Cursor::peek_lit`].
    #[inline(always)]
    pub(crate) fn skip(&mut self, n: usize) {
        self.i += n;
    }

    /// Whether every byte has been read.
    #[inline(always)]
    pub(crate) fn at_end(&self) -> bool {
        self.i == self.b.len()
    }

    /// The byte `c`.
    #[inline(always)]
    pub(crate) fn eat(&mut self, c: u8) -> Option<()> {
        if *self.b.get(self.i)? == c {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    /// The bytes `s`.
    #[inline(always)]
    pub(crate) fn lit(&mut self, s: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + s.len())? == s {
            self.i += s.len();
            Some(())
        } else {
            None
        }
    }

    /// Whether the bytes `s` come next (the cursor stays).
    #[inline(always)]
    pub(crate) fn peek_lit(&self, s: &[u8]) -> bool {
        self.b.get(self.i..self.i + s.len()) == Some(s)
    }

    /// String content up to the closing quote; no escapes, controls or
    /// non-ASCII. Eight bytes at a time where eight are readable.
    #[inline(always)]
    pub(crate) fn string(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let start = self.i;
        while let Some(chunk) = load8(self.b, self.i) {
            let stop = special_bytes(chunk);
            if stop != 0 {
                self.i += (stop.trailing_zeros() / 8) as usize;
                break;
            }
            self.i += 8;
        }
        loop {
            let c = *self.b.get(self.i)?;
            if c == b'"' {
                self.i += 1;
                return Some(&self.b[start..self.i - 1]);
            }
            if c == b'\\' || !(0x20..0x80).contains(&c) {
                return None;
            }
            self.i += 1;
        }
    }

    /// A JSON unsigned integer (no sign, leading zero, fraction or exponent).
    /// Up to 15 digits are read with two 8-byte loads and no loop; anything
    /// else (longer, near the input's end, or not an integer) takes the
    /// byte loop, which decides.
    #[inline(always)]
    pub(crate) fn uint(&mut self) -> Option<u64> {
        match uint15(self.b, self.i) {
            Some((v, n)) => {
                self.i += n;
                Some(v)
            }
            None => self.uint_slow(),
        }
    }

    /// `key` (`,"x":`) then an unsigned integer. Read from one fixed window
    /// when the input has room for it: every offset in it is then provably
    /// in bounds, so the checks go; otherwise the checked way.
    #[inline(always)]
    pub(crate) fn keyed_uint(&mut self, key: &[u8; 5]) -> Option<u64> {
        if let Some(w) = self.window() {
            if w[..5] == *key {
                if let Some((v, n)) = uint15(w, 5) {
                    self.i += 5 + n;
                    return Some(v);
                }
            }
        }
        self.lit(key)?;
        self.uint()
    }

    /// `key` (`,"x":`) then `"<decimal>"`, as [`Cursor::keyed_uint`].
    #[inline(always)]
    pub(crate) fn keyed_decimal(
        &mut self,
        key: &[u8; 5],
        w: Option<Wire8>,
        scale: Scale,
        signed: bool,
    ) -> Option<i64> {
        if let (Some(r), Some(win)) = (w, self.window()) {
            if win[..5] == *key && win[5] == b'"' {
                if let Some((v, end)) = r.number(win, 6) {
                    if win[end] == b'"' {
                        self.i += end + 1;
                        return Some(v);
                    }
                }
            }
        }
        self.lit(key)?;
        self.decimal(w, scale, signed)
    }

    /// The next [`FIELD_WINDOW`] bytes, if there are that many.
    #[inline(always)]
    fn window(&self) -> Option<&'a [u8; FIELD_WINDOW]> {
        self.b.get(self.i..)?.first_chunk()
    }

    /// An integer of 16 or more digits, near the end of the input, or not
    /// an integer at all: the byte loop with overflow checks.
    #[cold]
    fn uint_slow(&mut self) -> Option<u64> {
        let start = self.i;
        let mut v: u64 = 0;
        while let Some(&c) = self.b.get(self.i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            v = v.checked_mul(10)?.checked_add(u64::from(d))?;
            self.i += 1;
        }
        let len = self.i - start;
        if len == 0
            || (len > 1 && self.b[start] == b'0')
            || matches!(self.b.get(self.i), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        Some(v)
    }

    /// `true` or `false`.
    #[inline(always)]
    pub(crate) fn boolean(&mut self) -> Option<bool> {
        if self.peek_lit(b"true") {
            self.i += 4;
            Some(true)
        } else if self.peek_lit(b"false") {
            self.i += 5;
            Some(false)
        } else {
            None
        }
    }

    /// `"<decimal>"` at `scale`, read by `w` when given. Binance writes
    /// eight decimals; that form is read by [`Wire8::number`], numbers of at
    /// most 8 bytes (venues that trim decimals) by [`short_decimal`], anything
    /// else by the general parser.
    #[inline(always)]
    pub(crate) fn decimal(&mut self, w: Option<Wire8>, scale: Scale, signed: bool) -> Option<i64> {
        self.eat(b'"')?;
        let at = self.i;
        if let Some((v, end)) = w.and_then(|w| w.number(self.b, at)) {
            if self.b.get(end) == Some(&b'"') {
                self.i = end + 1;
                return Some(v);
            }
        }
        if let Some((v, end)) = short_decimal(self.b, at, scale) {
            if self.b.get(end) == Some(&b'"') {
                self.i = end + 1;
                return Some(v);
            }
        }
        let (v, used) = decimal_general(self.b.get(at..)?, scale, signed)?;
        self.i = at + used;
        self.eat(b'"')?;
        Some(v)
    }
}

impl Cursor<'_> {
    /// `"<decimal>"` in the plain form `(0|[1-9][0-9]*)(\.[0-9]+)?` with at
    /// most `scale` decimals, in one pass: the mantissa at `scale` and the
    /// number of decimals as written (for venues whose checksums use the
    /// wire text). `None` for anything else (a sign, a leading zero, more
    /// decimals than the scale, more than 18 digits): the tape path decides.
    #[inline(always)]
    pub(crate) fn spelled_decimal(&mut self, scale: Scale) -> Option<(i64, u8)> {
        self.eat(b'"')?;
        if let Some(hit) = self.spelled_short(scale) {
            return Some(hit);
        }
        self.spelled_long(scale)
    }

    /// [`Cursor::spelled_decimal`] for at most 7 integer digits and 8
    /// decimals (two 8-byte loads, no loop); `None` leaves the cursor where
    /// it was for the byte loop, which decides.
    #[inline(always)]
    fn spelled_short(&mut self, scale: Scale) -> Option<(i64, u8)> {
        let (b, at) = (self.b, self.i);
        let lo = load8(b, at)?;
        let tz = nondigits(lo).trailing_zeros();
        if tz == 64 || tz == 7 || (tz > 15 && lo as u8 == b'0') {
            return None;
        }
        let n = (tz / 8) as usize;
        let int = digits_right(lo ^ ZEROS, tz);
        let keep = usize::from(scale.decimals());
        if n + keep > 18 {
            return None;
        }
        let (frac, m) = match (lo >> (tz - 7)) as u8 {
            b'"' => (0, 0),
            b'.' => {
                let hi = load8(b, at + n + 1)?;
                let tz = nondigits(hi).trailing_zeros();
                if tz == 64 {
                    // Eight decimals (as 8-decimal sizes are written): the
                    // quote must come right after them.
                    if keep < 8 || b.get(at + n + 9) != Some(&b'"') {
                        return None;
                    }
                    (value8d(hi ^ ZEROS), 9)
                } else {
                    let m = (tz / 8) as usize;
                    if m == 0 || m > keep || (hi >> (tz - 7)) as u8 != b'"' {
                        return None;
                    }
                    (digits_right(hi ^ ZEROS, tz), m + 1)
                }
            }
            _ => return None,
        };
        let decimals = m.saturating_sub(1);
        self.i = at + n + m + 1;
        let v = int * pow10(keep) + frac * pow10(keep - decimals);
        Some((v as i64, decimals as u8))
    }

    /// [`Cursor::spelled_decimal`]'s byte loop (any length).
    #[cold]
    fn spelled_long(&mut self, scale: Scale) -> Option<(i64, u8)> {
        let b = self.b;
        let mut i = self.i;
        let mut v: u64 = 0;
        let start = i;
        while let Some(&c) = b.get(i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            v = v * 10 + u64::from(d);
            i += 1;
            if i - start > 18 {
                return None;
            }
        }
        let int_digits = i - start;
        // Below 10^18 with the decimals: no overflow below.
        if int_digits == 0
            || (int_digits > 1 && b[start] == b'0')
            || int_digits + usize::from(scale.decimals()) > 18
        {
            return None;
        }
        let mut decimals = 0usize;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let frac = i;
            while let Some(&c) = b.get(i) {
                let d = c.wrapping_sub(b'0');
                if d > 9 {
                    break;
                }
                v = v * 10 + u64::from(d);
                i += 1;
                if i - frac > usize::from(scale.decimals()) {
                    return None;
                }
            }
            decimals = i - frac;
            if decimals == 0 {
                return None;
            }
        }
        if b.get(i) != Some(&b'"') {
            return None;
        }
        self.i = i + 1;
        let v = v * pow10(usize::from(scale.decimals()) - decimals);
        Some((v as i64, decimals as u8))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte loop every fast integer must agree with: JSON's unsigned form.
    fn uint_reference(text: &[u8]) -> Option<(u64, usize)> {
        let n = text.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 || (n > 1 && text[0] == b'0') || matches!(text.get(n), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        let v = std::str::from_utf8(&text[..n]).ok()?.parse().ok()?;
        Some((v, n))
    }

    /// Eight decimals (OKX's sizes) on the two-load path, with its bounds:
    /// a ninth digit or a scale below 8 is declined, the quote must follow.
    #[test]
    fn spelled_short_reads_eight_decimals() {
        let s8 = Scale::new(8).unwrap();
        let mut c = Cursor::new(b"\"0.06523858\",\"0\",\"1\"]");
        assert_eq!(c.spelled_short_after_quote(s8), Some((6_523_858, 8)));
        assert_eq!(c.i, 12);
        let mut c = Cursor::new(b"\"2.52627349\",\"0\",\"1\"]");
        assert_eq!(c.spelled_short_after_quote(s8), Some((252_627_349, 8)));
        let mut c = Cursor::new(b"\"2.52627349\",\"0\",\"1\"]");
        assert_eq!(
            c.spelled_short_after_quote(Scale::new(9).unwrap()),
            Some((2_526_273_490, 8))
        );
        // Declined (the byte loop decides): 7 decimals allowed only.
        let mut c = Cursor::new(b"\"2.52627349\",\"0\",\"1\"]");
        assert_eq!(c.spelled_short_after_quote(Scale::new(7).unwrap()), None);
        // Nine decimals: no quote after the eighth.
        let mut c = Cursor::new(b"\"0.065238581\",\"0\",\"1\"]");
        assert_eq!(c.spelled_short_after_quote(Scale::new(9).unwrap()), None);
        assert_eq!(c.i, 1);
    }

    impl Cursor<'_> {
        fn spelled_short_after_quote(&mut self, scale: Scale) -> Option<(i64, u8)> {
            self.eat(b'"')?;
            self.spelled_short(scale)
        }
    }

    proptest::proptest! {
        /// The spelled reader agrees with `parse_decimal` and the written
        /// decimal count whenever it answers, and answers for plain forms.
        #[test]
        fn spelled_decimal_agrees(text in "-?[0-9]{0,12}(\\.[0-9]{0,9})?[x]?", scale in 0u8..=9) {
            let scale = Scale::new(scale).unwrap();
            // Padding after the value: both the two-load path and the
            // byte loop (near the end) get their turn.
            let pad = if text.len() % 2 == 0 { ",\"x\":12345678" } else { "" };
            let framed = format!("\"{text}\"{pad}");
            let mut c = Cursor::new(framed.as_bytes());
            let got = c.spelled_decimal(scale);
            let want = crate::types::parse_decimal(text.as_bytes(), scale, false).ok();
            if let Some((v, d)) = got {
                proptest::prop_assert_eq!(Some(v), want);
                let written = text.split('.').nth(1).map_or(0, str::len);
                proptest::prop_assert_eq!(usize::from(d), written);
                proptest::prop_assert_eq!(c.i, text.len() + 2);
            } else if let Some(w) = want {
                // Declined forms: leading zeros, more decimals than the
                // scale (trailing zeros), or too many digits.
                let plain = !text.starts_with('0') || text.starts_with("0.") || text == "0";
                let decimals = text.split('.').nth(1).map_or(0, str::len);
                let digits = text.split('.').next().map_or(0, str::len);
                proptest::prop_assert!(
                    !plain || decimals > usize::from(scale.decimals()) || digits + usize::from(scale.decimals()) > 18,
                    "{} -> {}", text, w
                );
            }
        }

        /// The integer reader agrees with the reference on any input.
        #[test]
        fn uint_agrees_with_reference(text in "[0-9]{0,22}[0-9.eE,}x]{0,20}") {
            let mut c = Cursor::new(text.as_bytes());
            let got = c.uint().map(|v| (v, c.i));
            proptest::prop_assert_eq!(got, uint_reference(text.as_bytes()));
        }
    }
}
