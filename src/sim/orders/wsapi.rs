//! The WebSocket API envelope: one JSON request per text frame
//! (`{"id","method","params"}`, the method optionally version-prefixed),
//! the 418 / weight checks every request passes first, authentication
//! (per-request signature or `session.logon`), and the reply
//! (`{"id","status","result"|"error","rateLimits"}`).

use std::time::Instant;

use serde_json::{Map, Value, json};

use super::accounts::{SimKey, key_format_ok};
use super::auth::{check_time, payload, verify};
use super::error::ApiError;
use super::{ConnKind, Desk, Product, bump};
use crate::sim::market::MarketSim;

/// What the fault machinery decided about the reply being built.
#[derive(Debug, Default)]
pub(super) struct ReplyCtl {
    /// Do not send it.
    pub(super) drop: bool,
    /// Drop the connection instead of replying.
    pub(super) kill: bool,
}

/// A method's request weight; `None` for a method the product lacks.
fn weight(product: Product, method: &str) -> Option<u64> {
    let w = match (product, method) {
        (_, "session.logon" | "session.status" | "session.logout") => 2,
        (_, "order.cancel" | "ping" | "time") => 1,
        (Product::Spot, "order.place" | "order.cancelReplace" | "openOrders.cancelAll") => 1,
        (Product::Spot, "order.status") => 4,
        (
            Product::Spot,
            "userDataStream.subscribe"
            | "userDataStream.subscribe.signature"
            | "userDataStream.unsubscribe",
        ) => 2,
        // USD-M: new orders weigh 0 on the IP limit (they count on ORDERS).
        (Product::Usdm, "order.place") => 0,
        (Product::Usdm, "order.modify" | "order.status") => 1,
        _ => return None,
    };
    Some(w)
}

/// `"v3/order.place"` → `"order.place"`.
fn strip_version(method: &str) -> &str {
    match method.split_once('/') {
        Some((v, rest)) if v.starts_with('v') && v[1..].bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => method,
    }
}

impl Desk {
    /// Handles one request from connection `ci` and queues its reply.
    pub(super) fn request(&mut self, ci: usize, text: &str, books: &[MarketSim]) {
        bump(&self.stats.requests);
        let ConnKind::Api(product) = self.conns[ci].kind else {
            return;
        };
        let now_ms = self.clock.now_ms();
        let parsed: Option<Map<String, Value>> = match serde_json::from_str(text) {
            Ok(Value::Object(m)) => Some(m),
            _ => None,
        };
        let id = parsed
            .as_ref()
            .and_then(|m| m.get("id").cloned())
            .unwrap_or(Value::Null);
        let mut account = None;
        let mut ctl = ReplyCtl::default();
        let mut params = Map::new();
        let result = match parsed {
            None => Err(ApiError::bad(
                -1000,
                "Malformed request: not a JSON object.",
            )),
            Some(mut m) => {
                if let Some(Value::Object(p)) = m.remove("params") {
                    params = p;
                }
                match m.get("method").and_then(Value::as_str) {
                    None => Err(ApiError::missing("method")),
                    Some(method) => {
                        let method = strip_version(method).to_owned();
                        self.guarded(
                            ci,
                            product,
                            &method,
                            &params,
                            books,
                            &mut account,
                            &mut ctl,
                            now_ms,
                        )
                    }
                }
            }
        };
        match &result {
            Err(e) if e.status == 429 || e.status == 418 => bump(&self.stats.breaches),
            Err(_) => bump(&self.stats.rejected),
            Ok(_) => {}
        }
        let mut reply = match result {
            Ok(r) => json!({"id": id, "status": 200, "result": r}),
            Err(e) => {
                let mut err = json!({"code": e.code, "msg": e.msg});
                let mut data = e.data.unwrap_or_else(|| json!({}));
                if let Some(t) = e.retry_after_ms {
                    data["retryAfter"] = t.into();
                }
                if data.as_object().is_some_and(|d| !d.is_empty()) {
                    err["data"] = data;
                }
                json!({"id": id, "status": e.status, "error": err})
            }
        };
        let wants_limits = self.conns[ci].rate_limits
            && !matches!(params.get("returnRateLimits"), Some(Value::Bool(false)))
            && params.get("returnRateLimits").and_then(Value::as_str) != Some("false");
        if wants_limits {
            reply["rateLimits"] = self.venue(product).limits.json(account, now_ms);
        }
        if ctl.kill {
            bump(&self.stats.dropped_replies);
            self.conns[ci].kill();
        } else if ctl.drop {
            bump(&self.stats.dropped_replies);
        } else {
            let due = Instant::now() + self.faults.delay;
            self.conns[ci].send(due, reply.to_string());
        }
        self.dispatch_events();
    }

    /// The ban and weight checks, then the method.
    #[allow(
        clippy::too_many_arguments,
        reason = "one call site; the request's parts"
    )]
    fn guarded(
        &mut self,
        ci: usize,
        product: Product,
        method: &str,
        params: &Map<String, Value>,
        books: &[MarketSim],
        account: &mut Option<usize>,
        ctl: &mut ReplyCtl,
        now_ms: u64,
    ) -> Result<Value, ApiError> {
        self.venue(product).limits.check_ban(now_ms)?;
        let Some(w) = weight(product, method) else {
            self.venue(product).limits.charge_weight(1, now_ms)?;
            return Err(ApiError::bad(-1020, "This operation is not supported."));
        };
        self.venue(product).limits.charge_weight(w, now_ms)?;
        match method {
            "ping" => Ok(json!({})),
            "time" => Ok(json!({"serverTime": now_ms})),
            "session.logon" => self.logon(ci, params, account, now_ms),
            "session.status" => Ok(self.session_status(ci, now_ms)),
            "session.logout" => {
                self.conns[ci].logon = None;
                Ok(self.session_status(ci, now_ms))
            }
            "userDataStream.subscribe" => {
                let a = self.conns[ci].logon.ok_or_else(|| {
                    ApiError::new(
                        401,
                        -2015,
                        "Invalid API-key, IP, or permissions for action.",
                    )
                })?;
                *account = Some(a);
                Ok(self.subscribe(ci, a))
            }
            "userDataStream.subscribe.signature" => {
                let a = self.authenticate(ci, params, true)?;
                *account = Some(a);
                Ok(self.subscribe(ci, a))
            }
            "userDataStream.unsubscribe" => {
                self.conns[ci].user_data = None;
                Ok(json!({}))
            }
            _ => {
                let a = self.authenticate(ci, params, false)?;
                *account = Some(a);
                self.order_method(product, method, a, params, books, ctl, now_ms)
            }
        }
    }

    fn subscribe(&mut self, ci: usize, account: usize) -> Value {
        self.next_sub += 1;
        self.conns[ci].user_data = Some((self.next_sub, account));
        json!({"subscriptionId": self.next_sub})
    }

    fn session_status(&self, ci: usize, now_ms: u64) -> Value {
        let c = &self.conns[ci];
        json!({
            "apiKey": c.logon.map(|a| self.accounts[a].api_key.clone()),
            "authorizedSince": c.logon.map(|_| c.connected_ms),
            "connectedSince": c.connected_ms,
            "returnRateLimits": c.rate_limits,
            "serverTime": now_ms,
            "userDataStream": c.user_data.is_some()
        })
    }

    /// `session.logon`: Ed25519 keys only.
    fn logon(
        &mut self,
        ci: usize,
        params: &Map<String, Value>,
        account: &mut Option<usize>,
        now_ms: u64,
    ) -> Result<Value, ApiError> {
        let a = self.authenticate(ci, params, true)?;
        *account = Some(a);
        if !matches!(self.accounts[a].key, SimKey::Ed25519(_)) {
            return Err(ApiError::bad(
                -4056,
                "HMAC_SHA256 API key is not supported.",
            ));
        }
        self.conns[ci].logon = Some(a);
        Ok(self.session_status(ci, now_ms))
    }

    /// The account a request acts for: its own `apiKey` + `signature`, or
    /// (unless `signed_only`) the connection's `session.logon`; and the
    /// timestamp rule either way.
    pub(super) fn authenticate(
        &self,
        ci: usize,
        params: &Map<String, Value>,
        signed_only: bool,
    ) -> Result<usize, ApiError> {
        let a = match params.get("apiKey") {
            Some(k) => {
                let key = k.as_str().ok_or_else(ApiError::key_format)?;
                if !key_format_ok(key) {
                    return Err(ApiError::key_format());
                }
                let a = self
                    .accounts
                    .iter()
                    .position(|acct| acct.api_key == key)
                    .ok_or_else(ApiError::key_unknown)?;
                let sig = params
                    .get("signature")
                    .and_then(Value::as_str)
                    .ok_or_else(|| ApiError::missing("signature"))?;
                if !verify(&self.accounts[a], payload(params)?.as_bytes(), sig) {
                    return Err(ApiError::signature());
                }
                a
            }
            None if !signed_only => self.conns[ci]
                .logon
                .ok_or_else(|| ApiError::missing("apiKey"))?,
            None => return Err(ApiError::missing("apiKey")),
        };
        check_time(params, self.clock.now_us())?;
        Ok(a)
    }
}
