#!/bin/bash
# test_admin_e2e - the web admin from end to end, as a marketer uses it, in
# headless Chromium (admin_e2e.py): log in, make a list, import a CSV with bad
# rows and read and download its rejects, write a campaign in Markdown with
# its preview following the typing, send a test message (found in smtp-sink),
# send the campaign while Postfix refuses one recipient for good (5xx), watch
# the report reach "finished" with that failure and its reply, let Postfix
# take the address and Retry, watch the report reach "finished" with none
# failed, log out and find the old session refused. Only the setup (the
# admin user, the relay, a DKIM key, Postfix and its sink) uses the CLI; then
# the ledger and the sink are checked here: every recipient got exactly one
# message, the retried one on its same delivery row. Screenshots of every
# screen in build/screens/e2e-*.png.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/api_lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
api_setup 18297
SHOTS="$ROOT/build/screens"
MTA_PORT=18298 SINK_PORT_=18299
REFUSED=carol@example.org

check "setup: a database, an admin, Postfix refusing $REFUSED (5xx) in front of smtp-sink, the relay, a DKIM key, serve"
postino db init
expect_rc 0
api_admin
mta_start "$MTA_PORT" "$SINK_PORT_"
printf '%s 550 5.7.1 refused by local policy\n' "$REFUSED" > "$MTA/rcpt_access"
postmap "$MTA/rcpt_access"
mta_conf "smtpd_recipient_restrictions=check_recipient_access hash:$MTA/rcpt_access, permit_sasl_authenticated, reject"
relay_setup
expect_rc 0
postino dkim add example.com --selector e2e
expect_rc 0
out=""
"$BIN" serve --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
api_wait
# the file a marketer brings: an invalid address, a repeated one (in another case), a spreadsheet
# formula where the address goes, a line with two fields too many
cat > people.csv <<'EOF'
email,name,city
ann@example.org,Ann Lee,Lyon
bob@example.org,Bob Stone,Paris
carol@example.org,Carol King,Rome
not-an-email,Nobody,Nice
ANN@example.org,Ann Lee,Lyon
=2+5,Formula,Oslo
dan@example.org,Dan Bell,Nice,extra,more
erin@example.org,Erin Moss,Turin
EOF
# what the browser runs when the report shows the failure: Postfix takes every address from then
# on (stopped and started: an smtpd keeps its maps for as long as its connection lasts)
cat > accept.sh <<EOF
: > "$MTA/rcpt_access"
postmap "$MTA/rcpt_access"
sh "$ROOT/scripts/postfix.sh" stop "$MTA"
sh "$ROOT/scripts/postfix.sh" start "$MTA" --port $MTA_PORT --sink-port $SINK_PORT_ --password secret
EOF

check "the scenario in headless Chromium (screenshots build/screens/e2e-*.png)"
mkdir -p "$SHOTS"
rm -f "$SHOTS"/e2e-*.png
/usr/bin/python3 "$ROOT/tests/integration/admin_e2e.py" "$API" "$SHOTS" "$WORK" "$MTA/sink" "$WORK/accept.sh" \
    > browser.log 2>&1 || fail "the browser run failed: $(tail -8 browser.log)"
grep -q '^ok ' browser.log || fail "the browser run reported nothing"
missing=""
for s in login login-390 dashboard-start lists import-preview import-done import-done-390 editor-typing editor-preview \
         editor-preview-390 editor-test editor-sent campaigns reports report-failed report-failed-390 report-retried \
         report-retried-390 dashboard dashboard-390 logged-out; do
    [ -s "$SHOTS/e2e-$s.png" ] || missing="$missing e2e-$s.png"
done
[ -z "$missing" ] || fail "no screenshot:$missing"

check "the ledger: four recipients sent, $REFUSED on its one delivery row after two attempts; the counters agree"
C=$(psql_q "SELECT id FROM campaigns WHERE name = 'Spring sale'")
[ -n "$C" ] || fail "the campaign made in the browser is not stored"
[ "$(psql_q "SELECT status || ' ' || body_format || ' ' || n_total || ' ' || n_sent || ' ' || n_failed FROM campaigns WHERE id = $C")" = \
    "finished markdown 4 4 0" ] || fail "the campaign: $(psql_q "SELECT status, body_format, n_total, n_sent, n_failed FROM campaigns WHERE id = $C")"
[ "$(psql_q "SELECT count(*) || ' ' || min(d.state) || ' ' || min(d.attempts) || ' ' || (min(d.requeued_at) IS NOT NULL)
             FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.campaign_id = $C AND s.email = '$REFUSED'")" = \
    "1 sent 2 true" ] || fail "$REFUSED's delivery: $(psql_q "SELECT d.* FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = '$REFUSED'")"
counters_match_ledger "$C"
[ "$(psql_q "SELECT string_agg(email || ':' || name, ' ' ORDER BY email) FROM subscribers")" = \
    "ann@example.org:Ann Lee bob@example.org:Bob Stone carol@example.org:Carol King erin@example.org:Erin Moss" ] ||
    fail "the imported subscribers: $(psql_q "SELECT string_agg(email, ' ') FROM subscribers")"

check "the sink: once Postfix's queue is empty, one message for each recipient and one test message, no more"
mta_drain
[ "$(sink_rcpts | paste -sd' ')" = "ann@example.org bob@example.org carol@example.org erin@example.org tester@example.net" ] ||
    fail "the sink's recipients: $(sink_rcpts | paste -sd' ')"
finish
