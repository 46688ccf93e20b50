//! Pub/sub commands (Redis's): SUBSCRIBE and its kin, PUBLISH, PUBSUB; and RESET. The registry
//! and the outboxes are in crate::pubsub.

use crate::args::is;
use crate::pubsub::{self, Kind};
use crate::{CmdError, Ctx, Reply};

fn sub(ctx: &mut Ctx, a: &[&[u8]], kind: Kind) -> Result<Reply, CmdError> {
    if ctx.session.in_exec {
        return Err(CmdError::err(format!(
            "{} isn't allowed in a transaction",
            String::from_utf8_lossy(a[0]).to_ascii_uppercase()
        )));
    }
    let id = ctx.session.id;
    pubsub::subscribe(
        &mut ctx.store.pubsub,
        &mut ctx.session.subs,
        id,
        kind,
        &a[1..],
    )
}

fn unsub(ctx: &mut Ctx, a: &[&[u8]], kind: Kind) -> Result<Reply, CmdError> {
    let id = ctx.session.id;
    Ok(pubsub::unsubscribe(
        &mut ctx.store.pubsub,
        &mut ctx.session.subs,
        id,
        kind,
        &a[1..],
    ))
}

pub fn subscribe(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    sub(ctx, a, Kind::Channel)
}

pub fn psubscribe(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    sub(ctx, a, Kind::Pattern)
}

pub fn ssubscribe(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    sub(ctx, a, Kind::Shard)
}

pub fn unsubscribe(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    unsub(ctx, a, Kind::Channel)
}

pub fn punsubscribe(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    unsub(ctx, a, Kind::Pattern)
}

pub fn sunsubscribe(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    unsub(ctx, a, Kind::Shard)
}

/// `PUBLISH channel message`: how many subscribers received it.
pub fn publish(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let n = ctx
        .store
        .pubsub
        .publish(&ctx.shared.config, a[1], a[2], false);
    Ok(Reply::Int(n))
}

/// `SPUBLISH shardchannel message`: one node holds every shard.
pub fn spublish(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let n = ctx
        .store
        .pubsub
        .publish(&ctx.shared.config, a[1], a[2], true);
    Ok(Reply::Int(n))
}

/// `PUBSUB CHANNELS [pattern] | NUMSUB [channel …] | NUMPAT | SHARDCHANNELS [pattern] |
/// SHARDNUMSUB [channel …] | HELP`.
pub fn pubsub(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let ps = &ctx.store.pubsub;
    let sub = &a[1];
    let shard = is(sub, "SHARDCHANNELS") || is(sub, "SHARDNUMSUB");
    if is(sub, "CHANNELS") || is(sub, "SHARDCHANNELS") {
        let pattern = match a {
            [_, _] => None,
            [_, _, p] => Some(crate::glob::Pattern::new(p)?),
            _ => return Err(wrong_sub(sub)),
        };
        let mut names = ps.channels(shard, pattern.as_ref());
        names.sort();
        return Ok(Reply::Array(names.into_iter().map(Reply::Bulk).collect()));
    }
    if is(sub, "NUMSUB") || is(sub, "SHARDNUMSUB") {
        let mut out = Vec::with_capacity((a.len() - 2) * 2);
        for c in &a[2..] {
            out.push(Reply::bulk(c));
            out.push(Reply::Int(ps.numsub(shard, c) as i64));
        }
        return Ok(Reply::Array(out));
    }
    if is(sub, "NUMPAT") {
        if a.len() != 2 {
            return Err(wrong_sub(sub));
        }
        return Ok(Reply::Int(ps.numpat() as i64));
    }
    if is(sub, "HELP") {
        let lines = [
            "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ];
        return Ok(Reply::Array(
            lines.iter().map(|l| Reply::status(l)).collect(),
        ));
    }
    Err(CmdError::err(format!(
        "unknown subcommand '{}'. Try PUBSUB HELP.",
        String::from_utf8_lossy(sub)
    )))
}

fn wrong_sub(sub: &[u8]) -> CmdError {
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
        String::from_utf8_lossy(sub)
    ))
}

/// `RESET`: the connection as it was when it connected: no transaction or watches, no
/// subscriptions, RESP2, keyspace 0, faithful literals, no name.
pub fn reset(ctx: &mut Ctx, _: &[&[u8]]) -> Result<Reply, CmdError> {
    if ctx.session.multi.is_some() {
        let _ = ctx.discard();
    }
    ctx.unwatch();
    let id = ctx.session.id;
    pubsub::leave_all(&mut ctx.store.pubsub, &mut ctx.session.subs, id);
    if ctx.session.listen.take().is_some() {
        ctx.shared
            .feed
            .listeners
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
    // Back to `default`: still logged in only if `default` needs no password, as Redis.
    let default = crate::lock(&ctx.shared.acl).default_user();
    let logged_in = !default.needs_auth();
    ctx.act_as(default, logged_in);
    ctx.session.proto = 2;
    ctx.session.literals = okdb_value::literal::Literals::Faithful;
    ctx.use_keyspace(crate::DEFAULT_KEYSPACE);
    if let Some(c) = ctx.clients().get_mut(&id) {
        c.name = None;
    }
    Ok(Reply::status("RESET"))
}

/// `LISTEN pattern… [KEYSPACE name|*] [FROM seq] [VALUES|NOVALUES] [MAXVALUE bytes]`: follows
/// the change feed (crate::feed) for the keys matching the patterns; answers a `listen` push
/// with the seq it follows from. Again while listening: replaces what it follows.
pub fn listen(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    use std::sync::atomic::Ordering::Relaxed;
    if ctx.session.in_exec {
        return Err(CmdError::err("LISTEN isn't allowed in a transaction"));
    }
    let mut patterns = Vec::new();
    let mut keyspace = Some(ctx.session.keyspace.clone());
    let mut from = None;
    let mut values = true;
    let mut max_value = DEFAULT_MAX_VALUE;
    let mut i = 1;
    while i < a.len() {
        let arg = &a[i];
        let next = a.get(i + 1);
        if is(arg, "KEYSPACE") {
            let name = next.ok_or_else(CmdError::syntax)?;
            keyspace = match crate::args::text(name)? {
                "*" => None,
                name => Some(name.into()),
            };
            i += 2;
        } else if is(arg, "FROM") || is(arg, "MAXVALUE") {
            let n = crate::args::int(next.ok_or_else(CmdError::syntax)?)?;
            let n = u64::try_from(n).map_err(|_| {
                CmdError::err(format!(
                    "{} takes a number, 0 or more",
                    String::from_utf8_lossy(arg).to_ascii_uppercase()
                ))
            })?;
            if is(arg, "FROM") {
                from = Some(n);
            } else {
                max_value = n as usize;
            }
            i += 2;
        } else if is(arg, "VALUES") {
            values = true;
            i += 1;
        } else if is(arg, "NOVALUES") {
            values = false;
            i += 1;
        } else {
            let p = crate::glob::Pattern::new(arg)?;
            patterns.push((bytes::Bytes::copy_from_slice(arg), p));
            i += 1;
        }
    }
    if patterns.is_empty() {
        return Err(CmdError::err(
            "LISTEN needs at least one key pattern (* for every key)",
        ));
    }
    let feed = &ctx.shared.feed;
    let last = ctx.store.next_lsn - 1;
    if !ctx.store.journaling && !feed.in_memory.swap(true, Relaxed) {
        // No journal: the feed starts with the first listener.
        feed.start_after(last);
    }
    let cursor = match from {
        None => last,
        Some(seq) if seq > last => {
            return Err(CmdError::err(format!(
                "seq {seq} is ahead of the last change ({last})"
            )))
        }
        Some(seq) if seq < feed.floor() => {
            return Err(CmdError::err(format!(
                "seq {seq} is older than the feed keeps: the oldest seq to resume from is {}; \
                 read the keys again, then LISTEN without FROM",
                feed.floor()
            )))
        }
        Some(seq) => seq,
    };
    let listener = crate::feed::Listener {
        patterns,
        keyspace,
        cursor,
        values,
        max_value,
        user: (!ctx.session.user.unrestricted).then(|| ctx.session.user.clone()),
    };
    if ctx.session.listen.replace(Box::new(listener)).is_none() {
        feed.listeners.fetch_add(1, Relaxed);
    }
    Ok(Reply::Push(vec![
        Reply::text("listen"),
        Reply::Int(cursor as i64),
    ]))
}

/// `UNLISTEN`: stops following the change feed; answers the last seq it was sent.
pub fn unlisten(ctx: &mut Ctx, _: &[&[u8]]) -> Result<Reply, CmdError> {
    use std::sync::atomic::Ordering::Relaxed;
    let cursor = match ctx.session.listen.take() {
        Some(l) => {
            ctx.shared.feed.listeners.fetch_sub(1, Relaxed);
            l.cursor as i64
        }
        None => 0,
    };
    Ok(Reply::Push(vec![
        Reply::text("unlisten"),
        Reply::Int(cursor),
    ]))
}

/// `LISTEN`'s `MAXVALUE` by default: larger values are sent as their type and size.
pub const DEFAULT_MAX_VALUE: usize = 64 << 10;
