#!/bin/bash
# budget.sh - a relay's rate shared by every sender (sql/035_relay_budget.sql):
# does one sender alone still reach the rate, do two together keep to it, and
# what does the shared budget cost per message.
#
# N (default 20000) recipients of a short Ed25519-signed campaign, sent
# straight to smtp-sink on loopback, three times from the same list:
#   1. one sender, the relay without a rate: the rate this machine allows now
#      (the reference, run in this same script);
#   2. one sender, the relay limited to RATE messages/s (default: half of
#      run 1's rate, so that the machine is not what holds it back, and at
#      most N/20, so that the run lasts 20 s): the
#      ratio reached/RATE (goal >= 0.95);
#   3. two senders on the same relay and RATE: their rate together/RATE
#      (goal <= 1.00, the limit holds for the cluster).
# Then the budget's cost: relay_budget_take() called by pgbench for 5 s
# against `SELECT 1` (the reference), in microseconds per call, and per
# message at the slice a sender takes at RATE (engine/send/relays_rt.c:
# a quarter of a second's rate, 100 at most).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-20000}
P="$ROOT/build/postino"
PORT=${PORT:-15026}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
make -C "$ROOT" --no-print-directory postino >/dev/null
. "$ROOT/bench/lib.sh"
bench_dir budget
psql_q() { "$PGBIN/psql" -X -q -A -t -h "$W/var/pg/run" -U postino -d postino -c "$1"; }
now() { date +%s.%N; }

sh "$ROOT/scripts/postfix.sh" sink "$W/mta" "$PORT" >/dev/null
"$P" db init >/dev/null 2>&1
"$P" list create bench >/dev/null
psql_q "WITH s AS (INSERT INTO subscribers (email, name)
          SELECT 'user' || i || '@example.org', 'User ' || i FROM generate_series(1, $N) i RETURNING id)
        INSERT INTO subscriptions (subscriber_id, list_id, status) SELECT s.id, 1, 'confirmed' FROM s" >/dev/null
"$P" dkim add example.com --selector bench --algorithm ed25519 >/dev/null
echo '<p>Hello {{ name }}, a short note.</p>' >body.html
for i in 1 2 3; do
    "$P" campaign create --name "Budget $i" --subject 'Note' --from 'News <news@example.com>' --list bench \
        --html body.html >/dev/null
done

# relay RATE: the relay "sink", with that rate (0: none)
relay() {
    "$P" relay rm sink >/dev/null 2>&1 || true
    if [ "$1" = 0 ]; then
        "$P" relay add sink --host 127.0.0.1 --port "$PORT" --tls none --max-conns 8 --max-per-conn 1000 >/dev/null
    else
        "$P" relay add sink --host 127.0.0.1 --port "$PORT" --tls none --max-conns 8 --max-per-conn 1000 \
            --rate "$1/s" >/dev/null
    fi
}
# run ID SENDERS BURST: send campaign ID with that many senders; prints its rate
run() {
    local id=$1 k pids=()
    "$P" campaign send "$id" >/dev/null
    psql_q "VACUUM ANALYZE" >/dev/null
    for ((k = 1; k <= $2; k++)); do
        "$P" send --until-done --name "s$k" >"send-$id-$k.log" 2>&1 &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || { echo "bench budget: a sender failed" >&2; tail -5 send-"$id"-*.log >&2; exit 1; }; done
    local sent
    sent=$(psql_q "SELECT count(*) FROM deliveries WHERE campaign_id = $id AND state = 'sent'")
    [ "$sent" = "$N" ] || { echo "bench budget: only $sent of $N sent in campaign $id" >&2; exit 1; }
    # messages/s between the first and the last message sent (the ledger's
    # times), less the BURST that a full bucket lets go at once
    psql_q "SELECT round((count(*) - $3) / greatest(extract(epoch FROM max(sent_at) - min(sent_at)), 0.001))
              FROM deliveries WHERE campaign_id = $id AND state = 'sent'"
}

relay 0
free=$(run 1 1 0)
# half the free rate, and no more than lets the limited runs last 20 s
RATE=${RATE:-$((free / 2 < N / 20 ? free / 2 : N / 20))}
relay "$RATE"
one=$(run 2 1 "$RATE")
two=$(run 3 2 "$RATE")
echo "budget unlimited: one sender, $N messages (Ed25519, to smtp-sink) at $free messages/s"
awk -v r="$RATE" -v a="$one" 'BEGIN { printf "budget one sender: rate %d/s asked, %d/s reached: ratio %.2f (goal >= 0.95)\n", r, a, a / r }'
awk -v r="$RATE" -v a="$two" 'BEGIN { printf "budget two senders: rate %d/s asked, %d/s reached together: ratio %.2f (goal <= 1.00)\n", r, a, a / r }'

# the cost of one slice: relay_budget_take() against SELECT 1, 4 s each, one client
echo "SELECT * FROM relay_budget_take('bench', 50, 1e9, 0, 0);" >take.sql
echo "SELECT 1;" >one.sql
tps() { "$PGBIN/pgbench" -n -h "$W/var/pg/run" -U postino -T 4 -f "$1" postino 2>/dev/null |
    awk '/^tps/ { printf "%.0f", $3 }'; }
t_take=$(tps take.sql)
t_one=$(tps one.sql)
slice=$(awk -v r="$RATE" 'BEGIN { s = int(r / 4); if (s < 1) s = 1; if (s > 100) s = 100; print s }')
awk -v a="$t_take" -v b="$t_one" -v s="$slice" 'BEGIN {
    printf "budget cost: relay_budget_take %.0f us/call, SELECT 1 %.0f us/call (ratio %.2f); a slice of %d: %.1f us/message\n",
        1e6 / a, 1e6 / b, b / a, s, 1e6 / a / s }'
