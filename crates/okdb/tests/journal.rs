//! Damaged journals as a user meets them: a torn tail (bytes never synced) is cut at start-up;
//! damage to synced bytes stops start-up unless the checkpoint holds what it took; `okdb
//! journal check|dump|repair` find it, and repair keeps every record that can be read. One
//! server per data directory. (Damage in an older segment: crates/persist/tests/power_loss.rs.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use okdb_client::Client;
use okdb_resp::Frame;

mod common;
use common::{spawn_server, OKDB};

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("okdb-journal-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn server_args(dir: &Path) -> Vec<std::ffi::OsString> {
    vec![
        "--appendfsync".into(),
        "always".into(),
        "--dir".into(),
        dir.into(),
    ]
}

/// Writes k1..=k20 under `always`, then kill -9 (no checkpoint: everything is in the journal).
fn write_and_crash(dir: &Path) -> PathBuf {
    let (mut child, port) = spawn_server(&server_args(dir), &[]);
    let mut c = Client::connect(&format!("127.0.0.1:{port}")).unwrap();
    for i in 1..=20 {
        let reply = c.call(&["SET", &format!("k{i}"), &i.to_string()]).unwrap();
        assert_eq!(reply, Frame::Simple("OK".into()));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mut segs = segments(dir);
    assert_eq!(segs.len(), 1, "one segment: {segs:?}");
    segs.pop().unwrap()
}

fn journal(args: &[&str], dir: &Path) -> Output {
    Command::new(OKDB)
        .arg("journal")
        .args(args)
        .arg(dir)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn dbsize_after_start(dir: &Path) -> i64 {
    let (mut child, port) = spawn_server(&server_args(dir), &[]);
    let mut c = Client::connect(&format!("127.0.0.1:{port}")).unwrap();
    let Frame::Integer(n) = c.call(&["DBSIZE"]).unwrap() else {
        panic!("DBSIZE is an int")
    };
    child.kill().unwrap();
    child.wait().unwrap();
    n
}

/// Offsets of the records in a segment, and where its items end. A segment is a 16-byte
/// header, then items of (4 len, 4 crc, 8 lsn, 1 op, len payload bytes): records (op 1 or 2)
/// and marks (op 3: a sync mark with no payload; op 4: lost records); zeros after the last
/// item are preallocated space.
fn record_offsets(bytes: &[u8]) -> (Vec<usize>, usize) {
    let mut at = 16;
    let mut out = Vec::new();
    loop {
        if at + 17 > bytes.len() || bytes[at..at + 17].iter().all(|&b| b == 0) {
            return (out, at);
        }
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        // Writes: effects (5), or commands (1, 2) in older segments; not marks (3, 4).
        if matches!(bytes[at + 16], 1 | 2 | 5) {
            out.push(at);
        }
        at += 17 + len;
    }
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut segs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "okj"))
        .collect();
    segs.sort();
    segs
}

/// Flips one payload byte of record `n` (counting from 0); returns the record's offset.
fn flip_record(seg: &Path, n: usize) -> usize {
    let mut bytes = std::fs::read(seg).unwrap();
    let (records, _) = record_offsets(&bytes);
    let at = records[n];
    let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    bytes[at + 17 + len - 1] ^= 0x55;
    std::fs::write(seg, &bytes).unwrap();
    at
}

/// Starts the server on `dir` and expects it to refuse; returns what it said.
fn start_refused(dir: &Path) -> String {
    let out = Command::new(OKDB)
        .args(["server", "--port", "0"])
        .args(server_args(dir))
        .output()
        .unwrap();
    assert!(!out.status.success(), "the server started");
    text(&out.stderr)
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

#[test]
fn a_torn_tail_is_cut_at_start_up_and_nothing_acknowledged_is_lost() {
    let dir = fresh_dir("torn");
    let seg = write_and_crash(&dir);
    let mut bytes = std::fs::read(&seg).unwrap();
    let (records, end) = record_offsets(&bytes);
    assert_eq!(records.len(), 20);
    assert!(
        bytes.len() > end,
        "the segment is preallocated past its records"
    );
    // The first bytes of a record header, as a crash in the middle of a write leaves them.
    bytes[end..end + 6].copy_from_slice(&[0x30, 0, 0, 0, 7, 7]);
    std::fs::write(&seg, &bytes).unwrap();

    let check = journal(&["check"], &dir);
    assert!(!check.status.success());
    assert!(
        text(&check.stdout).contains("torn tail"),
        "{}",
        text(&check.stdout)
    );

    assert_eq!(dbsize_after_start(&dir), 20);
    assert_eq!(
        std::fs::metadata(&seg).unwrap().len(),
        end as u64,
        "cut back to the whole records"
    );
    assert!(journal(&["check"], &dir).status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Damage to synced records in the newest segment is media damage, not a torn write: start-up
/// refuses (it used to replay up to the damage and set the acknowledged rest aside), `journal
/// check` says so, `dump` prints every readable record and fails, and `repair` keeps every
/// record around the damage and reports the one lost.
#[test]
fn damage_to_synced_records_in_the_newest_segment_stops_start_up_and_repair_salvages() {
    let dir = fresh_dir("damaged");
    let seg = write_and_crash(&dir);
    let offset = flip_record(&seg, 9);

    let err = start_refused(&dir);
    assert!(
        err.contains(&format!("damaged at offset {offset}"))
            && err.contains("bytes that were on disk")
            && err.contains("okdb journal repair"),
        "{err}"
    );

    let check = journal(&["check"], &dir);
    assert!(!check.status.success());
    let out = text(&check.stdout);
    assert!(
        out.contains(&format!("at offset {offset}")) && out.contains("start-up refuses"),
        "{out}"
    );

    // dump prints every record it can read, marks the damage, and fails.
    let dump = journal(&["dump"], &dir);
    assert!(!dump.status.success());
    let out = text(&dump.stdout);
    let records: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(records.len(), 19, "{out}");
    assert!(
        records[0].ends_with(" 0 OP set ; SET k1 1"),
        "{}",
        records[0]
    );
    assert!(
        out.contains(&format!("damaged at offset {offset}")),
        "{out}"
    );

    let repair = journal(&["repair"], &dir);
    assert!(repair.status.success());
    let report = text(&repair.stdout);
    assert!(
        report.contains("LSN 10..=10 lost: 1 record(s)")
            && report.contains("kept 19 record(s), 1 record(s) lost"),
        "{report}"
    );
    assert!(journal(&["check"], &dir).status.success());
    let mut orig = seg.clone().into_os_string();
    orig.push(".orig");
    assert!(Path::new(&orig).exists(), "the original is kept");
    assert_eq!(dbsize_after_start(&dir), 19);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Damage in records the checkpoint already holds loses nothing: start-up passes over it, and
/// repair keeps the segments after it (it used to remove them, losing acknowledged writes).
#[test]
fn damage_in_checkpointed_records_loses_nothing_at_start_up_or_in_repair() {
    let dir = fresh_dir("covered");
    let (mut child, port) = spawn_server(&server_args(&dir), &[]);
    let mut c = Client::connect(&format!("127.0.0.1:{port}")).unwrap();
    for i in 0..300 {
        c.call(&["SET", &format!("a{i}"), "1"]).unwrap();
    }
    assert_eq!(c.call(&["SAVE"]).unwrap(), Frame::Simple("OK".into()));
    for i in 0..300 {
        c.call(&["SET", &format!("b{i}"), "1"]).unwrap();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let segs = segments(&dir);
    assert_eq!(segs.len(), 2, "{segs:?}");
    flip_record(&segs[0], 150);
    let copy = fresh_dir("covered-copy");
    copy_dir(&dir, &copy);

    let check = journal(&["check"], &dir);
    assert!(
        text(&check.stdout).contains("the checkpoint holds"),
        "{}",
        text(&check.stdout)
    );
    assert_eq!(dbsize_after_start(&dir), 600);

    let repair = journal(&["repair"], &copy);
    assert!(repair.status.success());
    let report = text(&repair.stdout);
    assert!(
        report.contains("0 record(s) lost") && !report.contains("removed"),
        "{report}"
    );
    assert_eq!(segments(&copy).len(), 2);
    assert_eq!(dbsize_after_start(&copy), 600);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&copy);
}

/// A second server on the same directory refuses to start and names the one that holds it;
/// `journal repair` refuses too while a server runs.
#[test]
fn a_data_directory_is_held_by_one_server() {
    let dir = fresh_dir("lock");
    let (mut first, port) = spawn_server(&server_args(&dir), &[]);
    let err = start_refused(&dir);
    assert!(
        err.contains("in use by another okdb") && err.contains(&format!("pid {}", first.id())),
        "{err}"
    );
    let repair = journal(&["repair"], &dir);
    assert!(!repair.status.success());
    assert!(
        text(&repair.stdout).contains("in use"),
        "{}",
        text(&repair.stdout)
    );
    let mut c = Client::connect(&format!("127.0.0.1:{port}")).unwrap();
    assert_eq!(
        c.call(&["SET", "k", "v"]).unwrap(),
        Frame::Simple("OK".into())
    );
    first.kill().unwrap();
    first.wait().unwrap();
    // Once the holder is gone (even by kill -9), the directory is free again.
    assert_eq!(dbsize_after_start(&dir), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_tools_report_an_empty_or_missing_directory_plainly() {
    let dir = fresh_dir("empty");
    std::fs::create_dir_all(&dir).unwrap();
    let check = journal(&["check"], &dir);
    assert!(check.status.success());
    assert!(text(&check.stdout).contains("no journal segments"));
    let repair = journal(&["repair"], &dir);
    assert!(text(&repair.stdout).contains("nothing to repair"));
    let missing = journal(&["check"], &dir.join("nope"));
    assert!(!missing.status.success());
    let said = text(&missing.stdout);
    assert!(said.ends_with('\n'), "{said:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Each write replays under the literal mode it ran with: a Redis client's `True` and `1.50`
/// stay strings, the shell's `True` stays a bool, after a kill -9 and a restart from the
/// journal.
#[test]
fn writes_replay_under_the_literal_mode_they_ran_with() {
    let dir = fresh_dir("literals");
    let (mut child, port) = spawn_server(&server_args(&dir), &[]);
    let addr = format!("127.0.0.1:{port}");
    let mut strict = Client::connect(&addr).unwrap();
    let mut faithful = Client::connect(&addr).unwrap();
    faithful.call(&["CLIENT", "LITERALS", "faithful"]).unwrap();
    for (strict_mode, k, v) in [
        (false, "f_true", "True"),
        (false, "f_num", "1.50"),
        (false, "f_bad", "[1,"),
        (true, "s_true", "True"),
        (true, "s_num", "1.50"),
        (true, "s_str", "'5'"),
    ] {
        let c = if strict_mode {
            &mut strict
        } else {
            &mut faithful
        };
        assert_eq!(c.call(&["SET", k, v]).unwrap(), Frame::Simple("OK".into()));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let (mut child, port) = spawn_server(&server_args(&dir), &[]);
    let mut c = Client::connect(&format!("127.0.0.1:{port}")).unwrap();
    for (k, t) in [
        ("f_true", "string"),
        ("f_num", "string"),
        ("f_bad", "string"),
        ("s_true", "bool"),
        ("s_num", "float"),
        ("s_str", "string"),
    ] {
        assert_eq!(
            c.call(&["TYPE", k]).unwrap(),
            Frame::Simple(t.into()),
            "{k}"
        );
    }
    assert_eq!(
        c.call(&["GET", "f_num"]).unwrap(),
        Frame::Bulk("1.50".into())
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `okdb journal dump DIR | head` ends quietly when its reader goes away.
#[test]
fn dump_into_a_closed_pipe_ends_quietly() {
    use std::io::{BufRead, BufReader};
    let dir = fresh_dir("pipe");
    let mut args = server_args(&dir);
    args[1] = "no".into();
    let (mut child, port) = spawn_server(&args, &[]);
    let mut c = Client::connect(&format!("127.0.0.1:{port}")).unwrap();
    let value = "v".repeat(200);
    for i in 0..2000 {
        c.call(&["SET", &format!("k{i}"), &value]).unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    child.kill().unwrap();
    child.wait().unwrap();
    let mut dump = Command::new(OKDB)
        .args(["journal", "dump"])
        .arg(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(dump.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("1 "), "{first}");
    let out = dump.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Media damage: under `always`, writes from several clients, kill -9, then bit flips at random
/// places in the journal's bytes. Either start-up refuses, saying the journal is damaged, or
/// every acknowledged write is there with its value: never a silent loss. Rounds:
/// `OKDB_MEDIA_ROUNDS` (default 12); the seed is printed so a failure can be replayed
/// (`OKDB_MEDIA_SEED`).
#[test]
fn media_damage_never_drops_an_acknowledged_write_silently() {
    let rounds: u64 = std::env::var("OKDB_MEDIA_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let seed = std::env::var("OKDB_MEDIA_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("seed {seed}");
    let mut rng = fastrand::Rng::with_seed(seed);
    let (mut refused, mut started) = (0, 0);
    for round in 0..rounds {
        let dir = fresh_dir(&format!("media-{round}"));
        let (mut child, port) = spawn_server(&server_args(&dir), &[]);
        let addr = format!("127.0.0.1:{port}");
        let writers: Vec<_> = (0..3)
            .map(|w| {
                let addr = addr.clone();
                std::thread::spawn(move || {
                    let mut c = Client::connect(&addr).unwrap();
                    let mut acked = Vec::new();
                    for j in 0..60 {
                        let (k, v) = (format!("w{w}:{j}"), format!("value-{w}-{j}"));
                        if c.call(&["SET", &k, &v]).is_ok() {
                            acked.push((k, v));
                        }
                    }
                    acked
                })
            })
            .collect();
        let acked: Vec<(String, String)> = writers
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        child.kill().unwrap();
        child.wait().unwrap();
        let seg = segments(&dir).pop().unwrap();
        let mut bytes = std::fs::read(&seg).unwrap();
        let (_, end) = record_offsets(&bytes);
        let flips = 1 + rng.usize(..3);
        for _ in 0..flips {
            let at = rng.usize(16..end);
            bytes[at] ^= 1 << rng.u8(..8);
        }
        std::fs::write(&seg, &bytes).unwrap();
        let out = Command::new(OKDB)
            .args(["server", "--port", "0"])
            .args(server_args(&dir))
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = out;
        let stderr = out.stderr.take().unwrap();
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
        let mut log = String::new();
        let port = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    log.push_str(&line);
                    log.push('\n');
                    if let Some(addr) = line.split("listening on ").nth(1) {
                        break Some(
                            addr.rsplit(':')
                                .next()
                                .unwrap()
                                .trim()
                                .parse::<u16>()
                                .unwrap(),
                        );
                    }
                }
                _ => break None,
            }
        };
        match port {
            None => {
                out.wait().unwrap();
                assert!(
                    log.contains("damaged at offset"),
                    "round {round} (seed {seed}): refused without saying why:\n{log}"
                );
                refused += 1;
            }
            Some(port) => {
                std::thread::spawn(move || for _ in lines {});
                let mut c = Client::connect(&format!("127.0.0.1:{port}")).unwrap();
                for (k, v) in &acked {
                    assert_eq!(
                        c.call(&["GET", k]).unwrap(),
                        Frame::Bulk(v.clone().into()),
                        "round {round} (seed {seed}): acknowledged {k} lost after start-up \
                         accepted the damaged journal:\n{log}"
                    );
                }
                out.kill().unwrap();
                out.wait().unwrap();
                started += 1;
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    eprintln!("{refused} rounds refused, {started} started with every acknowledged write");
}

/// Repair treats the newest segment's torn tail as start-up does: garbage past the last sync
/// mark, then a valid record (a power loss writing unsynced pages out of order), is cut there
/// and the rest kept aside; the never-acknowledged record after the hole is not replayed.
#[test]
fn repair_cuts_a_torn_tail_past_what_was_synced() {
    let dir = fresh_dir("repair-torn");
    let seg = write_and_crash(&dir);
    let mut bytes = std::fs::read(&seg).unwrap();
    let (_, end) = record_offsets(&bytes);
    let mut late = Vec::new();
    okdb_persist::format::encode(
        &okdb_engine::journal::Record {
            lsn: 21,
            now: 1,
            keyspace: "0".into(),
            body: okdb_engine::journal::Body::Command {
                literals: Default::default(),
                args: vec!["SET".into(), "late".into(), "1".into()],
            },
        },
        &mut late,
    );
    let garbage = [0x5a_u8; 40];
    bytes[end..end + garbage.len()].copy_from_slice(&garbage);
    bytes[end + garbage.len()..end + garbage.len() + late.len()].copy_from_slice(&late);
    std::fs::write(&seg, &bytes).unwrap();

    let repair = journal(&["repair"], &dir);
    assert!(repair.status.success());
    let report = text(&repair.stdout);
    assert!(
        report.contains(&format!("torn tail at offset {end}")) && report.contains(".damaged-"),
        "{report}"
    );
    assert!(journal(&["check"], &dir).status.success());
    assert_eq!(
        dbsize_after_start(&dir),
        20,
        "the record after the hole is not replayed"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `SHUTDOWN` stops the server as SIGTERM does: the connection closes with no reply, the
/// process exits cleanly, and what it acknowledged is there at the next start (with nothing to
/// replay: the last checkpoint holds it). Inside `MULTI` it is refused and aborts the `EXEC`.
#[test]
fn shutdown_stops_the_server_cleanly() {
    let dir = fresh_dir("shutdown");
    let (mut server, port) = spawn_server(&server_args(&dir), &[]);
    let mut c = Client::connect(&format!("127.0.0.1:{port}")).unwrap();
    assert_eq!(
        c.call(&["SET", "k", "v"]).unwrap(),
        Frame::Simple("OK".into())
    );
    assert_eq!(c.call(&["MULTI"]).unwrap(), Frame::Simple("OK".into()));
    let refused = c.call(&["SHUTDOWN"]).unwrap();
    assert!(
        matches!(&refused, Frame::Error(e) if e.contains("not allowed inside a transaction")),
        "{refused:?}"
    );
    let aborted = c.call(&["EXEC"]).unwrap();
    assert!(
        matches!(&aborted, Frame::Error(e) if e.starts_with("EXECABORT")),
        "{aborted:?}"
    );
    assert!(
        c.call(&["SHUTDOWN", "NOSAVE"]).is_err(),
        "no reply: the connection closes"
    );
    let status = server.wait().unwrap();
    assert!(status.success(), "{status}");

    let (_server, port) = spawn_server(&server_args(&dir), &[]);
    let mut c = Client::connect(&format!("127.0.0.1:{port}")).unwrap();
    assert_eq!(c.call(&["GET", "k"]).unwrap(), Frame::Bulk("v".into()));
    let _ = std::fs::remove_dir_all(&dir);
}
