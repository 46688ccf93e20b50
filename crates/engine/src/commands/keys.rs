//! Key commands: DEL, EXISTS, TYPE, RENAME, RANDOMKEY, KEYS, SCAN, DBSIZE, EXPIRE, PERSIST, TTL.

use okdb_value::Value;

use crate::acl::Access;

use crate::args::{self, is};
use crate::{glob, time, CmdError, Ctx, Reply};

pub fn del(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
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

pub fn exists(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let n = a[1..].iter().filter(|k| ctx.get(k).is_some()).count();
    Ok(Reply::Int(n as i64))
}

/// `TYPE key [key ...]`: okdb's type names for okdb's own clients (strict literals), Redis's
/// for everyone else (`string` for every scalar, `hash` for a dict), as Redis clients branch on
/// them.
pub fn type_(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let native = ctx.session.literals == okdb_value::literal::Literals::Strict;
    let name_of = move |v: &Value| {
        if native {
            v.type_name()
        } else {
            v.decl().redis
        }
    };
    let mut name = |k: &[u8]| Reply::status(ctx.get(k).map_or("none", name_of));
    if a.len() == 2 {
        return Ok(name(a[1]));
    }
    Ok(Reply::Array(a[1..].iter().map(|k| name(k)).collect()))
}

pub fn rename(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    rename_key(ctx, a, false)?;
    Ok(Reply::Ok)
}

/// `RENAMENX key newkey`: renames only if newkey does not exist; 1 if renamed, else 0.
pub fn renamenx(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(Reply::Int(rename_key(ctx, a, true)? as i64))
}

/// Moves `a[1]` (with its expiry) to `a[2]`, replacing it unless `nx`; false if `nx` kept it.
fn rename_key(ctx: &mut Ctx, a: &[&[u8]], nx: bool) -> Result<bool, CmdError> {
    let now = ctx.now;
    let no_such_key = || CmdError::err("no such key");
    let ks = ctx.ks().ok_or_else(no_such_key)?;
    if !ks.contains(a[1], now) {
        return Err(no_such_key());
    }
    if nx && ks.contains(a[2], now) {
        return Ok(false);
    }
    if a[1] != a[2] {
        let entry = ks.remove(a[1]).expect("checked above");
        ks.insert(a[2], entry);
        // Journaled as the rename, not as the whole value put under the new name.
        let rename = crate::effects::Effect::Rename {
            keyspace: ctx.session.keyspace.clone(),
            from: crate::key::Key::new(a[1]),
            to: crate::key::Key::new(a[2]),
        };
        ctx.declare_covering(rename, &[a[1], a[2]]);
    }
    Ok(true)
}

pub fn randomkey(ctx: &mut Ctx, _: &[&[u8]]) -> Result<Reply, CmdError> {
    if !ctx.session.user.unrestricted && !ctx.session.user.reads_all_keys() {
        // A random key could be one the user may not see: refused rather than filtered.
        return Err(CmdError::new(
            "NOPERM",
            "this user has no permissions to access one of the keys used as arguments: \
             RANDOMKEY needs read access to every key",
        ));
    }
    let now = ctx.now;
    let key = ctx.ks().and_then(|ks| ks.random_key(now));
    Ok(key.map_or(Reply::Null, |k| Reply::bulk(k.as_bytes())))
}

pub fn keys(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let pattern = match_pattern(a[1])?;
    let now = ctx.now;
    let user = ctx.session.user.clone();
    let visible = |k: &[u8]| user.unrestricted || user.may_access(k, Access::Read);
    let Some(ks) = ctx.ks() else {
        return Ok(Reply::Array(vec![]));
    };
    let keys = ks
        .iter(now)
        .filter(|(k, _)| pattern.as_ref().is_none_or(|p| p.matches(k.as_bytes())))
        .filter(|(k, _)| visible(k.as_bytes()))
        .map(|(k, _)| Reply::bulk(k.as_bytes()))
        .collect();
    Ok(Reply::Array(keys))
}

/// The pattern of `KEYS` or `SCAN … MATCH`, compiled; `None` for `*`, which lists every key
/// without asking the pattern (as Redis does: its matcher says an empty key does not match `*`).
pub(crate) fn match_pattern(pattern: &[u8]) -> Result<Option<glob::Pattern>, CmdError> {
    if pattern == b"*" {
        return Ok(None);
    }
    Ok(Some(glob::Pattern::new(pattern)?))
}

/// `SCAN cursor [MATCH pattern] [COUNT n] [TYPE type]` → `[next_cursor, [keys]]`.
pub fn scan(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let cursor: u64 = args::text(a[1])?
        .parse()
        .map_err(|_| CmdError::err("invalid cursor"))?;
    let (mut pattern, mut count, mut type_name) = (None, 10usize, None);
    let mut i = 2;
    while i < a.len() {
        let val = a.get(i + 1).ok_or_else(CmdError::syntax)?;
        if is(a[i], "MATCH") {
            pattern = match_pattern(val)?;
        } else if is(a[i], "COUNT") {
            count = match args::int(val)? {
                n if n >= 1 => n as usize,
                _ => return Err(CmdError::syntax()),
            };
        } else if is(a[i], "TYPE") {
            type_name = Some(args::text(val)?.to_ascii_lowercase());
        } else {
            return Err(CmdError::syntax());
        }
        i += 2;
    }
    let now = ctx.now;
    let mut keys = Vec::new();
    let user = ctx.session.user.clone();
    let next = match ctx.ks() {
        None => 0,
        Some(ks) => ks.scan(cursor, count, now, |k, e| {
            let pattern_ok = pattern.as_ref().is_none_or(|p| p.matches(k.as_bytes()))
                && (user.unrestricted || user.may_access(k.as_bytes(), Access::Read));
            let type_ok = type_name
                .as_deref()
                .is_none_or(|t| t == e.value.type_name() || t == e.value.decl().redis);
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

pub fn dbsize(ctx: &mut Ctx, _: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(Reply::Int(ctx.ks().map_or(0, |ks| ks.len()) as i64))
}

/// Redis's `EXPIRE` conditions.
#[derive(Clone, Copy, Default)]
pub(super) struct ExpireIf {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl ExpireIf {
    pub(super) fn parse(a: &[&[u8]]) -> Result<ExpireIf, CmdError> {
        let mut f = ExpireIf::default();
        for o in a {
            match o.to_ascii_uppercase().as_slice() {
                b"NX" => f.nx = true,
                b"XX" => f.xx = true,
                b"GT" => f.gt = true,
                b"LT" => f.lt = true,
                _ => {
                    return Err(CmdError::err(format!(
                        "Unsupported option {}",
                        String::from_utf8_lossy(o)
                    )))
                }
            }
        }
        if f.nx && (f.xx || f.gt || f.lt) {
            return Err(CmdError::err(
                "NX and XX, GT or LT options at the same time are not compatible",
            ));
        }
        if f.gt && f.lt {
            return Err(CmdError::err(
                "GT and LT options at the same time are not compatible",
            ));
        }
        Ok(f)
    }

    /// Whether a key whose expiry is `current` (0: none, which counts as never) may get `at`.
    fn allows(self, current: u64, at: i64) -> bool {
        let none = current == 0;
        !((self.nx && !none)
            || (self.xx && none)
            || (self.gt && (none || at <= current as i64))
            || (self.lt && !none && at >= current as i64))
    }
}

/// `n` units of `unit_ms` milliseconds after `base`, with Redis's overflow check and error.
pub(super) fn redis_time(n: i64, unit_ms: i64, base: u64, command: &str) -> Result<i64, CmdError> {
    n.checked_mul(unit_ms)
        .and_then(|ms| ms.checked_add(base as i64))
        .ok_or_else(|| CmdError::err(format!("invalid expire time in '{command}' command")))
}

/// `EXPIRE key when [NX|XX|GT|LT]`: an int is seconds from now, as in Redis (a 14-digit one
/// that is a valid `YYYYMMDDHHMMSS` is that time); a float is a unix time, a string an ISO 8601
/// or compact date. 1 if the key exists and the condition holds (a time in the past deletes
/// it at once), else 0.
pub fn expire(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let raw = &a[2];
    let compact = raw.len() == 14 && time::compact_timestamp(raw).is_some();
    let at = match args::redis_int(raw) {
        Some(secs) if !compact => redis_time(secs, 1000, now, "expire")?,
        _ => {
            let value = ctx.value(raw)?;
            time::parse_when(raw, &value, now).map_err(CmdError::err)? as i64
        }
    };
    expire_at(ctx, a[1], at, ExpireIf::parse(&a[3..])?)
}

/// `PEXPIRE key ms [NX|XX|GT|LT]`: milliseconds from now.
pub fn pexpire(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let at = redis_time(args::int(a[2])?, 1, ctx.now, "pexpire")?;
    expire_at(ctx, a[1], at, ExpireIf::parse(&a[3..])?)
}

/// `EXPIREAT key unix-seconds [NX|XX|GT|LT]`.
pub fn expireat(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let at = redis_time(args::int(a[2])?, 1000, 0, "expireat")?;
    expire_at(ctx, a[1], at, ExpireIf::parse(&a[3..])?)
}

/// `PEXPIREAT key unix-ms [NX|XX|GT|LT]`.
pub fn pexpireat(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let at = args::int(a[2])?;
    expire_at(ctx, a[1], at, ExpireIf::parse(&a[3..])?)
}

/// Sets an absolute expiry (unix ms) if the condition allows; a time already past deletes the
/// key. 1 if the key exists and the condition held, else 0 (Redis's order: conditions first).
pub(super) fn expire_at(
    ctx: &mut Ctx,
    key: &[u8],
    at: i64,
    cond: ExpireIf,
) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let Some(ks) = ctx.ks() else {
        return Ok(Reply::Int(0));
    };
    let Some(current) = ks.entry(key, now).map(|e| e.expire_at) else {
        return Ok(Reply::Int(0));
    };
    if !cond.allows(current, at) {
        return Ok(Reply::Int(0));
    }
    if at <= now as i64 {
        ks.remove(key);
    } else {
        ks.set_expiry(key, at as u64);
    }
    Ok(Reply::Int(1))
}

/// `EXPIRETIME key` / `PEXPIRETIME key`: the absolute expiry in seconds or ms; -1 none, -2
/// missing.
pub fn expiretime(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(Reply::Int(match expiry_of(ctx, a[1]) {
        t if t < 0 => t,
        t => t / 1000,
    }))
}

pub fn pexpiretime(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(Reply::Int(expiry_of(ctx, a[1])))
}

/// The absolute expiry of a key in unix ms: -1 without one, -2 missing.
fn expiry_of(ctx: &mut Ctx, key: &[u8]) -> i64 {
    let now = ctx.now;
    match ctx.ks().and_then(|ks| ks.entry(key, now)) {
        None => -2,
        Some(e) if e.expire_at == 0 => -1,
        Some(e) => e.expire_at as i64,
    }
}

pub fn persist(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let Some(ks) = ctx.ks() else {
        return Ok(Reply::Int(0));
    };
    let had = ks.entry(a[1], now).is_some_and(|e| e.expire_at != 0);
    if had {
        ks.set_expiry(a[1], 0);
    }
    Ok(Reply::Int(had as i64))
}

/// Milliseconds until a key expires: -1 without expiry, -2 missing.
pub(super) fn ms_left(ctx: &mut Ctx, key: &[u8]) -> i64 {
    match expiry_of(ctx, key) {
        t if t < 0 => t,
        t => t - ctx.now as i64,
    }
}

/// `TTL key` → seconds left (rounded, as Redis does), -1 without expiry, -2 missing.
pub fn ttl(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut one = |k: &[u8]| {
        Reply::Int(match ms_left(ctx, k) {
            ms if ms < 0 => ms,
            ms => ms.saturating_add(500) / 1000,
        })
    };
    if a.len() == 2 {
        return Ok(one(a[1]));
    }
    Ok(Reply::Array(a[1..].iter().map(|k| one(k)).collect()))
}

/// The keyspace a Redis database number names, checked against `databases`.
pub(super) fn db_keyspace(ctx: &Ctx, raw: &[u8]) -> Result<String, CmdError> {
    let out_of_range = || CmdError::err("DB index is out of range");
    let n = args::int(raw)?;
    let dbs = ctx
        .shared
        .config
        .databases
        .load(std::sync::atomic::Ordering::Relaxed);
    if n < 0 || n as u64 >= dbs as u64 {
        return Err(out_of_range());
    }
    Ok(n.to_string())
}

/// `COPY source destination [DB n] [REPLACE]`: copies the value and its expiry (an O(1) clone);
/// 1 if copied, 0 if the source is missing or the destination exists without REPLACE.
pub fn copy(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (mut target, mut replace) = (None, false);
    let mut i = 3;
    while i < a.len() {
        if is(a[i], "REPLACE") {
            replace = true;
        } else if is(a[i], "DB") && i + 1 < a.len() {
            target = Some(db_keyspace(ctx, a[i + 1])?);
            i += 1;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    let here = ctx.session.keyspace().to_string();
    let target = target.unwrap_or_else(|| here.clone());
    if target == here && a[1] == a[2] {
        return Err(CmdError::err("source and destination objects are the same"));
    }
    let now = ctx.now;
    let Some(entry) = ctx.ks().and_then(|ks| ks.entry(a[1], now)).cloned() else {
        return Ok(Reply::Int(0));
    };
    let t = ctx.store.create(&target);
    let dest = ctx.space(t);
    if dest.contains(a[2], now) && !replace {
        return Ok(Reply::Int(0));
    }
    dest.insert(a[2], entry);
    Ok(Reply::Int(1))
}

/// `MOVE key db`: moves a key (with its expiry) to another database; 1 if moved, 0 if it is
/// missing here or exists there.
pub fn move_(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let target = db_keyspace(ctx, a[2])?;
    if target == ctx.session.keyspace() {
        return Err(CmdError::err("source and destination objects are the same"));
    }
    let now = ctx.now;
    let Some(ks) = ctx.ks() else {
        return Ok(Reply::Int(0));
    };
    if !ks.contains(a[1], now) {
        return Ok(Reply::Int(0));
    }
    let t = ctx.store.create(&target);
    if ctx.space(t).contains(a[1], now) {
        return Ok(Reply::Int(0));
    }
    let entry = ctx
        .ks()
        .and_then(|ks| ks.remove(a[1]))
        .expect("checked above");
    ctx.space(t).insert(a[1], entry);
    Ok(Reply::Int(1))
}
