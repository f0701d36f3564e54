//! The `tickwire` binary's contracts: `demo --json` keys, `tap` JSON lines
//! against the simulated venue, and configuration errors that name the key.

use std::time::Duration;

mod util;

use tickwire::sim::{SimConfig, SimVenue};
use tickwire::types::Venue;
use util::process::{run_bounded, tickwire};

#[test]
fn demo_json_report_has_the_contract_keys() {
    let mut cmd = tickwire();
    cmd.args(["demo", "--seconds", "2", "--rate", "20000", "--json"]);
    let (code, out, err) = run_bounded(cmd, Duration::from_secs(60));
    assert_eq!(code, Some(0), "stderr: {err}");
    let lines: Vec<&str> = out.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "stdout must be exactly one JSON object: {out}"
    );
    let v: serde_json::Value = serde_json::from_str(lines[0]).expect("JSON");
    for key in [
        "messages",
        "msgs_per_sec",
        "gaps",
        "resyncs",
        "reconnects",
        "drops",
    ] {
        assert!(v[key].is_u64(), "{key} missing in {v}");
    }
    // Messages flowed; how many a loaded machine manages in 2 s is a
    // benchmark's business, not a test's.
    assert!(v["messages"].as_u64().unwrap_or(0) > 0, "{v}");
    for stage in [
        "readable_to_decoded",
        "decoded_to_pushed",
        "pushed_to_popped",
        "total",
    ] {
        for p in ["p50", "p90", "p99", "p999", "max"] {
            assert!(
                v["latency_ns"][stage][p].is_u64(),
                "latency_ns.{stage}.{p} missing in {v}"
            );
        }
        assert!(v["latency_ns"][stage]["p50"].as_u64() <= v["latency_ns"][stage]["max"].as_u64());
    }
    assert!(
        err.contains("msg/s"),
        "the live view goes to stderr with --json: {err}"
    );
}

#[test]
fn tap_prints_exact_json_events_with_snapshot_brackets() {
    let mut cfg = SimConfig::new(Venue::BinanceSpot, &["BTCUSDT"]);
    cfg.rate = 2_000;
    cfg.tls = true;
    let sim = SimVenue::start(cfg).expect("sim");
    let ca = std::env::temp_dir().join(format!("tickwire-cli-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, sim.ca_pem().expect("pem")).expect("write ca");
    let mut cmd = tickwire();
    cmd.args([
        "tap",
        "--venue",
        "binance-spot",
        "--symbols",
        "BTCUSDT",
        "--seconds",
        "3",
    ])
    .args(["--ws-url", &sim.ws_url(), "--rest-url", &sim.rest_url()])
    .arg("--ca-file")
    .arg(&ca);
    let (code, out, err) = run_bounded(cmd, Duration::from_secs(30));
    let _ = std::fs::remove_file(&ca);
    assert_eq!(code, Some(0), "stderr: {err}");
    let events: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let kinds = |t: &str| events.iter().filter(|e| e["type"] == t).count();
    assert!(
        kinds("level") > 100 && kinds("bbo") > 10 && kinds("trade") > 10,
        "{} events",
        events.len()
    );
    let begin = events
        .iter()
        .position(|e| e["status"] == "snapshot_begin")
        .expect("snapshot_begin");
    let end = events
        .iter()
        .position(|e| e["status"] == "snapshot_end")
        .expect("snapshot_end");
    assert!(begin < end);
    assert!(
        events[begin + 1..end]
            .iter()
            .all(|e| e["type"] == "level" && e["snapshot"] == true)
    );
    for e in &events {
        assert_eq!(e["venue"], "binance-spot");
        assert_eq!(e["symbol"], "BTCUSDT");
        if e["type"] == "level" {
            let price = e["price"].as_str().expect("price is a string");
            assert!(
                !price.ends_with('0') || !price.contains('.'),
                "trailing zeros trimmed: {price}"
            );
            assert!(
                price.parse::<u64>().is_ok()
                    || price.split_once('.').is_some_and(|(_, f)| f.len() <= 2)
            );
            assert!(["bid", "ask"].contains(&e["side"].as_str().unwrap_or("")));
        }
    }
    let bbo = events.iter().find(|e| e["type"] == "bbo").expect("bbo");
    for k in ["bid_price", "bid_qty", "ask_price", "ask_qty"] {
        assert!(bbo[k].is_string(), "{k}: {bbo}");
    }
    let trade = events.iter().find(|e| e["type"] == "trade").expect("trade");
    assert!(
        ["buy", "sell"].contains(&trade["aggressor"].as_str().unwrap_or("")),
        "{trade}"
    );
}

#[test]
fn bad_config_names_the_key() {
    let path = std::env::temp_dir().join(format!("tickwire-bad-{}.toml", std::process::id()));
    std::fs::write(
        &path,
        "[[venue]]\nname = \"binance-spot\"\nsymbols = [\"BTCUSDT\"]\ndepth_interval_ms = 7\n",
    )
    .expect("write");
    let mut cmd = tickwire();
    cmd.arg("run").arg("--config").arg(&path);
    let (code, _, err) = run_bounded(cmd, Duration::from_secs(30));
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, Some(2));
    assert!(err.contains("venue[0].depth_interval_ms"), "{err}");
    let mut cmd = tickwire();
    cmd.args(["run", "--config", "/nonexistent/tickwire.toml"]);
    let (code, _, err) = run_bounded(cmd, Duration::from_secs(30));
    assert_eq!(code, Some(2));
    assert!(err.contains("/nonexistent/tickwire.toml"), "{err}");
}
