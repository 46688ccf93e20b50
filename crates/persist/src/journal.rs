//! Journal segment files: listing, reading, and the writer thread with its fsync policies.
//!
//! Segments are `journal-<first LSN, 20 digits>.okj` in the data directory. The writer appends
//! to the newest one and starts a new one when it passes [`SEGMENT_BYTES`] or a checkpoint asks
//! for it; a segment is removed once a checkpoint covers every record in it.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use okdb_engine::journal::{Fsync, Queue, Record};
use okdb_engine::Engine;

use crate::failpoint;
use crate::format::{self, Decoded};
use crate::storage::{SegmentFile, Storage};

/// Size after which the writer starts a new segment.
pub const SEGMENT_BYTES: u64 = 64 << 20;

#[derive(Debug, Clone)]
pub struct Segment {
    pub path: PathBuf,
    pub first_lsn: u64,
}

pub fn segment_name(first_lsn: u64) -> String {
    format!("journal-{first_lsn:020}.okj")
}

/// The directory's segments, oldest first.
pub fn list_segments(storage: &dyn Storage, dir: &Path) -> io::Result<Vec<Segment>> {
    let mut out = Vec::new();
    for path in storage.list(dir)? {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(lsn) = name
            .strip_prefix("journal-")
            .and_then(|r| r.strip_suffix(".okj"))
            .and_then(|d| d.parse::<u64>().ok())
        else {
            continue;
        };
        out.push(Segment {
            path,
            first_lsn: lsn,
        });
    }
    out.sort_by_key(|s| s.first_lsn);
    Ok(out)
}

/// What a segment holds, in order, as [`read_segment`] hands it over.
#[derive(Debug)]
pub enum Item {
    /// A write, to replay.
    Record(Record),
    /// A mark `okdb journal repair` left: records `from..=to` were lost to damage.
    Lost { from: u64, to: u64 },
    /// Bytes from `offset` on are not a record (cut short or damaged); items after this one
    /// were found further on.
    Damage { offset: u64, reason: String },
}

/// A stretch of a segment that is not records.
#[derive(Debug, Clone, PartialEq)]
pub struct Bad {
    pub offset: u64,
    pub reason: String,
    /// The offset of the next valid record or mark, and the LSN of the next record or lost
    /// mark (None when only sync marks follow), if anything valid follows.
    pub resumes: Option<(u64, Option<u64>)>,
}

/// A segment read from disk.
#[derive(Debug)]
pub struct Scan {
    /// The header's format version (0 when the header itself is damaged).
    pub version: u32,
    pub records: u64,
    /// Where the last valid record or mark ends: the writer continues here.
    pub valid_len: u64,
    pub file_len: u64,
    pub last_lsn: Option<u64>,
    /// The furthest offset a sync mark vouches for: bytes before it were on disk.
    pub synced: u64,
    /// Every damaged stretch, in order (zeros after the last record are not damage: they are
    /// preallocated space the writer has not reached).
    pub damage: Vec<Bad>,
}

impl Scan {
    /// Where the segment stops being whole, if it does.
    pub fn first_damage(&self) -> Option<&Bad> {
        self.damage.first()
    }
}

/// Reads a whole segment, handing `f` every valid record and mark in order and, where bytes
/// are damaged, a [`Item::Damage`] before the items found after them. Damage does not stop
/// the reading: what follows it is still read (the caller decides whether it may be used).
pub fn read_segment(
    storage: &dyn Storage,
    path: &Path,
    mut f: impl FnMut(Item),
) -> io::Result<Scan> {
    let buf = storage.read(path)?;
    let mut scan = Scan {
        version: 0,
        records: 0,
        valid_len: 0,
        file_len: buf.len() as u64,
        last_lsn: None,
        synced: 0,
        damage: Vec::new(),
    };
    let mut at = match format::check_header(&buf) {
        Ok(version) => {
            scan.version = version;
            scan.valid_len = format::HEADER_LEN as u64;
            format::HEADER_LEN
        }
        Err(reason) => match damaged(&mut scan, &buf, 0, reason, &mut f) {
            Some(next) => next,
            None => return Ok(scan),
        },
    };
    while at < buf.len() {
        let last = scan.last_lsn.unwrap_or(0);
        let reason = match format::decode(&buf[at..]) {
            Decoded::Record(rec, used) if rec.lsn > last => {
                scan.last_lsn = Some(rec.lsn);
                scan.records += 1;
                f(Item::Record(rec));
                at += used;
                scan.valid_len = at as u64;
                continue;
            }
            Decoded::Synced(offset, used) if offset <= at as u64 => {
                scan.synced = scan.synced.max(offset);
                at += used;
                scan.valid_len = at as u64;
                continue;
            }
            Decoded::Lost(from, to, used) if from > last => {
                scan.last_lsn = Some(to);
                f(Item::Lost { from, to });
                at += used;
                scan.valid_len = at as u64;
                continue;
            }
            Decoded::Record(rec, _) => format!("LSN {} does not follow {last}", rec.lsn),
            Decoded::Lost(from, ..) => format!("lost-records mark at LSN {from} after {last}"),
            Decoded::Synced(offset, _) => format!("sync mark for offset {offset} lies ahead"),
            Decoded::Incomplete => format!("record cut short ({} bytes left)", buf.len() - at),
            Decoded::Corrupt(reason) => reason,
        };
        if buf[at..].iter().all(|&b| b == 0) {
            // Preallocated space the writer has not reached.
            break;
        }
        match damaged(&mut scan, &buf, at, reason, &mut f) {
            Some(next) => at = next,
            None => break,
        }
    }
    Ok(scan)
}

/// Notes damage at `at` and finds where valid items resume.
fn damaged(
    scan: &mut Scan,
    buf: &[u8],
    at: usize,
    reason: String,
    f: &mut impl FnMut(Item),
) -> Option<usize> {
    let resumes = find_item(buf, at + 1, scan.last_lsn.unwrap_or(0));
    scan.damage.push(Bad {
        offset: at as u64,
        reason: reason.clone(),
        resumes,
    });
    f(Item::Damage {
        offset: at as u64,
        reason,
    });
    resumes.map(|(offset, _)| offset as usize)
}

/// The first offset at or after `from` holding a valid record or lost mark with an LSN above
/// `after`, or a sync mark (which vouches only for bytes before itself), and the LSN of the
/// next record or lost mark from there.
fn find_item(buf: &[u8], from: usize, after: u64) -> Option<(u64, Option<u64>)> {
    let mut found = None;
    let mut at = from;
    while at < buf.len() {
        match format::decode(&buf[at..]) {
            Decoded::Record(rec, _) if rec.lsn > after => {
                return Some((found.unwrap_or(at) as u64, Some(rec.lsn)));
            }
            Decoded::Lost(first, _, _) if first > after => {
                return Some((found.unwrap_or(at) as u64, Some(first)));
            }
            Decoded::Synced(offset, used) if offset <= at as u64 => {
                found.get_or_insert(at);
                at += used;
            }
            _ if found.is_some() => break,
            _ => at += 1,
        }
    }
    found.map(|at| (at as u64, None))
}

/// The writer thread's state: the open segment and what of it is on disk.
///
/// Segments are preallocated: the writer fills [`PREALLOC_BYTES`] of zeros ahead of its data
/// (synced, size included) and then writes records over them in place. An `fdatasync` of bytes
/// written inside a file's existing size has no metadata to write, which on this machine's ext4
/// made each group commit's fsync roughly twice as fast as one that also grows the file
/// (BENCHMARKS.md). Readers take the zeros after the last record as unwritten space.
pub struct Writer {
    dir: PathBuf,
    engine: Engine,
    queue: Arc<Queue>,
    storage: Arc<dyn Storage>,
    file: Option<Box<dyn SegmentFile>>,
    /// Bytes of the open segment known to be on disk (synced; under `appendfsync no`, written).
    synced_len: u64,
    /// Bytes written to the open segment after `synced_len` (kept to rewrite after a failure).
    unsynced: Vec<u8>,
    /// Whether `unsynced` holds records (not only a sync mark).
    unsynced_records: bool,
    unsynced_last_lsn: u64,
    /// The open segment's size on disk: zeros from the end of its records up to here.
    allocated: u64,
    /// Records encoded but not yet written.
    pending: Vec<u8>,
    pending_first_lsn: u64,
    pending_last_lsn: u64,
    last_sync: Instant,
    /// How long the last fsync took.
    last_fsync: Duration,
    /// Batches of requests (one per connection per round) in the writes not yet synced.
    group_pushes: u64,
    failed: bool,
    /// How long to wait before trying a failed journal again.
    pub retry: Duration,
    pub rotate: Arc<AtomicBool>,
    /// Passes of records written but not yet handed to the change feed, as the bytes written:
    /// the feed gets them once they are written, and under `always` once they are fsynced.
    unfed: std::collections::VecDeque<Pass>,
}

/// The records one pass of the writer encoded, for the change feed.
#[derive(Debug)]
struct Pass {
    first: u64,
    last: u64,
    last_now: u64,
    bytes: bytes::Bytes,
    starts: Vec<u32>,
}

/// Bounds on how long a group commit waits for its clients (see [`Queue::take_group`]).
const MIN_GROUP_DELAY: Duration = Duration::from_micros(50);
const MAX_GROUP_DELAY: Duration = Duration::from_millis(2);

/// How far ahead of its records a segment is filled with zeros.
pub const PREALLOC_BYTES: u64 = 8 << 20;

static ZEROS: [u8; 64 << 10] = [0; 64 << 10];

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Writer {
    /// Opens the newest segment to continue after its `valid_len` bytes (checked by recovery),
    /// or none: the first write creates one.
    pub fn open(
        storage: Arc<dyn Storage>,
        dir: &Path,
        engine: Engine,
        queue: Arc<Queue>,
        last: Option<(&Segment, u64)>,
    ) -> io::Result<Writer> {
        let mut w = Writer {
            dir: dir.to_path_buf(),
            engine,
            queue,
            storage,
            file: None,
            synced_len: 0,
            unsynced: Vec::new(),
            unsynced_records: false,
            unsynced_last_lsn: 0,
            allocated: 0,
            pending: Vec::new(),
            pending_first_lsn: 0,
            pending_last_lsn: 0,
            last_sync: Instant::now(),
            last_fsync: Duration::ZERO,
            group_pushes: 0,
            failed: false,
            retry: Duration::from_secs(1),
            rotate: Arc::new(AtomicBool::new(false)),
            unfed: Default::default(),
        };
        if let Some((seg, valid_len)) = last {
            w.file = Some(w.storage.open(&seg.path)?);
            w.allocated = w.storage.len(&seg.path)?;
            w.synced_len = valid_len;
            if w.synced_len >= SEGMENT_BYTES {
                w.rotate.store(true, Relaxed);
            }
        }
        Ok(w)
    }

    /// Runs until `stop` is set and everything taken is written and synced.
    pub fn run(mut self, stop: Arc<AtomicBool>) {
        loop {
            let policy = self.engine.config().fsync();
            self.queue.eager.store(policy == Fsync::Always, Relaxed);
            // It collects every millisecond, so records written are at most about a millisecond
            // behind their replies; under `always` it waits for the group commit's clients,
            // at most about as long as an fsync takes.
            // While the change feed has listeners the tick is shorter: they get a write about
            // 0.1 ms after it is acknowledged rather than up to 1 ms.
            let tick = if self.engine.feed().listeners.load(Relaxed) > 0 {
                Duration::from_micros(100)
            } else {
                Duration::from_millis(1)
            };
            let stopping = stop.load(Relaxed);
            let records = if stopping {
                self.queue.take(Duration::ZERO)
            } else if policy == Fsync::Always {
                let max_delay = self.last_fsync.clamp(MIN_GROUP_DELAY, MAX_GROUP_DELAY);
                let (records, pushes) = self.queue.take_group(max_delay, tick);
                self.group_pushes += pushes;
                records
            } else {
                self.queue.take(tick)
            };
            let pass_start = self.pending.len();
            let mut starts = Vec::with_capacity(records.len());
            let (first, last_now) = (
                records.first().map(|r| r.lsn),
                records.last().map(|r| r.now),
            );
            for r in &records {
                if self.pending.is_empty() {
                    self.pending_first_lsn = r.lsn;
                }
                starts.push((self.pending.len() - pass_start) as u32);
                format::encode(r, &mut self.pending);
                self.pending_last_lsn = r.lsn;
            }
            drop(records);
            if let (Some(first), Some(last_now)) = (first, last_now) {
                self.unfed.push_back(Pass {
                    first,
                    last: self.pending_last_lsn,
                    last_now,
                    bytes: bytes::Bytes::copy_from_slice(&self.pending[pass_start..]),
                    starts,
                });
            }
            if self.failed {
                if stopping {
                    tracing::error!(
                        "journal: stopping with {} bytes that could not be written",
                        self.pending.len() + self.unsynced.len()
                    );
                    break;
                }
                self.recover_from_failure(&stop);
            } else {
                self.step(policy);
            }
            self.feed(policy);
            if stopping && self.pending.is_empty() && !self.failed {
                // The last sync mark is synced too, so a clean stop leaves every record
                // vouched for.
                let synced = if self.unsynced_records {
                    self.sync()
                } else {
                    Ok(())
                };
                let marked = synced.and_then(|()| {
                    if self.unsynced.is_empty() {
                        Ok(())
                    } else {
                        self.sync_mark()
                    }
                });
                if let Err(e) = marked {
                    tracing::error!("journal: last fsync failed: {e}");
                }
                break;
            }
            self.shrink_buffers();
        }
    }

    /// Hands the change feed the records it may send now: written ones, and under `always`
    /// only fsynced ones (a listener never hears of a write a crash could still take back).
    fn feed(&mut self, policy: Fsync) {
        if self.unfed.is_empty() {
            return;
        }
        let upto = if policy == Fsync::Always {
            self.queue.durable()
        } else {
            self.queue.stats.last_lsn_written.load(Relaxed)
        };
        let feed = self.engine.feed();
        while self.unfed.front().is_some_and(|p| p.last <= upto) {
            let p = self.unfed.pop_front().expect("checked");
            let retention = okdb_engine::feed::retention(self.engine.config(), feed);
            let incoming = okdb_engine::feed::Incoming::Encoded {
                first: p.first,
                bytes: p.bytes,
                starts: p.starts,
                last_now: p.last_now,
            };
            feed.append(incoming, retention);
        }
    }

    /// Writes what is pending and syncs as the policy says; false if that failed.
    fn step(&mut self, policy: Fsync) -> bool {
        if !self.pending.is_empty() {
            if let Err(e) = self.write_pending() {
                self.fail(format!("journal write failed: {e}"));
                return false;
            }
            if policy == Fsync::No {
                // No fsync will ever cover these bytes, so nothing is kept to write again after
                // a failure: the policy promises only that they were handed to the OS.
                self.synced_len += self.unsynced.len() as u64;
                self.unsynced.clear();
                self.unsynced_records = false;
                self.queue.mark_durable(self.unsynced_last_lsn);
            }
        }
        let due = match policy {
            Fsync::Always => true,
            Fsync::EverySec => self.last_sync.elapsed() >= Duration::from_secs(1),
            Fsync::No => false,
        };
        if due && self.unsynced_records {
            if let Err(e) = self.sync() {
                self.fail(format!("journal fsync failed: {e}"));
                return false;
            }
        }
        true
    }

    fn data_end(&self) -> u64 {
        self.synced_len + self.unsynced.len() as u64
    }

    fn write_pending(&mut self) -> io::Result<()> {
        if self.file.is_none() || self.data_end() >= SEGMENT_BYTES || self.rotate.load(Relaxed) {
            self.start_segment()?;
        }
        let end = self.data_end();
        let need = end + self.pending.len() as u64;
        if need > self.allocated {
            // On a nearly full disk, room for these records is enough.
            if let Err(e) = self.preallocate(need + PREALLOC_BYTES) {
                tracing::debug!("journal: preallocating failed ({e}); growing to fit");
                self.preallocate(need)?;
            }
        }
        let file = self.file.as_mut().expect("a segment is open");
        file.write_at(end, &self.pending)?;
        self.unsynced.extend_from_slice(&self.pending);
        self.unsynced_records = true;
        self.unsynced_last_lsn = self.pending_last_lsn;
        self.queue
            .stats
            .last_lsn_written
            .store(self.pending_last_lsn, Relaxed);
        self.pending.clear();
        Ok(())
    }

    /// Grows the open segment with zeros up to `to`, synced. Bytes past the records are only
    /// ever zeros, so a crash in here leaves nothing a reader would take for a record.
    fn preallocate(&mut self, to: u64) -> io::Result<()> {
        let file = self.file.as_mut().expect("a segment is open");
        fill_zeros(file.as_mut(), self.allocated, to)?;
        let grown = to - self.allocated;
        self.allocated = to;
        self.queue.stats.journal_bytes.fetch_add(grown, Relaxed);
        Ok(())
    }

    /// Closes the open segment (synced, with its last sync mark synced too: a segment that is
    /// not the newest must be whole) and starts one named by the next record's LSN.
    fn start_segment(&mut self) -> io::Result<()> {
        if self.unsynced_records {
            self.sync()?;
        }
        if !self.unsynced.is_empty() {
            self.sync_mark()?;
        }
        let rotating = self.file.is_some();
        if rotating {
            failpoint::hit("rotate-before-create");
        }
        // The new segment is complete (header, zeros, its name in the directory) before it
        // replaces the old one; a failure on the way leaves the old one open.
        let path = self.dir.join(segment_name(self.pending_first_lsn));
        let mut file = self.storage.create(&path)?;
        file.write_at(0, &format::segment_header())?;
        let allocated = match fill_zeros(file.as_mut(), format::HEADER_LEN as u64, PREALLOC_BYTES) {
            Ok(()) => PREALLOC_BYTES,
            Err(e) => {
                // On a nearly full disk, the writes grow it as they go.
                tracing::debug!("journal: preallocating a new segment failed ({e})");
                file.sync_data()?;
                format::HEADER_LEN as u64
            }
        };
        self.storage.sync_dir(&self.dir)?;
        if rotating {
            failpoint::hit("rotate-after-create");
        }
        self.file = Some(file);
        self.allocated = allocated;
        self.synced_len = format::HEADER_LEN as u64;
        self.queue.stats.journal_bytes.fetch_add(allocated, Relaxed);
        self.rotate.store(false, Relaxed);
        self.queue.stats.journal_segments.fetch_add(1, Relaxed);
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        let started = Instant::now();
        self.queue
            .sync_started
            .store(okdb_engine::time::now_ms().max(1), Relaxed);
        let r = file.sync_data();
        self.queue.sync_started.store(0, Relaxed);
        r?;
        self.last_fsync = started.elapsed();
        let st = &self.queue.stats;
        st.fsyncs.fetch_add(1, Relaxed);
        st.last_fsync_us
            .store(self.last_fsync.as_micros() as u64, Relaxed);
        self.synced_len += self.unsynced.len() as u64;
        self.unsynced.clear();
        self.unsynced_records = false;
        self.last_sync = Instant::now();
        self.queue.mark_durable(self.unsynced_last_lsn);
        // The next group: the clients just released plus those that queued meanwhile.
        let released = std::mem::take(&mut self.group_pushes);
        let target = (released + self.queue.pending_pushes()).max(1);
        self.queue.group_target.store(target, Relaxed);
        self.write_mark();
        Ok(())
    }

    /// Writes a sync mark for what was just synced, right after it (not synced itself: a crash
    /// of the process keeps it, a power loss may not, and then the last group's bytes are
    /// taken for a torn tail, which is all a reader could tell anyway). A mark that fails to
    /// be written is left out; the next write goes over it.
    fn write_mark(&mut self) {
        let mut mark = Vec::with_capacity(format::RECORD_HEADER);
        format::encode_synced(self.synced_len, &mut mark);
        let end = self.data_end();
        if end + mark.len() as u64 > self.allocated {
            return; // the next write preallocates; its sync writes a mark
        }
        let Some(file) = self.file.as_mut() else {
            return;
        };
        match file.write_at(end, &mark) {
            Ok(()) => self.unsynced.extend_from_slice(&mark),
            Err(e) => tracing::warn!("journal: writing a sync mark failed: {e}"),
        }
    }

    /// Syncs a sync mark written after the last sync (which holds no record).
    fn sync_mark(&mut self) -> io::Result<()> {
        if let Some(file) = self.file.as_mut() {
            file.sync_data()?;
            self.synced_len += self.unsynced.len() as u64;
            self.unsynced.clear();
        }
        Ok(())
    }

    /// Gives memory back after a large write: the buffers keep at most 1 MiB between writes.
    fn shrink_buffers(&mut self) {
        const KEEP: usize = 1 << 20;
        if self.pending.is_empty() && self.pending.capacity() > KEEP {
            self.pending = Vec::new();
        }
        if self.unsynced.capacity() > KEEP && self.unsynced.len() < KEEP / 4 {
            self.unsynced.shrink_to(KEEP / 4);
        }
    }

    fn fail(&mut self, reason: String) {
        if self.failed {
            // Still failing while trying again: said once already.
            tracing::warn!("journal still failing: {reason}");
        } else {
            tracing::error!("{reason}; refusing writes until the journal can be written again");
        }
        self.failed = true;
        self.queue.set_failure(Some(reason));
    }

    /// After a failed write or fsync nothing written since the last good fsync can be trusted
    /// (a failed fsync may have dropped the pages): write those bytes again from memory over
    /// the same place and sync. Retried every `retry` until it works or the writer stops.
    fn recover_from_failure(&mut self, stop: &AtomicBool) {
        let deadline = Instant::now() + self.retry;
        while Instant::now() < deadline && !stop.load(Relaxed) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let result = match self.file.as_mut() {
            Some(file) => file
                .write_at(self.synced_len, &self.unsynced)
                .and_then(|()| file.sync_data()),
            None => Ok(()),
        };
        match result {
            Ok(()) => {
                self.synced_len += self.unsynced.len() as u64;
                self.unsynced.clear();
                self.unsynced_records = false;
                self.queue.mark_durable(self.unsynced_last_lsn);
                // What queued meanwhile goes out too before the journal counts as working
                // again (`step` calls `fail`, which keeps `failed`, if it does not).
                let policy = self.engine.config().fsync();
                if self.step(policy) {
                    self.failed = false;
                    self.queue.set_failure(None);
                    tracing::info!("journal: writing again");
                }
            }
            Err(e) => tracing::warn!("journal still failing: {e}"),
        }
    }
}

/// Writes zeros over `from..to` of `file` and syncs it.
fn fill_zeros(file: &mut dyn SegmentFile, from: u64, to: u64) -> io::Result<()> {
    let mut at = from;
    while at < to {
        let n = (to - at).min(ZEROS.len() as u64) as usize;
        file.write_at(at, &ZEROS[..n])?;
        at += n as u64;
    }
    file.sync_data()
}
