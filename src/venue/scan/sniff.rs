//! Reading one value out of a frame that did not decode (the error path
//! only): a plain byte scan for a key, since the frame may be malformed
//! anywhere else.

/// The string value after `key` (e.g. `"instId":"`), up to the next `"`.
pub(crate) fn sniff_string<'a>(frame: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let at = frame.windows(key.len()).position(|w| w == key)? + key.len();
    let len = frame[at..].iter().position(|&b| b == b'"')?;
    Some(&frame[at..at + len])
}

#[cfg(test)]
mod tests {
    use super::sniff_string;

    #[test]
    fn finds_the_value_after_the_key_or_nothing() {
        let f = br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"data":[{"asks":[[oops"#;
        assert_eq!(sniff_string(f, br#""instId":""#), Some(&b"BTC-USDT"[..]));
        assert_eq!(sniff_string(f, br#""channel":""#), Some(&b"books"[..]));
        assert_eq!(sniff_string(f, br#""symbol":""#), None);
        // An unterminated value is no value.
        assert_eq!(sniff_string(br#"{"instId":"BTC"#, br#""instId":""#), None);
    }
}
