#!/bin/bash
# test_consent - consent records, export and erasure through the real paths
# (postino serve --no-send, the CLI, the importer): every via recorded by the
# path that makes it (import, api, admin, cli, confirmation, unsubscribe,
# bounce, complaint; a list removed; a change nobody named), consent pages
# and their bad inputs, the export holding every table that refers to
# subscribers or deliveries or has an email/address column, an erasure that
# leaves no copy of the address anywhere and keeps past campaigns' counters,
# and an erased blocklisted address refused by add, the API and the importer.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/api_lib.sh"
api_setup 18410

sub_id() { psql_q "SELECT id FROM subscribers WHERE email = '$1'"; }
list_id() { psql_q "SELECT id FROM lists WHERE name = '$1'"; }
# consent rows of EMAIL (on LIST when given), oldest first: list|from|to|via|actor|ip|ua
consent_of() {
    psql_q "SELECT c.list_name || '|' || coalesce(c.from_status, '-') || '|' || coalesce(c.to_status, '-') || '|'
            || c.via || '|' || c.actor || '|' || c.ip || '|' || c.user_agent
            FROM consent c JOIN subscribers s ON s.id = c.subscriber_id
            WHERE s.email = '$1' AND ('${2-}' = '' OR c.list_name = '${2-}') ORDER BY c.id"
}
expect_consent() {   # expect_consent EMAIL LIST ROWS: the consent rows of EMAIL on LIST are exactly ROWS
    local got
    got=$(consent_of "$1" "$2")
    [ "$got" = "$3" ] || fail "consent of $1 on $2 is '$got', expected '$3'"
}
LOGIN=$(id -un)
UA='ConsentTest/1.0 (+https://example.com)'

check "setup: lists, an admin with a token, serve --no-send"
postino db init
expect_rc 0
postino list create news
postino list create letters --optin double
api_admin
TOKEN_ID=$(psql_q "SELECT max(id) FROM api_tokens")
"$BIN" serve --no-send --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
api_wait
req GET /u/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "" ""   # the token key is made on first use
KEY=$(psql_q "SELECT value FROM settings WHERE key = 'token_key'")
[ ${#KEY} = 64 ] || fail "no token key"

check "cli: subscriber add records via cli, actor cli:LOGIN"
postino subscriber add cli@example.org --list news
expect_rc 0
expect_consent cli@example.org news "news|-|confirmed|cli|cli:$LOGIN||"

check "api: a token's add, subscribe and unsubscribe record via api, actor token:ID"
req POST /api/v1/subscribers '{"email":"api@example.org","lists":["news"]}'
expect_code 201
req POST /api/v1/subscribers/api@example.org/subscriptions '{"list":"letters","status":"confirmed"}'
expect_code 201
req DELETE /api/v1/subscribers/api@example.org/subscriptions/letters
expect_code 200
expect_consent api@example.org news "news|-|confirmed|api|token:$TOKEN_ID||"
expect_consent api@example.org letters "letters|-|confirmed|api|token:$TOKEN_ID||
letters|confirmed|unsubscribed|api|token:$TOKEN_ID||"

check "admin: the web admin's session records via admin, actor user:EMAIL"
code=$(curl -s -o "$WORK/resp" -w '%{http_code}' -c "$WORK/admin.jar" -X POST -H 'Content-Type: application/json' \
    --data-binary '{"email":"admin@example.com","password":"admin-pass-1"}' "$API/api/v1/session")
[ "$code" = 201 ] || fail "login: HTTP $code"
CSRF=$(jq_get "$(cat "$WORK/resp")" "j['csrf']")
code=$(curl -s -o "$WORK/resp" -w '%{http_code}' -b "$WORK/admin.jar" -X POST -H "X-CSRF-Token: $CSRF" \
    -H 'Content-Type: application/json' --data-binary '{"list":"letters"}' \
    "$API/api/v1/subscribers/api@example.org/subscriptions")
[ "$code" = 200 ] || fail "admin subscribe: HTTP $code: $(cat "$WORK/resp")"
expect_consent api@example.org letters "letters|-|confirmed|api|token:$TOKEN_ID||
letters|confirmed|unsubscribed|api|token:$TOKEN_ID||
letters|unsubscribed|unconfirmed|admin|user:admin@example.com||"

check "a change that names nobody is recorded via unknown; a status set to what it was, not at all"
psql_q "UPDATE subscriptions SET status = 'confirmed' WHERE subscriber_id = $(sub_id cli@example.org)" >/dev/null
expect_consent cli@example.org news "news|-|confirmed|cli|cli:$LOGIN||"
psql_q "UPDATE subscriptions SET status = 'unconfirmed' WHERE subscriber_id = $(sub_id cli@example.org)" >/dev/null
expect_consent cli@example.org news "news|-|confirmed|cli|cli:$LOGIN||
news|confirmed|unconfirmed|unknown|||"

check "import: the CLI's and the API's imports record via import with who imported"
printf 'email,name\nimp@example.org,Imp\n' > "$WORK/a.csv"
postino import "$WORK/a.csv" --list news --json
expect_rc 0
expect_consent imp@example.org news "news|-|confirmed|import|cli:$LOGIN||"
printf 'email,name\napimp@example.org,Api Imp\nimp@example.org,Imp\n' > "$WORK/b.csv"
req POST "/api/v1/imports?list=letters&status=confirmed" @"$WORK/b.csv" "$ADMIN" text/csv
[ "$code" = 200 ] || [ "$code" = 201 ] || fail "import: HTTP $code: $body"
expect_consent apimp@example.org letters "letters|-|confirmed|import|token:$TOKEN_ID||"
expect_consent imp@example.org letters "letters|-|confirmed|import|token:$TOKEN_ID||"

check "confirmation: /c/TOKEN records via confirmation with the client's address and User-Agent"
postino subscriber add dbl@example.org --list letters
DBL=$(sub_id dbl@example.org)
code=$(curl -s -o /dev/null -w '%{http_code}' -A "$UA" -X POST -H "Origin: $API" "$API/c/$(mktoken c "$DBL" "$(list_id letters)")")
[ "$code" = 200 ] || fail "confirm: HTTP $code"
expect_consent dbl@example.org letters "letters|-|unconfirmed|cli|cli:$LOGIN||
letters|unconfirmed|confirmed|confirmation|subscriber|127.0.0.1|$UA"

check "unsubscribe: the link's POST and one-click record via unsubscribe"
printf '<p>hi</p>\n' > "$WORK/body.html"
postino campaign create --name "Issue 1" --subject "News" --from "News <news@example.com>" --list news \
    --html "$WORK/body.html" --json
expect_rc 0
CAMP=$(jq_get "$out" "j['id']")
IMP=$(sub_id imp@example.org)
code=$(curl -s -o /dev/null -w '%{http_code}' -A "$UA" -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-binary 'List-Unsubscribe=One-Click' "$API/u/$(mktoken u "$IMP" "$CAMP")")
[ "$code" = 200 ] || fail "one-click: HTTP $code"
expect_consent imp@example.org news "news|-|confirmed|import|cli:$LOGIN||
news|confirmed|unsubscribed|unsubscribe|subscriber|127.0.0.1|$UA"

check "bounce and complaint: the policy's unsubscribes record via bounce / complaint, actor the bounce"
postino subscriber add hard@example.org --list news --list letters --status confirmed
postino subscriber add plaint@example.org --list news
req POST /api/v1/bounces '{"email":"hard@example.org","type":"hard"}'
expect_code 201
B1=$(psql_q "SELECT max(id) FROM bounces")
req POST /api/v1/bounces '{"email":"plaint@example.org","type":"complaint"}'
expect_code 201
B2=$(psql_q "SELECT max(id) FROM bounces")
[ "$(psql_q "SELECT status FROM subscribers WHERE email = 'hard@example.org'")" = blocklisted ] || fail "not blocklisted"
expect_consent hard@example.org letters "letters|-|confirmed|cli|cli:$LOGIN||
letters|confirmed|unsubscribed|bounce|bounce:$B1||"
expect_consent hard@example.org news "news|-|confirmed|cli|cli:$LOGIN||
news|confirmed|unsubscribed|bounce|bounce:$B1||"
expect_consent plaint@example.org news "news|-|confirmed|cli|cli:$LOGIN||
news|confirmed|unsubscribed|complaint|bounce:$B2||"

check "bounce inside a writer's transaction: the writer's settings are back after the policy acted"
got=$(psql_q "BEGIN; SELECT set_config('postino.via', 'system', true);
  INSERT INTO bounces (subscriber_id, email, class, source) SELECT id, email, 'hard', 'api' FROM subscribers
    WHERE email = 'cli@example.org';
  SELECT current_setting('postino.via'); COMMIT;" | tail -1)
[ "$got" = system ] || fail "postino.via is '$got' after the bounce, expected system"

check "list rm: the subscriptions deleted with a list are recorded, named"
postino list create tmp
postino subscriber add tmp@example.org --list tmp --list news
postino list rm tmp
expect_rc 0
expect_consent tmp@example.org tmp "tmp|-|confirmed|cli|cli:$LOGIN||
tmp|confirmed|-|cli|cli:$LOGIN||"

check "GET consent: newest first, keyset pages, 404s, bad inputs"
req GET /api/v1/subscribers/api@example.org/consent
expect_code 200
expect_json "[(i['list'], i['from_status'], i['to_status'], i['via']) for i in j['items']]" \
    "[('letters', 'unsubscribed', 'unconfirmed', 'admin'), ('letters', 'confirmed', 'unsubscribed', 'api'), ('letters', None, 'confirmed', 'api'), ('news', None, 'confirmed', 'api')]"
expect_json "j['next_before']" None
req GET "/api/v1/subscribers/$(sub_id api@example.org)/consent?limit=3"
expect_json "(len(j['items']), j['next_before'] == j['items'][-1]['id'])" "(3, True)"
NEXT=$(jq_get "$body" "j['next_before']")
req GET "/api/v1/subscribers/api@example.org/consent?limit=3&before=$NEXT"
expect_json "([i['list'] for i in j['items']], j['next_before'])" "(['news'], None)"
req GET /api/v1/subscribers/nobody@example.org/consent
expect_error 404 not_found
req GET /api/v1/subscribers/999999/consent
expect_error 404 not_found
req GET "/api/v1/subscribers/api@example.org/consent?limit=0"
expect_error 400 invalid_field limit
req GET "/api/v1/subscribers/api@example.org/consent?before=x"
expect_error 400 invalid_field before
req GET "/api/v1/subscribers/api@example.org/consent?what=1"
expect_code 400
req GET /api/v1/subscribers/api@example.org/consent "" ""
expect_code 401
postino subscriber consent api@example.org
expect_rc 0
expect_out "unconfirmed  admin        user:admin@example.com"
postino subscriber consent api@example.org --limit 1 --json
[ "$(jq_get "$out" "(len(j['items']), j['items'][0]['via'])")" = "(1, 'admin')" ] || fail "cli consent --json: $out"
postino subscriber consent nobody@example.org
expect_rc 1
expect_err "no subscriber nobody@example.org"
postino subscriber consent api@example.org --limit 0
expect_rc 2

check "fixture: a finished campaign with deliveries, an open, a click, bounces; rejects and an unmatched bounce"
postino subscriber add victim@example.org --name Victim --list news --attr city=Roma
VIC=$(sub_id victim@example.org)
psql_q "INSERT INTO campaigns (name, subject, from_addr, html, status, started_at, finished_at, n_total, n_sent)
          VALUES ('Past', 'P', 'news@example.com', 'x', 'finished', now() - interval '1 hour', now(), 2, 2);
  INSERT INTO deliveries (campaign_id, subscriber_id, state, sent_at)
    SELECT c.id, s.id, 'sent', now() FROM campaigns c, subscribers s
    WHERE c.name = 'Past' AND s.email IN ('victim@example.org', 'api@example.org');
  INSERT INTO links (campaign_id, idx, url) SELECT id, 0, 'https://example.com/a' FROM campaigns WHERE name = 'Past';
  INSERT INTO opens (delivery_id, campaign_id, n) SELECT d.id, d.campaign_id, 3 FROM deliveries d WHERE d.subscriber_id = $VIC;
  INSERT INTO clicks (link_id, delivery_id, campaign_id, n)
    SELECT l.id, d.id, d.campaign_id, 2 FROM deliveries d JOIN links l ON l.campaign_id = d.campaign_id
    WHERE d.subscriber_id = $VIC;
  INSERT INTO bounces (subscriber_id, campaign_id, delivery_id, email, class, source, diagnostic)
    SELECT d.subscriber_id, d.campaign_id, d.id, 'Victim@Example.org', 'soft', 'smtp', '452 mailbox full'
    FROM deliveries d WHERE d.subscriber_id = $VIC;
  INSERT INTO bounces_unmatched (reason, envelope_to, sender, original)
    VALUES ('no token', 'bounces@example.com', 'mailer-daemon@example.net', 'Final-Recipient: rfc822; victim@example.org'),
           ('no token', 'bounces@example.com', 'mailer-daemon@example.net', 'Final-Recipient: rfc822; avictim@example.org');
  INSERT INTO import_jobs (state, rejects) VALUES ('done',
    convert_to(E'line,reason,row\n2,bad name,\"victim@example.org,\\x01\"\n3,bad name,\"xvictim@example.org.uk,x\"\n', 'UTF8'))" >/dev/null
[ "$(psql_q "SELECT count(*) FROM opens")" = 1 ] || fail "fixture: no open"
counters() {
    psql_q "SELECT (SELECT string_agg(concat_ws(',', name, n_total, n_sent, n_failed), ';' ORDER BY id) FROM campaigns),
      (SELECT string_agg(concat_ws(',', campaign_id, opens, opens_total, clicks, clicks_total, clickers), ';'
         ORDER BY campaign_id, hour, slot) FROM track_hours),
      (SELECT string_agg(concat_ws(',', link_id, slot, uniq, total), ';' ORDER BY link_id, slot) FROM link_counts),
      (SELECT string_agg(concat_ws(',', campaign_id, class, n), ';' ORDER BY campaign_id, class) FROM campaign_bounce_counts),
      (SELECT string_agg(concat_ws(',', day, campaign_id, sent, bounces, complaints, unsubscribes, subscribers), ';'
         ORDER BY day, campaign_id) FROM daily_counts)"
}
COUNTERS=$(counters)
PAST=$(psql_q "SELECT id FROM campaigns WHERE name = 'Past'")
req GET "/api/v1/campaigns/$PAST/stats"
expect_code 200
STATS=$body
printf '%s' "$COUNTERS" | grep -q ',1,3,1,2,1' || fail "fixture: the open and click are not counted: $COUNTERS"

check "export: one document with every table that holds the subscriber, from the CLI and the API alike"
postino subscriber export victim@example.org
expect_rc 0
EXPORT=$out
[ "$(jq_get "$EXPORT" "(j['email'], sorted(j['tables']))")" = "('victim@example.org', ['bounces', 'bounces_unmatched', 'clicks', 'consent', 'deliveries', 'delivery_mta', 'import_jobs', 'opens', 'subscribers', 'subscriptions', 'webhook_events'])" ] \
    || fail "export tables: $(jq_get "$EXPORT" "sorted(j['tables'])")"
[ "$(jq_get "$EXPORT" "(j['tables']['subscribers'][0]['attribs'], [s['list'] for s in j['tables']['subscriptions']], len(j['tables']['consent']), len(j['tables']['deliveries']), j['tables']['deliveries'][0]['campaign'], j['tables']['opens'][0]['n'], j['tables']['clicks'][0]['url'], j['tables']['bounces'][0]['diagnostic'])")" \
    = "({'city': 'Roma'}, ['news'], 1, 1, 'Past', 3, 'https://example.com/a', '452 mailbox full')" ] || fail "export rows: $EXPORT"
# a longer address that holds this one is someone else's: not exported
[ "$(jq_get "$EXPORT" "([u['original'] for u in j['tables']['bounces_unmatched']], [r[:31] for r in j['tables']['import_jobs'][0]['rejects']])")" \
    = "(['Final-Recipient: rfc822; victim@example.org'], ['2,bad name,\"victim@example.org,'])" ] \
    || fail "export of kept texts: $(jq_get "$EXPORT" "(j['tables']['bounces_unmatched'], j['tables']['import_jobs'])")"
req GET "/api/v1/subscribers/$VIC/export"
expect_code 200
expect_json "(j['email'], sorted(j['tables']) == sorted($(jq_get "$EXPORT" "sorted(j['tables'])")), j['tables']['opens'][0]['n'])" \
    "('victim@example.org', True, 3)"
req GET /api/v1/subscribers/nobody@example.org/export
expect_error 404 not_found
req GET "/api/v1/subscribers/not-an-address/export"
expect_error 404 not_found
req GET "/api/v1/subscribers/$VIC/export?x=1"
expect_code 400
postino subscriber export nobody@example.org
expect_rc 1
expect_err "no subscriber nobody@example.org"

check "the export holds every table that refers to subscribers or deliveries, or has an email/address column"
TABLES=$(psql_q "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint
    WHERE contype = 'f' AND confrelid IN ('subscribers'::regclass, 'deliveries'::regclass)
  UNION SELECT 'subscribers'
  UNION SELECT c.table_name::text FROM information_schema.columns c JOIN information_schema.tables t
    ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
    WHERE c.table_schema = 'public' AND c.column_name IN ('email', 'address')
  ORDER BY 1")
# users and admin_sessions hold the operators' own addresses (of people who log in), not subscribers'
for t in $TABLES; do
    case " users admin_sessions " in *" $t "*) continue ;; esac
    # a table that inherits another (deliveries_archive) is read with it: its parent must be there
    parent=$(psql_q "SELECT inhparent::regclass::text FROM pg_inherits WHERE inhrelid = '$t'::regclass")
    [ -n "$parent" ] && t=$parent
    [ "$(jq_get "$EXPORT" "'$t' in j['tables']")" = True ] || fail "table $t holds subscriber data and is not in the export"
done
# the subscriber's own rows of the texts kept whole: bounces_unmatched and import_jobs' rejects
for t in bounces_unmatched import_jobs; do
    [ "$(jq_get "$EXPORT" "'$t' in j['tables']")" = True ] || fail "$t is not in the export"
done

check "erase: bad inputs and 404s"
req POST /api/v1/subscribers/nobody@example.org/erase
expect_error 404 not_found
req POST /api/v1/subscribers/999999/erase
expect_error 404 not_found
req POST "/api/v1/subscribers/$VIC/erase" '{"force":true}'
expect_code 400
req POST "/api/v1/subscribers/$VIC/erase" "" ""
expect_code 401
postino subscriber erase nobody@example.org
expect_rc 1
expect_err "no subscriber nobody@example.org"
postino subscriber erase
expect_rc 2

check "erase a blocklisted subscriber: every copy of the address gone, a salted hash kept, counters as they were"
postino subscriber blocklist victim@example.org
expect_rc 0
req POST "/api/v1/subscribers/$VIC/erase"
expect_code 200
expect_json "(j['id'], j['suppressed'], j['removed']['subscribers'], j['removed']['deliveries'], j['removed']['opens'], j['removed']['clicks'], j['removed']['bounces'], j['removed']['bounces_unmatched'], j['removed']['import_jobs'])" \
    "($VIC, 'blocklisted', 1, 1, 1, 1, 1, 1, 1)"
left=$(psql_q "DO \$\$ DECLARE r record; n bigint; found text := ''; BEGIN
  FOR r IN SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
    JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
    WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
      AND c.data_type IN ('text', 'jsonb', 'json', 'bytea', 'character varying') LOOP
    EXECUTE format('SELECT count(*) FROM %I WHERE lower(%s) LIKE ''%%victim@example.org%%''', r.table_name,
      CASE WHEN r.data_type = 'bytea' THEN format('encode(%I, ''escape'')', r.column_name)
      ELSE format('%I::text', r.column_name) END) INTO n;
    IF n > 0 THEN found := found || r.table_name || '.' || r.column_name || ' '; END IF;
  END LOOP;
  RAISE NOTICE 'left:%', found; END \$\$;" 2>&1)
# what is left are the other people's rows: the longer addresses holding this one
[ "$left" = "psql:NOTICE:  left:bounces_unmatched.original import_jobs.rejects " ] || \
[ "$(printf '%s' "$left" | sed 's/.*left://')" = "bounces_unmatched.original import_jobs.rejects " ] || fail "left after erase: $left"
[ "$(psql_q "SELECT count(*) FROM bounces_unmatched WHERE original LIKE '%avictim@%'")" = 1 ] || fail "another's unmatched bounce went"
[ "$(psql_q "SELECT convert_from(rejects, 'UTF8') FROM import_jobs WHERE encode(rejects, 'escape') LIKE '%bad name%'")" = 'line,reason,row
3,bad name,"xvictim@example.org.uk,x"' ] || fail "rejects after erase: $(psql_q "SELECT encode(rejects, 'escape') FROM import_jobs")"
[ "$(psql_q "SELECT count(*) FROM suppressions WHERE reason = 'blocklisted' AND hash ~ '^[0-9a-f]{64}\$'")" = 1 ] || fail "no suppression"
[ "$(psql_q "SELECT length(value) FROM settings WHERE key = 'erase_salt'")" = 64 ] || fail "no salt"
[ "$(psql_q "SELECT count(*) FROM suppressions WHERE hash = encode(sha256(convert_to('victim@example.org', 'UTF8')), 'hex')")" = 0 ] \
    || fail "the hash is unsalted"
[ "$(counters)" = "$COUNTERS" ] || fail "counters changed by the erasure: $(counters) (was $COUNTERS)"
req GET "/api/v1/campaigns/$PAST/stats"
expect_code 200
[ "$body" = "$STATS" ] || fail "the campaign's stats changed: $body (were $STATS)"

check "an erased blocklisted address stays suppressed: add, the API and the importer refuse it"
postino subscriber add Victim@example.org --list news
expect_rc 1
expect_err "subscriber Victim@example.org was erased and stays suppressed"
req POST /api/v1/subscribers '{"email":"VICTIM@example.org","lists":["news"]}'
expect_error 409 exists
printf 'email,name\nvictim@example.org,V\nnew1@example.org,N\n' > "$WORK/c.csv"
postino import "$WORK/c.csv" --list news --json
expect_rc 0
[ "$(jq_get "$out" "(j['new_subscribers'], j['skipped'], j['duplicates_in_file'])")" = "(1, 1, 0)" ] || fail "import counts: $out"
[ "$(sub_id victim@example.org)" = "" ] || fail "the importer added the erased address"
req POST "/api/v1/imports?list=news" @"$WORK/c.csv" "$ADMIN" text/csv
[ "$(sub_id victim@example.org)" = "" ] || fail "the API's importer added the erased address"
# an empty subscribers table would be the importer's fast path: suppression holds there too
psql_q "DELETE FROM subscribers" >/dev/null
postino import "$WORK/c.csv" --list news --json
expect_rc 0
[ "$(sub_id victim@example.org)" = "" ] || fail "the importer's fast path added the erased address"
[ "$(sub_id new1@example.org)" != "" ] || fail "the importer dropped a new address"

check "erase a subscriber who may come back: nothing kept; the address can be added again"
postino subscriber add back@example.org --list news
postino subscriber erase back@example.org --json
expect_rc 0
[ "$(jq_get "$out" "(j['suppressed'], j['removed']['subscriptions'], j['removed']['consent'])")" = "(None, 1, 1)" ] || fail "erase: $out"
[ "$(psql_q "SELECT count(*) FROM suppressions")" = 1 ] || fail "a suppression was kept"
postino subscriber add back@example.org --list news
expect_rc 0
psql_q "UPDATE subscriptions SET status = 'unsubscribed' WHERE subscriber_id = $(sub_id back@example.org)" >/dev/null
postino subscriber erase back@example.org
expect_rc 0
expect_out_eq "erased subscriber back@example.org; its address stays suppressed (unsubscribed), kept only as a salted hash"

check "erase subscribers whose deliveries still wait: their campaign counts them cancelled, and finishes"
postino list create waiting
for a in wq wd wk; do postino subscriber add $a@example.org --list waiting --status confirmed; done
postino campaign create --name Waiting --subject "News" --from "News <news@example.com>" --list waiting \
    --html "$WORK/body.html" --json
WAIT=$(jq_get "$out" "j['id']")
postino campaign send "$WAIT"
expect_rc 0
# one delivery deferred and one already sent, as a sender would have left them (counters with them)
psql_q "UPDATE deliveries SET state = 'deferred' WHERE campaign_id = $WAIT AND subscriber_id = $(sub_id wd@example.org);
        UPDATE deliveries SET state = 'sent', sent_at = now() WHERE campaign_id = $WAIT AND subscriber_id = $(sub_id wk@example.org);
        UPDATE campaigns SET n_queued = n_queued - 2, n_deferred = 1, n_sent = 1 WHERE id = $WAIT" >/dev/null
counts() { psql_q "SELECT concat_ws(',', status, n_total, n_queued, n_deferred, n_sent, n_cancelled) FROM campaigns WHERE id = $WAIT"; }
[ "$(counts)" = "running,3,1,1,1,0" ] || fail "before: $(counts)"
postino subscriber erase wq@example.org
expect_rc 0
[ "$(counts)" = "running,3,0,1,1,1" ] || fail "after the queued one's erasure: $(counts) (status,total,queued,deferred,sent,cancelled)"
postino subscriber erase wd@example.org
expect_rc 0
[ "$(counts)" = "running,3,0,0,1,2" ] || fail "after the deferred one's erasure: $(counts)"
postino subscriber erase wk@example.org
expect_rc 0
[ "$(counts)" = "running,3,0,0,1,2" ] || fail "the sent one's erasure changed the counts: $(counts)"
# nothing is left to send: a sender's housekeeping finishes the campaign and --until-done ends
# (a sender needs a relay; this one is never connected to)
postino relay add nowhere --host 127.0.0.1 --port 9 --tls none
expect_rc 0
timeout 120 "$BIN" send --until-done >send.log 2>&1 || fail "send --until-done: $(tail -3 send.log)"
[ "$(counts)" = "finished,3,0,0,1,2" ] || fail "not finished: $(counts)"

finish
