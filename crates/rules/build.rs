//! Turns the crawler-user-agents list (data/crawler-user-agents, MIT) into a Rust table of
//! patterns and kinds, so the classifier carries the maintained list without parsing JSON or
//! keeping its example strings at run time.

use std::fmt::Write as _;

#[derive(serde::Deserialize)]
struct Entry {
    pattern: String,
    #[serde(default)]
    tags: Vec<String>,
}

fn main() {
    let src = "data/crawler-user-agents/crawler-user-agents.json";
    println!("cargo::rerun-if-changed={src}");
    let text = std::fs::read_to_string(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    let entries: Vec<Entry> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{src}: {e}"));
    let mut out = String::from("&[\n");
    for e in &entries {
        let kind = e.tags.first().map_or("crawler", String::as_str);
        let _ = writeln!(out, "    ({:?}, {:?}),", e.pattern, kind);
    }
    out.push_str("]\n");
    let dest =
        std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("crawlers.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
}
