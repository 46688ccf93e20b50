//! The change feed against the journal: several writers, a listener that drops its connection
//! at random moments and resumes `FROM` the last seq it got, a kill -9 in the middle of the
//! writes and a restart. What the listener got, put together, is the journal in its order:
//! every record, each once, each change with its op.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use okdb_client::Client;
use okdb_resp::Frame;

mod common;
use common::{spawn_server, spawn_server_on, OKDB};

fn fresh_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("okdb-feed-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// One change as the listener got it: (seq, index, key, op).
type Change = (i64, i64, String, String);

fn field(pairs: &[(Frame, Frame)], name: &str) -> Option<Frame> {
    pairs.iter().find_map(|(k, v)| match k {
        Frame::Bulk(b) if b.as_ref() == name.as_bytes() => Some(v.clone()),
        _ => None,
    })
}

fn text(f: &Frame) -> String {
    match f {
        Frame::Bulk(b) => String::from_utf8_lossy(b).into(),
        Frame::Integer(i) => i.to_string(),
        other => format!("{other:?}"),
    }
}

fn as_change(f: Frame) -> Option<Change> {
    let Frame::Push(items) = f else { return None };
    let Some(Frame::Map(pairs)) = items.get(1) else {
        return None;
    };
    let int = |n| match field(pairs, n) {
        Some(Frame::Integer(i)) => i,
        other => panic!("{n}: {other:?}"),
    };
    Some((
        int("seq"),
        int("index"),
        text(&field(pairs, "key")?),
        text(&field(pairs, "op")?),
    ))
}

/// A writer: pipelines of 50 commands over its own keys until `count` are sent, reconnecting
/// when the server goes away (the kill) and comes back. Every reply is read.
fn writer(
    port: u16,
    w: usize,
    count: usize,
    seed: u64,
    progress: Arc<AtomicUsize>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut sent = 0;
        let mut buf = vec![0u8; 1 << 16];
        'connect: while sent < count {
            assert!(Instant::now() < deadline, "writer {w} could not finish");
            let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) else {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            };
            c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            while sent < count {
                let mut out = Vec::new();
                for _ in 0..50 {
                    let k = format!("w{w}k{}", rng.usize(..200));
                    let args: Vec<String> = match rng.usize(..5) {
                        0 => vec!["SET".into(), k, sent.to_string()],
                        1 => vec!["INCR".into(), format!("w{w}n")],
                        2 => vec!["RPUSH".into(), format!("w{w}l"), sent.to_string()],
                        3 => vec!["DEL".into(), k],
                        _ => vec!["SET".into(), k, "x".into(), "EX".into(), "1000".into()],
                    };
                    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
                    okdb_resp::encode_command(&a, &mut out);
                    sent += 1;
                }
                if c.write_all(&out).is_err() {
                    continue 'connect;
                }
                progress.fetch_add(50, Relaxed);
                // 50 replies: each a line (+OK, :n); count the CRLFs.
                let mut lines = 0;
                while lines < 50 {
                    match c.read(&mut buf) {
                        Ok(0) | Err(_) => continue 'connect,
                        Ok(n) => lines += buf[..n].windows(2).filter(|p| p == b"\r\n").count(),
                    }
                }
            }
        }
    })
}

/// Follows the feed from `last`, dropping the connection after a random number of messages,
/// until it has seen `marker` (a key written last). Reconnects while the server restarts.
fn follow(port: u16, last: &mut i64, got: &mut Vec<Change>, marker: &str, rng: &mut fastrand::Rng) {
    let deadline = Instant::now() + Duration::from_secs(120);
    'connect: loop {
        assert!(Instant::now() < deadline, "the listener never saw {marker}");
        let Ok(mut c) = Client::connect(&format!("127.0.0.1:{port}")) else {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        let from = last.to_string();
        match c.call(&["LISTEN", "*", "NOVALUES", "FROM", &from]) {
            Ok(Frame::Push(_)) => {}
            Ok(other) => panic!("LISTEN FROM {from}: {other:?}"),
            Err(_) => continue,
        }
        for _ in 0..rng.usize(1..3000) {
            let Ok(f) = c.read() else { continue 'connect };
            let ch = as_change(f).expect("a change message");
            assert!(ch.0 >= *last, "seq went back: {ch:?} after {last}");
            *last = ch.0;
            let done = ch.2 == marker;
            got.push(ch);
            if done {
                return;
            }
        }
    }
}

/// The changes the journal holds, as a listener of every key gets them.
fn journal_changes(dir: &std::path::Path) -> Vec<Change> {
    let out = Command::new(OKDB)
        .args(["journal", "dump"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut changes = Vec::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        if line.starts_with('#') {
            continue;
        }
        let mut head = line.splitn(4, ' ');
        let lsn: i64 = head.next().unwrap().parse().unwrap();
        let (_now, _ks, rest) = (head.next(), head.next(), head.next().unwrap());
        let mut op = String::new();
        let mut index = 0;
        for part in rest.split(" ; ") {
            let mut w = part.split(' ');
            let verb = w.next().unwrap();
            let key = w.next().unwrap_or("").trim_matches('"').to_string();
            let name = match verb {
                "OP" => {
                    op = key;
                    continue;
                }
                "DEL" => "del".to_string(),
                "PEXPIREAT" => "expire".to_string(),
                _ => op.clone(),
            };
            changes.push((lsn, index, key, name));
            index += 1;
        }
    }
    changes
}

fn run(policy: &str) {
    let dir = fresh_dir(policy);
    let args = [
        "--dir".to_string(),
        dir.to_string_lossy().into(),
        "--appendfsync".into(),
        policy.into(),
    ];
    let (child, port) = spawn_server(&args, &[]);
    let mut child = Some(child);
    let mut rng = fastrand::Rng::with_seed(11);
    let mut got = Vec::new();
    let mut last = 0i64;
    let mut killed_mid_write = false;
    let per_writer = if policy == "always" { 5_000 } else { 25_000 };
    for phase in 0..2 {
        let progress = Arc::new(AtomicUsize::new(0));
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let seed = (phase * 10 + w) as u64;
                writer(port, w, per_writer / 2, seed, progress.clone())
            })
            .collect();
        let killed = Arc::new(AtomicBool::new(false));
        if phase == 0 {
            // A kill -9 in the middle of the first phase's writes, then a restart on the port.
            let k = killed.clone();
            let mut c = child.take().unwrap();
            let restart_args = args.clone();
            let restarted = std::thread::spawn(move || {
                // Once about a third of the phase's writes are sent.
                let deadline = Instant::now() + Duration::from_secs(60);
                while progress.load(Relaxed) < per_writer * 4 / 6 && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_micros(200));
                }
                c.0.kill().unwrap();
                c.0.wait().unwrap();
                k.store(true, Relaxed);
                spawn_server_on(port, &restart_args, &[]).0
            });
            let mut finished_before_kill = true;
            for w in writers {
                w.join().unwrap();
                finished_before_kill &= !killed.load(Relaxed);
            }
            killed_mid_write = !finished_before_kill;
            child = Some(restarted.join().unwrap());
        } else {
            for w in writers {
                w.join().unwrap();
            }
        }
        let marker = format!("end{phase}");
        let mut c = Client::connect(&format!("127.0.0.1:{port}")).unwrap();
        assert_eq!(
            c.call(&["SET", &marker, "1"]).unwrap(),
            Frame::Simple("OK".into())
        );
        follow(port, &mut last, &mut got, &marker, &mut rng);
    }
    drop(child);
    let journal = journal_changes(&dir);
    eprintln!(
        "{policy}: {} changes journaled, {} seqs, the kill came {}",
        journal.len(),
        last,
        if killed_mid_write {
            "during the writes"
        } else {
            "after the writes"
        }
    );
    assert!(
        journal.len() > per_writer,
        "{} changes journaled",
        journal.len()
    );
    assert_eq!(
        got.len(),
        journal.len(),
        "the feed and the journal differ in length"
    );
    for (i, (g, j)) in got.iter().zip(&journal).enumerate() {
        assert_eq!(g, j, "change {i} differs ({policy})");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_feed_resumed_after_drops_and_a_kill_9_is_the_journal_everysec() {
    run("everysec");
}

#[test]
fn the_feed_resumed_after_drops_and_a_kill_9_is_the_journal_always() {
    run("always");
}

#[test]
fn the_feed_resumed_after_drops_and_a_kill_9_is_the_journal_no() {
    run("no");
}
