//! Waiting pops through a real server: first come first served, timeouts, disconnects, keys
//! that are deleted, retyped or renamed into place, pipelines behind a parked command, and
//! `CLIENT UNBLOCK`. Every wait here is bounded (a timeout or a write that serves it).

use std::time::{Duration, Instant};

use okdb_resp::Frame;

mod common;
use common::Raw;

fn call(c: &mut Raw, args: &[&str]) -> Frame {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    c.send_args(&args);
    c.read().expect("a reply")
}

fn send(c: &mut Raw, args: &[&str]) {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    c.send_args(&args);
}

fn bulk(s: &str) -> Frame {
    Frame::Bulk(s.as_bytes().to_vec().into())
}

fn blocked_clients(c: &mut Raw) -> usize {
    let Frame::Bulk(info) = call(c, &["INFO", "clients"]) else {
        panic!("INFO answers text");
    };
    let text = String::from_utf8_lossy(&info).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("blocked_clients in INFO clients")
}

/// Waits (at most 10 s) until `n` clients are parked.
fn wait_blocked(c: &mut Raw, n: usize) {
    let start = Instant::now();
    while blocked_clients(c) != n {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never saw {n} blocked clients"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn waiters_are_served_first_come_first_served_by_the_write_that_feeds_them() {
    let server = common::start_with(0);
    let mut admin = Raw::connect(&server);
    let mut waiters: Vec<Raw> = (0..50).map(|_| Raw::connect(&server)).collect();
    for (i, w) in waiters.iter_mut().enumerate() {
        send(w, &["BLPOP", "q", "0"]);
        wait_blocked(&mut admin, i + 1);
    }
    let items: Vec<String> = (0..50).map(|i| format!("item{i}")).collect();
    let mut push = vec!["RPUSH", "q"];
    push.extend(items.iter().map(String::as_str));
    assert_eq!(call(&mut admin, &push), Frame::Integer(50));
    for (i, w) in waiters.iter_mut().enumerate() {
        assert_eq!(
            w.read().unwrap(),
            Frame::Array(vec![bulk("q"), bulk(&items[i])]),
            "waiter {i}"
        );
    }
    assert_eq!(blocked_clients(&mut admin), 0);
    assert_eq!(call(&mut admin, &["EXISTS", "q"]), Frame::Integer(0));
}

#[test]
fn a_wait_ends_at_its_timeout_and_a_closed_waiter_takes_nothing() {
    let server = common::start_with(0);
    let mut admin = Raw::connect(&server);
    let mut w = Raw::connect(&server);
    let start = Instant::now();
    assert_eq!(call(&mut w, &["BRPOP", "q", "0.2"]), Frame::Null);
    assert!(start.elapsed() >= Duration::from_millis(150));
    assert_eq!(blocked_clients(&mut admin), 0);

    // A waiter that disconnects leaves the queue: the next push stays in the list.
    let mut gone = Raw::connect(&server);
    send(&mut gone, &["BLPOP", "q", "0"]);
    wait_blocked(&mut admin, 1);
    drop(gone);
    wait_blocked(&mut admin, 0);
    call(&mut admin, &["RPUSH", "q", "kept"]);
    assert_eq!(call(&mut admin, &["LLEN", "q"]), Frame::Integer(1));
}

#[test]
fn deleting_or_retyping_a_key_wakes_no_one_and_renaming_a_list_into_place_does() {
    let server = common::start_with(0);
    let mut admin = Raw::connect(&server);
    let mut w = Raw::connect(&server);
    send(&mut w, &["BLPOP", "q", "0"]);
    wait_blocked(&mut admin, 1);
    call(&mut admin, &["SET", "q", "text"]);
    call(&mut admin, &["DEL", "q"]);
    assert_eq!(blocked_clients(&mut admin), 1);
    call(&mut admin, &["RPUSH", "tmp", "a", "b"]);
    call(&mut admin, &["RENAME", "tmp", "q"]);
    assert_eq!(w.read().unwrap(), Frame::Array(vec![bulk("q"), bulk("a")]));
    // The connection goes on as usual.
    assert_eq!(
        call(&mut w, &["LRANGE", "q", "0", "-1"]),
        Frame::Array(vec![bulk("b")])
    );
}

#[test]
fn commands_pipelined_behind_a_parked_one_wait_for_it() {
    let server = common::start_with(0);
    let mut admin = Raw::connect(&server);
    let mut w = Raw::connect(&server);
    w.send_raw(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nLLEN\r\n$1\r\nq\r\n");
    wait_blocked(&mut admin, 1);
    call(&mut admin, &["RPUSH", "q", "x", "y"]);
    assert_eq!(w.read().unwrap(), Frame::Array(vec![bulk("q"), bulk("x")]));
    assert_eq!(w.read().unwrap(), Frame::Simple("PONG".into()));
    assert_eq!(w.read().unwrap(), Frame::Integer(1));
}

#[test]
fn client_unblock_ends_a_wait_as_a_timeout_or_an_error() {
    let server = common::start_with(0);
    let mut admin = Raw::connect(&server);
    let mut w = Raw::connect(&server);
    let Frame::Integer(id) = call(&mut w, &["CLIENT", "ID"]) else {
        panic!("an id");
    };
    let id = id.to_string();
    send(&mut w, &["BLPOP", "q", "0"]);
    wait_blocked(&mut admin, 1);
    assert_eq!(
        call(&mut admin, &["CLIENT", "UNBLOCK", &id]),
        Frame::Integer(1)
    );
    assert_eq!(w.read().unwrap(), Frame::Null);
    send(&mut w, &["BZPOPMIN", "z", "0"]);
    wait_blocked(&mut admin, 1);
    assert_eq!(
        call(&mut admin, &["CLIENT", "UNBLOCK", &id, "ERROR"]),
        Frame::Integer(1)
    );
    assert_eq!(
        w.read().unwrap(),
        Frame::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK".into())
    );
    assert_eq!(
        call(&mut admin, &["CLIENT", "UNBLOCK", &id]),
        Frame::Integer(0)
    );
}

#[test]
fn sorted_set_and_native_waits_and_moves_are_served_too() {
    let server = common::start_with(0);
    let mut admin = Raw::connect(&server);
    let mut z = Raw::connect(&server);
    let mut native = Raw::connect(&server);
    let mut mover = Raw::connect(&server);
    send(&mut z, &["BZPOPMAX", "z", "5"]);
    send(&mut native, &["POPLEFT", "n", "WAIT", "5"]);
    send(&mut mover, &["BLMOVE", "src", "dst", "LEFT", "RIGHT", "5"]);
    wait_blocked(&mut admin, 3);
    call(&mut admin, &["ZADD", "z", "1", "a", "2", "b"]);
    call(&mut admin, &["PUSHLEFT", "n", "x"]);
    call(&mut admin, &["RPUSH", "src", "m"]);
    assert_eq!(
        z.read().unwrap(),
        Frame::Array(vec![bulk("z"), bulk("b"), bulk("2")])
    );
    assert_eq!(
        native.read().unwrap(),
        Frame::Array(vec![bulk("n"), bulk("x")])
    );
    assert_eq!(mover.read().unwrap(), bulk("m"));
    assert_eq!(
        call(&mut admin, &["LRANGE", "dst", "0", "-1"]),
        Frame::Array(vec![bulk("m")])
    );
    // A native pop keeps the emptied list, as native verbs do.
    assert_eq!(call(&mut admin, &["EXISTS", "n"]), Frame::Integer(1));
}
