/*
 * test_preview - what an import would read, shown before it runs (import_preview),
 * the first rejects kept for the summary, the options of several lists,
 * and the progress an import tells (no database).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "importers/import.h"

#define DATA "tests/data/import/"

static char *write_temp(const char *data, size_t len)
{
    char *path = xstrdup("/tmp/postino-test-preview-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

/* the preview of PATH with O as compact JSON, keys sorted (the caller frees it) */
static char *preview_of(const char *path, struct import_opts *o, const struct import_lists *lists, size_t rows)
{
    char err[512];
    o->path = path;
    json_t *j = import_preview(o, lists, rows, false, err, sizeof(err));
    if (!j)
        fail_msg("preview failed: %s", err);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    return s;
}

/* the columns as the header names them (or as mapped), each row checked in the import's words */
static void test_preview_csv_columns_mapped_rows_checked(void **state)
{
    (void)state;
    static const char csv[] = "E-Mail;Full Name;City;Notes\r\n"
                              "ann@example.com;Ann;Lyon;vip\r\n"
                              "not-an-email;Nobody;;\r\n"
                              "=cmd;x;;\r\n"
                              "ben@M\xc3\xbcnchen.de;;Munich;\r\n";
    char *path = write_temp(csv, sizeof(csv) - 1);
    struct import_opts o = { 0 };
    char *s = preview_of(path, &o, NULL, 20);
    assert_string_equal(s,
        "{\"bom\":false,\"columns\":["
        "{\"field\":\"email\",\"header\":\"E-Mail\",\"index\":0},"
        "{\"field\":\"name\",\"header\":\"Full Name\",\"index\":1},"
        "{\"field\":\"attribute\",\"header\":\"City\",\"index\":2,\"key\":\"City\"},"
        "{\"field\":\"attribute\",\"header\":\"Notes\",\"index\":3,\"key\":\"Notes\"}],"
        "\"delimiter\":\";\",\"encoding\":\"utf-8\",\"encoding_detected\":\"utf-8\",\"error\":null,"
        "\"format\":\"csv\",\"more\":false,\"rows\":["
        "{\"attributes\":{\"City\":\"Lyon\",\"Notes\":\"vip\"},\"email\":\"ann@example.com\",\"line\":2,\"lists\":[],"
        "\"name\":\"Ann\"},"
        "{\"line\":3,\"rejected\":\"invalid address \\\"not-an-email\\\": no @\",\"row\":\"not-an-email;Nobody;;\"},"
        "{\"line\":4,\"rejected\":\"invalid address \\\"=cmd\\\": no @\",\"row\":\"=cmd;x;;\"},"
        "{\"attributes\":{\"City\":\"Munich\"},\"email\":\"ben@xn--mnchen-3ya.de\",\"line\":5,\"lists\":[],"
        "\"name\":null}]}");
    free(s);

    /* the mapping changed: City is the attribute "town", Notes skipped, the name an attribute */
    struct import_map map = { 0 };
    char err[256];
    assert_int_equal(import_map_add(&map, "City=town", err, sizeof(err)), 0);
    assert_int_equal(import_map_add(&map, "Notes=-", err, sizeof(err)), 0);
    assert_int_equal(import_map_add(&map, "Full Name=nick", err, sizeof(err)), 0);
    struct import_opts o2 = { .map = &map };
    s = preview_of(path, &o2, NULL, 1);
    assert_string_equal(s,
        "{\"bom\":false,\"columns\":["
        "{\"field\":\"email\",\"header\":\"E-Mail\",\"index\":0},"
        "{\"field\":\"attribute\",\"header\":\"Full Name\",\"index\":1,\"key\":\"nick\"},"
        "{\"field\":\"attribute\",\"header\":\"City\",\"index\":2,\"key\":\"town\"},"
        "{\"field\":\"skip\",\"header\":\"Notes\",\"index\":3}],"
        "\"delimiter\":\";\",\"encoding\":\"utf-8\",\"encoding_detected\":\"utf-8\",\"error\":null,"
        "\"format\":\"csv\",\"more\":true,\"rows\":["
        "{\"attributes\":{\"nick\":\"Ann\",\"town\":\"Lyon\"},\"email\":\"ann@example.com\",\"line\":2,\"lists\":[],"
        "\"name\":null}]}");
    free(s);
    import_map_free(&map);
    unlink(path);
    xfree(path);
}

/* a latin1 export: seen as not UTF-8 (its rows rejected naming the column), read right once named */
static void test_preview_latin1_detected_then_read_when_named(void **state)
{
    (void)state;
    struct import_opts o = { 0 };
    char *s = preview_of(DATA "latin1.csv", &o, NULL, 20);
    json_t *j = json_loads(s, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "encoding_detected")), "windows-1252");
    assert_string_equal(json_string_value(json_object_get(j, "encoding")), "utf-8");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "rows"), 0), "rejected")),
                        "invalid UTF-8 in column \"name\" at byte 4");
    /* the row's text shown as valid UTF-8: the bad byte a replacement character */
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "rows"), 0), "row")),
                        "rene@example.com,Ren\xef\xbf\xbd,Orl\xef\xbf\xbd" "ans");
    json_decref(j);
    free(s);
    struct import_opts l1 = { .encoding = "latin1" };
    s = preview_of(DATA "latin1.csv", &l1, NULL, 20);
    j = json_loads(s, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "encoding")), "latin1");
    json_t *r0 = json_array_get(json_object_get(j, "rows"), 0);
    assert_string_equal(json_string_value(json_object_get(r0, "name")), "Ren\xc3\xa9");
    assert_string_equal(json_string_value(json_object_get(json_object_get(r0, "attributes"), "city")),
                        "Orl\xc3\xa9" "ans");
    json_decref(j);
    free(s);
    struct import_opts bad = { .encoding = "klingon-8" };
    char err[256];
    bad.path = DATA "latin1.csv";
    assert_null(import_preview(&bad, NULL, 20, false, err, sizeof(err)));
    assert_string_equal(err, "unknown encoding \"klingon-8\"");
}

/* a file the import would refuse whole is still described, with the reason; a BOM is seen */
static void test_preview_header_errors_described(void **state)
{
    (void)state;
    static const char csv[] = "\xef\xbb\xbf" "address,who\nann@example.com,Ann\n";
    char *path = write_temp(csv, sizeof(csv) - 1);
    struct import_opts o = { 0 };
    char *s = preview_of(path, &o, NULL, 20);
    assert_string_equal(s,
        "{\"bom\":true,\"columns\":["
        "{\"field\":\"attribute\",\"header\":\"address\",\"index\":0,\"key\":\"address\"},"
        "{\"field\":\"attribute\",\"header\":\"who\",\"index\":1,\"key\":\"who\"}],"
        "\"delimiter\":\",\",\"encoding\":\"utf-8\",\"encoding_detected\":\"utf-8\","
        "\"error\":\"the header has no email column (name one \\\"email\\\" or use --map COLUMN=email)\","
        "\"format\":\"csv\",\"more\":false,\"rows\":[]}");
    free(s);
    struct import_map map = { 0 };
    char err[256];
    assert_int_equal(import_map_add(&map, "address=email", err, sizeof(err)), 0);
    struct import_opts o2 = { .map = &map };
    s = preview_of(path, &o2, NULL, 20);
    json_t *j = json_loads(s, 0, NULL);
    assert_true(json_is_null(json_object_get(j, "error")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "rows"), 0), "email")),
                        "ann@example.com");
    json_decref(j);
    free(s);
    import_map_free(&map);
    unlink(path);
    xfree(path);
    /* empty: no header */
    path = write_temp("", 0);
    struct import_opts o3 = { .format_given = true, .format = IMPORT_FORMAT_CSV };
    s = preview_of(path, &o3, NULL, 20);
    j = json_loads(s, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "error")),
                        "the file is empty (a CSV file starts with a header row)");
    json_decref(j);
    free(s);
    unlink(path);
    xfree(path);
}

/* XML: the records checked as the import checks them, <list> names against the lists given */
static void test_preview_xml_rows(void **state)
{
    (void)state;
    struct import_lists lists = { 0 };
    import_lists_add(&lists, "extra", 5);
    struct import_opts o = { 0 };
    char *s = preview_of(DATA "subscribers.xml", &o, &lists, 4);
    json_t *j = json_loads(s, 0, NULL);
    json_t *rows = json_object_get(j, "rows");
    assert_string_equal(json_string_value(json_object_get(j, "format")), "xml");
    assert_true(json_is_null(json_object_get(j, "delimiter")));
    assert_int_equal(json_array_size(rows), 4);
    assert_true(json_is_true(json_object_get(j, "more")));
    assert_int_equal(json_integer_value(json_array_get(json_object_get(json_array_get(rows, 0), "lists"), 0)), 5);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 1), "name")), "Ben <B>");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 2), "rejected")),
                        "unknown list \"no-such-list\"");
    assert_true(json_is_null(json_object_get(j, "error")));
    json_decref(j);
    free(s);
    import_lists_free(&lists);
}

/* the start of a file, cut in a record: that record is left out, more follows, no error */
static void test_preview_partial_file(void **state)
{
    (void)state;
    struct buf xml = BUF_INIT;
    buf_appends(&xml, "<subscribers>");
    for (int i = 0; i < 300; i++)
        buf_appendf(&xml, "<subscriber email=\"s%d@example.com\"><name>S %d</name></subscriber>\n", i, i);
    buf_appends(&xml, "<subscriber email=\"b@exa");
    static const char csv[] = "email,name\na@example.com,A\nb@exa";
    char err[256];
    char *px = write_temp(xml.data, xml.len), *pc = write_temp(csv, sizeof(csv) - 1);
    for (int partial = 0; partial < 2; partial++) {
        struct import_opts ox = { .path = px }, oc = { .path = pc };
        json_t *x = import_preview(&ox, NULL, 400, partial, err, sizeof(err));
        json_t *c = import_preview(&oc, NULL, 20, partial, err, sizeof(err));
        assert_true(json_array_size(json_object_get(x, "rows")) > 0);
        assert_int_equal(json_array_size(json_object_get(c, "rows")), partial ? 1 : 2);
        assert_int_equal(json_is_null(json_object_get(x, "error")), partial);
        assert_true(json_is_null(json_object_get(c, "error")));
        assert_int_equal(json_is_true(json_object_get(x, "more")), partial);
        assert_int_equal(json_is_true(json_object_get(c, "more")), partial);
        json_decref(x);
        json_decref(c);
    }
    buf_free(&xml);
    unlink(px);
    unlink(pc);
    xfree(px);
    xfree(pc);
}

static int count_row(void *arg, const struct import_row *row, char *err, size_t errlen)
{
    (void)arg;
    (void)row;
    (void)err;
    (void)errlen;
    return 0;
}

/* the summary keeps the first rejected records: line, reason, the row (a formula after a quote, as in the rejects file) */
static void test_summary_first_rejects(void **state)
{
    (void)state;
    struct buf csv = BUF_INIT;
    buf_appends(&csv, "email,name\n=1+2,x\nok@example.com,ok\n,empty\n");
    for (int i = 0; i < 12; i++)
        buf_appendf(&csv, "bad%d,B\xc3\xa9\xff\n", i);
    char *path = write_temp(csv.data, csv.len);
    struct import_opts o = { .format_given = true };
    struct import_counts c = { 0 };
    char err[256];
    struct import_source *src = import_source_open(path, err, sizeof(err));
    struct import_sink sink = { count_row, NULL };
    FILE *rej = tmpfile();
    assert_int_equal(import_parse(src, &o, IMPORT_FORMAT_CSV, NULL, &sink, rej, &c, err, sizeof(err)), 0);
    fclose(rej);
    import_source_close(src);
    assert_int_equal(c.rejected, 14);
    assert_int_equal(c.nfirst, 10);
    json_t *j = import_summary_json(&o, "f", &c);
    json_t *first = json_object_get(j, "first_rejects");
    char *s = json_dumps(json_array_get(first, 0), JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"line\":2,\"reason\":\"invalid address \\\"=1+2\\\": no @\",\"row\":\"'=1+2,x\"}");
    free(s);
    s = json_dumps(json_array_get(first, 1), JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"line\":4,\"reason\":\"no email address\",\"row\":\",empty\"}");
    free(s);
    /* a row that is not UTF-8 is shown with a replacement character; the tenth is the last kept */
    json_t *third = json_array_get(first, 2);
    assert_string_equal(json_string_value(json_object_get(third, "row")), "bad0,B\xc3\xa9\xef\xbf\xbd");
    assert_int_equal(json_array_size(first), 10);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(first, 9), "line")), 12);
    json_decref(j);
    buf_free(&csv);
    unlink(path);
    xfree(path);
}

/* "list" again is one more list; several are for subscribing only; one is needed unless blocklisting */
static void test_import_options_several_lists(void **state)
{
    (void)state;
    struct import_opts o = { 0 };
    char why[128];
    assert_int_equal(import_opts_check(&o, why, sizeof(why)), -1);
    assert_string_equal(why, "a list is required (except with mode blocklist)");
    assert_int_equal(import_option(&o, "list", "news", why, sizeof(why)), 0);
    assert_int_equal(import_option(&o, "list", "offers", why, sizeof(why)), 0);
    assert_int_equal(import_option(&o, "list", "7", why, sizeof(why)), 0);
    assert_string_equal(o.load.list, "news");
    assert_int_equal(o.nmore, 2);
    assert_string_equal(o.more_lists[0], "offers");
    assert_string_equal(o.more_lists[1], "7");
    assert_int_equal(import_opts_check(&o, why, sizeof(why)), 0);
    assert_int_equal(import_option(&o, "mode", "unsubscribe", why, sizeof(why)), 0);
    assert_int_equal(import_opts_check(&o, why, sizeof(why)), -1);
    assert_string_equal(why, "several lists are for mode subscribe only");
    struct import_opts many = { 0 };
    for (int i = 0; i < IMPORT_LISTS_MAX; i++)
        assert_int_equal(import_option(&many, "list", "l", why, sizeof(why)), 0);
    assert_int_equal(import_option(&many, "list", "l", why, sizeof(why)), -1);
    assert_string_equal(why, "is given more than 20 times");
    struct import_opts block = { 0 };
    assert_int_equal(import_option(&block, "mode", "blocklist", why, sizeof(why)), 0);
    assert_int_equal(import_opts_check(&block, why, sizeof(why)), 0);
}

struct seen {
    struct buf rows;
    long long last_rows, last_bytes, last_total, calls;
};

static int seen_row(void *arg, const struct import_row *row, char *err, size_t errlen)
{
    struct seen *s = arg;
    (void)err;
    (void)errlen;
    if (row->line <= 3) {
        buf_appendf(&s->rows, "%ld %s", row->line, row->email);
        for (size_t i = 0; i < row->nlists; i++)
            buf_appendf(&s->rows, " list=%lld", row->lists[i]);
        buf_appendc(&s->rows, '\n');
    }
    return 0;
}

static void on_progress(void *arg, const struct import_progress *p)
{
    struct seen *s = arg;
    assert_string_equal(p->phase, "reading");
    assert_true(p->rows >= s->last_rows);
    s->last_rows = p->rows;
    s->last_bytes = p->bytes_read;
    s->last_total = p->bytes_total;
    s->calls++;
}

/* every clean row joins the further lists; the progress ends at every row and byte read */
static void test_import_further_lists_and_progress(void **state)
{
    (void)state;
    struct buf csv = BUF_INIT;
    buf_appends(&csv, "email,name\n");
    for (int i = 0; i < 10000; i++)
        buf_appendf(&csv, "user%d@example.com,User %d\n", i, i);
    char *path = write_temp(csv.data, csv.len);
    struct seen s = { BUF_INIT, 0, 0, 0, 0 };
    struct import_opts o = { .on_progress = on_progress, .progress_arg = &s, .nmore_ids = 2,
                             .more_ids = { 7, 9 } };
    struct import_counts c = { 0 };
    char err[256];
    struct import_source *src = import_source_open(path, err, sizeof(err));
    struct import_sink sink = { seen_row, &s };
    assert_int_equal(import_parse(src, &o, IMPORT_FORMAT_CSV, NULL, &sink, NULL, &c, err, sizeof(err)), 0);
    import_source_close(src);
    assert_string_equal(s.rows.data, "2 user0@example.com list=7 list=9\n3 user1@example.com list=7 list=9\n");
    assert_true(s.calls >= 1);
    assert_int_equal(s.last_rows, 10000);
    assert_int_equal(s.last_bytes, (long long)csv.len);
    assert_int_equal(s.last_total, (long long)csv.len);
    buf_free(&s.rows);
    buf_free(&csv);
    unlink(path);
    xfree(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preview_csv_columns_mapped_rows_checked),
        cmocka_unit_test(test_preview_latin1_detected_then_read_when_named),
        cmocka_unit_test(test_preview_header_errors_described),
        cmocka_unit_test(test_preview_xml_rows),
        cmocka_unit_test(test_preview_partial_file),
        cmocka_unit_test(test_summary_first_rejects),
        cmocka_unit_test(test_import_options_several_lists),
        cmocka_unit_test(test_import_further_lists_and_progress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
