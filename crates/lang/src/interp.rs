//! The evaluator: walks the resolved tree over frames of slots, within the script's budget.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

use okdb_ops::OpError;
use okdb_value::Value;
use smol_str::SmolStr;

use crate::ast::*;
use crate::builtins::Builtin;
use crate::error::{Exc, Result};
use crate::iter::Iter;
use crate::plan::{Agg, Total, Yields};
use crate::val::*;
use crate::{Host, Limits};

/// What the host's commands and the operations layer answer, as a Python exception.
pub fn op_error(e: OpError) -> Exc {
    match e {
        OpError::WrongType { .. } => Exc::raise("WRONGTYPE", e.to_string()),
        OpError::Index => Exc::index_error("index out of range"),
        OpError::Overflow(m) => Exc::raise("OverflowError", m),
        OpError::Empty(what) => Exc::index_error(format!("pop from empty {what}")),
        OpError::Invalid(m) => Exc::value_error(m),
    }
}

/// What a comprehension hands each element (and a dict comprehension's value) to; it
/// answers whether to go on.
pub type Sink<'s, 'h> = dyn FnMut(&mut Interp<'h>, Val, Option<Val>) -> Result<bool> + 's;

/// Keyword arguments of a call, in order.
pub type Kwargs = Vec<(SmolStr, Val)>;

/// How deeply expressions and calls may nest together (each level is a few Rust frames; the
/// bound keeps a script within the stack of the thread that runs it).
pub const MAX_NEST: u32 = 1000;
/// Below this much stack left, evaluation continues on a new segment of `STACK_SEGMENT`.
pub const STACK_RED_ZONE: usize = 128 << 10;
pub const STACK_SEGMENT: usize = 2 << 20;
const CALL_WEIGHT: u32 = 4;

/// Bytes charged for a stored dict a script holds as an object without copying it (see
/// `DictObj`): its allocation, counts and all.
pub const HELD_DICT_BYTES: usize = 16 + std::mem::size_of::<RefCell<DictObj>>();

/// Bytes charged for one item of a container (its slot).
pub const ITEM_BYTES: usize = 32;
/// Bytes charged for each object the script makes (a list, dict, set, tuple, function or
/// iterator) besides its items: its header, and its place among the objects held until the
/// script ends.
pub const OBJECT_BYTES: usize = 64;

#[derive(Debug)]
pub struct Frame {
    pub slots: Vec<Val>,
    pub frees: Vec<Rc<RefCell<Val>>>,
    /// The script's own frame: its expression statements give the reply.
    pub module: bool,
}

#[derive(Debug)]
pub enum Flow {
    Normal,
    Break,
    Continue,
    Return(Val),
}

pub struct Interp<'h> {
    pub host: &'h mut dyn Host,
    limits: Limits,
    steps: u64,
    allocated: usize,
    deadline: Instant,
    depth: u32,
    /// Nested evaluations now (see `MAX_NEST`).
    nest: u32,
    /// The value of the last expression statement the script ran.
    pub last: Val,
    /// Set just before evaluating a comprehension whose list is only read where it is made
    /// (see `eval_pickable`): a planned scan may then answer with a pick of the stored list.
    pick_ok: bool,
    /// What `print` wrote.
    pub log: Vec<String>,
    /// Containers the script made, emptied when it ends (so cycles it built are freed).
    /// Every shared object the script made (containers, tuples, functions, cells), held until
    /// it ends: then containers are emptied and everything is dropped newest first, so no
    /// cycle outlives the script and no drop recurses down a deep chain.
    made: Vec<Val>,
    cells: Vec<Rc<RefCell<Val>>>,
    pub rng: u64,
    /// Stored functions this script called, compiled.
    functions: std::collections::HashMap<std::sync::Arc<str>, Val>,
    /// Patterns compiled by this script.
    pub regex_cache: std::collections::HashMap<String, Rc<regex::Regex>>,
    /// Emptied slot arrays of returned calls, for the next calls' frames.
    spare_slots: Vec<Vec<Val>>,
}

/// How many emptied frames are kept for reuse, and up to which size.
const SPARE_FRAMES: usize = 32;
const SPARE_FRAME_SLOTS: usize = 256;

impl std::fmt::Debug for Interp<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interp")
            .field("steps", &self.steps)
            .field("allocated", &self.allocated)
            .finish_non_exhaustive()
    }
}

impl Drop for Interp<'_> {
    fn drop(&mut self) {
        // Empty every container first (their items wait here), then drop newest first:
        // each drop then frees at most one level.
        let mut items: Vec<Val> = Vec::new();
        for v in &self.made {
            match v {
                Val::List(l) => {
                    if let Ok(mut l) = l.try_borrow_mut() {
                        items.append(&mut l);
                    }
                }
                Val::Dict(d) => {
                    if let Ok(mut d) = d.try_borrow_mut() {
                        for (k, v) in d.take_own() {
                            items.push(k.0);
                            items.push(v);
                        }
                    }
                }
                Val::Set(s) => {
                    if let Ok(mut s) = s.try_borrow_mut() {
                        items.extend(std::mem::take(&mut *s).into_iter().map(|k| k.0));
                    }
                }
                _ => {}
            }
        }
        for c in self.cells.drain(..) {
            if let Ok(mut c) = c.try_borrow_mut() {
                items.push(std::mem::replace(&mut *c, Val::Unbound));
            }
        }
        while let Some(v) = items.pop() {
            drop(v);
        }
        while let Some(v) = self.made.pop() {
            drop(v);
        }
    }
}

impl<'h> Interp<'h> {
    pub fn new(host: &'h mut dyn Host, limits: Limits) -> Interp<'h> {
        let seed = host.seed();
        Interp {
            host,
            deadline: Instant::now() + limits.time,
            limits,
            steps: 0,
            allocated: 0,
            depth: 0,
            nest: 0,
            last: NONE,
            pick_ok: false,
            log: Vec::new(),
            made: Vec::new(),
            cells: Vec::new(),
            rng: seed | 1,
            regex_cache: std::collections::HashMap::new(),
            functions: std::collections::HashMap::new(),
            spare_slots: Vec::new(),
        }
    }

    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// One step of the budget; every so many, the deadline too.
    #[inline]
    pub fn tick(&mut self) -> Result<()> {
        self.steps += 1;
        if self.steps > self.limits.steps {
            return Err(Exc::budget(format!(
                "the script ran more than {} steps (script-max-steps)",
                self.limits.steps
            )));
        }
        if self.steps & 1023 == 0 {
            self.check_deadline()?;
            // Objects are counted as they are made (`made`); a loop that only makes objects
            // is stopped here.
            self.charge(0)?;
        }
        Ok(())
    }

    fn check_deadline(&self) -> Result<()> {
        if Instant::now() > self.deadline {
            return Err(Exc::budget(format!(
                "the script ran longer than {} ms (script-time-limit)",
                self.limits.time.as_millis()
            )));
        }
        Ok(())
    }

    /// Counts memory the script allocates; over the budget, the script stops.
    pub fn charge(&mut self, bytes: usize) -> Result<()> {
        self.allocated = self.allocated.saturating_add(bytes);
        if self.allocated > self.limits.memory {
            return Err(Exc::budget(format!(
                "the script allocated more than {} bytes (script-max-memory)",
                self.limits.memory
            )));
        }
        Ok(())
    }

    pub fn charge_items(&mut self, n: usize) -> Result<()> {
        self.charge(n.saturating_mul(ITEM_BYTES))
    }

    /// A shared object the script made, held until it ends (see `made`). Its own bytes
    /// (`OBJECT_BYTES`) are counted here and checked at the next charge: every way to make
    /// objects charges as it goes.
    pub fn made(&mut self, v: Val) -> Val {
        if matches!(
            v,
            Val::List(_) | Val::Dict(_) | Val::Set(_) | Val::Tuple(_) | Val::Func(_) | Val::Iter(_)
        ) {
            self.allocated = self.allocated.saturating_add(OBJECT_BYTES);
            self.made.push(v.clone());
        }
        v
    }

    pub fn new_list(&mut self, items: Vec<Val>) -> Val {
        self.made(Val::list(items))
    }

    pub fn new_dict(&mut self, d: PyDict) -> Val {
        self.made(Val::Dict(Rc::new(RefCell::new(d.into()))))
    }

    pub fn new_set(&mut self, s: PySet) -> Val {
        self.made(Val::Set(Rc::new(RefCell::new(s))))
    }

    pub fn new_tuple(&mut self, items: Vec<Val>) -> Val {
        self.made(Val::tuple(items))
    }

    /// `promote`, with the new object held like every other the script makes. A dict is
    /// not copied here (see `DictObj`): its entries are charged when it is first changed.
    pub fn promote(&mut self, v: Val) -> Result<Val> {
        if !is_snapshot(&v) {
            return Ok(v);
        }
        if matches!(v, Val::V(Value::Dict(_))) {
            // Held as it is stored: it holds no object of the script (so no cycle) until it is
            // first changed, when `dict_mut` puts it among the objects made.
            self.allocated = self.allocated.saturating_add(HELD_DICT_BYTES);
            return Ok(promote(v));
        }
        let n = match &v {
            Val::V(x) => x.len().unwrap_or(0),
            _ => 0,
        };
        self.charge_items(n)?;
        self.tick_n(n as u64)?;
        Ok(self.made(promote(v)))
    }

    /// The entries of the dict object `obj` (borrowed as `d`), to change: a stored dict's are
    /// copied now, charged as a dict the script builds (two items an entry), and the object
    /// joins those the script made (it may now hold them, and itself).
    pub fn dict_mut<'d>(
        &mut self,
        obj: &Rc<RefCell<DictObj>>,
        d: &'d mut DictObj,
    ) -> Result<&'d mut PyDict> {
        if let DictObj::Stored(s) = d {
            let n = s.len();
            self.charge_items(2 * n)?;
            self.tick_n(n as u64)?;
            self.made.push(Val::Dict(obj.clone()));
        }
        Ok(d.own())
    }

    /// `obj[k]` of a dict object (borrowed as `d`), shared as Python shares it (a container
    /// read out of it is the same object the next read answers). A stored dict answers a
    /// scalar without a copy; a container in it makes the dict copy its entries first (so the
    /// container has a place to be shared from).
    pub fn dict_item(
        &mut self,
        obj: &Rc<RefCell<DictObj>>,
        d: &mut DictObj,
        k: &HKey,
    ) -> Result<Option<Val>> {
        if let DictObj::Stored(s) = d {
            match k.0.as_str().and_then(|k| s.get(k)) {
                None => return Ok(None),
                Some(v) if !is_snapshot_value(v) => return Ok(Some(Val::V(v.clone()))),
                Some(_) => {}
            }
        }
        match self.dict_mut(obj, d)?.get_mut(k) {
            Some(v) => Ok(Some(self.share(v)?)),
            None => Ok(None),
        }
    }

    /// `share`, likewise.
    pub fn share(&mut self, slot: &mut Val) -> Result<Val> {
        if is_snapshot(slot) {
            let v = std::mem::replace(slot, NONE);
            *slot = self.promote(v)?;
        }
        Ok(slot.clone())
    }

    /// Steps for work proportional to `n` items done in one go (a copy, a sort, a compare).
    pub fn tick_n(&mut self, n: u64) -> Result<()> {
        let before = self.steps;
        self.steps += n / 8;
        if self.steps > self.limits.steps {
            return Err(Exc::budget(format!(
                "the script ran more than {} steps (script-max-steps)",
                self.limits.steps
            )));
        }
        if self.steps >> 10 != before >> 10 {
            self.check_deadline()?;
        }
        Ok(())
    }

    // ---- statements ----

    pub fn exec_block(&mut self, f: &mut Frame, body: &[Stmt]) -> Result<Flow> {
        for s in body {
            match self.exec(f, s).map_err(|e| e.at(s.line))? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn exec(&mut self, f: &mut Frame, s: &Stmt) -> Result<Flow> {
        self.tick()?;
        match &s.kind {
            StmtKind::Expr(e) => {
                let v = if f.module {
                    self.eval_pickable(f, e)?
                } else {
                    self.eval(f, e)?
                };
                if f.module {
                    self.last = v;
                }
            }
            StmtKind::Assign(targets, value) => {
                let v = self.eval(f, value)?;
                for t in targets {
                    self.assign(f, t, v.clone())?;
                }
            }
            StmtKind::AugAssign(t, op, value) => match t {
                Target::Name(n) => {
                    // `t += <int>` on a local int: no copy of the old value made and dropped.
                    if let Some(cur) = local_int(f, n) {
                        let rhs = self.eval(f, value)?;
                        let new = match rhs {
                            Val::V(Value::Int(r)) => crate::arith::int_op(*op, cur, r)?,
                            rhs => self.inplace(*op, &Val::int(cur), &rhs)?,
                        };
                        // Through `store`: evaluating `value` may have made the local a cell.
                        self.store(f, n, new);
                        return Ok(Flow::Normal);
                    }
                    let cur = self.load(f, n)?;
                    let rhs = self.eval(f, value)?;
                    let new = self.inplace(*op, &cur, &rhs)?;
                    self.store(f, n, new);
                }
                Target::Index(obj, idx) => {
                    let o = self.eval_mut(f, obj)?;
                    if let Expr::Slice(parts) = idx {
                        let b = self.bounds(f, parts)?;
                        let cur = self.getslice(&o, b)?;
                        let rhs = self.eval(f, value)?;
                        let new = self.inplace(*op, &cur, &rhs)?;
                        self.setslice(&o, b, &new)?;
                    } else {
                        let i = self.eval(f, idx)?;
                        let cur = self.getitem(&o, &i)?;
                        let rhs = self.eval(f, value)?;
                        let new = self.inplace(*op, &cur, &rhs)?;
                        self.setitem(&o, &i, new)?;
                    }
                }
                _ => {
                    return Err(Exc::syntax(
                        "illegal target for augmented assignment",
                        s.line,
                        0,
                    ))
                }
            },
            StmtKind::If(arms, orelse) => {
                for (cond, body) in arms {
                    if self.eval_read(f, cond)?.truthy() {
                        return self.exec_block(f, body);
                    }
                }
                return self.exec_block(f, orelse);
            }
            StmtKind::While(cond, body, orelse) => loop {
                if !self.eval_read(f, cond)?.truthy() {
                    return self.exec_block(f, orelse);
                }
                match self.exec_block(f, body)? {
                    Flow::Break => break,
                    Flow::Return(v) => return Ok(Flow::Return(v)),
                    Flow::Normal | Flow::Continue => {}
                }
                self.tick()?;
            },
            StmtKind::For(target, iter, body, orelse) => {
                let it = self.eval_pickable(f, iter)?;
                let mut it = self.iter_of(&it)?;
                loop {
                    let Some(x) = it.next(self)? else {
                        return self.exec_block(f, orelse);
                    };
                    self.tick()?;
                    self.assign(f, target, x)?;
                    match self.exec_block(f, body)? {
                        Flow::Break => break,
                        Flow::Return(v) => return Ok(Flow::Return(v)),
                        Flow::Normal | Flow::Continue => {}
                    }
                }
            }
            StmtKind::Break => return Ok(Flow::Break),
            StmtKind::Continue => return Ok(Flow::Continue),
            StmtKind::Return(e) => {
                let v = match e {
                    Some(e) => self.eval(f, e)?,
                    None => NONE,
                };
                return Ok(Flow::Return(v));
            }
            StmtKind::Pass => {}
            StmtKind::Def(name, def) => {
                let func = self.make_function(f, def)?;
                self.store(f, name, func);
            }
            StmtKind::Del(targets) => {
                for t in targets {
                    self.delete(f, t)?;
                }
            }
            StmtKind::Assert(cond, msg) => {
                if !self.eval_read(f, cond)?.truthy() {
                    let m = match msg {
                        Some(m) => crate::format::to_str(&self.eval(f, m)?)?,
                        None => String::new(),
                    };
                    return Err(Exc::raise("AssertionError", m));
                }
            }
        }
        Ok(Flow::Normal)
    }

    fn make_function(&mut self, f: &mut Frame, def: &std::sync::Arc<FuncDef>) -> Result<Val> {
        let mut defaults = Vec::new();
        for p in &def.params {
            if let Some(d) = &p.default {
                defaults.push(self.eval(f, d)?);
            }
        }
        let frees = def
            .frees
            .iter()
            .map(|c| match c {
                Capture::Slot(s) => {
                    let slot = &mut f.slots[*s as usize];
                    if let Val::Cell(c) = slot {
                        return c.clone();
                    }
                    let cell = Rc::new(RefCell::new(std::mem::replace(slot, Val::Unbound)));
                    *slot = Val::Cell(cell.clone());
                    self.cells.push(cell.clone());
                    cell
                }
                Capture::Free(i) => f.frees[*i as usize].clone(),
            })
            .collect();
        self.charge(64)?;
        Ok(self.made(Val::Func(Rc::new(Function {
            def: def.clone(),
            defaults,
            frees,
        }))))
    }

    // ---- names ----

    fn load(&mut self, f: &Frame, n: &Name) -> Result<Val> {
        let unbound = || Exc::raise("NameError", format!("name '{}' is not defined", n.id));
        match &n.var {
            Var::Local(s) => match &f.slots[*s as usize] {
                Val::Cell(c) => match &*c.borrow() {
                    Val::Unbound => Err(unbound()),
                    v => Ok(v.clone()),
                },
                Val::Unbound => Err(if f.module {
                    unbound()
                } else {
                    Exc::raise(
                        "UnboundLocalError",
                        format!(
                            "cannot access local variable '{}' where it is not associated with a value",
                            n.id
                        ),
                    )
                }),
                v => Ok(v.clone()),
            },
            Var::Free(i) => match &*f.frees[*i as usize].borrow() {
                Val::Unbound => Err(Exc::raise(
                    "NameError",
                    format!(
                        "cannot access free variable '{}' where it is not associated with a value in enclosing scope",
                        n.id
                    ),
                )),
                v => Ok(v.clone()),
            },
            Var::Builtin(b) => Ok(Val::Builtin(*b)),
            Var::Global => {
                if n.id == "re" {
                    return Ok(Val::Module("re"));
                }
                if self.host.is_command(&n.id) {
                    return Ok(Val::Command(n.id.clone()));
                }
                Err(unbound())
            }
            Var::Unresolved => Err(unbound()),
        }
    }

    fn store(&mut self, f: &mut Frame, n: &Name, v: Val) {
        match &n.var {
            Var::Local(s) => {
                let slot = &mut f.slots[*s as usize];
                match slot {
                    Val::Cell(c) => *c.borrow_mut() = v,
                    _ => *slot = v,
                }
            }
            Var::Free(i) => *f.frees[*i as usize].borrow_mut() = v,
            _ => {}
        }
    }

    fn assign(&mut self, f: &mut Frame, t: &Target, v: Val) -> Result<()> {
        match t {
            Target::Name(n) => {
                self.store(f, n, v);
                Ok(())
            }
            Target::Tuple(targets) => {
                let items = self.collect(&v)?;
                let star = targets.iter().position(|t| matches!(t, Target::Starred(_)));
                match star {
                    None => {
                        if items.len() < targets.len() {
                            return Err(Exc::value_error(format!(
                                "not enough values to unpack (expected {}, got {})",
                                targets.len(),
                                items.len()
                            )));
                        }
                        if items.len() > targets.len() {
                            return Err(Exc::value_error(format!(
                                "too many values to unpack (expected {})",
                                targets.len()
                            )));
                        }
                        for (t, x) in targets.iter().zip(items) {
                            self.assign(f, t, x)?;
                        }
                    }
                    Some(s) => {
                        let after = targets.len() - s - 1;
                        if items.len() < targets.len() - 1 {
                            return Err(Exc::value_error(format!(
                                "not enough values to unpack (expected at least {}, got {})",
                                targets.len() - 1,
                                items.len()
                            )));
                        }
                        let mut items = items;
                        let tail = items.split_off(items.len() - after);
                        let middle = items.split_off(s);
                        for (t, x) in targets[..s].iter().zip(items) {
                            self.assign(f, t, x)?;
                        }
                        let Target::Starred(inner) = &targets[s] else {
                            unreachable!("position found a starred target")
                        };
                        let l = self.new_list(middle);
                        self.assign(f, inner, l)?;
                        for (t, x) in targets[s + 1..].iter().zip(tail) {
                            self.assign(f, t, x)?;
                        }
                    }
                }
                Ok(())
            }
            Target::Index(obj, idx) => {
                let o = self.eval_mut(f, obj)?;
                if let Expr::Slice(parts) = idx {
                    let b = self.bounds(f, parts)?;
                    return self.setslice(&o, b, &v);
                }
                let i = self.eval(f, idx)?;
                self.setitem(&o, &i, v)
            }
            Target::Starred(_) => Err(Exc::syntax(
                "starred assignment target must be in a list or tuple",
                0,
                0,
            )),
        }
    }

    fn delete(&mut self, f: &mut Frame, t: &Target) -> Result<()> {
        match t {
            Target::Name(n) => {
                self.load(f, n)?;
                self.store(f, n, Val::Unbound);
                Ok(())
            }
            Target::Tuple(ts) => ts.iter().try_for_each(|t| self.delete(f, t)),
            Target::Index(obj, idx) => {
                let o = self.eval_mut(f, obj)?;
                if let Expr::Slice(parts) = idx {
                    let b = self.bounds(f, parts)?;
                    return self.delslice(&o, b);
                }
                let i = self.eval(f, idx)?;
                self.delitem(&o, &i)
            }
            Target::Starred(_) => Err(Exc::syntax("cannot delete starred", 0, 0)),
        }
    }

    /// Evaluates an expression whose value is about to be changed in place: a stored
    /// container it names becomes a shared object where it lives (the variable or the
    /// container that holds it), so the change is seen there.
    pub fn eval_mut(&mut self, f: &mut Frame, e: &Expr) -> Result<Val> {
        match e {
            Expr::Name(n) => {
                let v = self.load(f, n)?;
                if is_snapshot(&v) {
                    let p = self.promote(v)?;
                    self.store(f, n, p.clone());
                    return Ok(p);
                }
                Ok(v)
            }
            Expr::Index(obj, idx) if !matches!(**idx, Expr::Slice(_)) => {
                let o = self.eval_mut(f, obj)?;
                let i = self.eval(f, idx)?;
                // Reading from a shared container promotes the item in place.
                self.getitem(&o, &i)
            }
            _ => self.eval(f, e),
        }
    }

    /// Evaluates an expression whose value is only read where it is made (compared, tested
    /// for truth, measured): an item it reads out of a script's container is lent as it is,
    /// not shared, so reading `r['tags']` of a record the script holds does not make the record
    /// copy its entries (sharing is for values a later change could reach through two names).
    fn eval_read(&mut self, f: &mut Frame, e: &Expr) -> Result<Val> {
        if let Expr::Index(obj, idx) = e {
            // A local's item with a constant key: lent from a script container in the slot;
            // anything else in the slot takes `eval`'s own fast paths.
            if let Some((s, c)) = local_item(obj, idx) {
                let slot = &f.slots[s];
                if matches!(slot, Val::Dict(_) | Val::List(_)) {
                    if let Some(v) = peek_item(slot, &Val::V(c.clone()))? {
                        return Ok(v);
                    }
                }
                return self.eval(f, e);
            }
            if !matches!(**idx, Expr::Slice(_)) {
                let o = self.eval(f, obj)?;
                let i = self.eval(f, idx)?;
                if let Some(v) = peek_item(&o, &i)? {
                    return Ok(v);
                }
                return self.getitem(&o, &i);
            }
        }
        self.eval(f, e)
    }

    fn bounds(&mut self, f: &mut Frame, parts: &[Option<Expr>; 3]) -> Result<[Option<i64>; 3]> {
        let mut out = [None; 3];
        for (o, p) in out.iter_mut().zip(parts.iter()) {
            if let Some(e) = p {
                let v = self.eval(f, e)?;
                if !v.is_none() {
                    *o = Some(v.as_int().ok_or_else(|| {
                        Exc::type_error(
                            "slice indices must be integers or None or have an __index__ method",
                        )
                    })?);
                }
            }
        }
        Ok(out)
    }

    // ---- expressions ----

    /// Evaluates an expression. Nesting (of expressions and calls together) is bounded, so
    /// no script can overflow the thread's stack.
    pub fn eval(&mut self, f: &mut Frame, e: &Expr) -> Result<Val> {
        // Leaves nest nothing: no depth count or stack check for them.
        match e {
            Expr::Const(v) => return Ok(Val::V(v.clone())),
            Expr::Name(n) => return self.load(f, n),
            _ => {}
        }
        self.nest += 1;
        if self.nest > MAX_NEST {
            self.nest -= 1;
            return Err(Exc::budget(format!(
                "expressions and calls nest more than {MAX_NEST} levels deep"
            )));
        }
        // Deep nesting runs on a stack segment of its own rather than overflow the thread's.
        let r = stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || self.eval_inner(f, e));
        self.nest -= 1;
        r
    }

    fn eval_inner(&mut self, f: &mut Frame, e: &Expr) -> Result<Val> {
        match e {
            // Leaves are evaluated by `eval` itself.
            Expr::Const(_) | Expr::Name(_) => self.eval(f, e),
            Expr::Key(k) => Ok(Val::V(self.host.read(k)?.unwrap_or(Value::Null))),
            Expr::List(items) => {
                let items = self.eval_items(f, items)?;
                Ok(self.new_list(items))
            }
            Expr::Tuple(items) => {
                let items = self.eval_items(f, items)?;
                Ok(self.new_tuple(items))
            }
            Expr::Set(items) => {
                let items = self.eval_items(f, items)?;
                let mut s = PySet::default();
                for x in items {
                    s.insert(HKey::new(x)?);
                }
                Ok(self.new_set(s))
            }
            Expr::Dict(pairs) => {
                let mut d = PyDict::default();
                self.charge_items(pairs.len() * 2)?;
                for (k, v) in pairs {
                    let k = HKey::new(self.eval(f, k)?)?;
                    let v = self.eval(f, v)?;
                    d.insert(k, v);
                }
                Ok(self.new_dict(d))
            }
            Expr::Unary(op, x) => {
                let v = self.eval(f, x)?;
                self.unary(*op, &v)
            }
            Expr::Bin(op, a, b) => {
                // Int operands that are constants or locals are read where they are, with no
                // value made (and dropped) for them: the common `i * 2`, `n % 7`, `t + x`.
                if let (Some(x), Some(y)) = (int_leaf(f, a), int_leaf(f, b)) {
                    return crate::arith::int_op(*op, x, y);
                }
                let x = self.eval(f, a)?;
                if let (Val::V(Value::Int(x)), Some(y)) = (&x, int_leaf(f, b)) {
                    return crate::arith::int_op(*op, *x, y);
                }
                let y = self.eval(f, b)?;
                self.binop(*op, &x, &y)
            }
            Expr::BoolOp(and, items) => {
                let mut v = NONE;
                for item in items {
                    v = self.eval(f, item)?;
                    if v.truthy() != *and {
                        return Ok(v);
                    }
                }
                Ok(v)
            }
            Expr::Compare(first, rest) => {
                // One comparison of an int with an int constant or local, in place.
                if let [(
                    op @ (CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge | CmpOp::Eq | CmpOp::Ne),
                    right,
                )] = &rest[..]
                {
                    if let Some(y) = int_leaf(f, right) {
                        let x = match int_leaf(f, first) {
                            Some(x) => Some(x),
                            None => match self.eval_read(f, first)? {
                                Val::V(Value::Int(x)) => Some(x),
                                left => {
                                    let right = Val::int(y);
                                    return Ok(Val::bool(self.compare(*op, &left, &right)?));
                                }
                            },
                        };
                        if let Some(x) = x {
                            return Ok(Val::bool(match op {
                                CmpOp::Lt => x < y,
                                CmpOp::Le => x <= y,
                                CmpOp::Gt => x > y,
                                CmpOp::Ge => x >= y,
                                CmpOp::Eq => x == y,
                                _ => x != y,
                            }));
                        }
                    }
                }
                // Compared values are only read, unless identity is asked for.
                let read = !rest
                    .iter()
                    .any(|(op, _)| matches!(op, CmpOp::Is | CmpOp::IsNot));
                let mut left = if read {
                    self.eval_read(f, first)?
                } else {
                    self.eval(f, first)?
                };
                for (op, e) in rest {
                    let right = if read {
                        self.eval_read(f, e)?
                    } else {
                        self.eval(f, e)?
                    };
                    if !self.compare(*op, &left, &right)? {
                        return Ok(Val::bool(false));
                    }
                    left = right;
                }
                Ok(Val::bool(true))
            }
            Expr::IfExp(parts) => {
                let [test, then, orelse] = &**parts;
                if self.eval(f, test)?.truthy() {
                    self.eval(f, then)
                } else {
                    self.eval(f, orelse)
                }
            }
            Expr::Call { func, args, kwargs } => self.eval_call(f, func, args, kwargs),
            Expr::Attr(obj, name) => {
                let o = self.eval(f, obj)?;
                crate::methods::attribute(o, name)
            }
            Expr::Index(obj, idx) => {
                // `x['age']`: a local read with a constant is read through its slot, without a
                // clone of the container (and the reference count it costs) for each read.
                if let Some((s, c)) = local_item(obj, idx) {
                    let slot = &f.slots[s];
                    // A field of a stored record (or of one the script holds, unchanged):
                    // looked up with the constant as it is. A container field of a held record
                    // takes the general path (it is shared from the record).
                    if let (Val::V(Value::Dict(d)), Value::Str(k)) = (slot, c) {
                        if let Some(v) = d.get(k.as_str()) {
                            return Ok(match v {
                                Value::Int(i) => Val::int(*i),
                                v => Val::V(v.clone()),
                            });
                        }
                    } else if let (Val::Dict(obj), Value::Str(k)) = (slot, c) {
                        if let Some(v) = held_field(obj, k.as_str()) {
                            return Ok(v);
                        }
                    }
                    if !matches!(slot, Val::Cell(_) | Val::Unbound) {
                        return self.getitem(slot, &Val::V(c.clone()));
                    }
                }
                let o = self.eval(f, obj)?;
                if let Expr::Slice(parts) = &**idx {
                    let b = self.bounds(f, parts)?;
                    return self.getslice(&o, b);
                }
                let i = self.eval(f, idx)?;
                self.getitem(&o, &i)
            }
            Expr::Slice(_) => Err(Exc::syntax("a slice is only allowed inside []", 0, 0)),
            Expr::Lambda(def) => self.make_function(f, def),
            Expr::Comp(c) => self.eval_comp(f, c),
            Expr::FStr(parts) => {
                let s = self.fstring(f, parts)?;
                self.charge(s.len())?;
                Ok(Val::string(s))
            }
            Expr::Starred(_) => Err(Exc::syntax("can't use starred expression here", 0, 0)),
        }
    }

    fn eval_items(&mut self, f: &mut Frame, items: &[Expr]) -> Result<Vec<Val>> {
        self.charge_items(items.len())?;
        self.eval_each(f, items)
    }

    /// The values of expressions (a starred one's items charged as they are collected).
    fn eval_each(&mut self, f: &mut Frame, items: &[Expr]) -> Result<Vec<Val>> {
        let mut out = Vec::with_capacity(items.len());
        for e in items {
            if let Expr::Starred(inner) = e {
                let v = self.eval(f, inner)?;
                out.extend(self.collect(&v)?);
            } else {
                out.push(self.eval(f, e)?);
            }
        }
        Ok(out)
    }

    fn fstring(&mut self, f: &mut Frame, parts: &[FPart]) -> Result<String> {
        let mut out = String::new();
        for p in parts {
            match p {
                FPart::Lit(s) => out.push_str(s),
                FPart::Field { expr, conv, spec } => {
                    let v = self.eval(f, expr)?;
                    let v = match conv {
                        Some('r') | Some('a') => Val::string(crate::format::repr(&v)?),
                        Some(_) => Val::string(crate::format::to_str(&v)?),
                        None => v,
                    };
                    let spec = self.fstring(f, spec)?;
                    out.push_str(&crate::format::format_value(&v, &spec)?);
                }
            }
            if out.len() > self.limits.memory {
                self.charge(out.len())?;
            }
        }
        Ok(out)
    }

    pub fn compare(&mut self, op: CmpOp, a: &Val, b: &Val) -> Result<bool> {
        use std::cmp::Ordering::*;
        // Comparing containers, and `in` over a sequence, is work in proportion to its size.
        let scans = match op {
            CmpOp::In | CmpOp::NotIn => {
                matches!(b, Val::List(_) | Val::Tuple(_) | Val::V(Value::List(_)))
            }
            CmpOp::Is | CmpOp::IsNot => false,
            _ => !matches!(b, Val::V(Value::Str(_) | Value::Bytes(_))),
        };
        if scans {
            if let Some(n) = container_len(b) {
                self.tick_n(n as u64)?;
            }
        }
        Ok(match op {
            CmpOp::Eq => py_eq(a, b),
            CmpOp::Ne => !py_eq(a, b),
            CmpOp::In => self.contains(b, a)?,
            CmpOp::NotIn => !self.contains(b, a)?,
            CmpOp::Is => is(a, b),
            CmpOp::IsNot => !is(a, b),
            CmpOp::Lt => matches!(py_cmp(a, b, "<")?, Some(Less)),
            CmpOp::Le => matches!(py_cmp(a, b, "<=")?, Some(Less | Equal)),
            CmpOp::Gt => matches!(py_cmp(a, b, ">")?, Some(Greater)),
            CmpOp::Ge => matches!(py_cmp(a, b, ">=")?, Some(Greater | Equal)),
        })
    }

    // ---- comprehensions ----

    /// Runs a scan the planner recognised over the stored list, natively, for `agg` (which
    /// the scan answers: `Scan::answers`); None if the value is not a list or an item needs
    /// the interpreter (which then runs the comprehension).
    pub fn run_scan(&mut self, scan: &crate::plan::Scan, agg: Agg) -> Result<Option<Val>> {
        debug_assert!(scan.answers(agg));
        let Some(Value::List(list)) = self.host.read(&scan.key)? else {
            return Ok(None);
        };
        // A step per item, as the interpreter counts them.
        self.steps += list.len() as u64;
        self.tick()?;
        // The items found are kept as their positions in the stored list (a pick: no copy and
        // no reference count per item), which reads as a list; the script turns it into a
        // list of its own only if it changes it, and a value leaving the script is settled.
        let Ok(n) = u32::try_from(list.len()) else {
            return Ok(None);
        };
        let field = match &scan.yields {
            Yields::Field(f) => Some(f),
            _ => None,
        };
        let mut at: Vec<u32> = Vec::new();
        let mut count = 0i64;
        let mut total = Total::Int(0);
        let mut best: Option<Value> = None;
        let mut hints = vec![0; scan.conds.len()];
        let mut field_hint = 0;
        let mut seen = 0u32;
        // Leaf by leaf: a slice each, with no tree walk per item.
        for leaf in list.leaves() {
            let len = leaf.len() as u32;
            if seen & !0xffff != (seen + len) & !0xffff {
                self.check_deadline()?;
            }
            for (i, item) in leaf.iter().enumerate() {
                match crate::plan::matches(scan, item, &mut hints) {
                    None => return Ok(None),
                    Some(false) => continue,
                    Some(true) => {}
                }
                let Some(field) = field else {
                    match agg {
                        Agg::List => at.push(seen + i as u32),
                        _ => count += 1,
                    }
                    continue;
                };
                let Value::Dict(d) = item else {
                    return Ok(None);
                };
                let Some(v) = d.get_hinted(field, &mut field_hint) else {
                    return Ok(None);
                };
                match agg {
                    Agg::Sum => match total.plus(v) {
                        Some(t) => total = t,
                        None => return Ok(None),
                    },
                    Agg::Min | Agg::Max => match best {
                        // A type the native comparison knows (a lone item is compared with
                        // nothing, yet a later one must be comparable with it).
                        None if crate::plan::order(v, v).is_some() => best = Some(v.clone()),
                        None => return Ok(None),
                        Some(ref b) => match crate::plan::better(v, b, agg == Agg::Max) {
                            Some(true) => best = Some(v.clone()),
                            Some(false) => {}
                            None => return Ok(None),
                        },
                    },
                    Agg::List => unreachable!("a field scan answers an aggregate"),
                }
            }
            seen += len;
        }
        debug_assert_eq!(seen, n);
        Ok(Some(match (agg, field) {
            (Agg::List, _) => {
                self.charge_items(at.len())?;
                Val::V(Value::List(Box::new(list.pick(at))))
            }
            (Agg::Sum, None) => Val::int(count),
            (Agg::Sum, Some(_)) => match total {
                Total::Int(i) => Val::int(i),
                Total::Float(f) => Val::float(f),
            },
            // `min()` of nothing raises, as the interpreter will say.
            (Agg::Min | Agg::Max, _) => match best {
                Some(v) => Val::V(v),
                None => return Ok(None),
            },
        }))
    }

    /// Evaluates `e`; a list comprehension there may answer with a pick of a stored list (a
    /// planned scan's matches, `run_scan`), because the caller only reads the list where it
    /// is made: a `for` loop's or a comprehension's iterable, the one argument of a builtin
    /// that reads it (`len`, `sum`, `sorted`, …), the script's result. Anywhere else (a variable, a
    /// container, a function's argument) the list could be changed through one name and read
    /// through another, so it must be the script's own list, as the interpreter makes it.
    fn eval_pickable(&mut self, f: &mut Frame, e: &Expr) -> Result<Val> {
        self.pick_ok = matches!(e, Expr::Comp(c) if c.kind == CompKind::List);
        let v = self.eval(f, e);
        self.pick_ok = false;
        v
    }

    fn eval_comp(&mut self, f: &mut Frame, c: &Comp) -> Result<Val> {
        // Only the comprehension evaluated right after `eval_pickable` may answer a pick.
        let pick_ok = std::mem::take(&mut self.pick_ok);
        if let Some(scan) = c.plan.as_deref().filter(|p| p.answers(Agg::List)) {
            if let Some(v) = self.run_scan(scan, Agg::List)? {
                return Ok(match v {
                    // Elsewhere the matches are the script's own list, as the interpreter's.
                    Val::V(Value::List(l)) if !pick_ok => {
                        self.new_list(l.values().map(Val::V).collect())
                    }
                    v => v,
                });
            }
        }
        match c.kind {
            CompKind::List | CompKind::Gen => {
                let mut out = Vec::new();
                self.comp_loop(f, c, 0, &mut |i, v, _| {
                    i.charge_items(1)?;
                    out.push(v);
                    Ok(true)
                })?;
                if c.kind == CompKind::Gen {
                    return Ok(Val::Iter(Rc::new(RefCell::new(Iter::Buffer(
                        out.into_iter(),
                    )))));
                }
                Ok(self.new_list(out))
            }
            CompKind::Set => {
                let mut out = PySet::default();
                let mut err = None;
                self.comp_loop(f, c, 0, &mut |i, v, _| match HKey::new(v) {
                    Ok(k) => {
                        i.charge_items(1)?;
                        out.insert(k);
                        Ok(true)
                    }
                    Err(e) => {
                        err = Some(e);
                        Ok(false)
                    }
                })?;
                if let Some(e) = err {
                    return Err(e);
                }
                Ok(self.new_set(out))
            }
            CompKind::Dict => {
                let mut out = PyDict::default();
                let mut err = None;
                self.comp_loop(f, c, 0, &mut |i, k, v| match HKey::new(k) {
                    Ok(k) => {
                        i.charge_items(2)?;
                        out.insert(k, v.unwrap_or(NONE));
                        Ok(true)
                    }
                    Err(e) => {
                        err = Some(e);
                        Ok(false)
                    }
                })?;
                if let Some(e) = err {
                    return Err(e);
                }
                Ok(self.new_dict(out))
            }
        }
    }

    /// Runs a comprehension's loops, handing each element to `sink` (which answers whether to
    /// go on). Returns false if the sink stopped it.
    pub fn comp_loop(
        &mut self,
        f: &mut Frame,
        c: &Comp,
        level: usize,
        sink: &mut Sink<'_, 'h>,
    ) -> Result<bool> {
        let g = &c.gens[level];
        let src = self.eval_pickable(f, &g.iter)?;
        let mut it = self.iter_of(&src)?;
        'items: while let Some(x) = it.next(self)? {
            self.tick()?;
            self.assign(f, &g.target, x)?;
            for cond in &g.ifs {
                if !self.eval(f, cond)?.truthy() {
                    continue 'items;
                }
            }
            if level + 1 < c.gens.len() {
                if !self.comp_loop(f, c, level + 1, sink)? {
                    return Ok(false);
                }
                continue;
            }
            let v = self.eval(f, &c.elt)?;
            let w = match &c.value {
                Some(e) => Some(self.eval(f, e)?),
                None => None,
            };
            if !sink(self, v, w)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    // ---- calls ----

    fn eval_call(
        &mut self,
        f: &mut Frame,
        func: &Expr,
        args: &[Expr],
        kwargs: &[(SmolStr, Expr)],
    ) -> Result<Val> {
        // A builtin that consumes a generator expression streams it, without a list.
        if let (
            Expr::Name(Name {
                var: Var::Builtin(b),
                ..
            }),
            [Expr::Comp(c)],
            [],
        ) = (func, args, kwargs)
        {
            if c.kind == CompKind::Gen {
                if let Some(v) = crate::builtins::stream(self, f, *b, c)? {
                    return Ok(v);
                }
            }
        }
        // A builtin that only reads its one argument may get a planned scan's pick.
        if let (
            Expr::Name(Name {
                var: Var::Builtin(b),
                ..
            }),
            [arg @ Expr::Comp(_)],
            [],
        ) = (func, args, kwargs)
        {
            use crate::builtins::Builtin as B;
            if matches!(
                b,
                B::Len
                    | B::Sum
                    | B::Min
                    | B::Max
                    | B::Sorted
                    | B::Any
                    | B::All
                    | B::List
                    | B::Tuple
                    | B::Set
                    | B::Enumerate
                    | B::Reversed
            ) {
                let a = self.eval_pickable(f, arg)?;
                let callee = self.eval(f, func)?;
                return self.call(&callee, vec![a], Vec::new());
            }
        }
        // `len`, `bool` and `str` of a container's item only read it (see `eval_read`).
        if let (
            Expr::Name(Name {
                var: Var::Builtin(b @ (Builtin::Len | Builtin::Bool | Builtin::Str)),
                ..
            }),
            [arg @ Expr::Index(..)],
            [],
        ) = (func, args, kwargs)
        {
            let a = self.eval_read(f, arg)?;
            return self.call(&Val::Builtin(*b), vec![a], Vec::new());
        }
        // A method call changes its receiver where it lives.
        let callee = match func {
            Expr::Attr(obj, name) => {
                let recv = if crate::methods::mutates(name) {
                    self.eval_mut(f, obj)?
                } else {
                    self.eval(f, obj)?
                };
                let (a, k) = self.eval_args(f, args, kwargs)?;
                return crate::methods::call(self, recv, name, a, k);
            }
            _ => self.eval(f, func)?,
        };
        // A script function called with exactly its positional arguments: they are evaluated
        // straight into its frame.
        if let Val::Func(func) = &callee {
            if kwargs.is_empty()
                && args.len() == func.def.params.len()
                && !args.iter().any(|a| matches!(a, Expr::Starred(_)))
            {
                let mut slots = self.spare_slots.pop().unwrap_or_default();
                for e in args {
                    slots.push(self.eval(f, e)?);
                }
                self.tick()?;
                return self.run_frame(func, slots);
            }
        }
        let (a, k) = self.eval_args(f, args, kwargs)?;
        self.call(&callee, a, k)
    }

    fn eval_args(
        &mut self,
        f: &mut Frame,
        args: &[Expr],
        kwargs: &[(SmolStr, Expr)],
    ) -> Result<(Vec<Val>, Kwargs)> {
        // Not charged: as many as the source writes (a starred argument's items are charged
        // as they are collected), and they land in the callee's frame, charged while it runs.
        let a = self.eval_each(f, args)?;
        let mut k = Vec::with_capacity(kwargs.len());
        for (n, e) in kwargs {
            k.push((n.clone(), self.eval(f, e)?));
        }
        Ok((a, k))
    }

    pub fn call(
        &mut self,
        callee: &Val,
        args: Vec<Val>,
        kwargs: Vec<(SmolStr, Val)>,
    ) -> Result<Val> {
        self.tick()?;
        match callee {
            Val::Func(func) => self.call_function(func, args, kwargs),
            Val::Builtin(b) => crate::builtins::call(self, *b, args, kwargs),
            Val::Method(m) => {
                let (recv, name) = &**m;
                crate::methods::call(self, recv.clone(), name, args, kwargs)
            }
            Val::V(Value::Function(src)) => {
                let f = self.stored_function(src)?;
                self.call(&f, args, kwargs)
            }
            Val::Command(name) => {
                if !kwargs.is_empty() {
                    return Err(Exc::type_error(format!(
                        "{name}() takes no keyword arguments"
                    )));
                }
                let mut values = Vec::with_capacity(args.len());
                for a in &args {
                    values.push(to_value(a)?);
                }
                self.host.command(name, values)
            }
            other => Err(Exc::type_error(format!(
                "'{}' object is not callable",
                other.type_name()
            ))),
        }
    }

    pub fn call_function(
        &mut self,
        func: &Rc<Function>,
        args: Vec<Val>,
        kwargs: Vec<(SmolStr, Val)>,
    ) -> Result<Val> {
        let def = &func.def;
        let n = def.params.len();
        let name = &def.name;
        if args.len() > n {
            return Err(Exc::type_error(format!(
                "{name}() takes {n} positional argument{} but {} {} given",
                if n == 1 { "" } else { "s" },
                args.len(),
                if args.len() == 1 { "was" } else { "were" }
            )));
        }
        let mut slots = self.spare_slots.pop().unwrap_or_default();
        slots.resize(def.slots as usize, Val::Unbound);
        let given = args.len();
        for (i, a) in args.into_iter().enumerate() {
            slots[i] = a;
        }
        for (k, v) in kwargs {
            let Some(i) = def.params.iter().position(|p| p.name.id == k) else {
                return Err(Exc::type_error(format!(
                    "{name}() got an unexpected keyword argument '{k}'"
                )));
            };
            if i < given || !matches!(slots[i], Val::Unbound) {
                return Err(Exc::type_error(format!(
                    "{name}() got multiple values for argument '{k}'"
                )));
            }
            slots[i] = v;
        }
        let first_default = n - func.defaults.len();
        let mut missing = Vec::new();
        for (i, p) in def.params.iter().enumerate() {
            if matches!(slots[i], Val::Unbound) {
                if i >= first_default {
                    slots[i] = func.defaults[i - first_default].clone();
                } else {
                    missing.push(format!("'{}'", p.name.id));
                }
            }
        }
        if !missing.is_empty() {
            let count = missing.len();
            let list = match missing.len() {
                1 => missing[0].clone(),
                _ => {
                    let last = missing.pop().expect("two or more");
                    format!("{} and {last}", missing.join(", "))
                }
            };
            return Err(Exc::type_error(format!(
                "{name}() missing {count} required positional argument{}: {list}",
                if count > 1 { "s" } else { "" }
            )));
        }
        self.run_frame(func, slots)
    }

    /// Runs a call of `func` whose first slots hold its arguments (the rest are made
    /// unbound here), within the call-depth limit.
    fn run_frame(&mut self, func: &Rc<Function>, mut slots: Vec<Val>) -> Result<Val> {
        if self.depth >= self.limits.depth {
            return Err(Exc::budget(format!(
                "calls nested more than {} deep (script-max-depth)",
                self.limits.depth
            )));
        }
        let def = &func.def;
        // A frame is charged while it lives: a loop of calls does not use up the budget.
        let frame_bytes = def.slots as usize * ITEM_BYTES;
        self.charge(frame_bytes)?;
        slots.resize(def.slots as usize, Val::Unbound);
        let mut frame = Frame {
            slots,
            frees: func.frees.clone(),
            module: false,
        };
        self.depth += 1;
        // A call's own frames weigh as much as a few nested expressions.
        self.nest += CALL_WEIGHT;
        let r = if self.nest > MAX_NEST {
            Err(Exc::budget(format!(
                "expressions and calls nest more than {MAX_NEST} levels deep"
            )))
        } else {
            self.exec_block(&mut frame, &def.body)
        };
        self.nest -= CALL_WEIGHT;
        self.depth -= 1;
        self.allocated = self.allocated.saturating_sub(frame_bytes);
        let mut slots = std::mem::take(&mut frame.slots);
        slots.clear();
        if self.spare_slots.len() < SPARE_FRAMES && slots.capacity() <= SPARE_FRAME_SLOTS {
            self.spare_slots.push(slots);
        }
        match r? {
            Flow::Return(v) => Ok(v),
            _ => Ok(NONE),
        }
    }

    /// The function a stored function's source defines (compiled once per script run).
    pub fn stored_function(&mut self, src: &std::sync::Arc<str>) -> Result<Val> {
        if let Some(f) = self.functions.get(src) {
            return Ok(f.clone());
        }
        let program = self.host.lambda(src)?;
        let f = program.function(self)?;
        self.functions.insert(src.clone(), f.clone());
        Ok(f)
    }

    pub fn random(&mut self) -> u64 {
        // xorshift64*: seeded per script by the host, so a replay needs no seed.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// A scalar field of a stored record the script holds unchanged; None for anything else.
#[inline(never)]
fn held_field(obj: &RefCell<DictObj>, k: &str) -> Option<Val> {
    match obj.try_borrow().as_deref() {
        Ok(DictObj::Stored(d)) => d.get(k).filter(|v| !is_snapshot_value(v)).map(|v| match v {
            Value::Int(i) => Val::int(*i),
            v => Val::V(v.clone()),
        }),
        _ => None,
    }
}

/// `name[constant]` with a local name: its slot and the constant.
fn local_item<'e>(obj: &'e Expr, idx: &'e Expr) -> Option<(usize, &'e Value)> {
    match (obj, idx) {
        (
            Expr::Name(Name {
                var: Var::Local(s), ..
            }),
            Expr::Const(c),
        ) => Some((*s as usize, c)),
        _ => None,
    }
}

/// `o[i]` of a script's dict or list, lent without sharing it (see `Interp::eval_read`);
/// None where `getitem` must answer (a missing key or index, another type, a busy object).
fn peek_item(o: &Val, i: &Val) -> Result<Option<Val>> {
    match o {
        Val::Dict(d) => {
            let Ok(d) = d.try_borrow() else {
                return Ok(None);
            };
            Ok(d.get(&HKey::new(i.clone())?))
        }
        Val::List(l) => {
            let (Ok(l), Some(at)) = (l.try_borrow(), i.as_int()) else {
                return Ok(None);
            };
            if matches!(i, Val::V(Value::Bool(_))) {
                return Ok(None);
            }
            Ok(okdb_ops::seq::index_of(l.len(), at).map(|at| l[at].clone()))
        }
        _ => Ok(None),
    }
}

/// The int a constant or a local (not captured) holds, read in place; None for anything else.
#[inline]
fn int_leaf(f: &Frame, e: &Expr) -> Option<i64> {
    match e {
        Expr::Const(Value::Int(i)) => Some(*i),
        Expr::Name(n) => local_int(f, n),
        _ => None,
    }
}

/// The int a local (not captured) holds; None for anything else.
#[inline]
fn local_int(f: &Frame, n: &Name) -> Option<i64> {
    match n.var {
        Var::Local(s) => match f.slots[s as usize] {
            Val::V(Value::Int(i)) => Some(i),
            _ => None,
        },
        _ => None,
    }
}

/// The number of items of a container (not of a string), cheaply; None for the rest.
fn container_len(v: &Val) -> Option<usize> {
    match v {
        Val::List(l) => l.try_borrow().map(|l| l.len()).ok(),
        Val::Tuple(t) => Some(t.len()),
        Val::Dict(d) => d.try_borrow().map(|d| d.len()).ok(),
        Val::Set(s) => s.try_borrow().map(|s| s.len()).ok(),
        Val::V(x @ (Value::List(_) | Value::Dict(_) | Value::Set(_))) => x.len(),
        _ => None,
    }
}

/// `is`: identity for shared objects, equality of the singletons and small values otherwise.
fn is(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::V(Value::Null), Val::V(Value::Null)) => true,
        (Val::V(Value::Bool(x)), Val::V(Value::Bool(y))) => x == y,
        (Val::List(x), Val::List(y)) => Rc::ptr_eq(x, y),
        (Val::Dict(x), Val::Dict(y)) => Rc::ptr_eq(x, y),
        (Val::Set(x), Val::Set(y)) => Rc::ptr_eq(x, y),
        (Val::Tuple(x), Val::Tuple(y)) => Rc::ptr_eq(x, y),
        (Val::Func(x), Val::Func(y)) => Rc::ptr_eq(x, y),
        (Val::Boxed(x), Val::Boxed(y)) => Rc::ptr_eq(x, y),
        (Val::Builtin(x), Val::Builtin(y)) => x == y,
        (Val::V(Value::Int(x)), Val::V(Value::Int(y))) => x == y,
        (Val::V(Value::Str(x)), Val::V(Value::Str(y))) => x.as_str() == y.as_str(),
        _ => false,
    }
}

impl Builtin {
    pub fn is_type(self) -> bool {
        matches!(
            self,
            Builtin::Int
                | Builtin::Float
                | Builtin::Str
                | Builtin::Bool
                | Builtin::List
                | Builtin::Dict
                | Builtin::Set
                | Builtin::Tuple
        )
    }
}
