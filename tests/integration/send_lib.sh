# send_lib.sh - a private Postfix submission server and sender helpers for the
# sending tests (sourced after lib.sh).
#   mta_start PORT SINKPORT [OPTION...]   Postfix with STARTTLS + SASL on PORT relaying to a
#                             sink (OPTIONs: scripts/postfix.sh start's, e.g. --listen ADDR)
#   mta_stop                  stop them
#   mta_conf KEY=VALUE...     change Postfix parameters and reload
#   mta_reload                reload Postfix and wait until its master says it did
#   sink_rcpts                every recipient the sink received, one line each, sorted
#   sink_clear                forget what the sink received
MTA="$WORK/mta"
export POSTINO_SEND_RETRY_BASE=1 POSTINO_SEND_RETRY_MAX=2 POSTINO_SEND_FLUSH_MS=50
export POSTINO_SEND_RECONNECT_MIN_MS=200 POSTINO_SEND_RECONNECT_MAX_MS=1000
export POSTINO_SEND_HELO_NAME=postino.test

mta_start() {
    MTA_PORT=$1 SINK_PORT=$2
    sh "$ROOT/scripts/postfix.sh" start "$MTA" --port "$1" --sink-port "$2" --password secret "${@:3}" >/dev/null ||
        { echo "FAIL [$TEST_NAME] cannot start Postfix"; exit 1; }
}
mta_stop() { sh "$ROOT/scripts/postfix.sh" stop "$MTA" >/dev/null 2>&1 || true; }
mta_reloads() { grep -c 'postfix/master.*: reload --' "$MTA/postfix.log" 2>/dev/null; }
mta_reloaded_since() { [ "$(mta_reloads)" -gt "$1" ]; }   # counted anew at each poll
mta_reload() {
    local n
    n=$(mta_reloads)
    postfix -c "$MTA" reload >/dev/null 2>&1
    wait_for "Postfix to reload" 20 mta_reloaded_since "$n"
}
mta_conf() {
    postconf -c "$MTA" -e "$@" && mta_reload
}
# mta_drain: wait until Postfix has handed everything it accepted to the sink
mta_queue_empty() {
    postqueue -c "$MTA" -p 2>/dev/null | grep -q 'Mail queue is empty' && return 0
    postqueue -c "$MTA" -f >/dev/null 2>&1
    return 1
}
mta_drain() { wait_for "Postfix's queue to drain" 120 mta_queue_empty; }
# (find, not a glob: 20,000 messages under a long path are more than one command line takes)
sink_rcpts() { find "$MTA/sink" -type f -exec cat {} + 2>/dev/null | sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' | sort; }
sink_count() { ls "$MTA/sink" 2>/dev/null | wc -l; }
sink_clear() { find "$MTA/sink" -type f -delete 2>/dev/null; }
relay_setup() {
    echo secret > "$WORK/relay.pw"
    "$BIN" relay add local --host "${RELAY_HOST:-127.0.0.1}" --port "$MTA_PORT" --user test --password-file "$WORK/relay.pw" \
        --tls-verify no --max-per-conn 50 "$@" >/dev/null
}
add_subscribers() {   # add_subscribers LIST FROM TO: userFROM..userTO@example.org on LIST
    psql_q "WITH s AS (INSERT INTO subscribers (email, name, attribs)
              SELECT 'user' || i || '@example.org', 'User ' || i, jsonb_build_object('n', i::text)
              FROM generate_series($2, $3) i ON CONFLICT (lower(email)) DO UPDATE SET name = excluded.name
              RETURNING id)
            INSERT INTO subscriptions (subscriber_id, list_id, status)
            SELECT s.id, l.id, 'confirmed' FROM s, lists l WHERE l.name = '$1'" >/dev/null
}
counters_match_ledger() {   # the campaign's counters equal the ledger
    local r
    r=$(psql_q "SELECT c.n_queued = count(*) FILTER (WHERE d.state = 'queued')
                  AND c.n_sent = count(*) FILTER (WHERE d.state = 'sent')
                  AND c.n_deferred = count(*) FILTER (WHERE d.state = 'deferred')
                  AND c.n_failed = count(*) FILTER (WHERE d.state = 'failed')
                  AND c.n_skipped = count(*) FILTER (WHERE d.state = 'skipped')
                  AND c.n_cancelled = count(*) FILTER (WHERE d.state = 'cancelled')
                  AND c.n_total = count(*)
                FROM campaigns c JOIN deliveries d ON d.campaign_id = c.id WHERE c.id = $1 GROUP BY c.id")
    [ "$r" = t ] || fail "campaign $1: counters differ from the ledger: $(psql_q "SELECT n_total, n_queued, n_sent, n_deferred, n_failed, n_skipped, n_cancelled FROM campaigns WHERE id = $1") vs $(psql_q "SELECT state, count(*) FROM deliveries WHERE campaign_id = $1 GROUP BY state")"
}
campaign_status() { psql_q "SELECT status FROM campaigns WHERE id = $1"; }
