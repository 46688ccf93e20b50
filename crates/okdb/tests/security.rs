//! `okdb server`'s security settings as a user meets them: the ACL file across restarts, a
//! damaged or missing ACL file, `--requirepass`, and the refusal to serve a public address
//! without authentication (docs/security.md).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;
use common::{spawn_server, OKDB};

/// One inline command; the first line of its reply.
fn say(port: u16, lines: &[&str]) -> Vec<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    lines
        .iter()
        .map(|l| {
            s.write_all(format!("{l}\r\n").as_bytes()).unwrap();
            let mut out = String::new();
            r.read_line(&mut out).unwrap();
            if out.starts_with('$') && !out.starts_with("$-1") {
                out.clear();
                r.read_line(&mut out).unwrap();
            }
            out.trim_end().to_string()
        })
        .collect()
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("okdb-sec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `okdb server ARGS` expecting it to refuse to start: its log.
fn refused(args: &[&str]) -> String {
    let out = Command::new(OKDB)
        .arg("server")
        .args(args)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(!out.status.success(), "started: {args:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_acl_file_survives_a_restart_and_holds_no_clear_password() {
    let dir = temp("file");
    let file = dir.join("users.acl");
    std::fs::write(&file, "").unwrap();
    let f = file.to_str().unwrap();
    let args = ["--appendonly", "no", "--aclfile", f];
    {
        let (_server, port) = spawn_server(&args, &[]);
        let r = say(
            port,
            &[
                "ACL SETUSER alice on >wonderland ~alice:* ks:0 +@all -@dangerous",
                "ACL SETUSER root on >rootpw allkeys allchannels allcommands",
                "ACL SETUSER default off",
                "ACL SAVE",
            ],
        );
        assert_eq!(r, ["+OK", "+OK", "+OK", "+OK"]);
    }
    let text = std::fs::read_to_string(&file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the ACL file is the server user's alone: {mode:o}"
        );
    }
    assert!(text.contains("user alice on #$argon2id$"), "{text}");
    assert!(!text.contains("wonderland"), "{text}");
    let (_server, port) = spawn_server(&args, &[]);
    let r = say(
        port,
        &[
            "GET k",
            "AUTH alice wrong",
            "AUTH alice wonderland",
            "SET alice:1 x",
            "SET bob:1 x",
            "ACL WHOAMI",
        ],
    );
    assert_eq!(r[0], "-NOAUTH Authentication required.");
    assert!(r[1].starts_with("-WRONGPASS"), "{}", r[1]);
    assert_eq!(r[2], "+OK");
    assert_eq!(r[3], "+OK");
    assert!(r[4].starts_with("-NOPERM"), "{}", r[4]);
    assert_eq!(r[5], "alice");
    // ACL LOAD reads the file again; a broken file is refused and the users stay.
    std::fs::write(&file, format!("{text}user broken bogus-rule\n")).unwrap();
    let r = say(
        port,
        &["AUTH root rootpw", "ACL LOAD", "ACL WHOAMI", "ACL USERS"],
    );
    assert!(
        r[1].contains("line 4") && r[1].contains("bogus-rule"),
        "{}",
        r[1]
    );
    assert_eq!(r[2], "root");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_damaged_or_missing_acl_file_stops_start_up() {
    let dir = temp("bad");
    let file = dir.join("users.acl");
    std::fs::write(&file, "user a on nopass ~* +@all\nuser b on %Q~x\n").unwrap();
    let log = refused(&[
        "--port",
        "0",
        "--appendonly",
        "no",
        "--aclfile",
        file.to_str().unwrap(),
    ]);
    assert!(log.contains("line 2") && log.contains("%Q~x"), "{log}");
    let missing = dir.join("none.acl");
    let log = refused(&[
        "--port",
        "0",
        "--appendonly",
        "no",
        "--aclfile",
        missing.to_str().unwrap(),
    ]);
    assert!(log.contains("none.acl"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_public_bind_needs_authentication() {
    // Refused before any socket is opened.
    let log = refused(&["--port", "0", "--appendonly", "no", "--requirepass", ""]);
    assert!(log.contains("empty password"), "{log}");
    let log = refused(&["--bind", "0.0.0.0", "--port", "0", "--appendonly", "no"]);
    assert!(
        log.contains("refusing to listen on 0.0.0.0") && log.contains("requirepass"),
        "{log}"
    );
    // With a password the same check passes (the test itself still listens on loopback).
    let (_server, port) = spawn_server(&["--appendonly", "no", "--requirepass", "two words"], &[]);
    let r = say(port, &["PING", "AUTH \"two words\"", "PING"]);
    assert_eq!(r, ["-NOAUTH Authentication required.", "+OK", "+PONG"]);
}

#[test]
fn tls_only_serves_the_tls_port_alone() {
    let dir = temp("tls");
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    std::fs::write(dir.join("c.crt"), cert.pem()).unwrap();
    std::fs::write(dir.join("c.key"), key.serialize_pem()).unwrap();
    let (crt, k) = (dir.join("c.crt"), dir.join("c.key"));
    let log = refused(&["--tls-only", "--appendonly", "no"]);
    assert!(log.contains("tls-only needs tls-port"), "{log}");
    let mut child = Command::new(OKDB)
        .args([
            "server",
            "--appendonly",
            "no",
            "--tls-only",
            "--tls-port",
            "0",
        ])
        .args([
            "--tls-cert-file",
            crt.to_str().unwrap(),
            "--tls-key-file",
            k.to_str().unwrap(),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut listening = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        if line.contains("listening on") {
            listening.push(line);
            break;
        }
    }
    // Whatever else it logs, it listens once, on the TLS port.
    std::thread::sleep(Duration::from_millis(300));
    let _ = child.kill();
    let _ = child.wait();
    for line in lines.map_while(Result::ok) {
        if line.contains("listening on") {
            listening.push(line);
        }
    }
    assert_eq!(listening.len(), 1, "{listening:?}");
    assert!(listening[0].ends_with("(TLS)"), "{listening:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
