//! Request signing for Binance's WebSocket API: HMAC-SHA256 (lower-case
//! hex) or Ed25519 (standard base64) over the `key=value&...` payload of
//! the request's parameters sorted by name. Keys are loaded once at set-up;
//! signing allocates nothing. Secrets never appear in `Debug` output.

use base64::Engine as _;
use ed25519_dalek::Signer as _;
use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Longest signature text: Ed25519's 64 bytes in base64 are 88 characters.
pub const SIGNATURE_CAP: usize = 88;

/// A key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The HMAC secret is empty.
    #[error("the HMAC secret is empty")]
    EmptySecret,
    /// The Ed25519 key is not a PKCS#8 PEM private key.
    #[error("not an Ed25519 PKCS#8 PEM private key")]
    BadEd25519,
}

/// How requests are signed.
#[derive(Clone)]
pub enum Signer {
    /// HMAC-SHA256 with the API secret, hex output.
    Hmac(Box<Hmac<Sha256>>),
    /// Ed25519 with the private key, base64 output.
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Signer::Hmac(_) => "Signer::Hmac(<secret>)",
            Signer::Ed25519(_) => "Signer::Ed25519(<key>)",
        })
    }
}

impl Signer {
    /// An HMAC-SHA256 signer (the secret as given, no trailing newline).
    pub fn hmac(secret: &[u8]) -> Result<Signer, KeyError> {
        if secret.is_empty() {
            return Err(KeyError::EmptySecret);
        }
        let mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| KeyError::EmptySecret)?;
        Ok(Signer::Hmac(Box::new(mac)))
    }

    /// An Ed25519 signer from a PKCS#8 PEM private key
    /// (`-----BEGIN PRIVATE KEY-----`, as `openssl genpkey -algorithm ed25519` writes).
    pub fn ed25519_pem(pem: &str) -> Result<Signer, KeyError> {
        let key = ed25519_dalek::SigningKey::from_pkcs8_pem(pem.trim())
            .map_err(|_| KeyError::BadEd25519)?;
        Ok(Signer::Ed25519(Box::new(key)))
    }

    /// An Ed25519 signer from the 32 secret-key bytes.
    pub fn ed25519_bytes(secret: &[u8; 32]) -> Signer {
        Signer::Ed25519(Box::new(ed25519_dalek::SigningKey::from_bytes(secret)))
    }

    /// Whether this is an Ed25519 key (which can `session.logon`).
    pub fn is_ed25519(&self) -> bool {
        matches!(self, Signer::Ed25519(_))
    }

    /// Signs `payload`, writing the signature text into `out`; returns its length.
    #[inline]
    pub fn sign(&self, payload: &[u8], out: &mut [u8; SIGNATURE_CAP]) -> usize {
        match self {
            Signer::Hmac(mac) => {
                // The keyed state is cloned (a copy of two SHA-256 states), not re-keyed.
                let mut m = (**mac).clone();
                m.update(payload);
                let digest = m.finalize().into_bytes();
                const HEX: &[u8; 16] = b"0123456789abcdef";
                for (i, b) in digest.iter().enumerate() {
                    out[2 * i] = HEX[usize::from(b >> 4)];
                    out[2 * i + 1] = HEX[usize::from(b & 15)];
                }
                64
            }
            Signer::Ed25519(key) => {
                let sig = key.sign(payload).to_bytes();
                base64::engine::general_purpose::STANDARD
                    .encode_slice(sig, &mut out[..])
                    .unwrap_or(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_the_documented_example() {
        // venues.md §7 / Binance's WebSocket API docs, "SIGNED request example (HMAC)".
        let s = Signer::hmac(b"NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j")
            .unwrap();
        let payload = b"apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT";
        let mut out = [0; SIGNATURE_CAP];
        let n = s.sign(payload, &mut out);
        assert_eq!(
            std::str::from_utf8(&out[..n]).unwrap(),
            "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"
        );
        // Signing twice gives the same answer (the keyed state is not consumed).
        assert_eq!(s.sign(payload, &mut out), 64);
        assert_eq!(&out[..8], b"aa1b5712");
    }

    #[test]
    fn ed25519_signs_verifiably_in_base64_and_hides_keys() {
        use ed25519_dalek::Verifier as _;
        let secret = [7u8; 32];
        let s = Signer::ed25519_bytes(&secret);
        let mut out = [0; SIGNATURE_CAP];
        let n = s.sign(b"apiKey=k&timestamp=1", &mut out);
        assert_eq!(n, 88);
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&out[..n])
            .unwrap();
        let sig = ed25519_dalek::Signature::from_slice(&raw).unwrap();
        let vk = ed25519_dalek::SigningKey::from_bytes(&secret).verifying_key();
        assert!(vk.verify(b"apiKey=k&timestamp=1", &sig).is_ok());
        assert!(vk.verify(b"apiKey=k&timestamp=2", &sig).is_err());
        assert_eq!(format!("{s:?}"), "Signer::Ed25519(<key>)");
        assert!(matches!(Signer::hmac(b""), Err(KeyError::EmptySecret)));
        assert!(matches!(
            Signer::ed25519_pem("nope"),
            Err(KeyError::BadEd25519)
        ));
    }
}
