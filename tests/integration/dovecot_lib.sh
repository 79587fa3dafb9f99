# dovecot_lib.sh - a private Dovecot (Debian's dovecot-imapd and dovecot-pop3d)
# for the bounce mailbox tests (sourced after lib.sh). It runs from its own
# configuration under $WORK/dovecot (never /etc/dovecot), listens on loopback
# only, and is stopped by dovecot_stop (put it in the test's trap).
#   dovecot_start IMAP IMAPS POP3S   ports: IMAP with STARTTLS, implicit TLS, POP3 over TLS
#       on 127.0.0.1, and on 127.0.0.2 as a server without IDLE;
#       a CA and a certificate for both made with openssl ($DOVECOT/ca.pem
#       verifies it), one user "bounces" with password $DOVECOT_PASSWORD
#       (passwd-file), mail in $MAILDIR (owned by nobody, as the mail user)
#   dovecot_stop                 stop it (the master and every process it started)
#   maildir_put FILE...          deliver each FILE to the INBOX (Maildir new/)
#   maildir_count [FOLDER]       messages in the INBOX (or in FOLDER, e.g. Processed)
DOVECOT="$WORK/dovecot"
MAILDIR="$DOVECOT/home/bounces/Maildir"
DOVECOT_PASSWORD="s3cret-$$-pass"

dovecot_start() {
    local imap=$1 imaps=$2 pop3s=$3
    mkdir -p "$DOVECOT/run" "$DOVECOT/state" "$MAILDIR"/{new,cur,tmp}
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=postino test CA" \
        -keyout "$DOVECOT/ca.key" -out "$DOVECOT/ca.pem" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$DOVECOT/key.pem" \
        -out "$DOVECOT/cert.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,IP:127.0.0.2\nbasicConstraints=CA:FALSE\n' > "$DOVECOT/ext.cnf"
    openssl x509 -req -in "$DOVECOT/cert.csr" -CA "$DOVECOT/ca.pem" -CAkey "$DOVECOT/ca.key" -CAcreateserial \
        -days 2 -extfile "$DOVECOT/ext.cnf" -out "$DOVECOT/cert.pem" 2>/dev/null
    echo "bounces:{PLAIN}$DOVECOT_PASSWORD" > "$DOVECOT/passwd"
    chown -R nobody:nogroup "$DOVECOT/home"
    cat > "$DOVECOT/dovecot.conf" <<EOF
base_dir = $DOVECOT/run
state_dir = $DOVECOT/state
instance_name = postino-test-$$
log_path = $DOVECOT/dovecot.log
protocols = imap pop3
listen = 127.0.0.1, 127.0.0.2
ssl = required
ssl_cert = <$DOVECOT/cert.pem
ssl_key = <$DOVECOT/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = 1
mail_location = maildir:$MAILDIR
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DOVECOT/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$DOVECOT/home/%u
}
service imap-login {
  inet_listener imap {
    port = $imap
  }
  inet_listener imaps {
    port = $imaps
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = $pop3s
    ssl = yes
  }
}
service anvil {
  chroot =
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
protocol imap {
  imap_idle_notify_interval = 1 mins
}
# on 127.0.0.2 the server offers no IDLE: the client reads it every interval
local 127.0.0.2 {
  protocol imap {
    imap_capability = IMAP4rev1 SASL-IR LITERAL+ ID ENABLE MOVE UIDPLUS
  }
}
mailbox_idle_check_interval = 1 secs
EOF
    dovecot -c "$DOVECOT/dovecot.conf" || { echo "FAIL [$TEST_NAME] cannot start Dovecot"; cat "$DOVECOT/dovecot.log"; exit 1; }
    for p in "$imap" "$imaps" "$pop3s"; do
        wait_for "Dovecot on 127.0.0.1:$p" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$p" 2>/dev/null
    done
}
dovecot_stop() {
    local pid
    [ -f "$DOVECOT/run/master.pid" ] || return 0
    pid=$(cat "$DOVECOT/run/master.pid")
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$DOVECOT/run/master.pid"
}
MAILDIR_SEQ=0
maildir_put() {
    local f name
    for f in "$@"; do
        MAILDIR_SEQ=$((MAILDIR_SEQ + 1))
        name="$(date +%s).M${MAILDIR_SEQ}P$$.postino-test"
        cp "$f" "$MAILDIR/tmp/$name"
        chown nobody:nogroup "$MAILDIR/tmp/$name"
        mv "$MAILDIR/tmp/$name" "$MAILDIR/new/$name"
    done
}
maildir_count() {
    local d="$MAILDIR"
    [ -n "${1:-}" ] && d="$MAILDIR/.$1"
    find "$d/new" "$d/cur" -type f 2>/dev/null | wc -l
}
