//! The inline (telnet / shell) command-line tokenizer.
//!
//! Two kinds of token:
//!
//! * **Shell words**, exactly as redis-cli's `sdssplitargs` reads them: whitespace separates;
//!   `"..."` unquotes with escapes (`\n \r \t \b \a \\ \" \xHH`, any other `\c` is `c`);
//!   `'...'` unquotes literally except `\'`; a quote may start in the middle of a word
//!   (`foo"bar baz"` is `foobar baz`), and a closing quote must be followed by whitespace or the
//!   end of the line.
//! * **Verbatim values**: a token starting with `{` or `[`, or with an identifier immediately
//!   followed by `(` (`set([1, 2])`, `bytes('aGk=')`), is kept byte for byte, quotes included,
//!   up to the next whitespace outside any bracket. Inside brackets `()[]{}` must nest properly,
//!   and `"..."` / `'...'` strings (with backslash escapes) are skipped, so brackets and spaces in
//!   them do not count. This lets a user type JSON and okdb literals without quoting them.
//!
//! One deviation from `sdssplitargs`, which works on C strings: a NUL byte is an ordinary byte
//! here, not the end of the line, and every ASCII whitespace byte (`isspace`) ends a token.

use crate::ProtocolError;

/// A token found by [`tokenize`]: either a span of the line (kept as is) or unquoted bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// `line[start..end]`, verbatim.
    Span(usize, usize),
    /// The token after unquoting.
    Owned(Vec<u8>),
}

impl Token {
    fn into_vec(self, line: &[u8]) -> Vec<u8> {
        match self {
            Token::Span(start, end) => line[start..end].to_vec(),
            Token::Owned(bytes) => bytes,
        }
    }
}

/// Tokenizes an inline command line the way redis-cli does, and keeps JSON and okdb literals
/// whole.
///
/// * Whitespace separates tokens.
/// * Shell words follow redis-cli's `sdssplitargs`: `"..."` unquotes with escapes
///   (`\n \r \t \b \a \\ \" \xHH`, any other `\c` is `c`); `'...'` unquotes literally except
///   `\'`; a quote may start inside a word (`foo"bar baz"` is `foobar baz`); a closing quote must
///   be followed by whitespace or the end of the line.
/// * A token starting with `{` or `[`, or with an identifier immediately followed by `(`
///   (`set([1, 2])`, `bytes('aGk=')`), is kept verbatim, quotes included, up to the next
///   whitespace outside brackets. Inside brackets, `()[]{}` must nest properly and `"..."` /
///   `'...'` strings (with backslash escapes) are skipped over. Outside brackets quotes are plain
///   bytes, so a hash-tagged key such as `{user1}:o'brien` is one token.
/// * Unlike `sdssplitargs`, a NUL byte is an ordinary byte, and every ASCII whitespace byte ends a
///   word.
///
/// ```
/// let args = okdb_resp::split_inline(r#"SET user:1 {"name": "kevin", "tags": ["a", "b"]}"#).unwrap();
/// assert_eq!(args, ["SET", "user:1", r#"{"name": "kevin", "tags": ["a", "b"]}"#]);
/// assert_eq!(okdb_resp::split_inline(r#"SET k '"5"'"#).unwrap(), ["SET", "k", "\"5\""]);
/// ```
///
/// # Errors
/// [`ProtocolError::UnbalancedQuotes`], [`ProtocolError::UnbalancedBrackets`], or
/// [`ProtocolError::InvalidUtf8`] when a `\xHH` escape makes a token that is not UTF-8 (use
/// [`split_inline_bytes`] for binary arguments).
pub fn split_inline(line: &str) -> Result<Vec<String>, ProtocolError> {
    split_inline_bytes(line.as_bytes())?
        .into_iter()
        .map(|token| String::from_utf8(token).map_err(|_| ProtocolError::InvalidUtf8))
        .collect()
}

/// [`split_inline`] for a line that may hold any bytes; tokens may hold any bytes too.
///
/// # Errors
/// [`ProtocolError::UnbalancedQuotes`] or [`ProtocolError::UnbalancedBrackets`].
pub fn split_inline_bytes(line: &[u8]) -> Result<Vec<Vec<u8>>, ProtocolError> {
    let mut tokens = Vec::new();
    tokenize(line, &mut tokens)?;
    Ok(tokens.into_iter().map(|t| t.into_vec(line)).collect())
}

/// `isspace` of the C locale.
const fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Appends the tokens of `line` to `out`.
pub(crate) fn tokenize(line: &[u8], out: &mut Vec<Token>) -> Result<(), ProtocolError> {
    let mut i = 0;
    loop {
        while i < line.len() && is_space(line[i]) {
            i += 1;
        }
        if i == line.len() {
            return Ok(());
        }
        let token = if starts_verbatim(line, i) {
            verbatim(line, &mut i)?
        } else {
            shell_word(line, &mut i)?
        };
        out.push(token);
    }
}

/// Does the token at `line[i]` start with `{`, `[` or `identifier(`?
fn starts_verbatim(line: &[u8], i: usize) -> bool {
    match line[i] {
        b'{' | b'[' => true,
        b if b.is_ascii_alphabetic() || b == b'_' => {
            let rest = &line[i + 1..];
            let ident = rest
                .iter()
                .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))
                .unwrap_or(rest.len());
            rest.get(ident) == Some(&b'(')
        }
        _ => false,
    }
}

/// Reads a verbatim token starting at `*i`: up to whitespace outside brackets.
fn verbatim(line: &[u8], i: &mut usize) -> Result<Token, ProtocolError> {
    let start = *i;
    // The closing bracket each open bracket expects, innermost last.
    let mut open: Vec<u8> = Vec::new();
    let mut j = start;
    while j < line.len() {
        let b = line[j];
        if open.is_empty() && is_space(b) {
            break;
        }
        match b {
            b'(' => open.push(b')'),
            b'[' => open.push(b']'),
            b'{' => open.push(b'}'),
            b')' | b']' | b'}' => close(&mut open, b)?,
            b'"' | b'\'' if !open.is_empty() => j = skip_string(line, j)?,
            _ => {}
        }
        j += 1;
    }
    if !open.is_empty() {
        return Err(ProtocolError::UnbalancedBrackets);
    }
    *i = j;
    Ok(Token::Span(start, j))
}

/// Closes the innermost open bracket with `closer`, which must be the one it expects.
fn close(open: &mut Vec<u8>, closer: u8) -> Result<(), ProtocolError> {
    if open.pop() == Some(closer) {
        Ok(())
    } else {
        Err(ProtocolError::UnbalancedBrackets)
    }
}

/// `line[at]` opens a string; returns the index of its closing quote.
fn skip_string(line: &[u8], at: usize) -> Result<usize, ProtocolError> {
    let quote = line[at];
    let mut j = at + 1;
    while j < line.len() {
        match line[j] {
            b'\\' => j += 2,
            b if b == quote => return Ok(j),
            _ => j += 1,
        }
    }
    Err(ProtocolError::UnbalancedQuotes)
}

/// Reads a redis-cli shell word starting at `*i`.
fn shell_word(line: &[u8], i: &mut usize) -> Result<Token, ProtocolError> {
    let start = *i;
    let mut j = start;
    while j < line.len() && !is_space(line[j]) && line[j] != b'"' && line[j] != b'\'' {
        j += 1;
    }
    if j == line.len() || is_space(line[j]) {
        // The common case: a plain word, no copy needed.
        *i = j;
        return Ok(Token::Span(start, j));
    }
    let mut word = line[start..j].to_vec();
    let end = if line[j] == b'"' {
        double_quoted(line, j + 1, &mut word)?
    } else {
        single_quoted(line, j + 1, &mut word)?
    };
    // A closing quote must end the token.
    if end + 1 < line.len() && !is_space(line[end + 1]) {
        return Err(ProtocolError::UnbalancedQuotes);
    }
    *i = end + 1;
    Ok(Token::Owned(word))
}

/// Unquotes a `"..."` section whose content starts at `j`; returns the closing quote's index.
fn double_quoted(line: &[u8], mut j: usize, word: &mut Vec<u8>) -> Result<usize, ProtocolError> {
    while j < line.len() {
        match line[j] {
            b'\\'
                if j + 3 < line.len()
                    && line[j + 1] == b'x'
                    && line[j + 2].is_ascii_hexdigit()
                    && line[j + 3].is_ascii_hexdigit() =>
            {
                word.push(hex(line[j + 2]) << 4 | hex(line[j + 3]));
                j += 4;
            }
            b'\\' if j + 1 < line.len() => {
                word.push(match line[j + 1] {
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'b' => 0x08,
                    b'a' => 0x07,
                    other => other,
                });
                j += 2;
            }
            b'"' => return Ok(j),
            b => {
                word.push(b);
                j += 1;
            }
        }
    }
    Err(ProtocolError::UnbalancedQuotes)
}

/// Unquotes a `'...'` section whose content starts at `j`; returns the closing quote's index.
fn single_quoted(line: &[u8], mut j: usize, word: &mut Vec<u8>) -> Result<usize, ProtocolError> {
    while j < line.len() {
        match line[j] {
            b'\\' if line.get(j + 1) == Some(&b'\'') => {
                word.push(b'\'');
                j += 2;
            }
            b'\'' => return Ok(j),
            b => {
                word.push(b);
                j += 1;
            }
        }
    }
    Err(ProtocolError::UnbalancedQuotes)
}

/// The value of an ASCII hex digit (the caller checked it is one).
fn hex(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str, expect: &[&str]) {
        match split_inline(line) {
            Ok(args) => assert_eq!(args, expect, "line: {line:?}"),
            Err(e) => panic!("line {line:?}: unexpected error {e}"),
        }
    }

    fn err(line: &str, expect: ProtocolError) {
        assert_eq!(split_inline(line), Err(expect), "line: {line:?}");
    }

    #[test]
    fn plain_words_and_whitespace() {
        ok("", &[]);
        ok("   \t ", &[]);
        ok("PING", &["PING"]);
        ok("SET k v", &["SET", "k", "v"]);
        ok("  SET\tk \x0b v  \r\n", &["SET", "k", "v"]);
        ok("GET a\u{e9}b", &["GET", "a\u{e9}b"]);
        ok("x) y] z}", &["x)", "y]", "z}"]);
        ok("user:{1} x", &["user:{1}", "x"]);
    }

    #[test]
    fn redis_cli_quoting() {
        ok(r#""""#, &[""]);
        ok(r#"''"#, &[""]);
        ok(r#"SET "a b" c"#, &["SET", "a b", "c"]);
        ok(r#""\x41\x7a\n\r\t\b\a\\\"\q""#, &["Az\n\r\t\x08\x07\\\"q"]);
        ok(r#""\xZZ""#, &["xZZ"]);
        ok(r#""\x4""#, &["x4"]);
        ok(r"'it\'s'", &["it's"]);
        ok(r"'a\nb\\c'", &["a\\nb\\\\c"]);
        // `\\'` is a literal backslash, then an escaped quote: the quote is still open.
        err(r"'a\\'", ProtocolError::UnbalancedQuotes);
        ok(r#"'say "hi"'"#, &["say \"hi\""]);
        ok(r#"foo"bar baz" x"#, &["foobar baz", "x"]);
        ok(r"foo'bar baz'", &["foobar baz"]);
        ok(r#""a"  "b""#, &["a", "b"]);
        ok("\"a\"\t'b'\n", &["a", "b"]);
        ok(r#"SET k '"5"'"#, &["SET", "k", "\"5\""]);
    }

    #[test]
    fn quoting_errors() {
        err(r#""abc"#, ProtocolError::UnbalancedQuotes);
        err(r"'abc", ProtocolError::UnbalancedQuotes);
        err(r#""a"b"#, ProtocolError::UnbalancedQuotes);
        err(r"'a'b", ProtocolError::UnbalancedQuotes);
        err(r#""""""#, ProtocolError::UnbalancedQuotes);
        err(r#""abc\"#, ProtocolError::UnbalancedQuotes);
        err(r#""abc\""#, ProtocolError::UnbalancedQuotes);
        err(r"'abc\'", ProtocolError::UnbalancedQuotes);
        err(r#"SET k "\xff""#, ProtocolError::InvalidUtf8);
    }

    #[test]
    fn verbatim_values() {
        ok(
            r#"SET user:1 {"name": "kevin", "tags": ["a", "b"]}"#,
            &["SET", "user:1", r#"{"name": "kevin", "tags": ["a", "b"]}"#],
        );
        ok("SET s set([1, 2])", &["SET", "s", "set([1, 2])"]);
        ok("SET b bytes('aGk=')", &["SET", "b", "bytes('aGk=')"]);
        ok(
            "SET l [1, [2, {\"x\": 3}]] NX",
            &["SET", "l", "[1, [2, {\"x\": 3}]]", "NX"],
        );
        ok(r#"SET k {"a": "}"}"#, &["SET", "k", r#"{"a": "}"}"#]);
        ok(
            r#"SET k {"a": "\"} ]"}"#,
            &["SET", "k", r#"{"a": "\"} ]"}"#],
        );
        ok(
            r"SET k ['it\'s ]', 'x']",
            &["SET", "k", r"['it\'s ]', 'x']"],
        );
        ok("[1] [2]", &["[1]", "[2]"]);
        ok("{}", &["{}"]);
        ok("d(1)(2) x", &["d(1)(2)", "x"]);
        ok("_f(a b)", &["_f(a b)"]);
        ok("date2('2024-01-01')", &["date2('2024-01-01')"]);
        // A hash-tagged key: the part after the braces belongs to the token, and quotes
        // outside brackets are plain bytes.
        ok("GET {user1}:o'brien", &["GET", "{user1}:o'brien"]);
        // Not an identifier call: a digit first, or a space before the bracket.
        ok("1f(x)", &["1f(x)"]);
        ok("f (x)", &["f", "(x)"]);
    }

    #[test]
    fn verbatim_errors() {
        err("SET k {", ProtocolError::UnbalancedBrackets);
        err("SET k [1, 2}", ProtocolError::UnbalancedBrackets);
        err("SET k {\"a\": [1}]", ProtocolError::UnbalancedBrackets);
        err("SET k f(x", ProtocolError::UnbalancedBrackets);
        err("SET k [1]]", ProtocolError::UnbalancedBrackets);
        err(r#"SET k {"a": "b}"#, ProtocolError::UnbalancedQuotes);
        err(r"SET k ['a\']", ProtocolError::UnbalancedQuotes);
    }

    #[test]
    fn bytes_variant_keeps_binary() {
        assert_eq!(
            split_inline_bytes(b"SET k \"\\xff\\x00\" \xfe\x00").unwrap(),
            vec![b"SET".to_vec(), b"k".to_vec(), vec![0xff, 0], vec![0xfe, 0]]
        );
    }

    #[test]
    fn spans_are_zero_copy_where_possible() {
        let mut out = Vec::new();
        tokenize(b"SET k {\"a\": 1} \"q\"", &mut out).unwrap();
        assert_eq!(
            out,
            vec![
                Token::Span(0, 3),
                Token::Span(4, 5),
                Token::Span(6, 14),
                Token::Owned(b"q".to_vec())
            ]
        );
    }
}
