#!/bin/bash
# export.sh - postino export against psql's \copy of the same rows, and the
# memory of an export, in one run.
#
# In a private cluster under build/bench/export: N subscribers (default
# 1,000,000) on the list 'all', with names and three attributes (city, plan,
# age). Then, R times each (default 3), the median of:
#   cli     `postino export --list all --output F` (CSV, an attribute a column)
#   copy    psql's \copy of the same columns of the same rows to CSV, by hand
#   api     GET /api/v1/exports?list=all from `postino serve`, read by curl
# and the most memory each used: the exporting process's peak RSS at N and at
# N/10 (constant memory: the same), and how much the server's peak RSS grew
# while it streamed N subscribers.
# Prints
#   export cli: 2400 ms (postino export), 1800 ms (psql \copy): ratio 1.33, 1000000 rows, 61 MB
#   export api: 2600 ms (GET /api/v1/exports, 1000000 rows, the same bytes as the CLI's)
#   memory: postino export 9 MB at 1000000, 9 MB at 100000; the server grew 1 MB streaming 1000000
set -eu
N=${N:-1000000}
R=${R:-3}
PORT=${PORT:-18590}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${POSTINO_BIN:-$ROOT/build/postino}
WORK="$ROOT/build/bench/export"
[ -x "$BIN" ] || { echo "bench/export: build postino first (make postino)"; exit 1; }
PSQL=$(ls /usr/lib/postgresql/*/bin/psql | tail -1)

rm -rf "$WORK"
mkdir -p "$WORK"
chmod 755 "$ROOT/build" "$ROOT/build/bench" "$WORK"
cd "$WORK"
unset POSTINO_DB POSTINO_CONFIG
SERVER=""
stop() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    "$BIN" db stop >/dev/null 2>&1 || true
}
trap stop EXIT
q() { "$PSQL" -X -q -A -t -h "$WORK/var/pg/run" -U postino -d postino -c "$1"; }
now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# peak RSS in kB of a command (its output to /dev/null)
peak_kb() {
    /usr/bin/python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }

"$BIN" db init >/dev/null
q "INSERT INTO lists (name) VALUES ('all');
   INSERT INTO subscribers (email, name, attribs)
   SELECT 'sub' || g || '@d' || (g % 50) || '.example', 'Subscriber, \"' || g || '\"',
          jsonb_build_object('city', (ARRAY['Roma','Milano','Torino','Napoli','Bari'])[g % 5 + 1],
                             'plan', (ARRAY['free','pro','team','enterprise'])[g % 4 + 1], 'age', 18 + g % 60)
   FROM generate_series(1, $N) g;
   INSERT INTO subscriptions (subscriber_id, list_id, status)
   SELECT s.id, l.id, 'confirmed' FROM subscribers s, lists l WHERE l.name = 'all'" >/dev/null
q "VACUUM ANALYZE" >/dev/null

COPY_SQL="\\copy (SELECT s.email, s.name, s.attribs->>'age' AS age, s.attribs->>'city' AS city, s.attribs->>'plan' AS plan
  FROM subscribers s JOIN subscriptions x ON x.subscriber_id = s.id
  WHERE x.list_id = (SELECT id FROM lists WHERE name = 'all') AND x.status IN ('confirmed', 'unconfirmed')
  ORDER BY s.id) TO '$WORK/copy.csv' WITH (FORMAT csv, HEADER)"

cli=() copy=() api=()
"$BIN" serve --listen "127.0.0.1:$PORT" --no-send > serve.log 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done
printf 'bench-pass-1\n' | "$BIN" user add bench@example.com --role admin >/dev/null
TOKEN=$("$BIN" token create --user bench@example.com --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
for _ in $(seq "$R"); do
    t0=$(now); "$BIN" export --list all --output cli.csv 2>/dev/null; t1=$(now); cli+=("$(ms "$t0" "$t1")")
    t0=$(now); "$PSQL" -X -q -h "$WORK/var/pg/run" -U postino -d postino -c "$COPY_SQL" >/dev/null; t1=$(now); copy+=("$(ms "$t0" "$t1")")
    t0=$(now); curl -s -f -o api.csv -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/exports?list=all"
    t1=$(now); api+=("$(ms "$t0" "$t1")")
done
rows=$(($(wc -l < copy.csv) - 1))
cmp -s cli.csv api.csv || { echo "bench/export: the API's CSV differs from the CLI's"; exit 1; }
[ "$(wc -l < cli.csv)" = "$(wc -l < copy.csv)" ] || { echo "bench/export: the row counts differ"; exit 1; }
cli_ms=$(printf '%s\n' "${cli[@]}" | median)
copy_ms=$(printf '%s\n' "${copy[@]}" | median)
api_ms=$(printf '%s\n' "${api[@]}" | median)
size_mb=$(( $(stat -c %s cli.csv) / 1048576 ))

# memory: the CLI at N and at N/10; the server's peak before and after streaming N once more
big_kb=$(peak_kb "$BIN" export --list all)
small_kb=$(peak_kb "$BIN" export --list all --filter "id <= $((N / 10))")
before_kb=$(hwm_kb "$SERVER")
curl -s -f -o /dev/null -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/exports?list=all"
after_kb=$(hwm_kb "$SERVER")

awk -v c="$cli_ms" -v p="$copy_ms" -v n="$rows" -v s="$size_mb" \
    'BEGIN { printf "export cli: %d ms (postino export), %d ms (psql \\copy): ratio %.2f, %d rows, %d MB\n", c, p, c / p, n, s }'
echo "export api: $api_ms ms (GET /api/v1/exports, $rows rows, the same bytes as the CLI's)"
echo "memory: postino export $((big_kb / 1024)) MB at $N, $((small_kb / 1024)) MB at $((N / 10));" \
     "the server grew $(((after_kb - before_kb) / 1024)) MB streaming $N (peak $((after_kb / 1024)) MB)"
