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
    spawn_with(s, venue, url, secret, &[])
}

fn spawn_with(s: &SimVenue, venue: &str, url: &str, secret: &str, extra: &[&str]) -> Child {
    let file = secret_file(&format!("{venue}-{}-{}", secret.len(), extra.len()), secret);
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
    .args(extra)
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

fn replace_flow(venue: Venue, name: &str) -> Vec<Value> {
    let s = sim(venue);
    let url = match venue {
        Venue::BinanceUsdm => s.ws_fapi_url(),
        _ => s.ws_api_url(),
    };
    let mut c = spawn(&s, name, &url, SECRET);
    c.send(r#"{"op":"new","symbol":"BTCUSDT","side":"buy","type":"limit","tif":"gtc","price":"100.01","qty":"0.5"}"#);
    let ack = c.until("ack", |v| ty(v) == "ack");
    let id = ack["client_id"].as_str().unwrap().to_owned();
    c.send(r#"{"op":"replace","symbol":"BTCUSDT","client_id":"nope","price":"1","qty":"1"}"#);
    c.send(&format!(
        r#"{{"op":"replace","symbol":"BTCUSDT","client_id":"{id}","price":"100.05","qty":"0.7"}}"#
    ));
    let second = c.until("ack of the replacement", |v| {
        ty(v) == "ack" && v["price"] == "100.05"
    });
    assert_eq!(second["qty"], "0.7");
    let new_id = second["client_id"].as_str().unwrap().to_owned();
    c.send(&format!(
        r#"{{"op":"cancel","symbol":"BTCUSDT","client_id":"{new_id}"}}"#
    ));
    c.until("canceled", |v| {
        ty(v) == "canceled" && v["client_id"] == new_id.as_str()
    });
    let (code, err, seen) = c.finish();
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("error: line 2: client_id \"nope\""), "{err}");
    let first = seen.iter().find(|v| ty(v) == "ack").unwrap();
    let same = first["client_id"] == second["client_id"];
    assert_eq!(same, venue == Venue::BinanceUsdm, "{seen:#?}");
    seen
}

#[test]
fn trade_replace_on_spot_is_a_cancel_replace_with_a_fresh_id() {
    let seen = replace_flow(Venue::BinanceSpot, "binance-spot");
    // The original order is canceled by the replace, the replacement by the cancel.
    assert_eq!(
        seen.iter().filter(|v| ty(v) == "canceled").count(),
        2,
        "{seen:#?}"
    );
}

#[test]
fn trade_replace_on_usdm_amends_in_place() {
    let seen = replace_flow(Venue::BinanceUsdm, "binance-usdm");
    assert_eq!(
        seen.iter().filter(|v| ty(v) == "ack").count(),
        2,
        "{seen:#?}"
    );
    assert_eq!(
        seen.iter().filter(|v| ty(v) == "canceled").count(),
        1,
        "{seen:#?}"
    );
}

#[test]
fn trade_takes_tick_lot_and_limits_from_risk_config_and_flags() {
    let s = sim(Venue::BinanceSpot);
    let dir = secret_file("risk-config", "x").parent().unwrap().to_owned();
    let cfg = dir.join("risk.toml");
    std::fs::write(
        &cfg,
        "[risk]\nmax_qty = \"2\"\n[[risk.instrument]]\nsymbol = \"BTCUSDT\"\ntick_size = \"0.01\"\nlot_size = \"0.00001\"\n",
    )
    .unwrap();
    let mut c = spawn_with(
        &s,
        "binance-spot",
        &s.ws_api_url(),
        SECRET,
        &["--config", cfg.to_str().unwrap(), "--max-qty", "0.75"],
    );
    // 1: more decimals than the tick allows: refused, never rounded.
    c.send(r#"{"op":"new","symbol":"BTCUSDT","side":"buy","type":"limit","price":"100.011","qty":"0.5"}"#);
    // 2: more decimals than the lot allows.
    c.send(r#"{"op":"new","symbol":"BTCUSDT","side":"buy","type":"limit","price":"100.01","qty":"0.000001"}"#);
    // 3: over the flag's max qty (narrower than the file's 2).
    c.send(
        r#"{"op":"new","symbol":"BTCUSDT","side":"buy","type":"limit","price":"100.01","qty":"1"}"#,
    );
    let rej = c.until("max_qty", |v| ty(v) == "reject");
    assert_eq!(rej["reason"], "max_qty");
    assert_eq!(rej["qty"], "1");
    // 4: within every limit and on the grid.
    c.send(r#"{"op":"new","symbol":"BTCUSDT","side":"buy","type":"limit","price":"100.02","qty":"0.75"}"#);
    let ack = c.until("ack", |v| ty(v) == "ack");
    assert_eq!(
        (ack["price"].as_str(), ack["qty"].as_str()),
        (Some("100.02"), Some("0.75"))
    );
    let id = ack["client_id"].as_str().unwrap().to_owned();
    c.send(&format!(
        r#"{{"op":"cancel","symbol":"BTCUSDT","client_id":"{id}"}}"#
    ));
    c.until("canceled", |v| ty(v) == "canceled");
    let (code, err, _) = c.finish();
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("error: line 1: price: "), "{err}");
    assert!(err.contains("error: line 2: qty: "), "{err}");
    assert!(!err.contains("line 3") && !err.contains("line 4"), "{err}");
    assert_eq!(
        s.stats()
            .orders
            .placed
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

#[test]
fn trade_refuses_a_bad_risk_config_or_flag_naming_it() {
    let s = sim(Venue::BinanceSpot);
    let dir = secret_file("risk-bad", "x").parent().unwrap().to_owned();
    let cfg = dir.join("bad.toml");
    std::fs::write(&cfg, "[risk]\nprice_band_bps = 0\n").unwrap();
    for (extra, want) in [
        (
            vec!["--config", cfg.to_str().unwrap()],
            "risk.price_band_bps",
        ),
        (vec!["--max-qty", "-1"], "--max-qty"),
        (vec!["--max-open-orders", "0"], "--max-open-orders"),
    ] {
        let c = spawn_with(&s, "binance-spot", &s.ws_api_url(), SECRET, &extra);
        let (code, err, _) = c.finish();
        assert_eq!(code, Some(2), "{extra:?}: {err}");
        assert!(err.contains(want), "{extra:?}: {err}");
    }
}
