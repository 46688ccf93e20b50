//! Exact key positions for the commands whose keys Redis's (first, last, step) cannot name:
//! options after the keys, a `numkeys` count, a `STORE dest`. Each finder calls back once per
//! key with how the command uses it (the ACL check reads them: crate::acl).
//!
//! A finder reads arguments the way its handler does (the same keyword positions); the ACL
//! unit tests (crate::acl) check them.

use crate::acl::Access;
use crate::args::is;

pub type Found<'a> = &'a mut dyn FnMut(&[u8], Access);

/// `SET k v [k v …]` or `SET k v [NX|XX] [EX s …] [GET]`.
pub fn set(a: &[&[u8]], f: Found) {
    if a.len() > 3 && super::values::is_set_option(a[3]) {
        let get = a[3..].iter().any(|x| is(x, "GET"));
        f(
            a[1],
            if get {
                Access::ReadWrite
            } else {
                Access::Write
            },
        );
    } else {
        a[1..].iter().step_by(2).for_each(|k| f(k, Access::Write));
    }
}

/// `POP key [index]` or `POP key [key …] WAIT seconds` (and `POPLEFT`).
pub fn pop(a: &[&[u8]], f: Found) {
    let n = a.len();
    if n >= 4 && is(a[n - 2], "WAIT") {
        a[1..n - 2].iter().for_each(|k| f(k, Access::ReadWrite));
    } else {
        f(a[1], Access::ReadWrite);
    }
}

/// `key [key …] [STORE dest]` (UNION, INTERSECT, DIFF): sources read, dest written.
pub fn store_last(a: &[&[u8]], f: Found) {
    let n = a.len();
    if n >= 4 && is(a[n - 2], "STORE") {
        a[1..n - 2].iter().for_each(|k| f(k, Access::Read));
        f(a[n - 1], Access::Write);
    } else {
        a[1..].iter().for_each(|k| f(k, Access::Read));
    }
}

/// `FILTER key function [STORE dest]`.
pub fn filter(a: &[&[u8]], f: Found) {
    f(a[1], Access::Read);
    if a.len() >= 5 && is(a[3], "STORE") {
        f(a[4], Access::Write);
    }
}

/// Whether a `SORT` sorts in place (okdb's form, or a function): as the executor and the
/// handler decide it.
fn sorts_in_place(a: &[&[u8]]) -> bool {
    super::collections::sorts_natively(a) || crate::script::sorts_by_function("SORT", a)
}

/// `SORT key …`: sorting in place (`INPLACE`, `REVERSE`, a function) writes the key; Redis's
/// form reads it, and writes `STORE dest` (options read by the handler's own reader).
pub fn sort(a: &[&[u8]], f: Found) {
    if sorts_in_place(a) {
        f(a[1], Access::ReadWrite);
        return;
    }
    f(a[1], Access::Read);
    if let Some(dest) = super::redis_types::sort_options(a)
        .ok()
        .and_then(|o| o.store)
    {
        f(&dest, Access::Write);
    }
}

/// Whether Redis's `SORT`/`SORT_RO` reads keys named by patterns (`BY` with a `*`, `GET`
/// other than `#`): keys no finder can name before the sort runs, so the ACL asks for read
/// access to every key, as Redis 7 does.
pub fn sort_reads_patterns(a: &[&[u8]]) -> bool {
    if a.len() < 3 || sorts_in_place(a) {
        return false;
    }
    super::redis_types::sort_options(a).is_ok_and(|o| {
        o.by.is_some_and(|p| p.contains(&b'*')) || o.gets.iter().any(|g| &g[..] != b"#")
    })
}

/// The keys after a `numkeys` argument at `at`.
fn counted(a: &[&[u8]], at: usize, access: Access, f: Found) {
    let Some(n) = a.get(at).and_then(|x| crate::args::redis_int(x)) else {
        return;
    };
    let n = usize::try_from(n).unwrap_or(0);
    a.iter().skip(at + 1).take(n).for_each(|k| f(k, access));
}

/// `LMPOP|ZMPOP numkeys key …`.
pub fn numkeys_pop(a: &[&[u8]], f: Found) {
    counted(a, 1, Access::ReadWrite, f);
}

/// `BLMPOP|BZMPOP timeout numkeys key …`.
pub fn timeout_numkeys_pop(a: &[&[u8]], f: Found) {
    counted(a, 2, Access::ReadWrite, f);
}

/// `SINTERCARD|ZUNION|ZINTER|ZDIFF|ZINTERCARD numkeys key …`.
pub fn numkeys_read(a: &[&[u8]], f: Found) {
    counted(a, 1, Access::Read, f);
}

/// `ZUNIONSTORE|ZINTERSTORE|ZDIFFSTORE dest numkeys key …`.
pub fn dest_numkeys(a: &[&[u8]], f: Found) {
    f(a[1], Access::Write);
    counted(a, 2, Access::Read, f);
}

/// `dest source [key …]` (SUNIONSTORE, SINTERSTORE, SDIFFSTORE, ZRANGESTORE).
pub fn dest_first(a: &[&[u8]], f: Found) {
    f(a[1], Access::Write);
    a[2..].iter().for_each(|k| f(k, Access::Read));
}

/// `BITOP op dest source [source …]`.
pub fn op_dest_sources(a: &[&[u8]], f: Found) {
    f(a[2], Access::Write);
    a[3..].iter().for_each(|k| f(k, Access::Read));
}

/// `ZRANGESTORE dst src …`.
pub fn dst_src(a: &[&[u8]], f: Found) {
    f(a[1], Access::Write);
    f(a[2], Access::Read);
}

/// `source destination …` where the source is read and the destination written (COPY).
pub fn src_dst(a: &[&[u8]], f: Found) {
    f(a[1], Access::Read);
    f(a[2], Access::Write);
}

/// `source destination …` where both change (RENAME, LMOVE, SMOVE …).
pub fn both_change(a: &[&[u8]], f: Found) {
    f(a[1], Access::ReadWrite);
    f(a[2], Access::Write);
}
