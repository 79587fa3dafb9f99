#!/bin/bash
# generate.sh - write the Postfix delivery-log fixtures in this directory from a
# real Postfix (scripts/postfix.sh) run on loopback.
#
#   bash tests/data/mta_log/generate.sh [WORKDIR]     (as root, in a network namespace)
#
# Routes test domains to receivers that accept, defer, refuse or are absent:
#   sink (example.org, the relayhost)   accepts: status=sent
#   tls.test      a second smtpd with STARTTLS (then on to the sink): sent over TLS
#   v6.test       an smtp-sink on [::1]: sent to an IPv6 relay
#   defer.test    an smtp-sink answering RCPT with 4xx: deferred with a relay
#   closed.test   a closed port: deferred, relay=none; later expired by qmgr
#   reject.test   an smtp-sink answering RCPT with 5xx: bounced with a relay
#   error.test    the error transport: bounced, relay=none, a reason with ( and )
#   retry.test    the retry transport: deferred, relay=none
#   alias.test    rewritten by virtual_alias_maps to example.org: orig_to=<...>
# Writes postlogd.log (Postfix's maillog_file as Postfix wrote it) and, from
# the same lines, syslog-3164.log and syslog-iso.log with the headers rsyslog
# writes (the traditional format, and Debian 12's default high-precision
# RFC 3339 format); the message part of every line is Postfix's own.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
D=${1:-$ROOT/build/mta_log_fixture}
PF="sh $ROOT/scripts/postfix.sh"
$PF stop "$D" >/dev/null 2>&1 || true
rm -rf "$D"
mkdir -p "$D"
chmod 755 "$D"
$PF start "$D" --port 11587 --sink-port 11025 >/dev/null
trap '$PF stop "$D" >/dev/null 2>&1 || true' EXIT
$PF sink "$D" 11026 >/dev/null
$PF sink "$D" 11027 >/dev/null
# the rejecting receivers: restart the two sinks with -r / -f
for p in 11026 11027; do kill "$(cat "$D/sink-$p.pid")"; done
sleep 0.5
nohup smtp-sink -u postfix -4 -r rcpt 127.0.0.1:11026 100 >"$D/sink-11026.out" 2>&1 </dev/null &
echo $! >"$D/sink-11026.pid"
nohup smtp-sink -u postfix -4 -f rcpt 127.0.0.1:11027 100 >"$D/sink-11027.out" 2>&1 </dev/null &
echo $! >"$D/sink-11027.pid"
nohup smtp-sink -u postfix -6 -h v6.sink [::1]:11028 100 >"$D/sink-11028.out" 2>&1 </dev/null &
echo $! >"$D/sink-11028.pid"

cat >"$D/transport" <<T
tls.test     smtp-tls:[127.0.0.1]:11029
v6.test      smtp:[::1]:11028
defer.test   smtp:[127.0.0.1]:11026
closed.test  smtp:[127.0.0.1]:9
reject.test  smtp:[127.0.0.1]:11027
error.test   error:5.1.1 mailbox unavailable (account disabled (by admin)) see <https://error.test/help?q=(x)>
retry.test   retry:4.4.1 the site is down for maintenance (back soon)
T
cat >"$D/virtual" <<T
old.name@alias.test   new.name@example.org
T
cat >>"$D/master.cf" <<T
127.0.0.1:11029 inet n - n - - smtpd
  -o syslog_name=postfix/tlsin
  -o smtpd_tls_security_level=may
  -o smtpd_tls_auth_only=no
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o content_filter=smtp:[127.0.0.1]:11025
smtp-tls unix - - n - - smtp
  -o smtp_tls_security_level=encrypt
  -o smtp_tls_loglevel=1
T
postconf -c "$D" -e inet_protocols=all "transport_maps=texthash:$D/transport" \
    "virtual_alias_maps=texthash:$D/virtual" enable_long_queue_ids=no
postfix -c "$D" stop >/dev/null 2>&1 || true
while postfix -c "$D" status >/dev/null 2>&1; do sleep 0.2; done
postfix -c "$D" start >/dev/null

send() {   # send FROM RCPT... : one message through sendmail (pickup)
    local from=$1
    shift
    printf 'From: %s\nSubject: fixture\n\nhello\n' "$from" | sendmail -C "$D" -f "$from" "$@"
}
logwait() {   # logwait REGEX COUNT: until the log has COUNT lines matching
    local i=0
    while [ "$(grep -cE "$1" "$D/postfix.log")" -lt "$2" ]; do
        i=$((i + 1))
        [ $i -lt 600 ] || { echo "generate.sh: no \"$1\" x$2 in the log" >&2; exit 1; }
        sleep 0.1
    done
}
send news@postino.test a1@example.org a2@example.org '"a b"@example.org' u@defer.test u@error.test
send news@postino.test u@tls.test
send news@postino.test u@v6.test
send news@postino.test u@closed.test
send news@postino.test u@reject.test
send news@postino.test old.name@alias.test u@retry.test
long=$(printf 'x%.0s' $(seq 1 400))
send news@postino.test "$long.long@example.org"
logwait 'status=sent' 6
logwait 'status=deferred' 3
logwait 'status=bounced' 2
# every deferred message expires: tiny lifetimes, then a flush
postconf -c "$D" -e maximal_queue_lifetime=1s bounce_queue_lifetime=1s
postfix -c "$D" reload >/dev/null
sleep 2
postqueue -c "$D" -f
logwait 'status=expired' 3
logwait 'postfix/bounce.*sender non-delivery notification' 4
sleep 1

cp "$D/postfix.log" "$HERE/postlogd.log"
# postlogd "Mmm dd hh:mm:ss host prog[pid]: msg" -> rsyslog's two file formats
sed -E 's/^([A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8})\.?[0-9]* /\1 /' "$HERE/postlogd.log" >"$HERE/syslog-3164.log"
year=$(date +%Y)
awk -v y="$year" 'BEGIN { split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", m, " "); for (i = 1; i <= 12; i++) n[m[i]] = i }
    { mon = n[$1]; day = $2; t = $3; sub(/\..*/, "", t); $1 = $2 = $3 = "";
      sub(/^ +/, "");
      printf "%s-%02d-%02dT%s.%06d+00:00 %s\n", y, mon, day, t, NR * 37 % 1000000, $0 }' \
    "$HERE/syslog-3164.log" >"$HERE/syslog-iso.log"
echo "wrote $(wc -l <"$HERE/postlogd.log") lines to $HERE"
