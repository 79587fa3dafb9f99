#!/bin/bash
# test_api_tx - transactional messages through postino serve (API and sender
# in one process) and a real Postfix submission server to smtp-sink:
# POST /api/v1/tx sends exactly one personalised, DKIM-signed message (dkimpy
# verifies it) and GET /api/v1/tx/{id} reports it sent with the queue id;
# idempotency keys; blocklisted recipients refused; bad input; the double
# opt-in confirmation message and its signed /c/ link; imports send none.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
PY=/usr/bin/python3
source "$ROOT/tests/integration/api_lib.sh"
api_setup 18380
export POSTINO_MAIL_FROM='Shop <shop@example.com>'
tx_state() { req GET "/api/v1/tx/$1"; jq_get "$body" "j['state']"; }
tx_sent() { [ "$(tx_state "$1")" = sent ]; }
# sink_msg ADDR: the path of the one message the sink got for ADDR (fails unless exactly one)
sink_msg() {
    local files n
    files=$(grep -l "^X-Rcpt-Args: <$1>" "$MTA"/sink/* 2>/dev/null)
    n=$(printf '%s' "$files" | grep -c .)
    [ "$n" = 1 ] || { fail "the sink got $n messages for $1, expected 1"; return 1; }
    printf '%s\n' "$files"
}
sink_has() { grep -q "^X-Rcpt-Args: <$1>" "$MTA"/sink/* 2>/dev/null; }
deliveries() { psql_q "SELECT count(*) FROM deliveries"; }
db_now() { psql_q "SELECT extract(epoch FROM now())"; }
beat_after() { [ "$(psql_q "SELECT count(*) FROM senders WHERE seen_at > to_timestamp($1)")" -ge 1 ]; }
# housekept_after T: wait until the sender began a whole round of housekeeping (claims,
# forgetting idle campaigns, heartbeat) after epoch T: a heartbeat after T, then the next one
housekept_after() {
    local t
    wait_for "a heartbeat of the sender" 10 beat_after "$1"
    t=$(psql_q "SELECT extract(epoch FROM max(seen_at)) FROM senders")
    wait_for "the heartbeat after it" 10 beat_after "$t"
}

mta_start 17587 17025
postino db init
expect_rc 0
api_admin
postino dkim add example.com --selector r1
postino dkim add example.com --selector e1 --algorithm ed25519
"$BIN" dkim record example.com --json | $PY -c 'import json,sys; print(json.dumps([r["zone"] for r in json.load(sys.stdin)]))' > records.json
echo secret > "$WORK/relay.pw"
postino list create news --optin double
postino list create open
cat > receipt.html <<'EOF'
<p>Hello {{ name }}, order {{ attribs.order }} for {{ attribs.city }}, plan {{ attribs.plan | default "basic" }}.</p>
{{ content }}
EOF
postino template add receipt --html receipt.html
expect_rc 0
postino subscriber add bob@example.org --name Bob --attr city=Paris --attr plan=pro --list open
expect_rc 0

check "serve starts with no relay defined: the API answers, /healthz says the sender waits for a relay"
# the relays are read every 60 s here: the relay added below must be taken because the API says so
POSTINO_HTTP_MAX_BODY=4096 POSTINO_SEND_PREPARED_KEEP=2 POSTINO_SEND_RELAY_RELOAD=60 \
    POSTINO_SEND_RECONNECT_MIN_MS=100 POSTINO_SEND_RECONNECT_MAX_MS=400 "$BIN" serve --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
api_wait
kill -0 "$SERVER" 2>/dev/null || fail "serve exited with no relay: $(tail -3 serve.log)"
health_sender() { req GET /healthz "" ""; jq_get "$body" "(j['sender']['state'], j['sender']['detail'], j['sender']['relays'])"; }
waits_for_relay() { [ "$(health_sender)" = "('idle', 'no relay is configured', 0)" ]; }
wait_for "/healthz to say the sender is idle for lack of a relay" 10 waits_for_relay
req GET /healthz "" ""
expect_code 200
expect_json "(j['status'], j['database'])" "('ok', 'ok')"
[ "$(grep -c 'no relay is configured' serve.log)" = 1 ] || fail "the missing relay was not said exactly once: $(grep 'relay' serve.log)"

check "a message queued with no relay waits; the first relay added through the API carries it"
req POST /api/v1/tx '{"template":"receipt","to":"first@example.org","subject":"Order {{ attribs.order }}","data":{"order":"F-0"}}'
expect_code 201
T0=$(jq_get "$body" "j['delivery']")
# a whole round of the sender after the POST woke it: it has had its chance to claim, and must not have
housekept_after "$(db_now)"
[ "$(psql_q "SELECT state, attempts, lease_owner IS NULL FROM deliveries WHERE id = $T0")" = "queued|0|t" ] ||
    fail "with no relay the delivery was touched: $(psql_q "SELECT state, attempts, lease_owner FROM deliveries WHERE id = $T0")"
req POST /api/v1/relays "{\"name\":\"local\",\"host\":\"127.0.0.1\",\"port\":$MTA_PORT,\"username\":\"test\",\"password\":\"secret\",\"tls_verify\":false,\"max_per_conn\":50}"
expect_code 201
wait_for "delivery $T0 sent through the relay added over the API" 20 tx_sent "$T0"
req GET "/api/v1/tx/$T0"
expect_json "(j['relay'], j['attempts'])" "('local', 1)"
has_one_relay() { [ "$(health_sender)" = "('idle', '', 1)" ] || [ "$(health_sender)" = "('sending', '', 1)" ]; }
wait_for "/healthz to count the relay" 10 has_one_relay
mta_drain
sink_msg first@example.org >/dev/null
sink_clear
# the later checks change relays from the command line, which a sender reads every [send] relay_reload
kill -TERM "$SERVER"
wait "$SERVER" || fail "serve did not stop cleanly: $(tail -3 serve.log)"
mv serve.log serve-norelay.log
POSTINO_HTTP_MAX_BODY=4096 POSTINO_SEND_PREPARED_KEEP=2 POSTINO_SEND_RELAY_RELOAD=1 \
    POSTINO_SEND_RECONNECT_MIN_MS=100 POSTINO_SEND_RECONNECT_MAX_MS=400 "$BIN" serve --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
api_wait

check "POST /tx to a new address: 201, Location, queued; the subscriber is made on no list"
req POST /api/v1/tx '{"template":"receipt","to":" Ann@Example.ORG ","name":"Ann","subject":"Order {{ attribs.order }}","data":{"order":"A-17","city":"<Roma> & co"}}'
expect_code 201
expect_json "(sorted(j), j['state'])" "(['delivery', 'location', 'state'], 'queued')"
T1=$(jq_get "$body" "j['delivery']")
expect_json "j['location']" "/api/v1/tx/$T1"
printf '%s\n' "$headers" | grep -qx "Location: /api/v1/tx/$T1" || fail "no Location header: $headers"
[ "$(psql_q "SELECT s.name, s.status, (SELECT count(*) FROM subscriptions WHERE subscriber_id = s.id) FROM subscribers s WHERE email = 'Ann@example.org'")" = "Ann|enabled|0" ] ||
    fail "recipient: $(psql_q "SELECT * FROM subscribers WHERE email ILIKE 'ann@example.org'")"

check "the sender sends it at once: GET /tx/{id} shows sent with the queue id and the relay's reply"
wait_for "delivery $T1 sent" 20 tx_sent "$T1"
req GET "/api/v1/tx/$T1"
expect_code 200
expect_json "(j['delivery'], j['state'], j['to'], j['template'], j['attempts'], j['relay'])" "($T1, 'sent', 'Ann@example.org', 'receipt', 1, 'local')"
expect_json "(j['reply']['code'], j['reply']['enhanced'], bool(j['queue_id']), j['queue_id'] in j['reply']['text'])" "(250, '2.0.0', True, True)"
[ "$(psql_q "SELECT queue_id FROM deliveries WHERE id = $T1")" = "$(jq_get "$body" "j['queue_id']")" ] || fail "queue id differs from the ledger"
echo "POST to sent, first of its campaign: $(psql_q "SELECT round(extract(epoch FROM sent_at - created_at) * 1000) FROM deliveries WHERE id = $T1") ms" > latency.txt

check "the sink got exactly one message for it: personalised, escaped, no List-* headers, DKIM-verified twice"
mta_drain
M1=$(sink_msg Ann@example.org) || true
[ "$(sink_count)" = 1 ] || fail "the sink holds $(sink_count) messages, expected 1"
if [ -n "$M1" ]; then
    $PY - "$M1" <<'PY' || fail "message content"
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
assert str(m['Subject']) == 'Order A-17', m['Subject']
assert str(m['From']) == 'Shop <shop@example.com>', m['From']
assert str(m['To']) == 'Ann <Ann@example.org>', m['To']
for h in ('List-Unsubscribe', 'List-Unsubscribe-Post', 'List-Id'):
    assert m[h] is None, (h, m[h])
html = m.get_body(('html',)).get_content()
assert 'Hello Ann, order A-17 for &lt;Roma&gt; &amp; co, plan basic.' in html, html
text = m.get_body(('plain',)).get_content()
assert 'order A-17 for <Roma> & co' in text, text
PY
    $PY "$ROOT/tests/integration/dkim_verify.py" records.json "$M1" --expect 2 > verify.out 2>&1 ||
        fail "dkimpy: $(tail -3 verify.out)"
fi
TXC=$(psql_q "SELECT campaign_id FROM deliveries WHERE id = $T1")
counters_match_ledger "$TXC"
[ "$(psql_q "SELECT kind, status, n_sent FROM campaigns WHERE id = $TXC")" = "tx|running|2" ] || fail "tx campaign: $(psql_q "SELECT kind, status, n_sent FROM campaigns WHERE id = $TXC") (first@ and Ann)"

check "an existing subscriber: data overrides its attributes for this message only, name too"
req POST /api/v1/tx '{"template":"receipt","to":"BOB@example.org","name":"Robert","subject":"Order {{ attribs.order }}","data":{"order":"B-2","city":"Lyon"}}'
expect_code 201
T2=$(jq_get "$body" "j['delivery']")
wait_for "delivery $T2 sent" 20 tx_sent "$T2"
echo "POST to sent, campaign prepared: $(psql_q "SELECT round(extract(epoch FROM sent_at - created_at) * 1000) FROM deliveries WHERE id = $T2") ms" >> latency.txt
mta_drain
M2=$(sink_msg bob@example.org) || true
[ -n "$M2" ] && { $PY - "$M2" <<'PY' || fail "message content"
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
assert str(m['To']) == 'Robert <bob@example.org>', m['To']
html = m.get_body(('html',)).get_content()
assert 'Hello Robert, order B-2 for Lyon, plan pro.' in html, html
PY
}
[ "$(psql_q "SELECT name, attribs->>'city' FROM subscribers WHERE email = 'bob@example.org'")" = "Bob|Paris" ] ||
    fail "the subscriber was changed"
[ "$(psql_q "SELECT count(DISTINCT campaign_id) FROM deliveries WHERE id IN ($T1, $T2)")" = 1 ] || fail "one template, subject and sender: one hidden campaign"
counters_match_ledger "$TXC"

# tx_via RELAY ORDER: a message to bob through RELAY; its delivery id in TX
tx_via() {
    req POST /api/v1/tx '{"template":"receipt","to":"bob@example.org","subject":"Order {{ attribs.order }}","data":{"order":"'"$2"'"},"relay":"'"$1"'"}'
    expect_code 201
    TX=$(jq_get "$body" "j['delivery']")
}
# sent_via RELAY DELIVERY: it is sent, through RELAY
sent_via() {
    wait_for "delivery $2 sent through $1" 20 tx_sent "$2"
    req GET "/api/v1/tx/$2"
    expect_json "(j['state'], j['relay'])" "('sent', '$1')"
}

check "a named relay: its own hidden campaign, sent through it; an unknown relay is 404 naming the field"
tx_via local B-3
T4=$TX
sent_via local "$T4"
[ "$(psql_q "SELECT c.relay, c.id <> $TXC FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id WHERE d.id = $T4")" = "local|t" ] ||
    fail "the relay's hidden campaign"
N0=$(deliveries)
req POST /api/v1/tx '{"template":"receipt","to":"bob@example.org","subject":"s","relay":"nosuch"}'
expect_error 404 not_found relay
[ "$(deliveries)" = "$N0" ] || fail "a delivery was queued for an unknown relay"

check "relays change under a running serve: one added is used at once, one changed with its new settings, one removed is dropped"
postino relay add second --host 127.0.0.1 --port "$MTA_PORT" --user test --password-file "$WORK/relay.pw" --tls-verify no
expect_rc 0
tx_via second R-1
sent_via second "$TX"
grep -q "relay second added" serve.log || fail "no log line for the added relay"
# rm then add may be read between the two: the new settings then show as "removed" and "added"
taken() { grep -c "relay second \(added\|changed\)" serve.log; }
dropped() { grep -c "relay second removed" serve.log; }
more() { [ "$($1)" -gt "$2" ]; }
n=$(taken)
postino relay rm second
postino relay add second --host 127.0.0.1 --port 9 --tls none --max-conns 1
expect_rc 0
wait_for "the sender to take the changed relay" 10 more taken "$n"
tx_via second R-2
R2=$TX
tx_deferred() { [ "$(tx_state "$1")" = deferred ]; }
wait_for "delivery $R2 deferred by the relay's new, dead port" 20 tx_deferred "$R2"
req GET "/api/v1/tx/$R2"
expect_json "(j['relay'], j['reply'] is not None and 'connect' in j['reply']['text'])" "('second', True)"
n=$(taken)
postino relay rm second
postino relay add second --host 127.0.0.1 --port "$MTA_PORT" --user test --password-file "$WORK/relay.pw" --tls-verify no
wait_for "the sender to take the relay changed back" 10 more taken "$n"
psql_q "UPDATE deliveries SET next_attempt_at = now() WHERE id = $R2" >/dev/null
wait_for "delivery $R2 sent once the relay works again" 15 tx_sent "$R2"
# deferred at least once by the dead port (how often depends on the machine's speed), then sent through 'second'
req GET "/api/v1/tx/$R2"
expect_json "(j['state'], j['relay'], j['attempts'] >= 2)" "('sent', 'second', True)"
n=$(dropped)
postino relay rm second
wait_for "the sender to drop the removed relay" 10 more dropped "$n"
req POST /api/v1/tx '{"template":"receipt","to":"bob@example.org","subject":"s","relay":"second"}'
expect_error 404 not_found relay

check "messages waiting in a relay's pace when the relay changes go out through its new settings, each once"
postino relay add slow --host 127.0.0.1 --port "$MTA_PORT" --user test --password-file "$WORK/relay.pw" --tls-verify no \
    --rate 0.02/s --max-conns 1
expect_rc 0
tx_via slow S-1
S1=$TX
sent_via slow "$S1"
tx_via slow S-2
S2=$TX
tx_via slow S-3
S3=$TX
pace_holds() { [ "$(psql_q "SELECT count(*) FROM senders WHERE status LIKE 'waiting: relay slow paces sending%'")" = 1 ]; }
wait_for "the sender to say the relay's pace holds S-2 and S-3" 10 pace_holds
[ "$(tx_state "$S2")" = queued ] || fail "S-2 did not wait for the relay's pace (one message per 50 s)"
# changed in one statement, so the sender sees a change: 'relay rm' then 'relay add' can be read
# between the two on a slow machine, and a removed relay defers what waits for it (as it should)
changed_slow() { grep -c "relay slow changed" serve.log; }
n=$(changed_slow)
psql_q "UPDATE relays SET rate = NULL, updated_at = now() WHERE name = 'slow'" >/dev/null
wait_for "the sender to take the unpaced relay" 10 more changed_slow "$n"
# on their first attempt: taken back from the closing pool and sent again, never deferred
sent_via slow "$S2"
expect_json "j['attempts']" 1
sent_via slow "$S3"
expect_json "j['attempts']" 1
mta_drain
for k in 1 2 3; do
    c=$(grep -l "^Subject: Order S-$k\r\?$" "$MTA"/sink/* 2>/dev/null | wc -l)
    [ "$c" = 1 ] || fail "the sink got $c messages for order S-$k, expected 1"
done
postino relay rm slow

check "transactional campaigns are not listed among campaigns and cannot be cancelled"
req GET /api/v1/campaigns
expect_code 200
expect_json "j['items']" "[]"
postino campaign ls --json
expect_out_eq "[]"
req POST "/api/v1/campaigns/$TXC/cancel"
expect_error 400 invalid
[ "$(psql_q "SELECT status FROM campaigns WHERE id = $TXC")" = running ] || fail "tx campaign moved"

check "a template changed over the API reaches the running sender's next transactional message"
req PUT /api/v1/templates/receipt "$(/usr/bin/python3 -c 'import json; print(json.dumps({"name": "receipt", "html": "<p>Hi {{ name }}, your order {{ attribs.order }} shipped.</p>{{ content }}"}))')"
expect_code 200
# the sender prepares a campaign again [send] prepared_keep (2 s here) after it last did, once no job uses it
housekept_after "$(psql_q "SELECT extract(epoch FROM max(updated_at) + interval '2 s') FROM deliveries")"
req POST /api/v1/tx '{"template":"receipt","to":"lea@example.org","name":"Lea","subject":"Order {{ attribs.order }}","data":{"order":"D-4"}}'
expect_code 201
T5=$(jq_get "$body" "j['delivery']")
wait_for "delivery $T5 sent" 20 tx_sent "$T5"
wait_for "the message for lea" 20 sink_has lea@example.org
mta_drain
$PY - "$(sink_msg lea@example.org)" <<'PYEOF' || fail "the message was not made from the changed template"
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
html = m.get_body(('html',)).get_content()
assert 'Hi Lea, your order D-4 shipped.' in html, html
PYEOF

check "an Idempotency-Key sent twice: one delivery, one message; the same key for another address is 409"
sink_clear
N0=$(deliveries)
req POST /api/v1/tx '{"template":"receipt","to":"carl@example.org","subject":"Order {{ attribs.order }}","data":{"order":"C-3"}}' "$ADMIN" application/json "Idempotency-Key: order-C-3"
expect_code 201
T3=$(jq_get "$body" "j['delivery']")
req POST /api/v1/tx '{"template":"receipt","to":"carl@example.org","subject":"Order {{ attribs.order }}","data":{"order":"C-3"}}' "$ADMIN" application/json "Idempotency-Key: order-C-3"
expect_code 200
expect_json "j['delivery']" "$T3"
printf '%s\n' "$headers" | grep -qx "Location: /api/v1/tx/$T3" || fail "no Location header on the repeat"
req POST /api/v1/tx '{"template":"receipt","to":"carl@example.org","subject":"Order {{ attribs.order }}","key":"order-C-3"}'
expect_code 200
expect_json "j['delivery']" "$T3"
req POST /api/v1/tx '{"template":"receipt","to":"other@example.org","subject":"x","key":"order-C-3"}'
expect_error 409 key_reused key
req POST /api/v1/tx '{"template":"receipt","to":"carl@example.org","subject":"x","key":"k1"}' "$ADMIN" application/json "Idempotency-Key: k2"
expect_error 400 invalid_field key
[ "$(deliveries)" = $((N0 + 1)) ] || fail "$(deliveries) deliveries, expected $((N0 + 1))"
[ "$(psql_q "SELECT count(*) FROM subscribers WHERE email = 'other@example.org'")" = 0 ] || fail "a refused request left a subscriber"
wait_for "delivery $T3 sent" 20 tx_sent "$T3"
req POST /api/v1/tx '{"template":"receipt","to":"carl@example.org","subject":"Order {{ attribs.order }}"}' "$ADMIN" application/json "Idempotency-Key: order-C-3"
expect_code 200
expect_json "(j['delivery'], j['state'])" "($T3, 'sent')"
housekept_after "$(db_now)"
mta_drain
[ "$(sink_rcpts)" = "carl@example.org" ] || fail "the sink got: $(sink_rcpts | tr '\n' ' ')"

check "a blocklisted address is refused with 409 naming it; nothing is queued or sent"
postino subscriber add dan@example.org
postino subscriber blocklist dan@example.org
expect_rc 0
N0=$(deliveries)
req POST /api/v1/tx '{"template":"receipt","to":"dan@example.org","subject":"hi"}'
expect_error 409 blocklisted to
expect_json "'dan@example.org' in j['error']['message']" True
[ "$(deliveries)" = "$N0" ] || fail "a delivery was queued"
housekept_after "$(db_now)"
mta_drain
sink_has dan@example.org && fail "the sink got a message for a blocklisted address"

check "bad input on POST /tx: 400 naming the field, 404 unknown template, 413, 415, 401; nothing written"
N0=$(deliveries)
S0=$(psql_q "SELECT count(*) FROM subscribers")
req POST /api/v1/tx '{"template":"receipt","to":"x@example.org",'
expect_error 400 invalid_json
req POST /api/v1/tx '{"template":"receipt" "to":"x@example.org"}'
expect_error 400 invalid_json
req POST /api/v1/tx '[1,2]'
expect_error 400 invalid_json
req POST /api/v1/tx '{"template":"receipt","to":"x@example.org","subject":"s","colour":"red"}'
expect_error 400 unknown_field colour
req POST /api/v1/tx '{"template":"receipt","to":5,"subject":"s"}'
expect_error 400 invalid_field to
req POST /api/v1/tx '{"template":true,"to":"x@example.org","subject":"s"}'
expect_error 400 invalid_field template
req POST /api/v1/tx '{"template":"receipt","to":"x@example.org","subject":"s","data":"order=1"}'
expect_error 400 invalid_field data
req POST /api/v1/tx '{"template":"receipt","to":"x@example.org","subject":"s","data":{"n":1e308}}'
expect_error 400 invalid_field data
req POST /api/v1/tx '{"template":"receipt","subject":"s"}'
expect_error 400 missing_field to
req POST /api/v1/tx '{"to":"x@example.org","subject":"s"}'
expect_error 400 missing_field template
for bad in 'no-at-sign' 'sp ace@example.org' 'user@nodot' 'a@b@c.org' "x'; DROP TABLE deliveries; --@example.org"; do
    req POST /api/v1/tx "{\"template\":\"receipt\",\"to\":\"$bad\",\"subject\":\"s\"}"
    expect_error 400 invalid_field to
done
req POST /api/v1/tx '{"template":"receipt","to":"x@example.org","subject":"s","from":"Shop <not an address>"}'
expect_error 400 invalid_field from
req POST /api/v1/tx '{"template":"receipt","to":"x@example.org","subject":"s","reply_to":"nope"}'
expect_error 400 invalid_field reply_to
req POST /api/v1/tx '{"template":"receipt","to":"x@example.org"}'
expect_error 400 missing_field subject
req POST /api/v1/tx '{"template":"receipt","to":"x@example.org","subject":"Hi {{ nosuch }}"}'
expect_error 400 invalid_field subject
expect_json "'line 1, column' in j['error']['message']" True
req POST /api/v1/tx '{"template":"receipt","to":"x@example.org","subject":"a\nb"}'
expect_error 400 invalid_field subject
req POST /api/v1/tx '{"template":"nosuch","to":"x@example.org","subject":"s"}'
expect_error 404 not_found template
req POST /api/v1/tx "{\"template\":\"x'; DROP TABLE deliveries; --\",\"to\":\"x@example.org\",\"subject\":\"'; DELETE FROM subscribers; --\"}"
expect_error 404 not_found template
req POST /api/v1/tx '{"template":999999,"to":"x@example.org","subject":"s"}'
expect_error 404 not_found template
req POST /api/v1/tx '{"template":99999999999999999999,"to":"x@example.org","subject":"s"}'
expect_error 400 invalid_json
req POST /api/v1/tx '{"template":-1,"to":"x@example.org","subject":"s"}'
expect_error 400 invalid_field template
printf '{"template":"receipt","to":"x@example.org","subject":"s","name":"\xc3\x28"}' > bad_utf8.json
req POST /api/v1/tx @bad_utf8.json
expect_error 400 invalid_utf8
req POST /api/v1/tx '{"template":"receipt","to":"x@example.org","subject":"s"}' "$ADMIN" text/plain
expect_error 415 unsupported_media_type
$PY -c 'import json; print(json.dumps({"template":"receipt","to":"x@example.org","subject":"s","data":{"pad":"x"*5000}}))' > big.json
req POST /api/v1/tx @big.json
expect_error 413 too_large
req POST /api/v1/tx '{"template":"receipt","to":"x@example.org","subject":"s"}' ""
expect_error 401 unauthorized
[ "$(deliveries)" = "$N0" ] || fail "bad input queued a delivery"
[ "$(psql_q "SELECT count(*) FROM subscribers")" = "$S0" ] || fail "bad input made a subscriber"

check "GET /tx/{id}: unknown, not a number, or a campaign's delivery is 404"
postino campaign create --name C --subject S --from 'News <news@example.com>' --list open --html receipt.html --json
CAMP=$(jq_get "$out" "j['id']")
postino campaign send "$CAMP"
CD=$(psql_q "SELECT id FROM deliveries WHERE campaign_id = $CAMP LIMIT 1")
for id in 999999 abc "$CD" 99999999999999999999; do
    req GET "/api/v1/tx/$id"
    expect_error 404 not_found
done
wait_for "campaign $CAMP finished" 30 eval '[ "$(campaign_status "$CAMP")" = finished ]'
[ "$(psql_q "SELECT status FROM campaigns WHERE id = $TXC")" = running ] || fail "the tx campaign finished"

check "double opt-in through the API: the confirmation arrives, signed, its link a valid 'c' token for the subscriber and list"
sink_clear
req POST /api/v1/subscribers '{"email":"eve@example.org","name":"Eve","lists":["news","open"]}'
expect_code 201
EVE=$(jq_get "$body" "j['id']")
NEWS=$(psql_q "SELECT id FROM lists WHERE name = 'news'")
[ "$(psql_q "SELECT count(*) FROM deliveries WHERE subscriber_id = $EVE")" = 1 ] || fail "one confirmation, for the double opt-in list only"
wait_for "the confirmation for eve" 20 sink_has eve@example.org
mta_drain
KEY=$(psql_q "SELECT value FROM settings WHERE key = 'token_key'")
check_confirm() {   # check_confirm ADDR SUBSCRIBER LIST NAME
    local m
    m=$(sink_msg "$1") || return
    $PY "$ROOT/tests/integration/dkim_verify.py" records.json "$m" --expect 2 > verify.out 2>&1 || fail "dkimpy: $(tail -3 verify.out)"
    $PY - "$m" "$KEY" "$2" "$3" "$4" <<'PY' || fail "confirmation content"
import email, email.policy, hashlib, hmac, re, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
key, sub, lst, name = bytes.fromhex(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
assert str(m['Subject']) == 'Please confirm your subscription to news', m['Subject']
assert str(m['From']) == 'Shop <shop@example.com>', m['From']
for h in ('List-Unsubscribe', 'List-Unsubscribe-Post', 'List-Id'):
    assert m[h] is None, (h, m[h])
text = m.get_body(('plain',)).get_content()
html = m.get_body(('html',)).get_content()
urls = set(re.findall(r'http://localhost:8080/c/([a-z2-7]+)', text + html))
assert len(urls) == 1, urls
tok = urls.pop()
assert 'href="http://localhost:8080/c/%s"' % tok in html, html
assert ('Hello %s,' % name if name else 'Hello,') in text, text
# decode as engine/mail/token.c: base32 of kind, two varints, 10-byte HMAC-SHA256
alpha = "abcdefghijklmnopqrstuvwxyz234567"
acc = bits = 0
raw = bytearray()
for c in tok:
    acc = (acc << 5) | alpha.index(c); bits += 5
    if bits >= 8:
        bits -= 8; raw.append((acc >> bits) & 0xff)
payload, mac = bytes(raw[:-10]), bytes(raw[-10:])
assert hmac.compare_digest(hmac.new(key, payload, hashlib.sha256).digest()[:10], mac), "bad HMAC"
def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1; v |= (c & 0x7f) << s; s += 7
        if not c & 0x80: return v, i
assert chr(payload[0]) == 'c', payload[0]
a, i = varint(payload, 1)
b, i = varint(payload, i)
assert i == len(payload) and (a, b) == (sub, lst), (a, b, sub, lst)
PY
}
check_confirm eve@example.org "$EVE" "$NEWS" Eve
[ "$(psql_q "SELECT status FROM subscriptions WHERE subscriber_id = $EVE AND list_id = $NEWS")" = unconfirmed ] || fail "sending changed the subscription"

check "double opt-in through postino subscriber add: the confirmation arrives too"
postino subscriber add fay@example.org --list news
expect_rc 0
FAY=$(psql_q "SELECT id FROM subscribers WHERE email = 'fay@example.org'")
wait_for "the confirmation for fay" 20 sink_has fay@example.org
mta_drain
check_confirm fay@example.org "$FAY" "$NEWS" ""

check "double opt-in through POST /subscribers/{id}/subscriptions: the confirmation arrives; repeating it queues no second"
postino subscriber add kim@example.org --list open
expect_rc 0
KIM=$(psql_q "SELECT id FROM subscribers WHERE email = 'kim@example.org'")
req POST "/api/v1/subscribers/$KIM/subscriptions" '{"list":"news"}'
expect_code 201
wait_for "the confirmation for kim" 20 sink_has kim@example.org
mta_drain
check_confirm kim@example.org "$KIM" "$NEWS" ""
req POST "/api/v1/subscribers/$KIM/subscriptions" '{"list":"news"}'
expect_code 409
[ "$(psql_q "SELECT count(*) FROM deliveries WHERE subscriber_id = $KIM")" = 1 ] || fail "a second confirmation was queued"

check "single opt-in, confirmed-on-entry and imported subscriptions send no confirmation"
N0=$(deliveries)
postino subscriber add gil@example.org --list open
req POST /api/v1/subscribers '{"email":"hal@example.org","lists":["news"],"subscription_status":"confirmed"}'
expect_code 201
printf 'email,name\nivy@example.org,Ivy\njon@example.org,Jon\n' > import.csv
postino import import.csv --list news
expect_rc 0
[ "$(psql_q "SELECT count(*) FROM subscriptions s JOIN subscribers u ON u.id = s.subscriber_id WHERE u.email IN ('ivy@example.org', 'jon@example.org') AND s.status = 'unconfirmed'")" = 2 ] ||
    fail "the import did not make unconfirmed subscriptions"
[ "$(deliveries)" = "$N0" ] || fail "$(( $(deliveries) - N0 )) deliveries queued"
housekept_after "$(db_now)"
mta_drain
for a in gil hal ivy jon; do sink_has "$a@example.org" && fail "the sink got a message for $a"; done

check "every transactional campaign's counters equal its ledger; send --until-done still ends"
for c in $(psql_q "SELECT id FROM campaigns WHERE kind = 'tx'"); do counters_match_ledger "$c"; done
[ "$(psql_q "SELECT count(*) FROM campaigns WHERE kind = 'tx'")" = 5 ] ||
    fail "expected five hidden campaigns (receipt, receipt through local, second and slow, confirm)"
timeout 120 "$BIN" send --until-done >send.log 2>&1
rc=$?
[ "$rc" = 0 ] || fail "send --until-done exited $rc: $(tail -3 send.log)"

check "/metrics: messages by relay and state, queue depth, send rate, bounces by class"
req GET /metrics
expect_code 200
SENT_LOCAL=$(psql_q "SELECT count(*) FROM deliveries WHERE relay = 'local' AND state = 'sent'")
[ "$SENT_LOCAL" -gt 0 ] || fail "nothing sent through local"
for line in "postino_messages{relay=\"local\",state=\"sent\"} $SENT_LOCAL" 'postino_queue_depth 0' \
    'postino_bounces{class="hard"} 0' 'postino_imports{state="done"} 0'; do
    printf '%s\n' "$body" | grep -qxF "$line" || fail "metrics lack: $line"
done
rate=$(printf '%s\n' "$body" | sed -n 's/^postino_send_rate //p')
recent=$(psql_q "SELECT count(*) FROM deliveries WHERE state = 'sent' AND updated_at > now() - interval '60 s'")
[ "$recent" -gt 0 ] && [ "$rate" != "0.000" ] || [ "$recent" = 0 ] || fail "send rate $rate with $recent sent in the last minute"

check "serve stops cleanly on SIGTERM and logged no token"
kill -TERM "$SERVER"
wait "$SERVER"
rc=$?
SERVER=""
[ "$rc" = 0 ] || fail "serve exited $rc: $(tail -5 serve.log)"
grep -q -- "$ADMIN" serve.log && fail "serve.log holds the token"
grep -q "secret" serve.log && fail "serve.log holds the relay password"

finish
