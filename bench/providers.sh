#!/bin/bash
# providers.sh - a campaign's counts by mailbox provider at N deliveries
# (default 1,000,000), against the same counts made from the deliveries and
# their subscribers' domains, in one run.
#
# In a private cluster under build/bench/providers: N subscribers spread over
# gmail.com (40%), hotmail.co.uk (20%), yahoo.com (10%) and 50 other domains,
# one finished campaign to all of them, and Postfix's outcome of each
# delivery inserted into delivery_mta as the log's follower does (through the
# trigger that finds each row's provider and learns domains): 94% delivered,
# 3% still deferred, 3% bounced, with their bounce rows. Prints
#   load:       the inserts through the trigger, per event, in transactions of 2,000
#   providers:  store_provider_campaign's query (EXPLAIN ANALYZE's execution time, the median of R)
#   by hand:    the same counts grouped by the subscribers' domains (provider_of per domain)
set -eu
N=${N:-1000000}
R=${R:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${POSTINO_BIN:-$ROOT/build/postino}
WORK="$ROOT/build/bench/providers"
[ -x "$BIN" ] || { echo "bench/providers: build postino first (make postino)"; exit 1; }
PSQL=$(ls /usr/lib/postgresql/*/bin/psql | tail -1)

rm -rf "$WORK"
mkdir -p "$WORK"
chmod 755 "$ROOT/build" "$ROOT/build/bench" "$WORK"
cd "$WORK"
unset POSTINO_DB POSTINO_CONFIG
trap '"$BIN" db stop >/dev/null 2>&1 || true' EXIT
q() { "$PSQL" -X -q -A -t -h "$WORK/var/pg/run" -U postino -d postino -c "$1"; }
now() { date +%s%N; }
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
exec_ms() { q "EXPLAIN (ANALYZE, FORMAT JSON) $1" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Execution Time"])'; }

"$BIN" db init >/dev/null
q "INSERT INTO lists (name) VALUES ('all');
   INSERT INTO subscribers (email, name)
   SELECT 'sub' || g || '@' || CASE WHEN g % 10 < 4 THEN 'gmail.com' WHEN g % 10 < 6 THEN 'hotmail.co.uk'
                                    WHEN g % 10 < 7 THEN 'yahoo.com' ELSE 'd' || (g % 50) || '.example' END, 'S' || g
   FROM generate_series(1, $N) g;
   INSERT INTO campaigns (name, subject, from_addr, html, status, started_at, finished_at)
   VALUES ('P', 'P', 'news@example.com', '<p>x</p>', 'finished', now() - interval '2 days', now() - interval '1 day');
   INSERT INTO deliveries (campaign_id, subscriber_id, list_id, state, attempts, smtp_code, queue_id, sent_at, updated_at)
   SELECT c.id, s.id, l.id, 'sent', 1, 250, 'Q' || s.id, now() - interval '2 days', now() - interval '2 days'
   FROM campaigns c, subscribers s, lists l WHERE c.name = 'P' AND l.name = 'all'" >/dev/null
q "VACUUM ANALYZE" >/dev/null
t0=$(now)
# in transactions of 2,000 events, as the follower records a batch of log lines (MTA_WATCH_BATCH)
q "DO \$\$ BEGIN FOR b IN 0 .. ($N - 1) / 2000 LOOP
   INSERT INTO delivery_mta (delivery_id, state, host, dsn, deferrals, at)
   SELECT d.id, CASE WHEN d.id % 100 < 94 THEN 'delivered' WHEN d.id % 100 < 97 THEN 'deferred' ELSE 'bounced' END,
          'mx' || (d.id % 4) || '.example.net[192.0.2.' || (d.id % 200) || ']:25',
          CASE WHEN d.id % 100 < 94 THEN '2.0.0' WHEN d.id % 100 < 97 THEN '4.2.0' ELSE '5.1.1' END,
          CASE WHEN d.id % 100 BETWEEN 94 AND 96 THEN 2 ELSE 0 END,
          d.sent_at + (d.id % 600) * interval '1 second'
   FROM deliveries d WHERE d.id > b * 2000 AND d.id <= (b + 1) * 2000;
   COMMIT; END LOOP; END \$\$" >/dev/null
t1=$(now)
q "INSERT INTO bounces (subscriber_id, campaign_id, delivery_id, email, class, source, status)
   SELECT d.subscriber_id, d.campaign_id, d.id, s.email, 'hard', 'mta', '5.1.1'
   FROM delivery_mta m JOIN deliveries d ON d.id = m.delivery_id JOIN subscribers s ON s.id = d.subscriber_id
   WHERE m.state = 'bounced'" >/dev/null
q "VACUUM ANALYZE" >/dev/null
C=$(q "SELECT id FROM campaigns WHERE name = 'P'")
echo "load: $N log events through the provider trigger in $(( (t1 - t0) / 1000000 )) ms: $(( (t1 - t0) / N / 1000 )) µs per event"

# store_provider_campaign's query, as engine/store/providers.c sends it (its text from the binary's strings)
SQL=$(strings "$BIN" | grep -m1 "^WITH c AS (SELECT id FROM campaigns WHERE id = \$1::bigint), m AS" | sed "s/\$1::bigint/$C::bigint/g")
[ -n "$SQL" ] || { echo "bench/providers: the query was not found in the binary"; exit 1; }
HAND="SELECT coalesce(provider_of(x.dom), 0), count(*) FILTER (WHERE m.state = 'delivered'),
        count(*) FILTER (WHERE m.state = 'deferred'), sum(m.deferrals), count(*) FILTER (WHERE m.state = 'bounced'),
        percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM m.at - d.sent_at)) FILTER (WHERE m.state = 'delivered'),
        percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM m.at - d.sent_at)) FILTER (WHERE m.state = 'delivered')
      FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id JOIN delivery_mta m ON m.delivery_id = d.id
      CROSS JOIN LATERAL (SELECT provider_domain_of(s.email) AS dom) x
      WHERE d.campaign_id = $C GROUP BY x.dom"
p=$(for i in $(seq "$R"); do exec_ms "$SQL"; done | median)
h=$(for i in $(seq "$R"); do exec_ms "$HAND"; done | median)
echo "providers: campaign of $N by provider in $p ms (EXPLAIN ANALYZE, median of $R)"
echo "by hand:   the same from the deliveries' domains in $h ms"
/usr/bin/python3 -c "print('providers ratio postino/by hand: %.2f (goal <= 0.5)' % ($p / $h))"
q "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) $SQL" | grep -E "Index Only|Heap Fetches|Execution" | head -4
t2=$(now)
"$BIN" campaign stats "$C" --json >/dev/null
t3=$(now)
echo "campaign stats $C --json (whole command): $(( (t3 - t2) / 1000000 )) ms"
