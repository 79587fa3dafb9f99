#!/bin/sh
# run.sh - run each libFuzzer target briefly (FUZZ_SECONDS, default 10) from its seed
# corpus in tests/fuzz/corpus/NAME (copied, so the tree is not written to),
# one per core at a time (FUZZ_JOBS). Any crash, leak or sanitizer report fails the run.
set -u
secs=${FUZZ_SECONDS:-10}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ $# -eq 0 ] && { echo "fuzz: no targets"; exit 0; }
if [ "${1:-}" = --one ]; then
    t=$2
    name=$(basename "$t")
    work=$(mktemp -d)
    [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/"
    if "$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="build/fuzz/$name-" \
        "$work" >"build/fuzz/$name.log" 2>&1; then
        printf 'ok    %s (%s)\n' "$name" "$(grep -Eo 'Done [0-9]+ runs' "build/fuzz/$name.log" | tail -1)"
        rc=0
    else
        { tail -40 "build/fuzz/$name.log"; echo "FAIL: fuzz target $name (log: build/fuzz/$name.log)"; } >"build/fuzz/$name.fail"
        rc=1
    fi
    rm -rf "$work"
    exit $rc
fi
rm -f build/fuzz/*.fail
printf '%s\n' "$@" | xargs -P "$jobs" -I{} sh "$0" --one {}
failed=0
for f in build/fuzz/*.fail; do
    [ -e "$f" ] || continue
    cat "$f"
    failed=$((failed + 1))
done
[ "$failed" -eq 0 ] || echo "$failed fuzz target(s) failed"
[ "$failed" -eq 0 ]
