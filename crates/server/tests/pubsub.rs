//! Pub/sub, keyspace notifications and the change feed through a real server (no journal
//! here: the feed starts with the first listener; okdb/tests/changefeed.rs has the journal).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use okdb_resp::Frame;

mod common;
use common::{start_with, Raw};

fn call(c: &mut Raw, args: &[&str]) -> Frame {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    c.send_args(&a);
    c.read().expect("a reply")
}

fn text(f: &Frame) -> String {
    match f {
        Frame::Bulk(b) => String::from_utf8_lossy(b).into(),
        Frame::Simple(s) => s.clone(),
        Frame::Integer(i) => i.to_string(),
        Frame::Null => "nil".into(),
        other => format!("{other:?}"),
    }
}

/// The items of a push (RESP3) or of the array RESP2 gives for one.
fn items(f: &Frame) -> Vec<Frame> {
    match f {
        Frame::Push(v) | Frame::Array(v) => v.clone(),
        other => panic!("not a push: {other:?}"),
    }
}

fn words(f: &Frame) -> Vec<String> {
    items(f).iter().map(text).collect()
}

/// A change message of the feed as field → value.
fn change(f: &Frame) -> HashMap<String, Frame> {
    let it = items(f);
    assert_eq!(text(&it[0]), "change", "{f:?}");
    match &it[1] {
        Frame::Map(pairs) => pairs.iter().map(|(k, v)| (text(k), v.clone())).collect(),
        Frame::Array(flat) => flat
            .chunks(2)
            .map(|p| (text(&p[0]), p[1].clone()))
            .collect(),
        other => panic!("{other:?}"),
    }
}

fn hello3(c: &mut Raw) {
    assert!(matches!(call(c, &["HELLO", "3"]), Frame::Map(_)));
}

#[test]
fn messages_reach_channel_and_pattern_subscribers_in_both_protocols() {
    let server = start_with(0);
    for proto in [2, 3] {
        let mut sub = Raw::connect(&server);
        let mut publisher = Raw::connect(&server);
        if proto == 3 {
            hello3(&mut sub);
        }
        assert_eq!(
            words(&call(&mut sub, &["SUBSCRIBE", "news"])),
            ["subscribe", "news", "1"]
        );
        assert_eq!(
            words(&call(&mut sub, &["PSUBSCRIBE", "n*"])),
            ["psubscribe", "n*", "2"]
        );
        assert_eq!(
            call(&mut publisher, &["PUBLISH", "news", "hi"]),
            Frame::Integer(2)
        );
        assert_eq!(words(&sub.read().unwrap()), ["message", "news", "hi"]);
        assert_eq!(
            words(&sub.read().unwrap()),
            ["pmessage", "n*", "news", "hi"]
        );
        assert_eq!(
            call(&mut publisher, &["PUBLISH", "other", "x"]),
            Frame::Integer(0)
        );
        if proto == 2 {
            // RESP2's subscribed state takes only subscription commands, PING, QUIT, RESET.
            let e = call(&mut sub, &["GET", "k"]);
            assert!(
                matches!(&e, Frame::Error(m) if m.contains("Can't execute 'get'")),
                "{e:?}"
            );
            assert_eq!(words(&call(&mut sub, &["PING"])), ["pong", ""]);
        } else {
            // RESP3 takes any command, and a message to itself comes before the reply.
            assert_eq!(call(&mut sub, &["GET", "k"]), Frame::Null);
            sub.send_args(&[b"PUBLISH", b"news", b"self"]);
            assert_eq!(words(&sub.read().unwrap()), ["message", "news", "self"]);
            assert_eq!(
                words(&sub.read().unwrap()),
                ["pmessage", "n*", "news", "self"]
            );
            assert_eq!(sub.read().unwrap(), Frame::Integer(2));
        }
        let numsub = call(&mut publisher, &["PUBSUB", "NUMSUB", "news", "none"]);
        assert_eq!(text(&items(&numsub)[1]), "1");
        assert_eq!(
            call(&mut publisher, &["PUBSUB", "NUMPAT"]),
            Frame::Integer(1)
        );
        // Unsubscribing from all confirms each, then the connection is a normal one again.
        sub.send_args(&[b"UNSUBSCRIBE"]);
        assert_eq!(words(&sub.read().unwrap()), ["unsubscribe", "news", "1"]);
        sub.send_args(&[b"PUNSUBSCRIBE"]);
        assert_eq!(words(&sub.read().unwrap()), ["punsubscribe", "n*", "0"]);
        assert_eq!(call(&mut sub, &["PING"]), Frame::Simple("PONG".into()));
        assert_eq!(
            call(&mut publisher, &["PUBLISH", "news", "x"]),
            Frame::Integer(0)
        );
        // A subscriber that goes away is forgotten.
        call(&mut sub, &["SUBSCRIBE", "gone"]);
        drop(sub);
        let deadline = Instant::now() + Duration::from_secs(5);
        while call(&mut publisher, &["PUBLISH", "gone", "x"]) != Frame::Integer(0) {
            assert!(
                Instant::now() < deadline,
                "the closed subscriber still counts"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[test]
fn keyspace_notifications_name_each_change() {
    let server = start_with(0);
    let mut c = Raw::connect(&server);
    let mut sub = Raw::connect(&server);
    call(&mut sub, &["PSUBSCRIBE", "__key*__:*"]);
    // Off by default: nothing is published.
    call(&mut c, &["SET", "quiet", "1"]);
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "KEA"]),
        Frame::Simple("OK".into())
    );
    assert_eq!(
        text(&items(&call(&mut c, &["CONFIG", "GET", "notify-keyspace-events"]))[1]),
        "AKE"
    );
    let e = call(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "KQ"]);
    assert!(matches!(e, Frame::Error(_)), "{e:?}");
    for cmd in [
        "SET k v EX 100",
        "INCR n",
        "RPUSH l a",
        "LPOP l",
        "SREM s nothing",
        "RENAME k k2",
        "DEL k2",
    ] {
        call(&mut c, &cmd.split(' ').collect::<Vec<_>>());
    }
    let want = [
        ("__keyspace@0__:k", "set"),
        ("__keyevent@0__:set", "k"),
        ("__keyspace@0__:k", "expire"),
        ("__keyevent@0__:expire", "k"),
        ("__keyspace@0__:n", "incrby"),
        ("__keyevent@0__:incrby", "n"),
        ("__keyspace@0__:l", "rpush"),
        ("__keyevent@0__:rpush", "l"),
        ("__keyspace@0__:l", "lpop"),
        ("__keyevent@0__:lpop", "l"),
        ("__keyspace@0__:l", "del"),
        ("__keyevent@0__:del", "l"),
        ("__keyspace@0__:k", "rename_from"),
        ("__keyevent@0__:rename_from", "k"),
        ("__keyspace@0__:k2", "rename_to"),
        ("__keyevent@0__:rename_to", "k2"),
        ("__keyspace@0__:k2", "del"),
        ("__keyevent@0__:del", "k2"),
    ];
    for (channel, payload) in want {
        let m = words(&sub.read().unwrap());
        assert_eq!((m[2].as_str(), m[3].as_str()), (channel, payload), "{m:?}");
    }
    // A script that fails is undone and notifies nothing; one that commits notifies.
    let e = call(&mut c, &["RUN", "SET('a', 1); 1 / 0"]);
    assert!(matches!(e, Frame::Error(_)));
    call(&mut c, &["RUN", "SET('b', 1)"]);
    let m = words(&sub.read().unwrap());
    assert_eq!((m[2].as_str(), m[3].as_str()), ("__keyspace@0__:b", "set"));
}

#[test]
fn listen_sends_each_change_with_its_op_value_and_seq() {
    let server = start_with(0);
    for proto in [2, 3] {
        let mut w = Raw::connect(&server);
        call(&mut w, &["FLUSHALL"]);
        let mut l = Raw::connect(&server);
        if proto == 3 {
            hello3(&mut l);
        }
        let start = call(&mut l, &["LISTEN", "user:*", "t*"]);
        let from: i64 = text(&items(&start)[1]).parse().unwrap();
        let cmds: &[&[&str]] = &[
            &["SET", "user:1", "{\"name\": \"ann\"}"],
            &["SET", "other", "x"],
            &["INCR", "user:n"],
            &["RPUSH", "user:l", "a", "b"],
            &["LPOP", "user:l"],
            &["EXPIRE", "user:n", "100"],
            &["RENAME", "user:n", "t2"],
            &["DEL", "t2"],
            &[
                "RUN",
                "SET('user:a', 1); SET('x', 2); SET('user:b', [1, 2])",
            ],
            &["MULTI"],
            &["SET", "user:m1", "1"],
            &["SET", "user:m2", "2"],
            &["EXEC"],
            &["SET", "temp", "1", "PX", "30"],
        ];
        for c in cmds {
            call(&mut w, c);
        }
        // Another keyspace is not followed (the connection's own, unless KEYSPACE says).
        call(&mut w, &["USE", "elsewhere"]);
        call(&mut w, &["SET", "user:9", "no"]);
        std::thread::sleep(Duration::from_millis(60));
        call(&mut w, &["USE", "0"]);
        call(&mut w, &["GET", "temp"]); // gone by now: its expiry is a change too
        let want = [
            ("user:1", "set"),
            ("user:n", "incrby"),
            ("user:l", "rpush"),
            ("user:l", "lpop"),
            ("user:n", "expire"),
            ("user:n", "rename_from"),
            ("t2", "rename_to"),
            ("t2", "del"),
            ("user:a", "set"),
            ("user:b", "set"),
            ("user:m1", "set"),
            ("user:m2", "set"),
            ("temp", "set"),
            ("temp", "expired"),
        ];
        let mut seqs = Vec::new();
        for (key, op) in want {
            let m = change(&l.read().unwrap());
            assert_eq!(
                (text(&m["key"]).as_str(), text(&m["op"]).as_str()),
                (key, op),
                "{m:?}"
            );
            assert_eq!(text(&m["keyspace"]), "0");
            seqs.push((text(&m["seq"]).parse::<i64>().unwrap(), text(&m["index"])));
            match (key, op) {
                ("user:1", _) if proto == 3 => {
                    assert!(matches!(&m["value"], Frame::Map(_)), "{m:?}")
                }
                // A complete JSON literal is stored as a value: RESP2 gives its typed JSON.
                ("user:1", _) => assert_eq!(text(&m["value"]), "{\"name\":\"ann\"}"),
                ("user:l", "lpop") if proto == 3 => {
                    assert_eq!(m["value"], Frame::Array(vec![Frame::Bulk("b".into())]))
                }
                (_, "del") | (_, "expired") => assert!(!m.contains_key("value")),
                (_, "expire") => assert!(text(&m["expire_at"]).parse::<u64>().unwrap() > 0),
                _ => {}
            }
        }
        // Seqs rise from the LISTEN on; the script's two changes share one, numbered.
        assert!(seqs[0].0 > from);
        assert!(seqs.windows(2).all(|p| p[0].0 <= p[1].0), "{seqs:?}");
        assert_eq!(seqs[8].0, seqs[9].0);
        // Numbered among all the write's changes (`x`, not followed here, was 1).
        assert_eq!((seqs[8].1.as_str(), seqs[9].1.as_str()), ("0", "2"));
        // A MULTI/EXEC is one write too.
        assert_eq!(seqs[10].0, seqs[11].0);
        assert_eq!((seqs[10].1.as_str(), seqs[11].1.as_str()), ("0", "1"));
        assert!(seqs[11].0 < seqs[12].0);
        if proto == 2 {
            call(&mut l, &["RESET"]);
        }
    }
}

/// Reads change messages until `until` seq has been seen (or the connection ends).
fn read_until(c: &mut Raw, until: i64, got: &mut Vec<(i64, String)>) -> bool {
    while got.last().is_none_or(|g| g.0 < until) {
        let Some(f) = c.read() else { return false };
        let m = change(&f);
        got.push((text(&m["seq"]).parse().unwrap(), text(&m["key"])));
    }
    true
}

#[test]
fn listen_from_a_seq_resumes_without_gap_or_duplicate() {
    let server = start_with(0);
    let mut reference = Raw::connect(&server);
    hello3(&mut reference);
    call(&mut reference, &["LISTEN", "*", "NOVALUES"]);
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let addr = server.addr;
            std::thread::spawn(move || {
                let mut c = std::net::TcpStream::connect(addr).unwrap();
                let mut buf = Vec::new();
                for i in 0..2000 {
                    let cmd = format!("*3\r\n$3\r\nSET\r\n$6\r\nk{w}{i:04}\r\n$1\r\nv\r\n");
                    std::io::Write::write_all(&mut c, cmd.as_bytes()).unwrap();
                    buf.resize(5, 0);
                    std::io::Read::read_exact(&mut c, &mut buf).unwrap();
                }
            })
        })
        .collect();
    // A listener that drops its connection at random moments and resumes from the last seq
    // it got.
    let mut rng = fastrand::Rng::with_seed(7);
    let mut flaky_got: Vec<(i64, String)> = Vec::new();
    let mut last = 0i64;
    let mut rounds = 0;
    while flaky_got.len() < 6000 {
        rounds += 1;
        assert!(rounds < 1000, "the flaky listener made no progress");
        let mut c = Raw::connect(&server);
        hello3(&mut c);
        let from = last.to_string();
        let ok = call(&mut c, &["LISTEN", "*", "NOVALUES", "FROM", &from]);
        assert_eq!(text(&items(&ok)[0]), "listen", "{ok:?}");
        for _ in 0..rng.usize(1..400) {
            if flaky_got.len() >= 6000 {
                break;
            }
            let m = change(&c.read().unwrap());
            let seq: i64 = text(&m["seq"]).parse().unwrap();
            flaky_got.push((seq, text(&m["key"])));
            last = seq;
        }
    }
    for w in writers {
        w.join().unwrap();
    }
    let mut reference_got = Vec::new();
    read_until(
        &mut reference,
        flaky_got.last().unwrap().0,
        &mut reference_got,
    );
    assert_eq!(flaky_got.len(), 6000);
    assert_eq!(
        reference_got, flaky_got,
        "the resumed feed differs from the live one"
    );
    let mut keys: Vec<&String> = flaky_got.iter().map(|(_, k)| k).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 6000, "a change missing or repeated");
}

#[test]
fn a_listener_that_falls_behind_is_told_where_to_resume_or_closed() {
    let server = start_with(0);
    let mut w = Raw::connect(&server);
    call(
        &mut w,
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 256kb 0 0",
        ],
    );
    call(&mut w, &["CONFIG", "SET", "feed-retention-bytes", "0"]);
    let mut l = Raw::connect(&server);
    call(&mut l, &["LISTEN", "*"]);
    let value = "x".repeat(4096);
    for i in 0..2000 {
        call(&mut w, &["SET", &format!("k{i}"), &value]);
    }
    // It never read: it is closed (possibly mid-message: a client resumes from the last seq
    // it processed).
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut closed = false;
    while Instant::now() < deadline {
        if l.read().is_none() {
            closed = true;
            break;
        }
    }
    assert!(closed, "the stalled listener was not closed");
    // The feed kept nothing beyond its retention: an old seq is refused, naming the oldest.
    let mut again = Raw::connect(&server);
    let e = call(&mut again, &["LISTEN", "*", "FROM", "1"]);
    assert!(
        matches!(&e, Frame::Error(m) if m.contains("older than the feed keeps")),
        "{e:?}"
    );
}

#[test]
fn a_subscriber_that_stops_reading_is_closed_at_its_output_limit() {
    let server = start_with(0);
    let mut p = Raw::connect(&server);
    call(
        &mut p,
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 256kb 0 0",
        ],
    );
    let mut sub = Raw::connect(&server);
    call(&mut sub, &["SUBSCRIBE", "c"]);
    let payload = "y".repeat(8192);
    let deadline = Instant::now() + Duration::from_secs(20);
    // Until the server gives up on it, each PUBLISH reaches it.
    let mut dropped = false;
    for _ in 0..10_000 {
        if call(&mut p, &["PUBLISH", "c", &payload]) == Frame::Integer(0) {
            dropped = true;
            break;
        }
        if Instant::now() > deadline {
            break;
        }
    }
    assert!(dropped, "the subscriber was never dropped");
    assert_eq!(call(&mut p, &["PING"]), Frame::Simple("PONG".into()));
}
