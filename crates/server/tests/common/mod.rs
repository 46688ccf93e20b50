//! What the server's socket tests share: a server on a port picked at run time, and a raw
//! connection that speaks RESP by hand.

#![allow(dead_code)] // each test file uses its own part

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use okdb_engine::Config;
use okdb_resp::{encode_command, parse_frame, Frame};
use okdb_server::Background;

/// A server on 127.0.0.1, a port picked at run time, with `io_threads` threads (0: default);
/// it stops when dropped.
pub fn start_with(io_threads: usize) -> Background {
    let config = Config::default();
    config.port.store(0, Relaxed);
    config.io_threads.store(io_threads, Relaxed);
    Background::start(config).expect("server starts")
}

/// A raw connection that speaks RESP by hand.
pub struct Raw {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    pub fn connect(server: &Background) -> Raw {
        let stream = TcpStream::connect(server.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        Raw {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn from_stream(stream: TcpStream) -> Raw {
        Raw {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    pub fn send_args(&mut self, args: &[&[u8]]) {
        let mut out = Vec::new();
        encode_command(args, &mut out);
        self.send_raw(&out);
    }

    /// Reads one reply frame; None if the server closed the connection.
    pub fn read(&mut self) -> Option<Frame> {
        loop {
            if let Some((frame, used)) = parse_frame(&self.buf).unwrap() {
                self.buf.drain(..used);
                return Some(frame);
            }
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// True if the server closes the connection (after any replies still to come).
    pub fn closed(&mut self) -> bool {
        self.read().is_none()
    }
}
