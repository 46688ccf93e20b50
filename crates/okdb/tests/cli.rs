//! The `okdb` binary as a user runs it: the server with flags and a config file, one-shot
//! commands, and the errors a user can make.

use std::process::{Child, Command, Stdio};

mod common;
use common::OKDB;

/// Starts `okdb server` (memory only) on a free port and returns it with its port.
fn server(extra: &[&str]) -> (Child, u16) {
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
fn the_shell_reads_commands_tokenizes_literals_and_survives_errors() {
    use std::io::Write;
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
