/*
 * bench_ledger - claim and record deliveries as senders do, with no
 * rendering and no network: the ledger's own cost.
 *
 * usage: bench_ledger CONNINFO CLAIMERS TOTAL [BATCH [FLUSH_ROWS]]
 * CLAIMERS processes, each on its own connection under its own sender name,
 * prepare ledger_claim_sql and ledger_record_sql as the sender does, then
 * claim BATCH (default 1000) at a time and record each claim's rows as sent
 * in record transactions of FLUSH_ROWS (default 300, [send] flush_rows),
 * until TOTAL deliveries are recorded between them (or nothing is left).
 * Prints "recorded N in S seconds". With FLUSH_ROWS 0 each claims its share
 * once and ends without recording, as a killed sender would: "claimed N".
 * Exit 1 with the server's words on error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "engine/store/ledger.h"
#include "engine/util/alloc.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static PGconn *open_db(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "bench_ledger: %s", PQerrorMessage(c));
        exit(1);
    }
    return c;
}

static void prepare(PGconn *c, const char *name, const char *sql, int n)
{
    PGresult *r = PQprepare(c, name, sql, n, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "bench_ledger: prepare %s: %s", name, PQresultErrorMessage(r));
        exit(1);
    }
    PQclear(r);
}

static PGresult *run(PGconn *c, const char *name, int n, const char *const *params)
{
    PGresult *r = PQexecPrepared(c, name, n, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "bench_ledger: %s: %s", name, PQresultErrorMessage(r));
        exit(1);
    }
    return r;
}

/* record B's results as sender OWNER; how many rows moved */
static long record(PGconn *c, struct ledger_batch *b, const char *owner)
{
    const char *params[LEDGER_RECORD_NPARAMS];
    ledger_batch_params(b, owner, "259200", params);
    PGresult *r = run(c, "postino_record", LEDGER_RECORD_NPARAMS, params);
    long n = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    ledger_batch_reset(b);
    return n;
}

/* one claimer: claim and record until QUOTA are recorded or nothing is due; the number recorded */
static long claimer(const char *conninfo, int k, long quota, long batch, size_t flush_rows)
{
    PGconn *c = open_db(conninfo);
    char owner[32], batch_s[24];
    snprintf(owner, sizeof(owner), "bench-%d", k);
    prepare(c, "postino_claim", ledger_claim_sql, 3);
    prepare(c, "postino_record", ledger_record_sql, LEDGER_RECORD_NPARAMS);
    struct ledger_batch b;
    ledger_batch_init(&b);
    long done = 0;
    while (done < quota) {
        long want = quota - done < batch ? quota - done : batch;
        snprintf(batch_s, sizeof(batch_s), "%ld", want);
        const char *params[3] = { owner, batch_s, "300" };
        PGresult *r = run(c, "postino_claim", 3, params);
        struct ledger_row *rows;
        int n = ledger_claim_rows(r, &rows);
        if (flush_rows == 0) {
            done = n;
            xfree(rows);
            PQclear(r);
            break;
        }
        for (int i = 0; i < n; i++) {
            char qid[32];
            snprintf(qid, sizeof(qid), "4Q%llX", (unsigned long long)rows[i].id);
            ledger_batch_add(&b, &(struct ledger_result){ .id = rows[i].id, .state = "sent", .code = 250,
                                                          .enhanced = "2.0.0", .reply = "Ok: queued",
                                                          .queue_id = qid, .cls = "", .relay = "bench" });
            if (b.n == flush_rows)
                done += record(c, &b, owner);
        }
        if (b.n)
            done += record(c, &b, owner);
        xfree(rows);
        PQclear(r);
        if (n == 0)
            break;
    }
    ledger_batch_free(&b);
    PQfinish(c);
    return done;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: bench_ledger CONNINFO CLAIMERS TOTAL [BATCH [FLUSH_ROWS]]\n");
        return 2;
    }
    int k = atoi(argv[2]);
    long total = atol(argv[3]);
    long batch = argc > 4 ? atol(argv[4]) : 1000;
    size_t flush_rows = argc > 5 ? (size_t)atol(argv[5]) : 300;
    if (k < 1 || total < 1 || batch < 1 || atol(argc > 5 ? argv[5] : "1") < 0) {
        fprintf(stderr, "bench_ledger: CLAIMERS, TOTAL and BATCH must be positive, FLUSH_ROWS not negative\n");
        return 2;
    }
    int fds[64][2];
    pid_t pids[64];
    if (k > 64) {
        fprintf(stderr, "bench_ledger: at most 64 claimers\n");
        return 2;
    }
    double t0 = now_s();
    for (int i = 0; i < k; i++) {
        if (pipe(fds[i]) != 0)
            return 1;
        pids[i] = fork();
        if (pids[i] == 0) {
            long n = claimer(argv[1], i + 1, total / k + (i < total % k), batch, flush_rows);
            if (write(fds[i][1], &n, sizeof(n)) != (ssize_t)sizeof(n))
                _exit(1);
            _exit(0);
        }
        close(fds[i][1]);
    }
    long done = 0;
    int bad = 0;
    for (int i = 0; i < k; i++) {
        long n = 0;
        int st;
        if (read(fds[i][0], &n, sizeof(n)) == (ssize_t)sizeof(n))
            done += n;
        waitpid(pids[i], &st, 0);
        bad |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    }
    double t1 = now_s();
    if (flush_rows == 0)
        printf("claimed %ld\n", done);
    else
        printf("recorded %ld in %.3f seconds\n", done, t1 - t0);
    return bad;
}
