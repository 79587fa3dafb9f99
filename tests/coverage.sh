#!/bin/bash
# coverage.sh - line coverage per directory (make coverage builds build/cov
# with --coverage first): the unit tests and the integration scripts run
# against that build, then lcov gathers the counts. Prints one line per
# source directory and the total; lcov's data in build/cov/lcov.info.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
COV="$ROOT/build/cov"
command -v lcov >/dev/null || { echo "coverage: lcov is missing (sh scripts/deps.sh installs it)" >&2; exit 1; }
find "$COV" -name '*.gcda' -delete
# the bounce pipe runs postino as the postgres user: it must be able to write its counts too
chmod -R a+rwX "$COV"
failed=0
sh tests/run-unit.sh $(find "$COV/tests/unit" -type f -perm -u+x -name 'test_*' | sort) >"$COV/unit.log" 2>&1 ||
    { failed=1; grep FAIL "$COV/unit.log"; }
for t in tests/integration/test_*.sh; do
    POSTINO_TEST_BIN="$COV/postino" bash "$t" || failed=1
done
lcov --quiet --capture --directory "$COV" --base-directory "$ROOT" --no-external \
    --output-file "$COV/lcov.info" 2>"$COV/lcov.log" || { cat "$COV/lcov.log"; exit 1; }
/usr/bin/python3 - "$COV/lcov.info" "$ROOT" <<'PY'
import collections, os, sys
# lcov 1.16 writes no LF/LH totals with gcc 12's data: count the DA (line, hits) records
found, hit = collections.Counter(), collections.Counter()
src = None
for line in open(sys.argv[1]):
    if line.startswith('SF:'):
        src = os.path.relpath(line[3:].strip(), sys.argv[2])
        if src.startswith(('build/', 'tests/', '..')):
            src = None
    elif line.startswith('DA:') and src:
        d = os.path.dirname(src)
        found[d] += 1
        if int(line[3:].split(',')[1]) > 0:
            hit[d] += 1
for d in sorted(found):
    print('coverage %-16s %6.1f%%  (%d of %d lines)' % (d, 100.0 * hit[d] / found[d], hit[d], found[d]))
tf, th = sum(found.values()), sum(hit.values())
print('coverage %-16s %6.1f%%  (%d of %d lines)' % ('total', 100.0 * th / tf, th, tf))
PY
[ "$failed" = 0 ] || echo "coverage: some tests failed (above); the figures count what ran"
exit "$failed"
