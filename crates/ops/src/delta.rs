//! Deltas: one deterministic change to one stored value, as the journal keeps it and replay
//! applies it.
//!
//! A write that changes a container in place (a push, a pop, a field set, a member removed)
//! is journaled as the delta it made, not as the command that asked for it: what a random or
//! waiting pop chose is in the delta (the members removed, the end popped), so replaying it
//! gives the same value whatever the command's parsing or randomness. Applying a delta calls
//! the same functions as the verbs, so the journal cannot mean something the verbs do not.
//!
//! Writes that create, replace or delete a whole value are journaled as that value (or its
//! absence) by the engine; a delta only ever applies to a value that exists.

use okdb_value::{SmolStr, Value};

use crate::seq::End;
use crate::{bits, map, members, queue, scored, seq, OpError, Result};

/// One change to one value.
#[derive(Debug, Clone, PartialEq)]
pub enum Delta {
    /// Items onto an end of a list or deque ([`seq::push`]; a bounded deque drops from the
    /// other end as it did).
    Push { end: End, items: Vec<Value> },
    /// `count` items off an end ([`seq::pop`]).
    Pop { end: End, count: usize },
    /// `v[index] = value` ([`seq::set`]).
    SetAt { index: i64, value: Value },
    /// An item inserted before `index` ([`seq::insert`]).
    Insert { index: i64, value: Value },
    /// `del v[index]` ([`seq::delete_at`]).
    DeleteAt { index: i64 },
    /// `v[start:stop] = with` ([`seq::splice`]).
    Splice {
        start: Option<i64>,
        stop: Option<i64>,
        with: Value,
    },
    /// `del v[start:stop:step]` ([`seq::delete_slice`]).
    DeleteSlice {
        start: Option<i64>,
        stop: Option<i64>,
        step: i64,
    },
    /// Up to `count` items equal to `value` removed ([`seq::remove`], Redis's `LREM` count).
    Remove { value: Value, count: i64 },
    /// Only Redis's range `start..=stop` kept ([`seq::trim`]).
    Trim { start: i64, stop: i64 },
    /// [`seq::reverse`].
    Reverse,
    /// [`seq::sort`].
    Sort { reverse: bool, by: Option<SmolStr> },
    /// Text onto the end of a string.
    AppendText(SmolStr),
    /// Dict fields set ([`map::set_many`]).
    SetFields(Vec<(SmolStr, Value)>),
    /// Dict fields removed ([`map::delete`]).
    DeleteFields(Vec<SmolStr>),
    /// Set members added ([`members::add`]).
    AddMembers(Vec<Value>),
    /// Set members removed ([`members::discard`]).
    DiscardMembers(Vec<Value>),
    /// Sorted-set members with their scores after the write ([`scored::add`], unconditional).
    SetScores(Vec<(SmolStr, f64)>),
    /// Sorted-set members removed ([`scored::remove`]).
    RemoveScored(Vec<SmolStr>),
    /// Sorted-set members at ranks `start..stop` removed ([`scored::remove_range`]).
    RemoveRanks { start: usize, stop: usize },
    /// (item, priority) pairs queued ([`queue::add`]).
    QueueAdd(Vec<(Value, Value)>),
    /// `count` items taken from a priority queue ([`queue::pop`]).
    QueuePop { count: usize },
    /// Bytes written into a string at a byte offset ([`bits::write`]: `SETRANGE`, `SETBIT`).
    WriteBytes { offset: usize, bytes: Vec<u8> },
}

const VERB: &str = "replay";

impl Delta {
    /// Applies the delta. An error means the value is not the one the delta was made on (a
    /// journal that does not match its checkpoint): replay stops there.
    pub fn apply(&self, v: &mut Value) -> Result<()> {
        match self {
            Delta::Push { end, items } => {
                seq::push(VERB, v, *end, items.clone())?;
            }
            Delta::Pop { end, count } => {
                if seq::pop(VERB, v, *end, *count)?.len() != *count {
                    return Err(OpError::Empty("the sequence"));
                }
            }
            Delta::SetAt { index, value } => seq::set(VERB, v, *index, value.clone())?,
            Delta::Insert { index, value } => {
                seq::insert(VERB, v, *index, value.clone())?;
            }
            Delta::DeleteAt { index } => {
                seq::delete_at(VERB, v, *index)?;
            }
            Delta::Splice { start, stop, with } => {
                seq::splice(VERB, v, *start, *stop, with.clone())?
            }
            Delta::DeleteSlice { start, stop, step } => {
                seq::delete_slice(VERB, v, *start, *stop, *step)?;
            }
            Delta::Remove { value, count } => {
                seq::remove(VERB, v, value, *count)?;
            }
            Delta::Trim { start, stop } => {
                seq::trim(VERB, v, *start, *stop)?;
            }
            Delta::Reverse => seq::reverse(VERB, v)?,
            Delta::Sort { reverse, by } => seq::sort(VERB, v, *reverse, by.as_deref())?,
            Delta::AppendText(t) => seq::append_text(VERB, v, t)?,
            Delta::SetFields(pairs) => {
                map::set_many(VERB, v, pairs.clone())?;
            }
            Delta::DeleteFields(fields) => {
                map::delete(VERB, v, fields.iter().map(|f| f.as_str()))?;
            }
            Delta::AddMembers(m) => {
                members::add(VERB, v, m.clone())?;
            }
            Delta::DiscardMembers(m) => {
                members::discard(VERB, v, m)?;
            }
            Delta::SetScores(pairs) => {
                scored::add(VERB, v, pairs, scored::AddIf::default(), false)?;
            }
            Delta::RemoveScored(m) => {
                scored::remove(VERB, v, m.iter().map(|m| m.as_str()))?;
            }
            Delta::RemoveRanks { start, stop } => {
                scored::remove_range(VERB, v, *start, *stop)?;
            }
            Delta::QueueAdd(pairs) => {
                queue::add(VERB, v, pairs.clone())?;
            }
            Delta::WriteBytes { offset, bytes } => bits::write(VERB, v, *offset, bytes)?,
            Delta::QueuePop { count } => {
                for _ in 0..*count {
                    if queue::pop(VERB, v)?.is_none() {
                        return Err(OpError::Empty("the queue"));
                    }
                }
            }
        }
        Ok(())
    }
}
