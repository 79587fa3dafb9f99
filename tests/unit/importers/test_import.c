/* test_import - a whole file through source, parser and checks, with exact counts (no database). */
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

/* A sink remembering each clean row as "LINE email name attribs [lists]". */
struct seen {
    struct buf rows;
    long n;
};

static int seen_row(void *arg, const struct import_row *row, char *err, size_t errlen)
{
    struct seen *s = arg;
    (void)err;
    (void)errlen;
    buf_appendf(&s->rows, "%ld %s %s %s", row->line, row->email, row->has_name ? row->name.data : "-",
                row->attribs.data);
    for (size_t i = 0; i < row->nlists; i++)
        buf_appendf(&s->rows, " list=%lld", row->lists[i]);
    buf_appendc(&s->rows, '\n');
    s->n++;
    return 0;
}

struct run {
    struct seen seen;
    struct import_counts c;
    char rejects[4096];
    char err[512];
    int rc;
    enum import_format format;
};

/* Import PATH with O (NULL: defaults) into R; rejects are captured as text. */
static void run_file(const char *path, struct import_opts *o, struct run *r)
{
    struct import_opts defaults = { 0 };
    struct import_lists lists = { 0 };
    import_lists_add(&lists, "extra", 5);
    memset(r, 0, sizeof(*r));
    if (!o)
        o = &defaults;
    struct import_source *src = import_source_open(path, r->err, sizeof(r->err));
    assert_non_null(src);
    r->format = o->format_given ? o->format : import_source_guess(src);
    FILE *rej = tmpfile();
    struct import_sink sink = { seen_row, &r->seen };
    r->rc = import_parse(src, o, r->format, &lists, &sink, rej, &r->c, r->err, sizeof(r->err));
    rewind(rej);
    size_t n = fread(r->rejects, 1, sizeof(r->rejects) - 1, rej);
    r->rejects[n] = 0;
    fclose(rej);
    import_source_close(src);
    import_lists_free(&lists);
}

static void run_free(struct run *r)
{
    buf_free(&r->seen.rows);
}

static char *write_temp(const char *data, size_t len)
{
    char *path = xstrdup("/tmp/postino-test-import-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

static void test_import_csv_quirks_file_exact_counts(void **state)
{
    (void)state;
    struct run r;
    run_file(DATA "quirks.csv", NULL, &r);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.format, IMPORT_FORMAT_CSV);
    assert_int_equal(r.c.read, 9);
    assert_int_equal(r.c.rejected, 2);
    assert_int_equal(r.seen.n, 7);
    assert_string_equal(r.seen.rows.data,
                        "2 alice@example.com Alice {\"City\":\"Lyon\",\"Plan\":\"pro\"}\n"
                        "3 bob@example.com Martin; Bob {\"City\":\"Paris\"}\n"
                        "4 carol@example.com Carol \"CJ\" Jones {\"City\":\"Nice\\u000d\\u000aC\xc3\xb4te d'Azur\",\"Plan\":\"basic\"}\n"
                        "7 ALICE@example.com Alice Again {\"City\":\"Lille\",\"Plan\":\"free\"}\n"
                        "8 dave@xn--bcher-kva.de Dave {}\n"
                        "11 erin@example.com Erin {\"City\":\"Rennes\",\"Plan\":\"pro\"}\n"
                        "12 frank@example.com Frank {}\n");
    assert_string_equal(r.rejects, "line,reason,row\n"
                                   "9,\"invalid address \"\"not-an-email\"\": no @\",not-an-email;Nobody;;;;\n"
                                   "10,no email address,;Empty;;;;\n");
    run_free(&r);
}

/* a rejected row that a spreadsheet would run as a formula is written so that it shows as text */
static void test_import_rejects_file_defuses_spreadsheet_formulas(void **state)
{
    (void)state;
    static const char csv[] = "email,name\n=cmd|' /C calc'!A0,x\n+1+2,y\n@SUM(A1),z\n-3,w\nok@example.com,ok\n";
    char *path = write_temp(csv, sizeof(csv) - 1);
    struct run r;
    run_file(path, NULL, &r);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.c.rejected, 4);
    assert_int_equal(r.seen.n, 1);
    assert_string_equal(r.rejects, "line,reason,row\n"
                                   "2,\"invalid address \"\"=cmd|' /C calc'!A0\"\": contains spaces\",\"'=cmd|' /C calc'!A0,x\"\n"
                                   "3,\"invalid address \"\"+1+2\"\": no @\",\"'+1+2,y\"\n"
                                   "4,\"invalid address \"\"@SUM(A1)\"\": empty local part\",\"'@SUM(A1),z\"\n"
                                   "5,\"invalid address \"\"-3\"\": no @\",\"'-3,w\"\n");
    unlink(path);
    xfree(path);
    run_free(&r);
}

/* a multi-line name in quotes is kept; a name with another control character is a reject with its line */
static void test_import_name_control_characters_rejected_line_breaks_kept(void **state)
{
    (void)state;
    static const char csv[] = "email,name\r\n"
                              "ann@example.com,\"Ann\r\nLee\"\r\n"
                              "bel@example.com,Bel\x07l\r\n"
                              "cy@example.com,\"Cy\tRus\"\r\n"
                              "dee@example.com,\"Dee\r\n\x1b[2J\"\r\n"
                              "eve@example.com,Eve\r\n";
    char *path = write_temp(csv, sizeof(csv) - 1);
    struct run r;
    run_file(path, NULL, &r);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.c.read, 5);
    assert_int_equal(r.c.rejected, 2);
    assert_string_equal(r.seen.rows.data, "2 ann@example.com Ann\r\nLee {}\n"
                                          "5 cy@example.com Cy\tRus {}\n"
                                          "8 eve@example.com Eve {}\n");
    assert_string_equal(r.rejects, "line,reason,row\n"
                                   "4,the subscriber name holds a control character,\"bel@example.com,Bel\x07l\"\n"
                                   "6,the subscriber name holds a control character,\"dee@example.com,\"\"Dee\r\n\x1b[2J\"\"\"\n");
    unlink(path);
    xfree(path);
    run_free(&r);
}

static void test_import_latin1_converted_or_rejected_naming_the_column(void **state)
{
    (void)state;
    struct run r;
    run_file(DATA "latin1.csv", NULL, &r);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.c.read, 2);
    assert_int_equal(r.c.rejected, 2);
    assert_string_equal(r.rejects, "line,reason,row\n"
                                   "2,\"invalid UTF-8 in column \"\"name\"\" at byte 4\",\"rene@example.com,Ren\xe9,Orl\xe9" "ans\"\n"
                                   "3,\"invalid UTF-8 in column \"\"name\"\" at byte 3\",\"zoe@example.com,Zo\xeb,Li\xe8ge\"\n");
    run_free(&r);
    struct import_opts o = { 0 };
    o.encoding = "latin1";
    run_file(DATA "latin1.csv", &o, &r);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.c.rejected, 0);
    assert_string_equal(r.seen.rows.data, "2 rene@example.com Ren\xc3\xa9 {\"city\":\"Orl\xc3\xa9" "ans\"}\n"
                                          "3 zoe@example.com Zo\xc3\xab {\"city\":\"Li\xc3\xa8ge\"}\n");
    run_free(&r);
}

static void test_import_delimiter_detected_or_given(void **state)
{
    (void)state;
    struct run r;
    run_file(DATA "tabs.tsv", NULL, &r);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.seen.rows.data, "2 a@example.com A {\"note\":\"x, y\"}\n3 b@example.com B {}\n");
    run_free(&r);
    struct import_opts o = { 0 };
    o.delimiter = ',';
    run_file(DATA "tabs.tsv", &o, &r);
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.err, "the header has no email column (name one \"email\" or use --map COLUMN=email)");
    run_free(&r);
}

static void test_import_xml_file_exact_counts(void **state)
{
    (void)state;
    struct run r;
    run_file(DATA "subscribers.xml", NULL, &r);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.format, IMPORT_FORMAT_XML);
    assert_int_equal(r.c.read, 6);
    assert_int_equal(r.c.rejected, 2);
    assert_string_equal(r.seen.rows.data, "4 ann@example.com Ann & Co {\"city\":\"Lyon\"} list=5\n"
                                          "9 ben@example.com Ben <B> {\"plan\":\"gold\"}\n"
                                          "16 ANN@example.com Ann again {}\n"
                                          "17 dan@xn--mnchen-3ya.de Dan {}\n");
    assert_string_equal(r.rejects,
                        "line,reason,row\n"
                        "14,\"unknown list \"\"no-such-list\"\"\",\"<subscriber email=\"\"cat@example.com\"\">"
                        "<list>no-such-list</list></subscriber>\"\n"
                        "15,\"invalid address \"\"not an address\"\": contains spaces\",\"<subscriber email=\"\"not an address\"\"/>\"\n");
    run_free(&r);
}

static void test_import_xml_attacks_are_refused_before_any_row(void **state)
{
    (void)state;
    static const char *const files[] = { DATA "xxe.xml", DATA "billion_laughs.xml" };
    for (size_t i = 0; i < 2; i++) {
        struct run r;
        run_file(files[i], NULL, &r);
        assert_int_equal(r.rc, -1);
        assert_int_equal(r.seen.n, 0);
        assert_string_equal(r.err, "the document declares a DTD (<!DOCTYPE>); DTDs and entities are refused"
                                   " (external entities, entity expansion)");
        run_free(&r);
    }
}

static void test_import_every_50th_of_10000_rows_rejected_line_by_line(void **state)
{
    (void)state;
    struct buf csv = BUF_INIT, want = BUF_INIT;
    buf_appends(&csv, "email,name\n");
    buf_appends(&want, "line,reason,row\n");
    for (int i = 1; i <= 10000; i++) {
        if (i % 50 == 0) {
            buf_appendf(&csv, "bad-row-%d,Name %d\n", i, i);
            buf_appendf(&want, "%d,\"invalid address \"\"bad-row-%d\"\": no @\",\"bad-row-%d,Name %d\"\n", i + 1, i, i, i);
        } else {
            buf_appendf(&csv, "user%d@example.com,Name %d\n", i, i);
        }
    }
    char *path = write_temp(csv.data, csv.len);
    struct import_opts o = { 0 };
    struct import_lists lists = { 0 };
    struct import_counts c = { 0 };
    struct seen seen = { BUF_INIT, 0 };
    struct import_sink sink = { seen_row, &seen };
    char err[256];
    struct import_source *src = import_source_open(path, err, sizeof(err));
    FILE *rej = tmpfile();
    assert_int_equal(import_parse(src, &o, IMPORT_FORMAT_CSV, &lists, &sink, rej, &c, err, sizeof(err)), 0);
    assert_int_equal(c.read, 10000);
    assert_int_equal(c.rejected, 200);
    assert_int_equal(seen.n, 9800);
    rewind(rej);
    char line[512];
    const char *w = want.data;
    int n = 0;
    while (fgets(line, sizeof(line), rej)) {
        size_t len = strcspn(w, "\n") + 1;
        assert_int_equal(strlen(line), len);
        assert_memory_equal(line, w, len);
        w += len;
        n++;
    }
    assert_int_equal(n, 201);
    assert_int_equal(*w, 0);
    fclose(rej);
    import_source_close(src);
    unlink(path);
    xfree(path);
    buf_free(&csv);
    buf_free(&want);
    buf_free(&seen.rows);
}

static void test_import_whole_file_errors(void **state)
{
    (void)state;
    static const struct { const char *text, *err; } cases[] = {
        { "", "the file is empty (a CSV file starts with a header row)" },
        { "\n\n", "the file is empty (a CSV file starts with a header row)" },
        { "name,city\nA,B\n", "the header has no email column (name one \"email\" or use --map COLUMN=email)" },
        { "email\n\"a@example.com\n", "" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *path = write_temp(cases[i].text, strlen(cases[i].text));
        struct import_opts o = { 0 };
        o.format_given = true;
        struct run r;
        run_file(path, &o, &r);
        if (*cases[i].err) {
            assert_int_equal(r.rc, -1);
            assert_string_equal(r.err, cases[i].err);
        } else {
            /* An unclosed quote at the very end: the field runs to the end of the file. */
            assert_int_equal(r.rc, 0);
            assert_int_equal(r.c.read, 1);
            assert_int_equal(r.c.rejected, 0);
        }
        run_free(&r);
        unlink(path);
        xfree(path);
    }
    struct run r;
    char *path = write_temp("\xef\xbb\xbf" "email\n", 9);
    run_file(path, NULL, &r);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.c.read, 0);
    run_free(&r);
    unlink(path);
    xfree(path);
}

static void test_import_format_guess(void **state)
{
    (void)state;
    assert_int_equal(import_format_guess("email,name\n", 11), IMPORT_FORMAT_CSV);
    assert_int_equal(import_format_guess("<?xml version='1.0'?>", 21), IMPORT_FORMAT_XML);
    assert_int_equal(import_format_guess("\xef\xbb\xbf \r\n<subscribers>", 20), IMPORT_FORMAT_XML);
    assert_int_equal(import_format_guess("", 0), IMPORT_FORMAT_CSV);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_csv_quirks_file_exact_counts),
        cmocka_unit_test(test_import_rejects_file_defuses_spreadsheet_formulas),
        cmocka_unit_test(test_import_name_control_characters_rejected_line_breaks_kept),
        cmocka_unit_test(test_import_latin1_converted_or_rejected_naming_the_column),
        cmocka_unit_test(test_import_delimiter_detected_or_given),
        cmocka_unit_test(test_import_xml_file_exact_counts),
        cmocka_unit_test(test_import_xml_attacks_are_refused_before_any_row),
        cmocka_unit_test(test_import_every_50th_of_10000_rows_rejected_line_by_line),
        cmocka_unit_test(test_import_whole_file_errors),
        cmocka_unit_test(test_import_format_guess),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
