//! Keyspace commands: USE, USING, KEYSPACES, SELECT.

use bytes::Bytes;

use crate::args;
use crate::{CmdError, Ctx, Reply};

/// Longest keyspace name.
const MAX_NAME: usize = 128;

pub fn use_(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let name = args::text(&a[1])?;
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

pub fn using(ctx: &mut Ctx, _: &[Bytes]) -> Result<Reply, CmdError> {
    Ok(Reply::text(ctx.session.keyspace()))
}

pub fn keyspaces(ctx: &mut Ctx, _: &[Bytes]) -> Result<Reply, CmdError> {
    let mut names: Vec<&str> = ctx.store.spaces().map(|(n, _)| n).collect();
    names.sort_unstable();
    Ok(Reply::Array(names.into_iter().map(Reply::text).collect()))
}

/// `SELECT n` is `USE n`: Redis's numbered databases are keyspaces named by their number.
pub fn select(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    match args::int(&a[1]) {
        Ok(n) if n >= 0 => {
            ctx.use_keyspace(&n.to_string());
            Ok(Reply::Ok)
        }
        _ => Err(CmdError::err("DB index is out of range")),
    }
}
