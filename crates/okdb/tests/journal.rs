//! Damaged journals as a user meets them: a torn tail is cut at start-up; damage in the middle
//! stops start-up with the file and offset; `okdb journal check|dump|repair` find and fix it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

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

#[test]
fn a_torn_tail_is_cut_at_start_up_and_nothing_acknowledged_is_lost() {
    let dir = fresh_dir("torn");
    let seg = write_and_crash(&dir);
    let len = std::fs::metadata(&seg).unwrap().len();
    // The first bytes of a record header, as a crash in the middle of a write leaves them.
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes.extend_from_slice(&[0x30, 0, 0, 0, 7, 7]);
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
        len,
        "cut back to the whole records"
    );
    assert!(journal(&["check"], &dir).status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn damage_in_the_middle_stops_start_up_and_repair_cuts_there() {
    let dir = fresh_dir("corrupt");
    let seg = write_and_crash(&dir);
    // Flip the last payload byte of the tenth record (16-byte header, then records of
    // 4 len + 4 crc + 8 lsn + 1 op + len payload bytes).
    let mut bytes = std::fs::read(&seg).unwrap();
    let mut at = 16;
    for _ in 0..9 {
        at += 17 + u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    }
    let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    bytes[at + 17 + len - 1] ^= 0x55;
    std::fs::write(&seg, &bytes).unwrap();

    // Start-up refuses, naming the file, the offset and the tools.
    let mut child = Command::new(OKDB)
        .args(["server", "--port", "0"])
        .args(server_args(&dir))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the server started on a corrupt journal");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success());
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    let name = seg.file_name().unwrap().to_str().unwrap();
    assert!(err.contains(name) && err.contains("at offset"), "{err}");
    assert!(err.contains("okdb journal repair"), "{err}");

    let check = journal(&["check"], &dir);
    assert!(!check.status.success());
    assert!(
        text(&check.stdout).contains("CORRUPT"),
        "{}",
        text(&check.stdout)
    );

    // dump prints the records before the damage, then where it stops.
    let dump = journal(&["dump"], &dir);
    assert!(dump.status.success());
    let out = text(&dump.stdout);
    let records: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(records.len(), 9, "{out}");
    assert!(records[0].ends_with(" 0 SET k1 1"), "{}", records[0]);
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
    assert_eq!(dbsize_after_start(&dir), records.len() as i64);
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
