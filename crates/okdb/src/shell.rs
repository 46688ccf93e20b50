//! `okdb shell` and one-shot commands: tokenizing, help and pretty-printing.
//!
//! Arguments are tokenized as redis-cli does (quotes are removed), except that a JSON or Python
//! literal in brackets is kept whole, so `SET user:1 {"name": "kevin", "tags": ["a", "b"]}`
//! sends the dict text as one argument. To store the string `"5"` rather than the int 5, quote
//! the quotes: `SET k '"5"'`.

#![allow(clippy::print_stdout)] // the shell's job is to print to stdout

use std::process::ExitCode;

use okdb_client::{to_value, Client, ClientError};
use okdb_engine::COMMANDS;
use okdb_resp::{split_inline, Frame};
use okdb_value::json;

/// Completes command names (the first word) from the command table, with the Tab key.
struct Completion;

impl rustyline::completion::Completer for Completion {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok((0, complete_command(&line[..pos])))
    }
}

impl rustyline::hint::Hinter for Completion {
    type Hint = String;
}
impl rustyline::highlight::Highlighter for Completion {}
impl rustyline::validate::Validator for Completion {}
impl rustyline::Helper for Completion {}

/// Command names that complete a partial first word (none once past the first word).
fn complete_command(typed: &str) -> Vec<String> {
    if typed.contains(char::is_whitespace) {
        return Vec::new();
    }
    let upper = typed.to_ascii_uppercase();
    let lower = typed.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    COMMANDS
        .iter()
        .map(|c| c.name)
        .chain(["HELP", "EXIT"])
        .filter(|n| n.starts_with(&upper))
        .map(|n| {
            if lower {
                n.to_ascii_lowercase()
            } else {
                n.to_string()
            }
        })
        .collect()
}

/// Formats a reply for a person: values as indented typed JSON, errors marked.
pub fn format_reply(frame: &Frame) -> String {
    match frame {
        Frame::Error(e) => format!("(error) {e}"),
        Frame::Simple(s) => s.clone(),
        Frame::Verbatim { text, .. } => text.trim_end().to_string(),
        Frame::Null => "(nil)".into(),
        Frame::BigNumber(n) => n.clone(),
        other => match to_value(other) {
            Some(v) => json::to_string_pretty(&v),
            None => format!("{other:?}"),
        },
    }
}

/// `HELP` and `HELP command`, generated from the command table; an unknown command is an
/// error (its message says where to look).
pub fn help(topic: Option<&str>) -> Result<String, String> {
    match topic {
        None => {
            let mut out = String::from(
                "okdb commands (HELP <command> for one; values are JSON or Python literals):\n",
            );
            let mut groups: Vec<&str> = COMMANDS.iter().map(|c| c.group).collect();
            groups.sort();
            groups.dedup();
            for g in groups {
                let names: Vec<&str> = COMMANDS
                    .iter()
                    .filter(|c| c.group == g)
                    .map(|c| c.name)
                    .collect();
                out.push_str(&format!("  {g:<11} {}\n", names.join(" ")));
            }
            out.push_str("Shell: HELP, QUIT/EXIT. Arguments: SET user:1 {\"name\": \"kevin\"}; SET k '\"5\"' stores a string.");
            Ok(out)
        }
        Some(name) => match okdb_engine::command::lookup(name.as_bytes()) {
            Some(c) => Ok(format!(
                "{}\n  {}\n  group: {}",
                c.usage(),
                c.summary,
                c.group
            )),
            None => Err(format!("no command named {name}; HELP lists them")),
        },
    }
}

pub fn one_shot(addr: &str, words: &[String]) -> anyhow::Result<ExitCode> {
    if words
        .first()
        .is_some_and(|w| w.eq_ignore_ascii_case("help"))
    {
        let text = help(words.get(1).map(String::as_str)).map_err(anyhow::Error::msg)?;
        println!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    let mut client = Client::connect(addr)?;
    let shutdown = words
        .first()
        .is_some_and(|w| w.eq_ignore_ascii_case("SHUTDOWN"));
    let reply = match client.call(words) {
        // A server stopping closes the connection without a reply, as Redis does.
        Err(ClientError::Closed) if shutdown => return Ok(ExitCode::SUCCESS),
        other => other?,
    };
    println!("{}", format_reply(&reply));
    Ok(if matches!(reply, Frame::Error(_)) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// What the shell sends commands through: a [`Client`], or a fake in tests.
trait Connection {
    fn call(&mut self, words: &[String]) -> Result<Frame, ClientError>;
}

impl Connection for Client {
    fn call(&mut self, words: &[String]) -> Result<Frame, ClientError> {
        Client::call(self, words)
    }
}

/// The shell's connection and the state it set on it, so that a lost connection can be
/// replaced by one in the same state: a new [`Client`] is in RESP3 with strict literals, and
/// the session's last `USE`/`SELECT` and `CLIENT LITERALS` are sent again. The command the
/// connection was lost on is then sent once more (it may have run before the connection
/// dropped; redis-cli resends too), except `SHUTDOWN`.
struct Session<C, F> {
    conn: C,
    connect: F,
    /// The keyspace the prompt shows, and the command that chose it.
    keyspace: String,
    chose_keyspace: Option<Vec<String>>,
    /// The last successful `CLIENT LITERALS mode`.
    chose_literals: Option<Vec<String>>,
}

/// What a command came to.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// The server's reply (after a reconnection, if one was needed).
    Reply(Frame),
    /// The command was not run; the session goes on (the notes say why).
    NotSent,
    /// The server cannot be reached: the shell stops.
    Unreachable,
}

impl<C: Connection, F: FnMut() -> Result<C, ClientError>> Session<C, F> {
    fn new(connect: F) -> Result<Self, ClientError> {
        let mut connect = connect;
        Ok(Session {
            conn: connect()?,
            connect,
            keyspace: "0".into(),
            chose_keyspace: None,
            chose_literals: None,
        })
    }

    /// Sends `words`; what the user should read besides the reply goes to `note`.
    fn send(&mut self, words: &[String], note: &mut impl FnMut(String)) -> Outcome {
        let lost = match self.conn.call(words) {
            Ok(reply) => {
                self.remember(words, &reply);
                return Outcome::Reply(reply);
            }
            Err(e) => e,
        };
        note(format!("(error) {lost}"));
        let conn = match (self.connect)() {
            Ok(c) => c,
            Err(e) => {
                note(format!("(error) {e}; the command was not sent again"));
                return Outcome::Unreachable;
            }
        };
        self.conn = conn;
        if let Some(failed) = self.restore() {
            note(format!(
                "reconnected, but {failed}; the command was not sent again"
            ));
            return Outcome::NotSent;
        }
        if words[0].eq_ignore_ascii_case("SHUTDOWN") {
            note(format!(
                "reconnected, keyspace {} restored; SHUTDOWN was not sent again",
                self.keyspace
            ));
            return Outcome::NotSent;
        }
        note(format!(
            "reconnected, keyspace {} restored; sending the command again",
            self.keyspace
        ));
        match self.conn.call(words) {
            Ok(reply) => {
                self.remember(words, &reply);
                Outcome::Reply(reply)
            }
            Err(e) => {
                note(format!("(error) {e}; the command was not sent again"));
                Outcome::NotSent
            }
        }
    }

    /// Sets the new connection's keyspace and literal mode as the session had them; says what
    /// failed, if anything (and forgets it: the prompt then shows where the connection is).
    fn restore(&mut self) -> Option<String> {
        if let Some(words) = &self.chose_keyspace {
            if let Some(e) = failure(self.conn.call(words)) {
                let failed = format!("`{}` failed ({e}): now on keyspace 0", words.join(" "));
                self.keyspace = "0".into();
                self.chose_keyspace = None;
                return Some(failed);
            }
        }
        if let Some(words) = &self.chose_literals {
            if let Some(e) = failure(self.conn.call(words)) {
                let failed = format!("`{}` failed ({e}): literals are strict", words.join(" "));
                self.chose_literals = None;
                return Some(failed);
            }
        }
        None
    }

    /// Notes the commands that change the connection's state, once they succeeded.
    fn remember(&mut self, words: &[String], reply: &Frame) {
        if !matches!(reply, Frame::Simple(_)) {
            return;
        }
        let is = |i: usize, name: &str| words.get(i).is_some_and(|w| w.eq_ignore_ascii_case(name));
        if (is(0, "USE") || is(0, "SELECT")) && words.len() == 2 {
            self.keyspace = words[1].clone();
            self.chose_keyspace = Some(words.to_vec());
        } else if is(0, "CLIENT") && is(1, "LITERALS") && words.len() == 3 {
            self.chose_literals = Some(words.to_vec());
        }
    }
}

/// The error of a reply or of the call, if either failed.
fn failure(result: Result<Frame, ClientError>) -> Option<String> {
    match result {
        Ok(Frame::Error(e)) => Some(e),
        Ok(_) => None,
        Err(e) => Some(e.to_string()),
    }
}

/// A line cut at each `;` outside quotes and brackets (a block typed on one line).
fn statements(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quote, mut depth) = (0, None, 0usize);
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '[' | '{' | '(' => depth += 1,
            ']' | '}' | ')' => depth = depth.saturating_sub(1),
            ';' if depth == 0 => {
                out.push(line[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(line[start..].trim());
    out.retain(|s| !s.is_empty());
    out
}

pub fn repl(addr: &str) -> anyhow::Result<ExitCode> {
    let mut session = Session::new(|| Client::connect(addr))
        .map_err(|e| anyhow::anyhow!("{e}\n(start a server with `okdb server`)"))?;
    let mut editor: rustyline::Editor<Completion, rustyline::history::DefaultHistory> =
        rustyline::Editor::new()?;
    editor.set_helper(Some(Completion));
    let history =
        std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".okdb_history"));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    println!("okdb shell connected to {addr}. HELP lists commands, QUIT leaves.");
    loop {
        let prompt = if session.keyspace == "0" {
            format!("{addr}> ")
        } else {
            format!("{addr}[{}]> ", session.keyspace)
        };
        let line = match editor.readline(&prompt) {
            Ok(l) => l,
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(rustyline::error::ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        // Each line is appended to the history file at once, so a shell that is killed or
        // loses its terminal keeps what was typed.
        if editor.add_history_entry(line).unwrap_or(false) {
            if let Some(h) = &history {
                let _ = editor.append_history(h);
            }
        }
        // `RUN` alone starts a multi-line script, ended by an empty line.
        if line.eq_ignore_ascii_case("RUN") {
            let mut script = Vec::new();
            loop {
                match editor.readline("...> ") {
                    Ok(l) if l.trim().is_empty() => break,
                    Ok(l) => script.push(l),
                    Err(rustyline::error::ReadlineError::Interrupted) => {
                        script.clear();
                        break;
                    }
                    Err(_) => break,
                }
            }
            if script.is_empty() {
                continue;
            }
            let words = vec!["RUN".to_string(), script.join("\n")];
            if !show(&mut session, &words) {
                return Ok(ExitCode::FAILURE);
            }
            continue;
        }
        // A block on one line: `BEGIN; SET a 1; INCR a; END` sends each command in turn.
        let parts = if line.len() > 5 && line[..5].eq_ignore_ascii_case("BEGIN") {
            statements(line)
        } else {
            vec![line]
        };
        if parts.len() > 1 {
            for part in parts {
                let Ok(words) = split_inline(part) else {
                    println!("(error) cannot read `{part}`");
                    break;
                };
                if words.is_empty() {
                    continue;
                }
                if !show(&mut session, &words) {
                    return Ok(ExitCode::FAILURE);
                }
            }
            continue;
        }
        let words = match split_inline(line) {
            Ok(w) => w,
            Err(e) => {
                println!(
                    "(error) {}",
                    e.to_string().trim_start_matches("Protocol error: ")
                );
                continue;
            }
        };
        match words[0].to_ascii_uppercase().as_str() {
            "HELP" => {
                match help(words.get(1).map(String::as_str)) {
                    Ok(text) => println!("{text}"),
                    Err(text) => println!("(error) {text}"),
                }
                continue;
            }
            "EXIT" | "QUIT" => break,
            _ => {}
        }
        if !show(&mut session, &words) {
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Sends a command and prints its reply; false if the server cannot be reached.
fn show<C: Connection, F: FnMut() -> Result<C, ClientError>>(
    session: &mut Session<C, F>,
    words: &[String],
) -> bool {
    match session.send(words, &mut |note| println!("{note}")) {
        Outcome::Reply(reply) => println!("{}", format_reply(&reply)),
        Outcome::NotSent => {}
        Outcome::Unreachable => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    #[test]
    fn a_block_on_one_line_splits_at_semicolons_outside_quotes() {
        assert_eq!(
            statements("BEGIN; SET a 'x;y'; RUN \"a = 1; a\"; SET b [1, {\"k\": \";\"}]; END"),
            [
                "BEGIN",
                "SET a 'x;y'",
                "RUN \"a = 1; a\"",
                "SET b [1, {\"k\": \";\"}]",
                "END"
            ]
        );
    }

    #[test]
    fn formats_typed_replies() {
        assert_eq!(format_reply(&Frame::Integer(5)), "5");
        assert_eq!(format_reply(&Frame::Bulk("hi".into())), "\"hi\"");
        assert_eq!(format_reply(&Frame::Null), "(nil)");
        assert_eq!(format_reply(&Frame::Error("ERR x".into())), "(error) ERR x");
        let set = Frame::Set(vec![Frame::Integer(1), Frame::Integer(2)]);
        assert!(format_reply(&set).contains("$set"));
    }

    #[test]
    fn completes_command_names_in_the_case_typed() {
        assert_eq!(complete_command("EXPIRES"), Vec::<String>::new());
        assert_eq!(complete_command("EXPIREA"), ["EXPIREAT"]);
        assert_eq!(complete_command("key"), ["keys", "keyspaces"]);
        assert!(complete_command("GET k").is_empty());
    }

    /// A fake server: it can go down and come back (a restart: connections made before it are
    /// lost), and records what each connection ran and in which keyspace and literal mode.
    #[derive(Default)]
    struct Fake {
        up: bool,
        restarts: u32,
        ran: Vec<String>,
        /// Fail `USE` after a restart.
        refuse_use: bool,
    }

    struct FakeConn {
        server: Rc<RefCell<Fake>>,
        born: u32,
        keyspace: String,
        literals: &'static str,
    }

    impl Connection for FakeConn {
        fn call(&mut self, words: &[String]) -> Result<Frame, ClientError> {
            let mut server = self.server.borrow_mut();
            if !server.up || server.restarts != self.born {
                return Err(ClientError::Closed);
            }
            let w: Vec<&str> = words.iter().map(String::as_str).collect();
            match w.as_slice() {
                ["USE" | "SELECT", _] if server.refuse_use => {
                    return Ok(Frame::Error("ERR no".into()))
                }
                ["USE" | "SELECT", ks] => self.keyspace = ks.to_string(),
                ["CLIENT", "LITERALS", "faithful"] => self.literals = "faithful",
                _ => {}
            }
            server.ran.push(format!(
                "{} [{} {}]",
                words.join(" "),
                self.keyspace,
                self.literals
            ));
            Ok(Frame::Simple("OK".into()))
        }
    }

    fn session(
        server: &Rc<RefCell<Fake>>,
    ) -> Session<FakeConn, impl FnMut() -> Result<FakeConn, ClientError>> {
        let server = server.clone();
        Session::new(move || {
            let s = server.borrow();
            if !s.up {
                return Err(ClientError::Closed);
            }
            Ok(FakeConn {
                server: server.clone(),
                born: s.restarts,
                keyspace: "0".into(),
                // What Client::connect sets up on every connection.
                literals: "strict",
            })
        })
        .unwrap()
    }

    fn words(line: &str) -> Vec<String> {
        line.split(' ').map(String::from).collect()
    }

    #[test]
    fn a_lost_connection_is_replaced_in_the_same_state_and_the_command_resent() {
        let server = Rc::new(RefCell::new(Fake {
            up: true,
            ..Fake::default()
        }));
        let mut s = session(&server);
        let mut notes = Vec::new();
        for line in ["USE users", "CLIENT LITERALS faithful", "SET a 1"] {
            let sent = s.send(&words(line), &mut |n| notes.push(n));
            assert_eq!(sent, Outcome::Reply(Frame::Simple("OK".into())));
        }
        assert!(notes.is_empty());
        server.borrow_mut().restarts += 1;
        let sent = s.send(&words("SET b 2"), &mut |n| notes.push(n));
        assert_eq!(sent, Outcome::Reply(Frame::Simple("OK".into())));
        assert_eq!(
            notes,
            [
                "(error) server closed the connection",
                "reconnected, keyspace users restored; sending the command again",
            ]
        );
        assert_eq!(s.keyspace, "users");
        assert_eq!(
            server.borrow().ran[3..],
            [
                "USE users [users strict]",
                "CLIENT LITERALS faithful [users faithful]",
                "SET b 2 [users faithful]",
            ]
        );
    }

    #[test]
    fn what_could_not_be_restored_or_resent_is_said() {
        let server = Rc::new(RefCell::new(Fake {
            up: true,
            ..Fake::default()
        }));
        let mut s = session(&server);
        let mut notes = Vec::new();
        s.send(&words("SELECT 3"), &mut |n| notes.push(n));
        // The keyspace cannot be chosen again: the command is not sent, the prompt says 0.
        server.borrow_mut().restarts += 1;
        server.borrow_mut().refuse_use = true;
        assert_eq!(
            s.send(&words("SET b 2"), &mut |n| notes.push(n)),
            Outcome::NotSent
        );
        assert_eq!(
            notes[1],
            "reconnected, but `SELECT 3` failed (ERR no): now on keyspace 0; the command was \
             not sent again"
        );
        assert_eq!(s.keyspace, "0");
        // SHUTDOWN is not sent to the new server.
        server.borrow_mut().restarts += 1;
        notes.clear();
        assert_eq!(
            s.send(&words("SHUTDOWN"), &mut |n| notes.push(n)),
            Outcome::NotSent
        );
        assert_eq!(
            notes[1],
            "reconnected, keyspace 0 restored; SHUTDOWN was not sent again"
        );
        // A server that stays down ends the shell.
        server.borrow_mut().up = false;
        notes.clear();
        assert_eq!(
            s.send(&words("GET a"), &mut |n| notes.push(n)),
            Outcome::Unreachable
        );
        assert_eq!(
            notes[1],
            "(error) server closed the connection; the command was not sent again"
        );
        assert!(!server
            .borrow()
            .ran
            .iter()
            .any(|c| c.starts_with("SHUTDOWN")));
        assert!(!server.borrow().ran.iter().any(|c| c.starts_with("SET b")));
    }

    #[test]
    fn help_comes_from_the_table() {
        assert!(help(None).unwrap().contains("EXPIRE"));
        assert!(help(Some("ttl")).unwrap().starts_with("TTL key [key ...]"));
        assert_eq!(
            help(Some("nope")),
            Err("no command named nope; HELP lists them".into())
        );
    }
}
