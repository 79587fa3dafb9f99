#!/bin/bash
# check-loaded.sh - `make check` three times in a row (RUNS, default 3) in a
# fresh clone of this repository's HEAD, while two busy loops keep both
# cores busy (as another job on a shared machine would). Prints one line per
# run and exits non-zero unless every run passed. The clone and the logs are
# kept in the folder it names, for a look at a failure.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-3}
HOGS=${HOGS:-2}
dir=$(mktemp -d /tmp/postino-loaded.XXXXXX)
chmod 755 "$dir"   # the private PostgreSQL runs as the postgres user and must reach it
git clone -q "$ROOT" "$dir/postino" || { echo "check-loaded: cannot clone $ROOT" >&2; exit 1; }
echo "check-loaded: $(git -C "$dir/postino" log -1 --format='%h %s' | cut -c1-72)"
echo "check-loaded: $RUNS runs of make check in $dir/postino with $HOGS busy loops on $(nproc) cores"

hogs=()
run=""
stop_hogs() { [ ${#hogs[@]} -gt 0 ] && kill "${hogs[@]}" 2>/dev/null; hogs=(); }
# stopped early: the running make check goes too, with every server its tests started
stop_all() {
    stop_hogs
    [ -n "$run" ] && kill -TERM -- "-$run" 2>/dev/null
    run=""
}
trap stop_all EXIT
trap 'exit 130' INT TERM
for ((h = 0; h < HOGS; h++)); do
    bash -c 'while :; do :; done' &
    hogs+=($!)
done

failed=0
for ((i = 1; i <= RUNS; i++)); do
    log="$dir/check-$i.log"
    start=$SECONDS
    # in a session of its own, so that stopping this script stops all of it
    setsid bash -c 'cd "$1" && exec make check' _ "$dir/postino" >"$log" 2>&1 </dev/null &
    run=$!
    wait "$run"
    rc=$?
    run=""
    if [ "$rc" = 0 ]; then
        echo "run $i: PASS in $((SECONDS - start)) s ($log)"
    else
        echo "run $i: FAIL (exit $rc) in $((SECONDS - start)) s ($log):"
        grep -E '^(FAIL|  stdout|  stderr)|failed$' "$log" | head -20 | sed 's/^/    /'
        failed=$((failed + 1))
    fi
done
stop_hogs
echo "check-loaded: $((RUNS - failed)) of $RUNS runs passed"
[ "$failed" = 0 ]
