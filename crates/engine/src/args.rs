//! Reading command arguments.

use bytes::Bytes;
use okdb_value::literal::Literals;
use okdb_value::Value;

use crate::CmdError;

/// A request's arguments as a handler reads them: slices of the request, borrowed for the call
/// (no reference count per argument). Owned arguments (a queued MULTI command, a parked one, a
/// script's call, a journal record) are lent as [`borrowed`] slices.
pub type Args<'a> = smallvec::SmallVec<[&'a [u8]; 8]>;

/// Owned arguments as the slices a handler takes.
pub fn borrowed(args: &[Bytes]) -> Args<'_> {
    args.iter().map(|a| &a[..]).collect()
}

/// Borrowed arguments copied, for a command kept past its request (a MULTI queue, a parked
/// command, a journal record).
pub fn owned(args: &[&[u8]]) -> Vec<Bytes> {
    args.iter().map(|a| Bytes::copy_from_slice(a)).collect()
}

/// An argument as a value under a literal mode (SPEC.md §1): faithful never fails.
pub fn value(mode: Literals, arg: &[u8]) -> Result<Value, CmdError> {
    let v = mode.parse(arg).map_err(|e| CmdError::err(e.to_string()))?;
    // A function literal is stored only if it is a function of the language.
    if let Value::Function(src) = &v {
        okdb_lang::Program::lambda(src).map_err(|e| {
            CmdError::new(
                crate::script::static_kind(&e.kind),
                format!("not a function: {}", e.msg),
            )
        })?;
    }
    Ok(v)
}

/// An argument that must be a 64-bit integer, written as Redis writes one ([`redis_int`]).
pub fn int(arg: &[u8]) -> Result<i64, CmdError> {
    redis_int(arg).ok_or_else(CmdError::not_an_int)
}

/// Redis's integer text (its `string2ll`): the same texts the faithful literal rule reads as
/// ints.
pub use okdb_value::literal::canonical_int as redis_int;

/// Redis's float text (its `string2ld`): a decimal or exponent number, `inf` allowed, with
/// nothing before or after it; NaN refused.
pub fn redis_float(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?;
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| !f.is_nan())
}

/// An argument that must be UTF-8 text.
pub fn text(arg: &[u8]) -> Result<&str, CmdError> {
    std::str::from_utf8(arg).map_err(|_| CmdError::err("argument is not valid UTF-8"))
}

/// True if the argument is the keyword `word` (ASCII, any case).
pub fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}
