//! A recursive-descent parser for the supported subset of Python. Nesting is bounded
//! (`MAX_DEPTH`), so no input can overflow the stack; what the language refuses is a
//! `SyntaxError` or `NotSupported` naming the construct, with its line and column.

use std::sync::Arc;

use okdb_value::Value;
use smol_str::SmolStr;

use crate::ast::*;
use crate::error::{Exc, Result};
use crate::lexer::{tokenize, Tok, Token};

/// How deeply expressions and blocks may nest.
pub const MAX_DEPTH: usize = 100;
/// The most binary operators (or calls, indexes and attributes) chained at one level: each
/// nests the tree one level deeper.
pub const MAX_CHAIN: usize = 1000;

pub fn parse(src: &str) -> Result<Vec<Stmt>> {
    let toks = tokenize(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
        src,
        line_starts: line_starts(src),
    };
    let mut body = Vec::new();
    while !p.at_eof() {
        if p.eat(&Tok::Newline) {
            continue;
        }
        p.statement(&mut body)?;
    }
    Ok(body)
}

/// Parses one expression (a lambda stored as a value, an f-string's field).
pub fn parse_expr(src: &str) -> Result<Expr> {
    let toks = tokenize(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
        src,
        line_starts: line_starts(src),
    };
    let e = p.expr_list()?;
    while p.eat(&Tok::Newline) {}
    if !p.at_eof() {
        return Err(p.unexpected());
    }
    Ok(e)
}

/// A keyword argument of a call.
type KwArg = (SmolStr, Expr);

const REFUSED: &[(&str, &str)] = &[
    ("import", "import"),
    ("from", "import"),
    ("class", "class definitions"),
    ("try", "try statements"),
    ("except", "try statements"),
    ("finally", "try statements"),
    ("raise", "raise"),
    ("global", "global declarations"),
    ("nonlocal", "nonlocal declarations"),
    ("with", "with statements"),
    ("yield", "yield (generators)"),
    ("async", "async"),
    ("await", "await"),
];

struct Parser<'a> {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    src: &'a str,
    /// Where each line begins (a lambda's source is cut out by line and column).
    line_starts: Vec<usize>,
}

impl Parser<'_> {
    fn tok(&self) -> &Tok {
        &self.toks[self.pos].tok
    }

    fn line(&self) -> u32 {
        self.toks[self.pos].line
    }

    fn at_eof(&self) -> bool {
        matches!(self.tok(), Tok::Eof)
    }

    fn advance(&mut self) -> Tok {
        let t = self.toks[self.pos].tok.clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.tok() == t {
            self.advance();
            true
        } else {
            false
        }
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.tok(), Tok::Op(o) if *o == op)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if self.is_op(op) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.tok(), Tok::Name(n) if n == kw)
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn err_here(&self, msg: impl Into<String>) -> Exc {
        let t = &self.toks[self.pos];
        Exc::syntax(msg, t.line, t.col)
    }

    fn unexpected(&self) -> Exc {
        let what = match self.tok() {
            Tok::Eof => "unexpected end of script".to_string(),
            Tok::Newline => "unexpected end of line".to_string(),
            Tok::Indent => "unexpected indent".to_string(),
            Tok::Dedent => "unexpected unindent".to_string(),
            Tok::Op(o) => format!("invalid syntax at '{o}'"),
            Tok::Name(n) => format!("invalid syntax at '{n}'"),
            _ => "invalid syntax".to_string(),
        };
        let kind = if matches!(self.tok(), Tok::Indent) {
            "IndentationError"
        } else {
            "SyntaxError"
        };
        let t = &self.toks[self.pos];
        Exc::new(kind, what, t.line, t.col)
    }

    fn expect_op(&mut self, op: &str) -> Result<()> {
        if self.eat_op(op) {
            Ok(())
        } else {
            let mut e = self.unexpected();
            e.msg = format!("expected '{op}' ({})", e.msg);
            Err(e)
        }
    }

    fn name(&mut self) -> Result<SmolStr> {
        match self.tok() {
            Tok::Name(n) if !is_keyword(n) => {
                let n = n.clone();
                self.advance();
                Ok(n)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err_here(format!(
                "too deeply nested (the limit is {MAX_DEPTH} levels)"
            )));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    // ---- statements ----

    fn statement(&mut self, out: &mut Vec<Stmt>) -> Result<()> {
        let line = self.line();
        if let Tok::Name(n) = self.tok() {
            if let Some((_, what)) = REFUSED.iter().find(|(k, _)| k == n) {
                let t = &self.toks[self.pos];
                return Err(Exc::new(
                    "NotSupported",
                    format!("{what} are not supported in okdb scripts")
                        .replace("import are", "import is")
                        .replace("raise are", "raise is")
                        .replace("async are", "async is")
                        .replace("await are", "await is"),
                    t.line,
                    t.col,
                ));
            }
            let kind = match n.as_str() {
                "if" => Some(self.if_stmt()?),
                "while" => {
                    self.advance();
                    let cond = self.expr()?;
                    let body = self.block()?;
                    let orelse = self.else_block()?;
                    Some(StmtKind::While(cond, body, orelse))
                }
                "for" => {
                    self.advance();
                    let target = self.target_list()?;
                    if !self.eat_kw("in") {
                        return Err(self.unexpected());
                    }
                    let iter = self.expr_list()?;
                    let body = self.block()?;
                    let orelse = self.else_block()?;
                    Some(StmtKind::For(target, iter, body, orelse))
                }
                "def" => {
                    self.advance();
                    let name = self.name()?;
                    self.expect_op("(")?;
                    let params = self.params(")")?;
                    self.expect_op(")")?;
                    if self.eat_op("->") {
                        self.expr()?;
                    }
                    let body = self.block()?;
                    let def = FuncDef {
                        name: name.clone(),
                        params,
                        body,
                        slots: 0,
                        frees: Vec::new(),
                        line,
                        source: None,
                    };
                    Some(StmtKind::Def(
                        Name {
                            id: name,
                            var: Var::Unresolved,
                        },
                        Arc::new(def),
                    ))
                }
                _ => None,
            };
            if let Some(kind) = kind {
                out.push(Stmt { line, kind });
                return Ok(());
            }
        }
        if self.is_op("@") {
            return Err(Exc::new(
                "NotSupported",
                "decorators are not supported in okdb scripts",
                line,
                self.toks[self.pos].col,
            ));
        }
        // Simple statements, separated by ';', ending the line.
        loop {
            let line = self.line();
            let kind = self.simple()?;
            out.push(Stmt { line, kind });
            if self.eat_op(";") {
                if matches!(self.tok(), Tok::Newline | Tok::Eof) {
                    break;
                }
                continue;
            }
            break;
        }
        if !self.eat(&Tok::Newline) && !self.at_eof() {
            return Err(self.unexpected());
        }
        Ok(())
    }

    fn if_stmt(&mut self) -> Result<StmtKind> {
        self.advance();
        let mut arms = Vec::new();
        let cond = self.expr()?;
        let body = self.block()?;
        arms.push((cond, body));
        let mut orelse = Vec::new();
        loop {
            if self.eat_kw("elif") {
                let cond = self.expr()?;
                let body = self.block()?;
                arms.push((cond, body));
            } else if self.eat_kw("else") {
                self.expect_op(":")?;
                orelse = self.suite()?;
                break;
            } else {
                break;
            }
        }
        Ok(StmtKind::If(arms, orelse))
    }

    fn else_block(&mut self) -> Result<Vec<Stmt>> {
        if self.eat_kw("else") {
            self.expect_op(":")?;
            self.suite()
        } else {
            Ok(Vec::new())
        }
    }

    fn block(&mut self) -> Result<Vec<Stmt>> {
        self.expect_op(":")?;
        self.suite()
    }

    /// After a ':': statements on the same line, or an indented block.
    fn suite(&mut self) -> Result<Vec<Stmt>> {
        self.enter()?;
        let mut body = Vec::new();
        if self.eat(&Tok::Newline) {
            if !self.eat(&Tok::Indent) {
                let t = &self.toks[self.pos];
                return Err(Exc::new(
                    "IndentationError",
                    "expected an indented block",
                    t.line,
                    t.col,
                ));
            }
            while !self.eat(&Tok::Dedent) {
                if self.at_eof() {
                    break;
                }
                if self.eat(&Tok::Newline) {
                    continue;
                }
                self.statement(&mut body)?;
            }
        } else {
            // `if x: a; b` — simple statements on the line.
            self.statement(&mut body)?;
        }
        self.leave();
        Ok(body)
    }

    fn simple(&mut self) -> Result<StmtKind> {
        if let Tok::Name(n) = self.tok() {
            match n.as_str() {
                "pass" => {
                    self.advance();
                    return Ok(StmtKind::Pass);
                }
                "break" => {
                    self.advance();
                    return Ok(StmtKind::Break);
                }
                "continue" => {
                    self.advance();
                    return Ok(StmtKind::Continue);
                }
                "return" => {
                    self.advance();
                    if matches!(self.tok(), Tok::Newline | Tok::Eof) || self.is_op(";") {
                        return Ok(StmtKind::Return(None));
                    }
                    return Ok(StmtKind::Return(Some(self.expr_list()?)));
                }
                "del" => {
                    self.advance();
                    let mut targets = Vec::new();
                    loop {
                        let e = self.expr()?;
                        targets.push(self.to_target(e)?);
                        if !self.eat_op(",") {
                            break;
                        }
                    }
                    return Ok(StmtKind::Del(targets));
                }
                "assert" => {
                    self.advance();
                    let cond = self.expr()?;
                    let msg = if self.eat_op(",") {
                        Some(self.expr()?)
                    } else {
                        None
                    };
                    return Ok(StmtKind::Assert(cond, msg));
                }
                _ => {}
            }
        }
        let first = self.expr_list()?;
        if let Tok::Op(op) = self.tok() {
            let aug = match *op {
                "+=" => Some(BinOp::Add),
                "-=" => Some(BinOp::Sub),
                "*=" => Some(BinOp::Mul),
                "/=" => Some(BinOp::Div),
                "//=" => Some(BinOp::FloorDiv),
                "%=" => Some(BinOp::Mod),
                "**=" => Some(BinOp::Pow),
                "&=" => Some(BinOp::BitAnd),
                "|=" => Some(BinOp::BitOr),
                "^=" => Some(BinOp::BitXor),
                "<<=" => Some(BinOp::LShift),
                ">>=" => Some(BinOp::RShift),
                _ => None,
            };
            if let Some(op) = aug {
                self.advance();
                let target = self.to_target(first)?;
                if matches!(target, Target::Tuple(_) | Target::Starred(_)) {
                    return Err(
                        self.err_here("'tuple' is an illegal expression for augmented assignment")
                    );
                }
                let value = self.expr_list()?;
                return Ok(StmtKind::AugAssign(target, op, value));
            }
            if *op == ":=" {
                return Err(Exc::new(
                    "NotSupported",
                    "assignment expressions (:=) are not supported in okdb scripts",
                    self.line(),
                    self.toks[self.pos].col,
                ));
            }
            if *op == ":" {
                return Err(Exc::new(
                    "NotSupported",
                    "annotations are not supported in okdb scripts",
                    self.line(),
                    self.toks[self.pos].col,
                ));
            }
        }
        if self.is_op("=") {
            let mut targets = vec![self.to_target(first)?];
            let mut value;
            loop {
                self.expect_op("=")?;
                value = self.expr_list()?;
                if self.is_op("=") {
                    targets.push(self.to_target(value)?);
                } else {
                    break;
                }
            }
            return Ok(StmtKind::Assign(targets, value));
        }
        Ok(StmtKind::Expr(first))
    }

    fn to_target(&self, e: Expr) -> Result<Target> {
        Ok(match e {
            Expr::Name(n) => {
                if is_keyword(&n.id) {
                    return Err(self.err_here(format!("cannot assign to {}", n.id)));
                }
                Target::Name(n)
            }
            Expr::Tuple(items) | Expr::List(items) => {
                let targets = items
                    .into_iter()
                    .map(|e| self.to_target(e))
                    .collect::<Result<Vec<_>>>()?;
                if targets
                    .iter()
                    .filter(|t| matches!(t, Target::Starred(_)))
                    .count()
                    > 1
                {
                    return Err(self.err_here("multiple starred expressions in assignment"));
                }
                Target::Tuple(targets)
            }
            Expr::Index(obj, idx) => Target::Index(*obj, *idx),
            Expr::Starred(inner) => Target::Starred(Box::new(self.to_target(*inner)?)),
            Expr::Attr(_, name) => {
                return Err(Exc::new(
                    "NotSupported",
                    format!("assigning to attributes ('.{name}') is not supported in okdb scripts"),
                    self.line(),
                    0,
                ))
            }
            Expr::Key(k) => {
                return Err(self.err_here(format!(
                    "cannot assign to ${k}: write a key with SET('{k}', value)"
                )))
            }
            _ => return Err(self.err_here("cannot assign to expression")),
        })
    }

    /// `for` targets: names and tuples of them, up to `in`.
    fn target_list(&mut self) -> Result<Target> {
        let mut items = Vec::new();
        let mut trailing = false;
        loop {
            if self.is_kw("in") {
                break;
            }
            let e = if self.eat_op("*") {
                Expr::Starred(Box::new(self.bitor()?))
            } else {
                self.bitor()?
            };
            items.push(e);
            trailing = self.eat_op(",");
            if !trailing {
                break;
            }
        }
        if items.is_empty() {
            return Err(self.unexpected());
        }
        let e = if items.len() == 1 && !trailing {
            items.pop().expect("one item")
        } else {
            Expr::Tuple(items)
        };
        self.to_target(e)
    }

    fn params(&mut self, close: &str) -> Result<Vec<Param>> {
        let mut params: Vec<Param> = Vec::new();
        while !self.is_op(close) {
            if self.is_op("*") || self.is_op("**") || self.is_op("/") {
                return Err(Exc::new(
                    "NotSupported",
                    "*args, **kwargs and positional-only markers are not supported in okdb scripts",
                    self.line(),
                    self.toks[self.pos].col,
                ));
            }
            let name = self.name()?;
            if params.iter().any(|p| p.name.id == name) {
                return Err(self.err_here(format!(
                    "duplicate argument '{name}' in function definition"
                )));
            }
            if close == ")" && self.eat_op(":") {
                self.expr()?;
            }
            let default = if self.eat_op("=") {
                Some(self.expr()?)
            } else {
                if params.last().is_some_and(|p| p.default.is_some()) {
                    return Err(self.err_here("non-default argument follows default argument"));
                }
                None
            };
            params.push(Param {
                name: Name {
                    id: name,
                    var: Var::Unresolved,
                },
                default,
            });
            if !self.eat_op(",") {
                break;
            }
        }
        Ok(params)
    }

    // ---- expressions ----

    /// Expressions separated by commas: a tuple if there is a comma.
    fn expr_list(&mut self) -> Result<Expr> {
        let first = self.star_or_expr()?;
        if !self.is_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.ends_list() {
                break;
            }
            items.push(self.star_or_expr()?);
        }
        Ok(Expr::Tuple(items))
    }

    fn ends_list(&self) -> bool {
        matches!(self.tok(), Tok::Newline | Tok::Eof)
            || ["=", ")", "]", "}", ";", ":"].iter().any(|o| self.is_op(o))
            || matches!(self.tok(), Tok::Op(o) if o.ends_with('=') && o.len() >= 2 && *o != "==" && *o != "!=" && *o != "<=" && *o != ">=")
    }

    fn star_or_expr(&mut self) -> Result<Expr> {
        if self.eat_op("*") {
            return Ok(Expr::Starred(Box::new(self.bitor()?)));
        }
        self.expr()
    }

    pub(crate) fn expr(&mut self) -> Result<Expr> {
        self.enter()?;
        let e = stacker::maybe_grow(
            crate::interp::STACK_RED_ZONE,
            crate::interp::STACK_SEGMENT,
            || self.expr_inner(),
        );
        self.leave();
        e
    }

    fn expr_inner(&mut self) -> Result<Expr> {
        if self.is_kw("lambda") {
            return self.lambda();
        }
        let cond = self.or_test()?;
        if self.eat_kw("if") {
            let test = self.or_test()?;
            if !self.eat_kw("else") {
                return Err(self.err_here("expected 'else' after 'if' expression"));
            }
            let orelse = self.expr()?;
            return Ok(Expr::IfExp(Box::new([test, cond, orelse])));
        }
        Ok(cond)
    }

    /// An expression with no unparenthesised conditional (a comprehension's `if` operand).
    fn or_test_expr(&mut self) -> Result<Expr> {
        self.enter()?;
        let e = if self.is_kw("lambda") {
            self.lambda()
        } else {
            self.or_test()
        };
        self.leave();
        e
    }

    fn lambda(&mut self) -> Result<Expr> {
        let start = &self.toks[self.pos];
        let (line, start_line, start_col) = (start.line, start.line, start.col);
        self.advance();
        let params = self.params(":")?;
        self.expect_op(":")?;
        let body = self.expr()?;
        let source = self.text_between(start_line, start_col);
        let def = FuncDef {
            name: "<lambda>".into(),
            params,
            body: vec![Stmt {
                line,
                kind: StmtKind::Return(Some(body)),
            }],
            slots: 0,
            frees: Vec::new(),
            line,
            source,
        };
        Ok(Expr::Lambda(Arc::new(def)))
    }

    /// The source from a token's position up to the current token (a lambda's text).
    fn text_between(&self, line: u32, col: u32) -> Option<String> {
        let offset = |line: u32, col: u32| -> Option<usize> {
            let start = *self.line_starts.get(line as usize - 1)?;
            let rest = &self.src[start..];
            let skip: usize = rest
                .chars()
                .take(col.saturating_sub(1) as usize)
                .map(char::len_utf8)
                .sum();
            Some(start + skip)
        };
        let from = offset(line, col)?;
        let end_tok = &self.toks[self.pos];
        let to = if matches!(end_tok.tok, Tok::Eof) {
            self.src.len()
        } else {
            offset(end_tok.line, end_tok.col)?
        };
        self.src.get(from..to.max(from)).map(|s| {
            s.trim_end()
                .trim_end_matches([',', ';', ')'])
                .trim_end()
                .to_string()
        })
    }

    fn or_test(&mut self) -> Result<Expr> {
        let first = self.and_test()?;
        if !self.is_kw("or") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_kw("or") {
            items.push(self.and_test()?);
        }
        Ok(Expr::BoolOp(false, items))
    }

    fn and_test(&mut self) -> Result<Expr> {
        let first = self.not_test()?;
        if !self.is_kw("and") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_kw("and") {
            items.push(self.not_test()?);
        }
        Ok(Expr::BoolOp(true, items))
    }

    fn not_test(&mut self) -> Result<Expr> {
        if self.eat_kw("not") {
            self.enter()?;
            let e = self.not_test();
            self.leave();
            return Ok(Expr::Unary(UnOp::Not, Box::new(e?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr> {
        let first = self.bitor()?;
        let mut rest = Vec::new();
        loop {
            let op = match self.tok() {
                Tok::Op("==") => CmpOp::Eq,
                Tok::Op("!=") => CmpOp::Ne,
                Tok::Op("<") => CmpOp::Lt,
                Tok::Op("<=") => CmpOp::Le,
                Tok::Op(">") => CmpOp::Gt,
                Tok::Op(">=") => CmpOp::Ge,
                Tok::Name(n) if n == "in" => CmpOp::In,
                Tok::Name(n) if n == "is" => {
                    self.advance();
                    let op = if self.eat_kw("not") {
                        CmpOp::IsNot
                    } else {
                        CmpOp::Is
                    };
                    rest.push((op, self.bitor()?));
                    continue;
                }
                Tok::Name(n) if n == "not" => {
                    let next = self.toks.get(self.pos + 1).map(|t| &t.tok);
                    if matches!(next, Some(Tok::Name(n)) if n == "in") {
                        self.advance();
                        self.advance();
                        rest.push((CmpOp::NotIn, self.bitor()?));
                        continue;
                    }
                    break;
                }
                _ => break,
            };
            self.advance();
            rest.push((op, self.bitor()?));
        }
        if rest.is_empty() {
            Ok(first)
        } else {
            Ok(Expr::Compare(Box::new(first), rest))
        }
    }

    fn binary(
        &mut self,
        ops: &[(&str, BinOp)],
        next: fn(&mut Self) -> Result<Expr>,
    ) -> Result<Expr> {
        let mut left = next(self)?;
        let mut chain = 0;
        loop {
            let Some(op) = ops.iter().find(|(s, _)| self.is_op(s)).map(|(_, op)| *op) else {
                return Ok(left);
            };
            chain += 1;
            if chain > MAX_CHAIN {
                return Err(self.err_here(format!(
                    "expression too long (more than {MAX_CHAIN} operators in a row)"
                )));
            }
            self.advance();
            let right = next(self)?;
            left = Expr::Bin(op, Box::new(left), Box::new(right));
        }
    }

    fn bitor(&mut self) -> Result<Expr> {
        self.binary(&[("|", BinOp::BitOr)], Self::bitxor)
    }

    fn bitxor(&mut self) -> Result<Expr> {
        self.binary(&[("^", BinOp::BitXor)], Self::bitand)
    }

    fn bitand(&mut self) -> Result<Expr> {
        self.binary(&[("&", BinOp::BitAnd)], Self::shift)
    }

    fn shift(&mut self) -> Result<Expr> {
        self.binary(&[("<<", BinOp::LShift), (">>", BinOp::RShift)], Self::arith)
    }

    fn arith(&mut self) -> Result<Expr> {
        self.binary(&[("+", BinOp::Add), ("-", BinOp::Sub)], Self::term)
    }

    fn term(&mut self) -> Result<Expr> {
        self.binary(
            &[
                ("*", BinOp::Mul),
                ("/", BinOp::Div),
                ("//", BinOp::FloorDiv),
                ("%", BinOp::Mod),
                ("@", BinOp::MatMul),
            ],
            Self::factor,
        )
    }

    fn factor(&mut self) -> Result<Expr> {
        let op = match self.tok() {
            Tok::Op("-") => Some(UnOp::Neg),
            Tok::Op("+") => Some(UnOp::Pos),
            Tok::Op("~") => Some(UnOp::Invert),
            _ => None,
        };
        if let Some(op) = op {
            self.advance();
            self.enter()?;
            let e = self.factor();
            self.leave();
            let e = e?;
            // Fold a negative literal, so `-9223372036854775808` is an int.
            if op == UnOp::Neg {
                if let Expr::Const(Value::Float(f)) = &e {
                    return Ok(Expr::Const(Value::Float(-f)));
                }
                if let Expr::Const(Value::Int(i)) = &e {
                    return Ok(Expr::Const(Value::Int(-i)));
                }
            }
            return Ok(Expr::Unary(op, Box::new(e)));
        }
        self.power()
    }

    fn power(&mut self) -> Result<Expr> {
        let base = self.primary()?;
        if self.eat_op("**") {
            self.enter()?;
            let exp = self.factor();
            self.leave();
            return Ok(Expr::Bin(BinOp::Pow, Box::new(base), Box::new(exp?)));
        }
        Ok(base)
    }

    fn primary(&mut self) -> Result<Expr> {
        let mut e = self.atom()?;
        let mut chain = 0;
        loop {
            chain += 1;
            if chain > MAX_CHAIN {
                return Err(self.err_here(format!(
                    "expression too long (more than {MAX_CHAIN} calls, indexes or attributes in a row)"
                )));
            }
            if self.eat_op("(") {
                let (args, kwargs) = self.call_args()?;
                e = Expr::Call {
                    func: Box::new(e),
                    args,
                    kwargs,
                };
            } else if self.eat_op("[") {
                let idx = self.subscript()?;
                self.expect_op("]")?;
                e = Expr::Index(Box::new(e), Box::new(idx));
            } else if self.eat_op(".") {
                let name = match self.tok() {
                    Tok::Name(n) => n.clone(),
                    _ => return Err(self.unexpected()),
                };
                if name.starts_with("__") {
                    return Err(self.refuse(format!(
                        "attribute access to internals ('.{name}') is not supported in okdb scripts"
                    )));
                }
                self.advance();
                e = Expr::Attr(Box::new(e), name);
            } else {
                return Ok(e);
            }
        }
    }

    fn refuse(&self, msg: String) -> Exc {
        let t = &self.toks[self.pos];
        Exc::new("NotSupported", msg, t.line, t.col)
    }

    fn call_args(&mut self) -> Result<(Vec<Expr>, Vec<KwArg>)> {
        let mut args = Vec::new();
        let mut kwargs: Vec<(SmolStr, Expr)> = Vec::new();
        while !self.is_op(")") {
            if self.eat_op("**") {
                return Err(
                    self.refuse("**kwargs in calls is not supported in okdb scripts".into())
                );
            }
            if self.eat_op("*") {
                args.push(Expr::Starred(Box::new(self.expr()?)));
            } else if let (Tok::Name(n), Some(Tok::Op("="))) =
                (self.tok(), self.toks.get(self.pos + 1).map(|t| &t.tok))
            {
                let n = n.clone();
                self.advance();
                self.advance();
                if kwargs.iter().any(|(k, _)| *k == n) {
                    return Err(self.err_here(format!("keyword argument repeated: {n}")));
                }
                kwargs.push((n, self.expr()?));
            } else {
                let e = self.expr()?;
                if !kwargs.is_empty() {
                    return Err(self.err_here("positional argument follows keyword argument"));
                }
                // f(x for x in xs): a generator as the only argument.
                if self.is_kw("for") {
                    let comp = self.comp_tail(CompKind::Gen, e, None)?;
                    args.push(comp);
                } else {
                    args.push(e);
                }
            }
            if !self.eat_op(",") {
                break;
            }
        }
        self.expect_op(")")?;
        Ok((args, kwargs))
    }

    fn subscript(&mut self) -> Result<Expr> {
        let first = self.slice_item()?;
        if self.is_op(",") {
            let mut items = vec![first];
            while self.eat_op(",") {
                if self.is_op("]") {
                    break;
                }
                items.push(self.slice_item()?);
            }
            return Ok(Expr::Tuple(items));
        }
        Ok(first)
    }

    fn slice_item(&mut self) -> Result<Expr> {
        let start = if self.is_op(":") {
            None
        } else {
            Some(self.expr()?)
        };
        if !self.eat_op(":") {
            return start.ok_or_else(|| self.unexpected());
        }
        let bound = |p: &mut Self| -> Result<Option<Expr>> {
            if p.is_op(":") || p.is_op("]") || p.is_op(",") {
                Ok(None)
            } else {
                Ok(Some(p.expr()?))
            }
        };
        let stop = bound(self)?;
        let step = if self.eat_op(":") { bound(self)? } else { None };
        Ok(Expr::Slice(Box::new([start, stop, step])))
    }

    fn atom(&mut self) -> Result<Expr> {
        let t = self.toks[self.pos].clone();
        match t.tok {
            Tok::Int(i) => {
                self.advance();
                Ok(Expr::Const(Value::Int(i)))
            }
            Tok::Float(f) => {
                self.advance();
                Ok(Expr::Const(Value::Float(f)))
            }
            Tok::Str(s) => {
                self.advance();
                Ok(Expr::Const(Value::str(&s)))
            }
            Tok::Bytes(b) => {
                self.advance();
                Ok(Expr::Const(Value::Bytes(b.into())))
            }
            Tok::FStr { text, raw } => {
                self.advance();
                let mut parts = crate::fstring::parse(&text, raw, t.line)?;
                // Adjacent f-strings and strings join.
                while let Tok::FStr { text, raw } = self.tok().clone() {
                    self.advance();
                    parts.extend(crate::fstring::parse(&text, raw, t.line)?);
                }
                while let Tok::Str(s) = self.tok().clone() {
                    self.advance();
                    parts.push(FPart::Lit(s));
                }
                Ok(Expr::FStr(parts))
            }
            Tok::Key(k) => {
                self.advance();
                Ok(Expr::Key(k))
            }
            Tok::Name(n) => {
                let e = match n.as_str() {
                    "None" => Expr::Const(Value::Null),
                    "True" => Expr::Const(Value::Bool(true)),
                    "False" => Expr::Const(Value::Bool(false)),
                    _ if REFUSED.iter().any(|(k, _)| *k == n) => {
                        return Err(self.refuse(format!("'{n}' is not supported in okdb scripts")))
                    }
                    _ if is_keyword(&n) => return Err(self.unexpected()),
                    _ => Expr::Name(Name {
                        id: n,
                        var: Var::Unresolved,
                    }),
                };
                self.advance();
                Ok(e)
            }
            Tok::Op("(") => {
                self.advance();
                self.enter()?;
                let e = self.paren();
                self.leave();
                e
            }
            Tok::Op("[") => {
                self.advance();
                self.enter()?;
                let e = self.list_display();
                self.leave();
                e
            }
            Tok::Op("{") => {
                self.advance();
                self.enter()?;
                let e = self.brace_display();
                self.leave();
                e
            }
            Tok::Op("...") => Err(self.refuse("Ellipsis is not supported in okdb scripts".into())),
            _ => Err(self.unexpected()),
        }
    }

    fn paren(&mut self) -> Result<Expr> {
        if self.eat_op(")") {
            return Ok(Expr::Tuple(Vec::new()));
        }
        let first = self.star_or_expr()?;
        if self.is_kw("for") {
            let comp = self.comp_tail(CompKind::Gen, first, None)?;
            self.expect_op(")")?;
            return Ok(comp);
        }
        if self.eat_op(")") {
            if matches!(first, Expr::Starred(_)) {
                return Err(self.err_here("cannot use starred expression here"));
            }
            return Ok(first);
        }
        Ok(Expr::Tuple(self.rest_of_display(first, ")")?))
    }

    /// The items after the first of a tuple, list or set display, through its closing bracket.
    fn rest_of_display(&mut self, first: Expr, close: &str) -> Result<Vec<Expr>> {
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.is_op(close) {
                break;
            }
            items.push(self.star_or_expr()?);
        }
        self.expect_op(close)?;
        Ok(items)
    }

    fn list_display(&mut self) -> Result<Expr> {
        if self.eat_op("]") {
            return Ok(Expr::List(Vec::new()));
        }
        let first = self.star_or_expr()?;
        if self.is_kw("for") {
            let comp = self.comp_tail(CompKind::List, first, None)?;
            self.expect_op("]")?;
            return Ok(comp);
        }
        Ok(Expr::List(self.rest_of_display(first, "]")?))
    }

    fn brace_display(&mut self) -> Result<Expr> {
        if self.eat_op("}") {
            return Ok(Expr::Dict(Vec::new()));
        }
        if self.is_op("**") {
            return Err(
                self.refuse("**mapping in dict displays is not supported in okdb scripts".into())
            );
        }
        let first = self.star_or_expr()?;
        if self.eat_op(":") {
            let value = self.expr()?;
            if self.is_kw("for") {
                let comp = self.comp_tail(CompKind::Dict, first, Some(value))?;
                self.expect_op("}")?;
                return Ok(comp);
            }
            let mut pairs = vec![(first, value)];
            while self.eat_op(",") {
                if self.is_op("}") {
                    break;
                }
                let k = self.expr()?;
                self.expect_op(":")?;
                let v = self.expr()?;
                pairs.push((k, v));
            }
            self.expect_op("}")?;
            return Ok(Expr::Dict(pairs));
        }
        if self.is_kw("for") {
            let comp = self.comp_tail(CompKind::Set, first, None)?;
            self.expect_op("}")?;
            return Ok(comp);
        }
        Ok(Expr::Set(self.rest_of_display(first, "}")?))
    }

    fn comp_tail(&mut self, kind: CompKind, elt: Expr, value: Option<Expr>) -> Result<Expr> {
        let mut gens = Vec::new();
        while self.eat_kw("for") {
            let target = self.target_list()?;
            if !self.eat_kw("in") {
                return Err(self.unexpected());
            }
            let iter = self.or_test_expr()?;
            let mut ifs = Vec::new();
            while self.eat_kw("if") {
                ifs.push(self.or_test_expr()?);
            }
            gens.push(Generator { target, iter, ifs });
        }
        Ok(Expr::Comp(Box::new(Comp {
            kind,
            elt,
            value,
            gens,
            plan: None,
        })))
    }
}

fn line_starts(src: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(src.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

pub fn is_keyword(n: &str) -> bool {
    matches!(
        n,
        "False"
            | "None"
            | "True"
            | "and"
            | "as"
            | "assert"
            | "async"
            | "await"
            | "break"
            | "class"
            | "continue"
            | "def"
            | "del"
            | "elif"
            | "else"
            | "except"
            | "finally"
            | "for"
            | "from"
            | "global"
            | "if"
            | "import"
            | "in"
            | "is"
            | "lambda"
            | "nonlocal"
            | "not"
            | "or"
            | "pass"
            | "raise"
            | "return"
            | "try"
            | "while"
            | "with"
            | "yield"
    )
}
