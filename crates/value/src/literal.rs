//! The okdb literal parser (SPEC.md §1). Being written; see the module docs once it lands.
use crate::{Value, ValueError};

/// Interprets one command argument as a value: a literal if it is one, else a plain string.
pub fn parse_arg(arg: &[u8]) -> Result<Value, ValueError> {
    match std::str::from_utf8(arg) {
        Ok(s) => Ok(s.parse::<i64>().map(Value::Int).unwrap_or_else(|_| Value::str(s))),
        Err(_) => Ok(Value::Bytes(arg.into())),
    }
}

/// Parses text that must be one whole literal.
pub fn parse_literal(text: &str) -> Result<Value, ValueError> {
    Err(ValueError::Literal(text.to_string()))
}
