//! Waiting pops (`BLPOP`, `BRPOP`, `BLMOVE`, `BRPOPLPUSH`, `BLMPOP`, `POP … WAIT`): a
//! connection that finds nothing to pop is parked, and the write that feeds one of its keys
//! serves it, under the same lock, before the next command runs.
//!
//! Waiters queue per key in arrival order (FIFO). Serving runs the waiter's pop as an ordinary
//! command in the waiter's keyspace (`LPOP`, `LMOVE`, …), so it is journaled, replicated to
//! checkpoints and counted like any write, and hands the reply to the waiter's [`Mailbox`].
//! The engine does no I/O: the server awaits the mailbox, with the timeout, and cancels the
//! wait ([`crate::Engine::cancel_wait`]) on timeout or disconnect. A key that is deleted,
//! renamed away or expired simply has nothing to pop; a key that becomes another type does not
//! wake anyone.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use smol_str::SmolStr;

use crate::key::Key;
use crate::Reply;

/// Where a served waiter's reply goes: the reply and the LSN of the write that made it (the
/// server waits for its durability under `appendfsync always`).
#[derive(Debug, Default)]
pub struct Mailbox {
    state: Mutex<Slot>,
}

/// The reply (with its LSN) once delivered, and the waker of the connection awaiting it.
#[derive(Debug, Default)]
struct Slot(Option<(Reply, u64)>, Option<Waker>);

impl Mailbox {
    fn deliver(&self, reply: Reply, lsn: u64) {
        let mut s = crate::lock(&self.state);
        s.0 = Some((reply, lsn));
        if let Some(w) = s.1.take() {
            w.wake();
        }
    }

    /// Ready with the reply once the waiter has been served.
    pub fn poll_reply(&self, cx: &mut Context<'_>) -> Poll<(Reply, u64)> {
        let mut s = crate::lock(&self.state);
        match s.0.take() {
            Some(r) => Poll::Ready(r),
            None => {
                s.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    /// The reply, if it has been delivered.
    pub fn take(&self) -> Option<(Reply, u64)> {
        crate::lock(&self.state).0.take()
    }
}

/// A parked command, as the server sees it: where its reply will come, how long it may wait
/// (None: forever) and what it answers on timeout.
#[derive(Debug, Clone)]
pub struct Blocked {
    pub mailbox: Arc<Mailbox>,
    pub timeout: Option<std::time::Duration>,
    pub on_timeout: Reply,
}

/// What a waiter does once one of its keys holds something.
#[derive(Debug, Clone)]
pub(crate) enum WaitOp {
    /// `BLPOP`/`BRPOP`: `[key, item]`; with `count` (`BLMPOP`): `[key, [items]]`.
    Pop { left: bool, count: Option<usize> },
    /// `BLMOVE`/`BRPOPLPUSH`: the item moved.
    Move {
        dst: Bytes,
        from_left: bool,
        to_left: bool,
    },
    /// Native `POP key WAIT s` / `POPLEFT`: `[key, item]`.
    Native { left: bool },
    /// `BZPOPMIN`/`BZPOPMAX`: `[key, member, score]`.
    ZPop { highest: bool },
    /// `BZMPOP`: `[key, [[member, score], …]]`.
    ZMPop { highest: bool, count: usize },
}

#[derive(Debug)]
pub(crate) struct Waiter {
    pub client: u64,
    pub keyspace: SmolStr,
    pub keys: Vec<Bytes>,
    pub op: WaitOp,
    pub mailbox: Arc<Mailbox>,
    /// What it answers when the wait ends without an item (timeout, `CLIENT UNBLOCK`).
    pub on_timeout: Reply,
}

/// Every parked waiter, and the queue of waiters per key.
#[derive(Debug, Default)]
pub(crate) struct Waiting {
    next: u64,
    waiters: BTreeMap<u64, Waiter>,
    by_key: HashMap<(SmolStr, Key), VecDeque<u64>>,
    by_client: HashMap<u64, u64>,
}

impl Waiting {
    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    pub fn len(&self) -> usize {
        self.waiters.len()
    }

    /// Parks a waiter (a client waits for one thing at a time).
    pub fn park(&mut self, w: Waiter) {
        self.cancel(w.client);
        let seq = self.next;
        self.next += 1;
        for k in &w.keys {
            let q = self
                .by_key
                .entry((w.keyspace.clone(), Key::new(k)))
                .or_default();
            if !q.contains(&seq) {
                q.push_back(seq);
            }
        }
        self.by_client.insert(w.client, seq);
        self.waiters.insert(seq, w);
    }

    /// Removes a client's waiter; true if it was still waiting (not served).
    pub fn cancel(&mut self, client: u64) -> bool {
        let Some(seq) = self.by_client.remove(&client) else {
            return false;
        };
        self.remove(seq);
        true
    }

    fn remove(&mut self, seq: u64) -> Option<Waiter> {
        let w = self.waiters.remove(&seq)?;
        self.by_client.remove(&w.client);
        for k in &w.keys {
            let slot = (w.keyspace.clone(), Key::new(k));
            if let Some(q) = self.by_key.get_mut(&slot) {
                q.retain(|s| *s != seq);
                if q.is_empty() {
                    self.by_key.remove(&slot);
                }
            }
        }
        Some(w)
    }

    /// `CLIENT UNBLOCK`: ends a client's wait as a timeout would, or with an `UNBLOCKED`
    /// error; false if it was not waiting.
    pub fn unblock(&mut self, client: u64, error: bool) -> bool {
        let Some(seq) = self.by_client.get(&client).copied() else {
            return false;
        };
        let Some(w) = self.remove(seq) else {
            return false;
        };
        let reply = if error {
            Reply::Error(crate::CmdError::new(
                "UNBLOCKED",
                "client unblocked via CLIENT UNBLOCK",
            ))
        } else {
            w.on_timeout.clone()
        };
        w.mailbox.deliver(reply, 0);
        true
    }

    /// True if someone waits on this key.
    pub fn has(&self, keyspace: &str, key: &[u8]) -> bool {
        !self.by_key.is_empty()
            && self
                .by_key
                .contains_key(&(SmolStr::new(keyspace), Key::new(key)))
    }

    /// The first waiter on a key.
    pub fn first(&self, keyspace: &str, key: &[u8]) -> Option<&Waiter> {
        let seq = self
            .by_key
            .get(&(SmolStr::new(keyspace), Key::new(key)))?
            .front()?;
        self.waiters.get(seq)
    }

    /// Takes the first waiter on a key out of every queue.
    pub fn take_first(&mut self, keyspace: &str, key: &[u8]) -> Option<Waiter> {
        let seq = *self
            .by_key
            .get(&(SmolStr::new(keyspace), Key::new(key)))?
            .front()?;
        self.remove(seq)
    }
}

/// Delivers a reply to a served waiter.
pub(crate) fn deliver(w: &Waiter, reply: Reply, lsn: u64) {
    w.mailbox.deliver(reply, lsn);
}
