//! The planner: comprehensions it recognises run as a native loop over the stored value,
//! with no per-item interpretation and no copy of what they skip.
//!
//! Today it knows one shape, a filter scan over a stored list of records, and what is made of
//! its matches:
//!
//! ```text
//! [x for x in GET('k') if x['f'] > c and …]        # or $k; any of < <= > >= == !=
//! sum(1 for x in GET('k') if x['f'] > c)           # a count
//! sum(x['g'] for x in GET('k') if x['f'] > c)      # a field summed (ints and floats)
//! max(x['g'] for x in GET('k') if x['f'] > c)      # or min: numbers, or strings
//! sum(x['g'] for x in [x for x in GET('k') if …])  # a scan over a scan's matches: one scan
//! ```
//!
//! The scan answers exactly what the interpreter would, or declines (`None`) and the
//! interpreter runs the comprehension itself: an item that is not a dict, a missing field, a
//! comparison of other types (where Python raises or compares otherwise), a NaN. A secondary
//! index would be a second way to run the same `Scan`.

use std::cmp::Ordering;

use okdb_value::{SmolStr, Value};

use crate::ast::*;

#[derive(Debug, Clone)]
pub struct Scan {
    /// The key whose list it reads.
    pub key: SmolStr,
    /// Every condition must hold: `item[field] op value`.
    pub conds: Vec<(SmolStr, CmpOp, Value)>,
    /// What each match gives the comprehension.
    pub yields: Yields,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Yields {
    /// The item itself (a list comprehension of the items).
    Item,
    /// The constant 1 (a count, under `sum`).
    One,
    /// A field of the item (under `sum`, `min` or `max`).
    Field(SmolStr),
}

/// What a builtin makes of a generator expression's elements (see `Interp::run_scan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agg {
    /// The matches themselves, as a list.
    List,
    Sum,
    Min,
    Max,
}

impl Scan {
    /// Whether a scan with these elements can answer `agg`.
    pub fn answers(&self, agg: Agg) -> bool {
        matches!(
            (&self.yields, agg),
            (Yields::Item, Agg::List)
                | (Yields::One, Agg::Sum)
                | (Yields::Field(_), Agg::Sum | Agg::Min | Agg::Max)
        )
    }
}

/// Whether `c` is a scan the planner runs natively.
pub fn detect(c: &Comp) -> Option<Scan> {
    let [g] = &c.gens[..] else { return None };
    let Target::Name(Name {
        var: Var::Local(slot),
        ..
    }) = &g.target
    else {
        return None;
    };
    let mut conds = Vec::new();
    let key = match &g.iter {
        Expr::Key(k) => k.clone(),
        // A comprehension over a planned list comprehension's matches: one scan, with both
        // comprehensions' conditions (the inner ones first, as the items meet them).
        Expr::Comp(inner) => match inner.plan.as_deref() {
            Some(Scan {
                key,
                conds: first,
                yields: Yields::Item,
            }) if inner.kind == CompKind::List => {
                conds.extend(first.iter().cloned());
                key.clone()
            }
            _ => return None,
        },
        Expr::Call { func, args, kwargs } if kwargs.is_empty() => match (&**func, &args[..]) {
            (
                Expr::Name(Name {
                    id,
                    var: Var::Global,
                }),
                [Expr::Const(Value::Str(k))],
            ) if id == "GET" => SmolStr::new(k.as_str()),
            _ => return None,
        },
        _ => return None,
    };
    let is_item = |e: &Expr| matches!(e, Expr::Name(Name { var: Var::Local(s), .. }) if s == slot);
    let mut add = |e: &Expr| -> Option<()> {
        let Expr::Compare(left, rest) = e else {
            return None;
        };
        let [(op, Expr::Const(v))] = &rest[..] else {
            return None;
        };
        let Expr::Index(obj, field) = &**left else {
            return None;
        };
        let Expr::Const(Value::Str(field)) = &**field else {
            return None;
        };
        if !is_item(obj)
            || !matches!(
                op,
                CmpOp::Eq | CmpOp::Ne | CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge
            )
        {
            return None;
        }
        conds.push((SmolStr::new(field.as_str()), *op, v.clone()));
        Some(())
    };
    for cond in &g.ifs {
        match cond {
            Expr::BoolOp(true, parts) => parts.iter().try_for_each(&mut add)?,
            other => add(other)?,
        }
    }
    let yields = match (c.kind, &c.elt) {
        (CompKind::List, e) if is_item(e) => Yields::Item,
        (CompKind::Gen, Expr::Const(Value::Int(1))) => Yields::One,
        (CompKind::Gen, Expr::Index(obj, field)) if is_item(obj) => match &**field {
            Expr::Const(Value::Str(f)) => Yields::Field(SmolStr::new(f.as_str())),
            _ => return None,
        },
        _ => return None,
    };
    Some(Scan { key, conds, yields })
}

fn numeric(v: &Value) -> bool {
    match v {
        Value::Int(_) | Value::Decimal(_) => true,
        Value::Float(f) => !f.is_nan(),
        _ => false,
    }
}

/// `a op b` as Python answers it, or None where the scan leaves it to the interpreter.
fn test(a: &Value, op: CmpOp, b: &Value) -> Option<bool> {
    let ord = order(a, b)?;
    Some(match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
        _ => return None,
    })
}

/// How two values order as Python orders them, for the types the scan compares natively
/// (numbers but NaN, strings); None for the rest.
pub fn order(a: &Value, b: &Value) -> Option<Ordering> {
    Some(match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Str(x), Value::Str(y)) => x.as_str().cmp(y.as_str()),
        _ if numeric(a) && numeric(b) => a.cmp(b),
        _ => return None,
    })
}

/// Whether an item passes every condition; None to leave it to the interpreter. `hints` (one
/// per condition) remember where each field was in the last record (`Dict::get_hinted`).
pub fn matches(scan: &Scan, item: &Value, hints: &mut [usize]) -> Option<bool> {
    let Value::Dict(d) = item else { return None };
    for ((field, op, value), hint) in scan.conds.iter().zip(hints) {
        let v = d.get_hinted(field, hint)?;
        if !test(v, *op, value)? {
            return Some(false);
        }
    }
    Some(true)
}

/// A running `sum` of matched fields, as the interpreter adds them from 0: ints exactly (an
/// overflow is left to the interpreter, which raises), an int and a float as floats.
#[derive(Debug, Clone, Copy)]
pub enum Total {
    Int(i64),
    Float(f64),
}

impl Total {
    /// Adds one field; None where the interpreter must answer (an overflow, or a value that
    /// is not an int or a float: Python adds bools and decimals otherwise, or raises).
    pub fn plus(self, v: &Value) -> Option<Total> {
        Some(match (self, v) {
            (Total::Int(a), Value::Int(x)) => Total::Int(a.checked_add(*x)?),
            (Total::Int(a), Value::Float(x)) => Total::Float(a as f64 + x),
            (Total::Float(a), Value::Int(x)) => Total::Float(a + *x as f64),
            (Total::Float(a), Value::Float(x)) => Total::Float(a + x),
            _ => return None,
        })
    }
}

/// Whether `v` replaces `best` as the running `min` (`max` when `max`): only when strictly
/// smaller (greater), so the first of equal values stays, as in Python. None where the
/// interpreter must answer (types Python orders otherwise or not at all, a NaN).
pub fn better(v: &Value, best: &Value, max: bool) -> Option<bool> {
    let ord = order(v, best)?;
    Some(if max {
        ord == Ordering::Greater
    } else {
        ord == Ordering::Less
    })
}
