# Conveniences over the same cargo commands the README and .ci/run use.

default:
    @just --list

# What CI runs: formatting, lints, every test.
check:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets --locked -- -D warnings
    cargo test --workspace --locked

test:
    cargo test --workspace

# The mock on its default ports (the README's first command).
serve:
    cargo run --release -- serve

# Lint AppMetrica's own documentation examples.
demo:
    cargo run --release -- lint --file fixtures/requests/documentation.txt

# Regenerate docs/rules.md from the catalogue (tests/docs.rs fails when it is stale).
docs:
    cargo run -q -- explain --markdown > docs/rules.md

# Criterion: the engine per request beside a bare form_urlencoded decode of the same query, and
# a cold User-Agent classified beside a bare scan of its bytes.
bench:
    cargo bench -p metrica-s2s-rules --bench validate --bench classify

# 1,000,000-line synthetic log: metrica-s2s lint against a bare split+decode pass, same run.
# uas=skewed (a few mobile UAs dominate) or uas=uniform (all of uap-core: the cold UA path).
bench-lint lines="1000000" uas="skewed":
    cargo build --release -p metrica-s2s -p metrica-s2s-bench
    target/release/s2s-bench lint --lines {{lines}} --uas {{uas}}

# The mock against a bare axum 204 server, same load, same run; then RSS after 1,000,000 more.
bench-serve requests="700000" soak="1000000":
    cargo build --release -p metrica-s2s -p metrica-s2s-bench
    target/release/s2s-bench serve --requests {{requests}} --soak {{soak}}

# The standard suite against the correct example partner: wall time and runner overhead.
bench-conform:
    cargo build --release -p metrica-s2s -p metrica-s2s-bench
    target/release/s2s-bench conform

# The hostile-input HTML report in headless Chromium (Debian's chromium): no injected script
# runs, no payload becomes markup, with and without the report's CSP.
e2e-browser:
    cargo build -p metrica-s2s
    python3 scripts/e2e-browser.py target/debug/metrica-s2s

# A fuzz target for a while (cargo fuzz, nightly): parse or validate. See docs/fuzzing.md.
fuzz target="parse" seconds="600":
    fuzz/seed.sh {{target}}
    cargo +nightly fuzz run {{target}} fuzz/corpus/{{target}} -- -max_total_time={{seconds}} -max_len=20000

# The same comparison with wrk (Debian's wrk), as in the issue's reference table.
bench-serve-wrk rounds="5" seconds="5":
    cargo build --release -p metrica-s2s -p metrica-s2s-bench
    ROUNDS={{rounds}} DURATION={{seconds}} crates/bench/wrk/compare.sh

# Conversions attributed and posted back, timed to the postback's arrival (p99 target 5 ms).
bench-postbacks clicks="10000" conversions="2000":
    cargo build --release -p metrica-s2s -p metrica-s2s-bench
    target/release/s2s-bench postbacks --clicks {{clicks}} --conversions {{conversions}}

# The live dashboard in Chromium over WebDriver (Debian: chromium chromium-driver).
e2e-dashboard:
    cargo build -p metrica-s2s
    python3 scripts/e2e-dashboard.py target/debug/metrica-s2s

# Clicks over TLS against plain HTTP on one mock (CPU per click, target 1.3x), then handshakes.
bench-tls:
    cargo build --release -p metrica-s2s -p metrica-s2s-bench
    target/release/s2s-bench tls

# Clicks with and without 1,000 pending journal waits, same mock, alternating.
bench-waiters:
    cargo build --release -p metrica-s2s -p metrica-s2s-bench
    target/release/s2s-bench waiters

# Clicks with and without 6 postback waits while 1,000 deliveries retry, alternating.
bench-postback-waits:
    cargo build --release -p metrica-s2s -p metrica-s2s-bench
    target/release/s2s-bench postback-waits
