//! Memory the real binary holds for large replies and pipelines: replies are streamed, so a
//! small request asking for a huge reply, or a pipeline of large replies, costs the server a
//! bounded buffer, not the reply's size (docs/server.md).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Child;
use std::time::Duration;

mod common;
use common::spawn_server;

/// The server's peak resident memory (VmHWM), in bytes.
fn peak_rss(child: &Child) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/pid/status");
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

fn command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    okdb_resp::encode_command(args, &mut out);
    out
}

/// Reads one reply line (a status, an error, an integer or an array header).
fn line(r: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    line.trim_end().to_string()
}

/// Reads a bulk string reply and returns its length, discarding its bytes as they come.
fn skip_bulk(r: &mut BufReader<TcpStream>) -> u64 {
    let header = line(r);
    let n: u64 = header
        .strip_prefix('$')
        .unwrap_or_else(|| panic!("expected a bulk string, got {header}"))
        .parse()
        .unwrap();
    let copied = std::io::copy(&mut r.by_ref().take(n + 2), &mut std::io::sink()).unwrap();
    assert_eq!(copied, n + 2);
    n
}

/// `MGET` of one 1 MiB value 96 times (a 96 MiB reply from a 1 KiB request), then a pipeline of
/// 24 `GET`s of it: the server's peak memory grows by far less than the replies' size.
#[test]
fn huge_replies_do_not_grow_the_server() {
    let (mut child, port) = spawn_server::<&str>(&[], &[]);
    let w = TcpStream::connect(("127.0.0.1", port)).unwrap();
    w.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut r = BufReader::new(w.try_clone().unwrap());
    let mut w = w;
    // No output limit: only streaming keeps the memory bounded.
    w.write_all(&command(&[
        b"CONFIG",
        b"SET",
        b"client-output-buffer-limit",
        b"normal 0 0 0",
    ]))
    .unwrap();
    let _ = line(&mut r);
    let big = vec![b'v'; 1 << 20];
    w.write_all(&command(&[b"SET", b"big", &big])).unwrap();
    assert_eq!(line(&mut r), "+OK");
    std::thread::sleep(Duration::from_millis(100));
    let before = peak_rss(&child);

    let mut mget: Vec<&[u8]> = vec![b"MGET"];
    mget.extend(std::iter::repeat_n(&b"big"[..], 96));
    w.write_all(&command(&mget)).unwrap();
    assert_eq!(line(&mut r), "*96");
    for _ in 0..96 {
        assert_eq!(skip_bulk(&mut r), 1 << 20);
    }
    let mut pipeline = Vec::new();
    for _ in 0..24 {
        pipeline.extend_from_slice(&command(&[b"GET", b"big"]));
    }
    w.write_all(&pipeline).unwrap();
    for _ in 0..24 {
        assert_eq!(skip_bulk(&mut r), 1 << 20);
    }
    let grown = peak_rss(&child).saturating_sub(before);
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        grown < 24 << 20,
        "the server's peak memory grew by {} MiB for 120 MiB of replies",
        grown >> 20
    );
}
