//! Users, permissions, authentication limits and TLS over the wire (docs/security.md).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use okdb_engine::Config;
use okdb_resp::Frame;
use okdb_server::Background;

mod common;
use common::Raw;

impl Raw {
    fn send(&mut self, words: &[&str]) {
        let args: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
        self.send_args(&args);
    }

    /// One request as words; the reply as text (`+OK`, `-ERR …`, `:1`, a bulk's text, `[…]`).
    fn say(&mut self, line: &str) -> String {
        let words: Vec<&str> = line.split(' ').collect();
        self.send(&words);
        text(&self.read().expect("a reply"))
    }
}

fn text(f: &Frame) -> String {
    match f {
        Frame::Simple(s) => format!("+{s}"),
        Frame::Error(e) => format!("-{e}"),
        Frame::Integer(n) => format!(":{n}"),
        Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        Frame::Null => "nil".into(),
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            format!(
                "[{}]",
                items.iter().map(text).collect::<Vec<_>>().join(", ")
            )
        }
        Frame::Map(pairs) => format!(
            "{{{}}}",
            pairs
                .iter()
                .map(|(k, v)| format!("{}: {}", text(k), text(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => format!("{other:?}"),
    }
}

fn server() -> Background {
    let config = Config::default();
    config.port.store(0, Relaxed);
    Background::start(config).expect("server starts")
}

/// A server whose `default` user has a password (clients must authenticate).
fn locked() -> Background {
    let config = Config::default();
    config.port.store(0, Relaxed);
    Background::start_with(config, None, |e| {
        e.set_user("default", &["on", "resetpass", ">admin-pw"])
    })
    .expect("server starts")
}

/// A connection authenticated as `user` (created with `rules` by an admin connection).
fn as_user(server: &Background, user: &str, rules: &str) -> Raw {
    let mut admin = Raw::connect(server);
    let _ = admin.say("AUTH admin-pw");
    let reply = admin.say(&format!("ACL SETUSER {user} reset on nopass {rules}"));
    assert_eq!(reply, "+OK", "ACL SETUSER {user} {rules}");
    let mut c = Raw::connect(server);
    assert_eq!(c.say(&format!("AUTH {user} x")), "+OK");
    c
}

fn denied(reply: &str, what: &str) {
    assert!(
        reply.starts_with("-NOPERM") && reply.contains(what),
        "expected NOPERM naming {what}, got {reply}"
    );
}

fn allowed(reply: &str) {
    assert!(!reply.starts_with("-NOPERM"), "refused: {reply}");
}

/// For every category: a user with only that category may run a command of it, and a user
/// with everything but that category is refused it, naming the command.
#[test]
fn acl_matrix_of_categories() {
    let server = server();
    let samples = [
        ("keyspace", "EXISTS k"),
        ("read", "GET k"),
        ("write", "SET k v"),
        ("set", "SADD s a"),
        ("sortedset", "ZADD z 1 a"),
        ("list", "LPUSH l a"),
        ("hash", "HSET h f v"),
        ("string", "INCRBY n 1"),
        ("sequence", "APPEND q x"),
        ("container", "ADD st a"),
        ("math", "SUM nums"),
        ("pubsub", "PUBLISH c m"),
        ("admin", "CONFIG GET hz"),
        ("fast", "PING"),
        ("slow", "KEYS *"),
        ("blocking", "BLPOP bl 0.01"),
        ("dangerous", "FLUSHDB"),
        ("connection", "ECHO x"),
        ("transaction", "UNWATCH"),
        ("scripting", "RUN 1"),
    ];
    let mut admin = Raw::connect(&server);
    let cats = admin.say("ACL CAT");
    for (cat, line) in samples {
        let name = line.split(' ').next().unwrap().to_ascii_lowercase();
        let members = admin.say(&format!("ACL CAT {cat}"));
        assert!(
            members.contains(&format!("{name},")) || members.contains(&format!("{name}]")),
            "{name} is not in @{cat}: {members}"
        );
        assert!(cats.contains(cat), "ACL CAT lacks {cat}");
        let mut only = as_user(&server, "only", &format!("~* &* +@{cat}"));
        allowed(&only.say(line));
        let mut all_but = as_user(&server, "allbut", &format!("~* &* +@all -@{cat}"));
        denied(&all_but.say(line), &format!("'{name}"));
    }
}

#[test]
fn key_patterns_with_read_and_write_selectors() {
    let server = server();
    let mut c = as_user(&server, "rw", "+@all %R~pub:* %W~inbox:* ~own:*");
    allowed(&c.say("GET pub:1"));
    denied(&c.say("SET pub:1 x"), "'pub:1'");
    allowed(&c.say("SET inbox:1 x"));
    denied(&c.say("GET inbox:1"), "'inbox:1'");
    allowed(&c.say("SET own:1 x EX 100"));
    allowed(&c.say("GETSET own:1 y"));
    denied(&c.say("GETSET inbox:1 y"), "'inbox:1'");
    denied(&c.say("GET secret"), "'secret'");
    allowed(&c.say("SUNIONSTORE inbox:u pub:a pub:b"));
    denied(&c.say("SUNIONSTORE pub:u inbox:a"), "keys");
    allowed(&c.say("SORT pub:l STORE inbox:sorted"));
    denied(&c.say("SORT pub:l STORE pub:sorted"), "'pub:sorted'");
    // BY and GET patterns read keys no check can name first: they need read access to all.
    allowed(&c.say("SORT_RO pub:l ALPHA GET #"));
    denied(&c.say("SORT_RO pub:l ALPHA GET *"), "pattern");
    denied(&c.say("SORT pub:l BY weight_* STORE inbox:x"), "pattern");
    // Sorting in place writes the key, wherever the keyword is.
    denied(&c.say("SORT pub:l BY name INPLACE"), "'pub:l'");
    // A refused command changes nothing and the connection goes on.
    assert!(c.say("MSET own:a 1 secret 2").starts_with("-NOPERM"));
    assert_eq!(c.say("GET own:a"), "nil");
    assert_eq!(c.say("PING"), "+PONG");
}

#[test]
fn keyspace_confinement_across_use_and_select() {
    let server = server();
    let mut admin = Raw::connect(&server);
    assert_eq!(admin.say("USE other"), "+OK");
    assert_eq!(admin.say("SET hidden 1"), "+OK");
    let mut c = as_user(&server, "tenant", "~* &* +@all ks:t-*");
    denied(&c.say("GET k"), "keyspace '0'");
    denied(&c.say("USE other"), "keyspace 'other'");
    denied(&c.say("SELECT 1"), "keyspace '1'");
    assert_eq!(c.say("USE t-a"), "+OK");
    assert_eq!(c.say("SET k 1"), "+OK");
    denied(&c.say("MOVE k 2"), "keyspace '2'");
    denied(&c.say("FLUSHALL"), "keyspace '*'");
    denied(&c.say("COPY k k2 DB 3"), "keyspace '3'");
    denied(&c.say("COPY k k2 DB t-b DB 3"), "keyspace '3'");
    assert_eq!(c.say("KEYSPACES"), "[t-a]");
    assert_eq!(c.say("GET k"), "1");
    denied(&c.say("LISTEN * KEYSPACE other"), "keyspace 'other'");
}

#[test]
fn transactions_and_scripts_check_every_call() {
    let server = server();
    let mut c = as_user(&server, "tx", "+@all ~mine:*");
    assert_eq!(c.say("MULTI"), "+OK");
    assert_eq!(c.say("SET mine:1 1"), "+QUEUED");
    denied(&c.say("SET theirs 1"), "'theirs'");
    assert!(c.say("EXEC").starts_with("-EXECABORT"));
    assert_eq!(
        c.say("GET mine:1"),
        "nil",
        "the aborted transaction wrote nothing"
    );
    // A script's calls are checked one by one; a refused call undoes the whole script.
    let reply = c.say("RUN SET('mine:2',1);SET('theirs',2)");
    assert!(
        reply.contains("NOPERM") && reply.contains("'theirs'"),
        "{reply}"
    );
    assert_eq!(c.say("GET mine:2"), "nil");
    // `$key` and the planner's scans read the store directly: checked all the same.
    let mut admin0 = Raw::connect(&server);
    assert_eq!(admin0.say("RPUSH theirs:list a b"), ":2");
    for script in [
        "$theirs",
        "[x for x in GET('theirs:list')]",
        "len(GET('theirs:list'))",
    ] {
        c.send(&["RUN", script]);
        let reply = text(&c.read().unwrap());
        assert!(
            reply.contains("NOPERM") && reply.contains("theirs"),
            "{script}: {reply}"
        );
    }
    assert_eq!(c.say("BEGIN"), "+OK");
    assert_eq!(c.say("SET mine:3 1"), "+QUEUED");
    denied(&c.say("DEL theirs"), "'theirs'");
    assert!(c.say("END").starts_with("-EXECABORT"));
    let mut admin = Raw::connect(&server);
    let log = admin.say("ACL LOG");
    assert!(log.contains("script") && log.contains("theirs"), "{log}");
}

#[test]
fn keys_scan_and_the_feed_hide_what_a_user_may_not_read() {
    let server = server();
    let mut admin = Raw::connect(&server);
    assert_eq!(admin.say("MSET app:1 a app:2 b secret:1 c"), "+OK");
    let mut c = as_user(&server, "app", "+@all ~app:*");
    let keys = c.say("KEYS *");
    assert!(
        keys.contains("app:1") && keys.contains("app:2") && !keys.contains("secret"),
        "{keys}"
    );
    let scan = c.say("SCAN 0 COUNT 1000");
    assert!(!scan.contains("secret"), "{scan}");
    denied(&c.say("RANDOMKEY"), "RANDOMKEY");
    denied(&c.say("GET secret:1"), "'secret:1'");
    let stats = admin.say("INFO stats");
    assert!(stats.contains("acl_access_denied_cmd:0"), "{stats}");
    assert!(stats.contains("acl_access_denied_key:1"), "{stats}");
    // LISTEN follows only the keys it may read.
    let mut l = as_user(&server, "watcher", "+@all %R~app:*");
    let _ = l.say("HELLO 3");
    let started = l.say("LISTEN *");
    assert!(started.starts_with("[listen"), "{started}");
    assert_eq!(admin.say("SET secret:2 x"), "+OK");
    assert_eq!(admin.say("SET app:3 y"), "+OK");
    let change = text(&l.read().expect("a change"));
    assert!(
        change.contains("app:3") && !change.contains("secret"),
        "{change}"
    );
}

#[test]
fn unauthenticated_clients_may_only_authenticate() {
    let server = locked();
    let mut c = Raw::connect(&server);
    assert_eq!(c.say("GET k"), "-NOAUTH Authentication required.");
    assert!(c.say("HELLO 3").starts_with("-NOAUTH"));
    assert!(c.say("AUTH wrong").starts_with("-WRONGPASS"));
    let hello = c.say("HELLO 3 AUTH default admin-pw");
    assert!(hello.starts_with("{+server: +okdb"), "{hello}");
    assert_eq!(c.say("ACL WHOAMI"), "default");
    // More than 10 arguments before AUTH: a protocol error, and the connection closes.
    let mut d = Raw::connect(&server);
    let many = ["ECHO"; 12].join(" ");
    let reply = d.say(&many);
    assert!(reply.contains("Protocol error"), "{reply}");
    assert!(d.closed());
    // Pipelined after AUTH, a big request is read under the authenticated limits.
    let mut e = Raw::connect(&server);
    let big = "x".repeat(100_000);
    e.send(&["AUTH", "admin-pw"]);
    e.send(&["SET", "big", &big]);
    assert_eq!(text(&e.read().unwrap()), "+OK");
    assert_eq!(text(&e.read().unwrap()), "+OK");
}

#[test]
fn logging_in_and_out_is_never_refused_by_command_rules() {
    let server = locked();
    let mut admin = Raw::connect(&server);
    assert_eq!(admin.say("AUTH admin-pw"), "+OK");
    assert_eq!(admin.say("ACL SETUSER bare on >bare-pw -@all"), "+OK");
    let mut c = Raw::connect(&server);
    assert_eq!(c.say("AUTH bare bare-pw"), "+OK");
    denied(&c.say("PING"), "'ping'");
    let hello = c.say("HELLO 3 AUTH bare bare-pw");
    assert!(hello.starts_with("{+server"), "{hello}");
    // Several AUTH clauses: the last one wins, and the replies stay in step.
    let hello = c.say("HELLO 2 AUTH nobody x AUTH default admin-pw");
    assert!(hello.starts_with("[+server"), "{hello}");
    assert_eq!(c.say("ACL WHOAMI"), "default");
    assert_eq!(c.say("PING"), "+PONG");
    assert_eq!(c.say("RESET"), "+RESET");
    assert_eq!(c.say("QUIT"), "+OK");
    // CLIENT REPLY OFF silences an AUTH answered after its check too.
    assert_eq!(admin.say("ACL SETUSER quiet on >quiet-pw +@all"), "+OK");
    let mut q = Raw::connect(&server);
    assert_eq!(q.say("AUTH admin-pw"), "+OK");
    q.send(&["CLIENT", "REPLY", "OFF"]);
    q.send(&["AUTH", "quiet", "quiet-pw"]);
    assert_eq!(q.say("CLIENT REPLY ON"), "+OK");
    assert_eq!(q.say("ACL WHOAMI"), "quiet");
}

#[test]
fn an_authenticated_connection_is_not_timed_out() {
    let server = locked();
    server.engine.config().auth_timeout.store(1, Relaxed);
    let mut first = Raw::connect(&server);
    assert_eq!(first.say("AUTH admin-pw"), "+OK");
    // The second AUTH is answered at once (the password was verified before).
    let mut second = Raw::connect(&server);
    assert_eq!(second.say("AUTH admin-pw"), "+OK");
    std::thread::sleep(Duration::from_millis(1600));
    assert_eq!(first.say("PING"), "+PONG");
    assert_eq!(second.say("PING"), "+PONG");
}

#[cfg(target_os = "linux")]
#[test]
fn parallel_connections_share_their_address_slots() {
    let server = locked();
    let mut conns: Vec<Raw> = (0..20).map(|_| Raw::connect(&server)).collect();
    for c in &mut conns {
        c.send(&["AUTH", "wrong"]);
    }
    std::thread::sleep(Duration::from_millis(1000));
    let mut answered = 0;
    for c in &mut conns {
        c.stream.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 64];
        if matches!(c.stream.read(&mut buf), Ok(n) if n > 0) {
            answered += 1;
        }
    }
    assert!(
        answered >= 3,
        "the first attempts are answered ({answered})"
    );
    assert!(
        answered <= 10,
        "20 connections from one address got {answered} answers in 1 s"
    );
}

#[test]
fn an_unauthenticated_100_mb_frame_is_refused_at_its_header() {
    let server = locked();
    let mut c = Raw::connect(&server);
    let started = Instant::now();
    c.send_raw(b"*2\r\n$4\r\nAUTH\r\n$104857600\r\n");
    // Whatever it keeps sending, it has been told and closed.
    let _ = c.stream.write_all(&vec![b'a'; 1 << 20]);
    let reply = c.read().map(|f| text(&f)).unwrap_or_default();
    assert!(reply.contains("Protocol error"), "{reply}");
    assert!(c.closed());
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn unauthenticated_connections_time_out() {
    let server = locked();
    server.engine.config().auth_timeout.store(1, Relaxed);
    let mut c = Raw::connect(&server);
    let started = Instant::now();
    let reply = c.read().map(|f| text(&f)).unwrap_or_default();
    assert!(reply.contains("auth-timeout"), "{reply}");
    assert!(c.closed());
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// Connects from a given loopback address (127.0.0.0/8 is all loopback on Linux).
#[cfg(target_os = "linux")]
fn connect_from(server: &Background, local: &str) -> Raw {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let local: SocketAddr = format!("{local}:0").parse().unwrap();
    socket.bind(&local.into()).unwrap();
    socket.connect(&server.addr.into()).unwrap();
    let stream: TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    Raw::from_stream(stream)
}

#[cfg(target_os = "linux")]
#[test]
fn a_flood_of_failed_auths_slows_its_address_only() {
    let server = locked();
    let mut setup = Raw::connect(&server);
    assert_eq!(setup.say("AUTH admin-pw"), "+OK");
    assert_eq!(setup.say("ACL SETUSER app on >app-pw ~* +@all"), "+OK");
    // 10,000 wrong AUTHs pipelined from 127.0.0.1.
    let mut flood = Raw::connect(&server);
    let mut burst = Vec::new();
    for _ in 0..10_000 {
        okdb_resp::encode_command(&[b"AUTH", b"app", b"wrong"], &mut burst);
    }
    let writer = {
        let mut s = flood.stream.try_clone().unwrap();
        std::thread::spawn(move || {
            let _ = s.write_all(&burst);
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    // Meanwhile a client from another address authenticates and is served at once.
    let started = Instant::now();
    let mut other = connect_from(&server, "127.0.0.2");
    assert_eq!(other.say("AUTH app app-pw"), "+OK");
    for i in 0..100 {
        assert_eq!(other.say(&format!("SET k{i} v")), "+OK");
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "another address waited {took:?}"
    );
    // The flooding address got its first failures at once, then ever slower ones.
    flood
        .stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let mut answered = 0;
    let window = Instant::now();
    while window.elapsed() < Duration::from_secs(2) {
        match flood.read() {
            Some(f) => {
                assert!(text(&f).starts_with("-WRONGPASS"));
                answered += 1;
            }
            None => break,
        }
    }
    assert!(
        answered >= 3,
        "the first failures are answered ({answered})"
    );
    assert!(
        answered < 100,
        "a flood is slowed down ({answered} answered in 2+ s)"
    );
    let log = setup.say("ACL LOG 1");
    assert!(log.contains("auth") && log.contains("app"), "{log}");
    drop(flood);
    let _ = writer.join();
}

#[test]
fn deleting_a_user_closes_its_connections_and_client_kill_closes_others() {
    let server = server();
    let mut admin = Raw::connect(&server);
    let mut gone = as_user(&server, "gone", "+@all ~*");
    assert_eq!(gone.say("PING"), "+PONG");
    assert_eq!(admin.say("ACL DELUSER gone"), ":1");
    assert!(gone.closed());
    let mut a = as_user(&server, "killme", "+@all ~*");
    let mut b = as_user(&server, "killme", "+@all ~*");
    assert_eq!(admin.say("CLIENT LIST").matches("user=killme").count(), 2);
    assert_eq!(admin.say("CLIENT KILL USER killme"), ":2");
    assert!(a.closed() && b.closed());
    let mut d = Raw::connect(&server);
    let id = d.say("CLIENT ID");
    assert_eq!(admin.say(&format!("CLIENT KILL ID {}", &id[1..])), ":1");
    assert!(d.closed());
    assert_eq!(admin.say("CLIENT KILL ID 1 SKIPME yes"), ":0");
    assert_eq!(admin.say("PING"), "+PONG");
}

#[test]
fn permission_changes_reach_subscribers_listeners_and_reset() {
    let server = locked();
    let mut admin = Raw::connect(&server);
    assert_eq!(admin.say("AUTH admin-pw"), "+OK");
    let mut sub = as_user(&server, "sub", "+@all ~* &news");
    assert!(sub.say("SUBSCRIBE news").starts_with("[subscribe"));
    let mut l = as_user(&server, "lis", "+@all ~*");
    let _ = l.say("HELLO 3");
    assert!(l.say("LISTEN *").starts_with("[listen"));
    // The subscriber loses its channel: it is closed at its next message, as Redis does.
    assert_eq!(admin.say("ACL SETUSER sub resetchannels &other"), "+OK");
    assert_eq!(admin.say("PUBLISH news hello"), ":1");
    assert!(sub.closed());
    // The listener loses a key pattern: changes to those keys stop.
    assert_eq!(admin.say("ACL SETUSER lis resetkeys ~pub:*"), "+OK");
    assert_eq!(admin.say("SET secret x"), "+OK");
    assert_eq!(admin.say("SET pub:1 y"), "+OK");
    let change = text(&l.read().expect("a change"));
    assert!(
        change.contains("pub:1") && !change.contains("secret"),
        "{change}"
    );
    // RESET makes the connection `default` again: logged out, since default has a password.
    assert_eq!(admin.say("RESET"), "+RESET");
    assert_eq!(admin.say("GET k"), "-NOAUTH Authentication required.");
}

#[test]
fn malformed_rules_change_nothing() {
    let server = server();
    let mut c = Raw::connect(&server);
    assert_eq!(c.say("ACL SETUSER u on >pw ~a* +get"), "+OK");
    let before = c.say("ACL LIST");
    for bad in [
        "ACL SETUSER u off ~b* +nosuch",
        "ACL SETUSER u %X~a",
        "ACL SETUSER u #abc",
        "ACL SETUSER u +@nosuchcategory",
        "ACL SETUSER u <notapassword",
        "ACL SETUSER u (~x +get)",
        "ACL SETUSER u ks:",
    ] {
        let reply = c.say(bad);
        assert!(
            reply.starts_with("-ERR Error in ACL SETUSER modifier"),
            "{bad}: {reply}"
        );
    }
    assert_eq!(c.say("ACL LIST"), before);
    assert_eq!(c.say("ACL SETUSER new on +bogus"), format!("-ERR Error in ACL SETUSER modifier '+bogus': Unknown command or category name in ACL: 'bogus'"));
    assert_eq!(c.say("ACL GETUSER new"), "nil");
}

#[test]
fn a_public_address_needs_authentication() {
    let rt = okdb_server::runtime().unwrap();
    let open = okdb_server::engine(Config::default());
    let err = rt
        .block_on(okdb_server::resolve(&open, "0.0.0.0", 0))
        .unwrap_err()
        .to_string();
    assert!(err.contains("requirepass"), "{err}");
    assert!(rt
        .block_on(okdb_server::resolve(&open, "127.0.0.1", 0))
        .is_ok());
    let guarded = okdb_server::engine(Config::default());
    guarded
        .set_user("default", &["on", "resetpass", ">pw"])
        .unwrap();
    assert!(rt
        .block_on(okdb_server::resolve(&guarded, "0.0.0.0", 0))
        .is_ok());
    // Once it serves beyond loopback, the users cannot be changed to let clients in freely.
    let server = locked();
    server.engine.set_public();
    let mut admin = Raw::connect(&server);
    assert_eq!(admin.say("AUTH admin-pw"), "+OK");
    let reply = admin.say("ACL SETUSER default nopass");
    assert!(reply.contains("beyond loopback"), "{reply}");
    assert_eq!(admin.say("ACL SETUSER default >second-pw"), "+OK");
    let mut other = Raw::connect(&server);
    assert_eq!(other.say("PING"), "-NOAUTH Authentication required.");
    let off = okdb_server::engine(Config::default());
    off.set_user("default", &["off"]).unwrap();
    off.set_user("ops", &["on", ">pw", "+@all", "~*"]).unwrap();
    assert!(rt
        .block_on(okdb_server::resolve(&off, "0.0.0.0", 0))
        .is_ok());
}

mod tls {
    use super::*;
    use std::sync::Arc;

    use okdb_server::tls::{ClientAuth, TlsSettings};
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    use tokio_rustls::rustls;

    struct Pki {
        dir: std::path::PathBuf,
        ca: rcgen::Certificate,
        ca_key: KeyPair,
    }

    fn ca(name: &str) -> (rcgen::Certificate, KeyPair) {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        (p.self_signed(&key).unwrap(), key)
    }

    impl Pki {
        fn new(tag: &str) -> Pki {
            let dir = std::env::temp_dir().join(format!("okdb-tls-{tag}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let (ca, ca_key) = ca("okdb test CA");
            std::fs::write(dir.join("ca.crt"), ca.pem()).unwrap();
            let pki = Pki { dir, ca, ca_key };
            let (cert, key) = pki.leaf(&["127.0.0.1", "localhost"], false);
            std::fs::write(pki.dir.join("server.crt"), cert.pem()).unwrap();
            std::fs::write(pki.dir.join("server.key"), key.serialize_pem()).unwrap();
            pki
        }

        fn leaf(&self, names: &[&str], expired: bool) -> (rcgen::Certificate, KeyPair) {
            let mut p =
                CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                    .unwrap();
            if expired {
                p.not_before = rcgen::date_time_ymd(2020, 1, 1);
                p.not_after = rcgen::date_time_ymd(2021, 1, 1);
            }
            let key = KeyPair::generate().unwrap();
            (p.signed_by(&key, &self.ca, &self.ca_key).unwrap(), key)
        }

        fn settings(&self, auth: ClientAuth) -> TlsSettings {
            TlsSettings {
                cert_file: self.dir.join("server.crt"),
                key_file: self.dir.join("server.key"),
                ca_cert_file: Some(self.dir.join("ca.crt")),
                auth_clients: auth,
            }
        }
    }

    impl Drop for Pki {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    #[allow(deprecated)]
    fn client_config(
        pki: &Pki,
        cert: Option<(&rcgen::Certificate, &KeyPair)>,
    ) -> rustls::ClientConfig {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pki.ca.der().clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let b = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        match cert {
            None => b.with_no_client_auth(),
            Some((c, k)) => b
                .with_client_auth_cert(
                    vec![c.der().clone()],
                    rustls_pki_types::PrivateKeyDer::try_from(k.serialize_der()).unwrap(),
                )
                .unwrap(),
        }
    }

    /// Connects over TLS and runs PING: its reply, or the error that ended the connection.
    fn ping(addr: SocketAddr, config: rustls::ClientConfig) -> Result<String, String> {
        let rt = okdb_server::runtime().unwrap();
        rt.block_on(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let tcp = tokio::net::TcpStream::connect(addr)
                .await
                .map_err(|e| e.to_string())?;
            let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
            let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
            let mut tls = connector
                .connect(name, tcp)
                .await
                .map_err(|e| e.to_string())?;
            tls.write_all(b"PING\r\n")
                .await
                .map_err(|e| e.to_string())?;
            tls.flush().await.map_err(|e| e.to_string())?;
            let mut buf = [0u8; 64];
            let n = tokio::time::timeout(Duration::from_secs(5), tls.read(&mut buf))
                .await
                .map_err(|_| "timed out".to_string())?
                .map_err(|e| e.to_string())?;
            Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
        })
    }

    fn start(pki: &Pki, auth: ClientAuth) -> Background {
        let config = Config::default();
        config.port.store(0, Relaxed);
        Background::start_with(config, Some(pki.settings(auth)), |_| Ok(())).unwrap()
    }

    #[test]
    fn handshakes_and_plaintext_on_the_tls_port() {
        let pki = Pki::new("plain");
        let server = start(&pki, ClientAuth::No);
        let addr = server.tls_addr.unwrap();
        assert_eq!(ping(addr, client_config(&pki, None)).unwrap(), "+PONG\r\n");
        // A plaintext client is closed cleanly: no reply it could mistake for RESP.
        let mut plain = TcpStream::connect(addr).unwrap();
        plain
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        plain.write_all(b"PING\r\n").unwrap();
        let mut buf = Vec::new();
        let _ = plain.read_to_end(&mut buf);
        assert!(!buf.starts_with(b"+"), "{buf:?}");
        // The plain port still speaks plain RESP.
        let mut c = Raw::connect(&server);
        assert_eq!(c.say("PING"), "+PONG");
    }

    #[test]
    fn client_certificates_are_checked() {
        let pki = Pki::new("mtls");
        let server = start(&pki, ClientAuth::Yes);
        let addr = server.tls_addr.unwrap();
        let (good, good_key) = pki.leaf(&["client"], false);
        assert_eq!(
            ping(addr, client_config(&pki, Some((&good, &good_key)))).unwrap(),
            "+PONG\r\n"
        );
        assert!(
            ping(addr, client_config(&pki, None)).is_err(),
            "no certificate"
        );
        let (old, old_key) = pki.leaf(&["client"], true);
        assert!(
            ping(addr, client_config(&pki, Some((&old, &old_key)))).is_err(),
            "an expired certificate"
        );
        let other = Pki::new("other");
        let (stranger, stranger_key) = other.leaf(&["client"], false);
        assert!(
            ping(addr, client_config(&pki, Some((&stranger, &stranger_key)))).is_err(),
            "a certificate from another CA"
        );
        let optional = start(&pki, ClientAuth::Optional);
        assert_eq!(
            ping(optional.tls_addr.unwrap(), client_config(&pki, None)).unwrap(),
            "+PONG\r\n"
        );
    }

    #[test]
    fn unfinished_handshakes_count_against_maxclients() {
        let pki = Pki::new("max");
        let server = start(&pki, ClientAuth::No);
        server.engine.config().maxclients.store(2, Relaxed);
        let addr = server.tls_addr.unwrap();
        // Two sockets that never start their handshake hold the two places.
        let idle: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            ping(addr, client_config(&pki, None)).is_err(),
            "a third is refused"
        );
        drop(idle);
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(ping(addr, client_config(&pki, None)).unwrap(), "+PONG\r\n");
    }

    #[test]
    fn bad_files_are_named() {
        let pki = Pki::new("bad");
        let mut s = pki.settings(ClientAuth::No);
        s.key_file = pki.dir.join("missing.key");
        let Err(err) = okdb_server::tls::acceptor(&s) else {
            panic!("a missing key file is an error")
        };
        let err = err.to_string();
        assert!(
            err.contains("tls-key-file") && err.contains("missing.key"),
            "{err}"
        );
        let mut s = pki.settings(ClientAuth::Yes);
        s.ca_cert_file = None;
        assert!(okdb_server::tls::acceptor(&s).is_err());
    }
}
