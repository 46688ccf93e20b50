//! Sets: unique scalar members in value order.

use okdb_value::types::Caps;
use okdb_value::{Set, Value};

use crate::{wrong_type, OpError, Result};

/// The set inside a value.
pub fn set<'a>(verb: &'static str, v: &'a Value) -> Result<&'a Set> {
    match v {
        Value::Set(s) => Ok(s),
        other => Err(wrong_type(verb, other, Caps::MEMBERS)),
    }
}

/// The set inside a value, to change it.
pub fn set_mut<'a>(verb: &'static str, v: &'a mut Value) -> Result<&'a mut Set> {
    match v {
        Value::Set(s) => Ok(s),
        other => Err(wrong_type(verb, other, Caps::MEMBERS)),
    }
}

/// `ADD key member…`: adds members (scalars only); how many are new. Nothing is added if one
/// of them cannot be a member.
pub fn add(verb: &'static str, v: &mut Value, members: Vec<Value>) -> Result<usize> {
    for m in &members {
        m.check_hashable()
            .map_err(|e| OpError::Invalid(e.to_string()))?;
    }
    let s = set_mut(verb, v)?;
    Ok(members
        .into_iter()
        .map(|m| s.insert(m).is_none() as usize)
        .sum())
}

/// `DISCARD key member…`: removes members; how many were there.
pub fn discard<'a>(
    verb: &'static str,
    v: &mut Value,
    members: impl IntoIterator<Item = &'a Value>,
) -> Result<usize> {
    let s = set_mut(verb, v)?;
    Ok(members
        .into_iter()
        .filter(|m| s.remove(m).is_some())
        .count())
}

/// True if `m` is a member.
pub fn has(verb: &'static str, v: &Value, m: &Value) -> Result<bool> {
    Ok(set(verb, v)?.contains(m))
}

/// The member at a position of the set's order (a random member, given a random position);
/// None when empty.
pub fn nth(verb: &'static str, v: &Value, at: usize) -> Result<Option<Value>> {
    let s = set(verb, v)?;
    Ok(s.get(at).cloned())
}

/// How sets combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    Union,
    Intersect,
    Diff,
}

/// `UNION`/`INTERSECT`/`DIFF`: combines sets in order; None stands for a missing key (an empty
/// set). Each operand must be a set.
pub fn combine(verb: &'static str, how: Combine, operands: &[Option<&Value>]) -> Result<Set> {
    let empty = Set::new();
    let mut sets = Vec::with_capacity(operands.len());
    for o in operands {
        sets.push(match o {
            None => &empty,
            Some(v) => set(verb, v)?,
        });
    }
    let Some((first, rest)) = sets.split_first() else {
        return Ok(Set::new());
    };
    let mut out = (*first).clone();
    match how {
        Combine::Union => {
            for s in rest {
                out = out.union((*s).clone());
            }
        }
        Combine::Intersect => {
            // Smallest first: every other membership test is then O(log n) per survivor.
            let mut by_size = sets.clone();
            by_size.sort_by_key(|s| s.len());
            let (small, others) = by_size.split_first().expect("one set at least");
            out = small
                .iter()
                .filter(|m| others.iter().all(|s| s.contains(m)))
                .cloned()
                .collect();
        }
        Combine::Diff => {
            for s in rest {
                if out.is_empty() {
                    break;
                }
                if out.len() < s.len() {
                    out = out.iter().filter(|m| !s.contains(m)).cloned().collect();
                } else {
                    for m in s.iter() {
                        out.remove(m);
                    }
                }
            }
        }
    }
    Ok(out)
}
