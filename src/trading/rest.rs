//! USD-M's REST side, on a helper thread so the order-entry thread never
//! blocks on HTTP: the user-data listen key (`POST /fapi/v1/listenKey` at
//! start and on every reconnect, `PUT` as a keepalive every
//! [`RestConfig::keepalive`]), cancel-all (`DELETE /fapi/v1/allOpenOrders`)
//! and the dead-man switch (`POST /fapi/v1/countdownCancelAll`).
//!
//! The order-entry thread hands [`RestJob`]s over one rtrb ring and takes
//! [`RestDone`]s from another, then unparks the helper: no lock, no
//! allocation and no blocking call on its side. The helper allocates and
//! blocks as HTTP needs; it signs with its own copy of the key (the query
//! string exactly as sent, `signature` last, URL-encoded), timestamped in
//! venue time from the offset the order thread publishes.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::thread::{JoinHandle, Thread};
use std::time::Duration;

use crate::orders::json::{Fields, Val, int, object};
use crate::orders::{Reply, VenueText};
use crate::types::{InstrumentId, Nanos};
use crate::venue::binance::orders::{SIGNATURE_CAP, Signer, TIMEOUT_UNKNOWN};

use super::thread::utc_now;

/// Capacity of a listen key (Binance's are 64 characters).
pub(crate) const LISTEN_KEY_CAP: usize = 96;

/// A listen key, stored inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct ListenKey {
    len: u8,
    bytes: [u8; LISTEN_KEY_CAP],
}

impl ListenKey {
    /// The key, if `text` is 1..=96 URL-safe characters.
    pub(crate) fn new(text: &str) -> Option<ListenKey> {
        let b = text.as_bytes();
        let ok = !b.is_empty()
            && b.len() <= LISTEN_KEY_CAP
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(c));
        if !ok {
            return None;
        }
        let mut bytes = [0; LISTEN_KEY_CAP];
        bytes[..b.len()].copy_from_slice(b);
        Some(ListenKey {
            len: b.len() as u8,
            bytes,
        })
    }

    /// The key's text.
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl std::fmt::Debug for ListenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A listen key reads the account's private stream: not printed.
        f.write_str("ListenKey(<redacted>)")
    }
}

/// Work for the helper thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RestJob {
    /// `POST /fapi/v1/listenKey`: a key for the user-data stream (the
    /// venue returns the live one if there is one), then keep it alive.
    ListenKey,
    /// `DELETE /fapi/v1/allOpenOrders` for the gate's request `req`.
    CancelAll {
        /// The gate's request id.
        req: u64,
        /// Which symbol.
        instrument: InstrumentId,
    },
    /// `POST /fapi/v1/countdownCancelAll`: arm (`ms > 0`) or disarm (0)
    /// the venue's dead-man switch for one symbol.
    Countdown {
        /// Which symbol.
        instrument: InstrumentId,
        /// Countdown in ms (0 disarms).
        ms: u32,
    },
}

/// What the helper thread reports back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RestDone {
    /// A listen key, or why none came (HTTP status, 0 for no answer).
    ListenKey(Result<ListenKey, u16>),
    /// The keepalive said the key is gone: open a new one.
    KeyLost,
    /// The answer to a cancel-all: the gate's evidence.
    CancelAll {
        /// The gate's request id.
        req: u64,
        /// What the venue said (`Unknown` when no answer came).
        reply: Reply,
        /// HTTP status (0: no answer).
        status: u16,
        /// `Retry-After` as UTC ns (0 if not given).
        retry_after: Nanos,
    },
    /// The answer to a countdown request (HTTP status, 0: no answer).
    Countdown {
        /// Which symbol.
        instrument: InstrumentId,
        /// The countdown that was asked for.
        ms: u32,
        /// HTTP status (0: no answer).
        status: u16,
    },
}

/// What the helper thread needs.
pub(crate) struct RestConfig {
    /// `http[s]://host[:port]`, no trailing slash.
    pub(crate) base: String,
    /// Sent as `X-MBX-APIKEY`.
    pub(crate) api_key: String,
    /// Signs the REST query strings.
    pub(crate) signer: Signer,
    /// Venue symbols by instrument index (empty: unknown).
    pub(crate) symbols: Vec<String>,
    /// `recvWindow` (ms).
    pub(crate) recv_window_ms: u32,
    /// Extra CA certificates for https.
    pub(crate) ca: Option<Vec<rustls::pki_types::CertificateDer<'static>>>,
    /// Per-request timeout.
    pub(crate) timeout: Duration,
    /// How often a live listen key is kept alive (Binance: within 60 min).
    pub(crate) keepalive: Duration,
}

/// The order thread's end of the helper.
pub(crate) struct RestPort {
    jobs: rtrb::Producer<RestJob>,
    done: rtrb::Consumer<RestDone>,
    helper: Thread,
    stop: Arc<AtomicBool>,
    /// Venue clock offset (ns) published for the helper's timestamps.
    offset: Arc<AtomicI64>,
    join: Option<JoinHandle<()>>,
}

impl RestPort {
    /// Starts the helper thread.
    pub(crate) fn spawn(cfg: RestConfig) -> std::io::Result<RestPort> {
        let (jobs, job_rx) = rtrb::RingBuffer::new(1024);
        let (done_tx, done) = rtrb::RingBuffer::new(1024);
        let stop = Arc::new(AtomicBool::new(false));
        let offset = Arc::new(AtomicI64::new(0));
        let mut worker = Worker {
            agent: crate::engine::worker::agent(cfg.ca.as_deref(), cfg.timeout),
            cfg,
            jobs: job_rx,
            done: done_tx,
            stop: stop.clone(),
            offset: offset.clone(),
            key: None,
            kept_at: std::time::Instant::now(),
        };
        let join = std::thread::Builder::new()
            .name("tickwire-rest".into())
            .spawn(move || worker.run())?;
        Ok(RestPort {
            jobs,
            done,
            helper: join.thread().clone(),
            stop,
            offset,
            join: Some(join),
        })
    }

    /// Hands a job over; `false` when the ring is full (nothing queued).
    pub(crate) fn push(&mut self, job: RestJob) -> bool {
        let ok = self.jobs.push(job).is_ok();
        self.helper.unpark();
        ok
    }

    /// The next answer, if any.
    pub(crate) fn pop(&mut self) -> Option<RestDone> {
        self.done.pop().ok()
    }

    /// Publishes the venue clock offset (ns) for request timestamps.
    pub(crate) fn set_offset(&self, ns: i64) {
        self.offset.store(ns, Ordering::Relaxed);
    }
}

impl Drop for RestPort {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.helper.unpark();
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

/// One HTTP answer: status (0 = none), body, `Retry-After` seconds.
struct Answer {
    status: u16,
    body: String,
    retry_after_s: Option<u64>,
}

/// The helper thread.
struct Worker {
    cfg: RestConfig,
    agent: ureq::Agent,
    jobs: rtrb::Consumer<RestJob>,
    done: rtrb::Producer<RestDone>,
    stop: Arc<AtomicBool>,
    offset: Arc<AtomicI64>,
    /// The live listen key (kept alive while set).
    key: Option<ListenKey>,
    kept_at: std::time::Instant,
}

impl Worker {
    fn run(&mut self) {
        while !self.stop.load(Ordering::Acquire) {
            let mut busy = false;
            while let Ok(job) = self.jobs.pop() {
                busy = true;
                let mut out = self.job(job);
                // The order thread drains every turn; a full ring means it
                // is busy or stopping: wait (until it drains or the thread
                // is stopped) rather than lose evidence.
                loop {
                    match self.done.push(out) {
                        Ok(()) => break,
                        Err(rtrb::PushError::Full(o)) => out = o,
                    }
                    if self.stop.load(Ordering::Acquire) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            if self.key.is_some() && self.kept_at.elapsed() >= self.cfg.keepalive {
                self.keepalive();
            }
            if !busy {
                std::thread::park_timeout(Duration::from_millis(250));
            }
        }
    }

    fn job(&mut self, job: RestJob) -> RestDone {
        match job {
            RestJob::ListenKey => RestDone::ListenKey(self.listen_key("POST")),
            RestJob::CancelAll { req, instrument } => {
                let a = self.signed("DELETE", "/fapi/v1/allOpenOrders", instrument, None);
                let now = utc_now();
                let retry_after = a
                    .retry_after_s
                    .map_or(0, |s| now.saturating_add(s.saturating_mul(1_000_000_000)));
                RestDone::CancelAll {
                    req,
                    reply: classify(&a),
                    status: a.status,
                    retry_after,
                }
            }
            RestJob::Countdown { instrument, ms } => {
                let a = self.signed(
                    "POST",
                    "/fapi/v1/countdownCancelAll",
                    instrument,
                    Some(("countdownTime", ms)),
                );
                if a.status != 200 {
                    tracing::warn!(
                        status = a.status,
                        countdown_ms = ms,
                        "dead-man switch (countdownCancelAll) not confirmed"
                    );
                }
                RestDone::Countdown {
                    instrument,
                    ms,
                    status: a.status,
                }
            }
        }
    }

    fn keepalive(&mut self) {
        self.kept_at = std::time::Instant::now();
        match self.listen_key("PUT") {
            Ok(_) => {}
            Err(status) if (400..500).contains(&status) => {
                self.key = None;
                let _ = self.done.push(RestDone::KeyLost);
            }
            // No answer or 5xx: try again at the next keepalive.
            Err(_) => {}
        }
    }

    fn listen_key(&mut self, method: &str) -> Result<ListenKey, u16> {
        let url = format!("{}/fapi/v1/listenKey", self.cfg.base);
        let a = self.call(method, &url);
        if a.status != 200 {
            tracing::warn!(status = a.status, method, "listen key request failed");
            return Err(a.status);
        }
        let key = member(a.body.as_bytes(), b"listenKey")
            .and_then(|v| match v {
                Val::Str(s) => std::str::from_utf8(s).ok().and_then(ListenKey::new),
                _ => None,
            })
            .ok_or(200u16)?;
        self.key = Some(key);
        self.kept_at = std::time::Instant::now();
        Ok(key)
    }

    /// A signed request on `symbol` (+ one extra numeric parameter).
    fn signed(
        &mut self,
        method: &str,
        path: &str,
        instrument: InstrumentId,
        extra: Option<(&str, u32)>,
    ) -> Answer {
        let Some(symbol) = self.cfg.symbols.get(instrument.index()).cloned() else {
            return Answer {
                status: 400,
                body: r#"{"code":-1121,"msg":"Invalid symbol."}"#.into(),
                retry_after_s: None,
            };
        };
        let now = utc_now() as i64 + self.offset.load(Ordering::Relaxed);
        let mut q = format!("symbol={symbol}");
        if let Some((k, v)) = extra {
            q.push_str(&format!("&{k}={v}"));
        }
        if self.cfg.recv_window_ms > 0 {
            q.push_str(&format!("&recvWindow={}", self.cfg.recv_window_ms));
        }
        q.push_str(&format!("&timestamp={}", now.max(0) / 1_000_000));
        let mut sig = [0u8; SIGNATURE_CAP];
        let n = self.cfg.signer.sign(q.as_bytes(), &mut sig);
        q.push_str("&signature=");
        for &b in &sig[..n] {
            match b {
                b'+' => q.push_str("%2B"),
                b'/' => q.push_str("%2F"),
                b'=' => q.push_str("%3D"),
                _ => q.push(b as char),
            }
        }
        let url = format!("{}{path}?{q}", self.cfg.base);
        self.call(method, &url)
    }

    fn call(&self, method: &str, url: &str) -> Answer {
        let key = self.cfg.api_key.as_str();
        let result = match method {
            "POST" => self
                .agent
                .post(url)
                .header("X-MBX-APIKEY", key)
                .send_empty(),
            "PUT" => self.agent.put(url).header("X-MBX-APIKEY", key).send_empty(),
            _ => self.agent.delete(url).header("X-MBX-APIKEY", key).call(),
        };
        match result {
            Ok(mut r) => {
                let retry_after_s = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse().ok());
                let mut body = String::new();
                let _ = r
                    .body_mut()
                    .as_reader()
                    .take(1 << 20)
                    .read_to_string(&mut body);
                Answer {
                    status: r.status().as_u16(),
                    body,
                    retry_after_s,
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "REST request got no answer");
                Answer {
                    status: 0,
                    body: String::new(),
                    retry_after_s: None,
                }
            }
        }
    }
}

/// A REST answer as gate evidence: 200 is done; 4xx (and 429/418) refused
/// with the venue's code; no answer or 5xx unknown.
fn classify(a: &Answer) -> Reply {
    let body = a.body.as_bytes();
    let code = match member(body, b"code") {
        Some(Val::Num(n)) => int(n).and_then(|c| i32::try_from(c).ok()).unwrap_or(0),
        _ => 0,
    };
    let text = match member(body, b"msg") {
        Some(Val::Str(s)) => VenueText::new(s),
        _ => VenueText::EMPTY,
    };
    match a.status {
        200 => Reply::Done,
        400..=499 => Reply::Refused { code, text },
        0 => Reply::Unknown {
            code: TIMEOUT_UNKNOWN,
            text: VenueText::new(b"no answer"),
        },
        _ => Reply::Unknown { code, text },
    }
}

/// A top-level member of a JSON object body.
fn member<'a>(body: &'a [u8], key: &[u8]) -> Option<Val<'a>> {
    let root = object(body).ok()?;
    Fields::new(root)
        .map_while(Result::ok)
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_keys_are_checked_and_never_printed() {
        let k = ListenKey::new("pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1")
            .unwrap();
        assert_eq!(k.as_str().len(), 64);
        assert_eq!(format!("{k:?}"), "ListenKey(<redacted>)");
        assert!(ListenKey::new("").is_none());
        assert!(ListenKey::new("a/b").is_none());
        assert!(ListenKey::new(&"a".repeat(97)).is_none());
    }

    #[test]
    fn members_are_read_in_any_order() {
        let body = br#"{"x":[1,{"a":2}],"listenKey":"abc","code":-5}"#;
        assert_eq!(member(body, b"listenKey"), Some(Val::Str(b"abc")));
        assert_eq!(member(body, b"code"), Some(Val::Num(b"-5")));
        assert_eq!(member(body, b"nope"), None);
        assert_eq!(member(b"not json", b"code"), None);
    }

    #[test]
    fn rest_answers_classify_as_evidence() {
        let a = |status, body: &str| Answer {
            status,
            body: body.into(),
            retry_after_s: None,
        };
        assert_eq!(
            classify(&a(200, r#"{"code":200,"msg":"done"}"#)),
            Reply::Done
        );
        assert_eq!(
            classify(&a(400, r#"{"code":-1121,"msg":"Invalid symbol."}"#)),
            Reply::Refused {
                code: -1121,
                text: VenueText::new(b"Invalid symbol.")
            }
        );
        assert!(matches!(classify(&a(0, "")), Reply::Unknown { .. }));
        assert!(matches!(
            classify(&a(503, "{}")),
            Reply::Unknown { code: 0, .. }
        ));
    }
}
