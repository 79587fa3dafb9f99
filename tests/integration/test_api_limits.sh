#!/bin/bash
# test_api_limits - the HTTP server against clients that misbehave
# (tests/integration/http_hostile.py): a request with no valid login, or to a
# public link whose token is forged, is refused when its headers arrive, before
# its body, so bodies never accepted cost no memory; a public body over 4 KiB
# is 413; one address holds at most [http] max_connections_per_address
# connections; headers trickling in past [http] header_timeout and bodies
# slower than [http] body_min_rate are cut off, while other clients, and kept-
# alive connections that wait between requests, are served.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/api_lib.sh"
api_setup 18380
HOSTILE="/usr/bin/python3 $ROOT/tests/integration/http_hostile.py"
ADDR="127.0.0.1:$PORT"
# hostile CMD ARGS...: run one of http_hostile.py's clients; its JSON in $body
hostile() { body=$($HOSTILE "$1" "$ADDR" "${@:2}" 2>"$WORK/hostile.err") || fail "http_hostile.py $1: $(cat "$WORK/hostile.err")"; }
# peak_kb: the most memory the server has held (resident, kB)
peak_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER/status"; }

check "setup: database, an admin with a token; serve with short deadlines and 8 connections an address"
postino db init
expect_rc 0
api_admin
printf 'user-pass-1\n' > user.pw
postino_in user.pw user add bob@example.com --role user
postino token create --user bob@example.com --json
USER=$(jq_get "$out" "j['token']")
POSTINO_HTTP_MAX_CONNECTIONS_PER_ADDRESS=8 POSTINO_HTTP_HEADER_TIMEOUT=3 POSTINO_HTTP_BODY_TIMEOUT=3 \
    POSTINO_HTTP_BODY_MIN_RATE=100 "$BIN" serve --no-send --listen "$ADDR" >serve.log 2>&1 &
SERVER=$!
api_wait
req GET /u/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "" ""
expect_error 404 not_found
KEY=$(psql_q "SELECT value FROM settings WHERE key = 'token_key'")
[ ${#KEY} = 64 ] || fail "no token key: $KEY"
UTOK=$(mktoken u 1 1)

check "no token: twenty POSTs declaring 10 MB each are answered 401 before their bodies; the server's memory stays"
for _ in 1 2 3; do req GET /api/v1/lists; done
before=$(peak_kb)
hostile early 20 POST /api/v1/lists 10485760 "Content-Type: application/json"
expect_json "j['before_body']" "$(/usr/bin/python3 -c 'print([401] * 20)')"
after=$(peak_kb)
[ $((after - before)) -lt 16384 ] || fail "the server's peak memory grew from $before to $after kB"
hostile early 1 POST /api/v1/lists 10485760 "Content-Type: application/json" "Authorization: Bearer pst_not-a-real-token-at-all"
expect_json "j['before_body']" "[401]"
hostile early 1 POST /api/v1/users 10485760 "Content-Type: application/json" "Authorization: Bearer $USER"
expect_json "j['before_body']" "[403]"

check "a login's body over [http] max_body is 413 before it is read; a normal one is taken"
hostile early 1 POST /api/v1/lists 20971520 "Content-Type: application/json" "Authorization: Bearer $ADMIN"
expect_json "j['before_body']" "[413]"
req POST /api/v1/lists '{"name":"news"}'
expect_code 201

check "a public link with a forged token is 404 before the body; a valid one's body over 4 KiB is 413"
hostile early 1 POST /u/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 10485760
expect_json "j['before_body']" "[404]"
hostile early 1 POST "/u/${UTOK%?}$([ "${UTOK: -1}" = a ] && echo b || echo a)" 100
expect_json "j['before_body']" "[404]"
hostile early 1 POST "/u/$(mktoken c 1 1)" 100
expect_json "j['before_body']" "[404]"
hostile early 1 POST "/u/$UTOK" 10485760
expect_json "j['before_body']" "[413]"
hostile early 1 POST "/u/$UTOK" 4097
expect_json "j['before_body']" "[413]"
hostile chunked "/u/$UTOK" 8192
expect_json "j['status']" 413
req POST "/u/$UTOK" "List-Unsubscribe=One-Click" "" "application/x-www-form-urlencoded"
expect_error 404 not_found
hostile chunked "/u/$UTOK" 4096
expect_json "j['status']" 404
req POST /nothing/here "$(head -c 3000 /dev/zero | tr '\0' a)" ""
expect_error 404 not_found
hostile early 1 POST /nothing/here 10485760
expect_json "j['before_body']" "[404]"
hostile early 1 PUT /api/v1/lists 10485760
expect_json "j['before_body']" "[405]"

check "one address: 8 connections at once, the rest closed; headers dripping past 3 s cut off; another address served"
hostile drip 40 2 127.0.0.2
expect_json "j['other']" 200
expect_json "sum(1 for t in j['closed_at'] if t is not None and t < 1.5)" 32
expect_json "min(sorted(99 if t is None else t for t in j['closed_at'])[32:]) >= 2.5 and max(99 if t is None else t for t in j['closed_at']) < 12" True
curl -s -H "Authorization: Bearer $ADMIN" "$API/metrics" > metrics.txt
grep -qxF 'postino_http_timeouts_total{phase="headers"} 8' metrics.txt || fail "metrics: $(grep timeouts metrics.txt)"
req GET /healthz "" ""
expect_code 200

check "a body slower than 100 bytes a second after 3 s is cut off; a slow one above the rate is answered"
hostile slowbody "/u/$UTOK" 2000 1 0.5
expect_json "j['status']" None
expect_json "2.5 <= j['closed_at'] < 12" True
hostile slowbody "/u/$UTOK" 2000 150 0.5
expect_json "(j['status'], j['sent'])" "(404, 2000)"
curl -s -H "Authorization: Bearer $ADMIN" "$API/metrics" > metrics.txt
grep -qxF 'postino_http_timeouts_total{phase="body"} 1' metrics.txt || fail "metrics: $(grep timeouts metrics.txt)"

check "a kept-alive connection may wait longer than header_timeout between requests"
hostile keepalive /healthz 4
expect_json "j['statuses']" "[200, 200]"

check "the server stops; it logged no token, the 32 refused connections in two lines, and answered no 500"
grep -q 'status="500"' metrics.txt && fail "a request was answered 500"
kill -TERM "$SERVER"
wait "$SERVER"
rc=$?
SERVER=""
[ "$rc" = 0 ] || fail "serve exited $rc"
[ "$(grep -c 'connection limit' serve.log)" = 2 ] && grep -q 'connection limit.*(31 more in the last minute)$' serve.log ||
    fail "the refused connections' warnings: $(grep 'connection limit' serve.log)"
grep -q -- "$ADMIN" serve.log && fail "the token reached the log"
grep -q -- "$UTOK" serve.log && fail "a link token reached the log"

finish
