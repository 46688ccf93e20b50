//! `AUTH` and `ACL`: users and their permissions (crate::acl, docs/security.md).

use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;

use crate::acl::{self, AuthStart, FieldValue};
use crate::args::{self, is};
use crate::{lock, CmdError, Ctx, Reply};

/// `AUTH [user] password`.
pub fn auth(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (user, password) = match a {
        [_, p] => (acl::DEFAULT_USER.to_string(), p),
        [_, u, p] => (String::from_utf8_lossy(u).into_owned(), p),
        _ => return Err(CmdError::syntax()),
    };
    if a.len() == 2 {
        let acl = lock(&ctx.shared.acl);
        if !acl.default_user().needs_auth() {
            return Err(CmdError::err(
                "AUTH <password> called without any password configured for the default user. \
                 Are you sure your configuration is correct?",
            ));
        }
    }
    start_auth(ctx, &user, password, Vec::new())
}

/// Starts an authentication: decided here when cheap, else left in `session.pending_auth` for
/// the server to verify off the lock (the reply returned is then a placeholder it drops).
pub(super) fn start_auth(
    ctx: &mut Ctx,
    user: &str,
    password: &[u8],
    then: Vec<Bytes>,
) -> Result<Reply, CmdError> {
    if ctx.session.in_exec || ctx.store.undoing {
        return Err(CmdError::err(
            "AUTH isn't allowed in a transaction or script",
        ));
    }
    let start = lock(&ctx.shared.acl).begin_auth(user, password, then);
    match start {
        AuthStart::Ok(u) => {
            ctx.act_as(u, true);
            Ok(Reply::Ok)
        }
        AuthStart::Verify(p) => {
            ctx.session.pending_auth = Some(Box::new(p));
            Ok(Reply::Null)
        }
    }
}

/// `ACL subcommand …`.
pub fn acl(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let sub = String::from_utf8_lossy(a[1]).to_ascii_uppercase();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let n = a.len();
    match (sub.as_str(), n) {
        ("WHOAMI", 2) => Ok(Reply::bulk(ctx.session.user.name.as_bytes())),
        ("USERS", 2) => Ok(Reply::Array(
            lock(&ctx.shared.acl)
                .users()
                .map(|u| Reply::bulk(u.name.as_bytes()))
                .collect(),
        )),
        ("LIST", 2) => Ok(Reply::Array(
            lock(&ctx.shared.acl)
                .users()
                .map(|u| Reply::bulk(u.describe().as_bytes()))
                .collect(),
        )),
        ("SETUSER", 3..) => {
            let name = text(a[2]);
            let rules: Vec<String> = a[3..].iter().map(|b| text(b)).collect();
            let rules: Vec<&str> = rules.iter().map(String::as_str).collect();
            let mut acl = lock(&ctx.shared.acl);
            let before = acl.snapshot();
            acl.set_user(&name, &rules).map_err(CmdError::err)?;
            keep_locked(ctx.shared, &mut acl, before)?;
            ctx.shared.acl_gen.fetch_add(1, Relaxed);
            Ok(Reply::Ok)
        }
        ("GETUSER", 3) => {
            let name = text(a[2]);
            let acl = lock(&ctx.shared.acl);
            let Some(u) = acl.user(&name) else {
                return Ok(Reply::Null);
            };
            Ok(Reply::Map(
                u.fields()
                    .into_iter()
                    .map(|(k, v)| {
                        let v = match v {
                            FieldValue::Text(t) => Reply::bulk(t.as_bytes()),
                            FieldValue::List(l) => {
                                Reply::Array(l.iter().map(|x| Reply::bulk(x.as_bytes())).collect())
                            }
                        };
                        (Reply::bulk(k.as_bytes()), v)
                    })
                    .collect(),
            ))
        }
        ("DELUSER", 3..) => {
            let names: Vec<String> = a[2..].iter().map(|b| text(b)).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let deleted = lock(&ctx.shared.acl)
                .del_users(&names)
                .map_err(CmdError::err)?;
            ctx.shared.acl_gen.fetch_add(1, Relaxed);
            close_users(ctx, &names);
            Ok(Reply::Int(deleted as i64))
        }
        ("CAT", 2) => Ok(Reply::Array(
            acl::CATEGORIES
                .iter()
                .map(|(c, _)| Reply::bulk(c.as_bytes()))
                .collect(),
        )),
        ("CAT", 3) => {
            let list = acl::commands_in(&text(a[2])).ok_or_else(|| {
                CmdError::err(format!("Unknown category '{}'", text(a[2])))
            })?;
            Ok(Reply::Array(
                list.into_iter()
                    .map(|i| Reply::bulk(crate::COMMANDS[i].name.to_ascii_lowercase().as_bytes()))
                    .collect(),
            ))
        }
        ("GENPASS", 2 | 3) => {
            let bits = match a.get(2) {
                None => 256,
                Some(b) => match args::int(b)? {
                    n @ 1..=4096 => n as usize,
                    _ => {
                        return Err(CmdError::err(
                            "ACL GENPASS argument must be the number of bits for the output \
                             password, a positive number up to 4096",
                        ))
                    }
                },
            };
            Ok(Reply::bulk(acl::genpass(bits)?.as_bytes()))
        }
        ("LOG", 2 | 3) => log(ctx, a.get(2)),
        ("DRYRUN", 4..) => {
            let name = text(a[2]);
            let user = lock(&ctx.shared.acl)
                .user(&name)
                .cloned()
                .ok_or_else(|| CmdError::err(format!("User '{name}' not found")))?;
            let Some(index) = crate::command::lookup_index(a[3]) else {
                return Err(CmdError::err(format!(
                    "Command '{}' not found",
                    text(a[3])
                )));
            };
            let cmd = &a[3..];
            if !crate::COMMANDS[index].arity_ok(cmd.len()) {
                return Err(CmdError::err(format!(
                    "wrong number of arguments for '{}' command",
                    crate::COMMANDS[index].name.to_ascii_lowercase()
                )));
            }
            match acl::check(&user, index, cmd, &ctx.session.keyspace) {
                Ok(()) => Ok(Reply::Ok),
                Err(d) => Ok(Reply::bulk(d.error().message.as_bytes())),
            }
        }
        ("SAVE", 2) => {
            let file = ctx.shared.acl_file.get().ok_or_else(no_file)?;
            let body = lock(&ctx.shared.acl).file_text();
            (file.save)(&body).map_err(|e| CmdError::err(format!("There was an error trying to save the ACLs: {e}")))?;
            Ok(Reply::Ok)
        }
        ("LOAD", 2) => {
            let file = ctx.shared.acl_file.get().ok_or_else(no_file)?;
            let body = (file.load)().map_err(CmdError::err)?;
            {
                let mut acl = lock(&ctx.shared.acl);
                let before = acl.snapshot();
                acl.load(&body).map_err(|e| {
                    CmdError::err(format!("Error loading ACLs from {}: {e}", file.path))
                })?;
                keep_locked(ctx.shared, &mut acl, before)?;
            }
            ctx.shared.acl_gen.fetch_add(1, Relaxed);
            let names: Vec<String> = ctx.clients().values().map(|c| c.user.clone()).collect();
            let gone: Vec<&str> = {
                let acl = lock(&ctx.shared.acl);
                names
                    .iter()
                    .map(String::as_str)
                    .filter(|n| acl.user(n).is_none())
                    .collect()
            };
            close_users(ctx, &gone);
            Ok(Reply::Ok)
        }
        ("HELP", 2) => Ok(Reply::Array(
            [
                "ACL <subcommand> [<arg> ...]. Subcommands are:",
                "CAT [<category>]  The categories, or the commands of one.",
                "DELUSER <username> [<username> ...]  Deletes users and closes their connections.",
                "DRYRUN <username> <command> [<arg> ...]  Whether the user may run the command.",
                "GETUSER <username>  A user's flags, passwords (hashed), commands, keys, channels and keyspaces.",
                "GENPASS [<bits>]  A random password (256 bits unless asked).",
                "LIST  Every user, as rules.",
                "LOAD  Replaces the users with the ACL file's.",
                "LOG [<count> | RESET]  Refused commands and failed AUTHs, newest first.",
                "SAVE  Writes the users to the ACL file.",
                "SETUSER <username> <rule> [<rule> ...]  Creates or changes a user: all rules or none.",
                "USERS  Every user's name.",
                "WHOAMI  The connection's user.",
            ]
            .iter()
            .map(|l| Reply::status(l))
            .collect(),
        )),
        _ => Err(CmdError::err(format!(
            "unknown subcommand or wrong number of arguments for 'ACL|{}'. Try ACL HELP.",
            sub.to_ascii_lowercase()
        ))),
    }
}

/// While the server listens beyond loopback, a change that would let clients in without a
/// password is undone and refused (the rule the server starts by: docs/security.md).
fn keep_locked(
    shared: &crate::Shared,
    acl: &mut crate::acl::Acl,
    before: std::collections::BTreeMap<String, std::sync::Arc<crate::acl::User>>,
) -> Result<(), CmdError> {
    if shared.public.load(Relaxed) && !acl.auth_configured() {
        acl.restore(before);
        return Err(CmdError::err(
            "refused: the server listens beyond loopback, and this change would let clients in \
             without a password (give default a password or turn it off)",
        ));
    }
    Ok(())
}

fn no_file() -> CmdError {
    CmdError::err(
        "This server is not configured with an ACL file. You may want to specify users via the \
         aclfile setting",
    )
}

/// Closes the connections of these users (deleted ones).
fn close_users(ctx: &mut Ctx, names: &[&str]) {
    for c in ctx.clients().values() {
        if names.contains(&c.user.as_str()) {
            if let Some(close) = &c.closer {
                (close.0)();
            }
        }
    }
}

/// `ACL LOG [count | RESET]`.
fn log(ctx: &mut Ctx, arg: Option<&&[u8]>) -> Result<Reply, CmdError> {
    let count = match arg {
        None => 10,
        Some(a) if is(a, "RESET") => {
            lock(&ctx.shared.acl).reset_log();
            return Ok(Reply::Ok);
        }
        Some(a) => match args::int(a) {
            Ok(n) if n >= 0 => n as usize,
            _ => return Err(CmdError::not_an_int()),
        },
    };
    let now = ctx.now;
    let acl = lock(&ctx.shared.acl);
    let s = |t: &str| Reply::bulk(t.as_bytes());
    Ok(Reply::Array(
        acl.log_entries()
            .take(count)
            .map(|e| {
                Reply::Map(vec![
                    (s("count"), Reply::Int(e.count as i64)),
                    (s("reason"), s(e.reason)),
                    (s("context"), s(e.context)),
                    (s("object"), s(&e.object)),
                    (s("username"), s(&e.username)),
                    (
                        s("age-seconds"),
                        Reply::Double(now.saturating_sub(e.created) as f64 / 1000.0),
                    ),
                    (s("client-info"), s(&e.client_info)),
                    (s("entry-id"), Reply::Int(e.entry_id as i64)),
                    (s("timestamp-created"), Reply::Int(e.created as i64)),
                    (s("timestamp-last-updated"), Reply::Int(e.updated as i64)),
                ])
            })
            .collect(),
    ))
}
