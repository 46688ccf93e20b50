//! The syntax tree. Names are resolved to frame slots after parsing (crate::resolve).

use std::sync::Arc;

use okdb_value::Value;
use smol_str::SmolStr;

use crate::builtins::Builtin;

/// Where a name lives, decided once by the resolver.
#[derive(Debug, Clone, PartialEq)]
pub enum Var {
    /// Not resolved yet (only between parsing and resolving).
    Unresolved,
    /// A slot of the running function's frame (it may hold a cell if an inner function
    /// captured it).
    Local(u32),
    /// A variable of an enclosing function, captured by this one.
    Free(u32),
    /// A builtin function.
    Builtin(Builtin),
    /// Neither bound nor a builtin: a command of the host (`GET`, `SET`), or a `NameError`.
    Global,
}

#[derive(Debug, Clone)]
pub struct Name {
    pub id: SmolStr,
    pub var: Var,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    BitAnd,
    BitOr,
    BitXor,
    LShift,
    RShift,
    MatMul,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Mod => "%",
            BinOp::Pow => "** or pow()",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::LShift => "<<",
            BinOp::RShift => ">>",
            BinOp::MatMul => "@",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Pos,
    Not,
    Invert,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Is,
    IsNot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompKind {
    List,
    Set,
    Dict,
    Gen,
}

#[derive(Debug, Clone)]
pub struct Generator {
    pub target: Target,
    pub iter: Expr,
    pub ifs: Vec<Expr>,
}

#[derive(Debug, Clone)]
pub struct Comp {
    pub kind: CompKind,
    pub elt: Expr,
    /// The value of a dict comprehension.
    pub value: Option<Expr>,
    pub gens: Vec<Generator>,
    /// A scan the planner recognised (crate::plan), run natively over the stored value.
    pub plan: Option<Box<crate::plan::Scan>>,
}

#[derive(Debug, Clone)]
pub enum FPart {
    Lit(String),
    Field {
        expr: Expr,
        conv: Option<char>,
        spec: Vec<FPart>,
    },
}

#[derive(Debug, Clone)]
pub enum Expr {
    Const(Value),
    Name(Name),
    /// `$name`: the value of the key.
    Key(SmolStr),
    List(Vec<Expr>),
    Tuple(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    Set(Vec<Expr>),
    Unary(UnOp, Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// `and` (true) or `or` (false) over two or more operands.
    BoolOp(bool, Vec<Expr>),
    Compare(Box<Expr>, Vec<(CmpOp, Expr)>),
    IfExp(Box<[Expr; 3]>),
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
        kwargs: Vec<(SmolStr, Expr)>,
    },
    Attr(Box<Expr>, SmolStr),
    Index(Box<Expr>, Box<Expr>),
    /// Only inside `Index`: `a:b:c`.
    Slice(Box<[Option<Expr>; 3]>),
    Lambda(Arc<FuncDef>),
    Comp(Box<Comp>),
    FStr(Vec<FPart>),
    /// `*xs` in a call or a list/tuple display.
    Starred(Box<Expr>),
}

#[derive(Debug, Clone)]
pub enum Target {
    Name(Name),
    Tuple(Vec<Target>),
    Index(Expr, Expr),
    Starred(Box<Target>),
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: Name,
    pub default: Option<Expr>,
}

#[derive(Debug)]
pub struct FuncDef {
    pub name: SmolStr,
    pub params: Vec<Param>,
    pub body: Vec<Stmt>,
    /// Slots in a frame of this function (parameters first).
    pub slots: u32,
    /// Where each captured variable comes from in the function that creates this one.
    pub frees: Vec<Capture>,
    pub line: u32,
    /// The source text of a lambda (what storing it keeps).
    pub source: Option<String>,
}

/// A captured variable: a slot of the creating function's frame, or one of its own captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    Slot(u32),
    Free(u32),
}

#[derive(Debug, Clone)]
pub struct Stmt {
    pub line: u32,
    pub kind: StmtKind,
}

#[derive(Debug, Clone)]
pub enum StmtKind {
    Expr(Expr),
    Assign(Vec<Target>, Expr),
    AugAssign(Target, BinOp, Expr),
    If(Vec<(Expr, Vec<Stmt>)>, Vec<Stmt>),
    While(Expr, Vec<Stmt>, Vec<Stmt>),
    For(Target, Expr, Vec<Stmt>, Vec<Stmt>),
    Break,
    Continue,
    Return(Option<Expr>),
    Pass,
    Def(Name, Arc<FuncDef>),
    Del(Vec<Target>),
    Assert(Expr, Option<Expr>),
}
