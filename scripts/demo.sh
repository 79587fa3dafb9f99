#!/bin/bash
# demo.sh - postino's main job on the embedded defaults, from a fresh machine:
# a private PostgreSQL in ./var/pg, a private Postfix submission server
# (STARTTLS, password auth) relaying to smtp-sink in ./var/mta, a DKIM key,
# a list imported from CSV, a campaign sent through Postfix, its stats, and
# the delivered messages as .eml files; then postino serve with the web
# admin, and a login for it. Safe to run again: what exists is kept, and
# each run sends one more campaign.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
P="$ROOT/build/postino"
MTA="$ROOT/var/mta"
unset POSTINO_DB
export POSTINO_SEND_HELO_NAME=postino.demo

step() { printf '\n== %s\n' "$*"; }

step "database: the private PostgreSQL cluster in ./var/pg"
"$P" db init

step "the submission server: a private Postfix on 127.0.0.1:10587 (STARTTLS + AUTH), delivering to smtp-sink"
mkdir -p "$ROOT/var"
chmod 755 "$ROOT/var"
sh "$ROOT/scripts/postfix.sh" start "$MTA" --port 10587 --sink-port 10025 --password demo-secret
if ! "$P" relay ls --json | grep -q '"name": "local"'; then
    umask 077
    printf 'demo-secret\n' > "$ROOT/var/relay.pw"
    "$P" relay add local --host 127.0.0.1 --port 10587 --user test --password-file "$ROOT/var/relay.pw" \
        --ca-file "$MTA/tls/cert.pem"
fi
"$P" relay test local

step "a DKIM key for example.com, and the DNS records to publish"
"$P" dkim record example.com >/dev/null 2>&1 || "$P" dkim add example.com --selector demo
"$P" dns example.com --ip 192.0.2.25

step "a list, imported from CSV (one bad row is rejected and reported)"
"$P" list show newsletter >/dev/null 2>&1 || "$P" list create newsletter --description "The monthly newsletter"
"$P" import "$ROOT/scripts/demo-subscribers.csv" --list newsletter --rejects "$ROOT/var/rejects.csv"
echo "rejected rows: $(tail -n +2 "$ROOT/var/rejects.csv" 2>/dev/null | wc -l) (see var/rejects.csv)"
"$P" subscriber ls --list newsletter

step "a campaign in the default newsletter template, sent"
id=$("$P" campaign create --name "Demo $(date -u '+%Y-%m-%d %H:%M:%S')" --subject 'New blends for {{ name }}' \
        --from 'Example Coffee <news@example.com>' --list newsletter --template newsletter \
        --html "$ROOT/scripts/demo-campaign.html" --json | sed -n 's/^  "id": \([0-9]*\),/\1/p')
"$P" campaign send "$id"
"$P" send --until-done

step "the campaign's stats"
"$P" campaign stats "$id"

step "what was delivered"
echo "Postfix accepted each message over STARTTLS with AUTH (its log: $MTA/postfix.log):"
grep 'disconnect from.* data=' "$MTA/postfix.log" | tail -1 | sed 's/.*disconnect from /  /'
echo "smtp-sink wrote every delivered message as a file in $MTA/sink/"
ls -t "$MTA/sink" | head -5 | sed 's/^/  /'
one=$(grep -l '^X-Rcpt-Args: <alice@example.com>' "$MTA"/sink/* | xargs ls -t | head -1)
echo
echo "one of them, $one:"
echo "----------------------------------------------------------------------"
cat "$one"
echo "----------------------------------------------------------------------"
step "the web admin: postino serve (API, scheduler, a sender) on http://127.0.0.1:8080"
if ! "$P" user ls --json | grep -q '"email": "admin@example.com"'; then
    umask 077
    head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$ROOT/var/admin.pw"
    "$P" user add admin@example.com --role admin < "$ROOT/var/admin.pw" >/dev/null
fi
if [ -f "$ROOT/var/serve.pid" ] && kill -0 "$(cat "$ROOT/var/serve.pid")" 2>/dev/null; then
    echo "postino serve is already running (pid $(cat "$ROOT/var/serve.pid"))"
else
    setsid "$P" serve --listen 127.0.0.1:8080 > "$ROOT/var/serve.log" 2>&1 < /dev/null &
    echo $! > "$ROOT/var/serve.pid"
    for _ in $(seq 1 300); do
        curl -s -o /dev/null "http://127.0.0.1:8080/healthz" && break
        kill -0 "$(cat "$ROOT/var/serve.pid")" 2>/dev/null || { cat "$ROOT/var/serve.log"; exit 1; }
        sleep 0.1
    done
fi
cat <<EOT

Open the web admin:  http://127.0.0.1:8080/admin/
  email:     admin@example.com
  password:  $(cat "$ROOT/var/admin.pw")   (kept in var/admin.pw)

PostgreSQL keeps running in ./var/pg, Postfix in ./var/mta and postino serve
(its log: var/serve.log): 'make stop' stops them all (their data stay;
'make demo' starts them again).
EOT
