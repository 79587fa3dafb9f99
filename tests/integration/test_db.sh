#!/bin/bash
# test_db - the private cluster (start on demand, start/stop, unix socket only),
# migrations and their status, and an unreachable named server.
source "$(dirname "$0")/lib.sh"
NMIG=$(ls "$ROOT"/sql/*.sql | wc -l)

check "db status before anything starts the private cluster on demand"
postino db status
expect_rc 0
expect_out "(private cluster)"
expect_out "001_init"
expect_out "pending"
[ -f var/pg/data/PG_VERSION ] || fail "no cluster in ./var/pg/data"

check "the private cluster listens on a unix socket under ./var only"
[ -S var/pg/run/.s.PGSQL.5432 ] || fail "no socket in var/pg/run"
[ "$(psql_q "SHOW listen_addresses")" = "" ] || fail "listen_addresses is not empty"
[ "$(stat -c %U var/pg/data)" = "$( [ "$(id -u)" = 0 ] && echo postgres || id -un)" ] || fail "data folder owner"

check "db migrate applies the pending migrations once"
postino db migrate
expect_rc 0
expect_out "applied $NMIG migrations"
postino db migrate
expect_rc 0
expect_out "applied 0 migrations"
[ "$(psql_q "SELECT count(*) FROM schema_migrations")" = "$NMIG" ] || fail "schema_migrations rows"

check "db status --json lists applied migrations"
postino db status --json
expect_rc 0
[ "$(jq_get "$out" "j['migrations'][0]['state']")" = applied ] || fail "state not applied"
[ "$(jq_get "$out" "j['pending']")" = 0 ] || fail "pending not 0"

check "db stop stops, db start starts, both idempotent"
postino db stop
expect_rc 0
expect_out "stopped the private PostgreSQL"
[ -S var/pg/run/.s.PGSQL.5432 ] && fail "socket still there after stop"
postino db stop
expect_rc 0
expect_out "was not running"
postino db start
expect_rc 0
expect_out "started the private PostgreSQL"
postino db start
expect_rc 0
expect_out "already running"

check "a command that needs the database starts the cluster on demand"
postino db stop
postino list ls
expect_rc 0
expect_out "NAME"
[ -S var/pg/run/.s.PGSQL.5432 ] || fail "cluster not started on demand"

check "db init on a fresh directory creates, starts and migrates"
mkdir -p fresh && chmod 755 fresh && cd fresh
postino db init
expect_rc 0
expect_out "schema is current"
postino db status --json
[ "$(jq_get "$out" "j['pending']")" = 0 ] || fail "fresh init left pending migrations"
postino db stop
cd ..

check "an unreachable named server: one line naming it, never the password, no private cluster"
mkdir -p ext && chmod 755 ext && cd ext
postino --db "host=/nonexistent/socketdir port=5999 dbname=shop user=mailer password=s3cr3tpw" list ls
expect_rc 1
expect_err "cannot connect to database at host=/nonexistent/socketdir port=5999 dbname=shop user=mailer"
expect_no_err "s3cr3tpw"
expect_err_lines 1
[ -e var ] && fail "a private cluster was created although a server was named"
POSTINO_DB="postgresql://mailer:an0thersecret@127.0.0.1:1/shop" postino subscriber ls
expect_rc 1
expect_err "cannot connect to database at host=127.0.0.1 port=1 dbname=shop user=mailer"
expect_no_err "an0thersecret"
expect_err_lines 1
postino --db "host=/nonexistent dbname=x" db start
expect_rc 1
expect_err "a database server is configured"
cd ..

check "a named server with an out-of-date schema is refused, db migrate fixes it"
"$BIN" db start >/dev/null 2>&1
psql_q "CREATE DATABASE other" >/dev/null
OTHER="host=$WORK/var/pg/run dbname=other user=postino"
postino --db "$OTHER" list ls
expect_rc 1
expect_err "needs $NMIG schema migrations: run 'postino db migrate'"
postino --db "$OTHER" db migrate
expect_rc 0
postino --db "$OTHER" list create elsewhere
expect_rc 0
postino list ls
expect_no_out "elsewhere"

check "the configuration file and POSTINO_DB_URL select the server"
printf '[db]\nurl = %s\n' "$OTHER" > postino.conf
postino list ls
expect_rc 0
expect_out "elsewhere"
rm postino.conf
POSTINO_DB_URL="$OTHER" postino list ls
expect_out "elsewhere"
postino --config /nonexistent.conf list ls
expect_rc 1
expect_err "cannot read configuration file /nonexistent.conf"

check "usage errors exit 2"
postino db
expect_rc 2
postino db frobnicate
expect_rc 2
expect_err "unknown subcommand 'db frobnicate'"
postino frobnicate
expect_rc 2
postino db status --bogus
expect_rc 2
expect_err "unknown option --bogus"
postino db --help
expect_rc 0
expect_out "postino db migrate"

check "--log-format json makes log lines JSON"
postino --log-format json db stop
expect_rc 0
postino --log-format json list ls
expect_rc 0
printf '%s\n' "$err" | grep -q '^{"time":".*","level":"info","program":"postino","msg":"started the private PostgreSQL' || fail "no JSON log line"

finish
