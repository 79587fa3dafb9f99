/*
 * test_tracking - what a click counts against a real server
 * (POSTINO_TEST_DB): a click of a delivery on a link of its own campaign
 * redirects and counts; a delivery of another campaign gets no redirect and
 * counts nothing; a delivery that is gone still redirects. Each case runs in
 * a transaction that is rolled back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/store/pg.h"
#include "engine/store/store.h"
#include "engine/store/tracking.h"
#include "engine/util/alloc.h"

static PGconn *conn;
static uint64_t del_a, del_b, link_a;

static void exec_ok(const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

static uint64_t id_of(const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    uint64_t v = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

/* campaigns A and B, a subscriber with a delivery of each, a link of A's */
static int fixture(void **state)
{
    (void)state;
    exec_ok("BEGIN");
    exec_ok("INSERT INTO subscribers (email) VALUES ('click@tracking.example')");
    exec_ok("INSERT INTO campaigns (name, subject, from_addr, html, status, kind) VALUES"
            " ('track-A', 'A', 'a@tracking.example', 'x', 'running', 'campaign'),"
            " ('track-B', 'B', 'a@tracking.example', 'x', 'running', 'campaign')");
    del_a = id_of("INSERT INTO deliveries (campaign_id, subscriber_id) SELECT c.id, s.id FROM campaigns c, subscribers s"
                  " WHERE c.name = 'track-A' AND s.email = 'click@tracking.example' RETURNING id");
    del_b = id_of("INSERT INTO deliveries (campaign_id, subscriber_id) SELECT c.id, s.id FROM campaigns c, subscribers s"
                  " WHERE c.name = 'track-B' AND s.email = 'click@tracking.example' RETURNING id");
    link_a = id_of("INSERT INTO links (campaign_id, idx, url) SELECT id, 0, 'https://shop.example/a' FROM campaigns"
                   " WHERE name = 'track-A' RETURNING id");
    return 0;
}

static int rollback(void **state)
{
    (void)state;
    PQclear(PQexec(conn, "ROLLBACK"));
    return 0;
}

static long long clicks(void)
{
    PGresult *r = PQexec(conn, "SELECT coalesce(sum(n), 0) FROM clicks");
    long long n = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

static void test_click_of_its_own_campaign_redirects_and_counts(void **state)
{
    (void)state;
    char *url = NULL;
    bool recorded = false;
    struct store_err e;
    long long before = clicks();
    assert_int_equal(store_track_click(conn, del_a, link_a, &url, &recorded, &e), STORE_OK);
    assert_string_equal(url, "https://shop.example/a");
    assert_true(recorded);
    assert_int_equal(clicks(), before + 1);
    xfree(url);
}

static void test_click_of_another_campaigns_delivery_gets_no_redirect(void **state)
{
    (void)state;
    char *url = NULL;
    bool recorded = false;
    struct store_err e;
    long long before = clicks();
    assert_int_equal(store_track_click(conn, del_b, link_a, &url, &recorded, &e), STORE_ERR_NOTFOUND);
    assert_null(url);
    assert_int_equal(clicks(), before);
}

static void test_click_of_a_gone_delivery_still_redirects(void **state)
{
    (void)state;
    char *url = NULL;
    bool recorded = true;
    struct store_err e;
    char sql[128];
    snprintf(sql, sizeof(sql), "DELETE FROM deliveries WHERE id = %llu", (unsigned long long)del_a);
    exec_ok(sql);
    assert_int_equal(store_track_click(conn, del_a, link_a, &url, &recorded, &e), STORE_OK);
    assert_string_equal(url, "https://shop.example/a");
    assert_false(recorded);
    xfree(url);
}

int main(void)
{
    const char *ci = getenv("POSTINO_TEST_DB");
    if (!ci) {
        fprintf(stderr, "test_tracking: POSTINO_TEST_DB is not set\n");
        return 1;
    }
    char err[512];
    conn = pg_connect(ci, err, sizeof(err));
    if (!conn) {
        fprintf(stderr, "test_tracking: %s\n", err);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_click_of_its_own_campaign_redirects_and_counts, fixture, rollback),
        cmocka_unit_test_setup_teardown(test_click_of_another_campaigns_delivery_gets_no_redirect, fixture, rollback),
        cmocka_unit_test_setup_teardown(test_click_of_a_gone_delivery_still_redirects, fixture, rollback),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    PQfinish(conn);
    return rc;
}
