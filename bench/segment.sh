#!/bin/bash
# segment.sh - a segment's count and a segmented campaign's start, against
# the same work written by hand, in one run.
#
# In a private cluster under build/bench/segment: N subscribers (default
# 1,000,000) on the list 'all', with attributes (city: Roma for half of them,
# else one of seven others; plan; age), and a finished campaign B to every one
# of them, a third of whom opened it. Then, R times each (default 5), the
# median of:
#   count   `postino segment count --filter F` of the typical segment
#           F = attribs.city = "Roma" and opened(campaign = B)
#           against psql running the same count written by hand, with an
#           index on attribs->>'city' (the one a person writing it would add)
#   start   `postino campaign send` of a campaign to 'all' narrowed by F
#           against one to a list of exactly as many subscribers, no filter
# Prints
#   segment count: 412 ms (postino), 380 ms (by hand): ratio 1.08 (goal <= 1.5)
#   segment start: 2.1 s (segmented, 166667 recipients), 1.9 s (a list of as many): ratio 1.10 (goal <= 1.5)
set -eu
N=${N:-1000000}
R=${R:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${POSTINO_BIN:-$ROOT/build/postino}
WORK="$ROOT/build/bench/segment"
[ -x "$BIN" ] || { echo "bench/segment: build postino first (make postino)"; exit 1; }
PSQL=$(ls /usr/lib/postgresql/*/bin/psql | tail -1)

rm -rf "$WORK"
mkdir -p "$WORK"
chmod 755 "$ROOT/build" "$ROOT/build/bench" "$WORK"
cd "$WORK"
unset POSTINO_DB POSTINO_CONFIG
trap '"$BIN" db stop >/dev/null 2>&1 || true' EXIT
q() { "$PSQL" -X -q -A -t -h "$WORK/var/pg/run" -U postino -d postino -c "$1"; }
now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

"$BIN" db init >/dev/null
q "INSERT INTO lists (name) VALUES ('all'), ('same');
   INSERT INTO subscribers (email, name, attribs)
   SELECT 'sub' || g || '@d' || (g % 50) || '.example', 'Subscriber ' || g,
          jsonb_build_object('city', CASE WHEN g % 2 = 0 THEN 'Roma'
                                          ELSE (ARRAY['Milano','Torino','Napoli','Bari','Genova','Bologna','Firenze'])[g % 7 + 1] END,
                             'plan', (ARRAY['free','pro','team','enterprise'])[g % 4 + 1], 'age', 18 + g % 60)
   FROM generate_series(1, $N) g;
   INSERT INTO subscriptions (subscriber_id, list_id, status)
   SELECT s.id, l.id, 'confirmed' FROM subscribers s, lists l WHERE l.name = 'all';
   INSERT INTO campaigns (name, subject, from_addr, html, status, started_at, finished_at, track_opens)
   VALUES ('B', 'B', 'news@example.com', '<p>x</p>', 'finished', now() - interval '2 days', now() - interval '1 day', true);
   INSERT INTO deliveries (campaign_id, subscriber_id, list_id, state, attempts, smtp_code, sent_at, updated_at)
   SELECT c.id, s.id, l.id, 'sent', 1, 250, now() - interval '2 days', now() - interval '2 days'
   FROM campaigns c, subscribers s, lists l WHERE c.name = 'B' AND l.name = 'all';
   INSERT INTO opens (delivery_id, campaign_id, first_at, last_at)
   SELECT d.id, d.campaign_id, d.sent_at + interval '1 hour', d.sent_at + interval '1 hour'
   FROM deliveries d WHERE d.subscriber_id % 3 = 0;
   CREATE INDEX subscribers_city_idx ON subscribers ((attribs->>'city'))" >/dev/null
q "VACUUM ANALYZE" >/dev/null
B=$(q "SELECT id FROM campaigns WHERE name = 'B'")
F="attribs.city = \"Roma\" and opened(campaign = $B)"
HAND="SELECT count(*) FROM subscribers s WHERE s.attribs->>'city' = 'Roma'
      AND EXISTS (SELECT 1 FROM opens o JOIN deliveries d ON d.id = o.delivery_id
                  WHERE o.campaign_id = $B AND d.subscriber_id = s.id)"

# the counts, alternating
want=$(q "$HAND")
: > count.postino; : > count.hand
for _ in $(seq 1 "$R"); do
    t0=$(now); got=$("$BIN" segment count --filter "$F"); t1=$(now)
    [ "$got" = "$want" ] || { echo "bench/segment: postino counted $got, by hand $want"; exit 1; }
    ms "$t0" "$t1" >> count.postino
    t0=$(now); q "$HAND" >/dev/null; t1=$(now)
    ms "$t0" "$t1" >> count.hand
done
cp=$(median < count.postino) ch=$(median < count.hand)
echo "segment count: $cp ms (postino), $ch ms (by hand, an index on the city): ratio $(echo "scale=2; $cp / $ch" | bc | sed 's/^\./0./') (goal <= 1.5)"

# the starts: a list 'same' of exactly as many subscribers as the segment picks
q "INSERT INTO subscriptions (subscriber_id, list_id, status)
   SELECT s.id, l.id, 'confirmed' FROM (SELECT id FROM subscribers ORDER BY id DESC LIMIT $want) s, lists l
   WHERE l.name = 'same'" >/dev/null
q "VACUUM ANALYZE" >/dev/null
printf '<p>Hello {{ name }}</p>\n' > body.html
: > start.segmented; : > start.plain
for i in $(seq 1 "$R"); do
    for kind in segmented plain; do
        if [ "$kind" = segmented ]; then
            id=$("$BIN" campaign create --name "seg$i" --subject S --from news@example.com --list all --html body.html \
                --filter "$F" --json 2>/dev/null | sed -n 's/^  "id": \([0-9]*\),$/\1/p')
        else
            id=$("$BIN" campaign create --name "plain$i" --subject S --from news@example.com --list same --html body.html \
                --json 2>/dev/null | sed -n 's/^  "id": \([0-9]*\),$/\1/p')
        fi
        t0=$(now); "$BIN" campaign send "$id" >/dev/null; t1=$(now)
        [ "$(q "SELECT n_total FROM campaigns WHERE id = $id")" = "$want" ] ||
            { echo "bench/segment: campaign $id has $(q "SELECT n_total FROM campaigns WHERE id = $id") recipients, not $want"; exit 1; }
        ms "$t0" "$t1" >> "start.$kind"
    done
done
ss=$(median < start.segmented) sp=$(median < start.plain)
echo "segment start: $ss ms (segmented, $want recipients), $sp ms (a list of as many): ratio $(echo "scale=2; $ss / $sp" | bc | sed 's/^\./0./') (goal <= 1.5)"
