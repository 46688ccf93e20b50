//! Value commands: SET, GET, GETSET, INCR, DECR.

use bytes::Bytes;
use okdb_value::Value;

use crate::args::{self, is};
use crate::keyspace::Entry;
use crate::{CmdError, Ctx, Reply};

/// Redis's `SET` options, for the single-pair form.
#[derive(Default)]
pub(super) struct SetOptions {
    pub nx: bool,
    pub xx: bool,
    pub get: bool,
    pub keep_ttl: bool,
    pub expire_at: Option<u64>,
}

/// The absolute expiry of Redis's `EX`/`PX`/`EXAT`/`PXAT n`; `command` names the command in the
/// error, as Redis does.
pub(super) fn expiry(unit: &Bytes, n: &[u8], now: u64, command: &str) -> Result<u64, CmdError> {
    let n = args::int(n)?;
    let invalid = || CmdError::err(format!("invalid expire time in '{command}' command"));
    if n <= 0 {
        return Err(invalid());
    }
    let n = n as u64;
    let at = if is(unit, "EX") {
        n.checked_mul(1000).and_then(|ms| ms.checked_add(now))
    } else if is(unit, "PX") {
        n.checked_add(now)
    } else if is(unit, "EXAT") {
        n.checked_mul(1000)
    } else {
        Some(n)
    };
    crate::time::in_range(at).ok_or_else(invalid)
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
            let n = a.get(i + 1).ok_or_else(CmdError::syntax)?;
            o.expire_at = Some(expiry(opt, n, now, "set")?);
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
    let o = parse_set_options(&a[3..], ctx.now)?;
    set_one(ctx, &a[1], &a[2], o)
}

/// Stores one value under Redis's `SET` options. Answers OK, or null when NX/XX stopped it; with
/// GET, the previous value instead.
pub(super) fn set_one(
    ctx: &mut Ctx,
    key: &[u8],
    raw: &[u8],
    o: SetOptions,
) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let value = args::value(raw)?;
    let old = ctx
        .ks()
        .and_then(|ks| ks.entry(key, now))
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
    ctx.ks_write().insert(key, Entry { value, expire_at });
    Ok(if o.get { old_reply() } else { Reply::Ok })
}

/// `GET key` → the value or null; `GET k1 k2 …` → a list with null for missing keys.
pub fn get(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    if a.len() == 2 {
        return Ok(Reply::value(ctx.get(&a[1])));
    }
    Ok(values(ctx, &a[1..]))
}

/// The values of several keys, as a list with null for missing keys.
pub(super) fn values(ctx: &mut Ctx, keys: &[Bytes]) -> Reply {
    Reply::Array(keys.iter().map(|k| Reply::value(ctx.get(k))).collect())
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
    incr_named(ctx, a, "INCR")
}

pub fn decr(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    decr_named(ctx, a, "DECR")
}

/// INCR under the name errors should give (INCR, INCRBY).
pub(super) fn incr_named(ctx: &mut Ctx, a: &[Bytes], name: &str) -> Result<Reply, CmdError> {
    let by = amount(a, name)?;
    add(ctx, &a[1], by, name)
}

/// DECR under the name errors should give (DECR, DECRBY).
pub(super) fn decr_named(ctx: &mut Ctx, a: &[Bytes], name: &str) -> Result<Reply, CmdError> {
    let by = match amount(a, name)? {
        Value::Int(i) => Value::Int(i.checked_neg().ok_or_else(overflow)?),
        Value::Float(f) => Value::Float(-f),
        other => other,
    };
    add(ctx, &a[1], by, name)
}

/// The optional amount of `INCR key [amount]` (and DECR, INCRBY, DECRBY): an int or a float,
/// 1 if absent.
pub(super) fn amount(a: &[Bytes], name: &str) -> Result<Value, CmdError> {
    match a {
        [_, _] => Ok(Value::Int(1)),
        [_, _, raw] => match args::value(raw)? {
            v @ (Value::Int(_) | Value::Float(_)) => Ok(v),
            other => Err(CmdError::err(format!(
                "{name} amount must be an int or a float, got {}",
                other.type_name()
            ))),
        },
        _ => Err(CmdError::arity(name)),
    }
}

/// Adds `by` to a number: int + int stays int (overflow is an error); a float on either side
/// gives a float. A missing key counts as 0; the key keeps its expiry.
pub(super) fn add(ctx: &mut Ctx, key: &[u8], by: Value, name: &str) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let ks = ctx.ks_write();
    let current = ks.entry(key, now);
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
            ks.set(key, result.clone());
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
