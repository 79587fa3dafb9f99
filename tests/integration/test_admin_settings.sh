#!/bin/bash
# test_admin_settings - the API under the web admin's Import, Images, Settings
# and Account screens, then the screens in headless Chromium:
#   imports: a preview (delimiter, encoding, columns, the first rows checked)
#   that writes nothing, mappings, a dry run over a CSV with bad rows (exact
#   counts, the first rejects, nothing written), a real import run as a job
#   whose progress is seen mid-way (held at its merge by a lock), its summary
#   and its rejects as a download;
#   images: the type checked by the bytes (a PNG sent as JPEG, SVG, text
#   claiming to be PNG refused), the same bytes kept once, the public /m/
#   address with its cache headers and exact bytes;
#   relays tested against a real Postfix, each step answered; DKIM keys with
#   their DNS record; the user role refused (403) and every route closed
#   without a login (401); no secret (the relay's password, a private key, a
#   token) in any answer but the one making a token, nor in serve.log.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/api_lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
api_setup 18294
SHOTS="$ROOT/build/screens"
PY=/usr/bin/python3
RELAY_PW=relay-pw-Zq81x
MTA_PORT=18587
PUBLIC=https://lists.example.com

header() { printf '%s\n' "$headers" | grep -i "^$1:" | head -1 | cut -d' ' -f2-; }
# upload METHOD PATH FILE TYPE [TOKEN]: a request whose body is FILE of content TYPE
upload() { req "$1" "$2" "@$3" "${5-$ADMIN}" "$4"; }
count() { psql_q "SELECT count(*) FROM $1"; }

check "setup: a database, an admin and a user with tokens, Postfix, serve --no-send"
sh "$ROOT/scripts/postfix.sh" start "$MTA" --port $MTA_PORT --sink-port 18025 --password "$RELAY_PW" >/dev/null ||
    { echo "FAIL [$TEST_NAME] cannot start Postfix"; exit 1; }
postino db init
expect_rc 0
api_admin
printf 'user-pass-1\n' > "$WORK/user.pw"
postino_in "$WORK/user.pw" user add user@example.com --role user
postino token create --user user@example.com --json
UTOK=$(jq_get "$out" "j['token']")
postino list create news
postino list create vip --optin double
# the fixtures: a CSV with bad rows, markup and a repeated address; images; a lie
$PY - "$WORK" <<'PY'
import struct, sys, zlib
w = sys.argv[1]
rows = ["E-Mail;Name;City;Note",
        "ann@example.com;Ann Lee;Lyon;vip",
        "bob@example.com;<script>alert(1)</script>;Paris;<img src=x onerror=alert(2)>",
        "not-an-email;Nobody;Nice;",
        ";Empty;Lille;",
        "=1+2;Formula;Rome;",
        'carol@example.com;"Carol ""CJ"" Jones";Nantes;',
        "dan@example.com;Dan Bell;Lyon;x",
        "ann@EXAMPLE.com;Ann again;Lyon;dup"]
open(f"{w}/people.csv", "w", newline="").write("\r\n".join(rows) + "\r\n")
big = rows + [f"user{i}@example.org;User {i};Town {i % 50};" for i in range(20000)]
open(f"{w}/big.csv", "w", newline="").write("\r\n".join(big) + "\r\n")
mid = rows + [f"reader{i}@example.net;Reader {i};Town {i % 7};" for i in range(3000)]
open(f"{w}/browser.csv", "w", newline="").write("\r\n".join(mid) + "\r\n")
def png(width, height, seed):
    raw = b"".join(b"\x00" + b"".join(bytes([(x * 7 + seed) % 256, (y * 5) % 256, (x + y + seed * 3) % 256])
                                      for x in range(width)) for y in range(height))
    def chunk(t, b):
        return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
open(f"{w}/logo.png", "wb").write(png(120, 80, 1))
open(f"{w}/logo-as.jpg", "wb").write(png(120, 80, 1))
open(f"{w}/banner.png", "wb").write(png(60, 20, 9))
open(f"{w}/pixel.gif", "wb").write(bytes.fromhex(
    "47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b"))
open(f"{w}/big.png", "wb").write(png(300, 300, 4) + bytes(70000))
open(f"{w}/evil.svg", "w").write('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>\n')
open(f"{w}/notes.png", "w").write("just some text, not a picture\n")
PY
export POSTINO_API_IMPORT_INLINE_MAX=4096 POSTINO_HTTP_PUBLIC_URL=$PUBLIC POSTINO_ADMIN_MEDIA_MAX_BYTES=65536
POSTINO_LOG_LEVEL=debug "$BIN" serve --no-send --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
api_wait

check "every new route needs a login (401), before any body is read"
for r in "POST /api/v1/imports/preview" "POST /api/v1/relays/x/test" "GET /api/v1/media" "POST /api/v1/media" \
         "DELETE /api/v1/media/1"; do
    req ${r% *} ${r#* } "" ""
    expect_error 401 unauthorized
done
upload POST /api/v1/media "$WORK/logo.png" image/png ""
expect_error 401 unauthorized

check "the user role: relays' tests, users, relays and keys refused (403); imports, previews and images allowed"
req POST /api/v1/relays/x/test "" "$UTOK"
expect_error 403 forbidden
req GET /api/v1/users "" "$UTOK"
expect_error 403 forbidden
req POST /api/v1/relays '{"name":"r","host":"127.0.0.1"}' "$UTOK"
expect_error 403 forbidden
req POST /api/v1/dkim-keys '{"domain":"example.com"}' "$UTOK"
expect_error 403 forbidden
req GET /api/v1/media "" "$UTOK"
expect_code 200
expect_json "j" "{'items': [], 'next_before': None}"

check "a relay is tested through Postfix: each step as it went, the password nowhere"
req POST /api/v1/relays "{\"name\":\"postfix\",\"host\":\"127.0.0.1\",\"port\":$MTA_PORT,\"username\":\"test\",\"password\":\"$RELAY_PW\",\"tls_verify\":false}"
expect_code 201
expect_json "('password' in j, j['has_password'])" "(False, True)"
req POST /api/v1/relays/postfix/test
expect_code 200
expect_json "(j['relay'], j['ok'], [(s['step'], s['ok']) for s in j['steps']])" \
    "('postfix', True, [('connect', True), ('ehlo', True), ('tls', True), ('auth', True), ('quit', True)])"
expect_json "[s['result'] for s in j['steps']][0::2]" "['127.0.0.1 port $MTA_PORT: ok', 'encrypted', 'ok']"
expect_json "(j['steps'][1]['result'].startswith('ok: PIPELINING'), j['steps'][3]['result'])" "(True, 'accepted')"
expect_json "sorted(j)" "['ok', 'relay', 'steps']"
req POST /api/v1/relays "{\"name\":\"wrongpw\",\"host\":\"127.0.0.1\",\"port\":$MTA_PORT,\"username\":\"test\",\"password\":\"not-it\",\"tls_verify\":false}"
expect_code 201
req POST /api/v1/relays/wrongpw/test '{}'
expect_code 200
expect_json "(j['ok'], j['failed_step'], j['code'], [(s['step'], s['ok']) for s in j['steps']])" \
    "(False, 'auth', 535, [('connect', True), ('ehlo', True), ('tls', True), ('auth', False)])"
expect_json "(j['steps'][3]['result'].startswith('failed: 535 5.7.8 Error: authentication failed'), j['reply'].startswith('535 5.7.8 Error: authentication failed'))" "(True, True)"
req POST /api/v1/relays "{\"name\":\"closed\",\"host\":\"127.0.0.1\",\"port\":18599,\"tls\":\"none\"}"
expect_code 201
req POST /api/v1/relays/closed/test
expect_json "(j['ok'], j['failed_step'], j['code'], [(s['step'], s['ok'], s['result']) for s in j['steps']])" \
    "(False, 'connect', None, [('connect', False, 'failed: cannot connect to 127.0.0.1:18599: connection refused')])"
req POST /api/v1/relays/nosuch/test
expect_error 404 not_found
req POST /api/v1/relays/postfix/test '{"now":true}'
expect_error 400 unknown_field now
req POST /api/v1/relays/postfix/test 'x' "$ADMIN" text/plain
expect_error 415 unsupported_media_type
req DELETE /api/v1/relays/closed
expect_code 204

check "a DKIM key answers its DNS record (type, value, zone line), never its private half"
req POST /api/v1/dkim-keys '{"domain":"Example.COM","selector":"s2024","algorithm":"ed25519"}'
expect_code 201
expect_json "(j['name'], j['type'], j['record'].startswith('v=DKIM1; k=ed25519; s=email; p='), j['zone'].startswith('s2024._domainkey.example.com. IN TXT ( \"v=DKIM1; k=ed25519'))" \
    "('s2024._domainkey.example.com', 'TXT', True, True)"
made=$(jq_get "$body" "(j['record'], j['zone'])")
req GET /api/v1/dkim-keys
expect_json "[(k['name'], k['type'], (k['record'], k['zone']) == $made) for k in j['items']]" \
    "[('s2024._domainkey.example.com', 'TXT', True)]"
req POST /api/v1/dkim-keys '{"domain":"example.com","algorithm":"dsa"}'
expect_error 400 invalid_field algorithm
req POST /api/v1/dkim-keys '{"domain":"example.com","selector":"two labels"}'
expect_error 400 invalid_field selector

check "a token is answered once, when it is made; never listed"
req POST /api/v1/me/tokens '{"name":"laptop","password":"admin-pass-1"}'
expect_code 201
TOK=$(jq_get "$body" "j['token']")
req GET /api/v1/me/tokens
expect_json "[t['name'] for t in j['items']]" "['', 'laptop']"
case "$body" in *"$TOK"*) fail "the token is listed" ;; esac
req POST /api/v1/me/tokens '{"name":"x","password":"wrong"}'
expect_error 403 wrong_password password

check "images: a PNG kept by its content, with its size and public address; the same bytes again are the same image"
sha=$(sha256sum "$WORK/logo.png" | cut -d' ' -f1)
size=$(stat -c %s "$WORK/logo.png")
upload POST "/api/v1/media?name=logo.png" "$WORK/logo.png" image/png
expect_code 201
expect_json "(j['sha256'], j['type'], j['size'], j['width'], j['height'], j['name'], j['file'], j['url'], j['created_by'])" \
    "('$sha', 'image/png', $size, 120, 80, 'logo.png', '$sha.png', '$PUBLIC/m/$sha.png', 'admin@example.com')"
PNG_ID=$(jq_get "$body" "j['id']")
upload POST "/api/v1/media?name=again.png" "$WORK/logo.png" "image/png" "$UTOK"
expect_code 200
expect_json "(j['id'], j['url'], j['name'])" "($PNG_ID, '$PUBLIC/m/$sha.png', 'logo.png')"
[ "$(count media)" = 1 ] || fail "the same bytes were kept twice"

check "the public /m/ address: the exact bytes, their type, cached for a year, nosniff, sandboxed; other names 404"
curl -s -o "$WORK/got.png" -D "$WORK/got.headers" "$API/m/$sha.png"
cmp -s "$WORK/got.png" "$WORK/logo.png" || fail "the bytes served differ"
headers=$(tr -d '\r' < "$WORK/got.headers")
[ "$(header Content-Type)" = image/png ] || fail "type $(header Content-Type)"
[ "$(header Cache-Control)" = "public, max-age=31536000, immutable" ] || fail "cache $(header Cache-Control)"
[ "$(header X-Content-Type-Options)" = nosniff ] || fail "nosniff missing"
[ "$(header Content-Security-Policy)" = "default-src 'none'; style-src 'unsafe-inline'; sandbox" ] ||
    fail "CSP $(header Content-Security-Policy)"
[ -z "$(header Set-Cookie)" ] || fail "a cookie on an image"
code=$(curl -s -I -o /dev/null -w '%{http_code}' "$API/m/$sha.png")
[ "$code" = 200 ] || fail "HEAD $code"
for p in "/m/$sha.jpg" "/m/$sha.svg" "/m/${sha%?}0.png" "/m/$sha" "/m/logo.png" "/m/${sha^^}.png"; do
    req GET "$p" "" ""
    expect_error 404 not_found
done

check "images whose bytes lie about their type are refused (415), and SVG; nothing is kept"
upload POST /api/v1/media "$WORK/logo-as.jpg" image/jpeg
expect_error 415 unsupported_media_type body
expect_json "j['error']['message']" "the file is a PNG image, not image/jpeg as declared"
upload POST /api/v1/media "$WORK/evil.svg" image/svg+xml
expect_error 415 unsupported_media_type body
expect_json "j['error']['message']" "SVG images are refused (they can hold scripts); upload a PNG, JPEG, GIF or WebP"
upload POST /api/v1/media "$WORK/evil.svg" image/png
expect_error 415 unsupported_media_type body
expect_json "j['error']['message']" "SVG images are refused (they can hold scripts); upload a PNG, JPEG, GIF or WebP"
upload POST /api/v1/media "$WORK/notes.png" image/png
expect_error 415 unsupported_media_type body
expect_json "j['error']['message']" "the file is not a PNG, JPEG, GIF or WebP image as declared"
upload POST /api/v1/media "$WORK/logo.png" application/octet-stream
expect_error 415 unsupported_media_type body
upload POST /api/v1/media "$WORK/big.png" image/png
expect_error 413 too_large
upload POST "/api/v1/media?name=a%0Ab" "$WORK/logo.png" image/png
expect_error 400 invalid_field name
upload POST /api/v1/media /dev/null image/png
expect_error 400 invalid_field body
[ "$(count media)" = 1 ] || fail "a refused upload was kept"
# the command line refuses in the same words
postino media add "$WORK/logo-as.jpg"
expect_rc 1
expect_err "the file is a PNG image, not image/jpeg as declared"
postino media add "$WORK/evil.svg"
expect_rc 1
expect_err "SVG images are refused (they can hold scripts)"

check "images listed newest first, a page at a time; removed, then 404"
upload POST "/api/v1/media?name=pixel.gif" "$WORK/pixel.gif" image/gif
expect_code 201
expect_json "(j['type'], j['width'], j['height'], j['size'])" "('image/gif', 1, 1, 43)"
GIF_ID=$(jq_get "$body" "j['id']")
postino media add "$WORK/banner.png" --json
expect_rc 0
BANNER_ID=$(jq_get "$out" "j['id']")
[ "$(jq_get "$out" "(j['width'], j['height'], j['created_by'], j['url'].startswith('$PUBLIC/m/'))")" = "(60, 20, None, True)" ] ||
    fail "media add --json: $out"
req GET "/api/v1/media?limit=2"
expect_json "([m['id'] for m in j['items']], j['next_before'])" "([$BANNER_ID, $GIF_ID], $GIF_ID)"
req GET "/api/v1/media?limit=2&before=$GIF_ID"
expect_json "([m['id'] for m in j['items']], j['next_before'], 'bytes' in j['items'][0])" "([$PNG_ID], None, False)"
req GET "/api/v1/media?limit=0"
expect_error 400 invalid_field limit
req GET "/api/v1/media?before=abc"
expect_error 400 invalid_field before
req GET "/api/v1/media?after=1"
expect_error 400 unknown_field after
req DELETE "/api/v1/media/$GIF_ID"
expect_code 204
req GET "/m/$(sha256sum "$WORK/pixel.gif" | cut -d' ' -f1).gif" "" ""
expect_error 404 not_found
req DELETE "/api/v1/media/$GIF_ID"
expect_error 404 not_found

check "an import's preview: the delimiter and encoding found, each column, the first rows checked; nothing written"
upload POST "/api/v1/imports/preview?rows=4" "$WORK/people.csv" text/csv "$UTOK"
expect_code 200
expect_json "(j['format'], j['delimiter'], j['encoding'], j['encoding_detected'], j['bom'], j['more'], j['error'])" \
    "('csv', ';', 'utf-8', 'utf-8', False, True, None)"
expect_json "[(c['header'], c['field'], c.get('key')) for c in j['columns']]" \
    "[('E-Mail', 'email', None), ('Name', 'name', None), ('City', 'attribute', 'City'), ('Note', 'attribute', 'Note')]"
expect_json "[(r['line'], r.get('email'), r.get('name'), r.get('attributes'), r.get('rejected')) for r in j['rows']]" \
    "[(2, 'ann@example.com', 'Ann Lee', {'City': 'Lyon', 'Note': 'vip'}, None), (3, 'bob@example.com', '<script>alert(1)</script>', {'City': 'Paris', 'Note': '<img src=x onerror=alert(2)>'}, None), (4, None, None, None, 'invalid address \"not-an-email\": no @'), (5, None, None, None, 'no email address')]"
upload POST "/api/v1/imports/preview?rows=1&map=Note%3D-&map=City%3Dtown&map=Name%3Dnick&delimiter=%3B" "$WORK/people.csv" text/csv
expect_json "([(c['header'], c['field'], c.get('key')) for c in j['columns']], j['rows'][0]['attributes'], j['rows'][0]['name'])" \
    "([('E-Mail', 'email', None), ('Name', 'attribute', 'nick'), ('City', 'attribute', 'town'), ('Note', 'skip', None)], {'nick': 'Ann Lee', 'town': 'Lyon'}, None)"
upload POST "/api/v1/imports/preview?map=E-Mail%3D-" "$WORK/people.csv" text/csv
expect_code 200
expect_json "(j['error'], j['rows'])" "('the header has no email column (name one \"email\" or use --map COLUMN=email)', [])"
# the file's start only (as the admin sends a large file's): the row cut at its end is left out
head -c 120 "$WORK/people.csv" > "$WORK/start.csv"
upload POST "/api/v1/imports/preview?partial=1" "$WORK/start.csv" text/csv
expect_json "([(r['line'], r.get('email')) for r in j['rows']], j['more'], j['error'])" "([(2, 'ann@example.com')], True, None)"
upload POST "/api/v1/imports/preview" "$WORK/start.csv" text/csv
expect_json "([(r['line'], r.get('email')) for r in j['rows']], j['more'])" "([(2, 'ann@example.com'), (3, 'bob@example.com')], False)"
upload POST "/api/v1/imports/preview?partial=maybe" "$WORK/start.csv" text/csv
expect_error 400 invalid_field partial
upload POST "/api/v1/imports/preview?rows=0" "$WORK/people.csv" text/csv
expect_error 400 invalid_field rows
upload POST "/api/v1/imports/preview?encoding=klingon-8" "$WORK/people.csv" text/csv
expect_error 400 invalid_field encoding
expect_json "j['error']['message']" 'unknown encoding "klingon-8"'
upload POST "/api/v1/imports/preview?map=nothing" "$WORK/people.csv" text/csv
expect_error 400 invalid_field map
upload POST "/api/v1/imports/preview?frobnicate=1" "$WORK/people.csv" text/csv
expect_error 400 unknown_field frobnicate
upload POST "/api/v1/imports/preview" "$WORK/people.csv" application/json
expect_error 415 unsupported_media_type
upload POST /api/v1/imports/preview /dev/null text/csv
expect_error 400 invalid_field body
[ "$(count subscribers),$(count import_jobs)" = "0,0" ] || fail "a preview wrote something"
postino import "$WORK/people.csv" --preview --rows 2
expect_rc 0
expect_out 'csv, delimiter ";", encoding utf-8 (the start looks like utf-8)'
expect_out "column E-Mail               email"
expect_out "line 3: bob@example.com \"<script>alert(1)</script>\""

check "the lists the import screen names, counted as every listing is; no counts=false any more"
req GET /api/v1/lists "" "$UTOK"
expect_code 200
expect_json "[(l['id'], l['name'], l['optin']) for l in j['items']]" "[(1, 'news', 'single'), (2, 'vip', 'double')]"
req GET "/api/v1/lists?counts=false"
expect_error 400 unknown_field counts

check "a dry run over a CSV with bad rows: exact counts and the first rejects; nothing written"
upload POST "/api/v1/imports?list=news&list=vip&dry_run=1" "$WORK/people.csv" text/csv
expect_code 200
expect_json "(j['dry_run'], j['lists'], j['rows_read'], j['new_subscribers'], j['existing_updated'], j['already_subscribed'], j['duplicates_in_file'], j['rejected'])" \
    "(True, ['news', 'vip'], 8, 4, 0, 0, 1, 3)"
expect_json "[(r['line'], r['reason'], r['row']) for r in j['first_rejects']]" \
    "[(4, 'invalid address \"not-an-email\": no @', 'not-an-email;Nobody;Nice;'), (5, 'no email address', ';Empty;Lille;'), (6, 'invalid address \"=1+2\": no @', \"'=1+2;Formula;Rome;\")]"
DRY=$(jq_get "$body" "j['id']")
[ "$(count subscribers),$(count subscriptions)" = "0,0" ] || fail "the dry run wrote subscribers"
req GET "/api/v1/imports/$DRY"
expect_json "(j['state'], j['options']['dry_run'], j['options']['lists'])" "('done', True, ['news', 'vip'])"
upload POST "/api/v1/imports?list=news&list=nosuch" "$WORK/people.csv" text/csv
expect_error 404 not_found
upload POST "/api/v1/imports?list=news&list=vip&mode=unsubscribe" "$WORK/people.csv" text/csv
expect_error 400 invalid_field list
expect_json "j['error']['message']" '"list": several lists are for mode subscribe only'

check "a real import as a job: its progress seen mid-way (held at the merge), then its summary and rejects download"
req POST /api/v1/subscribers '{"email":"zed@example.com"}'
expect_code 201
# hold the merge: new subscribers cannot be written until this transaction ends
PSQL=$(ls /usr/lib/postgresql/*/bin/psql | head -1)
"$PSQL" -X -q -h "$WORK/var/pg/run" -U postino -d postino \
    -c "BEGIN; LOCK TABLE subscribers IN EXCLUSIVE MODE; SELECT pg_sleep(600) /* held by the test */;" >/dev/null 2>&1 &
LOCKER=$!
locked() { [ "$(psql_q "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'subscribers' AND l.mode = 'ExclusiveLock' AND l.granted")" = 1 ]; }
wait_for "the test's lock on subscribers" 20 locked
bigsize=$(stat -c %s "$WORK/big.csv")
upload POST "/api/v1/imports?list=news&list=vip&status=confirmed" "$WORK/big.csv" text/csv
expect_code 202
expect_json "(j['state'], j['location'] == '/api/v1/imports/' + str(j['id']))" "('queued', True)"
JOB=$(jq_get "$body" "j['id']")
merging() { req GET "/api/v1/imports/$JOB"; [ "$(jq_get "$body" "(j['state'], (j['progress'] or {}).get('phase'))")" = "('running', 'merging')" ]; }
wait_for "the job to read the whole file and wait at its merge" 60 merging
expect_json "(j['bytes'], j['progress'] == {'rows': 20008, 'rejected': 3, 'bytes_read': $bigsize, 'phase': 'merging'})" "($bigsize, True)"
[ "$(count subscribers)" = 1 ] || fail "the import wrote before its merge"
psql_q "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%held by the test%' AND pid <> pg_backend_pid()" >/dev/null
wait "$LOCKER" 2>/dev/null
done_job() { req GET "/api/v1/imports/$JOB"; [ "$(jq_get "$body" "j['state']")" = done ]; }
wait_for "the job to end" 60 done_job
expect_json "(j['summary']['rows_read'], j['summary']['new_subscribers'], j['summary']['duplicates_in_file'], j['summary']['rejected'], j['progress']['phase'], len(j['summary']['first_rejects']))" \
    "(20008, 20004, 1, 3, 'done', 3)"
[ "$(psql_q "SELECT l.name || '=' || count(*) FROM subscriptions s JOIN lists l ON l.id = s.list_id WHERE s.status = 'confirmed' GROUP BY l.name ORDER BY l.name" | tr '\n' ' ')" = "news=20004 vip=20004 " ] ||
    fail "subscriptions: $(psql_q "SELECT list_id, status, count(*) FROM subscriptions GROUP BY 1, 2")"
[ "$(psql_q "SELECT name || '|' || (attribs->>'Note') FROM subscribers WHERE email = 'bob@example.com'")" = "<script>alert(1)</script>|<img src=x onerror=alert(2)>" ] ||
    fail "bob's name or note"
req GET "/api/v1/imports/$JOB/rejects"
expect_code 200
[ "$(header Content-Disposition)" = "attachment; filename=\"import-$JOB-rejects.csv\"" ] || fail "disposition $(header Content-Disposition)"
case "$(header Content-Type)" in text/csv*) ;; *) fail "rejects type $(header Content-Type)" ;; esac
[ "$body" = "$(printf 'line,reason,row\n4,"invalid address ""not-an-email"": no @",not-an-email;Nobody;Nice;\n5,no email address,;Empty;Lille;\n6,"invalid address ""=1+2"": no @","'"'"'=1+2;Formula;Rome;"')" ] ||
    fail "rejects: $body"

check "no secret in any answer but the token's own, nor in serve.log"
grep -q "$RELAY_PW" serve.log && fail "the relay's password is in serve.log"
grep -q "$RELAY_PW" "$WORK/answers.log" && fail "the relay's password is in an answer"
grep -q "PRIVATE KEY" serve.log && fail "a private key is in serve.log"
grep -q "PRIVATE KEY" "$WORK/answers.log" && fail "a private key is in an answer"
grep -q "$TOK" serve.log && fail "the token is in serve.log"
[ "$(grep -c "$TOK" "$WORK/answers.log")" = 1 ] || fail "the token is in more answers than the one making it"
grep -q "api: POST /api/v1/relays/{relay}/test 200" serve.log || fail "serve.log does not show the requests (debug level)"

check "the screens in headless Chromium (screenshots in build/screens/settings-*, import-*, media-*, account-*)"
mkdir -p "$SHOTS"
rm -f "$SHOTS"/settings-*.png "$SHOTS"/import-*.png "$SHOTS"/media-*.png "$SHOTS"/account-*.png
export MTA_PORT RELAY_PW
$PY "$ROOT/tests/integration/admin_settings.py" "$API" "$SHOTS" "$WORK" > browser.log 2>&1 ||
    fail "the browser run failed: $(tail -8 browser.log)"
grep -q '^ok ' browser.log || fail "the browser run reported nothing"
for s in import-preview import-mapping import-dryrun import-progress import-done import-390 media media-error media-390 \
         settings-relays settings-relay-test settings-dkim settings-dkim-390 settings-users settings-users-390 settings-390 settings-forbidden account-token account-390; do
    [ -s "$SHOTS/$s.png" ] || fail "no screenshot $s.png"
done
[ "$(psql_q "SELECT count(*) FROM subscribers WHERE email LIKE 'reader%@example.net'")" = 3000 ] || fail "the browser's import"
[ "$(psql_q "SELECT count(*) FROM relays WHERE name = 'badpw'")" = 0 ] || fail "the relay removed in the browser is there"
grep -q "$RELAY_PW" serve.log && fail "the relay's password is in serve.log after the browser run"
grep -q "PRIVATE KEY" serve.log && fail "a private key is in serve.log after the browser run"

finish
