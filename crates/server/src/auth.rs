//! `AUTH` off the store's lock: a password's argon2id hash takes milliseconds of CPU to verify,
//! so the engine hands the verification back ([`okdb_engine::acl::PendingAuth`]) and the
//! connection runs it on the blocking pool, one verification at a time for the whole server,
//! so a flood of `AUTH`s leaves the other core to authenticated clients.
//!
//! Failed attempts slow down the address they come from, not other clients: after
//! [`FREE_FAILURES`] failures, each further attempt from that address waits for a slot, the
//! slots spaced [`BASE_DELAY`] apart, doubling per failure up to [`MAX_DELAY`]. The slots are
//! per address, not per connection, so opening more connections does not buy more attempts.
//! An address's count is forgotten [`FORGET_AFTER`] after its last failure, or when one of
//! its attempts succeeds.

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

/// Failed attempts by address.
#[derive(Debug, Default)]
pub struct Throttle {
    by_addr: Mutex<HashMap<IpAddr, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    /// The next attempt's slot.
    next_free: Instant,
}

impl Throttle {
    /// When an attempt from `ip` may be verified (now, unless it has failed a lot).
    fn slot(&self, ip: IpAddr) -> Instant {
        let now = Instant::now();
        let mut map = lock(&self.by_addr);
        let Some(f) = map.get_mut(&ip) else {
            return now;
        };
        if now.duration_since(f.last) > FORGET_AFTER {
            map.remove(&ip);
            return now;
        }
        if f.count < FREE_FAILURES {
            return now;
        }
        let doublings = (f.count - FREE_FAILURES).min(16);
        let delay = (BASE_DELAY * 2u32.pow(doublings)).min(MAX_DELAY);
        let slot = f.next_free.max(now);
        f.next_free = slot + delay;
        slot
    }

    fn failed(&self, ip: IpAddr) {
        let now = Instant::now();
        let mut map = lock(&self.by_addr);
        if map.len() >= MAX_ADDRESSES && !map.contains_key(&ip) {
            map.retain(|_, f| now.duration_since(f.last) <= FORGET_AFTER);
            if map.len() >= MAX_ADDRESSES {
                map.clear();
            }
        }
        let f = map.entry(ip).or_insert(Failures {
            count: 0,
            last: now,
            next_free: now,
        });
        f.count = f.count.saturating_add(1);
        f.last = now;
    }

    fn succeeded(&self, ip: IpAddr) {
        lock(&self.by_addr).remove(&ip);
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
    tokio::time::sleep_until(throttle.slot(peer.ip())).await;
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
    } else {
        throttle.failed(peer.ip());
    }
    reply
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
