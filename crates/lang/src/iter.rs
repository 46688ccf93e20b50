//! Iterators: lazy where Python is lazy (`range`, `zip`, `map`, `filter`, `enumerate`), so a
//! loop that breaks early over `range(10**9)` costs what it ran.

use std::cell::RefCell;
use std::rc::Rc;

use okdb_value::{Str, Value};

use crate::error::{Exc, Result};
use crate::interp::Interp;
use crate::val::*;

#[derive(Debug)]
pub enum Iter {
    Range {
        next: i64,
        left: i64,
        step: i64,
    },
    /// A script's list, read live (items appended during the loop are seen, as in Python).
    Owned {
        list: Rc<RefCell<Vec<Val>>>,
        i: usize,
    },
    Items {
        items: Rc<[Val]>,
        i: usize,
    },
    /// A stored list, read without a copy.
    Stored(okdb_value::list::Cursor),
    Chars {
        s: Str,
        at: usize,
    },
    Buffer(std::vec::IntoIter<Val>),
    Enumerate {
        inner: Box<Iter>,
        n: i64,
    },
    Zip(Vec<Iter>),
    Map {
        f: Val,
        inner: Vec<Iter>,
    },
    /// `filter(f, xs)`; `f` None keeps the true items.
    Filter {
        f: Val,
        inner: Box<Iter>,
    },
    /// Another iterator object, shared (`it = iter(xs); zip(it, it)`).
    Shared(Rc<RefCell<Iter>>),
}

impl Iter {
    pub fn next(&mut self, interp: &mut Interp) -> Result<Option<Val>> {
        match self {
            Iter::Range { next, left, step } => {
                if *left <= 0 {
                    return Ok(None);
                }
                let v = *next;
                *left -= 1;
                *next = next.wrapping_add(*step);
                Ok(Some(Val::int(v)))
            }
            Iter::Owned { list, i } => {
                let mut l = list
                    .try_borrow_mut()
                    .map_err(|_| Exc::value_error("list changed while in use"))?;
                if *i >= l.len() {
                    return Ok(None);
                }
                let v = interp.share(&mut l[*i])?;
                *i += 1;
                Ok(Some(v))
            }
            Iter::Items { items, i } => {
                let v = items.get(*i).cloned();
                *i += 1;
                Ok(v)
            }
            Iter::Stored(items) => Ok(items.next().map(Val::V)),
            Iter::Chars { s, at } => {
                let text = s.as_str();
                match text[*at..].chars().next() {
                    Some(c) => {
                        *at += c.len_utf8();
                        Ok(Some(Val::string(c.to_string())))
                    }
                    None => Ok(None),
                }
            }
            Iter::Buffer(b) => Ok(b.next()),
            Iter::Enumerate { inner, n } => match inner.next(interp)? {
                Some(v) => {
                    let i = *n;
                    *n = n.checked_add(1).ok_or_else(Exc::overflow)?;
                    Ok(Some(Val::tuple(vec![Val::int(i), v])))
                }
                None => Ok(None),
            },
            Iter::Zip(iters) => {
                if iters.is_empty() {
                    return Ok(None);
                }
                let mut out = Vec::with_capacity(iters.len());
                for it in iters.iter_mut() {
                    match it.next(interp)? {
                        Some(v) => out.push(v),
                        None => return Ok(None),
                    }
                }
                Ok(Some(Val::tuple(out)))
            }
            Iter::Map { f, inner } => {
                let mut args = Vec::with_capacity(inner.len());
                for it in inner.iter_mut() {
                    match it.next(interp)? {
                        Some(v) => args.push(v),
                        None => return Ok(None),
                    }
                }
                let f = f.clone();
                interp.call(&f, args, Vec::new()).map(Some)
            }
            Iter::Filter { f, inner } => loop {
                let Some(v) = inner.next(interp)? else {
                    return Ok(None);
                };
                let keep = if f.is_none() {
                    v.truthy()
                } else {
                    let f = f.clone();
                    interp.call(&f, vec![v.clone()], Vec::new())?.truthy()
                };
                if keep {
                    return Ok(Some(v));
                }
                interp.tick()?;
            },
            Iter::Shared(it) => {
                let mut it = it
                    .try_borrow_mut()
                    .map_err(|_| Exc::value_error("generator already executing"))?;
                it.next(interp)
            }
        }
    }
}

impl Interp<'_> {
    /// An iterator over anything Python can loop over.
    pub fn iter_of(&mut self, v: &Val) -> Result<Iter> {
        Ok(match v {
            Val::Range(a, b, s) => Iter::Range {
                next: *a,
                left: range_len(*a, *b, *s),
                step: *s,
            },
            Val::List(l) => Iter::Owned {
                list: l.clone(),
                i: 0,
            },
            Val::Tuple(t) => Iter::Items {
                items: t.clone(),
                i: 0,
            },
            Val::V(Value::List(l)) => Iter::Stored(l.cursor()),
            Val::V(Value::Str(s)) => Iter::Chars {
                s: s.clone(),
                at: 0,
            },
            Val::V(Value::Bytes(b)) => Iter::Buffer(
                b.iter()
                    .map(|&x| Val::int(x as i64))
                    .collect::<Vec<_>>()
                    .into_iter(),
            ),
            Val::V(Value::Dict(d)) => {
                self.charge_items(d.len())?;
                Iter::Buffer(
                    d.iter()
                        .map(|(k, _)| Val::str(k))
                        .collect::<Vec<_>>()
                        .into_iter(),
                )
            }
            Val::Dict(d) => {
                let d = d.borrow();
                self.charge_items(d.len())?;
                Iter::Buffer(d.keys().into_iter())
            }
            Val::Set(s) => {
                let s = s.borrow();
                self.charge_items(s.len())?;
                Iter::Buffer(
                    s.iter()
                        .map(|k| k.0.clone())
                        .collect::<Vec<_>>()
                        .into_iter(),
                )
            }
            Val::Iter(it) => Iter::Shared(it.clone()),
            Val::Boxed(b) => {
                let v = b.borrow().clone();
                return self.iter_of(&Val::V(v));
            }
            Val::V(
                v @ (Value::Set(_) | Value::Deque(_) | Value::SortedSet(_) | Value::PQueue(_)),
            ) => {
                let items = okdb_ops::items("iter", v).map_err(crate::interp::op_error)?;
                self.charge_items(items.len())?;
                Iter::Buffer(
                    items
                        .into_iter()
                        .map(Val::V)
                        .collect::<Vec<_>>()
                        .into_iter(),
                )
            }
            other => {
                return Err(Exc::type_error(format!(
                    "'{}' object is not iterable",
                    other.type_name()
                )))
            }
        })
    }

    /// Every item of an iterable, in a vector (budgeted).
    pub fn collect(&mut self, v: &Val) -> Result<Vec<Val>> {
        match v {
            Val::List(l) => {
                let n = l.borrow().len();
                self.charge_items(n)?;
                self.tick_n(n as u64)?;
                return Ok(l.borrow().clone());
            }
            Val::Tuple(t) => {
                self.charge_items(t.len())?;
                self.tick_n(t.len() as u64)?;
                return Ok(t.to_vec());
            }
            Val::V(Value::List(l)) => {
                self.charge_items(l.len())?;
                self.tick_n(l.len() as u64)?;
                return Ok(l.values().map(Val::V).collect());
            }
            _ => {}
        }
        let mut it = self.iter_of(v)?;
        let mut out = Vec::new();
        while let Some(x) = it.next(self)? {
            self.charge_items(1)?;
            self.tick()?;
            out.push(x);
        }
        Ok(out)
    }
}
