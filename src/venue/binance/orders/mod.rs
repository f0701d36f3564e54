//! Binance order entry over the WebSocket API (spot `ws-api/v3`, USD-M
//! `ws-fapi/v1`): the venue-specific part of order entry — the request
//! envelope and its signing, the reply and user-data decoders, reply codes,
//! published limits and request weights, and the venue's clock offset.
//! Everything else (state machine, risk, limits, breaker) is in
//! [`crate::orders`].
//!
//! Per request the IO layer calls [`Encoder::write`] with the
//! [`Send`](crate::orders::Send) the gate produced and the venue's `now`
//! ([`ServerClock::venue_now`]), writes the bytes, and feeds each inbound
//! frame through [`Decoder::decode`] to the gate.

mod codes;
mod decode;
mod encode;
mod sign;
mod time;

pub use codes::{CANCEL_REJECTED, NO_SUCH_ORDER, TIMEOUT_UNKNOWN, classify, limits};
pub use decode::{Decoder, Inbound};
pub use encode::{ApiKeyError, EncodeError, Encoder, Market, write_fixed};
pub use sign::{KeyError, SIGNATURE_CAP, Signer};
pub use time::ServerClock;
