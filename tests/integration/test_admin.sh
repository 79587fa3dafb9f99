#!/bin/bash
# test_admin - the web admin served by postino serve: its page and assets
# (compiled in, with their content types and a strict CSP: no inline style,
# images from here only), a message's preview served apart (its own CSP, its
# user alone, for [admin] preview_seconds), the session login
# (cookie flags, one answer for a wrong password and an unknown email, the
# CSRF token required on every change, a cross-site form refused, logout,
# a session ended by a password change, by disabling the user, by its
# expiry), the user role kept from admin routes; then the pages driven in a
# real headless Chromium, with a screenshot of each under build/screens/.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/api_lib.sh"
api_setup 18290
SHOTS="$ROOT/build/screens"

# login EMAIL PASSWORD JAR [FROM]: POST /api/v1/session (from the address FROM), the cookie kept in JAR;
# sets code, body, headers
login() {
    local from=()
    [ -n "${4-}" ] && from=(--interface "$4")
    code=$(curl -s "${from[@]}" -o "$WORK/resp" -D "$WORK/resp.headers" -w '%{http_code}' -c "$3" -X POST --max-time 60 \
        -H 'Content-Type: application/json' --data-binary "{\"email\":\"$1\",\"password\":\"$2\"}" "$API/api/v1/session")
    body=$(cat "$WORK/resp")
    headers=$(tr -d '\r' < "$WORK/resp.headers")
}
# creq METHOD PATH JAR [BODY] [CSRF] [CONTENT-TYPE]: a request with the session cookie of JAR
creq() {
    local args=(-s -o "$WORK/resp" -D "$WORK/resp.headers" -w '%{http_code}' -b "$3" -X "$1" --max-time 60)
    [ -n "${5-}" ] && args+=(-H "X-CSRF-Token: $5")
    [ -n "${4-}" ] && args+=(-H "Content-Type: ${6-application/json}" --data-binary "$4")
    code=$(curl "${args[@]}" "$API$2")
    body=$(cat "$WORK/resp")
    headers=$(tr -d '\r' < "$WORK/resp.headers")
}
header() { printf '%s\n' "$headers" | grep -i "^$1:" | head -1 | cut -d' ' -f2-; }
session_dead() { creq GET /api/v1/lists "$1"; [ "$code" = 401 ]; }

check "setup: a database, an admin, a user, serve --no-send"
postino db init
expect_rc 0
api_admin
printf 'user-pass-1\n' > "$WORK/user.pw"
postino_in "$WORK/user.pw" user add user@example.com --role user
expect_rc 0
"$BIN" serve --no-send --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
api_wait

check "the page at /admin/ (and /admin) and its assets are served with their types and a strict CSP"
req GET /admin "" ""
expect_code 200
page=$body
req GET /admin/ "" ""
expect_code 200
[ "$body" = "$page" ] || fail "/admin/ is not /admin"
case "$(header Content-Type)" in text/html*) ;; *) fail "index type $(header Content-Type)" ;; esac
csp=$(header Content-Security-Policy)
for d in "default-src 'none'" "script-src 'self'" "frame-ancestors 'none'" "base-uri 'none'"; do
    case "$csp" in *"$d"*) ;; *) fail "CSP lacks $d: $csp" ;; esac
done
directive() { printf '%s' "$csp" | tr ';' '\n' | sed -n "s/^ *$1 //p"; }
[ "$(directive script-src)" = "'self'" ] || fail "script-src is '$(directive script-src)', not only 'self': $csp"
[ "$(directive style-src)" = "'self'" ] || fail "style-src is '$(directive style-src)', not only 'self': $csp"
[ "$(directive img-src)" = "'self' data:" ] || fail "img-src is '$(directive img-src)', not 'self' data:: $csp"
[ "$(directive frame-src)" = "'self'" ] || fail "frame-src is '$(directive frame-src)', not 'self': $csp"
case "$csp" in *unsafe-eval*|*"default-src *"*) fail "CSP allows eval or anything: $csp" ;; esac
case "$body" in *'<script type="module" src="/admin/app.js">'*) ;; *) fail "the page does not load app.js" ;; esac
req GET /admin/app.js "" ""
expect_code 200
case "$(header Content-Type)" in text/javascript*) ;; *) fail "app.js type $(header Content-Type)" ;; esac
[ "$body" = "$(cat "$ROOT/admin/app.js")" ] || fail "app.js is not the file compiled in"
req GET /admin/admin.css "" ""
case "$(header Content-Type)" in text/css*) ;; *) fail "admin.css type $(header Content-Type)" ;; esac
# every block closed where it opens: one brace short puts the rules after it inside an @media
/usr/bin/python3 - "$ROOT/admin/admin.css" <<'PY' || fail "admin.css: braces do not nest"
import re, sys
depth = 0
for i, line in enumerate(open(sys.argv[1]).read().split("\n"), 1):
    code = re.sub(r"/\*.*?\*/", "", line)
    if depth == 1 and re.match(r"^[.#@a-z:*\[]", code) and "{" in code:
        sys.exit(f"line {i}: a rule written at the top level is inside a block: {line}")
    depth += code.count("{") - code.count("}")
    if depth < 0:
        sys.exit(f"line {i}: a }} closes nothing")
sys.exit(0 if depth == 0 else f"{depth} block(s) left open")
PY
for p in /admin// /admin/nothing.js /admin/..%2Fsql%2F001_init.sql /admin/001_init.sql /admin/app.js.bak /admin/INDEX.HTML; do
    req GET "$p" "" ""
    expect_error 404 not_found
done

check "a wrong password and an unknown email get the same 401; nothing is set"
login admin@example.com wrong-password "$WORK/jar0"
expect_error 401 unauthorized
msg1=$(jq_get "$body" "j['error']['message']")
login nobody@example.com admin-pass-1 "$WORK/jar0"
expect_error 401 unauthorized
[ "$(jq_get "$body" "j['error']['message']")" = "$msg1" ] || fail "the answers tell the cases apart"
[ -z "$(header Set-Cookie)" ] || fail "a cookie was set on a failed login"
login admin@example.com "" "$WORK/jar0"
expect_error 400 invalid_field password

check "wrong passwords slow the login down like every password check: 429 with Retry-After, the right one too"
for i in 1 2 3 4 5; do
    login user@example.com "wrong-$i" "$WORK/jarx" 127.0.0.7
    expect_error 401 unauthorized
done
login user@example.com user-pass-1 "$WORK/jarx" 127.0.0.8
expect_error 429 too_many_attempts
ra=$(header Retry-After)
[ -n "$ra" ] && [ "$ra" -ge 1 ] && [ "$ra" -le 4 ] || fail "Retry-After '$ra'"
[ -z "$(header Set-Cookie)" ] || fail "a cookie was set while the account waits"
user_logs_in() { login user@example.com user-pass-1 "$WORK/jarx" 127.0.0.8; [ "$code" = 201 ]; }
wait_for "the account's wait to end" 20 user_logs_in

check "a login sets an HttpOnly SameSite=Strict cookie (not Secure over plain HTTP) and answers the user and a CSRF token"
login ADMIN@example.com admin-pass-1 "$WORK/admin.jar"
expect_code 201
cookie=$(header Set-Cookie)
case "$cookie" in postino_session=pss_*) ;; *) fail "cookie '$cookie'" ;; esac
for a in "Path=/" "HttpOnly" "SameSite=Strict" "Max-Age=43200"; do
    case "$cookie" in *"; $a"*) ;; *) fail "cookie lacks $a: $cookie" ;; esac
done
case "$cookie" in *Secure*) fail "Secure over plain HTTP: $cookie" ;; esac
expect_json "(j['user']['email'], j['user']['role'], len(j['csrf']))" "('admin@example.com', 'admin', 64)"
CSRF=$(jq_get "$body" "j['csrf']")
tok=$(printf '%s' "$cookie" | sed 's/^postino_session=\([^;]*\).*/\1/')
[ "$(psql_q "SELECT count(*) FROM admin_sessions WHERE session_hash = encode(sha256('$tok'), 'hex')")" = 1 ] ||
    fail "the session's hash is not stored"
[ "$(psql_q "SELECT count(*) FROM admin_sessions WHERE session_hash = '$tok'")" = 0 ] || fail "the session is stored in clear"
grep -q "$tok" serve.log && fail "the session token is in the log"
creq GET /api/v1/session "$WORK/admin.jar"
expect_code 200
expect_json "(j['user']['email'], j['csrf'])" "('admin@example.com', '$CSRF')"

check "with the cookie: reads need nothing more; every change needs the CSRF token"
creq GET /api/v1/lists "$WORK/admin.jar"
expect_code 200
creq POST /api/v1/lists "$WORK/admin.jar" '{"name":"nocsrf"}'
expect_error 403 csrf
creq POST /api/v1/lists "$WORK/admin.jar" '{"name":"badcsrf"}' "$(printf '%064d' 0)"
expect_error 403 csrf
creq POST /api/v1/lists "$WORK/admin.jar" 'name=formpost' "" application/x-www-form-urlencoded
expect_error 403 csrf
[ "$(psql_q "SELECT count(*) FROM lists")" = 0 ] || fail "a list was made without the CSRF token"
creq POST /api/v1/lists "$WORK/admin.jar" '{"name":"weekly"}' "$CSRF"
expect_code 201
creq DELETE /api/v1/session "$WORK/admin.jar"
expect_error 403 csrf

check "a cookie from another session's CSRF token is refused; a Bearer token is unaffected by cookies"
login user@example.com user-pass-1 "$WORK/user.jar"
expect_code 201
UCSRF=$(jq_get "$body" "j['csrf']")
creq POST /api/v1/lists "$WORK/admin.jar" '{"name":"swapped"}' "$UCSRF"
expect_error 403 csrf
req GET /api/v1/lists
expect_code 200

check "the user role cannot reach admin routes through its session"
creq GET /api/v1/users "$WORK/user.jar"
expect_error 403 forbidden
creq POST /api/v1/relays "$WORK/user.jar" '{"name":"r","host":"127.0.0.1"}' "$UCSRF"
expect_error 403 forbidden
creq POST /api/v1/dkim-keys "$WORK/user.jar" '{"domain":"example.com","selector":"s1"}' "$UCSRF"
expect_error 403 forbidden
creq GET /api/v1/lists "$WORK/user.jar"
expect_code 200

PREVIEW_CSP="default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; sandbox; frame-ancestors 'self'"
PREVIEW_HTML='<p style="color: red">Hi</p><img src="https://example.com/a.png" onerror="alert(1)"><script>alert(2)</script>'
# preview JAR CSRF PATH BODY: POST a preview; sets url (its address) and html (the HTML the answer holds)
preview() {
    creq POST "$3" "$1" "$4" "$2"
    expect_code 200
    url=$(jq_get "$body" "j['url']")
    html=$(jq_get "$body" "j['html']")
    printf '%s' "$url" | grep -qE '^/admin/preview/[0-9a-f]{32}$' || fail "the preview's url '$url'"
}

check "a preview's HTML is served at its url with its own CSP (sandboxed, no script), to its user alone"
preview "$WORK/admin.jar" "$CSRF" /api/v1/campaigns/preview \
    "$(/usr/bin/python3 -c 'import json,sys; print(json.dumps({"html": sys.argv[1]}))' "$PREVIEW_HTML")"
[ "$html" = "$PREVIEW_HTML" ] || fail "the rendered HTML is '$html'"
creq GET "$url" "$WORK/admin.jar"
expect_code 200
[ "$body" = "$PREVIEW_HTML" ] || fail "the preview's document is '$body'"
[ "$(header Content-Security-Policy)" = "$PREVIEW_CSP" ] || fail "the preview's CSP: $(header Content-Security-Policy)"
[ "$(header Content-Type)" = "text/html; charset=utf-8" ] || fail "the preview's type: $(header Content-Type)"
[ "$(header X-Content-Type-Options)" = nosniff ] || fail "X-Content-Type-Options: $(header X-Content-Type-Options)"
[ "$(header Cache-Control)" = no-store ] || fail "Cache-Control: $(header Cache-Control)"
[ "$(header Referrer-Policy)" = no-referrer ] || fail "Referrer-Policy: $(header Referrer-Policy)"
ADMIN_URL=$url
creq GET "$ADMIN_URL" "$WORK/user.jar"
expect_error 404 not_found
req GET "$ADMIN_URL" "" ""
expect_error 401 unauthorized
creq GET "/admin/preview/$(printf '%032d' 0)" "$WORK/admin.jar"
expect_error 404 not_found
creq GET "${ADMIN_URL}0" "$WORK/admin.jar"
expect_error 404 not_found
preview "$WORK/user.jar" "$UCSRF" /api/v1/templates/preview '{"html":"<div class=\"t\">[CONTENT]</div>","content":"<b>tpl</b>"}'
creq GET "$url" "$WORK/user.jar"
expect_code 200
[ "$body" = '<div class="t"><b>tpl</b></div>' ] || fail "the template's preview is '$body'"
[ "$(header Content-Security-Policy)" = "$PREVIEW_CSP" ] || fail "the template preview's CSP: $(header Content-Security-Policy)"
creq GET "$url" "$WORK/admin.jar"
expect_error 404 not_found
creq GET "$ADMIN_URL" "$WORK/admin.jar"
expect_code 200
grep -q "${ADMIN_URL#/admin/preview/}" serve.log && fail "a preview's id is in the log"

check "a preview lasts [admin] preview_seconds, then its url is 404"
kill -TERM "$SERVER"
wait "$SERVER"
POSTINO_ADMIN_PREVIEW_SECONDS=2 "$BIN" serve --no-send --listen "127.0.0.1:$PORT" >>serve.log 2>&1 &
SERVER=$!
api_wait
t0=$(date +%s%N)
preview "$WORK/admin.jar" "$CSRF" /api/v1/campaigns/preview '{"html":"<p>soon gone</p>"}'
creq GET "$url" "$WORK/admin.jar"
# a machine too busy to ask within the 2 s cannot tell; any quicker one must be given the document
[ $(( ($(date +%s%N) - t0) / 1000000 )) -ge 2000 ] || [ "$code" = 200 ] || fail "a fresh preview is $code"
preview_gone() { creq GET "$url" "$WORK/admin.jar"; [ "$code" = 404 ]; }
wait_for "the preview to expire" 10 preview_gone
expect_error 404 not_found
[ $(( ($(date +%s%N) - t0) / 1000000 )) -ge 2000 ] || fail "the preview was gone before 2 s"

check "logout ends the session at once and removes the cookie"
login admin@example.com admin-pass-1 "$WORK/out.jar"
OCSRF=$(jq_get "$body" "j['csrf']")
creq DELETE /api/v1/session "$WORK/out.jar" "" "$OCSRF"
expect_code 204
case "$(header Set-Cookie)" in "postino_session=; Path=/; Max-Age=0"*) ;; *) fail "logout cookie: $(header Set-Cookie)" ;; esac
creq GET /api/v1/lists "$WORK/out.jar"
expect_error 401 unauthorized

check "a password change and disabling the user end their sessions (the CLI's changes too)"
login user@example.com user-pass-1 "$WORK/u2.jar"
expect_code 201
printf 'user-pass-2\n' > "$WORK/user2.pw"
postino_in "$WORK/user2.pw" user passwd user@example.com
expect_rc 0
wait_for "the user's sessions to end after its password changed" 10 session_dead "$WORK/user.jar"
session_dead "$WORK/u2.jar" || fail "the second session outlived the password change"
login user@example.com user-pass-2 "$WORK/u3.jar"
expect_code 201
postino user disable user@example.com
expect_rc 0
wait_for "the session to end when its user is disabled" 10 session_dead "$WORK/u3.jar"
postino user enable user@example.com
creq GET /api/v1/lists "$WORK/u3.jar"
expect_error 401 unauthorized
login user@example.com user-pass-2 "$WORK/u4.jar"
expect_code 201
psql_q "UPDATE admin_sessions SET expires_at = now() - interval '1 second' WHERE user_id = (SELECT id FROM users WHERE email = 'user@example.com')" >/dev/null
wait_for "an expired session to be refused" 10 session_dead "$WORK/u4.jar"

check "the pages in headless Chromium: login, lists (counts, editing, what a delete removes), escaping, keyboard, logout (screenshots in build/screens)"
psql_q "INSERT INTO subscribers (email, name) VALUES ('xss@example.com', '<script>alert(1)</script>')" >/dev/null
for s in w1 w2 w3 w4; do postino subscriber add "$s@example.com" --list weekly; expect_rc 0; done
psql_q "UPDATE subscriptions SET status = 'unconfirmed' WHERE subscriber_id = (SELECT id FROM subscribers WHERE email = 'w3@example.com')" >/dev/null
psql_q "UPDATE subscriptions SET status = 'unsubscribed' WHERE subscriber_id = (SELECT id FROM subscribers WHERE email = 'w4@example.com')" >/dev/null
postino list create kept
expect_rc 0
printf '<p>hi</p>' > "$WORK/spring.html"
postino campaign create --name Spring --subject S --from news@example.com --list kept --html "$WORK/spring.html"
expect_rc 0
mkdir -p "$SHOTS"
/usr/bin/python3 "$ROOT/tests/integration/admin_browser.py" "$API" "$SHOTS" > browser.log 2>&1 ||
    fail "the browser run failed: $(tail -5 browser.log)"
grep -q '^ok ' browser.log || fail "the browser run reported nothing"
for s in login login-error lists lists-created lists-delete lists-edit-error lists-edited lists-delete-counts \
    lists-delete-refused lists-390 lists-edit-390 logged-out; do
    [ -s "$SHOTS/$s.png" ] || fail "no screenshot $s.png"
done
[ "$(psql_q "SELECT count(*) FROM lists WHERE name = 'Monthly <b>news</b>'")" = 0 ] || fail "the list made in the browser was not deleted"
[ "$(psql_q "SELECT name, optin, description FROM lists WHERE id = (SELECT list_id FROM subscriptions WHERE subscriber_id = (SELECT id FROM subscribers WHERE email = 'w1@example.com'))")" = "Weekly digest|double|Every Monday" ] ||
    fail "the list changed in the browser: $(psql_q "SELECT name, optin, description FROM lists ORDER BY id")"

finish
