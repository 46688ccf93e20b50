//! What a command answers: a protocol-neutral reply, or an error with a stable prefix.

use std::borrow::Cow;

use bytes::Bytes;
use okdb_value::Value;

/// A command's answer. The server maps it to RESP2 or RESP3; the engine never encodes.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+OK`
    Ok,
    /// A short status line (`PONG`, a type name).
    Status(Cow<'static, str>),
    Int(i64),
    /// Raw bytes: keys, `ECHO`, names.
    Bulk(Bytes),
    /// Long text (`INFO`): a verbatim string in RESP3.
    Text(String),
    Null,
    /// Redis's null array (`*-1` in RESP2; null in RESP3): what a counted pop of a missing list
    /// answers.
    NullArray,
    Array(Vec<Reply>),
    /// An array of stored values, each spelled as [`Reply::Value`] would be: a range of a list,
    /// held as an O(1) clone of the list and the bounds, so no item is copied or wrapped.
    Values(Box<ListRange>),
    Map(Vec<(Reply, Reply)>),
    Set(Vec<Reply>),
    Double(f64),
    Bool(bool),
    /// A stored value: RESP3 gives it typed; RESP2 gives strings raw and the rest as typed JSON.
    Value(Value),
    Error(CmdError),
    /// Out-of-band data (a pub/sub message, a subscription's confirmation, a change of the
    /// feed): a push in RESP3, an array in RESP2.
    Push(Vec<Reply>),
    /// Several replies to one command, sent one after the other (`SUBSCRIBE a b` confirms
    /// each channel with a reply of its own).
    Many(Vec<Reply>),
    /// A pub/sub message (`message`, `pmessage`, `smessage`): a push, shared by every
    /// subscriber it goes to.
    Message(std::sync::Arc<crate::pubsub::Message>),
}

impl Reply {
    pub fn bulk(b: &[u8]) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(b))
    }

    pub fn text(s: &str) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    pub fn status(s: &'static str) -> Reply {
        Reply::Status(Cow::Borrowed(s))
    }

    /// A value, or a null reply for a missing one.
    pub fn value(v: Option<&Value>) -> Reply {
        v.map_or(Reply::Null, |v| Reply::Value(v.clone()))
    }
}

/// Items `start..end` of a list (see [`Reply::Values`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ListRange {
    pub list: okdb_value::List,
    pub start: usize,
    pub end: usize,
}

impl ListRange {
    /// The whole list.
    pub fn all(list: okdb_value::List) -> ListRange {
        let end = list.len();
        ListRange {
            list,
            start: 0,
            end,
        }
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// The items in order (a focus on the range: O(1) amortized per item).
    pub fn iter(&self) -> okdb_value::list::Iter<'_> {
        self.list.range(self.start, self.end)
    }

    /// The items as a reply writes them (a packed string's bytes lent from its chunk).
    pub fn raw(&self) -> okdb_value::list::RawIter<'_> {
        self.list.raw_range(self.start, self.end)
    }
}

/// A client-facing error: a stable prefix (`ERR`, `WRONGTYPE`, `NOPROTO`, …) and a message that
/// names the problem. Never carries internals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdError {
    pub prefix: &'static str,
    pub message: String,
}

impl CmdError {
    pub fn new(prefix: &'static str, message: impl Into<String>) -> CmdError {
        CmdError {
            prefix,
            message: message.into(),
        }
    }

    pub fn err(message: impl Into<String>) -> CmdError {
        CmdError::new("ERR", message)
    }

    pub fn syntax() -> CmdError {
        CmdError::err("syntax error")
    }

    pub fn not_an_int() -> CmdError {
        CmdError::err("value is not an integer or out of range")
    }

    /// `WRONGTYPE` naming the command, the type found and the types it accepts.
    pub fn wrong_type(command: &str, found: &str, accepts: &str) -> CmdError {
        CmdError::new(
            "WRONGTYPE",
            format!("{command} expects {accepts}, found {found}"),
        )
    }

    pub fn arity(command: &str) -> CmdError {
        CmdError::err(format!(
            "wrong number of arguments for '{}' command",
            command.to_ascii_lowercase()
        ))
    }

    pub fn unknown_command(args: &[&[u8]]) -> CmdError {
        let name = String::from_utf8_lossy(args[0]);
        let mut msg = format!(
            "unknown command '{}', with args beginning with:",
            clip(&name)
        );
        for a in args.iter().skip(1).take(8) {
            msg.push_str(&format!(" '{}'", clip(&String::from_utf8_lossy(a))));
        }
        CmdError::err(msg)
    }
}

/// Keeps echoed user input short in error messages.
fn clip(s: &str) -> Cow<'_, str> {
    if s.len() <= 128 {
        Cow::Borrowed(s)
    } else {
        let mut end = 128;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        Cow::Owned(format!("{}...", &s[..end]))
    }
}

impl std::fmt::Display for CmdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.prefix, self.message)
    }
}

impl std::error::Error for CmdError {}

/// An operation's typed error as a reply: `WRONGTYPE <verb> expects <types>, found <type>`, or
/// `ERR` with the operation's message.
impl From<okdb_ops::OpError> for CmdError {
    fn from(e: okdb_ops::OpError) -> CmdError {
        match e {
            okdb_ops::OpError::WrongType { .. } => CmdError::new("WRONGTYPE", e.to_string()),
            other => CmdError::err(other.to_string()),
        }
    }
}
