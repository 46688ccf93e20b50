//! Client side: RESP2 and RESP3 reply frames and their parser.

use bytes::Bytes;

use crate::ProtocolError;

/// How deeply aggregates (arrays, maps, sets, pushes, attributes) may nest in a reply.
pub const MAX_DEPTH: usize = 512;

/// Preallocation cap for aggregates: an announced count is a promise, not a fact.
const PREALLOC: usize = 16;

/// One RESP2 or RESP3 reply.
///
/// RESP2's null bulk string `$-1` and null array `*-1` both parse as [`Frame::Null`]; a blob error
/// (`!`) parses as [`Frame::Error`]. RESP3 attributes (`|`) are parsed and dropped: the frame they
/// annotate is returned. Texts (simple strings, errors, big numbers, verbatim strings) that are not
/// UTF-8 are decoded lossily; [`Frame::Bulk`] keeps any bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `+text`
    Simple(String),
    /// `-CODE message` or `!len\r\nCODE message`
    Error(String),
    /// `:n`
    Integer(i64),
    /// `$len\r\nbytes`
    Bulk(Bytes),
    /// `_`, `$-1` or `*-1`
    Null,
    /// `*n` then n frames
    Array(Vec<Frame>),
    /// `%n` then n key/value pairs
    Map(Vec<(Frame, Frame)>),
    /// `~n` then n frames
    Set(Vec<Frame>),
    /// `,1.5`, `,inf`, `,-inf`, `,nan`
    Double(f64),
    /// `#t` / `#f`
    Boolean(bool),
    /// `(digits`
    BigNumber(String),
    /// `=len\r\nfmt:text`
    Verbatim {
        /// Three bytes such as `txt` or `mkd`.
        format: String,
        /// The text after `fmt:`.
        text: String,
    },
    /// `>n` then n frames: an out-of-band message (pub/sub, change feed).
    Push(Vec<Frame>),
}

/// Parses one reply frame from the front of `buf`.
///
/// Returns `Ok(Some((frame, consumed)))` when `buf` starts with a complete frame of `consumed`
/// bytes, `Ok(None)` when more bytes are needed. An incomplete frame is parsed (and dropped)
/// again on the next call, so a caller should call again only when more has arrived (the okdb
/// client waits until the socket is drained or its buffer has doubled). An aggregate header
/// preallocates at most 16 slots, whatever count it announces.
///
/// ```
/// use okdb_resp::{parse_frame, Frame};
/// let (frame, used) = parse_frame(b"*2\r\n:1\r\n$-1\r\nextra").unwrap().unwrap();
/// assert_eq!(frame, Frame::Array(vec![Frame::Integer(1), Frame::Null]));
/// assert_eq!(used, 13);
/// assert_eq!(parse_frame(b"*2\r\n:1\r\n").unwrap(), None);
/// ```
///
/// # Errors
/// A malformed frame, or aggregates nested deeper than [`MAX_DEPTH`].
pub fn parse_frame(buf: &[u8]) -> Result<Option<(Frame, usize)>, ProtocolError> {
    let mut cursor = Cursor { buf, pos: 0 };
    Ok(cursor.frame()?.map(|frame| (frame, cursor.pos)))
}

/// `Ok(None)` (need more bytes) propagates like `?` does for errors.
macro_rules! ready {
    ($e:expr) => {
        match $e? {
            Some(value) => value,
            None => return Ok(None),
        }
    };
}

type Step<T> = Result<Option<T>, ProtocolError>;

/// An aggregate whose elements are still being parsed.
enum Open {
    /// An array, set or push (`kind` is the type byte) still missing `remaining` elements.
    List {
        kind: u8,
        items: Vec<Frame>,
        remaining: usize,
    },
    /// A map still missing `remaining` pairs; `key` is a pair's key waiting for its value.
    Map {
        pairs: Vec<(Frame, Frame)>,
        key: Option<Frame>,
        remaining: usize,
    },
    /// An attribute still missing `remaining` keys and values, which are dropped.
    Attribute { remaining: usize },
}

impl Open {
    /// Adds a finished element; returns the aggregate if that finished it too.
    fn add(&mut self, element: Frame) -> Option<Frame> {
        match self {
            Open::List {
                kind,
                items,
                remaining,
            } => {
                items.push(element);
                *remaining -= 1;
                (*remaining == 0).then(|| {
                    let items = std::mem::take(items);
                    match kind {
                        b'~' => Frame::Set(items),
                        b'>' => Frame::Push(items),
                        _ => Frame::Array(items),
                    }
                })
            }
            Open::Map {
                pairs,
                key,
                remaining,
            } => match key.take() {
                None => {
                    *key = Some(element);
                    None
                }
                Some(k) => {
                    pairs.push((k, element));
                    *remaining -= 1;
                    (*remaining == 0).then(|| Frame::Map(std::mem::take(pairs)))
                }
            },
            Open::Attribute { remaining } => {
                *remaining -= 1;
                None
            }
        }
    }
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// The frame at `pos`. Aggregates are parsed with an explicit stack rather than recursion, so
    /// nesting costs heap, not call stack.
    fn frame(&mut self) -> Step<Frame> {
        let mut open: Vec<Open> = Vec::new();
        loop {
            let Some(mut done) = ready!(self.element(&mut open)) else {
                continue;
            };
            // Hand the finished frame up through every aggregate it completes.
            loop {
                let Some(parent) = open.last_mut() else {
                    return Ok(Some(done));
                };
                let finished = parent.add(done);
                if let Open::Attribute { remaining: 0 } = parent {
                    // The attribute is complete and dropped: the next frame is the one it annotates.
                    open.pop();
                }
                match finished {
                    Some(frame) => {
                        open.pop();
                        done = frame;
                    }
                    None => break,
                }
            }
        }
    }

    /// Parses the next element: `Some(frame)` if it is complete on its own (scalars, empty and null
    /// aggregates), `None` if it opened an aggregate (pushed on `open`) or an attribute.
    fn element(&mut self, open: &mut Vec<Open>) -> Step<Option<Frame>> {
        let Some(&kind) = self.buf.get(self.pos) else {
            return Ok(None);
        };
        self.pos += 1;
        let frame = match kind {
            b'+' => Frame::Simple(text(ready!(self.line()))),
            b'-' => Frame::Error(text(ready!(self.line()))),
            b':' => Frame::Integer(ready!(self.number("integer"))),
            b'$' => match ready!(self.blob(true)) {
                Some(data) => Frame::Bulk(Bytes::copy_from_slice(data)),
                None => Frame::Null,
            },
            b'!' => Frame::Error(text(ready!(self.blob(false)).unwrap_or_default())),
            b'=' => {
                let data = ready!(self.blob(false)).unwrap_or_default();
                if data.len() < 4 || data[3] != b':' {
                    return Err(ProtocolError::InvalidFrame("verbatim string"));
                }
                Frame::Verbatim {
                    format: text(&data[..3]),
                    text: text(&data[4..]),
                }
            }
            b'_' => {
                if !ready!(self.line()).is_empty() {
                    return Err(ProtocolError::InvalidFrame("null"));
                }
                Frame::Null
            }
            b'#' => match ready!(self.line()) {
                b"t" => Frame::Boolean(true),
                b"f" => Frame::Boolean(false),
                _ => return Err(ProtocolError::InvalidFrame("boolean")),
            },
            b',' => {
                let line = ready!(self.line());
                let f = std::str::from_utf8(line)
                    .ok()
                    .and_then(|s| s.parse::<f64>().ok())
                    .ok_or(ProtocolError::InvalidFrame("double"))?;
                Frame::Double(f)
            }
            b'(' => {
                let line = ready!(self.line());
                let digits = line.strip_prefix(b"-").unwrap_or(line);
                if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                    return Err(ProtocolError::InvalidFrame("big number"));
                }
                Frame::BigNumber(text(line))
            }
            b'*' | b'~' | b'>' | b'%' | b'|' => {
                let n = ready!(self.number("length"));
                if n == -1 && kind == b'*' {
                    return Ok(Some(Some(Frame::Null)));
                }
                let n = count(n)?;
                if open.len() >= MAX_DEPTH {
                    return Err(ProtocolError::TooDeep);
                }
                let aggregate = match kind {
                    b'%' => Open::Map {
                        pairs: Vec::with_capacity(n.min(PREALLOC)),
                        key: None,
                        remaining: n,
                    },
                    b'|' => Open::Attribute {
                        remaining: n.saturating_mul(2),
                    },
                    _ => Open::List {
                        kind,
                        items: Vec::with_capacity(n.min(PREALLOC)),
                        remaining: n,
                    },
                };
                if n == 0 {
                    return Ok(Some(match aggregate {
                        Open::Attribute { .. } => None,
                        Open::Map { .. } => Some(Frame::Map(Vec::new())),
                        Open::List { kind: b'~', .. } => Some(Frame::Set(Vec::new())),
                        Open::List { kind: b'>', .. } => Some(Frame::Push(Vec::new())),
                        Open::List { .. } => Some(Frame::Array(Vec::new())),
                    }));
                }
                open.push(aggregate);
                return Ok(Some(None));
            }
            other => return Err(ProtocolError::InvalidFrameType(other)),
        };
        Ok(Some(Some(frame)))
    }

    /// The bytes up to the next CRLF, which is consumed.
    fn line(&mut self) -> Step<&'a [u8]> {
        let rest = &self.buf[self.pos..];
        let Some(cr) = memchr::memchr(b'\r', rest) else {
            return Ok(None);
        };
        match rest.get(cr + 1) {
            None => Ok(None),
            Some(b'\n') => {
                self.pos += cr + 2;
                Ok(Some(&rest[..cr]))
            }
            Some(_) => Err(ProtocolError::InvalidFrame("line")),
        }
    }

    /// A line holding a decimal integer.
    fn number(&mut self, what: &'static str) -> Step<i64> {
        let line = ready!(self.line());
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .map(Some)
            .ok_or(ProtocolError::InvalidFrame(what))
    }

    /// A length line and that many bytes plus CRLF; `Some(None)` for `-1` if `nullable`.
    fn blob(&mut self, nullable: bool) -> Step<Option<&'a [u8]>> {
        let n = ready!(self.number("length"));
        if n == -1 && nullable {
            return Ok(Some(None));
        }
        let len = count(n)?;
        let start = self.pos;
        let end = start.saturating_add(len);
        if end.saturating_add(2) > self.buf.len() {
            return Ok(None);
        }
        if &self.buf[end..end + 2] != b"\r\n" {
            return Err(ProtocolError::InvalidFrame("bulk terminator"));
        }
        self.pos = end + 2;
        Ok(Some(Some(&self.buf[start..end])))
    }
}

/// An announced element count or length, which must not be negative.
fn count(n: i64) -> Result<usize, ProtocolError> {
    usize::try_from(n).map_err(|_| ProtocolError::InvalidFrame("length"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Encoder;

    fn parse_all(bytes: &[u8]) -> Frame {
        let (frame, used) = parse_frame(bytes).unwrap().unwrap();
        assert_eq!(used, bytes.len(), "{:?}", String::from_utf8_lossy(bytes));
        // Every proper prefix is incomplete, never an error.
        for end in 0..bytes.len() {
            assert_eq!(
                parse_frame(&bytes[..end]),
                Ok(None),
                "prefix of {end} bytes"
            );
        }
        frame
    }

    fn encode(frame: &Frame, resp3: bool) -> Vec<u8> {
        let mut out = Vec::new();
        Encoder::new(&mut out, resp3).frame(frame);
        out
    }

    fn bulk(s: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    /// A frame of every type, in wire form for RESP3 and RESP2.
    fn samples() -> Vec<(Frame, &'static str, &'static str)> {
        vec![
            (Frame::Simple("OK".into()), "+OK\r\n", "+OK\r\n"),
            (Frame::Simple(String::new()), "+\r\n", "+\r\n"),
            (Frame::Error("ERR x".into()), "-ERR x\r\n", "-ERR x\r\n"),
            (Frame::Integer(0), ":0\r\n", ":0\r\n"),
            (
                Frame::Integer(i64::MIN),
                ":-9223372036854775808\r\n",
                ":-9223372036854775808\r\n",
            ),
            (bulk("hello"), "$5\r\nhello\r\n", "$5\r\nhello\r\n"),
            (bulk("a\r\nb"), "$4\r\na\r\nb\r\n", "$4\r\na\r\nb\r\n"),
            (bulk(""), "$0\r\n\r\n", "$0\r\n\r\n"),
            (Frame::Null, "_\r\n", "$-1\r\n"),
            (Frame::Array(vec![]), "*0\r\n", "*0\r\n"),
            (
                Frame::Array(vec![Frame::Integer(1), bulk("x"), Frame::Null]),
                "*3\r\n:1\r\n$1\r\nx\r\n_\r\n",
                "*3\r\n:1\r\n$1\r\nx\r\n$-1\r\n",
            ),
            (
                Frame::Map(vec![
                    (bulk("a"), Frame::Integer(1)),
                    (Frame::Simple("b".into()), Frame::Array(vec![])),
                ]),
                "%2\r\n$1\r\na\r\n:1\r\n+b\r\n*0\r\n",
                "*4\r\n$1\r\na\r\n:1\r\n+b\r\n*0\r\n",
            ),
            (
                Frame::Set(vec![bulk("x"), bulk("y")]),
                "~2\r\n$1\r\nx\r\n$1\r\ny\r\n",
                "*2\r\n$1\r\nx\r\n$1\r\ny\r\n",
            ),
            (Frame::Double(1.5), ",1.5\r\n", "$3\r\n1.5\r\n"),
            (Frame::Double(f64::INFINITY), ",inf\r\n", "$3\r\ninf\r\n"),
            (
                Frame::Double(f64::NEG_INFINITY),
                ",-inf\r\n",
                "$4\r\n-inf\r\n",
            ),
            (Frame::Double(-2e-300), ",-2e-300\r\n", "$7\r\n-2e-300\r\n"),
            (Frame::Boolean(true), "#t\r\n", ":1\r\n"),
            (Frame::Boolean(false), "#f\r\n", ":0\r\n"),
            (
                Frame::BigNumber("3492890328409238509324850943850943825024385".into()),
                "(3492890328409238509324850943850943825024385\r\n",
                "$43\r\n3492890328409238509324850943850943825024385\r\n",
            ),
            (
                Frame::Verbatim {
                    format: "txt".into(),
                    text: "Some string".into(),
                },
                "=15\r\ntxt:Some string\r\n",
                "$11\r\nSome string\r\n",
            ),
            (
                Frame::Push(vec![bulk("message"), bulk("ch"), bulk("hi")]),
                ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
                "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
            ),
        ]
    }

    #[test]
    fn every_type_both_directions() {
        for (frame, resp3, resp2) in samples() {
            assert_eq!(encode(&frame, true), resp3.as_bytes(), "{frame:?}");
            assert_eq!(encode(&frame, false), resp2.as_bytes(), "{frame:?}");
            assert_eq!(parse_all(resp3.as_bytes()), frame);
            // RESP2 loses types, but parses back to what a RESP2 client sees.
            let resp2_frame = parse_all(resp2.as_bytes());
            assert_eq!(encode(&resp2_frame, false), resp2.as_bytes());
        }
    }

    #[test]
    fn nan_round_trips() {
        match parse_all(&encode(&Frame::Double(f64::NAN), true)) {
            Frame::Double(f) => assert!(f.is_nan()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn resp2_nulls_blob_errors_and_attributes() {
        assert_eq!(parse_all(b"$-1\r\n"), Frame::Null);
        assert_eq!(parse_all(b"*-1\r\n"), Frame::Null);
        assert_eq!(
            parse_all(b"!21\r\nSYNTAX invalid syntax\r\n"),
            Frame::Error("SYNTAX invalid syntax".into())
        );
        assert_eq!(
            parse_all(b"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*1\r\n:2\r\n"),
            Frame::Array(vec![Frame::Integer(2)])
        );
        assert_eq!(
            parse_all(b"*2\r\n|1\r\n+ttl\r\n:3\r\n:1\r\n:2\r\n"),
            Frame::Array(vec![Frame::Integer(1), Frame::Integer(2)])
        );
        assert_eq!(parse_all(b",1e3\r\n"), Frame::Double(1000.0));
        assert_eq!(parse_all(b":+5\r\n"), Frame::Integer(5));
        assert_eq!(parse_all(b"(-12\r\n"), Frame::BigNumber("-12".into()));
    }

    #[test]
    fn consumed_bytes_allow_pipelining() {
        let buf = b"+OK\r\n:5\r\n$2\r\nhi\r\n";
        let mut pos = 0;
        let mut frames = Vec::new();
        while let Some((frame, used)) = parse_frame(&buf[pos..]).unwrap() {
            frames.push(frame);
            pos += used;
        }
        assert_eq!(pos, buf.len());
        assert_eq!(
            frames,
            vec![Frame::Simple("OK".into()), Frame::Integer(5), bulk("hi")]
        );
    }

    #[test]
    fn garbage_is_an_error() {
        let cases: &[&[u8]] = &[
            b"?x\r\n",
            b"\r\n",
            b":abc\r\n",
            b":\r\n",
            b":1\rx",
            b"$-5\r\n",
            b"$abc\r\n",
            b"$3\r\nabcde\r\n",
            b"*-2\r\n",
            b"*x\r\n",
            b"%-1\r\n",
            b"*1\r\n?\r\n",
            b"#x\r\n",
            b",1.5.5\r\n",
            b",\r\n",
            b"_x\r\n",
            b"(12a\r\n",
            b"(\r\n",
            b"=2\r\nab\r\n",
            b"=5\r\ntxt-x\r\n",
            b"$?\r\n",
        ];
        for case in cases {
            assert!(
                parse_frame(case).is_err(),
                "{:?} parsed: {:?}",
                String::from_utf8_lossy(case),
                parse_frame(case)
            );
        }
    }

    #[test]
    fn nesting_is_limited() {
        let ok = "*1\r\n".repeat(MAX_DEPTH) + ":1\r\n";
        let mut frame = parse_all(ok.as_bytes());
        for _ in 0..MAX_DEPTH {
            frame = match frame {
                Frame::Array(mut items) => items.pop().unwrap(),
                other => panic!("{other:?}"),
            };
        }
        assert_eq!(frame, Frame::Integer(1));
        let deep = "*1\r\n".repeat(MAX_DEPTH + 1) + ":1\r\n";
        assert_eq!(parse_frame(deep.as_bytes()), Err(ProtocolError::TooDeep));
        // Far deeper input fails the same way, without overflowing the stack.
        let deeper = "%1\r\n".repeat(100_000);
        assert_eq!(parse_frame(deeper.as_bytes()), Err(ProtocolError::TooDeep));
    }

    #[test]
    fn huge_announcements_allocate_nothing_up_front() {
        assert_eq!(parse_frame(b"$9223372036854775807\r\nabc").unwrap(), None);
        assert_eq!(
            parse_frame(b"*9223372036854775807\r\n:1\r\n").unwrap(),
            None
        );
        assert_eq!(
            parse_frame(b"%9223372036854775807\r\n:1\r\n").unwrap(),
            None
        );
    }
}
