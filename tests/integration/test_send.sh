#!/bin/bash
# test_send - campaigns through a real Postfix submission server (STARTTLS,
# SASL) to smtp-sink: exactly once, signed, paced, surviving relay outages,
# 4xx/5xx answers, rate limits and kill -9 of the sender; a message that
# cannot be composed fails at once instead of holding the campaign open.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
trap 'mta_stop; cleanup' EXIT
PY=/usr/bin/python3

mta_start 12587 12025
postino db init
postino list create alpha
postino list create beta
add_subscribers alpha 1 600
add_subscribers beta 401 1000
postino dkim add example.com --selector r1
postino dkim add example.com --selector e1 --algorithm ed25519
relay_setup
printf '<p>Hello {{ name }}, number {{ attribs.n }}.</p>\n<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>\n' > body.html

check "relay ls never shows the password; relay test walks through the session"
postino relay ls --json
expect_no_out "secret"
[ "$(jq_get "$out" "j[0]['password_set']")" = True ] || fail "password_set"
postino relay test local
expect_rc 0
expect_out "tls: encrypted"
expect_out "auth: accepted"
echo wrong > wrong.pw
postino relay add bad --host 127.0.0.1 --port 12587 --user test --password-file wrong.pw --tls-verify no
loglines=$(wc -l < "$MTA/postfix.log")
postino relay test bad
expect_rc 1
# the reply as Postfix gave it, code kept, one blank between the parts
expect_out "auth: failed: 535 5.7.8 Error: authentication failed: "
expect_err "relay bad: auth failed: 535 5.7.8 Error: authentication failed: "
# after the 535 the session says QUIT; Postfix does not see it lost
wait_for "Postfix to log the refused session's end" 20 sh -c "tail -n +$((loglines + 1)) '$MTA/postfix.log' | grep -q 'disconnect from'"
tail -n +$((loglines + 1)) "$MTA/postfix.log" | grep 'disconnect from' | grep -q 'auth=0/1 quit=1' ||
    fail "Postfix did not get QUIT after the 535: $(tail -n +$((loglines + 1)) "$MTA/postfix.log" | grep smtpd)"
! tail -n +$((loglines + 1)) "$MTA/postfix.log" | grep -q 'lost connection' || fail "Postfix lost the connection"
postino relay rm bad
postino relay add x --host h --rate fast
expect_rc 2
postino relay add x --host h --quota 100
expect_rc 2

check "a 1,000-recipient campaign over two overlapping lists: each recipient exactly once, signed twice, personalised"
postino campaign create --name Big --subject 'News for {{ name }}' --from 'News <news@example.com>' \
    --list alpha --list beta --html body.html --json
C1=$(jq_get "$out" "j['id']")
loglines=$(wc -l < "$MTA/postfix.log")
postino campaign send "$C1"
expect_rc 0
expect_out "1000 recipients queued"
postino send --until-done
expect_rc 0
# the sender logs what a signature's private-key operation took: one in 17 of the 2,000 signatures timed, at least
timed=$(printf '%s\n' "$err" | sed -n "s/.*: a DKIM signature's private-key operation took [0-9]*\.[0-9] us of CPU (1 in 17 timed: \([0-9]*\))$/\1/p")
[ "${timed:-0}" -ge 118 ] || fail "the sender's signing time: timed '${timed}' of 2000 signatures, want at least 118 ($(printf '%s\n' "$err" | tail -2))"
mta_drain
[ "$(campaign_status "$C1")" = finished ] || fail "campaign not finished"
[ "$(sink_rcpts | uniq | wc -l)" = 1000 ] || fail "$(sink_rcpts | uniq | wc -l) distinct recipients, expected 1000"
[ "$(sink_rcpts | uniq -d | wc -l)" = 0 ] || fail "some recipients got two messages"
counters_match_ledger "$C1"
[ "$(psql_q "SELECT n_sent FROM campaigns WHERE id = $C1")" = 1000 ] || fail "n_sent"
[ "$(psql_q "SELECT count(*) FROM deliveries WHERE campaign_id = $C1 AND queue_id IS NOT NULL AND smtp_code = 250")" = 1000 ] || fail "queue ids"
"$BIN" dkim record example.com --json | $PY -c 'import json,sys; print(json.dumps([r["zone"] for r in json.load(sys.stdin)]))' > records.json
$PY "$ROOT/tests/integration/dkim_verify.py" records.json "$MTA"/sink/* --expect 2 > verify.out 2>&1 ||
    { out=$(tail -5 verify.out); fail "dkimpy did not verify every message's two signatures"; }
$PY - "$MTA/sink" <<'PYEOF' || fail "personalisation or headers"
import email, email.policy, os, re, sys
d = sys.argv[1]
for f in os.listdir(d):
    m = email.message_from_bytes(open(os.path.join(d, f), 'rb').read(), policy=email.policy.default)
    rcpt = re.search(r'<user(\d+)@example.org>', m['X-Rcpt-Args']).group(1)
    assert str(m['Subject']) == 'News for User %s' % rcpt, (m['Subject'], rcpt)
    assert m['To'].addresses[0].addr_spec == 'user%s@example.org' % rcpt
    assert re.fullmatch(r'<http://localhost:8080/u/[a-z2-7]+>', str(m['List-Unsubscribe']))
    assert str(m['List-Unsubscribe-Post']) == 'List-Unsubscribe=One-Click'
    assert re.fullmatch(r'<bounces\+[a-z2-7]+@example\.com>.*', m['X-Mail-Args'])
    html = m.get_body(('html',)).get_content()
    assert 'number %s.' % rcpt in html, html
PYEOF
# every session that carried mail used STARTTLS and AUTH (one that a stopping sender cut in its setup, when its
# messages had gone by the others, carried none)
sessions=$(tail -n +$((loglines + 1)) "$MTA/postfix.log" | grep 'disconnect from localhost' | grep -c ' mail=')
tlsauth=$(tail -n +$((loglines + 1)) "$MTA/postfix.log" | grep 'disconnect from localhost' | grep ' mail=' | grep -c 'ehlo=2 starttls=1 auth=1 ')
[ "$sessions" -gt 0 ] && [ "$sessions" = "$tlsauth" ] || fail "$tlsauth of $sessions sessions that carried mail used STARTTLS and AUTH"

check "illegal moves are refused naming the current state"
postino campaign send "$C1"
expect_rc 1
expect_err "cannot send campaign $C1: it is finished"
postino campaign pause "$C1"
expect_rc 1
expect_err "it is finished"
postino campaign schedule "$C1" --at "2030-01-01 10:00"
expect_rc 1

check "the relay is down when the campaign starts, then comes up: everything arrives once"
sink_clear
mta_stop
postino campaign create --name Outage --subject 'Outage' --from 'news@example.com' --list alpha --html body.html --json
C2=$(jq_get "$out" "j['id']")
postino campaign send "$C2"
"$BIN" campaign stats "$C2" --watch > watch.out 2>&1 &
wpid=$!
"$BIN" send --until-done > sender.out 2>&1 &
spid=$!
deferred_some() { [ "$(psql_q "SELECT n_deferred > 0 FROM campaigns WHERE id = $C2")" = t ]; }
wait_for "a deferral while the relay is down" 30 deferred_some
[ "$(psql_q "SELECT n_sent FROM campaigns WHERE id = $C2")" = 0 ] || fail "sent while the relay was down"
mta_start 12587 12025
wait_for "the outage campaign to finish" 90 bash -c "! kill -0 $spid 2>/dev/null"
wait $spid
mta_drain
[ "$(sink_rcpts | uniq | wc -l)" = 600 ] || fail "$(sink_rcpts | uniq | wc -l) of 600 recipients after the outage"
[ "$(sink_rcpts | uniq -d | wc -l)" = 0 ] || fail "duplicates after the outage"
[ "$(campaign_status "$C2")" = finished ] || fail "not finished"
[ "$(psql_q "SELECT n_failed FROM campaigns WHERE id = $C2")" = 0 ] || fail "deliveries failed during the outage"
counters_match_ledger "$C2"
# stats --watch: a frame every 2 s while it runs, then the finished one, and it exits 0
wait_for "stats --watch to end with the campaign" 10 bash -c "! kill -0 $wpid 2>/dev/null"
wait $wpid || fail "stats --watch exited $?"
frames=$(grep -c "^campaign $C2 \"Outage\": " watch.out)
[ "$frames" -ge 3 ] || fail "stats --watch printed $frames frames: $(cat watch.out)"
grep -q "^campaign $C2 \"Outage\": running" watch.out || fail "no running frame: $(head -3 watch.out)"
[ "$(grep "^campaign $C2 " watch.out | tail -1)" = "campaign $C2 \"Outage\": finished" ] || fail "last frame: $(tail -12 watch.out)"

check "Postfix defers some recipients (4xx) and rejects others (5xx)"
sink_clear
printf 'user1@example.org 451 4.3.0 try later\nuser2@example.org 451 4.3.0 try later\nuser3@example.org 550 5.1.1 no such user\nuser4@example.org 550 5.1.1 no such user\n' > "$MTA/rcpt_access"
postmap "$MTA/rcpt_access"
mta_conf "smtpd_recipient_restrictions=check_recipient_access hash:$MTA/rcpt_access, permit_sasl_authenticated, reject"
postino campaign create --name Picky --subject 'Picky' --from 'news@example.com' --list alpha --html body.html --json
C3=$(jq_get "$out" "j['id']")
postino campaign send "$C3"
"$BIN" send --until-done > sender.out 2>&1 &
spid=$!
wait_for "the 4xx and 5xx answers" 60 bash -c "[ \"\$(psql_q \"SELECT n_failed = 2 AND n_deferred = 2 AND n_sent = 596 FROM campaigns WHERE id = $C3\")\" = t ]"
[ "$(psql_q "SELECT string_agg(email || ':' || class || ':' || status, ',' ORDER BY email) FROM bounces WHERE campaign_id = $C3")" = "user3@example.org:hard:5.1.1,user4@example.org:hard:5.1.1" ] || fail "bounce rows: $(psql_q "SELECT * FROM bounces WHERE campaign_id = $C3")"
[ "$(psql_q "SELECT string_agg(s.email, ',' ORDER BY s.email) FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.campaign_id = $C3 AND d.state = 'deferred'")" = "user1@example.org,user2@example.org" ] || fail "deferred ones"
: > "$MTA/rcpt_access"
postmap "$MTA/rcpt_access"
mta_stop   # smtpd processes keep their maps for the life of a connection: drop the sender's
mta_start 12587 12025
wait_for "the deferred recipients to be delivered once the rule is lifted" 60 bash -c "! kill -0 $spid 2>/dev/null"
wait $spid
mta_drain
[ "$(psql_q "SELECT n_sent, n_failed, n_deferred FROM campaigns WHERE id = $C3")" = "598|2|0" ] || fail "final counters"
[ "$(sink_rcpts | grep -c '^user[12]@example.org$')" = 2 ] || fail "the deferred ones were not delivered exactly once"
[ "$(sink_rcpts | grep -c '^user[34]@example.org$')" = 0 ] || fail "rejected ones delivered"
counters_match_ledger "$C3"
mta_conf "smtpd_recipient_restrictions=permit_sasl_authenticated, reject"

# from here on, the audience of alpha is whoever is still mailable (bounce policy may have suppressed some)
alpha_n() { psql_q "SELECT count(*) FROM subscriptions sl JOIN subscribers s ON s.id = sl.subscriber_id
                    JOIN lists l ON l.id = sl.list_id
                    WHERE l.name = 'alpha' AND s.status = 'enabled' AND sl.status <> 'unsubscribed'"; }

check "Postfix's message rate limit (anvil): the sender slows down, nothing fails"
sink_clear
mta_conf "smtpd_client_message_rate_limit=100" "anvil_rate_time_unit=5s" "smtpd_client_event_limit_exceptions="
postino campaign create --name Paced --subject 'Paced' --from 'news@example.com' --list alpha --html body.html --json
C4=$(jq_get "$out" "j['id']")
postino campaign send "$C4"
postino send --until-done
expect_rc 0
[ "$(psql_q "SELECT n_sent, n_failed FROM campaigns WHERE id = $C4")" = "$(alpha_n)|0" ] || fail "paced campaign: $(psql_q "SELECT n_sent, n_failed, n_deferred FROM campaigns WHERE id = $C4")"
mta_drain
grep -q 'Message delivery request rate limit exceeded' "$MTA/postfix.log" || fail "anvil's limit was never hit"
[ "$(psql_q "SELECT count(*) FROM deliveries WHERE campaign_id = $C4 AND attempts > 1")" -gt 0 ] || fail "no delivery was retried"
[ "$(sink_rcpts | uniq -d | wc -l)" = 0 ] || fail "duplicates under rate limiting"
counters_match_ledger "$C4"
mta_conf "smtpd_client_message_rate_limit=0"

check "pause, resume and cancel"
postino campaign create --name Pausing --subject 'P' --from 'news@example.com' --list alpha --html body.html --json
C5=$(jq_get "$out" "j['id']")
postino campaign pause "$C5"
expect_rc 1
expect_err "cannot pause campaign $C5: it is draft"
postino campaign send "$C5"
postino campaign pause "$C5"
expect_rc 0
expect_out "is paused"
postino send --until-done
[ "$(psql_q "SELECT n_sent, n_queued FROM campaigns WHERE id = $C5")" = "0|$(alpha_n)" ] || fail "a paused campaign was sent"
postino campaign resume "$C5"
expect_out "is running"
postino send --until-done
[ "$(psql_q "SELECT status, n_sent FROM campaigns WHERE id = $C5")" = "finished|$(alpha_n)" ] || fail "resumed campaign"
postino campaign create --name Cancel --subject 'C' --from 'news@example.com' --list alpha --html body.html --json
C6=$(jq_get "$out" "j['id']")
postino campaign send "$C6"
postino campaign cancel "$C6"
expect_rc 0
expect_out "$(alpha_n) deliveries cancelled"
postino campaign resume "$C6"
expect_rc 1
expect_err "it is cancelled"
counters_match_ledger "$C6"

check "a scheduled campaign starts when its time comes"
postino campaign create --name Later --subject 'L' --from 'news@example.com' --list beta --html body.html --json
C7=$(jq_get "$out" "j['id']")
postino campaign schedule "$C7" --at "yesterday"
expect_rc 1
expect_err "in the past"
postino campaign schedule "$C7" --at "$(date -u -d '+3 seconds' '+%Y-%m-%d %H:%M:%S+00')"
expect_rc 0
expect_out "is scheduled"
time_has_come() { [ "$(psql_q "SELECT send_at <= now() FROM campaigns WHERE id = $C7")" = t ]; }
wait_for "the scheduled time to come" 20 time_has_come
postino send --until-done
[ "$(psql_q "SELECT status, n_sent FROM campaigns WHERE id = $C7")" = "finished|600" ] || fail "scheduled campaign: $(psql_q "SELECT status, n_sent FROM campaigns WHERE id = $C7")"

check "recipients who leave after the start are skipped"
postino campaign create --name Skip --subject 'S' --from 'news@example.com' --list alpha --html body.html --json
C8=$(jq_get "$out" "j['id']")
before=$(alpha_n)
postino campaign send "$C8"
postino subscriber blocklist user5@example.org
psql_q "UPDATE subscriptions SET status = 'unsubscribed' WHERE subscriber_id = (SELECT id FROM subscribers WHERE email = 'user6@example.org')" >/dev/null
postino send --until-done
[ "$(psql_q "SELECT n_sent, n_skipped FROM campaigns WHERE id = $C8")" = "$((before - 2))|2" ] || fail "skips"
counters_match_ledger "$C8"

check "two senders against one database never send the same delivery"
sink_clear
postino campaign create --name Twins --subject 'T' --from 'news@example.com' --list alpha --list beta --html body.html --json
C9=$(jq_get "$out" "j['id']")
postino campaign send "$C9"
n9=$(psql_q "SELECT n_total FROM campaigns WHERE id = $C9")
"$BIN" send --name twin-a --batch 50 --until-done > twin-a.out 2>&1 &
pa=$!
"$BIN" send --name twin-b --batch 50 --until-done > twin-b.out 2>&1 &
pb=$!
wait $pa $pb
mta_drain
[ "$(campaign_status "$C9")" = finished ] || fail "twins campaign not finished"
[ "$(sink_rcpts | wc -l)" = "$n9" ] || fail "$(sink_rcpts | wc -l) messages for $n9 recipients"
[ "$(sink_rcpts | uniq -d | wc -l)" = 0 ] || fail "two senders sent the same delivery"
a=$(sed -n 's/.*done (\([0-9]*\) sent.*/\1/p' twin-a.out)
b=$(sed -n 's/.*done (\([0-9]*\) sent.*/\1/p' twin-b.out)
[ "${a:-0}" -gt 0 ] && [ "${b:-0}" -gt 0 ] || fail "one sender did all the work ($a / $b)"
[ $((a + b)) = "$n9" ] || fail "the senders' counts ($a + $b) differ from the audience ($n9)"
counters_match_ledger "$C9"

check "a relay's quota is never exceeded, and stats say why the campaign waits; the sender's threads run SCHED_BATCH"
sink_clear
postino relay add slow --host 127.0.0.1 --port 12587 --user test --password-file "$WORK/relay.pw" --tls-verify no --quota 40/h
postino relay rm local
postino campaign create --name Quota --subject 'Q' --from 'news@example.com' --list beta --html body.html --json
C10=$(jq_get "$out" "j['id']")
postino campaign send "$C10"
"$BIN" send --name quota > quota.out 2>&1 &
qp=$!
wait_for "40 messages under the quota" 30 bash -c "[ \$(psql_q \"SELECT n_sent FROM campaigns WHERE id = $C10\") -ge 40 ]"
# the pool holds the rest back: once the sender says so, nothing more may have gone out
wait_for "the sender to say why it waits" 10 bash -c "\"$BIN\" campaign stats $C10 | grep -q 'waiting: relay slow paces sending (quota 40 per 3600 s)'"
[ "$(psql_q "SELECT n_sent FROM campaigns WHERE id = $C10")" = 40 ] || fail "quota exceeded: $(psql_q "SELECT n_sent FROM campaigns WHERE id = $C10") sent"
mta_drain
[ "$(sink_count)" = 40 ] || fail "the sink got $(sink_count) messages, quota 40"
# a throughput job: the loop's thread and the worker threads that composed the 40 run SCHED_BATCH (3)
policies=$(for t in /proc/$qp/task/*; do sed 's/^.*) //' "$t/stat" | cut -d' ' -f39; done | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
case "$policies" in
"3x"[2-9]" " | "3x"[1-9][0-9]" ") ;;
*) fail "the sender's threads by scheduling policy (policy x threads): $policies; want SCHED_BATCH (3) for all, two threads at least" ;;
esac
kill -TERM $qp
wait_for "the sender to stop on SIGTERM though the quota holds messages back" 20 bash -c "! kill -0 $qp 2>/dev/null"
wait $qp
[ "$(psql_q "SELECT n_sent, n_failed, n_deferred FROM campaigns WHERE id = $C10")" = "40|0|0" ] || fail "after stopping: $(psql_q "SELECT n_sent, n_failed, n_queued, n_deferred FROM campaigns WHERE id = $C10")"
[ "$(psql_q "SELECT count(*) FROM deliveries WHERE campaign_id = $C10 AND lease_owner IS NOT NULL")" = 0 ] || fail "leases kept after a clean stop"
[ "$(psql_q "SELECT count(*) FROM senders WHERE name = 'quota'")" = 0 ] || fail "the stopped sender is still listed"
counters_match_ledger "$C10"
postino campaign cancel "$C10"
postino relay rm slow
relay_setup

check "a test send goes out at once and stays out of the ledger"
sink_clear
postino campaign test "$C1" --to someone@example.net
expect_rc 0
expect_out "test message sent to someone@example.net through local: 250"
wait_for "the test message" 20 bash -c "[ \"\$(cat $MTA/sink/* 2>/dev/null | grep -c '^X-Rcpt-Args: <someone@example.net>')\" = 1 ]"
[ "$(psql_q "SELECT count(*) FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = 'someone@example.net'")" = 0 ] || fail "test send in the ledger"

check "a recipient whose message cannot be composed fails at once with the reason and send --until-done ends; a two-line name is one line in To and Subject"
sink_clear
postino list create odd
printf 'email,name\nann@example.org,"Ann\r\nLee"\nbad@example.org,Bad\n' > odd.csv
postino import odd.csv --list odd
expect_rc 0
# a name stored before names were checked where they come in
psql_q "UPDATE subscribers SET name = E'Bad\\001Name' WHERE email = 'bad@example.org'" >/dev/null
postino campaign create --name Odd --subject 'Hello {{ name }}' --from 'News <news@example.com>' --list odd \
    --html body.html --json
C11=$(jq_get "$out" "j['id']")
postino campaign send "$C11"
timeout $((40 * ${POSTINO_TEST_PATIENCE:-3})) "$BIN" send --until-done > odd.out 2>&1
rc=$?
[ "$rc" = 0 ] || fail "send --until-done did not end (exit $rc): $(tail -3 odd.out)"
[ "$(campaign_status "$C11")" = finished ] || fail "campaign not finished: $(campaign_status "$C11")"
[ "$(psql_q "SELECT d.state || '|' || d.attempts || '|' || d.smtp_code || '|' || d.smtp_reply FROM deliveries d
             JOIN subscribers s ON s.id = d.subscriber_id WHERE d.campaign_id = $C11 AND s.email = 'bad@example.org'")" = \
  "failed|1|0|cannot compose: the recipient's name holds a control character" ] ||
    fail "the delivery that cannot be composed: $(psql_q "SELECT state, attempts, smtp_code, smtp_reply FROM deliveries WHERE campaign_id = $C11")"
[ "$(psql_q "SELECT count(*) FROM bounces WHERE campaign_id = $C11") $(psql_q "SELECT status FROM subscribers WHERE email = 'bad@example.org'")" = "0 enabled" ] ||
    fail "a message that could not be composed counted as a bounce"
[ "$(psql_q "SELECT n_sent, n_failed FROM campaigns WHERE id = $C11")" = "1|1" ] || fail "counters"
counters_match_ledger "$C11"
mta_drain
$PY - "$MTA/sink" <<'PYEOF' || fail "the two-line name in To and Subject"
import email, email.policy, os, sys
d = sys.argv[1]
msgs = [open(os.path.join(d, f), 'rb').read() for f in os.listdir(d)]
assert len(msgs) == 1, len(msgs)
raw = msgs[0].replace(b'\r\n', b'\n').split(b'\n\n', 1)[0]  # the sink writes LF line ends
assert b'\nTo: Ann Lee <ann@example.org>\n' in raw, raw
assert b'\nSubject: Hello Ann Lee\n' in raw, raw
m = email.message_from_bytes(msgs[0], policy=email.policy.default)
assert str(m['Subject']) == 'Hello Ann Lee' and m['To'].addresses[0].display_name == 'Ann Lee', (m['Subject'], m['To'])
PYEOF

finish
