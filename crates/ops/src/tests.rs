//! Property tests against models from the standard library: random operation sequences on a
//! list (against `VecDeque`) and a sorted set (against a `BTreeMap` of (score, member)) must
//! agree on every answer and on the final contents; plus the error cases of each family.

use std::collections::{BTreeSet, HashMap, VecDeque};

use okdb_value::{SmolStr, SortedSet, Value};
use proptest::prelude::*;

use crate::members::Combine;
use crate::scored::{self, AddIf, ScoreBound};
use crate::seq::{self, End};
use crate::OpError;

#[derive(Debug, Clone)]
enum ListOp {
    Push(bool, i64),
    Pop(bool),
    Insert(i64, i64),
    Set(i64, i64),
    DeleteAt(i64),
    Remove(i64, i64),
    Trim(i64, i64),
}

fn list_op() -> impl Strategy<Value = ListOp> {
    prop_oneof![
        (any::<bool>(), 0..5i64).prop_map(|(l, x)| ListOp::Push(l, x)),
        any::<bool>().prop_map(ListOp::Pop),
        (-12..12i64, 0..5i64).prop_map(|(i, x)| ListOp::Insert(i, x)),
        (-12..12i64, 0..5i64).prop_map(|(i, x)| ListOp::Set(i, x)),
        (-12..12i64).prop_map(ListOp::DeleteAt),
        (0..5i64, -3..3i64).prop_map(|(x, n)| ListOp::Remove(x, n)),
        (-12..12i64, -12..12i64).prop_map(|(a, b)| ListOp::Trim(a, b)),
    ]
}

fn model_index(len: usize, i: i64) -> Option<usize> {
    let j = if i < 0 { i + len as i64 } else { i };
    (0..len as i64).contains(&j).then_some(j as usize)
}

fn contents(v: &Value) -> Vec<i64> {
    let Value::List(l) = v else { panic!("a list") };
    l.iter()
        .map(|x| match *x {
            Value::Int(i) => i,
            _ => panic!("ints only"),
        })
        .collect()
}

proptest! {
    #[test]
    fn a_list_agrees_with_a_vecdeque(ops in proptest::collection::vec(list_op(), 0..80)) {
        let mut v = Value::list([]);
        let mut m: VecDeque<i64> = VecDeque::new();
        for op in ops {
            match op {
                ListOp::Push(left, x) => {
                    let end = if left { End::Left } else { End::Right };
                    let n = seq::push("T", &mut v, end, vec![Value::Int(x)]).unwrap();
                    if left { m.push_front(x) } else { m.push_back(x) }
                    prop_assert_eq!(n, m.len());
                }
                ListOp::Pop(left) => {
                    let end = if left { End::Left } else { End::Right };
                    let got = seq::pop("T", &mut v, end, 1).unwrap();
                    let want = if left { m.pop_front() } else { m.pop_back() };
                    prop_assert_eq!(got, want.map(Value::Int).into_iter().collect::<Vec<_>>());
                }
                ListOp::Insert(i, x) => {
                    let n = m.len() as i64;
                    let at = if i < 0 { (i + n).max(0) } else { i.min(n) } as usize;
                    m.insert(at, x);
                    prop_assert_eq!(seq::insert("T", &mut v, i, Value::Int(x)).unwrap(), m.len());
                }
                ListOp::Set(i, x) => {
                    let got = seq::set("T", &mut v, i, Value::Int(x));
                    match model_index(m.len(), i) {
                        Some(at) => { m[at] = x; prop_assert!(got.is_ok()); }
                        None => prop_assert_eq!(got, Err(OpError::Index)),
                    }
                }
                ListOp::DeleteAt(i) => {
                    let got = seq::delete_at("T", &mut v, i);
                    match model_index(m.len(), i) {
                        Some(at) => prop_assert_eq!(got, Ok(Value::Int(m.remove(at).unwrap()))),
                        None => prop_assert_eq!(got, Err(OpError::Index)),
                    }
                }
                ListOp::Remove(x, count) => {
                    let mut gone = 0;
                    if count >= 0 {
                        let limit = if count == 0 { usize::MAX } else { count as usize };
                        let mut kept = VecDeque::new();
                        for y in m.drain(..) {
                            if y == x && gone < limit { gone += 1 } else { kept.push_back(y) }
                        }
                        m = kept;
                    } else {
                        let limit = count.unsigned_abs() as usize;
                        let mut kept = VecDeque::new();
                        for y in m.drain(..).rev() {
                            if y == x && gone < limit { gone += 1 } else { kept.push_front(y) }
                        }
                        m = kept;
                    }
                    prop_assert_eq!(seq::remove("T", &mut v, &Value::Int(x), count).unwrap(), gone);
                }
                ListOp::Trim(a, b) => {
                    let kept: VecDeque<i64> = match seq::redis_range(m.len(), a, b) {
                        Some((x, y)) => m.range(x..y).copied().collect(),
                        None => VecDeque::new(),
                    };
                    m = kept;
                    prop_assert_eq!(seq::trim("T", &mut v, a, b).unwrap(), m.len());
                }
            }
            prop_assert_eq!(contents(&v), m.iter().copied().collect::<Vec<_>>());
        }
    }

    #[test]
    fn slices_agree_with_python(len in 0usize..12, start in proptest::option::of(-15..15i64),
                                stop in proptest::option::of(-15..15i64), step in -4..4i64) {
        prop_assume!(step != 0);
        let v = Value::list((0..len as i64).map(Value::Int));
        // Python's rule, written out the slow way: walk every index the slice names.
        let n = len as i64;
        let norm = |i: i64| if i < 0 { i + n } else { i };
        let mut want = Vec::new();
        if step > 0 {
            let a = start.map_or(0, |s| norm(s).clamp(0, n));
            let b = stop.map_or(n, |s| norm(s).clamp(0, n));
            let mut i = a;
            while i < b { want.push(i); i += step; }
        } else {
            let a = start.map_or(n - 1, |s| norm(s).clamp(-1, n - 1));
            let b = stop.map_or(-1, |s| norm(s).clamp(-1, n - 1));
            let mut i = a;
            while i > b { want.push(i); i += step; }
        }
        let got = seq::slice("T", &v, start, stop, step).unwrap();
        prop_assert_eq!(contents(&got), want.clone());
        let mut d = v.clone();
        prop_assert_eq!(seq::delete_slice("T", &mut d, start, stop, step).unwrap(), want.len());
        let left: Vec<i64> = (0..n).filter(|i| !want.contains(i)).collect();
        prop_assert_eq!(contents(&d), left);
    }

    #[test]
    fn a_sorted_set_agrees_with_an_ordered_model(
        ops in proptest::collection::vec((0..3u8, 0..20u8, -4..4i32), 0..120)
    ) {
        let mut v = Value::SortedSet(Box::default());
        let mut scores: HashMap<SmolStr, f64> = HashMap::new();
        for (op, m, s) in ops {
            let member = SmolStr::new(format!("m{m}"));
            let score = s as f64 / 2.0;
            match op {
                0 => {
                    let done = scored::add("T", &mut v, &[(member.clone(), score)], AddIf::default(), false).unwrap();
                    let new = scores.insert(member, score).is_none();
                    prop_assert_eq!(done.added, new as usize);
                }
                1 => {
                    let n = scored::remove("T", &mut v, [member.as_str()]).unwrap();
                    prop_assert_eq!(n, scores.remove(&member).is_some() as usize);
                }
                _ => {
                    let popped = scored::pop("T", &mut v, s > 0, 1).unwrap();
                    let order = model_order(&scores);
                    let want = if s > 0 { order.last() } else { order.first() }.cloned();
                    if let Some((m, _)) = &want { scores.remove(m); }
                    prop_assert_eq!(popped.first().cloned(), want);
                }
            }
            let Value::SortedSet(z) = &v else { panic!("a sorted set") };
            let order = model_order(&scores);
            let got: Vec<(SmolStr, f64)> = z.iter().map(|(m, s)| (m.clone(), s)).collect();
            prop_assert_eq!(&got, &order);
            for (rank, (m, s)) in order.iter().enumerate() {
                prop_assert_eq!(z.rank(m), Some(rank));
                prop_assert_eq!(z.score(m), Some(*s));
            }
            // Ranges by score: every member with a score in [lo, hi].
            let (lo, hi) = (-1.0, 0.5);
            let (a, b) = scored::by_score(z, ScoreBound { score: lo, exclusive: false }, ScoreBound { score: hi, exclusive: true });
            let want: Vec<&SmolStr> = order.iter().filter(|(_, s)| *s >= lo && *s < hi).map(|(m, _)| m).collect();
            let got: Vec<SmolStr> = z.range(a, b).into_iter().map(|(m, _)| m).collect();
            prop_assert_eq!(got.iter().collect::<Vec<_>>(), want);
        }
    }
}

/// The model's order: by score, then by member bytes.
fn model_order(scores: &HashMap<SmolStr, f64>) -> Vec<(SmolStr, f64)> {
    let mut v: Vec<(SmolStr, f64)> = scores.iter().map(|(m, s)| (m.clone(), *s)).collect();
    v.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap()
            .then_with(|| a.0.as_bytes().cmp(b.0.as_bytes()))
    });
    v
}

#[test]
fn every_verb_names_the_types_it_accepts() {
    let s = Value::str("x");
    let e = seq::push("LPUSH", &mut s.clone(), End::Left, vec![]).unwrap_err();
    assert_eq!(e.to_string(), "LPUSH expects list or deque, found string");
    let e = crate::map::get("HGET", &s, "f").unwrap_err();
    assert_eq!(e.to_string(), "HGET expects dict, found string");
    let e = crate::members::add("SADD", &mut Value::Int(1), vec![]).unwrap_err();
    assert_eq!(e.to_string(), "SADD expects set, found int");
    let e = scored::zset("ZADD", &Value::list([])).unwrap_err();
    assert_eq!(e.to_string(), "ZADD expects sortedset, found list");
    let e = crate::len("LEN", &Value::Null).unwrap_err();
    assert_eq!(
        e.to_string(),
        "LEN expects string, bytes, list, dict, set, sortedset, deque or pqueue, found null"
    );
    let e = crate::num::sum("SUM", &Value::Int(3)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "SUM expects string, bytes, list, dict, set, sortedset, deque or pqueue, found int"
    );
}

#[test]
fn errors_change_nothing() {
    // A NaN score anywhere in a ZADD adds nothing.
    let mut v = Value::SortedSet(Box::default());
    let pairs = [(SmolStr::new("a"), 1.0), (SmolStr::new("b"), f64::INFINITY)];
    scored::add("ZADD", &mut v, &pairs, AddIf::default(), false).unwrap();
    let err = scored::add(
        "ZADD",
        &mut v,
        &[
            (SmolStr::new("a"), 1.0),
            (SmolStr::new("b"), f64::NEG_INFINITY),
        ],
        AddIf::default(),
        true,
    );
    assert!(matches!(err, Err(OpError::Invalid(_))));
    let Value::SortedSet(z) = &v else { panic!() };
    assert_eq!(z.score("a"), Some(1.0));
    assert_eq!(z.score("b"), Some(f64::INFINITY));
    // An int overflow in a sum or a dict increment is an error, never a wrap.
    let big = Value::list([Value::Int(i64::MAX), Value::Int(1)]);
    assert!(matches!(
        crate::num::sum("SUM", &big),
        Err(OpError::Overflow(_))
    ));
    let mut d = Value::Dict(Default::default());
    crate::map::set("HSET", &mut d, "n", Value::Int(i64::MAX)).unwrap();
    assert!(matches!(
        crate::map::incr_int("HINCRBY", &mut d, "n", 1),
        Err(OpError::Overflow(_))
    ));
    assert_eq!(
        crate::map::get("HGET", &d, "n").unwrap(),
        Some(&Value::Int(i64::MAX))
    );
    // A set member must be a scalar; nothing is added when one is not.
    let mut s = Value::set([]).unwrap();
    assert!(crate::members::add("SADD", &mut s, vec![Value::Int(1), Value::list([])]).is_err());
    assert_eq!(s.len(), Some(0));
}

#[test]
fn math_is_exact_for_ints_and_stable_for_floats() {
    let ints = Value::list((1..=1000).map(Value::Int));
    assert_eq!(crate::num::sum("SUM", &ints).unwrap(), Value::Int(500_500));
    assert_eq!(
        crate::num::median("MEDIAN", &ints).unwrap(),
        Some(Value::Float(500.5))
    );
    // Cancellation: a naive left-to-right float sum gives 0 here.
    let floats = Value::list([Value::Float(1e100), Value::Float(1.0), Value::Float(-1e100)]);
    assert_eq!(crate::num::sum("SUM", &floats).unwrap(), Value::Float(1.0));
    let same = Value::list((0..1000).map(|_| Value::Float(1e9 + 0.1)));
    let sd = crate::num::stddev("STDDEV", &same).unwrap().unwrap();
    assert!(sd < 1e-6, "{sd}");
    assert_eq!(
        crate::num::extreme("MIN", &Value::list([]), false).unwrap(),
        None
    );
}

#[test]
fn sets_combine_as_python_sets_do() {
    let a = Value::set([Value::Int(1), Value::Int(2), Value::Int(3)]).unwrap();
    let b = Value::set([Value::Int(2), Value::Int(3), Value::Int(4)]).unwrap();
    let got = |how| -> BTreeSet<Value> {
        crate::members::combine("T", how, &[Some(&a), Some(&b), None])
            .unwrap()
            .into_iter()
            .collect()
    };
    assert_eq!(got(Combine::Union).len(), 4);
    assert!(got(Combine::Intersect).is_empty()); // a missing key is an empty set
    assert_eq!(got(Combine::Diff), [Value::Int(1)].into_iter().collect());
    let z = scored::combine(
        Combine::Union,
        &[
            vec![(SmolStr::new("x"), f64::INFINITY)],
            vec![(SmolStr::new("x"), f64::NEG_INFINITY)],
        ],
        &[1.0, 1.0],
        scored::Aggregate::Sum,
    );
    assert_eq!(z.score("x"), Some(0.0)); // inf + -inf is NaN, which counts as 0, as in Redis
    let _: SortedSet = z;
}

proptest! {
    #[test]
    fn a_pqueue_agrees_with_a_binary_heap(ops in proptest::collection::vec((any::<bool>(), 0..4i64), 0..150)) {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let mut v = Value::PQueue(Box::default());
        let mut model: BinaryHeap<Reverse<(i64, u64)>> = BinaryHeap::new();
        for (seq, (add, p)) in ops.into_iter().enumerate() {
            if add {
                let n = crate::queue::add("T", &mut v, vec![(Value::Int(seq as i64), Value::Int(p))]).unwrap();
                model.push(Reverse((p, seq as u64)));
                prop_assert_eq!(n, model.len());
            } else {
                let got = crate::queue::pop("T", &mut v).unwrap();
                let want = model.pop().map(|Reverse((p, s))| (Value::Int(p), Value::Int(s as i64)));
                prop_assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn a_bounded_deque_agrees_with_a_vecdeque(maxlen in 1usize..6,
                                              ops in proptest::collection::vec((0..3u8, 0..9i64), 0..100)) {
        let mut v = Value::Deque(Box::new(okdb_value::Deque::new(Default::default(), Some(maxlen))));
        let mut m: VecDeque<i64> = VecDeque::new();
        for (op, x) in ops {
            match op {
                0 => {
                    seq::push("T", &mut v, End::Right, vec![Value::Int(x)]).unwrap();
                    m.push_back(x);
                    if m.len() > maxlen { m.pop_front(); }
                }
                1 => {
                    seq::push("T", &mut v, End::Left, vec![Value::Int(x)]).unwrap();
                    m.push_front(x);
                    if m.len() > maxlen { m.pop_back(); }
                }
                _ => {
                    let got = seq::pop("T", &mut v, End::Left, 1).unwrap();
                    prop_assert_eq!(got, m.pop_front().map(Value::Int).into_iter().collect::<Vec<_>>());
                }
            }
            let Value::Deque(d) = &v else { panic!("a deque") };
            prop_assert_eq!(d.items.values().collect::<Vec<_>>(), m.iter().copied().map(Value::Int).collect::<Vec<_>>());
        }
    }
}

#[test]
fn decimals_stay_exact_and_do_not_mix_with_floats() {
    let tenth = Value::Decimal("0.1".parse().unwrap());
    let ten = Value::list((0..10).map(|_| tenth.clone()));
    assert_eq!(
        crate::num::sum("SUM", &ten).unwrap(),
        Value::Decimal("1.0".parse().unwrap())
    );
    let with_int = Value::list([tenth.clone(), Value::Int(2)]);
    assert_eq!(
        crate::num::sum("SUM", &with_int).unwrap().to_string(),
        "{\"$decimal\":\"2.1\"}"
    );
    let with_float = Value::list([tenth.clone(), Value::Float(0.5)]);
    assert!(matches!(
        crate::num::sum("SUM", &with_float),
        Err(OpError::Invalid(_))
    ));
    assert!(crate::num::add("INCR", &tenth, &Value::Float(1.0)).is_err());
    assert_eq!(
        crate::num::add("INCR", &tenth, &Value::Int(1)).unwrap(),
        Value::Decimal("1.1".parse().unwrap())
    );
    // Decimals compare with ints and floats as numbers.
    assert!(tenth < Value::Int(1) && tenth > Value::Float(0.05));
}
