use std::time::{Duration, Instant};

use super::{matches, Pattern, TooLong, MAX_PATTERN_LEN};

/// Redis 7.0.9's answers: each row was run through util.c's `stringmatchlen` (nocase 0)
/// compiled from the Redis sources; the unclosed-class, empty-class and range-to-`]` rows are
/// the quirks this matcher must keep.
#[test]
fn redis_answers() {
    let cases: &[(&str, &str, bool)] = &[
        (r"", r"", true),
        (r"", r"a", false),
        (r"*", r"", false),
        (r"**", r"", false),
        (r"*", r"anything", true),
        (r"user:*", r"user:1", true),
        (r"user:*", r"users", false),
        (r"h?llo", r"hello", true),
        (r"h?llo", r"hllo", false),
        (r"h[ae]llo", r"hallo", true),
        (r"h[ae]llo", r"hillo", false),
        (r"h[^e]llo", r"hallo", true),
        (r"h[^e]llo", r"hello", false),
        (r"h[a-b]llo", r"hbllo", true),
        (r"h[a-b]llo", r"hcllo", false),
        (r"h[b-a]llo", r"hallo", true),
        (r"a\*b", r"a*b", true),
        (r"a\*b", r"axb", false),
        (r"a\", r"a\", true),
        (r"*a*b*c*", r"xxaxxbxxcxx", true),
        (r"*a*b*c*", r"xxaxxcxxbxx", false),
        (r"a*", r"a", true),
        (r"a*", r"b", false),
        (r"a**", r"abc", true),
        (r"[", r"[", false),
        (r"[", r"a", false),
        (r"[[", r"[", true),
        (r"[[[", r"[", true),
        (r"[[[", r"[[", false),
        (r"[a", r"a", true),
        (r"[a", r"[", false),
        (r"[^", r"x", true),
        (r"[^a", r"b", true),
        (r"[^a", r"a", false),
        (r"[]", r"]", false),
        (r"[]a]", r"a", false),
        (r"[]a]", r"]", false),
        (r"[^]", r"x", true),
        (r"[a-]", r"a", true),
        (r"[a-]", r"-", false),
        (r"[a-]", r"_", true),
        (r"[a-", r"-", true),
        (r"[\]]", r"]", true),
        (r"[\]", r"]", true),
        (r"[\]", r"\", false),
        (r"[\", r"\", true),
        (r"\", r"\", true),
        (r"\[", r"[", true),
        (r"[[]", r"[", true),
        (r"[*]", r"*", true),
        (r"[*]", r"a", false),
        (r"[?]", r"?", true),
        (r"[?]", r"a", false),
        (r"[a-c-e]", r"d", false),
        (r"[a-c-e]", r"-", true),
        (
            r"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
            r"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            false,
        ),
        (r"*?", r"a", true),
        (r"?*", r"a", true),
        (r"*?*", r"", false),
        (r"foo*", r"foo_a", true),
        (r"foo*", r"key_b", false),
        (r"k??", r"k12", true),
        (r"k??", r"k1", false),
    ];
    for &(p, t, want) in cases {
        assert_eq!(matches(p.as_bytes(), t.as_bytes()), want, "{p:?} vs {t:?}");
    }
}

/// util.c's `stringmatchlen_impl` (nocase 0) line by line, recursion and all, over slices: the
/// reference the compiled matcher is checked against on random patterns. Reads past the end
/// give 0, as the C reads the string's terminating NUL.
fn redis(p: &[u8], s: &[u8], skip_longer: &mut bool) -> bool {
    let at = |p: &[u8], i: usize| p.get(i).copied().unwrap_or(0);
    let (mut p, mut s) = (p, s);
    while !p.is_empty() && !s.is_empty() {
        match p[0] {
            b'*' => {
                while !p.is_empty() && at(p, 1) == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                while !s.is_empty() {
                    if redis(&p[1..], s, skip_longer) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    s = &s[1..];
                }
                *skip_longer = true;
                return false;
            }
            b'?' => s = &s[1..],
            b'[' => {
                let whole = p;
                let mut i = 1;
                let not = at(whole, i) == b'^';
                if not {
                    i += 1;
                }
                let mut matched = false;
                loop {
                    let left = whole.len() - i;
                    if at(whole, i) == b'\\' && left >= 2 {
                        i += 1;
                        matched |= whole[i] == s[0];
                    } else if at(whole, i) == b']' {
                        break;
                    } else if left == 0 {
                        i -= 1;
                        break;
                    } else if left >= 3 && whole[i + 1] == b'-' {
                        let (lo, hi) = (whole[i].min(whole[i + 2]), whole[i].max(whole[i + 2]));
                        i += 2;
                        matched |= (lo..=hi).contains(&s[0]);
                    } else {
                        matched |= whole[i] == s[0];
                    }
                    i += 1;
                }
                if matched == not {
                    return false;
                }
                p = &whole[i..];
                s = &s[1..];
            }
            c => {
                let lit = if c == b'\\' && p.len() >= 2 {
                    p = &p[1..];
                    p[0]
                } else {
                    c
                };
                if lit != s[0] {
                    return false;
                }
                s = &s[1..];
            }
        }
        p = &p[1..];
        if s.is_empty() {
            while at(p, 0) == b'*' {
                p = &p[1..];
            }
            break;
        }
    }
    p.is_empty() && s.is_empty()
}

fn random(rng: &mut fastrand::Rng, alphabet: &[u8], len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| alphabet[rng.usize(..alphabet.len())])
        .collect()
}

#[test]
fn agrees_with_redis_on_random_patterns() {
    let mut rng = fastrand::Rng::with_seed(7);
    let mut hits = 0;
    for round in 0..20_000 {
        // Short patterns over the special bytes, and long ones (several words of states).
        let (p, s) = if round % 4 == 0 {
            let n = rng.usize(60..200);
            let p = random(&mut rng, b"aa*?*ab", n);
            let m = rng.usize(40..300);
            (p, random(&mut rng, b"aaaaaab", m))
        } else {
            let n = rng.usize(..9);
            let m = rng.usize(..6);
            let p = random(&mut rng, b"ab[]^-\\*?c", n);
            (p, random(&mut rng, b"ab[]^-\\*?c", m))
        };
        let want = redis(&p, &s, &mut false);
        hits += want as usize;
        assert_eq!(
            matches(&p, &s),
            want,
            "{:?} vs {:?}",
            String::from_utf8_lossy(&p),
            String::from_utf8_lossy(&s)
        );
    }
    assert!(
        hits > 500,
        "the random cases should match often enough: {hits}"
    );
}

#[test]
fn every_byte_value() {
    assert!(matches(b"[\x80-\xff]", b"\xc3"));
    assert!(!matches(b"[\x80-\xff]", b"a"));
    assert!(matches(b"?", b"\0"));
    assert!(matches(b"a\0*", b"a\0b"));
}

/// The reviewer's case: 100k `[` took 8.7 s over a keyspace. Compiled, it is one class, so
/// compiling and matching keys against it is linear in the pattern; the same holds for long
/// runs of `*`, `?` and literal bytes. Bounds are generous (debug build, shared machine).
#[test]
fn long_patterns_cost_linear_time() {
    let started = Instant::now();
    let brackets = Pattern::compile(&vec![b'['; 100_000]);
    assert!(brackets.matches(b"["));
    for n in 0..1000 {
        assert!(!brackets.matches("[".repeat(n % 50 + 2).as_bytes()));
    }
    let stars = Pattern::compile(("*a".repeat(2000) + "b").as_bytes());
    assert!(!stars.matches(&vec![b'a'; 20_000]));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn length_limit() {
    assert!(Pattern::new(&vec![b'a'; MAX_PATTERN_LEN]).is_ok());
    let err = Pattern::new(&vec![b'['; 100_000]).unwrap_err();
    assert_eq!(err, TooLong(100_000));
    assert_eq!(
        err.to_string(),
        "pattern too long (100000 bytes; the limit is 4096)"
    );
}
