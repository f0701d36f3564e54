//! Order entry, sans-IO: what happens between a strategy's request and the
//! bytes a venue's trading connection writes, and back.
//!
//! ```text
//! strategy ──Request──► rtrb ring ──► Gate::submit(now)
//!                                       risk (Risk) → breaker (Breaker) → limits (RateLimits)
//!                                       → order table (Orders)
//!   IO layer: Gate::poll_send(now) → Send ──► venue codec (sign + encode) ──► socket
//!   socket ──► venue codec (decode) ──► Reply / VenueOrder
//!            ──► Gate::handle_reply / handle_update ──► ExecReport ──► report ring ──► strategy
//! ```
//!
//! Nothing here owns a socket, a thread or a clock. Every call takes
//! `now`: **UTC nanoseconds as the venue sees it** (the IO layer's
//! monotonic time plus the tracked offset to the venue's clock), because
//! venue limits run in fixed windows aligned to UTC and request timestamps
//! are the venue's time. Tests drive everything on
//! [`crate::types::ManualClock`].
//!
//! # Client ids
//! The strategy mints ids itself from the [`ClientIdGen`] the order-entry
//! handle gives it (one prefix per session and strategy), so it knows an
//! order's id before pushing the request and can cancel it at once.
//!
//! # The in-doubt rule
//! A timeout, a dropped connection with the request outstanding, a reply
//! that says the outcome is unknown (Binance `-1007`, any 5xx) puts a new
//! order **in doubt** ([`ReportKind::InDoubt`]). Only the venue resolves
//! it: a status-query reply, a user-data event, or a late reply. Tickwire
//! never turns it into a reject or a cancel on its own. A status query that
//! says "no such order" counts as proof of absence only when it was sent
//! after the original could no longer be accepted (its write time +
//! receive window + request timeout); then the order is reported rejected
//! with `absent_at_venue`, or, with [`OrdersConfig::resend_absent`], sent
//! again. A new order is otherwise written once: a queued (re-)send is
//! dropped the moment any channel reports the order.
//!
//! # What the IO layer (the order-entry thread) must do
//! * At start-up: open the trading connections, log on, subscribe user
//!   data, then [`Gate::set_ready`]`(true, now)`.
//! * Per strategy request: [`Gate::submit`].
//! * Whenever writable: loop on [`Gate::poll_send`], encoding each
//!   [`Send`] with the venue codec *at that moment* (the timestamp is
//!   signed then) and writing it.
//! * Per reply frame: decode, then [`Gate::handle_reply`] (with its rate
//!   limits and HTTP-style status); per user-data event:
//!   [`Gate::handle_update`].
//! * At [`Gate::poll_timeout`]: [`Gate::handle_timeouts`].
//! * On disconnect: [`Gate::handle_disconnect`]; after reconnect and
//!   logon: [`Gate::set_ready`] — due status queries go out first; new
//!   orders are accepted again when [`Orders::unresolved`] is false.
//! * Drain [`Gate::poll_report`] into the strategy's report ring; turn
//!   `Status` reports into one log line each (off the per-order path).

mod breaker;
mod client_id;
mod core;
mod evidence;
mod gate;
pub(crate) mod json;
mod queue;
pub mod ratelimit;
pub mod risk;
mod state;
mod strategy_rate;
mod table;
mod types;

pub use breaker::{Breaker, BreakerConfig, BreakerState};
pub use client_id::{CLIENT_ID_CAP, CLIENT_ID_PREFIX_CAP, ClientId, ClientIdGen, PrefixError};
pub use core::{Health, Orders, OrdersConfig, OrdersStats, RequestKind, Send};
pub use evidence::{FillInfo, Reply, VenueOrder, VenueStatus};
pub use gate::{Gate, MAX_REPLY_LIMITS, ReplyMeta};
pub use ratelimit::{Costs, LimitKind, LimitReport, Pause, RateLimits, WindowLimit};
pub use risk::{Risk, RiskLimits};
pub use state::OrderState;
pub use strategy_rate::{MAX_STRATEGIES, StrategyRate};
pub use types::{
    Cancel, CancelReplace, ExecReport, NewOrder, OrderType, RejectReason, ReportKind, Request,
    SessionStatus, TimeInForce, VENUE_TEXT_CAP, VenueText,
};
