#!/bin/bash
# test_preferences - public actions only by POST, and the preference page
# /p/TOKEN, through the real server (postino serve with its sender, a private
# Postfix with smtp-sink): every public GET and HEAD changes nothing; /c/
# confirms and /p/ changes only by a POST from this site's page; the RFC 8058
# one-click POST to /u/ still works without an Origin; joining, leaving, the
# name and the editable attributes land, a double opt-in join sends the
# confirmation; unsubscribe from everything; altered, expired and malformed
# tokens; each change says how it was made (postino.via and the others);
# {{ preferences_url }} and [PREFERENCES] render in a sent message; then a
# browser presses the buttons (prefs_browser.py).
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
source "$ROOT/tests/integration/api_lib.sh"
api_setup 18191
PY=/usr/bin/python3
export POSTINO_HTTP_PUBLIC_URL="$API" POSTINO_PREFERENCES_ATTRIBUTES="city, plan"
# page METHOD PATH [ORIGIN] [FORM]: sets $code, $body, $headers; a POST carries Origin ORIGIN ("" none)
page() {
    local args=(-s -o "$WORK/resp" -D "$WORK/hdrs" -w '%{http_code}' --max-time 20 -X "$1")
    if [ "$1" = POST ]; then
        [ -n "${3-}" ] && args+=(-H "Origin: $3")
        args+=(-H 'Content-Type: application/x-www-form-urlencoded' --data "${4-}")
    fi
    code=$(curl "${args[@]}" "$API$2")
    body=$(tr -d '\0' < "$WORK/resp")
    headers=$(tr -d '\r' < "$WORK/hdrs" | sed 's/^\([^:]*\):/\L\1:/')
    out=$body err=""
}
expect_body() { case "$body" in *"$1"*) ;; *) fail "the answer lacks: $1" ;; esac; }
expect_no_body() { case "$body" in *"$1"*) fail "the answer has: $1" ;; esac; }
sub_id() { psql_q "SELECT id FROM subscribers WHERE email = '$1'"; }
list_id() { psql_q "SELECT id FROM lists WHERE name = '$1'"; }
subs() { psql_q "SELECT string_agg(l.name || '=' || sl.status, ' ' ORDER BY l.name) FROM subscriptions sl JOIN lists l ON l.id = sl.list_id WHERE sl.subscriber_id = $(sub_id "$1")"; }
# everything a public link could change, as one line
state() { psql_q "SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (SELECT s.email || s.name || s.attribs::text || s.status || coalesce(sl.list_id::text, '') || coalesce(sl.status, '') || coalesce(sl.updated_at::text, '') AS x FROM subscribers s LEFT JOIN subscriptions sl ON sl.subscriber_id = s.id UNION ALL SELECT count(*)::text FROM deliveries) t"; }
tamper() { local t=$1; printf '%s%s' "${t%?}" "$([ "${t: -1}" = a ] && echo b || echo a)"; }
TODAY=$($PY -c 'import time; print(int(time.time()) // 86400)')

check "setup: public and private lists, subscribers, a recorder of how changes are made, serve with its sender"
mta_start 16597 16035
postino db init
expect_rc 0
postino list create news --optin double
postino list create weekly --description "Every Monday"
postino list create staff
postino list set staff --public no
expect_rc 0
expect_out 'changed list "staff"'
postino list show staff
expect_out "public:       no"
postino subscriber add ann@example.org --name Ann --list weekly --list staff --status confirmed \
    --attr city=Roma --attr plan=pro --attr secret=s1
expect_rc 0
postino subscriber add bob@example.org --name Bob --list news
postino dkim add example.com --selector t1 --algorithm ed25519
relay_setup
api_admin
# what the consent trigger will read: recorded here for each statement that changes subscriptions
psql_q "CREATE TABLE via_log (id bigserial, via text, actor text, ip text, ua text);
  CREATE FUNCTION via_log_row() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN
    INSERT INTO via_log (via, actor, ip, ua) VALUES (current_setting('postino.via', true),
      current_setting('postino.actor', true), current_setting('postino.ip', true), current_setting('postino.ua', true));
    RETURN NULL; END \$\$;
  CREATE TRIGGER via_log AFTER INSERT OR UPDATE ON subscriptions FOR EACH STATEMENT EXECUTE FUNCTION via_log_row()" >/dev/null
"$BIN" serve --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
api_wait
page GET /u/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa   # the token key is made on first use
expect_code 404
KEY=$(psql_q "SELECT value FROM settings WHERE key = 'token_key'")
ANN=$(sub_id ann@example.org) BOB=$(sub_id bob@example.org)
PANN=$(mktoken p "$ANN" "$TODAY") PBOB=$(mktoken p "$BOB" "$TODAY")
CBOB=$(mktoken c "$BOB" "$(list_id news)")
req PATCH "/api/v1/lists/staff" '{"public": false}'
expect_code 200
expect_json "j['public']" False

check "every public GET and HEAD changes nothing: /u/, /c/, /p/ (with and without tokens of each kind)"
before=$(state)
for path in "/u/$(mktoken u "$ANN" 1)" "/c/$CBOB" "/p/$PANN" "/p/$PBOB" "/p/$(tamper "$PANN")" "/p/$(mktoken p "$ANN" $((TODAY - 400)))"; do
    page GET "$path"
    case "$code" in 200|403|404|410) ;; *) fail "GET $path: $code" ;; esac
    [ "$(curl -s -o /dev/null -w '%{http_code}' -I "$API$path")" = "$code" ] || fail "HEAD $path differs from GET"
done
[ "$(state)" = "$before" ] || fail "a GET or HEAD changed a subscriber or a subscription"
[ "$(subs bob@example.org)" = "news=unconfirmed" ] || fail "bob: $(subs bob@example.org)"

check "GET /p/TOKEN: the address, the name, the editable attributes, each public list ticked or not; nothing private"
page GET "/p/$PANN"
expect_code 200
expect_body "<strong>ann@example.org</strong>"
expect_body 'name="name" id="name" value="Ann"'
expect_body 'name="attr.city" id="attr-city" value="Roma"'
expect_body 'name="attr.plan" id="attr-plan" value="pro"'
expect_no_body "secret"
expect_no_body "s1"
expect_no_body "staff"
expect_body "<input type=\"checkbox\" name=\"list\" value=\"$(list_id weekly)\" id=\"list-$(list_id weekly)\" checked>"
expect_body "<input type=\"checkbox\" name=\"list\" value=\"$(list_id news)\" id=\"list-$(list_id news)\">"
expect_body '<span class="description">Every Monday</span>'
expect_body "<input type=\"hidden\" name=\"token\" value=\"$PANN\">"
printf '%s\n' "$headers" | grep -qx "referrer-policy: same-origin" || fail "no same-origin Referrer-Policy"

check "POST /p/ refused: from another site or none, without or with another token field, not a form, a bad field"
NEWS=$(list_id news) WEEKLY=$(list_id weekly)
FORM="token=$PANN&action=save&name=Mallory&shown=$NEWS&shown=$WEEKLY"
before=$(state)
page POST "/p/$PANN" "https://evil.example" "$FORM"
expect_error 403 forbidden
page POST "/p/$PANN" "" "$FORM"
expect_error 403 forbidden
page POST "/p/$PANN" "$API" "action=save&name=Mallory"
expect_error 403 forbidden token
page POST "/p/$PANN" "$API" "token=$PBOB&action=save&name=Mallory"
expect_error 403 forbidden token
code=$(curl -s -o "$WORK/resp" -w '%{http_code}' -H "Origin: $API" -H 'Content-Type: application/json' --data '{}' "$API/p/$PANN")
[ "$code" = 415 ] || fail "a JSON body: $code"
page POST "/p/$PANN" "$API" "token=$PANN&action=save&admin=1"
expect_error 400 invalid_field
page POST "/p/$PANN" "$API" "token=$PANN&action=save&name=%zz"
expect_error 400 invalid_field
page POST "/p/$PANN" "$API" "token=$PANN&action=drop"
expect_error 400 invalid_field action
page POST "/p/$PANN" "$API" "token=$PANN&action=save&attr.secret=s2"
expect_code 400
expect_body 'the attribute &quot;secret&quot; cannot be changed here'
[ "$(state)" = "$before" ] || fail "a refused POST changed something"

check "POST /p/ save: the name and the attributes, weekly left, news (double opt-in) joined and its confirmation queued"
page POST "/p/$PANN" "$API" "token=$PANN&action=save&name=Ann+B%C3%A9&attr.city=Milano&attr.plan=&shown=$NEWS&shown=$WEEKLY&list=$NEWS"
expect_code 200
expect_body "Your preferences are saved."
expect_body 'value="Ann Bé"'
[ "$(psql_q "SELECT name || ' ' || attribs::text FROM subscribers WHERE id = $ANN")" = 'Ann Bé {"city": "Milano", "secret": "s1"}' ] ||
    fail "ann: $(psql_q "SELECT name, attribs FROM subscribers WHERE id = $ANN")"
[ "$(subs ann@example.org)" = "news=unconfirmed staff=confirmed weekly=unsubscribed" ] || fail "ann: $(subs ann@example.org)"
expect_body "waiting for your confirmation"
[ "$(psql_q "SELECT count(*) FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id AND c.kind = 'tx' WHERE d.subscriber_id = $ANN AND d.list_id = $NEWS")" = 1 ] ||
    fail "no confirmation queued for ann on news"
wait_for "the confirmation for ann" 30 bash -c "grep -lq 'ann@example.org' '$MTA'/sink/* 2>/dev/null"
[ "$(psql_q "SELECT DISTINCT via || ' ' || actor || ' ' || ip || ' ' || ua FROM via_log WHERE via = 'preferences'")" = \
  "preferences subscriber 127.0.0.1 curl/$(curl -V | head -1 | cut -d' ' -f2)" ] || fail "via: $(psql_q "SELECT * FROM via_log")"

check "confirm through the page: GET shows the button, POST from the page confirms (via confirmation)"
page GET "/c/$CBOB"
expect_body 'id="confirm"'
[ "$(subs bob@example.org)" = "news=unconfirmed" ] || fail "GET /c confirmed"
page POST "/c/$CBOB" "https://evil.example"
expect_error 403 forbidden
page POST "/c/$CBOB" "$API"
expect_code 200
expect_body "<h1>Subscription confirmed</h1>"
[ "$(subs bob@example.org)" = "news=confirmed" ] || fail "POST /c did not confirm"
[ "$(psql_q "SELECT via || ' ' || actor FROM via_log ORDER BY id DESC LIMIT 1")" = "confirmation subscriber" ] || fail "via: $(psql_q "SELECT * FROM via_log")"

check "the RFC 8058 one-click POST to /u/ works as it did, with no Origin (via unsubscribe); GET /u/ changes nothing"
postino campaign create --name One --subject 'One' --from 'News <news@example.com>' --list news --html <(echo '<p>x</p>') --json
C1=$(jq_get "$out" "j['id']")
U=$(mktoken u "$BOB" "$C1")
page GET "/u/$U"
[ "$(subs bob@example.org)" = "news=confirmed" ] || fail "GET /u changed bob"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data 'List-Unsubscribe=One-Click' "$API/u/$U")
[ "$code" = 200 ] || fail "one-click POST: $code"
[ "$(subs bob@example.org)" = "news=unsubscribed" ] || fail "one-click did not unsubscribe"
[ "$(psql_q "SELECT via || ' ' || actor FROM via_log ORDER BY id DESC LIMIT 1")" = "unsubscribe subscriber" ] || fail "via: $(psql_q "SELECT * FROM via_log")"

check "POST /p/ unsubscribe_all leaves every list, the private one too"
page POST "/p/$PANN" "$API" "token=$PANN&action=unsubscribe_all"
expect_code 200
expect_body "You are unsubscribed from everything"
[ "$(subs ann@example.org)" = "news=unsubscribed staff=unsubscribed weekly=unsubscribed" ] || fail "ann: $(subs ann@example.org)"

check "tokens: altered 403 and expired 410, each a page with nothing of anyone; malformed or of another kind 404"
for t in "$(tamper "$PANN")" "$(mktoken p "$ANN" $((TODAY + 5)))"; do
    page GET "/p/$t"
    expect_code 403
    expect_body "<h1>This link is not valid</h1>"
    expect_no_body "ann@example.org"
    expect_no_body "Ann"
done
page POST "/p/$(tamper "$PANN")" "$API" "token=$(tamper "$PANN")&action=unsubscribe_all"
expect_code 403
page GET "/p/$(mktoken p "$ANN" $((TODAY - 91)))"
expect_code 410
expect_body "<h1>This link has expired</h1>"
expect_no_body "ann@example.org"
page GET "/p/$(mktoken p "$ANN" $((TODAY - 90)))"
expect_code 200
expect_body "ann@example.org"
for t in "not-base32!" "$(mktoken u "$ANN" "$TODAY")" "$(printf 'a%.0s' $(seq 1 80))" "$(mktoken p 999999 "$TODAY")"; do
    page GET "/p/$t"
    expect_error 404 not_found
done

check "{{ preferences_url }} and [PREFERENCES] render in a sent message: the same signed link, which opens ann's page"
psql_q "UPDATE subscriptions SET status = 'confirmed' WHERE subscriber_id = $ANN AND list_id = $WEEKLY" >/dev/null
printf '<html><body><p>Hi</p><p><a href="{{ preferences_url }}">prefs</a> [PREFERENCES]</p></body></html>\n' > prefs.html
postino campaign create --name Prefs --subject 'Prefs' --from 'News <news@example.com>' --list weekly --html prefs.html --json
CP=$(jq_get "$out" "j['id']")
sink_clear
postino campaign send "$CP"
expect_rc 0
wait_for "the campaign to finish" 60 bash -c "[ \"\$(psql_q \"SELECT status FROM campaigns WHERE id = $CP\")\" = finished ]"
mta_drain
URL=$($PY - "$MTA/sink" <<'PYEOF'
import email, email.policy, os, re, sys
d = sys.argv[1]
(f,) = os.listdir(d)
m = email.message_from_bytes(open(os.path.join(d, f), 'rb').read(), policy=email.policy.default)
html = m.get_body(('html',)).get_content()
a = re.search(r'<a href="([^"]*)">prefs</a>', html).group(1)
b = re.search(r'<a href="([^"]*)">Preferences</a>', html).group(1)
assert a == b, (a, b)
print(a)
PYEOF
)
[ "$URL" = "$API/p/$PANN" ] || fail "the message's link is '$URL', expected $API/p/$PANN"
printf '%s\n' "$URL" > "$WORK/prefs_url"

check "a browser confirms through the page and changes preferences from the message's link (prefs_browser.py)"
psql_q "UPDATE subscriptions SET status = 'unconfirmed' WHERE subscriber_id = $BOB" >/dev/null
mkdir -p "$ROOT/build/screens"
out=$(cd "$ROOT" && $PY tests/integration/prefs_browser.py "$API" "$API/c/$CBOB" "$URL" "$ROOT/build/screens" 2>&1)
rc=$?
[ $rc = 0 ] || fail "browser: $out"
[ "$(subs bob@example.org)" = "news=confirmed" ] || fail "the browser's Confirm did not confirm: $(subs bob@example.org)"
[ "$(subs ann@example.org)" = "news=unconfirmed staff=unsubscribed weekly=unsubscribed" ] || fail "ann after the browser: $(subs ann@example.org)"
[ "$(psql_q "SELECT name FROM subscribers WHERE id = $ANN")" = "Ann Browser" ] || fail "the name did not change"

finish
