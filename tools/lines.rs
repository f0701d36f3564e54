//! Lines of a capture in bounded memory: a line longer than the limit is
//! read and thrown away in chunks, never held whole, and an input with no
//! end of line in sight (`--input /dev/zero`) is given up on.

use std::io::{self, BufRead, Read};

/// One line of input.
#[derive(Debug)]
pub(crate) enum Line<'a> {
    /// A line, without its `\n` or `\r\n`.
    Text(&'a [u8]),
    /// A line longer than the limit; it was skipped.
    TooLong {
        /// Bytes read of it.
        bytes: u64,
        /// No end of line came within the give-up bound: reading stops.
        abandoned: bool,
    },
}

/// Reads lines of at most `max` bytes; see the module docs.
#[derive(Debug)]
pub(crate) struct Lines<R> {
    reader: R,
    line: Vec<u8>,
    max: usize,
    give_up: u64,
}

impl<R: BufRead> Lines<R> {
    /// Lines of at most `max` bytes; an overlong line is skipped up to its
    /// end of line, or reading stops after `give_up` bytes of it.
    pub(crate) fn new(reader: R, max: usize, give_up: u64) -> Lines<R> {
        Lines {
            reader,
            line: Vec::with_capacity(1 << 16),
            max,
            give_up,
        }
    }

    /// The next line; `None` at the end of the input.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        let chunk = self.max as u64 + 1;
        self.line.clear();
        let n = (&mut self.reader)
            .take(chunk)
            .read_until(b'\n', &mut self.line)?;
        if n == 0 {
            return Ok(None);
        }
        if self.line.last() != Some(&b'\n') && self.line.len() > self.max {
            return self.skip_rest(n as u64).map(Some);
        }
        while self.line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            self.line.pop();
        }
        Ok(Some(Line::Text(&self.line)))
    }

    /// Discards the rest of an overlong line, `read` bytes of which are gone.
    fn skip_rest(&mut self, mut read: u64) -> io::Result<Line<'static>> {
        let chunk = self.max as u64 + 1;
        loop {
            if read >= self.give_up {
                return Ok(Line::TooLong {
                    bytes: read,
                    abandoned: true,
                });
            }
            self.line.clear();
            let n = (&mut self.reader)
                .take(chunk)
                .read_until(b'\n', &mut self.line)?;
            read += n as u64;
            if n == 0 || self.line.last() == Some(&b'\n') {
                return Ok(Line::TooLong {
                    bytes: read,
                    abandoned: false,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], max: usize, give_up: u64) -> Vec<String> {
        let mut lines = Lines::new(input, max, give_up);
        let mut out = Vec::new();
        while let Some(l) = lines.next_line().expect("read") {
            match l {
                Line::Text(t) => out.push(String::from_utf8_lossy(t).into_owned()),
                Line::TooLong { bytes, abandoned } => {
                    out.push(format!("long {bytes} {abandoned}"));
                    if abandoned {
                        break;
                    }
                }
            }
            assert!(out.len() < 100);
        }
        out
    }

    #[test]
    fn lines_up_to_the_limit_pass_and_longer_ones_are_skipped() {
        let input = b"abcd\r\nabcde\nabcdefghijklmnop\nxy";
        assert_eq!(
            all(input, 5, 1_000),
            ["abcd", "abcde", "long 17 false", "xy"]
        );
    }

    #[test]
    fn an_endless_line_is_given_up() {
        let input = vec![b'0'; 100];
        assert_eq!(all(&input, 5, 20), ["long 24 true"]);
    }
}
