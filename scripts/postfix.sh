#!/bin/sh
# postfix.sh - a private Postfix submission server on loopback, for tests and the demo.
#
#   postfix.sh start DIR [--port N] [--sink-port N] [--user NAME] [--password PW]
#                        [--hostname NAME] [--listen ADDR]
#   postfix.sh stop DIR
#   postfix.sh status DIR
#   postfix.sh sink DIR PORT [--dump]
#
# start: a Postfix instance configured in DIR that behaves like an SMTP VPS's
# submission service: 127.0.0.1:PORT (default 10587; with --listen, ADDR:PORT too,
# for clients in other network namespaces) with STARTTLS (a self-signed
# certificate in DIR/tls, made once) and SASL AUTH PLAIN/LOGIN against a Cyrus
# sasldb (DIR/sasldb2; user "test", password "secret" unless told), AUTH only
# after STARTTLS, relaying only for authenticated clients. Every accepted message
# is relayed to an smtp-sink on 127.0.0.1:SINK_PORT (default 10025) that writes
# each one to its own file in DIR/sink. Postfix logs to DIR/postfix.log; its
# per-session summary ("ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1")
# shows what a client did. Idempotent: a second start rewrites the configuration
# and reloads. stop: stops Postfix and the sink(s) and removes DIR from
# alternate_config_directories. status: exit 0 when Postfix and its sink run.
# sink: a bare smtp-sink on 127.0.0.1:PORT in the background (benchmarks send
# straight to it; --dump also writes each message to DIR/sink); stopped by stop.
#
# Needs root (Postfix's master and smtp-sink drop privileges to "postfix") and the
# packages from scripts/deps.sh. Fails with a one-line reason on stderr, exit 1.
set -eu

die() { echo "postfix.sh: $*" >&2; exit 1; }
usage() { sed -n '3,8p' "$0" | sed 's/^# *//' >&2; exit 2; }

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
shift 2
case "$dir" in /*) ;; *) dir="$(pwd)/$dir" ;; esac
dir=${dir%/}

MAIN_CF=/etc/postfix/main.cf

# conf_dirs_edit add|del DIR - keep DIR listed in the system main.cf's
# alternate_config_directories, without which "postfix -c DIR" refuses to run.
conf_dirs_edit() {
    mkdir -p /etc/postfix
    (
        flock 9
        if [ ! -s "$MAIN_CF" ]; then
            cat >"$MAIN_CF" <<'EOF'
# Written by postino's scripts/postfix.sh: this machine's own Postfix is not
# configured ("No configuration"); private instances run with postfix -c DIR.
compatibility_level = 3.6
alternate_config_directories =
EOF
        fi
        cur=$(postconf -c /etc/postfix -h alternate_config_directories 2>/dev/null || true)
        new=""
        for d in $(echo "$cur" | tr ',' ' '); do
            [ "$d" = "$2" ] || new="$new $d"
        done
        [ "$1" = add ] && new="$new $2"
        new=$(echo "$new" | sed 's/^ *//')
        [ "$new" = "$cur" ] || postconf -c /etc/postfix -e "alternate_config_directories = $new"
    ) 9>/etc/postfix/.postino.lock
}

# pid_alive FILE - does the pid in FILE name a running process
pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# port_free PORT - is nothing listening on 127.0.0.1:PORT
port_free() { ! bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# wait_port PORT - wait up to 10 s for a listener on 127.0.0.1:PORT
wait_port() {
    i=0
    while [ $i -lt 100 ]; do
        if bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# sink_start PORT PIDFILE DUMP - smtp-sink on 127.0.0.1:PORT, in the background
sink_start() {
    if pid_alive "$2"; then
        return 0
    fi
    dump=""
    if [ "$3" = 1 ]; then
        mkdir -p "$dir/sink"
        chown postfix:postfix "$dir/sink"
        dump="-d $dir/sink/%Y%m%d%H%M%S."
    fi
    # shellcheck disable=SC2086
    nohup smtp-sink -u postfix -4 -m 1000 -t 300 $dump "127.0.0.1:$1" 1024 \
        >"$dir/sink-$1.out" 2>&1 </dev/null &
    echo $! >"$2"
    wait_port "$1" || { cat "$dir/sink-$1.out" >&2; die "smtp-sink did not listen on 127.0.0.1:$1"; }
}

write_config() {
    cat >"$dir/main.cf" <<EOF
# Private submission server written by postino's scripts/postfix.sh.
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = $HOSTNAME_
mydomain = $HOSTNAME_
myorigin = \$myhostname
mydestination =
local_recipient_maps =
local_transport = error:local delivery is disabled
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1${LISTEN:+, $LISTEN}
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$SINK_PORT
smtp_host_lookup = native
smtp_tls_security_level = none
smtp_sasl_auth_enable = no
maillog_file_prefixes = $dir
maillog_file = $dir/postfix.log
biff = no

# Submission: STARTTLS, then SASL AUTH; only authenticated clients may relay.
smtpd_banner = \$myhostname ESMTP Postfix (postino test)
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_tls_cert_file = $dir/tls/cert.pem
smtpd_tls_key_file = $dir/tls/key.pem
smtpd_tls_session_cache_database =
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $dir/sasl
smtpd_sasl_local_domain = $HOSTNAME_
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
broken_sasl_auth_clients = no
smtpd_client_restrictions =
smtpd_helo_restrictions =
smtpd_sender_restrictions =
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_client_recipient_rate_limit = 0
smtpd_client_auth_rate_limit = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
message_size_limit = 52428800

# Throughput: no pacing, many processes.
default_destination_rate_delay = 0
default_destination_concurrency_limit = 100
initial_destination_concurrency = 20
default_process_limit = 500
in_flow_delay = 0
qmgr_message_active_limit = 50000
qmgr_message_recipient_limit = 50000
always_add_missing_headers = no
EOF

    cat >"$dir/master.cf" <<EOF
# Private submission server written by postino's scripts/postfix.sh.
127.0.0.1:$PORT inet n - n - - smtpd
  -o syslog_name=postfix/submission
${LISTEN:+$LISTEN:$PORT inet n - n - - smtpd
  -o syslog_name=postfix/submission}
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
  -o syslog_name=postfix/relay
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF

    mkdir -p "$dir/sasl"
    cat >"$dir/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $dir/sasldb2
EOF
}

make_cert() {
    [ -s "$dir/tls/cert.pem" ] && [ -s "$dir/tls/key.pem" ] && return 0
    mkdir -p "$dir/tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$dir/tls/key.pem" -out "$dir/tls/cert.pem" -days 3650 \
        -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,DNS:$HOSTNAME_,IP:127.0.0.1" \
        >/dev/null 2>&1 || die "openssl could not make a certificate in $dir/tls"
    chmod 600 "$dir/tls/key.pem"
}

make_sasldb() {
    printf '%s' "$PASSWORD" | saslpasswd2 -f "$dir/sasldb2" -p -c -u "$HOSTNAME_" "$USER_" ||
        die "saslpasswd2 could not write $dir/sasldb2"
    # Postfix's smtpd runs as postfix and must read the database (and its lock file).
    for f in "$dir"/sasldb2*; do
        chown postfix:postfix "$f"
        chmod 640 "$f"
    done
}

# make_queue - the queue and data directories as Postfix's postfix-files lists
# them, made here because "postfix start"'s own checks take seconds.
make_queue() {
    (
        cd "$dir"
        mkdir -p queue/pid data queue/active queue/bounce queue/corrupt queue/defer \
            queue/deferred queue/flush queue/hold queue/incoming queue/private queue/saved \
            queue/trace queue/maildrop queue/public
        cd queue
        chmod 755 . pid
        chown postfix:root active bounce corrupt defer deferred flush hold incoming private saved trace
        chmod 700 active bounce corrupt defer deferred flush hold incoming private saved trace ../data
        chown postfix:postdrop maildrop public
        chown postfix:postfix ../data
        chmod 730 maildrop
        chmod 710 public
    )
}

running() { postfix -c "$dir" status >/dev/null 2>&1; }

do_start() {
    PORT=10587 SINK_PORT=10025 USER_=test PASSWORD=secret HOSTNAME_=postino.test LISTEN=
    while [ $# -gt 0 ]; do
        case "$1" in
        --port) PORT=$2; shift 2 ;;
        --sink-port) SINK_PORT=$2; shift 2 ;;
        --user) USER_=$2; shift 2 ;;
        --password) PASSWORD=$2; shift 2 ;;
        --hostname) HOSTNAME_=$2; shift 2 ;;
        --listen) LISTEN=$2; shift 2 ;;
        *) usage ;;
        esac
    done
    [ "$(id -u)" = 0 ] || die "must run as root (Postfix's master needs it)"
    command -v postfix >/dev/null || die "postfix is not installed: run sh scripts/deps.sh"
    command -v saslpasswd2 >/dev/null || die "saslpasswd2 is not installed: run sh scripts/deps.sh"

    mkdir -p "$dir/sink"
    chmod 755 "$dir"
    chown postfix:postfix "$dir/sink"
    if ! runuser -u postfix -- test -x "$dir" 2>/dev/null; then
        die "$dir is not reachable by the postfix user (a parent directory is not world-searchable)"
    fi
    # A sink left from a start with another port is replaced.
    if [ -f "$dir/postfix.env" ] && pid_alive "$dir/sink.pid" &&
        [ "$(sed -n 's/^SINK_PORT=//p' "$dir/postfix.env")" != "$SINK_PORT" ]; then
        kill "$(cat "$dir/sink.pid")" 2>/dev/null || true
        rm -f "$dir/sink.pid"
        sleep 0.2
    fi
    # Settings for status/stop (the password stays in DIR, mode 600).
    umask 077
    cat >"$dir/postfix.env" <<EOF
PORT=$PORT
SINK_PORT=$SINK_PORT
USER=$USER_
PASSWORD=$PASSWORD
HOSTNAME=$HOSTNAME_
EOF
    umask 022
    write_config
    make_queue
    make_cert
    make_sasldb
    conf_dirs_edit add "$dir"

    sink_start "$SINK_PORT" "$dir/sink.pid" 1
    touch "$dir/postfix.log"
    if running; then
        postfix -c "$dir" reload >/dev/null 2>&1 || die "postfix reload failed; see $dir/postfix.log"
    else
        port_free "$PORT" || die "127.0.0.1:$PORT is already in use"
        touch "$dir/queue/quick-start"
        postfix -c "$dir" start >"$dir/start.out" 2>&1 ||
            { cat "$dir/start.out" >&2; die "postfix start failed; see $dir/postfix.log"; }
    fi
    wait_port "$PORT" || die "Postfix did not listen on 127.0.0.1:$PORT; see $dir/postfix.log"
    echo "postfix: submission on 127.0.0.1:$PORT (STARTTLS, AUTH PLAIN LOGIN as $USER_), sink 127.0.0.1:$SINK_PORT -> $dir/sink, log $dir/postfix.log"
}

do_stop() {
    if [ -f "$dir/main.cf" ] && running; then
        postfix -c "$dir" stop >/dev/null 2>&1 || true
        # The master exits after its children; wait for it so the port is free.
        i=0
        while running && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    fi
    for p in "$dir"/sink*.pid; do
        [ -e "$p" ] || continue
        if pid_alive "$p"; then
            kill "$(cat "$p")" 2>/dev/null || true
        fi
        rm -f "$p"
    done
    [ -f "$dir/main.cf" ] && conf_dirs_edit del "$dir"
    return 0
}

do_status() {
    [ -f "$dir/postfix.env" ] || { echo "postfix: not set up in $dir"; exit 1; }
    . "$dir/postfix.env"
    rc=0
    if running; then
        echo "postfix: running, submission on 127.0.0.1:$PORT, log $dir/postfix.log"
    else
        echo "postfix: stopped"
        rc=1
    fi
    if pid_alive "$dir/sink.pid"; then
        echo "sink: running (pid $(cat "$dir/sink.pid")) on 127.0.0.1:$SINK_PORT, $(find "$dir/sink" -type f | wc -l) message(s) in $dir/sink"
    else
        echo "sink: stopped"
        rc=1
    fi
    exit $rc
}

do_sink() {
    [ $# -ge 1 ] || usage
    sport=$1
    dump=0
    [ "${2:-}" = "--dump" ] && dump=1
    [ "$(id -u)" = 0 ] || die "must run as root"
    mkdir -p "$dir"
    chmod 755 "$dir"
    pid_alive "$dir/sink-$sport.pid" || port_free "$sport" || die "127.0.0.1:$sport is already in use"
    sink_start "$sport" "$dir/sink-$sport.pid" "$dump"
    echo "sink: 127.0.0.1:$sport (pid $(cat "$dir/sink-$sport.pid"))"
}

case "$cmd" in
start) do_start "$@" ;;
stop) do_stop ;;
status) do_status ;;
sink) do_sink "$@" ;;
*) usage ;;
esac
