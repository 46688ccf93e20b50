"""Random programs in okdb's server-side language (a safe Python subset), for run.py.

`generate(rng)` answers the text of one program. Every program is deterministic, quick (each
loop is bounded by a small literal, recursion by a small literal argument), does no I/O, and
ends with an expression statement: its value is the program's result.

The generator knows the kind of every variable it made (int, float, str, list of ints, dict
of str to int, ...), so most programs are well typed and succeed. About one in five raises:
from values (a zero divisor, an index past the end, a missing key, `min` of an empty list) and
from a few deliberately wrong statements (`"a" + 1`, an undefined name, a bad unpacking).

What the comparison with CPython needs, and the generator keeps to:
- results never depend on set iteration order: a set is only iterated into another set, an
  order-free reduction (`sum`, `min`, `max`, `any`, `all`, `len`) or `sorted(...)`; set
  elements are ints, and what is computed from them there cannot raise;
- a float is never turned into text except through a format spec (`f"{x:.2f}"`);
- floats are never summed (CPython 3.12 made `sum` of floats compensated: the expected result
  would depend on the CPython version);
- ints stay small: literals are small, loops short, exponents at most 5;
- no loop changes a value of the kind it walks, and no function a loop may call changes a
  container it did not make, so nothing grows while it is walked.
"""

import random
from contextlib import contextmanager

INT, FLOAT, BOOL, STR, OPT = "int", "float", "bool", "str", "opt"  # opt: an int or None
ILIST, SLIST, TUPLE = "ilist", "slist", "tuple"  # list of ints, list of strs, tuple of ints
DICT, IDICT, SET = "dict", "idict", "set"  # str -> int, int -> str, set of ints

SCALARS = (INT, FLOAT, BOOL, STR, OPT)
CONTAINERS = (ILIST, SLIST, DICT, IDICT, SET)  # mutable, so aliasing shows
KINDS = SCALARS + CONTAINERS + (TUPLE,)
# Kinds whose values may be shown as text (str(), f-strings): no floats, no sets.
TEXTUAL = (INT, BOOL, STR, OPT, ILIST, SLIST, TUPLE, DICT, IDICT)
SIZED = (STR, ILIST, SLIST, TUPLE, DICT, IDICT, SET)

PREFIXES = {
    INT: ("n", "k", "total", "count", "m"),
    FLOAT: ("x", "y", "ratio", "avg"),
    BOOL: ("ok", "flag", "done"),
    STR: ("s", "word", "text", "label"),
    OPT: ("found", "maybe"),
    ILIST: ("nums", "xs", "items", "vals"),
    SLIST: ("words", "names", "parts"),
    TUPLE: ("pair", "t", "point"),
    DICT: ("d", "counts", "scores"),
    IDICT: ("by_len", "labels"),
    SET: ("seen", "uniq", "ids"),
}
FUNC_PREFIXES = ("f", "g", "h", "calc", "step", "combine")
LOOP_VARS = ("i", "j", "v", "item", "num", "idx")
COMP_VARS = ("x", "y", "v", "e", "a", "b", "c", "q")
UNDEFINED = ("missing", "totl", "undefined_value", "resutl")

WORDS = ("apple", "Banana", "kiwi", "fig", "cherry", "hello world", " pad ", "a,b,c", "x,,y",
         "123", "42", "007", "-5", "x1", "", "AbC", "café", "mississippi", "a b  c")
SHORT = ("a", "b", "an", "is", "s", "p", ",", " ", "", "x", "AB", "1")
KEYS = ("a", "b", "c", "x", "apple", "kiwi", "zz")
FLOATS = ("0.5", "1.5", "2.5", "0.25", "0.125", "-3.0", "3.75", "10.0", "0.1", "-0.5",
          "1e3", "2.675", "-1.25", "7.0")
DIVISORS = ("2", "3", "4", "5", "7", "10", "-2", "-3", "-4")
INT_SPECS = (">5", "<4", "^7", "03d", "5d", "+d", ".2f")
STR_SPECS = (">8", "<6", "^9")
FLOAT_SPECS = (".2f", ".1f", ".3f", "8.2f", ".0f")

MAX_LINES = 24


class Line:
    def __init__(self, indent, text, simple):
        self.indent, self.text, self.simple = indent, text, simple


class Func:
    """A function value the program can call: its name, how many int arguments it takes
    (`lo` required, up to `hi`), and what kind it answers."""

    def __init__(self, name, lo, hi, ret):
        self.name, self.lo, self.hi, self.ret = name, lo, hi, ret


class Gen:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.env: dict[str, str] = {}  # visible variable -> kind
        self.assignable: set[str] = set()  # names this scope may assign (not a global in a def)
        self.funcs: dict[str, Func] = {}
        self.used: set[str] = set()
        self.lines: list[Line] = []
        self.indent = 0
        self.loop_depth = 0  # > 0: inside a for/while body
        self.in_def = False
        # Expressions that cannot raise: in comprehensions over sets, where which element
        # raises first (or, in any() and all(), whether one does) would depend on the order.
        self.safe = False
        self.pure = False  # expressions that change nothing (lambda and comprehension bodies)
        self.frozen: set[str] = set()  # containers not to be changed here
        self.loop_vars: set[str] = set()
        self.quote = '"'  # "'" inside f-string fields (Python 3.11 cannot nest the same quote)
        self.in_fstring = False

    # ----- helpers ------------------------------------------------------------------------

    def pick(self, options):
        """Calls one of the (weight, make) options, by weight. A make answering nothing (None,
        False, "") does not apply here, and another option is tried."""
        options = [(w, m) for w, m in options if w > 0]
        while options:
            roll = self.rng.uniform(0, sum(w for w, _ in options))
            for idx, (w, make) in enumerate(options):
                roll -= w
                if roll <= 0:
                    break
            out = make()
            if out:
                return out
            del options[idx]
        raise RuntimeError("no option applies")

    def chance(self, p):
        return self.rng.random() < p

    def var(self, kind):
        names = [n for n, k in self.env.items() if k == kind]
        return self.rng.choice(names) if names else None

    def fresh(self, prefixes):
        for _ in range(8):
            base = self.rng.choice(prefixes)
            if base not in self.used and base not in self.env:
                break
        name, n = base, 2
        while name in self.used or name in self.env:
            name, n = f"{base}{n}", n + 1
        self.used.add(name)
        return name

    def comp_var(self, avoid=None):
        """A name for a comprehension or lambda variable, preferably not a visible one."""
        free = [v for v in COMP_VARS if v not in self.env and v != avoid]
        if free:
            return self.rng.choice(free)
        n = 2
        while f"x{n}" in self.env:
            n += 1
        return f"x{n}"

    def effects_ok(self):
        """Whether an expression may change a container (`xs.pop()`): not where it could run
        while a loop walks that container."""
        return not (self.pure or self.loop_depth or self.in_def)

    def define(self, name, kind):
        self.env[name] = kind
        self.assignable.add(name)

    def emit(self, text, simple=True):
        self.lines.append(Line(self.indent, text, simple))

    def room(self, lines=1):
        return len(self.lines) + lines <= MAX_LINES

    @contextmanager
    def scope(self):
        """Names made inside a block are forgotten after it (it may not have run)."""
        saved = dict(self.env), set(self.assignable), dict(self.funcs)
        yield
        self.env, self.assignable, self.funcs = saved

    @contextmanager
    def body(self, header):
        self.emit(header + ":", simple=False)
        self.indent += 1
        start = len(self.lines)
        with self.scope():
            yield
        if len(self.lines) == start:  # never an empty block
            self.emit(self.int_aug_fallback())
        self.indent -= 1

    @contextmanager
    def binding(self, name, kind):
        """A comprehension or lambda variable, visible (and shadowing) only inside."""
        saved, saved_pure = self.env.get(name), self.pure
        self.env[name] = kind
        self.pure = True
        yield
        self.pure = saved_pure
        if saved is None:
            del self.env[name]
        else:
            self.env[name] = saved

    @contextmanager
    def flag(self, attr, value):
        saved = getattr(self, attr)
        setattr(self, attr, value)
        yield
        setattr(self, attr, saved)

    def int_aug_fallback(self):
        name = self.fresh(PREFIXES[INT])
        self.define(name, INT)
        return f"{name} = {self.int_lit()}"

    # ----- literals -----------------------------------------------------------------------

    def int_lit(self):
        r = self.rng
        return str(r.choice((r.randint(-5, 12), r.randint(0, 30), r.choice((100, 255, 1000, -17)))))

    def float_lit(self):
        return self.rng.choice(FLOATS)

    def str_lit(self, pool=WORDS):
        q = self.quote
        return f"{q}{self.rng.choice(pool)}{q}"

    def key_lit(self):
        return f"{self.quote}{self.rng.choice(KEYS)}{self.quote}"

    def ilist_lit(self, lo=0, hi=6):
        return "[" + ", ".join(self.int_lit() for _ in range(self.rng.randint(lo, hi))) + "]"

    def slist_lit(self):
        n = self.rng.randint(0, 5)
        return "[" + ", ".join(self.str_lit() for _ in range(n)) + "]"

    # ----- expressions by kind ------------------------------------------------------------

    def expr(self, kind, d=2):
        return {
            INT: self.int_expr, FLOAT: self.float_expr, BOOL: self.bool_expr,
            STR: self.str_expr, OPT: self.opt_expr, ILIST: self.ilist_expr,
            SLIST: self.slist_expr, TUPLE: self.tuple_expr, DICT: self.dict_expr,
            IDICT: self.idict_expr, SET: self.set_expr,
        }[kind](d)

    def divisor(self, d):
        if self.safe or self.chance(0.8):
            return self.rng.choice(DIVISORS)
        return self.int_expr(d - 1)

    def index(self, d):
        """An index: mostly in range for a short sequence, sometimes past its end."""
        r = self.rng
        return self.pick([
            (8, lambda: str(r.choice((0, 0, 1, -1, -1, 2, -2)))),
            (1, lambda: str(r.choice((3, 5, -4, 7)))),
            (1, lambda: self.var(INT) if d > 0 else None),
        ])

    def element_lit(self, kind):
        return {ILIST: self.int_lit, TUPLE: self.int_lit, SLIST: self.str_lit}[kind]()

    def subscript(self, kind, d):
        """`seq[i]`: a variable's item (which may be missing), or a literal's (in range)."""
        r = self.rng
        v = self.var(kind)
        if v and self.chance(0.6):
            return f"{v}[{self.index(d)}]"
        if self.chance(0.1):
            return f"{self.expr(kind, d - 1)}[{self.index(d)}]"
        if kind == STR:
            word = r.choice([w for w in WORDS if w])
            return f"{self.quote}{word}{self.quote}[{r.randint(-len(word), len(word) - 1)}]"
        items = [self.element_lit(kind) for _ in range(r.randint(2, 5))]
        lit = ("(" if kind == TUPLE else "[") + ", ".join(items) + (")" if kind == TUPLE else "]")
        return f"{lit}[{r.randint(-len(items), len(items) - 1)}]"

    def nonempty(self, kind, d):
        """A list for min() or max(): a variable's (which may be empty), or a literal."""
        return self.pick([
            (3, lambda: self.var(kind)),
            (3, lambda: self.ilist_lit(1, 6) if kind == ILIST else "[" + ", ".join(self.str_lit() for _ in range(self.rng.randint(1, 4))) + "]"),
            (1, lambda: self.expr(kind, d - 1)),
        ])

    def dict_item(self, kind):
        """`d[key]`: a variable's (the key may be missing), or a literal's (present)."""
        r = self.rng
        v = self.var(kind)
        q = self.quote
        if v:
            return f"{v}[{self.key_lit() if kind == DICT else r.randint(-2, 6)}]"
        if kind == DICT:
            keys = r.sample(KEYS, r.randint(1, 4))
            return "{" + ", ".join(f"{q}{k}{q}: {self.int_lit()}" for k in keys) + f"}}[{q}{r.choice(keys)}{q}]"
        keys = r.sample(range(-2, 6), r.randint(1, 4))
        return "{" + ", ".join(f"{k}: {self.str_lit()}" for k in keys) + f"}}[{r.choice(keys)}]"

    def sized(self, d):
        kind = self.rng.choice(SIZED)
        return self.expr(kind, d)

    def int_expr(self, d=2):
        r = self.rng
        leaves = [(3, self.int_lit), (5, lambda: self.var(INT))]
        if d <= 0:
            return self.pick(leaves)
        e = lambda: self.int_expr(d - 1)  # noqa: E731
        if self.safe:
            return self.pick(leaves + [
                (4, lambda: f"({e()} {r.choice('+-')} {e()})"),
                (2, lambda: f"({e()} * {self.int_lit()})"),
                (2, lambda: f"({e()} % {self.divisor(d)})"),
                (1, lambda: f"-{self.var(INT)}" if self.var(INT) else None),
            ])
        return self.pick(leaves + [
            (6, lambda: f"({e()} {r.choice('+-')} {e()})"),
            (2, lambda: f"({e()} * {e()})"),
            (3, lambda: f"({e()} {r.choice(('//', '%'))} {self.divisor(d)})"),
            (1, lambda: f"({r.randint(-20, -1)} {r.choice(('//', '%'))} {self.divisor(d)})"),
            (2, lambda: f"{r.randint(2, 10)} ** {r.randint(0, 5)}"),
            (1, lambda: f"(-{r.randint(2, 5)}) ** {r.randint(0, 5)}"),
            (1, lambda: (v := self.var(INT)) and f"{v} ** {r.randint(0, 3)}"),
            (1, lambda: f"-{e()}"),
            (4, lambda: f"len({self.sized(d - 1)})"),
            (2, lambda: f"sum({self.ilist_expr(d - 1)})"),
            (2, lambda: f"sum({self.int_genexp(d - 1)})"),
            (1, lambda: f"sum({self.bool_genexp(d - 1)})"),
            (2, lambda: f"{r.choice(('min', 'max'))}({self.nonempty(ILIST, d)})"),
            (1, lambda: f"{r.choice(('min', 'max'))}({e()}, {e()})"),
            (1, lambda: f"{r.choice(('min', 'max'))}({self.var(SET) or self.set_lit()})"),
            (1, lambda: f"abs({e()})"),
            (3, lambda: self.subscript(ILIST, d)),
            (1, lambda: self.subscript(TUPLE, d)),
            (2, lambda: f"{self.dict_expr(d - 1)}.get({self.key_lit()}, {self.int_lit()})"),
            (1, lambda: self.dict_item(DICT)),
            (1, lambda: f"{self.str_expr(d - 1)}.find({self.str_lit(SHORT)})"),
            (1, lambda: f"{self.str_expr(d - 1)}.count({self.str_lit(SHORT)})"),
            (1, lambda: f"{self.ilist_expr(d - 1)}.count({e()})"),
            (0.5, lambda: (v := self.var(ILIST)) and f"{v}.index({e()})"),
            (1, lambda: f"int({self.str_lit(('12', '-7', '007', '42', ' 8 ', '3'))})"),
            (1, lambda: f"int({self.float_expr(d - 1)})"),
            (1, lambda: f"round({self.float_expr(d - 1)})"),
            (3, lambda: self.call(INT, d)),
            (2, lambda: f"({e()} if {self.bool_expr(d - 1)} else {e()})"),
            (1, lambda: f"({e()} {r.choice(('or', 'and'))} {e()})"),
            (1, lambda: (v := self.var(OPT)) and f"({v} if {v} is not None else {self.int_lit()})"),
            (1, lambda: (v := self.var(OPT)) and f"({v} or {self.int_lit()})"),
            (1, lambda: self.effects_ok() and (v := self.var(ILIST)) and f"{v}.pop()"),
            (1, lambda: self.effects_ok() and (v := self.var(DICT)) and f"{v}.setdefault({self.key_lit()}, {e()})"),
            (1, lambda: self.effects_ok() and (v := self.var(DICT)) and f"{v}.pop({self.key_lit()}, {self.int_lit()})"),
            (1, lambda: f"sorted({self.nonempty(ILIST, d)}{self.sort_args(INT)})[{r.choice((0, -1))}]"),
            (1, lambda: (v := self.var(BOOL)) and f"({v} + {e()})"),
        ])

    def float_expr(self, d=2):
        r = self.rng
        leaves = [(3, self.float_lit), (4, lambda: self.var(FLOAT))]
        if d <= 0:
            return self.pick(leaves)
        f = lambda: self.float_expr(d - 1)  # noqa: E731
        i = lambda: self.int_expr(d - 1)  # noqa: E731
        return self.pick(leaves + [
            (5, lambda: f"({i()} / {self.divisor(d)})"),
            (1, lambda: f"({i()} / {i()})"),
            (4, lambda: f"({f()} {r.choice('+-*')} {r.choice((f, i))()})"),
            (1, lambda: f"({f()} {r.choice(('//', '%'))} {r.choice(('2.0', '1.5', '0.5', '-2.0', '3'))})"),
            (1, lambda: f"({f()} / {f()})"),
            (2, lambda: f"float({i()})"),
            (1, lambda: f"float({self.str_lit(('2.5', '-0.5', '1e2', '3', ' 4.25 '))})"),
            (1, lambda: f"abs({f()})"),
            (1, lambda: f"-{f()}"),
            (2, lambda: f"round({f()}, {r.randint(0, 2)})"),
            (1, lambda: f"{r.choice(('min', 'max'))}({f()}, {r.choice((f, i))()})"),
            (2, lambda: (v := self.var(ILIST)) and f"sum({v}) / len({v})"),
            (1, lambda: f"({f()} if {self.bool_expr(d - 1)} else {f()})"),
            (1, lambda: f"({f()} * {r.randint(2, 4)} ** {r.randint(0, 3)})"),
            (1, lambda: self.call(FLOAT, d)),
        ])

    def compare_op(self):
        return self.rng.choice(("<", "<=", ">", ">=", "==", "!="))

    def bool_expr(self, d=2):
        r = self.rng
        if self.safe:  # a comparison of ints that cannot raise
            return f"{self.int_expr(min(d, 1))} {self.compare_op()} {self.int_expr(0)}"
        leaves = [(1, lambda: r.choice(("True", "False"))), (4, lambda: self.var(BOOL))]
        if d <= 0:
            return self.pick(leaves + [(3, lambda: f"{self.int_expr(0)} {self.compare_op()} {self.int_expr(0)}")])
        i = lambda: self.int_expr(d - 1)  # noqa: E731
        b = lambda: self.bool_expr(d - 1)  # noqa: E731
        return self.pick(leaves + [
            (6, lambda: f"{i()} {self.compare_op()} {i()}"),
            (3, lambda: f"{i()} {r.choice(('<', '<='))} {i()} {r.choice(('<', '<=', '!='))} {i()}"),
            (1, lambda: f"{self.float_expr(d - 1)} {self.compare_op()} {i()}"),
            (1, lambda: f"{self.str_expr(d - 1)} {self.compare_op()} {self.str_expr(d - 1)}"),
            (1, lambda: f"{self.ilist_expr(d - 1)} {r.choice(('<', '==', '>='))} {self.ilist_expr(d - 1)}"),
            (2, lambda: self.cross_type_eq(d)),
            (3, lambda: f"{i()} {r.choice(('in', 'not in'))} {self.pick([(3, lambda: self.ilist_expr(d - 1)), (2, lambda: self.set_expr(d - 1)), (1, lambda: self.tuple_expr(d - 1))])}"),
            (2, lambda: f"{self.str_lit(SHORT)} {r.choice(('in', 'not in'))} {self.str_expr(d - 1)}"),
            (1, lambda: f"{self.str_expr(d - 1)} in {self.slist_expr(d - 1)}"),
            (2, lambda: f"{self.key_lit()} {r.choice(('in', 'not in'))} {self.dict_expr(d - 1)}"),
            (2, lambda: f"not {b()}"),
            (3, lambda: f"({b()} {r.choice(('and', 'or'))} {b()})"),
            (3, lambda: f"{r.choice(('any', 'all'))}({self.bool_genexp(d - 1)})"),
            (2, lambda: f"{self.str_expr(d - 1)}.{r.choice(('startswith', 'endswith'))}({self.str_lit(SHORT)})"),
            (1, lambda: f"{self.str_expr(d - 1)}.isdigit()"),
            (2, lambda: self.isinstance_expr(d)),
            (1, lambda: f"{self.set_expr(d - 1)}.issubset({self.set_expr(d - 1)})"),
            (2, lambda: (v := self.var(OPT)) and f"{v} {r.choice(('is None', 'is not None'))}"),
            (1, lambda: f"bool({self.expr(r.choice(KINDS), d - 1)})"),
            (1, lambda: self.call(BOOL, d)),
        ])

    def cross_type_eq(self, d):
        r = self.rng
        a, b = r.choice([
            (lambda: self.int_expr(d - 1), lambda: self.float_expr(d - 1)),
            (lambda: self.int_expr(d - 1), lambda: self.str_expr(d - 1)),
            (lambda: self.ilist_expr(d - 1), lambda: self.tuple_expr(d - 1)),
            (lambda: self.bool_expr(d - 1), lambda: self.int_expr(d - 1)),
            (lambda: "None", lambda: self.int_expr(d - 1)),
            (lambda: self.set_expr(d - 1), lambda: self.set_expr(d - 1)),
            (lambda: self.dict_expr(d - 1), lambda: self.dict_expr(d - 1)),
            (lambda: r.choice(("1", "0", "2")), lambda: r.choice(("1.0", "True", "False", '"1"', "0.0"))),
        ])
        return f"{a()} {r.choice(('==', '!='))} {b()}"

    def isinstance_expr(self, d):
        r = self.rng
        kind = r.choice((INT, FLOAT, BOOL, STR, OPT, ILIST, TUPLE, DICT))
        types = r.choice(("int", "float", "bool", "str", "list", "tuple", "dict", "(int, float)", "(list, tuple)"))
        return f"isinstance({self.expr(kind, d - 1)}, {types})"

    def fstring(self, d):
        r = self.rng
        parts = []
        with self.flag("quote", "'"), self.flag("in_fstring", True):
            for _ in range(r.randint(1, 3)):
                kind = r.choice((INT, INT, STR, STR, FLOAT, BOOL, ILIST, OPT, SLIST))
                field = self.expr(kind, min(d, 1))
                if field.startswith("{"):
                    field = f" {field} "
                if kind == FLOAT:
                    field += ":" + r.choice(FLOAT_SPECS)
                elif kind == INT and self.chance(0.4):
                    field += ":" + r.choice(INT_SPECS)
                elif kind == STR and self.chance(0.3):
                    field += ":" + r.choice(STR_SPECS)
                elif kind != FLOAT and self.chance(0.25):
                    field += "!r"
                sep = r.choice(("", " ", " and ", ": ", "|", "=", ", "))
                parts.append(sep + "{" + field + "}")
        return 'f"' + "".join(parts) + r.choice(("", ".", "!")) + '"'

    def str_expr(self, d=2):
        r = self.rng
        leaves = [(3, self.str_lit), (5, lambda: self.var(STR))]
        if d <= 0:
            return self.pick(leaves)
        s = lambda: self.str_expr(d - 1)  # noqa: E731
        return self.pick(leaves + [
            (3, lambda: f"{s()}.{r.choice(('upper', 'lower', 'strip'))}()"),
            (2, lambda: f"{s()}.replace({self.str_lit(SHORT)}, {self.str_lit(SHORT)})"),
            (3, lambda: f"({s()} + {s()})"),
            (1, lambda: f"({s()} * {r.randint(0, 3)})"),
            (2, lambda: self.subscript(STR, d)),
            (3, lambda: f"{s()}[{self.slice()}]"),
            (2, lambda: f"{self.str_lit(('', ', ', '-', ' ', '|'))}.join({self.slist_expr(d - 1)})"),
            (2, lambda: self.join_ints(d)),
            (1, lambda: f"{self.quote}{self.quote}.join({r.choice(('sorted', 'reversed'))}({s()}))"),
            (3, lambda: None if self.in_fstring else self.fstring(d)),
            (2, lambda: f"str({self.expr(r.choice(TEXTUAL), d - 1)})"),
            (1, lambda: f"({s()} if {self.bool_expr(d - 1)} else {s()})"),
            (1, lambda: f"{r.choice(('min', 'max'))}({self.nonempty(SLIST, d)})"),
            (1, lambda: f"max({self.slist_expr(d - 1)}, key=len)"),
            (2, lambda: self.subscript(SLIST, d)),
            (1, lambda: f"{self.idict_expr(d - 1)}.get({self.int_expr(d - 1)}, {self.str_lit(SHORT)})"),
            (1, lambda: self.dict_item(IDICT)),
            (1, lambda: f"({s()} {r.choice(('or', 'and'))} {s()})"),
            (1, lambda: self.call(STR, d)),
        ])

    def join_ints(self, d):
        x = self.comp_var()
        src = self.ilist_expr(d - 1)
        return f"{self.str_lit((',', '-', ' + ', ''))}.join(str({x}) for {x} in {src})"

    def slice(self):
        r = self.rng
        lo = r.choice(("", "", "1", "2", "-2", "-3", "0"))
        hi = r.choice(("", "", "3", "-1", "4", "10"))
        step = r.choice(("", "", "", ":-1", ":2", ":-2", ":3"))
        if step == ":-1" and self.chance(0.5):
            return "::-1"
        return f"{lo}:{hi}{step}"

    def opt_expr(self, d=2):
        r = self.rng
        return self.pick([
            (2, lambda: self.var(OPT)),
            (1, lambda: "None"),
            (3, lambda: f"{self.dict_expr(d - 1)}.get({self.key_lit()})"),
            (2, lambda: (v := self.var(ILIST)) and f"({v}[{r.choice((0, -1))}] if {v} else None)"),
            (1, lambda: self.int_expr(d - 1)),
        ])

    def int_genexp(self, d, ordered=False):
        """A generator of ints over a list, a range, a tuple or, when the consumer does not
        depend on the order (sum), a set."""
        x = self.comp_var()
        src_kind = self.rng.choice((ILIST, ILIST, "range", TUPLE) + (() if ordered else (SET,)))
        head = self.comp_for(x, src_kind, d)
        with self.binding(x, INT), self.flag("safe", self.safe or src_kind == SET):
            body = self.int_expr(d)
            cond = f" if {self.bool_expr(d - 1)}" if self.chance(0.4) else ""
        return f"{body} for {head}{cond}"

    def bool_genexp(self, d):
        x = self.comp_var()
        src_kind = self.rng.choice((ILIST, ILIST, "range", SET, SLIST))
        head = self.comp_for(x, src_kind, d)
        kind = STR if src_kind == SLIST else INT
        with self.binding(x, kind), self.flag("safe", self.safe or src_kind == SET):
            if kind == STR:
                body = self.pick([
                    (2, lambda: f"{x}.{self.rng.choice(('startswith', 'endswith'))}({self.str_lit(SHORT)})"),
                    (1, lambda: f"len({x}) {self.compare_op()} {self.rng.randint(0, 5)}"),
                    (1, lambda: f"{x}.isdigit()"),
                ])
            else:
                body = f"{self.int_expr(1)} {self.compare_op()} {self.int_expr(0)}"
        return f"{body} for {head}"

    def comp_for(self, x, src_kind, d):
        """`x in <source>` for a comprehension; the source is evaluated outside it."""
        if src_kind == "range":
            return f"{x} in {self.range_expr()}"
        return f"{x} in {self.expr(src_kind, d - 1)}"

    def range_expr(self):
        r = self.rng
        return r.choice((
            f"range({r.randint(0, 8)})",
            f"range({r.randint(-3, 3)}, {r.randint(2, 10)})",
            f"range({r.randint(8, 15)}, {r.randint(-3, 3)}, {r.choice((-1, -2, -3))})",
            f"range({r.randint(0, 3)}, {r.randint(5, 15)}, {r.randint(2, 4)})",
        ))

    def ilist_expr(self, d=2):
        r = self.rng
        leaves = [(3, self.ilist_lit), (6, lambda: self.var(ILIST))]
        if d <= 0:
            return self.pick(leaves)
        l = lambda: self.ilist_expr(d - 1)  # noqa: E731
        return self.pick(leaves + [
            (4, lambda: self.list_comp(d)),
            (1, lambda: self.nested_list_comp(d)),
            (3, lambda: f"sorted({l()}{self.sort_args(INT)})"),
            (1, lambda: f"sorted({self.set_expr(d - 1)}{r.choice(('', ', reverse=True'))})"),
            (3, lambda: f"{l()}[{self.slice()}]"),
            (2, lambda: f"({l()} + {l()})"),
            (1, lambda: f"({l()} * {r.randint(0, 3)})"),
            (2, lambda: f"list({self.range_expr()})"),
            (2, lambda: f"list(map({self.int_lambda(d)}, {l()}))"),
            (1, lambda: f"list(map({r.choice(('abs', 'int'))}, {l()}))"),
            (1, lambda: f"list(map(len, {self.slist_expr(d - 1)}))"),
            (2, lambda: f"list(filter({self.pred_lambda(d)}, {l()}))"),
            (1, lambda: f"list(reversed({l()}))"),
            (1, lambda: self.enumerate_comp(d)),
            (1, lambda: self.zip_comp(d)),
            (1, lambda: f"list({self.dict_expr(d - 1)}.values())"),
            (1, lambda: f"list({self.idict_expr(d - 1)})"),
            (1, lambda: f"list({self.tuple_expr(d - 1)})"),
            (1, lambda: (v := self.var(ILIST)) and f"{v}.copy()"),
            (1, lambda: (x := self.comp_var()) and f"[len({x}) for {x} in {self.slist_expr(d - 1)}]"),
            (1, lambda: f"[fn(10) for fn in [lambda p: p + i for i in range({r.randint(1, 4)})]]"),
            (2, lambda: self.call(ILIST, d)),
        ])

    def sort_args(self, kind):
        r = self.rng
        key = ""
        if self.chance(0.4):
            x = self.comp_var()
            if kind == INT:
                key = r.choice((f"lambda {x}: -{x}", f"lambda {x}: {x} % {r.randint(2, 5)}",
                                f"lambda {x}: ({x} % 3, {x})", "abs"))
            else:
                key = r.choice(("len", f"lambda {x}: {x}.lower()", f"lambda {x}: (len({x}), {x})",
                                f"lambda {x}: {x}[-1:]"))
            key = f", key={key}"
        return key + r.choice(("", "", ", reverse=True", ", reverse=False"))

    def int_lambda(self, d):
        x = self.comp_var()
        with self.binding(x, INT):
            return f"lambda {x}: {self.int_expr(1)}"

    def pred_lambda(self, d):
        x = self.comp_var()
        with self.binding(x, INT):
            return f"lambda {x}: {self.int_expr(1)} {self.compare_op()} {self.int_expr(0)}"

    def list_comp(self, d):
        x = self.comp_var()
        src_kind = self.rng.choice((ILIST, ILIST, "range", TUPLE))
        head = self.comp_for(x, src_kind, d)
        with self.binding(x, INT):
            body = self.int_expr(d - 1)
            cond = f" if {self.bool_expr(d - 1)}" if self.chance(0.5) else ""
        return f"[{body} for {head}{cond}]"

    def nested_list_comp(self, d):
        r = self.rng
        x = self.comp_var()
        head = self.comp_for(x, r.choice((ILIST, "range")), d)
        with self.binding(x, INT):
            y = self.comp_var(avoid=x)
            src2 = r.choice((f"range({x} % 4)", f"{self.ilist_expr(0)}[:4]", f"range({r.randint(1, 4)})"))
            with self.binding(y, INT):
                body = self.pick([(2, lambda: f"{x} * {y}"), (2, lambda: f"{x} + {y}"),
                                  (1, lambda: self.int_expr(1))])
                cond = f" if {x} {self.compare_op()} {y}" if self.chance(0.5) else ""
        return f"[{body} for {head} for {y} in {src2}{cond}]"

    def enumerate_comp(self, d):
        i, x = "i", self.comp_var()
        start = self.rng.choice(("", "", ", 1", ", -2"))
        src = self.ilist_expr(d - 1)
        with self.binding(i, INT), self.binding(x, INT):
            body = self.rng.choice((f"{i} * {x}", i, f"{x} - {i}"))
            cond = f" if {self.bool_expr(0)}" if self.chance(0.4) else ""
        return f"[{body} for {i}, {x} in enumerate({src}{start}){cond}]"

    def zip_comp(self, d):
        a, b = "a", "b"
        src1, src2 = self.ilist_expr(d - 1), self.ilist_expr(d - 1)
        with self.binding(a, INT), self.binding(b, INT):
            body = self.rng.choice((f"{a} + {b}", f"{a} * {b}", f"max({a}, {b})", f"{a} - {b}"))
        return f"[{body} for {a}, {b} in zip({src1}, {src2})]"

    def slist_expr(self, d=2):
        r = self.rng
        leaves = [(3, self.slist_lit), (6, lambda: self.var(SLIST))]
        if d <= 0:
            return self.pick(leaves)
        s = lambda: self.str_expr(d - 1)  # noqa: E731
        return self.pick(leaves + [
            (2, lambda: f"{s()}.split()"),
            (2, lambda: f"{s()}.split({self.str_lit((',', ' ', 'a', 's'))})"),
            (3, lambda: f"sorted({self.slist_expr(d - 1)}{self.sort_args(STR)})"),
            (1, lambda: f"list({self.dict_expr(d - 1)}{r.choice(('', '.keys()'))})"),
            (1, lambda: (x := self.comp_var()) and f"[k for k, {x} in {self.dict_expr(d - 1)}.items() if {x} {self.compare_op()} {self.int_lit()}]"),
            (2, lambda: (x := self.comp_var()) and f"[{x}.{r.choice(('upper', 'lower', 'strip'))}() for {x} in {self.slist_expr(d - 1)}]"),
            (1, lambda: (x := self.comp_var()) and f"[{x} for {x} in {self.slist_expr(d - 1)} if len({x}) {self.compare_op()} {r.randint(0, 5)}]"),
            (1, lambda: f"list({s()})"),
            (2, lambda: f"{self.slist_expr(d - 1)}[{self.slice()}]"),
            (1, lambda: f"list(map(str, {self.ilist_expr(d - 1)}))"),
            (1, lambda: f"list({self.idict_expr(d - 1)}.values())"),
            (1, lambda: (v := self.var(SLIST)) and f"{v}.copy()"),
            (1, lambda: self.call(SLIST, d)),
        ])

    def tuple_expr(self, d=2):
        r = self.rng
        leaves = [(2, lambda: "(" + ", ".join(self.int_lit() for _ in range(r.randint(2, 4))) + ")"),
                  (5, lambda: self.var(TUPLE))]
        if d <= 0:
            return self.pick(leaves)
        return self.pick(leaves + [
            (2, lambda: f"({self.int_expr(d - 1)}, {self.int_expr(d - 1)})"),
            (2, lambda: f"tuple({self.ilist_expr(d - 1)})"),
            (1, lambda: f"tuple(sorted({self.set_expr(d - 1)}))"),
            (1, lambda: f"tuple({self.int_genexp(d - 1, ordered=True)})"),
            (1, lambda: f"{self.tuple_expr(d - 1)}[{self.slice()}]"),
            (1, lambda: f"({self.tuple_expr(d - 1)} + {self.tuple_expr(0)})"),
        ])

    def dict_lit(self):
        keys = self.rng.sample(KEYS, self.rng.randint(0, 4))
        q = self.quote
        return "{" + ", ".join(f"{q}{k}{q}: {self.int_lit()}" for k in keys) + "}"

    def dict_expr(self, d=2):
        leaves = [(3, self.dict_lit), (6, lambda: self.var(DICT))]
        if d <= 0:
            return self.pick(leaves)
        return self.pick(leaves + [
            (2, lambda: (w := self.comp_var()) and f"{{{w}: len({w}) for {w} in {self.slist_expr(d - 1)}}}"),
            (2, lambda: f"dict(zip({self.slist_expr(d - 1)}, {self.ilist_expr(d - 1)}))"),
            (2, lambda: self.dict_comp(d)),
            (1, lambda: (v := self.var(DICT)) and f"{v}.copy()"),
            (1, lambda: f"dict({self.dict_expr(d - 1)})"),
            (1, lambda: f"dict([({self.key_lit()}, {self.int_expr(0)}), ({self.key_lit()}, {self.int_expr(0)})])"),
        ])

    def dict_comp(self, d):
        src = self.dict_expr(d - 1)
        k = self.comp_var()
        v = self.comp_var(avoid=k)
        with self.binding(k, STR), self.binding(v, INT):
            body = self.int_expr(1)
            cond = f" if {self.bool_expr(0)}" if self.chance(0.5) else ""
        return f"{{{k}: {body} for {k}, {v} in {src}.items(){cond}}}"

    def idict_expr(self, d=2):
        r = self.rng
        q = self.quote

        def lit():
            keys = r.sample(range(-2, 6), r.randint(0, 4))
            return "{" + ", ".join(f"{k}: {q}{r.choice(WORDS)}{q}" for k in keys) + "}"

        leaves = [(3, lit), (6, lambda: self.var(IDICT))]
        if d <= 0:
            return self.pick(leaves)
        return self.pick(leaves + [
            (2, lambda: (w := self.comp_var()) and f"{{i: {w} for i, {w} in enumerate({self.slist_expr(d - 1)})}}"),
            (2, lambda: (w := self.comp_var()) and f"{{len({w}): {w} for {w} in {self.slist_expr(d - 1)}}}"),
            (1, lambda: f"dict(zip({self.ilist_expr(d - 1)}, {self.slist_expr(d - 1)}))"),
        ])

    def set_expr(self, d=2):
        r = self.rng
        leaves = [(2, self.set_lit),
                  (1, lambda: "set()"), (6, lambda: self.var(SET))]
        if d <= 0:
            return self.pick(leaves)
        s = lambda: self.set_expr(d - 1)  # noqa: E731
        return self.pick(leaves + [
            (3, lambda: f"set({self.ilist_expr(d - 1)})"),
            (3, lambda: self.set_comp(d)),
            (3, lambda: f"{s()}.{r.choice(('union', 'intersection', 'difference'))}({r.choice((s, lambda: self.ilist_expr(d - 1)))()})"),
            (1, lambda: f"set({self.range_expr()})"),
            (1, lambda: (w := self.comp_var()) and f"{{len({w}) for {w} in {self.slist_expr(d - 1)}}}"),
        ])

    def set_lit(self):
        return "{" + ", ".join(self.int_lit() for _ in range(self.rng.randint(1, 5))) + "}"

    def set_comp(self, d):
        x = self.comp_var()
        src_kind = self.rng.choice((ILIST, SET, "range"))
        head = self.comp_for(x, src_kind, d)
        with self.binding(x, INT), self.flag("safe", self.safe or src_kind == SET):
            body = self.int_expr(d - 1)
            cond = f" if {self.bool_expr(0)}" if self.chance(0.4) else ""
        return f"{{{body} for {head}{cond}}}"

    def call(self, kind, d):
        funcs = [f for f in self.funcs.values() if f.ret == kind]
        if not funcs:
            return None
        f = self.rng.choice(funcs)
        n = self.rng.randint(f.lo, f.hi)
        return f"{f.name}({', '.join(self.int_expr(d - 1) for _ in range(n))})"

    # ----- statements ---------------------------------------------------------------------
    # Each answers True when it wrote a statement, None when it does not apply here.

    def new_var(self, kind=None, d=2):
        kind = kind or self.rng.choice(KINDS)
        value = self.expr(kind, d)
        name = self.fresh(PREFIXES[kind])
        self.emit(f"{name} = {value}")
        self.define(name, kind)
        if self.in_def and kind in CONTAINERS:  # it may be a global one (`xs = nums`)
            self.frozen.add(name)
        return name

    def targets(self, kinds):
        return [n for n, k in self.env.items() if k in kinds and n in self.assignable and n not in self.frozen]

    def changeable(self):
        return [n for n, k in self.env.items() if k in CONTAINERS and n not in self.frozen]

    def small(self, kind):
        """A value that does not grow with the program: what loops put in containers."""
        r = self.rng
        ints = [n for n in self.loop_vars if self.env.get(n) == INT]
        if kind == INT:
            return r.choice(ints + [self.int_lit(), f"{r.choice(ints)} * 2" if ints else self.int_lit()])
        strs = [n for n in self.loop_vars if self.env.get(n) == STR]
        return r.choice(strs + [f"str({i})" for i in ints] + [self.str_lit(SHORT)])

    def assign_stmt(self):
        r = self.rng
        names = self.targets((INT, FLOAT, BOOL) if self.loop_depth else KINDS)
        if not names or self.chance(0.5):
            self.new_var(r.choice((INT, BOOL, STR, OPT)) if self.loop_depth else r.choice(KINDS))
            return True
        name = r.choice(names)
        kind = self.env.pop(name)  # the new value does not build on the old one (it could grow)
        value = self.expr(kind)
        self.env[name] = kind
        self.emit(f"{name} = {value}")
        return True

    def aug_stmt(self):
        r = self.rng
        names = self.targets((INT, INT, FLOAT, STR, ILIST, SLIST))
        if not names:
            return None
        name = r.choice(names)
        kind = self.env.pop(name)
        if kind == INT:
            op = r.choice(("+=", "+=", "-=", "*=", "//=", "%="))
            if op in ("//=", "%="):
                rhs = self.divisor(2)
            elif op == "*=" and self.loop_depth:
                rhs = r.choice(("2", "3", "-1", "-2"))
            else:
                rhs = self.int_expr(1)
        elif kind == FLOAT:
            op = r.choice(("+=", "-=", "*=", "/="))
            rhs = self.float_lit() if op in ("*=", "/=") else r.choice((self.float_expr, self.int_expr))(1)
        else:
            op = "+="
            if not self.loop_depth:
                rhs = self.expr(kind, 1)
            elif kind == STR:
                rhs = self.small(STR)
            else:
                rhs = f"[{self.small(INT if kind == ILIST else STR)}]"
        self.env[name] = kind
        self.emit(f"{name} {op} {rhs}")
        return True

    def mutate_stmt(self):
        r = self.rng
        names = self.changeable()
        if not names:
            return None
        name = r.choice(names)
        kind = self.env[name]
        small = bool(self.loop_depth)
        if kind in (ILIST, SLIST):
            elem = INT if kind == ILIST else STR
            item = (lambda: self.small(elem)) if small else (lambda: self.expr(elem, 1))
            seq = (lambda: f"[{item()}]") if small else (lambda: self.expr(kind, 1))
            text = self.pick([
                (5, lambda: f"{name}.append({item()})"),
                (2, lambda: f"{name}.extend({seq()})"),
                (1, lambda: f"{name}.extend({self.str_lit(('ab', 'xyz'))})" if kind == SLIST else None),
                (2, lambda: f"{name}.insert({r.choice((0, 1, -1, 2, 10, -10))}, {item()})"),
                (2, lambda: f"{name}.pop({r.choice(('', '0', '-1', '1'))})"),
                (0.5, lambda: f"{name}.remove({item()})"),
                (2, lambda: f"{name}.sort({self.sort_args(elem).removeprefix(', ')})"),
                (1, lambda: f"{name}.reverse()"),
                (1, lambda: f"{name}.clear()" if self.chance(0.5) else None),
                (3, lambda: f"{name}[{self.index(0)}] = {item()}"),
                (1, lambda: f"{name}[{self.index(0)}] += {item()}"),
            ])
        elif kind == DICT:
            key = self.key_lit
            val = (lambda: self.small(INT)) if small else (lambda: self.int_expr(1))
            text = self.pick([
                (5, lambda: f"{name}[{key()}] = {val()}"),
                (0.6, lambda: f"{name}[{key()}] += {val()}"),
                (2, lambda: f"{name}[{(k := key())}] = {name}.get({k}, 0) + {val()}"),
                (2, lambda: f"{name}.pop({key()}{r.choice(('', ', None', ', 0', ', -1'))})"),
                (2, lambda: f"{name}.update({self.dict_lit()})"),
                (1, lambda: f"{name}.setdefault({key()}, {val()})"),
            ])
        elif kind == IDICT:
            val = (lambda: self.small(STR)) if small else (lambda: self.str_expr(1))
            text = self.pick([
                (3, lambda: f"{name}[{r.randint(-2, 6)}] = {val()}"),
                (1, lambda: f"{name}.pop({r.randint(-2, 6)}, None)"),
                (0.3, lambda: f"{name}[{r.randint(-2, 6)}] += {val()}"),
            ])
        else:
            val = (lambda: self.small(INT)) if small else (lambda: self.int_expr(1))
            text = self.pick([
                (4, lambda: f"{name}.add({val()})"),
                (2, lambda: f"{name}.discard({val()})"),
                (0.4, lambda: f"{name}.remove({val()})"),
            ])
        self.emit(text)
        return True

    def alias_stmt(self):
        """`b = a` (the same container) or a copy of it, then a change through the new name."""
        r = self.rng
        names = [n for n in self.changeable() if n in self.assignable]
        if not names or self.loop_depth or self.in_def:
            return None
        src = r.choice(names)
        kind = self.env[src]
        maker = {ILIST: "list", SLIST: "list", DICT: "dict", IDICT: "dict", SET: "set"}[kind]
        copy = self.pick([
            (5, lambda: src),
            (1, lambda: f"{src}.copy()"),
            (1, lambda: f"{src}[:]" if kind in (ILIST, SLIST) else None),
            (1, lambda: f"{maker}({src})"),
        ])
        name = self.fresh(PREFIXES[kind])
        self.emit(f"{name} = {copy}")
        self.define(name, kind)
        with self.flag("frozen", self.frozen | {n for n in self.env if n != name}):
            self.mutate_stmt()  # through the new name
        return True

    def swap_stmt(self):
        r = self.rng
        kinds = KINDS if not (self.loop_depth or self.in_def) else SCALARS
        for kind in r.sample(kinds, len(kinds)):
            names = self.targets((kind,))
            if len(names) >= 2:
                a, b = r.sample(names, 2)
                self.emit(f"{a}, {b} = {b}, {a}")
                return True
        a, b = self.fresh(PREFIXES[INT]), self.fresh(PREFIXES[STR])
        self.emit(f"{a}, {b} = {self.int_expr(1)}, {self.str_expr(1)}")
        self.define(a, INT)
        self.define(b, STR)
        return True

    def unpack_stmt(self):
        r = self.rng
        if self.loop_depth:
            return None
        names = [self.fresh(PREFIXES[INT]) for _ in range(r.randint(2, 3))]
        n = len(names)
        src = self.pick([
            (3, lambda: "(" + ", ".join(self.int_expr(1) for _ in range(n)) + ")"),
            (3, lambda: ", ".join(self.int_expr(1) for _ in range(n))),
            (0.5, lambda: f"sorted({self.set_expr(1)})[:{n}]"),
            (0.5, lambda: f"{self.ilist_expr(1)}[:{n}]"),
            (1, lambda: self.var(TUPLE)),
        ])
        self.emit(f"{', '.join(names)} = {src}")
        for name in names:
            self.define(name, INT)
        return True

    def lambda_stmt(self):
        if self.loop_depth or self.in_def:
            return None
        name = self.fresh(FUNC_PREFIXES)
        x = self.comp_var()
        if self.chance(0.5):
            with self.binding(x, INT):
                self.emit(f"{name} = lambda {x}: {self.int_expr(2)}")
            self.funcs[name] = Func(name, 1, 1, INT)
            return True
        y = self.comp_var(avoid=x)
        default = self.int_lit() if self.chance(0.5) else None
        captured = self.var(INT)
        if captured and self.chance(0.5):  # a default takes the value now, not the name
            default = captured
        with self.binding(x, INT), self.binding(y, INT):
            body = self.int_expr(2)
        params = f"{x}, {y}" + (f"={default}" if default else "")
        self.emit(f"{name} = lambda {params}: {body}")
        self.funcs[name] = Func(name, 1 if default else 2, 2, INT)
        return True

    def if_stmt(self, depth):
        r = self.rng
        with self.body(f"if {self.bool_expr()}"):
            self.stmts(r.randint(1, 2), depth + 1)
        for _ in range(r.choice((0, 0, 1, 2))):
            if not self.room(2):
                break
            with self.body(f"elif {self.bool_expr()}"):
                self.stmts(1, depth + 1)
        if self.chance(0.5) and self.room(2):
            with self.body("else"):
                self.stmts(r.randint(1, 2), depth + 1)
        return True

    def loop_body(self, depth, bound):
        r = self.rng
        for name, kind in bound.items():
            self.define(name, kind)
        with self.flag("loop_depth", self.loop_depth + 1), self.flag("loop_vars", self.loop_vars | set(bound)):
            if self.chance(0.35):
                cond = self.bool_expr(1)
                jump = r.choice(("break", "continue"))
                if self.chance(0.5):
                    self.emit(f"if {cond}: {jump}", simple=False)
                else:
                    with self.body(f"if {cond}"):
                        self.stmts(1, depth + 1)
                        self.emit(jump)
            self.stmts(r.randint(1, 2), depth + 1)

    def accumulator(self):
        """A variable made just before a loop, for the loop to build up: a new object, so the
        loop may change it even while it walks another container of its kind."""
        kind, init = self.rng.choice(((INT, "0"), (INT, "1"), (ILIST, "[]"), (STR, '""'), (DICT, "{}"), (SET, "set()")))
        name = self.fresh(PREFIXES[kind])
        self.emit(f"{name} = {init}")
        self.define(name, kind)
        return name

    def for_stmt(self, depth):
        r = self.rng
        acc = self.accumulator() if self.chance(0.6) else None
        n_max = 6 if self.loop_depth or self.in_def else 20
        loop_var = lambda: self.fresh(LOOP_VARS)  # noqa: E731
        # (header, the names it binds, the kind of the value it walks, if any)
        choices = [
            (4, lambda: (i := loop_var()) and (f"for {i} in range({r.randint(0, n_max)})", {i: INT}, None)),
            (1, lambda: (i := loop_var()) and (f"for {i} in range({r.randint(-2, 3)}, {r.randint(2, n_max)}, {r.randint(1, 3)})", {i: INT}, None)),
            (1, lambda: (i := loop_var()) and (f"for {i} in range({r.randint(5, n_max)}, {r.randint(-3, 2)}, {r.choice((-1, -2))})", {i: INT}, None)),
            (3, lambda: (v := self.var(ILIST)) and (x := loop_var()) and (
                f"for {x} in {v}{r.choice(('', '', '', '[:5]', '[::-1]', '[1:]'))}", {x: INT}, ILIST)),
            (2, lambda: (v := self.var(SLIST)) and (w := self.fresh(("w", "name", "word"))) and (f"for {w} in {v}", {w: STR}, SLIST)),
            (2, lambda: (v := self.var(ILIST)) and (i := loop_var()) and (x := loop_var()) and (
                f"for {i}, {x} in enumerate({v}{r.choice(('', ', 1'))})", {i: INT, x: INT}, ILIST)),
            (2, lambda: (v := self.var(DICT)) and (k := self.fresh(("key", "name"))) and (x := self.fresh(("val", "cnt"))) and (
                f"for {k}, {x} in {v}.items()", {k: STR, x: INT}, DICT)),
            (1, lambda: (v := self.var(SET)) and (x := loop_var()) and (f"for {x} in sorted({v})", {x: INT}, SET)),
            (1, lambda: (v := self.var(STR)) and (c := self.fresh(("ch", "c"))) and (f"for {c} in {v}", {c: STR}, STR)),
            (1, lambda: (a := self.var(ILIST)) and (b := self.var(SLIST)) and (x := loop_var()) and (w := self.fresh(("w", "name"))) and (
                f"for {x}, {w} in zip({a}, {b})", {x: INT, w: STR}, ILIST)),
        ]
        acc_kind = acc and self.env.pop(acc)  # walk something other than the (empty) accumulator
        header, bound, walked = self.pick(choices)
        if acc:
            self.env[acc] = acc_kind
        # A loop never changes a value of the kind it walks: it might be the one walked or an
        # alias of it, and a value that grows by its own length on each pass of an outer loop
        # doubles each time. The accumulator is new, so it may.
        walked_kinds = {walked, SLIST} if "zip(" in header else {walked}
        frozen = self.frozen | {n for n, k in self.env.items() if k in walked_kinds and n != acc}
        with self.body(header), self.flag("frozen", frozen):
            self.loop_body(depth, bound)
        return True

    def while_stmt(self, depth):
        r = self.rng
        i = self.fresh(LOOP_VARS)
        self.emit(f"{i} = 0")
        self.define(i, INT)
        if self.chance(0.6):
            self.accumulator()
        bound = r.randint(0, 6 if self.loop_depth or self.in_def else 20)
        extra = f" and {self.bool_expr(1)}" if self.chance(0.3) else ""
        with self.body(f"while {i} < {bound}{extra}"):
            self.emit(f"{i} += {r.choice((1, 1, 2))}")
            self.assignable.discard(i)  # the counter alone bounds the loop
            self.loop_body(depth, {})
        return True

    def def_stmt(self, depth):
        r = self.rng
        name = self.fresh(FUNC_PREFIXES)
        nparams = r.randint(1, 3)
        params = [self.fresh(("a", "b", "p", "q", "n")) for _ in range(nparams)]
        ndefaults = r.randint(0, nparams)
        shown = [p if idx < nparams - ndefaults else f"{p}={self.int_lit()}" for idx, p in enumerate(params)]
        ret = r.choice((INT, INT, INT, FLOAT, STR, BOOL, ILIST, SLIST))
        self.emit(f"def {name}({', '.join(shown)}):", simple=False)
        self.indent += 1
        # A def may be called anywhere, even in a loop walking a global list: it changes no
        # global container (and assigns no global name).
        globals_ = {n for n, k in self.env.items() if k in CONTAINERS}
        with self.scope(), self.flag("in_def", True), self.flag("loop_depth", 0), \
                self.flag("frozen", self.frozen | globals_), self.flag("loop_vars", set()):
            self.assignable = set(params)
            for p in params:
                self.env[p] = INT
            self.stmts(r.randint(0, 3), depth + 1)
            if self.chance(0.3) and self.room(2):  # an early return
                with self.body(f"if {self.bool_expr(1)}"):
                    self.emit(f"return {self.expr(ret, 1)}")
            self.emit(f"return {self.expr(ret, 2)}")
        self.indent -= 1
        self.funcs[name] = Func(name, nparams - ndefaults, nparams, ret)
        return True

    def template_def(self):
        """Recursion, a closure factory, a mutable default, a function that changes its argument."""
        r = self.rng
        name = self.fresh(FUNC_PREFIXES)
        n = r.randint(0, 10)
        kind = r.choice(("fact", "fib", "digits", "gcd", "power", "rec", "closure", "default", "mutate", "find"))
        if kind == "fact":
            self.block_lines(f"def {name}(n):", ["if n <= 1:", ["return 1"], f"return n * {name}(n - 1)"])
            self.bind_result(f"{name}({n})", INT)
        elif kind == "fib":
            self.block_lines(f"def {name}(n):", [f"return n if n < 2 else {name}(n - 1) + {name}(n - 2)"])
            self.bind_result(f"{name}({r.randint(0, 10)})", INT)
        elif kind == "digits":
            self.block_lines(f"def {name}(n):", [f"return n if n < 10 else n % 10 + {name}(n // 10)"])
            self.bind_result(f"{name}({r.randint(0, 10 ** 9)})", INT)
        elif kind == "gcd":
            self.block_lines(f"def {name}(a, b):", [f"return a if b == 0 else {name}(b, a % b)"])
            self.bind_result(f"{name}({r.randint(0, 500)}, {r.randint(0, 200)})", INT)
        elif kind == "power":
            self.block_lines(f"def {name}(b, e=2):", ["if e == 0:", ["return 1"], f"return b * {name}(b, e - 1)"])
            self.bind_result(f"{name}({r.randint(-9, 9)}{r.choice(('', f', {n}'))})", INT)
        elif kind == "rec":
            body = f"{r.choice(('n', 'n % 3', 'n * 2', '1'))} {r.choice('+-*')} {name}(n - {r.choice((1, 2))})"
            self.block_lines(f"def {name}(n):", ["if n <= 0:", [f"return {self.int_lit()}"], f"return {body}"])
            self.bind_result(f"{name}({n})", INT)
        elif kind == "closure":
            k = self.comp_var(avoid="x")
            body = r.choice((f"x + {k}", f"x * {k}", f"{k} - x", f"(x + {k}) % 7"))
            self.block_lines(f"def {name}({k}):", [f"return lambda x: {body}"])
            made = self.fresh(FUNC_PREFIXES)
            self.emit(f"{made} = {name}({self.int_expr(1)})")
            self.funcs[made] = Func(made, 1, 1, INT)
        elif kind == "default":  # the default list is made once, when the def runs
            self.block_lines(f"def {name}(v, acc=[]):", ["acc.append(v)", "return acc"])
            self.bind_result(f"{name}({self.int_lit()})", ILIST)
            self.emit(f"{name}({self.int_lit()})")
        elif kind == "mutate":
            self.block_lines(f"def {name}(xs, v):", ["xs.append(v)", "xs.append(v * 2)", "return len(xs)"])
            target = self.var(ILIST) if self.var(ILIST) in self.changeable() else None
            self.bind_result(f"{name}({target or self.ilist_lit()}, {self.int_expr(1)})", INT)
        else:
            self.block_lines(f"def {name}(xs, target):",
                             ["for i, x in enumerate(xs):", ["if x == target:", ["return i"]], "return -1"])
            self.bind_result(f"{name}({self.var(ILIST) or self.ilist_lit(1, 6)}, {self.int_expr(1)})", INT)
        return True

    def block_lines(self, header, body):
        """A fixed block: `body` holds lines, and lists of lines one level deeper."""
        self.emit(header, simple=False)
        self.indent += 1
        self.emit_lines(body)
        self.indent -= 1

    def emit_lines(self, lines):
        for line in lines:
            if isinstance(line, list):
                self.indent += 1
                self.emit_lines(line)
                self.indent -= 1
            else:
                self.emit(line, simple=not line.endswith(":"))

    def bind_result(self, value, kind):
        name = self.fresh(PREFIXES[kind])
        self.emit(f"{name} = {value}")
        self.define(name, kind)

    def hazard_stmt(self):
        """A statement that raises (a few only for some values): wrong types, a missing key or
        item, a zero divisor, an undefined name, a bad unpacking, a call with too many
        arguments."""
        r = self.rng
        i = lambda: self.var(INT) or self.int_lit()  # noqa: E731
        self.emit(self.pick([
            (2, lambda: f"{self.fresh(PREFIXES[INT])} = {i()} // {r.choice(('0', f'({i()} - {i()})'))}"),
            (2, lambda: f"{self.fresh(PREFIXES[FLOAT])} = {i()} / {r.choice(('0', '0.0', f'({i()} * 0)'))}"),
            (1, lambda: f"{self.fresh(PREFIXES[INT])} = {i()} % 0"),
            (2, lambda: f"{self.fresh(PREFIXES[INT])} = {self.var(ILIST) or self.ilist_lit(0, 3)}[{r.choice((5, 9, -8))}]"),
            (1, lambda: f"{self.fresh(PREFIXES[STR])} = {self.var(STR) or self.str_lit()}[{r.choice((20, -30))}]"),
            (2, lambda: f"{self.fresh(PREFIXES[INT])} = {self.var(DICT) or self.dict_lit()}[{self.str_lit(('nope', 'zzz', 'A'))}]"),
            (1, lambda: f"{self.var(SET) or 'set()'}.remove({r.choice((99, -1))})"),
            (1, lambda: f"{self.var(ILIST) or '[]'}.remove({r.choice((99, -99))})"),
            (1, lambda: f"{self.fresh(PREFIXES[INT])} = {self.var(ILIST) or self.ilist_lit()}.index({r.choice((77, -77))})"),
            (1, lambda: f"{self.fresh(PREFIXES[INT])} = [].pop()"),
            (1, lambda: f"{self.fresh(PREFIXES[INT])} = {r.choice(('min', 'max'))}([])"),
            (2, lambda: f"{self.fresh(PREFIXES[STR])} = {self.var(STR) or self.str_lit()} + {i()}"),
            (1, lambda: f"{self.fresh(PREFIXES[INT])} = {i()} + None"),
            (1, lambda: f"{self.fresh(PREFIXES[BOOL])} = {i()} < {self.str_lit()}"),
            (1, lambda: f"{self.fresh(PREFIXES[INT])} = len({i()})"),
            (1, lambda: f"{self.fresh(PREFIXES[ILIST])} = sorted([1, {self.str_lit()}])"),
            (1, lambda: f"{self.fresh(PREFIXES[INT])} = int({self.str_lit(('x1', 'abc', '1.5', '', 'one'))})"),
            (1, lambda: f"{self.fresh(PREFIXES[FLOAT])} = float({self.str_lit(('x', 'one', ''))})"),
            (2, lambda: f"{self.fresh(PREFIXES[INT])} = {r.choice(UNDEFINED)} + {i()}"),
            (1, lambda: "x" not in self.env and f"{self.fresh(PREFIXES[INT])} = [x for x in range(3)][0] + x"),
            (1, lambda: f"{self.fresh(PREFIXES[INT])}, {self.fresh(PREFIXES[INT])} = {r.choice(('[1, 2, 3]', '(1,)', '[]', 'range(4)'))}"),
            (1, lambda: (v := self.var(STR)) and f"{v}[0] = {self.str_lit(SHORT)}"),
            (1, lambda: (v := self.var(TUPLE)) and f"{v}[0] = {i()}"),
            (1, lambda: (v := self.var(ILIST)) and f"{v}.{r.choice(('upper', 'add', 'get'))}()"),
            (1, lambda: (v := self.var(STR)) and f"{v}.append({self.str_lit(SHORT)})"),
            (1, lambda: (f := next(iter(self.funcs.values()), None)) and f"{self.fresh(PREFIXES[f.ret])} = {f.name}({', '.join(['1'] * (f.hi + 1))})"),
            (1, lambda: (v := self.var(INT)) and f"{self.fresh(PREFIXES[INT])} = {v}()"),
            (1, lambda: f"{self.fresh(PREFIXES[DICT])} = {{[1]: 2}}"),
            (1, lambda: f"{self.fresh(PREFIXES[ILIST])} = list(range({r.choice(('1.5', self.str_lit(('3',))))}))"),
            (1, lambda: f"{self.fresh(PREFIXES[ILIST])} = list(range(1, 5, 0))"),
            (1, lambda: f"{self.fresh(PREFIXES[STR])} = {self.str_lit()} * 1.5"),
            (1, lambda: f"{self.fresh(PREFIXES[INT])} = {self.var(ILIST) or self.ilist_lit()}[1.0 + 1]"),
        ]))

    def simple_stmt(self):
        return self.pick([
            (5, self.assign_stmt),
            (4, self.aug_stmt),
            (5, self.mutate_stmt),
            (2, self.alias_stmt),
            (1, self.swap_stmt),
            (1, self.unpack_stmt),
            (1, self.lambda_stmt),
        ])

    def stmt(self, depth):
        if depth >= 2 or not self.room(3):
            return self.simple_stmt()
        top = depth == 0 and not self.loop_depth and not self.in_def
        return self.pick([
            (8, self.simple_stmt),
            (3, lambda: self.if_stmt(depth)),
            (3, lambda: self.for_stmt(depth)),
            (1, lambda: self.while_stmt(depth)),
            (2, lambda: self.def_stmt(depth) if top and self.room(6) else None),
            (2, lambda: self.template_def() if top and self.room(5) else None),
        ])

    def stmts(self, n, depth):
        for _ in range(n):
            if not self.room():
                return
            self.stmt(depth)

    def result(self):
        """The last line: mostly what the program built, sometimes one more expression."""
        r = self.rng
        shown = list(self.env)
        group = lambda: r.sample(shown, min(len(shown), r.randint(2, 3)))  # noqa: E731
        return self.pick([
            (4, lambda: shown and r.choice(shown[-3:])),
            (4, lambda: len(shown) >= 2 and "(" + ", ".join(group()) + ")"),
            (1, lambda: len(shown) >= 2 and "[" + ", ".join(group()) + "]"),
            (1, lambda: shown and "{" + ", ".join(f'"{n}": {n}' for n in group()) + "}"),
            (3, lambda: self.expr(r.choice(KINDS), 2)),
        ])

    # ----- programs -----------------------------------------------------------------------

    def program(self):
        r = self.rng
        one_line = self.chance(0.2)
        for _ in range(r.randint(1, 3)):
            self.new_var(r.choice(KINDS), d=1)
        if one_line:
            for _ in range(r.randint(1, 4)):
                self.simple_stmt()
        else:
            self.stmts(r.randint(2, 6), 0)
        if self.chance(0.11):
            self.hazard_stmt()
            if self.chance(0.4):
                self.simple_stmt()
        self.emit(self.result())
        return self.render(one_line)

    def render(self, one_line):
        """The program's text. Now and then a header holds its one-line body (`if x: y += 1`)
        and simple statements share a line (`a = 1; b = 2`); a one-line program is all one
        line."""
        if one_line and all(line.simple and line.indent == 0 for line in self.lines):
            return "; ".join(line.text for line in self.lines) + "\n"
        out: list[tuple[int, str]] = []
        lines = self.lines
        idx = 0
        while idx < len(lines):
            line = lines[idx]
            nxt = lines[idx + 1] if idx + 1 < len(lines) else None
            after = lines[idx + 2] if idx + 2 < len(lines) else None
            if (not line.simple and line.text.endswith(":") and nxt and nxt.simple
                    and nxt.indent == line.indent + 1 and (after is None or after.indent <= line.indent)
                    and self.chance(0.3)):
                out.append((line.indent, f"{line.text} {nxt.text}"))
                idx += 2
                continue
            if (line.simple and out and out[-1][0] == line.indent and idx > 0 and lines[idx - 1].simple
                    and lines[idx - 1].indent == line.indent and self.chance(0.15)
                    and len(out[-1][1]) + len(line.text) < 90):
                out[-1] = (line.indent, f"{out[-1][1]}; {line.text}")
                idx += 1
                continue
            out.append((line.indent, line.text))
            idx += 1
        return "".join("    " * indent + text + "\n" for indent, text in out)


def generate(rng: random.Random) -> str:
    """One program's text; the value of its last line (an expression) is its result."""
    return Gen(rng).program()


if __name__ == "__main__":
    import sys

    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    for i in range(int(sys.argv[2]) if len(sys.argv) > 2 else 5):
        print(f"# ----- {i}")
        print(generate(random.Random(seed * 1_000_003 + i)), end="")
