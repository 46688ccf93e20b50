//! Redis's own spellings that Redis clients send for okdb's commands (`redis-py`'s `incr` sends
//! INCRBY, `mget` sends MGET, …). Each one maps onto a native handler; the native commands are
//! the documented way (SPEC.md §2: the Redis spellings are a compatibility layer).

use bytes::Bytes;

use okdb_value::Value;

use super::keys;
use super::values::{self, SetOptions};
use crate::args;
use crate::{CmdError, Ctx, Reply};

/// `INCRBY key n` = `INCR key n`.
pub fn incrby(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    values::incr_named(ctx, a, "INCRBY")
}

/// `DECRBY key n` = `DECR key n`.
pub fn decrby(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    values::decr_named(ctx, a, "DECRBY")
}

/// `INCRBYFLOAT key x` = `INCR key x` with x taken as a float, so the result is a float.
pub fn incrbyfloat(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let x: f64 = args::text(&a[2])?
        .parse()
        .ok()
        .filter(|x: &f64| x.is_finite())
        .ok_or_else(|| CmdError::err("value is not a valid float"))?;
    values::add(ctx, &a[1], Value::Float(x), "INCRBYFLOAT")
}

/// `MGET key [key ...]`: always a list, even for one key.
pub fn mget(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    Ok(values::values(ctx, &a[1..]))
}

/// `MSET key value [key value ...]`: pairs only (no options), all or none.
pub fn mset(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    if a.len().is_multiple_of(2) {
        return Err(CmdError::arity("mset"));
    }
    values::set_pairs(ctx, &a[1..])
}

/// `SETNX key value` = `SET key value NX`, answering 1 or 0.
pub fn setnx(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let o = SetOptions {
        nx: true,
        ..SetOptions::default()
    };
    let r = values::set_one(ctx, &a[1], &a[2], o)?;
    Ok(Reply::Int((r == Reply::Ok) as i64))
}

/// `SETEX key seconds value` = `SET key value EX seconds`.
pub fn setex(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    set_expiring(ctx, a, "EX", "setex")
}

/// `PSETEX key ms value` = `SET key value PX ms`.
pub fn psetex(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    set_expiring(ctx, a, "PX", "psetex")
}

/// `SETEX`/`PSETEX key n value`.
fn set_expiring(
    ctx: &mut Ctx,
    a: &[Bytes],
    unit: &'static str,
    name: &str,
) -> Result<Reply, CmdError> {
    let o = SetOptions {
        expire_at: Some(values::expiry(
            &Bytes::from_static(unit.as_bytes()),
            &a[2],
            ctx.now,
            name,
        )?),
        ..SetOptions::default()
    };
    values::set_one(ctx, &a[1], &a[3], o)
}

/// `PEXPIRE key ms`: milliseconds from now.
pub fn pexpire(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let ms = args::int(&a[2])?;
    let at = if ms <= 0 {
        1
    } else {
        crate::time::in_range(ctx.now.checked_add(ms as u64))
            .ok_or_else(|| CmdError::err("invalid expire time in 'pexpire' command"))?
    };
    keys::expire_at(ctx, &a[1], at)
}

/// `PTTL key`: milliseconds left, -1 without expiry, -2 missing.
pub fn pttl(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    Ok(Reply::Int(keys::ms_left(ctx, &a[1])))
}
