#!/bin/bash
# test_archive - postino campaign archive: a finished campaign sent through a
# private Postfix to smtp-sink moves its deliveries out of the hot table into
# deliveries_archive in one go; a running or paused one is refused with one
# line and nothing moves. Afterwards its stats, the recipient's history and
# privacy export are what they were, a bounce arriving later resolves by its
# VERP token to the archived delivery, erasure erases archived rows too, and a
# campaign still waiting is sent as before. Then the API: a paused campaign is
# 409, a cancelled one is archived.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
source "$ROOT/tests/integration/api_lib.sh"
api_setup 18593
export POSTINO_BOUNCE_DOMAIN=bounce.test

mta_start 14697 14135
postino db init
postino list create news
add_subscribers news 1 12
relay_setup
printf '<p>Hello {{ name }}.</p>\n' > body.html
# new_campaign NAME: a campaign to list news, started; its id in $out
new_campaign() {
    postino campaign create --name "$1" --subject "$1" --from 'News <news@example.com>' --list news \
        --html body.html --json
    local id
    id=$(jq_get "$out" "j['id']")
    postino campaign send "$id"
    out=$id
}
new_campaign Old
C=$out
new_campaign Later
L=$out
hot() { psql_q "SELECT count(*) FROM ONLY deliveries WHERE campaign_id = $1"; }
archived() { psql_q "SELECT count(*) FROM deliveries_archive WHERE campaign_id = $1"; }

check "a running campaign is refused with one line, and nothing moves"
postino campaign archive "$C"
expect_rc 1
expect_err "cannot archive campaign $C: it is running (only a finished or cancelled one)"
expect_err_lines 1
[ "$(hot "$C")" = 12 ] && [ "$(archived "$C")" = 0 ] || fail "moved: $(hot "$C") hot, $(archived "$C") archived"

check "the finished campaign's deliveries move to the archive in one go"
postino campaign pause "$L"
postino send --until-done
expect_rc 0
[ "$(campaign_status "$C")" = finished ] || fail "campaign $C is $(campaign_status "$C")"
postino campaign stats "$C" --json
stats_before=$(jq_get "$out" "[j[k] for k in ('total', 'sent', 'failed', 'skipped', 'bounces')]")
ids_before=$(psql_q "SELECT string_agg(id::text, ',' ORDER BY id) FROM deliveries WHERE campaign_id = $C")
postino subscriber history user5@example.org --deliveries --json
history_before=$out
postino subscriber export user5@example.org
old_rows="[d for d in j['tables']['deliveries'] if d['campaign_id'] == $C]"
export_before=$(jq_get "$out" "$old_rows")
[ "$(jq_get "$out" "len($old_rows)")" = 1 ] || fail "the export holds no delivery of campaign $C: $export_before"

postino campaign archive "$C"
expect_rc 0
expect_out_eq "campaign $C archived: 12 deliveries moved to the archive"
[ "$(hot "$C")" = 0 ] && [ "$(archived "$C")" = 12 ] || fail "after: $(hot "$C") hot, $(archived "$C") archived"
[ "$(psql_q "SELECT string_agg(id::text, ',' ORDER BY id) FROM deliveries_archive WHERE campaign_id = $C")" = "$ids_before" ] ||
    fail "the archive holds other rows than the ledger did"
[ -n "$(psql_q "SELECT archived_at FROM campaigns WHERE id = $C")" ] || fail "archived_at not set"

check "its stats, the recipient's history and privacy export are what they were"
postino campaign stats "$C" --json
[ "$(jq_get "$out" "[j[k] for k in ('total', 'sent', 'failed', 'skipped', 'bounces')]")" = "$stats_before" ] ||
    fail "stats were $stats_before"
counters_match_ledger "$C"
postino subscriber history user5@example.org --deliveries --json
[ "$out" = "$history_before" ] || fail "history was: $history_before"
postino subscriber export user5@example.org
[ "$(jq_get "$out" "$old_rows")" = "$export_before" ] || fail "export was: $export_before"

check "a bounce arriving later resolves by its VERP token to the archived delivery"
f=$(grep -l "^X-Rcpt-Args: <user5@example.org>" "$MTA"/sink/* | head -1)
tok=$(sed -n 's/^X-Mail-Args: <bounces+\([a-z2-7]*\)@bounce.test>.*/\1/p' "$f")
[ -n "$tok" ] || fail "no VERP token in the message to user5"
printf '%s\n' 'From: MAILER-DAEMON@mx.example.net' 'Subject: Undelivered Mail Returned to Sender' \
    'Message-Id: <late.1@mx.example.net>' 'MIME-Version: 1.0' \
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b"' '' '--b' \
    'Content-Type: message/delivery-status' '' 'Reporting-MTA: dns; mx.example.net' '' \
    'Final-Recipient: rfc822; user5@example.org' 'Action: failed' 'Status: 5.1.1' '' '--b--' > late.eml
postino_in late.eml bounce --recipient "bounces+$tok@bounce.test"
expect_rc 0
expect_out "hard 5.1.1 user5@example.org"
expect_out "matched by token"
[ "$(psql_q "SELECT b.campaign_id FROM bounces b
             JOIN deliveries_archive a ON a.id = b.delivery_id
             JOIN subscribers s ON s.id = a.subscriber_id WHERE s.email = 'user5@example.org'")" = "$C" ] ||
    fail "bounce rows: $(psql_q "SELECT campaign_id, delivery_id, email FROM bounces")"

check "a paused campaign is refused; an archived one a second time, and its failures are not retried"
postino campaign archive "$L"
expect_rc 1
expect_err "cannot archive campaign $L: it is paused (only a finished or cancelled one)"
expect_err_lines 1
postino campaign archive "$C"
expect_rc 1
expect_err "campaign $C is archived already"
expect_err_lines 1
postino campaign retry "$C"
expect_rc 1
expect_err "cannot retry campaign $C: it is archived"

check "a campaign still waiting is sent as before, beside the archive"
postino campaign resume "$L"
postino send --until-done
expect_rc 0
# user5 bounced hard: blocklisted, skipped
[ "$(campaign_status "$L")" = finished ] && [ "$(psql_q "SELECT n_sent || ' ' || n_skipped FROM campaigns WHERE id = $L")" = "11 1" ] ||
    fail "campaign $L: $(psql_q "SELECT status, n_sent FROM campaigns WHERE id = $L")"
counters_match_ledger "$L"

check "erasure erases the recipient's archived deliveries too"
sid=$(psql_q "SELECT id FROM subscribers WHERE email = 'user6@example.org'")
[ "$(psql_q "SELECT count(*) FROM deliveries_archive WHERE subscriber_id = $sid")" = 1 ] || fail "no archived row to erase"
postino subscriber erase user6@example.org
expect_rc 0
[ "$(psql_q "SELECT count(*) FROM deliveries WHERE subscriber_id = $sid")" = 0 ] || fail "deliveries left after erasure"
[ "$(archived "$C")" = 11 ] || fail "$(archived "$C") archived rows, expected 11"

check "the API: POST /api/v1/campaigns/{id}/archive, 409 for a paused campaign, 200 for a cancelled one"
api_admin
new_campaign Paused
P=$out
postino campaign pause "$P"
new_campaign Dropped
K=$out
postino campaign cancel "$K"
"$BIN" serve --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
api_wait
req POST "/api/v1/campaigns/$P/archive"
expect_error 409 conflict
expect_json "j['error']['message']" "cannot archive campaign $P: it is paused (only a finished or cancelled one)"
req POST "/api/v1/campaigns/$K/archive"
expect_code 200
# user5 blocklisted, user6 erased: ten recipients
expect_json "[j['status'], j['archived'], j['cancelled']]" "['cancelled', 10, 10]"
[ "$(hot "$K")" = 0 ] && [ "$(archived "$K")" = 10 ] || fail "after the API: $(hot "$K") hot, $(archived "$K") archived"
finish
