//! The venue's error replies: HTTP-like status, Binance code and message.

use std::borrow::Cow;

/// One error reply (`"status"`, `"error":{"code","msg"[,"data"]}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ApiError {
    /// 400, 401, 403, 408, 409, 418, 429, ...
    pub(super) status: u16,
    /// Binance's negative error code.
    pub(super) code: i32,
    /// Binance's message.
    pub(super) msg: Cow<'static, str>,
    /// `error.data.retryAfter` (ms since the epoch) for 418 and 429.
    pub(super) retry_after_ms: Option<u64>,
    /// Anything else under `error.data` (cancel-replace's outcomes).
    pub(super) data: Option<serde_json::Value>,
}

impl ApiError {
    pub(super) fn new(status: u16, code: i32, msg: impl Into<Cow<'static, str>>) -> ApiError {
        ApiError {
            status,
            code,
            msg: msg.into(),
            retry_after_ms: None,
            data: None,
        }
    }

    /// A 400 with `code`.
    pub(super) fn bad(code: i32, msg: impl Into<Cow<'static, str>>) -> ApiError {
        ApiError::new(400, code, msg)
    }

    /// -1102: a mandatory parameter is missing or malformed.
    pub(super) fn missing(name: &str) -> ApiError {
        ApiError::bad(
            -1102,
            format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
        )
    }

    /// -1100: a parameter has the wrong form.
    pub(super) fn illegal(name: &str) -> ApiError {
        ApiError::bad(
            -1100,
            format!("Illegal characters found in parameter '{name}'."),
        )
    }

    /// -1022: the signature does not verify.
    pub(super) fn signature() -> ApiError {
        ApiError::bad(-1022, "Signature for this request is not valid.")
    }

    /// -2014: the API key is not even well formed.
    pub(super) fn key_format() -> ApiError {
        ApiError::new(401, -2014, "API-key format invalid.")
    }

    /// -2015: no such API key (or not allowed).
    pub(super) fn key_unknown() -> ApiError {
        ApiError::new(
            401,
            -2015,
            "Invalid API-key, IP, or permissions for action.",
        )
    }

    /// -1121: the symbol is not listed.
    pub(super) fn symbol() -> ApiError {
        ApiError::bad(-1121, "Invalid symbol.")
    }

    /// -1007: the backend did not answer in time; outcome unknown.
    pub(super) fn unknown_outcome() -> ApiError {
        ApiError::new(
            408,
            -1007,
            "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
        )
    }

    /// Adds `error.data.retryAfter`.
    pub(super) fn retry_after(mut self, ms: u64) -> ApiError {
        self.retry_after_ms = Some(ms);
        self
    }
}
