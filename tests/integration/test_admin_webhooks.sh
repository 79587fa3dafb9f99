#!/bin/bash
# test_admin_webhooks - the web admin's Webhooks screen in headless Chromium
# (admin_webhooks.py) over postino serve and its webhook worker, delivering
# to a local receiver that verifies every signature: add (the secret shown
# once), a host that does not resolve refused, test, the delivery log, replay, disable
# and enable, an endpoint disabled by the server after failing with its
# reason, remove. The made secret is in no log.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/api_lib.sh"
api_setup 18391
SHOTS="$ROOT/build/screens"
PY=/usr/bin/python3
RPORT=18902
RECV=""
stop_all() {
    [ -n "$RECV" ] && kill "$RECV" 2>/dev/null && wait "$RECV" 2>/dev/null
    api_stop
}
trap stop_all EXIT

check "setup: a database, an admin, a receiver, serve with its webhook worker"
postino db init
expect_rc 0
api_admin
mkdir -p "$SHOTS"
: > secret
$PY "$ROOT/tests/integration/webhook_receiver.py" --port $RPORT --secret-file secret --log recv.log >recv.err 2>&1 &
RECV=$!
recv_up() { (exec 3<>"/dev/tcp/127.0.0.1/$RPORT") 2>/dev/null; }
wait_for "the receiver to listen" 10 recv_up
# the receiver is on loopback: private destinations are allowed here (their refusal is test_webhooks')
POSTINO_WEBHOOKS_ALLOW_PRIVATE=true POSTINO_WEBHOOKS_BACKOFF=1 POSTINO_WEBHOOKS_DISABLE_AFTER_FAILURES=3 \
    "$BIN" serve --no-send --listen "127.0.0.1:$PORT" >serve.log 2>&1 &
SERVER=$!
api_wait

check "the Webhooks screen in Chromium"
POSTINO_WEBHOOKS_ALLOW_PRIVATE=true BIN="$BIN" WORK="$WORK" $PY "$ROOT/tests/integration/admin_webhooks.py" "$API" "$SHOTS" "$RPORT" > browser.log 2>&1 ||
    fail "the browser run failed: $(tail -30 browser.log)"
grep -q "^ok [0-9]* steps" browser.log || fail "no end line: $(tail -5 browser.log)"

check "no secret in the server's log"
S=$(tr -d '\n' < secret)
[ -n "$S" ] || fail "no secret was made"
grep -qF "$S" serve.log && fail "the made secret in serve.log"

finish
