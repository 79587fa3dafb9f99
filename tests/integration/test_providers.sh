#!/bin/bash
# test_providers - mailbox providers, with a real Postfix: a campaign to
# gmail.com, hotmail.co.uk, yahoo.com, a Google Workspace domain
# (workspace.test) and example.org, all routed to the test relay; delivered,
# deferred (a 450) and bounced (a 550). The Workspace case: a line of the real
# log with its relay host replaced by Google's is read first (a crafted file),
# so the domain counts as Google by its MX host, is learned, and the next
# delivery to it (whose real relay is the test's) counts as Google too.
# Then: exact counts by provider in campaign stats --json and the API, over
# time, in /metrics; provider match and why; the CLI's and the API's edits and
# their one-line errors; a removed provider's deliveries count as other.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
source "$ROOT/tests/integration/bounce_lib.sh"
source "$ROOT/tests/integration/api_lib.sh"
api_setup 16080
export POSTINO_BOUNCE_DOMAIN=bounce.test
LOG="$MTA/postfix.log"
inner="127.0.0.1\[127.0.0.1\]:16026"

mta_start 16587 16025
postino db init
expect_rc 0
bounce_mta_setup 16026 bounce.test
mta_conf "maximal_queue_lifetime = 1d" "bounce_queue_lifetime = 1d"
postino list create news
psql_q "WITH s AS (INSERT INTO subscribers (email, name) SELECT e, e FROM unnest(ARRAY['g1@gmail.com', 'g2@gmail.com',
          'g3@gmail.com', 'g4@gmail.com', 'h1@hotmail.co.uk', 'h2@hotmail.co.uk', 'y1@yahoo.com', 'w1@workspace.test',
          'w2@workspace.test', 'o1@example.org']) e RETURNING id)
        INSERT INTO subscriptions (subscriber_id, list_id, status) SELECT s.id, l.id, 'confirmed' FROM s, lists l" >/dev/null
relay_setup
bounce_reject g4@gmail.com 550 5.1.1 No such user here
bounce_reject h2@hotmail.co.uk 450 4.2.0 Mailbox busy, try again later
printf '<p>Hello {{ name }}.</p>\n' > body.html
logged() { [ "$(grep -cE "$1" "$LOG" 2>/dev/null)" -ge "$2" ]; }   # logged REGEX N
qid_of() { psql_q "SELECT d.queue_id FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = '$1'"; }
rows() {   # rows JSON: each provider's counts, one line each
    jq_get "$1" "'\n'.join('%s %d %d %d %d %d %s %d' % (r['provider'], r['delivered'], r['deferred'], r['deferrals'],
        r['bounced'], r['expired'], ','.join('%s=%d' % kv for kv in sorted(r['bounces'].items()) if kv[1]) or '-',
        r['complaints']) for r in $2)"
}

check "a campaign through Postfix: delivered, deferred, bounced"
postino campaign create --name Providers --subject Hello --from 'News <news@example.com>' --list news --html body.html --json
expect_rc 0
C=$(jq_get "$out" "j['id']")
postino campaign send "$C"
expect_rc 0
postino send --until-done
expect_rc 0
for a in g1@gmail.com g2@gmail.com g3@gmail.com h1@hotmail.co.uk y1@yahoo.com w1@workspace.test w2@workspace.test \
         o1@example.org; do
    wait_for "$a delivered" 60 logged "to=<$a>, relay=$inner.*status=sent" 1
done
wait_for "g4 bounced" 60 logged "to=<g4@gmail.com>.*status=bounced" 1
wait_for "h2 deferred" 60 logged "to=<h2@hotmail.co.uk>.*status=deferred" 1
# held, so that the count of its deferrals stays what the log says now
postsuper -c "$MTA" -h "$(qid_of h2@hotmail.co.uk)" >/dev/null 2>&1
QH2=$(qid_of h2@hotmail.co.uk)
held() { postqueue -c "$MTA" -j 2>/dev/null | grep "\"queue_id\": *\"$QH2\"" | grep -q '"queue_name": *"hold"'; }
wait_for "h2's message held" 30 held
d2=$(grep -cE "$QH2: to=<h2@hotmail.co.uk>.*status=deferred" "$LOG")

check "the Workspace domain: a log line whose relay is Google's host, read first"
grep -E "to=<w1@workspace.test>, relay=$inner.*status=sent" "$LOG" |
    sed "s/relay=$inner/relay=aspmx.l.google.com[2001:db8:4860::1a]:25/" > crafted.log
[ "$(wc -l < crafted.log)" = 1 ] || fail "crafted log: $(cat crafted.log)"
postino mta follow "$WORK/crafted.log" --once --json
expect_rc 0
[ "$(jq_get "$out" "(j['events'], j['changed'])")" = "(1, 1)" ] || fail "crafted follow: $out"
[ "$(psql_q "SELECT m.host || ' ' || p.name FROM delivery_mta m JOIN providers p ON p.id = m.provider_id
             JOIN deliveries d ON d.id = m.delivery_id JOIN subscribers s ON s.id = d.subscriber_id
             WHERE s.email = 'w1@workspace.test'")" = "aspmx.l.google.com[2001:db8:4860::1a]:25 google" ] ||
    fail "w1: $(psql_q "SELECT * FROM delivery_mta")"
postino provider match w9@workspace.test
expect_rc 0
expect_out_eq "google: learned, mail to workspace.test was taken by aspmx.l.google.com, a host of google"
postino mta follow "$LOG" --once --json
expect_rc 0

check "campaign stats --json: exact counts by provider"
postino campaign stats "$C" --json
expect_rc 0
got=$(rows "$out" "j['providers']")
want="google 5 0 0 1 0 hard=1 0
microsoft 1 1 $d2 0 0 - 0
yahoo 1 0 0 0 0 - 0
other 1 0 0 0 0 - 0"
[ "$got" = "$want" ] || fail "by provider:
$got
want:
$want"
[ "$(jq_get "$out" "[(r['provider'], r['delivery_s']['median'] is not None and r['delivery_s']['p95'] >= r['delivery_s']['median'] >= 0) for r in j['providers']]")" = \
  "[('google', True), ('microsoft', True), ('yahoo', True), ('other', True)]" ] || fail "times: $out"
[ "$(jq_get "$out" "j['mta']")" = "{'delivered': 8, 'deferred': 1, 'bounced': 1, 'expired': 0}" ] || fail "mta: $out"
postino campaign stats "$C"
expect_rc 0
expect_out "by provider:"
printf '%s\n' "$out" | grep -qE "^  google +5 +0 +0 +1 +0 +1 +0 +0 +0 " || fail "the table: $out"
# w2's real relay is the test's own: it counts as Google because workspace.test was learned
[ "$(psql_q "SELECT p.name FROM delivery_mta m JOIN providers p ON p.id = m.provider_id
             JOIN deliveries d ON d.id = m.delivery_id JOIN subscribers s ON s.id = d.subscriber_id
             WHERE s.email = 'w2@workspace.test'")" = google ] || fail "w2 is not Google's"
cli_rows=$got

check "the API: the campaign's providers, over time, a complaint, /metrics"
POSTINO_HTTP_METRICS_CACHE=0 "$BIN" serve --no-send --listen "127.0.0.1:16080" > serve.out 2> serve.err &
SERVER=$!
api_wait
api_admin
req GET "/api/v1/campaigns/$C/providers"
expect_code 200
[ "$(rows "$body" "j['providers']")" = "$cli_rows" ] || fail "API: $(rows "$body" "j['providers']")"
req POST /api/v1/bounces "{\"email\": \"y1@yahoo.com\", \"type\": \"complaint\", \"campaign\": $C}"
expect_code 201
req GET "/api/v1/campaigns/$C/providers"
[ "$(jq_get "$body" "[(r['provider'], r['complaints']) for r in j['providers']]")" = \
  "[('google', 0), ('microsoft', 0), ('yahoo', 1), ('other', 0)]" ] || fail "complaint: $body"
today=$(date -u +%F)
req GET "/api/v1/providers/stats?since=$today&until=$today"
expect_code 200
[ "$(jq_get "$body" "(j['since'], j['until'], sorted(set(r['day'] for r in j['days'])))")" = "('$today', '$today', ['$today'])" ] ||
    fail "stats span: $body"
[ "$(rows "$body" "j['days']")" = "google 5 0 0 1 0 hard=1 0
microsoft 1 1 $d2 0 0 - 0
yahoo 1 0 0 0 0 - 1
other 1 0 0 0 0 - 0" ] || fail "stats: $(rows "$body" "j['days']")"
api_days=$(rows "$body" "j['days']")
postino provider stats --since "$today" --until "$today" --json
expect_rc 0
[ "$(rows "$out" "j['days']")" = "$api_days" ] || fail "provider stats: $out"
postino provider stats --until "$today"
expect_rc 0
printf '%s\n' "$out" | grep -qE "^  $today +google +5 " || fail "provider stats table: $out"
postino provider stats --since 2026-02-30
expect_rc 1
expect_err_lines 1
expect_err 'invalid since "2026-02-30": not a date'
req GET "/api/v1/providers/stats?since=$today&until=2020-01-01"
expect_error 400 invalid_field since
req GET "/api/v1/providers/stats?since=yesterday"
expect_error 400 invalid_field since
req GET "/api/v1/providers/stats?day=1"
expect_code 400
req GET /metrics
expect_code 200
for m in 'provider="google",event="delivered"} 5' 'provider="google",event="bounced"} 1' \
         "provider=\"microsoft\",event=\"deferral\"} $d2" 'provider="yahoo",event="complaint"} 1' \
         'provider="other",event="delivered"} 1' 'provider="kpn",event="delivered"} 0'; do
    printf '%s\n' "$body" | grep -qF "postino_provider_events_total{$m" || fail "metrics: no $m"
done
[ "$(printf '%s\n' "$body" | grep -c '^postino_provider_events_total{')" = $(( (14 + 1) * 5 )) ] ||
    fail "metrics: $(printf '%s\n' "$body" | grep -c '^postino_provider_events_total{') provider lines"

check "provider match: domains, wildcards, hosts, learned, other"
while read -r target mx want; do
    if [ "$mx" = - ]; then postino provider match "$target" --json; else postino provider match "$target" --mx "$mx" --json; fi
    expect_rc 0
    got=$(jq_get "$out" "'%s %s %s' % (j['provider'], j['how'], j['pattern'])")
    [ "$got" = "$want" ] || fail "match $target $mx: $got, expected $want"
done <<'EOF'
ann@gmail.com - google domain gmail.com
GMAIL.COM. - google domain gmail.com
b@hotmail.fr - microsoft domain hotmail.*
b@hotmail.co.uk - microsoft domain hotmail.*
live.com - microsoft domain live.*
c@yahoo.co.uk - yahoo domain yahoo.*
d@web.de - gmx domain web.de
e@corp.example mx2.corp.example.protection.outlook.com microsoft mx *.protection.outlook.com
e@corp.example hotmail-com.olc.protection.outlook.com[52.101.1.1]:25 microsoft mx *.olc.protection.outlook.com
f@shop.example mta5.am0.yahoodns.net[67.195.204.72]:25 yahoo mx *.yahoodns.net
g@family.example mx01.mail.icloud.com[17.57.154.6]:25 apple mx *.mail.icloud.com
h@firma.example mx00.t-online.de t-online mx mx*.t-online.de
gmail.com mx.example.org google domain gmail.com
i@workspace.test - google learned aspmx.l.google.com
j@example.org - other none None
j@example.org mx.example.org[192.0.2.1]:25 other none None
notgmail.com - other none None
EOF
postino provider match "j@example.org" --mx "[192.0.2.1]:25"
expect_rc 1
expect_err_lines 1
expect_err "invalid receiving host \"[192.0.2.1]:25\": an address without a host name"
req GET "/api/v1/providers/match?target=ann@gmail.com&mx=aspmx.l.google.com"
expect_code 200
[ "$(jq_get "$body" "(j['provider'], j['how'], j['host'])")" = "('google', 'domain', 'aspmx.l.google.com')" ] || fail "$body"
req GET "/api/v1/providers/match?target=foo@example.org&mx=mx.example.org%5B192.0.2.1"
expect_error 400 invalid_field mx
req GET "/api/v1/providers/match?target=not%20a%20domain"
expect_error 400 invalid_field target
req GET "/api/v1/providers/match"
expect_error 400 invalid target

check "the CLI's edits and their errors"
postino provider add acme --label "Acme Mail" --domain acme.test --domain 'ACME.*' --mx '*.mx.acme.test' --json
expect_rc 0
[ "$(jq_get "$out" "(j['name'], j['label'], j['domains'], j['mx'])")" = \
  "('acme', 'Acme Mail', ['acme.*', 'acme.test'], ['*.mx.acme.test'])" ] || fail "add: $out"
postino provider match x@shop.example --mx in1.mx.acme.test
expect_out_eq "acme: the receiving host in1.mx.acme.test matches the host pattern *.mx.acme.test"
postino provider set acme --name acme2 --rm-domain acme.test --mx 'mx*.acme.example' --json
expect_rc 0
[ "$(jq_get "$out" "(j['name'], j['domains'], j['mx'])")" = "('acme2', ['acme.*'], ['*.mx.acme.test', 'mx*.acme.example'])" ] ||
    fail "set: $out"
postino provider ls
expect_rc 0
expect_out "acme2"
while read -r args; do
    eval "postino provider $args"
    [ "$rc" = 1 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || fail "provider $args: rc $rc, err: $err"
done <<'EOF'
add acme3 --domain gmail.com
add acme3 --mx '*.com'
add acme3 --domain 'a b.com'
add Acme3
add other
set acme2 --rm-domain nope.test
set nosuch --label x
add acme2
rm nosuch
show nosuch
EOF
postino provider add acme3 --domain gmail.com
expect_err 'the domain pattern "gmail.com" is provider google'"'"'s'
postino provider add acme3 --mx '*.com'
expect_err 'invalid host pattern "*.com": the last two labels are a domain'
postino provider add
expect_rc 2
postino provider set acme2
expect_rc 2
[ "$(psql_q "SELECT count(*) FROM providers WHERE name LIKE 'acme%'")" = 1 ] || fail "a refused add left a provider"

check "the API's edits and their errors"
req POST /api/v1/providers '{"name": "beta", "label": "Beta", "domains": ["beta.test"], "mx": ["*.beta.test"]}'
expect_code 201
req PATCH /api/v1/providers/beta '{"domains": ["beta.test", "beta.*"], "mx": []}'
expect_code 200
[ "$(jq_get "$body" "(j['domains'], j['mx'])")" = "(['beta.*', 'beta.test'], [])" ] || fail "patch: $body"
req GET /api/v1/providers/beta
expect_code 200
[ "$(jq_get "$body" "(j['name'], j['learned'], j['learned_domains'], j['counts']['delivered'])")" = "('beta', 0, [], 0)" ] ||
    fail "get: $body"
req GET /api/v1/providers/google
[ "$(jq_get "$body" "(j['learned'], [(l['domain'], l['mx_host']) for l in j['learned_domains']], j['counts']['delivered'])")" = \
  "(1, [('workspace.test', 'aspmx.l.google.com')], 5)" ] || fail "google: $body"
req POST /api/v1/providers '{"name": "gamma", "domains": ["hotmail.*"]}'
expect_error 400 invalid_field domains
req POST /api/v1/providers '{"name": "gamma", "mx": ["mx%.gamma.test"]}'
expect_error 400 invalid_field mx
req POST /api/v1/providers '{"name": "Gamma"}'
expect_error 400 invalid_field name
req POST /api/v1/providers '{"name": "beta"}'
expect_error 409 exists
req PATCH /api/v1/providers/beta '{}'
expect_error 400 invalid
req PATCH /api/v1/providers/nosuch '{"label": "x"}'
expect_code 404
req GET /api/v1/providers
expect_code 200
[ "$(jq_get "$body" "[p['name'] for p in j['items']][-2:]")" = "['acme2', 'beta']" ] || fail "ls: $body"
printf 'user-pass-1\n' > user.pw
postino_in user.pw user add user@example.com --role user
postino token create --user user@example.com --json
USER_TOKEN=$(jq_get "$out" "j['token']")
req GET /api/v1/providers "" "$USER_TOKEN"
expect_code 200
req POST /api/v1/providers '{"name": "delta"}' "$USER_TOKEN"
expect_code 403
req DELETE /api/v1/providers/beta
expect_code 204
req DELETE /api/v1/providers/beta
expect_code 404

check "the web admin in headless Chromium: the report by provider, the Providers screen (screenshots in build/screens)"
SHOTS="$ROOT/build/screens"
mkdir -p "$SHOTS"
WORK="$WORK" /usr/bin/python3 "$ROOT/tests/integration/admin_providers.py" "$API" "$SHOTS" "$C" "$d2" > browser.log 2>&1 ||
    fail "browser: $(tail -30 browser.log)"
grep -q '^ok ' browser.log || fail "the browser reported nothing"
for s in report report-390 screen screen-390 add-error remove-390 pace pace-390 warmup warmup-390; do
    [ -s "$SHOTS/providers-$s.png" ] || fail "no screenshot providers-$s.png"
done

check "a removed provider's deliveries count as other"
postino provider rm yahoo
expect_rc 0
postino campaign stats "$C" --json
[ "$(rows "$out" "j['providers']")" = "google 5 0 0 1 0 hard=1 0
microsoft 1 1 $d2 0 0 - 0
other 2 0 0 0 0 - 1" ] || fail "after rm: $(rows "$out" "j['providers']")"
postino provider match y@yahoo.com
expect_out_eq "other: no domain pattern names yahoo.com, and it was not learned"

finish
