/*
 * test_import_load - the store's side of an import against a real server
 * (POSTINO_TEST_DB): an import lands whole with exact counts, or not at all
 * (abort, a free without finish, a failed finish, a dry run). Every case
 * removes what it wrote, so the shared database is left as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/store/import_load.h"
#include "engine/store/pg.h"

static PGconn *conn;

/* the one value SQL answers, as a number */
static long long db_number(const char *sql)
{
    PGresult *res = pg_exec(conn, sql, 0, NULL);
    assert_true(pg_ok(res));
    assert_int_equal(PQntuples(res), 1);
    long long n = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return n;
}

static long long subscribers_here(void)
{
    return db_number("SELECT count(*) FROM subscribers WHERE email ILIKE '%@il.example'");
}

static int fixture(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(pg_command(conn, "INSERT INTO lists (name) VALUES ('il-news')", err, sizeof(err)), 0);
    return 0;
}

static int cleanup(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(pg_command(conn,
                                "DELETE FROM subscribers WHERE email ILIKE '%@il.example';"
                                " DELETE FROM lists WHERE name = 'il-news'",
                                err, sizeof(err)),
                     0);
    return 0;
}

static struct import_load_row row(long line, const char *email, const char *attribs)
{
    return (struct import_load_row){ .line = line, .email = email, .attribs = attribs, .attribs_len = strlen(attribs) };
}

/* begin a subscribe import to il-news and send ROWS (SURELY_NEW for each) */
static struct store_import_load *load_rows(bool dry_run, const struct import_load_row *rows, const bool *surely_new,
                                           size_t n)
{
    struct store_err e;
    struct import_load_opts o = { .mode = IMPORT_SUBSCRIBE, .list = "il-news", .dry_run = dry_run };
    struct store_import_load *l = store_import_load_begin(conn, &o, &e);
    if (!l)
        fail_msg("begin: %s", e.msg);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(store_import_load_add(l, &rows[i], surely_new[i], &e), STORE_OK);
    return l;
}

/* the same, then finish and free: what finish returned, its counts in C and failure in E */
static int import_rows(bool dry_run, const struct import_load_row *rows, const bool *surely_new, size_t n,
                       struct import_load_counts *c, struct store_err *e)
{
    struct store_import_load *l = load_rows(dry_run, rows, surely_new, n);
    int rc = store_import_load_finish(l, c, e);
    store_import_load_free(l);
    return rc;
}

static void test_import_load_commits_with_exact_counts_and_merges_repeats(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(pg_command(conn, "INSERT INTO subscribers (email) VALUES ('old@il.example')", err, sizeof(err)),
                     0);
    struct import_load_row rows[] = { row(2, "new@il.example", "{\"n\": 1}"), row(3, "old@il.example", "{}"),
                                      row(4, "NEW@il.example", "{\"n\": 2}") };
    bool surely_new[] = { true, true, false };
    struct import_load_counts c;
    struct store_err e;
    assert_int_equal(import_rows(false, rows, surely_new, 3, &c, &e), STORE_OK);
    struct import_load_counts want = { .staged = 3, .added = 1, .updated = 1, .duplicates = 1 };
    assert_memory_equal(&c, &want, sizeof(c));
    assert_int_equal(subscribers_here(), 2);
    assert_int_equal(db_number("SELECT attribs->>'n' FROM subscribers WHERE email = 'new@il.example'"), 1);
    assert_int_equal(db_number("SELECT count(*) FROM subscriptions z JOIN lists l ON l.id = z.list_id"
                               " WHERE l.name = 'il-news' AND z.status = 'confirmed'"),
                     2);
}

/* begin a subscribe import to il-news and send N distinct rows: more than one COPY chunk reaches the server */
static struct store_import_load *load_many(size_t n)
{
    struct store_import_load *l = load_rows(false, NULL, NULL, 0);
    struct store_err e;
    char email[64];
    for (size_t i = 0; i < n; i++) {
        snprintf(email, sizeof(email), "row-%zu@il.example", i);
        struct import_load_row r = row((long)i + 2, email, "{\"k\": \"a value of some length\"}");
        assert_int_equal(store_import_load_add(l, &r, true, &e), STORE_OK);
    }
    return l;
}

static void test_import_load_abort_and_unfinished_free_write_nothing(void **state)
{
    (void)state;
    struct store_import_load *l = load_many(40000);
    store_import_load_abort(l, "stopped by the test");
    assert_int_equal(PQtransactionStatus(conn), PQTRANS_IDLE);
    store_import_load_free(l);
    assert_int_equal(subscribers_here(), 0);
    store_import_load_free(load_many(40000));
    assert_int_equal(PQtransactionStatus(conn), PQTRANS_IDLE);
    assert_int_equal(subscribers_here(), 0);
}

static void test_import_load_failed_finish_writes_nothing(void **state)
{
    (void)state;
    struct import_load_row rows[] = { row(2, "a@il.example", "{}"), row(3, "b@il.example", "{not json") };
    bool surely_new[] = { true, true };
    struct import_load_counts c;
    struct store_err e;
    assert_int_equal(import_rows(false, rows, surely_new, 2, &c, &e), STORE_ERR_DB);
    assert_true(strncmp(e.msg, "cannot load the rows: database error: ", 38) == 0);
    assert_int_equal(subscribers_here(), 0);
}

static void test_import_load_dry_run_counts_and_writes_nothing(void **state)
{
    (void)state;
    struct import_load_row rows[] = { row(2, "a@il.example", "{}"), row(3, "A@il.example", "{}") };
    bool surely_new[] = { true, false };
    struct import_load_counts c;
    struct store_err e;
    assert_int_equal(import_rows(true, rows, surely_new, 2, &c, &e), STORE_OK);
    struct import_load_counts want = { .staged = 2, .added = 1, .duplicates = 1 };
    assert_memory_equal(&c, &want, sizeof(c));
    assert_int_equal(subscribers_here(), 0);
}

static void test_import_load_unknown_list_is_not_found(void **state)
{
    (void)state;
    struct store_err e;
    struct import_load_opts o = { .mode = IMPORT_SUBSCRIBE, .list = "il-nosuch" };
    assert_null(store_import_load_begin(conn, &o, &e));
    assert_int_equal(e.code, STORE_ERR_NOTFOUND);
    assert_string_equal(e.msg, "no list \"il-nosuch\"");
    assert_int_equal(PQtransactionStatus(conn), PQTRANS_IDLE);
}

int main(void)
{
    const char *ci = getenv("POSTINO_TEST_DB");
    if (!ci) {
        fprintf(stderr, "test_import_load: POSTINO_TEST_DB is not set\n");
        return 1;
    }
    char err[512];
    conn = pg_connect(ci, err, sizeof(err));
    if (!conn) {
        fprintf(stderr, "test_import_load: %s\n", err);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_import_load_commits_with_exact_counts_and_merges_repeats, fixture, cleanup),
        cmocka_unit_test_setup_teardown(test_import_load_abort_and_unfinished_free_write_nothing, fixture, cleanup),
        cmocka_unit_test_setup_teardown(test_import_load_failed_finish_writes_nothing, fixture, cleanup),
        cmocka_unit_test_setup_teardown(test_import_load_dry_run_counts_and_writes_nothing, fixture, cleanup),
        cmocka_unit_test_setup_teardown(test_import_load_unknown_list_is_not_found, fixture, cleanup),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    PQfinish(conn);
    return rc;
}
