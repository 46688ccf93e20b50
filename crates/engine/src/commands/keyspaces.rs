//! Keyspace commands: USE, USING, KEYSPACES, SELECT.

use crate::args::{self, is};
use crate::{CmdError, Ctx, Reply};

/// Longest keyspace name.
const MAX_NAME: usize = 128;

pub fn use_(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let name = args::text(a[1])?;
    if name.is_empty()
        || name.len() > MAX_NAME
        || name.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(CmdError::err(format!(
            "invalid keyspace name: 1 to {MAX_NAME} characters, no spaces or control characters"
        )));
    }
    ctx.use_keyspace(name);
    Ok(Reply::Ok)
}

pub fn using(ctx: &mut Ctx, _: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(Reply::text(ctx.session.keyspace()))
}

pub fn keyspaces(ctx: &mut Ctx, _: &[&[u8]]) -> Result<Reply, CmdError> {
    let user = ctx.session.user.clone();
    let mut names: Vec<&str> = ctx
        .store
        .spaces()
        .map(|(n, _)| n)
        .filter(|n| user.may_use_keyspace(n))
        .collect();
    names.sort_unstable();
    Ok(Reply::Array(names.into_iter().map(Reply::text).collect()))
}

/// `SELECT n` is `USE n`: Redis's numbered databases are keyspaces named by their number, from
/// 0 to `databases` - 1 (named keyspaces, through `USE`, are not limited).
pub fn select(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let name = super::keys::db_keyspace(ctx, a[1])?;
    ctx.use_keyspace(&name);
    Ok(Reply::Ok)
}

/// `[ASYNC|SYNC]` of `FLUSHDB`/`FLUSHALL`: both empty at once (values are freed as dropped).
fn flush_mode(a: &[&[u8]]) -> Result<(), CmdError> {
    match &a[1..] {
        [] => Ok(()),
        [m] if is(m, "ASYNC") || is(m, "SYNC") => Ok(()),
        _ => Err(CmdError::syntax()),
    }
}

/// `FLUSHDB [ASYNC|SYNC]`: empties the current keyspace; it stays, empty.
pub fn flushdb(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    flush_mode(a)?;
    let track = ctx.store.tracking();
    let keyspace = ctx.session.keyspace.clone();
    ctx.flush_watches(Some(&keyspace));
    // An empty keyspace has nothing to flush: nothing is journaled.
    if let Some(ks) = ctx.ks().filter(|ks| !ks.is_empty()) {
        ks.clear(track);
        ctx.declare(crate::effects::Effect::Flush { keyspace });
    }
    Ok(Reply::Ok)
}

/// `FLUSHALL [ASYNC|SYNC]`: empties every keyspace; they stay, empty.
pub fn flushall(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    flush_mode(a)?;
    ctx.flush_watches(None);
    if ctx.store.spaces().any(|(_, ks)| !ks.is_empty()) {
        ctx.store.flush_all();
        ctx.declare(crate::effects::Effect::FlushAll);
    }
    Ok(Reply::Ok)
}

/// `SWAPDB a b`: exchanges the contents of two numbered databases.
pub fn swapdb(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    args::int(a[1]).map_err(|_| CmdError::err("invalid first DB index"))?;
    args::int(a[2]).map_err(|_| CmdError::err("invalid second DB index"))?;
    let x = super::keys::db_keyspace(ctx, a[1])?;
    let y = super::keys::db_keyspace(ctx, a[2])?;
    let (i, j) = (ctx.store.create(&x), ctx.store.create(&y));
    ctx.store.swap(i, j);
    if i != j {
        ctx.declare(crate::effects::Effect::Swap {
            a: x.into(),
            b: y.into(),
        });
    }
    Ok(Reply::Ok)
}
