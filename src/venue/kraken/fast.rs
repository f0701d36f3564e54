//! The template fast path: the frequent frames exactly as Kraken writes
//! them (`book` snapshots and updates in the venue's key order, no
//! whitespace, ASCII strings without escapes; the heartbeat), read in one
//! pass. Anything else — another order, whitespace, a form it does not
//! read, an unknown symbol, any error — is `None`: the reference walk
//! decides. Values go through the same converters (`msg.rs`), so whatever
//! this accepts the walk reads the same.

use super::msg::{BookEntry, BookKind, KrakenMsg, checksum, level, timestamp};
use super::tape::{Out, Walked};
use crate::book::Level;
use crate::types::{ResolveSymbol, Scaling};

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

    /// A plain unsigned decimal's text: `0` or a digit 1-9 and digits, then
    /// optionally `.` and at least one digit (what JSON allows of those).
    #[inline(always)]
    fn number(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        let b = self.b;
        let mut i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start || (b[start] == b'0' && i > start + 1) {
            return None;
        }
        if b.get(i) == Some(&b'.') {
            let f = i + 1;
            i = f;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == f {
                return None;
            }
        }
        self.i = i;
        Some(&b[start..i])
    }

    /// `[{"price":N,"qty":N},...]` into `buf`; returns its range.
    #[inline(always)]
    fn levels(
        &mut self,
        scaling: Scaling,
        key: &'static str,
        buf: &mut Vec<Level>,
    ) -> Option<(u32, u32)> {
        let start = buf.len();
        self.lit(b"[")?;
        if self.lit(b"]").is_none() {
            loop {
                self.lit(br#"{"price":"#)?;
                let px = self.number()?;
                self.lit(br#","qty":"#)?;
                let qty = self.number()?;
                self.lit(b"}")?;
                let l = level(px, qty, scaling, key, buf.len() - start).ok()?;
                if buf.len() == buf.capacity() {
                    return None;
                }
                buf.push(l);
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
        let bids = at.levels(scaling, "bids", out.bids)?;
        at.lit(br#","asks":"#)?;
        let asks = at.levels(scaling, "asks", out.asks)?;
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
