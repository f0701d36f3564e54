//! What the venue says, in venue-agnostic form: the inputs of the order
//! state machine. A venue codec turns its replies and user-data events
//! into these; the state machine never sees wire bytes.

use crate::types::{Price, Qty};

use super::{ClientId, VenueText};

/// An order's status as the venue states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VenueStatus {
    /// Accepted, resting (or about to trade).
    New,
    /// Partly filled, still open.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Canceled (by request, by the venue, or self-trade prevention).
    Canceled,
    /// Refused by the venue.
    Rejected,
    /// Expired (IOC/FOK remainder, post-only that would cross, GTD).
    Expired,
}

/// One fill, as the venue numbers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FillInfo {
    /// The venue's trade id (unique per instrument).
    pub trade_id: i64,
    /// Fill price.
    pub price: Price,
    /// Fill quantity.
    pub qty: Qty,
}

/// Everything one venue message says about one order (a reply's result, a
/// status query, an `executionReport`, an `ORDER_TRADE_UPDATE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VenueOrder {
    /// The order's client id (for a cancel event, the *original* id).
    pub client_id: ClientId,
    /// The venue's order id.
    pub venue_order_id: u64,
    /// The order's status after this message.
    pub status: VenueStatus,
    /// Cumulative filled quantity after this message.
    pub cum_qty: Qty,
    /// The fill this message announces, if it is a trade.
    pub fill: Option<FillInfo>,
    /// The venue's reject code, if any.
    pub code: i32,
    /// The venue's reject text, if any.
    pub text: VenueText,
}

/// The outcome of one request, as the codec classified the reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// A result about an order (placed, canceled, queried).
    Order(VenueOrder),
    /// Success without order detail (e.g. cancel-all).
    Done,
    /// Definitively refused: the request did nothing (HTTP 4xx-class with a
    /// code that proves it, or 429).
    Refused {
        /// The venue's code.
        code: i32,
        /// The venue's text.
        text: VenueText,
    },
    /// The order (or the order a cancel names) does not exist at the venue.
    NotFound {
        /// The venue's code.
        code: i32,
        /// The venue's text.
        text: VenueText,
    },
    /// The outcome is unknown (timeout at the venue, `-1007`, 5xx): the
    /// order may or may not exist.
    Unknown {
        /// The venue's code.
        code: i32,
        /// The venue's text.
        text: VenueText,
    },
}
