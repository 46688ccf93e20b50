//! f-strings: literal text and `{expression!conversion:spec}` fields.

use crate::ast::FPart;
use crate::error::{Exc, Result};
use crate::lexer::unescape;

pub fn parse(text: &str, raw: bool, line: u32) -> Result<Vec<FPart>> {
    parse_nested(text, raw, line, 0)
}

fn parse_nested(text: &str, raw: bool, line: u32, depth: usize) -> Result<Vec<FPart>> {
    if depth > 2 {
        return Err(Exc::syntax(
            "f-string: expressions nested too deeply",
            line,
            0,
        ));
    }
    let err = |m: &str| Exc::syntax(format!("f-string: {m}"), line, 0);
    let mut parts = Vec::new();
    let mut lit = String::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' if b.get(i + 1) == Some(&b'{') => {
                lit.push('{');
                i += 2;
            }
            b'}' if b.get(i + 1) == Some(&b'}') => {
                lit.push('}');
                i += 2;
            }
            b'}' => return Err(err("single '}' is not allowed")),
            b'{' => {
                if !lit.is_empty() {
                    parts.push(FPart::Lit(finish(&lit, raw, line)?));
                    lit.clear();
                }
                // The field runs to the matching '}' outside brackets and strings.
                let start = i + 1;
                let mut j = start;
                let mut nest = 0usize;
                let mut quote: Option<u8> = None;
                let mut expr_end = None;
                let mut conv = None;
                while j < b.len() {
                    let c = b[j];
                    if let Some(q) = quote {
                        if c == q {
                            quote = None;
                        }
                        j += 1;
                        continue;
                    }
                    match c {
                        b'\'' | b'"' => quote = Some(c),
                        b'(' | b'[' | b'{' => nest += 1,
                        b')' | b']' => nest = nest.saturating_sub(1),
                        b'}' if nest > 0 => nest -= 1,
                        b'}' => break,
                        b'!' if nest == 0 && b.get(j + 1) != Some(&b'=') && expr_end.is_none() => {
                            expr_end = Some(j);
                            conv = b.get(j + 1).map(|&c| c as char);
                            j += 2;
                            continue;
                        }
                        b':' if nest == 0 => {
                            if expr_end.is_none() {
                                expr_end = Some(j);
                            }
                            break;
                        }
                        _ => {}
                    }
                    j += 1;
                }
                let end_expr = expr_end.unwrap_or(j);
                let expr_text = &text[start..end_expr];
                if expr_text.trim().is_empty() {
                    return Err(err("empty expression not allowed"));
                }
                // `expr=` (the debugging specifier), not an expression that ends in a
                // comparison (`{a !=` of a string that ended early is a SyntaxError below).
                let t = expr_text.trim_end();
                if t.ends_with('=') && !["==", "!=", "<=", ">="].iter().any(|c| t.ends_with(c)) {
                    return Err(Exc::new(
                        "NotSupported",
                        "f-string '=' specifiers are not supported in okdb scripts",
                        line,
                        0,
                    ));
                }
                if let Some(c) = conv {
                    if !matches!(c, 'r' | 's' | 'a') {
                        return Err(err(
                            "invalid conversion character: expected 's', 'r', or 'a'",
                        ));
                    }
                }
                let expr =
                    crate::parser::parse_expr(&format!("({expr_text})")).map_err(|mut e| {
                        e.line = line;
                        e.col = 0;
                        e.msg = format!("f-string: {}", e.msg);
                        e
                    })?;
                // The spec: up to the matching '}', itself an f-string.
                let mut spec = Vec::new();
                if j < b.len() && b[j] == b':' {
                    let spec_start = j + 1;
                    let mut k = spec_start;
                    let mut nest = 0usize;
                    while k < b.len() {
                        match b[k] {
                            b'{' => nest += 1,
                            b'}' if nest > 0 => nest -= 1,
                            b'}' => break,
                            _ => {}
                        }
                        k += 1;
                    }
                    spec = parse_nested(&text[spec_start..k], raw, line, depth + 1)?;
                    j = k;
                }
                if j >= b.len() {
                    return Err(err("expecting '}'"));
                }
                parts.push(FPart::Field { expr, conv, spec });
                i = j + 1;
            }
            _ => {
                let ch = text[i..].chars().next().expect("in bounds");
                lit.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    if !lit.is_empty() {
        parts.push(FPart::Lit(finish(&lit, raw, line)?));
    }
    Ok(parts)
}

fn finish(lit: &str, raw: bool, line: u32) -> Result<String> {
    if raw {
        Ok(lit.to_string())
    } else {
        unescape(lit, false).map_err(|m| Exc::syntax(m, line, 0))
    }
}
