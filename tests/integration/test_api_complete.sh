#!/bin/bash
# test_api_complete - what an application can change and take out through the
# API, each promise exactly: PATCH of a campaign changes only the fields given
# (a started one refuses, 409 naming every field that is in a message, and
# changes nothing), PATCH of a template, DELETE of a campaign only before it
# starts, clone; bulk subscribe / unsubscribe / blocklist / delete of every
# subscriber a filter or segment picks, counted, in one transaction (a failure
# on one row changes nobody), its consent records saying api and the token;
# exports as CSV and JSON streamed, the same bytes as postino export, read back
# by postino import with nothing lost (names in many scripts, attributes,
# quoted commas, quotes and line breaks); retry of failed deliveries (one that
# expired while deferred among them) on the same ledger rows, sent through a
# real Postfix: nobody already sent gets a second message. Every bad input
# gets its status and the field named.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
source "$ROOT/tests/integration/api_lib.sh"
api_setup 18520
MTA_PORT=18521 SINK_PORT_=18522
js() { /usr/bin/python3 -c 'import json,sys; print(json.dumps(eval(sys.argv[1])))' "$1"; }

check "setup: database, an admin's token, lists, subscribers with names in many scripts, the API"
postino db init
expect_rc 0
printf 'admin-pass-1\n' > "$WORK/admin.pw"
postino_in "$WORK/admin.pw" user add admin@example.com --role admin
expect_rc 0
postino token create --user admin@example.com --json
ADMIN=$(jq_get "$out" "j['token']")
TOKEN_ID=$(jq_get "$out" "j['id']")
for l in news other; do postino list create "$l"; expect_rc 0; done
postino list create dbl --optin double
expect_rc 0
add() { postino subscriber add "$@" --list news; expect_rc 0; }
add amal@example.com --name 'أمل, "الأولى"' --attr city=القاهرة --attr 'note=line one
line two'
add wei@example.com --name '王伟' --attr city=北京 --attr 'tags=a,b,"c"'
add olga@example.com --name 'Ольга Петрова' --attr city=Москва
add emoji@example.com --name 'Zoë 😀 Ünïcode'
add plain@example.com --name 'Plain Person' --attr plan=pro
add greek@example.com --name 'Ελένη' --attr plan=pro
"$BIN" serve --listen "127.0.0.1:$PORT" --no-send > "$WORK/serve.log" 2>&1 &
SERVER=$!
api_wait

check "PATCH of a draft campaign: only the fields given change"
req POST /api/v1/campaigns "$(js "{'name': 'Spring', 'subject': 'Hello {{ name }}', 'from': 'News <news@example.com>', 'lists': ['news'], 'html': '<p>Spring</p>', 'reply_to': 'r@example.com', 'track_opens': True}")"
expect_code 201
C=$(jq_get "$body" "j['id']")
req PATCH "/api/v1/campaigns/$C" '{"subject":"Hello again"}'
expect_code 200
expect_json "(j['subject'], j['name'], j['html'], j['from_name'], j['from_addr'], j['reply_to'], j['track_opens'], [l['name'] for l in j['lists']], j['status'])" \
    "('Hello again', 'Spring', '<p>Spring</p>', 'News', 'news@example.com', 'r@example.com', True, ['news'], 'draft')"
req PATCH "/api/v1/campaigns/$C" '{"markdown":"# Title","lists":["news","other"],"reply_to":null,"filter":"attribs.plan = \"pro\""}'
expect_code 200
expect_json "(j['format'], j['markdown'], j['html'].strip(), j['reply_to'], sorted(l['name'] for l in j['lists']), j['filter'], j['subject'])" \
    "('markdown', '# Title', '<h1>Title</h1>', None, ['news', 'other'], 'attribs.plan = \"pro\"', 'Hello again')"
req PATCH "/api/v1/campaigns/$C" '{"from":"\"Dept \\\"Q\\\", Inc.\" <dept@example.com>"}'
expect_code 200
expect_json "(j['from_name'], j['from_addr'])" "('Dept \"Q\", Inc.', 'dept@example.com')"
req PATCH "/api/v1/campaigns/$C" '{"name":"Spring 2"}'   # the From with quotes survives a later change
expect_code 200
expect_json "(j['name'], j['from_name'], j['format'], j['filter'])" "('Spring 2', 'Dept \"Q\", Inc.', 'markdown', 'attribs.plan = \"pro\"')"

check "PATCH of a campaign: each bad input its status and field, nothing changed"
before=$(psql_q "SELECT row_to_json(c)::text FROM campaigns c WHERE id = $C")
req PATCH "/api/v1/campaigns/$C" '{"bogus":1}'
expect_error 400 unknown_field bogus
req PATCH "/api/v1/campaigns/$C" '{}'
expect_error 400 invalid
expect_json "j['error']['message']" "give at least one field to change"
req PATCH "/api/v1/campaigns/$C" '{"from":"not an address"}'
expect_error 400 invalid_field from
req PATCH "/api/v1/campaigns/$C" '{"name":""}'
expect_error 400 invalid_field name
req PATCH "/api/v1/campaigns/$C" '{"subject":"two\nlines"}'
expect_error 400 invalid_field subject
req PATCH "/api/v1/campaigns/$C" '{"lists":null}'
expect_error 400 invalid_field lists
req PATCH "/api/v1/campaigns/$C" '{"html":"<p>x</p>","markdown":"y"}'
expect_error 400 invalid_field markdown
req PATCH "/api/v1/campaigns/$C" '{"html":"{{ if }}"}'
expect_error 400 invalid_template html
req PATCH "/api/v1/campaigns/$C" '{"filter":"attribs.plan =="}'
expect_error 400 invalid_field filter
req PATCH "/api/v1/campaigns/$C" '{"segment":"nope"}'
expect_error 404 not_found
req PATCH "/api/v1/campaigns/$C" '{"template":"nope"}'
expect_error 404 not_found
req PATCH "/api/v1/campaigns/$C" '{"track_opens":"yes"}'
expect_error 400 invalid_field track_opens
req PATCH "/api/v1/campaigns/$C" '{"name":"x"}' ""
expect_error 401 unauthorized
req PATCH "/api/v1/campaigns/$C" '{"name":"x"}' "$ADMIN" text/plain
expect_error 415 unsupported_media_type
[ "$(psql_q "SELECT row_to_json(c)::text FROM campaigns c WHERE id = $C")" = "$before" ] || fail "a refused PATCH changed the campaign"
req PATCH /api/v1/campaigns/99999 '{"name":"x"}'
expect_error 404 not_found
req PATCH /api/v1/campaigns/abc '{"name":"x"}'
expect_error 404 not_found

check "clone: a new draft with the same content and audience, named (copy), whatever the state"
req POST "/api/v1/campaigns/$C/clone" ''
expect_code 201
K=$(jq_get "$body" "j['id']")
expect_json "(j['name'], j['status'], j['subject'], j['markdown'], j['from_name'], sorted(l['name'] for l in j['lists']), j['filter'], j['track_opens'])" \
    "('Spring 2 (copy)', 'draft', 'Hello again', '# Title', 'Dept \"Q\", Inc.', ['news', 'other'], 'attribs.plan = \"pro\"', True)"
[ "$K" != "$C" ] || fail "the clone has the original's id"
long=$(printf 'n%.0s' $(seq 200))
req PATCH "/api/v1/campaigns/$K" "{\"name\":\"$long\"}"
expect_code 200
req POST "/api/v1/campaigns/$K/clone" '{}'
expect_code 201
expect_json "(len(j['name']), j['name'].endswith('n (copy)'))" "(200, True)"
req POST "/api/v1/campaigns/$K/clone" '{"x":1}'
expect_error 400 unknown_field x
req POST /api/v1/campaigns/99999/clone ''
expect_error 404 not_found

check "a started campaign: PATCH of anything in a message is 409 naming every such field, nothing changes; its name may change"
postino campaign send "$C"
expect_rc 0
before=$(psql_q "SELECT row_to_json(c)::text FROM campaigns c WHERE id = $C")
req PATCH "/api/v1/campaigns/$C" '{"subject":"Changed"}'
expect_error 409 conflict subject
expect_json "j['error']['fields']" "['subject']"
expect_json "j['error']['message']" "campaign $C is running: subject cannot change once it has started (only its name can; clone it for a new one)"
req PATCH "/api/v1/campaigns/$C" '{"name":"Renamed","html":"<p>new</p>","lists":["other"],"filter":null,"from":"a@example.com","track_clicks":true}'
expect_error 409 conflict from
expect_json "j['error']['fields']" "['from', 'html', 'lists', 'filter', 'track_clicks']"
[ "$(psql_q "SELECT row_to_json(c)::text FROM campaigns c WHERE id = $C")" = "$before" ] || fail "a refused PATCH changed the running campaign"
req PATCH "/api/v1/campaigns/$C" '{"name":"Renamed"}'
expect_code 200
expect_json "(j['name'], j['status'], j['subject'])" "('Renamed', 'running', 'Hello again')"
req PATCH "/api/v1/campaigns/$C" '{"name":"bad\u0007name"}'
expect_error 400 invalid_field name
postino campaign pause "$C"
req PATCH "/api/v1/campaigns/$C" '{"text":"plain"}'
expect_error 409 conflict text
expect_json "j['error']['message']" "campaign $C is paused: text cannot change once it has started (only its name can; clone it for a new one)"

check "DELETE of a campaign: only a draft or a scheduled one; a started one keeps its ledger (409)"
req DELETE "/api/v1/campaigns/$C"
expect_error 409 conflict
expect_json "j['error']['message']" "cannot remove campaign $C: it is paused (only a draft or a scheduled one; its ledger stays)"
[ "$(psql_q "SELECT count(*) > 0 FROM deliveries WHERE campaign_id = $C")" = t ] || fail "the ledger went"
req POST "/api/v1/campaigns/$K/schedule" '{"send_at":"2099-01-01 00:00 UTC"}'
expect_code 200
req DELETE "/api/v1/campaigns/$K"
expect_code 204
req GET "/api/v1/campaigns/$K"
expect_error 404 not_found
req DELETE "/api/v1/campaigns/$K"
expect_error 404 not_found
[ "$(psql_q "SELECT count(*) FROM campaign_lists WHERE campaign_id = $K")" = 0 ] || fail "the deleted campaign's lists stayed"
postino campaign rm "$C"
expect_rc 1
expect_err "cannot remove campaign $C: it is paused (only a draft or a scheduled one; its ledger stays)"
postino campaign clone "$C"
expect_rc 0
expect_out '"Renamed (copy)": a draft copy of campaign'
K2=$(psql_q "SELECT id FROM campaigns WHERE name = 'Renamed (copy)'")
postino campaign rm "$K2"
expect_rc 0
expect_out_eq "removed campaign $K2"

check "PATCH of a template: the fields given, the whole compiled again"
req POST /api/v1/templates '{"name":"Base","subject":"From the base","html":"<div>{{ content }}</div>","text":"T: {{ content }}"}'
expect_code 201
req PATCH /api/v1/templates/Base '{"name":"Base2"}'
expect_code 200
expect_json "(j['name'], j['subject'], j['html'], j['text'])" "('Base2', 'From the base', '<div>{{ content }}</div>', 'T: {{ content }}')"
req PATCH "/api/v1/templates/Base2" '{"text":null,"html":"<main>{{ content }}</main>"}'
expect_code 200
expect_json "(j['name'], j['subject'], j['html'], j['text'])" "('Base2', 'From the base', '<main>{{ content }}</main>', None)"
req PATCH "/api/v1/templates/Base2" '{"html":"{{ if }}"}'
expect_error 400 invalid_template html
req PATCH "/api/v1/templates/Base2" '{"subject":"a\nb"}'
expect_error 400 invalid_field subject
req PATCH "/api/v1/templates/Base2" '{"name":""}'
expect_error 400 invalid_field name
req PATCH "/api/v1/templates/Base2" '{"zz":1}'
expect_error 400 unknown_field zz
req PATCH "/api/v1/templates/Base2" '{}'
expect_error 400 invalid
req PATCH /api/v1/templates/nope '{"name":"x"}'
expect_error 404 not_found
req POST /api/v1/templates '{"name":"Other","html":"{{ content }}"}'
req PATCH "/api/v1/templates/Base2" '{"name":"Other"}'
expect_error 409 exists
req GET "/api/v1/templates/Base2"
expect_json "j['html']" "<main>{{ content }}</main>"

check "bulk: each bad input its status and field, in the CLI's words"
bulk_err() {   # bulk_err BODY STATUS CODE FIELD MESSAGE
    req POST /api/v1/subscribers/bulk "$1"
    expect_error "$2" "$3" "$4"
    expect_json "j['error']['message']" "$5"
}
bulk_err '{"filter":"email contains \"@\""}' 400 missing_field action 'field "action" is required'
bulk_err '{"action":"frob","filter":"email contains \"@\""}' 400 invalid_field action 'the action is subscribe, unsubscribe, blocklist or delete, not "frob"'
bulk_err '{"action":"subscribe","filter":"email contains \"@\""}' 400 invalid_field list 'subscribe needs the list'
bulk_err '{"action":"delete","list":"news","filter":"email contains \"@\""}' 400 invalid_field list \
    'delete takes no list (pick subscribers of a list with in_list(...) in the filter)'
bulk_err '{"action":"blocklist"}' 400 invalid_field filter 'give a segment or a filter: which subscribers to change'
bulk_err '{"action":"blocklist","filter":"email contains \"@\"","segment":"s"}' 400 invalid_field filter 'give a segment or a filter, not both'
bulk_err '{"action":"subscribe","list":"news","filter":"email contains \"@\"","status":"maybe"}' 400 invalid_field status \
    'the status is confirmed or unconfirmed, not "maybe"'
bulk_err '{"action":"delete","filter":"email contains \"@\"","status":"confirmed"}' 400 invalid_field status 'a status is for subscribe only'
req POST /api/v1/subscribers/bulk '{"action":"delete","filter":"email =="}'
expect_error 400 invalid_field filter
req POST /api/v1/subscribers/bulk '{"action":"subscribe","list":"nope","filter":"email contains \"@\""}'
expect_error 404 not_found
expect_json "j['error']['message']" 'no list "nope"'
req POST /api/v1/subscribers/bulk '{"action":"delete","segment":"nope"}'
expect_error 404 not_found
req POST /api/v1/subscribers/bulk '{"action":"delete","filter":"email contains \"@\"","x":1}'
expect_error 400 unknown_field x
req POST /api/v1/subscribers/bulk '{"action":"delete","filter":"email contains \"@\""}' ""
expect_error 401 unauthorized
postino subscriber bulk delete --list news --filter 'email contains "@"'
expect_rc 1
expect_err 'delete takes no list (pick subscribers of a list with in_list(...) in the filter)'
postino subscriber bulk frob --filter 'email contains "@"'
expect_rc 1
expect_err 'the action is subscribe, unsubscribe, blocklist or delete, not "frob"'
[ "$(psql_q "SELECT count(*) FROM subscribers")" = 6 ] || fail "a refused bulk changed subscribers"

check "bulk subscribe: a dry run counts, the run changes exactly those, consent says api and the token"
req POST /api/v1/subscribers/bulk '{"action":"subscribe","list":"other","filter":"attribs.plan = \"pro\" or name contains \"ольга\"","dry_run":true}'
expect_code 200
expect_json "j" "{'action': 'subscribe', 'list': 'other', 'matched': 3, 'changed': 3, 'dry_run': True}"
[ "$(psql_q "SELECT count(*) FROM subscriptions sl JOIN lists l ON l.id = sl.list_id WHERE l.name = 'other'")" = 0 ] || fail "the dry run subscribed"
req POST /api/v1/subscribers/bulk '{"action":"subscribe","list":"other","filter":"attribs.plan = \"pro\" or name contains \"ольга\""}'
expect_json "(j['matched'], j['changed'], j['dry_run'])" "(3, 3, False)"
[ "$(psql_q "SELECT string_agg(s.email || ':' || sl.status, ' ' ORDER BY s.email) FROM subscriptions sl JOIN lists l ON l.id = sl.list_id JOIN subscribers s ON s.id = sl.subscriber_id WHERE l.name = 'other'")" = \
  "greek@example.com:confirmed olga@example.com:confirmed plain@example.com:confirmed" ] || fail "other's subscriptions"
[ "$(psql_q "SELECT string_agg(DISTINCT c.via || ' ' || c.actor || ' ' || coalesce(c.from_status, '-') || ' ' || c.to_status, ';') FROM consent c WHERE c.list_name = 'other'")" = \
  "api token:$TOKEN_ID - confirmed" ] || fail "consent records: $(psql_q "SELECT via, actor, from_status, to_status FROM consent WHERE list_name = 'other'")"
req POST /api/v1/subscribers/bulk '{"action":"subscribe","list":"other","filter":"attribs.plan = \"pro\" or name contains \"ольга\""}'
expect_json "(j['matched'], j['changed'])" "(3, 0)"
req POST /api/v1/subscribers/bulk '{"action":"subscribe","list":"dbl","filter":"email = \"wei@example.com\""}'
expect_json "(j['matched'], j['changed'])" "(1, 1)"
[ "$(psql_q "SELECT sl.status FROM subscriptions sl JOIN lists l ON l.id = sl.list_id WHERE l.name = 'dbl'")" = unconfirmed ] || fail "double opt-in: not unconfirmed"

check "bulk unsubscribe, by a saved segment; an unsubscribed subscription is not subscribed again"
postino segment add pros --filter 'attribs.plan = "pro"'
expect_rc 0
req POST /api/v1/subscribers/bulk '{"action":"unsubscribe","list":"other","segment":"pros"}'
expect_json "(j['matched'], j['changed'])" "(2, 2)"
req POST /api/v1/subscribers/bulk '{"action":"subscribe","list":"other","segment":"pros"}'
expect_json "(j['matched'], j['changed'])" "(2, 0)"
[ "$(psql_q "SELECT string_agg(s.email || ':' || sl.status, ' ' ORDER BY s.email) FROM subscriptions sl JOIN lists l ON l.id = sl.list_id JOIN subscribers s ON s.id = sl.subscriber_id WHERE l.name = 'other'")" = \
  "greek@example.com:unsubscribed olga@example.com:confirmed plain@example.com:unsubscribed" ] || fail "other's subscriptions after unsubscribe"

check "bulk is one transaction: a failure on one subscriber changes nobody"
psql_q "CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN
          IF NEW.email = 'plain@example.com' AND NEW.status = 'blocklisted' THEN RAISE EXCEPTION 'refused'; END IF;
          RETURN NEW; END \$\$;
        CREATE TRIGGER refuse_one BEFORE UPDATE ON subscribers FOR EACH ROW EXECUTE FUNCTION refuse_one()" >/dev/null
req POST /api/v1/subscribers/bulk '{"action":"blocklist","filter":"email contains \"@\""}'
expect_error 503 unavailable
[ "$(psql_q "SELECT count(*) FROM subscribers WHERE status = 'blocklisted'")" = 0 ] || fail "part of a failed bulk stayed"
psql_q "DROP TRIGGER refuse_one ON subscribers; DROP FUNCTION refuse_one()" >/dev/null
postino subscriber bulk blocklist --filter 'email starts_with "greek"' --json
expect_rc 0
expect_out '"changed": 1'
[ "$(psql_q "SELECT s.status || ' ' || (SELECT string_agg(DISTINCT sl.status, ',') FROM subscriptions sl WHERE sl.subscriber_id = s.id) FROM subscribers s WHERE email = 'greek@example.com'")" = "blocklisted unsubscribed" ] ||
    fail "the blocklisted one"
[ "$(psql_q "SELECT DISTINCT via FROM consent c JOIN subscribers s ON s.id = c.subscriber_id WHERE s.email = 'greek@example.com' AND c.at > now() - interval '1 minute' AND c.list_name = 'news'")" = cli ] ||
    fail "the CLI's consent record"

check "export: CSV streamed over HTTP, the same bytes as postino export"
curl -s -D "$WORK/exp.headers" -o "$WORK/api.csv" -H "Authorization: Bearer $ADMIN" "$API/api/v1/exports?list=news"
postino export --list news --output "$WORK/cli.csv"
expect_rc 0
cmp -s "$WORK/api.csv" "$WORK/cli.csv" || fail "the API's CSV differs from the CLI's"
tr -d '\r' < "$WORK/exp.headers" | grep -qi '^Content-Type: text/csv; charset=utf-8$' || fail "content type: $(cat "$WORK/exp.headers")"
tr -d '\r' < "$WORK/exp.headers" | grep -qi '^Transfer-Encoding: chunked$' || fail "not streamed (chunked): $(cat "$WORK/exp.headers")"
/usr/bin/python3 - "$WORK/api.csv" <<'PY' || fail "the CSV's content"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))
assert rows[0] == ['email', 'name', 'city', 'note', 'plan', 'tags'], rows[0]
got = {r[0]: r[1:] for r in rows[1:]}
assert got['amal@example.com'] == ['أمل, "الأولى"', 'القاهرة', 'line one\nline two', '', ''], got['amal@example.com']
assert got['wei@example.com'] == ['王伟', '北京', '', '', 'a,b,"c"'], got['wei@example.com']
assert got['emoji@example.com'] == ['Zoë 😀 Ünïcode', '', '', '', ''], got['emoji@example.com']
assert 'greek@example.com' not in got, 'an unsubscribed one exported'
assert len(rows) == 6, len(rows)
PY

check "export: JSON, a segment or a filter, each bad argument its status and field"
req GET "/api/v1/exports?list=news&format=json&filter=attribs.city%20exists"
expect_code 200
expect_json "[(s['email'], s['attribs'].get('city'), s['subscription']['status']) for s in j]" \
    "[('amal@example.com', 'القاهرة', 'confirmed'), ('wei@example.com', '北京', 'confirmed'), ('olga@example.com', 'Москва', 'confirmed')]"
req GET "/api/v1/exports?list=other&segment=pros&format=json"
expect_json "j" "[]"
req GET "/api/v1/exports?list=other&format=csv"
[ "$body" = "email,name,city
olga@example.com,Ольга Петрова,Москва" ] || fail "other's CSV: $body"
req GET "/api/v1/exports"
expect_error 400 missing_field list
req GET "/api/v1/exports?list=nope"
expect_error 404 not_found
req GET "/api/v1/exports?list=news&format=xml"
expect_error 400 invalid_field format
req GET "/api/v1/exports?list=news&segment=pros&filter=true"
expect_error 400 invalid_field filter
req GET "/api/v1/exports?list=news&filter=email%20=="
expect_error 400 invalid_field filter
req GET "/api/v1/exports?list=news&segment=nope"
expect_error 404 not_found
req GET "/api/v1/exports?list=news&zz=1"
expect_error 400 unknown_field zz
req GET "/api/v1/exports?list=news" "" ""
expect_error 401 unauthorized
postino export --list news --format xml
expect_rc 1
expect_err 'the format is csv or json, not "xml"'

check "export round trip: what postino import reads back is what was exported, nothing lost"
req POST /api/v1/subscribers/bulk '{"action":"delete","filter":"in_list(\"news\")"}'
expect_json "(j['matched'], j['changed'])" "(5, 5)"
postino import "$WORK/api.csv" --list news --status confirmed
expect_rc 0
expect_out "new subscribers      5"
postino export --list news --output "$WORK/again.csv"
expect_rc 0
cmp -s "$WORK/api.csv" "$WORK/again.csv" || fail "the round trip changed the export: $(diff "$WORK/api.csv" "$WORK/again.csv" | head -5)"
[ "$(psql_q "SELECT name || '|' || (attribs->>'note') FROM subscribers WHERE email = 'amal@example.com'")" = 'أمل, "الأولى"|line one
line two' ] || fail "amal read back: $(psql_q "SELECT name, attribs FROM subscribers WHERE email = 'amal@example.com'")"

check "export of many subscribers: every row once, in order, through many chunks"
psql_q "WITH s AS (INSERT INTO subscribers (email, name, attribs) SELECT 'bulk' || i || '@example.net', 'Bulk, \"' || i || '\"',
          jsonb_build_object('n', i, 'k' || (i % 3), 'v') FROM generate_series(1, 20000) i RETURNING id)
        INSERT INTO subscriptions (subscriber_id, list_id, status) SELECT s.id, l.id, 'confirmed' FROM s, lists l WHERE l.name = 'other'" >/dev/null
curl -s -o "$WORK/many.csv" -H "Authorization: Bearer $ADMIN" "$API/api/v1/exports?list=other"
/usr/bin/python3 - "$WORK/many.csv" <<'PY' || fail "the large CSV"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))
assert rows[0] == ['email', 'name', 'k0', 'k1', 'k2', 'n'], rows[0]   # olga left with the round trip
bulk = [r for r in rows[1:] if r[0].startswith('bulk')]
assert [r[0] for r in bulk] == ['bulk%d@example.net' % i for i in range(1, 20001)], 'order or count'
assert bulk[41] == ['bulk42@example.net', 'Bulk, "42"', 'v', '', '', '42'], bulk[41]
assert len(rows) == 20001, len(rows)
PY
# a client that goes away half way: the export's query is cancelled and its connection closed
first=$(curl -s -N -H "Authorization: Bearer $ADMIN" "$API/api/v1/exports?list=other&format=json" | head -c 200)
case "$first" in "["*bulk1@example.net*) ;; *) fail "the start of the export: $first" ;; esac
export_gone() { [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%json_build_object(''id'', s.id%' AND pid <> pg_backend_pid()")" = 0 ]; }
wait_for "the abandoned export's connection to close" 30 export_gone
req GET /healthz "" ""
expect_code 200
curl -s -o "$WORK/many.json" -H "Authorization: Bearer $ADMIN" "$API/api/v1/exports?list=other&format=json"
[ "$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/many.json")" = 20000 ] ||
    fail "the large JSON export"

check "retry: failed deliveries (one expired while deferred) queued again on the same rows; nobody sent gets a second message"
mta_start "$MTA_PORT" "$SINK_PORT_"
relay_setup
psql_q "INSERT INTO lists (name) VALUES ('rt');
  INSERT INTO subscribers (email, name) SELECT 'r' || i || '@example.org', 'R' || i FROM generate_series(1, 4) i;
  INSERT INTO subscriptions (subscriber_id, list_id, status) SELECT s.id, l.id, 'confirmed' FROM subscribers s, lists l
    WHERE s.email LIKE 'r_@example.org' AND l.name = 'rt';
  INSERT INTO campaigns (name, subject, from_addr, html, status, started_at, finished_at)
    VALUES ('Retried', 'R', 'news@example.com', '<p>r</p>', 'finished', now() - interval '3 days', now());
  INSERT INTO campaign_lists SELECT c.id, l.id FROM campaigns c, lists l WHERE c.name = 'Retried' AND l.name = 'rt';
  INSERT INTO deliveries (campaign_id, subscriber_id, list_id, state, attempts, smtp_code, smtp_enhanced, smtp_reply, queue_id, sent_at)
    SELECT c.id, s.id, l.id, x.state, x.att, x.code, x.enh, x.reply, x.qid, CASE WHEN x.state = 'sent' THEN now() - interval '2 days' END
    FROM (VALUES (1, 'r1', 'sent', 1, 250, '2.0.0', 'Ok: queued', 'Q1'),
                 (2, 'r2', 'failed', 9, 451, '4.3.0', 'deferred too long: try again later', NULL),
                 (3, 'r3', 'failed', 1, 552, '5.2.2', 'mailbox full', NULL),
                 (4, 'r4', 'failed', 1, 250, '2.0.0', 'Ok: queued', 'Q4'))
         AS x(n, sub, state, att, code, enh, reply, qid)
    JOIN campaigns c ON c.name = 'Retried' JOIN subscribers s ON s.email = x.sub || '@example.org'
    JOIN lists l ON l.name = 'rt' ORDER BY x.n;
  UPDATE campaigns c SET n_total = 4, n_sent = 1, n_failed = 3 WHERE c.name = 'Retried'" >/dev/null
R=$(psql_q "SELECT id FROM campaigns WHERE name = 'Retried'")
ledger() { psql_q "SELECT string_agg(s.email || ':' || d.id || ':' || d.state, ' ' ORDER BY d.id) FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.campaign_id = $R"; }
before=$(ledger)
req POST "/api/v1/campaigns/$R/retry" '{"dry_run":true}'
expect_code 200
expect_json "(j['dry_run'], j['requeued'], j['retryable'], j['failed'], j['not_retried']['accepted'])" "(True, 0, 2, 3, 1)"
[ "$(ledger)" = "$before" ] || fail "the dry run changed the ledger"
req POST "/api/v1/campaigns/$R/retry" '{}'
expect_json "(j['requeued'], j['status'])" "(2, 'running')"
[ "$(ledger)" = "$(printf '%s' "$before" | sed -e 's/\(r2@example.org:[0-9]*:\)failed/\1queued/' -e 's/\(r3@example.org:[0-9]*:\)failed/\1queued/')" ] ||
    fail "the ledger after the retry: $(ledger)"
req POST "/api/v1/campaigns/$R/retry" '{"classes":["nope"]}'
expect_error 400 invalid_field classes
"$BIN" send --until-done > "$WORK/send.log" 2>&1 || fail "the sender: $(tail -3 "$WORK/send.log")"
mta_drain
[ "$(ledger)" = "$(printf '%s' "$before" | sed -e 's/\(r[23]@example.org:[0-9]*:\)failed/\1sent/g')" ] || fail "the ledger after sending: $(ledger)"
[ "$(sink_rcpts | paste -sd' ')" = "r2@example.org r3@example.org" ] || fail "the sink got: $(sink_rcpts | paste -sd' ')"
counters_match_ledger "$R"

api_stop
finish
