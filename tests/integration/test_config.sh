#!/bin/bash
# test_config - the settings: config show gives every setting with its value
# and where it came from (default, file, environment), never a secret; a
# value out of range is refused at start, naming the setting, before any work.
source "$(dirname "$0")/lib.sh"

check "config show: defaults, each with where it came from"
postino config show
expect_rc 0
expect_out "# configuration file: none"
expect_out "[send] batch = 1000  (default)"
expect_out "[http] listen = 127.0.0.1:8080  (default)"
expect_out "[http] max_connections_per_address = 32  (default)  connections at once from one client address (0: no limit)"
expect_out "[http] header_timeout = 10  (default)"
expect_out "[http] body_timeout = 20  (default)"
expect_out "[http] body_min_rate = 500  (default)"
expect_out "[bounce] local_part = bounces  (default)"
expect_out "[db] dir = var  (default)"

check "config show: a value from the file, and the environment over the file"
cat > postino.conf <<'CONF'
[send]
batch = 250
max_inflight = 900
[db]
url = postgresql://postino:hunter2secret@db.example.org/postino
[http]
public_url = https://news.example.org
CONF
POSTINO_SEND_MAX_INFLIGHT=1200 postino config show
expect_rc 0
expect_out "# configuration file: postino.conf"
expect_out "[send] batch = 250  (file)"
expect_out "[send] max_inflight = 1200  (environment)"
expect_out "[http] public_url = https://news.example.org  (file)"
expect_out "[db] url = ********  (file)"
expect_no_out "hunter2secret"

check "a value out of range is refused at start with its name and where it came from"
cat > postino.conf <<'CONF'
[send]
lease = 2
CONF
postino list ls
expect_rc 1
expect_err "[send] lease = \"2\" (file): not a number from 5 to 86400"
expect_err_lines 1
[ ! -d var/pg ] || fail "the database was started before the settings were checked"
POSTINO_HTTP_DB_POOL=lots postino config show
expect_rc 1
expect_err "[send] lease"
rm postino.conf
POSTINO_HTTP_DB_POOL=lots postino config show
expect_rc 1
expect_err "[http] db_pool = \"lots\" (environment): not a number from 1 to 1000"
POSTINO_HTTP_HEADER_TIMEOUT=0 postino config show
expect_rc 1
expect_err "[http] header_timeout = \"0\" (environment): not a number from 1 to 3600"

check "a command's option is held to the same bounds as the setting"
postino send --batch 0
expect_rc 2
expect_err "--batch must be from 1 to 100000"
[ ! -d var/pg ] || fail "the database was started for a usage error"

finish
