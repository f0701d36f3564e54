//! The simulated venue speaking Kraken v2 over wss:// on loopback:
//! subscribe acks, a `book` snapshot before any update, updates whose
//! checksums a text model written here verifies (no tickwire code), the
//! book (cut to the subscribed depth by the client, as Kraken expects)
//! equal to the venue's, `BadChecksum` spoiling exactly one frame, a gap
//! seen as a checksum mismatch, a fresh snapshot on resubscribing,
//! `ping` / `pong`, refusals (`success: false`: unsupported depth, unknown
//! pair), malformed and crossed frames, and no REST depth. Every loop is
//! bounded by a message count or a deadline.
#![cfg(feature = "sim")]

mod kraken_util;
mod sim_client;

use kraken_util::{Model, levels_of, list, units};
use sim_client::{Ws, connect, http_status, next_text, read_until, send, start};
use tickwire::config::{Config, EngineSection};
use tickwire::sim::{Fault, SimVenue};
use tickwire::types::Venue;

const PATH: &str = "/v2";
const SYMBOLS: [&str; 2] = ["BTC/USD", "ETH/USD"];
const BTC_BOOK: &str = r#"{"channel":"book","type":""#;

fn checksum_of(frame: &str) -> u32 {
    let at = frame.find("\"checksum\":").expect("checksum") + 11;
    let end = frame[at..]
        .find(|c: char| !c.is_ascii_digit())
        .expect("end");
    frame[at..at + end].parse().expect("u32")
}

fn is_btc_book(t: &str) -> bool {
    t.starts_with(BTC_BOOK) && t.contains(r#""symbol":"BTC/USD""#)
}

/// The next BTC/USD `book` frame.
fn next_book(ws: &mut Ws) -> String {
    read_until(ws, 500, is_btc_book)
}

/// Applies a book frame to the model; whether its checksum verified.
fn apply(model: &mut Model, frame: &str) -> bool {
    let snapshot = frame.contains(r#""type":"snapshot""#);
    model.apply(
        snapshot,
        &levels_of(list(frame, "bids")),
        &levels_of(list(frame, "asks")),
    );
    model.checksum() == checksum_of(frame)
}

/// Subscribes BTC/USD `book` at `depth`: the ack, then the snapshot first.
fn subscribe(ws: &mut Ws, depth: usize) -> Model {
    send(
        ws,
        &format!(
            r#"{{"method":"subscribe","params":{{"channel":"book","symbol":["BTC/USD"],"depth":{depth},"snapshot":true}},"req_id":3}}"#
        ),
    );
    let ack = read_until(ws, 200, |t| t.starts_with(r#"{"method":"subscribe""#));
    assert!(
        ack.starts_with(&format!(
            r#"{{"method":"subscribe","result":{{"channel":"book","depth":{depth},"snapshot":true,"symbol":"BTC/USD"}},"success":true,"req_id":3"#
        )),
        "{ack}"
    );
    let snap = next_book(ws);
    assert!(snap.contains(r#""type":"snapshot""#), "first: {snap}");
    let mut model = Model::new(depth, 2, 5);
    assert!(apply(&mut model, &snap), "snapshot checksum");
    assert_eq!(model.bids.len(), depth);
    assert_eq!(model.asks.len(), depth);
    model
}

/// Pauses the market, reads every frame sent before a pong, and compares
/// the model with the venue's top `depth` levels.
fn settle(sim: &SimVenue, ws: &mut Ws, model: &mut Model) {
    sim.set_rate(0);
    send(ws, r#"{"method":"ping","req_id":99}"#);
    for _ in 0..2_000 {
        let t = next_text(ws);
        if t.starts_with(r#"{"method":"pong","req_id":99"#) {
            let truth = sim.true_book("BTC/USD").expect("true book");
            let top = |l: &[(tickwire::types::Price, tickwire::types::Qty)]| -> Vec<(i64, i64)> {
                l.iter()
                    .take(model.depth)
                    .map(|(p, q)| (p.0, q.0))
                    .collect()
            };
            assert_eq!(
                model.side(tickwire::types::Side::Bid),
                top(&truth.bids),
                "bids"
            );
            assert_eq!(
                model.side(tickwire::types::Side::Ask),
                top(&truth.asks),
                "asks"
            );
            return;
        }
        if is_btc_book(&t) {
            assert!(apply(model, &t), "checksum: {t}");
        }
    }
    panic!("no pong");
}

#[test]
fn snapshot_then_checksummed_updates_rebuild_the_true_book() {
    let sim = start(Venue::Kraken, &SYMBOLS);
    assert!(sim.sends_checksums());
    let mut ws = connect(&sim, PATH);
    let mut model = subscribe(&mut ws, 10);
    for _ in 0..80 {
        let f = next_book(&mut ws);
        assert!(f.contains(r#""type":"update""#), "{f}");
        assert!(apply(&mut model, &f), "checksum verifies: {f}");
    }
    settle(&sim, &mut ws, &mut model);
}

#[test]
fn bad_checksum_spoils_exactly_one_frame_and_the_book_moves_on() {
    let sim = start(Venue::Kraken, &SYMBOLS);
    let mut ws = connect(&sim, PATH);
    let mut model = subscribe(&mut ws, 25);
    sim.inject(Fault::BadChecksum(Some("BTC/USD".into())));
    let (mut bad, mut after) = (0, 0);
    for _ in 0..400 {
        bad += usize::from(!apply(&mut model, &next_book(&mut ws)));
        if bad > 0 {
            after += 1;
            if after == 25 {
                break;
            }
        }
    }
    assert_eq!((bad, after), (1, 25));
    settle(&sim, &mut ws, &mut model);
}

#[test]
fn a_gap_shows_as_a_checksum_mismatch_and_resubscribing_gives_a_fresh_snapshot() {
    let sim = start(Venue::Kraken, &SYMBOLS);
    let mut ws = connect(&sim, PATH);
    let mut model = subscribe(&mut ws, 10);
    sim.inject(Fault::Gap(None));
    let mut mismatches = 0;
    for _ in 0..40 {
        mismatches += usize::from(!apply(&mut model, &next_book(&mut ws)));
    }
    assert!(mismatches >= 1, "a lost update changes the top 10");
    send(
        &mut ws,
        r#"{"method":"unsubscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":10}}"#,
    );
    let ack = read_until(&mut ws, 500, |t| {
        t.starts_with(r#"{"method":"unsubscribe""#)
    });
    assert!(ack.contains(r#""success":true"#), "{ack}");
    let mut model = subscribe(&mut ws, 10);
    settle(&sim, &mut ws, &mut model);
}

#[test]
fn ping_pong_refusals_ticker_trades_and_no_rest_depth() {
    let sim = start(Venue::Kraken, &SYMBOLS);
    let mut ws = connect(&sim, PATH);
    send(&mut ws, r#"{"method":"ping","req_id":5}"#);
    assert!(next_text(&mut ws).starts_with(r#"{"method":"pong","req_id":5,"time_in""#));
    send(
        &mut ws,
        r#"{"method":"subscribe","params":{"channel":"book","symbol":["ETH/USD"],"depth":15}}"#,
    );
    let e = next_text(&mut ws);
    assert!(
        e.starts_with(r#"{"error":"Subscription depth not supported","method":"subscribe","success":false,"symbol":"ETH/USD""#),
        "{e}"
    );
    send(
        &mut ws,
        r#"{"method":"subscribe","params":{"channel":"ticker","symbol":["NOPE/USD","ETH/USD"],"event_trigger":"bbo"}}"#,
    );
    let e = next_text(&mut ws);
    assert!(
        e.contains(r#""success":false"#) && e.contains("NOPE/USD"),
        "{e}"
    );
    let ok = next_text(&mut ws);
    assert!(
        ok.starts_with(r#"{"method":"subscribe","result":{"channel":"ticker""#),
        "{ok}"
    );
    let ticker = read_until(&mut ws, 500, |t| t.starts_with(r#"{"channel":"ticker""#));
    assert!(ticker.contains(r#""symbol":"ETH/USD","bid":"#), "{ticker}");
    send(
        &mut ws,
        r#"{"method":"subscribe","params":{"channel":"trade","symbol":["ETH/USD"]}}"#,
    );
    let trade = read_until(&mut ws, 2_000, |t| t.starts_with(r#"{"channel":"trade""#));
    assert!(
        trade.contains(r#""side":"buy""#) || trade.contains(r#""side":"sell""#),
        "{trade}"
    );
    for rest in ["/0/public/Depth?pair=XBTUSD", "/api/v3/depth?symbol=BTCUSD"] {
        assert_eq!(http_status(&sim, rest), 404, "{rest}");
    }
    let section = sim.venue_section().expect("section");
    let config = Config {
        engine: EngineSection::default(),
        venues: vec![section.clone()],
        risk: Default::default(),
    };
    config.validate().expect("the section is a valid config");
    assert_eq!(section.ws_url, Some(format!("{}{PATH}", sim.ws_url())));
}

#[test]
fn malformed_and_crossed_updates() {
    let sim = start(Venue::Kraken, &SYMBOLS);
    let mut ws = connect(&sim, PATH);
    let mut model = subscribe(&mut ws, 10);
    sim.inject(Fault::Malformed);
    let mut bad = None;
    for _ in 0..500 {
        let t = next_book(&mut ws);
        if serde_json::from_str::<serde_json::Value>(&t).is_err() {
            bad = Some(t);
            break;
        }
        assert!(apply(&mut model, &t));
    }
    let bad = bad.expect("a malformed frame within 500 messages");
    assert!(bad.contains(r#""type":"update""#), "{bad}");
    sim.inject(Fault::Crossed("BTC/USD".into()));
    let mut crossed = false;
    for _ in 0..500 {
        let t = next_book(&mut ws);
        let best_ask = model.asks.keys().next().copied().unwrap_or(i128::MAX);
        let bids = levels_of(list(&t, "bids"));
        if bids.iter().any(|(p, _)| units(p, 2) >= best_ask) {
            // Its checksum is of the book with the crossing bid: it
            // verifies on a model that takes it, which is then crossed.
            let mut taken = model.clone();
            assert!(apply(&mut taken, &t), "{t}");
            crossed = true;
            break;
        }
        assert!(apply(&mut model, &t), "{t}");
    }
    assert!(crossed, "a crossing update within 500 frames");
}
