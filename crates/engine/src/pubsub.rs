//! Pub/sub as Redis has it: channels, patterns and shard channels, the outbox each subscribed
//! connection reads its messages from, and keyspace notifications (`notify-keyspace-events`).
//!
//! The registry lives in the store, so `PUBLISH` and the notifications of a write run under the
//! store's lock and reach every subscriber in one order. A message goes into each receiving
//! connection's [`Outbox`] (its own small lock) and wakes it; the server writes it out. An
//! outbox past `client-output-buffer-limit pubsub` (the hard limit, or the soft limit for its
//! seconds) is marked over, and the server closes that connection, as Redis does.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::Bytes;
use indexmap::IndexSet;

use crate::config::{Config, OutputClass};
use crate::glob::Pattern;
use crate::{lock, Reply};

/// One message for one subscriber.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// To a channel subscriber: `message channel payload`.
    Message { channel: Bytes, payload: Bytes },
    /// To a pattern subscriber: `pmessage pattern channel payload`.
    PMessage {
        pattern: Bytes,
        channel: Bytes,
        payload: Bytes,
    },
    /// To a shard channel subscriber: `smessage channel payload`.
    SMessage { channel: Bytes, payload: Bytes },
}

impl Message {
    /// About its encoded size, for the output limit.
    pub fn size(&self) -> usize {
        match self {
            Message::Message { channel, payload } | Message::SMessage { channel, payload } => {
                channel.len() + payload.len() + 40
            }
            Message::PMessage {
                pattern,
                channel,
                payload,
            } => pattern.len() + channel.len() + payload.len() + 56,
        }
    }
}

/// The messages waiting for one subscribed connection.
#[derive(Debug, Default)]
pub struct Outbox {
    inner: Mutex<OutboxInner>,
}

#[derive(Debug, Default)]
struct OutboxInner {
    /// One message is shared by every subscriber it goes to.
    queue: VecDeque<Arc<Message>>,
    bytes: usize,
    waker: Option<Waker>,
    /// Since when the queue has been over the soft limit.
    soft_since: Option<Instant>,
    /// Why the connection is to be closed (a breached output limit).
    over: Option<String>,
}

impl Outbox {
    /// Queues a message unless the outbox is already over its limit; wakes the connection.
    fn push(&self, m: &Arc<Message>, size: usize, limit: (u64, u64, u64)) -> bool {
        let mut o = lock(&self.inner);
        if o.over.is_some() {
            return false;
        }
        o.bytes += size;
        o.queue.push_back(m.clone());
        let (hard, soft, soft_secs) = limit;
        let bytes = o.bytes as u64;
        if hard > 0 && bytes > hard {
            o.over = Some(format!(
                "about {bytes} bytes of messages not read, over client-output-buffer-limit \
                 pubsub's hard limit {hard}"
            ));
        } else if soft > 0 && bytes > soft {
            let since = *o.soft_since.get_or_insert_with(Instant::now);
            if since.elapsed().as_secs() >= soft_secs {
                o.over = Some(format!(
                    "about {bytes} bytes of messages not read, over client-output-buffer-limit \
                     pubsub's soft limit {soft} for {soft_secs} seconds"
                ));
            }
        } else {
            o.soft_since = None;
        }
        if let Some(w) = o.waker.take() {
            w.wake();
        }
        o.over.is_none()
    }

    /// Went over its output limit: the connection is to be closed.
    pub fn over(&self) -> bool {
        lock(&self.inner).over.is_some()
    }

    /// Ready when a message waits or the outbox went over its limit.
    pub fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut o = lock(&self.inner);
        if !o.queue.is_empty() || o.over.is_some() {
            return Poll::Ready(());
        }
        match &o.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => o.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Takes every waiting message (the server encodes them straight into its buffer, or as
    /// [`Reply::Message`] among a batch's replies); `Err` with the reason when the outbox went
    /// over its limit (the connection is to be closed).
    pub fn drain_messages(&self, out: &mut VecDeque<Arc<Message>>) -> Result<(), String> {
        let mut o = lock(&self.inner);
        if let Some(reason) = &o.over {
            return Err(reason.clone());
        }
        out.clear();
        std::mem::swap(out, &mut o.queue);
        o.bytes = 0;
        o.soft_since = None;
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        lock(&self.inner).queue.is_empty()
    }
}

/// A subscriber: its connection's id and outbox.
#[derive(Debug, Clone)]
struct Sub {
    client: u64,
    outbox: Arc<Outbox>,
}

fn remove_sub(subs: &mut Vec<Sub>, client: u64) {
    if let Some(i) = subs.iter().position(|s| s.client == client) {
        subs.swap_remove(i);
    }
}

/// Who listens to what: channels, patterns and shard channels (one node: shard channels are
/// channels of their own, as on a one-node Redis cluster).
#[derive(Debug, Default)]
pub struct PubSub {
    channels: HashMap<Bytes, Vec<Sub>>,
    shard: HashMap<Bytes, Vec<Sub>>,
    patterns: HashMap<Bytes, (Pattern, Vec<Sub>)>,
}

/// The three kinds of subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl PubSub {
    /// Sends `payload` to the subscribers of `channel` (and, for a plain channel, of every
    /// matching pattern); how many received it.
    pub fn publish(&self, config: &Config, channel: &[u8], payload: &[u8], shard: bool) -> i64 {
        let l = config.output_limit(OutputClass::Pubsub);
        let limit = (
            l.hard.load(Relaxed),
            l.soft.load(Relaxed),
            l.soft_seconds.load(Relaxed),
        );
        let mut n = 0;
        let map = if shard { &self.shard } else { &self.channels };
        let mut ch: Option<Bytes> = None;
        let mut channel_bytes = || {
            ch.get_or_insert_with(|| Bytes::copy_from_slice(channel))
                .clone()
        };
        let mut pl: Option<Bytes> = None;
        let mut payload_bytes = || {
            pl.get_or_insert_with(|| Bytes::copy_from_slice(payload))
                .clone()
        };
        if let Some(subs) = map.get(channel) {
            let m = Arc::new(if shard {
                Message::SMessage {
                    channel: channel_bytes(),
                    payload: payload_bytes(),
                }
            } else {
                Message::Message {
                    channel: channel_bytes(),
                    payload: payload_bytes(),
                }
            });
            let size = m.size();
            for s in subs {
                n += i64::from(s.outbox.push(&m, size, limit));
            }
        }
        if !shard {
            for (pattern, (glob, subs)) in &self.patterns {
                if subs.is_empty() || !glob.matches(channel) {
                    continue;
                }
                let m = Arc::new(Message::PMessage {
                    pattern: pattern.clone(),
                    channel: channel_bytes(),
                    payload: payload_bytes(),
                });
                let size = m.size();
                for s in subs {
                    n += i64::from(s.outbox.push(&m, size, limit));
                }
            }
        }
        n
    }

    /// True when nobody subscribes to anything (publishing can be skipped).
    pub fn is_idle(&self) -> bool {
        self.channels.is_empty() && self.patterns.is_empty() && self.shard.is_empty()
    }

    fn add(&mut self, kind: Kind, name: &[u8], sub: Sub) -> Result<(), crate::CmdError> {
        let owned = || Bytes::copy_from_slice(name);
        match kind {
            Kind::Channel => self.channels.entry(owned()).or_default().push(sub),
            Kind::Shard => self.shard.entry(owned()).or_default().push(sub),
            Kind::Pattern => {
                if let Some((_, subs)) = self.patterns.get_mut(name) {
                    subs.push(sub);
                } else {
                    let glob = Pattern::new(name)?;
                    self.patterns.insert(owned(), (glob, vec![sub]));
                }
            }
        }
        Ok(())
    }

    fn remove(&mut self, kind: Kind, name: &[u8], client: u64) {
        match kind {
            Kind::Channel | Kind::Shard => {
                let map = if kind == Kind::Channel {
                    &mut self.channels
                } else {
                    &mut self.shard
                };
                if let Some(subs) = map.get_mut(name) {
                    remove_sub(subs, client);
                    if subs.is_empty() {
                        map.remove(name);
                    }
                }
            }
            Kind::Pattern => {
                if let Some((_, subs)) = self.patterns.get_mut(name) {
                    remove_sub(subs, client);
                    if subs.is_empty() {
                        self.patterns.remove(name);
                    }
                }
            }
        }
    }

    /// `PUBSUB CHANNELS` / `SHARDCHANNELS`: the active channels, those matching `pattern`.
    pub fn channels(&self, shard: bool, pattern: Option<&Pattern>) -> Vec<Bytes> {
        let map = if shard { &self.shard } else { &self.channels };
        map.keys()
            .filter(|c| pattern.is_none_or(|p| p.matches(c)))
            .cloned()
            .collect()
    }

    /// `PUBSUB NUMSUB` / `SHARDNUMSUB`: subscribers of one channel.
    pub fn numsub(&self, shard: bool, channel: &[u8]) -> usize {
        let map = if shard { &self.shard } else { &self.channels };
        map.get(channel).map_or(0, Vec::len)
    }

    /// `PUBSUB NUMPAT`: patterns subscribed to (by anyone).
    pub fn numpat(&self) -> usize {
        self.patterns.len()
    }
}

/// A connection's subscriptions (`Session::subs`), in the order they were made.
#[derive(Debug, Default)]
pub struct Subscriptions {
    pub outbox: Arc<Outbox>,
    channels: IndexSet<Bytes>,
    patterns: IndexSet<Bytes>,
    shard: IndexSet<Bytes>,
}

impl Subscriptions {
    /// Whether a user may keep every subscription (after its permissions changed).
    pub fn allowed(&self, user: &crate::acl::User) -> bool {
        self.channels
            .iter()
            .chain(&self.shard)
            .all(|c| user.may_use_channel(c))
            && self
                .patterns
                .iter()
                .all(|p| user.may_use_channel_pattern(p))
    }

    fn set(&mut self, kind: Kind) -> &mut IndexSet<Bytes> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    /// What a confirmation counts: channels and patterns together, shard channels apart (as
    /// Redis 7 counts them).
    pub fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Shard => self.shard.len(),
            _ => self.channels.len() + self.patterns.len(),
        }
    }

    /// Subscribed to anything at all.
    pub fn active(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty() && self.shard.is_empty())
    }
}

fn confirm(what: &'static str, name: Option<&[u8]>, count: usize) -> Reply {
    Reply::Push(vec![
        Reply::Bulk(Bytes::from_static(what.as_bytes())),
        name.map_or(Reply::Null, Reply::bulk),
        Reply::Int(count as i64),
    ])
}

fn names(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Channel => ("subscribe", "unsubscribe"),
        Kind::Pattern => ("psubscribe", "punsubscribe"),
        Kind::Shard => ("ssubscribe", "sunsubscribe"),
    }
}

/// `SUBSCRIBE`/`PSUBSCRIBE`/`SSUBSCRIBE name…`: one confirmation per name.
pub(crate) fn subscribe(
    ps: &mut PubSub,
    subs: &mut Option<Box<Subscriptions>>,
    client: u64,
    kind: Kind,
    names_: &[&[u8]],
) -> Result<Reply, crate::CmdError> {
    let s = subs.get_or_insert_with(Default::default);
    let mut out = Vec::with_capacity(names_.len());
    for name in names_ {
        if !s.set(kind).contains(*name) {
            let sub = Sub {
                client,
                outbox: s.outbox.clone(),
            };
            ps.add(kind, name, sub)?;
            s.set(kind).insert(Bytes::copy_from_slice(name));
        }
        out.push(confirm(names(kind).0, Some(*name), s.count(kind)));
    }
    Ok(many(out))
}

/// `UNSUBSCRIBE`/`PUNSUBSCRIBE`/`SUNSUBSCRIBE [name…]`: from the names given, or from all;
/// one confirmation per name (one with a nil name when there was nothing to leave).
pub(crate) fn unsubscribe(
    ps: &mut PubSub,
    subs: &mut Option<Box<Subscriptions>>,
    client: u64,
    kind: Kind,
    given: &[&[u8]],
) -> Reply {
    let what = names(kind).1;
    let Some(s) = subs.as_mut() else {
        if given.is_empty() {
            return confirm(what, None, 0);
        }
        return many(given.iter().map(|n| confirm(what, Some(*n), 0)).collect());
    };
    // The names given, or every one it follows (copied: leaving changes the set).
    let list: Vec<Bytes> = if given.is_empty() {
        s.set(kind).iter().cloned().collect()
    } else {
        crate::args::owned(given)
    };
    if list.is_empty() {
        return confirm(what, None, s.count(kind));
    }
    let mut out = Vec::with_capacity(list.len());
    for name in &list {
        if s.set(kind).shift_remove(name) {
            ps.remove(kind, name, client);
        }
        out.push(confirm(what, Some(name), s.count(kind)));
    }
    many(out)
}

/// Drops every subscription of a connection (it closed, or `RESET`).
pub(crate) fn leave_all(ps: &mut PubSub, subs: &mut Option<Box<Subscriptions>>, client: u64) {
    if let Some(s) = subs.take() {
        for (kind, set) in [
            (Kind::Channel, &s.channels),
            (Kind::Pattern, &s.patterns),
            (Kind::Shard, &s.shard),
        ] {
            for name in set {
                ps.remove(kind, name, client);
            }
        }
    }
}

fn many(mut out: Vec<Reply>) -> Reply {
    if out.len() == 1 {
        out.pop().expect("one reply")
    } else {
        Reply::Many(out)
    }
}
