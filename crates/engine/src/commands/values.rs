//! Value commands: SET, GET, GETSET, INCR, DECR.

use bytes::Bytes;
use okdb_value::Value;

use crate::args::{self, is};
use crate::keyspace::Entry;
use crate::{CmdError, Ctx, Reply};

/// Redis's `SET` options, for the single-pair form.
#[derive(Default)]
struct SetOptions {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    expire_at: Option<u64>,
}

fn is_set_option(a: &Bytes) -> bool {
    ["NX", "XX", "GET", "KEEPTTL", "EX", "PX", "EXAT", "PXAT"]
        .iter()
        .any(|o| is(a, o))
}

fn parse_set_options(a: &[Bytes], now: u64) -> Result<SetOptions, CmdError> {
    let mut o = SetOptions::default();
    let mut i = 0;
    while i < a.len() {
        let opt = &a[i];
        if is(opt, "NX") && !o.xx {
            o.nx = true;
        } else if is(opt, "XX") && !o.nx {
            o.xx = true;
        } else if is(opt, "GET") {
            o.get = true;
        } else if is(opt, "KEEPTTL") && o.expire_at.is_none() {
            o.keep_ttl = true;
        } else if ["EX", "PX", "EXAT", "PXAT"].iter().any(|w| is(opt, w))
            && o.expire_at.is_none()
            && !o.keep_ttl
        {
            let n = args::int(a.get(i + 1).ok_or_else(CmdError::syntax)?)?;
            let invalid = || CmdError::err("invalid expire time in 'set' command");
            if n <= 0 {
                return Err(invalid());
            }
            let n = n as u64;
            let at = if is(opt, "EX") {
                n.checked_mul(1000).and_then(|ms| ms.checked_add(now))
            } else if is(opt, "PX") {
                n.checked_add(now)
            } else if is(opt, "EXAT") {
                n.checked_mul(1000)
            } else {
                Some(n)
            };
            o.expire_at = Some(crate::time::in_range(at).ok_or_else(invalid)?);
            i += 1;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    Ok(o)
}

/// `SET key value [key value ...]` (all pairs or none) or `SET key value [options]`.
pub fn set(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    if a.len() > 3 && is_set_option(&a[3]) {
        return set_with_options(ctx, a);
    }
    if a.len().is_multiple_of(2) {
        return Err(CmdError::err(
            "SET takes key value pairs, or one pair followed by options (NX XX EX PX EXAT PXAT KEEPTTL GET)",
        ));
    }
    set_pairs(ctx, &a[1..])
}

/// Stores key/value pairs: every value is parsed before any is stored, so a bad literal stores
/// nothing.
pub(super) fn set_pairs(ctx: &mut Ctx, pairs: &[Bytes]) -> Result<Reply, CmdError> {
    if let [k, v] = pairs {
        let v = args::value(v)?;
        ctx.ks_write().set(k, v);
        return Ok(Reply::Ok);
    }
    let values = pairs[1..]
        .iter()
        .step_by(2)
        .map(|v| args::value(v))
        .collect::<Result<Vec<_>, _>>()?;
    let ks = ctx.ks_write();
    for (k, v) in pairs.iter().step_by(2).zip(values) {
        ks.set(k, v);
    }
    Ok(Reply::Ok)
}

fn set_with_options(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let o = parse_set_options(&a[3..], now)?;
    let value = args::value(&a[2])?;
    let old = ctx
        .ks()
        .and_then(|ks| ks.entry(&a[1], now))
        .map(|e| e.clone());
    let old_reply = || {
        if o.get {
            Reply::value(old.as_ref().map(|e| &e.value))
        } else {
            Reply::Null
        }
    };
    if (o.nx && old.is_some()) || (o.xx && old.is_none()) {
        return Ok(old_reply());
    }
    let expire_at = match (o.expire_at, o.keep_ttl) {
        (Some(t), _) => t,
        (None, true) => old.as_ref().map_or(0, |e| e.expire_at),
        (None, false) => 0,
    };
    ctx.ks_write().insert(&a[1], Entry { value, expire_at });
    Ok(if o.get { old_reply() } else { Reply::Ok })
}

/// `GET key` → the value or null; `GET k1 k2 …` → a list with null for missing keys.
pub fn get(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    if a.len() == 2 {
        return Ok(Reply::value(ctx.get(&a[1])));
    }
    Ok(Reply::Array(
        a[1..].iter().map(|k| Reply::value(ctx.get(k))).collect(),
    ))
}

pub fn getset(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let v = args::value(&a[2])?;
    let now = ctx.now;
    let ks = ctx.ks_write();
    let old = ks.entry(&a[1], now).map(|e| e.value.clone());
    ks.set(&a[1], v);
    Ok(Reply::value(old.as_ref()))
}

pub fn incr(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    add(ctx, a, "INCR", false)
}

pub fn decr(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    add(ctx, a, "DECR", true)
}

/// INCR and DECR: int + int stays int (overflow is an error); a float on either side gives a
/// float. The key keeps its expiry.
pub(super) fn add(ctx: &mut Ctx, a: &[Bytes], name: &str, negate: bool) -> Result<Reply, CmdError> {
    if a.len() > 3 {
        return Err(CmdError::arity(name));
    }
    let by = match a.get(2) {
        None => Value::Int(1),
        Some(raw) => match args::value(raw)? {
            v @ (Value::Int(_) | Value::Float(_)) => v,
            other => {
                return Err(CmdError::err(format!(
                    "{name} amount must be an int or a float, got {}",
                    other.type_name()
                )))
            }
        },
    };
    let by = match (by, negate) {
        (Value::Int(i), true) => Value::Int(i.checked_neg().ok_or_else(overflow)?),
        (Value::Float(f), true) => Value::Float(-f),
        (v, _) => v,
    };
    let now = ctx.now;
    let ks = ctx.ks_write();
    let current = ks.entry(&a[1], now);
    let base = current.as_ref().map_or(&Value::Int(0), |e| &e.value);
    let result = match (base, &by) {
        (Value::Int(x), Value::Int(y)) => Value::Int(x.checked_add(*y).ok_or_else(overflow)?),
        (Value::Int(x), Value::Float(y)) => float_result(*x as f64 + y)?,
        (Value::Float(x), Value::Int(y)) => float_result(x + *y as f64)?,
        (Value::Float(x), Value::Float(y)) => float_result(x + y)?,
        (other, _) => {
            return Err(CmdError::wrong_type(
                name,
                other.type_name(),
                "int or float",
            ));
        }
    };
    match current {
        Some(e) => e.value = result.clone(),
        None => {
            ks.set(&a[1], result.clone());
        }
    }
    Ok(match result {
        Value::Int(i) => Reply::Int(i),
        v => Reply::Value(v),
    })
}

fn overflow() -> CmdError {
    CmdError::err("increment or decrement would overflow (ints are 64-bit)")
}

fn float_result(f: f64) -> Result<Value, CmdError> {
    if f.is_finite() {
        Ok(Value::Float(f))
    } else {
        Err(CmdError::err("increment would produce NaN or Infinity"))
    }
}
