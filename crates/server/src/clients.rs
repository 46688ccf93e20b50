//! What the server watches across connections: the bytes of unfinished requests all clients
//! hold (`client-query-buffer-total-limit`), idle clients (`timeout`) and connections that
//! have not sent a complete request yet (`first-request-timeout`).
//!
//! Each connection registers a [`Watch`]; it updates its buffered bytes and last activity
//! with relaxed stores on its own path, and a sweep (a timer task, every 100 ms) or a
//! connection that pushed the total over the limit closes others by [`Watch::close`]: the
//! connection wakes from its read, sends the reason as an error (when there is one) and
//! closes.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use okdb_engine::Engine;
use tokio::sync::{watch, Notify};

/// How often idle and silent connections are looked for.
pub const SWEEP_EVERY: Duration = Duration::from_millis(100);

/// Every connection's watch, and the total of their unfinished request bytes.
#[derive(Debug)]
pub struct Clients {
    /// The kernel's coarse clock (a few ns to read, 1-4 ms resolution: plenty for timeouts
    /// counted in seconds; a precise clock read costs a system call on some virtual machines,
    /// and every read and write of every connection notes the time).
    started: coarsetime::Instant,
    next_id: AtomicU64,
    conns: Mutex<HashMap<u64, Arc<Watch>>>,
    buffered_total: AtomicUsize,
    /// Failed `AUTH`s by address (crate::auth).
    throttle: crate::auth::Throttle,
    /// TLS handshakes in progress.
    handshakes: Arc<AtomicUsize>,
}

/// A TLS handshake in progress; it stops counting when dropped.
#[derive(Debug)]
pub struct Handshake(Arc<AtomicUsize>);

impl Drop for Handshake {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

/// One connection as the watchers see it.
#[derive(Debug)]
pub struct Watch {
    id: u64,
    peer: SocketAddr,
    created_ms: u64,
    /// Bytes of the unfinished request in its read buffer.
    buffered: AtomicUsize,
    /// When it last read or wrote, in ms since the server started.
    last_active_ms: AtomicU64,
    /// It has sent a complete request.
    spoke: AtomicBool,
    /// Since when it has been without authentication, in ms since the server started
    /// (`u64::MAX`: authenticated, or it needs not): for `auth-timeout`.
    unauthenticated_since: AtomicU64,
    closing: Mutex<Option<Closing>>,
    /// Set with `closing`, so the connection's every read checks a flag, not the mutex.
    asked_to_close: AtomicBool,
    wake: Notify,
}

/// Why a connection is being closed, and the error it gets (None: closed silently, as Redis
/// closes timed-out clients).
#[derive(Debug, Clone)]
pub struct Closing {
    pub error: Option<String>,
}

impl Clients {
    pub fn new() -> Arc<Clients> {
        Arc::new(Clients {
            started: coarsetime::Instant::now(),
            next_id: AtomicU64::new(1),
            conns: Mutex::new(HashMap::new()),
            buffered_total: AtomicUsize::new(0),
            throttle: Default::default(),
            handshakes: Default::default(),
        })
    }

    /// Counts a TLS handshake, unless handshakes in progress and connected clients together
    /// are at `maxclients`.
    pub fn handshake(&self, connected: usize, cfg: &okdb_engine::Config) -> Option<Handshake> {
        let max = cfg.maxclients.load(Relaxed);
        let before = self.handshakes.fetch_add(1, Relaxed);
        let guard = Handshake(self.handshakes.clone());
        (before + connected < max).then_some(guard)
    }

    pub fn throttle(&self) -> &crate::auth::Throttle {
        &self.throttle
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis()
    }

    /// Registers a connection; it leaves when the guard drops.
    pub fn join(self: &Arc<Self>, peer: SocketAddr) -> Member {
        let now = self.now_ms();
        let watch = Arc::new(Watch {
            id: self.next_id.fetch_add(1, Relaxed),
            peer,
            created_ms: now,
            buffered: AtomicUsize::new(0),
            last_active_ms: AtomicU64::new(now),
            spoke: AtomicBool::new(false),
            unauthenticated_since: AtomicU64::new(now),
            closing: Mutex::new(None),
            asked_to_close: AtomicBool::new(false),
            wake: Notify::new(),
        });
        lock(&self.conns).insert(watch.id, watch.clone());
        Member {
            clients: self.clone(),
            watch,
        }
    }

    /// Total bytes of unfinished requests over every connection.
    pub fn buffered_total(&self) -> usize {
        self.buffered_total.load(Relaxed)
    }

    /// Over `limit` bytes of unfinished requests in all: closes the connection holding the most.
    fn enforce_total(&self, limit: usize) {
        let conns = lock(&self.conns);
        let total = self.buffered_total();
        if total <= limit {
            return;
        }
        let Some(biggest) = conns.values().max_by_key(|w| w.buffered.load(Relaxed)) else {
            return;
        };
        let held = biggest.buffered.load(Relaxed);
        tracing::warn!(
            "client {} closed: unfinished requests of all clients hold {total} bytes, over \
             client-query-buffer-total-limit {limit}; it held the most ({held} bytes)",
            biggest.peer
        );
        biggest.close(Some(format!(
            "Protocol error: unfinished requests of all clients exceed \
             client-query-buffer-total-limit ({total} > {limit} bytes) and this client's ({held} \
             bytes) is the biggest"
        )));
    }

    /// Closes idle clients (`timeout`) and, while connections take more than half of
    /// `maxclients`, those silent past `first-request-timeout`: a pool's idle connections
    /// that have not been used yet live as long as the server has room for them.
    fn sweep(&self, engine: &Engine) {
        let cfg = engine.config();
        let idle = cfg.timeout.load(Relaxed).saturating_mul(1000);
        let first = cfg.first_request_timeout.load(Relaxed).saturating_mul(1000);
        let auth = cfg.auth_timeout.load(Relaxed).saturating_mul(1000);
        if idle == 0 && first == 0 && auth == 0 {
            return;
        }
        let now = self.now_ms();
        let conns = lock(&self.conns);
        let crowded = conns.len().saturating_mul(2) > cfg.maxclients.load(Relaxed);
        for w in conns.values() {
            let since = w.unauthenticated_since.load(Relaxed);
            if auth > 0 && since != u64::MAX && now.saturating_sub(since) > auth {
                tracing::info!(
                    "client {} closed: not authenticated within {}s (auth-timeout)",
                    w.peer,
                    auth / 1000
                );
                w.close(Some(format!(
                    "not authenticated within {}s of connecting (auth-timeout)",
                    auth / 1000
                )));
            } else if idle > 0 && now.saturating_sub(w.last_active_ms.load(Relaxed)) > idle {
                tracing::info!(
                    "client {} closed: idle for more than {}s (timeout)",
                    w.peer,
                    idle / 1000
                );
                w.close(None);
            } else if first > 0
                && crowded
                && !w.spoke.load(Relaxed)
                && now.saturating_sub(w.created_ms) > first
            {
                tracing::info!(
                    "client {} closed: no complete request in {}s while connections take more \
                     than half of maxclients (first-request-timeout)",
                    w.peer,
                    first / 1000
                );
                w.close(Some(format!(
                    "Protocol error: no complete request within {}s of connecting \
                     (first-request-timeout)",
                    first / 1000
                )));
            }
        }
    }
}

impl Watch {
    /// Asks the connection to close; the first reason wins.
    pub fn close(&self, error: Option<String>) {
        let mut closing = lock(&self.closing);
        if closing.is_none() {
            *closing = Some(Closing { error });
            self.asked_to_close.store(true, Relaxed);
            self.wake.notify_one();
        }
    }

    /// Why it is asked to close, if it is.
    pub fn closing(&self) -> Option<Closing> {
        if !self.asked_to_close.load(Relaxed) {
            return None;
        }
        lock(&self.closing).clone()
    }

    /// Resolves when the connection is asked to close.
    pub async fn closed(&self) {
        self.wake.notified().await;
    }
}

/// A connection's membership; leaving happens on drop, even when the task unwinds.
#[derive(Debug)]
pub struct Member {
    clients: Arc<Clients>,
    pub watch: Arc<Watch>,
}

impl Member {
    /// Notes activity (a read or a write) for `timeout`.
    pub fn active(&self) {
        self.watch
            .last_active_ms
            .store(self.clients.now_ms(), Relaxed);
    }

    /// Notes whether it is authenticated (for `auth-timeout`, counted from when it last was
    /// not: a connection that `RESET` logged out gets the full time again).
    pub fn set_authenticated(&self, yes: bool) {
        let since = &self.watch.unauthenticated_since;
        if yes {
            since.store(u64::MAX, Relaxed);
        } else if since.load(Relaxed) == u64::MAX {
            since.store(self.clients.now_ms(), Relaxed);
        }
    }

    /// Notes a complete request (for `first-request-timeout`).
    pub fn spoke(&self) {
        self.watch.spoke.store(true, Relaxed);
    }

    /// Sets how many bytes of unfinished requests this connection holds, and closes the biggest
    /// holder when all of them together pass `limit`.
    pub fn buffered(&self, bytes: usize, limit: usize) {
        let before = self.watch.buffered.swap(bytes, Relaxed);
        if before == bytes {
            return;
        }
        let total = &self.clients.buffered_total;
        let now = if bytes > before {
            total.fetch_add(bytes - before, Relaxed) + (bytes - before)
        } else {
            total.fetch_sub(before - bytes, Relaxed) - (before - bytes)
        };
        if bytes > before && now > limit {
            self.clients.enforce_total(limit);
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.buffered(0, usize::MAX);
        lock(&self.clients.conns).remove(&self.watch.id);
    }
}

/// Runs the sweep until the server stops.
pub async fn sweeper(clients: Arc<Clients>, engine: Engine, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(SWEEP_EVERY) => {}
            _ = stop.changed() => return,
        }
        clients.sweep(&engine);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
