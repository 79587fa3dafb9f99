/*
 * test_segment - compiled filters run against a real server
 * (POSTINO_TEST_DB): which subscribers of a fixture each filter picks, with
 * attributes of every type (and of the wrong type), lists, deliveries,
 * opens, clicks, bounces and complaints; and that an injection attempt is
 * only a value. The fixture lives in a transaction that is rolled back.
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

#include "engine/mail/segment.h"
#include "engine/store/pg.h"
#include "engine/util/buf.h"

static PGconn *conn;

static void exec_ok(const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

/*
 * ann   Roma, plan pro, age 34 (a number), vip true, since 2024-05-01; on vip (confirmed); sent C1, opened and clicked it
 * bob   Milano, plan team, age "41" (text), vip "false"; on vip unconfirmed; sent C1 and C2, a hard bounce of C2
 * cat   roma (lower case), plan free, age "old" (not a number), since "soon"; sent C1, complained
 * dan   no attributes, name empty; blocklisted; a soft bounce long ago
 */
static int fixture(void **state)
{
    (void)state;
    exec_ok("BEGIN");
    exec_ok("INSERT INTO subscribers (email, name, attribs, status, created_at) VALUES"
            " ('ann@seg.example', 'Ann Smith', '{\"city\":\"Roma\",\"plan\":\"pro\",\"age\":34,\"vip\":true,\"since\":\"2024-05-01\"}',"
            "   'enabled', '2026-02-01'),"
            " ('bob@seg.example', 'Bob 50%_off', '{\"city\":\"Milano\",\"plan\":\"team\",\"age\":\"41\",\"vip\":\"false\"}',"
            "   'enabled', '2025-12-01'),"
            " ('cat@other.example', 'Cat', '{\"city\":\"roma\",\"plan\":\"free\",\"age\":\"old\",\"since\":\"soon\"}',"
            "   'enabled', '2026-03-01'),"
            " ('dan@seg.example', '', '{}', 'blocklisted', '2024-01-01')");
    exec_ok("INSERT INTO lists (name) VALUES ('seg-vip'), ('seg-all')");
    exec_ok("INSERT INTO subscriptions (subscriber_id, list_id, status) SELECT s.id, l.id,"
            " CASE WHEN s.email LIKE 'bob%' THEN 'unconfirmed' ELSE 'confirmed' END FROM subscribers s, lists l"
            " WHERE l.name = 'seg-vip' AND s.email IN ('ann@seg.example', 'bob@seg.example')");
    exec_ok("INSERT INTO campaigns (name, subject, from_addr, html, status) VALUES"
            " ('seg-C1', 's', 'a@seg.example', 'x', 'finished'), ('seg-C2', 's', 'a@seg.example', 'x', 'finished')");
    exec_ok("INSERT INTO deliveries (campaign_id, subscriber_id, state, sent_at) SELECT c.id, s.id, 'sent', now() - interval '2 days'"
            " FROM campaigns c, subscribers s WHERE (c.name = 'seg-C1' AND s.email <> 'dan@seg.example')"
            " OR (c.name = 'seg-C2' AND s.email = 'bob@seg.example')");
    exec_ok("INSERT INTO opens (delivery_id, campaign_id) SELECT d.id, d.campaign_id FROM deliveries d"
            " JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = 'ann@seg.example'");
    exec_ok("INSERT INTO links (campaign_id, idx, url) SELECT id, 0, 'https://seg.example/' FROM campaigns WHERE name = 'seg-C1'");
    exec_ok("INSERT INTO clicks (link_id, delivery_id, campaign_id) SELECT l.id, d.id, d.campaign_id FROM deliveries d"
            " JOIN subscribers s ON s.id = d.subscriber_id JOIN links l ON l.campaign_id = d.campaign_id"
            " WHERE s.email = 'ann@seg.example'");
    exec_ok("INSERT INTO bounces (subscriber_id, campaign_id, email, class, source, received_at)"
            " SELECT s.id, c.id, s.email, 'hard', 'dsn', now() FROM subscribers s, campaigns c"
            "   WHERE s.email = 'bob@seg.example' AND c.name = 'seg-C2'"
            " UNION ALL SELECT s.id, NULL, s.email, 'complaint', 'arf', now() FROM subscribers s WHERE s.email = 'cat@other.example'"
            " UNION ALL SELECT s.id, NULL, s.email, 'soft', 'dsn', now() - interval '90 days' FROM subscribers s"
            "   WHERE s.email = 'dan@seg.example'");
    /* the bounce policy acted on bob and cat: back to the statuses above */
    exec_ok("UPDATE subscribers SET status = CASE WHEN email = 'dan@seg.example' THEN 'blocklisted' ELSE 'enabled' END"
            " WHERE email IN ('ann@seg.example', 'bob@seg.example', 'cat@other.example', 'dan@seg.example')");
    return 0;
}

static int rollback(void **state)
{
    (void)state;
    PQclear(PQexec(conn, "ROLLBACK"));
    return 0;
}

/* the names (the part before @) of the fixture's subscribers EXPR picks, comma-separated, by email */
static char *picked(const char *expr)
{
    struct segment_sql q;
    char err[256];
    char c1[24], c2[24];
    PGresult *r = PQexec(conn, "SELECT (SELECT id FROM campaigns WHERE name = 'seg-C1'), (SELECT id FROM campaigns WHERE name = 'seg-C2')");
    snprintf(c1, sizeof(c1), "%s", PQgetvalue(r, 0, 0));
    snprintf(c2, sizeof(c2), "%s", PQgetvalue(r, 0, 1));
    PQclear(r);
    /* C1 and C2 in the expression stand for the campaigns' numbers */
    struct buf e;
    buf_init(&e);
    for (const char *p = expr; *p; p++) {
        if (p[0] == 'C' && (p[1] == '1' || p[1] == '2'))
            buf_appends(&e, p[1] == '1' ? c1 : c2), p++;
        else
            buf_appendc(&e, *p);
    }
    if (segment_compile(buf_cstr(&e), 1, &q, err, sizeof(err)) < 0)
        fail_msg("%s: %s", expr, err);
    buf_free(&e);
    struct buf sql;
    buf_init(&sql);
    buf_appendf(&sql, "SELECT coalesce(string_agg(split_part(s.email, '@', 1), ',' ORDER BY s.email), '')"
                      " FROM subscribers s WHERE s.email IN ('ann@seg.example', 'bob@seg.example', 'cat@other.example', 'dan@seg.example')"
                      " AND %s", q.sql);
    char *values = segment_params_literal(&q);
    /* the values' type said, so that a filter without values (which never reads them) runs too */
    r = PQexecParams(conn, buf_cstr(&sql), 1, (const Oid[]){ 1009 /* text[] */ }, (const char *const[]){ values }, NULL,
                     NULL, 0);
    free(values);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s\n%s", expr, PQresultErrorMessage(r), buf_cstr(&sql));
    char *out = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    buf_free(&sql);
    segment_sql_free(&q);
    return out;
}

static void test_segment_picks(void **state)
{
    (void)state;
    const struct { const char *expr, *want; } cases[] = {
        { "attribs.city = \"Roma\"", "ann" },
        { "attribs.city contains \"ROMA\"", "ann,cat" },
        { "not attribs.city = \"Roma\"", "bob,cat,dan" },
        { "attribs.city != \"Roma\"", "bob,cat,dan" },
        { "attribs.plan in (\"pro\", \"team\")", "ann,bob" },
        { "attribs.age > 35", "bob" },
        { "attribs.age <= 34", "ann" },
        { "not attribs.age > 35", "ann,cat,dan" },
        { "attribs.vip = true", "ann" },
        { "attribs.vip = false", "bob" },
        { "attribs.since < 2025-01-01", "ann" },
        { "attribs.since exists", "ann,cat" },
        { "not attribs.city exists", "dan" },
        { "email starts_with \"ANN@\" or email contains \"@other.\"", "ann,cat" },
        { "name contains \"50%_off\"", "bob" },
        { "name contains \"%\" and name contains \"_\"", "bob" },
        { "name exists", "ann,bob,cat" },
        { "status = \"blocklisted\"", "dan" },
        { "status in (\"enabled\")", "ann,bob,cat" },
        { "created_at >= 2026-01-01 and created_at < 2026-02-15T00:00:00Z", "ann" },
        { "in_list(\"seg-vip\")", "ann" },
        { "not in_list(\"seg-all\")", "ann,bob,cat,dan" },
        { "sent(campaign = C1)", "ann,bob,cat" },
        { "sent(campaign = C2, within = 3d)", "bob" },
        { "sent(within = 1d)", "" },
        { "opened(campaign = C1) and clicked(campaign = C1, within = 30d)", "ann" },
        { "sent(campaign = C1) and not opened(campaign = C1)", "bob,cat" },
        { "bounced()", "bob,dan" },
        { "bounced(hard, campaign = C2)", "bob" },
        { "bounced(within = 30d)", "bob" },
        { "bounced(soft, since = 2020-01-01)", "dan" },
        { "complained()", "cat" },
        { "attribs.city = \"Roma\" and attribs.plan in (\"pro\", \"team\") and created_at > 2026-01-01"
          " and not bounced(hard) and opened(campaign = C1) and not clicked(campaign = C1, within = 1h)", "" },
        { "(attribs.city = \"Milano\" or complained()) and not status = \"blocklisted\"", "bob,cat" },
        /* attempts at SQL are values: they match what they say, literally */
        { "name = \"x' OR '1'='1\"", "" },
        { "attribs.\"city' OR 1=1 --\" exists", "" },
        { "in_list(\"seg-vip' OR true OR 'x\")", "" },
        { "email contains \"'; DELETE FROM subscribers; --\"", "" },
        { "name = \"Bob 50%_off\" or attribs.city in (\"a\\\"b\", \"c\\\\d\", \"{Roma}\", \"Roma\")", "ann,bob" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = picked(cases[i].expr);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s: picked \"%s\", expected \"%s\"", cases[i].expr, got, cases[i].want);
        free(got);
    }
    PGresult *r = PQexec(conn, "SELECT count(*) FROM subscribers WHERE email LIKE '%@seg.example' OR email LIKE '%@other.example'");
    assert_string_equal(PQgetvalue(r, 0, 0), "4");
    PQclear(r);
}

int main(void)
{
    const char *ci = getenv("POSTINO_TEST_DB");
    if (!ci) {
        fprintf(stderr, "test_segment: POSTINO_TEST_DB is not set\n");
        return 1;
    }
    char err[512];
    conn = pg_connect(ci, err, sizeof(err));
    if (!conn) {
        fprintf(stderr, "test_segment: %s\n", err);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_segment_picks, fixture, rollback),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    PQfinish(conn);
    return rc;
}
