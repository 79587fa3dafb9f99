#!/bin/sh
# deb.sh - the Debian package (make deb): build/deb/postino_VERSION_ARCH.deb.
#
# The source files (those git knows, committed or not, plus new ones it does
# not ignore) are copied to build/deb/src/postino-VERSION, a clean tree, and
# dpkg-buildpackage -us -uc -b builds there from debian/. Then lintian checks
# the package: any error or warning not overridden (debian/*.lintian-overrides)
# fails. Needs the Build-Depends of debian/control (scripts/deps.sh installs
# them), debhelper and lintian.
set -eu

die() { echo "deb.sh: $*" >&2; exit 1; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/build/deb"
VERSION=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version) || die "cannot read debian/changelog"
SRC="$OUT/src/postino-$VERSION"
command -v dpkg-buildpackage >/dev/null || die "dpkg-buildpackage is missing: apt-get install dpkg-dev debhelper"

rm -rf "$OUT"
mkdir -p "$SRC"
(cd "$ROOT" && git ls-files -co --exclude-standard -z | grep -zv '^build/' | xargs -0 cp --parents -t "$SRC") ||
    die "cannot copy the sources into $SRC"
echo "deb.sh: building postino $VERSION in $SRC"
(cd "$SRC" && dpkg-buildpackage -us -uc -b) >"$OUT/build.log" 2>&1 || {
    tail -30 "$OUT/build.log" >&2
    die "dpkg-buildpackage failed (the whole log: $OUT/build.log)"
}
mv "$OUT"/src/*.deb "$OUT"/src/*.buildinfo "$OUT"/src/*.changes "$OUT/"
DEB=$(ls "$OUT"/postino_*.deb | grep -v dbgsym)
echo "deb.sh: $DEB"
if command -v lintian >/dev/null; then
    lintian --fail-on error,warning --info "$DEB" || die "lintian found problems in $DEB (above)"
    echo "deb.sh: lintian: no error or warning"
else
    echo "deb.sh: lintian is not installed: the package was NOT checked"
fi
