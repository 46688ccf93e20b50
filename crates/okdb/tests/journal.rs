//! Damaged journals as a user meets them: a torn tail is cut at start-up; damage in the newest
//! segment is replayed up to and kept aside; `okdb journal check|dump|repair` find and fix it.
//! (Damage in an older segment stops start-up: crates/persist/tests/power_loss.rs.)

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
    let mut segs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "okj"))
        .collect();
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

/// Offsets of the records in a segment, and the end of the last. A segment is a 16-byte
/// header, then records of (4 len, 4 crc, 8 lsn, 1 op, len payload bytes); zeros after the last
/// record are preallocated space.
fn record_offsets(bytes: &[u8]) -> (Vec<usize>, usize) {
    let mut at = 16;
    let mut out = Vec::new();
    loop {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        if len == 0 {
            return (out, at);
        }
        out.push(at);
        at += 17 + len;
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

/// Flips the last payload byte of the tenth record; returns its offset.
fn damage_tenth_record(seg: &Path) -> usize {
    let mut bytes = std::fs::read(seg).unwrap();
    let (records, _) = record_offsets(&bytes);
    let at = records[9];
    let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    bytes[at + 17 + len - 1] ^= 0x55;
    std::fs::write(seg, &bytes).unwrap();
    at
}

#[test]
fn damage_in_the_newest_segment_is_found_kept_aside_and_repaired() {
    let dir = fresh_dir("damaged");
    let seg = write_and_crash(&dir);
    let offset = damage_tenth_record(&seg);

    let check = journal(&["check"], &dir);
    assert!(!check.status.success());
    let out = text(&check.stdout);
    assert!(
        out.contains("DAMAGED") && out.contains(&format!("at offset {offset}")),
        "{out}"
    );

    // dump prints the records before the damage, then where it stops.
    let dump = journal(&["dump"], &dir);
    assert!(dump.status.success());
    let out = text(&dump.stdout);
    let records: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(records.len(), 9, "{out}");
    assert!(
        records[0].ends_with(" 0 (strict) SET k1 1"),
        "{}",
        records[0]
    );
    assert!(
        out.lines().last().unwrap().contains("stops at offset"),
        "{out}"
    );

    let repair = journal(&["repair"], &dir);
    assert!(repair.status.success());
    assert!(
        text(&repair.stdout).contains("truncated"),
        "{}",
        text(&repair.stdout)
    );
    assert!(journal(&["check"], &dir).status.success());
    assert_eq!(dbsize_after_start(&dir), 9);
    let _ = std::fs::remove_dir_all(&dir);

    // Started on directly, the server replays up to the damage (the shape a power loss leaves
    // when the last unsynced pages reach the disk out of order) and keeps the rest aside.
    let dir = fresh_dir("damaged-start");
    let seg = write_and_crash(&dir);
    let offset = damage_tenth_record(&seg);
    assert_eq!(dbsize_after_start(&dir), 9);
    let mut kept = seg.clone().into_os_string();
    kept.push(format!(".damaged-{offset}"));
    let kept = std::fs::read(&kept).expect("the cut bytes are kept");
    assert!(
        kept.len() > 10 * 17,
        "ten records' worth kept: {}",
        kept.len()
    );
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
