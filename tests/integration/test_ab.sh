#!/bin/bash
# test_ab - A/B tests of campaigns. The bad inputs (one variant or five,
# a sample of 0% or 100%, a window of 0, an unknown metric, a metric not
# tracked) get one line naming the field, from the CLI and the API alike; a
# started campaign's variants cannot change. A test sends to a reproducible
# sample (the first by md5 of campaign and subscriber), evenly split, the
# rest held; its winner goes to the rest when picked by hand (CLI and API)
# or by the scheduler in serve after the window. The switch survives kill -9
# between its update and its commit (POSTINO_TEST_AB_SWITCH=die), of the CLI
# and of serve: nothing moves, and the next try sends the rest. Postfix and
# smtp-sink then hold exactly one message per recipient, whose subject, body
# and From are its delivery's variant's.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/api_lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
api_setup 18497
export POSTINO_HTTP_PUBLIC_URL="$API"

serve_start() {   # serve_start [ENV=VALUE...]: serve with its sender, in the background
    env "$@" "$BIN" serve --listen "127.0.0.1:$PORT" >>serve.log 2>&1 &
    SERVER=$!
    api_wait
}
serve_stop() { kill -TERM "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; SERVER=""; }
q() { psql_q "$1"; }
sent_is() { [ "$(q "SELECT n_sent FROM campaigns WHERE id = $1")" = "$2" ]; }
is_finished() { [ "$(campaign_status "$1")" = finished ]; }
winner_is_set() { [ -n "$(q "SELECT winner FROM campaign_ab WHERE campaign_id = $1")" ]; }
pid_gone() { ! kill -0 "$1" 2>/dev/null; }
# every message in the sink as "recipient|subject|from|variant-marker", sorted
sink_table() {
    /usr/bin/python3 - "$MTA/sink" <<'PY'
import email, email.header, os, sys
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    m = email.message_from_binary_file(open(os.path.join(d, f), 'rb'))
    rcpt = m['X-Rcpt-Args'].split('>')[0].lstrip('<')
    subj = str(email.header.make_header(email.header.decode_header(m['Subject'])))
    frm = str(email.header.make_header(email.header.decode_header(m['From'])))
    body = ''
    for p in m.walk():
        if p.get_content_type() == 'text/html':
            body = p.get_payload(decode=True).decode()
    mark = 'BODY-B' if 'Body B' in body else ('BODY-MAIN' if 'Main body' in body else 'BODY-?')
    print('%s|%s|%s|%s' % (rcpt, subj, frm, mark))
PY
}
# what each recipient of campaign $1 should have got, from its delivery's variant, sorted as sink_table
expected_table() {
    q "SELECT s.email || '|' || v.subject || '|' || coalesce(v.from_name, 'Team') || ' <news@example.com>|'
              || CASE WHEN v.html IS NOT NULL THEN 'BODY-B' ELSE 'BODY-MAIN' END
       FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
       JOIN campaign_variants v ON v.campaign_id = d.campaign_id AND v.n = d.variant
       WHERE d.campaign_id = $1 AND d.state = 'sent' ORDER BY 1" | LC_ALL=C sort
}

check "setup: lists of 40 and 30 subscribers, a DKIM key, Postfix relaying to smtp-sink, serve"
postino db init
expect_rc 0
api_admin
mta_start 18498 18499
postino list create alpha
postino list create beta
add_subscribers alpha 1 40
add_subscribers beta 101 130
postino dkim add example.com --selector r1
relay_setup
printf '<p>Main body for {{ name }}.</p>\n' > body.html
printf '<p>Body B for {{ name }}.</p>\n' > body-b.html
serve_start

create() {   # create EXTRA...: a campaign on alpha with the flags given
    postino campaign create --name "Spring" --from 'Team <news@example.com>' --list alpha --html body.html \
        --track-opens "$@"
}

check "CLI: one variant or five, a sample of 0% or 100%, a window of 0, an unknown metric: one line naming the field"
create --variant-subject A --ab-sample 20% --ab-window 4h
expect_rc 1; expect_err "2 to 4 variants, not 1"; expect_err_lines 1
create --variant-subject A --variant-subject B --variant-subject C --variant-subject D --variant-subject E \
    --ab-sample 20% --ab-window 4h
expect_rc 1; expect_err "2 to 4 variants, not 5"; expect_err_lines 1
for bad in 0% 100%; do
    create --variant-subject A --variant-subject B --ab-sample "$bad" --ab-window 4h
    expect_rc 1; expect_err "ab.sample must be between 1% and 99%"; expect_err_lines 1
done
create --variant-subject A --variant-subject B --ab-sample 0 --ab-window 4h
expect_rc 1; expect_err "ab.sample must be at least 1"
create --variant-subject A --variant-subject B --ab-sample 20% --ab-window 0
expect_rc 1; expect_err "ab.window must be a time from 1s to 30d"; expect_err_lines 1
create --variant-subject A --variant-subject B --ab-sample 20% --ab-window 4h --ab-metric replies
expect_rc 1; expect_err "ab.metric must be opens or clicks"; expect_err_lines 1
create --variant-subject A --variant-subject B --ab-sample 20% --ab-window 4h --ab-metric clicks
expect_rc 1; expect_err "the A/B test picks by clicks: the campaign must track clicks"
create --variant-subject A --variant-subject B --ab-sample 20% --ab-window 4h --ab-pick sometimes
expect_rc 1; expect_err "ab.pick must be auto or manual"
create --variant-subject A --variant-subject B --ab-sample 20%
expect_rc 1; expect_err "ab.window"
create --variant-html body-b.html --variant-subject A --variant-subject B --ab-sample 20% --ab-window 4h
expect_rc 2; expect_err "--variant-html and --variant-from belong to the --variant-subject before them"
[ "$(q "SELECT count(*) FROM campaigns")" = 0 ] || fail "a refused campaign was stored"

check "CLI: a campaign with two variants (the second with its own body and From name), half the audience, a manual pick"
create --variant-subject 'Subject A' --variant-subject 'Subject B' --variant-html body-b.html \
    --variant-from 'Team B' --ab-sample 50% --ab-window 1h --ab-pick manual --json
expect_rc 0
C1=$(jq_get "$out" "j['id']")
expect_out '"subject": "Subject A"'
jq_get "$out" "(j['ab']['sample'], j['ab']['window'], j['ab']['pick'], j['ab']['metric'], [v['subject'] for v in j['ab']['variants']], j['ab']['variants'][1]['from_name'])" > ab.txt
[ "$(cat ab.txt)" = "('50%', 3600, 'manual', 'opens', ['Subject A', 'Subject B'], 'Team B')" ] || fail "stored test: $(cat ab.txt)"
postino campaign ab "$C1"
expect_rc 0; expect_out "winner: not yet (the window ends when the campaign starts)"
postino campaign show "$C1"
expect_rc 0
expect_out "A/B test: sample 50%, by unique opens, window 3600 s, manual pick"
expect_out "  variant 1: Subject A
  variant 2: Subject B (own body) from Team B"

postino campaign preview "$C1" --subscriber user1@example.org --variant 2
expect_rc 0
expect_out "Subject: Subject B"
expect_out "From: Team B <news@example.com>"
expect_out "Body B for User 1."
postino campaign preview "$C1" --subscriber user1@example.org
expect_rc 0
expect_out "Subject: Subject A"
expect_out "Main body for User 1."
postino campaign preview "$C1" --subscriber user1@example.org --variant 3
expect_rc 1; expect_err "campaign $C1 has no variant 3"

check "send: a reproducible sample of 20, ten per variant, the other 20 held; the counters agree"
postino campaign send "$C1"
expect_rc 0
[ "$(q "SELECT n_total || '/' || n_held || '/' || test_size FROM campaigns c JOIN campaign_ab a ON a.campaign_id = c.id WHERE c.id = $C1")" = "40/20/20" ] ||
    fail "counters: $(q "SELECT n_total, n_queued, n_held FROM campaigns WHERE id = $C1")"
[ "$(q "SELECT string_agg(coalesce(variant::text, '-') || ':' || state || ':' || n, ',' ORDER BY variant, state) FROM
        (SELECT variant, state, count(*) n FROM deliveries WHERE campaign_id = $C1 GROUP BY 1, 2) x")" = "1:queued:10,2:queued:10,-:held:20" ] ||
    fail "split: $(q "SELECT variant, state, count(*) FROM deliveries WHERE campaign_id = $C1 GROUP BY 1, 2")"
# the sample is the first 20 by md5(campaign:subscriber), variants in turn
[ "$(q "SELECT count(*) FROM (SELECT d.variant, row_number() OVER (ORDER BY md5('$C1:' || d.subscriber_id), d.id) rn
        FROM deliveries d WHERE d.campaign_id = $C1) x
        WHERE (rn <= 20 AND variant = (rn - 1) % 2 + 1) OR (rn > 20 AND variant IS NULL)")" = 40 ] || fail "the sample is not the md5 order"

req GET "/api/v1/campaigns/$C1/deliveries?state=held&limit=1000"
expect_code 200
expect_json "(len(j['items']), {d['state'] for d in j['items']})" "(20, {'held'})"
req GET "/api/v1/campaigns/$C1/preview?email=user2@example.org&variant=2" "" "$ADMIN" ""
expect_code 200
case "$body" in *"Subject: Subject B"*) ;; *) fail "the API's preview of variant 2: $(printf '%s' "$body" | head -c 300)" ;; esac
req GET "/api/v1/campaigns/$C1/preview?email=user2@example.org&variant=9"
expect_error 400 invalid_field variant

check "the sender sends the sample only; the held rest waits; the campaign does not finish"
wait_for "20 sent" 120 sent_is "$C1" 20
mta_drain
wait_for "20 in the sink" 60 bash -c "[ \$(ls $MTA/sink | wc -l) = 20 ]"
sleep_check=$(q "SELECT status || '/' || n_held FROM campaigns WHERE id = $C1")
[ "$sleep_check" = "running/20" ] || fail "after the sample: $sleep_check"

check "a started campaign's test cannot change: CLI edit and API PATCH refused"
create --variant-subject X --variant-subject Y --ab-sample 10% --ab-window 1h
C_tmp=$(q "SELECT max(id) FROM campaigns")
postino campaign edit "$C1" --name Spring --variant-subject X --variant-subject Y --from news@example.com --list alpha \
    --html body.html --track-opens --ab-sample 10% --ab-window 1h
expect_rc 1; expect_err "cannot edit campaign $C1: it is running"
req PATCH "/api/v1/campaigns/$C1" '{"ab": {"variants": [{"subject": "X"}, {"subject": "Y"}], "sample": "10%", "window": "1h"}}'
expect_error 409 conflict ab
expect_json "j['error']['fields']" "['ab']"
[ "$(q "SELECT string_agg(subject, ',' ORDER BY n) FROM campaign_variants WHERE campaign_id = $C1")" = "Subject A,Subject B" ] ||
    fail "the variants changed"
postino campaign rm "$C_tmp"

check "results: unique opens per variant in campaign ab, stats and the API; variant 2 leads"
q "INSERT INTO opens (delivery_id, campaign_id) SELECT id, campaign_id FROM deliveries
   WHERE campaign_id = $C1 AND variant = 2 ORDER BY id LIMIT 3" >/dev/null
q "INSERT INTO opens (delivery_id, campaign_id) SELECT id, campaign_id FROM deliveries
   WHERE campaign_id = $C1 AND variant = 1 ORDER BY id LIMIT 1" >/dev/null
postino campaign ab "$C1" --json
expect_rc 0
[ "$(jq_get "$out" "[(v['n'], v['recipients'], v['sent'], v['opens'], v['open_rate']) for v in j['ab']['variants']]")" = \
  "[(1, 10, 10, 1, 10.0), (2, 10, 10, 3, 30.0)]" ] || fail "results: $out"
postino campaign stats "$C1"
expect_out "held       20"
expect_out "A/B test: sample 50% (20 recipients), by unique opens"
req GET "/api/v1/campaigns/$C1/stats"
expect_code 200
expect_json "(j['held'], j['ab']['winner'], [v['opens'] for v in j['ab']['variants']])" "(20, None, [1, 3])"

check "CLI pick killed between the switch and its commit: nothing moved"
POSTINO_TEST_AB_SWITCH=die "$BIN" campaign ab "$C1" --pick best >pick-die.out 2>&1
[ $? = 137 ] || fail "the pick was not killed: $(cat pick-die.out)"
[ "$(q "SELECT coalesce(a.winner::text, 'none') || '/' || c.n_held || '/' || (SELECT count(*) FROM deliveries
        WHERE campaign_id = $C1 AND state = 'held') FROM campaigns c JOIN campaign_ab a ON a.campaign_id = c.id WHERE c.id = $C1")" = "none/20/20" ] ||
    fail "after the kill: $(q "SELECT winner FROM campaign_ab WHERE campaign_id = $C1"), held $(q "SELECT n_held FROM campaigns WHERE id = $C1")"

check "API: bad picks; then the pick by hand sends variant 2 to the rest, once"
req POST "/api/v1/campaigns/$C1/ab/pick" '{"variant": 5}'
expect_error 400 invalid_field variant
req POST "/api/v1/campaigns/$C1/ab/pick" '{"variant": "two"}'
expect_error 400 invalid_field variant
postino campaign ab "$C1" --pick 7
expect_rc 2
postino campaign ab "$C1" --pick best
expect_rc 0
expect_out "winner: variant 2 (manual"
[ "$(q "SELECT count(*) FROM deliveries WHERE campaign_id = $C1 AND variant = 2")" = 30 ] || fail "the rest did not get variant 2"
req POST "/api/v1/campaigns/$C1/ab/pick" '{"variant": 1}'
expect_error 409 conflict
wait_for "campaign $C1 finished" 180 is_finished "$C1"
mta_drain
wait_for "40 in the sink" 60 bash -c "[ \$(ls $MTA/sink | wc -l) = 40 ]"

check "the sink: each of the 40 recipients once, with its delivery's variant's subject, body and From"
sink_table | LC_ALL=C sort > sink1.txt
expected_table "$C1" > expected1.txt
[ "$(wc -l < sink1.txt)" = 40 ] || fail "$(wc -l < sink1.txt) messages"
[ "$(cut -d'|' -f1 sink1.txt | sort -u | wc -l)" = 40 ] || fail "a recipient got two messages"
diff expected1.txt sink1.txt > diff1.txt || fail "subjects differ from the deliveries' variants: $(head -5 diff1.txt)"
[ "$(grep -c '|Subject B|Team B <news@example.com>|BODY-B$' sink1.txt)" = 30 ] || fail "variant 2's messages: $(grep -c 'Subject B' sink1.txt)"
[ "$(grep -c '|Subject A|Team <news@example.com>|BODY-MAIN$' sink1.txt)" = 10 ] || fail "variant 1's messages"
counters_match_ledger "$C1"
sink_clear

check "API: bad tests refused naming the field; a good one by clicks, a sample of 10, automatic"
base='"name": "Beta", "from": "Team <news@example.com>", "lists": ["beta"], "html": "<p>Main body <a href=\"https://example.org/x\">x</a></p>", "track_clicks": true'
req POST /api/v1/campaigns "{$base, \"ab\": {\"variants\": [{\"subject\": \"A\"}], \"sample\": \"10%\", \"window\": \"1h\"}}"
expect_error 400 invalid_field ab.variants
req POST /api/v1/campaigns "{$base, \"ab\": {\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"B\"}], \"sample\": \"100%\", \"window\": \"1h\"}}"
expect_error 400 invalid_field ab.sample
req POST /api/v1/campaigns "{$base, \"ab\": {\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"B\"}], \"sample\": 10, \"window\": 0}}"
expect_error 400 invalid_field ab.window
req POST /api/v1/campaigns "{$base, \"ab\": {\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"B\"}], \"sample\": 10, \"window\": \"1h\", \"metric\": \"likes\"}}"
expect_error 400 invalid_field ab.metric
req POST /api/v1/campaigns "{$base, \"ab\": {\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"B\\nBcc: x\"}], \"sample\": 10, \"window\": \"1h\", \"metric\": \"clicks\"}}"
expect_error 400 invalid_field ab.variants
req POST /api/v1/campaigns "{$base, \"ab\": {\"variants\": [{\"subject\": \"Beta A\"}, {\"subject\": \"Beta B\"}, {\"subject\": \"Beta C\"}], \"sample\": 9, \"window\": \"1h\", \"metric\": \"clicks\"}}"
expect_code 201
C2=$(jq_get "$body" "j['id']")
expect_json "(j['subject'], j['ab']['sample'], j['ab']['window'], j['ab']['pick'])" "('Beta A', 9, 3600, 'auto')"
req POST "/api/v1/campaigns/$C2/ab/pick" '{"variant": 1}'
expect_error 400 invalid
expect_json "j['error']['message']" "campaign $C2 is draft: a winner is picked while it runs or is paused"
req POST /api/v1/campaigns "{$base, \"subject\": \"Plain\"}"
expect_code 201
CP=$(jq_get "$body" "j['id']")
expect_json "j['ab']" None
req GET "/api/v1/campaigns/$CP/ab"
expect_error 404 not_found
req PATCH "/api/v1/campaigns/$CP" '{"ab": {"variants": [{"subject": "P1"}, {"subject": "P2"}, {"subject": "P3"}, {"subject": "P4"}], "sample": "5%", "window": "30m", "metric": "clicks"}}'
expect_code 200
expect_json "([v['subject'] for v in j['ab']['variants']], j['ab']['sample'], j['ab']['window'])" "(['P1', 'P2', 'P3', 'P4'], '5%', 1800)"
req PATCH "/api/v1/campaigns/$CP" '{"name": "Beta plain"}'
expect_code 200
expect_json "(j['name'], len(j['ab']['variants']))" "('Beta plain', 4)"
req PATCH "/api/v1/campaigns/$CP" '{"ab": null}'
expect_code 200
expect_json "j['ab']" None
[ "$(q "SELECT count(*) FROM campaign_variants WHERE campaign_id = $CP")" = 0 ] || fail "the variants stayed"
req DELETE "/api/v1/campaigns/$CP"
expect_code 204
req POST "/api/v1/campaigns/$C2/send"
expect_code 200
expect_json "(j['total'], j['held'], j['queued'])" "(30, 21, 9)"
[ "$(q "SELECT string_agg(variant || ':' || n, ',' ORDER BY variant) FROM (SELECT variant, count(*) n FROM deliveries
        WHERE campaign_id = $C2 AND variant IS NOT NULL GROUP BY 1) x")" = "1:3,2:3,3:3" ] || fail "not three per variant"
wait_for "the sample of 9 sent" 120 sent_is "$C2" 9
q "INSERT INTO clicks (link_id, delivery_id, campaign_id) SELECT l.id, d.id, d.campaign_id FROM deliveries d
   JOIN links l ON l.campaign_id = d.campaign_id WHERE d.campaign_id = $C2 AND d.variant = 3 ORDER BY d.id LIMIT 2" >/dev/null
req GET "/api/v1/campaigns/$C2/ab"
expect_code 200
expect_json "[v['clicks'] for v in j['ab']['variants']]" "[0, 0, 2]"

check "serve killed -9 between the automatic switch and its commit: nothing moved; the next serve sends the winner once"
serve_stop
serve_start POSTINO_TEST_AB_SWITCH=die
DYING=$SERVER
q "UPDATE campaigns SET started_at = started_at - interval '2 hours' WHERE id = $C2" >/dev/null
wait_for "serve to die at the switch" 120 pid_gone "$DYING"
wait "$DYING" 2>/dev/null
SERVER=""
[ "$(q "SELECT coalesce(a.winner::text, 'none') || '/' || c.n_held || '/' || (SELECT count(*) FROM deliveries
        WHERE campaign_id = $C2 AND state = 'held') FROM campaigns c JOIN campaign_ab a ON a.campaign_id = c.id WHERE c.id = $C2")" = "none/21/21" ] ||
    fail "after the kill: $(q "SELECT winner, n_held FROM campaign_ab a JOIN campaigns c ON c.id = a.campaign_id WHERE c.id = $C2")"
serve_start
wait_for "the scheduler to pick the winner" 120 winner_is_set "$C2"
[ "$(q "SELECT winner || '/' || decided_by FROM campaign_ab WHERE campaign_id = $C2")" = "3/auto" ] ||
    fail "winner: $(q "SELECT winner, decided_by FROM campaign_ab WHERE campaign_id = $C2")"
wait_for "campaign $C2 finished" 180 is_finished "$C2"
mta_drain
wait_for "30 in the sink" 60 bash -c "[ \$(ls $MTA/sink | wc -l) = 30 ]"
sink_table | LC_ALL=C sort > sink2.txt
expected_table "$C2" > expected2.txt
[ "$(cut -d'|' -f1 sink2.txt | sort -u | wc -l)" = 30 ] || fail "not 30 distinct recipients"
diff expected2.txt sink2.txt > diff2.txt || fail "subjects differ from the deliveries' variants: $(head -5 diff2.txt)"
[ "$(grep -c '|Beta C|' sink2.txt)" = 24 ] || fail "the winner went to $(grep -c '|Beta C|' sink2.txt), not 24"
counters_match_ledger "$C2"
grep -q "A/B test(s) decided" serve.log || fail "serve did not log the decision"

SHOTS="$ROOT/build/screens"
mkdir -p "$SHOTS"
browser() {   # browser PHASE ARGS...: one phase of admin_ab.py, its output in browser-PHASE.log
    local phase=$1
    shift
    /usr/bin/python3 "$ROOT/tests/integration/admin_ab.py" "$API" "$SHOTS" "$phase" "$@" > "browser-$phase.log" 2>&1 ||
        fail "the browser's $phase phase failed: $(tail -5 "browser-$phase.log")"
    grep -q '^ok ' "browser-$phase.log" || fail "the browser's $phase phase reported nothing"
}

check "admin: the editor's A/B box saves a test; a decided test's report marks its winner"
browser editor
browser report "$C2" 3

check "admin: the report's button picks the winner of a running manual test; the rest gets it, once"
postino list create gamma
add_subscribers gamma 201 206
postino campaign create --name Gamma --from 'Team <news@example.com>' --list gamma --html body.html --track-opens \
    --variant-subject 'Gamma A' --variant-subject 'Gamma B' --ab-sample 2 --ab-window 1h --ab-pick manual --json
C3=$(jq_get "$out" "j['id']")
postino campaign send "$C3"
expect_rc 0
wait_for "the sample of 2 sent" 120 sent_is "$C3" 2
browser pick "$C3" 2
wait_for "campaign $C3 finished" 180 is_finished "$C3"
mta_drain
wait_for "36 in the sink" 60 bash -c "[ \$(ls $MTA/sink | wc -l) = 36 ]"
[ "$(sink_table | grep -c '|Gamma B|')" = 5 ] || fail "variant 2 went to $(sink_table | grep -c '|Gamma B|'), not 5"
[ "$(sink_table | cut -d'|' -f1 | sort | uniq -d | wc -l)" = 0 ] || fail "a recipient got two messages"

check "a campaign cancelled during its test: the held rest is cancelled too; the counters agree"
postino campaign create --name Delta --from 'Team <news@example.com>' --list gamma --html body.html --track-opens \
    --variant-subject 'Delta A' --variant-subject 'Delta B' --ab-sample 2 --ab-window 1h --json
C4=$(jq_get "$out" "j['id']")
postino campaign send "$C4"
postino campaign cancel "$C4"
expect_rc 0
[ "$(q "SELECT n_held || '/' || n_cancelled + n_sent || '/' || (SELECT count(*) FROM deliveries WHERE campaign_id = $C4
        AND state = 'held') FROM campaigns WHERE id = $C4")" = "0/6/0" ] ||
    fail "after the cancel: $(q "SELECT n_held, n_cancelled, n_sent FROM campaigns WHERE id = $C4")"
counters_match_ledger "$C4"

finish
