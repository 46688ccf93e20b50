//! okdb's native verbs over containers and sequences (lists, dicts, sets, strings, bytes), and
//! the one helper every container write goes through ([`write`]).
//!
//! Each handler reads its arguments and calls the operations layer (`okdb-ops`), where the
//! meaning of every verb lives. Native verbs keep a container that becomes empty (an empty list
//! is a value like any other); Redis's list, hash and set commands delete it, as Redis does
//! (`redis_types.rs`).

use okdb_ops::delta::Delta;
use okdb_ops::members::Combine;
use okdb_ops::seq::End;
use okdb_ops::{self as ops, OpError};
use okdb_value::types::Caps;
use okdb_value::{SmolStr, Value};

use crate::args::{self, is};
use crate::{CmdError, Ctx, Reply};

/// What a write does about a container left empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Empty {
    /// Keep it (native verbs).
    Keep,
    /// Delete the key (Redis's commands: an empty list, hash or set does not exist).
    Delete,
}

/// Runs `f` on the value of `key` in the current keyspace, to change it. A missing key is
/// created from `create` (and stored only if `f` succeeds and leaves it non-empty), or, without
/// `create`, `f` does not run and the answer is None. An error from `f` has changed nothing.
pub(crate) fn write<R>(
    ctx: &mut Ctx,
    key: &[u8],
    create: Option<fn() -> Value>,
    empty: Empty,
    f: impl FnOnce(&mut Value) -> ops::Result<R>,
) -> Result<Option<R>, CmdError> {
    let now = ctx.now;
    if let Some(entry) = ctx.ks().and_then(|ks| ks.entry_mut(key, now)) {
        let r = f(&mut entry.value)?;
        let gone = empty == Empty::Delete && is_empty_container(&entry.value);
        if gone {
            ctx.ks().expect("found above").remove(key);
        }
        return Ok(Some(r));
    }
    let Some(create) = create else {
        return Ok(None);
    };
    let mut v = create();
    let r = f(&mut v)?;
    if !(empty == Empty::Delete && is_empty_container(&v)) {
        ctx.ks_write().set(key, v);
    }
    Ok(Some(r))
}

/// As [`write`], for a change `f` also describes as a delta (crate::effects), which the journal
/// keeps instead of the value.
pub(crate) fn change<R, D: IntoIterator<Item = Delta>>(
    ctx: &mut Ctx,
    key: &[u8],
    create: Option<fn() -> Value>,
    empty: Empty,
    f: impl FnOnce(&mut Value) -> ops::Result<(R, D)>,
) -> Result<Option<R>, CmdError> {
    let mut deltas = None;
    let r = write(ctx, key, create, empty, |v| {
        let (r, d) = f(v)?;
        deltas = Some(d);
        Ok(r)
    })?;
    for d in deltas.into_iter().flatten() {
        ctx.delta(key, d);
    }
    Ok(r)
}

/// As [`write`], for a change that is exactly `delta` when the key exists.
pub(crate) fn write_as<R>(
    ctx: &mut Ctx,
    key: &[u8],
    create: Option<fn() -> Value>,
    empty: Empty,
    delta: Option<Delta>,
    f: impl FnOnce(&mut Value) -> ops::Result<R>,
) -> Result<Option<R>, CmdError> {
    let r = write(ctx, key, create, empty, f)?;
    if let (Some(_), Some(delta)) = (&r, delta) {
        ctx.delta(key, delta);
    }
    Ok(r)
}

/// As [`write_as`], for a removal that answers how many it removed: removing nothing changes
/// nothing (no effect, no notification), as in Redis.
pub(crate) fn remove_counted(
    ctx: &mut Ctx,
    key: &[u8],
    delta: Option<Delta>,
    f: impl FnOnce(&mut Value) -> ops::Result<usize>,
) -> Result<usize, CmdError> {
    let n = write(ctx, key, None, Empty::Delete, f)?.unwrap_or(0);
    let now = ctx.now;
    if n > 0 {
        if let Some(delta) = delta {
            ctx.delta(key, delta);
        }
    } else if ctx.ks().is_some_and(|ks| ks.peek(key, now).is_some()) {
        // (An empty container okdb's own verbs left is deleted by this removal all the same:
        // that is a change.)
        ctx.unchanged(key);
    }
    Ok(n)
}

pub(crate) fn is_empty_container(v: &Value) -> bool {
    matches!(
        v,
        Value::List(_)
            | Value::Dict(_)
            | Value::Set(_)
            | Value::SortedSet(_)
            | Value::Deque(_)
            | Value::PQueue(_)
    ) && v.is_empty()
}

pub(crate) fn new_list() -> Value {
    Value::list([])
}

pub(crate) fn new_dict() -> Value {
    Value::Dict(Default::default())
}

pub(crate) fn new_set() -> Value {
    Value::Set(Default::default())
}

/// The values of arguments, under the connection's literal mode.
pub(crate) fn values(ctx: &Ctx, a: &[&[u8]]) -> Result<Vec<Value>, CmdError> {
    // A loop into a vector of the right size (see `values::set_pairs`).
    let mut out = Vec::with_capacity(a.len());
    for x in a {
        out.push(ctx.value(x)?);
    }
    Ok(out)
}

/// A dict field from an argument: text (dict keys are strings).
pub(crate) fn field(a: &[u8]) -> Result<&str, CmdError> {
    std::str::from_utf8(a)
        .map_err(|_| CmdError::err("a dict field (hash field) must be UTF-8 text"))
}

/// A list of values as a reply (each typed in RESP3, strings raw in RESP2).
pub(crate) fn list_reply(items: impl IntoIterator<Item = Value>) -> Reply {
    Reply::Values(Box::new(crate::reply::ListRange::all(
        items.into_iter().collect(),
    )))
}

/// An optional slice bound: an int, or `None`/`null`/empty for Python's omitted bound.
fn bound(a: &[u8]) -> Result<Option<i64>, CmdError> {
    if a.is_empty() || a.eq_ignore_ascii_case(b"none") || a == b"null" {
        return Ok(None);
    }
    args::int(a).map(Some)
}

// ---- sequences ----

/// `LEN key [key ...]`: one length, or a list of lengths (0 for a missing key).
pub fn len(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut one = |k: &[u8]| -> Result<i64, CmdError> {
        match ctx.get(k) {
            None => Ok(0),
            Some(v) => Ok(ops::len("LEN", v)? as i64),
        }
    };
    if a.len() == 2 {
        return Ok(Reply::Int(one(a[1])?));
    }
    let mut out = Vec::with_capacity(a.len() - 1);
    for k in &a[1..] {
        out.push(Reply::Int(one(k)?));
    }
    Ok(Reply::Array(out))
}

/// `POP key [index]`: a list's last item (or the item at the index), a set's least member;
/// null when the key is missing or the container empty. The container stays, even empty.
pub fn pop(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if let Some(r) = waiting_pop(ctx, a, false)? {
        return Ok(r);
    }
    if a.len() > 3 {
        return Err(CmdError::syntax());
    }
    let at = a.get(2).map(|x| args::int(x)).transpose()?;
    // Each arm answers the item popped and, when it popped one, the delta that took it.
    let popped = change(ctx, a[1], None, Empty::Keep, |v| match (v, at) {
        (Value::Set(s), None) => {
            let m = s.remove_min();
            let d = m.clone().map(|m| Delta::DiscardMembers(vec![m]));
            Ok((m, d))
        }
        (v @ Value::PQueue(_), None) => {
            let p = ops::queue::pop("POP", v)?;
            let d = p.is_some().then_some(Delta::QueuePop { count: 1 });
            Ok((p.map(|(priority, item)| Value::list([priority, item])), d))
        }
        (v @ Value::SortedSet(_), None) => {
            let p = ops::scored::pop("POP", v, false, 1)?.pop();
            let d = p
                .as_ref()
                .map(|(m, _)| Delta::RemoveScored(vec![m.clone()]));
            Ok((
                p.map(|(m, s)| Value::list([Value::str(&m), Value::Float(s)])),
                d,
            ))
        }
        (v @ (Value::Set(_) | Value::SortedSet(_) | Value::PQueue(_)), Some(_)) => Err(
            OpError::Invalid(format!("POP of a {} takes no index", v.type_name())),
        ),
        (v, None) => {
            let p = ops::seq::pop("POP", v, End::Right, 1)?.pop();
            let end = End::Right;
            Ok((p.clone(), p.map(|_| Delta::Pop { end, count: 1 })))
        }
        (v @ Value::List(_), Some(_)) if v.is_empty() => Ok((None, None)),
        (v, Some(i)) => Ok((
            Some(ops::seq::pop_at("POP", v, i)?),
            Some(Delta::DeleteAt { index: i }),
        )),
    })?;
    Ok(Reply::value(popped.flatten().as_ref()))
}

/// `POP key [key ...] WAIT seconds` (and `POPLEFT`): `[key, item]` from the first of the
/// lists that holds an item, else waits up to `seconds` (0: forever) for a write to feed one,
/// first come first served; null on timeout. None when the command has no `WAIT`.
fn waiting_pop(ctx: &mut Ctx, a: &[&[u8]], left: bool) -> Result<Option<Reply>, CmdError> {
    let n = a.len();
    if n < 4 || !is(a[n - 2], "WAIT") {
        return Ok(None);
    }
    let verb = if left { "POPLEFT" } else { "POP" };
    let wait = super::redis_types::timeout(a[n - 1])?;
    let keys = &a[1..n - 2];
    for k in keys {
        let Some(v) = ctx.get(k) else { continue };
        // A pqueue waits for `POP` (its lowest priority), not `POPLEFT`.
        if !(v.can(Caps::ENDS) || (!left && v.can(Caps::PRIORITY))) {
            return Err(ops::wrong_type(verb, v, Caps::ENDS).into());
        }
        if v.is_empty() {
            continue;
        }
        let end = if left { End::Left } else { End::Right };
        let item = change(ctx, k, None, Empty::Keep, |v| match v {
            Value::PQueue(_) => Ok((
                ops::queue::pop(verb, v)?.map(|(p, x)| Value::list([p, x])),
                Some(Delta::QueuePop { count: 1 }),
            )),
            v => Ok((
                ops::seq::pop(verb, v, end, 1)?.pop(),
                Some(Delta::Pop { end, count: 1 }),
            )),
        })?;
        let item = item.flatten();
        return Ok(Some(Reply::Array(vec![
            Reply::bulk(k),
            Reply::value(item.as_ref()),
        ])));
    }
    if !ctx.may_wait() {
        return Ok(Some(Reply::Null));
    }
    let op = crate::waiting::WaitOp::Native { left };
    Ok(Some(ctx.park(
        crate::args::owned(keys),
        op,
        wait,
        Reply::Null,
    )))
}

/// `POPLEFT key`: a list's first item; null when missing or empty.
pub fn popleft(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if let Some(r) = waiting_pop(ctx, a, true)? {
        return Ok(r);
    }
    if a.len() > 2 {
        return Err(CmdError::syntax());
    }
    let popped = change(ctx, a[1], None, Empty::Keep, |v| {
        let p = ops::seq::pop("POPLEFT", v, End::Left, 1)?;
        let d = (!p.is_empty()).then_some(Delta::Pop {
            end: End::Left,
            count: 1,
        });
        Ok((p, d))
    })?;
    Ok(Reply::value(popped.and_then(|mut p| p.pop()).as_ref()))
}

/// `PUSHLEFT key value [value ...]`: onto the front of a list, each in turn (created if
/// missing); the new length.
pub fn pushleft(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let items = values(ctx, &a[2..])?;
    let delta = ctx.recording().then(|| Delta::Push {
        end: End::Left,
        items: items.clone(),
    });
    let n = write_as(ctx, a[1], Some(new_list), Empty::Keep, delta, |v| {
        ops::seq::push("PUSHLEFT", v, End::Left, items)
    })?;
    Ok(Reply::Int(n.unwrap_or(0) as i64))
}

/// `INSERT key index value`: before the index, as Python's `list.insert`; into a string, its
/// text. The new length; a missing key is 0 and stays missing.
pub fn insert(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let i = args::int(a[2])?;
    let x = ctx.value(a[3])?;
    let delta = ctx.recording().then(|| Delta::Insert {
        index: i,
        value: x.clone(),
    });
    let n = write_as(ctx, a[1], None, Empty::Keep, delta, |v| {
        ops::seq::insert("INSERT", v, i, x)
    })?;
    Ok(Reply::Int(n.unwrap_or(0) as i64))
}

/// `key start stop [step]` of GETSLICE and DELSLICE.
fn slice_args(a: &[&[u8]]) -> Result<(Option<i64>, Option<i64>, i64), CmdError> {
    if a.len() > 5 {
        return Err(CmdError::syntax());
    }
    let step = match a.get(4) {
        Some(s) => args::int(s)?,
        None => 1,
    };
    Ok((bound(a[2])?, bound(a[3])?, step))
}

/// `GETSLICE key start stop [step]`: `v[start:stop:step]`, of the value's type.
pub fn getslice(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (start, stop, step) = slice_args(a)?;
    match ctx.get(a[1]) {
        None => Ok(Reply::Null),
        Some(v) => Ok(Reply::Value(ops::seq::slice(
            "GETSLICE", v, start, stop, step,
        )?)),
    }
}

/// `SETSLICE key start stop value`: replaces `v[start:stop]` with the items of a list, or the
/// text of a string. OK.
pub fn setslice(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (start, stop) = (bound(a[2])?, bound(a[3])?);
    let with = ctx.value(a[4])?;
    let delta = ctx.recording().then(|| Delta::Splice {
        start,
        stop,
        with: with.clone(),
    });
    match write_as(ctx, a[1], None, Empty::Keep, delta, |v| {
        ops::seq::splice("SETSLICE", v, start, stop, with)
    })? {
        Some(()) => Ok(Reply::Ok),
        None => Err(CmdError::err("no such key")),
    }
}

/// `DELSLICE key start stop [step]`: removes `v[start:stop:step]`; how many items went.
pub fn delslice(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (start, stop, step) = slice_args(a)?;
    let delta = ctx
        .recording()
        .then(|| Delta::DeleteSlice { start, stop, step });
    let n = write_as(ctx, a[1], None, Empty::Keep, delta, |v| {
        ops::seq::delete_slice("DELSLICE", v, start, stop, step)
    })?;
    Ok(Reply::Int(n.unwrap_or(0) as i64))
}

/// `COUNT key value`: how many items equal the value (substrings of a string).
pub fn count(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    tally(ctx, a, |v, x| ops::seq::count("COUNT", v, x))
}

/// `VERB key value` answering a count about the value in the key; 0 for a missing key.
fn tally(
    ctx: &mut Ctx,
    a: &[&[u8]],
    f: impl FnOnce(&Value, &Value) -> Result<usize, OpError>,
) -> Result<Reply, CmdError> {
    let x = ctx.value(a[2])?;
    match ctx.get(a[1]) {
        None => Ok(Reply::Int(0)),
        Some(v) => Ok(Reply::Int(f(v, &x)? as i64)),
    }
}

/// `INDEX key value`: the first position of the value; null if absent.
pub fn index(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let x = ctx.value(a[2])?;
    match ctx.get(a[1]) {
        None => Ok(Reply::Null),
        Some(v) => {
            Ok(ops::seq::find("INDEX", v, &x)?.map_or(Reply::Null, |i| Reply::Int(i as i64)))
        }
    }
}

/// `REMOVE key value [count]`: removes items equal to the value (all; or the first `count`,
/// the last `-count`); how many went.
pub fn remove(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let x = ctx.value(a[2])?;
    let count = match a.get(3) {
        Some(c) => args::int(c)?,
        None => 0,
    };
    if a.len() > 4 {
        return Err(CmdError::syntax());
    }
    let delta = ctx.recording().then(|| Delta::Remove {
        value: x.clone(),
        count,
    });
    let n = write_as(ctx, a[1], None, Empty::Keep, delta, |v| {
        ops::seq::remove("REMOVE", v, &x, count)
    })?;
    Ok(Reply::Int(n.unwrap_or(0) as i64))
}

/// `REVERSE key`: reverses a list (a string's characters, bytes) in place. OK, or null for a
/// missing key.
pub fn reverse(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let done = write_as(ctx, a[1], None, Empty::Keep, Some(Delta::Reverse), |v| {
        ops::seq::reverse("REVERSE", v)
    })?;
    Ok(done.map_or(Reply::Null, |()| Reply::Ok))
}

// ---- containers ----

/// How an item is named: a dict's field, or a sequence's index.
fn item_of(v: &Value, arg: &[u8]) -> Result<Result<SmolStr, i64>, CmdError> {
    match v {
        Value::Dict(_) => Ok(Ok(field(arg)?.into())),
        _ => args::int(arg).map(Err).map_err(|_| {
            CmdError::err(format!(
                "a {} is indexed by an int, got '{}'",
                v.type_name(),
                String::from_utf8_lossy(arg)
            ))
        }),
    }
}

/// `GETITEM key field_or_index [field_or_index ...]`: a dict's value by field, a sequence's
/// item by index (null when absent); a list of them for several.
pub fn getitem(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let Some(v) = ctx.get(a[1]) else {
        return Ok(if a.len() == 3 {
            Reply::Null
        } else {
            Reply::Array(vec![Reply::Null; a.len() - 2])
        });
    };
    let mut out = Vec::with_capacity(a.len() - 2);
    for arg in &a[2..] {
        let item = match item_of(v, arg)? {
            Ok(f) => ops::map::get("GETITEM", v, &f)?.cloned(),
            Err(i) => ops::seq::get("GETITEM", v, i)?,
        };
        out.push(Reply::value(item.as_ref()));
    }
    Ok(if out.len() == 1 {
        out.pop().expect("one")
    } else {
        Reply::Array(out)
    })
}

/// `SETITEM key field_or_index value [field_or_index value ...]`: sets a dict's fields (a
/// missing key becomes a dict) or a list's items by index (each index must exist). How many
/// dict fields are new; for a list, how many items were set.
pub fn setitem(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if !a.len().is_multiple_of(2) {
        return Err(CmdError::arity("SETITEM"));
    }
    let mut pairs = Vec::with_capacity(a.len() / 2 - 1);
    for p in a[2..].chunks(2) {
        pairs.push((&p[0], ctx.value(p[1])?));
    }
    // Parse every name first, so a bad one changes nothing.
    let now = ctx.now;
    let current = ctx.ks().and_then(|ks| ks.get(a[1], now)).cloned();
    let probe = current.clone().unwrap_or_else(new_dict);
    let mut named = Vec::with_capacity(pairs.len());
    for (name, x) in pairs {
        named.push((item_of(&probe, name)?, x));
    }
    let n = change(ctx, a[1], Some(new_dict), Empty::Keep, |v| {
        let mut copy = v.clone();
        let mut n = 0;
        let (mut fields, mut at) = (Vec::new(), Vec::new());
        for (name, x) in named {
            match name {
                Ok(f) => {
                    n += ops::map::set("SETITEM", &mut copy, &f, x.clone())? as usize;
                    fields.push((f, x));
                }
                Err(i) => {
                    ops::seq::set("SETITEM", &mut copy, i, x.clone())?;
                    at.push((i, x));
                    n += 1;
                }
            }
        }
        *v = copy;
        // A value is a dict or a sequence: one of the two is empty.
        let mut d: Vec<Delta> = at
            .into_iter()
            .map(|(index, value)| Delta::SetAt { index, value })
            .collect();
        if !fields.is_empty() {
            d.push(Delta::SetFields(fields));
        }
        Ok((n, d))
    })?;
    Ok(Reply::Int(n.unwrap_or(0) as i64))
}

/// `DELITEM key field_or_index [field_or_index ...]`: deletes dict fields, or list items by
/// index (indexes name the items before any is deleted). How many existed.
pub fn delitem(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let Some(v) = ctx.get(a[1]) else {
        return Ok(Reply::Int(0));
    };
    let mut fields = Vec::new();
    let mut indexes = Vec::new();
    for arg in &a[2..] {
        match item_of(v, arg)? {
            Ok(f) => fields.push(f),
            Err(i) => indexes.push(i),
        }
    }
    let n = change(ctx, a[1], None, Empty::Keep, |v| {
        if matches!(v, Value::Dict(_)) {
            let n = ops::map::delete("DELITEM", v, fields.iter().map(|f| f.as_str()))?;
            return Ok((n, vec![Delta::DeleteFields(fields)]));
        }
        let len = ops::seq::list("DELITEM", v, Caps::MUTABLE_SEQUENCE)?.len();
        let mut at: Vec<usize> = indexes
            .iter()
            .filter_map(|i| ops::seq::index_of(len, *i))
            .collect();
        at.sort_unstable_by(|x, y| y.cmp(x));
        at.dedup();
        for i in &at {
            ops::seq::delete_at("DELITEM", v, *i as i64)?;
        }
        // Highest first, so each index still names the item it named before.
        let d = at
            .iter()
            .map(|&i| Delta::DeleteAt { index: i as i64 })
            .collect();
        Ok((at.len(), d))
    })?;
    Ok(Reply::Int(n.unwrap_or(0) as i64))
}

/// `CONTAINS key value`: 1 if a list holds the item, a set the member, a dict the field, a
/// string the substring; 0 otherwise (and for a missing key).
pub fn contains(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    tally(ctx, a, |v, x| Ok(ops::contains("CONTAINS", v, x)? as usize))
}

/// `UPDATE key dict`: merges the pairs into a dict (created if missing); how many are new.
pub fn update(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let other = ctx.value(a[2])?;
    let pairs = match &other {
        Value::Dict(d) => Some(d.iter().map(|(k, x)| (k.clone(), x.clone())).collect()),
        _ => None,
    };
    let n = change(ctx, a[1], Some(new_dict), Empty::Keep, |v| {
        Ok((
            ops::map::update("UPDATE", v, &other)?,
            pairs.map(Delta::SetFields),
        ))
    })?;
    Ok(Reply::Int(n.unwrap_or(0) as i64))
}

/// `FIELDS key`: a dict's fields, in order (empty for a missing key).
pub fn fields(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    match ctx.get(a[1]) {
        None => Ok(Reply::Array(vec![])),
        Some(v) => Ok(list_reply(ops::map::fields("FIELDS", v)?)),
    }
}

/// `VALUES key`: a dict's values, in field order.
pub fn values_(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    match ctx.get(a[1]) {
        None => Ok(Reply::Array(vec![])),
        Some(v) => Ok(list_reply(ops::map::values("VALUES", v)?)),
    }
}

/// `ITEMS key`: a dict's `[field, value]` pairs, in order.
pub fn items(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    match ctx.get(a[1]) {
        None => Ok(Reply::Array(vec![])),
        Some(v) => Ok(Reply::Array(
            ops::map::items("ITEMS", v)?
                .into_iter()
                .map(|(k, x)| Reply::Array(vec![Reply::text(&k), Reply::Value(x)]))
                .collect(),
        )),
    }
}

/// `ADD key member [member ...]`: adds members to a set (created if missing); how many are new.
pub fn add(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    match ctx.get(a[1]) {
        Some(Value::SortedSet(_)) => return super::redis_zset::add_scored(ctx, a),
        Some(Value::PQueue(_)) => return add_prioritized(ctx, a),
        _ => {}
    }
    let members = values(ctx, &a[2..])?;
    let delta = ctx.recording().then(|| Delta::AddMembers(members.clone()));
    let n = write_as(ctx, a[1], Some(new_set), Empty::Keep, delta, |v| {
        ops::members::add("ADD", v, members)
    })?;
    Ok(Reply::Int(n.unwrap_or(0) as i64))
}

/// `ADD key item priority [item priority ...]` on a pqueue; the new length.
fn add_prioritized(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if !a.len().is_multiple_of(2) {
        return Err(CmdError::err("ADD to a pqueue takes item priority pairs"));
    }
    let mut pairs = Vec::with_capacity(a.len() / 2 - 1);
    for p in a[2..].chunks(2) {
        pairs.push((ctx.value(p[0])?, ctx.value(p[1])?));
    }
    let delta = ctx.recording().then(|| Delta::QueueAdd(pairs.clone()));
    let n = write_as(ctx, a[1], None, Empty::Keep, delta, |v| {
        ops::queue::add("ADD", v, pairs)
    })?;
    Ok(Reply::Int(n.unwrap_or(0) as i64))
}

/// `DISCARD key member [member ...]`: removes members from a set; how many were there.
pub fn discard(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    // Redis's DISCARD (of a transaction) has no arguments; okdb's takes a key and members.
    match a.len() {
        1 => return super::connection::discard(ctx, a),
        2 => return Err(CmdError::arity("DISCARD")),
        _ => {}
    }
    let members = values(ctx, &a[2..])?;
    let delta = ctx
        .recording()
        .then(|| Delta::DiscardMembers(members.clone()));
    let n = write_as(ctx, a[1], None, Empty::Keep, delta, |v| {
        ops::members::discard("DISCARD", v, &members)
    })?;
    Ok(Reply::Int(n.unwrap_or(0) as i64))
}

/// `UNION|INTERSECT|DIFF key [key ...] [STORE dest]`: combines sets (a missing key is an empty
/// set); the set, or with STORE its size once stored in `dest` (replacing it).
fn combine(
    ctx: &mut Ctx,
    a: &[&[u8]],
    verb: &'static str,
    how: Combine,
) -> Result<Reply, CmdError> {
    let (keys, dest) = match a.len() {
        n if n >= 4 && is(a[n - 2], "STORE") => (&a[1..n - 2], Some(&a[n - 1])),
        _ => (&a[1..], None),
    };
    if keys.is_empty() {
        return Err(CmdError::arity(verb));
    }
    let mut found = Vec::with_capacity(keys.len());
    for k in keys {
        found.push(ctx.get(k).cloned());
    }
    let refs: Vec<Option<&Value>> = found.iter().map(Option::as_ref).collect();
    let set = ops::members::combine(verb, how, &refs)?;
    match dest {
        None => Ok(Reply::Value(Value::Set(Box::new(set)))),
        Some(d) => {
            let n = set.len();
            ctx.ks_write().set(d, Value::Set(Box::new(set)));
            Ok(Reply::Int(n as i64))
        }
    }
}

pub fn union(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    combine(ctx, a, "UNION", Combine::Union)
}

pub fn intersect(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    combine(ctx, a, "INTERSECT", Combine::Intersect)
}

pub fn diff(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    combine(ctx, a, "DIFF", Combine::Diff)
}

// ---- math ----

/// `SUM key [key ...]`: the sum of a container's numbers; over several keys, of all of them.
pub fn sum(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut s = ops::num::Sum::default();
    for k in &a[1..] {
        if let Some(v) = ctx.get(k) {
            ops::num::sum_into("SUM", v, &mut s)?;
        }
    }
    Ok(Reply::Value(s.total()?))
}

fn stat(
    ctx: &mut Ctx,
    a: &[&[u8]],
    f: impl FnOnce(&Value) -> ops::Result<Option<Value>>,
) -> Result<Reply, CmdError> {
    match ctx.get(a[1]) {
        None => Ok(Reply::Null),
        Some(v) => Ok(Reply::value(f(v)?.as_ref())),
    }
}

pub fn min(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    stat(ctx, a, |v| ops::num::extreme("MIN", v, false))
}

pub fn max(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    stat(ctx, a, |v| ops::num::extreme("MAX", v, true))
}

pub fn mean(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    stat(ctx, a, |v| ops::num::mean("MEAN", v))
}

pub fn stddev(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    stat(ctx, a, |v| {
        Ok(ops::num::stddev("STDDEV", v)?.map(Value::Float))
    })
}

pub fn median(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    stat(ctx, a, |v| ops::num::median("MEDIAN", v))
}

// ---- sorting and matching ----

/// Whether `SORT …` is okdb's in-place sort: one of its own keywords (`REVERSE`, `INPLACE`)
/// anywhere after the key.
pub(crate) fn sorts_natively(a: &[&[u8]]) -> bool {
    a.get(2..)
        .is_some_and(|o| o.iter().any(|o| is(o, "REVERSE") || is(o, "INPLACE")))
}

/// `SORT`: okdb's in-place sort when one of its own keywords is given (`REVERSE` or
/// `INPLACE`, neither of which Redis's `SORT` accepts; `BY field` then names a record field);
/// otherwise Redis's `SORT`, which answers a sorted copy (or stores it) and leaves the key as
/// it was (`redis_types::sort_copy`), `BY` being its pattern.
pub fn sort(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let opts = &a[2..];
    if !sorts_natively(a) {
        return super::redis_types::sort_copy(ctx, a);
    }
    let (mut reverse, mut by) = (false, None);
    let mut i = 0;
    while i < opts.len() {
        if is(opts[i], "REVERSE") {
            reverse = true;
        } else if is(opts[i], "INPLACE") {
        } else if is(opts[i], "BY") && i + 1 < opts.len() {
            by = Some(field(opts[i + 1])?.to_string());
            i += 1;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    let delta = ctx.recording().then(|| Delta::Sort {
        reverse,
        by: by.as_deref().map(SmolStr::new),
    });
    let done = write_as(ctx, a[1], None, Empty::Keep, delta, |v| {
        ops::seq::sort("SORT", v, reverse, by.as_deref())
    })?;
    Ok(done.map_or(Reply::Null, |()| Reply::Ok))
}

/// The longest regular expression `MATCH` compiles, and the most memory its program may take.
const MAX_REGEX_LEN: usize = 4096;
const MAX_REGEX_PROGRAM: usize = 1 << 20;

/// `MATCH key pattern`: a list's (deque's, set's) string items the regular expression finds a
/// match in, or a string's matches. The `regex` crate's syntax; matching is linear in the
/// text (no backtracking), and a pattern too long or compiling too large is refused.
pub fn match_(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let pattern = args::text(a[2])?;
    if pattern.len() > MAX_REGEX_LEN {
        return Err(CmdError::err(format!(
            "regular expression too long (over {MAX_REGEX_LEN} bytes)"
        )));
    }
    let re = regex::RegexBuilder::new(pattern)
        .size_limit(MAX_REGEX_PROGRAM)
        .dfa_size_limit(MAX_REGEX_PROGRAM)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(n) => CmdError::err(format!(
                "regular expression too large (its program would pass {n} bytes)"
            )),
            other => CmdError::err(format!("invalid regular expression: {other}")),
        })?;
    match ctx.get(a[1]) {
        None => Ok(Reply::Array(vec![])),
        Some(v) => Ok(list_reply(ops::seq::matches("MATCH", v, &re)?)),
    }
}
