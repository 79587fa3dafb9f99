/*
 * bench_claim - claim every due delivery through the sender's claim statement
 * (ledger_claim_sql), BATCH at a time, from one connection.
 *
 *   bench_claim CONNINFO BATCH
 *
 * Prints one line: "N claimed (H held) in S s, K statements, C s of the
 * server's CPU: U us per delivery" where U is the CPU time of the database
 * server's process serving this connection (read from /proc: the server runs
 * on this machine), so that other work on a shared machine changes it
 * little; S is the wall time. Rows a pace or a warm-up holds back are counted
 * as held; the run stops when a claim returns nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "engine/store/ledger.h"

/* the CPU time (user + system) process PID has used, in seconds; -1 when it cannot be read */
static double cpu_s(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    /* after "pid (comm)": state and 10 more fields, then utime and stime */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

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
    int pid = PQbackendPID(conn);
    double c0 = cpu_s(pid), t0 = now_s();
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
    double s = now_s() - t0, c = cpu_s(pid) - c0;
    res = PQexec(conn, "SELECT count(*) FROM deliveries WHERE held_for IS NOT NULL AND state IN ('queued', 'deferred')");
    long held = PQresultStatus(res) == PGRES_TUPLES_OK ? atol(PQgetvalue(res, 0, 0)) : -1;
    PQclear(res);
    if (c0 < 0 || c < 0) {
        fprintf(stderr, "bench_claim: cannot read the server process's CPU time in /proc/%d/stat\n", pid);
        return 1;
    }
    printf("%ld claimed (%ld held) in %.3f s, %ld statements, %.3f s of the server's CPU: %.2f us per delivery\n", n,
           held, s, statements, c, n ? c * 1e6 / (double)n : 0.0);
    PQfinish(conn);
    return 0;
}
