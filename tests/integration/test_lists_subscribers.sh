#!/bin/bash
# test_lists_subscribers - list and subscriber commands, each bad input, and
# that every command is one transaction.
source "$(dirname "$0")/lib.sh"

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
expect_err 'list "inuse" is used by a campaign; remove it from the campaign first'
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

check "--help on every command"
for c in "list" "list create" "subscriber" "subscriber add" "subscriber ls"; do
    # shellcheck disable=SC2086
    postino $c --help
    expect_rc 0
    expect_out "usage: postino"
done

finish
