#!/bin/sh
# install.sh - install or uninstall postino (make install / make uninstall).
#
#   install.sh install|uninstall
#
# From the environment (the Makefile passes them): DESTDIR (staging root, may
# be empty), PREFIX (/usr/local), BINDIR ($PREFIX/bin), MANDIR ($PREFIX/share/man),
# SYSCONFDIR (/etc), UNITDIR ($PREFIX/lib/systemd/system), BIN (the built binary).
#
# install: the binary, postino(1) and postino.conf(5) (gzipped), the systemd
# units with this installation's paths, and SYSCONFDIR/postino/postino.conf
# from dist/ only when there is none: an existing configuration is never
# touched. The configuration is mode 0640; it is given to root:postino when the
# group exists and this runs as root, and left to the one installing otherwise.
# uninstall: removes what install put, except a configuration that differs
# from the example (kept, and said so). Fails with a one-line reason, exit 1.
set -eu

die() { echo "install.sh: $*" >&2; exit 1; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
BINDIR=${BINDIR:-$PREFIX/bin}
MANDIR=${MANDIR:-$PREFIX/share/man}
SYSCONFDIR=${SYSCONFDIR:-/etc}
UNITDIR=${UNITDIR:-$PREFIX/lib/systemd/system}
BIN=${BIN:-$ROOT/build/postino}
CONF=$DESTDIR$SYSCONFDIR/postino/postino.conf
UNITS="postino.service postino-send@.service"

unit_text() {   # unit_text NAME: the unit with this installation's paths
    sed -e "s#@BINDIR@#$BINDIR#g" -e "s#@SYSCONFDIR@#$SYSCONFDIR#g" "$ROOT/dist/$1.in"
}

do_install() {
    [ -x "$BIN" ] || die "no binary at $BIN: run make first"
    install -d -m 0755 "$DESTDIR$BINDIR" "$DESTDIR$MANDIR/man1" "$DESTDIR$MANDIR/man5" "$DESTDIR$UNITDIR"
    install -m 0755 "$BIN" "$DESTDIR$BINDIR/postino"
    gzip -9n -c "$ROOT/man/postino.1" >"$DESTDIR$MANDIR/man1/postino.1.gz"
    gzip -9n -c "$ROOT/man/postino.conf.5" >"$DESTDIR$MANDIR/man5/postino.conf.5.gz"
    chmod 0644 "$DESTDIR$MANDIR/man1/postino.1.gz" "$DESTDIR$MANDIR/man5/postino.conf.5.gz"
    for u in $UNITS; do
        unit_text "$u" >"$DESTDIR$UNITDIR/$u"
        chmod 0644 "$DESTDIR$UNITDIR/$u"
    done
    install -d -m 0755 "$DESTDIR$SYSCONFDIR/postino"
    if [ -e "$CONF" ]; then
        echo "install.sh: kept the existing $CONF"
    else
        install -m 0640 "$ROOT/dist/postino.conf" "$CONF"
        if [ "$(id -u)" = 0 ] && getent group postino >/dev/null 2>&1; then
            chown root:postino "$CONF"
        fi
        echo "install.sh: installed the example configuration $CONF"
    fi
    echo "install.sh: installed $DESTDIR$BINDIR/postino, man pages, units in $DESTDIR$UNITDIR"
}

do_uninstall() {
    rm -f "$DESTDIR$BINDIR/postino" "$DESTDIR$MANDIR/man1/postino.1.gz" "$DESTDIR$MANDIR/man5/postino.conf.5.gz"
    for u in $UNITS; do
        rm -f "$DESTDIR$UNITDIR/$u"
    done
    if [ -e "$CONF" ]; then
        if cmp -s "$CONF" "$ROOT/dist/postino.conf"; then
            rm -f "$CONF"
            rmdir "$DESTDIR$SYSCONFDIR/postino" 2>/dev/null || true
        else
            echo "install.sh: kept $CONF (it was edited; remove it by hand)"
        fi
    fi
    echo "install.sh: uninstalled postino from $DESTDIR$PREFIX"
}

case "${1:-}" in
install) do_install ;;
uninstall) do_uninstall ;;
*) echo "usage: install.sh install|uninstall" >&2; exit 2 ;;
esac
