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

/// One record as a listener reads it.
#[derive(Debug)]
pub struct FeedRecord {
    pub lsn: u64,
    pub effects: Vec<Effect>,
    /// The values of keys changed in place (`Effect::Change`), by effect index, when a listener
    /// was connected as the write ran (the journal keeps only the change).
    pub after: Vec<(usize, Value)>,
}

/// Reads one record from its journal bytes (the persistence crate provides it).
pub type Decoder = fn(&[u8]) -> Option<Record>;

/// What a chunk holds its records as.
#[derive(Debug)]
enum Data {
    /// The journal's own bytes (what the journal writer wrote, or recovery read): the memory
    /// the retention counts is the memory it takes. `starts[i]` is where record i begins.
    Encoded { bytes: Bytes, starts: Vec<u32> },
    /// Records themselves (a server without a journal).
    Records(Vec<Record>),
}

/// Records appended together (one pass of the journal writer), shared with listeners by one
/// reference count.
pub struct Chunk {
    first: u64,
    len: usize,
    data: Data,
    /// The running total of bytes at the end of each record (for a listener's lag).
    ends: Vec<u64>,
    /// The clock of its last record (for the retention in seconds).
    last_now: u64,
    bytes: u64,
    /// Values after in-place changes, by LSN (only while listeners were connected).
    after: Vec<(u64, Vec<(usize, Value)>)>,
    /// What the server made of it for listeners, by rendering variant (the messages encoded
    /// once for every listener with the same options); kept for the newest chunks only.
    cache: Mutex<Vec<(u64, Arc<dyn std::any::Any + Send + Sync>)>>,
}

impl std::fmt::Debug for Chunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chunk")
            .field("first", &self.first)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// Chunks (the newest) whose rendered messages are kept.
const CACHED_CHUNKS: usize = 16;

impl Chunk {
    /// The rendering of this chunk for `variant`, made by `make` the first time.
    pub fn cached<T: std::any::Any + Send + Sync>(
        &self,
        variant: u64,
        make: impl FnOnce() -> T,
    ) -> Arc<T> {
        let mut cache = lock(&self.cache);
        if let Some((_, r)) = cache.iter().find(|(v, _)| *v == variant) {
            if let Ok(t) = r.clone().downcast::<T>() {
                return t;
            }
        }
        let r = Arc::new(make());
        cache.push((variant, r.clone()));
        r
    }

    /// How many records it holds, and the LSN of the first.
    pub fn span(&self) -> (u64, usize) {
        (self.first, self.len)
    }

    /// Record `i` as a listener reads it (read from the journal's bytes).
    pub fn read(&self, i: usize, feed: &Feed) -> Option<FeedRecord> {
        self.record(i, feed.decoder.get().copied())
    }

    fn last(&self) -> u64 {
        self.first + self.len as u64 - 1
    }

    /// Record `i` as a listener reads it; None if it cannot be read (not an effects record).
    fn record(&self, i: usize, decode: Option<Decoder>) -> Option<FeedRecord> {
        let lsn = self.first + i as u64;
        let rec = match &self.data {
            Data::Encoded { bytes, starts } => {
                let end = starts.get(i + 1).map_or(bytes.len(), |e| *e as usize);
                decode?(&bytes[starts[i] as usize..end])?
            }
            Data::Records(records) => records[i].clone(),
        };
        let Body::Effects(effects) = rec.body else {
            return None;
        };
        let after = self
            .after
            .iter()
            .find(|(l, _)| *l == lsn)
            .map(|(_, a)| a.clone())
            .unwrap_or_default();
        Some(FeedRecord {
            lsn,
            effects,
            after,
        })
    }
}

/// Records handed to the feed in one go.
#[derive(Debug)]
pub enum Incoming {
    /// Journal bytes holding records `first..` in order; `starts` where each begins, `sizes`
    /// unused; `last_now` the clock of the last.
    Encoded {
        first: u64,
        bytes: Bytes,
        starts: Vec<u32>,
        last_now: u64,
    },
    /// Records and their sizes ([`estimate`]).
    Records(Vec<(Record, u64)>),
}

#[derive(Debug, Default)]
struct Inner {
    chunks: VecDeque<Arc<Chunk>>,
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

impl Inner {
    fn clear(&mut self, floor: u64) {
        self.chunks.clear();
        self.bytes = 0;
        self.floor = floor;
    }

    /// The chunk holding `lsn` and its index there.
    fn find(&self, lsn: u64) -> Option<(usize, usize)> {
        let i = self
            .chunks
            .partition_point(|c| c.first <= lsn)
            .checked_sub(1)?;
        let j = (lsn - self.chunks[i].first) as usize;
        (j < self.chunks[i].len).then_some((i, j))
    }

    /// Bytes of records held after `cursor`.
    fn lag(&self, cursor: u64) -> u64 {
        match self.find(cursor) {
            Some((i, j)) => self.total - self.chunks[i].ends[j],
            None if cursor >= self.last => 0,
            None => self.bytes,
        }
    }
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
    decoder: std::sync::OnceLock<Decoder>,
}

/// How far back a `FROM` can reach, for the error that says it cannot.
#[derive(Debug, Clone, Copy)]
pub struct Behind {
    /// The oldest seq a listener may resume from.
    pub floor: u64,
}

/// Records after a cursor: chunks, the index to start at in the first, how many in all.
#[derive(Debug, Default)]
pub struct Batch {
    chunks: Vec<Arc<Chunk>>,
    skip: usize,
    take: usize,
    decode: Option<Decoder>,
}

impl Batch {
    /// The chunks and the range of record indexes in each.
    pub fn parts(&self) -> impl Iterator<Item = (&Arc<Chunk>, std::ops::Range<usize>)> {
        let mut skip = self.skip;
        let mut left = self.take;
        self.chunks.iter().map(move |c| {
            let from = std::mem::take(&mut skip);
            let n = (c.len - from).min(left);
            left -= n;
            (c, from..from + n)
        })
    }

    /// The records, read from the journal's bytes one at a time (outside the feed's lock).
    pub fn iter(&self) -> impl Iterator<Item = FeedRecord> + '_ {
        self.chunks
            .iter()
            .flat_map(|c| (0..c.len).map(move |i| (c, i)))
            .skip(self.skip)
            .take(self.take)
            .filter_map(|(c, i)| c.record(i, self.decode))
    }
}

impl Feed {
    /// Says how to read records from journal bytes (persistence, once, at start).
    pub fn set_decoder(&self, decode: Decoder) {
        let _ = self.decoder.set(decode);
    }

    /// Appends records (in LSN order), drops what falls out of the retention, wakes listeners.
    pub fn append(&self, incoming: Incoming, retention: (u64, u64)) {
        let mut f = lock(&self.inner);
        let (first, len) = match &incoming {
            Incoming::Encoded { first, starts, .. } => (*first, starts.len()),
            Incoming::Records(r) if r.is_empty() => return,
            Incoming::Records(r) => (r[0].0.lsn, r.len()),
        };
        if len == 0 {
            return;
        }
        let last = first + len as u64 - 1;
        if last <= f.last {
            return;
        }
        if f.last != 0 && first != f.last + 1 {
            // Records went missing (damage repaired away), or these overlap what is held:
            // the feed restarts before them.
            f.clear(first - 1);
        } else if f.last == 0 && f.chunks.is_empty() && f.floor == 0 {
            f.floor = first - 1;
        }
        let mut ends = Vec::with_capacity(len);
        let (data, bytes, last_now) = match incoming {
            Incoming::Encoded {
                bytes,
                starts,
                last_now,
                ..
            } => {
                for i in 0..len {
                    let end = starts.get(i + 1).map_or(bytes.len(), |e| *e as usize);
                    f.total += (end - starts[i] as usize) as u64;
                    ends.push(f.total);
                }
                let n = bytes.len() as u64;
                (Data::Encoded { bytes, starts }, n, last_now)
            }
            Incoming::Records(records) => {
                let mut n = 0;
                for (_, size) in &records {
                    f.total += size;
                    n += size;
                    ends.push(f.total);
                }
                let last_now = records.last().map_or(0, |(r, _)| r.now);
                let records = records.into_iter().map(|(r, _)| r).collect();
                (Data::Records(records), n, last_now)
            }
        };
        let mut after = Vec::new();
        if !f.after.is_empty() {
            for lsn in first..=last {
                if let Some(a) = f.after.remove(&lsn) {
                    after.push((lsn, a));
                }
            }
        }
        f.last = last;
        f.bytes += bytes;
        f.chunks.push_back(Arc::new(Chunk {
            first,
            len,
            data,
            ends,
            last_now,
            bytes,
            after,
            cache: Mutex::new(Vec::new()),
        }));
        if f.chunks.len() > CACHED_CHUNKS {
            let old = f.chunks.len() - CACHED_CHUNKS - 1;
            lock(&f.chunks[old].cache).clear();
        }
        let (max_bytes, max_secs) = retention;
        while let Some(oldest) = f.chunks.front() {
            let too_old =
                max_secs > 0 && last_now.saturating_sub(oldest.last_now) > max_secs * 1000;
            if f.bytes <= max_bytes && !too_old {
                break;
            }
            let (lsn, bytes) = (oldest.last(), oldest.bytes);
            f.chunks.pop_front();
            f.bytes -= bytes;
            f.floor = lsn;
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
            f.clear(last);
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

    /// Records after `cursor`, at most `max` of them, and how many bytes of records the feed
    /// holds after those; `Err` when some after the cursor are gone.
    pub fn read_after(&self, cursor: u64, max: usize) -> Result<(Batch, u64), Behind> {
        let f = lock(&self.inner);
        if cursor < f.floor {
            return Err(Behind { floor: f.floor });
        }
        let decode = self.decoder.get().copied();
        let Some((i, j)) = f.find(cursor + 1) else {
            return Ok((Batch::default(), 0));
        };
        let mut batch = Batch {
            chunks: Vec::new(),
            skip: j,
            take: 0,
            decode,
        };
        let mut last_end = 0;
        for c in f.chunks.iter().skip(i) {
            let from = if batch.chunks.is_empty() { j } else { 0 };
            let n = (c.len - from).min(max - batch.take);
            batch.chunks.push(c.clone());
            batch.take += n;
            last_end = c.ends[from + n - 1];
            if batch.take == max {
                break;
            }
        }
        Ok((batch, f.total - last_end))
    }

    /// How many bytes of records after `cursor` the feed holds; None when some after it are
    /// gone already.
    pub fn lag(&self, cursor: u64) -> Option<u64> {
        let f = lock(&self.inner);
        (cursor >= f.floor).then(|| f.lag(cursor))
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
pub fn estimate(rec: &Record) -> u64 {
    let Body::Effects(effects) = &rec.body else {
        return 64;
    };
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
    /// The user it follows as, unless unrestricted: changes to keys (and keyspaces) it may not
    /// read are left out (crate::acl).
    pub user: Option<std::sync::Arc<crate::acl::User>>,
}

/// Most records read for a listener at a time.
pub const BATCH: usize = 256;

/// One change of a record, as a message, with what a listener filters it by.
#[derive(Debug)]
pub struct Change {
    pub reply: Reply,
    pub keyspace: SmolStr,
    /// None for `flushdb`, `flushall` and `swapdb`.
    pub key: Option<crate::key::Key>,
    /// `swapdb`'s other keyspace.
    pub with: Option<SmolStr>,
    pub flushall: bool,
}

impl Listener {
    /// Whether this listener follows the change.
    pub fn wants(&self, c: &Change) -> bool {
        let ks = |k: &str| {
            self.keyspace.as_deref().is_none_or(|mine| mine == k)
                && self.user.as_ref().is_none_or(|u| u.may_use_keyspace(k))
        };
        if let (Some(u), Some(key)) = (&self.user, &c.key) {
            if !u.may_access(key.as_bytes(), crate::acl::Access::Read) {
                return false;
            }
        }
        match &c.key {
            Some(key) => {
                ks(&c.keyspace) && self.patterns.iter().any(|(_, p)| p.matches(key.as_bytes()))
            }
            None if c.flushall => true,
            None => ks(&c.keyspace) || c.with.as_deref().is_some_and(ks),
        }
    }

    /// A listener's rendering options, as one number: listeners with the same one get the same
    /// bytes for a record (crate::feed's chunks cache them).
    pub fn variant(&self, proto: u8) -> u64 {
        u64::from(proto) | u64::from(self.values) << 8 | (self.max_value as u64) << 9
    }

    /// Every change of one record as a message under this listener's value options, in order,
    /// each numbered by its place in the record (`index`); [`Listener::wants`] filters them.
    pub fn changes(&self, rec: &FeedRecord, out: &mut Vec<Change>) {
        let mut index = 0i64;
        crate::notify::each_change(&rec.effects, |c| {
            let mut with = None;
            let extra = match c.effect {
                Effect::Put {
                    value, expire_at, ..
                } => {
                    let mut extra = self.value_fields(Some(value));
                    extra.push((t("expire_at"), Reply::Int(*expire_at as i64)));
                    extra
                }
                Effect::Change { .. } => {
                    let after = rec.after.iter().find(|(j, _)| *j == c.at).map(|(_, v)| v);
                    let mut extra = self.value_fields(after);
                    if after.is_none() && self.values {
                        // Changed in place while no listener was connected: the journal holds
                        // only the change, so the listener reads the key again.
                        extra.push((t("reread"), Reply::Bool(true)));
                    }
                    extra
                }
                Effect::Expire { at, .. } => vec![(t("expire_at"), Reply::Int(*at as i64))],
                Effect::Swap { b, .. } => {
                    with = Some(b.clone());
                    vec![(t("with"), Reply::text(b))]
                }
                _ => Vec::new(),
            };
            let mut m = vec![
                (t("seq"), Reply::Int(rec.lsn as i64)),
                (t("index"), Reply::Int(index)),
                (t("keyspace"), Reply::text(c.keyspace)),
                (
                    t("key"),
                    c.key.map_or(Reply::Null, |k| Reply::bulk(k.as_bytes())),
                ),
                (t("op"), Reply::text(c.name)),
            ];
            m.extend(extra);
            out.push(Change {
                reply: Reply::Push(vec![t("change"), Reply::Map(m)]),
                keyspace: c.keyspace.into(),
                key: c.key.cloned(),
                with,
                flushall: matches!(c.effect, Effect::FlushAll),
            });
            index += 1;
        });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Key;

    fn rec(lsn: u64, now: u64, key: &str) -> Record {
        Record {
            lsn,
            now,
            keyspace: "0".into(),
            body: Body::Effects(vec![
                Effect::Op("set".into()),
                Effect::Put {
                    keyspace: "0".into(),
                    key: Key::new(key.as_bytes()),
                    value: Value::Int(lsn as i64),
                    expire_at: 0,
                },
            ]),
        }
    }

    fn append(feed: &Feed, lsns: std::ops::RangeInclusive<u64>, now: u64, retention: (u64, u64)) {
        let records = lsns.map(|l| (rec(l, now, &format!("k{l}")), 100)).collect();
        feed.append(Incoming::Records(records), retention);
    }

    fn lsns(feed: &Feed, cursor: u64, max: usize) -> Vec<u64> {
        let (batch, _) = feed.read_after(cursor, max).unwrap();
        batch.iter().map(|r| r.lsn).collect()
    }

    #[test]
    fn a_cursor_reads_what_follows_it_across_chunks() {
        let feed = Feed::default();
        feed.start_after(0);
        append(&feed, 1..=3, 0, (u64::MAX, 0));
        append(&feed, 4..=4, 0, (u64::MAX, 0));
        append(&feed, 5..=9, 0, (u64::MAX, 0));
        assert_eq!(lsns(&feed, 0, 100), (1..=9).collect::<Vec<_>>());
        assert_eq!(lsns(&feed, 2, 3), vec![3, 4, 5]);
        assert_eq!(lsns(&feed, 9, 10), Vec::<u64>::new());
        // Lag: bytes held after the cursor.
        assert_eq!(feed.lag(9), Some(0));
        assert_eq!(feed.lag(6), Some(300));
        assert_eq!(feed.lag(0), Some(900));
        let (_, after) = feed.read_after(2, 3).unwrap();
        assert_eq!(after, 400, "records 6..=9 remain after the batch");
    }

    #[test]
    fn retention_drops_whole_chunks_and_raises_the_floor() {
        let feed = Feed::default();
        feed.start_after(0);
        for c in 0..10u64 {
            // 10 chunks of 10 records, 1,000 bytes each; keep at most 3,000 bytes.
            append(&feed, c * 10 + 1..=c * 10 + 10, c * 1000, (3000, 0));
        }
        assert_eq!(feed.floor(), 70);
        assert_eq!(lsns(&feed, 70, 1000).len(), 30);
        assert!(
            feed.read_after(69, 10).is_err(),
            "69 is older than what is held"
        );
        assert_eq!(feed.lag(69), None);
        // By age: a chunk more than 2 s older than the newest goes.
        append(&feed, 101..=110, 20_000, (u64::MAX, 2));
        assert_eq!(feed.floor(), 100);
    }

    #[test]
    fn a_gap_restarts_the_feed_after_it_and_old_records_are_ignored() {
        let feed = Feed::default();
        feed.start_after(0);
        append(&feed, 1..=5, 0, (u64::MAX, 0));
        append(&feed, 3..=5, 0, (u64::MAX, 0)); // already held: ignored
        assert_eq!(lsns(&feed, 0, 100), vec![1, 2, 3, 4, 5]);
        append(&feed, 9..=10, 0, (u64::MAX, 0)); // 6..=8 lost
        assert_eq!(feed.floor(), 8);
        assert_eq!(lsns(&feed, 8, 100), vec![9, 10]);
        assert!(feed.read_after(5, 10).is_err());
    }

    #[test]
    fn listeners_filter_by_pattern_and_keyspace_and_number_changes_in_a_write() {
        let listener = Listener {
            user: None,
            patterns: vec![(Bytes::from_static(b"u*"), Pattern::new(b"u*").unwrap())],
            keyspace: Some("0".into()),
            cursor: 0,
            values: true,
            max_value: 4,
        };
        let r = FeedRecord {
            lsn: 7,
            effects: vec![
                Effect::Op("set".into()),
                Effect::Put {
                    keyspace: "0".into(),
                    key: Key::new(b"u1"),
                    value: Value::Str("a long value".into()),
                    expire_at: 0,
                },
                Effect::Del {
                    keyspace: "0".into(),
                    key: Key::new(b"x"),
                },
                Effect::Put {
                    keyspace: "1".into(),
                    key: Key::new(b"u2"),
                    value: Value::Int(1),
                    expire_at: 0,
                },
                Effect::Flush {
                    keyspace: "0".into(),
                },
            ],
            after: Vec::new(),
        };
        let mut out = Vec::new();
        listener.changes(&r, &mut out);
        assert_eq!(out.len(), 4, "every change, numbered");
        let wanted: Vec<bool> = out.iter().map(|c| listener.wants(c)).collect();
        assert_eq!(wanted, vec![true, false, false, true]);
        // Over MAXVALUE: type and size instead of the value.
        let Reply::Push(items) = &out[0].reply else {
            panic!()
        };
        let Reply::Map(fields) = &items[1] else {
            panic!()
        };
        assert!(fields.iter().any(|(k, _)| *k == t("type")));
        assert!(!fields.iter().any(|(k, _)| *k == t("value")));
    }
}
