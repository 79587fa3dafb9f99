# api_lib.sh - what the API's integration tests share (sourced after lib.sh):
#   api_setup PORT      API=http://127.0.0.1:PORT, SERVER (a serve to stop), the EXIT trap
#   api_admin           an admin user (admin@example.com) and its token in ADMIN
#   api_wait            wait until the server on PORT answers /healthz (fails after 30 s times the patience)
#   api_stop            stop SERVER (SIGTERM, then wait), the MTA when send_lib.sh is in, the cluster
#   req METHOD PATH [BODY|@FILE] [TOKEN] [CONTENT-TYPE] [HEADER]
#                       sets $code, $body and $headers (names as sent); TOKEN defaults to $ADMIN;
#                       each answer is kept in $WORK/answers.log; sent from $REQ_FROM when set
#                       (a loopback address such as 127.0.0.2), to $REQ_API instead of $API when set
#   expect_code STATUS  expect_json PYEXPR VALUE (the answer as j)
#   expect_error STATUS CODE [FIELD]   the error envelope, naming FIELD, nothing internal in it
#   mktoken KIND A B    a link token signed with $KEY (the token_key setting, hex), as engine/mail/token.c

api_setup() {
    PORT=$1
    API="http://127.0.0.1:$PORT"
    SERVER=""
    trap api_stop EXIT
}

api_admin() {
    printf 'admin-pass-1\n' > "$WORK/admin.pw"
    postino_in "$WORK/admin.pw" user add admin@example.com --role admin
    expect_rc 0
    postino token create --user admin@example.com --json
    ADMIN=$(jq_get "$out" "j['token']")
}

api_up() { curl -s -o /dev/null "$API/healthz"; }
api_wait() { wait_for "the API to answer on $API" 30 api_up; }

api_stop() {
    if [ -n "$SERVER" ]; then
        kill -TERM "$SERVER" 2>/dev/null
        wait "$SERVER" 2>/dev/null
        SERVER=""
    fi
    declare -F mta_stop >/dev/null && mta_stop
    cleanup
}

req() {
    local m=$1 p=$2 b=${3-} t=${4-$ADMIN} ct=${5-application/json} h=${6-}
    local args=(-s -o "$WORK/resp" -D "$WORK/resp.headers" -w '%{http_code}' -X "$m" --max-time 60)
    [ -n "$t" ] && args+=(-H "Authorization: Bearer $t")
    [ -n "$h" ] && args+=(-H "$h")
    [ -n "${REQ_FROM-}" ] && args+=(--interface "$REQ_FROM")
    if [ -n "$b" ]; then
        [ -n "$ct" ] && args+=(-H "Content-Type: $ct")
        args+=(--data-binary "$b")
    fi
    code=$(curl "${args[@]}" "${REQ_API:-$API}$p")
    body=$(cat "$WORK/resp")
    headers=$(tr -d '\r' < "$WORK/resp.headers")
    out=$body err=""
    printf '%s\n' "$body" >> "$WORK/answers.log"
}

expect_code() { [ "$code" = "$1" ] || fail "HTTP $code, expected $1: $(printf '%s' "$body" | head -c 300)"; }

expect_json() {
    local v
    v=$(jq_get "$body" "$1" 2>&1)
    [ "$v" = "$2" ] || fail "$1 is '$v', expected '$2'"
}

expect_error() {
    expect_code "$1"
    expect_json "j['error']['code']" "$2"
    [ -n "${3-}" ] && expect_json "j['error'].get('field')" "$3"
    expect_json "sorted(j) == ['error'] and isinstance(j['error']['message'], str) and len(j['error']['message']) > 0" True
    case "$body" in *SQL*|*postgres*|*syntax*|*relation*|*\$1*|*violates*) fail "internals in the message: $body" ;; esac
}

mktoken() {
    /usr/bin/python3 - "$KEY" "$1" "$2" "$3" <<'PY'
import hmac, hashlib, sys
key = bytes.fromhex(sys.argv[1])
def varint(v):
    out = bytearray()
    while True:
        c = v & 0x7f; v >>= 7
        out.append(c | (0x80 if v else 0))
        if not v: return bytes(out)
raw = sys.argv[2].encode() + varint(int(sys.argv[3])) + varint(int(sys.argv[4]))
raw += hmac.new(key, raw, hashlib.sha256).digest()[:10]
b32 = "abcdefghijklmnopqrstuvwxyz234567"
acc = bits = 0; s = ""
for b in raw:
    acc = (acc << 8) | b; bits += 8
    while bits >= 5:
        bits -= 5; s += b32[(acc >> bits) & 31]
if bits: s += b32[(acc << (5 - bits)) & 31]
print(s)
PY
}
