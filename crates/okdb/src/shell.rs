//! `okdb shell` and one-shot commands: tokenizing, help and pretty-printing.
//!
//! Arguments are tokenized as redis-cli does (quotes are removed), except that a JSON or Python
//! literal in brackets is kept whole, so `SET user:1 {"name": "kevin", "tags": ["a", "b"]}`
//! sends the dict text as one argument. To store the string `"5"` rather than the int 5, quote
//! the quotes: `SET k '"5"'`.

#![allow(clippy::print_stdout)] // the shell's job is to print to stdout

use std::process::ExitCode;

use okdb_client::{to_value, Client};
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

/// `HELP` and `HELP command`, generated from the command table.
pub fn help(topic: Option<&str>) -> String {
    match topic {
        None => {
            let mut out = String::from(
                "okdb commands (HELP <command> for one; values are JSON or Python literals):\n",
            );
            let mut groups: Vec<&str> = COMMANDS.iter().map(|c| c.group).collect();
            groups.dedup();
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
            out
        }
        Some(name) => match okdb_engine::command::lookup(name.as_bytes()) {
            Some(c) => format!("{}\n  {}\n  group: {}", c.usage(), c.summary, c.group),
            None => format!("no command named {name}; HELP lists them"),
        },
    }
}

pub fn one_shot(addr: &str, words: &[String]) -> anyhow::Result<ExitCode> {
    if words
        .first()
        .is_some_and(|w| w.eq_ignore_ascii_case("help"))
    {
        println!("{}", help(words.get(1).map(String::as_str)));
        return Ok(ExitCode::SUCCESS);
    }
    let mut client = Client::connect(addr)?;
    let reply = client.call(words)?;
    println!("{}", format_reply(&reply));
    Ok(if matches!(reply, Frame::Error(_)) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

pub fn repl(addr: &str) -> anyhow::Result<ExitCode> {
    let mut client = Client::connect(addr)
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
    let mut keyspace = "0".to_string();
    loop {
        let prompt = if keyspace == "0" {
            format!("{addr}> ")
        } else {
            format!("{addr}[{keyspace}]> ")
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
        let _ = editor.add_history_entry(line);
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
        let first = words[0].to_ascii_uppercase();
        match first.as_str() {
            "HELP" => {
                println!("{}", help(words.get(1).map(String::as_str)));
                continue;
            }
            "EXIT" | "QUIT" => break,
            _ => {}
        }
        let reply = match client.call(&words) {
            Ok(r) => r,
            Err(e) => {
                println!("(error) {e}");
                match Client::connect(addr) {
                    Ok(c) => {
                        client = c;
                        keyspace = "0".into();
                        println!("reconnected");
                    }
                    Err(_) => return Ok(ExitCode::FAILURE),
                }
                continue;
            }
        };
        if (first == "USE" || first == "SELECT") && matches!(reply, Frame::Simple(_)) {
            keyspace = words.get(1).cloned().unwrap_or_default();
        }
        println!("{}", format_reply(&reply));
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn help_comes_from_the_table() {
        assert!(help(None).contains("EXPIRE"));
        assert!(help(Some("ttl")).starts_with("TTL key [key ...]"));
        assert!(help(Some("nope")).starts_with("no command"));
    }
}
