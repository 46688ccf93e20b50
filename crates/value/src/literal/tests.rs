//! Tests of the literal parser, and round trips of generated values through every reader.

use super::*;
use crate::json::tests::same;
use crate::json::{self, from_json, from_str, to_json, to_string, to_string_pretty};
use base64::Engine as _;

/// Parses `input` as a whole literal and compares the typed JSON of the result.
#[track_caller]
fn check(input: &str, expected: &str) {
    match parse_literal(input) {
        Ok(v) => assert_eq!(to_string(&v), expected, "parse_literal({input:?})"),
        Err(e) => panic!("parse_literal({input:?}) failed: {e}"),
    }
}

#[track_caller]
fn check_err(input: &str, expected: &str) {
    assert_eq!(
        parse_literal(input),
        Err(ValueError::Literal(expected.to_string())),
        "parse_literal({input:?})"
    );
}

/// Interprets `arg` as a command argument and compares the typed JSON of the result.
#[track_caller]
fn check_arg(arg: &str, expected: &str) {
    match parse_arg(arg.as_bytes()) {
        Ok(v) => assert_eq!(to_string(&v), expected, "parse_arg({arg:?})"),
        Err(e) => panic!("parse_arg({arg:?}) failed: {e}"),
    }
}

#[test]
fn keywords() {
    for (input, expected) in [
        ("null", "null"),
        ("None", "null"),
        ("true", "true"),
        ("True", "true"),
        ("false", "false"),
        ("False", "false"),
        (" \t\n\r None \n", "null"),
    ] {
        check(input, expected);
    }
}

#[test]
fn ints() {
    for (input, expected) in [
        ("0", "0"),
        ("-0", "0"),
        ("42", "42"),
        ("-7", "-7"),
        ("1_000", "1000"),
        ("1_2_3", "123"),
        ("0x1F", "31"),
        ("0X1f", "31"),
        ("0x_ff", "255"),
        ("0xdead_beef", "3735928559"),
        ("0o17", "15"),
        ("0O17", "15"),
        ("0b101", "5"),
        ("0B1_0", "2"),
        ("-0x10", "-16"),
        ("9223372036854775807", "9223372036854775807"),
        ("-9223372036854775808", "-9223372036854775808"),
        ("0x7fffffffffffffff", "9223372036854775807"),
        ("-0x8000000000000000", "-9223372036854775808"),
    ] {
        check(input, expected);
    }
}

#[test]
fn floats() {
    for (input, expected) in [
        ("1.5", "1.5"),
        ("-0.25", "-0.25"),
        ("0.0", "0.0"),
        ("-0.0", "-0.0"),
        ("1e9", "1000000000.0"),
        ("1E-3", "0.001"),
        ("2.5E+2", "250.0"),
        (".5", "0.5"),
        ("-.5", "-0.5"),
        ("5.", "5.0"),
        ("5.e3", "5000.0"),
        ("0e0", "0.0"),
        ("1_0.5e1_0", "105000000000.0"),
        ("0.1", "0.1"),
        ("0.30000000000000004", "0.30000000000000004"),
        ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ("5e-324", "5e-324"),
        ("1e-400", "0.0"),
        ("9007199254740993.0", "9007199254740992.0"),
    ] {
        check(input, expected);
    }
}

#[test]
fn strings() {
    for (input, expected) in [
        (r#""""#, r#""""#),
        ("''", r#""""#),
        (r#""abc""#, r#""abc""#),
        ("'abc'", r#""abc""#),
        (r#"'say "hi"'"#, r#""say \"hi\"""#),
        (r#""it's""#, r#""it's""#),
        (r#"'it\'s'"#, r#""it's""#),
        (r#""a\nb\t\"\\\/""#, r#""a\nb\t\"\\/""#),
        (r#"'\a\v\b\f\r'"#, r#""\u0007\u000b\b\f\r""#),
        (r#""\x41\u00e9\U0001F600\0""#, r#""Aé😀\u0000""#),
        (r#"'\101\7\0101'"#, r#""A\u0007\b1""#),
        (r#""\ud83d\ude00""#, r#""😀""#),
        (r#""\uD83D\uDE00!""#, r#""😀!""#),
        ("'héllo 😀'", r#""héllo 😀""#),
        ("'a\nb'", r#""a\nb""#),
        ("'a\\\nb'", r#""ab""#),
        ("'x' ", r#""x""#),
    ] {
        check(input, expected);
    }
}

#[test]
fn lists_dicts_and_sets() {
    for (input, expected) in [
        ("[]", "[]"),
        ("[ ]", "[]"),
        ("[1, 'a', None, True, 2.5]", r#"[1,"a",null,true,2.5]"#),
        ("[1, 2,]", "[1,2]"),
        ("[1, 2 , ]", "[1,2]"),
        (" [ 1 ,\n\t2 ] ", "[1,2]"),
        ("[[1, [2]], []]", "[[1,[2]],[]]"),
        ("{}", "{}"),
        ("{ }", "{}"),
        (r#"{'a': 1, "b": [True]}"#, r#"{"a":1,"b":[true]}"#),
        ("{'b': 1, 'a': 2}", r#"{"b":1,"a":2}"#),
        ("{'a': 1,}", r#"{"a":1}"#),
        ("{'a': 1, 'b': 2, 'a': 3}", r#"{"a":3,"b":2}"#),
        ("{'a': {'b': {}}}", r#"{"a":{"b":{}}}"#),
        ("{1, 2}", r#"{"$set":[1,2]}"#),
        ("{2, 1, 2}", r#"{"$set":[1,2]}"#),
        ("{'b', 'a'}", r#"{"$set":["a","b"]}"#),
        ("{'a'}", r#"{"$set":["a"]}"#),
        ("{3,}", r#"{"$set":[3]}"#),
        ("{1, 1.0}", r#"{"$set":[1]}"#),
        ("{1.0, 1}", r#"{"$set":[1.0]}"#),
        (
            "{True, 1, None, 'x', 0.5}",
            r#"{"$set":[null,true,0.5,1,"x"]}"#,
        ),
        ("{bytes('aGk='), 1}", r#"{"$set":[1,{"$bytes":"aGk="}]}"#),
        ("[{1}, {'a': {2}}]", r#"[{"$set":[1]},{"a":{"$set":[2]}}]"#),
    ] {
        check(input, expected);
    }
}

#[test]
fn typed_json_inside_literals() {
    for (input, expected) in [
        ("{'$set': [1, 2]}", r#"{"$set":[1,2]}"#),
        ("{'$set': [1],}", r#"{"$set":[1]}"#),
        ("{ '$set' : [ ] }", r#"{"$set":[]}"#),
        (r#"{"$bytes": "aGk="}"#, r#"{"$bytes":"aGk="}"#),
        ("{'$float': 'nan'}", r#"{"$float":"nan"}"#),
        ("{'$float': 2}", "2.0"),
        ("{'$dict': {'$set': 1}}", r#"{"$dict":{"$set":1}}"#),
        ("{'$dict': {'a': {'$set': [1]}}}", r#"{"a":{"$set":[1]}}"#),
        (
            "{'$dict': {'$dict': {'$set': [1]}}}",
            r#"{"$dict":{"$dict":{"$set":[1]}}}"#,
        ),
        ("{'$dict': dict(a=1)}", r#"{"a":1}"#),
        ("{'$a': 1, '$b': 2}", r#"{"$a":1,"$b":2}"#),
        (
            "{'$dict': {'$set': [1]}, 'b': 2}",
            r#"{"$dict":{"$set":[1]},"b":2}"#,
        ),
        // Two keys in the text make a plain dict, even when they are the same key.
        ("{'$set': [1], '$set': [2]}", r#"{"$dict":{"$set":[2]}}"#),
        (
            "{'$dict': {'$set': [1]}, '$dict': 2}",
            r#"{"$dict":{"$dict":2}}"#,
        ),
        ("{'$bytes': 'aGk='}", r#"{"$bytes":"aGk="}"#),
    ] {
        check(input, expected);
    }
    check_err("{'$xyz': 1}", "unknown type tag $xyz at offset 0");
    check_err("[{'$set': 5}]", "$set takes a list, got int at offset 1");
    check_err(
        "{'$dict': {1, 2}}",
        "$dict takes an object, got set at offset 0",
    );
    check_err("{'$dict': 5}", "$dict takes an object, got int at offset 0");
    assert_eq!(
        parse_literal("{'$set': [[1]]}"),
        Err(ValueError::Unhashable("list"))
    );
}

#[test]
fn constructors() {
    for (input, expected) in [
        ("set()", r#"{"$set":[]}"#),
        ("set([3, 1, 1])", r#"{"$set":[1,3]}"#),
        ("set({1, 2})", r#"{"$set":[1,2]}"#),
        ("set({'a': 1})", r#"{"$set":["a"]}"#),
        ("set('aba')", r#"{"$set":["a","b"]}"#),
        ("set ( [1] , )", r#"{"$set":[1]}"#),
        ("list()", "[]"),
        ("list([1, 2])", "[1,2]"),
        ("list({2, 1})", "[1,2]"),
        ("list('ab')", r#"["a","b"]"#),
        ("list({'x': 1, 'y': 2})", r#"["x","y"]"#),
        ("list(bytes('AAE='))", "[0,1]"),
        ("dict()", "{}"),
        ("dict({'a': 1})", r#"{"a":1}"#),
        ("dict(a=1, b=[2])", r#"{"a":1,"b":[2]}"#),
        ("dict({'a': 1}, b=2)", r#"{"a":1,"b":2}"#),
        ("dict([['a', 1], ['b', 2]])", r#"{"a":1,"b":2}"#),
        ("dict(a = 1, a_b=2,)", r#"{"a":1,"a_b":2}"#),
        ("dict([['$k', 1]])", r#"{"$dict":{"$k":1}}"#),
        ("dict({'$dict': {'$k': 1}})", r#"{"$dict":{"$k":1}}"#),
        ("dict(x=dict(y=set()))", r#"{"x":{"y":{"$set":[]}}}"#),
        ("bytes()", r#"{"$bytes":""}"#),
        ("bytes('aGk=')", r#"{"$bytes":"aGk="}"#),
        ("bytes('aGk')", r#"{"$bytes":"aGk="}"#),
        ("bytes([104, 105])", r#"{"$bytes":"aGk="}"#),
        ("bytes(bytes('aGk='))", r#"{"$bytes":"aGk="}"#),
        ("float()", "0.0"),
        ("float('inf')", r#"{"$float":"inf"}"#),
        ("float('-inf')", r#"{"$float":"-inf"}"#),
        ("float('nan')", r#"{"$float":"nan"}"#),
        ("float('Infinity')", r#"{"$float":"inf"}"#),
        ("float(' 1.5 ')", "1.5"),
        ("float('1e400')", r#"{"$float":"inf"}"#),
        ("float(3)", "3.0"),
        ("float(True)", "1.0"),
        ("float(2.5)", "2.5"),
        (
            "[set(), list(), dict(), float()]",
            r#"[{"$set":[]},[],{},0.0]"#,
        ),
    ] {
        check(input, expected);
    }
    // Typed JSON rules hold inside calls too: a one-key `$` dict is a tag.
    check_err("dict({'$k': 1})", "unknown type tag $k at offset 5");
    check_err(
        "dict({'$float': 1})",
        "dict(): takes a dict or a list of [key, value] pairs, got float at offset 0",
    );
    let names: Vec<&str> = constructor_names().collect();
    assert_eq!(
        names,
        [
            "set",
            "list",
            "dict",
            "bytes",
            "float",
            "sortedset",
            "deque",
            "decimal",
            "datetime",
            "date",
            "pqueue"
        ]
    );
}

#[test]
fn syntax_errors_name_the_problem_and_offset() {
    for (input, msg) in [
        (
            "",
            "expected a value, found the end of the text at offset 0",
        ),
        (
            "  ",
            "expected a value, found the end of the text at offset 2",
        ),
        (
            "[1, 2",
            "expected ',' or ']', found the end of the text at offset 5",
        ),
        ("[1 2]", "expected ',' or ']', found '2' at offset 3"),
        ("[1,,2]", "expected a value, found ',' at offset 3"),
        ("[,]", "expected a value, found ',' at offset 1"),
        ("]", "expected a value, found ']' at offset 0"),
        ("{1: 2}", "dict keys must be strings at offset 1"),
        ("{None: 2}", "dict keys must be strings at offset 1"),
        ("{'a': 1, 2: 3}", "dict keys must be strings at offset 9"),
        ("{'a' 1}", "expected ',' or '}', found '1' at offset 5"),
        (
            "{'a': 1 'b': 2}",
            "expected ',' or '}', found '\\'' at offset 8",
        ),
        ("{'a': 1, 'b' 2}", "expected ':', found '2' at offset 13"),
        ("{'a':}", "expected a value, found '}' at offset 5"),
        ("{,}", "expected a value, found ',' at offset 1"),
        ("'abc", "unterminated string at offset 0"),
        ("[\"abc\\", "unterminated string at offset 1"),
        (
            "'it's'",
            "expected the end of the text, found 's' at offset 4",
        ),
        ("'\\q'", "invalid escape '\\q' at offset 1"),
        ("'\\N{DASH}'", "invalid escape '\\N' at offset 1"),
        ("'\\x4'", "expected 2 hex digits after '\\x' at offset 1"),
        ("'\\u12'", "expected 4 hex digits after '\\u' at offset 1"),
        ("'\\udc00'", "unpaired surrogate in \\u escape at offset 1"),
        (
            "'\\ud800\\u0041'",
            "unpaired surrogate in \\u escape at offset 1",
        ),
        (
            "'\\U00110000'",
            "invalid code point \\U00110000 at offset 1",
        ),
        ("007", "leading zeros are not allowed at offset 0"),
        ("[00]", "leading zeros are not allowed at offset 1"),
        ("-01.5", "leading zeros are not allowed at offset 1"),
        ("0x", "expected a hex digit at offset 2"),
        ("0o8", "expected an octal digit at offset 2"),
        ("0b2", "expected a binary digit at offset 2"),
        ("1e", "expected a digit in the exponent at offset 2"),
        ("1e+", "expected a digit in the exponent at offset 3"),
        ("-", "expected a digit at offset 1"),
        (".", "expected a digit at offset 0"),
        ("1_", "expected the end of the text, found '_' at offset 1"),
        (
            "1__0",
            "expected the end of the text, found '_' at offset 1",
        ),
        ("+5", "expected a value, found '+' at offset 0"),
        ("1 2", "expected the end of the text, found '2' at offset 2"),
        (
            "None()",
            "expected the end of the text, found '(' at offset 4",
        ),
        ("foo", "unknown name 'foo' at offset 0"),
        ("[nul]", "unknown name 'nul' at offset 1"),
        ("inf", "unknown name 'inf' at offset 0"),
        ("NaN", "unknown name 'NaN' at offset 0"),
        (
            "set",
            "expected '(' after set, found the end of the text at offset 3",
        ),
        (
            "set(",
            "expected a value, found the end of the text at offset 4",
        ),
        (
            "set([1]",
            "expected ',' or ')', found the end of the text at offset 7",
        ),
        ("set(])", "expected a value, found ']' at offset 4"),
        (
            "'\u{e9}' x",
            "expected the end of the text, found 'x' at offset 5",
        ),
    ] {
        check_err(input, msg);
    }
}

#[test]
fn out_of_range_numbers_are_errors() {
    for (input, msg) in [
        (
            "99999999999999999999",
            "int out of range (64-bit): 99999999999999999999 at offset 0",
        ),
        (
            "9223372036854775808",
            "int out of range (64-bit): 9223372036854775808 at offset 0",
        ),
        (
            "-9223372036854775809",
            "int out of range (64-bit): -9223372036854775809 at offset 0",
        ),
        (
            "[0x10000000000000000]",
            "int out of range (64-bit): 0x10000000000000000 at offset 1",
        ),
        (
            "0x8000000000000000",
            "int out of range (64-bit): 0x8000000000000000 at offset 0",
        ),
        ("1e400", "float out of range: 1e400 at offset 0"),
        ("-1_0e3_99", "float out of range: -1_0e3_99 at offset 0"),
    ] {
        check_err(input, msg);
    }
}

#[test]
fn constructor_errors() {
    for (input, msg) in [
        (
            "set(1, 2)",
            "set(): takes at most 1 argument (2 given) at offset 0",
        ),
        ("[set(1)]", "set(): 'int' is not iterable at offset 1"),
        (
            "list(a=1)",
            "list(): takes no keyword arguments at offset 0",
        ),
        (
            "dict(a=1, 2)",
            "positional argument follows keyword argument at offset 10",
        ),
        (
            "dict(a=1, a=2)",
            "keyword argument repeated: a at offset 10",
        ),
        (
            "dict(5)",
            "dict(): takes a dict or a list of [key, value] pairs, got int at offset 0",
        ),
        (
            "dict([[1, 2]])",
            "dict(): dict keys must be strings at offset 0",
        ),
        (
            "dict([1])",
            "dict(): takes a list of [key, value] pairs at offset 0",
        ),
        (
            "bytes('a!')",
            "bytes(): invalid base64: '!' at position 1 at offset 0",
        ),
        (
            "bytes([256])",
            "bytes(): a list must hold ints in range(0, 256) at offset 0",
        ),
        (
            "bytes(1)",
            "bytes(): takes a base64 string or a list of ints, got int at offset 0",
        ),
        (
            "float('x')",
            "float(): could not convert string to float: \"x\" at offset 0",
        ),
        (
            "float([])",
            "float(): takes a number or a string, got list at offset 0",
        ),
        ("float(x)", "unknown name 'x' at offset 6"),
        (
            "float(1 == 1)",
            "expected ',' or ')', found '=' at offset 8",
        ),
    ] {
        check_err(input, msg);
    }
    assert_eq!(
        parse_literal("set([[1]])"),
        Err(ValueError::Unhashable("list"))
    );
    assert_eq!(
        parse_literal("{[1], 2}"),
        Err(ValueError::Unhashable("list"))
    );
    assert_eq!(
        parse_literal("{1, {}}"),
        Err(ValueError::Unhashable("dict"))
    );
    assert_eq!(
        parse_literal("{1, set()}"),
        Err(ValueError::Unhashable("set"))
    );
}

#[test]
fn errors_display_as_invalid_literal() {
    let err = parse_literal("[1 2]").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid literal: expected ',' or ']', found '2' at offset 3"
    );
}

#[test]
fn arg_scalars_and_plain_strings() {
    for (arg, expected) in [
        ("5", "5"),
        ("-7", "-7"),
        ("0", "0"),
        ("1_000", "1000"),
        ("0x1F", "31"),
        ("1.5", "1.5"),
        ("-0.0", "-0.0"),
        ("1e9", "1000000000.0"),
        (".5", "0.5"),
        ("5.", "5.0"),
        ("null", "null"),
        ("None", "null"),
        ("true", "true"),
        ("False", "false"),
        ("", r#""""#),
        ("hello", r#""hello""#),
        ("xxx", r#""xxx""#),
        ("hello world", r#""hello world""#),
        ("007", r#""007""#),
        ("02134", r#""02134""#),
        ("5 apples", r#""5 apples""#),
        ("+5", r#""+5""#),
        (" 5", r#"" 5""#),
        ("5 ", r#""5 ""#),
        ("1.2.3", r#""1.2.3""#),
        ("12E", r#""12E""#),
        ("1_", r#""1_""#),
        ("0x", r#""0x""#),
        ("0xZZ", r#""0xZZ""#),
        ("-", r#""-""#),
        ("--5", r#""--5""#),
        (".", r#"".""#),
        ("...", r#""...""#),
        (".hidden", r#"".hidden""#),
        ("e5", r#""e5""#),
        ("inf", r#""inf""#),
        ("-inf", r#""-inf""#),
        ("nan", r#""nan""#),
        ("NULL", r#""NULL""#),
        ("none", r#""none""#),
        ("Truely", r#""Truely""#),
        ("foo(1)", r#""foo(1)""#),
        ("set (1)", r#""set (1)""#),
        ("settle(1)", r#""settle(1)""#),
        ("setup", r#""setup""#),
        ("1e400 apples", r#""1e400 apples""#),
        ("a]", r#""a]""#),
        ("}", r#""}""#),
        ("(1, 2)", r#""(1, 2)""#),
        ("héllo 😀", r#""héllo 😀""#),
        ("$set", r#""$set""#),
    ] {
        check_arg(arg, expected);
    }
}

#[test]
fn arg_literals() {
    for (arg, expected) in [
        ("[1, 2]", "[1,2]"),
        ("  [1]", "[1]"),
        ("\n{'a': 1}", r#"{"a":1}"#),
        ("{1, 2}", r#"{"$set":[1,2]}"#),
        (r#""5""#, r#""5""#),
        ("'x'", r#""x""#),
        ("'hello world' ", r#""hello world""#),
        ("set([1])", r#"{"$set":[1]}"#),
        (" set()", r#"{"$set":[]}"#),
        ("float('nan')", r#"{"$float":"nan"}"#),
        ("bytes('aGk=')", r#"{"$bytes":"aGk="}"#),
        (r#"{"$set": [1]}"#, r#"{"$set":[1]}"#),
    ] {
        check_arg(arg, expected);
    }
    let v = parse_arg(&[0xff, 0xfe, b'a']).unwrap();
    assert_eq!(to_string(&v), r#"{"$bytes":"//5h"}"#);
}

#[test]
fn arg_errors() {
    for (arg, msg) in [
        (
            "[1, 2",
            "expected ',' or ']', found the end of the text at offset 5",
        ),
        (
            "{",
            "expected a value, found the end of the text at offset 1",
        ),
        ("\"abc", "unterminated string at offset 0"),
        (
            "'it's'",
            "expected the end of the text, found 's' at offset 4",
        ),
        ("set(1)", "set(): 'int' is not iterable at offset 0"),
        ("float(x)", "unknown name 'x' at offset 6"),
        (
            "[1] trailing",
            "expected the end of the text, found 't' at offset 4",
        ),
        (
            "99999999999999999999",
            "int out of range (64-bit): 99999999999999999999",
        ),
        (
            "-99999999999999999999",
            "int out of range (64-bit): -99999999999999999999",
        ),
        (
            "0x1_0000_0000_0000_0000",
            "int out of range (64-bit): 0x1_0000_0000_0000_0000",
        ),
        ("1e400", "float out of range: 1e400"),
    ] {
        assert_eq!(
            parse_arg(arg.as_bytes()),
            Err(ValueError::Literal(msg.to_string())),
            "parse_arg({arg:?})"
        );
    }
}

#[test]
fn short_plain_args_stay_inline() {
    for arg in ["xxx", "hello", "k", "abcdefghijklmnopqrstuvw"] {
        match parse_arg(arg.as_bytes()).unwrap() {
            Value::Str(s) => {
                assert_eq!(s, arg);
                assert!(s.is_inline(), "{arg} should be stored inline");
            }
            other => panic!("{arg}: {other:?}"),
        }
    }
    match parse_literal("'short'").unwrap() {
        Value::Str(s) => assert!(s.is_inline()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn nesting_is_limited() {
    let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let v = parse_literal(&nested(MAX_DEPTH)).unwrap();
    assert_eq!(to_string(&v).len(), 2 * MAX_DEPTH);
    let msg = format!("containers nested deeper than {MAX_DEPTH} levels at offset {MAX_DEPTH}");
    check_err(&nested(MAX_DEPTH + 1), &msg);
    let dicts = format!("{}1{}", "{'a': ".repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
    assert!(parse_literal(&dicts).is_ok());
    let dicts = format!(
        "{}1{}",
        "{'a': ".repeat(MAX_DEPTH + 1),
        "}".repeat(MAX_DEPTH + 1)
    );
    assert!(parse_literal(&dicts).is_err());
    let set = format!(
        "{}{{1}}{}",
        "[".repeat(MAX_DEPTH - 1),
        "]".repeat(MAX_DEPTH - 1)
    );
    assert!(parse_literal(&set).is_ok());
    // Unclosed or wrapper-only nesting is cut off without touching the stack.
    for unit in ["[", "{'a': ", "{'$a': ", "{'$dict': ", "list(", "{"] {
        let text = unit.repeat(200_000);
        let err = parse_literal(&text).unwrap_err().to_string();
        assert!(err.contains("nested deeper"), "{unit}: {err}");
    }
    // A long chain of calls is bounded too.
    let calls = format!("{}{}", "list(".repeat(1000), ")".repeat(1000));
    assert!(parse_literal(&calls).is_err());
    let calls = format!("{}{}", "list(".repeat(100), ")".repeat(100));
    assert_eq!(to_string(&parse_literal(&calls).unwrap()), "[]");
}

#[test]
fn parses_on_a_small_stack() {
    // The parser keeps its frames on the heap: deep text needs no machine stack.
    let text = format!(
        "{}{}",
        "{'$dict': {'a': [".repeat(MAX_DEPTH / 2),
        "]}}".repeat(MAX_DEPTH / 2)
    );
    let handle = std::thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(move || parse_literal(&text))
        .unwrap();
    // The value is dropped here, on the test's own stack.
    assert!(handle.join().unwrap().is_ok());
}

// ---------------------------------------------------------------------------------------
// Generated values: every value survives typed JSON, pretty typed JSON, Python-style
// literals and command arguments.

/// A seeded generator (fastrand), so failures reproduce.
struct Rng(fastrand::Rng);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0.u64(..)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0.usize(..n)
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

const CHARS: &[char] = &[
    'a', 'Z', '0', ' ', '"', '\'', '\\', '/', '\n', '\t', '\r', '\0', '\u{1f}', '\u{7f}', 'é',
    '😀', '$', '{', '}', '[', ']', ',', ':', '_', '\u{2028}', '\u{fffd}', '中',
];

fn gen_string(r: &mut Rng) -> String {
    let mut s: String = (0..r.below(8)).map(|_| r.pick(CHARS)).collect();
    if r.chance(4) {
        s.insert(0, '$');
    }
    s
}

fn gen_float(r: &mut Rng) -> f64 {
    let interesting = [
        0.0,
        -0.0,
        1.0,
        -1.5,
        0.1,
        1e16,
        1e300,
        -1e-300,
        5e-324,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        123_456_789.0,
        9_007_199_254_740_993.0,
    ];
    if r.chance(2) {
        r.pick(&interesting)
    } else {
        f64::from_bits(r.next())
    }
}

fn gen_scalar(r: &mut Rng) -> Value {
    match r.below(8) {
        0 => Value::Null,
        1 => Value::Bool(r.chance(2)),
        2 => Value::Int(r.pick(&[0, -1, 1, i64::MIN, i64::MAX, 255, -256])),
        3 => Value::Int(r.next() as i64 >> r.below(64)),
        4 => Value::Float(gen_float(r)),
        5 | 6 => Value::Str(gen_string(r).into()),
        _ => {
            let b: Vec<u8> = (0..r.below(9)).map(|_| r.next() as u8).collect();
            Value::Bytes(b.into())
        }
    }
}

fn gen_value(r: &mut Rng, depth: usize) -> Value {
    if depth == 0 || r.chance(3) {
        return gen_scalar(r);
    }
    match r.below(3) {
        0 => Value::list((0..r.below(5)).map(|_| gen_value(r, depth - 1))),
        1 => {
            let n = r.below(4);
            let dict: Dict = (0..n)
                .map(|_| (gen_string(r).into(), gen_value(r, depth - 1)))
                .collect();
            Value::Dict(dict)
        }
        _ => Value::set((0..r.below(5)).map(|_| gen_scalar(r))).unwrap(),
    }
}

fn space(r: &mut Rng) -> &'static str {
    r.pick(&["", "", " ", "\n\t", "  "])
}

/// Writes `s` as a Python-style string literal, choosing quotes and escapes at random.
fn py_string(s: &str, r: &mut Rng, out: &mut String) {
    let quote = r.pick(&['\'', '"']);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str(r.pick(&["\\n", "\\x0a", "\\012", "\\u000A"])),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if !c.is_ascii() && r.chance(3) => {
                let code = c as u32;
                if code > 0xffff {
                    if r.chance(2) {
                        out.push_str(&format!("\\U{code:08X}"));
                    } else {
                        let v = code - 0x10000;
                        let (hi, lo) = (0xD800 + (v >> 10), 0xDC00 + (v & 0x3ff));
                        out.push_str(&format!("\\u{hi:04x}\\u{lo:04X}"));
                    }
                } else {
                    out.push_str(&format!("\\u{code:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

fn py_items<V: std::ops::Deref<Target = Value>>(
    items: impl Iterator<Item = V>,
    r: &mut Rng,
    out: &mut String,
) {
    let mut any = false;
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(space(r));
        py_repr(&item, r, out);
        out.push_str(space(r));
        any = true;
    }
    if any && r.chance(4) {
        out.push(',');
    }
}

fn py_dict_body(d: &Dict, r: &mut Rng, out: &mut String) {
    out.push('{');
    for (i, (k, v)) in d.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(space(r));
        py_string(k, r, out);
        out.push_str(space(r));
        out.push(':');
        out.push_str(space(r));
        py_repr(v, r, out);
    }
    out.push('}');
}

/// Writes `v` as an okdb literal in Python style, varying the spelling at random.
fn py_repr(v: &Value, r: &mut Rng, out: &mut String) {
    match v {
        Value::Null => out.push_str(r.pick(&["None", "null"])),
        Value::Bool(true) => out.push_str(r.pick(&["True", "true"])),
        Value::Bool(false) => out.push_str(r.pick(&["False", "false"])),
        Value::Int(i) => match r.below(4) {
            0 if *i < 0 => out.push_str(&format!("-0x{:x}", i.unsigned_abs())),
            0 => out.push_str(&format!("0x{i:X}")),
            1 if *i >= 0 => out.push_str(&format!("0b{i:b}")),
            _ => out.push_str(&i.to_string()),
        },
        Value::Float(f) if f.is_nan() => out.push_str("float('nan')"),
        Value::Float(f) if f.is_infinite() => {
            out.push_str(if *f > 0.0 {
                "float('inf')"
            } else {
                "float(\"-inf\")"
            });
        }
        Value::Float(f) => out.push_str(&format!("{f:?}")),
        Value::Str(s) => py_string(s, r, out),
        Value::Function(_) => unreachable!("the random values hold no functions"),
        Value::Bytes(b) => {
            if r.chance(2) {
                out.push_str(&format!("bytes('{}')", json::BASE64.encode(b)));
            } else {
                let ints: Vec<String> = b.iter().map(|x| x.to_string()).collect();
                out.push_str(&format!("bytes([{}])", ints.join(", ")));
            }
        }
        Value::List(items) => {
            out.push('[');
            py_items(items.iter(), r, out);
            out.push(']');
        }
        Value::Set(items) if items.is_empty() => out.push_str("set()"),
        Value::Set(items) => {
            if r.chance(2) {
                out.push('{');
                py_items(items.iter(), r, out);
                out.push('}');
            } else {
                out.push_str("set([");
                py_items(items.iter(), r, out);
                out.push_str("])");
            }
        }
        Value::Dict(d) => match d.single() {
            Some((k, _)) if k.starts_with('$') => {
                if r.chance(2) {
                    out.push_str("dict([[");
                    if let Some((k, v)) = d.single() {
                        py_string(k, r, out);
                        out.push_str(", ");
                        py_repr(v, r, out);
                    }
                    out.push_str("]])");
                } else {
                    out.push_str("{'$dict': ");
                    py_dict_body(d, r, out);
                    out.push('}');
                }
            }
            _ if d.is_empty() && r.chance(2) => out.push_str("dict()"),
            _ => py_dict_body(d, r, out),
        },
        Value::Decimal(d) => out.push_str(&format!("decimal('{d}')")),
        Value::Date(d) => out.push_str(&format!("date('{d}')")),
        Value::DateTime(t) => out.push_str(&format!("datetime('{t}')")),
        Value::Deque(d) => {
            out.push_str("deque([");
            py_items(d.items.iter(), r, out);
            out.push_str("])");
        }
        Value::PQueue(q) => {
            out.push_str("pqueue([");
            for (i, (p, x)) in q.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push('[');
                py_repr(p, r, out);
                out.push_str(", ");
                py_repr(x, r, out);
                out.push(']');
            }
            out.push_str("])");
        }
        Value::SortedSet(z) => {
            out.push_str("sortedset({");
            for (i, (m, x)) in z.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                py_string(m, r, out);
                out.push_str(": ");
                py_repr(&Value::Float(x), r, out);
            }
            out.push_str("})");
        }
    }
}

#[track_caller]
fn assert_same(how: &str, input: &str, got: Result<Value, ValueError>, want: &Value) {
    match got {
        Ok(v) => assert!(
            same(&v, want),
            "{how}({input:?}) gave {v:?}, wanted {want:?}"
        ),
        Err(e) => panic!("{how}({input:?}) failed: {e}; wanted {want:?}"),
    }
}

#[test]
fn generated_values_round_trip() {
    let mut r = Rng(fastrand::Rng::with_seed(0x9E37_79B9_7F4A_7C15));
    for _ in 0..4000 {
        let v = gen_value(&mut r, 4);
        let text = to_string(&v);
        assert_eq!(to_json(&v).to_string(), text);
        assert_same("from_str", &text, from_str(&text), &v);
        assert_same("parse_literal", &text, parse_literal(&text), &v);
        assert_same("from_json", &text, from_json(&to_json(&v)), &v);
        assert_same("parse_arg", &text, parse_arg(text.as_bytes()), &v);
        let pretty = to_string_pretty(&v);
        assert_same("from_str", &pretty, from_str(&pretty), &v);
        assert_same("parse_literal", &pretty, parse_literal(&pretty), &v);
        let mut py = String::new();
        py_repr(&v, &mut r, &mut py);
        assert_same("parse_literal", &py, parse_literal(&py), &v);
    }
}

/// Mangled literals never panic, and whatever parses prints back to itself.
#[test]
fn mutated_text_never_panics() {
    let mut r = Rng(fastrand::Rng::with_seed(42));
    let pool: Vec<char> = "[]{}(),:'\"\\ 0123456789.-_eExob$abnNtTfFsetdiclyu\u{e9}"
        .chars()
        .collect();
    for _ in 0..4000 {
        let v = gen_value(&mut r, 3);
        let mut text = String::new();
        if r.chance(2) {
            text = to_string(&v);
        } else {
            py_repr(&v, &mut r, &mut text);
        }
        let mut chars: Vec<char> = text.chars().collect();
        for _ in 0..=r.below(3) {
            let at = r.below(chars.len() + 1);
            match r.below(4) {
                0 if at < chars.len() => {
                    let end = (at + 1 + r.below(3)).min(chars.len());
                    chars.drain(at..end);
                }
                1 => chars.insert(at, r.pick(&pool)),
                2 => chars.truncate(at),
                _ => {
                    let end = (at + r.below(6)).min(chars.len());
                    let piece: Vec<char> = chars[at..end].to_vec();
                    chars.splice(at..at, piece);
                }
            }
        }
        let text: String = chars.into_iter().collect();
        let parsed = [
            parse_literal(&text),
            from_str(&text),
            parse_arg(text.as_bytes()),
        ];
        for v in parsed.into_iter().flatten() {
            let again = to_string(&v);
            assert_same("parse_literal", &again, parse_literal(&again), &v);
        }
        let mut bytes = text.into_bytes();
        if !bytes.is_empty() {
            let at = r.below(bytes.len());
            bytes[at] = r.next() as u8;
        }
        let _ = parse_arg(&bytes);
    }
}

#[test]
fn many_keyword_arguments_parse_in_linear_time() {
    // Each keyword is checked against the earlier ones through a set, not a scan.
    let text = format!(
        "dict({})",
        (0..50_000)
            .map(|i| format!("k{i}={i}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    assert_eq!(parse_literal(&text).unwrap().len(), Some(50_000));
    assert!(parse_literal("dict(a=1, b=2, a=3)").is_err());
}

#[test]
fn faithful_arguments_keep_their_bytes_unless_canonical_or_containers() {
    use crate::literal::{parse_arg_faithful, Literals};
    let typed = [
        ("5", Value::Int(5)),
        ("-7", Value::Int(-7)),
        ("0", Value::Int(0)),
        ("1.5", Value::Float(1.5)),
        ("-0.0", Value::Float(-0.0)),
        ("true", Value::Bool(true)),
        ("false", Value::Bool(false)),
        ("null", Value::Null),
        ("9223372036854775807", Value::Int(i64::MAX)),
    ];
    for (text, want) in typed {
        assert_eq!(parse_arg_faithful(text.as_bytes()), want, "{text}");
    }
    for text in [
        "1.50",
        "007",
        "-0",
        "+1",
        "1e5",
        "0x10",
        "1_000",
        "True",
        "None",
        "\"hello\"",
        "'x'",
        "[?abc",
        "{",
        "[1,",
        "{'a': 1}",
        "{1, 2}",
        "[1, 2,]",
        "[True]",
        "1.",
        ".5",
        "inf",
        "123456789012345678901234567890",
        " 5",
        "5 ",
        " [1]",
        "set (1)",
        "set([1,)",
        "",
        "9223372036854775808",
    ] {
        assert_eq!(
            parse_arg_faithful(text.as_bytes()),
            Value::str(text),
            "{text:?}"
        );
    }
    assert_eq!(
        parse_arg_faithful(b"[1, 2.5, {\"a\": null}]"),
        parse_literal("[1, 2.5, {\"a\": null}]").unwrap()
    );
    assert_eq!(
        parse_arg_faithful(b"set([1, 2])"),
        parse_literal("{1, 2}").unwrap()
    );
    assert_eq!(
        parse_arg_faithful(b"{\"$set\": [1]}"),
        parse_literal("{1}").unwrap()
    );
    assert!(matches!(parse_arg_faithful(b"\xff5"), Value::Bytes(_)));
    // Strict keeps the friendly rule and its errors.
    assert_eq!(Literals::Strict.parse(b"True").unwrap(), Value::Bool(true));
    assert!(Literals::Strict.parse(b"[1,").is_err());
    assert_eq!(Literals::Faithful.parse(b"[1,").unwrap(), Value::str("[1,"));
}
