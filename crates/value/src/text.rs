//! `Str`, the text of a string value.
//!
//! Short text (up to 23 bytes, most keys' values) is stored inline with no allocation. Longer
//! text is shared behind an `Arc`, so cloning any string is O(1), and it caches its length in
//! characters, so `LEN` is O(1). Appending to long text that is not shared grows it in place
//! (amortized O(appended)); appending to shared text copies it first (copy on write), which is
//! what keeps old versions held by snapshots intact.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use smol_str::SmolStr;

/// Longest text stored inline.
const INLINE: usize = 23;

#[derive(Clone)]
pub struct Str(Repr);

#[derive(Clone)]
enum Repr {
    Small(SmolStr),
    Large(Arc<Large>),
}

#[derive(Clone)]
struct Large {
    text: String,
    chars: usize,
}

impl Str {
    pub fn new(s: &str) -> Str {
        if s.len() <= INLINE {
            Str(Repr::Small(SmolStr::new(s)))
        } else {
            Str::large(s.to_string())
        }
    }

    fn large(text: String) -> Str {
        let chars = text.chars().count();
        Str(Repr::Large(Arc::new(Large { text, chars })))
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Small(s) => s,
            Repr::Large(l) => &l.text,
        }
    }

    /// True if the text is stored inside the value, with no allocation.
    pub fn is_inline(&self) -> bool {
        matches!(&self.0, Repr::Small(s) if !s.is_heap_allocated())
    }

    /// Length in characters (Python's `len`), O(1).
    pub fn char_len(&self) -> usize {
        match &self.0 {
            Repr::Small(s) => s.chars().count(),
            Repr::Large(l) => l.chars,
        }
    }

    /// Appends text: in place when this text is long and not shared, else by copying once.
    pub fn push_str(&mut self, tail: &str) {
        match &mut self.0 {
            Repr::Large(l) => {
                let l = Arc::make_mut(l);
                l.text.push_str(tail);
                l.chars += tail.chars().count();
            }
            Repr::Small(s) => {
                let mut text = String::with_capacity(s.len() + tail.len());
                text.push_str(s);
                text.push_str(tail);
                *self = if text.len() <= INLINE {
                    Str(Repr::Small(SmolStr::new(&text)))
                } else {
                    Str::large(text)
                };
            }
        }
    }
}

impl Default for Str {
    fn default() -> Str {
        Str(Repr::Small(SmolStr::default()))
    }
}

impl Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Str {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Str {
        Str::new(s)
    }
}

impl From<String> for Str {
    fn from(s: String) -> Str {
        if s.len() <= INLINE {
            Str::new(&s)
        } else {
            Str::large(s)
        }
    }
}

impl From<SmolStr> for Str {
    fn from(s: SmolStr) -> Str {
        if s.len() <= INLINE {
            Str(Repr::Small(s))
        } else {
            Str::new(&s)
        }
    }
}

impl From<&Str> for SmolStr {
    fn from(s: &Str) -> SmolStr {
        match &s.0 {
            Repr::Small(s) => s.clone(),
            Repr::Large(l) => SmolStr::new(&l.text),
        }
    }
}

impl PartialEq for Str {
    fn eq(&self, other: &Str) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Str {}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialOrd for Str {
    fn partial_cmp(&self, other: &Str) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Str {
    fn cmp(&self, other: &Str) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Str {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_in_place_and_copies_when_shared() {
        let mut s = Str::new("héllo");
        s.push_str(", wörld and a bit more");
        assert_eq!(s.as_str(), "héllo, wörld and a bit more");
        assert_eq!(s.char_len(), 27);
        let snapshot = s.clone();
        s.push_str("!");
        assert_eq!(snapshot.as_str(), "héllo, wörld and a bit more");
        assert_eq!((s.char_len(), snapshot.char_len()), (28, 27));
        assert_eq!(std::mem::size_of::<Str>(), 24);
    }

    #[test]
    fn many_appends_stay_linear() {
        let mut s = Str::default();
        for _ in 0..200_000 {
            s.push_str("abcdefghij");
        }
        assert_eq!(s.len(), 2_000_000);
        assert_eq!(s.char_len(), 2_000_000);
    }
}
