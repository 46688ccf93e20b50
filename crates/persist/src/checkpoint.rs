//! Checkpoints: the keys changed since the last one, written into SQLite.
//!
//! `okdb.sqlite3` in the data directory holds a `meta` table (`covered_lsn`: every journal
//! record up to it is in the tables) and one `WITHOUT ROWID` table per keyspace, listed in
//! `keyspaces`: `key BLOB PRIMARY KEY, type TEXT, codec INTEGER, value BLOB, expire_at INTEGER,
//! lsn INTEGER`. A value is its typed JSON (`okdb_value::json`), lz4-compressed (codec 1) when
//! it is 1 KiB or more and compression saves space, else raw (codec 0).

use std::path::Path;

use okdb_engine::keyspace::Entry;
use okdb_engine::Capture;
use okdb_value::Value;
use rusqlite::{params, Connection, OptionalExtension};

pub const DB_FILE: &str = "okdb.sqlite3";
/// Values at least this long are offered to the compressor.
pub const COMPRESS_FROM: usize = 1024;
pub const CODEC_RAW: i64 = 0;
pub const CODEC_LZ4: i64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("keyspace {keyspace:?}, key {key:?}: {reason}")]
    BadRow {
        keyspace: String,
        key: String,
        reason: String,
    },
}

pub struct Db {
    conn: Connection,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

/// Encodes a value for its row: (codec, bytes).
pub fn encode_value(v: &Value) -> (i64, Vec<u8>) {
    let json = okdb_value::json::to_string(v).into_bytes();
    if json.len() >= COMPRESS_FROM {
        let packed = lz4_flex::compress_prepend_size(&json);
        if packed.len() < json.len() {
            return (CODEC_LZ4, packed);
        }
    }
    (CODEC_RAW, json)
}

pub fn decode_value(codec: i64, bytes: &[u8]) -> Result<Value, String> {
    let json = match codec {
        CODEC_RAW => std::borrow::Cow::Borrowed(bytes),
        CODEC_LZ4 => std::borrow::Cow::Owned(
            lz4_flex::decompress_size_prepended(bytes).map_err(|e| format!("lz4: {e}"))?,
        ),
        other => return Err(format!("unknown codec {other}")),
    };
    let text = std::str::from_utf8(&json).map_err(|e| format!("not UTF-8: {e}"))?;
    okdb_value::json::from_str(text).map_err(|e| e.to_string())
}

impl Db {
    pub fn open(dir: &Path) -> Result<Db, CheckpointError> {
        let conn = Connection::open(dir.join(DB_FILE))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)
                 WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS keyspaces (name TEXT PRIMARY KEY, tbl TEXT NOT NULL UNIQUE)
                 WITHOUT ROWID;",
        )?;
        Ok(Db { conn })
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

    /// Loads every live row: calls `f(keyspace, key, entry)`; expired rows are skipped.
    pub fn load(
        &self,
        now: u64,
        mut f: impl FnMut(&str, &[u8], Entry),
    ) -> Result<u64, CheckpointError> {
        let mut loaded = 0;
        for (name, tbl) in self.keyspaces()? {
            let mut st = self.conn.prepare(&format!(
                "SELECT key, codec, value, expire_at FROM \"{tbl}\""
            ))?;
            let mut rows = st.query([])?;
            while let Some(row) = rows.next()? {
                let key: Vec<u8> = row.get(0)?;
                let expire_at = row.get::<_, i64>(3)? as u64;
                if expire_at != 0 && expire_at <= now {
                    continue;
                }
                let codec: i64 = row.get(1)?;
                let bytes: Vec<u8> = row.get(2)?;
                let value =
                    decode_value(codec, &bytes).map_err(|reason| CheckpointError::BadRow {
                        keyspace: name.clone(),
                        key: String::from_utf8_lossy(&key).into_owned(),
                        reason,
                    })?;
                f(&name, &key, Entry { value, expire_at });
                loaded += 1;
            }
        }
        Ok(loaded)
    }

    /// Writes a capture in one transaction: upserts changed keys, deletes removed ones, and
    /// records the covered LSN. Returns the rows written.
    pub fn write(&mut self, capture: &Capture) -> Result<u64, CheckpointError> {
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
                        &format!(
                            "CREATE TABLE IF NOT EXISTS \"{tbl}\" (key BLOB PRIMARY KEY, \
                             type TEXT NOT NULL, codec INTEGER NOT NULL, value BLOB NOT NULL, \
                             expire_at INTEGER NOT NULL, lsn INTEGER NOT NULL) WITHOUT ROWID"
                        ),
                        [],
                    )?;
                    tx.execute(
                        "INSERT INTO keyspaces (name, tbl) VALUES (?1, ?2)",
                        params![name.as_str(), tbl],
                    )?;
                    tbl
                }
            };
            let mut upsert = tx.prepare_cached(&format!(
                "INSERT INTO \"{tbl}\" (key, type, codec, value, expire_at, lsn) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(key) DO UPDATE SET \
                 type = excluded.type, codec = excluded.codec, value = excluded.value, \
                 expire_at = excluded.expire_at, lsn = excluded.lsn"
            ))?;
            let mut delete = tx.prepare_cached(&format!("DELETE FROM \"{tbl}\" WHERE key = ?1"))?;
            for c in changes {
                match &c.entry {
                    Some(e) => {
                        let (codec, bytes) = encode_value(&e.value);
                        upsert.execute(params![
                            c.key.as_bytes(),
                            e.value.type_name(),
                            codec,
                            bytes,
                            e.expire_at as i64,
                            c.lsn as i64
                        ])?;
                    }
                    None => {
                        delete.execute([c.key.as_bytes()])?;
                    }
                }
                written += 1;
            }
        }
        tx.execute(
            "INSERT INTO meta (name, value) VALUES ('covered_lsn', ?1) \
             ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            [capture.covered_lsn as i64],
        )?;
        tx.commit()?;
        Ok(written)
    }
}
