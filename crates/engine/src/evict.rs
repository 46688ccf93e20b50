//! `maxmemory`: the eviction policies, the access clock stamped on every entry, and choosing
//! which key to evict, with Redis's sampled approximations of LRU, LFU and TTL order.
//!
//! Every entry carries 32 bits of access data. Under an LRU (or any non-LFU) policy it is the
//! time of the last access in units of 10 ms (wrapping after 497 days, so idle times are right
//! for keys touched within that span). Under an LFU policy it is Redis's layout: the minute of
//! the last decay in the high 16 bits and a logarithmic access counter in the low 8 (new keys
//! start at 5; an access adds one with probability 1 / ((counter - 5) * 10 + 1); one is taken
//! off per idle minute). Switching policy at run time reinterprets the bits, as Redis does;
//! the data adjusts as keys are touched.
//!
//! Choosing a victim follows Redis: each round samples `maxmemory-samples` keys from every
//! keyspace (or from the keys with an expiry, for the volatile policies), keeps the best 16
//! candidates seen in a pool that lives across rounds, and evicts the best of the pool that
//! still exists. The random policies pick a random key, going round the keyspaces.

use okdb_value::Value;

use crate::key::Key;
use crate::keyspace::{Entry, Store};

/// A `maxmemory-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    NoEviction = 0,
    AllKeysLru = 1,
    AllKeysLfu = 2,
    AllKeysRandom = 3,
    VolatileLru = 4,
    VolatileLfu = 5,
    VolatileRandom = 6,
    VolatileTtl = 7,
}

const POLICIES: [Policy; 8] = [
    Policy::NoEviction,
    Policy::AllKeysLru,
    Policy::AllKeysLfu,
    Policy::AllKeysRandom,
    Policy::VolatileLru,
    Policy::VolatileLfu,
    Policy::VolatileRandom,
    Policy::VolatileTtl,
];

impl Policy {
    pub fn name(self) -> &'static str {
        match self {
            Policy::NoEviction => "noeviction",
            Policy::AllKeysLru => "allkeys-lru",
            Policy::AllKeysLfu => "allkeys-lfu",
            Policy::AllKeysRandom => "allkeys-random",
            Policy::VolatileLru => "volatile-lru",
            Policy::VolatileLfu => "volatile-lfu",
            Policy::VolatileRandom => "volatile-random",
            Policy::VolatileTtl => "volatile-ttl",
        }
    }

    pub fn parse(s: &str) -> Option<Policy> {
        POLICIES
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
    }

    pub fn from_u8(n: u8) -> Policy {
        POLICIES
            .get(n as usize)
            .copied()
            .unwrap_or(Policy::NoEviction)
    }

    /// True for the policies that track access frequency instead of recency.
    pub fn lfu(self) -> bool {
        matches!(self, Policy::AllKeysLfu | Policy::VolatileLfu)
    }

    /// True for the policies that only evict keys with an expiry.
    pub fn volatile(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }

    fn random(self) -> bool {
        matches!(self, Policy::AllKeysRandom | Policy::VolatileRandom)
    }
}

/// New keys' LFU counter, so they are not evicted before they had a chance to be used.
const LFU_INIT: u32 = 5;
const LFU_LOG_FACTOR: f64 = 10.0;

/// The access stamp of a batch: what a touched entry records.
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    pub lfu: bool,
    /// Time in units of 10 ms (wrapping).
    pub ticks: u32,
    /// Time in minutes (wrapping), for LFU decay.
    pub minutes: u16,
}

impl Clock {
    pub fn at(now_ms: u64, lfu: bool) -> Clock {
        Clock {
            lfu,
            ticks: (now_ms / 10) as u32,
            minutes: (now_ms / 60_000) as u16,
        }
    }

    /// The access data of a new entry.
    pub fn fresh(self) -> u32 {
        if self.lfu {
            (self.minutes as u32) << 8 | LFU_INIT
        } else {
            self.ticks
        }
    }

    /// The access data of an entry touched now.
    pub fn touch(self, access: u32) -> u32 {
        if !self.lfu {
            return self.ticks;
        }
        let counter = lfu_decayed(access, self.minutes);
        let counter = if counter == 255 {
            255
        } else {
            let base = counter.saturating_sub(LFU_INIT as u8) as f64;
            let p = 1.0 / (base * LFU_LOG_FACTOR + 1.0);
            if fastrand::f64() < p {
                counter + 1
            } else {
                counter
            }
        };
        (self.minutes as u32) << 8 | counter as u32
    }
}

/// An LFU counter less one per minute since it was last decayed.
fn lfu_decayed(access: u32, minutes: u16) -> u8 {
    let last = (access >> 8) as u16;
    let counter = (access & 0xff) as u8;
    let elapsed = minutes.wrapping_sub(last);
    counter.saturating_sub(elapsed.min(255) as u8)
}

/// Seconds since an entry was last touched (LRU data).
pub fn idle_secs(e: &Entry, now_ms: u64) -> u64 {
    Clock::at(now_ms, false).ticks.wrapping_sub(e.access) as u64 / 100
}

/// An entry's access frequency counter (LFU data), decayed to now.
pub fn frequency(e: &Entry, now_ms: u64) -> u8 {
    lfu_decayed(e.access, Clock::at(now_ms, true).minutes)
}

/// An estimate of the bytes a key and its entry take: the table slot, the key's and the
/// value's heap parts, and containers' elements (walked in full).
pub fn entry_bytes(key_len: usize, e: &Entry) -> usize {
    const SLOT: usize = 8 + std::mem::size_of::<Key>() + std::mem::size_of::<Entry>();
    let key_heap = if key_len > 22 { key_len + 16 } else { 0 };
    SLOT + key_heap + value_heap(&e.value)
}

/// A packed list's chunks, or a list of values' items.
fn list_heap(l: &okdb_value::List) -> usize {
    const VALUE: usize = std::mem::size_of::<Value>();
    l.packed_bytes()
        .unwrap_or_else(|| l.iter().map(|x| VALUE + value_heap(&x)).sum::<usize>())
}

fn value_heap(v: &Value) -> usize {
    const VALUE: usize = std::mem::size_of::<Value>();
    match v {
        Value::Str(s) if s.is_inline() => 0,
        Value::Str(s) => s.as_str().len() + 32,
        Value::Bytes(b) => b.len() + 16,
        Value::List(l) => 64 + list_heap(l),
        Value::Set(s) => 64 + s.iter().map(|x| VALUE + 16 + value_heap(x)).sum::<usize>(),
        Value::Deque(d) => 64 + list_heap(&d.items),
        Value::PQueue(q) => {
            64 + q
                .iter()
                .map(|(p, x)| 2 * VALUE + 48 + value_heap(p) + value_heap(x))
                .sum::<usize>()
        }
        // A member is held twice (the order and the score map), each with its score.
        Value::SortedSet(z) => {
            64 + z
                .iter()
                .map(|(m, _)| 2 * (24 + 8) + 32 + if m.len() > 23 { m.len() } else { 0 })
                .sum::<usize>()
        }
        Value::Dict(d) => {
            64 + d
                .iter()
                .map(|(k, x)| 2 * VALUE + 32 + k.len() + value_heap(x))
                .sum::<usize>()
        }
        _ => 0,
    }
}

/// A key the pool holds as a candidate: higher scores go first.
#[derive(Debug, Clone)]
pub struct Candidate {
    score: u64,
    keyspace: usize,
    key: Key,
}

/// Candidates kept between rounds, as Redis's eviction pool.
const POOL: usize = 16;

/// Chooses the next key to evict under `policy`: (keyspace index, key), or None when no key
/// qualifies (an empty store, or no key with an expiry under a volatile policy). With `only`,
/// from that keyspace alone.
pub fn choose(
    store: &mut Store,
    policy: Policy,
    samples: usize,
    clock: Clock,
    only: Option<usize>,
) -> Option<(usize, Key)> {
    let spaces = store.spaces_len();
    let wanted = |i: usize| only.is_none_or(|o| o == i);
    if policy.random() {
        for _ in 0..spaces {
            let i = match only {
                Some(o) => o,
                None => store.next_evict_space(spaces),
            };
            let ks = store.space(i);
            let n = if policy.volatile() {
                ks.volatile_len()
            } else {
                ks.len()
            };
            if n > 0 {
                let key = ks
                    .sample(fastrand::usize(..n), policy.volatile())?
                    .0
                    .clone();
                return Some((i, key));
            }
        }
        return None;
    }
    let mut pool = std::mem::take(&mut store.evict_pool);
    for i in (0..spaces).filter(|&i| wanted(i)) {
        let ks = store.space(i);
        let n = if policy.volatile() {
            ks.volatile_len()
        } else {
            ks.len()
        };
        if n == 0 {
            continue;
        }
        for _ in 0..samples.min(n) {
            let Some((key, e)) = ks.sample(fastrand::usize(..n), policy.volatile()) else {
                continue;
            };
            let score = match policy {
                Policy::VolatileTtl => u64::MAX - e.expire_at,
                _ if policy.lfu() => 255 - lfu_decayed(e.access, clock.minutes) as u64,
                _ => clock.ticks.wrapping_sub(e.access) as u64,
            };
            if pool.iter().any(|c| c.keyspace == i && c.key == *key) {
                continue;
            }
            if pool.len() < POOL {
                pool.push(Candidate {
                    score,
                    keyspace: i,
                    key: key.clone(),
                });
            } else if let Some(worst) = pool.iter_mut().min_by_key(|c| c.score) {
                if score > worst.score {
                    *worst = Candidate {
                        score,
                        keyspace: i,
                        key: key.clone(),
                    };
                }
            }
        }
    }
    // The best candidate that still exists (and still has an expiry, if that is the rule).
    let mut chosen = None;
    while let Some(best) = pool
        .iter()
        .enumerate()
        .filter(|(_, c)| wanted(c.keyspace))
        .max_by_key(|(_, c)| c.score)
        .map(|(at, _)| at)
    {
        let c = pool.swap_remove(best);
        if c.keyspace < spaces && store.space(c.keyspace).qualifies(&c.key, policy.volatile()) {
            chosen = Some((c.keyspace, c.key));
            break;
        }
    }
    store.evict_pool = pool;
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_round_trip_by_name_and_number() {
        for p in POLICIES {
            assert_eq!(Policy::parse(p.name()), Some(p));
            assert_eq!(Policy::from_u8(p as u8), p);
        }
        assert_eq!(Policy::parse("ALLKEYS-LRU"), Some(Policy::AllKeysLru));
        assert_eq!(Policy::parse("lru"), None);
    }

    #[test]
    fn lfu_counters_grow_logarithmically_and_decay_per_minute() {
        let c = Clock::at(60_000 * 100, true);
        let mut access = c.fresh();
        assert_eq!(lfu_decayed(access, c.minutes), 5);
        for _ in 0..1000 {
            access = c.touch(access);
        }
        let after = lfu_decayed(access, c.minutes);
        assert!((8..=40).contains(&after), "{after}");
        let later = Clock::at(60_000 * 103, true);
        assert_eq!(lfu_decayed(access, later.minutes), after - 3);
    }

    #[test]
    fn lru_idle_time_counts_from_the_last_touch() {
        let e = Entry {
            value: Value::Int(1),
            expire_at: 0,
            access: Clock::at(1_000_000, false).fresh(),
        };
        assert_eq!(idle_secs(&e, 1_000_000), 0);
        assert_eq!(idle_secs(&e, 1_061_000), 61);
    }
}
