#!/bin/sh
# run.sh - run each libFuzzer target briefly (FUZZ_SECONDS, default 10) from its seed
# corpus in tests/fuzz/corpus/NAME (copied, so the tree is not written to).
# Any crash, leak or sanitizer report fails the run.
set -u
secs=${FUZZ_SECONDS:-10}
failed=0
[ $# -eq 0 ] && { echo "fuzz: no targets"; exit 0; }
for t in "$@"; do
    name=$(basename "$t")
    work=$(mktemp -d)
    [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/"
    if "$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="build/fuzz/$name-" \
        "$work" >"build/fuzz/$name.log" 2>&1; then
        printf 'ok    %s (%s)\n' "$name" "$(grep -Eo 'Done [0-9]+ runs' "build/fuzz/$name.log" | tail -1)"
    else
        tail -40 "build/fuzz/$name.log"
        echo "FAIL: fuzz target $name (log: build/fuzz/$name.log)"
        failed=$((failed + 1))
    fi
    rm -rf "$work"
done
[ "$failed" -eq 0 ]
