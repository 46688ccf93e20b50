//! Redis-style glob patterns for `KEYS`, `SCAN MATCH` and `CONFIG GET`:
//! `*` any run, `?` any one byte, `[abc]`, `[a-z]`, `[^a-z]` classes, `\x` a literal `x`.
//!
//! The answers are those of Redis 7.0's `stringmatchlen` (src/util.c), quirks included:
//! - an empty string matches only the empty pattern (`*` does not match it; `KEYS *` and
//!   `SCAN` without `MATCH` list every key without asking the pattern, as Redis does);
//! - a `[` with no closing `]` is a class made of the whole rest of the pattern, so `[` matches
//!   nothing, `[[` matches `[` and `[^` matches any one byte;
//! - a `]` right after `[` or `[^` closes the class (`[]` matches nothing);
//! - `x-y` is a range whenever two bytes follow `x`, even when the second is `]` (`[a-]` is the
//!   unclosed class of the range `]`..`a`); ranges run either way (`[z-a]` = `[a-z]`);
//! - a `\` at the very end of the pattern is a literal `\`.
//!
//! One difference: Redis compares range ends as C `char`s, signed on x86, so its answers for
//! ranges with an end at or above 0x80 depend on the platform; here bytes are unsigned.
//!
//! Cost: a pattern is compiled once, in O(length), into single-byte matchers (a 256-bit set
//! each) and the `*`s between them; a text is then matched as a bit-parallel NFA, one pass over
//! its bytes at O(matchers / 64) word operations per byte (fewer for short texts), whatever the
//! pattern: no backtracking. Patterns are limited to [`MAX_PATTERN_LEN`] bytes, which bounds
//! both the compiled size and that factor.

/// The longest pattern accepted, in bytes. Longer ones are refused ([`TooLong`]) rather than
/// matched: a compiled pattern holds 256 bit-sets of one bit per matcher, and matching costs one
/// word operation per 64 matchers per byte of text, under the store's lock.
pub const MAX_PATTERN_LEN: usize = 4096;

/// A pattern longer than [`MAX_PATTERN_LEN`]; its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong(pub usize);

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pattern too long ({} bytes; the limit is {MAX_PATTERN_LEN})",
            self.0
        )
    }
}

impl std::error::Error for TooLong {}

impl From<TooLong> for crate::CmdError {
    fn from(e: TooLong) -> Self {
        crate::CmdError::err(e.to_string())
    }
}

/// A compiled pattern. NFA state `i` means "the first `i` matchers have matched"; matcher `i`
/// moves state `i` to `i + 1` on the bytes it accepts, and a `*` before matcher `i` (or at the
/// end, for the last state) lets state `i` stay on any byte.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// Words per state set.
    words: usize,
    /// For each byte value, `words` words: bit `i` set when matcher `i` accepts that byte.
    accepts: Vec<u64>,
    /// States a `*` keeps alive.
    stars: Vec<u64>,
    /// Number of matchers; state `matchers` is the accepting one.
    matchers: usize,
    /// The pattern was empty (the only one matching an empty text).
    empty: bool,
}

impl Pattern {
    /// Compiles `pattern`, refusing one longer than [`MAX_PATTERN_LEN`].
    pub fn new(pattern: &[u8]) -> Result<Pattern, TooLong> {
        if pattern.len() > MAX_PATTERN_LEN {
            return Err(TooLong(pattern.len()));
        }
        Ok(Pattern::compile(pattern))
    }

    /// Compiles any pattern, however long (tests measure the cost beyond the limit).
    pub(crate) fn compile(pattern: &[u8]) -> Pattern {
        let tokens = tokens(pattern);
        let matchers = tokens.iter().filter(|t| t.is_some()).count();
        let words = matchers / 64 + 1;
        let mut accepts = vec![0u64; 256 * words];
        let mut stars = vec![0u64; words];
        let mut state = 0;
        for token in &tokens {
            match token {
                None => stars[state / 64] |= 1 << (state % 64),
                Some(set) => {
                    for b in 0..256 {
                        if set[b / 64] >> (b % 64) & 1 == 1 {
                            accepts[b * words + state / 64] |= 1 << (state % 64);
                        }
                    }
                    state += 1;
                }
            }
        }
        Pattern {
            words,
            accepts,
            stars,
            matchers,
            empty: pattern.is_empty(),
        }
    }

    /// True if `text` matches.
    pub fn matches(&self, text: &[u8]) -> bool {
        if text.is_empty() {
            return self.empty;
        }
        let last = (self.matchers / 64, 1u64 << (self.matchers % 64));
        let trailing_star = self.stars[last.0] & last.1 != 0;
        if self.words == 1 {
            let (stars, mut d) = (self.stars[0], 1u64);
            for &c in text {
                d = ((d & self.accepts[c as usize]) << 1) | (d & stars);
                if d == 0 || (trailing_star && d & last.1 != 0) {
                    break;
                }
            }
            return d & last.1 != 0;
        }
        let mut d = vec![0u64; self.words];
        d[0] = 1;
        for (j, &c) in text.iter().enumerate() {
            // After j + 1 bytes no state beyond j + 1 is alive: short texts touch few words.
            let used = ((j + 1) / 64 + 1).min(self.words);
            let accepts = &self.accepts[c as usize * self.words..][..used];
            let (mut carry, mut alive) = (0, 0);
            for ((d, &a), &s) in d[..used].iter_mut().zip(accepts).zip(&self.stars) {
                let moved = *d & a;
                *d = (moved << 1) | carry | (*d & s);
                carry = moved >> 63;
                alive |= *d;
            }
            if alive == 0 || (trailing_star && d[last.0] & last.1 != 0) {
                break;
            }
        }
        d[last.0] & last.1 != 0
    }
}

/// A byte set, one bit per byte value.
type Set = [u64; 4];

fn add(set: &mut Set, b: u8) {
    set[b as usize / 64] |= 1 << (b % 64);
}

/// The pattern as Redis's `stringmatchlen` reads it: `None` for a run of `*`, else the set of
/// bytes one position accepts. The steps follow util.c's so the quirks come out the same.
fn tokens(p: &[u8]) -> Vec<Option<Set>> {
    let mut out: Vec<Option<Set>> = Vec::new();
    let mut i = 0;
    while i < p.len() {
        let mut set = [0u64; 4];
        match p[i] {
            b'*' => {
                if out.last() != Some(&None) {
                    out.push(None);
                }
                i += 1;
                continue;
            }
            b'?' => set = [u64::MAX; 4],
            b'[' => {
                i += 1;
                let negate = p.get(i) == Some(&b'^');
                if negate {
                    i += 1;
                }
                loop {
                    let left = p.len() - i;
                    if left >= 2 && p[i] == b'\\' {
                        i += 1;
                        add(&mut set, p[i]);
                    } else if left >= 1 && p[i] == b']' {
                        break;
                    } else if left == 0 {
                        // Unclosed: the class took the rest of the pattern.
                        i -= 1;
                        break;
                    } else if left >= 3 && p[i + 1] == b'-' {
                        let (lo, hi) = (p[i].min(p[i + 2]), p[i].max(p[i + 2]));
                        for b in lo..=hi {
                            add(&mut set, b);
                        }
                        i += 2;
                    } else {
                        add(&mut set, p[i]);
                    }
                    i += 1;
                }
                if negate {
                    set = set.map(|w| !w);
                }
            }
            b'\\' if p.len() - i >= 2 => {
                i += 1;
                add(&mut set, p[i]);
            }
            c => add(&mut set, c),
        }
        out.push(Some(set));
        i += 1;
    }
    out
}

/// True if `text` matches `pattern` (compiled each call, no length limit: for tests and one-off
/// checks; commands compile once with [`Pattern::new`]).
#[cfg(test)]
fn matches(pattern: &[u8], text: &[u8]) -> bool {
    Pattern::compile(pattern).matches(text)
}

#[cfg(test)]
mod tests;
