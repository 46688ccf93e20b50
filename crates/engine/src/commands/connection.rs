//! Connection commands: PING, ECHO, HELLO, QUIT.

use bytes::Bytes;

use crate::args::{self, is};
use crate::{CmdError, Ctx, Reply};

pub fn ping(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    if ctx.session.proto == 2 && ctx.session.subscribed() {
        // Redis's answer in RESP2's subscribed state: a pong message.
        let msg = a.get(1).cloned().unwrap_or_default();
        return Ok(Reply::Array(vec![Reply::text("pong"), Reply::Bulk(msg)]));
    }
    match a {
        [_] => Ok(Reply::status("PONG")),
        [_, msg] => Ok(Reply::Bulk(msg.clone())),
        _ => Err(CmdError::arity("ping")),
    }
}

pub fn echo(_: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    Ok(Reply::Bulk(a[1].clone()))
}

pub fn quit(ctx: &mut Ctx, _: &[Bytes]) -> Result<Reply, CmdError> {
    ctx.session.quit = true;
    Ok(Reply::Ok)
}

/// `HELLO [protover [AUTH user password] [SETNAME name]]`. Authentication does not exist yet, so
/// AUTH is accepted for the `default` user with any password, as Redis does with no password set.
pub fn hello(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let mut proto = ctx.session.proto;
    let mut name = None;
    if let Some(v) = a.get(1) {
        proto = match args::int(v) {
            Ok(p @ (2 | 3)) => p as u8,
            Ok(_) => return Err(CmdError::new("NOPROTO", "unsupported protocol version")),
            Err(_) => {
                return Err(CmdError::err(
                    "Protocol version is not an integer or out of range",
                ))
            }
        };
        let mut i = 2;
        while i < a.len() {
            if is(&a[i], "AUTH") && i + 2 < a.len() {
                if !is(&a[i + 1], "default") {
                    return Err(CmdError::new(
                        "WRONGPASS",
                        "invalid username-password pair or user is disabled (only 'default' exists)",
                    ));
                }
                i += 3;
            } else if is(&a[i], "SETNAME") && i + 1 < a.len() {
                name = Some(super::server::client_name(&a[i + 1])?);
                i += 2;
            } else {
                return Err(CmdError::syntax());
            }
        }
    }
    ctx.session.proto = proto;
    if let Some(name) = name {
        if let Some(c) = ctx.clients().get_mut(&ctx.session.id) {
            c.name = name;
        }
    }
    let s = |t: &'static str| Reply::status(t);
    Ok(Reply::Map(vec![
        (s("server"), s("okdb")),
        (s("version"), s(crate::REDIS_COMPAT_VERSION)),
        (s("okdb_version"), s(crate::VERSION)),
        (s("proto"), Reply::Int(proto as i64)),
        (s("id"), Reply::Int(ctx.session.id as i64)),
        (s("mode"), s("standalone")),
        (s("role"), s("master")),
        (s("modules"), Reply::Array(vec![])),
    ]))
}

/// `MULTI`: queue the following commands until `EXEC` (Redis's transactions).
pub fn multi(ctx: &mut Ctx, _: &[Bytes]) -> Result<Reply, CmdError> {
    ctx.multi()?;
    Ok(Reply::Ok)
}

/// `EXEC` outside `MULTI` (inside, the executor runs the queue).
pub fn exec(_: &mut Ctx, _: &[Bytes]) -> Result<Reply, CmdError> {
    Err(CmdError::err("EXEC without MULTI"))
}

/// `RUN`, `EVAL`, `APPLY` and `FILTER` are run by the executor as transactions
/// (crate::script); their table entries only declare them.
pub fn run(_: &mut Ctx, _: &[Bytes]) -> Result<Reply, CmdError> {
    Err(CmdError::err("RUN runs only through the executor"))
}

/// `BEGIN`: starts a block of commands that `END` runs all or nothing.
pub fn begin(ctx: &mut Ctx, _: &[Bytes]) -> Result<Reply, CmdError> {
    ctx.begin()?;
    Ok(Reply::Ok)
}

/// `END` outside a block (inside, the executor runs the block).
pub fn end(_: &mut Ctx, _: &[Bytes]) -> Result<Reply, CmdError> {
    Err(CmdError::err("END without BEGIN"))
}

/// `DISCARD`: drops the commands queued since `MULTI`.
pub fn discard(ctx: &mut Ctx, _: &[Bytes]) -> Result<Reply, CmdError> {
    ctx.discard()?;
    Ok(Reply::Ok)
}

/// `WATCH key [key ...]`.
pub fn watch(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    ctx.watch(&a[1..])?;
    Ok(Reply::Ok)
}

/// `UNWATCH`.
pub fn unwatch(ctx: &mut Ctx, _: &[Bytes]) -> Result<Reply, CmdError> {
    ctx.unwatch();
    Ok(Reply::Ok)
}
