#!/bin/bash
# test_deb - make deb: the package builds from debian/ (dpkg-buildpackage in a
# clean copy of the tree), lintian finds no error or warning, and it holds what
# it should. As root, with no postino package or /usr/bin/postino here, it is
# also installed: the postino user made, the configuration a conffile owned by
# root:postino mode 0640 and kept when edited across a reinstall, the units in
# place; then purged, leaving /etc as it was.
source "$(dirname "$0")/lib.sh"
DEB=""

check "make deb builds the package and lintian passes it"
make -s --no-print-directory -C "$ROOT" POSTINO_DEPS=1 deb >"$WORK/deb.out" 2>&1
rc=$?
out=$(cat "$WORK/deb.out") err=""
expect_rc 0
expect_out "deb.sh: lintian: no error or warning"
DEB=$(ls "$ROOT"/build/deb/postino_*_*.deb 2>/dev/null | grep -v dbgsym | head -1)
[ -n "$DEB" ] || fail "no .deb in build/deb"

check "dpkg-deb -c lists the binary, the man pages, the units, the configuration and nothing else"
got=$(dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ {print $1, $6}' | sort)
want=$(printf '%s\n' "-rw-r--r-- ./etc/postino/postino.conf" "-rw-r--r-- ./lib/systemd/system/postino-send@.service" \
    "-rw-r--r-- ./lib/systemd/system/postino.service" "-rwxr-xr-x ./usr/bin/postino" \
    "-rw-r--r-- ./usr/share/doc/postino/changelog.gz" "-rw-r--r-- ./usr/share/doc/postino/copyright" \
    "-rw-r--r-- ./usr/share/man/man1/postino.1.gz" "-rw-r--r-- ./usr/share/man/man5/postino.conf.5.gz" | sort)
[ "$got" = "$want" ] || fail "contents differ: $(diff <(echo "$want") <(echo "$got"))"
dpkg-deb -I "$DEB" conffiles | grep -qx /etc/postino/postino.conf || fail "the configuration is not a conffile"
dpkg-deb --fsys-tarfile "$DEB" | tar -xO ./lib/systemd/system/postino.service |
    grep -qx 'ExecStart=/usr/bin/postino --config /etc/postino/postino.conf serve' || fail "the unit's ExecStart"
for s in postinst postrm prerm; do dpkg-deb -I "$DEB" "$s" >/dev/null 2>&1 || fail "no $s"; done
dpkg-deb -I "$DEB" postinst | grep -q 'deb-systemd-helper' || fail "postinst does not enable the unit (dh_installsystemd)"

check "installed and purged on this machine (root, no postino installed here)"
if [ "$(id -u)" != 0 ] || dpkg-query -W postino >/dev/null 2>&1 || [ -e /usr/bin/postino ]; then
    echo "  not root, or postino is installed here: the package was NOT installed"
else
    had_user=no; id postino >/dev/null 2>&1 && had_user=yes
    etc_state() { { md5sum /etc/passwd /etc/group; find /etc/postino /etc/systemd -path '*postino*' 2>/dev/null | sort; } 2>/dev/null; }
    before=$(etc_state)
    purge() { dpkg --purge postino >/dev/null 2>&1; [ "$had_user" = no ] && id postino >/dev/null 2>&1 && userdel postino; getent group postino >/dev/null && [ "$had_user" = no ] && groupdel postino; }
    trap 'purge; cleanup' EXIT
    dpkg -i "$DEB" >"$WORK/dpkg.out" 2>&1 || fail "dpkg -i: $(tail -5 "$WORK/dpkg.out")"
    id postino >/dev/null 2>&1 || fail "no postino user"
    [ "$(stat -c '%a %U:%G' /etc/postino/postino.conf)" = "640 root:postino" ] ||
        fail "configuration: $(stat -c '%a %U:%G' /etc/postino/postino.conf)"
    [ "$(/usr/bin/postino --version)" = "postino 0.1" ] || fail "postino --version"
    [ -L /etc/systemd/system/multi-user.target.wants/postino.service ] || fail "postino.service not enabled"
    echo "# edited" >> /etc/postino/postino.conf
    dpkg -i "$DEB" >"$WORK/dpkg2.out" 2>&1 || fail "reinstall: $(tail -5 "$WORK/dpkg2.out")"
    tail -1 /etc/postino/postino.conf | grep -qx "# edited" || fail "the edited configuration was replaced"
    [ "$(stat -c '%a %U:%G' /etc/postino/postino.conf)" = "640 root:postino" ] || fail "mode after reinstall"
    purge
    trap cleanup EXIT
    [ ! -e /usr/bin/postino ] && [ ! -e /etc/postino ] || fail "left after purge: $(ls /usr/bin/postino /etc/postino 2>&1)"
    [ "$(etc_state)" = "$before" ] || fail "/etc changed: $(diff <(echo "$before") <(etc_state))"
fi

finish
