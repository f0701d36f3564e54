//! Order latency on the order-entry thread, recorded without allocation:
//! strategy push → bytes handed to the socket, and that write → the ack
//! decoded. The push stamp travels with the request ([`super::Stamped`]);
//! write stamps wait for their ack in a fixed direct-mapped table keyed by
//! client id (a collision drops the older sample, counted, never a wrong
//! one: the key is compared in full).

use hdrhistogram::Histogram;

use crate::metrics::Percentiles;
use crate::orders::{ClientId, Request, Send};
use crate::types::Nanos;

/// Slots of the write-stamp table (a power of two).
const SLOTS: usize = 4_096;
/// Largest value a histogram holds (60 s); larger samples saturate.
const HIGHEST: u64 = 60_000_000_000;

/// Order latency histograms (ns).
#[derive(Clone, Debug)]
pub struct OrderLatency {
    /// Strategy push → the socket write call returned (the bytes are the
    /// kernel's): ring hop, risk, limits, state, signing, encoding, framing
    /// and the `write` system call.
    pub push_to_wire: Histogram<u64>,
    /// Strategy push → just before the socket write call (the same path
    /// without the system call).
    pub push_to_send: Histogram<u64>,
    /// Socket write of a new order → its ack decoded (the read pass that
    /// carried it).
    pub wire_to_ack: Histogram<u64>,
    /// Write stamps overwritten before their ack (table collisions).
    pub lost: u64,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST, 3).expect("constant bounds are valid")
}

impl Default for OrderLatency {
    fn default() -> Self {
        OrderLatency {
            push_to_wire: histogram(),
            push_to_send: histogram(),
            wire_to_ack: histogram(),
            lost: 0,
        }
    }
}

impl OrderLatency {
    /// Percentiles of [`push_to_wire`](Self::push_to_wire).
    pub fn push_to_wire_percentiles(&self) -> Percentiles {
        Percentiles::of(&self.push_to_wire)
    }

    /// Percentiles of [`push_to_send`](Self::push_to_send).
    pub fn push_to_send_percentiles(&self) -> Percentiles {
        Percentiles::of(&self.push_to_send)
    }

    /// Percentiles of [`wire_to_ack`](Self::wire_to_ack).
    pub fn wire_to_ack_percentiles(&self) -> Percentiles {
        Percentiles::of(&self.wire_to_ack)
    }
}

/// What the order-entry thread hands back when it stops.
#[derive(Clone, Debug, Default)]
pub struct TradingReport {
    /// Order latency.
    pub latency: OrderLatency,
}

/// The thread's recorder: histograms plus the write stamps awaiting acks.
#[derive(Debug)]
pub(crate) struct Recorder {
    pub(crate) latency: OrderLatency,
    /// (client id, write stamp); `ClientId::EMPTY` marks a free slot.
    written: Box<[(ClientId, Nanos)]>,
}

impl Recorder {
    pub(crate) fn new() -> Recorder {
        Recorder {
            latency: OrderLatency::default(),
            written: vec![(ClientId::EMPTY, 0); SLOTS].into_boxed_slice(),
        }
    }

    /// Empties the histograms (keeps their memory) and the pending stamps.
    pub(crate) fn reset(&mut self) {
        self.latency.push_to_wire.reset();
        self.latency.push_to_send.reset();
        self.latency.wire_to_ack.reset();
        self.latency.lost = 0;
        for s in self.written.iter_mut() {
            s.0 = ClientId::EMPTY;
        }
    }

    fn slot(id: &ClientId) -> usize {
        (id.hash64() as usize) & (SLOTS - 1)
    }

    /// `send` was written: `before` just before the write call, `after`
    /// once it returned; `pushed` is the push stamp when `send` is what the
    /// strategy pushed (not a retry or a status query).
    pub(crate) fn written(
        &mut self,
        send: &Send,
        pushed: Option<Nanos>,
        before: Nanos,
        after: Nanos,
    ) {
        if let Some(p) = pushed {
            self.latency
                .push_to_send
                .saturating_record(before.saturating_sub(p).max(1));
            self.latency
                .push_to_wire
                .saturating_record(after.saturating_sub(p).max(1));
        }
        let id = match send {
            Send::New { order, .. } => order.client_id,
            Send::CancelReplace { new, .. } => new.client_id,
            _ => return,
        };
        let slot = &mut self.written[Self::slot(&id)];
        if !slot.0.is_empty() {
            self.latency.lost += 1;
        }
        *slot = (id, after);
    }

    /// An ack for `id` was decoded at `at`.
    pub(crate) fn acked(&mut self, id: &ClientId, at: Nanos) {
        let slot = &mut self.written[Self::slot(id)];
        if !slot.0.is_empty() && slot.0 == *id {
            self.latency
                .wire_to_ack
                .saturating_record(at.saturating_sub(slot.1).max(1));
            slot.0 = ClientId::EMPTY;
        }
    }
}

/// True when `send` is the write of the request the strategy pushed.
pub(crate) fn answers(req: &Request, send: &Send) -> bool {
    match (req, send) {
        (Request::New(o), Send::New { order, .. }) => o.client_id == order.client_id,
        (Request::Cancel(c), Send::Cancel { cancel, .. }) => c.client_id == cancel.client_id,
        (Request::CancelReplace(r), Send::CancelReplace { new, .. }) => {
            r.new.client_id == new.client_id
        }
        (Request::CancelAll(i), Send::CancelAll { instrument, .. }) => i == instrument,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::{NewOrder, OrderType, TimeInForce};
    use crate::types::{InstrumentId, Price, Qty, Side};

    fn order(id: &str) -> NewOrder {
        NewOrder {
            client_id: ClientId::new(id.as_bytes()).unwrap(),
            instrument: InstrumentId(0),
            side: Side::Bid,
            kind: OrderType::Limit,
            tif: TimeInForce::Gtc,
            price: Price(100),
            qty: Qty(1),
        }
    }

    #[test]
    fn push_write_and_ack_are_recorded_by_client_id() {
        let mut r = Recorder::new();
        let o = order("a-1");
        let send = Send::New { req: 1, order: o };
        assert!(answers(&Request::New(o), &send));
        assert!(!answers(&Request::New(order("a-2")), &send));
        r.written(&send, Some(1_000), 1_700, 4_000);
        r.acked(&order("a-2").client_id, 9_000); // someone else's ack: nothing
        r.acked(&o.client_id, 54_000);
        r.acked(&o.client_id, 99_000); // a second ack: nothing
        let l = &r.latency;
        assert_eq!(l.push_to_send.len(), 1);
        assert!(l.push_to_send.equivalent(l.push_to_send.max(), 700));
        assert!(l.push_to_wire.equivalent(l.push_to_wire.max(), 3_000));
        assert_eq!(l.wire_to_ack.len(), 1);
        assert!(l.wire_to_ack.equivalent(l.wire_to_ack.max(), 50_000));
        // A retry (no push stamp) records no push latency.
        r.written(&send, None, 5, 6);
        assert_eq!(r.latency.push_to_wire.len(), 1);
    }
}
