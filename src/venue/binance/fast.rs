//! The fast path: a single-pass scanner for the exact shapes Binance sends.
//!
//! It accepts a strict subset of JSON — compact (no whitespace), no string
//! escapes, ASCII strings, integers without sign or exponent, one level of
//! nesting plus the level lists and the combined-stream envelope — and parses
//! prices and quantities straight from the bytes while it walks. On anything
//! else it returns `None` and the caller runs the simd-json tape path, which
//! is the reference: the fast path never reports errors of its own, so for
//! every frame it accepts it must produce the same fields (property-tested
//! and fuzzed against the tape path).

use super::msg::{Fields, Key, KnownKey, Raw, key_of};
use crate::book::Level;
use crate::types::{Price, Qty, ResolveSymbol, Scaling, parse_decimal_prefix};

/// What the object being scanned is.
#[derive(Debug)]
pub(crate) enum Target<'r, R> {
    /// A stream frame: the symbol comes from `s` and is resolved here.
    Stream(&'r R),
    /// A REST snapshot body for a known instrument.
    Snapshot(Scaling),
}

// Manual impls: a derive would demand `R: Copy`, but only `&R` is held.
impl<R> Clone for Target<'_, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for Target<'_, R> {}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline(always)]
    fn eat(&mut self, c: u8) -> Option<()> {
        if self.peek()? == c {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    #[inline(always)]
    fn eat_slice(&mut self, s: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + s.len())? == s {
            self.i += s.len();
            Some(())
        } else {
            None
        }
    }

    /// A string without escapes, control or non-ASCII bytes; returns its content.
    #[inline(always)]
    fn string(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let start = self.i;
        loop {
            let c = self.peek()?;
            if c == b'"' {
                let s = &self.b[start..self.i];
                self.i += 1;
                return Some(s);
            }
            if c == b'\\' || !(0x20..0x80).contains(&c) {
                return None;
            }
            self.i += 1;
        }
    }

    /// An unsigned JSON integer (no leading zeros, no fraction or exponent).
    #[inline(always)]
    fn uint(&mut self) -> Option<u64> {
        let start = self.i;
        let mut v: u64 = 0;
        while let Some(c) = self.peek() {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            v = v.checked_mul(10)?.checked_add(u64::from(d))?;
            self.i += 1;
        }
        let len = self.i - start;
        if len == 0 || (len > 1 && self.b[start] == b'0') {
            return None;
        }
        // A fraction or exponent makes it a float: not ours.
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        Some(v)
    }

    /// A scalar value of a field we read.
    #[inline(always)]
    fn scalar(&mut self) -> Option<Raw<'a>> {
        match self.peek()? {
            b'"' => self.string().map(Raw::Str),
            b'0'..=b'9' => self.uint().map(Raw::UInt),
            b't' => self.eat_slice(b"true").map(|()| Raw::Bool(true)),
            b'f' => self.eat_slice(b"false").map(|()| Raw::Bool(false)),
            b'n' => self.eat_slice(b"null").map(|()| Raw::Null),
            _ => None,
        }
    }

    /// `"<decimal>"` parsed at `scale` in one pass.
    #[inline(always)]
    fn decimal_string(&mut self, scale: crate::types::Scale, signed: bool) -> Option<i64> {
        self.eat(b'"')?;
        let (v, used) = parse_decimal_prefix(&self.b[self.i..], scale, signed).ok()?;
        self.i += used;
        self.eat(b'"')?;
        Some(v)
    }

    /// `[["p","q"],...]` into `out`.
    #[inline]
    fn levels(&mut self, scaling: Scaling, out: &mut Vec<Level>, max: usize) -> Option<()> {
        self.eat(b'[')?;
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            self.eat_slice(b"[")?;
            let price = self.decimal_string(scaling.price, true)?;
            self.eat(b',')?;
            let qty = self.decimal_string(scaling.qty, false)?;
            self.eat(b']')?;
            if out.len() == max {
                return None;
            }
            out.push(Level { price: Price(price), qty: Qty(qty) });
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

/// Scans a whole frame. `None` means "use the tape path".
#[inline]
pub(crate) fn scan<'a, R: ResolveSymbol>(
    frame: &'a [u8],
    target: Target<'_, R>,
    bids: &mut Vec<Level>,
    asks: &mut Vec<Level>,
    max_levels: usize,
) -> Option<(Fields<'a>, Option<Scaling>)> {
    let mut c = Cursor { b: frame, i: 0 };
    let out = if matches!(target, Target::Stream(_)) && frame.starts_with(b"{\"stream\":") {
        c.i = b"{\"stream\":".len();
        c.string()?;
        c.eat_slice(b",\"data\":")?;
        let out = object(&mut c, target, bids, asks, max_levels)?;
        c.eat(b'}')?;
        out
    } else {
        object(&mut c, target, bids, asks, max_levels)?
    };
    (c.i == frame.len()).then_some(out)
}

#[inline]
fn object<'a, R: ResolveSymbol>(
    c: &mut Cursor<'a>,
    target: Target<'_, R>,
    bids: &mut Vec<Level>,
    asks: &mut Vec<Level>,
    max_levels: usize,
) -> Option<(Fields<'a>, Option<Scaling>)> {
    let mut fields = Fields::default();
    let (mut scaling, level_keys) = match target {
        Target::Stream(_) => (None, (KnownKey::b, KnownKey::a)),
        Target::Snapshot(s) => (Some(s), (KnownKey::bids, KnownKey::asks)),
    };
    c.eat(b'{')?;
    if c.eat(b'}').is_some() {
        return Some((fields, scaling));
    }
    loop {
        let key = c.string()?;
        c.eat(b':')?;
        let Key::Known(k) = key_of(key) else {
            // Unknown keys: skip a scalar; anything nested goes the slow way.
            c.scalar()?;
            match c.peek()? {
                b',' => {
                    c.i += 1;
                    continue;
                }
                b'}' => {
                    c.i += 1;
                    return Some((fields, scaling));
                }
                _ => return None,
            }
        };
        if fields.get(k).is_some() {
            // Duplicate keys: let the reference path decide.
            return None;
        }
        let value = if c.peek()? == b'[' {
            let side = if k == level_keys.0 {
                &mut *bids
            } else if k == level_keys.1 {
                &mut *asks
            } else {
                return None;
            };
            // The symbol must be known before its levels.
            c.levels(scaling?, side, max_levels)?;
            Raw::Levels
        } else {
            c.scalar()?
        };
        if k == KnownKey::s {
            if let (Target::Stream(symbols), Raw::Str(sym)) = (target, value) {
                scaling = symbols.resolve(sym);
            }
        }
        *fields.slot(k) = Some(value);
        match c.peek()? {
            b',' => c.i += 1,
            b'}' => {
                c.i += 1;
                return Some((fields, scaling));
            }
            _ => return None,
        }
    }
}
