//! The market thread: owns the true books, paces messages at the configured
//! rate, writes them to every subscribed client, reads client control
//! messages, sends pings and applies faults.

use std::io;
use std::net::Shutdown;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use tungstenite::{Message, WebSocket};

use super::dialect::{Dialect, Frames, Kind, Replies, Session};
use super::tls::SimStream;
use super::{Command, CommandBox, Fault, SimConfig, SimStats, TrueBook};
use crate::sim::market::{MarketConfig, MarketSim};
use crate::sim::orders::Desk;
use crate::types::{Rng, Side};

/// A connected WebSocket client and what it listens to.
pub(super) struct Client {
    pub(super) ws: WebSocket<SimStream>,
    /// What the client subscribed to, in the venue's terms.
    pub(super) session: Session,
    pub(super) last_pong: Instant,
    pub(super) ping_outstanding: bool,
    pub(super) window_start: Instant,
    pub(super) window_count: u32,
}

/// The market thread's state.
pub(super) struct Market {
    cfg: SimConfig,
    /// What the venue says; the only venue-specific part.
    dialect: Dialect,
    rx: Receiver<CommandBox>,
    stop: Arc<AtomicBool>,
    stats: Arc<SimStats>,
    books: Vec<MarketSim>,
    clients: Vec<Client>,
    rng: Rng,
    rate: u32,
    stall_until: Option<Instant>,
    /// Per symbol: send nothing until then.
    quiet_until: Vec<Option<Instant>>,
    slow: Option<(u32, Instant)>,
    gap_pending: Vec<bool>,
    /// Per symbol: the next book frame carries a wrong checksum.
    bad_checksum_pending: Vec<bool>,
    /// The frames of the last write, with their topics.
    frames: Frames,
    /// A client's answers to one message.
    replies: Replies,
    /// A snapshot frame for one client.
    snapshot: Vec<u8>,
    next_symbol: usize,
    /// The order endpoints (accounts, orders, limits).
    desk: Desk,
}

impl Market {
    pub(super) fn new(
        cfg: SimConfig,
        dialect: Dialect,
        rx: Receiver<CommandBox>,
        stop: Arc<AtomicBool>,
        stats: Arc<SimStats>,
    ) -> Market {
        let books = cfg
            .symbols
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut m =
                    MarketConfig::btcusdt(cfg.venue, cfg.seed.wrapping_add(i as u64 * 7919));
                m.symbol.clone_from(s);
                // Spread the instruments over different price levels.
                m.mid = 4_300_000 / (i as i64 + 1);
                m.changes_per_diff = cfg.changes_per_diff;
                MarketSim::new(m)
            })
            .collect();
        let n = cfg.symbols.len();
        let desk = Desk::new(
            cfg.accounts.clone(),
            cfg.clock.clone(),
            cfg.symbols.clone(),
            stats.orders.clone(),
        );
        Market {
            desk,
            quiet_until: vec![None; n],
            dialect,
            gap_pending: vec![false; n],
            bad_checksum_pending: vec![false; n],
            rng: Rng::new(cfg.seed ^ 0xA5A5),
            rate: cfg.rate,
            cfg,
            rx,
            stop,
            stats,
            books,
            clients: Vec::new(),
            stall_until: None,
            slow: None,
            frames: Frames::default(),
            replies: Replies::default(),
            snapshot: Vec::with_capacity(1 << 16),
            next_symbol: 0,
        }
    }

    pub(super) fn run(mut self) {
        let mut origin = Instant::now();
        let mut sent: u64 = 0;
        let mut last_ping = Instant::now();
        while !self.stop.load(Ordering::Relaxed) {
            while let Ok(CommandBox(cmd)) = self.rx.try_recv() {
                if let Command::Rate(r) = cmd {
                    // Restart pacing from now at the new rate.
                    self.rate = r;
                    origin = Instant::now();
                    sent = 0;
                } else {
                    self.command(cmd);
                }
            }
            let now = Instant::now();
            let stalled = self.stall_until.is_some_and(|t| now < t);
            if !stalled {
                self.stall_until = None;
                let rate = match self.slow {
                    Some((factor, until)) if now < until => self.rate / factor.max(1),
                    Some(_) => {
                        self.slow = None;
                        origin = now;
                        sent = 0;
                        self.rate
                    }
                    None => self.rate,
                };
                let elapsed = now.duration_since(origin).as_nanos() as u64;
                let target = elapsed.saturating_mul(u64::from(rate)) / 1_000_000_000;
                // Never burst more than 10 ms worth after a pause.
                let cap = u64::from(rate / 100).max(1);
                if target.saturating_sub(sent) > cap {
                    sent = target - cap;
                }
                let due = target.saturating_sub(sent);
                for _ in 0..due {
                    self.emit_one();
                }
                sent += due;
                if now.duration_since(last_ping) >= self.cfg.ping_interval {
                    last_ping = now;
                    self.ping_clients(now);
                }
                self.flush_clients();
            }
            self.read_clients(now);
            self.desk.poll(&self.books);
            std::thread::sleep(Duration::from_micros(100));
        }
        for c in &mut self.clients {
            let _ = c.ws.close(None);
            let _ = c.ws.flush();
        }
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Client(c) => {
                self.clients.push(*c);
                self.stats
                    .clients
                    .store(self.clients.len() as u64, Ordering::Relaxed);
            }
            Command::Snapshot {
                symbol,
                limit,
                reply,
            } => {
                let body = self.symbol_index(&symbol).map(|i| {
                    let mut out = Vec::new();
                    self.dialect
                        .rest_snapshot(&mut self.books[i], limit, &mut out);
                    out
                });
                let _ = reply.send(body);
            }
            Command::Truth { symbol, reply } => {
                let truth = self.symbol_index(&symbol).map(|i| {
                    let b = &self.books[i];
                    TrueBook {
                        bids: b.levels(Side::Bid),
                        asks: b.levels(Side::Ask),
                        last_update_id: self.dialect.last_update_id(b),
                    }
                });
                let _ = reply.send(truth);
            }
            Command::Rate(_) => {}
            Command::OrderClient(c) => self.desk.add(*c),
            Command::OrderRest { call, reply } => {
                let _ = reply.send(self.desk.rest(&call));
            }
            Command::TradeThrough { symbol, price } => self.desk.trade_through(&symbol, price),
            Command::Fault(f) => self.fault(f),
        }
    }

    fn symbol_index(&self, symbol: &str) -> Option<usize> {
        self.cfg.symbols.iter().position(|s| s == symbol)
    }

    fn fault(&mut self, fault: Fault) {
        tracing::info!(?fault, "sim: injecting fault");
        match fault {
            Fault::Disconnect => {
                for c in self.clients.drain(..) {
                    let _ = c.ws.get_ref().tcp().shutdown(Shutdown::Both);
                }
                self.stats.clients.store(0, Ordering::Relaxed);
                self.desk.disconnect_all();
            }
            Fault::Orders(f) => self.desk.fault(f),
            Fault::Gap(symbol) => mark(&self.cfg.symbols, symbol, &mut self.gap_pending),
            Fault::BadChecksum(symbol) => {
                if self.dialect.checksums() {
                    mark(&self.cfg.symbols, symbol, &mut self.bad_checksum_pending);
                }
            }
            Fault::Malformed => {
                for i in 0..self.books.len() {
                    self.dialect.malformed(&self.books[i], &mut self.frames);
                    self.broadcast();
                }
            }
            Fault::Oversized { symbol, bytes } => {
                for i in 0..self.books.len() {
                    let named = symbol
                        .as_deref()
                        .is_none_or(|s| s.eq_ignore_ascii_case(&self.cfg.symbols[i]));
                    if named {
                        self.dialect
                            .oversized(&self.books[i], bytes, &mut self.frames);
                        self.broadcast();
                    }
                }
            }
            Fault::Stall(d) => self.stall_until = Some(Instant::now() + d),
            Fault::Quiet(symbol, d) => {
                if let Some(i) = self.symbol_index(&symbol.to_ascii_uppercase()) {
                    self.quiet_until[i] = Some(Instant::now() + d);
                }
            }
            Fault::Crossed(symbol) => {
                if let Some(i) = self.symbol_index(&symbol.to_ascii_uppercase()) {
                    self.dialect.crossed(&mut self.books[i], &mut self.frames);
                    self.broadcast();
                }
            }
            Fault::SlowDown { factor, duration } => {
                self.slow = Some((factor, Instant::now() + duration))
            }
            Fault::RefuseSnapshots(_) | Fault::RateLimit(_) => {}
        }
    }

    fn pick_kind(&mut self) -> Kind {
        let m = self.cfg.mix;
        let total = u64::from(m.depth + m.book_ticker + m.trade).max(1);
        let r = self.rng.below(total) as u32;
        if r < m.depth {
            Kind::Depth
        } else if r < m.depth + m.book_ticker {
            Kind::BookTicker
        } else {
            Kind::Trade
        }
    }

    fn emit_one(&mut self) {
        if self.books.is_empty() {
            return;
        }
        let i = self.next_symbol;
        self.next_symbol = (self.next_symbol + 1) % self.books.len();
        let kind = self.pick_kind();
        let quiet = match self.quiet_until[i] {
            Some(t) if Instant::now() < t => true,
            Some(_) => {
                self.quiet_until[i] = None;
                false
            }
            None => false,
        };
        if quiet && kind != Kind::Depth {
            return;
        }
        let bad_checksum = kind == Kind::Depth && std::mem::take(&mut self.bad_checksum_pending[i]);
        self.dialect
            .write(&mut self.books[i], kind, bad_checksum, &mut self.frames);
        if kind == Kind::Depth && quiet {
            // Generated and applied to the true book, never sent.
            return;
        }
        if kind == Kind::Depth && std::mem::take(&mut self.gap_pending[i]) {
            // Lost on the way: never sent, but a venue that numbers each
            // connection's frames has used the numbers up.
            for (topic, _) in self.frames.iter() {
                for c in &mut self.clients {
                    c.session.lost(topic);
                }
            }
            return;
        }
        self.stats.messages.fetch_add(1, Ordering::Relaxed);
        self.broadcast();
    }

    /// Sends each of `self.frames` to every client whose session wants its
    /// topic, in the form that client receives it.
    fn broadcast(&mut self) {
        let mut dead = Vec::new();
        for (topic, frame) in self.frames.iter() {
            for (idx, c) in self.clients.iter_mut().enumerate() {
                if !c.session.wants(topic) {
                    continue;
                }
                match c.ws.write(c.session.frame(frame)) {
                    Ok(()) => {}
                    Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => dead.push(idx),
                }
            }
        }
        self.remove_clients(dead);
    }

    fn flush_clients(&mut self) {
        let mut dead = Vec::new();
        for (idx, c) in self.clients.iter_mut().enumerate() {
            match c.ws.flush() {
                Ok(()) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => dead.push(idx),
            }
        }
        self.remove_clients(dead);
    }

    fn ping_clients(&mut self, now: Instant) {
        let Some(ping) = self.dialect.ping() else {
            return;
        };
        let mut dead = Vec::new();
        for (idx, c) in self.clients.iter_mut().enumerate() {
            if c.ping_outstanding && now.duration_since(c.last_pong) > self.cfg.pong_timeout {
                self.stats.kicked.fetch_add(1, Ordering::Relaxed);
                dead.push(idx);
                continue;
            }
            if !c.ping_outstanding {
                c.ping_outstanding = true;
                c.last_pong = now;
            }
            let _ = c.ws.write(ping.clone());
        }
        self.remove_clients(dead);
    }

    fn read_clients(&mut self, now: Instant) {
        let mut dead = Vec::new();
        let limit = self.cfg.max_client_messages_per_sec;
        for (idx, c) in self.clients.iter_mut().enumerate() {
            loop {
                match c.ws.read() {
                    Ok(msg) => {
                        if now.duration_since(c.window_start) >= Duration::from_secs(1) {
                            c.window_start = now;
                            c.window_count = 0;
                        }
                        if matches!(msg, Message::Text(_) | Message::Ping(_) | Message::Pong(_)) {
                            c.window_count += 1;
                        }
                        if limit > 0 && c.window_count > limit {
                            // Venues close connections that send too much.
                            self.stats.kicked.fetch_add(1, Ordering::Relaxed);
                            dead.push(idx);
                            break;
                        }
                        match msg {
                            Message::Pong(_) => {
                                c.ping_outstanding = false;
                                c.last_pong = now;
                            }
                            Message::Text(t) => {
                                let replies = &mut self.replies;
                                c.session
                                    .handle_text(t.as_str(), &self.cfg.symbols, replies);
                                for reply in replies.texts.drain(..) {
                                    let _ = c.ws.write(Message::text(reply));
                                }
                                // The snapshot goes right after the ack, to
                                // this client only, before any later diff.
                                for (symbol, topic) in replies.snapshots.drain(..) {
                                    let Some(i) =
                                        self.cfg.symbols.iter().position(|s| *s == symbol)
                                    else {
                                        continue;
                                    };
                                    if self.dialect.ws_snapshot(
                                        &self.books[i],
                                        &topic,
                                        &mut self.snapshot,
                                    ) {
                                        let _ = c.ws.write(c.session.frame(&self.snapshot));
                                    }
                                }
                            }
                            Message::Close(_) => {
                                dead.push(idx);
                                break;
                            }
                            _ => {}
                        }
                    }
                    Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                        break;
                    }
                    Err(_) => {
                        dead.push(idx);
                        break;
                    }
                }
            }
        }
        self.remove_clients(dead);
    }

    fn remove_clients(&mut self, mut dead: Vec<usize>) {
        if dead.is_empty() {
            return;
        }
        dead.sort_unstable();
        dead.dedup();
        for idx in dead.into_iter().rev() {
            let c = self.clients.swap_remove(idx);
            let _ = c.ws.get_ref().tcp().shutdown(Shutdown::Both);
        }
        self.stats
            .clients
            .store(self.clients.len() as u64, Ordering::Relaxed);
    }
}

/// Sets `flags[i]` for `symbol` (ASCII case-insensitive), or for every
/// symbol when `None`.
fn mark(symbols: &[String], symbol: Option<String>, flags: &mut [bool]) {
    for (i, s) in symbols.iter().enumerate() {
        if symbol
            .as_deref()
            .is_none_or(|want| want.eq_ignore_ascii_case(s))
        {
            flags[i] = true;
        }
    }
}
