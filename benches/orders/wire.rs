//! Strategy push → bytes written to a loopback socket, end to end, by the
//! real order-entry thread, against a typical design in the same run.
//!
//! * tickwire: `Requests::push` (stamped) → rtrb → the order-entry thread
//!   (risk, limits, state, sign, encode, WebSocket frame) → `write` on a
//!   mio TCP socket; the thread's own histogram (`push_to_wire`, stamped
//!   when the write call returned). HMAC and Ed25519 (after
//!   `session.logon`, as the thread does), spinning on its own core, and
//!   HMAC with the default sleep-and-wake policy.
//! * baseline: `std::sync::mpsc` channel (blocking `recv`) → the request
//!   built with `format!` + `hmac` + `serde_json` → tungstenite `send` on a
//!   blocking `std::net::TcpStream`; stamped when `send` returned.
//!
//! Both push one order every [`GAP`], so each measures an idle path, not a
//! queue. The peer is a minimal WebSocket server on 127.0.0.1: it answers
//! tickwire's control requests and fills every order at once (so the
//! order table and the unfilled-order count stay flat); for the baseline
//! it only reads.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tickwire::metrics::Percentiles;
use tickwire::orders::{NewOrder, OrderType, Request, TimeInForce};
use tickwire::trading::{KeyMaterial, OrderEntry, TradingConfig, WaitPolicy};
use tickwire::types::{Clock, InstrumentId, MonotonicClock, Price, Qty, Registry, Side, Venue};
use tickwire::venue::binance::orders::Market;
use tungstenite::Message;

use super::{Baseline, KEY, Path, SECRET};

/// Orders measured per run (after [`WARMUP`]). Spot's REQUEST_WEIGHT is
/// 6,000 a minute: a run stays under it, so no order is refused.
const ORDERS: u64 = 2_000;
const WARMUP: u64 = 300;
/// Time between two pushes.
const GAP: Duration = Duration::from_micros(1_000);

/// A minimal WebSocket peer on loopback (one connection).
fn peer(answer: bool) -> (SocketAddr, JoinHandle<u64>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let t = std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return 0;
        };
        let _ = stream.set_nodelay(true);
        let Ok(mut ws) = tungstenite::accept(stream) else {
            return 0;
        };
        let mut n = 0u64;
        while let Ok(m) = ws.read() {
            let Message::Text(t) = m else { continue };
            n += 1;
            if answer
                && let Some(reply) = reply_to(t.as_str(), n)
                && ws.send(Message::text(reply)).is_err()
            {
                break;
            }
        }
        n
    });
    (addr, t)
}

/// The peer's answer: an order filled at once, or an empty success.
fn reply_to(text: &str, n: u64) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let id = v["id"].clone();
    if v["method"] != "order.place" {
        return Some(serde_json::json!({"id": id, "status": 200, "result": {}}).to_string());
    }
    let p = &v["params"];
    let (price, qty) = (p["price"].clone(), p["quantity"].clone());
    let result = serde_json::json!({
        "symbol": p["symbol"], "orderId": n, "orderListId": -1,
        "clientOrderId": p["newClientOrderId"], "transactTime": 1, "price": price,
        "origQty": qty, "executedQty": qty, "cummulativeQuoteQty": "0", "status": "FILLED",
        "timeInForce": p["timeInForce"], "type": p["type"], "side": p["side"], "workingTime": 1,
        "fills": [{"price": price, "qty": qty, "commission": "0", "commissionAsset": "USDT",
                   "tradeId": n}]
    });
    Some(serde_json::json!({"id": id, "status": 200, "result": result}).to_string())
}

fn order(client_id: tickwire::orders::ClientId, i: u64) -> NewOrder {
    NewOrder {
        client_id,
        instrument: InstrumentId(0),
        side: Side::Bid,
        kind: OrderType::Limit,
        tif: TimeInForce::Gtc,
        price: Price(4_300_001 + (i % 64) as i64),
        qty: Qty(50_000),
    }
}

/// Drains the reports; returns how many were rejects.
fn drain(r: &mut rtrb::Consumer<tickwire::orders::ExecReport>) -> u64 {
    let mut n = 0;
    while let Ok(r) = r.pop() {
        n += u64::from(r.kind == tickwire::orders::ReportKind::Reject);
    }
    n
}

/// Waits until `t`, spinning.
fn until(t: Instant) {
    while Instant::now() < t {
        std::hint::spin_loop();
    }
}

/// What one tickwire run measured.
struct Run {
    /// Orders refused locally (`rate_limit`: the peer was slow to answer
    /// and 50 orders were unfilled, Binance's 10-s limit).
    refused: u64,
    wire: Percentiles,
    send: Percentiles,
}

fn tickwire_run(key: KeyMaterial, wait: WaitPolicy, core: Option<usize>) -> Run {
    let (addr, server) = peer(true);
    let mut reg = Registry::new();
    reg.add(Venue::BinanceSpot, "BTCUSDT", "0.01", "0.00001")
        .expect("instrument");
    let url = format!("ws://{addr}/ws-api/v3");
    let mut cfg = TradingConfig::new(Market::Spot, &url, KEY, key, reg);
    cfg.wait = wait;
    cfg.core = core;
    let mut oe = OrderEntry::new(cfg);
    let mut s = oe.add_strategy().expect("strategy");
    let handle = oe.spawn().expect("order-entry thread");
    let t0 = Instant::now();
    while handle
        .stats()
        .ready
        .load(std::sync::atomic::Ordering::Relaxed)
        == 0
    {
        assert!(t0.elapsed() < Duration::from_secs(10), "never ready");
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut next = Instant::now();
    let mut refused = 0;
    for i in 0..WARMUP + ORDERS {
        if i == WARMUP {
            refused = 0;
            handle.reset_latency();
            // Let the thread see the reset before the first measured push.
            std::thread::sleep(Duration::from_millis(5));
            next = Instant::now();
        }
        let o = order(s.ids.mint(), i);
        s.requests.push(Request::New(o)).expect("ring has room");
        next += GAP;
        refused += drain(&mut s.reports);
        until(next);
    }
    std::thread::sleep(Duration::from_millis(50));
    refused += drain(&mut s.reports);
    let written = handle
        .stats()
        .written
        .load(std::sync::atomic::Ordering::Relaxed);
    let report = handle.stop();
    let _ = server.join();
    let l = &report.latency;
    // Orders were written (the rest refused locally, counted).
    assert!(
        !l.push_to_wire.is_empty(),
        "written {written}, refused {refused}"
    );
    Run {
        refused,
        wire: Percentiles::of(&l.push_to_wire),
        send: Percentiles::of(&l.push_to_send),
    }
}

fn baseline_run(core: Option<usize>) -> Percentiles {
    let (addr, server) = peer(false);
    let clock = MonotonicClock::new();
    let (tx, rx) = mpsc::channel::<(NewOrder, u64)>();
    let c = clock.clone();
    let writer = std::thread::spawn(move || {
        if let Some(id) = core {
            let _ = core_affinity::set_for_current(core_affinity::CoreId { id });
        }
        let stream = TcpStream::connect(addr).expect("connect");
        let _ = stream.set_nodelay(true);
        let (mut ws, _) =
            tungstenite::client(format!("ws://{addr}/ws-api/v3"), stream).expect("upgrade");
        let mut base = Baseline {
            mac: Hmac::<Sha256>::new_from_slice(SECRET).expect("key"),
            prefix: "tw1s1".into(),
            counter: 0,
            last: String::new(),
        };
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("bounds");
        let mut i = 0u64;
        while let Ok((o, pushed)) = rx.recv() {
            base.place(o.price.0 as u64);
            let text = std::mem::take(&mut base.last);
            ws.send(Message::text(text)).expect("send");
            if i >= WARMUP {
                h.saturating_record(c.now().saturating_sub(pushed).max(1));
            }
            i += 1;
        }
        let _ = ws.close(None);
        h
    });
    let mut ids = tickwire::orders::ClientIdGen::new("bench").expect("prefix");
    let mut next = Instant::now();
    for i in 0..WARMUP + ORDERS {
        let o = order(ids.mint(), i);
        tx.send((o, clock.now())).expect("writer alive");
        next += GAP;
        until(next);
    }
    drop(tx);
    let h = writer.join().expect("writer");
    let _ = server.join();
    assert_eq!(h.len(), ORDERS);
    Percentiles::of(&h)
}

fn line(name: &str, p: &Percentiles) {
    println!(
        "  {name:<44} p50 {:>7} ns  p90 {:>7}  p99 {:>7}  p99.9 {:>8}  max {:>9}",
        p.p50, p.p90, p.p99, p.p999, p.max
    );
}

/// Runs every variant and prints percentiles and the ratios.
pub(crate) fn push_to_wire() {
    let cores = tickwire::sys::init_core_list();
    // The order-entry (or baseline writer) thread gets the last core; this
    // thread, the strategy, the first.
    let (mine, theirs) = match cores {
        [a, .., b] => (Some(*a), Some(*b)),
        _ => (None, None),
    };
    if let Some(c) = mine {
        let _ = core_affinity::set_for_current(core_affinity::CoreId { id: c });
    }
    println!(
        "push -> wire on loopback, {ORDERS} orders one every {} us after {WARMUP} of warm-up:",
        GAP.as_micros()
    );
    let hmac = || KeyMaterial::Hmac(SECRET.to_vec());
    let spin = tickwire_run(hmac(), WaitPolicy::Spin, theirs);
    line("tickwire HMAC, spin (to write returned)", &spin.wire);
    line("tickwire HMAC, spin (to write call)", &spin.send);
    println!(
        "  (refused locally while the peer lagged: {} of {ORDERS}; written {})",
        spin.refused, spin.wire.count
    );
    let base = baseline_run(theirs);
    line("baseline mpsc+serde_json+format!+hmac+tungstenite", &base);
    let ed = tickwire_run(KeyMaterial::Ed25519Raw([7; 32]), WaitPolicy::Spin, theirs);
    line("tickwire Ed25519 (session.logon), spin", &ed.wire);
    line(
        "tickwire Ed25519 (session.logon), spin (to write call)",
        &ed.send,
    );
    let sleep = tickwire_run(hmac(), WaitPolicy::Sleep { spin: 50_000 }, theirs);
    line("tickwire HMAC, sleep + wake on push (default)", &sleep.wire);
    line("tickwire HMAC, sleep + wake (to write call)", &sleep.send);
    let ratio = |b: u64, a: u64| {
        let tenths = b * 10 / a.max(1);
        format!("{}.{}x", tenths / 10, tenths % 10)
    };
    println!(
        "  ratio baseline/tickwire (HMAC, spin): p50 {}, p99 {}",
        ratio(base.p50, spin.wire.p50),
        ratio(base.p99, spin.wire.p99)
    );
}
