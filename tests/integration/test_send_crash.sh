#!/bin/bash
# test_send_crash - kill -9 of the sender three times during a 20,000-recipient
# campaign: every recipient gets the message, duplicates are no more than the
# deliveries in flight at the kills, and the counters equal the ledger.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
trap 'mta_stop; cleanup' EXIT
export POSTINO_SEND_LEASE=5
N=${CRASH_N:-20000}

mta_start 13587 13025
postino db init
postino list create crowd
add_subscribers crowd 1 "$N"
postino dkim add example.com --selector r1
relay_setup --max-conns 8 --max-per-conn 200
printf '<p>Hello {{ name }}.</p>\n' > body.html
postino campaign create --name Crowd --subject 'Hi {{ name }}' --from 'news@example.com' --list crowd --html body.html --json
C=$(jq_get "$out" "j['id']")
postino campaign send "$C"

check "kill -9 three times, restart each time: everyone gets the message, duplicates bounded by what was in flight"
inflight_total=0
for k in 1 2 3; do
    "$BIN" send --name "crashy-$k" > "sender-$k.out" 2>&1 &
    spid=$!
    target=$((N * k / 4))
    wait_for "$target messages sent before kill $k" 300 bash -c "[ \$(psql_q \"SELECT n_sent FROM campaigns WHERE id = $C\") -ge $target ]"
    kill -9 "$spid"
    wait "$spid" 2>/dev/null
    held=$(psql_q "SELECT count(*) FROM deliveries WHERE lease_owner = 'crashy-$k'")
    echo "kill $k: sent so far $(psql_q "SELECT n_sent FROM campaigns WHERE id = $C"), in flight at the kill $held" >> kills.log
    inflight_total=$((inflight_total + held))
done
postino send --name finisher --until-done
expect_rc 0
mta_drain
[ "$(campaign_status "$C")" = finished ] || fail "campaign not finished: $(campaign_status "$C")"
distinct=$(sink_rcpts | uniq | wc -l)
total=$(sink_rcpts | wc -l)
dups=$((total - distinct))
echo "delivered $total messages to $distinct recipients: $dups duplicates, $inflight_total in flight at the kills" >> kills.log
cat kills.log
[ "$distinct" = "$N" ] || fail "$distinct of $N recipients got the message"
[ "$dups" -le "$inflight_total" ] || fail "$dups duplicates, more than the $inflight_total in flight at the kills"
[ "$(psql_q "SELECT n_sent FROM campaigns WHERE id = $C")" = "$N" ] || fail "n_sent"
counters_match_ledger "$C"

finish
