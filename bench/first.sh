#!/bin/bash
# first.sh - time from `campaign send` to the first message accepted by the
# sink, on an audience of N subscribers (default 1,000,000), with a sender
# already running: the audience made in chunks ([send] audience_chunk, the
# default 10,000 subscriber ids; sql/037_chunked_start.sql), against the
# time the same start takes with the whole audience made in one statement
# first (audience_chunk = 0, how every campaign started before), in one run.
#
# In a private cluster under build/bench/first: N subscribers from
# bench/gen_subscribers.c on the list 'bench', a bare smtp-sink on loopback
# that writes each message to a file. For the whole list, then for the
# segment attribs.plan = "pro" (a fifth of it):
#   chunked  a sender runs (`postino send`); `campaign send` starts; the clock
#            stops when the sink's first file appears. `campaign send` goes on
#            making the rest while the sender sends: the time it returns (the
#            audience whole) is printed too. The sender is then stopped.
#   whole    no sender: `campaign send` with audience_chunk = 0, the reference
# Between runs the deliveries are emptied, VACUUM ANALYZE and CHECKPOINT.
# It also prints the plan of one chunk of the segment at N (EXPLAIN) and
# fails if it reads subscribers or subscriptions whole.
# Prints
#   first list: first message 0.61 s after campaign send (audience whole after 41.2 s, chunks of 10000 ids); whole audience first (1000000): 28.8 s; ratio 0.02 (goal: first <= 2 s)
set -eu
N=${N:-1000000}
PORT=${PORT:-15045}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${POSTINO_BIN:-$ROOT/build/postino}
WORK="$ROOT/build/bench/first"
[ -x "$BIN" ] || { echo "bench/first: build postino first (make postino)"; exit 1; }
PSQL=$(ls /usr/lib/postgresql/*/bin/psql | tail -1)
[ -d "$WORK/var/pg/data" ] && (cd "$WORK" && "$BIN" db stop >/dev/null 2>&1 || true)
sh "$ROOT/scripts/postfix.sh" stop "$WORK/mta" >/dev/null 2>&1 || true
rm -rf "$WORK"
mkdir -p "$WORK"
chmod 755 "$ROOT/build" "$ROOT/build/bench" "$WORK"
cd "$WORK"
unset POSTINO_DB POSTINO_CONFIG POSTINO_SEND_AUDIENCE_CHUNK
SENDER=
trap '[ -n "$SENDER" ] && kill "$SENDER" 2>/dev/null; sh "$ROOT/scripts/postfix.sh" stop "$WORK/mta" >/dev/null 2>&1; "$BIN" db stop >/dev/null 2>&1 || true' EXIT
q() { "$PSQL" -X -q -A -t -h "$WORK/var/pg/run" -U postino -d postino -c "$1"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

cc -O2 -o gen "$ROOT/bench/gen_subscribers.c"
./gen "$N" .
"$BIN" db init >/dev/null
"$BIN" list create bench >/dev/null
"$PSQL" -X -q -h "$WORK/var/pg/run" -U postino -d postino -c "\\copy subscribers (email, name, attribs) FROM 'subscribers.tsv'"
q "INSERT INTO subscriptions (subscriber_id, list_id, status) SELECT id, 1, 'confirmed' FROM subscribers" >/dev/null
sh "$ROOT/scripts/postfix.sh" sink "$WORK/mta" "$PORT" --dump >/dev/null
"$BIN" dkim add example.com --selector bench >/dev/null
"$BIN" relay add sink --host 127.0.0.1 --port "$PORT" --tls none --max-conns 4 --max-per-conn 1000 >/dev/null
printf '<p>Hello {{ name }} in {{ attribs.city }}</p>\n' > body.html
SEG='attribs.plan = "pro"'

quiet() {
    q "SET client_min_messages = warning; TRUNCATE deliveries CASCADE" >/dev/null
    q "UPDATE campaigns SET status = 'cancelled', audience_pending = false WHERE status IN ('running', 'paused')" >/dev/null
    rm -f "$WORK"/mta/sink/*
    q "VACUUM ANALYZE" >/dev/null
    q "CHECKPOINT" >/dev/null
}
create() {   # create NAME EXTRA...: a draft to bench, its id
    "$BIN" campaign create --name "$1" --subject 'News for {{ name }}' --from 'News <news@example.com>' --list bench \
        --html body.html --json "${@:2}" | sed -n 's/^  "id": \([0-9]*\),$/\1/p'
}
first_file() { [ -n "$(ls "$WORK/mta/sink" 2>/dev/null | head -1)" ]; }

# chunked KIND EXTRA...: sets FIRST (s to the first message) and WHOLE (s until campaign send returned)
chunked() {
    local id t0 t1 t2 pid
    quiet
    id=$(create "chunked-$1" "${@:2}")
    "$BIN" send --name bench > "sender-$1.log" 2>&1 &
    SENDER=$!
    until grep -qs "sending through 1 relay" "sender-$1.log"; do sleep 0.05; done
    t0=$(now)
    "$BIN" campaign send "$id" > "send-$1.out" &
    pid=$!
    until first_file; do sleep 0.01; done
    t1=$(now)
    kill "$SENDER"
    wait "$SENDER" || true
    SENDER=
    wait "$pid"
    t2=$(now)
    [ "$(q "SELECT audience_pending FROM campaigns WHERE id = $id")" = f ] || { echo "bench/first: audience not whole"; exit 1; }
    MADE=$(q "SELECT n_total FROM campaigns WHERE id = $id")
    FIRST=$(secs "$t0" "$t1") WHOLE=$(secs "$t0" "$t2")
}
# whole KIND EXTRA...: sets REF (s for campaign send with the whole audience in one statement)
whole() {
    local id t0 t1
    quiet
    id=$(create "whole-$1" "${@:2}")
    t0=$(now)
    POSTINO_SEND_AUDIENCE_CHUNK=0 "$BIN" campaign send "$id" >/dev/null
    t1=$(now)
    [ "$(q "SELECT n_total FROM campaigns WHERE id = $id")" = "$MADE" ] || { echo "bench/first: the audiences differ"; exit 1; }
    REF=$(secs "$t0" "$t1")
}

for kind in list segment; do
    if [ "$kind" = list ]; then chunked list; whole list; else chunked segment --filter "$SEG"; whole segment --filter "$SEG"; fi
    echo "first $kind: first message $FIRST s after campaign send (audience of $MADE whole after $WHOLE s, first chunk 1000 ids, then 10000, sending meanwhile); whole audience in one statement first: $REF s; ratio $(awk -v a="$FIRST" -v b="$REF" 'BEGIN { printf "%.3f", a / b }') (goal: first <= 2 s)"
done

# the plan of one chunk of the segment, from the middle of the audience
id=$(q "SELECT max(id) FROM campaigns WHERE name = 'chunked-segment'")
sql=$(q "SELECT audience_select(audience_sql, 'subscribers', 'subscriptions',
           'sl.subscriber_id BETWEEN \$4 AND \$5 AND s.id BETWEEN \$4 AND \$5') FROM campaigns WHERE id = $id")
lo=$((N / 2))
params=$(q "SELECT audience_params FROM campaigns WHERE id = $id")
lists=$(q "SELECT audience_lists FROM campaigns WHERE id = $id")
plan=$(q "PREPARE chunk (bigint, text[], bigint[], bigint, bigint) AS $sql;
          EXPLAIN (ANALYZE, COSTS OFF) EXECUTE chunk($id, '$params', '$lists', $lo, $((lo + 9999)))")
echo "$plan" > chunk-plan.txt
ms=$(echo "$plan" | sed -n 's/^Execution Time: \([0-9.]*\) ms/\1/p')
if echo "$plan" | grep -q "Seq Scan on subscri"; then
    echo "first chunk plan: a sequential scan per chunk:"; cat chunk-plan.txt; exit 1
fi
echo "first chunk plan (segment, 10000 subscriber ids of $N): $(echo "$plan" | grep -o '\(Index\|Bitmap\)[A-Za-z_ ]* on [a-z_]*' | sort -u | paste -sd ',' | sed 's/,/, /g'); no sequential scan; $ms ms"
