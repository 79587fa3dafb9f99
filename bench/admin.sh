#!/bin/bash
# admin.sh - the web admin's pages (dashboard, lists, subscribers found and
# filtered, one subscriber, campaigns, the editor, import, settings, account,
# images, a campaign's report, bounces, one bounce) at 10,000 subscribers and
# again at 1,000,000, against themselves: the API calls each page makes on
# load, timed from loopback.
#
# In a private cluster under build/bench/admin: S1 subscribers (default
# 10,000), a finished campaign A to all of them (1% failed with a bounce, a
# third opened), a running campaign S to 100 of them, a few complaints; the
# API calls of every page are timed R times (default 30) with postino serve
# --no-send, one after the other. Then the tables grow to S2 subscribers
# (default 1,000,000) with a finished campaign B to all of them, made the
# same way, and the same pages are timed again: A's report becomes B's (a
# finished campaign of each size), the rest stay the same pages. Prints
#   admin dashboard: p95 4.1 ms at 10000, 4.3 ms at 1000000: ratio 1.05 (goal <= 2)
# A page whose work does not grow with the tables stays near 1. A finished
# campaign's report reads counts kept by the writes, and its domains as
# counted once when the campaign was over: the first load, which counts them
# (every delivery of the campaign), is printed apart (domains-count), as is
# what Retry's dry run reads when it is pressed (every failed delivery).
set -eu
S1=${S1:-10000}
S2=${S2:-1000000}
R=${R:-30}
PORT=${PORT:-18481}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${POSTINO_BIN:-$ROOT/build/postino}
WORK="$ROOT/build/bench/admin"
[ -x "$BIN" ] || { echo "bench/admin: build postino first (make postino)"; exit 1; }
PSQL=$(ls /usr/lib/postgresql/*/bin/psql | tail -1)
API="http://127.0.0.1:$PORT"

rm -rf "$WORK"
mkdir -p "$WORK"
chmod 755 "$ROOT/build" "$ROOT/build/bench" "$WORK"
cd "$WORK"
unset POSTINO_DB POSTINO_CONFIG
SERVER=""
stop() {
    [ -n "$SERVER" ] && kill -TERM "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    [ -n "${KEEP-}" ] || "$BIN" db stop >/dev/null 2>&1 || true
}
trap stop EXIT
q() { "$PSQL" -X -q -A -t -h "$WORK/var/pg/run" -U postino -d postino -c "$1"; }

"$BIN" db init >/dev/null
echo 'bench-admin-password' | "$BIN" user add admin@example.com --role admin >/dev/null
TOKEN=$("$BIN" token create --user admin@example.com | tail -1)
q "INSERT INTO lists (name) VALUES ('all'), ('few')" >/dev/null

# subscribers FROM TO: subscribers subFROM..subTO over 50 domains, on the list 'all'
subscribers() {
    q "INSERT INTO subscribers (email, name, attribs)
       SELECT 'sub' || g || '@d' || (g % 50) || '.example', 'Subscriber ' || g, '{\"city\": \"Roma\"}'
       FROM generate_series($1, $2) g;
       INSERT INTO subscriptions (subscriber_id, list_id, status)
       SELECT s.id, l.id, 'confirmed' FROM subscribers s, lists l
       WHERE l.name = 'all' AND NOT EXISTS (SELECT 1 FROM subscriptions x WHERE x.subscriber_id = s.id AND x.list_id = l.id)" >/dev/null
}
# finished NAME: a campaign sent to every subscriber yesterday, as a sender would have left it:
# 1% failed (a policy bounce each), the rest sent, a third of those opened; its counters and days
finished() {
    q "INSERT INTO campaigns (name, subject, from_addr, html, status, started_at, finished_at, track_opens)
       VALUES ('$1', '$1', 'news@example.com', '<p>x</p>', 'finished', now() - interval '1 day', now() - interval '20 hours', true);
       INSERT INTO campaign_lists SELECT c.id, l.id FROM campaigns c, lists l WHERE c.name = '$1' AND l.name = 'all';
       INSERT INTO deliveries (campaign_id, subscriber_id, list_id, state, attempts, smtp_code, smtp_enhanced, smtp_reply,
                               queue_id, relay, sent_at, updated_at)
       SELECT c.id, s.id, c.l, CASE WHEN s.id % 100 = 0 THEN 'failed' ELSE 'sent' END, 1,
              CASE WHEN s.id % 100 = 0 THEN 550 ELSE 250 END, CASE WHEN s.id % 100 = 0 THEN '5.7.1' ELSE '2.0.0' END,
              CASE WHEN s.id % 100 = 0 THEN 'refused by policy' ELSE 'Ok: queued' END,
              CASE WHEN s.id % 100 = 0 THEN NULL ELSE 'Q' || s.id END, 'local',
              CASE WHEN s.id % 100 = 0 THEN NULL ELSE now() - interval '21 hours' END, now() - interval '21 hours'
       FROM (SELECT c.id, (SELECT id FROM lists WHERE name = 'all') l FROM campaigns c WHERE c.name = '$1') c, subscribers s;
       INSERT INTO bounces (subscriber_id, campaign_id, delivery_id, email, class, source, status, diagnostic, remote_mta)
       SELECT d.subscriber_id, d.campaign_id, d.id, s.email, 'policy', 'smtp', '5.7.1', '550 refused by policy', 'local'
       FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id JOIN campaigns c ON c.id = d.campaign_id
       WHERE c.name = '$1' AND d.state = 'failed';
       INSERT INTO opens (delivery_id, campaign_id, n, first_at, last_at)
       SELECT d.id, d.campaign_id, 1, d.sent_at + (d.id % 20) * interval '1 hour', d.sent_at + (d.id % 20) * interval '1 hour'
       FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id WHERE c.name = '$1' AND d.state = 'sent' AND d.id % 3 = 0;
       UPDATE campaigns c SET n_total = x.t, n_sent = x.s, n_failed = x.f FROM (SELECT campaign_id, count(*) t,
         count(*) FILTER (WHERE state = 'sent') s, count(*) FILTER (WHERE state = 'failed') f FROM deliveries GROUP BY 1) x
       WHERE x.campaign_id = c.id AND c.name = '$1';
       INSERT INTO daily_counts AS dc (day, campaign_id, sent)
       SELECT ((now() - interval '21 hours') AT TIME ZONE 'UTC')::date, id, n_sent FROM campaigns WHERE name = '$1'
       ON CONFLICT (day, campaign_id) DO UPDATE SET sent = dc.sent + excluded.sent" >/dev/null
}

subscribers 1 "$S1"
finished A
# S: running, to 100 subscribers (half sent, some deferred, a few failed), the same in both worlds
q "INSERT INTO subscriptions (subscriber_id, list_id, status) SELECT s.id, l.id, 'confirmed' FROM subscribers s, lists l
   WHERE l.name = 'few' AND s.id <= (SELECT min(id) + 99 FROM subscribers);
   INSERT INTO campaigns (name, subject, from_addr, html, status, started_at) VALUES ('S', 'S', 'news@example.com', 'x', 'running', now());
   INSERT INTO campaign_lists SELECT c.id, l.id FROM campaigns c, lists l WHERE c.name = 'S' AND l.name = 'few';
   INSERT INTO deliveries (campaign_id, subscriber_id, list_id, state, smtp_code, smtp_reply, sent_at)
   SELECT c.id, sl.subscriber_id, sl.list_id, x.state, x.code, x.reply, CASE WHEN x.state = 'sent' THEN now() END
   FROM campaigns c JOIN subscriptions sl ON sl.list_id = (SELECT id FROM lists WHERE name = 'few')
   CROSS JOIN LATERAL (SELECT CASE WHEN sl.subscriber_id % 10 < 5 THEN 'sent' WHEN sl.subscriber_id % 10 = 5 THEN 'deferred'
       WHEN sl.subscriber_id % 10 = 6 THEN 'failed' ELSE 'queued' END AS state) s0
   CROSS JOIN LATERAL (SELECT s0.state, CASE s0.state WHEN 'sent' THEN 250 WHEN 'deferred' THEN 451 WHEN 'failed' THEN 550 END AS code,
       CASE s0.state WHEN 'deferred' THEN 'try later' WHEN 'failed' THEN 'no' END AS reply) x
   WHERE c.name = 'S';
   UPDATE campaigns c SET n_total = x.t, n_sent = x.s, n_failed = x.f, n_deferred = x.df, n_queued = x.q
   FROM (SELECT campaign_id, count(*) t, count(*) FILTER (WHERE state = 'sent') s, count(*) FILTER (WHERE state = 'failed') f,
     count(*) FILTER (WHERE state = 'deferred') df, count(*) FILTER (WHERE state = 'queued') q FROM deliveries GROUP BY 1) x
   WHERE x.campaign_id = c.id AND c.name = 'S';
   INSERT INTO bounces (subscriber_id, campaign_id, email, class, source, status, diagnostic)
   SELECT s.id, c.id, s.email, 'complaint', 'arf', NULL, 'abuse report' FROM subscribers s, campaigns c
   WHERE c.name = 'S' AND s.id <= (SELECT min(id) + 9 FROM subscribers) ORDER BY s.id" >/dev/null
q "VACUUM ANALYZE" >/dev/null
A=$(q "SELECT id FROM campaigns WHERE name = 'A'")
ALL=$(q "SELECT id FROM lists WHERE name = 'all'")
SUB=$(q "SELECT id FROM subscribers ORDER BY id OFFSET $((S1 / 2)) LIMIT 1")
S=$(q "SELECT id FROM campaigns WHERE name = 'S'")

start() {
    "$BIN" serve --no-send --listen "127.0.0.1:$PORT" >>serve.log 2>&1 &
    SERVER=$!
    for _ in $(seq 1 100); do
        curl -s -o /dev/null "$API/healthz" && return 0
        sleep 0.1
    done
    echo "bench/admin: the server did not start"; exit 1
}
halt() { kill -TERM "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""; }

# call METHOD PATH [JSON]: one API call; prints "STATUS SECONDS", the answer in answer.json
call() {
    local args=(-s -o answer.json -w '%{http_code} %{time_total}' -H "Authorization: Bearer $TOKEN" -X "$1")
    [ -n "${3-}" ] && args+=(-H 'Content-Type: application/json' -d "$3")
    curl "${args[@]}" "$API$2"
}

# page NAME CALL...: the p95 in ms over R loads of the page, each load its calls one after the other
# (a CALL is "METHOD PATH [JSON]"); every answer must be 200. One load first, not counted in the
# p95: its time, in ms, is left in first.NAME.
page() {
    local name=$1 c t total i
    shift
    local calls=("$@")
    total=0
    for c in "${calls[@]}"; do
        t=$(call $c)
        total=$(echo "$total + ${t#* }" | bc)
    done
    echo "$total * 1000" | bc | xargs printf '%.1f' > "first.$name"
    : > "times.$name"
    for i in $(seq 1 "$R"); do
        total=0
        for c in "${calls[@]}"; do
            t=$(call $c)
            [ "${t%% *}" = 200 ] || { echo "bench/admin: $c answered ${t%% *}: $(head -c 300 answer.json)" >&2; exit 1; }
            total=$(echo "$total + ${t#* }" | bc)
        done
        echo "$total" >> "times.$name"
    done
    sort -n "times.$name" | awk -v n="$R" '{v[NR] = $1} END {i = int(n * 0.95 + 0.999); printf "%.1f", v[i] * 1000}'
}

# measure WORLD CAMPAIGN: every page's p95, as NAME=ms lines in WORLD.times
measure() {
    local world=$1 camp=$2 dsn
    dsn=$(q "SELECT max(id) FROM bounces WHERE class = 'policy'")
    {
        echo "dashboard=$(page dashboard 'GET /api/v1/dashboard')"
        echo "report-finished=$(page report "GET /api/v1/campaigns/$camp/stats" "GET /api/v1/campaigns/$camp/report" \
            "GET /api/v1/campaigns/$camp/deliveries?state=failed&limit=50" \
            "GET /api/v1/campaigns/$camp/deliveries?state=deferred&limit=50" "GET /api/v1/campaigns/$camp/domains")"
        echo "domains-count=$(cat first.report)"
        echo "retry-dry-run=$(page retry "POST /api/v1/campaigns/$camp/retry {\"dry_run\":true}")"
        echo "report-running=$(page running "GET /api/v1/campaigns/$S/stats" "GET /api/v1/campaigns/$S/report" \
            "GET /api/v1/campaigns/$S/deliveries?state=failed&limit=50" "GET /api/v1/campaigns/$S/deliveries?state=deferred&limit=50" \
            "GET /api/v1/campaigns/$S/domains")"
        echo "lists=$(page lists 'GET /api/v1/lists')"
        echo "subscribers=$(page subscribers 'GET /api/v1/lists' 'GET /api/v1/subscribers?limit=50')"
        echo "subscribers-search=$(page search 'GET /api/v1/subscribers?limit=50&q=sub9876')"
        echo "subscribers-filter=$(page filter "GET /api/v1/subscribers?limit=50&list=$ALL&status=enabled&attr.city=Roma")"
        echo "subscriber=$(page subscriber "GET /api/v1/subscribers/$SUB" "GET /api/v1/subscribers/$SUB/subscriptions" \
            'GET /api/v1/lists' "GET /api/v1/subscribers/$SUB/deliveries?limit=20" \
            "GET /api/v1/subscribers/$SUB/bounces?limit=20" "GET /api/v1/subscribers/$SUB/events?limit=20")"
        echo "campaigns=$(page campaigns 'GET /api/v1/campaigns?limit=50')"
        echo "campaign-editor=$(page editor "GET /api/v1/campaigns/$S" 'GET /api/v1/lists' 'GET /api/v1/templates' \
            'GET /api/v1/dkim-keys' 'GET /api/v1/subscribers?limit=20')"
        echo "import=$(page import 'GET /api/v1/lists')"
        echo "settings=$(page settings 'GET /api/v1/relays' 'GET /api/v1/dkim-keys' 'GET /api/v1/users')"
        echo "account=$(page account 'GET /api/v1/me/tokens' 'GET /api/v1/me')"
        echo "images=$(page images 'GET /api/v1/media?limit=48')"
        echo "bounces=$(page bounces 'GET /api/v1/bounces?limit=50' 'GET /api/v1/bounce-rules' 'GET /api/v1/bounce-policy')"
        echo "bounces-complaints=$(page complaints 'GET /api/v1/bounces?class=complaint&limit=50')"
        echo "bounces-of-campaign=$(page ofcampaign "GET /api/v1/bounces?campaign=$camp&class=policy&limit=50")"
        echo "bounce=$(page bounce "GET /api/v1/bounces/$dsn")"
    } > "$world.times"
}

start
measure small "$A"
halt
subscribers $((S1 + 1)) "$S2"
finished B
q "VACUUM ANALYZE" >/dev/null
B=$(q "SELECT id FROM campaigns WHERE name = 'B'")
start
measure large "$B"
halt

while IFS='=' read -r name small; do
    large=$(sed -n "s/^$name=//p" large.times)
    ratio=$(echo "scale=2; $large / $small" | bc | sed 's/^\./0./')
    case "$name" in
    domains-count) goal="(the first load of a finished campaign's report: its domains counted, once; no goal)" ;;
    retry-dry-run) goal="(Retry pressed: reads every failed delivery, 1% of the campaign; no goal)" ;;
    *) goal="(goal <= 2)" ;;
    esac
    echo "admin $name: p95 $small ms at $S1, $large ms at $S2: ratio $ratio $goal"
done < small.times
