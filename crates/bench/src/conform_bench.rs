//! `s2s-bench conform`: wall time of the standard suite against the correct example partner,
//! and the runner's own overhead per scenario: each scenario's duration less the time its
//! driver took and the settle window it spent watching for duplicates (both in the report).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

const RUNS: usize = 3;

pub fn run(bin: &Path, root: &Path) -> std::io::Result<()> {
    let report =
        std::env::temp_dir().join(format!("s2s-bench-conform-{}.json", std::process::id()));
    let mut walls = Vec::new();
    let mut overheads = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let out = Command::new(bin)
            .args([
                "conform",
                "--partner",
                "fixtures/partners/correct.toml",
                "--report",
            ])
            .arg(format!("json={}", report.display()))
            .current_dir(root)
            .output()?;
        walls.push(started.elapsed().as_secs_f64());
        if !out.status.success() {
            return Err(std::io::Error::other(format!(
                "conform failed: {}",
                String::from_utf8_lossy(&out.stdout)
            )));
        }
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report)?).map_err(std::io::Error::other)?;
        for s in json["scenarios"].as_array().into_iter().flatten() {
            let n = |k: &str| s[k].as_i64().unwrap_or(0);
            overheads.push(n("duration_ms") - n("driver_ms") - n("settle_ms"));
        }
    }
    let _ = std::fs::remove_file(&report);
    walls.sort_by(f64::total_cmp);
    overheads.sort_unstable();
    let mean = overheads.iter().sum::<i64>() as f64 / overheads.len().max(1) as f64;
    println!("standard suite, correct exec partner, {RUNS} runs:");
    println!(
        "  wall time (median of runs, including the binary's start): {:.2} s (target < 5 s)",
        walls[walls.len() / 2]
    );
    println!(
        "  runner overhead per scenario (duration - driver - settle): mean {mean:.1} ms, max {} ms over {} scenario runs (target < 50 ms)",
        overheads.last().copied().unwrap_or(0),
        overheads.len()
    );
    Ok(())
}
