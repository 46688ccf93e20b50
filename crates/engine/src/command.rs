//! The command table: one declaration per command.
//!
//! `COMMAND`, `COMMAND DOCS`, the shell's `HELP`, docs/commands.md and the table-wide tests are
//! all generated from [`COMMANDS`]. Adding a command is one [`CommandSpec`] plus one handler.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::acl::Access;
use crate::{CmdError, Ctx, Reply};

pub type Handler = fn(&mut Ctx, &[&[u8]]) -> Result<Reply, CmdError>;

/// Names a command's keys exactly, each with how the command uses it
/// (crate::commands::keyspec), where (first, last, step) cannot.
pub type KeyFinder = fn(&[&[u8]], &mut dyn FnMut(&[u8], Access));

/// Command flags, as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags(pub u16);

impl Flags {
    pub const READ: Flags = Flags(1);
    pub const WRITE: Flags = Flags(2);
    pub const ADMIN: Flags = Flags(4);
    pub const FAST: Flags = Flags(8);
    /// Connection-level: no keys, works on the session or server.
    pub const CONNECTION: Flags = Flags(16);
    /// May grow memory: refused (or preceded by evictions) over `maxmemory`, as Redis's
    /// `denyoom`.
    pub const DENYOOM: Flags = Flags(32);
    /// Transaction control (`MULTI`, `EXEC`, `DISCARD`, `WATCH`, `UNWATCH`, `QUIT`): run by the
    /// executor at once, never queued by `MULTI`.
    pub const TX: Flags = Flags(64);
    /// Runs a script (`RUN`): the executor runs it as one transaction (crate::script).
    pub const SCRIPT: Flags = Flags(128);
    /// Runs before authentication (`AUTH`, `HELLO`, `QUIT`).
    pub const NOAUTH: Flags = Flags(256);
    /// Refused inside `MULTI` (`SAVE`, `SHUTDOWN`), which it then aborts, as Redis's
    /// `no-multi`.
    pub const NO_MULTI: Flags = Flags(512);

    pub const fn or(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    pub fn has(self, f: Flags) -> bool {
        self.0 & f.0 == f.0
    }

    /// The flag names `COMMAND` reports (Redis spellings).
    pub fn names(self) -> Vec<&'static str> {
        let all = [
            (Flags::READ, "readonly"),
            (Flags::WRITE, "write"),
            (Flags::ADMIN, "admin"),
            (Flags::FAST, "fast"),
            (Flags::CONNECTION, "connection"),
            (Flags::DENYOOM, "denyoom"),
            (Flags::NOAUTH, "no_auth"),
            (Flags::NO_MULTI, "no_multi"),
        ];
        all.iter()
            .filter(|(f, _)| self.has(*f))
            .map(|(_, n)| *n)
            .collect()
    }
}

/// One command. `arity` follows Redis: N means exactly N arguments counting the name, -N means
/// at least N. Key positions are Redis's too (1-based; `last_key` -1 means "to the end").
#[derive(Debug)]
pub struct CommandSpec {
    pub name: &'static str,
    pub arity: i32,
    pub flags: Flags,
    pub first_key: i32,
    pub last_key: i32,
    pub key_step: i32,
    /// The family, as in docs/commands.md: keys, values, sequences, keyspaces, server, connection.
    pub group: &'static str,
    /// Arguments after the name, in the usual notation.
    pub syntax: &'static str,
    /// One line: what it does.
    pub summary: &'static str,
    pub handler: Handler,
    /// The exact keys, where the positions above are not (options after the keys, `numkeys`,
    /// `STORE dest`): what the ACL check reads.
    pub find_keys: Option<KeyFinder>,
    /// How the keys at the positions above are used, when not as the flags say (a write
    /// command's keys are written, a read command's read): read and written by commands that
    /// answer what they change (`GETSET`, the pops, `INCR`).
    pub access: Option<Access>,
}

impl CommandSpec {
    /// Names its keys with a finder (crate::commands::keyspec).
    pub const fn keys_by(mut self, finder: KeyFinder) -> CommandSpec {
        self.find_keys = Some(finder);
        self
    }

    /// Its keys are read and written (it answers what it changes).
    pub const fn rw(mut self) -> CommandSpec {
        self.access = Some(Access::ReadWrite);
        self
    }

    /// Calls `f` with each key of this call and how it is used: exact, for the ACL check.
    pub fn each_key(&self, args: &[&[u8]], f: &mut dyn FnMut(&[u8], Access)) {
        if let Some(find) = self.find_keys {
            if args.len() as i32 >= self.arity.abs() {
                find(args, f);
            }
            return;
        }
        let access = self.access.unwrap_or(if self.flags.has(Flags::WRITE) {
            Access::Write
        } else {
            Access::Read
        });
        for k in self.keys(args) {
            f(k, access);
        }
    }

    pub fn arity_ok(&self, n: usize) -> bool {
        let n = n as i32;
        if self.arity >= 0 {
            n == self.arity
        } else {
            n >= -self.arity
        }
    }

    /// The arguments in key positions (Redis's first/last/step). For commands whose options
    /// follow the keys (`SET k v EX 10`) this may include option words: a superset is safe
    /// where it is used (marking keys changed).
    pub fn keys<'a>(&self, args: &'a [&'a [u8]]) -> impl Iterator<Item = &'a [u8]> + 'a {
        let n = args.len() as i32;
        let first = self.first_key;
        let last = if self.last_key < 0 {
            n + self.last_key
        } else {
            self.last_key.min(n - 1)
        };
        let step = self.key_step.max(1) as usize;
        let range = if first > 0 && first <= last {
            first as usize..last as usize + 1
        } else {
            0..0
        };
        args[range].iter().step_by(step).map(|a| &a[..])
    }

    /// `NAME syntax`, as help shows it.
    pub fn usage(&self) -> String {
        if self.syntax.is_empty() {
            self.name.to_string()
        } else {
            format!("{} {}", self.name, self.syntax)
        }
    }
}

pub use crate::commands::COMMANDS;

/// Finds a command by name, any case, without allocating.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    lookup_index(name).map(|i| &COMMANDS[i])
}

/// The position in [`COMMANDS`] of a command, by name, any case.
pub fn lookup_index(name: &[u8]) -> Option<usize> {
    static INDEX: OnceLock<HashMap<&'static str, usize, foldhash::fast::FixedState>> =
        OnceLock::new();
    let index = INDEX.get_or_init(|| {
        COMMANDS
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name, i))
            .collect()
    });
    let mut buf = [0u8; 32];
    let upper = buf.get_mut(..name.len())?;
    for (d, s) in upper.iter_mut().zip(name) {
        *d = s.to_ascii_uppercase();
    }
    let name = std::str::from_utf8(upper).ok()?;
    index.get(name).copied()
}

/// The command reference as markdown: docs/commands.md is this text (a test keeps it in step).
pub fn reference_markdown() -> String {
    let mut groups: Vec<&str> = Vec::new();
    for c in COMMANDS {
        if !groups.contains(&c.group) {
            groups.push(c.group);
        }
    }
    let mut out = String::from(
        "# Command reference\n\n\
         Generated from the command table (`crates/engine/src/commands/mod.rs`); do not edit by\n\
         hand: run `UPDATE_DOCS=1 cargo test -p okdb docs` after changing the table.\n\n\
         Arity counts the command name; `-N` means at least N. Values are okdb literals\n\
         (docs/values.md). Errors start with `ERR`, `WRONGTYPE`, `NOPROTO` or `WRONGPASS`.\n",
    );
    for g in groups {
        out.push_str(&format!(
            "\n## {g}\n\n| command | arity | flags | summary |\n|---|---:|---|---|\n"
        ));
        for c in COMMANDS.iter().filter(|c| c.group == g) {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                c.usage().replace('|', "\\|"),
                c.arity,
                c.flags.names().join(", "),
                c.summary.replace('|', "\\|"),
            ));
        }
    }
    out
}
