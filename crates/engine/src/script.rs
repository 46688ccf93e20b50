//! Scripts and transactions: `RUN` runs a program of the okdb language (`okdb-lang`) under the
//! store's lock, as one transaction.
//!
//! - **Isolated**: the whole script runs under one lock, so no other client's command comes
//!   between its commands.
//! - **All or nothing**: while it runs, every write saves the entry it replaces in its
//!   keyspace's undo log (`Keyspace::undo`, filled at the same choke point as the effects'
//!   notes); on any error, a budget included, the saved entries are put back and nothing it
//!   did remains. The waiters its writes would feed are served only if it commits.
//! - **One journal record**: the effects of its commands are gathered
//!   (`Executor::tx_effects`) and journaled together under one LSN when it commits, so replay
//!   never sees half of it and never runs the script (nor its `random()`).
//!
//! Commands are functions of the script (`GET('k')`): each call runs the command through
//! [`Executor::execute`] with its arguments handed over as values (no text round trip), and
//! its reply comes back as a value. Commands that control connections, the server or
//! transactions, whole-keyspace writes and `RUN` itself are refused inside a script.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use okdb_lang::{Exc, Host, Program, Val};
use okdb_value::{literal::Literals, Value};

use crate::command::{lookup_index, Flags, COMMANDS};
use crate::{CmdError, Executor, Preparsed, Reply, Session};

/// Compiled scripts by their text, bounded in count and bytes; a miss compiles under the lock
/// (a few microseconds for a short script).
#[derive(Debug, Default)]
pub struct Cache {
    map: HashMap<Arc<str>, Arc<Program>>,
    /// Stored functions, compiled, by source (`APPLY n double` compiles `double` once).
    lambdas: HashMap<Arc<str>, Arc<Program>>,
    bytes: usize,
}

const CACHE_ENTRIES: usize = 1024;
const CACHE_BYTES: usize = 8 << 20;

impl Cache {
    pub fn get(&mut self, src: &str) -> Result<Arc<Program>, Exc> {
        if let Some(p) = self.map.get(src) {
            return Ok(p.clone());
        }
        let program = Arc::new(Program::compile(src)?);
        self.keep(src, program.clone(), false);
        Ok(program)
    }

    /// A stored function's program (`Program::lambda`), compiled once.
    pub fn lambda(&mut self, src: &str) -> Result<Arc<Program>, Exc> {
        if let Some(p) = self.lambdas.get(src) {
            return Ok(p.clone());
        }
        let program = Arc::new(Program::lambda(src)?);
        self.keep(src, program.clone(), true);
        Ok(program)
    }

    /// Keeps a compiled program within the bounds (counted over scripts and functions).
    fn keep(&mut self, src: &str, program: Arc<Program>, lambda: bool) {
        if src.len() > CACHE_BYTES / 16 {
            return;
        }
        while self.map.len() + self.lambdas.len() >= CACHE_ENTRIES
            || self.bytes + src.len() > CACHE_BYTES
        {
            // Any entry: a script sent once per call must not pin others forever.
            let from = if self.map.is_empty() {
                &mut self.lambdas
            } else {
                &mut self.map
            };
            let Some(victim) = from.keys().next().cloned() else {
                break;
            };
            self.bytes -= victim.len();
            from.remove(&victim);
        }
        self.bytes += src.len();
        let to = if lambda {
            &mut self.lambdas
        } else {
            &mut self.map
        };
        to.insert(src.into(), program);
    }

    pub fn len(&self) -> usize {
        self.map.len() + self.lambdas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The error reply for an exception: its class name first, then the message and line.
pub fn exc_reply(e: &Exc) -> Reply {
    let prefix = static_kind(&e.kind);
    let mut msg = if prefix == e.kind.as_str() {
        e.msg.clone()
    } else {
        format!("{}: {}", e.kind, e.msg)
    };
    if e.line > 0 {
        if e.col > 0 {
            msg.push_str(&format!(" (line {}, column {})", e.line, e.col));
        } else {
            msg.push_str(&format!(" (line {})", e.line));
        }
    }
    Reply::Error(CmdError::new(prefix, msg))
}

pub(crate) fn static_kind(kind: &str) -> &'static str {
    const KINDS: &[&str] = &[
        "SyntaxError",
        "IndentationError",
        "NotSupported",
        "TypeError",
        "ValueError",
        "KeyError",
        "IndexError",
        "NameError",
        "UnboundLocalError",
        "ZeroDivisionError",
        "OverflowError",
        "AttributeError",
        "AssertionError",
        "StopIteration",
        "BUDGET",
        "WRONGTYPE",
        "ERR",
        "OOM",
        "MISCONF",
        "NOPERM",
        "EXECABORT",
        "BUSYKEY",
        "NOSCRIPT",
    ];
    KINDS.iter().find(|k| **k == kind).copied().unwrap_or("ERR")
}

/// The scripts `EVAL`, `APPLY` and `FILTER` run: `ARGS` is the key, the function (a
/// `lambda …` literal, or the name of a key that holds one) and, for `FILTER … STORE`, the
/// destination.
const EVAL_SCRIPT: &str = "f = ARGS[1]\nif isinstance(f, str): f = GET(f)\nf(GET(ARGS[0]))";
const APPLY_SCRIPT: &str = "f = ARGS[1]\nif isinstance(f, str): f = GET(f)\nv = f(GET(ARGS[0]))\nSET(ARGS[0], v, 'KEEPTTL')\nv";
const FILTER_SCRIPT: &str = "f = ARGS[1]\nif isinstance(f, str): f = GET(f)\nr = [x for x in GET(ARGS[0]) if f(x)]\nif len(ARGS) > 2: SET(ARGS[2], r)\nr";

const SORT_SCRIPT: &str = "xs = GET(ARGS[0])\nif not isinstance(xs, list): xs = list(xs) if xs is not None else None\nSET(ARGS[0], sorted(xs, key=ARGS[1], reverse=len(ARGS) > 2), 'KEEPTTL')";

/// `SORT key lambda [REVERSE]`: okdb's in-place sort by a key function (told apart from the
/// other SORTs by its lambda), run as a script.
pub(crate) fn sorts_by_function(name: &str, args: &[&[u8]]) -> bool {
    name == "SORT"
        && (args.len() == 3 || (args.len() == 4 && args[3].eq_ignore_ascii_case(b"REVERSE")))
        && std::str::from_utf8(args[2]).is_ok_and(okdb_value::literal::is_lambda)
}

/// The script and arguments of `EVAL key f`, `APPLY key f`, `FILTER key f [STORE dest]`,
/// `SORT key f [REVERSE]`.
fn function_command(name: &[u8], args: &[&[u8]]) -> Result<(&'static str, Vec<Value>), CmdError> {
    let text = |b: &[u8]| Value::from_bytes(b);
    let function = |b: &[u8]| -> Result<Value, CmdError> {
        match std::str::from_utf8(b) {
            Ok(t) if okdb_value::literal::is_lambda(t) => crate::args::value(Literals::Strict, b),
            _ => Ok(text(b)),
        }
    };
    let cmd = String::from_utf8_lossy(name).into_owned();
    match name {
        b"EVAL" if args.len() != 3 || crate::args::redis_int(args[2]).is_some() => {
            Err(CmdError::err(
                "okdb's EVAL is EVAL key function; okdb runs scripts of its own language, not Lua: use RUN script [arg ...] (docs/language.md)",
            ))
        }
        b"EVAL" | b"APPLY" if args.len() == 3 => Ok((
            if name == b"EVAL" { EVAL_SCRIPT } else { APPLY_SCRIPT },
            vec![text(args[1]), function(args[2])?],
        )),
        b"FILTER" if args.len() == 3 => Ok((FILTER_SCRIPT, vec![text(args[1]), function(args[2])?])),
        b"FILTER" if args.len() == 5 && args[3].eq_ignore_ascii_case(b"STORE") => Ok((
            FILTER_SCRIPT,
            vec![text(args[1]), function(args[2])?, text(args[4])],
        )),
        b"FILTER" => Err(CmdError::syntax()),
        b"SORT" => {
            let mut a = vec![text(args[1]), function(args[2])?];
            if args.len() == 4 {
                a.push(Value::Bool(true));
            }
            Ok((SORT_SCRIPT, a))
        }
        _ => Err(CmdError::arity(&cmd)),
    }
}

/// A command a script may not call. `PING` and `ECHO` are connection commands that touch
/// nothing of the connection, so scripts may call them.
fn refused(name: &str, flags: Flags) -> bool {
    flags.has(Flags::SCRIPT)
        || flags.has(Flags::TX)
        || (flags.has(Flags::CONNECTION) && !matches!(name, "PING" | "ECHO"))
        || flags.has(Flags::ADMIN)
        || matches!(name, "FLUSHDB" | "FLUSHALL" | "SWAPDB")
}

/// The bytes a value is passed as: a string's own bytes, a number's text, and for a
/// container a placeholder (handlers read containers as values, never as text).
fn arg_bytes(v: &Value) -> Bytes {
    match v {
        Value::Str(s) => Bytes::copy_from_slice(s.as_str().as_bytes()),
        Value::Bytes(b) => Bytes::copy_from_slice(b),
        Value::Int(i) => Bytes::from(i.to_string()),
        Value::Float(f) => Bytes::from(okdb_lang::format::float_repr(*f)),
        Value::List(_)
        | Value::Dict(_)
        | Value::Set(_)
        | Value::SortedSet(_)
        | Value::Deque(_)
        | Value::PQueue(_) => Bytes::from(format!("<{}>", v.type_name()).into_bytes()),
        other => Bytes::from(okdb_value::json::to_string(other)),
    }
}

/// A command's reply as a script sees it.
fn reply_to_val(reply: Reply) -> Result<Val, Exc> {
    Ok(match reply {
        Reply::Ok => Val::str("OK"),
        Reply::Status(s) => Val::str(&s),
        Reply::Int(i) => Val::int(i),
        Reply::Bulk(b) => match std::str::from_utf8(&b) {
            Ok(s) => Val::str(s),
            Err(_) => Val::V(Value::Bytes(b.to_vec().into())),
        },
        Reply::Text(s) => Val::string(s),
        // A script cannot subscribe, so no message comes back to it.
        Reply::Null | Reply::NullArray | Reply::Message(_) => Val::V(Value::Null),
        Reply::Array(items) | Reply::Push(items) | Reply::Many(items) => Val::list(
            items
                .into_iter()
                .map(reply_to_val)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Reply::Values(r) => Val::V(Value::List(Box::new(r.list.slice(r.start, r.end)))),
        Reply::Map(pairs) => {
            let mut d = okdb_lang::val::PyDict::default();
            for (k, v) in pairs {
                let k = reply_to_val(k)?;
                d.insert(okdb_lang::val::HKey::new(k)?, reply_to_val(v)?);
            }
            Val::Dict(std::rc::Rc::new(std::cell::RefCell::new(d.into())))
        }
        Reply::Set(items) => {
            let mut s = okdb_lang::val::PySet::default();
            for x in items {
                s.insert(okdb_lang::val::HKey::new(reply_to_val(x)?)?);
            }
            Val::Set(std::rc::Rc::new(std::cell::RefCell::new(s)))
        }
        Reply::Double(f) => Val::float(f),
        Reply::Bool(b) => Val::bool(b),
        Reply::Value(v) => Val::V(v),
        Reply::Error(e) => return Err(Exc::raise(e.prefix, e.message)),
    })
}

/// A script's result as a reply: lists and tuples as arrays, dicts as maps, sets as sets,
/// okdb values as themselves.
fn to_reply(interp: &mut okdb_lang::Interp, v: &Val, depth: usize) -> Result<Reply, Exc> {
    if depth > okdb_lang::val::MAX_NEST {
        return Err(Exc::value_error(
            "the result nests too deeply to send (does it contain itself?)",
        ));
    }
    // Every element of the reply is charged to the script: a reply built of shared parts
    // (`[[big] * 1000] * 1000`) cannot expand without bound.
    let items = |interp: &mut okdb_lang::Interp, xs: &[Val]| -> Result<Vec<Reply>, Exc> {
        interp.charge_items(xs.len())?;
        xs.iter().map(|x| to_reply(interp, x, depth + 1)).collect()
    };
    Ok(match v {
        // Scalars answer as the protocol's own types (an int is an integer reply in RESP2
        // too, as a Lua script's number is in Redis).
        Val::V(Value::Null) => Reply::Null,
        Val::V(Value::Bool(b)) => Reply::Bool(*b),
        Val::V(Value::Int(i)) => Reply::Int(*i),
        Val::V(Value::Float(f)) => Reply::Double(*f),
        Val::V(Value::Str(s)) => Reply::Bulk(Bytes::copy_from_slice(s.as_str().as_bytes())),
        // A planned scan's matches answer as the script's own list of them would.
        Val::V(Value::List(l)) if l.is_picked() => {
            interp.charge_items(l.len())?;
            let mut out = Vec::with_capacity(l.len());
            for x in l.iter() {
                out.push(to_reply(interp, &Val::V(x.into_owned()), depth + 1)?);
            }
            Reply::Array(out)
        }
        Val::V(x) => Reply::Value(x.clone()),
        Val::List(l) => {
            let l = l.borrow().clone();
            Reply::Array(items(interp, &l)?)
        }
        Val::Tuple(t) => Reply::Array(items(interp, t)?),
        Val::Dict(d) => {
            let pairs: Vec<(Val, Val)> = d.borrow().entries();
            interp.charge_items(pairs.len() * 2)?;
            let mut out = Vec::with_capacity(pairs.len());
            for (k, v) in pairs {
                out.push((
                    to_reply(interp, &k, depth + 1)?,
                    to_reply(interp, &v, depth + 1)?,
                ));
            }
            Reply::Map(out)
        }
        Val::Set(s) => {
            let keys: Vec<Val> = s.borrow().iter().map(|k| k.0.clone()).collect();
            Reply::Set(items(interp, &keys)?)
        }
        Val::Boxed(b) => Reply::Value(b.borrow().clone()),
        Val::Range(..) | Val::Iter(_) => {
            let xs = interp.collect(v)?;
            Reply::Array(items(interp, &xs)?)
        }
        Val::Match(m) => Reply::Value(Value::from(&**m)),
        other => Reply::Bulk(Bytes::from(okdb_lang::format::repr(other)?)),
    })
}

/// What `begin_tx` saved, for `end_tx`.
struct Tx {
    /// Inside another transaction, whose record this one's effects join.
    outer: bool,
    /// This transaction keeps the undo log (none outside it did).
    undo: bool,
    effects: usize,
    deferred: usize,
    in_exec: bool,
    keyspace: (smol_str::SmolStr, Option<usize>),
}

struct ScriptHost<'e, 'a> {
    exec: &'e mut Executor<'a>,
    session: &'e mut Session,
}

impl Host for ScriptHost<'_, '_> {
    fn command(&mut self, name: &str, args: Vec<Value>) -> Result<Val, Exc> {
        let Some(index) = lookup_index(name.as_bytes()) else {
            return Err(Exc::raise(
                "NameError",
                format!("name '{name}' is not defined"),
            ));
        };
        let spec = &COMMANDS[index];
        if refused(spec.name, spec.flags) {
            return Err(Exc::raise(
                "ERR",
                format!("{} cannot be called from a script", spec.name),
            ));
        }
        let mut raw = Vec::with_capacity(args.len() + 1);
        raw.push(Bytes::from_static(spec.name.as_bytes()));
        let mut values = Vec::with_capacity(args.len());
        for v in args {
            let b = arg_bytes(&v);
            raw.push(b.clone());
            values.push(Preparsed {
                arg: b,
                mode: Literals::Strict,
                value: Ok(v),
            });
        }
        let batch = std::mem::replace(&mut self.session.preparsed, values);
        let mode = std::mem::replace(&mut self.session.literals, Literals::Strict);
        let reply = self
            .exec
            .execute_at(self.session, index, &crate::args::borrowed(&raw));
        self.session.preparsed = batch;
        self.session.literals = mode;
        reply_to_val(reply)
    }

    fn is_command(&self, name: &str) -> bool {
        name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
            && lookup_index(name.as_bytes()).is_some()
    }

    fn read(&mut self, key: &str) -> Result<Option<Value>, Exc> {
        // `$key` and the planner's scans read the store directly: checked as a GET would be.
        let user = &self.session.user;
        if !user.unrestricted {
            let denied = if !user.may_access(key.as_bytes(), crate::acl::Access::Read) {
                Some(crate::acl::Denied {
                    reason: "key",
                    object: key.to_string(),
                })
            } else if !user.may_use_keyspace(&self.session.keyspace) {
                Some(crate::acl::Denied {
                    reason: "keyspace",
                    object: self.session.keyspace.to_string(),
                })
            } else {
                None
            };
            if let Some(d) = denied {
                self.exec.log_denied(self.session, &d);
                let e = d.error();
                return Err(Exc::raise(e.prefix, e.message));
            }
        }
        let store = &mut self.exec.store;
        let Some(i) = store.index_of(&self.session.keyspace) else {
            return Ok(None);
        };
        let now = self.exec.now;
        Ok(store.space(i).get(key.as_bytes(), now).cloned())
    }

    fn now_ms(&self) -> u64 {
        self.exec.now
    }

    fn seed(&self) -> u64 {
        fastrand::u64(..)
    }

    fn lambda(&mut self, src: &str) -> Result<Arc<Program>, Exc> {
        self.exec.store.scripts.lambda(src)
    }
}

impl Executor<'_> {
    /// `RUN script [arg …]`, and `EVAL`/`APPLY`/`FILTER`, which run a script of their own
    /// over a key and a function: each as one transaction (see the module's docs).
    pub(crate) fn run_script(&mut self, session: &mut Session, args: &[&[u8]]) -> Reply {
        self.scripting += 1;
        let reply = self.run_script_inner(session, args);
        self.scripting -= 1;
        reply
    }

    fn run_script_inner(&mut self, session: &mut Session, args: &[&[u8]]) -> Reply {
        let name = args[0].to_ascii_uppercase();
        let (src, script_args) = match &name[..] {
            b"RUN" => {
                let Ok(src) = std::str::from_utf8(args[1]) else {
                    return Reply::Error(CmdError::err("a script must be UTF-8 text"));
                };
                let mut script_args = Vec::with_capacity(args.len() - 2);
                for a in &args[2..] {
                    match crate::args::value(session.literals, a) {
                        Ok(v) => script_args.push(v),
                        Err(e) => return Reply::Error(e),
                    }
                }
                (src, script_args)
            }
            _ => match function_command(&name, args) {
                Ok(call) => call,
                Err(e) => return Reply::Error(e),
            },
        };
        let program = match self.store.scripts.get(src) {
            Ok(p) => p,
            Err(e) => return exc_reply(&e),
        };
        self.transaction(session, &program, script_args)
    }

    /// Runs a compiled script as one transaction.
    fn transaction(
        &mut self,
        session: &mut Session,
        program: &Program,
        script_args: Vec<Value>,
    ) -> Reply {
        let limits = self.shared.config.script_limits();
        let tx = self.begin_tx(session);
        // A panic (a bug) undoes the transaction before it reaches the connection's handler,
        // so the undo log and the journal never stay half open.
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut host = ScriptHost {
                exec: &mut *self,
                session: &mut *session,
            };
            program.run(&mut host, limits, script_args, |interp, v| {
                let value = to_reply(interp, &v, 0)?;
                if interp.log.is_empty() {
                    return Ok(value);
                }
                let log = interp.log.iter().map(|l| Reply::text(l)).collect();
                Ok(Reply::Map(vec![
                    (Reply::text("value"), value),
                    (Reply::text("log"), Reply::Array(log)),
                ]))
            })
        }));
        let result = match run {
            Ok(r) => r,
            Err(panic) => {
                self.end_tx(session, tx, false);
                std::panic::resume_unwind(panic);
            }
        };
        self.end_tx(session, tx, result.is_ok());
        match result {
            Ok(reply) => reply,
            Err(e) => exc_reply(&e),
        }
    }

    /// `END` of a `BEGIN` block: runs the queued commands as one transaction. The first that
    /// fails undoes them all; its error names it.
    pub(crate) fn end_block(&mut self, session: &mut Session, queued: Vec<Vec<Bytes>>) -> Reply {
        let tx = self.begin_tx(session);
        let mut replies = Vec::with_capacity(queued.len());
        let mut failed = None;
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            for (i, c) in queued.iter().enumerate() {
                match self.execute(session, &crate::args::borrowed(c)) {
                    Reply::Error(e) => {
                        failed = Some((i, e));
                        break;
                    }
                    r => replies.push(r),
                }
            }
        }));
        if let Err(panic) = run {
            self.end_tx(session, tx, false);
            std::panic::resume_unwind(panic);
        }
        self.end_tx(session, tx, failed.is_none());
        match failed {
            None => Reply::Array(replies),
            Some((i, e)) => {
                let text: Vec<String> = queued[i]
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect();
                Reply::Error(CmdError::new(
                    e.prefix,
                    format!(
                        "{} (command {} of the block: {}; nothing it wrote remains)",
                        e.message,
                        i + 1,
                        text.join(" ")
                    ),
                ))
            }
        }
    }

    /// Starts an all-or-nothing transaction: writes save what they replace, effects gather
    /// into one record, waiters wait for the end. Inside another transaction (a script in a
    /// block, a script in `EXEC`) it joins that one: a failure there fails the outer one,
    /// whose undo covers everything.
    fn begin_tx(&mut self, session: &mut Session) -> Tx {
        let outer = self.tx_effects.is_some();
        if !outer {
            self.tx_effects = Some(Vec::new());
        }
        let undo = !self.store.undoing;
        self.store.undoing = true;
        Tx {
            outer,
            undo,
            effects: self.tx_effects.as_ref().map_or(0, Vec::len),
            deferred: self.deferred.len(),
            in_exec: std::mem::replace(&mut session.in_exec, true),
            keyspace: (session.keyspace.clone(), session.keyspace_index),
        }
    }

    /// Ends a transaction: commits (one journal record, waiters served) or undoes it.
    fn end_tx(&mut self, session: &mut Session, tx: Tx, commit: bool) {
        session.in_exec = tx.in_exec;
        (session.keyspace, session.keyspace_index) = tx.keyspace;
        if tx.undo {
            self.store.undoing = false;
            self.end_undo(!commit);
        }
        if commit {
            if !tx.outer {
                let done = self.tx_effects.take().unwrap_or_default();
                if !done.is_empty() {
                    self.journal(session.keyspace.clone(), done);
                }
            }
            if !tx.in_exec {
                for (keyspace, key) in self.deferred.split_off(tx.deferred) {
                    self.serve_waiters(&keyspace, &key);
                }
            }
        } else {
            if tx.outer {
                if let Some(effects) = &mut self.tx_effects {
                    effects.truncate(tx.effects);
                }
            } else {
                self.tx_effects = None;
            }
            if let Some(new) = &mut self.store.new_keys {
                // The keys an undone transaction created are not new.
                new.clear();
            }
            self.deferred.truncate(tx.deferred);
        }
    }

    /// Ends the undo logs of a script: with `restore`, puts back every entry its writes
    /// replaced (newest first), so the store is as it was before the script.
    fn end_undo(&mut self, restore: bool) {
        let tracking = self.store.tracking;
        for i in std::mem::take(&mut self.store.undo_spaces) {
            let ks = self.store.space(i);
            let Some(undo) = ks.undo.take() else { continue };
            if !restore {
                continue;
            }
            ks.recording = false;
            for (key, before) in undo.saved.into_iter().rev() {
                match before {
                    Some(entry) => {
                        ks.insert(key.as_bytes(), entry);
                    }
                    None => {
                        ks.remove(key.as_bytes());
                    }
                }
                if tracking {
                    ks.mark_dirty(key.as_bytes());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::effects::tests::{contents, journaling, random_command};
    use crate::journal::Record;
    use crate::{Config, Engine, Reply, Session};

    fn call(engine: &Engine, s: &mut Session, args: &[&str]) -> Reply {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        // One clock for the whole test: no key expires between two looks at the store.
        engine.lock_at(1_700_000_000_000).execute(s, &args)
    }

    /// A command line as a call of the language (`RPUSH l a` → `RPUSH('l', 'a')`).
    fn as_call(cmd: &str) -> String {
        let mut parts = cmd.split_whitespace();
        let name = parts.next().expect("a name");
        let args: Vec<String> = parts.map(|a| format!("{a:?}")).collect();
        format!("{name}({})", args.join(", "))
    }

    #[test]
    fn a_script_is_one_record_and_replays_to_the_same_store() {
        let (engine, queue) = journaling();
        let mut s = engine.connect("test".into()).unwrap();
        call(&engine, &mut s, &["RPUSH", "l", "a", "b"]);
        queue.take(Duration::ZERO);
        let script = "SET('a', 1)\nRPUSH('l', 'c')\nINCR('a', 41)\nEXPIRE('l', 100)\nSADD('s', 'x', 'y')\n$a";
        assert_eq!(call(&engine, &mut s, &["RUN", script]), Reply::Int(42));
        let records = queue.take(Duration::ZERO);
        assert_eq!(records.len(), 1, "{records:?}");
        let crate::journal::Body::Effects(effects) = &records[0].body else {
            panic!("an effects record")
        };
        assert!(effects.len() >= 4, "{effects:?}");
        // A script that only reads journals nothing.
        assert_eq!(call(&engine, &mut s, &["RUN", "len($l)"]), Reply::Int(3));
        assert!(queue.take(Duration::ZERO).is_empty());
    }

    #[test]
    fn a_failing_script_leaves_the_store_as_it_was_and_journals_nothing() {
        let (engine, queue) = journaling();
        let mut s = engine.connect("test".into()).unwrap();
        for cmd in [
            "RPUSH l a b c",
            "HSET h f 1",
            "SET str hello",
            "SET tmp x",
            "PEXPIRE tmp 100000",
            "ZADD z 1 m",
        ] {
            let args: Vec<&str> = cmd.split(' ').collect();
            call(&engine, &mut s, &args);
        }
        queue.take(Duration::ZERO);
        let before = contents(&engine);
        let writes = "RPUSH('l', 'd'); LPOP('l'); HSET('h', 'g', 2); APPEND('str', '!'); \
                      DEL('tmp'); SET('new', 1); RENAME('str', 'moved'); PERSIST('z'); \
                      ZADD('z', 5, 'n'); EXPIRE('h', 10); LPUSH('l2', 1)";
        for failure in ["1/0", "MULTI()", "GET('l')[99]", "while True: pass"] {
            let script = format!("{writes}\n{failure}");
            let reply = call(&engine, &mut s, &["RUN", &script]);
            assert!(matches!(reply, Reply::Error(_)), "{failure}: {reply:?}");
            assert_eq!(contents(&engine), before, "after {failure}");
            assert!(queue.take(Duration::ZERO).is_empty(), "{failure}");
        }
        // The same writes without the failure commit, as one record.
        assert!(!matches!(
            call(&engine, &mut s, &["RUN", writes]),
            Reply::Error(_)
        ));
        assert_ne!(contents(&engine), before);
        assert_eq!(queue.take(Duration::ZERO).len(), 1);
    }

    #[test]
    fn random_scripts_commit_whole_or_not_at_all_and_replay() {
        for seed in 0..6u64 {
            let (engine, queue) = journaling();
            let mut s = engine.connect("test".into()).unwrap();
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut records: Vec<Record> = Vec::new();
            let (mut committed, mut undone) = (0, 0);
            for n in 0..300 {
                let calls: Vec<String> = (0..rng.usize(1..6))
                    .map(|_| as_call(&random_command(&mut rng, n)))
                    .collect();
                // Some scripts fail at the end, after their writes.
                let fail = rng.usize(..4) == 0;
                let script = format!("{}{}", calls.join("\n"), if fail { "\n1/0" } else { "" });
                let before = contents(&engine);
                let reply = call(&engine, &mut s, &["RUN", &script]);
                let got = queue.take(Duration::ZERO);
                if matches!(reply, Reply::Error(_)) {
                    assert_eq!(contents(&engine), before, "seed {seed}: {script}");
                    assert!(got.is_empty(), "seed {seed}: {script}");
                    undone += 1;
                } else {
                    assert!(got.len() <= 1, "seed {seed}: {script}");
                    committed += 1;
                }
                records.extend(got);
            }
            assert!(committed > 50 && undone > 50, "{committed} {undone}");
            let copy = Engine::new(Config::default());
            copy.start_tracking(1);
            for r in &records {
                let reply = copy.replay(r);
                assert!(!matches!(reply, Reply::Error(_)), "seed {seed}: {reply:?}");
            }
            assert_eq!(contents(&copy), contents(&engine), "seed {seed}");
        }
    }

    #[test]
    fn a_block_is_all_or_nothing_and_one_record() {
        let (engine, queue) = journaling();
        let mut s = engine.connect("test".into()).unwrap();
        call(&engine, &mut s, &["SET", "a", "1"]);
        queue.take(Duration::ZERO);
        let before = contents(&engine);
        // A script that fails inside a block fails the block: nothing remains.
        for failing in [&["RUN", "SET('b', 2)\n1/0"][..], &["INCR", "s"][..]] {
            call(&engine, &mut s, &["SET", "s", "x"]);
            queue.take(Duration::ZERO);
            let before = contents(&engine);
            assert_eq!(call(&engine, &mut s, &["BEGIN"]), Reply::Ok);
            call(&engine, &mut s, &["SET", "a", "5"]);
            call(&engine, &mut s, &["RPUSH", "l", "x"]);
            call(&engine, &mut s, failing);
            let reply = call(&engine, &mut s, &["END"]);
            assert!(
                matches!(&reply, Reply::Error(e) if e.message.contains("command 3 of the block")),
                "{reply:?}"
            );
            assert_eq!(contents(&engine), before);
            assert!(queue.take(Duration::ZERO).is_empty());
        }
        call(&engine, &mut s, &["DEL", "s"]);
        queue.take(Duration::ZERO);
        assert_eq!(contents(&engine), before);
        call(&engine, &mut s, &["BEGIN"]);
        call(&engine, &mut s, &["SET", "a", "5"]);
        call(&engine, &mut s, &["RUN", "RPUSH('l', 'x')"]);
        assert!(matches!(call(&engine, &mut s, &["END"]), Reply::Array(r) if r.len() == 2));
        assert_eq!(queue.take(Duration::ZERO).len(), 1);
    }

    #[test]
    fn exec_is_one_record() {
        let (engine, queue) = journaling();
        let mut s = engine.connect("test".into()).unwrap();
        call(&engine, &mut s, &["MULTI"]);
        call(&engine, &mut s, &["SET", "a", "1"]);
        call(&engine, &mut s, &["RPUSH", "l", "x"]);
        call(&engine, &mut s, &["INCR", "a"]);
        call(&engine, &mut s, &["EXEC"]);
        assert_eq!(queue.take(Duration::ZERO).len(), 1);
    }

    #[test]
    fn scripts_are_cached_and_the_cache_stays_bounded() {
        let engine = Engine::new(Config::default());
        let mut s = engine.connect("test".into()).unwrap();
        for i in 0..3000 {
            let script = format!("{i} + 1");
            assert_eq!(call(&engine, &mut s, &["RUN", &script]), Reply::Int(i + 1));
        }
        let cached = engine.lock().store.scripts.len();
        assert!(cached <= super::CACHE_ENTRIES, "{cached}");
        // A stored function is compiled once, whatever calls it.
        call(&engine, &mut s, &["SET", "n", "1"]);
        call(&engine, &mut s, &["SET", "double", "lambda x: x * 2"]);
        for _ in 0..3 {
            call(&engine, &mut s, &["APPLY", "n", "double"]);
        }
        assert_eq!(
            call(&engine, &mut s, &["RUN", "$n + GET('double')(1)"]),
            Reply::Int(10)
        );
        assert_eq!(engine.lock().store.scripts.lambdas.len(), 1);
    }
}
