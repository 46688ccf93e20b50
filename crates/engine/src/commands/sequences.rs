//! Sequence commands: APPEND, EXTEND (the others are in `collections.rs`). Strings, bytes and lists are treated alike.
//!
//! Appending grows a string or list in place (amortized O(appended)) unless a snapshot shares
//! it, in which case it is copied once. Bytes are copied on every append.

use okdb_ops::delta::Delta;
use okdb_ops::seq::End;
use okdb_value::Value;

use crate::{CmdError, Ctx, Reply};

/// Replaces a value by `b` and `tail` joined, as bytes; the new length.
fn append_bytes(value: &mut Value, b: &[u8], tail: &[u8]) -> usize {
    let joined: std::sync::Arc<[u8]> = [b, tail].concat().into();
    let n = joined.len();
    *value = Value::Bytes(joined);
    n
}

/// Refuses to grow a string or bytes value past `proto-max-bulk-len` (Redis's limit on a
/// string, here on every path that grows one: a value that could not be sent whole could not
/// be read back whole either).
pub(crate) fn check_size(ctx: &Ctx, len: usize, added: usize) -> Result<(), CmdError> {
    let max = ctx
        .shared
        .config
        .max_bulk
        .load(std::sync::atomic::Ordering::Relaxed);
    if len.saturating_add(added) > max {
        return Err(CmdError::err(
            "string exceeds maximum allowed size (proto-max-bulk-len)",
        ));
    }
    Ok(())
}

/// Stores a new value for a missing key and answers its length.
fn create(ctx: &mut Ctx, key: &[u8], v: Value) -> Reply {
    let n = v.len().unwrap_or(0);
    ctx.ks_write().set(key, v);
    Reply::Int(n as i64)
}

/// `APPEND key value`: bytes onto a string, an element onto a list. On a string (and on a
/// number, bool or null, whose text it extends, as Redis does) it answers the new length in
/// bytes, as Redis does; on a list, in items. A missing key becomes a string. The bytes added
/// are the argument as sent (under strict literals, a quoted string's content).
pub fn append(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let parsed = ctx.value(a[2])?;
    let tail: &[u8] = match &parsed {
        Value::Str(s) => s.as_str().as_bytes(),
        _ => a[2],
    };
    let now = ctx.now;
    let len = match ctx.ks().and_then(|ks| ks.get(a[1], now)) {
        Some(Value::Str(s)) => s.as_str().len(),
        Some(Value::Bytes(b)) => b.len(),
        Some(Value::List(_) | Value::Dict(_) | Value::Set(_)) | None => 0,
        Some(v) => v.scalar_text().map_or(0, |t| t.len()),
    };
    check_size(ctx, len, tail.len())?;
    let ks = ctx.ks_write();
    let Some(entry) = ks.entry_mut(a[1], now) else {
        ks.set(a[1], Value::from_bytes(tail));
        return Ok(Reply::Int(tail.len() as i64));
    };
    let (reply, delta) = match &mut entry.value {
        v @ Value::Str(_) => match std::str::from_utf8(tail) {
            Ok(t) => {
                okdb_ops::seq::append_text("APPEND", v, t)?;
                // `len` is the string's length in bytes before (read above).
                (len + t.len(), Some(Delta::AppendText(t.into())))
            }
            Err(_) => {
                let head = v.scalar_text().expect("a string").into_owned();
                (append_bytes(v, &head, tail), None)
            }
        },
        Value::Bytes(b) => {
            let b = b.clone();
            (append_bytes(&mut entry.value, &b, tail), None)
        }
        v @ (Value::List(_) | Value::Deque(_)) => {
            let n = okdb_ops::seq::push("APPEND", v, End::Right, vec![parsed.clone()])?;
            let d = Delta::Push {
                end: End::Right,
                items: vec![parsed],
            };
            (n, Some(d))
        }
        v @ (Value::Dict(_) | Value::Set(_) | Value::SortedSet(_) | Value::PQueue(_)) => {
            return Err(CmdError::wrong_type(
                "APPEND",
                v.type_name(),
                "string, bytes, number, list or deque",
            ))
        }
        v => {
            let mut text = v.scalar_text().expect("a scalar").into_owned();
            text.extend_from_slice(tail);
            *v = Value::from_bytes(&text);
            (text.len(), None)
        }
    };
    if let Some(d) = delta {
        ctx.delta(a[1], d);
    }
    Ok(Reply::Int(reply as i64))
}

/// `EXTEND key items`: every item of a list or set onto a list (a missing key becomes a list),
/// or a string onto a string.
pub fn extend(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let parsed = ctx.value(a[2])?;
    let items = || -> Result<Vec<Value>, CmdError> {
        match &parsed {
            Value::List(l) => Ok(l.values().collect()),
            Value::Set(s) => Ok(s.iter().cloned().collect()),
            other => Err(CmdError::err(format!(
                "EXTEND of a list takes a list or set of items, got {}",
                other.type_name()
            ))),
        }
    };
    let now = ctx.now;
    if ctx.get(a[1]).is_none() {
        let v = match &parsed {
            Value::Str(_) => parsed.clone(),
            _ => Value::list(items()?),
        };
        return Ok(create(ctx, a[1], v));
    }
    let (len, added) = match (ctx.ks().and_then(|ks| ks.get(a[1], now)), &parsed) {
        (Some(Value::Str(s)), Value::Str(t)) => (s.as_str().len(), t.as_str().len()),
        (Some(Value::Bytes(b)), _) => (b.len(), a[2].len()),
        _ => (0, 0),
    };
    check_size(ctx, len, added)?;
    let entry = ctx.ks_write().entry_mut(a[1], now).expect("checked above");
    let (n, delta) = match &mut entry.value {
        v @ Value::List(_) => {
            let items = items()?;
            let n = okdb_ops::seq::push("EXTEND", v, End::Right, items.clone())?;
            let d = Delta::Push {
                end: End::Right,
                items,
            };
            (n, Some(d))
        }
        v @ Value::Str(_) => match &parsed {
            Value::Str(t) => {
                okdb_ops::seq::append_text("EXTEND", v, t)?;
                let n = v.len().expect("a string");
                (n, Some(Delta::AppendText(t.as_str().into())))
            }
            other => {
                return Err(CmdError::err(format!(
                    "EXTEND of a string takes a string, got {}",
                    other.type_name()
                )))
            }
        },
        Value::Bytes(b) => {
            let b = b.clone();
            (append_bytes(&mut entry.value, &b, a[2]), None)
        }
        other => {
            return Err(CmdError::wrong_type(
                "EXTEND",
                other.type_name(),
                "list, string or bytes",
            ))
        }
    };
    if let Some(d) = delta {
        ctx.delta(a[1], d);
    }
    Ok(Reply::Int(n as i64))
}
