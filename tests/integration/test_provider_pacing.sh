#!/bin/bash
# test_provider_pacing - a provider's pace, shared by two senders, and its
# halving when the provider defers for rate (AIMD), through a real Postfix:
# transport_maps route slow.test and fast.test to two receivers on loopback
# (tests/integration/pace_receiver.py, aiosmtpd); the slow one answers
# "421 4.7.28 ... rate limited" above 60 recipients in any 60 seconds and
# records every attempt with its time. Provider "slowmail" (slow.test) is
# paced at 60 a minute. One campaign of 2,000 recipients, most to fast.test
# and one in twenty to slow.test (POSTINO_TEST_PACING_EVEN=1: half each),
# is sent by two `postino send` processes while `postino mta follow` reads
# Postfix's log. Asserted: after the first minute the slow receiver sees at
# most its limit plus a small margin each minute; the fast one is not held
# to that pace (it finishes first, and takes well over 60 in a minute); every
# recipient is delivered exactly once (ledger and receivers); the halving is
# in campaign stats with its reason (the 4.7.28 text Postfix logged).
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; mta_stop; cleanup' EXIT
N=2000
EVERY=20
[ "${POSTINO_TEST_PACING_EVEN:-0}" = 1 ] && EVERY=2
LIMIT=60
MARGIN=15
SLOW_PORT=22101
FAST_PORT=22102
LOG="$MTA/postfix.log"
export POSTINO_SEND_BATCH=100

receiver() {   # receiver PORT FILE [LIMIT]
    /usr/bin/python3 "$ROOT/tests/integration/pace_receiver.py" "$@" > "$2.out" 2>&1 &
    pids+=($!)
}
listening() { grep -q listening "$1.out" 2>/dev/null; }
count_in() { grep -c " $2 " "$1" 2>/dev/null || true; }   # count_in FILE accepted|refused

mta_start 22587 22025
postino db init
expect_rc 0
receiver "$SLOW_PORT" "$WORK/slow.log" "$LIMIT"
receiver "$FAST_PORT" "$WORK/fast.log"
wait_for "the slow receiver" 30 listening "$WORK/slow.log"
wait_for "the fast receiver" 30 listening "$WORK/fast.log"
printf 'slow.test smtp:[127.0.0.1]:%s\nfast.test smtp:[127.0.0.1]:%s\n' "$SLOW_PORT" "$FAST_PORT" > "$MTA/transport"
# a refused destination is tried again within a minute, as the test's span allows
mta_conf "transport_maps = texthash:$MTA/transport" "minimal_backoff_time = 30s" "maximal_backoff_time = 60s" \
    "queue_run_delay = 10s" "delay_warning_time = 0"
relay_setup
postino list create crowd
psql_q "WITH s AS (INSERT INTO subscribers (email, name)
          SELECT 'u' || i || CASE WHEN i % $EVERY = 0 THEN '@slow.test' ELSE '@fast.test' END, 'U ' || i
          FROM generate_series(1, $N) i RETURNING id)
        INSERT INTO subscriptions (subscriber_id, list_id, status) SELECT s.id, l.id, 'confirmed' FROM s, lists l" >/dev/null
NSLOW=$((N / EVERY))
NFAST=$((N - NSLOW))
printf '<p>Hello {{ name }}.</p>\n' > body.html

check "provider pace: set, shown, its errors"
postino provider add slowmail --domain slow.test
expect_rc 0
postino provider pace slowmail --per-minute "$LIMIT" --per-hour 100000 --json
expect_rc 0
[ "$(jq_get "$out" "(j['pace']['per_minute'], j['pace']['per_hour'], j['pace']['rate_per_minute'], j['pace']['slowed'])")" = \
  "($LIMIT, 100000, $LIMIT, False)" ] || fail "pace: $out"
postino provider pace slowmail --per-hour off --aimd-window 60
expect_rc 0
expect_out "pace:     $LIMIT/min;"
postino provider ls
expect_rc 0
printf '%s\n' "$out" | grep -qE "^[0-9]+ +slowmail +0 +$LIMIT/min +slow.test" || fail "ls: $out"
postino provider pace slowmail --per-minute -3
expect_rc 2
expect_err 'invalid --per-minute "-3": a count from 1 to 10000000, or off'
postino provider pace nosuch --per-minute 5
expect_rc 1
expect_err_lines 1
expect_err 'no provider "nosuch"'
postino provider pace slowmail --aimd-window 5
expect_rc 1
expect_err 'the window of deferrals is 10 to 86400 seconds'
postino provider rate-text ls --json
expect_rc 0
[ "$(jq_get "$out" "sorted((r['provider'] or '*', r['pattern']) for r in j)")" = \
  "[('*', '421 4.7.0'), ('google', '4.7.28'), ('google', 'rate limited'), ('microsoft', 'S3150'), ('microsoft', 'temporarily rate limited'), ('yahoo', 'TSS04')]" ] ||
    fail "rate texts: $out"
postino provider rate-text add 4.7.28 --provider slowmail
expect_rc 0
postino provider rate-text add 4.7.28 --provider slowmail
expect_rc 1
expect_err 'the rate text "4.7.28" is there already'

check "two senders, one campaign: the slow provider paced, the fast one not"
"$BIN" mta follow "$LOG" --settle 1 > follow.out 2>&1 &
pids+=($!)
postino campaign create --name Paced --subject 'Hi {{ name }}' --from 'news@example.com' --list crowd --html body.html --json
expect_rc 0
C=$(jq_get "$out" "j['id']")
postino campaign send "$C"
expect_rc 0
"$BIN" send --name one --until-done > one.out 2>&1 &
S1=$!
"$BIN" send --name two --until-done > two.out 2>&1 &
S2=$!
pids+=("$S1" "$S2")
all_in() { [ "$(count_in "$WORK/fast.log" accepted)" -ge "$NFAST" ] && [ "$(count_in "$WORK/slow.log" accepted)" -ge "$NSLOW" ]; }
# the slow provider's share at half its pace (30 a minute) at worst, and two minutes more
wait_for "every recipient at its receiver" $((120 + NSLOW * 2)) all_in
wait "$S1"
r1=$?
wait "$S2"
r2=$?
[ "$r1.$r2" = 0.0 ] || fail "senders exited $r1 and $r2: $(tail -3 one.out) $(tail -3 two.out)"
[ "$(campaign_status "$C")" = finished ] || fail "campaign $(campaign_status "$C")"
# both senders took part, and together sent each once
n1=$(sed -n 's/.*no campaign is running; done (\([0-9]*\) sent.*/\1/p' one.out)
n2=$(sed -n 's/.*no campaign is running; done (\([0-9]*\) sent.*/\1/p' two.out)
[ "${n1:-0}" -gt 0 ] && [ "${n2:-0}" -gt 0 ] && [ $((n1 + n2)) = "$N" ] ||
    fail "senders sent ${n1:-?} and ${n2:-?}: $(tail -2 one.out) $(tail -2 two.out)"

check "the slow receiver: at most its limit plus $MARGIN a minute after the first minute"
per_minute=$(/usr/bin/python3 - "$WORK/slow.log" <<'EOF'
import sys
ts = sorted(float(l.split()[0]) for l in open(sys.argv[1]) if l.split()[1] in ('accepted', 'refused'))
t0 = ts[0]
bins = {}
for t in ts:
    bins[int((t - t0) // 60)] = bins.get(int((t - t0) // 60), 0) + 1
print(' '.join('%d' % bins.get(k, 0) for k in range(max(bins) + 1)))
EOF
)
echo "slow receiver, attempts per minute: $per_minute; refused: $(count_in "$WORK/slow.log" refused)" >> pacing.log
for n in $(echo "$per_minute" | cut -d' ' -f2-); do
    [ "$(echo "$per_minute" | wc -w)" -gt 1 ] || break
    [ "$n" -le $((LIMIT + MARGIN)) ] || fail "the slow receiver saw $n attempts in a minute (limit $LIMIT + $MARGIN): $per_minute"
done
[ "$(echo "$per_minute" | wc -w)" -ge 2 ] || fail "the slow provider's mail took less than a minute: $per_minute"

check "the fast receiver was not held to the slow provider's pace"
spans=$(/usr/bin/python3 - "$WORK/fast.log" "$WORK/slow.log" <<'EOF'
import sys
f = sorted(float(l.split()[0]) for l in open(sys.argv[1]) if ' accepted ' in l)
s = sorted(float(l.split()[0]) for l in open(sys.argv[2]) if ' accepted ' in l)
best = max(sum(1 for u in f if t <= u < t + 60) for t in f[::50])
print(int(f[-1] < s[-1]), best, round(f[-1] - f[0], 1), round(s[-1] - s[0], 1))
EOF
)
echo "fast finished first, most in a minute, fast span s, slow span s: $spans" >> pacing.log
set -- $spans
[ "$1" = 1 ] || fail "the fast receiver finished after the slow one: $spans"
[ "$2" -gt $((2 * LIMIT)) ] || fail "the fast receiver got at most $2 in a minute: $spans"

check "every recipient delivered exactly once"
[ "$(psql_q "SELECT state || ' ' || count(*) FROM deliveries WHERE campaign_id = $C GROUP BY state")" = "sent $N" ] ||
    fail "ledger: $(psql_q "SELECT state, count(*) FROM deliveries WHERE campaign_id = $C GROUP BY state")"
# Postfix's short queue ids (the default) are made of the queue file's inode
# and microseconds, so two messages a minute apart can share one: each
# delivery has one, and no two deliveries share one for the same recipient.
qids=$(psql_q "SELECT count(queue_id) || ' ' || count(DISTINCT (queue_id, subscriber_id)) FROM deliveries WHERE campaign_id = $C")
[ "$qids" = "$N $N" ] || fail "queue ids (with one, distinct per recipient): $qids of $N"
counters_match_ledger "$C"
got=$(cat "$WORK/fast.log" "$WORK/slow.log" | awk '$2 == "accepted" {print $3}' | sort)
want=$(psql_q "SELECT s.email FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.campaign_id = $C" | sort)
[ "$(printf '%s\n' "$got" | wc -l)" = "$N" ] || fail "the receivers accepted $(printf '%s\n' "$got" | wc -l) recipients, $N sent"
[ "$got" = "$want" ] || fail "the receivers' recipients differ from the ledger's: $(diff <(printf '%s\n' "$got") <(printf '%s\n' "$want") | head -5)"
[ -z "$(printf '%s\n' "$got" | uniq -d)" ] || fail "received twice: $(printf '%s\n' "$got" | uniq -d | head -3)"

check "the halving in campaign stats, with its reason"
halved() { [ "$(psql_q "SELECT count(*) FROM provider_pace_events e JOIN providers p ON p.id = e.provider_id
                        WHERE p.name = 'slowmail' AND e.kind = 'halved'")" -ge 1 ]; }
wait_for "a halving recorded" 60 halved
postino campaign stats "$C" --json
expect_rc 0
ev=$(jq_get "$out" "[e for p in j['pacing']['providers'] if p['provider'] == 'slowmail' for e in p['events'] if e['kind'] == 'halved'][-1]")
[ "$(jq_get "$out" "[(p['provider'], p['per_minute']) for p in j['pacing']['providers']]")" = "[('slowmail', $LIMIT)]" ] ||
    fail "paced providers: $(jq_get "$out" "j['pacing']['providers']")"
[ "$(/usr/bin/python3 -c "import ast,sys; e = ast.literal_eval(sys.argv[1]); print(e['rate_from'] == $LIMIT and e['rate_to'] == $LIMIT / 2 and e['deferrals'] >= 3 and '4.7.28' in e['reason'] and 'rate limited' in e['reason'])" "$ev")" = True ] ||
    fail "the first halving: $ev"
postino campaign stats "$C"
expect_rc 0
printf '%s\n' "$out" | grep -qE "^ +[0-9-]+T.* halved $LIMIT -> $((LIMIT / 2))/min after [0-9]+ rate deferrals: 4\.7\.28 .*421 4\.7\.28 .*rate limited" ||
    fail "stats text: $out"
expect_out "pace by provider:"
postino provider show slowmail
expect_rc 0
expect_out "halved $LIMIT -> $((LIMIT / 2))/min"
cat pacing.log
finish
