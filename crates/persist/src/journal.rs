//! Journal segment files: listing, reading, and the writer thread with its fsync policies.
//!
//! Segments are `journal-<first LSN, 20 digits>.okj` in the data directory. The writer appends
//! to the newest one and starts a new one when it passes [`SEGMENT_BYTES`] or a checkpoint asks
//! for it; a segment is removed once a checkpoint covers every record in it.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use okdb_engine::journal::{Fsync, Queue, Record};
use okdb_engine::Engine;

use crate::failpoint;
use crate::format::{self, Decoded};

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
pub fn list_segments(dir: &Path) -> io::Result<Vec<Segment>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(lsn) = name
            .strip_prefix("journal-")
            .and_then(|r| r.strip_suffix(".okj"))
            .and_then(|d| d.parse::<u64>().ok())
        else {
            continue;
        };
        out.push(Segment {
            path: entry.path(),
            first_lsn: lsn,
        });
    }
    out.sort_by_key(|s| s.first_lsn);
    Ok(out)
}

/// How a segment ends.
#[derive(Debug, Clone, PartialEq)]
pub enum Tail {
    /// Every byte belongs to a whole, valid record.
    Clean,
    /// From `offset` on the bytes are not a record: cut short (a torn write) or corrupt.
    Bad {
        offset: u64,
        reason: String,
        torn: bool,
    },
}

/// A segment read from disk: its records' count, the length of its valid prefix, how it ends.
#[derive(Debug)]
pub struct Scan {
    pub records: u64,
    pub valid_len: u64,
    pub file_len: u64,
    pub last_lsn: Option<u64>,
    pub tail: Tail,
}

/// Reads a segment, calling `f` for each valid record in order.
pub fn read_segment(path: &Path, mut f: impl FnMut(Record)) -> io::Result<Scan> {
    let buf = std::fs::read(path)?;
    let file_len = buf.len() as u64;
    if let Err(reason) = format::check_header(&buf) {
        let torn = buf.len() < format::HEADER_LEN && format::MAGIC.starts_with(&buf);
        return Ok(Scan {
            records: 0,
            valid_len: 0,
            file_len,
            last_lsn: None,
            tail: Tail::Bad {
                offset: 0,
                reason,
                torn,
            },
        });
    }
    let mut at = format::HEADER_LEN;
    let mut records = 0;
    let mut last_lsn = None;
    let tail = loop {
        if at == buf.len() {
            break Tail::Clean;
        }
        match format::decode(&buf[at..]) {
            Decoded::Record(rec, used) => {
                if last_lsn.is_some_and(|l| rec.lsn <= l) {
                    break Tail::Bad {
                        offset: at as u64,
                        reason: format!(
                            "LSN {} does not follow {}",
                            rec.lsn,
                            last_lsn.unwrap_or(0)
                        ),
                        torn: false,
                    };
                }
                last_lsn = Some(rec.lsn);
                records += 1;
                at += used;
                f(rec);
            }
            Decoded::Incomplete => {
                break Tail::Bad {
                    offset: at as u64,
                    reason: format!("record cut short ({} bytes left)", buf.len() - at),
                    torn: true,
                }
            }
            Decoded::Corrupt(reason) => {
                break Tail::Bad {
                    offset: at as u64,
                    reason,
                    torn: false,
                }
            }
        }
    };
    Ok(Scan {
        records,
        valid_len: at as u64,
        file_len,
        last_lsn,
        tail,
    })
}

/// fsyncs a directory so a created or removed file's name is durable (a no-op off Unix).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
    }
    Ok(())
}

/// The writer thread's state: the open segment and what of it is on disk.
pub struct Writer {
    dir: PathBuf,
    engine: Engine,
    queue: Arc<Queue>,
    file: Option<File>,
    /// Bytes of the open segment known to be on disk (synced; under `appendfsync no`, written).
    synced_len: u64,
    /// Bytes written to the open segment after `synced_len` (kept to rewrite after a failure).
    unsynced: Vec<u8>,
    unsynced_last_lsn: u64,
    /// Records encoded but not yet written.
    pending: Vec<u8>,
    pending_first_lsn: u64,
    pending_last_lsn: u64,
    last_sync: Instant,
    failed: bool,
    pub rotate: Arc<AtomicBool>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Writer {
    /// Opens the newest segment for appending (its valid prefix was checked by recovery), or
    /// none: the first write creates one.
    pub fn open(
        dir: &Path,
        engine: Engine,
        queue: Arc<Queue>,
        last: Option<&Segment>,
    ) -> io::Result<Writer> {
        let mut w = Writer {
            dir: dir.to_path_buf(),
            engine,
            queue,
            file: None,
            synced_len: 0,
            unsynced: Vec::new(),
            unsynced_last_lsn: 0,
            pending: Vec::new(),
            pending_first_lsn: 0,
            pending_last_lsn: 0,
            last_sync: Instant::now(),
            failed: false,
            rotate: Arc::new(AtomicBool::new(false)),
        };
        if let Some(seg) = last {
            let file = OpenOptions::new().append(true).open(&seg.path)?;
            w.synced_len = file.metadata()?.len();
            w.file = Some(file);
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
            // Under `always` a push wakes this thread; otherwise it collects every millisecond,
            // so records written are at most about a millisecond behind their replies.
            let wait = match policy {
                Fsync::Always => Duration::from_millis(100),
                _ => Duration::from_millis(1),
            };
            let stopping = stop.load(Relaxed);
            let records = self
                .queue
                .take(if stopping { Duration::ZERO } else { wait });
            for r in &records {
                if self.pending.is_empty() {
                    self.pending_first_lsn = r.lsn;
                }
                format::encode(r, &mut self.pending);
                self.pending_last_lsn = r.lsn;
            }
            drop(records);
            if self.failed {
                self.recover_from_failure();
            } else {
                self.step(policy);
            }
            if stopping && self.pending.is_empty() {
                if !self.unsynced.is_empty() && !self.failed {
                    let _ = self.sync();
                }
                break;
            }
            if stopping && self.failed {
                tracing::error!(
                    "journal: stopping with {} bytes that could not be written",
                    self.pending.len() + self.unsynced.len()
                );
                break;
            }
        }
    }

    /// Writes what is pending and syncs as the policy says.
    fn step(&mut self, policy: Fsync) {
        if !self.pending.is_empty() {
            if let Err(e) = self.write_pending() {
                self.fail(format!("journal write failed: {e}"));
                return;
            }
            if policy == Fsync::No {
                // No fsync will ever cover these bytes, so nothing is kept to write again after
                // a failure: the policy promises only that they were handed to the OS.
                self.synced_len += self.unsynced.len() as u64;
                self.unsynced.clear();
                self.queue.mark_durable(self.unsynced_last_lsn);
            }
        }
        let due = match policy {
            Fsync::Always => true,
            Fsync::EverySec => self.last_sync.elapsed() >= Duration::from_secs(1),
            Fsync::No => false,
        };
        if due && !self.unsynced.is_empty() {
            if let Err(e) = self.sync() {
                self.fail(format!("journal fsync failed: {e}"));
            }
        }
    }

    fn write_pending(&mut self) -> io::Result<()> {
        let size = self.synced_len + self.unsynced.len() as u64;
        if self.file.is_none() || size >= SEGMENT_BYTES || self.rotate.load(Relaxed) {
            self.start_segment()?;
        }
        let file = self.file.as_mut().expect("a segment is open");
        file.write_all(&self.pending)?;
        self.unsynced.extend_from_slice(&self.pending);
        self.unsynced_last_lsn = self.pending_last_lsn;
        let st = &self.queue.stats;
        st.journal_bytes
            .fetch_add(self.pending.len() as u64, Relaxed);
        st.last_lsn_written.store(self.pending_last_lsn, Relaxed);
        self.pending.clear();
        Ok(())
    }

    /// Closes the open segment (synced) and starts one named by the next record's LSN.
    fn start_segment(&mut self) -> io::Result<()> {
        if !self.unsynced.is_empty() {
            self.sync()?;
        }
        let rotating = self.file.is_some();
        if rotating {
            failpoint::hit("rotate-before-create");
        }
        let path = self.dir.join(segment_name(self.pending_first_lsn));
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)?;
        file.write_all(&format::segment_header())?;
        file.sync_all()?;
        sync_dir(&self.dir)?;
        if rotating {
            failpoint::hit("rotate-after-create");
        }
        self.file = Some(file);
        self.synced_len = format::HEADER_LEN as u64;
        self.rotate.store(false, Relaxed);
        let st = &self.queue.stats;
        st.journal_segments.fetch_add(1, Relaxed);
        st.journal_bytes
            .fetch_add(format::HEADER_LEN as u64, Relaxed);
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        let Some(file) = self.file.as_ref() else {
            return Ok(());
        };
        let started = Instant::now();
        self.queue
            .sync_started
            .store(okdb_engine::time::now_ms().max(1), Relaxed);
        let r = file.sync_data();
        self.queue.sync_started.store(0, Relaxed);
        r?;
        let st = &self.queue.stats;
        st.fsyncs.fetch_add(1, Relaxed);
        st.last_fsync_us
            .store(started.elapsed().as_micros() as u64, Relaxed);
        self.synced_len += self.unsynced.len() as u64;
        self.unsynced.clear();
        self.last_sync = Instant::now();
        self.queue.mark_durable(self.unsynced_last_lsn);
        Ok(())
    }

    fn fail(&mut self, reason: String) {
        tracing::error!("{reason}; refusing writes until the journal can be written again");
        self.failed = true;
        self.queue.set_failure(Some(reason));
    }

    /// After a failed write or fsync nothing written since the last good fsync can be trusted
    /// (a failed fsync may have dropped the pages): cut the segment back to its synced length,
    /// write those bytes again from memory and sync. Retried once a second.
    fn recover_from_failure(&mut self) {
        std::thread::sleep(Duration::from_secs(1));
        let result = match self.file.as_mut() {
            Some(file) => rewrite(file, self.synced_len, &self.unsynced),
            None => Ok(()),
        };
        match result {
            Ok(()) => {
                self.synced_len += self.unsynced.len() as u64;
                self.unsynced.clear();
                self.queue.mark_durable(self.unsynced_last_lsn);
                self.failed = false;
                self.queue.set_failure(None);
                tracing::info!("journal: writing again");
                let policy = self.engine.config().fsync();
                self.step(policy);
            }
            Err(e) => tracing::warn!("journal still failing: {e}"),
        }
    }
}

/// Cuts a segment back to `len` and writes `bytes` after it again, synced.
fn rewrite(file: &mut File, len: u64, bytes: &[u8]) -> io::Result<()> {
    file.set_len(len)?;
    file.write_all(bytes)?;
    file.sync_data()
}
