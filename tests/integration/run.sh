#!/bin/bash
# run.sh - the integration tests: each tests/integration/test_*.sh, then each
# compiled tests/integration/test_* program (given POSTINO_TEST_DB, a private
# cluster of their own). All against real servers started here, on loopback.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
failed=0
for t in tests/integration/test_*.sh; do
    [ -e "$t" ] || continue
    bash "$t" || failed=$((failed + 1))
done
progs=$(find build/tests/integration -maxdepth 1 -type f -perm -u+x -name 'test_*' 2>/dev/null | sort)
if [ -n "$progs" ]; then
    work="$ROOT/build/itest/cprogs"
    rm -rf "$work" && mkdir -p "$work" && chmod 755 "$ROOT/build/itest" "$work"
    (cd "$work" && "$ROOT/build/postino" db init >/dev/null 2>&1) || failed=$((failed + 1))
    export POSTINO_TEST_DB="host=$work/var/pg/run dbname=postino user=postino"
    for p in $progs; do
        if (cd "$work" && "$ROOT/$p") >"$ROOT/$p.log" 2>&1; then
            echo "ok    $p ($(grep -c '^\[       OK \]' "$ROOT/$p.log") cases)"
        else
            cat "$ROOT/$p.log"
            echo "FAIL: $p"
            failed=$((failed + 1))
        fi
    done
    (cd "$work" && "$ROOT/build/postino" db stop >/dev/null 2>&1)
fi
[ "$failed" -eq 0 ] || { echo "$failed integration test file(s) failed"; exit 1; }
