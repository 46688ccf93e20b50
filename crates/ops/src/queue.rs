//! Priority queues: items taken lowest priority first, first in first out among equals.

use okdb_value::types::Caps;
use okdb_value::{PQueue, Value};

use crate::{wrong_type, OpError, Result};

/// The priority queue inside a value, to change it.
pub fn pqueue_mut<'a>(verb: &'static str, v: &'a mut Value) -> Result<&'a mut PQueue> {
    match v {
        Value::PQueue(q) => Ok(q),
        other => Err(wrong_type(verb, other, Caps::PRIORITY)),
    }
}

/// `ADD key item priority [item priority ...]` on a pqueue: adds every item (a priority is a
/// scalar, never NaN; nothing is added if one is not); the new length.
pub fn add(verb: &'static str, v: &mut Value, pairs: Vec<(Value, Value)>) -> Result<usize> {
    for (_, p) in &pairs {
        p.check_hashable()
            .map_err(|e| OpError::Invalid(format!("a priority: {e}")))?;
        if matches!(p, Value::Float(f) if f.is_nan()) {
            return Err(OpError::Invalid("a priority is never NaN".into()));
        }
    }
    let q = pqueue_mut(verb, v)?;
    for (item, p) in pairs {
        q.push(p, item);
    }
    Ok(q.len())
}

/// `POP key` on a pqueue: the lowest-priority item (the earliest of equals), with its
/// priority; None when empty.
pub fn pop(verb: &'static str, v: &mut Value) -> Result<Option<(Value, Value)>> {
    Ok(pqueue_mut(verb, v)?.pop())
}
