//! Redis's own spellings that Redis clients send for okdb's commands (`redis-py`'s `incr` sends
//! INCRBY, `mget` sends MGET, …). Each one maps onto a native handler; the native commands are
//! the documented way (SPEC.md §2: the Redis spellings are a compatibility layer).

use bytes::Bytes;

use super::{keys, values};
use crate::args;
use crate::{CmdError, Ctx, Reply};

/// `INCRBY key n` = `INCR key n`.
pub fn incrby(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    values::add(ctx, a, "INCRBY", false)
}

/// `DECRBY key n` = `DECR key n`.
pub fn decrby(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    values::add(ctx, a, "DECRBY", true)
}

/// `INCRBYFLOAT key x` = `INCR key x` with x taken as a float, so the result is a float.
pub fn incrbyfloat(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let x: f64 = args::text(&a[2])?
        .parse()
        .ok()
        .filter(|x: &f64| x.is_finite())
        .ok_or_else(|| CmdError::err("value is not a valid float"))?;
    let amount = Bytes::from(format!("{x:?}"));
    values::add(
        ctx,
        &[a[0].clone(), a[1].clone(), amount],
        "INCRBYFLOAT",
        false,
    )
}

/// `MGET key [key ...]`: always a list, even for one key.
pub fn mget(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    Ok(Reply::Array(
        a[1..].iter().map(|k| Reply::value(ctx.get(k))).collect(),
    ))
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
    let r = values::set(
        ctx,
        &[a[0].clone(), a[1].clone(), a[2].clone(), "NX".into()],
    )?;
    Ok(Reply::Int((r == Reply::Ok) as i64))
}

/// `SETEX key seconds value` = `SET key value EX seconds`.
pub fn setex(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    values::set(
        ctx,
        &[
            a[0].clone(),
            a[1].clone(),
            a[3].clone(),
            "EX".into(),
            a[2].clone(),
        ],
    )
}

/// `PSETEX key ms value` = `SET key value PX ms`.
pub fn psetex(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    values::set(
        ctx,
        &[
            a[0].clone(),
            a[1].clone(),
            a[3].clone(),
            "PX".into(),
            a[2].clone(),
        ],
    )
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
