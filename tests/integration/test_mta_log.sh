#!/bin/bash
# test_mta_log - Postfix's delivery log into the ledger, with a real Postfix:
# a campaign whose recipients are delivered (to the sink through the inner
# relay), deferred (a 450 from it, a closed port), bounced (a 550 from it) and
# expired (qmgr gives up); postino mta follow --once records what became of
# each; reading again changes nothing; a bounce seen in the log and then as a
# DSN is one bounce, and so is a DSN and then the log; a rotation mid-way
# (mv, reload) loses and doubles no line; a restarted follower resumes at the
# saved position; serve follows the log itself when [mta] log is set.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
source "$ROOT/tests/integration/bounce_lib.sh"
trap 'mta_stop; [ -n "${FPID:-}" ] && kill "$FPID" 2>/dev/null; [ -n "${SPID:-}" ] && kill "$SPID" 2>/dev/null; cleanup' EXIT
export POSTINO_BOUNCE_DOMAIN=bounce.test
LOG="$MTA/postfix.log"

mta_start 15587 15025
postino db init
bounce_mta_setup 15026 bounce.test
echo "closed.test smtp:[127.0.0.1]:9" >> "$MTA/transport"
# deferrals are kept (bounce_lib tries a 4xx only once)
mta_conf "maximal_queue_lifetime = 1d" "bounce_queue_lifetime = 1d"
# the bounce pipe holds each DSN (in delivery, so it does not expire) until $WORK/release exists
mv "$WORK/bounce-pipe.sh" "$WORK/bounce-pipe-real.sh"
cat > "$WORK/bounce-pipe.sh" <<PIPE
#!/bin/sh
while [ ! -e "$WORK/release" ]; do sleep 0.2; done
exec "$WORK/bounce-pipe-real.sh" "\$@"
PIPE
chmod 755 "$WORK/bounce-pipe.sh"
postino list create news
add_subscribers news 1 6
psql_q "WITH s AS (INSERT INTO subscribers (email, name) VALUES ('x1@closed.test', 'X1'), ('x2@closed.test', 'X2')
        RETURNING id) INSERT INTO subscriptions (subscriber_id, list_id, status)
        SELECT s.id, l.id, 'confirmed' FROM s, lists l WHERE l.name = 'news'" >/dev/null
relay_setup
printf '<p>Hello {{ name }}.</p>\n' > body.html
bounce_reject user5@example.org 550 5.1.1 No such user here
bounce_reject user6@example.org 450 4.2.0 Mailbox busy, try again later

run_campaign() {   # run_campaign NAME LIST: create, send; sets $C
    postino campaign create --name "$1" --subject "$1" --from 'News <news@example.com>' --list "$2" \
        --html body.html --json
    C=$(jq_get "$out" "j['id']")
    postino campaign send "$C"
    postino send --until-done
    expect_rc 0
}
qid_of() { psql_q "SELECT d.queue_id FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
                   WHERE s.email = '$1' AND d.campaign_id = $2"; }
logged() { [ "$(grep -cE "$1" "$LOG" 2>/dev/null)" -ge "$2" ]; }   # logged REGEX N
mta_of() {   # mta_of CAMPAIGN: "email state host deferrals dsn" per delivery
    psql_q "SELECT s.email || ' ' || coalesce(m.state, '-') || ' ' || coalesce(m.host, '-') || ' '
                   || coalesce(m.deferrals::text, '-') || ' ' || coalesce(m.dsn, '-')
            FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
            LEFT JOIN delivery_mta m ON m.delivery_id = d.id WHERE d.campaign_id = $1 ORDER BY s.email"
}
snapshot() {
    psql_q "SELECT m.*, (SELECT count(*) FROM bounces) AS b, (SELECT sum(n) FROM campaign_bounce_counts) AS n,
                   (SELECT sum(bounces) FROM daily_counts) AS daily FROM delivery_mta m ORDER BY delivery_id"
}
bounce_rows() { psql_q "SELECT count(*) FROM bounces b JOIN subscribers s ON s.id = b.subscriber_id
                        WHERE s.email = '$1' AND b.campaign_id = $2"; }
counters_agree() {   # the bounce counters equal the rows
    [ "$(psql_q "SELECT (SELECT count(*) FROM bounces) = (SELECT sum(n) FROM campaign_bounce_counts)
                    AND (SELECT count(*) FROM bounces WHERE class <> 'complaint') = (SELECT sum(bounces) FROM daily_counts)")" = t ] ||
        fail "bounce counters differ from the rows: $(psql_q "SELECT campaign_id, class, n FROM campaign_bounce_counts")"
}
inner="127.0.0.1[127.0.0.1]:15026"

check "a campaign through Postfix: delivered, deferred twice over, bounced, then one message expires"
run_campaign First news
C1=$C
for u in 1 2 3 4; do wait_for "user$u delivered" 60 logged "to=<user$u@example.org>, relay=127.0.0.1\[127.0.0.1\]:15026.*status=sent" 1; done
wait_for "user5 bounced" 60 logged "to=<user5@example.org>.*status=bounced" 1
# user6 (a 450 from the inner relay) is counted once at least: Postfix's queue
# manager may find its file still locked by the agent that deferred it ("skipped,
# still being delivered") and then leave it for minutes; the closed port's two
# are retried every second and counted many times
wait_for "user6@example.org deferred" 60 logged "to=<user6@example.org>.*status=deferred" 1
for a in x1@closed.test x2@closed.test; do
    wait_for "$a deferred twice" 60 logged "to=<$a>.*status=deferred" 2
done
Q6=$(qid_of user6@example.org "$C1") QX1=$(qid_of x1@closed.test "$C1") QX2=$(qid_of x2@closed.test "$C1")
[ -n "$Q6" ] && [ -n "$QX1" ] && [ -n "$QX2" ] || fail "queue ids not recorded: $Q6 $QX1 $QX2"
postsuper -c "$MTA" -h "$Q6" >/dev/null 2>&1
postsuper -c "$MTA" -h "$QX2" >/dev/null 2>&1
mta_conf "maximal_queue_lifetime = 1s" "bounce_queue_lifetime = 1s"
wait_for "x1's message to expire" 60 logged "$QX1: from=<.*status=expired, returned to sender" 1
mta_conf "maximal_queue_lifetime = 1d" "bounce_queue_lifetime = 1d"
d6=$(grep -cE "$Q6: to=<user6@example.org>.*status=deferred" "$LOG")
dx2=$(grep -cE "$QX2: to=<x2@closed.test>.*status=deferred" "$LOG")

check "postino mta follow --once records what became of each delivery"
postino mta follow "$LOG" --once --json
expect_rc 0
[ "$(jq_get "$out" "(j['changed'] > 0, j['bounces'])")" = "(True, 2)" ] || fail "follow: $out"
got=$(mta_of "$C1")
want="user1@example.org delivered $inner 0 2.0.0
user2@example.org delivered $inner 0 2.0.0
user3@example.org delivered $inner 0 2.0.0
user4@example.org delivered $inner 0 2.0.0
user5@example.org bounced $inner 0 5.1.1
user6@example.org deferred $inner $d6 4.2.0
x1@closed.test expired - $(grep -cE "$QX1: to=<x1@closed.test>.*status=deferred" "$LOG") 4.4.1
x2@closed.test deferred - $dx2 4.4.1"
[ "$got" = "$want" ] || fail "states:
$got
want:
$want"
[ "$(psql_q "SELECT m.reason FROM delivery_mta m JOIN deliveries d ON d.id = m.delivery_id
             JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = 'x2@closed.test'")" = \
  "connect to 127.0.0.1[127.0.0.1]:9: Connection refused" ] || fail "x2's reason"
got=$(psql_q "SELECT s.email || ' ' || b.class || ' ' || b.source || ' ' || b.status || ' ' || coalesce(b.remote_mta, '-') || ' ' || b.action
              FROM bounces b JOIN subscribers s ON s.id = b.subscriber_id WHERE b.campaign_id = $C1 ORDER BY s.email")
want="user5@example.org hard mta 5.1.1 $inner blocklist
x1@closed.test soft mta 4.4.1 - none"
[ "$got" = "$want" ] || fail "log bounces: $got"
counters_agree

check "reading the same lines again changes nothing"
before=$(snapshot)
psql_q "UPDATE mta_log_position SET read_to = 0, inode = inode" >/dev/null
postino mta follow "$LOG" --once --json
expect_rc 0
[ "$(jq_get "$out" "(j['events'] > 10, j['changed'], j['bounces'])")" = "(True, 0, 0)" ] || fail "second read: $out"
[ "$(snapshot)" = "$before" ] || fail "the second read changed the ledger"

check "the log's bounce, then its DSN: one bounce, the report attached to it"
touch "$WORK/release"
b5=$(psql_q "SELECT b.id FROM bounces b JOIN subscribers s ON s.id = b.subscriber_id WHERE s.email = 'user5@example.org'")
has_report() { [ "$(psql_q "SELECT count(*) FROM bounces WHERE campaign_id = $C1 AND original IS NOT NULL")" = 2 ]; }
wait_for "the DSNs of user5 and x1 attached" 90 has_report
[ "$(bounce_rows user5@example.org "$C1")" = 1 ] || fail "user5 has $(bounce_rows user5@example.org "$C1") bounces"
[ "$(bounce_rows x1@closed.test "$C1")" = 1 ] || fail "x1 has $(bounce_rows x1@closed.test "$C1") bounces"
[ "$(psql_q "SELECT b.id || ' ' || b.source || ' ' || (b.message_id IS NOT NULL) || ' ' || (b.original LIKE '%5.1.1%')
             FROM bounces b JOIN subscribers s ON s.id = b.subscriber_id WHERE s.email = 'user5@example.org'")" = "$b5 mta true true" ] ||
    fail "user5's bounce: $(psql_q "SELECT id, source, message_id FROM bounces")"
[ "$(psql_q "SELECT count(*) FROM bounces_unmatched")" = 0 ] || fail "a DSN went unmatched"
counters_agree

check "a DSN first, then the log: one bounce"
psql_q "UPDATE subscribers SET status = 'enabled' WHERE email = 'user5@example.org';
        UPDATE subscriptions SET status = 'confirmed' FROM subscribers s WHERE s.id = subscriber_id AND s.email = 'user5@example.org'" >/dev/null
psql_q "INSERT INTO lists (name) VALUES ('second')" >/dev/null
psql_q "INSERT INTO subscriptions (subscriber_id, list_id, status) SELECT s.id, l.id, 'confirmed' FROM subscribers s, lists l
        WHERE l.name = 'second' AND s.email IN ('user5@example.org', 'user1@example.org')" >/dev/null
run_campaign Second second
C2=$C
has_dsn2() { [ "$(bounce_rows user5@example.org "$C2")" = 1 ]; }
wait_for "user5's DSN of the second campaign" 90 has_dsn2
postino mta follow "$LOG" --once --json
expect_rc 0
[ "$(mta_of "$C2")" = "user1@example.org delivered $inner 0 2.0.0
user5@example.org bounced $inner 0 5.1.1" ] || fail "second campaign: $(mta_of "$C2")"
[ "$(bounce_rows user5@example.org "$C2")" = 1 ] || fail "user5 has $(bounce_rows user5@example.org "$C2") bounces in the second campaign"
[ "$(psql_q "SELECT source FROM bounces WHERE campaign_id = $C2")" = dsn ] || fail "the DSN's row was replaced"
counters_agree

check "a rotation mid-way: the rest of the old file, then the new one; nothing lost or doubled"
psql_q "INSERT INTO lists (name) VALUES ('third')" >/dev/null
psql_q "INSERT INTO subscriptions (subscriber_id, list_id, status) SELECT s.id, l.id, 'confirmed' FROM subscribers s, lists l
        WHERE l.name = 'third' AND s.email IN ('user1@example.org', 'user2@example.org', 'user3@example.org')" >/dev/null
run_campaign Third third
C3=$C
for u in 1 2 3; do wait_for "user$u delivered" 60 logged "$(qid_of user$u@example.org "$C3"): to=<user$u@example.org>.*status=sent" 1; done
lines0=$(psql_q "SELECT lines FROM mta_log_position")
read0=$(psql_q "SELECT read_to FROM mta_log_position")
mv "$LOG" "$LOG.1"
postfix -c "$MTA" reload >/dev/null 2>&1
run_campaign Fourth third
C4=$C
for u in 1 2 3; do wait_for "user$u delivered" 60 logged "$(qid_of user$u@example.org "$C4"): to=<user$u@example.org>.*status=sent" 1; done
postino mta follow "$LOG" --once --json
expect_rc 0
for c in "$C3" "$C4"; do
    [ "$(mta_of "$c")" = "user1@example.org delivered $inner 0 2.0.0
user2@example.org delivered $inner 0 2.0.0
user3@example.org delivered $inner 0 2.0.0" ] || fail "campaign $c: $(mta_of "$c")"
done
read_to=$(psql_q "SELECT read_to FROM mta_log_position")
[ "$(psql_q "SELECT inode FROM mta_log_position")" = "$(stat -c %i "$LOG")" ] || fail "the position is not on the new file"
# every line after the old position was read once: the rest of the old file, the new one up to the position
want=$(( lines0 + $(tail -c +$((read0 + 1)) "$LOG.1" | wc -l) + $(head -c "$read_to" "$LOG" | wc -l) ))
[ "$(psql_q "SELECT lines FROM mta_log_position")" = "$want" ] ||
    fail "lines read: $(psql_q "SELECT lines FROM mta_log_position"), expected $want"
[ "$(tail -c 1 "$LOG.1" | od -An -c | tr -d ' ')" = '\n' ] || fail "the old file ends in a partial line"

check "a restarted follower resumes at the saved position"
: > follow.out
"$BIN" mta follow "$LOG" --settle 2 > follow.out 2> follow.err &
FPID=$!
psql_q "INSERT INTO lists (name) VALUES ('fifth')" >/dev/null
psql_q "INSERT INTO subscriptions (subscriber_id, list_id, status) SELECT s.id, l.id, 'confirmed' FROM subscribers s, lists l
        WHERE l.name = 'fifth' AND s.email IN ('user2@example.org', 'user4@example.org')" >/dev/null
run_campaign Fifth fifth
C5=$C
c5_done() { [ "$(mta_of "$C5" | grep -c ' delivered ')" = 2 ]; }
wait_for "the running follower to record campaign $C5" 60 c5_done
kill -TERM "$FPID"
wait "$FPID"
frc=$?
FPID=""
[ "$frc" = 0 ] || fail "the follower exited $frc: $(cat follow.err)"
grep -q "deliveries changed" follow.out || fail "the follower printed no summary: $(cat follow.out)"
pos1=$(psql_q "SELECT read_to FROM mta_log_position")
run_campaign Sixth fifth
C6=$C
for u in 2 4; do wait_for "user$u delivered" 60 logged "$(qid_of user$u@example.org "$C6"): to=<user$u@example.org>.*status=sent" 1; done
postino mta follow "$LOG" --once --json
expect_rc 0
[ "$(jq_get "$out" "(j['changed'], j['lines'] > 0)")" = "(2, True)" ] || fail "resumed read: $out"
[ "$(mta_of "$C6")" = "user2@example.org delivered $inner 0 2.0.0
user4@example.org delivered $inner 0 2.0.0" ] || fail "campaign $C6: $(mta_of "$C6")"
[ "$(psql_q "SELECT read_to > $pos1 FROM mta_log_position")" = t ] || fail "the position did not move on"

check "serve follows the log when [mta] log is set"
POSTINO_MTA_LOG="$LOG" POSTINO_MTA_SETTLE=2 POSTINO_MTA_POLL_MS=200 "$BIN" serve --no-send --listen 127.0.0.1:15080 \
    > serve.out 2> serve.err &
SPID=$!
run_campaign Seventh fifth
C7=$C
c7_done() { [ "$(mta_of "$C7" | grep -c ' delivered ')" = 2 ]; }
wait_for "serve to record campaign $C7" 60 c7_done
kill -TERM "$SPID"
wait "$SPID"
SPID=""
grep -q "mta: following $LOG" serve.err || fail "serve did not say it follows the log: $(cat serve.err)"

check "what the states look like: campaign stats, the delivery listing, subscriber history"
postino campaign stats "$C1" --json
expect_rc 0
[ "$(jq_get "$out" "j['mta']")" = "{'delivered': 4, 'deferred': 2, 'bounced': 1, 'expired': 1}" ] || fail "stats: $out"
postino campaign stats "$C1"
expect_out "Postfix"
postino subscriber history user6@example.org --json
expect_rc 0
[ "$(jq_get "$out" "[(d['mta']['state'], d['mta']['host'], d['mta']['deferrals'] > 0) for d in j['deliveries']['items'] if d['campaign']['id'] == $C1]")" = \
  "[('deferred', '$inner', True)]" ] || fail "history: $out"
postino mta follow
expect_rc 2
expect_err "FILE"
postino mta follow "$WORK/none.log" --once --json
expect_rc 0
[ "$(jq_get "$out" "j['lines']")" = 0 ] || fail "a missing file: $out"

finish
