//! The order state machine on virtual time: acks, fills, cancels, in-doubt
//! orders and how only the venue resolves them, never a duplicate send.

use tickwire::orders::{
    Cancel, ClientId, ClientIdGen, ExecReport, FillInfo, NewOrder, OrderState, OrderType, Orders,
    OrdersConfig, RejectReason, Reply, ReportKind, Send, TimeInForce, VenueOrder, VenueStatus,
    VenueText,
};
use tickwire::types::{InstrumentId, Nanos, Price, Qty, Side};

const S: Nanos = 1_000_000_000;
const T0: Nanos = 1_764_547_200 * S; // 2025-12-01T00:00:00Z

fn cfg() -> OrdersConfig {
    OrdersConfig {
        capacity: 64,
        instruments: 4,
        request_timeout: 2 * S,
        recv_window: 5 * S,
        query_retry: S,
        linger: 60 * S,
        resend_absent: false,
    }
}

fn order(id: ClientId, qty: i64) -> NewOrder {
    NewOrder {
        client_id: id,
        instrument: InstrumentId(1),
        side: Side::Bid,
        kind: OrderType::Limit,
        tif: TimeInForce::Gtc,
        price: Price(4_300_001),
        qty: Qty(qty),
    }
}

fn venue(id: ClientId, status: VenueStatus, cum: i64, fill: Option<(i64, i64)>) -> VenueOrder {
    VenueOrder {
        client_id: id,
        venue_order_id: 77,
        status,
        cum_qty: Qty(cum),
        fill: fill.map(|(t, q)| FillInfo {
            trade_id: t,
            price: Price(4_300_000),
            qty: Qty(q),
        }),
        code: 0,
        text: VenueText::EMPTY,
    }
}

fn all(_: tickwire::orders::RequestKind) -> bool {
    true
}

fn sends(o: &mut Orders, now: Nanos) -> Vec<Send> {
    let mut v = Vec::new();
    for _ in 0..100 {
        match o.poll_send(now, &mut all) {
            Some(s) => v.push(s),
            None => break,
        }
    }
    v
}

fn reports(o: &mut Orders) -> Vec<ExecReport> {
    let mut v = Vec::new();
    for _ in 0..100 {
        match o.poll_report() {
            Some(r) => v.push(r),
            None => break,
        }
    }
    v
}

fn kinds(rs: &[ExecReport]) -> Vec<ReportKind> {
    rs.iter().map(|r| r.kind).collect()
}

fn setup() -> (Orders, ClientId, u64) {
    let mut o = Orders::new(cfg());
    let id = ClientIdGen::new("t").unwrap().mint();
    o.submit(order(id, 10), T0).unwrap();
    let s = sends(&mut o, T0);
    assert_eq!(s.len(), 1);
    let Send::New { req, order: sent } = s[0] else {
        panic!("{s:?}")
    };
    assert_eq!(sent.client_id, id);
    (o, id, req)
}

#[test]
fn ack_partial_fill_fill() {
    let (mut o, id, req) = setup();
    o.handle_reply(
        req,
        &Reply::Order(venue(id, VenueStatus::New, 0, None)),
        T0 + 1,
    );
    o.handle_update(
        &venue(id, VenueStatus::PartiallyFilled, 4, Some((1, 4))),
        T0 + 2,
    );
    o.handle_update(&venue(id, VenueStatus::Filled, 10, Some((2, 6))), T0 + 3);
    let r = reports(&mut o);
    assert_eq!(
        kinds(&r),
        [ReportKind::Ack, ReportKind::PartialFill, ReportKind::Fill]
    );
    assert_eq!((r[1].last_qty, r[1].filled_qty), (Qty(4), Qty(4)));
    assert_eq!((r[2].last_qty, r[2].filled_qty), (Qty(6), Qty(10)));
    assert_eq!(r[2].last_price, Price(4_300_000));
    assert_eq!(r[0].venue_order_id, 77);
    assert_eq!(o.state(&id), Some((OrderState::Filled, Qty(10))));
    assert_eq!(o.open_total(), 0);
}

#[test]
fn duplicate_and_out_of_order_fills_count_once_and_never_go_back() {
    let (mut o, id, _) = setup();
    let f1 = venue(id, VenueStatus::PartiallyFilled, 3, Some((11, 3)));
    let f2 = venue(id, VenueStatus::PartiallyFilled, 7, Some((12, 4)));
    o.handle_update(&f2, T0 + 1);
    o.handle_update(&f1, T0 + 2); // older, arrives late
    o.handle_update(&f2, T0 + 3); // duplicate
    let over = venue(id, VenueStatus::PartiallyFilled, 11, Some((13, 4)));
    o.handle_update(&over, T0 + 4); // more than the order: ignored
    let r = reports(&mut o);
    assert_eq!(kinds(&r), [ReportKind::Ack, ReportKind::PartialFill]);
    assert_eq!(r[1].filled_qty, Qty(7));
    assert_eq!(o.state(&id), Some((OrderState::PartiallyFilled, Qty(7))));
    assert_eq!(o.stats().anomalies, 1);
}

#[test]
fn a_refused_order_is_rejected_with_the_venue_code() {
    let (mut o, id, req) = setup();
    let text = VenueText::new(b"Account has insufficient balance");
    o.handle_reply(req, &Reply::Refused { code: -2010, text }, T0 + 1);
    let r = reports(&mut o);
    assert_eq!(kinds(&r), [ReportKind::Reject]);
    assert_eq!(r[0].reason, Some(RejectReason::Venue));
    assert_eq!(r[0].venue_code, -2010);
    assert_eq!(r[0].text.as_str(), "Account has insufficient balance");
    assert_eq!(o.state(&id).unwrap().0, OrderState::Rejected);
}

#[test]
fn a_timeout_puts_the_order_in_doubt_and_queries_instead_of_resending() {
    let (mut o, id, _) = setup();
    assert_eq!(o.poll_timeout(), Some(T0 + 2 * S));
    assert_eq!(o.handle_timeouts(T0 + 2 * S), 1);
    assert_eq!(kinds(&reports(&mut o)), [ReportKind::InDoubt]);
    let s = sends(&mut o, T0 + 2 * S);
    assert!(
        matches!(s[..], [Send::Query { client_id, .. }] if client_id == id),
        "{s:?}"
    );
    // Query says "no such order", but the original could still arrive: no verdict.
    o.handle_reply(
        s[0].req(),
        &Reply::NotFound {
            code: -2013,
            text: VenueText::EMPTY,
        },
        T0 + 2 * S + 1,
    );
    assert!(reports(&mut o).is_empty());
    assert_eq!(o.state(&id).unwrap().0, OrderState::InDoubt);
    // The venue reports the order after all: resolved by evidence.
    o.handle_update(&venue(id, VenueStatus::New, 0, None), T0 + 3 * S);
    assert_eq!(kinds(&reports(&mut o)), [ReportKind::Ack]);
    assert_eq!(o.sends_of(&id), Some(1));
    // One more query settles it (the doubt came before the last answer);
    // after its answer nothing else goes out: no re-send, no further query.
    let q = sends(&mut o, T0 + 8 * S);
    assert!(matches!(q[..], [Send::Query { .. }]), "{q:?}");
    o.handle_reply(
        q[0].req(),
        &Reply::Order(venue(id, VenueStatus::New, 0, None)),
        T0 + 8 * S,
    );
    assert!(reports(&mut o).is_empty());
    o.handle_timeouts(T0 + 30 * S);
    assert!(sends(&mut o, T0 + 30 * S).is_empty());
    assert_eq!(o.sends_of(&id), Some(1));
}

#[test]
fn unknown_outcome_then_status_query_resolves_to_filled() {
    let (mut o, id, req) = setup();
    let text = VenueText::new(b"Timeout waiting for response from backend server.");
    o.handle_reply(req, &Reply::Unknown { code: -1007, text }, T0 + 1);
    assert_eq!(kinds(&reports(&mut o)), [ReportKind::InDoubt]);
    let s = sends(&mut o, T0 + 1);
    assert!(matches!(s[..], [Send::Query { .. }]), "{s:?}");
    o.handle_reply(
        s[0].req(),
        &Reply::Order(venue(id, VenueStatus::Filled, 10, None)),
        T0 + 2,
    );
    let r = reports(&mut o);
    assert_eq!(kinds(&r), [ReportKind::Ack, ReportKind::Fill]);
    assert_eq!(r[1].filled_qty, Qty(10));
    assert_eq!(o.sends_of(&id), Some(1));
}

#[test]
fn absence_proven_after_the_receive_window_is_a_reject_by_evidence() {
    let (mut o, id, _) = setup();
    o.handle_disconnect(T0 + 1);
    assert_eq!(kinds(&reports(&mut o)), [ReportKind::InDoubt]);
    // Too early to prove anything: re-asked after sent + recv window + timeout.
    let q = sends(&mut o, T0 + 1);
    o.handle_reply(
        q[0].req(),
        &Reply::NotFound {
            code: -2013,
            text: VenueText::EMPTY,
        },
        T0 + S,
    );
    assert!(reports(&mut o).is_empty());
    assert!(
        sends(&mut o, T0 + 6 * S).is_empty(),
        "not before the window has passed"
    );
    o.handle_timeouts(T0 + 7 * S);
    let q = sends(&mut o, T0 + 7 * S + 1);
    assert!(matches!(q[..], [Send::Query { .. }]), "{q:?}");
    o.handle_reply(
        q[0].req(),
        &Reply::NotFound {
            code: -2013,
            text: VenueText::EMPTY,
        },
        T0 + 8 * S,
    );
    let r = reports(&mut o);
    assert_eq!(kinds(&r), [ReportKind::Reject]);
    assert_eq!(r[0].reason, Some(RejectReason::AbsentAtVenue));
    assert_eq!(o.sends_of(&id), Some(1));
}

#[test]
fn a_resend_after_proven_absence_is_dropped_when_the_venue_reports_first() {
    let mut o = Orders::new(OrdersConfig {
        resend_absent: true,
        ..cfg()
    });
    let id = ClientIdGen::new("r").unwrap().mint();
    o.submit(order(id, 5), T0).unwrap();
    let _ = sends(&mut o, T0);
    o.handle_timeouts(T0 + 10 * S);
    let _ = reports(&mut o);
    let q = sends(&mut o, T0 + 10 * S);
    o.handle_reply(
        q[0].req(),
        &Reply::NotFound {
            code: -2013,
            text: VenueText::EMPTY,
        },
        T0 + 11 * S,
    );
    // A re-send is now queued; the user-data stream reports the order first.
    o.handle_update(&venue(id, VenueStatus::New, 0, None), T0 + 11 * S + 1);
    assert!(sends(&mut o, T0 + 11 * S + 2).is_empty());
    assert_eq!(o.sends_of(&id), Some(1));
    assert_eq!(o.stats().resends_dropped, 1);
}

#[test]
fn a_late_fill_after_a_cancel_is_applied_and_the_outcome_stays_canceled() {
    let (mut o, id, req) = setup();
    o.handle_reply(
        req,
        &Reply::Order(venue(id, VenueStatus::New, 0, None)),
        T0 + 1,
    );
    o.cancel(Cancel {
        client_id: id,
        instrument: InstrumentId(1),
    })
    .unwrap();
    let s = sends(&mut o, T0 + 2);
    let Send::Cancel {
        req: creq,
        venue_order_id,
        ..
    } = s[0]
    else {
        panic!("{s:?}")
    };
    assert_eq!(venue_order_id, 77);
    o.handle_reply(
        creq,
        &Reply::Order(venue(id, VenueStatus::Canceled, 0, None)),
        T0 + 3,
    );
    o.handle_update(
        &venue(id, VenueStatus::PartiallyFilled, 2, Some((9, 2))),
        T0 + 4,
    );
    let r = kinds(&reports(&mut o));
    assert_eq!(
        r,
        [
            ReportKind::Ack,
            ReportKind::Canceled,
            ReportKind::PartialFill
        ]
    );
    assert_eq!(o.state(&id), Some((OrderState::Canceled, Qty(2))));
}

#[test]
fn a_late_reply_after_a_timeout_is_evidence() {
    let (mut o, id, req) = setup();
    o.handle_timeouts(T0 + 2 * S);
    let _ = reports(&mut o);
    o.handle_reply(
        req,
        &Reply::Refused {
            code: -1013,
            text: VenueText::EMPTY,
        },
        T0 + 3 * S,
    );
    let r = reports(&mut o);
    assert_eq!(kinds(&r), [ReportKind::Reject]);
    assert_eq!(r[0].venue_code, -1013);
    assert_eq!(o.state(&id).unwrap().0, OrderState::Rejected);
}

#[test]
fn cancel_of_a_missing_order_is_a_cancel_reject_and_changes_nothing() {
    let (mut o, id, req) = setup();
    o.handle_reply(
        req,
        &Reply::Order(venue(id, VenueStatus::New, 0, None)),
        T0 + 1,
    );
    o.cancel(Cancel {
        client_id: id,
        instrument: InstrumentId(1),
    })
    .unwrap();
    let s = sends(&mut o, T0 + 2);
    o.handle_reply(
        s[0].req(),
        &Reply::NotFound {
            code: -2011,
            text: VenueText::EMPTY,
        },
        T0 + 3,
    );
    let r = reports(&mut o);
    assert_eq!(kinds(&r), [ReportKind::Ack, ReportKind::CancelReject]);
    assert_eq!(r[1].venue_code, -2011);
    assert_eq!(o.state(&id).unwrap().0, OrderState::Acked);
    let unknown = ClientIdGen::new("zz").unwrap().mint();
    let err = o.cancel(Cancel {
        client_id: unknown,
        instrument: InstrumentId(1),
    });
    assert_eq!(err, Err(RejectReason::UnknownOrder));
}

#[test]
fn duplicate_client_ids_and_finished_orders_are_reclaimed_after_linger() {
    let (mut o, id, req) = setup();
    assert_eq!(
        o.submit(order(id, 1), T0),
        Err(RejectReason::DuplicateClientId)
    );
    o.handle_reply(
        req,
        &Reply::Order(venue(id, VenueStatus::Expired, 0, None)),
        T0 + 1,
    );
    assert_eq!(o.state(&id).unwrap().0, OrderState::Expired);
    o.handle_timeouts(T0 + 61 * S);
    assert_eq!(o.state(&id), None, "reclaimed after the linger time");
}

#[test]
fn cancel_replace_tracks_the_replacement_and_applies_both_results() {
    let (mut o, old, req) = setup();
    o.handle_reply(
        req,
        &Reply::Order(venue(old, VenueStatus::New, 0, None)),
        T0 + 1,
    );
    let new_id = ClientIdGen::new("n").unwrap().mint();
    let mut replacement = order(new_id, 8);
    replacement.price = Price(4_300_100);
    o.cancel_replace(old, replacement, T0 + 2).unwrap();
    let s = sends(&mut o, T0 + 2);
    let [Send::CancelReplace { req, cancel, new }] = s[..] else {
        panic!("{s:?}")
    };
    assert_eq!((cancel, new), (old, replacement));
    // The reply's new-order result, then its cancel result (the codec's `also`).
    o.handle_reply(
        req,
        &Reply::Order(venue(new_id, VenueStatus::New, 0, None)),
        T0 + 3,
    );
    o.handle_update(&venue(old, VenueStatus::Canceled, 0, None), T0 + 3);
    let r = reports(&mut o);
    let got: Vec<_> = r.iter().map(|r| (r.kind, r.client_id)).collect();
    assert_eq!(
        got,
        [
            (ReportKind::Ack, old),
            (ReportKind::Ack, new_id),
            (ReportKind::Canceled, old)
        ]
    );
    assert_eq!(o.open_total(), 1);
    assert_eq!(
        o.cancel_replace(ClientIdGen::new("x").unwrap().mint(), order(new_id, 1), T0),
        Err(RejectReason::UnknownOrder)
    );
}
