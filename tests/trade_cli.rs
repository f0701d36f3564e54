//! `tickwire trade` against the simulator over wss:// on loopback: orders
//! from standard input, one JSON report line each, `error: line N` for bad
//! input, the secret read from a file and never echoed, exit at end of
//! input once nothing is pending. Every wait is bounded.

#[allow(dead_code)]
#[path = "util/process.rs"]
mod process;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use tickwire::sim::{SimAccount, SimConfig, SimVenue};
use tickwire::types::Venue;

const KEY: &str = "cliKey0001";
const SECRET: &str = "cliSecretNeverPrinted";

fn sim(venue: Venue) -> SimVenue {
    let mut cfg = SimConfig::new(venue, &["BTCUSDT"]);
    cfg.rate = 0;
    cfg.tls = true;
    cfg.accounts = vec![SimAccount::hmac(KEY, SECRET)];
    SimVenue::start(cfg).expect("sim starts")
}

fn secret_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tickwire-trade-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("secret");
    std::fs::write(&p, text).unwrap();
    p
}

struct Child {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    lines: mpsc::Receiver<String>,
    err: Option<std::thread::JoinHandle<String>>,
    seen: Vec<Value>,
}

fn spawn(s: &SimVenue, venue: &str, url: &str, secret: &str) -> Child {
    let file = secret_file(&format!("{venue}-{}", secret.len()), secret);
    let mut cmd = process::tickwire();
    cmd.args([
        "trade",
        "--venue",
        venue,
        "--ws-url",
        url,
        "--api-key-env",
        "TW_TEST_KEY",
    ])
    .arg("--secret-file")
    .arg(&file)
    .arg("--ca-file")
    .arg(s.ca_file().unwrap().unwrap())
    .args(["--seconds", "30"])
    .env("TW_TEST_KEY", KEY)
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let stdin = child.stdin.take();
    let out = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let err = Some(process::drain(child.stderr.take().unwrap()));
    Child {
        child,
        stdin,
        lines,
        err,
        seen: Vec::new(),
    }
}

impl Child {
    fn send(&mut self, line: &str) {
        let i = self.stdin.as_mut().unwrap();
        writeln!(i, "{line}").unwrap();
        i.flush().unwrap();
    }

    /// Reads report lines until one matches (at most 1,000 lines, 20 s).
    fn until(&mut self, what: &str, f: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..1_000 {
            let Ok(l) = self.lines.recv_timeout(Duration::from_secs(20)) else {
                break;
            };
            let v: Value = serde_json::from_str(&l).unwrap_or_else(|e| panic!("{l:?}: {e}"));
            self.seen.push(v.clone());
            if f(&v) {
                return v;
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let err = self
            .err
            .take()
            .map(|e| e.join().unwrap())
            .unwrap_or_default();
        panic!("no {what} in {:#?}; stderr: {err}", self.seen);
    }

    /// Closes standard input and waits for the exit: (status, stderr).
    fn finish(mut self) -> (Option<i32>, String, Vec<Value>) {
        drop(self.stdin.take());
        let code = process::wait_bounded(&mut self.child, Duration::from_secs(20));
        while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200)) {
            self.seen.push(serde_json::from_str(&l).unwrap());
        }
        let err = self
            .err
            .take()
            .map(|e| e.join().unwrap())
            .unwrap_or_default();
        (code, err, self.seen)
    }
}

fn ty(v: &Value) -> &str {
    v["type"].as_str().unwrap_or("")
}

fn trade_new_cancel(venue: Venue, name: &str) {
    let s = sim(venue);
    let url = match venue {
        Venue::BinanceUsdm => s.ws_fapi_url(),
        _ => s.ws_api_url(),
    };
    let mut c = spawn(&s, name, &url, &format!("{SECRET}\n"));
    c.send(r#"{"op":"new","symbol":"BTCUSDT","side":"buy","type":"limit","tif":"gtc","price":"100.01","qty":"0.5"}"#);
    c.send(r#"{"op":"new","symbol":"BTCUSDT","side":"sideways"}"#);
    c.send("not json");
    let ack = c.until("ack", |v| ty(v) == "ack");
    assert_eq!(ack["symbol"], "BTCUSDT");
    assert_eq!(ack["side"], "buy");
    assert_eq!(ack["price"], "100.01");
    assert_eq!(ack["qty"], "0.5");
    assert_eq!(ack["filled_qty"], "0");
    assert!(ack["venue_order_id"].as_u64().unwrap() > 0);
    assert!(ack["ts_ns"].as_u64().unwrap() > 0);
    assert!(ack.get("reason").is_none() && ack.get("last_price").is_none());
    let id = ack["client_id"].as_str().unwrap().to_owned();
    c.send(&format!(
        r#"{{"op":"cancel","symbol":"BTCUSDT","client_id":"{id}"}}"#
    ));
    let done = c.until("canceled", |v| ty(v) == "canceled");
    assert_eq!(done["client_id"], id.as_str());
    let (code, err, seen) = c.finish();
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("error: line 2: "), "{err}");
    assert!(err.contains("error: line 3: "), "{err}");
    assert!(!err.contains("error: line 1:"), "{err}");
    let all = format!("{seen:?}{err}");
    assert!(!all.contains(SECRET), "the secret leaked");
    let orders: Vec<_> = seen.iter().filter(|v| ty(v) != "status").collect();
    assert_eq!(orders.len(), 2, "{seen:#?}");
}

#[test]
fn trade_spot_over_wss_places_cancels_and_exits_at_end_of_input() {
    trade_new_cancel(Venue::BinanceSpot, "binance-spot");
}

#[test]
fn trade_usdm_over_wss_places_cancels_and_exits_at_end_of_input() {
    trade_new_cancel(Venue::BinanceUsdm, "binance-usdm");
}

#[test]
fn trade_reports_a_wrong_secret_and_rejects_orders() {
    let s = sim(Venue::BinanceSpot);
    let mut c = spawn(&s, "binance-spot", &s.ws_api_url(), "notTheSecret\n");
    c.send(r#"{"op":"new","symbol":"BTCUSDT","side":"buy","type":"limit","tif":"post_only","price":"100.01","qty":"0.5"}"#);
    let st = c.until("refusal", |v| {
        ty(v) == "status" && v.get("venue_code").is_some()
    });
    assert_eq!(st["venue_code"], -1022);
    assert_eq!(st["status"], "not_ready");
    let rej = c.until("reject", |v| ty(v) == "reject");
    assert_eq!(rej["reason"], "not_ready");
    let (code, err, _) = c.finish();
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("notTheSecret"));
}
