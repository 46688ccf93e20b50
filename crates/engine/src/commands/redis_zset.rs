//! Redis's sorted-set commands over okdb's `sortedset` (Redis's zset), with Redis's replies and
//! error texts; their meaning is in the operations layer (`okdb_ops::scored`).

use okdb_ops::delta::Delta;
use okdb_ops::scored::{self, AddIf, LexBound, ScoreBound};
use okdb_ops::{self as ops};
use okdb_value::{SmolStr, SortedSet, Value};

use super::collections::{change, field, remove_counted, Empty};
use crate::args::{self, is};
use crate::{CmdError, Ctx, Reply};

fn new_zset() -> Value {
    Value::SortedSet(Box::default())
}

fn member(a: &[u8]) -> Result<SmolStr, CmdError> {
    std::str::from_utf8(a)
        .map(SmolStr::new)
        .map_err(|_| CmdError::err("a sorted set member must be UTF-8 text"))
}

fn score(a: &[u8]) -> Result<f64, CmdError> {
    args::redis_float(a).ok_or_else(|| CmdError::err("value is not a valid float"))
}

fn read<'c>(
    ctx: &'c mut Ctx,
    key: &[u8],
    verb: &'static str,
) -> Result<Option<&'c SortedSet>, CmdError> {
    match ctx.get(key) {
        None => Ok(None),
        Some(v) => Ok(Some(scored::zset(verb, v)?)),
    }
}

/// Members (with scores) as Redis answers them: RESP2 a flat list, RESP3 pairs.
fn scored_reply(items: Vec<(SmolStr, f64)>, withscores: bool, resp3: bool) -> Reply {
    let mut out = Vec::with_capacity(items.len() * (1 + withscores as usize));
    for (m, s) in items {
        match (withscores, resp3) {
            (false, _) => out.push(Reply::text(&m)),
            (true, true) => out.push(Reply::Array(vec![Reply::text(&m), Reply::Double(s)])),
            (true, false) => {
                out.push(Reply::text(&m));
                out.push(Reply::Double(s));
            }
        }
    }
    Reply::Array(out)
}

pub fn zadd(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (mut cond, mut ch, mut incr) = (AddIf::default(), false, false);
    let mut i = 2;
    while i < a.len() {
        let o = &a[i];
        if is(o, "NX") {
            cond.only_new = true;
        } else if is(o, "XX") {
            cond.only_existing = true;
        } else if is(o, "GT") {
            cond.greater = true;
        } else if is(o, "LT") {
            cond.less = true;
        } else if is(o, "CH") {
            ch = true;
        } else if is(o, "INCR") {
            incr = true;
        } else {
            break;
        }
        i += 1;
    }
    let rest = &a[i..];
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(CmdError::syntax());
    }
    if cond.only_new && cond.only_existing {
        return Err(CmdError::err(
            "XX and NX options at the same time are not compatible",
        ));
    }
    if (cond.greater && cond.less) || (cond.only_new && (cond.greater || cond.less)) {
        return Err(CmdError::err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if incr && rest.len() > 2 {
        return Err(CmdError::err(
            "INCR option supports a single increment-element pair",
        ));
    }
    let mut pairs = Vec::with_capacity(rest.len() / 2);
    for p in rest.chunks(2) {
        pairs.push((member(p[1])?, score(p[0])?));
    }
    let create = (!cond.only_existing).then_some(new_zset as fn() -> Value);
    let done = add_pairs(ctx, a[1], "ZADD", create, Empty::Delete, &pairs, cond, incr)?;
    let done = done.unwrap_or_default();
    if incr {
        return Ok(done.last.map_or(Reply::Null, Reply::Double));
    }
    Ok(Reply::Int(
        (done.added + if ch { done.updated } else { 0 }) as i64,
    ))
}

pub fn zincrby(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let pairs = [(member(a[3])?, score(a[2])?)];
    let done = add_pairs(
        ctx,
        a[1],
        "ZINCRBY",
        Some(new_zset),
        Empty::Delete,
        &pairs,
        AddIf::default(),
        true,
    )?;
    Ok(done.and_then(|d| d.last).map_or(Reply::Null, Reply::Double))
}

pub fn zrem(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let ms: Vec<SmolStr> = a[2..].iter().map(|m| member(m)).collect::<Result<_, _>>()?;
    let delta = ctx.recording().then(|| Delta::RemoveScored(ms.clone()));
    let n = remove_counted(ctx, a[1], delta, |v| {
        scored::remove("ZREM", v, ms.iter().map(|m| m.as_str()))
    })?;
    Ok(Reply::Int(n as i64))
}

/// Adds (member, score) pairs under the conditions (`scored::add`); journaled as the scores
/// the named members have afterwards.
#[allow(clippy::too_many_arguments)]
fn add_pairs(
    ctx: &mut Ctx,
    key: &[u8],
    verb: &'static str,
    create: Option<fn() -> Value>,
    empty: Empty,
    pairs: &[(SmolStr, f64)],
    cond: AddIf,
    incr: bool,
) -> Result<Option<scored::Added>, CmdError> {
    change(ctx, key, create, empty, |v| {
        let done = scored::add(verb, v, pairs, cond, incr)?;
        let z = scored::zset(verb, v)?;
        let now: Vec<(SmolStr, f64)> = pairs
            .iter()
            .filter_map(|(m, _)| z.score(m).map(|s| (m.clone(), s)))
            .collect();
        Ok((done, Some(Delta::SetScores(now))))
    })
}

/// Pops up to `count` members from the low or high end; journaled as their removal.
fn pop_scored(
    ctx: &mut Ctx,
    key: &[u8],
    verb: &'static str,
    highest: bool,
    count: usize,
) -> Result<Vec<(SmolStr, f64)>, CmdError> {
    let popped = change(ctx, key, None, Empty::Delete, |v| {
        let p = scored::pop(verb, v, highest, count)?;
        let d = Delta::RemoveScored(p.iter().map(|(m, _)| m.clone()).collect());
        Ok((p, Some(d)))
    })?;
    Ok(popped.unwrap_or_default())
}

pub fn zcard(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(Reply::Int(
        read(ctx, a[1], "ZCARD")?.map_or(0, |z| z.len()) as i64
    ))
}

pub fn zscore(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let m = field(a[2])?.to_string();
    Ok(read(ctx, a[1], "ZSCORE")?
        .and_then(|z| z.score(&m))
        .map_or(Reply::Null, Reply::Double))
}

pub fn zmscore(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let ms: Vec<SmolStr> = a[2..].iter().map(|m| member(m)).collect::<Result<_, _>>()?;
    let z = read(ctx, a[1], "ZMSCORE")?;
    Ok(Reply::Array(
        ms.iter()
            .map(|m| {
                z.and_then(|z| z.score(m))
                    .map_or(Reply::Null, Reply::Double)
            })
            .collect(),
    ))
}

fn rank(ctx: &mut Ctx, a: &[&[u8]], verb: &'static str, rev: bool) -> Result<Reply, CmdError> {
    let m = member(a[2])?;
    let withscore = match a.get(3) {
        None => false,
        Some(w) if is(w, "WITHSCORE") && a.len() == 4 => true,
        Some(_) => return Err(CmdError::syntax()),
    };
    let Some(z) = read(ctx, a[1], verb)? else {
        return Ok(Reply::Null);
    };
    let Some(r) = z.rank(&m) else {
        return Ok(Reply::Null);
    };
    let r = if rev { z.len() - 1 - r } else { r };
    Ok(if withscore {
        Reply::Array(vec![
            Reply::Int(r as i64),
            Reply::Double(z.score(&m).expect("ranked")),
        ])
    } else {
        Reply::Int(r as i64)
    })
}

pub fn zrank(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    rank(ctx, a, "ZRANK", false)
}

pub fn zrevrank(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    rank(ctx, a, "ZREVRANK", true)
}

fn score_bound(a: &[u8]) -> Result<ScoreBound, CmdError> {
    let bad = || CmdError::err("min or max is not a float");
    let (text, exclusive) = match a.strip_prefix(b"(") {
        Some(rest) => (rest, true),
        None => (a, false),
    };
    let score = args::redis_float(text).ok_or_else(bad)?;
    Ok(ScoreBound { score, exclusive })
}

fn lex_bound(a: &[u8]) -> Result<LexBound, CmdError> {
    let bad = || CmdError::err("min or max not valid string range item");
    match a {
        b"-" => Ok(LexBound::Min),
        b"+" => Ok(LexBound::Max),
        [b'[', rest @ ..] => Ok(LexBound::Incl(member(rest).map_err(|_| bad())?)),
        [b'(', rest @ ..] => Ok(LexBound::Excl(member(rest).map_err(|_| bad())?)),
        _ => Err(bad()),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum By {
    Rank,
    Score,
    Lex,
}

/// Positions `[x, y)` in ascending order selected by a range, and whether the reply walks them
/// backwards.
fn select(
    z: &SortedSet,
    by: By,
    rev: bool,
    min: &[u8],
    max: &[u8],
) -> Result<(usize, usize), CmdError> {
    Ok(match by {
        By::Rank => {
            let (start, stop) = (args::int(min)?, args::int(max)?);
            match okdb_ops::seq::redis_range(z.len(), start, stop) {
                None => (0, 0),
                Some((x, y)) if rev => (z.len() - y, z.len() - x),
                Some(r) => r,
            }
        }
        By::Score => {
            // REV takes max first.
            let (lo, hi) = if rev { (max, min) } else { (min, max) };
            scored::by_score(z, score_bound(lo)?, score_bound(hi)?)
        }
        By::Lex => {
            let (lo, hi) = if rev { (max, min) } else { (min, max) };
            scored::by_lex(z, &lex_bound(lo)?, &lex_bound(hi)?)
        }
    })
}

/// The members at `[x, y)`, walked forwards or backwards, after `offset`, at most `count`
/// (negative: all).
fn take(
    z: &SortedSet,
    (x, y): (usize, usize),
    rev: bool,
    offset: i64,
    count: i64,
) -> Vec<(SmolStr, f64)> {
    if offset < 0 || x >= y {
        return vec![];
    }
    let n = y - x;
    let offset = (offset as usize).min(n);
    let count = if count < 0 {
        n
    } else {
        (count as usize).min(n - offset)
    };
    if rev {
        let mut items = z.range(y - offset - count, y - offset);
        items.reverse();
        items
    } else {
        z.range(x + offset, x + offset + count)
    }
}

struct RangeArgs {
    by: By,
    rev: bool,
    limit: Option<(i64, i64)>,
    withscores: bool,
}

fn range_options(opts: &[&[u8]], mut r: RangeArgs, allow_by: bool) -> Result<RangeArgs, CmdError> {
    let mut i = 0;
    while i < opts.len() {
        let o = &opts[i];
        if allow_by && is(o, "BYSCORE") {
            r.by = By::Score;
        } else if allow_by && is(o, "BYLEX") {
            r.by = By::Lex;
        } else if allow_by && is(o, "REV") {
            r.rev = true;
        } else if is(o, "WITHSCORES") {
            r.withscores = true;
        } else if is(o, "LIMIT") && opts.len() >= i + 3 {
            r.limit = Some((args::int(opts[i + 1])?, args::int(opts[i + 2])?));
            i += 2;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    if r.limit.is_some() && r.by == By::Rank {
        return Err(CmdError::err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if r.withscores && r.by == By::Lex {
        return Err(CmdError::err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    Ok(r)
}

fn range_reply(
    ctx: &mut Ctx,
    verb: &'static str,
    key: &[u8],
    min: &[u8],
    max: &[u8],
    r: RangeArgs,
) -> Result<Reply, CmdError> {
    let resp3 = ctx.session.proto >= 3;
    let Some(z) = read(ctx, key, verb)? else {
        // Bounds are still checked, as Redis does.
        let empty = SortedSet::new();
        select(&empty, r.by, r.rev, min, max)?;
        return Ok(Reply::Array(vec![]));
    };
    let span = select(z, r.by, r.rev, min, max)?;
    let (offset, count) = r.limit.unwrap_or((0, -1));
    Ok(scored_reply(
        take(z, span, r.rev, offset, count),
        r.withscores,
        resp3,
    ))
}

const PLAIN: RangeArgs = RangeArgs {
    by: By::Rank,
    rev: false,
    limit: None,
    withscores: false,
};

pub fn zrange(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let r = range_options(&a[4..], PLAIN, true)?;
    range_reply(ctx, "ZRANGE", a[1], a[2], a[3], r)
}

/// The legacy range spellings (`ZREVRANGE`, `ZRANGEBYSCORE`, …): a fixed kind and direction,
/// only `WITHSCORES` and `LIMIT` as options.
fn legacy_range(
    ctx: &mut Ctx,
    a: &[&[u8]],
    verb: &'static str,
    by: By,
    rev: bool,
) -> Result<Reply, CmdError> {
    let r = range_options(&a[4..], RangeArgs { by, rev, ..PLAIN }, false)?;
    range_reply(ctx, verb, a[1], a[2], a[3], r)
}

pub fn zrevrange(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    legacy_range(ctx, a, "ZREVRANGE", By::Rank, true)
}

pub fn zrangebyscore(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    legacy_range(ctx, a, "ZRANGEBYSCORE", By::Score, false)
}

pub fn zrevrangebyscore(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    legacy_range(ctx, a, "ZREVRANGEBYSCORE", By::Score, true)
}

pub fn zrangebylex(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    legacy_range(ctx, a, "ZRANGEBYLEX", By::Lex, false)
}

pub fn zrevrangebylex(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    legacy_range(ctx, a, "ZREVRANGEBYLEX", By::Lex, true)
}

pub fn zcount(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (min, max) = (score_bound(a[2])?, score_bound(a[3])?);
    Ok(Reply::Int(read(ctx, a[1], "ZCOUNT")?.map_or(0, |z| {
        let (x, y) = scored::by_score(z, min, max);
        y - x
    }) as i64))
}

pub fn zlexcount(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (min, max) = (lex_bound(a[2])?, lex_bound(a[3])?);
    Ok(Reply::Int(read(ctx, a[1], "ZLEXCOUNT")?.map_or(0, |z| {
        let (x, y) = scored::by_lex(z, &min, &max);
        y - x
    }) as i64))
}

fn remrange(ctx: &mut Ctx, a: &[&[u8]], verb: &'static str, by: By) -> Result<Reply, CmdError> {
    if by != By::Rank {
        select(&SortedSet::new(), by, false, a[2], a[3])?;
    }
    let n = change(ctx, a[1], None, Empty::Delete, |v| {
        let span = select(scored::zset(verb, v)?, by, false, a[2], a[3])
            .map_err(|e| ops::OpError::Invalid(e.message))?;
        let d = Delta::RemoveRanks {
            start: span.0,
            stop: span.1,
        };
        Ok((scored::remove_range(verb, v, span.0, span.1)?, Some(d)))
    })?;
    Ok(Reply::Int(n.unwrap_or(0) as i64))
}

pub fn zremrangebyrank(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    args::int(a[2])?;
    args::int(a[3])?;
    remrange(ctx, a, "ZREMRANGEBYRANK", By::Rank)
}

pub fn zremrangebyscore(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    remrange(ctx, a, "ZREMRANGEBYSCORE", By::Score)
}

pub fn zremrangebylex(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    remrange(ctx, a, "ZREMRANGEBYLEX", By::Lex)
}

fn zpop(ctx: &mut Ctx, a: &[&[u8]], verb: &'static str, highest: bool) -> Result<Reply, CmdError> {
    if a.len() > 3 {
        return Err(CmdError::syntax());
    }
    let count = match a.get(2) {
        None => None,
        Some(c) => match args::redis_int(c) {
            Some(n) if n >= 0 => Some(n as usize),
            _ => return Err(CmdError::err("value is out of range, must be positive")),
        },
    };
    let resp3 = ctx.session.proto >= 3;
    let popped = pop_scored(ctx, a[1], verb, highest, count.unwrap_or(1))?;
    if count.is_none() && resp3 {
        // One member: [member, score], flat.
        return Ok(Reply::Array(
            popped
                .into_iter()
                .flat_map(|(m, s)| [Reply::text(&m), Reply::Double(s)])
                .collect(),
        ));
    }
    Ok(scored_reply(popped, true, resp3 && count.is_some()))
}

pub fn zpopmin(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    zpop(ctx, a, "ZPOPMIN", false)
}

pub fn zpopmax(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    zpop(ctx, a, "ZPOPMAX", true)
}

fn bzpop(ctx: &mut Ctx, a: &[&[u8]], verb: &'static str, highest: bool) -> Result<Reply, CmdError> {
    let wait = super::redis_types::timeout(a[a.len() - 1])?;
    let keys = &a[1..a.len() - 1];
    for k in keys {
        let Some(z) = read(ctx, k, verb)? else {
            continue;
        };
        if z.is_empty() {
            continue;
        }
        let (m, s) = pop_scored(ctx, k, verb, highest, 1)?
            .pop()
            .expect("a non-empty sorted set");
        return Ok(Reply::Array(vec![
            Reply::bulk(k),
            Reply::text(&m),
            Reply::Double(s),
        ]));
    }
    if !ctx.may_wait() {
        return Ok(Reply::NullArray);
    }
    let op = crate::waiting::WaitOp::ZPop { highest };
    Ok(ctx.park(args::owned(keys), op, wait, Reply::NullArray))
}

pub fn bzpopmin(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    bzpop(ctx, a, "BZPOPMIN", false)
}

pub fn bzpopmax(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    bzpop(ctx, a, "BZPOPMAX", true)
}

pub fn zrandmember(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let count = match a.get(2) {
        None => None,
        Some(c) => {
            let n = args::int(c)?;
            if n < -(i64::MAX / 2) || n.unsigned_abs() > 1 << 27 {
                return Err(CmdError::err("value is out of range"));
            }
            Some(n)
        }
    };
    let withscores = match a.get(3) {
        None => false,
        Some(w) if is(w, "WITHSCORES") && a.len() == 4 => true,
        Some(_) => return Err(CmdError::syntax()),
    };
    let resp3 = ctx.session.proto >= 3;
    let Some(z) = read(ctx, a[1], "ZRANDMEMBER")? else {
        return Ok(if count.is_some() {
            Reply::Array(vec![])
        } else {
            Reply::Null
        });
    };
    let n = z.len();
    if n == 0 {
        return Ok(Reply::Null);
    }
    let picks: Vec<usize> = match count {
        None => vec![fastrand::usize(..n)],
        Some(c) if c < 0 => (0..c.unsigned_abs())
            .map(|_| fastrand::usize(..n))
            .collect(),
        Some(c) => {
            let mut all: Vec<usize> = (0..n).collect();
            fastrand::shuffle(&mut all);
            all.truncate((c as usize).min(n));
            all
        }
    };
    let items: Vec<(SmolStr, f64)> = picks
        .into_iter()
        .map(|i| {
            let (m, s) = z.get(i).expect("a position in the set");
            (m.clone(), s)
        })
        .collect();
    if count.is_none() {
        return Ok(Reply::text(&items[0].0));
    }
    Ok(scored_reply(items, withscores, resp3))
}

pub fn zscan(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let z = read(ctx, a[1], "ZSCAN")?;
    let len = z.map_or(0, SortedSet::len);
    super::redis_types::scan_window(a, false, len, |start, end| match z {
        None => vec![],
        Some(z) => z
            .range(start, end)
            .into_iter()
            .map(|(m, s)| {
                (
                    m.as_bytes().to_vec(),
                    Reply::text(&m),
                    Some(Reply::Double(s)),
                )
            })
            .collect(),
    })
}

// ---- okdb's native verbs over sorted sets ----

/// `SCORE key member`: a member's score; null if absent.
pub fn score_(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let m = member(a[2])?;
    Ok(read(ctx, a[1], "SCORE")?
        .and_then(|z| z.score(&m))
        .map_or(Reply::Null, Reply::Double))
}

/// `RANK key member [REVERSE]`: a member's position, lowest score first (highest with
/// REVERSE); null if absent.
pub fn rank_(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let rev = match a.get(3) {
        None => false,
        Some(r) if is(r, "REVERSE") && a.len() == 4 => true,
        Some(_) => return Err(CmdError::syntax()),
    };
    let m = member(a[2])?;
    let Some(z) = read(ctx, a[1], "RANK")? else {
        return Ok(Reply::Null);
    };
    Ok(z.rank(&m).map_or(Reply::Null, |r| {
        Reply::Int(if rev { z.len() - 1 - r } else { r } as i64)
    }))
}

/// `RANGE key start stop [BYSCORE] [REVERSE] [LIMIT offset count] [WITHSCORES]`: members by
/// rank (inclusive, negative from the end) or by score (`(x` exclusive, `-inf`, `+inf`);
/// REVERSE walks from the highest score (and takes `max min` with BYSCORE).
pub fn range_(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut r = PLAIN;
    let mut i = 4;
    while i < a.len() {
        if is(a[i], "BYSCORE") {
            r.by = By::Score;
        } else if is(a[i], "REVERSE") {
            r.rev = true;
        } else if is(a[i], "WITHSCORES") {
            r.withscores = true;
        } else if is(a[i], "LIMIT") && a.len() >= i + 3 {
            r.limit = Some((args::int(a[i + 1])?, args::int(a[i + 2])?));
            i += 2;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    let resp3 = ctx.session.proto >= 3;
    let Some(z) = read(ctx, a[1], "RANGE")? else {
        return Ok(Reply::Array(vec![]));
    };
    let span = select(z, r.by, r.rev, a[2], a[3])?;
    let (offset, count) = r.limit.unwrap_or((0, -1));
    let items = take(z, span, r.rev, offset, count);
    if !r.withscores {
        return Ok(scored_reply(items, false, resp3));
    }
    // Native replies pair each member with its score in both protocols.
    Ok(Reply::Array(
        items
            .into_iter()
            .map(|(m, s)| Reply::Array(vec![Reply::text(&m), Reply::Double(s)]))
            .collect(),
    ))
}

/// `ADD key member score [member score ...]` on a sorted set.
pub(crate) fn add_scored(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if !a.len().is_multiple_of(2) {
        return Err(CmdError::err("ADD to a sortedset takes member score pairs"));
    }
    let mut pairs = Vec::with_capacity(a.len() / 2 - 1);
    for p in a[2..].chunks(2) {
        pairs.push((member(p[0])?, score(p[1])?));
    }
    let done = add_pairs(
        ctx,
        a[1],
        "ADD",
        None,
        Empty::Keep,
        &pairs,
        AddIf::default(),
        false,
    )?;
    Ok(Reply::Int(done.map_or(0, |d| d.added) as i64))
}

// ---- combining ----

/// A sorted set's or a set's members with scores (a set's score 1), for the combining
/// commands; WRONGTYPE for anything else.
fn scored_input(
    ctx: &mut Ctx,
    key: &[u8],
    verb: &'static str,
) -> Result<Vec<(SmolStr, f64)>, CmdError> {
    Ok(match ctx.get(key) {
        None => vec![],
        Some(Value::SortedSet(z)) => z.iter().map(|(m, s)| (m.clone(), s)).collect(),
        Some(Value::Set(s)) => s
            .iter()
            .map(|m| {
                let text = m
                    .scalar_text()
                    .map(|t| String::from_utf8_lossy(&t).into_owned());
                (SmolStr::new(text.unwrap_or_default()), 1.0)
            })
            .collect(),
        Some(other) => {
            return Err(ops::wrong_type(verb, other, okdb_value::types::Caps::SCORED).into())
        }
    })
}

struct Combined {
    set: SortedSet,
    withscores: bool,
    limit: usize,
}

/// Parses and runs `numkeys key … [WEIGHTS …] [AGGREGATE …] [WITHSCORES] [LIMIT n]` from
/// `a[0]` (the numkeys argument), as Redis's `zunionInterDiffGenericCommand` does.
fn combined(
    ctx: &mut Ctx,
    a: &[&[u8]],
    verb: &'static str,
    how: okdb_ops::members::Combine,
    store: bool,
    card_only: bool,
) -> Result<Combined, CmdError> {
    use okdb_ops::members::Combine;
    let n = args::int(a[0])?;
    if n < 1 {
        return Err(CmdError::err(format!(
            "at least 1 input key is needed for '{}' command",
            verb.to_ascii_lowercase()
        )));
    }
    let n = n as usize;
    if n > a.len() - 1 {
        return Err(CmdError::syntax());
    }
    let keys = &a[1..=n];
    let mut inputs = Vec::with_capacity(n);
    for k in keys {
        inputs.push(scored_input(ctx, k, verb)?);
    }
    let (mut weights, mut agg, mut withscores, mut limit) =
        (vec![1.0; n], scored::Aggregate::Sum, false, 0usize);
    let mut j = n + 1;
    while j < a.len() {
        let remaining = a.len() - j;
        let o = &a[j];
        if how != Combine::Diff && !card_only && remaining > n && is(o, "WEIGHTS") {
            for (i, w) in weights.iter_mut().enumerate() {
                *w = args::redis_float(a[j + 1 + i])
                    .ok_or_else(|| CmdError::err("weight value is not a float"))?;
            }
            j += n + 1;
        } else if how != Combine::Diff && !card_only && remaining >= 2 && is(o, "AGGREGATE") {
            agg = if is(a[j + 1], "SUM") {
                scored::Aggregate::Sum
            } else if is(a[j + 1], "MIN") {
                scored::Aggregate::Min
            } else if is(a[j + 1], "MAX") {
                scored::Aggregate::Max
            } else {
                return Err(CmdError::syntax());
            };
            j += 2;
        } else if !store && !card_only && is(o, "WITHSCORES") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && is(o, "LIMIT") {
            limit = match args::redis_int(a[j + 1]) {
                Some(l) if l >= 0 => l as usize,
                _ => return Err(CmdError::err("LIMIT can't be negative")),
            };
            j += 2;
        } else {
            return Err(CmdError::syntax());
        }
    }
    Ok(Combined {
        set: scored::combine(how, &inputs, &weights, agg),
        withscores,
        limit,
    })
}

fn combine_reply(
    ctx: &mut Ctx,
    a: &[&[u8]],
    verb: &'static str,
    how: okdb_ops::members::Combine,
) -> Result<Reply, CmdError> {
    let c = combined(ctx, &a[1..], verb, how, false, false)?;
    let resp3 = ctx.session.proto >= 3;
    let items = c.set.range(0, c.set.len());
    Ok(scored_reply(items, c.withscores, resp3))
}

fn combine_store(
    ctx: &mut Ctx,
    a: &[&[u8]],
    verb: &'static str,
    how: okdb_ops::members::Combine,
) -> Result<Reply, CmdError> {
    let c = combined(ctx, &a[2..], verb, how, true, false)?;
    Ok(Reply::Int(store_set(ctx, a[1], c.set) as i64))
}

/// Stores a result set in `dest` (an empty one deletes it); its size.
fn store_set(ctx: &mut Ctx, dest: &[u8], z: SortedSet) -> usize {
    let n = z.len();
    if n == 0 {
        if let Some(ks) = ctx.ks() {
            ks.remove(dest);
        }
    } else {
        ctx.ks_write().set(dest, Value::SortedSet(Box::new(z)));
    }
    n
}

pub fn zunion(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    combine_reply(ctx, a, "ZUNION", okdb_ops::members::Combine::Union)
}

pub fn zinter(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    combine_reply(ctx, a, "ZINTER", okdb_ops::members::Combine::Intersect)
}

pub fn zdiff(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    combine_reply(ctx, a, "ZDIFF", okdb_ops::members::Combine::Diff)
}

pub fn zunionstore(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    combine_store(ctx, a, "ZUNIONSTORE", okdb_ops::members::Combine::Union)
}

pub fn zinterstore(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    combine_store(ctx, a, "ZINTERSTORE", okdb_ops::members::Combine::Intersect)
}

pub fn zdiffstore(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    combine_store(ctx, a, "ZDIFFSTORE", okdb_ops::members::Combine::Diff)
}

pub fn zintercard(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let c = combined(
        ctx,
        &a[1..],
        "ZINTERCARD",
        okdb_ops::members::Combine::Intersect,
        false,
        true,
    )?;
    let n = c.set.len();
    Ok(Reply::Int(
        if c.limit > 0 { n.min(c.limit) } else { n } as i64
    ))
}

/// `ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]`.
pub fn zrangestore(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let r = range_options(&a[5..], PLAIN, true)?;
    if r.withscores {
        return Err(CmdError::syntax());
    }
    let items = match read(ctx, a[2], "ZRANGESTORE")? {
        None => {
            select(&SortedSet::new(), r.by, r.rev, a[3], a[4])?;
            vec![]
        }
        Some(z) => {
            let span = select(z, r.by, r.rev, a[3], a[4])?;
            let (offset, count) = r.limit.unwrap_or((0, -1));
            take(z, span, r.rev, offset, count)
        }
    };
    let z: SortedSet = items.into_iter().collect();
    Ok(Reply::Int(store_set(ctx, a[1], z) as i64))
}

/// `ZMPOP`/`BZMPOP`'s arguments from numkeys on: keys, highest?, count.
fn zmpop_args<'a, 'b>(a: &'a [&'b [u8]]) -> Result<(&'a [&'b [u8]], bool, usize), CmdError> {
    let n = match args::redis_int(a[0]) {
        Some(n) if n > 0 => n as usize,
        _ => return Err(CmdError::err("numkeys should be greater than 0")),
    };
    if a.len() < n + 2 {
        return Err(CmdError::syntax());
    }
    let highest = if is(a[n + 1], "MIN") {
        false
    } else if is(a[n + 1], "MAX") {
        true
    } else {
        return Err(CmdError::syntax());
    };
    let count = match &a[n + 2..] {
        [] => 1,
        [c, v] if is(c, "COUNT") => match args::redis_int(v) {
            Some(x) if x > 0 => x as usize,
            _ => return Err(CmdError::err("count should be greater than 0")),
        },
        _ => return Err(CmdError::syntax()),
    };
    Ok((&a[1..=n], highest, count))
}

fn zmpop_now(
    ctx: &mut Ctx,
    keys: &[&[u8]],
    verb: &'static str,
    highest: bool,
    count: usize,
) -> Result<Option<Reply>, CmdError> {
    let resp3 = ctx.session.proto >= 3;
    for k in keys {
        let Some(z) = read(ctx, k, verb)? else {
            continue;
        };
        if z.is_empty() {
            continue;
        }
        let popped = pop_scored(ctx, k, verb, highest, count)?;
        let pairs = Reply::Array(
            popped
                .into_iter()
                .map(|(m, s)| Reply::Array(vec![Reply::text(&m), Reply::Double(s)]))
                .collect(),
        );
        let _ = resp3;
        return Ok(Some(Reply::Array(vec![Reply::bulk(k), pairs])));
    }
    Ok(None)
}

pub fn zmpop(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (keys, highest, count) = zmpop_args(&a[1..])?;
    Ok(zmpop_now(ctx, keys, "ZMPOP", highest, count)?.unwrap_or(Reply::NullArray))
}

pub fn bzmpop(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let wait = super::redis_types::timeout(a[1])?;
    let (keys, highest, count) = zmpop_args(&a[2..])?;
    if let Some(r) = zmpop_now(ctx, keys, "BZMPOP", highest, count)? {
        return Ok(r);
    }
    if !ctx.may_wait() {
        return Ok(Reply::NullArray);
    }
    let op = crate::waiting::WaitOp::ZMPop { highest, count };
    Ok(ctx.park(args::owned(keys), op, wait, Reply::NullArray))
}
