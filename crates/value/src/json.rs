//! Typed JSON: how values leave and enter okdb as JSON (SPEC.md §1).
//!
//! Types JSON has are written as themselves; types it lacks are written MongoDB-Extended-JSON
//! style, as a one-key object whose key is a `$` tag:
//!
//! | value | typed JSON |
//! |---|---|
//! | null, bool | `null`, `true`, `false` |
//! | int | `42`, `-7` (never with a `.` or an exponent) |
//! | float | `1.0`, `-0.25`, `1e300` (always with a `.` or an exponent) |
//! | float NaN, ±infinity | `{"$float": "nan"}`, `{"$float": "inf"}`, `{"$float": "-inf"}` |
//! | string | `"abc"` |
//! | bytes | `{"$bytes": "AAEC/w=="}` (base64, standard alphabet, padded) |
//! | list | `[1, "a", null]` |
//! | dict | `{"name": "kevin", "age": 42}` (insertion order kept) |
//! | dict whose only key starts with `$` | `{"$dict": {"$price": 5}}` |
//! | set | `{"$set": [1, 2, "a"]}` (elements in the set's order) |
//! | sortedset | `{"$sortedset": {"bob": 1.0, "alice": 3.5}}` (members in score order) |
//! | decimal | `{"$decimal": "12.30"}` (its text, scale kept) |
//! | date, datetime | `{"$date": "2026-11-28"}`, `{"$datetime": "2026-11-28T10:00:00+01:00"}` |
//! | deque | `{"$deque": [1, 2]}`, bounded: `{"$deque": {"items": [1, 2], "maxlen": 100}}` |
//! | pqueue | `{"$pqueue": [[1, "urgent"], [5, "later"]]}` (in the order they are popped) |
//! | function | `{"$function": "lambda x: x * 2"}` |
//!
//! Decoding rules:
//! - A number without `.` or exponent is an int; outside the 64-bit range it is an error
//!   (`int out of range (64-bit): …`), never a silent float. A number with one is a float; a float
//!   that overflows to infinity (`1e400`) is an error.
//! - An object with exactly one key that starts with `$` is a tag: `$set` (a list of scalars),
//!   `$bytes` (base64; padding optional), `$float` (`"nan"`, `"inf"`, `"-inf"`, or any number or
//!   number text), `$dict` (an object taken as a plain dict: its own keys are not tags, its values
//!   are decoded as usual). Any other tag is an error (`unknown type tag $xyz`), so that a tag a
//!   later version adds is never silently read as a dict.
//! - An object with several keys is a plain dict, whatever its keys look like (in [`from_str`],
//!   even when a key is repeated; a repeated key keeps its first position and its last value).
//!
//! The encoding round-trips every value exactly: `from_str(&to_string(v))` gives back `v` with the
//! same types (int stays int, `1.0` stays float, `-0.0` keeps its sign), and so does
//! [`crate::literal::parse_literal`], since typed JSON is also okdb literal syntax. NaN payloads
//! and signs are not kept. Containers nested deeper than [`crate::literal::MAX_DEPTH`] are refused
//! on the way in, so a value built deeper than that (by a script) cannot be read back from text.
//!
//! [`from_str`] parses the text itself (strict JSON: no comments, no trailing commas, no Python
//! forms) rather than through `serde_json::Value`, so that it can tell `1` from `1.0` and refuse
//! out-of-range ints exactly. [`from_json`] takes an already parsed `serde_json::Value`; its
//! numbers are whatever `serde_json` made of the text (it reads a too-large int as a float).

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::literal::{self, Syntax, MAX_DEPTH};
use crate::{Dict, Set, Value, ValueError};

/// Base64 with the standard alphabet: writes padding, reads it or its absence.
pub(crate) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes base64 text, with an error message fit for a user.
pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    use base64::DecodeError;
    let shown = |b: u8| {
        if b.is_ascii_graphic() {
            format!("{:?}", b as char)
        } else {
            format!("byte {b:#04x}")
        }
    };
    BASE64.decode(text).map_err(|e| match e {
        DecodeError::InvalidByte(i, b) => format!("invalid base64: {} at position {i}", shown(b)),
        DecodeError::InvalidLastSymbol(i, b) => {
            format!(
                "invalid base64: bad last symbol {} at position {i}",
                shown(b)
            )
        }
        DecodeError::InvalidLength(n) => {
            format!("invalid base64: {n} symbols is not a valid length")
        }
        DecodeError::InvalidPadding => "invalid base64: bad padding".to_string(),
    })
}

/// Typed JSON of a value as a `serde_json` tree.
pub fn to_json(v: &Value) -> serde_json::Value {
    serde_json::to_value(Typed(v)).expect("typed JSON has string keys and finite numbers only")
}

/// Compact typed JSON text.
pub fn to_string(v: &Value) -> String {
    serde_json::to_string(&Typed(v)).expect("typed JSON serialization cannot fail")
}

/// Indented typed JSON text (two spaces), for people.
pub fn to_string_pretty(v: &Value) -> String {
    serde_json::to_string_pretty(&Typed(v)).expect("typed JSON serialization cannot fail")
}

/// Decodes a parsed JSON tree. See the module docs for the rules.
pub fn from_json(j: &serde_json::Value) -> Result<Value, ValueError> {
    decode(j, 0, 0)
}

/// Parses typed JSON text (strict JSON). See the module docs for the rules.
pub fn from_str(s: &str) -> Result<Value, ValueError> {
    literal::parse_text(s, Syntax::Json)
}

/// Serializes a value as typed JSON with any `serde` serializer, without building a tree first:
/// `serde_json::to_writer(&mut buf, &Typed(&v))`.
#[derive(Debug, Clone, Copy)]
pub struct Typed<'a>(pub &'a Value);

impl Serialize for Typed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(f) if f.is_finite() => s.serialize_f64(*f),
            Value::Float(f) => {
                let name = if f.is_nan() {
                    "nan"
                } else if *f > 0.0 {
                    "inf"
                } else {
                    "-inf"
                };
                tagged(s, "$float", name)
            }
            Value::Decimal(d) => tagged(s, "$decimal", &d.to_string()),
            Value::Date(d) => tagged(s, "$date", &d.to_string()),
            Value::DateTime(t) => tagged(s, "$datetime", &t.to_string()),
            Value::Str(x) => s.serialize_str(x),
            Value::Bytes(b) => tagged(s, "$bytes", &BASE64.encode(b)),
            Value::List(l) => s.collect_seq(l.iter().map(TypedItem)),
            Value::Set(set) => tagged(s, "$set", &SetItems(set)),
            Value::SortedSet(z) => tagged(s, "$sortedset", &Scores(z)),
            Value::Deque(d) => match d.maxlen {
                None => tagged(s, "$deque", &Items(&d.items)),
                Some(max) => {
                    let mut map = s.serialize_map(Some(1))?;
                    map.serialize_entry("$deque", &BoundedItems(&d.items, max))?;
                    map.end()
                }
            },
            Value::PQueue(q) => tagged(s, "$pqueue", &Prioritized(q)),
            Value::Function(f) => tagged(s, "$function", &**f),
            Value::Dict(d) => match d.single() {
                Some((k, _)) if k.starts_with('$') => tagged(s, "$dict", &PlainDict(d)),
                _ => PlainDict(d).serialize(s),
            },
        }
    }
}

fn tagged<S: Serializer, T: Serialize + ?Sized>(
    s: S,
    tag: &str,
    payload: &T,
) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(1))?;
    map.serialize_entry(tag, payload)?;
    map.end()
}

struct SetItems<'a>(&'a Set);

impl Serialize for SetItems<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(Typed))
    }
}

struct Items<'a>(&'a crate::List);

impl Serialize for Items<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(TypedItem))
    }
}

/// A list's item (borrowed, or decoded from a packed list) as typed JSON.
struct TypedItem<'a>(std::borrow::Cow<'a, Value>);

impl Serialize for TypedItem<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Typed(&self.0).serialize(s)
    }
}

/// A bounded deque: `{"items": [...], "maxlen": n}`.
struct BoundedItems<'a>(&'a crate::List, usize);

impl Serialize for BoundedItems<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("items", &Items(self.0))?;
        map.serialize_entry("maxlen", &self.1)?;
        map.end()
    }
}

/// A priority queue's `[priority, item]` pairs, in the order they are popped.
struct Prioritized<'a>(&'a crate::PQueue);

impl Serialize for Prioritized<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|(p, x)| [Typed(p), Typed(x)]))
    }
}

/// A sorted set's members and scores, as a JSON object in score order.
struct Scores<'a>(&'a crate::SortedSet);

impl Serialize for Scores<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (m, x) in self.0.iter() {
            map.serialize_entry(m.as_str(), &Typed(&Value::Float(x)))?;
        }
        map.end()
    }
}

/// A dict written as a JSON object, without the `$dict` escape at its own level.
struct PlainDict<'a>(&'a Dict);

impl Serialize for PlainDict<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k.as_str(), Typed(v))))
    }
}

/// Decodes the payload of a one-key `$tag` object. `$dict` payloads arrive already taken as
/// plain dicts (the callers handle the escape, which changes how the payload itself is read).
pub(crate) fn decode_tag(
    tag: &str,
    payload: Value,
    fail: &dyn Fn(String) -> ValueError,
) -> Result<Value, ValueError> {
    match tag {
        "$set" => match payload {
            Value::List(items) => Value::set(*items),
            other => Err(fail(format!(
                "$set takes a list, got {}",
                other.type_name()
            ))),
        },
        "$bytes" => match payload {
            Value::Str(s) => decode_base64(&s)
                .map(|b| Value::Bytes(b.into()))
                .map_err(|e| fail(format!("$bytes: {e}"))),
            other => Err(fail(format!(
                "$bytes takes a base64 string, got {}",
                other.type_name()
            ))),
        },
        "$float" => match payload {
            Value::Float(f) => Ok(Value::Float(f)),
            Value::Int(i) => Ok(Value::Float(i as f64)),
            Value::Str(s) => match s.trim().parse::<f64>() {
                Ok(f) => Ok(Value::Float(f)),
                Err(_) => Err(fail(format!(
                    "$float takes \"nan\", \"inf\", \"-inf\" or a number, got {s:?}"
                ))),
            },
            other => Err(fail(format!(
                "$float takes \"nan\", \"inf\", \"-inf\" or a number, got {}",
                other.type_name()
            ))),
        },
        "$sortedset" => match payload {
            Value::Dict(d) => sorted_set(d.iter().map(|(m, x)| (m.clone(), x.clone())))
                .map_err(|e| fail(format!("$sortedset: {e}"))),
            other => Err(fail(format!(
                "$sortedset takes an object of member: score, got {}",
                other.type_name()
            ))),
        },
        "$deque" => deque(payload).map_err(|e| fail(format!("$deque: {e}"))),
        "$pqueue" => match payload {
            Value::List(pairs) => pqueue(&pairs).map_err(|e| fail(format!("$pqueue: {e}"))),
            other => Err(fail(format!(
                "$pqueue takes a list of [priority, item] pairs, got {}",
                other.type_name()
            ))),
        },
        "$function" => match payload {
            Value::Str(t) if crate::literal::is_lambda(t.as_str()) => {
                Ok(Value::Function(t.as_str().into()))
            }
            other => Err(fail(format!(
                "$function takes the source of a lambda, got {}",
                other.type_name()
            ))),
        },
        "$date" => match payload {
            Value::Str(t) => crate::dates::Date::parse(&t).map(Value::Date).map_err(fail),
            other => Err(fail(format!(
                "$date takes YYYY-MM-DD, got {}",
                other.type_name()
            ))),
        },
        "$datetime" => match payload {
            Value::Str(t) => crate::dates::DateTime::parse(&t)
                .map(Value::DateTime)
                .map_err(fail),
            other => Err(fail(format!(
                "$datetime takes RFC 3339 text, got {}",
                other.type_name()
            ))),
        },
        "$decimal" => match payload {
            Value::Str(t) => decimal(&t).map_err(fail),
            Value::Int(i) => Ok(Value::Decimal(i.into())),
            other => Err(fail(format!(
                "$decimal takes the number's text, got {}",
                other.type_name()
            ))),
        },
        "$dict" => match payload {
            Value::Dict(d) => Ok(Value::Dict(d)),
            other => Err(fail(format!(
                "$dict takes an object, got {}",
                other.type_name()
            ))),
        },
        _ => Err(fail(format!("unknown type tag {tag}"))),
    }
}

fn json_error(msg: String) -> ValueError {
    ValueError::Json(msg)
}

/// `depth` counts containers as the literal parser does (tag wrappers do not count); `nesting`
/// counts JSON arrays and objects and bounds the recursion.
fn decode(j: &serde_json::Value, depth: usize, nesting: usize) -> Result<Value, ValueError> {
    use serde_json::Value as J;
    let too_deep = || ValueError::Json(format!("containers nested deeper than {MAX_DEPTH} levels"));
    match j {
        J::Null => Ok(Value::Null),
        J::Bool(b) => Ok(Value::Bool(*b)),
        J::Number(n) => match n.as_i64() {
            Some(i) => Ok(Value::Int(i)),
            None if n.is_f64() => Ok(Value::Float(n.as_f64().unwrap_or(f64::NAN))),
            None => Err(ValueError::Json(format!("int out of range (64-bit): {n}"))),
        },
        J::String(s) => Ok(Value::str(s)),
        J::Array(items) => {
            if depth >= MAX_DEPTH || nesting >= literal::MAX_NESTING {
                return Err(too_deep());
            }
            let list = items
                .iter()
                .map(|item| decode(item, depth + 1, nesting + 1))
                .collect::<Result<_, _>>()?;
            Ok(Value::List(Box::new(list)))
        }
        J::Object(map) => {
            if nesting >= literal::MAX_NESTING {
                return Err(too_deep());
            }
            if map.len() == 1 {
                if let Some((tag, payload)) = map.iter().next() {
                    if tag == "$dict" {
                        return match payload {
                            J::Object(inner) => {
                                plain_dict(inner, depth, nesting + 1).map(Value::Dict)
                            }
                            other => decode(other, depth, nesting + 1)
                                .and_then(|v| decode_tag(tag, v, &json_error)),
                        };
                    }
                    if tag.starts_with('$') {
                        let payload = decode(payload, depth, nesting + 1)?;
                        return decode_tag(tag, payload, &json_error);
                    }
                }
            }
            plain_dict(map, depth, nesting).map(Value::Dict)
        }
    }
}

fn plain_dict(
    map: &serde_json::Map<String, serde_json::Value>,
    depth: usize,
    nesting: usize,
) -> Result<Dict, ValueError> {
    if depth >= MAX_DEPTH || nesting >= literal::MAX_NESTING {
        return Err(ValueError::Json(format!(
            "containers nested deeper than {MAX_DEPTH} levels"
        )));
    }
    map.iter()
        .map(|(k, v)| Ok((k.as_str().into(), decode(v, depth + 1, nesting + 1)?)))
        .collect()
}

/// A decimal from its text (`12.30`, `-0.5`, `1e-3`): exact, at most 28 significant digits.
pub fn decimal(text: &str) -> Result<Value, String> {
    let t = text.trim();
    rust_decimal::Decimal::from_str_exact(t)
        .or_else(|_| rust_decimal::Decimal::from_scientific(t))
        .map(Value::Decimal)
        .map_err(|e| format!("not a decimal: {t:?} ({e})"))
}

/// A deque from its typed-JSON payload: a list of items, or `{"items": [...], "maxlen": n}`.
pub fn deque(payload: Value) -> Result<Value, String> {
    match payload {
        Value::List(items) => Ok(Value::Deque(Box::new(crate::Deque::new(*items, None)))),
        Value::Dict(d) => {
            let items = match d.get("items") {
                Some(Value::List(l)) => (**l).clone(),
                None => crate::List::new(),
                Some(other) => {
                    return Err(format!("items must be a list, got {}", other.type_name()))
                }
            };
            let maxlen = match d.get("maxlen") {
                None | Some(Value::Null) => None,
                Some(Value::Int(n)) if *n >= 0 => Some(*n as usize),
                Some(other) => return Err(format!("maxlen must be an int >= 0, got {other}")),
            };
            if let Some((k, _)) = d.iter().find(|(k, _)| *k != "items" && *k != "maxlen") {
                return Err(format!("unknown key {k:?} (items, maxlen)"));
            }
            Ok(Value::Deque(Box::new(crate::Deque::new(items, maxlen))))
        }
        other => Err(format!(
            "takes a list or {{\"items\", \"maxlen\"}}, got {}",
            other.type_name()
        )),
    }
}

/// A priority queue from `[priority, item]` pairs, in order (FIFO among equal priorities); a
/// priority must be a scalar.
pub fn pqueue(pairs: &crate::List) -> Result<Value, String> {
    let mut q = crate::PQueue::new();
    for pair in pairs {
        match &*pair {
            Value::List(p) if p.len() == 2 => {
                let (priority, item) = p.pair().expect("two items");
                priority
                    .check_hashable()
                    .map_err(|e| format!("priority: {e}"))?;
                if matches!(*priority, Value::Float(f) if f.is_nan()) {
                    return Err("a priority is never NaN".into());
                }
                q.push(priority.into_owned(), item.into_owned());
            }
            other => return Err(format!("takes [priority, item] pairs, got {other}")),
        }
    }
    Ok(Value::PQueue(Box::new(q)))
}

/// A sorted set from (member, score) pairs: scores must be numbers, never NaN; a repeated
/// member keeps its last score.
pub fn sorted_set(
    pairs: impl IntoIterator<Item = (crate::SmolStr, Value)>,
) -> Result<Value, String> {
    let mut z = crate::SortedSet::new();
    for (m, x) in pairs {
        let score = match x {
            Value::Int(i) => i as f64,
            Value::Float(f) if !f.is_nan() => f,
            other => {
                return Err(format!(
                    "the score of {m:?} must be a number (not NaN), got {}",
                    other.type_name()
                ))
            }
        };
        z.insert(m, score);
    }
    Ok(Value::SortedSet(Box::new(z)))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::literal::parse_literal;
    use crate::SmolStr;

    fn dict(entries: &[(&str, Value)]) -> Value {
        Value::Dict(
            entries
                .iter()
                .map(|(k, v)| (SmolStr::new(k), v.clone()))
                .collect(),
        )
    }

    fn set(items: &[Value]) -> Value {
        Value::set(items.iter().cloned()).unwrap()
    }

    fn bytes(b: &[u8]) -> Value {
        Value::Bytes(b.into())
    }

    /// Exact structural equality: same types all the way down, floats bit for bit (any NaN
    /// equals any NaN), dict entries in the same order.
    pub(crate) fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Float(x), Value::Float(y)) => {
                x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
            }
            (Value::List(x), Value::List(y)) => {
                x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| same(&a, &b))
            }
            (Value::Set(x), Value::Set(y)) => {
                x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| same(a, b))
            }
            (Value::Dict(x), Value::Dict(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y.iter())
                        .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
            }
            _ => a.type_name() == b.type_name() && a == b,
        }
    }

    /// Encodes `v`, compares with `expected`, and decodes the text back through both parsers.
    #[track_caller]
    fn check(v: Value, expected: &str) {
        let text = to_string(&v);
        assert_eq!(text, expected, "encoding {v:?}");
        assert_eq!(
            to_json(&v).to_string(),
            text,
            "to_json agrees with to_string"
        );
        for (how, back) in [
            ("from_str", from_str(&text)),
            ("parse_literal", parse_literal(&text)),
            ("from_json", from_json(&to_json(&v))),
            ("from_str(pretty)", from_str(&to_string_pretty(&v))),
        ] {
            let back = back.unwrap_or_else(|e| panic!("{how}({text}) failed: {e}"));
            assert!(same(&back, &v), "{how}({text}) gave {back:?}, wanted {v:?}");
        }
    }

    #[test]
    fn encodes_every_type() {
        check(Value::Null, "null");
        check(Value::Bool(true), "true");
        check(Value::Bool(false), "false");
        check(Value::Int(0), "0");
        check(Value::Int(-7), "-7");
        check(Value::Int(i64::MAX), "9223372036854775807");
        check(Value::Int(i64::MIN), "-9223372036854775808");
        check(Value::Float(1.0), "1.0");
        check(Value::Float(-0.25), "-0.25");
        check(Value::Float(-0.0), "-0.0");
        check(Value::Float(1e300), "1e+300");
        check(Value::Float(1e-7), "1e-7");
        check(Value::Float(5e-324), "5e-324");
        check(Value::Float(0.1 + 0.2), "0.30000000000000004");
        check(Value::Float(f64::NAN), r#"{"$float":"nan"}"#);
        check(Value::Float(f64::INFINITY), r#"{"$float":"inf"}"#);
        check(Value::Float(f64::NEG_INFINITY), r#"{"$float":"-inf"}"#);
        check(Value::str(""), r#""""#);
        check(Value::str("a\"b\\c\n\u{1}é😀"), r#""a\"b\\c\n\u0001é😀""#);
        check(bytes(&[0, 1, 2, 255]), r#"{"$bytes":"AAEC/w=="}"#);
        check(bytes(b""), r#"{"$bytes":""}"#);
        check(Value::list([]), "[]");
        check(
            Value::list([Value::Int(1), Value::str("a"), Value::Null]),
            r#"[1,"a",null]"#,
        );
        check(dict(&[]), "{}");
        check(
            dict(&[("name", Value::str("kevin")), ("age", Value::Int(42))]),
            r#"{"name":"kevin","age":42}"#,
        );
        check(set(&[]), r#"{"$set":[]}"#);
        check(
            set(&[
                Value::str("a"),
                Value::Int(2),
                Value::Float(1.5),
                Value::Null,
            ]),
            r#"{"$set":[null,1.5,2,"a"]}"#,
        );
    }

    #[test]
    fn escapes_dicts_that_look_like_tags() {
        check(
            dict(&[("$price", Value::Int(5))]),
            r#"{"$dict":{"$price":5}}"#,
        );
        check(
            dict(&[("$set", Value::list([Value::Int(1)]))]),
            r#"{"$dict":{"$set":[1]}}"#,
        );
        // Several keys: no escape needed, whatever the keys.
        check(
            dict(&[("$set", Value::Int(1)), ("$bytes", Value::Int(2))]),
            r#"{"$set":1,"$bytes":2}"#,
        );
        // Nested escapes.
        let inner = dict(&[("$set", Value::list([Value::Int(1)]))]);
        check(
            dict(&[("$dict", inner.clone())]),
            r#"{"$dict":{"$dict":{"$dict":{"$set":[1]}}}}"#,
        );
        // A tag-like first key in a larger dict whose value is itself an escape.
        check(
            dict(&[("$dict", inner), ("b", Value::Int(2))]),
            r#"{"$dict":{"$dict":{"$set":[1]}},"b":2}"#,
        );
        check(
            dict(&[("$dict", set(&[Value::Int(1)])), ("b", Value::Int(2))]),
            r#"{"$dict":{"$set":[1]},"b":2}"#,
        );
        // A key that merely contains a `$` is an ordinary key.
        check(dict(&[("a$", Value::Int(1))]), r#"{"a$":1}"#);
    }

    #[test]
    fn nests_and_keeps_dict_order() {
        let v = dict(&[
            ("z", Value::list([set(&[Value::Int(3)]), bytes(b"hi")])),
            ("a", dict(&[("m", Value::Float(f64::NAN))])),
        ]);
        check(
            v,
            r#"{"z":[{"$set":[3]},{"$bytes":"aGk="}],"a":{"m":{"$float":"nan"}}}"#,
        );
    }

    #[test]
    fn pretty_output_is_indented() {
        let v = dict(&[("a", Value::list([Value::Int(1), Value::Float(2.0)]))]);
        assert_eq!(
            to_string_pretty(&v),
            "{\n  \"a\": [\n    1,\n    2.0\n  ]\n}"
        );
        assert_eq!(format!("{v}"), r#"{"a":[1,2.0]}"#);
    }

    /// Decoding of hand-written typed JSON: `(input, expected typed JSON of the result)`.
    #[test]
    fn decodes_hand_written_json() {
        let cases = [
            (" [ 1 , 2.5 , -1 ] ", "[1,2.5,-1]"),
            ("1E3", "1000.0"),
            ("-1.5e-3", "-0.0015"),
            (r#""\u00e9\ud83d\ude00\/""#, r#""é😀/""#),
            (r#"{"$set": [3, 1, 2, 1]}"#, r#"{"$set":[1,2,3]}"#),
            (r#"{"$set": [1, 1.0]}"#, r#"{"$set":[1]}"#),
            (r#"{"$bytes": "aGk"}"#, r#"{"$bytes":"aGk="}"#),
            (r#"{"$float": "-inf"}"#, r#"{"$float":"-inf"}"#),
            (r#"{"$float": "Infinity"}"#, r#"{"$float":"inf"}"#),
            (r#"{"$float": 3}"#, "3.0"),
            (r#"{"$float": "2.5"}"#, "2.5"),
            (r#"{"$dict": {}}"#, "{}"),
            (r#"{"$dict": {"a": 1, "b": 2}}"#, r#"{"a":1,"b":2}"#),
            (
                r#"{"$dict": {"x": {"$set": [1]}}}"#,
                r#"{"x":{"$set":[1]}}"#,
            ),
            (r#"{"$x": 1, "$y": 2}"#, r#"{"$x":1,"$y":2}"#),
            (r#"{"a": 1, "a": 2}"#, r#"{"a":2}"#),
        ];
        for (input, expected) in cases {
            let v = from_str(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(to_string(&v), expected, "from_str({input})");
            let j: serde_json::Value = serde_json::from_str(input).unwrap();
            let v = from_json(&j).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(to_string(&v), expected, "from_json({input})");
        }
        // Two keys in the text make a plain dict, even when they are the same key; a
        // serde_json tree has lost the second key by the time from_json sees it.
        let text = r#"{"$set": [1], "$set": [2]}"#;
        assert_eq!(
            to_string(&from_str(text).unwrap()),
            r#"{"$dict":{"$set":[2]}}"#
        );
        // `-0` has no `.`, so it is the int 0; serde_json, which from_json relies on, makes it
        // the float -0.0.
        assert_eq!(to_string(&from_str("-0").unwrap()), "0");
        let j: serde_json::Value = serde_json::from_str("-0").unwrap();
        assert_eq!(to_string(&from_json(&j).unwrap()), "-0.0");
    }

    #[test]
    fn refuses_bad_typed_json() {
        let cases = [
            (
                "",
                "expected a value, found the end of the text at offset 0",
            ),
            ("[1,]", "expected a value, found ']' at offset 3"),
            ("[1 2]", "expected ',' or ']', found '2' at offset 3"),
            (
                "{'a': 1}",
                "expected a string key or '}', found '\\'' at offset 1",
            ),
            ("{\"a\" 1}", "expected ':', found '1' at offset 5"),
            (
                "{\"a\": 1,}",
                "expected a string key, found '}' at offset 8",
            ),
            ("1 2", "expected the end of the text, found '2' at offset 2"),
            ("None", "expected a value, found 'N' at offset 0"),
            ("set()", "expected a value, found 's' at offset 0"),
            (".5", "expected a value, found '.' at offset 0"),
            ("5.", "expected a digit after '.' at offset 2"),
            (
                "1_000",
                "expected the end of the text, found '_' at offset 1",
            ),
            (
                "0x10",
                "expected the end of the text, found 'x' at offset 1",
            ),
            ("007", "leading zeros are not allowed at offset 0"),
            (
                "\"a\tb\"",
                "control character in a string (escape it) at offset 2",
            ),
            ("\"\\x41\"", "invalid escape '\\x' at offset 1"),
            ("\"abc", "unterminated string at offset 0"),
            (
                "\"\\ud83d\"",
                "unpaired surrogate in \\u escape at offset 1",
            ),
            (
                "99999999999999999999",
                "int out of range (64-bit): 99999999999999999999 at offset 0",
            ),
            (
                "-9223372036854775809",
                "int out of range (64-bit): -9223372036854775809 at offset 0",
            ),
            ("1e400", "float out of range: 1e400 at offset 0"),
            (r#"{"$xyz": 1}"#, "unknown type tag $xyz at offset 0"),
            (r#"[{"$set": 1}]"#, "$set takes a list, got int at offset 1"),
            (
                r#"{"$bytes": "a!"}"#,
                "$bytes: invalid base64: '!' at position 1 at offset 0",
            ),
            (
                r#"{"$bytes": "a"}"#,
                "$bytes: invalid base64: 1 symbols is not a valid length at offset 0",
            ),
            (
                r#"{"$float": "x"}"#,
                "$float takes \"nan\", \"inf\", \"-inf\" or a number, got \"x\" at offset 0",
            ),
            (
                r#"{"$dict": 1}"#,
                "$dict takes an object, got int at offset 0",
            ),
        ];
        for (input, msg) in cases {
            assert_eq!(
                from_str(input),
                Err(ValueError::Json(msg.to_string())),
                "from_str({input:?})"
            );
        }
        assert_eq!(
            from_str(r#"{"$set": [[1]]}"#),
            Err(ValueError::Unhashable("list"))
        );
    }

    #[test]
    fn from_json_refuses_what_from_str_refuses() {
        let j = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
        let err = |s: &str| from_json(&j(s)).unwrap_err().to_string();
        assert_eq!(
            err(r#"{"$xyz": 1}"#),
            "invalid typed JSON: unknown type tag $xyz"
        );
        assert_eq!(
            err("18446744073709551615"),
            "invalid typed JSON: int out of range (64-bit): 18446744073709551615"
        );
        assert_eq!(
            err(r#"{"$dict": [1]}"#),
            "invalid typed JSON: $dict takes an object, got list"
        );
        assert_eq!(
            from_json(&j(r#"{"$set": [{}]}"#)),
            Err(ValueError::Unhashable("dict"))
        );
    }

    #[test]
    fn depth_limit_holds_for_values_at_the_limit() {
        // MAX_DEPTH containers, the innermost a set: typed JSON adds a wrapper level for the
        // set, which must not count.
        let mut v = set(&[Value::Int(1)]);
        for _ in 1..MAX_DEPTH {
            v = Value::list([v]);
        }
        check(v.clone(), &to_string(&v));
        let too_deep = Value::list([v]);
        let text = to_string(&too_deep);
        let msg = format!("containers nested deeper than {MAX_DEPTH} levels");
        assert!(from_str(&text).unwrap_err().to_string().contains(&msg));
        assert!(parse_literal(&text).unwrap_err().to_string().contains(&msg));
        assert!(from_json(&to_json(&too_deep))
            .unwrap_err()
            .to_string()
            .contains(&msg));

        // Dicts whose only key starts with `$` are escaped at every level.
        let mut v = Value::Int(0);
        for _ in 0..MAX_DEPTH {
            v = dict(&[("$k", v)]);
        }
        check(v.clone(), &to_string(&v));
    }

    #[test]
    fn deep_garbage_is_an_error_not_a_crash() {
        for text in [
            "[".repeat(100_000),
            r#"{"$a":"#.repeat(100_000),
            r#"{"$dict":"#.repeat(100_000),
        ] {
            assert!(from_str(&text).is_err());
            assert!(parse_literal(&text).is_err());
        }
    }
}
