//! The kill -9 harness: a real `okdb server` child under concurrent writers that record every
//! acknowledged write, killed with SIGKILL at a random moment, restarted on the same data
//! directory, and checked.
//!
//! Each writer `w` sends `SET r<round>w<w>:last j r<round>w<w>:<j> j` for j = 1, 2, … (one atomic
//! command: both keys or neither) and notes the last j acknowledged. After the restart, with
//! `last` read back:
//! - nothing lost: `last >= acknowledged` (under `always`; under `everysec` only writes
//!   acknowledged in the second before the kill may be missing);
//! - nothing invented: `last <= acknowledged + 1` (only the one write in flight may have landed);
//! - no holes: every `:<j>` for j ≤ last exists, and `:<last + 1>` does not;
//! - earlier rounds' data is all still there.
//!
//! `cargo test -p okdb --test crash` runs a few rounds per policy; the long run is
//! `OKDB_CRASH_ROUNDS=200 cargo test --release -p okdb --test crash -- --nocapture`.
//!
//! Unix only (SIGKILL and its file semantics), so the whole file, helpers included, is left out
//! elsewhere rather than each test.
#![cfg(unix)]

use std::ffi::OsStr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use okdb_client::Client;
use okdb_resp::Frame;

mod common;

const WRITERS: usize = 4;

fn start(dir: &Path, policy: &str, env: &[(&str, &str)]) -> (common::Stop, u16) {
    let args = [
        OsStr::new("--appendfsync"),
        OsStr::new(policy),
        OsStr::new("--dir"),
        dir.as_os_str(),
    ];
    common::spawn_server(&args, env)
}

fn int(f: &Frame) -> u64 {
    match f {
        Frame::Integer(n) => *n as u64,
        Frame::Null => 0,
        other => panic!("expected an int, got {other:?}"),
    }
}

struct Writer {
    acked: AtomicU64,
    /// When each acknowledgement arrived, to bound `everysec` loss in time.
    times: Mutex<Vec<Instant>>,
}

/// One round: write, kill -9 at a random moment, restart, check. Returns (acked, lost) totals.
fn round(dir: &Path, policy: &str, round: usize, checked: &mut Vec<(String, u64)>) -> (u64, u64) {
    let (mut child, port) = start(dir, policy, &[]);
    let addr = format!("127.0.0.1:{port}");
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<Arc<Writer>> = (0..WRITERS)
        .map(|_| {
            Arc::new(Writer {
                acked: AtomicU64::new(0),
                times: Mutex::new(Vec::new()),
            })
        })
        .collect();
    let handles: Vec<_> = writers
        .iter()
        .enumerate()
        .map(|(w, state)| {
            let (state, stop, addr) = (state.clone(), stop.clone(), addr.clone());
            std::thread::spawn(move || {
                let Ok(mut c) = Client::connect(&addr) else {
                    return;
                };
                let prefix = format!("r{round}w{w}");
                for j in 1..=1_000_000u64 {
                    if stop.load(SeqCst) {
                        return;
                    }
                    let j_text = j.to_string();
                    let args = [
                        "SET",
                        &format!("{prefix}:last"),
                        &j_text,
                        &format!("{prefix}:{j}"),
                        &j_text,
                    ];
                    match c.call(&args) {
                        Ok(Frame::Simple(s)) if s == "OK" => {
                            state.acked.store(j, SeqCst);
                            state.times.lock().unwrap().push(Instant::now());
                        }
                        Ok(other) => panic!("unexpected reply {other:?}"),
                        Err(_) => return, // the server died
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(fastrand::u64(100..600)));
    child.kill().unwrap(); // SIGKILL on Unix
    let killed_at = Instant::now();
    child.wait().unwrap();
    stop.store(true, SeqCst);
    for h in handles {
        h.join().unwrap();
    }

    let (mut child, port) = start(dir, policy, &[]);
    let mut c = Client::connect(&format!("127.0.0.1:{port}")).unwrap();
    let (mut acked_total, mut lost_total) = (0, 0);
    for (w, state) in writers.iter().enumerate() {
        let prefix = format!("r{round}w{w}");
        let acked = state.acked.load(SeqCst);
        let last = int(&c.call(&["GET", &format!("{prefix}:last")]).unwrap());
        assert!(
            last <= acked + 1,
            "{policy} round {round} writer {w}: {last} stored but only {acked} acknowledged \
             (+1 in flight): an invented write"
        );
        if last < acked {
            let lost = acked - last;
            match policy {
                "always" => panic!(
                    "always round {round} writer {w}: acknowledged {acked}, found {last}: \
                     {lost} acknowledged writes lost"
                ),
                _ => {
                    // Every lost write must have been acknowledged within the last second.
                    let times = state.times.lock().unwrap();
                    let first_lost = times[last as usize]; // ack time of write last+1
                    assert!(
                        killed_at.duration_since(first_lost) <= Duration::from_millis(1500),
                        "{policy} round {round} writer {w}: lost writes acknowledged {:?} \
                         before the kill",
                        killed_at.duration_since(first_lost)
                    );
                }
            }
            lost_total += lost;
        }
        acked_total += acked;
        let keys: Vec<String> = (1..=last).map(|j| format!("{prefix}:{j}")).collect();
        if !keys.is_empty() {
            let mut args = vec!["EXISTS".to_string()];
            args.extend(keys);
            assert_eq!(int(&c.call(&args).unwrap()), last, "a hole in {prefix}");
        }
        let next = format!("{prefix}:{}", last + 1);
        assert_eq!(
            int(&c.call(&["EXISTS", &next]).unwrap()),
            0,
            "{next} exists"
        );
        checked.push((prefix, last));
    }
    // Earlier rounds survive this round's crash and recovery too.
    for (prefix, last) in checked.iter() {
        let got = int(&c.call(&["GET", &format!("{prefix}:last")]).unwrap());
        assert_eq!(got, *last, "{prefix}:last changed after a later round");
    }
    child.kill().unwrap();
    child.wait().unwrap();
    (acked_total, lost_total)
}

fn rounds() -> usize {
    std::env::var("OKDB_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

fn run(policy: &str) {
    let dir = std::env::temp_dir().join(format!("okdb-crash-{policy}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut checked = Vec::new();
    let (mut acked, mut lost) = (0, 0);
    let n = rounds();
    for r in 0..n {
        let (a, l) = round(&dir, policy, r, &mut checked);
        acked += a;
        lost += l;
    }
    eprintln!("{policy}: {n} kill -9 rounds, {acked} acknowledged writes, {lost} lost");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn kill_9_under_always_loses_nothing_acknowledged() {
    run("always");
}

#[test]
fn kill_9_under_everysec_loses_at_most_the_last_second() {
    run("everysec");
}

/// A crash between the checkpoint's commit and the removal of the segments it covers, and one
/// while the writer starts a new segment: the next start recovers everything.
#[test]
fn failpoints_in_checkpoint_and_rotation_lose_nothing() {
    for point in [
        "checkpoint-after-commit",
        "rotate-after-create",
        "rotate-before-create",
    ] {
        let dir = std::env::temp_dir().join(format!("okdb-fail-{point}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (mut child, port) = start(&dir, "always", &[("OKDB_FAILPOINT", point)]);
        let mut c = Client::connect(&format!("127.0.0.1:{port}")).unwrap();
        let mut acked = 0;
        for j in 1..=50u64 {
            match c.call(&["SET", &format!("k{j}"), &j.to_string()]) {
                Ok(Frame::Simple(_)) => acked = j,
                _ => break,
            }
            // SAVE checkpoints and then asks for a new segment at the next write.
            if j % 10 == 0 && c.call(&["SAVE"]).is_err() {
                break;
            }
        }
        let _ = child.kill();
        child.wait().unwrap();
        let (mut child, port) = start(&dir, "always", &[]);
        let mut c = Client::connect(&format!("127.0.0.1:{port}")).unwrap();
        for j in 1..=acked {
            assert_eq!(
                int(&c.call(&["GET", &format!("k{j}")]).unwrap()),
                j,
                "failpoint {point}: k{j} lost"
            );
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Scripts under kill -9: each writer's `RUN` sets ten keys to its counter and pushes the
/// counter onto a log, as one transaction. After the restart every writer's ten keys agree,
/// the log holds exactly 1..=that counter, and nothing acknowledged is lost (`always`).
#[test]
fn kill_9_never_shows_half_a_script() {
    let dir = std::env::temp_dir().join(format!("okdb-crash-scripts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    const SCRIPT: &str = "n = ARGS[1]\nfor i in range(10):\n    SET(f'{ARGS[0]}:{i}', n)\nRPUSH(ARGS[0] + ':log', n)\nn";
    let mut total = 0;
    for round in 0..rounds() {
        let (mut child, port) = start(&dir, "always", &[]);
        let addr = format!("127.0.0.1:{port}");
        let stop = Arc::new(AtomicBool::new(false));
        let acked: Vec<Arc<AtomicU64>> =
            (0..WRITERS).map(|_| Arc::new(AtomicU64::new(0))).collect();
        let handles: Vec<_> = acked
            .iter()
            .enumerate()
            .map(|(w, acked)| {
                let (acked, stop, addr) = (acked.clone(), stop.clone(), addr.clone());
                std::thread::spawn(move || {
                    let Ok(mut c) = Client::connect(&addr) else {
                        return;
                    };
                    let prefix = format!("r{round}w{w}");
                    for j in 1..=1_000_000u64 {
                        if stop.load(SeqCst) {
                            return;
                        }
                        match c.call(&["RUN", SCRIPT, &prefix, &j.to_string()]) {
                            Ok(Frame::Integer(n)) if n as u64 == j => acked.store(j, SeqCst),
                            Ok(other) => panic!("unexpected reply {other:?}"),
                            Err(_) => return,
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(fastrand::u64(100..600)));
        child.kill().unwrap();
        child.wait().unwrap();
        stop.store(true, SeqCst);
        for h in handles {
            h.join().unwrap();
        }
        let (mut child, port) = start(&dir, "always", &[]);
        let mut c = Client::connect(&format!("127.0.0.1:{port}")).unwrap();
        for (w, acked) in acked.iter().enumerate() {
            let prefix = format!("r{round}w{w}");
            let acked = acked.load(SeqCst);
            let values: Vec<u64> = (0..10)
                .map(|i| int(&c.call(&["GET", &format!("{prefix}:{i}")]).unwrap()))
                .collect();
            let last = values[0];
            assert!(
                values.iter().all(|v| *v == last),
                "half a script: {values:?}"
            );
            assert!(
                last >= acked && last <= acked + 1,
                "acked {acked}, found {last}"
            );
            let len = int(&c.call(&["LLEN", &format!("{prefix}:log")]).unwrap());
            assert_eq!(len, last, "the log of {prefix}");
            total += acked;
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    assert!(total > 100, "only {total} scripts acknowledged");
    eprintln!("scripts: {} kill -9 rounds, {total} acknowledged", rounds());
    let _ = std::fs::remove_dir_all(&dir);
}
