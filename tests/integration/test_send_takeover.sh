#!/bin/bash
# test_send_takeover - two senders on one campaign, with leases far longer than
# the test (600 s), so that only the takeover can move a lost sender's rows:
# one sender stopped (SIGSTOP) keeps its rows while the other works on, for a
# live sender however slow keeps its lock; one killed (kill -9) has its rows
# given back by the other within seconds, which finishes the campaign.
# Everyone gets the message; duplicates are no more than what the killed
# sender had in flight; the counters equal the ledger; the gone sender leaves
# the senders table.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
trap 'kill -9 $A $B 2>/dev/null; mta_stop; cleanup' EXIT
export POSTINO_SEND_LEASE=600
N=${TAKEOVER_N:-6000}
A="" B=""

mta_start 13597 13035
postino db init
postino list create crowd
add_subscribers crowd 1 "$N"
postino dkim add example.com --selector r1
# a pace that keeps the campaign going for a while (two senders: each has its own bucket)
relay_setup --max-conns 4 --max-per-conn 100 --rate 150/s
printf '<p>Hello {{ name }}.</p>\n' > body.html
postino campaign create --name Crowd --subject 'Hi {{ name }}' --from 'news@example.com' --list crowd --html body.html --json
C=$(jq_get "$out" "j['id']")
postino campaign send "$C"
sent() { psql_q "SELECT n_sent FROM campaigns WHERE id = $C"; }
held_by() { psql_q "SELECT count(*) FROM deliveries WHERE lease_owner = '$1'"; }
beat_of() { psql_q "SELECT extract(epoch FROM seen_at)::int FROM senders WHERE name = '$1'"; }

check "two senders share the campaign"
"$BIN" send --name alpha > alpha.out 2>&1 &
A=$!
"$BIN" send --name beta > beta.out 2>&1 &
B=$!
wait_for "both senders listed" 60 bash -c "[ \$(psql_q \"SELECT count(*) FROM senders WHERE name IN ('alpha', 'beta')\") = 2 ]"
wait_for "both senders holding deliveries" 120 bash -c "[ \$(psql_q \"SELECT count(DISTINCT lease_owner) FROM deliveries WHERE lease_owner IN ('alpha', 'beta')\") = 2 ]"

check "a live sender, however slow, keeps its rows: alpha stopped while beta beats three times"
kill -STOP "$A"
stopped_at=$(psql_q "SELECT extract(epoch FROM now())::int")
held=$(held_by alpha)
[ "$held" -gt 0 ] || fail "alpha holds nothing to keep"
wait_for "beta's heartbeat 3 s after alpha stopped" 60 bash -c "[ \$(psql_q \"SELECT extract(epoch FROM seen_at)::int FROM senders WHERE name = 'beta'\") -ge $((stopped_at + 3)) ]"
[ "$(held_by alpha)" = "$held" ] || fail "alpha held $held deliveries when stopped, $(held_by alpha) now"
[ -n "$(beat_of alpha)" ] || fail "alpha was taken off the senders table while alive"
kill -CONT "$A"

check "kill -9 of alpha: beta gives its rows back within seconds and finishes the campaign"
wait_for "a third sent" 300 bash -c "[ \$(psql_q \"SELECT n_sent FROM campaigns WHERE id = $C\") -ge $((N / 3)) ]"
kill -9 "$A"
killed=$SECONDS
wait "$A" 2>/dev/null
A=""
echo "alpha killed with $(sent) sent" >> takeover.log
# the lease has 600 s to run: only the takeover moves these rows
wait_for "alpha's deliveries given back" 20 bash -c "[ \$(psql_q \"SELECT count(*) FROM deliveries WHERE lease_owner = 'alpha'\") = 0 ]"
echo "alpha's deliveries free again $((SECONDS - killed)) s after the kill" >> takeover.log
wait_for "beta saying it gave them back" 20 grep -q "deliveries leased by a sender that is gone are free again" beta.out
# what alpha held at its death is what beta gave back (beta may do so before
# a count here could be taken): the messages that can have gone twice
inflight=$(sed -n 's/.*sender: \([0-9]*\) deliveries leased by a sender that is gone.*/\1/p' beta.out | awk '{ n += $1 } END { print n + 0 }')
echo "alpha held $inflight deliveries at the kill" >> takeover.log
[ -z "$(beat_of alpha)" ] || fail "alpha is still listed as a sender"
wait_for "the campaign to finish" 300 bash -c "[ \"\$(psql_q \"SELECT status FROM campaigns WHERE id = $C\")\" = finished ]"
echo "campaign finished $((SECONDS - killed)) s after the kill" >> takeover.log
kill "$B"
wait "$B" 2>/dev/null
B=""
mta_drain
distinct=$(sink_rcpts | uniq | wc -l)
total=$(sink_rcpts | wc -l)
echo "delivered $total messages to $distinct recipients: $((total - distinct)) duplicates, $inflight in flight at the kill" >> takeover.log
cat takeover.log
[ "$distinct" = "$N" ] || fail "$distinct of $N recipients got the message"
[ $((total - distinct)) -le "$inflight" ] || fail "$((total - distinct)) duplicates, more than the $inflight in flight at the kill"
[ "$(sent)" = "$N" ] || fail "n_sent $(sent), expected $N"
counters_match_ledger "$C"

check "a second sender under a name in use is refused, and claims nothing"
"$BIN" send --name gamma > gamma.out 2>&1 &
G=$!
wait_for "gamma listed" 60 bash -c "[ -n \"\$(psql_q \"SELECT 1 FROM senders WHERE name = 'gamma'\")\" ]"
postino send --name gamma --until-done
expect_err 'another running sender is named "gamma"'
kill "$G"
wait "$G" 2>/dev/null

finish
