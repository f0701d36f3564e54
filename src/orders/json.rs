//! A small JSON reader for order-entry replies and user-data events:
//! walks an object's members in whatever order they come, hands out raw
//! slices of the frame, allocates nothing, never panics. Strings are not
//! unescaped (the fields it reads never need it; a key with an escape
//! simply matches nothing). Values it is not asked about are skipped by
//! bracket matching; values it reads are checked as they are read.

/// A JSON value, borrowed from the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Val<'a> {
    /// A string's raw bytes between the quotes.
    Str(&'a [u8]),
    /// A number's text.
    Num(&'a [u8]),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// An object, braces included (walk it with [`Fields`]).
    Obj(&'a [u8]),
    /// An array, brackets included (walk it with [`Elems`]).
    Arr(&'a [u8]),
}

/// Byte offset of a syntax error.
pub(crate) type At = usize;

fn ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// The end (exclusive) of the string starting with the quote at `i`.
fn string_end(b: &[u8], i: usize) -> Result<usize, At> {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'"' => return Ok(j + 1),
            b'\\' => j += 2,
            c if c < 0x20 => return Err(j),
            _ => j += 1,
        }
    }
    Err(b.len())
}

/// The end (exclusive) of the object or array starting at `i`.
fn composite_end(b: &[u8], i: usize) -> Result<usize, At> {
    let mut depth = 0usize;
    let mut j = i;
    while j < b.len() {
        match b[j] {
            b'"' => {
                j = string_end(b, j)?;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1).ok_or(j)?;
                if depth == 0 {
                    return Ok(j + 1);
                }
            }
            _ => {}
        }
        j += 1;
    }
    Err(b.len())
}

/// Reads the value at `i` (after whitespace); returns it and the offset after it.
fn value(b: &[u8], i: usize) -> Result<(Val<'_>, usize), At> {
    let i = ws(b, i);
    let c = *b.get(i).ok_or(i)?;
    match c {
        b'"' => {
            let end = string_end(b, i)?;
            Ok((Val::Str(&b[i + 1..end - 1]), end))
        }
        b'{' | b'[' => {
            let end = composite_end(b, i)?;
            let v = &b[i..end];
            Ok((if c == b'{' { Val::Obj(v) } else { Val::Arr(v) }, end))
        }
        b't' if b[i..].starts_with(b"true") => Ok((Val::Bool(true), i + 4)),
        b'f' if b[i..].starts_with(b"false") => Ok((Val::Bool(false), i + 5)),
        b'n' if b[i..].starts_with(b"null") => Ok((Val::Null, i + 4)),
        b'-' | b'0'..=b'9' => {
            let mut j = i + 1;
            while j < b.len() && matches!(b[j], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') {
                j += 1;
            }
            Ok((Val::Num(&b[i..j]), j))
        }
        _ => Err(i),
    }
}

/// The top-level value of a frame, which must be an object with nothing after it.
pub(crate) fn object(frame: &[u8]) -> Result<&[u8], At> {
    match value(frame, 0)? {
        (Val::Obj(o), end) if ws(frame, end) == frame.len() => Ok(o),
        (_, end) => Err(end.min(frame.len())),
    }
}

/// The members of an object: `(raw key, value)` in wire order.
#[derive(Debug)]
pub(crate) struct Fields<'a> {
    b: &'a [u8],
    i: usize,
    done: bool,
}

impl<'a> Fields<'a> {
    /// Walks `obj` (an [`Val::Obj`] slice, braces included).
    pub(crate) fn new(obj: &'a [u8]) -> Fields<'a> {
        Fields {
            b: obj,
            i: 1,
            done: false,
        }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(&'a [u8], Val<'a>), At>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let b = self.b;
        let mut i = ws(b, self.i);
        match b.get(i) {
            Some(b'}') => {
                self.done = true;
                return None;
            }
            Some(b',') if self.i > 1 => i = ws(b, i + 1),
            Some(b'"') if self.i == 1 => {}
            _ => {
                self.done = true;
                return Some(Err(i));
            }
        }
        let step = (|| {
            if b.get(i) != Some(&b'"') {
                return Err(i);
            }
            let kend = string_end(b, i)?;
            let key = &b[i + 1..kend - 1];
            let colon = ws(b, kend);
            if b.get(colon) != Some(&b':') {
                return Err(colon);
            }
            let (v, end) = value(b, colon + 1)?;
            Ok((key, v, end))
        })();
        match step {
            Ok((key, v, end)) => {
                self.i = end;
                Some(Ok((key, v)))
            }
            Err(at) => {
                self.done = true;
                Some(Err(at))
            }
        }
    }
}

/// The elements of an array.
#[derive(Debug)]
pub(crate) struct Elems<'a> {
    b: &'a [u8],
    i: usize,
    done: bool,
}

impl<'a> Elems<'a> {
    /// Walks `arr` (an [`Val::Arr`] slice, brackets included).
    pub(crate) fn new(arr: &'a [u8]) -> Elems<'a> {
        Elems {
            b: arr,
            i: 1,
            done: false,
        }
    }
}

impl<'a> Iterator for Elems<'a> {
    type Item = Result<Val<'a>, At>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let b = self.b;
        let mut i = ws(b, self.i);
        match b.get(i) {
            Some(b']') => {
                self.done = true;
                return None;
            }
            Some(b',') if self.i > 1 => i += 1,
            Some(_) if self.i == 1 => {}
            _ => {
                self.done = true;
                return Some(Err(i));
            }
        }
        match value(b, i) {
            Ok((v, end)) => {
                self.i = end;
                Some(Ok(v))
            }
            Err(at) => {
                self.done = true;
                Some(Err(at))
            }
        }
    }
}

/// An integer's text as `i64` (no sign for `u64` callers to worry about:
/// they check the range). `None` for fractions, exponents, overflow.
pub(crate) fn int(text: &[u8]) -> Option<i64> {
    let (neg, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 19 || (digits.len() > 1 && digits[0] == b'0') {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
    }
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_members_in_any_order_and_skips_nested_values() {
        let f = br#" {"b" : [1, {"x":"]}"}], "a":"s\"q", "n":-12, "t":true, "z":null, "o":{}} "#;
        let o = object(f).unwrap();
        let got: Vec<_> = Fields::new(o).map(|r| r.unwrap()).collect();
        assert_eq!(got.len(), 6);
        assert_eq!(got[0].0, b"b");
        assert_eq!(got[1], (&b"a"[..], Val::Str(br#"s\"q"#)));
        assert_eq!(got[2], (&b"n"[..], Val::Num(b"-12")));
        assert_eq!(got[3].1, Val::Bool(true));
        assert_eq!(got[4].1, Val::Null);
        assert_eq!(got[5].1, Val::Obj(b"{}"));
        let Val::Arr(a) = got[0].1 else { panic!() };
        let elems: Vec<_> = Elems::new(a).map(|r| r.unwrap()).collect();
        assert_eq!(elems, [Val::Num(b"1"), Val::Obj(br#"{"x":"]}"}"#)]);
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        for bad in [
            &b""[..],
            b"{",
            b"[]",
            b"{\"a\":}",
            b"{\"a\" 1}",
            b"{\"a\":1,}",
            b"{\"a\":1}}",
            b"{\"a\":\"unterminated}",
            b"{\"a\":[1,2}",
            b"{1:2}",
        ] {
            let r = object(bad).map(|o| Fields::new(o).collect::<Result<Vec<_>, _>>());
            assert!(
                matches!(r, Err(_) | Ok(Err(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn integers() {
        assert_eq!(int(b"1645423376532"), Some(1_645_423_376_532));
        assert_eq!(int(b"-1"), Some(-1));
        assert_eq!(int(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(int(b"9223372036854775808"), None);
        assert_eq!(int(b"1.5"), None);
        assert_eq!(int(b"01"), None);
        assert_eq!(int(b"-"), None);
    }
}
