# import_lib.sh - what the import tests share (sourced after lib.sh):
#   counts               "read new updated unchanged skipped not_found duplicates rejected"
#                        of the last `postino import --json` run (in $out)
#   expect_counts WANT   those counts, or a failure naming both
#   q SQL                psql_q, shorter
#   expect_q SQL WANT    the query's answer, or a failure naming both

counts() {
    jq_get "$out" "' '.join(str(j[k]) for k in ('rows_read','new_subscribers','existing_updated','unchanged','skipped','not_found','duplicates_in_file','rejected'))"
}
expect_counts() {
    local got
    got=$(counts 2>/dev/null)
    [ "$got" = "$1" ] || fail "counts are '$got', expected '$1' (read new updated unchanged skipped not_found dup rejected)"
}
q() { psql_q "$1"; }
expect_q() {
    local got
    got=$(q "$1")
    [ "$got" = "$2" ] || fail "$1 gave '$got', expected '$2'"
}
