/* test_pg_async - the libuv-driven PostgreSQL connection against a real server (POSTINO_TEST_DB). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pg_async_runs_queries_in_order_on_the_loop),
        cmocka_unit_test(test_pg_async_reports_sql_errors),
        cmocka_unit_test(test_pg_async_prepares_once_and_executes_with_each_call_s_values),
        cmocka_unit_test(test_pg_async_reports_connect_failure),
        cmocka_unit_test(test_pg_blocking_connect_error_is_one_line_without_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
