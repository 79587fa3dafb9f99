#!/bin/sh
# deps.sh - install what postino needs from Debian 12's packages, when missing.
#
# Idempotent and quick when everything is present (one dpkg-query). Needs
# root to install; as another user it only names what is missing.
# Postfix is installed with debconf set to "No configuration" so that
# nothing starts on its own: postino's scripts run their own instances.
set -eu

PKGS="build-essential pkg-config clang libclang-rt-14-dev
libpq-dev libssl-dev libuv1-dev libxml2-dev libcmocka-dev libjansson-dev libcsv-dev
libmicrohttpd-dev libinih-dev libcurl4-openssl-dev libidn2-dev libcrypt-dev libgmime-3.0-dev libcmark-dev libc-ares-dev
postgresql postgresql-contrib postfix sasl2-bin libsasl2-modules
python3 python3-dkim python3-nacl python3-psycopg2 python3-aiosmtpd curl openssl time lcov dovecot-imapd dovecot-pop3d
libsystemd-dev debhelper lintian man-db fakeroot
chromium chromium-driver python3-selenium firefox-esr python3-websocket
knot knot-dnsutils publicsuffix"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "deps: missing Debian packages:$missing" >&2
    echo "deps: run as root: apt-get install$missing" >&2
    exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
if echo "$missing" | grep -q postfix; then
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
fi
# The cluster Debian's postgresql package would create is not used: postino runs its own.
if [ ! -e /etc/postgresql-common/createcluster.conf ] || ! grep -q '^create_main_cluster = false' /etc/postgresql-common/createcluster.conf 2>/dev/null; then
    mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" >> /etc/postgresql-common/createcluster.conf
fi
apt-get update -q >/dev/null || true
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
echo "deps: done"
