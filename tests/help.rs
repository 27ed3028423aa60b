//! The `--help` of every subcommand, pinned: a changed flag, default or wording shows up in
//! review as a changed snapshot (`cargo insta review`, or INSTA_UPDATE=always to accept).

use std::process::Command;

mod support;

fn help(args: &[&str]) -> String {
    let out = Command::new(support::bin())
        .args(args)
        .arg("--help")
        .env("COLUMNS", "100")
        .output()
        .expect("runs");
    assert!(out.status.success(), "{args:?} --help");
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn help_texts() {
    insta::assert_snapshot!("metrica-s2s", help(&[]));
    for command in ["serve", "lint", "explain", "conform", "ca"] {
        insta::assert_snapshot!(command, help(&[command]));
    }
}
