#!/bin/bash
# test_send_shared - a relay's quota holds for every sender together: three
# senders on one campaign through a relay with a quota of 100 a day send 100
# messages between them, not 300, and wait; the budget handed out equals what
# was sent. Then a rate: two senders through a relay paced at 20 messages a
# second are never more than a second's worth ahead of that rate together.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
pids=()
trap 'kill -9 "${pids[@]}" 2>/dev/null; mta_stop; cleanup' EXIT
N=300
# small claims, so that every sender holds some of the campaign
export POSTINO_SEND_BATCH=10 POSTINO_SEND_MAX_INFLIGHT=20

mta_start 13601 13039
postino db init
postino list create crowd
add_subscribers crowd 1 "$N"
postino dkim add example.com --selector r1
relay_setup --max-conns 2 --quota 100/d
printf '<p>Hello {{ name }}.</p>\n' > body.html
postino campaign create --name Crowd --subject 'Hi {{ name }}' --from 'news@example.com' --list crowd --html body.html --json
C=$(jq_get "$out" "j['id']")
sent() { psql_q "SELECT n_sent FROM campaigns WHERE id = $C"; }

check "three senders, a quota of 100 a day: 100 sent between them, then they wait"
for n in one two three; do
    "$BIN" send --name "$n" > "$n.out" 2>&1 &
    pids+=($!)
done
wait_for "three senders listed" 60 bash -c "[ \$(psql_q \"SELECT count(*) FROM senders\") = 3 ]"
postino campaign send "$C"
wait_for "100 sent" 120 bash -c "[ \$(psql_q \"SELECT n_sent FROM campaigns WHERE id = $C\") -ge 100 ]"
# every sender says it waits for the relay (its pace, or a connection: two for three senders), three heartbeats later
at=$(psql_q "SELECT extract(epoch FROM now())::int")
wait_for "each sender waiting for the relay" 120 bash -c "[ \$(psql_q \"SELECT count(*) FROM senders WHERE status LIKE 'waiting: relay local%' AND extract(epoch FROM seen_at) >= $((at + 3))\") = 3 ]" ||
    fail "statuses: $(psql_q "SELECT name || ': ' || status FROM senders")"
[ "$(sent)" = 100 ] || fail "$(sent) sent with a quota of 100"
[ "$(psql_q "SELECT handed FROM relay_budget WHERE relay = 'local'")" = 100 ] ||
    fail "budget handed out: $(psql_q "SELECT handed FROM relay_budget")"
mta_drain
[ "$(sink_count)" = 100 ] || fail "the sink got $(sink_count) messages"
[ "$(psql_q "SELECT count(DISTINCT lease_owner) FROM deliveries WHERE state = 'queued' AND lease_owner IS NOT NULL")" = 3 ] ||
    fail "not every sender holds deliveries that wait"
for p in "${pids[@]}"; do kill "$p"; wait "$p" 2>/dev/null; done
pids=()
[ "$(psql_q "SELECT count(*) FROM senders")" = 0 ] || fail "senders left listed"

check "two senders, a rate of 20 a second: together no faster than that"
"$BIN" relay rm local > /dev/null
relay_setup --max-conns 2 --rate 20/s
psql_q "DELETE FROM relay_budget" > /dev/null
sink_clear
for n in one two; do
    "$BIN" send --name "$n" > "$n-rate.out" 2>&1 &
    pids+=($!)
done
wait_for "the first message of the rest" 60 bash -c "[ \$(ls '$MTA/sink' | wc -l) -ge 1 ]"
t0=$(psql_q "SELECT extract(epoch FROM clock_timestamp())")
s0=$(sent)
wait_for "the campaign to finish" 120 bash -c "[ \"\$(psql_q \"SELECT status FROM campaigns WHERE id = $C\")\" = finished ]"
t1=$(psql_q "SELECT extract(epoch FROM clock_timestamp())")
s1=$(sent)
# at 20/s with a second's burst, N messages take at least (N - 20) / 20 s
ok=$(/usr/bin/python3 -c "print(1 if ($s1 - $s0) <= 20 * ($t1 - $t0) + 20 + 2 else 0)")
echo "rate: $((s1 - s0)) sent in $(/usr/bin/python3 -c "print(round($t1 - $t0, 2))") s by two senders at 20/s" >> shared.log
cat shared.log
[ "$ok" = 1 ] || fail "two senders sent $((s1 - s0)) in $(/usr/bin/python3 -c "print($t1 - $t0)") s, faster than 20/s"
[ "$(sent)" = "$N" ] || fail "n_sent $(sent), expected $N"
for p in "${pids[@]}"; do kill "$p"; wait "$p" 2>/dev/null; done
pids=()
mta_drain
counters_match_ledger "$C"

check "three senders, a relay of 2 connections: never more than 2 open to it at once"
"$BIN" relay rm local > /dev/null
relay_setup --max-conns 2
postino campaign create --name Conns --subject 'Hi {{ name }}' --from 'news@example.com' --list crowd --html body.html --json
C2=$(jq_get "$out" "j['id']")
# the senders' connections to the relay, counted as they are (the port is the submission server's)
( while :; do ss -Htn state established "( dport = :$MTA_PORT )" | wc -l; sleep 0.05; done ) > conns.log 2>/dev/null &
SAMPLER=$!
for n in one two three; do
    "$BIN" send --name "$n" > "$n-conns.out" 2>&1 &
    pids+=($!)
done
wait_for "three senders listed" 60 bash -c "[ \$(psql_q \"SELECT count(*) FROM senders\") = 3 ]"
postino campaign send "$C2"
wait_for "the campaign to finish" 300 bash -c "[ \"\$(psql_q \"SELECT status FROM campaigns WHERE id = $C2\")\" = finished ]"
kill "$SAMPLER"
for p in "${pids[@]}"; do kill "$p"; wait "$p" 2>/dev/null; done
pids=()
most=$(sort -n conns.log | tail -1)
echo "connections: at most $most open at once, in $(wc -l < conns.log) samples" >> shared.log
[ "$most" -le 2 ] || fail "$most connections open at once to a relay of 2"
[ "$most" -ge 1 ] || fail "no connection was seen"
[ "$(psql_q "SELECT count(DISTINCT lease_owner) FROM deliveries WHERE campaign_id = $C2")" = 0 ] || fail "leases left"
[ "$(psql_q "SELECT n_sent FROM campaigns WHERE id = $C2")" = "$N" ] || fail "n_sent $(psql_q "SELECT n_sent FROM campaigns WHERE id = $C2")"
cat shared.log

finish
