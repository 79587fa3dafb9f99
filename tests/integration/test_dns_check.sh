#!/bin/bash
# test_dns_check - postino dns check against a real authoritative server:
# knotd (Debian's knot) on 127.0.0.1 at a high port, with its own
# configuration and zones under this test's directory, serves example.test
# (every record right), broken.test (one thing wrong per name) and
# 2.0.192.in-addr.arpa (PTR of the TEST-NET-1 senders); [dns] servers
# points the check at it (one apex answer is too big for UDP: c-ares goes on
# over TCP). Each case asserts the exact level of the finding
# it breaks, the good domain is all ok, the exit status follows the errors,
# and GET /api/v1/dns/check answers the same.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/api_lib.sh"
api_setup 18590
DNS_PORT=18591
KNOT="$WORK/knot"
KNOT_PID=""
SILENT_PID=""

knot_stop() {
    [ -n "$SILENT_PID" ] && kill "$SILENT_PID" 2>/dev/null
    if [ -n "$KNOT_PID" ]; then
        kill -TERM "$KNOT_PID" 2>/dev/null
        wait "$KNOT_PID" 2>/dev/null
        KNOT_PID=""
    fi
}
trap 'knot_stop; api_stop' EXIT

# level CHECK NAME: the level of the finding CHECK about NAME in $out (the --json report)
level() {
    jq_get "$out" "[f['level'] for f in j['findings'] if f['check'] == '$1' and f['name'] == '$2']"
}
expect_level() {   # expect_level CHECK NAME LEVEL
    local v
    v=$(level "$1" "$2")
    [ "$v" = "['$3']" ] || fail "finding $1 $2 is $v, expected ['$3']"
}

check "setup: database, DKIM keys postino holds for the test domains"
postino db init
expect_rc 0
for d in example.test wrongkey.broken.test revoked.broken.test; do
    postino dkim add "$d" --selector s1 --json
    expect_rc 0
done
postino dkim add example.test --selector s2 --algorithm ed25519 --json
expect_rc 0
rec() {   # rec DOMAIN SELECTOR: the TXT value postino publishes for that key
    "$BIN" dkim record "$1" --json | /usr/bin/python3 -c \
        'import json,sys; print([r["value"] for r in json.load(sys.stdin) if r["selector"] == sys.argv[1]][0])' "$2"
}
# a TXT value split into strings of at most 255 octets, as a zone file wants it
txt() { /usr/bin/python3 -c 'import sys; v=sys.argv[1]; print(" ".join("\"%s\"" % v[i:i+255] for i in range(0, len(v), 255)))' "$1"; }
GOOD_S1=$(rec example.test s1)
GOOD_S2=$(rec example.test s2)
WRONG_S1=$(rec wrongkey.broken.test s1)
[ -n "$GOOD_S1" ] && [ -n "$GOOD_S2" ] && [ -n "$WRONG_S1" ] || fail "no DKIM records from postino dkim record"

check "setup: knotd serving example.test, broken.test and 2.0.192.in-addr.arpa on 127.0.0.1:$DNS_PORT"
mkdir -p "$KNOT/db" "$KNOT/run"
SOA='@ 3600 IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60
@ 3600 IN NS ns.example.test.'
cat > "$KNOT/example.test.zone" <<ZONE
\$ORIGIN example.test.
\$TTL 60
$SOA
ns              A     127.0.0.1
@               MX    10 mail.example.test.
mail            A     192.0.2.10
mail            AAAA  2001:db8::10
; SPF through include (no match), redirect, then mx: the sending address is the MX host's
@               TXT   "v=spf1 include:_inc.example.test redirect=_spf.example.test"
@               TXT   "google-site-verification=abc"
; more TXT at the apex than a UDP answer holds (1232 octets with EDNS): the answer comes over TCP
@               TXT   $(/usr/bin/python3 -c 'print(" ".join("\"" + chr(97 + i) * 250 + "\"" for i in range(6)))')
_inc            TXT   "v=spf1 ip4:198.51.100.0/24 -all"
_spf            TXT   "v=spf1 ip6:2001:db8:1::/48 mx:example.test -all"
s1._domainkey   TXT   ( $(txt "$GOOD_S1") )
s2._domainkey   TXT   "$GOOD_S2"
_dmarc          TXT   "v=DMARC1; p=reject; adkim=s; aspf=r; rua=mailto:dmarc@example.test"
ZONE
{
    echo "\$ORIGIN broken.test."
    echo "\$TTL 60"
    echo "${SOA//example.test./broken.test.}" | sed 's/ns\.broken\.test\./ns.example.test./'
    echo "@ MX 10 mail.example.test."
    echo "host A 192.0.2.99"
    # SPF past 10 lookups: a chain of 11 includes
    echo 'many TXT "v=spf1 include:l1.broken.test -all"'
    for i in $(seq 1 10); do echo "l$i TXT \"v=spf1 include:l$((i + 1)).broken.test -all\""; done
    echo 'l11 TXT "v=spf1 ip4:192.0.2.10 -all"'
    # SPF not covering the sending address (-all) and (~all)
    echo 'nocover TXT "v=spf1 ip4:198.51.100.1 a:host.broken.test -all"'
    echo 'soft TXT "v=spf1 ip4:198.51.100.1 ~all"'
    # two SPF records
    echo 'two TXT "v=spf1 ip4:192.0.2.10 -all"'
    echo 'two TXT "v=spf1 mx -all"'
    # three void lookups before the match
    echo 'voids TXT "v=spf1 a:nx1.broken.test a:nx2.broken.test a:nx3.broken.test ip4:192.0.2.10 -all"'
    # +all
    echo 'plusall TXT "v=spf1 +all"'
    # DKIM: another key than postino's; a revoked one
    echo "s1._domainkey.wrongkey TXT ( $(txt "$GOOD_S1") )"
    echo 'wrongkey TXT "v=spf1 ip4:192.0.2.10 -all"'
    echo 's1._domainkey.revoked TXT "v=DKIM1; k=rsa; p="'
    echo 'revoked TXT "v=spf1 ip4:192.0.2.10 -all"'
    # DMARC: none at all; p=none; MX: a null MX
    echo 'nodmarc TXT "v=spf1 ip4:192.0.2.10 -all"'
    echo 'pnone TXT "v=spf1 ip4:192.0.2.10 -all"'
    echo '_dmarc.pnone TXT "v=DMARC1; p=none"'
    echo 'nullmx MX 0 .'
} > "$KNOT/broken.test.zone"
cat > "$KNOT/2.0.192.in-addr.arpa.zone" <<ZONE
\$ORIGIN 2.0.192.in-addr.arpa.
\$TTL 60
${SOA//@ 3600 IN NS ns.example.test./@ 3600 IN NS ns.example.test.}
10  PTR mail.example.test.
30  PTR host.broken.test.
ZONE
cat > "$KNOT/knot.conf" <<CONF
server:
    listen: 127.0.0.1@$DNS_PORT
    rundir: "$KNOT/run"
database:
    storage: "$KNOT/db"
log:
  - target: "$KNOT/knot.log"
    any: info
template:
  - id: default
    storage: "$KNOT"
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: example.test
  - domain: broken.test
  - domain: 2.0.192.in-addr.arpa
CONF
/usr/sbin/knotd -c "$KNOT/knot.conf" >> "$KNOT/knotd.out" 2>&1 &
KNOT_PID=$!
knot_up() {
    kdig -p "$DNS_PORT" @127.0.0.1 +short +timeout=1 +retry=0 SOA 2.0.192.in-addr.arpa 2>/dev/null | grep -q hostmaster &&
        kdig -p "$DNS_PORT" @127.0.0.1 +short +timeout=1 +retry=0 SOA broken.test 2>/dev/null | grep -q hostmaster &&
        kdig -p "$DNS_PORT" @127.0.0.1 +short +timeout=1 +retry=0 SOA example.test 2>/dev/null | grep -q hostmaster
}
wait_for "knotd to serve the three zones on port $DNS_PORT" 20 knot_up || { cat "$KNOT/knot.log" "$KNOT/knotd.out"; exit 1; }
export POSTINO_DNS_SERVERS="127.0.0.1:$DNS_PORT"

check "the good domain: every finding ok, exit status 0"
postino dns check example.test --ip 192.0.2.10 --json
expect_rc 0
expect_json_out() { local v; v=$(jq_get "$out" "$1" 2>&1); [ "$v" = "$2" ] || fail "$1 is '$v', expected '$2'"; }
expect_json_out "sorted(set(f['level'] for f in j['findings']))" "['ok']"
expect_json_out "[f['check'] for f in j['findings']]" "['spf', 'dkim', 'dkim', 'dmarc', 'alignment', 'alignment', 'mx', 'ptr']"
expect_json_out "(j['errors'], j['warnings'], j['ok'])" "(0, 0, 8)"
expect_level spf example.test ok
expect_level dkim s1._domainkey.example.test ok
expect_level dkim s2._domainkey.example.test ok
expect_level dmarc _dmarc.example.test ok
expect_level mx example.test ok
expect_level ptr 192.0.2.10 ok
expect_json_out "[f['message'] for f in j['findings'] if f['check'] == 'spf'][0]" \
    "SPF of example.test permits 192.0.2.10 (mx:example.test in _spf.example.test; 3 DNS lookups)"
expect_json_out "[f['message'] for f in j['findings'] if f['check'] == 'ptr'][0]" \
    "192.0.2.10 is mail.example.test, which resolves back to 192.0.2.10"

check "the good domain, text form: each finding on a line, the summary last"
postino dns check example.test --ip 192.0.2.10
expect_rc 0
expect_out "DNS check of example.test (sending from 192.0.2.10, envelope domain example.test)"
expect_out "ok       spf        SPF of example.test permits 192.0.2.10"
expect_out "8 ok, 0 warnings, 0 errors"

check "an IPv6 sender: the same SPF passes through ip6 ranges and mx's AAAA"
postino dns check example.test --ip 2001:db8::10 --selector s1 --json
expect_json_out "[f['level'] for f in j['findings'] if f['check'] == 'spf']" "['ok']"
expect_json_out "[f['name'] for f in j['findings'] if f['check'] == 'dkim']" "['s1._domainkey.example.test']"
expect_level ptr 2001:db8::10 error

check "SPF over 10 lookups: permerror, an error, exit status 1"
postino dns check many.broken.test --ip 192.0.2.10 --json
expect_rc 1
expect_level spf many.broken.test error
expect_json_out "'more than 10 DNS lookups' in [f['message'] for f in j['findings'] if f['check'] == 'spf'][0]" True

check "SPF not covering the address: fail (-all) and softfail (~all) are errors, the fix adds the address"
postino dns check nocover.broken.test --ip 192.0.2.10 --json
expect_level spf nocover.broken.test error
expect_json_out "[f['fix'] for f in j['findings'] if f['check'] == 'spf'][0]" \
    'nocover.broken.test. IN TXT "v=spf1 ip4:192.0.2.10 ip4:198.51.100.1 a:host.broken.test -all"'
expect_json_out "'does not permit 192.0.2.10: fail' in [f['message'] for f in j['findings'] if f['check'] == 'spf'][0]" True
postino dns check soft.broken.test --ip 192.0.2.10 --json
expect_level spf soft.broken.test error
expect_json_out "'softfail' in [f['message'] for f in j['findings'] if f['check'] == 'spf'][0]" True

check "two SPF records: permerror, an error"
postino dns check two.broken.test --ip 192.0.2.10 --json
expect_level spf two.broken.test error
expect_json_out "'2 SPF records' in [f['message'] for f in j['findings'] if f['check'] == 'spf'][0]" True

check "more than two void lookups: permerror, an error"
postino dns check voids.broken.test --ip 192.0.2.10 --json
expect_level spf voids.broken.test error
expect_json_out "'void' in [f['message'] for f in j['findings'] if f['check'] == 'spf'][0]" True

check "+all: a warning"
postino dns check plusall.broken.test --ip 192.0.2.10 --json
expect_level spf plusall.broken.test warning

check "a wrong DKIM key and a revoked one: errors, the fix the record postino holds"
postino dns check wrongkey.broken.test --ip 192.0.2.10 --json
expect_rc 1
expect_level dkim s1._domainkey.wrongkey.broken.test error
expect_level spf wrongkey.broken.test ok
expect_level alignment dkim error
expect_json_out "'another key' in [f['message'] for f in j['findings'] if f['check'] == 'dkim'][0]" True
expect_json_out "'$WRONG_S1'[-40:] in [f['fix'] for f in j['findings'] if f['check'] == 'dkim'][0].replace('\" \"', '')" True
postino dns check revoked.broken.test --ip 192.0.2.10 --json
expect_level dkim s1._domainkey.revoked.broken.test error
expect_json_out "'revoked' in [f['message'] for f in j['findings'] if f['check'] == 'dkim'][0]" True

check "no DKIM key held for a domain: an error naming the command that makes one"
postino dns check nodmarc.broken.test --ip 192.0.2.10 --json
expect_level dkim nodmarc.broken.test error
expect_json_out "[f['fix'] for f in j['findings'] if f['check'] == 'dkim'][0]" \
    "postino dkim add nodmarc.broken.test, then publish the record it prints"

check "missing DMARC: an error; DMARC p=none: a warning"
expect_level dmarc _dmarc.nodmarc.broken.test error
expect_json_out "[f['fix'] for f in j['findings'] if f['check'] == 'dmarc'][0]" \
    '_dmarc.nodmarc.broken.test. IN TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@nodmarc.broken.test; adkim=r; aspf=r"'
postino dns check pnone.broken.test --ip 192.0.2.10 --json
expect_level dmarc _dmarc.pnone.broken.test warning

check "MX: a null MX is an error, none at all with no address is an error"
postino dns check nullmx.broken.test --ip 192.0.2.10 --json
expect_level mx nullmx.broken.test error
expect_json_out "'null MX' in [f['message'] for f in j['findings'] if f['check'] == 'mx'][0]" True
postino dns check nodmarc.broken.test --ip 192.0.2.10 --json
expect_level mx nodmarc.broken.test error

check "PTR missing, PTR not forward-confirmed: errors"
postino dns check example.test --ip 192.0.2.20 --json
expect_rc 1
expect_level ptr 192.0.2.20 error
expect_json_out "'no reverse name' in [f['message'] for f in j['findings'] if f['check'] == 'ptr'][0]" True
expect_level spf example.test error
postino dns check example.test --ip 192.0.2.30 --json
expect_level ptr 192.0.2.30 error
expect_json_out "[f['message'] for f in j['findings'] if f['check'] == 'ptr'][0]" \
    "the reverse name of 192.0.2.30, host.broken.test, does not resolve back to 192.0.2.30"
expect_json_out "[f['fix'] for f in j['findings'] if f['check'] == 'ptr'][0]" "host.broken.test. IN A 192.0.2.30"

check "an envelope domain elsewhere: SPF alignment a warning while DKIM aligns"
POSTINO_BOUNCE_DOMAIN=bounces.broken.test postino dns check example.test --ip 192.0.2.10 --json
expect_json_out "j['bounce_domain']" "bounces.broken.test"
expect_level alignment spf warning
expect_level alignment dkim ok

check "no address given: SPF checked for syntax and lookups only (a warning), PTR not checked (a warning)"
postino dns check example.test --json
expect_rc 0
expect_level spf example.test warning
expect_level ptr ADDR warning

check "bad input: one line naming the field, exit status 2"
postino dns check example.test --ip 300.1.1.1
expect_rc 2
expect_err 'ip "300.1.1.1" is not an IPv4 or IPv6 address'
postino dns check 'exa mple' --ip 192.0.2.10
expect_rc 2
expect_err 'domain "exa mple" is not a valid domain'

check "the resolver from the configuration file ([dns] servers with its port); a bad one refused at start"
printf '[dns]\nservers = 127.0.0.1:%s\nip = 192.0.2.10\n' "$DNS_PORT" > "$WORK/dns.conf"
unset POSTINO_DNS_SERVERS
postino --config "$WORK/dns.conf" dns check example.test --json
export POSTINO_DNS_SERVERS="127.0.0.1:$DNS_PORT"
expect_rc 0
expect_json_out "(j['ip'], j['errors'], j['ok'])" "('192.0.2.10', 0, 8)"
POSTINO_DNS_SERVERS="not an address" postino dns check example.test
expect_rc 1
expect_err '[dns] servers = "not an address": not a list of addresses with optional ports'

check "a server that never answers: the whole check ends at its deadline, every lookup reported as timed out"
SILENT_PORT=18592
/usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
print("bound", flush=True)
while True:
    s.recvfrom(4096)   # read and never answer' "$SILENT_PORT" > "$WORK/silent.out" 2>&1 &
SILENT_PID=$!
wait_for "the silent server to bind" 10 grep -q bound "$WORK/silent.out"
start=$(date +%s%N)
POSTINO_DNS_SERVERS=127.0.0.1:$SILENT_PORT POSTINO_DNS_TIMEOUT_MS=2000 POSTINO_DNS_TRY_MS=30000 \
    postino dns check example.test --ip 192.0.2.10 --json
took=$((($(date +%s%N) - start) / 1000000))
kill "$SILENT_PID" 2>/dev/null
wait "$SILENT_PID" 2>/dev/null
SILENT_PID=""
expect_rc 1
# a try waits 30 s, the check 2 s: it ends at its deadline, long before a try would (start-up included)
[ "$took" -ge 2000 ] && [ "$took" -lt 20000 ] || fail "the check took $took ms"
expect_json_out "sorted(set(f['level'] for f in j['findings'] if f['check'] != 'alignment'))" "['error']"
expect_json_out "[f['message'] for f in j['findings'] if f['check'] == 'spf'][0]" \
    "the SPF record of example.test could not be read (temperror): DNS lookup of TXT example.test failed: timed out"

check "the API: GET /api/v1/dns/check answers the same report"
api_admin
"$BIN" serve --listen "127.0.0.1:$PORT" --no-send > "$WORK/serve.log" 2>&1 &
SERVER=$!
api_wait
req GET "/api/v1/dns/check?domain=example.test&ip=192.0.2.10"
expect_code 200
expect_json "sorted(set(f['level'] for f in j['findings']))" "['ok']"
expect_json "(j['domain'], j['ip'], j['errors'], j['ok'])" "('example.test', '192.0.2.10', 0, 8)"
req GET "/api/v1/dns/check?domain=revoked.broken.test&ip=192.0.2.30&selector=s1"
expect_code 200
expect_json "[f['level'] for f in j['findings'] if f['check'] in ('dkim', 'ptr')]" "['error', 'error']"
expect_json "j['errors'] >= 2" True
req GET "/api/v1/dns/check?domain=example.test&ip=nope"
expect_error 400 invalid_field ip
req GET "/api/v1/dns/check?ip=192.0.2.10"
expect_error 400 invalid_field domain
req GET "/api/v1/dns/check?domain=example.test&bogus=1"
expect_code 400

check "the admin's DNS check in headless Chromium (screenshots in build/screens/dns-*)"
SHOTS="$ROOT/build/screens"
mkdir -p "$SHOTS"
rm -f "$SHOTS"/dns-*.png
/usr/bin/python3 "$ROOT/tests/integration/admin_dns.py" "$API" "$SHOTS" > "$WORK/browser.log" 2>&1 ||
    fail "the browser script failed: $(tail -20 "$WORK/browser.log")"
grep -q '^ok [0-9]* steps' "$WORK/browser.log" || fail "the browser script did not finish"
for s in dns-good dns-good-narrow dns-broken dns-broken-narrow; do
    [ -s "$SHOTS/$s.png" ] || fail "no screenshot $s.png"
done

finish
