//! Typed JSON (SPEC.md §1). Being written.
use crate::{Value, ValueError};

pub fn to_json(v: &Value) -> serde_json::Value {
    match v { Value::Int(i) => (*i).into(), Value::Str(s) => s.as_str().into(), _ => serde_json::Value::Null }
}
pub fn to_string(v: &Value) -> String { to_json(v).to_string() }
pub fn to_string_pretty(v: &Value) -> String { serde_json::to_string_pretty(&to_json(v)).unwrap_or_default() }
pub fn from_json(j: &serde_json::Value) -> Result<Value, ValueError> { Err(ValueError::Json(j.to_string())) }
pub fn from_str(s: &str) -> Result<Value, ValueError> { Err(ValueError::Json(s.to_string())) }
