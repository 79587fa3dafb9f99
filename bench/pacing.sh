#!/bin/bash
# pacing.sh - what a provider's pace and a warm-up cost the claim, per
# delivery, against the same claims with neither, in one run.
#
# In a private cluster under build/bench/pacing: N subscribers (default
# 100,000) spread over gmail.com (40%), hotmail.co.uk (20%), yahoo.com (10%)
# and 50 other domains, one running campaign to all of them. bench_claim
# claims every delivery, 500 at a time, through the sender's claim statement,
# and counts the CPU time of the server process that runs the claims:
#   reference:  no pace and no warm-up defined (the claim checks that, and holds nothing)
#   paced:      Google, Microsoft and Yahoo paced (per minute and per hour, high enough
#               that nothing waits: the cost of the shared state, not of waiting) and a
#               warm-up for the campaign's domain (a cap above N)
# R rounds (default 5) each way, alternating, the deliveries made due again
# between them; prints the fastest and the median of each, and the ratio of
# the fastest (the least disturbed by other work on a shared machine).
set -eu
N=${N:-100000}
R=${R:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${POSTINO_BIN:-$ROOT/build/postino}
WORK="$ROOT/build/bench/pacing"
[ -x "$BIN" ] || { echo "bench/pacing: build postino first (make postino)"; exit 1; }
make -C "$ROOT" --no-print-directory build/bench/bench_claim >/dev/null
CLAIM="$ROOT/build/bench/bench_claim"
PSQL=$(ls /usr/lib/postgresql/*/bin/psql | tail -1)

rm -rf "$WORK"
mkdir -p "$WORK"
chmod 755 "$ROOT/build" "$ROOT/build/bench" "$WORK"
cd "$WORK"
unset POSTINO_DB POSTINO_CONFIG
trap '"$BIN" db stop >/dev/null 2>&1 || true' EXIT
q() { "$PSQL" -X -q -A -t -h "$WORK/var/pg/run" -U postino -d postino -c "$1"; }
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
CONN="host=$WORK/var/pg/run user=postino dbname=postino"

"$BIN" db init >/dev/null
q "INSERT INTO lists (name) VALUES ('all');
   INSERT INTO subscribers (email, name)
   SELECT 'sub' || g || '@' || CASE WHEN g % 10 < 4 THEN 'gmail.com' WHEN g % 10 < 6 THEN 'hotmail.co.uk'
                                    WHEN g % 10 < 7 THEN 'yahoo.com' ELSE 'd' || (g % 50) || '.example' END, 'S' || g
   FROM generate_series(1, $N) g;
   INSERT INTO subscriptions (subscriber_id, list_id, status) SELECT s.id, l.id, 'confirmed' FROM subscribers s, lists l;
   INSERT INTO campaigns (name, subject, from_addr, html, status, started_at, n_total, n_queued)
   VALUES ('P', 'P', 'news@example.com', '<p>x</p>', 'running', now(), $N, $N);
   INSERT INTO campaign_lists (campaign_id, list_id) SELECT c.id, l.id FROM campaigns c, lists l;
   INSERT INTO deliveries (campaign_id, subscriber_id, list_id)
   SELECT c.id, s.id, l.id FROM campaigns c, subscribers s, lists l" >/dev/null
due() {
    q "UPDATE deliveries SET lease_owner = NULL, lease_until = NULL, held_for = NULL, next_attempt_at = now() - interval '1 s'" >/dev/null
    q "VACUUM ANALYZE deliveries" >/dev/null
}
paced() {
    q "UPDATE providers SET per_minute = 100000000, per_hour = 1000000000 WHERE name IN ('google', 'microsoft', 'yahoo');
       INSERT INTO warmups (target, days) VALUES ('example.com', '{100000000}')" >/dev/null
}
unpaced() { q "UPDATE providers SET per_minute = NULL, per_hour = NULL; DELETE FROM warmups; DELETE FROM warmup_counts" >/dev/null; }
us() { sed -n 's/.*: \([0-9.]*\) us per delivery/\1/p'; }
: > ref.txt
: > paced.txt
for i in $(seq "$R"); do
    unpaced
    due
    "$CLAIM" "$CONN" 500 | tee -a claims.log | us >> ref.txt
    paced
    due
    "$CLAIM" "$CONN" 500 | tee -a claims.log | us >> paced.txt
done
held=$(grep -c '(0 held)' claims.log)
[ "$held" = $((2 * R)) ] || { echo "bench/pacing: deliveries were held: $(cat claims.log)"; exit 1; }
ref=$(sort -n ref.txt | head -1)
pace=$(sort -n paced.txt | head -1)
echo "pacing: load $(cut -d' ' -f1-3 /proc/loadavg), N=$N, claims of 500, $R rounds each"
echo "  reference (no pace, no warm-up): fastest $ref, median $(median < ref.txt) us of the server's CPU per delivery claimed"
echo "  paced (3 providers, a warm-up):  fastest $pace, median $(median < paced.txt) us of the server's CPU per delivery claimed"
/usr/bin/python3 -c "print('  ratio paced/reference (fastest): %.2f; the shared state adds %.2f us per delivery' % ($pace / $ref, $pace - $ref))"
