//! Table-driven tests of the command families: each case is a `;`-separated script and the
//! rendering of its last reply (or of every reply, with `check_all`).

use bytes::Bytes;

use crate::{Config, Engine, Reply, Session};

/// Renders a reply compactly: values as typed JSON, errors with their prefix.
fn render(r: &Reply) -> String {
    match r {
        Reply::Ok => "OK".into(),
        Reply::Status(s) => s.to_string(),
        Reply::Int(i) => i.to_string(),
        Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        Reply::Text(t) => t.clone(),
        Reply::Null | Reply::NullArray => "nil".into(),
        Reply::Double(d) => d.to_string(),
        Reply::Bool(b) => b.to_string(),
        Reply::Value(v) => v.to_string(),
        Reply::Error(e) => e.to_string(),
        Reply::Message(m) => format!("{m:?}"),
        Reply::Values(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) | Reply::Many(items) => {
            format!(
                "[{}]",
                items.iter().map(render).collect::<Vec<_>>().join(", ")
            )
        }
        Reply::Map(pairs) => format!(
            "{{{}}}",
            pairs
                .iter()
                .map(|(k, v)| format!("{}: {}", render(k), render(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Splits a test command on spaces (test literals are written without spaces).
fn run(engine: &Engine, session: &mut Session, script: &str) -> Vec<String> {
    script
        .split(';')
        .map(|cmd| {
            let args: Vec<Bytes> = cmd
                .split_whitespace()
                .map(|s| Bytes::copy_from_slice(s.as_bytes()))
                .collect();
            // These tests check the stored type: `TYPE` (upper case) is run as a strict client,
            // which gets okdb's names; `type` runs as sent (`type_names_for_redis_clients`).
            let literals = session.literals;
            let is_type = args.first().is_some_and(|a| a == "TYPE");
            if is_type {
                session.literals = okdb_value::literal::Literals::Strict;
            }
            let mut reply = engine
                .lock()
                .execute(session, &crate::args::borrowed(&args));
            if let Some(mut pending) = session.pending_auth.take() {
                // What the server does: verify off the lock, then finish.
                pending.verify();
                reply = engine.finish_auth(session, pending);
            }
            let reply = render(&reply);
            if is_type {
                session.literals = literals;
            }
            reply
        })
        .collect()
}

#[test]
fn type_names_for_redis_clients() {
    check_all(
        "SET i 5; SET d {\"a\":1}; LPUSH l x; SADD s x; ZADD z 1 x; type i d l s z none",
        &[
            "OK",
            "OK",
            "1",
            "1",
            "1",
            "[string, hash, list, set, zset, none]",
        ],
    );
    check_all("SET a 1 b x; SCAN 0 TYPE string", &["OK", "[0, [b, a]]"]);
    check_all("SET a 1 b x; SCAN 0 TYPE int", &["OK", "[0, [a]]"]);
}

fn check(script: &str, want: &str) {
    let engine = Engine::new(Config::default());
    let mut s = engine.connect("test".into()).unwrap();
    let out = run(&engine, &mut s, script);
    assert_eq!(
        out.last().unwrap(),
        want,
        "script: {script}\nall replies: {out:?}"
    );
}

fn check_all(script: &str, want: &[&str]) {
    let engine = Engine::new(Config::default());
    let mut s = engine.connect("test".into()).unwrap();
    assert_eq!(run(&engine, &mut s, script), want, "script: {script}");
}

/// As [`check`], on a connection that asked for strict literals (`CLIENT LITERALS strict`).
fn check_strict(script: &str, want: &str) {
    check(&format!("CLIENT LITERALS strict; {script}"), want);
}

/// As [`check_all`], under strict literals.
fn check_all_strict(script: &str, want: &[&str]) {
    let engine = Engine::new(Config::default());
    let mut s = engine.connect("test".into()).unwrap();
    run(&engine, &mut s, "CLIENT LITERALS strict");
    assert_eq!(run(&engine, &mut s, script), want, "script: {script}");
}

#[test]
fn set_and_get_typed_values() {
    check("SET k 5; GET k", "5");
    check("SET k 5; TYPE k", "int");
    check("SET k hello; TYPE k", "string");
    check("SET k 1.5; TYPE k", "float");
    check("SET k true; TYPE k", "bool");
    check("SET k null; TYPE k", "null");
    check("SET k [1,2,3]; TYPE k", "list");
    check("SET k {\"a\":1}; TYPE k", "dict");
    check("SET k set([1,2]); TYPE k", "set");
    check("SET k {\"$set\":[1,2]}; TYPE k", "set");
    check("SET k '\"5\"'; GET k", "\"'\\\"5\\\"'\"");
    check_strict("SET k {1,2}; TYPE k", "set");
    check_strict("SET k '\"5\"'; TYPE k", "string");
    check_strict("SET k True; TYPE k", "bool");
    check("GET missing", "nil");
    check("TYPE missing", "none");
}

#[test]
fn bulk_set_is_all_or_nothing() {
    check_all("SET a 1 b 2; GET a b c", &["OK", "[1, 2, nil]"]);
    check_strict("SET a 1 b [1,; EXISTS a b", "0");
    check("SET a 1 b [1,; GET b", "\"[1,\"");
    check("SET a 1 b", "ERR syntax error: SET takes key value pairs, or one pair followed by options (NX XX EX PX EXAT PXAT KEEPTTL GET)");
}

#[test]
fn set_options() {
    check_all("SET k 1 NX; SET k 2 NX; GET k", &["OK", "nil", "1"]);
    check_all("SET k 1 XX; GET k", &["nil", "nil"]);
    check_all("SET k 1; SET k 2 XX GET; GET k", &["OK", "1", "2"]);
    check_all("SET k 1 EX 100; TTL k", &["OK", "100"]);
    check_all("SET k 1 PX 100500; TTL k", &["OK", "101"]);
    check_all(
        "SET k 1 EX 100; SET k 2 KEEPTTL; TTL k; SET k 3; TTL k",
        &["OK", "OK", "100", "OK", "-1"],
    );
    check("SET k 1 EX 0", "ERR invalid expire time in 'set' command");
    check(
        "SET k 1 EX x",
        "ERR value is not an integer or out of range",
    );
    check("SET k 1 NX XX", "ERR syntax error");
    check("SET k 1 EX 10 PX 10", "ERR syntax error");
    check("SET k 1 EXAT 1", "OK");
    check("SET k 1 EXAT 1; GET k", "nil");
}

#[test]
fn getset_returns_old_value() {
    check_all("GETSET k 1; GETSET k [2]; GET k", &["nil", "1", "[2]"]);
}

#[test]
fn incr_and_decr() {
    check_all("INCR n; INCR n 5; DECR n 2; GET n", &["1", "6", "4", "4"]);
    check_all("INCR f 1.5; INCR f 1; TYPE f", &["1.5", "2.5", "float"]);
    check(
        "SET n 9223372036854775807; INCR n",
        "ERR increment or decrement would overflow",
    );
    check(
        "SET n -9223372036854775807; DECR n 2",
        "ERR increment or decrement would overflow",
    );
    check(
        "DECR n -9223372036854775808",
        "ERR increment or decrement would overflow",
    );
    check(
        "SET s abc; INCR s",
        "ERR value is not an integer or out of range",
    );
    check(
        "SET d {}; INCR d",
        "WRONGTYPE INCR expects int, float or string, found dict",
    );
    check("INCR n abc", "ERR value is not an integer or out of range");
    check_strict(
        "INCR n [1]",
        "ERR INCR amount must be an int or a float, got list",
    );
    // Strings are read as Redis reads numbers.
    check_all(
        "SET s '\"12\"'; INCR s",
        &["OK", "ERR value is not an integer or out of range"],
    );
    check_all_strict("SET s '12'; INCR s; TYPE s", &["OK", "13", "int"]);
    check_all(
        "SET s 1; APPEND s 2; TYPE s; INCR s",
        &["OK", "2", "string", "13"],
    );
    check(
        "SET s 007; INCR s",
        "ERR value is not an integer or out of range",
    );
    check(
        "SET f 1.5; INCRBY f 1",
        "ERR value is not an integer or out of range",
    );
    check("SET f 1.50; INCR f 1.5", "3.0");
    check_all(
        "SET f 1.50; INCRBYFLOAT f 1; GET f; TYPE f; INCRBYFLOAT f 0.5; TYPE f",
        &["OK", "2.5", "2.5", "float", "3", "int"],
    );
    check(
        "SET f 11x; INCRBYFLOAT f 1",
        "ERR value is not a valid float",
    );
    check(
        "SET f 0; INCRBYFLOAT f +inf",
        "ERR increment would produce NaN or Infinity",
    );
    check("INCRBYFLOAT f 1e20", "100000000000000000000");
    check(
        "DECRBY n -9223372036854775808",
        "ERR decrement would overflow",
    );
    check(
        "INCR n 1 2",
        "ERR wrong number of arguments for 'incr' command",
    );
    check("SET n 1 EX 100; INCR n; TTL n", "100");
    check(
        "INCR f 1e308; INCR f 1e308",
        "ERR increment would produce NaN or Infinity",
    );
}

#[test]
fn append_extend_len() {
    check_all(
        "APPEND s ab; APPEND s cd; GET s; LEN s",
        &["2", "4", "\"abcd\"", "4"],
    );
    check_all("APPEND s 5; TYPE s", &["1", "string"]);
    check_all("APPEND s héllo; STRLEN s", &["6", "6"]);
    check_all(
        "SET l [1]; APPEND l {\"a\":1}; GET l",
        &["OK", "2", "[1,{\"a\":1}]"],
    );
    check_all(
        "EXTEND l [1,2]; EXTEND l {\"$set\":[3]}; GET l; LEN l",
        &["2", "3", "[1,2,3]", "3"],
    );
    check_all_strict("SET s ab; EXTEND s \"cd\"; GET s", &["OK", "4", "\"abcd\""]);
    check_all("SET n 1; APPEND n 2; GET n", &["OK", "2", "\"12\""]);
    check_all("SET n 1.5; APPEND n x; GET n", &["OK", "4", "\"1.5x\""]);
    check(
        "SET d {}; APPEND d 2",
        "WRONGTYPE APPEND expects string, bytes, number, list or deque, found dict",
    );
    check(
        "SET l []; EXTEND l 5",
        "ERR EXTEND of a list takes a list or set of items, got int",
    );
    check(
        "SET n 1; LEN n",
        "WRONGTYPE LEN expects string, bytes, list, dict, set, sortedset, deque or pqueue, found int",
    );
    check("LEN missing", "0");
    check("SET d {\"a\":1,\"b\":2}; LEN d", "2");
    check("SET s héllo; LEN s", "5");
}

#[test]
fn key_commands() {
    check("SET a 1 b 2; DEL a b c", "2");
    check("SET a 1; EXISTS a a b", "2");
    check("SET a 1 b x; TYPE a b c", "[int, string, none]");
    check_all(
        "SET a 1 EX 100; RENAME a b; GET b; TTL b; EXISTS a",
        &["OK", "OK", "1", "100", "0"],
    );
    check("RENAME nope x", "ERR no such key");
    check("SET a 1; RENAME a a; GET a", "1");
    check("RANDOMKEY", "nil");
    check("SET a 1; RANDOMKEY", "a");
    check(
        "SET user:1 1 user:2 2 other 3; KEYS user:*",
        "[user:1, user:2]",
    );
    check("SET a 1 b 2; DBSIZE", "2");
}

#[test]
fn scan_walks_every_key() {
    let engine = Engine::new(Config::default());
    let mut s = engine.connect("t".into()).unwrap();
    let mut script = String::from("SET");
    for i in 0..25 {
        script.push_str(&format!(" k{i} {i}"));
    }
    run(&engine, &mut s, &script);
    run(&engine, &mut s, "SET other 1");
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    loop {
        let out = engine.lock().execute(
            &mut s,
            &[
                &b"SCAN"[..],
                cursor.as_bytes(),
                b"MATCH",
                b"k*",
                b"COUNT",
                b"4",
            ],
        );
        let Reply::Array(parts) = out else {
            panic!("{out:?}")
        };
        let [Reply::Bulk(c), Reply::Array(keys)] = &parts[..] else {
            panic!()
        };
        seen.extend(keys.iter().map(render));
        cursor = String::from_utf8_lossy(c).into_owned();
        if cursor == "0" {
            break;
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 25);
    check("SCAN x", "ERR invalid cursor");
    check("SCAN 0 COUNT 0", "ERR syntax error");
    check("SET a 1 b x; SCAN 0 TYPE string", "[0, [b, a]]");
}

#[test]
fn expiry() {
    check_all(
        "SET k 1; EXPIRE k 100; TTL k; PERSIST k; TTL k; PERSIST k",
        &["OK", "1", "100", "1", "-1", "0"],
    );
    check_all("SET k 1; EXPIRE k -1; EXISTS k", &["OK", "1", "0"]);
    check_all("SET k 1; EXPIRE k 1.0; GET k", &["OK", "1", "nil"]);
    check("EXPIRE missing 10", "0");
    check("TTL missing", "-2");
    check("SET a 1 EX 10; TTL a b", "[10, -2]");
    check(
        "SET k 1; EXPIRE k 2999-01-01T00:00:00Z; TTL k",
        &((32_472_144_000_000u64 - crate::time::now_ms() + 500) / 1000).to_string(),
    );
    check(
        "SET k 1; EXPIRE k soon",
        "ERR value is not an integer or out of range (nor a unix time or a date: 'soon' is not YYYYMMDDHHMMSS or ISO 8601)",
    );
    check("SET k 1; EXPIRE k [1]", "ERR expire time must be an int (seconds from now), a float (unix time) or a date string, got list");
}

#[test]
fn active_expiry_removes_keys_nobody_reads() {
    let engine = Engine::new(Config::default());
    let mut s = engine.connect("t".into()).unwrap();
    run(
        &engine,
        &mut s,
        "SET a 1 b 2 c 3; SET d 4 PXAT 1; SET e 5 PXAT 2",
    );
    // PXAT in the past is accepted by SET (as in Redis) and the key is already expired.
    let removed = engine.active_expire(std::time::Duration::from_millis(25));
    assert_eq!(removed, 2);
    assert_eq!(run(&engine, &mut s, "DBSIZE"), ["3"]);
}

#[test]
fn active_expiry_keeps_up_with_many_expired_keys() {
    let engine = Engine::new(Config::default());
    let mut s = engine.connect("t".into()).unwrap();
    let mut script = String::from("MSET");
    for i in 0..50_000 {
        script.push_str(&format!(" k{i} {i}"));
    }
    run(&engine, &mut s, &script);
    for i in 0..50_000 {
        let ms = if i % 10 == 0 { 100_000 } else { 1 };
        run(&engine, &mut s, &format!("PEXPIRE k{i} {ms}"));
    }
    std::thread::sleep(std::time::Duration::from_millis(5));
    // One generous cycle removes most of the 45,000 expired keys: it is bounded by time, not by
    // a fixed number of rounds, and stops once at most a quarter of what it samples is expired
    // (here: about 1,700 expired keys beside the 5,000 live ones that have an expiry).
    engine.active_expire(std::time::Duration::from_secs(5));
    let left: usize = run(&engine, &mut s, "DBSIZE")[0].parse().unwrap();
    assert!(left < 5_000 + 2_500, "{left} keys left");
}

#[test]
fn keyspaces() {
    check_all(
        "USING; USE users; USING; GET k; SET k 1; KEYSPACES",
        &["0", "OK", "users", "nil", "OK", "[0, users]"],
    );
    check_all(
        "SET k 0; SELECT 3; GET k; SET k 3; SELECT 0; GET k; USING",
        &["OK", "OK", "nil", "OK", "OK", "0", "0"],
    );
    check("USE new; KEYSPACES", "[0]");
    // A write that fails or does nothing creates no keyspace.
    check(
        "USE ghost; SET k v XX; EXTEND k 5; INCR k x; INCR k [1]; KEYSPACES",
        "[0]",
    );
    check_strict("USE ghost; APPEND k [1,; SET k [1,; KEYSPACES", "[0]");
    check("SELECT -1", "ERR DB index is out of range");
    check("SELECT 16", "ERR DB index is out of range");
    check("SELECT x", "ERR value is not an integer or out of range");
}

#[test]
fn connection_commands() {
    check("PING", "PONG");
    check("PING hi", "hi");
    check("ECHO hi", "hi");
    check("HELLO 4", "NOPROTO unsupported protocol version");
    check(
        "HELLO x",
        "ERR Protocol version is not an integer or out of range",
    );
    check(
        "HELLO 3 AUTH bob pw",
        "WRONGPASS invalid username-password pair or user is disabled.",
    );
    check_all("HELLO 3 SETNAME me; CLIENT GETNAME", &[
        "{server: okdb, version: 7.2.0, okdb_version: 0.1.0, proto: 3, id: 1, mode: standalone, role: master, modules: []}",
        "me",
    ]);
    let engine = Engine::new(Config::default());
    let mut s = engine.connect("t".into()).unwrap();
    let bad = engine
        .lock()
        .execute(&mut s, &[&b"CLIENT"[..], b"SETNAME", b"a b"]);
    assert_eq!(
        render(&bad),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
    check("CLIENT ID", "1");
    check("CLIENT NOPE", "ERR unknown CLIENT subcommand or wrong number of arguments: use ID, GETNAME, SETNAME name, LIST, INFO, LITERALS [strict|faithful], REPLY ON|OFF|SKIP, UNBLOCK id [TIMEOUT|ERROR] or SETINFO attr value");
}

#[test]
fn server_commands() {
    check("CONFIG GET maxclients", "{maxclients: 10000}");
    check("CONFIG GET save", "{save: }");
    check_all(
        "CONFIG SET maxclients 5; CONFIG GET maxc*",
        &["OK", "{maxclients: 5}"],
    );
    check(
        "CONFIG SET port 1",
        "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config (set it in the config file or by flag)",
    );
    check(
        "CONFIG SET nope 1",
        "ERR Unknown option or number of arguments for CONFIG SET - 'nope'",
    );
    check_all("CONFIG SET maxclients 7 hz 0; CONFIG GET maxclients", &[
        "ERR CONFIG SET failed (possibly related to argument 'hz') - argument must be a number between 1 and 500",
        "{maxclients: 10000}",
    ]);
    check("COMMAND COUNT", &crate::COMMANDS.len().to_string());
    check(
        "COMMAND INFO get nope",
        "[[get, -2, [readonly, fast], 1, -1, 1, [@values], [], [], []], nil]",
    );
    check("COMMAND DOCS ttl", "{ttl: {summary: Seconds until a key expires (-1 never, -2 missing); a list for several keys., since: 0.1.0, group: keys, syntax: TTL key [key ...]}}");
    check(
        "SET a 1; INFO keyspace",
        "# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n",
    );
}

#[test]
fn errors_name_the_problem() {
    check(
        "NOPE a b",
        "ERR unknown command 'NOPE', with args beginning with: 'a' 'b'",
    );
    check("GET", "ERR wrong number of arguments for 'get' command");
    check_strict(
        "SET k [1,2",
        "ERR invalid literal: expected ',' or ']', found the end of the text at offset 4",
    );
    // Faithful (the default): what does not parse is a string, never an error.
    check("SET k [1,2; GET k", "\"[1,2\"");
    check(
        "CLIENT LITERALS loose",
        "ERR CLIENT LITERALS takes strict or faithful",
    );
    check("CLIENT LITERALS", "faithful");
    check_strict("CLIENT LITERALS", "strict");
}

#[test]
fn command_table_invariants() {
    let mut names: Vec<&str> = crate::COMMANDS.iter().map(|c| c.name).collect();
    names.sort();
    let n = names.len();
    names.dedup();
    assert_eq!(names.len(), n, "command names must be unique");
    for c in crate::COMMANDS {
        assert_eq!(
            c.name,
            c.name.to_ascii_uppercase(),
            "{} must be upper case",
            c.name
        );
        assert!(
            c.name.len() <= 32,
            "lookup assumes names of at most 32 bytes"
        );
        assert!(
            c.summary.ends_with('.') && c.summary.len() > 10,
            "{} needs a summary",
            c.name
        );
        assert!(c.arity != 0, "{} needs an arity", c.name);
        assert!(
            c.flags.has(crate::Flags::READ)
                || c.flags.has(crate::Flags::WRITE)
                || c.flags.has(crate::Flags::ADMIN)
                || c.flags.has(crate::Flags::CONNECTION),
            "{} needs a read/write/admin/connection flag",
            c.name
        );
        assert!(crate::command::lookup(c.name.to_lowercase().as_bytes()).is_some());
    }
}

/// The changed-key bits follow entries as `swap_remove` moves them, and changed keys that go
/// are reported as removed.
#[test]
fn changed_keys_survive_swap_remove_and_expiry() {
    use crate::keyspace::{Entry, Keyspace};
    use okdb_value::Value;
    let taken = |ks: &mut Keyspace| {
        let mut out: Vec<(String, Option<String>)> = ks
            .take_changes()
            .into_iter()
            .map(|c| {
                (
                    String::from_utf8(c.key.as_bytes().to_vec()).unwrap(),
                    c.entry.map(|e| format!("{:?}", e.value)),
                )
            })
            .collect();
        out.sort();
        out
    };
    let mut ks = Keyspace::default();
    for i in 0..10 {
        ks.set(format!("k{i}").as_bytes(), Value::Int(i));
        ks.mark_dirty(format!("k{i}").as_bytes());
    }
    assert_eq!(ks.dirty_len(), 10);
    assert_eq!(taken(&mut ks).len(), 10);
    assert_eq!(ks.dirty_len(), 0);

    // k9 (last) changes; k2 goes, so k9 moves into k2's slot and must still be reported.
    ks.set(b"k9", Value::Int(99));
    ks.mark_dirty(b"k9");
    ks.remove(b"k2");
    ks.mark_dirty(b"k2");
    // k5 changes and then expires (lazy expiry on a read): it must be reported as removed.
    ks.insert(b"k5", Entry::new(Value::Int(55), 1));
    ks.mark_dirty(b"k5");
    assert!(ks.get(b"k5", 2).is_none());
    // k3 goes and comes back: reported once, with its new value.
    ks.remove(b"k3");
    ks.mark_dirty(b"k3");
    ks.set(b"k3", Value::Int(33));
    ks.mark_dirty(b"k3");
    assert_eq!(
        taken(&mut ks),
        vec![
            ("k2".into(), None),
            ("k3".into(), Some(format!("{:?}", Value::Int(33)))),
            ("k5".into(), None),
            ("k9".into(), Some(format!("{:?}", Value::Int(99)))),
        ]
    );
    assert!(taken(&mut ks).is_empty());
}

/// `WATCH`: a flush breaks the watches of the keys it removed, not of keys that were not
/// there; a watched key that expires before `EXEC` breaks it (Redis 7's rule).
#[test]
fn watches_and_flushes_and_expiry() {
    let engine = Engine::new(Config::default());
    let mut a = engine.connect("a".into()).unwrap();
    let mut b = engine.connect("b".into()).unwrap();
    let at = |now: u64, s: &mut Session, cmd: &str| -> String {
        let args: Vec<&[u8]> = cmd.split_whitespace().map(str::as_bytes).collect();
        render(&engine.lock_at(now).execute(s, &args))
    };
    // MULTI, PING, EXEC at `now`: what EXEC answered.
    let transaction = |now: u64, s: &mut Session| -> String {
        at(now, s, "MULTI");
        at(now, s, "PING");
        at(now, s, "EXEC")
    };
    let t = 1_000_000;
    // A flush with the watched key missing: EXEC runs.
    at(t, &mut a, "WATCH x");
    at(t, &mut b, "FLUSHALL");
    assert_eq!(transaction(t, &mut a), "[PONG]");
    // With it there: EXEC fails.
    at(t, &mut b, "SET x 1");
    at(t, &mut a, "WATCH x");
    at(t, &mut b, "FLUSHDB");
    assert_eq!(transaction(t, &mut a), "nil");
    // A flush of another keyspace leaves it alone.
    at(t, &mut b, "SET x 1");
    at(t, &mut a, "WATCH x");
    at(t, &mut b, "SELECT 3");
    at(t, &mut b, "FLUSHDB");
    assert_eq!(transaction(t, &mut a), "[PONG]");
    // A watched key that expires before EXEC breaks it; one that has not yet does not.
    at(t, &mut a, "SET y 1 PX 100");
    at(t, &mut a, "WATCH y");
    assert_eq!(transaction(t + 50, &mut a), "[PONG]");
    at(t, &mut a, "SET y 1 PX 100");
    at(t, &mut a, "WATCH y");
    assert_eq!(transaction(t + 150, &mut a), "nil");
    // UNWATCH forgets the deadline.
    at(t, &mut a, "SET y 1 PX 100");
    at(t, &mut a, "WATCH y");
    at(t, &mut a, "UNWATCH");
    assert_eq!(transaction(t + 150, &mut a), "[PONG]");
    // DISCARD ends the watches too.
    at(t, &mut a, "SET y 1 PX 100");
    at(t, &mut a, "WATCH y");
    at(t, &mut a, "MULTI");
    at(t, &mut a, "DISCARD");
    assert_eq!(transaction(t + 150, &mut a), "[PONG]");
}

/// The planner's scan (`plan.rs`, run leaf by leaf with field-position hints) answers what
/// the interpreter would: over many leaves, records whose fields move, and records the plan
/// cannot read (which hand the query back to the interpreter).
#[test]
fn planned_scans_agree_with_the_interpreter() {
    let engine = Engine::new(Config::default());
    let mut s = engine.connect("t".into()).unwrap();
    let call = |s: &mut Session, args: &[&str]| {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        render(&engine.lock().execute(s, &args))
    };
    let n = 5_000;
    let records: Vec<String> = (0..n)
        .map(|i| {
            if i % 7 == 0 {
                format!(r#"{{"age": {}, "name": "u{i}"}}"#, i % 100)
            } else {
                format!(r#"{{"name": "u{i}", "tag": "t", "age": {}}}"#, i % 100)
            }
        })
        .collect();
    let list = format!("[{}]", records.join(", "));
    assert_eq!(call(&mut s, &["SET", "foo", &list]), "OK");
    let want = (0..n).filter(|i| i % 100 > 30).count().to_string();
    let count = "sum(1 for x in GET('foo') if x['age'] > 30)";
    assert_eq!(call(&mut s, &["RUN", count]), want);
    let listed = "len([x for x in GET('foo') if x['age'] > 30])";
    assert_eq!(call(&mut s, &["RUN", listed]), want);
    let two = "len([x for x in GET('foo') if x['age'] > 30 and x['age'] <= 60])";
    let want_two = (0..n)
        .filter(|i| i % 100 > 30 && i % 100 <= 60)
        .count()
        .to_string();
    assert_eq!(call(&mut s, &["RUN", two]), want_two);
    // The scan's matches (a pick of the stored list) read, change, store and return as the
    // interpreter's own list does (`or False` keeps the planner out).
    for (planned, key) in [("", "a"), (" or False", "b")] {
        let q = format!("[x for x in GET('foo') if x['age'] > 97{planned}]");
        let script = format!(
            "r = {q}; s = r[:]; SET('{key}', r); r.append(0); t = {{'m': s}}; a = s; a.pop(); \
             t['m'].pop(); [len(r), r[-2]['name'], len(s), sum(x['age'] for x in s), \
             r[0] == s[0], len({q}), sum(1 for x in {q})]"
        );
        assert_eq!(
            call(&mut s, &["RUN", &script]),
            "[101, u4999, 98, 9653, true, 100, 100]",
            "{planned}"
        );
        assert_eq!(
            call(&mut s, &["RUN", &q]),
            call(&mut s, &["RUN", &format!("{q}[:]")])
        );
        assert_eq!(call(&mut s, &["LLEN", key]), "100");
    }
    assert_eq!(call(&mut s, &["RUN", "GET('a') == GET('b')"]), "true");
    assert_eq!(
        call(
            &mut s,
            &["RUN", "[x for x in GET('foo') if x['age'] > 98][:2]"]
        ),
        call(
            &mut s,
            &[
                "RUN",
                "[x for x in GET('foo') if x['age'] > 98 or False][:2]"
            ]
        )
    );
    // A record without the field: the interpreter takes over and raises Python's KeyError.
    assert_eq!(
        call(&mut s, &["RPUSH", "foo", r#"{"name": "x"}"#]),
        (n + 1).to_string()
    );
    let err = call(&mut s, &["RUN", count]);
    assert!(err.starts_with("KeyError"), "{err}");
}
