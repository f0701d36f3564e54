//! The fixed-size values a strategy exchanges with the order-entry thread:
//! requests in, execution reports out. All `Copy`, no pointers, no heap.

use crate::types::{InstrumentId, Nanos, Price, Qty, Side};

use super::ClientId;

/// What kind of order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderType {
    /// A limit order at `price`.
    Limit,
    /// A market order (`price` is ignored, but risk may use it as a bound).
    Market,
}

/// How long an order may rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeInForce {
    /// Good till canceled.
    Gtc,
    /// Immediate or cancel: what does not trade at once expires.
    Ioc,
    /// Fill or kill: all at once or nothing.
    Fok,
    /// Post-only: rests, or is rejected if it would take liquidity
    /// (Binance spot `LIMIT_MAKER`, USD-M `GTX`).
    PostOnly,
}

/// A new order. `price` and `qty` are mantissas at the instrument's scales.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewOrder {
    /// The id the strategy minted from its [`super::ClientIdGen`].
    pub client_id: ClientId,
    /// The instrument (its venue symbol and scales come from the registry).
    pub instrument: InstrumentId,
    /// `Bid` buys, `Ask` sells.
    pub side: Side,
    /// Limit or market.
    pub kind: OrderType,
    /// Time in force (market orders: `Ioc`/`Fok` or `Gtc`, which the venue
    /// treats as immediate anyway).
    pub tif: TimeInForce,
    /// Limit price (market orders: zero, or a protection bound for risk).
    pub price: Price,
    /// Quantity.
    pub qty: Qty,
}

/// Cancel one order by the client id it was placed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancel {
    /// The order's client id.
    pub client_id: ClientId,
    /// Its instrument (the venue needs the symbol).
    pub instrument: InstrumentId,
}

/// Cancel an order and place a replacement in one request (spot
/// `order.cancelReplace`, USD-M `order.modify`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CancelReplace {
    /// The order to cancel.
    pub cancel: ClientId,
    /// The replacement (its own fresh client id).
    pub new: NewOrder,
}

/// A request a strategy pushes into its ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// Place an order.
    New(NewOrder),
    /// Cancel an order.
    Cancel(Cancel),
    /// Cancel one order and place another.
    CancelReplace(CancelReplace),
    /// Cancel every open order of one instrument.
    CancelAll(InstrumentId),
}

/// Why an order or request was refused, locally or by the venue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// The venue refused it (`venue_code` and `text` say why).
    Venue,
    /// Over a venue rate limit; refused locally, never sent (`rate_limit`).
    RateLimit,
    /// The session's circuit breaker is open (`circuit_open`).
    CircuitOpen,
    /// The session is banned by the venue (418) until a time.
    Banned,
    /// Quantity above the per-order maximum.
    MaxQty,
    /// Notional (price × qty) above the per-order maximum.
    MaxNotional,
    /// Price outside the band around the reference price.
    PriceBand,
    /// Too many open orders on this instrument.
    MaxOpenInstrument,
    /// Too many open orders in total.
    MaxOpenTotal,
    /// The kill switch is on.
    KillSwitch,
    /// Zero or negative quantity, or a non-positive limit price.
    InvalidOrder,
    /// Price not a multiple of the tick, or quantity not of the lot.
    OffGrid,
    /// The instrument is not known to this session.
    UnknownInstrument,
    /// The client id is already in use in this session.
    DuplicateClientId,
    /// The client id names no order of this session (cancel).
    UnknownOrder,
    /// The order table or the in-flight table is full.
    Capacity,
    /// A status query proved the order never reached the venue (after the
    /// time it could still have arrived): the venue's own evidence.
    AbsentAtVenue,
    /// The session is not logged on (disconnected or reconciling).
    NotReady,
    /// Over the strategy's own new-orders-per-second cap (`strategy_rate`).
    StrategyRate,
}

impl RejectReason {
    /// The snake-case name used in reports and logs.
    pub const fn name(self) -> &'static str {
        match self {
            RejectReason::Venue => "venue",
            RejectReason::RateLimit => "rate_limit",
            RejectReason::CircuitOpen => "circuit_open",
            RejectReason::Banned => "banned",
            RejectReason::MaxQty => "max_qty",
            RejectReason::MaxNotional => "max_notional",
            RejectReason::PriceBand => "price_band",
            RejectReason::MaxOpenInstrument => "max_open_instrument",
            RejectReason::MaxOpenTotal => "max_open_total",
            RejectReason::KillSwitch => "kill_switch",
            RejectReason::InvalidOrder => "invalid_order",
            RejectReason::OffGrid => "off_grid",
            RejectReason::UnknownInstrument => "unknown_instrument",
            RejectReason::DuplicateClientId => "duplicate_client_id",
            RejectReason::UnknownOrder => "unknown_order",
            RejectReason::Capacity => "capacity",
            RejectReason::AbsentAtVenue => "absent_at_venue",
            RejectReason::NotReady => "not_ready",
            RejectReason::StrategyRate => "strategy_rate",
        }
    }
}

/// Capacity of [`VenueText`].
pub const VENUE_TEXT_CAP: usize = 62;

/// The venue's message text, truncated to [`VENUE_TEXT_CAP`] bytes (at a
/// UTF-8 boundary), stored inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct VenueText {
    len: u8,
    bytes: [u8; VENUE_TEXT_CAP],
}

impl VenueText {
    /// No text.
    pub const EMPTY: VenueText = VenueText {
        len: 0,
        bytes: [0; VENUE_TEXT_CAP],
    };

    /// Copies (a prefix of) `text`; invalid UTF-8 is cut at the first bad byte.
    pub fn new(text: &[u8]) -> VenueText {
        let valid = match std::str::from_utf8(text) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&text[..e.valid_up_to()]).unwrap_or(""),
        };
        let mut end = valid.len().min(VENUE_TEXT_CAP);
        while !valid.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0; VENUE_TEXT_CAP];
        bytes[..end].copy_from_slice(&valid.as_bytes()[..end]);
        VenueText {
            len: end as u8,
            bytes,
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl std::fmt::Debug for VenueText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

/// The state of a trading session, reported as [`ReportKind::Status`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStatus {
    /// Logged on and reconciled: orders are accepted.
    Ready,
    /// Disconnected or reconciling: new orders are refused (`not_ready`).
    NotReady,
    /// The circuit breaker opened: new orders are refused (`circuit_open`).
    BreakerOpen,
    /// The breaker admits a few probe orders.
    BreakerHalfOpen,
    /// The breaker closed again.
    BreakerClosed,
    /// The venue said 429: nothing is sent until `until` (UTC ns).
    RateLimited,
    /// The venue said 418: banned until `until` (UTC ns).
    Banned,
    /// The kill switch was turned on.
    KillSwitchOn,
    /// The kill switch was reset.
    KillSwitchOff,
}

/// What an execution report says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportKind {
    /// The venue accepted the order.
    Ack,
    /// The order was refused (locally or by the venue): see `reason`.
    Reject,
    /// A fill that leaves the order open (`last_*` is this fill).
    PartialFill,
    /// The fill that completes the order.
    Fill,
    /// The order is canceled (fills reported after this are late fills).
    Canceled,
    /// A cancel was refused; the order's state is unchanged.
    CancelReject,
    /// The venue expired the order (IOC/FOK remainder, post-only that would cross).
    Expired,
    /// The outcome is unknown (timeout, disconnect, -1007, 5xx); a status
    /// query is under way. Resolved by a later report from the venue only.
    InDoubt,
    /// A session status change (`status`, `until`).
    Status,
}

impl ReportKind {
    /// The snake-case name used by the CLI's JSON lines.
    pub const fn name(self) -> &'static str {
        match self {
            ReportKind::Ack => "ack",
            ReportKind::Reject => "reject",
            ReportKind::PartialFill => "partial_fill",
            ReportKind::Fill => "fill",
            ReportKind::Canceled => "canceled",
            ReportKind::CancelReject => "cancel_reject",
            ReportKind::Expired => "expired",
            ReportKind::InDoubt => "in_doubt",
            ReportKind::Status => "status",
        }
    }
}

/// An execution report, pushed to the strategy's report ring. Fields that
/// do not apply to `kind` are zero / `None` / empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecReport {
    /// What happened.
    pub kind: ReportKind,
    /// The order's client id (empty for `Status` and cancel-all).
    pub client_id: ClientId,
    /// The venue's order id, once known (0 before).
    pub venue_order_id: u64,
    /// The instrument.
    pub instrument: InstrumentId,
    /// The order's side.
    pub side: Side,
    /// The order's limit price.
    pub price: Price,
    /// The order's quantity.
    pub qty: Qty,
    /// Cumulative filled quantity (never decreases, never above `qty`).
    pub filled_qty: Qty,
    /// Price of the fill this report announces.
    pub last_price: Price,
    /// Quantity this report adds to `filled_qty`.
    pub last_qty: Qty,
    /// Why, for `Reject` / `CancelReject`.
    pub reason: Option<RejectReason>,
    /// The venue's error code (0 if none).
    pub venue_code: i32,
    /// The venue's message text.
    pub text: VenueText,
    /// The session status, for `Status`.
    pub status: Option<SessionStatus>,
    /// For `Status`: until when (UTC ns) a pause or ban lasts, else 0.
    pub until: Nanos,
    /// When the order-entry core produced this report (UTC ns).
    pub ts: Nanos,
}

impl ExecReport {
    /// A report about `order` with every other field empty.
    pub fn about(kind: ReportKind, order: &NewOrder, ts: Nanos) -> ExecReport {
        ExecReport {
            kind,
            client_id: order.client_id,
            venue_order_id: 0,
            instrument: order.instrument,
            side: order.side,
            price: order.price,
            qty: order.qty,
            filled_qty: Qty::ZERO,
            last_price: Price::ZERO,
            last_qty: Qty::ZERO,
            reason: None,
            venue_code: 0,
            text: VenueText::EMPTY,
            status: None,
            until: 0,
            ts,
        }
    }

    /// A local rejection of `order`.
    pub fn local_reject(order: &NewOrder, reason: RejectReason, ts: Nanos) -> ExecReport {
        ExecReport {
            reason: Some(reason),
            ..ExecReport::about(ReportKind::Reject, order, ts)
        }
    }

    /// A session status report.
    pub fn status(status: SessionStatus, until: Nanos, ts: Nanos) -> ExecReport {
        ExecReport {
            kind: ReportKind::Status,
            client_id: ClientId::EMPTY,
            venue_order_id: 0,
            instrument: InstrumentId(0),
            side: Side::Bid,
            price: Price::ZERO,
            qty: Qty::ZERO,
            filled_qty: Qty::ZERO,
            last_price: Price::ZERO,
            last_qty: Qty::ZERO,
            reason: None,
            venue_code: 0,
            text: VenueText::EMPTY,
            status: Some(status),
            until,
            ts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn venue_text_truncates_at_a_char_boundary() {
        let long = "é".repeat(40); // 80 bytes
        let t = VenueText::new(long.as_bytes());
        assert_eq!(t.as_str().len(), 62);
        assert_eq!(t.as_str(), "é".repeat(31));
        assert_eq!(VenueText::new(b"ok\xffbad").as_str(), "ok");
    }

    #[test]
    fn requests_and_reports_are_small_copies() {
        assert!(
            std::mem::size_of::<Request>() <= 128,
            "{}",
            std::mem::size_of::<Request>()
        );
        assert!(std::mem::size_of::<ExecReport>() <= 192);
    }
}
