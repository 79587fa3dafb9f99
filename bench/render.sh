#!/bin/bash
# render.sh - messages rendered and signed per second, against OpenSSL's own RSA speed.
#
# N (default 100000) personalised ~10 KB HTML+text messages, each DKIM-signed
# rsa-sha256 with a 2048-bit key, on one thread; then the same with ed25519
# alone. The reference is `openssl speed -seconds 3 rsa2048` (sign/s, one
# core) run in this same script: the ratio says how much of the time is
# anything but the RSA operation (goal >= 0.9). Both count CPU time, not wall
# time (openssl speed's default), so other load on the machine cancels out.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-100000}
B="$ROOT/build/bench/bench_render"
make -C "$ROOT" --no-print-directory build/bench/bench_render >/dev/null

ref=$(openssl speed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}')
rsa=$("$B" "$N" rsa)
ed=$("$B" "$N" ed25519)
rsa_rate=$(printf '%s\n' "$rsa" | sed -n 's/.*: \([0-9]*\) messages\/s.*/\1/p')
echo "render rsa2048:  $rsa"
echo "render ed25519:  $ed"
echo "openssl speed rsa2048: $ref sign/s"
awk -v a="$rsa_rate" -v b="$ref" 'BEGIN { printf "render ratio rsa2048 postino/openssl: %.2f (goal >= 0.90)\n", a / b }'
