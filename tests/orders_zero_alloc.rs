//! The per-order path allocates nothing after warm-up: a counting global
//! allocator watches thousands of orders go through risk → breaker →
//! limits → order table → sign (HMAC and Ed25519) → encode → decode of the
//! reply and of a fill event → state updates → reports, plus cancels,
//! local rate-limit refusals and the timeout sweep.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write as _;

use tickwire::orders::risk::Risk;
use tickwire::orders::{
    BreakerConfig, Cancel, ClientIdGen, Gate, NewOrder, OrderType, OrdersConfig, ReportKind,
    Request, Send, TimeInForce,
};
use tickwire::types::{InstrumentId, Nanos, Price, Qty, Registry, Side, Venue};
use tickwire::venue::binance::orders::{Decoder, Encoder, Inbound, Market, Signer, limits};

/// Counts allocations made by threads that opted in.
struct CountingAlloc;

thread_local! {
    /// Whether this thread's allocations are counted.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// This thread's count: per thread, so tests running in parallel do
    /// not see each other's allocations.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the allocator can run while a thread's locals are torn down.
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCATIONS.try_with(|a| a.set(a.get() + 1));
    }
}

// SAFETY: every method forwards to `System` unchanged; counting does not
// touch the memory handed out.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: `ptr` and `layout` come from this allocator (the caller's contract).
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn allocations_in(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get) - before
}

const MS: Nanos = 1_000_000;
const T0: Nanos = 1_764_547_200_000 * MS;

struct Session {
    gate: Gate,
    enc: Encoder,
    dec: Decoder,
    ids: ClientIdGen,
    inst: InstrumentId,
    now: Nanos,
    frame: [u8; 1024],
    wire_bytes: u64,
    reports: [u64; 9],
}

fn session(signer: Signer) -> Session {
    let mut reg = Registry::new();
    let inst = reg
        .add(Venue::BinanceSpot, "BTCUSDT", "0.01", "0.00001")
        .unwrap();
    let gate = Gate::new(
        OrdersConfig::default(),
        Risk::new(16, &reg),
        limits(Market::Spot),
        BreakerConfig::default(),
    );
    let key = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
    let mut s = Session {
        gate,
        enc: Encoder::new(Market::Spot, &reg, key, signer, 5000).unwrap(),
        dec: Decoder::new(Market::Spot, &reg),
        ids: ClientIdGen::session_prefix(1_764_547_200_000, 1),
        inst,
        now: T0,
        frame: [0; 1024],
        wire_bytes: 0,
        reports: [0; 9],
    };
    s.gate.set_ready(s.now);
    s
}

fn kind_index(k: ReportKind) -> usize {
    match k {
        ReportKind::Ack => 0,
        ReportKind::Reject => 1,
        ReportKind::PartialFill => 2,
        ReportKind::Fill => 3,
        ReportKind::Canceled => 4,
        ReportKind::CancelReject => 5,
        ReportKind::Expired => 6,
        ReportKind::InDoubt => 7,
        ReportKind::Status => 8,
    }
}

impl Session {
    /// Writes a frame into the fixed buffer (no allocation) and feeds it back.
    fn feed(&mut self, args: std::fmt::Arguments<'_>) {
        let mut w = &mut self.frame[..];
        w.write_fmt(args).unwrap();
        let n = 1024 - w.len();
        let inbound = self.dec.decode(&self.frame[..n]).unwrap();
        match inbound {
            Inbound::Reply {
                req,
                reply,
                meta,
                also,
                ..
            } => {
                self.gate.handle_reply(req, &reply, &meta, self.now);
                if let Some(v) = also {
                    self.gate.handle_update(&v, self.now);
                }
            }
            Inbound::Update(v) => self.gate.handle_update(&v, self.now),
            Inbound::Other => {}
        }
    }

    /// One round: three new orders (one fills, one is canceled, one expires),
    /// everything written, answered and reported.
    fn round(&mut self, i: u64) {
        self.now += 1_000 * MS;
        let mut placed = [None; 3];
        for (k, slot) in placed.iter_mut().enumerate() {
            let o = NewOrder {
                client_id: self.ids.mint(),
                instrument: self.inst,
                side: if k == 0 { Side::Bid } else { Side::Ask },
                kind: OrderType::Limit,
                tif: TimeInForce::Gtc,
                price: Price(4_300_001 + (i % 100) as i64),
                qty: Qty(1_000 + k as i64),
            };
            self.gate.submit(Request::New(o), self.now);
            *slot = Some(o);
        }
        let mut n = 0;
        while let Some(send) = self.gate.poll_send(self.now) {
            n += 1;
            let bytes = self.enc.write(&send, self.now).unwrap();
            self.wire_bytes += bytes.len() as u64;
            let limits = r#""rateLimits":[{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50,"count":1},{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":3}]"#;
            match send {
                Send::New { req, order } => {
                    let id = order.client_id;
                    self.feed(format_args!(
                        r#"{{"id":{req},"status":200,"result":{{"symbol":"BTCUSDT","orderId":{req},"orderListId":-1,"clientOrderId":"{id}","transactTime":1,"price":"43000.01000000","origQty":"0.01000000","executedQty":"0.00000000","status":"NEW","timeInForce":"GTC","type":"LIMIT","side":"BUY"}},{limits}}}"#
                    ));
                    if order.qty.0 == 1_002 {
                        self.feed(format_args!(
                            r#"{{"subscriptionId":0,"event":{{"e":"executionReport","E":1,"s":"BTCUSDT","c":"{id}","S":"SELL","o":"LIMIT","f":"IOC","q":"0.01002","p":"43000.01","x":"EXPIRED","X":"EXPIRED","r":"NONE","i":{req},"l":"0","z":"0","L":"0","t":-1,"C":""}}}}"#
                        ));
                    }
                    if order.side == Side::Bid {
                        let q = order.qty.0;
                        self.feed(format_args!(
                            r#"{{"subscriptionId":0,"event":{{"e":"executionReport","E":1,"s":"BTCUSDT","c":"{id}","S":"BUY","o":"LIMIT","f":"GTC","q":"0.01","p":"43000.01","x":"TRADE","X":"FILLED","r":"NONE","i":{req},"l":"0.0{q}","z":"0.0{q}","L":"43000.00","t":{req},"C":""}}}}"#
                        ));
                    }
                }
                Send::Cancel { req, cancel, .. } => {
                    let id = cancel.client_id;
                    self.feed(format_args!(
                        r#"{{"id":{req},"status":200,"result":{{"symbol":"BTCUSDT","origClientOrderId":"{id}","orderId":1,"clientOrderId":"c{req}","price":"43000.01","origQty":"0.01","executedQty":"0","status":"CANCELED"}},{limits}}}"#
                    ));
                }
                _ => {}
            }
            if n == 3 {
                // Cancel the second order once all three are out.
                let c = placed[1].unwrap();
                self.gate.submit(
                    Request::Cancel(Cancel {
                        client_id: c.client_id,
                        instrument: c.instrument,
                    }),
                    self.now,
                );
            }
        }
        if i % 40 == 0 {
            self.gate.handle_timeouts(self.now);
        }
        while let Some(r) = self.gate.poll_report() {
            self.reports[kind_index(r.kind)] += 1;
        }
    }
}

fn run(signer: Signer, rounds: u64) -> Session {
    let mut s = session(signer);
    for i in 0..200 {
        s.round(i);
    }
    s.reports = [0; 9];
    let n = allocations_in(|| {
        for i in 200..200 + rounds {
            s.round(i);
        }
    });
    assert_eq!(n, 0, "allocations on the per-order path");
    s
}

#[test]
fn the_counter_sees_allocations() {
    let n = allocations_in(|| {
        std::hint::black_box(Box::new(7u64));
    });
    assert!(n >= 1);
}

#[test]
fn hmac_orders_allocate_nothing() {
    let s = run(
        Signer::hmac(b"NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j").unwrap(),
        2_000,
    );
    // 6,000 orders: all acked, 2,000 filled, canceled, expired; none refused.
    let r = s.reports;
    assert_eq!(
        (r[0], r[3], r[4], r[6], r[1]),
        (6_000, 2_000, 2_000, 2_000, 0),
        "{r:?}"
    );
    assert!(s.wire_bytes > 6_000 * 300);
}

#[test]
fn ed25519_orders_allocate_nothing() {
    let s = run(Signer::ed25519_bytes(&[9; 32]), 500);
    assert_eq!(s.reports[0], 1_500);
}

#[test]
fn local_rate_limit_refusals_allocate_nothing() {
    let mut s = session(Signer::hmac(b"secret").unwrap());
    let n = allocations_in(|| {
        // 120 orders in one 10 s window: 50 go, 70 are refused locally.
        for _ in 0..120 {
            let o = NewOrder {
                client_id: s.ids.mint(),
                instrument: s.inst,
                side: Side::Bid,
                kind: OrderType::Limit,
                tif: TimeInForce::Ioc,
                price: Price(100),
                qty: Qty(1),
            };
            s.gate.submit(Request::New(o), s.now);
        }
        let mut sent = 0;
        while let Some(send) = s.gate.poll_send(s.now) {
            let _ = s.enc.write(&send, s.now).unwrap();
            sent += 1;
        }
        let mut refused = 0;
        while let Some(r) = s.gate.poll_report() {
            refused += u32::from(r.kind == ReportKind::Reject);
        }
        assert_eq!((sent, refused), (50, 70));
    });
    assert_eq!(n, 0);
}
