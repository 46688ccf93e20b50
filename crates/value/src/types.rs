//! The type catalog: one declaration per type.
//!
//! Each type of [`Value`] is declared once, in [`TYPES`]: the name `TYPE` reports, the name a
//! Redis client is told (`TYPE` over a Redis connection), a literal example, its typed-JSON
//! form and its capabilities — which families of verbs accept it. `WRONGTYPE` errors
//! (`WRONGTYPE POP expects list or set, found string`) and the type table of docs/values.md are
//! made from these declarations, so a verb never lists its accepted types by hand.
//!
//! Adding a type: a variant of [`Value`], its row here (in rank order), its literal in
//! [`crate::literal`] and its tag in [`crate::json`]; the operations it takes go in `okdb-ops`.

use crate::Value;

/// What a type can do: each capability is a family of verbs (`okdb-ops` names the family each
/// verb needs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps(pub u16);

impl Caps {
    pub const NONE: Caps = Caps(0);
    /// Has a length (`LEN`).
    pub const LEN: Caps = Caps(1);
    /// Items in order, read by position: index, slice, count, index-of (`GETSLICE`, `COUNT`).
    pub const SEQUENCE: Caps = Caps(2);
    /// Items changed by position in place: insert, set and delete an index, remove, reverse,
    /// sort (`INSERT`, `SETITEM` with an index, `REVERSE`).
    pub const MUTABLE_SEQUENCE: Caps = Caps(4);
    /// Push and pop at both ends (`PUSHLEFT`, `POPLEFT`, Redis's list commands).
    pub const ENDS: Caps = Caps(8);
    /// Values by field (`GETITEM` with a field, Redis's hash commands).
    pub const MAPPING: Caps = Caps(16);
    /// Unique members (`ADD`, `DISCARD`, Redis's set commands).
    pub const MEMBERS: Caps = Caps(32);
    /// Iterable: its items can feed another container, a sum, a union (`EXTEND`, `SUM`).
    pub const ITERABLE: Caps = Caps(64);
    /// A number (`INCR`, arithmetic).
    pub const NUMBER: Caps = Caps(128);
    /// A scalar whose text Redis's string commands work on (`APPEND`, `STRLEN`, `GETRANGE`).
    pub const TEXT: Caps = Caps(256);
    /// Membership test (`CONTAINS`): an item, a member, a field, or a substring.
    pub const CONTAINS: Caps = Caps(512);
    /// Members with scores, in score order (`SCORE`, `RANK`, `RANGE`, Redis's sorted-set
    /// commands).
    pub const SCORED: Caps = Caps(1024);
    /// Items with priorities, taken lowest first (`ADD key item priority`, `POP`).
    pub const PRIORITY: Caps = Caps(2048);

    pub const fn or(self, other: Caps) -> Caps {
        Caps(self.0 | other.0)
    }

    pub const fn has(self, other: Caps) -> bool {
        self.0 & other.0 == other.0
    }
}

/// One type's declaration.
#[derive(Debug)]
pub struct TypeDecl {
    /// okdb's name (`TYPE`, typed errors).
    pub name: &'static str,
    /// What `TYPE` answers a Redis client: Redis's nearest type.
    pub redis: &'static str,
    /// A literal, as the shell reads it.
    pub literal: &'static str,
    /// The same value in typed JSON.
    pub json: &'static str,
    pub caps: Caps,
    /// One line for the docs.
    pub summary: &'static str,
}

const SCALAR: Caps = Caps::TEXT;
const SEQ: Caps = Caps::LEN
    .or(Caps::SEQUENCE)
    .or(Caps::ITERABLE)
    .or(Caps::CONTAINS);

/// Every type, in rank order (the order values of different types sort in; ints, floats and
/// decimals compare as numbers).
pub static TYPES: &[TypeDecl] = &[
    TypeDecl {
        name: "null",
        redis: "string",
        literal: "null",
        json: "null",
        caps: SCALAR,
        summary: "No value (Python's None).",
    },
    TypeDecl {
        name: "bool",
        redis: "string",
        literal: "true",
        json: "true",
        caps: SCALAR,
        summary: "true or false.",
    },
    TypeDecl {
        name: "int",
        redis: "string",
        literal: "42",
        json: "42",
        caps: SCALAR.or(Caps::NUMBER),
        summary: "A 64-bit signed integer; overflow is an error.",
    },
    TypeDecl {
        name: "float",
        redis: "string",
        literal: "1.5",
        json: "1.5",
        caps: SCALAR.or(Caps::NUMBER),
        summary: "A 64-bit IEEE float.",
    },
    TypeDecl {
        name: "decimal",
        redis: "string",
        literal: "decimal('12.30')",
        json: "{\"$decimal\": \"12.30\"}",
        caps: SCALAR.or(Caps::NUMBER),
        summary: "An exact base-10 number (28 significant digits); sums and increments stay exact; mixing with float is an error.",
    },
    TypeDecl {
        name: "date",
        redis: "string",
        literal: "date('2026-11-28')",
        json: "{\"$date\": \"2026-11-28\"}",
        caps: SCALAR,
        summary: "A calendar date; dates order by day.",
    },
    TypeDecl {
        name: "datetime",
        redis: "string",
        literal: "datetime('2026-11-28T10:00:00+01:00')",
        json: "{\"$datetime\": \"2026-11-28T10:00:00+01:00\"}",
        caps: SCALAR,
        summary: "An instant to the microsecond, with the UTC offset it was written in; datetimes order by instant.",
    },
    TypeDecl {
        name: "string",
        redis: "string",
        literal: "'hello'",
        json: "\"hello\"",
        caps: SCALAR.or(SEQ),
        summary: "UTF-8 text; lengths and indexes count characters.",
    },
    TypeDecl {
        name: "bytes",
        redis: "string",
        literal: "bytes('AAEC')",
        json: "{\"$bytes\": \"AAEC\"}",
        caps: SCALAR.or(SEQ),
        summary: "Binary data.",
    },
    TypeDecl {
        name: "list",
        redis: "list",
        literal: "[1, 'a']",
        json: "[1, \"a\"]",
        caps: SEQ.or(Caps::MUTABLE_SEQUENCE).or(Caps::ENDS),
        summary: "A sequence: O(log n) index, insert and delete anywhere, O(1) amortized at both ends.",
    },
    TypeDecl {
        name: "dict",
        redis: "hash",
        literal: "{'name': 'kevin'}",
        json: "{\"name\": \"kevin\"}",
        caps: Caps::LEN
            .or(Caps::MAPPING)
            .or(Caps::ITERABLE)
            .or(Caps::CONTAINS),
        summary: "String keys to values, in insertion order.",
    },
    TypeDecl {
        name: "set",
        redis: "set",
        literal: "{1, 2}",
        json: "{\"$set\": [1, 2]}",
        caps: Caps::LEN
            .or(Caps::MEMBERS)
            .or(Caps::ITERABLE)
            .or(Caps::CONTAINS),
        summary: "Unique scalars, kept in value order.",
    },
    TypeDecl {
        name: "sortedset",
        redis: "zset",
        literal: "sortedset({'alice': 3.5, 'bob': 1})",
        json: "{\"$sortedset\": {\"bob\": 1.0, \"alice\": 3.5}}",
        caps: Caps::LEN
            .or(Caps::SCORED)
            .or(Caps::ITERABLE)
            .or(Caps::CONTAINS),
        summary: "String members with float scores, ordered by (score, member): O(log n) add, remove, rank and score; ranges by rank and by score.",
    },
    TypeDecl {
        name: "deque",
        redis: "list",
        literal: "deque([1, 2], maxlen=100)",
        json: "{\"$deque\": {\"items\": [1, 2], \"maxlen\": 100}}",
        caps: Caps::LEN
            .or(Caps::SEQUENCE)
            .or(Caps::ENDS)
            .or(Caps::ITERABLE)
            .or(Caps::CONTAINS),
        summary: "A sequence used at both ends, O(1) each; with maxlen, a push past it drops an item from the other end.",
    },
    TypeDecl {
        name: "pqueue",
        redis: "pqueue",
        literal: "pqueue([[1, 'urgent'], [5, 'later']])",
        json: "{\"$pqueue\": [[1, \"urgent\"], [5, \"later\"]]}",
        caps: Caps::LEN.or(Caps::PRIORITY).or(Caps::ITERABLE),
        summary: "Items handed out lowest priority first, first in first out among equal priorities; O(log n) add and pop.",
    },
    TypeDecl {
        name: "function",
        redis: "string",
        literal: "lambda x: x * 2",
        json: "{\"$function\": \"lambda x: x * 2\"}",
        caps: Caps::NONE,
        summary: "A function of the okdb language, kept as its source; EVAL, APPLY, FILTER and scripts call it.",
    },
];

impl Value {
    /// This value's type declaration.
    pub fn decl(&self) -> &'static TypeDecl {
        &TYPES[self.rank_index()]
    }

    /// True if the type has every capability of `caps`.
    pub fn can(&self, caps: Caps) -> bool {
        self.decl().caps.has(caps)
    }
}

/// The types with every capability of `caps`, as a phrase: `list, dict or set`.
pub fn accepting(caps: Caps) -> String {
    let names: Vec<&str> = TYPES
        .iter()
        .filter(|t| t.caps.has(caps))
        .map(|t| t.name)
        .collect();
    match names.split_last() {
        None => "nothing".into(),
        Some((last, [])) => (*last).into(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// A type's declaration by its okdb name.
pub fn by_name(name: &str) -> Option<&'static TypeDecl> {
    TYPES.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_has_its_declaration_in_rank_order() {
        let samples = [
            Value::Null,
            Value::Bool(true),
            Value::Int(1),
            Value::Float(1.5),
            Value::Decimal("12.30".parse().unwrap()),
            Value::Date(crate::dates::Date(0)),
            Value::DateTime(crate::dates::DateTime {
                micros: 0,
                offset_min: 60,
            }),
            Value::str("a"),
            Value::Bytes(vec![0xff].into()),
            Value::list([]),
            Value::Dict(Default::default()),
            Value::set([]).unwrap(),
            Value::SortedSet(Default::default()),
            Value::Deque(Default::default()),
            Value::PQueue(Default::default()),
            Value::Function("lambda x: x".into()),
        ];
        assert_eq!(samples.len(), TYPES.len());
        for (i, v) in samples.iter().enumerate() {
            assert_eq!(v.decl().name, TYPES[i].name);
            assert_eq!(v.type_name(), TYPES[i].name);
            // The examples are what they claim to be.
            let lit = crate::literal::parse_arg(TYPES[i].literal.as_bytes()).unwrap();
            assert_eq!(lit.type_name(), TYPES[i].name, "{}", TYPES[i].literal);
            let json = crate::json::from_str(TYPES[i].json).unwrap();
            assert_eq!(json, lit, "{}", TYPES[i].json);
        }
    }

    #[test]
    fn accepting_names_the_types_in_rank_order() {
        assert_eq!(accepting(Caps::MEMBERS), "set");
        assert_eq!(
            accepting(Caps::LEN),
            "string, bytes, list, dict, set, sortedset, deque or pqueue"
        );
        assert_eq!(accepting(Caps::NUMBER), "int, float or decimal");
    }
}
