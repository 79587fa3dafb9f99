#!/bin/bash
# test_admin_report - the web admin's Dashboard, Reports and Bounces, and
# what they read: the dashboard's days and warnings (no relay, a relay that
# fails, no DKIM key for a From domain, a complaint rate over 0.1%), a
# campaign's report, a retry of its failed deliveries (on the same ledger
# rows: what was sent, accepted once, or is suppressed is never touched; the
# SQL checked row by row), bounces in pages with their raw report. Then a
# campaign sent for real through Postfix to smtp-sink while Postfix refuses
# some recipients: the report in headless Chromium shows them live with
# Postfix's replies, reaches "finished", and its Retry button sends the
# refused ones again once Postfix takes them; the sink got one message per
# recipient. Screenshots in build/screens/report-*.png.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/api_lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
api_setup 18293
SHOTS="$ROOT/build/screens"
MTA_PORT=18294 SINK_PORT_=18295 DEAD_PORT=18296
export POSTINO_HTTP_PUBLIC_URL="$API"
PY=/usr/bin/python3
TODAY=$(date -u +%F)
browser() {   # browser PHASE ARGS...: one phase of admin_report.py, its output in browser-PHASE.log
    local phase=$1
    shift
    /usr/bin/python3 "$ROOT/tests/integration/admin_report.py" "$API" "$SHOTS" "$phase" "$@" > "browser-$phase.log" 2>&1 ||
        fail "the browser's $phase phase failed: $(tail -5 "browser-$phase.log")"
    grep -q '^ok ' "browser-$phase.log" || fail "the browser's $phase phase reported nothing"
}
dash() { req GET /api/v1/dashboard; }
warning_codes() { jq_get "$body" "[w['code'] for w in j['warnings']]"; }
has_warning() { dash; [ "$code" = 200 ] && warning_codes | grep -q "'$1'"; }
state_of() {   # state_of CAMPAIGN EMAIL: the delivery's id:state:attempts
    psql_q "SELECT d.id || ':' || d.state || ':' || d.attempts FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
            WHERE d.campaign_id = $1 AND s.email = '$2'"
}
counters_are() { [ "$(psql_q "SELECT n_sent || '/' || n_failed || '/' || n_deferred || '/' || n_queued || ' ' || status FROM campaigns WHERE id = $1")" = "$2" ]; }

check "setup: a database, an admin, subscribers (one named with markup), a DKIM key for example.com, serve with its sender"
postino db init
expect_rc 0
api_admin
postino list create news
postino dkim add example.com --selector r1
expect_rc 0
{ echo 'email,name,note'; for i in $(seq 1 9); do echo "user$i@example.org,User $i,"; done
  echo 'xss@example.org,<script>alert(1)</script>,<img src=x onerror=alert(2)>'; } > people.csv
postino import people.csv --list news --status confirmed
expect_rc 0
postino subscriber add user10@example.org --name 'User 10' --list news
expect_rc 0
"$BIN" serve --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
api_wait

check "the dashboard of a new installation: thirty days ending today, the new subscribers counted, no relay"
dash
expect_code 200
expect_json "(len(j['days']), j['days'][-1]['day'], j['days'][0]['day'] < j['days'][-1]['day'])" "(30, '$TODAY', True)"
expect_json "j['totals']" "{'sent': 0, 'bounces': 0, 'complaints': 0, 'unsubscribes': 0, 'subscribers': 11, 'complaint_rate': None}"
expect_json "(j['campaigns'], j['relays'], [w['code'] for w in j['warnings']])" "([], 0, ['no_relay'])"
expect_json "j['warnings'][0]['message']" "no relay is configured: nothing can be sent until one is added"
for p in /api/v1/dashboard /api/v1/campaigns/1/report /api/v1/campaigns/1/domains /api/v1/bounce-rules /api/v1/bounce-policy; do
    req GET "$p" "" ""
    expect_error 401 unauthorized
done
req POST /api/v1/campaigns/1/retry '{}' ""
expect_error 401 unauthorized

check "bounce rules and policy read as postino bounce rules and policy show them"
req GET /api/v1/bounce-rules
expect_code 200
expect_json "[(r['position'], r['class']) for r in j['items']]" "[(10, 'soft'), (20, 'policy'), (30, 'policy'), (40, 'hard'), (50, 'policy'), (60, 'hard'), (70, 'soft')]"
req GET /api/v1/bounce-policy
expect_json "[(p['class'], p['threshold'], p['consecutive'], p['action']) for p in j['items']]" \
    "[('hard', 1, False, 'blocklist'), ('soft', 3, True, 'disable'), ('complaint', 1, False, 'blocklist'), ('policy', 1, False, 'none'), ('unknown', 1, False, 'none')]"

check "retry at the SQL level: the safe failures go back to queued on the same rows; sent, accepted, suppressed and hard ones stay"
# campaign F (finished): f1 sent; f2 failed soft; f3 failed policy; f4 failed hard (its subscriber
# enabled again); f5 failed soft, unsubscribed since; f6 failed although a relay took it (250, queue id);
# f7 queued; f8 deferred
psql_q "INSERT INTO lists (name) VALUES ('fixture');
  INSERT INTO subscribers (email, name) SELECT 'f' || i || '@fixture.example', 'F' || i FROM generate_series(1, 8) i;
  INSERT INTO subscriptions (subscriber_id, list_id, status) SELECT s.id, l.id, 'confirmed' FROM subscribers s, lists l
    WHERE s.email LIKE '%@fixture.example' AND l.name = 'fixture';
  INSERT INTO campaigns (name, subject, from_addr, html, status, started_at, finished_at)
    VALUES ('Fixture', 'F', 'news@example.com', 'x', 'finished', now() - interval '1 hour', now());
  INSERT INTO campaign_lists SELECT c.id, l.id FROM campaigns c, lists l WHERE c.name = 'Fixture' AND l.name = 'fixture';
  INSERT INTO deliveries (campaign_id, subscriber_id, list_id, state, attempts, smtp_code, smtp_enhanced, smtp_reply, queue_id, sent_at, updated_at)
    SELECT c.id, s.id, l.id, x.state, x.att, x.code, x.enh, x.reply, x.qid, CASE WHEN x.state = 'sent' THEN now() - interval '50 minutes' END,
           now() - interval '40 minutes'
    FROM (VALUES (1, 'f1', 'sent', 1, 250, '2.0.0', 'Ok: queued', 'Q1'), (2, 'f2', 'failed', 1, 552, '5.2.2', 'mailbox full', NULL),
                 (3, 'f3', 'failed', 1, 550, '5.7.1', 'refused by policy', NULL), (4, 'f4', 'failed', 1, 550, '5.1.1', 'no such user', NULL),
                 (5, 'f5', 'failed', 1, 552, '5.2.2', 'mailbox full', NULL), (6, 'f6', 'failed', 2, 250, '2.0.0', 'Ok: queued', 'Q6'),
                 (7, 'f7', 'queued', 0, NULL, NULL, NULL, NULL), (8, 'f8', 'deferred', 1, 451, '4.3.0', 'try later', NULL))
         AS x(n, sub, state, att, code, enh, reply, qid)
    JOIN campaigns c ON c.name = 'Fixture' JOIN subscribers s ON s.email = x.sub || '@fixture.example'
    JOIN lists l ON l.name = 'fixture' ORDER BY x.n;
  INSERT INTO bounces (subscriber_id, campaign_id, delivery_id, email, class, source, status, diagnostic)
    SELECT d.subscriber_id, d.campaign_id, d.id, s.email, x.cls, 'smtp', d.smtp_enhanced, d.smtp_code || ' ' || d.smtp_reply
    FROM (VALUES ('f2', 'soft'), ('f3', 'policy'), ('f4', 'hard'), ('f5', 'soft'), ('f6', 'soft')) AS x(sub, cls)
    JOIN subscribers s ON s.email = x.sub || '@fixture.example' JOIN deliveries d ON d.subscriber_id = s.id ORDER BY x.sub;
  UPDATE subscribers SET status = 'enabled' WHERE email = 'f4@fixture.example';
  UPDATE subscriptions SET status = 'confirmed' WHERE subscriber_id = (SELECT id FROM subscribers WHERE email = 'f4@fixture.example');
  UPDATE subscriptions SET status = 'unsubscribed' WHERE subscriber_id = (SELECT id FROM subscribers WHERE email = 'f5@fixture.example');
  UPDATE campaigns c SET n_total = x.t, n_sent = x.s, n_failed = x.f, n_queued = x.q, n_deferred = x.df
    FROM (SELECT campaign_id, count(*) t, count(*) FILTER (WHERE state = 'sent') s, count(*) FILTER (WHERE state = 'failed') f,
      count(*) FILTER (WHERE state = 'queued') q, count(*) FILTER (WHERE state = 'deferred') df FROM deliveries GROUP BY 1) x
    WHERE x.campaign_id = c.id AND c.name = 'Fixture'" >/dev/null
F=$(psql_q "SELECT id FROM campaigns WHERE name = 'Fixture'")
rows() {   # every delivery of F: email|id|state|attempts|updated_at|reply|requeued, by id
    psql_q "SELECT s.email || '|' || d.id || '|' || d.state || '|' || d.attempts || '|' || extract(epoch FROM d.updated_at)
            || '|' || coalesce(d.smtp_reply, '-') || '|' || (d.requeued_at IS NOT NULL)
            FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.campaign_id = $F ORDER BY d.id"
}
row() { rows | grep "^$1@"; }
before=$(rows)
was() { printf '%s\n' "$before" | grep "^$1@"; }
req POST "/api/v1/campaigns/$F/retry" '{"dry_run":true}'
expect_code 200
expect_json "(j['campaign'], j['status'], j['dry_run'], j['requeued'], j['retryable'], j['failed'])" "($F, 'finished', True, 0, 2, 5)"
expect_json "(j['by_class'], j['not_retried'], j['classes'])" \
    "({'hard': 1, 'policy': 1, 'soft': 3}, {'accepted': 1, 'suppressed': 1, 'class': 1}, ['soft', 'policy', 'unknown'])"
[ "$(rows)" = "$before" ] || fail "a dry run changed rows: $(rows)"
postino campaign retry "$F"
expect_rc 0
expect_out_eq "campaign $F is running: 2 failed deliveries queued again
  not retried: 1 accepted by a relay once
  not retried: 1 whose recipient no longer counts (blocklisted, disabled or unsubscribed)
  not retried: 1 of a class not asked for (asked: soft policy unknown)"
for f in f1 f4 f5 f6 f7 f8; do   # every row but the two retried is exactly as it was
    [ "$(was "$f")" = "$(row "$f")" ] || fail "$f changed: $(was "$f") -> $(row "$f")"
done
for f in f2 f3; do   # the same row (id), queued, its attempts and last reply kept, requeued_at set
    [ "$(row "$f" | cut -d'|' -f1,2,4,6)" = "$(was "$f" | cut -d'|' -f1,2,4,6)" ] || fail "$f: $(was "$f") -> $(row "$f")"
    [ "$(row "$f" | cut -d'|' -f3,7)" = "queued|true" ] || fail "$f not queued again: $(row "$f")"
done
[ "$(psql_q "SELECT status || ' ' || (finished_at IS NULL) || ' ' || n_failed || ' ' || n_queued || ' ' || n_sent FROM campaigns WHERE id = $F")" = "running true 3 3 1" ] ||
    fail "campaign after retry: $(psql_q "SELECT status, finished_at, n_failed, n_queued, n_sent FROM campaigns WHERE id = $F")"
counters_match_ledger "$F"
req POST "/api/v1/campaigns/$F/retry" '{"classes":["hard"]}'
expect_json "(j['requeued'], j['retryable'], j['failed'], j['status'], j['not_retried'])" "(1, 1, 3, 'running', {'accepted': 1, 'suppressed': 1, 'class': 0})"
[ "$(row f4 | cut -d'|' -f2,3)" = "$(was f4 | cut -d'|' -f2)|queued" ] || fail "f4 not queued when hard was asked: $(row f4)"
req POST "/api/v1/campaigns/$F/retry" ''
expect_json "(j['requeued'], j['failed'], j['status'])" "(0, 2, 'running')"
[ "$(row f1)" = "$(was f1)" ] || fail "the sent row was touched: $(row f1)"
counters_match_ledger "$F"

check "retry refuses bad input naming the field, unknown and unstarted campaigns, transactional ones"
req POST "/api/v1/campaigns/$F/retry" '{"classes":["complaint"]}'
expect_error 400 invalid_field classes
expect_json "j['error']['message']" 'a class to retry is hard, soft, policy or unknown, not "complaint"'
req POST "/api/v1/campaigns/$F/retry" '{"classes":"soft"}'
expect_error 400 invalid_field classes
req POST "/api/v1/campaigns/$F/retry" '{"classes":["soft","policy","unknown","hard","soft"]}'
expect_error 400 invalid_field classes
req POST "/api/v1/campaigns/$F/retry" '{"dry_run":"yes"}'
expect_error 400 invalid_field dry_run
req POST "/api/v1/campaigns/$F/retry" '{"everything":true}'
expect_error 400 unknown_field everything
req POST /api/v1/campaigns/999999/retry '{}'
expect_error 404 not_found
req POST /api/v1/campaigns/abc/retry '{}'
expect_error 404 not_found
postino campaign retry "$F" --class bounce
expect_rc 1
expect_err 'a class to retry is hard, soft, policy or unknown, not "bounce"'
psql_q "INSERT INTO campaigns (name, subject, from_addr, html, status, kind) VALUES ('tx', 'T', 'a@example.com', 'x', 'running', 'tx'),
        ('Draft', 'D', 'a@example.com', 'x', 'draft', 'campaign')" >/dev/null
req POST "/api/v1/campaigns/$(psql_q "SELECT id FROM campaigns WHERE name = 'tx'")/retry" '{}'
expect_error 400 invalid
expect_json "'transactional' in j['error']['message']" True
D=$(psql_q "SELECT id FROM campaigns WHERE name = 'Draft'")
req POST "/api/v1/campaigns/$D/retry" '{}'
expect_error 400 invalid
expect_json "j['error']['message']" "cannot retry campaign $D: it is draft"
req POST "/api/v1/campaigns/$F/cancel" '{}'
expect_code 200
req POST "/api/v1/campaigns/$F/retry" '{}'
expect_json "j['error']['message']" "cannot retry campaign $F: it is cancelled"

check "report and domains: a campaign's own rows; unknown campaigns 404"
req GET "/api/v1/campaigns/$F/report"
expect_code 200
expect_json "(j['id'], j['status'], j['unsubscribes'], j['timeline']['bucket'], len(j['timeline']['points']) >= 1)" "($F, 'cancelled', 0, 'hour', True)"
expect_json "[(p['opens'], p['clicks']) for p in j['timeline']['points'] if p['opens'] or p['clicks']]" "[]"
req GET "/api/v1/campaigns/$F/domains"
expect_json "(j['domains'], j['other_domains'])" \
    "([{'domain': 'fixture.example', 'total': 8, 'sent': 1, 'queued': 0, 'deferred': 0, 'failed': 2, 'skipped': 0, 'cancelled': 5}], None)"
req GET "/api/v1/campaigns/$D/report"
expect_json "(j['status'], j['timeline'])" "('draft', {'bucket': 'hour', 'points': []})"
for p in report domains; do
    req GET "/api/v1/campaigns/999999/$p"
    expect_error 404 not_found
    req GET "/api/v1/campaigns/x1/$p"
    expect_error 404 not_found
done
req GET "/api/v1/campaigns/$F/deliveries?state=failed"
expect_json "[(i['email'], i['state'], i['smtp_code'], i['bounce_class']) for i in j['items']]" \
    "[('f5@fixture.example', 'failed', 552, 'soft'), ('f6@fixture.example', 'failed', 250, 'soft')]"

check "the dashboard repeats what a sender says when it waits on a relay that fails, not when it paces"
# two live senders elsewhere hold their locks, as running senders do (a listed sender whose lock is
# free is gone: the running ones take it off the table)
/usr/lib/postgresql/*/bin/psql -X -q -h "$WORK/var/pg/run" -U postino -d postino -c \
    "SELECT pg_advisory_lock(1886351215, sender_lock_key('mx1:1')), pg_advisory_lock(1886351215, sender_lock_key('mx2:2')),
            pg_sleep(600)" > /dev/null 2>&1 &
HOLDER=$!
held() {
    [ "$(psql_q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 1886351215
                 AND objid IN ((sender_lock_key('mx1:1')::bigint & 4294967295)::oid,
                               (sender_lock_key('mx2:2')::bigint & 4294967295)::oid)")" = 2 ]
}
wait_for "the two senders' locks" 30 held
psql_q "INSERT INTO senders (name, host, pid, status) VALUES
        ('mx1:1', 'mx1', 1, 'waiting: relay far: auth failed (535 5.7.8 Error: authentication failed)'),
        ('mx2:2', 'mx2', 2, 'waiting: relay near paces sending (rate 1/s)'),
        ('mx3:3', 'mx3', 3, 'waiting: relay gone: connect unreachable (connection refused)')" >/dev/null
psql_q "UPDATE senders SET seen_at = now() - interval '2 minutes' WHERE name = 'mx3:3'" >/dev/null
dash
expect_json "[w['message'] for w in j['warnings'] if w['code'] == 'sender']" \
    "['sender mx1:1 is waiting: relay far: auth failed (535 5.7.8 Error: authentication failed)']"
expect_json "[s['name'] for s in j['senders'] if s['name'].startswith('mx')]" "['mx1:1', 'mx2:2']"
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
psql_q "DELETE FROM senders WHERE name LIKE 'mx_:_'" >/dev/null

check "the dashboard warns of a relay that does not answer and of a From domain without a DKIM key"
printf '<p>Hello {{ name }}.</p><p><a href="https://example.com/offer">Offer</a></p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>' > body.html
postino campaign create --name 'Spring <b>sale</b>' --subject 'Spring' --from 'News <news@example.com>' --list news \
    --html body.html --track-opens --track-clicks --json
expect_rc 0
C=$(jq_get "$out" "j['id']")
postino campaign create --name 'Later' --subject 'Later' --from 'news@nodkim.example' --list news --html body.html --json
L=$(jq_get "$out" "j['id']")
postino campaign schedule "$L" --at "$(date -u -d '+30 days' '+%F 09:00 UTC')"
expect_rc 0
req POST /api/v1/relays "{\"name\":\"local\",\"host\":\"127.0.0.1\",\"port\":$DEAD_PORT,\"tls\":\"none\"}"
expect_code 201
req POST "/api/v1/campaigns/$C/send" '{}'
expect_code 200
wait_for "the ledger to say the relay did not answer" 30 has_warning relay
expect_json "[w['message'] for w in j['warnings'] if w['code'] == 'relay']" \
    "['relay local did not answer (cannot connect to 127.0.0.1:$DEAD_PORT: connection refused): deliveries wait to be tried again']"
expect_json "[w for w in j['warnings'] if w['code'] == 'no_dkim']" \
    "[{'code': 'no_dkim', 'message': 'no DKIM key for nodkim.example: the messages of \"Later\" go out unsigned', 'campaign': $L, 'domain': 'nodkim.example'}]"
expect_json "[(c['id'], c['status'], c['total'], c['sent']) for c in j['campaigns']]" "[($C, 'running', 11, 0), ($L, 'scheduled', 0, 0)]"
mkdir -p "$SHOTS"
browser dashboard-warn "$C" "$L" "$DEAD_PORT"

check "Postfix refuses some recipients: the report shows them live with Postfix's replies"
mta_start "$MTA_PORT" "$SINK_PORT_"
printf 'user2@example.org 451 4.3.0 try again later\nuser3@example.org 550 5.7.1 refused by local policy\nxss@example.org 550 5.7.1 refused by local policy\nuser5@example.org 550 5.1.1 no such user\n' > "$MTA/rcpt_access"
postmap "$MTA/rcpt_access"
mta_conf "smtpd_recipient_restrictions=check_recipient_access hash:$MTA/rcpt_access, permit_sasl_authenticated, reject"
req DELETE /api/v1/relays/local
expect_code 204
req POST /api/v1/relays "{\"name\":\"local\",\"host\":\"127.0.0.1\",\"port\":$MTA_PORT,\"tls_verify\":false,\"username\":\"test\",\"password\":\"secret\",\"max_per_conn\":50}"
expect_code 201
wait_for "7 sent, 3 failed, 1 deferred" 60 counters_are "$C" "7/3/1/0 running"
browser live "$C"

check "the deferral lifted: the campaign finishes, its failures listed with their replies; Retry sends them once Postfix takes them"
: > "$MTA/rcpt_access"
postmap "$MTA/rcpt_access"
mta_stop   # smtpd processes keep their maps for the life of a connection
mta_start "$MTA_PORT" "$SINK_PORT_"
wait_for "the campaign to finish" 60 counters_are "$C" "8/3/0/0 finished"
ids_before="$(state_of "$C" user3@example.org) $(state_of "$C" xss@example.org) $(state_of "$C" user5@example.org)"
printf '%s\n' "$ids_before" | grep -Eq '^[0-9]+:failed:[0-9]+ [0-9]+:failed:[0-9]+ [0-9]+:failed:[0-9]+$' || fail "the refused ones: $ids_before"
[ "$(psql_q "SELECT status FROM subscribers WHERE email = 'user5@example.org'")" = blocklisted ] || fail "the hard bounce did not blocklist"
browser finished "$C"
wait_for "the retried ones to be sent" 60 counters_are "$C" "10/1/0/0 finished"
mta_drain
ids_after="$(state_of "$C" user3@example.org) $(state_of "$C" xss@example.org) $(state_of "$C" user5@example.org)"
expected=$(printf '%s\n' $ids_before | awk -F: 'NR < 3 { print $1 ":sent:" $3 + 1 } NR == 3 { print $0 }' | paste -sd' ')
[ "$ids_after" = "$expected" ] || fail "after the retry: $ids_after, expected $expected (same rows)"
[ "$(sink_rcpts | uniq -d | wc -l)" = 0 ] || fail "some recipients got two messages: $(sink_rcpts | uniq -d)"
[ "$(sink_rcpts | paste -sd' ')" = "$(printf '%s\n' user1 user10 user2 user3 user4 user6 user7 user8 user9 xss | sed 's/$/@example.org/' | sort | paste -sd' ')" ] ||
    fail "the sink's recipients: $(sink_rcpts | paste -sd' ')"
counters_match_ledger "$C"

check "opens, clicks and an unsubscribe through the message's links count in the report and the dashboard"
msg=$(grep -l '^X-Rcpt-Args: <user1@example.org>' "$MTA"/sink/* | head -1)
$PY - "$msg" > links.txt <<'PYEOF' || fail "cannot read the links of user1's message"
import email, email.policy, re, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
html = m.get_body(('html',)).get_content()
print(re.search(r'src="([^"]*/o/[^"]*\.gif)"', html).group(1))
print(re.search(r'href="([^"]*/l/[^"]*)"', html).group(1))
print(re.search(r'<([^>]*)>', str(m['List-Unsubscribe'])).group(1))
PYEOF
open_url=$(sed -n 1p links.txt) click_url=$(sed -n 2p links.txt) unsub_url=$(sed -n 3p links.txt)
case "$open_url$click_url$unsub_url" in "$API/o/"*"$API/l/"*"$API/u/"*) ;; *) fail "links: $open_url $click_url $unsub_url" ;; esac
[ "$(curl -s -o /dev/null -w '%{http_code}' "$open_url")" = 200 ] || fail "the open"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$click_url")" = 302 ] || fail "the click"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d 'List-Unsubscribe=One-Click' "$unsub_url")" = 200 ] || fail "the unsubscribe"
curl -s -o /dev/null -X POST -d 'List-Unsubscribe=One-Click' "$unsub_url"   # again: still one unsubscribe
req GET "/api/v1/campaigns/$C/report"
expect_json "(j['unsubscribes'], sum(p['opens'] for p in j['timeline']['points']), sum(p['clicks'] for p in j['timeline']['points']))" "(1, 1, 1)"
expect_json "[(d['day'], d['sent'], d['bounces'], d['unsubscribes']) for d in j['days']]" "[('$TODAY', 10, 3, 1)]"
req GET "/api/v1/campaigns/$C/domains"
expect_json "[(d['domain'], d['total'], d['sent'], d['failed']) for d in j['domains']]" "[('example.org', 11, 10, 1)]"
counted=$(jq_get "$body" "j['counted_at']")

check "an ended campaign's domains are counted once and kept until the campaign changes"
# an address changed behind postino's back changes no campaign: what was counted stays
psql_q "UPDATE subscribers SET email = 'user2@moved.example' WHERE email = 'user2@example.org'" >/dev/null
req GET "/api/v1/campaigns/$C/domains"
expect_json "(j['counted_at'], [(d['domain'], d['total']) for d in j['domains']])" "('$counted', [('example.org', 11)])"
# a change of the campaign (a retry, a cancel: its updated_at) has them counted again
psql_q "UPDATE campaigns SET updated_at = now() WHERE id = $C" >/dev/null
req GET "/api/v1/campaigns/$C/domains"
expect_json "j['counted_at'] != '$counted'" True
expect_json "[(d['domain'], d['total']) for d in j['domains']]" "[('example.org', 10), ('moved.example', 1)]"
counted=$(jq_get "$body" "j['counted_at']")
req GET "/api/v1/campaigns/$C/domains"
expect_json "j['counted_at']" "$counted"
psql_q "UPDATE subscribers SET email = 'user2@example.org' WHERE email = 'user2@moved.example';
        UPDATE campaigns SET updated_at = now() WHERE id = $C" >/dev/null

req POST /api/v1/bounces "{\"email\":\"user6@example.org\",\"type\":\"complaint\",\"campaign\":$C}"
expect_code 201
dash
expect_json "j['totals']" "{'sent': 10, 'bounces': 8, 'complaints': 1, 'unsubscribes': 1, 'subscribers': 11, 'complaint_rate': 0.1}"
# the fixture's subscribers were written by hand, not by postino: not counted
[ "$(psql_q "SELECT count(*) FROM bounces WHERE class <> 'complaint'")|$(psql_q "SELECT count(*) FROM subscribers WHERE email NOT LIKE '%@fixture.example'")" = "8|11" ] ||
    fail "the day's counts differ from the tables"
expect_json "[(d['sent'], d['bounces'], d['complaints'], d['unsubscribes'], d['subscribers']) for d in j['days'][:-1]] == [(0, 0, 0, 0, 0)] * 29" True
expect_json "[w['message'] for w in j['warnings'] if w['code'] == 'complaint_rate']" \
    "['complaint rate 10.00% over the last 30 days (1 complaint for 10 sent): over 0.1%, mailbox providers refuse bulk mail']"
warnings_end() { dash; [ "$(warning_codes)" = "['no_dkim', 'complaint_rate']" ]; }
wait_for "the warnings to be the DKIM key and the complaint rate alone (the sender idle again)" 30 warnings_end
expect_json "[(c['id'], c['status']) for c in j['campaigns']]" "[($L, 'scheduled')]"

check "bounces: a DSN taken in, listed by class and campaign in pages, shown whole"
sed -e 's/user3@example.org/user9@example.org/g' -e 's/^Subject: .*/&\nX-Test: <script>alert(3)<\/script>/' \
    "$ROOT/tests/data/dsn/postfix_hard_5.1.1.eml" > dsn.eml
req POST /api/v1/bounces @dsn.eml "$ADMIN" message/rfc822
expect_code 201
expect_json "(j['matched'], j['bounce']['class'], j['bounce']['email'], j['bounce']['campaign_id'], j['bounce']['status'])" \
    "(True, 'hard', 'user9@example.org', $C, '5.1.1')"
DSN=$(jq_get "$body" "j['bounce']['id']")
req GET "/api/v1/bounces?campaign=$C&class=policy"
expect_json "(sorted(b['email'] for b in j['items']), [b['id'] for b in j['items']] == sorted((b['id'] for b in j['items']), reverse=True))" \
    "(['user3@example.org', 'xss@example.org'], True)"
req GET "/api/v1/bounces?campaign=$C&class=hard"
expect_json "[(b['email'], b['source']) for b in j['items']]" "[('user9@example.org', 'dsn'), ('user5@example.org', 'smtp')]"
req GET "/api/v1/bounces?limit=4"
page1=$(jq_get "$body" "[b['id'] for b in j['items']]")
req GET "/api/v1/bounces?limit=4&before=$(jq_get "$body" "j['items'][-1]['id']")"
page2=$(jq_get "$body" "[b['id'] for b in j['items']]")
total=$(psql_q "SELECT count(*) FROM bounces")
[ "$(jq_get "$page1" "len(j)")|$(jq_get "$page2" "len(j)")" = "4|4" ] || fail "pages: $page1 $page2"
[ "$($PY -c "a=$page1; b=$page2; print(a + b == sorted(a + b, reverse=True) and len(set(a + b)) == 8)")" = True ] ||
    fail "the pages overlap or are out of order: $page1 $page2 ($total bounces)"
req GET "/api/v1/bounces/$DSN"
expect_json "('X-Test: <script>alert(3)</script>' in j['original'], j['diagnostic'].startswith('550 5.1.1 <user9@example.org>: Recipient'))" "(True, True)"
req GET "/api/v1/bounces?class=bogus"
expect_error 400 invalid class
req GET "/api/v1/bounces?campaign=0"
expect_error 400 invalid campaign
printf 'From: someone@example.net\nTo: bounces@example.com\nSubject: hello\n\nAre you there?\n' > hello.eml
req POST /api/v1/bounces @hello.eml "$ADMIN" message/rfc822
expect_json "(j['matched'], j['reason'])" "(False, 'not a bounce')"
browser bounces "$C" "$DSN"

check "the dashboard and the report at the end: the charts and their tables, the tracked links, the campaigns"
browser end "$C" "$L"
for s in dashboard-warn dashboard-warn-390 running running-390 finished finished-390 retried dashboard dashboard-390 \
    dashboard-table tracked tracked-390 list bounces bounces-390 bounce bounce-390; do
    [ -s "$SHOTS/report-$s.png" ] || fail "no screenshot report-$s.png"
done

check "new subscribers are counted once by what makes them (not by an import's dry run or repeat; a transactional message's new recipient), folded in once by the dashboard"
postino import people.csv --list news --dry-run
postino import people.csv --list news
expect_rc 0
{ echo 'email'; echo 'late@example.org'; } > late.csv
postino import late.csv --list news --dry-run
req POST /api/v1/tx '{"template":"newsletter","to":"tx-new@example.net","subject":"Hi","from":"news@example.com"}'
expect_code 201
req POST /api/v1/tx '{"template":"newsletter","to":"user1@example.org","subject":"Hi again","from":"news@example.com"}'
expect_code 201
[ "$(psql_q "SELECT count(*) FROM subscriber_adds")" = 1 ] || fail "the notes waiting: $(psql_q "SELECT * FROM subscriber_adds")"
dash
expect_json "(j['totals']['subscribers'], j['days'][-1]['subscribers'])" "(12, 12)"
[ "$(psql_q "SELECT count(*) FROM subscriber_adds")" = 0 ] || fail "the dashboard did not fold the notes in"
dash   # read again: each note counted once
expect_json "(j['totals']['subscribers'], j['days'][-1]['subscribers'])" "(12, 12)"

check "opens and clicks are counted as they come: unique and total, per link, one clicker for two links at once"
D2=$(psql_q "SELECT d.id FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.campaign_id = $C AND s.email = 'user2@example.org'")
L1=$(psql_q "SELECT min(id) FROM links WHERE campaign_id = $C")
L2=$(psql_q "INSERT INTO links (campaign_id, idx, url) VALUES ($C, 99, 'https://second.example/') RETURNING id")
curl -s -o /dev/null "$open_url"   # user1 again: one more open, not one more opener
# user2 clicks both links at the same moment, as a mail gateway fetching every link does: the second
# statement waits for the first and sees its row, so user2 is one clicker
$PY - "$WORK/var/pg/run" "$C" "$D2" "$L1" "$L2" <<'PYEOF' || fail "two links clicked at once"
import sys, threading, time, psycopg2
host, c, d, l1, l2 = sys.argv[1:]
ins = ("INSERT INTO clicks (link_id, delivery_id, campaign_id) VALUES (%s, %s, %s)"
       " ON CONFLICT (link_id, delivery_id) DO UPDATE SET n = clicks.n + 1, last_at = now()")
a = psycopg2.connect(host=host, user="postino", dbname="postino")
b = psycopg2.connect(host=host, user="postino", dbname="postino")
b.autocommit = True
a.cursor().execute(ins, (l1, d, c))          # a's first click, not yet committed
t = threading.Thread(target=lambda: b.cursor().execute(ins, (l2, d, c)))
t.start()
w = psycopg2.connect(host=host, user="postino", dbname="postino")
w.autocommit = True
deadline = time.time() + 60
while True:                                  # b waits on a's lock on the delivery
    cur = w.cursor()
    cur.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    if cur.fetchone()[0] == 1:
        break
    assert time.time() < deadline, "the second click never waited for the first"
    time.sleep(0.05)
a.commit()
t.join(60)
assert not t.is_alive()
PYEOF
req GET "/api/v1/campaigns/$C/stats"
expect_json "(j['opens'], j['clicks'])" "({'unique': 1, 'total': 2}, {'unique': 2, 'total': 3})"
expect_json "[(l['url'], l['unique'], l['total']) for l in j['links']][-1]" "('https://second.example/', 1, 1)"
expect_json "sum(l['unique'] for l in j['links'])" 3
expect_json "j['bounces'] == $(psql_q "SELECT json_object_agg(class, n) FROM (SELECT class, count(*) n FROM bounces WHERE campaign_id = $C GROUP BY 1) x") and sum(j['bounces'].values()) > 0" True
[ "$(psql_q "SELECT count(DISTINCT delivery_id) || '|' || count(*) || '|' || sum(n) FROM clicks WHERE campaign_id = $C")" = "2|3|3" ] ||
    fail "the clicks table: $(psql_q "SELECT link_id, delivery_id, n FROM clicks WHERE campaign_id = $C")"
req GET "/api/v1/campaigns/$C/report"
expect_json "(sum(p['opens'] for p in j['timeline']['points']), sum(p['clicks'] for p in j['timeline']['points']))" "(1, 3)"

finish
