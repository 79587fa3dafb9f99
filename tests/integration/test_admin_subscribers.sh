#!/bin/bash
# test_admin_subscribers - the Subscribers screens of the web admin and the
# API under them: the search by a piece of an address or a name (q: exact
# answers, LIKE's wildcards taken as text, too short refused naming q, keyset
# pages), the plan of the search on 200,000 subscribers (the trigram indexes,
# no sequential scan; the API's own statement through auto_explain), PATCH of
# a name and attributes (merged, null removes; the CLI's subscriber set in the
# same words), a subscriber's deliveries, bounces, opens and clicks by pages,
# 401 without a login and the user role let in; then the pages in headless
# Chromium (admin_subscribers.py), with screenshots in build/screens/subscribers-*.png.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/api_lib.sh"
api_setup 18291
SHOTS="$ROOT/build/screens"
BULK=200000

check "setup: a database, an admin and a user with tokens, lists, subscribers"
postino db init
expect_rc 0
api_admin
printf 'user-pass-1\n' > "$WORK/user.pw"
postino_in "$WORK/user.pw" user add user@example.com --role user
expect_rc 0
postino token create --user user@example.com --json
USER=$(jq_get "$out" "j['token']")
postino list create news
postino list create weekly
postino subscriber add ann@example.com --name "Ann Smith" --attr city=Lyon --attr lang=fr --list news --list weekly
expect_rc 0
postino subscriber add bob@example.org --name "Bob Jones" --list news
postino subscriber add deal@example.org --name "100%_off club" --list news
# a name and an attribute that are markup: shown as text everywhere
xss_attr='<img src=x onerror=alert(2)>'
postino subscriber add xss@example.com --name '<script>alert(1)</script>' --attr "note=$xss_attr" --list news
expect_rc 0
# 120 subscribers on weekly only, for paging
psql_q "WITH s AS (INSERT INTO subscribers (email, name)
          SELECT format('pager%s@paging.example', lpad(i::text, 3, '0')), format('Pager %s', i)
          FROM generate_series(1, 120) i RETURNING id)
        INSERT INTO subscriptions (subscriber_id, list_id, status)
          SELECT s.id, (SELECT id FROM lists WHERE name = 'weekly'), 'confirmed' FROM s" >/dev/null
[ "$(psql_q "SELECT count(*) FROM subscriptions sl JOIN lists l ON l.id = sl.list_id WHERE l.name = 'weekly'")" = 121 ] ||
    fail "the paging fixture is not there"
ANN=$(psql_q "SELECT id FROM subscribers WHERE email = 'ann@example.com'")
XSS=$(psql_q "SELECT id FROM subscribers WHERE email = 'xss@example.com'")

check "history fixtures: a campaign whose name is markup, deliveries with SMTP replies, a bounce, an open, a click"
psql_q "INSERT INTO campaigns (name, subject, from_addr, html, status) VALUES
          ('Spring <b>sale</b>', 'Spring', 'shop@example.com', '<p>hi</p>', 'finished'),
          ('Summer news', 'Summer', 'shop@example.com', '<p>hi</p>', 'finished'),
          ('Autumn news', 'Autumn', 'shop@example.com', '<p>hi</p>', 'running')" >/dev/null
C1=$(psql_q "SELECT id FROM campaigns WHERE subject = 'Spring'")
C2=$(psql_q "SELECT id FROM campaigns WHERE subject = 'Summer'")
C3=$(psql_q "SELECT id FROM campaigns WHERE subject = 'Autumn'")
psql_q "INSERT INTO deliveries (campaign_id, subscriber_id, state, attempts, relay, smtp_code, smtp_enhanced, smtp_reply, queue_id, sent_at)
        VALUES ($C1, $ANN, 'sent', 1, 'vps', 250, '2.0.0', 'Ok: queued as 4XyZ1', '4XyZ1', now() - interval '3 days')" >/dev/null
psql_q "INSERT INTO deliveries (campaign_id, subscriber_id, state, attempts, relay, smtp_code, smtp_enhanced, smtp_reply)
        VALUES ($C2, $ANN, 'failed', 1, 'vps', 552, '5.2.2', 'Mailbox full <ann@example.com>')" >/dev/null
psql_q "INSERT INTO deliveries (campaign_id, subscriber_id, state, attempts, relay, smtp_code, smtp_enhanced, smtp_reply)
        VALUES ($C3, $ANN, 'deferred', 2, 'vps', 451, '4.7.1', 'Greylisted, try again later')" >/dev/null
D1=$(psql_q "SELECT id FROM deliveries WHERE campaign_id = $C1")
D2=$(psql_q "SELECT id FROM deliveries WHERE campaign_id = $C2")
D3=$(psql_q "SELECT id FROM deliveries WHERE campaign_id = $C3")
# a soft bounce (one does not disable: the default policy wants three in a row)
psql_q "INSERT INTO bounces (subscriber_id, campaign_id, delivery_id, email, class, source, status, diagnostic, remote_mta)
        VALUES ($ANN, $C2, $D2, 'ann@example.com', 'soft', 'dsn', '5.2.2', 'smtp; 552 5.2.2 <b>Mailbox</b> full', 'mx.example.com')" >/dev/null
psql_q "INSERT INTO opens (delivery_id, campaign_id, n) VALUES ($D1, $C1, 3)" >/dev/null
psql_q "INSERT INTO links (campaign_id, idx, url) VALUES ($C1, 0, 'https://shop.example/<b>deal</b>?a=1&b=2')" >/dev/null
psql_q "INSERT INTO clicks (link_id, delivery_id, campaign_id, n) SELECT id, $D1, $C1, 2 FROM links WHERE campaign_id = $C1" >/dev/null
[ "$(psql_q "SELECT status FROM subscribers WHERE id = $ANN")" = enabled ] || fail "the bounce changed the subscriber"
# 25 deliveries to the markup subscriber: more than a page of its history
psql_q "WITH c AS (INSERT INTO campaigns (name, subject, from_addr, html, status)
          SELECT format('Bulk %s', i), 'Bulk', 'shop@example.com', '<p>hi</p>', 'finished' FROM generate_series(1, 25) i
          RETURNING id)
        INSERT INTO deliveries (campaign_id, subscriber_id, state, attempts, smtp_code, smtp_reply, sent_at)
          SELECT c.id, $XSS, 'sent', 1, 250, 'Ok', now() FROM c ORDER BY c.id" >/dev/null

check "200,000 more subscribers (one INSERT ... SELECT generate_series), analysed; plans logged (auto_explain)"
psql_q "INSERT INTO subscribers (email, name)
        SELECT format('bulk%s@load.example', i), format('Bulk Person %s', i) FROM generate_series(1, $BULK) i" >/dev/null
psql_q "ANALYZE subscribers" >/dev/null
[ "$(psql_q "SELECT count(*) FROM subscribers")" = $((BULK + 124)) ] || fail "the bulk rows are not there"
psql_q "ALTER DATABASE postino SET session_preload_libraries = 'auto_explain'" >/dev/null
psql_q "ALTER DATABASE postino SET auto_explain.log_min_duration = 0" >/dev/null

check "the search's SQL uses the trigram indexes, not a sequential scan (EXPLAIN)"
plan=$(psql_q "EXPLAIN SELECT id FROM subscribers s WHERE s.id > 0
               AND (lower(s.email) LIKE '%smith%' OR lower(s.name) LIKE '%smith%') ORDER BY s.id LIMIT 51")
case "$plan" in *subscribers_email_trgm_idx*) ;; *) fail "the email trigram index is not used: $plan" ;; esac
case "$plan" in *subscribers_name_trgm_idx*) ;; *) fail "the name trigram index is not used: $plan" ;; esac
case "$plan" in *"Seq Scan"*) fail "a sequential scan: $plan" ;; esac

"$BIN" serve --no-send --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
api_wait
PGLOG="$WORK/var/pg/log/postgresql.log"

check "GET /api/v1/subscribers?q=: a piece of the address or the name, any case, exact answers"
req GET "/api/v1/subscribers?q=SMITH"
expect_code 200
expect_json "([s['email'] for s in j['items']], j['next_after'])" "(['ann@example.com'], None)"
req GET "/api/v1/subscribers?q=example.org"
expect_json "[s['email'] for s in j['items']]" "['bob@example.org', 'deal@example.org']"
req GET "/api/v1/subscribers?q=%20%20jones%20"
expect_json "[s['name'] for s in j['items']]" "['Bob Jones']"
req GET "/api/v1/subscribers?q=0%25_"
expect_json "[s['email'] for s in j['items']]" "['deal@example.org']"
req GET "/api/v1/subscribers?q=script"
expect_json "[(s['email'], s['name']) for s in j['items']]" "[('xss@example.com', '<script>alert(1)</script>')]"
req GET "/api/v1/subscribers?q=smith&list=weekly&status=enabled&attr.city=Lyon"
expect_json "[s['email'] for s in j['items']]" "['ann@example.com']"
req GET "/api/v1/subscribers?q=smith&status=blocklisted"
expect_json "j['items']" "[]"

check "the API's own search statement used the trigram indexes (auto_explain)"
# api_plan: the plan auto_explain logged for the API's listing with the search text smith
api_plan() {
    /usr/bin/python3 - "$PGLOG" <<'PY'
import re, sys
for e in re.split(r"LOG:  duration: ", open(sys.argv[1], errors="replace").read()):
    if "Query Text: SELECT json_build_object('id', s.id" in e and "'%smith%'" in e:
        print(e)
        break
PY
}
plan_logged() { [ -n "$(api_plan)" ]; }
wait_for "the plan of the API's search in the server log" 10 plan_logged
plan=$(api_plan)
case "$plan" in *"Bitmap Index Scan on subscribers_email_trgm_idx"*) ;; *) fail "the email trigram index is not used: $plan" ;; esac
case "$plan" in *"Bitmap Index Scan on subscribers_name_trgm_idx"*) ;; *) fail "the name trigram index is not used: $plan" ;; esac
case "$plan" in *"Seq Scan on subscribers"*) fail "the API's search scanned the table: $plan" ;; esac
psql_q "ALTER DATABASE postino RESET session_preload_libraries" >/dev/null

check "q keyset pages by id: 50, 50, 20, then the end"
req GET "/api/v1/subscribers?q=paging.example&limit=50"
expect_json "(len(j['items']), j['items'][0]['email'], j['items'][-1]['email'])" "(50, 'pager001@paging.example', 'pager050@paging.example')"
next=$(jq_get "$body" "j['next_after']")
expect_json "j['next_after'] == j['items'][-1]['id']" True
req GET "/api/v1/subscribers?q=paging.example&limit=50&after=$next"
expect_json "(len(j['items']), j['items'][0]['email'])" "(50, 'pager051@paging.example')"
next=$(jq_get "$body" "j['next_after']")
req GET "/api/v1/subscribers?q=paging.example&limit=50&after=$next"
expect_json "(len(j['items']), j['items'][-1]['email'], j['next_after'])" "(20, 'pager120@paging.example', None)"

check "q: too short, too long, with email: 400 naming q; the CLI says the same"
req GET "/api/v1/subscribers?q=an"
expect_error 400 invalid_field q
expect_json "j['error']['message']" "the search text needs at least 3 characters (a piece of an address or a name)"
req GET "/api/v1/subscribers?q=%20a%20"
expect_error 400 invalid_field q
req GET "/api/v1/subscribers?q=$(printf 'x%.0s' $(seq 201))"
expect_error 400 invalid_field q
req GET "/api/v1/subscribers?q=ann&email=ann@example.com"
expect_error 400 invalid_field q
postino subscriber ls --search an
expect_rc 1
expect_err "the search text needs at least 3 characters (a piece of an address or a name)"
postino subscriber ls --search smith --json
expect_rc 0
[ "$(jq_get "$out" "[s['email'] for s in j]")" = "['ann@example.com']" ] || fail "subscriber ls --search: $out"

check "PATCH /api/v1/subscribers/{id}: the name replaced, attributes merged, null removes"
req PATCH "/api/v1/subscribers/$ANN" '{"name":"Ann B. Smith","attribs":{"plan":"pro","city":null,"score":7}}'
expect_code 200
expect_json "(j['name'], j['attribs'])" "('Ann B. Smith', {'lang': 'fr', 'plan': 'pro', 'score': 7})"
[ "$(psql_q "SELECT name || ' ' || attribs::text FROM subscribers WHERE id = $ANN")" = 'Ann B. Smith {"lang": "fr", "plan": "pro", "score": 7}' ] ||
    fail "the database has $(psql_q "SELECT name || ' ' || attribs::text FROM subscribers WHERE id = $ANN")"
req PATCH "/api/v1/subscribers/ann@example.com" '{"attribs":{"score":null}}'
expect_code 200
expect_json "(j['name'], j['attribs'])" "('Ann B. Smith', {'lang': 'fr', 'plan': 'pro'})"

check "PATCH: bad input answered 400 naming the field; unknown 404; the CLI's set in the same words"
req PATCH "/api/v1/subscribers/$ANN" '{"attribs":{"":"x"}}'
expect_error 400 invalid_field attribs
expect_json "j['error']['message']" "an attribute name is empty"
msg_empty=$(jq_get "$body" "j['error']['message']")
req PATCH "/api/v1/subscribers/$ANN" '{"attribs":{"a\u0007b":"x"}}'
expect_error 400 invalid_field attribs
expect_json "j['error']['message'] == 'the attribute name \"a\\x07b\" holds a control character'" True
req PATCH "/api/v1/subscribers/$ANN" "{\"attribs\":{\"$(printf 'k%.0s' $(seq 201))\":\"x\"}}"
expect_error 400 invalid_field attribs
req PATCH "/api/v1/subscribers/$ANN" '{"attribs":[1]}'
expect_error 400 invalid_field attribs
req PATCH "/api/v1/subscribers/$ANN" '{"name":5}'
expect_error 400 invalid_field name
req PATCH "/api/v1/subscribers/$ANN" "{\"name\":\"$(printf 'n%.0s' $(seq 1001))\"}"
expect_error 400 invalid_field name
req PATCH "/api/v1/subscribers/$ANN" '{"nick":"x"}'
expect_error 400 unknown_field nick
req PATCH "/api/v1/subscribers/$ANN" '{}'
expect_error 400 invalid
req PATCH "/api/v1/subscribers/nobody@example.com" '{"name":"x"}'
expect_error 404 not_found
req POST /api/v1/subscribers '{"email":"new@example.com","attribs":{"":"x"}}'
expect_error 400 invalid_field attribs
[ "$(psql_q "SELECT count(*) FROM subscribers WHERE email = 'new@example.com'")" = 0 ] || fail "made with a bad attribute"
[ "$(psql_q "SELECT attribs::text FROM subscribers WHERE id = $ANN")" = '{"lang": "fr", "plan": "pro"}' ] || fail "a refused PATCH changed something"
postino subscriber set ann@example.com --unset ''
expect_rc 1
expect_err "postino: error: $msg_empty"
postino subscriber set ann@example.com --attr tier=gold --unset lang
expect_rc 0
[ "$(psql_q "SELECT attribs::text FROM subscribers WHERE id = $ANN")" = '{"plan": "pro", "tier": "gold"}' ] || fail "subscriber set: $(psql_q "SELECT attribs::text FROM subscribers WHERE id = $ANN")"

check "GET .../deliveries: newest first, campaign, state, attempts, the SMTP reply, opens and clicks; pages by before"
req GET "/api/v1/subscribers/$ANN/deliveries"
expect_code 200
expect_json "[(d['id'], d['campaign']['name'], d['state'], d['attempts'], d['smtp_code'], d['smtp_enhanced'], d['smtp_reply'], d['opens'], d['clicks']) for d in j['items']]" \
    "[($D3, 'Autumn news', 'deferred', 2, 451, '4.7.1', 'Greylisted, try again later', 0, 0), ($D2, 'Summer news', 'failed', 1, 552, '5.2.2', 'Mailbox full <ann@example.com>', 0, 0), ($D1, 'Spring <b>sale</b>', 'sent', 1, 250, '2.0.0', 'Ok: queued as 4XyZ1', 3, 2)]"
expect_json "(j['next_before'], j['items'][2]['queue_id'], j['items'][2]['sent_at'] is not None)" "(None, '4XyZ1', True)"
req GET "/api/v1/subscribers/ann@example.com/deliveries?limit=2"
expect_json "([d['id'] for d in j['items']], j['next_before'])" "([$D3, $D2], $D2)"
req GET "/api/v1/subscribers/$ANN/deliveries?limit=2&before=$D2"
expect_json "([d['id'] for d in j['items']], j['next_before'])" "([$D1], None)"
req GET "/api/v1/subscribers/bob@example.org/deliveries"
expect_json "j" "{'items': [], 'next_before': None}"
req GET "/api/v1/subscribers/$XSS/deliveries"
expect_json "(len(j['items']), j['items'][0]['campaign']['name'], j['next_before'] == j['items'][-1]['id'])" "(25, 'Bulk 25', False)"

check "GET .../bounces and .../events: exact answers"
req GET "/api/v1/subscribers/$ANN/bounces"
expect_code 200
expect_json "[(b['class'], b['source'], b['status'], b['diagnostic'], b['campaign']['name'], b['delivery_id'], b['remote_mta']) for b in j['items']]" \
    "[('soft', 'dsn', '5.2.2', 'smtp; 552 5.2.2 <b>Mailbox</b> full', 'Summer news', $D2, 'mx.example.com')]"
req GET "/api/v1/subscribers/$ANN/events"
expect_code 200
expect_json "[(x['delivery_id'], x['campaign']['name'], x['open']['n'], [(c['url'], c['n']) for c in x['clicks']]) for x in j['items']]" \
    "[($D1, 'Spring <b>sale</b>', 3, [('https://shop.example/<b>deal</b>?a=1&b=2', 2)])]"
expect_json "j['next_before']" None

check "history: bad input 400 naming the field; unknown subscriber 404"
for p in deliveries bounces events; do
    req GET "/api/v1/subscribers/$ANN/$p?before=abc"
    expect_error 400 invalid_field before
    req GET "/api/v1/subscribers/$ANN/$p?limit=501"
    expect_error 400 invalid_field limit
    req GET "/api/v1/subscribers/$ANN/$p?after=1"
    expect_error 400 unknown_field after
    req GET "/api/v1/subscribers/999999999/$p"
    expect_error 404 not_found
done

check "the CLI's subscriber history shows the same"
postino subscriber history ann@example.com
expect_rc 0
expect_out "Greylisted, try again later"
expect_out "smtp; 552 5.2.2 <b>Mailbox</b> full"
expect_out "https://shop.example/<b>deal</b>?a=1&b=2"
postino subscriber history ann@example.com --deliveries --limit 1 --json
[ "$(jq_get "$out" "([d['id'] for d in j['items']], j['next_before'])")" = "([$D3], $D3)" ] || fail "history --json: $out"

check "no login: 401 on every new route; the user role is let in"
for r in "GET /api/v1/subscribers?q=smith" "PATCH /api/v1/subscribers/$ANN" "GET /api/v1/subscribers/$ANN/deliveries" \
         "GET /api/v1/subscribers/$ANN/bounces" "GET /api/v1/subscribers/$ANN/events"; do
    set -- $r
    if [ "$1" = GET ]; then req GET "$2" "" ""; else req "$1" "$2" '{"name":"x"}' ""; fi
    expect_error 401 unauthorized
done
[ "$(psql_q "SELECT name FROM subscribers WHERE id = $ANN")" = "Ann B. Smith" ] || fail "a PATCH without login changed the name"
req GET "/api/v1/subscribers?q=smith" "" "$USER"
expect_json "[s['email'] for s in j['items']]" "['ann@example.com']"
req PATCH "/api/v1/subscribers/bob@example.org" '{"attribs":{"by":"user"}}' "$USER"
expect_code 200
for p in deliveries bounces events; do
    req GET "/api/v1/subscribers/$ANN/$p" "" "$USER"
    expect_code 200
done

check "the pages in headless Chromium (screenshots build/screens/subscribers-*.png)"
mkdir -p "$SHOTS"
rm -f "$SHOTS"/subscribers-*.png
/usr/bin/python3 "$ROOT/tests/integration/admin_subscribers.py" "$API" "$SHOTS" "$ANN" "$XSS" > browser.log 2>&1 ||
    fail "the browser run failed: $(tail -5 browser.log)"
grep -q '^ok ' browser.log || fail "the browser run reported nothing"
for s in list search-short search list-filter page-2 one edit-error edited unsubscribed one-390 list-390 xss blocklist \
         deleted added consent consent-390 erase-confirm erased; do
    [ -s "$SHOTS/subscribers-$s.png" ] || fail "no screenshot subscribers-$s.png"
done

check "what the browser did is in the database"
[ "$(psql_q "SELECT name || ' ' || attribs::text FROM subscribers WHERE id = $ANN")" = 'Ann Browser {"plan": "enterprise", "source": "admin <b>form</b>"}' ] ||
    fail "after the edit: $(psql_q "SELECT name || ' ' || attribs::text FROM subscribers WHERE id = $ANN")"
[ "$(psql_q "SELECT sl.status FROM subscriptions sl JOIN lists l ON l.id = sl.list_id WHERE sl.subscriber_id = $ANN AND l.name = 'weekly'")" = unsubscribed ] ||
    fail "ann is still subscribed to weekly"
[ "$(psql_q "SELECT sl.status FROM subscriptions sl JOIN lists l ON l.id = sl.list_id WHERE sl.subscriber_id = $ANN AND l.name = 'news'")" = confirmed ] ||
    fail "ann is not back on news"
[ "$(psql_q "SELECT count(*) FROM subscribers WHERE email = 'bob@example.org'")" = 0 ] || fail "bob was not erased"
[ "$(psql_q "SELECT reason FROM suppressions")" = blocklisted ] || fail "bob's address is not suppressed"
[ "$(psql_q "SELECT count(*) FROM subscribers WHERE email = 'deal@example.org'")" = 0 ] || fail "deal@ was not deleted"
[ "$(psql_q "SELECT name FROM subscribers WHERE email = 'carol@example.net'")" = "Carol <i>New</i>" ] || fail "the subscriber added in the browser is not there"

finish
