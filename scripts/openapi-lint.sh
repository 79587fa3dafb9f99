#!/usr/bin/env bash
#
# openapi-lint.sh - validate api/openapi.yaml with Stoplight Spectral and the
# ruleset in .spectral.yaml (spectral:oas, nothing switched off).
#
#   scripts/openapi-lint.sh          from anywhere; it works in the repo root
#
# Spectral comes from the npm registry at one pinned version, installed into
# build/tools/spectral on first use and reused while that version is there.
# Any error or warning fails (exit 1). Without npm the check is skipped with
# a loud line on stderr and exit 0: the spec was NOT validated then. Any
# other trouble (the install fails, the ruleset is missing) is a failure.
#
# Environment: SPECTRAL_PREFIX  where to install (default build/tools/spectral)
set -euo pipefail

SPECTRAL_VERSION=6.16.3
SPEC=api/openapi.yaml
RULESET=.spectral.yaml

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PREFIX=${SPECTRAL_PREFIX:-build/tools/spectral}

die() {
    echo "openapi-lint: FAILED: $*" >&2
    exit 1
}

if ! command -v npm >/dev/null 2>&1; then
    echo "openapi-lint: SKIPPED: npm is not installed; the OpenAPI spec was NOT validated" >&2
    exit 0
fi
command -v node >/dev/null 2>&1 || die "npm is installed but node is not"
[ -f "$SPEC" ] || die "$SPEC is missing"
[ -f "$RULESET" ] || die "the ruleset $RULESET is missing"

PKG_JSON="$PREFIX/node_modules/@stoplight/spectral-cli/package.json"
BIN="$PREFIX/node_modules/.bin/spectral"

installed_version() {
    [ -f "$PKG_JSON" ] &&
        node -e 'process.stdout.write(String(require(require("path").resolve(process.argv[1])).version))' \
            "$PKG_JSON" 2>/dev/null
}

if [ "$(installed_version || true)" != "$SPECTRAL_VERSION" ] || [ ! -x "$BIN" ]; then
    echo "openapi-lint: installing @stoplight/spectral-cli@$SPECTRAL_VERSION into $PREFIX" >&2
    mkdir -p "$PREFIX" || die "cannot create $PREFIX"
    log="$PREFIX/npm-install.log"
    # --ignore-scripts: no dependency runs code at install (one, @scarf/scarf, would only
    # send install analytics); spectral needs none of it
    if ! SCARF_ANALYTICS=false npm install --prefix "$PREFIX" --no-audit --no-fund --no-update-notifier \
        --ignore-scripts --loglevel=error "@stoplight/spectral-cli@$SPECTRAL_VERSION" >"$log" 2>&1; then
        tail -n 20 "$log" >&2 || true
        die "npm install @stoplight/spectral-cli@$SPECTRAL_VERSION failed (log: $log)"
    fi
    if [ "$(installed_version || true)" != "$SPECTRAL_VERSION" ] || [ ! -x "$BIN" ]; then
        die "npm install ran but spectral-cli $SPECTRAL_VERSION is not in $PREFIX"
    fi
fi

# the readable report on stdout, the counts from the JSON one
json=$(mktemp)
trap 'rm -f "$json"' EXIT
set +e
"$BIN" lint --ruleset "$RULESET" --fail-severity=warn --format=stylish --format=json --output.json="$json" \
    "$SPEC"
rc=$?
set -e

# severities: 0 error, 1 warning, 2 information, 3 hint
counts=$(node -e '
    const fs = require("fs");
    let r;
    try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch (e) { process.exit(2); }
    const n = [0, 0, 0, 0];
    for (const x of r) n[x.severity] = (n[x.severity] || 0) + 1;
    process.stdout.write(n.join(" "));
' "$json") || die "spectral gave no readable result (exit $rc)"
read -r errors warnings infos hints <<<"$counts"

extra=""
[ "$infos" -gt 0 ] && extra="$extra, $infos infos"
[ "$hints" -gt 0 ] && extra="$extra, $hints hints"
summary="$SPEC: $errors errors, $warnings warnings$extra (spectral-cli $SPECTRAL_VERSION, spectral:oas)"
if [ "$errors" -gt 0 ] || [ "$warnings" -gt 0 ] || [ "$rc" -ne 0 ]; then
    echo "openapi-lint: FAILED: $summary" >&2
    exit 1
fi
echo "openapi-lint: $summary"
