#!/bin/bash
# test_rules - each rule lives in one engine function: the command line and
# the REST API refuse the same bad input, naming the same reason in the same
# words (relays: relay_input_check; a From: address_mailbox_parse), and
# accept the same good input with the same result.
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

# same_refusal CLI-OPTIONS -- API-JSON-DICT: both refuse; the API's message is the CLI's error line
same_refusal() {
    local cli=() api
    while [ "$1" != "--" ]; do cli+=("$1"); shift; done
    api=$2
    postino relay add "${cli[@]}"
    [ "$rc" = 2 ] || fail "relay add ${cli[*]}: exit $rc, expected 2"
    local cli_line
    cli_line=$(printf '%s\n' "$err" | head -1)
    req POST /api/v1/relays "$(js "$api")"
    expect_code 400
    local why
    why=$(jq_get "$body" "j['error']['message']")
    [ "$cli_line" = "postino: error: $why" ] || fail "the CLI says '$cli_line', the API '$why'"
}

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
[ "$(psql_q "SELECT count(*) FROM relays")" = 0 ] || fail "a refused relay was stored"

check "relays: the same good input makes the same relay through either"
postino relay add cli-r --host mx.example --tls tls --user u --password-file relay.pw --rate 600/m --quota 500/30m --max-conns 3
expect_rc 0
req POST /api/v1/relays "$(js "{'name': 'api-r', 'host': 'mx.example', 'tls': 'tls', 'username': 'u', 'password': 'secret', 'rate': '600/m', 'quota': '500/30m', 'max_conns': 3}")"
expect_code 201
[ "$(psql_q "SELECT count(DISTINCT (host, port, tls, tls_verify, username, password IS NULL, max_conns, max_per_conn, rate, quota, quota_period)) || ' ' || min(port) || ' ' || min(rate) || ' ' || min(extract(epoch FROM quota_period))::int FROM relays")" = "1 465 10 1800" ] ||
    fail "the two relays differ: $(psql_q "SELECT name, host, port, tls, max_conns, max_per_conn, rate, quota, quota_period FROM relays")"

check "a campaign's From: the CLI and the API give the same reason"
postino list create news
printf '<p>Hello</p>\n' > body.html
for from in 'News <news@example.com' 'not an address' 'News <news@example.com> trailing' 'News <@example.com>'; do
    postino campaign create --name C --subject S --from "$from" --list news --html body.html
    [ "$rc" = 1 ] || fail "campaign create --from '$from': exit $rc"
    cli_err=$err
    req POST /api/v1/campaigns "$(js "{'name': 'C', 'subject': 'S', 'from': '''$from''', 'lists': ['news'], 'html': 'x'}")"
    expect_error 400 invalid_field from
    why=$(jq_get "$body" "j['error']['message'].split('is not a valid sender: ', 1)[1]")
    [ -n "$why" ] || fail "no reason in the API's answer: $body"
    case "$cli_err" in *"invalid From \"$from\": $why") ;; *) fail "the CLI says '$cli_err', the API '$why'" ;; esac
done
[ "$(psql_q "SELECT count(*) FROM campaigns")" = 0 ] || fail "a refused campaign was stored"

finish
