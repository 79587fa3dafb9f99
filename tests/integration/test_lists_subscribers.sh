#!/bin/bash
# test_lists_subscribers - list and subscriber commands, each bad input, and
# that every command is one transaction; changing a list through the CLI and
# PATCH /api/v1/lists/{list}; each list's counts by status (list_counts, kept
# by the writes) equal to what subscriptions holds after every kind of write,
# two imports into one list at once included.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/api_lib.sh"
api_setup 18285

# counts_exact: every list's counts, as the CLI and the API read them, are those of subscriptions
counts_exact() {
    local want got
    want=$(psql_q "SELECT coalesce(string_agg(l.name || ':' || (SELECT count(*) FILTER (WHERE s.status = 'confirmed')
        || '/' || count(*) FILTER (WHERE s.status = 'unconfirmed') || '/' || count(*) FILTER (WHERE s.status = 'unsubscribed')
        FROM subscriptions s WHERE s.list_id = l.id), ' ' ORDER BY l.name), '') FROM lists l")
    postino list ls --json
    got=$(jq_get "$out" "' '.join('%s:%d/%d/%d' % (l['name'], l['subscribers']['confirmed'], l['subscribers']['unconfirmed'], l['subscribers']['unsubscribed']) for l in j)")
    [ "$got" = "$want" ] || fail "counts after $1: $got, subscriptions hold $want"
}

check "list create with defaults and options"
postino list create news --description "Monthly news"
expect_rc 0
expect_out 'created list "news"'
expect_out "single opt-in"
postino list create vip --optin double --json
expect_rc 0
[ "$(jq_get "$out" "j['optin']")" = double ] || fail "optin not double"
[ "$(jq_get "$out" "j['name']")" = vip ] || fail "name not vip"

check "list create refuses a duplicate name and a bad opt-in"
postino list create news
expect_rc 1
expect_err 'list "news" already exists'
expect_err_lines 1
postino list create other --optin triple
expect_rc 2
expect_err "--optin must be single or double"
postino list create
expect_rc 2
expect_err "missing list name"

check "list ls and show"
postino list ls
expect_rc 0
expect_out "news"
expect_out "Monthly news"
expect_out "vip"
postino list ls --json
[ "$(jq_get "$out" "[l['name'] for l in j]")" = "['news', 'vip']" ] || fail "ls --json names"
postino list show news
expect_rc 0
expect_out "optin:        single"
postino list show nope
expect_rc 1
expect_err 'no list "nope"'

check "subscriber add, normalised, with attributes and lists"
postino subscriber add "  Alice@Example.COM " --name "Alice Rossi" --attr city=Roma --attr plan=pro --list news --list vip
expect_rc 0
expect_out "added subscriber Alice@example.com"
postino subscriber show alice@example.com --json
expect_rc 0
[ "$(jq_get "$out" "j['email']")" = "Alice@example.com" ] || fail "email"
[ "$(jq_get "$out" "j['name']")" = "Alice Rossi" ] || fail "name"
[ "$(jq_get "$out" "j['attribs']")" = "{'city': 'Roma', 'plan': 'pro'}" ] || fail "attribs"
[ "$(jq_get "$out" "sorted((l['name'], l['status']) for l in j['lists'])")" = "[('news', 'confirmed'), ('vip', 'unconfirmed')]" ] || fail "subscriptions by opt-in"
postino subscriber add "$(printf 'bob@b\xc3\xbccher.de')" --list news --status unconfirmed
expect_rc 0
expect_out "bob@xn--bcher-kva.de"

check "subscriber add refuses a duplicate in any letter case"
postino subscriber add ALICE@example.com --list news
expect_rc 1
expect_err "subscriber ALICE@example.com already exists"
expect_err_lines 1

check "subscriber add refuses invalid addresses, naming them"
for bad in "no-at-sign.example.com" "sp ace@example.com" "user@nodot" "user@bad_domain.com"; do
    postino subscriber add "$bad"
    expect_rc 1
    expect_err "invalid address \"$bad\""
    expect_err_lines 1
done
long=$(printf 'a%.0s' $(seq 1 250))@example.com
postino subscriber add "$long"
expect_rc 1
expect_err "longer than 254 octets"

check "subscriber add with an unknown list writes nothing (one transaction)"
postino subscriber add carol@example.com --list news --list nosuchlist
expect_rc 1
expect_err 'no list "nosuchlist"'
expect_err_lines 1
[ "$(psql_q "SELECT count(*) FROM subscribers WHERE email = 'carol@example.com'")" = 0 ] || fail "carol was half written"

check "subscriber add refuses bad --attr and --status"
postino subscriber add dave@example.com --attr novalue
expect_rc 2
expect_err "--attr takes KEY=VALUE"
postino subscriber add dave@example.com --status maybe
expect_rc 2

check "subscriber ls with filters"
postino subscriber add erin@example.com --list vip
postino subscriber ls
expect_rc 0
expect_out "Alice@example.com"
expect_out "erin@example.com"
expect_out "bob@xn--bcher-kva.de"
postino subscriber ls --list vip --json
[ "$(jq_get "$out" "sorted(s['email'] for s in j)")" = "['Alice@example.com', 'erin@example.com']" ] || fail "ls --list vip"
postino subscriber ls --list nosuchlist
expect_rc 1
expect_err 'no list "nosuchlist"'
postino subscriber ls --status blocklisted --json
expect_out_eq "[]"
postino subscriber ls --status weird
expect_rc 2
postino subscriber ls --limit 1 --json
[ "$(jq_get "$out" "len(j)")" = 1 ] || fail "limit 1"
first=$(jq_get "$out" "j[0]['id']")
postino subscriber ls --after "$first" --limit 1 --json
[ "$(jq_get "$out" "j[0]['id'] > $first")" = True ] || fail "keyset after"

check "subscriber blocklist unsubscribes everywhere"
postino subscriber blocklist alice@EXAMPLE.com --json
expect_rc 0
[ "$(jq_get "$out" "j['status']")" = blocklisted ] || fail "status"
[ "$(jq_get "$out" "sorted(l['status'] for l in j['lists'])")" = "['unsubscribed', 'unsubscribed']" ] || fail "subscriptions"
postino subscriber ls --status blocklisted --json
[ "$(jq_get "$out" "[s['email'] for s in j]")" = "['Alice@example.com']" ] || fail "blocklisted filter"
postino subscriber blocklist nobody@example.com
expect_rc 1
expect_err "no subscriber nobody@example.com"

check "list show counts by subscription status"
postino list show news --json
[ "$(jq_get "$out" "j['subscribers']")" = "{'confirmed': 0, 'unconfirmed': 1, 'unsubscribed': 1}" ] || fail "news counts"

check "subscriber rm and list rm"
postino subscriber rm erin@example.com
expect_rc 0
postino subscriber show erin@example.com
expect_rc 1
expect_err "no subscriber erin@example.com"
postino subscriber rm erin@example.com
expect_rc 1
postino list rm vip
expect_rc 0
postino list show vip
expect_rc 1
[ "$(psql_q "SELECT count(*) FROM subscriptions s JOIN lists l ON l.id = s.list_id WHERE l.name = 'vip'")" = 0 ] || fail "subscriptions left"
postino list rm vip
expect_rc 1
expect_err 'no list "vip"'

check "SQL meta-characters are data"
postino list create "x'; DROP TABLE subscribers; --"
expect_rc 0
postino subscriber add "o'brien@example.ie" --name "Robert'); DROP TABLE lists;--" --list "x'; DROP TABLE subscribers; --"
expect_rc 0
postino subscriber show "o'brien@example.ie" --json
[ "$(jq_get "$out" "j['name']")" = "Robert'); DROP TABLE lists;--" ] || fail "name mangled"

check "a number too big for 64 bits stored by another tool does not break listings"
psql_q "UPDATE subscribers SET attribs = '{\"big\": 100000000000000000000000000000, \"n\": 7}' WHERE email = 'o''brien@example.ie'" >/dev/null
postino subscriber show "o'brien@example.ie" --json
expect_rc 0
[ "$(jq_get "$out" "(type(j['id']).__name__, j['attribs']['n'], j['attribs']['big'] > 9e28)")" = "('int', 7, True)" ] || fail "big number"

check "a list or template a campaign uses is not removed; one that is gone is named"
postino list create inuse
expect_rc 0
printf '<p>{{ content }}</p>' > layout.html
postino template add framed --html layout.html
expect_rc 0
printf '<p>hi</p>' > body.html
postino campaign create --name U --subject S --from news@example.com --list inuse --template framed --html body.html
expect_rc 0
postino list rm inuse
expect_rc 1
expect_err 'list "inuse" is used by campaign "U"; remove it from the campaign first'
expect_err_lines 1
postino list show inuse
expect_out "used by:      U (draft)"
postino list show inuse --json
[ "$(jq_get "$out" "[(c['name'], c['status']) for c in j['campaigns']]")" = "[('U', 'draft')]" ] || fail "campaigns of inuse"
postino campaign create --name V --subject S --from news@example.com --list inuse --template framed --html body.html
postino list rm inuse
expect_rc 1
expect_err 'list "inuse" is used by campaigns "U", "V"; remove it from them first'
postino template rm framed
expect_rc 1
expect_err 'template "framed" is used by campaigns'
postino list rm nosuchlist
expect_rc 1
expect_err 'no list "nosuchlist"'
[ "$(psql_q "SELECT count(*) FROM lists WHERE name = 'inuse'")" = 1 ] || fail "the list in use went"
postino template add spare --html layout.html
expect_rc 0
postino template rm spare
expect_rc 0
expect_out 'removed template "spare"'
postino template rm spare
expect_rc 1
expect_err 'no template "spare"'

check "list set: a new name, description and opt-in, any of them; the same rule as create"
postino list create renamed-me --description "first words"
expect_rc 0
postino list set renamed-me --name fresh --json
expect_rc 0
[ "$(jq_get "$out" "(j['name'], j['description'], j['optin'])")" = "('fresh', 'first words', 'single')" ] || fail "rename only"
postino list set fresh --description "Weekly digest" --optin double
expect_rc 0
expect_out 'changed list "fresh"'
expect_out "double opt-in"
postino list show fresh --json
[ "$(jq_get "$out" "(j['name'], j['description'], j['optin'])")" = "('fresh', 'Weekly digest', 'double')" ] || fail "description and opt-in"
id=$(jq_get "$out" "j['id']")
postino list set "$id" --description ""
expect_rc 0
postino list show fresh --json
[ "$(jq_get "$out" "j['description']")" = "" ] || fail "description emptied by id"
postino list set fresh --name news
expect_rc 1
expect_err 'list "news" already exists'
expect_err_lines 1
postino list set fresh --optin triple
expect_rc 1
expect_err 'opt-in must be single or double, not "triple"'
expect_err_lines 1
postino list set fresh --name $'two\nlines'
expect_rc 1
expect_err "the list name holds a line break"
postino list set fresh --name ""
expect_rc 1
expect_err "the list name must be 1 to 200 characters"
postino list set nosuchlist --name x
expect_rc 1
expect_err 'no list "nosuchlist"'
postino list set fresh
expect_rc 2
expect_err "give --name, --description, --optin, --public, --welcome or --welcome-subject"
postino list show fresh --json
[ "$(jq_get "$out" "(j['name'], j['description'], j['optin'])")" = "('fresh', '', 'double')" ] || fail "a refused change was written"

check "counts by status are those of subscriptions after adds, unsubscribes, blocklist, rm and list rm"
counts_exact "the changes above"
for i in 1 2 3 4 5; do postino subscriber add "c$i@count.example" --list fresh --list news; done
postino subscriber add c6@count.example --list fresh --status confirmed
postino list show fresh --json
[ "$(jq_get "$out" "j['subscribers']")" = "{'confirmed': 1, 'unconfirmed': 5, 'unsubscribed': 0}" ] || fail "fresh after adds"
counts_exact "adds"
postino subscriber blocklist c1@count.example
counts_exact "a blocklist"
postino subscriber rm c2@count.example
expect_rc 0
counts_exact "a subscriber removed"
postino list show fresh --json
[ "$(jq_get "$out" "j['subscribers']")" = "{'confirmed': 1, 'unconfirmed': 3, 'unsubscribed': 1}" ] || fail "fresh after blocklist and rm"
psql_q "UPDATE subscriptions SET status = 'confirmed' WHERE subscriber_id IN (SELECT id FROM subscribers WHERE email LIKE 'c_@count.example') AND status = 'unconfirmed'" >/dev/null
counts_exact "an update by hand"
printf 'email\nc3@count.example\nc4@count.example\nnew1@count.example\n' > unsub.csv
postino import unsub.csv --list fresh --mode unsubscribe
expect_rc 0
counts_exact "an unsubscribe import"

check "imports are counted, two into one list at once too"
for f in a b; do
    { echo email; for i in $(seq 1 3000); do echo "imp$i-$f@count.example"; done; for i in $(seq 1 500); do echo "both$i@count.example"; done; } > "imp-$f.csv"
done
"$BIN" import imp-a.csv --list fresh > imp-a.out 2>&1 &
pa=$!
"$BIN" import imp-b.csv --list fresh > imp-b.out 2>&1 &
pb=$!
for i in $(seq 1 20); do "$BIN" subscriber add "side$i@count.example" --list fresh --list news >/dev/null 2>&1; done
wait $pa || fail "the first import failed: $(cat imp-a.out)"
wait $pb || fail "the second import failed: $(cat imp-b.out)"
[ "$(psql_q "SELECT count(*) FROM subscriptions s JOIN lists l ON l.id = s.list_id WHERE l.name = 'fresh'")" = 6525 ] ||
    fail "imports at once left $(psql_q "SELECT count(*) FROM subscriptions s JOIN lists l ON l.id = s.list_id WHERE l.name = 'fresh'") subscriptions"
counts_exact "two imports at once"
postino import imp-a.csv --list fresh --overwrite
counts_exact "an import over what is there"
postino list rm news
expect_rc 0
counts_exact "a list removed"
[ "$(psql_q "SELECT count(*) FROM list_counts c WHERE NOT EXISTS (SELECT 1 FROM lists l WHERE l.id = c.list_id)")" = 0 ] ||
    fail "counts of a removed list stayed"
psql_q "TRUNCATE subscribers CASCADE" >/dev/null
counts_exact "TRUNCATE"

check "the API: PATCH a list's fields, 409, 404, 400 naming the field; GET one names its campaigns"
api_admin
"$BIN" serve --no-send --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
api_wait
req PATCH /api/v1/lists/fresh '{"name":"fresher"}'
expect_code 200
expect_json "(j['name'], j['description'], j['optin'], j['campaigns'])" "('fresher', '', 'double', [])"
req PATCH /api/v1/lists/fresher '{"description":"Über news","optin":"single"}'
expect_code 200
expect_json "(j['name'], j['description'], j['optin'])" "('fresher', 'Über news', 'single')"
FID=$(jq_get "$body" "j['id']")
req PATCH "/api/v1/lists/$FID" '{"optin":"double"}'
expect_json "j['optin']" double
req PATCH /api/v1/lists/fresher '{"name":"inuse"}'
expect_error 409 exists
expect_json "j['error']['message']" 'list "inuse" already exists'
req PATCH /api/v1/lists/nosuch '{"name":"x"}'
expect_error 404 not_found
req PATCH /api/v1/lists/fresher '{"optin":"triple"}'
expect_error 400 invalid_field optin
expect_json "j['error']['message']" 'opt-in must be single or double, not "triple"'
req PATCH /api/v1/lists/fresher '{"name":""}'
expect_error 400 invalid_field name
req PATCH /api/v1/lists/fresher "{\"name\":\"$(printf 'n%.0s' $(seq 1 201))\"}"
expect_error 400 invalid_field name
req PATCH /api/v1/lists/fresher '{"name":"a\u0007b"}'
expect_error 400 invalid_field name
req PATCH /api/v1/lists/fresher '{"colour":"red"}'
expect_error 400 unknown_field colour
req PATCH /api/v1/lists/fresher '{"name":5}'
expect_error 400 invalid_field name
req PATCH /api/v1/lists/fresher '{}'
expect_error 400 invalid
req GET /api/v1/lists/fresher
expect_json "(j['name'], j['description'], j['optin'])" "('fresher', 'Über news', 'double')"
req POST /api/v1/lists '{"name":"x","optin":"triple"}'
expect_error 400 invalid_field optin
expect_json "j['error']['message']" 'opt-in must be single or double, not "triple"'
req GET /api/v1/lists/inuse
expect_json "[c['name'] for c in j['campaigns']]" "['U', 'V']"
req DELETE /api/v1/lists/inuse
expect_error 409 exists
expect_json "j['error']['message']" 'list "inuse" is used by campaigns "U", "V"; remove it from them first'
req GET "/api/v1/lists?counts=false"
expect_error 400 unknown_field counts

check "the API's counts follow its writes"
req POST /api/v1/subscribers '{"email":"api1@count.example","lists":["fresher"]}'
expect_code 201
req POST /api/v1/subscribers '{"email":"api2@count.example","lists":["fresher"],"subscription_status":"confirmed"}'
expect_code 201
req GET /api/v1/lists/fresher
expect_json "j['subscribers']" "{'confirmed': 1, 'unconfirmed': 1, 'unsubscribed': 0}"
req DELETE /api/v1/subscribers/api2@count.example/subscriptions/fresher
req GET /api/v1/lists
expect_json "[l['subscribers'] for l in j['items'] if l['name'] == 'fresher']" "[{'confirmed': 0, 'unconfirmed': 1, 'unsubscribed': 1}]"
counts_exact "the API's writes"
api_stop

check "--help on every command"
for c in "list" "list create" "list set" "subscriber" "subscriber add" "subscriber ls"; do
    # shellcheck disable=SC2086
    postino $c --help
    expect_rc 0
    expect_out "usage: postino"
done

finish
