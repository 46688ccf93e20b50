//! Sequence commands: APPEND, EXTEND, LEN. Strings, bytes and lists are treated alike.

use bytes::Bytes;
use okdb_value::{SmolStr, Value};

use crate::args;
use crate::{CmdError, Ctx, Reply};

/// The text an argument adds to a string: a string literal's content (`"5"` adds `5`), else the
/// argument as typed (`5` adds `5`, `[1]` adds `[1]`).
fn text_of(parsed: &Value, raw: &[u8]) -> Result<SmolStr, CmdError> {
    match parsed {
        Value::Str(s) => Ok(s.clone()),
        _ => Ok(args::text(raw)?.into()),
    }
}

fn concat(a: &str, b: &str) -> Value {
    let mut s = String::with_capacity(a.len() + b.len());
    s.push_str(a);
    s.push_str(b);
    Value::Str(s.into())
}

fn concat_bytes(a: &[u8], b: &[u8]) -> Value {
    Value::Bytes([a, b].concat().into())
}

fn len_reply(v: &Value) -> Reply {
    Reply::Int(v.len().unwrap_or(0) as i64)
}

/// `APPEND key value`: text onto a string (or bytes), an element onto a list. A missing key
/// becomes a string, as in Redis.
pub fn append(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let parsed = args::value(&a[2])?;
    let now = ctx.now;
    if ctx.get(&a[1]).is_none() {
        let v = match parsed {
            Value::Bytes(b) => Value::Bytes(b),
            p => Value::Str(text_of(&p, &a[2])?),
        };
        let reply = len_reply(&v);
        ctx.ks_write().set(&a[1], v);
        return Ok(reply);
    }
    let entry = ctx.ks_write().entry(&a[1], now).expect("checked above");
    let new = match &mut entry.value {
        Value::Str(s) => concat(s, &text_of(&parsed, &a[2])?),
        Value::Bytes(b) => concat_bytes(b, &a[2]),
        Value::List(l) => {
            l.push_back(parsed);
            return Ok(Reply::Int(l.len() as i64));
        }
        other => {
            return Err(CmdError::wrong_type(
                "APPEND",
                other.type_name(),
                "string, bytes or list",
            ));
        }
    };
    let reply = len_reply(&new);
    entry.value = new;
    Ok(reply)
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
        let reply = len_reply(&v);
        ctx.ks_write().set(&a[1], v);
        return Ok(reply);
    }
    let entry = ctx.ks_write().entry(&a[1], now).expect("checked above");
    let new = match &mut entry.value {
        Value::List(l) => {
            l.extend(items()?);
            return Ok(Reply::Int(l.len() as i64));
        }
        Value::Str(s) => match &parsed {
            Value::Str(t) => concat(s, t),
            other => {
                return Err(CmdError::err(format!(
                    "EXTEND of a string takes a string, got {}",
                    other.type_name()
                )))
            }
        },
        Value::Bytes(b) => concat_bytes(b, &a[2]),
        other => {
            return Err(CmdError::wrong_type(
                "EXTEND",
                other.type_name(),
                "list, string or bytes",
            ));
        }
    };
    let reply = len_reply(&new);
    entry.value = new;
    Ok(reply)
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
