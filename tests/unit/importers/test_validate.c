/* test_validate - column plans, --map, and the checks that turn records into clean rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "importers/validate.h"

/* A record from a NULL-terminated list of fields. */
struct rec {
    struct csv_field f[16];
    struct csv_record r;
};

static const struct csv_record *mkrec(struct rec *x, long line, const char *const *fields)
{
    size_t n = 0;
    for (; fields[n]; n++) {
        x->f[n].data = fields[n];
        x->f[n].len = strlen(fields[n]);
    }
    x->r.line = line;
    x->r.nfields = n;
    x->r.fields = x->f;
    x->r.raw = "raw";
    x->r.rawlen = 3;
    return &x->r;
}

#define FIELDS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void test_validate_header_finds_email_and_name_by_any_usual_name(void **state)
{
    (void)state;
    static const char *const emails[] = { "email", "E-Mail", " Email Address ", "e-mail address", "MAIL" };
    for (size_t i = 0; i < sizeof(emails) / sizeof(emails[0]); i++) {
        struct rec x;
        struct import_columns c;
        char err[200];
        assert_int_equal(import_columns_from_header(&c, mkrec(&x, 1, FIELDS("Name", emails[i], "City", "")), NULL,
                                                    err, sizeof(err)),
                         0);
        assert_int_equal(c.n, 4);
        assert_int_equal(c.email, 1);
        assert_int_equal(c.kind[0], IMPORT_COL_NAME);
        assert_int_equal(c.kind[1], IMPORT_COL_EMAIL);
        assert_int_equal(c.kind[2], IMPORT_COL_ATTR);
        assert_string_equal(c.key[2], "City");
        assert_int_equal(c.kind[3], IMPORT_COL_SKIP);
        import_columns_free(&c);
    }
}

#define KEY50 "k123456789k123456789k123456789k123456789k123456789"
#define LONG_KEY KEY50 KEY50 KEY50 KEY50 "x"    /* 201 bytes */

static void test_validate_header_errors(void **state)
{
    (void)state;
    const struct { const char *const *hdr; const char *err; } cases[] = {
        { FIELDS("name", "city"), "the header has no email column (name one \"email\" or use --map COLUMN=email)" },
        { FIELDS("email", "e-mail"), "the header has two email columns (skip one with --map COLUMN=-)" },
        { FIELDS("email", "name", "full name"), "the header has two name columns (skip one with --map COLUMN=-)" },
        { FIELDS("email", "Stra\xdf" "e"), "line 1: the header is not valid UTF-8 (is the file latin1? try --encoding latin1)" },
        { FIELDS("email", "city", "a\x01" "b"), "column 3: the attribute name holds a control character (rename it with"
          " --map COLUMN=KEY or skip it with --map COLUMN=-)" },
        { FIELDS("email", LONG_KEY), "column 2: the attribute name is longer than 200 bytes (rename it with"
          " --map COLUMN=KEY or skip it with --map COLUMN=-)" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rec x;
        struct import_columns c;
        char err[200];
        assert_int_equal(import_columns_from_header(&c, mkrec(&x, 1, cases[i].hdr), NULL, err, sizeof(err)), -1);
        assert_string_equal(err, cases[i].err);
        import_columns_free(&c);
    }
}

static void test_validate_map_renames_and_skips_columns(void **state)
{
    (void)state;
    struct import_map m = { 0 };
    char err[200];
    assert_int_equal(import_map_add(&m, "Adresse=email", err, sizeof(err)), 0);
    assert_int_equal(import_map_add(&m, "Vorname = name", err, sizeof(err)), 0);
    assert_int_equal(import_map_add(&m, "Ort=city", err, sizeof(err)), 0);
    assert_int_equal(import_map_add(&m, "internal=-", err, sizeof(err)), 0);
    assert_int_equal(import_map_add(&m, "email=", err, sizeof(err)), 0);
    assert_int_equal(import_map_add(&m, "novalue", err, sizeof(err)), -1);
    assert_string_equal(err, "--map takes COLUMN=FIELD, not \"novalue\"");
    struct rec x;
    struct import_columns c;
    assert_int_equal(import_columns_from_header(&c, mkrec(&x, 1, FIELDS("adresse", "Vorname", "Ort", "internal", "email")),
                                                &m, err, sizeof(err)),
                     0);
    assert_int_equal(c.kind[0], IMPORT_COL_EMAIL);
    assert_int_equal(c.kind[1], IMPORT_COL_NAME);
    assert_int_equal(c.kind[2], IMPORT_COL_ATTR);
    assert_string_equal(c.key[2], "city");
    assert_int_equal(c.kind[3], IMPORT_COL_SKIP);
    assert_int_equal(c.kind[4], IMPORT_COL_SKIP);
    import_columns_free(&c);
    assert_int_equal(import_map_add(&m, "Missing=x", err, sizeof(err)), 0);
    assert_int_equal(import_columns_from_header(&c, mkrec(&x, 1, FIELDS("adresse", "Vorname", "Ort", "internal", "email")),
                                                &m, err, sizeof(err)),
                     -1);
    assert_string_equal(err, "--map Missing=…: the header has no column \"Missing\"");
    import_columns_free(&c);
    import_map_free(&m);
}

static void test_validate_csv_rows_are_normalised(void **state)
{
    (void)state;
    struct rec h, x;
    struct import_columns c;
    struct import_row row;
    char err[200];
    assert_int_equal(import_columns_from_header(&c, mkrec(&h, 1, FIELDS("email", "name", "city", "note", "")), NULL,
                                                err, sizeof(err)),
                     0);
    import_row_init(&row);
    assert_int_equal(import_row_from_csv(&row, &c, mkrec(&x, 7, FIELDS("  Ann@Example.COM ", " Ann  ", "Lyon", "", "")),
                                         err, sizeof(err)),
                     0);
    assert_int_equal(row.line, 7);
    assert_string_equal(row.email, "Ann@example.com");
    assert_true(row.has_name);
    assert_string_equal(row.name.data, "Ann");
    assert_string_equal(row.attribs.data, "{\"city\":\"Lyon\"}");
    assert_int_equal(import_row_from_csv(&row, &c, mkrec(&x, 8, FIELDS("h@b\xc3\xbc" "cher.de", "", "a\"b\\c\x01", "x\ny")),
                                         err, sizeof(err)),
                     0);
    assert_string_equal(row.email, "h@xn--bcher-kva.de");
    assert_false(row.has_name);
    assert_string_equal(row.attribs.data, "{\"city\":\"a\\\"b\\\\c\\u0001\",\"note\":\"x\\u000ay\"}");
    /* Trailing empty columns beyond the header are fine; short rows too. */
    assert_int_equal(import_row_from_csv(&row, &c, mkrec(&x, 9, FIELDS("z@example.com", "Z", "", "", "", "", " ")),
                                         err, sizeof(err)),
                     0);
    assert_int_equal(import_row_from_csv(&row, &c, mkrec(&x, 10, FIELDS("y@example.com")), err, sizeof(err)), 0);
    assert_string_equal(row.attribs.data, "{}");
    assert_int_equal(import_row_from_csv(&row, &c, mkrec(&x, 11, FIELDS("\"Yves Z\" <Yves@Example.com>")), err, sizeof(err)), 0);
    assert_string_equal(row.email, "Yves@example.com");
    /* a name on two lines, as messy exports have it: kept (headers write the break as a space) */
    assert_int_equal(import_row_from_csv(&row, &c, mkrec(&x, 12, FIELDS("m@example.com", " Marie\r\n\tCurie\n")),
                                         err, sizeof(err)),
                     0);
    assert_string_equal(row.name.data, "Marie\r\n\tCurie");
    import_row_free(&row);
    import_columns_free(&c);
}

static void test_validate_csv_rejects_with_a_reason(void **state)
{
    (void)state;
    const struct { const char *const *fields; const char *why; } cases[] = {
        { FIELDS("", "A", "x"), "no email address" },
        { FIELDS("   ", "A", "x"), "no email address" },
        { FIELDS("not-an-address", "A", "x"), "invalid address \"not-an-address\": no @" },
        { FIELDS("a b@example.com", "A", "x"), "invalid address \"a b@example.com\": contains spaces" },
        { FIELDS("a@b@example.com", "A", "x"), "invalid address \"a@b@example.com\": more than one @" },
        { FIELDS("a@localhost", "A", "x"), "invalid address \"a@localhost\": domain has no dot" },
        { FIELDS("a@example.com", "Ren\xe9", "x"), "invalid UTF-8 in column \"name\" at byte 4" },
        { FIELDS("a@example.com", "A", "x", "extra"), "4 fields, the header has 3" },
        { FIELDS("a@example.com", "Ann\x07Lee", "x"), "the subscriber name holds a control character" },
        { FIELDS("a@example.com", "Ann\x1b[2J", "x"), "the subscriber name holds a control character" },
        { FIELDS("a@example.com", "Ann\x7f", "x"), "the subscriber name holds a control character" },
    };
    struct rec h, x;
    struct import_columns c;
    struct import_row row;
    char err[200];
    assert_int_equal(import_columns_from_header(&c, mkrec(&h, 1, FIELDS("email", "name", "city")), NULL, err, sizeof(err)), 0);
    import_row_init(&row);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(import_row_from_csv(&row, &c, mkrec(&x, 2, cases[i].fields), err, sizeof(err)), -1);
        assert_string_equal(err, cases[i].why);
    }
    /* A NUL byte, and an address longer than 254 octets. */
    struct csv_field f[3] = { { "a@example.com", 13 }, { "A\0B", 3 }, { "", 0 } };
    struct csv_record r = { 3, 3, f, "", 0 };
    assert_int_equal(import_row_from_csv(&row, &c, &r, err, sizeof(err)), -1);
    assert_string_equal(err, "NUL byte in column \"name\"");
    char longaddr[300];
    memset(longaddr, 'a', 250);
    strcpy(longaddr + 250, "@example.com");
    assert_int_equal(import_row_from_csv(&row, &c, mkrec(&x, 4, FIELDS(longaddr, "A", "x")), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "longer than 254 octets"));
    import_row_free(&row);
    import_columns_free(&c);
}

static void test_validate_xml_rows_and_their_lists(void **state)
{
    (void)state;
    struct import_lists lists = { 0 };
    import_lists_add(&lists, "news", 3);
    import_lists_add(&lists, "offers", 9);
    struct import_map m = { 0 };
    char err[200];
    assert_int_equal(import_map_add(&m, "internal=-", err, sizeof(err)), 0);
    assert_int_equal(import_map_add(&m, "town=city", err, sizeof(err)), 0);
    struct xml_attr attrs[] = { { "town", " Lyon " }, { "internal", "42" }, { "plan", "" } };
    const char *names[] = { "offers", " news " };
    struct xml_record rec = { 5, " Bob@EXAMPLE.com", " Bob ", 3, attrs, 2, names, NULL };
    struct import_row row;
    import_row_init(&row);
    assert_int_equal(import_row_from_xml(&row, &rec, &m, &lists, err, sizeof(err)), 0);
    assert_string_equal(row.email, "Bob@example.com");
    assert_string_equal(row.name.data, "Bob");
    assert_string_equal(row.attribs.data, "{\"city\":\"Lyon\"}");
    assert_int_equal(row.nlists, 2);
    assert_int_equal(row.lists[0], 9);
    assert_int_equal(row.lists[1], 3);
    const char *unknown[] = { "news", "gone" };
    rec.lists = unknown;
    assert_int_equal(import_row_from_xml(&row, &rec, &m, &lists, err, sizeof(err)), -1);
    assert_string_equal(err, "unknown list \"gone\"");
    rec.nlists = 0;
    rec.email = NULL;
    assert_int_equal(import_row_from_xml(&row, &rec, &m, &lists, err, sizeof(err)), -1);
    assert_string_equal(err, "no email address");
    rec.email = "bob@example.com";
    rec.name = "Bob\x01";
    assert_int_equal(import_row_from_xml(&row, &rec, &m, &lists, err, sizeof(err)), -1);
    assert_string_equal(err, "the subscriber name holds a control character");
    rec.name = "Bob\nBuilder";
    assert_int_equal(import_row_from_xml(&row, &rec, &m, &lists, err, sizeof(err)), 0);
    assert_string_equal(row.name.data, "Bob\nBuilder");
    rec.problem = "two different email addresses";
    assert_int_equal(import_row_from_xml(&row, &rec, &m, &lists, err, sizeof(err)), -1);
    assert_string_equal(err, "two different email addresses");
    import_row_free(&row);
    import_map_free(&m);
    import_lists_free(&lists);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate_header_finds_email_and_name_by_any_usual_name),
        cmocka_unit_test(test_validate_header_errors),
        cmocka_unit_test(test_validate_map_renames_and_skips_columns),
        cmocka_unit_test(test_validate_csv_rows_are_normalised),
        cmocka_unit_test(test_validate_csv_rejects_with_a_reason),
        cmocka_unit_test(test_validate_xml_rows_and_their_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
