//! Value commands: SET, GET, GETSET, INCR, DECR.

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
pub(super) fn expiry(unit: &[u8], n: &[u8], now: u64, command: &str) -> Result<u64, CmdError> {
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

pub(super) fn is_set_option(a: &[u8]) -> bool {
    ["NX", "XX", "GET", "KEEPTTL", "EX", "PX", "EXAT", "PXAT"]
        .iter()
        .any(|o| is(a, o))
}

fn parse_set_options(a: &[&[u8]], now: u64) -> Result<SetOptions, CmdError> {
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
pub fn set(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if a.len() > 3 && is_set_option(a[3]) {
        return set_with_options(ctx, a);
    }
    if a.len().is_multiple_of(2) {
        return Err(CmdError::err(
            "syntax error: SET takes key value pairs, or one pair followed by options (NX XX EX PX EXAT PXAT KEEPTTL GET)",
        ));
    }
    set_pairs(ctx, &a[1..])
}

/// Stores key/value pairs: every value is parsed before any is stored, so a bad literal stores
/// nothing.
pub(super) fn set_pairs(ctx: &mut Ctx, pairs: &[&[u8]]) -> Result<Reply, CmdError> {
    if let [k, v] = pairs {
        let v = ctx.value(v)?;
        ctx.ks_write().set(k, v);
        return Ok(Reply::Ok);
    }
    // Every value is read before the first write, so a bad one writes nothing. A plain loop
    // into a vector of the right size: collecting through `Result` grew the vector from 4 and
    // moved each result through the adapter, a tenth of a pipelined MSET's CPU.
    let mut values = Vec::with_capacity(pairs.len() / 2);
    for v in pairs[1..].iter().step_by(2) {
        values.push(ctx.value(v)?);
    }
    let ks = ctx.ks_write();
    for (k, v) in pairs.iter().step_by(2).zip(values) {
        ks.set(k, v);
    }
    Ok(Reply::Ok)
}

fn set_with_options(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let o = parse_set_options(&a[3..], ctx.now)?;
    set_one(ctx, a[1], a[2], o)
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
    let value = ctx.value(raw)?;
    let old = ctx.ks().and_then(|ks| ks.entry(key, now)).cloned();
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
    ctx.ks_write().insert(key, Entry::new(value, expire_at));
    Ok(if o.get { old_reply() } else { Reply::Ok })
}

/// `GET key` → the value or null; `GET k1 k2 …` → a list with null for missing keys.
pub fn get(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if a.len() == 2 {
        return Ok(Reply::value(ctx.get(a[1])));
    }
    Ok(values(ctx, &a[1..]))
}

/// The values of several keys, as a list with null for missing keys.
pub(super) fn values(ctx: &mut Ctx, keys: &[&[u8]]) -> Reply {
    Reply::Array(keys.iter().map(|k| Reply::value(ctx.get(k))).collect())
}

pub fn getset(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let v = ctx.value(a[2])?;
    let now = ctx.now;
    let ks = ctx.ks_write();
    let old = ks.entry(a[1], now).map(|e| e.value.clone());
    ks.set(a[1], v);
    Ok(Reply::value(old.as_ref()))
}

pub fn incr(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let by = amount(ctx, a, "INCR")?;
    add(ctx, a[1], by, "INCR", Numbers::Any)
}

pub fn decr(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let by = negate(amount(ctx, a, "DECR")?)?;
    add(ctx, a[1], by, "DECR", Numbers::Any)
}

/// `INCRBY key n`: Redis's INCRBY, ints only.
pub fn incrby(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let by = args::int(a[2])?;
    add(ctx, a[1], Value::Int(by), "INCRBY", Numbers::Int)
}

/// `DECRBY key n`: Redis's DECRBY, ints only.
pub fn decrby(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let by = args::int(a[2])?
        .checked_neg()
        .ok_or_else(|| CmdError::err("decrement would overflow"))?;
    add(ctx, a[1], Value::Int(by), "DECRBY", Numbers::Int)
}

fn negate(v: Value) -> Result<Value, CmdError> {
    Ok(match v {
        Value::Int(i) => Value::Int(i.checked_neg().ok_or_else(overflow)?),
        Value::Float(f) => Value::Float(-f),
        Value::Decimal(d) => Value::Decimal(-d),
        other => other,
    })
}

/// The optional amount of `INCR key [amount]` (and DECR): an int or a float, 1 if absent. A
/// string amount is read as Redis reads a number (`1.50` is 1.5).
fn amount(ctx: &Ctx, a: &[&[u8]], name: &str) -> Result<Value, CmdError> {
    match a {
        [_, _] => Ok(Value::Int(1)),
        [_, _, raw] => match ctx.value(raw)? {
            v @ (Value::Int(_) | Value::Float(_) | Value::Decimal(_)) => Ok(v),
            Value::Str(s) => args::redis_int(s.as_bytes())
                .map(Value::Int)
                .or_else(|| args::redis_float(s.as_bytes()).map(Value::Float))
                .ok_or_else(CmdError::not_an_int),
            other => Err(CmdError::err(format!(
                "{name} amount must be an int or a float, got {}",
                other.type_name()
            ))),
        },
        _ => Err(CmdError::arity(name)),
    }
}

/// Which stored numbers an increment accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Numbers {
    /// okdb's INCR/DECR: ints and floats.
    Any,
    /// Redis's INCRBY/DECRBY: ints only (a float is "not an integer", as Redis says).
    Int,
}

/// The number a stored value holds for an increment: an int or float as it is; a string (or
/// any scalar) read from its text as Redis reads it; a missing key is 0.
fn number_of(v: Option<&Value>, by: &Value, name: &str, kind: Numbers) -> Result<Value, CmdError> {
    let Some(v) = v else {
        return Ok(Value::Int(0));
    };
    match v {
        Value::Int(_) => Ok(v.clone()),
        Value::Float(_) | Value::Decimal(_) if kind == Numbers::Any => Ok(v.clone()),
        _ => {
            let text = v
                .scalar_text()
                .ok_or_else(|| CmdError::wrong_type(name, v.type_name(), "int, float or string"))?;
            if let Some(i) = args::redis_int(&text) {
                return Ok(Value::Int(i));
            }
            match (kind, by) {
                (Numbers::Any, Value::Float(_)) => args::redis_float(&text)
                    .map(Value::Float)
                    .ok_or_else(|| CmdError::err("value is not a valid float")),
                _ => Err(CmdError::not_an_int()),
            }
        }
    }
}

/// Adds `by` to a number: int + int stays int (overflow is an error); a float on either side
/// gives a float. A missing key counts as 0; the key keeps its expiry.
fn add(
    ctx: &mut Ctx,
    key: &[u8],
    by: Value,
    name: &'static str,
    kind: Numbers,
) -> Result<Reply, CmdError> {
    let sum = |base: Value| -> Result<Value, CmdError> {
        Ok(match (base, &by) {
            (Value::Int(x), Value::Int(y)) => Value::Int(x.checked_add(*y).ok_or_else(overflow)?),
            (Value::Int(x), Value::Float(y)) => float_result(x as f64 + y)?,
            (Value::Float(x), Value::Int(y)) => float_result(x + *y as f64)?,
            (Value::Float(x), Value::Float(y)) => float_result(x + y)?,
            // Decimals stay exact; mixed with a float they are an error (okdb-ops).
            (base, by) => okdb_ops::num::add(name, &base, by)?,
        })
    };
    let now = ctx.now;
    // An existing key is changed in place (one lookup); a missing one is created, so a failed
    // increment creates no keyspace.
    let result = match ctx.ks().and_then(|ks| ks.entry_mut(key, now)) {
        Some(e) => {
            let result = sum(number_of(Some(&e.value), &by, name, kind)?)?;
            e.value = result.clone();
            result
        }
        None => {
            let result = sum(Value::Int(0))?;
            ctx.ks_write().set(key, result.clone());
            result
        }
    };
    Ok(match result {
        Value::Int(i) => Reply::Int(i),
        v => Reply::Value(v),
    })
}

/// `INCRBYFLOAT key x`, as Redis: the stored text and `x` read as Redis reads floats, the sum
/// written as Redis writes it (plain decimal, no exponent, no negative zero) and stored as that
/// text would be by `SET` (an int if it is one), so a Redis client reads back the bytes Redis
/// would give it.
pub fn incrbyfloat(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let invalid = || CmdError::err("value is not a valid float");
    let by = args::redis_float(a[2]).ok_or_else(invalid)?;
    let now = ctx.now;
    let base = match ctx.get(a[1]) {
        None => 0.0,
        Some(Value::Int(i)) => *i as f64,
        Some(Value::Float(f)) => *f,
        Some(v) => {
            let text = v.scalar_text().ok_or_else(|| {
                CmdError::wrong_type("INCRBYFLOAT", v.type_name(), "int, float or string")
            })?;
            args::redis_float(&text).ok_or_else(invalid)?
        }
    };
    let sum = base + by;
    if !sum.is_finite() {
        return Err(CmdError::err("increment would produce NaN or Infinity"));
    }
    let text = float_text(sum);
    let value = okdb_value::literal::parse_arg_faithful(text.as_bytes());
    ctx.ks_write().put_keeping_ttl(a[1], value, now);
    Ok(Reply::Bulk(text.into()))
}

fn overflow() -> CmdError {
    CmdError::err("increment or decrement would overflow")
}

fn float_result(f: f64) -> Result<Value, CmdError> {
    if f.is_finite() {
        Ok(Value::Float(f))
    } else {
        Err(CmdError::err("increment would produce NaN or Infinity"))
    }
}

/// How Redis prints the result of `INCRBYFLOAT` and `HINCRBYFLOAT`: the shortest decimal that
/// reads back the same, `0` for zero, no exponent.
pub(crate) fn float_text(f: f64) -> String {
    if f == 0.0 {
        "0".to_string()
    } else {
        f.to_string()
    }
}
