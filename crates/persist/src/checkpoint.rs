//! Checkpoints: the keys changed since the last one, written into SQLite.
//!
//! `okdb.sqlite3` in the data directory holds a `meta` table (`covered_lsn`: every journal
//! record up to it is in the tables) and one `WITHOUT ROWID` table per keyspace, listed in
//! `keyspaces`: `key BLOB PRIMARY KEY, type TEXT, codec INTEGER, value BLOB, expire_at INTEGER,
//! lsn INTEGER`. The `codec` says how `value` is stored: bit 0 set means lz4-compressed (with
//! the uncompressed size prepended), tried for values of 1 KiB or more and kept only when it
//! saves space; the other bits give the form: 0 = typed JSON (`okdb_value::json`), 2 = a string
//! as its UTF-8 bytes, 4 = bytes as they are. Strings and bytes skip JSON both ways, which is
//! most of a checkpoint's and a restart's time for small values.
//!
//! Two ways to write: [`Db::write`] applies the changed keys to the live database in one
//! transaction; [`Db::write_fresh`] (when most keys changed) builds a new database file with
//! every key, then swaps it in with an atomic rename.

use std::collections::HashSet;
use std::path::Path;

use okdb_engine::keyspace::Entry;
use okdb_value::Value;

use crate::chunks::{self, Chunk};
use crate::storage::{Disk, Storage};
use rusqlite::{params, Connection, OptionalExtension};

pub const DB_FILE: &str = "okdb.sqlite3";
/// Values at least this long are offered to the compressor.
pub const COMPRESS_FROM: usize = 1024;
pub const CODEC_JSON: i64 = 0;
pub const CODEC_TEXT: i64 = 2;
pub const CODEC_BYTES: i64 = 4;
/// The value is in chunks (docs/persistence.md): `value` lists their hashes.
pub const CODEC_CHUNKED: i64 = 8;
/// Or-ed into a codec: the bytes are lz4-compressed.
pub const CODEC_LZ4: i64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}: {1}")]
    Io(std::path::PathBuf, std::io::Error),
    #[error("keyspace {keyspace:?}, key {key:?}: {reason}")]
    BadRow {
        keyspace: String,
        key: String,
        reason: String,
    },
}

pub struct Db {
    conn: Connection,
    dir: std::path::PathBuf,
}

/// Rows per `INSERT` statement when writing a fresh snapshot.
const ROWS_PER_INSERT: usize = 128;

/// Where a fresh snapshot is built before it replaces [`DB_FILE`].
pub const FRESH_FILE: &str = "okdb.sqlite3.fresh";

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

/// A value's form and bytes, uncompressed: a string as its UTF-8, bytes as they are, anything
/// else as typed JSON (what [`decode_value`] reads; the journal's effects use it too).
pub fn value_form(v: &Value) -> (i64, std::borrow::Cow<'_, [u8]>) {
    use std::borrow::Cow;
    match v {
        Value::Str(s) => (CODEC_TEXT, Cow::Borrowed(s.as_bytes())),
        Value::Bytes(b) => (CODEC_BYTES, Cow::Borrowed(&b[..])),
        _ => (
            CODEC_JSON,
            Cow::Owned(okdb_value::json::to_string(v).into_bytes()),
        ),
    }
}

/// Encodes a value for its row: (codec, bytes).
pub fn encode_value(v: &Value) -> (i64, Vec<u8>) {
    let (form, raw) = value_form(v);
    let raw = raw.into_owned();
    if raw.len() >= COMPRESS_FROM {
        let packed = lz4_flex::compress_prepend_size(&raw);
        if packed.len() < raw.len() {
            return (form | CODEC_LZ4, packed);
        }
    }
    (form, raw)
}

pub fn decode_value(codec: i64, bytes: &[u8]) -> Result<Value, String> {
    let raw = if codec & CODEC_LZ4 != 0 {
        std::borrow::Cow::Owned(
            lz4_flex::decompress_size_prepended(bytes).map_err(|e| format!("lz4: {e}"))?,
        )
    } else {
        std::borrow::Cow::Borrowed(bytes)
    };
    match codec & !CODEC_LZ4 {
        CODEC_TEXT => std::str::from_utf8(&raw)
            .map(Value::str)
            .map_err(|e| format!("not UTF-8: {e}")),
        CODEC_BYTES => Ok(Value::Bytes(raw.as_ref().into())),
        CODEC_JSON => {
            let text = std::str::from_utf8(&raw).map_err(|e| format!("not UTF-8: {e}"))?;
            okdb_value::json::from_str(text).map_err(|e| e.to_string())
        }
        other => Err(format!("unknown codec {other}")),
    }
}

/// Reads a chunked value's chunks one at a time, in the order `hashes` lists, and joins them as
/// they come (a point lookup each: the chunks table's key is (key, hash)). The outer error is
/// SQLite's; the inner one says what is wrong with the stored data.
fn load_chunks(
    query: &mut rusqlite::Statement<'_>,
    key: &[u8],
    hashes: &[i64],
) -> rusqlite::Result<Result<Value, String>> {
    let mut sqlite_error = None;
    let joined = chunks::join_each(hashes.iter().map(|h| {
        let row = query
            .query_row(params![key, h], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .optional();
        match row {
            Ok(Some((codec, data))) => decode_value(codec, &data),
            Ok(None) => Err(format!("chunk {h:#x} is missing")),
            Err(e) => {
                sqlite_error = Some(e);
                Err("SQLite failed".into())
            }
        }
    }));
    match sqlite_error {
        Some(e) => Err(e),
        None => Ok(joined),
    }
}

/// One row ready for SQLite.
struct Row<'a> {
    key: &'a okdb_engine::key::Key,
    /// None: delete the key.
    value: Option<Encoded>,
}

/// Binds a row's six columns (key, type, codec, value, expire_at, lsn) from parameter `at` on.
fn bind_row(
    st: &mut rusqlite::Statement<'_>,
    at: usize,
    key: &[u8],
    v: &Encoded,
    lsn: i64,
) -> rusqlite::Result<()> {
    st.raw_bind_parameter(at, key)?;
    st.raw_bind_parameter(at + 1, v.ty)?;
    st.raw_bind_parameter(at + 2, v.codec)?;
    st.raw_bind_parameter(at + 3, &v.bytes)?;
    st.raw_bind_parameter(at + 4, v.expire_at)?;
    st.raw_bind_parameter(at + 5, lsn)
}

/// A value as its row stores it.
struct Encoded {
    ty: &'static str,
    codec: i64,
    bytes: Vec<u8>,
    expire_at: i64,
}

impl Encoded {
    fn chunked(&self) -> bool {
        self.codec == CODEC_CHUNKED
    }
}

/// What the encoder hands the writer, in key order: a chunked value's chunks come before its
/// row (which lists their hashes).
enum Piece<'a> {
    Chunk(&'a okdb_engine::key::Key, Chunk),
    Row(Row<'a>),
}

/// Encodes one entry, handing its chunks (if it is stored in chunks) to `chunk` one by one.
fn encode_entry(e: &Entry, mut chunk: impl FnMut(Chunk)) -> Encoded {
    let mut hashes = Vec::new();
    let chunked = chunks::for_each_chunk(&e.value, |part| {
        let (codec, data) = encode_value(&part);
        let c = Chunk {
            hash: chunks::hash(&data),
            codec,
            data,
        };
        hashes.extend_from_slice(&c.hash.to_le_bytes());
        chunk(c);
    });
    let (codec, bytes) = if chunked {
        (CODEC_CHUNKED, hashes)
    } else {
        encode_value(&e.value)
    };
    Encoded {
        ty: e.value.type_name(),
        codec,
        bytes,
        expire_at: e.expire_at as i64,
    }
}

/// Encodes a keyspace's changes (sorted by key: see [`sort`]) on a second thread, `f` taking
/// the pieces in order as they come, so SQLite's inserts overlap with the encoding. Pieces go
/// over in batches of at most [`BATCH_PIECES`] or about [`BATCH_BYTES`], and at most a few
/// batches are in flight, so the memory a checkpoint holds is bounded by those, not by the
/// size of the values (a huge collection goes over a chunk at a time).
fn encoded_rows<'a, E>(
    changes: &'a [okdb_engine::Change],
    mut f: impl FnMut(Piece<'a>) -> Result<(), E>,
) -> Result<(), E> {
    const BATCH_PIECES: usize = 4096;
    const BATCH_BYTES: usize = 8 << 20;
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Piece<'a>>>(2);
        scope.spawn(move || {
            let mut batch = Vec::new();
            let mut bytes = 0;
            let send = |batch: &mut Vec<Piece<'a>>, bytes: &mut usize, piece, size: usize| {
                batch.push(piece);
                *bytes += size;
                if batch.len() >= BATCH_PIECES || *bytes >= BATCH_BYTES {
                    *bytes = 0;
                    tx.send(std::mem::take(batch)).is_ok()
                } else {
                    true
                }
            };
            for c in changes {
                let mut open = true;
                let value = c.entry.as_ref().map(|e| {
                    encode_entry(e, |chunk| {
                        let size = chunk.data.len();
                        open &= send(&mut batch, &mut bytes, Piece::Chunk(&c.key, chunk), size);
                    })
                });
                let size = value.as_ref().map_or(0, |v| v.bytes.len()) + c.key.as_bytes().len();
                let row = Piece::Row(Row { key: &c.key, value });
                if !open || !send(&mut batch, &mut bytes, row, size) {
                    return;
                }
            }
            if !batch.is_empty() {
                let _ = tx.send(batch);
            }
        });
        for batch in rx {
            for piece in batch {
                f(piece)?;
            }
        }
        Ok(())
    })
}

/// Puts each keyspace's changes in key order (outside the store's lock): B-tree inserts in
/// order touch each page once.
pub fn sort(capture: &mut okdb_engine::Capture) {
    for (_, changes) in &mut capture.spaces {
        changes.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    }
}

fn create_keyspace_table(conn: &Connection, tbl: &str) -> rusqlite::Result<()> {
    conn.execute(
        &format!(
            "CREATE TABLE IF NOT EXISTS \"{tbl}\" (key BLOB PRIMARY KEY, type TEXT NOT NULL, \
             codec INTEGER NOT NULL, value BLOB NOT NULL, expire_at INTEGER NOT NULL, \
             lsn INTEGER NOT NULL) WITHOUT ROWID"
        ),
        [],
    )?;
    conn.execute(
        &format!(
            "CREATE TABLE IF NOT EXISTS \"{tbl}_chunks\" (key BLOB NOT NULL, \
             hash INTEGER NOT NULL, codec INTEGER NOT NULL, data BLOB NOT NULL, \
             PRIMARY KEY (key, hash)) WITHOUT ROWID"
        ),
        [],
    )?;
    Ok(())
}

const SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)
         WITHOUT ROWID;
     CREATE TABLE IF NOT EXISTS keyspaces (name TEXT PRIMARY KEY, tbl TEXT NOT NULL UNIQUE)
         WITHOUT ROWID;";

/// Records what a checkpoint covers: its LSN, and how many keys each keyspace holds (so a
/// restart makes room for them at once).
fn set_meta(conn: &Connection, capture: &okdb_engine::Capture) -> rusqlite::Result<()> {
    let mut put = conn.prepare_cached(
        "INSERT INTO meta (name, value) VALUES (?1, ?2) \
         ON CONFLICT(name) DO UPDATE SET value = excluded.value",
    )?;
    put.execute(params!["covered_lsn", capture.covered_lsn as i64])?;
    for (name, n) in &capture.key_counts {
        put.execute(params![format!("keys:{name}"), *n as i64])?;
    }
    Ok(())
}

impl Db {
    pub fn open(dir: &Path) -> Result<Db, CheckpointError> {
        // A fresh snapshot that never got swapped in is of no use.
        let _ = std::fs::remove_file(dir.join(FRESH_FILE));
        let conn = Connection::open(dir.join(DB_FILE))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Db {
            conn,
            dir: dir.to_path_buf(),
        })
    }

    /// Every journal record up to this LSN is in the tables (0: none yet).
    pub fn covered_lsn(&self) -> Result<u64, CheckpointError> {
        let v: Option<i64> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE name = 'covered_lsn'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(v.unwrap_or(0) as u64)
    }

    fn keyspaces(&self) -> Result<Vec<(String, String)>, CheckpointError> {
        let mut st = self.conn.prepare("SELECT name, tbl FROM keyspaces")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Loads every live row, handing them to `f(keyspace, rows, expected keys in the
    /// keyspace)` in batches; expired rows are skipped. Returns the rows loaded.
    pub fn load(
        &self,
        now: u64,
        mut f: impl FnMut(&str, Vec<(Vec<u8>, Entry)>, usize),
    ) -> Result<u64, CheckpointError> {
        const BATCH: usize = 4096;
        let mut loaded = 0;
        for (name, tbl) in self.keyspaces()? {
            let expect: Option<i64> = self
                .conn
                .query_row(
                    "SELECT value FROM meta WHERE name = ?1",
                    [format!("keys:{name}")],
                    |r| r.get(0),
                )
                .optional()?;
            let expect = expect.unwrap_or(0).max(0) as usize;
            let mut st = self.conn.prepare(&format!(
                "SELECT key, codec, value, expire_at FROM \"{tbl}\""
            ))?;
            let mut chunk_query = None;
            let mut rows = st.query([])?;
            let mut batch = Vec::with_capacity(BATCH);
            while let Some(row) = rows.next()? {
                let expire_at = row.get::<_, i64>(3)? as u64;
                if expire_at != 0 && expire_at <= now {
                    continue;
                }
                let key = row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?;
                let codec: i64 = row.get(1)?;
                let bytes = row.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?;
                let bad_row = |reason| CheckpointError::BadRow {
                    keyspace: name.clone(),
                    key: String::from_utf8_lossy(key).into_owned(),
                    reason,
                };
                let value = if codec == CODEC_CHUNKED {
                    let hashes = chunks::parse_hash_list(bytes).map_err(bad_row)?;
                    let query = match &mut chunk_query {
                        Some(q) => q,
                        None => chunk_query.insert(self.conn.prepare(&format!(
                            "SELECT codec, data FROM \"{tbl}_chunks\" WHERE key = ?1 AND hash = ?2"
                        ))?),
                    };
                    load_chunks(query, key, &hashes)?.map_err(bad_row)?
                } else {
                    decode_value(codec, bytes).map_err(bad_row)?
                };
                batch.push((key.to_vec(), Entry::new(value, expire_at)));
                loaded += 1;
                if batch.len() == BATCH {
                    f(
                        &name,
                        std::mem::replace(&mut batch, Vec::with_capacity(BATCH)),
                        expect,
                    );
                }
            }
            if !batch.is_empty() {
                f(&name, batch, expect);
            }
        }
        Ok(loaded)
    }

    /// Writes a capture of changed keys in one transaction: upserts changed keys, deletes
    /// removed ones, and records the covered LSN. Returns the rows written.
    pub fn write(&mut self, capture: &okdb_engine::Capture) -> Result<u64, CheckpointError> {
        // Each row carries the covered LSN: an upper bound of its key's last write.
        let lsn = capture.covered_lsn as i64;
        let tx = self.conn.transaction()?;
        let mut written = 0;
        for (name, changes) in &capture.spaces {
            let existing: Option<String> = tx
                .query_row(
                    "SELECT tbl FROM keyspaces WHERE name = ?1",
                    [name.as_str()],
                    |r| r.get(0),
                )
                .optional()?;
            let tbl = match existing {
                Some(t) => t,
                None => {
                    let n: i64 =
                        tx.query_row("SELECT COUNT(*) FROM keyspaces", [], |r| r.get(0))?;
                    let tbl = format!("ks_{n}");
                    tx.execute(
                        "INSERT INTO keyspaces (name, tbl) VALUES (?1, ?2)",
                        params![name.as_str(), tbl],
                    )?;
                    tbl
                }
            };
            // (Also adds the chunks table to a database an older build made.)
            create_keyspace_table(&tx, &tbl)?;
            let mut upsert = tx.prepare_cached(&format!(
                "INSERT INTO \"{tbl}\" (key, type, codec, value, expire_at, lsn) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(key) DO UPDATE SET \
                 type = excluded.type, codec = excluded.codec, value = excluded.value, \
                 expire_at = excluded.expire_at, lsn = excluded.lsn"
            ))?;
            let mut delete = tx.prepare_cached(&format!("DELETE FROM \"{tbl}\" WHERE key = ?1"))?;
            let chunks_tbl = format!("{tbl}_chunks");
            let any_chunks: bool = tx.query_row(
                &format!("SELECT EXISTS (SELECT 1 FROM \"{chunks_tbl}\")"),
                [],
                |r| r.get(0),
            )?;
            let mut old_row = tx.prepare_cached(&format!(
                "SELECT codec, value FROM \"{tbl}\" WHERE key = ?1"
            ))?;
            let mut put_chunk = tx.prepare_cached(&format!(
                "INSERT OR REPLACE INTO \"{chunks_tbl}\" (key, hash, codec, data) \
                 VALUES (?1, ?2, ?3, ?4)"
            ))?;
            let mut drop_chunk = tx.prepare_cached(&format!(
                "DELETE FROM \"{chunks_tbl}\" WHERE key = ?1 AND hash = ?2"
            ))?;
            let mut drop_chunks =
                tx.prepare_cached(&format!("DELETE FROM \"{chunks_tbl}\" WHERE key = ?1"))?;
            // The chunks a key's row listed before this checkpoint (only looked up when
            // there can be any).
            let mut old_chunks = |key: &[u8], chunked: bool| -> rusqlite::Result<HashSet<i64>> {
                if !chunked && !any_chunks {
                    return Ok(HashSet::new());
                }
                Ok(old_row
                    .query_row([key], |r| {
                        let codec: i64 = r.get(0)?;
                        let value: Vec<u8> = r.get(1)?;
                        Ok(if codec == CODEC_CHUNKED {
                            chunks::parse_hash_list(&value).unwrap_or_default()
                        } else {
                            Vec::new()
                        })
                    })
                    .optional()?
                    .unwrap_or_default()
                    .into_iter()
                    .collect())
            };
            // The key whose chunks are coming in: its old chunks and the ones seen so far.
            let mut current: Option<(&okdb_engine::key::Key, HashSet<i64>, HashSet<i64>)> = None;
            encoded_rows(changes, |piece| {
                match piece {
                    Piece::Chunk(key, c) => {
                        if current.as_ref().is_none_or(|(k, ..)| *k != key) {
                            current =
                                Some((key, old_chunks(key.as_bytes(), true)?, HashSet::new()));
                        }
                        let (_, old, new) = current.as_mut().expect("set above");
                        // Only chunks the row did not list before are written (once each).
                        if new.insert(c.hash) && !old.contains(&c.hash) {
                            put_chunk.execute(params![key.as_bytes(), c.hash, c.codec, c.data])?;
                        }
                    }
                    Piece::Row(row) => {
                        let key = row.key.as_bytes();
                        let chunked = row.value.as_ref().is_some_and(Encoded::chunked);
                        match (chunked, current.take()) {
                            (true, Some((_, old, new))) => {
                                for h in old.difference(&new) {
                                    drop_chunk.execute(params![key, h])?;
                                }
                            }
                            _ => {
                                if !old_chunks(key, false)?.is_empty() {
                                    drop_chunks.execute([key])?;
                                }
                            }
                        }
                        match &row.value {
                            Some(v) => {
                                bind_row(&mut upsert, 1, key, v, lsn)?;
                                upsert.raw_execute()?;
                            }
                            None => {
                                delete.execute([key])?;
                            }
                        }
                        written += 1;
                    }
                }
                Ok::<_, rusqlite::Error>(())
            })?;
        }
        set_meta(&tx, capture)?;
        tx.commit()?;
        Ok(written)
    }

    /// Writes a full capture as a new database file and swaps it in: built beside the live one
    /// without a rollback journal or syncs (a crash leaves a file [`Db::open`] discards), synced
    /// once when complete, then renamed over the live file (after the live one has folded its
    /// WAL in and dropped it, so no stale WAL meets the new file), and the directory synced.
    /// Sorted inserts into empty tables fill B-tree pages in order. Returns the rows written.
    pub fn write_fresh(&mut self, capture: &okdb_engine::Capture) -> Result<u64, CheckpointError> {
        let fresh = self.dir.join(FRESH_FILE);
        let _ = std::fs::remove_file(&fresh);
        let mut written = 0;
        {
            // Only this thread uses it: no SQLite mutexes.
            let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
                | rusqlite::OpenFlags::SQLITE_OPEN_CREATE
                | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let mut conn = Connection::open_with_flags(&fresh, flags)?;
            conn.pragma_update(None, "page_size", 65536)?;
            conn.pragma_update(None, "journal_mode", "OFF")?;
            conn.pragma_update(None, "synchronous", "OFF")?;
            conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
            conn.pragma_update(None, "cache_size", -262144)?;
            conn.execute_batch(SCHEMA)?;
            let tx = conn.transaction()?;
            for (i, (name, changes)) in capture.spaces.iter().enumerate() {
                let tbl = format!("ks_{i}");
                create_keyspace_table(&tx, &tbl)?;
                tx.execute(
                    "INSERT INTO keyspaces (name, tbl) VALUES (?1, ?2)",
                    params![name.as_str(), tbl],
                )?;
                // Many rows per statement: one statement run (and one B-tree cursor, which
                // finds each next sorted key at the end of the last page) per ROWS_PER_INSERT.
                let insert_sql = |rows: usize| {
                    let values = vec!["(?, ?, ?, ?, ?, ?)"; rows].join(", ");
                    format!(
                        "INSERT INTO \"{tbl}\" (key, type, codec, value, expire_at, lsn) \
                         VALUES {values}"
                    )
                };
                let mut many = tx.prepare(&insert_sql(ROWS_PER_INSERT))?;
                let mut put_chunk = tx.prepare(&format!(
                    "INSERT OR IGNORE INTO \"{tbl}_chunks\" (key, hash, codec, data) \
                     VALUES (?1, ?2, ?3, ?4)"
                ))?;
                let mut one = tx.prepare(&insert_sql(1))?;
                let mut pending: Vec<Row<'_>> = Vec::with_capacity(ROWS_PER_INSERT);
                let lsn = capture.covered_lsn as i64;
                let flush = |st: &mut rusqlite::Statement<'_>, rows: &[Row<'_>]| {
                    let mut at = 1;
                    for row in rows {
                        if let Some(v) = &row.value {
                            bind_row(st, at, row.key.as_bytes(), v, lsn)?;
                            at += 6;
                        }
                    }
                    st.raw_execute().map(|_| ())
                };
                encoded_rows(changes, |piece| {
                    match piece {
                        Piece::Chunk(key, c) => {
                            put_chunk.execute(params![key.as_bytes(), c.hash, c.codec, c.data])?;
                        }
                        Piece::Row(row) if row.value.is_some() => {
                            pending.push(row);
                            written += 1;
                        }
                        Piece::Row(_) => {}
                    }
                    if pending.len() == ROWS_PER_INSERT {
                        flush(&mut many, &pending)?;
                        pending.clear();
                    }
                    Ok::<_, rusqlite::Error>(())
                })?;
                for row in &pending {
                    flush(&mut one, std::slice::from_ref(row))?;
                }
            }
            set_meta(&tx, capture)?;
            tx.commit()?;
        }
        std::fs::File::open(&fresh)
            .and_then(|f| f.sync_all())
            .map_err(|e| CheckpointError::Io(fresh.clone(), e))?;
        // Fold the live database's WAL into it and drop the WAL before the swap.
        self.conn.pragma_update(None, "journal_mode", "DELETE")?;
        let live = self.dir.join(DB_FILE);
        let swapped = std::fs::rename(&fresh, &live).and_then(|()| Disk.sync_dir(&self.dir));
        crate::failpoint::hit("fresh-after-rename");
        // Reopen whichever file is live now (the old one if the rename failed).
        *self = Db::open(&self.dir)?;
        swapped.map_err(|e| CheckpointError::Io(live, e))?;
        Ok(written)
    }
}
