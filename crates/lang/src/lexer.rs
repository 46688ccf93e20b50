//! Tokens of the language: Python's, with its indentation rules, plus `$name` (read a key).

use smol_str::SmolStr;

use crate::error::Exc;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Name(SmolStr),
    /// `$name`: the value of the key `name`.
    Key(SmolStr),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    /// An f-string's text between its quotes, escapes not yet read (the parser splits it).
    FStr {
        text: String,
        raw: bool,
    },
    Op(&'static str),
    Newline,
    Indent,
    Dedent,
    Eof,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub line: u32,
    pub col: u32,
}

/// Operators, longest first so that `**=` wins over `**` and `*`.
const OPS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "...", "->", "**", "//", "==", "!=", "<=", ">=", "+=", "-=", "*=",
    "/=", "%=", "&=", "|=", "^=", "<<", ">>", ":=", "+", "-", "*", "/", "%", "<", ">", "=", "(",
    ")", "[", "]", "{", "}", ",", ":", ".", ";", "@", "&", "|", "^", "~",
];

/// The most brackets that may be open at once; deeper is a `SyntaxError`, never a stack
/// overflow in the parser.
pub const MAX_BRACKETS: usize = 200;

pub fn tokenize(src: &str) -> Result<Vec<Token>, Exc> {
    Lexer {
        src,
        bytes: src.as_bytes(),
        pos: 0,
        line: 1,
        line_start: 0,
        out: Vec::new(),
        indents: vec![0],
        brackets: 0,
        col_cache: std::cell::Cell::new((0, 1)),
    }
    .run()
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u32,
    line_start: usize,
    out: Vec<Token>,
    indents: Vec<usize>,
    brackets: usize,
    /// The last position whose column was counted, and that column.
    col_cache: std::cell::Cell<(usize, u32)>,
}

impl<'a> Lexer<'a> {
    /// The column of the current position, counted on from the last one asked for on the same
    /// line (so a long line costs linear time, not quadratic).
    fn col(&self) -> u32 {
        let (at, n) = self.col_cache.get();
        let (from, base) = if at >= self.line_start && at <= self.pos {
            (at, n)
        } else {
            (self.line_start, 1)
        };
        let col = base + self.src[from..self.pos].chars().count() as u32;
        self.col_cache.set((self.pos, col));
        col
    }

    fn err(&self, msg: impl Into<String>) -> Exc {
        Exc::syntax(msg, self.line, self.col())
    }

    fn push(&mut self, tok: Tok, line: u32, col: u32) {
        self.out.push(Token { tok, line, col });
    }

    fn peek(&self, ahead: usize) -> u8 {
        self.bytes.get(self.pos + ahead).copied().unwrap_or(0)
    }

    fn run(mut self) -> Result<Vec<Token>, Exc> {
        let mut at_line_start = true;
        while self.pos < self.bytes.len() {
            if at_line_start && self.brackets == 0 {
                at_line_start = false;
                self.indentation()?;
                continue;
            }
            let c = self.peek(0);
            match c {
                b' ' | b'\t' | b'\x0c' => self.pos += 1,
                b'\r' => self.pos += 1,
                b'#' => {
                    while self.pos < self.bytes.len() && self.peek(0) != b'\n' {
                        self.pos += 1;
                    }
                }
                b'\\' if matches!(self.peek(1), b'\n' | b'\r') => {
                    self.pos += 1;
                    if self.peek(0) == b'\r' {
                        self.pos += 1;
                    }
                    if self.peek(0) == b'\n' {
                        self.pos += 1;
                    }
                    self.line += 1;
                    self.line_start = self.pos;
                }
                b'\n' => {
                    if self.brackets == 0 {
                        self.newline();
                    }
                    self.pos += 1;
                    self.line += 1;
                    self.line_start = self.pos;
                    at_line_start = true;
                }
                b'0'..=b'9' => self.number()?,
                b'.' if self.peek(1).is_ascii_digit() => self.number()?,
                b'"' | b'\'' => self.string(String::new())?,
                b'$' => {
                    let (line, col) = (self.line, self.col());
                    self.pos += 1;
                    let name = self.ident();
                    if name.is_empty() {
                        return Err(self.err("'$' must be followed by a key name"));
                    }
                    self.push(Tok::Key(name.into()), line, col);
                }
                _ if c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 => {
                    let (line, col) = (self.line, self.col());
                    let start = self.pos;
                    let name = self.ident();
                    if name.is_empty() {
                        let ch = self.src[self.pos..].chars().next().unwrap_or(' ');
                        return Err(self.err(format!("invalid character '{ch}'")));
                    }
                    let q = self.peek(0);
                    let prefix = name.to_ascii_lowercase();
                    if (q == b'"' || q == b'\'')
                        && matches!(
                            prefix.as_str(),
                            "r" | "b" | "f" | "rb" | "br" | "fr" | "rf" | "u"
                        )
                    {
                        self.pos = start + name.len();
                        let _ = (line, col);
                        self.string(prefix)?;
                    } else {
                        self.push(Tok::Name(name.into()), line, col);
                    }
                }
                _ => self.op()?,
            }
        }
        if self.brackets > 0 {
            return Err(self.err("unexpected end of script: a bracket is not closed"));
        }
        self.newline();
        while self.indents.len() > 1 {
            self.indents.pop();
            self.push(Tok::Dedent, self.line, 1);
        }
        let (line, col) = (self.line, self.col());
        self.push(Tok::Eof, line, col);
        Ok(self.out)
    }

    /// Ends a logical line (once: blank lines make no empty statements).
    fn newline(&mut self) {
        if !matches!(
            self.out.last().map(|t| &t.tok),
            None | Some(Tok::Newline | Tok::Indent | Tok::Dedent)
        ) {
            let (line, col) = (self.line, self.col());
            self.push(Tok::Newline, line, col);
        }
    }

    /// Reads a line's indentation (a blank or comment-only line has none that counts).
    fn indentation(&mut self) -> Result<(), Exc> {
        let mut width = 0;
        let mut p = self.pos;
        while p < self.bytes.len() {
            match self.bytes[p] {
                b' ' => width += 1,
                b'\t' => width = (width / 8 + 1) * 8,
                b'\x0c' => width = 0,
                _ => break,
            }
            p += 1;
        }
        let next = self.bytes.get(p).copied().unwrap_or(b'\n');
        if matches!(next, b'\n' | b'#' | b'\r') {
            self.pos = p;
            return Ok(());
        }
        self.pos = p;
        let current = *self.indents.last().expect("the base level stays");
        if width > current {
            self.indents.push(width);
            self.push(Tok::Indent, self.line, 1);
        } else {
            while width < *self.indents.last().expect("the base level stays") {
                self.indents.pop();
                self.push(Tok::Dedent, self.line, 1);
            }
            if width != *self.indents.last().expect("the base level stays") {
                return Err(Exc::new(
                    "IndentationError",
                    "unindent does not match any outer indentation level",
                    self.line,
                    1,
                ));
            }
        }
        Ok(())
    }

    fn ident(&mut self) -> &'a str {
        let start = self.pos;
        for (i, ch) in self.src[start..].char_indices() {
            if !(ch == '_' || ch.is_alphanumeric()) {
                self.pos = start + i;
                return &self.src[start..self.pos];
            }
        }
        self.pos = self.bytes.len();
        &self.src[start..]
    }

    fn op(&mut self) -> Result<(), Exc> {
        let (line, col) = (self.line, self.col());
        let rest = &self.src[self.pos..];
        let Some(op) = OPS.iter().find(|op| rest.starts_with(**op)) else {
            let ch = rest.chars().next().unwrap_or(' ');
            return Err(self.err(format!("invalid character '{ch}'")));
        };
        match *op {
            "(" | "[" | "{" => {
                self.brackets += 1;
                if self.brackets > MAX_BRACKETS {
                    return Err(self.err(format!(
                        "too many nested brackets (the limit is {MAX_BRACKETS})"
                    )));
                }
            }
            ")" | "]" | "}" => {
                if self.brackets == 0 {
                    return Err(self.err(format!("unmatched '{op}'")));
                }
                self.brackets -= 1;
            }
            _ => {}
        }
        self.pos += op.len();
        self.push(Tok::Op(op), line, col);
        Ok(())
    }

    fn number(&mut self) -> Result<(), Exc> {
        let (line, col) = (self.line, self.col());
        let start = self.pos;
        let radix = match (self.peek(0), self.peek(1) | 0x20) {
            (b'0', b'x') => 16,
            (b'0', b'o') => 8,
            (b'0', b'b') => 2,
            _ => 10,
        };
        if radix != 10 {
            self.pos += 2;
            let digits_start = self.pos;
            while self.peek(0).is_ascii_alphanumeric() || self.peek(0) == b'_' {
                self.pos += 1;
            }
            let digits: String = self.src[digits_start..self.pos].replace('_', "");
            let n = u64::from_str_radix(&digits, radix).map_err(|_| {
                self.err(format!("invalid number '{}'", &self.src[start..self.pos]))
            })?;
            let n = i64::try_from(n).map_err(|_| {
                Exc::new(
                    "OverflowError",
                    "int literal too large (okdb ints are 64-bit)",
                    line,
                    col,
                )
            })?;
            self.push(Tok::Int(n), line, col);
            return Ok(());
        }
        let mut float = false;
        while self.peek(0).is_ascii_digit() || self.peek(0) == b'_' {
            self.pos += 1;
        }
        if self.peek(0) == b'.' {
            float = true;
            self.pos += 1;
            while self.peek(0).is_ascii_digit() || self.peek(0) == b'_' {
                self.pos += 1;
            }
        }
        if self.peek(0) | 0x20 == b'e'
            && (self.peek(1).is_ascii_digit()
                || (matches!(self.peek(1), b'+' | b'-') && self.peek(2).is_ascii_digit()))
        {
            float = true;
            self.pos += 2;
            while self.peek(0).is_ascii_digit() {
                self.pos += 1;
            }
        }
        if self.peek(0) == b'_' || self.peek(0).is_ascii_alphabetic() {
            return Err(self.err("invalid number literal"));
        }
        let text: String = self.src[start..self.pos].replace('_', "");
        if float {
            let f: f64 = text
                .parse()
                .map_err(|_| self.err("invalid float literal"))?;
            self.push(Tok::Float(f), line, col);
        } else {
            if text.len() > 1 && text.starts_with('0') && text.bytes().any(|b| b != b'0') {
                return Err(self.err(
                    "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers",
                ));
            }
            let n: i64 = text.parse().map_err(|_| {
                Exc::new(
                    "OverflowError",
                    "int literal too large (okdb ints are 64-bit)",
                    line,
                    col,
                )
            })?;
            self.push(Tok::Int(n), line, col);
        }
        Ok(())
    }

    /// A string literal; `prefix` is its lower-cased prefix (`r`, `b`, `f`, `rb`, …).
    fn string(&mut self, prefix: String) -> Result<(), Exc> {
        let (line, col) = (self.line, self.col() - prefix.len() as u32);
        let quote = self.peek(0);
        let triple = self.peek(1) == quote && self.peek(2) == quote;
        let qlen = if triple { 3 } else { 1 };
        self.pos += qlen;
        let start = self.pos;
        loop {
            if self.pos >= self.bytes.len() {
                return Err(Exc::syntax("unterminated string literal", line, col));
            }
            let c = self.peek(0);
            if c == b'\\' {
                self.pos += 2;
                continue;
            }
            if c == b'\n' {
                if !triple {
                    return Err(Exc::syntax("unterminated string literal", line, col));
                }
                self.line += 1;
                self.line_start = self.pos + 1;
            }
            if c == quote && (!triple || (self.peek(1) == quote && self.peek(2) == quote)) {
                break;
            }
            self.pos += 1;
        }
        let body = &self.src[start..self.pos];
        self.pos += qlen;
        let raw = prefix.contains('r');
        let tok = if prefix.contains('f') {
            Tok::FStr {
                text: body.to_string(),
                raw,
            }
        } else if prefix.contains('b') {
            if !body.is_ascii() {
                return Err(Exc::syntax(
                    "bytes can only contain ASCII literal characters",
                    line,
                    col,
                ));
            }
            let s = if raw {
                body.to_string()
            } else {
                unescape(body, true).map_err(|m| Exc::syntax(m, line, col))?
            };
            Tok::Bytes(s.chars().map(|c| c as u32 as u8).collect())
        } else if raw {
            Tok::Str(body.to_string())
        } else {
            Tok::Str(unescape(body, false).map_err(|m| Exc::syntax(m, line, col))?)
        };
        // Adjacent literals join, as in Python ("a" "b").
        if let (
            Tok::Str(s),
            Some(Token {
                tok: Tok::Str(prev),
                ..
            }),
        ) = (&tok, self.out.last_mut())
        {
            prev.push_str(s);
            return Ok(());
        }
        self.push(tok, line, col);
        Ok(())
    }
}

/// Reads a string literal's escapes. In bytes, `\xhh` is a byte (kept as the char U+00hh).
pub fn unescape(s: &str, bytes: bool) -> Result<String, String> {
    if !s.contains('\\') {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('\\');
            break;
        };
        let hex = |chars: &mut std::iter::Peekable<std::str::Chars>, n: usize| {
            let h: String = chars.by_ref().take(n).collect();
            if h.len() != n {
                return Err(format!("truncated \\{e} escape"));
            }
            u32::from_str_radix(&h, 16).map_err(|_| format!("invalid \\{e} escape"))
        };
        match e {
            '\n' => {}
            '\\' => out.push('\\'),
            '\'' => out.push('\''),
            '"' => out.push('"'),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            '0'..='7' => {
                let mut n = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            n = n * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(n).unwrap_or('\u{fffd}'));
            }
            'x' => {
                let n = hex(&mut chars, 2)?;
                out.push(char::from_u32(n).unwrap_or('\u{fffd}'));
            }
            'u' if !bytes => {
                let n = hex(&mut chars, 4)?;
                out.push(char::from_u32(n).ok_or("invalid \\u escape")?);
            }
            'U' if !bytes => {
                let n = hex(&mut chars, 8)?;
                out.push(char::from_u32(n).ok_or("invalid \\U escape")?);
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}
