# lib.sh - helpers the benchmarks share (sourced, not run).

# pg_ticks DATADIR - CPU ticks PostgreSQL has used so far: the postmaster's
# own and its reaped children's (backends that ended), plus the processes
# still running under it.
pg_ticks() {
    local pm
    pm=$(head -1 "$1/postmaster.pid")
    { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat"
      for c in $(pgrep -P "$pm"); do awk '{ print $14 + $15 }' "/proc/$c/stat" 2>/dev/null; done; } |
        awk '{ n += $1 } END { print n }'
}

# pg_idle DATADIR - wait (60 s at most) until no client backend of the
# cluster is left, so that what they used is in pg_ticks' count
pg_idle() {
    local pm i
    pm=$(head -1 "$1/postmaster.pid")
    for i in $(seq 600); do
        pgrep -P "$pm" -f 'postgres: [^ ]+ [^ ]+ \[local\]' >/dev/null || return 0
        sleep 0.1
    done
}

# bench_dir NAME - a fresh work directory build/bench/NAME ($W), made the
# current one, with the private PostgreSQL and Postfix an earlier run left
# there stopped; both are stopped again when the script ends. Needs $ROOT and
# $P (the postino binary).
bench_dir() {
    W="$ROOT/build/bench/$1"
    [ -d "$W/var/pg/data" ] && (cd "$W" && "$P" db stop >/dev/null 2>&1 || true)
    sh "$ROOT/scripts/postfix.sh" stop "$W/mta" >/dev/null 2>&1 || true
    rm -rf "$W"
    mkdir -p "$W"
    chmod 755 "$ROOT/build" "$ROOT/build/bench" "$W"
    cd "$W"
    trap 'sh "$ROOT/scripts/postfix.sh" stop "$W/mta" >/dev/null 2>&1; "$P" db stop >/dev/null 2>&1' EXIT
    unset POSTINO_DB POSTINO_CONFIG
}
