#!/bin/bash
# test_warmup - a warm-up's daily cap, shared by two senders: a cap of 40
# today for example.com, a campaign of 100 from news@example.com; two
# `postino send --until-done` send exactly 40 between them and end, saying
# that 60 wait until the next UTC day; the 60 stay queued (not failed, not
# deferred) with next_attempt_at at midnight UTC; campaign stats, warmup ls
# and show tell the same, and so do the API and /metrics. The CLI's and the
# API's errors; raising today's cap lets 10 more go today; removing the
# warm-up lets the rest go; a relay's warm-up counts a campaign naming none.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
source "$ROOT/tests/integration/api_lib.sh"
api_setup 22180
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; api_stop' EXIT
export POSTINO_SEND_BATCH=10

mta_start 22597 22035
postino db init
expect_rc 0
relay_setup
postino list create crowd
add_subscribers crowd 1 100
printf '<p>Hello {{ name }}.</p>\n' > body.html
tomorrow=$(psql_q "SELECT ((now() AT TIME ZONE 'UTC')::date + 1)::text")

check "warmup set, its errors, curves"
postino warmup set News.Example.COM --days "40, 80,160"
expect_rc 0
expect_out_eq "added warm-up for news.example.com: 3 days, today's cap 40 (0 sent)"
postino warmup rm news.example.com
expect_rc 0
postino warmup set example.com --days 40,80,160 --json
expect_rc 0
[ "$(jq_get "$out" "(j['target'], j['days'], j['day'], j['cap_today'], j['cap_tomorrow'], j['sent_today'], j['waiting'])")" = \
  "('example.com', [40, 80, 160], 1, 40, 80, 0, 0)" ] || fail "set: $out"
postino warmup set example.com --days 40,20
expect_rc 1
expect_err_lines 1
expect_err 'invalid warm-up days "40,20": a day'"'"'s cap is never smaller than the day before'"'"'s'
postino warmup set example.com --days 40,x
expect_rc 1
expect_err 'invalid warm-up days "40,x": each day'"'"'s cap must be a whole number'
postino warmup set bad_domain --days 5
expect_rc 1
expect_err 'invalid warm-up target "bad_domain": a domain has only letters, digits'
postino warmup set example.com --curve nosuch
expect_rc 1
expect_err 'no warm-up curve "nosuch"'
postino warmup set example.com
expect_rc 2
postino warmup curves --json
expect_rc 0
[ "$(jq_get "$out" "[(c['name'], c['days'][:3], len(c['days'])) for c in j]")" = \
  "[('gentle', [20, 40, 60], 30), ('standard', [50, 100, 200], 30)]" ] || fail "curves: $out"
postino warmup set relay:local --curve standard --start 2020-01-01
expect_rc 0
expect_out_eq "added warm-up for relay:local: 30 days, no cap today"
[ "$(jq_get "$(psql_q "SELECT warmup_json(w) FROM warmups w WHERE target = 'relay:local'")" "(j['done'], j['curve'], j['cap_today'])")" = \
  "(True, 'standard', None)" ] || fail "a warm-up past its last day has no cap"
postino warmup show example.com
expect_rc 0
expect_out "today:     0 of 40 sent"
[ "$(psql_q "SELECT count(*) FROM warmups")" = 2 ] || fail "warm-ups: $(psql_q "SELECT target FROM warmups")"

check "two senders, a cap of 40: exactly 40 today, 60 wait, both end"
postino campaign create --name Warm --subject 'Hi {{ name }}' --from 'news@example.com' --list crowd --html body.html --json
C=$(jq_get "$out" "j['id']")
postino campaign send "$C"
expect_rc 0
"$BIN" send --name one --until-done > one.out 2>&1 &
S1=$!
"$BIN" send --name two --until-done > two.out 2>&1 &
S2=$!
pids+=("$S1" "$S2")
wait_for "sender one to end" 120 bash -c "! kill -0 $S1 2>/dev/null"
wait_for "sender two to end" 120 bash -c "! kill -0 $S2 2>/dev/null"
wait "$S1"
r1=$?
wait "$S2"
r2=$?
[ "$r1.$r2" = 0.0 ] || fail "senders exited $r1 and $r2"
for f in one.out two.out; do
    grep -q "sender: 60 deliveries wait for their warm-up's next day, until $tomorrow 00:00:00 UTC" "$f" ||
        fail "$f: $(tail -3 "$f")"
done
[ "$(psql_q "SELECT n_sent, n_queued, n_deferred, n_failed FROM campaigns WHERE id = $C")" = "40|60|0|0" ] ||
    fail "counters: $(psql_q "SELECT n_sent, n_queued, n_deferred, n_failed FROM campaigns WHERE id = $C")"
[ "$(psql_q "SELECT count(*) FROM deliveries WHERE campaign_id = $C AND state = 'queued' AND held_for = 'warmup:example.com'
             AND lease_owner IS NULL AND next_attempt_at = ('$tomorrow'::date)::timestamp AT TIME ZONE 'UTC'")" = 60 ] ||
    fail "held: $(psql_q "SELECT state, held_for, next_attempt_at, count(*) FROM deliveries WHERE campaign_id = $C GROUP BY 1, 2, 3")"
counters_match_ledger "$C"
mta_drain
[ "$(sink_count)" = 40 ] || fail "the sink got $(sink_count) messages"
[ "$(psql_q "SELECT n FROM warmup_counts WHERE target = 'example.com'")" = 40 ] || fail "counted"

check "what waits is shown: campaign stats, warmup ls and show"
postino campaign stats "$C" --json
expect_rc 0
[ "$(jq_get "$out" "(j['pacing']['warmup_waiting'], j['pacing']['warmup_until'][:10], [(w['target'], w['sent_today'], w['cap_today']) for w in j['pacing']['warmups']])")" = \
  "(60, '$tomorrow', [('example.com', 40, 40), ('relay:local', 0, None)])" ] || fail "stats: $out"
postino campaign stats "$C"
expect_out "warm-up example.com: day 1, 40 of today's 40 sent"
expect_out "waiting for warm-up: 60 until $tomorrow"
postino warmup ls
expect_rc 0
printf '%s\n' "$out" | grep -qE "^example.com +[0-9-]+ +1/3 +40 +40 +80 +60 until $tomorrow" || fail "ls: $out"
postino warmup show example.com --json
[ "$(jq_get "$out" "(j['sent_today'], j['waiting'])")" = "(40, 60)" ] || fail "show: $out"

check "the API and /metrics: the same warm-up, what waits, a provider's pace"
POSTINO_HTTP_METRICS_CACHE=0 "$BIN" serve --no-send --listen "127.0.0.1:22180" > serve.out 2> serve.err &
SERVER=$!
api_wait
api_admin
req GET "/api/v1/campaigns/$C/pacing"
expect_code 200
expect_json "(j['warmup_waiting'], j['warmup_until'][:10], j['held_for_pace'])" "(60, '$tomorrow', 0)"
req GET /api/v1/warmups/example.com
expect_code 200
expect_json "(j['cap_today'], j['sent_today'], j['waiting'], j['cap_tomorrow'])" "(40, 40, 60, 80)"
req GET /api/v1/warmups
expect_json "[w['target'] for w in j['items']]" "['example.com', 'relay:local']"
req PUT /api/v1/warmups/news.example.net '{"days": "10,5"}'
expect_error 400 invalid_field days
req PUT /api/v1/warmups/news.example.net '{"curve": "gentle"}'
expect_code 201
expect_json "(j['target'], j['cap_today'], j['curve'])" "('news.example.net', 20, 'gentle')"
req PUT /api/v1/warmups/news.example.net '{"days": "30,60"}'
expect_code 200
expect_json "(j['days'], j['curve'])" "([30, 60], None)"
req DELETE /api/v1/warmups/news.example.net
expect_code 204
req GET /api/v1/warmups/news.example.net
expect_code 404
req GET /api/v1/warmup-curves
expect_json "[c['name'] for c in j['items']]" "['gentle', 'standard']"
req PATCH /api/v1/providers/google/pace '{"per_minute": 600, "per_hour": 20000}'
expect_code 200
expect_json "(j['pace']['per_minute'], j['pace']['per_hour'], j['pace']['rate_per_minute'])" "(600, 20000, 600)"
req PATCH /api/v1/providers/google/pace '{"per_hour": null}'
expect_json "(j['pace']['per_minute'], j['pace']['per_hour'])" "(600, None)"
req PATCH /api/v1/providers/google/pace '{"per_minute": 0}'
expect_error 400 invalid_field per_minute
req POST /api/v1/rate-texts '{"pattern": "421-4.7.0 try again", "provider": "yahoo"}'
expect_code 201
expect_json "(j['provider'], j['pattern'])" "('yahoo', '421-4.7.0 try again')"
req DELETE "/api/v1/rate-texts?pattern=421-4.7.0%20try%20again&provider=yahoo"
expect_code 204
req GET /metrics
expect_code 200
for m in 'postino_warmup_cap{target="example.com"} 40' 'postino_warmup_sent{target="example.com"} 40' \
         'postino_warmup_waiting{target="example.com"} 60' 'postino_provider_pace_per_minute{provider="google"} 600' \
         'postino_provider_slowed{provider="google"} 0'; do
    printf '%s\n' "$body" | grep -qxF "$m" || fail "metrics: no $m"
done
printf '%s\n' "$body" | grep -q '^postino_warmup_cap{target="relay:local"}' && fail "a warm-up past its end has no cap"
kill -TERM "$SERVER"
wait "$SERVER"
SERVER=""
postino provider pace google --per-minute off
expect_rc 0

check "today's cap raised: 10 more go today, the rest still wait"
postino warmup set example.com --days 50,80,160
expect_rc 0
expect_out_eq "changed warm-up for example.com: 3 days, today's cap 50 (40 sent)"
postino send --until-done
expect_rc 0
expect_err "sender: 50 deliveries wait for their warm-up's next day, until $tomorrow 00:00:00 UTC"
[ "$(psql_q "SELECT n_sent, n_queued FROM campaigns WHERE id = $C")" = "50|50" ] ||
    fail "after raising the cap: $(psql_q "SELECT n_sent, n_queued FROM campaigns WHERE id = $C")"

check "removing the warm-up lets the rest go"
postino warmup rm example.com
expect_rc 0
postino warmup rm example.com
expect_rc 1
expect_err 'no warm-up for "example.com"'
postino send --until-done
expect_rc 0
[ "$(campaign_status "$C")" = finished ] || fail "campaign $(campaign_status "$C")"
[ "$(psql_q "SELECT n_sent FROM campaigns WHERE id = $C")" = 100 ] || fail "sent $(psql_q "SELECT n_sent FROM campaigns WHERE id = $C")"
mta_drain
[ "$(sink_rcpts | uniq | wc -l)" = 100 ] && [ "$(sink_count)" = 100 ] || fail "the sink: $(sink_count) messages"

check "a relay's warm-up counts a campaign that names no relay"
postino warmup set relay:local --days 7,14 --start "$(psql_q "SELECT (now() AT TIME ZONE 'UTC')::date")"
expect_rc 0
postino campaign create --name Warm2 --subject 'Hi {{ name }}' --from 'news@other.example' --list crowd --html body.html --json
C2=$(jq_get "$out" "j['id']")
postino campaign send "$C2"
postino send --until-done
expect_rc 0
expect_err "sender: 93 deliveries wait for their warm-up's next day, until $tomorrow 00:00:00 UTC"
[ "$(psql_q "SELECT n_sent, n_queued FROM campaigns WHERE id = $C2")" = "7|93" ] ||
    fail "relay cap: $(psql_q "SELECT n_sent, n_queued FROM campaigns WHERE id = $C2")"
finish
