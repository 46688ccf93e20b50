//! `AUTH` off the store's lock: a password's argon2id hash takes milliseconds of CPU to verify,
//! so the engine hands the verification back ([`okdb_engine::acl::PendingAuth`]) and the
//! connection runs it on the blocking pool, one verification at a time for the whole server,
//! so a flood of `AUTH`s leaves the other core to authenticated clients.
//!
//! Guessing slows down the address it comes from, not other clients: attempts that need a
//! hash checked are counted per address (IPv4, or an IPv6 /64) when they start; after
//! [`FREE_FAILURES`] of them, each further attempt waits for a slot, the slots spaced
//! [`BASE_DELAY`] apart, doubling per attempt up to [`MAX_DELAY`]. The slots are per address,
//! not per connection, so opening more connections does not buy more attempts. A success
//! forgets the count, and so do [`FORGET_AFTER`] without an attempt. A connection closed
//! while it waits (a kill, `auth-timeout`) stops waiting.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use okdb_engine::acl::PendingAuth;
use okdb_engine::{Engine, Reply, Session};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::clients::Clients;

/// Failures an address may have before its attempts are spaced out.
pub const FREE_FAILURES: u32 = 3;
pub const BASE_DELAY: Duration = Duration::from_millis(50);
pub const MAX_DELAY: Duration = Duration::from_secs(2);
pub const FORGET_AFTER: Duration = Duration::from_secs(60);
/// Addresses remembered at most; past it the stalest are forgotten.
const MAX_ADDRESSES: usize = 100_000;

/// Attempts by address since its last success.
#[derive(Debug, Default)]
pub struct Throttle {
    by_addr: Mutex<HashMap<IpAddr, Attempts>>,
}

#[derive(Debug, Clone, Copy)]
struct Attempts {
    /// Attempts since the last success, counted when they start (so attempts in flight on
    /// many connections count at once).
    count: u32,
    last: Instant,
    /// The next attempt's slot.
    next_free: Instant,
}

/// The address attempts are counted by: an IPv4 address, or an IPv6 address's /64 (what one
/// host usually gets).
fn bucket(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

impl Throttle {
    /// Counts an attempt from `ip` and says when it may be verified: now for the first
    /// [`FREE_FAILURES`], then at slots spaced out per address.
    fn attempt(&self, ip: IpAddr) -> Instant {
        let now = Instant::now();
        let ip = bucket(ip);
        let mut map = lock(&self.by_addr);
        if let Some(a) = map.get(&ip) {
            if now.duration_since(a.last) > FORGET_AFTER {
                map.remove(&ip);
            }
        }
        if map.len() >= MAX_ADDRESSES && !map.contains_key(&ip) {
            map.retain(|_, a| now.duration_since(a.last) <= FORGET_AFTER);
            if map.len() >= MAX_ADDRESSES {
                return now; // Too many addresses at once to remember: this one goes as is.
            }
        }
        let a = map.entry(ip).or_insert(Attempts {
            count: 0,
            last: now,
            next_free: now,
        });
        a.count = a.count.saturating_add(1);
        a.last = now;
        if a.count <= FREE_FAILURES {
            return now;
        }
        let doublings = (a.count - FREE_FAILURES - 1).min(16);
        let delay = (BASE_DELAY * 2u32.pow(doublings)).min(MAX_DELAY);
        let slot = a.next_free.max(now);
        a.next_free = slot + delay;
        slot
    }

    fn succeeded(&self, ip: IpAddr) {
        lock(&self.by_addr).remove(&bucket(ip));
    }
}

/// One verification at a time, server-wide.
static VERIFYING: Semaphore = Semaphore::const_new(1);

/// Verifies a pending `AUTH` and ends it: the reply the command answers.
pub async fn verify(
    engine: &Engine,
    clients: &Arc<Clients>,
    peer: SocketAddr,
    session: &mut Session,
    mut pending: Box<PendingAuth>,
) -> Reply {
    let throttle = clients.throttle();
    tokio::time::sleep_until(throttle.attempt(peer.ip())).await;
    let verified = {
        let _permit = VERIFYING.acquire().await;
        tokio::task::spawn_blocking(move || {
            pending.verify();
            pending
        })
        .await
    };
    let Ok(pending) = verified else {
        return Reply::Error(okdb_engine::CmdError::err(
            "internal error: the password check failed",
        ));
    };
    let reply = engine.finish_auth(session, pending);
    if session.authenticated && !matches!(reply, Reply::Error(_)) {
        throttle.succeeded(peer.ip());
    }
    reply
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
