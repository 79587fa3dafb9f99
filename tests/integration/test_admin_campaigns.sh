#!/bin/bash
# test_admin_campaigns - what the admin's Campaigns, Campaign editor and
# Templates screens stand on, through the API, then the screens themselves in
# headless Chromium: Markdown bodies rendered as CommonMark (raw HTML omitted,
# template tags kept whole), PUT /api/v1/campaigns/{campaign} (drafts and
# scheduled campaigns only), POST /api/v1/campaigns/preview and
# /api/v1/templates/preview (content not saved, for a subscriber, errors at
# their line and column), the campaign list's pages and counters; in the
# browser a template fixed after an error, a campaign written in Markdown with
# its preview (a document of its own, /admin/preview/ID) following the typing,
# subscriber data shown as text and no script run in the preview, the body's
# styles and images shown there, an uploaded image put in the body from the
# editor's picker, a test message found in the sink, a schedule in a time
# zone, send, pause, resume and cancel. Screenshots in build/screens.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/api_lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
api_setup 18292
SHOTS="$ROOT/build/screens"
js() { /usr/bin/python3 -c 'import json,sys; print(json.dumps(eval(sys.argv[1])))' "$1"; }

check "setup: a database, an admin, a list with two subscribers (one named with markup), a DKIM key, Postfix and a sink, serve"
postino db init
expect_rc 0
api_admin
mta_start 19587 19025
relay_setup
postino list create news
expect_rc 0
psql_q "WITH s AS (INSERT INTO subscribers (email, name, attribs) VALUES
          ('ann@example.com', 'Ann Lee', '{\"city\": \"Rome\"}'),
          ('xss@example.com', '<script>alert(1)</script>', '{\"city\": \"<img src=x onerror=alert(2)>\"}')
          RETURNING id)
        INSERT INTO subscriptions (subscriber_id, list_id, status)
        SELECT s.id, (SELECT id FROM lists WHERE name = 'news'), 'confirmed' FROM s" >/dev/null
postino dkim add example.com --selector s1 --algorithm ed25519
expect_rc 0
postino segment add romans --filter 'attribs.city = "Rome"'
expect_rc 0
/usr/bin/python3 - "$WORK/logo.png" <<'PY'
import struct, sys, zlib
w, h = 120, 80
raw = b"".join(b"\x00" + b"".join(bytes([x * 2 % 256, y * 3 % 256, 160]) for x in range(w)) for y in range(h))
def chunk(t, b):
    return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                              + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
PY
POSTINO_HTTP_PUBLIC_URL=$API POSTINO_LOG_LEVEL=debug "$BIN" serve --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
api_wait
req POST "/api/v1/media?name=logo.png" "@$WORK/logo.png" "$ADMIN" image/png
expect_code 201
LOGO=$(jq_get "$body" "j['url']")
[ "$LOGO" = "$API/m/$(sha256sum "$WORK/logo.png" | cut -d' ' -f1).png" ] || fail "the logo's url: $LOGO"

check "a campaign in Markdown is stored as written and as its CommonMark HTML (raw HTML omitted, tags kept whole)"
MD=$'# Hello {{ name }}\n\nSee [our site](https://example.com/?a=1&b=2) and **{{ attribs.city | default "nowhere" }}**.\n\n<script>alert(3)</script>\n\n[Unsubscribe]({{ unsubscribe_url }})\n'
HTML_WANT=$'<h1>Hello {{ name }}</h1>\n<p>See <a href="https://example.com/?a=1&amp;b=2">our site</a> and <strong>{{ attribs.city | default "nowhere" }}</strong>.</p>\n<!-- raw HTML omitted -->\n<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>\n'
printf '%s' "$MD" > "$WORK/body.md"
printf '%s' "$HTML_WANT" > "$WORK/want.html"
req POST /api/v1/campaigns "$(js "{'name': 'March', 'subject': 'Hi {{ name }}', 'from': 'News <news@example.com>', 'lists': ['news'], 'markdown': open('$WORK/body.md').read()}")"
expect_code 201
MDC=$(jq_get "$body" "j['id']")
expect_json "(j['format'], j['markdown'] == open('$WORK/body.md').read(), j['html'] == open('$WORK/want.html').read(), j['warnings'])" "('markdown', True, True, [])"
[ "$(psql_q "SELECT body_format || ' ' || (markdown = html)::text FROM campaigns WHERE id = $MDC")" = "markdown false" ] ||
    fail "the database's format and source"
req GET "/api/v1/campaigns/$MDC"
expect_json "(j['format'], j['html'] == open('$WORK/want.html').read())" "('markdown', True)"
postino campaign create --name CLI --subject S --from news@example.com --list news --markdown "$WORK/body.md" --json
expect_rc 0
[ "$(jq_get "$out" "(j['format'], j['html'] == open('$WORK/want.html').read())")" = "('markdown', True)" ] ||
    fail "the CLI's Markdown campaign: $out"
CLIC=$(jq_get "$out" "j['id']")

check "a body is html or markdown, once; a Markdown mistake is reported at its line and column in the Markdown"
req POST /api/v1/campaigns '{"name":"x","subject":"s","from":"news@example.com","lists":["news"],"html":"<p>a</p>","markdown":"a"}'
expect_error 400 invalid_field markdown
expect_json "j['error']['message']" "give the body as html or as markdown, not both"
req POST /api/v1/campaigns '{"name":"x","subject":"s","from":"news@example.com","lists":["news"]}'
expect_error 400 missing_field html
expect_json "j['error']['message']" "the campaign needs a body: html or markdown"
req POST /api/v1/campaigns '{"name":"x","subject":"s","from":"news@example.com","lists":["news"],"markdown":"# Hi\n\n*a* {{ nmae }}"}'
expect_error 400 invalid_template markdown
expect_json "(j['error']['message'], j['error']['line'], j['error']['column'])" "('the Markdown does not compile: line 3, column 8: unknown variable \"nmae\"', 3, 8)"
printf '# Hi\n\n*a* {{ nmae }}' > "$WORK/bad.md"
postino campaign create --name x --subject s --from news@example.com --list news --markdown "$WORK/bad.md"
expect_rc 1
expect_err "$WORK/bad.md: line 3, column 8: unknown variable \"nmae\""
postino campaign create --name x --subject s --from news@example.com --list news --markdown "$WORK/body.md" --html "$WORK/body.md"
expect_rc 1
expect_err "give the body as html or as markdown, not both"
[ "$(psql_q "SELECT count(*) FROM campaigns")" = 2 ] || fail "a refused campaign was stored"

check "PUT replaces a draft whole (Markdown to HTML, lists, subject); postino campaign edit does the same"
req PUT "/api/v1/campaigns/$MDC" '{"name":"March 2","subject":"Hello {{ name }}","from":"Shop <shop@nokey.example>","lists":["news"],"html":"<p>Now HTML</p>"}'
expect_code 200
expect_json "(j['id'], j['name'], j['subject'], j['format'], j['markdown'], j['html'], j['from_addr'], j['status'], j['warnings'])" \
    "($MDC, 'March 2', 'Hello {{ name }}', 'html', None, '<p>Now HTML</p>', 'shop@nokey.example', 'draft', ['no DKIM key for nokey.example: messages will go unsigned'])"
printf 'Edited *text*\n' > "$WORK/edit.md"
postino campaign edit "$CLIC" --name "CLI 2" --subject S2 --from news@example.com --list news --markdown "$WORK/edit.md"
expect_rc 0
expect_out "changed campaign $CLIC \"CLI 2\" (draft)"
[ "$(psql_q "SELECT name || '|' || html || '|' || markdown FROM campaigns WHERE id = $CLIC")" = $'CLI 2|<p>Edited <em>text</em></p>\n|Edited *text*' ] ||
    fail "the CLI's edit: $(psql_q "SELECT name, html, markdown FROM campaigns WHERE id = $CLIC")"
req PUT /api/v1/campaigns/999999 '{"name":"x","from":"news@example.com","lists":["news"],"html":"x","subject":"s"}'
expect_error 404 not_found
req PUT "/api/v1/campaigns/$MDC" '{"name":"","from":"news@example.com","lists":["news"],"html":"x","subject":"s"}'
expect_error 400 invalid_field name
req PUT "/api/v1/campaigns/$MDC" '{"name":"x","from":"news@example.com","lists":["nosuch"],"html":"x","subject":"s"}'
expect_error 404 not_found
expect_json "j['error']['message']" 'no list "nosuch"'
req PUT "/api/v1/campaigns/$MDC" '{"name":"x","from":"news@example.com","lists":["news"],"html":"{{#if name}}","subject":"s"}'
expect_error 400 invalid_template html
expect_json "(j['error']['line'], j['error']['column'])" "(1, 1)"
[ "$(psql_q "SELECT name FROM campaigns WHERE id = $MDC")" = "March 2" ] || fail "a refused PUT changed the campaign"
req POST "/api/v1/campaigns/$CLIC/cancel"
expect_code 200
req PUT "/api/v1/campaigns/$CLIC" '{"name":"x","from":"news@example.com","lists":["news"],"html":"x","subject":"s"}'
expect_error 400 invalid
expect_json "j['error']['message']" "cannot edit campaign $CLIC: it is cancelled (only a draft or a scheduled one)"

check "POST /api/v1/campaigns/preview renders content not saved for a subscriber: values escaped, text derived"
req POST /api/v1/campaigns/preview '{"subject":"Hi {{ name }}","markdown":"Dear *{{ name }}* of {{ attribs.city }}\n\n- one\n- two\n","subscriber":"XSS@example.com","lists":["news"]}'
expect_code 200
expect_json "(j['subject'], j['html'])" "('Hi <script>alert(1)</script>', '<p>Dear <em>&lt;script&gt;alert(1)&lt;/script&gt;</em> of &lt;img src=x onerror=alert(2)&gt;</p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n')"
expect_json "repr(j['text'])" "'Dear <script>alert(1)</script> of <img src=x onerror=alert(2)>\\n\\n* one\\n* two\\n'"
expect_json "__import__('re').fullmatch('/admin/preview/[0-9a-f]{32}', j['url']) is not None" True
req POST /api/v1/campaigns/preview '{"html":"<p>{{ name | default \"friend\" }} {{ list.name }}</p>","text":"T {{ email }}","lists":["news"]}'
expect_code 200
expect_json "(j['subject'], j['html'], j['text'])" "('', '<p>friend news</p>', 'T subscriber@example.com')"
req POST /api/v1/campaigns/preview '{"html":"x","subscriber":"nobody@example.com"}'
expect_error 400 invalid_field subscriber
expect_json "j['error']['message']" 'no subscriber "nobody@example.com"'
req POST /api/v1/campaigns/preview '{"html":"x","subscriber":"not an address"}'
expect_error 400 invalid_field subscriber
req POST /api/v1/campaigns/preview '{"markdown":"ok\n\n{{ x }}"}'
expect_error 400 invalid_template markdown
expect_json "(j['error']['line'], j['error']['column'])" "(3, 4)"
req POST /api/v1/campaigns/preview '{"subject":"a\nb","html":"x"}'
expect_error 400 invalid_field subject
req POST /api/v1/campaigns/preview '{"html":"x","markdown":"y"}'
expect_error 400 invalid_field markdown
req POST /api/v1/campaigns/preview '{"html":"x","template":"nosuch"}'
expect_error 404 not_found
req POST /api/v1/campaigns/preview '{"html":"x","zzz":1}'
expect_error 400 unknown_field zzz

check "templates: POST /api/v1/templates/preview compiles (errors at line and column) and renders around sample content; a save's 400 has them too"
req POST /api/v1/templates/preview '{"html":"<div>\n  {{ nmae }}\n[CONTENT]</div>"}'
expect_error 400 invalid_template html
expect_json "(j['error']['message'], j['error']['line'], j['error']['column'])" "('field \"html\": line 2, column 6: unknown variable \"nmae\"', 2, 6)"
req POST /api/v1/templates/preview '{"html":"<p>no placeholder</p>"}'
expect_error 400 invalid_template html
expect_json "'line' in j['error']" False
req POST /api/v1/templates/preview '{"html":"<div class=\"t\">{{ name }}: [CONTENT]</div>","subscriber":"ann@example.com","subject":"About {{ attribs.city }}"}'
expect_code 200
expect_json "(j['subject'], j['html'])" "('About Rome', '<div class=\"t\">Ann Lee: <h1>A campaign\\'s heading</h1>\n<p>The content of a campaign goes here.</p></div>')"
req POST /api/v1/templates/preview '{"html":"[CONTENT]","content":"<b>{{ email }}</b>","text":"{{#if x}}"}'
expect_error 400 invalid_template text
req POST /api/v1/templates/preview '{"text":"x"}'
expect_error 400 missing_field html
req POST /api/v1/templates '{"name":"bad","html":"a\nb {{#else}}"}'
expect_error 400 invalid_template html
expect_json "(j['error']['line'], j['error']['column'])" "(2, 5)"

check "the campaign list: newest first, keyset pages, each with its counters and format"
req GET "/api/v1/campaigns?limit=1"
expect_code 200
expect_json "[(c['id'], c['format'], c['counts']) for c in j['items']]" "[($CLIC, 'markdown', {'total': 0, 'queued': 0, 'sent': 0, 'deferred': 0, 'failed': 0, 'skipped': 0, 'cancelled': 0, 'held': 0})]"
req GET "/api/v1/campaigns?limit=1&after=$CLIC"
expect_json "[c['id'] for c in j['items']]" "[$MDC]"
req GET "/api/v1/campaigns?after=$MDC"
expect_json "j['items']" "[]"
req GET "/api/v1/campaigns?limit=0"
expect_error 400 invalid_field limit
req GET "/api/v1/campaigns?after=x"
expect_error 400 invalid_field after
req GET "/api/v1/campaigns?sort=name"
expect_code 400

if [ "${POSTINO_ADMIN_BROWSER:-1}" = 1 ]; then
check "the screens in headless Chromium: templates, the campaign editor, preview, test send, schedule, send, pause, resume, cancel"
sink_clear
psql_q "INSERT INTO campaigns (name, subject, from_addr, html) VALUES ('Autumn', 'Autumn news', 'news@example.com', '<p>a</p>') RETURNING id" > "$WORK/other.id"
OTHER=$(head -1 "$WORK/other.id")
psql_q "INSERT INTO campaign_lists (campaign_id, list_id) SELECT $OTHER, id FROM lists WHERE name = 'news'" >/dev/null
mkdir -p "$SHOTS"
if ! /usr/bin/python3 "$ROOT/tests/integration/admin_campaigns.py" "$API" "$SHOTS" "$OTHER" "$LOGO" > browser.log 2>&1 ||
    ! grep -q '^ok ' browser.log; then
    fail "the browser run failed: $(tail -15 browser.log)"
    psql_q "SELECT pid, state, wait_event_type, wait_event, left(query, 150) FROM pg_stat_activity WHERE datname = 'postino'" > activity.log
    finish
fi
for s in templates template-error template-fixed campaigns editor editor-preview editor-xss editor-image editor-image-picker editor-test \
         editor-audience editor-audience-error \
         scheduled campaigns-390 editor-390 editor-image-390 templates-390; do
    [ -s "$SHOTS/campaigns-$s.png" ] || fail "no screenshot campaigns-$s.png"
done
NEWC=$(psql_q "SELECT id FROM campaigns WHERE name = 'Spring <b>sale</b>'")
[ -n "$NEWC" ] || fail "the campaign made in the browser is not stored"
[ "$(psql_q "SELECT body_format FROM campaigns WHERE id = $NEWC")" = markdown ] || fail "the browser's campaign is not Markdown"
mta_drain
wait_for "the browser's test message in the sink" 30 sh -c "grep -l '^X-Rcpt-Args: <tester@example.org>' '$MTA'/sink/* >/dev/null 2>&1"
grep -l '^X-Rcpt-Args: <tester@example.org>' "$MTA"/sink/* | head -1 | xargs grep -q '^Subject: Spring for ' ||
    fail "the test message's subject"
# the schedule typed as 2031-03-05 09:30 in America/New_York (EST, UTC-5) is 14:30 UTC
[ "$(psql_q "SELECT to_char(send_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM campaigns WHERE id = $OTHER")" = "2031-03-05 14:30" ] ||
    fail "send_at is $(psql_q "SELECT send_at AT TIME ZONE 'UTC' FROM campaigns WHERE id = $OTHER") UTC, expected 2031-03-05 14:30"
[ "$(campaign_status "$OTHER")" = cancelled ] || fail "the other campaign is $(campaign_status "$OTHER"), not cancelled"
[ "$(psql_q "SELECT g.name FROM campaigns c JOIN segments g ON g.id = c.segment_id WHERE c.id = $OTHER")" = romans ] ||
    fail "the segment chosen in the editor was not saved"
finished() { [ "$(campaign_status "$NEWC")" = finished ]; }
wait_for "the campaign sent from the browser to finish" 60 finished
[ "$(sink_rcpts | grep -c -x -e ann@example.com -e xss@example.com)" = 2 ] || fail "the sink got: $(sink_rcpts | tr '\n' ' ')"
fi

check "nothing answered 500; no session token in the log"
grep -q '"code":"internal"' answers.log && fail "an answer was 500"
finish
