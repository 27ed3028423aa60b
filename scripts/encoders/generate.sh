#!/usr/bin/env bash
# Writes fixtures/requests/encoders.txt: correct S2S requests for every device of devices.tsv,
# each built by a real client encoder (Python requests and urllib, JavaScript, Java, curl).
# Every one must get no diagnostic. Needs python3 with requests, node, java and curl.
# usage: scripts/encoders/generate.sh   (from the workspace root)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
now=1795860000
ts=$((now - 60))
base="https://redirect.appmetrica.yandex.com/serve/1234567890123456789"
out="$root/fixtures/requests/encoders.txt"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
{
  python3 "$here/python_encoders.py" "$base" "$ts" "$here/devices.tsv"
  node "$here/node_encoders.js" "$base" "$ts" "$here/devices.tsv"
  javac -d "$tmp" "$here/JavaEncoder.java" && java -cp "$tmp" JavaEncoder "$base" "$ts" "$here/devices.tsv"
  # curl builds the query itself with -G --data-urlencode; the URL it would fetch is printed.
  # Tabs turned into a non-blank separator, so empty fields stay fields for `read`.
  grep -v '^#' "$here/devices.tsv" | tr '\t' '\037' | while IFS=$'\037' read -r ua ip gaid ifa; do
    args=(--data-urlencode "click_id=c-1" --data-urlencode "device_ip=$ip" --data-urlencode "device_ua=$ua" --data-urlencode "click_timestamp=$ts")
    [ -n "$gaid" ] && args+=(--data-urlencode "google_aid=$gaid")
    [ -n "$ifa" ] && args+=(--data-urlencode "ios_ifa=$ifa")
    url=$(curl -s -G "${args[@]}" -o /dev/null -w '%{url_effective}' "http://127.0.0.1:9/serve/1234567890123456789" || true)
    printf 'curl -G --data-urlencode\t%s\n' "https://redirect.appmetrica.yandex.com${url#http://127.0.0.1:9}"
  done
} > "$tmp/lines.tsv"
{
  echo "# metrica-s2s request corpus: encoders."
  echo "# Correct requests built by real client encoders (scripts/encoders/generate.sh): none may"
  echo "# get any diagnostic. Lint it directly: metrica-s2s lint --now $now --file THIS_FILE"
  echo "# now: $now"
  echo
  while IFS=$'\t' read -r encoder url; do
    printf '# built by %s\n# expect: \n%s\n\n' "$encoder" "$url"
  done < "$tmp/lines.tsv"
} > "$out"
echo "wrote $(grep -c '^# expect:' "$out") requests to $out"
