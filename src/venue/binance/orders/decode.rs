//! Binance WebSocket API replies and user-data events → the order core's
//! inputs. Fields are read in any order; numbers are exact (decimal
//! strings at the instrument's scales); anything malformed is a
//! [`DecodeError`] naming the field, never a panic.

use crate::orders::json::{Elems, Fields, Val, int, object};
use crate::orders::ratelimit::{LimitKind, LimitReport};
use crate::orders::{
    ClientId, FillInfo, MAX_REPLY_LIMITS, Reply, ReplyMeta, VenueOrder, VenueStatus, VenueText,
};
use crate::types::{Nanos, Price, Qty, Registry, Scale, Venue};
use crate::venue::{DecodeError, JsonType, Location, What};

use super::codes::classify;
use super::encode::Market;

/// What one inbound frame was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "returned by value once per frame; boxing the reply would allocate"
)]
pub enum Inbound {
    /// A reply to request `req`.
    Reply {
        /// The request id (0 if the venue sent none).
        req: u64,
        /// What it says about the request.
        reply: Reply,
        /// Status, retry-after, limit counts.
        meta: ReplyMeta,
        /// A second order the reply reports (the canceled order of a
        /// cancel-replace): feed it to `handle_update`.
        also: Option<VenueOrder>,
        /// The venue's clock, when the reply carries it (`serverTime`), ms.
        server_time_ms: Option<u64>,
    },
    /// A user-data event about an order.
    Update(VenueOrder),
    /// Anything else (account updates, subscription acks): nothing to do.
    Other,
}

/// Decodes one trading connection's frames.
#[derive(Debug)]
pub struct Decoder {
    venue: Venue,
    registry: Registry,
}

type R<T> = Result<T, DecodeError>;

impl Decoder {
    /// A decoder for `market`, resolving symbols in `registry`.
    pub fn new(market: Market, registry: &Registry) -> Decoder {
        Decoder {
            venue: match market {
                Market::Spot => Venue::BinanceSpot,
                Market::Usdm => Venue::BinanceUsdm,
            },
            registry: registry.clone(),
        }
    }

    fn err(&self, what: What, key: &'static str) -> DecodeError {
        DecodeError {
            venue: self.venue,
            what,
            at: Location::field(key),
        }
    }

    fn syntax(&self, at: usize) -> DecodeError {
        DecodeError {
            venue: self.venue,
            what: What::InvalidJson,
            at: Location::Byte(u32::try_from(at).unwrap_or(u32::MAX)),
        }
    }

    fn obj<'a>(&self, v: Val<'a>, key: &'static str) -> R<&'a [u8]> {
        match v {
            Val::Obj(o) => Ok(o),
            _ => Err(self.err(What::Expected(JsonType::Object), key)),
        }
    }

    fn string<'a>(&self, v: Val<'a>, key: &'static str) -> R<&'a [u8]> {
        match v {
            Val::Str(s) => Ok(s),
            _ => Err(self.err(What::Expected(JsonType::String), key)),
        }
    }

    fn integer(&self, v: Val<'_>, key: &'static str) -> R<i64> {
        match v {
            Val::Num(n) => int(n).ok_or(self.err(What::Expected(JsonType::Integer), key)),
            _ => Err(self.err(What::Expected(JsonType::Integer), key)),
        }
    }

    fn unsigned(&self, v: Val<'_>, key: &'static str) -> R<u64> {
        let n = self.integer(v, key)?;
        u64::try_from(n).map_err(|_| self.err(What::Expected(JsonType::UnsignedInteger), key))
    }

    fn client_id(&self, v: Val<'_>, key: &'static str) -> R<ClientId> {
        ClientId::new(self.string(v, key)?).ok_or(self.err(What::UnknownMessage, key))
    }

    fn scales(&self, symbol: Option<&[u8]>, key: &'static str) -> R<(Scale, Scale)> {
        let s = symbol.ok_or(self.err(What::Missing, key))?;
        let i = self
            .registry
            .lookup(self.venue, s)
            .ok_or(self.err(What::UnknownMessage, key))?;
        Ok((i.price_scale, i.qty_scale))
    }

    fn qty(&self, v: Option<Val<'_>>, scale: Scale, key: &'static str) -> R<Qty> {
        let s = self.string(v.ok_or(self.err(What::Missing, key))?, key)?;
        Qty::parse(s, scale).map_err(|e| self.err(What::Number(e), key))
    }

    fn price(&self, v: Option<Val<'_>>, scale: Scale, key: &'static str) -> R<Price> {
        let s = self.string(v.ok_or(self.err(What::Missing, key))?, key)?;
        Price::parse(s, scale).map_err(|e| self.err(What::Number(e), key))
    }

    fn status(&self, v: Option<Val<'_>>, key: &'static str) -> R<VenueStatus> {
        let s = self.string(v.ok_or(self.err(What::Missing, key))?, key)?;
        Ok(match s {
            b"NEW" | b"PENDING_NEW" | b"PENDING_CANCEL" => VenueStatus::New,
            b"PARTIALLY_FILLED" => VenueStatus::PartiallyFilled,
            b"FILLED" => VenueStatus::Filled,
            b"CANCELED" => VenueStatus::Canceled,
            b"REJECTED" => VenueStatus::Rejected,
            b"EXPIRED" | b"EXPIRED_IN_MATCH" => VenueStatus::Expired,
            _ => return Err(self.err(What::UnknownMessage, key)),
        })
    }

    /// Decodes one frame from the trading connection (or the USD-M
    /// user-data connection).
    pub fn decode(&self, frame: &[u8]) -> R<Inbound> {
        if frame.is_empty() {
            return Err(DecodeError {
                venue: self.venue,
                what: What::Empty,
                at: Location::Root,
            });
        }
        let root = object(frame).map_err(|at| self.syntax(at))?;
        let mut id = None;
        let mut status = None;
        let mut result = None;
        let mut error = None;
        let mut limits = None;
        let mut event = None;
        let mut e = None;
        for f in Fields::new(root) {
            let (k, v) = f.map_err(|at| self.syntax(at))?;
            match k {
                b"id" => id = Some(v),
                b"status" => status = Some(v),
                b"result" => result = Some(v),
                b"error" => error = Some(v),
                b"rateLimits" => limits = Some(v),
                b"event" | b"data" => event = Some(v),
                b"e" => e = Some(v),
                _ => {}
            }
        }
        if let Some(s) = status {
            let status = u16::try_from(self.unsigned(s, "status")?)
                .map_err(|_| self.err(What::Expected(JsonType::UnsignedInteger), "status"))?;
            return self.reply(id, status, result, error, limits);
        }
        if let Some(ev) = event {
            return self.event(self.obj(ev, "event")?);
        }
        if e.is_some() {
            return self.event(root);
        }
        Err(self.err(What::UnknownMessage, "status"))
    }

    fn reply(
        &self,
        id: Option<Val<'_>>,
        status: u16,
        result: Option<Val<'_>>,
        error: Option<Val<'_>>,
        limits: Option<Val<'_>>,
    ) -> R<Inbound> {
        let req = match id {
            Some(Val::Num(n)) => int(n)
                .and_then(|v| u64::try_from(v).ok())
                .ok_or(self.err(What::Expected(JsonType::UnsignedInteger), "id"))?,
            Some(Val::Str(s)) => int(s).and_then(|v| u64::try_from(v).ok()).unwrap_or(0),
            _ => 0,
        };
        let mut meta = ReplyMeta {
            status,
            ..ReplyMeta::OK
        };
        if let Some(l) = limits {
            self.rate_limits(l, &mut meta)?;
        }
        let mut server_time_ms = None;
        if status == 200 {
            let (reply, also) = match result {
                Some(Val::Obj(o)) => self.result(o, &mut server_time_ms)?,
                Some(Val::Arr(_) | Val::Null) | None => (Reply::Done, None),
                Some(_) => return Err(self.err(What::Expected(JsonType::Object), "result")),
            };
            return Ok(Inbound::Reply {
                req,
                reply,
                meta,
                also,
                server_time_ms,
            });
        }
        let err = self.obj(error.ok_or(self.err(What::Missing, "error"))?, "error")?;
        let (mut code, mut msg) = (0i64, &b""[..]);
        for f in Fields::new(err) {
            let (k, v) = f.map_err(|at| self.syntax(at))?;
            match k {
                b"code" => code = self.integer(v, "code")?,
                b"msg" => msg = self.string(v, "msg")?,
                b"data" => {
                    if let Val::Obj(d) = v {
                        for g in Fields::new(d) {
                            let (k, v) = g.map_err(|at| self.syntax(at))?;
                            match k {
                                b"retryAfter" => {
                                    meta.retry_after = ms_to_ns(self.unsigned(v, "retryAfter")?)
                                }
                                b"serverTime" => {
                                    server_time_ms = Some(self.unsigned(v, "serverTime")?)
                                }
                                _ => {}
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let code = i32::try_from(code).map_err(|_| self.err(What::IdOutOfRange, "code"))?;
        let reply = classify(status, code, VenueText::new(msg));
        Ok(Inbound::Reply {
            req,
            reply,
            meta,
            also: None,
            server_time_ms,
        })
    }

    fn rate_limits(&self, v: Val<'_>, meta: &mut ReplyMeta) -> R<()> {
        let Val::Arr(a) = v else {
            return Err(self.err(What::Expected(JsonType::Array), "rateLimits"));
        };
        let mut n = 0;
        for el in Elems::new(a) {
            let o = self.obj(el.map_err(|at| self.syntax(at))?, "rateLimits")?;
            let (mut kind, mut unit, mut num, mut limit, mut count) =
                (None, 0u64, 0u64, 0u64, 0u64);
            for f in Fields::new(o) {
                let (k, v) = f.map_err(|at| self.syntax(at))?;
                match k {
                    b"rateLimitType" => {
                        kind = match self.string(v, "rateLimitType")? {
                            b"ORDERS" => Some(LimitKind::Orders),
                            b"REQUEST_WEIGHT" => Some(LimitKind::Weight),
                            _ => None,
                        }
                    }
                    b"interval" => {
                        unit = match self.string(v, "interval")? {
                            b"SECOND" => 1,
                            b"MINUTE" => 60,
                            b"HOUR" => 3_600,
                            b"DAY" => 86_400,
                            _ => return Err(self.err(What::UnknownMessage, "interval")),
                        }
                    }
                    b"intervalNum" => num = self.unsigned(v, "intervalNum")?,
                    b"limit" => limit = self.unsigned(v, "limit")?,
                    b"count" => count = self.unsigned(v, "count")?,
                    _ => {}
                }
            }
            let Some(kind) = kind else { continue };
            if n < MAX_REPLY_LIMITS && unit > 0 && num > 0 {
                meta.limits[n] = Some(LimitReport {
                    kind,
                    interval: unit.saturating_mul(num).saturating_mul(1_000_000_000),
                    limit: u32::try_from(limit).unwrap_or(u32::MAX),
                    count: u32::try_from(count).unwrap_or(u32::MAX),
                });
                n += 1;
            }
        }
        Ok(())
    }

    /// A 200 reply's `result` object.
    fn result(&self, o: &[u8], server_time: &mut Option<u64>) -> R<(Reply, Option<VenueOrder>)> {
        let mut cancel = None;
        let mut new = None;
        let mut is_order = false;
        for f in Fields::new(o) {
            let (k, v) = f.map_err(|at| self.syntax(at))?;
            match k {
                b"cancelResponse" => cancel = Some(self.obj(v, "cancelResponse")?),
                b"newOrderResponse" => new = Some(self.obj(v, "newOrderResponse")?),
                b"clientOrderId" => is_order = true,
                b"serverTime" => *server_time = Some(self.unsigned(v, "serverTime")?),
                _ => {}
            }
        }
        if let Some(n) = new {
            let also = cancel.map(|c| self.order_result(c)).transpose()?;
            return Ok((Reply::Order(self.order_result(n)?), also));
        }
        if is_order {
            return Ok((Reply::Order(self.order_result(o)?), None));
        }
        Ok((Reply::Done, None))
    }

    /// An order object as `order.*` replies carry it (spot and USD-M).
    fn order_result(&self, o: &[u8]) -> R<VenueOrder> {
        let (mut symbol, mut id, mut orig, mut oid, mut status, mut exec, mut fills) =
            (None, None, None, 0u64, None, None, None);
        for f in Fields::new(o) {
            let (k, v) = f.map_err(|at| self.syntax(at))?;
            match k {
                b"symbol" => symbol = Some(self.string(v, "symbol")?),
                b"clientOrderId" => id = Some(v),
                b"origClientOrderId" => orig = Some(v),
                b"orderId" => oid = self.unsigned(v, "orderId")?,
                b"status" => status = Some(v),
                b"executedQty" => exec = Some(v),
                b"fills" => fills = Some(v),
                _ => {}
            }
        }
        let (ps, qs) = self.scales(symbol, "symbol")?;
        // A cancel's reply names the order in `origClientOrderId`.
        let client_id = match orig {
            Some(v) => self.client_id(v, "origClientOrderId")?,
            None => self.client_id(
                id.ok_or(self.err(What::Missing, "clientOrderId"))?,
                "clientOrderId",
            )?,
        };
        let mut fill = None;
        if let Some(Val::Arr(a)) = fills {
            for el in Elems::new(a) {
                let fo = self.obj(el.map_err(|at| self.syntax(at))?, "fills")?;
                let (mut p, mut q, mut t) = (None, None, None);
                for g in Fields::new(fo) {
                    let (k, v) = g.map_err(|at| self.syntax(at))?;
                    match k {
                        b"price" => p = Some(v),
                        b"qty" => q = Some(v),
                        b"tradeId" => t = Some(self.integer(v, "tradeId")?),
                        _ => {}
                    }
                }
                fill = Some(FillInfo {
                    trade_id: t.ok_or(self.err(What::Missing, "tradeId"))?,
                    price: self.price(p, ps, "price")?,
                    qty: self.qty(q, qs, "qty")?,
                });
            }
        }
        Ok(VenueOrder {
            client_id,
            venue_order_id: oid,
            status: self.status(status, "status")?,
            cum_qty: self.qty(exec, qs, "executedQty")?,
            fill,
            code: 0,
            text: VenueText::EMPTY,
        })
    }

    /// A user-data event: `executionReport` (spot) or `ORDER_TRADE_UPDATE` (USD-M).
    fn event(&self, o: &[u8]) -> R<Inbound> {
        let mut kind = None;
        let mut inner = None;
        for f in Fields::new(o) {
            let (k, v) = f.map_err(|at| self.syntax(at))?;
            match k {
                b"e" => kind = Some(self.string(v, "e")?),
                b"o" => inner = Some(v),
                _ => {}
            }
        }
        match kind {
            Some(b"executionReport") => Ok(Inbound::Update(self.exec(o)?)),
            Some(b"ORDER_TRADE_UPDATE") => {
                let inner = self.obj(inner.ok_or(self.err(What::Missing, "o"))?, "o")?;
                Ok(Inbound::Update(self.exec(inner)?))
            }
            Some(_) => Ok(Inbound::Other),
            None => Err(self.err(What::Missing, "e")),
        }
    }

    /// The order fields shared by both event kinds (`s c C x X i z l L t r`).
    fn exec(&self, o: &[u8]) -> R<VenueOrder> {
        let (mut s, mut c, mut cc, mut x, mut xx, mut i) = (None, None, None, None, None, 0u64);
        let (mut z, mut l, mut ll, mut t, mut r) = (None, None, None, -1i64, &b""[..]);
        for f in Fields::new(o) {
            let (k, v) = f.map_err(|at| self.syntax(at))?;
            match k {
                b"s" => s = Some(self.string(v, "s")?),
                b"c" => c = Some(v),
                b"C" => cc = Some(v),
                b"x" => x = Some(self.string(v, "x")?),
                b"X" => xx = Some(v),
                b"i" => i = self.unsigned(v, "i")?,
                b"z" => z = Some(v),
                b"l" => l = Some(v),
                b"L" => ll = Some(v),
                b"t" => t = self.integer(v, "t")?,
                b"r" => {
                    if let Val::Str(text) = v {
                        r = text;
                    }
                }
                _ => {}
            }
        }
        let (ps, qs) = self.scales(s, "s")?;
        // A cancel event carries the cancel's own id in `c` and the order's in `C`.
        let client_id = match cc {
            Some(Val::Str(b"")) | Some(Val::Null) | None => {
                self.client_id(c.ok_or(self.err(What::Missing, "c"))?, "c")?
            }
            Some(v) => self.client_id(v, "C")?,
        };
        let status = self.status(xx, "X")?;
        let fill = if x == Some(b"TRADE") {
            Some(FillInfo {
                trade_id: t,
                price: self.price(ll, ps, "L")?,
                qty: self.qty(l, qs, "l")?,
            })
        } else {
            None
        };
        let rejected = status == VenueStatus::Rejected && r != b"NONE";
        Ok(VenueOrder {
            client_id,
            venue_order_id: i,
            status,
            cum_qty: self.qty(z, qs, "z")?,
            fill,
            code: 0,
            text: if rejected {
                VenueText::new(r)
            } else {
                VenueText::EMPTY
            },
        })
    }
}

fn ms_to_ns(ms: u64) -> Nanos {
    ms.saturating_mul(1_000_000)
}
