//! The server's limits and budgets through real sockets: output limits and streamed replies,
//! lock holds within a budget, query-buffer and idle limits, large literals read before the
//! lock, and cross-protocol requests.
//!
//! Every server listens on 127.0.0.1 on a port picked at run time and stops when the test ends;
//! every loop is bounded in count and time.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use okdb_resp::{encode_command, Frame};

mod common;
use common::{start_with, Raw};

/// Requests given as words.
impl Raw {
    fn send(&mut self, words: &[&str]) {
        let args: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
        self.send_args(&args);
    }

    fn call(&mut self, words: &[&str]) -> Frame {
        self.send(words);
        self.read().expect("a reply")
    }
}

fn ok(f: &Frame) -> bool {
    matches!(f, Frame::Simple(s) if s == "OK")
}

fn error_text(f: Option<Frame>) -> String {
    match f {
        Some(Frame::Error(e)) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

fn int(f: &Frame) -> i64 {
    match f {
        Frame::Integer(i) => *i,
        Frame::Bulk(b) => std::str::from_utf8(b).unwrap().parse().unwrap(),
        other => panic!("expected an integer, got {other:?}"),
    }
}

/// Item 5: a reply past `client-output-buffer-limit normal`'s hard limit closes the client
/// with an error instead of being built; smaller replies and other clients are unaffected.
#[test]
fn output_buffer_hard_limit_closes_the_client() {
    let server = start_with(1);
    let mut admin = Raw::connect(&server);
    let r = admin.call(&["CONFIG", "GET", "client-output-buffer-limit"]);
    assert!(
        format!("{r:?}").contains("normal 1073741824 0 0"),
        "default: {r:?}"
    );
    assert!(ok(&admin.call(&[
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "normal 4mb 0 0"
    ])));
    let big = vec![b'x'; 256 << 10];
    admin.send_args(&[b"SET", b"big", &big]);
    assert!(ok(&admin.read().unwrap()));

    // 4 copies (1 MiB): within the limit, streamed in full.
    let mut fine = Raw::connect(&server);
    let mut args: Vec<&[u8]> = vec![b"MGET"];
    args.extend(std::iter::repeat_n(&b"big"[..], 4));
    fine.send_args(&args);
    match fine.read() {
        Some(Frame::Array(items)) => {
            assert_eq!(items.len(), 4);
            assert!(items
                .iter()
                .all(|i| matches!(i, Frame::Bulk(b) if b.len() == big.len())));
        }
        other => panic!("expected the values, got {other:?}"),
    }

    // 200 copies (50 MiB): over the hard limit.
    let mut greedy = Raw::connect(&server);
    let mut args: Vec<&[u8]> = vec![b"MGET"];
    args.extend(std::iter::repeat_n(&b"big"[..], 200));
    greedy.send_args(&args);
    let e = error_text(greedy.read());
    assert!(e.contains("client-output-buffer-limit"), "{e}");
    assert!(greedy.closed());

    assert!(matches!(fine.call(&["PING"]), Frame::Simple(s) if s == "PONG"));
    assert_eq!(int(&admin.call(&["EXISTS", "big"])), 1);
}

/// Item 5: past the soft limit, a client that does not read its replies for the soft seconds is
/// closed; it never gets the whole reply.
/// The reply size is counted for every element of a stored container: a list of many small
/// strings and a few large ones is not taken for small (a sampled estimate once let its copies
/// through the hard limit, and past the streaming, in one piece).
#[test]
fn output_buffer_hard_limit_counts_every_element_of_a_container() {
    let server = start_with(1);
    let mut admin = Raw::connect(&server);
    assert!(ok(&admin.call(&[
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "normal 4mb 0 0"
    ])));
    let mut items: Vec<String> = (0..40).map(|i| format!("\"s{i}\"")).collect();
    let big = "x".repeat(1 << 20);
    items.extend((0..3).map(|_| format!("\"{big}\"")));
    let literal = format!("[{}]", items.join(", "));
    admin.send_args(&[b"SET", b"l", literal.as_bytes()]);
    assert!(ok(&admin.read().unwrap()));
    let mut greedy = Raw::connect(&server);
    let mut args: Vec<&[u8]> = vec![b"MGET"];
    args.extend(std::iter::repeat_n(&b"l"[..], 20));
    greedy.send_args(&args);
    let e = error_text(greedy.read());
    assert!(e.contains("client-output-buffer-limit"), "{e}");
    assert!(greedy.closed());
    assert!(ok(&admin.call(&["SET", "k", "v"])));
}

#[test]
fn output_buffer_soft_limit_closes_a_client_that_does_not_read() {
    let server = start_with(1);
    let mut admin = Raw::connect(&server);
    assert!(ok(&admin.call(&[
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "normal 0 1mb 1"
    ])));
    let big = vec![b'x'; 256 << 10];
    admin.send_args(&[b"SET", b"big", &big]);
    assert!(ok(&admin.read().unwrap()));
    let mut slow = Raw::connect(&server);
    let mut args: Vec<&[u8]> = vec![b"MGET"];
    args.extend(std::iter::repeat_n(&b"big"[..], 200));
    slow.send_args(&args);
    std::thread::sleep(Duration::from_millis(2500));
    let mut got = 0usize;
    let mut chunk = vec![0u8; 1 << 20];
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        match slow.stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    assert!(got < 200 * big.len(), "the whole reply came ({got} bytes)");
    assert!(matches!(admin.call(&["PING"]), Frame::Simple(s) if s == "PONG"));
}

/// Item 5: a reply far larger than the write buffer arrives whole and in order, pieces of it
/// written as they are encoded (RESP2 and RESP3; the server's memory is checked in
/// crates/okdb/tests/limits.rs).
#[test]
fn large_replies_stream_whole() {
    let server = start_with(1);
    let mut c = Raw::connect(&server);
    for i in 0..3 {
        let v = vec![b'a' + i as u8; 300 << 10];
        c.send_args(&[b"SET", format!("k{i}").as_bytes(), &v]);
        assert!(ok(&c.read().unwrap()));
    }
    for proto in ["2", "3"] {
        c.call(&["HELLO", proto]);
        let keys: Vec<String> = (0..60).map(|i| format!("k{}", i % 3)).collect();
        let mut words = vec!["MGET"];
        words.extend(keys.iter().map(String::as_str));
        // Pipelined with a PING after it: the order of replies holds across the pieces.
        c.send(&words);
        c.send(&["PING"]);
        match c.read() {
            Some(Frame::Array(items)) => {
                assert_eq!(items.len(), 60);
                for (i, item) in items.iter().enumerate() {
                    let want = b'a' + (i % 3) as u8;
                    assert!(
                        matches!(item, Frame::Bulk(b) if b.len() == 300 << 10 && b.iter().all(|&x| x == want)),
                        "item {i}"
                    );
                }
            }
            other => panic!("expected the values, got {other:?}"),
        }
        assert!(matches!(c.read(), Some(Frame::Simple(s)) if s == "PONG"));
    }
}

/// Item 6: a pipeline of slow commands does not hold the store's lock for the whole batch:
/// another client's writes land between them (both clients on the same io thread, the hardest
/// case), and every reply still comes in order.
#[test]
fn a_pipeline_releases_the_lock_between_commands() {
    let server = start_with(1);
    let mut fill = Raw::connect(&server);
    for chunk in 0..20 {
        let mut words = vec!["MSET".to_string()];
        for i in 0..1000 {
            words.push(format!("key:{chunk}:{i}"));
            words.push("v".into());
        }
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        assert!(ok(&fill.call(&words)));
    }
    assert!(ok(&fill.call(&["SET", "counter", "0"])));

    let addr = server.addr;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut stream = TcpStream::connect(addr).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(20)))
                .unwrap();
            let started = Instant::now();
            let mut n = 0;
            let mut reply = [0u8; 64];
            while !done.load(Relaxed) && started.elapsed() < Duration::from_secs(20) && n < 200_000
            {
                stream.write_all(b"INCR counter\r\n").unwrap();
                let _ = stream.read(&mut reply).unwrap();
                n += 1;
            }
            n
        })
    };
    // Let the writer get going, then send 20 × (KEYS *, GET counter) in one write.
    let wait = Instant::now();
    while int(&fill.call(&["GET", "counter"])) == 0 && wait.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut pipeline = Vec::new();
    for _ in 0..20 {
        encode_command(&[b"KEYS", b"*"], &mut pipeline);
        encode_command(&[b"GET", b"counter"], &mut pipeline);
    }
    fill.send_raw(&pipeline);
    let mut seen = Vec::new();
    for _ in 0..20 {
        match fill.read() {
            Some(Frame::Array(keys)) => assert_eq!(keys.len(), 20_001),
            other => panic!("expected the keys, got {other:?}"),
        }
        seen.push(int(&fill.read().unwrap()));
    }
    done.store(true, Relaxed);
    assert!(writer.join().unwrap() > 0);
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert!(
        seen.first() < seen.last(),
        "the other client's writes never ran during the pipeline: {seen:?}"
    );
}

/// Item 7: past `client-query-buffer-total-limit` the client with the biggest unfinished
/// request is closed with an error; the others go on.
#[test]
fn total_query_buffer_limit_closes_the_biggest() {
    let server = start_with(1);
    let mut admin = Raw::connect(&server);
    let r = admin.call(&["CONFIG", "GET", "client-query-buffer-total-limit"]);
    assert!(format!("{r:?}").contains("268435456"), "default: {r:?}");
    assert!(ok(&admin.call(&[
        "CONFIG",
        "SET",
        "client-query-buffer-total-limit",
        "4mb"
    ])));
    let start_of = |n: usize| {
        let mut req = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$20000000\r\n".to_vec();
        req.resize(req.len() + n, b'x');
        req
    };
    let mut small = Raw::connect(&server);
    small.send_raw(&start_of(1 << 20));
    let mut big = Raw::connect(&server);
    big.send_raw(&start_of(5 << 19));
    // The total is 3.5 MiB; 1 MiB more from a third client passes 4 MiB: `big` goes.
    std::thread::sleep(Duration::from_millis(200));
    let mut third = Raw::connect(&server);
    third.send_raw(&start_of(1 << 20));
    let e = error_text(big.read());
    assert!(e.contains("client-query-buffer-total-limit"), "{e}");
    assert!(big.closed());
    // The others are still connected: `small` finishes its request (under the limit again).
    assert!(ok(&admin.call(&[
        "CONFIG",
        "SET",
        "client-query-buffer-total-limit",
        "256mb"
    ])));
    small.send_raw(&vec![b'y'; 20_000_000 - (1 << 20)]);
    small.send_raw(b"\r\n");
    assert!(ok(&small.read().unwrap()));
    assert!(matches!(admin.call(&["PING"]), Frame::Simple(s) if s == "PONG"));
    drop(third);
}

/// Item 7: Redis's `timeout` closes idle clients; 0 (the default) never does.
#[test]
fn idle_clients_time_out() {
    let server = start_with(1);
    let mut admin = Raw::connect(&server);
    assert_eq!(
        format!("{:?}", admin.call(&["CONFIG", "GET", "timeout"])),
        format!(
            "{:?}",
            Frame::Array(vec![Frame::Bulk("timeout".into()), Frame::Bulk("0".into())])
        )
    );
    let mut idle = Raw::connect(&server);
    assert!(matches!(idle.call(&["PING"]), Frame::Simple(_)));
    assert!(ok(&admin.call(&["CONFIG", "SET", "timeout", "1"])));
    let started = Instant::now();
    let mut busy = Raw::connect(&server);
    while started.elapsed() < Duration::from_millis(2500) {
        assert!(matches!(busy.call(&["PING"]), Frame::Simple(_)));
        assert!(matches!(admin.call(&["PING"]), Frame::Simple(_)));
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(idle.closed(), "an idle client outlived timeout");
    assert!(matches!(busy.call(&["PING"]), Frame::Simple(_)));
}

/// Item 7: a connection that sends no complete request is closed after
/// `first-request-timeout`, with an error saying so; one that has spoken is not.
#[test]
fn silent_connections_are_closed() {
    let server = start_with(1);
    let mut admin = Raw::connect(&server);
    let r = admin.call(&["CONFIG", "GET", "first-request-timeout"]);
    assert!(format!("{r:?}").contains("\"10\""), "default: {r:?}");
    assert!(ok(&admin.call(&[
        "CONFIG",
        "SET",
        "first-request-timeout",
        "1"
    ])));
    // With room to spare, a silent connection (a pool's, not used yet) stays.
    let mut pooled = Raw::connect(&server);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(matches!(pooled.call(&["PING"]), Frame::Simple(_)));
    // Crowded (more than half of maxclients taken), silent ones go.
    assert!(ok(&admin.call(&["CONFIG", "SET", "maxclients", "6"])));
    let mut silent = Raw::connect(&server);
    let mut half = Raw::connect(&server);
    half.send_raw(b"*2\r\n$4\r\nECHO\r\n$5\r\nhel");
    let started = Instant::now();
    let e = error_text(silent.read());
    assert!(e.contains("first-request-timeout"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(error_text(half.read()).contains("first-request-timeout"));
    // `admin` spoke long ago: it stays.
    assert!(matches!(admin.call(&["PING"]), Frame::Simple(_)));
}

/// Item 10: a large literal is read before the store's lock and off the io thread: a client on
/// the same io thread keeps being answered while it is read, and the value is the same as
/// reading it under the lock would give.
#[test]
fn large_literals_are_read_outside_the_lock() {
    let server = start_with(1);
    let mut c = Raw::connect(&server);
    let mut literal = String::from("[");
    for i in 0..40_000 {
        if i > 0 {
            literal.push(',');
        }
        literal.push_str(&format!("{{\"n\":{i},\"s\":[{i},\"x\"]}}"));
    }
    literal.push(']');
    let addr = server.addr;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pinger = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut stream = TcpStream::connect(addr).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            let mut worst = Duration::ZERO;
            let mut reply = [0u8; 16];
            let started = Instant::now();
            while !done.load(Relaxed) && started.elapsed() < Duration::from_secs(30) {
                let t = Instant::now();
                stream.write_all(b"PING\r\n").unwrap();
                let _ = stream.read(&mut reply).unwrap();
                worst = worst.max(t.elapsed());
                std::thread::sleep(Duration::from_millis(2));
            }
            worst
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    let t = Instant::now();
    c.send_args(&[b"SET", b"big", literal.as_bytes()]);
    assert!(ok(&c.read().unwrap()));
    let took = t.elapsed();
    done.store(true, Relaxed);
    let worst = pinger.join().unwrap();
    eprintln!("the literal took {took:?}; the worst PING {worst:?}");
    // Read under the lock, a PING waits about as long as the literal takes; read before it,
    // much less (the bound leaves room for a loaded machine).
    assert!(
        worst < took * 2 / 3,
        "a PING waited {worst:?} while the literal took {took:?}"
    );
    assert!(matches!(c.call(&["TYPE", "big"]), Frame::Simple(s) if s == "list"));
    // Same value as a small literal read under the lock; strict mode's errors are the same too.
    c.send_args(&[b"SET", b"small", b"[{\"n\":1,\"s\":[1,\"x\"]}]"]);
    assert!(ok(&c.read().unwrap()));
    let r = c.call(&["GET", "big"]);
    let Frame::Bulk(text) = r else {
        panic!("{r:?}")
    };
    assert!(text.starts_with(b"[{\"n\":0,\"s\":[0,\"x\"]},{\"n\":1,"));
    assert!(matches!(
        c.call(&["CLIENT", "LITERALS", "strict"]),
        Frame::Simple(_)
    ));
    let mut broken = literal.clone().into_bytes();
    broken.pop();
    c.send_args(&[b"SET", b"bad", &broken]);
    let e = error_text(c.read());
    c.send_args(&[b"SET", b"bad", b"[1,2"]);
    let small_e = error_text(c.read());
    assert_eq!(e.split(':').next(), small_e.split(':').next());
    assert_eq!(int(&c.call(&["EXISTS", "bad"])), 0);
}

/// Item 11: an HTTP request sent to the RESP port (a browser page, a proxy) is cut off at its
/// `POST` or `Host:` line, so commands hidden in its body never run.
/// A literal read ahead of the lock is used only under the mode it was read with: a
/// `CLIENT LITERALS strict` earlier in the same pipeline makes the command read it again.
#[test]
fn a_literal_mode_change_inside_a_pipeline_is_respected() {
    let server = start_with(1);
    let mut c = Raw::connect(&server);
    let body = "y".repeat(100_000);
    let quoted = format!("'{body}'");
    let command = |args: &[&[u8]]| {
        let mut out = Vec::new();
        encode_command(args, &mut out);
        out
    };
    // One write: faithful `SET`, then strict, then the same `SET` again.
    let mut pipeline = command(&[b"SET", b"faithful", quoted.as_bytes()]);
    pipeline.extend(command(&[b"CLIENT", b"LITERALS", b"strict"]));
    pipeline.extend(command(&[b"SET", b"strict", quoted.as_bytes()]));
    c.send_raw(&pipeline);
    for _ in 0..3 {
        assert!(ok(&c.read().unwrap()));
    }
    assert_eq!(
        int(&c.call(&["STRLEN", "faithful"])),
        quoted.len() as i64,
        "faithful keeps the quotes"
    );
    assert_eq!(
        int(&c.call(&["STRLEN", "strict"])),
        body.len() as i64,
        "strict reads the quoted string"
    );
}

#[test]
fn cross_protocol_requests_close_the_connection() {
    let server = start_with(1);
    let mut http = Raw::connect(&server);
    http.send_raw(
        b"POST / HTTP/1.1\r\nHost: localhost:6379\r\nContent-Type: text/plain\r\n\
          Content-Length: 24\r\n\r\nSET pwned_by_browser 1\r\n",
    );
    assert!(http.closed());
    let mut get = Raw::connect(&server);
    get.send_raw(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\nSET pwned_by_get 1\r\n");
    // `GET / HTTP/1.1` is an ordinary GET of two keys: its reply, then the close at `Host:`.
    assert!(get.read().is_some());
    assert!(get.closed());
    let mut c = Raw::connect(&server);
    assert_eq!(
        int(&c.call(&["EXISTS", "pwned_by_browser", "pwned_by_get"])),
        0
    );
}
