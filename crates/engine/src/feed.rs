//! The change feed (`LISTEN`): every journal record, kept in memory for a while, read by
//! listeners at their own pace.
//!
//! Records come in in LSN order once they may be sent: from the journal writer once they are
//! written (fsynced under `appendfsync always`), or straight from the executor when the server
//! runs without a journal. The feed keeps the newest of them within `feed-retention-bytes`
//! and `feed-retention-seconds`; on start-up recovery fills it from the journal segments still
//! on disk (the checkpointer keeps the segments the feed still holds). A listener is a cursor,
//! the last seq it was sent: it reads the records after it, so a slow listener costs no memory
//! beyond the retention, and one that falls further behind than its output limit (or past the
//! retention) is told the last seq it got and closed, to resume with `LISTEN … FROM seq`.
//!
//! A message's seq is its record's LSN: the changes of one transaction share it (each has an
//! index) and are always sent together, so a resume point is never inside a transaction.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use okdb_value::Value;
use smol_str::SmolStr;

use crate::effects::Effect;
use crate::glob::Pattern;
use crate::journal::{Body, Record};
use crate::{lock, Reply};

/// One record as the feed keeps it.
#[derive(Debug)]
pub struct FeedRecord {
    pub lsn: u64,
    pub now: u64,
    pub effects: Vec<Effect>,
    /// The values of keys changed in place (`Effect::Change`), by effect index, when a listener
    /// was connected as the write ran (the journal keeps only the change).
    pub after: Vec<(usize, Value)>,
    /// Its size in the journal (or an estimate), for the retention and a listener's lag.
    pub size: u64,
    /// The sum of sizes up to and including this record, since the feed began.
    end: u64,
}

#[derive(Debug, Default)]
struct Inner {
    records: VecDeque<Arc<FeedRecord>>,
    bytes: u64,
    /// Every record after this LSN is held (none were dropped after it).
    floor: u64,
    /// The last LSN appended.
    last: u64,
    /// Running total of sizes.
    total: u64,
    wakers: Vec<Waker>,
    /// Values after in-place changes, noted by the executor until their record arrives.
    after: HashMap<u64, Vec<(usize, Value)>>,
}

/// The feed, shared by the executor, the journal writer and the listeners.
#[derive(Debug, Default)]
pub struct Feed {
    inner: Mutex<Inner>,
    /// Listeners connected now (values after in-place changes are noted only while there are).
    pub listeners: AtomicUsize,
    /// Set once a listener has connected to a server without a journal: from then on the
    /// executor builds records for the feed itself.
    pub in_memory: AtomicBool,
}

/// How far back a `FROM` can reach, for the error that says it cannot.
#[derive(Debug, Clone, Copy)]
pub struct Behind {
    /// The oldest seq a listener may resume from.
    pub floor: u64,
}

impl Feed {
    /// Appends records (in LSN order), drops what falls out of the retention, wakes listeners.
    pub fn append(&self, records: impl IntoIterator<Item = (Record, u64)>, retention: (u64, u64)) {
        let mut f = lock(&self.inner);
        let mut any = false;
        for (rec, size) in records {
            let Body::Effects(effects) = rec.body else {
                continue;
            };
            if rec.lsn <= f.last {
                continue;
            }
            if f.last != 0 && rec.lsn != f.last + 1 {
                // Records went missing (damage repaired away): the feed restarts after them.
                f.records.clear();
                f.bytes = 0;
                f.floor = rec.lsn - 1;
            } else if f.last == 0 && f.records.is_empty() && f.floor == 0 {
                f.floor = rec.lsn - 1;
            }
            let after = f.after.remove(&rec.lsn).unwrap_or_default();
            f.total += size;
            f.bytes += size;
            f.last = rec.lsn;
            let end = f.total;
            f.records.push_back(Arc::new(FeedRecord {
                lsn: rec.lsn,
                now: rec.now,
                effects,
                after,
                size,
                end,
            }));
            any = true;
        }
        if !any {
            return;
        }
        let (max_bytes, max_secs) = retention;
        let newest = f.records.back().map_or(0, |r| r.now);
        while f.records.len() > 1 {
            let oldest = &f.records[0];
            let too_old = max_secs > 0 && newest.saturating_sub(oldest.now) > max_secs * 1000;
            if f.bytes <= max_bytes && !too_old {
                break;
            }
            let r = f.records.pop_front().expect("more than one");
            f.bytes -= r.size;
            f.floor = r.lsn;
        }
        if f.bytes > max_bytes {
            // Even the newest record alone is over the retention: keep none.
            if let Some(r) = f.records.pop_front() {
                f.bytes -= r.size;
                f.floor = r.lsn;
            }
        }
        for w in f.wakers.drain(..) {
            w.wake();
        }
    }

    /// After recovery (or at start without a journal): the feed goes on from `last` (records
    /// after it come next); what it holds already stays if it ends there.
    pub fn start_after(&self, last: u64) {
        let mut f = lock(&self.inner);
        if f.last != last {
            f.records.clear();
            f.bytes = 0;
            f.floor = last;
            f.last = last;
        }
    }

    /// Notes the values after a record's in-place changes (while listeners are connected).
    pub fn note_after(&self, lsn: u64, after: Vec<(usize, Value)>) {
        lock(&self.inner).after.insert(lsn, after);
    }

    /// Every record after this LSN is held; the oldest a `FROM` may name.
    pub fn floor(&self) -> u64 {
        lock(&self.inner).floor
    }

    /// The last LSN the feed has.
    pub fn last(&self) -> u64 {
        lock(&self.inner).last
    }

    /// Records after `cursor`, at most `max` of them; `Err` when some after it are gone.
    pub fn read_after(
        &self,
        cursor: u64,
        max: usize,
    ) -> Result<(Vec<Arc<FeedRecord>>, u64), Behind> {
        let f = lock(&self.inner);
        if cursor < f.floor {
            return Err(Behind { floor: f.floor });
        }
        let first = f.records.front().map_or(f.last + 1, |r| r.lsn);
        let skip = (cursor + 1).saturating_sub(first) as usize;
        let out: Vec<_> = f.records.iter().skip(skip).take(max).cloned().collect();
        // How many bytes the listener is behind after these.
        let lag = match out.last() {
            Some(r) => f.total - r.end,
            None => 0,
        };
        Ok((out, lag))
    }

    /// How many bytes of records after `cursor` the feed holds; None when some after it are
    /// gone already.
    pub fn lag(&self, cursor: u64) -> Option<u64> {
        let f = lock(&self.inner);
        if cursor < f.floor {
            return None;
        }
        let first = f.records.front().map_or(f.last + 1, |r| r.lsn);
        let done = match (cursor + 1).checked_sub(first) {
            Some(0) | None => f.total - f.bytes,
            Some(n) => f.records.get(n as usize - 1).map_or(f.total, |r| r.end),
        };
        Some(f.total - done)
    }

    /// Ready when there is a record after `cursor` (or the cursor fell behind the floor).
    pub fn poll_after(&self, cursor: u64, cx: &mut Context<'_>) -> Poll<()> {
        let mut f = lock(&self.inner);
        if f.last > cursor || cursor < f.floor {
            return Poll::Ready(());
        }
        if !f.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            f.wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// The retention in force: `feed-retention-bytes` and `-seconds`, and while listeners are
/// connected at least `client-output-buffer-limit pubsub`'s hard limit of bytes, so a listener
/// is cut off by its own lag, not by a small retention.
pub fn retention(cfg: &crate::Config, feed: &Feed) -> (u64, u64) {
    use std::sync::atomic::Ordering::Relaxed;
    let mut bytes = cfg.feed_retention_bytes.load(Relaxed);
    if feed.listeners.load(Relaxed) > 0 {
        let hard = cfg
            .output_limit(crate::config::OutputClass::Pubsub)
            .hard
            .load(Relaxed);
        bytes = bytes.max(hard);
    }
    (bytes, cfg.feed_retention_seconds.load(Relaxed))
}

/// About how many bytes a record takes (records the executor hands over without a journal).
pub fn estimate(effects: &[Effect]) -> u64 {
    effects
        .iter()
        .map(|e| {
            32 + match e {
                Effect::Put { key, value, .. } => key.as_bytes().len() + value_size(value),
                Effect::Del { key, .. } | Effect::Expire { key, .. } => key.as_bytes().len(),
                Effect::Change { key, deltas, .. } => key.as_bytes().len() + 32 * deltas.len(),
                _ => 16,
            }
        })
        .sum::<usize>() as u64
}

fn value_size(v: &Value) -> usize {
    match v {
        Value::Str(s) => s.len(),
        Value::Bytes(b) => b.len(),
        other => 16 * other.len().unwrap_or(1),
    }
}

/// What a `LISTEN` connection follows.
#[derive(Debug)]
pub struct Listener {
    pub patterns: Vec<(Bytes, Pattern)>,
    /// The keyspace it follows; None for every one.
    pub keyspace: Option<SmolStr>,
    /// The last seq it was sent.
    pub cursor: u64,
    pub values: bool,
    /// Values larger than this (bytes, about) are sent as their type and size.
    pub max_value: usize,
}

/// Most records read for a listener at a time.
pub const BATCH: usize = 256;

impl Listener {
    fn matches(&self, keyspace: &str, key: &[u8]) -> bool {
        self.keyspace.as_deref().is_none_or(|k| k == keyspace)
            && self.patterns.iter().any(|(_, p)| p.matches(key))
    }

    /// The messages of one record for this listener (all of them, or none: a transaction's
    /// changes go together).
    pub fn messages(&self, rec: &FeedRecord, out: &mut Vec<Reply>) {
        let mut op: SmolStr = SmolStr::new_static("set");
        let mut index = 0i64;
        for (i, e) in rec.effects.iter().enumerate() {
            let mut msg =
                |keyspace: &str, key: Option<&[u8]>, op: &str, extra: Vec<(Reply, Reply)>| {
                    let mut m = vec![
                        (t("seq"), Reply::Int(rec.lsn as i64)),
                        (t("index"), Reply::Int(index)),
                        (t("keyspace"), Reply::text(keyspace)),
                        (t("key"), key.map_or(Reply::Null, Reply::bulk)),
                        (t("op"), Reply::text(op)),
                    ];
                    m.extend(extra);
                    out.push(Reply::Push(vec![t("change"), Reply::Map(m)]));
                    index += 1;
                };
            match e {
                Effect::Op(o) => op = o.clone(),
                Effect::Put {
                    keyspace,
                    key,
                    value,
                    expire_at,
                } if self.matches(keyspace, key.as_bytes()) => {
                    let mut extra = self.value_fields(Some(value));
                    extra.push((t("expire_at"), Reply::Int(*expire_at as i64)));
                    msg(keyspace, Some(key.as_bytes()), &op, extra);
                }
                Effect::Change { keyspace, key, .. } if self.matches(keyspace, key.as_bytes()) => {
                    let after = rec.after.iter().find(|(j, _)| *j == i).map(|(_, v)| v);
                    let mut extra = self.value_fields(after);
                    if after.is_none() && self.values {
                        // Changed in place while no listener was connected: the journal holds
                        // only the change, so the listener reads the key again.
                        extra.push((t("reread"), Reply::Bool(true)));
                    }
                    msg(keyspace, Some(key.as_bytes()), &op, extra);
                }
                Effect::Del { keyspace, key } if self.matches(keyspace, key.as_bytes()) => {
                    let op = match op.as_str() {
                        "expired" | "evicted" | "rename_from" | "move_from" => op.as_str(),
                        _ => "del",
                    };
                    msg(keyspace, Some(key.as_bytes()), op, Vec::new());
                }
                Effect::Expire { keyspace, key, at } if self.matches(keyspace, key.as_bytes()) => {
                    let op = if *at == 0 { "persist" } else { "expire" };
                    msg(
                        keyspace,
                        Some(key.as_bytes()),
                        op,
                        vec![(t("expire_at"), Reply::Int(*at as i64))],
                    );
                }
                Effect::Rename { keyspace, from, to } => {
                    if self.matches(keyspace, from.as_bytes()) {
                        msg(keyspace, Some(from.as_bytes()), "rename_from", Vec::new());
                    }
                    if self.matches(keyspace, to.as_bytes()) {
                        msg(keyspace, Some(to.as_bytes()), "rename_to", Vec::new());
                    }
                }
                Effect::Flush { keyspace }
                    if self
                        .keyspace
                        .as_deref()
                        .is_none_or(|k| k == keyspace.as_str()) =>
                {
                    msg(keyspace, None, "flushdb", Vec::new());
                }
                Effect::FlushAll => msg("*", None, "flushall", Vec::new()),
                Effect::Swap { a, b }
                    if self
                        .keyspace
                        .as_deref()
                        .is_none_or(|k| k == a.as_str() || k == b.as_str()) =>
                {
                    msg(a, None, "swapdb", vec![(t("with"), Reply::text(b))]);
                }
                _ => {}
            }
        }
    }

    fn value_fields(&self, v: Option<&Value>) -> Vec<(Reply, Reply)> {
        let Some(v) = v.filter(|_| self.values) else {
            return Vec::new();
        };
        let size = value_size(v);
        if size > self.max_value {
            vec![
                (t("type"), Reply::text(v.type_name())),
                (t("size"), Reply::Int(size as i64)),
            ]
        } else {
            vec![(t("value"), Reply::Value(v.clone()))]
        }
    }
}

fn t(s: &'static str) -> Reply {
    Reply::Bulk(Bytes::from_static(s.as_bytes()))
}
