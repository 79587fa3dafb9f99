#!/bin/bash
# run.sh - every benchmark in bench/ (each prints its own ratio lines).
set -u
cd "$(dirname "$0")"
rc=0
for b in *.sh; do
    [ "$b" = run.sh ] || [ "$b" = lib.sh ] && continue
    echo "== bench/$b"
    bash "$b" || rc=1
done
exit $rc
