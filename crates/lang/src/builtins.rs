//! Builtin functions, as Python's behave (over 64-bit ints), plus okdb's constructors.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::rc::Rc;

use okdb_value::{SmolStr, Value};

use crate::ast::Comp;
use crate::error::{Exc, Result};
use crate::interp::{Frame, Interp};
use crate::iter::Iter;
use crate::plan::Agg;
use crate::val::*;

macro_rules! builtins {
    ($($variant:ident = $name:literal,)*) => {
        /// A builtin function (or type, for `isinstance`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Builtin { $($variant,)* }

        impl Builtin {
            pub fn by_name(name: &str) -> Option<Builtin> {
                match name { $($name => Some(Builtin::$variant),)* _ => None }
            }

            pub fn name(self) -> &'static str {
                match self { $(Builtin::$variant => $name,)* }
            }

            /// Every builtin's name (docs, tests).
            pub const ALL: &'static [&'static str] = &[$($name,)*];
        }
    };
}

builtins! {
    Len = "len", Sum = "sum", Min = "min", Max = "max", Sorted = "sorted",
    Reversed = "reversed", Abs = "abs", Round = "round", Any = "any", All = "all",
    Range = "range", Enumerate = "enumerate", Zip = "zip", Map = "map", Filter = "filter",
    Int = "int", Float = "float", Str = "str", Bool = "bool", List = "list", Dict = "dict",
    Set = "set", Tuple = "tuple", Isinstance = "isinstance", Print = "print", Repr = "repr",
    Divmod = "divmod", Pow = "pow", Chr = "chr", Ord = "ord", Hex = "hex", Bin = "bin",
    Oct = "oct", Iter = "iter", Next = "next", Format = "format", Now = "now",
    Random = "random", Randint = "randint", Decimal = "decimal", Date = "date",
    Datetime = "datetime", Deque = "deque", Sortedset = "sortedset", Pqueue = "pqueue",
    Bytes = "bytes",
}

/// A whole float as an int (`int(x)`, `round(x)`), with Python's errors.
fn float_to_int(f: f64) -> Result<i64> {
    if f.is_nan() {
        return Err(Exc::value_error("cannot convert float NaN to integer"));
    }
    if f.is_infinite() {
        return Err(Exc::raise(
            "OverflowError",
            "cannot convert float infinity to integer",
        ));
    }
    if f.abs() >= 9.223_372_036_854_776e18 {
        return Err(Exc::overflow());
    }
    Ok(f as i64)
}

/// `name() takes … arguments (n given)` unless `min <= args.len() <= max` (builtins and
/// methods alike).
pub(crate) fn arity(name: &str, args: &[Val], min: usize, max: usize) -> Result<()> {
    if args.len() < min || args.len() > max {
        let expected = if min == max {
            format!("exactly {min} argument{}", if min == 1 { "" } else { "s" })
        } else if args.len() < min {
            format!("at least {min} argument{}", if min == 1 { "" } else { "s" })
        } else {
            format!("at most {max} argument{}", if max == 1 { "" } else { "s" })
        };
        return Err(Exc::type_error(format!(
            "{name}() takes {expected} ({} given)",
            args.len()
        )));
    }
    Ok(())
}

fn no_kwargs(name: &str, kwargs: &[(SmolStr, Val)]) -> Result<()> {
    if let Some((k, _)) = kwargs.first() {
        return Err(Exc::type_error(format!(
            "{name}() got an unexpected keyword argument '{k}'"
        )));
    }
    Ok(())
}

/// Takes the keyword arguments a builtin accepts; any other is an error.
fn take_kwargs<const N: usize>(
    name: &str,
    kwargs: Vec<(SmolStr, Val)>,
    names: [&str; N],
) -> Result<[Option<Val>; N]> {
    let mut out: [Option<Val>; N] = std::array::from_fn(|_| None);
    for (k, v) in kwargs {
        match names.iter().position(|n| *n == k) {
            Some(i) => out[i] = Some(v),
            None => {
                return Err(Exc::type_error(format!(
                    "{name}() got an unexpected keyword argument '{k}'"
                )))
            }
        }
    }
    Ok(out)
}

pub fn len_of(v: &Val) -> Result<i64> {
    Ok(match v {
        Val::V(Value::Str(s)) => s.char_len() as i64,
        Val::V(x) => match x.len() {
            Some(n) if !matches!(x, Value::Int(_) | Value::Float(_) | Value::Bool(_)) => n as i64,
            _ => {
                return Err(Exc::type_error(format!(
                    "object of type '{}' has no len()",
                    v.type_name()
                )))
            }
        },
        Val::List(l) => l.borrow().len() as i64,
        Val::Tuple(t) => t.len() as i64,
        Val::Dict(d) => d.borrow().len() as i64,
        Val::Set(s) => s.borrow().len() as i64,
        Val::Boxed(b) => b.borrow().len().unwrap_or(0) as i64,
        Val::Range(a, b, s) => range_len(*a, *b, *s),
        other => {
            return Err(Exc::type_error(format!(
                "object of type '{}' has no len()",
                other.type_name()
            )))
        }
    })
}

fn parse_int(s: &str, base: u32) -> Option<i64> {
    let t = s.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let t = if base == 16 {
        t.strip_prefix("0x")
            .or_else(|| t.strip_prefix("0X"))
            .unwrap_or(t)
    } else if base == 8 {
        t.strip_prefix("0o")
            .or_else(|| t.strip_prefix("0O"))
            .unwrap_or(t)
    } else if base == 2 {
        t.strip_prefix("0b")
            .or_else(|| t.strip_prefix("0B"))
            .unwrap_or(t)
    } else {
        t
    };
    if t.is_empty() || t.starts_with('_') || t.ends_with('_') || t.contains("__") {
        return None;
    }
    let digits: String = t.chars().filter(|c| *c != '_').collect();
    if !digits.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let n = i128::from_str_radix(&digits, base).ok()?;
    let n = if neg { -n } else { n };
    i64::try_from(n).ok()
}

pub fn to_int(v: &Val, base: Option<i64>) -> Result<i64> {
    if let Some(b) = base {
        let s = v
            .as_str()
            .ok_or_else(|| Exc::type_error("int() can't convert non-string with explicit base"))?;
        if b == 0 {
            // Base 0: the prefix says (0x, 0o, 0b), else decimal.
            let t = s.trim().trim_start_matches(['+', '-']).to_ascii_lowercase();
            let base = match t.get(..2) {
                Some("0x") => 16,
                Some("0o") => 8,
                Some("0b") => 2,
                _ => 10,
            };
            return parse_int(s, base).ok_or_else(|| {
                Exc::value_error(format!(
                    "invalid literal for int() with base 0: {}",
                    crate::format::str_repr(s)
                ))
            });
        }
        if !(2..=36).contains(&b) {
            return Err(Exc::value_error("int() base must be >= 2 and <= 36, or 0"));
        }
        return parse_int(s, b as u32).ok_or_else(|| {
            Exc::value_error(format!(
                "invalid literal for int() with base {b}: {}",
                crate::format::str_repr(s)
            ))
        });
    }
    match v {
        Val::V(Value::Int(i)) => Ok(*i),
        Val::V(Value::Bool(b)) => Ok(*b as i64),
        Val::V(Value::Float(f)) => float_to_int(f.trunc()),
        Val::V(Value::Decimal(d)) => i64::try_from(d.trunc()).map_err(|_| Exc::overflow()),
        Val::V(Value::Str(s)) => {
            let t = s.as_str();
            parse_int(t, 10).ok_or_else(|| {
                let digits_only = t.trim().trim_start_matches(['-', '+']);
                if !digits_only.is_empty()
                    && digits_only.chars().all(|c| c.is_ascii_digit() || c == '_')
                {
                    Exc::overflow()
                } else {
                    Exc::value_error(format!(
                        "invalid literal for int() with base 10: {}",
                        crate::format::str_repr(t)
                    ))
                }
            })
        }
        other => Err(Exc::type_error(format!(
            "int() argument must be a string, a bytes-like object or a real number, not '{}'",
            other.type_name()
        ))),
    }
}

pub fn to_float(v: &Val) -> Result<f64> {
    match v {
        Val::V(Value::Str(s)) => {
            let t = s.as_str().trim();
            let lower = t.to_ascii_lowercase();
            let l = lower.trim_start_matches(['+', '-']);
            let neg = lower.starts_with('-');
            let special = match l {
                "inf" | "infinity" => Some(f64::INFINITY),
                "nan" => Some(f64::NAN),
                _ => None,
            };
            if let Some(x) = special {
                return Ok(if neg { -x } else { x });
            }
            let ok = !t.is_empty()
                && t.chars()
                    .all(|c| c.is_ascii_digit() || "+-.eE_".contains(c))
                && !t.contains("__");
            ok.then(|| t.replace('_', "").parse::<f64>().ok())
                .flatten()
                .ok_or_else(|| {
                    Exc::value_error(format!(
                        "could not convert string to float: {}",
                        crate::format::str_repr(s.as_str())
                    ))
                })
        }
        Val::V(Value::Decimal(d)) => Ok(d.to_string().parse().unwrap_or(f64::NAN)),
        _ => v.as_float().ok_or_else(|| {
            Exc::type_error(format!(
                "float() argument must be a string or a real number, not '{}'",
                v.type_name()
            ))
        }),
    }
}

fn round_float(x: f64, nd: i64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    if nd >= 0 {
        if nd > 300 {
            return x;
        }
        // Correctly rounded decimal text, read back: CPython's result.
        format!("{:.*}", nd as usize, x).parse().unwrap_or(x)
    } else {
        let p = 10f64.powi(nd.saturating_neg().min(308) as i32);
        let y = x / p;
        y.round_ties_even() * p
    }
}

fn isinstance(v: &Val, t: &Val) -> Result<bool> {
    match t {
        Val::Tuple(ts) => {
            for t in ts.iter() {
                if isinstance(v, t)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Val::Builtin(b) if b.is_type() => Ok(match b {
            Builtin::Int => matches!(v, Val::V(Value::Int(_) | Value::Bool(_))),
            Builtin::Float => matches!(v, Val::V(Value::Float(_))),
            Builtin::Str => matches!(v, Val::V(Value::Str(_))),
            Builtin::Bool => matches!(v, Val::V(Value::Bool(_))),
            Builtin::List => matches!(v, Val::List(_) | Val::V(Value::List(_))),
            Builtin::Dict => matches!(v, Val::Dict(_) | Val::V(Value::Dict(_))),
            Builtin::Set => matches!(v, Val::Set(_) | Val::V(Value::Set(_))),
            Builtin::Tuple => matches!(v, Val::Tuple(_)),
            _ => false,
        }),
        _ => Err(Exc::type_error(
            "isinstance() arg 2 must be a type, a tuple of types, or a union",
        )),
    }
}

impl Interp<'_> {
    /// Sorts items by Python's `<`, stable, optionally by a key function and reversed.
    pub fn sort_items(
        &mut self,
        items: &mut Vec<Val>,
        key: Option<&Val>,
        reverse: bool,
    ) -> Result<()> {
        let keys: Option<Vec<Val>> = match key {
            Some(k) if !k.is_none() => {
                let mut ks = Vec::with_capacity(items.len());
                for x in items.iter() {
                    ks.push(self.call(k, vec![x.clone()], Vec::new())?);
                }
                Some(ks)
            }
            _ => None,
        };
        for _ in 0..(items.len() / 64) {
            self.tick()?;
        }
        let mut err = None;
        let mut order: Vec<usize> = (0..items.len()).collect();
        {
            let by = |i: &usize| keys.as_ref().map_or(&items[*i], |k| &k[*i]);
            order.sort_by(|a, b| {
                let (x, y) = if reverse {
                    (by(b), by(a))
                } else {
                    (by(a), by(b))
                };
                match py_cmp(x, y, "<") {
                    Ok(o) => o.unwrap_or(Ordering::Equal),
                    Err(e) => {
                        err.get_or_insert(e);
                        Ordering::Equal
                    }
                }
            });
        }
        if let Some(e) = err {
            return Err(e);
        }
        let mut old: Vec<Option<Val>> = std::mem::take(items).into_iter().map(Some).collect();
        *items = order
            .into_iter()
            .map(|i| old[i].take().expect("each once"))
            .collect();
        Ok(())
    }

    fn extreme(
        &mut self,
        name: &str,
        args: Vec<Val>,
        kwargs: Vec<(SmolStr, Val)>,
        greatest: bool,
    ) -> Result<Val> {
        let [key, default] = take_kwargs(name, kwargs, ["key", "default"])?;
        if args.is_empty() {
            return Err(Exc::type_error(format!(
                "{name} expected at least 1 argument, got 0"
            )));
        }
        let items = if args.len() == 1 {
            self.collect(&args[0])?
        } else {
            if default.is_some() {
                return Err(Exc::type_error(format!(
                    "Cannot specify a default for {name}() with multiple positional arguments"
                )));
            }
            args
        };
        let mut best: Option<(Val, Val)> = None;
        for x in items {
            let k = match &key {
                Some(f) if !f.is_none() => self.call(f, vec![x.clone()], Vec::new())?,
                _ => x.clone(),
            };
            best = Some(match best {
                None => (k, x),
                Some((bk, bx)) => {
                    let o = py_cmp(&k, &bk, if greatest { ">" } else { "<" })?;
                    let better = if greatest {
                        o == Some(Ordering::Greater)
                    } else {
                        o == Some(Ordering::Less)
                    };
                    if better {
                        (k, x)
                    } else {
                        (bk, bx)
                    }
                }
            });
        }
        match (best, default) {
            (Some((_, x)), _) => Ok(x),
            (None, Some(d)) => Ok(d),
            (None, None) => Err(Exc::value_error(format!(
                "{name}() arg is an empty sequence"
            ))),
        }
    }

    fn sum(&mut self, items: &Val, start: Val) -> Result<Val> {
        if start.as_str().is_some() {
            return Err(Exc::type_error(
                "sum() can't sum strings [use ''.join(seq) instead]",
            ));
        }
        // Stored numbers add up in the operations layer (exact ints, as SUM does).
        if let (Val::V(v @ Value::List(_)), Some(0)) = (items, start.as_int()) {
            if matches!(start, Val::V(Value::Int(0))) {
                if let Ok(total) = okdb_ops::num::sum("sum", v) {
                    return Ok(Val::V(total));
                }
            }
        }
        let mut acc = start;
        let mut it = self.iter_of(items)?;
        while let Some(x) = it.next(self)? {
            self.tick()?;
            acc = self.binop(crate::ast::BinOp::Add, &acc, &x)?;
        }
        Ok(acc)
    }
}

/// A builtin called on a generator expression, without building its list: `sum(…)`,
/// `any(…)`, `all(…)`, `min(…)`, `max(…)`. None for the others (they take the list).
pub fn stream(interp: &mut Interp, f: &mut Frame, b: Builtin, c: &Comp) -> Result<Option<Val>> {
    let agg = match b {
        Builtin::Sum => Some(Agg::Sum),
        Builtin::Min => Some(Agg::Min),
        Builtin::Max => Some(Agg::Max),
        _ => None,
    };
    if let Some(agg) = agg {
        if let Some(scan) = c.plan.as_deref().filter(|p| p.answers(agg)) {
            if let Some(v) = interp.run_scan(scan, agg)? {
                return Ok(Some(v));
            }
        }
    }
    match b {
        Builtin::Sum => {
            let mut acc = Val::int(0);
            let mut err = None;
            interp.comp_loop(f, c, 0, &mut |i, v, _| {
                match (&acc, &v) {
                    (Val::V(Value::Int(a)), Val::V(Value::Int(x))) => match a.checked_add(*x) {
                        Some(s) => acc = Val::int(s),
                        None => {
                            err = Some(Exc::overflow());
                            return Ok(false);
                        }
                    },
                    _ => {
                        if v.as_str().is_some() {
                            err = Some(Exc::type_error(
                                "unsupported operand type(s) for +: 'int' and 'str'",
                            ));
                            return Ok(false);
                        }
                        acc = i.binop(crate::ast::BinOp::Add, &acc, &v)?;
                    }
                }
                Ok(true)
            })?;
            match err {
                Some(e) => Err(e),
                None => Ok(Some(acc)),
            }
        }
        Builtin::Any | Builtin::All => {
            let want = b == Builtin::Any;
            let mut found = !want;
            interp.comp_loop(f, c, 0, &mut |_, v, _| {
                if v.truthy() == want {
                    found = want;
                    return Ok(false);
                }
                Ok(true)
            })?;
            Ok(Some(Val::bool(found)))
        }
        _ => Ok(None),
    }
}

pub fn call(
    interp: &mut Interp,
    b: Builtin,
    args: Vec<Val>,
    kwargs: Vec<(SmolStr, Val)>,
) -> Result<Val> {
    let name = b.name();
    let one = |args: &[Val]| -> Result<Val> {
        arity(name, args, 1, 1)?;
        Ok(args[0].clone())
    };
    match b {
        Builtin::Len => {
            no_kwargs(name, &kwargs)?;
            Ok(Val::int(len_of(&one(&args)?)?))
        }
        Builtin::Sum => {
            let [start] = take_kwargs(name, kwargs, ["start"])?;
            arity(name, &args, 1, 2)?;
            let start = start
                .or_else(|| args.get(1).cloned())
                .unwrap_or(Val::int(0));
            interp.sum(&args[0], start)
        }
        Builtin::Min => interp.extreme(name, args, kwargs, false),
        Builtin::Max => interp.extreme(name, args, kwargs, true),
        Builtin::Sorted => {
            let [key, reverse] = take_kwargs(name, kwargs, ["key", "reverse"])?;
            let mut items = interp.collect(&one(&args)?)?;
            interp.sort_items(
                &mut items,
                key.as_ref(),
                reverse.is_some_and(|r| r.truthy()),
            )?;
            Ok(interp.new_list(items))
        }
        Builtin::Reversed => {
            no_kwargs(name, &kwargs)?;
            let v = one(&args)?;
            if matches!(v, Val::Set(_) | Val::V(Value::Set(_)) | Val::Iter(_)) {
                return Err(Exc::type_error(format!(
                    "'{}' object is not reversible",
                    v.type_name()
                )));
            }
            let mut items = interp.collect(&v)?;
            items.reverse();
            Ok(Val::Iter(Rc::new(RefCell::new(Iter::Buffer(
                items.into_iter(),
            )))))
        }
        Builtin::Abs => {
            no_kwargs(name, &kwargs)?;
            match one(&args)? {
                Val::V(Value::Float(f)) => Ok(Val::float(f.abs())),
                Val::V(Value::Decimal(d)) => Ok(Val::V(Value::Decimal(d.abs()))),
                v => match v.as_int() {
                    Some(i) => i.checked_abs().map(Val::int).ok_or_else(Exc::overflow),
                    None => Err(Exc::type_error(format!(
                        "bad operand type for abs(): '{}'",
                        v.type_name()
                    ))),
                },
            }
        }
        Builtin::Round => {
            let [nd] = take_kwargs(name, kwargs, ["ndigits"])?;
            arity(name, &args, 1, 2)?;
            let nd = nd.or_else(|| args.get(1).cloned()).filter(|v| !v.is_none());
            let x = &args[0];
            match (x, nd) {
                (Val::V(Value::Float(f)), None) => Ok(Val::int(float_to_int(f.round_ties_even())?)),
                (Val::V(Value::Float(f)), Some(n)) => {
                    Ok(Val::float(round_float(*f, n.index("ndigits")?)))
                }
                (Val::V(Value::Decimal(d)), nd) => {
                    let n = nd.map(|n| n.index("ndigits")).transpose()?.unwrap_or(0);
                    let r = d.round_dp_with_strategy(
                        n.clamp(0, 28) as u32,
                        rust_decimal::RoundingStrategy::MidpointNearestEven,
                    );
                    Ok(Val::V(Value::Decimal(r)))
                }
                (v, nd) => {
                    let i = v.as_int().ok_or_else(|| {
                        Exc::type_error(format!(
                            "type {} doesn't define __round__ method",
                            v.type_name()
                        ))
                    })?;
                    let n = nd.map(|n| n.index("ndigits")).transpose()?.unwrap_or(0);
                    if n >= 0 {
                        return Ok(Val::int(i));
                    }
                    if n < -18 {
                        return Ok(Val::int(0));
                    }
                    let p = 10i64.pow((-n) as u32);
                    let (q, r) = (
                        crate::arith::int_floordiv(i, p)?,
                        crate::arith::int_mod(i, p)?,
                    );
                    let q = if r * 2 > p || (r * 2 == p && q % 2 != 0) {
                        q + 1
                    } else {
                        q
                    };
                    q.checked_mul(p).map(Val::int).ok_or_else(Exc::overflow)
                }
            }
        }
        Builtin::Any | Builtin::All => {
            no_kwargs(name, &kwargs)?;
            let want = b == Builtin::Any;
            let v = one(&args)?;
            let mut it = interp.iter_of(&v)?;
            while let Some(x) = it.next(interp)? {
                interp.tick()?;
                if x.truthy() == want {
                    return Ok(Val::bool(want));
                }
            }
            Ok(Val::bool(!want))
        }
        Builtin::Range => {
            no_kwargs(name, &kwargs)?;
            arity(name, &args, 1, 3)?;
            let ints = args
                .iter()
                .map(|a| {
                    a.as_int().ok_or_else(|| {
                        Exc::type_error(format!(
                            "'{}' object cannot be interpreted as an integer",
                            a.type_name()
                        ))
                    })
                })
                .collect::<Result<Vec<i64>>>()?;
            let (start, stop, step) = match ints[..] {
                [stop] => (0, stop, 1),
                [start, stop] => (start, stop, 1),
                [start, stop, step] => (start, stop, step),
                _ => unreachable!("arity checked"),
            };
            if step == 0 {
                return Err(Exc::value_error("range() arg 3 must not be zero"));
            }
            Ok(Val::Range(start, stop, step))
        }
        Builtin::Enumerate => {
            let [start] = take_kwargs(name, kwargs, ["start"])?;
            arity(name, &args, 1, 2)?;
            let n = start
                .or_else(|| args.get(1).cloned())
                .map(|v| v.index("enumerate start"))
                .transpose()?
                .unwrap_or(0);
            let inner = interp.iter_of(&args[0])?;
            Ok(Val::Iter(Rc::new(RefCell::new(Iter::Enumerate {
                inner: Box::new(inner),
                n,
            }))))
        }
        Builtin::Zip => {
            let [_strict] = take_kwargs(name, kwargs, ["strict"])?;
            let iters = args
                .iter()
                .map(|a| interp.iter_of(a))
                .collect::<Result<Vec<_>>>()?;
            Ok(Val::Iter(Rc::new(RefCell::new(Iter::Zip(iters)))))
        }
        Builtin::Map => {
            no_kwargs(name, &kwargs)?;
            if args.len() < 2 {
                return Err(Exc::type_error("map() must have at least two arguments."));
            }
            let f = args[0].clone();
            let inner = args[1..]
                .iter()
                .map(|a| interp.iter_of(a))
                .collect::<Result<Vec<_>>>()?;
            Ok(Val::Iter(Rc::new(RefCell::new(Iter::Map { f, inner }))))
        }
        Builtin::Filter => {
            no_kwargs(name, &kwargs)?;
            arity(name, &args, 2, 2)?;
            let inner = interp.iter_of(&args[1])?;
            Ok(Val::Iter(Rc::new(RefCell::new(Iter::Filter {
                f: args[0].clone(),
                inner: Box::new(inner),
            }))))
        }
        Builtin::Int => {
            let [base] = take_kwargs(name, kwargs, ["base"])?;
            arity(name, &args, 0, 2)?;
            if args.is_empty() {
                return Ok(Val::int(0));
            }
            let base = base
                .or_else(|| args.get(1).cloned())
                .map(|b| b.index("base"))
                .transpose()?;
            Ok(Val::int(to_int(&args[0], base)?))
        }
        Builtin::Float => {
            no_kwargs(name, &kwargs)?;
            arity(name, &args, 0, 1)?;
            match args.first() {
                None => Ok(Val::float(0.0)),
                Some(v) => Ok(Val::float(to_float(v)?)),
            }
        }
        Builtin::Str => {
            no_kwargs(name, &kwargs)?;
            arity(name, &args, 0, 1)?;
            match args.first() {
                None => Ok(Val::str("")),
                Some(v) => {
                    let s = crate::format::to_str(v)?;
                    interp.charge(s.len())?;
                    Ok(Val::string(s))
                }
            }
        }
        Builtin::Bool => {
            no_kwargs(name, &kwargs)?;
            arity(name, &args, 0, 1)?;
            Ok(Val::bool(args.first().is_some_and(Val::truthy)))
        }
        Builtin::Repr => {
            no_kwargs(name, &kwargs)?;
            Ok(Val::string(crate::format::repr(&one(&args)?)?))
        }
        Builtin::Format => {
            no_kwargs(name, &kwargs)?;
            arity(name, &args, 1, 2)?;
            let spec = match args.get(1) {
                Some(s) => s
                    .as_str()
                    .ok_or_else(|| Exc::type_error("format() argument 2 must be str"))?
                    .to_string(),
                None => String::new(),
            };
            Ok(Val::string(crate::format::format_value(&args[0], &spec)?))
        }
        Builtin::List => {
            no_kwargs(name, &kwargs)?;
            arity(name, &args, 0, 1)?;
            let items = match args.first() {
                Some(v) => interp.collect(v)?,
                None => Vec::new(),
            };
            Ok(interp.new_list(items))
        }
        Builtin::Tuple => {
            no_kwargs(name, &kwargs)?;
            arity(name, &args, 0, 1)?;
            match args.first() {
                Some(t @ Val::Tuple(_)) => Ok(t.clone()),
                Some(v) => {
                    let items = interp.collect(v)?;
                    Ok(interp.new_tuple(items))
                }
                None => Ok(Val::tuple(Vec::new())),
            }
        }
        Builtin::Set => {
            no_kwargs(name, &kwargs)?;
            arity(name, &args, 0, 1)?;
            let mut s = PySet::default();
            if let Some(v) = args.first() {
                for x in interp.collect(v)? {
                    s.insert(HKey::new(x)?);
                }
            }
            Ok(interp.new_set(s))
        }
        Builtin::Dict => {
            arity(name, &args, 0, 1)?;
            let mut d = PyDict::default();
            if let Some(src) = args.first() {
                match dict_view(src) {
                    Some(view) => d = view,
                    None => {
                        for (n, pair) in interp.collect(src)?.into_iter().enumerate() {
                            let kv = interp.collect(&pair).map_err(|_| {
                                Exc::type_error(format!(
                                    "cannot convert dictionary update sequence element #{n} to a sequence"
                                ))
                            })?;
                            if kv.len() != 2 {
                                return Err(Exc::value_error(format!(
                                    "dictionary update sequence element #{n} has length {}; 2 is required",
                                    kv.len()
                                )));
                            }
                            let mut kv = kv.into_iter();
                            let k = kv.next().expect("two");
                            d.insert(HKey::new(k)?, kv.next().expect("two"));
                        }
                    }
                }
            }
            for (k, v) in kwargs {
                d.insert(HKey(Val::str(&k)), v);
            }
            interp.charge_items(d.len() * 2)?;
            Ok(interp.new_dict(d))
        }
        Builtin::Isinstance => {
            no_kwargs(name, &kwargs)?;
            arity(name, &args, 2, 2)?;
            Ok(Val::bool(isinstance(&args[0], &args[1])?))
        }
        Builtin::Print => {
            let [sep, end] = take_kwargs(name, kwargs, ["sep", "end"])?;
            let sep = match sep {
                Some(s) if !s.is_none() => crate::format::to_str(&s)?,
                _ => " ".into(),
            };
            let end = match end {
                Some(s) if !s.is_none() => crate::format::to_str(&s)?,
                _ => String::new(),
            };
            let parts = args
                .iter()
                .map(crate::format::to_str)
                .collect::<Result<Vec<_>>>()?;
            let line = parts.join(&sep) + end.trim_end_matches('\n');
            interp.charge(line.len())?;
            interp.log.push(line);
            Ok(NONE)
        }
        Builtin::Divmod => {
            no_kwargs(name, &kwargs)?;
            arity(name, &args, 2, 2)?;
            let q = interp.binop(crate::ast::BinOp::FloorDiv, &args[0], &args[1])?;
            let r = interp.binop(crate::ast::BinOp::Mod, &args[0], &args[1])?;
            Ok(Val::tuple(vec![q, r]))
        }
        Builtin::Pow => {
            no_kwargs(name, &kwargs)?;
            arity(name, &args, 2, 3)?;
            if let Some(m) = args.get(2) {
                let (b, e, m) = (
                    args[0].index("pow() base")?,
                    args[1].index("pow() exponent")?,
                    m.index("pow() modulus")?,
                );
                if m == 0 {
                    return Err(Exc::value_error("pow() 3rd argument cannot be 0"));
                }
                if e < 0 {
                    return Err(Exc::value_error(
                        "base is not invertible for the given modulus",
                    ));
                }
                let m128 = m as i128;
                let (mut r, mut b, mut e) =
                    (1i128.rem_euclid(m128), (b as i128).rem_euclid(m128), e);
                while e > 0 {
                    if e & 1 == 1 {
                        r = (r * b).rem_euclid(m128);
                    }
                    b = (b * b).rem_euclid(m128);
                    e >>= 1;
                }
                let r = if m < 0 && r > 0 { r + m128 } else { r };
                return Ok(Val::int(r as i64));
            }
            interp.binop(crate::ast::BinOp::Pow, &args[0], &args[1])
        }
        Builtin::Chr => {
            no_kwargs(name, &kwargs)?;
            let i = one(&args)?.index("chr()")?;
            let c = u32::try_from(i)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| Exc::value_error("chr() arg not in range(0x110000)"))?;
            Ok(Val::string(c.to_string()))
        }
        Builtin::Ord => {
            no_kwargs(name, &kwargs)?;
            let v = one(&args)?;
            let s = v.as_str().ok_or_else(|| {
                Exc::type_error(format!(
                    "ord() expected string of length 1, but {} found",
                    v.type_name()
                ))
            })?;
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Ok(Val::int(c as i64)),
                _ => Err(Exc::type_error(format!(
                    "ord() expected a character, but string of length {} found",
                    s.chars().count()
                ))),
            }
        }
        Builtin::Hex | Builtin::Bin | Builtin::Oct => {
            no_kwargs(name, &kwargs)?;
            let v = one(&args)?;
            let i = v.as_int().ok_or_else(|| {
                Exc::type_error(format!(
                    "'{}' object cannot be interpreted as an integer",
                    v.type_name()
                ))
            })?;
            let a = i.unsigned_abs();
            let body = match b {
                Builtin::Hex => format!("0x{a:x}"),
                Builtin::Bin => format!("0b{a:b}"),
                _ => format!("0o{a:o}"),
            };
            Ok(Val::string(if i < 0 { format!("-{body}") } else { body }))
        }
        Builtin::Iter => {
            no_kwargs(name, &kwargs)?;
            let v = one(&args)?;
            if let Val::Iter(_) = v {
                return Ok(v);
            }
            let it = interp.iter_of(&v)?;
            Ok(Val::Iter(Rc::new(RefCell::new(it))))
        }
        Builtin::Next => {
            no_kwargs(name, &kwargs)?;
            arity(name, &args, 1, 2)?;
            let Val::Iter(it) = &args[0] else {
                return Err(Exc::type_error(format!(
                    "'{}' object is not an iterator",
                    args[0].type_name()
                )));
            };
            let next = {
                let mut it = it
                    .try_borrow_mut()
                    .map_err(|_| Exc::value_error("generator already executing"))?;
                it.next(interp)?
            };
            match (next, args.get(1)) {
                (Some(v), _) => Ok(v),
                (None, Some(d)) => Ok(d.clone()),
                (None, None) => Err(Exc::raise("StopIteration", "")),
            }
        }
        Builtin::Now => {
            no_kwargs(name, &kwargs)?;
            arity(name, &args, 0, 0)?;
            let ms = interp.host.now_ms();
            Ok(Val::V(Value::DateTime(okdb_value::dates::DateTime {
                micros: ms as i64 * 1000,
                offset_min: 0,
            })))
        }
        Builtin::Random => {
            no_kwargs(name, &kwargs)?;
            arity(name, &args, 0, 0)?;
            let r = interp.random() >> 11;
            Ok(Val::float(r as f64 / (1u64 << 53) as f64))
        }
        Builtin::Randint => {
            no_kwargs(name, &kwargs)?;
            arity(name, &args, 2, 2)?;
            let (a, z) = (args[0].index("randint()")?, args[1].index("randint()")?);
            if z < a {
                return Err(Exc::value_error(format!(
                    "empty range in randint({a}, {z})"
                )));
            }
            let span = (z as i128 - a as i128 + 1) as u128;
            let r = (interp.random() as u128 % span) as i128 + a as i128;
            Ok(Val::int(r as i64))
        }
        Builtin::Decimal
        | Builtin::Date
        | Builtin::Datetime
        | Builtin::Deque
        | Builtin::Sortedset
        | Builtin::Pqueue
        | Builtin::Bytes => {
            let mut pos = Vec::with_capacity(args.len());
            for a in &args {
                pos.push(to_value(a)?);
            }
            let mut kw = Vec::with_capacity(kwargs.len());
            for (k, v) in &kwargs {
                kw.push((k.clone(), to_value(v)?));
            }
            let v = okdb_value::literal::construct(name, pos, kw)
                .expect("a constructor of the literal grammar")
                .map_err(|e| {
                    Exc::value_error(
                        e.to_string()
                            .trim_start_matches("invalid literal: ")
                            .to_string(),
                    )
                })?;
            Ok(match v {
                v @ (Value::Deque(_) | Value::SortedSet(_) | Value::PQueue(_)) => {
                    Val::Boxed(Rc::new(RefCell::new(v)))
                }
                v => Val::V(v),
            })
        }
    }
}
