"""Differential test of okdb's server-side language against CPython.

    python3 tests/lang-diff/run.py --port PORT [--cases N] [--seed S] [--show K]
    python3 tests/lang-diff/run.py --self-check [--cases N] [--seed S] [--show K]

Case i runs the program gen.py makes from random.Random(seed * 1_000_003 + i) twice: in
CPython (all statements but the last exec'd in a fresh namespace, the last expression eval'd)
and in okdb (`RUN program` over RESP3, through redis-py). The outcomes (a value, or the class
of the exception raised) must be the same; see README.md for how values are compared.

--self-check runs the programs through CPython only (no server): it reports the mix of
outcomes and which constructs appear, and fails if a program does not parse, does not end with
an expression, takes over 0.1 s, answers a value okdb cannot return, if fewer than 70% of the
programs succeed, or if a construct of the language never appears.
"""

import argparse
import ast
import collections
import copy
import math
import random
import signal
import sys
import time
import warnings
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen import generate  # noqa: E402

I64_MIN, I64_MAX = -(2 ** 63), 2 ** 63 - 1

# Pairs (CPython's exception class, okdb's) accepted as the same outcome: deliberate,
# documented differences only. Empty: every difference is a mismatch.
KNOWN_DIFFERENCES: set[tuple[str, str]] = set()

# CPython raising these says nothing about okdb (it has its own limits): the case is skipped.
SKIPPED_EXCEPTIONS = (OverflowError, MemoryError, RecursionError)

RETURNABLE = (type(None), bool, int, float, str, list, tuple, dict, set, frozenset)

SELF_CHECK_SECONDS = 0.1
CPYTHON_LIMIT_SECONDS = 5.0  # a program still running then is the generator's bug
SELF_CHECK_MIN_SUCCESS = 0.70


# ----- CPython -------------------------------------------------------------------------------

class I64Overflow(Exception):
    """An int outside 64 bits was made: okdb raises OverflowError there."""


class TooSlow(BaseException):
    """CPython ran a program for CPYTHON_LIMIT_SECONDS (a BaseException: no program catches it)."""


def too_slow(signum, frame):
    raise TooSlow


def check_i64(value):
    if type(value) is int and not I64_MIN <= value <= I64_MAX:
        raise I64Overflow
    return value


class CheckInts(ast.NodeTransformer):
    """Makes CPython stop where okdb's 64-bit ints would overflow: every operation that can
    make an int (arithmetic, unary minus, a call such as sum() or int()) is wrapped in
    _i64(...), and every augmented assignment is followed by a check of its target."""

    @staticmethod
    def check(node):
        return ast.Call(func=ast.Name(id="_i64", ctx=ast.Load()), args=[node], keywords=[])

    def visit_BinOp(self, node):
        self.generic_visit(node)
        return self.check(node)

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        return self.check(node) if isinstance(node.op, ast.USub) else node

    def visit_Call(self, node):
        self.generic_visit(node)
        return self.check(node)

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        target = copy.deepcopy(node.target)
        target.ctx = ast.Load()
        return [node, ast.Expr(value=self.check(target))]


def split(program):
    """The program's statements but the last, compiled for exec, and its last expression,
    compiled for eval; or the reason it is not a program."""
    try:
        tree = ast.parse(program)
    except SyntaxError as e:
        return None, None, f"SyntaxError: {e}"
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return None, None, "does not end with an expression statement"
    head = ast.Module(body=tree.body[:-1], type_ignores=[])
    last = ast.Expression(body=tree.body[-1].value)
    head, last = (ast.fix_missing_locations(CheckInts().visit(t)) for t in (head, last))
    return compile(head, "<program>", "exec"), compile(last, "<program>", "eval"), None


def walk(value):
    yield value
    if isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from walk(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from walk(key)
            yield from walk(item)


def run_cpython(program):
    """("value", v), ("raise", class name, message), or ("skip", reason)."""
    head, last, problem = split(program)
    if problem:
        return ("raise", "SyntaxError", problem) if problem.startswith("SyntaxError") else ("skip", problem)
    namespace = {"_i64": check_i64}
    limited = hasattr(signal, "setitimer")
    if limited:
        signal.signal(signal.SIGALRM, too_slow)
        signal.setitimer(signal.ITIMER_REAL, CPYTHON_LIMIT_SECONDS)
    try:
        exec(head, namespace)
        value = eval(last, namespace)
    except TooSlow:
        return ("skip", f"CPython ran it for {CPYTHON_LIMIT_SECONDS:.0f} s")
    except I64Overflow:
        return ("raise", "OverflowError", "int out of 64-bit range")
    except SKIPPED_EXCEPTIONS as e:
        return ("skip", f"CPython raised {type(e).__name__}")
    except Exception as e:  # noqa: BLE001 - the outcome under test
        return ("raise", type(e).__name__, str(e))
    finally:
        if limited:
            signal.setitimer(signal.ITIMER_REAL, 0)
    for item in walk(value):
        if not isinstance(item, RETURNABLE):
            return ("skip", f"result holds a {type(item).__name__}")
        if type(item) is int and not I64_MIN <= item <= I64_MAX:
            return ("raise", "OverflowError", "int out of 64-bit range")
    return ("value", value)


# ----- comparison ----------------------------------------------------------------------------

def normalise(value):
    """A form that compares by type as well as value: True is not 1, 1.0 is not 1, NaN equals
    NaN, a tuple is a list, a set is its sorted members, a dict keeps its order."""
    if value is None:
        return ("none",)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", "nan") if math.isnan(value) else ("float", value)
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, (list, tuple)):
        return ("list", tuple(normalise(item) for item in value))
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted((normalise(item) for item in value), key=repr)))
    if isinstance(value, dict):
        return ("dict", tuple((normalise(k), normalise(v)) for k, v in value.items()))
    return ("other", type(value).__name__, repr(value))


def align(expected, got):
    """redis-py reads a RESP3 set as a list: where CPython's value holds a set, okdb's list is
    taken for the set it is."""
    if expected[0] == "set" and got[0] == "list":
        return ("set", tuple(sorted(got[1], key=repr)))
    if expected[0] == got[0] == "list" and len(expected[1]) == len(got[1]):
        return ("list", tuple(align(e, g) for e, g in zip(expected[1], got[1])))
    if expected[0] == got[0] == "dict" and len(expected[1]) == len(got[1]):
        return ("dict", tuple((gk, align(ev, gv)) for (_, ev), (gk, gv) in zip(expected[1], got[1])))
    return got


def same(expected, got):
    if expected[0] == got[0] == "raise":
        return expected[1] == got[1] or (expected[1], got[1]) in KNOWN_DIFFERENCES
    if expected[0] == got[0] == "value":
        want = normalise(expected[1])
        return want == align(want, normalise(got[1]))
    return False


def describe(outcome):
    if outcome[0] == "value":
        return repr(outcome[1])
    return outcome[2] if outcome[2].startswith(outcome[1]) else f"{outcome[1]}: {outcome[2]}"


# ----- okdb ----------------------------------------------------------------------------------

def connect(port):
    try:
        import redis
    except ImportError:
        sys.exit("lang-diff: redis-py is missing (bash scripts/deps.sh installs it: "
                 "python3 -m pip install redis)")
    r = redis.Redis(host="127.0.0.1", port=port, protocol=3, decode_responses=True, socket_timeout=60)
    return r, redis.exceptions.ResponseError


def run_okdb(r, response_error, program):
    """("value", v) or ("raise", class name, message): an error reply's first word is the
    exception's class (`ZeroDivisionError: division by zero (line 3)`)."""
    try:
        return ("value", r.execute_command("RUN", program))
    except response_error as e:
        message = str(e)
        words = message.split(None, 1)
        return ("raise", words[0].rstrip(":") if words else "", message)


def differential(args):
    r, response_error = connect(args.port)
    mismatches = skipped = 0
    for i in range(args.cases):
        program = generate(random.Random(args.seed * 1_000_003 + i))
        expected = run_cpython(program)
        if expected[0] == "skip":
            skipped += 1
            continue
        try:
            got = run_okdb(r, response_error, program)
        except Exception as e:  # noqa: BLE001 - a lost connection or a timeout: stop here
            print(f"lang-diff: case {i} (seed {args.seed}) got no answer from okdb: {e!r}\n{program}")
            sys.exit(2)
        if same(expected, got):
            continue
        mismatches += 1
        if mismatches <= args.show:
            print(f"--- mismatch: case {i} (seed {args.seed})\n{program.rstrip()}\n"
                  f"CPython: {describe(expected)}\nokdb:    {describe(got)}\n")
    print(f"lang-diff: {args.cases} cases, {mismatches} mismatches, {skipped} skipped (seed {args.seed})")
    return 1 if mismatches else 0


# ----- self-check ----------------------------------------------------------------------------

BUILTINS = ("len sum min max sorted reversed abs round any all range enumerate zip map filter "
            "int float str bool list dict set tuple isinstance").split()
METHODS = ("upper lower strip split join replace startswith endswith find count isdigit "  # str
           "append extend insert pop remove index sort reverse copy clear "  # list
           "get keys values items setdefault update "  # dict
           "add discard union intersection difference issubset").split()  # set
OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
             ast.Mod: "%", ast.Pow: "**"}
NODES = {ast.If: "if", ast.For: "for", ast.While: "while", ast.Break: "break",
         ast.Continue: "continue", ast.FunctionDef: "def", ast.Return: "return",
         ast.Lambda: "lambda", ast.ListComp: "list comprehension",
         ast.SetComp: "set comprehension", ast.DictComp: "dict comprehension",
         ast.GeneratorExp: "generator expression", ast.IfExp: "conditional expression",
         ast.JoinedStr: "f-string", ast.BoolOp: "and/or", ast.Set: "set literal",
         ast.Dict: "dict literal", ast.Tuple: "tuple", ast.List: "list literal"}


def constructs(program, tree):
    """The names of the constructs a program uses, for the self-check's coverage report."""
    found = set()
    defs = {}
    if "\n" not in program.rstrip("\n") and ";" in program:
        found.add("one-line program")
    if "\n    " in program:
        found.add("indented block")
    for node in ast.walk(tree):
        if type(node) in NODES:
            found.add(NODES[type(node)])
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in OPERATORS:
            op = OPERATORS[type(node.op)]
            found.add(f"{op}=" if isinstance(node, ast.AugAssign) else op)
        elif isinstance(node, ast.UnaryOp):
            found.add({ast.USub: "unary -", ast.Not: "not"}.get(type(node.op), "unary"))
        elif isinstance(node, ast.Compare):
            if len(node.ops) > 1:
                found.add("chained comparison")
            for op in node.ops:
                if isinstance(op, (ast.In, ast.NotIn)):
                    found.add("in / not in")
                elif isinstance(op, (ast.Is, ast.IsNot)):
                    found.add("is None")
        elif isinstance(node, ast.Subscript):
            if isinstance(node.slice, ast.Slice):
                step = node.slice.step
                found.add("negative-step slice" if isinstance(step, ast.UnaryOp) else "slice")
            elif isinstance(node.slice, ast.UnaryOp):
                found.add("negative index")
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Tuple):
            found.add("tuple unpacking")
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Tuple):
            found.add("for unpacking")
        elif isinstance(node, ast.FormattedValue):
            if node.format_spec:
                found.add("f-string format spec")
            if node.conversion == ord("r"):
                found.add("f-string !r")
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in BUILTINS:
                found.add(f"{node.func.id}()")
            elif isinstance(node.func, ast.Attribute) and node.func.attr in METHODS:
                found.add(f".{node.func.attr}()")
            for kw in node.keywords:
                found.add(f"{kw.arg}=")
        if isinstance(node, (ast.FunctionDef, ast.Lambda)) and node.args.defaults:
            found.add("default argument")
        if isinstance(node, ast.FunctionDef):
            defs[node.name] = node
            for inner in ast.walk(node):
                if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id == node.name:
                    found.add("recursion")
                if inner is not node and isinstance(inner, (ast.Lambda, ast.FunctionDef)):
                    found.add("closure")
    return found


def required_constructs():
    return (set(NODES.values()) | set(OPERATORS.values()) | {f"{op}=" for op in ("+", "-", "*", "//", "%")}
            | {f"{name}()" for name in BUILTINS} | {f".{name}()" for name in METHODS}
            | {"unary -", "not", "chained comparison", "in / not in", "is None", "slice",
               "negative-step slice", "negative index", "tuple unpacking", "for unpacking",
               "f-string format spec", "f-string !r", "key=", "reverse=", "default argument",
               "recursion", "closure", "one-line program", "indented block"})


def self_check(args):
    outcomes = collections.Counter()
    coverage = collections.Counter()
    failures = []
    slowest = 0.0
    for i in range(args.cases):
        program = generate(random.Random(args.seed * 1_000_003 + i))
        head, last, problem = split(program)
        if problem:
            failures.append((i, program, problem))
            continue
        coverage.update(constructs(program, ast.parse(program)))
        start = time.perf_counter()
        outcome = run_cpython(program)
        took = time.perf_counter() - start
        slowest = max(slowest, took)
        if took > SELF_CHECK_SECONDS:
            failures.append((i, program, f"took {took * 1000:.0f} ms in CPython"))
        if outcome[0] == "skip":
            failures.append((i, program, f"skipped: {outcome[1]}"))
            outcomes["skipped"] += 1
        else:
            outcomes["succeed" if outcome[0] == "value" else outcome[1]] += 1
    n = max(args.cases, 1)
    succeeded = outcomes.pop("succeed", 0)
    skipped = outcomes.pop("skipped", 0)
    raised = sum(outcomes.values())
    print(f"self-check: {args.cases} programs (seed {args.seed}): {succeeded} succeed ({succeeded / n:.1%}), "
          f"{raised} raise ({raised / n:.1%}), {skipped} skipped; slowest {slowest * 1000:.1f} ms")
    print("  raise: " + ", ".join(f"{name} {count}" for name, count in outcomes.most_common()))
    missing = sorted(required_constructs() - set(coverage))
    rare = sorted(coverage.items(), key=lambda kv: (kv[1], kv[0]))[:12]
    print(f"  constructs: {len(coverage)} seen; least common: " + ", ".join(f"{k} {v}" for k, v in rare))
    if missing:
        failures.append((None, None, "constructs never generated: " + ", ".join(missing)))
    if succeeded < SELF_CHECK_MIN_SUCCESS * n:
        failures.append((None, None, f"only {succeeded / n:.1%} of programs succeed (want >= {SELF_CHECK_MIN_SUCCESS:.0%})"))
    for i, program, problem in failures[:args.show]:
        print(f"--- {problem}" + (f": case {i}\n{program.rstrip()}" if program else ""))
    if failures:
        print(f"self-check: FAILED ({len(failures)} problems)")
        return 1
    print("self-check: ok")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, help="the okdb server's port on 127.0.0.1")
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--show", type=int, default=10, help="mismatches (or problems) to print")
    parser.add_argument("--self-check", action="store_true", help="CPython only: check the generator")
    args = parser.parse_args()
    warnings.simplefilter("ignore", SyntaxWarning)
    if args.self_check:
        return self_check(args)
    if args.port is None:
        parser.error("--port is required (or --self-check)")
    return differential(args)


if __name__ == "__main__":
    sys.exit(main())
