#!/bin/bash
# test_webhooks - outgoing webhooks, end to end, to a local receiver
# (webhook_receiver.py) that verifies every signature with the Standard
# Webhooks algorithm: endpoints through the CLI and the API, a private
# destination refused unless allowed, no redirect followed, the timeout, TLS
# verified (a self-signed receiver refused, accepted with [webhooks]
# ca_file), the secret shown once and in no listing, answer or log, no event
# from a change that rolled back, a receiver answering 500 then 200 getting
# the event once it recovers, order per subscriber, a campaign sent through
# smtp-sink reporting its start, each delivery and its end, a subscriber's
# events in its export and gone with its erasure, the delivery log and replay, an
# endpoint that keeps failing disabled with its reason; then 10,000 events
# flowing while the delivering process is killed (kill -9) three times: none
# lost, and a duplicate only of an event that was in flight at a kill (each
# counted and printed).
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
source "$ROOT/tests/integration/api_lib.sh"
api_setup 18390
RPORT=18901
RECV=""
RECV_TLS=""
WORKER=""
stop_all() {
    sh "$ROOT/scripts/postfix.sh" stop "$WORK/mta" >/dev/null 2>&1
    [ -n "$WORKER" ] && kill -9 "$WORKER" 2>/dev/null && wait "$WORKER" 2>/dev/null
    [ -n "$RECV_TLS" ] && kill "$RECV_TLS" 2>/dev/null && wait "$RECV_TLS" 2>/dev/null
    [ -n "$RECV" ] && kill "$RECV" 2>/dev/null && wait "$RECV" 2>/dev/null
    api_stop
}
trap stop_all EXIT

# received ID: how many times the receiver got message ID with a valid signature
received() { grep -c "\"id\": \"$1\".*\"ok\": true" recv.log 2>/dev/null; }
received_ok() { [ "$(grep -c "\"id\": \"$1\".*\"ok\": true, \"status\": 200" recv.log 2>/dev/null)" -ge 1 ]; }
event_state() { psql_q "SELECT state FROM webhook_events WHERE id = $1"; }
event_done() { [ "$(event_state "$1")" = done ]; }
# the newest event of TYPE for endpoint EP
last_event() { psql_q "SELECT max(id) FROM webhook_events WHERE endpoint_id = $1 AND type = '$2'"; }

postino db init
expect_rc 0
api_admin
$PY -c 'import base64,os;print("whsec_"+base64.b64encode(os.urandom(32)).decode())' > secret
SECRET=$(cat secret)
$PY "$ROOT/tests/integration/webhook_receiver.py" --port $RPORT --secret-file secret --log recv.log \
    --status-file status >recv.err 2>&1 &
RECV=$!
recv_up() { (exec 3<>"/dev/tcp/127.0.0.1/$RPORT") 2>/dev/null; }
wait_for "the receiver to listen" 10 recv_up

check "a private destination is refused without [webhooks] allow_private, by the CLI and the API"
postino webhook add "http://127.0.0.1:$RPORT/hook" --events subscriber.created --secret-file secret
expect_rc 2
expect_err "error: url's host 127.0.0.1 is a loopback, link-local or private address ([webhooks] allow_private)"
postino webhook add "http://localhost:$RPORT/hook" --events subscriber.created
expect_rc 2
expect_err "resolves to"
postino webhook add "http://[::ffff:10.1.2.3]/hook" --events subscriber.created
expect_rc 2
expect_err "is a loopback, link-local or private address"
[ "$(psql_q "SELECT count(*) FROM webhook_endpoints")" = 0 ] || fail "an endpoint was stored"

check "bad events and secrets are refused naming the field"
export POSTINO_WEBHOOKS_ALLOW_PRIVATE=true
postino webhook add "http://127.0.0.1:$RPORT/hook" --events subscriber.created,nonsense.event
expect_rc 2
expect_err "events: unknown event \"nonsense.event\""
echo "whsec_c2hvcnQ=" > short.secret
postino webhook add "http://127.0.0.1:$RPORT/hook" --events subscriber.created --secret-file short.secret
expect_rc 2
expect_err "secret must be \"whsec_\" followed by the base64 of 24 to 64 random bytes"

check "the API refuses a private URL (and a name that does not resolve) naming the field"
POSTINO_WEBHOOKS_ALLOW_PRIVATE=false "$BIN" serve --no-send --no-webhooks --listen "127.0.0.1:$PORT" >serve0.log 2>&1 &
SERVER=$!
api_wait
grep -q "webhooks: delivering" serve0.log && fail "serve --no-webhooks runs a webhook worker"
req POST /api/v1/webhooks '{"url": "http://127.0.0.1:'$RPORT'/x", "events": ["subscriber.created"]}'
expect_error 400 invalid_field url
expect_json "j['error']['message']" "url's host 127.0.0.1 is a loopback, link-local or private address ([webhooks] allow_private)"
req POST /api/v1/webhooks '{"url": "https://no-such-host.invalid/x", "events": ["subscriber.created"]}'
expect_error 400 invalid_field url
req POST /api/v1/webhooks '{"url": "https://93.184.216.34/x", "events": ["subscriber.nope"]}'
expect_error 400 invalid_field events
api_stop_server() { kill -TERM "$SERVER"; wait "$SERVER"; SERVER=""; }
api_stop_server

check "serve starts with its webhook worker"
POSTINO_WEBHOOKS_BACKOFF=1 POSTINO_WEBHOOKS_DISABLE_AFTER_FAILURES=8 \
    "$BIN" serve --no-send --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
api_wait
wait_for "the worker's start in the log" 10 grep -q "webhooks: delivering" serve.log

check "webhook add makes a secret and prints it once; ls, show, the API and the logs never show it"
postino webhook add "http://127.0.0.1:$RPORT/made" --events subscriber.created --description "made secret"
expect_rc 0
expect_out "added webhook 1: http://127.0.0.1:$RPORT/made (subscriber.created)"
MADE=$(printf '%s\n' "$out" | sed -n 's/^secret: \(whsec_[A-Za-z0-9+\/=]*\)$/\1/p')
[ "${#MADE}" = 50 ] || fail "no secret printed: $out"
postino webhook ls
expect_out "http://127.0.0.1:$RPORT/made"
case "$out" in *whsec_*) fail "a secret in webhook ls" ;; esac
postino --json webhook ls
case "$out" in *whsec_*|*\"secret\"*) fail "a secret in webhook ls --json" ;; esac
postino webhook show 1
case "$out" in *whsec_*) fail "a secret in webhook show" ;; esac
req GET /api/v1/webhooks
expect_code 200
expect_json "j['items'][0]['url']" "http://127.0.0.1:$RPORT/made"
expect_json "'secret' in j['items'][0]" False
req GET /api/v1/webhooks/1
expect_json "'secret' in j" False
req POST /api/v1/webhooks '{"url": "http://127.0.0.1:'$RPORT'/api", "events": ["subscriber.updated"]}'
expect_code 201
API_MADE=$(jq_get "$body" "j['secret']")
expect_json "j['secret'].startswith('whsec_') and len(j['secret']) == 50" True
req GET /api/v1/webhooks/2
case "$body" in *whsec_*) fail "the made secret in GET" ;; esac
req DELETE /api/v1/webhooks/1
expect_code 204
req DELETE /api/v1/webhooks/2
expect_code 204
req DELETE /api/v1/webhooks/2
expect_error 404 not_found

check "an endpoint with the receiver's secret; webhook test signs and is logged"
postino webhook add "http://127.0.0.1:$RPORT/hook" --secret-file secret \
    --events subscriber.created,subscriber.updated,subscriber.confirmed,subscriber.unsubscribed,subscriber.erased
expect_rc 0
case "$out" in *secret:*) fail "a given secret printed back" ;; esac
EP=$(psql_q "SELECT max(id) FROM webhook_endpoints")
postino webhook test "$EP"
expect_rc 0
expect_out "webhook $EP: HTTP 200 in"
grep -q '"type": "webhook.test", "data": {"endpoint_id": '"$EP"'}, "ok": true, "status": 200' recv.log ||
    fail "the receiver did not verify the test event"
req POST "/api/v1/webhooks/$EP/test"
expect_json "(j['ok'], j['status'])" "(True, 200)"

check "no redirect followed; the total timeout; TLS verified against the system's CAs or [webhooks] ca_file"
echo 302 > status
postino webhook test "$EP"
expect_rc 1
expect_err "webhook $EP: HTTP 302 in"
grep -q '"path": "/elsewhere"' recv.log && fail "a redirect was followed"
echo sleep:3 > status
POSTINO_WEBHOOKS_TIMEOUT=1 "$BIN" webhook test "$EP" >/dev/null 2>timeout.err
grep -q "webhook $EP: Timeout was reached" timeout.err || fail "no timeout: $(cat timeout.err)"
rm -f status
openssl req -x509 -newkey rsa:2048 -nodes -keyout tls.key -out tls.crt -days 1 -subj /CN=localhost \
    -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
$PY "$ROOT/tests/integration/webhook_receiver.py" --port $((RPORT + 1)) --secret-file secret --log recv-tls.log \
    --tls-cert tls.crt --tls-key tls.key >recv-tls.err 2>&1 &
RECV_TLS=$!
tls_up() { (exec 3<>"/dev/tcp/127.0.0.1/$((RPORT + 1))") 2>/dev/null; }
wait_for "the TLS receiver to listen" 10 tls_up
postino webhook add "https://127.0.0.1:$((RPORT + 1))/tls" --events subscriber.created --secret-file secret
expect_rc 0
TLS_EP=$(psql_q "SELECT max(id) FROM webhook_endpoints")
postino webhook test "$TLS_EP"
expect_rc 1
expect_err "SSL"
POSTINO_WEBHOOKS_CA_FILE="$WORK/tls.crt" "$BIN" webhook test "$TLS_EP" >tls.out 2>&1 || fail "with its CA: $(cat tls.out)"
grep -q "webhook $TLS_EP: HTTP 200 in" tls.out || fail "with its CA: $(cat tls.out)"
grep -q '"ok": true, "status": 200' recv-tls.log || fail "the TLS receiver verified nothing"
postino webhook rm "$TLS_EP"
kill "$RECV_TLS"
wait "$RECV_TLS" 2>/dev/null
RECV_TLS=""

check "a change that rolls back leaves no event; one that commits has its event, delivered and verified"
psql_q "BEGIN; INSERT INTO subscribers (email) VALUES ('rolled@example.org'); ROLLBACK;" >/dev/null
[ "$(psql_q "SELECT count(*) FROM webhook_events WHERE payload->>'email' = 'rolled@example.org'")" = 0 ] ||
    fail "an event of a rolled back change"
postino subscriber add kept@example.org --name Kept
expect_rc 0
K=$(last_event "$EP" subscriber.created)
[ -n "$K" ] || fail "no event for the committed change"
wait_for "msg_$K at the receiver" 20 received_ok "msg_$K"
wait_for "event $K recorded done" 20 event_done "$K"
grep "\"id\": \"msg_$K\"" recv.log | grep -q '"email": "kept@example.org"' || fail "the payload lacks the email"
grep -q '"ok": false' recv.log && fail "a signature the receiver could not verify: $(grep '"ok": false' recv.log | head -2)"

check "a receiver answering 500 then 200 gets the event once it recovers; the log has both"
echo 500 > status
postino subscriber add flaky@example.org
F=$(last_event "$EP" subscriber.created)
failed_once() { grep -q "\"id\": \"msg_$F\".*\"status\": 500" recv.log; }
wait_for "a 500 for msg_$F" 20 failed_once
rm -f status
wait_for "msg_$F answered 200 after it" 30 received_ok "msg_$F"
wait_for "event $F done" 20 event_done "$F"
postino webhook log "$EP"
expect_rc 0
expect_out "HTTP 500: not now"
req GET "/api/v1/webhooks/$EP/log?limit=100"
expect_json "sorted(set((a['status'], a['ok']) for a in j['items'] if a['event_id'] == $F))" "[(200, True), (500, False)]"
expect_json "all(isinstance(a['latency_ms'], int) for a in j['items'])" True

check "in order per subscriber: an update waits until the subscriber's earlier event is done"
echo 500 > status
postino subscriber add order@example.org
C=$(last_event "$EP" subscriber.created)
wait_for "a 500 for msg_$C" 20 eval "grep -q '\"id\": \"msg_$C\".*\"status\": 500' recv.log"
postino subscriber add other@example.org   # another subject is not held back
psql_q "UPDATE subscribers SET name = 'Ordered' WHERE email = 'order@example.org'" >/dev/null
U=$(last_event "$EP" subscriber.updated)
O=$(last_event "$EP" subscriber.created)
rm -f status
wait_for "msg_$U delivered" 30 received_ok "msg_$U"
$PY - "$C" "$U" <<'PY' || fail "the update was sent before the creation was done"
import json, sys
c, u = "msg_" + sys.argv[1], "msg_" + sys.argv[2]
lines = [json.loads(l) for l in open("recv.log")]
first_ok = min(l["t"] for l in lines if l["id"] == c and l["status"] == 200)
assert all(l["t"] > first_ok for l in lines if l["id"] == u), "update before creation"
PY
[ "$(received "msg_$O")" -ge 1 ] || fail "the other subscriber's event is missing"

check "confirmed, unsubscribed and erased events, with the list"
postino list create news
postino subscriber add sub@example.org --list news
psql_q "UPDATE subscriptions SET status = 'confirmed' WHERE subscriber_id = (SELECT id FROM subscribers WHERE email = 'sub@example.org')" >/dev/null
psql_q "UPDATE subscriptions SET status = 'unsubscribed' WHERE subscriber_id = (SELECT id FROM subscribers WHERE email = 'sub@example.org')" >/dev/null
SUBID=$(psql_q "SELECT id FROM subscribers WHERE email = 'sub@example.org'")
postino subscriber rm sub@example.org
E=$(last_event "$EP" subscriber.erased)
wait_for "the erased event" 30 received_ok "msg_$E"
$PY - "$SUBID" <<'PY' || fail "the subscriber's events are not all there, in order"
import json, sys
sid = int(sys.argv[1])
got = []
for l in map(json.loads, open("recv.log")):
    d = l["data"] or {}
    if l["status"] == 200 and (d.get("subscriber_id") == sid or d.get("id") == sid) and l["type"].startswith("subscriber."):
        if l["type"] not in got:
            got.append(l["type"])
assert got == ["subscriber.created", "subscriber.confirmed", "subscriber.unsubscribed", "subscriber.erased"], got
PY
grep "\"id\": \"msg_$E\"" recv.log | grep -q "sub@example.org" && fail "the erased event carries the address"

check "a subscriber's export holds its webhook events; its erasure removes those delivered"
postino subscriber add erase-me@example.org
ER=$(last_event "$EP" subscriber.created)
wait_for "event $ER done" 20 event_done "$ER"
postino subscriber export erase-me@example.org
expect_rc 0
[ "$(jq_get "$out" "[e['id'] for e in j['tables']['webhook_events']]")" = "[$ER]" ] || fail "the export lacks event $ER"
postino subscriber erase erase-me@example.org
expect_rc 0
[ "$(psql_q "SELECT count(*) FROM webhook_events WHERE payload::text LIKE '%erase-me@example.org%'")" = 0 ] ||
    fail "an event still names the erased address"

check "replay one event and a time range"
no_queued() { [ "$(psql_q "SELECT count(*) FROM webhook_events WHERE endpoint_id = $EP AND state = 'queued'")" = 0 ]; }
wait_for "nothing queued" 30 no_queued
postino webhook replay "$EP" --event "$K"
expect_rc 0
expect_out "webhook $EP: 1 event queued again"
wait_for "msg_$K a second time" 20 eval '[ "$(received msg_'"$K"')" -ge 2 ]'
req POST "/api/v1/webhooks/$EP/replay" '{"since": "2000-01-01T00:00:00Z"}'
expect_code 200
N_ALL=$(psql_q "SELECT count(*) FROM webhook_events WHERE endpoint_id = $EP")
expect_json "j['queued']" "$N_ALL"
postino webhook replay "$EP" --event 999999
expect_rc 1
expect_err "webhook $EP has no event 999999"

check "an endpoint that keeps failing is disabled, shown with its reason, and enabled again"
wait_for "the replayed events delivered" 30 no_queued
echo 503 > status
for i in 1 2 3 4 5 6 7 8; do postino subscriber add "fail$i@example.org"; done
is_disabled() { [ "$(psql_q "SELECT enabled FROM webhook_endpoints WHERE id = $EP")" = f ]; }
wait_for "the endpoint disabled" 60 is_disabled
postino webhook ls
expect_out "disabled"
expect_out "failed attempts in a row since"
expect_out "the last: HTTP 503"
req GET "/api/v1/webhooks/$EP"
expect_json "(j['state'], j['enabled'])" "('disabled', False)"
rm -f status
req PATCH "/api/v1/webhooks/$EP" '{"enabled": true}'
expect_json "(j['state'], j['failures'], j['disabled_reason'])" "('enabled', 0, None)"
wait_for "the waiting events delivered once enabled" 60 no_queued

check "the triggers follow the endpoints: none enabled on deliveries while no endpoint wants delivery events"
[ "$(psql_q "SELECT tgenabled FROM pg_trigger WHERE tgname = 'deliveries_webhook_upd'")" = D ] || fail "deliveries' trigger enabled"
[ "$(psql_q "SELECT tgenabled FROM pg_trigger WHERE tgname = 'subscribers_webhook_ins'")" = A ] || fail "subscribers' trigger not enabled"
req PATCH "/api/v1/webhooks/$EP" '{"events": ["delivery.sent", "nope"]}'
expect_error 400 invalid_field events
req PATCH "/api/v1/webhooks/$EP" '{"events": ["delivery.sent", "delivery.failed"]}'
expect_json "j['events']" "['delivery.sent', 'delivery.failed']"
postino webhook set "$EP" --events 'delivery.sent'
expect_rc 0
[ "$(psql_q "SELECT tgenabled FROM pg_trigger WHERE tgname = 'deliveries_webhook_upd'")" = A ] || fail "deliveries' trigger not enabled"
[ "$(psql_q "SELECT tgenabled FROM pg_trigger WHERE tgname = 'subscribers_webhook_ins'")" = D ] || fail "subscribers' trigger left enabled"
postino webhook rm "$EP"
expect_rc 0
[ "$(psql_q "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%webhook%' AND tgenabled <> 'D'")" = 0 ] || fail "triggers left enabled"

check "the sender's writes report too: campaign.started, delivery.sent for each recipient, campaign.finished"
SINK_PORT=$((RPORT + 100))
sh "$ROOT/scripts/postfix.sh" sink "$WORK/mta" "$SINK_PORT" >/dev/null || fail "cannot start smtp-sink"
postino webhook add "http://127.0.0.1:$RPORT/send" --secret-file secret \
    --events campaign.started,delivery.sent,campaign.finished
expect_rc 0
SEP=$(psql_q "SELECT max(id) FROM webhook_endpoints")
postino list create sendlist
for i in 1 2 3; do postino subscriber add "rcpt$i@example.org" --list sendlist; done
postino dkim add example.com --selector t1
postino relay add sink --host 127.0.0.1 --port "$SINK_PORT" --tls none
echo '<p>Hello {{ name }}</p>' > body.html
postino campaign create --name Hooked --subject Hi --from 'News <news@example.com>' --list sendlist \
    --template newsletter --html body.html
expect_rc 0
CID=$(psql_q "SELECT max(id) FROM campaigns")
postino campaign send "$CID"
expect_rc 0
"$BIN" send --until-done > send.log 2>&1 || fail "the sender failed: $(tail -3 send.log)"
sep_done() { [ "$(psql_q "SELECT count(*) FROM webhook_events WHERE endpoint_id = $SEP AND state = 'done'")" = 5 ]; }
wait_for "5 events to the send endpoint delivered" 30 sep_done
$PY - "$CID" <<'PY' || fail "the sender's events are not as they should be"
import json, sys
cid = int(sys.argv[1])
got = [l for l in map(json.loads, open("recv.log")) if l["status"] == 200 and l["type"] in
       ("campaign.started", "delivery.sent", "campaign.finished") and (l["data"] or {}).get("campaign_id", (l["data"] or {}).get("id")) == cid]
types = [l["type"] for l in got]
assert types.count("campaign.started") == 1 and types.count("campaign.finished") == 1, types
sent = sorted(l["data"]["email"] for l in got if l["type"] == "delivery.sent")
assert sent == ["rcpt1@example.org", "rcpt2@example.org", "rcpt3@example.org"], sent
t = {l["type"]: l["t"] for l in got if l["type"].startswith("campaign.")}
assert t["campaign.started"] < t["campaign.finished"], t
fin = [l["data"] for l in got if l["type"] == "campaign.finished"][0]
assert (fin["status"], fin["sent"], fin["total"]) == ("finished", 3, 3), fin
PY
postino webhook rm "$SEP"
sh "$ROOT/scripts/postfix.sh" stop "$WORK/mta" >/dev/null 2>&1

check "serve stops cleanly (SIGTERM) with its webhook worker"
kill -TERM "$SERVER"
wait "$SERVER"
src=$?
SERVER=""
[ "$src" = 0 ] || fail "serve exited $src"
grep -q "webhooks: stopped" serve.log || fail "the worker did not stop: $(tail -3 serve.log)"

check "10,000 events while the worker is killed (kill -9) three times: none lost, duplicates only of events in flight"
postino webhook add "http://127.0.0.1:$RPORT/bulk" --secret-file secret --events subscriber.created,subscriber.updated
expect_rc 0
BULK=$(psql_q "SELECT max(id) FROM webhook_endpoints")
: > worker.log
start_worker() {
    POSTINO_WEBHOOKS_CONCURRENCY=16 "$BIN" webhooks >>worker.log 2>&1 &
    WORKER=$!
}
bulk_received() { $PY - <<'PY'
import json, sys
n = 0
for l in open("recv.log"):
    j = json.loads(l)
    if j["status"] == 200 and j["type"] in ("subscriber.created", "subscriber.updated") and (j["data"] or {}).get("email", "").startswith("bulk"):
        n += 1
print(n)
PY
}
# 5,000 subscribers made and then updated, 100 at a time: 10,000 events, faster than one worker
# delivers them, so that each kill finds events claimed and in flight
(
    for b in $(seq 0 49); do
        psql_q "INSERT INTO subscribers (email) SELECT 'bulk' || ($b * 100 + g) || '@example.org' FROM generate_series(1, 100) g" >/dev/null
        psql_q "UPDATE subscribers SET name = 'n' || id WHERE email LIKE 'bulk%' AND name = ''" >/dev/null
        sleep 0.02
    done
) &
GEN=$!
start_worker
: > inflight.ids
for threshold in 1500 4000 6500; do
    wait_for "$threshold bulk events received" 120 eval '[ "$(bulk_received)" -ge '"$threshold"' ]'
    # and the worker holding some (on a busy machine it may catch up with the changes between batches)
    leased() { [ "$(psql_q "SELECT count(*) FROM webhook_events WHERE endpoint_id = $BULK AND state = 'queued' AND lease_pid IS NOT NULL")" -gt 0 ]; }
    wait_for "events leased by the worker" 120 leased
    kill -9 "$WORKER"
    wait "$WORKER" 2>/dev/null
    WORKER=""
    # what the dead worker held: leased to a backend that is going or gone; wait until it is gone
    gone() { [ "$(psql_q "SELECT count(*) FROM webhook_events e WHERE e.state = 'queued' AND e.lease_pid IS NOT NULL AND EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = e.lease_pid)")" = 0 ]; }
    wait_for "the killed worker's connection to end" 30 gone
    psql_q "SELECT 'msg_' || id FROM webhook_events WHERE endpoint_id = $BULK AND state = 'queued' AND lease_pid IS NOT NULL" >> inflight.ids
    start_worker
done
wait "$GEN"
TOTAL=$(psql_q "SELECT count(*) FROM webhook_events WHERE endpoint_id = $BULK")
[ "$TOTAL" = 10000 ] || fail "$TOTAL events written for 10,000 changes"
all_done() { [ "$(psql_q "SELECT count(*) FROM webhook_events WHERE endpoint_id = $BULK AND state = 'done'")" = 10000 ]; }
wait_for "all 10,000 events done" 180 all_done
psql_q "SELECT 'msg_' || id FROM webhook_events WHERE endpoint_id = $BULK ORDER BY id" > bulk.ids
$PY - <<'PY' > bulk.result || fail "$(cat bulk.result)"
import json
ids = set(l.strip() for l in open("bulk.ids") if l.strip())
inflight = set(l.strip() for l in open("inflight.ids") if l.strip())
got = {}
first_ok = {}
bad = 0
subj = {}
for l in map(json.loads, open("recv.log")):
    if l["id"] not in ids:
        continue
    if not l["ok"]:
        bad += 1
    if l["status"] == 200:
        got[l["id"]] = got.get(l["id"], 0) + 1
        first_ok.setdefault(l["id"], l["t"])
    d = l["data"]
    subj.setdefault(d["id"], []).append((l["t"], l["type"], l["status"]))
lost = ids - set(got)
dups = {i: n - 1 for i, n in got.items() if n > 1}
stray = set(dups) - inflight
order = 0
for s, ev in subj.items():
    created_ok = min((t for t, ty, st in ev if ty == "subscriber.created" and st == 200), default=None)
    if created_ok is None or any(t < created_ok for t, ty, st in ev if ty == "subscriber.updated"):
        order += 1
print(f"webhooks kill test: {len(ids)} events, {len(ids) - len(lost)} delivered, {len(lost)} lost, "
      f"{sum(dups.values())} duplicates (of {len(dups)} events; {len(inflight)} were in flight at the 3 kills), "
      f"{len(stray)} duplicates not in flight, {bad} bad signatures, {order} subscribers out of order")
assert not lost and not stray and bad == 0 and order == 0 and inflight, "lost, stray duplicates, bad signatures, out of order, or no kill found an event in flight"
PY
cat bulk.result
grep -qF "$SECRET" worker.log serve.log && fail "the receiver's secret in a log"
[ -n "$MADE" ] && grep -qF "$MADE" worker.log serve.log answers.log && fail "a made secret in a log or a later answer"
[ -n "$API_MADE" ] && grep -qF "$API_MADE" worker.log serve.log && fail "the API's made secret in a log"
[ "$(grep -cF "$API_MADE" answers.log)" = 1 ] || fail "the API's made secret in more than its creation's answer"

finish
