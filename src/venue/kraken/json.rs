//! A strict, order-independent JSON walker over the frame's bytes that
//! keeps every number's text: what Kraken's reference decoder reads with.
//!
//! simd-json's tape turns a bare number into an `f64` and drops its text,
//! and Kraken sends prices and quantities as bare numbers whose exact text
//! matters (the pair's precision, the checksum), so the reference path
//! walks the bytes itself: RFC 8259 syntax (whitespace allowed anywhere,
//! escapes in strings checked, numbers by the JSON grammar), nesting
//! bounded, nothing allocated. UTF-8 is checked once per frame by the
//! caller.

use crate::types::Venue;
use crate::venue::{DecodeError, JsonType, Location, What};

/// Deepest nesting accepted (Kraken's frames nest four deep).
const MAX_DEPTH: u32 = 32;

/// A position in a frame.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Json<'a> {
    b: &'a [u8],
    i: usize,
}

/// Invalid JSON at byte `i`.
#[cold]
pub(crate) fn syntax(i: usize) -> DecodeError {
    DecodeError {
        venue: Venue::Kraken,
        what: What::InvalidJson,
        at: Location::Byte(u32::try_from(i).unwrap_or(u32::MAX)),
    }
}

/// `key` holds a value of the wrong type.
#[cold]
pub(crate) fn expected(t: JsonType, key: &'static str) -> DecodeError {
    DecodeError {
        venue: Venue::Kraken,
        what: What::Expected(t),
        at: Location::field(key),
    }
}

impl<'a> Json<'a> {
    /// At the start of `b`.
    pub(crate) fn new(b: &'a [u8]) -> Json<'a> {
        Json { b, i: 0 }
    }

    /// At byte `i` of `b` (a position saved from an earlier walk).
    pub(crate) fn at(b: &'a [u8], i: usize) -> Json<'a> {
        Json { b, i }
    }

    /// The current byte offset.
    pub(crate) fn pos(&self) -> usize {
        self.i
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    /// The next non-blank byte, not consumed.
    #[inline]
    pub(crate) fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Result<(), DecodeError> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(syntax(self.i))
        }
    }

    /// Only blanks remain.
    pub(crate) fn end(&mut self) -> Result<(), DecodeError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(syntax(self.i)),
        }
    }

    /// A string's raw bytes between its quotes (escapes left as sent and
    /// checked).
    #[inline]
    pub(crate) fn string(&mut self) -> Result<&'a [u8], DecodeError> {
        self.eat(b'"')?;
        let start = self.i;
        loop {
            let Some(&c) = self.b.get(self.i) else {
                return Err(syntax(self.i));
            };
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok(&self.b[start..self.i - 1]);
                }
                b'\\' => self.escape()?,
                0..0x20 => return Err(syntax(self.i)),
                _ => self.i += 1,
            }
        }
    }

    #[cold]
    fn escape(&mut self) -> Result<(), DecodeError> {
        let bad = syntax(self.i);
        match self.b.get(self.i + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 2,
            Some(b'u') => {
                let hex = self.b.get(self.i + 2..self.i + 6).ok_or(bad)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return Err(bad);
                }
                self.i += 6;
            }
            _ => return Err(bad),
        }
        Ok(())
    }

    /// A number's text, checked against the JSON grammar
    /// (`-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`).
    #[inline]
    pub(crate) fn number(&mut self) -> Result<&'a [u8], DecodeError> {
        self.ws();
        let start = self.i;
        let b = self.b;
        let digits = |mut i: usize| {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = digits(i),
            _ => return Err(syntax(i)),
        }
        if b.get(i) == Some(&b'.') {
            let end = digits(i + 1);
            if end == i + 1 {
                return Err(syntax(end));
            }
            i = end;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let end = digits(i);
            if end == i {
                return Err(syntax(end));
            }
            i = end;
        }
        self.i = i;
        Ok(&b[start..i])
    }

    /// `true` or `false`.
    pub(crate) fn boolean(&mut self, key: &'static str) -> Result<bool, DecodeError> {
        self.ws();
        let rest = &self.b[self.i..];
        if rest.starts_with(b"true") {
            self.i += 4;
            Ok(true)
        } else if rest.starts_with(b"false") {
            self.i += 5;
            Ok(false)
        } else {
            Err(expected(JsonType::Bool, key))
        }
    }

    /// A string value of field `key` (wrong type: an error naming it).
    #[inline]
    pub(crate) fn str_of(&mut self, key: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.peek() != Some(b'"') {
            return Err(expected(JsonType::String, key));
        }
        self.string()
    }

    /// A number's text as the value of field `key`.
    #[inline]
    pub(crate) fn num_of(&mut self, key: &'static str) -> Result<&'a [u8], DecodeError> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'"' | b'{' | b'[' | b't' | b'f' | b'n') => {
                Err(expected(JsonType::UnsignedInteger, key))
            }
            _ => Err(syntax(self.i)),
        }
    }

    /// Skips one value of any type.
    pub(crate) fn skip(&mut self) -> Result<(), DecodeError> {
        self.skip_at(0)
    }

    fn skip_at(&mut self, depth: u32) -> Result<(), DecodeError> {
        if depth > MAX_DEPTH {
            return Err(syntax(self.i));
        }
        match self.peek() {
            Some(b'"') => self.string().map(|_| ()),
            Some(b'{') => self.object(|j, _| j.skip_at(depth + 1)),
            Some(b'[') => self.array(|j, _| j.skip_at(depth + 1)),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            _ => self.number().map(|_| ()),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), DecodeError> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(syntax(self.i))
        }
    }

    /// An object: `field` is called with each key and must read its value.
    #[inline]
    pub(crate) fn object(
        &mut self,
        mut field: impl FnMut(&mut Json<'a>, &'a [u8]) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        self.eat(b'{')?;
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            field(self, key)?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(syntax(self.i)),
            }
        }
    }

    /// An array: `item` is called with each index and must read the value.
    #[inline]
    pub(crate) fn array(
        &mut self,
        mut item: impl FnMut(&mut Json<'a>, usize) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        self.eat(b'[')?;
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(());
        }
        let mut n = 0;
        loop {
            item(self, n)?;
            n += 1;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(syntax(self.i)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skips(text: &str) -> bool {
        let mut j = Json::new(text.as_bytes());
        j.skip().and_then(|()| j.end()).is_ok()
    }

    #[test]
    fn accepts_json_and_refuses_the_rest() {
        for ok in [
            r#"{"a":[1,-2.5,3e-5,0.0],"b":{"c":"x\"y\u00e9"},"d":true,"e":null}"#,
            " [ ] ",
            "{}",
            r#"{ "a" : 1 , "b" : [ 2 ] }"#,
        ] {
            assert!(skips(ok), "{ok}");
        }
        for bad in [
            "{",
            "[1,]",
            "{\"a\"}",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "\"\\x\"",
            "tru",
            "{\"a\":1,}",
            "[1 2]",
            "\"a\u{1}\"",
            "1 2",
        ] {
            assert!(!skips(bad), "{bad}");
        }
    }

    #[test]
    fn numbers_keep_their_text() {
        let mut j = Json::new(b" 62807.0,");
        assert_eq!(j.number().unwrap(), b"62807.0");
        assert_eq!(j.pos(), 8);
        let mut j = Json::new(b"0.00005100]");
        assert_eq!(j.number().unwrap(), b"0.00005100");
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(!skips(&deep));
        let fine = "[".repeat(20) + &"]".repeat(20);
        assert!(skips(&fine));
    }
}
