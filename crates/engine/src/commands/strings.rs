//! Redis's string commands: STRLEN, GETRANGE, SETRANGE, GETDEL, GETEX, MSETNX, LCS.
//!
//! They work on the bytes a Redis client reads for a value over RESP2 ([`Value::scalar_text`]):
//! a string's own bytes, or the text of a number, bool or null (`SET k 15` then `STRLEN k` is
//! 2, as in Redis). Containers answer `WRONGTYPE`. A string a command builds is stored as a
//! string if it is UTF-8, else as bytes.

use std::borrow::Cow;
use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;
use okdb_ops::bits;
use okdb_value::Value;

use super::values;
use crate::args::{self, is};
use crate::{CmdError, Ctx, Reply};

/// The bytes of a key's value for a string command; None if the key is missing.
fn text_of<'v>(v: Option<&'v Value>, command: &str) -> Result<Option<Cow<'v, [u8]>>, CmdError> {
    match v {
        None => Ok(None),
        Some(v) => v
            .scalar_text()
            .map(Some)
            .ok_or_else(|| CmdError::wrong_type(command, v.type_name(), "string or number")),
    }
}

/// `STRLEN key`: the length in bytes of what `GET` answers over RESP2; 0 if missing.
pub fn strlen(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let n = text_of(ctx.get(a[1]), "STRLEN")?.map_or(0, |t| t.len());
    Ok(Reply::Int(n as i64))
}

/// `GETRANGE key start end` (and the old `SUBSTR`): bytes `start..=end`, negative positions
/// counting from the end, clamped as Redis clamps them.
pub fn getrange(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (start, end) = (args::int(a[2])?, args::int(a[3])?);
    let name = String::from_utf8_lossy(a[0]).to_ascii_uppercase();
    let Some(text) = text_of(ctx.get(a[1]), &name)? else {
        return Ok(Reply::Bulk(Bytes::new()));
    };
    Ok(Reply::bulk(byte_range(&text, start, end)))
}

fn byte_range(text: &[u8], mut start: i64, mut end: i64) -> &[u8] {
    let len = text.len() as i64;
    if start < 0 && end < 0 && start > end {
        return &[];
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0).min(len - 1);
    if len == 0 || start > end {
        return &[];
    }
    &text[start as usize..=end as usize]
}

/// `SETRANGE key offset value`: overwrites bytes from `offset`, padding with zero bytes; answers
/// the new length. An empty value changes nothing (and creates no key).
pub fn setrange(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let offset = args::int(a[2])?;
    if offset < 0 {
        return Err(CmdError::err("offset is out of range"));
    }
    let offset = offset as usize;
    let patch = a[3];
    let max = ctx.shared.config.max_bulk.load(Relaxed);
    let len = text_of(ctx.get(a[1]), "SETRANGE")?.map(|t| t.len());
    if patch.is_empty() {
        return Ok(Reply::Int(len.unwrap_or(0) as i64));
    }
    if offset.saturating_add(patch.len()) > max {
        return Err(CmdError::err(
            "string exceeds maximum allowed size (proto-max-bulk-len)",
        ));
    }
    let n = len.unwrap_or(0).max(offset + patch.len());
    write_bytes(ctx, "SETRANGE", a[1], offset, patch, Value::str(""))?;
    Ok(Reply::Int(n as i64))
}

/// Writes `patch` at byte `offset` of the string at `key` (its expiry kept), in place where it
/// can be (`bits::write`), journaled as that write; a missing key starts as `empty`.
fn write_bytes(
    ctx: &mut Ctx,
    verb: &'static str,
    key: &[u8],
    offset: usize,
    patch: &[u8],
    empty: Value,
) -> Result<(), CmdError> {
    let now = ctx.now;
    let ks = ctx.ks_write();
    match ks.entry_mut(key, now) {
        Some(entry) => {
            bits::write(verb, &mut entry.value, offset, patch)?;
            ctx.delta(
                key,
                okdb_ops::delta::Delta::WriteBytes {
                    offset,
                    bytes: patch.to_vec(),
                },
            );
        }
        None => {
            let mut v = empty;
            bits::write(verb, &mut v, offset, patch)?;
            ks.set(key, v);
        }
    }
    Ok(())
}

/// `GETDEL key`: the value, and the key is gone; null if it was missing.
pub fn getdel(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let Some(ks) = ctx.ks() else {
        return Ok(Reply::Null);
    };
    if !ks.contains(a[1], now) {
        return Ok(Reply::Null);
    }
    Ok(Reply::Value(ks.remove(a[1]).expect("checked above").value))
}

/// `GETEX key [EX s | PX ms | EXAT t | PXAT t | PERSIST]`: the value, changing the expiry.
pub fn getex(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    enum Change {
        Keep,
        Persist,
        At(u64),
    }
    let change = match &a[2..] {
        [] => Change::Keep,
        [o] if is(o, "PERSIST") => Change::Persist,
        [unit, n] if ["EX", "PX", "EXAT", "PXAT"].iter().any(|u| is(unit, u)) => {
            Change::At(values::expiry(unit, n, now, "getex")?)
        }
        _ => return Err(CmdError::syntax()),
    };
    let Some(ks) = ctx.ks() else {
        return Ok(Reply::Null);
    };
    let Some(entry) = ks.entry(a[1], now) else {
        return Ok(Reply::Null);
    };
    let value = entry.value.clone();
    match change {
        Change::Keep => {}
        Change::Persist => {
            ks.set_expiry(a[1], 0);
        }
        Change::At(at) if at <= now => {
            ks.remove(a[1]);
        }
        Change::At(at) => {
            ks.set_expiry(a[1], at);
        }
    }
    Ok(Reply::Value(value))
}

/// `MSETNX key value [key value ...]`: sets every pair if none of the keys exists (1), else
/// nothing (0).
pub fn msetnx(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if a.len().is_multiple_of(2) {
        return Err(CmdError::arity("msetnx"));
    }
    if a[1..].iter().step_by(2).any(|k| ctx.get(k).is_some()) {
        return Ok(Reply::Int(0));
    }
    values::set_pairs(ctx, &a[1..])?;
    Ok(Reply::Int(1))
}

/// `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]`: the longest common subsequence
/// of two strings' bytes, its length, or the matching ranges, exactly as Redis reports them.
pub fn lcs(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut text = |key: &[u8]| -> Result<Vec<u8>, CmdError> {
        match ctx.get(key) {
            None => Ok(Vec::new()),
            Some(v) => v
                .scalar_text()
                .map(Cow::into_owned)
                .ok_or_else(|| CmdError::err("The specified keys must contain string values")),
        }
    };
    let (x, y) = (text(a[1])?, text(a[2])?);
    let (mut len_only, mut idx, mut with_len, mut min_len) = (false, false, false, 0i64);
    let mut i = 3;
    while i < a.len() {
        if is(a[i], "IDX") {
            idx = true;
        } else if is(a[i], "LEN") {
            len_only = true;
        } else if is(a[i], "WITHMATCHLEN") {
            with_len = true;
        } else if is(a[i], "MINMATCHLEN") && i + 1 < a.len() {
            min_len = args::int(a[i + 1])?.max(0);
            i += 1;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    if len_only && idx {
        return Err(CmdError::err(
            "If you want both the length and indexes, please just use IDX.",
        ));
    }
    let cells = (x.len() as u64 + 1) * (y.len() as u64 + 1);
    if cells * 4 > ctx.shared.config.max_bulk.load(Relaxed) as u64 {
        return Err(CmdError::err(
            "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let m = Lcs::new(&x, &y);
    let total = m.at(x.len(), y.len());
    if len_only {
        return Ok(Reply::Int(total as i64));
    }
    let (common, ranges) = m.walk(&x, &y, min_len as usize);
    if !idx {
        return Ok(Reply::bulk(&common));
    }
    let pair = |s: usize, e: usize| Reply::Array(vec![Reply::Int(s as i64), Reply::Int(e as i64)]);
    let matches = ranges
        .into_iter()
        .map(|r| {
            let mut item = vec![pair(r.a.0, r.a.1), pair(r.b.0, r.b.1)];
            if with_len {
                item.push(Reply::Int((r.a.1 - r.a.0 + 1) as i64));
            }
            Reply::Array(item)
        })
        .collect();
    Ok(Reply::Map(vec![
        (Reply::text("matches"), Reply::Array(matches)),
        (Reply::text("len"), Reply::Int(total as i64)),
    ]))
}

/// The dynamic-programming table of LCS lengths of every pair of prefixes.
struct Lcs {
    table: Vec<u32>,
    width: usize,
}

/// One matching run: inclusive byte ranges in the first and the second string.
struct Range {
    a: (usize, usize),
    b: (usize, usize),
}

impl Lcs {
    fn new(x: &[u8], y: &[u8]) -> Lcs {
        let width = y.len() + 1;
        let mut table = vec![0u32; (x.len() + 1) * width];
        for i in 1..=x.len() {
            for j in 1..=y.len() {
                table[i * width + j] = if x[i - 1] == y[j - 1] {
                    table[(i - 1) * width + j - 1] + 1
                } else {
                    table[(i - 1) * width + j].max(table[i * width + j - 1])
                };
            }
        }
        Lcs { table, width }
    }

    fn at(&self, i: usize, j: usize) -> u32 {
        self.table[i * self.width + j]
    }

    /// Walks back from the end: the common subsequence and its runs, last run first, each run
    /// kept if it is at least `min_len` long (0: all), in the order and shape Redis emits them.
    fn walk(&self, x: &[u8], y: &[u8], min_len: usize) -> (Vec<u8>, Vec<Range>) {
        let mut common = vec![0u8; self.at(x.len(), y.len()) as usize];
        let mut k = common.len();
        let mut ranges = Vec::new();
        let (mut i, mut j) = (x.len(), y.len());
        let mut run: Option<Range> = None;
        while i > 0 && j > 0 {
            let mut emit = false;
            if x[i - 1] == y[j - 1] {
                common[k - 1] = x[i - 1];
                match &mut run {
                    None => {
                        run = Some(Range {
                            a: (i - 1, i - 1),
                            b: (j - 1, j - 1),
                        })
                    }
                    Some(r) if r.a.0 == i && r.b.0 == j => {
                        r.a.0 -= 1;
                        r.b.0 -= 1;
                    }
                    Some(_) => emit = true,
                }
                if run.as_ref().is_some_and(|r| r.a.0 == 0 || r.b.0 == 0) {
                    emit = true;
                }
                k -= 1;
                i -= 1;
                j -= 1;
            } else {
                if self.at(i - 1, j) > self.at(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                emit = run.is_some();
            }
            if emit {
                if let Some(r) = run.take() {
                    if min_len == 0 || r.a.1 - r.a.0 + 1 >= min_len {
                        ranges.push(r);
                    }
                }
            }
        }
        (common, ranges)
    }
}

// ---- bits (Redis's bitmap commands over a string's bytes; the meaning is okdb_ops::bits) ----

/// A bit offset: 0 up to the most a string may hold (`proto-max-bulk-len` bytes). With a
/// `field` (`BITFIELD`), `#n` is the n-th field of that width.
fn bit_offset(ctx: &Ctx, arg: &[u8], field: Option<bits::Field>) -> Result<u64, CmdError> {
    let max = ctx.shared.config.max_bulk.load(Relaxed) as u64;
    let (width, digits) = match (arg.split_first(), field) {
        (Some((b'#', rest)), Some(f)) => (f.bits as u64, rest),
        _ => (1, arg),
    };
    args::redis_int(digits)
        .and_then(|n| u64::try_from(n).ok())
        .and_then(|n| n.checked_mul(width))
        .filter(|o| (o >> 3) < max)
        .ok_or_else(|| CmdError::err("bit offset is not an integer or out of range"))
}

/// `BYTE` or `BIT`.
fn bit_unit(arg: &[u8]) -> Result<bits::Unit, CmdError> {
    if is(arg, "BYTE") {
        Ok(bits::Unit::Byte)
    } else if is(arg, "BIT") {
        Ok(bits::Unit::Bit)
    } else {
        Err(CmdError::syntax())
    }
}

/// `SETBIT key offset 0|1`: sets one bit, growing the string with zero bytes to reach it (its
/// expiry kept); answers the bit it held.
pub fn setbit(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let offset = bit_offset(ctx, a[2], None)?;
    let on = match a[3] {
        b"0" => false,
        b"1" => true,
        _ => return Err(CmdError::err("bit is not an integer or out of range")),
    };
    let byte = (offset >> 3) as usize;
    let (old, reaches) = match text_of(ctx.get(a[1]), "SETBIT")? {
        Some(t) => (t.get(byte).copied().unwrap_or(0), byte < t.len()),
        None => (0, false),
    };
    let mut new = vec![old];
    let was = bits::set(&mut new, offset & 7, on);
    if was == on && reaches {
        // Nothing changes: nothing is written (or journaled), as in Redis.
        return Ok(Reply::Int(was as i64));
    }
    // A bitmap a SETBIT makes is bytes, so each later bit is written in place.
    write_bytes(
        ctx,
        "SETBIT",
        a[1],
        byte,
        &new,
        Value::Bytes(Vec::new().into()),
    )?;
    Ok(Reply::Int(was as i64))
}

/// `GETBIT key offset`: 0 or 1 (0 past the end, or for a missing key).
pub fn getbit(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let offset = bit_offset(ctx, a[2], None)?;
    let text = text_of(ctx.get(a[1]), "GETBIT")?;
    Ok(Reply::Int(
        text.is_some_and(|t| bits::get(&t, offset)) as i64
    ))
}

/// `BITCOUNT key [start end [BYTE|BIT]]`: the set bits, of the whole string or a range.
pub fn bitcount(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (range, unit) = match a.len() {
        2 => (None, bits::Unit::Byte),
        4 | 5 => {
            let range = (args::int(a[2])?, args::int(a[3])?);
            let unit = a.get(4).map_or(Ok(bits::Unit::Byte), |u| bit_unit(u))?;
            (Some(range), unit)
        }
        _ => return Err(CmdError::syntax()),
    };
    let text = text_of(ctx.get(a[1]), "BITCOUNT")?;
    Ok(Reply::Int(
        text.map_or(0, |t| bits::count(&t, range, unit)) as i64
    ))
}

/// `BITPOS key 0|1 [start [end [BYTE|BIT]]]`: the first bit that is 0 (or 1), or -1. With no
/// end, a string reads as followed by zeros (so a missing key's first 0 is at 0).
pub fn bitpos(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let bit = match a[2] {
        b"0" => false,
        b"1" => true,
        _ => return Err(CmdError::err("The bit argument must be 1 or 0.")),
    };
    if a.len() > 6 {
        return Err(CmdError::syntax());
    }
    let start = a.get(3).map(|s| args::int(s)).transpose()?;
    let end = a.get(4).map(|e| args::int(e)).transpose()?;
    let unit = a.get(5).map_or(Ok(bits::Unit::Byte), |u| bit_unit(u))?;
    let Some(text) = text_of(ctx.get(a[1]), "BITPOS")? else {
        return Ok(Reply::Int(if bit { -1 } else { 0 }));
    };
    Ok(Reply::Int(bits::position(&text, bit, start, end, unit)))
}

/// `BITOP AND|OR|XOR|NOT dest key [key …]`: combines strings byte by byte into `dest` (a
/// missing key reads as empty, a shorter string as zeros past its end); answers the length,
/// and an empty result removes `dest`.
pub fn bitop(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let op = [
        ("AND", bits::Op::And),
        ("OR", bits::Op::Or),
        ("XOR", bits::Op::Xor),
        ("NOT", bits::Op::Not),
    ]
    .into_iter()
    .find(|(name, _)| is(a[1], name))
    .map(|(_, op)| op)
    .ok_or_else(CmdError::syntax)?;
    let keys = &a[3..];
    if op == bits::Op::Not && keys.len() != 1 {
        return Err(CmdError::err(
            "BITOP NOT must be called with a single source key.",
        ));
    }
    let mut sources: Vec<Vec<u8>> = Vec::with_capacity(keys.len());
    for k in keys {
        sources.push(
            text_of(ctx.get(k), "BITOP")?
                .map(Cow::into_owned)
                .unwrap_or_default(),
        );
    }
    let views: Vec<&[u8]> = sources.iter().map(|s| &s[..]).collect();
    let out = bits::combine(op, &views);
    let n = out.len();
    if n == 0 {
        ctx.ks_write().remove(a[2]);
    } else {
        ctx.ks_write().set(a[2], Value::from_bytes(&out));
    }
    Ok(Reply::Int(n as i64))
}

/// One operation of a `BITFIELD`.
enum FieldOp {
    Get(bits::Field, u64),
    Set(bits::Field, u64, i64, bits::Overflow),
    Incr(bits::Field, u64, i64, bits::Overflow),
}

/// `BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset increment]
/// [OVERFLOW WRAP|SAT|FAIL] …` (and `BITFIELD_RO key [GET type offset] …`): integer fields of a
/// bitmap, in order; one reply each (null for a write `OVERFLOW FAIL` refused). Every operation
/// is checked before any runs; a write grows the string to the farthest field written (even
/// one that fails, as in Redis), and is journaled as the bytes it changed.
pub fn bitfield(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let read_only = is(a[0], "BITFIELD_RO");
    let mut ops = Vec::new();
    let mut overflow = bits::Overflow::Wrap;
    let mut writes = false;
    let mut j = 2;
    while j < a.len() {
        let left = a.len() - j - 1;
        let sub = a[j];
        if is(sub, "OVERFLOW") && left >= 1 {
            overflow = [
                ("WRAP", bits::Overflow::Wrap),
                ("SAT", bits::Overflow::Sat),
                ("FAIL", bits::Overflow::Fail),
            ]
            .into_iter()
            .find(|(name, _)| is(a[j + 1], name))
            .map(|(_, o)| o)
            .ok_or_else(|| CmdError::err("Invalid OVERFLOW type specified"))?;
            j += 2;
            continue;
        }
        let write = if is(sub, "GET") && left >= 2 {
            false
        } else if (is(sub, "SET") || is(sub, "INCRBY")) && left >= 3 {
            true
        } else {
            return Err(CmdError::syntax());
        };
        let field = bits::Field::parse(a[j + 1]).ok_or_else(|| {
            CmdError::err(
                "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
            )
        })?;
        let offset = bit_offset(ctx, a[j + 2], Some(field))?;
        if !write {
            ops.push(FieldOp::Get(field, offset));
            j += 3;
            continue;
        }
        writes = true;
        let value = args::int(a[j + 3])?;
        ops.push(if is(sub, "SET") {
            FieldOp::Set(field, offset, value, overflow)
        } else {
            FieldOp::Incr(field, offset, value, overflow)
        });
        j += 4;
    }
    if read_only && writes {
        return Err(CmdError::err(
            "BITFIELD_RO only supports the GET subcommand",
        ));
    }
    // Only the bytes the fields cover are read and written (at most nine a field), never the
    // whole string: `now` holds them by position, as changed so far.
    let bytes_of = |op: &FieldOp| match *op {
        FieldOp::Get(f, at) | FieldOp::Set(f, at, ..) | FieldOp::Incr(f, at, ..) => {
            (at >> 3) as usize..=((at + f.bits as u64 - 1) >> 3) as usize
        }
    };
    let (len, was) = {
        let text = text_of(ctx.get(a[1]), "BITFIELD")?;
        let t: &[u8] = text.as_deref().unwrap_or_default();
        let was: std::collections::BTreeMap<usize, u8> = ops
            .iter()
            .flat_map(bytes_of)
            .map(|i| (i, t.get(i).copied().unwrap_or(0)))
            .collect();
        (t.len(), was)
    };
    let mut now = was.clone();
    let mut replies = Vec::with_capacity(ops.len());
    for op in &ops {
        let span = bytes_of(op);
        let mut buf: Vec<u8> = span.clone().map(|i| now[&i]).collect();
        let rel = |at: u64| at - *span.start() as u64 * 8;
        let (reply, put) = match *op {
            FieldOp::Get(f, at) => (Reply::Int(f.get(&buf, rel(at))), None),
            FieldOp::Set(f, at, value, overflow) => {
                let old = f.get(&buf, rel(at));
                match f.set_value(value, overflow) {
                    Some(new) => (Reply::Int(old), Some((f, at, new))),
                    None => (Reply::Null, None),
                }
            }
            FieldOp::Incr(f, at, by, overflow) => {
                let old = f.get(&buf, rel(at));
                match f.fit(old as i128 + by as i128, overflow) {
                    Some(new) => (Reply::Int(new), Some((f, at, new))),
                    None => (Reply::Null, None),
                }
            }
        };
        if let Some((f, at, new)) = put {
            f.put(&mut buf, rel(at), new);
            for (i, b) in span.zip(buf) {
                now.insert(i, b);
            }
        }
        replies.push(reply);
    }
    // The string grows to the farthest field written, even by a write that fails, as in
    // Redis (not by a read).
    let reach = ops
        .iter()
        .filter(|op| !matches!(op, FieldOp::Get(..)))
        .map(|op| *bytes_of(op).end())
        .max();
    if let Some(reach) = reach {
        // Each run of bytes that changed, or that the string grows by, is written once.
        let changed: Vec<(usize, u8)> = now
            .iter()
            .filter(|(i, b)| (**i >= len && **i <= reach) || was[*i] != **b)
            .map(|(i, b)| (*i, *b))
            .collect();
        for run in changed.chunk_by(|x, y| y.0 == x.0 + 1) {
            let patch: Vec<u8> = run.iter().map(|(_, b)| *b).collect();
            let empty = Value::Bytes(Vec::new().into());
            write_bytes(ctx, "BITFIELD", a[1], run[0].0, &patch, empty)?;
        }
    }
    Ok(Reply::Array(replies))
}
