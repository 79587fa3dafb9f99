#!/bin/bash
# test_admin_firefox - the web admin in Firefox (Debian's firefox-esr, driven
# over WebDriver BiDi, no geckodriver), at 1280 px and at 390 px wide: a login
# typed into the form and sent with Enter, every screen of the navigation
# drawn with its content (a list, subscribers, one named
# <script>alert(1)</script>, a template, a campaign, a bounce, an image, a
# relay), no console error, JS exception or prompt, no sideways scrolling, a
# list made through the form, the navigation reached with the keyboard,
# logout. Screenshots in build/screens/firefox-*.png.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/api_lib.sh"
api_setup 18297
BIDI_PORT=18298
SHOTS="$ROOT/build/screens"

check "setup: a database, an admin, a list with subscribers (one named with markup), a template, a campaign, a bounce, an image, a relay"
postino db init
expect_rc 0
api_admin
postino list create news
expect_rc 0
{ echo 'email,name'; for i in 1 2 3 4 5; do echo "user$i@example.org,User $i"; done
  echo 'xss@example.org,<script>alert(1)</script>'; } > people.csv
postino import people.csv --list news --status confirmed
expect_rc 0
printf '<div style="max-width:600px">[CONTENT]<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></div>' > layout.html
postino template add 'Firefox layout' --html layout.html
expect_rc 0
printf '<p>Hello {{ name }}.</p>' > body.html
postino campaign create --name 'Spring <b>sale</b>' --subject 'Spring' --from 'News <news@example.com>' --list news \
    --template 'Firefox layout' --html body.html
expect_rc 0
/usr/bin/python3 - > pixel.png <<'PY'
import struct, sys, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
rows = b"".join(b"\0" + bytes([40, 90, 160]) * 16 for _ in range(16))
sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
                        + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
PY
postino media add pixel.png --name 'blue square'
expect_rc 0
postino relay add mx-local --host 127.0.0.1 --port 18299 --tls none
expect_rc 0
"$BIN" serve --no-send --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
api_wait
req POST /api/v1/bounces '{"email":"user3@example.org","type":"hard"}'
expect_code 201

check "Firefox at 1280 and 390 px: login, every screen, escaping, a list made, keyboard, logout (screenshots in build/screens)"
mkdir -p "$SHOTS"
rm -f "$SHOTS"/firefox-*.png
if ! /usr/bin/python3 "$ROOT/tests/integration/admin_firefox.py" "$API" "$SHOTS" "$BIDI_PORT" "$WORK/firefox.log" > browser.log 2>&1; then
    fail "the Firefox run failed: $(tail -5 browser.log)"
else
    grep -q '^ok ' browser.log || fail "the Firefox run reported nothing"
    for w in 1280 390; do
        for s in login dashboard lists subscribers subscriber import campaigns campaign templates template reports report \
            bounces bounce images settings account lists-created logged-out; do
            [ -s "$SHOTS/firefox-$w-$s.png" ] || fail "no screenshot firefox-$w-$s.png"
        done
        [ "$(psql_q "SELECT count(*) FROM lists WHERE name = 'Firefox <i>$w</i>'")" = 1 ] || fail "the list made at $w px is not in the database"
    done
fi
pgrep -f "remote-debugging-port $BIDI_PORT" >/dev/null && fail "Firefox outlived the run"

finish
