//! The in-process cost of a new limit order, from the strategy's request to
//! the signed bytes ready for the socket, against a conventional baseline,
//! in the same run and through the same bench body.
//!
//! * `tickwire/new_order`: `Gate::submit` (risk, breaker, fixed-window
//!   limits, order table) → `Gate::poll_send` → `Encoder::write` (sorted
//!   params, HMAC-SHA256 hex signature, JSON into a reused buffer).
//! * `tickwire/new_order_ed25519`: the same with an Ed25519 key (signed
//!   per request, as without `session.logon`).
//! * `baseline/new_order`: the same request built the usual way: a
//!   `format!`ed query string with `f64`-free but `String` decimals,
//!   `hmac` + `format!("{:02x}")` hex, and `serde_json::json!` →
//!   `to_string()`. It does no risk, limit or state work at all, so the
//!   ratio understates what tickwire's path does per order.
//!
//! * `push_to_wire` (after criterion, [`wire`]): strategy push → bytes
//!   written to a loopback socket by the real order-entry thread, p50 … max
//!   from hdrhistogram, HMAC and Ed25519, against an mpsc + serde_json +
//!   tungstenite baseline in the same run.
//!
//! Timing: orders are placed in chunks of [`CHUNK`] inside the timed
//! region; between chunks, untimed, every order is answered (filled) so the
//! table and limits stay in steady state. The bench limits are the spot
//! windows with very large counts, so no order is refused (the check costs
//! the same).

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tickwire::orders::ratelimit::{Costs, LimitKind, RateLimits, WindowLimit};
use tickwire::orders::risk::Risk;
use tickwire::orders::{
    BreakerConfig, ClientIdGen, Gate, NewOrder, OrderType, OrdersConfig, Reply, ReplyMeta, Request,
    Send, TimeInForce, VenueOrder, VenueStatus, VenueText,
};
use tickwire::types::{InstrumentId, Nanos, Price, Qty, Registry, Side, Venue};
use tickwire::venue::binance::orders::{Encoder, Market, Signer};

#[path = "orders/wire.rs"]
mod wire;

const CHUNK: u64 = 512;
const KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const SECRET: &[u8] = b"NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
const T0: Nanos = 1_764_547_200_000_000_000;

/// One way of turning a new order into signed request bytes.
trait Path {
    /// Places order `i`; returns the request's length (kept alive by the caller).
    fn place(&mut self, i: u64) -> usize;
    /// Untimed: answers everything placed since the last call.
    fn retire(&mut self);
}

struct Tickwire {
    gate: Gate,
    enc: Encoder,
    ids: ClientIdGen,
    inst: InstrumentId,
    now: Nanos,
    placed: Vec<(u64, NewOrder)>,
}

impl Tickwire {
    fn new(signer: Signer) -> Tickwire {
        let mut reg = Registry::new();
        let inst = reg
            .add(Venue::BinanceSpot, "BTCUSDT", "0.01", "0.00001")
            .unwrap();
        let s = 1_000_000_000;
        let limits = RateLimits::new(
            &[
                WindowLimit::new(LimitKind::Orders, 10 * s, u32::MAX / 2),
                WindowLimit::new(LimitKind::Orders, 86_400 * s, u32::MAX / 2),
                WindowLimit::new(LimitKind::Weight, 60 * s, u32::MAX / 2),
            ],
            Costs {
                new: 1,
                cancel: 1,
                cancel_replace: 1,
                cancel_all: 1,
                query: 4,
            },
        );
        let cfg = OrdersConfig {
            linger: 0,
            ..OrdersConfig::default()
        };
        let mut gate = Gate::new(cfg, Risk::new(16, &reg), limits, BreakerConfig::default());
        gate.set_ready(T0);
        while gate.poll_report().is_some() {}
        Tickwire {
            gate,
            enc: Encoder::new(Market::Spot, &reg, KEY, signer, 5000).unwrap(),
            ids: ClientIdGen::session_prefix(1_764_547_200_000, 1),
            inst,
            now: T0,
            placed: Vec::with_capacity(CHUNK as usize),
        }
    }
}

impl Path for Tickwire {
    #[inline]
    fn place(&mut self, i: u64) -> usize {
        self.now += 1_000;
        let o = NewOrder {
            client_id: self.ids.mint(),
            instrument: self.inst,
            side: if i & 1 == 0 { Side::Bid } else { Side::Ask },
            kind: OrderType::Limit,
            tif: TimeInForce::Gtc,
            price: Price(4_300_001 + (i % 64) as i64),
            qty: Qty(50_000),
        };
        self.gate.submit(Request::New(o), self.now);
        let Some(send) = self.gate.poll_send(self.now) else {
            return 0;
        };
        if let Send::New { req, order } = send {
            self.placed.push((req, order));
        }
        self.enc
            .write(&send, self.now)
            .map_or(0, |b| black_box(b).len())
    }

    fn retire(&mut self) {
        for (req, o) in self.placed.drain(..) {
            let v = VenueOrder {
                client_id: o.client_id,
                venue_order_id: req,
                status: VenueStatus::Filled,
                cum_qty: o.qty,
                fill: None,
                code: 0,
                text: VenueText::EMPTY,
            };
            self.gate
                .handle_reply(req, &Reply::Order(v), &ReplyMeta::OK, self.now);
        }
        while self.gate.poll_report().is_some() {}
        self.gate.handle_timeouts(self.now);
    }
}

/// The conventional way: strings, `format!`, `serde_json`.
struct Baseline {
    mac: Hmac<Sha256>,
    prefix: String,
    counter: u64,
    last: String,
}

fn decimal(mantissa: i64, scale: u32) -> String {
    let p = 10i64.pow(scale);
    format!(
        "{}.{:0width$}",
        mantissa / p,
        mantissa % p,
        width = scale as usize
    )
}

impl Path for Baseline {
    #[inline]
    fn place(&mut self, i: u64) -> usize {
        self.counter += 1;
        let client_id = format!("{}-{}", self.prefix, self.counter);
        let price = decimal(4_300_001 + (i % 64) as i64, 2);
        let qty = decimal(50_000, 5);
        let side = if i & 1 == 0 { "BUY" } else { "SELL" };
        let ts = (T0 + i * 1_000) / 1_000_000;
        let query = format!(
            "apiKey={KEY}&newClientOrderId={client_id}&price={price}&quantity={qty}&recvWindow=5000&side={side}&symbol=BTCUSDT&timeInForce=GTC&timestamp={ts}&type=LIMIT"
        );
        let mut m = self.mac.clone();
        m.update(query.as_bytes());
        let mut signature = String::with_capacity(64);
        for b in m.finalize().into_bytes() {
            let _ = write!(signature, "{b:02x}");
        }
        let req = serde_json::json!({
            "id": i,
            "method": "order.place",
            "params": {
                "apiKey": KEY,
                "newClientOrderId": client_id,
                "price": price,
                "quantity": qty,
                "recvWindow": 5000,
                "side": side,
                "symbol": "BTCUSDT",
                "timeInForce": "GTC",
                "timestamp": ts,
                "type": "LIMIT",
                "signature": signature,
            }
        });
        self.last = req.to_string();
        black_box(&self.last).len()
    }

    fn retire(&mut self) {}
}

/// The one bench body every path runs through.
fn timed(path: &mut impl Path, iters: u64, next: &mut u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(CHUNK);
        let start = Instant::now();
        for _ in 0..n {
            black_box(path.place(*next));
            *next += 1;
        }
        total += start.elapsed();
        path.retire();
        left -= n;
    }
    total
}

fn bench(c: &mut Criterion) {
    let mut ours = Tickwire::new(Signer::hmac(SECRET).unwrap());
    let mut n = 0;
    // Same-run sanity: the path really produces signed requests.
    assert!(ours.place(0) > 300);
    ours.retire();
    c.bench_function("tickwire/new_order", |b| {
        b.iter_custom(|iters| timed(&mut ours, iters, &mut n))
    });
    let mut base = Baseline {
        mac: Hmac::<Sha256>::new_from_slice(SECRET).unwrap(),
        prefix: "tw1s1".into(),
        counter: 0,
        last: String::new(),
    };
    c.bench_function("baseline/new_order", |b| {
        b.iter_custom(|iters| timed(&mut base, iters, &mut n))
    });
    let mut ed = Tickwire::new(Signer::ed25519_bytes(&[7; 32]));
    c.bench_function("tickwire/new_order_ed25519", |b| {
        b.iter_custom(|iters| timed(&mut ed, iters, &mut n))
    });
}

/// After criterion: the two HMAC paths alternated chunk by chunk, so both
/// see the same machine load (this VM is shared), and the median per-order
/// time of each over the rounds, with their ratio.
fn alternated() {
    const ROUNDS: usize = 200;
    let mut ours = Tickwire::new(Signer::hmac(SECRET).unwrap());
    let mut base = Baseline {
        mac: Hmac::<Sha256>::new_from_slice(SECRET).unwrap(),
        prefix: "tw1s1".into(),
        counter: 0,
        last: String::new(),
    };
    let (mut a, mut b) = (Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS));
    let mut n = 0;
    for round in 0..ROUNDS + 20 {
        let ta = timed(&mut ours, CHUNK, &mut n);
        let tb = timed(&mut base, CHUNK, &mut n);
        if round >= 20 {
            // Per-order time in ps: integers, no float arithmetic.
            a.push(ta.as_nanos() as u64 * 1_000 / CHUNK);
            b.push(tb.as_nanos() as u64 * 1_000 / CHUNK);
        }
    }
    let median = |v: &mut Vec<u64>| {
        v.sort_unstable();
        v[v.len() / 2]
    };
    let (ma, mb) = (median(&mut a).max(1), median(&mut b));
    let tenths = mb * 10 / ma;
    println!(
        "alternated new_order (median of {ROUNDS} chunks of {CHUNK}): tickwire {} ns, baseline {} ns, ratio {}.{}x",
        ma / 1_000,
        mb / 1_000,
        tenths / 10,
        tenths % 10
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if !std::env::args().any(|a| a == "--list") {
        alternated();
        // A name filter (`cargo bench --bench orders -- new_order`) runs
        // the end-to-end part only when it names it.
        let filters: Vec<String> = std::env::args()
            .skip(1)
            .filter(|a| !a.starts_with('-'))
            .collect();
        if filters.is_empty() || filters.iter().any(|f| "push_to_wire".contains(f.as_str())) {
            wire::push_to_wire();
        }
    }
}
