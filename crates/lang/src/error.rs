//! The one error type: a Python exception (or okdb's own `BUDGET`, `WRONGTYPE`, a command's
//! error) with the line it was raised on.

use smol_str::SmolStr;

/// An exception. Boxed: every evaluation returns a `Result`, and a small error keeps that
/// `Result` the size of a value, so the interpreter moves half the bytes on every return.
#[derive(Debug, Clone, PartialEq)]
pub struct Exc(Box<ExcInfo>);

#[derive(Debug, Clone, PartialEq)]
pub struct ExcInfo {
    /// The exception's class name (`TypeError`, `KeyError`, …) or okdb's error code
    /// (`BUDGET`, `WRONGTYPE`, `ERR`, …); the first word of the error reply.
    pub kind: SmolStr,
    pub msg: String,
    /// 1-based; 0 until the statement that raised it is known.
    pub line: u32,
    pub col: u32,
}

impl std::ops::Deref for Exc {
    type Target = ExcInfo;
    fn deref(&self) -> &ExcInfo {
        &self.0
    }
}

impl std::ops::DerefMut for Exc {
    fn deref_mut(&mut self) -> &mut ExcInfo {
        &mut self.0
    }
}

impl Exc {
    pub fn new(kind: &str, msg: impl Into<String>, line: u32, col: u32) -> Exc {
        Exc(Box::new(ExcInfo {
            kind: kind.into(),
            msg: msg.into(),
            line,
            col,
        }))
    }

    pub fn raise(kind: &str, msg: impl Into<String>) -> Exc {
        Exc::new(kind, msg, 0, 0)
    }

    pub fn syntax(msg: impl Into<String>, line: u32, col: u32) -> Exc {
        Exc::new("SyntaxError", msg, line, col)
    }

    pub fn type_error(msg: impl Into<String>) -> Exc {
        Exc::raise("TypeError", msg)
    }

    pub fn value_error(msg: impl Into<String>) -> Exc {
        Exc::raise("ValueError", msg)
    }

    pub fn index_error(msg: impl Into<String>) -> Exc {
        Exc::raise("IndexError", msg)
    }

    pub fn overflow() -> Exc {
        Exc::raise(
            "OverflowError",
            "integer result out of range (okdb ints are 64-bit)",
        )
    }

    pub fn budget(msg: impl Into<String>) -> Exc {
        Exc::raise("BUDGET", msg)
    }

    /// Sets the line if it is not known yet.
    pub fn at(mut self, line: u32) -> Exc {
        if self.line == 0 {
            self.line = line;
        }
        self
    }

    /// Whether a script may not go on after it: a budget error cannot be caught or ignored.
    pub fn is_budget(&self) -> bool {
        self.kind == "BUDGET"
    }
}

impl std::fmt::Display for Exc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.msg)?;
        if self.line > 0 {
            if self.col > 0 {
                write!(f, " (line {}, column {})", self.line, self.col)?;
            } else {
                write!(f, " (line {})", self.line)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Exc {}

pub type Result<T, E = Exc> = std::result::Result<T, E>;
