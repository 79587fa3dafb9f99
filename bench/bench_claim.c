/*
 * bench_claim - claim every due delivery through the sender's claim statement
 * (ledger_claim_sql), BATCH at a time, from one connection.
 *
 *   bench_claim CONNINFO BATCH
 *
 * Prints one line: "N claimed (H held) in S s: U us per delivery" where S is
 * the wall time of the claims alone (the database's work: it runs on this
 * machine). Rows a pace or a warm-up holds back are counted as held; the
 * run stops when a claim returns nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <libpq-fe.h>

#include "engine/store/ledger.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_claim CONNINFO BATCH\n");
        return 2;
    }
    PGconn *conn = PQconnectdb(argv[1]);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "bench_claim: %s", PQerrorMessage(conn));
        return 1;
    }
    const char *params[] = { "bench", argv[2], "3600" };
    PGresult *res = PQprepare(conn, "claim", ledger_claim_sql, 3, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fprintf(stderr, "bench_claim: %s", PQerrorMessage(conn));
        return 1;
    }
    PQclear(res);
    long n = 0, statements = 0;
    double t0 = now_s();
    for (;;) {
        res = PQexecPrepared(conn, "claim", 3, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            fprintf(stderr, "bench_claim: %s", PQerrorMessage(conn));
            return 1;
        }
        int got = PQntuples(res);
        PQclear(res);
        statements++;
        if (got == 0)
            break;
        n += got;
    }
    double s = now_s() - t0;
    res = PQexec(conn, "SELECT count(*) FROM deliveries WHERE held_for IS NOT NULL AND state IN ('queued', 'deferred')");
    long held = PQresultStatus(res) == PGRES_TUPLES_OK ? atol(PQgetvalue(res, 0, 0)) : -1;
    PQclear(res);
    printf("%ld claimed (%ld held) in %.3f s, %ld statements: %.2f us per delivery\n", n, held, s, statements,
           n ? s * 1e6 / (double)n : 0.0);
    PQfinish(conn);
    return 0;
}
