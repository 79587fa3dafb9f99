/*
 * test_segment - the filter language: what SQL and values it compiles to,
 * that no text of the filter reaches the SQL, and its errors with their line
 * and column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mail/segment.h"
#include "engine/util/buf.h"

/* compile EXPR with values from $FIRST, or fail the test with the error */
static struct segment_sql ok(const char *expr, int first)
{
    struct segment_sql q;
    char err[256] = "";
    if (segment_compile(expr, first, &q, err, sizeof(err)) < 0)
        fail_msg("%s: %s", expr, err);
    return q;
}

static void test_segment_sql_and_values(void **state)
{
    (void)state;
    struct segment_sql q = ok("attribs.city = \"Roma\" and created_at > 2026-01-01", 1);
    assert_string_equal(q.sql, "((((s.attribs->>($1::text[])[1]::text) = ($1::text[])[2]::text)"
                               " AND (s.created_at > ($1::text[])[3]::timestamptz)))");
    assert_int_equal(q.nparams, 3);
    assert_string_equal(q.params[0], "city");
    assert_string_equal(q.params[1], "Roma");
    assert_string_equal(q.params[2], "2026-01-01");
    segment_sql_free(&q);

    q = ok("NOT bounced(hard) Or opened(campaign = 12, within = 30d)", 1);
    assert_string_equal(q.sql,
                        "((NOT EXISTS (SELECT 1 FROM bounces b WHERE b.subscriber_id = s.id AND b.class = ($1::text[])[1]::text))"
                        " OR (EXISTS (SELECT 1 FROM opens x JOIN deliveries d ON d.id = x.delivery_id"
                        " WHERE d.subscriber_id = s.id AND x.campaign_id = ($1::text[])[2]::bigint AND x.last_at > now() - ($1::text[])[3]::interval)))");
    assert_string_equal(q.params[0], "hard");
    assert_string_equal(q.params[1], "12");
    assert_string_equal(q.params[2], "30 days");
    segment_sql_free(&q);

    q = ok("email contains \"50%_off\\\\\" and name starts_with \"Ann\"", 1);
    assert_string_equal(q.sql, "(((lower(s.email) LIKE lower(($1::text[])[1]::text))"
                               " AND (lower(s.name) LIKE lower(($1::text[])[2]::text))))");
    assert_string_equal(q.params[0], "%50\\%\\_off\\\\%");
    assert_string_equal(q.params[1], "Ann%");
    segment_sql_free(&q);

    /* != is not =, so a missing attribute is "not Roma"; in keeps its values apart */
    q = ok("attribs.city != \"Roma\" and attribs.plan in (\"pro\", \"team\")", 1);
    assert_string_equal(q.sql, "((NOT coalesce((s.attribs->>($1::text[])[1]::text) = ($1::text[])[2]::text, false)"
                               " AND ((s.attribs->>($1::text[])[3]::text) IN (($1::text[])[4]::text, ($1::text[])[5]::text))))");
    segment_sql_free(&q);

    /* a test is made false rather than NULL only under an odd number of NOTs */
    q = ok("not not attribs.a = 1 and not attribs.b != \"x\" and not (id = 1 and not id = 2)", 1);
    assert_non_null(strstr(q.sql, "NOT NOT ((CASE WHEN"));
    assert_non_null(strstr(q.sql, "AND NOT NOT ((s.attribs->>($1::text[])[3]::text) = ($1::text[])[4]::text)"));
    assert_non_null(strstr(q.sql, "AND NOT ((coalesce(s.id = ($1::text[])[5]::bigint, false) AND NOT (s.id = ($1::text[])[6]::bigint))))"));
    segment_sql_free(&q);

    /* the value's type says how an attribute is read */
    q = ok("attribs.age >= 18 and attribs.vip = TRUE and attribs.since < 2025-06-01 and attribs.\"first name\" exists", 1);
    assert_non_null(strstr(q.sql, ")::numeric END) >= ($1::text[])[2]::numeric"));
    assert_non_null(strstr(q.sql, "::boolean WHEN 'string' THEN"));
    assert_non_null(strstr(q.sql, "left(s.attribs->>($1::text[])[5]::text, 10) END) < ($1::text[])[6]::text"));
    assert_non_null(strstr(q.sql, "(s.attribs ? ($1::text[])[7]::text)"));
    assert_string_equal(q.params[3], "true");
    assert_string_equal(q.params[6], "first name");
    segment_sql_free(&q);

    q = ok("in_list(\"vip\") and in_list(7) and complained(since = 2026-03-01T10:00:00+01:00) and sent()", 1);
    assert_non_null(strstr(q.sql, "sl.status = 'confirmed' AND l.name = ($1::text[])[1]::text)"));
    assert_non_null(strstr(q.sql, "l.id = ($1::text[])[2]::bigint)"));
    assert_non_null(strstr(q.sql, "b.class = 'complaint' AND b.received_at >= ($1::text[])[3]::timestamptz)"));
    assert_non_null(strstr(q.sql, "d.state = 'sent')"));
    assert_string_equal(q.params[2], "2026-03-01T10:00:00+01:00");
    segment_sql_free(&q);

    /* precedence: and binds tighter than or; not takes one factor */
    q = ok("id = 1 or id = 2 and not (id = 3 or id = 4)", 1);
    assert_string_equal(q.sql, "(((s.id = ($1::text[])[1]::bigint)) OR ((s.id = ($1::text[])[2]::bigint)"
                               " AND NOT ((coalesce(s.id = ($1::text[])[3]::bigint, false)) OR (coalesce(s.id = ($1::text[])[4]::bigint, false)))))");
    segment_sql_free(&q);
}

/* whatever a value holds, the SQL holds only the compiler's words and placeholders */
static void test_segment_injection_is_a_value(void **state)
{
    (void)state;
    static const char *const hostile[] = {
        "name = \"x'); DROP TABLE subscribers; --\"",
        "attribs.\"a' OR 1=1 --\" = \"v\"",
        "attribs.\"k\\\" $1 \" exists",
        "email = \"($1::text[])[1]::text) OR (true\"",
        "in_list(\"vip') OR true OR ('\")",
        "bounced(hard, campaign = 3) and name contains \"%' OR '1'='1\"",
    };
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        struct segment_sql q = ok(hostile[i], 1);
        for (const char *c = q.sql; *c; c++)
            if (*c == '\'' ) {
                /* the compiler's own literals only: 'confirmed', 'number', ... never one from the input */
                const char *end = strchr(c + 1, '\'');
                assert_non_null(end);
                char lit[32];
                snprintf(lit, sizeof(lit), "%.*s", (int)(end - c - 1), c + 1);
                const char *known[] = { "number", "boolean", "string", "true", "false", "complaint", "sent",
                                        "confirmed", "^[0-9]{4}-[0-9]{2}-[0-9]{2}", NULL };
                int found = 0;
                for (int k = 0; known[k]; k++)
                    found |= strcmp(lit, known[k]) == 0;
                if (!found)
                    fail_msg("%s: a literal '%s' in %s", hostile[i], lit, q.sql);
                c = end;
            }
        assert_null(strstr(q.sql, "DROP"));
        assert_null(strstr(q.sql, "OR true"));
        assert_null(strstr(q.sql, "1=1"));
        segment_sql_free(&q);
    }
    struct segment_sql q = ok(hostile[0], 1);
    assert_string_equal(q.params[0], "x'); DROP TABLE subscribers; --");
    segment_sql_free(&q);
    q = ok(hostile[1], 1);
    assert_string_equal(q.params[0], "a' OR 1=1 --");
    segment_sql_free(&q);
}

/* the values as one text[]: quotes and backslashes escaped, nothing else touched */
static void test_segment_params_literal(void **state)
{
    (void)state;
    struct segment_sql q = ok("name = \"a\\\"b\" or name = \"c\\\\d\" or name = \"{x, y}\" or name = \"\"", 1);
    char *lit = segment_params_literal(&q);
    assert_string_equal(lit, "{\"a\\\"b\",\"c\\\\d\",\"{x, y}\",\"\"}");
    free(lit);
    segment_sql_free(&q);
}

static void test_segment_errors_say_where(void **state)
{
    (void)state;
    const struct { const char *expr, *err; } cases[] = {
        { "", "line 1, column 1: the filter is empty" },
        { "  \n ", "line 1, column 1: the filter is empty" },
        { "city = \"Roma\"", "line 1, column 1: unknown field \"city\" (email, name, status, id, created_at, attribs.KEY;"
                             " or in_list, sent, opened, clicked, bounced, complained followed by \"(\")" },
        { "attribs.city = \"Roma\" and\n  attribs.plan =", "line 2, column 17: expected a value (a \"string\", a number,"
                                                            " a date such as 2026-01-31, true or false), found the end" },
        { "attribs.city = \"Roma", "line 1, column 16: a string is not closed (a \" is missing)" },
        { "name = \"a\\qb\"", "line 1, column 10: unknown escape in a string (\\\" \\\\ \\n \\t are known)" },
        { "(id = 1", "line 1, column 8: expected \")\", found the end" },
        { "id = 1 id = 2", "line 1, column 8: expected and, or or the end, found \"id\"" },
        { "id == 1", "line 1, column 5: expected a value (a \"string\", a number, a date such as 2026-01-31, true or false),"
                     " found \"=\"" },
        { "id = 1.5", "line 1, column 6: id is a whole number, not 1.5" },
        { "email = 3", "line 1, column 9: email is compared with a string, not a number" },
        { "created_at > \"yesterday\"", "line 1, column 14: created_at is compared with a date, not a string" },
        { "created_at > 2026-02-30", "line 1, column 14: the date \"2026-02-30\" is not a date of the calendar" },
        { "created_at > 2025-02-29", "line 1, column 14: the date \"2025-02-29\" is not a date of the calendar" },
        { "created_at > 2026-01-01T25:00", "line 1, column 14: the date \"2026-01-01T25:00\" has an hour or a minute out"
                                           " of range" },
        { "status = \"active\"", "line 1, column 10: status is \"enabled\", \"disabled\" or \"blocklisted\", not \"active\"" },
        { "status > \"enabled\"", "line 1, column 8: status is compared with = or != only" },
        { "attribs.vip > true", "line 1, column 13: true or false is compared with = or != only" },
        { "attribs.x in (\"a\", 2)", "line 1, column 20: the values of in are all a string; this one is a number" },
        { "attribs.d = 2026-01-01T10:00", "line 1, column 13: attributes are compared as dates (2026-01-31), without a"
                                         " time of day" },
        { "attribs = 1", "line 1, column 9: expected \".\" and an attribute's name after attribs, found \"=\"" },
        { "attribs.\"\" exists", "line 1, column 9: the attribute name is empty" },
        { "id contains \"1\"", "line 1, column 1: id cannot be searched with contains" },
        { "name contains 3", "line 1, column 15: expected a string after contains, found a number" },
        { "bounced(complaint)", "line 1, column 9: a bounce's class is hard, soft, policy or unknown, not \"complaint\""
                                " (complaints: complained())" },
        { "opened(campaign = 1, campaign = 2)", "line 1, column 22: campaign is given twice" },
        { "opened(within = 30)", "line 1, column 17: expected a duration (12h, 30d, 2w), found a number" },
        { "opened(within = 30y)", "line 1, column 19: unexpected \"y\" after \"30\"" },
        { "sent(campaign = -1)", "line 1, column 17: expected a campaign's number, found a number" },
        { "clicked(link = 3)", "line 1, column 9: expected campaign = N, within = 30d or since = 2026-01-31, found \"link\"" },
        { "in_list(vip)", "line 1, column 9: expected a list's name (a string) or number, found \"vip\"" },
        { "id = 1 & id = 2", "line 1, column 8: unexpected \"&\"" },
        { "id = 1 or \xc3\xa9", "line 1, column 11: unexpected byte 0xc3" },
        { "name = \"caf\xc3\"", "line 1, column 1: the filter is not valid UTF-8 text" },
        { "name = \"tab\there\"", "line 1, column 12: a control character in a string (write \\n or \\t)" },
        { "\xc3\xa9\xc3\xa9 = 1", "line 1, column 1: unexpected byte 0xc3" },
        { "status = \"a\\nb\"", "line 1, column 10: status is \"enabled\", \"disabled\" or \"blocklisted\", not \"a?b\"" },
        { "status = \"0123456789012345678901234567890123456789\xc3\xa9\"",
          "line 1, column 10: status is \"enabled\", \"disabled\" or \"blocklisted\", not"
          " \"0123456789012345678901234567890123456789\"" },
        { "status = \"012345678901234567890123456789012345678\xc3\xa9\"",
          "line 1, column 10: status is \"enabled\", \"disabled\" or \"blocklisted\", not"
          " \"012345678901234567890123456789012345678\"" },
        { "name = \"\xc3\xa9\" and x", "line 1, column 16: unknown field \"x\" (email, name, status, id, created_at,"
                                    " attribs.KEY; or in_list, sent, opened, clicked, bounced, complained followed by \"(\")" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct segment_sql q = { 0 };
        char err[512] = "";
        if (segment_compile(cases[i].expr, 1, &q, err, sizeof(err)) == 0)
            fail_msg("%s: compiled to %s", cases[i].expr, q.sql);
        if (strcmp(err, cases[i].err) != 0)
            fail_msg("%s:\n  got      %s\n  expected %s", cases[i].expr, err, cases[i].err);
        assert_null(q.sql);
    }
}

static void test_segment_limits(void **state)
{
    (void)state;
    struct buf b;
    char err[256];
    struct segment_sql q;
    buf_init(&b);
    for (int i = 0; i < SEGMENT_MAX_DEPTH - 1; i++)
        buf_appendc(&b, '(');
    buf_appends(&b, "id = 1");
    for (int i = 0; i < SEGMENT_MAX_DEPTH - 1; i++)
        buf_appendc(&b, ')');
    q = ok(buf_cstr(&b), 1);
    segment_sql_free(&q);
    buf_reset(&b);
    for (int i = 0; i < SEGMENT_MAX_DEPTH; i++)
        buf_appendc(&b, '(');
    buf_appends(&b, "id = 1");
    assert_int_equal(segment_compile(buf_cstr(&b), 1, &q, err, sizeof(err)), -1);
    assert_string_equal(err, "line 1, column 33: the filter nests more than 32 deep");
    buf_reset(&b);
    for (int i = 0; i < SEGMENT_MAX_DEPTH; i++)
        buf_appends(&b, "not ");
    buf_appends(&b, "id = 1");
    assert_int_equal(segment_compile(buf_cstr(&b), 1, &q, err, sizeof(err)), -1);
    assert_string_equal(err, "line 1, column 129: the filter nests more than 32 deep");

    buf_reset(&b);
    for (int i = 0; i < SEGMENT_MAX_TESTS; i++)
        buf_appendf(&b, "%sid = %d", i ? " or " : "", i);
    q = ok(buf_cstr(&b), 1);
    assert_int_equal(q.nparams, SEGMENT_MAX_TESTS);
    segment_sql_free(&q);
    buf_appends(&b, " or sent()");
    assert_int_equal(segment_compile(buf_cstr(&b), 1, &q, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ": more than 100 tests in one filter"));

    buf_reset(&b);
    buf_appends(&b, "attribs.n in (");
    for (int i = 0; i <= SEGMENT_MAX_VALUES; i++)
        buf_appendf(&b, "%s%d", i ? ", " : "", i);
    buf_appends(&b, ")");
    assert_int_equal(segment_compile(buf_cstr(&b), 1, &q, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ": more than 100 values in one in (...)"));

    buf_reset(&b);
    buf_appends(&b, "name = \"");
    while (b.len < SEGMENT_MAX_LEN)
        buf_appendc(&b, 'x');
    buf_appends(&b, "\"");
    assert_int_equal(segment_compile(buf_cstr(&b), 1, &q, err, sizeof(err)), -1);
    assert_string_equal(err, "line 1, column 8193: the filter is longer than 8192 bytes");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_segment_sql_and_values),
        cmocka_unit_test(test_segment_injection_is_a_value),
        cmocka_unit_test(test_segment_params_literal),
        cmocka_unit_test(test_segment_errors_say_where),
        cmocka_unit_test(test_segment_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
