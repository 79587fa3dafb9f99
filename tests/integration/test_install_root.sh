#!/bin/bash
# test_install_root - as root on this machine: make install into a temporary
# PREFIX, postino setup against a Debian PostgreSQL cluster made for the test
# (pg_createcluster, peer authentication over its socket) and a Postfix whose
# configuration directory is the test's own (submission on 587 with STARTTLS
# and SASL, as an SMTP VPS has it; scripts/postfix.sh), the service started
# with its unit's command line, a campaign sent, one recipient bounced through
# Postfix and the real postino bounce pipe, a reload (SIGHUP), a stop with
# messages in flight (SIGTERM) and the ledger checked; then uninstalled, the
# cluster dropped, the user removed. It leaves nothing running and /etc as it
# found it. It runs in a network namespace of its own (made here) unless it
# is started in one already.
set -u
if [ "$(id -u)" != 0 ]; then
    echo "FAIL  test_install_root: must run as root"
    exit 1
fi
if [ -z "${POSTINO_INSTALL_NETNS:-}" ] && [ -z "$(ip netns identify $$ 2>/dev/null)" ]; then
    ns="postino-install-$$"
    ip netns add "$ns" || { echo "FAIL  test_install_root: cannot make a network namespace"; exit 1; }
    ip netns exec "$ns" ip link set lo up
    POSTINO_INSTALL_NETNS=$ns ip netns exec "$ns" bash "$0" "$@"
    trc=$?
    ip netns delete "$ns"
    exit $trc
fi
source "$(dirname "$0")/lib.sh"
MTA="$WORK/mta"
PREFIX="$WORK/prefix"
CONF="$PREFIX/etc/postino/postino.conf"
UNIT="$PREFIX/lib/systemd/system/postino.service"
NOTIFY_LOG="$WORK/notify.log"
PGVER=$(ls /usr/lib/postgresql | sort -n | tail -1)
CLUSTER="postino-test-$$"
had_user=no; id postino >/dev/null 2>&1 && had_user=yes
had_home=no; [ -e /var/lib/postino ] && had_home=yes
SERVICE_PID="" LISTENER_PID="" PORT=""

etc_state() {   # what of /etc this test could change: accounts, PostgreSQL's and postino's files
    { md5sum /etc/passwd /etc/group /etc/shadow /etc/gshadow; find /etc/postgresql /etc/postino 2>/dev/null | sort; } 2>/dev/null
}
ETC_BEFORE=$(etc_state)

teardown() {
    [ -n "$SERVICE_PID" ] && kill -0 "$SERVICE_PID" 2>/dev/null && { kill -KILL "$SERVICE_PID"; wait "$SERVICE_PID"; } 2>/dev/null
    [ -n "$LISTENER_PID" ] && kill "$LISTENER_PID" 2>/dev/null
    sh "$ROOT/scripts/postfix.sh" stop "$MTA" >/dev/null 2>&1
    [ -n "$PORT" ] && pg_dropcluster --stop "$PGVER" "$CLUSTER" >/dev/null 2>&1
    if [ "$had_user" = no ] && id postino >/dev/null 2>&1; then
        userdel postino 2>/dev/null
        getent group postino >/dev/null && groupdel postino 2>/dev/null
    fi
    [ "$had_home" = no ] && rm -rf /var/lib/postino
    cleanup
}
trap teardown EXIT

# as_postino ARGS...: the installed postino, as the postino user, with the installed configuration
as_postino() {
    local o e
    o=$(mktemp) e=$(mktemp)
    chmod 644 "$o" "$e"
    (cd / && setpriv --reuid postino --regid postino --init-groups -- "$PREFIX/bin/postino" --config "$CONF" "$@") \
        >"$o" 2>"$e" </dev/null
    rc=$?
    out=$(cat "$o") err=$(cat "$e")
    rm -f "$o" "$e"
}
pgq() { setpriv --reuid postino --regid postino --init-groups -- psql -X -A -t -q -h /var/run/postgresql -p "$PORT" -d postino -c "$1" 2>&1; }

check "make install into a temporary PREFIX"
make -s --no-print-directory -C "$ROOT" POSTINO_DEPS=1 install PREFIX="$PREFIX" SYSCONFDIR="$PREFIX/etc" \
    UNITDIR="$PREFIX/lib/systemd/system" >"$WORK/install.out" 2>&1 || fail "make install: $(cat "$WORK/install.out")"
[ -x "$PREFIX/bin/postino" ] && [ -f "$CONF" ] && [ -f "$UNIT" ] || fail "not installed: $(find "$PREFIX")"

check "a Debian PostgreSQL cluster of the test's own and a Postfix laid out as an SMTP VPS"
for p in $(seq 5491 5530); do
    if [ ! -e "/var/run/postgresql/.s.PGSQL.$p" ] && ! pg_lsclusters -h | awk '{print $3}' | grep -qx "$p"; then
        PORT=$p
        break
    fi
done
[ -n "$PORT" ] || { fail "no free PostgreSQL port"; finish; }
pg_createcluster "$PGVER" "$CLUSTER" -p "$PORT" --start-conf=manual -o "listen_addresses=" --start \
    >"$WORK/cluster.out" 2>&1 || { PORT=""; fail "pg_createcluster: $(cat "$WORK/cluster.out")"; finish; }
sh "$ROOT/scripts/postfix.sh" start "$MTA" --port 587 --sink-port 25025 --password secret >/dev/null ||
    { fail "cannot start Postfix"; finish; }
# a recipient whose mail Postfix accepts, then bounces (its DSN goes back to the VERP sender, through the pipe)
postconf -c "$MTA" -e "transport_maps = inline:{ { dead@example.org = error:5.1.1 User unknown } }" \
    "smtpd_reject_unlisted_recipient = no"

check "postino setup --dry-run says what it would do and changes nothing"
cp "$CONF" "$WORK/conf.before"
postconf -c "$MTA" -n >"$WORK/postconf.before"
"$PREFIX/bin/postino" --config "$CONF" setup --dry-run --domain example.com --ip 192.0.2.10 --pg-port "$PORT" \
    --postfix-config "$MTA" --mx mx.example.com >"$WORK/dry.out" 2>&1
rc=$?
out=$(cat "$WORK/dry.out") err=""
expect_rc 0
[ "$had_user" = no ] && expect_out "would run: "$'\n'"    useradd --system --user-group"
expect_out "would run: (as postgres) "$'\n'"    createuser -h /var/run/postgresql -p $PORT postino"
expect_out "would set [db] url"
expect_out "would run: "$'\n'"    postconf -c $MTA -e 'relay_domains = bounces.example.com'"
expect_out "postino-bounce/unix = postino-bounce unix - n n - - pipe flags=q user=postino argv=$PREFIX/bin/postino --config $CONF bounce"
expect_out "submission service"   # 127.0.0.1:587 is one: none added
expect_no_out "postconf -c $MTA -M 'submission/inet"
cmp -s "$CONF" "$WORK/conf.before" || fail "the configuration changed"
postconf -c "$MTA" -n | cmp -s - "$WORK/postconf.before" || fail "Postfix's configuration changed"
[ "$had_user" = yes ] || ! id postino >/dev/null 2>&1 || fail "the user was made"
[ -z "$(pgq "SELECT 1" 2>/dev/null | grep -x 1)" ] || fail "the database was made"

check "postino setup: user, role and database (peer authentication), schema, secret, DKIM key, Postfix, DNS"
"$PREFIX/bin/postino" --config "$CONF" setup --domain example.com --ip 192.0.2.10 --pg-port "$PORT" \
    --postfix-config "$MTA" --mx mx.example.com >"$WORK/setup.out" 2>&1
rc=$?
out=$(cat "$WORK/setup.out") err=""
expect_rc 0
expect_out "applied "
expect_out "created the HMAC secret"
expect_out "DKIM key for example.com"
expect_out "+ relay_domains = bounces.example.com"
expect_out "+ transport_maps = inline:{ bounces.example.com=postino-bounce: }, inline:{ { dead@example.org = error:5.1.1 User unknown } }"
expect_out "+ postino-bounce_destination_recipient_limit = 1"
expect_out "run: "$'\n'"    postfix -c $MTA check"
expect_out "run: "$'\n'"    postfix -c $MTA reload"
expect_out "value: v=spf1 ip4:192.0.2.10 ~all"
expect_out "name:  _dmarc.example.com"
expect_out "name:  bounces.example.com"$'\n'"type:  MX"$'\n'"value: 10 mx.example.com."
id postino >/dev/null 2>&1 || fail "no postino user"
[ "$(stat -c '%a %U:%G' "$CONF")" = "640 root:postino" ] || fail "configuration: $(stat -c '%a %U:%G' "$CONF")"
grep -qx "url = host=/var/run/postgresql port=$PORT dbname=postino user=postino" "$CONF" || fail "[db] url: $(grep url "$CONF")"
grep -qx "domain = bounces.example.com" "$CONF" || fail "[bounce] domain not set"
[ "$(pgq "SELECT current_user")" = postino ] || fail "postino cannot log in by peer authentication: $(pgq "SELECT 1")"
[ "$(pgq "SELECT count(*) FROM settings WHERE key = 'token_key'")" = 1 ] || fail "no HMAC secret"
[ "$(pgq "SELECT count(*) FROM dkim_keys WHERE domain = 'example.com'")" = 1 ] || fail "no DKIM key"
postconf -c "$MTA" -M postino-bounce/unix | grep -q "user=postino argv=$PREFIX/bin/postino --config $CONF bounce --recipient \${original_recipient} --client-address=\${client_address}" ||
    fail "pipe: $(postconf -c "$MTA" -M postino-bounce/unix)"

check "postino setup again: nothing to change"
cp "$CONF" "$WORK/conf.after1"
postconf -c "$MTA" -n >"$WORK/postconf.after1"
"$PREFIX/bin/postino" --config "$CONF" setup --domain example.com --ip 192.0.2.10 --pg-port "$PORT" \
    --postfix-config "$MTA" --mx mx.example.com >"$WORK/setup2.out" 2>&1
rc=$?
out=$(cat "$WORK/setup2.out") err=""
expect_rc 0
expect_out "the system user postino exists"
expect_out "the PostgreSQL role postino exists"
expect_out "applied 0 migrations"
expect_out "the HMAC secret of links and bounce addresses exists"
expect_out "example.com has 1 DKIM key"
expect_out "Postfix's configuration is as wanted: no check or reload needed"
expect_no_out "would"
cmp -s "$CONF" "$WORK/conf.after1" || fail "the configuration changed"
postconf -c "$MTA" -n | cmp -s - "$WORK/postconf.after1" || fail "Postfix's configuration changed"

check "the service, started with its unit's command line as its unit's user, tells it is ready"
EXEC=$(sed -n 's/^ExecStart=//p' "$UNIT")
USER_=$(sed -n 's/^User=//p' "$UNIT")
WD=$(sed -n 's/^WorkingDirectory=//p' "$UNIT")
[ "$EXEC" = "$PREFIX/bin/postino --config $CONF serve" ] || fail "ExecStart: $EXEC"
echo "  systemd is not PID 1 here: running ExecStart=$EXEC as User=$USER_ in $WD, NOTIFY_SOCKET set as Type=notify has it"
/usr/bin/python3 "$ROOT/tests/integration/notify_listen.py" "$WORK/notify.sock" "$NOTIFY_LOG" &
LISTENER_PID=$!
wait_for "the notify listener" 10 grep -qs listening "$NOTIFY_LOG"
start_service() {
    mkdir -p "$WD" && chown postino:postino "$WD"
    (cd "$WD" && exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin NOTIFY_SOCKET="$WORK/notify.sock" \
        POSTINO_SEND_FLUSH_MS=50 POSTINO_SEND_HELO_NAME=postino.test POSTINO_SEND_RELAY_RELOAD=3600 \
        setpriv --reuid "$USER_" --regid "$USER_" --init-groups -- $EXEC) >>"$WORK/service.log" 2>&1 &
    SERVICE_PID=$!
}
start_service
wait_for "READY=1" 60 grep -q '^READY=1' "$NOTIFY_LOG"
curl -s -m 5 http://127.0.0.1:8080/healthz | grep -q '"ok"' || fail "the API does not answer: $(curl -s -m 5 http://127.0.0.1:8080/healthz)"
[ "$(ps -o user= -p "$SERVICE_PID")" = postino ] || fail "the service runs as $(ps -o user= -p "$SERVICE_PID")"

check "a campaign through Postfix's submission on 587 (STARTTLS, SASL); one recipient bounced through the pipe"
echo secret >"$WORK/relay.pw"
chmod 644 "$WORK/relay.pw"
as_postino relay add vps --host 127.0.0.1 --port 587 --user test --password-file "$WORK/relay.pw" --tls-verify no
expect_rc 0
# the service reads the relays at a reload (it runs with [send] relay_reload = 3600, so at nothing else)
kill -HUP "$SERVICE_PID"
wait_for "the sender to take the relay at the reload" 20 grep -q "relay vps added" "$WORK/service.log"
as_postino list create news
for i in $(seq 1 19); do as_postino subscriber add "user$i@example.org" --list news; done
as_postino subscriber add dead@example.org --list news
printf '<p>Hello {{ email }}</p>\n' >"$WORK/body.html"
chmod 644 "$WORK/body.html"
as_postino campaign create --name One --subject Hi --from 'News <news@example.com>' --list news --html "$WORK/body.html" --json
C1=$(jq_get "$out" "j['id']")
as_postino campaign send "$C1"
expect_out "20 recipients queued"
finished() { [ "$(pgq "SELECT status FROM campaigns WHERE id = $1")" = finished ]; }
wait_for "campaign $C1 to finish" 60 finished "$C1"
[ "$(pgq "SELECT count(*) FROM deliveries WHERE campaign_id = $C1 AND state = 'sent'")" = 20 ] || fail "not all 20 sent"
bounced() { [ "$(pgq "SELECT count(*) FROM bounces b JOIN subscribers s ON s.id = b.subscriber_id WHERE s.email = 'dead@example.org' AND b.class = 'hard'")" = 1 ]; }
wait_for "the DSN for dead@example.org to come back through the pipe" 90 bounced
[ "$(pgq "SELECT status FROM subscribers WHERE email = 'dead@example.org'")" = blocklisted ] || fail "dead@example.org not blocklisted"
grep -q 'relay=postino-bounce, .*status=sent (delivered via postino-bounce service (bounce 1: hard 5.1.1 dead@example.org' "$MTA/postfix.log" ||
    fail "Postfix's log shows no delivery to the pipe"
[ "$(pgq "SELECT count(*) FROM bounces")" = 1 ] || fail "bounces: $(pgq "SELECT count(*) FROM bounces")"

check "reload (SIGHUP, as ExecReload sends it): the configuration and the relays read again, READY again"
grep -q "^ExecReload=/bin/kill -HUP \$MAINPID" "$UNIT" || fail "ExecReload: $(grep ExecReload "$UNIT")"
# the relay paced now (5 messages a second), which the sender learns at the reload alone
# (the service runs with [send] relay_reload = 3600)
as_postino relay rm vps
as_postino relay add vps --host 127.0.0.1 --port 587 --user test --password-file "$WORK/relay.pw" --tls-verify no --rate 5/s
expect_rc 0
readies=$(grep -c '^READY=1' "$NOTIFY_LOG")
reloadings=$(grep -c '^RELOADING=1' "$NOTIFY_LOG")
sed -i 's/^level = info$/level = debug/' "$CONF"
kill -HUP "$SERVICE_PID"
more_reloading() { [ "$(grep -c '^RELOADING=1' "$NOTIFY_LOG")" -gt "$reloadings" ]; }
wait_for "RELOADING=1" 20 more_reloading
more_ready() { [ "$(grep -c '^READY=1' "$NOTIFY_LOG")" -gt "$readies" ]; }
wait_for "READY=1 after the reload" 20 more_ready
wait_for "the reload's log line" 20 grep -q "reload: the configuration was read again" "$WORK/service.log"
curl -s -m 5 http://127.0.0.1:8080/healthz >/dev/null
wait_for "debug lines (each request), as the configuration now asks" 20 grep -q "^postino: debug: api: GET /healthz" "$WORK/service.log"
wait_for "the sender to take the paced relay" 20 grep -q "relay vps changed" "$WORK/service.log"
kill -0 "$SERVICE_PID" 2>/dev/null || fail "the service died on SIGHUP"
grep -q '^<' "$WORK/service.log" && fail "journal priority prefixes without the journal"

check "stop (SIGTERM) with messages in flight: STOPPING, nothing lost, nothing doubled"
as_postino list create more
for i in $(seq 1 40); do echo "m$i@example.net"; done | sed '1i email' >"$WORK/more.csv"
chmod 644 "$WORK/more.csv"
as_postino import "$WORK/more.csv" --list more
expect_rc 0
as_postino campaign create --name Two --subject Hi --from 'News <news@example.com>' --list more --html "$WORK/body.html" --json
C2=$(jq_get "$out" "j['id']")
as_postino campaign send "$C2"
some_sent() { [ "$(pgq "SELECT n_sent FROM campaigns WHERE id = $C2")" -ge 3 ]; }
wait_for "campaign $C2 to be sending" 60 some_sent
kill -TERM "$SERVICE_PID"
wait "$SERVICE_PID"
src=$?
SERVICE_PID=""
[ "$src" -eq 0 ] || fail "the service exited $src"
grep -q '^STOPPING=1' "$NOTIFY_LOG" || fail "no STOPPING=1"
sent=$(pgq "SELECT count(*) FROM deliveries WHERE campaign_id = $C2 AND state = 'sent'")
queued=$(pgq "SELECT count(*) FROM deliveries WHERE campaign_id = $C2 AND state = 'queued'")
leased=$(pgq "SELECT count(*) FROM deliveries WHERE campaign_id = $C2 AND lease_owner IS NOT NULL")
[ "$((sent + queued))" = 40 ] && [ "$queued" -gt 0 ] && [ "$leased" = 0 ] ||
    fail "after the stop: $sent sent, $queued queued, $leased leased (expected sent + queued = 40, some queued, none leased)"
echo "  stopped with $sent sent and $queued released to the ledger"
start_service
wait_for "campaign $C2 to finish after the restart" 90 finished "$C2"
sink_got() { cat "$MTA"/sink/* 2>/dev/null | sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' | grep -c '@example.net$'; }
all_in_sink() { [ "$(sink_got)" -ge 40 ]; }
wait_for "Postfix to hand every message to the sink" 90 all_in_sink
dups=$(cat "$MTA"/sink/* | sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' | grep '@example.net$' | sort | uniq -d | wc -l)
[ "$(sink_got)" = 40 ] && [ "$dups" = 0 ] || fail "the sink got $(sink_got) messages for 40 recipients, $dups twice"
[ "$(pgq "SELECT count(*) FROM deliveries WHERE campaign_id = $C2 AND state = 'sent'")" = 40 ] || fail "not all sent"
kill -TERM "$SERVICE_PID"
wait "$SERVICE_PID"
SERVICE_PID=""

check "make uninstall; the cluster dropped; nothing left running; /etc as it was"
make -s --no-print-directory -C "$ROOT" POSTINO_DEPS=1 uninstall PREFIX="$PREFIX" SYSCONFDIR="$PREFIX/etc" \
    UNITDIR="$PREFIX/lib/systemd/system" >"$WORK/uninstall.out" 2>&1 || fail "make uninstall: $(cat "$WORK/uninstall.out")"
[ ! -e "$PREFIX/bin/postino" ] && [ ! -e "$UNIT" ] || fail "left: $(find "$PREFIX" -type f)"
kill "$LISTENER_PID" 2>/dev/null
LISTENER_PID=""
sh "$ROOT/scripts/postfix.sh" stop "$MTA" >/dev/null 2>&1
pg_dropcluster --stop "$PGVER" "$CLUSTER" || fail "pg_dropcluster failed"
PORT=""
if [ "$had_user" = no ]; then
    userdel postino || fail "userdel"
    getent group postino >/dev/null && groupdel postino
fi
[ "$had_home" = no ] && rm -rf /var/lib/postino
left=$(ps -eo user=,args= | grep -E "^postino |$PREFIX/bin/postino|$CLUSTER" | grep -v grep)
[ -z "$left" ] || fail "still running: $left"
[ "$(etc_state)" = "$ETC_BEFORE" ] || fail "/etc changed: $(diff <(echo "$ETC_BEFORE") <(etc_state))"

finish
