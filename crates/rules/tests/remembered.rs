//! The UA cache is purely a cache: a request judged a third time, its UA now remembered with
//! its verdicts, gets exactly the findings of its first, cold judging.

use metrica_s2s_rules::{parse_input, Context, Settings, Validator};
use std::path::Path;

#[test]
fn every_corpus_request_is_judged_alike_cold_and_remembered() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/requests");
    let settings = Settings::default();
    let mut judged = 0;
    let mut differ = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fixtures/requests") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "txt") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("corpus readable");
        let now = text
            .lines()
            .find_map(|l| l.strip_prefix("# now:"))
            .and_then(|n| n.trim().parse().ok())
            .expect("corpus names # now:");
        let ctx = Context::new(now, &settings);
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let Ok(req) = parse_input(line.as_bytes()) else {
                continue;
            };
            // One validator per request: the first judging is cold, the second puts the UA
            // in the cache, the third reads it from there.
            let mut validator = Validator::new(Settings::default().ua_cache_entries);
            let runs: Vec<_> = (0..3).map(|_| validator.validate(&req, &ctx)).collect();
            judged += 1;
            if runs[0] != runs[2] || runs[0] != runs[1] {
                differ.push(format!(
                    "{}: {line}\n  cold: {:?}\n  remembered: {:?}",
                    path.display(),
                    runs[0].iter().map(|d| d.code).collect::<Vec<_>>(),
                    runs[2].iter().map(|d| d.code).collect::<Vec<_>>()
                ));
            }
        }
    }
    assert!(judged > 200, "only {judged} corpus requests found");
    assert!(
        differ.is_empty(),
        "{} differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
}
