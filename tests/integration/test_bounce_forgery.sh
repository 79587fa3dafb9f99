#!/bin/bash
# test_bounce_forgery - who may suppress a subscriber with a report. Anyone can
# mail the bounce address a DSN naming a recent recipient: through a path that
# is not trusted (the pipe without --trusted; mailbox intake is the same call),
# such a report is recorded as unverified and shown, never acted on; a valid
# VERP token, the pipe marked --trusted and an API key (POST /api/v1/bounces)
# act. X-Postino-Delivery alone (a plain id, not signed) finds the delivery but
# does not verify. Sender-side refusals (class policy) never suppress; an
# auto-reply and a delay warning are kept as what they are; a report that names
# no delivery is kept with its class, status and recipient, listed by
# bounce ls --unmatched and the API.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/api_lib.sh"
api_setup "${POSTINO_TEST_PORT:-18391}"
DATA="$ROOT/tests/data/bounces"

check "setup: five subscribers who were each sent campaign News"
postino db init
expect_rc 0
api_admin
psql_q "INSERT INTO lists (name) VALUES ('news');
  INSERT INTO subscribers (email, name) SELECT 'user' || i || '@example.org', 'U' || i FROM generate_series(1, 7) i;
  INSERT INTO subscriptions (subscriber_id, list_id, status) SELECT s.id, l.id, 'confirmed' FROM subscribers s, lists l;
  INSERT INTO campaigns (name, subject, from_addr, html, status, started_at, finished_at)
    VALUES ('News', 'News', 'news@example.com', 'x', 'finished', now() - interval '1 hour', now());
  INSERT INTO deliveries (campaign_id, subscriber_id, list_id, state, attempts, sent_at)
    SELECT c.id, s.id, l.id, 'sent', 1, now() - interval '50 minutes' FROM campaigns c, subscribers s, lists l
    ORDER BY s.id" >/dev/null
C=$(psql_q "SELECT id FROM campaigns WHERE name = 'News'")
delivery() { psql_q "SELECT d.id FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = '$1'"; }
status_of() { psql_q "SELECT status FROM subscribers WHERE email = '$1'"; }
# dsn NAME RCPT [MESSAGE-ID] [HEADER]: a Postfix-style 5.1.1 DSN for RCPT, its returned original with HEADER
dsn() {
    printf '%s\n' 'From: MAILER-DAEMON@mx.example.net (Mail Delivery System)' \
        'Subject: Undelivered Mail Returned to Sender' "Message-Id: <${3:-$1}@mx.example.net>" 'To: bounces@bounce.test' \
        'MIME-Version: 1.0' 'Content-Type: multipart/report; report-type=delivery-status; boundary="b"' '' '--b' \
        'Content-Type: message/delivery-status' '' 'Reporting-MTA: dns; mx.example.net' '' \
        "Final-Recipient: rfc822; $2" 'Action: failed' 'Status: 5.1.1' \
        "Diagnostic-Code: smtp; 550 5.1.1 <$2>: Recipient address rejected: User unknown" '' '--b' \
        'Content-Type: text/rfc822-headers' '' 'From: news@example.com' "To: $2" 'Subject: News' ${4:+"$4"} '' '--b--' > "$1.eml"
}

check "a forged DSN (no token) naming a recent recipient, through the pipe without trust: recorded unverified, never acted on"
dsn forged1 user1@example.org
postino_in forged1.eml bounce --recipient bounces@bounce.test
expect_rc 0
expect_out "hard 5.1.1 user1@example.org"
expect_out "matched by recipient, unverified) -> none"
[ "$(status_of user1@example.org)" = enabled ] || fail "a forged report suppressed user1"
[ "$(psql_q "SELECT count(*) FROM subscriptions sl JOIN subscribers s ON s.id = sl.subscriber_id
             WHERE s.email = 'user1@example.org' AND sl.status = 'confirmed'")" = 1 ] || fail "user1 unsubscribed"
[ "$(psql_q "SELECT unverified || ' ' || action || ' ' || matched_by FROM bounces WHERE email = 'user1@example.org'")" = \
  "true none recipient" ] || fail "the forged row: $(psql_q "SELECT * FROM bounces WHERE email = 'user1@example.org'")"
[ "$(psql_q "SELECT bounce_count(id, 'hard', false) FROM subscribers WHERE email = 'user1@example.org'")" = 0 ] ||
    fail "an unverified report was counted"
postino bounce ls --json
[ "$(jq_get "$out" "[(b['email'], b['unverified'], b['action']) for b in j]")" = "[('user1@example.org', True, 'none')]" ] ||
    fail "bounce ls: $out"
postino bounce ls
expect_out "unverified: not acted on"
B=$(psql_q "SELECT id FROM bounces WHERE email = 'user1@example.org'")
postino bounce show "$B"
expect_out "no: no valid VERP token and not from a trusted path; recorded, never acted on"

check "the same kind of report through the pipe marked --trusted acts"
dsn trusted1 user1@example.org
postino_in trusted1.eml bounce --recipient bounces@bounce.test --trusted
expect_rc 0
expect_out "matched by recipient) -> blocklist"
[ "$(status_of user1@example.org)" = blocklisted ] || fail "the trusted report did not act"

check "through the pipe as the README wires it: from the network (a client address) unverified; made by Postfix itself (none) acts"
dsn net3 user6@example.org
postino_in net3.eml bounce --recipient bounces@bounce.test --client-address=203.0.113.9
expect_rc 0
expect_out "matched by recipient, unverified) -> none"
[ "$(status_of user6@example.org)" = enabled ] || fail "a report from the network suppressed user3"
dsn local3 user6@example.org
postino_in local3.eml bounce --recipient bounces@bounce.test --client-address=
expect_rc 0
expect_out "matched by recipient) -> blocklist"
[ "$(status_of user6@example.org)" = blocklisted ] || fail "Postfix's own report did not act"

check "X-Postino-Delivery alone (a plain id, not signed) finds the delivery but does not verify"
dsn header2 user2@example.org "" "X-Postino-Delivery: $(delivery user2@example.org)"
postino_in header2.eml bounce
expect_rc 0
expect_out "matched by header, unverified) -> none"
[ "$(status_of user2@example.org)" = enabled ] || fail "the delivery header alone suppressed user2"

check "a valid VERP token verifies the report on any path; a forged token does not"
KEY=$(psql_q "SELECT value FROM settings WHERE key = 'token_key'")   # made by the first report read
[ ${#KEY} = 64 ] || fail "no token key: $KEY"
D2=$(delivery user2@example.org)
TOK=$(mktoken b "$D2" "$C")
case "$TOK" in *a) BAD="${TOK%a}b" ;; *) BAD="${TOK%?}a" ;; esac
dsn badtok2 user2@example.org
postino_in badtok2.eml bounce --recipient "bounces+$BAD@bounce.test"
expect_rc 0
expect_out "unverified) -> none"
[ "$(status_of user2@example.org)" = enabled ] || fail "a forged token suppressed user2"
dsn token2 user2@example.org
postino_in token2.eml bounce --recipient "bounces+$TOK@bounce.test"
expect_rc 0
expect_out "matched by token) -> blocklist"
[ "$(status_of user2@example.org)" = blocklisted ] || fail "the genuine token did not act"

check "X-Postino-Delivery as postino writes it (the id and its signed token) verifies; with a forged token it does not"
D7=$(delivery user7@example.org)
dsn header7bad user7@example.org "" "X-Postino-Delivery: $D7.$(mktoken b "$D7" "$((C + 1))")"
postino_in header7bad.eml bounce
expect_rc 0
expect_out "unverified) -> none"
[ "$(status_of user7@example.org)" = enabled ] || fail "a header with another campaign's token suppressed user7"
dsn header7 user7@example.org "" "X-Postino-Delivery: $D7.$(mktoken b "$D7" "$C")"
postino_in header7.eml bounce
expect_rc 0
expect_out "matched by header) -> blocklist"
[ "$(status_of user7@example.org)" = blocklisted ] || fail "the signed delivery header did not act"

check "POST /api/v1/bounces: no key, refused and nothing recorded; with a key (a trusted path), it acts"
"$BIN" serve --no-send --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
api_wait
dsn api3 user3@example.org
before=$(psql_q "SELECT (SELECT count(*) FROM bounces) + (SELECT count(*) FROM bounces_unmatched)")
req POST /api/v1/bounces @api3.eml "" message/rfc822
expect_code 401
[ "$(psql_q "SELECT (SELECT count(*) FROM bounces) + (SELECT count(*) FROM bounces_unmatched)")" = "$before" ] ||
    fail "a report without a key was recorded"
[ "$(status_of user3@example.org)" = enabled ] || fail "user3 suppressed without a key"
req POST /api/v1/bounces @api3.eml "$ADMIN" message/rfc822
expect_code 201
expect_json "(j['matched'], j['verified'], j['bounce']['unverified'], j['bounce']['action'])" "(True, True, False, 'blocklist')"
[ "$(status_of user3@example.org)" = blocklisted ] || fail "the API's report did not act"

check "a sender-side refusal (policy) never suppresses, even verified; its policy cannot be made to"
D4=$(delivery user4@example.org)
postino_in "$DATA/gmail_550_5.7.26_unauthenticated.eml" bounce --recipient "bounces+$(mktoken b "$D4" "$C")@bounce.test"
expect_rc 0
expect_out "policy 5.7.26"
expect_out "matched by token) -> none"
[ "$(status_of user4@example.org)" = enabled ] || fail "a sending problem suppressed the recipient"
postino bounce ls --class policy
expect_out "sending problem"
postino bounce policy policy --action blocklist
expect_rc 1
expect_err "never suppresses the recipient"
[ "$(psql_q "SELECT action FROM bounce_policy WHERE class = 'policy'")" = none ] || fail "policy's action changed"
[ "$(psql_q "UPDATE bounce_policy SET action = 'blocklist' WHERE class = 'policy'" 2>&1)" != "UPDATE 1" ] ||
    fail "the database let policy's action change"
req GET "/api/v1/bounces?class=policy"
expect_json "[(b['email'], b['sending_problem'], b['action']) for b in j['items']]" "[('user4@example.org', True, 'none')]"

check "auto-replies and delay warnings are kept as such, never bounces; an unmatched bounce keeps what it says"
postino_in "$DATA/ooo_de_abwesenheit.eml" bounce
expect_rc 0
expect_out "unmatched"
expect_out "an auto-reply, not a bounce (autoreply"
postino_in "$DATA/exim_delay_24h.eml" bounce
expect_out "a delay warning, not a bounce (delay 4.7.1 patient@example.biz)"
postino_in "$DATA/m365_5.1.10_recipient_not_found.eml" bounce
expect_out "names no delivery postino knows (hard 5.1.10 former.staff@contoso.example.com)"
[ "$(psql_q "SELECT count(*) FROM bounces WHERE class IN ('autoreply', 'delay')")" = 0 ] || fail "recorded as bounces"
postino bounce ls --unmatched --json
[ "$(jq_get "$out" "[(b['kind'], b['class'], b['status'], b['email']) for b in j][:3]")" = \
  "[('dsn', 'hard', '5.1.10', 'former.staff@contoso.example.com'), ('text', 'delay', '4.7.1', 'patient@example.biz'), ('autoreply', 'autoreply', None, 'k.mueller@example.de')]" ] ||
    fail "bounce ls --unmatched: $out"
postino bounce ls --unmatched --class autoreply
expect_out "k.mueller@example.de"
expect_no_out "patient@example.biz"
postino bounce ls --class autoreply
expect_rc 2
expect_err "not bounces (see --unmatched)"
postino bounce ls --unmatched --campaign "$C"
expect_rc 2
req GET "/api/v1/bounces?unmatched=true&class=delay"
expect_json "[(b['email'], b['matched'], b['reason']) for b in j['items']]" \
    "[('patient@example.biz', False, 'a delay warning, not a bounce')]"
req GET "/api/v1/bounces?unmatched=maybe"
expect_error 400 invalid unmatched
req GET "/api/v1/bounces?class=autoreply"
expect_error 400 invalid class
[ "$(status_of user5@example.org)" = enabled ] || fail "user5"

finish
