#!/bin/bash
# test_forms - public signup forms through the real server (postino serve with
# its sender, a private Postfix with smtp-sink): the hosted page /s/LIST for
# one list and several, private and unknown lists refused; POST /s as a form
# and as JSON; double opt-in honoured (confirmation), a single opt-in join
# greeted by the list's welcome message, and the welcome sent on
# confirmation too; the same answer whether the address was new, known,
# blocklisted or the honeypot was filled; one mail per address per
# [forms] confirm_interval whatever is posted; an unsubscribed address
# re-joined only through a confirmation; the per-address and per-IP limits
# (429); the proof of work (missing, wrong, replayed, right); consent records
# with via form, the client and the hash of the form's text; the snippet
# from `postino list form` and the API; then a browser signs up on the hosted
# page, confirms and changes preferences (forms_browser.py).
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
source "$ROOT/tests/integration/api_lib.sh"
api_setup 18193
PY=/usr/bin/python3
export POSTINO_HTTP_PUBLIC_URL="$API" POSTINO_FORMS_ADDRESS_LIMIT=4 POSTINO_FORMS_IP_LIMIT=1000
# post BODY [TYPE] [ORIGIN]: POST /s; sets $code, $body, $headers
post() {
    local args=(-s -o "$WORK/resp" -D "$WORK/hdrs" -w '%{http_code}' --max-time 20 -X POST
                -H "Content-Type: ${2:-application/x-www-form-urlencoded}" --data "$1")
    [ -n "${3-}" ] && args+=(-H "Origin: $3")
    code=$(curl "${args[@]}" "$API/s")
    body=$(tr -d '\0' < "$WORK/resp")
    headers=$(tr -d '\r' < "$WORK/hdrs" | sed 's/^\([^:]*\):/\L\1:/')
}
get() {
    code=$(curl -s -o "$WORK/resp" -D "$WORK/hdrs" -w '%{http_code}' --max-time 20 "$API$1")
    body=$(tr -d '\0' < "$WORK/resp")
    headers=$(tr -d '\r' < "$WORK/hdrs" | sed 's/^\([^:]*\):/\L\1:/')
}
# solve CHALLENGE: a nonce for a challenge of 12 bits
solve() {
    $PY - "$1" <<'PYEOF'
import hashlib, sys
c = sys.argv[1]
n = 0
while True:
    d = hashlib.sha256(f"{c}:{n}".encode()).digest()
    if int.from_bytes(d[:4], "big") >> 20 == 0:
        print(n); break
    n += 1
PYEOF
}
expect_body() { case "$body" in *"$1"*) ;; *) fail "the answer lacks: $1" ;; esac; }
expect_no_body() { case "$body" in *"$1"*) fail "the answer has: $1" ;; esac; }
expect_header() { case "$headers" in *"$1"*) ;; *) fail "the headers lack: $1" ;; esac; }
sub_id() { psql_q "SELECT id FROM subscribers WHERE lower(email) = lower('$1')"; }
list_id() { psql_q "SELECT id FROM lists WHERE name = '$1'"; }
subs() { psql_q "SELECT coalesce(string_agg(l.name || '=' || sl.status, ' ' ORDER BY l.name), '-') FROM subscriptions sl JOIN lists l ON l.id = sl.list_id JOIN subscribers s ON s.id = sl.subscriber_id WHERE lower(s.email) = lower('$1')"; }
# mails queued to ADDR by template NAME
mails() { psql_q "SELECT count(*) FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id AND c.kind = 'tx' JOIN templates t ON t.id = c.template_id JOIN subscribers s ON s.id = d.subscriber_id WHERE lower(s.email) = lower('$1') AND t.name = '$2'"; }
state() { psql_q "SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (SELECT s.email || s.name || s.status || coalesce(sl.list_id::text, '') || coalesce(sl.status, '') AS x FROM subscribers s LEFT JOIN subscriptions sl ON sl.subscriber_id = s.id UNION ALL SELECT count(*)::text FROM deliveries) t"; }
# sink_has ADDR TEXT [SUBJECT]: a message to ADDR in the sink whose decoded text has TEXT (and whose Subject is SUBJECT)
sink_has() {
    $PY - "$MTA/sink" "$@" <<'PYEOF'
import email, email.policy, glob, sys
d, addr, text = sys.argv[1:4]
subject = sys.argv[4] if len(sys.argv) > 4 else None
for f in glob.glob(d + "/*"):
    raw = open(f, "rb").read()
    if addr.encode() not in raw.lower():
        continue
    m = email.message_from_bytes(raw, policy=email.policy.default)
    body = "".join(p.get_content() for p in m.walk() if p.get_content_maintype() == "text")
    if text in body and (subject is None or str(m["Subject"]) == subject):
        sys.exit(0)
sys.exit(1)
PYEOF
}
serve_start() {   # serve_start [ENV...]: (re)start the server with these settings
    [ -n "${SERVER-}" ] && { kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; }
    env "$@" "$BIN" serve --listen "127.0.0.1:$PORT" >>serve.log 2>&1 &
    SERVER=$!
    api_wait
}

check "setup: a double and a single opt-in list with welcome messages, a private list, serve with its sender"
mta_start 16601 16039
postino db init
expect_rc 0
expect_out 'installed the default template "signup"'
postino list create news --optin double --description "News, now and then"
postino list create weekly --description "Every Monday"
postino list create staff
postino list set staff --public no
printf '<p>Welcome to {{ list.name }}, {{ name | default "friend" }}!</p>{{ content }}\n' > hello.html
postino template add hello --html hello.html
expect_rc 0
postino list set weekly --welcome hello
expect_rc 0
postino list set news --welcome hello --welcome-subject "You are in: {{ list.name }}"
expect_rc 0
postino list show news
expect_out 'welcome:      hello (subject "You are in: {{ list.name }}")'
postino list set news --welcome nosuch
expect_rc 1
expect_err 'no template "nosuch"'
postino list set news --welcome-subject "{{ nosuch }}"
expect_rc 1
expect_err "welcome subject"
postino subscriber add ann@example.org --name Ann --list weekly --status confirmed
postino subscriber add eve@example.org --name Eve
postino subscriber blocklist eve@example.org
expect_rc 0
postino dkim add example.com --selector t1 --algorithm ed25519
relay_setup
api_admin
export POSTINO_MAIL_FROM="News <news@example.com>"
serve_start
NEWS=$(list_id news) WEEKLY=$(list_id weekly) STAFF=$(list_id staff)

check "GET /s/LIST: the hosted page for one list, for several, none for private or unknown lists"
get /s/weekly
expect_code 200
expect_body "<h1>Subscribe to weekly</h1>"
expect_body "Every Monday"
expect_body "<input type=\"hidden\" name=\"list\" value=\"$WEEKLY\">"
expect_body 'name="website"'
expect_body 'action="/s"'
expect_no_body 'signup.js'   # no proof of work asked
expect_header "content-security-policy: default-src 'none'; style-src 'unsafe-inline'; script-src 'self'"
expect_header "frame-ancestors 'none'"
get "/s/$NEWS,weekly"
expect_code 200
expect_body "<h1>Subscribe</h1>"
expect_body "type=\"checkbox\" name=\"list\" value=\"$NEWS\""
expect_body "type=\"checkbox\" name=\"list\" value=\"$WEEKLY\""
expect_body "News, now and then"
for p in /s/staff /s/nosuch "/s/weekly,staff" /s/,; do
    get "$p"
    expect_code 404
    expect_body "No such list"
    expect_no_body "Every Monday"
done

check "POST /s to a single opt-in list: subscribed at once, the welcome message sent, consent via form"
post "email=New1%40Example.org&name=N%C3%BCr&list=$WEEKLY&form=hosted&website="
expect_code 200
expect_body "Thank you for subscribing."
[ "$(subs new1@example.org)" = "weekly=confirmed" ] || fail "new1: $(subs new1@example.org)"
[ "$(psql_q "SELECT name FROM subscribers WHERE lower(email) = 'new1@example.org'")" = "Nür" ] || fail "name not kept"
[ "$(mails new1@example.org hello)" = 1 ] || fail "welcome mails: $(mails new1@example.org hello)"
wait_for "the welcome message to new1, its subject the list's default" 30 sink_has new1@example.org "Welcome to weekly, Nür!" "Welcome to weekly"
HOSTED_HASH=$(curl -s "$API/s/$WEEKLY" | sha256sum | cut -d' ' -f1)
[ "$(psql_q "SELECT via || ' ' || actor || ' ' || ip || ' ' || form_hash FROM consent WHERE subscriber_id = $(sub_id new1@example.org)")" = \
  "form subscriber 127.0.0.1 $HOSTED_HASH" ] || fail "consent: $(psql_q "SELECT * FROM consent WHERE subscriber_id = $(sub_id new1@example.org)")"

check "POST /s to a double opt-in list: unconfirmed, one confirmation; confirming through /c/ sends the welcome"
post "email=new2%40example.org&list=news"
expect_code 200
expect_body "Almost done: we sent a message to the address you gave."
[ "$(subs new2@example.org)" = "news=unconfirmed" ] || fail "new2: $(subs new2@example.org)"
[ "$(mails new2@example.org confirm)" = 1 ] || fail "confirmations: $(mails new2@example.org confirm)"
[ "$(mails new2@example.org hello)" = 0 ] || fail "a welcome before confirmation"
wait_for "the confirmation to new2" 30 bash -c "grep -lq 'new2@example.org' '$MTA'/sink/* 2>/dev/null"
CURL=$(grep -h -o "$API/c/[a-z2-7]*" $(grep -l 'new2@example.org' "$MTA"/sink/*) | head -1)
[ -n "$CURL" ] || fail "no confirmation link in the message"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Origin: $API" "$CURL")
[ "$code" = 200 ] || fail "confirm: HTTP $code"
[ "$(subs new2@example.org)" = "news=confirmed" ] || fail "new2: $(subs new2@example.org)"
[ "$(mails new2@example.org hello)" = 1 ] || fail "welcome on confirmation: $(mails new2@example.org hello)"
wait_for "the welcome to new2" 30 sink_has new2@example.org "Welcome to news, friend!" "You are in: news"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Origin: $API" "$CURL")
[ "$(mails new2@example.org hello)" = 1 ] || fail "a second confirmation sent a second welcome"

check "no enumeration: a new, a known, a blocklisted address and a filled honeypot get the same answer"
post "email=fresh%40example.org&list=$WEEKLY"
A=$body
for who in "ann%40example.org" "eve%40example.org" "ANN%40example.org"; do
    post "email=$who&list=$WEEKLY"
    expect_code 200
    [ "$body" = "$A" ] || fail "the answer for $who differs"
done
before=$(state)
post "email=bot%40example.org&list=$WEEKLY&website=http%3A%2F%2Fspam.example"
expect_code 200
[ "$body" = "$A" ] || fail "the honeypot's answer differs"
[ "$(state)" = "$before" ] || fail "the honeypot post changed something"
[ -z "$(sub_id bot@example.org)" ] || fail "the honeypot made a subscriber"
[ "$(subs eve@example.org)" = "-" ] || fail "the blocklisted address was subscribed: $(subs eve@example.org)"
[ "$(mails eve@example.org hello)" = 0 ] || fail "the blocklisted address was mailed"
[ "$(mails ann@example.org hello)" = 0 ] || fail "a known member was welcomed again"
post '{"email": "fresh@example.org", "lists": ["weekly"]}' application/json
J1=$body
post '{"email": "ann@example.org", "lists": ["weekly"]}' application/json
[ "$body" = "$J1" ] || fail "JSON answers differ"
expect_json "j['status']" subscribed

check "a mail per address per [forms] confirm_interval, whatever is posted"
post "email=new3%40example.org&list=$NEWS"
expect_code 200
[ "$(mails new3@example.org confirm)" = 1 ] || fail "no confirmation"
wait_for "the confirmation to new3" 30 bash -c "[ \"\$(psql_q \"SELECT count(*) FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = 'new3@example.org' AND d.state = 'sent'\")\" = 1 ]"
post "email=new3%40example.org&list=$NEWS"
post "email=new3%40example.org&list=$WEEKLY"
expect_code 200
[ "$(mails new3@example.org confirm)" = 1 ] || fail "a second confirmation within the interval"
[ "$(mails new3@example.org hello)" = 0 ] || fail "a welcome within the interval"
[ "$(subs new3@example.org)" = "news=unconfirmed weekly=confirmed" ] || fail "new3: $(subs new3@example.org)"
grep -q 'held: \[forms\] confirm_interval' serve.log || fail "the log does not say the mail was held"

check "joining a single opt-in list on the preference page sends its welcome message too"
postino subscriber add pj@example.org --name Pia --list news --status confirmed
KEY=$(psql_q "SELECT value FROM settings WHERE key = 'token_key'")
PTOK=$(mktoken p "$(sub_id pj@example.org)" "$($PY -c 'import time; print(int(time.time()) // 86400)')")
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Origin: $API" --data "token=$PTOK&action=save&name=Pia&shown=$NEWS&shown=$WEEKLY&list=$NEWS&list=$WEEKLY" "$API/p/$PTOK")
[ "$code" = 200 ] || fail "preferences: HTTP $code"
[ "$(subs pj@example.org)" = "news=confirmed weekly=confirmed" ] || fail "pj: $(subs pj@example.org)"
[ "$(mails pj@example.org hello)" = 1 ] || fail "welcome mails to pj: $(mails pj@example.org hello)"
wait_for "the welcome to pj" 30 sink_has pj@example.org "Welcome to weekly, Pia!" "Welcome to weekly"

check "the per-address limit: the 5th post naming one address in an hour is 429, and it names nothing"
for i in 1 2 3 4; do post "email=lim%40example.org&list=$WEEKLY"; expect_code 200; done
post "email=LIM%40example.org&list=$WEEKLY"
expect_code 429
expect_header "retry-after: 3600"
expect_body "Too many sign-ups from here or for this address: try again later."
post "email=other%40example.org&list=$WEEKLY"
expect_code 200

check "an unsubscribed address is re-joined by a form only through a confirmation, even on a single opt-in list"
postino subscriber add gone@example.org --list weekly --status confirmed
psql_q "UPDATE subscriptions SET status = 'unsubscribed' WHERE subscriber_id = $(sub_id gone@example.org)" >/dev/null
[ "$(subs gone@example.org)" = "weekly=unsubscribed" ] || fail "gone: $(subs gone@example.org)"
post "email=gone%40example.org&list=$WEEKLY"
expect_code 200
[ "$body" = "$A" ] || fail "the answer differs"
[ "$(subs gone@example.org)" = "weekly=unconfirmed" ] || fail "gone: $(subs gone@example.org)"
[ "$(mails gone@example.org confirm)" = 1 ] || fail "no confirmation for the re-join"
[ "$(mails gone@example.org hello)" = 0 ] || fail "a welcome before the confirmation"

check "bad input: one clear error naming the field, nothing changed"
before=$(state)
post "list=$WEEKLY"
expect_code 400
expect_body "The email address is not valid: it is empty."
expect_body "<h1>Subscribe to weekly</h1>"   # the form again, with the error
post "email=not-an-address&list=$WEEKLY"
expect_code 400
expect_body "The email address is not valid"
post "email=a%40example.org"
expect_error 400 invalid_field list
post "email=a%40example.org&list=staff"
expect_error 400 invalid_field list
expect_body 'no public list \"staff\"'
post "email=a%40example.org&list=nosuch"
expect_error 400 invalid_field list
post "email=a%40example.org&list=$WEEKLY&name=%zz"
expect_error 400 invalid_field
post '{"email": "a@example.org", "lists": ["weekly"], "plan": "pro"}' application/json
expect_error 400 unknown_field plan
post '{"email": "a@example.org"}' application/json
expect_error 400 missing_field lists
post 'email=a@example.org' text/plain
expect_code 415
[ "$(state)" = "$before" ] || fail "a refused post changed something"

check "the snippet: postino list form and GET /api/v1/lists/{list}/form give the same; a post from another site is taken"
postino list form weekly --json
expect_rc 0
FORMJSON=$out
SNIP=$(jq_get "$out" "j['html']")
case "$SNIP" in *"action=\"$API/s\""*"name=\"list\" value=\"$WEEKLY\""*'name="website"'*) ;; *) fail "snippet: $SNIP" ;; esac
[ "$(jq_get "$out" "j['url']")" = "$API/s/$WEEKLY" ] || fail "url: $out"
postino list form staff
expect_rc 1
expect_err 'no public list "staff"'
req GET /api/v1/lists/weekly/form
expect_code 200
[ "$(jq_get "$body" "j['html']")" = "$SNIP" ] || fail "the API's snippet differs from the CLI's"
post "form=snippet&email=site%40example.org&list=$WEEKLY&website=" "" "https://www.other.example"
expect_code 200
expect_header "access-control-allow-origin: *"
SNIP_HASH=$(printf '%s' "$FORMJSON" | $PY -c 'import hashlib, json, sys; print(hashlib.sha256(json.load(sys.stdin)["html"].encode()).hexdigest())')
[ "$(psql_q "SELECT form_hash FROM consent WHERE subscriber_id = $(sub_id site@example.org)")" = "$SNIP_HASH" ] ||
    fail "the consent's form hash is not the snippet's text"

check "the per-IP limit ([forms] ip_limit): the 3rd post from one address in an hour is 429"
psql_q "DELETE FROM form_limits" >/dev/null
serve_start POSTINO_FORMS_IP_LIMIT=2
post "email=ip1%40example.org&list=$WEEKLY"; expect_code 200
post "email=ip2%40example.org&list=$WEEKLY"; expect_code 200
post "email=ip3%40example.org&list=$WEEKLY"
expect_code 429
[ -z "$(sub_id ip3@example.org)" ] || fail "the limited post was taken"

check "proof of work ([forms] pow_bits): the page loads its script, a post needs a fresh solved challenge"
psql_q "DELETE FROM form_limits" >/dev/null
serve_start POSTINO_FORMS_POW_BITS=12
get "/s/weekly"
expect_body "<script src=\"/s/signup.js\" defer></script>"
expect_body 'data-postino-signup="12"'
get /s/signup.js
expect_code 200
expect_header "content-type: text/javascript"
expect_body "SHA-256(challenge"
post "email=pow%40example.org&list=$WEEKLY"
expect_code 400
expect_body "the form&#39;s challenge is not valid"
get /s/challenge
expect_code 200
expect_header "access-control-allow-origin: *"
CH=$(jq_get "$body" "j['challenge']")
[ "$(jq_get "$body" "j['bits']")" = 12 ] || fail "bits: $body"
NONCE=$(solve "$CH")
BAD=$((NONCE + 1))
$PY -c "import hashlib,sys; d=hashlib.sha256(b'$CH:$BAD').digest(); sys.exit(0 if int.from_bytes(d[:4],'big')>>20 else 1)" ||
    BAD=$((NONCE + 2))
post "email=pow%40example.org&list=$WEEKLY&pow_challenge=$CH&pow_nonce=$BAD"
expect_code 400
expect_body "proof of work is wrong"
TAMPERED=$(printf '%s' "$CH" | sed 's/^\([0-9]*\)\.12\./\1.2./')
post "email=pow%40example.org&list=$WEEKLY&pow_challenge=$TAMPERED&pow_nonce=$NONCE"
expect_code 400
[ -z "$(sub_id pow@example.org)" ] || fail "a post without a right proof was taken"
post "email=pow%40example.org&list=$WEEKLY&pow_challenge=$CH&pow_nonce=$NONCE"
expect_code 200
[ "$(subs pow@example.org)" = "weekly=confirmed" ] || fail "pow: $(subs pow@example.org)"
post "email=pow2%40example.org&list=$WEEKLY&pow_challenge=$CH&pow_nonce=$NONCE"
expect_code 400
expect_body "used already"
[ -z "$(sub_id pow2@example.org)" ] || fail "a replayed challenge was taken"

check "a browser: the hosted page with its proof of work, confirmation through the page, the preference page"
KEY=$(psql_q "SELECT value FROM settings WHERE key = 'token_key'")
"$PY" "$ROOT/tests/integration/forms_browser.py" "$API" "$NEWS" "$WEEKLY" "$ROOT/build/screens" > browser.out 2>&1 ||
    fail "browser: $(tail -5 browser.out)"
[ "$(subs walker@example.org)" = "news=unconfirmed weekly=confirmed" ] || fail "walker after the form: $(subs walker@example.org)"
# the confirmation link, from the message the browser's signup caused
wait_for "the confirmation to walker" 30 bash -c "grep -lq 'walker@example.org' '$MTA'/sink/* 2>/dev/null"
CURL=$(grep -h -o "$API/c/[a-z2-7]*" $(grep -l 'walker@example.org' "$MTA"/sink/*) | head -1)
[ -n "$CURL" ] || fail "no confirmation link for walker"
PTOK=$(mktoken p "$(sub_id walker@example.org)" "$($PY -c 'import time; print(int(time.time()) // 86400)')")
"$PY" "$ROOT/tests/integration/forms_browser.py" --confirm "$CURL" "$API/p/$PTOK" "$WEEKLY" "$ROOT/build/screens" \
    >> browser.out 2>&1 || fail "browser: $(tail -5 browser.out)"
[ "$(subs walker@example.org)" = "news=confirmed weekly=unsubscribed" ] || fail "walker after the pages: $(subs walker@example.org)"
[ "$(psql_q "SELECT string_agg(via, ' ' ORDER BY id) FROM consent WHERE subscriber_id = $(sub_id walker@example.org)")" = \
  "form form confirmation preferences" ] || fail "walker's consent: $(psql_q "SELECT via FROM consent WHERE subscriber_id = $(sub_id walker@example.org)")"

check "another site: the snippet's script and a JSON post work across origins, and nothing is loaded from elsewhere"
headers=$(curl -s -o /dev/null -D - -X OPTIONS -H "Origin: http://127.0.0.1:18199" -H "Access-Control-Request-Method: POST" \
    -H "Access-Control-Request-Headers: content-type" --max-time 20 "$API/s" | tr -d '\r' | sed 's/^\([^:]*\):/\L\1:/')
case "$headers" in "HTTP/1.1 204"*) ;; *) fail "the preflight: $headers" ;; esac
expect_header "access-control-allow-origin: *"
expect_header "access-control-allow-methods: POST"
expect_header "access-control-allow-headers: Content-Type"
req GET /api/v1/lists/weekly/form
SNIP=$(jq_get "$body" "j['html']")
SNIP_HASH=$(printf '%s' "$body" | $PY -c 'import hashlib, json, sys; print(hashlib.sha256(json.load(sys.stdin)["html"].encode()).hexdigest())')
mkdir -p site
{ echo '<!doctype html><html><head><meta charset="utf-8"><title>Elsewhere</title></head><body><h2>Our newsletter</h2>'
  printf '%s\n' "$SNIP"
  echo '</body></html>'; } > site/index.html
grep -q "<script src=\"$API/s/signup.js\"" site/index.html || fail "the snippet does not load its script from the server"
[ "$(grep -o 'src="[^"]*"' site/index.html | grep -vc "^src=\"$API/")" = 0 ] || fail "the snippet loads from elsewhere"
$PY -m http.server 18199 --bind 127.0.0.1 --directory site > site.log 2>&1 &
SITE=$!
wait_for "the other site" 20 curl -sf -o /dev/null http://127.0.0.1:18199/
get /s/challenge
CH=$(jq_get "$body" "j['challenge']")
"$PY" "$ROOT/tests/integration/forms_browser.py" --site http://127.0.0.1:18199/ "$API" fetched@example.org "$CH" \
    "$(solve "$CH")" "$WEEKLY" "$ROOT/build/screens" >> browser.out 2>&1 || fail "browser: $(tail -5 browser.out)"
kill "$SITE" 2>/dev/null
[ "$(subs elsewhere@example.org)" = "weekly=confirmed" ] || fail "the snippet's signup: $(subs elsewhere@example.org)"
[ "$(subs fetched@example.org)" = "weekly=confirmed" ] || fail "the JSON signup: $(subs fetched@example.org)"
[ "$(psql_q "SELECT form_hash FROM consent WHERE subscriber_id = $(sub_id elsewhere@example.org)")" = \
  "$SNIP_HASH" ] || fail "the consent's form hash is not the snippet's"

finish
