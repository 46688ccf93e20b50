//! How a [`Reply`] is spelled in RESP2 and RESP3 (SPEC.md §8).
//!
//! RESP3 replies are typed: a stored int is an integer, a float a double, a dict a map, a set a
//! set. RESP2 has no such types, so a stored string or bytes value is sent raw and every other
//! value as its typed JSON text (a stored null is the text `null`; a missing key is a nil reply); protocol-level replies (counts, `INCR` results) stay integers.

use okdb_engine::Reply;
use okdb_resp::Encoder;
use okdb_value::{json, Value};

pub fn reply(out: &mut Vec<u8>, reply: &Reply, proto: u8) {
    let mut e = Encoder::new(out, proto >= 3);
    encode_reply(&mut e, reply);
}

fn encode_reply(e: &mut Encoder<'_>, r: &Reply) {
    match r {
        Reply::Ok => e.ok(),
        Reply::Status(s) => e.simple(s),
        Reply::Int(i) => e.integer(*i),
        Reply::Bulk(b) => e.bulk(b),
        Reply::Text(t) => e.verbatim("txt", t.as_bytes()),
        Reply::Null => e.null(),
        Reply::Array(items) => {
            e.array(items.len());
            items.iter().for_each(|i| encode_reply(e, i));
        }
        Reply::Set(items) => {
            e.set(items.len());
            items.iter().for_each(|i| encode_reply(e, i));
        }
        Reply::Map(pairs) => {
            e.map(pairs.len());
            for (k, v) in pairs {
                encode_reply(e, k);
                encode_reply(e, v);
            }
        }
        Reply::Double(d) => e.double(*d),
        Reply::Bool(b) => e.boolean(*b),
        Reply::Value(v) => value(e, v),
        Reply::Error(err) => e.error(&err.to_string()),
    }
}

fn value(e: &mut Encoder<'_>, v: &Value) {
    match v {
        Value::Str(s) => e.bulk(s.as_bytes()),
        Value::Bytes(b) => e.bulk(b),
        _ if !e.resp3() => e.bulk(json::to_string(v).as_bytes()),
        Value::Null => e.null(),
        Value::Bool(b) => e.boolean(*b),
        Value::Int(i) => e.integer(*i),
        Value::Float(f) => e.double(*f),
        Value::List(l) => {
            e.array(l.len());
            l.iter().for_each(|i| value(e, i));
        }
        Value::Set(s) => {
            e.set(s.len());
            s.iter().for_each(|i| value(e, i));
        }
        Value::Dict(d) => {
            e.map(d.len());
            for (k, v) in d.iter() {
                e.bulk(k.as_bytes());
                value(e, v);
            }
        }
    }
}
