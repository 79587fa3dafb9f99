#!/bin/bash
# ledger.sh - the delivery ledger's cost per message, small and large.
#
# bench_ledger (bench/bench_ledger.c) claims and records deliveries with the
# sender's own prepared statements (ledger_claim_sql, ledger_record_sql; claims
# of 1000, records of 300, every result "sent"), with no rendering and no
# network, from 1, 2 and 4 processes, each on its own connection. It runs
# on two private PostgreSQL clusters, one after the other:
#   small: Q_SMALL (default 1,000,000) queued deliveries and no history;
#   large: H (default 20,000,000) sent deliveries of finished campaigns, then
#          Q_LARGE (default 10,000,000) queued in running campaigns.
# With REUSE=1 the large cluster of an earlier run is kept: migrated to the
# current schema (`postino db migrate`), topped up to Q_LARGE queued.
# Each run records RUN (default 100,000) deliveries; before each, VACUUM and
# CHECKPOINT do what autovacuum would do during it. It prints deliveries/s and
# PostgreSQL's CPU per delivery (the server's processes, from /proc), the
# large/small ratio of that CPU (goal <= 1.25) and whether 4 claimers reach
# 20,000 deliveries/s.
#
# The reference, in this same script and server: pgbench, with as many
# clients, on a table of Q_SMALL rows with a primary key, each transaction
# pair updating 1000 rows by primary-key range with RETURNING (a "claim"
# setting a lease) and then the same rows again (a "record" clearing it).
# Subscribers: SUBS (default 1,000,000), every campaign goes to all of them.
# A full run (defaults) builds 31,000,000 rows, ~25 GB of disk, and takes about
# an hour on 2 cores; Q_SMALL=100000 Q_LARGE=1000000 H=2000000 SUBS=100000
# RUN=20000 takes a few minutes.
#
# With LEASES_ONLY=1 it prints only the give-back and renewal lines.
# LEDGER_DIR: where the clusters live (default build/bench/ledger).
# With ARCHIVE=1 the large run first moves the finished campaigns' deliveries
# to the archive (postino campaign archive, one by one) and says how long that
# took: the hot table then holds what is queued, the archive the history.
#
# With MEM=1 it also runs one `postino send` against the large ledger, its
# relay a sink that accepts everything, for MEM_S seconds (default 120), and
# prints the sender's peak RSS.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
Q_SMALL=${Q_SMALL:-1000000}
Q_LARGE=${Q_LARGE:-10000000}
H=${H:-20000000}
SUBS=${SUBS:-1000000}
RUN=${RUN:-100000}
MEM=${MEM:-0}
ARCHIVE=${ARCHIVE:-0}
LEASES_ONLY=${LEASES_ONLY:-0}
MEM_S=${MEM_S:-120}
CLAIMERS=${CLAIMERS:-1 2 4}
W=${LEDGER_DIR:-$ROOT/build/bench/ledger}
P="$ROOT/build/postino"
B="$ROOT/build/bench/bench_ledger"
PGBIN=$(echo /usr/lib/postgresql/*/bin)
REUSE=${REUSE:-0}
make -C "$ROOT" --no-print-directory postino "build/bench/bench_ledger" >/dev/null
for d in small large; do
    [ -d "$W/$d/var/pg/data" ] && (cd "$W/$d" && "$P" db stop >/dev/null 2>&1 || true)
done
rm -rf "$W/small"
[ "$REUSE" = 1 ] || rm -rf "$W/large"
mkdir -p "$W/small" "$W/large"
trap '"$P" db stop >/dev/null 2>&1' EXIT
unset POSTINO_DB
. "$ROOT/bench/lib.sh"
psql_q() { "$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
now() { date +%s.%N; }
hz=$(getconf CLK_TCK)
started=$(now)

# use small|large - work in that cluster (made with SUBS subscribers on one list if new)
use() {
    [ -d "$W/${cur:-none}/var/pg/data" ] && "$P" db stop >/dev/null 2>&1
    cur=$1
    cd "$W/$1"
    DB="host=$W/$1/var/pg/run user=postino dbname=postino"
    if [ -d var/pg/data ]; then
        "$P" db start >/dev/null 2>&1
        "$P" db migrate >/dev/null
        return 1
    fi
    "$P" db init >/dev/null 2>&1
    "$P" list create bench >/dev/null
    psql_q "WITH s AS (INSERT INTO subscribers (email, name, attribs)
              SELECT 'user' || i || '@example.org', 'User ' || i, jsonb_build_object('city', 'Roma')
              FROM generate_series(1, $SUBS) i RETURNING id)
            INSERT INTO subscriptions (subscriber_id, list_id, status) SELECT s.id, 1, 'confirmed' FROM s" >/dev/null
    echo '<p>Hello {{ name }}</p>' > body.html
}

# add_campaigns STATUS ROWS - campaigns of up to SUBS deliveries each, ROWS in
# all: finished ones with every delivery sent a month ago, or running ones
# with every delivery queued
add_campaigns() {
    local left=$2 n id
    while [ "$left" -gt 0 ]; do
        n=$((left < SUBS ? left : SUBS))
        id=$("$P" campaign create --name "Bench $1" --subject News --from 'News <news@example.com>' --list bench \
            --html body.html --json 2>/dev/null | sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | head -1)
        if [ "$1" = finished ]; then
            psql_q "INSERT INTO deliveries (campaign_id, subscriber_id, list_id, state, attempts, next_attempt_at,
                      created_at, updated_at, sent_at, smtp_code, smtp_enhanced, smtp_reply, queue_id, relay)
                    SELECT $id, i, 1, 'sent', 1, t, t, t, t, 250, '2.0.0', 'Ok: queued as 4Q' || to_hex(i),
                      '4Q' || to_hex(i), 'bench'
                    FROM generate_series(1, $n) i, (SELECT now() - interval '30 days' AS t) x;
                    UPDATE campaigns SET status = 'finished', started_at = now() - interval '30 days',
                      finished_at = now() - interval '30 days', n_total = $n, n_sent = $n WHERE id = $id"
        else
            psql_q "INSERT INTO deliveries (campaign_id, subscriber_id, list_id)
                      SELECT $id, i, 1 FROM generate_series(1, $n) i;
                    UPDATE campaigns SET status = 'running', started_at = now(), n_total = $n, n_queued = $n
                      WHERE id = $id"
        fi
        left=$((left - n))
    done
}

quiet() {
    psql_q "VACUUM ANALYZE" >/dev/null
    psql_q "CHECKPOINT" >/dev/null
}

# measure LABEL K - RUN deliveries claimed and recorded by K claimers
measure() {
    local g0 g1 out n secs
    quiet
    g0=$(pg_ticks "$W/$cur/var/pg/data")
    out=$("$B" "$DB" "$2" "$RUN")
    pg_idle "$W/$cur/var/pg/data"
    g1=$(pg_ticks "$W/$cur/var/pg/data")
    n=$(echo "$out" | awk '{ print $2 }')
    secs=$(echo "$out" | awk '{ print $4 }')
    [ "$n" = "$RUN" ] || { echo "bench ledger: only $n of $RUN recorded"; exit 1; }
    rate[$1$2]=$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
    us[$1$2]=$(awk -v k="$((g1 - g0))" -v hz="$hz" -v n="$n" 'BEGIN { printf "%.1f", k / hz / n * 1e6 }')
}

# timed SQL - run SQL once; its result, then the server's time in ms
timed() {
    "$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$DB" -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p; /^[0-9]/p'
}

# giveback LABEL - a sender that claimed 1000 deliveries is gone: what the
# heartbeat of another (sender_beat) takes to give them back, and what the
# statement of sql/034 (every due row read) takes for the same; and what a
# lease renewal takes (ledger_renew_sql), against the statement it was before
# sql/039 (every due row read)
giveback() {
    local r n ms ref
    "$B" "$DB" 1 1000 1000 0 >/dev/null
    pg_idle "$W/$cur/var/pg/data"
    psql_q "INSERT INTO senders (name, host, pid, status) VALUES ('bench-1', 'bench', 1, 'gone')"
    r=$(timed "SELECT sender_beat('bench-beat', 'bench', 2, 'idle')")
    n=$(echo "$r" | head -1) ms=$(echo "$r" | tail -1)
    psql_q "DELETE FROM senders"
    "$B" "$DB" 1 1000 1000 0 >/dev/null
    r=$(timed "UPDATE deliveries SET lease_until = now() + make_interval(secs => 300)
               WHERE id IN (SELECT sender_leases('bench-1')) AND lease_owner = 'bench-1' AND state IN ('queued', 'deferred')
               RETURNING 1" | grep -c '^1$' || true)
    renew=$(timed "UPDATE deliveries SET lease_until = now() + make_interval(secs => 300)
                   WHERE id IN (SELECT sender_leases('bench-1')) AND lease_owner = 'bench-1' AND state IN ('queued', 'deferred')" | tail -1)
    oldrenew=$(timed "UPDATE deliveries SET lease_until = now() + make_interval(secs => 300)
                      WHERE lease_owner = 'bench-1' AND state IN ('queued', 'deferred')" | tail -1)
    ref=$(timed "UPDATE deliveries SET lease_owner = NULL, lease_until = NULL
                 WHERE lease_owner = 'bench-1' AND state IN ('queued', 'deferred')" | tail -1)
    echo "ledger give-back $1 ($(psql_q "SELECT sum(n_queued) FROM campaigns") queued): sender_beat gave back a gone sender's $n leases in $ms ms; sql/034's statement took $ref ms"
    echo "ledger renew $1: a sender's lease renewal (ledger_renew_sql, every lease/3 s) renewed $r leases in $renew ms; reading every due row (before sql/039) took $oldrenew ms"
}

declare -A rate us
t=$(now)
use small
add_campaigns running "$Q_SMALL"
quiet
printf 'ledger setup small: %d subscribers, %d queued in %.0f s\n' "$SUBS" "$Q_SMALL" "$(awk -v a="$t" -v b="$(now)" 'BEGIN { print b - a }')"
[ "$LEASES_ONLY" = 1 ] && CLAIMERS=""
for k in $CLAIMERS; do
    measure small "$k"
    echo "ledger small ($Q_SMALL queued, no history), $k claimers: ${rate[small$k]} deliveries/s, PostgreSQL ${us[small$k]} us/delivery"
done

giveback small

# the reference: pgbench on a table of Q_SMALL rows
psql_q "CREATE TABLE ref (id bigint PRIMARY KEY, state text NOT NULL DEFAULT 'queued', lease_owner text,
          lease_until timestamptz, n int NOT NULL DEFAULT 0, updated_at timestamptz NOT NULL DEFAULT now());
        INSERT INTO ref (id) SELECT generate_series(1, $Q_SMALL)"
cat > ref.sql <<'EOF'
\set b random(0, :nb - 1)
UPDATE ref SET lease_owner = 'bench', lease_until = now() + interval '300 s', updated_at = now() WHERE id > :b * 1000 AND id <= :b * 1000 + 1000 RETURNING id, state;
UPDATE ref SET state = 'sent', n = n + 1, lease_owner = NULL, lease_until = NULL, updated_at = now() WHERE id > :b * 1000 AND id <= :b * 1000 + 1000 RETURNING id;
EOF
for k in $CLAIMERS; do
    quiet
    g0=$(pg_ticks "$W/$cur/var/pg/data")
    t0=$(now)
    "$PGBIN/pgbench" -n -f ref.sql -D nb=$((Q_SMALL / 1000)) -c "$k" -t $((RUN / 1000 / k)) "$DB" >pgbench.log 2>&1 ||
        { cat pgbench.log; exit 1; }
    t1=$(now)
    pg_idle "$W/$cur/var/pg/data"
    g1=$(pg_ticks "$W/$cur/var/pg/data")
    n=$((RUN / 1000 / k * k * 1000))
    rate[ref$k]=$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
    us[ref$k]=$(awk -v k="$((g1 - g0))" -v hz="$hz" -v n="$n" 'BEGIN { printf "%.1f", k / hz / n * 1e6 }')
    echo "ledger reference pgbench (1000-row UPDATE ... RETURNING by primary key, then again), $k clients: ${rate[ref$k]} rows/s, PostgreSQL ${us[ref$k]} us/row"
    awk -v a="${rate[small$k]}" -v b="${rate[ref$k]}" -v c="${us[small$k]}" -v d="${us[ref$k]}" -v k="$k" \
        'BEGIN { printf "ledger ratio postino/pgbench, %d claimers: rate %.2f, PostgreSQL CPU per row %.2f\n", k, a / b, c / d }'
done
psql_q "DROP TABLE ref"

t=$(now)
use large && add_campaigns finished "$H"
add_campaigns running $((Q_LARGE - $(psql_q "SELECT coalesce(sum(n_queued), 0) FROM campaigns")))
quiet
printf 'ledger setup large: %s history, %d queued in %.0f s; deliveries table %s\n' "$(psql_q "SELECT sum(n_sent) FROM campaigns WHERE status = 'finished'")" "$(psql_q "SELECT sum(n_queued) FROM campaigns")" \
    "$(awk -v a="$t" -v b="$(now)" 'BEGIN { print b - a }')" "$(psql_q "SELECT pg_size_pretty(pg_total_relation_size('deliveries'))")"
hist="$H history"
if [ "$ARCHIVE" = 1 ]; then
    t=$(now)
    for id in $(psql_q "SELECT id FROM campaigns WHERE status = 'finished' AND archived_at IS NULL ORDER BY id"); do
        "$P" campaign archive "$id" >/dev/null
    done
    quiet
    printf 'ledger archive: %s deliveries of finished campaigns moved to the archive in %.0f s (with VACUUM ANALYZE)\n' \
        "$(psql_q "SELECT count(*) FROM deliveries_archive")" "$(awk -v a="$t" -v b="$(now)" 'BEGIN { print b - a }')"
    hist="$H history archived"
fi
for k in $CLAIMERS; do
    measure large "$k"
    echo "ledger large ($Q_LARGE queued, $hist), $k claimers: ${rate[large$k]} deliveries/s, PostgreSQL ${us[large$k]} us/delivery"
    awk -v a="${us[large$k]}" -v b="${us[small$k]}" -v k="$k" \
        'BEGIN { printf "ledger growth large/small, %d claimers: PostgreSQL CPU per delivery x%.2f (goal <= 1.25)\n", k, a / b }'
done
giveback large
for s in small large; do
    [ -z "${rate[${s}4]:-}" ] ||
        awk -v r="${rate[${s}4]}" -v s="$s" 'BEGIN { printf "ledger %s, 4 claimers: %d deliveries/s (goal >= 20000: %s)\n", s, r, (r >= 20000 ? "met" : "not met") }'
done

if [ "$MEM" = 1 ]; then
    PORT=${PORT:-15026}
    sh "$ROOT/scripts/postfix.sh" sink "$W/mta" "$PORT" >/dev/null
    trap 'sh "$ROOT/scripts/postfix.sh" stop "$W/mta" >/dev/null 2>&1; "$P" db stop >/dev/null 2>&1' EXIT
    "$P" dkim add example.com --selector bench >/dev/null
    "$P" relay add sink --host 127.0.0.1 --port "$PORT" --tls none --max-conns 8 --max-per-conn 1000 >/dev/null
    /usr/bin/time -f '%M' -o rss.txt timeout -s INT "$MEM_S" "$P" send >send.log 2>&1 || true
    echo "ledger send: one sender for $MEM_S s on $(psql_q "SELECT sum(n_queued) + sum(n_sent) FROM campaigns WHERE status = 'running'") queued: $(psql_q "SELECT sum(n_sent) FROM campaigns WHERE status = 'running'") sent, peak RSS $(( $(tail -1 rss.txt) / 1024 )) MB (goal <= 64 MB)"
fi
printf 'ledger total time: %.0f s\n' "$(awk -v a="$started" -v b="$(now)" 'BEGIN { print b - a }')"
