#!/bin/bash
# test_bounce_hooks - the email services' webhooks through postino serve: SES
# (an SNS message signed with a certificate of a test CA, read from [hooks]
# sns_cert_dir), SendGrid (ECDSA), Postmark (HTTP Basic) and Mailgun (HMAC).
# Each provider's bounces and complaints land as the rows and policy effects
# POST /api/v1/bounces gives the same event; a forged, stale or replayed
# message is 401 and changes no table at all.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
source "$ROOT/tests/integration/api_lib.sh"
api_setup 18395
HOOKS="$PY $ROOT/tests/integration/provider_hooks.py"
FIX="$ROOT/tests/data/provider_hooks"
TOPIC=arn:aws:sns:us-east-1:123456789012:ses-bounces

postino db init
expect_rc 0
api_admin
$HOOKS init keys || fail "cannot make the test keys"
postino list create news
for a in ses-hard ses-full ses-complaint sg-hard sg-blocked sg-dropped sg-deferred sg-spam pm-hard pm-spam \
         mg-hard mg-temp mg-spam twin-hard twin-complaint; do
    postino subscriber add "$a@example.org" --list news
    expect_rc 0
done

check "with no [hooks] settings there is no webhook: 404 for each provider"
"$BIN" serve --no-send --listen "127.0.0.1:$PORT" >serve-none.log 2>&1 &
SERVER=$!
api_wait
for p in ses sendgrid postmark mailgun; do
    req POST "/hooks/$p" '{}' ""
    expect_error 404 not_found
done
kill -TERM "$SERVER"
wait "$SERVER" || fail "serve did not stop cleanly: $(tail -3 serve-none.log)"
SERVER=""

export POSTINO_HOOKS_SES_TOPICS="arn:aws:sns:us-east-1:123456789012:other, $TOPIC"
export POSTINO_HOOKS_SNS_CERT_DIR="$WORK/keys/certs" POSTINO_HOOKS_SNS_CA_FILE="$WORK/keys/ca.pem"
export POSTINO_HOOKS_SENDGRID_PUBLIC_KEY_FILE="$WORK/keys/sendgrid.pub"
export POSTINO_HOOKS_MAILGUN_SIGNING_KEY_FILE="$WORK/keys/mailgun.key"
export POSTINO_HOOKS_POSTMARK_USER=postmark POSTINO_HOOKS_POSTMARK_PASSWORD_FILE="$WORK/keys/postmark.pw"
PM_AUTH="Authorization: Basic $(printf 'postmark:%s' "$(cat keys/postmark.pw)" | base64 -w0)"

check "config show names the key files and shows nothing of what they hold"
postino config show
expect_rc 0
expect_out "[hooks] sendgrid_public_key_file = $WORK/keys/sendgrid.pub"
expect_out "[hooks] max_age = 300"
for f in sendgrid.pub mailgun.key postmark.pw; do
    expect_no_out "$(head -c 24 "keys/$f")"
done

"$BIN" serve --no-send --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
api_wait

# every table's row count, to show that a refused message changed nothing
snapshot() {
    psql_q "SELECT string_agg(table_name || '=' || (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I', table_name), false, true, '')))[1]::text, ' ' ORDER BY table_name)
            FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
}
# refused CODE_EXPECTED: the answer is 401 and no table changed since $SNAP
refused() {
    expect_error 401 unauthorized
    [ "$(snapshot)" = "$SNAP" ] || fail "a refused message changed a table: $(diff <(tr ' ' '\n' <<<"$SNAP") <(snapshot | tr ' ' '\n'))"
}
row() {   # row EMAIL: class status source action subscriber-status of the address's bounce
    psql_q "SELECT b.class || ' ' || coalesce(b.status, '-') || ' ' || b.source || ' ' || b.action || ' ' || s.status
            FROM bounces b JOIN subscribers s ON s.id = b.subscriber_id WHERE b.email = '$1'"
}
post() {   # post PROVIDER FILE [HEADER...]: POST the file to /hooks/PROVIDER
    local p=$1 f=$2
    shift 2
    local args=(-s -o "$WORK/resp" -w '%{http_code}' -X POST --max-time 60 -H 'Content-Type: application/json'
                --data-binary "@$f")
    for h in "$@"; do args+=(-H "$h"); done
    code=$(curl "${args[@]}" "$API/hooks/$p")
    body=$(cat "$WORK/resp")
    out=$body
}

check "SES: a Permanent bounce and a complaint, signed with SNS signature version 2 and 1"
$HOOKS ses keys "$FIX/ses_bounce_permanent.json" ses1.json --id ses-msg-1
post ses ses1.json
expect_code 200
expect_json "(j['recorded'], j['ignored'], len(j['bounces']))" "(1, 0, 1)"
$HOOKS ses keys "$FIX/ses_complaint.json" ses2.json --version 1
post ses ses2.json
expect_code 200
expect_json "j['recorded']" 1
$HOOKS ses keys "$FIX/ses_bounce_transient.json" ses3.json
post ses ses3.json
expect_code 200
$HOOKS ses keys "$FIX/ses_delivery.json" ses4.json
post ses ses4.json
expect_code 200
expect_json "(j['recorded'], j['ignored'])" "(0, 1)"
[ "$(row ses-hard@example.org)" = "hard 5.1.1 api blocklist blocklisted" ] || fail "ses-hard: $(row ses-hard@example.org)"
[ "$(row ses-complaint@example.org)" = "complaint - api blocklist blocklisted" ] || fail "ses-complaint: $(row ses-complaint@example.org)"
[ "$(row ses-full@example.org)" = "soft - api none enabled" ] || fail "ses-full: $(row ses-full@example.org)"

check "the same events through POST /api/v1/bounces give the same rows and policy effects"
req POST /api/v1/bounces '{"email": "twin-hard@example.org", "type": "bounce", "status": "5.1.1", "reason": "smtp; 550 5.1.1 user unknown"}'
expect_code 201
req POST /api/v1/bounces '{"email": "twin-complaint@example.org", "type": "complaint", "reason": "Amazon SES complaint: abuse"}'
expect_code 201
[ "$(row twin-hard@example.org)" = "$(row ses-hard@example.org)" ] || fail "twin-hard: $(row twin-hard@example.org)"
[ "$(row twin-complaint@example.org)" = "$(row ses-complaint@example.org)" ] || fail "twin-complaint: $(row twin-complaint@example.org)"
[ "$(psql_q "SELECT diagnostic FROM bounces WHERE email = 'ses-hard@example.org'")" = "smtp; 550 5.1.1 user unknown" ] ||
    fail "diagnostic: $(psql_q "SELECT diagnostic FROM bounces WHERE email = 'ses-hard@example.org'")"

check "SES: forged, from another CA, another topic, stale or replayed: 401, nothing changed"
SNAP=$(snapshot)
$HOOKS ses keys "$FIX/ses_bounce_transient.json" f1.json --tamper
post ses f1.json
refused
expect_json "j['error']['message']" "the SNS signature does not match"
$HOOKS ses keys "$FIX/ses_bounce_transient.json" f2.json --cert forged
post ses f2.json
refused
$HOOKS ses keys "$FIX/ses_bounce_transient.json" f3.json --topic arn:aws:sns:us-east-1:999999999999:theirs
post ses f3.json
refused
expect_json "j['error']['message']" "TopicArn is not one of [hooks] ses_topics"
$HOOKS ses keys "$FIX/ses_bounce_transient.json" f4.json --age 600
post ses f4.json
refused
expect_json "j['error']['message']" "Timestamp is not within [hooks] max_age of now"
post ses ses1.json
refused
expect_json "j['error']['message']" "this message was taken before"
$HOOKS ses keys "$FIX/ses_bounce_transient.json" f5.json --id ses-msg-1
post ses f5.json
refused

check "SES: a subscription confirmation is answered and left for the operator to confirm"
$HOOKS ses keys "$FIX/ses_delivery.json" sub.json --type SubscriptionConfirmation
post ses sub.json
expect_code 200
expect_json "(j['recorded'], j['ignored'])" "(0, 1)"
wait_for "the SubscribeURL in the log" 10 grep -q "confirm it by opening https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription" serve.log

check "SendGrid: a batch of bounce, blocked, dropped, deferred, spam report and delivered"
mapfile -t H < <($HOOKS sendgrid keys "$FIX/sendgrid_events.json" sg.json)
post sendgrid sg.json "X-Twilio-Email-Event-Webhook-Signature: ${H[0]}" "X-Twilio-Email-Event-Webhook-Timestamp: ${H[1]}"
expect_code 200
expect_json "(j['recorded'], j['ignored'])" "(4, 2)"
[ "$(row sg-hard@example.org)" = "hard 5.0.0 api blocklist blocklisted" ] || fail "sg-hard: $(row sg-hard@example.org)"
[ "$(row sg-blocked@example.org)" = "policy 5.7.1 api none enabled" ] || fail "sg-blocked: $(row sg-blocked@example.org)"
[ "$(row sg-dropped@example.org)" = "hard - api blocklist blocklisted" ] || fail "sg-dropped: $(row sg-dropped@example.org)"
[ "$(row sg-spam@example.org)" = "complaint - api blocklist blocklisted" ] || fail "sg-spam: $(row sg-spam@example.org)"
[ -z "$(row sg-deferred@example.org)" ] || fail "a deferral was recorded: $(row sg-deferred@example.org)"

check "SendGrid: tampered, unsigned, stale or replayed: 401, nothing changed"
SNAP=$(snapshot)
post sendgrid sg.json "X-Twilio-Email-Event-Webhook-Signature: ${H[0]}" "X-Twilio-Email-Event-Webhook-Timestamp: ${H[1]}"
refused
expect_json "j['error']['message']" "this message was taken before"
mapfile -t T < <($HOOKS sendgrid keys "$FIX/sendgrid_events.json" sgt.json --tamper)
post sendgrid sgt.json "X-Twilio-Email-Event-Webhook-Signature: ${T[0]}" "X-Twilio-Email-Event-Webhook-Timestamp: ${T[1]}"
refused
expect_json "j['error']['message']" "the SendGrid signature does not match"
post sendgrid sg.json
refused
mapfile -t S < <($HOOKS sendgrid keys "$FIX/sendgrid_events.json" sgs.json --age 900)
post sendgrid sgs.json "X-Twilio-Email-Event-Webhook-Signature: ${S[0]}" "X-Twilio-Email-Event-Webhook-Timestamp: ${S[1]}"
refused
expect_json "j['error']['message']" "the timestamp is not within [hooks] max_age of now"

check "Postmark: a hard bounce and a spam complaint with the Basic credentials"
post postmark "$FIX/postmark_bounce.json" "$PM_AUTH"
expect_code 200
expect_json "j['recorded']" 1
post postmark "$FIX/postmark_spam_complaint.json" "$PM_AUTH"
expect_code 200
[ "$(row pm-hard@example.org)" = "hard - api blocklist blocklisted" ] || fail "pm-hard: $(row pm-hard@example.org)"
[ "$(row pm-spam@example.org)" = "complaint - api blocklist blocklisted" ] || fail "pm-spam: $(row pm-spam@example.org)"

check "Postmark: no credentials, a wrong password, or the same record again: 401, nothing changed"
SNAP=$(snapshot)
post postmark "$FIX/postmark_bounce.json"
refused
post postmark "$FIX/postmark_bounce.json" "Authorization: Basic $(printf 'postmark:wrong' | base64 -w0)"
refused
post postmark "$FIX/postmark_bounce.json" "$PM_AUTH"
refused
expect_json "j['error']['message']" "this message was taken before"

check "Mailgun: a permanent failure, a temporary one (retried: ignored) and a complaint"
$HOOKS mailgun keys "$FIX/mailgun_failed_permanent.json" mg1.json
post mailgun mg1.json
expect_code 200
expect_json "(j['recorded'], j['ignored'])" "(1, 0)"
$HOOKS mailgun keys "$FIX/mailgun_failed_temporary.json" mg2.json
post mailgun mg2.json
expect_code 200
expect_json "(j['recorded'], j['ignored'])" "(0, 1)"
$HOOKS mailgun keys "$FIX/mailgun_complained.json" mg3.json
post mailgun mg3.json
expect_code 200
[ "$(row mg-hard@example.org)" = "hard 5.1.1 api blocklist blocklisted" ] || fail "mg-hard: $(row mg-hard@example.org)"
[ "$(row mg-spam@example.org)" = "complaint - api blocklist blocklisted" ] || fail "mg-spam: $(row mg-spam@example.org)"
[ -z "$(row mg-temp@example.org)" ] || fail "a temporary failure was recorded"

check "Mailgun: another key, stale, replayed: 401, nothing changed"
SNAP=$(snapshot)
$HOOKS mailgun keys "$FIX/mailgun_failed_temporary.json" mgk.json --key key-not-ours
post mailgun mgk.json
refused
expect_json "j['error']['message']" "the Mailgun signature does not match"
$HOOKS mailgun keys "$FIX/mailgun_failed_temporary.json" mgs.json --age 400
post mailgun mgs.json
refused
post mailgun mg1.json
refused
expect_json "j['error']['message']" "this message was taken before"

check "ids past their time are deleted when the next message comes"
psql_q "UPDATE hook_seen SET expires_at = now() - interval '1 second' WHERE provider = 'ses'" >/dev/null
kept=$(psql_q "SELECT count(*) FROM hook_seen WHERE provider <> 'ses'")
$HOOKS mailgun keys "$FIX/mailgun_failed_temporary.json" mge.json
post mailgun mge.json
expect_code 200
[ "$(psql_q "SELECT count(*) FROM hook_seen WHERE provider = 'ses'")" = 0 ] || fail "expired ids kept"
[ "$(psql_q "SELECT count(*) FROM hook_seen")" = "$((kept + 1))" ] || fail "hook_seen: $(psql_q "SELECT provider, id FROM hook_seen")"
[ "$(psql_q "SELECT count(*) FROM hook_seen WHERE expires_at BETWEEN now() + interval '6 days 23 hours' AND now() + interval '7 days 1 minute'")" = "$((kept + 1))" ] ||
    fail "ids are not kept [hooks] replay_keep (7 days)"

check "an address no subscriber has is counted as ignored; a body that is not JSON is 400"
$HOOKS mailgun keys "$FIX/mailgun_complained.json" mgx.json
sed -i 's/mg-spam@example.org/nobody@example.org/' mgx.json
$HOOKS mailgun keys mgx.json mgx2.json
post mailgun mgx2.json
expect_code 200
expect_json "(j['recorded'], j['ignored'])" "(0, 1)"
printf 'not json' > bad.txt
post mailgun bad.txt
expect_error 400 invalid

check "the log names no key and no password"
for f in sendgrid.pub mailgun.key postmark.pw; do
    ! grep -qF "$(head -c 24 "keys/$f")" serve.log || fail "serve.log holds keys/$f"
done
grep -q "refused a sendgrid webhook from 127.0.0.1: the SendGrid signature does not match" serve.log ||
    fail "the refusal is not in the log: $(grep hooks serve.log | head -5)"

finish
