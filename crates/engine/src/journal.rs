//! The engine's side of persistence: which writes happened, in what order, and how far they are
//! durable. No I/O here: the persistence crate takes records from the [`Queue`], writes and
//! syncs them, and reports back with [`Queue::mark_durable`].
//!
//! A record is one write command as it ran: its arguments, the keyspace it ran in and the
//! batch's clock. Replaying it with the same clock gives the same result, so relative expiry
//! (`EXPIRE k 10`, `SET k v EX 10`) lands on the same absolute time. Records are numbered by a
//! log sequence number (LSN) assigned under the store's lock, so LSN order is execution order.
//! Only commands that succeeded are recorded; a handler that answers an error has changed
//! nothing (every write validates before it mutates).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Condvar, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use smol_str::SmolStr;

use crate::lock;

/// One journaled write.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub lsn: u64,
    /// The batch clock it ran at, unix milliseconds.
    pub now: u64,
    pub keyspace: SmolStr,
    pub args: Vec<Bytes>,
}

/// `appendfsync`: when a write is acknowledged relative to its fsync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    /// The OS decides when to write to disk.
    No = 0,
    /// fsync once a second; a write may be acknowledged up to a second before it is on disk.
    EverySec = 1,
    /// A write is acknowledged only once the fsync that covers it has completed.
    Always = 2,
}

impl Fsync {
    pub fn parse(s: &str) -> Option<Fsync> {
        match s.to_ascii_lowercase().as_str() {
            "no" => Some(Fsync::No),
            "everysec" => Some(Fsync::EverySec),
            "always" => Some(Fsync::Always),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Fsync::No => "no",
            Fsync::EverySec => "everysec",
            Fsync::Always => "always",
        }
    }

    pub fn from_u8(n: u8) -> Fsync {
        match n {
            0 => Fsync::No,
            2 => Fsync::Always,
            _ => Fsync::EverySec,
        }
    }
}

/// Pending records that wake the writer even when it is not eager.
const EAGER_AT: usize = 4096;

/// How long an `everysec` fsync may run before writers wait for it (Redis's rule).
pub const SYNC_STALL_MS: u64 = 2000;

/// Records waiting to be written, and the way back: how far they are durable.
#[derive(Debug, Default)]
pub struct Queue {
    pending: Mutex<Vec<Record>>,
    ready: Condvar,
    durable: AtomicU64,
    waiters: Mutex<Vec<Waker>>,
    /// Set when the journal cannot be written: writes are refused until it clears.
    failed: AtomicBool,
    failure: Mutex<Option<String>>,
    /// Unix ms at which the fsync in progress started; 0 when none is running.
    pub sync_started: AtomicU64,
    /// Figures for `INFO persistence`, kept by the persistence crate.
    pub stats: Stats,
    /// Wake the writer on every push (set by the writer under `always`).
    pub eager: AtomicBool,
}

/// What `INFO persistence` shows; persistence updates these, the engine only reads them.
#[derive(Debug, Default)]
pub struct Stats {
    pub journal_bytes: AtomicU64,
    pub journal_segments: AtomicU64,
    pub last_lsn_written: AtomicU64,
    pub checkpoint_lsn: AtomicU64,
    pub last_checkpoint_unix: AtomicU64,
    pub last_checkpoint_ms: AtomicU64,
    pub last_checkpoint_keys: AtomicU64,
    pub checkpoints: AtomicU64,
    pub checkpoint_failures: AtomicU64,
    pub checkpoint_running: AtomicBool,
    pub last_fsync_us: AtomicU64,
    pub fsyncs: AtomicU64,
    pub recovery_ms: AtomicU64,
    pub recovered_records: AtomicU64,
    /// Set by `SAVE`: the checkpointer runs as soon as it sees it.
    pub checkpoint_requested: AtomicBool,
}

impl Queue {
    /// Appends a batch's records (in LSN order). Wakes the writer when it is `eager` (under
    /// `always` a client waits for it) or when much is pending; otherwise the writer collects
    /// on its own short tick, so many batches share one wake-up and one `write`.
    pub fn push(&self, records: &mut Vec<Record>) {
        let mut pending = lock(&self.pending);
        pending.append(records);
        let wake = self.eager.load(Relaxed) || pending.len() >= EAGER_AT;
        drop(pending);
        if wake {
            self.ready.notify_one();
        }
    }

    /// Takes every pending record, waiting up to `timeout` for one to arrive.
    pub fn take(&self, timeout: Duration) -> Vec<Record> {
        let mut pending = lock(&self.pending);
        if pending.is_empty() {
            pending = self
                .ready
                .wait_timeout(pending, timeout)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        std::mem::take(&mut *pending)
    }

    /// Wakes the writer without a record (shutdown, a rotation request).
    pub fn nudge(&self) {
        self.ready.notify_all();
    }

    pub fn durable(&self) -> u64 {
        self.durable.load(SeqCst)
    }

    /// Everything up to `lsn` is durable under the policy: wakes the writers waiting for it.
    pub fn mark_durable(&self, lsn: u64) {
        self.durable.fetch_max(lsn, SeqCst);
        self.wake_waiters();
    }

    /// Wakes every [`until`](Self::until) future to check its condition again: called after
    /// anything they may wait for changes (durability, a failure, a finished checkpoint).
    pub fn wake_waiters(&self) {
        for w in lock(&self.waiters).drain(..) {
            w.wake();
        }
    }

    /// A future that resolves with `check`'s answer once it is `Some`; `check` runs on each
    /// wake-up from [`wake_waiters`](Self::wake_waiters).
    pub fn until<T, F: Fn(&Queue) -> Option<T>>(&self, check: F) -> Until<'_, F> {
        Until { queue: self, check }
    }

    /// Resolves when `lsn` is durable (Ok) or the journal has failed before it was (Err).
    pub fn wait_durable(
        &self,
        lsn: u64,
    ) -> Until<'_, impl Fn(&Queue) -> Option<Result<(), String>>> {
        self.until(move |q| {
            if q.durable() >= lsn {
                Some(Ok(()))
            } else {
                q.failure().map(Err)
            }
        })
    }

    /// Asks for a checkpoint (`SAVE`, `BGSAVE`); the ticket tells when one that started after
    /// this request has finished.
    pub fn request_checkpoint(&self) -> CheckpointTicket {
        let st = &self.stats;
        let failures = st.checkpoint_failures.load(SeqCst);
        // One running now captured its keys before this request: wait for the one after it.
        let running = u64::from(st.checkpoint_running.load(SeqCst));
        let ticket = CheckpointTicket {
            attempts: st.checkpoints.load(SeqCst) + failures + running + 1,
            failures_before: failures,
        };
        st.checkpoint_requested.store(true, SeqCst);
        ticket
    }

    /// Resolves when the checkpoint a ticket waits for has finished: Ok if it succeeded.
    pub fn wait_checkpoint(
        &self,
        ticket: CheckpointTicket,
    ) -> Until<'_, impl Fn(&Queue) -> Option<Result<(), ()>>> {
        self.until(move |q| {
            let st = &q.stats;
            let failures = st.checkpoint_failures.load(SeqCst);
            (st.checkpoints.load(SeqCst) + failures >= ticket.attempts).then_some(
                if failures > ticket.failures_before {
                    Err(())
                } else {
                    Ok(())
                },
            )
        })
    }

    /// Records a finished checkpoint attempt and wakes whoever waits for one.
    pub fn checkpoint_done(&self, ok: bool) {
        let st = &self.stats;
        if ok {
            st.checkpoints.fetch_add(1, SeqCst);
        } else {
            st.checkpoint_failures.fetch_add(1, SeqCst);
        }
        self.wake_waiters();
    }

    /// Refuses writes with this reason (a failed write or fsync), or accepts them again (None).
    pub fn set_failure(&self, reason: Option<String>) {
        self.failed.store(reason.is_some(), SeqCst);
        *lock(&self.failure) = reason;
        self.wake_waiters();
    }

    /// Why writes are refused, if they are.
    pub fn failure(&self) -> Option<String> {
        if !self.failed.load(Relaxed) {
            return None;
        }
        lock(&self.failure).clone()
    }

    /// True if an fsync has been running for longer than [`SYNC_STALL_MS`].
    pub fn sync_stalled(&self, now: u64) -> bool {
        let started = self.sync_started.load(Relaxed);
        started != 0 && now.saturating_sub(started) > SYNC_STALL_MS
    }
}

/// What `SAVE` waits for: the checkpoint attempt count to reach `attempts`; it failed if the
/// failure count moved past `failures_before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointTicket {
    pub attempts: u64,
    pub failures_before: u64,
}

/// The future of [`Queue::until`].
pub struct Until<'a, F> {
    queue: &'a Queue,
    check: F,
}

impl<F> std::fmt::Debug for Until<'_, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Until").finish_non_exhaustive()
    }
}

impl<T, F: Fn(&Queue) -> Option<T>> Future for Until<'_, F> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let q = self.queue;
        if let Some(done) = (self.check)(q) {
            return Poll::Ready(done);
        }
        lock(&q.waiters).push(cx.waker().clone());
        // Checked again after registering, so a wake-up between the two checks is not lost.
        match (self.check)(q) {
            Some(done) => Poll::Ready(done),
            None => Poll::Pending,
        }
    }
}
