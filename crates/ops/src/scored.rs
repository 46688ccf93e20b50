//! Sorted sets: string members with float scores, in (score, member) order.

use okdb_value::types::Caps;
use okdb_value::{SmolStr, SortedSet, Value};

use crate::{wrong_type, OpError, Result};

/// The sorted set inside a value.
pub fn zset<'a>(verb: &'static str, v: &'a Value) -> Result<&'a SortedSet> {
    match v {
        Value::SortedSet(z) => Ok(z),
        other => Err(wrong_type(verb, other, Caps::SCORED)),
    }
}

/// The sorted set inside a value, to change it.
pub fn zset_mut<'a>(verb: &'static str, v: &'a mut Value) -> Result<&'a mut SortedSet> {
    match v {
        Value::SortedSet(z) => Ok(z),
        other => Err(wrong_type(verb, other, Caps::SCORED)),
    }
}

/// Conditions on an add (Redis's `ZADD` flags).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddIf {
    /// Only new members (`NX`).
    pub only_new: bool,
    /// Only existing members (`XX`).
    pub only_existing: bool,
    /// Only when the new score is greater (`GT`) / less (`LT`) than the old.
    pub greater: bool,
    pub less: bool,
}

/// What an add did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Added {
    /// Members that were new.
    pub added: usize,
    /// Members whose score changed (new ones not counted).
    pub updated: usize,
    /// The score of the last pair after the add (None if the conditions skipped it).
    pub last: Option<f64>,
}

fn check_score(score: f64) -> Result<f64> {
    if score.is_nan() {
        Err(OpError::Invalid(
            "resulting score is not a number (NaN)".into(),
        ))
    } else {
        Ok(score)
    }
}

/// `ADD key member score …` (and Redis's `ZADD`): sets scores under the conditions; with
/// `incr`, adds the score to the member's (0 if new). Nothing changes if a result is NaN.
pub fn add(
    verb: &'static str,
    v: &mut Value,
    pairs: &[(SmolStr, f64)],
    cond: AddIf,
    incr: bool,
) -> Result<Added> {
    let z = zset(verb, v)?;
    // Work out every new score first, so an error changes nothing.
    let mut plan = Vec::with_capacity(pairs.len());
    let mut out = Added::default();
    for (m, s) in pairs {
        let old = z.score(m).or_else(|| {
            plan.iter()
                .rev()
                .find(|(pm, _, _): &&(SmolStr, f64, Option<f64>)| pm == m)
                .map(|(_, ps, _)| *ps)
        });
        if (cond.only_new && old.is_some()) || (cond.only_existing && old.is_none()) {
            out.last = None;
            continue;
        }
        let new = check_score(if incr { old.unwrap_or(0.0) + s } else { *s })?;
        if let Some(o) = old {
            if (cond.greater && new <= o) || (cond.less && new >= o) {
                out.last = None;
                continue;
            }
        }
        out.last = Some(new);
        plan.push((m.clone(), new, old));
    }
    let z = zset_mut(verb, v)?;
    for (m, new, _) in plan {
        match z.insert(m, new) {
            None => out.added += 1,
            Some(o) if o != new => out.updated += 1,
            Some(_) => {}
        }
    }
    Ok(out)
}

/// Removes members; how many were there.
pub fn remove<'a>(
    verb: &'static str,
    v: &mut Value,
    members: impl IntoIterator<Item = &'a str>,
) -> Result<usize> {
    let z = zset_mut(verb, v)?;
    Ok(members
        .into_iter()
        .filter(|m| z.remove(m).is_some())
        .count())
}

/// A bound of a score range: the score and whether it is excluded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreBound {
    pub score: f64,
    pub exclusive: bool,
}

/// Positions `[a, b)` of the members with scores within `min..=max` (bounds as given).
pub fn by_score(z: &SortedSet, min: ScoreBound, max: ScoreBound) -> (usize, usize) {
    let a = z.lower_bound(min.score, min.exclusive);
    let b = z.upper_bound(max.score, max.exclusive);
    (a, b.max(a))
}

/// A bound of a member range (Redis's lex ranges): `-` and `+` are the ends, else a member,
/// included or excluded.
#[derive(Debug, Clone, PartialEq)]
pub enum LexBound {
    Min,
    Max,
    Incl(SmolStr),
    Excl(SmolStr),
}

fn lex_after_min(m: &str, min: &LexBound) -> bool {
    match min {
        LexBound::Min => true,
        LexBound::Max => false,
        LexBound::Incl(x) => m.as_bytes() >= x.as_bytes(),
        LexBound::Excl(x) => m.as_bytes() > x.as_bytes(),
    }
}

fn lex_before_max(m: &str, max: &LexBound) -> bool {
    match max {
        LexBound::Min => false,
        LexBound::Max => true,
        LexBound::Incl(x) => m.as_bytes() <= x.as_bytes(),
        LexBound::Excl(x) => m.as_bytes() < x.as_bytes(),
    }
}

/// Positions `[a, b)` of the members within a lex range (meaningful when all scores are equal,
/// as Redis defines it): the first member past `min`, then up to the first past `max`.
pub fn by_lex(z: &SortedSet, min: &LexBound, max: &LexBound) -> (usize, usize) {
    let n = z.len();
    let first = |pred: &dyn Fn(&str) -> bool| {
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if pred(z.get(mid).expect("in range").0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    };
    let a = first(&|m| !lex_after_min(m, min));
    let b = first(&|m| lex_before_max(m, max));
    (a, b.max(a))
}

/// Pops up to `count` members with the lowest (or highest) scores.
pub fn pop(
    verb: &'static str,
    v: &mut Value,
    highest: bool,
    count: usize,
) -> Result<Vec<(SmolStr, f64)>> {
    let z = zset_mut(verb, v)?;
    let mut out = Vec::with_capacity(count.min(z.len()));
    while out.len() < count {
        match z.pop(highest) {
            Some(p) => out.push(p),
            None => break,
        }
    }
    Ok(out)
}

/// Removes the members at positions `[a, b)`; how many.
pub fn remove_range(verb: &'static str, v: &mut Value, a: usize, b: usize) -> Result<usize> {
    let z = zset_mut(verb, v)?;
    let gone: Vec<SmolStr> = z.range(a, b).into_iter().map(|(m, _)| m).collect();
    for m in &gone {
        z.remove(m);
    }
    Ok(gone.len())
}

/// How scores of one member in several inputs combine (Redis's `AGGREGATE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    Sum,
    Min,
    Max,
}

fn nan_to_zero(f: f64) -> f64 {
    if f.is_nan() {
        0.0
    } else {
        f
    }
}

/// Union, intersection or difference of scored inputs (a plain set's members score 1): each
/// input's scores multiplied by its weight (a NaN product is 0), combined by `agg`; a
/// difference keeps the first input's scores. A missing input is empty.
pub fn combine(
    how: crate::members::Combine,
    inputs: &[Vec<(SmolStr, f64)>],
    weights: &[f64],
    agg: Aggregate,
) -> SortedSet {
    use crate::members::Combine;
    use std::collections::HashMap;
    let weighted = |i: usize, s: f64| nan_to_zero(s * weights.get(i).copied().unwrap_or(1.0));
    let join = |a: f64, b: f64| match agg {
        Aggregate::Sum => nan_to_zero(a + b),
        Aggregate::Min => a.min(b),
        Aggregate::Max => a.max(b),
    };
    let mut out: HashMap<SmolStr, f64> = HashMap::new();
    match how {
        Combine::Union => {
            for (i, input) in inputs.iter().enumerate() {
                for (m, s) in input {
                    let w = weighted(i, *s);
                    out.entry(m.clone())
                        .and_modify(|x| *x = join(*x, w))
                        .or_insert(w);
                }
            }
        }
        Combine::Intersect => {
            let maps: Vec<HashMap<&SmolStr, f64>> = inputs
                .iter()
                .map(|input| input.iter().map(|(m, s)| (m, *s)).collect())
                .collect();
            if let Some(first) = inputs.first() {
                'members: for (m, s) in first {
                    let mut total = weighted(0, *s);
                    for (i, map) in maps.iter().enumerate().skip(1) {
                        match map.get(m) {
                            Some(x) => total = join(total, weighted(i, *x)),
                            None => continue 'members,
                        }
                    }
                    out.insert(m.clone(), total);
                }
            }
        }
        Combine::Diff => {
            if let Some(first) = inputs.first() {
                let others: std::collections::HashSet<&SmolStr> =
                    inputs[1..].iter().flatten().map(|(m, _)| m).collect();
                for (m, s) in first {
                    if !others.contains(m) {
                        out.insert(m.clone(), *s);
                    }
                }
            }
        }
    }
    let mut z = SortedSet::new();
    for (m, s) in out {
        z.insert(m, s);
    }
    z
}
