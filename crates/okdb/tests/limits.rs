//! Limits that keep one request or one value from hurting the server: the size a string may
//! grow to, a checkpoint that keeps failing, and the memory a checkpoint of a huge value holds.

use std::time::{Duration, Instant};

use okdb_client::Client;
use okdb_resp::Frame;

mod common;

use common::spawn_server;

fn fresh_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("okdb-limits-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn call(c: &mut Client, args: &[&str]) -> Frame {
    c.call(args).unwrap()
}

fn error_text(f: &Frame) -> String {
    match f {
        Frame::Error(e) => e.to_string(),
        other => panic!("expected an error, got {other:?}"),
    }
}

/// `INFO persistence` as name → value.
fn info(c: &mut Client, name: &str) -> String {
    let text = match call(c, &["INFO", "persistence"]) {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        Frame::Verbatim { text, .. } => text.to_string(),
        other => panic!("INFO answered {other:?}"),
    };
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_string))
        .unwrap_or_else(|| panic!("no {name} in INFO persistence:\n{text}"))
}

/// APPEND, EXTEND and SETRANGE refuse to grow a string past `proto-max-bulk-len` (APPEND used
/// to grow one without bound, past what a checkpoint could store), and change nothing.
#[test]
fn growing_a_string_past_proto_max_bulk_len_is_refused() {
    let (child, port) = spawn_server(&["--appendonly", "no"], &[]);
    let mut c = Client::connect(&format!("127.0.0.1:{port}")).unwrap();
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "proto-max-bulk-len", "1048576"]),
        Frame::Simple("OK".into())
    );
    let part = "x".repeat(600_000);
    assert_eq!(
        call(&mut c, &["SET", "s", &part]),
        Frame::Simple("OK".into())
    );
    for args in [
        vec!["APPEND", "s", &part],
        vec!["EXTEND", "s", &part],
        vec!["SETRANGE", "s", "1048576", "y"],
    ] {
        let e = error_text(&call(&mut c, &args));
        assert!(
            e.contains("string exceeds maximum allowed size (proto-max-bulk-len)"),
            "{args:?}: {e}"
        );
    }
    assert_eq!(call(&mut c, &["STRLEN", "s"]), Frame::Integer(600_000));
    assert_eq!(
        call(&mut c, &["APPEND", "s", "tail"]),
        Frame::Integer(600_004)
    );
    drop(child);
}

/// A checkpoint that fails shows in `INFO persistence` with its reason, `SAVE` says it failed,
/// and the checkpointer backs off instead of retrying every few milliseconds.
#[test]
fn a_failing_checkpoint_shows_in_info_and_backs_off() {
    let dir = fresh_dir("cp-fail");
    let args = [
        std::ffi::OsString::from("--dir"),
        dir.clone().into(),
        "--appendfsync".into(),
        "everysec".into(),
    ];
    let (child, port) = spawn_server(&args, &[("OKDB_FAILPOINT", "checkpoint-error")]);
    let mut c = Client::connect(&format!("127.0.0.1:{port}")).unwrap();
    assert_eq!(info(&mut c, "rdb_last_bgsave_status"), "ok");
    // The journal is past this at once (segments are preallocated), so the checkpointer
    // wants a checkpoint all the time.
    call(
        &mut c,
        &["CONFIG", "SET", "checkpoint-journal-bytes", "1048576"],
    );
    call(&mut c, &["SET", "k", "v"]);
    let e = error_text(&call(&mut c, &["SAVE"]));
    assert!(e.contains("checkpoint failed"), "{e}");
    assert_eq!(info(&mut c, "rdb_last_bgsave_status"), "err");
    assert_eq!(
        info(&mut c, "last_checkpoint_error"),
        "failpoint checkpoint-error"
    );
    let before: u64 = info(&mut c, "checkpoint_failures").parse().unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let after: u64 = info(&mut c, "checkpoint_failures").parse().unwrap();
    // 1 s, then 2 s, …: at most two more in 2.5 s (it was one every 20 ms).
    assert!(after - before <= 2, "{before} → {after} failures in 2.5 s");
    assert!(after > before, "it still retries");
    assert_eq!(call(&mut c, &["GET", "k"]), Frame::Bulk("v".into()));
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(target_os = "linux")]
fn proc_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A checkpoint of a list of millions of items encodes it a few chunks at a time, never a copy
/// of the list as values (it used to hold about three).
#[cfg(target_os = "linux")]
#[test]
fn a_checkpoint_of_a_huge_list_holds_bounded_memory() {
    let dir = fresh_dir("cp-mem");
    let args = [std::ffi::OsString::from("--dir"), dir.clone().into()];
    let (child, port) = spawn_server(&args, &[]);
    let pid = child.0.id();
    let mut c = Client::connect(&format!("127.0.0.1:{port}")).unwrap();
    let items = |from: u64| {
        let v: Vec<String> = (from..from + 100_000)
            .map(|i| (i * 7919).to_string())
            .collect();
        format!("[{}]", v.join(", "))
    };
    let rss0 = proc_kib(pid, "VmRSS:");
    for n in 0..20 {
        let r = call(&mut c, &["EXTEND", "l", &items(n * 100_000)]);
        assert!(matches!(r, Frame::Integer(_)), "{r:?}");
    }
    assert_eq!(call(&mut c, &["LEN", "l"]), Frame::Integer(2_000_000));
    let list_kib = proc_kib(pid, "VmRSS:").saturating_sub(rss0);
    // Peak RSS from here on.
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
    let before = proc_kib(pid, "VmRSS:");
    let started = Instant::now();
    assert_eq!(call(&mut c, &["SAVE"]), Frame::Simple("OK".into()));
    let peak = proc_kib(pid, "VmHWM:").saturating_sub(before);
    eprintln!(
        "list: +{list_kib} KiB RSS; SAVE: peak +{peak} KiB in {:?}",
        started.elapsed()
    );
    // What one copy of the list as values would take (2M values of 24 bytes): the list itself
    // is packed (about 9 bytes an item here), and the fresh checkpoint's SQLite page cache
    // holds the pages it writes (about as many bytes as the list packed) until it commits, so
    // the peak is measured against a copy of the list as values, which it must stay under.
    let one_copy_kib = 2_000_000 * std::mem::size_of::<okdb_value::Value>() as u64 / 1024;
    assert!(
        peak < one_copy_kib,
        "a checkpoint of a {list_kib} KiB list peaked at +{peak} KiB (one copy as values: {one_copy_kib} KiB)"
    );
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `INFO memory`'s `used_memory`.
fn used_memory(c: &mut Client) -> u64 {
    let text = match call(c, &["INFO", "memory"]) {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        Frame::Verbatim { text, .. } => text.to_string(),
        other => panic!("INFO answered {other:?}"),
    };
    text.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

/// After large writes are gone, the memory that carried them goes back: the journal's buffers
/// shrink (three 20 MB SET/DEL/SAVE rounds used to leave their size held with zero keys).
#[test]
fn memory_that_carried_large_writes_is_given_back() {
    let dir = fresh_dir("shrink");
    let args = [std::ffi::OsString::from("--dir"), dir.clone().into()];
    let (child, port) = spawn_server(&args, &[]);
    let mut c = Client::connect(&format!("127.0.0.1:{port}")).unwrap();
    // The change feed keeps recent writes for LISTEN … FROM by design (feed-retention-bytes);
    // this is about the buffers that carried them.
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "feed-retention-bytes", "0"]),
        Frame::Simple("OK".into())
    );
    let start = used_memory(&mut c);
    let big = "x".repeat(20 << 20);
    for _ in 0..3 {
        assert_eq!(
            call(&mut c, &["SET", "s", &big]),
            Frame::Simple("OK".into())
        );
        assert_eq!(call(&mut c, &["DEL", "s"]), Frame::Integer(1));
        assert_eq!(call(&mut c, &["SAVE"]), Frame::Simple("OK".into()));
    }
    drop(big);
    // Under everysec the last write's bytes are kept until their fsync, at most a second on.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut now = used_memory(&mut c);
    while now > start + (8 << 20) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        now = used_memory(&mut c);
    }
    assert!(
        now <= start + (8 << 20),
        "used_memory {start} at start, {now} with no keys after the large writes"
    );
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}
