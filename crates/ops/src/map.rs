//! Dicts: values by field (string keys, insertion order).

use okdb_value::types::Caps;
use okdb_value::{Dict, SmolStr, Value};

use crate::{wrong_type, OpError, Result};

/// The dict inside a value.
pub fn dict<'a>(verb: &'static str, v: &'a Value) -> Result<&'a Dict> {
    match v {
        Value::Dict(d) => Ok(d),
        other => Err(wrong_type(verb, other, Caps::MAPPING)),
    }
}

/// The dict inside a value, to change it.
pub fn dict_mut<'a>(verb: &'static str, v: &'a mut Value) -> Result<&'a mut Dict> {
    match v {
        Value::Dict(d) => Ok(d),
        other => Err(wrong_type(verb, other, Caps::MAPPING)),
    }
}

/// A field's value.
pub fn get<'a>(verb: &'static str, v: &'a Value, field: &str) -> Result<Option<&'a Value>> {
    Ok(dict(verb, v)?.get(field))
}

/// Sets a field (a new field goes last, a replaced one keeps its place); true if it is new.
pub fn set(verb: &'static str, v: &mut Value, field: &str, x: Value) -> Result<bool> {
    Ok(dict_mut(verb, v)?.insert(SmolStr::new(field), x).is_none())
}

/// Sets every pair; how many fields are new.
pub fn set_many(verb: &'static str, v: &mut Value, pairs: Vec<(SmolStr, Value)>) -> Result<usize> {
    let d = dict_mut(verb, v)?;
    Ok(pairs
        .into_iter()
        .filter(|(k, x)| d.insert(k.clone(), x.clone()).is_none())
        .count())
}

/// Removes fields; how many existed.
pub fn delete<'a>(
    verb: &'static str,
    v: &mut Value,
    fields: impl IntoIterator<Item = &'a str>,
) -> Result<usize> {
    let d = dict_mut(verb, v)?;
    Ok(fields.into_iter().filter(|f| d.remove(f).is_some()).count())
}

/// `UPDATE key dict`: merges every pair of `other` in (Python's `dict.update`); how many fields
/// are new.
pub fn update(verb: &'static str, v: &mut Value, other: &Value) -> Result<usize> {
    let Value::Dict(o) = other else {
        return Err(OpError::Invalid(format!(
            "{verb} takes a dict to merge, got {}",
            other.type_name()
        )));
    };
    let pairs = o.iter().map(|(k, x)| (k.clone(), x.clone())).collect();
    set_many(verb, v, pairs)
}

/// The fields, in order.
pub fn fields(verb: &'static str, v: &Value) -> Result<Vec<Value>> {
    Ok(dict(verb, v)?.iter().map(|(k, _)| Value::str(k)).collect())
}

/// The values, in field order.
pub fn values(verb: &'static str, v: &Value) -> Result<Vec<Value>> {
    Ok(dict(verb, v)?.iter().map(|(_, x)| x.clone()).collect())
}

/// `(field, value)` pairs, in order.
pub fn items(verb: &'static str, v: &Value) -> Result<Vec<(SmolStr, Value)>> {
    Ok(dict(verb, v)?
        .iter()
        .map(|(k, x)| (k.clone(), x.clone()))
        .collect())
}

/// Adds an int to a field's int (a missing field counts as 0); the new value.
pub fn incr_int(verb: &'static str, v: &mut Value, field: &str, by: i64) -> Result<i64> {
    let d = dict_mut(verb, v)?;
    let base = match d.get(field) {
        None => 0,
        Some(Value::Int(i)) => *i,
        Some(other) => {
            return Err(OpError::Invalid(format!(
                "the field holds {}, not an int",
                other.type_name()
            )))
        }
    };
    let sum = base
        .checked_add(by)
        .ok_or(OpError::Overflow("increment or decrement would overflow"))?;
    d.insert(SmolStr::new(field), Value::Int(sum));
    Ok(sum)
}
