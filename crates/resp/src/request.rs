//! Server side: incremental request parsing.

use bytes::{Bytes, BytesMut};

use crate::inline::{tokenize, Token};
use crate::ProtocolError;

/// A valid `*N` / `$N` header line is at most 21 bytes before its CRLF (`$-9223372036854775808`);
/// a header without CRLF in this many bytes is garbage, so header scanning is O(1).
const MAX_HEADER_LINE: usize = 32;

/// Preallocation cap for the argument list: `*N` is a promise, not a fact.
const ARGS_PREALLOC: usize = 1024;

/// Above this many slots the reused argument-position buffer is shrunk after a request.
const ARGS_KEEP: usize = 4096;

/// What a client may send before the server refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest bulk string argument (`$N`), in bytes. Default 64 MiB.
    pub max_bulk: usize,
    /// Most arguments in one request (`*N`). Default 1 048 576.
    pub max_args: usize,
    /// Longest inline command line, in bytes, not counting its `\n`. Default 64 KiB.
    pub max_inline: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bulk: 64 * 1024 * 1024,
            max_args: 1024 * 1024,
            max_inline: 64 * 1024,
        }
    }
}

/// Where the parser stands in the request at the front of the buffer. All positions are offsets
/// from the start of the buffer, which holds the start of that request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Nothing of the next request has been looked at.
    Start,
    /// An inline request; `buf[..scanned]` holds no `\n`.
    Inline { scanned: usize },
    /// A multibulk request with `remaining` bulk strings still to come, the next header at `pos`.
    Header { remaining: usize, pos: usize },
    /// Inside a multibulk request: a bulk string of `len` bytes starts at `pos`; `remaining`
    /// counts it.
    Bulk {
        remaining: usize,
        pos: usize,
        len: usize,
    },
}

/// An incremental request parser: one per connection.
///
/// It remembers how far it got in the (incomplete) request at the front of the buffer, so each
/// call only looks at bytes it has not looked at before, and a call while a bulk string is still
/// arriving costs O(1). Parsing a request of n bytes delivered in any number of reads is O(n)
/// overall.
///
/// The contract: between calls that return `Ok(None)`, the caller may only **append** to the
/// buffer (reading from the socket, `reserve`, reallocating are all fine). If it discards or
/// replaces buffered bytes, it calls [`reset`](Self::reset) first. After an error the parser is
/// reset, but the stream is unusable: reply with the error and close the connection.
///
/// ```
/// use bytes::BytesMut;
/// use okdb_resp::{Limits, RequestParser};
///
/// let mut parser = RequestParser::new(Limits::default());
/// let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$5\r\nhel"[..]);
/// assert_eq!(parser.parse(&mut buf).unwrap(), None);
/// assert_eq!(parser.needed(), 24); // the rest of "hello" and its CRLF
/// buf.extend_from_slice(b"lo\r\nPING\r\n");
/// assert_eq!(parser.parse(&mut buf).unwrap().unwrap(), ["GET", "hello"]);
/// assert_eq!(parser.parse(&mut buf).unwrap().unwrap(), ["PING"]);
/// assert!(buf.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct RequestParser {
    limits: Limits,
    phase: Phase,
    /// Positions of the bulk strings of the current request found so far; reused across requests.
    args: Vec<(usize, usize)>,
    /// The buffer length below which another call cannot make progress.
    needed: usize,
}

impl RequestParser {
    /// A parser enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            phase: Phase::Start,
            args: Vec::new(),
            needed: 0,
        }
    }

    /// The limits this parser enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Changes the limits (after `CONFIG SET`, say). A header already parsed keeps the verdict
    /// it got; every later one is checked against the new limits.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The buffer length (counted from the start of the buffer) below which the next
    /// [`parse`](Self::parse) will surely return `Ok(None)`.
    ///
    /// While a bulk string is arriving this is exact: the end of that bulk string and its CRLF.
    /// Otherwise it is one more byte than the buffer held. A server can use it to skip calls, or to
    /// size its next read — but it should cap any `reserve` it derives from it (say at 1 MiB
    /// beyond what it has), because the number comes from the client's announcement.
    pub fn needed(&self) -> usize {
        self.needed
    }

    /// Forgets the partial request: the next call starts parsing at the front of the buffer.
    pub fn reset(&mut self) {
        self.phase = Phase::Start;
        self.needed = 0;
        self.args.clear();
        if self.args.capacity() > ARGS_KEEP {
            self.args.shrink_to(ARGS_PREALLOC);
        }
    }

    /// Parses one request from the front of `buf`.
    ///
    /// A complete request is split off `buf` (`split_to` + `freeze`) and returned as its
    /// arguments, each a zero-copy slice of those bytes (inline arguments that needed unquoting
    /// are copied). An empty inline line or `*0` returns `Some` of an empty vector, which the
    /// caller should skip. An incomplete request returns `Ok(None)` and leaves `buf` untouched.
    ///
    /// A request is a RESP array of bulk strings if its first byte is `*`, else an inline command
    /// line ended by `\n` or `\r\n` and split with [`split_inline`](crate::split_inline)'s rules.
    ///
    /// # Errors
    /// Malformed input, or input over the [`Limits`]; the connection should then be closed.
    pub fn parse(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let mut spans = Vec::new();
        let mut unquoted = Vec::new();
        let Some(len) = self.parse_spans(buf, 0, &mut spans, &mut unquoted)? else {
            return Ok(None);
        };
        let frame = buf.split_to(len).freeze();
        let unquoted = Bytes::from(unquoted);
        Ok(Some(
            spans
                .iter()
                .map(|a| match a.unquoted {
                    false => frame.slice(a.start..a.end),
                    true => unquoted.slice(a.start..a.end),
                })
                .collect(),
        ))
    }

    /// Parses the request at the front of `buf` without splitting it off, for a server that
    /// takes a whole pipeline off its read buffer at once and lends the arguments as slices of
    /// it (no reference count per argument). `Some(len)` when the request is complete: it is
    /// `buf[..len]`, and its arguments are appended to `out` as spans of `buf` moved by `base`
    /// (where `buf` starts in the caller's batch); an inline argument that needed unquoting is
    /// appended to `unquoted` instead and its span points there. An empty inline line or `*0`
    /// is complete with no arguments. `None` while incomplete, with the same contract as
    /// [`parse`](Self::parse): between such calls the caller only appends to `buf`.
    ///
    /// # Errors
    /// As [`parse`](Self::parse).
    pub fn parse_spans(
        &mut self,
        buf: &[u8],
        base: usize,
        out: &mut Vec<ArgSpan>,
        unquoted: &mut Vec<u8>,
    ) -> Result<Option<usize>, ProtocolError> {
        if buf.len() < self.needed {
            return Ok(None);
        }
        let result = self.advance(buf);
        match result {
            Ok(Some(Done::Bulk(len))) => {
                out.extend(self.args.iter().map(|&(start, end)| ArgSpan {
                    start: base + start,
                    end: base + end,
                    unquoted: false,
                }));
                self.reset();
                Ok(Some(len))
            }
            Ok(Some(Done::Inline(len, tokens))) => {
                out.extend(tokens.into_iter().map(|token| match token {
                    Token::Span(start, end) => ArgSpan {
                        start: base + start,
                        end: base + end,
                        unquoted: false,
                    },
                    Token::Owned(bytes) => {
                        let start = unquoted.len();
                        unquoted.extend_from_slice(&bytes);
                        ArgSpan {
                            start,
                            end: unquoted.len(),
                            unquoted: true,
                        }
                    }
                }));
                Ok(Some(len))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                self.reset();
                Err(e)
            }
        }
    }

    fn advance(&mut self, buf: &[u8]) -> Result<Option<Done>, ProtocolError> {
        loop {
            match self.phase {
                Phase::Start => {
                    let Some(&first) = buf.first() else {
                        self.needed = 1;
                        return Ok(None);
                    };
                    if first != b'*' {
                        self.phase = Phase::Inline { scanned: 0 };
                        continue;
                    }
                    let Some((n, next)) = header(buf, 0, ProtocolError::InvalidMultibulkLength)?
                    else {
                        self.needed = buf.len() + 1;
                        return Ok(None);
                    };
                    if n <= 0 {
                        // Redis treats `*0` and `*-1` as an empty request.
                        self.reset();
                        return Ok(Some(Done::Bulk(next)));
                    }
                    let n = usize::try_from(n)
                        .ok()
                        .filter(|&n| n <= self.limits.max_args)
                        .ok_or(ProtocolError::InvalidMultibulkLength)?;
                    self.args.clear();
                    self.args.reserve(n.min(ARGS_PREALLOC));
                    self.phase = Phase::Header {
                        remaining: n,
                        pos: next,
                    };
                }
                Phase::Inline { scanned } => return self.inline(buf, scanned),
                Phase::Header { remaining: 0, pos } => return Ok(Some(Done::Bulk(pos))),
                Phase::Header { remaining, pos } => {
                    let Some(&kind) = buf.get(pos) else {
                        self.needed = pos + 1;
                        return Ok(None);
                    };
                    if kind != b'$' {
                        return Err(ProtocolError::ExpectedBulk(kind));
                    }
                    let Some((len, data)) = header(buf, pos, ProtocolError::InvalidBulkLength)?
                    else {
                        self.needed = buf.len() + 1;
                        return Ok(None);
                    };
                    let len = usize::try_from(len)
                        .ok()
                        .filter(|&len| len <= self.limits.max_bulk)
                        .ok_or(ProtocolError::InvalidBulkLength)?;
                    self.phase = Phase::Bulk {
                        remaining,
                        pos: data,
                        len,
                    };
                }
                Phase::Bulk {
                    remaining,
                    pos,
                    len,
                } => {
                    let end = pos
                        .checked_add(len)
                        .and_then(|end| end.checked_add(2))
                        .ok_or(ProtocolError::InvalidBulkLength)?;
                    if buf.len() < end {
                        self.needed = end;
                        return Ok(None);
                    }
                    if &buf[end - 2..end] != b"\r\n" {
                        return Err(ProtocolError::MissingBulkCrlf);
                    }
                    self.args.push((pos, end - 2));
                    self.phase = Phase::Header {
                        remaining: remaining - 1,
                        pos: end,
                    };
                }
            }
        }
    }

    /// Continues an inline request whose first `scanned` bytes hold no newline.
    fn inline(&mut self, buf: &[u8], scanned: usize) -> Result<Option<Done>, ProtocolError> {
        let max = self.limits.max_inline;
        // A newline beyond index `max` would make the line too long: never look further.
        let window = buf.len().min(max.saturating_add(1));
        let from = scanned.min(window);
        let Some(offset) = memchr::memchr(b'\n', &buf[from..window]) else {
            if buf.len() > max {
                return Err(ProtocolError::TooBigInline);
            }
            self.phase = Phase::Inline { scanned: buf.len() };
            self.needed = buf.len() + 1;
            return Ok(None);
        };
        let newline = from + offset;
        let line_end = if newline > 0 && buf[newline - 1] == b'\r' {
            newline - 1
        } else {
            newline
        };
        let mut tokens = Vec::new();
        tokenize(&buf[..line_end], &mut tokens)?;
        self.reset();
        Ok(Some(Done::Inline(newline + 1, tokens)))
    }
}

/// Where a request's argument is: `buf[start..end]` of the batch, or of the unquoted bytes
/// ([`RequestParser::parse_spans`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgSpan {
    pub start: usize,
    pub end: usize,
    /// In the unquoted bytes (an inline argument with quotes or escapes), not the batch.
    pub unquoted: bool,
}

/// A complete request: its length, and where its arguments are (the multibulk ones in the
/// parser's `args`).
enum Done {
    Bulk(usize),
    Inline(usize, Vec<Token>),
}

/// Parses the header line (`*N` or `$N`) whose type byte is at `buf[pos]`: returns N and the
/// position after its CRLF, `None` if incomplete, or `err` if malformed.
fn header(
    buf: &[u8],
    pos: usize,
    err: ProtocolError,
) -> Result<Option<(i64, usize)>, ProtocolError> {
    let rest = &buf[pos + 1..];
    // The common case, a short non-negative number and its CRLF, in one pass.
    if let [b'1'..=b'9', ..] = rest {
        let mut n: i64 = 0;
        for (i, &d) in rest.iter().enumerate().take(18) {
            match d {
                b'0'..=b'9' => n = n * 10 + i64::from(d - b'0'),
                b'\r' if rest.get(i + 1) == Some(&b'\n') => return Ok(Some((n, pos + 1 + i + 2))),
                _ => break,
            }
        }
    }
    let window = &rest[..rest.len().min(MAX_HEADER_LINE)];
    match memchr::memchr(b'\r', window) {
        Some(cr) => match rest.get(cr + 1) {
            None => Ok(None),
            Some(b'\n') => match parse_i64(&rest[..cr]) {
                Some(n) => Ok(Some((n, pos + 1 + cr + 2))),
                None => Err(err),
            },
            Some(_) => Err(err),
        },
        None if rest.len() >= MAX_HEADER_LINE => Err(err),
        None => Ok(None),
    }
}

/// A decimal integer as Redis's `string2ll` reads it: optional `-`, no `+`, no leading zeros,
/// no overflow.
fn parse_i64(digits: &[u8]) -> Option<i64> {
    let (negative, digits) = match digits.strip_prefix(b"-") {
        Some(rest) => (true, rest),
        None => (false, digits),
    };
    match digits {
        [b'0'] if !negative => return Some(0),
        [b'1'..=b'9', ..] => {}
        _ => return None,
    }
    let mut magnitude: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude
            .checked_mul(10)?
            .checked_add(u64::from(d - b'0'))?;
    }
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Parses one request from the front of `buf`, starting from scratch.
///
/// The stateless form of [`RequestParser::parse`]; see there for what it returns. Each call
/// re-reads the headers of the partial request (never the bulk data, which it skips by length),
/// so with a partial request of k arguments a call costs O(k). A server should keep a
/// [`RequestParser`] per connection instead, which never re-reads anything.
///
/// # Errors
/// Malformed input, or input over `limits`.
pub fn parse_request(
    buf: &mut BytesMut,
    limits: &Limits,
) -> Result<Option<Vec<Bytes>>, ProtocolError> {
    RequestParser::new(*limits).parse(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode_command;

    fn args(list: &[&str]) -> Vec<Bytes> {
        list.iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    fn command(list: &[&str]) -> Vec<u8> {
        let parts: Vec<&[u8]> = list.iter().map(|s| s.as_bytes()).collect();
        let mut out = Vec::new();
        encode_command(&parts, &mut out);
        out
    }

    /// Every request in `input`, parsed from one buffer.
    fn parse_whole(input: &[u8], limits: Limits) -> Result<Vec<Vec<Bytes>>, ProtocolError> {
        let mut buf = BytesMut::from(input);
        let mut parser = RequestParser::new(limits);
        let mut out = Vec::new();
        while let Some(request) = parser.parse(&mut buf)? {
            out.push(request);
        }
        Ok(out)
    }

    /// The requests in `input` when it arrives in `chunk`-byte reads, with a parser kept across
    /// reads (`stateful`) or parsing from scratch each time.
    fn parse_chunked(
        input: &[u8],
        chunk: usize,
        limits: Limits,
        stateful: bool,
    ) -> Result<Vec<Vec<Bytes>>, ProtocolError> {
        let mut buf = BytesMut::new();
        let mut parser = RequestParser::new(limits);
        let mut out = Vec::new();
        for piece in input.chunks(chunk) {
            buf.extend_from_slice(piece);
            loop {
                let before = buf.clone();
                let parsed = if stateful {
                    parser.parse(&mut buf)?
                } else {
                    parse_request(&mut buf, &limits)?
                };
                match parsed {
                    Some(request) => out.push(request),
                    None => {
                        assert_eq!(buf, before, "incomplete parse must not touch the buffer");
                        break;
                    }
                }
            }
        }
        Ok(out)
    }

    fn pipeline() -> Vec<u8> {
        let mut input = command(&["SET", "key", "va\r\nlue"]);
        input.extend_from_slice(b"PING\r\n");
        input.extend(command(&["GET", "key"]));
        input.extend_from_slice(b"\r\n");
        input.extend_from_slice(b"  SET k {\"a\": [1, 2]}  \n");
        input.extend_from_slice(b"*0\r\n");
        input.extend(command(&["MSET", "", "x", "\u{e9}"]));
        input.extend_from_slice(b"ECHO \"a b\"\n");
        input
    }

    fn pipeline_expected() -> Vec<Vec<Bytes>> {
        vec![
            args(&["SET", "key", "va\r\nlue"]),
            args(&["PING"]),
            args(&["GET", "key"]),
            args(&[]),
            args(&["SET", "k", "{\"a\": [1, 2]}"]),
            args(&[]),
            args(&["MSET", "", "x", "\u{e9}"]),
            args(&["ECHO", "a b"]),
        ]
    }

    #[test]
    fn pipelined_requests_in_one_buffer() {
        assert_eq!(
            parse_whole(&pipeline(), Limits::default()).unwrap(),
            pipeline_expected()
        );
    }

    #[test]
    fn any_read_boundaries_give_the_same_requests() {
        let input = pipeline();
        for chunk in 1..=input.len() {
            for stateful in [true, false] {
                assert_eq!(
                    parse_chunked(&input, chunk, Limits::default(), stateful).unwrap(),
                    pipeline_expected(),
                    "chunk {chunk}, stateful {stateful}"
                );
            }
        }
    }

    /// What a server does with `parse_spans`: parse every complete request of what has arrived,
    /// split them off at once, and read each argument from the split bytes or the unquoted ones.
    #[test]
    fn spans_of_a_whole_pipeline_at_any_read_boundaries() {
        let input = pipeline();
        for chunk in 1..=input.len() {
            let mut parser = RequestParser::new(Limits::default());
            let mut buf = BytesMut::new();
            let mut requests = Vec::new();
            for piece in input.chunks(chunk) {
                buf.extend_from_slice(piece);
                let (mut spans, mut unquoted, mut ends, mut taken) = (vec![], vec![], vec![], 0);
                while let Some(len) = parser
                    .parse_spans(&buf[taken..], taken, &mut spans, &mut unquoted)
                    .unwrap()
                {
                    taken += len;
                    ends.push(spans.len());
                }
                let batch = buf.split_to(taken).freeze();
                let mut start = 0;
                for end in ends {
                    let request: Vec<Bytes> = spans[start..end]
                        .iter()
                        .map(|a: &ArgSpan| match a.unquoted {
                            false => batch.slice(a.start..a.end),
                            true => Bytes::copy_from_slice(&unquoted[a.start..a.end]),
                        })
                        .collect();
                    requests.push(request);
                    start = end;
                }
            }
            assert!(buf.is_empty(), "chunk {chunk}");
            assert_eq!(requests, pipeline_expected(), "chunk {chunk}");
        }
    }

    #[test]
    fn every_split_point_of_one_request() {
        let input = command(&["SET", "some-key", "some value", "EX", "100"]);
        let expected = args(&["SET", "some-key", "some value", "EX", "100"]);
        for split in 0..=input.len() {
            let mut parser = RequestParser::new(Limits::default());
            let mut buf = BytesMut::from(&input[..split]);
            if split < input.len() {
                assert_eq!(parser.parse(&mut buf).unwrap(), None);
                assert_eq!(buf.len(), split);
                buf.extend_from_slice(&input[split..]);
            }
            assert_eq!(parser.parse(&mut buf).unwrap(), Some(expected.clone()));
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn arguments_are_zero_copy_slices() {
        let mut buf = BytesMut::from(&command(&["GET", "key"])[..]);
        let start = buf.as_ptr() as usize;
        let request = parse_request(&mut buf, &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!(request[0].as_ptr() as usize, start + 8);
        assert_eq!(request[1].as_ptr() as usize, start + 17);
    }

    #[test]
    fn inline_commands() {
        let cases: &[(&[u8], &[&str])] = &[
            (b"PING\n", &["PING"]),
            (b"PING\r\n", &["PING"]),
            (b"SET a b\r\n", &["SET", "a", "b"]),
            (b"\n", &[]),
            (b"\r\n", &[]),
            (b"GET \"x y\"\n", &["GET", "x y"]),
            (b"ECHO a\rb\n", &["ECHO", "a", "b"]),
        ];
        for (input, expected) in cases {
            let mut buf = BytesMut::from(*input);
            let got = parse_request(&mut buf, &Limits::default()).unwrap();
            assert_eq!(got, Some(args(expected)), "{input:?}");
            assert!(buf.is_empty());
        }
        let mut buf = BytesMut::from(&b"GET \"unterminated\n"[..]);
        assert_eq!(
            parse_request(&mut buf, &Limits::default()),
            Err(ProtocolError::UnbalancedQuotes)
        );
        let mut buf = BytesMut::from(&b"SET k {\n"[..]);
        assert_eq!(
            parse_request(&mut buf, &Limits::default()),
            Err(ProtocolError::UnbalancedBrackets)
        );
    }

    #[test]
    fn garbage_is_an_error() {
        let cases: &[(&[u8], ProtocolError)] = &[
            (b"*abc\r\n", ProtocolError::InvalidMultibulkLength),
            (b"*\r\n", ProtocolError::InvalidMultibulkLength),
            (b"*+1\r\n", ProtocolError::InvalidMultibulkLength),
            (b"*01\r\n", ProtocolError::InvalidMultibulkLength),
            (b"*1\rx", ProtocolError::InvalidMultibulkLength),
            (
                b"*99999999999999999999\r\n",
                ProtocolError::InvalidMultibulkLength,
            ),
            (
                b"*111111111111111111111111111111111111",
                ProtocolError::InvalidMultibulkLength,
            ),
            (b"*2\r\n:1\r\n", ProtocolError::ExpectedBulk(b':')),
            (b"*1\r\n*1\r\n", ProtocolError::ExpectedBulk(b'*')),
            (b"*1\r\n$-5\r\n", ProtocolError::InvalidBulkLength),
            (b"*1\r\n$-1\r\n", ProtocolError::InvalidBulkLength),
            (b"*1\r\n$x\r\n", ProtocolError::InvalidBulkLength),
            (b"*1\r\n$-0\r\n", ProtocolError::InvalidBulkLength),
            (b"*1\r\n$3\r\nabcde", ProtocolError::MissingBulkCrlf),
            (b"*1\r\n$3\r\nabc\n\r", ProtocolError::MissingBulkCrlf),
        ];
        for (input, expected) in cases {
            let mut buf = BytesMut::from(*input);
            assert_eq!(
                parse_request(&mut buf, &Limits::default()),
                Err(expected.clone()),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        assert_eq!(
            ProtocolError::ExpectedBulk(b':').to_string(),
            "Protocol error: expected '$', got ':'"
        );
    }

    #[test]
    fn empty_and_negative_multibulk_are_empty_requests() {
        let mut buf = BytesMut::from(&b"*0\r\n*-1\r\n"[..]);
        let limits = Limits::default();
        assert_eq!(parse_request(&mut buf, &limits).unwrap(), Some(vec![]));
        assert_eq!(parse_request(&mut buf, &limits).unwrap(), Some(vec![]));
        assert!(buf.is_empty());
        assert_eq!(parse_request(&mut buf, &limits).unwrap(), None);
    }

    #[test]
    fn huge_bulk_announcement() {
        let input = b"*2\r\n$3\r\nSET\r\n$104857600\r\n";
        let mut buf = BytesMut::with_capacity(64);
        buf.extend_from_slice(input);
        assert_eq!(
            parse_request(&mut buf, &Limits::default()),
            Err(ProtocolError::InvalidBulkLength)
        );

        let limits = Limits {
            max_bulk: 200 * 1024 * 1024,
            ..Limits::default()
        };
        let capacity = buf.capacity();
        let mut parser = RequestParser::new(limits);
        assert_eq!(parser.parse(&mut buf).unwrap(), None);
        assert_eq!(parse_request(&mut buf, &limits).unwrap(), None);
        assert_eq!(buf.capacity(), capacity);
        assert_eq!(&buf[..], input);
        assert_eq!(parser.needed(), input.len() + 104_857_600 + 2);
    }

    #[test]
    fn limits_are_enforced() {
        let limits = Limits {
            max_bulk: 5,
            max_args: 3,
            max_inline: 10,
        };
        let ok = |input: &[u8]| {
            let mut buf = BytesMut::from(input);
            parse_request(&mut buf, &limits).map(|r| r.is_some())
        };
        assert_eq!(ok(b"*3\r\n$5\r\nabcde\r\n$0\r\n\r\n$1\r\nx\r\n"), Ok(true));
        assert_eq!(ok(b"*4\r\n"), Err(ProtocolError::InvalidMultibulkLength));
        assert_eq!(ok(b"*1\r\n$6\r\n"), Err(ProtocolError::InvalidBulkLength));
        assert_eq!(ok(b"0123456789\n"), Ok(true));
        assert_eq!(ok(b"0123456789\r\n"), Err(ProtocolError::TooBigInline));
        assert_eq!(ok(b"0123456789"), Ok(false));
        assert_eq!(ok(b"0123456789a"), Err(ProtocolError::TooBigInline));
        // The default limit: 64 KiB of inline without a newline is refused.
        let mut buf = BytesMut::from(&vec![b'a'; 64 * 1024 + 1][..]);
        assert_eq!(
            parse_request(&mut buf, &Limits::default()),
            Err(ProtocolError::TooBigInline)
        );
    }

    #[test]
    fn needed_tracks_progress() {
        let mut parser = RequestParser::new(Limits::default());
        let mut buf = BytesMut::new();
        assert_eq!(parser.parse(&mut buf).unwrap(), None);
        assert_eq!(parser.needed(), 1);
        buf.extend_from_slice(b"*1\r\n$10\r\n");
        assert_eq!(parser.parse(&mut buf).unwrap(), None);
        assert_eq!(parser.needed(), 9 + 12);
        buf.extend_from_slice(b"0123456789\r");
        assert_eq!(parser.parse(&mut buf).unwrap(), None);
        buf.extend_from_slice(b"\n");
        assert_eq!(parser.parse(&mut buf).unwrap(), Some(args(&["0123456789"])));
        buf.extend_from_slice(b"PIN");
        assert_eq!(parser.parse(&mut buf).unwrap(), None);
        assert_eq!(parser.needed(), 4);
    }

    #[test]
    fn limits_can_change_between_calls() {
        let mut parser = RequestParser::new(Limits::default());
        let mut buf = BytesMut::from(&b"*1\r\n$6\r\nabcdef\r\n"[..]);
        parser.set_limits(Limits {
            max_bulk: 5,
            ..Limits::default()
        });
        assert_eq!(parser.limits().max_bulk, 5);
        assert_eq!(
            parser.parse(&mut buf),
            Err(ProtocolError::InvalidBulkLength)
        );
    }

    #[test]
    fn reset_after_error_starts_over() {
        let mut parser = RequestParser::new(Limits::default());
        let mut buf = BytesMut::from(&b"*1\r\n:1\r\n"[..]);
        assert!(parser.parse(&mut buf).is_err());
        let mut buf = BytesMut::from(&b"PING\r\n"[..]);
        assert_eq!(parser.parse(&mut buf).unwrap(), Some(args(&["PING"])));
    }

    /// A request with many small arguments arriving one byte at a time: quadratic rescanning
    /// would take billions of steps here; the parser takes a few hundred thousand.
    #[test]
    fn byte_by_byte_many_arguments_is_linear() {
        let n = 50_000;
        let mut input = format!("*{n}\r\n").into_bytes();
        for _ in 0..n {
            input.extend_from_slice(b"$1\r\nx\r\n");
        }
        let mut parser = RequestParser::new(Limits::default());
        let mut buf = BytesMut::new();
        let mut calls = 0;
        for &b in &input {
            buf.extend_from_slice(&[b]);
            if buf.len() >= parser.needed() {
                calls += 1;
                if let Some(request) = parser.parse(&mut buf).unwrap() {
                    assert_eq!(request.len(), n);
                    assert!(buf.is_empty());
                }
            }
        }
        assert!(buf.is_empty());
        assert!(calls <= input.len());
    }

    #[test]
    fn strict_integers() {
        for (text, expected) in [
            ("0", Some(0)),
            ("7", Some(7)),
            ("-7", Some(-7)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("-9223372036854775809", None),
            ("", None),
            ("-", None),
            ("-0", None),
            ("00", None),
            ("+1", None),
            ("1a", None),
            (" 1", None),
        ] {
            assert_eq!(parse_i64(text.as_bytes()), expected, "{text:?}");
        }
    }
}
