//! Numbers: addition with overflow checks, and math over the numbers of a container.

use okdb_value::types::Caps;
use okdb_value::Value;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::{wrong_type, OpError, Result};

const OVERFLOW: &str = "increment or decrement would overflow";

/// `INCR`'s addition: int + int stays an int (overflow is an error, never a wrap); a float on
/// either side gives a float, which must stay finite.
pub fn add(verb: &'static str, base: &Value, by: &Value) -> Result<Value> {
    let finite = |f: f64| {
        if f.is_finite() {
            Ok(Value::Float(f))
        } else {
            Err(OpError::Invalid(
                "increment would produce NaN or Infinity".into(),
            ))
        }
    };
    let exact = |x: Decimal, y: Decimal| {
        x.checked_add(y)
            .map(Value::Decimal)
            .ok_or(OpError::Overflow("decimal overflow"))
    };
    match (base, by) {
        (Value::Decimal(x), Value::Decimal(y)) => exact(*x, *y),
        (Value::Decimal(x), Value::Int(y)) => exact(*x, Decimal::from(*y)),
        (Value::Int(x), Value::Decimal(y)) => exact(Decimal::from(*x), *y),
        (Value::Decimal(_), Value::Float(_)) | (Value::Float(_), Value::Decimal(_)) => Err(mixed()),
        (Value::Int(x), Value::Int(y)) => x
            .checked_add(*y)
            .map(Value::Int)
            .ok_or(OpError::Overflow(OVERFLOW)),
        (Value::Int(x), Value::Float(y)) => finite(*x as f64 + y),
        (Value::Float(x), Value::Int(y)) => finite(x + *y as f64),
        (Value::Float(x), Value::Float(y)) => finite(x + y),
        (Value::Int(_) | Value::Float(_) | Value::Decimal(_), other) | (other, _) => {
            Err(wrong_type(verb, other, Caps::NUMBER))
        }
    }
}

/// Calls `f` with each item of a list, deque or set (a dict's values), in order, stopping at
/// its first error; a list is walked by its own loop (see `List::try_for_each`).
fn each(verb: &'static str, v: &Value, mut f: impl FnMut(&Value) -> Result<()>) -> Result<()> {
    match v {
        Value::List(l) => l.try_for_each(f),
        Value::Deque(d) => d.items.try_for_each(f),
        Value::Set(s) => s.iter().try_for_each(f),
        Value::Dict(d) => d.iter().try_for_each(|(_, x)| f(x)),
        other => Err(wrong_type(verb, other, Caps::ITERABLE)),
    }
}

/// Decimal and float do not mix (as in Python): the float is already inexact.
fn mixed() -> OpError {
    OpError::Invalid("unsupported operand types: 'decimal' and 'float' (convert one first)".into())
}

fn not_a_number(x: &Value) -> OpError {
    OpError::Invalid(format!(
        "unsupported operand type for +: '{}' (items must be int or float)",
        x.type_name()
    ))
}

/// A running sum: ints exactly (in i128, so no intermediate overflow), floats with Neumaier's
/// compensation (as Python's `math.fsum` aims: no loss from cancellation).
#[derive(Debug, Default, Clone, Copy)]
pub struct Sum {
    int: i128,
    /// The decimals' exact total, once one was added.
    dec: Option<Decimal>,
    float: f64,
    comp: f64,
    floats: bool,
    pub count: usize,
}

impl Sum {
    pub fn add(&mut self, x: &Value) -> Result<()> {
        match x {
            Value::Int(i) => self.int += *i as i128,
            Value::Decimal(d) => {
                if self.floats {
                    return Err(mixed());
                }
                let total = self.dec.unwrap_or_default();
                self.dec = Some(
                    total
                        .checked_add(*d)
                        .ok_or(OpError::Overflow("decimal overflow"))?,
                );
            }
            Value::Float(_) if self.dec.is_some() => return Err(mixed()),
            Value::Float(f) => {
                self.floats = true;
                let t = self.float + f;
                if self.float.abs() >= f.abs() {
                    self.comp += (self.float - t) + f;
                } else {
                    self.comp += (f - t) + self.float;
                }
                self.float = t;
            }
            other => return Err(not_a_number(other)),
        }
        self.count += 1;
        Ok(())
    }

    /// The total: an int when every item was an int (an error past 64 bits), else a float.
    pub fn total(&self) -> Result<Value> {
        if let Some(d) = self.dec {
            let ints = Decimal::from_i128_with_scale(self.int, 0);
            return d
                .checked_add(ints)
                .map(Value::Decimal)
                .ok_or(OpError::Overflow("decimal overflow"));
        }
        if !self.floats {
            return i64::try_from(self.int)
                .map(Value::Int)
                .map_err(|_| OpError::Overflow("sum does not fit in a 64-bit int"));
        }
        Ok(Value::Float(self.int as f64 + (self.float + self.comp)))
    }

    fn as_f64(&self) -> f64 {
        let dec = self.dec.and_then(|d| d.to_f64()).unwrap_or(0.0);
        self.int as f64 + (self.float + self.comp) + dec
    }
}

/// `SUM key`: the sum of a container's numbers (0 when empty).
pub fn sum(verb: &'static str, v: &Value) -> Result<Value> {
    let mut s = Sum::default();
    sum_into(verb, v, &mut s)?;
    s.total()
}

/// Adds a container's numbers to a running sum (`SUM k1 k2`).
pub fn sum_into(verb: &'static str, v: &Value, s: &mut Sum) -> Result<()> {
    each(verb, v, |x| s.add(x))
}

/// `MIN`/`MAX key`: the least or greatest item — numbers, or dates, or datetimes, or strings,
/// in value order (items of different kinds are an error, as in Python); None when empty.
pub fn extreme(verb: &'static str, v: &Value, greatest: bool) -> Result<Option<Value>> {
    let mut best: Option<Value> = None;
    let kind = |x: &Value| match x {
        Value::Int(_) | Value::Float(_) | Value::Decimal(_) => Some(0),
        Value::Date(_) => Some(1),
        Value::DateTime(_) => Some(2),
        Value::Str(_) => Some(3),
        _ => None,
    };
    each(verb, v, |x| {
        let comparable = kind(x).is_some() && best.as_ref().is_none_or(|b| kind(b) == kind(x));
        if !comparable {
            return Err(OpError::Invalid(format!(
                "'<' not supported between {} and {}",
                best.as_ref().map_or("items", |b| b.type_name()),
                x.type_name()
            )));
        }
        let better = match &best {
            None => true,
            Some(b) => (greatest && x > b) || (!greatest && x < b),
        };
        if better {
            best = Some(x.clone());
        }
        Ok(())
    })?;
    Ok(best)
}

/// `MEAN key`: the arithmetic mean, a float (a decimal, exact to 28 digits, when the items
/// are decimals); None when empty.
pub fn mean(verb: &'static str, v: &Value) -> Result<Option<Value>> {
    let mut s = Sum::default();
    each(verb, v, |x| s.add(x))?;
    if s.count == 0 {
        return Ok(None);
    }
    if s.dec.is_some() {
        if let Value::Decimal(total) = s.total()? {
            // A quotient's scale says nothing: the shortest exact text.
            return Ok(total
                .checked_div(Decimal::from(s.count as u64))
                .map(|m| Value::Decimal(m.normalize())));
        }
    }
    Ok(Some(Value::Float(s.as_f64() / s.count as f64)))
}

/// `STDDEV key`: the population standard deviation (Welford's one-pass update, numerically
/// stable); None when empty.
pub fn stddev(verb: &'static str, v: &Value) -> Result<Option<f64>> {
    let (mut n, mut mean, mut m2) = (0u64, 0.0f64, 0.0f64);
    each(verb, v, |x| {
        let f = match x {
            Value::Int(i) => *i as f64,
            Value::Float(f) => *f,
            Value::Decimal(d) => d.to_f64().unwrap_or(f64::NAN),
            other => return Err(not_a_number(other)),
        };
        n += 1;
        let d = f - mean;
        mean += d / n as f64;
        m2 += d * (f - mean);
        Ok(())
    })?;
    Ok((n > 0).then(|| (m2 / n as f64).sqrt()))
}

/// `MEDIAN key`: the middle number (the mean of the two middle ones for an even count: exact
/// for ints when their sum is even, else a float); None when empty.
pub fn median(verb: &'static str, v: &Value) -> Result<Option<Value>> {
    let mut all: Vec<Value> = Vec::new();
    each(verb, v, |x| {
        if !matches!(x, Value::Int(_) | Value::Float(_) | Value::Decimal(_)) {
            return Err(not_a_number(x));
        }
        all.push(x.clone());
        Ok(())
    })?;
    if all.is_empty() {
        return Ok(None);
    }
    let mid = all.len() / 2;
    let (_, hi, _) = all.select_nth_unstable(mid);
    let hi = hi.clone();
    if all.len() % 2 == 1 {
        return Ok(Some(hi));
    }
    let lo = (*all[..mid]
        .iter()
        .max()
        .expect("an even count of at least 2"))
    .clone();
    Ok(Some(match (&lo, &hi) {
        (Value::Int(a), Value::Int(b)) => {
            let s = *a as i128 + *b as i128;
            if s % 2 == 0 {
                Value::Int((s / 2) as i64)
            } else {
                Value::Float(s as f64 / 2.0)
            }
        }
        (Value::Decimal(_), _) | (_, Value::Decimal(_)) => match add(verb, &lo, &hi)? {
            Value::Decimal(d) => Value::Decimal((d / Decimal::TWO).normalize()),
            other => other,
        },
        _ => {
            let f = |x: &Value| match x {
                Value::Int(i) => *i as f64,
                Value::Float(f) => *f,
                _ => unreachable!("checked numbers"),
            };
            Value::Float((f(&lo) + f(&hi)) / 2.0)
        }
    }))
}
