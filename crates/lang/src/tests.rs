use std::collections::HashMap;

use okdb_value::Value;

use crate::{Exc, Host, Limits, Program, Val};

/// A store of its own: `GET`, `SET` and `INCR` over a map.
#[derive(Default)]
struct MapHost {
    keys: HashMap<String, Value>,
}

impl Host for MapHost {
    fn command(&mut self, name: &str, args: Vec<Value>) -> Result<Val, Exc> {
        let key = |i: usize| match args.get(i) {
            Some(Value::Str(s)) => Ok(s.as_str().to_string()),
            _ => Err(Exc::raise("ERR", "a key")),
        };
        match name {
            "GET" => Ok(Val::V(
                self.keys.get(&key(0)?).cloned().unwrap_or(Value::Null),
            )),
            "SET" => {
                self.keys.insert(key(0)?, args[1].clone());
                Ok(Val::str("OK"))
            }
            _ => Err(Exc::raise("ERR", format!("unknown command '{name}'"))),
        }
    }

    fn is_command(&self, name: &str) -> bool {
        matches!(name, "GET" | "SET")
    }

    fn read(&mut self, key: &str) -> Result<Option<Value>, Exc> {
        Ok(self.keys.get(key).cloned())
    }

    fn now_ms(&self) -> u64 {
        1_800_000_000_000
    }

    fn seed(&self) -> u64 {
        42
    }
}

fn run_with(host: &mut MapHost, src: &str, limits: Limits) -> String {
    let out = Program::compile(src)
        .and_then(|p| p.run(host, limits, vec![], |_, v| crate::format::repr(&v)));
    match out {
        Ok(s) => s,
        Err(e) => format!("{}: {}", e.kind, e.msg),
    }
}

fn run(src: &str) -> String {
    run_with(&mut MapHost::default(), src, Limits::default())
}

#[track_caller]
fn check(cases: &[(&str, &str)]) {
    let mut bad = Vec::new();
    for (src, want) in cases {
        let got = run(src);
        if got != *want {
            bad.push(format!("{src:?}\n   want {want}\n    got {got}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} wrong:\n{}",
        bad.len(),
        cases.len(),
        bad.join("\n")
    );
}

#[test]
fn arithmetic_is_pythons() {
    check(&[
        ("7 // 2", "3"),
        ("-7 // 2", "-4"),
        ("7 // -2", "-4"),
        ("-7 % 3", "2"),
        ("7 % -3", "-2"),
        ("7 / 2", "3.5"),
        ("6 / 2", "3.0"),
        ("2 ** 10", "1024"),
        ("2 ** -1", "0.5"),
        ("-2 ** 2", "-4"),
        ("7.5 // 2", "3.0"),
        ("-7.5 % 2", "0.5"),
        ("1 / 0", "ZeroDivisionError: division by zero"),
        (
            "1 // 0",
            "ZeroDivisionError: integer division or modulo by zero",
        ),
        ("1.0 / 0", "ZeroDivisionError: float division by zero"),
        (
            "2 ** 63",
            "OverflowError: integer result out of range (okdb ints are 64-bit)",
        ),
        (
            "9223372036854775807 + 1",
            "OverflowError: integer result out of range (okdb ints are 64-bit)",
        ),
        ("True + True", "2"),
        ("0.1 + 0.2", "0.30000000000000004"),
        ("1e16", "1e+16"),
        ("1.5e-5", "1.5e-05"),
        ("123456789.0 * 10", "1234567890.0"),
        ("abs(-3)", "3"),
        ("round(2.5)", "2"),
        ("round(3.5)", "4"),
        ("round(2.675, 2)", "2.67"),
        ("round(1234, -2)", "1200"),
        ("divmod(-7, 2)", "(-4, 1)"),
        ("int('  42 ')", "42"),
        (
            "int('x')",
            "ValueError: invalid literal for int() with base 10: 'x'",
        ),
        ("float('1e3')", "1000.0"),
        ("int(3.9)", "3"),
        ("int(-3.9)", "-3"),
        ("1 < 2 < 3", "True"),
        ("1 < 3 < 2", "False"),
        ("1 == 1.0", "True"),
        ("'a' < 'b'", "True"),
        ("[1, 2] < [1, 3]", "True"),
        ("(1, 2) == [1, 2]", "False"),
        (
            "1 < 'a'",
            "TypeError: '<' not supported between instances of 'int' and 'str'",
        ),
        ("None or 0 or 'x'", "'x'"),
        ("1 and 0", "0"),
        ("not []", "True"),
        ("3 if 0 else 4", "4"),
        (
            "'%d' % 3",
            "NotSupported: '%' string formatting is not supported in okdb scripts; use an f-string",
        ),
    ]);
}

#[test]
fn sequences_index_and_slice_as_python() {
    check(&[
        ("xs = [1, 2, 3, 4, 5]; xs[-1]", "5"),
        ("xs = [1, 2, 3, 4, 5]; xs[1:3]", "[2, 3]"),
        ("xs = [1, 2, 3, 4, 5]; xs[::-1]", "[5, 4, 3, 2, 1]"),
        ("xs = [1, 2, 3, 4, 5]; xs[::2]", "[1, 3, 5]"),
        ("xs = [1, 2, 3, 4, 5]; xs[-2:]", "[4, 5]"),
        (
            "xs = [1, 2, 3]; xs[5]",
            "IndexError: list index out of range",
        ),
        ("'hello'[1:4]", "'ell'"),
        ("'héllo'[1]", "'é'"),
        ("'abc'[::-1]", "'cba'"),
        ("(1, 2, 3)[1:]", "(2, 3)"),
        ("(1,)", "(1,)"),
        ("xs = [1, 2, 3]; xs[1:2] = [7, 8, 9]; xs", "[1, 7, 8, 9, 3]"),
        ("xs = [1, 2, 3, 4]; del xs[::2]; xs", "[2, 4]"),
        ("range(10)[2:8:2]", "range(2, 8, 2)"),
        ("list(range(10, 0, -3))", "[10, 7, 4, 1]"),
        ("xs = [3, 1, 2]; xs.sort(); xs", "[1, 2, 3]"),
        (
            "sorted(['b', 'A', 'c'], key=lambda s: s.lower(), reverse=True)",
            "['c', 'b', 'A']",
        ),
        (
            "sorted([(1, 'b'), (0, 'z'), (1, 'a')])",
            "[(0, 'z'), (1, 'a'), (1, 'b')]",
        ),
        ("a, *b, c = [1, 2, 3, 4]; b", "[2, 3]"),
        ("a, b = 1", "TypeError: 'int' object is not iterable"),
        (
            "a, b = [1, 2, 3]",
            "ValueError: too many values to unpack (expected 2)",
        ),
        ("[1, 2] * 2", "[1, 2, 1, 2]"),
        ("'ab' * 3", "'ababab'"),
        (
            "[1] + (2,)",
            "TypeError: can only concatenate list (not \"tuple\") to list",
        ),
    ]);
}

#[test]
fn containers_are_shared_objects_as_in_python() {
    check(&[
        ("a = [1]; b = a; b.append(2); a", "[1, 2]"),
        ("d = {}; d.setdefault('k', []).append(1); d", "{'k': [1]}"),
        (
            "rows = [{'a': 1}, {'a': 2}]\nfor r in rows:\n    r['a'] += 10\nrows",
            "[{'a': 11}, {'a': 12}]",
        ),
        ("a = [1, 2]; a += [3]; a", "[1, 2, 3]"),
        ("xs = []; xs.append(xs); len(xs)", "1"),
        ("d = {1: 'a', 1.0: 'b', True: 'c'}; d", "{1: 'c'}"),
        ("{[1]: 2}", "TypeError: unhashable type: 'list'"),
        ("d = {'a': 1}; d['b']", "KeyError: 'b'"),
        ("s = {1, 2}; s.add(3); sorted(s)", "[1, 2, 3]"),
        ("{1, 2} | {3}", "{1, 2, 3}"),
        ("{1, 2} & {2, 3}", "{2}"),
        (
            "d = {'a': 1, 'b': 2}; [k for k, v in d.items() if v > 1]",
            "['b']",
        ),
        ("d = {'x': 1}; d.update({'y': 2}); d", "{'x': 1, 'y': 2}"),
        ("d = dict(a=1, b=2); d.pop('a'); d", "{'b': 2}"),
        ("{'a': 1} == {'a': 1.0}", "True"),
    ]);
}

#[test]
fn functions_closures_and_comprehensions() {
    check(&[
        // Ints read in place (constants and locals in arithmetic, comparisons and `+=`) keep
        // Python's meaning: a local captured while `+=` evaluates its right side is changed
        // through its cell; other types and overflows take the general path.
        ("t = 1; fs = []; t += (fs.append(lambda: t) or 1); [t, fs[0]()]", "[2, 2]"),
        ("t = 1; t += (lambda: t)(); t", "2"),
        ("t = 1\ng = lambda: t\nt += 5\n[t, g()]", "[6, 6]"),
        ("t = 2**62; t += 2**62", "OverflowError: integer result out of range (okdb ints are 64-bit)"),
        ("n = 2**62; [n - 1 < n, n * 2]", "OverflowError: integer result out of range (okdb ints are 64-bit)"),
        ("x = 1.5; [x < 2, x == 1, 2 > x, x + 1]", "[True, False, True, 2.5]"),
        ("x = True; [x == 1, x + 1, x < 2, 1 != x]", "[True, 2, True, False]"),
        ("i = 0; i += 'a'", "TypeError: unsupported operand type(s) for +: 'int' and 'str'"),
        ("t = 7; t -= 2.5; t", "4.5"),
        ("t = 7; t //= 0", "ZeroDivisionError: integer division or modulo by zero"),
        ("n = 7; [n // 2, n % -3, -n // 2, n / 2, n ** 2, n << 2, n > 3 > 1, 'a' < 'b']", "[3, -2, -4, 3.5, 49, 28, True, True]"),
        ("def f():\n    y = 1\n    y += x\n    x = 2\nf()", "UnboundLocalError: cannot access local variable 'x' where it is not associated with a value"),
        ("def f(x, y=2):\n    return x * y\nf(3)", "6"),
        ("def f(x, y=2):\n    return x * y\nf(3, y=4)", "12"),
        ("def f(x): return x\nf()", "TypeError: f() missing 1 required positional argument: 'x'"),
        ("def f(x): return x\nf(1, 2)", "TypeError: f() takes 1 positional argument but 2 were given"),
        ("def fact(n):\n    return 1 if n <= 1 else n * fact(n - 1)\nfact(10)", "3628800"),
        ("def outer():\n    def inner(n):\n        return 0 if n == 0 else 1 + inner(n - 1)\n    return inner(5)\nouter()", "5"),
        ("def counter():\n    n = [0]\n    def inc():\n        n[0] += 1\n        return n[0]\n    return inc\nc = counter(); c(); c()", "2"),
        ("fs = [lambda: i for i in range(3)]; [f() for f in fs]", "[2, 2, 2]"),
        ("fs = [lambda i=i: i for i in range(3)]; [f() for f in fs]", "[0, 1, 2]"),
        ("[x * y for x in range(3) for y in range(3) if x != y]", "[0, 0, 0, 2, 0, 2]"),
        ("{x: x * x for x in range(4)}", "{0: 0, 1: 1, 2: 4, 3: 9}"),
        ("{x % 3 for x in range(10)}", "{0, 1, 2}"),
        ("sum(x for x in range(101))", "5050"),
        ("any(x > 5 for x in range(10))", "True"),
        ("all(x < 5 for x in range(10))", "False"),
        ("max([3, 9, 2], key=lambda x: -x)", "2"),
        ("min([])", "ValueError: min() arg is an empty sequence"),
        ("list(map(lambda x: x + 1, [1, 2]))", "[2, 3]"),
        ("list(filter(None, [0, 1, '', 'a']))", "[1, 'a']"),
        ("list(zip('ab', range(5)))", "[('a', 0), ('b', 1)]"),
        ("list(enumerate('ab', 1))", "[(1, 'a'), (2, 'b')]"),
        ("x = 1\ndef f():\n    return x\nx = 2\nf()", "2"),
        ("def f():\n    y = y + 1\nf()", "UnboundLocalError: cannot access local variable 'y' where it is not associated with a value"),
        ("undefined_name", "NameError: name 'undefined_name' is not defined"),
        ("[y for y in range(3)]; y", "NameError: name 'y' is not defined"),
        // `x[c]` on a local reads through its slot: unbound, captured and changed locals too.
        ("def f():\n    v = d['a']\n    d = {'a': 1}\nf()", "UnboundLocalError: cannot access local variable 'd' where it is not associated with a value"),
        ("def f():\n    d = {'a': 1}\n    g = lambda: d['a']\n    d['a'] = 2\n    return g() + d['a']\nf()", "4"),
        ("xs = [[1], [2]]\nfor x in xs:\n    x[0] += 10\n[x[0] for x in xs]", "[11, 12]"),
        ("d = {'a': [1]}; e = d['a']; e.append(2); d['a']", "[1, 2]"),
        ("s = 'abc'; s[-1] + s[0]", "'ca'"),
    ]);
}

#[test]
fn statements_and_strings() {
    check(&[
        ("t = 0\nfor i in range(10):\n    if i % 2:\n        continue\n    if i > 6:\n        break\n    t += i\nt", "12"),
        ("i = 0\nwhile True:\n    i += 1\n    if i == 5: break\ni", "5"),
        ("for i in range(3):\n    pass\nelse:\n    i = 'done'\ni", "'done'"),
        ("x = 5\nif x > 3:\n    r = 'big'\nelif x > 1:\n    r = 'mid'\nelse:\n    r = 'small'\nr", "'big'"),
        ("n = 3; w = 7; f'{n:>{w}}|{n!r}|{3.14159:.2f}|{255:x}|{1234567:,}'", "'      3|3|3.14|ff|1,234,567'"),
        ("f'{\"a\" + \"b\"}'", "'ab'"),
        ("f'{1 != 2}|{3 >= 3}|{2 <= 1}|{1 == 1!r}'", "'True|True|False|True'"),
        ("f\"{0 != \"1\"}\"", "SyntaxError: f-string: invalid syntax at ')'"),
        ("'a,b,,c'.split(',')", "['a', 'b', '', 'c']"),
        ("'  a b  '.split()", "['a', 'b']"),
        ("'-'.join(['a', 'b'])", "'a-b'"),
        ("'hello'.replace('l', 'L', 1)", "'heLlo'"),
        ("'Hello World'.lower().title()", "'Hello World'"),
        ("'abc'.find('c')", "2"),
        ("'{} {x}'.format(1, x=2)", "'1 2'"),
        ("'a' in 'cat'", "True"),
        ("repr('it\\'s')", "'\"it\\'s\"'"),
        ("str(1.0)", "'1.0'"),
        ("str(None)", "'None'"),
        ("assert 1 == 2, 'nope'", "AssertionError: nope"),
        ("return 5\n6", "5"),
        ("x = 1", "None"),
        ("isinstance(True, int)", "True"),
        ("isinstance([], (dict, list))", "True"),
    ]);
}

#[test]
fn refused_constructs_name_themselves() {
    check(&[
        ("import os", "NotSupported: import is not supported in okdb scripts"),
        ("class A: pass", "NotSupported: class definitions are not supported in okdb scripts"),
        ("try:\n    x = 1\nexcept: pass", "NotSupported: try statements are not supported in okdb scripts"),
        ("def g():\n    yield 1", "NotSupported: yield (generators) are not supported in okdb scripts"),
        ("x.__class__", "NotSupported: attribute access to internals ('.__class__') is not supported in okdb scripts"),
        ("[].foo", "AttributeError: 'list' object has no attribute 'foo'"),
        ("1 +", "SyntaxError: unexpected end of line"),
        ("(1, 2", "SyntaxError: unexpected end of script: a bracket is not closed"),
        ("if 1:\nx = 2", "IndentationError: expected an indented block"),
    ]);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(
        run(&deep).starts_with("SyntaxError: too many nested brackets"),
        "{}",
        run(&deep)
    );
    let unary = format!("{}1", "-".repeat(100_000));
    assert!(run(&unary).starts_with("SyntaxError: too deeply nested"));
    let nots = format!("{}1", "not ".repeat(100_000));
    assert!(run(&nots).starts_with("SyntaxError: too deeply nested"));
    let mut blocks = String::new();
    for i in 0..200 {
        blocks.push_str(&" ".repeat(i));
        blocks.push_str("if 1:\n");
    }
    blocks.push_str(&" ".repeat(200));
    blocks.push_str("x = 1\n");
    assert!(
        run(&blocks).contains("too deeply nested"),
        "{}",
        run(&blocks)
    );
}

#[test]
fn budgets_stop_hostile_scripts() {
    let small = Limits {
        steps: 100_000,
        memory: 1 << 20,
        time: std::time::Duration::from_millis(200),
        depth: 50,
    };
    let mut host = MapHost::default();
    let mut budget = |src: &str| run_with(&mut host, src, small);
    assert!(budget("while True: pass").starts_with("BUDGET: the script ran more than 100000 steps"));
    assert!(budget("'x' * 10**12").starts_with("BUDGET: the script allocated more than"));
    assert!(budget("[0] * 10**9").starts_with("BUDGET"));
    assert!(budget("xs = []\nwhile True: xs.append(xs)").starts_with("BUDGET"));
    assert!(budget("def f(n): return f(n + 1)\nf(0)")
        .starts_with("BUDGET: calls nested more than 50 deep"));
    assert!(budget("[x for x in range(10**9)]").starts_with("BUDGET"));
    assert!(budget("sum(x for x in range(10**9))").starts_with("BUDGET"));
    // Each object made counts, empty ones too (all are held until the script ends).
    assert!(budget("while True:\n    d = {}").starts_with("BUDGET: the script allocated more than"));
    assert!(
        budget("[() for _ in range(10**6)]").starts_with("BUDGET: the script allocated more than")
    );
    // A frame counts while its call runs: 10,000 calls of 5 slots (1.6 MB made one after
    // another) fit in 1 MiB; what a call makes and keeps still counts.
    assert_eq!(
        budget("def f(a, b):\n    c = a + b\n    d = c\n    e = d\n    return e\nt = 0\nfor i in range(10000):\n    t = f(t, 1)\nt"),
        "10000"
    );
    assert!(budget(
        "def f(xs):\n    xs.append([0] * 100)\nxs = []\nfor i in range(10000):\n    f(xs)"
    )
    .starts_with("BUDGET: the script allocated more than"));
    let slow = Limits {
        steps: u64::MAX,
        ..small
    };
    let t = std::time::Instant::now();
    let r = run_with(&mut host, "while True: pass", slow);
    assert!(
        r.starts_with("BUDGET: the script ran longer than 200 ms"),
        "{r}"
    );
    assert!(t.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn commands_are_functions_and_keys_read_with_dollar() {
    let mut host = MapHost::default();
    assert_eq!(
        run_with(&mut host, "SET('a', 21)", Limits::default()),
        "'OK'"
    );
    assert_eq!(
        run_with(&mut host, "SET('b', $a * 2); GET('b')", Limits::default()),
        "42"
    );
    assert_eq!(
        run_with(
            &mut host,
            "x = GET('b'); SET('c', x * 2 if x > 20 else x * 3); $c",
            Limits::default()
        ),
        "84"
    );
    assert_eq!(
        run_with(&mut host, "$missing is None", Limits::default()),
        "True"
    );
}

#[test]
fn stored_values_are_read_without_a_copy_and_change_where_they_live() {
    let mut host = MapHost::default();
    let users =
        okdb_value::json::from_str(r#"[{"name": "a", "age": 30}, {"name": "b", "age": 40}]"#)
            .unwrap();
    host.keys.insert("users".into(), users);
    let run = |host: &mut MapHost, src: &str| run_with(host, src, Limits::default());
    assert_eq!(
        run(
            &mut host,
            "[u['name'] for u in GET('users') if u['age'] > 30]"
        ),
        "['b']"
    );
    assert_eq!(
        run(
            &mut host,
            "us = GET('users'); us[0]['age'] = 31; us[0]['age']"
        ),
        "31"
    );
    assert_eq!(
        run(
            &mut host,
            "us = GET('users'); us.append({'name': 'c'}); SET('users', us); len($users)"
        ),
        "'OK'".replace("'OK'", "3")
    );
    assert_eq!(run(&mut host, "$users[0]['age']"), "30");
}

#[test]
fn records_a_script_holds_are_shared_and_copied_only_when_changed() {
    let mut host = MapHost::default();
    let users = okdb_value::json::from_str(
        r#"[{"name": "a", "age": 30, "tags": [1, 2]}, {"name": "b", "age": 40, "tags": []}]"#,
    )
    .unwrap();
    host.keys.insert("users".into(), users);
    let cases = [
        // A record read out of the script's own list is one object, wherever it is read from.
        ("xs = list(GET('users')); y = xs[0]; y['age'] = 99; [xs[0]['age'], $users[0]['age']]", "[99, 30]"),
        ("xs = list(GET('users')); y = xs[0]; [y is xs[0], xs[0] is xs[0]]", "[True, True]"),
        ("xs = list(GET('users')); t = xs[1]['tags']; t.append(5); xs[1]['tags']", "[5]"),
        ("xs = list(GET('users')); d = xs[0]; d.setdefault('z', []).append(3); xs[0]['z']", "[3]"),
        ("xs = list(GET('users')); d = xs[0]; c = d.copy(); c['n'] = 1; ['n' in d, 'n' in c]", "[False, True]"),
        ("xs = list(GET('users')); d = xs[0]; d.clear(); [xs[0], len(d), xs[1]['name']]", "[{}, 0, 'b']"),
        ("xs = list(GET('users')); d = xs[0]; v = d.values(); d.pop('name'); [v, list(d)]", "[['a', 30, [1, 2]], ['age', 'tags']]"),
        ("xs = list(GET('users')); d = xs[0]; del d['age']; [xs[0], 'age' in d]", "[{'name': 'a', 'tags': [1, 2]}, False]"),
        ("xs = list(GET('users')); d = xs[0]; d |= {'q': 1}; xs[0]['q']", "1"),
        ("xs = list(GET('users')); d = xs[1]; d['me'] = d; d['me']['me']['name']", "'b'"),
        ("xs = list(GET('users')); d = xs[0]; [d == {'name': 'a', 'age': 30, 'tags': [1, 2]}, d.get(1), d.get('age')]", "[True, None, 30]"),
        ("xs = list(GET('users')); xs[0]['age'] = 1; SET('copy', xs); [$copy[0]['age'], $users[0]['age']]", "[1, 30]"),
        // An item only compared, tested or measured is lent, not shared; one kept is shared.
        ("xs = list(GET('users')); [1 in xs[0]['tags'], len(xs[0]['tags']), xs[0]['tags'] == [1, 2], bool(xs[1]['tags']), str(xs[1]['tags'])]", "[True, 2, True, False, '[]']"),
        ("xs = list(GET('users')); t = xs[0]['tags']; t.append(3); [3 in xs[0]['tags'], len(xs[0]['tags'])]", "[True, 3]"),
        ("xs = list(GET('users')); xs[0]['tags'].append(9); [9 in xs[0]['tags'], xs[0]['tags'] is xs[0]['tags']]", "[True, True]"),
        ("xs = list(GET('users')); n = 0\nif xs[1]['tags']:\n    n = 1\nwhile xs[0]['tags'] and n < 3:\n    n += 1\nn", "3"),
        ("d = {'a': [1]}; [d['a'] == [1], 1 in d['a'], len(d['b'])]", "KeyError: 'b'"),
        ("xs = [[1], [2]]; [xs[-1] == [2], 2 in xs[1], len(xs[5])]", "IndexError: list index out of range"),
    ];
    for (src, want) in cases {
        assert_eq!(run_with(&mut host, src, Limits::default()), want, "{src}");
    }

    // A held record the script made refer to itself is freed when the script ends, as every
    // object it made is (the cycle is broken then).
    for src in [
        "xs = list(GET('users')); d = xs[1]; d['me'] = d; d",
        "xs = list(GET('users')); d = xs[1]; d.clear(); d['me'] = d; d",
    ] {
        let mut held = None;
        Program::compile(src)
            .unwrap()
            .run(&mut host, Limits::default(), vec![], |_, v| {
                if let Val::Dict(d) = &v {
                    held = Some(std::rc::Rc::downgrade(d));
                }
                Ok(())
            })
            .unwrap();
        let held = held.expect("the script answers its dict");
        assert!(
            held.upgrade().is_none(),
            "{src}: the dict outlived the script"
        );
    }

    // Walking a list of records the script holds costs an object each (48 bytes), not a copy
    // of each record: 20,000 records fit in 2 MiB with their list (32 bytes a slot). A copy of
    // each (two items an entry) would not, and neither do the records once each is changed.
    let records: Vec<String> = (0..20_000)
        .map(|i| format!(r#"{{"name": "u{i}", "age": {}}}"#, i % 100))
        .collect();
    host.keys.insert(
        "many".into(),
        okdb_value::json::from_str(&format!("[{}]", records.join(","))).unwrap(),
    );
    let small = Limits {
        memory: 2 << 20,
        ..Limits::default()
    };
    let walk = "xs = list(GET('many'))\nt = 0\nfor x in xs:\n    t += x['age']\nt";
    assert_eq!(run_with(&mut host, walk, small), "990000");
    // Testing a list field of each (`in`, `len`) lends it: no record is copied.
    let tagged: Vec<String> = (0..20_000)
        .map(|i| format!(r#"{{"name": "u{i}", "tags": [{}, 7]}}"#, i % 3))
        .collect();
    host.keys.insert(
        "tagged".into(),
        okdb_value::json::from_str(&format!("[{}]", tagged.join(","))).unwrap(),
    );
    let test = "xs = list(GET('tagged'))\nn = 0\nfor x in xs:\n    if 1 in x['tags'] and len(x['tags']) == 2:\n        n += 1\nn";
    assert_eq!(run_with(&mut host, test, small), "6667");
    let change = "xs = list(GET('many'))\nfor x in xs:\n    x['age'] += 1\nlen(xs)";
    assert!(
        run_with(&mut host, change, small).starts_with("BUDGET"),
        "changing each record copies it, and the copies are charged"
    );
}

/// The planner's aggregates (`sum`, `min`, `max` of a field, a count, the matches, and a scan
/// over a scan's matches) answer exactly what the interpreter does, errors included, over
/// random records: ints (some near the ends of the 64-bit range), floats (NaN, infinities,
/// -0.0), decimals, bools, strings, None, a missing field, an item that is not a record.
#[test]
fn planned_aggregates_agree_with_the_interpreter() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut host = MapHost::default();
    let mut checked = 0;
    for round in 0..300 {
        // A third of the rounds hold one kind of value in `b` (what a real table holds), a third
        // mix numbers, a third mix anything.
        let kind = next(10);
        let n = next(40);
        let mut items = Vec::new();
        for i in 0..n {
            let k = match round % 3 {
                0 => [0, 1, 2, 3, 4, 7, 8, 9][next(8) as usize],
                1 => next(10),
                _ => kind,
            };
            let b = match k {
                0 | 1 => format!("{}", next(200) as i64 - 100),
                2 => format!("{}", i64::MAX - next(3) as i64),
                3 => format!("{}.5", next(50) as i64 - 25),
                4 => ["float('nan')", "float('inf')", "float('-inf')", "-0.0"][next(4) as usize]
                    .to_string(),
                5 => format!("\"s{}\"", next(20)),
                6 => ["True", "False", "None"][next(3) as usize].to_string(),
                7 => format!("{}", next(10)),
                8 => format!("{}.0", next(10)),
                _ => format!(
                    "decimal('{}.{}')",
                    next(10),
                    ["0", "5", "25"][next(3) as usize]
                ),
            };
            let item = match next(60) {
                0 => "7".to_string(),
                1 => format!(r#"{{"a": {}}}"#, next(10)),
                _ => format!(r#"{{"a": {}, "id": {i}, "b": {b}}}"#, next(10)),
            };
            items.push(item);
        }
        let stored = okdb_value::literal::parse_literal(&format!("[{}]", items.join(", ")))
            .expect("records");
        host.keys.insert("t".into(), stored);
        let c = next(10);
        let cond = ["", " if x['a'] > C", " if x['a'] <= C and x['a'] != 3"][next(3) as usize]
            .replace('C', &c.to_string());
        let src = |from: &str| {
            [
                format!("sum(x['b'] for x in {from}{cond})"),
                format!("min(x['b'] for x in {from}{cond})"),
                format!("max(x['b'] for x in {from}{cond})"),
                format!("sum(1 for x in {from}{cond})"),
                format!("[x['id'] for x in [x for x in {from}{cond}]]"),
                format!(
                    "sum(y['b'] for y in [x for x in {from} if x['a'] >= 2]{})",
                    cond.replace("x[", "y[")
                ),
                format!("max(y['b'] for y in [x for x in {from}{cond}] if y['a'] < 8)"),
            ]
        };
        for (planned, interpreted) in src("GET('t')").iter().zip(src("list(GET('t'))")) {
            let want = run_with(&mut host, &interpreted, Limits::default());
            let got = run_with(&mut host, planned, Limits::default());
            assert_eq!(got, want, "{planned}\nover {}", items.join(", "));
            checked += 1;
        }
    }
    assert_eq!(checked, 2100);
}

#[test]
fn regular_expressions() {
    check(&[
        ("re.match(r'(\\d+)-(\\d+)', '12-34').groups()", "('12', '34')"),
        ("re.match(r'\\d+', 'x12')", "None"),
        ("re.search(r'\\d+', 'x12').group()", "'12'"),
        ("re.findall(r'\\d', 'a1b2')", "['1', '2']"),
        ("re.sub(r'(\\w)(\\d)', r'\\2\\1', 'a1 b2')", "'1a 2b'"),
        ("re.split(r',\\s*', 'a, b,c')", "['a', 'b', 'c']"),
        ("re.fullmatch(r'a+', 'aab')", "None"),
        ("m = re.search(r'(?P<y>\\d{4})', 'in 2026'); (m['y'], m.start(), m.span())", "('2026', 3, (3, 7))"),
        ("re.match(r'(a)\\1', 'aa')", "ValueError: invalid regular expression: regex parse error:\n    (a)\\1\n       ^^\nerror: backreferences are not supported"),
    ]);
}

#[test]
fn nesting_never_overflows_the_stack() {
    // Calls and nested expressions as deep as the bounds allow run on a thread with a small
    // stack (evaluation moves to a new stack segment when it runs low); deeper is BUDGET.
    let cases = [
        (21, 40, "840"),
        (160, 0, "0"),
        (90, 5, "450"),
        (1000, 0, "BUDGET"),
    ];
    for (depth, width, want) in cases {
        let inner = format!("{}f(n - 1){}", "1 + (".repeat(width), ")".repeat(width));
        let src = format!("def f(n):\n    return 0 if n == 0 else {inner}\nf({depth})");
        let got = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || {
                let limits = Limits {
                    depth: 1000,
                    ..Limits::default()
                };
                run_with(&mut MapHost::default(), &src, limits)
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(got.starts_with(want), "depth {depth} width {width}: {got}");
    }
}

#[test]
fn hostile_scripts_found_in_review_fail_cleanly() {
    check(&[
        ("-1 in range(9223372036854775807, 0, -1)", "False"),
        (
            "xs = [1]; xs.remove(xs)",
            "ValueError: list.remove(x): x not in list",
        ),
        (
            "d = deque([1]); d.index(d)",
            "ValueError: deque([1]) is not in deque",
        ),
        ("a = []; a.append(a); a == a", "True"),
        ("a = []; a.append(a); a in [a]", "True"),
        (
            "a = []; a.append(a); a.append(a); str(a)",
            "'[[...], [...]]'",
        ),
        ("d = {}; d['d'] = d; repr(d)", "\"{'d': {...}}\""),
        ("a = None\nfor i in range(100000): a = [a]\n1", "1"),
        ("a = (1,)\nfor i in range(100000): a = (a,)\n1", "1"),
        (
            "def f():\n    a = None\n    for i in range(100000): a = {'k': a}\n    return 2\nf()",
            "2",
        ),
        ("True & True", "True"),
        ("True | False", "True"),
        ("pow(2, 0, 1)", "0"),
        ("'a\\rb\\r\\nc\\n'.splitlines()", "['a', 'b', 'c']"),
        ("[] * 2**62", "[]"),
        ("() * 2**62", "()"),
        ("int('0x10', 0)", "16"),
        ("round(1.5, -9223372036854775807 - 1)", "0.0"),
        (
            "list(enumerate('ab', 2**63 - 1))",
            "OverflowError: integer result out of range (okdb ints are 64-bit)",
        ),
        ("[1, 2, 3][::-9223372036854775807 - 1]", "[3]"),
        (
            "range(0, 2**62, 2**32)[::2**32]",
            "OverflowError: integer result out of range (okdb ints are 64-bit)",
        ),
    ]);
    let long = format!("x = {}1", "1 + ".repeat(5000));
    assert!(
        run(&long).starts_with("SyntaxError: expression too long"),
        "{}",
        run(&long)
    );
    let small = Limits {
        steps: 1_000_000,
        memory: 1 << 20,
        time: std::time::Duration::from_millis(2000),
        depth: 50,
    };
    let mut host = MapHost::default();
    let mut budget = |src: &str| run_with(&mut host, src, small);
    assert_eq!(budget("sum(i for i in range(100000))"), "4999950000");
    for src in [
        "-1 in iter(range(2**62))",
        "re.sub('', 'x' * 10**5, 'a' * 10**5)",
        "('{0:99999}' * 100000).format(1)",
        "SET('k', range(10**12))",
        "a = [0] * 1000; b = [a] * 1000; str([b] * 1000)",
    ] {
        let got = budget(src);
        assert!(got.starts_with("BUDGET"), "{src}: {got}");
    }
}
