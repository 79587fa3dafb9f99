# cluster_lib.sh - sender hosts in network namespaces of their own, and a
# PostgreSQL they reach over TCP with TLS and a password (sourced after lib.sh).
#   net_up                a bridge here with SRV (198.18.K.1/24, K free on this host)
#                         and two namespaces NSA, NSB (ADDR_A, ADDR_B) joined to it by
#                         veth pairs whose ends here are VA, VB; names unique to this run
#   net_down              remove them (what runs in the namespaces is killed first)
#                         (net_up first removes what runs of this test that are gone left)
#   db_tls_up PORT        the private cluster restarted on SRV:PORT (and its socket) with
#                         ssl=on (a server certificate for SRV from a test CA in
#                         $WORK/tls/ca.pem; other-ca.pem: a CA that did not sign it),
#                         hostssl scram-sha-256 for the bridge's network, the role
#                         postino given the password DB_PW (in $WORK/db.pw), and TCP
#                         keepalives that drop a silent client within seconds
#   sender_conf           a postino.conf reaching that server as a sender on another host does
#   ns_postino NS ARGS... as lib.sh's postino, run in namespace NS
#   ledger_sent_ids C     the ids of campaign C's sent deliveries, one a line (all of them)
#   sink_report Q P F IDS the sink's messages against the ledger's sent ids (file IDS):
#                         one line each of what was found; exit 1 naming what is wrong
#                         (see the function)

net_up() {
    local k=$(($$ % 250 + 1)) tries=0
    # a /24 no interface here uses yet (another run of this test may hold one)
    while ip -o -4 addr show | grep -q " inet 198\.18\.$k\."; do
        k=$((k % 250 + 1)) tries=$((tries + 1))
        [ "$tries" -lt 250 ] || { echo "FAIL [$TEST_NAME] no free 198.18.K.0/24"; exit 1; }
    done
    NET=198.18.$k SRV=198.18.$k.1 ADDR_A=198.18.$k.2 ADDR_B=198.18.$k.3
    net_sweep
    BR=pcbr$$ VA=pcva$$ VB=pcvb$$ NSA=postino-a-$$ NSB=postino-b-$$
    net_down
    ip link add "$BR" type bridge && ip addr add "$SRV/24" dev "$BR" && ip link set "$BR" up ||
        { echo "FAIL [$TEST_NAME] cannot make bridge $BR"; exit 1; }
    net_join "$NSA" "$VA" "$ADDR_A"
    net_join "$NSB" "$VB" "$ADDR_B"
}
net_sweep() {   # the namespaces and bridges of runs killed before their cleanup (their process is gone)
    local ns pid br
    for ns in $(ip netns list 2>/dev/null | grep -o '^postino-[ab]-[0-9]*'); do
        pid=${ns##*-}
        kill -0 "$pid" 2>/dev/null || ip netns del "$ns" 2>/dev/null
    done
    for br in $(ip -o link show type bridge 2>/dev/null | grep -o ' pcbr[0-9]*:' | tr -d ' :'); do
        kill -0 "${br#pcbr}" 2>/dev/null || ip link del "$br" 2>/dev/null
    done
    return 0
}
net_join() {   # net_join NS VETH ADDR
    ip netns add "$1" && ip link add "$2" type veth peer name eth0 netns "$1" &&
        ip link set "$2" master "$BR" up && ip netns exec "$1" ip link set lo up &&
        ip netns exec "$1" ip addr add "$3/24" dev eth0 && ip netns exec "$1" ip link set eth0 up ||
        { echo "FAIL [$TEST_NAME] cannot make namespace $1"; exit 1; }
}
net_down() {
    [ -n "${BR:-}" ] || return 0
    local ns p
    for ns in "$NSA" "$NSB"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
    ip link del "$VA" 2>/dev/null
    ip link del "$VB" 2>/dev/null
    ip link del "$BR" 2>/dev/null
    return 0
}

tls_make() {
    local d=$WORK/tls
    mkdir -p "$d"
    (
        cd "$d" || exit 1
        for ca in ca other-ca; do
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$ca.key" \
                -out "$ca.pem" -days 2 -subj "/CN=postino test $ca" || exit 1
        done
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr \
            -subj "/CN=$SRV" &&
            printf 'subjectAltName=IP:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$SRV" > ext &&
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext \
                -out server.crt
    ) > "$d/openssl.log" 2>&1 || { echo "FAIL [$TEST_NAME] openssl: $(tail -2 "$d/openssl.log")"; exit 1; }
}

db_tls_up() {
    local data=$WORK/var/pg/data bindir owner
    bindir=/usr/lib/postgresql/$(cat "$data/PG_VERSION")/bin
    owner=$(stat -c %U "$data")
    tls_make
    DB_PW=$(openssl rand -hex 16)
    (umask 077 && printf '%s\n' "$DB_PW" > "$WORK/db.pw")
    # the password on psql's standard input, not its command line
    printf "SET password_encryption = 'scram-sha-256';\nALTER ROLE postino PASSWORD '%s';\n" "$DB_PW" |
        "$bindir/psql" -X -q -h "$WORK/var/pg/run" -U postino -d postino >/dev/null ||
        { echo "FAIL [$TEST_NAME] cannot set the role's password"; exit 1; }
    "$BIN" db stop >/dev/null
    install -o "$owner" -m 600 "$WORK/tls/server.key" "$data/server.key"
    install -o "$owner" -m 644 "$WORK/tls/server.crt" "$data/server.crt"
    # first: the bridge's network only over TLS with a scram-sha-256 password (in place, keeping the file's owner)
    { echo "hostssl postino postino $NET.0/24 scram-sha-256"; cat "$data/pg_hba.conf"; } > "$WORK/pg_hba.new"
    cat "$WORK/pg_hba.new" > "$data/pg_hba.conf"
    PGPORT=$1
    export PGPORT
    local opts="-c listen_addresses='$SRV' -k $WORK/var/pg/run -p $PGPORT -c ssl=on"
    opts+=" -c ssl_cert_file=server.crt -c ssl_key_file=server.key -c password_encryption=scram-sha-256"
    opts+=" -c tcp_keepalives_idle=2 -c tcp_keepalives_interval=1 -c tcp_keepalives_count=3 -c tcp_user_timeout=5000"
    local run=()
    [ "$owner" = "$(id -un)" ] || run=(runuser -u "$owner" --)
    "${run[@]}" "$bindir/pg_ctl" start -w -t 60 -s -D "$data" -l "$WORK/var/pg/log/postgresql.log" -o "$opts" ||
        { echo "FAIL [$TEST_NAME] PostgreSQL did not start on $SRV:$PGPORT: $(tail -3 "$WORK/var/pg/log/postgresql.log")"; exit 1; }
}

sender_conf() {
    cat <<EOF
[db]
url = host=$SRV port=$PGPORT dbname=postino user=postino sslmode=verify-full sslrootcert=$WORK/tls/ca.pem
password_file = $WORK/db.pw
EOF
}

ledger_sent_ids() {   # psql_q keeps 100,000 characters: 20,000 ids need more
    /usr/lib/postgresql/*/bin/psql -X -q -A -t -h "$WORK/var/pg/run" -U postino -d postino \
        -c "SELECT id FROM deliveries WHERE campaign_id = $1 AND state = 'sent' ORDER BY id"
}

ns_postino() {   # lib.sh's postino, its program run through ip netns exec
    local ns=$1 bin=$BIN
    shift
    BIN=ip
    postino netns exec "$ns" "$bin" "$@"
    BIN=$bin
}

# sink_report Q P F IDS - what the sink received ($MTA/sink, one file a message), checked:
#  - its deliveries (X-Postino-Delivery's id) are exactly the ledger's sent ones (IDS, one a line):
#    none lost, none the ledger does not know;
#  - duplicates (a delivery received more than once) number at most F (what the cut sender held);
#  - both senders' addresses (ADDR_A, ADDR_B, in the submission server's Received line) sent some;
#  - the relay's quota of Q recipients per P seconds, counted as the relay counts it (a counter
#    that every message raises by one and that decays by Q every P seconds) at the time the
#    submission server stamped on each message, never goes above Q, give or take what a second
#    (the stamp's resolution) lets decay, the two senders' unspent slices of the budget and
#    the F messages the cut sender may have handed over only when its link came back.
sink_report() {
    /usr/bin/python3 - "$MTA/sink" "$1" "$2" "$3" "$4" "$ADDR_A" "$ADDR_B" <<'EOF'
import collections, email.parser, email.utils, os, re, sys
sink, Q, P, F, idsfile, addr_a, addr_b = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6], sys.argv[7]
parser = email.parser.BytesHeaderParser()
count = collections.Counter()
by_addr = collections.Counter()
stamps = []
bad = []
for name in os.listdir(sink):
    with open(os.path.join(sink, name), 'rb') as f:
        h = parser.parse(f)
    d = h.get('X-Postino-Delivery')
    if not d:
        bad.append(name)
        continue
    count[int(str(d).strip().split('.')[0])] += 1
    for r in h.get_all('Received') or []:
        r = ' '.join(str(r).split())
        if '(Postfix) with ESMTPSA' in r:
            m = re.search(r'\[([0-9.]+)\]', r)
            by_addr[m.group(1) if m else '?'] += 1
            stamps.append(email.utils.parsedate_to_datetime(r.rsplit(';', 1)[1].split('(')[0].strip()).timestamp())
            break
ledger = set(int(x) for x in open(idsfile).read().split())
total, distinct = sum(count.values()), len(count)
fails = []
print(f"sink: {total} messages, {distinct} deliveries, {total - distinct} duplicates (at most {F} in flight at the cut)")
print(f"by sender: alpha ({addr_a}) {by_addr[addr_a]}, beta ({addr_b}) {by_addr[addr_b]}")
if bad:
    fails.append(f"{len(bad)} messages without X-Postino-Delivery")
if set(count) != ledger:
    fails.append(f"{len(ledger - set(count))} sent in the ledger never reached the sink, "
                 f"{len(set(count) - ledger)} reached it the ledger does not count as sent")
if total - distinct > F:
    fails.append(f"{total - distinct} duplicates, more than the {F} in flight at the cut")
if by_addr[addr_a] == 0 or by_addr[addr_b] == 0:
    fails.append(f"not both senders sent: {dict(by_addr)}")
if len(stamps) != total:
    fails.append(f"{total - len(stamps)} messages without the submission server's Received line")
stamps.sort()
u, last, most = 0.0, None, 0.0
for t in stamps:
    if last is not None:
        u = max(0.0, u - Q * (t - last) / P)
    u += 1
    last = t
    most = max(most, u)
window, j = 0, 0
for i, t in enumerate(stamps):   # the most stamped in any P seconds, for the record
    while j < len(stamps) and stamps[j] < t + P:
        j += 1
    window = max(window, j - i)
slices = 2 * max(1, min(100, Q // 50))
allowed = Q + Q / P + slices + F
print(f"quota {Q} per {P:g} s: the relay's counter at most {most:.0f} (allowed {allowed:.0f}: {Q} + {Q / P:.0f} a second's decay"
      f" + {slices} in the senders' slices + {F} in flight at the cut)"
      f"; at most {window} stamped in any {P:g} s")
if most > allowed:
    fails.append(f"the quota did not hold: the relay's counter reached {most:.0f}, above {allowed:.0f}")
for f in fails:
    print("FAIL: " + f)
sys.exit(1 if fails else 0)
EOF
}
