#!/bin/bash
# test_rules - each rule lives in one engine function: the command line and
# the REST API refuse the same bad input, naming the same reason in the same
# words (relays: relay_input_check; campaigns: campaign_check and
# campaign_create, a From through address_mailbox_parse; imports: import_option;
# names that go into headers: mime_name_check),
# and accept the same good input with the same result and the same warnings.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/api_lib.sh"
api_setup 18480

postino db init
expect_rc 0
api_admin
"$BIN" serve --no-send --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
api_wait
printf 'secret\n' > relay.pw
js() { /usr/bin/python3 -c 'import json,sys; print(json.dumps(eval(sys.argv[1])))' "$1"; }

# refused_alike EXIT PATH STATUS CODE FIELD CLI-ARGS... -- API-JSON-DICT: postino CLI-ARGS exits EXIT
# with "postino: error: " and the API's message as its first line; POST PATH answers STATUS with the
# error CODE naming FIELD (-: no field). $why is the message.
refused_alike() {
    local want_rc=$1 path=$2 want_status=$3 want_code=$4 want_field=$5 cli=() api cli_line
    shift 5
    while [ "$1" != "--" ]; do cli+=("$1"); shift; done
    api=$2
    postino "${cli[@]}"
    [ "$rc" = "$want_rc" ] || fail "${cli[*]}: exit $rc, expected $want_rc"
    cli_line=$(printf '%s\n' "$err" | head -1)
    req POST "$path" "$(js "$api")"
    if [ "$want_field" = - ]; then
        expect_error "$want_status" "$want_code"
    else
        expect_error "$want_status" "$want_code" "$want_field"
    fi
    why=$(jq_get "$body" "j['error']['message']")
    [ "$cli_line" = "postino: error: $why" ] || fail "the CLI says '$cli_line', the API '$why'"
}

# same_refusal RELAY-ADD-OPTIONS -- API-JSON-DICT: a relay refused alike (a usage error for the CLI)
same_refusal() { refused_alike 2 /api/v1/relays 400 invalid_field - relay add "$@"; }

check "relays: the CLI and the API refuse the same values with the same words"
same_refusal r1 --host 'a b' -- "{'name': 'r1', 'host': 'a b'}"
same_refusal 'two words' --host h.example -- "{'name': 'two words', 'host': 'h.example'}"
same_refusal 'a/b' --host h.example -- "{'name': 'a/b', 'host': 'h.example'}"
same_refusal r1 --host h.example --tls ssl -- "{'name': 'r1', 'host': 'h.example', 'tls': 'ssl'}"
same_refusal r1 --host h.example --port 70000 -- "{'name': 'r1', 'host': 'h.example', 'port': 70000}"
same_refusal r1 --host h.example --port 0 -- "{'name': 'r1', 'host': 'h.example', 'port': 0}"
same_refusal r1 --host h.example --max-conns 0 -- "{'name': 'r1', 'host': 'h.example', 'max_conns': 0}"
same_refusal r1 --host h.example --max-per-conn 100001 -- "{'name': 'r1', 'host': 'h.example', 'max_per_conn': 100001}"
same_refusal r1 --host h.example --rate fast -- "{'name': 'r1', 'host': 'h.example', 'rate': 'fast'}"
same_refusal r1 --host h.example --rate 2e9/s -- "{'name': 'r1', 'host': 'h.example', 'rate': '2e9/s'}"
same_refusal r1 --host h.example --quota 100 -- "{'name': 'r1', 'host': 'h.example', 'quota': '100'}"
same_refusal r1 --host h.example --quota 2.5/h -- "{'name': 'r1', 'host': 'h.example', 'quota': '2.5/h'}"
same_refusal r1 --host h.example --tls-verify no --ca-file /etc/ssl/certs/ca-certificates.crt -- \
    "{'name': 'r1', 'host': 'h.example', 'tls_verify': False, 'ca_file': '/etc/ssl/certs/ca-certificates.crt'}"
same_refusal r1 --host h.example --tls none --user u --password-file relay.pw -- \
    "{'name': 'r1', 'host': 'h.example', 'tls': 'none', 'username': 'u', 'password': 'secret'}"
same_refusal r1 --host h.example --tls none --user u --password-file relay.pw --allow-plain-auth -- \
    "{'name': 'r1', 'host': 'h.example', 'tls': 'none', 'username': 'u', 'password': 'secret', 'allow_plain_auth': True}"
[ "$(psql_q "SELECT count(*) FROM relays")" = 0 ] || fail "a refused relay was stored"

check "relays: the same good input makes the same relay through either"
postino relay add cli-r --host mx.example --tls tls --user u --password-file relay.pw --rate 600/m --quota 500/30m --max-conns 3
expect_rc 0
req POST /api/v1/relays "$(js "{'name': 'api-r', 'host': 'mx.example', 'tls': 'tls', 'username': 'u', 'password': 'secret', 'rate': '600/m', 'quota': '500/30m', 'max_conns': 3}")"
expect_code 201
[ "$(psql_q "SELECT count(DISTINCT (host, port, tls, tls_verify, username, password IS NULL, max_conns, max_per_conn, rate, quota, quota_period)) || ' ' || min(port) || ' ' || min(rate) || ' ' || min(extract(epoch FROM quota_period))::int FROM relays")" = "1 465 10 1800" ] ||
    fail "the two relays differ: $(psql_q "SELECT name, host, port, tls, max_conns, max_per_conn, rate, quota, quota_period FROM relays")"

# same_campaign_refusal STATUS CODE FIELD CAMPAIGN-CREATE-OPTIONS -- API-JSON-DICT: a campaign refused alike
same_campaign_refusal() {
    local want_status=$1 want_code=$2 want_field=$3
    shift 3
    refused_alike 1 /api/v1/campaigns "$want_status" "$want_code" "$want_field" campaign create "$@"
}

check "campaigns: the CLI and the API refuse the same input with the same words"
postino list create news
printf '<p>Hello</p>\n' > body.html
for from in 'News <news@example.com' 'not an address' 'News <news@example.com> trailing' 'News <@example.com>'; do
    same_campaign_refusal 400 invalid_field from --name C --subject S --from "$from" --list news --html body.html -- \
        "{'name': 'C', 'subject': 'S', 'from': '''$from''', 'lists': ['news'], 'html': 'x'}"
done
same_campaign_refusal 400 invalid_field reply_to --name C --subject S --from news@example.com --reply-to '@@' \
    --list news --html body.html -- \
    "{'name': 'C', 'subject': 'S', 'from': 'news@example.com', 'reply_to': '@@', 'lists': ['news'], 'html': 'x'}"
same_campaign_refusal 400 invalid_template subject --name C --subject 'Hi {{ oops' --from news@example.com \
    --list news --html body.html -- \
    "{'name': 'C', 'subject': 'Hi {{ oops', 'from': 'news@example.com', 'lists': ['news'], 'html': 'x'}"
case "$why" in "the subject does not compile: line 1, column "*) ;; *) fail "no line and column for the subject: '$why'" ;; esac
same_campaign_refusal 400 invalid_field subject --name C --subject $'two\nlines' --from news@example.com \
    --list news --html body.html -- \
    "{'name': 'C', 'subject': 'two\\nlines', 'from': 'news@example.com', 'lists': ['news'], 'html': 'x'}"
[ "$why" = "the subject must be one line" ] || fail "a two-line subject: '$why'"
same_campaign_refusal 404 not_found - --name C --subject S --from news@example.com --list nolist --html body.html -- \
    "{'name': 'C', 'subject': 'S', 'from': 'news@example.com', 'lists': ['nolist'], 'html': 'x'}"
[ "$why" = 'no list "nolist"' ] || fail "an unknown list: '$why'"
same_campaign_refusal 404 not_found - --name C --subject S --from news@example.com --list news --template nosuch \
    --html body.html -- \
    "{'name': 'C', 'subject': 'S', 'from': 'news@example.com', 'lists': ['news'], 'template': 'nosuch', 'html': 'x'}"
[ "$why" = 'no template "nosuch"' ] || fail "an unknown template: '$why'"
[ "$(psql_q "SELECT count(*) FROM campaigns")" = 0 ] || fail "a refused campaign was stored"

check "campaigns: the CLI and the API warn alike of a From domain with no DKIM key, and not when it has one"
postino campaign create --name C --subject S --from news@nokeys.example --list news --html body.html
expect_rc 0
[ "$err" = "postino: warning: no DKIM key for nokeys.example: messages will go unsigned" ] ||
    fail "the CLI's warning: '$err'"
req POST /api/v1/campaigns "$(js "{'name': 'C', 'subject': 'S', 'from': 'news@nokeys.example', 'lists': ['news'], 'html': 'x'}")"
expect_code 201
expect_json "j['warnings']" "['no DKIM key for nokeys.example: messages will go unsigned']"
postino dkim add signed.example
expect_rc 0
postino campaign create --name C --subject S --from news@signed.example --list news --html body.html
expect_rc 0
[ -z "$err" ] || fail "a warning for a domain with a key: '$err'"
req POST /api/v1/campaigns "$(js "{'name': 'C', 'subject': 'S', 'from': 'news@signed.example', 'lists': ['news'], 'html': 'x'}")"
expect_code 201
expect_json "j['warnings']" "[]"
[ "$(psql_q "SELECT count(*) FROM campaigns")" = 4 ] || fail "campaigns stored: $(psql_q "SELECT count(*) FROM campaigns")"

# same_import_refusal NAME VALUE: postino import --NAME VALUE is a usage error and POST /imports?NAME=VALUE
# a 400 naming NAME, both with import_option's reason after the option's name ("--mode" and "\"mode\"")
same_import_refusal() {
    local name=$1 value=$2 q
    postino import people.csv --list news "--$name" "$value"
    expect_rc 2
    cli_line=$(printf '%s\n' "$err" | head -1)
    q=$(/usr/bin/python3 -c 'import sys, urllib.parse; print(urllib.parse.urlencode({"list": "news", sys.argv[1]: sys.argv[2]}))' "$name" "$value")
    req POST "/api/v1/imports?$q" "@people.csv" "$ADMIN" text/csv
    expect_error 400 invalid_field "$name"
    why=$(jq_get "$body" "j['error']['message']")
    [ "${cli_line#postino: error: --$name }" = "${why#\"$name\" }" ] ||
        fail "--$name $value: the CLI says '$cli_line', the API '$why'"
    case "$why" in "\"$name\" must be "*) ;; *) fail "the API's reason: '$why'" ;; esac
}

check "campaigns: the CLI and the API refuse the same schedule times with the same words"
cid=$(psql_q "SELECT min(id) FROM campaigns")
refused_alike 1 "/api/v1/campaigns/$cid/schedule" 400 invalid_field send_at campaign schedule "$cid" --at infinity -- \
    "{'send_at': 'infinity'}"
[ "$why" = 'the time "infinity" is not a finite time' ] || fail "an infinite time: '$why'"
refused_alike 1 "/api/v1/campaigns/$cid/schedule" 400 invalid_field send_at campaign schedule "$cid" --at 'next tuesday' -- \
    "{'send_at': 'next tuesday'}"
[ "$why" = 'cannot understand the time "next tuesday"' ] || fail "a time PostgreSQL cannot read: '$why'"
[ "$(psql_q "SELECT status FROM campaigns WHERE id = $cid")" = draft ] || fail "a refused schedule moved the campaign"

check "imports: the CLI and the API refuse the same options with the same words (import_option)"
printf 'email\nann@example.com\n' > people.csv
same_import_refusal mode subscribed
same_import_refusal status pending
same_import_refusal format json
same_import_refusal delimiter '#'
same_import_refusal encoding 'utf 8'
[ "$(psql_q "SELECT count(*) FROM subscribers")" = 0 ] || fail "a refused import wrote subscribers"
postino import people.csv --list news --delimiter tab --dry-run
expect_rc 0
imp_q=$(/usr/bin/python3 -c 'import urllib.parse; print(urllib.parse.urlencode({"list": "news", "delimiter": "tab", "dry_run": "true"}))')
req POST "/api/v1/imports?$imp_q" "@people.csv" "$ADMIN" text/csv
[ "$code" = 200 ] || [ "$code" = 202 ] || fail "--delimiter tab over the API: HTTP $code $body"

check "names: the CLI and the API refuse the same control characters with the same words (mime_name_check)"
refused_alike 1 /api/v1/subscribers 400 invalid_field name subscriber add bel@example.com --name $'Bel\x07l' -- \
    "{'email': 'bel@example.com', 'name': 'Bel\\x07l'}"
[ "$why" = "the subscriber name holds a control character" ] || fail "a bell in a subscriber name: '$why'"
refused_alike 1 /api/v1/lists 400 invalid_field name list create $'news\nletter' -- "{'name': 'news\\nletter'}"
[ "$why" = "the list name holds a line break" ] || fail "a line break in a list name: '$why'"
same_campaign_refusal 400 invalid_field name --name $'C\x01' --subject S --from news@example.com --list news \
    --html body.html -- "{'name': 'C\\x01', 'subject': 'S', 'from': 'news@example.com', 'lists': ['news'], 'html': 'x'}"
[ "$why" = "the campaign name holds a control character" ] || fail "a control character in a campaign name: '$why'"
same_campaign_refusal 400 invalid_field from --name C --subject S --from $'News\tDesk <news@example.com>' \
    --list news --html body.html -- \
    "{'name': 'C', 'subject': 'S', 'from': 'News\\tDesk <news@example.com>', 'lists': ['news'], 'html': 'x'}"
[ "$why" = 'invalid From "News": the name holds a tab' ] || fail "a tab in a From name: '$why'"
[ "$(psql_q "SELECT count(*) FROM subscribers WHERE email = 'bel@example.com'") $(psql_q "SELECT count(*) FROM lists WHERE name LIKE 'news_letter'")" = "0 0" ] ||
    fail "a refused subscriber or list was stored"
# a subscriber's name may hold a line break (a multi-line name from a CSV file): kept alike
postino subscriber add bo@example.com --name $'Bo\r\nBo'
expect_rc 0
req POST /api/v1/subscribers "$(js "{'email': 'cy@example.com', 'name': 'Cy\\r\\nCy'}")"
expect_code 201
[ "$(psql_q "SELECT string_agg(replace(name, E'\\r\\n', '|'), ',' ORDER BY email) FROM subscribers WHERE email IN ('bo@example.com', 'cy@example.com')")" = "Bo|Bo,Cy|Cy" ] ||
    fail "the names: $(psql_q "SELECT email, name FROM subscribers")"

finish
