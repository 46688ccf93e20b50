//! Sequence commands: APPEND, EXTEND, LEN. Strings, bytes and lists are treated alike.
//!
//! Appending grows a string or list in place (amortized O(appended)) unless a snapshot shares
//! it, in which case it is copied once. Bytes are copied on every append.

use bytes::Bytes;
use okdb_value::{Str, Value};

use crate::args;
use crate::{CmdError, Ctx, Reply};

/// The text an argument adds to a string: a string literal's content (`"5"` adds `5`), else the
/// argument as typed (`5` adds `5`, `[1]` adds `[1]`).
fn text_of<'a>(parsed: &'a Value, raw: &'a [u8]) -> Result<&'a str, CmdError> {
    match parsed {
        Value::Str(s) => Ok(s.as_str()),
        _ => args::text(raw),
    }
}

fn append_bytes(value: &mut Value, b: &[u8], tail: &[u8]) -> Reply {
    let joined: std::sync::Arc<[u8]> = [b, tail].concat().into();
    let n = joined.len();
    *value = Value::Bytes(joined);
    Reply::Int(n as i64)
}

/// Stores a new value for a missing key and answers its length.
fn create(ctx: &mut Ctx, key: &[u8], v: Value) -> Reply {
    let n = v.len().unwrap_or(0);
    ctx.ks_write().set(key, v);
    Reply::Int(n as i64)
}

/// `APPEND key value`: text onto a string (or bytes), an element onto a list. A missing key
/// becomes a string, as in Redis.
pub fn append(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let parsed = args::value(&a[2])?;
    let now = ctx.now;
    if ctx.get(&a[1]).is_none() {
        let v = match &parsed {
            Value::Bytes(_) => parsed.clone(),
            p => Value::Str(Str::new(text_of(p, &a[2])?)),
        };
        return Ok(create(ctx, &a[1], v));
    }
    let entry = ctx.ks_write().entry(&a[1], now).expect("checked above");
    match &mut entry.value {
        Value::Str(s) => {
            s.push_str(text_of(&parsed, &a[2])?);
            Ok(Reply::Int(s.char_len() as i64))
        }
        Value::Bytes(b) => {
            let b = b.clone();
            Ok(append_bytes(&mut entry.value, &b, &a[2]))
        }
        Value::List(l) => {
            l.push_back(parsed);
            Ok(Reply::Int(l.len() as i64))
        }
        other => Err(CmdError::wrong_type(
            "APPEND",
            other.type_name(),
            "string, bytes or list",
        )),
    }
}

/// `EXTEND key items`: every item of a list or set onto a list (a missing key becomes a list),
/// or a string onto a string.
pub fn extend(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let parsed = args::value(&a[2])?;
    let items = || -> Result<Vec<Value>, CmdError> {
        match &parsed {
            Value::List(l) => Ok(l.iter().cloned().collect()),
            Value::Set(s) => Ok(s.iter().cloned().collect()),
            other => Err(CmdError::err(format!(
                "EXTEND of a list takes a list or set of items, got {}",
                other.type_name()
            ))),
        }
    };
    let now = ctx.now;
    if ctx.get(&a[1]).is_none() {
        let v = match &parsed {
            Value::Str(_) => parsed.clone(),
            _ => Value::list(items()?),
        };
        return Ok(create(ctx, &a[1], v));
    }
    let entry = ctx.ks_write().entry(&a[1], now).expect("checked above");
    match &mut entry.value {
        Value::List(l) => {
            l.extend(items()?);
            Ok(Reply::Int(l.len() as i64))
        }
        Value::Str(s) => match &parsed {
            Value::Str(t) => {
                s.push_str(t);
                Ok(Reply::Int(s.char_len() as i64))
            }
            other => Err(CmdError::err(format!(
                "EXTEND of a string takes a string, got {}",
                other.type_name()
            ))),
        },
        Value::Bytes(b) => {
            let b = b.clone();
            Ok(append_bytes(&mut entry.value, &b, &a[2]))
        }
        other => Err(CmdError::wrong_type(
            "EXTEND",
            other.type_name(),
            "list, string or bytes",
        )),
    }
}

pub fn len(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    match ctx.get(&a[1]) {
        None => Ok(Reply::Int(0)),
        Some(v) => match v.len() {
            Some(n) => Ok(Reply::Int(n as i64)),
            None => Err(CmdError::wrong_type(
                "LEN",
                v.type_name(),
                "string, bytes, list, dict or set",
            )),
        },
    }
}
