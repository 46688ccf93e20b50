//! Large collections are checkpointed in chunks: a push rewrites one chunk, and the value comes
//! back whole after a restart. Checked on the real disk, looking into the SQLite file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

use okdb_engine::{Config, Engine, Reply};
use okdb_persist::Persistence;

fn engine() -> Engine {
    let config = Config::default();
    config.appendonly.store(true, SeqCst);
    config.checkpoint_seconds.store(0, SeqCst);
    Engine::new(config)
}

fn run(engine: &Engine, words: &[&str]) -> Reply {
    let mut session = engine.connect("test".into()).unwrap();
    let args: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
    let reply = engine.lock().execute(&mut session, &args);
    assert!(!matches!(reply, Reply::Error(_)), "{words:?}: {reply:?}");
    reply
}

fn save(engine: &Engine) {
    let q = engine.journal().unwrap();
    let ticket = q.request_checkpoint();
    let deadline = Instant::now() + Duration::from_secs(30);
    while q.stats.checkpoints.load(SeqCst) + q.stats.checkpoint_failures.load(SeqCst)
        < ticket.attempts
    {
        assert!(Instant::now() < deadline, "checkpoint timed out");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(q.stats.checkpoint_failures.load(SeqCst), 0);
}

/// The chunk hashes stored for `key` (the default keyspace is the first table).
fn chunk_hashes(dir: &Path, key: &str) -> BTreeSet<i64> {
    let db = rusqlite::Connection::open(dir.join("okdb.sqlite3")).unwrap();
    let mut st = db
        .prepare("SELECT hash FROM ks_0_chunks WHERE key = ?1")
        .unwrap();
    let rows = st
        .query_map([key.as_bytes()], |r| r.get::<_, i64>(0))
        .unwrap();
    rows.map(Result::unwrap).collect()
}

fn list_literal(range: std::ops::Range<i64>) -> String {
    let items: Vec<String> = range.map(|i| i.to_string()).collect();
    format!("[{}]", items.join(", "))
}

#[test]
fn a_big_list_is_stored_in_chunks_and_a_push_rewrites_one() {
    let dir: PathBuf = std::env::temp_dir().join(format!("okdb-chunks-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    let e = engine();
    let p = Persistence::open(&e, &dir).unwrap();
    for i in 0..20 {
        run(&e, &["SET", &format!("small{i}"), "x"]);
    }
    run(&e, &["SET", "big", &list_literal(0..20_000)]);
    save(&e); // every key changed: a fresh snapshot
    let first = chunk_hashes(&dir, "big");
    assert!(first.len() > 20, "{} chunks", first.len());

    run(&e, &["APPEND", "big", "20000"]);
    save(&e); // one key of 21 changed: the changes path
    let second = chunk_hashes(&dir, "big");
    let added: Vec<_> = second.difference(&first).collect();
    let removed: Vec<_> = first.difference(&second).collect();
    assert_eq!(
        (added.len(), removed.len()),
        (1, 1),
        "{added:?} {removed:?}"
    );
    p.shutdown();
    drop(e);

    // Back whole after a restart.
    let e = engine();
    let p = Persistence::open(&e, &dir).unwrap();
    assert_eq!(p.recovered.rows_loaded, 21);
    let got = run(&e, &["GET", "big"]);
    let Reply::Value(v) = got else {
        panic!("GET big: {got:?}")
    };
    assert_eq!(
        okdb_value::json::to_string(&v),
        list_literal(0..20_001).replace(", ", ",")
    );

    // Replaced by a small value: its chunks go.
    run(&e, &["SET", "big", "small now"]);
    save(&e);
    assert!(chunk_hashes(&dir, "big").is_empty());
    p.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A long string is stored in 1 MiB chunks (no value meets SQLite's blob limit), an APPEND
/// rewrites the last chunk only, and the string comes back whole.
#[test]
fn a_long_string_is_stored_in_chunks_and_an_append_rewrites_the_last() {
    let dir: PathBuf = std::env::temp_dir().join(format!("okdb-chunks-str-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let e = engine();
    let p = Persistence::open(&e, &dir).unwrap();
    for i in 0..20 {
        run(&e, &["SET", &format!("small{i}"), "x"]);
    }
    let text: String = (0..3_500_000u32)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    run(&e, &["SET", "s", &text]);
    save(&e);
    let first = chunk_hashes(&dir, "s");
    assert_eq!(first.len(), 4, "3.5 MB in 1 MiB chunks");
    run(&e, &["APPEND", "s", "tail"]);
    save(&e);
    let second = chunk_hashes(&dir, "s");
    assert_eq!(second.difference(&first).count(), 1);
    assert_eq!(first.difference(&second).count(), 1);
    p.shutdown();
    drop(e);

    let e = engine();
    let p = Persistence::open(&e, &dir).unwrap();
    let Reply::Value(v) = run(&e, &["GET", "s"]) else {
        panic!("GET s")
    };
    assert_eq!(v, okdb_value::Value::str(&format!("{text}tail")));
    p.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Journals `SET k value`, then a record with `body` after it, and restarts: start-up must
/// refuse. The record's LSN and what start-up said.
fn refused_replay(name: &str, value: &str, body: okdb_engine::journal::Body) -> (u64, String) {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("okdb-replay-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let e = engine();
    let p = Persistence::open(&e, &dir).unwrap();
    run(&e, &["SET", "k", value]);
    let lsn = {
        let mut exec = e.lock();
        let mut s = e.connect("t".into()).unwrap();
        exec.execute(&mut s, &[&b"SET"[..], b"j", b"1"]);
        exec.last_lsn() + 1
    };
    e.journal()
        .unwrap()
        .push(&mut vec![okdb_engine::journal::Record {
            lsn,
            now: okdb_engine::time::now_ms(),
            keyspace: "0".into(),
            body,
        }]);
    p.shutdown();
    drop(e);

    let e = engine();
    let Err(err) = Persistence::open(&e, &dir) else {
        panic!("start-up should refuse");
    };
    let _ = std::fs::remove_dir_all(&dir);
    (lsn, err.to_string())
}

/// A command record (a journal from before effects) that no handler would have journaled (an
/// INCR of a list), as if a command's meaning had changed under an old journal.
#[test]
fn a_record_that_fails_to_replay_stops_start_up() {
    let (lsn, text) = refused_replay(
        "command",
        "[1]",
        okdb_engine::journal::Body::Command {
            literals: okdb_value::literal::Literals::Faithful,
            args: vec!["INCR".into(), "k".into()],
        },
    );
    assert!(text.contains(&format!("LSN {lsn}")), "{text}");
    assert!(
        text.contains("INCR k") && text.contains("WRONGTYPE"),
        "{text}"
    );
}

/// The same for an effects record: a delta that does not fit the value it is replayed on (a
/// push onto what is a string) stops start-up, naming the LSN and the effect.
#[test]
fn an_effect_that_does_not_apply_stops_start_up() {
    let (lsn, text) = refused_replay(
        "effect",
        "text",
        okdb_engine::journal::Body::Effects(vec![okdb_engine::effects::Effect::Change {
            keyspace: "0".into(),
            key: okdb_engine::key::Key::new(b"k"),
            deltas: vec![okdb_ops::delta::Delta::Push {
                end: okdb_ops::seq::End::Right,
                items: vec![okdb_value::Value::Int(1)],
            }],
        }]),
    );
    assert!(text.contains(&format!("LSN {lsn}")), "{text}");
    assert!(text.contains("CHANGE k Push"), "{text}");
}
