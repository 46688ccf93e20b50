//! What the binary's integration tests share: starting `okdb server` as a child process.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub const OKDB: &str = env!("CARGO_BIN_EXE_okdb");

/// Starts `okdb server --port 0 ARGS…` with extra environment variables and returns it with the
/// port it chose (read from its "listening on" log line). The log keeps being drained, so the
/// server never blocks on a full pipe.
pub fn spawn_server<S: AsRef<OsStr>>(args: &[S], env: &[(&str, &str)]) -> (Stop, u16) {
    spawn_server_on(0, args, env)
}

/// A child process that is killed when dropped, so a failing test leaves no server behind. It
/// derefs to the `Child` (`kill`, `wait`, `id` as usual).
pub struct Stop(pub Child);

impl std::ops::Deref for Stop {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Stop {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `spawn_server` on a given port (0: one the system picks).
pub fn spawn_server_on<S: AsRef<OsStr>>(
    port: u16,
    args: &[S],
    env: &[(&str, &str)],
) -> (Stop, u16) {
    let mut child = Command::new(OKDB)
        .args(["server", "--port", &port.to_string()])
        .args(args)
        .envs(env.iter().copied())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let port = loop {
        let Some(Ok(line)) = lines.next() else {
            let status = child.wait().unwrap();
            panic!("server exited before listening: {status}");
        };
        if let Some(addr) = line.split("listening on ").nth(1) {
            break addr.rsplit(':').next().unwrap().trim().parse().unwrap();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (Stop(child), port)
}
