#!/bin/bash
# test_segments - saved segments from the CLI and the API (each bad input with
# its line and column), counts checked against SQL written by hand, and a
# campaign's audience narrowed by a segment or a filter: when sent at once and
# when the scheduler starts it, as the segment is at that moment.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/api_lib.sh"
api_setup 18291

check "a fixture: 40 subscribers on two lists, with attributes of each kind"
postino list create news
postino list create vip --optin double
{
    echo 'email,name,city,age,member_since'
    for i in $(seq 1 40); do
        case $((i % 4)) in 0) city=Roma ;; 1) city=Milano ;; 2) city=roma ;; 3) city='' ;; esac
        echo "p$i@seg.example,Person $i,$city,$((15 + i)),2025-0$((i % 9 + 1))-15"
    done
} > people.csv
postino import people.csv --list news
expect_rc 0
postino subscriber add vip1@seg.example --attr city=Roma --list vip --status confirmed
postino subscriber add vip2@seg.example --attr city=Roma --list vip --status unconfirmed
postino subscriber add p4@seg.example --list vip --status confirmed
psql_q "UPDATE subscribers SET status = 'blocklisted' WHERE email = 'p8@seg.example'" >/dev/null
[ "$(psql_q "SELECT count(*) FROM subscribers")" = 42 ] || fail "the fixture"

check "segment add, ls, show; the filter kept as written"
postino segment add romans --filter 'attribs.city = "Roma"' --description "People in Rome"
expect_rc 0
expect_out 'saved segment "romans"'
postino segment add adults --filter 'attribs.age >= 30 and not attribs.city = "Milano"' --json
expect_rc 0
[ "$(jq_get "$out" "(j['name'], j['filter'], j['description'])")" = "('adults', 'attribs.age >= 30 and not attribs.city = \"Milano\"', '')" ] ||
    fail "add --json: $out"
postino segment ls
expect_out "romans"
expect_out 'attribs.age >= 30 and not attribs.city = "Milano"'
postino segment show romans --json
[ "$(jq_get "$out" "sorted(j)")" = "['created_at', 'description', 'filter', 'id', 'name', 'updated_at']" ] ||
    fail "show: the compiled form is not the store's to give: $out"

check "segment add refuses a bad filter at its line and column, a duplicate, a missing filter; nothing saved"
postino segment add broken --filter 'attribs.city = "Roma" and
  opened(campaign = x)'
expect_rc 1
expect_err 'the filter: line 2, column 21: expected a campaign'"'"'s number, found "x"'
expect_err_lines 1
postino segment add romans --filter 'id > 0'
expect_rc 1
expect_err 'segment "romans" already exists'
postino segment add nofilter
expect_rc 2
expect_err "segment add needs --filter"
postino segment add "bad$(printf '\001')name" --filter 'id > 0'
expect_rc 1
expect_err "the segment's name"
[ "$(psql_q "SELECT string_agg(name, ',' ORDER BY name) FROM segments")" = "adults,romans" ] || fail "something was saved"

check "segment count: alone, and within lists as a campaign's audience, equal to SQL by hand"
postino segment count romans
expect_out_eq "$(psql_q "SELECT count(*) FROM subscribers WHERE attribs->>'city' = 'Roma'")"
[ "$out" = 12 ] || fail "romans: $out"
postino segment count romans --list news
# news is single opt-in: p8 is blocklisted; vip1 and vip2 are not on news
expect_out_eq "$(psql_q "SELECT count(DISTINCT s.id) FROM subscribers s JOIN subscriptions sl ON sl.subscriber_id = s.id
    JOIN lists l ON l.id = sl.list_id WHERE l.name = 'news' AND s.status = 'enabled' AND s.attribs->>'city' = 'Roma'")"
[ "$out" = 9 ] || fail "romans on news: $out"
postino segment count romans --list vip --list news --json
# vip is double opt-in: vip2 (unconfirmed) is not mailed; vip1 is, and p4 (on both) once
[ "$(jq_get "$out" "j['count']")" = 10 ] || fail "romans on vip and news: $out"
postino segment count --filter 'attribs.age > 50 or attribs.member_since < 2025-02-01' --list news
expect_out_eq "$(psql_q "SELECT count(*) FROM subscribers s JOIN subscriptions sl ON sl.subscriber_id = s.id
    JOIN lists l ON l.id = sl.list_id WHERE l.name = 'news' AND s.status = 'enabled'
    AND ((s.attribs->>'age')::int > 50 OR left(s.attribs->>'member_since', 10) < '2025-02-01')")"
postino segment count adults --list nope
expect_rc 1
expect_err 'no list "nope"'
postino segment count nope
expect_rc 1
expect_err 'no segment "nope"'
postino segment count --filter 'name = "x'"'"') OR true; DROP TABLE segments; --"'
expect_rc 0
expect_out_eq 0
[ "$(psql_q "SELECT count(*) FROM segments")" = 2 ] || fail "the segments table"

check "segment set: name, filter (compiled again), description; refusals change nothing"
postino segment set adults --filter 'attribs.age >= 50'
expect_rc 0
postino segment count adults
expect_out_eq 6
postino segment set adults --filter 'attribs.age >='
expect_rc 1
expect_err "the filter: line 1, column 15: expected a value"
postino segment set adults --name romans
expect_rc 1
expect_err 'segment "romans" already exists'
postino segment set nope --description x
expect_rc 1
expect_err 'no segment "nope"'
postino segment show adults --json
[ "$(jq_get "$out" "j['filter']")" = "attribs.age >= 50" ] || fail "adults changed: $out"

check "the API: the same segments, the same refusals"
api_admin
"$BIN" serve --no-send --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
api_wait
req GET /api/v1/segments
expect_code 200
expect_json "[g['name'] for g in j['items']]" "['adults', 'romans']"
req POST /api/v1/segments '{"name":"young","filter":"attribs.age < 25","description":"Under 25"}'
expect_code 201
expect_json "(j['name'], j['filter'], j['description'])" "('young', 'attribs.age < 25', 'Under 25')"
req POST /api/v1/segments '{"name":"bad","filter":"attribs.age <"}'
expect_error 400 invalid_field filter
expect_json "j['error']['message']" 'the filter: line 1, column 14: expected a value (a "string", a number, a date such as 2026-01-31, true or false), found the end'
req POST /api/v1/segments '{"name":"young","filter":"id > 0"}'
expect_error 409 exists
req POST /api/v1/segments '{"filter":"id > 0"}'
expect_error 400 missing_field name
req POST /api/v1/segments '{"name":"x","filter":"id > 0","sql":"true"}'
expect_error 400 unknown_field sql
req PATCH /api/v1/segments/young '{"filter":"attribs.age < 20"}'
expect_code 200
expect_json "j['filter']" "attribs.age < 20"
req PATCH /api/v1/segments/young '{}'
expect_error 400 invalid
req GET /api/v1/segments/nope
expect_error 404 not_found
req POST /api/v1/segments/count '{"segment":"young"}'
expect_code 200
expect_json "j" "{'count': 4}"
req POST /api/v1/segments/count '{"filter":"attribs.city contains \"ROMA\"","lists":["news"]}'
expect_json "j['count']" 19
req POST /api/v1/segments/count '{"filter":"id > 0","segment":"young"}'
expect_error 400 invalid_field filter
req POST /api/v1/segments/count '{}'
expect_error 400 invalid_field filter
req POST /api/v1/segments/count '{"lists":["news","vip"]}'
expect_json "j['count']" 40
req POST /api/v1/segments/count '{"filter":"in_list(vip"}'
expect_error 400 invalid_field filter
expect_json "j['error']['message']" 'the filter: line 1, column 9: expected a list'"'"'s name (a string) or number, found "vip"'
check "the API: a campaign narrowed by a segment or a filter, and the refusals"
req POST /api/v1/campaigns '{"name":"api seg","subject":"Hi","from":"news@seg.example","lists":["news"],"html":"<p>x</p>","segment":"young"}'
expect_code 201
expect_json "(j['segment']['name'], j['segment']['filter'], j['filter'], j['audience_filter'])" "('young', 'attribs.age < 20', None, None)"
req POST /api/v1/campaigns '{"name":"api filter","subject":"Hi","from":"news@seg.example","lists":["news"],"html":"<p>x</p>","filter":"attribs.city = \"Roma\""}'
expect_code 201
expect_json "(j['segment'], j['filter'])" "(None, 'attribs.city = \"Roma\"')"
req POST /api/v1/campaigns '{"name":"api bad","subject":"Hi","from":"news@seg.example","lists":["news"],"html":"<p>x</p>","filter":"attribs.city ="}'
expect_error 400 invalid_field filter
expect_json "j['error']['message']" 'the filter: line 1, column 15: expected a value (a "string", a number, a date such as 2026-01-31, true or false), found the end'
req POST /api/v1/campaigns '{"name":"api both","subject":"Hi","from":"news@seg.example","lists":["news"],"html":"<p>x</p>","filter":"id > 0","segment":"young"}'
expect_error 400 invalid_field filter
req POST /api/v1/campaigns '{"name":"api none","subject":"Hi","from":"news@seg.example","lists":["news"],"html":"<p>x</p>","segment":"nobody"}'
expect_error 404 not_found
[ "$(psql_q "SELECT string_agg(name, ',' ORDER BY id) FROM campaigns WHERE name LIKE 'api %'")" = "api seg,api filter" ] ||
    fail "a refused campaign was saved"
req DELETE /api/v1/segments/young
expect_error 409 exists
psql_q "DELETE FROM campaigns WHERE name = 'api seg'" >/dev/null
req DELETE /api/v1/segments/young
expect_code 204
req DELETE /api/v1/segments/young
expect_error 404 not_found
api_stop_server() { kill -TERM "$SERVER"; wait "$SERVER" 2>/dev/null; SERVER=""; }
api_stop_server

check "a campaign narrowed by a segment: the segment as it is when the campaign starts"
printf '<p>Hello {{ name }}</p>\n' > body.html
postino campaign create --name "Rome only" --subject Hi --from news@seg.example --list news --list vip \
    --html body.html --segment romans --json
expect_rc 0
CR=$(jq_get "$out" "j['id']")
[ "$(jq_get "$out" "(j['segment']['name'], j['filter'])")" = "('romans', None)" ] || fail "create --segment: $out"
postino campaign show "$CR"
expect_out 'segment:  romans (attribs.city = "Roma")'
# changed before the start: the start reads the new filter
postino segment set romans --filter 'attribs.city = "Roma" and attribs.age < 50'
postino segment count romans --list news --list vip
want=$out
postino campaign send "$CR"
expect_rc 0
[ "$(psql_q "SELECT count(*) FROM deliveries WHERE campaign_id = $CR")" = "$want" ] || fail "the audience: $(psql_q "SELECT count(*) FROM deliveries WHERE campaign_id = $CR"), expected $want"
[ "$(psql_q "SELECT count(*) FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
    WHERE d.campaign_id = $CR AND NOT (s.attribs->>'city' = 'Roma' AND (s.attribs->>'age')::int < 50)")" = 0 ] ||
    fail "someone outside the segment is in the audience"
[ "$(psql_q "SELECT n_total || '|' || audience_filter FROM campaigns WHERE id = $CR")" = "$want|attribs.city = \"Roma\" and attribs.age < 50" ] ||
    fail "the campaign's record: $(psql_q "SELECT n_total, audience_filter FROM campaigns WHERE id = $CR")"
postino segment rm romans
expect_rc 1
expect_err 'segment "romans" is used by a campaign'

check "a campaign with a filter of its own; refusals"
postino campaign create --name "Milan" --subject Hi --from news@seg.example --list news --html body.html \
    --filter 'attribs.city = "Milano" and not email starts_with "p1"' --json
expect_rc 0
CM=$(jq_get "$out" "j['id']")
postino campaign send "$CM"
[ "$(psql_q "SELECT string_agg(split_part(s.email, '@', 1), ',' ORDER BY s.id) FROM deliveries d
    JOIN subscribers s ON s.id = d.subscriber_id WHERE d.campaign_id = $CM")" = "p5,p9,p21,p25,p29,p33,p37" ] ||
    fail "the Milan audience: $(psql_q "SELECT string_agg(s.email, ',') FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.campaign_id = $CM")"
postino campaign create --name x --subject Hi --from news@seg.example --list news --html body.html --filter 'city = 1'
expect_rc 1
expect_err 'the filter: line 1, column 1: unknown field "city"'
postino campaign create --name x --subject Hi --from news@seg.example --list news --html body.html --segment nope
expect_rc 1
expect_err 'no segment "nope"'
postino campaign create --name x --subject Hi --from news@seg.example --list news --html body.html --segment adults --filter 'id > 0'
expect_rc 1
expect_err "a campaign takes a segment or a filter, not both"
[ "$(psql_q "SELECT count(*) FROM campaigns WHERE name = 'x'")" = 0 ] || fail "a refused campaign was saved"

check "a scheduled campaign narrowed by a segment is started by the scheduler with the segment's filter"
postino segment add elders --filter 'attribs.age >= 50'
postino campaign create --name "Elders" --subject Hi --from news@seg.example --list news --html body.html --segment elders --json
CE=$(jq_get "$out" "j['id']")
postino campaign create --name "Everyone" --subject Hi --from news@seg.example --list news --html body.html --json
CA=$(jq_get "$out" "j['id']")
postino campaign schedule "$CE" --at "$(date -u -d '+3 seconds' '+%Y-%m-%d %H:%M:%S') UTC"
postino campaign schedule "$CA" --at "$(date -u -d '+3 seconds' '+%Y-%m-%d %H:%M:%S') UTC"
postino segment set elders --filter 'attribs.age >= 52'
postino segment count elders --list news
want=$out
"$BIN" serve --listen "127.0.0.1:$PORT" >>serve.log 2>&1 &
SERVER=$!
started() { [ "$(psql_q "SELECT count(*) FROM campaigns WHERE id IN ($CE, $CA) AND status <> 'scheduled'")" = 2 ]; }
wait_for "the scheduler to start both campaigns" 60 started
api_stop_server
[ "$(psql_q "SELECT n_total || '|' || coalesce(audience_filter, '-') FROM campaigns WHERE id = $CE")" = "$want|attribs.age >= 52" ] ||
    fail "Elders: $(psql_q "SELECT n_total, audience_filter FROM campaigns WHERE id = $CE"), expected $want"
[ "$(psql_q "SELECT count(*) FROM deliveries WHERE campaign_id = $CE")" = "$want" ] || fail "Elders' deliveries"
[ "$(psql_q "SELECT n_total || '|' || coalesce(audience_filter, '-') FROM campaigns WHERE id = $CA")" = "39|-" ] ||
    fail "Everyone: $(psql_q "SELECT n_total, audience_filter FROM campaigns WHERE id = $CA")"

finish
