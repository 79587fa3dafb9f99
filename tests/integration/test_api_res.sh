#!/bin/bash
# test_api_res - the API's writes through postino serve --no-send: subscriptions
# of a subscriber, imports (inline and as jobs, the same summary as the CLI,
# rejects kept), templates, campaigns (create, preview, a test message through
# a real Postfix, deliveries by page after a real send), relays (the password
# never answered nor logged) and DKIM keys (the public record only); every
# write route sent each kind of bad input, answered with the exact status and
# the field named.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/send_lib.sh"

source "$ROOT/tests/integration/api_lib.sh"
api_setup 18280
RELAY_PW='Rl4y-pass-7f3a9c1e-never-shown'
# js PYEXPR: print the JSON text of a Python expression (for bodies)
js() { /usr/bin/python3 -c 'import json,sys; print(json.dumps(eval(sys.argv[1])))' "$1"; }
tables_intact() {
    [ "$(psql_q "SELECT count(*) FROM pg_tables WHERE tablename IN ('subscribers','lists','subscriptions','templates','campaigns','relays','dkim_keys','import_jobs')")" = 8 ] ||
        fail "a table is gone"
}

# bad_inputs METHOD PATH STRFIELD VALID_BODY_PY: every kind of bad JSON input to one write route
bad_inputs() {
    local m=$1 p=$2 f=$3 valid=$4
    req "$m" "$p" '{"x":'
    expect_error 400 invalid_json
    local full
    full=$(js "$valid")
    req "$m" "$p" "${full%?}"
    expect_error 400 invalid_json
    req "$m" "$p" "$(js "dict($valid, zzz_unknown=1)")"
    expect_error 400 unknown_field zzz_unknown
    req "$m" "$p" "$(js "dict($valid, **{'$f': True})")"
    expect_error 400 invalid_field "$f"
    req "$m" "$p" "$(js "dict($valid, **{'$f': ['a']})")"
    expect_error 400 invalid_field "$f"
    printf '%s' "$(js "dict($valid, **{'$f': 'caf@@E9@@'})")" | sed 's/@@E9@@/\xe9/' > "$WORK/bad-utf8.json"
    req "$m" "$p" "@$WORK/bad-utf8.json"
    expect_error 400 invalid_utf8
    req "$m" "$p" "$(js "$valid" | sed 's/^{/{"n": 123456789012345678901234567890, /')"
    expect_error 400 invalid_json
    req "$m" "$p" "$(js "$valid" | sed 's/^{/{"n": 1, "n": 2, /')"
    expect_error 400 invalid_json
    head -c 70000 /dev/zero | tr '\0' 'a' | sed 's/^/{"'"$f"'":"/; s/$/"}/' > "$WORK/big.json"
    req "$m" "$p" "@$WORK/big.json"
    expect_error 413 too_large
    req "$m" "$p" "$full" "$ADMIN" "text/plain"
    expect_error 415 unsupported_media_type
    req "$m" "$p" "$full" "$ADMIN" "application/x-www-form-urlencoded"
    expect_error 415 unsupported_media_type
    req "$m" "$p" "$full" ""
    expect_error 401 unauthorized
    tables_intact
}

check "setup: database, an admin and a user with tokens, lists and subscribers"
postino db init
expect_rc 0
printf 'admin-pass-1\n' > pw
postino_in pw user add admin@example.com --role admin
postino_in pw user add bob@example.com --role user
postino token create --user admin@example.com
ADMIN=$(printf '%s\n' "$out" | tail -1)
postino token create --user bob@example.com
USER=$(printf '%s\n' "$out" | tail -1)
[ "${ADMIN#pst_}" != "$ADMIN" ] && [ "${USER#pst_}" != "$USER" ] || fail "tokens"
postino list create news
postino list create vip --optin double
postino subscriber add ann@example.com --name Ann --attr city=Lyon --list news
expect_rc 0
postino subscriber add ben@example.com --name Ben
postino subscriber add bad@example.com --name Bad
postino subscriber blocklist bad@example.com
NEWS=$(psql_q "SELECT id FROM lists WHERE name = 'news'")
VIP=$(psql_q "SELECT id FROM lists WHERE name = 'vip'")
ANN=$(psql_q "SELECT id FROM subscribers WHERE email = 'ann@example.com'")

check "serve --no-send starts, with a small JSON limit, a small inline import limit and one import job at a time"
POSTINO_HTTP_MAX_BODY=65536 POSTINO_API_IMPORT_INLINE_MAX=2000 POSTINO_API_IMPORT_MAX_BODY=1000000 POSTINO_API_IMPORT_JOBS=1 \
    POSTINO_LOG_LEVEL=debug "$BIN" serve --no-send --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
api_wait
req GET /healthz "" ""
expect_code 200

# ---------------------------------------------------------------- subscriptions
check "subscriptions: list them by subscriber id or email"
req GET "/api/v1/subscribers/$ANN/subscriptions"
expect_code 200
expect_json "[(s['list_id'], s['list'], s['optin'], s['status']) for s in j['items']]" "[($NEWS, 'news', 'single', 'confirmed')]"
expect_json "sorted(j['items'][0])" "['created_at', 'list', 'list_id', 'optin', 'status', 'updated_at']"
req GET "/api/v1/subscribers/ANN@example.com/subscriptions" "" "$USER"
expect_code 200
expect_json "len(j['items'])" 1
req GET "/api/v1/subscribers/ben@example.com/subscriptions"
expect_json "j" "{'items': []}"
req GET "/api/v1/subscribers/nobody@example.com/subscriptions"
expect_error 404 not_found
req GET "/api/v1/subscribers/999999/subscriptions"
expect_error 404 not_found

check "subscriptions: subscribe (double opt-in unconfirmed unless given), again 409, change the status 200"
req POST "/api/v1/subscribers/ann@example.com/subscriptions" '{"list":"vip"}'
expect_code 201
expect_json "(j['list'], j['list_id'], j['status'], j['optin'])" "('vip', $VIP, 'unconfirmed', 'double')"
req POST "/api/v1/subscribers/ann@example.com/subscriptions" "{\"list\":$VIP}"
expect_error 409 exists
req POST "/api/v1/subscribers/$ANN/subscriptions" '{"list":"vip","status":"confirmed"}'
expect_code 200
expect_json "j['status']" confirmed
[ "$(psql_q "SELECT status FROM subscriptions WHERE subscriber_id = $ANN AND list_id = $VIP")" = confirmed ] || fail "not stored"
req POST "/api/v1/subscribers/ben@example.com/subscriptions" "{\"list\":$NEWS}" "$USER"
expect_code 201
expect_json "j['status']" confirmed
req POST "/api/v1/subscribers/bad@example.com/subscriptions" '{"list":"news"}'
expect_error 409 exists
req POST "/api/v1/subscribers/ann@example.com/subscriptions" '{"list":"nosuch"}'
expect_error 404 not_found
req POST "/api/v1/subscribers/nobody@example.com/subscriptions" '{"list":"news"}'
expect_error 404 not_found
req POST "/api/v1/subscribers/ann@example.com/subscriptions" '{"list":"news","status":"maybe"}'
expect_error 400 invalid_field status
req POST "/api/v1/subscribers/ann@example.com/subscriptions" '{"list":""}'
expect_error 400 invalid_field list
req POST "/api/v1/subscribers/ann@example.com/subscriptions" '{"status":"confirmed"}'
expect_error 400 missing_field list
req POST "/api/v1/subscribers/ann@example.com/subscriptions" '{"list":-3}'
expect_error 400 invalid_field list
req POST "/api/v1/subscribers/ann@example.com/subscriptions" "{\"list\":\"x'); DROP TABLE lists; --\"}"
expect_error 404 not_found
bad_inputs POST /api/v1/subscribers/ann@example.com/subscriptions list "{'list': 'news'}"

check "subscriptions: unsubscribe from one list (repeatable), then subscribe again"
req DELETE "/api/v1/subscribers/ann@example.com/subscriptions/vip"
expect_code 200
expect_json "(j['list'], j['status'])" "('vip', 'unsubscribed')"
req DELETE "/api/v1/subscribers/$ANN/subscriptions/$VIP"
expect_code 200
expect_json "j['status']" unsubscribed
[ "$(psql_q "SELECT status FROM subscriptions WHERE subscriber_id = $ANN AND list_id = $VIP")" = unsubscribed ] || fail "not stored"
[ "$(psql_q "SELECT status FROM subscriptions WHERE subscriber_id = $ANN AND list_id = $NEWS")" = confirmed ] || fail "another list changed"
req DELETE "/api/v1/subscribers/ben@example.com/subscriptions/vip"
expect_error 404 not_found
req DELETE "/api/v1/subscribers/ann@example.com/subscriptions/nosuch"
expect_error 404 not_found
req DELETE "/api/v1/subscribers/nobody@example.com/subscriptions/news"
expect_error 404 not_found
req DELETE "/api/v1/subscribers/ann@example.com/subscriptions/vip" '{}'
expect_error 415 unsupported_media_type
req POST "/api/v1/subscribers/ann@example.com/subscriptions" '{"list":"vip"}'
expect_code 200
expect_json "j['status']" unconfirmed

# ---------------------------------------------------------------- templates
check "templates: create 201 with a default subject, compile errors 400 with line and column, duplicate 409"
req POST /api/v1/templates '{"name":"plain","subject":"News for {{ name }}","html":"<html><body>[CONTENT]<p>{{ unsubscribe_url }}</p></body></html>"}' "$USER"
expect_code 201
expect_json "(j['name'], j['subject'], j['text'])" "('plain', 'News for {{ name }}', None)"
PLAIN=$(jq_get "$body" "j['id']")
req GET /api/v1/templates/plain
expect_json "j['subject']" "News for {{ name }}"
req POST /api/v1/templates '{"name":"plain","html":"[CONTENT]"}'
expect_error 409 exists
req POST /api/v1/templates "$(js "{'name': 'broken', 'html': '<p>\n  {{#if x}}[CONTENT]'}")"
expect_error 400 invalid_template html
expect_json "'line 2' in j['error']['message'] and 'column' in j['error']['message']" True
req POST /api/v1/templates '{"name":"nocontent","html":"<p>no placeholder</p>"}'
expect_error 400 invalid_template html
req POST /api/v1/templates '{"name":"t2","html":"[CONTENT]","text":"{{ oops"}'
expect_error 400 invalid_template text
req POST /api/v1/templates '{"name":"t2","html":"[CONTENT]","subject":"two\nlines"}'
expect_error 400 invalid_field subject
req POST /api/v1/templates '{"name":"","html":"[CONTENT]"}'
expect_error 400 invalid_field name
req POST /api/v1/templates '{"html":"[CONTENT]"}'
expect_error 400 missing_field name
[ "$(psql_q "SELECT count(*) FROM templates WHERE name IN ('broken','nocontent','t2')")" = 0 ] || fail "a bad template was stored"
req POST /api/v1/templates "{\"name\":\"x'); DROP TABLE templates; --\",\"html\":\"[CONTENT] '; --\"}"
expect_code 201
expect_json "j['name']" "x'); DROP TABLE templates; --"
bad_inputs POST /api/v1/templates name "{'name': 'b', 'html': '[CONTENT]'}"

check "templates: PUT replaces every field (200), unknown 404, a taken name 409; DELETE 204, then 404"
req PUT /api/v1/templates/plain '{"name":"plain","html":"<div>[CONTENT]</div>","text":"[CONTENT]\n--\n{{ unsubscribe_url }}"}'
expect_code 200
expect_json "(j['id'], j['subject'], j['html'])" "($PLAIN, None, '<div>[CONTENT]</div>')"
req PUT "/api/v1/templates/$PLAIN" '{"name":"plain","subject":"Hi {{ name }}","html":"<div>[CONTENT]</div>"}'
expect_code 200
expect_json "(j['subject'], j['text'])" "('Hi {{ name }}', None)"
req PUT /api/v1/templates/nosuch '{"name":"nosuch","html":"[CONTENT]"}'
expect_error 404 not_found
req PUT /api/v1/templates/plain '{"name":"newsletter","html":"[CONTENT]"}'
expect_error 409 exists
req PUT /api/v1/templates/plain '{"name":"plain","html":"{{ broken"}'
expect_error 400 invalid_template html
req GET /api/v1/templates/plain
expect_json "j['html']" "<div>[CONTENT]</div>"
bad_inputs PUT /api/v1/templates/plain html "{'name': 'plain', 'html': '[CONTENT]'}"
req POST /api/v1/templates '{"name":"gone","html":"[CONTENT]"}'
req DELETE /api/v1/templates/gone
expect_code 204
req DELETE /api/v1/templates/gone
expect_error 404 not_found

# ---------------------------------------------------------------- relays and DKIM keys
check "relays: admin only; the password is stored, never answered; duplicate 409; DELETE"
mta_start 19587 19025
req POST /api/v1/relays "{\"name\":\"other\",\"host\":\"127.0.0.1\",\"username\":\"u\",\"password\":\"$RELAY_PW\"}" "$USER"
expect_error 403 forbidden
req POST /api/v1/relays "{\"name\":\"other\",\"host\":\"127.0.0.1\",\"port\":2525,\"username\":\"u\",\"password\":\"$RELAY_PW\",\"rate\":\"600/m\",\"quota\":\"1000/h\",\"max_conns\":2}"
expect_code 201
expect_json "(j['name'], j['port'], j['has_password'], float(j['rate']), j['quota'], j['quota_period_s'], j['max_conns'])" "('other', 2525, True, 10.0, 1000, 3600, 2)"
expect_json "'password' in j or 'password_set' in j" False
[ "$(psql_q "SELECT password FROM relays WHERE name = 'other'")" = "$RELAY_PW" ] || fail "password not stored"
req GET /api/v1/relays "" "$USER"
expect_json "[(r['name'], r['has_password']) for r in j['items']]" "[('other', True)]"
req POST /api/v1/relays "{\"name\":\"other\",\"host\":\"h.example\"}"
expect_error 409 exists
req POST /api/v1/relays '{"name":"r2","host":"h.example","tls":"ssl"}'
expect_error 400 invalid_field tls
req POST /api/v1/relays '{"name":"r2","host":"h.example","username":"u"}'
expect_error 400 invalid_field password
req POST /api/v1/relays '{"name":"r2","host":"h.example","port":70000}'
expect_error 400 invalid_field port
req POST /api/v1/relays '{"name":"r2","host":"h.example","port":9223372036854775807}'
expect_error 400 invalid_field port
req POST /api/v1/relays '{"name":"r2","host":"h.example","rate":"fast"}'
expect_error 400 invalid_field rate
req POST /api/v1/relays '{"name":"r2","host":"h.example","quota":"10"}'
expect_error 400 invalid_field quota
req POST /api/v1/relays '{"name":"r2","host":"a b"}'
expect_error 400 invalid_field host
req POST /api/v1/relays "{\"name\":\"x');DROP-TABLE-relays;--\",\"host\":\"h.example\"}"
expect_code 201
req POST /api/v1/relays '{"name":"two words","host":"h.example"}'
expect_error 400 invalid_field name
bad_inputs POST /api/v1/relays host "{'name': 'r3', 'host': 'h.example'}"
req DELETE /api/v1/relays/other "" "$USER"
expect_error 403 forbidden
req DELETE /api/v1/relays/other
expect_code 204
req DELETE /api/v1/relays/other
expect_error 404 not_found
req POST /api/v1/relays "{\"name\":\"local\",\"host\":\"127.0.0.1\",\"port\":19587,\"username\":\"test\",\"password\":\"secret\",\"tls_verify\":false}"
expect_code 201
expect_json "'password' in j" False

check "DKIM keys: admin only; the answer is the public record, never the private key; duplicate 409; DELETE by id"
req POST /api/v1/dkim-keys '{"domain":"example.com","algorithm":"ed25519","selector":"s1"}' "$USER"
expect_error 403 forbidden
req POST /api/v1/dkim-keys '{"domain":"Example.COM","algorithm":"ed25519","selector":"s1"}'
expect_code 201
expect_json "(j['domain'], j['selector'], j['algorithm'], j['name'], j['type'], j['record'].startswith('v=DKIM1; k=ed25519; '))" "('example.com', 's1', 'ed25519', 's1._domainkey.example.com', 'TXT', True)"
expect_json "'PRIVATE' in json.dumps(j) or 'private_key' in j" False
DKIM_ID=$(jq_get "$body" "j['id']")
req POST /api/v1/dkim-keys '{"domain":"example.com","algorithm":"ed25519","selector":"s1"}'
expect_error 409 exists
req POST /api/v1/dkim-keys '{"domain":"example.net"}'
expect_code 201
expect_json "(j['algorithm'], j['bits'], j['selector'].startswith('postino-'), 'k=rsa' in j['record'])" "('rsa', 2048, True, True)"
NET_ID=$(jq_get "$body" "j['id']")
req POST /api/v1/dkim-keys '{"domain":"example.net","algorithm":"dsa"}'
expect_error 400 invalid_field algorithm
req POST /api/v1/dkim-keys '{"domain":"example.net","algorithm":"ed25519","bits":2048}'
expect_error 400 invalid_field bits
req POST /api/v1/dkim-keys '{"domain":"example.net","bits":512}'
expect_error 400 invalid_field bits
req POST /api/v1/dkim-keys '{"domain":"exa mple..net"}'
expect_error 400 invalid_field domain
req POST /api/v1/dkim-keys "{\"domain\":\"example.net\",\"selector\":\"x'; DROP TABLE dkim_keys; --\"}"
expect_error 400 invalid_field selector
bad_inputs POST /api/v1/dkim-keys domain "{'domain': 'example.org', 'algorithm': 'ed25519'}"
req GET /api/v1/dkim-keys
expect_json "'PRIVATE' in json.dumps(j)" False
req DELETE "/api/v1/dkim-keys/$NET_ID"
expect_code 204
req DELETE "/api/v1/dkim-keys/$NET_ID"
expect_error 404 not_found
req DELETE /api/v1/dkim-keys/abc
expect_error 404 not_found

# ---------------------------------------------------------------- campaigns
check "campaigns: create 201 with lists by name and id and a template's subject; bad input 400 naming the field"
req POST /api/v1/campaigns "{\"name\":\"March\",\"from\":\"News Team <news@Example.com>\",\"lists\":[\"news\",$VIP],\"template\":\"plain\",\"html\":\"<p>Hello {{ name }} from {{ attribs.city | default \\\"nowhere\\\" }}</p>\"}" "$USER"
expect_code 201
expect_json "(j['status'], j['subject'], j['from_name'], j['from_addr'], sorted(l['name'] for l in j['lists']), j['template']['name'])" "('draft', 'Hi {{ name }}', 'News Team', 'news@example.com', ['news', 'vip'], 'plain')"
CAMP=$(jq_get "$body" "j['id']")
req POST /api/v1/campaigns "{\"name\":\"C2\",\"subject\":\"S\",\"from\":\"news@example.com\",\"lists\":[\"news\"],\"html\":\"<p>\n{{#if x}}\"}"
expect_error 400 invalid_template html
expect_json "'line 2' in j['error']['message']" True
req POST /api/v1/campaigns '{"name":"C2","subject":"{{ oops","from":"news@example.com","lists":["news"],"html":"x"}'
expect_error 400 invalid_template subject
req POST /api/v1/campaigns '{"name":"C2","from":"news@example.com","lists":["news"],"html":"x"}'
expect_error 400 missing_field subject
req POST /api/v1/campaigns '{"name":"C2","subject":"S","from":"not an address","lists":["news"],"html":"x"}'
expect_error 400 invalid_field from
req POST /api/v1/campaigns '{"name":"C2","subject":"S","from":"N <a@b.example","lists":["news"],"html":"x"}'
expect_error 400 invalid_field from
req POST /api/v1/campaigns '{"name":"C2","subject":"S","from":"a@example.com","reply_to":"@@","lists":["news"],"html":"x"}'
expect_error 400 invalid_field reply_to
req POST /api/v1/campaigns '{"name":"C2","subject":"S","from":"a@example.com","lists":[],"html":"x"}'
expect_error 400 invalid_field lists
req POST /api/v1/campaigns '{"name":"C2","subject":"S","from":"a@example.com","lists":["nosuch"],"html":"x"}'
expect_error 404 not_found
req POST /api/v1/campaigns '{"name":"C2","subject":"S","from":"a@example.com","lists":["news"],"template":"nosuch","html":"x"}'
expect_error 404 not_found
req POST /api/v1/campaigns '{"name":"C2","subject":"a\r\nBcc: x@example.com","from":"a@example.com","lists":["news"],"html":"x"}'
expect_error 400 invalid_field subject
[ "$(psql_q "SELECT count(*) FROM campaigns")" = 1 ] || fail "a bad campaign was stored"
req POST /api/v1/campaigns "{\"name\":\"x'); DROP TABLE campaigns; --\",\"subject\":\"'; --\",\"from\":\"a@example.com\",\"lists\":[\"news\"],\"html\":\"x\"}"
expect_code 201
META_CAMP=$(jq_get "$body" "j['id']")
bad_inputs POST /api/v1/campaigns name "{'name': 'c', 'subject': 's', 'from': 'a@example.com', 'lists': ['news'], 'html': 'x'}"

check "campaigns: preview is the signed message for a subscriber (as the CLI prints it); unknown 404"
req GET "/api/v1/campaigns/$CAMP/preview?email=ann@example.com"
expect_code 200
case "$body" in *"Subject: Hi Ann"*) ;; *) fail "preview subject" ;; esac
case "$body" in *"Hello Ann from Lyon"*) ;; *) fail "preview body" ;; esac
case "$body" in *"DKIM-Signature:"*"d=example.com"*) ;; *) fail "preview not signed" ;; esac
ct=$(curl -s -o /dev/null -w '%{content_type}' -H "Authorization: Bearer $ADMIN" "$API/api/v1/campaigns/$CAMP/preview?email=ann@example.com")
[ "$ct" = "message/rfc822" ] || fail "preview content type $ct"
postino campaign preview "$CAMP" --subscriber ann@example.com
expect_rc 0
[ "$(printf '%s' "$out" | grep -c '^Subject: Hi Ann')" = 1 ] || fail "CLI preview"
req GET "/api/v1/campaigns/$CAMP/preview?email=nobody@example.com"
expect_error 404 not_found
req GET "/api/v1/campaigns/999999/preview?email=ann@example.com"
expect_error 404 not_found
req GET "/api/v1/campaigns/$CAMP/preview"
expect_error 400 missing_field email
req GET "/api/v1/campaigns/$CAMP/preview?email=bad"
expect_error 400 invalid_field email
req GET "/api/v1/campaigns/$CAMP/preview?email=ann@example.com&x=1"
expect_error 400 unknown_field x

check "campaigns: a test message goes through the relay (Postfix) to the sink; a refused one is 502"
sink_clear
req POST "/api/v1/campaigns/$CAMP/test" '{"to":"tester@example.org"}' "$USER"
expect_code 200
expect_json "(j['accepted'], j['to'], j['relay'], j['signed'], j['code'])" "(True, 'tester@example.org', 'local', True, 250)"
mta_drain
wait_for "the test message in the sink" 20 sh -c "[ \"\$(cat '$MTA'/sink/* 2>/dev/null | grep -c '^X-Rcpt-Args: <tester@example.org>')\" = 1 ]"
grep -q '^Subject: Hi ' "$MTA"/sink/* || fail "the test message's subject"
postino campaign test "$CAMP" --to cli-tester@example.org --relay local
expect_rc 0
expect_out "test message sent to cli-tester@example.org through local: 250"
mta_drain
wait_for "the CLI's test message in the sink" 20 sh -c "[ \"\$(cat '$MTA'/sink/* 2>/dev/null | grep -c '^X-Rcpt-Args: <cli-tester@example.org>')\" = 1 ]"
req POST "/api/v1/campaigns/$CAMP/test" '{"to":"ann@example.com","relay":"nosuch"}'
expect_error 404 not_found
req POST "/api/v1/campaigns/999999/test" '{"to":"ann@example.com"}'
expect_error 404 not_found
req POST "/api/v1/campaigns/$CAMP/test" '{"to":"not-an-address"}'
expect_error 400 invalid_field to
req POST /api/v1/relays '{"name":"wrongpw","host":"127.0.0.1","port":19587,"username":"test","password":"wrong-password-1","tls_verify":false}'
req POST "/api/v1/campaigns/$CAMP/test" '{"to":"tester@example.org","relay":"wrongpw"}'
expect_error 502 relay_failed
# the relay's reply as it came: code, enhanced code, text
expect_json "j['error']['message'].startswith('relay \"wrongpw\" did not take the message at auth: 535 5.7.8 Error: authentication failed')" True
bad_inputs POST "/api/v1/campaigns/$CAMP/test" to "{'to': 'tester@example.org'}"

check "deliveries: queued after send, then sent with the relay's reply after a real send; keyset pages, state filter"
psql_q "DELETE FROM relays WHERE name <> 'local'" >/dev/null
postino subscriber add cat@example.com --name Cat --list news
postino subscriber add dan@example.com --name Dan --list news
req POST "/api/v1/campaigns/$CAMP/send" '{}'
expect_code 200
req GET "/api/v1/campaigns/$CAMP/deliveries?state=queued"
expect_code 200
expect_json "sorted(d['email'] for d in j['items'])" "['ann@example.com', 'ben@example.com', 'cat@example.com', 'dan@example.com']"
expect_json "j['next_after']" None
req GET "/api/v1/campaigns/$CAMP/deliveries?state=sent"
expect_json "j" "{'items': [], 'next_after': None}"
postino send --until-done
expect_rc 0
req GET "/api/v1/campaigns/$CAMP/deliveries?state=sent&limit=3"
expect_code 200
expect_json "len(j['items'])" 3
expect_json "sorted(j['items'][0])" "['attempts', 'bounce_class', 'created_at', 'email', 'id', 'mta', 'name', 'next_attempt_at', 'queue_id', 'relay', 'sent_at', 'smtp_code', 'smtp_enhanced', 'smtp_reply', 'state', 'subscriber_id', 'updated_at']"
expect_json "all(d['state'] == 'sent' and d['smtp_code'] == 250 and d['attempts'] == 1 and d['relay'] == 'local' and d['queue_id'] and d['sent_at'] for d in j['items'])" True
expect_json "[d['id'] for d in j['items']] == sorted(d['id'] for d in j['items'])" True
NEXT=$(jq_get "$body" "j['next_after']")
FIRST3=$(jq_get "$body" "[d['email'] for d in j['items']]")
req GET "/api/v1/campaigns/$CAMP/deliveries?state=sent&limit=3&after=$NEXT"
expect_json "len(j['items'])" 1
expect_json "j['next_after']" None
expect_json "j['items'][0]['id'] > $NEXT" True
LAST=$(jq_get "$body" "j['items'][0]['email']")
[ "$(/usr/bin/python3 -c "import sys; print(sorted(eval(sys.argv[1]) + [sys.argv[2]]))" "$FIRST3" "$LAST")" = "['ann@example.com', 'ben@example.com', 'cat@example.com', 'dan@example.com']" ] || fail "pages overlap or miss: $FIRST3 + $LAST"
req GET "/api/v1/campaigns/$CAMP/deliveries"
expect_json "len(j['items'])" 4
req GET "/api/v1/campaigns/$META_CAMP/deliveries"
expect_json "j" "{'items': [], 'next_after': None}"
req GET "/api/v1/campaigns/999999/deliveries"
expect_error 404 not_found
req GET "/api/v1/campaigns/abc/deliveries"
expect_error 404 not_found
req GET "/api/v1/campaigns/$CAMP/deliveries?state=lost"
expect_error 400 invalid_field state
req GET "/api/v1/campaigns/$CAMP/deliveries?limit=0"
expect_error 400 invalid_field limit
req GET "/api/v1/campaigns/$CAMP/deliveries?limit=99999999999999999999"
expect_error 400 invalid_field limit
req GET "/api/v1/campaigns/$CAMP/deliveries?after=-1"
expect_error 400 invalid_field after
req GET "/api/v1/campaigns/$CAMP/deliveries?after=1%27%20OR%201=1"
expect_error 400 invalid_field after
req DELETE /api/v1/templates/plain
expect_error 409 exists

# ---------------------------------------------------------------- imports
# imp PATH-QUERY FILE [CONTENT-TYPE] [TOKEN]
imp() { req POST "/api/v1/imports$1" "@$2" "${4-$ADMIN}" "${3-text/csv}"; }

check "imports: a small CSV is imported at once with the CLI's summary; rejects kept as CSV"
printf 'email,name,city\nimp1@example.com,Imp One,Rome\nnot-an-address,Nobody,X\nIMP2@example.com,Imp Two,Oslo\nimp1@example.com,Again,Y\n' > small.csv
imp "?list=news" small.csv
expect_code 200
expect_json "(j['rows_read'], j['new_subscribers'], j['rejected'], j['duplicates_in_file'], j['list'], j['format'], j['mode'], j['dry_run'])" "(4, 2, 1, 1, 'news', 'csv', 'subscribe', False)"
IMP=$(jq_get "$body" "j['id']")
API_KEYS=$(jq_get "$body" "sorted(k for k in j if k != 'id')")
cp small.csv small2.csv
postino import small2.csv --list vip --json --dry-run
expect_rc 0
[ "$(jq_get "$out" "sorted(j)")" = "$API_KEYS" ] || fail "the API summary's keys differ from the CLI's: $API_KEYS"
[ "$(psql_q "SELECT name || ' ' || (attribs->>'city') FROM subscribers WHERE email = 'IMP2@example.com'")" = "Imp Two Oslo" ] || fail "imported row"
req GET "/api/v1/imports/$IMP/rejects"
expect_code 200
[ "$(printf '%s\n' "$body" | head -1)" = "line,reason,row" ] || fail "rejects header"
printf '%s' "$body" | grep -q '^3,.*not-an-address,Nobody,X' || fail "the rejected row: $body"
req GET "/api/v1/imports/$IMP"
expect_json "(j['state'], j['summary']['rejected'], j['options']['list'], j['rejects_bytes'] > 0, j['error'])" "('done', 1, 'news', True, None)"

check "imports: options as in the CLI (map, delimiter, status, mode, overwrite, dry_run, XML)"
printf 'E-Mail;Full Name;Notes\nmap1@example.com;Map One;private\n' > semi.csv
imp "?list=vip&delimiter=%3B&map=E-Mail%3Demail&map=Full%20Name%3Dname&map=Notes%3D-&status=confirmed" semi.csv
expect_code 200
expect_json "(j['new_subscribers'], j['rejected'])" "(1, 0)"
[ "$(psql_q "SELECT s.name || '|' || s.attribs::text || '|' || sl.status FROM subscribers s JOIN subscriptions sl ON sl.subscriber_id = s.id WHERE s.email = 'map1@example.com'")" = "Map One|{}|confirmed" ] || fail "map/status"
printf 'email,name\nimp1@example.com,Renamed\n' > over.csv
imp "?list=news&overwrite=true&dry_run=true" over.csv
expect_json "(j['existing_updated'], j['dry_run'])" "(1, True)"
[ "$(psql_q "SELECT name FROM subscribers WHERE email = 'imp1@example.com'")" = "Imp One" ] || fail "dry run wrote"
imp "?list=news&overwrite=1" over.csv
expect_json "j['existing_updated']" 1
[ "$(psql_q "SELECT name FROM subscribers WHERE email = 'imp1@example.com'")" = "Renamed" ] || fail "overwrite"
printf 'email\nimp1@example.com\n' > unsub.csv
imp "?list=news&mode=unsubscribe" unsub.csv
expect_json "(j['mode'], j['existing_updated'])" "('unsubscribe', 1)"
printf '<subscribers><subscriber email="xml1@example.com"><name>X One</name><attribute name="plan">pro</attribute></subscriber></subscribers>' > s.xml
imp "?list=news" s.xml application/xml
expect_json "(j['format'], j['new_subscribers'])" "('xml', 1)"
[ "$(psql_q "SELECT attribs->>'plan' FROM subscribers WHERE email = 'xml1@example.com'")" = pro ] || fail "xml import"
printf 'email\nblk@example.com\n' > blk.csv
imp "?mode=blocklist" blk.csv
expect_json "(j['mode'], j['new_subscribers'], j['list'])" "('blocklist', 1, None)"

check "imports: bad options and bodies are 400 naming the field, unknown list 404, nothing imported"
before=$(psql_q "SELECT count(*) FROM subscribers")
imp "" small.csv
expect_error 400 missing_field list
imp "?list=nosuch" small.csv
expect_error 404 not_found
imp "?list=news&mode=merge" small.csv
expect_error 400 invalid_field mode
imp "?list=news&status=maybe" small.csv
expect_error 400 invalid_field status
imp "?list=news&delimiter=x" small.csv
expect_error 400 invalid_field delimiter
imp "?list=news&format=json" small.csv
expect_error 400 invalid_field format
imp "?list=news&overwrite=perhaps" small.csv
expect_error 400 invalid_field overwrite
imp "?list=news&map=nocolumn" small.csv
expect_error 400 invalid_field map
imp "?list=news&encoding=x%27%3B%20DROP" small.csv
expect_error 400 invalid_field encoding
imp "?list=news&colour=red" small.csv
expect_error 400 unknown_field colour
imp "?list=x%27%29%3B%20DROP%20TABLE%20lists%3B%20--" small.csv
expect_error 404 not_found
printf 'name,city\nA,B\n' > noemail.csv
imp "?list=news" noemail.csv
expect_error 400 invalid_import body
printf '<subscribers><subscriber email="a@example.com">' > trunc.xml
imp "?list=news" trunc.xml text/xml
expect_error 400 invalid_import body
: > empty.csv
imp "?list=news" empty.csv
expect_error 400 invalid_field body
imp "?list=news" small.csv application/json
expect_error 415 unsupported_media_type
imp "?list=news" small.csv text/plain
expect_error 415 unsupported_media_type
imp "?list=news" small.csv text/csv ""
expect_error 401 unauthorized
imp "?list=news" small.csv text/csv "pst_not-a-real-token-at-all"
expect_error 401 unauthorized
# over 1 MiB curl asks "Expect: 100-continue" and takes the 413 before sending
head -c 2000000 /dev/zero | tr '\0' 'a' > huge.csv
imp "?list=news" huge.csv
expect_error 413 too_large
[ "$(psql_q "SELECT count(*) FROM subscribers")" = "$before" ] || fail "a refused import wrote"
tables_intact

check "imports: a body over import_inline_max is a job (202), run by the server; GET reports it done"
/usr/bin/python3 -c "
import sys
print('email,name,n')
for i in range(3000): print(f'job{i}@example.com,Job {i},{i}')
print('broken-row,x,y')" > big.csv
imp "?list=news" big.csv
expect_code 202
expect_json "(sorted(j), j['state'])" "(['id', 'location', 'state'], 'queued')"
JOB=$(jq_get "$body" "j['id']")
LOC=$(jq_get "$body" "j['location']")
[ "$LOC" = "/api/v1/imports/$JOB" ] || fail "location $LOC"
job_done() { req GET "$LOC"; [ "$(jq_get "$body" "j['state']")" = done ]; }
wait_for "the import job" 60 job_done
expect_json "(j['state'], j['summary']['rows_read'], j['summary']['new_subscribers'], j['summary']['rejected'], j['bytes'] > 2000, j['finished_at'] is not None)" "('done', 3001, 3000, 1, True, True)"
[ "$(psql_q "SELECT count(*) FROM subscribers WHERE email LIKE 'job%@example.com'")" = 3000 ] || fail "job rows"
req GET "$LOC/rejects"
printf '%s' "$body" | grep -q '^3002,.*broken-row' || fail "job rejects: $body"
printf 'name,city\n%s\n' "$(head -c 3000 /dev/zero | tr '\0' 'x')" > bigbad.csv
imp "?list=news" bigbad.csv
expect_code 202
LOC=$(jq_get "$body" "j['location']")
job_failed() { req GET "$LOC"; [ "$(jq_get "$body" "j['state']")" = failed ]; }
wait_for "the failing import job" 30 job_failed
expect_json "('email' in j['error'], j['summary'])" "(True, None)"
check "imports: with import_jobs = 1, three jobs sent at once run one after another, each whole"
for k in 1 2 3; do
    /usr/bin/python3 -c "
print('email,name')
for i in range(4000): print(f'q$k-{i}@example.com,Q {i}')" > "q$k.csv"
done
QJOBS=""
for k in 1 2 3; do
    imp "?list=news" "q$k.csv"
    expect_code 202
    QJOBS="$QJOBS $(jq_get "$body" "j['id']")"
done
q_done() { [ "$(psql_q "SELECT count(*) FROM import_jobs WHERE id IN ($(echo $QJOBS | tr ' ' ,)) AND state = 'done'")" = 3 ]; }
wait_for "three queued import jobs" 90 q_done
overlaps=$(psql_q "SELECT count(*) FROM import_jobs a JOIN import_jobs b ON a.id < b.id
    WHERE a.id IN ($(echo $QJOBS | tr ' ' ,)) AND b.id IN ($(echo $QJOBS | tr ' ' ,))
    AND a.started_at < b.finished_at AND b.started_at < a.finished_at")
[ "$overlaps" = 0 ] || fail "$overlaps pairs of jobs ran at the same time"
[ "$(psql_q "SELECT count(*) FROM subscribers WHERE email LIKE 'q_-%@example.com'")" = 12000 ] || fail "queued jobs' rows"
ORPHAN=$(psql_q "INSERT INTO import_jobs (state, server, started_at) VALUES ('running', '$(hostname):999999999', now()) RETURNING id" | head -1)
req GET "/api/v1/imports/$ORPHAN"
expect_json "(j['state'], j['error'])" "('failed', 'the server running the import stopped before it ended; nothing was imported')"
LIVE=$(psql_q "INSERT INTO import_jobs (state, server, started_at) VALUES ('running', '$(hostname):$SERVER', now()) RETURNING id" | head -1)
req GET "/api/v1/imports/$LIVE"
expect_json "j['state']" running
req GET /api/v1/imports/999999
expect_error 404 not_found
req GET /api/v1/imports/abc/rejects
expect_error 404 not_found
[ -z "$(ls var/spool)" ] || fail "spool files left: $(ls var/spool)"

# ---------------------------------------------------------------- secrets and logs
check "the relay passwords never appear in an answer or the serve log; nothing answered 500"
grep -q -- "$RELAY_PW" answers.log && fail "the relay password in an answer"
grep -q -- "$RELAY_PW" serve.log && fail "the relay password in the serve log"
grep -q -- "wrong-password-1" answers.log serve.log && fail "a relay password in an answer or the log"
grep -q '"secret"' answers.log && fail "the local relay's password in an answer"
grep -q 'PRIVATE KEY' answers.log serve.log && fail "a private key in an answer or the log"
curl -s -H "Authorization: Bearer $ADMIN" "$API/metrics" > metrics.txt
grep -q 'status="500"' metrics.txt && fail "a request was answered 500"
grep -q 'route="/api/v1/imports",status="202"' metrics.txt || fail "metrics lack the import route"
done=$(psql_q "SELECT count(*) FROM import_jobs WHERE state = 'done'")
grep -qxF "postino_imports{state=\"done\"} $done" metrics.txt || fail "metrics: imports done is not $done: $(grep postino_imports metrics.txt)"
tables_intact

finish
