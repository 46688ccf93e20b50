//! Operators: arithmetic with Python's semantics over 64-bit ints, floats and decimals;
//! sequence concatenation and repetition; set algebra; `in`; indexing and slicing.

use std::cell::RefCell;
use std::rc::Rc;

use okdb_ops::seq::Slice;
use okdb_value::Value;

use crate::ast::{BinOp, UnOp};
use crate::error::{Exc, Result};
use crate::interp::Interp;
use crate::val::*;

fn zero_div(msg: &str) -> Exc {
    Exc::raise("ZeroDivisionError", msg)
}

fn unsupported(op: BinOp, a: &Val, b: &Val) -> Exc {
    Exc::type_error(format!(
        "unsupported operand type(s) for {}: '{}' and '{}'",
        op.symbol(),
        a.type_name(),
        b.type_name()
    ))
}

/// Python's `divmod` for floats (CPython's `float_divmod`).
fn float_divmod(x: f64, y: f64) -> (f64, f64) {
    let mut m = x % y;
    let mut div = (x - m) / y;
    if m != 0.0 {
        if (y < 0.0) != (m < 0.0) {
            m += y;
            div -= 1.0;
        }
    } else {
        m = 0.0f64.copysign(y);
    }
    let floordiv = if div != 0.0 {
        let f = div.floor();
        if div - f > 0.5 {
            f + 1.0
        } else {
            f
        }
    } else {
        0.0f64.copysign(x / y)
    };
    (floordiv, m)
}

pub fn int_floordiv(a: i64, b: i64) -> Result<i64> {
    if b == 0 {
        return Err(zero_div("integer division or modulo by zero"));
    }
    let q = a.checked_div(b).ok_or_else(Exc::overflow)?;
    if (a % b != 0) && ((a < 0) != (b < 0)) {
        Ok(q - 1)
    } else {
        Ok(q)
    }
}

pub fn int_mod(a: i64, b: i64) -> Result<i64> {
    if b == 0 {
        return Err(zero_div("integer division or modulo by zero"));
    }
    let r = a.checked_rem(b).unwrap_or(0);
    if r != 0 && ((r < 0) != (b < 0)) {
        Ok(r + b)
    } else {
        Ok(r)
    }
}

fn int_pow(a: i64, b: i64) -> Result<Val> {
    if b < 0 {
        if a == 0 {
            return Err(zero_div("0.0 cannot be raised to a negative power"));
        }
        return Ok(Val::float((a as f64).powf(b as f64)));
    }
    let e = u32::try_from(b).map_err(|_| Exc::overflow())?;
    a.checked_pow(e).map(Val::int).ok_or_else(Exc::overflow)
}

fn float_op(op: BinOp, x: f64, y: f64) -> Result<Val> {
    Ok(Val::float(match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => {
            if y == 0.0 {
                return Err(zero_div("float division by zero"));
            }
            x / y
        }
        BinOp::FloorDiv => {
            if y == 0.0 {
                return Err(zero_div("float floor division by zero"));
            }
            float_divmod(x, y).0
        }
        BinOp::Mod => {
            if y == 0.0 {
                return Err(zero_div("float modulo by zero"));
            }
            float_divmod(x, y).1
        }
        BinOp::Pow => {
            if x == 0.0 && y < 0.0 {
                return Err(zero_div("0.0 cannot be raised to a negative power"));
            }
            if x < 0.0 && y.fract() != 0.0 {
                return Err(Exc::value_error(
                    "negative number cannot be raised to a fractional power (okdb has no complex numbers)",
                ));
            }
            let r = x.powf(y);
            if r.is_infinite() && x.is_finite() && y.is_finite() {
                return Err(Exc::raise(
                    "OverflowError",
                    "(34, 'Numerical result out of range')",
                ));
            }
            r
        }
        _ => return Err(unsupported(op, &Val::float(x), &Val::float(y))),
    }))
}

/// `x op y` of two ints, as `Interp::binop` answers it.
pub fn int_op(op: BinOp, x: i64, y: i64) -> Result<Val> {
    let checked = |r: Option<i64>| r.map(Val::int).ok_or_else(Exc::overflow);
    match op {
        BinOp::Add => checked(x.checked_add(y)),
        BinOp::Sub => checked(x.checked_sub(y)),
        BinOp::Mul => checked(x.checked_mul(y)),
        BinOp::Div => {
            if y == 0 {
                return Err(zero_div("division by zero"));
            }
            Ok(Val::float(x as f64 / y as f64))
        }
        BinOp::FloorDiv => int_floordiv(x, y).map(Val::int),
        BinOp::Mod => int_mod(x, y).map(Val::int),
        BinOp::Pow => int_pow(x, y),
        BinOp::BitAnd => Ok(Val::int(x & y)),
        BinOp::BitOr => Ok(Val::int(x | y)),
        BinOp::BitXor => Ok(Val::int(x ^ y)),
        BinOp::LShift => {
            if y < 0 {
                return Err(Exc::value_error("negative shift count"));
            }
            if x == 0 {
                return Ok(Val::int(0));
            }
            if y >= 64 {
                return Err(Exc::overflow());
            }
            let r = x.checked_shl(y as u32).ok_or_else(Exc::overflow)?;
            if r >> y != x {
                return Err(Exc::overflow());
            }
            Ok(Val::int(r))
        }
        BinOp::RShift => {
            if y < 0 {
                return Err(Exc::value_error("negative shift count"));
            }
            Ok(Val::int(x >> y.min(63)))
        }
        BinOp::MatMul => Err(unsupported(op, &Val::int(x), &Val::int(y))),
    }
}

fn decimal_op(op: BinOp, x: rust_decimal::Decimal, y: rust_decimal::Decimal) -> Result<Val> {
    let over = || Exc::raise("OverflowError", "decimal result out of range");
    let r = match op {
        BinOp::Add => x.checked_add(y).ok_or_else(over)?,
        BinOp::Sub => x.checked_sub(y).ok_or_else(over)?,
        BinOp::Mul => x.checked_mul(y).ok_or_else(over)?,
        BinOp::Div | BinOp::FloorDiv | BinOp::Mod if y.is_zero() => {
            return Err(zero_div("decimal division by zero"))
        }
        BinOp::Div => x.checked_div(y).ok_or_else(over)?,
        BinOp::FloorDiv => (x / y).trunc(),
        BinOp::Mod => x % y,
        _ => {
            return Err(unsupported(
                op,
                &Val::V(Value::Decimal(x)),
                &Val::V(Value::Decimal(y)),
            ))
        }
    };
    Ok(Val::V(Value::Decimal(r)))
}

impl Interp<'_> {
    pub fn binop(&mut self, op: BinOp, a: &Val, b: &Val) -> Result<Val> {
        use Value::*;
        match (a, b) {
            (Val::V(Int(x)), Val::V(Int(y))) => return int_op(op, *x, *y),
            (Val::V(Float(x)), Val::V(Float(y))) => return float_op(op, *x, *y),
            (Val::V(Bool(x)), Val::V(Bool(y)))
                if matches!(op, BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor) =>
            {
                return Ok(Val::bool(match op {
                    BinOp::BitAnd => x & y,
                    BinOp::BitOr => x | y,
                    _ => x ^ y,
                }));
            }
            (Val::V(Int(_) | Bool(_)), Val::V(Int(_) | Bool(_))) => {
                let (x, y) = (a.as_int().expect("int"), b.as_int().expect("int"));
                return int_op(op, x, y);
            }
            (Val::V(Int(_) | Bool(_) | Float(_)), Val::V(Int(_) | Bool(_) | Float(_)))
                if !matches!(
                    op,
                    BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor | BinOp::LShift | BinOp::RShift
                ) =>
            {
                let (x, y) = (a.as_float().expect("num"), b.as_float().expect("num"));
                return float_op(op, x, y);
            }
            (Val::V(Decimal(x)), Val::V(Decimal(y))) => return decimal_op(op, *x, *y),
            (Val::V(Decimal(x)), Val::V(Int(_) | Bool(_))) => {
                let y = rust_decimal::Decimal::from(b.as_int().expect("int"));
                return decimal_op(op, *x, y);
            }
            (Val::V(Int(_) | Bool(_)), Val::V(Decimal(y))) => {
                let x = rust_decimal::Decimal::from(a.as_int().expect("int"));
                return decimal_op(op, x, *y);
            }
            _ => {}
        }
        match op {
            BinOp::Add => self.add(a, b),
            BinOp::Mul => {
                if let Some(n) = b.as_int() {
                    if let Some(r) = self.repeat(a, n)? {
                        return Ok(r);
                    }
                }
                if let Some(n) = a.as_int() {
                    if let Some(r) = self.repeat(b, n)? {
                        return Ok(r);
                    }
                }
                let sequence = |v: &Val| {
                    matches!(
                        v,
                        Val::V(Value::Str(_) | Value::Bytes(_) | Value::List(_))
                            | Val::List(_)
                            | Val::Tuple(_)
                    )
                };
                if sequence(a) || sequence(b) {
                    let other = if sequence(a) { b } else { a };
                    return Err(Exc::type_error(format!(
                        "can't multiply sequence by non-int of type '{}'",
                        other.type_name()
                    )));
                }
                Err(unsupported(op, a, b))
            }
            BinOp::Sub | BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor => {
                let r = set_op(op, a, b)
                    .or_else(|| dict_union(op, a, b))
                    .unwrap_or_else(|| Err(unsupported(op, a, b)))?;
                self.charge_items(crate::builtins::len_of(&r).unwrap_or(0) as usize)?;
                Ok(self.made(r))
            }
            BinOp::Mod if a.as_str().is_some() => Err(Exc::raise(
                "NotSupported",
                "'%' string formatting is not supported in okdb scripts; use an f-string",
            )),
            _ => Err(unsupported(op, a, b)),
        }
    }

    fn add(&mut self, a: &Val, b: &Val) -> Result<Val> {
        match (a, b) {
            (Val::V(Value::Str(x)), Val::V(Value::Str(y))) => {
                self.charge(x.as_str().len() + y.as_str().len())?;
                let mut s = x.clone();
                s.push_str(y.as_str());
                Ok(Val::V(Value::Str(s)))
            }
            (Val::V(Value::Bytes(x)), Val::V(Value::Bytes(y))) => {
                self.charge(x.len() + y.len())?;
                Ok(Val::V(Value::Bytes([&x[..], &y[..]].concat().into())))
            }
            (Val::Tuple(x), Val::Tuple(y)) => {
                self.charge_items(x.len() + y.len())?;
                Ok(self.new_tuple(x.iter().chain(y.iter()).cloned().collect()))
            }
            (Val::V(Value::List(x)), Val::V(Value::List(y))) => {
                let mut l = (**x).clone();
                l.append((**y).clone());
                Ok(Val::V(Value::List(Box::new(l))))
            }
            _ => match (self.list_items(a), self.list_items(b)) {
                (Some(x), Some(y)) => {
                    self.charge_items(x.len() + y.len())?;
                    let mut out = x;
                    out.extend(y);
                    Ok(self.new_list(out))
                }
                _ => {
                    if a.as_str().is_some() {
                        return Err(Exc::type_error(format!(
                            "can only concatenate str (not \"{}\") to str",
                            b.type_name()
                        )));
                    }
                    if matches!(a, Val::List(_) | Val::V(Value::List(_))) {
                        return Err(Exc::type_error(format!(
                            "can only concatenate list (not \"{}\") to list",
                            b.type_name()
                        )));
                    }
                    Err(unsupported(BinOp::Add, a, b))
                }
            },
        }
    }

    /// The items of a list (either form), or None.
    pub fn list_items(&self, v: &Val) -> Option<Vec<Val>> {
        match v {
            Val::List(l) => Some(l.borrow().clone()),
            Val::V(Value::List(l)) => Some(l.values().map(Val::V).collect()),
            _ => None,
        }
    }

    fn repeat(&mut self, v: &Val, n: i64) -> Result<Option<Val>> {
        let n = n.max(0) as usize;
        Ok(Some(match v {
            Val::V(Value::Str(s)) => {
                self.charge(s.as_str().len().saturating_mul(n))?;
                Val::string(s.as_str().repeat(n))
            }
            Val::V(Value::Bytes(b)) => {
                self.charge(b.len().saturating_mul(n))?;
                Val::V(Value::Bytes(b.repeat(n).into()))
            }
            Val::Tuple(t) => {
                let n = if t.is_empty() { 0 } else { n };
                self.charge_items(t.len().saturating_mul(n))?;
                let mut out = Vec::with_capacity(t.len() * n);
                for _ in 0..n {
                    out.extend(t.iter().cloned());
                }
                self.new_tuple(out)
            }
            _ => match self.list_items(v) {
                Some(items) => {
                    let n = if items.is_empty() { 0 } else { n };
                    self.charge_items(items.len().saturating_mul(n))?;
                    let mut out = Vec::with_capacity(items.len() * n);
                    for _ in 0..n {
                        out.extend(items.iter().cloned());
                    }
                    self.new_list(out)
                }
                None => return Ok(None),
            },
        }))
    }

    /// `a op= b`: lists and sets change in place (`xs += [1]` extends the shared list).
    pub fn inplace(&mut self, op: BinOp, a: &Val, b: &Val) -> Result<Val> {
        match (op, a) {
            (BinOp::Add, Val::List(l)) => {
                let items = self.collect(b)?;
                self.charge_items(items.len())?;
                l.try_borrow_mut()
                    .map_err(|_| Exc::value_error("list changed while in use"))?
                    .extend(items);
                Ok(a.clone())
            }
            (BinOp::BitOr | BinOp::BitAnd | BinOp::Sub | BinOp::BitXor, Val::Set(_))
            | (BinOp::BitOr, Val::Dict(_)) => {
                let r = self.binop(op, a, b)?;
                match (a, r) {
                    (Val::Set(s), Val::Set(r)) => {
                        let new = r.borrow().clone();
                        *s.borrow_mut() = new;
                    }
                    (Val::Dict(obj), Val::Dict(r)) => {
                        let new = r.borrow().to_py();
                        let mut d = obj.borrow_mut();
                        *self.dict_mut(obj, &mut d)? = new;
                    }
                    _ => {}
                }
                Ok(a.clone())
            }
            _ => self.binop(op, a, b),
        }
    }

    pub fn unary(&mut self, op: UnOp, v: &Val) -> Result<Val> {
        match op {
            UnOp::Not => Ok(Val::bool(!v.truthy())),
            UnOp::Neg => match v {
                Val::V(Value::Float(f)) => Ok(Val::float(-f)),
                Val::V(Value::Decimal(d)) => Ok(Val::V(Value::Decimal(-*d))),
                _ => match v.as_int() {
                    Some(i) => i.checked_neg().map(Val::int).ok_or_else(Exc::overflow),
                    None => Err(Exc::type_error(format!(
                        "bad operand type for unary -: '{}'",
                        v.type_name()
                    ))),
                },
            },
            UnOp::Pos => match v {
                Val::V(Value::Float(_) | Value::Decimal(_)) => Ok(v.clone()),
                _ => match v.as_int() {
                    Some(i) => Ok(Val::int(i)),
                    None => Err(Exc::type_error(format!(
                        "bad operand type for unary +: '{}'",
                        v.type_name()
                    ))),
                },
            },
            UnOp::Invert => match v.as_int() {
                Some(i) => Ok(Val::int(!i)),
                None => Err(Exc::type_error(format!(
                    "bad operand type for unary ~: '{}'",
                    v.type_name()
                ))),
            },
        }
    }

    /// `item in container`.
    pub fn contains(&mut self, container: &Val, item: &Val) -> Result<bool> {
        match container {
            Val::V(Value::Str(s)) => match item.as_str() {
                Some(sub) => Ok(s.as_str().contains(sub)),
                None => Err(Exc::type_error(format!(
                    "'in <string>' requires string as left operand, not {}",
                    item.type_name()
                ))),
            },
            Val::V(Value::Bytes(b)) => match item {
                Val::V(Value::Bytes(sub)) => {
                    Ok(sub.is_empty() || b.windows(sub.len()).any(|w| w == &sub[..]))
                }
                _ => match item.as_int() {
                    Some(i) => Ok(b.iter().any(|&x| x as i64 == i)),
                    None => Err(Exc::type_error("a bytes-like object is required")),
                },
            },
            Val::V(Value::Dict(d)) => Ok(match item.as_str() {
                Some(k) => d.contains_key(k),
                None => {
                    crate::val::check_hashable(item)?;
                    false
                }
            }),
            Val::V(Value::Set(s)) => {
                crate::val::check_hashable(item)?;
                Ok(s.iter().any(|x| py_eq(&Val::V(x.clone()), item)))
            }
            Val::V(Value::List(l)) => {
                if let Val::V(x) = item {
                    if !matches!(
                        x,
                        Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::Decimal(_)
                    ) {
                        return Ok(l.iter().any(|y| {
                            std::mem::discriminant(&*y) == std::mem::discriminant(x) && *y == *x
                        }));
                    }
                }
                Ok(l.iter().any(|y| py_eq(&Val::V(y.into_owned()), item)))
            }
            Val::List(l) => Ok(l.borrow().iter().any(|y| py_eq(y, item))),
            Val::Tuple(t) => Ok(t.iter().any(|y| py_eq(y, item))),
            Val::Dict(d) => {
                let k = HKey::new(item.clone())?;
                Ok(d.borrow().contains_key(&k))
            }
            Val::Set(s) => {
                let k = HKey::new(item.clone())?;
                Ok(s.borrow().contains(&k))
            }
            Val::Range(a, b, s) => Ok(match item.as_int() {
                Some(i) if matches!(item, Val::V(Value::Int(_) | Value::Bool(_))) => {
                    let n = range_len(*a, *b, *s) as i128;
                    let (d, s) = (i as i128 - *a as i128, *s as i128);
                    n > 0 && d % s == 0 && (0..n).contains(&(d / s))
                }
                _ => false,
            }),
            Val::Boxed(b) => {
                let v = b.borrow();
                let x = to_value(item)?;
                okdb_ops::contains("in", &v, &x).map_err(crate::interp::op_error)
            }
            Val::V(v @ (Value::Deque(_) | Value::SortedSet(_) | Value::PQueue(_))) => {
                let x = to_value(item)?;
                okdb_ops::contains("in", v, &x).map_err(crate::interp::op_error)
            }
            Val::Iter(_) => {
                let mut it = self.iter_of(container)?;
                while let Some(x) = it.next(self)? {
                    self.tick()?;
                    if py_eq(&x, item) {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            other => Err(Exc::type_error(format!(
                "argument of type '{}' is not iterable",
                other.type_name()
            ))),
        }
    }

    /// `obj[idx]` (not a slice).
    pub fn getitem(&mut self, obj: &Val, idx: &Val) -> Result<Val> {
        let seq_index = |len: usize, what: &str| -> Result<usize> {
            let i = idx.as_int().ok_or_else(|| {
                Exc::type_error(format!(
                    "{what} indices must be integers or slices, not {}",
                    idx.type_name()
                ))
            })?;
            okdb_ops::seq::index_of(len, i)
                .ok_or_else(|| Exc::index_error(format!("{what} index out of range")))
        };
        match obj {
            Val::List(l) => {
                let mut l = l
                    .try_borrow_mut()
                    .map_err(|_| Exc::value_error("list changed while in use"))?;
                let i = seq_index(l.len(), "list")?;
                self.share(&mut l[i])
            }
            Val::Tuple(t) => Ok(t[seq_index(t.len(), "tuple")?].clone()),
            Val::V(Value::List(l)) => Ok(Val::V(
                l.get(seq_index(l.len(), "list")?)
                    .expect("in range")
                    .into_owned(),
            )),
            Val::V(Value::Str(s)) => {
                let text = s.as_str();
                let i = seq_index(s.char_len(), "string")?;
                let c = if text.is_ascii() {
                    text[i..i + 1].to_string()
                } else {
                    text.chars().nth(i).expect("in range").to_string()
                };
                Ok(Val::string(c))
            }
            Val::V(Value::Bytes(b)) => Ok(Val::int(b[seq_index(b.len(), "index")?] as i64)),
            Val::Range(a, b, s) => {
                let n = range_len(*a, *b, *s) as usize;
                let i = seq_index(n, "range object")?;
                Ok(Val::int(a + i as i64 * s))
            }
            Val::Dict(obj) => {
                let k = HKey::new(idx.clone())?;
                let mut d = obj
                    .try_borrow_mut()
                    .map_err(|_| Exc::value_error("dict changed while in use"))?;
                match self.dict_item(obj, &mut d, &k)? {
                    Some(v) => Ok(v),
                    None => Err(Exc::raise("KeyError", crate::format::repr(idx)?)),
                }
            }
            Val::V(Value::Dict(d)) => {
                let found = match idx.as_str() {
                    Some(k) => d.get(k),
                    None => {
                        crate::val::check_hashable(idx)?;
                        None
                    }
                };
                match found {
                    Some(v) => Ok(Val::V(v.clone())),
                    None => Err(Exc::raise("KeyError", crate::format::repr(idx)?)),
                }
            }
            Val::Boxed(b) => {
                let b = b.borrow();
                self.stored_getitem(&b, idx)
            }
            Val::V(v @ (Value::Deque(_) | Value::SortedSet(_) | Value::PQueue(_))) => {
                self.stored_getitem(v, idx)
            }
            Val::Match(m) => crate::re::group(m, idx),
            other => Err(Exc::type_error(format!(
                "'{}' object is not subscriptable",
                other.type_name()
            ))),
        }
    }

    fn stored_getitem(&mut self, v: &Value, idx: &Val) -> Result<Val> {
        match v {
            Value::Deque(d) => {
                let i = idx.index("deque")?;
                let i = okdb_ops::seq::index_of(d.items.len(), i)
                    .ok_or_else(|| Exc::index_error("deque index out of range"))?;
                Ok(Val::V(d.items.get(i).expect("in range").into_owned()))
            }
            Value::SortedSet(z) => {
                let m = idx
                    .as_str()
                    .ok_or_else(|| Exc::type_error("sortedset indices are members (strings)"))?;
                match z.score(m) {
                    Some(s) => Ok(Val::float(s)),
                    None => Err(Exc::raise("KeyError", crate::format::str_repr(m))),
                }
            }
            other => Err(Exc::type_error(format!(
                "'{}' object is not subscriptable",
                other.type_name()
            ))),
        }
    }

    /// `obj[start:stop:step]`.
    pub fn getslice(&mut self, obj: &Val, bounds: [Option<i64>; 3]) -> Result<Val> {
        let [start, stop, step] = bounds;
        let step = step.unwrap_or(1).max(-i64::MAX);
        let slice = |len: usize| {
            Slice::new(len, start, stop, step)
                .map_err(|_| Exc::value_error("slice step cannot be zero"))
        };
        match obj {
            Val::List(l) => {
                let l = l.borrow();
                let s = slice(l.len())?;
                self.charge_items(s.count)?;
                let items = s.positions().map(|i| l[i].clone()).collect();
                drop(l);
                Ok(self.new_list(items))
            }
            Val::Tuple(t) => {
                let s = slice(t.len())?;
                self.charge_items(s.count)?;
                Ok(self.new_tuple(s.positions().map(|i| t[i].clone()).collect()))
            }
            Val::V(Value::List(l)) => {
                let s = slice(l.len())?;
                if s.step == 1 {
                    let from = s.start as usize;
                    return Ok(Val::V(Value::List(Box::new(l.slice(from, from + s.count)))));
                }
                Ok(Val::V(Value::list(
                    s.positions()
                        .map(|i| l.get(i).expect("in range").into_owned()),
                )))
            }
            Val::V(Value::Str(text)) => {
                let t = text.as_str();
                self.charge(t.len().min(slice(t.len())?.count.saturating_mul(4)))?;
                if t.is_ascii() {
                    let s = slice(t.len())?;
                    let b = t.as_bytes();
                    if s.step == 1 {
                        let from = s.start as usize;
                        return Ok(Val::str(&t[from..from + s.count]));
                    }
                    let out: String = s.positions().map(|i| b[i] as char).collect();
                    return Ok(Val::string(out));
                }
                let chars: Vec<char> = t.chars().collect();
                let s = slice(chars.len())?;
                Ok(Val::string(s.positions().map(|i| chars[i]).collect()))
            }
            Val::V(Value::Bytes(b)) => {
                let s = slice(b.len())?;
                self.charge(s.count)?;
                Ok(Val::V(Value::Bytes(
                    s.positions().map(|i| b[i]).collect::<Vec<u8>>().into(),
                )))
            }
            Val::Range(a, b, st) => {
                let n = range_len(*a, *b, *st) as usize;
                let s = slice(n)?;
                let first = a + s.start * st;
                let new_step = st.checked_mul(s.step).ok_or_else(Exc::overflow)?;
                let stop = (s.count as i64)
                    .checked_mul(new_step)
                    .and_then(|d| first.checked_add(d))
                    .ok_or_else(Exc::overflow)?;
                Ok(Val::Range(first, stop, new_step))
            }
            other => Err(Exc::type_error(format!(
                "'{}' object is not subscriptable",
                other.type_name()
            ))),
        }
    }

    /// `obj[idx] = value`; `obj` is a shared object (the caller promoted a snapshot).
    pub fn setitem(&mut self, obj: &Val, idx: &Val, value: Val) -> Result<()> {
        match obj {
            Val::List(l) => {
                let mut l = l
                    .try_borrow_mut()
                    .map_err(|_| Exc::value_error("list changed while in use"))?;
                let i = idx.as_int().ok_or_else(|| {
                    Exc::type_error(format!(
                        "list indices must be integers or slices, not {}",
                        idx.type_name()
                    ))
                })?;
                let i = okdb_ops::seq::index_of(l.len(), i)
                    .ok_or_else(|| Exc::index_error("list assignment index out of range"))?;
                l[i] = value;
                Ok(())
            }
            Val::Dict(obj) => {
                let k = HKey::new(idx.clone())?;
                self.charge_items(1)?;
                let mut d = obj
                    .try_borrow_mut()
                    .map_err(|_| Exc::value_error("dict changed while in use"))?;
                self.dict_mut(obj, &mut d)?.insert(k, value);
                Ok(())
            }
            Val::Boxed(b) => {
                let stored = match &*b.borrow() {
                    Value::Deque(_) => Some(to_value(&value)?),
                    _ => None,
                };
                let mut b = b.borrow_mut();
                match &mut *b {
                    Value::Deque(d) => {
                        let i = idx.index("deque")?;
                        let i = okdb_ops::seq::index_of(d.items.len(), i)
                            .ok_or_else(|| Exc::index_error("deque index out of range"))?;
                        d.items.set(i, stored.expect("read above"));
                        Ok(())
                    }
                    Value::SortedSet(z) => {
                        let m = idx
                            .as_str()
                            .ok_or_else(|| Exc::type_error("sortedset members are strings"))?;
                        let s = value
                            .as_float()
                            .ok_or_else(|| Exc::type_error("a sortedset score must be a number"))?;
                        if s.is_nan() {
                            return Err(Exc::value_error("a score cannot be NaN"));
                        }
                        z.insert(m.into(), s);
                        Ok(())
                    }
                    other => Err(Exc::type_error(format!(
                        "'{}' object does not support item assignment",
                        other.type_name()
                    ))),
                }
            }
            other => Err(Exc::type_error(format!(
                "'{}' object does not support item assignment",
                other.type_name()
            ))),
        }
    }

    /// `obj[a:b:c] = items`.
    pub fn setslice(&mut self, obj: &Val, bounds: [Option<i64>; 3], value: &Val) -> Result<()> {
        let Val::List(l) = obj else {
            return Err(Exc::type_error(format!(
                "'{}' object does not support item assignment",
                obj.type_name()
            )));
        };
        let items = self.collect(value)?;
        self.charge_items(items.len())?;
        let mut l = l
            .try_borrow_mut()
            .map_err(|_| Exc::value_error("list changed while in use"))?;
        let [start, stop, step] = bounds;
        let step = step.unwrap_or(1);
        let s = Slice::new(l.len(), start, stop, step.max(-i64::MAX))
            .map_err(|_| Exc::value_error("slice step cannot be zero"))?;
        if step == 1 {
            let from = s.start.max(0) as usize;
            let to = from + s.count;
            l.splice(from..to, items);
            return Ok(());
        }
        if items.len() != s.count {
            return Err(Exc::value_error(format!(
                "attempt to assign sequence of size {} to extended slice of size {}",
                items.len(),
                s.count
            )));
        }
        for (i, x) in s.positions().zip(items) {
            l[i] = x;
        }
        Ok(())
    }

    /// `del obj[idx]`.
    pub fn delitem(&mut self, obj: &Val, idx: &Val) -> Result<()> {
        match obj {
            Val::List(l) => {
                let mut l = l.borrow_mut();
                let i = idx.index("list indices")?;
                let i = okdb_ops::seq::index_of(l.len(), i)
                    .ok_or_else(|| Exc::index_error("list assignment index out of range"))?;
                l.remove(i);
                Ok(())
            }
            Val::Dict(obj) => {
                let k = HKey::new(idx.clone())?;
                let mut d = obj.borrow_mut();
                if !d.contains_key(&k) {
                    return Err(Exc::raise("KeyError", crate::format::repr(idx)?));
                }
                self.dict_mut(obj, &mut d)?.shift_remove(&k);
                Ok(())
            }
            other => Err(Exc::type_error(format!(
                "'{}' object does not support item deletion",
                other.type_name()
            ))),
        }
    }

    pub fn delslice(&mut self, obj: &Val, bounds: [Option<i64>; 3]) -> Result<()> {
        let Val::List(l) = obj else {
            return Err(Exc::type_error(format!(
                "'{}' object does not support item deletion",
                obj.type_name()
            )));
        };
        let mut l = l.borrow_mut();
        let [start, stop, step] = bounds;
        let s = Slice::new(l.len(), start, stop, step.unwrap_or(1).max(-i64::MAX))
            .map_err(|_| Exc::value_error("slice step cannot be zero"))?;
        let mut drop: Vec<usize> = s.positions().collect();
        drop.sort_unstable();
        let mut k = 0;
        let mut i = 0;
        l.retain(|_| {
            let keep = !(k < drop.len() && drop[k] == i);
            if !keep {
                k += 1;
            }
            i += 1;
            keep
        });
        Ok(())
    }
}

fn set_op(op: BinOp, a: &Val, b: &Val) -> Option<Result<Val>> {
    let view = |v: &Val| -> Option<PySet> {
        match v {
            Val::Set(s) => Some(s.borrow().clone()),
            Val::V(Value::Set(s)) => Some(s.iter().map(|x| HKey(Val::V(x.clone()))).collect()),
            _ => None,
        }
    };
    let (x, y) = (view(a)?, view(b)?);
    let out: PySet = match op {
        BinOp::BitOr => x.union(&y).cloned().collect(),
        BinOp::BitAnd => x.intersection(&y).cloned().collect(),
        BinOp::Sub => x.difference(&y).cloned().collect(),
        BinOp::BitXor => x.symmetric_difference(&y).cloned().collect(),
        _ => return None,
    };
    Some(Ok(Val::Set(Rc::new(RefCell::new(out)))))
}

fn dict_union(op: BinOp, a: &Val, b: &Val) -> Option<Result<Val>> {
    if op != BinOp::BitOr {
        return None;
    }
    let (mut x, y) = (dict_view(a)?, dict_view(b)?);
    x.extend(y);
    Some(Ok(Val::Dict(Rc::new(RefCell::new(x.into())))))
}
