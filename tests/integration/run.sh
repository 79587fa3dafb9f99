#!/bin/bash
# run.sh - the integration tests: each tests/integration/test_*.sh, then each
# compiled tests/integration/test_* program (given POSTINO_TEST_DB, a private
# cluster of their own). All against real servers started here, on loopback.
#
# The test files run POSTINO_TEST_JOBS at a time (default: one per core, at
# most 2), each in a network namespace of its own made here, so that the fixed
# loopback ports of one (Postfix, the sink, the API) never meet another's.
# That needs root and `ip netns`; without them they run one at a time, here.
# The tests that install into the system (SERIAL) never run at the same time
# as each other: they are one job, started first. Each file's output is printed whole when it ends, with its time; the
# slowest are listed last (build/itest/times). ITESTS="test_a test_b" runs
# only those files (and no compiled test program).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
SERIAL="test_install_root test_deb"
OUT="$ROOT/build/itest/out"
rm -rf "$OUT" && mkdir -p "$OUT" && chmod 755 "$ROOT/build" "$ROOT/build/itest"
: >"$ROOT/build/itest/times"

jobs=${POSTINO_TEST_JOBS:-}
if [ -z "$jobs" ]; then
    jobs=$(nproc 2>/dev/null || echo 1)
    [ "$jobs" -gt 2 ] && jobs=2
fi
probe="pit$$probe"
if [ "$jobs" -gt 1 ] && ! { [ "$(id -u)" = 0 ] && ip netns add "$probe" 2>/dev/null; }; then
    jobs=1
fi
ip netns del "$probe" 2>/dev/null

# one_test FILE NS: run test FILE (in network namespace NS when not empty);
# its output in $OUT/NAME.log, its exit status in $OUT/NAME.rc
one_test() {
    local t=$1 ns=$2 name start rc
    name=$(basename "$t" .sh)
    start=$SECONDS
    if [ -n "$ns" ]; then
        ip netns add "$ns" && ip netns exec "$ns" ip link set lo up &&
            ip netns exec "$ns" bash "$t" >"$OUT/$name.log" 2>&1
        rc=$?
        ip netns del "$ns" 2>/dev/null
    else
        bash "$t" >"$OUT/$name.log" 2>&1
        rc=$?
    fi
    echo "$((SECONDS - start))s $name" >>"$ROOT/build/itest/times"
    echo "$rc" >"$OUT/$name.rc"
}

failed=0
# report NAME: print a finished test's output; count it when it failed
report() {
    cat "$OUT/$1.log"
    [ "$(cat "$OUT/$1.rc")" = 0 ] || failed=$((failed + 1))
}

parallel=() serial=()
for t in tests/integration/test_*.sh; do
    [ -e "$t" ] || continue
    [ -n "${ITESTS:-}" ] && case " $ITESTS " in *" $(basename "$t" .sh) "*) ;; *) continue ;; esac
    case " $SERIAL " in
    *" $(basename "$t" .sh) "*) serial+=("$t") ;;
    *) parallel+=("$t") ;;
    esac
done

if [ "$jobs" -gt 1 ]; then
    # a job is a list of test names run one after another; it has ended when
    # its last test's .rc is written. The SERIAL tests are one job, started first.
    running=()
    reap() {
        local j n left=()
        for j in "${running[@]}"; do
            if [ -e "$OUT/${j##* }.rc" ]; then
                for n in $j; do report "$n"; done
            else
                left+=("$j")
            fi
        done
        running=("${left[@]}")
    }
    i=0
    # start FILE...: one job running those test files in turn, each in a namespace of its own
    start() {
        local t names=""
        for t; do names="$names $(basename "$t" .sh)"; done
        while reap && [ "${#running[@]}" -ge "$jobs" ]; do sleep 0.5; done
        i=$((i + 1))
        (k=0; for t; do k=$((k + 1)); one_test "$t" "pit$$n${i}x$k"; done) &
        running+=("${names# }")
    }
    [ "${#serial[@]}" -gt 0 ] && start "${serial[@]}"
    for t in "${parallel[@]}"; do start "$t"; done
    wait
    reap
    serial=()
else
    serial=("${parallel[@]}" "${serial[@]}")
fi
for t in "${serial[@]}"; do
    one_test "$t" ""
    report "$(basename "$t" .sh)"
done

progs=
[ -z "${ITESTS:-}" ] && progs=$(find build/tests/integration -maxdepth 1 -type f -perm -u+x -name 'test_*' 2>/dev/null | sort)
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
echo "slowest test files ($jobs at a time):"
sort -rn "$ROOT/build/itest/times" | head -8 | sed 's/^/    /'
[ "$failed" -eq 0 ] || { echo "$failed integration test file(s) failed"; exit 1; }
