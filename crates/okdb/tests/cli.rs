//! The `okdb` binary as a user runs it: the server with flags and a config file, one-shot
//! commands, and the errors a user can make.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use okdb_resp::Frame;

mod common;
use common::OKDB;

/// Starts `okdb server` (memory only) on a free port and returns it with its port.
fn server(extra: &[&str]) -> (common::Stop, u16) {
    let mut args = vec!["--appendonly", "no"];
    args.extend_from_slice(extra);
    common::spawn_server(&args, &[])
}

fn okdb(port: u16, args: &[&str]) -> (bool, String) {
    let out = Command::new(OKDB)
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim_end().to_string(),
    )
}

#[test]
fn one_shot_commands_print_typed_values() {
    let (mut child, port) = server(&[]);
    assert_eq!(
        okdb(
            port,
            &["SET", "user:1", r#"{"name": "kevin", "tags": ["a"]}"#]
        ),
        (true, "OK".into())
    );
    assert_eq!(
        okdb(port, &["GET", "user:1"]),
        (
            true,
            "{\n  \"name\": \"kevin\",\n  \"tags\": [\n    \"a\"\n  ]\n}".into()
        )
    );
    assert_eq!(okdb(port, &["INCR", "n", "2"]), (true, "2".into()));
    assert_eq!(okdb(port, &["GET", "missing"]), (true, "(nil)".into()));
    let (ok, out) = okdb(port, &["INCR", "user:1"]);
    assert!(!ok);
    assert_eq!(
        out,
        "(error) WRONGTYPE INCR expects int, float or string, found dict"
    );
    let (ok, out) = okdb(port, &["HELP", "GET"]);
    assert!(ok && out.starts_with("GET key [key ...]"), "{out}");
    child.kill().unwrap();
}

#[test]
fn help_for_an_unknown_command_fails() {
    let out = Command::new(OKDB).args(["HELP", "nope"]).output().unwrap();
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "okdb: no command named nope; HELP lists them"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn the_server_log_has_no_colours_when_it_is_not_a_terminal() {
    let mut child = Stop(
        Command::new(OKDB)
            .args(["server", "--port", "0", "--appendonly", "no"])
            .env_remove("NO_COLOR")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut log = String::new();
    for line in BufReader::new(child.0.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        log.push_str(&line);
        log.push('\n');
        if line.contains("listening on") {
            break;
        }
    }
    drop(child);
    assert!(log.contains("INFO"), "{log}");
    assert!(
        !log.contains('\x1b'),
        "escape codes in a piped log:\n{log:?}"
    );
}

use common::Stop;

/// A shell on piped stdin: its stdout gathered by a thread, so a test can wait for a reply
/// before typing the next line.
struct Shell {
    child: Stop,
    stdin: std::process::ChildStdin,
    out: Arc<Mutex<String>>,
}

impl Shell {
    fn start(port: u16, home: &std::path::Path) -> Shell {
        let mut child = Command::new(OKDB)
            .args(["-p", &port.to_string(), "shell"])
            .env("HOME", home)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = Arc::new(Mutex::new(String::new()));
        let (stdout, sink) = (child.stdout.take().unwrap(), out.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let mut sink = sink.lock().unwrap();
                sink.push_str(&line);
                sink.push('\n');
            }
        });
        let stdin = child.stdin.take().unwrap();
        Shell {
            child: Stop(child),
            stdin,
            out,
        }
    }

    fn type_line(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// Waits (10 s at most) until the output holds `want` `times` times; returns the output.
    fn wait_for(&self, want: &str, times: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = self.out.lock().unwrap().clone();
            if out.matches(want).count() >= times {
                return out;
            }
            assert!(Instant::now() < deadline, "no {want:?} x{times} in:\n{out}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn temp_home(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("okdb-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_shell_keeps_its_history_when_it_is_killed() {
    let home = temp_home("history");
    let (_server, port) = server(&[]);
    let mut shell = Shell::start(port, &home);
    shell.type_line("SET remembered 1");
    shell.wait_for("OK", 1);
    drop(shell); // killed, not QUIT
    let history = std::fs::read_to_string(home.join(".okdb_history")).unwrap_or_default();
    assert!(history.contains("SET remembered 1"), "{history:?}");
    std::fs::remove_dir_all(&home).unwrap();
}

#[test]
fn the_shell_reconnects_to_a_restarted_server_in_the_same_keyspace() {
    let home = temp_home("reconnect");
    let (mut first, port) = server(&[]);
    let mut shell = Shell::start(port, &home);
    shell.type_line("USE users");
    shell.type_line("SET a 1");
    shell.wait_for("OK", 2);
    first.0.kill().unwrap();
    first.0.wait().unwrap();
    let _second = common::spawn_server_on(port, &["--appendonly", "no"], &[]).0;
    // The connection is found lost on the next command, which is sent again after the
    // reconnection, in keyspace `users`, with strict literals (True is a bool).
    shell.type_line("SET b True");
    shell.type_line("TYPE b");
    shell.type_line("QUIT");
    let out = shell.wait_for("bool", 1);
    assert!(
        out.contains("reconnected, keyspace users restored; sending the command again\nOK\n"),
        "{out}"
    );
    assert!(shell.child.0.wait().unwrap().success());
    let mut client = okdb_client::Client::connect(&format!("127.0.0.1:{port}")).unwrap();
    assert_eq!(client.call(&["EXISTS", "b"]).unwrap(), Frame::Integer(0));
    client.call(&["USE", "users"]).unwrap();
    assert_eq!(
        client.call(&["TYPE", "b"]).unwrap(),
        Frame::Simple("bool".into())
    );
    std::fs::remove_dir_all(&home).unwrap();
}

#[test]
fn the_shell_reads_commands_tokenizes_literals_and_survives_errors() {
    let (mut server_child, port) = server(&[]);
    let mut shell = Command::new(OKDB)
        .args(["-p", &port.to_string(), "shell"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    shell
        .stdin
        .take()
        .unwrap()
        .write_all(b"SET user:1 {\"name\": \"kevin\", \"tags\": ['a', 'b']}\nSET k '\"5\"'\nTYPE k\nSET x [1,\nINCR user:1\nGET user:1\nSET b True\nTYPE b\nSET f 1.50\nTYPE f\nSET z [1 2]\nHELP TTL\nQUIT\n")
        .unwrap();
    let out = shell.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let want = [
        "OK",
        "OK",
        "string",
        "(error) unbalanced brackets in request",
        "(error) WRONGTYPE INCR expects int, float or string, found dict",
        "{\n  \"name\": \"kevin\",\n  \"tags\": [\n    \"a\",\n    \"b\"\n  ]\n}",
        // The shell reads strict literals: True is a bool, 1.50 a float, and a malformed
        // literal is an error, where a Redis client would store strings.
        "OK",
        "bool",
        "OK",
        "float",
        "(error) ERR",
        "TTL key [key ...]",
    ];
    let mut rest = text.as_ref();
    for w in want {
        let at = rest
            .find(w)
            .unwrap_or_else(|| panic!("missing {w:?} in:\n{text}"));
        rest = &rest[at + w.len()..];
    }
    server_child.kill().unwrap();
}

#[test]
fn the_config_file_is_read_and_checked() {
    let dir = std::env::temp_dir().join(format!("okdb-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.toml");
    std::fs::write(&good, "maxclients = 7\nhz = 50\n").unwrap();
    let (mut child, port) = server(&["--config", good.to_str().unwrap()]);
    assert_eq!(
        okdb(port, &["CONFIG", "GET", "maxclients"]),
        (true, "{\n  \"maxclients\": \"7\"\n}".into())
    );
    // CONFIG REWRITE writes what CONFIG SET changed back into the file; a restart reads it.
    assert_eq!(
        okdb(
            port,
            &[
                "CONFIG",
                "SET",
                "maxmemory",
                "64mb",
                "maxmemory-policy",
                "allkeys-lru"
            ]
        ),
        (true, "OK".into())
    );
    assert_eq!(okdb(port, &["CONFIG", "REWRITE"]), (true, "OK".into()));
    child.kill().unwrap();
    let text = std::fs::read_to_string(&good).unwrap();
    assert!(text.contains("maxmemory = 67108864"), "{text}");
    assert!(
        text.contains("maxmemory-policy = \"allkeys-lru\""),
        "{text}"
    );
    assert!(
        text.contains("hz = 50") && text.contains("maxclients = 7"),
        "{text}"
    );
    let (mut child, port) = server(&["--config", good.to_str().unwrap()]);
    assert_eq!(
        okdb(port, &["CONFIG", "GET", "maxmemory-policy"]),
        (true, "{\n  \"maxmemory-policy\": \"allkeys-lru\"\n}".into())
    );
    child.kill().unwrap();
    let (mut child, port) = server(&[]);
    let (ok, out) = okdb(port, &["CONFIG", "REWRITE"]);
    assert!(!ok && out.contains("without a config file"), "{out}");
    child.kill().unwrap();

    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "maxclient = 7\n").unwrap();
    let out = Command::new(OKDB)
        .args(["server", "--config", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field `maxclient`"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_public_bind_address_is_refused() {
    let out = Command::new(OKDB)
        .args(["server", "--bind", "0.0.0.0", "--port", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}

#[test]
fn no_server_is_a_clear_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let out = Command::new(OKDB)
        .args(["-p", &port.to_string(), "PING"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach okdb"));
}

#[test]
fn okdb_listen_prints_changes_as_json_lines_and_says_where_to_resume() {
    let dir = std::env::temp_dir().join(format!("okdb-cli-listen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (mut server, port) = common::spawn_server(&["--dir", dir.to_str().unwrap()], &[]);
    let mut listen = Command::new(OKDB)
        .args(["-p", &port.to_string(), "listen", "user:*"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = listen.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Writes until the listener (started meanwhile) prints a change.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut n = 0;
    let first = loop {
        assert!(Instant::now() < deadline, "okdb listen printed nothing");
        n += 1;
        okdb(port, &["SET", "other", "1"]);
        okdb(port, &["SET", &format!("user:{n}"), "{\"a\": [1, 2]}"]);
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            break line;
        }
    };
    assert!(first.starts_with("{\"seq\":"), "{first}");
    assert!(
        first.contains("\"op\":\"set\"") && first.contains("\"value\":{\"a\":[1,2]}"),
        "{first}"
    );
    assert!(!first.contains("other"), "{first}");
    // The server goes away: the listener says the last seq it printed.
    server.kill().unwrap();
    server.wait().unwrap();
    let status = listen.wait().unwrap();
    assert!(!status.success());
    let mut err = String::new();
    std::io::Read::read_to_string(&mut listen.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("resume with --from"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
