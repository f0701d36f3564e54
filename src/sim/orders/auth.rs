//! Request authentication exactly as the WebSocket API documents it: the
//! signed payload (every parameter but `signature`, sorted by name,
//! `key=value` joined by `&`), HMAC-SHA256 hex or Ed25519 base64, and the
//! `timestamp` / `recvWindow` check.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

use super::accounts::{SimAccount, SimKey};
use super::error::ApiError;

/// `recvWindow` when the request sends none (ms).
pub(super) const DEFAULT_RECV_WINDOW_MS: u64 = 5_000;
/// The largest `recvWindow` accepted (ms).
pub(super) const MAX_RECV_WINDOW_MS: u64 = 60_000;

/// A parameter's value as it appears in the signed payload: strings
/// without quotes, numbers and booleans as their JSON text.
pub(super) fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The signed payload of `params`: all but `signature`, sorted by name.
pub(super) fn payload(params: &Map<String, Value>) -> Result<String, ApiError> {
    let mut pairs: Vec<(&str, String)> = Vec::with_capacity(params.len());
    for (k, v) in params {
        if k == "signature" {
            continue;
        }
        pairs.push((
            k.as_str(),
            value_text(v).ok_or_else(|| ApiError::illegal(k))?,
        ));
    }
    pairs.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut out = String::with_capacity(256);
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    Ok(out)
}

/// HMAC-SHA256 of `payload` with `secret`, lower-case hex.
pub(super) fn hmac_hex(secret: &[u8], payload: &[u8]) -> String {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(payload);
    let digest = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    hex
}

/// Whether `signature` signs `payload` for `account`.
pub(super) fn verify(account: &SimAccount, payload: &[u8], signature: &str) -> bool {
    match &account.key {
        SimKey::Hmac(secret) => {
            let want = hmac_hex(secret.as_bytes(), payload);
            !want.is_empty() && want.eq_ignore_ascii_case(signature)
        }
        SimKey::Ed25519(public) => {
            let Ok(key) = VerifyingKey::from_bytes(public) else {
                return false;
            };
            let Ok(raw) = STANDARD.decode(signature) else {
                return false;
            };
            let Ok(sig) = Signature::from_slice(&raw) else {
                return false;
            };
            key.verify_strict(payload, &sig).is_ok()
        }
    }
}

/// A number parameter given as a JSON number or a decimal string.
fn number_text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// `timestamp` in µs (a value above 10^14 is taken as µs, else ms).
fn timestamp_us(v: &Value) -> Option<u64> {
    let t: u64 = number_text(v)?.parse().ok()?;
    Some(if t > 100_000_000_000_000 {
        t
    } else {
        t * 1_000
    })
}

/// `recvWindow` in µs: ms with up to three decimals, at most 60000.
fn recv_window_us(v: Option<&Value>) -> Result<u64, ApiError> {
    let Some(v) = v else {
        return Ok(DEFAULT_RECV_WINDOW_MS * 1_000);
    };
    let text = number_text(v).ok_or_else(|| ApiError::illegal("recvWindow"))?;
    let (int, frac) = text.split_once('.').unwrap_or((text.as_str(), ""));
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits_ok(int) || !digits_ok(frac) || frac.len() > 3 {
        return Err(ApiError::illegal("recvWindow"));
    }
    let ms: u64 = int.parse().map_err(|_| ApiError::illegal("recvWindow"))?;
    let mut us = ms.saturating_mul(1_000);
    if !frac.is_empty() {
        let f: u64 = frac.parse().unwrap_or(0);
        us += f * 10u64.pow(3 - frac.len() as u32);
    }
    if us > MAX_RECV_WINDOW_MS * 1_000 {
        return Err(ApiError::bad(
            -1131,
            "recvWindow must be less than or equal to 60000.",
        ));
    }
    Ok(us)
}

/// The documented timing rule: `timestamp < now + 1000 ms` and
/// `now - timestamp <= recvWindow`.
pub(super) fn check_time(params: &Map<String, Value>, now_us: u64) -> Result<(), ApiError> {
    let ts = params
        .get("timestamp")
        .and_then(timestamp_us)
        .ok_or_else(|| ApiError::missing("timestamp"))?;
    let window = recv_window_us(params.get("recvWindow"))?;
    if ts >= now_us + 1_000_000 {
        return Err(ApiError::bad(
            -1021,
            "Timestamp for this request was 1000ms ahead of the server's time.",
        ));
    }
    if now_us.saturating_sub(ts) > window {
        return Err(ApiError::bad(
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_hmac_vector() {
        let secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
        let json = r#"{"symbol":"BTCUSDT","side":"SELL","type":"LIMIT","timeInForce":"GTC",
            "quantity":"0.01000000","price":"52000.00","recvWindow":100,"timestamp":1645423376532,
            "apiKey":"vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
            "signature":"ignored"}"#;
        let params: Map<String, Value> = serde_json::from_str(json).unwrap();
        let p = payload(&params).unwrap();
        assert_eq!(
            p,
            "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
        );
        let sig = "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24";
        assert_eq!(hmac_hex(secret.as_bytes(), p.as_bytes()), sig);
        let acct = SimAccount::hmac("k", secret);
        assert!(verify(&acct, p.as_bytes(), &sig.to_ascii_uppercase()));
        assert!(!verify(&acct, p.as_bytes(), &sig[1..]));
    }

    #[test]
    fn timing_rule_edges() {
        let now = 1_700_000_000_000_000u64;
        let at = |ts_ms: u64, rw: Option<Value>| {
            let mut m = Map::new();
            m.insert("timestamp".into(), Value::from(ts_ms));
            if let Some(rw) = rw {
                m.insert("recvWindow".into(), rw);
            }
            check_time(&m, now).map_err(|e| e.code)
        };
        let now_ms = now / 1_000;
        assert_eq!(at(now_ms + 999, None), Ok(()));
        assert_eq!(at(now_ms + 1_000, None), Err(-1021));
        assert_eq!(at(now_ms - 5_000, None), Ok(()));
        assert_eq!(at(now_ms - 5_001, None), Err(-1021));
        assert_eq!(at(now_ms - 5_001, Some(Value::from(5_001))), Ok(()));
        assert_eq!(at(now_ms, Some(Value::from(60_001))), Err(-1131));
        assert_eq!(at(now_ms - 100, Some(Value::from("99.999"))), Err(-1021));
        assert_eq!(at(now_ms - 100, Some(Value::from("100.5"))), Ok(()));
    }
}
