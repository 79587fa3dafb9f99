#!/bin/bash
# test_db_upgrade - the schema across upgrades, and the database at hand:
# a binary refuses a schema newer than it knows (upgrade postino) and, on a
# named server, an older one (run db migrate); db migrate is safe while a
# campaign sends (a migration applied under it loses and doubles nothing);
# db psql (read-only too), db backup and db restore.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
trap 'mta_stop; cleanup' EXIT

postino db init
expect_rc 0
NAMED="host=$WORK/var/pg/run dbname=postino user=postino"
LATEST=$(ls "$ROOT"/sql/*.sql | sed 's#.*/##; s#\.sql$##' | sort | tail -1)

check "db psql runs psql on the database; --read-only lets nothing be written"
postino list create keep
postino db psql -- -A -t -c "SELECT name FROM lists ORDER BY name"
expect_rc 0
expect_out_eq "keep"
postino db psql --read-only -- -A -t -c "INSERT INTO lists (name) VALUES ('nope')"
[ "$rc" -ne 0 ] || fail "a read-only psql wrote"
expect_err "read-only transaction"
[ "$(psql_q "SELECT count(*) FROM lists WHERE name = 'nope'")" = 0 ] || fail "the row is there"
postino db psql --read-only -- -A -t -c "SELECT count(*) FROM lists"
expect_rc 0
expect_out_eq "1"

check "db backup and db restore: the dump brings back what was removed"
postino db backup "$WORK/backup.dump"
expect_rc 0
[ -s "$WORK/backup.dump" ] && head -c 5 "$WORK/backup.dump" | grep -q PGDMP || fail "not a pg_dump custom archive"
postino list rm keep
postino list create later
postino db restore "$WORK/backup.dump"
expect_rc 0
[ "$(psql_q "SELECT string_agg(name, ',' ORDER BY name) FROM lists")" = keep ] ||
    fail "lists after restore: $(psql_q "SELECT string_agg(name, ',') FROM lists")"
postino db restore "$WORK/missing.dump"
expect_rc 1
expect_err "cannot read $WORK/missing.dump"
postino db backup
expect_rc 2

check "a schema newer than the binary: every command refuses, naming it, and says to upgrade postino"
psql_q "INSERT INTO schema_migrations (version) VALUES ('999_future')" >/dev/null
want="the database's schema is newer than this postino knows (it has 999_future; this postino ends at $LATEST): upgrade postino"
postino list ls
expect_rc 1
expect_err "$want"
expect_err_lines 1
postino --db "$NAMED" list ls
expect_rc 1
expect_err "$want"
postino --db "$NAMED" db migrate
expect_rc 1
expect_err "$want"
postino db status
expect_rc 0   # status still shows where it stands
psql_q "DELETE FROM schema_migrations WHERE version = '999_future'" >/dev/null

check "a schema older than the binary, on a named server: refused until db migrate"
psql_q "DELETE FROM schema_migrations WHERE version = '010_deliveries_hot'" >/dev/null
postino --db "$NAMED" list ls
expect_rc 1
expect_err "needs 1 schema migration: run 'postino db migrate'"
postino --db "$NAMED" db migrate
expect_rc 0
expect_out "applied 1 migration"
postino --db "$NAMED" list ls
expect_rc 0

check "db migrate while a campaign sends: each recipient exactly once, the ledger whole"
mta_start 21587 21025
relay_setup --rate 30/s
postino list create big
add_subscribers big 1 300
printf '<p>Hello {{ name }}</p>\n' > body.html
postino campaign create --name Up --subject 'Hi' --from 'News <news@example.com>' --list big --html body.html --json
C=$(jq_get "$out" "j['id']")
postino campaign send "$C"
expect_rc 0
"$BIN" --db "$NAMED" send --until-done >"$WORK/send.out" 2>&1 &
SENDER=$!
sent_some() { [ "$(psql_q "SELECT n_sent FROM campaigns WHERE id = $C")" -ge 20 ]; }
wait_for "the campaign to be sending" 60 sent_some
# a migration becomes pending (010 alters deliveries, which the sender is claiming from) and is applied meanwhile
psql_q "DELETE FROM schema_migrations WHERE version = '010_deliveries_hot'" >/dev/null
postino --db "$NAMED" db migrate
expect_rc 0
expect_out "applied 1 migration"
still=$(psql_q "SELECT n_queued FROM campaigns WHERE id = $C")
[ "$still" -gt 0 ] || fail "the campaign was over before the migration ran: it did not run under a sending campaign"
echo "  migration applied with $still deliveries still queued"
wait "$SENDER"
src=$?
[ "$src" -eq 0 ] || fail "the sender exited $src: $(tail -5 "$WORK/send.out")"
mta_drain
[ "$(campaign_status "$C")" = finished ] || fail "campaign $(campaign_status "$C")"
[ "$(psql_q "SELECT count(*) FROM deliveries WHERE campaign_id = $C AND state = 'sent'")" = 300 ] ||
    fail "sent: $(psql_q "SELECT state, count(*) FROM deliveries WHERE campaign_id = $C GROUP BY 1")"
dups=$(sink_rcpts | uniq -d | wc -l)
[ "$(sink_rcpts | wc -l)" = 300 ] && [ "$dups" = 0 ] || fail "the sink got $(sink_rcpts | wc -l) messages, $dups recipients twice"
counters_match_ledger "$C"
grep -q "error" "$WORK/send.out" && fail "the sender logged an error: $(grep error "$WORK/send.out" | head -3)"

finish
