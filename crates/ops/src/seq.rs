//! Sequences: strings, bytes and lists alike, with Python's indexes and slices (negative counts
//! from the end), and a list's two ends.
//!
//! Strings index by character, bytes by byte, lists by item. A list is an RRB vector, so
//! indexing, inserting and deleting anywhere are O(log n) and both ends O(1) amortized. Redis's
//! inclusive ranges (`LRANGE 0 -1`) have their own helper, [`redis_range`].

use okdb_value::types::Caps;
use std::borrow::Cow;

use okdb_value::{List, Value};

use crate::{wrong_type, OpError, Result};

/// Which end of a sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Left,
    Right,
}

/// Python's index: `i`, or `i + len` when negative; None outside the sequence.
pub fn index_of(len: usize, i: i64) -> Option<usize> {
    let n = len as i64;
    let j = if i < 0 { i.checked_add(n)? } else { i };
    (0..n).contains(&j).then_some(j as usize)
}

/// Python's insertion point: like an index, but clamped to `0..=len`.
pub fn insertion_point(len: usize, i: i64) -> usize {
    let n = len as i64;
    let j = if i < 0 {
        i.saturating_add(n).max(0)
    } else {
        i.min(n)
    };
    j as usize
}

/// Redis's inclusive range (`LRANGE`, `LTRIM`, `GETRANGE`): negative counts from the end,
/// clamped to the sequence; the half-open positions, or None when empty.
pub fn redis_range(len: usize, start: i64, stop: i64) -> Option<(usize, usize)> {
    let n = len as i64;
    let start = if start < 0 {
        (start.saturating_add(n)).max(0)
    } else {
        start
    };
    let stop = if stop < 0 {
        stop.saturating_add(n)
    } else {
        stop.min(n - 1)
    };
    (start <= stop && start < n).then(|| (start as usize, stop as usize + 1))
}

/// A slice's positions as Python computes them (`PySlice_AdjustIndices`): the first position,
/// the step and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    pub start: i64,
    pub step: i64,
    pub count: usize,
}

impl Slice {
    /// `[start:stop:step]` over `len` items; None bounds are Python's omitted ones.
    pub fn new(len: usize, start: Option<i64>, stop: Option<i64>, step: i64) -> Result<Slice> {
        if step == 0 {
            return Err(OpError::Invalid("slice step cannot be zero".into()));
        }
        let n = len as i64;
        let adjust = |i: Option<i64>, default: i64| match i {
            None => default,
            Some(i) if i < 0 => {
                let j = i.saturating_add(n);
                if j < 0 {
                    if step < 0 {
                        -1
                    } else {
                        0
                    }
                } else {
                    j
                }
            }
            Some(i) if i >= n => {
                if step < 0 {
                    n - 1
                } else {
                    n
                }
            }
            Some(i) => i,
        };
        let start = adjust(start, if step < 0 { n - 1 } else { 0 });
        let stop = adjust(stop, if step < 0 { -1 } else { n });
        let count = if step > 0 && start < stop {
            ((stop - start - 1) / step + 1) as usize
        } else if step < 0 && stop < start {
            ((start - stop - 1) / -step + 1) as usize
        } else {
            0
        };
        Ok(Slice { start, step, count })
    }

    /// The positions, in slice order.
    pub fn positions(self) -> impl Iterator<Item = usize> {
        (0..self.count as i64).map(move |k| (self.start + k * self.step) as usize)
    }

    /// The half-open range of a step-1 slice.
    fn contiguous(self) -> Option<(usize, usize)> {
        (self.step == 1).then_some((self.start as usize, self.start as usize + self.count))
    }
}

/// Byte offsets of each character of `s`, and its length at the end.
fn char_offsets(s: &str) -> Vec<usize> {
    s.char_indices().map(|(i, _)| i).chain([s.len()]).collect()
}

/// The list inside a value, for a verb that needs `caps` (lists have every sequence one).
pub fn list<'a>(verb: &'static str, v: &'a Value, caps: Caps) -> Result<&'a List> {
    match v {
        Value::List(l) => Ok(l),
        // A deque's items, for the verbs a deque takes (both ends, reading by position).
        Value::Deque(d) if v.can(caps) => Ok(&d.items),
        other => Err(wrong_type(verb, other, caps)),
    }
}

/// The list inside a value, to change it.
pub fn list_mut<'a>(verb: &'static str, v: &'a mut Value, caps: Caps) -> Result<&'a mut List> {
    if !v.can(caps) || !matches!(v, Value::List(_) | Value::Deque(_)) {
        return Err(wrong_type(verb, v, caps));
    }
    match v {
        Value::List(l) => Ok(l),
        Value::Deque(d) => Ok(&mut d.items),
        _ => unreachable!("checked above"),
    }
}

/// Pushes items onto an end, in order (pushing `a b` on the left leaves `b a …`, as Redis's
/// `LPUSH`); the new length.
pub fn push(verb: &'static str, v: &mut Value, end: End, items: Vec<Value>) -> Result<usize> {
    if let Value::Deque(d) = v {
        // A bounded deque drops from the other end what no longer fits.
        match end {
            End::Right => {
                d.items.extend(items);
                d.trim_front();
            }
            End::Left => {
                for x in items {
                    d.items.push_front(x);
                }
                d.trim_back();
            }
        }
        return Ok(d.items.len());
    }
    let l = list_mut(verb, v, Caps::ENDS)?;
    match end {
        End::Right => l.extend(items),
        End::Left => {
            for x in items {
                l.push_front(x);
            }
        }
    }
    Ok(l.len())
}

/// Pops up to `count` items from an end, nearest first.
pub fn pop(verb: &'static str, v: &mut Value, end: End, count: usize) -> Result<Vec<Value>> {
    let l = list_mut(verb, v, Caps::ENDS)?;
    let n = count.min(l.len());
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.extend(match end {
            End::Left => l.pop_front(),
            End::Right => l.pop_back(),
        });
    }
    Ok(out)
}

/// Pops the item at a Python index (`POP key index`).
pub fn pop_at(verb: &'static str, v: &mut Value, i: i64) -> Result<Value> {
    let l = list_mut(verb, v, Caps::MUTABLE_SEQUENCE)?;
    if l.is_empty() {
        return Err(OpError::Empty("list"));
    }
    let at = index_of(l.len(), i).ok_or(OpError::Index)?;
    Ok(l.remove(at))
}

/// The item at a Python index: a list's item, a string's character, a byte as an int.
pub fn get(verb: &'static str, v: &Value, i: i64) -> Result<Option<Value>> {
    Ok(match v {
        Value::List(l) => index_of(l.len(), i)
            .and_then(|at| l.get(at))
            .map(Cow::into_owned),
        Value::Deque(d) => index_of(d.items.len(), i)
            .and_then(|at| d.items.get(at))
            .map(Cow::into_owned),
        Value::Bytes(b) => index_of(b.len(), i).map(|at| Value::Int(b[at] as i64)),
        Value::Str(s) => {
            let at = index_of(s.char_len(), i);
            at.and_then(|at| s.as_str().chars().nth(at))
                .map(|c| Value::str(c.encode_utf8(&mut [0; 4])))
        }
        other => return Err(wrong_type(verb, other, Caps::SEQUENCE)),
    })
}

/// Replaces the item at a Python index of a list.
pub fn set(verb: &'static str, v: &mut Value, i: i64, x: Value) -> Result<()> {
    let l = list_mut(verb, v, Caps::MUTABLE_SEQUENCE)?;
    let at = index_of(l.len(), i).ok_or(OpError::Index)?;
    l.set(at, x);
    Ok(())
}

/// Text onto the end of a string (`APPEND`, `EXTEND` of a string).
pub fn append_text(verb: &'static str, v: &mut Value, t: &str) -> Result<()> {
    match v {
        Value::Str(s) => {
            s.push_str(t);
            Ok(())
        }
        other => Err(wrong_type(verb, other, Caps::TEXT)),
    }
}

/// `INSERT key index value`: inserts before the Python index (clamped, as `list.insert`); a
/// string takes text, bytes take bytes. The new length.
pub fn insert(verb: &'static str, v: &mut Value, i: i64, x: Value) -> Result<usize> {
    match v {
        Value::List(l) => {
            let at = insertion_point(l.len(), i);
            l.insert(at, x);
            Ok(l.len())
        }
        Value::Str(_) | Value::Bytes(_) => {
            let n = v.len().expect("a sequence");
            let at = insertion_point(n, i) as i64;
            splice(verb, v, Some(at), Some(at), x)?;
            Ok(v.len().expect("a sequence"))
        }
        other => Err(wrong_type(verb, other, Caps::SEQUENCE)),
    }
}

/// `GETSLICE key start stop [step]`: Python's `v[start:stop:step]`, of the same type.
pub fn slice(
    verb: &'static str,
    v: &Value,
    start: Option<i64>,
    stop: Option<i64>,
    step: i64,
) -> Result<Value> {
    if let Value::Deque(d) = v {
        // A deque's slice is a list of its items (O(1) to take them).
        let items = Value::List(Box::new(d.items.clone()));
        return slice(verb, &items, start, stop, step);
    }
    let n = match v {
        Value::List(_) | Value::Str(_) | Value::Bytes(_) => v.len().expect("a sequence"),
        other => return Err(wrong_type(verb, other, Caps::SEQUENCE)),
    };
    let s = Slice::new(n, start, stop, step)?;
    Ok(match v {
        Value::List(l) => match s.contiguous() {
            Some((a, b)) => Value::List(Box::new(l.slice(a, b))),
            None => {
                // Stepped: one pass in order, keeping the chosen positions.
                let mut at: Vec<usize> = s.positions().collect();
                at.sort_unstable();
                let mut want = at.into_iter().peekable();
                let mut picked = Vec::with_capacity(s.count);
                for (i, x) in l.iter().enumerate() {
                    match want.peek() {
                        None => break,
                        Some(&w) if w == i => {
                            want.next();
                            picked.push(x.into_owned());
                        }
                        Some(_) => {}
                    }
                }
                if s.step < 0 {
                    picked.reverse();
                }
                Value::list(picked)
            }
        },
        Value::Bytes(b) => Value::Bytes(s.positions().map(|i| b[i]).collect::<Vec<u8>>().into()),
        Value::Str(t) => {
            let t = t.as_str();
            let offs = char_offsets(t);
            match s.contiguous() {
                Some((a, b)) => Value::str(&t[offs[a]..offs[b]]),
                None => {
                    let chars: Vec<char> = t.chars().collect();
                    Value::str(&s.positions().map(|i| chars[i]).collect::<String>())
                }
            }
        }
        _ => unreachable!("checked above"),
    })
}

/// `SETSLICE key start stop value`: replaces `v[start:stop]` (step 1) with the items of a list
/// (or set), the text of a string, the bytes of bytes; Python's rules for the bounds.
pub fn splice(
    verb: &'static str,
    v: &mut Value,
    start: Option<i64>,
    stop: Option<i64>,
    with: Value,
) -> Result<()> {
    let n = match v {
        Value::List(_) | Value::Str(_) | Value::Bytes(_) => v.len().expect("a sequence"),
        other => return Err(wrong_type(verb, other, Caps::SEQUENCE)),
    };
    let s = Slice::new(n, start, stop, 1)?;
    let (a, b) = s.contiguous().expect("step 1");
    match v {
        Value::List(l) => {
            let items = match with {
                Value::List(w) => *w,
                Value::Set(w) => w.iter().cloned().collect(),
                other => {
                    return Err(OpError::Invalid(format!(
                        "a list's slice takes a list of items, got {}",
                        other.type_name()
                    )))
                }
            };
            let mut tail = l.split_off(a);
            let rest = tail.split_off(b - a);
            l.append(items);
            l.append(rest);
        }
        Value::Str(t) => {
            let Value::Str(w) = with else {
                return Err(OpError::Invalid(format!(
                    "a string's slice takes a string, got {}",
                    with.type_name()
                )));
            };
            let t = t.as_str();
            let offs = char_offsets(t);
            let joined = [&t[..offs[a]], w.as_str(), &t[offs[b]..]].concat();
            *v = Value::str(&joined);
        }
        Value::Bytes(bytes) => {
            let w: Vec<u8> = match &with {
                Value::Bytes(w) => w.to_vec(),
                Value::Str(w) => w.as_str().as_bytes().to_vec(),
                other => {
                    return Err(OpError::Invalid(format!(
                        "a bytes slice takes bytes, got {}",
                        other.type_name()
                    )))
                }
            };
            let joined = [&bytes[..a], &w[..], &bytes[b..]].concat();
            *v = Value::Bytes(joined.into());
        }
        _ => unreachable!("checked above"),
    }
    Ok(())
}

/// `DELSLICE key start stop [step]`: removes `v[start:stop:step]`; how many items went.
pub fn delete_slice(
    verb: &'static str,
    v: &mut Value,
    start: Option<i64>,
    stop: Option<i64>,
    step: i64,
) -> Result<usize> {
    let n = match v {
        Value::List(_) | Value::Str(_) | Value::Bytes(_) => v.len().expect("a sequence"),
        other => return Err(wrong_type(verb, other, Caps::SEQUENCE)),
    };
    let s = Slice::new(n, start, stop, step)?;
    if s.count == 0 {
        return Ok(0);
    }
    if let Value::List(l) = v {
        match s.contiguous() {
            Some((a, b)) => l.remove_range(a, b),
            None => {
                let mut at: Vec<usize> = s.positions().collect();
                at.sort_unstable();
                l.remove_positions(&at);
            }
        }
        return Ok(s.count);
    }
    let mut gone = vec![false; n];
    for i in s.positions() {
        gone[i] = true;
    }
    match v {
        Value::Str(t) => {
            let kept: String = t
                .as_str()
                .chars()
                .zip(&gone)
                .filter(|(_, g)| !**g)
                .map(|(c, _)| c)
                .collect();
            *v = Value::str(&kept);
        }
        Value::Bytes(b) => {
            let kept: Vec<u8> = b
                .iter()
                .zip(&gone)
                .filter(|(_, g)| !**g)
                .map(|(c, _)| *c)
                .collect();
            *v = Value::Bytes(kept.into());
        }
        _ => unreachable!("checked above"),
    }
    Ok(s.count)
}

/// Deletes the item at a Python index of a list (`DELITEM` with an index).
pub fn delete_at(verb: &'static str, v: &mut Value, i: i64) -> Result<Value> {
    let l = list_mut(verb, v, Caps::MUTABLE_SEQUENCE)?;
    let at = index_of(l.len(), i).ok_or(OpError::Index)?;
    Ok(l.remove(at))
}

/// `COUNT key value`: how many items equal `x` (non-overlapping occurrences in a string).
pub fn count(verb: &'static str, v: &Value, x: &Value) -> Result<usize> {
    Ok(match (v, x) {
        (Value::List(l), _) => l.positions_of(x, false).count(),
        (Value::Deque(d), _) => d.items.positions_of(x, false).count(),
        (Value::Str(s), Value::Str(t)) if t.as_str().is_empty() => s.char_len() + 1,
        (Value::Str(s), Value::Str(t)) => s.as_str().matches(t.as_str()).count(),
        (Value::Bytes(b), Value::Int(i)) => b.iter().filter(|&&c| c as i64 == *i).count(),
        (Value::Str(_) | Value::Bytes(_), other) => {
            return Err(OpError::Invalid(format!(
                "must be a {}, not {}",
                if matches!(v, Value::Str(_)) {
                    "string"
                } else {
                    "byte (int)"
                },
                other.type_name()
            )))
        }
        (other, _) => return Err(wrong_type(verb, other, Caps::SEQUENCE)),
    })
}

/// `INDEX key value`: the first position of `x` (a substring's character position in a
/// string); None if absent.
pub fn find(verb: &'static str, v: &Value, x: &Value) -> Result<Option<usize>> {
    Ok(match (v, x) {
        (Value::List(l), _) => l.positions_of(x, false).next(),
        (Value::Deque(d), _) => d.items.positions_of(x, false).next(),
        (Value::Str(s), Value::Str(t)) => s
            .as_str()
            .find(t.as_str())
            .map(|byte| s.as_str()[..byte].chars().count()),
        (Value::Bytes(b), Value::Int(i)) => b.iter().position(|&c| c as i64 == *i),
        (Value::Str(_) | Value::Bytes(_), other) => {
            return Err(OpError::Invalid(format!(
                "cannot search a {} for a {}",
                v.type_name(),
                other.type_name()
            )))
        }
        (other, _) => return Err(wrong_type(verb, other, Caps::SEQUENCE)),
    })
}

/// Redis's `LPOS` search: positions of items equal to `x`, starting at the `rank`th match
/// (negative: from the end, backwards), at most `count` (0: all), looking at no more than
/// `maxlen` items (0: all).
pub fn positions(l: &List, x: &Value, rank: i64, count: usize, maxlen: usize) -> Vec<usize> {
    let n = l.len();
    let limit = if maxlen == 0 { n } else { maxlen.min(n) };
    let want = if count == 0 { usize::MAX } else { count };
    let skip = rank.unsigned_abs() as usize - 1;
    // Positions come in order (from the end for a negative rank), so the first one past the
    // items looked at ends the search.
    let found: Box<dyn Iterator<Item = usize>> = if rank > 0 {
        Box::new(l.positions_of(x, false).take_while(|&i| i < limit))
    } else {
        Box::new(l.positions_of(x, true).take_while(|&i| i >= n - limit))
    };
    found.skip(skip).take(want).collect()
}

/// `REMOVE key value [count]` and Redis's `LREM`: removes items equal to `x`: the first `count`
/// from the left when positive, from the right when negative, all when 0. How many went.
pub fn remove(verb: &'static str, v: &mut Value, x: &Value, count: i64) -> Result<usize> {
    let l = list_mut(verb, v, Caps::MUTABLE_SEQUENCE)?;
    let want = match count {
        0 => usize::MAX,
        n => n.unsigned_abs() as usize,
    };
    let mut at: Vec<usize> = l.positions_of(x, count < 0).take(want).collect();
    at.sort_unstable();
    l.remove_positions(&at);
    Ok(at.len())
}

/// Redis's `LINSERT`: inserts `x` before or after the first item equal to `pivot`; the
/// position it went to and the new length, or None when the pivot is absent.
pub fn insert_by_pivot(
    verb: &'static str,
    v: &mut Value,
    after: bool,
    pivot: &Value,
    x: Value,
) -> Result<Option<(usize, usize)>> {
    let l = list_mut(verb, v, Caps::MUTABLE_SEQUENCE)?;
    let Some(at) = l.positions_of(pivot, false).next() else {
        return Ok(None);
    };
    let at = at + after as usize;
    l.insert(at, x);
    Ok(Some((at, l.len())))
}

/// Redis's `LTRIM`: keeps only the inclusive range; the items left.
pub fn trim(verb: &'static str, v: &mut Value, start: i64, stop: i64) -> Result<usize> {
    let l = list_mut(verb, v, Caps::MUTABLE_SEQUENCE)?;
    match redis_range(l.len(), start, stop) {
        Some((a, b)) => {
            l.keep_range(a, b);
        }
        None => l.clear(),
    }
    Ok(l.len())
}

/// `REVERSE key`: reverses a list in place, or a string's characters, or bytes.
pub fn reverse(verb: &'static str, v: &mut Value) -> Result<()> {
    match v {
        Value::List(l) => {
            let r: List = l.iter_rev().map(Cow::into_owned).collect();
            **l = r;
        }
        Value::Str(s) => {
            let r: String = s.as_str().chars().rev().collect();
            *v = Value::str(&r);
        }
        Value::Bytes(b) => {
            let r: Vec<u8> = b.iter().rev().copied().collect();
            *v = Value::Bytes(r.into());
        }
        other => return Err(wrong_type(verb, other, Caps::SEQUENCE)),
    }
    Ok(())
}

/// `SORT key [REVERSE] [BY field]` (okdb's, in place): sorts a list or deque by value order
/// (stable; numbers as numbers, values of different types by type), or records (dicts) by a
/// field (a record without it sorts first).
pub fn sort(verb: &'static str, v: &mut Value, reverse: bool, by: Option<&str>) -> Result<()> {
    let l = list_mut(verb, v, Caps::ENDS)?;
    let mut items: Vec<Value> = l.values().collect();
    match by {
        None => items.sort(),
        Some(field) => {
            for x in &items {
                if !matches!(x, Value::Dict(_)) {
                    return Err(OpError::Invalid(format!(
                        "BY {field} sorts records (dicts), found a {}",
                        x.type_name()
                    )));
                }
            }
            let key = |x: &Value| match x {
                Value::Dict(d) => d.get(field).cloned().unwrap_or(Value::Null),
                _ => Value::Null,
            };
            items.sort_by_key(key);
        }
    }
    if reverse {
        items.reverse();
    }
    *l = items.into_iter().collect();
    Ok(())
}

/// `MATCH key pattern`: the string items of a list, deque or set in which the pattern finds a
/// match, in order; for a string, every non-overlapping match (Python's `re.findall` without
/// groups).
pub fn matches(verb: &'static str, v: &Value, re: &regex::Regex) -> Result<Vec<Value>> {
    let pick = |it: &mut dyn Iterator<Item = Cow<'_, Value>>| -> Vec<Value> {
        it.filter(|x| matches!(&**x, Value::Str(s) if re.is_match(s.as_str())))
            .map(Cow::into_owned)
            .collect()
    };
    Ok(match v {
        Value::Str(s) => re
            .find_iter(s.as_str())
            .map(|m| Value::str(m.as_str()))
            .collect(),
        Value::List(l) => pick(&mut l.iter()),
        Value::Deque(d) => pick(&mut d.items.iter()),
        Value::Set(s) => pick(&mut s.iter().map(Cow::Borrowed)),
        other => return Err(wrong_type(verb, other, Caps::ITERABLE)),
    })
}
