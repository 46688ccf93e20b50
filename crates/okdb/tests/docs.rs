//! docs/commands.md is generated from the command table; this keeps it in step.
//! `UPDATE_DOCS=1 cargo test -p okdb docs` rewrites it.

#[test]
fn docs_commands_md_matches_the_command_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/commands.md");
    let want = okdb_engine::command::reference_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, &want).unwrap();
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "docs/commands.md is stale: run UPDATE_DOCS=1 cargo test -p okdb docs"
    );
}
