//! The socket and frame layers against the simulated venue on loopback:
//! ws:// and wss:// handshakes driven by mio readiness, frames received,
//! a certificate the client does not trust refused with a clear error.

use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};
use tickwire::frame::{WsClient, WsError};
use tickwire::sim::{SimConfig, SimVenue};
use tickwire::socket::{Transport, client_config, parse_ca_pem};
use tickwire::types::Venue;

/// Connects to the simulator and collects `want` text frames (bounded by `deadline`).
fn collect_frames(
    sim: &SimVenue,
    trust_ca: bool,
    want: usize,
    deadline: Duration,
) -> Result<Vec<Vec<u8>>, WsError> {
    let url = format!(
        "{}/stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker/btcusdt@trade",
        sim.ws_url()
    );
    let tls = sim.ca_pem().map(|pem| {
        let cas = if trust_ca {
            parse_ca_pem(pem.as_bytes()).expect("ca")
        } else {
            Vec::new()
        };
        client_config(&cas).expect("tls config")
    });
    let transport = Transport::connect(sim.addr(), tls.map(|c| (c, "127.0.0.1"))).expect("connect");
    let mut ws = WsClient::new(&url, transport, 1 << 20);
    let mut poll = Poll::new().expect("poll");
    let t = ws.transport_mut().expect("transport");
    poll.registry()
        .register(
            t.tcp_mut(),
            Token(0),
            Interest::READABLE | Interest::WRITABLE,
        )
        .expect("register");
    let mut events = Events::with_capacity(16);
    let mut frames = Vec::new();
    let until = Instant::now() + deadline;
    while frames.len() < want && Instant::now() < until {
        poll.poll(&mut events, Some(Duration::from_millis(50)))
            .expect("poll");
        if !ws.is_open() && !ws.drive_handshake()? {
            continue;
        }
        ws.read_available(|text| {
            frames.push(text.to_vec());
            frames.len() < want
        })?;
    }
    Ok(frames)
}

#[test]
fn plain_websocket_receives_binance_frames() {
    let mut cfg = SimConfig::new(Venue::BinanceSpot, &["BTCUSDT"]);
    cfg.rate = 2_000;
    let sim = SimVenue::start(cfg).expect("sim");
    let frames = collect_frames(&sim, true, 50, Duration::from_secs(10)).expect("frames");
    assert_eq!(frames.len(), 50);
    assert!(
        frames
            .iter()
            .all(|f| f.starts_with(b"{\"stream\":\"btcusdt@")),
        "{:?}",
        String::from_utf8_lossy(&frames[0])
    );
}

#[test]
fn tls_websocket_receives_frames_with_the_simulator_ca() {
    let mut cfg = SimConfig::new(Venue::BinanceSpot, &["BTCUSDT"]);
    cfg.rate = 2_000;
    cfg.tls = true;
    let sim = SimVenue::start(cfg).expect("sim");
    assert!(sim.ws_url().starts_with("wss://"));
    let frames = collect_frames(&sim, true, 50, Duration::from_secs(10)).expect("frames");
    assert_eq!(frames.len(), 50);
}

#[test]
fn untrusted_certificate_is_refused_clearly() {
    let mut cfg = SimConfig::new(Venue::BinanceSpot, &["BTCUSDT"]);
    cfg.tls = true;
    let sim = SimVenue::start(cfg).expect("sim");
    let err = collect_frames(&sim, false, 1, Duration::from_secs(10)).expect_err("must fail");
    let text = err.to_string();
    assert!(
        text.contains("certificate") || text.contains("UnknownIssuer"),
        "unclear error: {text}"
    );
}
