//! Every container type survives a checkpoint, journal replay and kill -9: a real server under
//! `appendfsync always` takes writes of every collection command family (random and waiting
//! pops included, whose journal records are the deterministic writes they made), checkpoints
//! half way, is killed with SIGKILL, restarts on the same directory and must hold exactly the
//! values it acknowledged.
#![cfg(unix)]

use std::ffi::OsStr;
use std::path::Path;

use okdb_client::{to_value, Client};
use okdb_resp::Frame;

mod common;

fn start(dir: &Path) -> (common::Stop, u16) {
    let args = [
        OsStr::new("--appendfsync"),
        OsStr::new("always"),
        OsStr::new("--dir"),
        dir.as_os_str(),
    ];
    common::spawn_server(&args, &[])
}

fn call(c: &mut Client, args: &[&str]) -> Frame {
    let f = c.call(args).unwrap();
    assert!(!matches!(f, Frame::Error(_)), "{args:?}: {f:?}");
    f
}

/// Every key and its value, read back as typed values.
fn dump(c: &mut Client) -> Vec<(String, String)> {
    let Frame::Array(keys) = call(c, &["KEYS", "*"]) else {
        panic!("KEYS answers a list");
    };
    let mut out: Vec<(String, String)> = keys
        .iter()
        .map(|k| {
            let Frame::Bulk(k) = k else { panic!("a key") };
            let k = String::from_utf8_lossy(k).into_owned();
            let v = to_value(&call(c, &["GET", &k])).expect("a value");
            (k, v.to_string())
        })
        .collect();
    out.sort();
    out
}

fn writes(c: &mut Client, phase: usize) {
    let p = |s: &str| format!("{s}{phase}");
    let (l, h, s, z, q, d) = (
        p("list"),
        p("hash"),
        p("set"),
        p("zset"),
        p("queue"),
        p("dst"),
    );
    // Large enough to be stored in chunks by the checkpoint.
    for chunk in 0..3 {
        let items: Vec<String> = (0..1000).map(|i| format!("e{chunk}-{i}")).collect();
        let mut args = vec!["RPUSH", l.as_str()];
        args.extend(items.iter().map(String::as_str));
        call(c, &args);
    }
    call(c, &["LPUSH", &l, "head"]);
    call(c, &["LINSERT", &l, "AFTER", "e1-500", "inserted"]);
    call(c, &["LSET", &l, "10", "changed"]);
    call(c, &["LREM", &l, "0", "e2-7"]);
    call(c, &["LTRIM", &l, "0", "2500"]);
    call(c, &["INSERT", &l, "-1", "native"]);
    call(c, &["DELSLICE", &l, "100", "200", "3"]);
    call(c, &["HSET", &h, "a", "1", "b", "text", "c", "[1,2]"]);
    call(c, &["HINCRBY", &h, "a", "41"]);
    call(c, &["HINCRBYFLOAT", &h, "f", "0.25"]);
    call(c, &["HDEL", &h, "b"]);
    call(c, &["SETITEM", &h, "n", "{\"deep\": [1, 2]}"]);
    let members: Vec<String> = (0..3000).map(|i| format!("m{i}")).collect();
    let mut args = vec!["SADD", s.as_str()];
    args.extend(members.iter().map(String::as_str));
    call(c, &args);
    call(c, &["SPOP", &s, "25"]); // random: journaled as the SREM of what it took
    call(c, &["SREM", &s, "m1", "m2"]);
    let mut args = vec!["ZADD".to_string(), z.clone()];
    for i in 0..2500 {
        args.push(format!("{}", (i * 7919) % 1000));
        args.push(format!("z{i}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    call(c, &args);
    call(c, &["ZINCRBY", &z, "0.5", "z3"]);
    call(c, &["ZPOPMIN", &z, "3"]);
    call(c, &["ZREMRANGEBYSCORE", &z, "100", "(200"]);
    call(c, &["ZUNIONSTORE", &p("zu"), "2", &z, &s]);
    call(c, &["RPUSH", &q, "a", "b", "c"]);
    call(c, &["LMOVE", &q, &d, "LEFT", "RIGHT"]);
    call(c, &["BLPOP", &q, "0"]); // served at once
    let (dq, pq) = (p("deque"), p("pqueue"));
    call(c, &["SET", &dq, "deque([1, 2, 3], maxlen=1500)"]);
    for i in 0..2000 {
        call(c, &["APPEND", &dq, &i.to_string()]);
    }
    call(c, &["POPLEFT", &dq]);
    call(c, &["SET", &pq, "pqueue()"]);
    for i in 0..1500 {
        call(c, &["ADD", &pq, &format!("job{i}"), &(i % 7).to_string()]);
    }
    call(c, &["POP", &pq]);
    call(c, &["SET", &p("decimal"), "decimal('0.10')"]);
    call(c, &["INCR", &p("decimal"), "decimal('0.20')"]);
    call(c, &["SET", &p("date"), "date('2026-11-28')"]);
    call(
        c,
        &["SET", &p("when"), "datetime('2026-11-28T10:00:00.5-05:00')"],
    );
    call(c, &["MULTI"]);
    call(c, &["RPUSH", &q, "x"]);
    call(c, &["SADD", &p("tx"), "y"]);
    call(c, &["EXEC"]);
}

#[test]
fn every_container_survives_checkpoint_journal_and_kill_9() {
    let dir = std::env::temp_dir().join(format!("okdb-collections-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (mut server, port) = start(&dir);
    let addr = format!("127.0.0.1:{port}");
    let mut c = Client::connect(&addr).unwrap();
    writes(&mut c, 1);
    assert_eq!(call(&mut c, &["SAVE"]), Frame::Simple("OK".into()));
    writes(&mut c, 2);

    // A waiting pop served by a later write: the pop is journaled as the waiter's own write.
    let mut waiter = Client::connect(&addr).unwrap();
    let waiting = std::thread::spawn(move || waiter.call(&["BRPOP", "later", "10"]).unwrap());
    loop {
        let Frame::Verbatim { text, .. } = call(&mut c, &["INFO", "clients"]) else {
            panic!("INFO answers text");
        };
        if text.contains("blocked_clients:1") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    call(&mut c, &["RPUSH", "later", "one", "two"]);
    let served = waiting.join().unwrap();
    assert!(
        matches!(served, Frame::Array(ref a) if a.len() == 2),
        "{served:?}"
    );

    let before = dump(&mut c);
    assert!(before.len() >= 18, "{before:?}");
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();

    let (mut server, port) = start(&dir);
    let mut c = Client::connect(&format!("127.0.0.1:{port}")).unwrap();
    let after = dump(&mut c);
    assert_eq!(before.len(), after.len(), "{before:?}\n{after:?}");
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b, a, "key {} differs after the restart", b.0);
    }
    assert_eq!(
        call(&mut c, &["LRANGE", "later", "0", "-1"]),
        Frame::Array(vec![Frame::Bulk(b"one".to_vec().into())])
    );
    server.kill().unwrap();
    server.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
