#!/bin/bash
# import.sh - how fast postino imports subscribers, against psql \copy of the same rows.
#
# N subscribers (default 1,000,000) with five attribute columns are generated
# (bench/gen_subscribers.c) as CSV, XML and clean tab-separated text. In a
# private cluster under build/bench/import this times:
#   import csv                  postino import of the CSV into an empty database
#   reimport csv --overwrite    the same file again, over what the first import wrote
#   import xml                  postino import of the XML into an empty database
# each against psql \copy of the clean rows into an empty table of the
# subscribers' layout with the same unique index on lower(email), run just
# before it (so both see the same load on the machine), and prints
#   import csv: postino 12.3 s, \copy 6.1 s, ratio 2.02, peak RSS 40 MB
# Goals: csv <= 2x, xml <= 3x, reimport <= 3x, peak RSS <= 64 MB.
set -eu
N=${N:-1000000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${POSTINO_BIN:-$ROOT/build/postino}
WORK="$ROOT/build/bench/import"
[ -x "$BIN" ] || { echo "bench/import: build postino first (make postino)"; exit 1; }
PSQL=$(ls /usr/lib/postgresql/*/bin/psql | tail -1)

rm -rf "$WORK"
mkdir -p "$WORK"
chmod 755 "$ROOT/build" "$ROOT/build/bench" "$WORK"
cd "$WORK"
unset POSTINO_DB POSTINO_CONFIG
trap '"$BIN" db stop >/dev/null 2>&1 || true' EXIT

cc -O2 -o gen "$ROOT/bench/gen_subscribers.c"
./gen "$N" .
"$BIN" db init >/dev/null
"$BIN" list create bench >/dev/null

q() { "$PSQL" -X -q -A -t -h "$WORK/var/pg/run" -U postino -d postino -c "$1"; }
empty() {
    q "TRUNCATE subscribers, subscriptions CASCADE" >/dev/null 2>&1
    q "VACUUM ANALYZE subscribers, subscriptions" >/dev/null
}

# timed VAR_SECONDS VAR_RSS_KB CMD...: wall time and peak RSS of CMD
timed() {
    local out
    out=$(/usr/bin/time -f '%e %M' "${@:3}" 2>&1 >/dev/null | tail -1)
    printf -v "$1" '%s' "${out% *}"
    printf -v "$2" '%s' "${out#* }"
}

# The reference: \copy into the same layout with the same unique index, from empty.
copy_ref() {
    q "SET client_min_messages = warning; DROP TABLE IF EXISTS copy_ref; CREATE TABLE copy_ref (LIKE subscribers INCLUDING ALL)" >/dev/null
    q "CHECKPOINT" >/dev/null
    local t0 t1
    t0=$(date +%s.%N)
    "$PSQL" -X -q -h "$WORK/var/pg/run" -U postino -d postino \
        -c "\\copy copy_ref (email, name, attribs) FROM 'subscribers.tsv'"
    t1=$(date +%s.%N)
    q "DROP TABLE copy_ref" >/dev/null
    echo "$t1 - $t0" | bc -l
}

report() {   # report LABEL POSTINO_S COPY_S RSS_KB
    printf '%s: postino %.1f s, \\copy %.1f s, ratio %.2f, peak RSS %d MB\n' "$1" "$2" "$3" \
        "$(echo "$2 / $3" | bc -l)" "$(($4 / 1024))"
}

# Each postino run is paired with a \copy run just before it, so a change in
# the machine's load between runs skews both sides alike.
ref_csv=$(copy_ref)
empty
q "CHECKPOINT" >/dev/null
timed t_csv rss_csv "$BIN" import subscribers.csv --list bench
rows=$(q "SELECT count(*) FROM subscribers")
[ "$rows" -eq "$N" ] || { echo "bench/import: csv import left $rows subscribers, expected $N"; exit 1; }

ref_re=$(copy_ref)
q "CHECKPOINT" >/dev/null
timed t_re rss_re "$BIN" import subscribers.csv --list bench --overwrite

ref_xml=$(copy_ref)
empty
q "CHECKPOINT" >/dev/null
timed t_xml rss_xml "$BIN" import subscribers.xml --list bench
rows=$(q "SELECT count(*) FROM subscribers")
[ "$rows" -eq "$N" ] || { echo "bench/import: xml import left $rows subscribers, expected $N"; exit 1; }

echo "bench/import: N=$N"
report "import csv" "$t_csv" "$ref_csv" "$rss_csv"
report "reimport csv --overwrite" "$t_re" "$ref_re" "$rss_re"
report "import xml" "$t_xml" "$ref_xml" "$rss_xml"
