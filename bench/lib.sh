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
