/* test_pg_async - the libuv-driven PostgreSQL connection against a real server (POSTINO_TEST_DB). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "engine/store/pg.h"
#include "engine/store/pg_async.h"

struct probe {
    int opened;
    int results;
    char values[4][64];
    int closed;
    int busy_rc;
};

static void on_close(void *arg)
{
    ((struct probe *)arg)->closed++;
}

static void on_second(struct pg_async *pa, PGresult *res, void *arg)
{
    struct probe *p = arg;
    assert_non_null(res);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    snprintf(p->values[p->results++], 64, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    pg_async_close(pa, on_close, p);
}

static void on_first(struct pg_async *pa, PGresult *res, void *arg)
{
    struct probe *p = arg;
    assert_non_null(res);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    snprintf(p->values[p->results++], 64, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    const char *params[] = { "o'brien" };
    assert_int_equal(pg_async_query(pa, "SELECT upper($1::text)", 1, params, on_second, p), 0);
}

static void on_open(struct pg_async *pa, int status, void *arg)
{
    struct probe *p = arg;
    assert_int_equal(status, 0);
    p->opened++;
    const char *params[] = { "20", "22" };
    assert_int_equal(pg_async_query(pa, "SELECT $1::int + $2::int", 2, params, on_first, p), 0);
    p->busy_rc = pg_async_query(pa, "SELECT 1", 0, NULL, on_first, p);
}

static void test_pg_async_runs_queries_in_order_on_the_loop(void **state)
{
    (void)state;
    const char *ci = getenv("POSTINO_TEST_DB");
    assert_non_null(ci);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct probe p = { 0 };
    struct pg_async *pa;
    assert_int_equal(pg_async_open(&loop, ci, on_open, &p, &pa), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(p.opened, 1);
    assert_int_equal(p.busy_rc, UV_EBUSY);
    assert_int_equal(p.results, 2);
    assert_string_equal(p.values[0], "42");
    assert_string_equal(p.values[1], "O'BRIEN");
    assert_int_equal(p.closed, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void on_error_result(struct pg_async *pa, PGresult *res, void *arg)
{
    struct probe *p = arg;
    assert_non_null(res);
    assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
    assert_string_equal(pg_sqlstate(res), "42P01");
    assert_non_null(strstr(pg_async_error(pa), "no_such_table"));
    PQclear(res);
    p->results++;
    pg_async_close(pa, on_close, p);
}

static void on_open_err(struct pg_async *pa, int status, void *arg)
{
    assert_int_equal(status, 0);
    assert_int_equal(pg_async_query(pa, "SELECT * FROM no_such_table", 0, NULL, on_error_result, arg), 0);
}

static void test_pg_async_reports_sql_errors(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct probe p = { 0 };
    struct pg_async *pa;
    assert_int_equal(pg_async_open(&loop, getenv("POSTINO_TEST_DB"), on_open_err, &p, &pa), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(p.results, 1);
    assert_int_equal(p.closed, 1);
    uv_loop_close(&loop);
}

/*
 * Prepared statements: a bad one reports its error and is not remembered; a
 * good one is prepared by its first call and only executed by later ones
 * (the server then holds it once, under its name), each with its own values.
 */
static const char *const prep_steps[] = { "SELECT * FROM no_such_table WHERE $1::int > 0", "SELECT $1::int * 2",
                                          "SELECT $1::int * 2", "SELECT $1::int * 2",
                                          "SELECT count(*) FROM pg_prepared_statements WHERE name = 'double_it'" };

static void prep_next(struct pg_async *pa, struct probe *p);

static void on_prep_result(struct pg_async *pa, PGresult *res, void *arg)
{
    struct probe *p = arg;
    assert_non_null(res);
    if (p->results == 0) {
        assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
        assert_non_null(strstr(pg_async_error(pa), "no_such_table"));
    } else {
        assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
        snprintf(p->values[p->results - 1], 64, "%s", PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    p->results++;
    prep_next(pa, p);
}

static void prep_next(struct pg_async *pa, struct probe *p)
{
    static const char *const args[] = { "1", "21", "-4", "100000" };
    if (p->results == 5) {
        pg_async_close(pa, on_close, p);
        return;
    }
    const char *param[] = { p->results < 4 ? args[p->results] : NULL };
    const char *name = p->results == 0 ? "broken" : "double_it";
    if (p->results == 4)
        assert_int_equal(pg_async_query(pa, prep_steps[4], 0, NULL, on_prep_result, p), 0);
    else
        assert_int_equal(pg_async_query_prepared(pa, name, prep_steps[p->results], 1, param, on_prep_result, p), 0);
}

static void on_open_prep(struct pg_async *pa, int status, void *arg)
{
    assert_int_equal(status, 0);
    prep_next(pa, arg);
}

static void test_pg_async_prepares_once_and_executes_with_each_call_s_values(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct probe p = { 0 };
    struct pg_async *pa;
    assert_int_equal(pg_async_open(&loop, getenv("POSTINO_TEST_DB"), on_open_prep, &p, &pa), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(p.results, 5);
    assert_string_equal(p.values[0], "42");
    assert_string_equal(p.values[1], "-8");
    assert_string_equal(p.values[2], "200000");
    assert_string_equal(p.values[3], "1");
    assert_int_equal(p.closed, 1);
    uv_loop_close(&loop);
}

static void on_open_fail(struct pg_async *pa, int status, void *arg)
{
    struct probe *p = arg;
    assert_int_equal(status, -1);
    assert_non_null(strstr(pg_async_error(pa), "does not exist"));
    p->opened = -1;
    pg_async_close(pa, on_close, p);
}

static void test_pg_async_reports_connect_failure(void **state)
{
    (void)state;
    char ci[512];
    snprintf(ci, sizeof(ci), "%s dbname=no_such_db_here", getenv("POSTINO_TEST_DB"));
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct probe p = { 0 };
    struct pg_async *pa;
    assert_int_equal(pg_async_open(&loop, ci, on_open_fail, &p, &pa), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(p.opened, -1);
    assert_int_equal(p.closed, 1);
    uv_loop_close(&loop);
}

static void test_pg_blocking_connect_error_is_one_line_without_password(void **state)
{
    (void)state;
    char err[512];
    PGconn *c = pg_connect("host=/nonexistent port=5999 dbname=d user=u password=hunter2", err, sizeof(err));
    assert_null(c);
    assert_non_null(strstr(err, "cannot connect to database at host=/nonexistent port=5999 dbname=d user=u: "));
    assert_null(strstr(err, "hunter2"));
    assert_null(strchr(err, '\n'));
}

/* a TCP port on 127.0.0.1 whose connections the kernel completes and nobody ever answers; *FD is its socket */
static int silent_port(int *fd)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    *fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(*fd >= 0);
    assert_int_equal(bind(*fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(*fd, 8), 0);
    assert_int_equal(getsockname(*fd, (struct sockaddr *)&a, &len), 0);
    return ntohs(a.sin_port);
}

static void on_open_silent(struct pg_async *pa, int status, void *arg)
{
    struct probe *p = arg;
    p->opened = status;
    snprintf(p->values[0], 64, "%s", pg_async_error(pa));
    pg_async_close(pa, on_close, p);
}

static void on_guard(uv_timer_t *t)
{
    uv_stop(t->loop);   /* connect_timeout was not kept: the assertions below fail */
}

static void test_pg_async_connect_gives_up_after_connect_timeout(void **state)
{
    (void)state;
    int fd;
    char ci[256];
    snprintf(ci, sizeof(ci), "host=127.0.0.1 port=%d dbname=d user=u connect_timeout=2", silent_port(&fd));
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_timer_t guard;
    uv_timer_init(&loop, &guard);
    uv_timer_start(&guard, on_guard, 120000, 0);
    uv_unref((uv_handle_t *)&guard);
    struct probe p = { .opened = 1 };
    struct pg_async *pa;
    assert_int_equal(pg_async_open(&loop, ci, on_open_silent, &p, &pa), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(p.opened, -1);
    assert_string_equal(p.values[0], "timeout expired");
    assert_int_equal(p.closed, 1);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    close(fd);
}

/* the value of option KEY of the connection libpq was asked to make with P's arrays */
static void conn_option(const char *conninfo, const char *key, char *out, size_t len)
{
    const char *keys[PG_CONN_PARAMS_MAX], *vals[PG_CONN_PARAMS_MAX];
    pg_conn_params(conninfo, keys, vals);
    PGconn *c = PQconnectStartParams(keys, vals, 1);
    PQconninfoOption *opts = PQconninfo(c);
    out[0] = 0;
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, key) == 0 && o->val)
            snprintf(out, len, "%s", o->val);
    PQconninfoFree(opts);
    PQfinish(c);
}

static void test_pg_conn_params_keepalives_by_default_the_conninfo_s_own_win(void **state)
{
    (void)state;
    static const struct {
        const char *conninfo, *key, *want;
    } cases[] = {
        { "host=/nonexistent dbname=d", "keepalives", "1" },
        { "host=/nonexistent dbname=d", "keepalives_idle", "5" },
        { "host=/nonexistent dbname=d", "keepalives_interval", "2" },
        { "host=/nonexistent dbname=d", "keepalives_count", "3" },
        { "host=/nonexistent dbname=d", "tcp_user_timeout", "10000" },
        { "host=/nonexistent dbname=d", "connect_timeout", "10" },
        { "host=/nonexistent dbname=d keepalives_idle=30", "keepalives_idle", "30" },
        { "postgresql:///d?host=/nonexistent&connect_timeout=4", "connect_timeout", "4" },
        { "postgresql:///d?host=/nonexistent&connect_timeout=4", "dbname", "d" },
        { "host=/nonexistent dbname=d password=inline", "password", "inline" },
    };
    char v[64];
    pg_password_set(NULL);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        conn_option(cases[i].conninfo, cases[i].key, v, sizeof(v));
        assert_string_equal(v, cases[i].want);
    }
    /* [db] password_file's password goes with every connection, over one in the conninfo */
    pg_password_set("from-file");
    conn_option("host=/nonexistent dbname=d", "password", v, sizeof(v));
    assert_string_equal(v, "from-file");
    conn_option("host=/nonexistent dbname=d password=inline", "password", v, sizeof(v));
    assert_string_equal(v, "from-file");
    pg_password_set(NULL);
    assert_null(pg_password());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pg_async_runs_queries_in_order_on_the_loop),
        cmocka_unit_test(test_pg_async_reports_sql_errors),
        cmocka_unit_test(test_pg_async_prepares_once_and_executes_with_each_call_s_values),
        cmocka_unit_test(test_pg_async_reports_connect_failure),
        cmocka_unit_test(test_pg_blocking_connect_error_is_one_line_without_password),
        cmocka_unit_test(test_pg_async_connect_gives_up_after_connect_timeout),
        cmocka_unit_test(test_pg_conn_params_keepalives_by_default_the_conninfo_s_own_win),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
