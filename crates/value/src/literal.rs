//! The okdb literal parser (SPEC.md §1): JSON and Python literals, mixed freely.
//!
//! # Grammar
//!
//! ```text
//! literal   = ws value ws
//! value     = keyword | number | string | list | brace | call
//! keyword   = "null" | "None" | "true" | "True" | "false" | "False"
//! number    = ["-"] (int | float)
//! int       = int-part
//!           | "0" ("x"|"o"|"b") ["_"] digits       -- 0x1F, 0o17, 0b101 (either case)
//! int-part  = "0" | [1-9] (["_"] [0-9])*           -- no leading zeros: 007 is not a number
//! float     = int-part "." [digits] [exp] | "." digits [exp] | int-part exp
//! exp       = ("e"|"E") ["+"|"-"] digits
//! string    = '"' … '"' | "'" … "'"
//! list      = "[" [value ("," value)* [","]] "]"
//! brace     = "{" "}"                                         -- an empty dict
//!           | "{" string ":" value ("," string ":" value)* [","] "}"   -- a dict
//!           | "{" value ("," value)* [","] "}"                 -- a set
//! call      = name "(" [arg ("," arg)* [","]] ")"             -- name from the constructor table
//! arg       = value | identifier "=" value
//! ws        = (" " | "\t" | "\n" | "\r")*                     -- allowed between any two tokens
//! ```
//!
//! - `_` may separate digits, as in Python (`1_000`, `0x_ff`, `1_0.5e1_0`).
//! - Ints are 64-bit: `int out of range (64-bit): …` is an error, never a wrap or a float. A float
//!   literal that overflows to infinity (`1e400`) is an error too; `float('inf')` is the way to
//!   write infinity. Floats are read with Rust's correctly rounded parser, so printed floats read
//!   back bit for bit.
//! - Strings take the escapes of JSON and of Python, whichever quote they use: `\n \t \r \b \f
//!   \a \v \0 \\ \' \" \/ \xHH \uXXXX \UXXXXXXXX`, octal `\ooo`, and a backslash before a newline
//!   (which continues the line). A `\u` surrogate pair makes one character, as JSON does; an
//!   unpaired surrogate is an error (okdb strings are UTF-8). An unknown escape such as `\q` is an
//!   error, not a backslash kept as Python would.
//! - Dict keys must be strings; a dict keeps insertion order, and a repeated key keeps its first
//!   position and its last value, as in Python. Set elements must be scalars
//!   ([`Value::check_hashable`]).
//! - Typed JSON is literal syntax: a dict whose only key starts with `$` is a type tag, decoded as
//!   [`crate::json`] describes (`{"$set": [1, 2]}` is a set, `{"$dict": {"$k": 1}}` a dict), so the
//!   output of [`crate::json::to_string`] always parses back to the same value. An unknown tag is
//!   an error.
//! - Constructors ([`constructor_names`]): `set()`, `set(iterable)`, `list()`, `list(iterable)`,
//!   `dict()`, `dict(dict-or-pairs, key=value, …)`, `bytes()`, `bytes('base64')`, `bytes([0, 255])`,
//!   `float('inf')`, `float('-inf')`, `float('nan')`, `float(x)`. An iterable is a list, a set, a
//!   dict (its keys), a string (its characters) or bytes (their values), as in Python. New types
//!   (decimal, date, …) add a row to the table.
//! - Containers may nest [`MAX_DEPTH`] deep; deeper text is an error, never a stack overflow.
//!   Tag wrappers such as `{"$set": …}` do not count as a level.
//! - Errors name what was expected, what was found and the byte offset:
//!   `expected ',' or ']', found 'x' at offset 7`.
//!
//! Where this differs from Python: no leading zeros at all (`00`, `00.5`); unknown escapes and
//! unpaired surrogates are errors; a raw newline may appear inside a string; there is no unary
//! `+`, no `b'…'` bytes literal, no tuple, no `inf`/`nan` name; `True` and `1` are different set
//! elements (okdb bools are not ints), while of `1` and `1.0` the first is kept, as in Python; and
//! a one-key dict whose key starts with `$` is a type tag wherever it appears, so a dict like
//! that is written `{'$dict': {'$k': 1}}` or `dict([['$k', 1]])`.
//!
//! Strict JSON ([`crate::json::from_str`]) is read by the same parser with the Python forms,
//! constructors, sets and trailing commas switched off. The parser keeps open containers on a
//! heap stack instead of recursing, so no input can overflow the machine stack.
//!
//! # Command arguments
//!
//! Arguments are read in one of two modes ([`Literals`]). Faithful ([`parse_arg_faithful`], the
//! default over RESP) keeps every argument a Redis client sends byte for byte unless it is a
//! canonical scalar, a complete JSON container or a constructor call. Strict ([`parse_arg`],
//! for okdb's own clients) is the friendly rule:
//!
//! 1. Not UTF-8: bytes.
//! 2. Starts like a literal: its first non-whitespace character is `{`, `[`, `"` or `'`, or it
//!    starts with a constructor name immediately followed by `(` (`set(`, `float(`): it must be
//!    one whole literal, else it is an error (a typo is reported, not stored as a string).
//! 3. Exactly a scalar literal, with no surrounding whitespace (`5`, `-2.5`, `1e9`, `0x1F`,
//!    `1_000`, `null`, `None`, `true`, `False`): that value. An int literal outside the 64-bit
//!    range is an error.
//! 4. Anything else is a plain string with the exact text: `hello`, `hello world`, `007`,
//!    `5 apples`, `+5`, ` 5`, `inf`, `nan`, `foo(1)`, `set (1)`, and the empty argument.
//!
//! Common arguments cost one look at the first byte plus a scan of a short number or keyword;
//! the only allocation is the resulting string's own (none for strings of up to 23 bytes).
//!
//! The parser reads no clock and no environment: the same text always gives the same value,
//! which journal replay relies on.

use std::fmt;

use crate::json::{decode_base64, decode_tag};
use crate::{Dict, List, Set, SmolStr, Str, Value, ValueError};

/// How deeply containers may nest in literal or typed JSON text.
pub const MAX_DEPTH: usize = 256;

/// Bound on open brackets, braces and parentheses, whatever they turn out to be. Tag wrappers
/// (`{"$dict": …}`) enter no level, so this is what bounds them; typed JSON needs up to two per
/// level (`{"$dict": {"$k": …`).
pub(crate) const MAX_NESTING: usize = 2 * MAX_DEPTH + 8;

/// How command arguments become values: the two modes of SPEC.md §1. A connection starts
/// faithful; okdb's own clients (the shell, one-shot commands) switch to strict with
/// `CLIENT LITERALS strict`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Literals {
    /// For Redis clients: an argument that is not exactly a canonical scalar, a complete JSON
    /// array or object, or a complete constructor call is a string, byte for byte, never an
    /// error ([`parse_arg_faithful`]).
    #[default]
    Faithful,
    /// For okdb's own clients: the friendly Python forms, and an error for a malformed literal
    /// ([`parse_arg`]).
    Strict,
}

impl Literals {
    /// Turns one argument into a value under this mode.
    pub fn parse(self, arg: &[u8]) -> Result<Value, ValueError> {
        match self {
            Literals::Faithful => Ok(parse_arg_faithful(arg)),
            Literals::Strict => parse_arg(arg),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Literals::Faithful => "faithful",
            Literals::Strict => "strict",
        }
    }
}

/// The faithful rule: what a Redis client sends, it gets back.
/// 1. Not UTF-8: bytes.
/// 2. Exactly the canonical text of an int, float, bool or null (the text `GET` over RESP2
///    answers for it: `5`, `-7`, `1.5`, `1e20`, `true`, `false`, `null`): that value. `007`,
///    `-0`, `1.50`, `1e5`, `+1`, `True`, `None` and a 30-digit number are not canonical.
/// 3. Starts with `[` and ends with `]`, or `{` and `}`, and is one complete typed-JSON value
///    (strict JSON: no Python forms, no trailing commas): that list, dict or tagged value.
/// 4. A constructor call from start to end (`set([1, 2])`, `float('inf')`) that parses: that
///    value.
/// 5. Anything else, including whatever fails 3 or 4: the string, byte for byte.
pub fn parse_arg_faithful(arg: &[u8]) -> Value {
    let Ok(text) = std::str::from_utf8(arg) else {
        return Value::Bytes(arg.into());
    };
    let typed = match (arg.first(), arg.last()) {
        (Some(b'0'..=b'9' | b'-'), _) => canonical_number(text),
        (Some(b'['), Some(b']')) | (Some(b'{'), Some(b'}')) => parse_text(text, Syntax::Json).ok(),
        (Some(b'a'..=b'z' | b'A'..=b'Z' | b'_'), last) => match text {
            _ if is_lambda(text) => Some(Value::Function(text.into())),
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            "null" => Some(Value::Null),
            _ if last == Some(&b')') && starts_with_call(arg) => parse_literal(text).ok(),
            _ => None,
        },
        _ => None,
    };
    typed.unwrap_or_else(|| Value::Str(Str::new(text)))
}

/// Whether an argument is a function literal: it begins with the word `lambda` (the
/// language checks the rest when the function is stored or called).
pub fn is_lambda(text: &str) -> bool {
    text.strip_prefix("lambda")
        .is_some_and(|rest| rest.starts_with([' ', ':', '\t']))
}

/// An int's canonical text (as okdb prints it, and as Redis's `string2ll` reads it): an
/// optional `-`, then `0` or digits without a leading zero, in the 64-bit range; `-0`, `+`,
/// spaces refused.
pub fn canonical_int(b: &[u8]) -> Option<i64> {
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    let leading_zero = digits.first() == Some(&b'0') && (digits.len() > 1 || b.len() > 1);
    if digits.is_empty() || leading_zero || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// An int or float whose text is exactly how okdb prints it, else None.
fn canonical_number(text: &str) -> Option<Value> {
    let b = text.as_bytes();
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    if digits.iter().all(u8::is_ascii_digit) {
        return canonical_int(b).map(Value::Int);
    }
    // The longest text a float prints as is 25 bytes (`-1.2345678901234567e-308`).
    if b.len() > 25 {
        return None;
    }
    let f: f64 = text.parse().ok()?;
    let v = Value::Float(f);
    (f.is_finite() && crate::json::to_string(&v) == text).then_some(v)
}

/// The strict rule: interprets one command argument as a value, a literal if it is one, else a
/// plain string. See the module docs.
pub fn parse_arg(arg: &[u8]) -> Result<Value, ValueError> {
    let Ok(text) = std::str::from_utf8(arg) else {
        return Ok(Value::Bytes(arg.into()));
    };
    let Some(&first) = arg.first() else {
        return Ok(Value::Str(Str::default()));
    };
    match first {
        b'0'..=b'9' | b'-' | b'.' => {
            if let Ok(tok) = scan_number(arg, 0, Syntax::Literal) {
                if tok.end == arg.len() {
                    return number_value(text, 0, &tok).map_err(ValueError::Literal);
                }
            }
        }
        b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
            if is_lambda(text) {
                return Ok(Value::Function(text.into()));
            }
            if let Some(v) = keyword(text, Syntax::Literal) {
                return Ok(v);
            }
            if starts_with_call(arg) {
                return parse_literal(text);
            }
        }
        b'{' | b'[' | b'"' | b'\'' => return parse_literal(text),
        b' ' | b'\t' | b'\n' | b'\r' => {
            let rest = text.trim_start_matches([' ', '\t', '\n', '\r']).as_bytes();
            if matches!(rest.first(), Some(b'{' | b'[' | b'"' | b'\'')) || starts_with_call(rest) {
                return parse_literal(text);
            }
        }
        _ => {}
    }
    Ok(Value::Str(Str::new(text)))
}

/// Parses text that must be one whole literal (whitespace around it is allowed).
pub fn parse_literal(text: &str) -> Result<Value, ValueError> {
    parse_text(text, Syntax::Literal)
}

/// Names of the constructors a literal may call, e.g. `set` in `set([1, 2])`.
pub fn constructor_names() -> impl Iterator<Item = &'static str> {
    CONSTRUCTORS.iter().map(|(name, _)| *name)
}

/// Which language the parser reads: okdb literals, or strict JSON (for typed JSON text).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Syntax {
    Literal,
    Json,
}

pub(crate) fn parse_text(text: &str, syntax: Syntax) -> Result<Value, ValueError> {
    let mut p = Parser {
        text,
        b: text.as_bytes(),
        pos: 0,
        syntax,
        depth: 0,
        nesting: 0,
    };
    let v = p.value()?;
    p.skip_ws();
    if p.pos < p.b.len() {
        return Err(p.unexpected("the end of the text"));
    }
    Ok(v)
}

fn keyword(name: &str, syntax: Syntax) -> Option<Value> {
    let py = syntax == Syntax::Literal;
    match name {
        "null" => Some(Value::Null),
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        "None" if py => Some(Value::Null),
        "True" if py => Some(Value::Bool(true)),
        "False" if py => Some(Value::Bool(false)),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Numbers

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NumKind {
    /// An int in base 10, 16, 8 or 2.
    Int(u32),
    Float,
}

/// A number token: `b[start..end]`, its digits (after sign and radix prefix) from `digits`.
#[derive(Debug)]
struct NumTok {
    end: usize,
    digits: usize,
    neg: bool,
    kind: NumKind,
    underscores: bool,
}

fn digit_value(c: u8) -> u32 {
    match c {
        b'0'..=b'9' => u32::from(c - b'0'),
        b'a'..=b'z' => u32::from(c - b'a') + 10,
        b'A'..=b'Z' => u32::from(c - b'A') + 10,
        _ => u32::MAX,
    }
}

fn is_digit(c: Option<&u8>, radix: u32) -> bool {
    c.is_some_and(|&c| digit_value(c) < radix)
}

/// Scans digits of `radix` from `i`, with single `_` between digits if `underscores`.
/// Returns (end, number of digits, whether an `_` was seen).
fn digit_run(b: &[u8], mut i: usize, radix: u32, underscores: bool) -> (usize, usize, bool) {
    let mut n = 0;
    let mut saw = false;
    loop {
        match b.get(i) {
            Some(&c) if digit_value(c) < radix => {
                i += 1;
                n += 1;
            }
            Some(b'_') if underscores && n > 0 && is_digit(b.get(i + 1), radix) => {
                i += 1;
                saw = true;
            }
            _ => return (i, n, saw),
        }
    }
}

/// Scans the number starting at `b[start]` (a digit, `-` or `.`). Errors carry an offset.
fn scan_number(b: &[u8], start: usize, syntax: Syntax) -> Result<NumTok, (usize, &'static str)> {
    let py = syntax == Syntax::Literal;
    let mut i = start;
    let neg = b.get(i) == Some(&b'-');
    if neg {
        i += 1;
    }
    if py && b.get(i) == Some(&b'0') {
        let radix = match b.get(i + 1) {
            Some(b'x' | b'X') => 16,
            Some(b'o' | b'O') => 8,
            Some(b'b' | b'B') => 2,
            _ => 0,
        };
        if radix != 0 {
            let mut j = i + 2;
            let mut underscores = false;
            if b.get(j) == Some(&b'_') && is_digit(b.get(j + 1), radix) {
                j += 1;
                underscores = true;
            }
            let (end, n, saw) = digit_run(b, j, radix, true);
            if n == 0 {
                let msg = match radix {
                    16 => "expected a hex digit",
                    8 => "expected an octal digit",
                    _ => "expected a binary digit",
                };
                return Err((j, msg));
            }
            return Ok(NumTok {
                end,
                digits: j,
                neg,
                kind: NumKind::Int(radix),
                underscores: underscores || saw,
            });
        }
    }
    let digits = i;
    let (mut j, int_digits, mut underscores) = digit_run(b, i, 10, py);
    if int_digits > 1 && b[digits] == b'0' {
        return Err((digits, "leading zeros are not allowed"));
    }
    let mut kind = NumKind::Int(10);
    let mut frac_digits = 0;
    if b.get(j) == Some(&b'.') && (py || int_digits > 0) {
        let (k, n, saw) = digit_run(b, j + 1, 10, py);
        if !py && n == 0 {
            return Err((j + 1, "expected a digit after '.'"));
        }
        if int_digits > 0 || n > 0 {
            j = k;
            frac_digits = n;
            underscores |= saw;
            kind = NumKind::Float;
        }
    }
    if int_digits == 0 && frac_digits == 0 {
        return Err((j, "expected a digit"));
    }
    if matches!(b.get(j), Some(b'e' | b'E')) {
        let mut k = j + 1;
        if matches!(b.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        let (end, n, saw) = digit_run(b, k, 10, py);
        if n == 0 {
            return Err((k, "expected a digit in the exponent"));
        }
        j = end;
        underscores |= saw;
        kind = NumKind::Float;
    }
    Ok(NumTok {
        end: j,
        digits,
        neg,
        kind,
        underscores,
    })
}

/// The value of a scanned number token `text[start..tok.end]`.
fn number_value(text: &str, start: usize, tok: &NumTok) -> Result<Value, String> {
    let s = &text[start..tok.end];
    match tok.kind {
        NumKind::Int(radix) => {
            let out_of_range = || format!("int out of range (64-bit): {s}");
            let mut mag: u64 = 0;
            for &c in &text.as_bytes()[tok.digits..tok.end] {
                if c != b'_' {
                    mag = mag
                        .checked_mul(u64::from(radix))
                        .and_then(|m| m.checked_add(u64::from(digit_value(c))))
                        .ok_or_else(out_of_range)?;
                }
            }
            let i = if tok.neg {
                0i64.checked_sub_unsigned(mag)
            } else {
                i64::try_from(mag).ok()
            };
            i.map(Value::Int).ok_or_else(out_of_range)
        }
        NumKind::Float => {
            let parsed = if tok.underscores {
                s.replace('_', "").parse::<f64>()
            } else {
                s.parse::<f64>()
            };
            match parsed {
                Ok(f) if f.is_infinite() => Err(format!("float out of range: {s}")),
                Ok(f) => Ok(Value::Float(f)),
                Err(e) => Err(format!("invalid float {s}: {e}")),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The parser

struct Parser<'a> {
    text: &'a str,
    b: &'a [u8],
    pos: usize,
    syntax: Syntax,
    /// Containers open around the current position (tag wrappers do not count).
    depth: usize,
    /// Brackets, braces and parentheses open around the current position.
    nesting: usize,
}

/// A container being parsed. The parser keeps these on a heap stack rather than recursing, so
/// nesting costs no machine stack.
enum Frame {
    List(List),
    /// `first_at` is the offset of the first element while it is being parsed, to report `{1: 2}`.
    Set {
        set: Set,
        first_at: Option<usize>,
    },
    /// A dict (opened at `at`) whose value for `key` is being parsed. `maybe_tag`: `key` is the
    /// first key and starts with `$`, so the object may yet be a type tag; such a frame enters
    /// no level until a second key shows it is a dict.
    Dict {
        dict: Dict,
        key: SmolStr,
        maybe_tag: bool,
        at: usize,
    },
    /// A constructor call (named at `at`); `key` is the keyword of the argument being parsed.
    Call {
        construct: Constructor,
        at: usize,
        args: Args,
        key: Option<SmolStr>,
    },
}

/// What a `{…}` turned out to be, before deciding whether it is a type tag. The decision waits
/// because `{"$dict": {…}}` reads its payload as a plain dict, which is known only once the
/// outer object closes after one key.
enum Braced {
    /// A dict that is no tag: its first key does not start with `$`, or it has several keys.
    Dict(Dict),
    /// An object with one key, which starts with `$`: a type tag, unless it is the payload of
    /// `$dict`.
    OneKey(SmolStr, Value),
    /// `{"$dict": {…}}` with the inner object not yet resolved.
    Escape(Box<Braced>),
}

/// A parsed value on its way to the frame that contains it.
enum Item {
    Value(Value),
    /// A `{…}` opened at `at`.
    Braced(Braced, usize),
}

/// What a frame did with a delivered item.
enum Delivered {
    /// It wants another value.
    More,
    /// It closed.
    Closed,
    /// It closed after one `$` key, whose unresolved payload is this.
    OneKey(Item),
}

impl Parser<'_> {
    fn py(&self) -> bool {
        self.syntax == Syntax::Literal
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn fail(&self, at: usize, msg: impl fmt::Display) -> ValueError {
        let text = format!("{msg} at offset {at}");
        match self.syntax {
            Syntax::Literal => ValueError::Literal(text),
            Syntax::Json => ValueError::Json(text),
        }
    }

    fn unexpected(&self, expected: &str) -> ValueError {
        let found = match self.text.get(self.pos..).and_then(|s| s.chars().next()) {
            Some(c) => format!("{c:?}"),
            None if self.pos >= self.b.len() => "the end of the text".to_string(),
            None => format!("byte {:#04x}", self.b[self.pos]),
        };
        self.fail(self.pos, format_args!("expected {expected}, found {found}"))
    }

    fn too_deep(&self) -> ValueError {
        self.fail(
            self.pos,
            format_args!("containers nested deeper than {MAX_DEPTH} levels"),
        )
    }

    /// Consumes an opening bracket, brace or parenthesis.
    fn open(&mut self) -> Result<(), ValueError> {
        if self.nesting >= MAX_NESTING {
            return Err(self.too_deep());
        }
        self.nesting += 1;
        self.pos += 1;
        Ok(())
    }

    fn close(&mut self) {
        self.nesting -= 1;
    }

    /// Enters a container (a list, dict or set).
    fn enter(&mut self) -> Result<(), ValueError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.too_deep());
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// After an item of a bracketed sequence: consumes `,` (and, in literal syntax, a trailing
    /// `,` before `close`) or `close`. Returns whether the sequence ended.
    fn item_end(&mut self, close: u8, expected: &str) -> Result<bool, ValueError> {
        self.skip_ws();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                if self.py() {
                    self.skip_ws();
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Some(c) if c == close => {
                self.pos += 1;
                Ok(true)
            }
            _ => Err(self.unexpected(expected)),
        }
    }

    /// Parses one value: starts values, pushing a frame for each open container, and delivers
    /// each finished value to the frame around it.
    fn value(&mut self) -> Result<Value, ValueError> {
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            let Some(mut item) = self.start(&mut stack)? else {
                continue;
            };
            loop {
                let Some(frame) = stack.last_mut() else {
                    return self.resolve(item);
                };
                let payload = match self.deliver(frame, item)? {
                    Delivered::More => break,
                    Delivered::Closed => None,
                    Delivered::OneKey(payload) => Some(payload),
                };
                let frame = stack.pop().expect("the frame just delivered to");
                item = self.finish(frame, payload)?;
            }
        }
    }

    /// Starts the value at the current position. A scalar or an empty container is returned at
    /// once; any other container pushes its frame, and its first element starts next.
    fn start(&mut self, stack: &mut Vec<Frame>) -> Result<Option<Item>, ValueError> {
        self.skip_ws();
        let value = match self.peek() {
            Some(b'[') => {
                self.enter()?;
                self.open()?;
                self.skip_ws();
                if self.peek() != Some(b']') {
                    stack.push(Frame::List(List::new()));
                    return Ok(None);
                }
                self.pos += 1;
                self.leave();
                self.close();
                Value::list([])
            }
            Some(b'{') => return self.start_brace(stack),
            Some(b'"') => Value::Str(self.string()?.into()),
            Some(b'\'') if self.py() => Value::Str(self.string()?.into()),
            Some(b'0'..=b'9' | b'-') => self.number()?,
            Some(b'.') if self.py() => self.number()?,
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => return self.name(stack),
            _ => return Err(self.unexpected("a value")),
        };
        Ok(Some(Item::Value(value)))
    }

    fn start_brace(&mut self, stack: &mut Vec<Frame>) -> Result<Option<Item>, ValueError> {
        let at = self.pos;
        self.open()?;
        self.skip_ws();
        let first_at = self.pos;
        match self.peek() {
            Some(b'}') => {
                self.pos += 1;
                self.close();
                return Ok(Some(Item::Braced(Braced::Dict(Dict::new()), at)));
            }
            Some(b'"') => {}
            Some(b'\'') if self.py() => {}
            _ if self.py() => {
                // A set, unless a `:` after the first element shows a dict with a bad key.
                self.enter()?;
                stack.push(Frame::Set {
                    set: Set::new(),
                    first_at: Some(first_at),
                });
                return Ok(None);
            }
            _ => return Err(self.unexpected("a string key or '}'")),
        }
        let key = self.string()?;
        self.skip_ws();
        if self.peek() == Some(b':') {
            self.pos += 1;
            let maybe_tag = key.starts_with('$');
            if !maybe_tag {
                self.enter()?;
            }
            stack.push(Frame::Dict {
                dict: Dict::new(),
                key,
                maybe_tag,
                at,
            });
            return Ok(None);
        }
        if !self.py() {
            return Err(self.unexpected("':'"));
        }
        // A set whose first element is this string.
        self.enter()?;
        stack.push(Frame::Set {
            set: Set::new(),
            first_at: None,
        });
        Ok(Some(Item::Value(Value::Str(key.into()))))
    }

    /// Adds a finished item to the innermost frame and reads what follows it.
    fn deliver(&mut self, frame: &mut Frame, item: Item) -> Result<Delivered, ValueError> {
        let closed = match frame {
            Frame::List(items) => {
                items.push_back(self.resolve(item)?);
                self.item_end(b']', "',' or ']'")?
            }
            Frame::Set { set, first_at } => {
                let v = self.resolve(item)?;
                if let Some(at) = first_at.take() {
                    self.skip_ws();
                    if self.peek() == Some(b':') {
                        return Err(self.fail(at, "dict keys must be strings"));
                    }
                }
                v.check_hashable()?;
                if !set.contains(&v) {
                    set.insert(v); // Of equal elements the first is kept, as in Python.
                }
                self.item_end(b'}', "',' or '}'")?
            }
            Frame::Dict {
                dict,
                key,
                maybe_tag,
                ..
            } => {
                let closed = if *maybe_tag {
                    if self.item_end(b'}', "',' or '}'")? {
                        return Ok(Delivered::OneKey(item));
                    }
                    // More keys follow: a plain dict after all.
                    *maybe_tag = false;
                    self.enter()?;
                    dict.insert(std::mem::take(key), self.resolve(item)?);
                    false
                } else {
                    dict.insert(std::mem::take(key), self.resolve(item)?);
                    self.item_end(b'}', "',' or '}'")?
                };
                if !closed {
                    *key = self.string_key()?;
                    self.colon()?;
                }
                closed
            }
            Frame::Call { args, key, .. } => {
                let v = self.resolve(item)?;
                match key.take() {
                    Some(k) => {
                        args.seen.insert(k.clone());
                        args.keywords.push((k, v));
                    }
                    None => args.positional.push(v),
                }
                let closed = self.item_end(b')', "',' or ')'")?;
                if !closed {
                    *key = self.arg_start(args)?;
                }
                closed
            }
        };
        Ok(if closed {
            Delivered::Closed
        } else {
            Delivered::More
        })
    }

    /// The item a closed frame makes; `payload` is set when a maybe-tag dict closed after one key.
    fn finish(&mut self, frame: Frame, payload: Option<Item>) -> Result<Item, ValueError> {
        self.close();
        Ok(match frame {
            Frame::List(items) => {
                self.leave();
                Item::Value(Value::List(Box::new(items)))
            }
            Frame::Set { set, .. } => {
                self.leave();
                Item::Value(Value::Set(Box::new(set)))
            }
            Frame::Dict { dict, key, at, .. } => match payload {
                Some(Item::Braced(inner, _)) if key == "$dict" => {
                    Item::Braced(Braced::Escape(Box::new(inner)), at)
                }
                Some(payload) => Item::Braced(Braced::OneKey(key, self.resolve(payload)?), at),
                None => {
                    self.leave();
                    Item::Braced(Braced::Dict(dict), at)
                }
            },
            Frame::Call {
                construct,
                at,
                args,
                ..
            } => Item::Value(self.construct(construct, args, at)?),
        })
    }

    /// The value of an item: a one-key dict with a `$` key is a type tag, except as the payload
    /// of `$dict`.
    fn resolve(&self, item: Item) -> Result<Value, ValueError> {
        let (mut braced, at) = match item {
            Item::Value(v) => return Ok(v),
            Item::Braced(braced, at) => (braced, at),
        };
        // `{"$dict": X}` is X taken as a plain dict; a plain dict whose only key is `$dict` and
        // whose value is X is `{"$dict": <value of X>}`. Unwind a chain of escapes without
        // recursing: the innermost object is read as a value after an even number of them.
        let mut escapes = 0;
        let mut v = loop {
            match braced {
                Braced::Escape(inner) => {
                    escapes += 1;
                    braced = *inner;
                }
                Braced::OneKey(tag, payload) if escapes % 2 == 0 => {
                    break decode_tag(&tag, payload, &|msg| self.fail(at, msg))?;
                }
                Braced::OneKey(key, v) => break Value::Dict(Dict::from_iter([(key, v)])),
                Braced::Dict(d) => break Value::Dict(d),
            }
        };
        for level in (0..escapes).rev() {
            if level % 2 == 1 {
                v = Value::Dict(Dict::from_iter([(SmolStr::new("$dict"), v)]));
            }
        }
        Ok(v)
    }

    fn number(&mut self) -> Result<Value, ValueError> {
        let start = self.pos;
        let tok =
            scan_number(self.b, start, self.syntax).map_err(|(at, msg)| self.fail(at, msg))?;
        self.pos = tok.end;
        number_value(self.text, start, &tok).map_err(|msg| self.fail(start, msg))
    }

    /// A keyword, or the start of a constructor call.
    fn name(&mut self, stack: &mut Vec<Frame>) -> Result<Option<Item>, ValueError> {
        let start = self.pos;
        let end = start + ident_len(&self.b[start..]);
        let name = &self.text[start..end];
        if let Some(v) = keyword(name, self.syntax) {
            self.pos = end;
            return Ok(Some(Item::Value(v)));
        }
        if !self.py() {
            return Err(self.unexpected("a value"));
        }
        let Some((name, construct)) = find_constructor(name) else {
            return Err(self.fail(start, format_args!("unknown name '{name}'")));
        };
        let args = Args {
            name,
            positional: Vec::new(),
            keywords: Vec::new(),
            seen: Default::default(),
        };
        self.pos = end;
        self.skip_ws();
        if self.peek() != Some(b'(') {
            return Err(self.unexpected(&format!("'(' after {}", args.name)));
        }
        self.open()?;
        self.skip_ws();
        if self.peek() == Some(b')') {
            self.pos += 1;
            self.close();
            return Ok(Some(Item::Value(self.construct(construct, args, start)?)));
        }
        let key = self.arg_start(&args)?;
        stack.push(Frame::Call {
            construct,
            at: start,
            args,
            key,
        });
        Ok(None)
    }

    /// At the start of a call argument: consumes `identifier =` (not `==`) if there is one and
    /// returns the identifier.
    fn arg_start(&mut self, args: &Args) -> Result<Option<SmolStr>, ValueError> {
        self.skip_ws();
        let start = self.pos;
        let end = start + ident_len(&self.b[start..]);
        let mut i = end;
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(i) {
            i += 1;
        }
        let is_keyword = end > start
            && !self.b[start].is_ascii_digit()
            && self.b.get(i) == Some(&b'=')
            && self.b.get(i + 1) != Some(&b'=');
        if !is_keyword {
            if !args.keywords.is_empty() {
                return Err(self.fail(start, "positional argument follows keyword argument"));
            }
            return Ok(None);
        }
        let key = &self.text[start..end];
        if args.seen.contains(key) {
            return Err(self.fail(start, format_args!("keyword argument repeated: {key}")));
        }
        self.pos = i + 1;
        Ok(Some(SmolStr::new(key)))
    }

    fn construct(
        &self,
        construct: Constructor,
        args: Args,
        at: usize,
    ) -> Result<Value, ValueError> {
        construct(args).map_err(|e| match e {
            ValueError::Literal(msg) => self.fail(at, msg),
            other => other,
        })
    }

    fn string_key(&mut self) -> Result<SmolStr, ValueError> {
        self.skip_ws();
        match self.peek() {
            Some(b'"') => self.string(),
            Some(b'\'') if self.py() => self.string(),
            _ if self.py() => Err(self.fail(self.pos, "dict keys must be strings")),
            _ => Err(self.unexpected("a string key")),
        }
    }

    fn colon(&mut self) -> Result<(), ValueError> {
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.unexpected("':'"));
        }
        self.pos += 1;
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Strings

    fn string(&mut self) -> Result<SmolStr, ValueError> {
        let quote = self.b[self.pos];
        let open = self.pos;
        let json = !self.py();
        let special = |c: u8| c == quote || c == b'\\' || (json && c < 0x20);
        let start = open + 1;
        let run = self.b[start..].iter().take_while(|&&c| !special(c)).count();
        let mut i = start + run;
        if self.b.get(i) == Some(&quote) {
            self.pos = i + 1;
            return Ok(SmolStr::new(&self.text[start..i]));
        }
        let mut out = String::with_capacity(run + 16);
        out.push_str(&self.text[start..i]);
        loop {
            match self.b.get(i) {
                None => return Err(self.fail(open, "unterminated string")),
                Some(&c) if c == quote => {
                    self.pos = i + 1;
                    return Ok(SmolStr::from(out));
                }
                Some(b'\\') => i = self.escape(i, open, &mut out)?,
                Some(&c) if json && c < 0x20 => {
                    return Err(self.fail(i, "control character in a string (escape it)"));
                }
                Some(_) => {
                    let run = self.b[i..].iter().take_while(|&&c| !special(c)).count();
                    out.push_str(&self.text[i..i + run]);
                    i += run;
                }
            }
        }
    }

    /// Decodes the escape at `b[at]` (a backslash) into `out`; returns the position after it.
    fn escape(&self, at: usize, open: usize, out: &mut String) -> Result<usize, ValueError> {
        let Some(&e) = self.b.get(at + 1) else {
            return Err(self.fail(open, "unterminated string"));
        };
        let py = self.py();
        let mut next = at + 2;
        let c = match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let (c, end) = self.unicode_escape(at)?;
                next = end;
                c
            }
            b'\'' if py => '\'',
            b'a' if py => '\u{7}',
            b'v' if py => '\u{b}',
            b'\n' if py => return Ok(next),
            b'x' if py => {
                let v = self.hex(at + 2, 2, at)?;
                next = at + 4;
                char::from_u32(v).unwrap_or(char::REPLACEMENT_CHARACTER)
            }
            b'U' if py => {
                let v = self.hex(at + 2, 8, at)?;
                next = at + 10;
                char::from_u32(v)
                    .ok_or_else(|| self.fail(at, format_args!("invalid code point \\U{v:08x}")))?
            }
            b'0'..=b'7' if py => {
                let mut v = 0;
                let mut i = at + 1;
                while i < at + 4 && matches!(self.b.get(i), Some(b'0'..=b'7')) {
                    v = v * 8 + u32::from(self.b[i] - b'0');
                    i += 1;
                }
                next = i;
                char::from_u32(v).unwrap_or(char::REPLACEMENT_CHARACTER)
            }
            _ => {
                let c = self.text.get(at + 1..).and_then(|s| s.chars().next());
                let shown = c.map(|c| c.to_string()).unwrap_or_default();
                return Err(self.fail(at, format_args!("invalid escape '\\{shown}'")));
            }
        };
        out.push(c);
        Ok(next)
    }

    /// `n` hex digits at `b[i..]`, for the escape at `at`.
    fn hex(&self, i: usize, n: usize, at: usize) -> Result<u32, ValueError> {
        let digits = self
            .b
            .get(i..i + n)
            .filter(|d| d.iter().all(u8::is_ascii_hexdigit));
        let Some(digits) = digits else {
            let kind = self.b[at + 1] as char;
            return Err(self.fail(at, format_args!("expected {n} hex digits after '\\{kind}'")));
        };
        Ok(digits.iter().fold(0, |v, &d| v * 16 + digit_value(d)))
    }

    /// `\uXXXX` at `b[at]`, joining a surrogate pair into one character.
    fn unicode_escape(&self, at: usize) -> Result<(char, usize), ValueError> {
        let unpaired = || self.fail(at, "unpaired surrogate in \\u escape");
        let hi = self.hex(at + 2, 4, at)?;
        let mut end = at + 6;
        let code = match hi {
            0xD800..=0xDBFF => {
                if self.b.get(end..end + 2) != Some(b"\\u") {
                    return Err(unpaired());
                }
                let lo = self.hex(end + 2, 4, end)?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return Err(unpaired());
                }
                end += 6;
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(unpaired()),
            _ => hi,
        };
        let c = char::from_u32(code).ok_or_else(unpaired)?;
        Ok((c, end))
    }
}

// ---------------------------------------------------------------------------------------------
// Constructors

/// The arguments of a constructor call.
struct Args {
    name: &'static str,
    positional: Vec<Value>,
    keywords: Vec<(SmolStr, Value)>,
    /// The keyword names so far, so a repeat is found in O(1) (a call may have many).
    seen: std::collections::HashSet<SmolStr>,
}

impl Args {
    fn bad(&self, msg: impl fmt::Display) -> ValueError {
        ValueError::Literal(format!("{}(): {msg}", self.name))
    }

    /// The one optional positional argument of a constructor without keyword arguments.
    fn optional_one(self) -> Result<(Option<Value>, Args), ValueError> {
        if !self.keywords.is_empty() {
            return Err(self.bad("takes no keyword arguments"));
        }
        self.at_most_one()
    }

    fn at_most_one(mut self) -> Result<(Option<Value>, Args), ValueError> {
        if self.positional.len() > 1 {
            let n = self.positional.len();
            return Err(self.bad(format_args!("takes at most 1 argument ({n} given)")));
        }
        let v = self.positional.pop();
        Ok((v, self))
    }

    /// The items of an iterable, as Python iterates them.
    fn items(&self, v: Value) -> Result<List, ValueError> {
        Ok(match v {
            Value::List(l) => *l,
            Value::Set(s) => (*s).into_iter().collect(),
            Value::Dict(d) => d
                .into_entries()
                .map(|(k, _)| Value::Str(k.into()))
                .collect(),
            Value::Str(s) => s
                .chars()
                .map(|c| Value::Str(Str::new(c.encode_utf8(&mut [0; 4]))))
                .collect(),
            Value::Bytes(b) => b.iter().map(|&x| Value::Int(i64::from(x))).collect(),
            other => return Err(self.bad(format_args!("'{}' is not iterable", other.type_name()))),
        })
    }
}

type Constructor = fn(Args) -> Result<Value, ValueError>;

/// The constructors literals may call. A new type adds a row.
const CONSTRUCTORS: &[(&str, Constructor)] = &[
    ("set", construct_set),
    ("list", construct_list),
    ("dict", construct_dict),
    ("bytes", construct_bytes),
    ("float", construct_float),
    ("sortedset", construct_sortedset),
    ("deque", construct_deque),
    ("decimal", construct_decimal),
    ("datetime", construct_datetime),
    ("date", construct_date),
    ("pqueue", construct_pqueue),
];

fn ident_len(b: &[u8]) -> usize {
    b.iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
        .count()
}

/// Calls the literal constructor `name` (`decimal`, `date`, `deque`, …) with values already
/// read: the language's calls of these names mean what a literal's do. None if there is no
/// such constructor.
pub fn construct(
    name: &str,
    positional: Vec<Value>,
    keywords: Vec<(SmolStr, Value)>,
) -> Option<Result<Value, ValueError>> {
    let (name, construct) = find_constructor(name)?;
    let seen = keywords.iter().map(|(k, _)| k.clone()).collect();
    Some(construct(Args {
        name,
        positional,
        keywords,
        seen,
    }))
}

fn find_constructor(name: &str) -> Option<(&'static str, Constructor)> {
    CONSTRUCTORS.iter().find(|(n, _)| *n == name).copied()
}

/// Whether `b` starts with a constructor name immediately followed by `(`.
fn starts_with_call(b: &[u8]) -> bool {
    CONSTRUCTORS.iter().any(|(name, _)| {
        b.strip_prefix(name.as_bytes())
            .is_some_and(|rest| rest.first() == Some(&b'('))
    })
}

fn construct_set(args: Args) -> Result<Value, ValueError> {
    match args.optional_one()? {
        (None, _) => Ok(Value::Set(Box::default())),
        (Some(v), args) => Value::set(args.items(v)?),
    }
}

/// `sortedset()`, `sortedset({'alice': 3.5})`, `sortedset([['alice', 3.5]])`.
fn construct_sortedset(args: Args) -> Result<Value, ValueError> {
    let (arg, args) = args.optional_one()?;
    let pairs: Vec<(SmolStr, Value)> = match arg {
        None => vec![],
        Some(Value::Dict(d)) => d.into_entries().collect(),
        Some(Value::List(l)) => {
            let mut out = Vec::with_capacity(l.len());
            for item in l.iter() {
                match &*item {
                    Value::List(p) if p.len() == 2 => match p.pair().expect("two items") {
                        (m, x) if matches!(*m, Value::Str(_)) => {
                            let Value::Str(m) = &*m else { unreachable!() };
                            out.push((SmolStr::new(m.as_str()), x.into_owned()))
                        }
                        _ => {
                            return Err(args.bad("takes [member, score] pairs with string members"))
                        }
                    },
                    _ => {
                        return Err(
                            args.bad("takes a dict of member: score or [member, score] pairs")
                        )
                    }
                }
            }
            out
        }
        Some(other) => {
            return Err(args.bad(format_args!(
                "takes a dict of member: score, got {}",
                other.type_name()
            )))
        }
    };
    crate::json::sorted_set(pairs).map_err(|e| args.bad(e))
}

/// `decimal('12.30')` (exact), `decimal(5)`; a float is refused (it is already inexact).
fn construct_decimal(args: Args) -> Result<Value, ValueError> {
    let (first, args) = args.optional_one()?;
    match first {
        None => Ok(Value::Decimal(rust_decimal::Decimal::ZERO)),
        Some(Value::Str(s)) => crate::json::decimal(s.as_str()).map_err(|e| args.bad(e)),
        Some(Value::Int(i)) => Ok(Value::Decimal(i.into())),
        Some(d @ Value::Decimal(_)) => Ok(d),
        Some(other) => Err(args.bad(format_args!(
            "takes the number's text (decimal('0.1')), got {}",
            other.type_name()
        ))),
    }
}

/// `date('2026-11-28')`.
fn construct_date(args: Args) -> Result<Value, ValueError> {
    match args.optional_one()? {
        (Some(Value::Str(s)), args) => crate::dates::Date::parse(s.as_str())
            .map(Value::Date)
            .map_err(|e| args.bad(e)),
        (_, args) => Err(args.bad("takes the date's text: date('2026-11-28')")),
    }
}

/// `datetime('2026-11-28T10:00:00Z')` (RFC 3339; UTC without an offset).
fn construct_datetime(args: Args) -> Result<Value, ValueError> {
    match args.optional_one()? {
        (Some(Value::Str(s)), args) => crate::dates::DateTime::parse(s.as_str())
            .map(Value::DateTime)
            .map_err(|e| args.bad(e)),
        (_, args) => Err(args.bad("takes RFC 3339 text: datetime('2026-11-28T10:00:00Z')")),
    }
}

/// `deque()`, `deque([1, 2])`, `deque([1, 2], maxlen=10)`.
fn construct_deque(mut args: Args) -> Result<Value, ValueError> {
    let mut maxlen = None;
    for (k, v) in std::mem::take(&mut args.keywords) {
        match (k.as_str(), v) {
            ("maxlen", Value::Int(n)) if n >= 0 => maxlen = Some(n as usize),
            ("maxlen", Value::Null) => maxlen = None,
            ("maxlen", other) => {
                return Err(args.bad(format_args!("maxlen must be an int >= 0, got {other}")))
            }
            (other, _) => return Err(args.bad(format_args!("unknown keyword {other}"))),
        }
    }
    let (first, args) = args.at_most_one()?;
    let items = match first {
        None => List::new(),
        Some(v) => args.items(v)?,
    };
    Ok(Value::Deque(Box::new(crate::Deque::new(items, maxlen))))
}

/// `pqueue()`, `pqueue([[priority, item], ...])`.
fn construct_pqueue(args: Args) -> Result<Value, ValueError> {
    let (first, args) = args.optional_one()?;
    match first {
        None => Ok(Value::PQueue(Box::default())),
        Some(Value::List(pairs)) => crate::json::pqueue(&pairs).map_err(|e| args.bad(e)),
        Some(other) => Err(args.bad(format_args!(
            "takes a list of [priority, item] pairs, got {}",
            other.type_name()
        ))),
    }
}

fn construct_list(args: Args) -> Result<Value, ValueError> {
    match args.optional_one()? {
        (None, _) => Ok(Value::list([])),
        (Some(v), args) => Ok(Value::List(Box::new(args.items(v)?))),
    }
}

fn construct_dict(args: Args) -> Result<Value, ValueError> {
    let (first, args) = args.at_most_one()?;
    let mut dict = match first {
        None => Dict::new(),
        Some(Value::Dict(d)) => d,
        Some(Value::List(pairs)) => {
            let mut d = Dict::new();
            for pair in pairs.iter() {
                match &*pair {
                    Value::List(kv) if kv.len() == 2 => match kv.pair().expect("two items") {
                        (k, v) if matches!(*k, Value::Str(_)) => {
                            let Value::Str(k) = &*k else { unreachable!() };
                            d.insert(SmolStr::new(k.as_str()), v.into_owned());
                        }
                        _ => return Err(args.bad("dict keys must be strings")),
                    },
                    _ => return Err(args.bad("takes a list of [key, value] pairs")),
                }
            }
            d
        }
        Some(other) => {
            return Err(args.bad(format_args!(
                "takes a dict or a list of [key, value] pairs, got {}",
                other.type_name()
            )))
        }
    };
    for (k, v) in args.keywords {
        dict.insert(k, v);
    }
    Ok(Value::Dict(dict))
}

fn construct_bytes(args: Args) -> Result<Value, ValueError> {
    let (v, args) = args.optional_one()?;
    let bytes: Vec<u8> = match v {
        None => Vec::new(),
        Some(Value::Str(s)) => decode_base64(&s).map_err(|e| args.bad(e))?,
        Some(Value::Bytes(b)) => return Ok(Value::Bytes(b)),
        Some(Value::List(items)) => items
            .iter()
            .map(|item| match *item {
                Value::Int(i) => u8::try_from(i).ok(),
                _ => None,
            })
            .collect::<Option<_>>()
            .ok_or_else(|| args.bad("a list must hold ints in range(0, 256)"))?,
        Some(other) => {
            return Err(args.bad(format_args!(
                "takes a base64 string or a list of ints, got {}",
                other.type_name()
            )))
        }
    };
    Ok(Value::Bytes(bytes.into()))
}

fn construct_float(args: Args) -> Result<Value, ValueError> {
    let (v, args) = args.optional_one()?;
    let f = match v {
        None => 0.0,
        Some(Value::Float(f)) => f,
        Some(Value::Int(i)) => i as f64,
        Some(Value::Bool(b)) => f64::from(u8::from(b)),
        Some(Value::Str(s)) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| args.bad(format_args!("could not convert string to float: {s:?}")))?,
        Some(other) => {
            return Err(args.bad(format_args!(
                "takes a number or a string, got {}",
                other.type_name()
            )))
        }
    };
    Ok(Value::Float(f))
}

#[cfg(test)]
mod tests;
