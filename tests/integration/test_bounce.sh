#!/bin/bash
# test_bounce - the real bounce loop: campaigns through a private Postfix whose
# relayhost refuses some recipients, so that Postfix returns real DSNs to the
# VERP addresses; a pipe transport runs "postino bounce"; the policy blocklists
# the dead, disables after three soft bounces in a row, and later campaigns skip
# them. Then intake edge cases: a database that is down (75), a complaint, a
# message that is not a bounce, ls/show/policy.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
source "$ROOT/tests/integration/bounce_lib.sh"
trap 'mta_stop; cleanup' EXIT
export POSTINO_BOUNCE_DOMAIN=bounce.test

mta_start 14587 14025
postino db init
bounce_mta_setup 14026 bounce.test
postino list create news
add_subscribers news 1 20
relay_setup
printf '<p>Hello {{ name }}.</p>\n' > body.html
bounce_reject user3@example.org 550 5.1.1 User unknown
bounce_reject user7@example.org 550 5.1.1 No such user here
bounce_reject user11@example.org 552 5.2.2 Mailbox full
bounce_reject user13@example.org 450 4.2.0 Try again later

# run_campaign NAME: create, send and deliver one campaign to list news; sets $C
run_campaign() {
    postino campaign create --name "$1" --subject "$1" --from 'News <news@example.com>' --list news \
        --html body.html --json
    C=$(jq_get "$out" "j['id']")
    postino campaign send "$C"
    postino send --until-done
    expect_rc 0
}
bounces_of() { psql_q "SELECT count(*) FROM bounces WHERE campaign_id = $1"; }
has_bounces() { [ "$(bounces_of "$1")" = "$2" ]; }   # has_bounces CAMPAIGN N
has_total() { [ "$(bounce_count)" = "$1" ]; }

check "Postfix's own DSNs come back through the pipe and are matched by their VERP token"
run_campaign First
C1=$C
wait_for "4 bounces of campaign $C1" 60 has_bounces "$C1" 4
got=$(psql_q "SELECT b.email || ' ' || b.class || ' ' || coalesce(b.status, '-') || ' ' || b.source || ' '
                     || b.action || ' ' || (b.delivery_id = d.id)
              FROM bounces b JOIN deliveries d ON d.campaign_id = b.campaign_id AND d.subscriber_id = b.subscriber_id
              WHERE b.campaign_id = $C1 ORDER BY b.email")
want="user11@example.org soft 5.2.2 dsn none true
user13@example.org soft 4.2.0 dsn none true
user3@example.org hard 5.1.1 dsn blocklist true
user7@example.org hard 5.1.1 dsn blocklist true"
[ "$got" = "$want" ] || fail "bounces: $got"
[ "$(psql_q "SELECT string_agg(email, ' ' ORDER BY email) FROM subscribers WHERE status <> 'enabled'")" = \
  "user3@example.org user7@example.org" ] || fail "blocklisted: $(psql_q "SELECT email, status FROM subscribers WHERE status <> 'enabled'")"
[ "$(psql_q "SELECT count(*) FROM subscriptions sl JOIN subscribers s ON s.id = sl.subscriber_id
             WHERE s.status = 'blocklisted' AND sl.status <> 'unsubscribed'")" = 0 ] || fail "blocklisted but subscribed"
[ "$(psql_q "SELECT count(*) FROM bounces WHERE campaign_id = $C1 AND remote_mta IS NOT NULL
             AND diagnostic LIKE '%' || status || '%' AND original LIKE '%X-Postino-Delivery:%'")" = 4 ] ||
    fail "diagnostic, remote MTA or original missing: $(psql_q "SELECT diagnostic, remote_mta FROM bounces")"
[ "$(ls "$MTA"/sink | wc -l)" = 16 ] || fail "$(ls "$MTA"/sink | wc -l) messages reached the sink, expected 16"

check "campaign stats count the bounces by class"
postino campaign stats "$C1" --json
expect_rc 0
[ "$(jq_get "$out" "(j['bounces'].get('hard'), j['bounces'].get('soft'))")" = "(2, 2)" ] || fail "stats bounces"

check "bounce ls and show"
postino bounce ls --campaign "$C1" --class hard --json
expect_rc 0
[ "$(jq_get "$out" "sorted(b['email'] for b in j)")" = "['user3@example.org', 'user7@example.org']" ] || fail "ls --class hard"
B=$(jq_get "$out" "j[0]['id']")
postino bounce show "$B"
expect_rc 0
expect_out "5.1.1"
expect_out "blocklist"
expect_out "Final-Recipient"
postino bounce ls --class bogus
expect_rc 2
postino bounce show 999999
expect_rc 1
expect_err "no bounce 999999"

check "a second campaign skips the blocklisted; three soft bounces in a row disable, a delivery between resets"
sink_clear
run_campaign Second
C2=$C
wait_for "2 bounces of campaign $C2" 60 has_bounces "$C2" 2
[ "$(psql_q "SELECT count(*) FROM deliveries WHERE campaign_id = $C2")" = 18 ] || fail "audience of the second campaign"
[ "$(sink_rcpts | grep -c -e '^user3@' -e '^user7@')" = 0 ] || fail "a blocklisted subscriber was mailed"
[ "$(ls "$MTA"/sink | wc -l)" = 16 ] || fail "second campaign: $(ls "$MTA"/sink | wc -l) messages reached the sink"
bounce_accept user11@example.org
run_campaign Third
C3=$C
wait_for "1 bounce of campaign $C3" 60 has_bounces "$C3" 1
[ "$(psql_q "SELECT email || ' ' || status FROM subscribers WHERE status <> 'enabled' ORDER BY email" | tr '\n' ' ')" = \
  "user13@example.org disabled user3@example.org blocklisted user7@example.org blocklisted " ] ||
    fail "after three campaigns: $(psql_q "SELECT email, status FROM subscribers WHERE status <> 'enabled'")"
[ "$(psql_q "SELECT action FROM bounces WHERE campaign_id = $C3")" = disable ] || fail "third soft bounce's action"
[ "$(psql_q "SELECT bounce_count(id, 'soft', true) FROM subscribers WHERE email = 'user11@example.org'")" = 0 ] ||
    fail "the delivery that went through did not reset user11's soft count"

check "the database unreachable: exit 75 so that Postfix retries; the message is not lost"
dsn=$(grep -l "user3@example.org" "$BOUNCE_CAPTURE"/dsn.* | head -1)
postino_in "$dsn" --db "postgresql://postino@/postino?host=$WORK/nowhere" bounce
expect_rc 75
expect_err "retry"
sed 's/^Message-ID: <.*>/Message-ID: <retried.1@postino.test>/I' "$dsn" > retried.eml
grep -q 'retried.1@postino.test' retried.eml || fail "the captured DSN has no Message-ID"
mta_conf "maximal_queue_lifetime = 1d" "bounce_queue_lifetime = 1d"   # (at most maximal_queue_lifetime)
before=$(bounce_count)
"$BIN" db stop >/dev/null
sendmail -C "$MTA" -f '' -i bounces@bounce.test < retried.eml
wait_for "Postfix to defer the message for the pipe" 60 grep -q 'relay=postino-bounce.*status=deferred' "$MTA/postfix.log"
[ "$(bounce_count 2>/dev/null)" != "$((before + 1))" ] || fail "recorded while the database was down"
"$BIN" db start >/dev/null
# Postfix retries on its own schedule; the flush only asks it not to wait (its qmgr can
# skip a message it is still closing and then leave it for its next full queue scan)
flushed_at=0
retried_recorded() {
    has_total "$((before + 1))" && return 0
    if [ $((SECONDS - flushed_at)) -ge 5 ]; then
        postqueue -c "$MTA" -f >/dev/null 2>&1
        flushed_at=$SECONDS
    fi
    return 1
}
wait_for "the retried message to be recorded" 90 retried_recorded
[ "$(psql_q "SELECT email || ' ' || class FROM bounces WHERE message_id = '<retried.1@postino.test>'")" = \
  "user3@example.org hard" ] || fail "the retried bounce"

check "a 5xx at submission, recorded by the sender, goes through the same policy"
echo "user6@example.org 550 5.1.1 User unknown here" > "$MTA/submit_access"
mta_conf "smtpd_recipient_restrictions = check_recipient_access texthash:$MTA/submit_access, permit_sasl_authenticated, reject"
run_campaign Fifth
C5=$C
[ "$(psql_q "SELECT source || ' ' || class || ' ' || status || ' ' || action FROM bounces WHERE campaign_id = $C5")" = \
  "smtp hard 5.1.1 blocklist" ] || fail "synchronous bounce: $(psql_q "SELECT * FROM bounces WHERE campaign_id = $C5")"
[ "$(psql_q "SELECT status FROM subscribers WHERE email = 'user6@example.org'")" = blocklisted ] || fail "user6"

check "a provider's event (the API's JSON form) through bounce add"
postino bounce add user8@example.org --type complaint --campaign "$C1" --json
expect_rc 0
[ "$(jq_get "$out" "(j['class'], j['source'], j['action'], j['delivery_id'] is not None)")" = \
  "('complaint', 'api', 'blocklist', True)" ] || fail "complaint event"
postino bounce add user9@example.org --type bounce --status 5.0.0 --reason "Mailbox is full" --json
expect_rc 0
[ "$(jq_get "$out" "(j['class'], j['action'], j['rule_id'] is not None, j['delivery_id'])")" = \
  "('soft', 'none', True, None)" ] || fail "event classified by the rules"
postino bounce add nobody@example.org --type hard
expect_rc 1
expect_err "no subscriber nobody@example.org"
postino bounce add user9@example.org --type weird
expect_rc 1
expect_err "type:"

check "an ARF complaint unsubscribes from every list and blocklists"
D=$(psql_q "SELECT d.id FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
            WHERE d.campaign_id = $C1 AND s.email = 'user2@example.org'")
postino list create other
psql_q "INSERT INTO subscriptions (subscriber_id, list_id, status) SELECT s.id, l.id, 'confirmed'
        FROM subscribers s, lists l WHERE s.email = 'user2@example.org' AND l.name = 'other'" >/dev/null
sed "s/@DELIVERY@/$D/" "$ROOT/tests/data/dsn/arf_abuse.eml" > arf.eml
postino_in arf.eml bounce --recipient abuse-desk@bounce.test
expect_rc 0
expect_out "complaint - user2@example.org (campaign $C1, delivery $D, matched by header, unverified) -> none"
[ "$(psql_q "SELECT status FROM subscribers WHERE email = 'user2@example.org'")" = enabled ] ||
    fail "a complaint without a token from an untrusted path acted"
sed -e "s/@DELIVERY@/$D/" -e 's/^Message-ID: <.*>/Message-ID: <arf.trusted@fbl.example.net>/I' \
    "$ROOT/tests/data/dsn/arf_abuse.eml" > arf-trusted.eml
postino_in arf-trusted.eml bounce --recipient abuse-desk@bounce.test --trusted
expect_rc 0
expect_out "complaint - user2@example.org (campaign $C1, delivery $D, matched by header) -> blocklist"
[ "$(psql_q "SELECT s.status || ' ' || count(*) FILTER (WHERE sl.status <> 'unsubscribed')
             FROM subscribers s JOIN subscriptions sl ON sl.subscriber_id = s.id
             WHERE s.email = 'user2@example.org' GROUP BY s.status")" = "blocklisted 0" ] || fail "complaint action"

check "a message that is not a bounce is kept as unmatched, exit 0"
printf 'From: someone@example.net\nTo: bounces@bounce.test\nSubject: hello\n\nAre you there?\n' > hello.eml
postino_in hello.eml bounce
expect_rc 0
expect_out "unmatched"
[ "$(psql_q "SELECT reason FROM bounces_unmatched WHERE subject = 'hello'")" = "not a bounce" ] || fail "unmatched row"

check "the VERP token's HMAC: a genuine token names the delivery whatever the report says, a forged one nothing"
f=$(grep -l "^X-Rcpt-Args: <user12@example.org>" "$MTA"/sink/* | tail -1)
tok=$(sed -n 's/^X-Mail-Args: <bounces+\([a-z2-7]*\)@bounce.test>.*/\1/p' "$f")
case "$tok" in *a) bad="${tok%a}b" ;; *) bad="${tok%?}a" ;; esac
printf '%s\n' 'From: MAILER-DAEMON@mx.example.net' 'Subject: Undelivered Mail Returned to Sender' \
    'Message-Id: <forwarded.1@mx.example.net>' 'MIME-Version: 1.0' \
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b"' '' '--b' \
    'Content-Type: message/delivery-status' '' 'Reporting-MTA: dns; mx.example.net' '' \
    'Final-Recipient: rfc822; stranger@example.net' 'Action: failed' 'Status: 5.1.1' '' '--b--' > forwarded.eml
postino_in forwarded.eml bounce --recipient "bounces+$bad@bounce.test"
expect_rc 0
expect_out "unmatched"
[ "$(psql_q "SELECT status FROM subscribers WHERE email = 'user12@example.org'")" = enabled ] || fail "forged token"
postino_in forwarded.eml bounce --recipient "bounces+$tok@bounce.test"
expect_rc 0
expect_out "hard 5.1.1 user12@example.org"
expect_out "matched by token"

check "actions unsubscribe and delete; a deleted subscriber's bounce keeps the address; policy (a sending problem) never acts"
postino bounce policy policy --action unsubscribe
expect_rc 1
expect_err "never suppresses the recipient"
postino bounce add user10@example.org --type policy
expect_out "-> none"
postino bounce policy unknown --action unsubscribe
postino bounce add user10@example.org --type unknown
expect_out "-> unsubscribe"
[ "$(psql_q "SELECT s.status || ' ' || sl.status FROM subscribers s JOIN subscriptions sl ON sl.subscriber_id = s.id
             WHERE s.email = 'user10@example.org'")" = "enabled unsubscribed" ] || fail "unsubscribe action"
postino bounce policy unknown --action delete
postino bounce add user14@example.org --type unknown
expect_out "-> delete"
[ "$(psql_q "SELECT count(*) FROM subscribers WHERE email = 'user14@example.org'")" = 0 ] || fail "delete action"
[ "$(psql_q "SELECT coalesce(subscriber_id::text, 'null') || ' ' || action FROM bounces
             WHERE email = 'user14@example.org'")" = "null delete" ] || fail "the deleted subscriber's bounce"

check "prose bounces (qmail, Exchange): the address in the text, matched to its recent delivery; without a token only a trusted pipe acts"
postino_in "$ROOT/tests/data/dsn/qmail_5.1.1.eml" bounce
expect_rc 0
expect_out "hard 5.1.1 user9@example.org"
expect_out "matched by recipient, unverified) -> none"
[ "$(psql_q "SELECT status FROM subscribers WHERE email = 'user9@example.org'")" = enabled ] || fail "unverified report acted"
sed 's/^Message-ID: <.*>/Message-ID: <qmail.trusted@example.net>/I' "$ROOT/tests/data/dsn/qmail_5.1.1.eml" > qmail-trusted.eml
postino_in qmail-trusted.eml bounce --trusted
expect_rc 0
expect_out "matched by recipient) -> blocklist"
[ "$(psql_q "SELECT source || ' ' || action || ' ' || unverified FROM bounces WHERE email = 'user9@example.org' AND source = 'text'
             ORDER BY id")" = "text none true
text blocklist false" ] || fail "qmail bounce rows"
postino_in "$ROOT/tests/data/dsn/exchange_text.eml" bounce
expect_rc 0
expect_out "unmatched"
[ "$(psql_q "SELECT reason || ' ' || class || ' ' || status || ' ' || email FROM bounces_unmatched
             WHERE message_id = '<ndr.77@corp.example.net>'")" = \
  "names no delivery postino knows hard 5.1.1 jane.doe@corp.example.net" ] || fail "exchange bounce for a stranger"
postino bounce ls --unmatched
expect_out "jane.doe@corp.example.net"

check "bounce rules: the first matching rule decides; added and removed; a bad expression refused"
postino bounce rules add 'frobnicated' --class hard --position 5 --json
expect_rc 0
R=$(jq_get "$out" "j['id']")
postino bounce add user15@example.org --type bounce --reason "Address frobnicated" --json
[ "$(jq_get "$out" "(j['class'], j['rule_id'] == $R)")" = "('hard', True)" ] || fail "rule decided"
postino bounce rules add '(' --class hard
expect_rc 1
expect_err "invalid bounce rule"
postino bounce rules rm "$R"
expect_rc 0
postino bounce rules rm "$R"
expect_rc 1

check "policy: shown and changed; bad values refused"
postino bounce policy soft --threshold 5 --json
expect_rc 0
[ "$(jq_get "$out" "(j['threshold'], j['action'], j['consecutive'])")" = "(5, 'disable', True)" ] || fail "policy set"
postino bounce policy hard --action explode
expect_rc 2
postino bounce policy
expect_out "complaint          1  total       blocklist"
expect_out "policy             1  total       none"

finish
