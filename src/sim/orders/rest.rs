//! USD-M's REST side of order entry: `POST`/`PUT /fapi/v1/listenKey` (the
//! user-data stream's key, `X-MBX-APIKEY` header), `DELETE
//! /fapi/v1/allOpenOrders` and `POST /fapi/v1/countdownCancelAll` (the
//! dead-man switch: `countdownTime` ms, 0 disarms; when it runs out the
//! symbol's open orders are canceled). Signed calls carry a query string
//! whose signature covers the query exactly as sent, without its
//! `signature` parameter.

use serde_json::{Map, Value, json};

use super::accounts::key_format_ok;
use super::auth::{check_time, verify};
use super::error::ApiError;
use super::{Desk, Product, bump};

/// A REST request the HTTP layer hands to the desk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(in crate::sim) struct RestCall {
    /// `GET`, `POST`, `PUT`, `DELETE`.
    pub(in crate::sim) method: String,
    /// The path without the query.
    pub(in crate::sim) path: String,
    /// The query string (or form body), as sent.
    pub(in crate::sim) query: String,
    /// The `X-MBX-APIKEY` header.
    pub(in crate::sim) api_key: Option<String>,
}

/// The answer: status, JSON body, and `Retry-After` (s) on 418 / 429.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(in crate::sim) struct RestAnswer {
    pub(in crate::sim) status: u16,
    pub(in crate::sim) body: String,
    pub(in crate::sim) retry_after_s: Option<u64>,
}

/// Whether the desk serves this REST path.
pub(in crate::sim) fn is_order_path(path: &str) -> bool {
    matches!(
        path,
        "/fapi/v1/listenKey" | "/fapi/v1/allOpenOrders" | "/fapi/v1/countdownCancelAll"
    )
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Percent-decoding (`+` is a space), for query values.
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Desk {
    /// A signed REST call: its account, symbol index and parameters, after
    /// the signature, `timestamp` and `recvWindow` checks.
    fn signed_call(&self, call: &RestCall) -> Result<(usize, usize, Map<String, Value>), ApiError> {
        let a = self.rest_account(call)?;
        let (signed, sig) = match call.query.rfind("&signature=") {
            Some(i) => (&call.query[..i], decode(&call.query[i + 11..])),
            None => return Err(ApiError::missing("signature")),
        };
        if !verify(&self.accounts[a], signed.as_bytes(), &sig) {
            return Err(ApiError::signature());
        }
        let mut params = Map::new();
        for kv in signed.split('&') {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            params.insert(decode(k), Value::String(decode(v)));
        }
        check_time(&params, self.clock.now_us())?;
        let s = params
            .get("symbol")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::missing("symbol"))?;
        let symbol = self
            .symbols
            .iter()
            .position(|x| x == s)
            .ok_or_else(ApiError::symbol)?;
        Ok((a, symbol, params))
    }

    /// Fires the dead-man switches whose countdown ran out.
    pub(in crate::sim) fn countdowns_due(&mut self) {
        if self.countdowns.is_empty() {
            return;
        }
        let now_ms = self.clock.now_ms();
        let due: Vec<(usize, usize, u64)> = self
            .countdowns
            .iter()
            .copied()
            .filter(|c| c.2 <= now_ms)
            .collect();
        if due.is_empty() {
            return;
        }
        self.countdowns.retain(|c| c.2 > now_ms);
        for (a, symbol, _) in due {
            self.cancel_all(Product::Usdm, a, symbol, now_ms);
            bump(&self.stats.countdowns_fired);
        }
        self.dispatch_events();
    }

    /// Answers a REST call.
    pub(in crate::sim) fn rest(&mut self, call: &RestCall) -> RestAnswer {
        bump(&self.stats.requests);
        let now_ms = self.clock.now_ms();
        let result = self.rest_inner(call, now_ms);
        match result {
            Ok(body) => RestAnswer {
                status: 200,
                body: body.to_string(),
                retry_after_s: None,
            },
            Err(e) => {
                if e.status == 429 || e.status == 418 {
                    bump(&self.stats.breaches);
                } else {
                    bump(&self.stats.rejected);
                }
                RestAnswer {
                    status: e.status,
                    body: json!({"code": e.code, "msg": e.msg}).to_string(),
                    retry_after_s: e
                        .retry_after_ms
                        .map(|t| t.saturating_sub(now_ms).div_ceil(1_000)),
                }
            }
        }
    }

    fn rest_account(&self, call: &RestCall) -> Result<usize, ApiError> {
        let key = call.api_key.as_deref().ok_or_else(ApiError::key_format)?;
        if !key_format_ok(key) {
            return Err(ApiError::key_format());
        }
        self.accounts
            .iter()
            .position(|a| a.api_key == key)
            .ok_or_else(ApiError::key_unknown)
    }

    fn rest_inner(&mut self, call: &RestCall, now_ms: u64) -> Result<Value, ApiError> {
        let p = Product::Usdm;
        self.venue(p).limits.check_ban(now_ms)?;
        self.venue(p).limits.charge_weight(1, now_ms)?;
        match (call.method.as_str(), call.path.as_str()) {
            ("POST" | "PUT", "/fapi/v1/listenKey") => {
                let a = self.rest_account(call)?;
                if let Some((k, _)) = self.listen_keys.iter().find(|(_, acct)| *acct == a) {
                    if call.method == "PUT" {
                        bump(&self.stats.listen_key_keepalives);
                    }
                    return Ok(json!({"listenKey": k}));
                }
                if call.method == "PUT" {
                    return Err(ApiError::bad(-1125, "This listenKey does not exist."));
                }
                let key = format!("simListenKey{a:04}{:044}", self.next_order_id);
                self.listen_keys.push((key.clone(), a));
                Ok(json!({"listenKey": key}))
            }
            ("DELETE", "/fapi/v1/allOpenOrders") => {
                let (a, symbol, _) = self.signed_call(call)?;
                self.cancel_all(p, a, symbol, now_ms);
                self.dispatch_events();
                Ok(json!({"code": 200, "msg": "The operation of cancel all open order is done."}))
            }
            ("POST", "/fapi/v1/countdownCancelAll") => {
                let (a, symbol, params) = self.signed_call(call)?;
                let ms: u64 = params
                    .get("countdownTime")
                    .and_then(Value::as_str)
                    .ok_or_else(|| ApiError::missing("countdownTime"))?
                    .parse()
                    .map_err(|_| ApiError::illegal("countdownTime"))?;
                self.countdowns.retain(|&(x, s, _)| (x, s) != (a, symbol));
                if ms == 0 {
                    bump(&self.stats.countdowns_disarmed);
                } else {
                    self.countdowns.push((a, symbol, now_ms + ms));
                    bump(&self.stats.countdowns_armed);
                    self.stats
                        .countdown_ms
                        .store(ms, std::sync::atomic::Ordering::Relaxed);
                }
                Ok(json!({"symbol": self.symbols[symbol], "countdownTime": ms.to_string()}))
            }
            _ => Err(ApiError::new(
                404,
                -1020,
                "This operation is not supported.",
            )),
        }
    }
}
