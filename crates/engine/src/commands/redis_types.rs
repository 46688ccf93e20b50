//! Redis's list, hash and set commands, mapped onto okdb's types (Redis list → list, hash →
//! dict, set → set), with Redis's replies and error texts. Their meaning comes from the
//! operations layer, as the native verbs' does; what is Redis's own here is the spelling, the
//! reply shapes, the error texts, and that a container left empty is deleted.

use bytes::Bytes;
use okdb_ops::delta::Delta;
use okdb_ops::members::Combine;
use okdb_ops::seq::End;
use okdb_ops::{self as ops, OpError};
use okdb_value::types::Caps;
use okdb_value::{SmolStr, Value};

use super::collections::{
    change, field, list_reply, new_dict, new_list, new_set, remove_counted, values, write_as, Empty,
};
use crate::args::{self, is};
use crate::{CmdError, Ctx, Reply};

fn end(a: &[u8]) -> Result<End, CmdError> {
    if a.eq_ignore_ascii_case(b"LEFT") {
        Ok(End::Left)
    } else if a.eq_ignore_ascii_case(b"RIGHT") {
        Ok(End::Right)
    } else {
        Err(CmdError::syntax())
    }
}

/// Redis's reading of a count that must not be negative.
fn positive(a: &[u8]) -> Result<usize, CmdError> {
    match args::redis_int(a) {
        Some(n) if n >= 0 => Ok(n as usize),
        _ => Err(CmdError::err("value is out of range, must be positive")),
    }
}

/// Checks the type of a key a read-only command will use, without creating anything.
fn read<'c>(
    ctx: &'c mut Ctx,
    key: &[u8],
    verb: &'static str,
    caps: Caps,
) -> Result<Option<&'c Value>, CmdError> {
    match ctx.get(key) {
        None => Ok(None),
        Some(v) => {
            ops::expect(verb, v, caps)?;
            Ok(Some(v))
        }
    }
}

// ---- lists ----

fn push(
    ctx: &mut Ctx,
    a: &[&[u8]],
    verb: &'static str,
    at: End,
    create: bool,
) -> Result<Reply, CmdError> {
    let items = values(ctx, &a[2..])?;
    let delta = ctx.recording().then(|| Delta::Push {
        end: at,
        items: items.clone(),
    });
    let n = write_as(
        ctx,
        a[1],
        create.then_some(new_list as fn() -> Value),
        Empty::Delete,
        delta,
        |v| ops::seq::push(verb, v, at, items),
    )?;
    Ok(Reply::Int(n.unwrap_or(0) as i64))
}

pub fn lpush(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    push(ctx, a, "LPUSH", End::Left, true)
}

pub fn rpush(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    push(ctx, a, "RPUSH", End::Right, true)
}

pub fn lpushx(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    push(ctx, a, "LPUSHX", End::Left, false)
}

pub fn rpushx(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    push(ctx, a, "RPUSHX", End::Right, false)
}

fn pop(ctx: &mut Ctx, a: &[&[u8]], verb: &'static str, at: End) -> Result<Reply, CmdError> {
    if a.len() > 3 {
        return Err(CmdError::arity(verb));
    }
    let count = a.get(2).map(|c| positive(c)).transpose()?;
    let popped = change(ctx, a[1], None, Empty::Delete, |v| {
        let p = ops::seq::pop(verb, v, at, count.unwrap_or(1))?;
        let d = Delta::Pop {
            end: at,
            count: p.len(),
        };
        Ok((p, Some(d)))
    })?;
    Ok(match (popped, count) {
        (None, Some(_)) => Reply::NullArray,
        (None, None) => Reply::Null,
        (Some(p), Some(_)) => list_reply(p),
        (Some(mut p), None) => Reply::value(p.pop().as_ref()),
    })
}

pub fn lpop(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    pop(ctx, a, "LPOP", End::Left)
}

pub fn rpop(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    pop(ctx, a, "RPOP", End::Right)
}

pub fn llen(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let v = read(ctx, a[1], "LLEN", Caps::ENDS)?;
    Ok(Reply::Int(v.map_or(0, |v| v.len().unwrap_or(0)) as i64))
}

pub fn lrange(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (start, stop) = (args::int(a[2])?, args::int(a[3])?);
    let Some(v) = read(ctx, a[1], "LRANGE", Caps::ENDS)? else {
        return Ok(Reply::Array(vec![]));
    };
    let l = ops::seq::list("LRANGE", v, Caps::ENDS)?;
    Ok(match ops::seq::redis_range(l.len(), start, stop) {
        None => Reply::Array(vec![]),
        Some((start, end)) => Reply::Values(Box::new(crate::reply::ListRange {
            list: l.clone(),
            start,
            end,
        })),
    })
}

pub fn lindex(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let i = args::int(a[2])?;
    match read(ctx, a[1], "LINDEX", Caps::ENDS)? {
        None => Ok(Reply::Null),
        Some(v) => Ok(Reply::value(ops::seq::get("LINDEX", v, i)?.as_ref())),
    }
}

pub fn lset(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let i = args::int(a[2])?;
    let x = ctx.value(a[3])?;
    let delta = ctx.recording().then(|| Delta::SetAt {
        index: i,
        value: x.clone(),
    });
    match write_as(ctx, a[1], None, Empty::Delete, delta, |v| {
        ops::seq::set("LSET", v, i, x)
    })? {
        Some(()) => Ok(Reply::Ok),
        None => Err(CmdError::err("no such key")),
    }
}

pub fn lrem(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let count = args::int(a[2])?;
    let x = ctx.value(a[3])?;
    let delta = ctx.recording().then(|| Delta::Remove {
        value: x.clone(),
        count,
    });
    let n = write_as(ctx, a[1], None, Empty::Delete, delta, |v| {
        ops::seq::remove("LREM", v, &x, count)
    })?;
    Ok(Reply::Int(n.unwrap_or(0) as i64))
}

pub fn linsert(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let after = if is(a[2], "AFTER") {
        true
    } else if is(a[2], "BEFORE") {
        false
    } else {
        return Err(CmdError::syntax());
    };
    let pivot = ctx.value(a[3])?;
    let x = ctx.value(a[4])?;
    let n = change(ctx, a[1], None, Empty::Delete, |v| {
        let done = ops::seq::insert_by_pivot("LINSERT", v, after, &pivot, x.clone())?;
        let d = done.map(|(at, _)| Delta::Insert {
            index: at as i64,
            value: x,
        });
        Ok((done.map(|(_, len)| len), d))
    })?;
    Ok(Reply::Int(match n {
        None => 0,
        Some(None) => -1,
        Some(Some(n)) => n as i64,
    }))
}

pub fn ltrim(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (start, stop) = (args::int(a[2])?, args::int(a[3])?);
    write_as(
        ctx,
        a[1],
        None,
        Empty::Delete,
        Some(Delta::Trim { start, stop }),
        |v| ops::seq::trim("LTRIM", v, start, stop),
    )?;
    Ok(Reply::Ok)
}

pub fn lpos(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let x = ctx.value(a[2])?;
    let (mut rank, mut count, mut maxlen) = (1i64, None, 0usize);
    let mut i = 3;
    while i < a.len() {
        let val = a.get(i + 1).ok_or_else(CmdError::syntax)?;
        if is(a[i], "RANK") {
            rank = args::int(val)?;
            if rank == 0 || rank == i64::MIN {
                return Err(CmdError::err("RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"));
            }
        } else if is(a[i], "COUNT") {
            count = Some(match args::redis_int(val) {
                Some(n) if n >= 0 => n as usize,
                _ => return Err(CmdError::err("COUNT can't be negative")),
            });
        } else if is(a[i], "MAXLEN") {
            maxlen = match args::redis_int(val) {
                Some(n) if n >= 0 => n as usize,
                _ => return Err(CmdError::err("MAXLEN can't be negative")),
            };
        } else {
            return Err(CmdError::syntax());
        }
        i += 2;
    }
    let found = match read(ctx, a[1], "LPOS", Caps::ENDS)? {
        None => vec![],
        Some(v) => {
            let l = ops::seq::list("LPOS", v, Caps::ENDS)?;
            ops::seq::positions(l, &x, rank, count.unwrap_or(1), maxlen)
        }
    };
    Ok(match count {
        Some(_) => Reply::Array(found.into_iter().map(|p| Reply::Int(p as i64)).collect()),
        None => found.first().map_or(Reply::Null, |p| Reply::Int(*p as i64)),
    })
}

/// Pops from one list's end and pushes onto another's (the same list rotates); the item, or
/// null when the source is missing.
fn move_item(
    ctx: &mut Ctx,
    verb: &'static str,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) -> Result<Reply, CmdError> {
    // Check the destination's type first: a failed move changes nothing.
    read(ctx, dst, verb, Caps::ENDS)?;
    let Some(mut popped) = change(ctx, src, None, Empty::Delete, |v| {
        let p = ops::seq::pop(verb, v, from, 1)?;
        let d = (!p.is_empty()).then_some(Delta::Pop {
            end: from,
            count: 1,
        });
        Ok((p, d))
    })?
    else {
        return Ok(Reply::Null);
    };
    let Some(item) = popped.pop() else {
        return Ok(Reply::Null);
    };
    let delta = ctx.recording().then(|| Delta::Push {
        end: to,
        items: vec![item.clone()],
    });
    write_as(ctx, dst, Some(new_list), Empty::Delete, delta, |v| {
        ops::seq::push(verb, v, to, vec![item.clone()])
    })?;
    Ok(Reply::Value(item))
}

pub fn lmove(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (from, to) = (end(a[3])?, end(a[4])?);
    move_item(ctx, "LMOVE", a[1], a[2], from, to)
}

pub fn rpoplpush(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    move_item(ctx, "RPOPLPUSH", a[1], a[2], End::Right, End::Left)
}

// ---- hashes ----

fn pairs(a: &[&[u8]], ctx: &Ctx, verb: &str) -> Result<Vec<(SmolStr, Value)>, CmdError> {
    if !a.len().is_multiple_of(2) || a.is_empty() {
        return Err(CmdError::arity(verb));
    }
    let mut out = Vec::with_capacity(a.len() / 2);
    for p in a.chunks(2) {
        out.push((SmolStr::new(field(p[0])?), ctx.value(p[1])?));
    }
    Ok(out)
}

pub fn hset(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let pairs = pairs(&a[2..], ctx, "HSET")?;
    let delta = ctx.recording().then(|| Delta::SetFields(pairs.clone()));
    let n = write_as(ctx, a[1], Some(new_dict), Empty::Delete, delta, |v| {
        ops::map::set_many("HSET", v, pairs)
    })?;
    Ok(Reply::Int(n.unwrap_or(0) as i64))
}

pub fn hmset(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let pairs = pairs(&a[2..], ctx, "HMSET")?;
    let delta = ctx.recording().then(|| Delta::SetFields(pairs.clone()));
    write_as(ctx, a[1], Some(new_dict), Empty::Delete, delta, |v| {
        ops::map::set_many("HMSET", v, pairs)
    })?;
    Ok(Reply::Ok)
}

pub fn hsetnx(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let f = field(a[2])?;
    let x = ctx.value(a[3])?;
    let n = change(ctx, a[1], Some(new_dict), Empty::Delete, |v| {
        if ops::map::get("HSETNX", v, f)?.is_some() {
            return Ok((false, None));
        }
        let d = Delta::SetFields(vec![(f.into(), x.clone())]);
        Ok((ops::map::set("HSETNX", v, f, x)?, Some(d)))
    })?;
    Ok(Reply::Int(n.unwrap_or(false) as i64))
}

pub fn hget(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let f = field(a[2])?;
    match read(ctx, a[1], "HGET", Caps::MAPPING)? {
        None => Ok(Reply::Null),
        Some(v) => Ok(Reply::value(ops::map::get("HGET", v, f)?)),
    }
}

pub fn hmget(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let fields: Vec<&str> = a[2..].iter().map(|f| field(f)).collect::<Result<_, _>>()?;
    let v = read(ctx, a[1], "HMGET", Caps::MAPPING)?;
    let mut out = Vec::with_capacity(fields.len());
    for f in fields {
        out.push(match v {
            None => Reply::Null,
            Some(v) => Reply::value(ops::map::get("HMGET", v, f)?),
        });
    }
    Ok(Reply::Array(out))
}

pub fn hgetall(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let Some(v) = read(ctx, a[1], "HGETALL", Caps::MAPPING)? else {
        return Ok(Reply::Map(vec![]));
    };
    Ok(Reply::Map(
        ops::map::items("HGETALL", v)?
            .into_iter()
            .map(|(k, x)| (Reply::text(&k), Reply::Value(x)))
            .collect(),
    ))
}

pub fn hdel(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let fields: Vec<&str> = a[2..].iter().map(|f| field(f)).collect::<Result<_, _>>()?;
    let delta = ctx
        .recording()
        .then(|| Delta::DeleteFields(fields.iter().map(SmolStr::new).collect()));
    let n = remove_counted(ctx, a[1], delta, |v| ops::map::delete("HDEL", v, fields))?;
    Ok(Reply::Int(n as i64))
}

pub fn hexists(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let f = field(a[2])?;
    match read(ctx, a[1], "HEXISTS", Caps::MAPPING)? {
        None => Ok(Reply::Int(0)),
        Some(v) => Ok(Reply::Int(ops::map::get("HEXISTS", v, f)?.is_some() as i64)),
    }
}

pub fn hlen(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let v = read(ctx, a[1], "HLEN", Caps::MAPPING)?;
    Ok(Reply::Int(v.map_or(0, |v| v.len().unwrap_or(0)) as i64))
}

pub fn hstrlen(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let f = field(a[2])?;
    let Some(v) = read(ctx, a[1], "HSTRLEN", Caps::MAPPING)? else {
        return Ok(Reply::Int(0));
    };
    let n = match ops::map::get("HSTRLEN", v, f)? {
        None => 0,
        Some(x) => x
            .scalar_text()
            .map_or_else(|| okdb_value::json::to_string(x).len(), |t| t.len()),
    };
    Ok(Reply::Int(n as i64))
}

pub fn hkeys(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    match read(ctx, a[1], "HKEYS", Caps::MAPPING)? {
        None => Ok(Reply::Array(vec![])),
        Some(v) => Ok(list_reply(ops::map::fields("HKEYS", v)?)),
    }
}

pub fn hvals(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    match read(ctx, a[1], "HVALS", Caps::MAPPING)? {
        None => Ok(Reply::Array(vec![])),
        Some(v) => Ok(list_reply(ops::map::values("HVALS", v)?)),
    }
}

pub fn hincrby(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let f = field(a[2])?;
    let by = args::int(a[3])?;
    let n = change(ctx, a[1], Some(new_dict), Empty::Delete, |v| {
        let n = ops::map::incr_int("HINCRBY", v, f, by).map_err(|e| match e {
            OpError::Invalid(_) => OpError::Invalid("hash value is not an integer".into()),
            other => other,
        })?;
        Ok((n, Some(Delta::SetFields(vec![(f.into(), Value::Int(n))]))))
    })?;
    Ok(Reply::Int(n.expect("created")))
}

pub fn hincrbyfloat(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let f = field(a[2])?;
    let by = args::redis_float(a[3]).ok_or_else(|| CmdError::err("value is not a valid float"))?;
    if !by.is_finite() {
        return Err(CmdError::err("value is NaN or Infinity"));
    }
    let text = change(ctx, a[1], Some(new_dict), Empty::Delete, |v| {
        let base = match ops::map::get("HINCRBYFLOAT", v, f)? {
            None => 0.0,
            Some(Value::Int(i)) => *i as f64,
            Some(Value::Float(x)) => *x,
            Some(x) => x
                .scalar_text()
                .and_then(|t| args::redis_float(&t))
                .ok_or_else(|| OpError::Invalid("hash value is not a float".into()))?,
        };
        let sum = base + by;
        if !sum.is_finite() {
            return Err(OpError::Invalid(
                "increment would produce NaN or Infinity".into(),
            ));
        }
        let text = super::values::float_text(sum);
        let stored = okdb_value::literal::parse_arg_faithful(text.as_bytes());
        ops::map::set("HINCRBYFLOAT", v, f, stored.clone())?;
        Ok((text, Some(Delta::SetFields(vec![(f.into(), stored)]))))
    })?;
    Ok(Reply::Bulk(text.expect("created").into()))
}

pub fn hrandfield(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let count = a.get(2).map(|c| random_count(c)).transpose()?;
    let with_values = match a.get(3) {
        None => false,
        Some(w) if is(w, "WITHVALUES") && a.len() == 4 => true,
        Some(_) => return Err(CmdError::syntax()),
    };
    let Some(v) = read(ctx, a[1], "HRANDFIELD", Caps::MAPPING)? else {
        return Ok(if count.is_some() {
            Reply::Array(vec![])
        } else {
            Reply::Null
        });
    };
    let items = ops::map::items("HRANDFIELD", v)?;
    let chosen = random_picks(items.len(), count);
    let Some(count) = count else {
        return Ok(chosen
            .first()
            .map_or(Reply::Null, |&i| Reply::text(&items[i].0)));
    };
    let _ = count;
    let resp3 = ctx.session.proto >= 3;
    let mut out = Vec::new();
    for i in chosen {
        let field = Reply::text(&items[i].0);
        match (with_values, resp3) {
            (false, _) => out.push(field),
            // RESP3: [field, value] pairs, as Redis answers.
            (true, true) => out.push(Reply::Array(vec![field, Reply::Value(items[i].1.clone())])),
            (true, false) => {
                out.push(field);
                out.push(Reply::Value(items[i].1.clone()));
            }
        }
    }
    Ok(Reply::Array(out))
}

/// The count of `HRANDFIELD`/`SRANDMEMBER`, refused where Redis refuses it (a negative count
/// past half the 64-bit range) and where the reply could not be built (over 2^27 picks).
fn random_count(a: &[u8]) -> Result<i64, CmdError> {
    let n = args::int(a)?;
    if n < -(i64::MAX / 2) {
        return Err(CmdError::err("value is out of range"));
    }
    if n.unsigned_abs() > 1 << 27 {
        return Err(CmdError::err(
            "count is too large (okdb answers at most 134217728 picks)",
        ));
    }
    Ok(n)
}

/// Positions for Redis's random-member commands: one (no count); up to `count` distinct
/// (positive); exactly `-count` with repeats (negative).
fn random_picks(len: usize, count: Option<i64>) -> Vec<usize> {
    if len == 0 {
        return vec![];
    }
    match count {
        None => vec![fastrand::usize(..len)],
        Some(c) if c < 0 => (0..c.unsigned_abs())
            .map(|_| fastrand::usize(..len))
            .collect(),
        Some(c) => {
            let want = (c as usize).min(len);
            if want * 2 >= len {
                let mut all: Vec<usize> = (0..len).collect();
                fastrand::shuffle(&mut all);
                all.truncate(want);
                return all;
            }
            // Floyd's sampling: `want` distinct positions in O(want), not a shuffle of `len`.
            let mut chosen = std::collections::HashSet::with_capacity(want);
            let mut out = Vec::with_capacity(want);
            for j in len - want..len {
                let t = fastrand::usize(..=j);
                let pick = if chosen.insert(t) { t } else { j };
                chosen.insert(pick);
                out.push(pick);
            }
            fastrand::shuffle(&mut out);
            out
        }
    }
}

/// `HSCAN`, `SSCAN` and `ZSCAN`: reads the cursor (a position) and the options, then takes
/// the window of `len` items it covers from `window(start, end)`, as (text that `MATCH`
/// tests, reply, the paired reply if any). Items are in the value's own stable order.
pub(crate) fn scan_window(
    a: &[&[u8]],
    novalues_ok: bool,
    len: usize,
    window: impl FnOnce(usize, usize) -> Vec<(Vec<u8>, Reply, Option<Reply>)>,
) -> Result<Reply, CmdError> {
    let cursor: usize = args::text(a[2])?
        .parse()
        .map_err(|_| CmdError::err("invalid cursor"))?;
    let (mut pattern, mut count) = (None, 10usize);
    let mut i = 3;
    while i < a.len() {
        if novalues_ok && is(a[i], "NOVALUES") {
            i += 1;
            continue;
        }
        let val = a.get(i + 1).ok_or_else(CmdError::syntax)?;
        if is(a[i], "MATCH") {
            pattern = super::keys::match_pattern(val)?;
        } else if is(a[i], "COUNT") {
            count = match args::int(val)? {
                n if n >= 1 => n as usize,
                _ => return Err(CmdError::syntax()),
            };
        } else {
            return Err(CmdError::syntax());
        }
        i += 2;
    }
    let start = cursor.min(len);
    let end = cursor.saturating_add(count).min(len);
    let next = if end >= len { 0 } else { end };
    let mut out = Vec::new();
    for (text, item, paired) in window(start, end) {
        if pattern.as_ref().is_some_and(|p| !p.matches(&text)) {
            continue;
        }
        out.push(item);
        out.extend(paired);
    }
    Ok(Reply::Array(vec![
        Reply::text(&next.to_string()),
        Reply::Array(out),
    ]))
}

/// One scanned item: its text (for MATCH), its reply, and the value paired with it.
fn scanned(m: Value, x: Option<Value>) -> (Vec<u8>, Reply, Option<Reply>) {
    let text = m.scalar_text().map(|t| t.into_owned()).unwrap_or_default();
    (text, Reply::Value(m), x.map(Reply::Value))
}

/// `HSCAN`: the cursor is a place of the dict's insertion order (`Dict::places`), so a call
/// costs O(log n + COUNT), and an entry removed before the cursor moves no other.
pub fn hscan(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let novalues = a.iter().skip(3).any(|x| is(x, "NOVALUES"));
    let d = match read(ctx, a[1], "HSCAN", Caps::MAPPING)? {
        None => None,
        Some(v) => Some(ops::map::dict("HSCAN", v)?),
    };
    let places = d.map_or(0, |d| d.places());
    scan_window(a, true, places, |start, end| match d {
        None => vec![],
        Some(d) => d
            .window(start, end)
            .into_iter()
            .map(|(k, x)| scanned(Value::str(k), (!novalues).then(|| x.clone())))
            .collect(),
    })
}

// ---- sets ----

pub fn sadd(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let members = values(ctx, &a[2..])?;
    let delta = ctx.recording().then(|| Delta::AddMembers(members.clone()));
    let n = write_as(ctx, a[1], Some(new_set), Empty::Delete, delta, |v| {
        ops::members::add("SADD", v, members)
    })?;
    Ok(Reply::Int(n.unwrap_or(0) as i64))
}

pub fn srem(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let members = values(ctx, &a[2..])?;
    let delta = ctx
        .recording()
        .then(|| Delta::DiscardMembers(members.clone()));
    let n = remove_counted(ctx, a[1], delta, |v| {
        ops::members::discard("SREM", v, &members)
    })?;
    Ok(Reply::Int(n as i64))
}

fn members_of(v: Option<&Value>, verb: &'static str) -> Result<Vec<Value>, CmdError> {
    Ok(match v {
        None => vec![],
        Some(v) => ops::members::set(verb, v)?.iter().cloned().collect(),
    })
}

pub fn smembers(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let v = read(ctx, a[1], "SMEMBERS", Caps::MEMBERS)?;
    Ok(Reply::Set(
        members_of(v, "SMEMBERS")?
            .into_iter()
            .map(Reply::Value)
            .collect(),
    ))
}

pub fn sismember(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let m = ctx.value(a[2])?;
    match read(ctx, a[1], "SISMEMBER", Caps::MEMBERS)? {
        None => Ok(Reply::Int(0)),
        Some(v) => Ok(Reply::Int(ops::members::has("SISMEMBER", v, &m)? as i64)),
    }
}

pub fn smismember(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let ms = values(ctx, &a[2..])?;
    let v = read(ctx, a[1], "SMISMEMBER", Caps::MEMBERS)?;
    let mut out = Vec::with_capacity(ms.len());
    for m in &ms {
        out.push(Reply::Int(match v {
            None => 0,
            Some(v) => ops::members::has("SMISMEMBER", v, m)? as i64,
        }));
    }
    Ok(Reply::Array(out))
}

pub fn scard(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let v = read(ctx, a[1], "SCARD", Caps::MEMBERS)?;
    Ok(Reply::Int(v.map_or(0, |v| v.len().unwrap_or(0)) as i64))
}

/// `SPOP key [count]`: removes random members; journaled as the removal of those members, so
/// replay removes the same ones.
pub fn spop(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if a.len() > 3 {
        return Err(CmdError::syntax());
    }
    let count = a.get(2).map(|c| positive(c)).transpose()?;
    let members = match read(ctx, a[1], "SPOP", Caps::MEMBERS)? {
        None => vec![],
        Some(v) => {
            let all = ops::members::set("SPOP", v)?;
            let mut picks = random_picks(all.len(), Some(count.unwrap_or(1) as i64));
            // In the set's order; each pick found by position in O(log n).
            picks.sort_unstable();
            picks
                .into_iter()
                .map(|p| all.get(p).cloned().expect("a position in the set"))
                .collect::<Vec<_>>()
        }
    };
    if !members.is_empty() {
        let delta = ctx
            .recording()
            .then(|| Delta::DiscardMembers(members.clone()));
        write_as(ctx, a[1], None, Empty::Delete, delta, |v| {
            ops::members::discard("SPOP", v, &members)
        })?;
    }
    Ok(match count {
        Some(_) => Reply::Set(members.into_iter().map(Reply::Value).collect()),
        None => members.into_iter().next().map_or(Reply::Null, Reply::Value),
    })
}

pub fn srandmember(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if a.len() > 3 {
        return Err(CmdError::syntax());
    }
    let count = a.get(2).map(|c| random_count(c)).transpose()?;
    let Some(v) = read(ctx, a[1], "SRANDMEMBER", Caps::MEMBERS)? else {
        return Ok(if count.is_some() {
            Reply::Array(vec![])
        } else {
            Reply::Null
        });
    };
    let all = ops::members::set("SRANDMEMBER", v)?;
    let picks = random_picks(all.len(), count);
    let pick = |i: usize| all.get(i).cloned().expect("a position in the set");
    Ok(match count {
        None => picks
            .first()
            .map_or(Reply::Null, |&i| Reply::Value(pick(i))),
        Some(_) if picks.len() == all.len() && count.is_some_and(|c| c > 0) => {
            list_reply(all.iter().cloned())
        }
        Some(_) => list_reply(picks.into_iter().map(pick)),
    })
}

fn combine(
    ctx: &mut Ctx,
    keys: &[&[u8]],
    verb: &'static str,
    how: Combine,
) -> Result<okdb_value::Set, CmdError> {
    let mut found = Vec::with_capacity(keys.len());
    for k in keys {
        found.push(read(ctx, k, verb, Caps::MEMBERS)?.cloned());
    }
    let refs: Vec<Option<&Value>> = found.iter().map(Option::as_ref).collect();
    Ok(ops::members::combine(verb, how, &refs)?)
}

fn set_reply(s: okdb_value::Set) -> Reply {
    Reply::Set(s.into_iter().map(Reply::Value).collect())
}

pub fn sunion(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(set_reply(combine(ctx, &a[1..], "SUNION", Combine::Union)?))
}

pub fn sinter(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(set_reply(combine(
        ctx,
        &a[1..],
        "SINTER",
        Combine::Intersect,
    )?))
}

pub fn sdiff(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(set_reply(combine(ctx, &a[1..], "SDIFF", Combine::Diff)?))
}

/// The `*STORE` forms: the result replaces `dest` (an empty result deletes it); its size.
fn store(ctx: &mut Ctx, a: &[&[u8]], verb: &'static str, how: Combine) -> Result<Reply, CmdError> {
    let s = combine(ctx, &a[2..], verb, how)?;
    let n = s.len();
    if n == 0 {
        if let Some(ks) = ctx.ks() {
            ks.remove(a[1]);
        }
    } else {
        ctx.ks_write().set(a[1], Value::Set(Box::new(s)));
    }
    Ok(Reply::Int(n as i64))
}

pub fn sunionstore(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    store(ctx, a, "SUNIONSTORE", Combine::Union)
}

pub fn sinterstore(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    store(ctx, a, "SINTERSTORE", Combine::Intersect)
}

pub fn sdiffstore(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    store(ctx, a, "SDIFFSTORE", Combine::Diff)
}

pub fn sintercard(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let n = match args::redis_int(a[1]) {
        Some(n) if n > 0 => n as usize,
        _ => return Err(CmdError::err("numkeys should be greater than 0")),
    };
    if a.len() < 2 + n {
        return Err(CmdError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    let mut limit = 0usize;
    let rest = &a[2 + n..];
    match rest {
        [] => {}
        [l, v] if is(l, "LIMIT") => {
            limit = match args::redis_int(v) {
                Some(x) if x >= 0 => x as usize,
                _ => return Err(CmdError::err("LIMIT can't be negative")),
            }
        }
        _ => return Err(CmdError::syntax()),
    }
    let s = combine(ctx, &a[2..2 + n], "SINTERCARD", Combine::Intersect)?;
    let card = if limit > 0 {
        s.len().min(limit)
    } else {
        s.len()
    };
    Ok(Reply::Int(card as i64))
}

pub fn smove(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let m = ctx.value(a[3])?;
    read(ctx, a[1], "SMOVE", Caps::MEMBERS)?;
    read(ctx, a[2], "SMOVE", Caps::MEMBERS)?;
    let delta = ctx
        .recording()
        .then(|| Delta::DiscardMembers(vec![m.clone()]));
    let moved = write_as(ctx, a[1], None, Empty::Delete, delta, |v| {
        ops::members::discard("SMOVE", v, [&m])
    })?;
    if moved != Some(1) {
        return Ok(Reply::Int(0));
    }
    let delta = ctx.recording().then(|| Delta::AddMembers(vec![m.clone()]));
    write_as(ctx, a[2], Some(new_set), Empty::Delete, delta, |v| {
        ops::members::add("SMOVE", v, vec![m])
    })?;
    Ok(Reply::Int(1))
}

/// `SSCAN`: the cursor is a position in the set's order, so a call costs O(log n + COUNT).
pub fn sscan(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let s = match read(ctx, a[1], "SSCAN", Caps::MEMBERS)? {
        None => None,
        Some(v) => Some(ops::members::set("SSCAN", v)?),
    };
    scan_window(a, false, s.map_or(0, |s| s.len()), |start, end| match s {
        None => vec![],
        Some(s) => s
            .range(start, end)
            .map(|m| scanned(m.clone(), None))
            .collect(),
    })
}

// ---- waiting pops ----

/// Redis's timeout argument: seconds as a float, 0 for no limit.
pub(crate) fn timeout(a: &[u8]) -> Result<Option<std::time::Duration>, CmdError> {
    let secs = args::redis_float(a)
        .filter(|f| f.is_finite())
        .ok_or_else(|| CmdError::err("timeout is not a float or out of range"))?;
    if secs < 0.0 {
        return Err(CmdError::err("timeout is negative"));
    }
    if secs > 1e12 {
        return Err(CmdError::err("timeout is out of range"));
    }
    Ok((secs > 0.0).then(|| std::time::Duration::from_secs_f64(secs)))
}

/// The first of `keys` that holds a non-empty list; WRONGTYPE for a key of another type met
/// on the way.
fn first_ready(
    ctx: &mut Ctx,
    keys: &[&[u8]],
    verb: &'static str,
) -> Result<Option<Bytes>, CmdError> {
    for k in keys {
        if let Some(v) = read(ctx, k, verb, Caps::ENDS)? {
            if !v.is_empty() {
                return Ok(Some(Bytes::copy_from_slice(k)));
            }
        }
    }
    Ok(None)
}

/// Pops from a list known to hold items.
fn pop_now(
    ctx: &mut Ctx,
    key: &[u8],
    verb: &'static str,
    left: bool,
    count: usize,
) -> Result<Vec<Value>, CmdError> {
    let at = if left { End::Left } else { End::Right };
    let popped = change(ctx, key, None, Empty::Delete, |v| {
        let p = ops::seq::pop(verb, v, at, count)?;
        let d = Delta::Pop {
            end: at,
            count: p.len(),
        };
        Ok((p, Some(d)))
    })?;
    Ok(popped.unwrap_or_default())
}

fn blocking_pop(
    ctx: &mut Ctx,
    a: &[&[u8]],
    verb: &'static str,
    left: bool,
) -> Result<Reply, CmdError> {
    let wait = timeout(a[a.len() - 1])?;
    let keys = &a[1..a.len() - 1];
    if let Some(k) = first_ready(ctx, keys, verb)? {
        let mut items = pop_now(ctx, &k, verb, left, 1)?;
        return Ok(Reply::Array(vec![
            Reply::Bulk(k),
            Reply::value(items.pop().as_ref()),
        ]));
    }
    if !ctx.may_wait() {
        return Ok(Reply::NullArray);
    }
    let op = crate::waiting::WaitOp::Pop { left, count: None };
    Ok(ctx.park(args::owned(keys), op, wait, Reply::NullArray))
}

pub fn blpop(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    blocking_pop(ctx, a, "BLPOP", true)
}

pub fn brpop(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    blocking_pop(ctx, a, "BRPOP", false)
}

fn blocking_move(
    ctx: &mut Ctx,
    a: &[&[u8]],
    verb: &'static str,
    from: End,
    to: End,
    wait: Option<std::time::Duration>,
) -> Result<Reply, CmdError> {
    let (src, dst) = (&a[1], &a[2]);
    if first_ready(ctx, std::slice::from_ref(src), verb)?.is_some() {
        read(ctx, dst, verb, Caps::ENDS)?;
        return move_item(ctx, verb, src, dst, from, to);
    }
    if !ctx.may_wait() {
        return Ok(Reply::Null);
    }
    let op = crate::waiting::WaitOp::Move {
        dst: Bytes::copy_from_slice(dst),
        from_left: from == End::Left,
        to_left: to == End::Left,
    };
    Ok(ctx.park(vec![Bytes::copy_from_slice(src)], op, wait, Reply::Null))
}

pub fn blmove(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (from, to) = (end(a[3])?, end(a[4])?);
    let wait = timeout(a[5])?;
    blocking_move(ctx, a, "BLMOVE", from, to, wait)
}

pub fn brpoplpush(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let wait = timeout(a[3])?;
    blocking_move(ctx, a, "BRPOPLPUSH", End::Right, End::Left, wait)
}

/// `LMPOP`/`BLMPOP`'s arguments from `numkeys` on: the keys, the end and the count.
fn mpop_args<'a, 'b>(a: &'a [&'b [u8]]) -> Result<(&'a [&'b [u8]], bool, usize), CmdError> {
    let n = match args::redis_int(a[0]) {
        Some(n) if n > 0 => n as usize,
        _ => return Err(CmdError::err("numkeys should be greater than 0")),
    };
    if a.len() < n + 2 {
        return Err(CmdError::syntax());
    }
    let keys = &a[1..=n];
    let left = match end(a[n + 1])? {
        End::Left => true,
        End::Right => false,
    };
    let count = match &a[n + 2..] {
        [] => 1,
        [c, v] if is(c, "COUNT") => match args::redis_int(v) {
            Some(x) if x > 0 => x as usize,
            _ => return Err(CmdError::err("count should be greater than 0")),
        },
        _ => return Err(CmdError::syntax()),
    };
    Ok((keys, left, count))
}

fn mpop(
    ctx: &mut Ctx,
    keys: &[&[u8]],
    verb: &'static str,
    left: bool,
    count: usize,
) -> Result<Option<Reply>, CmdError> {
    let Some(k) = first_ready(ctx, keys, verb)? else {
        return Ok(None);
    };
    let items = pop_now(ctx, &k, verb, left, count)?;
    Ok(Some(Reply::Array(vec![Reply::Bulk(k), list_reply(items)])))
}

pub fn lmpop(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (keys, left, count) = mpop_args(&a[1..])?;
    Ok(mpop(ctx, keys, "LMPOP", left, count)?.unwrap_or(Reply::NullArray))
}

pub fn blmpop(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let wait = timeout(a[1])?;
    let (keys, left, count) = mpop_args(&a[2..])?;
    if let Some(r) = mpop(ctx, keys, "BLMPOP", left, count)? {
        return Ok(r);
    }
    if !ctx.may_wait() {
        return Ok(Reply::NullArray);
    }
    let op = crate::waiting::WaitOp::Pop {
        left,
        count: Some(count),
    };
    Ok(ctx.park(args::owned(keys), op, wait, Reply::NullArray))
}

// ---- Redis's SORT ----

/// What a `BY`/`GET` pattern names for an element: the value of the key the pattern makes
/// (its first `*` replaced by the element), or of a field of it (`key->field`); `#` is the
/// element itself.
fn lookup(ctx: &mut Ctx, pattern: &[u8], element: &[u8]) -> Option<Value> {
    if pattern == b"#" {
        return Some(Value::from_bytes(element));
    }
    let star = pattern.iter().position(|&c| c == b'*')?;
    let mut key = pattern[..star].to_vec();
    key.extend_from_slice(element);
    key.extend_from_slice(&pattern[star + 1..]);
    let arrow = key.windows(2).rposition(|w| w == b"->");
    match arrow {
        Some(at) if at > 0 && at + 2 < key.len() => {
            let f = std::str::from_utf8(&key[at + 2..]).ok()?.to_string();
            let v = ctx.get(&key[..at])?;
            ops::map::get("SORT", v, &f).ok().flatten().cloned()
        }
        _ => ctx.get(&key).filter(|v| v.scalar_text().is_some()).cloned(),
    }
}

/// Redis's `SORT` options after the key, read once for the handler and for the ACL's key
/// finder (crate::commands::keyspec): a repeated `BY` or `STORE` counts its last time.
#[derive(Debug, Default)]
pub(crate) struct SortOptions {
    pub by: Option<Bytes>,
    pub gets: Vec<Bytes>,
    pub limit: Option<(i64, i64)>,
    pub desc: bool,
    pub alpha: bool,
    pub store: Option<Bytes>,
}

pub(crate) fn sort_options(a: &[&[u8]]) -> Result<SortOptions, CmdError> {
    let mut o = SortOptions::default();
    let mut i = 2;
    while i < a.len() {
        let w = &a[i];
        let next = a.get(i + 1);
        if is(w, "ASC") {
            o.desc = false;
        } else if is(w, "DESC") {
            o.desc = true;
        } else if is(w, "ALPHA") {
            o.alpha = true;
        } else if is(w, "LIMIT") && i + 2 < a.len() {
            o.limit = Some((args::int(a[i + 1])?, args::int(a[i + 2])?));
            i += 2;
        } else if let (true, Some(p)) = (is(w, "BY"), next) {
            o.by = Some(Bytes::copy_from_slice(p));
            i += 1;
        } else if let (true, Some(p)) = (is(w, "GET"), next) {
            o.gets.push(Bytes::copy_from_slice(p));
            i += 1;
        } else if let (true, Some(d)) = (is(w, "STORE"), next) {
            o.store = Some(Bytes::copy_from_slice(d));
            i += 1;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    Ok(o)
}

/// Redis's `SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
/// [STORE destination]`: the elements of a list, set or sorted set, sorted as numbers (or as
/// bytes with ALPHA), or by what `BY` names; a sorted copy, or with STORE a list stored in
/// destination (its length).
pub fn sort_copy(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let SortOptions {
        by,
        gets,
        limit,
        desc,
        alpha,
        store,
    } = sort_options(a)?;
    let is_zset = matches!(ctx.get(a[1]), Some(Value::SortedSet(_)));
    let elements: Vec<Value> = match ctx.get(a[1]) {
        None => vec![],
        Some(Value::List(l)) => l.values().collect(),
        Some(Value::Deque(d)) => d.items.values().collect(),
        Some(Value::Set(s)) => s.iter().cloned().collect(),
        Some(Value::SortedSet(z)) => z.iter().map(|(m, _)| Value::str(m)).collect(),
        Some(other) => {
            return Err(ops::wrong_type("SORT", other, Caps::ITERABLE).into());
        }
    };
    let text = |v: &Value| v.scalar_text().map(|t| t.into_owned()).unwrap_or_default();
    let dont_sort = by
        .as_ref()
        .is_some_and(|p| !p.contains(&b'*') || is(p, "NOSORT"));
    let mut keyed: Vec<(Value, Option<Value>)> = Vec::with_capacity(elements.len());
    for e in elements {
        let k = match &by {
            Some(p) if !dont_sort => lookup(ctx, p, &text(&e)),
            _ => Some(e.clone()),
        };
        keyed.push((e, k));
    }
    if !dont_sort {
        if alpha {
            keyed.sort_by(|x, y| {
                let (tx, ty) = (x.1.as_ref().map(text), y.1.as_ref().map(text));
                tx.cmp(&ty)
            });
        } else {
            let mut scored = Vec::with_capacity(keyed.len());
            for (e, k) in keyed {
                let score = match &k {
                    None => 0.0,
                    Some(v) => args::redis_float(&text(v)).ok_or_else(|| {
                        CmdError::err("One or more scores can't be converted into double")
                    })?,
                };
                scored.push((score, e, k));
            }
            scored.sort_by(|x, y| {
                x.0.partial_cmp(&y.0)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then_with(|| text(&x.1).cmp(&text(&y.1)))
            });
            keyed = scored.into_iter().map(|(_, e, k)| (e, k)).collect();
        }
        if desc {
            keyed.reverse();
        }
    } else if desc && is_zset {
        // A sorted set not sorted again keeps its own order, which DESC walks backwards.
        keyed.reverse();
    }
    let mut picked: Vec<Value> = keyed.into_iter().map(|(e, _)| e).collect();
    if let Some((offset, count)) = limit {
        let n = picked.len() as i64;
        let start = offset.clamp(0, n) as usize;
        let end = if count < 0 {
            n
        } else {
            (offset.max(0) + count).min(n)
        } as usize;
        picked = picked
            .get(start..end.max(start))
            .map(<[Value]>::to_vec)
            .unwrap_or_default();
    }
    let mut out: Vec<Option<Value>> = Vec::new();
    for e in &picked {
        if gets.is_empty() {
            out.push(Some(e.clone()));
        }
        for g in &gets {
            out.push(if g.as_ref() == b"#" {
                Some(e.clone())
            } else {
                lookup(ctx, g, &text(e))
            });
        }
    }
    match store {
        Some(dest) => {
            let n = out.len();
            let items: okdb_value::List = out
                .into_iter()
                .map(|v| v.unwrap_or(Value::str("")))
                .collect();
            if n == 0 {
                if let Some(ks) = ctx.ks() {
                    ks.remove(&dest);
                }
            } else {
                ctx.ks_write().set(&dest, Value::List(Box::new(items)));
            }
            Ok(Reply::Int(n as i64))
        }
        None => {
            // A copy changes nothing, so it journals nothing.
            Ok(Reply::Array(
                out.into_iter().map(|v| Reply::value(v.as_ref())).collect(),
            ))
        }
    }
}

/// Redis's `SORT_RO`: `SORT` without `STORE` (a read).
pub fn sort_ro(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if a[2..].iter().any(|x| is(x, "STORE")) {
        return Err(CmdError::syntax());
    }
    sort_copy(ctx, a)
}

#[cfg(test)]
mod tests {
    use super::random_picks;

    #[test]
    fn random_picks_are_distinct_and_uniform() {
        for (len, want) in [(10, 3), (10, 9), (1_000_000, 5), (7, 7), (5, 50)] {
            let picks = random_picks(len, Some(want));
            assert_eq!(picks.len(), (want as usize).min(len), "{len} {want}");
            let mut sorted = picks.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), picks.len(), "distinct: {picks:?}");
            assert!(picks.iter().all(|&p| p < len));
        }
        // Each of 20 positions is picked about 2/20 of the time (Floyd's sampling, 2 of 20).
        let mut seen = [0u32; 20];
        for _ in 0..20_000 {
            for p in random_picks(20, Some(2)) {
                seen[p] += 1;
            }
        }
        assert!(seen.iter().all(|&n| (1600..2400).contains(&n)), "{seen:?}");
        // Negative counts repeat; None is one pick.
        assert_eq!(random_picks(3, Some(-10)).len(), 10);
        assert_eq!(random_picks(3, None).len(), 1);
        assert!(random_picks(0, Some(4)).is_empty());
    }
}
