//! Key commands: DEL, EXISTS, TYPE, RENAME, RANDOMKEY, KEYS, SCAN, DBSIZE, EXPIRE, PERSIST, TTL.

use bytes::Bytes;
use okdb_value::Value;

use crate::args::{self, is};
use crate::{glob, time, CmdError, Ctx, Reply};

pub fn del(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let Some(ks) = ctx.ks() else {
        return Ok(Reply::Int(0));
    };
    let mut n = 0;
    for k in &a[1..] {
        if ks.contains(k, now) {
            ks.remove(k);
            n += 1;
        }
    }
    Ok(Reply::Int(n))
}

pub fn exists(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let n = a[1..].iter().filter(|k| ctx.get(k).is_some()).count();
    Ok(Reply::Int(n as i64))
}

pub fn type_(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let mut name = |k: &Bytes| Reply::status(ctx.get(k).map_or("none", Value::type_name));
    if a.len() == 2 {
        return Ok(name(&a[1]));
    }
    Ok(Reply::Array(a[1..].iter().map(name).collect()))
}

pub fn rename(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let no_such_key = || CmdError::err("no such key");
    let ks = ctx.ks().ok_or_else(no_such_key)?;
    if !ks.contains(&a[1], now) {
        return Err(no_such_key());
    }
    if a[1] != a[2] {
        let entry = ks.remove(&a[1]).expect("checked above");
        ks.insert(&a[2], entry);
    }
    Ok(Reply::Ok)
}

pub fn randomkey(ctx: &mut Ctx, _: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let key = ctx.ks().and_then(|ks| ks.random_key(now));
    Ok(key.map_or(Reply::Null, |k| Reply::bulk(k.as_bytes())))
}

pub fn keys(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let Some(ks) = ctx.ks() else {
        return Ok(Reply::Array(vec![]));
    };
    let keys = ks
        .iter(now)
        .filter(|(k, _)| glob::matches(&a[1], k.as_bytes()))
        .map(|(k, _)| Reply::bulk(k.as_bytes()))
        .collect();
    Ok(Reply::Array(keys))
}

/// `SCAN cursor [MATCH pattern] [COUNT n] [TYPE type]` → `[next_cursor, [keys]]`.
pub fn scan(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let cursor: u64 = args::text(&a[1])?
        .parse()
        .map_err(|_| CmdError::err("invalid cursor"))?;
    let (mut pattern, mut count, mut type_name) = (None, 10usize, None);
    let mut i = 2;
    while i < a.len() {
        let val = a.get(i + 1).ok_or_else(CmdError::syntax)?;
        if is(&a[i], "MATCH") {
            pattern = Some(val);
        } else if is(&a[i], "COUNT") {
            count = match args::int(val)? {
                n if n >= 1 => n as usize,
                _ => return Err(CmdError::syntax()),
            };
        } else if is(&a[i], "TYPE") {
            type_name = Some(args::text(val)?.to_ascii_lowercase());
        } else {
            return Err(CmdError::syntax());
        }
        i += 2;
    }
    let now = ctx.now;
    let mut keys = Vec::new();
    let next = match ctx.ks() {
        None => 0,
        Some(ks) => ks.scan(cursor, count, now, |k, e| {
            let pattern_ok = pattern.is_none_or(|p| glob::matches(p, k.as_bytes()));
            let type_ok = type_name
                .as_deref()
                .is_none_or(|t| t == e.value.type_name());
            if pattern_ok && type_ok {
                keys.push(Reply::bulk(k.as_bytes()));
            }
        }),
    };
    Ok(Reply::Array(vec![
        Reply::text(&next.to_string()),
        Reply::Array(keys),
    ]))
}

pub fn dbsize(ctx: &mut Ctx, _: &[Bytes]) -> Result<Reply, CmdError> {
    Ok(Reply::Int(ctx.ks().map_or(0, |ks| ks.len()) as i64))
}

/// `EXPIRE key when`: 1 if the key exists (a time in the past deletes it at once), else 0.
pub fn expire(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let value = args::value(&a[2])?;
    let at = time::parse_when(&a[2], &value, now).map_err(CmdError::err)?;
    expire_at(ctx, &a[1], at)
}

/// Sets an absolute expiry (unix ms); a time already past deletes the key. 1 if the key exists.
pub(super) fn expire_at(ctx: &mut Ctx, key: &[u8], at: u64) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let Some(ks) = ctx.ks() else {
        return Ok(Reply::Int(0));
    };
    if !ks.contains(key, now) {
        return Ok(Reply::Int(0));
    }
    if at <= now {
        ks.remove(key);
    } else {
        ks.set_expiry(key, at);
    }
    Ok(Reply::Int(1))
}

pub fn persist(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let Some(ks) = ctx.ks() else {
        return Ok(Reply::Int(0));
    };
    let had = ks.entry(&a[1], now).is_some_and(|e| e.expire_at != 0);
    if had {
        ks.set_expiry(&a[1], 0);
    }
    Ok(Reply::Int(had as i64))
}

/// Milliseconds until a key expires: -1 without expiry, -2 missing.
pub(super) fn ms_left(ctx: &mut Ctx, key: &[u8]) -> i64 {
    let now = ctx.now;
    match ctx.ks().and_then(|ks| ks.entry(key, now)) {
        None => -2,
        Some(e) if e.expire_at == 0 => -1,
        Some(e) => (e.expire_at - now) as i64,
    }
}

/// `TTL key` → seconds left (rounded, as Redis does), -1 without expiry, -2 missing.
pub fn ttl(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let mut one = |k: &Bytes| {
        Reply::Int(match ms_left(ctx, k) {
            ms if ms < 0 => ms,
            ms => ms.saturating_add(500) / 1000,
        })
    };
    if a.len() == 2 {
        return Ok(one(&a[1]));
    }
    Ok(Reply::Array(a[1..].iter().map(one).collect()))
}
