//! The simulated venue speaking Bybit v5, spot and linear, over wss:// on
//! loopback: subscribe, a snapshot before any delta, deltas whose `u`
//! chains, the rebuilt book equal to the venue's, a gap that breaks the
//! chain once, a fresh snapshot on resubscribing, ping/pong, refusals, and
//! no REST depth. Every loop is bounded by a message count or a deadline.
#![cfg(feature = "sim")]

mod sim_client;

use serde_json::Value;
use sim_client::{Book, Ws, connect, http_status, next_text, read_until, send, start};
use tickwire::config::{Config, EngineSection};
use tickwire::sim::{Fault, SimVenue};
use tickwire::types::Venue;

const VENUES: [(Venue, &str); 2] = [
    (Venue::BybitSpot, "/v5/public/spot"),
    (Venue::BybitLinear, "/v5/public/linear"),
];
const TOPIC: &str = "orderbook.200.BTCUSDT";

fn json(t: &str) -> Value {
    serde_json::from_str(t).unwrap_or_else(|e| panic!("{e}: {t}"))
}

/// Subscribes to `topic`; checks the ack, then reads to the snapshot
/// (no delta of the topic may come first) and applies it. Returns its `u`.
fn subscribe_book(ws: &mut Ws, topic: &str, book: &mut Book) -> u64 {
    send(
        ws,
        &format!("{{\"req_id\":\"s1\",\"op\":\"subscribe\",\"args\":[\"{topic}\"]}}"),
    );
    let ack = json(&read_until(ws, 200, |t| t.contains("\"op\":\"subscribe\"")));
    assert_eq!(ack["success"], true, "{ack}");
    assert_eq!(ack["req_id"], "s1", "{ack}");
    let snap = json(&read_until(ws, 200, |t| t.contains(topic)));
    assert_eq!(
        snap["type"], "snapshot",
        "the first frame of {topic}: {snap}"
    );
    *book = Book::default();
    book.apply(true, &snap["data"]["b"]);
    book.apply(false, &snap["data"]["a"]);
    assert_eq!(book.bids.len(), 200);
    snap["data"]["u"].as_u64().expect("u")
}

/// Reads the next frame of `topic`.
fn next_of(ws: &mut Ws, topic: &str) -> Value {
    json(&read_until(ws, 500, |t| {
        t.contains(&format!("\"topic\":\"{topic}\""))
    }))
}

/// Pauses the market and applies deltas up to the venue's last `u`; the
/// book then equals the venue's best 200 levels.
fn settle_and_compare(sim: &SimVenue, ws: &mut Ws, book: &mut Book, mut u: u64) {
    sim.set_rate(0);
    let truth = sim.true_book("BTCUSDT").expect("true book");
    for _ in 0..1000 {
        if u == truth.last_update_id {
            break;
        }
        let d = next_of(ws, TOPIC);
        let next = d["data"]["u"].as_u64().expect("u");
        assert_eq!(next, u + 1, "chained: {d}");
        book.apply(true, &d["data"]["b"]);
        book.apply(false, &d["data"]["a"]);
        u = next;
    }
    assert_eq!(u, truth.last_update_id);
    book.assert_top_of(&truth.bids, &truth.asks, 200);
}

#[test]
fn snapshot_then_chained_deltas_rebuild_the_true_book() {
    for (venue, path) in VENUES {
        let sim = start(venue, &["BTCUSDT", "ETHUSDT"]);
        let mut ws = connect(&sim, path);
        let mut book = Book::default();
        let mut u = subscribe_book(&mut ws, TOPIC, &mut book);
        for _ in 0..40 {
            let d = next_of(&mut ws, TOPIC);
            assert_eq!(d["type"], "delta", "{venue}");
            assert_eq!(d["data"]["s"], "BTCUSDT");
            assert!(d["cts"].as_u64().is_some() && d["ts"].as_u64().is_some());
            let next = d["data"]["u"].as_u64().expect("u");
            assert_eq!(next, u + 1, "{venue}: u chains");
            book.apply(true, &d["data"]["b"]);
            book.apply(false, &d["data"]["a"]);
            u = next;
        }
        settle_and_compare(&sim, &mut ws, &mut book, u);
    }
}

#[test]
fn a_gap_breaks_the_chain_once_and_resubscribing_gives_a_fresh_snapshot() {
    for (venue, path) in VENUES {
        let sim = start(venue, &["BTCUSDT", "ETHUSDT"]);
        let mut ws = connect(&sim, path);
        let mut book = Book::default();
        let mut u = subscribe_book(&mut ws, TOPIC, &mut book);
        sim.inject(Fault::Gap(Some("BTCUSDT".into())));
        let (mut breaks, mut after) = (0, 0);
        for _ in 0..400 {
            let next = next_of(&mut ws, TOPIC)["data"]["u"].as_u64().expect("u");
            if next != u + 1 {
                breaks += 1;
                assert_eq!(next, u + 2, "{venue}: one delta skipped");
            }
            u = next;
            if breaks > 0 {
                after += 1;
                if after == 25 {
                    break;
                }
            }
        }
        assert_eq!((breaks, after), (1, 25), "{venue}");

        send(
            &mut ws,
            "{\"op\":\"unsubscribe\",\"args\":[\"orderbook.200.BTCUSDT\"]}",
        );
        let ack = json(&read_until(&mut ws, 500, |t| {
            t.contains("\"op\":\"unsubscribe\"")
        }));
        assert_eq!(ack["success"], true, "{ack}");
        let fresh = subscribe_book(&mut ws, TOPIC, &mut book);
        // The market may not have moved BTCUSDT since the last delta read.
        assert!(fresh >= u, "{venue}: a new snapshot ({fresh} after {u})");
        settle_and_compare(&sim, &mut ws, &mut book, fresh);
    }
}

#[test]
fn pings_are_answered_in_each_markets_words() {
    for (venue, path) in VENUES {
        let sim = start(venue, &["BTCUSDT"]);
        let mut ws = connect(&sim, path);
        send(&mut ws, "{\"req_id\":\"100001\",\"op\":\"ping\"}");
        let pong = json(&next_text(&mut ws));
        assert_eq!(pong["req_id"], "100001", "{venue}: {pong}");
        assert!(pong["conn_id"].as_str().is_some_and(|c| !c.is_empty()));
        if venue == Venue::BybitLinear {
            assert_eq!(pong["op"], "pong", "{pong}");
            assert!(
                pong["args"][0]
                    .as_str()
                    .is_some_and(|ms| ms.parse::<u64>().is_ok())
            );
        } else {
            assert_eq!(pong["op"], "ping", "{pong}");
            assert_eq!(pong["ret_msg"], "pong", "{pong}");
            assert_eq!(pong["success"], true, "{pong}");
        }
    }
}

#[test]
fn unknown_symbols_topics_and_too_many_args_are_refused() {
    for (venue, path) in VENUES {
        let sim = start(venue, &["BTCUSDT", "ETHUSDT"]);
        let mut ws = connect(&sim, path);
        for (args, reason) in [
            ("\"orderbook.200.NOPEUSDT\"", "NOPEUSDT"),
            ("\"orderbook.7.BTCUSDT\"", "orderbook.7.BTCUSDT"),
            ("\"kline.1.BTCUSDT\"", "kline.1.BTCUSDT"),
        ] {
            send(
                &mut ws,
                &format!("{{\"op\":\"subscribe\",\"args\":[{args}]}}"),
            );
            let r = json(&next_text(&mut ws));
            assert_eq!(r["success"], false, "{venue}: {r}");
            assert_eq!(r["op"], "subscribe");
            assert!(
                r["ret_msg"].as_str().unwrap().contains(reason),
                "{venue}: {r}"
            );
        }
        // Eleven topics, valid on linear: spot refuses the request by its
        // count, linear takes it.
        let mut topics: Vec<String> = Vec::new();
        for sym in ["BTCUSDT", "ETHUSDT"] {
            for d in [1, 50, 200, 1000] {
                topics.push(format!("\"orderbook.{d}.{sym}\""));
            }
            topics.push(format!("\"publicTrade.{sym}\""));
        }
        // The eleventh: spot refuses the count before looking at the topic.
        let mut eleven = topics;
        eleven.push("\"tickers.BTCUSDT\"".into());
        assert_eq!(eleven.len(), 11);
        send(
            &mut ws,
            &format!("{{\"op\":\"subscribe\",\"args\":[{}]}}", eleven.join(",")),
        );
        let r = json(&read_until(&mut ws, 200, |t| {
            t.contains("\"op\":\"subscribe\"")
        }));
        if venue == Venue::BybitSpot {
            assert_eq!(r["success"], false, "{r}");
            assert!(
                r["ret_msg"].as_str().unwrap().contains("limit of 10"),
                "{r}"
            );
        } else {
            assert_eq!(r["success"], true, "{r}");
            // The ticker subscription starts with a full snapshot.
            let t = next_of(&mut ws, "tickers.BTCUSDT");
            assert_eq!(t["type"], "snapshot", "{t}");
            assert!(t["data"]["lastPrice"].as_str().is_some(), "{t}");
            let t = next_of(&mut ws, "tickers.BTCUSDT");
            assert_eq!(t["type"], "delta", "{t}");
            assert!(t["data"]["bid1Price"].as_str().is_some(), "{t}");
        }
    }
}

#[test]
fn no_rest_depth_and_the_config_points_at_the_stream_path() {
    for (venue, path) in VENUES {
        let sim = start(venue, &["BTCUSDT"]);
        for rest in [
            "/v5/market/orderbook?category=spot&symbol=BTCUSDT",
            "/api/v3/depth?symbol=BTCUSDT&limit=5",
        ] {
            assert_eq!(http_status(&sim, rest), 404, "{venue} {rest}");
        }
        let section = sim.venue_section().expect("section");
        let config = Config {
            engine: EngineSection::default(),
            venues: vec![section.clone()],
            risk: Default::default(),
        };
        config.validate().expect("the section is a valid config");
        assert_eq!(section.ws_url, Some(format!("{}{path}", sim.ws_url())));
        assert!(!sim.sends_checksums(), "{venue} has no checksum");
        // BadChecksum does nothing here: the chain and the book carry on.
        let mut ws = connect(&sim, path);
        let mut book = Book::default();
        let mut u = subscribe_book(&mut ws, TOPIC, &mut book);
        sim.inject(Fault::BadChecksum(None));
        for _ in 0..20 {
            let d = next_of(&mut ws, TOPIC);
            let next = d["data"]["u"].as_u64().expect("u");
            assert_eq!(next, u + 1);
            book.apply(true, &d["data"]["b"]);
            book.apply(false, &d["data"]["a"]);
            u = next;
        }
        settle_and_compare(&sim, &mut ws, &mut book, u);
    }
}

#[test]
fn malformed_and_crossed_deltas() {
    for (venue, path) in VENUES {
        let sim = start(venue, &["BTCUSDT", "ETHUSDT"]);
        let mut ws = connect(&sim, path);
        let mut book = Book::default();
        let mut u = subscribe_book(&mut ws, TOPIC, &mut book);
        sim.inject(Fault::Malformed);
        // Deltas before the malformed frame are applied as they come.
        let mut bad = None;
        for _ in 0..500 {
            let t = next_text(&mut ws);
            if !t.contains(TOPIC) {
                continue;
            }
            let Ok(d) = serde_json::from_str::<Value>(&t) else {
                bad = Some(t);
                break;
            };
            assert_eq!(d["data"]["u"].as_u64(), Some(u + 1), "{venue}");
            u += 1;
            book.apply(true, &d["data"]["b"]);
            book.apply(false, &d["data"]["a"]);
        }
        let bad = bad.expect("a malformed frame within 500 messages");
        assert!(bad.contains("\"type\":\"delta\""), "{venue}: {bad}");
        sim.inject(Fault::Crossed("BTCUSDT".into()));
        let mut crossed = false;
        for _ in 0..200 {
            let d = next_of(&mut ws, TOPIC);
            let next = d["data"]["u"].as_u64().expect("u");
            assert_eq!(next, u + 1, "{venue}: the crossed delta chains too");
            u = next;
            book.apply(true, &d["data"]["b"]);
            book.apply(false, &d["data"]["a"]);
            let best_bid = book.bids.keys().next_back().copied();
            if best_bid >= book.asks.keys().next().copied() {
                crossed = true;
                break;
            }
        }
        assert!(crossed, "{venue}: no crossed delta within 200");
    }
}
