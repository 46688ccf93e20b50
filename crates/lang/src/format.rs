//! `repr`, `str` and `format` as Python spells them.

use std::rc::Rc;

use okdb_value::Value;

use crate::error::{Exc, Result};
use crate::val::{Val, MAX_NEST};

pub fn repr(v: &Val) -> Result<String> {
    let mut out = String::new();
    write_repr(v, &mut out, 0, &mut Vec::new())?;
    Ok(out)
}

/// The longest text `repr`/`str` make.
pub const MAX_REPR: usize = 64 << 20;

/// The shared object a container is, to see it again inside itself.
fn identity(v: &Val) -> Option<*const ()> {
    match v {
        Val::List(l) => Some(Rc::as_ptr(l) as *const ()),
        Val::Dict(d) => Some(Rc::as_ptr(d) as *const ()),
        Val::Set(s) => Some(Rc::as_ptr(s) as *const ()),
        _ => None,
    }
}

/// `str(v)`: a string is itself; everything else is its repr.
pub fn to_str(v: &Val) -> Result<String> {
    match v {
        Val::V(Value::Str(s)) => Ok(s.as_str().to_string()),
        _ => repr(v),
    }
}

pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    // Shortest digits that read back as the same float, then Python's layout.
    let e = format!("{:e}", f.abs());
    let (mant, exp) = e.split_once('e').expect("exponent form");
    let exp: i32 = exp.parse().expect("an exponent");
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let sign = if f < 0.0 { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let s = if exp >= 0 {
            let point = exp as usize + 1;
            if digits.len() <= point {
                format!("{digits}{}.0", "0".repeat(point - digits.len()))
            } else {
                format!("{}.{}", &digits[..point], &digits[point..])
            }
        } else {
            format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
        };
        format!("{sign}{s}")
    } else {
        let m = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits
        };
        format!(
            "{sign}{m}e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        )
    }
}

pub fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if (0x80..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

fn bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::from("b");
    out.push(quote as char);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push(quote as char);
    out
}

fn value_repr(v: &Value, out: &mut String) -> Result<()> {
    match v {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&float_repr(*f)),
        Value::Str(s) => out.push_str(&str_repr(s.as_str())),
        Value::Bytes(b) => out.push_str(&bytes_repr(b)),
        Value::Decimal(d) => out.push_str(&format!("decimal('{d}')")),
        Value::Date(d) => out.push_str(&format!("date('{d}')")),
        Value::DateTime(d) => out.push_str(&format!("datetime('{d}')")),
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                value_repr(&x, out)?;
            }
            out.push(']');
        }
        Value::Dict(d) => {
            out.push('{');
            for (i, (k, x)) in d.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&str_repr(k));
                out.push_str(": ");
                value_repr(x, out)?;
            }
            out.push('}');
        }
        Value::Set(s) if s.is_empty() => out.push_str("set()"),
        Value::Set(s) => {
            out.push('{');
            for (i, x) in s.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                value_repr(x, out)?;
            }
            out.push('}');
        }
        // The okdb-only types read as their literals.
        Value::Deque(d) => {
            out.push_str("deque([");
            for (i, x) in d.items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                value_repr(&x, out)?;
            }
            out.push(']');
            if let Some(m) = d.maxlen {
                out.push_str(&format!(", maxlen={m}"));
            }
            out.push(')');
        }
        Value::SortedSet(z) => {
            out.push_str("sortedset({");
            for (i, (m, score)) in z.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&str_repr(m));
                out.push_str(": ");
                out.push_str(&float_repr(score));
            }
            out.push_str("})");
        }
        Value::PQueue(q) => {
            out.push_str("pqueue([");
            for (i, (p, x)) in q.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push('[');
                value_repr(p, out)?;
                out.push_str(", ");
                value_repr(x, out)?;
                out.push(']');
            }
            out.push_str("])");
        }
        Value::Function(f) => out.push_str(f),
    }
    Ok(())
}

fn write_repr(v: &Val, out: &mut String, depth: usize, open: &mut Vec<*const ()>) -> Result<()> {
    if out.len() > MAX_REPR {
        return Err(Exc::budget(format!(
            "the text of a value is longer than {MAX_REPR} bytes"
        )));
    }
    if depth > MAX_NEST {
        return Err(Exc::value_error("value nests too deeply to print"));
    }
    // A container inside itself prints as Python prints it: `[...]`, `{...}`.
    let id = identity(v);
    if let Some(id) = id {
        if open.contains(&id) {
            out.push_str(if matches!(v, Val::List(_)) {
                "[...]"
            } else {
                "{...}"
            });
            return Ok(());
        }
        open.push(id);
    }
    let r = write_repr_inner(v, out, depth, open);
    if id.is_some() {
        open.pop();
    }
    r
}

fn write_repr_inner(
    v: &Val,
    out: &mut String,
    depth: usize,
    open: &mut Vec<*const ()>,
) -> Result<()> {
    let items = |out: &mut String, items: &[Val], open: &mut Vec<*const ()>| -> Result<()> {
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            write_repr(x, out, depth + 1, open)?;
        }
        Ok(())
    };
    match v {
        Val::V(v) => value_repr(v, out)?,
        Val::List(l) => {
            let l = l
                .try_borrow()
                .map_err(|_| Exc::value_error("list changed while it was printed"))?;
            out.push('[');
            items(out, &l, open)?;
            out.push(']');
        }
        Val::Tuple(t) => {
            out.push('(');
            items(out, t, open)?;
            if t.len() == 1 {
                out.push(',');
            }
            out.push(')');
        }
        Val::Dict(d) => {
            let d = d
                .try_borrow()
                .map_err(|_| Exc::value_error("dict changed while it was printed"))?;
            out.push('{');
            for (i, (k, x)) in d.entries().iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(k, out, depth + 1, open)?;
                out.push_str(": ");
                write_repr(x, out, depth + 1, open)?;
            }
            out.push('}');
        }
        Val::Set(s) => {
            let s = s
                .try_borrow()
                .map_err(|_| Exc::value_error("set changed while it was printed"))?;
            if s.is_empty() {
                out.push_str("set()");
            } else {
                out.push('{');
                for (i, k) in s.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(&k.0, out, depth + 1, open)?;
                }
                out.push('}');
            }
        }
        Val::Boxed(b) => value_repr(&b.borrow(), out)?,
        Val::Func(f) => out.push_str(&format!("<function {}>", f.def.name)),
        Val::Builtin(b) if b.is_type() => out.push_str(&format!("<class '{}'>", b.name())),
        Val::Builtin(b) => out.push_str(&format!("<built-in function {}>", b.name())),
        Val::Command(c) => out.push_str(&format!("<command {c}>")),
        Val::Method(m) => out.push_str(&format!(
            "<built-in method {} of {} object>",
            m.1,
            m.0.type_name()
        )),
        Val::Range(a, b, s) => {
            if *s == 1 {
                out.push_str(&format!("range({a}, {b})"))
            } else {
                out.push_str(&format!("range({a}, {b}, {s})"))
            }
        }
        Val::Iter(_) => out.push_str("<iterator object>"),
        Val::Module(m) => out.push_str(&format!("<module '{m}'>")),
        Val::Regex(r) => out.push_str(&format!("re.compile({})", str_repr(r.as_str()))),
        Val::Match(m) => out.push_str(&format!(
            "<re.Match object; span=({}, {}), match={}>",
            m.start(0).unwrap_or(0),
            m.end(0).unwrap_or(0),
            str_repr(m.group(0).unwrap_or(""))
        )),
        Val::Cell(_) | Val::Unbound => out.push_str("<cell>"),
    }
    Ok(())
}

/// A parsed format spec: `[[fill]align][sign][#][0][width][,|_][.precision][type]`.
struct Spec {
    fill: char,
    align: Option<char>,
    sign: char,
    alt: bool,
    zero: bool,
    width: usize,
    group: Option<char>,
    precision: Option<usize>,
    ty: Option<char>,
}

fn parse_spec(spec: &str) -> Result<Spec> {
    let bad = || Exc::value_error(format!("Invalid format specifier '{spec}'"));
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let mut s = Spec {
        fill: ' ',
        align: None,
        sign: '-',
        alt: false,
        zero: false,
        width: 0,
        group: None,
        precision: None,
        ty: None,
    };
    let is_align = |c: char| matches!(c, '<' | '>' | '^' | '=');
    if chars.len() >= 2 && is_align(chars[1]) {
        s.fill = chars[0];
        s.align = Some(chars[1]);
        i = 2;
    } else if !chars.is_empty() && is_align(chars[0]) {
        s.align = Some(chars[0]);
        i = 1;
    }
    if i < chars.len() && matches!(chars[i], '+' | '-' | ' ') {
        s.sign = chars[i];
        i += 1;
    }
    if i < chars.len() && chars[i] == '#' {
        s.alt = true;
        i += 1;
    }
    if i < chars.len() && chars[i] == '0' {
        s.zero = true;
        i += 1;
    }
    let start = i;
    while i < chars.len() && chars[i].is_ascii_digit() {
        i += 1;
    }
    if i > start {
        s.width = chars[start..i]
            .iter()
            .collect::<String>()
            .parse()
            .map_err(|_| bad())?;
        if s.width > 100_000 {
            return Err(Exc::value_error("format width too large"));
        }
    }
    if i < chars.len() && matches!(chars[i], ',' | '_') {
        s.group = Some(chars[i]);
        i += 1;
    }
    if i < chars.len() && chars[i] == '.' {
        i += 1;
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(Exc::value_error("Format specifier missing precision"));
        }
        let p: usize = chars[start..i]
            .iter()
            .collect::<String>()
            .parse()
            .map_err(|_| bad())?;
        if p > 1000 {
            return Err(Exc::value_error("format precision too large"));
        }
        s.precision = Some(p);
    }
    if i < chars.len() {
        s.ty = Some(chars[i]);
        i += 1;
    }
    if i != chars.len() {
        return Err(bad());
    }
    Ok(s)
}

fn group_digits(int_part: &str, sep: char) -> String {
    let mut out = String::new();
    let n = int_part.len();
    for (i, c) in int_part.chars().enumerate() {
        if i > 0 && (n - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

fn exp_python(s: String) -> String {
    // Rust writes `1.5e3` / `1.5e-3`; Python writes `1.5e+03` / `1.5e-03`.
    match s.split_once(['e', 'E']) {
        Some((m, e)) => {
            let upper = s.contains('E');
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', e),
            };
            format!("{m}{}{sign}{:0>2}", if upper { 'E' } else { 'e' }, digits)
        }
        None => s,
    }
}

fn general(f: f64, precision: usize, alt: bool) -> String {
    let p = precision.max(1);
    if f == 0.0 {
        return if alt {
            format!("{:.*}", p - 1, 0.0)
        } else {
            "0".into()
        };
    }
    let e = format!("{:.*e}", p - 1, f);
    let exp: i32 = e.split_once('e').expect("exponent").1.parse().expect("int");
    let mut s = if exp >= -4 && exp < p as i32 {
        format!("{:.*}", (p as i32 - 1 - exp).max(0) as usize, f)
    } else {
        exp_python(e)
    };
    if !alt {
        if let Some((m, e)) = s.clone().split_once('e') {
            let m = if m.contains('.') {
                m.trim_end_matches('0').trim_end_matches('.')
            } else {
                m
            };
            s = format!("{m}e{e}");
        } else if s.contains('.') {
            s = s.trim_end_matches('0').trim_end_matches('.').to_string();
        }
    }
    s
}

/// `format(v, spec)`, as f-strings use it.
pub fn format_value(v: &Val, spec: &str) -> Result<String> {
    if spec.is_empty() {
        return to_str(v);
    }
    let s = parse_spec(spec)?;
    let (sign_of, body): (bool, String) = match v {
        Val::V(Value::Int(_) | Value::Bool(_)) if s.ty.is_none_or(|t| "dnbxXoc".contains(t)) => {
            let i = v.as_int().expect("an int");
            let neg = i < 0;
            let a = i.unsigned_abs();
            let digits = match s.ty {
                Some('b') => format!("{}{a:b}", if s.alt { "0b" } else { "" }),
                Some('x') => format!("{}{a:x}", if s.alt { "0x" } else { "" }),
                Some('X') => format!("{}{a:X}", if s.alt { "0X" } else { "" }),
                Some('o') => format!("{}{a:o}", if s.alt { "0o" } else { "" }),
                Some('c') => char::from_u32(a as u32)
                    .ok_or_else(|| Exc::raise("OverflowError", "%c arg not in range(0x110000)"))?
                    .to_string(),
                _ => match s.group {
                    Some(g) => group_digits(&a.to_string(), g),
                    None => a.to_string(),
                },
            };
            if s.precision.is_some() {
                return Err(Exc::value_error(
                    "Precision not allowed in integer format specifier",
                ));
            }
            (neg, digits)
        }
        Val::V(Value::Int(_) | Value::Bool(_) | Value::Float(_)) => {
            let f = v.as_float().expect("a number");
            let neg = f.is_sign_negative() && !(f == 0.0 && s.ty.is_none());
            let a = f.abs();
            let body = if a.is_nan() {
                "nan".to_string()
            } else if a.is_infinite() {
                "inf".to_string()
            } else {
                match s.ty {
                    Some('f' | 'F') => format!("{:.*}", s.precision.unwrap_or(6), a),
                    Some('e' | 'E') => {
                        let e = exp_python(format!("{:.*e}", s.precision.unwrap_or(6), a));
                        if s.ty == Some('E') {
                            e.to_uppercase()
                        } else {
                            e
                        }
                    }
                    Some('%') => format!("{:.*}%", s.precision.unwrap_or(6), a * 100.0),
                    Some('g' | 'G') => general(a, s.precision.unwrap_or(6), s.alt),
                    None => match s.precision {
                        Some(p) => general(a, p, s.alt),
                        None => float_repr(a),
                    },
                    Some(t) => {
                        return Err(Exc::value_error(format!(
                            "Unknown format code '{t}' for object of type 'float'"
                        )))
                    }
                }
            };
            let body = match s.group {
                Some(g) if !body.contains('e') => {
                    let (int_part, rest) = match body.find(['.', '%']) {
                        Some(i) => body.split_at(i),
                        None => (body.as_str(), ""),
                    };
                    format!("{}{rest}", group_digits(int_part, g))
                }
                _ => body,
            };
            (neg && !body.starts_with("nan"), body)
        }
        Val::V(Value::Str(text)) => {
            if let Some(t) = s.ty.filter(|t| *t != 's') {
                return Err(Exc::value_error(format!(
                    "Unknown format code '{t}' for object of type 'str'"
                )));
            }
            if s.sign != '-' {
                return Err(Exc::value_error(
                    "Sign not allowed in string format specifier",
                ));
            }
            let t = text.as_str();
            let t: String = match s.precision {
                Some(p) => t.chars().take(p).collect(),
                None => t.to_string(),
            };
            return Ok(pad(&t, &s, '<'));
        }
        other => {
            if s.ty.is_some() || s.precision.is_some() {
                return Err(Exc::type_error(format!(
                    "unsupported format string passed to {}.__format__",
                    other.type_name()
                )));
            }
            return Ok(pad(&to_str(other)?, &s, '<'));
        }
    };
    let sign = match (sign_of, s.sign) {
        (true, _) => "-",
        (false, '+') => "+",
        (false, ' ') => " ",
        _ => "",
    };
    if s.zero && s.align.is_none() {
        let width = s.width.saturating_sub(sign.len());
        let padded = format!("{body:0>width$}");
        return Ok(format!("{sign}{padded}"));
    }
    if s.align == Some('=') {
        let width = s.width.saturating_sub(sign.len());
        let n = body.chars().count();
        let fill: String = std::iter::repeat_n(s.fill, width.saturating_sub(n)).collect();
        return Ok(format!("{sign}{fill}{body}"));
    }
    Ok(pad(&format!("{sign}{body}"), &s, '>'))
}

fn pad(text: &str, s: &Spec, default: char) -> String {
    let n = text.chars().count();
    if n >= s.width {
        return text.to_string();
    }
    let total = s.width - n;
    let fill = |k: usize| -> String { std::iter::repeat_n(s.fill, k).collect() };
    match s.align.unwrap_or(default) {
        '<' => format!("{text}{}", fill(total)),
        '^' => format!("{}{text}{}", fill(total / 2), fill(total - total / 2)),
        _ => format!("{}{text}", fill(total)),
    }
}
