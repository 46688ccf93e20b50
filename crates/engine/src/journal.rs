//! The engine's side of persistence: which writes happened, in what order, and how far they are
//! durable. No I/O here: the persistence crate takes records from the [`Queue`], writes and
//! syncs them, and reports back with [`Queue::mark_durable`].
//!
//! A record is what one write did: its effects ([`crate::effects`]: the values put, the keys
//! deleted, the deltas made in place, absolute expiry times), the keyspace its connection was
//! in and the batch's clock. Replay applies the effects; no command runs. Records are numbered
//! by a log sequence number (LSN) assigned under the store's lock, so LSN order is execution
//! order. Only writes that succeeded and changed something are recorded; a handler that
//! answers an error has changed nothing (every write validates before it mutates). Journals
//! written before effects hold commands ([`Body::Command`]), which replay runs again.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Condvar, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use smol_str::SmolStr;

use crate::lock;

/// One journaled write.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub lsn: u64,
    /// The batch clock it ran at, unix milliseconds.
    pub now: u64,
    /// The keyspace the write's connection was in.
    pub keyspace: SmolStr,
    pub body: Body,
}

/// What a record holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// What the write did (every record okdb writes now).
    Effects(Vec<crate::effects::Effect>),
    /// A write command as it ran: what journals written before effects hold. Replay runs it
    /// again, with its arguments read under the literal mode it was sent in.
    Command {
        literals: okdb_value::literal::Literals,
        args: Vec<Bytes>,
    },
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
    pending: Mutex<Pending>,
    ready: Condvar,
    durable: AtomicU64,
    waiters: Mutex<Vec<Waker>>,
    /// Set when the journal cannot be written: writes are refused until it clears.
    failed: AtomicBool,
    failure: Mutex<Option<String>>,
    /// Why the last checkpoint failed, if it did.
    checkpoint_error: Mutex<Option<String>>,
    /// Unix ms at which the fsync in progress started; 0 when none is running.
    pub sync_started: AtomicU64,
    /// Figures for `INFO persistence`, kept by the persistence crate.
    pub stats: Stats,
    /// Set by the writer under `always`: clients wait for the records, so a push that completes
    /// the group the writer waits for wakes it.
    pub eager: AtomicBool,
    /// Under `always`: how many pushes a group commit waits for (see [`take_group`]).
    ///
    /// [`take_group`]: Self::take_group
    pub group_target: AtomicU64,
    nudged: AtomicBool,
}

/// Records not yet taken by the writer, and whether it sleeps waiting for them (a push wakes
/// it only then: a wake-up is a system call, and while it writes or syncs it takes everything
/// pending when it comes back anyway).
#[derive(Debug, Default)]
struct Pending {
    records: Vec<Record>,
    sleeping: bool,
    /// Batches pushed (one per connection per round of requests) since the last take.
    pushes: u64,
    /// When the first of them was pushed.
    first_at: Option<Instant>,
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
    /// How long the last checkpoint held the store's lock to capture its keys.
    pub last_capture_us: AtomicU64,
    /// 1 if the last checkpoint wrote a fresh snapshot, 0 if it updated changed keys.
    pub last_checkpoint_fresh: AtomicU64,
    pub last_checkpoint_keys: AtomicU64,
    pub checkpoints: AtomicU64,
    pub checkpoint_failures: AtomicU64,
    /// Failures since the last checkpoint that succeeded (the checkpointer backs off by them).
    pub checkpoint_failures_in_a_row: AtomicU64,
    pub checkpoint_running: AtomicBool,
    pub last_fsync_us: AtomicU64,
    pub fsyncs: AtomicU64,
    pub recovery_ms: AtomicU64,
    pub recovered_records: AtomicU64,
    /// Set by `SAVE`: the checkpointer runs as soon as it sees it.
    pub checkpoint_requested: AtomicBool,
}

impl Queue {
    /// Appends a batch's records (in LSN order). Wakes the writer when much is pending, or
    /// under `always` when the group it waits for is complete; otherwise it collects on its own
    /// short tick, so many batches share one `write`.
    pub fn push(&self, records: &mut Vec<Record>) {
        let mut pending = lock(&self.pending);
        pending.records.append(records);
        pending.pushes += 1;
        if pending.first_at.is_none() {
            pending.first_at = Some(Instant::now());
        }
        let wake = pending.sleeping
            && (pending.records.len() >= EAGER_AT
                || (self.eager.load(Relaxed) && pending.pushes >= self.group_target.load(Relaxed)));
        if wake {
            // One wake-up is enough: the pushes until the writer runs need not repeat it.
            pending.sleeping = false;
        }
        drop(pending);
        if wake {
            self.ready.notify_one();
        }
    }

    /// Under `always`: takes the next group commit's records once `group_target` batches are
    /// pending, or `max_delay` after the first of them arrived, or when `wake` is set (shutdown).
    /// Returns the records and how many batches they came in; nothing if none arrived within
    /// `idle`.
    ///
    /// Why wait at all: on a machine short of CPU, each fsync costs as much CPU as many
    /// requests, so one fsync for every waiting client beats starting one for the first client
    /// while the rest queue behind it (which is what an eager writer does, and it splits the
    /// clients into groups that take turns). The writer sets the target to the clients it just
    /// released plus those already waiting: the ones that will be back for the next commit.
    pub fn take_group(&self, max_delay: Duration, idle: Duration) -> (Vec<Record>, u64) {
        let mut pending = lock(&self.pending);
        let idle_until = Instant::now() + idle;
        loop {
            let now = Instant::now();
            let wait = match pending.first_at {
                Some(first) => {
                    let due = first + max_delay;
                    if pending.pushes >= self.group_target.load(Relaxed)
                        || now >= due
                        || !self.eager.load(Relaxed)
                    {
                        break;
                    }
                    due - now
                }
                None if now >= idle_until => break,
                None => idle_until - now,
            };
            pending.sleeping = true;
            let (p, timeout) = self
                .ready
                .wait_timeout(pending, wait)
                .unwrap_or_else(|p| p.into_inner());
            pending = p;
            pending.sleeping = false;
            if timeout.timed_out() && pending.first_at.is_none() {
                break;
            }
            if self.nudged.swap(false, Relaxed) {
                break;
            }
        }
        let pushes = std::mem::take(&mut pending.pushes);
        pending.first_at = None;
        (std::mem::take(&mut pending.records), pushes)
    }

    /// Batches pushed since the last take.
    pub fn pending_pushes(&self) -> u64 {
        lock(&self.pending).pushes
    }

    /// Takes every pending record, waiting up to `timeout` for one to arrive.
    pub fn take(&self, timeout: Duration) -> Vec<Record> {
        let mut pending = lock(&self.pending);
        if pending.records.is_empty() && !timeout.is_zero() {
            pending.sleeping = true;
            pending = self
                .ready
                .wait_timeout(pending, timeout)
                .unwrap_or_else(|p| p.into_inner())
                .0;
            pending.sleeping = false;
        }
        pending.pushes = 0;
        pending.first_at = None;
        std::mem::take(&mut pending.records)
    }

    /// Registers a waker to be woken at the next [`wake_waiters`](Self::wake_waiters); for
    /// futures that check their own condition (the server's per-thread durability wait).
    pub fn register_waker(&self, waker: &Waker) {
        lock(&self.waiters).push(waker.clone());
    }

    /// Wakes the writer without a record (shutdown, a rotation request).
    pub fn nudge(&self) {
        self.nudged.store(true, Relaxed);
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
    pub fn checkpoint_done(&self, result: Result<(), String>) {
        let st = &self.stats;
        match result {
            Ok(()) => {
                *lock(&self.checkpoint_error) = None;
                st.checkpoint_failures_in_a_row.store(0, SeqCst);
                st.checkpoints.fetch_add(1, SeqCst);
            }
            Err(e) => {
                *lock(&self.checkpoint_error) = Some(e);
                st.checkpoint_failures_in_a_row.fetch_add(1, SeqCst);
                st.checkpoint_failures.fetch_add(1, SeqCst);
            }
        }
        self.wake_waiters();
    }

    /// Why the last checkpoint failed, or None if it succeeded (or none ran yet).
    pub fn checkpoint_error(&self) -> Option<String> {
        lock(&self.checkpoint_error).clone()
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

    /// True if an fsync has been running for longer than [`SYNC_STALL_MS`]. Reads the clock
    /// only while one is running (it is asked once per batch with writes).
    pub fn sync_stalled(&self) -> bool {
        let started = self.sync_started.load(Relaxed);
        started != 0 && crate::time::now_ms().saturating_sub(started) > SYNC_STALL_MS
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
