//! Reply and request encoding.
//!
//! Everything appends to a caller-owned `Vec<u8>`, so a connection can reuse one output buffer for
//! all its replies and write it in one syscall. Numbers are formatted on the stack; nothing here
//! allocates except the output buffer's own growth.

use std::fmt::{self, Write as _};

use crate::Frame;

const CRLF: &[u8] = b"\r\n";

/// Two ASCII digits for every value 0..100.
const DIGIT_PAIRS: [u8; 200] = {
    let mut table = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        table[2 * i] = b'0' + (i / 10) as u8;
        table[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    table
};

/// Writes the decimal digits of `v` at the end of `buf`; returns where they start.
fn write_u64(mut v: u64, buf: &mut [u8; 20]) -> usize {
    let mut pos = buf.len();
    while v >= 100 {
        let pair = (v % 100) as usize * 2;
        v /= 100;
        pos -= 2;
        buf[pos..pos + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if v >= 10 {
        let pair = v as usize * 2;
        pos -= 2;
        buf[pos..pos + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        pos -= 1;
        buf[pos] = b'0' + v as u8;
    }
    pos
}

/// Formats `n` in decimal into `buf` without allocating; returns the digits.
///
/// ```
/// let mut buf = [0u8; 20];
/// assert_eq!(okdb_resp::format_i64(-42, &mut buf), b"-42");
/// ```
pub fn format_i64(n: i64, buf: &mut [u8; 20]) -> &[u8] {
    // |i64::MIN| has 19 digits, so the sign always fits.
    let mut pos = write_u64(n.unsigned_abs(), buf);
    if n < 0 {
        pos -= 1;
        buf[pos] = b'-';
    }
    &buf[pos..]
}

/// A fixed stack buffer that `write!` can target.
struct StackText {
    buf: [u8; 64],
    len: usize,
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Calls `with` on the shortest text that reads back as exactly `f`: `inf`, `-inf`, `nan`,
/// plain decimal for magnitudes in `[1e-6, 1e21)` (and zero), exponent form (`1e300`,
/// `1.5e-7`) otherwise.
fn with_double_text<R>(f: f64, with: impl FnOnce(&[u8]) -> R) -> R {
    if f.is_nan() {
        return with(b"nan");
    }
    if f.is_infinite() {
        return with(if f > 0.0 { b"inf" } else { b"-inf" });
    }
    let mut text = StackText {
        buf: [0; 64],
        len: 0,
    };
    let magnitude = f.abs();
    let plain = magnitude == 0.0 || (1e-6..1e21).contains(&magnitude);
    let written = if plain {
        write!(text, "{f}")
    } else {
        write!(text, "{f:e}")
    };
    match written {
        Ok(()) => with(&text.buf[..text.len]),
        // Not reachable: these forms need at most 25 bytes. Stay correct anyway.
        Err(_) => with(
            if plain {
                f.to_string()
            } else {
                format!("{f:e}")
            }
            .as_bytes(),
        ),
    }
}

/// Appends `bytes` to `out` with every `\r` and `\n` replaced by a space, so a message can never
/// break the framing.
fn push_line(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut rest = bytes;
    while let Some(i) = memchr::memchr2(b'\r', b'\n', rest) {
        out.extend_from_slice(&rest[..i]);
        out.push(b' ');
        rest = &rest[i + 1..];
    }
    out.extend_from_slice(rest);
}

/// Encodes replies into a caller-owned buffer, in RESP3 or RESP2 form.
///
/// Each method appends one complete element (or the header of an aggregate, whose elements the
/// caller appends next). RESP3-only types are downgraded for RESP2 clients the way Redis does it:
///
/// | method | RESP3 | RESP2 |
/// |---|---|---|
/// | [`null`](Self::null) | `_` | `$-1` |
/// | [`null_array`](Self::null_array) | `_` | `*-1` |
/// | [`map`](Self::map)`(n)` | `%n` | `*2n` |
/// | [`set`](Self::set)`(n)` | `~n` | `*n` |
/// | [`push`](Self::push)`(n)` | `>n` | `*n` |
/// | [`double`](Self::double) | `,1.5` | bulk `1.5` |
/// | [`boolean`](Self::boolean) | `#t` / `#f` | `:1` / `:0` |
/// | [`big_number`](Self::big_number) | `(123` | bulk `123` |
/// | [`verbatim`](Self::verbatim) | `=7\r\ntxt:abc` | bulk `abc` |
///
/// ```
/// let mut out = Vec::new();
/// let mut enc = okdb_resp::Encoder::new(&mut out, false);
/// enc.ok();
/// enc.integer(-7);
/// enc.bulk(b"hi");
/// enc.map(1);
/// assert_eq!(out, b"+OK\r\n:-7\r\n$2\r\nhi\r\n*2\r\n");
/// ```
#[derive(Debug)]
pub struct Encoder<'a> {
    out: &'a mut Vec<u8>,
    resp3: bool,
}

impl<'a> Encoder<'a> {
    /// An encoder appending to `out`, speaking RESP3 if `resp3` (after `HELLO 3`), else RESP2.
    pub fn new(out: &'a mut Vec<u8>, resp3: bool) -> Self {
        Self { out, resp3 }
    }

    /// Whether replies are RESP3.
    pub fn resp3(&self) -> bool {
        self.resp3
    }

    /// Appends bytes that are already RESP (a cached reply, say) unchanged.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// `+OK`: the most common reply, one copy.
    pub fn ok(&mut self) {
        self.out.extend_from_slice(b"+OK\r\n");
    }

    /// A simple string `+text`; `\r` and `\n` in `text` become spaces.
    pub fn simple(&mut self, text: &str) {
        self.out.push(b'+');
        push_line(self.out, text.as_bytes());
        self.out.extend_from_slice(CRLF);
    }

    /// An error `-CODE message`. `message` starts with its code (`ERR`, `WRONGTYPE`, …); a leading
    /// `-` is accepted and not doubled; `\r` and `\n` become spaces.
    pub fn error(&mut self, message: &str) {
        let message = message.strip_prefix('-').unwrap_or(message);
        self.out.push(b'-');
        push_line(self.out, message.as_bytes());
        self.out.extend_from_slice(CRLF);
    }

    /// An integer `:n`.
    pub fn integer(&mut self, n: i64) {
        let mut digits = [0u8; 20];
        let digits = format_i64(n, &mut digits);
        self.out.reserve(digits.len() + 3);
        self.out.push(b':');
        self.out.extend_from_slice(digits);
        self.out.extend_from_slice(CRLF);
    }

    /// A bulk string `$len\r\ndata\r\n`.
    pub fn bulk(&mut self, data: &[u8]) {
        self.out.reserve(data.len() + 25);
        self.header(b'$', data.len());
        self.out.extend_from_slice(data);
        self.out.extend_from_slice(CRLF);
    }

    /// The null reply: `_` in RESP3, the null bulk string `$-1` in RESP2.
    pub fn null(&mut self) {
        self.out
            .extend_from_slice(if self.resp3 { b"_\r\n" } else { b"$-1\r\n" });
    }

    /// The null array (what `EXEC` of an aborted transaction returns): `_` in RESP3, `*-1` in RESP2.
    pub fn null_array(&mut self) {
        self.out
            .extend_from_slice(if self.resp3 { b"_\r\n" } else { b"*-1\r\n" });
    }

    /// The header of an array of `n` elements, which the caller appends next.
    pub fn array(&mut self, n: usize) {
        self.header(b'*', n);
    }

    /// The header of a map of `n` pairs; the caller appends key, value, key, value, ….
    pub fn map(&mut self, n: usize) {
        if self.resp3 {
            self.header(b'%', n);
        } else {
            self.header(b'*', n.saturating_mul(2));
        }
    }

    /// The header of a set of `n` elements.
    pub fn set(&mut self, n: usize) {
        self.header(if self.resp3 { b'~' } else { b'*' }, n);
    }

    /// The header of an out-of-band push (pub/sub message, change-feed event) of `n` elements.
    pub fn push(&mut self, n: usize) {
        self.header(if self.resp3 { b'>' } else { b'*' }, n);
    }

    /// A double: `,1.5` in RESP3 (`,inf`, `,-inf`, `,nan` for the special values), the same text as
    /// a bulk string in RESP2. The text is the shortest that reads back as exactly `f`.
    pub fn double(&mut self, f: f64) {
        let resp3 = self.resp3;
        let out = &mut *self.out;
        with_double_text(f, |text| {
            if resp3 {
                out.push(b',');
                out.extend_from_slice(text);
                out.extend_from_slice(CRLF);
            } else {
                Encoder::new(out, false).bulk(text);
            }
        });
    }

    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    pub fn boolean(&mut self, b: bool) {
        self.out.extend_from_slice(match (self.resp3, b) {
            (true, true) => b"#t\r\n",
            (true, false) => b"#f\r\n",
            (false, true) => b":1\r\n",
            (false, false) => b":0\r\n",
        });
    }

    /// A big number `(digits` in RESP3, a bulk string in RESP2. `digits` must be an optional `-`
    /// and decimal digits; `\r` and `\n` become spaces.
    pub fn big_number(&mut self, digits: &str) {
        if self.resp3 {
            self.out.push(b'(');
            push_line(self.out, digits.as_bytes());
            self.out.extend_from_slice(CRLF);
        } else {
            self.bulk(digits.as_bytes());
        }
    }

    /// A verbatim string `=len\r\nfmt:text\r\n` in RESP3 (`format` is three bytes such as `txt` or
    /// `mkd`; anything else is replaced by `txt`), a bulk string of `text` in RESP2.
    pub fn verbatim(&mut self, format: &str, text: &[u8]) {
        if !self.resp3 {
            self.bulk(text);
            return;
        }
        let format = if format.len() == 3 { format } else { "txt" };
        self.out.reserve(text.len() + 29);
        self.header(b'=', text.len() + 4);
        self.out.extend_from_slice(format.as_bytes());
        self.out.push(b':');
        self.out.extend_from_slice(text);
        self.out.extend_from_slice(CRLF);
    }

    /// Any [`Frame`], recursively, downgraded for RESP2 as the methods above say.
    pub fn frame(&mut self, frame: &Frame) {
        match frame {
            Frame::Simple(s) => self.simple(s),
            Frame::Error(e) => self.error(e),
            Frame::Integer(n) => self.integer(*n),
            Frame::Bulk(b) => self.bulk(b),
            Frame::Null => self.null(),
            Frame::Array(items) => {
                self.array(items.len());
                items.iter().for_each(|f| self.frame(f));
            }
            Frame::Map(pairs) => {
                self.map(pairs.len());
                for (k, v) in pairs {
                    self.frame(k);
                    self.frame(v);
                }
            }
            Frame::Set(items) => {
                self.set(items.len());
                items.iter().for_each(|f| self.frame(f));
            }
            Frame::Double(f) => self.double(*f),
            Frame::Boolean(b) => self.boolean(*b),
            Frame::BigNumber(n) => self.big_number(n),
            Frame::Verbatim { format, text } => self.verbatim(format, text.as_bytes()),
            Frame::Push(items) => {
                self.push(items.len());
                items.iter().for_each(|f| self.frame(f));
            }
        }
    }

    /// `prefix`, `n` in decimal, CRLF.
    fn header(&mut self, prefix: u8, n: usize) {
        let mut digits = [0u8; 20];
        let start = write_u64(n as u64, &mut digits);
        self.out.reserve(23);
        self.out.push(prefix);
        self.out.extend_from_slice(&digits[start..]);
        self.out.extend_from_slice(CRLF);
    }
}

/// Encodes a request (what a client sends): an array of bulk strings.
///
/// ```
/// let mut out = Vec::new();
/// okdb_resp::encode_command(&[b"GET", b"k"], &mut out);
/// assert_eq!(out, b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
/// ```
pub fn encode_command(args: &[&[u8]], out: &mut Vec<u8>) {
    let mut enc = Encoder::new(out, false);
    enc.array(args.len());
    for arg in args {
        enc.bulk(arg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(f: impl Fn(&mut Encoder<'_>)) -> (String, String) {
        let (mut v3, mut v2) = (Vec::new(), Vec::new());
        f(&mut Encoder::new(&mut v3, true));
        f(&mut Encoder::new(&mut v2, false));
        (
            String::from_utf8(v3).unwrap(),
            String::from_utf8(v2).unwrap(),
        )
    }

    fn check(f: impl Fn(&mut Encoder<'_>), resp3: &str, resp2: &str) {
        assert_eq!(both(f), (resp3.to_owned(), resp2.to_owned()));
    }

    #[test]
    fn integers_format_like_std() {
        let mut buf = [0u8; 20];
        for n in [
            0,
            1,
            -1,
            9,
            10,
            99,
            100,
            101,
            999,
            1000,
            12345,
            -98765,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
            1 << 40,
        ] {
            assert_eq!(format_i64(n, &mut buf), n.to_string().as_bytes());
        }
        for n in (-100_000..100_000).step_by(7) {
            assert_eq!(format_i64(n, &mut buf), n.to_string().as_bytes());
        }
        let mut digits = [0u8; 20];
        let start = write_u64(u64::MAX, &mut digits);
        assert_eq!(&digits[start..], u64::MAX.to_string().as_bytes());
    }

    #[test]
    fn every_reply_type() {
        check(|e| e.ok(), "+OK\r\n", "+OK\r\n");
        check(|e| e.simple("PONG"), "+PONG\r\n", "+PONG\r\n");
        check(|e| e.simple("a\r\nb"), "+a  b\r\n", "+a  b\r\n");
        check(
            |e| e.error("ERR bad\nthing"),
            "-ERR bad thing\r\n",
            "-ERR bad thing\r\n",
        );
        check(
            |e| e.error("-WRONGTYPE x"),
            "-WRONGTYPE x\r\n",
            "-WRONGTYPE x\r\n",
        );
        check(|e| e.integer(-12), ":-12\r\n", ":-12\r\n");
        check(|e| e.bulk(b""), "$0\r\n\r\n", "$0\r\n\r\n");
        check(
            |e| e.bulk(b"a\r\nb"),
            "$4\r\na\r\nb\r\n",
            "$4\r\na\r\nb\r\n",
        );
        check(|e| e.null(), "_\r\n", "$-1\r\n");
        check(|e| e.null_array(), "_\r\n", "*-1\r\n");
        check(|e| e.array(3), "*3\r\n", "*3\r\n");
        check(|e| e.map(2), "%2\r\n", "*4\r\n");
        check(|e| e.set(2), "~2\r\n", "*2\r\n");
        check(|e| e.push(3), ">3\r\n", "*3\r\n");
        check(|e| e.boolean(true), "#t\r\n", ":1\r\n");
        check(|e| e.boolean(false), "#f\r\n", ":0\r\n");
        check(
            |e| e.big_number("-123456789012345678901234567890"),
            "(-123456789012345678901234567890\r\n",
            "$31\r\n-123456789012345678901234567890\r\n",
        );
        check(
            |e| e.verbatim("txt", b"Some string"),
            "=15\r\ntxt:Some string\r\n",
            "$11\r\nSome string\r\n",
        );
        check(
            |e| e.verbatim("markdown", b"x"),
            "=5\r\ntxt:x\r\n",
            "$1\r\nx\r\n",
        );
        check(|e| e.raw(b"+X\r\n"), "+X\r\n", "+X\r\n");
    }

    #[test]
    fn doubles() {
        check(|e| e.double(1.5), ",1.5\r\n", "$3\r\n1.5\r\n");
        check(|e| e.double(3.0), ",3\r\n", "$1\r\n3\r\n");
        check(|e| e.double(-0.0), ",-0\r\n", "$2\r\n-0\r\n");
        check(|e| e.double(f64::INFINITY), ",inf\r\n", "$3\r\ninf\r\n");
        check(
            |e| e.double(f64::NEG_INFINITY),
            ",-inf\r\n",
            "$4\r\n-inf\r\n",
        );
        check(|e| e.double(f64::NAN), ",nan\r\n", "$3\r\nnan\r\n");
        check(|e| e.double(1e300), ",1e300\r\n", "$5\r\n1e300\r\n");
        check(|e| e.double(1.5e-7), ",1.5e-7\r\n", "$6\r\n1.5e-7\r\n");
        check(|e| e.double(0.1), ",0.1\r\n", "$3\r\n0.1\r\n");
        // Round trip, including the longest texts.
        for f in [
            0.1 + 0.2,
            -1.234_567_890_123_456_7e-6,
            9.999_999_999_999_999e20,
            f64::MAX,
            f64::MIN_POSITIVE,
            -5e-324,
            123_456_789.123_456_78,
        ] {
            let (v3, _) = both(|e| e.double(f));
            let text = v3.trim_start_matches(',').trim_end();
            assert_eq!(text.parse::<f64>().unwrap(), f, "{text}");
        }
    }

    #[test]
    fn commands() {
        let mut out = Vec::new();
        encode_command(&[b"SET", b"k", b""], &mut out);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
        out.clear();
        encode_command(&[], &mut out);
        assert_eq!(out, b"*0\r\n");
    }
}
