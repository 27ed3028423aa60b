//! The fuzzers' findings, kept: inputs from `fixtures/fuzz/<target>/` (a sample of each
//! target's corpus after a 12-minute run, plus any input that ever crashed one) go through the
//! same invariants as the fuzz targets, on every `cargo test`.

#[path = "common/invariants.rs"]
mod invariants;

use metrica_s2s_rules::Validator;
use std::path::PathBuf;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/fuzz")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let inputs: Vec<_> = files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read");
            (p, bytes)
        })
        .collect();
    assert!(
        inputs.len() >= 10,
        "the {target} regression inputs are missing"
    );
    inputs
}

#[test]
fn parse_regressions() {
    for (path, data) in inputs("parse") {
        let outcome = std::panic::catch_unwind(|| invariants::parse(&data));
        assert!(outcome.is_ok(), "{} broke the parser", path.display());
    }
}

#[test]
fn validate_regressions() {
    let mut validator = Validator::new(64);
    for (path, data) in inputs("validate") {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            invariants::validate(&data, &mut validator)
        }));
        assert!(outcome.is_ok(), "{} broke the validator", path.display());
    }
}
