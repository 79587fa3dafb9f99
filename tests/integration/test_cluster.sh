#!/bin/bash
# test_cluster - two sender hosts, really: each `postino send` in a network
# namespace of its own, joined to this one by a veth pair on a bridge, reaches
# one PostgreSQL over TCP (TLS verified against a test CA, sslmode=verify-full;
# scram-sha-256 password from [db] password_file) and one Postfix (STARTTLS,
# SASL) listening on the bridge's address. A campaign of CLUSTER_N recipients
# (2,000 here; `make check-cluster`: 20,000) goes out through a relay with a
# quota; mid-campaign one sender's link is cut (ip link set down): PostgreSQL
# drops its connections (its TCP keepalives), the other sender takes its rows
# over, and when the link is back the cut sender reconnects by itself and
# claims again. Then: every recipient got the message, the sink's deliveries
# (X-Postino-Delivery) are the ledger's, duplicates no more than the cut
# sender held at the cut, the quota held as the relay counts it, the stats
# name both senders, and the password shows nowhere.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/cluster_lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
N=${CLUSTER_N:-2000}
# leases far longer than the test: only the takeover (the cut sender's lock gone with its connection) moves its rows
export POSTINO_SEND_LEASE=600 POSTINO_SEND_BATCH=50 POSTINO_SEND_MAX_INFLIGHT=100
# the quota: a sixth of the campaign at once, as much again every 10 s (the relay's counter decays linearly)
# (1,000 at most: with 20,000 too the quota, not the machine, paces the sending, at 100 a second)
Q=$((N / 6 < 1000 ? N / 6 : 1000)) P=10
A="" B=""
trap 'kill -9 $A $B 2>/dev/null; mta_stop; cleanup; net_down' EXIT
trap 'exit 1' INT TERM HUP

check "two sender namespaces on a bridge; PostgreSQL on TCP with TLS and scram-sha-256"
net_up
postino db init
expect_rc 0
db_tls_up 13612
mta_start 13611 13049 --listen "$SRV"
postino list create crowd
add_subscribers crowd 1 "$N"
postino dkim add example.com --selector r1
RELAY_HOST=$SRV relay_setup --max-conns 4 --quota "$Q/${P}s"
printf '<p>Hello {{ name }}.</p>\n' > body.html
postino campaign create --name Crowd --subject 'Hi {{ name }}' --from 'news@example.com' --list crowd --html body.html --json
C=$(jq_get "$out" "j['id']")
sender_conf > sender.conf
# what the senders' side of the network sees: a server that insists on TLS, a password and its certificate
ns_postino "$NSA" --db "host=$SRV port=$PGPORT dbname=postino user=postino sslmode=disable" db status
expect_rc 1
expect_err "no pg_hba.conf entry"
ns_postino "$NSA" --db "host=$SRV port=$PGPORT dbname=postino user=postino sslmode=verify-full sslrootcert=$WORK/tls/ca.pem" db status
expect_rc 1
expect_err "no password supplied"
echo "not-$DB_PW" > wrong.pw
POSTINO_DB_PASSWORD_FILE=$WORK/wrong.pw ns_postino "$NSA" --config sender.conf db status
expect_rc 1
expect_err 'password authentication failed for user "postino"'
expect_err_lines 1
ns_postino "$NSA" --config sender.conf db status
expect_rc 0
expect_out "host=$SRV port=$PGPORT dbname=postino user=postino"
ns_postino "$NSA" --db "host=$SRV port=$PGPORT dbname=postino user=postino sslmode=verify-full sslrootcert=$WORK/tls/other-ca.pem" --config sender.conf db status
expect_rc 1
expect_err "certificate verify failed"
expect_err_lines 1

check "both senders start in their namespaces and are listed"
ip netns exec "$NSA" "$BIN" --config sender.conf send --name alpha > alpha.out 2>&1 &
A=$!
ip netns exec "$NSB" "$BIN" --config sender.conf send --name beta > beta.out 2>&1 &
B=$!
wait_for "both senders listed" 60 bash -c "[ \$(psql_q \"SELECT count(*) FROM senders WHERE name IN ('alpha', 'beta')\") = 2 ]"
[ "$(psql_q "SELECT count(DISTINCT client_addr) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE ssl AND client_addr IN ('$ADDR_A', '$ADDR_B')")" = 2 ] ||
    fail "not both senders connected over TLS: $(psql_q "SELECT client_addr, ssl FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE client_addr IS NOT NULL")"
ps -eo args | grep -F -- "$DB_PW" | grep -v grep && fail "the password is on a command line"
postino campaign send "$C"
wait_for "both senders holding deliveries" 120 bash -c "[ \$(psql_q \"SELECT count(DISTINCT lease_owner) FROM deliveries WHERE lease_owner IN ('alpha', 'beta')\") = 2 ]"
wait_for "a quarter sent" 300 bash -c "[ \$(psql_q \"SELECT n_sent FROM campaigns WHERE id = $C\") -ge $((N / 4)) ]"
postino campaign stats "$C" --json
[ "$(jq_get "$out" "sorted(s['name'] for s in j['senders'])")" = "['alpha', 'beta']" ] ||
    fail "campaign stats do not name both senders: $out"

check "beta's link cut: PostgreSQL lets its lock go, alpha takes its rows over"
ip link set "$VB" down
cut_at=$SECONDS
inflight=$(psql_q "SELECT count(*) FROM deliveries WHERE lease_owner = 'beta'")
echo "beta cut with $inflight deliveries leased, $(psql_q "SELECT n_sent FROM campaigns WHERE id = $C") sent" >> cluster.log
wait_for "beta's deliveries given back" 60 bash -c "[ \$(psql_q \"SELECT count(*) FROM deliveries WHERE lease_owner = 'beta'\") = 0 ]"
echo "beta's deliveries free again $((SECONDS - cut_at)) s after the cut" >> cluster.log
grep -q "deliveries leased by a sender that is gone are free again" alpha.out || fail "alpha does not say it took over"
[ -z "$(psql_q "SELECT 1 FROM senders WHERE name = 'beta'")" ] || fail "beta is still listed while cut off"
wait_for "beta to notice its database connections are gone" 60 grep -q "database connection lost" beta.out
kill -0 "$B" 2>/dev/null || fail "beta exited: $(tail -3 beta.out)"

check "the link back: beta reconnects by itself and claims again"
ip link set "$VB" up
back_at=$SECONDS
wait_for "beta listed again" 90 bash -c "[ -n \"\$(psql_q \"SELECT 1 FROM senders WHERE name = 'beta'\")\" ]"
wait_for "beta holding deliveries again" 90 bash -c "[ \$(psql_q \"SELECT count(*) FROM deliveries WHERE lease_owner = 'beta'\") -gt 0 ] ||
    [ \"\$(psql_q \"SELECT status FROM campaigns WHERE id = $C\")\" = finished ]"
[ "$(campaign_status "$C")" != finished ] || fail "the campaign finished before beta was back (no proof that it goes on)"
echo "beta claiming again $((SECONDS - back_at)) s after the link came back" >> cluster.log

check "the campaign finishes: nothing lost, duplicates only in flight, the quota held"
wait_for "the campaign to finish" 600 bash -c "[ \"\$(psql_q \"SELECT status FROM campaigns WHERE id = $C\")\" = finished ]"
postino campaign stats "$C" --json
senders_seen=$(jq_get "$out" "sorted(s['name'] for s in j['senders'])")
by_sender=$(jq_get "$out" "json.dumps(j['by_sender'])")
kill "$A" "$B"
wait "$A" "$B" 2>/dev/null
A="" B=""
mta_drain
[ "$(psql_q "SELECT n_sent FROM campaigns WHERE id = $C")" = "$N" ] || fail "n_sent $(psql_q "SELECT n_sent FROM campaigns WHERE id = $C"), expected $N"
counters_match_ledger "$C"
ledger_sent_ids "$C" > ledger.ids
sink_report "$Q" "$P" "$inflight" ledger.ids > sink.report || fail "$(cat sink.report)"
cat sink.report >> cluster.log
[ "$senders_seen" = "['alpha', 'beta']" ] || fail "campaign stats at the end name $senders_seen"
[ "$(jq_get "$by_sender" "[s['name'] for s in j if s['sent'] > 0]")" = "['alpha', 'beta']" ] ||
    fail "campaign stats do not count what each sender sent: $by_sender"
[ "$(jq_get "$by_sender" "sum(s['sent'] for s in j)")" = "$N" ] || fail "the senders' counts do not add up to $N: $by_sender"
echo "campaign stats by sender: $(jq_get "$by_sender" "', '.join(f\"{s['name']} {s['sent']}\" for s in j)")" >> cluster.log
grep -q "sender alpha: stopped ([1-9][0-9]* sent" alpha.out || fail "alpha's count: $(tail -1 alpha.out)"
grep -q "sender beta: stopped ([1-9][0-9]* sent" beta.out || fail "beta's count: $(tail -1 beta.out)"
grep -h "stopped (" alpha.out beta.out >> cluster.log
cat cluster.log

check "the database password shows in no log or listing"
postino --config sender.conf config show
expect_out "password_file"
for f in alpha.out beta.out "$WORK/var/pg/log/postgresql.log"; do
    [ -e "$f" ] && grep -qF "$DB_PW" "$f" && fail "the password is in $f"
done
case "$out" in *"$DB_PW"*) fail "config show prints the password" ;; esac

finish
