#!/bin/bash
# test_import_direct - an import into an empty subscribers table copies new
# rows straight into it; the same files into a table that is not empty take
# the general path (staging table and merge). Both must give the same exact
# counts and the same subscribers and subscriptions: repeats in any letter
# case, rows naming lists, rejects, dry run, double opt-in.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/import_lib.sh"
expect_direct() { expect_err "the subscribers table is empty: new rows go straight into it"; }
expect_general() { expect_no_err "new rows go straight into it"; }
# The subscribers other than the bystander, and their subscriptions, as one text.
SUBS="SELECT string_agg(s.email || '|' || s.name || '|' || s.attribs::text || '|' || s.status || '|' ||
        coalesce((SELECT string_agg(l.name || ':' || z.status, ';' ORDER BY l.name) FROM subscriptions z
                  JOIN lists l ON l.id = z.list_id WHERE z.subscriber_id = s.id), ''),
        E'\n' ORDER BY s.email COLLATE \"C\") FROM subscribers s WHERE s.email <> 'bystander@example.org'"
reset_empty() { q "TRUNCATE subscribers CASCADE" >/dev/null; }
reset_bystander() {
    reset_empty
    postino subscriber add bystander@example.org --name Bystander
    expect_rc 0
}

postino db init
postino list create news
postino list create extra --optin double
postino list create weekly --optin double

printf '%s\n' 'email,name,city' 'Kate@example.com,Kate,Paris' 'bob@example.com,Bob,Lyon' \
    'kate@EXAMPLE.com,Kate Again,Lyon' 'KATE@example.com,Kate Third,' 'not-an-email,X,' 'BOB@example.com,Bob Again,' \
    'carol@example.com,Carol,Nice' '"Dan <dan@Example.COM>",Dan,Metz' 'dan@example.com,Dan Again,' > tricky.csv
TRICKY_SUBS='Kate@example.com|Kate|{"city": "Paris"}|enabled|news:confirmed
bob@example.com|Bob|{"city": "Lyon"}|enabled|news:confirmed
carol@example.com|Carol|{"city": "Nice"}|enabled|news:confirmed
dan@example.com|Dan|{"city": "Metz"}|enabled|news:confirmed'

check "CSV into an empty table: straight into subscribers, repeats in any case counted once, first row kept"
postino --log-level debug import tricky.csv --list news --json
expect_rc 0
expect_direct
expect_err "4 rows straight into subscribers, 4 staged"
expect_counts "9 4 0 0 0 0 4 1"
expect_q "$SUBS" "$TRICKY_SUBS"
expect_q "SELECT count(*) FROM subscriptions" 4

check "the same file again takes the general path and changes nothing"
postino --log-level debug import tricky.csv --list news --json
expect_rc 0
expect_general
expect_counts "9 0 0 4 0 0 4 1"
expect_q "$SUBS" "$TRICKY_SUBS"

check "CSV into a table that is not empty: the general path gives the same counts and rows"
reset_bystander
postino --log-level debug import tricky.csv --list news --json
expect_rc 0
expect_general
expect_counts "9 4 0 0 0 0 4 1"
expect_q "$SUBS" "$TRICKY_SUBS"
expect_q "SELECT count(*) FROM subscriptions" 4

check "--dry-run into an empty table: the same counts, nothing written, the next import still direct"
reset_empty
postino --log-level debug import tricky.csv --list news --dry-run --json
expect_rc 0
expect_direct
expect_counts "9 4 0 0 0 0 4 1"
expect_q "SELECT count(*) FROM subscribers" 0
expect_q "SELECT count(*) FROM subscriptions" 0
postino --log-level debug import tricky.csv --list weekly --json
expect_rc 0
expect_direct
expect_counts "9 4 0 0 0 0 4 1"
expect_q "SELECT string_agg(DISTINCT z.status, ',') || ' ' || count(*) FROM subscriptions z JOIN lists l ON l.id = z.list_id WHERE l.name = 'weekly'" "unconfirmed 4"
expect_q "SELECT count(*) FROM subscriptions" 4

check "--status confirmed on a double opt-in list, into an empty table"
reset_empty
postino import tricky.csv --list weekly --status confirmed --json
expect_rc 0
expect_counts "9 4 0 0 0 0 4 1"
expect_q "SELECT string_agg(DISTINCT z.status, ',') || ' ' || count(*) FROM subscriptions z" "confirmed 4"

cat > lists.xml <<'XML'
<subscribers>
  <subscriber email="ann@example.com"><name>Ann</name><list>extra</list></subscriber>
  <subscriber email="ben@example.com"><name>Ben</name></subscriber>
  <subscriber email="BEN@example.com"><name>Ben Again</name><list>extra</list></subscriber>
  <subscriber email="ANN@example.com"><name>Ann Again</name><list>weekly</list></subscriber>
  <subscriber email="cy@example.com"><list>no-such-list</list></subscriber>
  <subscriber email="dan@münchen.de"><name>Dan</name><attribute name="plan">pro</attribute></subscriber>
</subscribers>
XML
LISTS_SUBS='ann@example.com|Ann|{}|enabled|extra:unconfirmed;news:confirmed
ben@example.com|Ben|{}|enabled|news:confirmed
dan@xn--mnchen-3ya.de|Dan|{"plan": "pro"}|enabled|news:confirmed'

check "XML into an empty table: the lists of an address's first row only"
reset_empty
postino --log-level debug import lists.xml --list news --json
expect_rc 0
expect_direct
expect_err "2 rows straight into subscribers, 3 staged"
expect_counts "6 3 0 0 0 0 2 1"
expect_q "$SUBS" "$LISTS_SUBS"

check "XML into a table that is not empty: the same"
reset_bystander
postino --log-level debug import lists.xml --list news --json
expect_rc 0
expect_general
expect_counts "6 3 0 0 0 0 2 1"
expect_q "$SUBS" "$LISTS_SUBS"

check "unsubscribe with each address once (no sort, not found by subtraction) and with a repeat"
printf 'email\nben@example.com\nnobody@example.com\n' > unsub-once.csv
postino import unsub-once.csv --list news --mode unsubscribe --json
expect_rc 0
expect_counts "2 0 1 0 0 1 0 0"
printf 'email\nben@example.com\nnobody@example.com\nBEN@example.com\n' > unsub-repeat.csv
postino import unsub-repeat.csv --list news --mode unsubscribe --json
expect_rc 0
expect_counts "3 0 0 1 0 1 1 0"
expect_q "SELECT z.status FROM subscriptions z JOIN subscribers s ON s.id = z.subscriber_id JOIN lists l ON l.id = z.list_id WHERE s.email = 'ben@example.com' AND l.name = 'news'" unsubscribed

check "blocklist and unsubscribe modes into an empty table take the general path"
reset_empty
postino --log-level debug import tricky.csv --mode blocklist --json
expect_rc 0
expect_general
expect_counts "9 4 0 0 0 0 4 1"
expect_q "SELECT string_agg(DISTINCT status, ',') || ' ' || count(*) FROM subscribers" "blocklisted 4"
reset_empty
postino --log-level debug import tricky.csv --list news --mode unsubscribe --json
expect_rc 0
expect_general
expect_counts "9 0 0 0 0 4 4 1"

check "a failed import into an empty table writes nothing and leaves the table unlocked"
reset_empty
printf '<subscribers>\n<subscriber email="ok1@example.com"/>\n<subscriber email="ok2@example.com"/>\n<subscriber email="x@example.com">\n</subscribers>\n' > broken.xml
postino --log-level debug import broken.xml --list news
expect_rc 1
expect_direct
expect_err "line 5: Opening and ending tag mismatch"
expect_q "SELECT count(*) FROM subscribers" 0
postino subscriber add after@example.com
expect_rc 0
expect_q "SELECT count(*) FROM subscribers" 1

finish
