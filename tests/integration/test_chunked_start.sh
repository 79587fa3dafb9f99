#!/bin/bash
# test_chunked_start - a campaign starts with the first chunk of its audience
# and the rest is made chunk by chunk ([send] audience_chunk): the audience
# is the one at the start (joins, confirmations, re-enabling and attribute
# changes after it add nobody), each subscriber has one delivery, a kill -9
# of `campaign send` between chunks loses and duplicates nothing (with a
# sender running, it carries on; without, the next sender does), pause and
# cancel during the making behave, a segment audience too, a scheduled
# campaign is started and made by a sender, and an A/B campaign starts whole.
#
# Between chunks is held open by taking the campaign's chunk lock (the
# advisory lock campaign_audience_step takes, sql/037) in a psql session of
# the test's own: `campaign send` makes its first chunk, then waits for it.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
trap 'lock_release; mta_stop; cleanup' EXIT
export POSTINO_SEND_AUDIENCE_CHUNK=20

# lock_hold C: hold campaign C's chunk lock until lock_release
lock_hold() {
    rm -f hold.fifo hold.out
    mkfifo hold.fifo
    /usr/lib/postgresql/*/bin/psql -X -q -A -t -h "$WORK/var/pg/run" -U postino -d postino < hold.fifo > hold.out 2>&1 &
    HOLD_PID=$!
    exec 7> hold.fifo
    echo "SELECT pg_advisory_lock(hashtext('postino audience'), $1); SELECT 'held';" >&7
    wait_for "the chunk lock of campaign $1" 20 grep -q '^held$' hold.out
}
lock_release() {
    [ -n "${HOLD_PID:-}" ] || return 0
    echo '\q' >&7   # (processes started meanwhile hold the pipe open too: no end of file)
    exec 7>&-
    wait "$HOLD_PID" 2>/dev/null
    HOLD_PID=
}
col() { psql_q "SELECT $2 FROM campaigns WHERE id = $1"; }
# the subscriber ids campaign C has deliveries for, one line each (a second delivery shows twice)
delivered_ids() { psql_q "SELECT subscriber_id FROM deliveries WHERE campaign_id = $1 ORDER BY 1"; }
waiting_for_lock() {   # a session waits for an advisory lock
    [ "$(psql_q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")" -gt 0 ]
}
new_campaign() {   # new_campaign NAME EXTRA...: a draft on crowd; its id in $C
    postino campaign create --name "$1" --subject 'Hi {{ name }}' --from 'news@example.com' --list crowd \
        --html body.html --json "${@:2}"
    expect_rc 0
    C=$(jq_get "$out" "j['id']")
}
send_bg() {   # campaign send C in the background; its pid in $SEND_PID, then wait for its first chunk
    "$BIN" campaign send "$1" > "send-$1.out" 2> "send-$1.err" &
    SEND_PID=$!
    wait_for "campaign $1 to start with its first chunk" 30 bash -c "[ \"\$(psql_q \"SELECT status FROM campaigns WHERE id = $1\")\" = running ]"
    wait_for "campaign send $1 to wait for the next chunk" 30 waiting_for_lock
}

mta_start 13597 13035
postino db init
postino list create crowd --optin double
postino list create other
add_subscribers crowd 1 200
add_subscribers other 201 220
postino dkim add example.com --selector r1
relay_setup --max-conns 4 --max-per-conn 200
printf '<p>Hello {{ name }}.</p>\n' > body.html
# before the start: 150 has not confirmed, 160 is disabled
psql_q "UPDATE subscriptions SET status = 'unconfirmed' WHERE subscriber_id = 150" >/dev/null
psql_q "UPDATE subscribers SET status = 'disabled' WHERE id = 160" >/dev/null

check "send: the first chunk (20 subscriber ids) is queued and the campaign runs while the rest waits"
new_campaign Fixed
lock_hold "$C"
send_bg "$C"
[ "$(col "$C" "n_total || ' ' || n_queued || ' ' || audience_pending || ' ' || audience_next || ' ' || audience_cutoff")" = "20 20 true 21 220" ] ||
    fail "after the first chunk: $(col "$C" "n_total, n_queued, audience_pending, audience_next, audience_cutoff")"
postino campaign stats "$C" --json
[ "$(jq_get "$out" "(j['audience']['making'], j['audience']['made'], j['audience']['estimated'])")" = "(True, 20, 220)" ] ||
    fail "stats: $(jq_get "$out" "j['audience']")"

check "changes after the start add nobody: a new subscriber, a join, a confirmation, an enabling; a leaver is skipped at claim"
psql_q "INSERT INTO subscribers (email, name) VALUES ('late@example.org', 'Late')" >/dev/null
psql_q "INSERT INTO subscriptions (subscriber_id, list_id, status)
        SELECT s.id, l.id, 'confirmed' FROM subscribers s, lists l WHERE s.email = 'late@example.org' AND l.name = 'crowd'" >/dev/null
psql_q "INSERT INTO subscriptions (subscriber_id, list_id, status) SELECT 210, id, 'confirmed' FROM lists WHERE name = 'crowd'" >/dev/null
psql_q "UPDATE subscriptions SET status = 'confirmed', updated_at = now() WHERE subscriber_id = 150" >/dev/null
psql_q "UPDATE subscribers SET status = 'enabled' WHERE id = 160" >/dev/null
psql_q "UPDATE subscriptions SET status = 'unsubscribed' WHERE subscriber_id = 170" >/dev/null
psql_q "UPDATE subscribers SET name = 'Renamed' WHERE id = 180" >/dev/null
[ "$(psql_q "SELECT count(*) FROM subscriptions WHERE subscriber_id = 210")" = 2 ] || fail "210 did not join crowd"
lock_release
wait "$SEND_PID"
[ $? = 0 ] || fail "campaign send: $(cat "send-$C.err")"
grep -q "campaign $C is running: 198 recipients queued" "send-$C.out" || fail "campaign send said: $(cat "send-$C.out")"
expected=$(seq 1 200 | grep -vx -e 150 -e 160)
[ "$(delivered_ids "$C")" = "$expected" ] ||
    fail "the audience is not 1..200 but 150 and 160, once each: $(delivered_ids "$C" | tr '\n' ' ' | head -c 400)"
[ "$(col "$C" "audience_pending")" = f ] || fail "still being made"
[ "$(psql_q "SELECT count(*) FROM audience_early WHERE campaign_id = $C")" = 0 ] || fail "notes left"
counters_match_ledger "$C"
postino send --name one --until-done
expect_rc 0
mta_drain
[ "$(campaign_status "$C")" = finished ] || fail "not finished: $(campaign_status "$C")"
[ "$(sink_rcpts)" = "$(echo "$expected" | grep -vx 170 | sed 's/.*/user&@example.org/' | sort)" ] ||
    fail "the sink got other recipients: $(sink_rcpts | wc -l) messages"
[ "$(psql_q "SELECT state FROM deliveries WHERE campaign_id = $C AND subscriber_id = 170")" = skipped ] ||
    fail "170, who left after the start, was not skipped"
counters_match_ledger "$C"
sink_clear
# from here on, everyone on crowd is in the audience: 1..200
psql_q "UPDATE subscriptions SET status = 'confirmed' WHERE subscriber_id = 170" >/dev/null
psql_q "DELETE FROM subscriptions s USING lists l WHERE s.list_id = l.id AND l.name = 'crowd' AND s.subscriber_id > 200" >/dev/null

check "a segment audience: a subscriber who comes to match after the start is not in it; one who stops matching is"
postino campaign create --name Segment --subject 'Hi' --from 'news@example.com' --list crowd --html body.html \
    --filter 'attribs.n starts_with "1"' --json
C=$(jq_get "$out" "j['id']")
lock_hold "$C"
send_bg "$C"
psql_q "UPDATE subscribers SET attribs = jsonb_build_object('n', '1x') WHERE id IN (55, 56)" >/dev/null   # now match
psql_q "UPDATE subscribers SET attribs = jsonb_build_object('n', 'x') WHERE id IN (120, 121)" >/dev/null  # no longer
lock_release
wait "$SEND_PID" || fail "campaign send: $(cat "send-$C.err")"
expected=$(seq 1 200 | grep '^1')
[ "$(delivered_ids "$C")" = "$expected" ] ||
    fail "the segment's audience differs: $(delivered_ids "$C" | tr '\n' ' ' | head -c 400)"
counters_match_ledger "$C"
postino campaign cancel "$C"
psql_q "UPDATE subscribers SET attribs = jsonb_build_object('n', id::text) WHERE id IN (55, 56, 120, 121)" >/dev/null

check "kill -9 of campaign send between chunks, no sender running: the next sender makes the rest, each once"
new_campaign Killed
lock_hold "$C"
send_bg "$C"
kill -9 "$SEND_PID"
wait "$SEND_PID" 2>/dev/null
lock_release
# (the killed command's server process, waiting for the lock, may still make one chunk: a whole one)
[ "$(col "$C" "status || ' ' || audience_pending || ' ' || (n_total = (SELECT count(*) FROM deliveries WHERE campaign_id = $C))")" = "running true true" ] ||
    fail "after the kill: $(col "$C" "status, audience_pending, n_total")"
postino send --name two --until-done
expect_rc 0
mta_drain
[ "$(campaign_status "$C")" = finished ] || fail "not finished: $(campaign_status "$C")"
expected=$(seq 1 200)
[ "$(delivered_ids "$C")" = "$expected" ] || fail "deliveries differ from 1..200, once each"
[ "$(sink_rcpts)" = "$(echo "$expected" | sed 's/.*/user&@example.org/' | sort)" ] ||
    fail "the sink did not get each recipient once: $(sink_rcpts | wc -l) messages"
counters_match_ledger "$C"
sink_clear

check "kill -9 of campaign send with a sender running: messages go before the audience is whole; the sender makes the rest"
new_campaign KilledLive
lock_hold "$C"
"$BIN" send --name three > sender3.out 2>&1 &
SPID=$!
send_bg "$C"
wait_for "the first chunk to be sent while the audience is being made" 60 \
    bash -c "[ \"\$(psql_q \"SELECT n_sent = 20 AND audience_pending FROM campaigns WHERE id = $C\")\" = t ]"
# nothing is queued now, but the audience is not whole: two heartbeats later (a finish round between them) it still runs
for _ in 1 2; do
    t=$(psql_q "SELECT now()")
    wait_for "a heartbeat of the sender" 30 bash -c "[ \"\$(psql_q \"SELECT seen_at > '$t' FROM senders WHERE name = 'three'\")\" = t ]"
done
[ "$(col "$C" "status || ' ' || n_queued")" = "running 0" ] || fail "with its audience not whole: $(col "$C" "status, n_queued")"
kill -9 "$SEND_PID"
wait "$SEND_PID" 2>/dev/null
lock_release
wait_for "campaign $C to finish" 120 bash -c "[ \"\$(psql_q \"SELECT status FROM campaigns WHERE id = $C\")\" = finished ]"
kill "$SPID"
wait "$SPID" 2>/dev/null
mta_drain
[ "$(delivered_ids "$C")" = "$expected" ] || fail "deliveries differ from 1..200, once each"
[ "$(sink_rcpts)" = "$(echo "$expected" | sed 's/.*/user&@example.org/' | sort)" ] ||
    fail "the sink did not get each recipient once: $(sink_rcpts | wc -l) messages"
counters_match_ledger "$C"
sink_clear

check "pause during the making: the audience is made whole, nothing is sent, it is not finished; resume sends it all"
new_campaign Paused
lock_hold "$C"
send_bg "$C"
postino campaign pause "$C"
expect_rc 0
lock_release
wait "$SEND_PID" || fail "campaign send: $(cat "send-$C.err")"
[ "$(col "$C" "status || ' ' || audience_pending || ' ' || n_total || ' ' || n_sent")" = "paused false 200 0" ] ||
    fail "paused: $(col "$C" "status, audience_pending, n_total, n_sent")"
postino campaign resume "$C"
postino send --name four --until-done
mta_drain
[ "$(campaign_status "$C")" = finished ] || fail "not finished: $(campaign_status "$C")"
[ "$(sink_count)" = 200 ] || fail "$(sink_count) messages sent"
counters_match_ledger "$C"
sink_clear

check "cancel during the making: no later chunk is made, nothing is left queued"
new_campaign Cancelled
lock_hold "$C"
send_bg "$C"
postino campaign cancel "$C"
expect_rc 0
lock_release
wait "$SEND_PID" || fail "campaign send: $(cat "send-$C.err")"
grep -qx "campaign $C is cancelled (while its audience was being made): 20 deliveries cancelled" "send-$C.out" ||
    fail "campaign send said: $(cat "send-$C.out")"
[ "$(col "$C" "status || ' ' || audience_pending || ' ' || n_total || ' ' || n_cancelled || ' ' || n_queued")" = "cancelled false 20 20 0" ] ||
    fail "cancelled: $(col "$C" "status, audience_pending, n_total, n_cancelled, n_queued")"
[ "$(psql_q "SELECT count(*) FROM deliveries WHERE campaign_id = $C AND state <> 'cancelled'")" = 0 ] ||
    fail "deliveries not cancelled"

check "a scheduled campaign: the sender starts it with a first chunk and makes the rest in its housekeeping, each once"
new_campaign Scheduled
postino campaign schedule "$C" --at "$(psql_q "SELECT now()")"
expect_rc 0
postino send --name five --until-done
expect_rc 0
mta_drain
[ "$(col "$C" "status || ' ' || audience_chunk")" = "finished 20" ] ||
    fail "not finished, or not started in chunks of 20: $(col "$C" "status, audience_chunk")"
[ "$(delivered_ids "$C")" = "$(seq 1 200)" ] || fail "deliveries differ from 1..200, once each"
[ "$(sink_rcpts)" = "$(seq 1 200 | sed 's/.*/user&@example.org/' | sort)" ] ||
    fail "the sink did not get each recipient once: $(sink_rcpts | wc -l) messages"
counters_match_ledger "$C"
sink_clear

check "an A/B campaign starts with its whole audience: its sample is drawn from all of it"
postino campaign create --name Tested --from 'news@example.com' --list crowd --html body.html --track-opens \
    --variant-subject A --variant-subject B --ab-sample 10% --ab-window 1h --json
expect_rc 0
C=$(jq_get "$out" "j['id']")
postino campaign send "$C"
expect_rc 0
[ "$(col "$C" "n_total || ' ' || n_held || ' ' || audience_pending")" = "200 180 false" ] ||
    fail "A/B start: $(col "$C" "n_total, n_held, audience_pending")"
[ "$(psql_q "SELECT test_size FROM campaign_ab WHERE campaign_id = $C")" = 20 ] || fail "test size"
postino campaign cancel "$C"

finish
