#!/bin/bash
# test_messages - templates, DKIM keys and DNS records, campaigns as data, and
# the preview: the exact signed message, verified by dkimpy (an implementation
# postino did not write) and parsed back by Python's email package.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
DATA="$ROOT/tests/data/messages"

check "db init installs the default newsletter and confirmation templates once"
postino db init
expect_rc 0
expect_out 'installed the default template "newsletter"'
expect_out 'installed the default template "confirm"'
postino db init
expect_rc 0
expect_no_out "installed the default template"
postino template ls --json
[ "$(jq_get "$out" "[t['name'] for t in j]")" = "['confirm', 'newsletter', 'signup']" ] || fail "templates after init"

check "template add compiles; errors name file, line and column"
printf '<html><body><h1>{{ list.name }}</h1>\n[CONTENT]\n<p><a href="{{ unsubscribe_url }}">unsubscribe</a></p></body></html>\n' > layout.html
printf '{{ list.name }}\n\n[CONTENT]\n\nUnsubscribe: {{ unsubscribe_url }}\n' > layout.txt
postino template add plain --html layout.html --text layout.txt
expect_rc 0
expect_out 'added template "plain"'
printf '<p>Hi</p>\n<p>{{ nmae }}</p>\n[CONTENT]\n' > typo.html
postino template add typo --html typo.html
expect_rc 1
expect_err 'typo.html: line 2, column'
expect_err 'unknown variable'
expect_err_lines 1
printf '<p>no place for the body</p>\n' > nobody.html
postino template add nobody --html nobody.html
expect_rc 1
expect_err 'nobody.html:'
printf '<p>caf\xe9 [CONTENT]</p>\n' > latin1.html
postino template add latin1 --html latin1.html
expect_rc 1
expect_err 'latin1.html: line 1, column 7'
expect_err 'UTF-8'
postino template add plain --html layout.html
expect_rc 1
expect_err 'template "plain" already exists'
postino template add missing --html /nonexistent/x.html
expect_rc 1
expect_err 'cannot read /nonexistent/x.html'
postino template show plain --json
[ "$(jq_get "$out" "j['text'].startswith('{{ list.name }}')")" = True ] || fail "text body stored"
[ "$(psql_q "SELECT count(*) FROM templates WHERE name IN ('typo','nobody','latin1','missing')")" = 0 ] || fail "bad templates stored"

check "dkim add generates a key and prints the record to publish; never the private key"
postino dkim add Example.COM --selector s1
expect_rc 0
expect_out "name:  s1._domainkey.example.com"
expect_out "type:  TXT"
expect_out "value: v=DKIM1; k=rsa; s=email; p=MII"
expect_out 's1._domainkey.example.com. IN TXT ( "v=DKIM1; k=rsa; s=email; p='
expect_no_out "PRIVATE"
postino dkim add example.com --selector e1 --algorithm ed25519 --json
expect_rc 0
[ "$(jq_get "$out" "j['value'].startswith('v=DKIM1; k=ed25519; s=email; p=')")" = True ] || fail "ed25519 record"
[ "$(jq_get "$out" "len(j['value'].split('p=')[1])")" = 44 ] || fail "ed25519 p= is not 32 raw bytes"
postino dkim add example.com --selector s1
expect_rc 1
expect_err "a DKIM key s1._domainkey.example.com already exists"
postino dkim add example.com --algorithm dsa
expect_rc 2
postino dkim add example.com --selector "bad_sel"
expect_rc 2
postino dkim add "not a domain"
expect_rc 1
expect_err 'invalid domain "not a domain"'

check "the zone line splits the value in strings of at most 255 octets"
postino dkim add big.example --selector k4 --bits 4096 --json
expect_rc 0
$PY - "$out" <<'PYEOF' || fail "zone strings"
import json, re, sys
j = json.loads(sys.argv[1])
parts = re.findall(r'"([^"]*)"', j['zone'])
assert len(parts) >= 3, parts
assert all(len(p) <= 255 for p in parts), [len(p) for p in parts]
assert ''.join(parts) == j['value']
PYEOF

check "dkim ls and record show public parts only"
postino dkim ls
expect_rc 0
expect_out "s1"
expect_out "e1"
expect_no_out "PRIVATE"
postino dkim ls --json
expect_no_out "PRIVATE"
expect_no_out "private"
postino dkim record example.com
expect_rc 0
expect_out "s1._domainkey.example.com"
expect_out "e1._domainkey.example.com"
postino dkim record nokey.example
expect_rc 1
expect_err "no DKIM key for nokey.example"

check "dns prints SPF, DKIM and DMARC"
postino dns example.com --ip 192.0.2.10 --ip 2001:db8::25
expect_rc 0
expect_out "value: v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 ~all"
expect_out "name:  _dmarc.example.com"
expect_out "value: v=DMARC1; p=none; rua=mailto:dmarc-reports@example.com"
expect_out "e1._domainkey.example.com"
postino dns example.com --ip 300.1.1.1
expect_rc 2
expect_err "--ip takes an IPv4 or IPv6 address"
postino dns example.com
expect_rc 2
postino dns other.example --ip 192.0.2.1 --rua reports@example.net --json
[ "$(jq_get "$out" "j['dmarc']['value']")" = "v=DMARC1; p=none; rua=mailto:reports@example.net; adkim=r; aspf=r" ] || fail "rua"
[ "$(jq_get "$out" "j['dkim']")" = "[]" ] || fail "dkim for other.example"

check "campaign create validates everything before it stores anything"
postino list create news
postino subscriber add "alice@example.com" --name "Alice Rossi" --attr city=Roma --list news
postino subscriber add "bob@example.com" --list news
printf '<p>Ciao {{ attribs.city | default "amico" }} {{ name }}!</p>\n<p>Caff\xc3\xa8 \xe2\x98\x95 and . at line start:</p>\n<pre>\n.dot\nFrom here\n</pre>\n' > body.html
printf '{{#if attribs.city}}\n' > unclosed.html
printf '<p>caf\xe9</p>\n' > bad8.html
base=(--name Nov --subject $'Novit\xc3\xa0 per {{ name }}' --from $'Caff\xc3\xa8 Team <news@Example.com>' --list news)
postino campaign create "${base[@]}" --html unclosed.html
expect_rc 1
expect_err "unclosed.html: line"
postino campaign create "${base[@]}" --html bad8.html
expect_rc 1
expect_err "bad8.html: line 1, column 7"
postino campaign create "${base[@]}" --html body.html --template nosuch
expect_rc 1
expect_err 'no template "nosuch"'
postino campaign create --name X --subject S --from "X <news@example.com>" --list nolist --html body.html
expect_rc 1
expect_err 'no list "nolist"'
postino campaign create --name X --subject S --from "X <not an address>" --list news --html body.html
expect_rc 1
expect_err 'invalid From "X <not an address>": contains spaces'
postino campaign create --name X --subject S --list news --html body.html
expect_rc 2
[ "$(psql_q "SELECT count(*) FROM campaigns")" = 0 ] || fail "a bad campaign was stored"

check "campaign create, ls, show"
postino campaign create "${base[@]}" --template newsletter --html body.html --reply-to replies@example.com
expect_rc 0
expect_out '"Nov" (draft)'
expect_no_err "no DKIM key"
C1=$(printf '%s' "$out" | sed -n 's/^created campaign \([0-9]*\) .*/\1/p')
postino campaign create --name Other --subject Hello --from "someone@nokeys.example" --list news --html body.html --json
expect_rc 0
expect_err "no DKIM key for nokeys.example: messages will go unsigned"
C2=$(jq_get "$out" "j['id']")
postino campaign ls --json
[ "$(jq_get "$out" "[(c['id'], c['status'], c['from']) for c in j]")" = "[($C2, 'draft', 'someone@nokeys.example'), ($C1, 'draft', 'Caffè Team <news@example.com>')]" ] || fail "campaign ls"
postino campaign show "$C1" --json
[ "$(jq_get "$out" "(j['template']['name'], j['reply_to'], [l['name'] for l in j['lists']])")" = "('newsletter', 'replies@example.com', ['news'])" ] || fail "campaign show"
postino campaign show 99
expect_rc 1
expect_err "no campaign 99"

check "campaign preview: the exact signed message, verified by dkimpy, parsed back by Python"
export POSTINO_HTTP_PUBLIC_URL=https://news.example.com/
"$BIN" campaign preview "$C1" --subscriber ALICE@example.com > alice.eml 2>preview.err
rc=$?
expect_rc 0
"$BIN" dkim record example.com --json | $PY -c 'import json,sys; print(json.dumps([r["zone"] for r in json.load(sys.stdin)]))' > records.json
$PY "$ROOT/tests/integration/dkim_verify.py" records.json alice.eml --expect 2 > verify.out 2>&1 || { out=$(cat verify.out); fail "dkimpy did not verify both signatures"; }
grep -q 'a=rsa-sha256' alice.eml || fail "no rsa signature"
grep -q 'a=ed25519-sha256' alice.eml || fail "no ed25519 signature"
$PY - alice.eml <<'PYEOF' || fail "message content"
import email, email.policy, re, sys
raw = open(sys.argv[1], 'rb').read()
assert b'\r\n' in raw and not re.search(rb'[^\r]\n', raw), "not CRLF throughout"
assert max(len(l) for l in raw.split(b'\r\n')) <= 998
m = email.message_from_bytes(raw, policy=email.policy.default)
assert str(m['Subject']) == 'Novità per Alice Rossi', m['Subject']
assert m['From'].addresses[0].display_name == 'Caffè Team'
assert m['From'].addresses[0].addr_spec == 'news@example.com'
assert m['To'].addresses[0].addr_spec == 'alice@example.com'
assert m['Reply-To'].addresses[0].addr_spec == 'replies@example.com'
lu = str(m['List-Unsubscribe'])
assert re.fullmatch(r'<https://news\.example\.com/u/[a-z2-7]+>', lu), lu
assert str(m['List-Unsubscribe-Post']) == 'List-Unsubscribe=One-Click'
assert str(m['List-Id']) == 'news <list-1.example.com>', m['List-Id']
assert str(m['X-Postino-Delivery']) == 'preview'
assert m['Message-ID'].endswith('@example.com>')
assert m.get_content_type() == 'multipart/alternative'
text = m.get_body(('plain',)).get_content().replace('\r\n', '\n')
html = m.get_body(('html',)).get_content().replace('\r\n', '\n')
assert 'Ciao Roma Alice Rossi!' in html and 'Caffè ☕' in html, html
assert 'Ciao Roma Alice Rossi!' in text and 'Caffè ☕' in text, text
assert '\n.dot\n' in html and '\nFrom here\n' in html
assert lu[1:-1] in html, "the body's unsubscribe link differs from the header's"
PYEOF
sed 's/^Subject: .*/Subject: =?UTF-8?Q?changed?=/' alice.eml > tampered.eml
$PY "$ROOT/tests/integration/dkim_verify.py" records.json tampered.eml --expect 2 >/dev/null 2>&1 && fail "a tampered message verified"
postino campaign preview "$C2" --subscriber bob@example.com
expect_rc 0
expect_err "no DKIM key for nokeys.example: the message is unsigned"
expect_no_out "DKIM-Signature"
expect_out "Subject: Hello"
postino campaign preview "$C1" --subscriber nobody@example.com
expect_rc 1
expect_err "no subscriber nobody@example.com"
postino campaign preview "$C1"
expect_rc 2
unset POSTINO_HTTP_PUBLIC_URL

check "a key that cannot be loaded is a one-line error naming it"
psql_q "UPDATE dkim_keys SET private_key = '-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----' WHERE selector = 'e1'" >/dev/null
postino campaign preview "$C1" --subscriber alice@example.com
expect_rc 1
expect_err "cannot load DKIM key for e1._domainkey.example.com"
expect_err_lines 1
expect_no_err "garbage"
postino dkim rm example.com --selector e1

check "dkim rm"
postino dkim rm big.example --selector k4
expect_rc 0
postino dkim rm big.example
expect_rc 1
expect_err "no DKIM key for big.example"

finish
