#!/bin/bash
# test_api_track - the public links other than /u through the real server
# (postino serve with its sender, a private Postfix with smtp-sink):
# double opt-in confirmation /c/TOKEN (a GET shows the button, its POST confirms;
# and {{ confirm_url }} in a message),
# campaigns with open and click tracking sent through Postfix, the open
# image and rewritten links taken from the delivered messages and fetched,
# the exact 302 Location, tampered tokens 404, stats in the CLI and the API,
# /metrics; a campaign without tracking carries neither.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/send_lib.sh"

source "$ROOT/tests/integration/api_lib.sh"
api_setup 18180
PY=/usr/bin/python3
export POSTINO_HTTP_PUBLIC_URL="$API/"
# get PATH [TOKEN]: sets $code, $body, $headers (lower-cased names)
get() {
    local args=(-s -o "$WORK/resp" -D "$WORK/hdrs" -w '%{http_code}' --max-time 20)
    [ -n "${2-}" ] && args+=(-H "Authorization: Bearer $2")
    code=$(curl "${args[@]}" "$API$1")
    body=$(tr -d '\0' < "$WORK/resp")
    headers=$(tr -d '\r' < "$WORK/hdrs" | sed 's/^\([^:]*\):/\L\1:/')
    out=$body err=""
}
# post PATH [ORIGIN]: POST an empty form as the page's button does (Origin: ORIGIN, default this server)
post() {
    code=$(curl -s -o "$WORK/resp" -D "$WORK/hdrs" -w '%{http_code}' --max-time 20 -X POST \
        -H "Origin: ${2-$API}" -H 'Content-Type: application/x-www-form-urlencoded' --data '' "$API$1")
    body=$(tr -d '\0' < "$WORK/resp")
    headers=$(tr -d '\r' < "$WORK/hdrs" | sed 's/^\([^:]*\):/\L\1:/')
}
expect_header() { printf '%s\n' "$headers" | grep -qxF "$1" || fail "no header '$1' in: $headers"; }
expect_body() { case "$body" in *"$1"*) ;; *) fail "the answer lacks: $1" ;; esac; }
expect_no_body() { case "$body" in *"$1"*) fail "the answer has: $1" ;; esac; }
expect_404() {
    expect_code 404
    [ "$(jq_get "$body" "j['error']['code']")" = not_found ] || fail "not the error envelope: $body"
}
# tamper TOKEN: the same token with its last character changed
tamper() { local t=$1; printf '%s%s' "${t%?}" "$([ "${t: -1}" = a ] && echo b || echo a)"; }
sub_id() { psql_q "SELECT id FROM subscribers WHERE email = '$1'"; }
list_id() { psql_q "SELECT id FROM lists WHERE name = '$1'"; }
sub_status() { psql_q "SELECT sl.status FROM subscriptions sl JOIN lists l ON l.id = sl.list_id WHERE sl.subscriber_id = $(sub_id "$1") AND l.name = '$2'"; }

check "setup: lists, subscribers, a DKIM key, the relay, an API token, serve with its sender"
mta_start 16587 16025
postino db init
expect_rc 0
postino list create news --optin double
postino list create plain
for who in dan eve fay gus; do postino subscriber add "$who@example.org" --name "${who^}" --list news; done
postino subscriber add ann@example.org --name Ann --list plain
postino subscriber add bob@example.org --name Bob --list plain
postino dkim add example.com --selector t1 --algorithm ed25519
relay_setup
api_admin
[ "$(sub_status dan@example.org news)" = unconfirmed ] || fail "a double opt-in subscription starts unconfirmed"
"$BIN" serve --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
api_wait
get /healthz
expect_code 200
get /u/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa   # the token key is made on first use
expect_404
KEY=$(psql_q "SELECT value FROM settings WHERE key = 'token_key'")
[ ${#KEY} = 64 ] || fail "no token key"

check "confirm: GET (and HEAD) /c/TOKEN shows a Confirm button and changes nothing; its POST confirms; repeated, 200"
CTOK=$(mktoken c "$(sub_id dan@example.org)" "$(list_id news)")
get "/c/$CTOK"
expect_code 200
expect_header "content-type: text/html; charset=utf-8"
expect_header "referrer-policy: same-origin"
expect_body "<h1>Confirm your subscription</h1>"
expect_body "<form method=\"post\" action=\"/c/$CTOK\">"
expect_body '<span class="list">news</span>'
[ "$(sub_status dan@example.org news)" = unconfirmed ] || fail "GET /c confirmed"
[ "$(curl -s -o /dev/null -w '%{http_code}' -I "$API/c/$CTOK")" = 200 ] || fail "HEAD /c is not 200"
[ "$(sub_status dan@example.org news)" = unconfirmed ] || fail "HEAD /c confirmed"
post "/c/$CTOK" "https://elsewhere.example"
expect_code 403
[ "$(sub_status dan@example.org news)" = unconfirmed ] || fail "a POST from another site confirmed"
post "/c/$CTOK"
expect_code 200
expect_body "<h1>Subscription confirmed</h1>"
expect_body '<span class="list">news</span>'
[ "$(sub_status dan@example.org news)" = confirmed ] || fail "POST /c did not confirm"
post "/c/$CTOK"
expect_code 200
expect_body "<h1>Subscription confirmed</h1>"
get "/c/$CTOK"
expect_code 200
expect_body "<h1>Subscription confirmed</h1>"
[ "$(sub_status dan@example.org news)" = confirmed ] || fail "a repeated /c changed the subscription"

check "confirm: a tampered token, a token of another kind, an unknown subscription: 404, nothing changed"
ETOK=$(mktoken c "$(sub_id eve@example.org)" "$(list_id news)")
get "/c/$(tamper "$ETOK")"
expect_404
get "/c/$(mktoken u "$(sub_id eve@example.org)" "$(list_id news)")"
expect_404
get "/c/$(mktoken c "$(sub_id eve@example.org)" 999999)"
expect_404
get "/c/$(mktoken c "$(sub_id eve@example.org)" "$(list_id plain)")"
expect_404
post "/c/$(tamper "$ETOK")"
expect_404
post "/c/$(mktoken c "$(sub_id eve@example.org)" 999999)"
expect_404
get "/c/not-base32!"
expect_404
get "/c/$(printf 'a%.0s' $(seq 1 80))"
expect_404
[ "$(sub_status eve@example.org news)" = unconfirmed ] || fail "a bad token changed eve's subscription"

check "confirm: an unsubscribed subscription and a blocklisted subscriber are not confirmed, and the page says so"
psql_q "UPDATE subscriptions SET status = 'unsubscribed' WHERE subscriber_id = $(sub_id fay@example.org)" >/dev/null
post "/c/$(mktoken c "$(sub_id fay@example.org)" "$(list_id news)")"
expect_code 200
expect_body "<h1>Subscription not confirmed</h1>"
expect_body 'You unsubscribed from <span class="list">news</span>, and this link does not subscribe you again.'
[ "$(sub_status fay@example.org news)" = unsubscribed ] || fail "an unsubscribed subscription was confirmed"
# blocklisted with the subscription still unconfirmed (as after a complaint recorded elsewhere)
psql_q "UPDATE subscribers SET status = 'blocklisted' WHERE email = 'gus@example.org'" >/dev/null
post "/c/$(mktoken c "$(sub_id gus@example.org)" "$(list_id news)")"
expect_code 200
expect_body "<h1>Subscription not confirmed</h1>"
expect_body 'This address no longer receives mail from us, so it was not subscribed to <span class="list">news</span>.'
[ "$(sub_status gus@example.org news)" = unconfirmed ] || fail "a blocklisted subscriber was confirmed"

check "confirm: {{ confirm_url }} in a message to a double opt-in list is the link that confirms"
printf '<p>Hi {{ name }}, <a href="{{ confirm_url }}">confirm</a>.</p>\n' > confirm.html
postino campaign create --name Confirm --subject 'Please confirm' --from 'News <news@example.com>' --list news \
    --html confirm.html --json
CC=$(jq_get "$out" "j['id']")
postino campaign preview "$CC" --subscriber eve@example.org
expect_rc 0
printf '%s' "$out" > confirm.eml
CURL_C=$($PY - confirm.eml <<'PYEOF'
import email, email.policy, re, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
html = m.get_body(('html',)).get_content()
print(re.search(r'<a href="([^"]*)">confirm</a>', html).group(1))
PYEOF
)
[ "$CURL_C" = "$API/c/$ETOK" ] || fail "confirm_url is '$CURL_C', expected $API/c/$ETOK"
get "${CURL_C#$API}"
expect_code 200
[ "$(sub_status eve@example.org news)" = unconfirmed ] || fail "following the message's confirm link confirmed"
post "${CURL_C#$API}"
expect_code 200
[ "$(sub_status eve@example.org news)" = confirmed ] || fail "the message's confirm page did not confirm"

check "tracking is off by default; --track-opens --track-clicks turn it on"
cat > tracked.html <<'EOF'
<html><body>
<p>Hello {{ name }}</p>
<p><a href="https://shop.example.com/a?x=1&amp;y=2">A</a> <A HREF='https://shop.example.com/b'>B</A>
<a href="https://shop.example.com/a?x=1&amp;y=2">A again</a></p>
<p><a href="mailto:help@example.com">mail us</a> <a href="#top">top</a>
<a href="https://shop.example.com/me?e={{ email }}">yours</a></p>
<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>
</body></html>
EOF
postino campaign create --name Plain --subject 'Untracked' --from 'News <news@example.com>' --list plain \
    --html tracked.html --json
CU=$(jq_get "$out" "j['id']")
[ "$(psql_q "SELECT track_opens, track_clicks FROM campaigns WHERE id = $CU")" = "f|f" ] || fail "tracking on by default"
postino campaign show "$CU"
expect_out "tracking: opens off, clicks off"
postino campaign create --name Tracked --subject 'Tracked' --from 'News <news@example.com>' --list plain \
    --html tracked.html --track-opens --track-clicks --json
CT=$(jq_get "$out" "j['id']")
[ "$(jq_get "$out" "(j['track_opens'], j['track_clicks'])")" = "(True, True)" ] || fail "flags not stored"

check "a preview of a tracked campaign stores its links once and shows them as written (no delivery, nothing tracked)"
postino campaign preview "$CT" --subscriber ann@example.org
expect_rc 0
expect_no_out "/l/"
expect_no_out "/o/"
[ "$(psql_q "SELECT string_agg(idx || ' ' || url, ',' ORDER BY idx) FROM links WHERE campaign_id = $CT")" = \
  "0 https://shop.example.com/a?x=1&y=2,1 https://shop.example.com/b" ] ||
    fail "links: $(psql_q "SELECT idx, url FROM links WHERE campaign_id = $CT")"
postino campaign preview "$CT" --subscriber bob@example.org
[ "$(psql_q "SELECT count(*) FROM links")" = 2 ] || fail "a second preparation added links"

check "send both campaigns through Postfix: signed; the tracked one has the image and /l/ links, the other neither"
postino campaign send "$CU"
expect_rc 0
postino campaign send "$CT"
expect_rc 0
wait_for "both campaigns finished" 60 \
    bash -c "[ \"\$(psql_q \"SELECT count(*) FROM campaigns WHERE id IN ($CU, $CT) AND status = 'finished'\")\" = 2 ]"
mta_drain
[ "$(sink_count)" = 4 ] || fail "$(sink_count) messages in the sink, expected 4"
[ "$(psql_q "SELECT count(*) FROM links")" = 2 ] || fail "sending added links: $(psql_q "SELECT campaign_id, url FROM links")"
$PY - "$MTA/sink" "$API" "$WORK/found" <<'PYEOF' || fail "the delivered messages"
import email, email.policy, os, re, sys
sink, api, found = sys.argv[1], sys.argv[2], sys.argv[3]
rows = []
for f in sorted(os.listdir(sink)):
    m = email.message_from_bytes(open(os.path.join(sink, f), 'rb').read(), policy=email.policy.default)
    rcpt = re.search(r'<([^>]+)>', m['X-Rcpt-Args']).group(1)
    html = m.get_body(('html',)).get_content()
    delivery, token = str(m['X-Postino-Delivery']).split('.', 1)   # the id, signed by the VERP token
    assert '<bounces+%s@' % token in str(m['X-Mail-Args']), (token, m['X-Mail-Args'])
    unsub = re.search(r'<a href="([^"]*)">Unsubscribe</a>', html).group(1)
    assert unsub == str(m['List-Unsubscribe'])[1:-1] and '/u/' in unsub, unsub
    assert '<a href="mailto:help@example.com">mail us</a>' in html
    assert '<a href="#top">top</a>' in html
    assert '<a href="https://shop.example.com/me?e=%s">yours</a>' % rcpt in html, html
    if str(m['Subject']) == 'Untracked':
        assert '<img' not in html and '/l/' not in html and '/o/' not in html, html
        assert '<a href="https://shop.example.com/a?x=1&amp;y=2">A</a>' in html
        assert "<A HREF='https://shop.example.com/b'>B</A>" in html
        continue
    a = re.search(r'<a href="([^"]*)">A</a>', html).group(1)
    b = re.search(r"<A HREF='([^']*)'>B</A>", html).group(1)
    a2 = re.search(r'<a href="([^"]*)">A again</a>', html).group(1)
    assert re.fullmatch(re.escape(api) + r'/l/[a-z2-7]+', a), a
    assert re.fullmatch(re.escape(api) + r'/l/[a-z2-7]+', b), b
    assert a == a2 and a != b, (a, a2, b)
    img = re.search(r'<img src="([^"]*)" width="1" height="1" alt="" style="[^"]*"></body>', html).group(1)
    assert re.fullmatch(re.escape(api) + r'/o/[a-z2-7]+\.gif', img), img
    assert 'shop.example.com/a' not in html and 'shop.example.com/b' not in html, html
    rows.append('%s %s %s %s %s' % (rcpt, delivery, img[len(api):], a[len(api):], b[len(api):]))
assert len(rows) == 2, rows
open(found, 'w').write('\n'.join(sorted(rows)) + '\n')
PYEOF
"$BIN" dkim record example.com --json | $PY -c 'import json,sys; print(json.dumps([r["zone"] for r in json.load(sys.stdin)]))' > records.json
$PY "$ROOT/tests/integration/dkim_verify.py" records.json "$MTA"/sink/* --expect 1 > verify.out 2>&1 ||
    { out=$(tail -5 verify.out); fail "dkimpy did not verify the tracked and untracked messages"; }
read -r _ ANN_D ANN_O ANN_A ANN_B < <(grep '^ann@' found)
read -r _ BOB_D BOB_O BOB_A BOB_B < <(grep '^bob@' found)
[ "$ANN_D" = "$(psql_q "SELECT id FROM deliveries WHERE campaign_id = $CT AND subscriber_id = $(sub_id ann@example.org)")" ] ||
    fail "X-Postino-Delivery is not ann's delivery"

check "the open image: a 43-byte transparent GIF, never cached; counted per delivery"
get "$ANN_O"
expect_code 200
expect_header "content-type: image/gif"
expect_header "cache-control: no-store"
[ "$(wc -c < resp)" = 43 ] || fail "the image is $(wc -c < resp) bytes"
[ "$(od -An -tx1 resp | tr -d ' \n')" = 47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b ] ||
    fail "not the transparent GIF"
get "$ANN_O"
get "$BOB_O"
expect_code 200
[ "$(psql_q "SELECT n FROM opens WHERE delivery_id = $ANN_D")" = 2 ] || fail "ann's opens"
get "$(tamper "${ANN_O%.gif}").gif"
expect_404
get "/o/$(mktoken o 999999 0).gif"
expect_code 200
[ "$(wc -c < resp)" = 43 ] || fail "a valid token of a delivery that is gone still gets the image"
get "/o/$(mktoken l "$ANN_D" 0).gif"
expect_404
get "${ANN_O%.gif}"
expect_404

check "a click: 302 to exactly the stored URL, counted per link and delivery"
get "$ANN_A"
expect_code 302
expect_header "location: https://shop.example.com/a?x=1&y=2"
get "$ANN_A"
expect_header "location: https://shop.example.com/a?x=1&y=2"
get "$BOB_A"
expect_header "location: https://shop.example.com/a?x=1&y=2"
get "$BOB_B"
expect_code 302
expect_header "location: https://shop.example.com/b"

check "tampered click tokens and changed link ids: 404, no redirect, nothing counted"
LINK_A=$(psql_q "SELECT id FROM links WHERE campaign_id = $CT AND idx = 0")
LINK_B=$(psql_q "SELECT id FROM links WHERE campaign_id = $CT AND idx = 1")
get "$(tamper "$ANN_A")"
expect_404
printf '%s\n' "$headers" | grep -q '^location:' && fail "a tampered token redirected"
# the same token body re-encoded with another link id but the old signature
FORGED=$($PY - "${ANN_A#/l/}" "$LINK_B" <<'PYEOF'
import sys
b32 = "abcdefghijklmnopqrstuvwxyz234567"
tok, link = sys.argv[1], int(sys.argv[2])
acc = bits = 0; raw = bytearray()
for ch in tok:
    acc = (acc << 5) | b32.index(ch); bits += 5
    if bits >= 8:
        bits -= 8; raw.append((acc >> bits) & 0xff)
def varint(p, i):
    v = s = 0
    while True:
        c = p[i]; i += 1; v |= (c & 0x7f) << s; s += 7
        if not c & 0x80: return v, i
d, i = varint(raw, 1)
_, j = varint(raw, i)
out = bytearray(raw[:i])
v = link
while True:
    c = v & 0x7f; v >>= 7
    out.append(c | (0x80 if v else 0))
    if not v: break
out += raw[j:]
acc = bits = 0; s = ""
for b in out:
    acc = (acc << 8) | b; bits += 8
    while bits >= 5:
        bits -= 5; s += b32[(acc >> bits) & 31]
if bits: s += b32[(acc << (5 - bits)) & 31]
print(s)
PYEOF
)
[ -n "$FORGED" ] && [ "/l/$FORGED" != "$ANN_A" ] || fail "could not forge"
get "/l/$FORGED"
expect_404
get "/l/$(mktoken l "$ANN_D" 999999)"
expect_404
get "/l/$(mktoken o "$ANN_D" "$LINK_A")"
expect_404
get "/l/"
expect_code 404
[ "$(psql_q "SELECT coalesce(sum(n), 0) FROM clicks")" = 4 ] || fail "clicks counted: $(psql_q "SELECT * FROM clicks")"

check "stats: opens and clicks, unique and total, per link in --json and in the API"
postino campaign stats "$CT"
expect_rc 0
expect_out "opens      2 unique, 3 total"
expect_out "clicks     2 unique, 4 total"
postino campaign stats "$CU"
expect_out "opens      not tracked"
expect_out "clicks     not tracked"
postino campaign stats "$CT" --json
expect_rc 0
[ "$(jq_get "$out" "(j['opens'], j['clicks'])")" = "({'unique': 2, 'total': 3}, {'unique': 2, 'total': 4})" ] ||
    fail "stats --json: $(jq_get "$out" "(j['opens'], j['clicks'])")"
[ "$(jq_get "$out" "[(l['url'], l['unique'], l['total']) for l in j['links']]")" = \
  "[('https://shop.example.com/a?x=1&y=2', 2, 3), ('https://shop.example.com/b', 1, 1)]" ] ||
    fail "per-link: $(jq_get "$out" "j['links']")"
get "/api/v1/campaigns/$CT/stats" "$ADMIN"
expect_code 200
[ "$(jq_get "$body" "(j['opens'], j['clicks'], [(l['id'], l['unique'], l['total']) for l in j['links']])")" = \
  "({'unique': 2, 'total': 3}, {'unique': 2, 'total': 4}, [($LINK_A, 2, 3), ($LINK_B, 1, 1)])" ] ||
    fail "API stats: $body"
get "/api/v1/campaigns/$CU/stats" "$ADMIN"
[ "$(jq_get "$body" "(j['track_opens'], j['opens'], j['clicks'], j['links'])")" = \
  "(False, {'unique': 0, 'total': 0}, {'unique': 0, 'total': 0}, [])" ] || fail "untracked API stats: $body"

check "/metrics counts opens, clicks and confirmations; routes by pattern, never a token"
get /metrics "$ADMIN"
expect_code 200
expect_body "postino_opens_total 3"
expect_body "postino_clicks_total 4"
expect_body "postino_confirmations_total 2"
expect_body 'postino_http_requests_total{method="GET",route="/l/{token}",status="302"} 4'
expect_body 'postino_http_requests_total{method="GET",route="/o/{token}.gif",status="200"} 4'
expect_body 'postino_http_requests_total{method="GET",route="/c/{token}",status="404"} 6'
expect_no_body "${ANN_A#/l/}"
out=$(cat serve.log) err=""
expect_no_out "${ANN_A#/l/}"
expect_no_out "${ANN_O#/o/}"
expect_no_out "$CTOK"

finish
