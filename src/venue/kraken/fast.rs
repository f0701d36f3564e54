//! The template fast path: the frequent frames exactly as Kraken writes
//! them (`book` snapshots and updates in the venue's key order, no
//! whitespace, ASCII strings without escapes; the heartbeat), read in one
//! pass. Anything else — another order, whitespace, a form it does not
//! read, an unknown symbol, any error — is `None`: the reference walk
//! decides. Prices and quantities are read straight into mantissas by a
//! reader that accepts a subset of what `msg::exact` accepts (plain
//! decimals, at most the pair's decimals, 18 digits) and gives the same
//! value; the checksum and timestamp go through `msg.rs`'s converters. The
//! property tests and the fuzz target hold the two paths to the same
//! answers.

use super::msg::{BookEntry, BookKind, KrakenMsg, checksum, timestamp};
use super::tape::{Out, Walked};
use crate::book::Level;
use crate::types::swar::POW10;
use crate::types::{Price, Qty, ResolveSymbol, Scale, Scaling};

const HEARTBEAT: &[u8] = br#"{"channel":"heartbeat"}"#;
const BOOK: &[u8] = br#"{"channel":"book","type":""#;

/// A position in the frame; every read is `None` on a mismatch.
struct At<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> At<'a> {
    #[inline(always)]
    fn lit(&mut self, s: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + s.len())? == s {
            self.i += s.len();
            Some(())
        } else {
            None
        }
    }

    #[inline(always)]
    fn byte(&mut self) -> Option<u8> {
        let c = *self.b.get(self.i)?;
        self.i += 1;
        Some(c)
    }

    /// An ASCII string without escapes, after its opening quote; eats the
    /// closing one.
    #[inline(always)]
    fn text(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        loop {
            match *self.b.get(self.i)? {
                b'"' => break,
                b'\\' | 0..0x20 | 0x80.. => return None,
                _ => self.i += 1,
            }
        }
        self.i += 1;
        Some(&self.b[start..self.i - 1])
    }

    /// A plain unsigned decimal read straight into a mantissa at `scale`:
    /// `0` or a digit 1-9 and digits, then optionally `.` and at least one
    /// digit, at most `scale` decimals and 18 digits in all (anything else,
    /// the reference walk decides). The same value `msg::exact` reads.
    #[inline(always)]
    fn fixed(&mut self, scale: Scale) -> Option<i64> {
        let b = self.b;
        let start = self.i;
        let mut i = start;
        let mut v: u64 = 0;
        while let Some(&c) = b.get(i) {
            if !c.is_ascii_digit() {
                break;
            }
            v = v * 10 + u64::from(c - b'0');
            i += 1;
            if i - start > 18 {
                return None;
            }
        }
        let int = i - start;
        if int == 0 || (b[start] == b'0' && int > 1) {
            return None;
        }
        let mut frac = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            while let Some(&c) = b.get(i) {
                if !c.is_ascii_digit() {
                    break;
                }
                v = v * 10 + u64::from(c - b'0');
                i += 1;
                frac += 1;
                if int + frac > 18 {
                    return None;
                }
            }
            if frac == 0 {
                return None;
            }
        }
        let scale = usize::from(scale.decimals());
        if frac > scale {
            return None;
        }
        let m = v.checked_mul(POW10[scale - frac])?;
        self.i = i;
        i64::try_from(m).ok()
    }

    /// A number's text (the checksum: an integer, read by its converter).
    #[inline(always)]
    fn number(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        (self.i > start).then(|| &self.b[start..self.i])
    }

    /// `[{"price":N,"qty":N},...]` into `buf`; returns its range.
    #[inline(always)]
    fn levels(&mut self, scaling: Scaling, buf: &mut Vec<Level>) -> Option<(u32, u32)> {
        let start = buf.len();
        self.lit(b"[")?;
        if self.lit(b"]").is_none() {
            loop {
                self.lit(br#"{"price":"#)?;
                let price = self.fixed(scaling.price)?;
                self.lit(br#","qty":"#)?;
                let qty = self.fixed(scaling.qty)?;
                self.lit(b"}")?;
                // Zero prices are the reference walk's to refuse.
                if price == 0 || buf.len() == buf.capacity() {
                    return None;
                }
                buf.push(Level {
                    price: Price(price),
                    qty: Qty(qty),
                });
                match self.byte()? {
                    b',' => {}
                    b']' => break,
                    _ => return None,
                }
            }
        }
        Some((start as u32, buf.len() as u32))
    }
}

/// The frame as a template, or `None`.
#[inline]
pub(crate) fn scan<'a, R: ResolveSymbol>(
    frame: &'a [u8],
    symbols: &R,
    out: &mut Out<'_>,
) -> Option<Walked<'a>> {
    if frame == HEARTBEAT {
        return Some(Walked::Msg(KrakenMsg::Heartbeat));
    }
    let mut at = At { b: frame, i: 0 };
    at.lit(BOOK)?;
    let kind = if at.lit(br#"update""#).is_some() {
        BookKind::Update
    } else {
        at.lit(br#"snapshot""#)?;
        BookKind::Snapshot
    };
    at.lit(br#","data":["#)?;
    loop {
        at.lit(br#"{"symbol":""#)?;
        let symbol = at.text()?;
        let scaling = symbols.resolve(symbol)?;
        at.lit(br#","bids":"#)?;
        let bids = at.levels(scaling, out.bids)?;
        at.lit(br#","asks":"#)?;
        let asks = at.levels(scaling, out.asks)?;
        at.lit(br#","checksum":"#)?;
        let sum = checksum(at.number()?).ok()?;
        at.lit(br#","timestamp":""#)?;
        let exch_ns = timestamp(at.text()?).ok()?;
        at.lit(b"}")?;
        if out.entries.len() == out.entries.capacity() {
            return None;
        }
        out.entries.push(BookEntry {
            scaling,
            checksum: sum,
            exch_ns,
            bids,
            asks,
        });
        match at.byte()? {
            b',' => {}
            b']' => break,
            _ => return None,
        }
    }
    at.lit(b"}")?;
    (at.i == frame.len()).then_some(Walked::Book(kind))
}
