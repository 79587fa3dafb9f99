# bounce_lib.sh - the bounce loop around the private Postfix of send_lib.sh
# (sourced after lib.sh and send_lib.sh, once mta_start has run).
#   bounce_mta_setup INNER_PORT BOUNCE_DOMAIN
#       a second smtpd in the same instance on 127.0.0.1:INNER_PORT becomes the
#       relayhost: it refuses the recipients listed in $MTA/rcpt_access (an
#       access table: "addr 550 5.1.1 User unknown") and hands the others to
#       the sink; Postfix itself then returns DSNs to the VERP envelope senders,
#       and transport_maps routes BOUNCE_DOMAIN to a pipe transport running
#       "postino bounce" as the postgres user (who can reach the private
#       cluster's socket) with --db naming that socket. A 4xx is tried once
#       (maximal_queue_lifetime = 0), so a deferral expires into a DSN at once;
#       what the pipe defers (exit 75) is retried within seconds.
#       Every message the pipe receives is also kept in $WORK/dsn-captured.
#   bounce_reject ADDR REPLY...   refuse ADDR with REPLY from now on
#   bounce_accept ADDR            stop refusing ADDR
#   bounce_count                  rows in bounces
BOUNCE_CAPTURE="$WORK/dsn-captured"

bounce_mta_setup() {
    local inner=$1 domain=$2
    mkdir -p "$BOUNCE_CAPTURE"
    chown postgres "$BOUNCE_CAPTURE"
    : > "$MTA/rcpt_access"
    cat > "$WORK/bounce-pipe.sh" <<EOF
#!/bin/sh
# the pipe transport's command: keep a copy, then hand the message to postino
f=\$(mktemp "$BOUNCE_CAPTURE/dsn.XXXXXX")
cat > "\$f"
exec "$BIN" --db "postgresql://postino@/postino?host=$WORK/var/pg/run" bounce --recipient "\$1" --client-address="\$2" < "\$f"
EOF
    chmod 755 "$WORK/bounce-pipe.sh"
    cat >> "$MTA/master.cf" <<EOF
127.0.0.1:$inner inet n - n - - smtpd
  -o syslog_name=postfix/inner
  -o smtpd_sasl_auth_enable=no
  -o smtpd_tls_security_level=none
  -o smtpd_relay_restrictions=check_recipient_access,texthash:$MTA/rcpt_access,permit_mynetworks,reject
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o content_filter=relay:[127.0.0.1]:$SINK_PORT
postino-bounce unix - n n - - pipe
  flags=q user=postgres argv=$WORK/bounce-pipe.sh \${original_recipient} \${client_address}
EOF
    echo "$domain postino-bounce:" > "$MTA/transport"
    postconf -c "$MTA" -e "relayhost = [127.0.0.1]:$inner" "transport_maps = texthash:$MTA/transport" \
        "maximal_queue_lifetime = 0" "postino-bounce_destination_recipient_limit = 1" \
        "delay_warning_time = 0" "queue_run_delay = 1s" "minimal_backoff_time = 1s" "maximal_backoff_time = 2s"
    mta_reload
    wait_port "$inner"
}
port_open() { bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
wait_port() { wait_for "something to listen on 127.0.0.1:$1" 10 port_open "$1"; }
bounce_reject() {
    local addr=$1
    shift
    echo "$addr $*" >> "$MTA/rcpt_access"
    mta_reload
}
bounce_accept() {
    sed -i "/^$1 /d" "$MTA/rcpt_access"
    mta_reload
}
bounce_count() { psql_q "SELECT count(*) FROM bounces"; }
