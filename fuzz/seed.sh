#!/bin/sh
# Seeds a fuzz target's corpus with every request line of fixtures/requests (one file each),
# so the fuzzer starts from real tracking URLs, request lines and access-log lines.
# usage: fuzz/seed.sh TARGET     (run from the workspace root)
set -eu
target=${1:?usage: fuzz/seed.sh TARGET}
dir=fuzz/corpus/$target
mkdir -p "$dir"
n=0
for f in fixtures/requests/*.txt; do
    grep -v '^#' "$f" | grep -v '^$' | while IFS= read -r line; do
        n=$((n + 1))
        # validate's first byte picks the context; give every seed a neutral one.
        if [ "$target" = validate ]; then printf '\000%s' "$line"; else printf '%s' "$line"; fi \
            > "$dir/seed-$(basename "$f" .txt)-$n"
    done
done
echo "seeded $dir: $(ls "$dir" | wc -l) files"
