//! The `re` module over the `regex` crate (no backreferences or lookaround: matching time is
//! linear in the text, so no pattern can hang the server). Positions are in characters, as
//! in Python.

use std::rc::Rc;

use okdb_value::Value;

use crate::error::{Exc, Result};
use crate::interp::Interp;
use crate::val::*;

/// The longest pattern a script may compile, and the most memory its program may take.
pub const MAX_PATTERN: usize = 4096;
pub const MAX_PROGRAM: usize = 1 << 20;

#[derive(Debug)]
pub struct Match {
    text: Rc<str>,
    /// Byte spans of each group (None: did not take part).
    spans: Vec<Option<(usize, usize)>>,
    names: Vec<Option<String>>,
}

impl Match {
    fn chars(&self, byte: usize) -> i64 {
        self.text[..byte].chars().count() as i64
    }

    pub fn group(&self, i: usize) -> Option<&str> {
        self.spans.get(i)?.map(|(a, b)| &self.text[a..b])
    }

    pub fn start(&self, i: usize) -> Option<i64> {
        self.spans.get(i)?.map(|(a, _)| self.chars(a))
    }

    pub fn end(&self, i: usize) -> Option<i64> {
        self.spans.get(i)?.map(|(_, b)| self.chars(b))
    }

    fn index(&self, g: &Val) -> Result<usize> {
        if let Some(name) = g.as_str() {
            return self
                .names
                .iter()
                .position(|n| n.as_deref() == Some(name))
                .ok_or_else(|| Exc::index_error("no such group"));
        }
        let i = g.index("group indices")?;
        if i < 0 || i as usize >= self.spans.len() {
            return Err(Exc::index_error("no such group"));
        }
        Ok(i as usize)
    }

    fn group_val(&self, i: usize) -> Val {
        self.group(i).map_or(NONE, Val::str)
    }
}

pub fn compile(interp: &mut Interp, pattern: &str, how: Anchor) -> Result<Rc<regex::Regex>> {
    if pattern.len() > MAX_PATTERN {
        return Err(Exc::value_error(format!(
            "regular expression longer than {MAX_PATTERN} bytes"
        )));
    }
    let full = match how {
        Anchor::Search => pattern.to_string(),
        Anchor::Full => format!(r"\A(?:{pattern})\z"),
    };
    if let Some(r) = interp.regex_cache.get(&full) {
        return Ok(r.clone());
    }
    interp.charge(full.len() * 64)?;
    let r = regex::RegexBuilder::new(&full)
        .size_limit(MAX_PROGRAM)
        .dfa_size_limit(MAX_PROGRAM)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => Exc::value_error(format!(
                "regular expression too large (its program exceeds {MAX_PROGRAM} bytes)"
            )),
            other => Exc::value_error(format!("invalid regular expression: {other}")),
        })?;
    let r = Rc::new(r);
    if interp.regex_cache.len() < 64 {
        interp.regex_cache.insert(full, r.clone());
    }
    Ok(r)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Search,
    Full,
}

fn text_arg<'a>(what: &str, v: &'a Val) -> Result<&'a str> {
    v.as_str()
        .ok_or_else(|| Exc::type_error(format!("{what}: expected string, got '{}'", v.type_name())))
}

fn to_match(r: &regex::Regex, text: &str, caps: regex::Captures) -> Val {
    let spans = (0..caps.len())
        .map(|i| caps.get(i).map(|m| (m.start(), m.end())))
        .collect();
    let names = r.capture_names().map(|n| n.map(String::from)).collect();
    Val::Match(Rc::new(Match {
        text: text.into(),
        spans,
        names,
    }))
}

/// `re.match`/`search`/`fullmatch` and the pattern's methods of the same names.
fn find(r: &regex::Regex, text: &str, how: &str) -> Val {
    match r.captures(text) {
        Some(c) if how != "match" || c.get(0).is_some_and(|m| m.start() == 0) => {
            to_match(r, text, c)
        }
        _ => NONE,
    }
}

fn findall(interp: &mut Interp, r: &regex::Regex, text: &str) -> Result<Val> {
    let mut out = Vec::new();
    for c in r.captures_iter(text) {
        interp.tick()?;
        interp.charge_items(1)?;
        let g = |i: usize| c.get(i).map_or(Val::str(""), |m| Val::str(m.as_str()));
        out.push(match c.len() {
            1 => g(0),
            2 => g(1),
            n => Val::tuple((1..n).map(g).collect()),
        });
    }
    Ok(interp.new_list(out))
}

/// Python's replacement syntax (`\1`, `\g<name>`) in the regex crate's (`${1}`, `${name}`).
fn replacement(repl: &str) -> String {
    let mut out = String::new();
    let mut chars = repl.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.peek().copied() {
                Some(d) if d.is_ascii_digit() => {
                    let mut n = String::new();
                    while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                        n.push(d);
                        chars.next();
                    }
                    out.push_str(&format!("${{{n}}}"));
                }
                Some('g') => {
                    chars.next();
                    if chars.peek() == Some(&'<') {
                        chars.next();
                        let name: String = chars.by_ref().take_while(|c| *c != '>').collect();
                        out.push_str(&format!("${{{name}}}"));
                    } else {
                        out.push_str("\\g");
                    }
                }
                Some('n') => {
                    chars.next();
                    out.push('\n');
                }
                Some('t') => {
                    chars.next();
                    out.push('\t');
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

fn sub(interp: &mut Interp, r: &regex::Regex, repl: &Val, text: &str, count: usize) -> Result<Val> {
    if let Some(p) = repl.as_str() {
        let rep = replacement(p);
        // The output's size first: it is charged before it is made.
        let mut found = 0usize;
        for _ in r.find_iter(text) {
            found += 1;
            interp.tick()?;
            if count > 0 && found >= count {
                break;
            }
        }
        interp.charge(
            text.len()
                .saturating_add(found.saturating_mul(rep.len() + 16)),
        )?;
        let s = r.replacen(text, count, rep.as_str()).into_owned();
        interp.charge(s.len())?;
        return Ok(Val::string(s));
    }
    // A function of the match.
    let mut out = String::new();
    let mut last = 0;
    for (n, c) in r.captures_iter(text).enumerate() {
        if count > 0 && n >= count {
            break;
        }
        let m = c.get(0).expect("group 0");
        out.push_str(&text[last..m.start()]);
        let v = interp.call(repl, vec![to_match(r, text, c)], Vec::new())?;
        out.push_str(v.as_str().ok_or_else(|| {
            Exc::type_error(format!("expected str instance, {} found", v.type_name()))
        })?);
        last = m.end();
    }
    out.push_str(&text[last..]);
    interp.charge(out.len())?;
    Ok(Val::string(out))
}

fn split(interp: &mut Interp, r: &regex::Regex, text: &str, maxsplit: usize) -> Result<Val> {
    let mut out = Vec::new();
    let mut last = 0;
    for (n, c) in r.captures_iter(text).enumerate() {
        if maxsplit > 0 && n >= maxsplit {
            break;
        }
        let m = c.get(0).expect("group 0");
        out.push(Val::str(&text[last..m.start()]));
        for i in 1..c.len() {
            out.push(c.get(i).map_or(NONE, |g| Val::str(g.as_str())));
        }
        last = m.end();
        interp.tick()?;
    }
    out.push(Val::str(&text[last..]));
    interp.charge_items(out.len())?;
    Ok(interp.new_list(out))
}

fn pattern_call(
    interp: &mut Interp,
    r: &Rc<regex::Regex>,
    name: &str,
    rest: &[Val],
) -> Result<Val> {
    let need = |n: usize| -> Result<()> {
        if rest.len() < n {
            return Err(Exc::type_error(format!(
                "{name}() missing required argument"
            )));
        }
        Ok(())
    };
    match name {
        "match" | "search" => {
            need(1)?;
            Ok(find(r, text_arg(name, &rest[0])?, name))
        }
        "fullmatch" => {
            need(1)?;
            let full = compile(interp, r.as_str(), Anchor::Full)?;
            Ok(find(&full, text_arg(name, &rest[0])?, name))
        }
        "findall" => {
            need(1)?;
            findall(interp, r, text_arg(name, &rest[0])?)
        }
        "sub" => {
            need(2)?;
            let count = rest
                .get(2)
                .map(|c| c.index("count"))
                .transpose()?
                .unwrap_or(0);
            sub(
                interp,
                r,
                &rest[0],
                text_arg(name, &rest[1])?,
                count.max(0) as usize,
            )
        }
        "split" => {
            need(1)?;
            let max = rest
                .get(1)
                .map(|c| c.index("maxsplit"))
                .transpose()?
                .unwrap_or(0);
            split(interp, r, text_arg(name, &rest[0])?, max.max(0) as usize)
        }
        _ => Err(Exc::raise(
            "AttributeError",
            format!("'re.Pattern' object has no attribute '{name}'"),
        )),
    }
}

/// `re.<name>(pattern, …)`.
pub fn function(interp: &mut Interp, name: &str, args: &[Val]) -> Result<Val> {
    let Some(p) = args.first() else {
        return Err(Exc::type_error(format!(
            "{name}() missing required argument 'pattern'"
        )));
    };
    let pattern = match p {
        Val::Regex(r) => r.as_str().to_string(),
        p => text_arg(name, p)?.to_string(),
    };
    match name {
        "escape" => Ok(Val::string(regex::escape(&pattern))),
        "compile" => Ok(Val::Regex(compile(interp, &pattern, Anchor::Search)?)),
        _ => {
            let r = compile(interp, &pattern, Anchor::Search)?;
            pattern_call(interp, &r, name, &args[1..])
        }
    }
}

pub fn pattern_method(
    interp: &mut Interp,
    r: &Rc<regex::Regex>,
    name: &str,
    args: &[Val],
) -> Result<Val> {
    pattern_call(interp, r, name, args)
}

pub fn match_method(m: &Match, name: &str, args: &[Val]) -> Result<Val> {
    let which = |args: &[Val]| -> Result<usize> {
        match args.first() {
            Some(g) => m.index(g),
            None => Ok(0),
        }
    };
    match name {
        "group" => {
            if args.len() > 1 {
                let items = args
                    .iter()
                    .map(|g| Ok(m.group_val(m.index(g)?)))
                    .collect::<Result<Vec<_>>>()?;
                return Ok(Val::tuple(items));
            }
            Ok(m.group_val(which(args)?))
        }
        "groups" => Ok(Val::tuple(
            (1..m.spans.len()).map(|i| m.group_val(i)).collect(),
        )),
        "groupdict" => {
            let mut d = PyDict::default();
            for (i, n) in m.names.iter().enumerate() {
                if let Some(n) = n {
                    d.insert(HKey(Val::str(n)), m.group_val(i));
                }
            }
            Ok(Val::Dict(Rc::new(std::cell::RefCell::new(d.into()))))
        }
        "start" => Ok(Val::int(m.start(which(args)?).unwrap_or(-1))),
        "end" => Ok(Val::int(m.end(which(args)?).unwrap_or(-1))),
        "span" => {
            let i = which(args)?;
            Ok(Val::tuple(vec![
                Val::int(m.start(i).unwrap_or(-1)),
                Val::int(m.end(i).unwrap_or(-1)),
            ]))
        }
        _ => Err(Exc::raise(
            "AttributeError",
            format!("'re.Match' object has no attribute '{name}'"),
        )),
    }
}

/// `m[g]`.
pub fn group(m: &Match, g: &Val) -> Result<Val> {
    Ok(m.group_val(m.index(g)?))
}

impl From<&Match> for Value {
    fn from(m: &Match) -> Value {
        m.group(0).map_or(Value::Null, Value::str)
    }
}
