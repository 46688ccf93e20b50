//! Methods of str, list, tuple, dict and set (Python's), and of okdb's deque, sortedset and
//! pqueue (through the operations layer, as the command verbs).

use std::cell::RefCell;
use std::rc::Rc;

use okdb_ops::seq::End;
use okdb_value::{SmolStr, Value};

use crate::builtins::arity;
use crate::error::{Exc, Result};
use crate::interp::{op_error, Interp};
use crate::val::*;

/// Whether a method of this name changes its receiver (so the receiver is made shared where
/// it lives before the call).
pub fn mutates(name: &str) -> bool {
    matches!(
        name,
        "append"
            | "extend"
            | "insert"
            | "pop"
            | "remove"
            | "sort"
            | "reverse"
            | "clear"
            | "update"
            | "setdefault"
            | "popitem"
            | "add"
            | "discard"
            | "appendleft"
            | "popleft"
            | "extendleft"
            | "intersection_update"
            | "difference_update"
    )
}

const STR_METHODS: &[&str] = &[
    "upper",
    "lower",
    "strip",
    "lstrip",
    "rstrip",
    "split",
    "rsplit",
    "join",
    "replace",
    "startswith",
    "endswith",
    "find",
    "rfind",
    "index",
    "rindex",
    "count",
    "isdigit",
    "isalpha",
    "isalnum",
    "isspace",
    "isupper",
    "islower",
    "isdecimal",
    "isnumeric",
    "title",
    "capitalize",
    "swapcase",
    "zfill",
    "splitlines",
    "partition",
    "rpartition",
    "center",
    "ljust",
    "rjust",
    "format",
    "casefold",
    "removeprefix",
    "removesuffix",
    "encode",
];
const LIST_METHODS: &[&str] = &[
    "append", "extend", "insert", "pop", "remove", "index", "count", "sort", "reverse", "copy",
    "clear",
];
const DICT_METHODS: &[&str] = &[
    "get",
    "keys",
    "values",
    "items",
    "pop",
    "setdefault",
    "update",
    "copy",
    "clear",
    "popitem",
];
const SET_METHODS: &[&str] = &[
    "add",
    "discard",
    "remove",
    "pop",
    "union",
    "intersection",
    "difference",
    "symmetric_difference",
    "issubset",
    "issuperset",
    "isdisjoint",
    "update",
    "copy",
    "clear",
    "intersection_update",
    "difference_update",
];
const DEQUE_METHODS: &[&str] = &[
    "append",
    "appendleft",
    "pop",
    "popleft",
    "extend",
    "extendleft",
    "clear",
    "copy",
    "count",
    "index",
    "remove",
    "reverse",
];
const SORTEDSET_METHODS: &[&str] = &[
    "add", "discard", "remove", "score", "rank", "pop", "popleft", "range", "copy",
];
const PQUEUE_METHODS: &[&str] = &["add", "pop", "peek", "copy"];
const MATCH_METHODS: &[&str] = &["group", "groups", "start", "end", "span", "groupdict"];
const RE_FUNCTIONS: &[&str] = &[
    "match",
    "search",
    "fullmatch",
    "findall",
    "sub",
    "split",
    "compile",
    "escape",
];
const PATTERN_METHODS: &[&str] = &["match", "search", "fullmatch", "findall", "sub", "split"];

fn methods_of(v: &Val) -> &'static [&'static str] {
    match v {
        Val::V(Value::Str(_)) => STR_METHODS,
        Val::List(_) | Val::V(Value::List(_)) => LIST_METHODS,
        Val::Tuple(_) => &["count", "index"],
        Val::Dict(_) | Val::V(Value::Dict(_)) => DICT_METHODS,
        Val::Set(_) | Val::V(Value::Set(_)) => SET_METHODS,
        Val::V(Value::Deque(_)) => DEQUE_METHODS,
        Val::V(Value::SortedSet(_)) => SORTEDSET_METHODS,
        Val::V(Value::PQueue(_)) => PQUEUE_METHODS,
        Val::Boxed(b) => match &*b.borrow() {
            Value::Deque(_) => DEQUE_METHODS,
            Value::SortedSet(_) => SORTEDSET_METHODS,
            _ => PQUEUE_METHODS,
        },
        Val::Match(_) => MATCH_METHODS,
        Val::Module("re") => RE_FUNCTIONS,
        Val::Regex(_) => PATTERN_METHODS,
        _ => &[],
    }
}

fn no_attr(v: &Val, name: &str) -> Exc {
    if matches!(v, Val::Module(_)) {
        return Exc::raise(
            "AttributeError",
            format!("module 're' has no attribute '{name}'"),
        );
    }
    Exc::raise(
        "AttributeError",
        format!("'{}' object has no attribute '{name}'", v.type_name()),
    )
}

/// `obj.name` outside a call: a bound method.
pub fn attribute(v: Val, name: &str) -> Result<Val> {
    if let (Val::Regex(r), "pattern") = (&v, name) {
        return Ok(Val::str(r.as_str()));
    }
    if methods_of(&v).contains(&name) {
        return Ok(Val::Method(Rc::new((v, SmolStr::new(name)))));
    }
    Err(no_attr(&v, name))
}

fn str_arg<'a>(method: &str, v: &'a Val) -> Result<&'a str> {
    v.as_str().ok_or_else(|| {
        Exc::type_error(format!(
            "{method}() argument must be str, not {}",
            v.type_name()
        ))
    })
}

pub fn call(
    interp: &mut Interp,
    recv: Val,
    name: &str,
    args: Vec<Val>,
    kwargs: Vec<(SmolStr, Val)>,
) -> Result<Val> {
    interp.tick()?;
    if !methods_of(&recv).contains(&name) {
        return Err(no_attr(&recv, name));
    }
    let recv = if mutates(name) && is_snapshot(&recv) {
        interp.promote(recv)?
    } else {
        recv
    };
    if !kwargs.is_empty()
        && !matches!(
            (&recv, name),
            (Val::List(_), "sort") | (Val::V(Value::Str(_)), "format" | "split" | "rsplit")
        )
    {
        return Err(Exc::type_error(format!(
            "{name}() takes no keyword arguments"
        )));
    }
    match &recv {
        Val::V(Value::Str(s)) => str_method(interp, s.as_str(), name, args, kwargs),
        Val::List(l) => list_method(interp, l, name, args, kwargs),
        Val::V(Value::List(_)) | Val::Tuple(_) => seq_method(interp, &recv, name, args),
        Val::Dict(d) => dict_method(interp, d, name, args),
        Val::V(Value::Dict(d)) if matches!(name, "get" | "keys" | "values" | "items") => {
            stored_dict_method(interp, d, name, args)
        }
        Val::V(Value::Dict(_)) => {
            // Other reading methods of a stored dict: work on a one-level view.
            let p = interp.promote(recv.clone())?;
            let Val::Dict(d) = &p else {
                unreachable!("a dict promotes to a dict")
            };
            dict_method(interp, d, name, args)
        }
        Val::Set(s) => set_method(interp, s, name, args),
        Val::V(Value::Set(_)) => {
            let p = interp.promote(recv.clone())?;
            let Val::Set(s) = &p else {
                unreachable!("a set promotes to a set")
            };
            set_method(interp, s, name, args)
        }
        Val::Boxed(b) => boxed_method(interp, b, name, args),
        Val::V(v @ (Value::Deque(_) | Value::SortedSet(_) | Value::PQueue(_))) => {
            let b = Rc::new(RefCell::new(v.clone()));
            boxed_method(interp, &b, name, args)
        }
        Val::Match(m) => crate::re::match_method(m, name, &args),
        Val::Module(_) => crate::re::function(interp, name, &args),
        Val::Regex(r) => crate::re::pattern_method(interp, r, name, &args),
        _ => Err(no_attr(&recv, name)),
    }
}

fn index_in(interp: &mut Interp, items: &[Val], x: &Val, args: &[Val], what: &str) -> Result<Val> {
    let n = items.len() as i64;
    let norm = |v: Option<&Val>, default: i64| -> Result<i64> {
        Ok(match v {
            None => default,
            Some(v) => {
                let i = v.index("slice indices")?;
                if i < 0 {
                    (i + n).max(0)
                } else {
                    i.min(n)
                }
            }
        })
    };
    let (start, stop) = (norm(args.get(1), 0)?, norm(args.get(2), n)?);
    for i in start..stop {
        interp.tick()?;
        if py_eq(&items[i as usize], x) {
            return Ok(Val::int(i));
        }
    }
    Err(Exc::value_error(format!(
        "{} is not in {what}",
        crate::format::repr(x)?
    )))
}

/// Methods that read a list or tuple.
fn seq_method(interp: &mut Interp, recv: &Val, name: &str, args: Vec<Val>) -> Result<Val> {
    let items = interp.collect(recv)?;
    let what = if matches!(recv, Val::Tuple(_)) {
        "tuple"
    } else {
        "list"
    };
    match name {
        "count" => {
            arity(name, &args, 1, 1)?;
            Ok(Val::int(
                items.iter().filter(|x| py_eq(x, &args[0])).count() as i64,
            ))
        }
        "index" => {
            arity(name, &args, 1, 3)?;
            index_in(interp, &items, &args[0], &args, what)
        }
        "copy" => Ok(interp.new_list(items)),
        _ => Err(no_attr(recv, name)),
    }
}

fn list_method(
    interp: &mut Interp,
    l: &Rc<RefCell<Vec<Val>>>,
    name: &str,
    args: Vec<Val>,
    kwargs: Vec<(SmolStr, Val)>,
) -> Result<Val> {
    let busy = || Exc::value_error("list changed while in use");
    match name {
        "append" => {
            arity(name, &args, 1, 1)?;
            interp.charge_items(1)?;
            l.try_borrow_mut()
                .map_err(|_| busy())?
                .push(args.into_iter().next().expect("one"));
            Ok(NONE)
        }
        "extend" => {
            arity(name, &args, 1, 1)?;
            let items = interp.collect(&args[0])?;
            interp.charge_items(items.len())?;
            l.try_borrow_mut().map_err(|_| busy())?.extend(items);
            Ok(NONE)
        }
        "insert" => {
            arity(name, &args, 2, 2)?;
            let i = args[0].index("list indices")?;
            interp.charge_items(1)?;
            let mut l = l.try_borrow_mut().map_err(|_| busy())?;
            let at = okdb_ops::seq::insertion_point(l.len(), i);
            l.insert(at, args[1].clone());
            Ok(NONE)
        }
        "pop" => {
            arity(name, &args, 0, 1)?;
            let mut l = l.try_borrow_mut().map_err(|_| busy())?;
            if l.is_empty() {
                return Err(Exc::index_error("pop from empty list"));
            }
            let i = match args.first() {
                Some(v) => v.index("list indices")?,
                None => -1,
            };
            let at = okdb_ops::seq::index_of(l.len(), i)
                .ok_or_else(|| Exc::index_error("pop index out of range"))?;
            Ok(l.remove(at))
        }
        "remove" => {
            arity(name, &args, 1, 1)?;
            // Compared on a copy: the item may be the list itself.
            let items = l.try_borrow().map_err(|_| busy())?.clone();
            interp.tick_n(items.len() as u64)?;
            match items.iter().position(|x| py_eq(x, &args[0])) {
                Some(i) => {
                    l.try_borrow_mut().map_err(|_| busy())?.remove(i);
                    Ok(NONE)
                }
                None => Err(Exc::value_error("list.remove(x): x not in list")),
            }
        }
        "index" => {
            arity(name, &args, 1, 3)?;
            let items = l.borrow().clone();
            index_in(interp, &items, &args[0], &args, "list")
        }
        "count" => {
            arity(name, &args, 1, 1)?;
            let n = l.borrow().iter().filter(|x| py_eq(x, &args[0])).count();
            Ok(Val::int(n as i64))
        }
        "sort" => {
            arity(name, &args, 0, 0)
                .map_err(|_| Exc::type_error("sort() takes no positional arguments"))?;
            let mut key = None;
            let mut reverse = false;
            for (k, v) in kwargs {
                match k.as_str() {
                    "key" => key = Some(v),
                    "reverse" => reverse = v.truthy(),
                    _ => {
                        return Err(Exc::type_error(format!(
                            "sort() got an unexpected keyword argument '{k}'"
                        )))
                    }
                }
            }
            let mut items = std::mem::take(&mut *l.try_borrow_mut().map_err(|_| busy())?);
            let r = interp.sort_items(&mut items, key.as_ref(), reverse);
            *l.borrow_mut() = items;
            r.map(|_| NONE)
        }
        "reverse" => {
            arity(name, &args, 0, 0)?;
            l.try_borrow_mut().map_err(|_| busy())?.reverse();
            Ok(NONE)
        }
        "copy" => {
            arity(name, &args, 0, 0)?;
            let items = l.borrow().clone();
            interp.charge_items(items.len())?;
            Ok(interp.new_list(items))
        }
        "clear" => {
            arity(name, &args, 0, 0)?;
            l.try_borrow_mut().map_err(|_| busy())?.clear();
            Ok(NONE)
        }
        _ => Err(Exc::raise(
            "AttributeError",
            format!("'list' object has no attribute '{name}'"),
        )),
    }
}

/// `get`, `keys`, `values` and `items` of a stored dict, read in place (no copy of the dict).
fn stored_dict_method(
    interp: &mut Interp,
    d: &okdb_value::Dict,
    name: &str,
    args: Vec<Val>,
) -> Result<Val> {
    if name == "get" {
        arity(name, &args, 1, 2)?;
        let found = match args[0].as_str() {
            Some(k) => d.get(k),
            None => {
                check_hashable(&args[0])?;
                None
            }
        };
        return Ok(match found {
            Some(v) => Val::V(v.clone()),
            None => args.get(1).cloned().unwrap_or(NONE),
        });
    }
    arity(name, &args, 0, 0)?;
    interp.charge_items(d.len())?;
    interp.tick_n(d.len() as u64)?;
    let key = |k: &SmolStr| Val::str(k);
    let items: Vec<Val> = match name {
        "keys" => d.iter().map(|(k, _)| key(k)).collect(),
        "values" => d.iter().map(|(_, v)| Val::V(v.clone())).collect(),
        _ => d
            .iter()
            .map(|(k, v)| Val::tuple(vec![key(k), Val::V(v.clone())]))
            .collect(),
    };
    Ok(interp.new_list(items))
}

fn dict_method(
    interp: &mut Interp,
    obj: &Rc<RefCell<DictObj>>,
    name: &str,
    args: Vec<Val>,
) -> Result<Val> {
    let busy = || Exc::value_error("dict changed while in use");
    match name {
        "get" => {
            arity(name, &args, 1, 2)?;
            let k = HKey::new(args[0].clone())?;
            let mut d = obj.try_borrow_mut().map_err(|_| busy())?;
            match interp.dict_item(obj, &mut d, &k)? {
                Some(v) => Ok(v),
                None => Ok(args.get(1).cloned().unwrap_or(NONE)),
            }
        }
        "keys" | "values" | "items" => {
            arity(name, &args, 0, 0)?;
            let mut d = obj.try_borrow_mut().map_err(|_| busy())?;
            let n = d.len();
            interp.charge_items(n)?;
            interp.tick_n(n as u64)?;
            if name == "keys" {
                let keys = d.keys();
                drop(d);
                return Ok(interp.new_list(keys));
            }
            if let DictObj::Stored(s) = &*d {
                if !s.iter().any(|(_, v)| is_snapshot_value(v)) {
                    // Scalars only: read in place.
                    let items = d
                        .entries()
                        .into_iter()
                        .map(|(k, v)| {
                            if name == "values" {
                                v
                            } else {
                                Val::tuple(vec![k, v])
                            }
                        })
                        .collect();
                    drop(d);
                    return Ok(interp.new_list(items));
                }
            }
            let mut items: Vec<Val> = Vec::with_capacity(n);
            // Values are shared: a container among them makes a stored dict copy its entries.
            let entries = interp.dict_mut(obj, &mut d)?;
            for (k, v) in entries.iter_mut() {
                items.push(match name {
                    "values" => interp.share(v)?,
                    _ => Val::tuple(vec![k.0.clone(), interp.share(v)?]),
                });
            }
            drop(d);
            Ok(interp.new_list(items))
        }
        "pop" => {
            arity(name, &args, 1, 2)?;
            let k = HKey::new(args[0].clone())?;
            let mut d = obj.try_borrow_mut().map_err(|_| busy())?;
            let found = if d.contains_key(&k) {
                interp.dict_mut(obj, &mut d)?.shift_remove(&k)
            } else {
                None
            };
            match found {
                Some(v) => Ok(v),
                None => match args.get(1) {
                    Some(default) => Ok(default.clone()),
                    None => Err(Exc::raise("KeyError", crate::format::repr(&args[0])?)),
                },
            }
        }
        "popitem" => {
            arity(name, &args, 0, 0)?;
            let mut d = obj.try_borrow_mut().map_err(|_| busy())?;
            match interp.dict_mut(obj, &mut d)?.pop() {
                Some((k, v)) => Ok(Val::tuple(vec![k.0, v])),
                None => Err(Exc::raise("KeyError", "'popitem(): dictionary is empty'")),
            }
        }
        "setdefault" => {
            arity(name, &args, 1, 2)?;
            let k = HKey::new(args[0].clone())?;
            let mut d = obj.try_borrow_mut().map_err(|_| busy())?;
            if !d.contains_key(&k) {
                interp.charge_items(2)?;
            }
            let slot = interp
                .dict_mut(obj, &mut d)?
                .entry(k)
                .or_insert_with(|| args.get(1).cloned().unwrap_or(NONE));
            interp.share(slot)
        }
        "update" => {
            arity(name, &args, 0, 1)?;
            if let Some(src) = args.first() {
                let other = crate::builtins::call(
                    interp,
                    crate::builtins::Builtin::Dict,
                    vec![src.clone()],
                    Vec::new(),
                )?;
                let Val::Dict(o) = other else {
                    unreachable!("dict() makes a dict")
                };
                let o = o.borrow().to_py();
                let mut d = obj.try_borrow_mut().map_err(|_| busy())?;
                interp.dict_mut(obj, &mut d)?.extend(o);
            }
            Ok(NONE)
        }
        "copy" => {
            arity(name, &args, 0, 0)?;
            let c = obj.borrow().clone();
            // A copy of a stored dict that was never changed is the stored dict again.
            let n = match &c {
                DictObj::Stored(_) => 0,
                DictObj::Own(c) => c.len(),
            };
            interp.charge_items(n * 2)?;
            Ok(interp.made(Val::Dict(Rc::new(RefCell::new(c)))))
        }
        "clear" => {
            arity(name, &args, 0, 0)?;
            let mut d = obj.try_borrow_mut().map_err(|_| busy())?;
            interp.dict_mut(obj, &mut d)?.clear();
            Ok(NONE)
        }
        _ => Err(Exc::raise(
            "AttributeError",
            format!("'dict' object has no attribute '{name}'"),
        )),
    }
}

fn set_method(
    interp: &mut Interp,
    s: &Rc<RefCell<PySet>>,
    name: &str,
    args: Vec<Val>,
) -> Result<Val> {
    let busy = || Exc::value_error("set changed while in use");
    let others = |interp: &mut Interp, args: &[Val]| -> Result<Vec<PySet>> {
        args.iter()
            .map(|a| {
                let items = interp.collect(a)?;
                items.into_iter().map(HKey::new).collect::<Result<PySet>>()
            })
            .collect()
    };
    let new_set = |interp: &mut Interp, set: PySet| interp.new_set(set);
    match name {
        "add" => {
            arity(name, &args, 1, 1)?;
            interp.charge_items(1)?;
            s.try_borrow_mut()
                .map_err(|_| busy())?
                .insert(HKey::new(args[0].clone())?);
            Ok(NONE)
        }
        "discard" | "remove" => {
            arity(name, &args, 1, 1)?;
            let k = HKey::new(args[0].clone())?;
            let found = s.try_borrow_mut().map_err(|_| busy())?.shift_remove(&k);
            if !found && name == "remove" {
                return Err(Exc::raise("KeyError", crate::format::repr(&args[0])?));
            }
            Ok(NONE)
        }
        "pop" => {
            arity(name, &args, 0, 0)?;
            match s
                .try_borrow_mut()
                .map_err(|_| busy())?
                .shift_remove_index(0)
            {
                Some(k) => Ok(k.0),
                None => Err(Exc::raise("KeyError", "'pop from an empty set'")),
            }
        }
        "union" | "intersection" | "difference" | "symmetric_difference" => {
            let os = others(interp, &args)?;
            let mut acc = s.borrow().clone();
            for o in os {
                acc = match name {
                    "union" => acc.union(&o).cloned().collect(),
                    "intersection" => acc.intersection(&o).cloned().collect(),
                    "difference" => acc.difference(&o).cloned().collect(),
                    _ => acc.symmetric_difference(&o).cloned().collect(),
                };
            }
            interp.charge_items(acc.len())?;
            Ok(new_set(interp, acc))
        }
        "update" | "intersection_update" | "difference_update" => {
            let os = others(interp, &args)?;
            let mut set = s.try_borrow_mut().map_err(|_| busy())?;
            for o in os {
                match name {
                    "update" => set.extend(o),
                    "intersection_update" => set.retain(|k| o.contains(k)),
                    _ => set.retain(|k| !o.contains(k)),
                }
            }
            Ok(NONE)
        }
        "issubset" | "issuperset" | "isdisjoint" => {
            arity(name, &args, 1, 1)?;
            let o = others(interp, &args)?.pop().expect("one");
            let me = s.borrow();
            Ok(Val::bool(match name {
                "issubset" => me.iter().all(|k| o.contains(k)),
                "issuperset" => o.iter().all(|k| me.contains(k)),
                _ => me.iter().all(|k| !o.contains(k)),
            }))
        }
        "copy" => {
            arity(name, &args, 0, 0)?;
            Ok(new_set(interp, s.borrow().clone()))
        }
        "clear" => {
            arity(name, &args, 0, 0)?;
            s.try_borrow_mut().map_err(|_| busy())?.clear();
            Ok(NONE)
        }
        _ => Err(Exc::raise(
            "AttributeError",
            format!("'set' object has no attribute '{name}'"),
        )),
    }
}

/// deque, sortedset and pqueue methods: the operations layer's verbs.
fn boxed_method(
    interp: &mut Interp,
    b: &Rc<RefCell<Value>>,
    name: &str,
    args: Vec<Val>,
) -> Result<Val> {
    let values = args.iter().map(to_value).collect::<Result<Vec<_>>>()?;
    // An argument that is this very value is compared with a copy of it.
    let args: Vec<Val> = args
        .into_iter()
        .map(|a| match &a {
            Val::Boxed(x) if Rc::ptr_eq(x, b) => Val::V(x.borrow().clone()),
            _ => a,
        })
        .collect();
    let mut v = b
        .try_borrow_mut()
        .map_err(|_| Exc::value_error("value changed while in use"))?;
    let verb = "method";
    match (&mut *v, name) {
        (Value::Deque(_), "append" | "appendleft") => {
            arity(name, &args, 1, 1)?;
            let end = if name == "append" {
                End::Right
            } else {
                End::Left
            };
            okdb_ops::seq::push(verb, &mut v, end, values).map_err(op_error)?;
            Ok(NONE)
        }
        (Value::Deque(_), "extend" | "extendleft") => {
            arity(name, &args, 1, 1)?;
            drop(v);
            let items = interp.collect(&args[0])?;
            let items = items.iter().map(to_value).collect::<Result<Vec<_>>>()?;
            let end = if name == "extend" {
                End::Right
            } else {
                End::Left
            };
            let mut v = b.borrow_mut();
            okdb_ops::seq::push(verb, &mut v, end, items).map_err(op_error)?;
            Ok(NONE)
        }
        (Value::Deque(_), "pop" | "popleft") => {
            arity(name, &args, 0, 0)?;
            let end = if name == "pop" { End::Right } else { End::Left };
            let mut got = okdb_ops::seq::pop(verb, &mut v, end, 1).map_err(op_error)?;
            got.pop()
                .map(Val::V)
                .ok_or_else(|| Exc::index_error("pop from an empty deque"))
        }
        (Value::Deque(d), "clear") => {
            d.items.clear();
            Ok(NONE)
        }
        (Value::Deque(d), "reverse") => {
            let items: okdb_value::List = d.items.iter_rev().map(|x| x.into_owned()).collect();
            d.items = items;
            Ok(NONE)
        }
        (Value::Deque(_), "count") => {
            arity(name, &args, 1, 1)?;
            okdb_ops::seq::count(verb, &Value::list(ops_items(&v)?), &values[0])
                .map(|n| Val::int(n as i64))
                .map_err(op_error)
        }
        (Value::Deque(d), "index") => {
            arity(name, &args, 1, 1)?;
            let x = &args[0];
            d.items
                .iter()
                .position(|y| py_eq(&Val::V(y.into_owned()), x))
                .map(|i| Val::int(i as i64))
                .ok_or_else(|| {
                    Exc::value_error(format!(
                        "{} is not in deque",
                        crate::format::repr(x).unwrap_or_default()
                    ))
                })
        }
        (Value::Deque(d), "remove") => {
            arity(name, &args, 1, 1)?;
            let x = &args[0];
            match d
                .items
                .iter()
                .position(|y| py_eq(&Val::V(y.into_owned()), x))
            {
                Some(i) => {
                    d.items.remove(i);
                    Ok(NONE)
                }
                None => Err(Exc::value_error(format!(
                    "{} is not in deque",
                    crate::format::repr(x)?
                ))),
            }
        }
        (Value::SortedSet(z), "add") => {
            arity(name, &args, 2, 2)?;
            let m = str_arg(name, &args[0])?;
            let s = args[1]
                .as_float()
                .ok_or_else(|| Exc::type_error("a sortedset score must be a number"))?;
            if s.is_nan() {
                return Err(Exc::value_error("a score cannot be NaN"));
            }
            z.insert(m.into(), s);
            Ok(NONE)
        }
        (Value::SortedSet(z), "discard" | "remove") => {
            arity(name, &args, 1, 1)?;
            let m = str_arg(name, &args[0])?;
            if z.remove(m).is_none() && name == "remove" {
                return Err(Exc::raise("KeyError", crate::format::str_repr(m)));
            }
            Ok(NONE)
        }
        (Value::SortedSet(z), "score") => {
            arity(name, &args, 1, 1)?;
            Ok(z.score(str_arg(name, &args[0])?).map_or(NONE, Val::float))
        }
        (Value::SortedSet(z), "rank") => {
            arity(name, &args, 1, 1)?;
            Ok(z.rank(str_arg(name, &args[0])?)
                .map_or(NONE, |r| Val::int(r as i64)))
        }
        (Value::SortedSet(z), "pop" | "popleft") => {
            arity(name, &args, 0, 0)?;
            match z.pop(name == "pop") {
                Some((m, s)) => Ok(Val::tuple(vec![Val::str(&m), Val::float(s)])),
                None => Err(Exc::index_error("pop from an empty sortedset")),
            }
        }
        (Value::SortedSet(z), "range") => {
            arity(name, &args, 2, 2)?;
            let (a, e) = (args[0].index("range")?, args[1].index("range")?);
            let items = match okdb_ops::seq::redis_range(z.len(), a, e) {
                Some((from, to)) => z.range(from, to),
                None => Vec::new(),
            };
            let out = items
                .into_iter()
                .map(|(m, s)| Val::tuple(vec![Val::str(&m), Val::float(s)]))
                .collect();
            drop(v);
            Ok(interp.new_list(out))
        }
        (Value::PQueue(_), "add") => {
            arity(name, &args, 2, 2)?;
            let mut values = values;
            let prio = values.pop().expect("two");
            let item = values.pop().expect("two");
            okdb_ops::queue::add(verb, &mut v, vec![(item, prio)]).map_err(op_error)?;
            Ok(NONE)
        }
        (Value::PQueue(_), "pop") => match okdb_ops::queue::pop(verb, &mut v).map_err(op_error)? {
            Some((_, item)) => Ok(Val::V(item)),
            None => Err(Exc::index_error("pop from an empty pqueue")),
        },
        (Value::PQueue(q), "peek") => Ok(q.peek().map_or(NONE, |(_, item)| Val::V(item.clone()))),
        (_, "copy") => Ok(Val::Boxed(Rc::new(RefCell::new(v.clone())))),
        (other, _) => Err(Exc::raise(
            "AttributeError",
            format!("'{}' object has no attribute '{name}'", other.type_name()),
        )),
    }
}

fn ops_items(v: &Value) -> Result<Vec<Value>> {
    okdb_ops::items("method", v).map_err(op_error)
}

fn str_method(
    interp: &mut Interp,
    s: &str,
    name: &str,
    args: Vec<Val>,
    kwargs: Vec<(SmolStr, Val)>,
) -> Result<Val> {
    let opt_chars = |args: &[Val]| -> Result<Option<String>> {
        match args.first() {
            None => Ok(None),
            Some(v) if v.is_none() => Ok(None),
            Some(v) => Ok(Some(str_arg(name, v)?.to_string())),
        }
    };
    let out = |interp: &mut Interp, t: String| -> Result<Val> {
        interp.charge(t.len())?;
        Ok(Val::string(t))
    };
    match name {
        "upper" => out(interp, s.to_uppercase()),
        "lower" | "casefold" => out(interp, s.to_lowercase()),
        "swapcase" => out(
            interp,
            s.chars()
                .flat_map(|c| {
                    if c.is_uppercase() {
                        c.to_lowercase().collect::<Vec<_>>()
                    } else {
                        c.to_uppercase().collect::<Vec<_>>()
                    }
                })
                .collect(),
        ),
        "strip" | "lstrip" | "rstrip" => {
            arity(name, &args, 0, 1)?;
            let chars = opt_chars(&args)?;
            let pat = |c: char| match &chars {
                Some(cs) => cs.contains(c),
                None => c.is_whitespace(),
            };
            let t = match name {
                "strip" => s.trim_matches(pat),
                "lstrip" => s.trim_start_matches(pat),
                _ => s.trim_end_matches(pat),
            };
            Ok(Val::str(t))
        }
        "split" | "rsplit" => {
            let mut sep = args.first().cloned();
            let mut maxsplit = args
                .get(1)
                .map(|v| v.index("maxsplit"))
                .transpose()?
                .unwrap_or(-1);
            for (k, v) in kwargs {
                match k.as_str() {
                    "sep" => sep = Some(v),
                    "maxsplit" => maxsplit = v.index("maxsplit")?,
                    _ => {
                        return Err(Exc::type_error(format!(
                            "{name}() got an unexpected keyword argument '{k}'"
                        )))
                    }
                }
            }
            let sep = sep.filter(|v| !v.is_none());
            let parts: Vec<String> = match sep {
                Some(sep) => {
                    let sep = str_arg(name, &sep)?;
                    if sep.is_empty() {
                        return Err(Exc::value_error("empty separator"));
                    }
                    if maxsplit < 0 {
                        s.split(sep).map(String::from).collect()
                    } else if name == "split" {
                        s.splitn(maxsplit as usize + 1, sep)
                            .map(String::from)
                            .collect()
                    } else {
                        let mut v: Vec<String> = s
                            .rsplitn(maxsplit as usize + 1, sep)
                            .map(String::from)
                            .collect();
                        v.reverse();
                        v
                    }
                }
                None => {
                    let words: Vec<&str> = s.split_whitespace().collect();
                    if maxsplit < 0 || words.len() <= maxsplit as usize {
                        words.into_iter().map(String::from).collect()
                    } else if name == "split" {
                        // The rest after `maxsplit` words keeps its inner spacing.
                        let mut out = Vec::new();
                        let mut rest = s.trim_start();
                        for _ in 0..maxsplit {
                            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                            out.push(rest[..end].to_string());
                            rest = rest[end..].trim_start();
                        }
                        if !rest.is_empty() {
                            out.push(rest.to_string());
                        }
                        out
                    } else {
                        let mut out = Vec::new();
                        let mut rest = s.trim_end();
                        for _ in 0..maxsplit {
                            let start = rest.rfind(char::is_whitespace).map_or(0, |i| i + 1);
                            out.push(rest[start..].to_string());
                            rest = rest[..start].trim_end();
                        }
                        if !rest.is_empty() {
                            out.push(rest.to_string());
                        }
                        out.reverse();
                        out
                    }
                }
            };
            interp.charge_items(parts.len())?;
            let items = parts.into_iter().map(Val::string).collect();
            Ok(interp.new_list(items))
        }
        "splitlines" => {
            // Lines end at \n, \r or \r\n; a final line break ends the last line.
            let mut items = Vec::new();
            let mut rest = s;
            while !rest.is_empty() {
                match rest.find(['\n', '\r']) {
                    Some(i) => {
                        items.push(Val::str(&rest[..i]));
                        let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                        rest = &rest[i + skip..];
                    }
                    None => {
                        items.push(Val::str(rest));
                        break;
                    }
                }
            }
            interp.charge_items(items.len())?;
            Ok(interp.new_list(items))
        }
        "join" => {
            arity(name, &args, 1, 1)?;
            let items = interp.collect(&args[0])?;
            let mut parts = Vec::with_capacity(items.len());
            let mut total = 0;
            for (i, x) in items.iter().enumerate() {
                let t = x.as_str().ok_or_else(|| {
                    Exc::type_error(format!(
                        "sequence item {i}: expected str instance, {} found",
                        x.type_name()
                    ))
                })?;
                total += t.len() + s.len();
                parts.push(t);
            }
            interp.charge(total)?;
            Ok(Val::string(parts.join(s)))
        }
        "replace" => {
            arity(name, &args, 2, 3)?;
            let (old, new) = (str_arg(name, &args[0])?, str_arg(name, &args[1])?);
            let count = args
                .get(2)
                .map(|v| v.index("count"))
                .transpose()?
                .unwrap_or(-1);
            let n = if old.is_empty() {
                s.chars().count() + 1
            } else {
                s.matches(old).count()
            };
            interp.charge(s.len() + n.saturating_mul(new.len()))?;
            Ok(Val::string(if count < 0 {
                s.replace(old, new)
            } else {
                s.replacen(old, new, count as usize)
            }))
        }
        "startswith" | "endswith" => {
            arity(name, &args, 1, 1)?;
            let test = |p: &str| {
                if name == "startswith" {
                    s.starts_with(p)
                } else {
                    s.ends_with(p)
                }
            };
            match &args[0] {
                Val::Tuple(ps) => {
                    for p in ps.iter() {
                        if test(str_arg(name, p)?) {
                            return Ok(Val::bool(true));
                        }
                    }
                    Ok(Val::bool(false))
                }
                p => Ok(Val::bool(test(str_arg(name, p)?))),
            }
        }
        "find" | "rfind" | "index" | "rindex" | "count" => {
            arity(name, &args, 1, 3)?;
            let sub = str_arg(name, &args[0])?;
            let chars: Vec<(usize, char)> = s.char_indices().collect();
            let n = chars.len() as i64;
            let norm = |v: Option<&Val>, default: i64| -> Result<i64> {
                Ok(match v {
                    None => default,
                    Some(v) if v.is_none() => default,
                    Some(v) => {
                        let i = v.index("slice indices")?;
                        if i < 0 {
                            (i + n).max(0)
                        } else {
                            i.min(n)
                        }
                    }
                })
            };
            let (a, b) = (norm(args.get(1), 0)?, norm(args.get(2), n)?);
            let byte = |i: i64| chars.get(i as usize).map_or(s.len(), |c| c.0);
            let window = if a <= b { &s[byte(a)..byte(b)] } else { "" };
            let to_char = |off: usize| s[..byte(a) + off].chars().count() as i64;
            if name == "count" {
                if a > b {
                    return Ok(Val::int(0));
                }
                let c = if sub.is_empty() {
                    window.chars().count() + 1
                } else {
                    window.matches(sub).count()
                };
                return Ok(Val::int(c as i64));
            }
            let found = if a > b {
                None
            } else if name.starts_with('r') {
                window.rfind(sub)
            } else {
                window.find(sub)
            };
            match found {
                Some(off) => Ok(Val::int(to_char(off))),
                None if name.ends_with("find") => Ok(Val::int(-1)),
                None => Err(Exc::value_error("substring not found")),
            }
        }
        "isdigit" | "isdecimal" | "isnumeric" => Ok(Val::bool(
            !s.is_empty() && s.chars().all(|c| c.is_numeric()),
        )),
        "isalpha" => Ok(Val::bool(
            !s.is_empty() && s.chars().all(char::is_alphabetic),
        )),
        "isalnum" => Ok(Val::bool(
            !s.is_empty() && s.chars().all(char::is_alphanumeric),
        )),
        "isspace" => Ok(Val::bool(
            !s.is_empty() && s.chars().all(char::is_whitespace),
        )),
        "isupper" => Ok(Val::bool(
            s.chars().any(char::is_uppercase) && !s.chars().any(char::is_lowercase),
        )),
        "islower" => Ok(Val::bool(
            s.chars().any(char::is_lowercase) && !s.chars().any(char::is_uppercase),
        )),
        "title" => {
            let mut t = String::with_capacity(s.len());
            let mut prev_cased = false;
            for c in s.chars() {
                if prev_cased {
                    t.extend(c.to_lowercase());
                } else {
                    t.extend(c.to_uppercase());
                }
                prev_cased = c.is_alphabetic();
            }
            out(interp, t)
        }
        "capitalize" => {
            let mut cs = s.chars();
            let t = match cs.next() {
                Some(c) => c
                    .to_uppercase()
                    .chain(cs.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            };
            out(interp, t)
        }
        "zfill" | "center" | "ljust" | "rjust" => {
            arity(name, &args, 1, 2)?;
            let width = args[0].index("width")?.max(0) as usize;
            interp.charge(width)?;
            let fill = match args.get(1) {
                Some(f) => {
                    let f = str_arg(name, f)?;
                    let mut cs = f.chars();
                    match (cs.next(), cs.next()) {
                        (Some(c), None) => c,
                        _ => {
                            return Err(Exc::type_error(
                                "The fill character must be exactly one character long",
                            ))
                        }
                    }
                }
                None => ' ',
            };
            let n = s.chars().count();
            if n >= width {
                return Ok(Val::str(s));
            }
            let pad = width - n;
            let rep = |k: usize, c: char| std::iter::repeat_n(c, k).collect::<String>();
            Ok(Val::string(match name {
                "zfill" => {
                    let (sign, rest) = match s.chars().next() {
                        Some(c @ ('+' | '-')) => (c.to_string(), &s[1..]),
                        _ => (String::new(), s),
                    };
                    format!("{sign}{}{rest}", rep(pad, '0'))
                }
                "ljust" => format!("{s}{}", rep(pad, fill)),
                "rjust" => format!("{}{s}", rep(pad, fill)),
                _ => {
                    let left = pad / 2 + (pad & width & 1);
                    format!("{}{s}{}", rep(left, fill), rep(pad - left, fill))
                }
            }))
        }
        "partition" | "rpartition" => {
            arity(name, &args, 1, 1)?;
            let sep = str_arg(name, &args[0])?;
            if sep.is_empty() {
                return Err(Exc::value_error("empty separator"));
            }
            let at = if name == "partition" {
                s.find(sep)
            } else {
                s.rfind(sep)
            };
            Ok(Val::tuple(match at {
                Some(i) => vec![
                    Val::str(&s[..i]),
                    Val::str(sep),
                    Val::str(&s[i + sep.len()..]),
                ],
                None if name == "partition" => vec![Val::str(s), Val::str(""), Val::str("")],
                None => vec![Val::str(""), Val::str(""), Val::str(s)],
            }))
        }
        "removeprefix" => {
            arity(name, &args, 1, 1)?;
            let p = str_arg(name, &args[0])?;
            Ok(Val::str(s.strip_prefix(p).unwrap_or(s)))
        }
        "removesuffix" => {
            arity(name, &args, 1, 1)?;
            let p = str_arg(name, &args[0])?;
            Ok(Val::str(s.strip_suffix(p).unwrap_or(s)))
        }
        "encode" => Ok(Val::V(Value::Bytes(s.as_bytes().into()))),
        "format" => str_format(interp, s, &args, &kwargs),
        _ => Err(Exc::raise(
            "AttributeError",
            format!("'str' object has no attribute '{name}'"),
        )),
    }
}

/// `str.format`: `{}`, `{0}`, `{name}`, with `!r`/`!s` and a format spec.
fn str_format(
    interp: &mut Interp,
    s: &str,
    args: &[Val],
    kwargs: &[(SmolStr, Val)],
) -> Result<Val> {
    let mut out = String::new();
    let mut auto = 0usize;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '}' => return Err(Exc::value_error("Single '}' encountered in format string")),
            '{' => {
                let mut field = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => field.push(c),
                        None => return Err(Exc::value_error("expected '}' before end of string")),
                    }
                }
                let (head, spec) = field.split_once(':').unwrap_or((&field, ""));
                let (key, conv) = match head.split_once('!') {
                    Some((k, c)) => (k, c.chars().next()),
                    None => (head, None),
                };
                let v = if key.is_empty() {
                    let v = args.get(auto).cloned().ok_or_else(|| {
                        Exc::index_error(format!(
                            "Replacement index {auto} out of range for positional args tuple"
                        ))
                    })?;
                    auto += 1;
                    v
                } else if let Ok(i) = key.parse::<usize>() {
                    args.get(i).cloned().ok_or_else(|| {
                        Exc::index_error(format!(
                            "Replacement index {i} out of range for positional args tuple"
                        ))
                    })?
                } else {
                    kwargs
                        .iter()
                        .find(|(k, _)| k == key)
                        .map(|(_, v)| v.clone())
                        .ok_or_else(|| Exc::raise("KeyError", crate::format::str_repr(key)))?
                };
                let v = match conv {
                    Some('r') => Val::string(crate::format::repr(&v)?),
                    Some('s') => Val::string(crate::format::to_str(&v)?),
                    _ => v,
                };
                let piece = crate::format::format_value(&v, spec)?;
                interp.charge(piece.len())?;
                out.push_str(&piece);
            }
            c => out.push(c),
        }
    }
    interp.charge(out.len())?;
    Ok(Val::string(out))
}
