#!/bin/bash
# test_bounce_mailbox - bounces read from a mailbox: a real Dovecot on loopback
# (IMAP with STARTTLS, IMAPS, POP3S, its certificate verified against the
# test's CA) holds DSNs for the deliveries of a real campaign (sent through a
# private Postfix to its sink, whose copies give each delivery's VERP token).
# postino bounce fetch records them through the pipe's path and moves or
# deletes them; serve's reader records a message delivered while it waits in
# IDLE; a fetcher killed with -9 between its commits and the removal is run
# again and records every message exactly once; a wrong password is one line.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
source "$ROOT/tests/integration/dovecot_lib.sh"
LOCKER=""
SERVER=""
stop_all() {
    [ -n "$SERVER" ] && kill -9 "$SERVER" 2>/dev/null
    [ -n "$LOCKER" ] && kill "$LOCKER" 2>/dev/null
    dovecot_stop
    mta_stop
    cleanup
}
trap stop_all EXIT
export POSTINO_BOUNCE_DOMAIN=bounce.test
IMAP=16143 IMAPS=16993 POP3S=16995 API=16080

mta_start 16587 16025
dovecot_start "$IMAP" "$IMAPS" "$POP3S"
postino db init
postino list create news
add_subscribers news 1 40
relay_setup

check "a campaign's deliveries reach the sink, each with its VERP envelope sender"
printf '<p>Hello {{ name }}.</p>\n' > body.html
postino campaign create --name Mailbox --subject Mailbox --from 'News <news@example.com>' --list news \
    --html body.html --json
C=$(jq_get "$out" "j['id']")
postino campaign send "$C"
postino send --until-done
expect_rc 0
sink_full() { [ "$(sink_count)" -ge 40 ]; }
wait_for "40 messages at the sink" 60 sink_full

# dsn FIXTURE N ADDR: the fixture filled in for ADDR's delivery, as $WORK/mail/N.eml
mkdir -p mail
dsn() {
    local fixture=$1 n=$2 addr=$3 f tok del
    f=$(grep -l "^X-Rcpt-Args: <$addr>" "$MTA"/sink/* | tail -1)
    tok=$(sed -n 's/^X-Mail-Args: <bounces+\([a-z2-7]*\)@bounce.test>.*/\1/p' "$f")
    del=$(psql_q "SELECT d.id FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
                  WHERE d.campaign_id = $C AND s.email = '$addr'")
    [ -n "$tok" ] && [ -n "$del" ] || fail "no token or delivery for $addr"
    sed -e "s/@TOKEN@/$tok/g" -e "s/@RCPT@/$addr/g" -e "s/@DELIVERY@/$del/g" -e "s/@N@/$n/g" \
        "$ROOT/tests/data/dsn/$fixture.eml" > "mail/$n.eml"
}
echo "$DOVECOT_PASSWORD" > mailbox.pw
export POSTINO_BOUNCE_MAILBOX_PASSWORD_FILE="$WORK/mailbox.pw"
export POSTINO_BOUNCE_MAILBOX_CA_FILE="$DOVECOT/ca.pem"
export POSTINO_BOUNCE_MAILBOX_MAX_SIZE=65536
IMAPS_URL="imaps://bounces@127.0.0.1:$IMAPS/INBOX"
bounces() { psql_q "SELECT count(*) FROM bounces"; }
unmatched() { psql_q "SELECT count(*) FROM bounces_unmatched"; }
row_of() {   # row_of ADDR: the bounce recorded for ADDR
    psql_q "SELECT class || ' ' || coalesce(status, '-') || ' ' || source || ' ' || action || ' ' || (raw_key IS NOT NULL)
            FROM bounces WHERE email = '$1' ORDER BY id"
}

check "IMAPS: a hard bounce, a full mailbox, an auto-reply and a message too large are recorded and moved"
dsn mailbox_postfix_5.1.1 1 user2@example.org
dsn mailbox_exim_5.2.2 2 user4@example.org
dsn mailbox_autoreply 3 user5@example.org
{ sed -n '1,/^$/p' mail/3.eml; for i in $(seq 1 3000); do echo "quoted line $i of a very long original message"; done; } \
    > mail/4.eml
maildir_put mail/1.eml mail/2.eml mail/3.eml mail/4.eml
POSTINO_BOUNCE_MAILBOX="$IMAPS_URL" POSTINO_BOUNCE_MAILBOX_MOVE=Processed postino bounce fetch --once
expect_rc 0
expect_out_eq "mailbox $IMAPS_URL: 4 read, 2 bounces, 2 unmatched, 0 recorded already, 4 removed"
[ "$(row_of user2@example.org)" = "hard 5.1.1 dsn blocklist true" ] || fail "user2: $(row_of user2@example.org)"
[ "$(row_of user4@example.org)" = "soft 5.2.2 dsn none true" ] || fail "user4: $(row_of user4@example.org)"
[ "$(psql_q "SELECT status FROM subscribers WHERE email = 'user2@example.org'")" = blocklisted ] ||
    fail "the hard bounce's policy did not act"
[ "$(psql_q "SELECT reason FROM bounces_unmatched WHERE subject = 'Out of office: Mailbox (3)'")" = "an auto-reply, not a bounce" ] ||
    fail "auto-reply: $(psql_q "SELECT reason, subject FROM bounces_unmatched")"
got=$(psql_q "SELECT reason || ' ' || original_truncated || ' ' || (original LIKE 'Return-Path:%') FROM bounces_unmatched
              WHERE reason LIKE 'too large%'")
size=$(( $(wc -c < mail/4.eml) + $(wc -l < mail/4.eml) ))   # as the server counts it, with CRLF
[ "$got" = "too large: $size bytes (at most 65536 are read) true true" ] || fail "too large: $got"
[ "$(maildir_count)" = 0 ] || fail "INBOX still has $(maildir_count)"
[ "$(maildir_count Processed)" = 4 ] || fail "Processed has $(maildir_count Processed)"

check "the same message delivered again is recognised as recorded, and moved"
maildir_put mail/1.eml
POSTINO_BOUNCE_MAILBOX="$IMAPS_URL" POSTINO_BOUNCE_MAILBOX_MOVE=Processed postino bounce fetch --once --json
expect_rc 0
[ "$(jq_get "$out" "(j['read'], j['bounces'], j['repeats'], j['removed'])")" = "(1, 0, 1, 1)" ] || fail "repeat"
[ "$(bounces)" = 2 ] || fail "$(bounces) bounces"
[ "$(maildir_count)" = 0 ] && [ "$(maildir_count Processed)" = 5 ] || fail "not moved"

check "a report the pipe recorded, found in the mailbox as well, is recognised as recorded"
dsn mailbox_exim_5.2.2 20 user20@example.org
postino_in mail/20.eml bounce
expect_rc 0
expect_out "soft 5.2.2 user20@example.org"
maildir_put mail/20.eml
POSTINO_BOUNCE_MAILBOX="$IMAPS_URL" POSTINO_BOUNCE_MAILBOX_MOVE=Processed postino bounce fetch --once
expect_rc 0
expect_out "1 read, 0 bounces, 0 unmatched, 1 recorded already, 1 removed"
[ "$(psql_q "SELECT count(*) FROM bounces WHERE email = 'user20@example.org'")" = 1 ] || fail "user20 counted twice"
[ "$(bounces)" = 3 ] && [ "$(maildir_count)" = 0 ] && [ "$(maildir_count Processed)" = 6 ] || fail "not moved"

check "IMAP with STARTTLS and no folder to move to: the messages are deleted"
dsn mailbox_postfix_5.1.1 5 user6@example.org
maildir_put mail/5.eml
POSTINO_BOUNCE_MAILBOX="imap://bounces@127.0.0.1:$IMAP" postino bounce fetch --once
expect_rc 0
expect_out "1 read, 1 bounces, 0 unmatched, 0 recorded already, 1 removed"
[ "$(row_of user6@example.org)" = "hard 5.1.1 dsn blocklist true" ] || fail "user6: $(row_of user6@example.org)"
[ "$(maildir_count)" = 0 ] && [ "$(maildir_count Processed)" = 6 ] || fail "not deleted"

check "POP3 over TLS: a hard bounce and a delay notice recorded, both deleted at QUIT"
dsn mailbox_postfix_5.1.1 6 user7@example.org
dsn mailbox_delayed_4.4.1 7 user8@example.org
maildir_put mail/6.eml mail/7.eml
POSTINO_BOUNCE_MAILBOX="pop3s://bounces@127.0.0.1:$POP3S" postino bounce fetch --once
expect_rc 0
expect_out "2 read, 1 bounces, 1 unmatched, 0 recorded already, 2 removed"
[ "$(row_of user7@example.org)" = "hard 5.1.1 dsn blocklist true" ] || fail "user7: $(row_of user7@example.org)"
[ "$(psql_q "SELECT reason FROM bounces_unmatched WHERE raw_key IS NOT NULL AND original LIKE '%Action: delayed%'")" = \
  "a delay warning, not a bounce" ] || fail "the delay notice"
[ "$(maildir_count)" = 0 ] || fail "INBOX still has $(maildir_count)"

check "a wrong password: one clear line, exit 1, nothing recorded, the message left"
dsn mailbox_postfix_5.1.1 8 user9@example.org
maildir_put mail/8.eml
echo "not-the-password" > wrong.pw
b0=$(bounces) u0=$(unmatched)
POSTINO_BOUNCE_MAILBOX="$IMAPS_URL" POSTINO_BOUNCE_MAILBOX_PASSWORD_FILE="$WORK/wrong.pw" postino bounce fetch --once
expect_rc 1
expect_err_lines 1
expect_err "mailbox $IMAPS_URL: login refused: Authentication failed."
expect_no_err "not-the-password"
POSTINO_BOUNCE_MAILBOX="pop3s://bounces@127.0.0.1:$POP3S" POSTINO_BOUNCE_MAILBOX_PASSWORD_FILE="$WORK/wrong.pw" \
    postino bounce fetch --once
expect_rc 1
expect_err_lines 1
expect_err "login refused"
[ "$(bounces) $(unmatched)" = "$b0 $u0" ] || fail "recorded: $(bounces) $(unmatched)"
[ "$(maildir_count)" = 1 ] || fail "INBOX has $(maildir_count)"

check "the server's certificate is verified: without the test's CA the connection is refused"
POSTINO_BOUNCE_MAILBOX="$IMAPS_URL" POSTINO_BOUNCE_MAILBOX_CA_FILE= postino bounce fetch --once
expect_rc 1
expect_err_lines 1
expect_err "certificate verification failed"
[ "$(maildir_count)" = 1 ] || fail "INBOX has $(maildir_count)"

check "settings: a bad URL, POP3 with a folder to move to, a missing password file; config show hides the password"
POSTINO_BOUNCE_MAILBOX="http://bounces@127.0.0.1/" postino bounce fetch --once
expect_rc 1
expect_err "[bounce] mailbox: must start with imaps://, imap://, pop3s:// or pop3://"
POSTINO_BOUNCE_MAILBOX="imaps://bounces:pw@127.0.0.1/" postino bounce fetch --once
expect_rc 1
expect_err "a password does not belong in the URL"
POSTINO_BOUNCE_MAILBOX="pop3s://bounces@127.0.0.1:$POP3S" POSTINO_BOUNCE_MAILBOX_MOVE=Processed postino bounce fetch --once
expect_rc 1
expect_err "[bounce] mailbox_move: a POP3 mailbox has no folders"
POSTINO_BOUNCE_MAILBOX="$IMAPS_URL" POSTINO_BOUNCE_MAILBOX_PASSWORD_FILE="$WORK/none.pw" postino bounce fetch --once
expect_rc 1
expect_err "[bounce] mailbox_password_file"
POSTINO_BOUNCE_MAILBOX="$IMAPS_URL" postino config show
expect_rc 0
expect_out "[bounce] mailbox = $IMAPS_URL"
expect_out "[bounce] mailbox_password_file = $WORK/mailbox.pw"
expect_no_out "$DOVECOT_PASSWORD"

check "serve reads the mailbox: a message delivered while it waits in IDLE is recorded at once"
# an interval of an hour: only IDLE can bring the second message in before the deadline
POSTINO_BOUNCE_MAILBOX="$IMAPS_URL" POSTINO_BOUNCE_MAILBOX_MOVE=Processed POSTINO_BOUNCE_MAILBOX_INTERVAL=3600 \
    "$BIN" serve --no-send --listen "127.0.0.1:$API" > serve.log 2>&1 &
SERVER=$!
has_row() { [ -n "$(row_of "$1")" ]; }
wait_for "the message left by the wrong password recorded by serve" 20 has_row user9@example.org
inbox_empty() { [ "$(maildir_count)" = 0 ]; }
wait_for "the INBOX emptied" 20 inbox_empty
dsn mailbox_exim_5.2.2 9 user10@example.org
maildir_put mail/9.eml
wait_for "user10's bounce, recorded while serve waits in IDLE" 15 has_row user10@example.org
[ "$(row_of user10@example.org)" = "soft 5.2.2 dsn none true" ] || fail "user10: $(row_of user10@example.org)"
wait_for "the message moved" 15 inbox_empty
kill -TERM "$SERVER"
wait "$SERVER"
[ $? = 0 ] || fail "serve exited badly: $(tail -3 serve.log)"
SERVER=""
grep -q "bounce: reading mailbox $IMAPS_URL" serve.log || fail "serve.log: $(cat serve.log)"
grep -q "$DOVECOT_PASSWORD" serve.log && fail "the password is in serve's log"

check "bounce fetch goes on reading; a server without IDLE is read every interval"
POSTINO_BOUNCE_MAILBOX="imaps://bounces@127.0.0.2:$IMAPS/INBOX" POSTINO_BOUNCE_MAILBOX_INTERVAL=1 \
    "$BIN" bounce fetch > fetch.log 2>&1 &
SERVER=$!
no_idle() { grep -q "the server offers no IDLE: read every 1 s" fetch.log; }
wait_for "the reader to find no IDLE" 15 no_idle
dsn mailbox_postfix_5.1.1 10 user19@example.org
maildir_put mail/10.eml
wait_for "user19's bounce, read at the next interval" 15 has_row user19@example.org
wait_for "the message deleted" 15 inbox_empty
kill -TERM "$SERVER"
wait "$SERVER"
[ $? = 0 ] || fail "bounce fetch exited badly: $(tail -3 fetch.log)"
SERVER=""
[ "$(row_of user19@example.org)" = "hard 5.1.1 dsn blocklist true" ] || fail "user19: $(row_of user19@example.org)"

check "kill -9 after some rows were committed and before the removal: the run again records each message once"
# five auto-replies first (their UIDs assigned before the DSNs arrive), then three DSNs;
# bounces is locked against writes, so the fetcher commits the five and waits on the first DSN
for i in 11 12 13 14 15; do dsn mailbox_autoreply "$i" "user$i@example.org"; done
maildir_put mail/11.eml mail/12.eml mail/13.eml mail/14.eml mail/15.eml
/usr/bin/python3 - "$IMAPS" "$DOVECOT/ca.pem" "$DOVECOT_PASSWORD" <<'EOF' || fail "the INBOX could not be read"
import imaplib, ssl, sys
c = imaplib.IMAP4_SSL('127.0.0.1', int(sys.argv[1]), ssl_context=ssl.create_default_context(cafile=sys.argv[2]))
c.login('bounces', sys.argv[3])
c.select('INBOX')
c.logout()
EOF
for i in 16 17 18; do dsn mailbox_postfix_5.1.1 "$i" "user$i@example.org"; done
maildir_put mail/16.eml mail/17.eml mail/18.eml
b0=$(bounces) u0=$(unmatched)
/usr/lib/postgresql/*/bin/psql -X -q -h "$WORK/var/pg/run" -U postino -d postino \
    -c "BEGIN; LOCK TABLE bounces IN SHARE MODE; SELECT pg_sleep(600);" > /dev/null 2>&1 &
LOCKER=$!
locked() { [ "$(psql_q "SELECT count(*) FROM pg_locks WHERE relation = 'bounces'::regclass AND mode = 'ShareLock' AND granted")" = 1 ]; }
wait_for "bounces locked" 10 locked
POSTINO_BOUNCE_MAILBOX="$IMAPS_URL" POSTINO_BOUNCE_MAILBOX_MOVE=Processed "$BIN" bounce fetch --once > kill.out 2>&1 &
FETCHER=$!
blocked() {
    [ "$(unmatched)" = $((u0 + 5)) ] &&
        [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = 'postino'")" -ge 1 ]
}
wait_for "five rows committed and the fetcher waiting on the sixth" 20 blocked
kill -9 "$FETCHER"
wait "$FETCHER" 2>/dev/null
kill "$LOCKER" 2>/dev/null
wait "$LOCKER" 2>/dev/null
LOCKER=""
psql_q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid()" >/dev/null
[ "$(maildir_count)" = 8 ] || fail "the killed fetcher removed messages: $(maildir_count) left"
[ "$(bounces)" = "$b0" ] || fail "a bounce was committed: $(bounces)"
POSTINO_BOUNCE_MAILBOX="$IMAPS_URL" POSTINO_BOUNCE_MAILBOX_MOVE=Processed postino bounce fetch --once
expect_rc 0
expect_out "8 read, 3 bounces, 0 unmatched, 5 recorded already, 8 removed"
[ "$(unmatched)" = $((u0 + 5)) ] || fail "unmatched rows: $(unmatched), expected $((u0 + 5))"
[ "$(bounces)" = $((b0 + 3)) ] || fail "bounces: $(bounces), expected $((b0 + 3))"
for i in 11 12 13 14 15; do
    [ "$(psql_q "SELECT count(*) FROM bounces_unmatched WHERE subject = 'Out of office: Mailbox ($i)'")" = 1 ] ||
        fail "auto-reply $i recorded $(psql_q "SELECT count(*) FROM bounces_unmatched WHERE subject = 'Out of office: Mailbox ($i)'") times"
done
for i in 16 17 18; do
    [ "$(row_of "user$i@example.org")" = "hard 5.1.1 dsn blocklist true" ] || fail "user$i: $(row_of "user$i@example.org")"
done
[ "$(maildir_count)" = 0 ] || fail "INBOX has $(maildir_count)"
[ "$(maildir_count Processed)" = 16 ] || fail "Processed has $(maildir_count Processed)"

check "a forged report in the mailbox (no valid token, naming a recent recipient) is recorded unverified, never acted on"
dsn mailbox_postfix_5.1.1 30 user30@example.org
sed -i 's/bounces+[a-z2-7]*@bounce.test/bounces+forgedtoken@bounce.test/g' mail/30.eml
maildir_put mail/30.eml
POSTINO_BOUNCE_MAILBOX="$IMAPS_URL" POSTINO_BOUNCE_MAILBOX_MOVE=Processed postino bounce fetch --once
expect_rc 0
expect_out "1 read, 1 bounces"
[ "$(psql_q "SELECT class || ' ' || action || ' ' || unverified FROM bounces WHERE email = 'user30@example.org'")" = \
  "hard none true" ] || fail "user30: $(psql_q "SELECT * FROM bounces WHERE email = 'user30@example.org'")"
[ "$(psql_q "SELECT status FROM subscribers WHERE email = 'user30@example.org'")" = enabled ] ||
    fail "a forged report suppressed user30"

finish
