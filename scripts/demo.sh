#!/bin/bash
# demo.sh - postino's main job on the embedded defaults, from a fresh machine.
# Private PostgreSQL in ./var, a list, a few subscribers, shown back.
# Safe to run again: what exists already is kept.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
P="$ROOT/build/postino"
unset POSTINO_DB

step() { printf '\n== %s\n' "$*"; }

step "database: the private PostgreSQL cluster in ./var/pg"
"$P" db init

step "a list"
"$P" list show newsletter >/dev/null 2>&1 ||
    "$P" list create newsletter --description "The monthly newsletter"

step "a few subscribers"
add() {
    local email=$1
    shift
    if "$P" subscriber show "$email" >/dev/null 2>&1; then
        echo "already there: $email"
    else
        "$P" subscriber add "$email" --list newsletter "$@"
    fi
}
add "alice@example.com" --name "Alice Rossi" --attr city=Roma --attr plan=pro
add "bob@example.org" --name "Bob Bianchi" --attr city=Milano
add "chiara@bücher.example" --name "Chiara Verdi" --attr city=Torino
add "dario@example.net" --name "Dario Neri"

step "the list"
"$P" list show newsletter

step "its subscribers"
"$P" subscriber ls --list newsletter

cat <<EOT

The database keeps running in ./var/pg; 'build/postino db stop' stops it.
EOT
