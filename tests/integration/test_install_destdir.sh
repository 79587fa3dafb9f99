#!/bin/bash
# test_install_destdir - make install / make uninstall into a DESTDIR under the
# test's directory: no file outside it is touched, nothing needs root.
# Checks the files and their modes, the units' paths, that a second install
# keeps an edited configuration, that each man page renders without a
# warning, and systemd-analyze verify on the units (where the command exists).
source "$(dirname "$0")/lib.sh"

STAGE="$WORK/stage"
mk() { make -s --no-print-directory -C "$ROOT" POSTINO_DEPS=1 "$@" >"$WORK/make.out" 2>&1; rc=$?; out=$(cat "$WORK/make.out"); err=""; }
mode_of() { stat -c %a "$1" 2>/dev/null; }

check "make install into a DESTDIR"
mk install DESTDIR="$STAGE"
expect_rc 0
expect_out "installed the example configuration $STAGE/etc/postino/postino.conf"
for f in usr/local/bin/postino:755 usr/local/share/man/man1/postino.1.gz:644 \
         usr/local/share/man/man5/postino.conf.5.gz:644 usr/local/lib/systemd/system/postino.service:644 \
         usr/local/lib/systemd/system/postino-send@.service:644 etc/postino/postino.conf:640; do
    [ "$(mode_of "$STAGE/${f%%:*}")" = "${f##*:}" ] || fail "$f: mode $(mode_of "$STAGE/${f%%:*}"), expected ${f##*:}"
done
n=$(cd "$STAGE" && find . -type f | wc -l)
[ "$n" -eq 6 ] || fail "$n files installed, expected 6: $(cd "$STAGE" && find . -type f)"

check "the configuration belongs to root:postino when that group exists and root installs"
owner=$(stat -c %U:%G "$STAGE/etc/postino/postino.conf")
if [ "$(id -u)" = 0 ] && getent group postino >/dev/null; then
    [ "$owner" = root:postino ] || fail "owner $owner, expected root:postino"
else
    [ "$owner" = "$(id -un):$(id -gn)" ] || fail "owner $owner, expected the installer's $(id -un):$(id -gn)"
    echo "  (no postino group here or not root: the configuration stays the installer's, $owner)"
fi

check "the units run the installed binary with the installed configuration, as postino"
u="$STAGE/usr/local/lib/systemd/system"
grep -qx 'ExecStart=/usr/local/bin/postino --config /etc/postino/postino.conf serve' "$u/postino.service" ||
    fail "postino.service: $(grep ExecStart "$u/postino.service")"
grep -qx 'ExecStart=/usr/local/bin/postino --config /etc/postino/postino.conf send' "$u/postino-send@.service" ||
    fail "postino-send@.service: $(grep ExecStart "$u/postino-send@.service")"
for k in Type=notify User=postino NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes \
         'ExecReload=/bin/kill -HUP $MAINPID' StateDirectory=postino; do
    grep -qxF "$k" "$u/postino.service" || fail "postino.service lacks $k"
    grep -qxF "$k" "$u/postino-send@.service" || fail "postino-send@.service lacks $k"
done
grep -q '@' <(grep -v '^#' "$u/postino.service" | grep -v 'postino-send@') && fail "an unreplaced @VARIABLE@ in postino.service"

check "a second install keeps an edited configuration"
echo "# edited by the operator" >> "$STAGE/etc/postino/postino.conf"
cp "$STAGE/etc/postino/postino.conf" "$WORK/conf.edited"
mk install DESTDIR="$STAGE"
expect_rc 0
expect_out "kept the existing $STAGE/etc/postino/postino.conf"
cmp -s "$STAGE/etc/postino/postino.conf" "$WORK/conf.edited" || fail "the configuration changed"

check "each man page renders, without a warning"
for page in "$STAGE"/usr/local/share/man/man1/postino.1.gz "$STAGE"/usr/local/share/man/man5/postino.conf.5.gz; do
    text=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" 2>"$WORK/man.err")
    [ -s "$WORK/man.err" ] && fail "$(basename "$page"): $(cat "$WORK/man.err")"
    case "$text" in *NAME*SYNOPSIS*DESCRIPTION*) ;; *) fail "$(basename "$page") did not render: $(echo "$text" | head -3)" ;; esac
done

check "systemd-analyze verify accepts both units"
if command -v systemd-analyze >/dev/null; then
    # The units name /usr/local/bin/postino, which is in the DESTDIR: verify copies
    # whose ExecStart points at the staged binary (verify checks it is executable),
    # with MANPATH on the staged pages (it checks Documentation=man:... resolves).
    mkdir -p "$WORK/verify"
    for f in postino.service postino-send@.service; do
        sed "s#^ExecStart=/usr/local/bin/postino#ExecStart=$STAGE/usr/local/bin/postino#" "$u/$f" >"$WORK/verify/$f"
    done
    (cd "$WORK/verify" && MANPATH="$STAGE/usr/local/share/man" systemd-analyze verify ./postino.service ./postino-send@2.service) >"$WORK/verify.out" 2>&1
    vrc=$?
    [ "$vrc" -eq 0 ] || fail "systemd-analyze verify exited $vrc: $(cat "$WORK/verify.out")"
    if [ -s "$WORK/verify.out" ]; then
        fail "systemd-analyze verify said: $(cat "$WORK/verify.out")"
    else
        echo "  systemd-analyze verify: both units accepted (ExecStart pointed into the DESTDIR)"
    fi
else
    echo "  systemd-analyze is not installed here: the units were NOT verified"
fi

check "PREFIX, SYSCONFDIR and UNITDIR choose the paths"
mk install DESTDIR="$WORK/stage2" PREFIX=/opt/postino SYSCONFDIR=/etc/opt UNITDIR=/lib/systemd/system
expect_rc 0
grep -qx 'ExecStart=/opt/postino/bin/postino --config /etc/opt/postino/postino.conf serve' \
    "$WORK/stage2/lib/systemd/system/postino.service" || fail "ExecStart: $(grep ExecStart "$WORK/stage2/lib/systemd/system/postino.service")"
[ -x "$WORK/stage2/opt/postino/bin/postino" ] || fail "no /opt/postino/bin/postino"

check "make uninstall removes what install put and keeps the edited configuration"
mk uninstall DESTDIR="$STAGE"
expect_rc 0
expect_out "kept $STAGE/etc/postino/postino.conf"
left=$(cd "$STAGE" && find . -type f)
[ "$left" = "./etc/postino/postino.conf" ] || fail "left behind: $left"
mk uninstall DESTDIR="$WORK/stage2" PREFIX=/opt/postino SYSCONFDIR=/etc/opt UNITDIR=/lib/systemd/system
left=$(cd "$WORK/stage2" && find . -type f)
[ -z "$left" ] || fail "an unedited configuration should go too; left: $left"

finish
