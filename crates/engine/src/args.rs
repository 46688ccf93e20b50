//! Reading command arguments.

use bytes::Bytes;
use okdb_value::{literal, Value};

use crate::CmdError;

/// An argument as a value: a literal if it is one, else a plain string (SPEC.md §1).
pub fn value(arg: &[u8]) -> Result<Value, CmdError> {
    literal::parse_arg(arg).map_err(|e| CmdError::err(e.to_string()))
}

/// An argument that must be a 64-bit integer.
pub fn int(arg: &[u8]) -> Result<i64, CmdError> {
    std::str::from_utf8(arg)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(CmdError::not_an_int)
}

/// An argument that must be UTF-8 text.
pub fn text(arg: &[u8]) -> Result<&str, CmdError> {
    std::str::from_utf8(arg).map_err(|_| CmdError::err("argument is not valid UTF-8"))
}

/// True if the argument is the keyword `word` (ASCII, any case).
pub fn is(arg: &Bytes, word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}
