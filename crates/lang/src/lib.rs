//! okdb's language: a sandboxed subset of Python evaluated directly over okdb values.
//!
//! The language knows values and the operations layer, nothing of RESP, sockets or the
//! journal. It reaches the store only through a [`Host`]: commands are functions
//! (`GET('k')`), `$name` reads a key. Every script runs within [`Limits`] (steps, memory it
//! allocates, wall-clock time, call depth); on any limit it stops with a `BUDGET` error and
//! the host undoes its writes.
//!
//! ```text
//! source --lexer--> tokens --parser--> tree --resolve--> slots --interp--> value
//! ```

pub mod arith;
pub mod ast;
pub mod builtins;
pub mod error;
pub mod format;
pub mod fstring;
pub mod interp;
pub mod iter;
pub mod lexer;
pub mod methods;
pub mod parser;
pub mod plan;
pub mod re;
pub mod resolve;
pub mod val;

use std::time::Duration;

use okdb_value::Value;

pub use error::Exc;
pub use interp::Interp;
pub use val::Val;

/// What a script reaches outside itself.
pub trait Host {
    /// Runs the command `name` with these arguments; its reply as a value, or its error.
    fn command(&mut self, name: &str, args: Vec<Value>) -> Result<Val, Exc>;
    /// Whether `name` is a command a script may call.
    fn is_command(&self, name: &str) -> bool;
    /// The value of a key (`$name`), None if it has none.
    fn read(&mut self, key: &str) -> Result<Option<Value>, Exc>;
    /// The time `now()` gives: unix milliseconds, fixed for the script's run.
    fn now_ms(&self) -> u64;
    /// The seed of `random()` for this run.
    fn seed(&self) -> u64;
    /// A stored function's source, compiled (a host may keep them across runs).
    fn lambda(&mut self, src: &str) -> Result<std::sync::Arc<Program>, Exc> {
        Program::lambda(src).map(std::sync::Arc::new)
    }
}

/// A script's budget. On any limit it stops with a `BUDGET` error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Statements, loop iterations and calls.
    pub steps: u64,
    /// Bytes the script allocates (strings and container slots it makes, counted as made).
    pub memory: usize,
    /// Wall-clock time.
    pub time: Duration,
    /// Nested calls of the script's functions.
    pub depth: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            steps: 50_000_000,
            memory: 64 << 20,
            time: Duration::from_millis(500),
            depth: 100,
        }
    }
}

/// A parsed and resolved script, ready to run any number of times.
#[derive(Debug)]
pub struct Program {
    body: Vec<ast::Stmt>,
    slots: u32,
}

/// Names every script has: `ARGS`, the list of the arguments after the script.
const PREDEFINED: &[&str] = &["ARGS"];

impl Program {
    pub fn compile(src: &str) -> Result<Program, Exc> {
        let mut body = parser::parse(src)?;
        let slots = resolve::resolve_module(&mut body, PREDEFINED);
        Ok(Program { body, slots })
    }

    /// A stored function's source (`lambda x: x * 2`): one lambda expression, which uses no
    /// variable of a script (only its parameters, builtins and commands).
    pub fn lambda(src: &str) -> Result<Program, Exc> {
        let program = Program::compile(src)?;
        let ok = matches!(
            &program.body[..],
            [ast::Stmt { kind: ast::StmtKind::Expr(ast::Expr::Lambda(def)), .. }] if def.frees.is_empty()
        );
        if !ok {
            return Err(Exc::syntax(
                "a stored function is one lambda expression (lambda x: …)",
                1,
                1,
            ));
        }
        Ok(program)
    }

    /// Evaluates a lambda's program (see [`Program::lambda`]) to the function it defines.
    pub fn function(&self, interp: &mut Interp) -> Result<Val, Exc> {
        let mut frame = interp::Frame {
            slots: vec![Val::Unbound; self.slots.max(1) as usize],
            frees: Vec::new(),
            module: false,
        };
        match &self.body[..] {
            [ast::Stmt {
                kind: ast::StmtKind::Expr(e),
                ..
            }] => interp.eval(&mut frame, e),
            _ => Err(Exc::type_error("not a function")),
        }
    }

    /// Runs the script: `args` become `ARGS`; the value is that of the last expression
    /// statement run at the top level, or of a top-level `return`. `finish` sees it before
    /// the script's objects are freed.
    pub fn run<R>(
        &self,
        host: &mut dyn Host,
        limits: Limits,
        args: Vec<Value>,
        finish: impl FnOnce(&mut Interp, Val) -> Result<R, Exc>,
    ) -> Result<R, Exc> {
        let mut interp = Interp::new(host, limits);
        let mut slots = vec![Val::Unbound; self.slots as usize];
        let args = args.into_iter().map(Val::V).collect();
        slots[0] = interp.new_list(args);
        let mut frame = interp::Frame {
            slots,
            frees: Vec::new(),
            module: true,
        };
        let value = match interp.exec_block(&mut frame, &self.body)? {
            interp::Flow::Return(v) => v,
            interp::Flow::Break | interp::Flow::Continue => {
                return Err(Exc::syntax("'break' or 'continue' outside loop", 0, 0))
            }
            interp::Flow::Normal => std::mem::replace(&mut interp.last, val::NONE),
        };
        finish(&mut interp, value)
    }
}

#[cfg(test)]
mod tests;
