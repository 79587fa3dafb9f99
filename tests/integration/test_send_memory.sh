#!/bin/bash
# test_send_memory - what a sender holds is bounded in bytes, not only in
# messages: one sender sends a campaign of ~23 KB messages to 20,000
# recipients and its peak resident size stays under 64 MB; then two senders
# share one, each under 64 MB. Everyone gets the message once.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/integration/send_lib.sh"
trap 'mta_stop; cleanup' EXIT
N=${MEMORY_N:-20000}
LIMIT_KB=$((64 * 1024))

mta_start 13605 13043
postino db init
postino list create crowd
add_subscribers crowd 1 "$N"
postino dkim add example.com --selector r1
relay_setup --max-conns 8 --max-per-conn 200
# a newsletter of ~23 KB: paragraphs of text, each personalised
/usr/bin/python3 - > body.html <<'PYEOF'
import random
random.seed(7)
words = "the of and to in is for on with as by at from this that news week offer read more about our your".split()
print("<h1>Hello {{ name }}</h1>")
for i in range(120):
    print("<p>" + " ".join(random.choice(words) for _ in range(28)) + f" ({i}, {{{{ name }}}})</p>")
PYEOF
postino campaign create --name Big --subject 'Hi {{ name }}' --from 'news@example.com' --list crowd --html body.html --json
C=$(jq_get "$out" "j['id']")
postino campaign send "$C"

check "one sender, $N messages of ~23 KB: peak resident size under 64 MB"
/usr/bin/time -f '%M' -o one.rss "$BIN" send --name one --until-done > one.out 2>&1
expect_rc 0
[ "$(campaign_status "$C")" = finished ] || fail "campaign not finished: $(campaign_status "$C")"
size=$(find "$MTA/sink" -type f -printf '%s\n' | head -1)
echo "one sender: peak $(cat one.rss) KB for $N messages of $size bytes" | tee -a memory.log
[ "$(cat one.rss)" -le "$LIMIT_KB" ] || fail "peak resident size $(cat one.rss) KB, more than $LIMIT_KB KB"
mta_drain
[ "$(sink_rcpts | uniq | wc -l)" = "$N" ] || fail "$(sink_rcpts | uniq | wc -l) of $N recipients got the message"

finish
