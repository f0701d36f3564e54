//! Binance WebSocket API requests, written into a buffer allocated once:
//! `{"id":<req>,"method":"<m>","params":{...}}`. Parameters are collected,
//! sorted by name, joined as `key=value&...` for the signature (as the WS
//! API documents: sorted, no URL-encoding), then written as JSON in the
//! same order with the signature last. Prices and quantities are written
//! exactly, with all the instrument's decimals (`52000.00`, `0.01000000`).
//! The timestamp is the `now` passed in, i.e. taken when the request is
//! written (see [`ServerClock`](super::ServerClock)).

use crate::orders::{NewOrder, OrderType, Send, TimeInForce};
use crate::types::{InstrumentId, Nanos, Registry, Scale, Side, Symbol, Venue};

use super::sign::{SIGNATURE_CAP, Signer};

/// Spot or USD-M: they differ in methods and order types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Market {
    /// `ws-api.binance.com/ws-api/v3`.
    Spot,
    /// `ws-fapi.binance.com/ws-fapi/v1`.
    Usdm,
}

/// A request that cannot be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The instrument is not a symbol of this market.
    #[error("instrument not known to this Binance session")]
    UnknownInstrument,
    /// The market has no such request (USD-M cancel-all and cancel-replace
    /// over the WS API; a post-only market order).
    #[error("request not supported by this Binance market")]
    Unsupported,
}

/// An API key was refused at set-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("API key must be 1..=128 ASCII letters and digits")]
pub struct ApiKeyError;

const MAX_PARAMS: usize = 16;

/// Every parameter name the encoder writes, declared in ASCII order, so
/// sorting compares one byte instead of strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Field {
    ApiKey,
    CancelOrigClientOrderId,
    CancelReplaceMode,
    NewClientOrderId,
    OrigClientOrderId,
    Price,
    Quantity,
    RecvWindow,
    Side,
    Symbol,
    TimeInForce,
    Timestamp,
    Type,
}

impl Field {
    #[cfg(test)]
    const fn name(self) -> &'static str {
        match self {
            Field::ApiKey => "apiKey",
            Field::CancelOrigClientOrderId => "cancelOrigClientOrderId",
            Field::CancelReplaceMode => "cancelReplaceMode",
            Field::NewClientOrderId => "newClientOrderId",
            Field::OrigClientOrderId => "origClientOrderId",
            Field::Price => "price",
            Field::Quantity => "quantity",
            Field::RecvWindow => "recvWindow",
            Field::Side => "side",
            Field::Symbol => "symbol",
            Field::TimeInForce => "timeInForce",
            Field::Timestamp => "timestamp",
            Field::Type => "type",
        }
    }
}

impl Field {
    /// `name=`, as the signed payload spells it.
    const fn payload_prefix(self) -> &'static [u8] {
        match self {
            Field::ApiKey => b"apiKey=",
            Field::CancelOrigClientOrderId => b"cancelOrigClientOrderId=",
            Field::CancelReplaceMode => b"cancelReplaceMode=",
            Field::NewClientOrderId => b"newClientOrderId=",
            Field::OrigClientOrderId => b"origClientOrderId=",
            Field::Price => b"price=",
            Field::Quantity => b"quantity=",
            Field::RecvWindow => b"recvWindow=",
            Field::Side => b"side=",
            Field::Symbol => b"symbol=",
            Field::TimeInForce => b"timeInForce=",
            Field::Timestamp => b"timestamp=",
            Field::Type => b"type=",
        }
    }

    /// `"name":`, as the JSON params spell it.
    const fn json_prefix(self) -> &'static [u8] {
        match self {
            Field::ApiKey => br#""apiKey":"#,
            Field::CancelOrigClientOrderId => br#""cancelOrigClientOrderId":"#,
            Field::CancelReplaceMode => br#""cancelReplaceMode":"#,
            Field::NewClientOrderId => br#""newClientOrderId":"#,
            Field::OrigClientOrderId => br#""origClientOrderId":"#,
            Field::Price => br#""price":"#,
            Field::Quantity => br#""quantity":"#,
            Field::RecvWindow => br#""recvWindow":"#,
            Field::Side => br#""side":"#,
            Field::Symbol => br#""symbol":"#,
            Field::TimeInForce => br#""timeInForce":"#,
            Field::Timestamp => br#""timestamp":"#,
            Field::Type => br#""type":"#,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Param {
    key: Field,
    start: u16,
    end: u16,
    quoted: bool,
}

/// One instrument's wire facts.
#[derive(Clone, Copy, Debug)]
struct Inst {
    symbol: Symbol,
    price: Scale,
    qty: Scale,
}

/// Writes signed requests for one trading connection.
#[derive(Debug)]
pub struct Encoder {
    market: Market,
    api_key: Box<[u8]>,
    signer: Signer,
    /// After a successful Ed25519 `session.logon`: requests carry neither
    /// `apiKey` nor `signature`.
    logged_on: bool,
    recv_window_ms: u32,
    insts: Box<[Option<Inst>]>,
    params: [Param; MAX_PARAMS],
    n: usize,
    vals: Box<[u8]>,
    vlen: usize,
    payload: Vec<u8>,
    out: Vec<u8>,
}

impl Encoder {
    /// An encoder for `market`'s symbols in `registry`.
    pub fn new(
        market: Market,
        registry: &Registry,
        api_key: &str,
        signer: Signer,
        recv_window_ms: u32,
    ) -> Result<Encoder, ApiKeyError> {
        let k = api_key.as_bytes();
        if k.is_empty() || k.len() > 128 || !k.iter().all(u8::is_ascii_alphanumeric) {
            return Err(ApiKeyError);
        }
        let venue = match market {
            Market::Spot => Venue::BinanceSpot,
            Market::Usdm => Venue::BinanceUsdm,
        };
        let len = registry.iter().map(|i| i.id.index() + 1).max().unwrap_or(0);
        let mut insts = vec![None; len];
        for i in registry.iter().filter(|i| i.venue == venue) {
            insts[i.id.index()] = Some(Inst {
                symbol: i.symbol,
                price: i.price_scale,
                qty: i.qty_scale,
            });
        }
        Ok(Encoder {
            market,
            api_key: k.into(),
            signer,
            logged_on: false,
            recv_window_ms,
            insts: insts.into_boxed_slice(),
            params: [Param {
                key: Field::ApiKey,
                start: 0,
                end: 0,
                quoted: false,
            }; MAX_PARAMS],
            n: 0,
            vals: vec![0; 1024].into_boxed_slice(),
            vlen: 0,
            payload: Vec::with_capacity(1024),
            out: Vec::with_capacity(2048),
        })
    }

    /// The market.
    pub fn market(&self) -> Market {
        self.market
    }

    /// Marks the connection logged on (after `session.logon` succeeded) or
    /// not (after a reconnect).
    pub fn set_logged_on(&mut self, on: bool) {
        self.logged_on = on && self.signer.is_ed25519();
    }

    fn inst(&self, id: InstrumentId) -> Result<Inst, EncodeError> {
        self.insts
            .get(id.index())
            .copied()
            .flatten()
            .ok_or(EncodeError::UnknownInstrument)
    }

    fn push(&mut self, key: Field, text: &[u8], quoted: bool) {
        let start = self.vlen;
        let end = (start + text.len()).min(self.vals.len());
        self.vals[start..end].copy_from_slice(&text[..end - start]);
        self.vlen = end;
        if self.n < MAX_PARAMS {
            self.params[self.n] = Param {
                key,
                start: start as u16,
                end: end as u16,
                quoted,
            };
            self.n += 1;
        }
    }

    fn str(&mut self, key: Field, text: &[u8]) {
        self.push(key, text, true);
    }

    fn num(&mut self, key: Field, v: u64) {
        let mut buf = [0u8; 20];
        let n = write_u64(v, &mut buf);
        self.push(key, &buf[..n], false);
    }

    fn dec(&mut self, key: Field, mantissa: i64, scale: Scale) {
        let mut buf = [0u8; 24];
        let n = write_fixed(mantissa, scale, &mut buf);
        self.push(key, &buf[..n], true);
    }

    fn begin(&mut self) {
        self.n = 0;
        self.vlen = 0;
    }

    fn order_params(&mut self, o: &NewOrder, inst: Inst) -> Result<(), EncodeError> {
        self.str(Field::Symbol, inst.symbol.as_bytes());
        self.str(
            Field::Side,
            if o.side == Side::Bid { b"BUY" } else { b"SELL" },
        );
        let (ty, tif): (&[u8], Option<&[u8]>) = match (o.kind, o.tif, self.market) {
            (OrderType::Market, TimeInForce::PostOnly, _) => return Err(EncodeError::Unsupported),
            (OrderType::Market, _, _) => (b"MARKET", None),
            (OrderType::Limit, TimeInForce::PostOnly, Market::Spot) => (b"LIMIT_MAKER", None),
            (OrderType::Limit, TimeInForce::PostOnly, Market::Usdm) => (b"LIMIT", Some(b"GTX")),
            (OrderType::Limit, TimeInForce::Gtc, _) => (b"LIMIT", Some(b"GTC")),
            (OrderType::Limit, TimeInForce::Ioc, _) => (b"LIMIT", Some(b"IOC")),
            (OrderType::Limit, TimeInForce::Fok, _) => (b"LIMIT", Some(b"FOK")),
        };
        self.str(Field::Type, ty);
        if let Some(t) = tif {
            self.str(Field::TimeInForce, t);
        }
        if o.kind == OrderType::Limit {
            self.dec(Field::Price, o.price.0, inst.price);
        }
        self.dec(Field::Quantity, o.qty.0, inst.qty);
        self.str(Field::NewClientOrderId, o.client_id.as_bytes());
        Ok(())
    }

    /// Writes the request for `send`, timestamped `now` (venue time, UTC ns).
    ///
    /// USD-M has no cancel-replace: a [`Send::CancelReplace`] whose
    /// replacement keeps the client id (the gate's amend in place) is
    /// written as `order.modify`; any other is `Unsupported`.
    pub fn write(&mut self, send: &Send, now: Nanos) -> Result<&[u8], EncodeError> {
        if let Send::CancelReplace { req, cancel, new } = *send
            && self.market == Market::Usdm
        {
            if cancel != new.client_id {
                return Err(EncodeError::Unsupported);
            }
            return self.write_modify(req, &new, now);
        }
        self.begin();
        let method: &str = match *send {
            Send::New { order, .. } => {
                let inst = self.inst(order.instrument)?;
                self.order_params(&order, inst)?;
                "order.place"
            }
            Send::Cancel { cancel, .. } => {
                let inst = self.inst(cancel.instrument)?;
                self.str(Field::Symbol, inst.symbol.as_bytes());
                self.str(Field::OrigClientOrderId, cancel.client_id.as_bytes());
                "order.cancel"
            }
            Send::CancelReplace { cancel, new, .. } => {
                if self.market == Market::Usdm {
                    return Err(EncodeError::Unsupported);
                }
                let inst = self.inst(new.instrument)?;
                self.order_params(&new, inst)?;
                self.str(Field::CancelReplaceMode, b"STOP_ON_FAILURE");
                self.str(Field::CancelOrigClientOrderId, cancel.as_bytes());
                "order.cancelReplace"
            }
            Send::CancelAll { instrument, .. } => {
                if self.market == Market::Usdm {
                    return Err(EncodeError::Unsupported);
                }
                let inst = self.inst(instrument)?;
                self.str(Field::Symbol, inst.symbol.as_bytes());
                "openOrders.cancelAll"
            }
            Send::Query {
                client_id,
                instrument,
                ..
            } => {
                let inst = self.inst(instrument)?;
                self.str(Field::Symbol, inst.symbol.as_bytes());
                self.str(Field::OrigClientOrderId, client_id.as_bytes());
                "order.status"
            }
        };
        self.common(now, !self.logged_on);
        Ok(self.finish(send.req(), method, !self.logged_on))
    }

    /// Writes USD-M `order.modify` of `order` (same client id, new price
    /// and quantity).
    pub fn write_modify(
        &mut self,
        req: u64,
        order: &NewOrder,
        now: Nanos,
    ) -> Result<&[u8], EncodeError> {
        if self.market != Market::Usdm {
            return Err(EncodeError::Unsupported);
        }
        self.begin();
        let inst = self.inst(order.instrument)?;
        self.str(Field::Symbol, inst.symbol.as_bytes());
        self.str(
            Field::Side,
            if order.side == Side::Bid {
                b"BUY"
            } else {
                b"SELL"
            },
        );
        self.str(Field::OrigClientOrderId, order.client_id.as_bytes());
        self.dec(Field::Price, order.price.0, inst.price);
        self.dec(Field::Quantity, order.qty.0, inst.qty);
        self.common(now, !self.logged_on);
        Ok(self.finish(req, "order.modify", !self.logged_on))
    }

    /// Writes `session.logon` (Ed25519 keys only; others get `Unsupported`).
    pub fn write_logon(&mut self, req: u64, now: Nanos) -> Result<&[u8], EncodeError> {
        if !self.signer.is_ed25519() {
            return Err(EncodeError::Unsupported);
        }
        self.begin();
        self.common(now, true);
        Ok(self.finish(req, "session.logon", true))
    }

    /// Writes the spot user-data subscription: `userDataStream.subscribe`
    /// after an Ed25519 `session.logon`, else the signed
    /// `userDataStream.subscribe.signature`. USD-M has none on its WS API
    /// (`Unsupported`: it uses a listen key).
    pub fn write_subscribe(&mut self, req: u64, now: Nanos) -> Result<&[u8], EncodeError> {
        if self.market != Market::Spot {
            return Err(EncodeError::Unsupported);
        }
        self.begin();
        if self.logged_on {
            return Ok(self.finish(req, "userDataStream.subscribe", false));
        }
        self.common(now, true);
        Ok(self.finish(req, "userDataStream.subscribe.signature", true))
    }

    fn common(&mut self, now: Nanos, with_key: bool) {
        if with_key {
            let key = std::mem::take(&mut self.api_key);
            self.str(Field::ApiKey, &key);
            self.api_key = key;
        }
        if self.recv_window_ms > 0 {
            self.num(Field::RecvWindow, u64::from(self.recv_window_ms));
        }
        self.num(Field::Timestamp, now / 1_000_000);
    }

    fn finish(&mut self, req: u64, method: &str, signed: bool) -> &[u8] {
        let params = &mut self.params[..self.n];
        // Insertion sort: at most 16 entries, no allocation.
        for i in 1..params.len() {
            let mut j = i;
            while j > 0 && params[j - 1].key > params[j].key {
                params.swap(j - 1, j);
                j -= 1;
            }
        }
        let mut sig = [0u8; SIGNATURE_CAP];
        let mut sig_len = 0;
        if signed {
            self.payload.clear();
            for (i, p) in params.iter().enumerate() {
                if i > 0 {
                    self.payload.push(b'&');
                }
                self.payload.extend_from_slice(p.key.payload_prefix());
                self.payload
                    .extend_from_slice(&self.vals[usize::from(p.start)..usize::from(p.end)]);
            }
            sig_len = self.signer.sign(&self.payload, &mut sig);
        }
        let out = &mut self.out;
        out.clear();
        out.extend_from_slice(b"{\"id\":");
        let mut buf = [0u8; 20];
        let n = write_u64(req, &mut buf);
        out.extend_from_slice(&buf[..n]);
        out.extend_from_slice(b",\"method\":\"");
        out.extend_from_slice(method.as_bytes());
        out.extend_from_slice(b"\",\"params\":{");
        for (i, p) in params.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(p.key.json_prefix());
            if p.quoted {
                out.push(b'"');
            }
            out.extend_from_slice(&self.vals[usize::from(p.start)..usize::from(p.end)]);
            if p.quoted {
                out.push(b'"');
            }
        }
        if signed {
            if !params.is_empty() {
                out.push(b',');
            }
            out.extend_from_slice(b"\"signature\":\"");
            out.extend_from_slice(&sig[..sig_len]);
            out.push(b'"');
        }
        out.extend_from_slice(b"}}");
        &self.out
    }

    /// The `key=value&...` text the last signed request was signed over
    /// (for tests and debugging; contains no secret).
    pub fn last_payload(&self) -> &[u8] {
        &self.payload
    }
}

/// Writes `v` in decimal; returns the length.
fn write_u64(mut v: u64, out: &mut [u8; 20]) -> usize {
    let mut tmp = [0u8; 20];
    let mut n = 0;
    loop {
        tmp[n] = b'0' + (v % 10) as u8;
        v /= 10;
        n += 1;
        if v == 0 {
            break;
        }
    }
    for i in 0..n {
        out[i] = tmp[n - 1 - i];
    }
    n
}

/// Writes `mantissa` at `scale` with exactly `scale` decimals (`5200000`
/// at 2 → `52000.00`); returns the length.
pub fn write_fixed(mantissa: i64, scale: Scale, out: &mut [u8; 24]) -> usize {
    let d = usize::from(scale.decimals());
    let mut digits = [b'0'; 21];
    let mut v = mantissa.unsigned_abs();
    let mut n = 0;
    while v > 0 || n <= d {
        digits[n] = b'0' + (v % 10) as u8;
        v /= 10;
        n += 1;
    }
    let mut w = 0;
    if mantissa < 0 {
        out[w] = b'-';
        w += 1;
    }
    for i in (d..n).rev() {
        out[w] = digits[i];
        w += 1;
    }
    if d > 0 {
        out[w] = b'.';
        w += 1;
        for i in (0..d).rev() {
            out[w] = digits[i];
            w += 1;
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_declared_in_ascii_order() {
        use Field::*;
        let all = [
            ApiKey,
            CancelOrigClientOrderId,
            CancelReplaceMode,
            NewClientOrderId,
            OrigClientOrderId,
            Price,
            Quantity,
            RecvWindow,
            Side,
            Symbol,
            TimeInForce,
            Timestamp,
            Type,
        ];
        for w in all.windows(2) {
            assert!(w[0] < w[1] && w[0].name() < w[1].name(), "{:?}", w);
        }
        for k in all {
            assert_eq!(k.payload_prefix(), format!("{}=", k.name()).as_bytes());
            assert_eq!(k.json_prefix(), format!("\"{}\":", k.name()).as_bytes());
        }
    }

    #[test]
    fn fixed_decimals_keep_every_digit_of_the_scale() {
        let s = |d| Scale::new(d).unwrap();
        let mut b = [0; 24];
        let f = |m, d, b: &mut [u8; 24]| {
            let n = write_fixed(m, s(d), b);
            String::from_utf8(b[..n].to_vec()).unwrap()
        };
        assert_eq!(f(5_200_000, 2, &mut b), "52000.00");
        assert_eq!(f(1_000_000, 8, &mut b), "0.01000000");
        assert_eq!(f(7, 0, &mut b), "7");
        assert_eq!(f(0, 3, &mut b), "0.000");
        assert_eq!(f(-15, 1, &mut b), "-1.5");
        assert_eq!(f(i64::MAX, 18, &mut b), "9.223372036854775807");
    }
}
