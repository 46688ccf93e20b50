//! `maxmemory` with the real binary (jemalloc counts the memory): eviction keeps memory near
//! the limit, `noeviction` refuses writes but serves reads, and evictions are journaled so a
//! restart does not bring evicted keys back.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

mod common;
use common::spawn_server;

/// A raw RESP2 connection that pipelines commands.
struct Conn {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Conn {
    fn new(port: u16) -> Conn {
        let w = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let r = BufReader::new(w.try_clone().unwrap());
        Conn { w, r }
    }

    fn send(&mut self, cmds: &[Vec<&[u8]>]) {
        let mut out = Vec::new();
        for args in cmds {
            out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
            for a in args {
                out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                out.extend_from_slice(a);
                out.extend_from_slice(b"\r\n");
            }
        }
        self.w.write_all(&out).unwrap();
    }

    /// Reads one reply as text (bulk strings by content).
    fn reply(&mut self) -> String {
        let mut line = String::new();
        self.r.read_line(&mut line).unwrap();
        let line = line.trim_end().to_string();
        if let Some(n) = line.strip_prefix('$') {
            let n: i64 = n.parse().unwrap();
            if n < 0 {
                return "nil".into();
            }
            let mut buf = vec![0; n as usize + 2];
            self.r.read_exact(&mut buf).unwrap();
            return String::from_utf8_lossy(&buf[..n as usize]).into_owned();
        }
        line
    }

    fn call(&mut self, args: &[&str]) -> String {
        self.send(&[args.iter().map(|a| a.as_bytes()).collect()]);
        self.reply()
    }

    /// `maxmemory` 16 MiB under `policy`.
    fn limit(&mut self, policy: &str) {
        let set = [
            "CONFIG",
            "SET",
            "maxmemory",
            "16mb",
            "maxmemory-policy",
            policy,
        ];
        assert_eq!(self.call(&set), "+OK");
    }

    fn info(&mut self, section: &str, field: &str) -> u64 {
        let text = self.call(&["INFO", section]);
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in {text}"))
    }

    /// SET key:from..key:to with values of `size` bytes, pipelined; the replies.
    fn fill(&mut self, from: usize, to: usize, size: usize) -> Vec<String> {
        let value = vec![b'v'; size];
        let mut replies = Vec::new();
        for start in (from..to).step_by(1000) {
            let keys: Vec<String> = (start..(start + 1000).min(to))
                .map(|i| format!("key:{i}"))
                .collect();
            let cmds: Vec<Vec<&[u8]>> = keys
                .iter()
                .map(|k| vec![&b"SET"[..], k.as_bytes(), &value])
                .collect();
            self.send(&cmds);
            for _ in &keys {
                replies.push(self.reply());
            }
        }
        replies
    }
}

const LIMIT: u64 = 16 << 20;

#[test]
fn eviction_holds_memory_near_the_limit_and_noeviction_refuses_writes() {
    let (mut child, port) = spawn_server(&["--appendonly", "no"], &[]);
    let mut c = Conn::new(port);
    c.limit("allkeys-lru");
    // About 48 MB of data into a 16 MB limit.
    let replies = c.fill(0, 200_000, 200);
    assert!(replies.iter().all(|r| r == "+OK"), "every write succeeds");
    let used = c.info("memory", "used_memory");
    assert!(
        used <= LIMIT + LIMIT / 20,
        "used_memory {used} over 105% of {LIMIT}"
    );
    let evicted = c.info("stats", "evicted_keys");
    let keys: u64 = c.call(&["DBSIZE"])[1..].parse().unwrap();
    assert!(
        evicted > 100_000 && keys < 100_000,
        "evicted {evicted}, kept {keys}"
    );
    assert_eq!(evicted + keys, 200_000);
    // LRU keeps what is used: a key read all along survives a second fill.
    c.call(&["SET", "hot", "1"]);
    for chunk in 0..20 {
        c.fill(200_000 + chunk * 5_000, 200_000 + (chunk + 1) * 5_000, 200);
        assert_eq!(
            c.call(&["GET", "hot"]),
            "1",
            "hot key evicted in chunk {chunk}"
        );
    }

    // noeviction: writes that may grow memory are refused; reads and deletes work.
    assert_eq!(
        c.call(&["CONFIG", "SET", "maxmemory-policy", "noeviction"]),
        "+OK"
    );
    c.fill(400_000, 401_000, 200);
    assert_eq!(
        c.call(&["SET", "new", "x"]),
        "-OOM command not allowed when used memory > 'maxmemory'."
    );
    assert_eq!(c.call(&["GET", "hot"]), "1");
    assert_eq!(c.call(&["DEL", "hot"]), ":1");
    // A volatile policy with no key that has an expiry cannot free anything either.
    c.call(&["CONFIG", "SET", "maxmemory-policy", "volatile-lru"]);
    assert!(c.call(&["SET", "new", "x"]).starts_with("-OOM"));
    // Raising the limit lets writes through again.
    c.call(&["CONFIG", "SET", "maxmemory", "0"]);
    assert_eq!(c.call(&["SET", "new", "x"]), "+OK");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn evictions_are_journaled_so_a_restart_does_not_bring_keys_back() {
    let dir = std::env::temp_dir().join(format!("okdb-maxmemory-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let args = ["--dir", dir.to_str().unwrap(), "--appendfsync", "always"];
    let (mut child, port) = spawn_server(&args, &[]);
    let mut c = Conn::new(port);
    c.limit("allkeys-random");
    c.fill(0, 150_000, 200);
    let keys = c.call(&["DBSIZE"]);
    assert!(c.info("stats", "evicted_keys") > 0);
    child.kill().unwrap();
    child.wait().unwrap();
    let (mut child, port) = spawn_server(&args, &[]);
    let mut c = Conn::new(port);
    assert_eq!(
        c.call(&["DBSIZE"]),
        keys,
        "the same keys after a kill -9 and restart"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
