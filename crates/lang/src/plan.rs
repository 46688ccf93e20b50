//! The planner: comprehensions it recognises run as a native loop over the stored value,
//! with no per-item interpretation and no copy of what they skip.
//!
//! Today it knows one shape, a filter scan over a stored list of records:
//!
//! ```text
//! [x for x in GET('k') if x['f'] > c and …]        # or $k; any of < <= > >= == !=
//! sum(1 for x in GET('k') if x['f'] > c)           # a count
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
    /// The element is the item itself (a list comprehension of the items).
    pub yields_item: bool,
    /// The element is the constant 1 (a count, under `sum`).
    pub yields_one: bool,
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
    let key = match &g.iter {
        Expr::Key(k) => k.clone(),
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
    let mut conds = Vec::new();
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
    let yields_item = c.kind == CompKind::List && is_item(&c.elt);
    let yields_one = c.kind == CompKind::Gen && matches!(c.elt, Expr::Const(Value::Int(1)));
    (yields_item || yields_one).then_some(Scan {
        key,
        conds,
        yields_item,
        yields_one,
    })
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
    let ord = match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Str(x), Value::Str(y)) => x.as_str().cmp(y.as_str()),
        _ if numeric(a) && numeric(b) => a.cmp(b),
        _ => return None,
    };
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
