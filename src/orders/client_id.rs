//! Client order ids: a session prefix and a counter, inline and `Copy`.
//!
//! The strategy mints ids itself from the [`ClientIdGen`] the order-entry
//! handle gives it, so it knows an order's id before the request leaves its
//! thread and can cancel it at once. Each strategy's generator has its own
//! prefix (session tag + strategy number), so ids are unique per venue and
//! session without any coordination. Ids stay inside Binance's rule
//! `^[.A-Z:/a-z0-9_-]{1,36}$` (and Bybit's `[0-9A-Za-z_-]{1,36}` when the
//! prefix avoids `.`, `:` and `/`).

use std::fmt;

/// Longest id, in bytes (Binance and Bybit allow 36). `ClientId::eq`
/// reads it as four words and a 4-byte tail.
pub const CLIENT_ID_CAP: usize = 36;

/// Longest prefix: leaves room for a separator and 16 counter digits.
pub const CLIENT_ID_PREFIX_CAP: usize = CLIENT_ID_CAP - 17;

/// A client order id, stored inline. Bytes past `len` are always zero, so
/// equality compares whole words.
#[derive(Clone, Copy, Eq)]
pub struct ClientId {
    len: u8,
    bytes: [u8; CLIENT_ID_CAP],
}

/// Whether `b` is in Binance's client-id alphabet.
const fn allowed(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'/' | b'_' | b'-')
}

impl ClientId {
    /// The empty id (reports that concern no order).
    pub const EMPTY: ClientId = ClientId {
        len: 0,
        bytes: [0; CLIENT_ID_CAP],
    };

    /// An id from wire text; `None` if empty, too long or outside the alphabet.
    pub fn new(text: &[u8]) -> Option<ClientId> {
        if text.is_empty() || text.len() > CLIENT_ID_CAP || !text.iter().all(|&b| allowed(b)) {
            return None;
        }
        let mut bytes = [0; CLIENT_ID_CAP];
        bytes[..text.len()].copy_from_slice(text);
        Some(ClientId {
            len: text.len() as u8,
            bytes,
        })
    }

    /// The id's bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        // Only bytes from the ASCII alphabet are ever stored.
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    /// Whether this is [`ClientId::EMPTY`].
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A hash of the id (FNV-1a), for the order table.
    #[inline]
    pub fn hash64(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in self.as_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        h
    }
}

impl PartialEq for ClientId {
    #[inline]
    fn eq(&self, other: &ClientId) -> bool {
        // Five fixed-offset word compares instead of a `memcmp` call (the
        // table's hot path); constant offsets compile to plain loads.
        fn w8(b: &[u8; CLIENT_ID_CAP], i: usize) -> u64 {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[i..i + 8]);
            u64::from_ne_bytes(w)
        }
        fn w4(b: &[u8; CLIENT_ID_CAP]) -> u32 {
            let mut w = [0u8; 4];
            w.copy_from_slice(&b[32..36]);
            u32::from_ne_bytes(w)
        }
        let (a, b) = (&self.bytes, &other.bytes);
        self.len == other.len
            && w8(a, 0) == w8(b, 0)
            && w8(a, 8) == w8(b, 8)
            && w8(a, 16) == w8(b, 16)
            && w8(a, 24) == w8(b, 24)
            && w4(a) == w4(b)
    }
}

impl std::hash::Hash for ClientId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // Consistent with `eq`: equal ids have equal bytes.
        state.write(self.as_bytes());
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientId({})", self.as_str())
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A prefix was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    /// Empty or longer than [`CLIENT_ID_PREFIX_CAP`].
    #[error("client id prefix must be 1..={CLIENT_ID_PREFIX_CAP} bytes")]
    Length,
    /// A byte outside `[A-Za-z0-9_-]`.
    #[error("client id prefix may only use A-Z, a-z, 0-9, '_' and '-'")]
    Alphabet,
}

/// Mints `<prefix>-<counter>` ids. One per strategy per session.
#[derive(Clone, Copy, Debug)]
pub struct ClientIdGen {
    prefix: [u8; CLIENT_ID_PREFIX_CAP],
    prefix_len: u8,
    next: u64,
}

impl ClientIdGen {
    /// A generator for `prefix` (its own per session and strategy, e.g.
    /// from [`ClientIdGen::session_prefix`]).
    pub fn new(prefix: &str) -> Result<ClientIdGen, PrefixError> {
        let p = prefix.as_bytes();
        if p.is_empty() || p.len() > CLIENT_ID_PREFIX_CAP {
            return Err(PrefixError::Length);
        }
        if !p
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(PrefixError::Alphabet);
        }
        let mut prefix = [0; CLIENT_ID_PREFIX_CAP];
        prefix[..p.len()].copy_from_slice(p);
        Ok(ClientIdGen {
            prefix,
            prefix_len: p.len() as u8,
            next: 0,
        })
    }

    /// A prefix unique per session and strategy: `tw` + the session's start
    /// (UTC ms, base 36) + `s` + the strategy number. Two sessions started in
    /// the same millisecond must pass different `strategy` numbers.
    pub fn session_prefix(start_utc_ms: u64, strategy: u8) -> ClientIdGen {
        let mut text = [0u8; CLIENT_ID_PREFIX_CAP];
        text[..2].copy_from_slice(b"tw");
        let mut w = 2 + write_base36(start_utc_ms, &mut text[2..]);
        text[w] = b's';
        w += 1;
        w += write_base36(u64::from(strategy), &mut text[w..]);
        ClientIdGen {
            prefix: text,
            prefix_len: w as u8,
            next: 0,
        }
    }

    /// The next id. Never repeats within a generator (10^16 ids).
    #[inline]
    pub fn mint(&mut self) -> ClientId {
        let mut bytes = [0u8; CLIENT_ID_CAP];
        let p = usize::from(self.prefix_len);
        bytes[..p].copy_from_slice(&self.prefix[..p]);
        bytes[p] = b'-';
        let mut digits = [0u8; 20];
        let mut n = self.next;
        let mut len = 0;
        loop {
            digits[len] = b'0' + (n % 10) as u8;
            n /= 10;
            len += 1;
            if n == 0 {
                break;
            }
        }
        // A prefix of at most 19 bytes, '-', at most 16 digits: fits 36.
        for i in 0..len {
            bytes[p + 1 + i] = digits[len - 1 - i];
        }
        self.next = (self.next + 1) % COUNTER_LIMIT;
        ClientId {
            len: (p + 1 + len) as u8,
            bytes,
        }
    }
}

/// Counters run below this (16 digits), so every id fits.
const COUNTER_LIMIT: u64 = 10_000_000_000_000_000;

/// Writes `n` in base 36 (lower case) into `out`; returns the length.
fn write_base36(mut n: u64, out: &mut [u8]) -> usize {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut tmp = [0u8; 13];
    let mut len = 0;
    loop {
        tmp[len] = DIGITS[(n % 36) as usize];
        n /= 36;
        len += 1;
        if n == 0 {
            break;
        }
    }
    for i in 0..len {
        out[i] = tmp[len - 1 - i];
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binance_ok(id: &str) -> bool {
        (1..=36).contains(&id.len()) && id.bytes().all(allowed)
    }

    #[test]
    fn minted_ids_are_unique_and_in_the_alphabet() {
        let mut g = ClientIdGen::session_prefix(1_764_558_000_123, 7);
        let a = g.mint();
        let b = g.mint();
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("tw"), "{a}");
        assert!(a.as_str().ends_with("s7-0"), "{a}");
        assert!(b.as_str().ends_with("s7-1"), "{b}");
        assert!(binance_ok(a.as_str()));
    }

    #[test]
    fn the_longest_prefix_and_counter_still_fit() {
        let mut g = ClientIdGen::new(&"x".repeat(CLIENT_ID_PREFIX_CAP)).unwrap();
        g.next = COUNTER_LIMIT - 1; // 16 digits
        let id = g.mint();
        assert_eq!(id.as_str().len(), 36, "{id}");
        assert!(binance_ok(id.as_str()));
        assert!(g.mint().as_str().ends_with("-0"));
        assert_eq!(
            ClientIdGen::new(&"x".repeat(CLIENT_ID_PREFIX_CAP + 1)).unwrap_err(),
            PrefixError::Length
        );
        assert_eq!(ClientIdGen::new("a.b").unwrap_err(), PrefixError::Alphabet);
    }

    #[test]
    fn equality_sees_every_byte_and_the_length() {
        let a = [b'a'; 36];
        for i in 0..36 {
            let mut b = a;
            b[i] = b'b';
            assert_ne!(ClientId::new(&a), ClientId::new(&b), "byte {i}");
        }
        assert_eq!(ClientId::new(&a), ClientId::new(&a));
        assert_ne!(ClientId::new(&a[..35]), ClientId::new(&a));
    }

    #[test]
    fn wire_ids_are_checked() {
        assert!(ClientId::new(b"x-TD67BGP9-T0000000000000").is_some());
        assert!(ClientId::new(b"a:b/c.d_e-f").is_some());
        assert!(ClientId::new(b"").is_none());
        assert!(ClientId::new(b"has space").is_none());
        assert!(ClientId::new(&[b'a'; 37]).is_none());
    }
}
