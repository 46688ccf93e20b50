//! What a script computes with: okdb values (read from the store without a copy), plus
//! Python's shared mutable containers, tuples, functions and iterators.
//!
//! Containers a script builds are Python objects (`Val::List`, `Val::Dict`, `Val::Set`):
//! `b = a` shares them, as in Python. A container read from the store is a `Val::V`, a
//! snapshot read without a copy; the first change through a variable or a container that
//! holds it turns that one level into a Python object (`promote`), its items still shared
//! with the store's value.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use indexmap::{IndexMap, IndexSet};
use okdb_value::{Dict, SmolStr, Str, Value};

use crate::ast::FuncDef;
use crate::builtins::Builtin;
use crate::error::{Exc, Result};

pub type PyDict = IndexMap<HKey, Val, foldhash::fast::RandomState>;
pub type PySet = IndexSet<HKey, foldhash::fast::RandomState>;

#[derive(Clone, Debug)]
pub enum Val {
    /// An okdb value: a scalar, or a container read from the store (a snapshot).
    V(Value),
    List(Rc<RefCell<Vec<Val>>>),
    Tuple(Rc<[Val]>),
    Dict(Rc<RefCell<DictObj>>),
    Set(Rc<RefCell<PySet>>),
    /// A deque, sortedset or pqueue, shared and changed in place through the operations layer.
    Boxed(Rc<RefCell<Value>>),
    Func(Rc<Function>),
    Builtin(Builtin),
    /// A method bound to its receiver (`xs.append`).
    Method(Rc<(Val, SmolStr)>),
    /// A command of the host (`GET`, `SET`).
    Command(SmolStr),
    Range(i64, i64, i64),
    Iter(Rc<RefCell<crate::iter::Iter>>),
    /// A module (`re`).
    Module(&'static str),
    Regex(Rc<regex::Regex>),
    Match(Rc<crate::re::Match>),
    /// A frame slot captured by an inner function (never seen by a script).
    Cell(Rc<RefCell<Val>>),
    /// A local not assigned yet (never seen by a script).
    Unbound,
}

#[derive(Debug)]
pub struct Function {
    pub def: std::sync::Arc<FuncDef>,
    pub defaults: Vec<Val>,
    pub frees: Vec<Rc<RefCell<Val>>>,
}

pub const NONE: Val = Val::V(Value::Null);

impl Val {
    pub fn int(i: i64) -> Val {
        Val::V(Value::Int(i))
    }

    pub fn float(f: f64) -> Val {
        Val::V(Value::Float(f))
    }

    pub fn bool(b: bool) -> Val {
        Val::V(Value::Bool(b))
    }

    pub fn str(s: &str) -> Val {
        Val::V(Value::str(s))
    }

    pub fn string(s: String) -> Val {
        Val::V(Value::Str(Str::new(&s)))
    }

    pub fn list(items: Vec<Val>) -> Val {
        Val::List(Rc::new(RefCell::new(items)))
    }

    pub fn tuple(items: Vec<Val>) -> Val {
        Val::Tuple(items.into())
    }

    pub fn is_none(&self) -> bool {
        matches!(self, Val::V(Value::Null))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::V(Value::Str(s)) => Some(s.as_str()),
            _ => None,
        }
    }

    /// Python's name for the type (`int`, `list`, `NoneType`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::V(v) => match v {
                Value::Null => "NoneType",
                Value::Bool(_) => "bool",
                Value::Int(_) => "int",
                Value::Float(_) => "float",
                Value::Str(_) => "str",
                Value::Dict(_) => "dict",
                other => other.type_name(),
            },
            Val::List(_) => "list",
            Val::Tuple(_) => "tuple",
            Val::Dict(_) => "dict",
            Val::Set(_) => "set",
            Val::Boxed(b) => b.borrow().type_name(),
            Val::Func(_) => "function",
            Val::Builtin(b) if b.is_type() => "type",
            Val::Builtin(_) | Val::Command(_) => "builtin_function_or_method",
            Val::Method(_) => "method",
            Val::Range(..) => "range",
            Val::Iter(_) => "iterator",
            Val::Module(_) => "module",
            Val::Regex(_) => "re.Pattern",
            Val::Match(_) => "re.Match",
            Val::Cell(_) | Val::Unbound => "cell",
        }
    }

    /// Python's truth value.
    pub fn truthy(&self) -> bool {
        match self {
            Val::V(v) => match v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Int(i) => *i != 0,
                Value::Float(f) => *f != 0.0,
                Value::Decimal(d) => !d.is_zero(),
                Value::Date(_) | Value::DateTime(_) => true,
                other => !other.is_empty(),
            },
            Val::List(l) => !l.borrow().is_empty(),
            Val::Tuple(t) => !t.is_empty(),
            Val::Dict(d) => !d.borrow().is_empty(),
            Val::Set(s) => !s.borrow().is_empty(),
            Val::Boxed(b) => !b.borrow().is_empty(),
            Val::Range(a, b, s) => range_len(*a, *b, *s) > 0,
            _ => true,
        }
    }

    /// The value's number, for arithmetic: ints and bools as i64.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Val::V(Value::Int(i)) => Some(*i),
            Val::V(Value::Bool(b)) => Some(*b as i64),
            _ => None,
        }
    }

    pub fn as_float(&self) -> Option<f64> {
        match self {
            Val::V(Value::Int(i)) => Some(*i as f64),
            Val::V(Value::Bool(b)) => Some(*b as i64 as f64),
            Val::V(Value::Float(f)) => Some(*f),
            _ => None,
        }
    }

    /// An index argument (`xs[i]`, `range(n)`): an int or a bool.
    pub fn index(&self, what: &str) -> Result<i64> {
        self.as_int().ok_or_else(|| {
            Exc::type_error(format!(
                "{what} must be integers or slices, not {}",
                self.type_name()
            ))
        })
    }
}

pub fn range_len(start: i64, stop: i64, step: i64) -> i64 {
    let (start, stop, step) = (start as i128, stop as i128, step as i128);
    let n = if step > 0 && start < stop {
        (stop - start - 1) / step + 1
    } else if step < 0 && start > stop {
        (start - stop - 1) / (-step) + 1
    } else {
        0
    };
    n.min(i64::MAX as i128) as i64
}

/// Turns a stored container into a Python object of one level (its items stay shared);
/// anything else is returned as it is.
pub fn promote(v: Val) -> Val {
    match v {
        Val::V(Value::List(l)) => Val::list(l.values().map(Val::V).collect()),
        Val::V(Value::Dict(d)) => Val::Dict(Rc::new(RefCell::new(DictObj::Stored(d)))),
        Val::V(Value::Set(s)) => {
            let set: PySet = s.iter().map(|x| HKey(Val::V(x.clone()))).collect();
            Val::Set(Rc::new(RefCell::new(set)))
        }
        Val::V(v @ (Value::Deque(_) | Value::SortedSet(_) | Value::PQueue(_))) => {
            Val::Boxed(Rc::new(RefCell::new(v)))
        }
        other => other,
    }
}

/// Whether `promote` would change it.
pub fn is_snapshot(v: &Val) -> bool {
    matches!(v, Val::V(x) if is_snapshot_value(x))
}

/// Promotes a container in place (in a slot or another container) and returns the shared
/// object, so a change through either is seen through both.
pub fn share(slot: &mut Val) -> Val {
    if is_snapshot(slot) {
        let v = std::mem::replace(slot, NONE);
        *slot = promote(v);
    }
    slot.clone()
}

/// A script's dict object. A stored dict that becomes a shared object (read out of a
/// script's container, or changed through a variable) is held as it is stored (`Stored`): no
/// entry is copied to read it. Its first change copies its entries into a Python dict
/// (`Own`), once (`Interp::dict_mut` charges that copy).
#[derive(Debug, Clone)]
pub enum DictObj {
    Stored(Dict),
    /// Boxed, so that a stored dict held as an object takes 48 bytes with its counts.
    Own(Box<PyDict>),
}

impl Default for DictObj {
    fn default() -> Self {
        DictObj::Own(Box::default())
    }
}

impl From<PyDict> for DictObj {
    fn from(d: PyDict) -> Self {
        DictObj::Own(Box::new(d))
    }
}

fn stored_key(k: &SmolStr) -> Val {
    Val::V(Value::Str(Str::new(k)))
}

impl DictObj {
    pub fn len(&self) -> usize {
        match self {
            DictObj::Stored(d) => d.len(),
            DictObj::Own(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value under a key (a stored dict's keys are strings, so any other key misses).
    pub fn get(&self, k: &HKey) -> Option<Val> {
        match self {
            DictObj::Stored(d) => {
                k.0.as_str()
                    .and_then(|k| d.get(k))
                    .map(|v| Val::V(v.clone()))
            }
            DictObj::Own(d) => d.get(k).cloned(),
        }
    }

    pub fn contains_key(&self, k: &HKey) -> bool {
        match self {
            DictObj::Stored(d) => k.0.as_str().is_some_and(|k| d.contains_key(k)),
            DictObj::Own(d) => d.contains_key(k),
        }
    }

    /// The entries, in insertion order (keys and values cloned: O(1) each).
    pub fn entries(&self) -> Vec<(Val, Val)> {
        match self {
            DictObj::Stored(d) => d
                .iter()
                .map(|(k, v)| (stored_key(k), Val::V(v.clone())))
                .collect(),
            DictObj::Own(d) => d.iter().map(|(k, v)| (k.0.clone(), v.clone())).collect(),
        }
    }

    pub fn keys(&self) -> Vec<Val> {
        match self {
            DictObj::Stored(d) => d.iter().map(|(k, _)| stored_key(k)).collect(),
            DictObj::Own(d) => d.keys().map(|k| k.0.clone()).collect(),
        }
    }

    /// A Python dict with the same entries.
    pub fn to_py(&self) -> PyDict {
        match self {
            DictObj::Stored(d) => stored_dict(d),
            DictObj::Own(d) => (**d).clone(),
        }
    }

    /// The entries to change: a stored dict's are copied now (the caller charges it; see
    /// `Interp::dict_mut`).
    pub fn own(&mut self) -> &mut PyDict {
        if let DictObj::Stored(d) = self {
            *self = DictObj::Own(Box::new(stored_dict(d)));
        }
        match self {
            DictObj::Own(d) => d,
            DictObj::Stored(_) => unreachable!("just copied"),
        }
    }

    /// Takes the entries out (an `Own` one's, for the end of the script), leaving it empty.
    pub fn take_own(&mut self) -> PyDict {
        match std::mem::take(self) {
            DictObj::Own(d) => *d,
            DictObj::Stored(_) => PyDict::default(),
        }
    }
}

/// Whether a stored value is a container (which a script shares rather than copies).
pub fn is_snapshot_value(v: &Value) -> bool {
    matches!(
        v,
        Value::List(_)
            | Value::Dict(_)
            | Value::Set(_)
            | Value::Deque(_)
            | Value::SortedSet(_)
            | Value::PQueue(_)
    )
}

/// A hashable value, compared and hashed as Python does (`1 == 1.0 == True`).
#[derive(Clone, Debug)]
pub struct HKey(pub Val);

impl HKey {
    pub fn new(v: Val) -> Result<HKey> {
        check_hashable(&v)?;
        Ok(HKey(v))
    }
}

pub fn check_hashable(v: &Val) -> Result<()> {
    match v {
        Val::V(
            Value::List(_)
            | Value::Dict(_)
            | Value::Set(_)
            | Value::Deque(_)
            | Value::SortedSet(_)
            | Value::PQueue(_),
        )
        | Val::List(_)
        | Val::Dict(_)
        | Val::Set(_)
        | Val::Boxed(_) => Err(Exc::type_error(format!(
            "unhashable type: '{}'",
            v.type_name()
        ))),
        Val::Tuple(items) => items.iter().try_for_each(check_hashable),
        _ => Ok(()),
    }
}

impl PartialEq for HKey {
    fn eq(&self, other: &HKey) -> bool {
        py_eq(&self.0, &other.0)
    }
}

impl Eq for HKey {}

impl Hash for HKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        hash_val(&self.0, h)
    }
}

fn hash_val<H: Hasher>(v: &Val, h: &mut H) {
    match v {
        Val::V(Value::Null) => 0u8.hash(h),
        Val::V(Value::Bool(b)) => (*b as i64).hash(h),
        Val::V(Value::Int(i)) => i.hash(h),
        Val::V(Value::Float(f)) => {
            if f.fract() == 0.0 && f.abs() < 9.2e18 {
                (*f as i64).hash(h)
            } else {
                f.to_bits().hash(h)
            }
        }
        Val::V(Value::Decimal(d)) => {
            if d.fract().is_zero() {
                if let Ok(i) = i64::try_from(*d) {
                    return i.hash(h);
                }
            }
            d.normalize().to_string().hash(h)
        }
        Val::V(Value::Str(s)) => s.as_str().hash(h),
        Val::V(Value::Bytes(b)) => b.hash(h),
        Val::V(other) => other.to_string().hash(h),
        Val::Tuple(items) => {
            items.len().hash(h);
            for x in items.iter() {
                stacker::maybe_grow(
                    crate::interp::STACK_RED_ZONE,
                    crate::interp::STACK_SEGMENT,
                    || hash_val(x, h),
                );
            }
        }
        Val::Func(f) => (Rc::as_ptr(f) as usize).hash(h),
        other => other.type_name().hash(h),
    }
}

/// A number, for comparing across int, float, bool and decimal.
enum Num {
    I(i64),
    F(f64),
    D(rust_decimal::Decimal),
}

fn num(v: &Val) -> Option<Num> {
    match v {
        Val::V(Value::Int(i)) => Some(Num::I(*i)),
        Val::V(Value::Bool(b)) => Some(Num::I(*b as i64)),
        Val::V(Value::Float(f)) => Some(Num::F(*f)),
        Val::V(Value::Decimal(d)) => Some(Num::D(*d)),
        _ => None,
    }
}

fn num_cmp(a: &Num, b: &Num) -> Option<Ordering> {
    let as_value = |n: &Num| match n {
        Num::I(i) => Value::Int(*i),
        Num::F(f) => Value::Float(*f),
        Num::D(d) => Value::Decimal(*d),
    };
    match (a, b) {
        (Num::I(x), Num::I(y)) => Some(x.cmp(y)),
        (Num::F(x), Num::F(y)) => x.partial_cmp(y),
        (Num::F(x), _) | (_, Num::F(x)) if x.is_nan() => None,
        _ => Some(as_value(a).cmp(&as_value(b))),
    }
}

/// The items of a sequence-like value (list or tuple, either form), for comparing.
enum Seq<'a> {
    Stored(&'a okdb_value::List),
    Owned(std::cell::Ref<'a, Vec<Val>>),
    Tuple(&'a [Val]),
}

impl Seq<'_> {
    fn len(&self) -> usize {
        match self {
            Seq::Stored(l) => l.len(),
            Seq::Owned(v) => v.len(),
            Seq::Tuple(t) => t.len(),
        }
    }

    fn get(&self, i: usize) -> Val {
        match self {
            Seq::Stored(l) => Val::V(l.get(i).expect("in range").into_owned()),
            Seq::Owned(v) => v[i].clone(),
            Seq::Tuple(t) => t[i].clone(),
        }
    }
}

fn list_view(v: &Val) -> Option<Seq<'_>> {
    match v {
        Val::V(Value::List(l)) => Some(Seq::Stored(l)),
        Val::List(l) => Some(Seq::Owned(l.borrow())),
        _ => None,
    }
}

/// The same shared object: equal to itself, as Python's containers compare their items.
fn same_object(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::List(x), Val::List(y)) => Rc::ptr_eq(x, y),
        (Val::Dict(x), Val::Dict(y)) => Rc::ptr_eq(x, y),
        (Val::Set(x), Val::Set(y)) => Rc::ptr_eq(x, y),
        (Val::Tuple(x), Val::Tuple(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

/// Python's `==`. Deep values compare on a fresh stack segment when the stack runs low.
pub fn py_eq(a: &Val, b: &Val) -> bool {
    if same_object(a, b) {
        return true;
    }
    stacker::maybe_grow(
        crate::interp::STACK_RED_ZONE,
        crate::interp::STACK_SEGMENT,
        || py_eq_inner(a, b),
    )
}

fn py_eq_inner(a: &Val, b: &Val) -> bool {
    if let (Some(x), Some(y)) = (num(a), num(b)) {
        return num_cmp(&x, &y) == Some(Ordering::Equal);
    }
    match (a, b) {
        (Val::V(Value::Str(x)), Val::V(Value::Str(y))) => x.as_str() == y.as_str(),
        (Val::Tuple(x), Val::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| py_eq(p, q))
        }
        (Val::V(x @ Value::Dict(_)), Val::V(y @ Value::Dict(_))) => x == y,
        (Val::V(x @ Value::List(_)), Val::V(y @ Value::List(_))) => x == y,
        (Val::V(x @ Value::Set(_)), Val::V(y @ Value::Set(_))) => x == y,
        (Val::V(x), Val::V(y)) => std::mem::discriminant(x) == std::mem::discriminant(y) && x == y,
        (Val::Func(x), Val::Func(y)) => Rc::ptr_eq(x, y),
        (Val::Builtin(x), Val::Builtin(y)) => x == y,
        (Val::Command(x), Val::Command(y)) => x == y,
        (Val::Range(a1, b1, s1), Val::Range(a2, b2, s2)) => {
            let (n1, n2) = (range_len(*a1, *b1, *s1), range_len(*a2, *b2, *s2));
            n1 == n2 && (n1 == 0 || (a1 == a2 && (n1 == 1 || s1 == s2)))
        }
        (Val::Boxed(x), Val::Boxed(y)) => Rc::ptr_eq(x, y) || *x.borrow() == *y.borrow(),
        (Val::Boxed(x), Val::V(y)) | (Val::V(y), Val::Boxed(x)) => *x.borrow() == *y,
        _ => {
            if let (Some(x), Some(y)) = (list_view(a), list_view(b)) {
                return x.len() == y.len() && (0..x.len()).all(|i| py_eq(&x.get(i), &y.get(i)));
            }
            if let (Some(x), Some(y)) = (dict_view(a), dict_view(b)) {
                return x.len() == y.len()
                    && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)));
            }
            if let (Some(x), Some(y)) = (set_view(a), set_view(b)) {
                return x.len() == y.len() && x.iter().all(|k| y.contains(k));
            }
            false
        }
    }
}

/// A dict of either form as a Python dict (a copy of its entries: equality, `|`, `dict()`).
pub fn dict_view(v: &Val) -> Option<PyDict> {
    match v {
        Val::Dict(d) => Some(d.borrow().to_py()),
        Val::V(Value::Dict(d)) => Some(stored_dict(d)),
        _ => None,
    }
}

fn stored_dict(d: &Dict) -> PyDict {
    let mut m = PyDict::with_capacity_and_hasher(d.len(), Default::default());
    for (k, v) in d.iter() {
        m.insert(HKey(stored_key(k)), Val::V(v.clone()));
    }
    m
}

fn set_view(v: &Val) -> Option<PySet> {
    match v {
        Val::Set(s) => Some(s.borrow().clone()),
        Val::V(Value::Set(s)) => Some(s.iter().map(|x| HKey(Val::V(x.clone()))).collect()),
        _ => None,
    }
}

/// Python's ordering (`<` and friends), or a `TypeError` for types that do not compare.
pub fn py_cmp(a: &Val, b: &Val, op: &str) -> Result<Option<Ordering>> {
    if let (Some(x), Some(y)) = (num(a), num(b)) {
        if let (Num::F(_), Num::D(_)) | (Num::D(_), Num::F(_)) = (&x, &y) {
            // Python compares them; okdb keeps decimals and floats apart only in arithmetic.
        }
        return Ok(num_cmp(&x, &y));
    }
    let unorderable = || {
        Exc::type_error(format!(
            "'{op}' not supported between instances of '{}' and '{}'",
            a.type_name(),
            b.type_name()
        ))
    };
    match (a, b) {
        (Val::V(Value::Str(x)), Val::V(Value::Str(y))) => Ok(Some(x.as_str().cmp(y.as_str()))),
        (Val::V(Value::Bytes(x)), Val::V(Value::Bytes(y))) => Ok(Some(x.cmp(y))),
        (Val::V(Value::Date(x)), Val::V(Value::Date(y))) => Ok(Some(x.cmp(y))),
        (Val::V(Value::DateTime(x)), Val::V(Value::DateTime(y))) => Ok(Some(x.cmp(y))),
        (Val::Tuple(x), Val::Tuple(y)) => seq_cmp(&Seq::Tuple(x), &Seq::Tuple(y), op),
        (Val::Set(_) | Val::V(Value::Set(_)), Val::Set(_) | Val::V(Value::Set(_))) => {
            let (x, y) = (set_view(a).expect("a set"), set_view(b).expect("a set"));
            let sub = x.iter().all(|k| y.contains(k));
            let sup = y.iter().all(|k| x.contains(k));
            // Sets order by inclusion: only the answer to this operator is meaningful.
            Ok(match (sub, sup) {
                (true, true) => Some(Ordering::Equal),
                (true, false) => Some(Ordering::Less),
                (false, true) => Some(Ordering::Greater),
                (false, false) => None,
            })
        }
        _ => match (list_view(a), list_view(b)) {
            (Some(x), Some(y)) => seq_cmp(&x, &y, op),
            _ => Err(unorderable()),
        },
    }
}

fn seq_cmp(x: &Seq, y: &Seq, op: &str) -> Result<Option<Ordering>> {
    stacker::maybe_grow(
        crate::interp::STACK_RED_ZONE,
        crate::interp::STACK_SEGMENT,
        || seq_cmp_inner(x, y, op),
    )
}

fn seq_cmp_inner(x: &Seq, y: &Seq, op: &str) -> Result<Option<Ordering>> {
    for i in 0..x.len().min(y.len()) {
        let (p, q) = (x.get(i), y.get(i));
        if !py_eq(&p, &q) {
            return py_cmp(&p, &q, op);
        }
    }
    Ok(Some(x.len().cmp(&y.len())))
}

/// A total order for sorting: Python's `<`, with a `TypeError` for mixed types.
pub fn sort_cmp(a: &Val, b: &Val) -> Result<Ordering> {
    Ok(py_cmp(a, b, "<")?.unwrap_or(Ordering::Equal))
}

// ---- conversions ----

/// How deeply a value may nest when it is stored, printed or compared (a list that holds
/// itself has no end).
pub const MAX_NEST: usize = 200;

/// The okdb value a script's value stands for, to store it or send it: tuples become lists,
/// dict keys become strings (as JSON does).
pub fn to_value(v: &Val) -> Result<Value> {
    to_value_at(v, 0, &mut 0)
}

/// The most values (items at every level) one conversion makes: a value built of shared
/// parts (`[[big] * 1000] * 1000`) must not expand without bound.
pub const MAX_NODES: usize = 50_000_000;

fn to_value_at(v: &Val, depth: usize, nodes: &mut usize) -> Result<Value> {
    if depth > MAX_NEST {
        return Err(Exc::value_error(
            "value nests too deeply to store (does it contain itself?)",
        ));
    }
    *nodes += 1;
    if *nodes > MAX_NODES {
        return Err(Exc::budget(format!(
            "the value has more than {MAX_NODES} items in all"
        )));
    }
    Ok(match v {
        // A pick (a scan's matches) leaves as a list of its own, not holding its source.
        Val::V(Value::List(l)) if l.is_picked() => {
            let mut l = l.clone();
            l.settle();
            Value::List(l)
        }
        Val::V(v) => v.clone(),
        Val::List(l) => Value::list(
            l.borrow()
                .iter()
                .map(|x| to_value_at(x, depth + 1, nodes))
                .collect::<Result<Vec<_>>>()?,
        ),
        Val::Tuple(t) => Value::list(
            t.iter()
                .map(|x| to_value_at(x, depth + 1, nodes))
                .collect::<Result<Vec<_>>>()?,
        ),
        Val::Dict(d) => {
            let d = d.borrow();
            let d = match &*d {
                // Not changed since it was read: the stored dict itself.
                DictObj::Stored(d) => return Ok(Value::Dict(d.clone())),
                DictObj::Own(d) => d,
            };
            let mut out = Dict::new();
            for (k, v) in d.iter() {
                let key = match &k.0 {
                    Val::V(Value::Str(s)) => SmolStr::new(s.as_str()),
                    other => SmolStr::new(crate::format::to_str(other)?),
                };
                out.insert(key, to_value_at(v, depth + 1, nodes)?);
            }
            Value::Dict(out)
        }
        Val::Set(s) => {
            let items = s
                .borrow()
                .iter()
                .map(|k| to_value_at(&k.0, depth + 1, nodes))
                .collect::<Result<Vec<_>>>()?;
            Value::set(items).map_err(|e| Exc::type_error(e.to_string()))?
        }
        Val::Boxed(b) => b.borrow().clone(),
        Val::Range(a, b, s) => {
            let n = range_len(*a, *b, *s);
            *nodes += n as usize;
            if *nodes > MAX_NODES {
                return Err(Exc::budget(format!(
                    "the value has more than {MAX_NODES} items in all"
                )));
            }
            Value::list((0..n).map(|i| Value::Int(a + i * s)))
        }
        Val::Func(f) => match &f.def.source {
            Some(src) if f.frees.is_empty() && f.defaults.is_empty() => {
                Value::Function(src.as_str().into())
            }
            Some(_) => {
                return Err(Exc::type_error(
                    "cannot store a lambda that uses variables of its script or has defaults",
                ))
            }
            None => {
                return Err(Exc::type_error(format!(
                    "cannot store function '{}': only lambdas are stored",
                    f.def.name
                )))
            }
        },
        other => {
            return Err(Exc::type_error(format!(
                "cannot store a value of type '{}'",
                other.type_name()
            )))
        }
    })
}

impl From<Value> for Val {
    fn from(v: Value) -> Val {
        Val::V(v)
    }
}

#[cfg(test)]
mod size_tests {
    #[test]
    fn a_held_stored_dict_is_small() {
        // The object a stored record becomes when a script's list shares it (see `DictObj`).
        assert!(std::mem::size_of::<std::cell::RefCell<super::DictObj>>() <= 32);
        assert_eq!(crate::interp::HELD_DICT_BYTES, 48);
    }
}
