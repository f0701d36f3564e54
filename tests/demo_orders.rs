//! `tickwire demo --orders RATE --json`: the report's `orders` block has
//! exactly its documented keys, orders were sent and acked, the simulator
//! counted no limit breach and no duplicate, and the latency percentiles
//! are ordered.

use std::time::Duration;

mod util;

use util::process::{run_bounded, tickwire};

fn orders_block(extra: &[&str]) -> serde_json::Value {
    let mut cmd = tickwire();
    cmd.args([
        "demo",
        "--orders",
        "200",
        "--seconds",
        "3",
        "--rate",
        "20000",
        "--json",
    ]);
    cmd.args(extra);
    let (code, out, err) = run_bounded(cmd, Duration::from_secs(90));
    assert_eq!(code, Some(0), "stderr: {err}");
    let lines: Vec<&str> = out.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "stdout must be one JSON object: {out}");
    assert!(
        err.contains("orders sent"),
        "the live view shows orders: {err}"
    );
    let v: serde_json::Value = serde_json::from_str(lines[0]).expect("JSON");
    // The feed's report is still there.
    assert!(v["messages"].is_u64(), "{v}");
    v["orders"].clone()
}

fn check(o: &serde_json::Value) {
    let keys: Vec<&str> = o
        .as_object()
        .expect("an orders object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut want = vec![
        "sent",
        "acked",
        "rejected",
        "filled",
        "canceled",
        "in_doubt",
        "limit_breaches",
        "duplicates",
        "latency_ns",
    ];
    let mut got = keys.clone();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want, "{o}");
    for k in &want[..] {
        if *k != "latency_ns" {
            assert!(o[k].is_u64(), "{k} in {o}");
        }
    }
    let n = |k: &str| o[k].as_u64().unwrap_or(0);
    assert!(n("sent") > 0, "{o}");
    assert!(n("acked") > 0, "{o}");
    assert_eq!(n("limit_breaches"), 0, "{o}");
    assert_eq!(n("duplicates"), 0, "{o}");
    // Every outcome answers a request that was sent.
    assert!(n("acked") + n("rejected") <= n("sent"), "{o}");
    let lat = o["latency_ns"].as_object().expect("latency_ns");
    let mut stages: Vec<&str> = lat.keys().map(String::as_str).collect();
    stages.sort_unstable();
    assert_eq!(stages, ["push_to_wire", "wire_to_ack"], "{o}");
    for stage in stages {
        let p = &lat[stage];
        let mut ps: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
        ps.sort_unstable();
        assert_eq!(ps, ["max", "p50", "p90", "p99", "p999"], "{stage}: {o}");
        let v: Vec<u64> = ["p50", "p90", "p99", "p999", "max"]
            .iter()
            .map(|k| p[k].as_u64().expect("a number"))
            .collect();
        assert!(v[0] > 0, "{stage} recorded nothing: {o}");
        assert!(
            v.windows(2).all(|w| w[0] <= w[1]),
            "{stage} out of order: {o}"
        );
    }
}

#[test]
fn demo_orders_json_block() {
    check(&orders_block(&[]));
}

#[test]
fn demo_orders_over_tls() {
    check(&orders_block(&["--tls"]));
}
