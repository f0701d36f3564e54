//! The record format: one JSON object per line,
//! `{"recv_ns":…,"venue":"…","conn":…,"kind":"…","data":"…"}`, with the raw
//! text exactly as received in `data` (JSON-escaped). REST snapshot bodies
//! also name their instrument (`"symbol":"…"`). Lines are written without
//! allocating, into a caller's buffer.

use crate::types::{Nanos, Venue};

/// What a record holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// A text frame as the venue sent it.
    Frame = 0,
    /// A REST snapshot body, for the instrument named by `symbol`.
    Rest = 1,
    /// The WebSocket opened (`data`: the URL).
    Connect = 2,
    /// The connection is gone (`data`: the reason).
    Disconnect = 3,
    /// A text the session sent (subscribe, resubscribe, ping), exactly.
    Subscribe = 4,
    /// A control event of the engine, as a JSON object in `data` (`event`:
    /// `start`, `fetch`, `fetch_failed`, `stale`, `release`, `lost`).
    Status = 5,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 6] = [
        Kind::Frame,
        Kind::Rest,
        Kind::Connect,
        Kind::Disconnect,
        Kind::Subscribe,
        Kind::Status,
    ];

    /// The name written in `kind`.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Frame => "frame",
            Kind::Rest => "rest",
            Kind::Connect => "connect",
            Kind::Disconnect => "disconnect",
            Kind::Subscribe => "subscribe",
            Kind::Status => "status",
        }
    }

    /// Parses [`Kind::name`].
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Decodes the `repr(u8)` value.
    pub const fn from_u8(v: u8) -> Option<Kind> {
        match v {
            0 => Some(Kind::Frame),
            1 => Some(Kind::Rest),
            2 => Some(Kind::Connect),
            3 => Some(Kind::Disconnect),
            4 => Some(Kind::Subscribe),
            5 => Some(Kind::Status),
            _ => None,
        }
    }
}

/// One record's fields, borrowed.
#[derive(Clone, Copy, Debug)]
pub struct RecordRef<'a> {
    /// Receive time, ns since the UNIX epoch.
    pub recv_ns: Nanos,
    /// The venue.
    pub venue: Venue,
    /// The engine's connection index.
    pub conn: u32,
    /// What it is.
    pub kind: Kind,
    /// The instrument's symbol (REST bodies only).
    pub symbol: Option<&'a str>,
    /// The raw text.
    pub data: &'a [u8],
}

/// Appends one record as a JSON line (ending in `\n`) to `out`. Bytes of
/// `data` that are not UTF-8 are written as U+FFFD (frames are UTF-8 by the
/// WebSocket rules; a REST body that is not is recorded as best it can be).
pub fn encode_line(rec: &RecordRef<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"recv_ns\":");
    push_u64(rec.recv_ns, out);
    out.extend_from_slice(b",\"venue\":\"");
    out.extend_from_slice(rec.venue.name().as_bytes());
    out.extend_from_slice(b"\",\"conn\":");
    push_u64(u64::from(rec.conn), out);
    out.extend_from_slice(b",\"kind\":\"");
    out.extend_from_slice(rec.kind.name().as_bytes());
    out.push(b'"');
    if let Some(symbol) = rec.symbol {
        out.extend_from_slice(b",\"symbol\":\"");
        escape_json(symbol.as_bytes(), out);
        out.push(b'"');
    }
    out.extend_from_slice(b",\"data\":\"");
    escape_json(rec.data, out);
    out.extend_from_slice(b"\"}\n");
}

fn push_u64(v: u64, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut n = v;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// JSON string escaping of `data` (quotes, backslashes, control characters;
/// invalid UTF-8 as U+FFFD).
pub fn escape_json(data: &[u8], out: &mut Vec<u8>) {
    for chunk in data.utf8_chunks() {
        let valid = chunk.valid().as_bytes();
        let mut start = 0;
        for (i, &b) in valid.iter().enumerate() {
            let short: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0..=0x1f => b"",
                _ => continue,
            };
            out.extend_from_slice(&valid[start..i]);
            if short.is_empty() {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            } else {
                out.extend_from_slice(short);
            }
            start = i + 1;
        }
        out.extend_from_slice(&valid[start..]);
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{fffd}".as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(data: &[u8], symbol: Option<&str>) -> String {
        let mut out = Vec::new();
        encode_line(
            &RecordRef {
                recv_ns: 1_764_567_000_123_456_789,
                venue: Venue::Okx,
                conn: 3,
                kind: if symbol.is_some() {
                    Kind::Rest
                } else {
                    Kind::Frame
                },
                symbol,
                data,
            },
            &mut out,
        );
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn a_frame_is_one_line_with_its_text_escaped() {
        let text = "{\"a\":\"x\\y\"}\n\t\u{1}é";
        let l = line(text.as_bytes(), None);
        assert_eq!(
            l,
            "{\"recv_ns\":1764567000123456789,\"venue\":\"okx\",\"conn\":3,\"kind\":\"frame\",\
             \"data\":\"{\\\"a\\\":\\\"x\\\\y\\\"}\\n\\t\\u0001é\"}\n"
        );
        let v: serde_json::Value = serde_json::from_str(&l).expect("json");
        assert_eq!(v["data"].as_str(), Some(text));
        assert_eq!(l.matches('\n').count(), 1);
    }

    #[test]
    fn a_rest_body_names_its_symbol_and_bad_utf8_is_replaced() {
        let l = line(b"ab\xffc", Some("BTC-USDT"));
        let v: serde_json::Value = serde_json::from_str(&l).expect("json");
        assert_eq!(v["symbol"].as_str(), Some("BTC-USDT"));
        assert_eq!(v["kind"].as_str(), Some("rest"));
        assert_eq!(v["data"].as_str(), Some("ab\u{fffd}c"));
        assert_eq!(v["recv_ns"].as_u64(), Some(1_764_567_000_123_456_789));
    }

    #[test]
    fn kinds_round_trip_by_name_and_number() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.name()), Some(k));
            assert_eq!(Kind::from_u8(k as u8), Some(k));
        }
        assert_eq!(Kind::parse("nope"), None);
        assert_eq!(Kind::from_u8(6), None);
    }
}
