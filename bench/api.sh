#!/bin/bash
# api.sh - how fast the REST API answers, against pgbench doing the same
# single-row work straight on the database.
#
# In a private cluster under build/bench/api with N subscribers (default
# 100,000), postino serve --no-send on loopback, and for each of
#   GET  /api/v1/subscribers/{id}   a random existing id
#   POST /api/v1/subscribers        a new address each time
# wrk (C connections, default 32, for D seconds, default 10) against the API,
# then pgbench at the same concurrency over the unix socket running the
# equivalent statements (get.sql: the subscriber's JSON as the API builds it;
# post.sql: a new subscriber and its subscription in one transaction, as the
# API's POST with "lists" does). Prints
#   api GET: 6100 req/s, p99 7.9 ms; pgbench 11000 tps; ratio 0.55 (goal >= 0.5, p99 <= 10 ms)
set -eu
N=${N:-100000}
C=${C:-32}
D=${D:-10}
PORT=${PORT:-18480}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${POSTINO_BIN:-$ROOT/build/postino}
WORK="$ROOT/build/bench/api"
[ -x "$BIN" ] || { echo "bench/api: build postino first (make postino)"; exit 1; }
command -v wrk >/dev/null || { echo "bench/api: wrk is missing (apt-get install wrk)"; exit 1; }
PGBIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/psql | tail -1)")

rm -rf "$WORK"
mkdir -p "$WORK"
chmod 755 "$ROOT/build" "$ROOT/build/bench" "$WORK"
cd "$WORK"
unset POSTINO_DB POSTINO_CONFIG
SERVER=""
stop() {
    [ -n "$SERVER" ] && kill -TERM "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    "$BIN" db stop >/dev/null 2>&1 || true
}
trap stop EXIT

q() { "$PGBIN/psql" -X -q -A -t -h "$WORK/var/pg/run" -U postino -d postino -c "$1"; }

"$BIN" db init >/dev/null
"$BIN" list create bench >/dev/null
q "INSERT INTO subscribers (email, name, attribs)
   SELECT 'sub' || g || '@example.com', 'Subscriber ' || g, jsonb_build_object('city', 'Roma', 'plan', 'pro')
   FROM generate_series(1, $N) g;
   INSERT INTO subscriptions (subscriber_id, list_id, status)
   SELECT id, (SELECT id FROM lists WHERE name = 'bench'), 'confirmed' FROM subscribers" >/dev/null
q "VACUUM ANALYZE subscribers, subscriptions" >/dev/null
MINID=$(q "SELECT min(id) FROM subscribers")
echo 'bench-admin-password' | "$BIN" user add admin@example.com --role admin >/dev/null
TOKEN=$("$BIN" token create --user admin@example.com | tail -1)

"$BIN" serve --no-send --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
    sleep 0.1
done
code=$(curl -s -o get.json -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$PORT/api/v1/subscribers/$MINID")
[ "$code" = 200 ] || { echo "bench/api: GET answered $code: $(cat get.json)"; exit 1; }

cat >get.lua <<EOF
local lo, n = $MINID, $N
request = function()
  return wrk.format("GET", "/api/v1/subscribers/" .. math.random(lo, lo + n - 1),
                    { ["Authorization"] = "Bearer $TOKEN" })
end
EOF
cat >post.lua <<EOF
-- tid: a global each thread gets from setup (a local would stay 0 in every thread)
local counter = 0
local threads = 0
setup = function(thread) threads = threads + 1; thread:set("tid", threads) end
request = function()
  counter = counter + 1
  local body = '{"email":"new-' .. tid .. '-' .. counter .. '@example.com","name":"New","lists":["bench"]}'
  return wrk.format("POST", "/api/v1/subscribers",
                    { ["Authorization"] = "Bearer $TOKEN", ["Content-Type"] = "application/json" }, body)
end
done = function(summary, latency, requests)
  io.write(string.format("non2xx %d\n", summary.errors.status))
end
EOF
# what the API runs for the GET and the POST, as single statements
cat >get.sql <<EOF
\set id random($MINID, $((MINID + N - 1)))
SELECT json_build_object('id', s.id, 'email', s.email, 'name', s.name, 'attribs', s.attribs,
  'status', s.status, 'created_at', s.created_at, 'updated_at', s.updated_at,
  'lists', (SELECT coalesce(json_agg(json_build_object('id', l.id, 'name', l.name, 'status', sl.status,
  'optin', l.optin) ORDER BY l.name), '[]') FROM subscriptions sl JOIN lists l ON l.id = sl.list_id
  WHERE sl.subscriber_id = s.id)) FROM subscribers s WHERE s.id = :id;
EOF
LIST=$(q "SELECT id FROM lists WHERE name = 'bench'")
cat >post.sql <<EOF
BEGIN;
INSERT INTO subscribers (email, name) VALUES ('pgb-' || :client_id || '-' || nextval('bench_seq') || '@example.com', 'New');
INSERT INTO subscriptions (subscriber_id, list_id, status) VALUES (currval('subscribers_id_seq'), $LIST, 'confirmed');
COMMIT;
EOF
q "CREATE SEQUENCE bench_seq" >/dev/null

# wrk_run LUA: req/s and p99 in ms from wrk's --latency report
wrk_run() {
    wrk -t2 -c"$C" -d"${D}s" --latency -s "$1" "http://127.0.0.1:$PORT" >"$1.out" 2>&1
    RPS=$(awk '/^Requests\/sec:/ {printf "%d", $2}' "$1.out")
    P99=$(awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 }
                             else if (v ~ /ms$/) sub(/ms$/, "", v); else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }
                             printf "%.1f", v }' "$1.out")
    if grep -q "Non-2xx" "$1.out" || grep -q "^non2xx [1-9]" "$1.out"; then
        echo "bench/api: $1 got error answers:"; cat "$1.out"; exit 1
    fi
}
# pgb_run SQL: tps, and the p99 latency in ms from pgbench's per-transaction log
pgb_run() {
    rm -f pgb_log.*
    "$PGBIN/pgbench" -n -c "$C" -j 2 -T "$D" -f "$1" -l --log-prefix=pgb_log -h "$WORK/var/pg/run" -U postino postino \
        >"$1.out" 2>&1 || { cat "$1.out"; exit 1; }
    TPS=$(awk '/^tps = / {printf "%d", $3}' "$1.out")
    PGP99=$(cat pgb_log.* | awk '{print $3}' | sort -n | awk '{v[NR] = $1} END {printf "%.1f", v[int(NR * 0.99)] / 1000}')
}
report() {
    echo "api $1: $RPS req/s, p99 $P99 ms; pgbench $TPS tps, p99 $PGP99 ms; ratio $(echo "scale=2; $RPS / $TPS" | bc | sed 's/^\./0./') (goal >= 0.5, p99 <= 10 ms)"
}

wrk_run get.lua
pgb_run get.sql
report GET
wrk_run post.lua
pgb_run post.sql
report POST
added=$(q "SELECT count(*) FROM subscribers WHERE email LIKE 'new-%'")
[ "$added" -gt 0 ] || { echo "bench/api: the POSTs added no subscriber"; exit 1; }
