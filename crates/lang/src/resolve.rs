//! Name resolution, once after parsing: every name becomes a frame slot, a captured variable
//! of an enclosing function, a builtin, or a global (a host command, or a `NameError`).
//!
//! Python's rule holds: a name assigned anywhere in a function is local to all of it. A
//! comprehension's targets get slots of their own in the enclosing frame, so they do not leak.

use std::collections::HashMap;
use std::sync::Arc;

use smol_str::SmolStr;

use crate::ast::*;
use crate::builtins::Builtin;

#[derive(Default)]
struct Scope {
    locals: HashMap<SmolStr, u32>,
    /// Comprehension scopes, innermost last.
    blocks: Vec<HashMap<SmolStr, u32>>,
    slots: u32,
    frees: Vec<(SmolStr, Capture)>,
}

impl Scope {
    fn find(&self, name: &str) -> Option<u32> {
        for b in self.blocks.iter().rev() {
            if let Some(&s) = b.get(name) {
                return Some(s);
            }
        }
        self.locals.get(name).copied()
    }

    fn fresh(&mut self) -> u32 {
        self.slots += 1;
        self.slots - 1
    }
}

/// Resolves a script's statements; `predefined` names take the first slots. Returns the
/// number of slots the script's frame needs.
pub fn resolve_module(body: &mut [Stmt], predefined: &[&str]) -> u32 {
    let mut scope = Scope::default();
    for name in predefined {
        let s = scope.fresh();
        scope.locals.insert((*name).into(), s);
    }
    collect_locals(body, &mut scope);
    let mut stack = vec![scope];
    stmts(&mut stack, body);
    stack.pop().expect("the module scope").slots
}

fn declare(scope: &mut Scope, name: &SmolStr) {
    if !scope.locals.contains_key(name) {
        let s = scope.fresh();
        scope.locals.insert(name.clone(), s);
    }
}

fn collect_target(t: &Target, scope: &mut Scope) {
    match t {
        Target::Name(n) => declare(scope, &n.id),
        Target::Tuple(items) => items.iter().for_each(|t| collect_target(t, scope)),
        Target::Starred(t) => collect_target(t, scope),
        Target::Index(..) => {}
    }
}

fn collect_locals(body: &[Stmt], scope: &mut Scope) {
    for s in body {
        match &s.kind {
            StmtKind::Assign(targets, _) => targets.iter().for_each(|t| collect_target(t, scope)),
            StmtKind::AugAssign(t, _, _) => collect_target(t, scope),
            StmtKind::For(t, _, b, e) => {
                collect_target(t, scope);
                collect_locals(b, scope);
                collect_locals(e, scope);
            }
            StmtKind::While(_, b, e) => {
                collect_locals(b, scope);
                collect_locals(e, scope);
            }
            StmtKind::If(arms, e) => {
                for (_, b) in arms {
                    collect_locals(b, scope);
                }
                collect_locals(e, scope);
            }
            StmtKind::Def(n, _) => declare(scope, &n.id),
            StmtKind::Del(targets) => targets.iter().for_each(|t| collect_target(t, scope)),
            _ => {}
        }
    }
}

fn lookup(stack: &mut [Scope], name: &SmolStr) -> Var {
    let top = stack.len() - 1;
    if let Some(s) = stack[top].find(name) {
        return Var::Local(s);
    }
    if let Some(i) = capture(stack, top, name) {
        return Var::Free(i);
    }
    match Builtin::by_name(name) {
        Some(b) => Var::Builtin(b),
        None => Var::Global,
    }
}

/// Makes `name` a captured variable of the function at `level`, if an enclosing one binds it.
fn capture(stack: &mut [Scope], level: usize, name: &SmolStr) -> Option<u32> {
    if level == 0 {
        return None;
    }
    if let Some(i) = stack[level].frees.iter().position(|(n, _)| n == name) {
        return Some(i as u32);
    }
    let parent = level - 1;
    let from = match stack[parent].find(name) {
        Some(slot) => Capture::Slot(slot),
        None => Capture::Free(capture(stack, parent, name)?),
    };
    stack[level].frees.push((name.clone(), from));
    Some(stack[level].frees.len() as u32 - 1)
}

fn stmts(stack: &mut Vec<Scope>, body: &mut [Stmt]) {
    for s in body {
        stmt(stack, s);
    }
}

fn stmt(stack: &mut Vec<Scope>, s: &mut Stmt) {
    match &mut s.kind {
        StmtKind::Expr(e) => expr(stack, e),
        StmtKind::Assign(targets, value) => {
            expr(stack, value);
            for t in targets {
                target(stack, t);
            }
        }
        StmtKind::AugAssign(t, _, value) => {
            expr(stack, value);
            target(stack, t);
        }
        StmtKind::If(arms, orelse) => {
            for (cond, body) in arms {
                expr(stack, cond);
                stmts(stack, body);
            }
            stmts(stack, orelse);
        }
        StmtKind::While(cond, body, orelse) => {
            expr(stack, cond);
            stmts(stack, body);
            stmts(stack, orelse);
        }
        StmtKind::For(t, iter, body, orelse) => {
            expr(stack, iter);
            target(stack, t);
            stmts(stack, body);
            stmts(stack, orelse);
        }
        StmtKind::Return(Some(e)) => expr(stack, e),
        StmtKind::Def(name, def) => {
            function(stack, def);
            name.var = lookup(stack, &name.id);
        }
        StmtKind::Del(targets) => {
            for t in targets {
                target(stack, t);
            }
        }
        StmtKind::Assert(cond, msg) => {
            expr(stack, cond);
            if let Some(m) = msg {
                expr(stack, m);
            }
        }
        StmtKind::Return(None) | StmtKind::Break | StmtKind::Continue | StmtKind::Pass => {}
    }
}

fn target(stack: &mut Vec<Scope>, t: &mut Target) {
    match t {
        Target::Name(n) => n.var = lookup(stack, &n.id),
        Target::Tuple(items) => items.iter_mut().for_each(|t| target(stack, t)),
        Target::Starred(t) => target(stack, t),
        Target::Index(obj, idx) => {
            expr(stack, obj);
            expr(stack, idx);
        }
    }
}

/// Resolves a function: its defaults in the enclosing scope, its body in a scope of its own.
fn function(stack: &mut Vec<Scope>, def: &mut Arc<FuncDef>) {
    let def = Arc::get_mut(def).expect("a definition is resolved before it is shared");
    for p in &mut def.params {
        if let Some(d) = &mut p.default {
            expr(stack, d);
        }
    }
    let mut scope = Scope::default();
    for p in &def.params {
        declare(&mut scope, &p.name.id);
    }
    collect_locals(&def.body, &mut scope);
    stack.push(scope);
    for p in &mut def.params {
        p.name.var = lookup(stack, &p.name.id);
    }
    stmts(stack, &mut def.body);
    let scope = stack.pop().expect("pushed above");
    def.slots = scope.slots;
    def.frees = scope.frees.into_iter().map(|(_, c)| c).collect();
}

fn comp_target(stack: &mut [Scope], t: &mut Target) {
    match t {
        Target::Name(n) => {
            let scope = stack.last_mut().expect("a scope");
            let s = scope.fresh();
            scope
                .blocks
                .last_mut()
                .expect("a comprehension scope")
                .insert(n.id.clone(), s);
            n.var = Var::Local(s);
        }
        Target::Tuple(items) => items.iter_mut().for_each(|t| comp_target(stack, t)),
        Target::Starred(t) => comp_target(stack, t),
        Target::Index(..) => {}
    }
}

fn expr(stack: &mut Vec<Scope>, e: &mut Expr) {
    stacker::maybe_grow(
        crate::interp::STACK_RED_ZONE,
        crate::interp::STACK_SEGMENT,
        || expr_inner(stack, e),
    )
}

fn expr_inner(stack: &mut Vec<Scope>, e: &mut Expr) {
    match e {
        Expr::Const(_) | Expr::Key(_) => {}
        Expr::Name(n) => n.var = lookup(stack, &n.id),
        Expr::List(items) | Expr::Tuple(items) | Expr::Set(items) | Expr::BoolOp(_, items) => {
            items.iter_mut().for_each(|e| expr(stack, e))
        }
        Expr::Dict(pairs) => {
            for (k, v) in pairs {
                expr(stack, k);
                expr(stack, v);
            }
        }
        Expr::Unary(_, e) | Expr::Attr(e, _) | Expr::Starred(e) => expr(stack, e),
        Expr::Bin(_, a, b) | Expr::Index(a, b) => {
            expr(stack, a);
            expr(stack, b);
        }
        Expr::Compare(first, rest) => {
            expr(stack, first);
            for (_, e) in rest {
                expr(stack, e);
            }
        }
        Expr::IfExp(parts) => parts.iter_mut().for_each(|e| expr(stack, e)),
        Expr::Call { func, args, kwargs } => {
            expr(stack, func);
            args.iter_mut().for_each(|e| expr(stack, e));
            kwargs.iter_mut().for_each(|(_, e)| expr(stack, e));
        }
        Expr::Slice(parts) => parts.iter_mut().flatten().for_each(|e| expr(stack, e)),
        Expr::Lambda(def) => function(stack, def),
        Expr::FStr(parts) => fparts(stack, parts),
        Expr::Comp(c) => {
            let mut gens = c.gens.iter_mut();
            let first = gens.next().expect("a comprehension has a for");
            // The first iterable is evaluated in the enclosing scope.
            expr(stack, &mut first.iter);
            stack
                .last_mut()
                .expect("a scope")
                .blocks
                .push(HashMap::new());
            comp_target(stack, &mut first.target);
            first.ifs.iter_mut().for_each(|e| expr(stack, e));
            for g in gens {
                expr(stack, &mut g.iter);
                comp_target(stack, &mut g.target);
                g.ifs.iter_mut().for_each(|e| expr(stack, e));
            }
            expr(stack, &mut c.elt);
            if let Some(v) = &mut c.value {
                expr(stack, v);
            }
            stack.last_mut().expect("a scope").blocks.pop();
            c.plan = crate::plan::detect(c).map(Box::new);
        }
    }
}

fn fparts(stack: &mut Vec<Scope>, parts: &mut [FPart]) {
    for p in parts {
        if let FPart::Field { expr: e, spec, .. } = p {
            expr(stack, e);
            fparts(stack, spec);
        }
    }
}
