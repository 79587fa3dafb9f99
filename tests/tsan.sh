#!/bin/bash
# tsan.sh - the unit tests and the integration tests that run threads, built
# with -fsanitize=thread (make tsan builds them in build/tsan first):
#   test_api_tx  serve: HTTP threads beside the sender's loop and its worker
#                threads (rendering, signing, campaign preparation), relays
#                re-read, transactional mail woken from the HTTP threads
#   test_api     serve under parallel requests, the connection pool, the
#                login cache, the database going away and coming back
#   test_send    the sender alone: worker threads, pools, pauses, quotas
# Every process writes its reports to build/tsan/reports; any report fails
# the run, and is printed. tests/tsan.supp names what is suppressed and why.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
REPORTS="$ROOT/build/tsan/reports"
rm -rf "$REPORTS"
mkdir -p "$REPORTS"
chmod 755 "$ROOT/build" "$ROOT/build/tsan"
chmod 1777 "$REPORTS"
export TSAN_OPTIONS="log_path=$REPORTS/tsan exitcode=66 second_deadlock_stack=1 suppressions=$ROOT/tests/tsan.supp"
failed=0
sh tests/run-unit.sh $(find build/tsan/tests/unit -type f -perm -u+x -name 'test_*' | sort) || failed=1
POSTINO_TEST_BIN="$ROOT/build/tsan/postino" ITESTS="${TSAN_ITESTS:-test_api_tx test_api test_send}" \
    bash tests/integration/run.sh || failed=1
n=$(find "$REPORTS" -type f | wc -l)
if [ "$n" -gt 0 ]; then
    for f in "$REPORTS"/*; do
        echo "---- $f"
        head -60 "$f"
    done
    echo "FAIL: ThreadSanitizer: $n process(es) reported (in $REPORTS)"
    failed=1
fi
[ "$failed" -eq 0 ] && echo "ok    ThreadSanitizer: no report"
exit "$failed"
