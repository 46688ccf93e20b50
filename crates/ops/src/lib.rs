//! okdb's operations layer: what every verb means, written once, as typed functions over
//! [`Value`].
//!
//! Command handlers (okdb's native verbs and Redis's spellings) parse their arguments and call
//! these functions; the language will call the same ones as methods and builtins, so `POP q`
//! and `q.pop()` cannot disagree. A function here knows nothing of RESP, argument bytes,
//! sessions, keys or the journal: it takes values and plain numbers and returns values, counts
//! or a typed [`OpError`].
//!
//! Every function that changes a value checks everything that can fail before it changes
//! anything, so an error leaves the value as it was.
//!
//! The types a verb accepts come from the type catalog ([`okdb_value::types`]): a function
//! states the capability it needs ([`Caps`]) and a mismatch becomes
//! `WrongType { verb, found, accepts }`, with `accepts` listed from the catalog.
//!
//! Modules by family: [`seq`] (sequences and lists: index, slice, ends, search),
//! [`map`] (dicts), [`members`] (sets), [`scored`] (sorted sets), [`num`] (numbers and math
//! over containers), [`bits`] (the bits of a string).

use okdb_value::types::{accepting, Caps};
use okdb_value::Value;

pub mod bits;
pub mod delta;
pub mod map;
pub mod members;
pub mod num;
pub mod queue;
pub mod scored;
pub mod seq;

/// Why an operation refused. The command layer turns it into an error reply (Redis's text where
/// a Redis command asks); the language will turn it into a Python exception.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    /// The value's type does not take this verb.
    #[error("{verb} expects {accepts}, found {found}")]
    WrongType {
        verb: &'static str,
        found: &'static str,
        accepts: String,
    },
    /// An index outside the sequence.
    #[error("index out of range")]
    Index,
    /// Integer arithmetic that does not fit 64 bits.
    #[error("{0}")]
    Overflow(&'static str),
    /// Taking from an empty container where something must be taken.
    #[error("{0} is empty")]
    Empty(&'static str),
    /// An argument the operation cannot take (a step of 0, a non-number in a sum).
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, OpError>;

/// Checks that `v` has the capabilities `caps`, else a `WrongType` naming `verb`.
pub fn expect(verb: &'static str, v: &Value, caps: Caps) -> Result<()> {
    if v.can(caps) {
        Ok(())
    } else {
        Err(wrong_type(verb, v, caps))
    }
}

/// The `WrongType` error of `verb` (which needs `caps`) applied to `v`.
pub fn wrong_type(verb: &'static str, v: &Value, caps: Caps) -> OpError {
    OpError::WrongType {
        verb,
        found: v.type_name(),
        accepts: accepting(caps),
    }
}

/// `LEN`: characters of a string, bytes of bytes, items of a container.
pub fn len(verb: &'static str, v: &Value) -> Result<usize> {
    v.len().ok_or_else(|| wrong_type(verb, v, Caps::LEN))
}

/// `CONTAINS`: an item of a list, a member of a set, a key of a dict, a substring of a string
/// or bytes.
pub fn contains(verb: &'static str, v: &Value, x: &Value) -> Result<bool> {
    Ok(match v {
        Value::List(l) => l.positions_of(x, false).next().is_some(),
        Value::Deque(d) => d.items.positions_of(x, false).next().is_some(),
        Value::Set(s) => s.contains(x),
        Value::SortedSet(z) => matches!(x, Value::Str(m) if z.score(m.as_str()).is_some()),
        Value::Dict(d) => matches!(x, Value::Str(k) if d.contains_key(k.as_str())),
        Value::Str(s) => match x {
            Value::Str(t) => s.as_str().contains(t.as_str()),
            other => {
                return Err(OpError::Invalid(format!(
                    "'in <string>' requires string as left operand, not {}",
                    other.type_name()
                )))
            }
        },
        Value::Bytes(b) => match x {
            Value::Bytes(t) => memfind(b, t),
            Value::Str(t) => memfind(b, t.as_str().as_bytes()),
            other => {
                return Err(OpError::Invalid(format!(
                    "a bytes-like object is required, not {}",
                    other.type_name()
                )))
            }
        },
        other => return Err(wrong_type(verb, other, Caps::CONTAINS)),
    })
}

fn memfind(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// The items of an iterable value, in its order: a list's items, a set's members, a dict's
/// keys (as Python iterates them), a string's characters, bytes' byte values.
pub fn items(verb: &'static str, v: &Value) -> Result<Vec<Value>> {
    Ok(match v {
        Value::List(l) => l.values().collect(),
        Value::Deque(d) => d.items.values().collect(),
        Value::PQueue(q) => q.iter().map(|(_, x)| x.clone()).collect(),
        Value::Set(s) => s.iter().cloned().collect(),
        Value::SortedSet(z) => z.iter().map(|(m, _)| Value::str(m)).collect(),
        Value::Dict(d) => d.iter().map(|(k, _)| Value::str(k)).collect(),
        Value::Str(s) => s
            .as_str()
            .chars()
            .map(|c| Value::str(c.encode_utf8(&mut [0; 4])))
            .collect(),
        Value::Bytes(b) => b.iter().map(|&x| Value::Int(x as i64)).collect(),
        other => return Err(wrong_type(verb, other, Caps::ITERABLE)),
    })
}

#[cfg(test)]
mod tests;
