#!/bin/bash
# test_api - the REST API through postino serve --no-send: login and roles,
# each resource's answers field by field, every kind of bad input answered
# 400/404/409/413/415 with the error envelope, the public unsubscribe page
# (GET changes nothing, POST unsubscribes and repeats 200), /healthz, /metrics
# (a token, or none on [http] metrics_listen; the database's totals kept
# [http] metrics_cache seconds), a new token only with the password, wrong
# passwords throttled per account and per address, tokens per user capped.
source "$(dirname "$0")/lib.sh"

source "$ROOT/tests/integration/api_lib.sh"
api_setup "${POSTINO_TEST_API_PORT:-18080}"

keys() { expect_json "sorted(j.keys())" "$1"; }

check "setup: users from the CLI, passwords from standard input, tokens shown once"
postino db init
expect_rc 0
printf 'admin-pass-1\n' > pw
postino_in pw user add Admin@Example.com --role admin
expect_rc 0
expect_out "added user Admin@example.com"
printf 'short\n' > pwshort
postino_in pwshort user add x@example.com
expect_rc 1
expect_err "at least 8 characters"
postino_in pw user add bob@example.com --role user
expect_rc 0
postino_in pw user add carol@example.com --role user
postino_in pw user add bob@EXAMPLE.com
expect_rc 1
expect_err "already exists"
postino user add nobody@example.com --role root
expect_rc 2
[ "$(psql_q "SELECT count(*) FROM users WHERE password_hash LIKE '\$y\$%'")" = 3 ] || fail "passwords not yescrypt"
postino token create --user admin@example.com --name ci --json
expect_rc 0
ADMIN=$(jq_get "$out" "j['token']")
[ "${ADMIN#pst_}" != "$ADMIN" ] || fail "token prefix"
[ "$(psql_q "SELECT count(*) FROM api_tokens WHERE token_hash = encode(sha256('$ADMIN'::bytea), 'hex')")" = 1 ] || fail "token not stored as its SHA-256"
[ "$(psql_q "SELECT count(*) FROM api_tokens WHERE token_hash LIKE '%$ADMIN%'")" = 0 ] || fail "token stored in clear"
postino token create --user bob@example.com
expect_rc 0
USER=$(printf '%s\n' "$out" | tail -1)
postino token create --user carol@example.com
CAROL=$(printf '%s\n' "$out" | tail -1)
postino token create --user nobody@example.com
expect_rc 1
expect_err 'no user "nobody@example.com"'
postino user ls
expect_rc 0
expect_out "Admin@example.com"
expect_no_out '$y$'
postino token ls --json
expect_no_out "$ADMIN"
[ "$(jq_get "$out" "len(j)")" = 3 ] || fail "token ls"
postino user disable carol@example.com
expect_rc 0
expect_out "disabled user carol@example.com"

check "serve --no-send starts the API"
# wrong passwords: five, then 4 s, then 8 s at most; eight tokens a user
export POSTINO_API_LOGIN_DELAY=4 POSTINO_API_LOGIN_DELAY_MAX=8 POSTINO_API_MAX_TOKENS_PER_USER=8
POSTINO_HTTP_MAX_BODY=4096 "$BIN" serve --no-send --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
api_wait
req GET /healthz "" ""
expect_code 200
expect_json "j" "{'sender': None, 'status': 'ok', 'database': 'ok'}"

check "no token, an unknown token, a disabled user: 401; the wrong role: 403"
req GET /api/v1/lists "" ""
expect_error 401 unauthorized
req GET /api/v1/lists "" "pst_not-a-real-token-at-all"
expect_error 401 unauthorized
req GET /api/v1/lists "" "garbage"
expect_error 401 unauthorized
req GET /api/v1/lists "" "$CAROL"
expect_error 401 unauthorized
req GET /api/v1/users "" "$USER"
expect_error 403 forbidden
req GET /api/v1/lists "" "$USER"
expect_code 200
expect_json "j" "{'items': []}"
h=$(curl -s -D - -o /dev/null "$API/api/v1/lists")
case "$h" in *"WWW-Authenticate: Bearer"*) ;; *) fail "no WWW-Authenticate on 401" ;; esac

check "lists: create 201, read by name and id, duplicate 409, delete 204 then 404"
req POST /api/v1/lists '{"name":"news","optin":"single","description":"Monthly news"}'
expect_code 201
keys "['created_at', 'description', 'id', 'name', 'optin', 'public', 'subscribers', 'welcome_subject', 'welcome_template']"
expect_json "(j['name'], j['optin'], j['description'], j['subscribers'])" "('news', 'single', 'Monthly news', {'confirmed': 0, 'unconfirmed': 0, 'unsubscribed': 0})"
NEWS=$(jq_get "$body" "j['id']")
req POST /api/v1/lists '{"name":"vip","optin":"double"}'
expect_code 201
VIP=$(jq_get "$body" "j['id']")
req GET /api/v1/lists/news
expect_code 200
expect_json "j['id']" "$NEWS"
req GET "/api/v1/lists/$VIP"
expect_json "j['name']" vip
req GET /api/v1/lists
expect_json "[l['name'] for l in j['items']]" "['news', 'vip']"
req POST /api/v1/lists '{"name":"news"}'
expect_error 409 exists
req GET /api/v1/lists/nosuch
expect_error 404 not_found
req POST /api/v1/lists '{"name":"gone"}'
req DELETE /api/v1/lists/gone
expect_code 204
[ -z "$body" ] || fail "204 with a body"
req DELETE /api/v1/lists/gone
expect_error 404 not_found

check "lists: bad input is 400 naming the field"
req POST /api/v1/lists '{"optin":"single"}'
expect_error 400 missing_field name
req POST /api/v1/lists '{"name":"x","colour":"red"}'
expect_error 400 unknown_field colour
req POST /api/v1/lists '{"name":5}'
expect_error 400 invalid_field name
req POST /api/v1/lists '{"name":""}'
expect_error 400 invalid_field name
req POST /api/v1/lists "{\"name\":\"$(printf 'n%.0s' $(seq 1 201))\"}"
expect_error 400 invalid_field name
req POST /api/v1/lists '{"name":"x","optin":"triple"}'
expect_error 400 invalid_field optin
req POST /api/v1/lists '{"name":"x","description":["a"]}'
expect_error 400 invalid_field description
req POST /api/v1/lists '{"name":"x"'
expect_error 400 invalid_json
req POST /api/v1/lists '[]'
expect_error 400 invalid_json
req POST /api/v1/lists ''
expect_error 415 unsupported_media_type
req POST /api/v1/lists '{"name":"x"}' "$ADMIN" "text/plain"
expect_error 415 unsupported_media_type
req POST /api/v1/lists '{"name":"x"}' "$ADMIN" "application/x-www-form-urlencoded"
expect_error 415 unsupported_media_type
req POST /api/v1/lists '{"name":"x","name":"y"}'
expect_error 400 invalid_json
printf '{"name":"caf\xe9"}' > bad-utf8.json
req POST /api/v1/lists @bad-utf8.json
expect_error 400 invalid_utf8
req GET /api/v1/lists/%ff
expect_error 400 invalid_utf8
[ "$(psql_q "SELECT count(*) FROM lists")" = 2 ] || fail "a bad request wrote a list"

check "SQL meta-characters in every string field are stored as data"
meta="x'); DROP TABLE lists; -- \\\"\\\\ % _ ; \$1 /* */"
req POST /api/v1/lists "{\"name\":\"$meta\",\"description\":\"$meta\"}"
expect_code 201
stored=$(jq_get "$body" "j['name']")
[ "$stored" = "x'); DROP TABLE lists; -- \"\\ % _ ; \$1 /* */" ] || fail "name changed: $stored"
META_ID=$(jq_get "$body" "j['id']")
req GET "/api/v1/lists/$META_ID"
expect_json "j['description'] == j['name']" True
req POST /api/v1/subscribers "{\"email\":\"meta@example.com\",\"name\":\"$meta\",\"attribs\":{\"k'\":\"$meta\"},\"lists\":[$META_ID]}"
expect_code 201
expect_json "j['name'] == j['attribs'][\"k'\"]" True
req GET "/api/v1/subscribers?list=$(python3 -c 'import urllib.parse,sys;print(urllib.parse.quote(sys.argv[1]))' "$stored")"
expect_code 200
expect_json "[s['email'] for s in j['items']]" "['meta@example.com']"
[ "$(psql_q "SELECT count(*) FROM lists")" = 3 ] || fail "lists table damaged"

check "subscribers: create 201 with lists by name and id, exact fields"
req POST /api/v1/subscribers "{\"email\":\"  Alice@Example.COM \",\"name\":\"Alice\",\"attribs\":{\"city\":\"Roma\",\"n\":3},\"lists\":[\"news\",$VIP]}"
expect_code 201
keys "['attribs', 'created_at', 'email', 'id', 'lists', 'name', 'status', 'updated_at']"
expect_json "(j['email'], j['name'], j['attribs'] == {'city': 'Roma', 'n': 3}, j['status'])" "('Alice@example.com', 'Alice', True, 'enabled')"
expect_json "[(l['name'], l['status']) for l in j['lists']]" "[('news', 'confirmed'), ('vip', 'unconfirmed')]"
ALICE=$(jq_get "$body" "j['id']")
for e in bob erin frank; do
    req POST /api/v1/subscribers "{\"email\":\"$e@example.com\",\"lists\":[\"news\"],\"subscription_status\":\"confirmed\"}"
    expect_code 201
done
req POST /api/v1/subscribers '{"email":"ALICE@example.com"}'
expect_error 409 exists
req POST /api/v1/subscribers '{"email":"zed@example.com","lists":["nosuch"]}'
expect_error 404 not_found
[ "$(psql_q "SELECT count(*) FROM subscribers WHERE email = 'zed@example.com'")" = 0 ] || fail "half-written subscriber"

check "subscribers: bad input is 400 naming the field"
for bad in 'no-at-sign' 'sp ace@example.com' 'user@nodot' 'a@b@c.com'; do
    req POST /api/v1/subscribers "{\"email\":\"$bad\"}"
    expect_error 400 invalid_field email
done
req POST /api/v1/subscribers '{"email":"q@example.com","attribs":{"n":123456789012345678901234567890}}'
expect_error 400 invalid_json
req POST /api/v1/subscribers '{"email":"q@example.com","attribs":{"n":1e400}}'
expect_error 400 invalid_json
req POST /api/v1/subscribers '{"email":"q@example.com","lists":[99999999999999999999]}'
expect_error 400 invalid_json
req POST /api/v1/subscribers '{"email":"q@example.com","attribs":{"n":1e308}}'
expect_error 400 invalid_field attribs
req POST /api/v1/subscribers '{"email":"q@example.com","attribs":{"n":[-1.5e20]}}'
expect_error 400 invalid_field attribs
req POST /api/v1/subscribers "{\"email\":\"q@example.com\",\"attribs\":$(python3 -c 'print("{\"a\":" * 40 + "1" + "}" * 40)')}"
expect_error 400 invalid_field attribs
req POST /api/v1/subscribers '{"email":"q@example.com","attribs":"city=Roma"}'
expect_error 400 invalid_field attribs
req POST /api/v1/subscribers '{"email":"q@example.com","lists":"news"}'
expect_error 400 invalid_field lists
req POST /api/v1/subscribers '{"email":"q@example.com","subscription_status":"maybe"}'
expect_error 400 invalid_field subscription_status
req POST /api/v1/subscribers '{"email":"q@example.com","status":"enabled"}'
expect_error 400 unknown_field status
req POST /api/v1/subscribers '{"email":"q@example.com","name":"a\u0000b"}'
expect_error 400 invalid_json
printf '{"email":"q@example.com","name":"\xc3\x28"}' > bad2.json
req POST /api/v1/subscribers @bad2.json
expect_error 400 invalid_utf8
python3 -c 'import json; print(json.dumps({"email":"big@example.com","name":"x"*5000}))' > big.json
req POST /api/v1/subscribers @big.json
expect_error 413 too_large
[ "$(psql_q "SELECT count(*) FROM subscribers WHERE email IN ('q@example.com', 'big@example.com')")" = 0 ] || fail "bad input written"

check "subscribers: filters and keyset pages"
req GET "/api/v1/subscribers?list=news&limit=2"
expect_code 200
keys "['items', 'next_after']"
expect_json "[s['email'] for s in j['items']]" "['Alice@example.com', 'bob@example.com']"
after=$(jq_get "$body" "j['next_after']")
req GET "/api/v1/subscribers?list=news&limit=2&after=$after"
expect_json "[s['email'] for s in j['items']]" "['erin@example.com', 'frank@example.com']"
req GET "/api/v1/subscribers?list=$VIP"
expect_json "([s['email'] for s in j['items']], j['next_after'])" "(['Alice@example.com'], None)"
req GET "/api/v1/subscribers?email=ALICE@example.com"
expect_json "[s['id'] for s in j['items']]" "[$ALICE]"
req GET "/api/v1/subscribers?email=nobody@example.com"
expect_json "j" "{'items': [], 'next_after': None}"
req GET "/api/v1/subscribers?attr.city=Roma"
expect_json "([s['email'] for s in j['items']], j['next_after'])" "(['Alice@example.com'], None)"
req GET "/api/v1/subscribers?attr.city=Roma&attr.n=3&list=news"
expect_json "[s['email'] for s in j['items']]" "['Alice@example.com']"
req GET "/api/v1/subscribers?attr.city=Milano"
expect_json "j" "{'items': [], 'next_after': None}"
req GET "/api/v1/subscribers?attr.n=4"
expect_json "j['items']" "[]"
req GET "/api/v1/subscribers?attr.k%27=$(python3 -c 'import urllib.parse,sys;print(urllib.parse.quote(sys.argv[1]))' "$stored")"
expect_json "[s['email'] for s in j['items']]" "['meta@example.com']"
req GET "/api/v1/subscribers?attr.=x"
expect_error 400 unknown_field "attr."
req GET "/api/v1/subscribers?list=nosuch"
expect_error 404 not_found
for q in "limit=0" "limit=1001" "limit=x" "limit=99999999999999999999999" "after=-1" "status=weird" "email=not-an-address" "colour=red"; do
    req GET "/api/v1/subscribers?$q"
    expect_error 400 "$([ "$q" = colour=red ] && echo unknown_field || echo invalid_field)" "${q%%=*}"
done

check "subscribers: one by id or email, blocklist, delete"
req GET "/api/v1/subscribers/$ALICE"
expect_code 200
expect_json "j['email']" "Alice@example.com"
req GET "/api/v1/subscribers/alice@example.com"
expect_json "j['id']" "$ALICE"
req GET /api/v1/subscribers/999999
expect_error 404 not_found
req GET /api/v1/subscribers/abc
expect_error 404 not_found
req POST "/api/v1/subscribers/frank@example.com/blocklist"
expect_code 200
expect_json "(j['status'], [l['status'] for l in j['lists']])" "('blocklisted', ['unsubscribed'])"
req POST "/api/v1/subscribers/frank@example.com/blocklist" '{"why":"x"}'
expect_error 400 unknown_field why
req GET "/api/v1/subscribers?status=blocklisted"
expect_json "[s['email'] for s in j['items']]" "['frank@example.com']"
req DELETE "/api/v1/subscribers/frank@example.com"
expect_code 204
req DELETE "/api/v1/subscribers/frank@example.com"
expect_error 404 not_found

check "campaigns: list, one, schedule, pause, resume, send, stats, cancel"
printf '<p>Hello {{ name }}</p><p><a href="{{ unsubscribe_url }}">unsubscribe</a></p>\n' > body.html
postino campaign create --name "Issue 1" --subject "News" --from "News <news@example.com>" --list news --html body.html --json
expect_rc 0
CAMP=$(jq_get "$out" "j['id']")
req GET /api/v1/campaigns
expect_code 200
expect_json "[(c['id'], c['name'], c['status']) for c in j['items']]" "[($CAMP, 'Issue 1', 'draft')]"
req GET "/api/v1/campaigns/$CAMP"
expect_json "(j['subject'], j['from_addr'], [l['name'] for l in j['lists']])" "('News', 'news@example.com', ['news'])"
req GET /api/v1/campaigns/424242
expect_error 404 not_found
req GET /api/v1/campaigns/x
expect_error 404 not_found
req POST "/api/v1/campaigns/$CAMP/schedule" '{}'
expect_error 400 missing_field send_at
req POST "/api/v1/campaigns/$CAMP/schedule" '{"send_at":12}'
expect_error 400 invalid_field send_at
for t in "next tuesday'; --" "2026-12-01 09:00 Foo/Bar" "2099-13-45" "infinity"; do
    req POST "/api/v1/campaigns/$CAMP/schedule" "{\"send_at\":\"$t\"}"
    expect_error 400 invalid_field send_at
done
req POST "/api/v1/campaigns/$CAMP/schedule" '{"send_at":"2000-01-01T00:00:00Z"}'
expect_error 400 invalid
req POST "/api/v1/campaigns/$CAMP/schedule" '{"send_at":"2099-01-01T09:00:00Z"}'
expect_code 200
expect_json "(j['id'], j['status'], j['send_at'][:4])" "($CAMP, 'scheduled', '2099')"
req POST "/api/v1/campaigns/$CAMP/pause"
expect_json "j['status']" paused
req POST "/api/v1/campaigns/$CAMP/pause"
expect_error 400 invalid
req POST "/api/v1/campaigns/$CAMP/resume" '{}'
expect_json "j['status']" scheduled
req POST "/api/v1/campaigns/$CAMP/send"
expect_code 200
expect_json "(j['status'], j['total'], j['queued'])" "('running', 3, 3)"
req GET "/api/v1/campaigns/$CAMP/stats"
expect_code 200
expect_json "(j['status'], j['total'], j['queued'], j['sent'], j['failed'])" "('running', 3, 3, 0, 0)"
req POST "/api/v1/campaigns/$CAMP/send" '{"now":true}'
expect_error 400 unknown_field now
req POST "/api/v1/campaigns/$CAMP/send" 'now' "$ADMIN" "text/plain"
expect_error 415 unsupported_media_type

check "public: GET /u/TOKEN shows the page and changes nothing"
req GET /u/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "" ""
expect_error 404 not_found
KEY=$(psql_q "SELECT value FROM settings WHERE key = 'token_key'")
BOB=$(psql_q "SELECT id FROM subscribers WHERE email = 'bob@example.com'")
UTOK=$(mktoken u "$BOB" "$CAMP")
req GET "/u/$UTOK" "" ""
expect_code 200
case "$body" in *"news"*) ;; *) fail "page lacks the list name" ;; esac
case "$body" in *'<form method="post" action="/u/'"$UTOK"'">'*) ;; *) fail "page lacks the form" ;; esac
case "$headers" in *"Content-Security-Policy: "*"frame-ancestors 'none'"*) ;; *) fail "the page may be framed: $headers" ;; esac
case "$headers" in *"Referrer-Policy: no-referrer"*) ;; *) fail "the page sends its address as Referer: $headers" ;; esac
for _ in 1 2; do req GET "/u/$UTOK" "" ""; done
[ "$(psql_q "SELECT status FROM subscriptions WHERE subscriber_id = $BOB")" = confirmed ] || fail "GET changed the subscription"
t2=${UTOK%?}$( [ "${UTOK: -1}" = a ] && echo b || echo a )
req GET "/u/$t2" "" ""
expect_error 404 not_found
req POST "/u/$t2" "" ""
expect_error 404 not_found
req GET "/u/$(mktoken b "$BOB" "$CAMP")" "" ""
expect_error 404 not_found
req GET "/u/$(mktoken u 999999 "$CAMP")" "" ""
expect_error 404 not_found

check "public: POST /u/TOKEN unsubscribes (RFC 8058 one-click), repeated still 200"
req POST "/u/$UTOK" "List-Unsubscribe=One-Click" "" "application/x-www-form-urlencoded"
expect_code 200
case "$body" in *"You are unsubscribed"*) ;; *) fail "no confirmation" ;; esac
[ "$(psql_q "SELECT status FROM subscriptions WHERE subscriber_id = $BOB")" = unsubscribed ] || fail "POST did not unsubscribe"
[ "$(psql_q "SELECT status FROM subscribers WHERE id = $BOB")" = enabled ] || fail "POST changed more than the subscription"
req POST "/u/$UTOK" "" ""
expect_code 200
req GET "/u/$UTOK" "" ""
expect_code 200
case "$body" in *"You are unsubscribed"*) ;; *) fail "page does not say unsubscribed" ;; esac

check "campaign cancel; an illegal move is 400"
req POST "/api/v1/campaigns/$CAMP/cancel"
expect_json "(j['status'], j['cancelled'], j['queued'])" "('cancelled', 3, 0)"
req POST "/api/v1/campaigns/$CAMP/cancel"
expect_error 400 invalid

check "templates, relays (no password), DKIM keys (public side only)"
req GET /api/v1/templates
expect_json "[t['name'] for t in j['items']]" "['confirm', 'newsletter', 'signup']"
req GET /api/v1/templates/newsletter
expect_code 200
expect_json "'html' in j and j['name'] == 'newsletter'" True
req GET /api/v1/templates/nosuch
expect_error 404 not_found
printf 'relay-secret-pw\n' > relaypw
postino relay add mx1 --host 127.0.0.1 --port 2525 --tls starttls --user u1 --password-file relaypw
expect_rc 0
req GET /api/v1/relays
expect_code 200
expect_json "[(r['name'], r['password_set']) for r in j['items']]" "[('mx1', True)]"
case "$body" in *relay-secret-pw*|*'"password"'*) fail "relay password in the answer" ;; esac
postino dkim add example.com --selector s1 --algorithm ed25519
expect_rc 0
req GET /api/v1/dkim-keys
expect_code 200
expect_json "[(k['domain'], k['selector'], k['record'].startswith('v=DKIM1; k=ed25519; s=email; p=')) for k in j['items']]" "[('example.com', 's1', True)]"
case "$body" in *PRIVATE*|*private*) fail "private key in the answer" ;; esac

check "users (admin): create, duplicate, disable, enable, reset password, delete; not oneself"
req POST /api/v1/users '{"email":"dave@example.com","role":"user","password":"dave-pass-1"}'
expect_code 201
keys "['active', 'created_at', 'email', 'id', 'role', 'tokens', 'updated_at']"
expect_json "(j['email'], j['role'], j['active'], j['tokens'])" "('dave@example.com', 'user', True, 0)"
DAVE=$(jq_get "$body" "j['id']")
case "$body" in *dave-pass-1*|*'$y$'*) fail "password in the answer" ;; esac
req POST /api/v1/users '{"email":"DAVE@example.com","role":"user","password":"dave-pass-1"}'
expect_error 409 exists
req POST /api/v1/users '{"email":"eve@example.com","role":"root","password":"eve-pass-12"}'
expect_error 400 invalid_field role
req POST /api/v1/users '{"email":"eve@example.com","role":"user","password":"short"}'
expect_error 400 invalid_field password
req POST /api/v1/users '{"email":"eve@example.com","role":"user"}'
expect_error 400 missing_field password
req POST /api/v1/users '{"email":"eve@example.com","role":"user","password":"eve-pass-12","admin":true}'
expect_error 400 unknown_field admin
req GET /api/v1/users
expect_json "[(u['email'], u['active']) for u in j['items']]" "[('Admin@example.com', True), ('bob@example.com', True), ('carol@example.com', False), ('dave@example.com', True)]"
case "$body" in *'$y$'*|*password*) fail "hash in the listing" ;; esac
req GET "/api/v1/users/$DAVE"
expect_json "j['email']" dave@example.com
req POST /api/v1/users/bob@example.com/disable
expect_code 200
expect_json "j['active']" False
req GET /api/v1/lists "" "$USER"
expect_error 401 unauthorized
req POST /api/v1/users/bob@example.com/enable
expect_json "j['active']" True
req GET /api/v1/lists "" "$USER"
expect_code 200
req POST "/api/v1/users/$DAVE/password" '{"password":"dave-pass-2"}'
expect_code 204
req POST /api/v1/users/admin@example.com/disable
expect_error 409 conflict
req DELETE /api/v1/users/admin@example.com
expect_error 409 conflict
req DELETE "/api/v1/users/$DAVE"
expect_code 204
req GET "/api/v1/users/$DAVE"
expect_error 404 not_found
req POST /api/v1/users/bob@example.com/disable "" "$USER"
expect_error 403 forbidden

check "me: own password and tokens"
req GET /api/v1/me "" "$USER"
expect_json "(j['email'], j['role'])" "('bob@example.com', 'user')"
req POST /api/v1/me/password '{"current_password":"wrong-pass-1","password":"bob-pass-22"}' "$USER"
expect_error 403 wrong_password current_password
req POST /api/v1/me/password '{"current_password":"admin-pass-1","password":"bob"}' "$USER"
expect_error 400 invalid_field password
req POST /api/v1/me/password '{"current_password":"admin-pass-1","password":"bob-pass-22"}' "$USER"
expect_code 204
[ "$(psql_q "SELECT count(*) FROM users WHERE email = 'bob@example.com' AND password_hash LIKE '\$y\$%'")" = 1 ] || fail "new hash"
req POST /api/v1/me/tokens '{"name":"laptop"}' "$USER"
expect_error 400 missing_field password
req POST /api/v1/me/tokens "" "$USER"
expect_error 400 missing_field password
req POST /api/v1/me/tokens '{"name":"laptop","password":"bob-pass-2"}' "$USER"
expect_error 403 wrong_password password
req POST /api/v1/me/tokens '{"name":"laptop","password":"bob-pass-22"}' "$USER"
expect_code 201
keys "['created_at', 'id', 'last_used_at', 'name', 'token', 'user']"
NEWTOK=$(jq_get "$body" "j['token']")
NEWID=$(jq_get "$body" "j['id']")
req GET /api/v1/me/tokens "" "$NEWTOK"
expect_code 200
expect_json "[t['name'] for t in j['items']]" "['', 'laptop']"
case "$body" in *pst_*) fail "a token in the listing" ;; esac
req POST /api/v1/me/tokens '{"password":"bob-pass-22"}' "$USER"
expect_code 201
req DELETE "/api/v1/me/tokens/1" "" "$USER"
expect_error 404 not_found
req DELETE "/api/v1/me/tokens/$NEWID" "" "$USER"
expect_code 204
req GET /api/v1/me "" "$NEWTOK"
expect_error 401 unauthorized
grep -q "bob-pass-2" serve.log && fail "a password in the log"

check "wrong passwords: after five an account waits (429, Retry-After), even for the right one and from anywhere"
# bob's five wrong passwords from two addresses, neither of which reaches five itself
for from in 127.0.0.3 127.0.0.4 127.0.0.3 127.0.0.4 127.0.0.3; do
    REQ_FROM=$from req POST /api/v1/me/tokens '{"password":"not-bobs-1"}' "$USER"
    expect_error 403 wrong_password password
done
for from in 127.0.0.2 127.0.0.3; do
    REQ_FROM=$from req POST /api/v1/me/tokens '{"password":"bob-pass-22"}' "$USER"
    expect_error 429 too_many_attempts password
    wait=$(printf '%s\n' "$headers" | sed -n 's/^Retry-After: \([0-9]*\)$/\1/p')
    [ -n "$wait" ] && [ "$wait" -ge 1 ] && [ "$wait" -le 4 ] || fail "Retry-After '$wait' (expected 1 to 4): $headers"
done
REQ_FROM=127.0.0.2 req POST /api/v1/me/password '{"current_password":"bob-pass-22","password":"bob-pass-33"}' "$USER"
expect_error 429 too_many_attempts current_password
# another account from the same address is not held back
REQ_FROM=127.0.0.3 req POST /api/v1/me/tokens '{"password":"admin-pass-1"}' "$ADMIN"
expect_code 201
[ "$(psql_q "SELECT count(*) FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.email = 'bob@example.com'")" = 2 ] ||
    fail "a token was made while bob waited"
bob_token() { REQ_FROM=127.0.0.2 req POST /api/v1/me/tokens '{"password":"bob-pass-22"}' "$USER"; [ "$code" = 201 ]; }
wait_for "bob's wait to end" 30 bob_token
# the right password forgot bob's failures: four wrong ones are 403 again, not 429
for i in 1 2 3 4; do
    REQ_FROM=127.0.0.5 req POST /api/v1/me/tokens '{"password":"not-bobs-1"}' "$USER"
    expect_error 403 wrong_password password
done

check "wrong passwords: after five from one address, it waits whichever account it tries"
# 127.0.0.5 has bob's four; one of the admin's makes five
REQ_FROM=127.0.0.5 req POST /api/v1/me/password '{"current_password":"not-admins-1","password":"admin-pass-2"}'
expect_error 403 wrong_password current_password
REQ_FROM=127.0.0.5 req POST /api/v1/me/tokens '{"password":"admin-pass-1"}'
expect_error 429 too_many_attempts password
printf '%s\n' "$headers" | grep -qx 'Retry-After: [1-4]' || fail "no Retry-After of 1 to 4 s: $headers"
REQ_FROM=127.0.0.5 req POST /api/v1/me/tokens '{"password":"bob-pass-22"}' "$USER"
expect_error 429 too_many_attempts password
# the same accounts elsewhere are fine (bob's right password also forgets his four)
REQ_FROM=127.0.0.6 req POST /api/v1/me/tokens '{"password":"bob-pass-22"}' "$USER"
expect_code 201
admin_token() { REQ_FROM=127.0.0.5 req POST /api/v1/me/tokens '{"password":"admin-pass-1"}'; [ "$code" = 201 ]; }
wait_for "127.0.0.5's wait to end" 30 admin_token
grep -q "wrong password for user:[0-9]* from 127.0.0.5" serve.log || fail "wrong passwords are not logged with the address"
grep -q -e "not-bobs-1" -e "not-admins-1" serve.log && fail "a password in the log"

check "tokens per user: at most [api] max_tokens_per_user (8), over the API (409) and from the CLI"
req POST /api/v1/users '{"email":"erin@example.com","role":"user","password":"erin-pass-12"}'
expect_code 201
postino token create --user erin@example.com
expect_rc 0
ERIN=$(printf '%s\n' "$out" | tail -1)
for i in 2 3 4 5 6; do
    REQ_FROM=127.0.0.7 req POST /api/v1/me/tokens "{\"name\":\"t$i\",\"password\":\"erin-pass-12\"}" "$ERIN"
    expect_code 201
done
# six made, room for two: four at once make exactly two
codes=$(seq 1 4 | xargs -P 4 -I{} curl -s -o /dev/null -w '%{http_code}\n' --interface 127.0.0.8 \
    -H "Authorization: Bearer $ERIN" -H 'Content-Type: application/json' -d '{"password":"erin-pass-12"}' \
    "$API/api/v1/me/tokens" | sort | uniq -c | tr -s ' ')
[ "$codes" = "$(printf ' 2 201\n 2 409')" ] || fail "four at once with room for two: $codes"
REQ_FROM=127.0.0.7 req POST /api/v1/me/tokens '{"password":"erin-pass-12"}' "$ERIN"
expect_error 409 limit_reached
expect_json "j['error']['message']" "user erin@example.com has the most tokens allowed (8); remove one first"
[ "$(psql_q "SELECT count(*) FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.email = 'erin@example.com'")" = 8 ] ||
    fail "erin does not have exactly 8 tokens"
postino token create --user erin@example.com
expect_rc 1
expect_err "user erin@example.com has the most tokens allowed (8); remove one first"
req GET /api/v1/me/tokens "" "$ERIN"
last=$(jq_get "$body" "j['items'][-1]['id']")
req DELETE "/api/v1/me/tokens/$last" "" "$ERIN"
expect_code 204
REQ_FROM=127.0.0.7 req POST /api/v1/me/tokens '{"password":"erin-pass-12"}' "$ERIN"
expect_code 201

check "unknown routes 404, wrong methods 405, a body where none is taken 415"
req GET /api/v1/nothing
expect_error 404 not_found
req GET /api/v1/lists/ 
expect_error 404 not_found
req PUT /api/v1/lists '{"name":"x"}'
expect_error 405 method_not_allowed
req GET /api/v1/lists '{"x":1}'
expect_error 415 unsupported_media_type

check "HEAD answers as GET does, with the headers alone"
for p in /healthz /metrics /api/v1/lists /api/v1/lists/news /api/v1/lists/nosuch /api/v1/nothing /api/v1/imports \
    "/u/$UTOK" /u/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; do
    get=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN" "$API$p")
    head=$(curl -s -I -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN" "$API$p")
    [ "$head" = "$get" ] || fail "HEAD $p answered $head, GET $get"
done
head=$(curl -s -I -o /dev/null -w '%{http_code}' "$API/api/v1/lists")
[ "$head" = 401 ] || fail "HEAD without a token answered $head"
raw=$(python3 - "$PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(b"HEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
d = b""
while True:
    c = s.recv(4096)
    if not c:
        break
    d += c
length = [l.split(b": ")[1] for l in d.split(b"\r\n") if l.lower().startswith(b"content-length: ")]
print(d.split(b"\r\n")[0].decode(), d.endswith(b"\r\n\r\n"), length != [] and int(length[0]) > 0)
PY
)
[ "$raw" = "HTTP/1.1 200 OK True True" ] || fail "HEAD /healthz: $raw (status, nothing after the headers, the GET's length)"

check "metrics in Prometheus text, for a token only; no answer was a 500"
req GET /metrics "" ""
expect_error 401 unauthorized
req GET /metrics "" "pst_not-a-real-token-at-all"
expect_error 401 unauthorized
req GET /metrics "" "$USER"
expect_code 200
req GET /metrics
expect_code 200
for line in 'postino_up 1' 'postino_deliveries{state="cancelled"} 3' 'postino_deliveries{state="queued"} 0' \
    'postino_campaigns{status="cancelled"} 1' 'postino_campaigns{status="draft"} 0' \
    '# TYPE postino_http_requests_total counter' \
    'postino_http_requests_total{method="POST",route="/api/v1/lists",status="201"} 4' \
    'postino_http_requests_total{method="GET",route="/u/{token}",status="404"}'; do
    case "$body" in *"$line"*) ;; *) fail "metrics lack: $line" ;; esac
done
case "$body" in *'status="500"'*) fail "a 500 was answered" ;; esac
h=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $ADMIN" "$API/metrics")
case "$h" in *"Content-Type: text/plain; version=0.0.4"*) ;; *) fail "metrics content type" ;; esac
# exactly these metrics, as before the token was asked, and the age of the database's totals
names=$(printf '%s\n' "$body" | sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' | sort | tr '\n' ' ')
[ "$names" = "postino_bounces postino_campaigns postino_clicks_total postino_confirmations_total postino_deliveries postino_http_requests_total postino_http_timeouts_total postino_imports postino_messages postino_metrics_cache_age_seconds postino_opens_total postino_provider_events_total postino_provider_halvings_total postino_provider_held_total postino_provider_pace_per_minute postino_provider_paced_total postino_provider_slowed postino_queue_depth postino_send_rate postino_signup_honeypot_total postino_signup_limited_total postino_signups_total postino_up postino_warmup_cap postino_warmup_sent postino_warmup_waiting " ] ||
    fail "metric names: $names"

check "a body over the limit sent in chunks is 413 too; parallel requests share the pool"
python3 -c 'print("{\"name\":\"" + "a" * 10000 + "\"}")' > big2.json
code=$(curl -s -o "$WORK/resp" -w '%{http_code}' -H "Authorization: Bearer $ADMIN" -H 'Transfer-Encoding: chunked' \
    -H 'Content-Type: application/json' --data-binary @big2.json "$API/api/v1/lists")
body=$(cat "$WORK/resp")
expect_error 413 too_large
codes=$(seq 1 40 | xargs -P 20 -I{} curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $ADMIN" \
    "$API/api/v1/subscribers?limit=2" | sort | uniq -c | tr -s ' ')
[ "$codes" = " 40 200" ] || fail "parallel answers: $codes"

check "bounces: a provider's webhook (JSON) and a raw report (message/rfc822) go through the bounce policy"
req POST /api/v1/subscribers '{"email":"bounced@example.com","name":"Bo"}'
expect_code 201
req POST /api/v1/bounces '{"email":"Bounced@Example.com","type":"hard","status":"5.1.1","reason":"550 5.1.1 user unknown"}'
expect_code 201
req GET /api/v1/subscribers/bounced@example.com
expect_json "j['status']" blocklisted
req GET "/api/v1/bounces?class=hard&limit=5"
expect_code 200
expect_json "[(b['email'], b['class'], b['status']) for b in j['items'] if b['email'] == 'bounced@example.com']" "[('bounced@example.com', 'hard', '5.1.1')]"
bid=$(jq_get "$body" "[b['id'] for b in j['items'] if b['email'] == 'bounced@example.com'][0]")
req GET "/api/v1/bounces/$bid"
expect_code 200
expect_json "(j['id'], j['class'])" "($bid, 'hard')"
req GET /api/v1/bounces/999999
expect_error 404 not_found
req POST /api/v1/bounces "@$ROOT/tests/data/dsn/postfix_hard_5.1.1.eml" "$ADMIN" message/rfc822
expect_code 201
expect_json "j['matched']" False
req POST /api/v1/bounces '{"type":"hard"}'
expect_error 400 missing_field email
req POST /api/v1/bounces 'email,type' "$ADMIN" text/csv
expect_error 415 unsupported_media_type
req GET "/api/v1/bounces?class=angry"
expect_error 400 invalid class
req POST /api/v1/bounces '{"email":"x@example.com"}' ""
expect_code 401

check "the database away is 503 with the envelope; the pool reconnects when it is back"
# every slot of the pool holds a connection, each made stale by the stop
par_get() {
    seq 1 "$1" | xargs -P "$1" -I{} curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $ADMIN" \
        "$API/api/v1/subscribers?limit=2" | sort | uniq -c | tr -s ' '
}
codes=$(par_get 16)
[ "$codes" = " 16 200" ] || fail "parallel answers before the stop: $codes"
postino db stop
expect_rc 0
req GET /healthz "" ""
expect_code 503
req GET /api/v1/lists
expect_error 503 unavailable
req GET /api/v1/lists/news
expect_error 503 unavailable
postino db start
expect_rc 0
req GET /healthz "" ""
expect_code 200
for _ in 1 2 3 4 5 6 7 8 9 10; do
    req GET /api/v1/lists/news
    expect_code 200
done
codes=$(par_get 16)
[ "$codes" = " 16 200" ] || fail "parallel answers after the restart: $codes"

check "a second server on the same address fails"
"$BIN" serve --no-send --listen "127.0.0.1:$PORT" >serve2.log 2>&1
rc=$?
[ "$rc" = 1 ] || fail "second serve exited $rc"
grep -q "cannot listen on 127.0.0.1:$PORT" serve2.log || fail "no reason: $(cat serve2.log)"

check "random hostile requests on every route: never a 5xx, always the envelope"
python3 - "127.0.0.1:$PORT" "$ADMIN" "$ROOT/api/routes.c" <<'PY' > probe.log 2>&1 || fail "probe: $(tail -5 probe.log)"
import http.client, json, random, re, sys, urllib.parse
api, tok, table = sys.argv[1:4]
routes = [r for r in re.findall(r'R(?:_LINK)?\("(\w+)", "([^"]+)"', open(table).read())
          if r[1] not in ("/api/v1/me/tokens/{token}", "/api/v1/me/password")]
nasty = ["'", "1; DROP TABLE lists; --", "9999999999999999999999", "-1", "0", "..", "caf\u00e9", "x" * 3000,
         "%25", "a@b.c", "1e5", " ", "\u202e", "null", "\\", "$1", "1'::bigint", "news", "1"]
vals = ["'; DROP TABLE x; --", 1, -1, 2**63 - 1, -2**63, 1.5, 1e300, True, None, [], {}, ["news", 1, "'"],
        {"a": "'"}, "x" * 300, "", "a@example.com", "\u0000x", "2099-01-01", [2**62], {"k": [1e17]}]
fields = ["name", "optin", "description", "email", "attribs", "lists", "subscription_status", "send_at", "role",
          "password", "current_password", "zzz"]
random.seed(5)
bad, seen = 0, {}
for _ in range(600):
    m, p = random.choice(routes)
    path = re.sub(r"\{[^}]+\}", lambda _: urllib.parse.quote(random.choice(nasty), safe=""), p)
    if random.random() < 0.3:
        path += "?" + urllib.parse.urlencode({random.choice(["limit", "after", "list", "status", "email", "x"]): random.choice(nasty)})
    body, hdr = None, {"Authorization": "Bearer " + tok}
    if m == "POST" and random.random() < 0.9:
        body = json.dumps({f: random.choice(vals) for f in random.sample(fields, random.randint(0, 4))}).encode()
        if random.random() < 0.1:
            body = body[:random.randint(0, len(body))]
        hdr["Content-Type"] = "application/json"
    c = http.client.HTTPConnection(api, timeout=20)
    c.request(m, path, body=body, headers=hdr)
    r = c.getresponse()
    data = r.read()
    c.close()
    seen[r.status] = seen.get(r.status, 0) + 1
    if r.status >= 500 or (r.status >= 400 and r.headers.get("Content-Type", "").startswith("application/json")
                           and sorted(json.loads(data)) != ["error"]):
        bad += 1
        print(r.status, m, path[:100], (body or b"")[:100], data[:200])
print(sorted(seen.items()))
sys.exit(1 if bad or seen.get(401) or not seen.get(200) else 0)
PY

check "the server stops cleanly on SIGTERM and logged no secret"
kill -TERM "$SERVER"
wait "$SERVER"
rc=$?
SERVER=""
[ "$rc" = 0 ] || fail "serve exited $rc"
for s in "$ADMIN" "$USER" admin-pass-1 relay-secret-pw panic; do
    grep -q -- "$s" serve.log && fail "serve.log holds '$s'"
done

check "[http] metrics_listen: /metrics alone there, without a token; nothing else there"
MPORT=$((PORT + 7))
MAPI="http://127.0.0.1:$MPORT"
POSTINO_HTTP_METRICS_LISTEN="127.0.0.1:$MPORT" POSTINO_HTTP_METRICS_CACHE=3600 \
    "$BIN" serve --no-send --listen "127.0.0.1:$PORT" >serve-metrics.log 2>&1 &
SERVER=$!
api_wait
metrics_up() { curl -s -o /dev/null "$MAPI/metrics"; }
wait_for "the metrics listener" 30 metrics_up
grep -q "api: /metrics without a token on http://127.0.0.1:$MPORT" serve-metrics.log || fail "no log line for $MAPI"
REQ_API=$MAPI req GET /metrics "" ""
expect_code 200
names2=$(printf '%s\n' "$body" | sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' | sort | tr '\n' ' ')
[ "$names2" = "$names" ] || fail "metric names on $MAPI: $names2"
case "$body" in *"postino_up 1"*) ;; *) fail "postino_up is not 1 on $MAPI" ;; esac
for p in /healthz /api/v1/lists /api/v1/me /u/x /nothing; do
    REQ_API=$MAPI req GET "$p"
    expect_error 404 not_found
done
REQ_API=$MAPI req POST /metrics '{}'
expect_error 404 not_found
req GET /metrics "" ""
expect_error 401 unauthorized

check "[http] metrics_cache: the database's totals are read once a window; the age is shown"
metric() { printf '%s\n' "$body" | sed -n "s/^$1 //p"; }
hard_db() { psql_q "SELECT count(*) FROM bounces WHERE class = 'hard'"; }
REQ_API=$MAPI req GET /metrics "" ""
before=$(metric 'postino_bounces{class="hard"}')
[ "$before" = "$(hard_db)" ] || fail "hard bounces $before, the database has $(hard_db)"
req POST /api/v1/bounces '{"email":"bounced@example.com","type":"hard","status":"5.1.1"}'
expect_code 201
[ "$(hard_db)" = $((before + 1)) ] || fail "the bounce was not recorded"
REQ_API=$MAPI req GET /metrics "" ""
[ "$(metric 'postino_bounces{class="hard"}')" = "$before" ] || fail "read again within metrics_cache: $(metric 'postino_bounces{class="hard"}')"
age=$(metric postino_metrics_cache_age_seconds)
python3 -c "import sys; sys.exit(not 0 < float(sys.argv[1]) < 3600)" "$age" || fail "cache age $age"
# the main listener shares the kept totals
req GET /metrics
[ "$(metric 'postino_bounces{class="hard"}')" = "$before" ] || fail "the main listener read them again"
kill -TERM "$SERVER"
wait "$SERVER"
SERVER=""
POSTINO_HTTP_METRICS_CACHE=1 "$BIN" serve --no-send --listen "127.0.0.1:$PORT" >serve-metrics.log 2>&1 &
SERVER=$!
api_wait
req GET /metrics
now=$(metric 'postino_bounces{class="hard"}')
[ "$now" = $((before + 1)) ] || fail "hard bounces $now after a restart, expected $((before + 1))"
req POST /api/v1/bounces '{"email":"bounced@example.com","type":"hard","status":"5.1.1"}'
expect_code 201
seen_again() { req GET /metrics; [ "$(metric 'postino_bounces{class="hard"}')" = $((before + 2)) ]; }
wait_for "/metrics to show the new bounce a second later" 30 seen_again
kill -TERM "$SERVER"
wait "$SERVER"
SERVER=""

check "serve without --no-send runs the API beside a sender, and both stop on SIGTERM"
"$BIN" serve --listen "127.0.0.1:$PORT" >serve-send.log 2>&1 &
SERVER=$!
api_wait
req GET /healthz "" ""
expect_code 200
# plain HTTP promises nothing about HTTPS
case "$headers" in *Strict-Transport-Security*) fail "HSTS on plain HTTP: $headers" ;; esac
req GET /api/v1/lists/news
expect_code 200
kill -TERM "$SERVER"
wait "$SERVER"
rc=$?
SERVER=""
[ "$rc" = 0 ] || fail "serve exited $rc: $(cat serve-send.log)"
grep -q "sending through 1 relay" serve-send.log || fail "no sender ran: $(cat serve-send.log)"

check "--tls-cert/--tls-key: the API answers HTTPS with that certificate"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout tls.key -out tls.crt -days 2 >/dev/null 2>&1 || fail "openssl req"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=other -keyout other.key -out other.crt -days 2 \
    >/dev/null 2>&1 || fail "openssl req"
"$BIN" serve --no-send --listen "127.0.0.1:$PORT" --tls-cert tls.crt --tls-key tls.key >serve-tls.log 2>&1 &
SERVER=$!
https_up() { curl -s -o /dev/null --cacert tls.crt "https://127.0.0.1:$PORT/healthz"; }
wait_for "the API to answer HTTPS" 30 https_up
code=$(curl -s -o resp --cacert tls.crt -w '%{http_code}' -H "Authorization: Bearer $ADMIN" \
    "https://127.0.0.1:$PORT/api/v1/lists/news")
[ "$code" = 200 ] || fail "HTTPS GET answered $code"
jq_get "$(cat resp)" 'j["name"]' | grep -qx news || fail "HTTPS answer: $(cat resp)"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")
[ "$code" != 200 ] || fail "plain HTTP answered 200 on the HTTPS port"
subject=$(curl -s -v --cacert tls.crt "https://127.0.0.1:$PORT/healthz" 2>&1 >/dev/null | grep -i 'subject:')
printf '%s' "$subject" | grep -q "CN=127.0.0.1" || fail "certificate served: $subject"
grep -q "listening on https://127.0.0.1:$PORT" serve-tls.log || fail "log: $(cat serve-tls.log)"

check "HTTPS: TLS 1.2 and 1.3 only, ECDHE with AEAD only; HSTS on every answer"
hdrs=$(curl -s -D - -o /dev/null --cacert tls.crt "https://127.0.0.1:$PORT/healthz" | tr -d '\r')
printf '%s\n' "$hdrs" | grep -qx "Strict-Transport-Security: max-age=31536000" || fail "no HSTS: $hdrs"
hdrs=$(curl -s -D - -o /dev/null --cacert tls.crt "https://127.0.0.1:$PORT/api/v1/nosuch" | tr -d '\r')
printf '%s\n' "$hdrs" | grep -qx "Strict-Transport-Security: max-age=31536000" || fail "no HSTS on a 401/404: $hdrs"
# s_client -msg shows the handshake: the client's hello went out (so the refusal is the server's) and
# no ServerHello came back; @SECLEVEL=0 lets OpenSSL 3 really offer TLS 1.0/1.1 and old suites
tls_hello() { openssl s_client -connect "127.0.0.1:$PORT" -msg "$@" </dev/null 2>&1; }
tls_refused() {
    local o
    o=$(tls_hello "$@")
    printf '%s\n' "$o" | grep -q '^>>> TLS 1\.[0-3], Handshake .*ClientHello' || fail "$*: no ClientHello was sent"
    printf '%s\n' "$o" | grep -q 'ServerHello' && fail "$*: the server answered the hello"
    printf '%s\n' "$o" | grep -q 'Cipher is (NONE)' || fail "$*: a session was made: $(printf '%s' "$o" | grep 'Cipher is')"
}
tls_taken() {
    local o
    o=$(tls_hello "${@:3}")
    printf '%s\n' "$o" | grep -q "^New, $1, Cipher is $2\$" ||
        fail "${*:3}: expected $1 $2: $(printf '%s' "$o" | grep -E 'Cipher is|error' | head -3)"
}
tls_refused -tls1 -cipher 'DEFAULT:@SECLEVEL=0'
tls_refused -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
tls_refused -tls1_2 -cipher 'AES128-SHA:@SECLEVEL=0'          # RSA key exchange, CBC
tls_refused -tls1_2 -cipher AES256-GCM-SHA384                 # RSA key exchange: not forward secret
tls_refused -tls1_2 -cipher ECDHE-RSA-AES128-SHA              # forward secret, but CBC
tls_refused -tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256         # finite-field DHE
tls_refused -tls1_3 -groups ffdhe2048                         # TLS 1.3 over a finite-field group
tls_taken TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
tls_taken TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384 -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384
tls_taken TLSv1.2 ECDHE-RSA-CHACHA20-POLY1305 -tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305
tls_taken TLSv1.3 TLS_AES_128_GCM_SHA256 -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256
tls_taken TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256
kill -TERM "$SERVER"
wait "$SERVER"
SERVER=""

check "a wrong TLS file is named; a certificate without its key is a usage error"
postino serve --no-send --listen "127.0.0.1:$PORT" --tls-cert tls.crt --tls-key other.key
expect_rc 1
expect_err "other.key does not match the certificate tls.crt"
postino serve --no-send --listen "127.0.0.1:$PORT" --tls-cert tls.key --tls-key tls.key
expect_rc 1
expect_err "tls.key: not a PEM certificate"
postino serve --no-send --listen "127.0.0.1:$PORT" --tls-cert tls.crt --tls-key tls.crt
expect_rc 1
expect_err "tls.crt: not a PEM private key"
postino serve --no-send --listen "127.0.0.1:$PORT" --tls-cert tls.crt
expect_rc 2
expect_err "--tls-cert and --tls-key go together"
postino serve --no-send --listen "127.0.0.1:$PORT" --tls-cert tls.crt --tls-key missing.key
expect_rc 1
expect_err "missing.key"
grep -q "PRIVATE KEY" serve-tls.log && fail "the key reached the log"

finish
