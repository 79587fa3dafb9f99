#!/bin/bash
# stop.sh - stop what `make demo` started in this folder: postino serve,
# the private PostgreSQL cluster in ./var/pg and the private Postfix
# submission server with its smtp-sink in ./var/mta. Their data stay; `make demo` starts them
# again. Quiet success when nothing runs.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
rc=0
if [ -f var/serve.pid ]; then
    pid=$(cat var/serve.pid)
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            echo "stop: postino serve (pid $pid) did not stop" >&2
            rc=1
        else
            echo "stopped postino serve (the web admin and the API)"
        fi
    fi
    [ "$rc" = 0 ] && rm -f var/serve.pid
fi
if [ -f var/mta/main.cf ]; then
    if sh scripts/postfix.sh stop var/mta; then
        echo "stopped the private Postfix and its smtp-sink (var/mta)"
    else
        rc=1
    fi
fi
if [ -d var/pg ]; then
    if [ -x build/postino ]; then
        build/postino db stop || rc=1
    else
        echo "stop: build/postino is not built; stop the cluster with pg_ctl -D var/pg/data stop" >&2
        rc=1
    fi
fi
exit $rc
