//! The one error type of the crate.

use std::fmt;

/// A malformed request, command line or reply.
///
/// The `Display` text of the request-side variants matches what Redis says for the same mistake
/// (`Protocol error: invalid bulk length`, …), so a server can answer `-ERR {error}` and close the
/// connection exactly as Redis does. After any error the byte stream can no longer be trusted:
/// the connection should be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// `*N` with N not an integer, or N above [`Limits::max_args`](crate::Limits::max_args).
    #[error("Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    /// `$N` with N not an integer, negative, or above [`Limits::max_bulk`](crate::Limits::max_bulk).
    #[error("Protocol error: invalid bulk length")]
    InvalidBulkLength,
    /// An element of a request array that is not a bulk string.
    #[error("Protocol error: expected '$', got '{}'", ShowByte(*.0))]
    ExpectedBulk(u8),
    /// Bulk data not followed by `\r\n`.
    #[error("Protocol error: expected CRLF after bulk data")]
    MissingBulkCrlf,
    /// An inline command line longer than [`Limits::max_inline`](crate::Limits::max_inline).
    #[error("Protocol error: too big inline request")]
    TooBigInline,
    /// A quoted token without its closing quote, or a closing quote not followed by whitespace.
    #[error("Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
    /// A `{…}`, `[…]` or `name(…)` token whose brackets do not match.
    #[error("Protocol error: unbalanced brackets in request")]
    UnbalancedBrackets,
    /// [`split_inline`](crate::split_inline) produced a token (through a `\xHH` escape) that is not
    /// UTF-8; [`split_inline_bytes`](crate::split_inline_bytes) accepts it.
    #[error("Protocol error: inline argument is not valid UTF-8")]
    InvalidUtf8,
    /// A reply starting with a byte that is no RESP2/RESP3 type.
    #[error("Protocol error: invalid frame type byte '{}'", ShowByte(*.0))]
    InvalidFrameType(u8),
    /// A reply frame whose content does not fit its type; the payload names the part
    /// (`"integer"`, `"double"`, `"length"`, `"line"`, …).
    #[error("Protocol error: invalid {0} in reply")]
    InvalidFrame(&'static str),
    /// A reply nested deeper than [`MAX_DEPTH`](crate::MAX_DEPTH).
    #[error("Protocol error: reply nested deeper than 512 levels")]
    TooDeep,
}

/// Shows a byte the way a human wants to read it in an error: printable ASCII as itself,
/// anything else as `\xHH`.
struct ShowByte(u8);

impl fmt::Display for ShowByte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_ascii_graphic() || self.0 == b' ' {
            write!(f, "{}", self.0 as char)
        } else {
            write!(f, "\\x{:02x}", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ProtocolError;

    #[test]
    fn messages_match_redis() {
        let cases = [
            (
                ProtocolError::InvalidBulkLength,
                "Protocol error: invalid bulk length",
            ),
            (
                ProtocolError::InvalidMultibulkLength,
                "Protocol error: invalid multibulk length",
            ),
            (
                ProtocolError::ExpectedBulk(b'x'),
                "Protocol error: expected '$', got 'x'",
            ),
            (
                ProtocolError::ExpectedBulk(0),
                "Protocol error: expected '$', got '\\x00'",
            ),
            (
                ProtocolError::TooBigInline,
                "Protocol error: too big inline request",
            ),
            (
                ProtocolError::UnbalancedQuotes,
                "Protocol error: unbalanced quotes in request",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text);
        }
    }
}
