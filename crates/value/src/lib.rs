//! okdb's typed values.
//!
//! [`Value`] is the one value model shared by the engine, the server, the client and (later) the
//! language. Containers are persistent structures (B-trees and `imbl` vectors whose nodes are
//! shared through `Arc`), so cloning any value is O(1) and old versions can be kept by
//! transactions, checkpoints and scripts at no copying cost.
//!
//! Adding a type of SPEC.md §1 means: a variant here, its declaration in [`types::TYPES`] (name,
//! Redis name, capabilities) and its position in `Value::rank_index`, its literal in [`literal`]
//! and its tag in [`json`]; its operations go in `okdb-ops`. Code that matches on values with a
//! catch-all arm needs no change.
//!
//! Architecture invariant: this crate does no I/O and knows nothing of protocols or storage.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

pub mod dates;
pub mod json;
pub mod literal;
pub mod types;

mod btree;
mod dict;
pub mod list;
mod packed;
mod probe;
mod queues;
mod set;
mod text;
mod zset;
pub use dict::Dict;
pub use list::List;
pub use queues::{Deque, PQueue};
pub use set::Set;
pub use smol_str::SmolStr;
pub use text::Str;
pub use zset::SortedSet;

/// A typed okdb value.
#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    /// 64-bit signed integer; arithmetic that overflows is an error, never a wrap.
    Int(i64),
    Float(f64),
    /// Exact base-10 number (`decimal('12.30')`): up to 28 significant digits, its scale kept
    /// (`12.30` stays `12.30`).
    Decimal(rust_decimal::Decimal),
    /// A calendar date (`date('2026-11-28')`).
    Date(dates::Date),
    /// An instant with the UTC offset it was written in (`datetime('2026-11-28T10:00:00Z')`).
    DateTime(dates::DateTime),
    /// UTF-8 text. Short strings are stored inline; long ones are shared (O(1) clone) and grow
    /// in place when appended to.
    Str(Str),
    /// Binary data: what a non-UTF-8 argument becomes.
    Bytes(Arc<[u8]>),
    List(Box<List>),
    Dict(Dict),
    Set(Box<Set>),
    /// String members with float scores, ordered by (score, member).
    SortedSet(Box<SortedSet>),
    /// A sequence used at both ends, optionally bounded.
    Deque(Box<Deque>),
    /// Items handed out lowest priority first, FIFO among equals.
    PQueue(Box<PQueue>),
    /// A function of the okdb language (`lambda x: x * 2`), kept as its source text; scripts
    /// and `EVAL`/`APPLY`/`FILTER` call it.
    Function(std::sync::Arc<str>),
}

impl Value {
    /// The name `TYPE` reports (from the type's declaration, [`types::TYPES`]).
    pub fn type_name(&self) -> &'static str {
        self.decl().name
    }

    pub fn str(s: &str) -> Value {
        Value::Str(Str::new(s))
    }

    pub fn list<I: IntoIterator<Item = Value>>(items: I) -> Value {
        Value::List(Box::new(items.into_iter().collect()))
    }

    /// Builds a set; of equal elements (`1` and `1.0`) the first is kept, as in Python.
    pub fn set<I: IntoIterator<Item = Value>>(items: I) -> Result<Value, ValueError> {
        let mut set = Set::new();
        for item in items {
            item.check_hashable()?;
            if !set.contains(&item) {
                set.insert(item);
            }
        }
        Ok(Value::Set(Box::new(set)))
    }

    /// Sets hold scalars only, as Python's sets hold hashable values only.
    pub fn check_hashable(&self) -> Result<(), ValueError> {
        match self {
            Value::List(_)
            | Value::Dict(_)
            | Value::Set(_)
            | Value::SortedSet(_)
            | Value::Deque(_)
            | Value::PQueue(_) => Err(ValueError::Unhashable(self.type_name())),
            _ => Ok(()),
        }
    }

    /// Ordering rank of the type: values of different types order by rank, except that ints and
    /// floats compare as numbers.
    fn rank(&self) -> u8 {
        match self {
            Value::Int(_) | Value::Float(_) | Value::Decimal(_) => 2,
            _ => self.rank_index() as u8,
        }
    }

    /// The type's position in [`types::TYPES`].
    fn rank_index(&self) -> usize {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(_) => 2,
            Value::Float(_) => 3,
            Value::Decimal(_) => 4,
            Value::Date(_) => 5,
            Value::DateTime(_) => 6,
            Value::Str(_) => 7,
            Value::Bytes(_) => 8,
            Value::List(_) => 9,
            Value::Dict(_) => 10,
            Value::Set(_) => 11,
            Value::SortedSet(_) => 12,
            Value::Deque(_) => 13,
            Value::PQueue(_) => 14,
            Value::Function(_) => 15,
        }
    }

    /// Visits this value and every value inside it, depth first in order, without recursion
    /// (nesting has no depth limit) and without collecting elements. `f` gets each value and,
    /// for a dict's value, its key; returning `ControlFlow::Break` ends the walk.
    pub fn walk(&self, mut f: impl FnMut(&Value, Option<&str>) -> std::ops::ControlFlow<()>) {
        type Items<'a> = Box<dyn Iterator<Item = (Option<&'a str>, &'a Value)> + 'a>;
        fn children(v: &Value) -> Option<Items<'_>> {
            match v {
                Value::List(l) => Some(Box::new(l.items_ref().map(|x| (None, x)))),
                Value::Set(s) => Some(Box::new(s.iter().map(|x| (None, x)))),
                Value::Dict(d) => Some(Box::new(d.iter().map(|(k, x)| (Some(k.as_str()), x)))),
                Value::Deque(d) => Some(Box::new(d.items.items_ref().map(|x| (None, x)))),
                Value::PQueue(q) => {
                    Some(Box::new(q.iter().flat_map(|(p, x)| [(None, p), (None, x)])))
                }
                _ => None,
            }
        }
        // A packed list's items are scalars decoded on the way, so they are visited here
        // rather than lent by `children`.
        let mut visit = |x: &Value, key: Option<&str>| -> std::ops::ControlFlow<()> {
            f(x, key)?;
            let packed = match x {
                Value::List(l) if l.is_packed() => l,
                Value::Deque(d) if d.items.is_packed() => &d.items,
                _ => return std::ops::ControlFlow::Continue(()),
            };
            packed.values().try_for_each(|item| f(&item, None))
        };
        if visit(self, None).is_break() {
            return;
        }
        let mut stack: Vec<Items<'_>> = children(self).into_iter().collect();
        while let Some(top) = stack.last_mut() {
            match top.next() {
                Some((key, x)) => {
                    if visit(x, key).is_break() {
                        return;
                    }
                    stack.extend(children(x));
                }
                None => {
                    stack.pop();
                }
            }
        }
    }

    /// Length as Python's `len`: characters of a string, bytes of bytes, items of a container.
    pub fn len(&self) -> Option<usize> {
        match self {
            Value::Str(s) => Some(s.char_len()),
            Value::Bytes(b) => Some(b.len()),
            Value::List(l) => Some(l.len()),
            Value::Dict(d) => Some(d.len()),
            Value::Set(s) => Some(s.len()),
            Value::SortedSet(z) => Some(z.len()),
            Value::Deque(d) => Some(d.items.len()),
            Value::PQueue(q) => Some(q.len()),
            _ => None,
        }
    }

    /// The bytes a Redis client reads for a scalar over RESP2, which Redis's string commands
    /// (`APPEND`, `STRLEN`, `GETRANGE`, …) work on: a string's or bytes' own bytes, else the
    /// value's JSON text (`5`, `1.5`, `true`, `null`). None for a container.
    pub fn scalar_text(&self) -> Option<std::borrow::Cow<'_, [u8]>> {
        use std::borrow::Cow;
        match self {
            Value::Str(s) => Some(Cow::Borrowed(s.as_str().as_bytes())),
            Value::Bytes(b) => Some(Cow::Borrowed(b)),
            Value::Decimal(d) => Some(Cow::Owned(d.to_string().into_bytes())),
            Value::Date(d) => Some(Cow::Owned(d.to_string().into_bytes())),
            Value::DateTime(t) => Some(Cow::Owned(t.to_string().into_bytes())),
            Value::Function(f) => Some(Cow::Borrowed(f.as_bytes())),
            Value::List(_)
            | Value::Dict(_)
            | Value::Set(_)
            | Value::SortedSet(_)
            | Value::Deque(_)
            | Value::PQueue(_) => None,
            other => Some(Cow::Owned(json::to_string(other).into_bytes())),
        }
    }

    /// A value from bytes that a string command made: a string if they are UTF-8, else bytes.
    pub fn from_bytes(b: &[u8]) -> Value {
        match std::str::from_utf8(b) {
            Ok(s) => Value::Str(Str::new(s)),
            Err(_) => Value::Bytes(b.into()),
        }
    }

    /// True for a container or string with no items; false for values without a length.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }
}

/// Compares an int with a float exactly (no rounding of large ints).
fn cmp_int_float(i: i64, f: f64) -> Ordering {
    if f.is_nan() {
        return Ordering::Less; // NaN orders above every number, as f64::total_cmp does.
    }
    // i64 converts to f64 exactly in [-2^53, 2^53]; outside, compare in i128 after truncation.
    if f >= 9.3e18 {
        return Ordering::Less;
    }
    if f <= -9.3e18 {
        return Ordering::Greater;
    }
    let t = f.trunc();
    match (i as i128).cmp(&(t as i128)) {
        Ordering::Equal => {
            if f > t {
                Ordering::Less
            } else if f < t {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }
        other => other,
    }
}

/// Compares a float with a decimal (NaN above every number, as elsewhere; a float outside the
/// decimal range compares by sign).
fn cmp_float_decimal(f: f64, d: &rust_decimal::Decimal) -> Ordering {
    use rust_decimal::prelude::FromPrimitive;
    if f.is_nan() {
        return Ordering::Greater;
    }
    match rust_decimal::Decimal::from_f64(f) {
        Some(x) => x.cmp(d),
        None if f > 0.0 => Ordering::Greater,
        None => Ordering::Less,
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Self) -> Ordering {
        use Value::*;
        match (self, other) {
            (Null, Null) => Ordering::Equal,
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int(a), Int(b)) => a.cmp(b),
            (Float(a), Float(b)) => match (a.is_nan(), b.is_nan()) {
                // Every NaN (whatever its sign or payload) is one value above every number, as
                // in `cmp_int_float`; -0.0 == 0.0 as in Python.
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => a.partial_cmp(b).expect("neither is NaN"),
            },
            (Int(a), Float(b)) => cmp_int_float(*a, *b),
            (Float(a), Int(b)) => cmp_int_float(*b, *a).reverse(),
            (Decimal(a), Decimal(b)) => a.cmp(b),
            (Date(a), Date(b)) => a.cmp(b),
            (DateTime(a), DateTime(b)) => a.cmp(b),
            (Int(a), Decimal(b)) => rust_decimal::Decimal::from(*a).cmp(b),
            (Decimal(a), Int(b)) => a.cmp(&rust_decimal::Decimal::from(*b)),
            (Float(a), Decimal(b)) => cmp_float_decimal(*a, b),
            (Decimal(a), Float(b)) => cmp_float_decimal(*b, a).reverse(),
            (Str(a), Str(b)) => a.as_str().cmp(b.as_str()),
            (Bytes(a), Bytes(b)) => a.cmp(b),
            (List(a), List(b)) => a.cmp(b),
            // Dicts are equal when they hold the same pairs, in any order, as in Python.
            (Dict(a), Dict(b)) => a.sorted().cmp(&b.sorted()),
            (Set(a), Set(b)) => a.iter().cmp(b.iter()),
            (SortedSet(a), SortedSet(b)) => a
                .iter()
                .map(|(m, s)| (m, Value::Float(s)))
                .cmp(b.iter().map(|(m, s)| (m, Value::Float(s)))),
            (Deque(a), Deque(b)) => a
                .items
                .iter()
                .cmp(b.items.iter())
                .then(a.maxlen.cmp(&b.maxlen)),
            (PQueue(a), PQueue(b)) => a.iter().cmp(b.iter()),
            (Function(a), Function(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl fmt::Display for Value {
    /// Displays a value as its typed JSON text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&json::to_string(self))
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::str(s)
    }
}

/// Errors of value construction, literal parsing and typed JSON decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    #[error("unhashable type: '{0}' (sets hold null, bool, int, float, string and bytes)")]
    Unhashable(&'static str),
    #[error("invalid literal: {0}")]
    Literal(String),
    #[error("invalid typed JSON: {0}")]
    Json(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_visits_every_value_in_order_and_stops_when_asked() {
        let v = crate::json::from_str(r#"[1, {"a": [2, 3]}, "x"]"#).unwrap();
        let mut seen = Vec::new();
        v.walk(|x, key| {
            seen.push(format!(
                "{}{}",
                key.map_or(String::new(), |k| format!("{k}=")),
                x.type_name()
            ));
            std::ops::ControlFlow::Continue(())
        });
        assert_eq!(
            seen,
            ["list", "int", "dict", "a=list", "int", "int", "string"]
        );
        let mut n = 0;
        v.walk(|_, _| {
            n += 1;
            if n == 3 {
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        });
        assert_eq!(n, 3);
        // Deep nesting walks without recursion.
        let mut deep = Value::Int(0);
        for _ in 0..100_000 {
            deep = Value::List(Box::new(std::iter::once(deep).collect::<List>()));
        }
        let mut count = 0;
        deep.walk(|_, _| {
            count += 1;
            std::ops::ControlFlow::Continue(())
        });
        assert_eq!(count, 100_001);
        std::mem::forget(deep); // dropping 100,000 nested boxes recurses
    }

    #[test]
    fn ints_and_floats_compare_as_numbers() {
        assert_eq!(Value::Int(1), Value::Float(1.0));
        assert!(Value::Int(1) < Value::Float(1.5));
        assert!(Value::Float(-0.5) < Value::Int(0));
        assert!(Value::Int(i64::MAX) < Value::Float(1e19));
        assert!(Value::Int(9_007_199_254_740_993) > Value::Float(9_007_199_254_740_992.0));
        assert_eq!(Value::Float(0.0), Value::Float(-0.0));
    }

    #[test]
    fn nans_are_one_value_above_every_number() {
        let neg_nan = Value::Float(-f64::NAN);
        let nan = Value::Float(f64::NAN);
        assert_eq!(neg_nan, nan);
        assert!(neg_nan > Value::Float(f64::INFINITY));
        assert!(neg_nan > Value::Int(i64::MAX));
        let s = Value::set([
            Value::Int(0),
            neg_nan.clone(),
            Value::Float(f64::NEG_INFINITY),
            Value::Float(0.0),
            nan,
        ])
        .unwrap();
        assert_eq!(s.len(), Some(3));
        let Value::Set(s) = s else { panic!() };
        assert!(s.contains(&neg_nan));
    }

    #[test]
    fn dicts_compare_as_sets_of_pairs() {
        let ab: Dict = [("a".into(), Value::Int(1)), ("b".into(), Value::Int(2))]
            .into_iter()
            .collect();
        let ba: Dict = [("b".into(), Value::Int(2)), ("a".into(), Value::Int(1))]
            .into_iter()
            .collect();
        assert_eq!(Value::Dict(ab.clone()), Value::Dict(ba));
        let ac: Dict = [("a".into(), Value::Int(1)), ("c".into(), Value::Int(2))]
            .into_iter()
            .collect();
        assert!(Value::Dict(ab) < Value::Dict(ac));
    }

    #[test]
    fn types_order_by_rank() {
        let mut v = vec![
            Value::str("a"),
            Value::Int(3),
            Value::Null,
            Value::Bool(true),
        ];
        v.sort();
        assert_eq!(
            v,
            vec![
                Value::Null,
                Value::Bool(true),
                Value::Int(3),
                Value::str("a")
            ]
        );
    }

    #[test]
    fn sets_refuse_containers() {
        let err = Value::set([Value::list([])]).unwrap_err();
        assert_eq!(err, ValueError::Unhashable("list"));
        let s = Value::set([Value::Int(1), Value::Float(1.0), Value::Int(2)]).unwrap();
        assert_eq!(s.len(), Some(2));
    }

    #[test]
    fn value_stays_small() {
        assert_eq!(std::mem::size_of::<Value>(), 24);
    }

    #[test]
    fn clone_of_a_large_list_shares_structure() {
        let big = Value::list((0..100_000).map(Value::Int));
        let copy = big.clone();
        let Value::List(mut l) = copy else { panic!() };
        l.insert(50_000, Value::Null);
        assert_eq!(l.len(), 100_001);
        assert_eq!(big.len(), Some(100_000));
    }
}
