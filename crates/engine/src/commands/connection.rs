//! Connection commands: PING, ECHO, HELLO, QUIT.

use bytes::Bytes;

use crate::args::{self, is};
use crate::{CmdError, Ctx, Reply};

pub fn ping(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if ctx.session.proto == 2 && ctx.session.subscribed() {
        // Redis's answer in RESP2's subscribed state: a pong message.
        let msg = a.get(1).copied().unwrap_or_default();
        return Ok(Reply::Array(vec![Reply::text("pong"), Reply::bulk(msg)]));
    }
    match a {
        [_] => Ok(Reply::status("PONG")),
        [_, msg] => Ok(Reply::bulk(msg)),
        _ => Err(CmdError::arity("ping")),
    }
}

pub fn echo(_: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(Reply::bulk(a[1]))
}

pub fn quit(ctx: &mut Ctx, _: &[&[u8]]) -> Result<Reply, CmdError> {
    ctx.session.quit = true;
    Ok(Reply::Ok)
}

/// `HELLO [protover [AUTH user password] [SETNAME name]]`. With AUTH, the connection is
/// authenticated first (off the lock when the password's hash is slow to verify: the server
/// then runs this HELLO again without AUTH once it is).
pub fn hello(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut proto = ctx.session.proto;
    let mut name = None;
    let mut auth = None;
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
            if is(a[i], "AUTH") && i + 2 < a.len() {
                auth = Some(i);
                i += 3;
            } else if is(a[i], "SETNAME") && i + 1 < a.len() {
                name = Some(super::server::client_name(a[i + 1])?);
                i += 2;
            } else {
                return Err(CmdError::syntax());
            }
        }
    }
    if let Some(i) = auth {
        // The last AUTH wins; the HELLO run once authenticated has none.
        let user = String::from_utf8_lossy(a[i + 1]).into_owned();
        let mut then: Vec<Bytes> = args::owned(&a[..2]);
        let mut j = 2;
        while j < a.len() {
            if is(a[j], "AUTH") && j + 2 < a.len() {
                j += 3;
            } else {
                then.extend(args::owned(&a[j..(j + 2).min(a.len())]));
                j += 2;
            }
        }
        super::acl::start_auth(ctx, &user, a[i + 2], then)?;
        if ctx.session.pending_auth.is_some() {
            return Ok(Reply::Null);
        }
    } else if !ctx.session.authenticated {
        return Err(CmdError::new(
            "NOAUTH",
            "HELLO must be called with the client already authenticated, otherwise the HELLO \
             <proto> AUTH <user> <pass> option can be used to authenticate the client and \
             select the RESP protocol version at the same time",
        ));
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
pub fn multi(ctx: &mut Ctx, _: &[&[u8]]) -> Result<Reply, CmdError> {
    ctx.multi()?;
    Ok(Reply::Ok)
}

/// `EXEC` outside `MULTI` (inside, the executor runs the queue).
pub fn exec(_: &mut Ctx, _: &[&[u8]]) -> Result<Reply, CmdError> {
    Err(CmdError::err("EXEC without MULTI"))
}

/// `RUN`, `EVAL`, `APPLY` and `FILTER` are run by the executor as transactions
/// (crate::script); their table entries only declare them.
pub fn run(_: &mut Ctx, _: &[&[u8]]) -> Result<Reply, CmdError> {
    Err(CmdError::err("RUN runs only through the executor"))
}

/// `BEGIN`: starts a block of commands that `END` runs all or nothing.
pub fn begin(ctx: &mut Ctx, _: &[&[u8]]) -> Result<Reply, CmdError> {
    ctx.begin()?;
    Ok(Reply::Ok)
}

/// `END` outside a block (inside, the executor runs the block).
pub fn end(_: &mut Ctx, _: &[&[u8]]) -> Result<Reply, CmdError> {
    Err(CmdError::err("END without BEGIN"))
}

/// `DISCARD`: drops the commands queued since `MULTI`.
pub fn discard(ctx: &mut Ctx, _: &[&[u8]]) -> Result<Reply, CmdError> {
    ctx.discard()?;
    Ok(Reply::Ok)
}

/// `WATCH key [key ...]`.
pub fn watch(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    ctx.watch(&a[1..])?;
    Ok(Reply::Ok)
}

/// `UNWATCH`.
pub fn unwatch(ctx: &mut Ctx, _: &[&[u8]]) -> Result<Reply, CmdError> {
    ctx.unwatch();
    Ok(Reply::Ok)
}
