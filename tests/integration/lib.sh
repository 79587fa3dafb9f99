# lib.sh - helpers for the integration tests (sourced by tests/integration/test_*.sh).
#
# Each test file runs in its own directory under build/itest/, so it has its
# own private PostgreSQL cluster (./var/pg), stopped when the file ends.
#   postino ARGS...          run the binary; sets $rc, $out (stdout), $err (stderr)
#   expect_rc N              the last run exited N
#   expect_out TEXT          stdout contains TEXT (fixed string)
#   expect_err TEXT          stderr contains TEXT
#   expect_out_eq TEXT       stdout is exactly TEXT
#   expect_err_lines N       stderr has exactly N lines
#   psql_q SQL               run SQL in the private database, print the unaligned result
#   check NAME               start a named check (printed on failure)
#   wait_for DESC SECONDS CMD...   poll CMD until it succeeds, for at most SECONDS
#                            times POSTINO_TEST_PATIENCE (3) on the clock: a busy
#                            machine gets a longer deadline, never a different result
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${POSTINO_TEST_BIN:-$ROOT/build/postino}   # POSTINO_TEST_BIN: another build (e.g. under TSan)
TEST_NAME=$(basename "$0" .sh)
WORK="$ROOT/build/itest/$TEST_NAME"
# a cluster left running by an interrupted run would outlive its deleted files
[ -d "$WORK/var/pg/data" ] && (cd "$WORK" && "$BIN" db stop >/dev/null 2>&1)
rm -rf "$WORK"
mkdir -p "$WORK"
chmod 755 "$ROOT/build" "$ROOT/build/itest" "$WORK"
cd "$WORK"
unset POSTINO_DB POSTINO_CONFIG
FAILS=0
CHECKS=0
CURRENT=""

cleanup() {
    if [ -d "$WORK/var/pg/data" ]; then
        "$BIN" db stop >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

check() {
    [ -n "$CURRENT" ] && echo "$((SECONDS - CHECK_START))s  $CURRENT" >> "$WORK/checks.log"
    CURRENT="$*"
    CHECKS=$((CHECKS + 1))
    CHECK_START=$SECONDS
}
CHECK_START=$SECONDS
fail() {
    echo "FAIL [$TEST_NAME] $CURRENT: $*"
    echo "  stdout: $(printf '%s' "${out:-}" | head -c 600)"
    echo "  stderr: $(printf '%s' "${err:-}" | head -c 600)"
    FAILS=$((FAILS + 1))
}
postino() {
    local o e
    o=$(mktemp) e=$(mktemp)
    "$BIN" "$@" >"$o" 2>"$e" </dev/null
    rc=$?
    out=$(cat "$o") err=$(cat "$e")
    rm -f "$o" "$e"
}
postino_in() {   # postino_in FILE ARGS...: stdin from FILE
    local in=$1 o e
    shift
    o=$(mktemp) e=$(mktemp)
    "$BIN" "$@" >"$o" 2>"$e" <"$in"
    rc=$?
    out=$(cat "$o") err=$(cat "$e")
    rm -f "$o" "$e"
}
wait_for() {
    local desc=$1 secs=$2 end
    shift 2
    end=$((SECONDS + secs * ${POSTINO_TEST_PATIENCE:-3}))
    while :; do
        "$@" && return 0
        [ "$SECONDS" -ge "$end" ] && break
        sleep 0.2
    done
    fail "timed out after $((secs * ${POSTINO_TEST_PATIENCE:-3}))s waiting for: $desc"
    return 1
}
expect_rc() { [ "$rc" -eq "$1" ] || fail "exit status $rc, expected $1"; }
expect_out() { case "$out" in *"$1"*) ;; *) fail "stdout lacks: $1" ;; esac; }
expect_no_out() { case "$out" in *"$1"*) fail "stdout has: $1" ;; esac; }
expect_err() { case "$err" in *"$1"*) ;; *) fail "stderr lacks: $1" ;; esac; }
expect_no_err() { case "$err" in *"$1"*) fail "stderr has: $1" ;; esac; }
expect_out_eq() { [ "$out" = "$1" ] || fail "stdout is not exactly: $1"; }
expect_err_lines() {
    local n
    n=$(printf '%s\n' "$err" | grep -c .)
    [ "$n" -eq "$1" ] || fail "stderr has $n lines, expected $1"
}
psql_q() {
    /usr/lib/postgresql/*/bin/psql -X -q -A -t -h "$WORK/var/pg/run" -U postino -d postino -c "$1" 2>&1 | head -c 100000
}
export WORK
export -f psql_q
jq_get() {   # jq_get JSON PYEXPR: evaluate a Python expression on the parsed JSON (as j)
    /usr/bin/python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}
finish() {
    [ -n "$CURRENT" ] && echo "$((SECONDS - CHECK_START))s  $CURRENT" >> "$WORK/checks.log"
    if [ "$FAILS" -gt 0 ]; then
        echo "FAIL  $TEST_NAME: $FAILS of $CHECKS checks failed"
        exit 1
    fi
    echo "ok    $TEST_NAME ($CHECKS checks)"
}
