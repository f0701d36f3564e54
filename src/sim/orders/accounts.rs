//! Who may trade on the simulated venue, and the clock it judges
//! timestamps and rate-limit windows by.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::types::{Clock, ManualClock};

/// How an account signs its requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimKey {
    /// HMAC-SHA256 with this secret (hex signatures, case-insensitive).
    Hmac(String),
    /// Ed25519 with the private key whose public half is this (base64
    /// signatures; the only key type `session.logon` accepts).
    Ed25519([u8; 32]),
}

/// One API key the simulated venue knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimAccount {
    /// The API key (`apiKey`, `X-MBX-APIKEY`): 1 to 64 ASCII letters and digits.
    pub api_key: String,
    /// What verifies its signatures.
    pub key: SimKey,
}

impl SimAccount {
    /// An HMAC-SHA256 account.
    pub fn hmac(api_key: &str, secret: &str) -> SimAccount {
        SimAccount {
            api_key: api_key.to_owned(),
            key: SimKey::Hmac(secret.to_owned()),
        }
    }

    /// An Ed25519 account with this public key.
    pub fn ed25519(api_key: &str, public_key: [u8; 32]) -> SimAccount {
        SimAccount {
            api_key: api_key.to_owned(),
            key: SimKey::Ed25519(public_key),
        }
    }
}

/// The DER prefix of an Ed25519 `SubjectPublicKeyInfo` (RFC 8410), before
/// the 32 key bytes.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// An Ed25519 public key from the text Binance registers: a PEM `PUBLIC
/// KEY` (SubjectPublicKeyInfo), or the bare 32 bytes in base64.
pub fn parse_ed25519_public(text: &str) -> Option<[u8; 32]> {
    use base64::Engine as _;
    let body: String = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .ok()?;
    let raw = match der.len() {
        32 => der.as_slice(),
        44 if der[..12] == ED25519_SPKI_PREFIX => &der[12..],
        _ => return None,
    };
    raw.try_into().ok()
}

/// Whether `key` has the venue's API-key format (else -2014).
pub(super) fn key_format_ok(key: &str) -> bool {
    (1..=64).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The venue's wall clock: the system's, or a [`ManualClock`] holding
/// nanoseconds since the Unix epoch (tests move it to exercise the
/// `recvWindow` check and the clock-aligned rate-limit windows).
#[derive(Clone, Debug, Default)]
pub(super) struct VenueClock {
    manual: Option<ManualClock>,
}

impl VenueClock {
    pub(super) fn new(manual: Option<ManualClock>) -> VenueClock {
        VenueClock { manual }
    }

    /// Microseconds since the Unix epoch.
    pub(super) fn now_us(&self) -> u64 {
        match &self.manual {
            Some(c) => c.now() / 1_000,
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_micros() as u64),
        }
    }

    /// Milliseconds since the Unix epoch.
    pub(super) fn now_ms(&self) -> u64 {
        self.now_us() / 1_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ed25519_public_keys_from_pem_or_base64() {
        // RFC 8410 §10.1's example public key.
        let pem = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";
        let key = parse_ed25519_public(pem).unwrap();
        assert_eq!(&key[..4], &[0x19, 0xbf, 0x44, 0x09]);
        assert_eq!(
            parse_ed25519_public("Gb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE="),
            Some(key)
        );
        assert_eq!(parse_ed25519_public("not a key"), None);
    }
}
