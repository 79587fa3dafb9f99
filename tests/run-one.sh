#!/bin/bash
# run-one.sh TEST - run one test, as make check runs it (make test T=TEST
# [CASE=NAME] builds it first): a unit program, a compiled integration program
# (given a private cluster of its own, as run.sh does), or an integration
# script. POSTINO_TEST_CASE picks the cmocka cases of a program.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
t=${1:?usage: run-one.sh tests/unit/DIR/test_NAME[.c] | tests/integration/test_NAME.sh}
case "$t" in
*.sh)
    exec bash "$t"
    ;;
tests/unit/*)
    exec "build/${t%.c}"
    ;;
tests/integration/*)
    prog="$ROOT/build/${t%.c}"
    work="$ROOT/build/itest/one"
    rm -rf "$work" && mkdir -p "$work" && chmod 755 "$ROOT/build" "$ROOT/build/itest" "$work"
    (cd "$work" && "$ROOT/build/postino" db init >/dev/null) || { echo "run-one: cannot start a cluster" >&2; exit 1; }
    export POSTINO_TEST_DB="host=$work/var/pg/run dbname=postino user=postino"
    (cd "$work" && "$prog")
    rc=$?
    (cd "$work" && "$ROOT/build/postino" db stop >/dev/null 2>&1)
    exit $rc
    ;;
*)
    echo "run-one: '$t' is not a test under tests/unit or tests/integration" >&2
    exit 2
    ;;
esac
