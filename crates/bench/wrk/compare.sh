#!/usr/bin/env bash
# The serve benchmark with wrk (Debian's `wrk`), the tool the issue's reference figures used:
# bare-server and the mock, ROUNDS rounds of back-to-back DURATION-second runs of
# `wrk -t2 -c64`, the order alternating; prints each round's req/s and ratio, then the median.
# Loopback only; every run stops by itself. Run from the workspace root after
#   cargo build --release -p metrica-s2s -p metrica-s2s-bench
set -euo pipefail
rounds=${ROUNDS:-5}
duration=${DURATION:-5}
dir=${DIR:-target/release} # DIR=another/release compares another build
lua=crates/bench/wrk/click.lua
command -v wrk >/dev/null || { echo "wrk not found (Debian: apt-get install wrk)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'kill "$bare_pid" "$mock_pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
mkfifo "$tmp/bare-stdin"
"$dir/bare-server" < "$tmp/bare-stdin" > "$tmp/bare.out" &
bare_pid=$!
exec 3> "$tmp/bare-stdin" # held open: bare-server stops on stdin EOF
"$dir/metrica-s2s" serve --click-listen 127.0.0.1:0 --impression-listen 127.0.0.1:0 > "$tmp/mock.out" 2>/dev/null &
mock_pid=$!
for _ in $(seq 50); do
  grep -q listening "$tmp/bare.out" 2>/dev/null && grep -q 'listening  clicks' "$tmp/mock.out" 2>/dev/null && break
  sleep 0.1
done
bare=$(grep -o '127\.0\.0\.1:[0-9]*' "$tmp/bare.out" | head -1)
mock=$(grep 'listening  clicks' "$tmp/mock.out" | grep -o '127\.0\.0\.1:[0-9]*' | head -1)
rate() { wrk -t2 -c64 -d"${duration}s" -s "$lua" "http://$1" | awk '/Requests\/sec/ {print $2}'; }
# Warm-up, not counted: the mock's caches, journal ring and click-id table grow on first use.
rate "$bare" >/dev/null; rate "$mock" >/dev/null
ratios=()
for r in $(seq "$rounds"); do
  if (( r % 2 )); then b=$(rate "$bare"); m=$(rate "$mock"); else m=$(rate "$mock"); b=$(rate "$bare"); fi
  ratio=$(awk -v m="$m" -v b="$b" 'BEGIN {printf "%.2f", m / b}')
  ratios+=("$ratio")
  printf 'round %d: bare %8.0f req/s, mock %8.0f req/s, ratio %sx\n' "$r" "$b" "$m" "$ratio"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "median throughput ratio mock/bare over $rounds rounds: ${median}x (target >= 0.85)"
# The load is meant to be clean clicks; a diagnostic means the mock measured another path.
diagnostics=$(curl -s "http://$mock/metrics" | awk '/^s2s_diagnostics_total/ {n += $NF} END {print n + 0}') || diagnostics=unknown
echo "mock diagnostics during the load: $diagnostics (0 expected: every click is clean)"
