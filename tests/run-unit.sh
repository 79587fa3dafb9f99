#!/bin/sh
# run-unit.sh - run each cmocka test binary given; fail when any fails.
failed=0
for t in "$@"; do
    if ! "$t" >"$t.log" 2>&1; then
        cat "$t.log"
        echo "FAIL: $t"
        failed=$((failed + 1))
    else
        printf 'ok    %s (%s)\n' "$t" "$(grep -c '^\[       OK \]' "$t.log") cases"
    fi
done
[ "$failed" -eq 0 ] || { echo "$failed unit test program(s) failed"; exit 1; }
