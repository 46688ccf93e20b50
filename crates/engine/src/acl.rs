//! Users and their permissions (Redis's ACL rules, plus okdb's keyspace rules), and the check
//! every command passes before it runs (docs/security.md).
//!
//! A [`User`] is immutable once built: `ACL SETUSER` applies its rules to a copy and swaps it
//! in whole, so a rule that fails leaves the user as it was. Connections hold an `Arc` of
//! their user and pick up the new one when [`Acl::generation`] moves (one relaxed load per
//! command). A user that may do everything everywhere is `unrestricted`, and its commands skip
//! the check altogether.
//!
//! Passwords are kept as argon2id hashes (PHC strings); `#` also takes Redis's SHA-256 hex
//! form so a Redis ACL file can be imported. Verifying an argon2id hash is deliberately slow,
//! so it never runs under the store's lock: [`Acl::begin_auth`] answers at once for what is
//! cheap (a missing or disabled user, `nopass`, a SHA-256 password, a password verified before)
//! and otherwise hands back a [`PendingAuth`] the server verifies on its blocking pool.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;

use bytes::Bytes;

use crate::command::{CommandSpec, Flags, COMMANDS};
use crate::glob::Pattern;
use crate::CmdError;

/// The name of the user every connection starts as.
pub const DEFAULT_USER: &str = "default";

/// argon2id cost: 19 MiB, 2 passes, 1 lane (the OWASP recommendation; about 20-30 ms of one
/// core here, under the 50 ms an AUTH may cost).
const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
const ARGON2_PASSES: u32 = 2;
const ARGON2_LANES: u32 = 1;
/// The most memory an argon2id hash read from `#…` may ask for (256 MiB).
const MAX_ARGON2_MEMORY_KIB: u32 = 256 * 1024;

/// Passwords verified once, remembered (as keyed hashes) so reconnecting clients do not pay
/// argon2 again; bounded, and forgotten whenever a user changes.
const VERIFIED_MAX: usize = 4096;

/// Command categories: Redis's, and okdb's own for its native verbs.
pub const CATEGORIES: &[(&str, &str)] = &[
    (
        "keyspace",
        "Keys of any type: DEL, EXISTS, EXPIRE, RENAME, KEYS, SCAN, keyspaces …",
    ),
    ("read", "Reads keys' values."),
    ("write", "Writes keys."),
    ("set", "Redis's set commands."),
    ("sortedset", "Redis's sorted-set commands."),
    ("list", "Redis's list commands."),
    ("hash", "Redis's hash commands."),
    ("string", "Values and Redis's string commands."),
    (
        "sequence",
        "okdb's sequence verbs (lists, deques, strings).",
    ),
    (
        "container",
        "okdb's container verbs (dicts, sets, sortedsets, pqueues).",
    ),
    ("math", "okdb's statistics over containers."),
    ("pubsub", "Pub/sub and the change feed."),
    (
        "admin",
        "Administration: persistence, configuration, users.",
    ),
    ("fast", "O(1) or O(log n) commands."),
    ("slow", "Every command that is not fast."),
    ("blocking", "Commands that may wait for a key."),
    (
        "dangerous",
        "Commands that can hurt the server or reveal others' data.",
    ),
    ("connection", "The connection's own state."),
    ("transaction", "MULTI, EXEC, WATCH, BEGIN, END …"),
    ("scripting", "The okdb language: RUN, EVAL, APPLY, FILTER."),
];

/// The categories of a command, as bits (bit i: `CATEGORIES[i]`). Every command has at least
/// `fast` or `slow`.
pub fn categories_of(spec: &CommandSpec) -> u32 {
    let bit = |name: &str| -> u32 {
        let i = CATEGORIES.iter().position(|(n, _)| *n == name).unwrap_or(0);
        1 << i
    };
    let mut c = 0;
    let f = spec.flags;
    if f.has(Flags::READ) {
        c |= bit("read");
    }
    if f.has(Flags::WRITE) {
        c |= bit("write");
    }
    if f.has(Flags::ADMIN) {
        c |= bit("admin") | bit("dangerous");
    }
    if f.has(Flags::TX) || matches!(spec.name, "DISCARD") {
        c |= bit("transaction");
    }
    if f.has(Flags::SCRIPT) {
        c |= bit("scripting");
    }
    c |= if f.has(Flags::FAST) {
        bit("fast")
    } else {
        bit("slow")
    };
    c |= match spec.group {
        "connection" if !f.has(Flags::TX) => bit("connection"),
        "pubsub" => bit("pubsub"),
        "scripts" => bit("scripting"),
        "values" | "compat" => bit("string"),
        "sequences" => bit("sequence"),
        "containers" => bit("container"),
        "math" => bit("math"),
        "keys" | "keyspaces" => bit("keyspace"),
        "redis-list" => bit("list"),
        "redis-hash" => bit("hash"),
        "redis-set" => bit("set"),
        "redis-zset" => bit("sortedset"),
        _ => 0,
    };
    if matches!(
        spec.name,
        "BLPOP" | "BRPOP" | "BLMOVE" | "BRPOPLPUSH" | "BLMPOP" | "BZPOPMIN" | "BZPOPMAX" | "BZMPOP"
    ) || (matches!(spec.name, "POP" | "POPLEFT"))
    {
        c |= bit("blocking");
    }
    if matches!(
        spec.name,
        "FLUSHALL"
            | "FLUSHDB"
            | "KEYS"
            | "SWAPDB"
            | "INFO"
            | "CLIENT"
            | "SORT"
            | "ACL"
            | "MONITOR"
            | "KEYSPACES"
    ) {
        c |= bit("dangerous");
    }
    if spec.name == "ACL" || spec.name == "CLIENT" {
        c |= bit("admin");
    }
    if matches!(
        spec.name,
        "AUTH" | "HELLO" | "CLIENT" | "RESET" | "USE" | "USING" | "SELECT"
    ) {
        c |= bit("connection");
    }
    c
}

/// A category by name (any case), as its bit.
fn category_bit(name: &str) -> Option<u32> {
    if name.eq_ignore_ascii_case("all") {
        return Some(u32::MAX);
    }
    // `script` is accepted for Redis's `scripting`.
    let name = if name.eq_ignore_ascii_case("script") {
        "scripting"
    } else {
        name
    };
    CATEGORIES
        .iter()
        .position(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|i| 1 << i)
}

/// The commands of a category, by table index.
pub fn commands_in(category: &str) -> Option<Vec<usize>> {
    let bit = category_bit(category)?;
    Some(
        COMMANDS
            .iter()
            .enumerate()
            .filter(|(_, c)| categories_of(c) & bit != 0)
            .map(|(i, _)| i)
            .collect(),
    )
}

/// How a command uses a key: reads it, writes it, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    ReadWrite,
}

impl Access {
    fn reads(self) -> bool {
        matches!(self, Access::Read | Access::ReadWrite)
    }
    fn writes(self) -> bool {
        matches!(self, Access::Write | Access::ReadWrite)
    }
}

/// A stored password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Password {
    /// An argon2id PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
    Argon2(String),
    /// Redis's form: SHA-256 of the password, for ACL files imported from Redis.
    Sha256([u8; 32]),
}

impl Password {
    /// Hashes a new password with argon2id and a fresh random salt.
    pub fn hash(password: &[u8]) -> Result<Password, CmdError> {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| CmdError::err(format!("no randomness: {e}")))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| CmdError::err(e.to_string()))?;
        let hash = argon2()
            .hash_password(password, &salt)
            .map_err(|e| CmdError::err(format!("cannot hash the password: {e}")))?;
        Ok(Password::Argon2(hash.to_string()))
    }

    /// Reads the text after `#`: an argon2id PHC string or 64 hex digits of SHA-256.
    pub fn parse(text: &str) -> Result<Password, String> {
        if text.starts_with("$argon2id$") {
            let hash = argon2::PasswordHash::new(text)
                .map_err(|e| format!("the argon2id hash is malformed ({e})"))?;
            let params = argon2::Params::try_from(&hash)
                .map_err(|e| format!("the argon2id hash's parameters are malformed ({e})"))?;
            // Checking a hash costs what its parameters say: bounded so that no hash can make
            // an AUTH take the server's memory or minutes of CPU.
            if params.m_cost() > MAX_ARGON2_MEMORY_KIB
                || params.t_cost() > 16
                || params.p_cost() > 8
            {
                return Err(format!(
                    "the argon2id hash asks for more than okdb allows (m ≤ {MAX_ARGON2_MEMORY_KIB}, \
                     t ≤ 16, p ≤ 8)"
                ));
            }
            return Ok(Password::Argon2(text.to_string()));
        }
        let bytes = text.as_bytes();
        if bytes.len() != 64 || !bytes.iter().all(u8::is_ascii_hexdigit) {
            return Err(
                "the password hash must be an argon2id PHC string or exactly 64 hexadecimal \
                 characters (SHA-256)"
                    .into(),
            );
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks(2).enumerate() {
            let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            out[i] = hex(pair[0]) << 4 | hex(pair[1]);
        }
        Ok(Password::Sha256(out))
    }

    /// As written after `#` in `ACL LIST` and the ACL file.
    pub fn text(&self) -> String {
        match self {
            Password::Argon2(s) => s.clone(),
            Password::Sha256(h) => h.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }

    /// Whether `password` is this one. Slow for argon2id (that is the point).
    pub fn verify(&self, password: &[u8]) -> bool {
        match self {
            Password::Sha256(h) => {
                use sha2::Digest;
                let d = sha2::Sha256::digest(password);
                constant_eq(&d, h)
            }
            Password::Argon2(s) => {
                use argon2::password_hash::PasswordVerifier;
                match argon2::PasswordHash::new(s) {
                    Ok(parsed) => argon2().verify_password(password, &parsed).is_ok(),
                    Err(_) => false,
                }
            }
        }
    }

    fn cheap(&self) -> bool {
        matches!(self, Password::Sha256(_))
    }
}

/// A hash of no one's password, verified for a user that does not exist (or is off) so that
/// refusing one takes as long as refusing a wrong password.
fn decoy() -> Password {
    static DECOY: std::sync::OnceLock<Password> = std::sync::OnceLock::new();
    DECOY
        .get_or_init(|| Password::hash(b"okdb: no such user").unwrap_or(Password::Sha256([0; 32])))
        .clone()
}

fn argon2() -> argon2::Argon2<'static> {
    let params = argon2::Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES, None)
        .unwrap_or_default();
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A key pattern with the access it grants (`~p` both, `%R~p` read, `%W~p` write).
#[derive(Debug, Clone)]
struct KeyRule {
    text: String,
    pattern: Pattern,
    read: bool,
    write: bool,
}

/// One user: whether it may log in, its passwords, and what it may run and touch.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub enabled: bool,
    nopass: bool,
    passwords: Vec<Password>,
    /// Allowed commands, one bit per entry of `COMMANDS`.
    commands: Vec<u64>,
    /// `+cmd|sub` / `-cmd|sub` exceptions: (command index, lower-case subcommand, allowed).
    subcommands: Vec<(usize, String, bool)>,
    /// The command rules as given, compacted (`+@all` resets them), for `ACL LIST`.
    command_rules: Vec<String>,
    keys: Vec<KeyRule>,
    channels: Vec<(String, Pattern)>,
    all_channels: bool,
    /// None: every keyspace; else the keyspace patterns it may use (`ks:pattern`).
    keyspaces: Option<Vec<(String, Pattern)>>,
    /// May do everything everywhere: its commands skip the check.
    pub unrestricted: bool,
}

impl User {
    /// A new user as Redis makes one: off, no password, no commands, keys or channels (and
    /// every keyspace, which okdb's `ks:` rules then confine).
    pub fn new(name: &str) -> User {
        User {
            name: name.to_string(),
            enabled: false,
            nopass: false,
            passwords: Vec::new(),
            commands: vec![0; COMMANDS.len().div_ceil(64)],
            subcommands: Vec::new(),
            command_rules: vec!["-@all".into()],
            keys: Vec::new(),
            channels: Vec::new(),
            all_channels: false,
            keyspaces: None,
            unrestricted: false,
        }
    }

    /// The `default` user of a server without users: on, nopass, everything.
    pub fn default_user() -> User {
        let mut u = User::new(DEFAULT_USER);
        for rule in ["on", "nopass", "~*", "&*", "+@all"] {
            let _ = u.apply(rule);
        }
        u
    }

    fn refresh(&mut self) {
        let all_commands = self.commands.iter().enumerate().all(|(w, bits)| {
            let n = COMMANDS.len().saturating_sub(w * 64).min(64);
            let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
            bits & mask == mask
        }) && self.subcommands.iter().all(|s| s.2);
        let all_keys = self.keys.iter().any(|k| k.text == "*" && k.read && k.write);
        self.unrestricted =
            all_commands && all_keys && self.all_channels && self.keyspaces.is_none();
    }

    fn allow(&mut self, index: usize, on: bool) {
        let (w, b) = (index / 64, index % 64);
        if on {
            self.commands[w] |= 1 << b;
        } else {
            self.commands[w] &= !(1 << b);
        }
        self.subcommands.retain(|s| s.0 != index);
    }

    /// Whether it may run the command at `index` (with `sub`, its first argument).
    pub fn may_run(&self, index: usize, sub: Option<&[u8]>) -> bool {
        if let Some(sub) = sub {
            for (i, s, allowed) in &self.subcommands {
                if *i == index && s.as_bytes().eq_ignore_ascii_case(sub) {
                    return *allowed;
                }
            }
        }
        self.commands[index / 64] & (1 << (index % 64)) != 0
    }

    /// Whether `key` may be used with `access`: each needed right must come from one pattern
    /// that grants it (read from a read pattern, write from a write pattern).
    pub fn may_access(&self, key: &[u8], access: Access) -> bool {
        let read = !access.reads()
            || self
                .keys
                .iter()
                .any(|k| k.read && (k.text == "*" || k.pattern.matches(key)));
        let write = !access.writes()
            || self
                .keys
                .iter()
                .any(|k| k.write && (k.text == "*" || k.pattern.matches(key)));
        read && write
    }

    /// Whether some key may be read: false means KEYS and SCAN would have nothing to show.
    pub fn reads_all_keys(&self) -> bool {
        self.keys.iter().any(|k| k.read && k.text == "*")
    }

    pub fn may_use_channel(&self, channel: &[u8]) -> bool {
        self.all_channels || self.channels.iter().any(|(_, p)| p.matches(channel))
    }

    /// `PSUBSCRIBE pattern`: as Redis, only a pattern the user's channel rules name literally
    /// (or `allchannels`).
    pub fn may_use_channel_pattern(&self, pattern: &[u8]) -> bool {
        self.all_channels || self.channels.iter().any(|(t, _)| t.as_bytes() == pattern)
    }

    pub fn may_use_keyspace(&self, name: &str) -> bool {
        match &self.keyspaces {
            None => true,
            Some(list) => list.iter().any(|(_, p)| p.matches(name.as_bytes())),
        }
    }

    /// Whether it may use every keyspace (FLUSHALL, LISTEN KEYSPACE *, KEYSPACES unfiltered).
    pub fn all_keyspaces(&self) -> bool {
        self.keyspaces.is_none()
    }

    /// Applies one rule (Redis's syntax, plus `ks:pattern`, `allkeyspaces`, `resetkeyspaces`).
    pub fn apply(&mut self, rule: &str) -> Result<(), String> {
        let r = rule;
        // A clear-text password may hold anything (it is stored hashed); every other rule is
        // written to the ACL file as it is, one line per user.
        let clear = r.starts_with('>') || r.starts_with('<');
        if !clear && r.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("rules can't contain spaces or control characters".into());
        }
        let lower = r.to_ascii_lowercase();
        match lower.as_str() {
            "on" => self.enabled = true,
            "off" => self.enabled = false,
            "nopass" => {
                self.nopass = true;
                self.passwords.clear();
            }
            "resetpass" => {
                self.nopass = false;
                self.passwords.clear();
            }
            "allkeys" => return self.apply("~*"),
            "resetkeys" => self.keys.clear(),
            "allchannels" => {
                self.all_channels = true;
                self.channels.clear();
            }
            "resetchannels" => {
                self.all_channels = false;
                self.channels.clear();
            }
            "allcommands" => return self.apply("+@all"),
            "nocommands" => return self.apply("-@all"),
            "allkeyspaces" => self.keyspaces = None,
            "resetkeyspaces" => self.keyspaces = Some(Vec::new()),
            "reset" => {
                let name = std::mem::take(&mut self.name);
                *self = User::new(&name);
                for rule in ["resetpass", "resetkeys", "resetchannels", "off", "-@all"] {
                    self.apply(rule)?;
                }
            }
            _ => return self.apply_prefixed(r),
        }
        self.refresh();
        Ok(())
    }

    fn apply_prefixed(&mut self, r: &str) -> Result<(), String> {
        if let Some(pw) = r.strip_prefix('>') {
            let hash = Password::hash(pw.as_bytes()).map_err(|e| e.message)?;
            self.passwords.retain(|p| !p.verify(pw.as_bytes()));
            self.passwords.push(hash);
            self.nopass = false;
        } else if let Some(pw) = r.strip_prefix('<') {
            let before = self.passwords.len();
            self.passwords.retain(|p| !p.verify(pw.as_bytes()));
            if self.passwords.len() == before {
                return Err(
                    "The password you are trying to remove from the user does not exist".into(),
                );
            }
        } else if let Some(h) = r.strip_prefix('#') {
            let p = Password::parse(h)?;
            if !self.passwords.contains(&p) {
                self.passwords.push(p);
            }
            self.nopass = false;
        } else if let Some(h) = r.strip_prefix('!') {
            let p = Password::parse(h)?;
            let before = self.passwords.len();
            self.passwords.retain(|x| *x != p);
            if self.passwords.len() == before {
                return Err(
                    "The password you are trying to remove from the user does not exist".into(),
                );
            }
        } else if let Some(p) = r.strip_prefix('~') {
            self.add_keys(p, true, true)?;
        } else if let Some(rest) = r.strip_prefix('%') {
            let (perm, p) = rest
                .split_once('~')
                .ok_or_else(|| "Syntax error: a %R~, %W~ or %RW~ rule needs a ~".to_string())?;
            let (mut read, mut write) = (false, false);
            for c in perm.chars() {
                match c.to_ascii_uppercase() {
                    'R' => read = true,
                    'W' => write = true,
                    _ => return Err(format!("Syntax error: unknown key permission '{c}'")),
                }
            }
            if !read && !write {
                return Err("Syntax error: a % rule names R, W or both".into());
            }
            self.add_keys(p, read, write)?;
        } else if let Some(p) = r.strip_prefix('&') {
            if p == "*" {
                self.all_channels = true;
                self.channels.clear();
            } else if !self.all_channels && !self.channels.iter().any(|(t, _)| t == p) {
                let pattern = Pattern::new(p.as_bytes()).map_err(|e| e.to_string())?;
                self.channels.push((p.to_string(), pattern));
            }
        } else if let Some(p) = r.strip_prefix("ks:").or_else(|| r.strip_prefix("KS:")) {
            if p.is_empty() {
                return Err("Syntax error: ks: needs a keyspace name or pattern".into());
            }
            let pattern = Pattern::new(p.as_bytes()).map_err(|e| e.to_string())?;
            let list = self.keyspaces.get_or_insert_with(Vec::new);
            if !list.iter().any(|(t, _)| t == p) {
                list.push((p.to_string(), pattern));
            }
        } else if r.starts_with('+') || r.starts_with('-') {
            self.apply_command_rule(r)?;
        } else if r.starts_with('(') {
            return Err("selectors ('(...)') are not supported by okdb".into());
        } else {
            return Err("Syntax error".into());
        }
        self.refresh();
        Ok(())
    }

    fn add_keys(&mut self, p: &str, read: bool, write: bool) -> Result<(), String> {
        if let Some(k) = self.keys.iter_mut().find(|k| k.text == p) {
            k.read |= read;
            k.write |= write;
            return Ok(());
        }
        let pattern = Pattern::new(p.as_bytes()).map_err(|e| e.to_string())?;
        self.keys.push(KeyRule {
            text: p.to_string(),
            pattern,
            read,
            write,
        });
        Ok(())
    }

    fn apply_command_rule(&mut self, r: &str) -> Result<(), String> {
        let on = r.starts_with('+');
        let body = &r[1..];
        if let Some(cat) = body.strip_prefix('@') {
            let list = commands_in(cat)
                .ok_or_else(|| format!("Unknown command or category name in ACL: '{cat}'"))?;
            for i in list {
                self.allow(i, on);
            }
            if cat.eq_ignore_ascii_case("all") {
                self.command_rules.clear();
            }
            self.command_rules
                .push(format!("{}@{}", &r[..1], cat.to_ascii_lowercase()));
            return Ok(());
        }
        let (name, sub) = match body.split_once('|') {
            Some((n, s)) => (n, Some(s)),
            None => (body, None),
        };
        let index = crate::command::lookup_index(name.as_bytes())
            .ok_or_else(|| format!("Unknown command or category name in ACL: '{name}'"))?;
        match sub {
            None => self.allow(index, on),
            Some(s) if s.is_empty() || s.contains('|') => {
                return Err(format!("Syntax error in command rule '{r}'"))
            }
            Some(s) => {
                let s = s.to_ascii_lowercase();
                self.subcommands.retain(|x| !(x.0 == index && x.1 == s));
                self.subcommands.push((index, s, on));
            }
        }
        let text = r.to_ascii_lowercase();
        self.command_rules.retain(|x| *x != text);
        self.command_rules.push(text);
        Ok(())
    }

    /// The user as rules (`ACL LIST`, the ACL file): re-applying them gives the same user.
    pub fn describe(&self) -> String {
        let mut out = vec![
            format!("user {}", self.name),
            (if self.enabled { "on" } else { "off" }).to_string(),
        ];
        if self.nopass {
            out.push("nopass".into());
        }
        for p in &self.passwords {
            out.push(format!("#{}", p.text()));
        }
        out.extend(self.key_rules());
        out.extend(self.channel_rules());
        if let Some(list) = &self.keyspaces {
            if list.is_empty() {
                out.push("resetkeyspaces".into());
            }
            out.extend(list.iter().map(|(t, _)| format!("ks:{t}")));
        }
        out.extend(self.command_rules.iter().cloned());
        out.join(" ")
    }

    fn key_rules(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| match (k.read, k.write) {
                (true, true) => format!("~{}", k.text),
                (true, false) => format!("%R~{}", k.text),
                _ => format!("%W~{}", k.text),
            })
            .collect()
    }

    fn channel_rules(&self) -> Vec<String> {
        if self.all_channels {
            vec!["&*".into()]
        } else if self.channels.is_empty() {
            vec!["resetchannels".into()]
        } else {
            self.channels.iter().map(|(t, _)| format!("&{t}")).collect()
        }
    }

    /// `ACL GETUSER`'s fields.
    pub fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        let mut flags = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            flags.push("nopass");
        }
        vec![
            (
                "flags",
                FieldValue::List(flags.iter().map(|s| s.to_string()).collect()),
            ),
            (
                "passwords",
                FieldValue::List(self.passwords.iter().map(Password::text).collect()),
            ),
            ("commands", FieldValue::Text(self.command_rules.join(" "))),
            ("keys", FieldValue::Text(self.key_rules().join(" "))),
            (
                "channels",
                FieldValue::Text(if self.all_channels {
                    "&*".into()
                } else {
                    self.channel_rules()
                        .into_iter()
                        .filter(|r| r != "resetchannels")
                        .collect::<Vec<_>>()
                        .join(" ")
                }),
            ),
            (
                "keyspaces",
                FieldValue::Text(match &self.keyspaces {
                    None => "*".into(),
                    Some(l) => l
                        .iter()
                        .map(|(t, _)| t.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                }),
            ),
            ("selectors", FieldValue::List(Vec::new())),
        ]
    }

    /// Whether a connection needs `AUTH` to act as this user.
    pub fn needs_auth(&self) -> bool {
        !self.enabled || !self.nopass
    }
}

/// A field of `ACL GETUSER`.
#[derive(Debug)]
pub enum FieldValue {
    Text(String),
    List(Vec<String>),
}

/// One `ACL LOG` entry.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub count: u64,
    /// auth, command, key, channel or keyspace.
    pub reason: &'static str,
    /// toplevel, multi or script.
    pub context: &'static str,
    pub object: String,
    pub username: String,
    /// Unix ms of the first and the last time.
    pub created: u64,
    pub updated: u64,
    pub client_info: String,
    pub entry_id: u64,
}

/// Every user, the log of refusals, and the passwords verified lately.
#[derive(Debug)]
pub struct Acl {
    users: BTreeMap<String, Arc<User>>,
    log: VecDeque<LogEntry>,
    next_entry: u64,
    verified: HashSet<[u8; 32]>,
    /// Keys the verified-password cache with a secret of this process.
    secret: [u8; 32],
}

impl Default for Acl {
    fn default() -> Self {
        Acl::new()
    }
}

/// What [`Acl::begin_auth`] found.
#[derive(Debug)]
pub enum AuthStart {
    Ok(Arc<User>),
    /// A slow hash to verify, off the store's lock.
    Verify(PendingAuth),
}

/// An argon2id verification to run on the blocking pool ([`PendingAuth::verify`]), then hand
/// to `Engine::finish_auth`.
#[derive(Debug)]
pub struct PendingAuth {
    pub user: String,
    password: Vec<u8>,
    hashes: Vec<Password>,
    cache_key: [u8; 32],
    /// What the connection asked for: a plain `AUTH`, or `HELLO` (its arguments without
    /// `AUTH user password`), run once authenticated.
    pub then: Vec<Bytes>,
    /// Set by [`PendingAuth::verify`].
    pub ok: bool,
}

impl PendingAuth {
    /// Verifies the password: CPU-heavy, run it off the store's lock.
    pub fn verify(&mut self) {
        self.ok = self.hashes.iter().any(|h| h.verify(&self.password));
        self.password.iter_mut().for_each(|b| *b = 0);
    }
}

impl Acl {
    pub fn new() -> Acl {
        let mut users = BTreeMap::new();
        users.insert(DEFAULT_USER.to_string(), Arc::new(User::default_user()));
        let mut secret = [0u8; 32];
        let _ = getrandom::fill(&mut secret);
        Acl {
            users,
            log: VecDeque::new(),
            next_entry: 0,
            verified: HashSet::new(),
            secret,
        }
    }

    pub fn user(&self, name: &str) -> Option<&Arc<User>> {
        self.users.get(name)
    }

    pub fn default_user(&self) -> Arc<User> {
        self.users
            .get(DEFAULT_USER)
            .cloned()
            .unwrap_or_else(|| Arc::new(User::default_user()))
    }

    /// The users as they are, to put back with [`Acl::restore`].
    pub fn snapshot(&self) -> BTreeMap<String, Arc<User>> {
        self.users.clone()
    }

    pub fn restore(&mut self, users: BTreeMap<String, Arc<User>>) {
        self.users = users;
        self.verified.clear();
    }

    pub fn users(&self) -> impl Iterator<Item = &Arc<User>> {
        self.users.values()
    }

    /// Whether a network client must authenticate: `default` has a password or is off, or
    /// other users exist while `default` is off.
    pub fn auth_configured(&self) -> bool {
        self.default_user().needs_auth()
    }

    /// `ACL SETUSER name rules…`: all rules or none.
    pub fn set_user(&mut self, name: &str, rules: &[&str]) -> Result<(), String> {
        if name.is_empty() || name.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err("Usernames can't contain spaces or null characters".into());
        }
        let mut user = match self.users.get(name) {
            Some(u) => (**u).clone(),
            None => User::new(name),
        };
        for rule in rules {
            user.apply(rule)
                .map_err(|e| format!("Error in ACL SETUSER modifier '{rule}': {e}"))?;
        }
        self.users.insert(name.to_string(), Arc::new(user));
        self.verified.clear();
        Ok(())
    }

    /// `ACL DELUSER`: how many were deleted (`default` cannot be).
    pub fn del_users(&mut self, names: &[&str]) -> Result<usize, String> {
        if names.contains(&DEFAULT_USER) {
            return Err("The 'default' user cannot be removed".into());
        }
        let n = names
            .iter()
            .filter(|n| self.users.remove(**n).is_some())
            .count();
        self.verified.clear();
        Ok(n)
    }

    /// Replaces every user with those of an ACL file's text; all or nothing.
    pub fn load(&mut self, text: &str) -> Result<(), String> {
        let mut users = parse_file(text)?;
        // A file without a `default` line keeps the `default` there is (never a fresh,
        // password-less one).
        if !users.contains_key(DEFAULT_USER) {
            users.insert(DEFAULT_USER.to_string(), self.default_user());
        }
        self.users = users;
        self.verified.clear();
        Ok(())
    }

    /// The ACL file's text: one `user` line per user.
    pub fn file_text(&self) -> String {
        let mut out = String::new();
        for u in self.users.values() {
            out.push_str(&u.describe());
            out.push('\n');
        }
        out
    }

    fn cache_key(&self, user: &str, password: &[u8]) -> [u8; 32] {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(self.secret);
        h.update(user.as_bytes());
        h.update([0]);
        h.update(password);
        h.finalize().into()
    }

    /// Starts an `AUTH user password`: accepted at once when that is cheap (`nopass`, a
    /// password verified before, a SHA-256 one); anything else, refusals included, is left to
    /// [`PendingAuth::verify`] off the lock, so the server can slow down failing addresses and
    /// a missing user takes as long to refuse as a wrong password.
    pub fn begin_auth(&self, user: &str, password: &[u8], then: Vec<Bytes>) -> AuthStart {
        let pending = |hashes: Vec<Password>| {
            AuthStart::Verify(PendingAuth {
                user: user.to_string(),
                password: password.to_vec(),
                hashes,
                cache_key: self.cache_key(user, password),
                then: then.clone(),
                ok: false,
            })
        };
        let Some(u) = self.users.get(user).filter(|u| u.enabled) else {
            return pending(vec![decoy()]);
        };
        if u.nopass || self.verified.contains(&self.cache_key(user, password)) {
            return AuthStart::Ok(u.clone());
        }
        let cheap = u.passwords.iter().filter(|p| p.cheap());
        if cheap.clone().any(|p| p.verify(password)) {
            return AuthStart::Ok(u.clone());
        }
        let slow: Vec<Password> = u.passwords.iter().filter(|p| !p.cheap()).cloned().collect();
        if slow.is_empty() {
            // No hash to check (only SHA-256 passwords, or none): refused after the decoy,
            // as long as for a wrong password.
            return pending(vec![decoy()]);
        }
        pending(slow)
    }

    /// Ends a verification: the user if it succeeded (and the user was not changed meanwhile
    /// to refuse it).
    pub fn finish_auth(&mut self, pending: &PendingAuth) -> Option<Arc<User>> {
        if !pending.ok {
            return None;
        }
        let u = self.users.get(&pending.user)?.clone();
        let same = u
            .passwords
            .iter()
            .filter(|p| !p.cheap())
            .eq(pending.hashes.iter());
        if !u.enabled || !same {
            return None;
        }
        if self.verified.len() >= VERIFIED_MAX {
            self.verified.clear();
        }
        self.verified.insert(pending.cache_key);
        Some(u)
    }

    /// Adds a refusal to `ACL LOG`; the same refusal within 60 s counts in its entry.
    #[allow(clippy::too_many_arguments)]
    pub fn log(
        &mut self,
        reason: &'static str,
        context: &'static str,
        object: &str,
        username: &str,
        client_info: String,
        now: u64,
        max_len: usize,
    ) {
        if let Some(e) = self.log.iter_mut().find(|e| {
            e.reason == reason
                && e.context == context
                && e.object == object
                && e.username == username
                && now.saturating_sub(e.updated) < 60_000
        }) {
            e.count += 1;
            e.updated = now;
            e.client_info = client_info;
            return;
        }
        self.log.push_front(LogEntry {
            count: 1,
            reason,
            context,
            object: object.to_string(),
            username: username.to_string(),
            created: now,
            updated: now,
            client_info,
            entry_id: self.next_entry,
        });
        self.next_entry += 1;
        self.log.truncate(max_len);
    }

    pub fn log_entries(&self) -> impl Iterator<Item = &LogEntry> {
        self.log.iter()
    }

    pub fn reset_log(&mut self) {
        self.log.clear();
    }
}

/// Reads an ACL file: `user name rules…` lines; `#` comments and blank lines are skipped.
/// Errors name the line. A file without `default` leaves it as it is ([`Acl::load`]).
pub fn parse_file(text: &str) -> Result<BTreeMap<String, Arc<User>>, String> {
    let mut users: BTreeMap<String, Arc<User>> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        if words.next() != Some("user") {
            return Err(format!(
                "line {}: should start with 'user' (a user definition)",
                n + 1
            ));
        }
        let Some(name) = words.next() else {
            return Err(format!("line {}: a user line names the user", n + 1));
        };
        if users.contains_key(name) {
            return Err(format!("line {}: user '{name}' is defined twice", n + 1));
        }
        let mut u = User::new(name);
        for rule in words {
            if rule.starts_with('>') || rule.starts_with('<') {
                return Err(format!(
                    "line {}: clear-text passwords ('{}…') are not read from an ACL file; \
                     give their hash with #",
                    n + 1,
                    &rule[..1]
                ));
            }
            u.apply(rule)
                .map_err(|e| format!("line {}: rule '{rule}': {e}", n + 1))?;
        }
        users.insert(name.to_string(), Arc::new(u));
    }
    Ok(users)
}

/// Why a command was refused, for the reply and `ACL LOG`.
#[derive(Debug)]
pub struct Denied {
    pub reason: &'static str,
    pub object: String,
}

impl Denied {
    pub fn error(&self) -> CmdError {
        let msg = match self.reason {
            "command" => format!(
                "this user has no permissions to run the '{}' command",
                self.object
            ),
            "key" => format!(
                "this user has no permissions to access one of the keys used as arguments: '{}'",
                self.object
            ),
            "channel" => format!(
                "this user has no permissions to access one of the channels used as arguments: \
                 '{}'",
                self.object
            ),
            _ => format!(
                "this user has no permissions to access the keyspace '{}'",
                self.object
            ),
        };
        CmdError::new("NOPERM", msg)
    }
}

/// Commands whose first argument names a subcommand (for `+cmd|sub` rules and messages).
fn has_subcommands(name: &str) -> bool {
    matches!(
        name,
        "ACL" | "CLIENT" | "CONFIG" | "COMMAND" | "OBJECT" | "MEMORY" | "PUBSUB"
    )
}

/// Checks a command against a user: may it run it, with these keys and channels, in this
/// keyspace? `keyspace` is the connection's.
pub fn check(user: &User, index: usize, args: &[&[u8]], keyspace: &str) -> Result<(), Denied> {
    let spec = &COMMANDS[index];
    let sub = if has_subcommands(spec.name) {
        args.get(1).map(|b| &b[..])
    } else {
        None
    };
    // ACL WHOAMI, CAT, GENPASS and HELP reveal nothing of other users: every user may run
    // them (in Redis they are not @admin either).
    let harmless = spec.name == "ACL"
        && sub.is_some_and(|s| {
            ["WHOAMI", "CAT", "GENPASS", "HELP"]
                .iter()
                .any(|h| s.eq_ignore_ascii_case(h.as_bytes()))
        });
    // AUTH, HELLO, QUIT and RESET run whatever the user's command rules say (Redis's
    // no-auth commands): otherwise a user could be locked out of logging in or out.
    let exempt = harmless || spec.flags.has(Flags::NOAUTH) || spec.name == "RESET";
    if !exempt && !user.may_run(index, sub) {
        let object = match sub {
            Some(s) => format!(
                "{}|{}",
                spec.name.to_ascii_lowercase(),
                String::from_utf8_lossy(s).to_ascii_lowercase()
            ),
            None => spec.name.to_ascii_lowercase(),
        };
        return Err(Denied {
            reason: "command",
            object,
        });
    }
    let mut denied = None;
    let mut any_key = false;
    spec.each_key(args, &mut |key, access| {
        any_key = true;
        if denied.is_none() && !user.may_access(key, access) {
            denied = Some(String::from_utf8_lossy(key).into_owned());
        }
    });
    if let Some(object) = denied {
        return Err(Denied {
            reason: "key",
            object,
        });
    }
    if matches!(spec.name, "SORT" | "SORT_RO")
        && !user.reads_all_keys()
        && crate::commands::keyspec::sort_reads_patterns(args)
    {
        return Err(Denied {
            reason: "key",
            object: "BY/GET pattern (it needs read access to every key)".into(),
        });
    }
    // A command with keys, or one that reads or writes the connection's keyspace as a whole
    // (DBSIZE, KEYS, SCAN, FLUSHDB, RUN, …), needs that keyspace; server-wide reads (INFO,
    // TIME), pub/sub and KEYSPACES (which filters) do not.
    let data = spec.flags.has(Flags::READ) || spec.flags.has(Flags::WRITE);
    let keyed =
        any_key || (data && !matches!(spec.group, "server" | "pubsub") && spec.name != "KEYSPACES");
    if keyed && !user.may_use_keyspace(keyspace) {
        return Err(Denied {
            reason: "keyspace",
            object: keyspace.to_string(),
        });
    }
    for target in spec_keyspaces(spec.name, args) {
        let ok = match &target {
            Some(name) => user.may_use_keyspace(name),
            None => user.all_keyspaces(),
        };
        if !ok {
            return Err(Denied {
                reason: "keyspace",
                object: target.unwrap_or_else(|| "*".into()),
            });
        }
    }
    check_channels(user, spec.name, args)
}

/// Keyspaces a command reaches besides the connection's (None: all of them).
fn spec_keyspaces(name: &str, args: &[&[u8]]) -> Vec<Option<String>> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match name {
        "USE" | "SELECT" => args.get(1).map(|a| vec![Some(text(a))]).unwrap_or_default(),
        "MOVE" => args.get(2).map(|a| vec![Some(text(a))]).unwrap_or_default(),
        "SWAPDB" => args[1..].iter().map(|a| Some(text(a))).collect(),
        // The last DB or KEYSPACE wins, as in the handlers.
        "COPY" => args
            .iter()
            .skip(3)
            .rposition(|a| a.eq_ignore_ascii_case(b"DB"))
            .and_then(|i| args.get(i + 4))
            .map(|a| vec![Some(text(a))])
            .unwrap_or_default(),
        "FLUSHALL" => vec![None],
        "LISTEN" => args
            .iter()
            .rposition(|a| a.eq_ignore_ascii_case(b"KEYSPACE"))
            .and_then(|i| args.get(i + 1))
            .map(|a| {
                if &a[..] == b"*" {
                    vec![]
                } else {
                    vec![Some(text(a))]
                }
            })
            .unwrap_or_default(),
        _ => vec![],
    }
}

fn check_channels(user: &User, name: &str, args: &[&[u8]]) -> Result<(), Denied> {
    if user.all_channels {
        return Ok(());
    }
    let (list, patterns): (&[&[u8]], bool) = match name {
        "PUBLISH" | "SPUBLISH" => (args.get(1..2).unwrap_or(&[]), false),
        "SUBSCRIBE" | "SSUBSCRIBE" => (&args[1..], false),
        "PSUBSCRIBE" => (&args[1..], true),
        _ => return Ok(()),
    };
    for ch in list {
        let ok = if patterns {
            user.may_use_channel_pattern(ch)
        } else {
            user.may_use_channel(ch)
        };
        if !ok {
            return Err(Denied {
                reason: "channel",
                object: String::from_utf8_lossy(ch).into_owned(),
            });
        }
    }
    Ok(())
}

/// `ACL GENPASS [bits]`: random hex, 256 bits unless asked.
pub fn genpass(bits: usize) -> Result<String, CmdError> {
    let bytes = bits.div_ceil(8);
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| CmdError::err(format!("no randomness: {e}")))?;
    let hex: String = buf.iter().map(|b| format!("{b:02x}")).collect();
    Ok(hex[..bits.div_ceil(4)].to_string())
}

/// Redis's answer to a failed `AUTH` (whatever failed: no such user, off, wrong password).
pub fn wrongpass() -> CmdError {
    CmdError::new(
        "WRONGPASS",
        "invalid username-password pair or user is disabled.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(rules: &str) -> User {
        let mut u = User::new("u");
        for r in rules.split_whitespace() {
            u.apply(r).unwrap_or_else(|e| panic!("{r}: {e}"));
        }
        u
    }

    fn args(line: &str) -> Vec<Bytes> {
        line.split_whitespace()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    fn allowed(u: &User, line: &str) -> Result<(), String> {
        let a = args(line);
        let i = crate::command::lookup_index(&a[0]).expect("a command");
        let a = crate::args::borrowed(&a);
        check(u, i, &a, "0").map_err(|d| d.error().to_string())
    }

    #[test]
    fn every_command_has_a_category_and_acl_cat_lists_them() {
        for c in COMMANDS {
            let cats = categories_of(c);
            assert_ne!(cats, 0, "{} has no category", c.name);
            assert!(
                cats & category_bit("fast").unwrap() != 0
                    || cats & category_bit("slow").unwrap() != 0,
                "{} is neither fast nor slow",
                c.name
            );
        }
        for (name, _) in CATEGORIES {
            let list = commands_in(name).unwrap();
            assert!(!list.is_empty(), "category {name} has no command");
        }
        assert!(commands_in("nope").is_none());
        assert_eq!(commands_in("script"), commands_in("scripting"));
    }

    #[test]
    fn default_user_is_unrestricted_and_new_users_may_do_nothing() {
        assert!(User::default_user().unrestricted);
        let u = User::new("x");
        assert!(!u.unrestricted && !u.enabled);
        assert!(allowed(&u, "PING").is_err());
    }

    #[test]
    fn commands_categories_and_subcommands() {
        let u = user("+@all -@dangerous +client|id");
        assert!(allowed(&u, "GET k").is_err(), "no keys yet");
        let u = user("~* +@all -@dangerous +client|id");
        assert!(allowed(&u, "GET k").is_ok());
        assert!(allowed(&u, "FLUSHALL")
            .unwrap_err()
            .contains("'flushall' command"));
        assert!(allowed(&u, "CLIENT ID").is_ok());
        assert!(allowed(&u, "CLIENT LIST")
            .unwrap_err()
            .contains("'client|list'"));
        let u = user("~* -@all +config|get");
        assert!(allowed(&u, "CONFIG GET hz").is_ok());
        assert!(allowed(&u, "CONFIG SET hz 5").is_err());
        assert!(!user("allcommands").unrestricted);
        assert!(user("on nopass allkeys allchannels allcommands").unrestricted);
    }

    #[test]
    fn read_and_write_key_patterns() {
        let u = user("+@all %R~r:* %W~w:* ~rw:*");
        assert!(allowed(&u, "GET r:1").is_ok());
        assert!(allowed(&u, "SET r:1 x").is_err());
        assert!(allowed(&u, "SET w:1 x").is_ok());
        assert!(allowed(&u, "GET w:1").is_err());
        // Both rights on one key, from one pattern each.
        assert!(allowed(&u, "GETSET w:1 x").is_err());
        assert!(allowed(&u, "GETSET rw:1 x").is_ok());
        assert!(allowed(&u, "SET w:1 x GET").is_err());
        assert!(
            allowed(&u, "SET w:1 x EX 10").is_ok(),
            "option words are not keys"
        );
        assert!(allowed(&u, "SET w:1 x w:2 y").is_ok());
        assert!(allowed(&u, "SET w:1 x r:2 y").is_err());
        // Sources are read, destinations written.
        assert!(allowed(&u, "SUNIONSTORE w:d r:a r:b").is_ok());
        assert!(allowed(&u, "SUNIONSTORE r:d r:a").is_err());
        assert!(allowed(&u, "SORT r:l STORE w:d").is_ok());
        assert!(allowed(&u, "SORT r:l STORE r:d").is_err());
        assert!(allowed(&u, "ZUNIONSTORE w:d 2 r:a r:b").is_ok());
        assert!(allowed(&u, "ZUNIONSTORE w:d 2 r:a x").is_err());
        assert!(allowed(&u, "LMPOP 1 rw:l LEFT").is_ok());
        assert!(allowed(&u, "LMPOP 1 r:l LEFT").is_err());
        assert!(allowed(&u, "COPY r:a w:b").is_ok());
        assert!(allowed(&u, "POP rw:a rw:b WAIT 1").is_ok());
        assert!(allowed(&u, "UNION r:a r:b STORE w:c").is_ok());
        assert!(allowed(&u, "UNION r:a r:b STORE r:c").is_err());
        assert!(
            allowed(&u, "SORT r:l BY name INPLACE").is_err(),
            "in place writes"
        );
        assert!(allowed(&u, "SORT r:l REVERSE REVERSE BY f").is_err());
        assert!(
            allowed(&u, "SORT r:l GET # STORE r:x STORE w:y").is_ok(),
            "the last STORE"
        );
        assert!(allowed(&u, "SORT r:l LIMIT 0 1 ASC STORE w:y").is_ok());
        assert!(
            allowed(&u, "SORT_RO r:l GET *").is_err(),
            "patterns need all keys"
        );
        assert!(allowed(&user("+@all %R~* ~w:*"), "SORT_RO r:l BY w_* GET *").is_ok());
    }

    #[test]
    fn keyspaces_and_channels() {
        let u = user("~* +@all ks:t-*");
        assert!(allowed(&u, "GET k").unwrap_err().contains("keyspace '0'"));
        assert!(allowed(&u, "USE t-1").is_ok());
        assert!(allowed(&u, "USE other").is_err());
        assert!(allowed(&u, "SELECT 1").is_err());
        assert!(allowed(&u, "FLUSHALL").is_err());
        assert!(allowed(&u, "PING").is_ok(), "no keyspace needed");
        assert!(
            allowed(&u, "INFO").is_ok(),
            "a server-wide read needs no keyspace"
        );
        assert!(allowed(&u, "DBSIZE").is_err());
        assert!(
            allowed(&u, "KEYSPACES").is_ok(),
            "it lists the allowed ones only"
        );
        let mut a = args("GET k");
        assert!(check(
            &u,
            crate::command::lookup_index(b"GET").unwrap(),
            &crate::args::borrowed(&a),
            "t-1"
        )
        .is_ok());
        a = args("COPY k k2 DB t-2 DB other");
        assert!(check(
            &u,
            crate::command::lookup_index(b"COPY").unwrap(),
            &crate::args::borrowed(&a),
            "t-1"
        )
        .is_err());
        a = args("MOVE k other");
        assert!(check(
            &u,
            crate::command::lookup_index(b"MOVE").unwrap(),
            &crate::args::borrowed(&a),
            "t-1"
        )
        .is_err());
        let u = user("~* +@all &news.*");
        assert!(allowed(&u, "PUBLISH news.1 m").is_ok());
        assert!(allowed(&u, "SUBSCRIBE sport")
            .unwrap_err()
            .contains("'sport'"));
        assert!(allowed(&u, "PSUBSCRIBE news.*").is_ok());
        assert!(
            allowed(&u, "PSUBSCRIBE news.1*").is_err(),
            "patterns must match literally"
        );
    }

    #[test]
    fn describe_round_trips_and_bad_rules_change_nothing() {
        let mut acl = Acl::new();
        acl.set_user(
            "bob",
            &[
                "on",
                "#5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
                "%R~a*",
                "~b*",
                "&c",
                "ks:x",
                "+@read",
                "-get",
                "+config|get",
            ],
        )
        .unwrap();
        let line = acl.user("bob").unwrap().describe();
        let again = parse_file(&line).unwrap();
        assert_eq!(again["bob"].describe(), line);
        let before = acl.file_text();
        let err = acl
            .set_user("bob", &["off", "~z*", "+nosuchcommand"])
            .unwrap_err();
        assert!(err.contains("'+nosuchcommand'"), "{err}");
        assert_eq!(acl.file_text(), before, "a failing SETUSER changes nothing");
        assert!(acl.set_user("new", &["on", "(~x +get)"]).is_err());
        assert!(acl.user("new").is_none());
        // Redis's SHA-256 form authenticates cheaply.
        assert!(matches!(
            acl.begin_auth("bob", b"password", vec![]),
            AuthStart::Ok(_)
        ));
        assert!(matches!(
            acl.begin_auth("bob", b"nope", vec![]),
            AuthStart::Verify(_)
        ));
    }

    #[test]
    fn argon2_passwords_verify_off_the_lock_and_are_remembered() {
        let mut acl = Acl::new();
        acl.set_user("a", &["on", ">s3cret", "+@all"]).unwrap();
        let AuthStart::Verify(mut p) = acl.begin_auth("a", b"s3cret", vec![]) else {
            panic!("an argon2id hash is verified off the lock");
        };
        p.verify();
        assert!(acl.finish_auth(&p).is_some());
        assert!(matches!(
            acl.begin_auth("a", b"s3cret", vec![]),
            AuthStart::Ok(_)
        ));
        let AuthStart::Verify(mut bad) = acl.begin_auth("a", b"wrong", vec![]) else {
            panic!()
        };
        bad.verify();
        assert!(acl.finish_auth(&bad).is_none());
        let AuthStart::Verify(mut ghost) = acl.begin_auth("ghost", b"x", vec![]) else {
            panic!("a missing user is refused the slow way too")
        };
        ghost.verify();
        assert!(acl.finish_auth(&ghost).is_none());
        acl.set_user("a", &["<s3cret"]).unwrap();
        assert!(acl.set_user("a", &["<s3cret"]).is_err());
    }

    #[test]
    fn acl_files_name_the_bad_line() {
        let err = parse_file("user a on\nuser b bogus\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        assert!(parse_file("hello\n").unwrap_err().contains("line 1"));
        assert!(parse_file("user a >clear\n")
            .unwrap_err()
            .contains("clear-text"));
        assert!(parse_file("user a\nuser a\n")
            .unwrap_err()
            .contains("twice"));
        let mut acl = Acl::new();
        acl.set_user(DEFAULT_USER, &["resetpass", ">pw"]).unwrap();
        acl.load("# users\n\nuser a on nopass ~* +@all\n").unwrap();
        assert!(acl.user("a").is_some());
        assert!(
            acl.auth_configured(),
            "a file without default keeps default's password"
        );
        let mut acl = Acl::new();
        let err = acl.set_user("u", &["~a b"]).unwrap_err();
        assert!(err.contains("spaces"), "{err}");
        acl.set_user("u", &["on", ">a pass phrase\twith spaces"])
            .unwrap();
        assert!(!acl.file_text().contains("phrase"));
        let AuthStart::Verify(mut p) = acl.begin_auth("u", b"a pass phrase\twith spaces", vec![])
        else {
            panic!()
        };
        p.verify();
        assert!(acl.finish_auth(&p).is_some());
        assert!(acl
            .set_user(
                "u",
                &["#$argon2id$v=19$m=4000000,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"]
            )
            .is_err());
    }
}
