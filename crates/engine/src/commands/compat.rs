//! Redis's own spellings that Redis clients send for okdb's commands (`redis-py`'s `incr` sends
//! INCRBY, `mget` sends MGET, …). Each one maps onto a native handler; the native commands are
//! the documented way (SPEC.md §2: the Redis spellings are a compatibility layer).

use bytes::Bytes;

use super::keys;
use super::values::{self, SetOptions};
use crate::{CmdError, Ctx, Reply};

/// `MGET key [key ...]`: always a list, even for one key.
pub fn mget(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(values::values(ctx, &a[1..]))
}

/// `MSET key value [key value ...]`: pairs only (no options), all or none.
pub fn mset(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if a.len().is_multiple_of(2) {
        return Err(CmdError::arity("mset"));
    }
    values::set_pairs(ctx, &a[1..])
}

/// `SETNX key value` = `SET key value NX`, answering 1 or 0.
pub fn setnx(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let o = SetOptions {
        nx: true,
        ..SetOptions::default()
    };
    let r = values::set_one(ctx, a[1], a[2], o)?;
    Ok(Reply::Int((r == Reply::Ok) as i64))
}

/// `SETEX key seconds value` = `SET key value EX seconds`.
pub fn setex(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    set_expiring(ctx, a, "EX", "setex")
}

/// `PSETEX key ms value` = `SET key value PX ms`.
pub fn psetex(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    set_expiring(ctx, a, "PX", "psetex")
}

/// `SETEX`/`PSETEX key n value`.
fn set_expiring(
    ctx: &mut Ctx,
    a: &[&[u8]],
    unit: &'static str,
    name: &str,
) -> Result<Reply, CmdError> {
    let o = SetOptions {
        expire_at: Some(values::expiry(
            &Bytes::from_static(unit.as_bytes()),
            a[2],
            ctx.now,
            name,
        )?),
        ..SetOptions::default()
    };
    values::set_one(ctx, a[1], a[3], o)
}

/// `PTTL key`: milliseconds left, -1 without expiry, -2 missing.
pub fn pttl(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(Reply::Int(keys::ms_left(ctx, a[1])))
}
