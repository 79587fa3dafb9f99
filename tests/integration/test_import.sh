#!/bin/bash
# test_import - postino import against a private database: exact counts for
# every mode, idempotence, overwrite, blocklist, dry run, rejects line by
# line, XML and its attacks, and that a failed import writes nothing.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/import_lib.sh"
DATA="$ROOT/tests/data/import"

postino db init
postino list create news
postino list create extra --optin double
postino list create weekly --optin double

check "CSV with a BOM, ';', CRLF, quoted fields, blank lines, a repeat and bad rows"
postino import "$DATA/quirks.csv" --list news --rejects rejects.csv --json
expect_rc 0
expect_counts "9 6 0 0 0 0 1 2"
# the time taken in milliseconds, written as such (not 0.0060000000000000001)
printf '%s' "$out" | grep -Eq '"seconds": [0-9]+(\.[0-9]{1,3})?(,|$)' || fail "seconds: $(printf '%s' "$out" | grep seconds)"
expect_q "SELECT count(*) FROM subscribers" 6
expect_q "SELECT name FROM subscribers WHERE email = 'alice@example.com'" "Alice"
expect_q "SELECT attribs->>'City' FROM subscribers WHERE email = 'carol@example.com'" "$(printf 'Nice\r\nCôte d'"'"'Azur')"
expect_q "SELECT name FROM subscribers WHERE email = 'carol@example.com'" 'Carol "CJ" Jones'
expect_q "SELECT count(*) FROM subscribers WHERE email = 'dave@xn--bcher-kva.de'" 1
expect_q "SELECT count(*) FROM subscriptions z JOIN lists l ON l.id = z.list_id WHERE l.name = 'news' AND z.status = 'confirmed'" 6
[ "$(sed -n 2p rejects.csv)" = '9,"invalid address ""not-an-email"": no @",not-an-email;Nobody;;;;' ] || fail "rejects line 2: $(sed -n 2p rejects.csv)"
[ "$(sed -n 3p rejects.csv)" = '10,no email address,;Empty;;;;' ] || fail "rejects line 3"
[ "$(wc -l < rejects.csv)" -eq 3 ] || fail "rejects has $(wc -l < rejects.csv) lines"

check "the same file again changes nothing"
before=$(q "SELECT md5(string_agg(s.id || s.email || s.name || s.attribs::text || s.updated_at, ',' ORDER BY s.id)) FROM subscribers s")
postino import "$DATA/quirks.csv" --list news --json
expect_rc 0
expect_counts "9 0 0 6 0 0 1 2"
expect_q "SELECT md5(string_agg(s.id || s.email || s.name || s.attribs::text || s.updated_at, ',' ORDER BY s.id)) FROM subscribers s" "$before"
expect_q "SELECT count(*) FROM subscriptions" 6

check "text summary, and no progress line when stderr is not a terminal"
postino import "$DATA/quirks.csv" --list news
expect_rc 0
expect_out "rows read            9"
expect_out "already subscribed   6"
expect_out "duplicates in file   1"
expect_out "rejected             2"
expect_no_err "rows/s"

check "without --overwrite names and attributes are kept; with it, replaced and merged"
printf 'email,name,City,Zip\nalice@EXAMPLE.com,Alice Changed,Paris,69001\nbob@example.com,,,\n' > change.csv
postino import change.csv --list news --json
expect_counts "2 0 0 2 0 0 0 0"
expect_q "SELECT name || ' ' || attribs::text FROM subscribers WHERE email = 'alice@example.com'" 'Alice {"City": "Lyon", "Plan": "pro"}'
postino import change.csv --list news --overwrite --json
expect_counts "2 0 1 1 0 0 0 0"
expect_q "SELECT name || ' ' || attribs::text FROM subscribers WHERE email = 'alice@example.com'" 'Alice Changed {"Zip": "69001", "City": "Paris", "Plan": "pro"}'
expect_q "SELECT name FROM subscribers WHERE email = 'bob@example.com'" 'Martin; Bob'
postino import change.csv --list news --overwrite --json
expect_counts "2 0 0 2 0 0 0 0"

check "a double opt-in list subscribes unconfirmed unless --status says otherwise"
postino import "$DATA/quirks.csv" --list weekly --json
expect_counts "9 0 6 0 0 0 1 2"
expect_q "SELECT string_agg(DISTINCT z.status, ',') FROM subscriptions z JOIN lists l ON l.id = z.list_id WHERE l.name = 'weekly'" unconfirmed
printf 'email\nnew1@example.com\n' > one.csv
postino import one.csv --list weekly --status confirmed --json
expect_counts "1 1 0 0 0 0 0 0"
expect_q "SELECT z.status FROM subscriptions z JOIN subscribers s ON s.id = z.subscriber_id WHERE s.email = 'new1@example.com'" confirmed

check "--dry-run reports and writes nothing"
printf 'email,name\ndry1@example.com,D\ndry2@example.com,D\nalice@example.com,A\n' > dry.csv
postino import dry.csv --list news --dry-run --json
expect_rc 0
expect_counts "3 2 0 1 0 0 0 0"
[ "$(jq_get "$out" "j['dry_run']")" = True ] || fail "dry_run not true"
expect_q "SELECT count(*) FROM subscribers WHERE email LIKE 'dry%'" 0
postino import dry.csv --list news --dry-run
expect_out "dry run, nothing written"

check "unsubscribe mode"
printf 'email\nbob@example.com\nBOB@example.com\nnobody@example.com\nnew1@example.com\n' > unsub.csv
postino import unsub.csv --list news --mode unsubscribe --json
expect_rc 0
expect_counts "4 0 1 1 0 1 1 0"
expect_q "SELECT z.status FROM subscriptions z JOIN subscribers s ON s.id = z.subscriber_id JOIN lists l ON l.id = z.list_id WHERE s.email = 'bob@example.com' AND l.name = 'news'" unsubscribed
postino import unsub.csv --list news --mode unsubscribe --json
expect_counts "4 0 0 2 0 1 1 0"

check "blocklist mode, and a blocklisted or unsubscribed subscriber is never resubscribed"
printf 'email,name\nalice@example.com,A\nblock1@example.com,Blocked One\n' > block.csv
postino import block.csv --mode blocklist --json
expect_rc 0
expect_counts "2 1 1 0 0 0 0 0"
expect_q "SELECT string_agg(email || ':' || status, ',' ORDER BY email) FROM subscribers WHERE email IN ('alice@example.com', 'block1@example.com')" "alice@example.com:blocklisted,block1@example.com:blocklisted"
expect_q "SELECT string_agg(DISTINCT z.status, ',') FROM subscriptions z JOIN subscribers s ON s.id = z.subscriber_id WHERE s.email = 'alice@example.com'" unsubscribed
postino import block.csv --mode blocklist --json
expect_counts "2 0 0 2 0 0 0 0"
postino import "$DATA/quirks.csv" --list news --overwrite --json
expect_counts "9 0 0 4 2 0 1 2"
expect_q "SELECT string_agg(DISTINCT z.status, ',') FROM subscriptions z JOIN subscribers s ON s.id = z.subscriber_id WHERE s.email = 'alice@example.com'" unsubscribed
expect_q "SELECT name FROM subscribers WHERE email = 'alice@example.com'" 'Alice Changed'
printf 'email\nblock1@example.com\n' > b1.csv
postino import b1.csv --list news --json
expect_counts "1 0 0 0 1 0 0 0"
expect_q "SELECT count(*) FROM subscriptions z JOIN subscribers s ON s.id = z.subscriber_id WHERE s.email = 'block1@example.com'" 0

check "10,000 rows with every 50th bad: counts and the rejects file line by line"
awk 'BEGIN { print "email,name"; for (i = 1; i <= 10000; i++) if (i % 50 == 0) printf "bad-row-%d,Name %d\n", i, i; else printf "user%d@example.com,Name %d\n", i, i }' > big.csv
awk 'BEGIN { print "line,reason,row"; for (i = 50; i <= 10000; i += 50) printf "%d,\"invalid address \"\"bad-row-%d\"\": no @\",\"bad-row-%d,Name %d\"\n", i + 1, i, i, i }' > big-rejects.expected
postino import big.csv --list news --rejects big-rejects.csv --json
expect_rc 0
expect_counts "10000 9800 0 0 0 0 0 200"
[ "$(wc -l < big-rejects.csv)" -eq 201 ] || fail "rejects has $(wc -l < big-rejects.csv) lines, expected 201"
n=0
while IFS= read -r want && IFS= read -r got <&3; do
    n=$((n + 1))
    [ "$want" = "$got" ] || { fail "rejects line $n is '$got', expected '$want'"; break; }
done < big-rejects.expected 3< big-rejects.csv
[ "$n" -eq 201 ] || fail "compared $n rejects lines"
expect_q "SELECT count(*) FROM subscribers WHERE email LIKE 'user%@example.com'" 9800
postino import big.csv --list news --json
expect_counts "10000 0 0 9800 0 0 0 200"

check "XML: the documented format, extra lists, an unknown list rejected"
postino import "$DATA/subscribers.xml" --list news --rejects xml-rejects.csv --json
expect_rc 0
[ "$(jq_get "$out" "j['format']")" = xml ] || fail "format not guessed as xml"
expect_counts "6 3 0 0 0 0 1 2"
expect_q "SELECT name || ' ' || attribs::text FROM subscribers WHERE email = 'ann@example.com'" 'Ann & Co {"city": "Lyon"}'
expect_q "SELECT string_agg(l.name || ':' || z.status, ',' ORDER BY l.name) FROM subscriptions z JOIN lists l ON l.id = z.list_id JOIN subscribers s ON s.id = z.subscriber_id WHERE s.email = 'ann@example.com'" "extra:unconfirmed,news:confirmed"
expect_q "SELECT attribs->>'plan' FROM subscribers WHERE email = 'ben@example.com'" gold
expect_q "SELECT count(*) FROM subscribers WHERE email = 'dan@xn--mnchen-3ya.de'" 1
[ "$(sed -n 2p xml-rejects.csv)" = '14,"unknown list ""no-such-list""","<subscriber email=""cat@example.com""><list>no-such-list</list></subscriber>"' ] || fail "xml rejects line 2: $(sed -n 2p xml-rejects.csv)"
postino import "$DATA/subscribers.xml" --list news --json
expect_counts "6 0 0 3 0 0 1 2"

check "XXE and billion laughs are refused and nothing is imported"
before=$(q "SELECT count(*) || ':' || max(updated_at) FROM subscribers")
for f in xxe.xml billion_laughs.xml; do
    postino import "$DATA/$f" --list news
    expect_rc 1
    expect_err "DTDs and entities are refused"
    expect_err "nothing was imported"
    expect_no_err "root:"
done
expect_q "SELECT count(*) || ':' || max(updated_at) FROM subscribers" "$before"

check "a document broken after good records imports nothing"
printf '<subscribers>\n<subscriber email="ok1@example.com"/>\n<subscriber email="ok2@example.com"/>\n<subscriber email="x@example.com">\n</subscribers>\n' > broken.xml
postino import broken.xml --list news --rejects broken-rejects.csv
expect_rc 1
expect_err "line 5: Opening and ending tag mismatch"
expect_q "SELECT count(*) FROM subscribers WHERE email LIKE 'ok_@example.com'" 0
[ -e broken-rejects.csv ] && fail "a rejects file was left by a failed import"

check "standard input, latin1, --map and --delimiter"
postino_in "$DATA/latin1.csv" import - --list news --encoding latin1 --json
expect_rc 0
expect_counts "2 2 0 0 0 0 0 0"
expect_q "SELECT name || ' ' || (attribs->>'city') FROM subscribers WHERE email = 'rene@example.com'" "René Orléans"
postino import "$DATA/latin1.csv" --list news --json
expect_counts "2 0 0 0 0 0 0 2"
printf 'Adresse|Vorname|Ort|Intern\nmap1@example.com|Maria|Köln|x\n' > map.csv
postino import map.csv --list news --map Adresse=email --map Vorname=name --map Ort=city --map Intern=- --json
expect_rc 0
expect_counts "1 1 0 0 0 0 0 0"
expect_q "SELECT name || ' ' || attribs::text FROM subscribers WHERE email = 'map1@example.com'" 'Maria {"city": "Köln"}'
printf 'email;name\nsemi@example.com;S\n' > semi.csv
postino import semi.csv --list news --delimiter ';' --format csv --json
expect_counts "1 1 0 0 0 0 0 0"

check "usage and whole-file errors"
postino import one.csv
expect_rc 2
expect_err "--list NAME is required"
postino import one.csv --list news --mode sideways
expect_rc 2
expect_err "--mode must be subscribe, unsubscribe or blocklist"
postino import one.csv --list news --format json
expect_rc 2
postino import one.csv --list news --map nothing
expect_rc 2
expect_err "--map takes COLUMN=FIELD"
postino import
expect_rc 2
expect_err "missing file to import"
postino import one.csv --list nosuchlist
expect_rc 1
expect_err 'no list "nosuchlist"'
postino import missing.csv --list news
expect_rc 1
expect_err "cannot open missing.csv"
printf 'name,city\nA,B\n' > noemail.csv
postino import noemail.csv --list news
expect_rc 1
expect_err "the header has no email column"
postino import "$DATA/quirks.csv" --list news --encoding klingon
expect_rc 1
expect_err 'unknown encoding "klingon"'

finish
