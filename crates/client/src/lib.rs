//! A small blocking client: sends commands, reads RESP3 replies, and turns them into values.
//!
//! Architecture invariant: the client knows RESP and values, never the engine.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use okdb_resp::{encode_command, parse_frame, Frame, ProtocolError};
use okdb_value::{Dict, SmolStr, Value};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach okdb at {addr}: {source}")]
    Connect { addr: String, source: io::Error },
    #[error("connection lost: {0}")]
    Io(#[from] io::Error),
    #[error("bad reply from server: {0}")]
    Protocol(#[from] ProtocolError),
    #[error("server closed the connection")]
    Closed,
}

#[derive(Debug)]
pub struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
    out: Vec<u8>,
}

impl Client {
    /// Connects, switches to RESP3 (so replies carry their types) and to strict literals
    /// (`CLIENT LITERALS strict`: the friendly Python forms, and an error for a malformed
    /// literal), as okdb's own clients read values.
    pub fn connect(addr: &str) -> Result<Client, ClientError> {
        let stream = TcpStream::connect(addr).map_err(|source| ClientError::Connect {
            addr: addr.to_string(),
            source,
        })?;
        let _ = stream.set_nodelay(true);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(3600)));
        let mut c = Client {
            stream,
            buf: Vec::with_capacity(4096),
            out: Vec::new(),
        };
        for hello in [&["HELLO", "3"][..], &["CLIENT", "LITERALS", "strict"]] {
            if let Frame::Error(e) = c.call(hello)? {
                return Err(ClientError::Io(io::Error::other(e)));
            }
        }
        Ok(c)
    }

    /// Sends one command and reads its reply.
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Frame, ClientError> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_ref()).collect();
        self.out.clear();
        encode_command(&args, &mut self.out);
        self.stream.write_all(&self.out)?;
        self.read_frame()
    }

    /// Reads the next frame the server sends (a push of `LISTEN` or `SUBSCRIBE`).
    pub fn read(&mut self) -> Result<Frame, ClientError> {
        self.read_frame()
    }

    /// Reads one reply. The frame parser starts from the beginning of the buffer, so it is
    /// tried again only when the socket has nothing more to give right now or the buffer has
    /// doubled since the last try: a large reply costs O(size), not O(size²).
    fn read_frame(&mut self) -> Result<Frame, ClientError> {
        let mut tried_at = None;
        loop {
            if tried_at != Some(self.buf.len()) {
                if let Some((frame, used)) = parse_frame(&self.buf)? {
                    self.buf.drain(..used);
                    return Ok(frame);
                }
                tried_at = Some(self.buf.len());
            }
            self.fill(2 * self.buf.len())?;
        }
    }

    /// Blocks for at least one read, then goes on reading without blocking while data is ready,
    /// until the buffer holds `target` bytes.
    fn fill(&mut self, target: usize) -> Result<(), ClientError> {
        let mut chunk = [0u8; 64 << 10];
        let n = self.stream.read(&mut chunk)?;
        if n == 0 {
            return Err(ClientError::Closed);
        }
        self.buf.extend_from_slice(&chunk[..n]);
        if self.buf.len() >= target || n < chunk.len() {
            return Ok(());
        }
        self.stream.set_nonblocking(true)?;
        let result = loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => break Ok(()), // closed: the next blocking read reports it
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    if self.buf.len() >= target {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(e.into()),
            }
        };
        self.stream.set_nonblocking(false)?;
        result
    }
}

/// A reply as a value: RESP3 types map to okdb types (a bulk string that is not UTF-8 becomes
/// bytes). Status lines and text become strings; an error or a big number is not a value: None.
pub fn to_value(frame: &Frame) -> Option<Value> {
    Some(match frame {
        Frame::Null => Value::Null,
        Frame::Boolean(b) => Value::Bool(*b),
        Frame::Integer(i) => Value::Int(*i),
        Frame::Double(d) => Value::Float(*d),
        Frame::Simple(s) => Value::str(s),
        Frame::Verbatim { text, .. } => Value::str(text),
        Frame::Bulk(b) => match std::str::from_utf8(b) {
            Ok(s) => Value::str(s),
            Err(_) => Value::Bytes(b.to_vec().into()),
        },
        Frame::Array(items) | Frame::Push(items) => {
            Value::list(items.iter().map(to_value).collect::<Option<Vec<_>>>()?)
        }
        Frame::Set(items) => {
            Value::set(items.iter().map(to_value).collect::<Option<Vec<_>>>()?).ok()?
        }
        Frame::Map(pairs) => {
            let mut d = Dict::new();
            for (k, v) in pairs {
                let key: SmolStr = match k {
                    Frame::Bulk(b) => std::str::from_utf8(b).ok()?.into(),
                    Frame::Simple(s) => s.as_str().into(),
                    _ => return None,
                };
                d.insert(key, to_value(v)?);
            }
            Value::Dict(d)
        }
        _ => return None,
    })
}
