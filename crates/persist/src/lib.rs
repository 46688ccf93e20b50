//! okdb's persistence: the journal, SQLite checkpoints, recovery, and the journal tools.
//!
//! Architecture invariant: this crate owns the data directory. The engine hands it journal
//! records and checkpoint captures and knows nothing of files; the server only waits on the
//! engine's journal queue.
//!
//! ```text
//! write ─▶ engine (under the store lock: apply, LSN, record) ─▶ queue ─▶ writer thread
//!          writer: append to the segment, fsync per policy, mark durable ─▶ replies released
//! checkpointer: capture changed keys (O(1) clones) ─▶ SQLite transaction (covered LSN)
//!               ─▶ remove segments wholly below it
//! start: SQLite rows ─▶ engine; journal records above the covered LSN ─▶ replayed
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use okdb_engine::journal::Queue;
use okdb_engine::Engine;

pub mod checkpoint;
pub mod chunks;
pub mod effects;
pub mod format;
pub mod journal;
pub mod sim;
pub mod storage;
pub mod tools;

use storage::Storage;

#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("data directory {0}: {1}")]
    Dir(PathBuf, std::io::Error),
    #[error("checkpoint database in {0}: {1}")]
    Db(PathBuf, checkpoint::CheckpointError),
    #[error(
        "journal segment {path} is damaged at offset {offset} ({reason}), in bytes that were on \
         disk{}: records there are lost, and replaying past them could apply later writes \
         without earlier ones, so okdb does not start. Inspect with `okdb journal check {dir}` \
         and `okdb journal dump {dir}`; `okdb journal repair {dir}` keeps every record that \
         can be read (before and after the damage), marks the lost ones and reports how many",
        if *synced > 0 { format!(" (synced up to offset {synced})") } else { String::new() }
    )]
    Corrupt {
        path: PathBuf,
        dir: PathBuf,
        offset: u64,
        reason: String,
        synced: u64,
    },
    #[error(
        "journal record LSN {lsn} in {path} ({command}) fails to replay: {error}. okdb does not \
         start rather than skip a write it acknowledged; `okdb journal dump` shows the record"
    )]
    Replay {
        path: PathBuf,
        lsn: u64,
        command: String,
        error: String,
    },
    #[error("loading the checkpoint in {0} failed: the thread storing its values stopped ({1})")]
    Load(PathBuf, String),
    #[error(
        "journal records {from}..={to} are missing before {path} (the checkpoint covers up to \
         LSN {covered}): a segment was lost. `okdb journal check {dir}` lists what is there"
    )]
    Gap {
        path: PathBuf,
        dir: PathBuf,
        from: u64,
        to: u64,
        covered: u64,
    },
    #[error("reading journal segment {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error(
        "no space left on the device that holds {0}: okdb needs room to open its checkpoint \
         database and write its journal. Free some space and start again"
    )]
    NoSpace(PathBuf),
    #[error(
        "data directory {dir} is in use by another okdb ({holder}); two servers on one \
         directory would overwrite each other's journal and checkpoints. Stop that one first, \
         or give this one its own --dir"
    )]
    Locked { dir: PathBuf, holder: String },
}

/// Whether the directory's device is full: SQLite reports a full disk met while opening as a
/// plain I/O error, so a failure there is checked by writing a small file.
fn out_of_space(dir: &Path) -> bool {
    let probe = dir.join("okdb.space-probe");
    let full = std::fs::write(&probe, [0u8; 64 << 10])
        .is_err_and(|e| e.kind() == std::io::ErrorKind::StorageFull);
    let _ = std::fs::remove_file(&probe);
    full
}

/// The lock file that keeps a data directory to one process at a time.
pub const LOCK_FILE: &str = "okdb.lock";

/// Holds a data directory for as long as it lives (an OS file lock on [`LOCK_FILE`], released
/// by the OS when the process ends however it ends). The file says who holds it.
#[derive(Debug)]
pub struct DirLock {
    _file: std::fs::File,
}

impl DirLock {
    /// Takes the directory's lock, or says who holds it.
    pub fn acquire(dir: &Path) -> Result<DirLock, PersistError> {
        use std::io::{Read, Seek, Write};
        let path = dir.join(LOCK_FILE);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| PersistError::Dir(path.clone(), e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(PersistError::Locked {
                    dir: dir.into(),
                    holder: if holder.is_empty() {
                        "holder unknown".into()
                    } else {
                        holder.into()
                    },
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(PersistError::Dir(path, e)),
        }
        let me = format!(
            "pid {}, {}, since unix time {}",
            std::process::id(),
            std::env::args().collect::<Vec<_>>().join(" "),
            okdb_engine::time::now_ms() / 1000
        );
        let written = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(me.as_bytes()));
        written.map_err(|e| PersistError::Dir(path, e))?;
        Ok(DirLock { _file: file })
    }
}

/// Test hooks: `OKDB_FAILPOINT=name` makes the process abort when it reaches that point, as a
/// crash there would ([`hit`](failpoint::hit)), or makes an operation fail there
/// ([`fails`](failpoint::fails)). Used by the crash tests; costs one check when unset.
pub mod failpoint {
    use std::sync::OnceLock;

    fn is_set(name: &str) -> bool {
        static SET: OnceLock<Option<String>> = OnceLock::new();
        let set = SET.get_or_init(|| std::env::var("OKDB_FAILPOINT").ok());
        set.as_deref() == Some(name)
    }

    pub fn hit(name: &str) {
        if is_set(name) {
            eprintln!("failpoint {name}: aborting");
            std::process::abort();
        }
    }

    /// Whether the operation at this point should fail.
    pub fn fails(name: &str) -> bool {
        is_set(name)
    }
}

/// What recovery did.
#[derive(Debug, Default, Clone)]
pub struct Recovered {
    pub rows_loaded: u64,
    pub records_replayed: u64,
    pub truncated_tail: Option<(PathBuf, u64)>,
    pub covered_lsn: u64,
    pub next_lsn: u64,
    pub elapsed: Duration,
}

/// How to run persistence; [`Options::default`] is the real disk.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where journal segments are read and written.
    pub storage: Arc<dyn Storage>,
    /// How long a failed journal waits before it is tried again.
    pub retry: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            storage: Arc::new(storage::Disk),
            retry: Duration::from_secs(1),
        }
    }
}

/// Running persistence: the journal writer and the checkpointer threads.
#[derive(Debug)]
pub struct Persistence {
    queue: Arc<Queue>,
    stop: Arc<AtomicBool>,
    /// Set by [`halt`](Persistence::halt): stop without the last sync and checkpoint.
    halted: Arc<AtomicBool>,
    writer: Option<JoinHandle<()>>,
    checkpointer: Option<JoinHandle<()>>,
    pub recovered: Recovered,
    /// Dropped last: the directory stays held until both threads are done with it.
    _lock: DirLock,
}

impl Persistence {
    /// Recovers the data directory into the engine, then starts journaling and checkpointing.
    pub fn open(engine: &Engine, dir: &Path) -> Result<Persistence, PersistError> {
        Persistence::open_with(engine, dir, Options::default())
    }

    /// [`open`](Self::open) with its storage and retry interval chosen (tests).
    pub fn open_with(
        engine: &Engine,
        dir: &Path,
        options: Options,
    ) -> Result<Persistence, PersistError> {
        let storage = options.storage.clone();
        let started = Instant::now();
        std::fs::create_dir_all(dir).map_err(|e| PersistError::Dir(dir.into(), e))?;
        let lock = DirLock::acquire(dir)?;
        let db = checkpoint::Db::open(dir).map_err(|e| {
            if out_of_space(dir) {
                PersistError::NoSpace(dir.into())
            } else {
                PersistError::Db(dir.into(), e)
            }
        })?;
        let covered = db
            .covered_lsn()
            .map_err(|e| PersistError::Db(dir.into(), e))?;
        let now = okdb_engine::time::now_ms();
        // SQLite is read and decoded on this thread while another inserts into the store.
        let rows_loaded = std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<(String, Vec<_>, usize)>(8);
            let inserter = scope.spawn(move || {
                for (ks, rows, expect) in rx {
                    engine.load_batch(&ks, rows, expect);
                }
            });
            let loaded = db.load(now, |ks, rows, expect| {
                let _ = tx.send((ks.to_string(), rows, expect));
            });
            drop(tx);
            let stored = inserter.join();
            (loaded, stored)
        });
        let rows_loaded = match rows_loaded {
            (loaded, Ok(())) => loaded.map_err(|e| PersistError::Db(dir.into(), e))?,
            (_, Err(panic)) => {
                let why = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".into());
                return Err(PersistError::Load(dir.into(), why));
            }
        };
        engine.start_tracking(covered + 1);

        let segments = journal::list_segments(storage.as_ref(), dir)
            .map_err(|e| PersistError::Dir(dir.into(), e))?;
        let mut last_applied = covered;
        let mut replayed = 0;
        let mut truncated_tail = None;
        let mut last_valid_len = 0;
        let mut last_version = 0;
        engine.feed().set_decoder(decode_record);
        let mut fill = FeedFill::default();
        for (i, seg) in segments.iter().enumerate() {
            let newest = i + 1 == segments.len();
            // Every write gets the next LSN, so the records above the checkpoint follow each
            // other without a gap; a gap means records are missing: a lost segment, or damage.
            // Damage is passed over only when what it took is at or below what is applied
            // already (the checkpoint covers it).
            let mut gap = None;
            let mut damage: Option<(u64, String)> = None;
            let mut stop: Option<(u64, String)> = None;
            let mut failed: Option<(u64, String, String)> = None;
            let scan = journal::read_segment(storage.as_ref(), &seg.path, |item| {
                if stop.is_some() || gap.is_some() || failed.is_some() {
                    return;
                }
                let first = match &item {
                    journal::Item::Damage { offset, reason } => {
                        damage.get_or_insert((*offset, reason.clone()));
                        return;
                    }
                    journal::Item::Record(rec) => rec.lsn,
                    journal::Item::Lost { from, .. } => *from,
                };
                if first > last_applied + 1 {
                    match damage.take() {
                        Some(d) => stop = Some(d),
                        None => gap = Some(first),
                    }
                    return;
                }
                if let Some((offset, reason)) = damage.take() {
                    tracing::warn!(
                        "journal segment {} is damaged at offset {offset} ({reason}), in \
                         records the checkpoint already holds: nothing is lost",
                        seg.path.display()
                    );
                }
                match item {
                    journal::Item::Record(rec) if rec.lsn > last_applied => {
                        if let okdb_engine::Reply::Error(e) = engine.replay(&rec) {
                            let mut what = tools::describe(&rec);
                            if what.len() > 200 {
                                let mut cut = 200;
                                while !what.is_char_boundary(cut) {
                                    cut -= 1;
                                }
                                what.truncate(cut);
                                what.push('…');
                            }
                            failed = Some((rec.lsn, what, e.to_string()));
                            return;
                        }
                        last_applied = rec.lsn;
                        replayed += 1;
                        fill.add(&rec, engine);
                    }
                    // At or below the checkpoint: not replayed, but the change feed keeps it.
                    journal::Item::Record(rec) => fill.add(&rec, engine),
                    journal::Item::Lost { from, to } if to > last_applied => {
                        tracing::warn!(
                            "journal records {from}..={to} were lost to damage (`okdb journal \
                             repair` marked them); replay goes on after them"
                        );
                        last_applied = to;
                    }
                    _ => {}
                }
            })
            .map_err(|e| PersistError::Read(seg.path.clone(), e))?;
            // The change feed keeps what recovery read, within its retention (`LISTEN … FROM`
            // across a restart).
            fill.flush(engine);
            if let Some((lsn, command, error)) = failed {
                return Err(PersistError::Replay {
                    path: seg.path.clone(),
                    lsn,
                    command,
                    error,
                });
            }
            if let Some(lsn) = gap {
                return Err(PersistError::Gap {
                    path: seg.path.clone(),
                    dir: dir.into(),
                    from: last_applied + 1,
                    to: lsn - 1,
                    covered,
                });
            }
            // Damage at the end of a segment took records up to the next segment's first.
            if let Some(d) = damage.take() {
                match segments.get(i + 1) {
                    Some(next) if next.first_lsn <= last_applied + 1 => {}
                    _ => stop = Some(d),
                }
            }
            last_valid_len = scan.valid_len;
            last_version = scan.version;
            let Some((offset, reason)) = stop else {
                continue;
            };
            let corrupt = || PersistError::Corrupt {
                path: seg.path.clone(),
                dir: dir.into(),
                offset,
                reason: reason.clone(),
                synced: scan.synced,
            };
            // Only the newest segment has bytes that were never synced, and only those can be
            // torn by a crash: damage below what a sync mark vouches for is damage to data
            // that was on disk.
            if !newest || scan.synced > offset {
                return Err(corrupt());
            }
            let resumes = scan
                .damage
                .iter()
                .find(|b| b.offset == offset)
                .and_then(|b| b.resumes);
            cut_tail(storage.as_ref(), seg, offset, &reason, resumes)
                .map_err(|e| PersistError::Read(seg.path.clone(), e))?;
            truncated_tail = Some((seg.path.clone(), offset));
            last_valid_len = offset;
        }
        // What a crashed process left of the newest segment may be in the page cache only:
        // it is synced before it counts as on disk, and before it can become an older segment
        // (which must be whole).
        if let Some(seg) = segments.last().filter(|s| storage.len(&s.path).is_ok()) {
            storage
                .open(&seg.path)
                .and_then(|mut f| f.sync_data())
                .map_err(|e| PersistError::Read(seg.path.clone(), e))?;
        }
        let next_lsn = last_applied.max(covered) + 1;
        let queue = engine.start_journal(next_lsn);
        let st = &queue.stats;
        st.checkpoint_lsn.store(covered, Relaxed);
        st.recovered_records.store(replayed, Relaxed);
        // The segments left (a torn one may have been cut to nothing and removed).
        let sizes: Vec<u64> = segments
            .iter()
            .filter_map(|s| storage.len(&s.path).ok())
            .collect();
        st.journal_segments.store(sizes.len() as u64, Relaxed);
        st.journal_bytes.store(sizes.iter().sum(), Relaxed);
        // Everything recovered is on disk already.
        queue.mark_durable(next_lsn - 1);
        // A segment cut back to less than its header is gone; the writer starts a new one.
        // (An older format's segment is left as it is: the next write starts a new one.)
        let last = segments
            .last()
            .filter(|_| last_valid_len >= format::HEADER_LEN as u64)
            .filter(|_| last_version == format::VERSION)
            .map(|s| (s, last_valid_len));
        let mut writer =
            journal::Writer::open(storage.clone(), dir, engine.clone(), queue.clone(), last)
                .map_err(|e| PersistError::Dir(dir.into(), e))?;
        writer.retry = options.retry;
        let rotate = writer.rotate.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let writer = std::thread::Builder::new()
            .name("okdb-journal".into())
            .spawn(move || writer.run(s))
            .map_err(|e| PersistError::Dir(dir.into(), e))?;
        let recovered = Recovered {
            rows_loaded,
            records_replayed: replayed,
            truncated_tail,
            covered_lsn: covered,
            next_lsn,
            elapsed: started.elapsed(),
        };
        st.recovery_ms
            .store(recovered.elapsed.as_millis() as u64, Relaxed);
        // Replayed records are not in SQLite yet: the first checkpoint writes them.
        if replayed > 0 {
            st.checkpoint_requested.store(true, Relaxed);
        }
        let halted = Arc::new(AtomicBool::new(false));
        let checkpointer = {
            let (engine, path, stop) = (engine.clone(), dir.to_path_buf(), stop.clone());
            let h = halted.clone();
            let storage = storage.clone();
            std::thread::Builder::new()
                .name("okdb-checkpoint".into())
                .spawn(move || checkpoint_loop(engine, storage, path, db, stop, h, rotate))
                .map_err(|e| PersistError::Dir(dir.into(), e))?
        };
        Ok(Persistence {
            queue,
            stop,
            halted,
            writer: Some(writer),
            checkpointer: Some(checkpointer),
            recovered,
            _lock: lock,
        })
    }

    /// Stops both threads: the journal is written and synced, and a last checkpoint is taken
    /// so the next start has little to replay.
    pub fn shutdown(mut self) {
        self.stop_threads();
    }

    /// Stops both threads as a crash would, as far as a thread can: no last fsync (unless the
    /// storage still takes it) and no last checkpoint. For tests that pull the plug on
    /// simulated storage and then recover from what it kept.
    pub fn halt(mut self) {
        self.halted.store(true, Relaxed);
        self.stop_threads();
    }

    fn stop_threads(&mut self) {
        self.stop.store(true, Relaxed);
        self.queue.nudge();
        if let Some(t) = self.checkpointer.take() {
            let _ = t.join();
        }
        if let Some(t) = self.writer.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Persistence {
    fn drop(&mut self) {
        self.stop_threads();
    }
}

/// Ends the newest segment at `offset`, where its records stop. With no valid record after it,
/// this is a write the crash interrupted. With one, the bytes from `offset` on are first copied
/// to `<segment>.damaged-<offset>`: after a power loss the last unsynced pages can reach the
/// disk out of order (a hole, then records); those records were never acknowledged under
/// `always` (their fsync had not finished) and are within the last second under `everysec`.
fn cut_tail(
    storage: &dyn Storage,
    seg: &journal::Segment,
    offset: u64,
    reason: &str,
    resumes: Option<(u64, Option<u64>)>,
) -> std::io::Result<()> {
    let path = seg.path.display();
    match resumes {
        None => tracing::warn!(
            "journal segment {path} ends in a torn record at offset {offset} ({reason}): \
             truncating it there"
        ),
        Some((at, lsn)) => {
            let lsn = lsn.map_or("only sync marks".into(), |l| format!("LSN {l}"));
            let bytes = storage.read(&seg.path)?;
            let mut tail = &bytes[offset as usize..];
            while let [rest @ .., 0] = tail {
                tail = rest;
            }
            let mut keep = seg.path.clone().into_os_string();
            keep.push(format!(".damaged-{offset}"));
            storage.write_file(Path::new(&keep), tail)?;
            tracing::error!(
                "journal segment {path}, the newest, is damaged at offset {offset} ({reason}) \
                 past what was synced, and records resume at offset {at} ({lsn}): the shape a \
                 power loss leaves when unsynced pages reach the disk out of order. Replaying \
                 up to the damage; the {} bytes after it are kept in {}",
                tail.len(),
                Path::new(&keep).display()
            );
        }
    }
    if offset < format::HEADER_LEN as u64 {
        storage.remove(&seg.path)?;
        let dir = seg.path.parent().unwrap_or(Path::new("."));
        storage.sync_dir(dir)
    } else {
        storage.truncate(&seg.path, offset)
    }
}

/// The checkpointer: runs a checkpoint when asked (`SAVE`), every `checkpoint-seconds` if keys
/// changed, and when the journal passes `checkpoint-journal-bytes`; once more on shutdown.
fn checkpoint_loop(
    engine: Engine,
    storage: Arc<dyn Storage>,
    dir: PathBuf,
    mut db: checkpoint::Db,
    stop: Arc<AtomicBool>,
    halted: Arc<AtomicBool>,
    rotate: Arc<AtomicBool>,
) {
    let Some(queue) = engine.journal().cloned() else {
        return;
    };
    let mut last = Instant::now();
    // After a failure, checkpoints the checkpointer starts by itself wait: 1 s, then twice as
    // long after each failure in a row, up to a minute. `SAVE`, `BGSAVE` and shutdown try at once.
    let mut retry_at: Option<Instant> = None;
    loop {
        let stopping = stop.load(Relaxed);
        if halted.load(Relaxed) {
            return;
        }
        let cfg = engine.config();
        let st = &queue.stats;
        let every = cfg.checkpoint_seconds.load(Relaxed);
        let asked = st.checkpoint_requested.swap(false, Relaxed) || stopping;
        let backing_off = retry_at.is_some_and(|t| Instant::now() < t);
        let due = asked
            || (!backing_off
                && ((every > 0
                    && last.elapsed() >= Duration::from_secs(every.into())
                    && engine.dirty_keys() > 0)
                    || retry_at.is_some()
                    || st.journal_bytes.load(Relaxed)
                        >= cfg.checkpoint_journal_bytes.load(Relaxed) as u64));
        if due {
            last = Instant::now();
            let result = run_checkpoint(&engine, &queue, storage.as_ref(), &dir, &mut db, &rotate);
            match &result {
                Ok(()) => retry_at = None,
                Err(e) => {
                    let in_a_row = st.checkpoint_failures_in_a_row.load(Relaxed) + 1;
                    let wait = Duration::from_secs(1 << in_a_row.min(7).saturating_sub(1))
                        .min(Duration::from_secs(60));
                    tracing::error!(
                        "checkpoint failed ({in_a_row} in a row): {e}; the next one the \
                         checkpointer starts by itself waits {} s",
                        wait.as_secs()
                    );
                    retry_at = Some(Instant::now() + wait);
                }
            }
            queue.checkpoint_done(result);
        }
        if stopping {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One checkpoint: capture, write, then drop the journal segments it covers. The caller reports
/// the outcome ([`Queue::checkpoint_done`]).
pub fn run_checkpoint(
    engine: &Engine,
    queue: &Queue,
    storage: &dyn Storage,
    dir: &Path,
    db: &mut checkpoint::Db,
    rotate: &AtomicBool,
) -> Result<(), String> {
    let st = &queue.stats;
    if failpoint::fails("checkpoint-error") {
        return Err("failpoint checkpoint-error".into());
    }
    st.checkpoint_running.store(true, Relaxed);
    let started = Instant::now();
    // When most keys changed, a fresh snapshot (a new file, written in key order, swapped in)
    // beats updating the live database row by row.
    let mut capture = engine.capture(|changed, total| changed * 2 >= total);
    st.last_capture_us
        .store(started.elapsed().as_micros() as u64, Relaxed);
    st.last_checkpoint_fresh
        .store(u64::from(capture.full), Relaxed);
    checkpoint::sort(&mut capture);
    // Once the capture is committed, SQLite holds every change up to its LSN, so the segments
    // below it can go even if the last of those records is still on its way to the journal:
    // recovery skips records at or below the covered LSN.
    let result = if capture.full {
        db.write_fresh(&capture)
    } else {
        db.write(&capture)
    };
    st.checkpoint_running.store(false, Relaxed);
    let written = match result {
        Ok(n) => n,
        Err(e) => {
            engine.restore_dirty(&capture);
            return Err(e.to_string());
        }
    };
    failpoint::hit("checkpoint-after-commit");
    st.checkpoint_lsn.store(capture.covered_lsn, Relaxed);
    st.last_checkpoint_keys.store(written, Relaxed);
    st.last_checkpoint_ms
        .store(started.elapsed().as_millis() as u64, Relaxed);
    st.last_checkpoint_unix
        .store(okdb_engine::time::now_ms() / 1000, Relaxed);
    // The open segment holds records past the capture too: start a new one at the next write so
    // this one can go at the next checkpoint.
    rotate.store(true, Relaxed);
    // Segments the change feed still holds records of stay (`feed-retention-*`).
    let keep_after = capture.covered_lsn.min(engine.feed().floor());
    remove_covered(storage, dir, keep_after, st)
}

/// Reads one journal record back for the change feed.
fn decode_record(bytes: &[u8]) -> Option<okdb_engine::journal::Record> {
    match format::decode(bytes) {
        format::Decoded::Record(rec, _) => Some(rec),
        _ => None,
    }
}

/// The records recovery reads, gathered into journal bytes for the change feed (in runs of
/// consecutive LSNs).
#[derive(Default)]
struct FeedFill {
    first: u64,
    next: u64,
    last_now: u64,
    bytes: Vec<u8>,
    starts: Vec<u32>,
}

impl FeedFill {
    fn add(&mut self, rec: &okdb_engine::journal::Record, engine: &Engine) {
        if !self.starts.is_empty() && (rec.lsn != self.next || self.bytes.len() >= 1 << 20) {
            self.flush(engine);
        }
        if self.starts.is_empty() {
            self.first = rec.lsn;
        }
        self.starts.push(self.bytes.len() as u32);
        format::encode(rec, &mut self.bytes);
        self.next = rec.lsn + 1;
        self.last_now = rec.now;
    }

    fn flush(&mut self, engine: &Engine) {
        if self.starts.is_empty() {
            return;
        }
        let feed = engine.feed();
        let retention = okdb_engine::feed::retention(engine.config(), feed);
        let incoming = okdb_engine::feed::Incoming::Encoded {
            first: self.first,
            bytes: bytes::Bytes::copy_from_slice(&self.bytes),
            starts: std::mem::take(&mut self.starts),
            last_now: self.last_now,
        };
        feed.append(incoming, retention);
        self.bytes.clear();
    }
}

/// Removes every segment all of whose records are at or below `covered` (all but the newest,
/// whose end is not known while it is written).
fn remove_covered(
    storage: &dyn Storage,
    dir: &Path,
    covered: u64,
    st: &okdb_engine::journal::Stats,
) -> Result<(), String> {
    let segs = journal::list_segments(storage, dir).map_err(|e| e.to_string())?;
    let mut removed = false;
    for pair in segs.windows(2) {
        let (seg, next) = (&pair[0], &pair[1]);
        if next.first_lsn <= covered + 1 {
            let len = storage.len(&seg.path).unwrap_or(0);
            storage
                .remove(&seg.path)
                .map_err(|e| format!("{}: {e}", seg.path.display()))?;
            st.journal_bytes
                .fetch_sub(len.min(st.journal_bytes.load(Relaxed)), Relaxed);
            st.journal_segments.fetch_sub(1, Relaxed);
            removed = true;
            failpoint::hit("checkpoint-mid-removal");
        }
    }
    if removed {
        storage.sync_dir(dir).map_err(|e| e.to_string())?;
    }
    Ok(())
}
